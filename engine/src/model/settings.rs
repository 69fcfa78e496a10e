//! The running configuration on the wire: what `GET /api/v1/config` answers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// `GET /api/v1/config`: the configuration the engine runs with, secrets
/// redacted, and how reloads have changed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct EffectiveConfig {
    /// Every setting in force, defaults included, shaped as the config
    /// file (`{"gateway": {"rate_limit": 100, …}, …}`); secrets (Kafka
    /// passwords, tokens, keys) read `***`.
    #[ts(type = "Record<string, Record<string, unknown>>")]
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
    /// The keys a reload applies while the engine runs (dotted, e.g.
    /// `gateway.rate_limit`); any other change waits for a restart.
    pub live: Vec<String>,
    /// Keys whose reloaded value differs from the one in force: they apply
    /// at the next start.
    pub restart_pending: Vec<String>,
    /// When the configuration was last reloaded (SIGHUP or a change to the
    /// file); absent before the first reload.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "super::timestamp::option"
    )]
    #[ts(optional, type = "string")]
    pub reloaded_at: Option<DateTime<Utc>>,
}
