//! What backups carry and what a store check finds: the manifest written
//! beside each backup, the answer of `tickstreamd verify`, and what
//! `tickstreamd restore` did.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The manifest beside a backup (`FILE.manifest.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct BackupManifest {
    /// The backup file, as it was named.
    pub file: String,
    /// When the backup was taken.
    #[serde(with = "super::timestamp")]
    #[ts(type = "string")]
    pub created: DateTime<Utc>,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its SHA-256, hex.
    pub sha256: String,
    /// The store's schema version.
    pub schema_version: i64,
    /// Ticks it holds.
    pub ticks: u64,
    /// Candles it holds.
    pub candles: u64,
    /// Where the log continues after what it holds: topic → partition →
    /// next offset (a bridge resumes from these in Kafka).
    #[ts(type = "Record<string, Record<string, number>>")]
    pub positions: BTreeMap<String, BTreeMap<u32, u64>>,
}

/// What `tickstreamd verify` finds in a store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct StoreCheck {
    /// No problem found.
    pub ok: bool,
    /// Ticks it holds.
    pub ticks: u64,
    /// Candles it holds.
    pub candles: u64,
    /// What is wrong, one line each.
    pub problems: Vec<String>,
}

/// What `tickstreamd restore` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Restored {
    /// The backup put in place.
    pub backup: String,
    /// When it was taken (from its manifest, when it has one).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "super::timestamp::option"
    )]
    #[ts(optional, type = "string")]
    pub taken: Option<DateTime<Utc>>,
    /// Its check.
    pub check: StoreCheck,
    /// The replay from Kafka up to `--until`, for a bridge's store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub replayed: Option<Replayed>,
}

/// A replay of the cluster's ticks into a restored store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Replayed {
    /// Records stamped before this were replayed (Kafka's record time).
    #[serde(with = "super::timestamp")]
    #[ts(type = "string")]
    pub until: DateTime<Utc>,
    /// Ticks written to the store.
    pub ticks: u64,
    /// Per `stock_ticks` partition, the offsets read: `[from, to)`.
    #[ts(type = "Record<string, [number, number]>")]
    pub partitions: BTreeMap<u32, [u64; 2]>,
}
