//! A client's copy of a symbol's order book, built from the `book` stream
//! as the README tells clients to, and the depth stream that feeds it
//! (shared by the daemon and Kafka tests).

use std::{collections::BTreeMap, time::Duration};

use serde_json::Value;

use super::Client;

/// A client's copy of one symbol's book, built from the `book` stream.
#[derive(Default)]
pub struct BookCopy {
    pub seq: u64,
    /// Price in millionths → size.
    pub bids: BTreeMap<i64, u64>,
    pub asks: BTreeMap<i64, u64>,
    /// The top of the book after each seq.
    pub tops: BTreeMap<u64, (f64, u64, f64, u64)>,
    /// A seq to keep the book at, and the book kept there.
    pub keep: Option<u64>,
    pub kept: Option<(BTreeMap<i64, u64>, BTreeMap<i64, u64>)>,
}

fn units(price: &Value) -> i64 {
    (price.as_f64().unwrap() * 1e6).round() as i64
}

impl BookCopy {
    /// Applies a `book` record, asserting the stream's invariants: a record
    /// follows the last by one unless it is a snapshot; never crossed; at
    /// most ten levels a side.
    pub fn apply(&mut self, record: &Value) {
        let seq = record["seq"].as_u64().unwrap();
        if record["snapshot"] == true {
            self.bids.clear();
            self.asks.clear();
        } else {
            assert_eq!(seq, self.seq + 1, "the stream's seq skipped: {record}");
        }
        self.seq = seq;
        for (side, levels) in [
            (&mut self.bids, &record["bids"]),
            (&mut self.asks, &record["asks"]),
        ] {
            for level in levels.as_array().unwrap() {
                let size = level["size"].as_u64().unwrap();
                if size == 0 {
                    side.remove(&units(&level["price"]));
                } else {
                    side.insert(units(&level["price"]), size);
                }
            }
        }
        let (bid, ask) = (
            self.bids.last_key_value().unwrap(),
            self.asks.first_key_value().unwrap(),
        );
        assert!(bid.0 < ask.0, "crossed at seq {seq}: {record}");
        assert!(self.bids.len() <= 10 && self.asks.len() <= 10);
        if self.keep == Some(seq) {
            self.kept = Some((self.bids.clone(), self.asks.clone()));
        }
        self.tops.insert(
            seq,
            (*bid.0 as f64 / 1e6, *bid.1, *ask.0 as f64 / 1e6, *ask.1),
        );
    }

    /// Asserts that the book kept at `keep` is `snapshot` (a REST answer).
    pub fn same_as(&self, snapshot: &Value) {
        let side = |levels: &Value| -> BTreeMap<i64, u64> {
            levels
                .as_array()
                .unwrap()
                .iter()
                .map(|l| (units(&l["price"]), l["size"].as_u64().unwrap()))
                .collect()
        };
        let (bids, asks) = self
            .kept
            .as_ref()
            .expect("the book kept at the snapshot's seq");
        assert_eq!(bids, &side(&snapshot["bids"]), "bids of {snapshot}");
        assert_eq!(asks, &side(&snapshot["asks"]), "asks of {snapshot}");
    }
}

/// What a client subscribed to one symbol's depth (and its ticks) receives:
/// its book copy, its quotes and its ticks.
pub struct DepthStream {
    symbol: &'static str,
    pub book: BookCopy,
    pub quotes: Vec<Value>,
    pub ticks: Vec<Value>,
}

impl DepthStream {
    /// An empty stream of `symbol`.
    pub fn new(symbol: &'static str) -> Self {
        Self {
            symbol,
            book: BookCopy::default(),
            quotes: Vec::new(),
            ticks: Vec::new(),
        }
    }

    /// Takes received frames: book records are applied (the first must be
    /// a snapshot), quotes and ticks kept; a gap fails.
    pub fn take(&mut self, frames: Vec<Value>) {
        for frame in frames {
            match frame["type"].as_str().unwrap() {
                "book" => {
                    for record in frame["data"].as_array().unwrap() {
                        assert_eq!(record["symbol"], self.symbol);
                        if self.book.seq == 0 {
                            assert_eq!(record["snapshot"], true, "the stream starts whole");
                        }
                        self.book.apply(record);
                    }
                }
                "quotes" => self
                    .quotes
                    .extend(frame["data"].as_array().unwrap().iter().cloned()),
                "ticks" => self
                    .ticks
                    .extend(frame["data"].as_array().unwrap().iter().cloned()),
                "gap" => panic!("unexpected gap {frame}"),
                _ => {}
            }
        }
    }

    /// Reads `client` until `done`, failing after `within` with `what`.
    pub async fn read_until(
        &mut self,
        client: &mut Client,
        within: Duration,
        what: &str,
        done: impl Fn(&Self) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + within;
        while !done(self) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "not within {within:?}: {what} ({} book records)",
                self.book.tops.len()
            );
            self.take(client.collect_frames(Duration::from_millis(100)).await);
        }
    }

    /// Reads `client` until the copy reaches the seq of `rest` (the
    /// symbol's `GET /api/v1/book`, which the stream never runs ahead of),
    /// then asserts the copy then was that book.
    pub async fn matches(&mut self, client: &mut Client, rest: &Value) {
        assert_eq!(rest["snapshot"], true);
        let at = rest["seq"].as_u64().unwrap();
        assert!(
            self.book.seq <= at,
            "the stream ran ahead of the engine's book"
        );
        self.book.keep = Some(at);
        if self.book.seq == at {
            self.book.kept = Some((self.book.bids.clone(), self.book.asks.clone()));
        }
        let what = format!("the stream reaches seq {at}");
        self.read_until(client, Duration::from_secs(10), &what, |s| {
            s.book.kept.is_some()
        })
        .await;
        self.book.same_as(rest);
    }
}
