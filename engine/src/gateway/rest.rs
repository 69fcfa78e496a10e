//! REST under `/api/v1`: symbols, tick history, candles, indicators and
//! volume analysis, with precise JSON errors for bad parameters.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json,
    extract::{Query, State, rejection::QueryRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use utoipa::{
    IntoParams,
    openapi::{
        KnownFormat, ObjectBuilder, SchemaFormat,
        path::{Parameter, ParameterBuilder, ParameterIn},
        schema::Type,
    },
};

use super::{GatewayState, replays};
use crate::{
    analytics,
    model::{
        AuditEntry, BOOK_DEPTH, Candle, ErrorBody, ErrorCode, ErrorDetail, Indicator,
        IndicatorReply, Interval, OrderBook, Quote, Symbol, Tick, VolumeReport, timestamp,
    },
    store::{Range, StoreError},
};

/// Default and largest `limit` of history queries.
const DEFAULT_LIMIT: usize = 1_000;
const MAX_LIMIT: usize = 10_000;

/// A REST error: a status, a machine-readable code and a message. 4xx say
/// what the client got wrong; 5xx are generic and the cause is logged.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: ErrorCode,
    message: String,
}

impl ApiError {
    /// An error with this status, code and message.
    pub(super) fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// Its status.
    pub(super) fn status(&self) -> StatusCode {
        self.status
    }

    /// Its code.
    pub(super) fn code(&self) -> ErrorCode {
        self.code
    }

    /// Its message.
    pub(super) fn message(&self) -> &str {
        &self.message
    }

