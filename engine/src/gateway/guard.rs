//! The gateway's front door, for requests that come over the network (the
//! desktop's in-process calls do not pass it): the `Host` the gateway was
//! reached by (against DNS rebinding), the `Origin` of browser mutations and
//! WebSocket upgrades (against cross-site requests), JSON bodies on
//! mutations (a `text/plain` POST needs no CORS preflight), then the API key
//! and its scope. Every refusal is a JSON error body, counted by code in
//! `tickstream_http_refusals_total`.
//!
//! What needs which scope is one table, [`scope_for`]: `/api/*`, `/ws`,
//! `/graphql`, `/compat/*` and `/metrics` are guarded; `/healthz`, `/readyz`
//! and the dashboard's static files (which hold no data, and must load to
//! ask for a key) are not. The compatible endpoints' clients send their key
//! in-band, after the upgrade: the guard checks everything else and says
//! whether a key is required ([`KeyRequired`]); the stream checks it.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    Router,
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header, uri::Authority},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::rest::ApiError;
use super::{
    Access, KeyRequired,
    limits::{ClientLimits, Crowded, Limits, StreamSlot},
};
use crate::{
    auth::{AuthError, Caller},
    metrics::Metrics,
    model::{ErrorCode, Scope},
};

/// The largest request body taken: axum's default limit, which refuses a
/// larger one while reading it (a body without `Content-Length`); one
/// announced larger is refused here first, named and counted.
pub const MAX_BODY_BYTES: u64 = 2 * 1024 * 1024;

/// Host names every loopback gateway answers to (besides IP addresses,
/// which every gateway answers to: see [`Guard::admit`]).
const LOOPBACK_HOSTS: &[&str] = &["localhost"];

/// Who may come in, from where; and the record of it.
pub struct Guard {
    access: Access,
    /// While no key exists, serve without one (a loopback listen, or
    /// `gateway.insecure_no_auth`). Once a key exists, keys are required.
    open_while_keyless: bool,
    /// Origins allowed besides the gateway's own, lowercase.
    origins: Vec<String>,
    /// Host names allowed in `Host`, lowercase; `None`: any.
    hosts: Option<Vec<String>>,
    limits: Arc<Limits>,
    metrics: Arc<Metrics>,
}

/// How the gateway is exposed: where it listens and what it accepts.
pub struct Exposure<'a> {
    /// The listen address.
    pub listen: SocketAddr,
    /// `gateway.allowed_origins`.
    pub allowed_origins: &'a [String],
    /// `gateway.public_hosts`.
    pub public_hosts: &'a [String],
    /// `gateway.insecure_no_auth`.
    pub insecure_no_auth: bool,
}

/// A gateway that would serve a network without any key.
#[derive(Debug, thiserror::Error)]
#[error(
    "refusing to serve {listen} without API keys: anyone who reaches it could read and change everything. \
     Create a key first (`tickstreamd keys create --name admin --scope admin`, with the same --data-dir), \
     listen on 127.0.0.1, or pass --insecure-no-auth (gateway.insecure_no_auth) to accept the risk"
)]
pub struct Unprotected {
    /// The listen address.
    pub listen: SocketAddr,
}

impl Guard {
    /// The guard of a gateway exposed as `exposure`, checking the keys of
    /// `access` (recording in its audit log) and holding clients to `limits`.
    ///
    /// # Errors
    /// [`Unprotected`] when it listens beyond loopback, no key exists and
    /// `insecure_no_auth` is off.
    pub fn new(
        access: Access,
        exposure: &Exposure<'_>,
        limits: ClientLimits,
        metrics: Arc<Metrics>,
    ) -> Result<Self, Unprotected> {
        let keyring = &access.keys;
        let loopback = exposure.listen.ip().is_loopback();
        if !loopback && keyring.is_empty() && !exposure.insecure_no_auth {
            return Err(Unprotected {
                listen: exposure.listen,
            });
        }
        if !loopback && keyring.is_empty() {
            tracing::warn!(
                listen = %exposure.listen,
                "serving without API keys (insecure_no_auth): anyone who reaches this port can read and change everything"
            );
        }
        let lower = |list: &[String]| list.iter().map(|s| s.to_ascii_lowercase()).collect();
        let hosts = (loopback || !exposure.public_hosts.is_empty()).then(|| {
            let mut hosts: Vec<String> = lower(exposure.public_hosts);
            hosts.extend(LOOPBACK_HOSTS.iter().map(|h| (*h).to_owned()));
            hosts
        });
        Ok(Self {
            access,
            open_while_keyless: loopback || exposure.insecure_no_auth,
            origins: lower(exposure.allowed_origins),
            hosts,
            limits: Arc::new(Limits::new(limits)),
            metrics,
        })
    }

