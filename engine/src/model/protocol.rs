//! The WebSocket protocol at `/ws`: what clients send ([`ClientMsg`]) and what
//! the gateway answers ([`ServerMsg`]). JSON text frames, tagged by `op` and
//! `type`. Documented for users in the README's "WebSocket protocol" section.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{MarketEvent, SystemMetric, Tick};

/// Topics a client can subscribe to besides its symbols' ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum StreamTopic {
    /// Ticks of the subscribed symbols (`ticks` frames).
    StockTicks,
    /// Market events for the subscribed symbols and the whole market (`event` frames).
    MarketEvents,
    /// Health samples of producers and bridges (`metric` frames).
    SystemMetrics,
}

/// A frame from a client. Fields other than those listed are refused by
/// the gateway (see [`ClientMsg::check_fields`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "op", rename_all = "snake_case")]
#[ts(export)]
pub enum ClientMsg {
    /// Adds symbols (and optionally topics) to the subscription.
    Subscribe {
        /// Symbols to add; `"*"` means every symbol.
        symbols: Vec<String>,
        /// Topics to receive; default `["stock_ticks", "market_events"]`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        topics: Option<Vec<StreamTopic>>,
        /// Where to continue reading `stock_ticks`: partition → next offset
        /// (one past the last offset received). Partitions not listed keep
        /// their position, or start at the latest offset.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "Record<string, number>")]
        resume: Option<Offsets>,
        /// Gather ticks for up to this many milliseconds (0 to 1000) and send
        /// them as one frame; 0, the default, sends them as they arrive. Holds
        /// for the connection until a later `subscribe` sets it again. A
        /// client that draws once per display frame needs no more than one
        /// frame per 16 ms.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        batch_ms: Option<u32>,
    },
    /// Removes symbols (and optionally topics) from the subscription.
    Unsubscribe {
        /// Symbols to remove; `"*"` removes every symbol.
        #[serde(default)]
        symbols: Vec<String>,
        /// Topics to stop receiving.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        topics: Option<Vec<StreamTopic>>,
    },
    /// Asks for a `pong`.
    Ping {
        /// Echoed in the `pong`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        id: Option<u64>,
    },
}

impl ClientMsg {
    /// Checks that a client frame's object has no field its `op` does not
    /// define, so a typo (`"symbol"` for `"symbols"`) is an error, not ignored.
    ///
    /// # Errors
    /// Returns a message naming the unknown field and the allowed ones.
    pub fn check_fields(frame: &serde_json::Map<String, serde_json::Value>) -> Result<(), String> {
        let allowed: &[&str] = match frame.get("op").and_then(|op| op.as_str()) {
            Some("subscribe") => &["op", "symbols", "topics", "resume", "batch_ms"],
            Some("unsubscribe") => &["op", "symbols", "topics"],
            Some("ping") => &["op", "id"],
            // Unknown or missing ops are reported by deserialization.
            _ => return Ok(()),
        };
        match frame.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(unknown) => Err(format!(
                "unknown field `{unknown}`, expected one of {}",
                allowed[1..].join(", ")
            )),
            None => Ok(()),
        }
    }
}

/// Machine-readable reason of an `error` frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ErrorCode {
    /// The frame is not valid JSON.
    MalformedJson,
    /// The JSON is not a known client message (unknown `op`, missing or extra field).
    InvalidMessage,
    /// The frame is larger than the gateway accepts.
    FrameTooLarge,
    /// Binary frames are not part of the protocol.
    BinaryNotSupported,
    /// A symbol is not valid symbol syntax.
    InvalidSymbol,
    /// A symbol is valid but not known to this gateway.
    UnknownSymbol,
    /// A subscription would exceed the per-client symbol limit.
    TooManySymbols,
    /// A `resume` position names a partition that does not exist or an offset past the end.
    InvalidResume,
}

