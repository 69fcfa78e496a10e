//! `KafkaSource`: mirrors a cluster's `stock_ticks`, `market_events` and
//! `system_metrics` into the local log, every partition (manual assignment),
//! keeping Kafka's partitions and offsets so `resume` works across bridges;
//! and its `stock_quotes` and `order_book` when the cluster has them (a
//! producer older than depth does not), as live state: quotes from their
//! end, the book from far enough back to meet each symbol's last snapshot.

use std::{
    borrow::Cow,
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use rdkafka::{
    Message, Offset, TopicPartitionList,
    consumer::{BaseConsumer, Consumer},
};
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use super::{Connectivity, KafkaError, Registry, client_config, connectivity::is_unreachable};
use crate::{
    config::{KafkaConfig, StartPosition},
    log::Log,
    metrics::{Health, Metrics},
    model::{
        EncodedTick, MarketEvent, OrderBook, SystemMetric, TopOfBook, avro::confluent_framed,
        schemas::Record,
    },
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

/// The bridge's statistics once a second: its consumer lag gauge comes from them.
const STATISTICS: (&str, &str) = ("statistics.interval.ms", "1000");

/// Longest wait between attempts to reach an unreachable cluster.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How long one poll waits for a message.
const POLL: Duration = Duration::from_millis(100);
/// Most ticks appended at once.
const MAX_BATCH: usize = 2_048;
/// How long a cluster request may take.
const WAIT: Duration = Duration::from_secs(10);
/// How long a replay waits for a record it knows is there.
const REPLAY_STALL: Duration = Duration::from_secs(30);
/// How far back from its end each `order_book` partition is read at start:
/// far enough to meet the last snapshot of every symbol it holds (the
/// simulator snapshots each symbol's book every 512 of its records, so
/// this covers 32 symbols a partition trading alike).
const BOOK_LOOKBACK: i64 = 16_384;

/// What one poll loop collected, appended together so readers wake once
/// per batch, not per message.
#[derive(Default)]
struct Batch {
    /// Ticks with Kafka's partition and offset.
    ticks: Vec<(u32, u64, Arc<EncodedTick>)>,
    book: Vec<Arc<OrderBook>>,
    quotes: Vec<Arc<TopOfBook>>,
}

impl Batch {
    fn len(&self) -> usize {
        self.ticks.len() + self.book.len() + self.quotes.len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Mirrors Kafka into the local log; see the module docs.
pub struct KafkaSource {
    consumer: BaseConsumer<Connectivity>,
    log: Arc<Log>,
    metrics: Arc<Metrics>,
    /// Where Confluent-framed records' schemas are (`kafka.schema_registry`).
    registry: Option<Registry>,
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
        let link = Connectivity::new("bridge", health, &metrics, Some(log.events.clone()))
            .reporting_lag(log.ticks.name(), metrics.kafka_consumer_lag.clone());
        let defaults: Vec<_> = CONSUMER_DEFAULTS
            .iter()
            .copied()
            .chain([STATISTICS])
            .collect();
        let consumer = client_config(config, "bridge", &defaults).create_with_context(link)?;
        let registry = Registry::configured(config);
        Ok(Self {
            consumer,
            log,
            metrics,
            registry,
        })
    }

    /// `payload` as JSON or single-object Avro: a record in Confluent's
    /// wire format is read through the schema registry (blocking this
    /// thread, which is the source's own).
    fn unframed<'a>(&self, kind: Record, payload: &'a [u8]) -> Result<Cow<'a, [u8]>, String> {
        let Some((id, datum)) = confluent_framed(payload) else {
            return Ok(Cow::Borrowed(payload));
        };
        let registry = self.registry.as_ref().ok_or_else(|| {
            format!("a Confluent-framed record (schema id {id}), but no kafka.schema_registry to read it by")
        })?;
        let json = tokio::runtime::Handle::current()
            .block_on(registry.decode(kind, id, datum))
            .map_err(|e| format!("malformed {}: {e}", kind.name()))?;
        Ok(Cow::Owned(
            serde_json::to_vec(&json).expect("JSON serializes"),
        ))
    }

    /// A record of kind `kind` from a payload in any of the formats.
    fn record<T: DeserializeOwned>(&self, kind: Record, payload: &[u8]) -> Result<T, String> {
        let payload = self.unframed(kind, payload)?;
        kind.read(&payload)
            .map_err(|e| format!("malformed {}: {e}", kind.name()))
    }

    /// A tick from a payload in any of the formats.
    fn tick(&self, payload: &[u8]) -> Result<EncodedTick, String> {
        let payload = self.unframed(Record::Tick, payload)?;
        EncodedTick::decode(&payload).map_err(|e| e.to_string())
    }

    /// Waits (with backoff) until the cluster answers and has the topics,
    /// then assigns every partition of the three record topics at `start`
    /// (`stored` holds the next offset per `stock_ticks` partition for
    /// [`StartPosition::Stored`], and `fallback` (latest or earliest) starts
    /// a partition it has no offset for), and the depth topics the cluster
    /// has as live state (from their start only for `earliest`).
    ///
    /// # Errors
    /// [`KafkaError::PartitionMismatch`] when the cluster's tick topic has a
    /// different partition count than the local log, [`KafkaError::Cancelled`]
    /// when `token` is cancelled first, or the client error.
    pub fn assign(
        &self,
        start: StartPosition,
        fallback: StartPosition,
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
        if counts[&topics[0]] != local {
            return Err(KafkaError::PartitionMismatch {
                topic: topics[0].clone(),
                cluster: counts[&topics[0]],
                local,
            });
        }
        let fallback = match fallback {
            StartPosition::Earliest => Offset::Beginning,
            _ => Offset::End,
        };
        let mut assignment = TopicPartitionList::new();
        for topic in &topics {
            for partition in 0..counts[topic] {
                let offset = match start {
                    StartPosition::Latest => Offset::End,
                    StartPosition::Earliest => Offset::Beginning,
                    StartPosition::Time(t) => Offset::Offset(t.timestamp_millis()),
                    StartPosition::Stored if topic == &topics[0] => {
                        match stored.get(partition as usize) {
                            Some(&next) if next > 0 => Offset::Offset(next as i64),
                            _ => fallback,
                        }
                    }
                    // Events and metrics are live notices: no store keeps them.
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
        // The local partitions begin where reading begins: older offsets are a gap.
        for element in assignment.elements_for_topic(&topics[0]) {
            let partition = element.partition();
            let (low, high) =
                self.consumer
                    .fetch_watermarks(&topics[0], partition, Duration::from_secs(10))?;
            let first = match element.offset() {
                Offset::Offset(n) => n.clamp(low, high),
                Offset::Beginning => low,
                _ => high,
            };
            self.log.ticks.begin_at(partition as u32, first as u64);
        }
        self.assign_depth(start == StartPosition::Earliest, &counts, &mut assignment)?;
        self.consumer.assign(&assignment)?;
        self.link()
            .up(&format!("reading every partition from {start:?}"));
        Ok(())
    }

    /// Adds the depth topics the cluster has to `assignment`: from their
    /// start when `earliest`, else quotes from their end and the book
    /// [`BOOK_LOOKBACK`] records back (its books are whole from each
    /// symbol's next snapshot on).
    fn assign_depth(
        &self,
        earliest: bool,
        counts: &HashMap<String, u32>,
        assignment: &mut TopicPartitionList,
    ) -> Result<(), KafkaError> {
        for (topic, book) in [
            (self.log.quotes.name(), false),
            (self.log.book.topic().name(), true),
        ] {
            let Some(&count) = counts.get(topic) else {
                tracing::info!(
                    topic,
                    "the cluster has no such topic (a producer without depth): not mirrored"
                );
                continue;
            };
            for partition in 0..count as i32 {
                let offset = if earliest {
                    Offset::Beginning
                } else if book {
                    let (low, high) = self.consumer.fetch_watermarks(topic, partition, WAIT)?;
                    Offset::Offset((high - BOOK_LOOKBACK).max(low))
                } else {
                    Offset::End
                };
                assignment.add_partition_offset(topic, partition, offset)?;
            }
        }
        Ok(())
    }

    /// Replays the tick topic into the log up to `until`, for a restored
    /// store (point-in-time recovery): each partition from `stored` (the
    /// next offset the store recorded; its earliest retained when none) to
    /// the first record stamped at or after `until` (the cluster's time
    /// index, `offsets_for_times`), or its end when there is none. A batch
    /// waits while `room` says the log's follower has not caught up, so
    /// nothing is lost to retention. Returns the range read per partition.
    /// Blocking.
    ///
    /// # Errors
    /// [`KafkaError::PartitionMismatch`], [`KafkaError::Stalled`] when a
    /// partition yields nothing for [`REPLAY_STALL`] short of its end,
    /// [`KafkaError::Cancelled`], or the client error.
    pub fn replay(
        &self,
        stored: &[u64],
        until: DateTime<Utc>,
        room: impl Fn() -> bool,
        token: &CancellationToken,
    ) -> Result<Vec<std::ops::Range<u64>>, KafkaError> {
        let topic = self.log.ticks.name().to_owned();
        let count = self.partition_counts(std::slice::from_ref(&topic), token)?[&topic];
        let local = self.log.ticks.partition_count();
        if count != local {
            return Err(KafkaError::PartitionMismatch {
                topic,
                cluster: count,
                local,
            });
        }
        let mut times = TopicPartitionList::new();
        for partition in 0..count {
            times.add_partition_offset(
                &topic,
                partition as i32,
                Offset::Offset(until.timestamp_millis()),
            )?;
        }
        let ends = self.consumer.offsets_for_times(times, WAIT)?;
        let mut ranges = Vec::with_capacity(count as usize);
        let mut assignment = TopicPartitionList::new();
        for element in ends.elements_for_topic(&topic) {
            let partition = element.partition();
            let (low, high) = self.consumer.fetch_watermarks(&topic, partition, WAIT)?;
            let end = match element.offset() {
                Offset::Offset(n) => n.clamp(low, high),
                _ => high,
            } as u64;
            let start = match stored.get(partition as usize) {
                Some(&next) if next > 0 => next.max(low as u64),
                _ => low as u64,
            }
            .min(end);
            self.log.ticks.begin_at(partition as u32, start);
            if start < end {
                assignment.add_partition_offset(&topic, partition, Offset::Offset(start as i64))?;
            }
            ranges.push(start..end);
        }
        self.consumer.assign(&assignment)?;
        let mut next: Vec<u64> = ranges.iter().map(|r| r.start).collect();
        let done = |next: &[u64]| next.iter().zip(&ranges).all(|(n, r)| *n >= r.end);
        let mut batch = Batch::default();
        let mut heard = Instant::now();
        while !done(&next) {
            if token.is_cancelled() {
                return Err(KafkaError::Cancelled);
            }
            match self.consumer.poll(POLL) {
                Some(Ok(message)) => {
                    heard = Instant::now();
                    let (partition, offset) = (message.partition() as u32, message.offset() as u64);
                    let p = partition as usize;
                    if offset >= ranges[p].end {
                        next[p] = ranges[p].end;
                        continue;
                    }
                    next[p] = offset + 1;
                    let payload = message.payload().unwrap_or_default();
                    match self.tick(payload) {
                        Ok(tick) => batch.ticks.push((partition, offset, Arc::new(tick))),
                        Err(error) => {
                            self.append(&mut batch);
                            self.skip(&topic, partition, offset, &error);
                        }
                    }
                    if batch.len() < MAX_BATCH && !done(&next) {
                        continue;
                    }
                }
                Some(Err(error)) => tracing::warn!(%error, "Kafka consumer error"),
                None if heard.elapsed() >= REPLAY_STALL => {
                    let p = (0..next.len())
                        .find(|&p| next[p] < ranges[p].end)
                        .unwrap_or_default();
                    return Err(KafkaError::Stalled {
                        topic,
                        partition: p as u32,
                        at: next[p],
                        end: ranges[p].end,
                        waited: REPLAY_STALL,
                    });
                }
                None => {}
            }
            while !batch.is_empty() && !room() {
                if token.is_cancelled() {
                    return Err(KafkaError::Cancelled);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            self.append(&mut batch);
        }
        Ok(ranges)
    }

    /// The partition counts of the cluster's topics, retrying until it
    /// answers and has every one of `topics`.
    fn partition_counts(
        &self,
        topics: &[String],
        token: &CancellationToken,
    ) -> Result<HashMap<String, u32>, KafkaError> {
        let mut backoff = Duration::from_millis(250);
        loop {
            let counts = self
                .consumer
                .fetch_metadata(None, Duration::from_secs(5))
                .map_err(KafkaError::from)
                .and_then(|metadata| {
                    let counts: HashMap<String, u32> = metadata
                        .topics()
                        .iter()
                        .filter(|t| !t.partitions().is_empty())
                        .map(|t| (t.name().to_owned(), t.partitions().len() as u32))
                        .collect();
                    match topics.iter().find(|name| !counts.contains_key(*name)) {
                        Some(missing) => Err(KafkaError::MissingTopic(missing.clone())),
                        None => Ok(counts),
                    }
                });
            let error = match counts {
                Ok(counts) => return Ok(counts),
                Err(error) => error,
            };
            self.link().down(&error.to_string());
            tracing::warn!(%error, retry_in = ?backoff, "waiting for the Kafka cluster");
            let until = Instant::now() + backoff;
            while Instant::now() < until {
                if token.is_cancelled() {
                    return Err(KafkaError::Cancelled);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            // A missing topic is usually being created: look again soon.
            let cap = if matches!(error, KafkaError::MissingTopic(_)) {
                Duration::from_secs(1)
            } else {
                MAX_BACKOFF
            };
            backoff = (backoff * 2).min(cap);
        }
    }

    /// Polls and mirrors until `token` is cancelled. Malformed messages are
    /// counted, logged with their topic, partition and offset, and skipped.
    /// Ticks are appended in batches (whatever arrived, up to
    /// [`MAX_BATCH`]) so readers wake once per batch, not per message.
    /// Blocking: run it on its own thread.
    pub fn run(self, token: &CancellationToken) {
        let mut batch = Batch::default();
        while !token.is_cancelled() {
            let mut wait = POLL;
            while batch.len() < MAX_BATCH {
                match self.consumer.poll(wait) {
                    None => break,
                    Some(Ok(message)) => {
                        let payload = message.payload().unwrap_or_default();
                        let (partition, offset) =
                            (message.partition() as u32, message.offset() as u64);
                        let decoded =
                            self.decode(message.topic(), payload, partition, offset, &mut batch);
                        if let Err(error) = decoded {
                            // Earlier ticks of the batch go first: skipping moves the end.
                            self.append(&mut batch);
                            self.skip(message.topic(), partition, offset, &error);
                        }
                    }
                    Some(Err(error)) if is_unreachable(&error) => {
                        self.link().down(&error.to_string())
                    }
                    Some(Err(error)) => tracing::warn!(%error, "Kafka consumer error"),
                }
                // After the first message, take only what is already here.
                wait = Duration::ZERO;
            }
            self.append(&mut batch);
        }
    }

    /// Appends (and empties) a batch.
    fn append(&self, batch: &mut Batch) {
        if batch.is_empty() {
            return;
        }
        self.link().up("messages arriving");
        let consumed = &self.metrics.kafka_consumed;
        consumed.of(Record::Tick).inc_by(batch.ticks.len() as u64);
        consumed
            .of(Record::OrderBook)
            .inc_by(batch.book.len() as u64);
        consumed
            .of(Record::TopOfBook)
            .inc_by(batch.quotes.len() as u64);
        self.log.book.append_batch(batch.book.drain(..));
        self.log.quotes.append_batch(batch.quotes.drain(..));
        let stale = self.log.ticks.append_at_batch(batch.ticks.drain(..));
        // Already mirrored: redelivered after a reconnect.
        self.metrics.kafka_duplicates.inc_by(stale.len() as u64);
    }

    /// Decodes a message of `topic`: a tick (at Kafka's `partition` and
    /// `offset`), a quote or a book record into `batch`; an event or a
    /// metric straight into the log (at a local offset: they are not
    /// resumable).
    fn decode(
        &self,
        topic: &str,
        payload: &[u8],
        partition: u32,
        offset: u64,
        batch: &mut Batch,
    ) -> Result<(), String> {
        if topic == self.log.ticks.name() {
            let tick = self.tick(payload)?;
            batch.ticks.push((partition, offset, Arc::new(tick)));
        } else if topic == self.log.book.topic().name() {
            let record: OrderBook = self.record(Record::OrderBook, payload)?;
            record
                .check_range()
                .map_err(|e| format!("order-book field {e}"))?;
            batch.book.push(Arc::new(record));
        } else if topic == self.log.quotes.name() {
            let quote: TopOfBook = self.record(Record::TopOfBook, payload)?;
            quote
                .check_range()
                .map_err(|e| format!("quote field {e}"))?;
            batch.quotes.push(Arc::new(quote));
        } else if topic == self.log.events.name() {
            let event: MarketEvent = self.record(Record::MarketEvent, payload)?;
            self.metrics.kafka_consumed.of(Record::MarketEvent).inc();
            self.log.events.append(Arc::new(event));
        } else {
            let metric: SystemMetric = self.record(Record::SystemMetric, payload)?;
            self.metrics.kafka_consumed.of(Record::SystemMetric).inc();
            self.log.metrics.append(Arc::new(metric));
        }
        Ok(())
    }

    /// Counts, logs and steps past a malformed message.
    fn skip(&self, topic: &str, partition: u32, offset: u64, error: &str) {
        if topic == self.log.ticks.name() {
            self.log.ticks.skip(partition, offset);
        }
        self.metrics
            .kafka_malformed
            .with_label_values(&[topic])
            .inc();
        tracing::warn!(topic, partition, offset, %error, "skipped a malformed Kafka message");
    }

    fn link(&self) -> &Connectivity {
        self.consumer.context()
    }
}
