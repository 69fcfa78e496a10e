//! `tickstreamd scenario`: posts a market scenario to a running daemon's
//! REST API (`POST /api/v1/scenarios`), or lists them (`GET`).

use super::ClientError;
use crate::sim::ScenarioRequest;

/// Posts the scenario `words` describe (`KIND key=value …`) to the daemon
/// at `base_url`, or lists its scenarios when `words` is empty; returns the
/// daemon's JSON answer.
///
/// # Errors
/// [`ClientError::Scenario`] when the words make no scenario,
/// [`ClientError::Http`] when the daemon cannot be reached,
/// [`ClientError::Refused`] with the daemon's message when it refuses.
pub async fn scenario(base_url: &str, words: &[String]) -> Result<serde_json::Value, ClientError> {
    let url = format!("{}/api/v1/scenarios", base_url.trim_end_matches('/'));
    let client = reqwest::Client::new();
    let request = if words.is_empty() {
        client.get(&url)
    } else {
        let scenario = ScenarioRequest::parse_words(&words.join(" "))?;
        client.post(&url).json(&scenario.to_json())
    };
    let response = request.send().await.map_err(|source| ClientError::Http {
        what: format!("cannot reach {url}"),
        source,
    })?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.map_err(|source| ClientError::Http {
        what: format!("{url} answered {status} without JSON"),
        source,
    })?;
    if !status.is_success() {
        let message = body["error"]["message"].as_str().unwrap_or("no message");
        return Err(ClientError::Refused {
            url,
            status,
            message: message.to_owned(),
        });
    }
    Ok(body)
}