/// A frame from the gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum ServerMsg {
    /// A batch of ticks, each with `partition` and `offset`, in offset order per partition.
    Ticks {
        /// The ticks.
        data: Vec<Tick>,
    },
    /// The subscription after a `subscribe`.
    Subscribed {
        /// Every symbol now subscribed (`"*"` for all).
        symbols: Vec<String>,
        /// Every topic now subscribed.
        topics: Vec<StreamTopic>,
        /// Where the tick stream continues: partition → next offset.
        #[ts(type = "Record<string, number>")]
        positions: Offsets,
        /// How long ticks are gathered into one frame (see `subscribe`).
        batch_ms: u32,
    },
    /// The subscription after an `unsubscribe`.
    Unsubscribed {
        /// Every symbol still subscribed.
        symbols: Vec<String>,
        /// Every topic still subscribed.
        topics: Vec<StreamTopic>,
    },
    /// A market event.
    Event {
        /// The event.
        data: MarketEvent,
    },
    /// A health sample.
    Metric {
        /// The sample.
        data: SystemMetric,
    },
    /// Records between `requested` and `resumed_at` are no longer retained;
    /// the stream continues at `resumed_at`.
    Gap {
        /// The partition with the gap.
        partition: u32,
        /// The first offset the client asked for.
        requested: u64,
        /// The offset the stream continues from (the earliest retained).
        resumed_at: u64,
    },
    /// The answer to `ping`.
    Pong {
        /// The `id` of the ping.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        id: Option<u64>,
    },
    /// A request failed; the connection stays usable.
    Error {
        /// Why, for programs.
        code: ErrorCode,
        /// Why, for people.
        message: String,
    },
}

/// Partition → offset, as a JSON object keyed by partition number
/// (`{"0": 120, "3": 7}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Offsets(pub BTreeMap<u32, u64>);

impl<'de> Deserialize<'de> for Offsets {
    // By hand because tagged enums buffer their content, and buffered keys
    // stay strings that the derived impl would not parse as numbers.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = BTreeMap::<String, u64>::deserialize(deserializer)?;
        raw.into_iter()
            .map(|(key, offset)| match key.parse::<u32>() {
                Ok(partition) => Ok((partition, offset)),
                Err(_) => Err(serde::de::Error::custom(format!(
                    "partition {key:?} is not a partition number"
                ))),
            })
            .collect::<Result<_, _>>()
            .map(Offsets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_documented_client_messages() {
        let m: ClientMsg =
            serde_json::from_str(r#"{"op":"subscribe","symbols":["AAPL","MSFT"]}"#).unwrap();
        assert!(
            matches!(m, ClientMsg::Subscribe { ref symbols, resume: None, .. } if symbols.len() == 2)
        );
        let m: ClientMsg =
            serde_json::from_str(r#"{"op":"subscribe","symbols":["*"],"resume":{"0":12,"3":7}}"#)
                .unwrap();
        let ClientMsg::Subscribe {
            resume: Some(r), ..
        } = m
        else {
            panic!()
        };
        assert_eq!(r.0[&3], 7);
        let bad = serde_json::from_str::<ClientMsg>(
            r#"{"op":"subscribe","symbols":[],"resume":{"x":1}}"#,
        );
        assert!(bad.unwrap_err().to_string().contains("partition \"x\""));
        let m: ClientMsg = serde_json::from_str(r#"{"op":"ping"}"#).unwrap();
        assert_eq!(m, ClientMsg::Ping { id: None });
        assert!(serde_json::from_str::<ClientMsg>(r#"{"op":"dance"}"#).is_err());
        let typo: serde_json::Value =
            serde_json::from_str(r#"{"op":"subscribe","symbol":["A"]}"#).unwrap();
        let err = ClientMsg::check_fields(typo.as_object().unwrap()).unwrap_err();
        assert!(err.contains("`symbol`") && err.contains("symbols"), "{err}");
    }

    #[test]
    fn server_messages_have_documented_shape() {
        let pong = serde_json::to_string(&ServerMsg::Pong { id: None }).unwrap();
        assert_eq!(pong, r#"{"type":"pong"}"#);
        let err = serde_json::to_string(&ServerMsg::Error {
            code: ErrorCode::MalformedJson,
            message: "x".into(),
        })
        .unwrap();
        assert_eq!(
            err,
            r#"{"type":"error","code":"malformed_json","message":"x"}"#
        );
    }
}
