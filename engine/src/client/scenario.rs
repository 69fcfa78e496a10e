//! `tickstreamd scenario`: posts a market scenario to a running daemon's
//! REST API (`POST /api/v1/scenarios`, scope `admin`), or lists them (`GET`).

use reqwest::Method;

use super::{ClientError, Daemon};
use crate::sim::ScenarioRequest;

/// Posts the scenario `words` describe (`KIND key=value …`) to `daemon`, or
/// lists its scenarios when `words` is empty; returns the daemon's JSON
/// answer.
///
/// # Errors
/// [`ClientError::Scenario`] when the words make no scenario,
/// [`ClientError::Http`] when the daemon cannot be reached,
/// [`ClientError::Refused`] with the daemon's message when it refuses.
pub async fn scenario(
    daemon: &Daemon<'_>,
    words: &[String],
) -> Result<serde_json::Value, ClientError> {
    let path = "/api/v1/scenarios";
    let (_, body) = if words.is_empty() {
        daemon.call(Method::GET, path, None).await?
    } else {
        let scenario = ScenarioRequest::parse_words(&words.join(" "))?;
        daemon
            .call(Method::POST, path, Some(&scenario.to_json()))
            .await?
    };
    Ok(body)
}
