//! Kafka as a source's sink: each record (ticks, events, metrics, quotes,
//! order-book records) goes to the same-named topic of the cluster, keyed as the local log keys it, encoded as `kafka.format`
//! says (JSON, or Avro: [`crate::model::avro`]), waiting while the
//! producer's queue is full or its circuit breaker is open (backpressure
//! reaches the source's thread: the simulator pauses, then catches up).

use std::{borrow::Cow, collections::HashMap, sync::Arc, time::Duration};

use parking_lot::Mutex;

use tokio_util::sync::CancellationToken;

use super::{KafkaPublisher, Registry};
use crate::{
    breaker::Breaker,
    config::Format,
    log::{Sink, TopicNames},
    model::{EncodedTick, MarketEvent, OrderBook, SystemMetric, TopOfBook, schemas::Record},
};

/// How long [`Sink::finish`] waits for Kafka to acknowledge queued records.
const FLUSH_DEADLINE: Duration = Duration::from_millis(1_000);
/// Longest sleep while the breaker is open, so shutdown is seen quickly.
const OPEN_CHECK: Duration = Duration::from_millis(50);

/// A [`KafkaPublisher`] writing Tickstream's topics.
pub struct KafkaSink {
    publisher: KafkaPublisher,
    topics: TopicNames,
    /// Interrupts a send waiting on a full queue.
    token: CancellationToken,
    /// Open while the cluster is out of reach.
    breaker: Arc<Breaker>,
    format: Format,
    /// With Avro: the registry its records are framed for, and the ids it
    /// gave each kind's schema.
    registry: Option<(Registry, Mutex<HashMap<Record, u32>>)>,
}

/// How long to wait before asking an unreachable registry again.
const REGISTRY_RETRY: Duration = Duration::from_secs(1);

impl KafkaSink {
    /// A sink publishing to `topics` in `format` (Avro in Confluent's wire
    /// format when `registry` is given), holding back while `breaker` is
    /// open; `token` ends a send that waits on a full queue.
    pub fn new(
        publisher: KafkaPublisher,
        topics: TopicNames,
        token: CancellationToken,
        breaker: Arc<Breaker>,
        format: Format,
        registry: Option<Registry>,
    ) -> Self {
        Self {
            publisher,
            topics,
            token,
            breaker,
            format,
            registry: registry.map(|r| (r, Mutex::default())),
        }
    }

    /// The id the registry gave `record`'s schema, registering it first
    /// (waiting while the registry is out of reach, as for the cluster);
    /// `None` once the sink is stopping.
    fn schema_id(
        &self,
        registry: &Registry,
        ids: &Mutex<HashMap<Record, u32>>,
        record: Record,
    ) -> Option<u32> {
        if let Some(id) = ids.lock().get(&record) {
            return Some(*id);
        }
        let topic = self.topic(record);
        loop {
            match tokio::runtime::Handle::current().block_on(registry.register(topic, record)) {
                Ok(id) => {
                    ids.lock().insert(record, id);
                    return Some(id);
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot register the {} schema; retrying", record.name());
                    if self.token.is_cancelled() {
                        return None;
                    }
                    std::thread::sleep(REGISTRY_RETRY);
                }
            }
        }
    }

    /// The topic of `record`'s kind.
    fn topic(&self, record: Record) -> &str {
        match record {
            Record::Tick => &self.topics.ticks,
            Record::MarketEvent => &self.topics.events,
            Record::SystemMetric => &self.topics.metrics,
            Record::TopOfBook => &self.topics.quotes,
            Record::OrderBook => &self.topics.book,
        }
    }

    /// A record of kind `record` whose JSON is `json`, in the sink's format;
    /// `None` (logged and counted as a failed delivery) when Avro cannot
    /// hold one of its values.
    fn encode<'a>(&self, record: Record, json: &'a [u8]) -> Option<Cow<'a, [u8]>> {
        match self.format {
            Format::Json => Some(Cow::Borrowed(json)),
            Format::Avro => {
                let id = match &self.registry {
                    Some((registry, ids)) => Some(self.schema_id(registry, ids, record)?),
                    None => None,
                };
                let encoded = serde_json::from_slice(json)
                    .map_err(|e| e.to_string())
                    .and_then(|value| {
                        match id {
                            Some(id) => record.avro().encode_confluent(id, &value),
                            None => record.avro().encode(&value),
                        }
                        .map_err(|e| e.to_string())
                    });
                match encoded {
                    Ok(bytes) => Some(Cow::Owned(bytes)),
                    Err(error) => {
                        self.publisher.refuse(record.name(), &error);
                        None
                    }
                }
            }
        }
    }

    /// Sends a record to its kind's topic; false once the sink is stopping
    /// (only shutdown interrupts a send).
    fn send(&self, record: Record, key: &str, value: &impl serde::Serialize) -> bool {
        let json = serde_json::to_vec(value).expect("wire types serialize");
        let Some(payload) = self.encode(record, &json) else {
            return true;
        };
        self.publisher
            .send_blocking(
                record,
                self.topic(record),
                key.as_bytes(),
                &payload,
                &self.token,
            )
            .is_ok()
    }
}

impl Sink for KafkaSink {
    fn write_ticks(&self, batch: &mut Vec<Arc<EncodedTick>>) -> bool {
        if !self.breaker.wait_out(&self.token, OPEN_CHECK) {
            return false;
        }
        for tick in batch.drain(..) {
            let key = tick.tick().symbol.as_str().as_bytes();
            let Some(payload) = self.encode(Record::Tick, tick.json().as_bytes()) else {
                continue;
            };
            if self
                .publisher
                .send_blocking(Record::Tick, &self.topics.ticks, key, &payload, &self.token)
                .is_err()
            {
                return false;
            }
        }
        true
    }

    fn write_event(&self, event: MarketEvent) {
        let key = event.symbol.as_ref().map_or("", |s| s.as_str());
        self.send(Record::MarketEvent, key, &event);
    }

    fn write_metric(&self, sample: SystemMetric) {
        self.send(Record::SystemMetric, &sample.source, &sample);
    }

    fn write_book(&self, records: &mut Vec<Arc<OrderBook>>, quotes: &mut Vec<Arc<TopOfBook>>) {
        // A send fails only when stopping: what is left goes with the source.
        let open = records
            .drain(..)
            .all(|r| self.send(Record::OrderBook, r.symbol.as_str(), &*r));
        if open {
            quotes
                .drain(..)
                .all(|q| self.send(Record::TopOfBook, q.symbol.as_str(), &*q));
        }
        quotes.clear();
    }

    fn finish(&self) {
        if let Err(error) = self.publisher.flush(FLUSH_DEADLINE) {
            tracing::error!(%error, in_flight = self.publisher.in_flight(), "Kafka did not acknowledge every tick before shutdown");
        }
    }
}
