//! `KafkaSource`: mirrors a cluster's `stock_ticks`, `market_events` and
//! `system_metrics` into the local log, every partition (manual assignment),
//! keeping Kafka's partitions and offsets so `resume` works across bridges.

use std::{
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};

use rdkafka::{
    Message, Offset, TopicPartitionList,
    consumer::{BaseConsumer, Consumer},
};
use tokio_util::sync::CancellationToken;

use super::{KafkaError, client_config};
use crate::{
    config::{KafkaConfig, StartPosition},
    log::Log,
    metrics::{Health, Metrics},
    model::{EncodedTick, MarketEvent, SystemMetric},
};

/// Consumer defaults (any can be overridden in `[kafka.properties]`).
pub const CONSUMER_DEFAULTS: &[(&str, &str)] = &[
    ("group.id", "tickstream-bridge"),
    ("enable.auto.commit", "false"),
    ("enable.auto.offset.store", "false"),
    ("enable.partition.eof", "false"),
    ("auto.offset.reset", "earliest"),
    ("fetch.wait.max.ms", "10"),
];

/// Longest wait between attempts to reach an unreachable cluster.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How long one poll waits for a message.
const POLL: Duration = Duration::from_millis(100);

/// Mirrors Kafka into the local log; see the module docs.
pub struct KafkaSource {
    consumer: BaseConsumer,
    log: Arc<Log>,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
}

impl KafkaSource {
    /// Creates the consumer (it connects lazily).
    ///
    /// # Errors
    /// Returns the client error when librdkafka refuses the configuration.
    pub fn new(
        config: &KafkaConfig,
        log: Arc<Log>,
        metrics: Arc<Metrics>,
        health: Arc<Health>,
    ) -> Result<Self, KafkaError> {
        let consumer = client_config(config, "bridge", CONSUMER_DEFAULTS).create()?;
        Ok(Self {
            consumer,
            log,
            metrics,
            health,
        })
    }

    /// Waits (with backoff) until the cluster answers, then assigns every
    /// partition of the three topics at `start`; `stored` holds the next
    /// offset per `stock_ticks` partition for [`StartPosition::Stored`].
    ///
    /// # Errors
    /// [`KafkaError::PartitionMismatch`] when the cluster's tick topic has a
    /// different partition count than the local log, [`KafkaError::Cancelled`]
    /// when `token` is cancelled first.
    pub fn assign(
        &self,
        start: StartPosition,
        stored: &[u64],
        token: &CancellationToken,
    ) -> Result<(), KafkaError> {
        let topics = [
            self.log.ticks.name().to_owned(),
            self.log.events.name().to_owned(),
            self.log.metrics.name().to_owned(),
        ];
        let counts = self.partition_counts(&topics, token)?;
        // Tick offsets are kept, so tick partitions must map one to one.
        let local = self.log.ticks.partition_count();
        if counts[0] != local {
            return Err(KafkaError::PartitionMismatch {
                topic: topics[0].clone(),
                cluster: counts[0],
                local,
            });
        }
        let mut assignment = TopicPartitionList::new();
        for (topic, count) in topics.iter().zip(counts) {
            for partition in 0..count {
                let offset = match start {
                    StartPosition::Latest => Offset::End,
                    StartPosition::Earliest => Offset::Beginning,
                    StartPosition::Time(t) => Offset::Offset(t.timestamp_millis()),
                    StartPosition::Stored if topic == &topics[0] => {
                        match stored.get(partition as usize) {
                            Some(&next) if next > 0 => Offset::Offset(next as i64),
                            _ => Offset::End,
                        }
                    }
                    StartPosition::Stored => Offset::End,
                };
                assignment.add_partition_offset(topic, partition as i32, offset)?;
            }
        }
        if let StartPosition::Time(_) = start {
            // Offsets hold timestamps here; the cluster turns them into offsets.
            assignment = self
                .consumer
                .offsets_for_times(assignment, Duration::from_secs(10))?;
        }
        self.consumer.assign(&assignment)?;
        tracing::info!(?start, "bridge assigned every partition");
        Ok(())
    }

    /// Partition counts of `topics`, retrying until the cluster answers.
    fn partition_counts(
        &self,
        topics: &[String],
        token: &CancellationToken,
    ) -> Result<Vec<u32>, KafkaError> {
        let mut backoff = Duration::from_millis(250);
        loop {
            match self.consumer.fetch_metadata(None, Duration::from_secs(5)) {
                Ok(metadata) => {
                    return topics
                        .iter()
                        .map(|name| {
                            metadata
                                .topics()
                                .iter()
                                .find(|t| t.name() == name && !t.partitions().is_empty())
                                .map(|t| t.partitions().len() as u32)
                                .ok_or_else(|| KafkaError::MissingTopic(name.clone()))
                        })
                        .collect();
                }
                Err(error) => {
                    self.health.source.store(false, Ordering::Relaxed);
                    tracing::warn!(%error, retry_in = ?backoff, "Kafka cluster unreachable");
                    let until = Instant::now() + backoff;
                    while Instant::now() < until {
                        if token.is_cancelled() {
                            return Err(KafkaError::Cancelled);
                        }
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// Polls and mirrors until `token` is cancelled. Malformed messages are
    /// counted, logged with their topic, partition and offset, and skipped.
    /// Blocking: run it on its own thread.
    pub fn run(self, token: &CancellationToken) {
        self.health.source.store(true, Ordering::Relaxed);
        while !token.is_cancelled() {
            match self.consumer.poll(POLL) {
                None => {}
                Some(Ok(message)) => {
                    self.health.source.store(true, Ordering::Relaxed);
                    let (topic, partition, offset) =
                        (message.topic(), message.partition(), message.offset());
                    let payload = message.payload().unwrap_or_default();
                    if let Err(error) = self.mirror(topic, partition as u32, offset as u64, payload)
                    {
                        self.metrics
                            .kafka_malformed
                            .with_label_values(&[topic])
                            .inc();
                        tracing::warn!(topic, partition, offset, %error, "skipped a malformed Kafka message");
                    } else {
                        self.metrics.kafka_consumed.inc();
                    }
                }
                Some(Err(error)) => {
                    self.health.source.store(false, Ordering::Relaxed);
                    tracing::warn!(%error, "Kafka consumer error");
                }
            }
        }
    }

    fn mirror(
        &self,
        topic: &str,
        partition: u32,
        offset: u64,
        payload: &[u8],
    ) -> Result<(), String> {
        let appended = if topic == self.log.ticks.name() {
            let tick = EncodedTick::decode(payload).map_err(|e| e.to_string())?;
            self.log.ticks.append_at(partition, offset, Arc::new(tick))
        } else if topic == self.log.events.name() {
            let event: MarketEvent =
                serde_json::from_slice(payload).map_err(|e| format!("malformed event: {e}"))?;
            self.log
                .events
                .append_at(partition, offset, Arc::new(event))
        } else {
            let metric: SystemMetric =
                serde_json::from_slice(payload).map_err(|e| format!("malformed metric: {e}"))?;
            self.log
                .metrics
                .append_at(partition, offset, Arc::new(metric))
        };
        // A stale offset is a message already mirrored (redelivered after a reconnect).
        if appended.is_err() {
            self.metrics.kafka_duplicates.inc();
        }
        Ok(())
    }
}
