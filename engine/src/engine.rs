//! `Engine`: builds the components a deployment needs, connects them through
//! the log, and shuts them down in order: sources first, then the gateway,
//! then the sinks, which drain what the log still holds.

use std::{
    collections::HashSet,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use chrono::Utc;
use parking_lot::RwLock;
use tokio::net::TcpListener;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    analytics::Quotes,
    config::Config,
    gateway::{self, GatewayState},
    log::{Log, Reader, Start},
    metrics::{Health, Metrics},
    model::{EncodedTick, EventKind, EventLevel, MarketEvent, SystemMetric},
    sim::{self, RandomWalk},
    store::{Store, StoreError, StoreWriter},
};

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The data directory could not be created.
    #[error("cannot create data directory {path}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database could not be opened.
    #[error("cannot open database {path}")]
    Store {
        /// The database file.
        path: PathBuf,
        /// Why.
        source: StoreError,
    },
    /// The listener's address could not be read.
    #[error("cannot read the listener's address")]
    Listener(#[source] std::io::Error),
}

/// A cancellation token and the tasks it stops.
struct Stage {
    token: CancellationToken,
    tasks: TaskTracker,
}

impl Stage {
    fn new() -> Self {
        Self {
            token: CancellationToken::new(),
            tasks: TaskTracker::new(),
        }
    }

