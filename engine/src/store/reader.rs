//! Reading the store for the REST API: `StoreReader`, a read-only
//! connection usable while the writer writes, and the `Range` of a history
//! query.

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{StoreError, builder_from_row, positions};
use crate::{
    analytics::CandleBuilder,
    model::{Candle, Interval, Symbol, Tick, price_to_units},
};

/// A time range and row limit for history queries. `from` is inclusive, `to`
/// exclusive; when more rows match than `limit`, the most recent are kept.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    /// Earliest time, inclusive.
    pub from: Option<DateTime<Utc>>,
    /// Latest time, exclusive.
    pub to: Option<DateTime<Utc>>,
    /// Most rows returned.
    pub limit: usize,
}

impl Range {
    fn bounds(&self) -> (i64, i64) {
        (
            self.from.map_or(i64::MIN, |t| t.timestamp_micros()),
            self.to.map_or(i64::MAX, |t| t.timestamp_micros()),
        )
    }
}

/// A read-only connection for queries, usable while the writer writes.
pub struct StoreReader {
    conn: Connection,
}

impl StoreReader {
    /// Opens the database at `path` for reading. The writer must have
    /// created it first.
    ///
    /// # Errors
    /// Returns the SQLite error.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            conn: super::open_read_only(path)?,
        })
    }

    fn symbol_id(&self, symbol: &Symbol) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT id FROM symbols WHERE symbol = ?1")?
            .query_row([symbol.as_str()], |row| row.get(0))
            .optional()?)
    }

    /// Ticks of `symbol` in `range`, oldest first.
    ///
    /// # Errors
    /// Returns the SQLite error.
    pub fn ticks(&self, symbol: &Symbol, range: Range) -> Result<Vec<Tick>, StoreError> {
        let Some(id) = self.symbol_id(symbol)? else {
            return Ok(Vec::new());
        };
        let (from, to) = range.bounds();
        let mut stmt = self.conn.prepare_cached(
            "SELECT ts, price, volume, bid, ask, seq, log_partition, log_offset FROM ticks
             WHERE symbol_id = ?1 AND ts >= ?2 AND ts < ?3
             ORDER BY ts DESC, log_offset DESC LIMIT ?4",
        )?;
        let rows = stmt.query_map(params![id, from, to, range.limit as i64], |row| {
            Ok(Tick {
                symbol: symbol.clone(),
                timestamp: DateTime::from_timestamp_micros(row.get(0)?).unwrap_or_default(),
                price: row.get(1)?,
                volume: row.get::<_, i64>(2)? as u64,
                bid: row.get(3)?,
                ask: row.get(4)?,
                seq: row.get::<_, Option<i64>>(5)?.map(|s| s as u64),
                condition: None,
                partition: Some(row.get(6)?),
                offset: Some(row.get::<_, i64>(7)? as u64),
            })
        })?;
        let mut ticks = rows.collect::<Result<Vec<_>, _>>()?;
        ticks.reverse();
        Ok(ticks)
    }

    /// Candles as [`StoreReader::candles`] returns them, with the positions
    /// of `topic` they include (ticks at lower offsets are in them, later
    /// ones are not), read from one snapshot of the database.
    ///
    /// # Errors
    /// Returns the SQLite error, or [`StoreError::Corrupt`] for unreadable rows.
    pub fn candles_with_positions(
        &self,
        topic: &str,
        symbol: &Symbol,
        interval: Interval,
        range: Range,
    ) -> Result<(Vec<Candle>, Vec<u64>), StoreError> {
        let snapshot = self.conn.unchecked_transaction()?;
        let candles = self.candles(symbol, interval, range)?;
        let positions = positions(&snapshot, topic)?;
        snapshot.finish()?;
        Ok((candles, positions))
    }

    /// Volume per 15-minute bucket since `from`, summed over every symbol
    /// (or just `symbol`), oldest first: (bucket start, shares).
    ///
    /// # Errors
    /// Returns the SQLite error.
    pub fn volume_by_bucket(
        &self,
        symbol: Option<&Symbol>,
        from: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, u64)>, StoreError> {
        let ids: Vec<i64> = match symbol {
            Some(symbol) => self.symbol_id(symbol)?.into_iter().collect(),
            None => self
                .conn
                .prepare_cached("SELECT id FROM symbols")?
                .query_map([], |row| row.get(0))?
                .collect::<Result<_, _>>()?,
        };
        let mut totals = std::collections::BTreeMap::<i64, u64>::new();
        // One range scan of the primary key per symbol.
        let mut stmt = self.conn.prepare_cached(
            "SELECT start, volume FROM candles WHERE symbol_id = ?1 AND interval_s = ?2 AND start >= ?3",
        )?;
        for id in ids {
            let rows = stmt.query_map(
                params![id, Interval::M15.seconds(), from.timestamp_micros()],
                |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)),
            )?;
            for row in rows {
                let (start, volume) = row?;
                *totals.entry(start).or_default() += volume.max(0) as u64;
            }
        }
        Ok(totals
            .into_iter()
            .filter_map(|(start, volume)| Some((DateTime::from_timestamp_micros(start)?, volume)))
            .collect())
    }

    /// Candles as [`StoreReader::candles`] returns them, as they stood at
    /// `clock` (Unix microseconds): only ticks stamped at or before it
    /// count. The bucket holding `clock` is rebuilt from the finer candles
    /// it holds and the ticks of its last second (a day: at most 23 hours,
    /// 3 quarters, 2 fives, 4 minutes and 59 seconds of candles), so no
    /// tick after `clock` is seen, and none is read twice.
    ///
    /// # Errors
    /// Returns the SQLite error, or [`StoreError::Corrupt`] for unreadable rows.
    pub fn candles_as_of(
        &self,
        symbol: &Symbol,
        interval: Interval,
        range: Range,
        clock: i64,
    ) -> Result<Vec<Candle>, StoreError> {
        let Some(id) = self.symbol_id(symbol)? else {
            return Ok(Vec::new());
        };
        let current = interval.bucket_start(clock);
        let (from, to) = range.bounds();
        let ended = Range {
            to: DateTime::from_timestamp_micros(to.min(current)),
            ..range
        };
        let mut candles = self.candles(symbol, interval, ended)?;
        if (from..to).contains(&current)
            && let Some(partial) = self.bucket_until(id, interval, current, clock)?
        {
            candles.push(partial.to_candle(symbol, interval, false));
            let excess = candles.len().saturating_sub(range.limit);
            candles.drain(..excess);
        }
        Ok(candles)
    }

    /// The bucket of `interval` starting at `start`, from the ticks stamped
    /// up to `clock`; `None` when it has none yet.
    fn bucket_until(
        &self,
        id: i64,
        interval: Interval,
        start: i64,
        clock: i64,
    ) -> Result<Option<CandleBuilder>, StoreError> {
        let mut bucket: Option<CandleBuilder> = None;
        let mut add = |part: CandleBuilder| match &mut bucket {
            Some(b) => b.merge(&part),
            None => {
                bucket = Some(CandleBuilder {
                    start_micros: start,
                    ..part
                })
            }
        };
        let mut at = start;
        let mut finer = self.conn.prepare_cached(
            "SELECT start, open, high, low, close, volume, price_volume, trades FROM candles
             WHERE symbol_id = ?1 AND interval_s = ?2 AND start >= ?3 AND start < ?4 ORDER BY start",
        )?;
        for part in Interval::ALL
            .into_iter()
            .rev()
            .filter(|i| i.seconds() < interval.seconds())
        {
            let end = part.bucket_start(clock);
            if end <= at {
                continue;
            }
            let rows = finer.query_map(params![id, part.seconds(), at, end], |row| {
                builder_from_row(row, 0)
            })?;
            for row in rows {
                add(row??);
            }
            at = end;
        }
        let mut ticks = self.conn.prepare_cached(
            "SELECT price, volume FROM ticks WHERE symbol_id = ?1 AND ts >= ?2 AND ts <= ?3
             ORDER BY ts, log_offset",
        )?;
        let rows = ticks.query_map(params![id, at, clock], |row| {
            Ok((row.get::<_, f64>(0)?, row.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (price, volume) = row?;
            add(CandleBuilder::new(
                at,
                price_to_units(price),
                volume.max(0) as u64,
            ));
        }
        Ok(bucket)
    }

    /// Candles of `symbol` at `interval` whose start lies in `range`, oldest
    /// first. A candle whose bucket has ended counts as closed.
    ///
    /// # Errors
    /// Returns the SQLite error, or [`StoreError::Corrupt`] for unreadable rows.
    pub fn candles(
        &self,
        symbol: &Symbol,
        interval: Interval,
        range: Range,
    ) -> Result<Vec<Candle>, StoreError> {
        let Some(id) = self.symbol_id(symbol)? else {
            return Ok(Vec::new());
        };
        let (from, to) = range.bounds();
        let mut stmt = self.conn.prepare_cached(
            "SELECT closed, start, open, high, low, close, volume, price_volume, trades FROM candles
             WHERE symbol_id = ?1 AND interval_s = ?2 AND start >= ?3 AND start < ?4
             ORDER BY start DESC LIMIT ?5",
        )?;
        let now = Utc::now().timestamp_micros();
        let rows = stmt.query_map(
            params![id, interval.seconds(), from, to, range.limit as i64],
            |row| Ok((row.get::<_, bool>(0)?, builder_from_row(row, 1)?)),
        )?;
        let mut candles = Vec::new();
        for row in rows {
            let (closed, builder) = row?;
            let builder = builder?;
            let ended = builder.start_micros + interval.micros() <= now;
            candles.push(builder.to_candle(symbol, interval, closed || ended));
        }
        candles.reverse();
        Ok(candles)
    }
}
