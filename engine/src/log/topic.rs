//! `Topic`: one named, partitioned, retention-bounded sequence of records,
//! with a change signal readers can wait on without holding any lock.

use std::{
    collections::VecDeque,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use parking_lot::RwLock;
use tokio::sync::Notify;

use super::{
    interest::{Interest, Watched, Watchers},
    partitioner::partition_for,
};

/// What the log needs to know about a record: its key (for partitioning) and
/// its approximate size in bytes (for byte retention).
pub trait Record: Clone + Send + Sync + 'static {
    /// The partitioning key (a tick's symbol).
    fn key(&self) -> &[u8];
    /// Approximate bytes the record holds.
    fn weight(&self) -> usize;
}

/// How much a partition keeps. Whichever bound is reached first evicts the
/// oldest records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Most records kept per partition.
    pub max_records: usize,
    /// Most bytes kept per partition (by [`Record::weight`]).
    pub max_bytes: usize,
}

/// The records a reader asked for are gone: it asked for `requested` but the
/// partition now starts at `earliest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("offset {requested} is no longer retained; earliest is {earliest}")]
pub struct Gap {
    /// The first offset asked for.
    pub requested: u64,
    /// The earliest offset still retained.
    pub earliest: u64,
}

/// An append at an offset the partition has already passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("offset {offset} is behind the partition's next offset {next}")]
pub struct StaleOffset {
    /// The offset given.
    pub offset: u64,
    /// The lowest offset the partition accepts.
    pub next: u64,
}

/// One partition. Offsets ascend but need not be dense: a bridge keeps
/// Kafka's offsets, which skip transaction markers and compacted records.
struct Partition<T> {
    /// Offsets below this are not retained (evicted, or before this log began).
    start: u64,
    /// One past the newest offset: the next offset assigned.
    end: u64,
    /// Set by `begin_at`: readers positioned at or before this offset took
    /// their position before the partition began, and start at `start`
    /// without a gap.
    began_after: Option<u64>,
    records: VecDeque<(u64, T)>,
    bytes: usize,
}

impl<T: Record> Partition<T> {
    fn push_at(
        &mut self,
        offset: u64,
        record: T,
        retention: Retention,
    ) -> Result<u64, StaleOffset> {
        if offset < self.end {
            return Err(StaleOffset {
                offset,
                next: self.end,
            });
        }
        self.end = offset + 1;
        self.bytes += record.weight();
        self.records.push_back((offset, record));
        while self.records.len() > retention.max_records
            || (self.bytes > retention.max_bytes && self.records.len() > 1)
        {
            let (_, old) = self.records.pop_front().expect("non-empty");
            self.bytes -= old.weight();
            self.start = self.records.front().map_or(self.end, |(o, _)| *o);
        }
        Ok(offset)
    }

    fn push(&mut self, record: T, retention: Retention) -> u64 {
        let offset = self.end;
        self.push_at(offset, record, retention)
            .expect("the end offset is never stale")
    }
}

/// A topic: `N` partitions, each an append-only sequence of records
/// addressed by offset, oldest records evicted by [`Retention`].
///
/// Appends take a short write lock on one partition; reads take a short read
/// lock and copy out. Waiting for new records ([`Topic::wait_until`]) holds
/// no lock, and an append pays for a wake-up only when a reader is waiting;
/// a reader with an [`Interest`] is woken only by records of its keys.
pub struct Topic<T> {
    name: String,
    partitions: Box<[RwLock<Partition<T>>]>,
    retention: Retention,
    appended: Notify,
    /// Readers registered with `appended` and about to sleep.
    waiting: AtomicUsize,
    /// Readers woken by the keys they follow.
    watchers: Watchers,
}

impl<T: Record> Watched for Topic<T> {
    fn watchers(&self) -> &Watchers {
        &self.watchers
    }
}

