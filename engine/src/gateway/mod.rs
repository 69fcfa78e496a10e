//! The HTTP gateway: WebSocket streaming at `/ws`, REST under `/api/v1`,
//! Prometheus text at `/metrics`, `/healthz`, `/readyz`, and the dashboard
//! at `/`. The only module that knows HTTP.

mod alerts;
mod rest;
mod scenarios;
mod session;
mod workspace;
mod ws;

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    sync::Arc,
};

use axum::{
    Json, Router,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
    serve::ListenerExt,
};
use parking_lot::{Mutex, RwLock};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::{
    compression::CompressionLayer,
    services::ServeDir,
    trace::{DefaultOnFailure, TraceLayer},
};

pub use rest::{ApiError, POSITIONS_HEADER};
pub use session::{Outgoing, Session};

use crate::{
    alerts::Alerts,
    analytics::Quotes,
    log::Log,
    metrics::{Health, Metrics},
    model::Symbol,
    sim::SimHandle,
    store::{ItemStore, StoreError, StoreReader},
};

/// Everything request handlers share.
pub struct GatewayState {
    /// The log clients stream from.
    pub log: Arc<Log>,
    /// Latest quote of every symbol.
    pub quotes: Arc<RwLock<Quotes>>,
    /// Symbols known before they trade (the simulated universe).
    pub universe: HashSet<Symbol>,
    /// Instruments.
    pub metrics: Arc<Metrics>,
    /// Readiness flags.
    pub health: Arc<Health>,
    /// The database REST queries read.
    pub database: PathBuf,
    /// Largest client frame accepted.
    pub max_frame_bytes: usize,
    /// Most symbols per WebSocket client.
    pub max_symbols_per_client: usize,
    /// Cancelled when the gateway shuts down; closes every WebSocket.
    pub shutdown: CancellationToken,
    /// The running simulator, if this process simulates.
    pub simulator: Option<SimHandle>,
    /// The alert rules, where this process evaluates them.
    pub alerts: Option<Arc<Alerts>>,
    /// Watchlists and portfolios, where this process keeps a store.
    pub workspace: Option<Arc<Mutex<ItemStore>>>,
    /// Idle read connections.
    readers: Mutex<Vec<StoreReader>>,
}

impl GatewayState {
    /// Shared state for the handlers.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        log: Arc<Log>,
        quotes: Arc<RwLock<Quotes>>,
        universe: HashSet<Symbol>,
        metrics: Arc<Metrics>,
        health: Arc<Health>,
        database: PathBuf,
        limits: (usize, usize),
        shutdown: CancellationToken,
        simulator: Option<SimHandle>,
        alerts: Option<Arc<Alerts>>,
        workspace: Option<Arc<Mutex<ItemStore>>>,
    ) -> Self {
        Self {
            log,
            quotes,
            universe,
            metrics,
            health,
            database,
            max_frame_bytes: limits.0,
            max_symbols_per_client: limits.1,
            shutdown,
            simulator,
            alerts,
            workspace,
            readers: Mutex::new(Vec::new()),
        }
    }

    /// Whether a symbol is in the universe or has traded.
    pub fn is_known(&self, symbol: &Symbol) -> bool {
        self.universe.contains(symbol) || self.quotes.read().contains(symbol.as_str())
    }

    /// Runs a query on a pooled read connection, off the async runtime.
    async fn with_store<T: Send + 'static>(
        self: &Arc<Self>,
        query: impl FnOnce(&StoreReader) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || {
            let reader = match state.readers.lock().pop() {
                Some(reader) => reader,
                None => StoreReader::open(&state.database)?,
            };
            let result = query(&reader);
            state.readers.lock().push(reader);
            result
        })
        .await
        .map_err(rest::join_error)?
        .map_err(ApiError::from)
    }
}

/// The gateway's routes: data, operations and the dashboard (from `ui_dir`).
pub fn router(state: Arc<GatewayState>, ui_dir: Option<&Path>) -> Router {
    let api = Router::new()
        .route("/api/v1/symbols", get(rest::symbols))
        .route("/api/v1/ticks", get(rest::ticks))
        .route("/api/v1/candles", get(rest::candles))
        .route("/api/v1/indicators", get(rest::indicators))
        .route("/api/v1/volume", get(rest::volume))
        .merge(alerts::routes())
        .merge(workspace::routes())
        .route("/api/{*rest}", get(rest::not_found))
        .layer(CompressionLayer::new());
    let data = Router::new()
        .route("/ws", get(ws::upgrade))
        .merge(api)
        .with_state(state.clone());
    let router = data.merge(ops_router(
        state.metrics.clone(),
        state.health.clone(),
        state.simulator.clone(),
    ));
    let router = match ui_dir {
        Some(dir) => {
            router.fallback_service(ServeDir::new(dir).append_index_html_on_directories(true))
        }
        None => router.fallback(ui_missing),
    };
    with_tracing(router)
}

/// Operations: `/metrics`, `/healthz`, `/readyz` and the simulator's
/// `/api/v1/scenarios`. All a role that serves no data (the producer) serves.
pub fn ops_router(
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    simulator: Option<SimHandle>,
) -> Router {
    let sampled = metrics.clone();
    let router = scenarios::routes(simulator)
        .route(
            "/metrics",
            get(move || async move { render_metrics(&metrics) }),
        )
        .route(
            "/api/v1/metrics",
            get(move || async move { Json(sampled.history.samples()) }),
        )
        .route("/healthz", get(healthz))
        .route("/readyz", get(move || async move { readyz(&health) }));
    with_tracing(router)
}

fn with_tracing(router: Router) -> Router {
    // 5xx causes are logged where they happen; an unready /readyz is not an error.
    router.layer(
        TraceLayer::new_for_http().on_failure(DefaultOnFailure::new().level(tracing::Level::DEBUG)),
    )
}

/// Serves `router` on `listener` until `shutdown` is cancelled, then stops
/// accepting and waits for open requests.
///
/// # Errors
/// Returns the I/O error that stopped the server.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    // Small frames go out at once: no Nagle delay on a latency-sensitive stream.
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}

fn render_metrics(metrics: &Metrics) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics.render(),
    )
        .into_response()
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

fn readyz(health: &Health) -> Response {
    use std::sync::atomic::Ordering::Relaxed;
    let body = json!({
        "ready": health.ready(),
        "checks": { "source": health.source.load(Relaxed), "store": health.store.load(Relaxed) },
    });
    let status = if health.ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

async fn ui_missing() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "The dashboard is not built. Run `cargo xtask build` (or set gateway.ui_dir). The API is at /api/v1 and /ws.\n",
    )
        .into_response()
}
