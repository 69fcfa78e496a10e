//! `Engine`: builds the components a deployment needs, connects them through
//! the log, and shuts them down in order: sources first, then the gateway,
//! then the sinks, which drain what the log still holds.

use std::{
    collections::HashSet,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};

use chrono::Utc;
use parking_lot::{Mutex, RwLock};
use tokio::net::TcpListener;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    alerts::Alerts,
    analytics::Quotes,
    backfill,
    config::Config,
    gateway::{self, GatewayState},
    kafka::{Connectivity, KafkaError, KafkaPublisher, KafkaSource, ensure_topics},
    log::{Log, Reader, Record, Start, Topic},
    metrics::{Health, Metrics},
    model::{EncodedTick, EventKind, EventLevel, Interval, MarketEvent, Symbol, SystemMetric},
    sim::{self, Shard, SimHandle, Simulator},
    store::{ItemStore, Store, StoreError, StoreWriter},
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
    /// Another engine uses the data directory.
    #[error(
        "data directory {path} is in use by another tickstreamd (or choose another --data-dir)"
    )]
    DataDirInUse {
        /// The directory.
        path: PathBuf,
    },
    /// A Kafka role was started without brokers.
    #[error("no Kafka brokers: set --brokers (or kafka.brokers, TICKSTREAM_BROKERS)")]
    NoBrokers,
    /// The Kafka client could not be created.
    #[error("Kafka client")]
    Kafka(#[source] KafkaError),
    /// The listener's address could not be read.
    #[error("cannot read the listener's address")]
    Listener(#[source] std::io::Error),
}

/// A cancellation token and the tasks it stops.
#[derive(Clone)]
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
/// How long shutdown waits for Kafka to acknowledge queued ticks.
const KAFKA_FLUSH_DEADLINE: Duration = Duration::from_millis(1_000);

/// What a process does. The role only chooses sources and sinks; the paths
/// between them are the same in every role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Simulator → log → quotes, store, gateway; through Kafka (simulator →
    /// Kafka → log) when brokers are configured.
    AllInOne,
    /// Simulator → Kafka, for the symbols of one shard. Serves only
    /// `/metrics`, `/healthz` and `/readyz`.
    Producer(Shard),
    /// Kafka → log → quotes, store, gateway.
    Bridge,
}

/// A running engine.
pub struct Engine {
    /// The data directory's lock, released when the engine is gone.
    _data_dir_lock: Option<std::fs::File>,
    addr: Option<SocketAddr>,
    state: Option<Arc<GatewayState>>,
    router: axum::Router,
    sources: Stage,
    gateway: Stage,
    sinks: Stage,
}

