//! `StoreCursor`: the stored ticks of a time range in the order they were
//! logged (each partition's in offset order, the partitions merged by
//! time), read a chunk per partition at a time on a read-only connection.

use std::{collections::HashMap, collections::VecDeque, path::Path, sync::Arc};

use chrono::DateTime;
use rusqlite::{Connection, params};

use crate::{
    model::{EncodedTick, Symbol, Tick},
    store::StoreError,
};

/// Rows fetched per partition per query.
const CHUNK: i64 = 4096;

/// A stored tick with the log position it was stored under.
#[derive(Debug, Clone)]
pub struct StoredTick {
    /// Its partition.
    pub partition: u32,
    /// Its offset in the partition.
    pub offset: u64,
    /// The tick, encoded once for every stream.
    pub tick: Arc<EncodedTick>,
    /// Its time, Unix microseconds.
    pub micros: i64,
}

impl StoredTick {
    /// The log record: the position and the tick.
    pub fn into_record(self) -> (u32, u64, Arc<EncodedTick>) {
        (self.partition, self.offset, self.tick)
    }
}

/// A tick's columns as read.
struct Row {
    offset: u64,
    symbol_id: i64,
    micros: i64,
    price: f64,
    volume: u64,
    bid: Option<f64>,
    ask: Option<f64>,
    seq: Option<u64>,
}

/// One partition's part of the range: the offsets still to read and a
/// chunk read ahead.
struct Lane {
    partition: u32,
    /// The next offset to fetch.
    next: u64,
    /// The last offset of the range in this partition.
    last: u64,
    ahead: VecDeque<StoredTick>,
}

/// The stored ticks of `[from, to)` (of some symbols, or all), in log order.
pub struct StoreCursor {
    conn: Connection,
    /// The symbols played, by store id; empty: all.
    only: Vec<i64>,
    names: HashMap<i64, Symbol>,
    from: i64,
    to: i64,
    /// Where the last seek put the cursor: ticks before it are not played.
    lower: i64,
    lanes: Vec<Lane>,
}

