//! `Engine`: builds the components a deployment needs, connects them through
//! the log, and shuts them down in order: sources first, then the gateway,
//! then the sinks, which drain what the log still holds.

mod local;
mod recover;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
};

use chrono::Utc;
use tokio::net::TcpListener;

use self::local::Local;
pub use self::{local::lock_data_dir, recover::recover};
use crate::{
    component::{Context, blocking},
    config::{Config, Format, Reload, Running},
    gateway::{
        self, Access, Certificates, Exposure, GatewayState, Guard, Limits, Market, Operations,
        Stored, TlsError, Unprotected,
    },
    kafka::{
        Connectivity, KafkaError, KafkaPublisher, KafkaSink, KafkaSource, Registry, create_topics,
    },
    log::{LogSink, Sink},
    metrics::Metrics,
    model::Failure,
    replay::Replays,
    sim::{Shard, SimHandle, Simulator, SimulatorSource},
    store::StoreError,
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
    /// A network listen without API keys.
    #[error(transparent)]
    Unprotected(#[from] Unprotected),
    /// A replay lost ticks to the log's retention.
    #[error(
        "the store fell behind the replay: {0} ticks were lost to log retention; raise log.retention_records and restore again"
    )]
    FellBehind(u64),
    /// The TLS certificate or key cannot be served.
    #[error(transparent)]
    Tls(#[from] TlsError),
}

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
    /// The served certificate, when the gateway speaks TLS.
    certificates: Option<Certificates>,
    /// What a reload changes while the engine runs.
    tuning: Tuning,
    stages: Stages,
}

/// The parts a reload retunes: the configuration in force, the guard's
/// limits, the stream bounds (in `state`) and the simulator's pacing.
struct Tuning {
    running: Arc<Running>,
    limits: Option<Arc<Limits>>,
    simulator: Option<SimHandle>,
}

/// The three stages of an engine, stopped in this order.
struct Stages {
    sources: Context,
    gateway: Context,
    sinks: Context,
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
        if !config.kafka.enabled() && role != Role::AllInOne {
            return Err(EngineError::NoBrokers);
        }
        let sinks = Context::new(Arc::new(Metrics::new()), Arc::default());
        let stages = Stages {
            sources: sinks.stage(),
            gateway: sinks.stage(),
            sinks,
        };
        let (metrics, token) = (stages.sinks.metrics.clone(), stages.sinks.token.clone());
        stages
            .sinks
            .spawn_restarting("metrics sampler", config.restart_policy(), move || {
                metrics.clone().sample_every_second(token.clone())
            });
        let running = Arc::new(Running::new(config.clone()));
        let (state, router, lock, access, simulator) = match role {
            Role::Producer(shard) => {
                let access = producer_access(config, &stages.sinks)?;
                let (router, simulator) = producer(config, shard, running.clone(), &stages)?;
                (None, router, None, access, Some(simulator))
            }
            Role::AllInOne | Role::Bridge => {
                let (state, router, lock) = serving(config, role, running.clone(), &stages)?;
                let access = state.stored.access.clone();
                let simulator = state.ops.simulator.clone();
                (Some(state), router, Some(lock), access, simulator)
            }
        };
        let mut tuning = Tuning {
            running,
            limits: None,
            simulator,
        };
        let certificates = match (&config.gateway.tls_cert, &config.gateway.tls_key, &listener) {
            (Some(cert), Some(key), Some(_)) => match Certificates::load(cert, key).await {
                Ok(certificates) => Some(certificates),
                Err(error) => {
                    stages.stop().await;
                    return Err(error.into());
                }
            },
            _ => None,
        };
        if let (Some(listener), Some(listen)) = (listener, addr) {
            let gateway = &config.gateway;
            let exposure = Exposure {
                listen,
                allowed_origins: &gateway.allowed_origins,
                public_hosts: &gateway.public_hosts,
                insecure_no_auth: gateway.insecure_no_auth,
            };
            let limits = config.client_limits();
            let metrics = stages.sinks.metrics.clone();
            let guard = match Guard::new(access, &exposure, limits, metrics) {
                Ok(guard) => guard,
                Err(unprotected) => {
                    stages.stop().await;
                    return Err(unprotected.into());
                }
            };
            tuning.limits = Some(guard.limits());
            let router = Arc::new(guard).protect(router.clone());
            let cx = stages.gateway.clone();
            let served = certificates.clone();
            // An error ends the component: the supervisor reports it.
            stages.gateway.spawn("gateway", async move {
                gateway::serve(listener, router, served.as_ref(), cx.token).await
            });
            if let Some(certificates) = &certificates {
                let token = stages.gateway.token.clone();
                stages
                    .gateway
                    .spawn("certificate watcher", certificates.clone().watch(token));
            }
        }
        Ok(Self {
            _data_dir_lock: lock,
            addr,
            state,
            router,
            certificates,
            tuning,
            stages,
        })
    }

    /// Takes the settings a running engine can change from `newer` (the
    /// configuration read again: see [`crate::config::LIVE_KEYS`]) and
    /// applies them: the gateway's limits to requests from now on and
    /// streams opened after, the simulator's rate and speed from its next
    /// batch. Says which keys applied and which wait for a restart. (The
    /// log filter belongs to the process: its binary applies it.)
    pub fn reconfigure(&self, newer: &Config) -> Reload {
        let reload = self.tuning.running.reload(newer);
        let effective = self.tuning.running.effective();
        if let Some(limits) = &self.tuning.limits {
            limits.update(effective.client_limits());
        }
        if let Some(state) = &self.state {
            state.market.set_limits(effective.stream_limits());
        }
        if let Some(simulator) = &self.tuning.simulator {
            simulator.pace(effective.pacing());
        }
        reload
    }

    /// The address the gateway listens on, when it was given a listener.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// Whether the gateway serves HTTPS and WSS.
    pub fn is_tls(&self) -> bool {
        self.certificates.is_some()
    }

    /// Loads the TLS certificate and key again (on SIGHUP); the current
    /// ones stay when the new cannot be served. Nothing without TLS.
    ///
    /// # Errors
    /// [`TlsError`] naming the files.
    pub async fn reload_certificates(&self) -> Result<(), TlsError> {
        match &self.certificates {
            Some(certificates) => certificates.reload().await,
            None => Ok(()),
        }
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

    /// Waits until a component fails (see [`crate::component`]) and
    /// returns which and how; pending while every component runs.
    pub async fn failed(&self) -> Failure {
        self.stages.sinks.supervisor().failed().await
    }

    /// Stops the sources, then the gateway (no new connections, WebSockets
    /// closed), then the sinks after they drained the log into the store.
    pub async fn shutdown(self) {
        self.stages.stop().await;
    }
}

