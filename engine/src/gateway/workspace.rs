//! `/api/v1/watchlists` and `/api/v1/portfolios`: the user's named lists of
//! symbols and positions, listed, created, read, replaced and deleted; a
//! portfolio is also served valued at the latest quotes
//! (`/api/v1/portfolios/{id}/value`).

use std::sync::Arc;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use serde::de::DeserializeOwned;

use super::{
    GatewayState,
    rest::{ApiError, blocking},
};
use crate::{
    model::{ErrorCode, Portfolio, Symbol, Valuation, Watchlist},
    store::StoredItem,
    workspace::ItemError,
};

/// The routes.
pub fn routes() -> Router<Arc<GatewayState>> {
    Router::new()
        .route(
            "/api/v1/watchlists",
            get(list::<Watchlist>).post(create::<Watchlist>),
        )
        .route(
            "/api/v1/watchlists/{id}",
            get(read::<Watchlist>)
                .put(replace::<Watchlist>)
                .delete(remove::<Watchlist>),
        )
        .route(
            "/api/v1/portfolios",
            get(list::<Portfolio>).post(create::<Portfolio>),
        )
        .route(
            "/api/v1/portfolios/{id}",
            get(read::<Portfolio>)
                .put(replace::<Portfolio>)
                .delete(remove::<Portfolio>),
        )
        .route("/api/v1/portfolios/{id}/value", get(value))
}

/// A watchlist or portfolio as the REST API takes it.
trait Item: StoredItem + Send + 'static {
    /// The error code of a body that cannot be one.
    const INVALID: ErrorCode;
    fn validate(&self, known: impl Fn(&Symbol) -> bool) -> Result<(), ItemError>;
}

impl Item for Watchlist {
    const INVALID: ErrorCode = ErrorCode::InvalidWatchlist;
    fn validate(&self, known: impl Fn(&Symbol) -> bool) -> Result<(), ItemError> {
        Watchlist::validate(self, known)
    }
}

impl Item for Portfolio {
    const INVALID: ErrorCode = ErrorCode::InvalidPortfolio;
    fn validate(&self, known: impl Fn(&Symbol) -> bool) -> Result<(), ItemError> {
        Portfolio::validate(self, known)
    }
}

fn id_of<T: StoredItem>(text: &str) -> Result<u64, ApiError> {
    text.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidParameter,
            format!("id: {text:?} is not a {} id", T::KIND),
        )
    })
}

fn not_found<T: StoredItem>(id: u64) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        format!("no {} {id}", T::KIND),
    )
}

/// Reads and checks an item from a request body.
fn item_from<T: Item + DeserializeOwned>(state: &GatewayState, body: &[u8]) -> Result<T, ApiError> {
    let invalid = |message: String| ApiError::new(StatusCode::BAD_REQUEST, T::INVALID, message);
    let item: T = ApiError::parse_body(body, T::INVALID, T::KIND)?;
    item.validate(|s| state.market.is_known(s))
        .map_err(|e| invalid(format!("invalid {} field {e}", T::KIND)))?;
    Ok(item)
}

async fn list<T: Item>(State(state): State<Arc<GatewayState>>) -> Result<Json<Vec<T>>, ApiError> {
    let store = state.stored.workspace.clone();
    Ok(Json(blocking(move || store.lock().list::<T>()).await?))
}

async fn create<T: Item>(
    State(state): State<Arc<GatewayState>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let item: T = item_from(&state, &body)?;
    let store = state.stored.workspace.clone();
    let created = blocking(move || store.lock().create(item)).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn get_item<T: Item>(state: &GatewayState, id: &str) -> Result<T, ApiError> {
    let id = id_of::<T>(id)?;
    let store = state.stored.workspace.clone();
    blocking(move || store.lock().get::<T>(id))
        .await?
        .ok_or_else(|| not_found::<T>(id))
}

async fn read<T: Item>(
    State(state): State<Arc<GatewayState>>,
    Path(id): Path<String>,
) -> Result<Json<T>, ApiError> {
    Ok(Json(get_item(&state, &id).await?))
}

async fn replace<T: Item>(
    State(state): State<Arc<GatewayState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<T>, ApiError> {
    let id = id_of::<T>(&id)?;
    let mut item: T = item_from(&state, &body)?;
    item.set_id(id);
    let store = state.stored.workspace.clone();
    let stored = item.clone();
    if blocking(move || store.lock().update(&stored)).await? {
        Ok(Json(item))
    } else {
        Err(not_found::<T>(id))
    }
}

async fn remove<T: Item>(
    State(state): State<Arc<GatewayState>>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = id_of::<T>(&id)?;
    let store = state.stored.workspace.clone();
    if blocking(move || store.lock().delete::<T>(id)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found::<T>(id))
    }
}

async fn value(
    State(state): State<Arc<GatewayState>>,
    Path(id): Path<String>,
) -> Result<Json<Valuation>, ApiError> {
    let portfolio: Portfolio = get_item(&state, &id).await?;
    Ok(Json(portfolio.value(&state.market.quotes.read())))
}