    /// The limits it holds clients to, which a reload changes in place.
    pub fn limits(&self) -> Arc<Limits> {
        self.limits.clone()
    }

    /// `router` behind this guard, with a CORS layer for the allowed
    /// origins outside it (preflights are answered before any key check).
    pub fn protect(self: Arc<Self>, router: Router) -> Router {
        let cors = (!self.origins.is_empty()).then(|| {
            let origins: Vec<HeaderValue> = self
                .origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect();
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
                .expose_headers([HeaderName::from_static(super::POSITIONS_HEADER)])
                .max_age(std::time::Duration::from_secs(600))
        });
        let router = router.layer(middleware::from_fn_with_state(self, check));
        match cors {
            Some(cors) => router.layer(cors),
            None => router,
        }
    }

    /// Refuses `request` (made with the key `key`, when known): counted,
    /// audited, answered with `code`.
    fn refuse(
        &self,
        request: &Request,
        key: Option<&str>,
        status: StatusCode,
        code: ErrorCode,
        message: impl Into<String>,
    ) -> ApiError {
        self.count(code);
        self.access.audit.record(
            key,
            client_of(request),
            action_of(request),
            status.as_u16(),
            &code.name(),
        );
        ApiError::new(status, code, message)
    }

    /// Why the request, which needs `scope`, may not come in, if it may
    /// not; else the caller.
    fn admit(&self, request: &Request, scope: Option<Scope>) -> Result<Option<Caller>, ApiError> {
        let method = request.method();
        let path = request.uri().path();
        let Some(scope) = scope else {
            return Ok(None);
        };
        let headers = request.headers();
        let host = host_of(request);
        // Browsers always send a Host; a request without one (HTTP/1.0
        // tools) is no rebinding attack, nor is one naming an IP address
        // (rebinding needs a name; a scraper or probe uses the pod's IP).
        if let (Some(hosts), Some(named)) = (&self.hosts, host.as_deref())
            && named.parse::<std::net::IpAddr>().is_err()
            && !hosts.iter().any(|a| a == named)
        {
            return Err(self.refuse(
                request,
                None,
                StatusCode::FORBIDDEN,
                ErrorCode::HostNotAllowed,
                format!(
                    "Host {:?} is not served here; add it to gateway.public_hosts",
                    host.unwrap_or_default()
                ),
            ));
        }
        if (changes(method) || is_stream(request))
            && let Some(origin) = headers.get(header::ORIGIN)
            && !self.origin_allowed(origin, headers)
        {
            return Err(self.refuse(
                request,
                None,
                StatusCode::FORBIDDEN,
                ErrorCode::OriginNotAllowed,
                format!(
                    "Origin {:?} may not call this gateway; add it to gateway.allowed_origins",
                    origin.to_str().unwrap_or("?")
                ),
            ));
        }
        let length = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if length.is_some_and(|n| n > MAX_BODY_BYTES) {
            return Err(self.refuse(
                request,
                None,
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::BodyTooLarge,
                format!("Content-Length: the body may be at most {MAX_BODY_BYTES} bytes"),
            ));
        }
        if matches!(*method, Method::POST | Method::PUT | Method::PATCH) && !is_json(headers) {
            return Err(self.refuse(
                request,
                None,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                "Content-Type: the body must be application/json",
            ));
        }
        if !self.keys_required() || authenticates_in_band(path) {
            return Ok(None);
        }
        let caller = key_of(request)
            .ok_or(AuthError::Missing)
            .and_then(|key| self.access.keys.verify(key, chrono::Utc::now()))
            .map_err(|error| {
                self.refuse(
                    request,
                    None,
                    StatusCode::UNAUTHORIZED,
                    ErrorCode::Unauthorized,
                    error.to_string(),
                )
            })?;
        if !caller.scope.allows(scope) {
            return Err(self.refuse(
                request,
                Some(&caller.name),
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                format!(
                    "the key {:?} has scope {}; {method} {path} needs {scope}",
                    caller.name, caller.scope
                ),
            ));
        }
        Ok(Some(caller))
    }

    /// Whether a request must come with a valid key: once one exists, or
    /// always beyond loopback unless `insecure_no_auth`.
    fn keys_required(&self) -> bool {
        !(self.open_while_keyless && self.access.keys.is_empty())
    }

