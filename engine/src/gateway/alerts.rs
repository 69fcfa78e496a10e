//! `/api/v1/alerts`: the alert rules, listed, created, read, replaced and
//! deleted; a rule that cannot be is refused with its field named.

use std::sync::Arc;

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};

use super::{
    GatewayState,
    rest::{ApiError, blocking},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::model::{AlertRule, ErrorBody, ErrorCode};

/// The routes, with their operations.
pub fn routes() -> OpenApiRouter<Arc<GatewayState>> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(read, replace, remove))
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

#[utoipa::path(get, path = "/api/v1/alerts", summary = "Every alert rule", tag = "alerts",
    responses((status = 200, description = "Every alert rule", body = Vec<AlertRule>)))]
async fn list(State(state): State<Arc<GatewayState>>) -> Result<Json<Vec<AlertRule>>, ApiError> {
    Ok(Json(list_rules(&state).await?))
}

/// Every rule; what `GET /api/v1/alerts` and GraphQL's `alertRules` answer.
pub(super) async fn list_rules(state: &GatewayState) -> Result<Vec<AlertRule>, ApiError> {
    let alerts = state.stored.alerts.clone();
    blocking(move || alerts.list()).await
}

#[utoipa::path(post, path = "/api/v1/alerts", summary = "Creates an alert rule", tag = "alerts",
    request_body(content = AlertRule, description = "The rule; `id` is assigned"),
    responses(
        (status = 201, description = "The rule as stored, with its id", body = AlertRule),
        (status = 400, description = "The rule or id is invalid; the message names the field", body = ErrorBody),
        (status = 404, description = "The rule's symbol is not known", body = ErrorBody),
    ))]
async fn create(State(state): State<Arc<GatewayState>>, body: Bytes) -> Result<Response, ApiError> {
    let created = create_rule(&state, &body).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// Creates the rule in a JSON `body`; what `POST /api/v1/alerts` and
/// GraphQL's `createAlertRule` do.
pub(super) async fn create_rule(state: &GatewayState, body: &[u8]) -> Result<AlertRule, ApiError> {
    let rule = rule_from(state, body)?;
    let alerts = state.stored.alerts.clone();
    blocking(move || alerts.create(rule)).await
}

#[utoipa::path(get, path = "/api/v1/alerts/{id}", summary = "One alert rule", tag = "alerts",
    params(("id" = u64, Path, description = "The rule's id")),
    responses(
        (status = 200, description = "The rule", body = AlertRule),
        (status = 400, description = "The rule or id is invalid; the message names the field", body = ErrorBody),
        (status = 404, description = "No such rule, or the rule's symbol is not known", body = ErrorBody),
    ))]
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

#[utoipa::path(put, path = "/api/v1/alerts/{id}", summary = "Replaces an alert rule", tag = "alerts",
    params(("id" = u64, Path, description = "The rule's id")),
    request_body(content = AlertRule, description = "The new rule; its `id` is ignored"),
    responses(
        (status = 200, description = "The rule as stored", body = AlertRule),
        (status = 400, description = "The rule or id is invalid; the message names the field", body = ErrorBody),
        (status = 404, description = "No such rule, or the rule's symbol is not known", body = ErrorBody),
    ))]
async fn replace(
    State(state): State<Arc<GatewayState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<AlertRule>, ApiError> {
    Ok(Json(replace_rule(&state, id_of(&id)?, &body).await?))
}

/// Replaces rule `id` with the rule in a JSON `body`; what `PUT
/// /api/v1/alerts/{id}` and GraphQL's `replaceAlertRule` do.
pub(super) async fn replace_rule(
    state: &GatewayState,
    id: u64,
    body: &[u8],
) -> Result<AlertRule, ApiError> {
    let mut rule = rule_from(state, body)?;
    rule.id = id;
    let alerts = state.stored.alerts.clone();
    let stored = rule.clone();
    if blocking(move || alerts.update(stored)).await? {
        Ok(rule)
    } else {
        Err(not_found(id))
    }
}

#[utoipa::path(delete, path = "/api/v1/alerts/{id}", summary = "Deletes an alert rule", tag = "alerts",
    params(("id" = u64, Path, description = "The rule's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "The rule or id is invalid; the message names the field", body = ErrorBody),
        (status = 404, description = "No such rule, or the rule's symbol is not known", body = ErrorBody),
    ))]
async fn remove(
    State(state): State<Arc<GatewayState>>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    delete_rule(&state, id_of(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes rule `id`; what `DELETE /api/v1/alerts/{id}` and GraphQL's
/// `deleteAlertRule` do.
pub(super) async fn delete_rule(state: &GatewayState, id: u64) -> Result<(), ApiError> {
    let alerts = state.stored.alerts.clone();
    if blocking(move || alerts.delete(id)).await? {
        Ok(())
    } else {
        Err(not_found(id))
    }
}
