//! SQLite persistence: tick history, candles and log positions, written in
//! batched transactions and read by the REST API; backups, checks and
//! restores of it in `backup`.
//!
//! The database runs in WAL mode with `synchronous=NORMAL`: a committed
//! transaction survives a crash of the process (not of the machine's power),
//! and a crash mid-transaction leaves the database as of the last commit.

mod audit;
pub mod backup;
mod items;
mod keys;
mod reader;
mod schema;
mod trading;
mod writer;

use std::{collections::HashMap, path::Path, sync::Arc};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

pub use audit::AuditStore;
pub use items::{ItemStore, StoredItem};
pub use keys::{KeyStore, StoredKey};
pub use reader::{Range, StoreReader};
pub use schema::latest_version;
pub use trading::{StoredAccount, TradingStore};
pub use writer::{StoreWriter, WriterSettings};

use crate::{
    analytics::CandleBuilder,
    model::{EncodedTick, Interval, Symbol},
};

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused an operation.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// The database was written by a newer Tickstream.
    #[error(
        "database schema version {found} is newer than this build supports ({supported}); upgrade Tickstream"
    )]
    NewerSchema {
        /// The version found.
        found: usize,
        /// The newest version this build knows.
        supported: usize,
    },
    /// A stored row holds a value this build cannot read.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Another item already has this name.
    #[error("{0}")]
    Duplicate(String),
}

impl StoreError {
    /// Whether the failure is the disk's or the file's (full, read-only,
    /// locked, an I/O error), so the same write can succeed later; other
    /// failures are the data's and would fail again.
    pub fn is_transient(&self) -> bool {
        use rusqlite::ErrorCode::{
            CannotOpen, DatabaseBusy, DatabaseLocked, DiskFull, FileLockingProtocolFailed,
            OutOfMemory, ReadOnly, SystemIoFailure,
        };
        match self {
            Self::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                DiskFull
                    | ReadOnly
                    | DatabaseBusy
                    | DatabaseLocked
                    | SystemIoFailure
                    | CannotOpen
                    | OutOfMemory
                    | FileLockingProtocolFailed
            ),
            _ => false,
        }
    }
}

/// One transaction's worth of writes.
#[derive(Default)]
pub struct Batch {
    /// Ticks with their log partition and offset.
    pub ticks: Vec<(u32, u64, Arc<EncodedTick>)>,
    /// Candles to insert or replace, with whether each is closed.
    pub candles: Vec<(Symbol, Interval, CandleBuilder, bool)>,
    /// Log positions reached: (topic, partition, next offset).
    pub positions: Vec<(String, u32, u64)>,
}

/// What a written batch left out.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Ticks whose log position the store already held.
    pub duplicates: u64,
    /// Ticks and candles that went to the dead letters instead.
    pub dead_letters: u64,
}

impl Batch {
    /// Whether the batch writes nothing.
    pub fn is_empty(&self) -> bool {
        self.ticks.is_empty() && self.candles.is_empty() && self.positions.is_empty()
    }
}

/// A count as SQLite's integer, refused (not wrapped) past `i64::MAX`.
fn integer(n: u64) -> rusqlite::Result<i64> {
    i64::try_from(n).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))
}

/// A read-only connection to the database at `path` that waits for a busy
/// writer: what history queries and backups read through.
fn open_read_only(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

pub(crate) fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "cache_size", -65_536)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

/// The store's writer connection. One per database.
pub struct Store {
    conn: Connection,
    symbol_ids: HashMap<Symbol, i64>,
}