    pub(super) fn bad(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code,
            message: message.into(),
        }
    }

    /// Reads a JSON request body into `T`. A `400` with `code` when it does
    /// not fit, naming the field at fault: `invalid {what} field
    /// condition.window: …`.
    pub(super) fn parse_body<T: DeserializeOwned>(
        body: &[u8],
        code: ErrorCode,
        what: &str,
    ) -> Result<T, Self> {
        let mut json = serde_json::Deserializer::from_slice(body);
        let message = match serde_path_to_error::deserialize(&mut json) {
            Ok(value) => match json.end() {
                Ok(()) => return Ok(value),
                Err(e) => format!("invalid {what}: {e}"),
            },
            // Not JSON at all, or nothing to point at: no field to name.
            Err(e) if !e.inner().is_data() || e.path().iter().len() == 0 => {
                format!("invalid {what}: {}", e.inner())
            }
            Err(e) => format!("invalid {what} field {}: {}", e.path(), e.inner()),
        };
        Err(Self::bad(code, message))
    }

    pub(super) fn not_found(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            code,
            message: message.into(),
        }
    }

    pub(super) fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "REST request failed");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: ErrorCode::Internal,
            message: "internal error; see the server log".into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            // A name another item already has: the client's to change.
            StoreError::Duplicate(message) => {
                Self::new(StatusCode::CONFLICT, ErrorCode::Conflict, message)
            }
            other => Self::internal(other),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad(ErrorCode::InvalidQuery, rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.code;
        let body = ErrorBody {
            error: ErrorDetail {
                code,
                message: self.message,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        // For `count_refusals`.
        response.extensions_mut().insert(code);
        response
    }
}

/// Counts each refusal a handler answers in
/// `tickstream_http_refusals_total{code}` (the guard counts its own).
pub(super) async fn count_refusals(
    State(metrics): State<Arc<crate::metrics::Metrics>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    if let Some(code) = response.extensions().get::<ErrorCode>()
        && response.status().is_client_error()
    {
        metrics
            .http_refusals
            .with_label_values(&[&code.name()])
            .inc();
    }
    response
}

/// Query parameters, checked one by one so each error names its parameter.
pub(super) struct Params {
    raw: HashMap<String, String>,
}

impl Params {
    pub(super) fn new(raw: HashMap<String, String>, allowed: &[&str]) -> Result<Self, ApiError> {
        let mut unknown: Vec<&str> = raw
            .keys()
            .map(String::as_str)
            .filter(|k| !allowed.contains(k))
            .collect();
        if !unknown.is_empty() {
            unknown.sort_unstable();
            return Err(ApiError::bad(
                ErrorCode::UnknownParameter,
                format!(
                    "unknown parameter {} (allowed: {})",
                    unknown.join(", "),
                    allowed.join(", ")
                ),
            ));
        }
        Ok(Self { raw })
    }

    fn symbol(&self, state: &GatewayState) -> Result<Symbol, ApiError> {
        let text = self.raw.get("symbol").ok_or_else(|| {
            ApiError::bad(
                ErrorCode::MissingParameter,
                "symbol is required, e.g. ?symbol=AAPL",
            )
        })?;
        let symbol = Symbol::new(text)
            .map_err(|e| ApiError::bad(ErrorCode::InvalidParameter, format!("symbol: {e}")))?;
        if !state.market.is_known(&symbol) {
            return Err(ApiError::not_found(
                ErrorCode::UnknownSymbol,
                format!("unknown symbol {symbol} (GET /api/v1/symbols lists the known ones)"),
            ));
        }
        Ok(symbol)
    }

    fn time(&self, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        self.raw
            .get(name)
            .map(|text| {
                timestamp::parse(text)
                    .map_err(|e| ApiError::bad(ErrorCode::InvalidParameter, format!("{name}: {e}")))
            })
            .transpose()
    }

    fn range(&self) -> Result<Range, ApiError> {
        let (from, to) = (self.time("from")?, self.time("to")?);
        if let (Some(f), Some(t)) = (from, to)
            && f >= t
        {
            return Err(ApiError::bad(
                ErrorCode::InvalidParameter,
                "from must be earlier than to",
            ));
        }
        let limit = match self.raw.get("limit") {
            None => DEFAULT_LIMIT,
            Some(text) => match text.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    return Err(ApiError::bad(
                        ErrorCode::InvalidParameter,
                        format!(
                            "limit: expected a whole number from 1 to {MAX_LIMIT}, got {text:?}"
                        ),
                    ));
                }
            },
        };
        Ok(Range { from, to, limit })
    }

    /// A parameter's text, if given.
    pub(super) fn text(&self, name: &str) -> Option<&str> {
        self.raw.get(name).map(String::as_str)
    }

    pub(super) fn number<T: std::str::FromStr>(
        &self,
        name: &str,
        default: T,
    ) -> Result<T, ApiError> {
        self.raw.get(name).map_or(Ok(default), |text| {
            text.parse().map_err(|_| {
                ApiError::bad(
                    ErrorCode::InvalidParameter,
                    format!("{name}: {text:?} is not a number"),
                )
            })
        })
    }

    fn indicator(&self) -> Result<Indicator, ApiError> {
        let name = self.raw.get("indicator").ok_or_else(|| {
            ApiError::bad(
                ErrorCode::MissingParameter,
                "indicator is required: sma, ema, bollinger, rsi or vwap",
            )
        })?;
        let indicator = match name.as_str() {
            "sma" => Indicator::Sma {
                period: self.number("period", 20)?,
            },
            "ema" => Indicator::Ema {
                period: self.number("period", 20)?,
            },
            "bollinger" => Indicator::Bollinger {
                period: self.number("period", 20)?,
                k: self.number("k", 2.0)?,
            },
            "rsi" => Indicator::Rsi {
                period: self.number("period", 14)?,
            },
            "vwap" => Indicator::Vwap,
            other => {
                return Err(ApiError::bad(
                    ErrorCode::InvalidParameter,
                    format!(
                        "indicator: unknown {other:?}: expected sma, ema, bollinger, rsi or vwap"
                    ),
                ));
            }
        };
        match indicator.problem() {
            Some((field, message)) => Err(ApiError::bad(
                ErrorCode::InvalidParameter,
                format!("{field}: {message}"),
            )),
            None => Ok(indicator),
        }
    }

    fn interval(&self) -> Result<Interval, ApiError> {
        self.raw.get("interval").map_or(Ok(Interval::M1), |text| {
            text.parse()
                .map_err(|e| ApiError::bad(ErrorCode::InvalidParameter, format!("interval: {e}")))
        })
    }
}