impl Engine {
    /// Starts the components of `role`; the gateway serves on `listener`
    /// when one is given (an embedding app calls [`Engine::router`] instead).
    ///
    /// # Errors
    /// Returns an [`EngineError`] when the data directory or database cannot
    /// be opened, or a Kafka role has no brokers.
    pub async fn start(
        config: &Config,
        role: Role,
        listener: Option<TcpListener>,
    ) -> Result<Self, EngineError> {
        let addr = listener
            .as_ref()
            .map(TcpListener::local_addr)
            .transpose()
            .map_err(EngineError::Listener)?;
        let kafka = config.kafka.enabled();
        if !kafka && role != Role::AllInOne {
            return Err(EngineError::NoBrokers);
        }
        let metrics = Arc::new(Metrics::new());
        let health = Arc::new(Health::default());
        let (sources, gateway_stage, sinks) = (Stage::new(), Stage::new(), Stage::new());
        sinks
            .tasks
            .spawn(metrics.clone().sample_every_second(sinks.token.clone()));
        if role == Role::Bridge {
            // A bridge may start before any producer: it creates the topics too.
            let (config, health, token) = (config.clone(), health.clone(), sources.token.clone());
            sources
                .tasks
                .spawn(async move { create_topics(&config, &health, &token).await });
        }

        let Role::Producer(shard) = role else {
            let mut local = Local::open(config, &metrics, &health, &sinks, role == Role::AllInOne)?;
            let mut handle = None;
            if let Some(simulator) = local.simulator.take() {
                let link =
                    Connectivity::new("producer", health.clone(), Some(local.log.events.clone()));
                let publisher = kafka
                    .then(|| KafkaPublisher::new(&config.kafka, metrics.clone(), link))
                    .transpose()
                    .map_err(EngineError::Kafka)?;
                handle = Some(spawn_simulator(
                    config, simulator, &local.log, publisher, &metrics, &health, &sources,
                ));
            }
            if kafka {
                spawn_bridge(config, &local, &metrics, &health, &sources)?;
            }

            let state = Arc::new(GatewayState::new(
                local.log,
                local.quotes,
                local.universe,
                metrics,
                health,
                local.database,
                (
                    config.gateway.max_frame_bytes,
                    config.gateway.max_symbols_per_client,
                ),
                gateway_stage.token.clone(),
                handle,
                Some(local.alerts),
                Some(local.workspace),
            ));
            let ui_dir = config.gateway.ui_dir.clone().or_else(find_ui_dir);
            if ui_dir.is_none() {
                tracing::warn!(
                    "dashboard not found: run `cargo xtask build` or set gateway.ui_dir"
                );
            }
            let router = gateway::router(state.clone(), ui_dir.as_deref());
            spawn_gateway(listener, router.clone(), &gateway_stage);
            return Ok(Self {
                _data_dir_lock: Some(local.lock),
                addr,
                state: Some(state),
                router,
                sources,
                gateway: gateway_stage,
                sinks,
            });
        };

        // Producer: no local consumers, no store.
        health.store.store(true, Ordering::Relaxed);
        let log = Arc::new(Log::new(&config.log_settings(), &[]));
        let link = Connectivity::new("producer", health.clone(), None);
        let publisher = KafkaPublisher::new(&config.kafka, metrics.clone(), link)
            .map_err(EngineError::Kafka)?;
        let simulator = Simulator::new(
            &shard.select(&config.universe()),
            &config.sim_settings(Utc::now()),
        );
        let handle = spawn_simulator(
            config,
            simulator,
            &log,
            Some(publisher),
            &metrics,
            &health,
            &sources,
        );
        let router = gateway::ops_router(metrics, health, Some(handle));
        spawn_gateway(listener, router.clone(), &gateway_stage);
        Ok(Self {
            _data_dir_lock: None,
            addr,
            state: None,
            router,
            sources,
            gateway: gateway_stage,
            sinks,
        })
    }

    /// The address the gateway listens on, when it was given a listener.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// The gateway's routes, to call in-process (REST without a socket).
    pub fn router(&self) -> axum::Router {
        self.router.clone()
    }

    /// The state the gateway serves from (log, quotes, metrics); `None` for
    /// the producer, which serves no data.
    pub fn state(&self) -> Option<&Arc<GatewayState>> {
        self.state.as_ref()
    }

    /// Stops the sources, then the gateway (no new connections, WebSockets
    /// closed), then the sinks after they drained the log into the store.
    pub async fn shutdown(self) {
        self.sources.stop().await;
        self.gateway.stop().await;
        self.sinks.stop().await;
    }
}

/// The local side of a data-serving role: store, log, quotes.
struct Local {
    /// Held while the engine runs: one engine per data directory.
    lock: std::fs::File,
    log: Arc<Log>,
    quotes: Arc<RwLock<Quotes>>,
    universe: HashSet<Symbol>,
    database: PathBuf,
    /// Next offset per `stock_ticks` partition the store recorded.
    stored: Vec<u64>,
    /// The simulator, when the role simulates: continuing the stored
    /// prices, its history backfilled.
    simulator: Option<Simulator>,
    /// The alert rules, evaluated on the live ticks.
    alerts: Arc<Alerts>,
    /// Watchlists and portfolios.
    workspace: Arc<Mutex<ItemStore>>,
}

