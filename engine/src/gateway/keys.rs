//! `/api/v1/keys` (scope `admin`): the API keys, listed, created (the key is
//! in the answer, once) and revoked (its streams close with 4401).

use std::sync::Arc;

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};

use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    GatewayState,
    rest::{ApiError, blocking},
};
use crate::{
    auth::KeyError,
    model::{CreatedKey, ErrorBody, ErrorCode, KeyInfo, NewKey},
};

/// The routes, with their operations.
pub fn routes() -> OpenApiRouter<Arc<GatewayState>> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(revoke))
}

#[utoipa::path(get, path = "/api/v1/keys", summary = "Every API key", tag = "admin",
    responses((status = 200, description = "Every key (never the secret)", body = Vec<KeyInfo>)))]
async fn list(State(state): State<Arc<GatewayState>>) -> Json<Vec<KeyInfo>> {
    Json(state.stored.access.keys.list())
}

#[utoipa::path(post, path = "/api/v1/keys", summary = "Creates an API key", tag = "admin",
    request_body(content = NewKey),
    responses(
        (status = 201, description = "The key, with its secret: shown once", body = CreatedKey),
        (status = 400, description = "The key is invalid; the message names the field", body = ErrorBody),
        (status = 409, description = "A key has this name", body = ErrorBody),
    ))]
async fn create(State(state): State<Arc<GatewayState>>, body: Bytes) -> Result<Response, ApiError> {
    let new: NewKey = ApiError::parse_body(&body, ErrorCode::InvalidKey, "key")?;
    let keys = state.stored.access.keys.clone();
    let created = tokio::task::spawn_blocking(move || keys.create(&new, chrono::Utc::now()))
        .await
        .map_err(super::rest::join_error)?
        .map_err(|error| match error {
            KeyError::Store(store) => ApiError::from(store),
            invalid => ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidKey,
                format!("invalid key field {invalid}"),
            ),
        })?;
    tracing::info!(name = %created.info.name, scope = %created.info.scope, "API key created");
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

#[utoipa::path(delete, path = "/api/v1/keys/{name}", summary = "Revokes an API key", tag = "admin",
    params(("name" = String, Path, description = "The key's name")),
    responses(
        (status = 204, description = "Revoked; its streams close with 4401"),
        (status = 404, description = "No key has this name", body = ErrorBody),
    ))]
async fn revoke(
    State(state): State<Arc<GatewayState>>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let keys = state.stored.access.keys.clone();
    let revoked = name.clone();
    if blocking(move || keys.revoke(&revoked)).await? {
        tracing::info!(%name, "API key revoked");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!("no key named {name:?}"),
        ))
    }
}
