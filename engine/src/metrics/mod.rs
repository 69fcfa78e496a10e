//! `Metrics`: the Prometheus registry and every instrument the components
//! report into, rendered as Prometheus text at `/metrics`.

mod history;

use std::sync::Arc;

pub use history::MetricsHistory;
use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use tokio_util::sync::CancellationToken;

use std::collections::BTreeMap;

use crate::{
    breaker::Breaker,
    model::{Checks, CircuitState, Failure, Readiness, schemas::Record},
};

/// Latency buckets from 50 µs to 5 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.000_75, 0.001, 0.001_5, 0.002, 0.002_5, 0.005, 0.01,
    0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// A counter per kind of Kafka record (label `record`: `tick`, `event`,
/// `metric`, `quote`, `book`), resolved once: counting is one atomic add.
pub struct ByRecord([IntCounter; Record::ALL.len()]);

impl ByRecord {
    fn new(counters: IntCounterVec) -> Self {
        Self(Record::ALL.map(|record| counters.with_label_values(&[record.label()])))
    }

    /// The counter of `record`'s kind.
    pub fn of(&self, record: Record) -> &IntCounter {
        &self.0[record as usize]
    }
}

/// Every instrument, registered in one registry. Cheap to share (`Arc`).
pub struct Metrics {
    registry: Registry,
    /// Once-a-second samples derived from the instruments.
    pub history: MetricsHistory,
    /// Ticks produced by the simulator.
    pub ticks_produced: IntCounter,
    /// Ticks written to WebSocket clients.
    pub ticks_delivered: IntCounter,
    /// Ticks passed over for a later one of their symbol (conflating clients).
    pub ticks_conflated: IntCounter,
    /// Connected WebSocket clients.
    pub ws_clients: IntGauge,
    /// Replays open.
    pub replays: IntGauge,
    /// Ticks played by replays.
    pub replay_ticks: IntCounter,
    /// WebSocket frames sent.
    pub ws_frames_sent: IntCounter,
    /// WebSocket frames received.
    pub ws_frames_received: IntCounter,
    /// Error frames sent, by code.
    pub ws_errors: IntCounterVec,
    /// WebSocket clients closed by the gateway, by reason (`slow`: stopped
    /// reading; `unresponsive`: answered no ping).
    pub ws_closed: IntCounterVec,
    /// HTTP requests and WebSocket upgrades the gateway's guard refused, by code.
    pub http_refusals: IntCounterVec,
    /// Gaps reported to clients that fell behind retention.
    pub ws_gaps: IntCounter,
    /// Age of the oldest tick of each `ticks` frame when it is written.
    pub delivery_latency: Histogram,
    /// Store transactions committed.
    pub store_batches: IntCounter,
    /// Ticks committed to the store.
    pub store_ticks: IntCounter,
    /// Store transaction duration.
    pub store_batch_duration: Histogram,
    /// Store transactions that failed (and are retried).
    pub store_errors: IntCounter,
    /// Audit entries the audit writer could not take in time.
    pub audit_dropped: IntCounter,
    /// Ticks the store never saw because it fell behind log retention.
    pub store_skipped_ticks: IntCounter,
    /// Ticks older than their symbol's open candle, left out of candles.
    pub candle_late_ticks: IntCounter,
    /// Ticks at a log position the store already held, left out.
    pub store_duplicate_ticks: IntCounter,
    /// Ticks and candles the store could not take, kept as dead letters.
    pub store_dead_letters: IntCounter,
    /// Components that failed, by component.
    pub component_failures: IntCounterVec,
    /// Components restarted after a failure, by component.
    pub component_restarts: IntCounterVec,
    /// Scheduled backups taken.
    pub backups: IntCounter,
    /// Scheduled backups that failed.
    pub backup_failures: IntCounter,
    /// When the last scheduled backup was taken (Unix seconds).
    pub backup_last_success: IntGauge,
    /// Records Kafka acknowledged, by record kind.
    pub kafka_delivered: ByRecord,
    /// Records Kafka failed to deliver.
    pub kafka_delivery_errors: IntCounter,
    /// Waits on a full producer queue (backpressure on the source).
    pub kafka_backpressure: IntCounter,
    /// Messages mirrored from Kafka into the local log, by record kind.
    pub kafka_consumed: ByRecord,
    /// Malformed messages skipped, by topic.
    pub kafka_malformed: IntCounterVec,
    /// Messages received again after a reconnect, skipped.
    pub kafka_duplicates: IntCounter,
    /// Tick messages in Kafka not yet mirrored (Σ high watermark − position).
    pub kafka_consumer_lag: IntGauge,
    /// Each circuit breaker's state (0 closed, 1 half-open, 2 open), by circuit.
    pub circuit_state: IntGaugeVec,
    /// Times each circuit breaker opened, by circuit.
    pub circuit_opened: IntCounterVec,
}

