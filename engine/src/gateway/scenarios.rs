//! `/api/v1/scenarios`: inject market scenarios into the running simulator
//! (`POST`, one JSON scenario) and list them with their states (`GET`).

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};

use utoipa_axum::{router::OpenApiRouter, routes};

use super::rest::ApiError;
use crate::{
    model::{ErrorBody, ErrorCode, Scenario, ScenarioStatus},
    sim::{ScenarioError, ScenarioRequest, SimHandle},
};

/// The routes, with their operations; without a simulator (a bridge)
/// they answer 503.
pub fn routes<S: Clone + Send + Sync + 'static>(simulator: Option<SimHandle>) -> OpenApiRouter<S> {
    OpenApiRouter::new()
        .routes(routes!(list, inject))
        .with_state(simulator)
}

#[utoipa::path(get, path = "/api/v1/scenarios", summary = "Every scenario injected", tag = "simulator",
    responses(
        (status = 200, description = "Every scenario injected, with its state", body = Vec<ScenarioStatus>),
        (status = 503, description = "This process runs no simulator", body = ErrorBody),
    ))]
async fn list(State(simulator): State<Option<SimHandle>>) -> Result<Response, ApiError> {
    Ok(Json(list_of(simulator.as_ref())?).into_response())
}

/// Every scenario `simulator` accepted; what `GET /api/v1/scenarios` and
/// GraphQL's `scenarios` answer.
pub(super) fn list_of(simulator: Option<&SimHandle>) -> Result<Vec<ScenarioStatus>, ApiError> {
    let simulator = simulator.ok_or_else(|| error(&ScenarioError::NoSimulator))?;
    Ok(simulator.scenarios())
}

#[utoipa::path(post, path = "/api/v1/scenarios", summary = "Injects a scenario", tag = "simulator",
    request_body(content = Scenario, description = "One scenario"),
    responses(
        (status = 201, description = "The scenario, scheduled", body = ScenarioStatus),
        (status = 400, description = "The scenario is invalid; the message names the field", body = ErrorBody),
        (status = 404, description = "An unknown symbol or sector", body = ErrorBody),
        (status = 409, description = "The symbol is already halted (or not halted), or too many scenarios are active", body = ErrorBody),
        (status = 503, description = "This process runs no simulator", body = ErrorBody),
    ))]
async fn inject(
    State(simulator): State<Option<SimHandle>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidJson,
            format!("the body is not JSON: {e}"),
        )
    })?;
    let status = inject_into(simulator.as_ref(), value).await?;
    Ok((StatusCode::CREATED, Json(status)).into_response())
}

/// Injects the scenario in `value` into `simulator`; what `POST
/// /api/v1/scenarios` and GraphQL's `injectScenario` do.
pub(super) async fn inject_into(
    simulator: Option<&SimHandle>,
    value: serde_json::Value,
) -> Result<ScenarioStatus, ApiError> {
    let simulator = simulator.ok_or_else(|| error(&ScenarioError::NoSimulator))?;
    let request = ScenarioRequest::from_json(value).map_err(|e| error(&e))?;
    simulator.inject(request).await.map_err(|e| error(&e))
}

fn error(error: &ScenarioError) -> ApiError {
    let (status, code) = match error {
        ScenarioError::Malformed(_) | ScenarioError::Invalid { .. } => {
            (StatusCode::BAD_REQUEST, ErrorCode::InvalidScenario)
        }
        ScenarioError::UnknownSymbol(_) => (StatusCode::NOT_FOUND, ErrorCode::UnknownSymbol),
        ScenarioError::UnknownSector { .. } => (StatusCode::NOT_FOUND, ErrorCode::UnknownSector),
        ScenarioError::AlreadyHalted(_)
        | ScenarioError::NotHalted(_)
        | ScenarioError::Limit { .. } => (StatusCode::CONFLICT, ErrorCode::Conflict),
        ScenarioError::NoSimulator => (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::NoSimulator),
    };
    ApiError::new(status, code, error.to_string())
}
