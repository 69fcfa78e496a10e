//! `Connectivity`: whether a Kafka client reaches the cluster, learned from
//! librdkafka's error callbacks and from traffic that gets through; each
//! change shows in `/readyz`, the log, the client's circuit breaker
//! (`kafka_producer`, `kafka_bridge`: open while the cluster is out of
//! reach) and (for a bridge) as a `connection` market event that WebSocket
//! clients receive.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use chrono::Utc;
use prometheus::IntGauge;
use rdkafka::{
    ClientContext, Statistics, consumer::ConsumerContext, error::KafkaError as RdKafkaError,
    types::RDKafkaErrorCode,
};

use crate::{
    breaker::{Breaker, BreakerSettings},
    log::Topic,
    metrics::{Health, Metrics},
    model::{EventKind, EventLevel, MarketEvent},
};

/// A Kafka client's circuit breaker: open as soon as the cluster is out of
/// reach, for a second at first and at most ten; closed by the first
/// traffic that gets through.
const BREAKER: BreakerSettings = BreakerSettings {
    failures: 1,
    cooldown: std::time::Duration::from_secs(1),
    max_cooldown: std::time::Duration::from_secs(10),
};

/// A client's link to the cluster; see the module docs.
pub struct Connectivity {
    role: &'static str,
    health: Arc<Health>,
    events: Option<Arc<Topic<Arc<MarketEvent>>>>,
    connected: AtomicBool,
    breaker: Arc<Breaker>,
    /// Set from librdkafka's statistics: (topic, gauge of its consumer lag).
    lag: Option<(String, IntGauge)>,
}

impl Connectivity {
    /// Starts disconnected, with a closed breaker `kafka_{role}` shown in
    /// `health` and `metrics`. `events` receives a `connection` event per
    /// change.
    pub fn new(
        role: &'static str,
        health: Arc<Health>,
        metrics: &Metrics,
        events: Option<Arc<Topic<Arc<MarketEvent>>>>,
    ) -> Self {
        let breaker = Arc::new(Breaker::new(format!("kafka_{role}"), BREAKER, metrics));
        health.watch(breaker.clone());
        Self {
            role,
            health,
            events,
            connected: AtomicBool::new(false),
            breaker,
            lag: None,
        }
    }

    /// The client's circuit breaker.
    pub fn breaker(&self) -> Arc<Breaker> {
        self.breaker.clone()
    }

    /// Reports the consumer lag of `topic` (Σ over its partitions, from
    /// librdkafka's statistics) into `gauge`.
    pub fn reporting_lag(mut self, topic: &str, gauge: IntGauge) -> Self {
        self.lag = Some((topic.to_owned(), gauge));
        self
    }

    /// Traffic got through.
    pub fn up(&self, detail: &str) {
        self.set(true, detail);
    }

    /// The cluster cannot be reached.
    pub fn down(&self, detail: &str) {
        self.set(false, detail);
    }

    fn set(&self, connected: bool, detail: &str) {
        self.health.source.store(connected, Ordering::Relaxed);
        if connected {
            self.breaker.success();
        } else {
            self.breaker.failure();
        }
        if self.connected.swap(connected, Ordering::SeqCst) == connected {
            return;
        }
        let message = if connected {
            tracing::info!(role = self.role, detail, "Kafka connected");
            format!("Kafka {} connected: {detail}", self.role)
        } else {
            tracing::warn!(role = self.role, detail, "Kafka unreachable");
            format!("Kafka {} unreachable: {detail}", self.role)
        };
        if let Some(events) = &self.events {
            let level = if connected {
                EventLevel::Info
            } else {
                EventLevel::Warning
            };
            events.append(Arc::new(MarketEvent::new(
                EventKind::Connection,
                level,
                None,
                message,
                Utc::now(),
            )));
        }
    }
}

/// Whether an error means the cluster is out of reach (not one bad message).
pub fn is_unreachable(error: &RdKafkaError) -> bool {
    matches!(
        error.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::AllBrokersDown
                | RDKafkaErrorCode::Authentication
                | RDKafkaErrorCode::Resolve
        )
    )
}

impl ClientContext for Connectivity {
    fn error(&self, error: RdKafkaError, reason: &str) {
        tracing::error!(role = self.role, %error, reason, "librdkafka error");
        if is_unreachable(&error) {
            self.down(reason);
        }
    }

    fn stats(&self, statistics: Statistics) {
        let Some((topic, gauge)) = &self.lag else {
            return;
        };
        if let Some(topic) = statistics.topics.get(topic) {
            // -1 marks a partition whose lag is not known yet.
            gauge.set(
                topic
                    .partitions
                    .values()
                    .map(|p| p.consumer_lag.max(0))
                    .sum(),
            );
        }
    }
}

impl ConsumerContext for Connectivity {}
