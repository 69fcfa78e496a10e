//! The local side of a role that serves data: the data directory's lock,
//! the store, the log continuing the store's offsets, the quote book, the
//! simulator continuing the stored prices with its history backfilled, and
//! the sinks that follow the log (store writer, quote, alert and paper
//! trading followers).

use std::{
    collections::HashSet,
    fs::File,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use chrono::Utc;
use parking_lot::{Mutex, RwLock};

use super::EngineError;
use crate::{
    alerts::{Alerts, follow_alerts},
    analytics::{Quotes, follow_quotes},
    backfill,
    component::{Context, blocking},
    config::Config,
    gateway::Access,
    log::{Log, LogSettings, Reader, Start},
    model::{Interval, Symbol},
    sim::Simulator,
    store::{ItemStore, Store, StoreError, StoreWriter, backup},
    trading::{Broker, follow_market},
};

/// The store, log and quotes a data-serving role runs on.
pub(super) struct Local {
    /// Held while the engine runs: one engine per data directory.
    pub lock: File,
    pub log: Arc<Log>,
    pub quotes: Arc<RwLock<Quotes>>,
    pub universe: HashSet<Symbol>,
    pub database: PathBuf,
    /// Next offset per `stock_ticks` partition the store recorded.
    pub stored: Vec<u64>,
    /// The simulator, when the role simulates: continuing the stored
    /// prices, its history backfilled.
    pub simulator: Option<Simulator>,
    /// The alert rules, evaluated on the live ticks.
    pub alerts: Arc<Alerts>,
    /// Watchlists and portfolios.
    pub workspace: Arc<Mutex<ItemStore>>,
    /// The API keys and the audit log.
    pub access: Access,
    /// Paper trading.
    pub trading: Arc<Broker>,
}

/// Where the local log continues after a crash: past every offset that may
/// have reached a client without reaching the store, so no offset ever names
/// two ticks, and a client resuming in between is told of the gap. The log
/// held at most its retention beyond the store's position, plus the batch
/// being written.
fn beyond_a_crash(stored: &[u64], settings: &LogSettings, max_batch: usize) -> Vec<u64> {
    let margin = (settings.retention.max_records + max_batch) as u64;
    let start: Vec<u64> = (0..settings.partitions as usize)
        .map(|p| stored.get(p).copied().unwrap_or(0) + margin)
        .collect();
    tracing::warn!(
        margin,
        "the last run did not stop cleanly: offsets continue past what it may have sent; resuming clients get a gap"
    );
    start
}

impl Local {
    /// Opens the store and the log, builds the simulator when `simulate`
    /// (backfilling its history into the store), and starts the sinks that
    /// follow the log in `sinks`.
    pub fn open(config: &Config, sinks: &Context, simulate: bool) -> Result<Self, EngineError> {
        let lock = lock_data_dir(&config.store.data_dir)?;
        let database = config.database_path();
        let store_error = |source| EngineError::Store {
            path: config.database_path(),
            source,
        };
        let mut store = Store::open(&database).map_err(store_error)?;
        let settings = config.log_settings();
        let stored = store
            .positions(&settings.topic_names().ticks)
            .map_err(store_error)?;
        let clean = store.begin_run().map_err(store_error)?;
        // A bridge keeps Kafka's offsets; the local log continues its own.
        let start = if config.kafka.enabled() {
            Vec::new()
        } else if clean {
            stored.clone()
        } else {
            beyond_a_crash(&stored, &settings, config.store.max_batch)
        };
        let log = Arc::new(Log::new(&settings, &start));
        sinks.health.store.store(true, Ordering::Relaxed);

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
            // History only where the store has none: after a restart, the gap.
            let stored_until = last_closes
                .iter()
                .map(|(_, start, _)| *start + chrono::Duration::minutes(1))
                .max();
            let now = Utc::now();
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
        // Alert rules, watchlists and portfolios: one connection for them all.
        let workspace = Arc::new(Mutex::new(ItemStore::open(&database).map_err(store_error)?));
        let alerts = Arc::new(Alerts::load(workspace.clone()).map_err(store_error)?);
        let access =
            Access::open(&database, config.store.audit_retention, sinks).map_err(store_error)?;
        let trading = Arc::new(
            Broker::open(
                &database,
                config.trading.settings(),
                log.clone(),
                quotes.clone(),
            )
            .map_err(store_error)?,
        );
        let local = Self {
            lock,
            log,
            quotes,
            universe: universe.into_iter().map(|s| s.symbol).collect(),
            database,
            stored,
            simulator,
            alerts,
            workspace,
            access,
            trading,
        };
        local
            .spawn_sinks(config, store, sinks)
            .map_err(store_error)?;
        Ok(local)
    }

    /// The components that follow the log: the store writer, the quote
    /// follower and the alert follower.
    fn spawn_sinks(&self, config: &Config, store: Store, cx: &Context) -> Result<(), StoreError> {
        let writer = StoreWriter::new(
            store,
            Reader::new(self.log.ticks.clone(), Start::Earliest),
            cx.metrics.clone(),
            cx.health.clone(),
            config.writer_settings(),
        )?;
        let token = cx.token.clone();
        cx.spawn("store writer", blocking(move || writer.run(&token)));
        let restart = config.restart_policy();
        // The quotes start from what the log holds; after a failure, from
        // its end (what made it fail is not read again).
        let (log, quotes, token) = (self.log.clone(), self.quotes.clone(), cx.token.clone());
        let first = AtomicBool::new(true);
        cx.spawn_restarting("quote follower", restart, move || {
            let start = if first.swap(false, Ordering::Relaxed) {
                Start::Earliest
            } else {
                Start::Latest
            };
            follow_quotes(
                Reader::new(log.ticks.clone(), start),
                quotes.clone(),
                token.clone(),
            )
        });
        if let Some(schedule) = config.backup_schedule() {
            cx.spawn(
                "backup scheduler",
                backup::run_schedule(
                    config.database_path(),
                    schedule,
                    cx.metrics.clone(),
                    cx.token.clone(),
                ),
            );
        }
        let (log, alerts, token) = (self.log.clone(), self.alerts.clone(), cx.token.clone());
        cx.spawn_restarting("alert follower", restart, move || {
            follow_alerts(
                Reader::new(log.ticks.clone(), Start::Latest),
                alerts.clone(),
                log.events.clone(),
                token.clone(),
            )
        });
        let (trading, token) = (self.trading.clone(), cx.token.clone());
        cx.spawn_restarting("paper trading", restart, move || {
            follow_market(trading.clone(), token.clone())
        });
        Ok(())
    }
}

/// Creates and locks the data directory: one engine (or offline `keys`
/// command) per directory.
///
/// # Errors
/// [`EngineError::DataDirInUse`] while another holds it, or the I/O error.
pub fn lock_data_dir(dir: &Path) -> Result<File, EngineError> {
    let dir_error = |source| EngineError::DataDir {
        path: dir.to_owned(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(dir_error)?;
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("tickstream.lock"))
        .map_err(dir_error)?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(std::fs::TryLockError::WouldBlock) => Err(EngineError::DataDirInUse {
            path: dir.to_owned(),
        }),
        Err(std::fs::TryLockError::Error(source)) => Err(dir_error(source)),
    }
}
