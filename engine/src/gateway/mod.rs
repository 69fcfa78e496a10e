//! The HTTP gateway: WebSocket streaming at `/ws`, REST under `/api/v1`,
//! Prometheus text at `/metrics`, `/healthz`, `/readyz`, and the dashboard
//! at `/`. The only module that knows HTTP.

mod alerts;
mod compat;
mod driver;
mod graphql;
mod guard;
mod keys;
mod limits;
mod openapi;
mod replays;
mod rest;
mod scenarios;
mod serve;
mod session;
mod tls;
mod trading;
mod workspace;
mod ws;

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    sync::Arc,
};

use axum::{
    Json, Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use parking_lot::{Mutex, RwLock};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tower_http::{
    compression::CompressionLayer,
    services::ServeDir,
    trace::{DefaultOnFailure, TraceLayer},
};
use utoipa_axum::{router::OpenApiRouter, routes};

pub use compat::KeyRequired;
pub use driver::{Deliver, Ended, Inbound, Keepalive, Pacing, Protocol, drive};
pub use guard::{Exposure, Guard, Unprotected, scope_for};
pub use limits::{ClientLimits, Limits, StreamSlot};
pub use replays::ReplayStream;
pub use rest::{ApiError, POSITIONS_HEADER};
pub use serve::serve;
pub use session::{Outgoing, Session};
pub use tls::{Certificates, TlsError};

use crate::{
    alerts::Alerts,
    analytics::Quotes,
    audit::Auditor,
    auth::Keyring,
    config::Running,
    log::Log,
    metrics::{Health, Metrics},
    model::{EffectiveConfig, MetricsSample, Readiness, Symbol},
    replay::Replays,
    sim::SimHandle,
    store::{ItemStore, StoreError, StoreReader},
    trading::Broker,
};

/// What the gateway serves from, grouped by capability: the live market,
/// what the store holds, and operations.
pub struct GatewayState {
    /// The live market clients stream.
    pub market: Arc<Market>,
    /// History and the items users keep.
    pub stored: Arc<Stored>,
    /// Metrics, health and the simulator's controls.
    pub ops: Operations,
    /// Stored ranges played back as streams of their own.
    pub replays: Arc<Replays>,
    /// Cancelled when the gateway shuts down; closes every WebSocket.
    pub shutdown: CancellationToken,
}

impl GatewayState {
    /// A gateway over a fresh two-partition log and the store in `dir`,
    /// knowing AAPL, with small stream limits and no simulator: what the
    /// gateway's tests and the fuzzer answer from. Call it inside a Tokio
    /// runtime (the audit writer is a task).
    ///
    /// # Errors
    /// The store's error when `dir` holds no usable database.
    pub fn scratch(dir: &Path) -> Result<Arc<Self>, StoreError> {
        let settings = crate::log::LogSettings {
            topic_prefix: String::new(),
            partitions: 2,
            retention: crate::log::Retention {
                max_records: 1_000,
                max_bytes: 1 << 20,
            },
        };
        let database = dir.join("tickstream.db");
        let workspace = Arc::new(Mutex::new(ItemStore::open(&database)?));
        let alerts = Arc::new(Alerts::load(workspace.clone())?);
        let metrics = Arc::new(Metrics::new());
        let cx = crate::component::Context::new(metrics.clone(), Arc::default());
        let access = Access::open(&database, std::time::Duration::from_secs(3_600), &cx)?;
        let log = Arc::new(Log::new(&settings, &[]));
        let quotes = Arc::new(RwLock::new(Quotes::new()));
        let trading = Arc::new(Broker::open(
            &database,
            crate::config::TradingConfig::default().settings(),
            log.clone(),
            quotes.clone(),
        )?);
        let shutdown = CancellationToken::new();
        Ok(Arc::new(Self {
            replays: Arc::new(Replays::new(
                database.clone(),
                log.ticks.partition_count(),
                metrics.clone(),
                shutdown.clone(),
            )),
            market: Arc::new(Market::new(
                log,
                quotes,
                HashSet::from([Symbol::new("AAPL").expect("a valid symbol")]),
                StreamLimits {
                    max_frame_bytes: 16 * 1024,
                    max_symbols_per_client: 10,
                    frame_rate: 50,
                    keepalive: Keepalive {
                        every: std::time::Duration::from_secs(20),
                        misses: 3,
                    },
                    write_timeout: std::time::Duration::from_secs(10),
                },
            )),
            stored: Arc::new(Stored::new(database, alerts, workspace, access, trading)),
            ops: Operations {
                metrics,
                health: Arc::default(),
                simulator: None,
                config: Arc::new(Running::new(crate::config::Config::default())),
            },
            shutdown,
        }))
    }
}

/// The live market: the log clients stream from, the quotes, the symbols
/// known, and what one client may ask of the stream.
pub struct Market {
    /// The log clients stream from.
    pub log: Arc<Log>,
    /// Latest quote of every symbol.
    pub quotes: Arc<RwLock<Quotes>>,
    /// Symbols known before they trade (the simulated universe).
    pub universe: HashSet<Symbol>,
    /// Bounds on one client's stream; a reload changes them for streams
    /// opened after it.
    limits: RwLock<StreamLimits>,
}

impl Market {
    /// The live market of `log`, `quotes` and `universe`, bounding each
    /// client's stream by `limits`.
    pub fn new(
        log: Arc<Log>,
        quotes: Arc<RwLock<Quotes>>,
        universe: HashSet<Symbol>,
        limits: StreamLimits,
    ) -> Self {
        Self {
            log,
            quotes,
            universe,
            limits: RwLock::new(limits),
        }
    }

    /// Bounds on one client's stream, as they are now.
    pub fn limits(&self) -> StreamLimits {
        *self.limits.read()
    }

    /// Bounds streams opened from now on by `limits`.
    pub fn set_limits(&self, limits: StreamLimits) {
        *self.limits.write() = limits;
    }

    /// Whether a symbol is in the universe or has traded.
    pub fn is_known(&self, symbol: &Symbol) -> bool {
        self.universe.contains(symbol) || self.quotes.read().contains(symbol.as_str())
    }
}

/// Bounds on one WebSocket (or desktop) stream.
#[derive(Debug, Clone, Copy)]
pub struct StreamLimits {
    /// Largest client frame accepted.
    pub max_frame_bytes: usize,
    /// Most symbols per client.
    pub max_symbols_per_client: usize,
    /// Frames per second a WebSocket client may send (twice that at once).
    pub frame_rate: u32,
    /// Pings for a silent WebSocket client.
    pub keepalive: Keepalive,
    /// Longest one delivery to a WebSocket client may take.
    pub write_timeout: std::time::Duration,
}

/// What the store holds: history (read on pooled read-only connections),
/// alert rules, watchlists and portfolios.
pub struct Stored {
    /// The database history queries read.
    database: PathBuf,
    /// Idle read connections.
    readers: Mutex<Vec<StoreReader>>,
    /// The alert rules, in the store and the evaluator.
    pub alerts: Arc<Alerts>,
    /// Watchlists and portfolios.
    pub workspace: Arc<Mutex<ItemStore>>,
    /// The API keys and the audit log.
    pub access: Access,
    /// Paper trading: accounts, orders and fills.
    pub trading: Arc<Broker>,
}

impl Stored {
    /// History in `database`, the rules in `alerts`, the items in
    /// `workspace`, the API keys and audit log in `access`, paper trading
    /// in `trading`.
    pub fn new(
        database: PathBuf,
        alerts: Arc<Alerts>,
        workspace: Arc<Mutex<ItemStore>>,
        access: Access,
        trading: Arc<Broker>,
    ) -> Self {
        Self {
            database,
            readers: Mutex::new(Vec::new()),
            alerts,
            workspace,
            access,
            trading,
        }
    }

    /// Runs a query on a pooled read connection, off the async runtime.
    async fn query<T: Send + 'static>(
        self: &Arc<Self>,
        query: impl FnOnce(&StoreReader) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let stored = self.clone();
        tokio::task::spawn_blocking(move || {
            let reader = match stored.readers.lock().pop() {
                Some(reader) => reader,
                None => StoreReader::open(&stored.database)?,
            };
            let result = query(&reader);
            stored.readers.lock().push(reader);
            result
        })
        .await
        .map_err(rest::join_error)?
        .map_err(ApiError::from)
    }
}

