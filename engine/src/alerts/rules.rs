//! Alert rules: what to watch for, as users write them (REST JSON), with
//! validation that names the field at fault.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::model::Symbol;

/// What an alert watches for on one symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
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
    pub condition: Condition,
    /// Least time between two firings.
    #[serde(with = "humantime_serde", default = "default_cooldown")]
    #[ts(type = "string")]
    pub cooldown: Duration,
    /// Whether it is evaluated.
    #[serde(default = "default_enabled")]
    pub enabled: bool,
}

/// A rule that cannot be: the field and what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RuleError {
    /// The field, e.g. `condition.percent`.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

impl AlertRule {
    /// Checks every number; the first problem, naming its field.
    ///
    /// # Errors
    /// The [`RuleError`].
    pub fn validate(&self) -> Result<(), RuleError> {
        let bad = |field, message: &str| {
            Err(RuleError {
                field,
                message: message.to_owned(),
            })
        };
        if self.name.as_ref().is_some_and(|n| n.chars().count() > 100) {
            return bad("name", "must be at most 100 characters");
        }
        if self.cooldown > Duration::from_secs(7 * 86_400) {
            return bad("cooldown", "must be at most 7 days");
        }
        match &self.condition {
            Condition::PriceCross { level, .. } if !(level.is_finite() && *level > 0.0) => {
                bad("condition.level", "must be a positive price")
            }
            Condition::PercentMove { percent, window } => {
                if !(percent.is_finite() && *percent > 0.0 && *percent <= 100.0) {
                    bad("condition.percent", "must be above 0 and at most 100")
                } else if window.is_zero() || *window > Duration::from_secs(86_400) {
                    bad("condition.window", "must be between 1µs and 1 day")
                } else {
                    Ok(())
                }
            }
            Condition::VolumeSpike { factor, lookback }
            | Condition::SpreadWidening { factor, lookback } => {
                if !(factor.is_finite() && *factor > 1.0 && *factor <= 1_000.0) {
                    bad("condition.factor", "must be above 1 and at most 1000")
                } else if !(2..=10_000).contains(lookback) {
                    bad("condition.lookback", "must be between 2 and 10000")
                } else {
                    Ok(())
                }
            }
            Condition::PriceCross { .. } => Ok(()),
        }
    }

    /// The rule in words, for events and notifications.
    pub fn describe(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        let symbol = &self.symbol;
        match &self.condition {
            Condition::PriceCross { level, direction } => match direction.unwrap_or_default() {
                Direction::Above => format!("{symbol} crosses above {level}"),
                Direction::Below => format!("{symbol} crosses below {level}"),
                Direction::Any => format!("{symbol} crosses {level}"),
            },
            Condition::PercentMove { percent, window } => format!(
                "{symbol} moves {percent}% within {}",
                humantime::format_duration(*window)
            ),
            Condition::VolumeSpike { factor, lookback } => {
                format!("{symbol} minute volume ×{factor} its {lookback}-minute average")
            }
            Condition::SpreadWidening { factor, lookback } => {
                format!("{symbol} spread ×{factor} its {lookback}-quote average")
            }
        }
    }
}