impl Local {
    /// Opens the store and the log, builds the simulator when `simulate`
    /// (backfilling its history into the store), and starts the sinks that
    /// follow the log.
    fn open(
        config: &Config,
        metrics: &Arc<Metrics>,
        health: &Arc<Health>,
        sinks: &Stage,
        simulate: bool,
    ) -> Result<Self, EngineError> {
        let data_dir = &config.store.data_dir;
        let dir_error = |source| EngineError::DataDir {
            path: data_dir.clone(),
            source,
        };
        std::fs::create_dir_all(data_dir).map_err(dir_error)?;
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(data_dir.join("tickstream.lock"))
            .map_err(dir_error)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(EngineError::DataDirInUse {
                    path: data_dir.clone(),
                });
            }
            Err(std::fs::TryLockError::Error(source)) => return Err(dir_error(source)),
        }
        let database = config.database_path();
        let store_error = |source| EngineError::Store {
            path: database.clone(),
            source,
        };
        let mut store = Store::open(&database).map_err(store_error)?;
        let settings = config.log_settings();
        let stored = store
            .positions(&format!("{}stock_ticks", settings.topic_prefix))
            .map_err(store_error)?;
        // A bridge keeps Kafka's offsets; the local log continues its own.
        let start = if config.kafka.enabled() {
            &[][..]
        } else {
            &stored[..]
        };
        let log = Arc::new(Log::new(&settings, start));
        health.store.store(true, Ordering::Relaxed);

        let mut universe = config.universe();
        let last_closes = store.last_closes(Interval::M1).map_err(store_error)?;
        if simulate {
            // A restarted market continues from the prices it left.
            for spec in &mut universe {
                if let Some((_, _, close)) = last_closes.iter().find(|(s, ..)| *s == spec.symbol) {
                    spec.price = *close;
                }
            }
        }
        let mut quotes = Quotes::new();
        if !config.kafka.enabled() {
            for spec in &universe {
                quotes.seed(spec.symbol.clone(), spec.price, Utc::now());
            }
        }
        let simulator = if simulate {
            let now = Utc::now();
            // History only where the store has none: after a restart, the gap.
            let stored_until = last_closes
                .iter()
                .map(|(_, start, _)| *start + chrono::Duration::minutes(1))
                .max();
            let backfill = chrono::Duration::from_std(config.sim.backfill).unwrap_or_default();
            let from = stored_until
                .map_or(now - backfill, |t| t.max(now - backfill))
                .min(now);
            let mut simulator = Simulator::new(&universe, &config.sim_settings(from));
            if now - from >= chrono::Duration::seconds(1) {
                backfill::backfill(
                    &mut simulator,
                    &mut store,
                    &mut quotes,
                    f64::from(config.sim.backfill_rate),
                    config.sim.rate.nominal_per_second(),
                )
                .map_err(store_error)?;
            }
            Some(simulator)
        } else {
            None
        };
        let quotes = Arc::new(RwLock::new(quotes));

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
        // Alert rules, watchlists and portfolios: one connection for them all.
        let workspace = Arc::new(Mutex::new(ItemStore::open(&database).map_err(store_error)?));
        let alerts = Arc::new(Alerts::load(workspace.clone()).map_err(store_error)?);
        sinks.tasks.spawn(follow_alerts(
            Reader::new(log.ticks.clone(), Start::Latest),
            alerts.clone(),
            log.events.clone(),
            sinks.token.clone(),
        ));
        Ok(Self {
            lock,
            log,
            quotes,
            universe: universe.into_iter().map(|s| s.symbol).collect(),
            database,
            stored,
            simulator,
            alerts,
            workspace,
        })
    }
}