    async fn stop(&self) {
        self.token.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

/// How often the engine publishes its own health to `system_metrics`.
const HEALTH_SAMPLE_EVERY: Duration = Duration::from_secs(5);

/// A running all-in-one engine: simulator → log → quotes, store, gateway.
pub struct Engine {
    addr: SocketAddr,
    state: Arc<GatewayState>,
    sources: Stage,
    gateway: Stage,
    sinks: Stage,
}

impl Engine {
    /// Starts every component; the gateway serves on `listener`.
    ///
    /// # Errors
    /// Returns an [`EngineError`] when the data directory or database
    /// cannot be opened.
    pub async fn start(config: &Config, listener: TcpListener) -> Result<Self, EngineError> {
        let addr = listener.local_addr().map_err(EngineError::Listener)?;
        let data_dir = &config.store.data_dir;
        std::fs::create_dir_all(data_dir).map_err(|source| EngineError::DataDir {
            path: data_dir.clone(),
            source,
        })?;
        let database = config.database_path();
        let store_error = |source| EngineError::Store {
            path: database.clone(),
            source,
        };
        let store = Store::open(&database).map_err(store_error)?;
        let settings = config.log_settings();
        let ticks_topic = format!("{}stock_ticks", settings.topic_prefix);
        let positions = store.positions(&ticks_topic).map_err(store_error)?;
        let log = Arc::new(Log::new(&settings, &positions));
        let metrics = Arc::new(Metrics::new());
        let health = Arc::new(Health::default());
        health.store.store(true, Ordering::Relaxed);
        let universe = config.universe();
        let mut quotes = Quotes::new();
        for spec in &universe {
            quotes.seed(spec.symbol.clone(), spec.price, Utc::now());
        }
        let quotes = Arc::new(RwLock::new(quotes));

        let (sources, gateway_stage, sinks) = (Stage::new(), Stage::new(), Stage::new());

        // Sinks: the store writer and the quote book follow the whole log.
        let writer = StoreWriter::new(
            store,
            Reader::new(log.ticks.clone(), Start::Earliest),
            metrics.clone(),
            health.clone(),
            config.writer_settings(),
        )
        .map_err(store_error)?;
        let token = sinks.token.clone();
        sinks.tasks.spawn_blocking(move || writer.run(&token));
        sinks.tasks.spawn(follow_quotes(
            Reader::new(log.ticks.clone(), Start::Earliest),
            quotes.clone(),
            sinks.token.clone(),
        ));

        // Source: the simulator, on its own thread.
        let market = RandomWalk::new(
            &universe,
            config.sim.seed,
            universe.len() as f64 / config.sim.rate.nominal_per_second(),
        );
        log.events.append(Arc::new(MarketEvent {
            kind: EventKind::SessionOpen,
            level: EventLevel::Info,
            symbol: None,
            message: format!(
                "simulated market open: {} symbols at {} ticks/s (seed {})",
                universe.len(),
                config.sim.rate,
                config.sim.seed
            ),
            timestamp: Utc::now(),
        }));
        {
            let (log, metrics, health, token) = (
                log.clone(),
                metrics.clone(),
                health.clone(),
                sources.token.clone(),
            );
            let rate = config.sim.rate;
            sources.tasks.spawn_blocking(move || {
                sim::produce(market, &log.ticks, rate, &token, |n| {
                    metrics.ticks_produced.inc_by(n);
                    health.source.store(true, Ordering::Relaxed);
                });
                health.source.store(false, Ordering::Relaxed);
            });
        }
        sources.tasks.spawn(sample_health(
            log.clone(),
            metrics.clone(),
            sources.token.clone(),
        ));

        // Gateway.
        let state = Arc::new(GatewayState::new(
            log,
            quotes,
            universe
                .iter()
                .map(|s| s.symbol.clone())
                .collect::<HashSet<_>>(),
            metrics,
            health,
            database,
            (
                config.gateway.max_frame_bytes,
                config.gateway.max_symbols_per_client,
            ),
            gateway_stage.token.clone(),
        ));
        let ui_dir = config.gateway.ui_dir.clone().or_else(find_ui_dir);
        if ui_dir.is_none() {
            tracing::warn!("dashboard not found: run `cargo xtask build` or set gateway.ui_dir");
        }
        let router = gateway::router(state.clone(), ui_dir.as_deref());
        let token = gateway_stage.token.clone();
        gateway_stage.tasks.spawn(async move {
            if let Err(error) = gateway::serve(listener, router, token).await {
                tracing::error!(%error, "gateway stopped");
            }
        });

        Ok(Self {
            addr,
            state,
            sources,
            gateway: gateway_stage,
            sinks,
        })
    }

    /// The address the gateway listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The state the gateway serves from (log, quotes, metrics).
    pub fn state(&self) -> &Arc<GatewayState> {
        &self.state
    }

    /// Stops the sources, then the gateway (no new connections, WebSockets
    /// closed), then the sinks after they drained the log into the store.
    pub async fn shutdown(self) {
        self.sources.stop().await;
        self.gateway.stop().await;
        self.sinks.stop().await;
    }
}

/// Keeps the quote book current from the tick topic.
async fn follow_quotes(
    mut reader: Reader<Arc<EncodedTick>>,
    quotes: Arc<RwLock<Quotes>>,
    token: CancellationToken,
) {
    loop {
        let mut batch = Vec::new();
        reader.read_with(4_096, |_, _| {}, |_, _, record| batch.push(record.clone()));
        if !batch.is_empty() {
            let mut book = quotes.write();
            for record in &batch {
                book.apply(record.tick());
            }
            continue;
        }
        tokio::select! {
            () = token.cancelled() => return,
            () = reader.wait() => {}
        }
    }
}

/// Publishes the engine's tick rate to `system_metrics`.
async fn sample_health(log: Arc<Log>, metrics: Arc<Metrics>, token: CancellationToken) {
    let source = format!("tickstreamd@{}", hostname());
    let mut last = metrics.ticks_produced.get();
    let mut every = tokio::time::interval(HEALTH_SAMPLE_EVERY);
    every.tick().await;
    loop {
        tokio::select! {
            () = token.cancelled() => return,
            _ = every.tick() => {}
        }
        let now = metrics.ticks_produced.get();
        log.metrics.append(Arc::new(SystemMetric {
            source: source.clone(),
            name: "ticks_per_second".into(),
            value: (now - last) as f64 / HEALTH_SAMPLE_EVERY.as_secs_f64(),
            timestamp: Utc::now(),
        }));
        last = now;
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// The built dashboard: beside the executable (installed), or the source
/// tree's `ui/dist` (development).
fn find_ui_dir() -> Option<PathBuf> {
    let exe_dir = std::env::current_exe().ok()?.parent()?.to_path_buf();
    [
        exe_dir.join("ui"),
        exe_dir.join("../share/tickstream/ui"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/dist"),
    ]
    .into_iter()
    .find(|dir| dir.join("index.html").is_file())
}