impl Store {
    /// Opens (or creates) the database at `path` and migrates it.
    ///
    /// # Errors
    /// Returns a [`StoreError`] when the file cannot be opened as SQLite,
    /// cannot be written, or has a newer schema.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut conn = Connection::open(path)?;
        configure(&conn)?;
        schema::migrate(&mut conn)?;
        let symbol_ids = {
            let mut stmt = conn.prepare("SELECT symbol, id FROM symbols")?;
            let rows = stmt.query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
            })?;
            let mut ids = HashMap::new();
            for row in rows {
                let (text, id) = row?;
                let symbol = Symbol::new(&text).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                ids.insert(symbol, id);
            }
            ids
        };
        Ok(Self { conn, symbol_ids })
    }

    /// Writes a batch in one transaction: all of it or none of it. A tick
    /// whose log position is already stored is left out and counted.
    ///
    /// With `salvage`, a tick or candle that fails for a reason of its own
    /// (not the disk's: see [`StoreError::is_transient`]) goes to the dead
    /// letters with the error, and the rest of the batch is written.
    ///
    /// # Errors
    /// Returns the SQLite error; the transaction is rolled back.
    pub fn write(&mut self, batch: &Batch, salvage: bool) -> Result<Written, StoreError> {
        let tx = self.conn.transaction()?;
        let mut written = Written::default();
        // New symbols are remembered only once the transaction commits.
        let mut ids = self.symbol_ids.clone();
        {
            let mut new_symbol =
                tx.prepare_cached("INSERT INTO symbols (symbol) VALUES (?1) RETURNING id")?;
            let mut insert_tick = tx.prepare_cached(
                "INSERT INTO ticks (symbol_id, ts, price, volume, bid, ask, seq, log_partition, log_offset)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (log_partition, log_offset) DO NOTHING",
            )?;
            let mut dead_letter = tx.prepare_cached(
                "INSERT INTO dead_letters (ts, kind, log_partition, log_offset, body, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            let mut symbol_id =
                |symbol: &Symbol, ids: &mut HashMap<Symbol, i64>| -> rusqlite::Result<i64> {
                    if let Some(&id) = ids.get(symbol) {
                        return Ok(id);
                    }
                    let id = new_symbol.query_row([symbol.as_str()], |row| row.get(0))?;
                    ids.insert(symbol.clone(), id);
                    Ok(id)
                };
            // A failed statement is undone by SQLite alone; the transaction
            // goes on. Failures of the data are kept as dead letters.
            let mut salvaged = |result: rusqlite::Result<usize>,
                                kind: &str,
                                position: Option<(u32, u64)>,
                                body: &dyn Fn() -> String|
             -> Result<Option<usize>, StoreError> {
                match result.map_err(StoreError::from) {
                    Err(error) if salvage && !error.is_transient() => {
                        tracing::error!(%error, kind, ?position, "not storable: kept as a dead letter");
                        dead_letter.execute(params![
                            Utc::now().timestamp_micros(),
                            kind,
                            position.map(|p| p.0),
                            position.map(|p| p.1 as i64),
                            body(),
                            error.to_string(),
                        ])?;
                        Ok(None)
                    }
                    other => other.map(Some),
                }
            };
            for (partition, offset, encoded) in &batch.ticks {
                let t = encoded.tick();
                let result = symbol_id(&t.symbol, &mut ids).and_then(|id| {
                    insert_tick.execute(params![
                        id,
                        t.timestamp.timestamp_micros(),
                        t.price,
                        integer(t.volume)?,
                        t.bid,
                        t.ask,
                        t.seq.map(integer).transpose()?,
                        partition,
                        *offset as i64,
                    ])
                });
                let position = Some((*partition, *offset));
                match salvaged(result, "tick", position, &|| encoded.json().to_owned())? {
                    Some(0) => written.duplicates += 1,
                    Some(_) => {}
                    None => written.dead_letters += 1,
                }
            }
            let mut upsert_candle = tx.prepare_cached(
                "INSERT OR REPLACE INTO candles
                 (symbol_id, interval_s, start, open, high, low, close, volume, price_volume, trades, closed)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
            for (symbol, interval, c, closed) in &batch.candles {
                let result = symbol_id(symbol, &mut ids).and_then(|id| {
                    upsert_candle.execute(params![
                        id,
                        interval.seconds(),
                        c.start_micros,
                        c.open,
                        c.high,
                        c.low,
                        c.close,
                        integer(c.volume)?,
                        &c.price_volume.to_le_bytes()[..],
                        c.trades as i64,
                        closed,
                    ])
                });
                let body = || format!("{symbol} {interval:?} {c:?}");
                if salvaged(result, "candle", None, &body)?.is_none() {
                    written.dead_letters += 1;
                }
            }
            let mut position = tx.prepare_cached(
                "INSERT OR REPLACE INTO log_positions (topic, log_partition, next_offset) VALUES (?1, ?2, ?3)",
            )?;
            for (topic, partition, next) in &batch.positions {
                position.execute(params![topic, partition, *next as i64])?;
            }
        }
        tx.commit()?;
        self.symbol_ids = ids;
        Ok(written)
    }

    /// Records that an engine runs on this store, and returns whether the
    /// previous one stopped cleanly (its writer drained the log: every tick
    /// it delivered is stored). A new store counts as clean.
    ///
    /// # Errors
    /// Returns the SQLite error.
    pub fn begin_run(&mut self) -> Result<bool, StoreError> {
        let tx = self.conn.transaction()?;
        let running: Option<i64> = tx
            .query_row(
                "SELECT value FROM engine_state WHERE name = 'running'",
                [],
                |row| row.get(0),
            )
            .optional()?;
        tx.execute(
            "INSERT OR REPLACE INTO engine_state (name, value) VALUES ('running', 1)",
            [],
        )?;
        tx.commit()?;
        Ok(running != Some(1))
    }

    /// Records that the engine stopped cleanly, after its last batch.
    ///
    /// # Errors
    /// Returns the SQLite error.
    pub fn end_run(&mut self) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO engine_state (name, value) VALUES ('running', 0)",
            [],
        )?;
        Ok(())
    }

    /// The next offset of each partition of `topic` recorded by the last
    /// batch, indexed by partition (0 where none was recorded).
    ///
    /// # Errors
    /// Returns the SQLite error.
    pub fn positions(&self, topic: &str) -> Result<Vec<u64>, StoreError> {
        positions(&self.conn, topic)
    }

    /// The newest candle of every symbol and interval that is not closed,
    /// so candle building can continue after a restart.
    ///
    /// # Errors
    /// Returns the SQLite error, or [`StoreError::Corrupt`] for unreadable rows.
    pub fn open_candles(&self) -> Result<Vec<(Symbol, Interval, CandleBuilder)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT s.symbol, c.interval_s, c.start, c.open, c.high, c.low, c.close, c.volume, c.price_volume, c.trades
             FROM candles c JOIN symbols s ON s.id = c.symbol_id WHERE c.closed = 0",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                builder_from_row(row, 2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (symbol, seconds, builder) = row?;
            let symbol = Symbol::new(&symbol).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let interval = interval_from_seconds(seconds)?;
            out.push((symbol, interval, builder?));
        }
        Ok(out)
    }

    /// Every symbol's latest candle of `interval`: its start and close, so a
    /// restarted simulator continues from the prices it left.
    ///
    /// # Errors
    /// Returns the SQLite error, or [`StoreError::Corrupt`] for unreadable rows.
    pub fn last_closes(
        &self,
        interval: Interval,
    ) -> Result<Vec<(Symbol, DateTime<Utc>, f64)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT s.symbol, c.start, c.close FROM candles c JOIN symbols s ON s.id = c.symbol_id
             WHERE c.interval_s = ?1 AND c.start = (SELECT MAX(start) FROM candles
                 WHERE symbol_id = c.symbol_id AND interval_s = ?1)",
        )?;
        let rows = stmt.query_map([interval.seconds()], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (symbol, start, close) = row?;
            let symbol = Symbol::new(&symbol).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let start = DateTime::from_timestamp_micros(start)
                .ok_or_else(|| StoreError::Corrupt(format!("candle start {start}")))?;
            out.push((symbol, start, crate::model::units_to_price(close)));
        }
        Ok(out)
    }

    /// Deletes ticks and 1-second candles older than `before`. Returns the
    /// number of ticks deleted.
    ///
    /// # Errors
    /// Returns the SQLite error; nothing is deleted.
    pub fn prune(&mut self, before: DateTime<Utc>) -> Result<usize, StoreError> {
        let cutoff = before.timestamp_micros();
        let tx = self.conn.transaction()?;
        let mut deleted = 0;
        for &id in self.symbol_ids.values() {
            deleted += tx.execute(
                "DELETE FROM ticks WHERE symbol_id = ?1 AND ts < ?2",
                params![id, cutoff],
            )?;
            tx.execute(
                "DELETE FROM candles WHERE symbol_id = ?1 AND interval_s = 1 AND start < ?2",
                params![id, cutoff],
            )?;
        }
        tx.commit()?;
        Ok(deleted)
    }
}

