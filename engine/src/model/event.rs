//! `MarketEvent` (the `market_events` topic) and `SystemMetric` (the
//! `system_metrics` topic).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use super::Symbol;

/// What a market event is about.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema, async_graphql::Enum,
)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum EventKind {
    /// A trading session opened.
    SessionOpen,
    /// A trading session closed.
    SessionClose,
    /// Trading in a symbol was halted.
    Halt,
    /// Trading in a halted symbol resumed.
    Resume,
    /// News moved a symbol or the market.
    News,
    /// An alert rule fired.
    Alert,
    /// A source or sink connected, disconnected or changed state.
    Connection,
    /// A flash crash began or its recovery ended.
    FlashCrash,
    /// The market's volatility regime changed.
    RegimeChange,
    /// Money began or finished moving from one sector to another.
    SectorRotation,
    /// A symbol's price reached a limit-up/limit-down band (`lower_band`,
    /// `upper_band`) and trades are held at it, or it left the band's edge
    /// (level `info`); fifteen seconds at the edge pause trading.
    LimitState,
    /// The short-sale restriction (SEC Rule 201) took effect after a 10 %
    /// fall from the previous close: short sales only above the best bid,
    /// for the rest of the day and the next.
    ShortSaleRestriction,
    /// The imbalance of an opening or closing auction before it crosses
    /// (`paired_shares`, `imbalance_shares`, `indicative_price`).
    AuctionImbalance,
    /// A replay played the last tick of its range (on a replay's stream
    /// only).
    ReplayCompleted,
    /// A replay's clock was moved: its stream starts afresh from there (on
    /// a replay's stream only).
    ReplaySeeked,
}

/// Why trading in a symbol was halted (with the Nasdaq/SIP halt code).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema, async_graphql::Enum,
)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum HaltReason {
    /// A limit-up/limit-down trading pause, five minutes (`LUDP`).
    LuldPause,
    /// News pending (`T1`): the simulator's halt scenario.
    NewsPending,
}

/// How much attention an event needs.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema, async_graphql::Enum,
)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum EventLevel {
    /// For the record.
    Info,
    /// Worth a look.
    Warning,
    /// Needs action.
    Critical,
}

/// One message of the `market_events` topic.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema, async_graphql::SimpleObject,
)]
#[ts(export)]
pub struct MarketEvent {
    /// What happened.
    pub kind: EventKind,
    /// How serious it is.
    pub level: EventLevel,
    /// The symbol concerned; absent for market-wide events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "string")]
    pub symbol: Option<Symbol>,
    /// A human-readable description.
    pub message: String,
    /// When it happened, UTC.
    #[serde(with = "super::timestamp")]
    #[ts(type = "string")]
    pub timestamp: DateTime<Utc>,
    /// The simulator scenario that caused it, if any (see `/api/v1/scenarios`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub scenario: Option<u64>,
    /// The alert rule that fired, for `alert` events (see `/api/v1/alerts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub alert: Option<u64>,
    /// Why, for `halt` and `resume` events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reason: Option<HaltReason>,
    /// The limit-down price of the symbol's band, for `limit_state` and
    /// limit-up/limit-down `halt` events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub lower_band: Option<f64>,
    /// The limit-up price of the band.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub upper_band: Option<f64>,
    /// Shares matched at the indicative price, for `auction_imbalance`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub paired_shares: Option<u64>,
    /// Shares left unmatched, for `auction_imbalance`: positive to buy,
    /// negative to sell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub imbalance_shares: Option<i64>,
    /// The price the auction would cross at now, for `auction_imbalance`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub indicative_price: Option<f64>,
}

impl MarketEvent {
    /// An event of `kind` about `symbol` (or the whole market), with none
    /// of the optional details (scenario, alert, reason, band, imbalance).
    pub fn new(
        kind: EventKind,
        level: EventLevel,
        symbol: Option<Symbol>,
        message: String,
        timestamp: DateTime<Utc>,
    ) -> Self {
        Self {
            kind,
            level,
            symbol,
            message,
            timestamp,
            scenario: None,
            alert: None,
            reason: None,
            lower_band: None,
            upper_band: None,
            paired_shares: None,
            imbalance_shares: None,
            indicative_price: None,
        }
    }
}

/// One sample of the `system_metrics` topic: a producer's or bridge's health.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema, async_graphql::SimpleObject,
)]
#[ts(export)]
pub struct SystemMetric {
    /// The process that reported it, e.g. `tickstreamd@host`.
    pub source: String,
    /// Metric name, Prometheus style, e.g. `ticks_per_second`.
    pub name: String,
    /// The sampled value.
    pub value: f64,
    /// When it was sampled, UTC.
    #[serde(with = "super::timestamp")]
    #[ts(type = "string")]
    pub timestamp: DateTime<Utc>,
}
