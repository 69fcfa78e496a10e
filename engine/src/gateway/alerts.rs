//! `/api/v1/alerts`: the alert rules, listed, created, read, replaced and
//! deleted; a rule that cannot be is refused with its field named.

use std::sync::Arc;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};

use super::{
    GatewayState,
    rest::{ApiError, blocking},
};
use crate::model::{AlertRule, ErrorCode};

/// The routes.
pub fn routes() -> Router<Arc<GatewayState>> {
    Router::new()
        .route("/api/v1/alerts", get(list).post(create))
        .route("/api/v1/alerts/{id}", get(read).put(replace).delete(remove))
}

fn id_of(text: &str) -> Result<u64, ApiError> {
    text.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidParameter,
            format!("id: {text:?} is not a rule id"),
        )
    })
}

fn not_found(id: u64) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        format!("no alert rule {id}"),
    )
}

/// Reads and checks a rule from a request body.
fn rule_from(state: &GatewayState, body: &[u8]) -> Result<AlertRule, ApiError> {
    let rule: AlertRule = ApiError::parse_body(body, ErrorCode::InvalidRule, "alert rule")?;
    rule.validate().map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidRule,
            format!("invalid alert rule field {e}"),
        )
    })?;
    if !state.market.is_known(&rule.symbol) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::UnknownSymbol,
            format!("symbol: {} is not a known symbol", rule.symbol),
        ));
    }
    Ok(rule)
}

async fn list(State(state): State<Arc<GatewayState>>) -> Result<Json<Vec<AlertRule>>, ApiError> {
    let alerts = state.stored.alerts.clone();
    Ok(Json(blocking(move || alerts.list()).await?))
}

async fn create(State(state): State<Arc<GatewayState>>, body: Bytes) -> Result<Response, ApiError> {
    let rule = rule_from(&state, &body)?;
    let alerts = state.stored.alerts.clone();
    let created = blocking(move || alerts.create(rule)).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn read(
    State(state): State<Arc<GatewayState>>,
    Path(id): Path<String>,
) -> Result<Json<AlertRule>, ApiError> {
    let id = id_of(&id)?;
    let alerts = state.stored.alerts.clone();
    blocking(move || alerts.get(id))
        .await?
        .map(Json)
        .ok_or_else(|| not_found(id))
}

async fn replace(
    State(state): State<Arc<GatewayState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<AlertRule>, ApiError> {
    let id = id_of(&id)?;
    let mut rule = rule_from(&state, &body)?;
    rule.id = id;
    let alerts = state.stored.alerts.clone();
    let stored = rule.clone();
    if blocking(move || alerts.update(stored)).await? {
        Ok(Json(rule))
    } else {
        Err(not_found(id))
    }
}

async fn remove(
    State(state): State<Arc<GatewayState>>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = id_of(&id)?;
    let alerts = state.stored.alerts.clone();
    if blocking(move || alerts.delete(id)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(id))
    }
}
