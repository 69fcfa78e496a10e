//! The messages of Alpaca's market-data stream (v2, stocks), as the
//! compatible endpoint `/compat/alpaca/v2/{feed}` speaks them: the client's
//! actions and the server's messages, with Alpaca's field names, in JSON
//! or MessagePack (whichever the client asked for on the upgrade).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use ts_rs::TS;

/// What a client sends: its credentials, or channels to subscribe or
/// unsubscribe, each a list of symbols (`"*"`: every symbol).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "action", rename_all = "lowercase")]
#[ts(export)]
pub enum AlpacaAction {
    /// Authenticate.
    Auth {
        /// The key ID.
        key: String,
        /// The secret.
        secret: String,
    },
    /// Add these subscriptions.
    Subscribe(AlpacaChannels),
    /// Remove these subscriptions.
    Unsubscribe(AlpacaChannels),
}

/// Symbols by channel: what a client asks for, and what the server says it
/// is subscribed to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct AlpacaChannels {
    /// Trades (`t`).
    pub trades: Vec<String>,
    /// Quotes (`q`).
    pub quotes: Vec<String>,
    /// Minute bars (`b`).
    pub bars: Vec<String>,
    /// Corrected minute bars (`u`).
    pub updated_bars: Vec<String>,
    /// The day's bar so far (`d`).
    pub daily_bars: Vec<String>,
    /// Trading status: halts and resumptions (`s`).
    pub statuses: Vec<String>,
    /// Limit-up/limit-down bands (`l`).
    pub lulds: Vec<String>,
    /// Trade corrections (`c`).
    pub corrections: Vec<String>,
    /// Trade cancels and errors (`x`).
    pub cancel_errors: Vec<String>,
}

/// One element of a server frame (a frame is an array of them), told
/// apart by `T`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "T")]
#[ts(export)]
pub enum AlpacaMessage {
    /// `connected` or `authenticated`.
    #[serde(rename = "success")]
    Success {
        /// Which.
        msg: String,
    },
    /// A refusal, with Alpaca's code.
    #[serde(rename = "error")]
    Error {
        /// 400 invalid syntax, 401 not authenticated, 402 auth failed, 403
        /// already authenticated, 404 auth timeout, 405 symbol limit
        /// exceeded, 409 insufficient subscription.
        code: u16,
        /// What was refused, and why.
        msg: String,
    },
    /// The subscriptions now in force.
    #[serde(rename = "subscription")]
    Subscription(AlpacaChannels),
    /// A trade.
    #[serde(rename = "t")]
    Trade(AlpacaTrade),
    /// A change of the best bid or offer.
    #[serde(rename = "q")]
    Quote(AlpacaQuote),
    /// A minute bar.
    #[serde(rename = "b")]
    Bar(AlpacaBar),
    /// The day's bar so far.
    #[serde(rename = "d")]
    DailyBar(AlpacaBar),
    /// A trading status change.
    #[serde(rename = "s")]
    Status(AlpacaStatus),
    /// A limit-up/limit-down band.
    #[serde(rename = "l")]
    Luld(AlpacaLuld),
}

/// A trade (`t`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AlpacaTrade {
    /// Ticker symbol.
    #[serde(rename = "S")]
    pub symbol: String,
    /// Trade ID, unique in the stream.
    pub i: u64,
    /// Price.
    pub p: f64,
    /// Shares.
    pub s: u64,
    /// Time.
    pub t: AlpacaTime,
}

/// The best bid and offer (`q`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AlpacaQuote {
    /// Ticker symbol.
    #[serde(rename = "S")]
    pub symbol: String,
    /// Bid price.
    pub bp: f64,
    /// Bid size, shares.
    pub bs: u64,
    /// Ask price.
    pub ap: f64,
    /// Ask size, shares.
    #[serde(rename = "as")]
    pub as_: u64,
    /// Time.
    pub t: AlpacaTime,
}

/// A bar: a minute's (`b`) or the day's so far (`d`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AlpacaBar {
    /// Ticker symbol.
    #[serde(rename = "S")]
    pub symbol: String,
    /// First price.
    pub o: f64,
    /// Highest price.
    pub h: f64,
    /// Lowest price.
    pub l: f64,
    /// Last price.
    pub c: f64,
    /// Shares traded.
    pub v: u64,
    /// The bar's start.
    pub t: AlpacaTime,
    /// Trades.
    pub n: u64,
    /// Volume-weighted average price.
    pub vw: f64,
}

