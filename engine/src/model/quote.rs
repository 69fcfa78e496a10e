//! `Quote`: a symbol's latest state, as listed by `GET /api/v1/symbols`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use super::Symbol;

/// A symbol's last trade and its session so far.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema, async_graphql::SimpleObject,
)]
#[ts(export)]
pub struct Quote {
    /// Ticker symbol.
    #[ts(type = "string")]
    pub symbol: Symbol,
    /// Last trade price.
    pub price: f64,
    /// Best bid at the last trade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub bid: Option<f64>,
    /// Best ask at the last trade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub ask: Option<f64>,
    /// First trade price of the session (UTC day).
    pub open: f64,
    /// Highest trade price of the session.
    pub high: f64,
    /// Lowest trade price of the session.
    pub low: f64,
    /// `price - open`.
    pub change: f64,
    /// `change / open` in percent.
    pub change_percent: f64,
    /// Volume-weighted average price of the session's trades.
    pub vwap: f64,
    /// Shares traded in the session.
    pub volume: u64,
    /// Trades in the session.
    pub trades: u64,
    /// Time of the last trade.
    #[serde(with = "super::timestamp")]
    #[ts(type = "string")]
    pub timestamp: DateTime<Utc>,
}