/// Who may do what, and the record of what was done: what the guard and
/// the admin routes need.
#[derive(Clone)]
pub struct Access {
    /// The API keys.
    pub keys: Arc<Keyring>,
    /// The audit log.
    pub audit: Auditor,
}

impl Access {
    /// The keys of the database at `path`, and its audit log (kept for
    /// `retention`, its writer started in `cx`).
    ///
    /// # Errors
    /// The store's error.
    pub fn open(
        path: &Path,
        retention: std::time::Duration,
        cx: &crate::component::Context,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            keys: Arc::new(Keyring::open(path)?),
            audit: Auditor::start(path, retention, cx)?,
        })
    }
}

/// Operations: what every role serves, the producer included.
#[derive(Clone)]
pub struct Operations {
    /// Instruments.
    pub metrics: Arc<Metrics>,
    /// Readiness flags.
    pub health: Arc<Health>,
    /// The running simulator, if this process simulates.
    pub simulator: Option<SimHandle>,
    /// The configuration in force.
    pub config: Arc<Running>,
}

/// The gateway's routes: data, operations, the documents describing them
/// and the dashboard (from `ui_dir`).
pub fn router(state: Arc<GatewayState>, ui_dir: Option<&Path>) -> Router {
    let api = OpenApiRouter::new()
        .routes(routes!(rest::symbols))
        .routes(routes!(rest::book))
        .routes(routes!(rest::ticks))
        .routes(routes!(rest::candles))
        .routes(routes!(rest::indicators))
        .routes(routes!(rest::volume))
        .routes(routes!(rest::audit))
        .merge(alerts::routes())
        .merge(workspace::routes())
        .merge(keys::routes())
        .merge(trading::routes())
        .merge(replays::routes())
        .route("/api/{*rest}", get(rest::not_found))
        .layer(CompressionLayer::new());
    let routes = OpenApiRouter::new()
        .routes(routes!(ws::upgrade))
        .merge(compat::routes())
        .merge(api)
        .merge(graphql::routes(graphql::schema(state.clone())))
        .merge(ops_routes(state.ops.clone()));
    let metrics = state.ops.metrics.clone();
    let router =
        openapi::documented(routes)
            .with_state(state)
            .layer(axum::middleware::from_fn_with_state(
                metrics,
                rest::count_refusals,
            ));
    let router = match ui_dir {
        Some(dir) => {
            router.fallback_service(ServeDir::new(dir).append_index_html_on_directories(true))
        }
        None => router.fallback(ui_missing),
    };
    with_tracing(router)
}

