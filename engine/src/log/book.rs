//! `BookTopic`: the `order_book` topic together with the books its records
//! build, appended under one lock, so a snapshot taken from it always
//! matches a position in the topic: a reader that starts at the topic's end
//! when the snapshot is taken misses nothing and repeats nothing.

use std::{collections::HashMap, sync::Arc};

use chrono::{DateTime, Utc};
use parking_lot::Mutex;

use super::{Reader, Retention, Start, Topic};
use crate::model::{BookLevel, MAX_BOOK_LEVELS, OrderBook, Symbol, price_to_units};

/// A symbol's book as its records built it.
struct Book {
    seq: u64,
    timestamp: DateTime<Utc>,
    bids: Vec<BookLevel>,
    asks: Vec<BookLevel>,
    /// False after a record was missed, until the next snapshot.
    whole: bool,
}

impl Book {
    fn apply(&mut self, record: &OrderBook) {
        if record.snapshot {
            self.bids.clone_from(&record.bids);
            self.asks.clone_from(&record.asks);
            self.bids.truncate(MAX_BOOK_LEVELS);
            self.asks.truncate(MAX_BOOK_LEVELS);
            self.whole = true;
        } else if self.whole && record.seq == self.seq + 1 {
            change(&mut self.bids, &record.bids, true);
            change(&mut self.asks, &record.asks, false);
        } else {
            self.whole = false;
        }
        self.seq = record.seq;
        self.timestamp = record.timestamp;
    }

    fn snapshot(&self, symbol: &Symbol, depth: usize) -> Option<OrderBook> {
        self.whole.then(|| OrderBook {
            symbol: symbol.clone(),
            seq: self.seq,
            snapshot: true,
            bids: self.bids.iter().take(depth).copied().collect(),
            asks: self.asks.iter().take(depth).copied().collect(),
            timestamp: self.timestamp,
        })
    }
}

/// Applies an update's levels to one side, kept best first.
fn change(side: &mut Vec<BookLevel>, levels: &[BookLevel], bids: bool) {
    for level in levels {
        let units = price_to_units(level.price);
        let at = side.iter().position(|l| price_to_units(l.price) == units);
        match (at, level.size) {
            (Some(i), 0) => {
                side.remove(i);
            }
            (Some(i), _) => side[i].size = level.size,
            (None, 0) => {}
            (None, _) => {
                let i = side.partition_point(|l| {
                    let other = price_to_units(l.price);
                    if bids { other > units } else { other < units }
                });
                side.insert(i, *level);
                side.truncate(MAX_BOOK_LEVELS);
            }
        }
    }
}

/// The `order_book` topic and its books; see the module docs.
pub struct BookTopic {
    topic: Arc<Topic<Arc<OrderBook>>>,
    books: Mutex<HashMap<Symbol, Book>>,
}

impl BookTopic {
    /// An empty topic of `partitions` keyed by symbol.
    pub fn new(name: String, partitions: u32, retention: Retention) -> Self {
        Self {
            topic: Arc::new(Topic::new(name, partitions, retention, &[])),
            books: Mutex::default(),
        }
    }

    /// The topic, for readers.
    pub fn topic(&self) -> &Arc<Topic<Arc<OrderBook>>> {
        &self.topic
    }

    /// Applies `records` to the books and appends them to the topic.
    pub fn append_batch(&self, records: impl IntoIterator<Item = Arc<OrderBook>>) {
        let mut books = self.books.lock();
        self.topic
            .append_batch(records.into_iter().inspect(|record| {
                books
                    .entry(record.symbol.clone())
                    .or_insert_with(|| Book {
                        seq: 0,
                        timestamp: record.timestamp,
                        bids: Vec::new(),
                        asks: Vec::new(),
                        whole: false,
                    })
                    .apply(record);
            }));
    }

    /// `symbol`'s book, up to `depth` levels a side, as of the topic's end;
    /// `None` before its first snapshot or after a record was missed.
    pub fn snapshot(&self, symbol: &Symbol, depth: usize) -> Option<OrderBook> {
        self.books.lock().get(symbol)?.snapshot(symbol, depth)
    }

    /// The books of `symbols` (every symbol with a book when `None`) as of
    /// the topic's end, and, when `reader` is `None`, a new reader there.
    pub fn snapshots(
        &self,
        symbols: Option<&[Symbol]>,
        reader: &mut Option<Reader<Arc<OrderBook>>>,
    ) -> Vec<OrderBook> {
        let books = self.books.lock();
        reader.get_or_insert_with(|| Reader::new(self.topic.clone(), Start::Latest));
        match symbols {
            Some(symbols) => symbols
                .iter()
                .filter_map(|s| books.get(s)?.snapshot(s, MAX_BOOK_LEVELS))
                .collect(),
            None => books
                .iter()
                .filter_map(|(s, book)| book.snapshot(s, MAX_BOOK_LEVELS))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(
        seq: u64,
        snapshot: bool,
        bids: &[(f64, u64)],
        asks: &[(f64, u64)],
    ) -> Arc<OrderBook> {
        let levels = |l: &[(f64, u64)]| {
            l.iter()
                .map(|&(price, size)| BookLevel { price, size })
                .collect()
        };
        Arc::new(OrderBook {
            symbol: Symbol::new("X").unwrap(),
            seq,
            snapshot,
            bids: levels(bids),
            asks: levels(asks),
            timestamp: Utc::now(),
        })
    }

    fn topic() -> BookTopic {
        BookTopic::new(
            "order_book".into(),
            2,
            Retention {
                max_records: 100,
                max_bytes: 1 << 20,
            },
        )
    }

    #[test]
    fn updates_change_the_snapshot_and_a_missed_one_voids_it() {
        let x = Symbol::new("X").unwrap();
        let book = topic();
        book.append_batch([record(
            1,
            true,
            &[(9.99, 100), (9.98, 200)],
            &[(10.01, 300)],
        )]);
        book.append_batch([record(
            2,
            false,
            &[(9.99, 0), (9.97, 50), (10.0, 10)],
            &[(10.01, 200)],
        )]);
        let snapshot = book.snapshot(&x, 10).unwrap();
        assert_eq!(snapshot.seq, 2);
        let prices: Vec<(f64, u64)> = snapshot.bids.iter().map(|l| (l.price, l.size)).collect();
        assert_eq!(prices, [(10.0, 10), (9.98, 200), (9.97, 50)]);
        assert_eq!(snapshot.asks[0].size, 200);
        assert_eq!(book.snapshot(&x, 1).unwrap().bids.len(), 1);
        // Seq 3 never came: no snapshot until the next whole book.
        book.append_batch([record(4, false, &[], &[(10.02, 1)])]);
        assert!(book.snapshot(&x, 10).is_none());
        book.append_batch([record(5, true, &[(9.9, 1)], &[(10.1, 1)])]);
        assert_eq!(book.snapshot(&x, 10).unwrap().seq, 5);
    }

    #[test]
    fn a_reader_made_with_the_snapshots_starts_right_after_them() {
        let book = topic();
        book.append_batch([record(1, true, &[(1.0, 1)], &[(2.0, 1)])]);
        let mut reader = None;
        let snapshots = book.snapshots(None, &mut reader);
        assert_eq!(snapshots.len(), 1);
        book.append_batch([record(2, false, &[(1.0, 5)], &[])]);
        let mut seqs = Vec::new();
        reader
            .unwrap()
            .read_with(10, |_, _| {}, |_, _, r| seqs.push(r.seq));
        assert_eq!(seqs, [2]);
    }
}
