//! Candle aggregation in exact fixed-point arithmetic: `CandleBuilder` for one
//! bucket, `CandleBook` for every symbol and interval of a stream.

use std::collections::HashMap;

use chrono::DateTime;

use crate::model::{Candle, Interval, Symbol, Tick, price_to_units, units_to_price};

/// One bucket's running OHLCV and VWAP sums, exact: prices in fixed-point
/// units and the price × volume sum in 128 bits, so nothing drifts however
/// many ticks a bucket gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandleBuilder {
    /// Bucket start, Unix microseconds.
    pub start_micros: i64,
    /// First price, fixed-point units.
    pub open: i64,
    /// Highest price, fixed-point units.
    pub high: i64,
    /// Lowest price, fixed-point units.
    pub low: i64,
    /// Last price, fixed-point units.
    pub close: i64,
    /// Shares traded.
    pub volume: u64,
    /// Sum of price units × shares, for the VWAP.
    pub price_volume: i128,
    /// Number of trades.
    pub trades: u64,
}

impl CandleBuilder {
    /// A bucket starting at `start_micros` holding one trade.
    pub fn new(start_micros: i64, price_units: i64, volume: u64) -> Self {
        Self {
            start_micros,
            open: price_units,
            high: price_units,
            low: price_units,
            close: price_units,
            volume,
            price_volume: i128::from(price_units) * i128::from(volume),
            trades: 1,
        }
    }

    /// Adds a trade.
    pub fn add(&mut self, price_units: i64, volume: u64) {
        self.high = self.high.max(price_units);
        self.low = self.low.min(price_units);
        self.close = price_units;
        self.volume += volume;
        self.price_volume += i128::from(price_units) * i128::from(volume);
        self.trades += 1;
    }

    /// Adds a later stretch of the same bucket (a finer candle).
    pub fn merge(&mut self, later: &CandleBuilder) {
        self.high = self.high.max(later.high);
        self.low = self.low.min(later.low);
        self.close = later.close;
        self.volume += later.volume;
        self.price_volume += later.price_volume;
        self.trades += later.trades;
    }

    /// The candle as it stands.
    pub fn to_candle(&self, symbol: &Symbol, interval: Interval, closed: bool) -> Candle {
        let vwap = if self.volume == 0 {
            units_to_price(self.close)
        } else {
            // Exact quotient in units, rounded to the nearest unit (10⁻⁶).
            let v = i128::from(self.volume);
            let q = (2 * self.price_volume + v).div_euclid(2 * v);
            units_to_price(q as i64)
        };
        Candle {
            symbol: symbol.clone(),
            interval,
            start: DateTime::from_timestamp_micros(self.start_micros).unwrap_or_default(),
            open: units_to_price(self.open),
            high: units_to_price(self.high),
            low: units_to_price(self.low),
            close: units_to_price(self.close),
            volume: self.volume,
            vwap,
            trades: self.trades,
            closed,
        }
    }
}

/// What a tick did to one (symbol, interval) candle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CandleUpdate {
    /// The tick went into the open candle.
    Updated,
    /// The tick opened a new bucket; the previous candle is now closed.
    Rolled(CandleBuilder),
    /// The tick is older than the open bucket (out of order) and was not applied.
    Late,
}

/// Open candles of every symbol at every interval.
#[derive(Debug, Default)]
pub struct CandleBook {
    open: HashMap<(Symbol, Interval), CandleBuilder>,
}

impl CandleBook {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies a tick to every interval, calling `on_update` with each
    /// interval's outcome and the candle now open there.
    pub fn apply(
        &mut self,
        tick: &Tick,
        mut on_update: impl FnMut(Interval, CandleUpdate, &CandleBuilder),
    ) {
        let ts = tick.timestamp.timestamp_micros();
        let units = price_to_units(tick.price);
        for interval in Interval::ALL {
            let start = interval.bucket_start(ts);
            let key = (tick.symbol.clone(), interval);
            let update = match self.open.get_mut(&key) {
                Some(open) if open.start_micros == start => {
                    open.add(units, tick.volume);
                    CandleUpdate::Updated
                }
                Some(open) if start < open.start_micros => CandleUpdate::Late,
                Some(open) => CandleUpdate::Rolled(std::mem::replace(
                    open,
                    CandleBuilder::new(start, units, tick.volume),
                )),
                None => {
                    self.open
                        .insert(key.clone(), CandleBuilder::new(start, units, tick.volume));
                    CandleUpdate::Updated
                }
            };
            on_update(interval, update, &self.open[&key]);
        }
    }

