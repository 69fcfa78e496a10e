//! Scenarios: market events injected into a running simulation (from the
//! CLI, REST or the dashboard), their validation and their lifecycle.
//!
//! A request is a [`Scenario`] plus an optional delay (`after`, in market
//! time). On the wire it is one JSON object, e.g.
//! `{"kind":"flash_crash","symbol":"AAPL","depth":0.05,"after":"10s"}`; on
//! the command line, `flash_crash symbol=AAPL depth=0.05 after=10s`.

use std::time::Duration;

use crate::model::{Scenario, Symbol};

/// A scenario and when it should start.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioRequest {
    /// What happens.
    pub scenario: Scenario,
    /// Delay before it starts, in market time.
    pub after: Duration,
}

/// Why a scenario was refused; each names the field at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScenarioError {
    /// The request is not a scenario (unknown kind, missing or bad field).
    #[error("invalid scenario: {0}")]
    Malformed(String),
    /// A field is out of range.
    #[error("invalid scenario field {field:?}: {message}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The symbol is not simulated.
    #[error("invalid scenario field \"symbol\": {0} is not a simulated symbol")]
    UnknownSymbol(Symbol),
    /// The sector has no simulated symbol.
    #[error("invalid scenario field {field:?}: no simulated symbol is in sector {sector:?}")]
    UnknownSector {
        /// `from` or `to`.
        field: &'static str,
        /// The sector named.
        sector: String,
    },
    /// A halt of a symbol already halted.
    #[error("{0} is already halted")]
    AlreadyHalted(Symbol),
    /// A resume of a symbol that is trading.
    #[error("{0} is not halted")]
    NotHalted(Symbol),
    /// Accepting it would pass a bound (pending scenarios, a symbol's total
    /// news move).
    #[error("scenario field {field:?}: {message}")]
    Limit {
        /// The field at fault.
        field: &'static str,
        /// Which bound, and why.
        message: String,
    },
    /// The simulator is not running (e.g. a bridge) or stopped.
    #[error("no simulator runs in this process")]
    NoSimulator,
}

impl ScenarioRequest {
    /// Reads a request from its JSON object: a scenario plus `after`.
    ///
    /// # Errors
    /// Returns [`ScenarioError::Malformed`] naming what is wrong.
    pub fn from_json(value: serde_json::Value) -> Result<Self, ScenarioError> {
        let serde_json::Value::Object(mut map) = value else {
            return Err(ScenarioError::Malformed("expected a JSON object".into()));
        };
        let after = match map.remove("after") {
            None | Some(serde_json::Value::Null) => Duration::ZERO,
            Some(serde_json::Value::String(text)) => {
                humantime::parse_duration(&text).map_err(|e| ScenarioError::Invalid {
                    field: "after",
                    message: format!("{text:?} is not a duration: {e}"),
                })?
            }
            Some(_) => {
                return Err(ScenarioError::Invalid {
                    field: "after",
                    message: "expected a duration such as \"30s\"".into(),
                });
            }
        };
        let scenario: Scenario = serde_json::from_value(serde_json::Value::Object(map.clone()))
            .map_err(|e| ScenarioError::Malformed(e.to_string()))?;
        // Every field the scenario knows is in its serialization once given:
        // anything else is a typo, refused rather than ignored.
        let known = serde_json::to_value(&scenario).expect("scenarios serialize");
        if let Some((field, _)) = map
            .iter()
            .find(|(field, value)| !value.is_null() && known.get(field.as_str()).is_none())
        {
            return Err(ScenarioError::Malformed(format!(
                "unknown field {field:?} for {}",
                known["kind"]
            )));
        }
        let request = Self { scenario, after };
        request.check_ranges()?;
        Ok(request)
    }

    /// Reads `KIND key=value …`, the command-line form; values that parse
    /// as numbers are numbers.
    ///
    /// # Errors
    /// Returns a [`ScenarioError`] naming what is wrong.
    pub fn parse_words(text: &str) -> Result<Self, ScenarioError> {
        let mut words = text.split_whitespace();
        let kind = words
            .next()
            .ok_or_else(|| ScenarioError::Malformed("expected KIND key=value …".into()))?;
        let mut map = serde_json::Map::new();
        map.insert("kind".into(), kind.replace('-', "_").into());
        for word in words {
            let (key, value) = word
                .split_once('=')
                .ok_or_else(|| ScenarioError::Malformed(format!("{word:?} is not key=value")))?;
            let value = match value.parse::<f64>() {
                Ok(number) if number.is_finite() => serde_json::json!(number),
                _ => serde_json::Value::String(value.to_owned()),
            };
            map.insert(key.to_owned(), value);
        }
        Self::from_json(serde_json::Value::Object(map))
    }

