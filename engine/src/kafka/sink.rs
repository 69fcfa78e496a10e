//! Kafka as a source's sink: each record goes to the same-named topic of
//! the cluster, keyed as the local log keys it, waiting while the
//! producer's queue is full (backpressure reaches the source's thread).

use std::{sync::Arc, time::Duration};

use tokio_util::sync::CancellationToken;

use super::KafkaPublisher;
use crate::{
    log::{Sink, TopicNames},
    model::{EncodedTick, MarketEvent, SystemMetric},
};

/// How long [`Sink::finish`] waits for Kafka to acknowledge queued records.
const FLUSH_DEADLINE: Duration = Duration::from_millis(1_000);

/// A [`KafkaPublisher`] writing Tickstream's topics.
pub struct KafkaSink {
    publisher: KafkaPublisher,
    topics: TopicNames,
    /// Interrupts a send waiting on a full queue.
    token: CancellationToken,
}

impl KafkaSink {
    /// A sink publishing to `topics`; `token` ends a send that waits on a full queue.
    pub fn new(publisher: KafkaPublisher, topics: TopicNames, token: CancellationToken) -> Self {
        Self {
            publisher,
            topics,
            token,
        }
    }

    /// Sends a JSON record. Only shutdown interrupts a send; nothing is
    /// left to do then.
    fn send_json(&self, topic: &str, key: &[u8], value: &impl serde::Serialize) {
        let json = serde_json::to_vec(value).expect("wire types serialize");
        let _ = self.publisher.send_blocking(topic, key, &json, &self.token);
    }
}

impl Sink for KafkaSink {
    fn write_ticks(&self, batch: &mut Vec<Arc<EncodedTick>>) -> bool {
        for tick in batch.drain(..) {
            let key = tick.tick().symbol.as_str().as_bytes();
            if self
                .publisher
                .send_blocking(&self.topics.ticks, key, tick.json().as_bytes(), &self.token)
                .is_err()
            {
                return false;
            }
        }
        true
    }

    fn write_event(&self, event: MarketEvent) {
        let key = event.symbol.as_ref().map_or("", |s| s.as_str());
        self.send_json(&self.topics.events, key.as_bytes(), &event);
    }

    fn write_metric(&self, sample: SystemMetric) {
        self.send_json(&self.topics.metrics, sample.source.as_bytes(), &sample);
    }

    fn finish(&self) {
        if let Err(error) = self.publisher.flush(FLUSH_DEADLINE) {
            tracing::error!(%error, in_flight = self.publisher.in_flight(), "Kafka did not acknowledge every tick before shutdown");
        }
    }
}
