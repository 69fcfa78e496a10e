//! `StoreWriter`: the component that follows `stock_ticks` and commits ticks,
//! candles and its log position in one transaction per batch.
//!
//! Nothing is dropped silently. A batch the disk cannot take (full,
//! read-only, locked) is retried, readiness false, until it can: after a
//! few failures in a row the store's circuit breaker opens and the writer
//! waits out its cool-down (growing to a few seconds) between tries; a batch that fails for its data is written again with what cannot
//! be stored set aside as dead letters (`dead_letters`, with the error). The
//! writer's reader never goes back, and the store keeps one row per log
//! position besides: a repeat is left out and counted.

use std::{
    collections::HashSet,
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};

use tokio_util::sync::CancellationToken;

use super::{Batch, Store, Written};
use crate::{
    analytics::{CandleBook, CandleUpdate},
    breaker::{Breaker, BreakerSettings},
    log::Reader,
    metrics::{Health, Metrics},
    model::{EncodedTick, Interval, Symbol},
};

/// How the writer batches and prunes.
#[derive(Debug, Clone, Copy)]
pub struct WriterSettings {
    /// Longest wait before new ticks are committed.
    pub flush_interval: Duration,
    /// Most ticks per transaction.
    pub max_batch: usize,
    /// How long ticks (and 1-second candles) are kept.
    pub retention: Duration,
}

/// How often old ticks are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(60);
/// Attempts at a failing commit after shutdown began, before giving up.
const SHUTDOWN_ATTEMPTS: u32 = 3;
/// Shortest time between two warnings about skipped ticks.
const SKIP_WARNING_EVERY: Duration = Duration::from_secs(10);
/// The store's circuit breaker: open after three failed commits in a row,
/// for a quarter of a second at first and at most five seconds, so a disk
/// that has room again is written to within seconds.
const STORE_BREAKER: BreakerSettings = BreakerSettings {
    failures: 3,
    cooldown: Duration::from_millis(250),
    max_cooldown: Duration::from_secs(5),
};
/// Pause between two tries while the breaker is closed (and at shutdown).
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// Follows the tick topic and persists it; see the module docs.
pub struct StoreWriter {
    store: Store,
    book: CandleBook,
    reader: Reader<Arc<EncodedTick>>,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    settings: WriterSettings,
    /// Opens while commits keep failing.
    breaker: Arc<Breaker>,
    /// Ticks skipped since the last warning, and when it was.
    skipped: (u64, Option<Instant>),
    /// A batch was given up at shutdown: the run did not end cleanly.
    gave_up: bool,
}

impl StoreWriter {
    /// A writer reading from `reader`'s position, continuing the candles the
    /// store left open.
    ///
    /// # Errors
    /// Returns the store's error when the open candles cannot be read.
    pub fn new(
        store: Store,
        reader: Reader<Arc<EncodedTick>>,
        metrics: Arc<Metrics>,
        health: Arc<Health>,
        settings: WriterSettings,
    ) -> Result<Self, super::StoreError> {
        let mut book = CandleBook::new();
        for (symbol, interval, builder) in store.open_candles()? {
            book.restore(symbol, interval, builder);
        }
        let breaker = Arc::new(Breaker::new("store", STORE_BREAKER, &metrics));
        health.watch(breaker.clone());
        Ok(Self {
            breaker,
            store,
            book,
            reader,
            metrics,
            health,
            settings,
            skipped: (0, None),
            gave_up: false,
        })
    }

