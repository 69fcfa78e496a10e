//! What users keep in the store and send over REST: alert rules,
//! watchlists and portfolios. Their validation lives with their owners
//! (`alerts`, `workspace`).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use super::Symbol;

/// What an alert watches for on one symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum Condition {
    /// The last price crosses `level` (from below for `above`, from above
    /// for `below`, either way for `any`).
    PriceCross {
        /// The price level.
        level: f64,
        /// Which crossing fires.
        #[serde(default)]
        #[ts(optional)]
        direction: Option<Direction>,
    },
    /// The price moves by at least `percent` (either way) within `window`.
    PercentMove {
        /// The move, in percent, e.g. 2 for 2 %.
        percent: f64,
        /// The time the move happens within, e.g. `"5m"`.
        #[serde(with = "humantime_serde")]
        #[ts(type = "string")]
        window: Duration,
    },
    /// A minute's volume reaches `factor` times the average of the
    /// previous `lookback` minutes.
    VolumeSpike {
        /// The multiple of the average, e.g. 3.
        factor: f64,
        /// Minutes averaged (default 20).
        #[serde(default = "default_lookback_minutes")]
        #[ts(type = "number", optional)]
        lookback: usize,
    },
    /// The bid/ask spread reaches `factor` times its average over the
    /// previous `lookback` quotes.
    SpreadWidening {
        /// The multiple of the average spread, e.g. 3.
        factor: f64,
        /// Quotes averaged (default 200).
        #[serde(default = "default_lookback_quotes")]
        #[ts(type = "number", optional)]
        lookback: usize,
    },
}

/// Which way a price must cross its level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Direction {
    /// From below to at or above.
    Above,
    /// From above to at or below.
    Below,
    /// Either way.
    #[default]
    Any,
}

fn default_lookback_minutes() -> usize {
    20
}

fn default_lookback_quotes() -> usize {
    200
}

fn default_cooldown() -> Duration {
    Duration::from_secs(60)
}

fn default_enabled() -> bool {
    true
}

/// A rule as stored and served: an id, a symbol, a condition.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema, async_graphql::SimpleObject,
)]
#[ts(export)]
#[graphql(complex)]
pub struct AlertRule {
    /// Assigned by the store; ignored on create.
    #[serde(default)]
    pub id: u64,
    /// A name for the log and notifications (default: a description).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub name: Option<String>,
    /// The symbol watched.
    #[ts(type = "string")]
    pub symbol: Symbol,
    /// What fires it.
    #[graphql(skip)]
    pub condition: Condition,
    /// Least time between two firings.
    #[serde(with = "humantime_serde", default = "default_cooldown")]
    #[ts(type = "string")]
    #[graphql(skip)]
    pub cooldown: Duration,
    /// Whether it is evaluated.
    #[serde(default = "default_enabled")]
    pub enabled: bool,
}

/// A named list of symbols, in the user's order.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema, async_graphql::SimpleObject,
)]
#[ts(export)]
pub struct Watchlist {
    /// Assigned by the store; ignored on create.
    #[serde(default)]
    pub id: u64,
    /// Unique among watchlists, 1 to 60 characters.
    pub name: String,
    /// The symbols.
    #[ts(type = "Array<string>")]
    pub symbols: Vec<Symbol>,
}

/// A named set of positions.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema, async_graphql::SimpleObject,
)]
#[ts(export)]
#[graphql(complex)]
pub struct Portfolio {
    /// Assigned by the store; ignored on create.
    #[serde(default)]
    pub id: u64,
    /// Unique among portfolios, 1 to 60 characters.
    pub name: String,
    /// At most one position per symbol.
    pub positions: Vec<Position>,
}

/// Shares held in one symbol.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema, async_graphql::SimpleObject,
)]
#[ts(export)]
pub struct Position {
    /// The symbol.
    #[ts(type = "string")]
    pub symbol: Symbol,
    /// Shares held; negative for a short position.
    pub quantity: f64,
    /// Average price paid per share.
    pub cost: f64,
}