    /// The open candle of a symbol at an interval.
    pub fn open_candle(&self, symbol: &Symbol, interval: Interval) -> Option<&CandleBuilder> {
        self.open.get(&(symbol.clone(), interval))
    }

    /// Replaces the open candle of a symbol at an interval (e.g. with the
    /// one the store holds, after a restart).
    pub fn restore(&mut self, symbol: Symbol, interval: Interval, builder: CandleBuilder) {
        self.open.insert((symbol, interval), builder);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::timestamp;

    fn tick(ts: &str, price: f64, volume: u64) -> Tick {
        Tick::trade(
            Symbol::new("AAPL").unwrap(),
            price,
            volume,
            timestamp::parse(ts).unwrap(),
        )
    }

    #[test]
    fn known_sequence_gives_exact_ohlcv_and_vwap() {
        let mut book = CandleBook::new();
        let ticks = [
            tick("2026-11-24T14:30:00.100000Z", 100.10, 100),
            tick("2026-11-24T14:30:00.500000Z", 100.30, 300),
            tick("2026-11-24T14:30:00.900000Z", 99.90, 200),
            tick("2026-11-24T14:30:01.000000Z", 100.00, 100),
        ];
        let mut closed_1s = Vec::new();
        for t in &ticks {
            book.apply(t, |interval, update, _| {
                if let (Interval::S1, CandleUpdate::Rolled(c)) = (interval, update) {
                    closed_1s.push(c);
                }
            });
        }
        let symbol = Symbol::new("AAPL").unwrap();
        assert_eq!(closed_1s.len(), 1);
        let c = closed_1s[0].to_candle(&symbol, Interval::S1, true);
        assert_eq!(
            (c.open, c.high, c.low, c.close),
            (100.10, 100.30, 99.90, 99.90)
        );
        assert_eq!((c.volume, c.trades), (600, 3));
        // (100.10·100 + 100.30·300 + 99.90·200) / 600 = 60080 / 600 = 100.1333…
        assert_eq!(c.vwap, 100.133333);
        assert_eq!(
            timestamp::to_string(&c.start),
            "2026-11-24T14:30:00.000000Z"
        );

        let m = book.open_candle(&symbol, Interval::M1).unwrap().to_candle(
            &symbol,
            Interval::M1,
            false,
        );
        assert_eq!(
            (m.open, m.high, m.low, m.close, m.volume, m.trades),
            (100.10, 100.30, 99.90, 100.00, 700, 4)
        );
        // 70080 / 700 = 100.1142857…
        assert_eq!(m.vwap, 100.114286);
    }

    #[test]
    fn many_ticks_do_not_drift() {
        let mut book = CandleBook::new();
        for i in 0..300_000u64 {
            let t = tick(
                "2026-11-24T14:30:00.000000Z",
                0.01 + (i % 3) as f64 * 0.01,
                1,
            );
            book.apply(&t, |_, _, _| {});
        }
        let symbol = Symbol::new("AAPL").unwrap();
        let c = book.open_candle(&symbol, Interval::D1).unwrap().to_candle(
            &symbol,
            Interval::D1,
            false,
        );
        // Prices 0.01, 0.02, 0.03 in turn: the mean is exactly 0.02.
        assert_eq!(c.volume, 300_000);
        assert_eq!(c.vwap, 0.02);
    }

    #[test]
    fn out_of_order_ticks_are_reported_late() {
        let mut book = CandleBook::new();
        book.apply(&tick("2026-11-24T14:30:05Z", 1.0, 1), |_, _, _| {});
        let mut late = 0;
        book.apply(&tick("2026-11-24T14:30:04Z", 1.0, 1), |i, u, _| {
            if i == Interval::S1 && u == CandleUpdate::Late {
                late += 1;
            }
        });
        assert_eq!(late, 1);
    }
}
