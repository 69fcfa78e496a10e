//! Replays on the wire: what `POST /api/v1/replays` takes, the commands
//! that steer a replay (play, pause, seek, step, speed) and the status it
//! reports. Playing them back lives in `replay`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use super::Symbol;

/// A stored range to play back: `POST /api/v1/replays`'s body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct NewReplay {
    /// The first tick time played (inclusive), RFC 3339.
    #[serde(with = "super::timestamp")]
    #[ts(type = "string")]
    pub from: DateTime<Utc>,
    /// The end (exclusive), RFC 3339; absent or in the future: now.
    #[serde(
        default,
        with = "super::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[ts(type = "string", optional)]
    pub to: Option<DateTime<Utc>>,
    /// Market seconds per wall second, `"1"` (real time) to `"100000"`, or
    /// `"max"` (as fast as the slowest stream reads); default `"1"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub speed: Option<String>,
    /// Only these symbols (at most 64); absent or empty: every symbol.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(optional, type = "Array<string>")]
    pub symbols: Vec<Symbol>,
    /// Created paused (play with the `play` command), so streams can
    /// subscribe before the first tick; default false.
    #[serde(default)]
    #[ts(optional, as = "Option<bool>")]
    pub paused: bool,
}

/// Where a replay is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema, async_graphql::Enum,
)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ReplayState {
    /// Ticks are being played at the replay's speed.
    Playing,
    /// Nothing is played until `play` (or one `step`).
    Paused,
    /// Every tick of the range was played (`replay_completed` was sent), or
    /// the store failed (`error`); a `seek` rewinds it, paused.
    Completed,
}

/// A replay as it stands: `GET /api/v1/replays/{id}`.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema, async_graphql::SimpleObject,
)]
#[ts(export)]
pub struct ReplayStatus {
    /// Its id: stream it at `/ws?replay={id}`.
    pub id: u64,
    /// The range's start (inclusive).
    #[serde(with = "super::timestamp")]
    #[ts(type = "string")]
    pub from: DateTime<Utc>,
    /// The range's end (exclusive).
    #[serde(with = "super::timestamp")]
    #[ts(type = "string")]
    pub to: DateTime<Utc>,
    /// The speed, e.g. `"10"` or `"max"`.
    pub speed: String,
    /// The symbols played; empty: every symbol.
    #[ts(type = "Array<string>")]
    pub symbols: Vec<Symbol>,
    /// Playing, paused or completed.
    pub state: ReplayState,
    /// The replay's market time: every tick stamped at or before it has
    /// been played, none after. Candles and indicators asked for with
    /// `replay={id}` are as of this time.
    #[serde(with = "super::timestamp")]
    #[ts(type = "string")]
    pub clock: DateTime<Utc>,
    /// Ticks played since the replay began or was last sought.
    pub ticks: u64,
    /// Milliseconds spent playing those ticks (paused time excluded).
    pub played_ms: u64,
    /// Counts the seeks: each starts the replay's stream afresh (its
    /// positions do not carry over).
    pub generation: u64,
    /// Why the replay stopped early (the store could not be read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub error: Option<String>,
}

/// What to do with a replay: `POST /api/v1/replays/{id}/control`'s body,
/// e.g. `{"action":"seek","to":"2026-12-01T14:30:00Z"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct ReplayCommand {
    /// What to do.
    pub action: ReplayAction,
    /// `seek`: the new clock, RFC 3339, within the range.
    #[serde(
        default,
        with = "super::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[ts(type = "string", optional)]
    pub to: Option<DateTime<Utc>>,
    /// `step`: how many ticks, 1 to 10 000 (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub ticks: Option<u32>,
    /// `speed`: as in [`NewReplay::speed`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub speed: Option<String>,
}

impl ReplayCommand {
    /// The command `action` with no fields.
    pub fn new(action: ReplayAction) -> Self {
        Self {
            action,
            to: None,
            ticks: None,
            speed: None,
        }
    }
}

/// A command's action.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema, async_graphql::Enum,
)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ReplayAction {
    /// Play from the clock at the replay's speed.
    Play,
    /// Stop playing; the clock stays.
    Pause,
    /// Move the clock to `to` and start the stream afresh from there; a
    /// playing replay goes on playing.
    Seek,
    /// Play the next `ticks` ticks (and any stamped at the same time as the
    /// last), then pause.
    Step,
    /// Play at `speed` from now on.
    Speed,
}