/// Runs the simulator on its own thread, into Kafka when `publisher` is
/// given (waiting while Kafka's queue is full), else into the local log.
/// Returns the handle that injects scenarios into it.
fn spawn_simulator(
    config: &Config,
    mut simulator: Simulator,
    log: &Arc<Log>,
    publisher: Option<KafkaPublisher>,
    metrics: &Arc<Metrics>,
    health: &Arc<Health>,
    sources: &Stage,
) -> SimHandle {
    let open = MarketEvent {
        kind: EventKind::SessionOpen,
        level: EventLevel::Info,
        symbol: None,
        message: format!(
            "simulated market open: {} symbols at {} ticks/s, speed {}, {} calendar (seed {})",
            simulator.symbols().len(),
            config.sim.rate,
            config.speed(),
            match config.sim.calendar {
                sim::CalendarKind::AlwaysOpen => "24/7",
                sim::CalendarKind::Nyse => "NYSE",
            },
            config.sim.seed
        ),
        timestamp: simulator.now(),
        scenario: None,
        alert: None,
    };
    let (handle, control) = sim::control();
    let run = SimulatorRun {
        speed: config.speed(),
        rate: config.sim.rate.nominal_per_second(),
        log: log.clone(),
        publisher,
        metrics: metrics.clone(),
        health: health.clone(),
        token: sources.token.clone(),
    };
    let kafka_config = run.publisher.is_some().then(|| config.clone());
    let stage = sources.clone();
    sources.tasks.spawn(async move {
        // Publishing to Kafka waits for the topics, so none is auto-created wrongly.
        if let Some(config) = kafka_config
            && !create_topics(&config, &run.health, &run.token).await
        {
            return;
        }
        stage
            .tasks
            .spawn_blocking(move || run.run(&mut simulator, &control, open));
    });
    handle
}

/// The simulator's thread: where its ticks go and what it reports to.
struct SimulatorRun {
    speed: sim::Speed,
    rate: f64,
    log: Arc<Log>,
    publisher: Option<KafkaPublisher>,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    token: CancellationToken,
}

impl SimulatorRun {
    /// Publishes `open`, then ticks and events until cancelled; then waits
    /// (briefly) for Kafka to acknowledge what it queued.
    fn run(self, simulator: &mut Simulator, control: &sim::Control, open: MarketEvent) {
        self.publish_json(&self.log.events, b"", &open, || Arc::new(open.clone()));
        let source = format!("tickstreamd@{}", hostname());
        let (mut sampled_at, mut sampled) = (Instant::now(), 0u64);
        let events_topic = self.log.events.clone();
        sim::produce(
            simulator,
            self.speed,
            self.rate,
            control,
            &self.token,
            |batch, events| {
                for event in events.drain(..) {
                    let key = event
                        .symbol
                        .as_ref()
                        .map_or("", |s| s.as_str())
                        .as_bytes()
                        .to_vec();
                    self.publish_json(&events_topic, &key, &event, || Arc::new(event.clone()));
                }
                let n = batch.len() as u64;
                match &self.publisher {
                    None => {
                        self.log.ticks.append_batch(batch.drain(..));
                        // Through Kafka, readiness follows the cluster's acknowledgements.
                        self.health.source.store(true, Ordering::Relaxed);
                    }
                    Some(kafka) => {
                        for tick in batch.drain(..) {
                            let key = tick.tick().symbol.as_str().as_bytes();
                            if kafka
                                .send_blocking(
                                    self.log.ticks.name(),
                                    key,
                                    tick.json().as_bytes(),
                                    &self.token,
                                )
                                .is_err()
                            {
                                return false;
                            }
                        }
                    }
                }
                self.metrics.ticks_produced.inc_by(n);
                if sampled_at.elapsed() >= HEALTH_SAMPLE_EVERY {
                    let produced = self.metrics.ticks_produced.get();
                    let sample = SystemMetric {
                        source: source.clone(),
                        name: "ticks_per_second".into(),
                        value: (produced - sampled) as f64 / sampled_at.elapsed().as_secs_f64(),
                        timestamp: Utc::now(),
                    };
                    self.publish_json(&self.log.metrics, source.as_bytes(), &sample, || {
                        Arc::new(sample.clone())
                    });
                    (sampled_at, sampled) = (Instant::now(), produced);
                }
                true
            },
        );
        self.health.source.store(false, Ordering::Relaxed);
        if let Some(kafka) = &self.publisher
            && let Err(error) = kafka.flush(KAFKA_FLUSH_DEADLINE)
        {
            tracing::error!(%error, in_flight = kafka.in_flight(), "Kafka did not acknowledge every tick before shutdown");
        }
    }

