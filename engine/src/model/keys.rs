//! API keys on the wire: scopes, what `/api/v1/keys` lists and creates
//! and what one creates.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// What a key may do. Each scope includes the ones before it: `admin` can
/// do what `write` can, which can do what `read` can.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS, ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Scope {
    /// Streams and every `GET`.
    Read,
    /// Alert rules, watchlists and portfolios.
    Write,
    /// Scenarios, keys and the audit log.
    Admin,
}

impl Scope {
    /// The scope's name, as in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Admin => "admin",
        }
    }

    /// Whether a key of this scope may do what `needed` guards.
    pub fn allows(self, needed: Scope) -> bool {
        self >= needed
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl std::str::FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "read" => Ok(Self::Read),
            "write" => Ok(Self::Write),
            "admin" => Ok(Self::Admin),
            other => Err(format!("unknown scope {other:?} (read, write or admin)")),
        }
    }
}

/// A key as listed: never the key itself, only its public prefix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct KeyInfo {
    /// Unique name, e.g. `grafana` or `alice-laptop`.
    pub name: String,
    /// What the key may do.
    pub scope: Scope,
    /// The key's first characters (`tsk_3f9a1c0b7e2d`): enough to recognise
    /// it, useless to use it.
    pub prefix: String,
    /// When the key was made.
    #[ts(type = "string")]
    pub created_at: DateTime<Utc>,
    /// After this the key is refused; never when absent.
    #[ts(type = "string | null")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// `POST /api/v1/keys`: the key to create.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct NewKey {
    /// Unique name: 1–64 of `A–Z a–z 0–9 . _ -`.
    pub name: String,
    /// What the key may do.
    pub scope: Scope,
    /// How long the key lasts, e.g. `"30days"`; forever when absent.
    #[serde(default, with = "humantime_serde")]
    #[ts(type = "string", optional)]
    pub expires: Option<std::time::Duration>,
}

/// A key just created: the only time the key itself is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct CreatedKey {
    /// The key: send it as `Authorization: Bearer KEY`.
    pub key: String,
    /// The key as listed from now on.
    #[serde(flatten)]
    pub info: KeyInfo,
}
