//! `Reader`: one consumer's position in every partition of a topic, with a
//! wait for new records and explicit gaps.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::{Gap, Record, Topic};

/// Where a new reader starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// At the oldest retained record of each partition.
    Earliest,
    /// After the newest record of each partition.
    Latest,
}

/// A consumer of one topic: a next offset per partition.
pub struct Reader<T> {
    topic: Arc<Topic<T>>,
    next: Vec<u64>,
}

impl<T: Record> Reader<T> {
    /// A reader positioned at `start` in every partition.
    pub fn new(topic: Arc<Topic<T>>, start: Start) -> Self {
        let next = (0..topic.partition_count())
            .map(|p| match start {
                Start::Earliest => topic.earliest(p),
                Start::Latest => topic.latest(p),
            })
            .collect();
        Self { topic, next }
    }

    /// The topic read.
    pub fn topic(&self) -> &Arc<Topic<T>> {
        &self.topic
    }

    /// The next offset to read in each partition.
    pub fn positions(&self) -> &[u64] {
        &self.next
    }

    /// Records appended but not yet read, over all partitions.
    pub fn lag(&self) -> u64 {
        self.lag_where(|_| true)
    }

    /// Records appended but not yet read, over the partitions `read`.
    pub fn lag_where(&self, read: impl Fn(u32) -> bool) -> u64 {
        (0..self.topic.partition_count())
            .filter(|&p| read(p))
            .map(|p| self.topic.latest(p).saturating_sub(self.next[p as usize]))
            .sum()
    }

    /// Moves to the end of a partition, passing what it holds unread.
    pub fn skip_to_end(&mut self, partition: u32) {
        self.next[partition as usize] = self.topic.latest(partition);
    }

    /// Moves one partition's position.
    pub fn seek(&mut self, partition: u32, offset: u64) {
        self.next[partition as usize] = offset;
    }

    /// Waits until a partition has a record past this reader's position.
    pub async fn wait(&self) {
        self.topic.wait_until(|| self.lag() > 0).await;
    }

    /// Visits up to `max_per_partition` new records of every partition, in
    /// offset order within each, and advances past them. A partition whose
    /// position fell behind retention is reported through `on_gap` and
    /// continues from its earliest retained record. Returns how many records
    /// were visited.
    pub fn read_with(
        &mut self,
        max_per_partition: usize,
        on_gap: impl FnMut(u32, Gap),
        visit: impl FnMut(u32, u64, &T),
    ) -> usize {
        self.read_where(|_| true, max_per_partition, on_gap, visit)
    }

    /// Like [`Reader::read_with`] over the partitions `read`; the others
    /// move to their end unread (none of their records is wanted).
    pub fn read_where(
        &mut self,
        read: impl Fn(u32) -> bool,
        max_per_partition: usize,
        mut on_gap: impl FnMut(u32, Gap),
        mut visit: impl FnMut(u32, u64, &T),
    ) -> usize {
        let mut count = 0;
        for partition in 0..self.topic.partition_count() {
            if !read(partition) {
                self.skip_to_end(partition);
                continue;
            }
            let mut counted = |o: u64, r: &T| {
                count += 1;
                visit(partition, o, r);
            };
            let from = self.next[partition as usize];
            let next = match self
                .topic
                .read_with(partition, from, max_per_partition, &mut counted)
            {
                Ok(next) => next,
                Err(gap) => {
                    on_gap(partition, gap);
                    // Retention may move again between the two reads; the
                    // next call reports that as a new gap.
                    self.topic
                        .read_with(partition, gap.earliest, max_per_partition, &mut counted)
                        .unwrap_or(gap.earliest)
                }
            };
            self.next[partition as usize] = next;
        }
        count
    }

    /// Hands each batch of new records (up to `max_per_partition` of each
    /// partition) to `apply`, waiting for more between batches, until
    /// `token` is cancelled. Gaps are skipped: a follower keeps up with the
    /// head of the log.
    pub async fn follow(
        mut self,
        max_per_partition: usize,
        token: &CancellationToken,
        mut apply: impl FnMut(&[T]),
    ) {
        let mut batch = Vec::new();
        loop {
            self.read_with(
                max_per_partition,
                |_, _| {},
                |_, _, record| batch.push(record.clone()),
            );
            if !batch.is_empty() {
                apply(&batch);
                batch.clear();
                continue;
            }
            tokio::select! {
                () = token.cancelled() => return,
                () = self.wait() => {}
            }
        }
    }
}
