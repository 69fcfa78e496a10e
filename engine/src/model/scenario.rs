//! Market scenarios on the wire: what `POST /api/v1/scenarios` and
//! `tickstreamd simulate --scenario` take, and the states the simulator
//! reports. Parsing and applying them live in `sim`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use super::Symbol;

/// Something that happens to the simulated market.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum Scenario {
    /// Prices fall by `depth` (a fraction) over `fall`, then recover over
    /// `recovery`: one symbol, or the whole market when `symbol` is absent.
    FlashCrash {
        /// The symbol; absent: every symbol.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "string")]
        symbol: Option<Symbol>,
        /// How far prices fall, e.g. 0.05 for 5 %.
        depth: f64,
        /// How long the fall takes, e.g. `"30s"`.
        #[serde(with = "humantime_serde", default = "default_fall")]
        #[ts(type = "string", optional)]
        fall: Duration,
        /// How long the recovery takes, e.g. `"5m"`.
        #[serde(with = "humantime_serde", default = "default_recovery")]
        #[ts(type = "string", optional)]
        recovery: Duration,
    },
    /// Trading in `symbol` stops, for `duration` or until a `resume`.
    Halt {
        /// The symbol.
        #[ts(type = "string")]
        symbol: Symbol,
        /// How long the halt lasts; absent: until resumed.
        #[serde(
            default,
            with = "humantime_serde",
            skip_serializing_if = "Option::is_none"
        )]
        #[ts(type = "string", optional)]
        duration: Option<Duration>,
    },
    /// Trading in a halted `symbol` resumes with a reopening auction.
    Resume {
        /// The symbol.
        #[ts(type = "string")]
        symbol: Symbol,
    },
    /// News moves `symbol` by `jump` (a fraction, signed) and multiplies its
    /// volatility by `volatility`, fading over `decay`.
    NewsShock {
        /// The symbol.
        #[ts(type = "string")]
        symbol: Symbol,
        /// The price move, e.g. -0.04 for −4 %.
        jump: f64,
        /// Volatility multiplier right after the news.
        #[serde(default = "default_news_volatility")]
        #[ts(type = "number", optional)]
        volatility: f64,
        /// Time constant of the volatility's return to normal.
        #[serde(with = "humantime_serde", default = "default_decay")]
        #[ts(type = "string", optional)]
        decay: Duration,
    },
    /// The market's volatility becomes `volatility` times the normal level
    /// (1 restores it), until the next regime change.
    RegimeChange {
        /// Volatility multiplier, e.g. 2.5 for a crisis, 0.5 for a calm.
        volatility: f64,
    },
    /// Money moves from sector `from` to sector `to`: over `duration`, `from`
    /// drifts down and `to` drifts up by `size` (a fraction).
    SectorRotation {
        /// The sector sold.
        from: String,
        /// The sector bought.
        to: String,
        /// The total relative move of each side, e.g. 0.03.
        #[serde(default = "default_rotation_size")]
        #[ts(type = "number", optional)]
        size: f64,
        /// How long the rotation takes.
        #[serde(with = "humantime_serde", default = "default_rotation")]
        #[ts(type = "string", optional)]
        duration: Duration,
    },
}

fn default_fall() -> Duration {
    Duration::from_secs(30)
}

fn default_recovery() -> Duration {
    Duration::from_secs(300)
}

fn default_news_volatility() -> f64 {
    3.0
}

fn default_decay() -> Duration {
    Duration::from_secs(600)
}

fn default_rotation_size() -> f64 {
    0.03
}

fn default_rotation() -> Duration {
    Duration::from_secs(1_800)
}

/// Where a scenario is in its life.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema, async_graphql::Enum,
)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ScenarioState {
    /// Waiting for its start (`after`).
    Scheduled,
    /// Moving the market.
    Active,
    /// Over.
    Finished,
}

/// A scenario accepted by the simulator, as `GET /api/v1/scenarios` lists it.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema, async_graphql::SimpleObject,
)]
#[ts(export)]
#[graphql(complex)]
pub struct ScenarioStatus {
    /// Identifier, increasing from 1 per simulator.
    pub id: u64,
    /// What it does.
    #[graphql(skip)]
    pub scenario: Scenario,
    /// Where it is in its life.
    pub state: ScenarioState,
    /// When it starts (or started), market time.
    #[serde(with = "crate::model::timestamp")]
    #[ts(type = "string")]
    pub starts_at: DateTime<Utc>,
    /// When it ends (or ended), market time; absent while open-ended.
    #[serde(
        default,
        with = "crate::model::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[ts(type = "string", optional)]
    pub ends_at: Option<DateTime<Utc>>,
}
