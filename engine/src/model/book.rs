//! Market depth on the wire: `OrderBook` (a symbol's price levels, whole or
//! the levels that changed, numbered per symbol) and `TopOfBook` (the best
//! bid and ask with their sizes), the records of `order_book` and
//! `stock_quotes`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use super::{
    Symbol,
    range::{self, OutOfRange},
};

/// Most price levels a book carries per side.
pub const BOOK_DEPTH: usize = 10;

/// Most price levels a side of a book record read from outside (another
/// producer's, on Kafka) may carry.
pub const MAX_BOOK_LEVELS: usize = 100;

/// One price level: the shares resting at a price.
#[derive(
    Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS, ToSchema, async_graphql::SimpleObject,
)]
#[ts(export)]
pub struct BookLevel {
    /// The level's price, on the symbol's tick grid.
    pub price: f64,
    /// Shares resting at the price; in an update, 0 removes the level.
    pub size: u64,
}

/// A symbol's order book: the record of `order_book`.
///
/// A snapshot (`snapshot: true`) is the whole book, up to ten levels a side,
/// best first. An update lists only the levels that changed, each with its
/// new size (0: the level is gone). `seq` counts the symbol's book records,
/// snapshots included, one by one: applying the records in `seq` order to a
/// snapshot rebuilds the engine's book, and a `seq` that is not one more
/// than the last means records were missed: take a new snapshot
/// (resubscribe, or `GET /api/v1/book`).
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema, async_graphql::SimpleObject,
)]
#[ts(export)]
pub struct OrderBook {
    /// Ticker symbol.
    #[ts(type = "string")]
    pub symbol: Symbol,
    /// The symbol's book sequence number.
    pub seq: u64,
    /// Whether this is the whole book rather than the changed levels.
    pub snapshot: bool,
    /// Bid levels, highest price first.
    pub bids: Vec<BookLevel>,
    /// Ask levels, lowest price first.
    pub asks: Vec<BookLevel>,
    /// Market time of the change, UTC, RFC 3339 with microseconds.
    #[serde(with = "super::timestamp")]
    #[ts(type = "string")]
    pub timestamp: DateTime<Utc>,
}

/// The best bid and ask of a symbol and the shares at each: the record of
/// `stock_quotes`, published when either changes.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema, async_graphql::SimpleObject,
)]
#[ts(export)]
pub struct TopOfBook {
    /// Ticker symbol.
    #[ts(type = "string")]
    pub symbol: Symbol,
    /// Best bid price.
    pub bid: f64,
    /// Shares at the best bid.
    pub bid_size: u64,
    /// Best ask price.
    pub ask: f64,
    /// Shares at the best ask.
    pub ask_size: u64,
    /// The book's `seq` this quote holds at.
    pub seq: u64,
    /// Market time of the change, UTC, RFC 3339 with microseconds.
    #[serde(with = "super::timestamp")]
    #[ts(type = "string")]
    pub timestamp: DateTime<Utc>,
}

impl OrderBook {
    /// Checks that the record holds what a market could have: at most
    /// [`MAX_BOOK_LEVELS`] a side, prices positive and finite, sizes and
    /// the time in range.
    ///
    /// # Errors
    /// [`OutOfRange`] naming the field.
    pub fn check_range(&self) -> Result<(), OutOfRange> {
        for (field, levels) in [("bids", &self.bids), ("asks", &self.asks)] {
            if levels.len() > MAX_BOOK_LEVELS {
                return Err(OutOfRange {
                    field,
                    message: format!("{} levels; at most {MAX_BOOK_LEVELS}", levels.len()),
                });
            }
        }
        for level in &self.bids {
            range::price("bids.price", level.price)?;
            range::shares("bids.size", level.size)?;
        }
        for level in &self.asks {
            range::price("asks.price", level.price)?;
            range::shares("asks.size", level.size)?;
        }
        range::time("timestamp", self.timestamp)
    }
}

impl TopOfBook {
    /// Checks that the quote holds what a market could have.
    ///
    /// # Errors
    /// [`OutOfRange`] naming the field.
    pub fn check_range(&self) -> Result<(), OutOfRange> {
        range::price("bid", self.bid)?;
        range::price("ask", self.ask)?;
        range::shares("bid_size", self.bid_size)?;
        range::shares("ask_size", self.ask_size)?;
        range::time("timestamp", self.timestamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_no_market_has_are_refused_with_the_field_named() {
        let at = super::super::timestamp::parse("2026-11-24T14:30:00Z").unwrap();
        let level = |price, size| BookLevel { price, size };
        let mut book = OrderBook {
            symbol: Symbol::new("AAPL").unwrap(),
            seq: 1,
            snapshot: true,
            bids: vec![level(189.36, 100)],
            asks: vec![level(189.38, 0)],
            timestamp: at,
        };
        assert_eq!(book.check_range(), Ok(()));
        book.asks.push(level(f64::INFINITY, 1));
        assert_eq!(book.check_range().unwrap_err().field, "asks.price");
        book.asks.pop();
        book.bids = vec![level(1.0, 1); MAX_BOOK_LEVELS + 1];
        let error = book.check_range().unwrap_err();
        assert_eq!(error.to_string(), "bids: 101 levels; at most 100");
        let quote = TopOfBook {
            symbol: Symbol::new("AAPL").unwrap(),
            bid: 189.36,
            bid_size: u64::MAX,
            ask: 189.38,
            ask_size: 100,
            seq: 1,
            timestamp: at,
        };
        assert_eq!(quote.check_range().unwrap_err().field, "bid_size");
    }

    #[test]
    fn wire_format() {
        let at = super::super::timestamp::parse("2026-11-24T14:30:00.000001Z").unwrap();
        let book = OrderBook {
            symbol: Symbol::new("AAPL").unwrap(),
            seq: 7,
            snapshot: false,
            bids: vec![BookLevel {
                price: 189.36,
                size: 0,
            }],
            asks: vec![],
            timestamp: at,
        };
        assert_eq!(
            serde_json::to_string(&book).unwrap(),
            r#"{"symbol":"AAPL","seq":7,"snapshot":false,"bids":[{"price":189.36,"size":0}],"asks":[],"timestamp":"2026-11-24T14:30:00.000001Z"}"#
        );
    }
}