impl Stages {
    /// Stops the sources, the gateway, then the sinks.
    async fn stop(&self) {
        self.sources.stop().await;
        self.gateway.stop().await;
        self.sinks.stop().await;
    }
}

/// The producer: simulator → Kafka for one shard's symbols; no local
/// consumers, no store; the ops routes only.
/// Returns its routes and the simulator's handle.
fn producer(
    config: &Config,
    shard: Shard,
    running: Arc<Running>,
    stages: &Stages,
) -> Result<(axum::Router, SimHandle), EngineError> {
    let cx = &stages.sources;
    cx.health
        .store
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let link = Connectivity::new("producer", cx.health.clone(), &cx.metrics, None);
    let sink = kafka_sink(config, link, cx)?;
    let simulator = Simulator::new(
        &shard.select(&config.universe()),
        &config.sim_settings(Utc::now()),
    );
    let handle = spawn_simulator(config, simulator, Box::new(sink), true, cx);
    let router = gateway::ops_router(Operations {
        metrics: cx.metrics.clone(),
        health: cx.health.clone(),
        simulator: Some(handle.clone()),
        config: running,
    });
    Ok((router, handle))
}

/// The producer's API keys (it guards scenario injection) and audit log:
/// those of its data directory's store, which it shares with no engine's lock.
fn producer_access(config: &Config, sinks: &Context) -> Result<Access, EngineError> {
    let dir = &config.store.data_dir;
    std::fs::create_dir_all(dir).map_err(|source| EngineError::DataDir {
        path: dir.clone(),
        source,
    })?;
    Access::open(&config.database_path(), config.store.audit_retention, sinks).map_err(|source| {
        EngineError::Store {
            path: config.database_path(),
            source,
        }
    })
}