/// The range of a history query (`from`, `to`, `limit`), described for the
/// API's document as [`Params::range`] reads it.
impl IntoParams for Range {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let time = |name: &str, description: &str| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Query)
                .description(Some(description))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
                ))
                .build()
        };
        let limit = ParameterBuilder::new()
            .name("limit")
            .parameter_in(ParameterIn::Query)
            .description(Some(format!(
                "Most items returned, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})"
            )))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .maximum(Some(MAX_LIMIT as f64)),
            ))
            .build();
        vec![
            time("from", "Earliest time, RFC 3339 (inclusive)"),
            time("to", "Latest time, RFC 3339 (exclusive); later than `from`"),
            limit,
        ]
    }
}

/// `GET /api/v1/symbols`: every known symbol with its latest quote, sorted.
#[utoipa::path(get, path = "/api/v1/symbols", summary = "Every symbol with its latest quote", tag = "market",
    responses((status = 200, description = "Every known symbol with its latest quote, sorted", body = Vec<Quote>)))]
pub async fn symbols(State(state): State<Arc<GatewayState>>) -> Json<Vec<Quote>> {
    Json(state.market.quotes.read().all())
}

/// `GET /api/v1/book?symbol=&depth=`: a symbol's order book now, with the
/// `seq` its `book` stream continues from.
///
/// # Errors
/// 400 for a missing or malformed parameter, 404 for an unknown symbol or
/// one without a book.
#[utoipa::path(get, path = "/api/v1/book", summary = "A symbol's order book", tag = "market",
    params(
        ("symbol" = Symbol, Query, description = "The symbol, e.g. AAPL"),
        ("depth" = Option<u32>, Query, description = "Levels a side, 1 to 10 (default 10)", minimum = 1, maximum = 10),
    ),
    responses(
        (status = 200, description = "The book, a snapshot: levels best first", body = OrderBook),
        (status = 400, description = "A parameter is missing, unknown or malformed; the message names it", body = ErrorBody),
        (status = 404, description = "The symbol is not known, or has no book (it has not traded since the start, or the market simulates none)", body = ErrorBody),
    ))]
pub async fn book(
    State(state): State<Arc<GatewayState>>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<OrderBook>, ApiError> {
    Ok(Json(find_book(&state, query?.0)?))
}

/// The book `raw` (`symbol`, `depth`) asks for: what `GET /api/v1/book` answers.
pub(super) fn find_book(
    state: &GatewayState,
    raw: HashMap<String, String>,
) -> Result<OrderBook, ApiError> {
    let params = Params::new(raw, &["symbol", "depth"])?;
    let symbol = params.symbol(state)?;
    let depth: usize = params.number("depth", BOOK_DEPTH)?;
    if !(1..=BOOK_DEPTH).contains(&depth) {
        return Err(ApiError::bad(
            ErrorCode::InvalidParameter,
            format!("depth: must be 1 to {BOOK_DEPTH}, got {depth}"),
        ));
    }
    state
        .market
        .log
        .book
        .snapshot(&symbol, depth)
        .ok_or_else(|| {
            ApiError::not_found(
                ErrorCode::NotFound,
                format!(
                    "{symbol} has no order book yet: it has not traded since the engine started, \
                 or the market simulates none (sim.order_book, or a Kafka source)"
                ),
            )
        })
}

/// `GET /api/v1/ticks?symbol=&from=&to=&limit=`: tick history, oldest first.
///
/// # Errors
/// 400 for a missing or malformed parameter, 404 for an unknown symbol.
#[utoipa::path(get, path = "/api/v1/ticks", summary = "Tick history", tag = "market",
    params(
        ("symbol" = Symbol, Query, description = "The symbol, e.g. AAPL"),
        Range,
    ),
    responses(
        (status = 200, description = "Ticks, oldest first", body = Vec<Tick>),
        (status = 400, description = "A parameter is missing, unknown or malformed; the message names it", body = ErrorBody),
        (status = 404, description = "The symbol is not known", body = ErrorBody),
    ))]
