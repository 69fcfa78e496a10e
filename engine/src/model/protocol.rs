//! The WebSocket protocol at `/ws`: what clients send ([`ClientMsg`]) and what
//! the gateway answers ([`ServerMsg`]). JSON text frames, tagged by `op` and
//! `type`. Documented for users in the README's "WebSocket protocol" section.

use std::collections::BTreeMap;

use serde::{
    Deserialize, Deserializer, Serialize,
    de::{self, DeserializeOwned, Error as _},
};
use ts_rs::TS;
use utoipa::ToSchema;

use super::{ErrorCode, Fill, MarketEvent, Order, OrderBook, SystemMetric, Tick, TopOfBook};

/// Topics a client can subscribe to besides its symbols' ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum StreamTopic {
    /// Ticks of the subscribed symbols (`ticks` frames).
    StockTicks,
    /// Market events for the subscribed symbols and the whole market (`event` frames).
    MarketEvents,
    /// Health samples of producers and bridges (`metric` frames).
    SystemMetrics,
    /// The best bid and ask of the subscribed symbols when they change
    /// (`quotes` frames); `"quotes"` is accepted too.
    StockQuotes,
    /// The order books of the subscribed symbols (`book` frames): a
    /// snapshot of each on subscribe, then its updates in `seq` order;
    /// `"book"` is accepted too.
    OrderBook,
    /// Paper trading's order changes and fills, of every account (`order`
    /// and `fill` frames); independent of the subscribed symbols.
    Orders,
}

impl StreamTopic {
    /// The names a client may give: each topic's own, then `quotes` and
    /// `book` for short.
    const NAMES: [&'static str; 8] = [
        "stock_ticks",
        "market_events",
        "system_metrics",
        "stock_quotes",
        "order_book",
        "orders",
        "quotes",
        "book",
    ];

    fn named(name: &str) -> Option<Self> {
        Some(match name {
            "stock_ticks" => StreamTopic::StockTicks,
            "market_events" => StreamTopic::MarketEvents,
            "system_metrics" => StreamTopic::SystemMetrics,
            "stock_quotes" | "quotes" => StreamTopic::StockQuotes,
            "order_book" | "book" => StreamTopic::OrderBook,
            "orders" => StreamTopic::Orders,
            _ => return None,
        })
    }
}

/// By hand rather than derived for the short names (a serde alias would
/// puzzle ts-rs).
impl<'de> Deserialize<'de> for StreamTopic {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::named(&name).ok_or_else(|| D::Error::unknown_variant(&name, &Self::NAMES))
    }
}

/// A frame from a client: `{"op":"subscribe",…}` and so on. A field its
/// `op` does not define is refused, so a typo (`"symbol"` for `"symbols"`)
/// is an error, not ignored; every error names the field at fault.
#[derive(Debug, Clone, PartialEq, Serialize, TS, ToSchema)]
#[serde(tag = "op", rename_all = "snake_case")]
#[ts(export)]
pub enum ClientMsg {
    /// Adds symbols (and optionally topics) to the subscription.
    Subscribe(Subscribe),
    /// Removes symbols (and optionally topics) from the subscription.
    Unsubscribe(Unsubscribe),
    /// Asks for a `pong`.
    Ping(Ping),
}

/// The fields of a `subscribe` frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct Subscribe {
    /// Symbols to add; `"*"` means every symbol.
    pub symbols: Vec<String>,
    /// Topics to receive; default `["stock_ticks", "market_events"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub topics: Option<Vec<StreamTopic>>,
    /// Where to continue reading `stock_ticks`: partition → next offset
    /// (one past the last offset received). Partitions not listed keep
    /// their position, or start at the latest offset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "Record<string, number>")]
    pub resume: Option<Offsets>,
    /// Gather ticks for up to this many milliseconds (0 to 1000) and send
    /// them as one frame; 0, the default, sends them as they arrive. Holds
    /// for the connection until a later `subscribe` sets it again. A
    /// client that draws once per display frame needs no more than one
    /// frame per 16 ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub batch_ms: Option<u32>,
    /// How ticks are delivered (see [`Delivery`]); holds for the
    /// connection until a later `subscribe` sets it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub mode: Option<Delivery>,
}

/// How a client's ticks are delivered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Delivery {
    /// Every tick, in order (the default). A client that stops reading for
    /// longer than the gateway's write timeout is closed.
    #[default]
    Stream,
    /// Only the latest tick of each symbol since the last frame, with how
    /// many were passed over in `conflated`: a client that falls behind
    /// catches up at once instead of reading the backlog.
    Conflate,
}

/// The fields of an `unsubscribe` frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct Unsubscribe {
    /// Symbols to remove; `"*"` removes every symbol.
    #[serde(default)]
    pub symbols: Vec<String>,
    /// Topics to stop receiving.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub topics: Option<Vec<StreamTopic>>,
}

/// The fields of a `ping` frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct Ping {
    /// Echoed in the `pong`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub id: Option<u64>,
}

