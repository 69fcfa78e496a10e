//! `Quotes`: every symbol's last trade and session statistics, kept current
//! from the tick stream by the quote follower ([`follow_quotes`]).

use std::{collections::HashMap, sync::Arc};

use chrono::Datelike;
use parking_lot::RwLock;
use tokio_util::sync::CancellationToken;

use crate::{
    log::Reader,
    model::{EncodedTick, Quote, Symbol, Tick, price_to_units, units_to_price},
};

/// The quote follower: keeps `quotes` current from `reader`'s ticks until
/// `token` is cancelled.
pub async fn follow_quotes(
    reader: Reader<Arc<EncodedTick>>,
    quotes: Arc<RwLock<Quotes>>,
    token: CancellationToken,
) {
    reader
        .follow(4_096, &token, |batch| {
            let mut book = quotes.write();
            for record in batch {
                book.apply(record.tick());
            }
        })
        .await;
}

/// The latest [`Quote`] of every symbol seen. A session is a UTC day: the
/// first trade of a new day resets open, high, low and volume.
#[derive(Debug, Default)]
pub struct Quotes {
    by_symbol: HashMap<Symbol, Quote>,
    /// Σ price × volume of each symbol's session, for its VWAP.
    turnover: HashMap<Symbol, f64>,
}

impl Quotes {
    /// No symbols yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Folds a trade into its symbol's quote.
    pub fn apply(&mut self, tick: &Tick) {
        let new_session =
            |q: &Quote| q.timestamp.num_days_from_ce() != tick.timestamp.num_days_from_ce();
        match self.by_symbol.get_mut(&tick.symbol) {
            Some(q) if q.trades > 0 && !new_session(q) => {
                q.price = tick.price;
                q.bid = tick.bid;
                q.ask = tick.ask;
                q.high = q.high.max(tick.price);
                q.low = q.low.min(tick.price);
                q.volume += tick.volume;
                let turnover = self.turnover.entry(tick.symbol.clone()).or_default();
                *turnover += tick.price * tick.volume as f64;
                q.vwap = if q.volume == 0 {
                    tick.price
                } else {
                    *turnover / q.volume as f64
                };
                q.trades += 1;
                q.timestamp = q.timestamp.max(tick.timestamp);
                // In exact units, so the change prints as the grid allows (0.11, not 0.1100000001).
                q.change = units_to_price(price_to_units(tick.price) - price_to_units(q.open));
                q.change_percent = percent(q.change, q.open);
            }
            // First trade of the symbol or of its session; a seeded reference
            // price is replaced too, so open is the first real trade.
            _ => {
                self.turnover
                    .insert(tick.symbol.clone(), tick.price * tick.volume as f64);
                self.by_symbol.insert(
                    tick.symbol.clone(),
                    Quote {
                        symbol: tick.symbol.clone(),
                        price: tick.price,
                        bid: tick.bid,
                        ask: tick.ask,
                        open: tick.price,
                        high: tick.price,
                        low: tick.price,
                        change: 0.0,
                        change_percent: 0.0,
                        vwap: tick.price,
                        volume: tick.volume,
                        trades: 1,
                        timestamp: tick.timestamp,
                    },
                );
            }
        }
    }

    /// Lists a symbol before its first trade, at a reference price (e.g. a
    /// simulated symbol's starting price), with no volume.
    pub fn seed(&mut self, symbol: Symbol, price: f64, timestamp: chrono::DateTime<chrono::Utc>) {
        self.by_symbol.entry(symbol.clone()).or_insert(Quote {
            symbol,
            price,
            bid: None,
            ask: None,
            open: price,
            high: price,
            low: price,
            change: 0.0,
            change_percent: 0.0,
            vwap: price,
            volume: 0,
            trades: 0,
            timestamp,
        });
    }

    /// The quote of one symbol.
    pub fn get(&self, symbol: &str) -> Option<&Quote> {
        self.by_symbol.get(symbol)
    }

    /// Every quote, sorted by symbol.
    pub fn all(&self) -> Vec<Quote> {
        let mut all: Vec<Quote> = self.by_symbol.values().cloned().collect();
        all.sort_by(|a, b| a.symbol.cmp(&b.symbol));
        all
    }

    /// Whether a symbol has traded.
    pub fn contains(&self, symbol: &str) -> bool {
        self.by_symbol.contains_key(symbol)
    }
}

fn percent(change: f64, base: f64) -> f64 {
    if base == 0.0 {
        0.0
    } else {
        change / base * 100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::timestamp;

    fn tick(ts: &str, price: f64) -> Tick {
        Tick::trade(
            Symbol::new("MSFT").unwrap(),
            price,
            10,
            timestamp::parse(ts).unwrap(),
        )
    }

    #[test]
    fn tracks_session_change_and_range() {
        let mut q = Quotes::new();
        q.apply(&tick("2026-11-24T14:30:00Z", 400.0));
        q.apply(&tick("2026-11-24T14:31:00Z", 410.0));
        q.apply(&tick("2026-11-24T14:32:00Z", 396.0));
        let m = q.get("MSFT").unwrap();
        assert_eq!(
            (m.open, m.high, m.low, m.price),
            (400.0, 410.0, 396.0, 396.0)
        );
        assert_eq!((m.volume, m.trades), (30, 3));
        assert!((m.vwap - 402.0).abs() < 1e-9, "{}", m.vwap);
        assert!((m.change_percent - -1.0).abs() < 1e-9);
    }

    #[test]
    fn a_seeded_symbol_opens_at_its_first_trade() {
        let mut q = Quotes::new();
        q.seed(
            Symbol::new("MSFT").unwrap(),
            390.0,
            timestamp::parse("2026-11-24T14:00:00Z").unwrap(),
        );
        assert_eq!(q.get("MSFT").unwrap().trades, 0);
        q.apply(&tick("2026-11-24T14:30:00Z", 400.0));
        let m = q.get("MSFT").unwrap();
        assert_eq!((m.open, m.trades, m.change), (400.0, 1, 0.0));
    }

    #[test]
    fn a_new_utc_day_starts_a_new_session() {
        let mut q = Quotes::new();
        q.apply(&tick("2026-11-24T23:59:59Z", 400.0));
        q.apply(&tick("2026-11-25T00:00:01Z", 401.0));
        let m = q.get("MSFT").unwrap();
        assert_eq!((m.open, m.volume), (401.0, 10));
    }

    #[tokio::test]
    async fn the_follower_keeps_quotes_current_until_its_stage_stops() {
        use crate::{
            component::Context,
            log::{Log, LogSettings, Retention, Start},
            metrics::Metrics,
            model::EncodedTick,
        };
        let settings = LogSettings {
            topic_prefix: String::new(),
            partitions: 2,
            retention: Retention {
                max_records: 100,
                max_bytes: 1 << 20,
            },
        };
        let log = Arc::new(Log::new(&settings, &[]));
        let quotes = Arc::new(RwLock::new(Quotes::new()));
        let cx = Context::new(Arc::new(Metrics::new()), Arc::default());
        let reader = Reader::new(log.ticks.clone(), Start::Earliest);
        cx.spawn(
            "quote follower",
            follow_quotes(reader, quotes.clone(), cx.token.clone()),
        );
        log.ticks.append(Arc::new(EncodedTick::new(tick(
            "2026-11-24T14:30:00Z",
            401.5,
        ))));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while quotes.read().get("MSFT").is_none() {
            assert!(std::time::Instant::now() < deadline, "no quote within 5 s");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert_eq!(quotes.read().get("MSFT").unwrap().price, 401.5);
        cx.stop().await;
        assert!(cx.supervisor().exits().is_empty());
    }
}