    /// Commits batches until `token` is cancelled, then drains what the log
    /// holds and returns. Blocking: run it on its own thread.
    pub fn run(mut self, token: &CancellationToken) {
        let mut last_prune: Option<Instant> = None;
        loop {
            let stopping = token.is_cancelled();
            let batch = self.collect();
            let full = batch.ticks.len() >= self.settings.max_batch;
            let idle = batch.ticks.is_empty();
            if !idle {
                self.commit(&batch, token);
            }
            if stopping && idle {
                self.end_run();
                return;
            }
            if last_prune.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
                self.prune();
                last_prune = Some(Instant::now());
            }
            if !full && !stopping {
                std::thread::sleep(self.settings.flush_interval);
            }
        }
    }

    /// Reads what the log has (up to a batch) and folds it into candles.
    fn collect(&mut self) -> Batch {
        let mut batch = Batch::default();
        let partitions = self.reader.topic().partition_count() as usize;
        let per_partition = self.settings.max_batch.div_ceil(partitions).max(1);
        let topic_name = self.reader.topic().name().to_owned();
        let mut skipped = 0;
        self.reader.read_with(
            per_partition,
            |_, gap| skipped += gap.earliest - gap.requested,
            |partition, offset, record| batch.ticks.push((partition, offset, record.clone())),
        );
        if skipped > 0 {
            self.report_skipped(&topic_name, skipped);
        }
        let mut touched: HashSet<Symbol> = HashSet::new();
        let Batch { ticks, candles, .. } = &mut batch;
        for (_, _, record) in ticks.iter() {
            let symbol = &record.tick().symbol;
            self.book
                .apply(record.tick(), |interval, update, _| match update {
                    CandleUpdate::Rolled(closed) => {
                        candles.push((symbol.clone(), interval, closed, true))
                    }
                    CandleUpdate::Late => self.metrics.candle_late_ticks.inc(),
                    CandleUpdate::Updated => {}
                });
            if !touched.contains(symbol) {
                touched.insert(symbol.clone());
            }
        }
        for symbol in touched {
            for interval in Interval::ALL {
                if let Some(open) = self.book.open_candle(&symbol, interval) {
                    candles.push((symbol.clone(), interval, open.clone(), false));
                }
            }
        }
        batch.positions = self
            .reader
            .positions()
            .iter()
            .enumerate()
            .map(|(p, &next)| (topic_name.clone(), p as u32, next))
            .collect();
        batch
    }

    /// Commits a batch; see the module docs. After shutdown began, a batch
    /// the disk refuses is given up after a few attempts so the process can
    /// exit.
    fn commit(&mut self, batch: &Batch, token: &CancellationToken) {
        let (mut attempt, mut salvage) = (0u32, false);
        loop {
            let started = Instant::now();
            match self.store.write(batch, salvage) {
                Ok(written) => {
                    self.breaker.success();
                    self.committed(batch, written, started.elapsed());
                    return;
                }
                Err(error) if !error.is_transient() && !salvage => {
                    self.metrics.store_errors.inc();
                    tracing::error!(%error, ticks = batch.ticks.len(), "batch cannot be stored whole; storing what can be, the rest as dead letters");
                    salvage = true;
                }
                Err(error) => {
                    attempt += 1;
                    self.breaker.failure();
                    self.health.store.store(false, Ordering::Relaxed);
                    self.metrics.store_errors.inc();
                    tracing::error!(%error, attempt, ticks = batch.ticks.len(), "store commit failed; retrying");
                    if token.is_cancelled() && attempt >= SHUTDOWN_ATTEMPTS {
                        tracing::error!(
                            ticks = batch.ticks.len(),
                            "giving up at shutdown: batch not stored"
                        );
                        self.gave_up = true;
                        return;
                    }
                    self.pause(token);
                }
            }
        }
    }

    /// Waits before the next try: a short pause, or the breaker's
    /// cool-down while it is open; shutdown cuts it short.
    fn pause(&self, token: &CancellationToken) {
        std::thread::sleep(RETRY_PAUSE);
        self.breaker.wait_out(token, RETRY_PAUSE);
    }

    /// Records a committed batch: readiness and metrics.
    fn committed(&self, batch: &Batch, written: Written, took: Duration) {
        self.health.store.store(true, Ordering::Relaxed);
        let left_out = written.duplicates + written.dead_letters;
        self.metrics.store_batches.inc();
        self.metrics
            .store_ticks
            .inc_by((batch.ticks.len() as u64).saturating_sub(left_out));
        self.metrics
            .store_duplicate_ticks
            .inc_by(written.duplicates);
        self.metrics.store_dead_letters.inc_by(written.dead_letters);
        self.metrics
            .store_batch_duration
            .observe(took.as_secs_f64());
    }

    /// Records a clean end, when every batch was stored: the next run
    /// continues the offsets where this one stopped.
    fn end_run(&mut self) {
        if self.gave_up {
            return;
        }
        if let Err(error) = self.store.end_run() {
            tracing::error!(%error, "cannot record the clean stop; the next start counts it as a crash");
        }
    }

    /// Counts ticks lost to retention; warns at most every few seconds.
    fn report_skipped(&mut self, topic: &str, count: u64) {
        self.metrics.store_skipped_ticks.inc_by(count);
        self.skipped.0 += count;
        if self
            .skipped
            .1
            .is_none_or(|at| at.elapsed() >= SKIP_WARNING_EVERY)
        {
            tracing::warn!(
                topic,
                skipped = self.skipped.0,
                "the store fell behind log retention: ticks skipped (the store is slower than the tick rate)"
            );
            self.skipped = (0, Some(Instant::now()));
        }
    }

    fn prune(&mut self) {
        let Ok(retention) = chrono::Duration::from_std(self.settings.retention) else {
            return;
        };
        match self.store.prune(chrono::Utc::now() - retention) {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "pruned ticks past retention"),
            Err(error) => tracing::error!(%error, "pruning the store failed"),
        }
    }
}
