//! `Backend`: where the dashboard's data comes from right now. The bundled
//! engine (offline simulation, or reading a Kafka cluster), called
//! in-process: REST through the gateway's router with no socket, the stream
//! through a gateway `Session`. Or a remote `tickstreamd`, over HTTP and
//! WebSocket. Starting one checks that it works and says precisely why not.

use std::{collections::BTreeMap, path::Path, sync::Arc, time::Duration};

use axum::{
    body::Body,
    http::{Method, Request, header},
};
use http_body_util::BodyExt;
use tickstream::{
    config::{self, Config, ConfigError, Layer, PropertyValue},
    engine::{Engine, Role},
    gateway::{GatewayState, POSITIONS_HEADER},
    kafka,
    model::desktop::{Mode, RestReply},
    tls,
};
use tower::ServiceExt;

use crate::secrets::Secrets;

/// How long connecting to a cluster or daemon may take before it counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A running source of data.
pub enum Backend {
    /// The bundled engine.
    Local {
        /// The engine (boxed: it is much larger than a remote).
        engine: Box<Engine>,
        /// Its gateway state (sessions read from it).
        state: Arc<GatewayState>,
    },
    /// A remote daemon.
    Remote(Remote),
}

/// A remote `tickstreamd`.
pub struct Remote {
    /// Its HTTP base, without a trailing slash.
    pub url: String,
    /// Its API key, if one is set.
    pub api_key: Option<String>,
    /// What its TLS certificate is checked against.
    pub tls: Arc<rustls::ClientConfig>,
    client: reqwest::Client,
}

impl Remote {
    /// Its WebSocket address.
    pub fn ws_url(&self) -> String {
        let rest = self
            .url
            .strip_prefix("https://")
            .map(|r| format!("wss://{r}"))
            .or_else(|| {
                self.url
                    .strip_prefix("http://")
                    .map(|r| format!("ws://{r}"))
            })
            .unwrap_or_else(|| self.url.clone());
        format!("{rest}/ws")
    }
}

/// The names secrets are kept under.
pub fn kafka_secret(property: &str) -> String {
    format!("kafka:{property}")
}

/// The remote daemon's API key's name.
pub const REMOTE_API_KEY: &str = "remote:api_key";

/// The engine's configuration: `TICKSTREAM_CONFIG` (a `tickstreamd` TOML
/// file, e.g. a custom universe), then `TICKSTREAM_<SECTION>__<KEY>`
/// variables, then the desktop's own `TICKSTREAM_SEED`, `TICKSTREAM_RATE`
/// and `TICKSTREAM_BACKFILL`.
fn engine_config() -> Result<Config, String> {
    let file = std::env::var_os("TICKSTREAM_CONFIG").map(std::path::PathBuf::from);
    let layers = || -> Result<[Layer; 3], ConfigError> {
        let mut desktop = Layer::new();
        if file.is_none() {
            // A desktop keeps a shorter replay window in memory than a
            // server: about a minute at the default rate, 4 MiB a partition.
            desktop.set(
                "log.retention_records",
                Some("8192"),
                "the desktop's default",
            )?;
            desktop.set(
                "log.retention_bytes",
                Some("4194304"),
                "the desktop's default",
            )?;
        }
        let var = |name: &str| std::env::var(name).ok();
        let mut own = Layer::new();
        own.set(
            "sim.seed",
            var("TICKSTREAM_SEED").as_deref(),
            "TICKSTREAM_SEED",
        )?;
        own.set(
            "sim.rate",
            var("TICKSTREAM_RATE").as_deref(),
            "TICKSTREAM_RATE",
        )?;
        own.set(
            "sim.backfill",
            var("TICKSTREAM_BACKFILL").as_deref(),
            "TICKSTREAM_BACKFILL",
        )?;
        Ok([desktop, Layer::from_env(std::env::vars())?, own])
    };
    let layers = layers().map_err(|e| format!("{e:#}"))?;
    Config::load(file.as_deref(), &layers).map_err(|e| format!("{e:#}"))
}

