//! The messages of Polygon's (Massive's) stocks WebSocket, as the
//! compatible endpoint `/compat/polygon/stocks` speaks them: the client's
//! actions and the server's events, JSON, with Polygon's field names.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What a client sends: `{"action":"auth","params":KEY}`, or a
/// comma-separated list of `CHANNEL.SYMBOL` to subscribe or unsubscribe
/// (`"T.AAPL,Q.*"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "action", rename_all = "lowercase")]
#[ts(export)]
pub enum PolygonAction {
    /// Authenticate with an API key.
    Auth {
        /// The key.
        params: String,
    },
    /// Start the listed subscriptions.
    Subscribe {
        /// `CHANNEL.SYMBOL`, comma-separated.
        params: String,
    },
    /// End the listed subscriptions.
    Unsubscribe {
        /// `CHANNEL.SYMBOL`, comma-separated.
        params: String,
    },
}

/// One element of a server frame (a frame is a JSON array of them), told
/// apart by `ev`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "ev")]
#[ts(export)]
pub enum PolygonEvent {
    /// The connection's state, or the answer to an action.
    #[serde(rename = "status")]
    Status(PolygonStatus),
    /// A trade.
    #[serde(rename = "T")]
    Trade(PolygonTrade),
    /// A change of the best bid or offer.
    #[serde(rename = "Q")]
    Quote(PolygonQuote),
    /// A one-second aggregate.
    #[serde(rename = "A")]
    Second(PolygonAggregate),
    /// A one-minute aggregate.
    #[serde(rename = "AM")]
    Minute(PolygonAggregate),
    /// A symbol's limit-up/limit-down price band.
    #[serde(rename = "LULD")]
    Luld(PolygonLuld),
    /// An auction's net order imbalance.
    #[serde(rename = "NOI")]
    Imbalance(PolygonImbalance),
}

/// A status message: `connected`, `auth_success`, `auth_failed`,
/// `success` (a subscription changed) or `error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PolygonStatus {
    /// The state.
    pub status: String,
    /// What it means.
    pub message: String,
}

/// A trade (`T`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PolygonTrade {
    /// Ticker symbol.
    pub sym: String,
    /// Trade ID, unique in the stream.
    pub i: String,
    /// Price.
    pub p: f64,
    /// Shares.
    pub s: u64,
    /// Unix time in milliseconds.
    pub t: i64,
    /// Sequence number: increasing per symbol.
    pub q: u64,
}

/// The best bid and offer (`Q`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PolygonQuote {
    /// Ticker symbol.
    pub sym: String,
    /// Bid price.
    pub bp: f64,
    /// Bid size, shares.
    pub bs: u64,
    /// Ask price.
    pub ap: f64,
    /// Ask size, shares.
    #[serde(rename = "as")]
    pub as_: u64,
    /// Unix time in milliseconds.
    pub t: i64,
    /// Sequence number: the symbol's book sequence.
    pub q: u64,
}

/// An aggregate over one second (`A`) or minute (`AM`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PolygonAggregate {
    /// Ticker symbol.
    pub sym: String,
    /// Shares traded in the window.
    pub v: u64,
    /// Shares traded today.
    pub av: u64,
    /// Today's opening price.
    pub op: f64,
    /// The window's volume-weighted average price.
    pub vw: f64,
    /// The window's first price.
    pub o: f64,
    /// The window's last price.
    pub c: f64,
    /// The window's highest price.
    pub h: f64,
    /// The window's lowest price.
    pub l: f64,
    /// Today's volume-weighted average price.
    pub a: f64,
    /// The window's average trade size, shares.
    pub z: u64,
    /// The window's start, Unix milliseconds.
    pub s: i64,
    /// The window's end, Unix milliseconds.
    pub e: i64,
}

/// A limit-up/limit-down band (`LULD`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PolygonLuld {
    /// Ticker symbol.
    #[serde(rename = "T")]
    pub symbol: String,
    /// The limit-up price.
    pub h: f64,
    /// The limit-down price.
    pub l: f64,
    /// Unix time in milliseconds.
    pub t: i64,
}

/// An auction's net order imbalance (`NOI`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PolygonImbalance {
    /// Ticker symbol.
    #[serde(rename = "T")]
    pub symbol: String,
    /// Unix time in milliseconds.
    pub t: i64,
    /// Shares left unmatched: positive to buy, negative to sell.
    pub o: i64,
    /// Shares matched at the clearing price.
    pub p: u64,
    /// The price the auction would cross at now.
    pub b: f64,
}