    /// The request as its JSON object (the REST body).
    pub fn to_json(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(&self.scenario).expect("scenarios serialize");
        if !self.after.is_zero() {
            value["after"] = humantime::format_duration(self.after).to_string().into();
        }
        value
    }

    /// Checks the numbers that need no knowledge of the market.
    fn check_ranges(&self) -> Result<(), ScenarioError> {
        let invalid = |field, message: &str| {
            Err(ScenarioError::Invalid {
                field,
                message: message.to_owned(),
            })
        };
        let day = Duration::from_secs(7 * 86_400);
        if self.after > day {
            return invalid("after", "must be at most 7 days");
        }
        match &self.scenario {
            Scenario::FlashCrash {
                depth,
                fall,
                recovery,
                ..
            } => {
                if !(0.001..=0.9).contains(depth) {
                    return invalid("depth", "must be between 0.001 and 0.9 (a fraction)");
                }
                if fall.is_zero() || *fall > day {
                    return invalid("fall", "must be between 1µs and 7 days");
                }
                if *recovery > day {
                    return invalid("recovery", "must be at most 7 days");
                }
            }
            Scenario::Halt {
                duration: Some(d), ..
            } if d.is_zero() || *d > day => {
                return invalid("duration", "must be between 1µs and 7 days");
            }
            Scenario::NewsShock {
                jump,
                volatility,
                decay,
                ..
            } => {
                if !(-0.9..=2.0).contains(jump) {
                    return invalid("jump", "must be between -0.9 and 2 (a signed fraction)");
                }
                if !(0.1..=20.0).contains(volatility) {
                    return invalid("volatility", "must be between 0.1 and 20 (a multiplier)");
                }
                if decay.is_zero() || *decay > day {
                    return invalid("decay", "must be between 1µs and 7 days");
                }
            }
            Scenario::RegimeChange { volatility } if !(0.1..=20.0).contains(volatility) => {
                return invalid("volatility", "must be between 0.1 and 20 (a multiplier)");
            }
            Scenario::SectorRotation {
                from,
                to,
                size,
                duration,
            } => {
                if from == to {
                    return invalid("to", "must differ from \"from\"");
                }
                if !(0.0..=0.5).contains(size) {
                    return invalid("size", "must be between 0 and 0.5 (a fraction)");
                }
                if duration.is_zero() || *duration > day {
                    return invalid("duration", "must be between 1µs and 7 days");
                }
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_command_line_form() {
        let r =
            ScenarioRequest::parse_words("flash-crash symbol=AAPL depth=0.05 after=10s").unwrap();
        assert_eq!(r.after, Duration::from_secs(10));
        assert_eq!(
            r.scenario,
            Scenario::FlashCrash {
                symbol: Some(Symbol::new("AAPL").unwrap()),
                depth: 0.05,
                // The defaults: a 30 s fall, a 5 min recovery.
                fall: Duration::from_secs(30),
                recovery: Duration::from_secs(300),
            }
        );
        // The JSON form round-trips.
        assert_eq!(ScenarioRequest::from_json(r.to_json()).unwrap(), r);
    }

    #[test]
    fn errors_name_the_field() {
        let err = |text: &str| ScenarioRequest::parse_words(text).unwrap_err().to_string();
        assert!(err("flash_crash depth=3").contains("\"depth\""));
        assert!(err("flash_crash").contains("depth"));
        assert!(err("news_shock symbol=AAPL jump=0.1 colour=red").contains("colour"));
        assert!(err("meteor symbol=AAPL").contains("meteor"));
        assert!(err("halt symbol=AAPL after=soon").contains("\"after\""));
        assert!(err("sector_rotation from=Energy to=Energy").contains("\"to\""));
        assert!(err("halt symbol=aapl!").contains("symbol"));
    }
}