impl<T: Record> Topic<T> {
    /// Creates a topic whose partition `p` starts at offset `start_offsets[p]`
    /// (0 where absent), so offsets can continue across restarts.
    ///
    /// # Panics
    /// Panics when `partitions` is zero.
    pub fn new(
        name: impl Into<String>,
        partitions: u32,
        retention: Retention,
        start_offsets: &[u64],
    ) -> Self {
        assert!(partitions > 0, "a topic has at least one partition");
        let partitions = (0..partitions as usize)
            .map(|p| {
                let start = start_offsets.get(p).copied().unwrap_or(0);
                RwLock::new(Partition {
                    start,
                    end: start,
                    began_after: None,
                    records: VecDeque::new(),
                    bytes: 0,
                })
            })
            .collect();
        Self {
            name: name.into(),
            partitions,
            retention,
            appended: Notify::new(),
            waiting: AtomicUsize::new(0),
            watchers: Watchers::default(),
        }
    }

    /// A new interest in none of this topic's keys (see [`Interest::follow`]).
    pub fn interest(self: &Arc<Self>) -> Interest {
        Interest::new(self.clone())
    }

    /// The topic's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The number of partitions.
    pub fn partition_count(&self) -> u32 {
        self.partitions.len() as u32
    }

    /// The partition a key belongs to (Kafka's default partitioner).
    pub fn partition_for(&self, key: &[u8]) -> u32 {
        partition_for(key, self.partition_count())
    }

    /// Appends one record to the partition of its key. Returns its partition and offset.
    pub fn append(&self, record: T) -> (u32, u64) {
        let partition = self.partition_for(record.key());
        let watched = self.watchers.any();
        let kept: Vec<T> = watched.then(|| record.clone()).into_iter().collect();
        let offset = self.partitions[partition as usize]
            .write()
            .push(record, self.retention);
        self.wake_readers(watched, &kept);
        (partition, offset)
    }

    /// Appends a record to `partition` at `offset` (e.g. Kafka's), which must
    /// not be behind the partition's end; offsets may skip.
    ///
    /// # Errors
    /// Returns [`StaleOffset`] for an offset the partition has passed (a
    /// duplicate); nothing is appended.
    ///
    /// # Panics
    /// Panics when `partition` does not exist.
    pub fn append_at(&self, partition: u32, offset: u64, record: T) -> Result<(), StaleOffset> {
        let watched = self.watchers.any();
        let kept: Vec<T> = watched.then(|| record.clone()).into_iter().collect();
        self.partitions[partition as usize]
            .write()
            .push_at(offset, record, self.retention)?;
        self.wake_readers(watched, &kept);
        Ok(())
    }

    /// Appends records at given partitions and offsets (see
    /// [`Topic::append_at`]), waking readers once. Returns the stale ones,
    /// which are not appended.
    ///
    /// # Panics
    /// Panics when a partition does not exist.
    pub fn append_at_batch(
        &self,
        records: impl IntoIterator<Item = (u32, u64, T)>,
    ) -> Vec<StaleOffset> {
        let mut stale = Vec::new();
        let watched = self.watchers.any();
        let mut kept = Vec::new();
        for (partition, offset, record) in records {
            let key = watched.then(|| record.clone());
            match self.partitions[partition as usize].write().push_at(
                offset,
                record,
                self.retention,
            ) {
                Ok(_) => kept.extend(key),
                Err(e) => stale.push(e),
            }
        }
        self.wake_readers(watched, &kept);
        stale
    }

    /// Starts an empty partition at `offset` (where a bridge begins reading
    /// a Kafka partition): older offsets read as a gap. No effect once the
    /// partition holds or has held records.
    pub fn begin_at(&self, partition: u32, offset: u64) {
        let mut p = self.partitions[partition as usize].write();
        if p.records.is_empty() && p.start == p.end {
            p.began_after = Some(p.end);
            p.start = offset;
            p.end = offset;
        }
    }

