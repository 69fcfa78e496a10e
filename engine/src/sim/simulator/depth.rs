//! The market's depth: a [`LimitBook`] per symbol once
//! [`Simulator::enable_book`] is called, refreshed to the price model
//! before each continuous trade and taken from by it, and what changed as
//! `OrderBook` records and `TopOfBook` quotes for [`Simulator::take_book`].

use chrono::{DateTime, Utc};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::{Listed, Simulator};
use crate::{
    model::{BookLevel, OrderBook, TopOfBook},
    sim::book::{Level, LimitBook, Touch, changes},
};

/// A symbol's book is published whole once in this many records, so a
/// consumer that joins a Kafka topic mid-stream has one to start from.
const SNAPSHOT_EVERY: u64 = 512;
/// Target shares at the touch, in units of the smallest trade size: a
/// few typical trades, so most trades take only the touch.
pub(super) const TOUCH_TRADES: f64 = 20.0;

/// The books and what they published since the last `take_book`.
pub(super) struct Depth {
    books: Vec<LimitBook>,
    /// Each symbol's last `seq` (0: no record yet).
    seqs: Vec<u64>,
    /// The last quote published per symbol.
    tops: Vec<Option<(Level, Level)>>,
    rng: Xoshiro256PlusPlus,
    /// A book as it was before the trade being simulated.
    before: LimitBook,
    /// The levels that changed on one side (reused).
    changed: Vec<Level>,
    updates: Vec<OrderBook>,
    quotes: Vec<TopOfBook>,
}

impl Depth {
    pub(super) fn new(symbols: usize, seed: u64) -> Self {
        Self {
            books: vec![LimitBook::default(); symbols],
            seqs: vec![0; symbols],
            tops: vec![None; symbols],
            // A stream apart from the trades', so the book leaves them as they are.
            rng: Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x626f_6f6b_6465_7074),
            before: LimitBook::default(),
            changed: Vec::with_capacity(2 * crate::model::BOOK_DEPTH),
            updates: Vec::new(),
            quotes: Vec::new(),
        }
    }

    /// Refreshes symbol `index`'s book to `touch` and takes `volume` shares
    /// from the side a buy (`buy`) or sell hits; returns the price reached,
    /// in ticks, and publishes what changed.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn trade(
        &mut self,
        index: usize,
        listed: &Listed,
        touch: Touch,
        buy: bool,
        volume: u64,
        now: f64,
        timestamp: DateTime<Utc>,
    ) -> i64 {
        let book = &mut self.books[index];
        self.before = *book;
        book.refresh(touch, now, &mut self.rng);
        let touched = if buy { touch.ask } else { touch.bid };
        let price = book.take(buy, volume).unwrap_or(touched);
        let steps = listed.steps_per_unit;
        let seq = self.seqs[index] + 1;
        self.seqs[index] = seq;
        let snapshot = seq % SNAPSHOT_EVERY == 1;
        let changed = &mut self.changed;
        let mut levels = |before: &[Level], after: &[Level], bids: bool| {
            changed.clear();
            if !snapshot {
                changes(before, after, bids, changed);
            }
            let levels = if snapshot { after } else { &changed[..] };
            levels
                .iter()
                .map(|l| BookLevel {
                    price: l.price as f64 / steps,
                    size: l.size,
                })
                .collect()
        };
        self.updates.push(OrderBook {
            symbol: listed.symbol.clone(),
            seq,
            snapshot,
            bids: levels(self.before.bids(), book.bids(), true),
            asks: levels(self.before.asks(), book.asks(), false),
            timestamp,
        });
        let top = book.top();
        if top != self.tops[index]
            && let Some((bid, ask)) = top
        {
            self.quotes.push(TopOfBook {
                symbol: listed.symbol.clone(),
                bid: bid.price as f64 / steps,
                bid_size: bid.size,
                ask: ask.price as f64 / steps,
                ask_size: ask.size,
                seq,
                timestamp,
            });
        }
        self.tops[index] = top;
        price
    }
}

impl Simulator {
    /// Simulates each symbol's order book from its next trade on: trades
    /// then take liquidity from it, and its changes and quotes wait for
    /// [`take_book`](Self::take_book), which must then be called as the
    /// simulator runs. Trades are the same with the book as without it but
    /// for the price of a trade that walks the book past the touch.
    pub fn enable_book(&mut self) {
        if self.depth.is_none() {
            self.depth = Some(Depth::new(self.listed.len(), self.book_seed));
        }
    }