impl StoreCursor {
    /// The ticks of `symbols` (every symbol when empty) stamped in
    /// `[from, to)` (Unix microseconds) in the store at `path`, positioned
    /// at `from`.
    ///
    /// # Errors
    /// The store's error.
    pub fn open(path: &Path, symbols: &[Symbol], from: i64, to: i64) -> Result<Self, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "cache_size", -32_768)?;
        let mut cursor = Self {
            conn,
            only: Vec::new(),
            names: HashMap::new(),
            from,
            to,
            lower: from,
            lanes: Vec::new(),
        };
        cursor.load_names()?;
        cursor.only = symbols
            .iter()
            .filter_map(|s| {
                cursor
                    .names
                    .iter()
                    .find(|(_, n)| *n == s)
                    .map(|(&id, _)| id)
            })
            .collect();
        if !symbols.is_empty() && cursor.only.is_empty() {
            // None of the symbols has ever been stored: nothing to play.
            cursor.only.push(-1);
        }
        cursor.seek(from)?;
        Ok(cursor)
    }

    /// The most partitions the store's ticks were logged in.
    ///
    /// # Errors
    /// The store's error.
    pub fn partitions(&self) -> Result<u32, StoreError> {
        let max: Option<i64> =
            self.conn
                .query_row("SELECT max(log_partition) FROM ticks", [], |row| row.get(0))?;
        Ok(max.map_or(0, |m| m as u32 + 1))
    }

    /// Every symbol the store has ticks of.
    pub fn symbols(&self) -> impl Iterator<Item = &Symbol> {
        self.names.values()
    }

    fn load_names(&mut self) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare("SELECT id, symbol FROM symbols")?;
        let rows = stmt.query_map([], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (id, text) = row?;
            let symbol = Symbol::new(&text).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            self.names.insert(id, symbol);
        }
        Ok(())
    }

    /// Positions the cursor at the first tick stamped at or after `at`
    /// (Unix microseconds, within the range).
    ///
    /// Each partition's part of the range is found through each symbol's
    /// first and last tick in it (two index probes a symbol), so the range
    /// is read in offset order without scanning what lies outside it.
    ///
    /// # Errors
    /// The store's error.
    pub fn seek(&mut self, at: i64) -> Result<(), StoreError> {
        let at = at.clamp(self.from, self.to);
        let ids: Vec<i64> = if self.only.is_empty() {
            self.names.keys().copied().collect()
        } else {
            self.only.clone()
        };
        let mut bounds: HashMap<u32, (u64, u64)> = HashMap::new();
        {
            let mut first = self.conn.prepare_cached(
                "SELECT log_partition, log_offset FROM ticks WHERE symbol_id = ?1 AND ts >= ?2 AND ts < ?3
                 ORDER BY ts, log_offset LIMIT 1",
            )?;
            let mut last = self.conn.prepare_cached(
                "SELECT log_partition, log_offset FROM ticks WHERE symbol_id = ?1 AND ts >= ?2 AND ts < ?3
                 ORDER BY ts DESC, log_offset DESC LIMIT 1",
            )?;
            let position = |row: &rusqlite::Row<'_>| -> rusqlite::Result<(u32, u64)> {
                Ok((row.get(0)?, row.get::<_, i64>(1)? as u64))
            };
            for id in ids {
                let mut rows = first.query(params![id, at, self.to])?;
                let Some(row) = rows.next()? else { continue };
                let (p, start) = position(row)?;
                drop(rows);
                let mut rows = last.query(params![id, at, self.to])?;
                let (q, end) = match rows.next()? {
                    Some(row) => position(row)?,
                    None => (p, start),
                };
                for (partition, low, high) in [(p, start, start), (q, end, end)] {
                    let entry = bounds.entry(partition).or_insert((low, high));
                    entry.0 = entry.0.min(low);
                    entry.1 = entry.1.max(high);
                }
            }
        }
        let mut lanes: Vec<Lane> = bounds
            .into_iter()
            .map(|(partition, (next, last))| Lane {
                partition,
                next,
                last,
                ahead: VecDeque::new(),
            })
            .collect();
        lanes.sort_by_key(|l| l.partition);
        self.lanes = lanes;
        self.lower = at;
        Ok(())
    }

    /// The time of the next tick, Unix microseconds; `None` past the last.
    ///
    /// # Errors
    /// The store's error.
    pub fn peek(&mut self) -> Result<Option<i64>, StoreError> {
        Ok(self.head()?.map(|i| self.lanes[i].ahead[0].micros))
    }

    /// The next tick, in log order; `None` past the last.
    ///
    /// # Errors
    /// The store's error.
    pub fn next_tick(&mut self) -> Result<Option<StoredTick>, StoreError> {
        self.next_if(|_| true)
    }

    /// The next tick when its time (Unix microseconds) passes `wanted`;
    /// otherwise `None`, and it stays next.
    ///
    /// # Errors
    /// The store's error.
    pub fn next_if(
        &mut self,
        wanted: impl Fn(i64) -> bool,
    ) -> Result<Option<StoredTick>, StoreError> {
        Ok(self.head()?.and_then(|i| {
            let lane = &mut self.lanes[i].ahead;
            if wanted(lane[0].micros) {
                lane.pop_front()
            } else {
                None
            }
        }))
    }

    /// The lane whose next tick comes first (by time, then partition),
    /// each lane's chunk read ahead when it ran out.
    fn head(&mut self) -> Result<Option<usize>, StoreError> {
        let mut best: Option<(i64, usize)> = None;
        let mut i = 0;
        while i < self.lanes.len() {
            if self.lanes[i].ahead.is_empty() && !self.fill(i)? {
                // The lane is played out.
                self.lanes.remove(i);
                continue;
            }
            let micros = self.lanes[i].ahead[0].micros;
            if best.is_none_or(|(b, _)| micros < b) {
                best = Some((micros, i));
            }
            i += 1;
        }
        Ok(best.map(|(_, i)| i))
    }

    /// A row read, as a tick of `partition`.
    fn stored(&mut self, partition: u32, row: Row) -> Result<StoredTick, StoreError> {
        if !self.names.contains_key(&row.symbol_id) {
            // A symbol first stored after the cursor opened.
            self.load_names()?;
        }
        let symbol = self.names.get(&row.symbol_id).cloned().ok_or_else(|| {
            StoreError::Corrupt(format!("tick of unknown symbol id {}", row.symbol_id))
        })?;
        let timestamp = DateTime::from_timestamp_micros(row.micros)
            .ok_or_else(|| StoreError::Corrupt(format!("tick time {}", row.micros)))?;
        let tick = Tick {
            symbol,
            price: row.price,
            volume: row.volume,
            timestamp,
            bid: row.bid,
            ask: row.ask,
            seq: row.seq,
            condition: None,
            partition: None,
            offset: None,
        };
        Ok(StoredTick {
            partition,
            offset: row.offset,
            tick: Arc::new(EncodedTick::new(tick)),
            micros: row.micros,
        })
    }

    /// Reads the lane's next chunk; false when it has nothing more.
    fn fill(&mut self, i: usize) -> Result<bool, StoreError> {
        loop {
            let lane = &self.lanes[i];
            if lane.next > lane.last {
                return Ok(false);
            }
            let (partition, next, last) = (lane.partition, lane.next, lane.last);
            let only = if self.only.is_empty() {
                String::new()
            } else {
                let ids: Vec<String> = self.only.iter().map(i64::to_string).collect();
                format!(" AND symbol_id IN ({})", ids.join(","))
            };
            let mut stmt = self.conn.prepare_cached(&format!(
                "SELECT log_offset, symbol_id, ts, price, volume, bid, ask, seq FROM ticks
                 WHERE log_partition = ?1 AND log_offset >= ?2 AND log_offset <= ?3{only}
                 ORDER BY log_offset LIMIT ?4"
            ))?;
            let mut rows = stmt.query(params![partition, next as i64, last as i64, CHUNK])?;
            let mut read = 0;
            let mut past = next;
            let mut raw = Vec::new();
            while let Some(row) = rows.next()? {
                read += 1;
                let offset = row.get::<_, i64>(0)? as u64;
                past = offset + 1;
                let micros: i64 = row.get(2)?;
                if (self.lower..self.to).contains(&micros) {
                    raw.push(Row {
                        offset,
                        symbol_id: row.get(1)?,
                        micros,
                        price: row.get(3)?,
                        volume: row.get::<_, i64>(4)? as u64,
                        bid: row.get(5)?,
                        ask: row.get(6)?,
                        seq: row.get::<_, Option<i64>>(7)?.map(|s| s as u64),
                    });
                }
            }
            drop(rows);
            drop(stmt);
            let mut chunk = VecDeque::with_capacity(raw.len());
            for row in raw {
                chunk.push_back(self.stored(partition, row)?);
            }
            let lane = &mut self.lanes[i];
            lane.next = if read < CHUNK { lane.last + 1 } else { past };
            if !chunk.is_empty() {
                lane.ahead = chunk;
                return Ok(true);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Batch, Store};

    /// `count` ticks a millisecond apart from `start`, over three symbols
    /// in two partitions, as a log numbers them.
    fn store_ticks(path: &Path, start: i64, count: u64) {
        let mut store = Store::open(path).unwrap();
        let symbols = ["AAPL", "MSFT", "NVDA"].map(|s| Symbol::new(s).unwrap());
        let mut offsets = [0u64; 2];
        let ticks = (0..count)
            .map(|i| {
                let symbol = symbols[(i % 3) as usize].clone();
                let partition = u32::from(i % 3 == 2);
                let offset = offsets[partition as usize];
                offsets[partition as usize] += 1;
                let mut tick = Tick::trade(
                    symbol,
                    100.0 + (i % 7) as f64 * 0.01,
                    i % 50 + 1,
                    DateTime::from_timestamp_micros(start + i as i64 * 1000).unwrap(),
                );
                tick.seq = Some(i);
                (partition, offset, Arc::new(EncodedTick::new(tick)))
            })
            .collect();
        store
            .write(
                &Batch {
                    ticks,
                    ..Batch::default()
                },
                false,
            )
            .unwrap();
    }

    fn drain(cursor: &mut StoreCursor) -> Vec<StoredTick> {
        std::iter::from_fn(|| cursor.next_tick().unwrap()).collect()
    }

    #[test]
    fn plays_a_range_in_log_order_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let start = 1_800_000_000_000_000;
        store_ticks(&path, start, 20_000);
        let (from, to) = (start + 1_000_000, start + 19_000_000);
        let mut cursor = StoreCursor::open(&path, &[], from, to).unwrap();
        assert_eq!(cursor.partitions().unwrap(), 2);
        let played = drain(&mut cursor);
        assert_eq!(played.len(), 18_000, "every tick of the range, once");
        assert!(
            played.windows(2).all(|w| w[0].micros < w[1].micros),
            "in time order"
        );
        assert_eq!(played[0].micros, from);
        assert_eq!(played[0].tick.tick().seq, Some(1_000));
        // Each partition's offsets ascend.
        for p in 0..2 {
            let offsets: Vec<u64> = played
                .iter()
                .filter(|t| t.partition == p)
                .map(|t| t.offset)
                .collect();
            assert!(
                offsets.windows(2).all(|w| w[0] + 1 == w[1]),
                "partition {p}"
            );
        }
        // A seek goes back; past the end there is nothing.
        cursor.seek(start + 18_999_000).unwrap();
        assert_eq!(drain(&mut cursor).len(), 1);
        cursor.seek(from).unwrap();
        assert_eq!(drain(&mut cursor).len(), 18_000);
    }

    #[test]
    fn plays_only_the_symbols_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let start = 1_800_000_000_000_000;
        store_ticks(&path, start, 9_000);
        let nvda = Symbol::new("NVDA").unwrap();
        let mut cursor =
            StoreCursor::open(&path, std::slice::from_ref(&nvda), start, start + 9_000_000)
                .unwrap();
        let played = drain(&mut cursor);
        assert_eq!(played.len(), 3_000);
        assert!(
            played
                .iter()
                .all(|t| t.tick.tick().symbol == nvda && t.partition == 1)
        );
        let unknown = Symbol::new("ZZZZ").unwrap();
        let mut none = StoreCursor::open(&path, &[unknown], start, start + 9_000_000).unwrap();
        assert!(none.next_tick().unwrap().is_none());
    }
}
