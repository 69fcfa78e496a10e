//! Kafka as a source's sink: each record goes to the same-named topic of
//! the cluster, keyed as the local log keys it, waiting while the
//! producer's queue is full or its circuit breaker is open (backpressure
//! reaches the source's thread: the simulator pauses, then catches up).

use std::{sync::Arc, time::Duration};

use tokio_util::sync::CancellationToken;

use super::KafkaPublisher;
use crate::{
    breaker::Breaker,
    log::{Sink, TopicNames},
    model::{EncodedTick, MarketEvent, SystemMetric},
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
}

impl KafkaSink {
    /// A sink publishing to `topics`, holding back while `breaker` is
    /// open; `token` ends a send that waits on a full queue.
    pub fn new(
        publisher: KafkaPublisher,
        topics: TopicNames,
        token: CancellationToken,
        breaker: Arc<Breaker>,
    ) -> Self {
        Self {
            publisher,
            topics,
            token,
            breaker,
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
        if !self.breaker.wait_out(&self.token, OPEN_CHECK) {
            return false;
        }
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