    /// Sends a record to the same-named Kafka topic, or appends it to the
    /// local topic when the simulator is not publishing to Kafka.
    fn publish_json<T: Record>(
        &self,
        topic: &Topic<T>,
        key: &[u8],
        value: &impl serde::Serialize,
        local: impl FnOnce() -> T,
    ) {
        match &self.publisher {
            None => {
                topic.append(local());
            }
            Some(kafka) => {
                let json = serde_json::to_vec(value).expect("wire types serialize");
                // Only shutdown interrupts a send; nothing is left to do then.
                let _ = kafka.send_blocking(topic.name(), key, &json, &self.token);
            }
        }
    }
}

/// Mirrors Kafka into the local log, on its own thread.
fn spawn_bridge(
    config: &Config,
    local: &Local,
    metrics: &Arc<Metrics>,
    health: &Arc<Health>,
    sources: &Stage,
) -> Result<(), EngineError> {
    let source = KafkaSource::new(
        &config.kafka,
        local.log.clone(),
        metrics.clone(),
        health.clone(),
    )
    .map_err(EngineError::Kafka)?;
    let (start, stored, token) = (
        config.kafka.start,
        local.stored.clone(),
        sources.token.clone(),
    );
    sources
        .tasks
        .spawn_blocking(move || match source.assign(start, &stored, &token) {
            Ok(()) => source.run(&token),
            Err(KafkaError::Cancelled) => {}
            Err(error) => tracing::error!(%error, "the bridge cannot read the cluster"),
        });
    Ok(())
}

/// Creates the Kafka topics, retrying while the cluster is unreachable.
/// Returns false when the cluster refused or shutdown began.
async fn create_topics(config: &Config, health: &Health, token: &CancellationToken) -> bool {
    let settings = config.log_settings();
    let names = ["stock_ticks", "market_events", "system_metrics"]
        .map(|n| format!("{}{n}", settings.topic_prefix));
    let topics = [
        (names[0].as_str(), settings.partitions),
        (names[1].as_str(), 1),
        (names[2].as_str(), 1),
    ];
    let mut backoff = Duration::from_millis(250);
    loop {
        match ensure_topics(&config.kafka, &topics).await {
            Ok(()) => return true,
            Err(KafkaError::TopicRefused { topic, reason }) => {
                health.source.store(false, Ordering::Relaxed);
                tracing::error!(topic, reason, "the cluster refused to create a topic");
                return false;
            }
            Err(error) => {
                tracing::warn!(%error, retry_in = ?backoff, "cannot create Kafka topics yet")
            }
        }
        tokio::select! {
            () = token.cancelled() => return false,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

fn spawn_gateway(listener: Option<TcpListener>, router: axum::Router, stage: &Stage) {
    let Some(listener) = listener else { return };
    let token = stage.token.clone();
    stage.tasks.spawn(async move {
        if let Err(error) = gateway::serve(listener, router, token).await {
            tracing::error!(%error, "gateway stopped");
        }
    });
}

/// Evaluates the alert rules on every new tick; firings become market events.
async fn follow_alerts(
    mut reader: Reader<Arc<EncodedTick>>,
    alerts: Arc<Alerts>,
    events: Arc<Topic<Arc<MarketEvent>>>,
    token: CancellationToken,
) {
    let mut fired = Vec::new();
    loop {
        let mut batch = Vec::new();
        reader.read_with(4_096, |_, _| {}, |_, _, record| batch.push(record.clone()));
        if !batch.is_empty() {
            alerts.apply(batch.iter().map(|r| r.tick()), &mut fired);
            for event in fired.drain(..) {
                tracing::info!(message = %event.message, "alert fired");
                events.append(Arc::new(event));
            }
            continue;
        }
        tokio::select! {
            () = token.cancelled() => return,
            () = reader.wait() => {}
        }
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
