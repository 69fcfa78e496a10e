//! `KafkaPublisher`: sends records to Kafka keyed by symbol, waiting while
//! librdkafka's queue is full so the source slows down instead of dropping.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use parking_lot::Mutex;

use rdkafka::{
    ClientContext,
    error::{KafkaError as RdKafkaError, RDKafkaErrorCode},
    message::DeliveryResult,
    producer::{BaseRecord, Producer, ProducerContext, ThreadedProducer},
};
use tokio_util::sync::CancellationToken;

use super::{Connectivity, KafkaError, client_config};
use crate::{config::KafkaConfig, metrics::Metrics, model::schemas::Record};

/// Producer defaults (any can be overridden in `[kafka.properties]`):
/// idempotent, acknowledged by all in-sync replicas, gzip (the codec every
/// Kafka client reads without an extra package), a small linger,
/// and no delivery timeout: a record is retried until the cluster takes it
/// (while it is away the queue fills and holds the simulator back), so only
/// a permanent error (too large, not authorised) fails a delivery.
pub const PRODUCER_DEFAULTS: &[(&str, &str)] = &[
    ("enable.idempotence", "true"),
    ("message.timeout.ms", "0"),
    ("acks", "all"),
    ("compression.type", "gzip"),
    ("linger.ms", "5"),
    ("batch.num.messages", "10000"),
    ("queue.buffering.max.messages", "200000"),
];

/// How long a full queue is waited on between attempts.
const QUEUE_FULL_WAIT: Duration = Duration::from_millis(10);
/// Shortest time between two backpressure warnings.
const BACKPRESSURE_WARNING_EVERY: Duration = Duration::from_secs(10);

/// Counts delivery reports; an acknowledgement proves the link works.
struct Reports {
    metrics: Arc<Metrics>,
    link: Connectivity,
}

impl ClientContext for Reports {
    fn error(&self, error: RdKafkaError, reason: &str) {
        self.link.error(error, reason);
    }
}

impl ProducerContext for Reports {
    /// The record's kind (its index in [`Record::ALL`]), for the count.
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, kind: usize) {
        match result {
            Ok(_) => {
                self.metrics.kafka_delivered.of(Record::ALL[kind]).inc();
                self.link.up("records acknowledged");
            }
            Err((error, _)) => {
                self.metrics.kafka_delivery_errors.inc();
                tracing::error!(%error, "Kafka delivery failed");
            }
        }
    }
}

/// A producer for Tickstream's topics.
pub struct KafkaPublisher {
    producer: ThreadedProducer<Reports>,
    metrics: Arc<Metrics>,
    /// When backpressure was last logged.
    warned: Mutex<Option<Instant>>,
}

impl KafkaPublisher {
    /// Creates the producer. It connects lazily; an unreachable cluster
    /// shows as records waiting in the queue, then as backpressure.
    ///
    /// # Errors
    /// Returns the client error when librdkafka refuses the configuration.
    pub fn new(
        config: &KafkaConfig,
        metrics: Arc<Metrics>,
        link: Connectivity,
    ) -> Result<Self, KafkaError> {
        let producer =
            client_config(config, "producer", PRODUCER_DEFAULTS).create_with_context(Reports {
                metrics: metrics.clone(),
                link,
            })?;
        Ok(Self {
            producer,
            metrics,
            warned: Mutex::new(None),
        })
    }

    /// Queues a record of kind `kind`, waiting while the queue is full
    /// (backpressure). Blocking: call it from the source's own thread.
    ///
    /// # Errors
    /// [`KafkaError::Cancelled`] when `token` is cancelled while waiting, or
    /// the client error for a record librdkafka refuses outright.
    pub fn send_blocking(
        &self,
        kind: Record,
        topic: &str,
        key: &[u8],
        payload: &[u8],
        token: &CancellationToken,
    ) -> Result<(), KafkaError> {
        let mut record = BaseRecord::with_opaque_to(topic, kind as usize)
            .key(key)
            .payload(payload);
        loop {
            match self.producer.send(record) {
                Ok(()) => return Ok(()),
                Err((RdKafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    self.metrics.kafka_backpressure.inc();
                    self.warn_backpressure();
                    if token.is_cancelled() {
                        return Err(KafkaError::Cancelled);
                    }
                    std::thread::sleep(QUEUE_FULL_WAIT);
                    record = back;
                }
                Err((error, _)) => return Err(error.into()),
            }
        }
    }

    /// Counts (as a failed delivery) and logs a `record` that was not sent
    /// because it could not be encoded.
    pub fn refuse(&self, record: &str, error: &str) {
        self.metrics.kafka_delivery_errors.inc();
        tracing::error!(record, %error, "record not sent: it cannot be encoded");
    }

    fn warn_backpressure(&self) {
        let mut warned = self.warned.lock();
        if warned.is_none_or(|at| at.elapsed() >= BACKPRESSURE_WARNING_EVERY) {
            tracing::warn!(
                in_flight = self.in_flight(),
                "Kafka producer queue full: the simulator waits for the cluster (backpressure)"
            );
            *warned = Some(Instant::now());
        }
    }

    /// Records queued or in flight.
    pub fn in_flight(&self) -> i32 {
        self.producer.in_flight_count()
    }

    /// Waits up to `timeout` for every queued record to be acknowledged.
    ///
    /// # Errors
    /// Returns the client error when records are still unacknowledged.
    pub fn flush(&self, timeout: Duration) -> Result<(), KafkaError> {
        Ok(self.producer.flush(timeout)?)
    }
}
