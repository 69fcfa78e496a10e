//! One REST call to a daemon, as the command-line clients make it: the API
//! key as a bearer token, a JSON answer, a refusal turned into its message.

use reqwest::{Method, StatusCode};

use super::ClientError;
use crate::tls::{check_key_transport, client_config};

/// A daemon's REST API at `base_url`, called with `api_key` when given.
pub struct Daemon<'a> {
    /// E.g. `http://127.0.0.1:8080` or `https://ticks.example.com`.
    pub base_url: &'a str,
    /// Sent as `Authorization: Bearer KEY` (never over plain HTTP beyond
    /// loopback).
    pub api_key: Option<&'a str>,
    /// A PEM file of certificates to trust besides the system's.
    pub ca: Option<&'a std::path::Path>,
}

impl Daemon<'_> {
    /// Sends `method` to `path` (under the base URL) with `body` as JSON;
    /// returns the status and the JSON answer (`null` for none).
    ///
    /// # Errors
    /// [`ClientError::Http`] when the daemon cannot be reached or answers
    /// something other than JSON, [`ClientError::Refused`] with the
    /// daemon's message for an error status.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(StatusCode, serde_json::Value), ClientError> {
        let (url, status, text) = self.send(method, path, body).await?;
        let body: serde_json::Value = if text.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).map_err(|_| ClientError::NotJson {
                url: url.clone(),
                status,
            })?
        };
        if !status.is_success() {
            let message = body["error"]["message"].as_str().unwrap_or("no message");
            return Err(ClientError::Refused {
                url,
                status,
                message: message.to_owned(),
            });
        }
        Ok((status, body))
    }

    /// GETs `path` and returns its text (e.g. `/metrics`).
    ///
    /// # Errors
    /// [`ClientError::Http`] when the daemon cannot be reached,
    /// [`ClientError::Refused`] for an error status.
    pub async fn text(&self, path: &str) -> Result<String, ClientError> {
        let (url, status, text) = self.send(Method::GET, path, None).await?;
        if !status.is_success() {
            return Err(ClientError::Refused {
                url,
                status,
                message: text.chars().take(200).collect(),
            });
        }
        Ok(text)
    }

    /// Sends a request; returns its URL, the status and the body's text.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(String, StatusCode, String), ClientError> {
        let url = format!("{}{path}", self.base_url.trim_end_matches('/'));
        check_key_transport(&url, self.api_key.is_some())?;
        let tls = client_config(self.ca)?;
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured((*tls).clone())
            .build()
            .map_err(|source| ClientError::Http {
                what: "cannot set up the HTTP client".into(),
                source,
            })?;
        let mut request = client.request(method, &url);
        if let Some(key) = self.api_key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|source| ClientError::Http {
            what: format!("cannot reach {url}"),
            source,
        })?;
        let status = response.status();
        let text = response.text().await.map_err(|source| ClientError::Http {
            what: format!("{url} answered {status} without a body"),
            source,
        })?;
        Ok((url, status, text))
    }
}
