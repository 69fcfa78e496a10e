//! A client's copy of a symbol's order book, built from the `book` stream
//! as the README tells clients to (shared by the daemon and Kafka tests).

use std::collections::BTreeMap;

use serde_json::Value;

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