pub async fn ticks(
    State(state): State<Arc<GatewayState>>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Vec<Tick>>, ApiError> {
    Ok(Json(find_ticks(&state, query?.0).await?))
}

/// The ticks `raw` (`symbol`, `from`, `to`, `limit`) asks for, oldest first:
/// what `GET /api/v1/ticks` and GraphQL's `ticks` answer.
pub(super) async fn find_ticks(
    state: &GatewayState,
    raw: HashMap<String, String>,
) -> Result<Vec<Tick>, ApiError> {
    let params = Params::new(raw, &["symbol", "from", "to", "limit"])?;
    let symbol = params.symbol(state)?;
    let range = params.range()?;
    state
        .stored
        .query(move |store| store.ticks(&symbol, range))
        .await
}

/// `GET /api/v1/audit?from=&to=&limit=` (scope `admin`): the audit log,
/// newest first.
///
/// # Errors
/// 400 for a malformed parameter.
#[utoipa::path(get, path = "/api/v1/audit", summary = "The audit log", tag = "admin",
    params(
        Range,
    ),
    responses(
        (status = 200, description = "Audit entries, newest first", body = Vec<AuditEntry>),
        (status = 400, description = "A parameter is missing, unknown or malformed; the message names it", body = ErrorBody),
    ))]
pub async fn audit(
    State(state): State<Arc<GatewayState>>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    let range = Params::new(query?.0, &["from", "to", "limit"])?.range()?;
    let entries = state
        .stored
        .access
        .audit
        .recent(range.from, range.to, range.limit)
        .await?;
    Ok(Json(entries))
}

/// `GET /api/v1/volume?days=&minutes=&tz=&symbol=`: each symbol's session
/// volume, share and VWAP deviation, and volume by time of day over the
/// last `days` (default 5) in `minutes`-long slots (default 30) of time
/// zone `tz` (default `America/New_York`), for every symbol or `symbol`.
///
/// # Errors
/// 400 for a malformed parameter, 404 for an unknown symbol.
#[utoipa::path(get, path = "/api/v1/volume", summary = "Volume analysis", tag = "market",
    params(
        ("days" = Option<u32>, Query, description = "Days of history, 1 to 366 (default 5)", minimum = 1, maximum = 366),
        ("minutes" = Option<u32>, Query, description = "Slot length, a multiple of 15 from 15 to 240 (default 30)", minimum = 15, maximum = 240, multiple_of = 15),
        ("tz" = Option<String>, Query, description = "IANA time zone of the slots (default America/New_York)"),
        ("symbol" = Option<Symbol>, Query, description = "Only this symbol (default every symbol)"),
    ),
    responses(
        (status = 200, description = "Session volume by symbol and volume by time of day", body = VolumeReport),
        (status = 400, description = "A parameter is missing, unknown or malformed; the message names it", body = ErrorBody),
        (status = 404, description = "The symbol is not known", body = ErrorBody),
    ))]