    /// Holds an admitted request to the limits: its client's request rate
    /// and, for a stream, a slot (returned with it).
    fn ration(
        &self,
        request: &Request,
        caller: Option<&Caller>,
    ) -> Result<Option<StreamSlot>, Rationed> {
        let ip = peer(request).map(|addr| addr.ip());
        let client = match (caller, ip) {
            (Some(caller), _) => format!("key:{}", caller.name),
            (None, Some(ip)) => format!("ip:{ip}"),
            (None, None) => "unknown".to_owned(),
        };
        if let Err(wait) = self.limits.admit_request(&client) {
            self.count(ErrorCode::RateLimited);
            let limits = self.limits.config();
            let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
            return Err(Rationed {
                error: ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    ErrorCode::RateLimited,
                    format!(
                        "more than {} requests per second (burst {}); retry in {seconds} s",
                        limits.rate_limit, limits.rate_burst
                    ),
                ),
                retry_after: Some(seconds),
            });
        }
        if !is_stream(request) {
            return Ok(None);
        }
        let ip = ip.unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
        self.limits.open_stream(ip).map(Some).map_err(|crowded| {
            self.count(ErrorCode::TooManyConnections);
            let (status, message) = match crowded {
                Crowded::Address(n) => (
                    StatusCode::TOO_MANY_REQUESTS,
                    format!("{ip} has {n} streams open, the most one address may (gateway.max_connections_per_ip)"),
                ),
                Crowded::Everyone(n) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("{n} streams are open, the most this gateway takes (gateway.max_connections)"),
                ),
            };
            Rationed {
                error: ApiError::new(status, ErrorCode::TooManyConnections, message),
                retry_after: None,
            }
        })
    }

    fn count(&self, code: ErrorCode) {
        self.metrics
            .http_refusals
            .with_label_values(&[&code.name()])
            .inc();
    }

    /// An allowed origin: listed, or the gateway's own (same host and port
    /// as `Host`).
    fn origin_allowed(&self, origin: &HeaderValue, headers: &HeaderMap) -> bool {
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        let origin = origin.to_ascii_lowercase();
        if self.origins.contains(&origin) {
            return true;
        }
        let authority = origin.split_once("://").map(|(_, a)| a);
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
    }
}

/// A request past a limit: its error, and when to come back.
struct Rationed {
    error: ApiError,
    /// Seconds, for `Retry-After`.
    retry_after: Option<u64>,
}