impl Backend {
    /// Starts `mode`, keeping its store under `data_dir`.
    ///
    /// # Errors
    /// A sentence saying why the mode cannot run: the cluster or daemon is
    /// unreachable (and how), the data directory is unusable, …
    pub async fn start(mode: &Mode, data_dir: &Path, secrets: &Secrets) -> Result<Self, String> {
        match mode {
            Mode::Offline => {
                let mut config = engine_config()?;
                config.store.data_dir = data_dir.join("offline");
                Self::local(&config, Role::AllInOne).await
            }
            Mode::Kafka {
                brokers,
                properties,
                produce,
            } => {
                let mut config = engine_config()?;
                config.store.data_dir = data_dir.join("kafka");
                config.kafka.brokers = brokers.trim().to_owned();
                if config.kafka.brokers.is_empty() {
                    return Err("enter the cluster's bootstrap servers, e.g. k1:9092".into());
                }
                for (key, value) in properties {
                    config
                        .kafka
                        .properties
                        .insert(key.clone(), PropertyValue::Text(value.clone()));
                }
                for key in secret_properties(properties) {
                    if let Some(value) = secrets.get(&kafka_secret(&key)) {
                        config
                            .kafka
                            .properties
                            .insert(key, PropertyValue::Text(value));
                    }
                }
                config.validate().map_err(|problems| {
                    problems
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                })?;
                let kafka_config = config.kafka.clone();
                tokio::task::spawn_blocking(move || kafka::probe(&kafka_config, CONNECT_TIMEOUT))
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| e.to_string())?;
                let role = if *produce {
                    Role::AllInOne
                } else {
                    Role::Bridge
                };
                Self::local(&config, role).await
            }
            Mode::Remote { url, ca } => {
                let url = url.trim().trim_end_matches('/').to_owned();
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(format!(
                        "{url:?} is not a daemon address: expected https://HOST:PORT or http://HOST:PORT"
                    ));
                }
                let api_key = secrets.get(REMOTE_API_KEY);
                tls::check_key_transport(&url, api_key.is_some()).map_err(|e| e.to_string())?;
                let ca = ca.as_deref().map(str::trim).filter(|c| !c.is_empty());
                let tls = tls::client_config(ca.map(Path::new)).map_err(|e| e.to_string())?;
                let remote = Remote {
                    url,
                    api_key,
                    client: reqwest::Client::builder()
                        .connect_timeout(CONNECT_TIMEOUT)
                        .timeout(Duration::from_secs(30))
                        .tls_backend_preconfigured((*tls).clone())
                        .build()
                        .map_err(|e| e.to_string())?,
                    tls,
                };
                let reply = remote.get("symbols", &BTreeMap::new()).await?;
                if reply.status != 200 || !reply.body.is_array() {
                    return Err(format!(
                        "{} answered {} to /api/v1/symbols: not a tickstreamd gateway",
                        remote.url, reply.status
                    ));
                }
                Ok(Self::Remote(remote))
            }
        }
    }

    async fn local(config: &Config, role: Role) -> Result<Self, String> {
        let engine = Engine::start(config, role, None)
            .await
            .map_err(|e| format!("{e:#}"))?;
        let state = engine
            .state()
            .cloned()
            .expect("a data-serving role has gateway state");
        Ok(Self::Local {
            engine: Box::new(engine),
            state,
        })
    }

    /// `GET /api/v1/{path}?{query}`.
    ///
    /// # Errors
    /// Only when the request could not be made; HTTP errors are replies.
    pub async fn get(
        &self,
        path: &str,
        query: &BTreeMap<String, String>,
    ) -> Result<RestReply, String> {
        match self {
            Self::Local { engine, .. } => {
                in_process(engine, Method::GET, &api_uri(path, query), None).await
            }
            Self::Remote(remote) => remote.get(path, query).await,
        }
    }

    /// `POST`, `PUT` or `DELETE /api/v1/{path}`, with a JSON body when given.
    ///
    /// # Errors
    /// Only when the request could not be made; HTTP errors are replies.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<RestReply, String> {
        let bytes = body.map(|b| serde_json::to_vec(b).expect("JSON values serialize"));
        match self {
            Self::Local { engine, .. } => {
                in_process(engine, method, &api_uri(path, &BTreeMap::new()), bytes).await
            }
            Self::Remote(remote) => {
                let mut request = remote
                    .client
                    .request(method, format!("{}/api/v1/{path}", remote.url));
                if let Some(bytes) = bytes {
                    request = request
                        .header(header::CONTENT_TYPE, "application/json")
                        .body(bytes);
                }
                remote.send(request).await
            }
        }
    }

    /// Stops the engine (flushing its store); a remote needs nothing.
    pub async fn shutdown(self) {
        if let Self::Local { engine, .. } = self {
            engine.shutdown().await;
        }
    }
}

