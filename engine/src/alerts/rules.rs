//! Alert rules: what to watch for, as users write them (REST JSON), with
//! validation that names the field at fault.

use std::time::Duration;

use crate::model::{AlertRule, Condition, Direction};

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
