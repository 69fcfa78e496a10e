//! `/api/v1/scenarios`: inject market scenarios into the running simulator
//! (`POST`, one JSON scenario) and list them with their states (`GET`).

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};

use super::rest::ApiError;
use crate::{
    model::ErrorCode,
    sim::{ScenarioError, ScenarioRequest, SimHandle},
};

/// The routes; without a simulator (a bridge) they answer 503.
pub fn routes(simulator: Option<SimHandle>) -> Router {
    Router::new()
        .route("/api/v1/scenarios", get(list).post(inject))
        .with_state(simulator)
}

async fn list(State(simulator): State<Option<SimHandle>>) -> Result<Response, ApiError> {
    let simulator = simulator.ok_or_else(|| error(&ScenarioError::NoSimulator))?;
    Ok(Json(simulator.scenarios()).into_response())
}

async fn inject(
    State(simulator): State<Option<SimHandle>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let simulator = simulator.ok_or_else(|| error(&ScenarioError::NoSimulator))?;
    let value: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidJson,
            format!("the body is not JSON: {e}"),
        )
    })?;
    let request = ScenarioRequest::from_json(value).map_err(|e| error(&e))?;
    let status = simulator.inject(request).await.map_err(|e| error(&e))?;
    Ok((StatusCode::CREATED, Json(status)).into_response())
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