impl IntoResponse for Rationed {
    fn into_response(self) -> Response {
        let mut response = self.error.into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The scope a request needs; `None` for what is not guarded (health,
/// readiness, the dashboard's files).
pub fn scope_for(method: &Method, path: &str) -> Option<Scope> {
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    let guarded = path == "/ws"
        || path == "/metrics"
        || under("/api")
        || path == "/graphql"
        || authenticates_in_band(path);
    if !guarded {
        return None;
    }
    if path == "/graphql" || authenticates_in_band(path) {
        // Each GraphQL operation checks the scope it needs as it runs; a
        // compatible stream checks its in-band key.
        return Some(Scope::Read);
    }
    let reads = matches!(*method, Method::GET | Method::HEAD);
    Some(
        if under("/api/v1/keys") || under("/api/v1/audit") || under("/api/v1/config") {
            Scope::Admin
        } else if reads {
            Scope::Read
        } else if under("/api/v1/scenarios") {
            Scope::Admin
        } else {
            Scope::Write
        },
    )
}

/// Admits or refuses a request; a change is audited with its outcome.
async fn check(State(guard): State<Arc<Guard>>, mut request: Request, next: Next) -> Response {
    let scope = scope_for(request.method(), request.uri().path());
    let caller = match guard.admit(&request, scope) {
        Ok(caller) => caller,
        Err(refusal) => return refusal.into_response(),
    };
    let guarded = scope.is_some();
    if guarded {
        match guard.ration(&request, caller.as_ref()) {
            Ok(Some(slot)) => {
                request.extensions_mut().insert(Arc::new(slot));
            }
            Ok(None) => {}
            Err(refused) => return refused.into_response(),
        }
    }
    let streams = is_stream(&request);
    if authenticates_in_band(request.uri().path()) && guard.keys_required() {
        request.extensions_mut().insert(KeyRequired);
    }
    let audited = changes(request.method()).then(|| {
        let key = caller.as_ref().map(|c| c.name.clone());
        (key, client_of(&request), action_of(&request))
    });
    if let Some(caller) = caller {
        request.extensions_mut().insert(caller);
    }
    let response = if guarded && !streams {
        let limit = guard.limits.config().request_timeout;
        match tokio::time::timeout(limit, next.run(request)).await {
            Ok(response) => response,
            Err(_) => {
                guard.count(ErrorCode::RequestTimeout);
                ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    ErrorCode::RequestTimeout,
                    format!("no answer within {limit:?} (gateway.request_timeout)"),
                )
                .into_response()
            }
        }
    } else {
        next.run(request).await
    };
    if let Some((key, client, action)) = audited {
        let status = response.status();
        let outcome = if status.is_success() {
            "ok"
        } else if status.is_client_error() {
            "refused"
        } else {
            "failed"
        };
        guard
            .access
            .audit
            .record(key.as_deref(), client, action, status.as_u16(), outcome);
    }
    response
}

/// The client's address, as the server accepted it.
fn client_of(request: &Request) -> String {
    peer(request).map_or_else(|| "unknown".to_owned(), |addr| addr.to_string())
}

/// The client's socket address, when the server recorded it.
fn peer(request: &Request) -> Option<SocketAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

/// Whether `method` changes something (everything but reads and preflights).
fn changes(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// What a request asks: its method and path (never its query, which may
/// carry an `access_token`).
fn action_of(request: &Request) -> String {
    format!("{} {}", request.method(), request.uri().path())
}

/// The host the client addressed, lowercase, without the port (or an IPv6
/// literal's brackets). A `Host` that is no authority comes back whole, so
/// it matches no allowed name.
fn host_of(request: &Request) -> Option<String> {
    let authority = match request.uri().authority() {
        Some(authority) => authority.clone(),
        None => {
            let raw = request.headers().get(header::HOST)?;
            let raw = String::from_utf8_lossy(raw.as_bytes()).to_ascii_lowercase();
            match raw.parse::<Authority>() {
                Ok(authority) => authority,
                Err(_) => return Some(raw),
            }
        }
    };
    let host = authority.host();
    let host = host
        .strip_prefix('[')
        .and_then(|v6| v6.strip_suffix(']'))
        .unwrap_or(host);
    Some(host.to_ascii_lowercase())
}

/// `Authorization: Bearer KEY`, or on a stream (`/ws`, a `/graphql`
/// upgrade) the `access_token` query parameter (browsers cannot set
/// headers on a WebSocket).
fn key_of(request: &Request) -> Option<&str> {
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, key) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| key.trim())
        });
    bearer.or_else(|| {
        if !is_stream(request) {
            return None;
        }
        request
            .uri()
            .query()?
            .split('&')
            .find_map(|pair| pair.strip_prefix("access_token="))
    })
}

/// Whether a request opens a stream: the WebSocket protocol, GraphQL's
/// subscriptions (a WebSocket upgrade of `/graphql`), or a compatible
/// endpoint.
fn is_stream(request: &Request) -> bool {
    match request.uri().path() {
        "/ws" => true,
        "/graphql" => request.headers().contains_key(header::UPGRADE),
        path => authenticates_in_band(path),
    }
}

/// Whether a path is a compatible endpoint, whose clients send their key
/// in-band.
fn authenticates_in_band(path: &str) -> bool {
    path.starts_with("/compat/")
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_guarded_route_has_its_scope() {
        let cases = [
            (Method::GET, "/ws", Some(Scope::Read)),
            (Method::GET, "/metrics", Some(Scope::Read)),
            (Method::GET, "/api/v1/ticks", Some(Scope::Read)),
            (Method::GET, "/api/v1/scenarios", Some(Scope::Read)),
            (Method::POST, "/api/v1/scenarios", Some(Scope::Admin)),
            (Method::DELETE, "/api/v1/scenarios/3", Some(Scope::Admin)),
            (Method::POST, "/api/v1/alerts", Some(Scope::Write)),
            (Method::DELETE, "/api/v1/watchlists/1", Some(Scope::Write)),
            (Method::GET, "/api/v1/keys", Some(Scope::Admin)),
            (Method::GET, "/api/v1/audit", Some(Scope::Admin)),
            (Method::GET, "/api/v1/keysmith", Some(Scope::Read)),
            (Method::GET, "/api", Some(Scope::Read)),
            (Method::GET, "/healthz", None),
            (Method::GET, "/readyz", None),
            (Method::GET, "/", None),
            (Method::GET, "/assets/index.js", None),
            (Method::GET, "/apis", None),
            (Method::GET, "/compat/polygon/stocks", Some(Scope::Read)),
            (Method::GET, "/compat/alpaca/v2/iex", Some(Scope::Read)),
            (Method::GET, "/compatible", None),
        ];
        for (method, path, scope) in cases {
            assert_eq!(scope_for(&method, path), scope, "{method} {path}");
        }
    }
}
