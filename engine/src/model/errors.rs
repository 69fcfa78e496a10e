//! Refusals on the wire: one vocabulary of error codes for the WebSocket
//! protocol and REST, and the REST error body.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// Machine-readable reason of a refusal: a WebSocket `error` frame's
/// `code`, and a REST error body's `error.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
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
    /// A required query parameter is missing (REST, 400).
    MissingParameter,
    /// A query parameter has a value it cannot take (REST, 400).
    InvalidParameter,
    /// A query parameter is not one the endpoint takes (REST, 400).
    UnknownParameter,
    /// The query string cannot be read (REST, 400).
    InvalidQuery,
    /// The body is not JSON (REST, 400).
    InvalidJson,
    /// A scenario that cannot be (REST, 400, naming the field).
    InvalidScenario,
    /// An alert rule that cannot be (REST, 400, naming the field).
    InvalidRule,
    /// A watchlist that cannot be (REST, 400, naming the field).
    InvalidWatchlist,
    /// A portfolio that cannot be (REST, 400, naming the field).
    InvalidPortfolio,
    /// A sector no symbol of the universe is in (REST, 404).
    UnknownSector,
    /// No API key, or one not in force (401; WebSocket close code 4401).
    Unauthorized,
    /// The key's scope does not allow this (403).
    Forbidden,
    /// A browser request from an origin not in `gateway.allowed_origins` (403).
    OriginNotAllowed,
    /// The `Host` is not one this gateway serves (403: DNS rebinding).
    HostNotAllowed,
    /// A request body that is not `application/json` (415).
    UnsupportedMediaType,
    /// A request body larger than the gateway takes (413).
    BodyTooLarge,
    /// An API key that cannot be made (REST, 400, naming the field).
    InvalidKey,
    /// Too many requests, or WebSocket frames, in too short a time (429; an
    /// `error` frame on a stream).
    RateLimited,
    /// Too many open streams, from this address or in all (429 or 503).
    TooManyConnections,
    /// The request took longer than `gateway.request_timeout` (408).
    RequestTimeout,
    /// No such endpoint or item (REST, 404).
    NotFound,
    /// The change conflicts with the state (REST, 409): a name taken, a
    /// halted symbol halted again.
    Conflict,
    /// This process runs no simulator (REST, 503: a bridge).
    NoSimulator,
    /// An order, order change or account that cannot be (REST, 400,
    /// naming the field).
    InvalidOrder,
    /// A buy costs more than the account's buying power (REST, 422).
    InsufficientBuyingPower,
    /// A sale of more shares than the account holds and has not already
    /// offered (REST, 422: no short sales).
    InsufficientShares,
    /// A replay, or a command to one, that cannot be (REST, 400, naming the
    /// field).
    InvalidReplay,
    /// The server failed; the cause is in its log (REST, 500).
    Internal,
}

impl ErrorCode {
    /// The code as on the wire, e.g. `invalid_parameter` (metric labels use it).
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// A REST error's body: `{"error":{"code":"invalid_parameter","message":"interval: …"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The code and message of a REST error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct ErrorDetail {
    /// Machine-readable.
    pub code: ErrorCode,
    /// For people: what is wrong, naming the parameter or field.
    pub message: String,
}