pub async fn volume(
    State(state): State<Arc<GatewayState>>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<VolumeReport>, ApiError> {
    Ok(Json(analyse_volume(&state, query?.0).await?))
}

/// The volume analysis `raw` (`days`, `minutes`, `tz`, `symbol`) asks for:
/// what `GET /api/v1/volume` and GraphQL's `volume` answer.
pub(super) async fn analyse_volume(
    state: &GatewayState,
    raw: HashMap<String, String>,
) -> Result<VolumeReport, ApiError> {
    let params = Params::new(raw, &["days", "minutes", "tz", "symbol"])?;
    let symbol = match params.raw.contains_key("symbol") {
        true => Some(params.symbol(state)?),
        false => None,
    };
    let days: i64 = params.number("days", 5)?;
    if !(1..=366).contains(&days) {
        return Err(ApiError::bad(
            ErrorCode::InvalidParameter,
            "days: must be from 1 to 366",
        ));
    }
    let minutes: u32 = params.number("minutes", 30)?;
    if !(15..=240).contains(&minutes) || !minutes.is_multiple_of(15) {
        return Err(ApiError::bad(
            ErrorCode::InvalidParameter,
            "minutes: must be a multiple of 15 from 15 to 240",
        ));
    }
    let zone = params
        .raw
        .get("tz")
        .map_or("America/New_York", String::as_str);
    let tz: chrono_tz::Tz = zone.parse().map_err(|_| {
        ApiError::bad(
            ErrorCode::InvalidParameter,
            format!("tz: {zone:?} is not an IANA time zone, e.g. America/New_York"),
        )
    })?;
    let from = Utc::now() - chrono::Duration::days(days);
    let wanted = symbol.clone();
    let buckets = state
        .stored
        .query(move |store| store.volume_by_bucket(wanted.as_ref(), from))
        .await?;
    let quotes: Vec<_> = state
        .market
        .quotes
        .read()
        .all()
        .into_iter()
        .filter(|q| symbol.as_ref().is_none_or(|s| *s == q.symbol))
        .collect();
    Ok(VolumeReport {
        symbols: analytics::by_symbol(&quotes),
        time_of_day: analytics::by_time_of_day(&buckets, tz, minutes),
    })
}

/// Response header of `candles`: the `stock_ticks` positions the candles
/// include, as `partition=next_offset` pairs (`0=1042,1=977`). A client
/// folding live ticks into the newest candle skips offsets below these.
pub const POSITIONS_HEADER: &str = "tickstream-positions";

/// `GET /api/v1/candles?symbol=&interval=&from=&to=&limit=`: candles, oldest
/// first; the newest may still be open (`closed: false`).
///
/// # Errors
/// 400 for a missing or malformed parameter, 404 for an unknown symbol.
#[utoipa::path(get, path = "/api/v1/candles", summary = "Candles", tag = "market",
    params(
        ("symbol" = Symbol, Query, description = "The symbol, e.g. AAPL"),
        ("interval" = Option<Interval>, Query, description = "Candle interval (default 1m)"),
        ("replay" = Option<u64>, Query, description = "As of this replay's clock: only the ticks it has played count (the positions header is then its stream's)"),
        Range,
    ),
    responses(
        (status = 200, description = "Candles, oldest first; the newest may be open", body = Vec<Candle>,
            headers(("tickstream-positions" = String, description = "The `stock_ticks` positions the candles include, `partition=next_offset` pairs (`0=1042,1=977`)"))),
        (status = 400, description = "A parameter is missing, unknown or malformed; the message names it", body = ErrorBody),
        (status = 404, description = "The symbol or replay is not known", body = ErrorBody),
    ))]
pub async fn candles(
    State(state): State<Arc<GatewayState>>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (candles, positions) = find_candles(&state, query?.0).await?;
    let positions = positions
        .iter()
        .enumerate()
        .map(|(p, next)| format!("{p}={next}"))
        .collect::<Vec<_>>()
        .join(",");
    Ok(([(POSITIONS_HEADER, positions)], Json(candles)).into_response())
}

/// The candles `raw` (`symbol`, `interval`, `from`, `to`, `limit`) asks for,
/// oldest first, with the `stock_ticks` positions they include (next offset
/// per partition): what `GET /api/v1/candles` and GraphQL's `candles` answer.
pub(super) async fn find_candles(
    state: &GatewayState,
    raw: HashMap<String, String>,
) -> Result<(Vec<Candle>, Vec<u64>), ApiError> {
    let params = Params::new(
        raw,
        &["symbol", "interval", "from", "to", "limit", "replay"],
    )?;
    let symbol = params.symbol(state)?;
    let interval = params.interval()?;
    let range = params.range()?;
    if let Some(id) = params.text("replay") {
        let (clock, positions) = replays::replay_of(state, id)?.clock_and_positions();
        let candles = state
            .stored
            .query(move |store| store.candles_as_of(&symbol, interval, range, clock))
            .await?;
        return Ok((candles, positions));
    }
    let topic = state.market.log.ticks.name().to_owned();
    state
        .stored
        .query(move |store| store.candles_with_positions(&topic, &symbol, interval, range))
        .await
}