/// A trading status change (`s`): Nasdaq (UTP) codes, tape C.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AlpacaStatus {
    /// Ticker symbol.
    #[serde(rename = "S")]
    pub symbol: String,
    /// `H` trading halt, `T` trading resumption.
    pub sc: String,
    /// The status in words.
    pub sm: String,
    /// The halt's reason code: `LUDP` (limit-up/limit-down pause) or `T1`
    /// (news pending).
    pub rc: String,
    /// The reason in words.
    pub rm: String,
    /// Time.
    pub t: AlpacaTime,
    /// Tape.
    pub z: String,
}

/// A limit-up/limit-down band (`l`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AlpacaLuld {
    /// Ticker symbol.
    #[serde(rename = "S")]
    pub symbol: String,
    /// The limit-up price.
    pub u: f64,
    /// The limit-down price.
    pub d: f64,
    /// Time.
    pub t: AlpacaTime,
    /// Tape.
    pub z: String,
}

/// A time on Alpaca's stream: RFC 3339 with nanoseconds in JSON, the
/// MessagePack timestamp extension (type −1) in MessagePack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, TS)]
#[ts(type = "string")]
pub struct AlpacaTime(pub DateTime<Utc>);

/// The MessagePack extension type of a timestamp.
const MSGPACK_TIMESTAMP: i8 = -1;

impl AlpacaTime {
    /// The timestamp extension's payload: 64 bits (nanoseconds in the high
    /// 30, seconds in the low 34) while the seconds fit, else 96.
    fn msgpack_payload(&self) -> Vec<u8> {
        let (seconds, nanos) = (self.0.timestamp(), self.0.timestamp_subsec_nanos());
        if (0..1 << 34).contains(&seconds) {
            ((u64::from(nanos) << 34) | seconds as u64)
                .to_be_bytes()
                .to_vec()
        } else {
            let mut payload = nanos.to_be_bytes().to_vec();
            payload.extend_from_slice(&seconds.to_be_bytes());
            payload
        }
    }
}

impl Serialize for AlpacaTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true))
        } else {
            let payload = serde_bytes::ByteBuf::from(self.msgpack_payload());
            serializer.serialize_newtype_struct(
                rmp_serde::MSGPACK_EXT_STRUCT_NAME,
                &(MSGPACK_TIMESTAMP, payload),
            )
        }
    }
}

impl<'de> Deserialize<'de> for AlpacaTime {
    /// From RFC 3339 text (the JSON encoding).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| Self(t.with_timezone(&Utc)))
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> AlpacaTime {
        AlpacaTime(
            DateTime::parse_from_rfc3339(text)
                .unwrap()
                .with_timezone(&Utc),
        )
    }

    #[test]
    fn a_time_is_rfc_3339_in_json_and_the_timestamp_extension_in_msgpack() {
        let time = at("2026-12-03T14:30:00.123456789Z");
        assert_eq!(
            serde_json::to_string(&time).unwrap(),
            r#""2026-12-03T14:30:00.123456789Z""#
        );
        let packed = rmp_serde::to_vec_named(&time).unwrap();
        // fixext 8, type -1, then nanoseconds << 34 | seconds.
        assert_eq!(&packed[..2], &[0xd7, 0xff]);
        let word = u64::from_be_bytes(packed[2..10].try_into().unwrap());
        assert_eq!(word >> 34, 123_456_789);
        assert_eq!(word & ((1 << 34) - 1), 1_796_308_200);
        // Past 2514 the seconds need the 96-bit form: ext 8, length 12.
        let far = rmp_serde::to_vec_named(&at("2600-01-01T00:00:00.5Z")).unwrap();
        assert_eq!(&far[..3], &[0xc7, 12, 0xff]);
        assert_eq!(
            u32::from_be_bytes(far[3..7].try_into().unwrap()),
            500_000_000
        );
    }

    #[test]
    fn a_client_action_decodes_from_json_and_msgpack() {
        let subscribe = AlpacaAction::Subscribe(AlpacaChannels {
            trades: vec!["AAPL".into()],
            bars: vec!["*".into()],
            ..AlpacaChannels::default()
        });
        let json = r#"{"action":"subscribe","trades":["AAPL"],"bars":["*"]}"#;
        assert_eq!(
            serde_json::from_str::<AlpacaAction>(json).unwrap(),
            subscribe
        );
        let packed = rmp_serde::to_vec_named(&subscribe).unwrap();
        assert_eq!(
            rmp_serde::from_slice::<AlpacaAction>(&packed).unwrap(),
            subscribe
        );
        let auth = r#"{"action":"auth","key":"k","secret":"s"}"#;
        assert!(matches!(
            serde_json::from_str::<AlpacaAction>(auth).unwrap(),
            AlpacaAction::Auth { .. }
        ));
    }
}
