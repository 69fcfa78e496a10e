//! Paper trading over REST: `/api/v1/orders` (place, list, read, change,
//! cancel), `/api/v1/fills` and `/api/v1/accounts`. Placing, changing and
//! cancelling need the `write` scope; each refusal names the field.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json,
    body::Bytes,
    extract::{Path, Query, State, rejection::QueryRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    GatewayState,
    rest::{ApiError, Params, blocking, join_error},
};
use crate::{
    model::{
        Account, ErrorBody, ErrorCode, Fill, NewAccount, NewOrder, Order, OrderChange, PlacedOrder,
        Symbol, TradingEvent,
    },
    trading::{Broker, TradingError},
};

/// Default and largest `limit` of order and fill lists.
const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 10_000;

/// The routes, with their operations.
pub fn routes() -> OpenApiRouter<Arc<GatewayState>> {
    OpenApiRouter::new()
        .routes(routes!(list_orders, place))
        .routes(routes!(read_order, change, cancel))
        .routes(routes!(list_fills))
        .routes(routes!(list_accounts, open_account))
        .routes(routes!(read_account))
}

impl From<TradingError> for ApiError {
    fn from(error: TradingError) -> Self {
        let (status, code) = match &error {
            TradingError::Invalid(_) => (StatusCode::BAD_REQUEST, ErrorCode::InvalidOrder),
            TradingError::NotFound(_) => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            TradingError::Conflict(_) => (StatusCode::CONFLICT, ErrorCode::Conflict),
            TradingError::InsufficientFunds(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::InsufficientBuyingPower,
            ),
            TradingError::InsufficientShares(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::InsufficientShares,
            ),
            TradingError::Store(_) => return ApiError::internal(error),
        };
        ApiError::new(status, code, error.to_string())
    }
}

/// Runs a broker call off the async runtime (it writes the store).
async fn on_broker<T: Send + 'static>(
    state: &GatewayState,
    call: impl FnOnce(&Broker) -> Result<T, TradingError> + Send + 'static,
) -> Result<T, ApiError> {
    let broker = state.stored.trading.clone();
    tokio::task::spawn_blocking(move || call(&broker))
        .await
        .map_err(join_error)?
        .map_err(ApiError::from)
}

/// The order and fills among what a call changed.
fn placed(changes: Vec<TradingEvent>) -> Result<PlacedOrder, ApiError> {
    let mut order = None;
    let mut fills = Vec::new();
    for change in changes {
        match change {
            TradingEvent::Order(o) => order = Some(o),
            TradingEvent::Fill(f) => fills.push(f),
        }
    }
    let order = order.ok_or_else(|| ApiError::internal("a placed order reported no order"))?;
    Ok(PlacedOrder { order, fills })
}

fn id_of(text: &str) -> Result<u64, ApiError> {
    text.parse().map_err(|_| {
        ApiError::bad(
            ErrorCode::InvalidParameter,
            format!("id: {text:?} is not an order id"),
        )
    })
}

/// `limit` (1 to [`MAX_LIMIT`]) of a list query.
fn limit_of(params: &Params) -> Result<u32, ApiError> {
    let limit = params.number("limit", DEFAULT_LIMIT)?;
    if (1..=MAX_LIMIT).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::bad(
            ErrorCode::InvalidParameter,
            format!("limit: expected 1 to {MAX_LIMIT}, got {limit}"),
        ))
    }
}

#[utoipa::path(post, path = "/api/v1/orders", summary = "Places a paper order", tag = "trading",
    request_body(content = NewOrder, description = "The order"),
    responses(
        (status = 201, description = "The order as it stands after what it filled at once (`filled`, `canceled` for IOC/FOK remainders, `open` resting, `pending` stops), with those fills", body = PlacedOrder),
        (status = 400, description = "The order is invalid; the message names the field", body = ErrorBody),
        (status = 404, description = "No such account, or the symbol is not known", body = ErrorBody),
        (status = 409, description = "A working order of the account has this `client_order_id`", body = ErrorBody),
        (status = 422, description = "`insufficient_buying_power`, or `insufficient_shares` for a sale of more than is held (no short sales)", body = ErrorBody),
    ))]
async fn place(State(state): State<Arc<GatewayState>>, body: Bytes) -> Result<Response, ApiError> {
    let placed = place_order(&state, &body).await?;
    Ok((StatusCode::CREATED, Json(placed)).into_response())
}