/// By hand rather than derived: serde's internally tagged enums lose track
/// of the path inside a variant, and errors are to name the field.
impl<'de> Deserialize<'de> for ClientMsg {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut frame = serde_json::Map::deserialize(deserializer)?;
        let op = frame
            .remove("op")
            .ok_or_else(|| D::Error::missing_field("op"))?;
        let fields = serde_json::Value::Object(frame);
        match op.as_str() {
            Some("subscribe") => op_fields(fields).map(Self::Subscribe),
            Some("unsubscribe") => op_fields(fields).map(Self::Unsubscribe),
            Some("ping") => op_fields(fields).map(Self::Ping),
            _ => Err(D::Error::custom(format_args!(
                "op: unknown op {op}, expected \"subscribe\", \"unsubscribe\" or \"ping\""
            ))),
        }
    }
}

/// Reads an op's fields; an error names the field at fault (`batch_ms: …`).
fn op_fields<T: DeserializeOwned, E: de::Error>(fields: serde_json::Value) -> Result<T, E> {
    serde_path_to_error::deserialize(fields).map_err(|e| {
        if e.path().iter().len() == 0 {
            E::custom(e.inner())
        } else {
            E::custom(format_args!("{}: {}", e.path(), e.inner()))
        }
    })
}

/// A frame from the gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum ServerMsg {
    /// A batch of ticks, each with `partition` and `offset`, in offset order per partition.
    Ticks {
        /// The ticks.
        data: Vec<Tick>,
        /// With `"mode":"conflate"`: ticks passed over because a later one
        /// of the same symbol is in this frame.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        conflated: Option<u64>,
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
        /// How ticks are delivered (see `subscribe`).
        mode: Delivery,
    },
    /// The subscription after an `unsubscribe`.
    Unsubscribed {
        /// Every symbol still subscribed.
        symbols: Vec<String>,
        /// Every topic still subscribed.
        topics: Vec<StreamTopic>,
    },
    /// Top-of-book quotes, oldest first per symbol.
    Quotes {
        /// The quotes.
        data: Vec<TopOfBook>,
    },
    /// Order-book records, in `seq` order per symbol: a snapshot of each
    /// symbol first (on subscribe, or when its records could not follow
    /// on), then updates whose `seq` each follow the one before.
    Book {
        /// The snapshots and updates.
        data: Vec<OrderBook>,
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
    /// A paper order was placed, changed or finished (topic `orders`).
    Order {
        /// The order as it stands.
        data: Order,
    },
    /// A paper order executed (topic `orders`).
    Fill {
        /// The fill.
        data: Fill,
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

impl utoipa::PartialSchema for Offsets {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .description(Some("Partition number → offset."))
            .property_names(Some(
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some("^[0-9]+$")),
            ))
            .additional_properties(Some(
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::Integer)
                    .minimum(Some(0)),
            ))
            .into()
    }
}

impl ToSchema for Offsets {}

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
            matches!(m, ClientMsg::Subscribe(Subscribe { ref symbols, resume: None, .. }) if symbols.len() == 2)
        );
        let m: ClientMsg =
            serde_json::from_str(r#"{"op":"subscribe","symbols":["*"],"resume":{"0":12,"3":7}}"#)
                .unwrap();
        let ClientMsg::Subscribe(Subscribe {
            resume: Some(r), ..
        }) = m
        else {
            panic!()
        };
        assert_eq!(r.0[&3], 7);
        let m: ClientMsg = serde_json::from_str(r#"{"op":"ping"}"#).unwrap();
        assert_eq!(m, ClientMsg::Ping(Ping { id: None }));
        let m: ClientMsg = serde_json::from_str(r#"{"symbols":["*"],"op":"unsubscribe"}"#).unwrap();
        assert!(
            matches!(m, ClientMsg::Unsubscribe(Unsubscribe { ref symbols, topics: None }) if symbols == &["*"])
        );
    }

    #[test]
    fn client_message_errors_name_the_field() {
        for (frame, needle) in [
            (r#"{"op":"dance"}"#, r#"op: unknown op "dance""#),
            (r#"{"symbols":["A"]}"#, "missing field `op`"),
            (r#"{"op":"subscribe"}"#, "missing field `symbols`"),
            (
                r#"{"op":"subscribe","symbol":["A"]}"#,
                "unknown field `symbol`, expected one of `symbols`",
            ),
            (
                r#"{"op":"subscribe","symbols":"AAPL"}"#,
                "symbols: invalid type: string \"AAPL\"",
            ),
            (
                r#"{"op":"subscribe","symbols":["A",1]}"#,
                "symbols[1]: invalid type",
            ),
            (
                r#"{"op":"subscribe","symbols":[],"batch_ms":-1}"#,
                "batch_ms: invalid value: integer `-1`",
            ),
            (
                r#"{"op":"subscribe","symbols":[],"topics":["news"]}"#,
                "topics[0]: unknown variant `news`",
            ),
            (
                r#"{"op":"subscribe","symbols":[],"resume":{"x":1}}"#,
                "resume: partition \"x\"",
            ),
            (
                r#"{"op":"ping","id":"a"}"#,
                "id: invalid type: string \"a\"",
            ),
        ] {
            let error = serde_json::from_str::<ClientMsg>(frame)
                .unwrap_err()
                .to_string();
            assert!(error.contains(needle), "{frame}: {error}");
        }
    }

    #[test]
    fn client_messages_serialize_with_their_op() {
        let ping = serde_json::to_string(&ClientMsg::Ping(Ping { id: Some(3) })).unwrap();
        assert_eq!(ping, r#"{"op":"ping","id":3}"#);
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