impl Metrics {
    /// Creates and registers every instrument.
    ///
    /// # Panics
    /// Panics only if two instruments share a name (a programming error).
    pub fn new() -> Self {
        let registry = Registry::new();
        // The process's CPU, memory and file descriptors (`process_*`), as
        // every Prometheus client library exports them (the crate reads
        // them from /proc: Linux only).
        #[cfg(target_os = "linux")]
        registry
            .register(Box::new(
                prometheus::process_collector::ProcessCollector::for_self(),
            ))
            .expect("unique metric");
        let counter = |name: &str, help: &str| {
            let c = IntCounter::new(name, help).expect("valid metric");
            registry
                .register(Box::new(c.clone()))
                .expect("unique metric");
            c
        };
        let histogram = |name: &str, help: &str| {
            let h = Histogram::with_opts(
                HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec()),
            )
            .expect("valid metric");
            registry
                .register(Box::new(h.clone()))
                .expect("unique metric");
            h
        };
        let gauge = |name: &str, help: &str| {
            let g = IntGauge::new(name, help).expect("valid metric");
            registry
                .register(Box::new(g.clone()))
                .expect("unique metric");
            g
        };
        let counter_vec = |name: &str, help: &str, label: &str| {
            let c = IntCounterVec::new(Opts::new(name, help), &[label]).expect("valid metric");
            registry
                .register(Box::new(c.clone()))
                .expect("unique metric");
            c
        };
        let ws_clients = gauge("tickstream_ws_clients", "Connected WebSocket clients.");
        let circuit_state = IntGaugeVec::new(
            Opts::new(
                "tickstream_circuit_state",
                "Circuit breaker state by circuit: 0 closed, 1 half-open, 2 open.",
            ),
            &["circuit"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(circuit_state.clone()))
            .expect("unique metric");
        let kafka_consumer_lag = gauge(
            "tickstream_kafka_consumer_lag",
            "Tick messages in Kafka not yet mirrored into the local log.",
        );
        let ws_errors = counter_vec(
            "tickstream_ws_errors_total",
            "Error frames sent to WebSocket clients, by code.",
            "code",
        );
        let ws_closed = counter_vec(
            "tickstream_ws_closed_total",
            "WebSocket clients the gateway closed, by reason (slow: stopped reading; unresponsive: answered no ping).",
            "reason",
        );
        let http_refusals = counter_vec(
            "tickstream_http_refusals_total",
            "Requests refused before reaching a route (host, origin, content type, API key, scope), by code.",
            "code",
        );
        let kafka_malformed = counter_vec(
            "tickstream_kafka_malformed_total",
            "Malformed Kafka messages skipped, by topic.",
            "topic",
        );
        Self {
            kafka_delivered: ByRecord::new(counter_vec(
                "tickstream_kafka_delivered_total",
                "Records Kafka acknowledged, by record kind.",
                "record",
            )),
            kafka_delivery_errors: counter(
                "tickstream_kafka_delivery_errors_total",
                "Records Kafka failed to deliver.",
            ),
            kafka_backpressure: counter(
                "tickstream_kafka_backpressure_waits_total",
                "Waits on a full Kafka producer queue (backpressure on the source).",
            ),
            kafka_consumed: ByRecord::new(counter_vec(
                "tickstream_kafka_consumed_total",
                "Messages mirrored from Kafka into the local log, by record kind.",
                "record",
            )),
            kafka_malformed,
            kafka_consumer_lag,
            kafka_duplicates: counter(
                "tickstream_kafka_duplicates_total",
                "Kafka messages received again after a reconnect, skipped.",
            ),
            ticks_produced: counter(
                "tickstream_ticks_produced_total",
                "Ticks produced by the simulator.",
            ),
            ticks_delivered: counter(
                "tickstream_ticks_delivered_total",
                "Ticks written to WebSocket clients.",
            ),
            ticks_conflated: counter(
                "tickstream_ticks_conflated_total",
                "Ticks not sent to a conflating client because a later tick of the same symbol was.",
            ),
            ws_clients,
            replays: gauge("tickstream_replays", "Replays open."),
            replay_ticks: counter(
                "tickstream_replay_ticks_total",
                "Ticks played by replays, read from the store.",
            ),
            ws_frames_sent: counter("tickstream_ws_frames_sent_total", "WebSocket frames sent."),
            ws_frames_received: counter(
                "tickstream_ws_frames_received_total",
                "WebSocket frames received.",
            ),
            ws_errors,
            http_refusals,
            ws_closed,
            ws_gaps: counter(
                "tickstream_ws_gaps_total",
                "Gaps reported to WebSocket clients that fell behind log retention.",
            ),
            delivery_latency: histogram(
                "tickstream_delivery_latency_seconds",
                "Age of the oldest tick of each ticks frame when the frame is written.",
            ),
            store_batches: counter(
                "tickstream_store_batches_total",
                "Store transactions committed.",
            ),
            store_ticks: counter(
                "tickstream_store_ticks_total",
                "Ticks committed to the store.",
            ),
            store_batch_duration: histogram(
                "tickstream_store_batch_duration_seconds",
                "Duration of store transactions.",
            ),
            store_errors: counter(
                "tickstream_store_errors_total",
                "Store transactions that failed.",
            ),
            audit_dropped: counter(
                "tickstream_audit_dropped_total",
                "Audit entries not stored because the audit writer fell behind.",
            ),
            store_skipped_ticks: counter(
                "tickstream_store_skipped_ticks_total",
                "Ticks the store never saw because it fell behind log retention.",
            ),
            store_duplicate_ticks: counter(
                "tickstream_store_duplicate_ticks_total",
                "Ticks at a log position the store already held, left out.",
            ),
            store_dead_letters: counter(
                "tickstream_store_dead_letters_total",
                "Ticks and candles the store could not take, kept in its dead_letters table.",
            ),
            component_failures: counter_vec(
                "tickstream_component_failures_total",
                "Components that panicked or ended while they should run, by component.",
                "component",
            ),
            backups: counter("tickstream_backups_total", "Scheduled backups taken."),
            backup_failures: counter(
                "tickstream_backup_failures_total",
                "Scheduled backups that failed.",
            ),
            backup_last_success: gauge(
                "tickstream_backup_last_success_timestamp_seconds",
                "When the last scheduled backup was taken (Unix seconds).",
            ),
            component_restarts: counter_vec(
                "tickstream_component_restarts_total",
                "Components started again after a failure, by component.",
                "component",
            ),
            candle_late_ticks: counter(
                "tickstream_candle_late_ticks_total",
                "Ticks older than their symbol's open candle, left out of candles.",
            ),
            circuit_state,
            circuit_opened: counter_vec(
                "tickstream_circuit_opened_total",
                "Times a circuit breaker opened, by circuit.",
                "circuit",
            ),
            registry,
            history: MetricsHistory::default(),
        }
    }