impl Remote {
    async fn get(&self, path: &str, query: &BTreeMap<String, String>) -> Result<RestReply, String> {
        let request = self
            .client
            .get(format!("{}{}", self.url, api_uri(path, query)));
        self.send(request).await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<RestReply, String> {
        let request = match &self.api_key {
            Some(key) => request.bearer_auth(key),
            None => request,
        };
        let response = request.send().await.map_err(|e| {
            let mut reason = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                reason = format!("{reason}: {cause}");
                source = cause.source();
            }
            format!("cannot reach {}: {reason}", self.url)
        })?;
        let status = response.status().as_u16();
        let positions = positions(response.headers());
        let bytes = response
            .bytes()
            .await
            .map_err(|e| format!("{} answered {status} but the body failed: {e}", self.url))?;
        let body = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|e| format!("{} answered {status} without JSON: {e}", self.url))?
        };
        Ok(RestReply {
            status,
            body,
            positions,
        })
    }
}

fn api_uri(path: &str, query: &BTreeMap<String, String>) -> String {
    let query: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    if query.is_empty() {
        format!("/api/v1/{path}")
    } else {
        format!("/api/v1/{path}?{}", query.join("&"))
    }
}

/// Percent-encodes a query component.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `tickstream-positions` header of an answer, local or remote.
fn positions(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get(POSITIONS_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Calls the engine's gateway in-process.
async fn in_process(
    engine: &Engine,
    method: Method,
    uri: &str,
    body: Option<Vec<u8>>,
) -> Result<RestReply, String> {
    let mut request = Request::builder().method(method).uri(uri);
    if body.is_some() {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    let request = request
        .body(Body::from(body.unwrap_or_default()))
        .map_err(|e| e.to_string())?;
    let response = engine
        .router()
        .oneshot(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let positions = positions(response.headers());
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    Ok(RestReply {
        status,
        body,
        positions,
    })
}

/// The secret properties a Kafka mode may need from the keychain: the
/// usual ones, and any named in its settings.
pub fn secret_properties(properties: &BTreeMap<String, String>) -> Vec<String> {
    let mut names: Vec<String> = [
        "sasl.password",
        "ssl.key.password",
        "ssl.keystore.password",
        "sasl.oauthbearer.client.secret",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain(properties.keys().filter(|k| config::is_secret(k)).cloned())
    .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_api_uris() {
        let query: BTreeMap<String, String> = [
            ("symbol".to_owned(), "BRK.B".to_owned()),
            ("from".to_owned(), "2026-01-01T00:00:00+01:00".to_owned()),
        ]
        .into();
        assert_eq!(
            api_uri("candles", &query),
            "/api/v1/candles?from=2026-01-01T00%3A00%3A00%2B01%3A00&symbol=BRK.B"
        );
        assert_eq!(api_uri("symbols", &BTreeMap::new()), "/api/v1/symbols");
    }
}