/// All-in-one and bridge: the local log, store and followers; the
/// simulator (all-in-one) into the log or, with brokers, into Kafka; the
/// bridge from Kafka into the log when brokers are configured.
fn serving(
    config: &Config,
    role: Role,
    running: Arc<Running>,
    stages: &Stages,
) -> Result<(Arc<GatewayState>, axum::Router, std::fs::File), EngineError> {
    let kafka = config.kafka.enabled();
    let mut local = Local::open(config, &stages.sinks, role == Role::AllInOne)?;
    let cx = &stages.sources;
    let handle = match local.simulator.take() {
        None => None,
        Some(simulator) => {
            let sink: Box<dyn Sink> = if kafka {
                let events = Some(local.log.events.clone());
                let link = Connectivity::new("producer", cx.health.clone(), &cx.metrics, events);
                Box::new(kafka_sink(config, link, cx)?)
            } else {
                Box::new(LogSink::new(local.log.clone(), cx.health.clone()))
            };
            Some(spawn_simulator(config, simulator, sink, kafka, cx))
        }
    };
    if kafka {
        spawn_bridge(config, &local, role == Role::Bridge, cx)?;
    }
    let replays = Arc::new(Replays::new(
        local.database.clone(),
        local.log.ticks.partition_count(),
        cx.metrics.clone(),
        stages.gateway.token.clone(),
    ));
    let state = Arc::new(GatewayState {
        replays,
        market: Arc::new(Market::new(
            local.log,
            local.quotes,
            local.universe,
            config.stream_limits(),
        )),
        stored: Arc::new(Stored::new(
            local.database,
            local.alerts,
            local.workspace,
            local.access,
            local.trading,
        )),
        ops: Operations {
            metrics: cx.metrics.clone(),
            health: cx.health.clone(),
            simulator: handle,
            config: running,
        },
        shutdown: stages.gateway.token.clone(),
    });
    let ui_dir = config.gateway.ui_dir.clone().or_else(find_ui_dir);
    if ui_dir.is_none() {
        tracing::warn!("dashboard not found: run `cargo xtask build` or set gateway.ui_dir");
    }
    let router = gateway::router(state.clone(), ui_dir.as_deref());
    Ok((state, router, local.lock))
}

/// A sink into the cluster's topics, its connection reported through `link`.
fn kafka_sink(config: &Config, link: Connectivity, cx: &Context) -> Result<KafkaSink, EngineError> {
    let breaker = link.breaker();
    let publisher =
        KafkaPublisher::new(&config.kafka, cx.metrics.clone(), link).map_err(EngineError::Kafka)?;
    Ok(KafkaSink::new(
        publisher,
        config.log_settings().topic_names(),
        cx.token.clone(),
        breaker,
        config.kafka.format,
        match config.kafka.format {
            Format::Avro => Registry::configured(&config.kafka),
            Format::Json => None,
        },
    ))
}

/// Runs the simulator source into `sink`, once the cluster has the topics
/// when the sink is Kafka (so none is auto-created wrongly). Returns the
/// handle that injects scenarios into it.
fn spawn_simulator(
    config: &Config,
    simulator: Simulator,
    sink: Box<dyn Sink>,
    kafka: bool,
    cx: &Context,
) -> SimHandle {
    let (source, handle) = SimulatorSource::new(simulator, sink, config.source_settings());
    let topics = kafka.then(|| (config.kafka.clone(), config.log_settings()));
    let cx2 = cx.clone();
    cx.spawn("simulator", async move {
        if let Some((kafka, log)) = topics
            && !create_topics(&kafka, &log, &cx2.health, &cx2.token).await
        {
            return;
        }
        blocking(move || source.run(&cx2)).await;
    });
    handle
}

/// Mirrors Kafka into the local log, on its own thread; a bridge role also
/// creates the topics (it may start before any producer).
fn spawn_bridge(
    config: &Config,
    local: &Local,
    creates_topics: bool,
    cx: &Context,
) -> Result<(), EngineError> {
    let source = KafkaSource::new(
        &config.kafka,
        local.log.clone(),
        cx.metrics.clone(),
        cx.health.clone(),
    )
    .map_err(EngineError::Kafka)?;
    let (kafka, log) = (config.kafka.clone(), config.log_settings());
    let (start, fallback) = (config.kafka.start, config.kafka.start_fallback);
    let (stored, cx2) = (local.stored.clone(), cx.clone());
    let read = blocking(
        move || match source.assign(start, fallback, &stored, &cx2.token) {
            Ok(()) => {
                source.run(&cx2.token);
                Ok(())
            }
            Err(KafkaError::Cancelled) => Ok(()),
            Err(error) => Err(format!("the bridge cannot read the cluster: {error}")),
        },
    );
    let cx2 = cx.clone();
    cx.spawn("kafka bridge", async move {
        let topics = async {
            if creates_topics {
                create_topics(&kafka, &log, &cx2.health, &cx2.token).await;
            }
        };
        tokio::join!(topics, read).1
    });
    Ok(())
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
