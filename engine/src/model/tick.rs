//! `Tick`: one trade print with its quote, and `EncodedTick`, a tick kept
//! together with the JSON it travels as.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use super::{
    Symbol,
    range::{self, OutOfRange},
};

/// One trade: the wire schema of `stock_ticks`.
///
/// Compatible with the original platform (`symbol`, `price`, `timestamp`,
/// `volume`); `bid`, `ask` and `seq` are added by Tickstream's producers and
/// optional on input. `partition` and `offset` are set once the tick has been
/// through a log.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema, async_graphql::SimpleObject,
)]
#[ts(export)]
pub struct Tick {
    /// Ticker symbol, e.g. `AAPL`.
    #[ts(type = "string")]
    pub symbol: Symbol,
    /// Trade price, on the symbol's tick grid.
    #[schema(exclusive_minimum = 0)]
    pub price: f64,
    /// Shares traded.
    pub volume: u64,
    /// Trade time, UTC, RFC 3339 with microseconds.
    #[serde(with = "super::timestamp")]
    #[ts(type = "string")]
    pub timestamp: DateTime<Utc>,
    /// Best bid at the time of the trade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub bid: Option<f64>,
    /// Best ask at the time of the trade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub ask: Option<f64>,
    /// Producer sequence number, increasing per producer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub seq: Option<u64>,
    /// Set on trades outside continuous trading, e.g. auction prints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub condition: Option<TradeCondition>,
    /// Log partition the tick was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub partition: Option<u32>,
    /// Offset of the tick in its partition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub offset: Option<u64>,
}

/// What kind of trade a tick is, when not a continuous-trading print.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema, async_graphql::Enum,
)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TradeCondition {
    /// The opening auction's cross, at the start of the regular session.
    OpeningAuction,
    /// The closing auction's cross, at the end of the regular session.
    ClosingAuction,
    /// The auction that reopens a symbol after a halt.
    ReopeningAuction,
}

impl Tick {
    /// A trade with no quote, sequence number or log position.
    pub fn trade(symbol: Symbol, price: f64, volume: u64, timestamp: DateTime<Utc>) -> Self {
        Self {
            symbol,
            price,
            volume,
            timestamp,
            bid: None,
            ask: None,
            seq: None,
            condition: None,
            partition: None,
            offset: None,
        }
    }
}

