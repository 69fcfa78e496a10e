//! What the desktop app's shell and its web view exchange over IPC: the
//! data source (`Mode`), the settings view, a switch's outcome, the About
//! box and its updates, a REST answer carried in-process, and what a stream
//! channel delivers.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::protocol::ServerMsg;

/// Where the dashboard's data comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Mode {
    /// The bundled engine simulates a market: no network, nothing to set up.
    Offline,
    /// The bundled engine reads a Kafka cluster's tick topics.
    Kafka {
        /// Bootstrap servers, e.g. `k1:9092,k2:9092`.
        brokers: String,
        /// librdkafka properties, passed through (secrets excluded: they
        /// live in the keychain and are added when connecting).
        #[serde(default)]
        properties: BTreeMap<String, String>,
        /// Also run a simulated producer into the cluster.
        #[serde(default)]
        produce: bool,
    },
    /// A remote `tickstreamd`, over WebSocket and REST.
    Remote {
        /// Its address, e.g. `https://ticks.example.com` or
        /// `http://127.0.0.1:8080` (plain HTTP with a key: loopback only).
        url: String,
        /// A PEM file of CA certificates to trust besides the system's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        ca: Option<String>,
    },
}

impl Mode {
    /// A short name for menus and the status line.
    pub fn label(&self) -> String {
        match self {
            Mode::Offline => "Offline simulation".into(),
            Mode::Kafka { brokers, .. } => format!("Kafka {brokers}"),
            Mode::Remote { url, .. } => format!("Remote {url}"),
        }
    }
}

/// The settings as the settings view shows them: the mode, and which
/// secrets are set (never their values).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SettingsView {
    /// The mode the app runs in.
    pub mode: Mode,
    /// Names of the secrets set in the keychain (never their values).
    pub secrets_set: Vec<String>,
    /// The data directory.
    pub data_dir: String,
    /// Where exports are written (Downloads unless the user chose a folder).
    pub export_dir: String,
}

/// Secrets entered in the settings view: a Kafka property's value or the
/// remote API key, by name; an empty value removes one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct EnteredSecrets {
    /// Kafka properties' values, by property name (e.g. `sasl.password`).
    #[serde(default)]
    pub kafka: BTreeMap<String, String>,
    /// The remote daemon's API key.
    #[serde(default)]
    #[ts(optional)]
    pub api_key: Option<String>,
}

/// What switching modes did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Switched {
    /// The mode now running.
    pub mode: String,
    /// Secrets that could only be kept for this run (no keychain), and why.
    pub warnings: Vec<String>,
}

/// What the About box and the dashboard show of the app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AppInfo {
    /// The app's version.
    pub version: String,
    /// The engine's name and version.
    pub engine: String,
    /// The mode running, as a label.
    pub mode: String,
    /// Where the data lives.
    pub data_dir: String,
    /// Where the settings live.
    pub config_dir: String,
    /// The app's log file (rotated beside it).
    pub log_file: String,
}

/// Where the app's updates stand, as the About box shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct UpdateStatus {
    /// The release channel followed, e.g. `stable`.
    pub channel: String,
    /// Whether the app checks by itself (at start, at most daily).
    pub auto_check: bool,
    /// When the last check ended, if ever.
    pub last_check: Option<DateTime<Utc>>,
    /// What the last check found: `up to date`, a version, or why it failed.
    pub last_result: Option<String>,
    /// The release waiting to be installed, found by the last check.
    pub available: Option<UpdateOffer>,
}

/// A newer release of the app, signed and ready to download.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct UpdateOffer {
    /// Its version.
    pub version: String,
    /// The version running now.
    pub current_version: String,
    /// Its release notes, as published.
    pub notes: Option<String>,
    /// When it was published (RFC 3339), as the release says.
    pub date: Option<String>,
}

/// How an update's download and installation go, sent on a channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "step", rename_all = "snake_case")]
#[ts(export)]
pub enum UpdateProgress {
    /// Bytes arrived so far, and the size when the server said it.
    Downloading {
        /// Bytes received.
        received: u64,
        /// The whole size, if known.
        total: Option<u64>,
    },
    /// Downloaded and its signature verified: installing.
    Installing,
    /// Installed: the app restarts on the new version.
    Relaunching,
}

/// A REST answer carried over IPC, as the dashboard's transport expects it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RestReply {
    /// HTTP status.
    pub status: u16,
    /// The JSON body.
    #[ts(type = "unknown")]
    pub body: serde_json::Value,
    /// The `tickstream-positions` header, when present.
    pub positions: Option<String>,
}

/// What a desktop stream's channel delivers: a batch of protocol frames, or
/// a change of the connection's state. The shell writes `Frames` by joining
/// frames that are JSON already, without parsing them again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(untagged)]
#[ts(export)]
pub enum StreamDelivery {
    /// Frames gathered within one animation frame.
    Frames {
        /// The frames, in order.
        frames: Vec<ServerMsg>,
    },
    /// The stream's connection changed.
    State {
        /// `live` or `reconnecting`.
        state: StreamState,
        /// What it is connected to, or why it is reconnecting.
        detail: String,
    },
}

/// Where a desktop stream's connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum StreamState {
    /// Frames flow.
    Live,
    /// The source was lost; the stream tries again.
    Reconnecting,
}