/// Places the order in a JSON `body`: what `POST /api/v1/orders` and
/// GraphQL's `placeOrder` do.
pub(super) async fn place_order(
    state: &GatewayState,
    body: &[u8],
) -> Result<PlacedOrder, ApiError> {
    let new: NewOrder = ApiError::parse_body(body, ErrorCode::InvalidOrder, "order")?;
    let symbol = Symbol::new(&new.symbol)
        .map_err(|e| ApiError::bad(ErrorCode::InvalidOrder, format!("symbol: {e}")))?;
    if !state.market.is_known(&symbol) {
        return Err(ApiError::not_found(
            ErrorCode::UnknownSymbol,
            format!("symbol: {symbol} is not a known symbol (GET /api/v1/symbols lists them)"),
        ));
    }
    placed(on_broker(state, move |broker| broker.submit(new, symbol)).await?)
}

#[utoipa::path(get, path = "/api/v1/orders", summary = "Paper orders, newest first", tag = "trading",
    params(
        ("account" = Option<String>, Query, description = "Only this account's"),
        ("limit" = Option<u32>, Query, description = "At most this many, 1 to 10000 (default 100)"),
    ),
    responses(
        (status = 200, description = "The orders, newest first", body = Vec<Order>),
        (status = 400, description = "A parameter is unknown or malformed; the message names it", body = ErrorBody),
    ))]
async fn list_orders(
    State(state): State<Arc<GatewayState>>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Vec<Order>>, ApiError> {
    Ok(Json(find_orders(&state, query?.0).await?))
}

/// The orders `raw` (`account`, `limit`) asks for: what `GET /api/v1/orders`
/// and GraphQL's `orders` answer.
pub(super) async fn find_orders(
    state: &GatewayState,
    raw: HashMap<String, String>,
) -> Result<Vec<Order>, ApiError> {
    let params = Params::new(raw, &["account", "limit"])?;
    let limit = limit_of(&params)?;
    let account = params.text("account").map(str::to_owned);
    let broker = state.stored.trading.clone();
    blocking(move || broker.orders(account.as_deref(), limit)).await
}

#[utoipa::path(get, path = "/api/v1/orders/{id}", summary = "One paper order", tag = "trading",
    params(("id" = u64, Path, description = "The order's id")),
    responses(
        (status = 200, description = "The order", body = Order),
        (status = 400, description = "The id is malformed", body = ErrorBody),
        (status = 404, description = "No such order", body = ErrorBody),
    ))]
async fn read_order(
    State(state): State<Arc<GatewayState>>,
    Path(id): Path<String>,
) -> Result<Json<Order>, ApiError> {
    Ok(Json(find_order(&state, id_of(&id)?).await?))
}

/// Order `id`: what `GET /api/v1/orders/{id}` and GraphQL's `order` answer.
pub(super) async fn find_order(state: &GatewayState, id: u64) -> Result<Order, ApiError> {
    let broker = state.stored.trading.clone();
    blocking(move || broker.order(id))
        .await?
        .ok_or_else(|| ApiError::not_found(ErrorCode::NotFound, format!("id: no order {id}")))
}

#[utoipa::path(put, path = "/api/v1/orders/{id}", summary = "Changes a working paper order", tag = "trading",
    params(("id" = u64, Path, description = "The order's id")),
    request_body(content = OrderChange, description = "What changes: `quantity`, `limit_price`, `stop_price`"),
    responses(
        (status = 200, description = "The order as changed, with what it filled at once", body = PlacedOrder),
        (status = 400, description = "The change is invalid; the message names the field", body = ErrorBody),
        (status = 409, description = "The order is not working (filled, cancelled, expired or unknown)", body = ErrorBody),
        (status = 422, description = "`insufficient_buying_power` or `insufficient_shares` for the changed order", body = ErrorBody),
    ))]
async fn change(
    State(state): State<Arc<GatewayState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<PlacedOrder>, ApiError> {
    Ok(Json(change_order(&state, id_of(&id)?, &body).await?))
}

/// Changes order `id` as a JSON `body` says: what `PUT /api/v1/orders/{id}`
/// and GraphQL's `changeOrder` do.
pub(super) async fn change_order(
    state: &GatewayState,
    id: u64,
    body: &[u8],
) -> Result<PlacedOrder, ApiError> {
    let change: OrderChange = ApiError::parse_body(body, ErrorCode::InvalidOrder, "order change")?;
    placed(on_broker(state, move |broker| broker.replace(id, change)).await?)
}

#[utoipa::path(delete, path = "/api/v1/orders/{id}", summary = "Cancels a working paper order", tag = "trading",
    params(("id" = u64, Path, description = "The order's id")),
    responses(
        (status = 200, description = "The order, cancelled", body = Order),
        (status = 400, description = "The id is malformed", body = ErrorBody),
        (status = 409, description = "The order is not working (filled, cancelled, expired or unknown)", body = ErrorBody),
    ))]