    /// Samples the instruments once a second into [`Metrics::history`]
    /// until `token` is cancelled.
    pub async fn sample_every_second(self: Arc<Self>, token: CancellationToken) {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = token.cancelled() => return,
                _ = every.tick() => self.history.sample(&self, chrono::Utc::now()),
            }
        }
    }

    /// Renders every instrument in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding into a Vec cannot fail");
        String::from_utf8(out).expect("Prometheus text is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Readiness of the parts `/readyz` reports on, set by the components.
#[derive(Debug, Default)]
pub struct Health {
    /// The tick source is producing (or connected).
    pub source: std::sync::atomic::AtomicBool,
    /// The last store commit succeeded.
    pub store: std::sync::atomic::AtomicBool,
    /// Components that failed (panicked, or ended while they should run),
    /// with why; any failure makes the engine unready for good.
    failures: parking_lot::Mutex<Vec<Failure>>,
    /// The circuit breakers whose state `/readyz` shows.
    circuits: parking_lot::Mutex<Vec<Arc<Breaker>>>,
    /// Components that failed and wait to be restarted.
    restarting: parking_lot::Mutex<std::collections::BTreeSet<&'static str>>,
}

impl Health {
    /// Whether every part is ready.
    pub fn ready(&self) -> bool {
        self.readiness().ready
    }

    /// What `/readyz` reports.
    pub fn readiness(&self) -> Readiness {
        use std::sync::atomic::Ordering::Relaxed;
        let checks = Checks {
            source: self.source.load(Relaxed),
            store: self.store.load(Relaxed),
        };
        let failed = self.failures();
        let circuits: BTreeMap<String, CircuitState> = self
            .circuits
            .lock()
            .iter()
            .map(|b| (b.name().to_owned(), b.state()))
            .collect();
        let open = circuits.values().any(|&s| s == CircuitState::Open);
        let restarting: Vec<String> = self
            .restarting
            .lock()
            .iter()
            .map(|c| (*c).to_owned())
            .collect();
        Readiness {
            ready: checks.source
                && checks.store
                && failed.is_empty()
                && !open
                && restarting.is_empty(),
            checks,
            failed,
            circuits,
            restarting,
        }
    }

    /// Marks a component as waiting to be restarted (unready) or back.
    pub fn set_restarting(&self, component: &'static str, waiting: bool) {
        let mut restarting = self.restarting.lock();
        if waiting {
            restarting.insert(component);
        } else {
            restarting.remove(component);
        }
    }

    /// Shows `breaker`'s state in `/readyz` (an open one makes it unready).
    pub fn watch(&self, breaker: Arc<Breaker>) {
        self.circuits.lock().push(breaker);
    }

    /// Records that a component failed.
    pub fn fail(&self, failure: Failure) {
        self.failures.lock().push(failure);
    }

    /// The components that failed, first first.
    pub fn failures(&self) -> Vec<Failure> {
        self.failures.lock().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_conventional_names() {
        let m = Metrics::new();
        m.ticks_produced.inc_by(3);
        m.delivery_latency.observe(0.0002);
        let text = m.render();
        assert!(text.contains("tickstream_ticks_produced_total 3"));
        assert!(text.contains("# TYPE tickstream_delivery_latency_seconds histogram"));
    }
}