    /// Moves the book records and quotes produced since the last call to
    /// the ends of `updates` and `quotes`.
    pub fn take_book(&mut self, updates: &mut Vec<OrderBook>, quotes: &mut Vec<TopOfBook>) {
        if let Some(depth) = &mut self.depth {
            updates.append(&mut depth.updates);
            quotes.append(&mut depth.quotes);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::DateTime;

    use super::*;
    use crate::{
        model::{Symbol, Tick},
        sim::{Calendar, Correlations, Model, Output, SimSettings, default_universe},
    };

    fn market(book: bool) -> Simulator {
        let mut simulator = Simulator::new(
            &default_universe(),
            &SimSettings {
                seed: 11,
                rate: 200.0,
                model: Model::Realistic,
                correlations: Correlations::default(),
                calendar: Calendar::nyse(true),
                // A Monday, 08:00 UTC: pre-market, the open, the session.
                start: DateTime::from_timestamp(1_767_600_000, 0).unwrap(),
            },
        );
        if book {
            simulator.enable_book();
        }
        simulator
    }

    /// A client's copy of a book: price (as published) → size, per side.
    #[derive(Default)]
    struct Copy {
        seq: u64,
        bids: BTreeMap<i64, u64>,
        asks: BTreeMap<i64, u64>,
    }

    fn key(price: f64) -> i64 {
        (price * 1e6).round() as i64
    }

    impl Copy {
        fn apply(&mut self, record: &OrderBook) {
            if record.snapshot {
                self.bids.clear();
                self.asks.clear();
            } else {
                assert_eq!(record.seq, self.seq + 1, "{}: a gap", record.symbol);
            }
            self.seq = record.seq;
            for (side, levels) in [
                (&mut self.bids, &record.bids),
                (&mut self.asks, &record.asks),
            ] {
                for level in levels {
                    if level.size == 0 {
                        assert!(
                            side.remove(&key(level.price)).is_some(),
                            "removed an absent level"
                        );
                    } else {
                        side.insert(key(level.price), level.size);
                    }
                }
            }
            let (bid, ask) = (self.bids.last_key_value(), self.asks.first_key_value());
            if let (Some((bid, _)), Some((ask, _))) = (bid, ask) {
                assert!(bid < ask, "{} crossed at seq {}", record.symbol, record.seq);
            }
        }
    }

    #[test]
    fn the_book_leaves_trades_alone_and_its_records_rebuild_it() {
        let (mut plain, mut deep) = (market(false), market(true));
        let mut copies: BTreeMap<Symbol, Copy> = BTreeMap::new();
        let (mut updates, mut quotes) = (Vec::new(), Vec::new());
        let (mut trades, mut walked) = (0, 0);
        for _ in 0..200_000 {
            let (a, b) = (plain.next_output(), deep.next_output());
            deep.take_book(&mut updates, &mut quotes);
            let mut last_quote: BTreeMap<Symbol, TopOfBook> = BTreeMap::new();
            for quote in quotes.drain(..) {
                last_quote.insert(quote.symbol.clone(), quote);
            }
            for record in updates.drain(..) {
                let copy = copies.entry(record.symbol.clone()).or_default();
                if copy.seq == 0 {
                    assert!(record.snapshot, "a book starts with a snapshot");
                }
                copy.apply(&record);
                if let Some(quote) = last_quote.get(&record.symbol) {
                    assert_eq!(quote.seq, record.seq);
                    let (bid, ask) = (
                        copy.bids.last_key_value().unwrap(),
                        copy.asks.first_key_value().unwrap(),
                    );
                    assert_eq!((key(quote.bid), quote.bid_size), (*bid.0, *bid.1));
                    assert_eq!((key(quote.ask), quote.ask_size), (*ask.0, *ask.1));
                }
            }
            match (a, b) {
                (Output::Tick(a), Output::Tick(b)) if b.condition.is_none() => {
                    trades += 1;
                    let (bid, ask) = (b.bid.unwrap(), b.ask.unwrap());
                    assert!(
                        b.price >= ask || b.price <= bid,
                        "{b:?} not at or through the touch"
                    );
                    if b.price != a.price {
                        walked += 1;
                    }
                    assert_eq!(
                        Tick {
                            price: a.price,
                            ..b
                        },
                        a,
                        "only the price may differ"
                    );
                }
                (a, b) => assert_eq!(a, b),
            }
        }
        assert!(trades > 150_000, "{trades} trades");
        // Large trades walk the book; most take only the touch.
        assert!(
            walked > 0 && walked < trades / 20,
            "{walked} of {trades} walked"
        );
        // The copies are the engine's books.
        let depth = deep.depth.as_ref().unwrap();
        for (index, listed) in deep.listed.iter().enumerate() {
            let copy = &copies[&listed.symbol];
            let book = &depth.books[index];
            let steps = listed.steps_per_unit;
            let price = |ticks: i64| key(ticks as f64 / steps);
            let bids: BTreeMap<i64, u64> = book
                .bids()
                .iter()
                .map(|l| (price(l.price), l.size))
                .collect();
            let asks: BTreeMap<i64, u64> = book
                .asks()
                .iter()
                .map(|l| (price(l.price), l.size))
                .collect();
            assert_eq!(copy.bids, bids, "{}", listed.symbol);
            assert_eq!(copy.asks, asks, "{}", listed.symbol);
            // Whole but for what the symbol's last trade took.
            let (bids, asks) = (book.bids().len(), book.asks().len());
            assert!(
                bids + asks >= 2 * crate::model::BOOK_DEPTH - 4,
                "{}: {bids} bids and {asks} asks",
                listed.symbol
            );
        }
    }
}