async fn cancel(
    State(state): State<Arc<GatewayState>>,
    Path(id): Path<String>,
) -> Result<Json<Order>, ApiError> {
    Ok(Json(cancel_order(&state, id_of(&id)?).await?))
}

/// Cancels order `id`: what `DELETE /api/v1/orders/{id}` and GraphQL's
/// `cancelOrder` do.
pub(super) async fn cancel_order(state: &GatewayState, id: u64) -> Result<Order, ApiError> {
    Ok(placed(on_broker(state, move |broker| broker.cancel(id)).await?)?.order)
}

#[utoipa::path(get, path = "/api/v1/fills", summary = "Paper fills, oldest first", tag = "trading",
    params(
        ("account" = Option<String>, Query, description = "Only this account's"),
        ("after" = Option<u64>, Query, description = "Only fills after this id (default 0: from the first)"),
        ("limit" = Option<u32>, Query, description = "At most this many, 1 to 10000 (default 100)"),
    ),
    responses(
        (status = 200, description = "The fills, oldest first", body = Vec<Fill>),
        (status = 400, description = "A parameter is unknown or malformed; the message names it", body = ErrorBody),
    ))]
async fn list_fills(
    State(state): State<Arc<GatewayState>>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Vec<Fill>>, ApiError> {
    Ok(Json(find_fills(&state, query?.0).await?))
}

/// The fills `raw` (`account`, `after`, `limit`) asks for: what
/// `GET /api/v1/fills` and GraphQL's `fills` answer.
pub(super) async fn find_fills(
    state: &GatewayState,
    raw: HashMap<String, String>,
) -> Result<Vec<Fill>, ApiError> {
    let params = Params::new(raw, &["account", "after", "limit"])?;
    let limit = limit_of(&params)?;
    let after: u64 = params.number("after", 0)?;
    let account = params.text("account").map(str::to_owned);
    let broker = state.stored.trading.clone();
    blocking(move || broker.fills(account.as_deref(), after, limit)).await
}

#[utoipa::path(get, path = "/api/v1/accounts", summary = "Paper accounts", tag = "trading",
    responses((status = 200, description = "Every account: cash, buying power, equity, profit and loss, positions", body = Vec<Account>)))]
async fn list_accounts(State(state): State<Arc<GatewayState>>) -> Json<Vec<Account>> {
    Json(state.stored.trading.accounts())
}

#[utoipa::path(get, path = "/api/v1/accounts/{name}", summary = "One paper account", tag = "trading",
    params(("name" = String, Path, description = "The account's name (every engine has `paper`)")),
    responses(
        (status = 200, description = "The account, its holdings valued at the last prices", body = Account),
        (status = 404, description = "No such account", body = ErrorBody),
    ))]
async fn read_account(
    State(state): State<Arc<GatewayState>>,
    Path(name): Path<String>,
) -> Result<Json<Account>, ApiError> {
    Ok(Json(find_account(&state, &name)?))
}

/// Account `name`: what `GET /api/v1/accounts/{name}` and GraphQL's
/// `account` answer.
pub(super) fn find_account(state: &GatewayState, name: &str) -> Result<Account, ApiError> {
    state.stored.trading.account(name).ok_or_else(|| {
        ApiError::not_found(ErrorCode::NotFound, format!("name: no account {name:?}"))
    })
}

#[utoipa::path(post, path = "/api/v1/accounts", summary = "Opens a paper account", tag = "trading",
    request_body(content = NewAccount, description = "Its name and starting cash"),
    responses(
        (status = 201, description = "The account", body = Account),
        (status = 400, description = "The name or cash is invalid; the message names the field", body = ErrorBody),
        (status = 409, description = "An account has the name", body = ErrorBody),
    ))]
async fn open_account(
    State(state): State<Arc<GatewayState>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let account = open_account_from(&state, &body).await?;
    Ok((StatusCode::CREATED, Json(account)).into_response())
}

/// Opens the account a JSON `body` describes: what `POST /api/v1/accounts`
/// and GraphQL's `openAccount` do.
pub(super) async fn open_account_from(
    state: &GatewayState,
    body: &[u8],
) -> Result<Account, ApiError> {
    let new: NewAccount = ApiError::parse_body(body, ErrorCode::InvalidOrder, "account")?;
    on_broker(state, move |broker| broker.open_account(new)).await
}