/// Operations alone, with the documents describing them: what a role that
/// serves no data (the producer) serves.
pub fn ops_router(ops: Operations) -> Router {
    with_tracing(openapi::documented(ops_routes(ops)))
}

/// Operations: `/metrics`, `/healthz`, `/readyz`, `/api/v1/metrics`,
/// `/api/v1/config` and the simulator's `/api/v1/scenarios`.
fn ops_routes<S: Clone + Send + Sync + 'static>(ops: Operations) -> OpenApiRouter<S> {
    let Operations {
        metrics,
        health,
        simulator,
        config,
    } = ops;
    scenarios::routes(simulator)
        .merge(
            OpenApiRouter::new()
                .routes(routes!(effective_config))
                .with_state(config),
        )
        .merge(
            OpenApiRouter::new()
                .routes(routes!(render_metrics))
                .routes(routes!(metrics_history))
                .with_state(metrics),
        )
        .merge(
            OpenApiRouter::new()
                .routes(routes!(readyz))
                .with_state(health),
        )
        .routes(routes!(healthz))
}

fn with_tracing(router: Router) -> Router {
    // 5xx causes are logged where they happen; an unready /readyz is not an error.
    // The span names the path only: a query may carry an `access_token`.
    router.layer(
        TraceLayer::new_for_http()
            .make_span_with(|request: &axum::extract::Request| {
                tracing::debug_span!("request", method = %request.method(), path = request.uri().path())
            })
            .on_failure(DefaultOnFailure::new().level(tracing::Level::DEBUG)),
    )
}

#[utoipa::path(get, path = "/metrics", summary = "Prometheus metrics", tag = "operations",
    responses((status = 200, description = "Every instrument, in the Prometheus text format", content_type = "text/plain; version=0.0.4")))]
async fn render_metrics(State(metrics): State<Arc<Metrics>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics.render(),
    )
        .into_response()
}

#[utoipa::path(get, path = "/api/v1/metrics", summary = "Recent headline metrics", tag = "operations",
    responses((status = 200, description = "The last five minutes of once-a-second samples of the headline metrics, oldest first", body = Vec<MetricsSample>)))]
async fn metrics_history(State(metrics): State<Arc<Metrics>>) -> Json<Vec<MetricsSample>> {
    Json(metrics.history.samples())
}

#[utoipa::path(get, path = "/api/v1/config", summary = "The configuration in force", tag = "operations",
    responses((status = 200, description = "Every setting in force (defaults included, secrets redacted), which of them a reload applies live, and those changed since start that wait for a restart", body = EffectiveConfig)))]
async fn effective_config(State(config): State<Arc<Running>>) -> Json<EffectiveConfig> {
    Json(config.view())
}

#[utoipa::path(get, path = "/healthz", summary = "Liveness", tag = "operations",
    responses((status = 200, description = "The process is alive: `{\"status\":\"ok\"}`", body = Object)))]
async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

#[utoipa::path(get, path = "/readyz", summary = "Readiness", tag = "operations",
    responses(
        (status = 200, description = "Ready: every check passes", body = Readiness),
        (status = 503, description = "Not ready: the failing checks say why", body = Readiness),
    ))]
async fn readyz(State(health): State<Arc<Health>>) -> Response {
    let readiness = health.readiness();
    let status = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(readiness)).into_response()
}

async fn ui_missing() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "The dashboard is not built. Run `cargo xtask build` (or set gateway.ui_dir). The API is at /api/v1 and /ws.\n",
    )
        .into_response()
}