/// Why a message is not a tick.
#[derive(Debug, thiserror::Error)]
pub enum TickDecodeError {
    /// The bytes are not a JSON tick.
    #[error("malformed tick: {0}")]
    Json(#[from] serde_json::Error),
    /// The JSON is not an object, so fields cannot be added to it.
    #[error("malformed tick: not a JSON object")]
    NotAnObject,
    /// An Avro tick that does not decode.
    #[error("malformed tick: {0}")]
    Avro(#[from] super::avro::AvroError),
    /// A field holds a value no market has (a price that is not a positive
    /// finite number, a volume or a time out of range).
    #[error("tick field {field}: {message}")]
    OutOfRange {
        /// The field.
        field: &'static str,
        /// Why.
        message: String,
    },
}

impl Tick {
    /// Checks that every field holds a value a market could have, so
    /// nothing downstream (candles, the store, alerts) meets an infinite
    /// price, an overflowing volume or a time at the end of the calendar.
    ///
    /// # Errors
    /// [`TickDecodeError::OutOfRange`] naming the field.
    pub fn check_range(&self) -> Result<(), TickDecodeError> {
        range::price("price", self.price)?;
        if let Some(bid) = self.bid {
            range::price("bid", bid)?;
        }
        if let Some(ask) = self.ask {
            range::price("ask", ask)?;
        }
        range::shares("volume", self.volume)?;
        range::time("timestamp", self.timestamp)?;
        Ok(())
    }
}

impl From<OutOfRange> for TickDecodeError {
    fn from(OutOfRange { field, message }: OutOfRange) -> Self {
        TickDecodeError::OutOfRange { field, message }
    }
}

/// A tick and its JSON encoding, as produced or as received.
///
/// The log stores these so that a tick is serialized once, however many
/// clients receive it, and so that fields this engine does not know (from
/// another producer) reach clients unchanged. The JSON never carries
/// `partition` or `offset`: those are added per delivery.
#[derive(Debug, Clone)]
pub struct EncodedTick {
    tick: Tick,
    json: Box<str>,
}

impl EncodedTick {
    /// Encodes a tick produced here.
    pub fn new(tick: Tick) -> Self {
        let mut plain = tick;
        plain.partition = None;
        plain.offset = None;
        let json = serde_json::to_string(&plain).expect("a Tick always serializes");
        Self {
            tick: plain,
            json: json.into_boxed_str(),
        }
    }

    /// Decodes a tick received from elsewhere: JSON, kept as it came, or
    /// single-object Avro (see [`super::avro`]), kept as its JSON.
    ///
    /// # Errors
    /// Returns [`TickDecodeError`] when the bytes are not a JSON object (or
    /// Avro record) with the tick's required fields, or a field is out of
    /// range ([`Tick::check_range`]).
    pub fn decode(bytes: &[u8]) -> Result<Self, TickDecodeError> {
        if super::avro::is_avro(bytes) {
            let json = super::schemas::Record::Tick.avro().decode(bytes)?;
            return Self::decode(&serde_json::to_vec(&json)?);
        }
        let mut tick: Tick = serde_json::from_slice(bytes)?;
        tick.check_range()?;
        if tick.partition.is_some() || tick.offset.is_some() {
            // Logged upstream: this log's position replaces the old one.
            let mut object: serde_json::Map<String, serde_json::Value> =
                serde_json::from_slice(bytes)?;
            object.remove("partition");
            object.remove("offset");
            tick.partition = None;
            tick.offset = None;
            let json = serde_json::to_string(&object)?;
            return Ok(Self {
                tick,
                json: json.into_boxed_str(),
            });
        }
        let text = std::str::from_utf8(bytes).map_err(|_| TickDecodeError::NotAnObject)?;
        let text = text.trim();
        if !text.ends_with('}') {
            return Err(TickDecodeError::NotAnObject);
        }
        Ok(Self {
            tick,
            json: text.into(),
        })
    }

    /// The decoded tick.
    pub fn tick(&self) -> &Tick {
        &self.tick
    }

    /// The tick's JSON object, without `partition` and `offset`.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// Appends the tick's JSON to `out` with `partition` and `offset` added.
    pub fn write_logged(&self, partition: u32, offset: u64, out: &mut String) {
        let body = &self.json[..self.json.len() - 1];
        out.push_str(body);
        // `{}` has no fields: no separating comma.
        if body.trim_end() != "{" {
            out.push(',');
        }
        out.push_str("\"partition\":");
        out.push_str(itoa::Buffer::new().format(partition));
        out.push_str(",\"offset\":");
        out.push_str(itoa::Buffer::new().format(offset));
        out.push('}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Tick {
        Tick {
            symbol: Symbol::new("AAPL").unwrap(),
            price: 189.37,
            volume: 300,
            timestamp: super::super::timestamp::parse("2026-11-24T14:30:00.123456Z").unwrap(),
            bid: Some(189.36),
            ask: Some(189.38),
            seq: Some(1_048_576),
            condition: None,
            partition: None,
            offset: None,
        }
    }

    #[test]
    fn wire_format_matches_design() {
        let json = EncodedTick::new(sample()).json().to_owned();
        assert_eq!(
            json,
            r#"{"symbol":"AAPL","price":189.37,"volume":300,"timestamp":"2026-11-24T14:30:00.123456Z","bid":189.36,"ask":189.38,"seq":1048576}"#
        );
    }

    #[test]
    fn logged_json_adds_partition_and_offset() {
        let mut out = String::new();
        EncodedTick::new(sample()).write_logged(3, 42, &mut out);
        let back: Tick = serde_json::from_str(&out).unwrap();
        assert_eq!(back.partition, Some(3));
        assert_eq!(back.offset, Some(42));
        assert_eq!(back.price, 189.37);
    }

    #[test]
    fn decode_refuses_values_no_market_has_naming_the_field() {
        let base = r#""symbol":"X","timestamp":"2026-11-24T14:30:00Z""#;
        for (fields, field) in [
            (r#""price":-1,"volume":1"#, "price"),
            (r#""price":0,"volume":1"#, "price"),
            (r#""price":1e300,"volume":1"#, "price"),
            (r#""price":1,"volume":18446744073709551615"#, "volume"),
            (r#""price":1,"volume":1,"bid":-3"#, "bid"),
            (r#""price":1,"volume":1,"ask":1e13"#, "ask"),
        ] {
            let raw = format!("{{{base},{fields}}}");
            let error = EncodedTick::decode(raw.as_bytes()).unwrap_err();
            assert!(
                matches!(&error, TickDecodeError::OutOfRange { field: f, .. } if *f == field),
                "{raw}: {error}"
            );
        }
        let ancient =
            br#"{"symbol":"X","price":1,"volume":1,"timestamp":"-262143-01-01T00:00:00Z"}"#;
        let error = EncodedTick::decode(ancient).unwrap_err();
        assert!(error.to_string().contains("timestamp"), "{error}");
    }

    #[test]
    fn decode_accepts_seed_schema_and_keeps_unknown_fields() {
        let raw = br#"{"symbol":"MSFT","price":410.5,"timestamp":"2026-11-24T14:30:00.5","volume":100,"exchange":"XNAS"}"#;
        let enc = EncodedTick::decode(raw).unwrap();
        assert_eq!(enc.tick().symbol.as_str(), "MSFT");
        assert_eq!(enc.tick().bid, None);
        let mut out = String::new();
        enc.write_logged(0, 7, &mut out);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["exchange"], "XNAS");
        assert_eq!(v["offset"], 7);
    }

    #[test]
    fn decode_drops_an_upstream_log_position() {
        let raw = br#"{"symbol":"MSFT","price":410.5,"timestamp":"2026-11-24T14:30:00Z","volume":100,"partition":1,"offset":99}"#;
        let enc = EncodedTick::decode(raw).unwrap();
        let mut out = String::new();
        enc.write_logged(3, 7, &mut out);
        assert_eq!(out.matches("\"offset\"").count(), 1, "{out}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            (v["partition"].as_u64(), v["offset"].as_u64()),
            (Some(3), Some(7))
        );
    }

    #[test]
    fn decode_rejects_malformed() {
        assert!(EncodedTick::decode(b"{\"symbol\":\"MSFT\"}").is_err());
        assert!(EncodedTick::decode(b"not json").is_err());
        assert!(
            EncodedTick::decode(
                br#"{"symbol":"bad sym","price":1,"volume":1,"timestamp":"2026-01-01T00:00:00Z"}"#
            )
            .is_err()
        );
    }
}