/// The next offset per partition of `topic` recorded with the last batch.
fn positions(conn: &Connection, topic: &str) -> Result<Vec<u64>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT log_partition, next_offset FROM log_positions WHERE topic = ?1")?;
    let mut out = Vec::new();
    for row in stmt.query_map([topic], |row| {
        Ok((row.get::<_, u32>(0)?, row.get::<_, i64>(1)?))
    })? {
        let (partition, next) = row?;
        if out.len() <= partition as usize {
            out.resize(partition as usize + 1, 0);
        }
        out[partition as usize] = next as u64;
    }
    Ok(out)
}

fn interval_from_seconds(seconds: i64) -> Result<Interval, StoreError> {
    Interval::ALL
        .into_iter()
        .find(|i| i.seconds() == seconds)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown candle interval of {seconds} s")))
}

/// Reads a candle builder from columns `first..first + 8` (start, open, high,
/// low, close, volume, price_volume, trades).
fn builder_from_row(
    row: &rusqlite::Row<'_>,
    first: usize,
) -> rusqlite::Result<Result<CandleBuilder, StoreError>> {
    let pv: Vec<u8> = row.get(first + 6)?;
    let Ok(pv) = <[u8; 16]>::try_from(pv.as_slice()) else {
        return Ok(Err(StoreError::Corrupt(
            "candle price_volume is not 16 bytes".into(),
        )));
    };
    Ok(Ok(CandleBuilder {
        start_micros: row.get(first)?,
        open: row.get(first + 1)?,
        high: row.get(first + 2)?,
        low: row.get(first + 3)?,
        close: row.get(first + 4)?,
        volume: row.get::<_, i64>(first + 5)? as u64,
        price_volume: i128::from_le_bytes(pv),
        trades: row.get::<_, i64>(first + 7)? as u64,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Tick, timestamp};

    fn encoded(symbol: &str, ts: &str, price: f64, seq: u64) -> Arc<EncodedTick> {
        Arc::new(EncodedTick::new(Tick {
            symbol: Symbol::new(symbol).unwrap(),
            price,
            volume: 100,
            timestamp: timestamp::parse(ts).unwrap(),
            bid: Some(price - 0.01),
            ask: Some(price + 0.01),
            seq: Some(seq),
            condition: None,
            partition: None,
            offset: None,
        }))
    }

    #[test]
    fn ticks_round_trip_through_a_real_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut store = Store::open(&path).unwrap();
        let batch = Batch {
            ticks: vec![
                (
                    1,
                    10,
                    encoded("AAPL", "2026-11-24T14:30:00.000001Z", 189.37, 1),
                ),
                (1, 11, encoded("AAPL", "2026-11-24T14:30:01Z", 189.40, 2)),
                (2, 5, encoded("MSFT", "2026-11-24T14:30:01Z", 415.10, 3)),
            ],
            candles: vec![],
            positions: vec![("stock_ticks".into(), 1, 12), ("stock_ticks".into(), 2, 6)],
        };
        store.write(&batch, false).unwrap();
        drop(store);

        // Reopening an existing database keeps everything.
        let store = Store::open(&path).unwrap();
        assert_eq!(store.positions("stock_ticks").unwrap(), vec![0, 12, 6]);
        let reader = StoreReader::open(&path).unwrap();
        let aapl = Symbol::new("AAPL").unwrap();
        let all = Range {
            from: None,
            to: None,
            limit: 100,
        };
        let ticks = reader.ticks(&aapl, all).unwrap();
        let mut want = batch.ticks[0].2.tick().clone();
        want.partition = Some(1);
        want.offset = Some(10);
        assert_eq!(ticks[0], want);
        assert_eq!(ticks.len(), 2);
        // The limit keeps the most recent, still oldest first.
        let last = reader.ticks(&aapl, Range { limit: 1, ..all }).unwrap();
        assert_eq!(last[0].offset, Some(11));
        // Unknown symbols have no history.
        assert!(
            reader
                .ticks(&Symbol::new("ZZZZ").unwrap(), all)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn candles_round_trip_exactly_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let mut store = Store::open(&path).unwrap();
        let aapl = Symbol::new("AAPL").unwrap();
        let mut b = CandleBuilder::new(1_700_000_000_000_000, 189_370_000, 300);
        b.add(189_500_000, 100);
        store
            .write(
                &Batch {
                    candles: vec![(aapl.clone(), Interval::M1, b.clone(), false)],
                    ..Batch::default()
                },
                false,
            )
            .unwrap();
        assert_eq!(
            store.open_candles().unwrap(),
            vec![(aapl.clone(), Interval::M1, b.clone())]
        );
        let reader = StoreReader::open(&path).unwrap();
        let got = reader
            .candles(
                &aapl,
                Interval::M1,
                Range {
                    from: None,
                    to: None,
                    limit: 10,
                },
            )
            .unwrap();
        // The bucket ended long ago, so it reads as closed.
        assert_eq!(got, vec![b.to_candle(&aapl, Interval::M1, true)]);
    }

    #[test]
    fn a_stored_position_is_written_once_and_counted_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.db");
        let mut store = Store::open(&path).unwrap();
        let tick = |offset| (0, offset, encoded("AAPL", "2026-11-24T10:00:00Z", 1.0, 1));
        let batch = |offsets: &[u64]| Batch {
            ticks: offsets.iter().map(|&o| tick(o)).collect(),
            ..Batch::default()
        };
        assert_eq!(
            store.write(&batch(&[0, 1]), false).unwrap(),
            Written::default()
        );
        let again = store.write(&batch(&[1, 2]), false).unwrap();
        assert_eq!(again.duplicates, 1);
        let reader = StoreReader::open(&path).unwrap();
        let all = Range {
            from: None,
            to: None,
            limit: 10,
        };
        assert_eq!(
            reader
                .ticks(&Symbol::new("AAPL").unwrap(), all)
                .unwrap()
                .len(),
            3
        );
    }

    #[test]
    fn what_cannot_be_stored_becomes_a_dead_letter_and_the_rest_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dl.db");
        let mut store = Store::open(&path).unwrap();
        let unstorable = encoded("AAPL", "2026-11-24T10:00:00Z", 1.0, u64::MAX);
        let batch = Batch {
            ticks: vec![
                (0, 0, encoded("AAPL", "2026-11-24T10:00:00Z", 1.0, 1)),
                (0, 1, unstorable),
            ],
            positions: vec![("ticks".into(), 0, 2)],
            ..Batch::default()
        };
        let error = store.write(&batch, false).unwrap_err();
        assert!(!error.is_transient(), "{error}");
        let written = store.write(&batch, true).unwrap();
        assert_eq!(written.dead_letters, 1);
        assert_eq!(store.positions("ticks").unwrap(), [2]);
        let conn = Connection::open(&path).unwrap();
        let (offset, body, error): (i64, String, String) = conn
            .query_row(
                "SELECT log_offset, body, error FROM dead_letters",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(offset, 1);
        assert!(body.contains("18446744073709551615"), "{body}");
        assert!(!error.is_empty());
    }

    #[test]
    fn a_store_that_cannot_be_written_fails_transiently_even_when_salvaging() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("ro.db")).unwrap();
        store.conn.pragma_update(None, "query_only", true).unwrap();
        let batch = Batch {
            ticks: vec![(0, 0, encoded("AAPL", "2026-11-24T10:00:00Z", 1.0, 1))],
            ..Batch::default()
        };
        let error = store.write(&batch, true).unwrap_err();
        assert!(error.is_transient(), "{error}");
    }

    #[test]
    fn a_run_that_did_not_end_is_seen_by_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        let mut store = Store::open(&path).unwrap();
        assert!(store.begin_run().unwrap(), "a new store counts as clean");
        drop(store);
        let mut store = Store::open(&path).unwrap();
        assert!(!store.begin_run().unwrap(), "the last run never ended");
        store.end_run().unwrap();
        assert!(Store::open(&path).unwrap().begin_run().unwrap());
    }

    #[test]
    fn prune_deletes_old_ticks_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("p.db")).unwrap();
        store
            .write(
                &Batch {
                    ticks: vec![
                        (0, 0, encoded("AAPL", "2026-11-24T10:00:00Z", 1.0, 1)),
                        (0, 1, encoded("AAPL", "2026-11-24T12:00:00Z", 1.0, 2)),
                    ],
                    ..Batch::default()
                },
                false,
            )
            .unwrap();
        let deleted = store
            .prune(timestamp::parse("2026-11-24T11:00:00Z").unwrap())
            .unwrap();
        assert_eq!(deleted, 1);
    }

    #[test]
    fn a_newer_schema_is_refused_with_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.db");
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        let err = Store::open(&path).err().unwrap();
        assert!(err.to_string().contains("newer"), "{err}");
    }

    #[test]
    fn a_file_that_is_not_sqlite_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junk.db");
        std::fs::write(
            &path,
            b"this is not a database, just some text that is long enough",
        )
        .unwrap();
        assert!(Store::open(&path).is_err());
    }
}
