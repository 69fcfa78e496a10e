//! Readiness on the wire: what `GET /readyz` answers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// `GET /readyz`: whether the engine is ready, each check, and the
/// components that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct Readiness {
    /// Every check passes and no component failed.
    pub ready: bool,
    /// The checks, each true when it passes.
    pub checks: Checks,
    /// Components that failed, first first.
    pub failed: Vec<Failure>,
    /// Each circuit breaker's state, by dependency (`store`, `kafka`); an
    /// open one makes the engine unready.
    pub circuits: BTreeMap<String, CircuitState>,
    /// Components that failed and wait (a backoff) to be restarted.
    pub restarting: Vec<String>,
}

/// A circuit breaker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum CircuitState {
    /// Calls go through.
    Closed,
    /// The cool-down passed; one call tries.
    HalfOpen,
    /// Failures in a row: callers wait out a cool-down.
    Open,
}

/// The readiness checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct Checks {
    /// The tick source is producing (or connected).
    pub source: bool,
    /// The last store commit succeeded.
    pub store: bool,
}

/// A component that failed (panicked, returned an error, or stopped while it
/// should run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct Failure {
    /// The component's name, e.g. `store writer`.
    pub component: String,
    /// Why: `panicked: …`, `failed: …` or `stopped by itself`.
    pub reason: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "component {} {}", self.component, self.reason)
    }
}
