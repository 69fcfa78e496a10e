//! `Bars`: one client's second and minute bars, built from the trades it
//! reads and sent once closed. A bar closes when a later trade of its
//! symbol arrives, or when the market's clock (the newest trade time read,
//! advanced by the wall clock while nothing trades) has passed its end by
//! [`GRACE`], so trades read out of order across partitions still land in
//! their bar.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use crate::{
    analytics::CandleBuilder,
    model::{Candle, Interval, Quote, Symbol, Tick, price_to_units},
};

/// How long past its end a bar without a later trade of its symbol waits
/// for trades read late.
const GRACE: chrono::Duration = chrono::Duration::milliseconds(1_000);

/// A closed bar, with its symbol's day so far.
#[derive(Debug, Clone)]
pub struct Bar {
    /// The bar.
    pub candle: Candle,
    /// The symbol's session when the bar closed.
    pub day: Option<Quote>,
}

/// Open bars by symbol and interval.
#[derive(Debug, Default)]
pub struct Bars {
    open: HashMap<(Symbol, Interval), CandleBuilder>,
    /// Start of the last bar sent of each symbol and interval: a trade
    /// older than its end comes too late and is left out of the bars.
    sent: HashMap<(Symbol, Interval), i64>,
    /// The newest trade time read, and when it was read.
    clock: Option<(DateTime<Utc>, Instant)>,
}

impl Bars {
    /// Adds a trade to its bar at each of `intervals`; a bar it rolls over
    /// goes to `closed`.
    pub fn add(&mut self, tick: &Tick, intervals: &[Interval], closed: &mut Vec<Candle>) {
        let (ts, units) = (
            tick.timestamp.timestamp_micros(),
            price_to_units(tick.price),
        );
        if self.clock.is_none_or(|(at, _)| at < tick.timestamp) {
            self.clock = Some((tick.timestamp, Instant::now()));
        }
        for &interval in intervals {
            let start = interval.bucket_start(ts);
            let key = (tick.symbol.clone(), interval);
            if self.sent.get(&key).is_some_and(|&sent| start <= sent) {
                continue;
            }
            match self.open.get_mut(&key) {
                Some(open) if open.start_micros == start => open.add(units, tick.volume),
                Some(open) if start < open.start_micros => {}
                Some(open) => {
                    let done =
                        std::mem::replace(open, CandleBuilder::new(start, units, tick.volume));
                    self.sent.insert(key.clone(), done.start_micros);
                    closed.push(done.to_candle(&tick.symbol, interval, true));
                }
                None => {
                    self.open
                        .insert(key, CandleBuilder::new(start, units, tick.volume));
                }
            }
        }
    }

    /// Closes, into `closed`, the bars whose end the market's clock has
    /// passed by [`GRACE`].
    pub fn close_due(&mut self, closed: &mut Vec<Candle>) {
        let Some((at, read)) = self.clock else {
            return;
        };
        let now = at + chrono::Duration::from_std(read.elapsed()).unwrap_or_default();
        let cutoff = (now - GRACE).timestamp_micros();
        let due: Vec<(Symbol, Interval)> = self
            .open
            .iter()
            .filter(|((_, interval), bar)| bar.start_micros + interval.micros() <= cutoff)
            .map(|(key, _)| key.clone())
            .collect();
        for key in due {
            if let Some(bar) = self.open.remove(&key) {
                self.sent.insert(key.clone(), bar.start_micros);
                closed.push(bar.to_candle(&key.0, key.1, true));
            }
        }
    }

    /// Whether a bar is open (the clock must be watched).
    pub fn any_open(&self) -> bool {
        !self.open.is_empty()
    }

    /// Forgets a symbol's bars at an interval (no longer subscribed).
    pub fn drop_symbol(&mut self, symbol: &Symbol, interval: Interval) {
        let key = (symbol.clone(), interval);
        self.open.remove(&key);
        self.sent.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick(at: &str, price: f64, volume: u64) -> Tick {
        let at = DateTime::parse_from_rfc3339(at)
            .unwrap()
            .with_timezone(&Utc);
        Tick::trade(Symbol::new("AAPL").unwrap(), price, volume, at)
    }

    #[test]
    fn a_bar_closes_when_a_later_trade_rolls_it_and_a_late_trade_stays_out() {
        let mut bars = Bars::default();
        let mut closed = Vec::new();
        let minute = [Interval::M1];
        bars.add(
            &tick("2026-12-03T14:30:05Z", 10.0, 100),
            &minute,
            &mut closed,
        );
        bars.add(
            &tick("2026-12-03T14:30:40Z", 12.0, 300),
            &minute,
            &mut closed,
        );
        assert!(closed.is_empty());
        bars.add(
            &tick("2026-12-03T14:31:01Z", 11.0, 50),
            &minute,
            &mut closed,
        );
        assert_eq!(closed.len(), 1);
        let bar = &closed[0];
        assert_eq!(
            (bar.open, bar.high, bar.low, bar.close),
            (10.0, 12.0, 10.0, 12.0)
        );
        assert_eq!((bar.volume, bar.trades, bar.vwap), (400, 2, 11.5));
        assert_eq!(bar.start.to_rfc3339(), "2026-12-03T14:30:00+00:00");
        // A trade of the minute already sent is left out of every bar.
        bars.add(&tick("2026-12-03T14:30:59Z", 99.0, 1), &minute, &mut closed);
        assert_eq!(closed.len(), 1);
        assert!(bars.any_open());
    }

    #[test]
    fn the_clock_closes_a_bar_no_later_trade_reaches() {
        let mut bars = Bars::default();
        let mut closed = Vec::new();
        bars.add(
            &tick("2026-12-03T14:30:05Z", 10.0, 100),
            &[Interval::S1],
            &mut closed,
        );
        bars.add(&tick("2026-12-03T14:30:05.5Z", 10.5, 100), &[], &mut closed);
        bars.close_due(&mut closed);
        // The clock (14:30:05.5) has not passed 14:30:06 by the grace yet.
        assert!(closed.is_empty());
        let other = Tick::trade(
            Symbol::new("MSFT").unwrap(),
            5.0,
            1,
            DateTime::parse_from_rfc3339("2026-12-03T14:30:07.1Z")
                .unwrap()
                .with_timezone(&Utc),
        );
        bars.add(&other, &[], &mut closed);
        bars.close_due(&mut closed);
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].close, 10.0);
        assert!(!bars.any_open());
    }
}
