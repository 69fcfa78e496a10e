//! `/api/v1/keys` (scope `admin`): the API keys, listed, created (the key is
//! in the answer, once) and revoked (its streams close with 4401).

use std::sync::Arc;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{delete, get},
};

use super::{
    GatewayState,
    rest::{ApiError, blocking},
};
use crate::{
    auth::KeyError,
    model::{ErrorCode, KeyInfo, NewKey},
};

/// The routes.
pub fn routes() -> Router<Arc<GatewayState>> {
    Router::new()
        .route("/api/v1/keys", get(list).post(create))
        .route("/api/v1/keys/{name}", delete(revoke))
}

async fn list(State(state): State<Arc<GatewayState>>) -> Json<Vec<KeyInfo>> {
    Json(state.stored.access.keys.list())
}

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
