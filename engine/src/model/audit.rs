//! The audit log on the wire: who did what, from where, and how it ended.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// One audited action: a change, a refused key, a key made or revoked, a
/// scenario injected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct AuditEntry {
    /// Increasing with time.
    #[ts(type = "number")]
    pub id: u64,
    /// When it happened.
    #[ts(type = "string")]
    pub timestamp: DateTime<Utc>,
    /// The API key's name (never the key); absent without one.
    pub key: Option<String>,
    /// The client's address (`ip:port`), or `cli` for the offline `keys` command.
    pub client: String,
    /// What was asked, e.g. `POST /api/v1/watchlists` or `keys create grafana`.
    pub action: String,
    /// The HTTP status answered (`0` offline).
    pub status: u16,
    /// `ok`, or the refusal's error code (`unauthorized`, `forbidden`, …).
    pub outcome: String,
}