/// `GET /api/v1/indicators?symbol=&interval=&indicator=&period=&k=&from=&to=&limit=`:
/// an indicator over the symbol's candles, one point per candle, oldest
/// first: `{"start": …, "value": …}` (`middle`, `upper`, `lower` for
/// Bollinger bands). Candles before the range warm the indicator up, so
/// every point returned is settled.
///
/// # Errors
/// 400 for a missing or malformed parameter (named), 404 for an unknown symbol.
#[utoipa::path(get, path = "/api/v1/indicators", summary = "An indicator over candles", tag = "market",
    params(
        ("symbol" = Symbol, Query, description = "The symbol, e.g. AAPL"),
        ("interval" = Option<Interval>, Query, description = "Candle interval (default 1m)"),
        ("indicator" = String, Query, description = "sma, ema, bollinger, rsi or vwap"),
        ("period" = Option<u32>, Query, description = "Candles per value (default 20; 14 for rsi)"),
        ("k" = Option<f64>, Query, description = "Bollinger band width in standard deviations (default 2)"),
        ("replay" = Option<u64>, Query, description = "As of this replay's clock: only the ticks it has played count"),
        Range,
    ),
    responses(
        (status = 200, description = "One point per settled candle, oldest first", body = IndicatorReply),
        (status = 400, description = "A parameter is missing, unknown or malformed; the message names it", body = ErrorBody),
        (status = 404, description = "The symbol or replay is not known", body = ErrorBody),
    ))]
pub async fn indicators(
    State(state): State<Arc<GatewayState>>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<IndicatorReply>, ApiError> {
    Ok(Json(compute_indicator(&state, query?.0).await?))
}

/// The indicator `raw` asks for (the parameters of `GET
/// /api/v1/indicators`): what it and GraphQL's `indicator` answer.
pub(super) async fn compute_indicator(
    state: &GatewayState,
    raw: HashMap<String, String>,
) -> Result<IndicatorReply, ApiError> {
    let params = Params::new(
        raw,
        &[
            "symbol",
            "interval",
            "indicator",
            "period",
            "k",
            "from",
            "to",
            "limit",
            "replay",
        ],
    )?;
    let symbol = params.symbol(state)?;
    let interval = params.interval()?;
    let range = params.range()?;
    let indicator = params.indicator()?;
    let warm_up = match indicator {
        // From the start of the UTC day (at most 10 000 candles back).
        Indicator::Vwap => (86_400 / interval.seconds()).clamp(1, 10_000) as usize,
        other => other.warm_up(),
    };
    let query = Range {
        from: range.from.map(|f| {
            let back = chrono::Duration::seconds(interval.seconds() * warm_up as i64);
            f.checked_sub_signed(back)
                .unwrap_or(DateTime::<Utc>::MIN_UTC)
        }),
        to: range.to,
        limit: range.limit + warm_up,
    };
    let (from, limit) = (range.from, range.limit);
    let clock = match params.text("replay") {
        Some(id) => Some(replays::replay_of(state, id)?.clock_and_positions().0),
        None => None,
    };
    let candle_symbol = symbol.clone();
    let candles = state
        .stored
        .query(move |store| match clock {
            Some(clock) => store.candles_as_of(&candle_symbol, interval, query, clock),
            None => store.candles(&candle_symbol, interval, query),
        })
        .await?;
    let lines = indicator.compute(&candles);
    let mut points: Vec<serde_json::Map<String, serde_json::Value>> = candles
        .iter()
        .enumerate()
        .filter(|(_, c)| from.is_none_or(|f| c.start >= f))
        .filter_map(|(i, c)| {
            let mut point = serde_json::Map::new();
            point.insert("start".into(), timestamp::to_string(&c.start).into());
            for (name, values) in &lines.lines {
                point.insert((*name).into(), values[i]?.into());
            }
            Some(point)
        })
        .collect();
    let excess = points.len().saturating_sub(limit);
    points.drain(..excess);
    Ok(IndicatorReply {
        symbol,
        interval,
        indicator,
        points,
    })
}

/// Any other path under `/api/`.
pub async fn not_found() -> ApiError {
    ApiError::not_found(
        ErrorCode::NotFound,
        "no such endpoint; the API has /api/v1/symbols, ticks, candles, indicators, volume, \
         metrics, alerts, watchlists, portfolios and scenarios",
    )
}

/// Runs store work off the async runtime.
pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(join_error)?
        .map_err(ApiError::from)
}

/// Turns a failed blocking task into an internal error.
pub(super) fn join_error(error: tokio::task::JoinError) -> ApiError {
    ApiError::internal(error)
}