    /// Moves a partition's end past `offset` without a record (a message
    /// that was skipped), so readers do not wait for it.
    pub fn skip(&self, partition: u32, offset: u64) {
        let mut p = self.partitions[partition as usize].write();
        p.end = p.end.max(offset + 1);
    }

    /// Appends records, each to the partition of its key, taking each
    /// partition's lock once and waking readers once. Returns the count.
    pub fn append_batch(&self, records: impl IntoIterator<Item = T>) -> usize {
        let mut by_partition: Vec<Vec<T>> =
            (0..self.partitions.len()).map(|_| Vec::new()).collect();
        let mut count = 0;
        let watched = self.watchers.any();
        let mut kept = Vec::new();
        for record in records {
            if watched {
                kept.push(record.clone());
            }
            by_partition[self.partition_for(record.key()) as usize].push(record);
            count += 1;
        }
        for (partition, records) in self.partitions.iter().zip(by_partition) {
            if records.is_empty() {
                continue;
            }
            let mut partition = partition.write();
            for record in records {
                partition.push(record, self.retention);
            }
        }
        if count > 0 {
            self.wake_readers(watched, &kept);
        }
        count
    }

    /// The earliest retained offset of a partition.
    pub fn earliest(&self, partition: u32) -> u64 {
        self.partitions[partition as usize].read().start
    }

    /// The offset the next record of a partition will get.
    pub fn latest(&self, partition: u32) -> u64 {
        self.partitions[partition as usize].read().end
    }

    /// Calls `visit(offset, record)` for up to `max` records of `partition`
    /// from offset `from`, under a read lock. Returns the offset after the
    /// last record visited (`from` when there was none).
    ///
    /// # Errors
    /// Returns [`Gap`] when `from` is older than the earliest retained offset.
    pub fn read_with(
        &self,
        partition: u32,
        from: u64,
        max: usize,
        mut visit: impl FnMut(u64, &T),
    ) -> Result<u64, Gap> {
        let p = self.partitions[partition as usize].read();
        let from = match p.began_after {
            // Positioned before the partition began: nothing was missed.
            Some(origin) if from <= origin => from.max(p.start),
            _ => from,
        };
        if from < p.start {
            return Err(Gap {
                requested: from,
                earliest: p.start,
            });
        }
        // Dense offsets index directly; sparse ones need a search.
        let dense = (from - p.start) as usize;
        let first = match p.records.get(dense) {
            Some((o, _)) if *o == from => dense,
            _ => p.records.partition_point(|(o, _)| *o < from),
        };
        let mut next = from;
        let mut visited = 0;
        for (offset, record) in p.records.range(first..).take(max) {
            visit(*offset, record);
            next = offset + 1;
            visited += 1;
        }
        if visited < max {
            // Read to the end: skip any offsets past the last record that
            // hold nothing (skipped messages, transaction markers).
            next = next.max(p.end);
        }
        Ok(next)
    }

    /// Copies up to `max` records of `partition` from offset `from` into
    /// `out` as `(offset, record)`. Returns the next offset to read.
    ///
    /// # Errors
    /// Returns [`Gap`] when `from` is older than the earliest retained offset.
    pub fn fetch(
        &self,
        partition: u32,
        from: u64,
        max: usize,
        out: &mut Vec<(u64, T)>,
    ) -> Result<u64, Gap> {
        self.read_with(partition, from, max, |offset, record| {
            out.push((offset, record.clone()))
        })
    }

    /// Wakes the readers waiting for any record, and the interests in the
    /// keys of `appended`: the records just appended, kept when an interest
    /// was registered (`watched`) as the append began.
    fn wake_readers(&self, watched: bool, appended: &[T]) {
        // Pairs with `wait_until`: a reader either registered before this
        // load (and is woken) or checks for records after the append.
        if self.waiting.load(Ordering::SeqCst) > 0 {
            self.appended.notify_waiters();
        }
        // After the append. An interest registered after this check reads
        // the records when it starts; one registered during the append,
        // whose keys were not kept, is woken with every other (rare).
        if watched {
            self.watchers.wake(appended.iter().map(Record::key));
        } else if self.watchers.any() {
            self.watchers.wake_every();
        }
    }

    /// Returns once `ready()` is true, re-checking after every append.
    /// `ready` should read the topic (e.g. "is there a record past my
    /// position?"); no append between the check and the sleep is missed.
    pub async fn wait_until(&self, ready: impl Fn() -> bool) {
        /// Unregisters the waiter however the wait ends (even when dropped).
        struct Registered<'a>(&'a AtomicUsize);
        impl Drop for Registered<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        loop {
            let notified = self.appended.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            self.waiting.fetch_add(1, Ordering::SeqCst);
            let _registered = Registered(&self.waiting);
            if ready() {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct R(&'static str, usize);
    impl Record for R {
        fn key(&self) -> &[u8] {
            self.0.as_bytes()
        }
        fn weight(&self) -> usize {
            self.1
        }
    }

    const BIG: Retention = Retention {
        max_records: 1_000,
        max_bytes: usize::MAX,
    };

    #[test]
    fn offsets_are_per_partition_and_dense() {
        let t = Topic::new("t", 4, BIG, &[]);
        let p = t.partition_for(b"AAPL");
        assert_eq!(t.append(R("AAPL", 1)), (p, 0));
        assert_eq!(t.append(R("AAPL", 1)), (p, 1));
        assert_eq!(t.latest(p), 2);
        let mut out = Vec::new();
        assert_eq!(t.fetch(p, 0, 10, &mut out), Ok(2));
        assert_eq!(out.iter().map(|(o, _)| *o).collect::<Vec<_>>(), [0, 1]);
    }

    #[test]
    fn start_offsets_continue_numbering() {
        let t = Topic::new("t", 1, BIG, &[500]);
        assert_eq!(t.append(R("X", 1)), (0, 500));
        assert_eq!(t.earliest(0), 500);
    }

    #[test]
    fn count_retention_evicts_oldest_and_signals_gap() {
        let t = Topic::new(
            "t",
            1,
            Retention {
                max_records: 3,
                max_bytes: usize::MAX,
            },
            &[],
        );
        for _ in 0..5 {
            t.append(R("X", 1));
        }
        assert_eq!((t.earliest(0), t.latest(0)), (2, 5));
        let mut out = Vec::new();
        assert_eq!(
            t.fetch(0, 1, 10, &mut out),
            Err(Gap {
                requested: 1,
                earliest: 2
            })
        );
        assert!(out.is_empty());
        assert_eq!(t.fetch(0, 2, 10, &mut out), Ok(5));
        assert_eq!(out.len(), 3);
    }

    #[test]
    fn byte_retention_evicts_oldest() {
        let t = Topic::new(
            "t",
            1,
            Retention {
                max_records: 100,
                max_bytes: 10,
            },
            &[],
        );
        for _ in 0..4 {
            t.append(R("X", 4));
        }
        // 4 records of 4 bytes: only two fit in 10 bytes.
        assert_eq!((t.earliest(0), t.latest(0)), (2, 4));
    }

    #[test]
    fn batch_append_matches_single_appends() {
        let a = Topic::new("a", 3, BIG, &[]);
        let b = Topic::new("b", 3, BIG, &[]);
        let keys = ["AAPL", "MSFT", "NVDA", "AAPL", "TSLA", "MSFT"];
        for k in keys {
            a.append(R(k, 1));
        }
        assert_eq!(b.append_batch(keys.map(|k| R(k, 1))), 6);
        for p in 0..3 {
            let (mut x, mut y) = (Vec::new(), Vec::new());
            a.fetch(p, 0, 100, &mut x).unwrap();
            b.fetch(p, 0, 100, &mut y).unwrap();
            assert_eq!(x, y);
        }
    }

    #[test]
    fn sparse_offsets_are_kept_and_read_in_order() {
        let t = Topic::new(
            "t",
            1,
            Retention {
                max_records: 3,
                max_bytes: usize::MAX,
            },
            &[],
        );
        t.begin_at(0, 1_000);
        for offset in [1_000, 1_001, 1_003, 1_007] {
            t.append_at(0, offset, R("X", 1)).unwrap();
        }
        // The oldest was evicted by count.
        assert_eq!((t.earliest(0), t.latest(0)), (1_001, 1_008));
        let mut out = Vec::new();
        assert_eq!(t.fetch(0, 1_002, 10, &mut out), Ok(1_008));
        assert_eq!(
            out.iter().map(|(o, _)| *o).collect::<Vec<_>>(),
            [1_003, 1_007]
        );
        assert_eq!(
            t.append_at(0, 1_007, R("X", 1)),
            Err(StaleOffset {
                offset: 1_007,
                next: 1_008
            })
        );
        assert_eq!(
            t.fetch(0, 1_000, 10, &mut out),
            Err(Gap {
                requested: 1_000,
                earliest: 1_001
            })
        );
        // Local appends continue after the last offset.
        assert_eq!(t.append(R("X", 1)), (0, 1_008));
    }

    #[test]
    fn readers_placed_before_a_partition_began_see_no_gap() {
        let t = Topic::new("t", 1, BIG, &[]);
        let mut early = Vec::new();
        // A reader at 0 (the empty partition's end) before a bridge begins at 5000.
        t.begin_at(0, 5_000);
        t.append_at(0, 5_000, R("X", 1)).unwrap();
        assert_eq!(t.fetch(0, 0, 10, &mut early), Ok(5_001));
        assert_eq!(early.len(), 1);
        // A resume position inside the history the bridge never had is a gap.
        assert_eq!(
            t.fetch(0, 10, 10, &mut early),
            Err(Gap {
                requested: 10,
                earliest: 5_000
            })
        );
    }

    #[test]
    fn skipped_offsets_are_read_past() {
        let t = Topic::new("t", 1, BIG, &[]);
        t.begin_at(0, 10);
        t.skip(0, 10);
        t.skip(0, 11);
        let mut out = Vec::new();
        // Nothing to read, but the reader moves past the skipped offsets.
        assert_eq!(t.fetch(0, 10, 5, &mut out), Ok(12));
        t.append_at(0, 12, R("X", 1)).unwrap();
        assert_eq!(t.fetch(0, 10, 5, &mut out), Ok(13));
        assert_eq!(out.len(), 1);
        assert_eq!(
            t.fetch(0, 9, 5, &mut out),
            Err(Gap {
                requested: 9,
                earliest: 10
            })
        );
    }

    #[test]
    fn reading_past_the_end_is_empty_not_an_error() {
        let t: Topic<R> = Topic::new("t", 1, BIG, &[]);
        let mut out = Vec::new();
        assert_eq!(t.fetch(0, 7, 10, &mut out), Ok(7));
        assert!(out.is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn appends_wake_a_waiting_reader_every_time() {
        let t = std::sync::Arc::new(Topic::new("t", 1, BIG, &[]));
        let writer = {
            let t = t.clone();
            tokio::spawn(async move {
                for _ in 0..1_000 {
                    t.append(R("X", 1));
                    tokio::task::yield_now().await;
                }
            })
        };
        // Waits for each offset in turn: a lost wake-up would hang here.
        for next in 1..=1_000u64 {
            tokio::time::timeout(
                std::time::Duration::from_secs(5),
                t.wait_until(|| t.latest(0) >= next),
            )
            .await
            .expect("woken");
        }
        writer.await.unwrap();
        assert_eq!(t.waiting.load(Ordering::SeqCst), 0, "waiters unregister");
    }
}
