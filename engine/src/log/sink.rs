//! Where a source writes: the [`Sink`] trait, implemented by the local log
//! ([`LogSink`]) and by the Kafka sink (`kafka::KafkaSink`), so a source
//! never knows which one it feeds.

use std::sync::{Arc, atomic::Ordering};

use super::Log;
use crate::{
    metrics::Health,
    model::{EncodedTick, MarketEvent, OrderBook, SystemMetric, TopOfBook},
};

/// The output of a source: ticks, market events, health samples and depth.
pub trait Sink: Send + Sync {
    /// Writes (and drains) a batch of ticks. Returns false when the sink
    /// takes no more (shutdown began, or the destination refused one).
    fn write_ticks(&self, batch: &mut Vec<Arc<EncodedTick>>) -> bool;
    /// Writes a market event.
    fn write_event(&self, event: MarketEvent);
    /// Writes a health sample.
    fn write_metric(&self, sample: SystemMetric);
    /// Writes (and drains) order-book records and quotes (`order_book`,
    /// `stock_quotes`).
    fn write_book(&self, records: &mut Vec<Arc<OrderBook>>, quotes: &mut Vec<Arc<TopOfBook>>);
    /// Called once when the source stops: a sink that queues waits (briefly)
    /// for what it queued to be acknowledged.
    fn finish(&self) {}
}

/// The local log as a sink: records are appended in-process, and every
/// batch appended marks the source ready.
pub struct LogSink {
    log: Arc<Log>,
    health: Arc<Health>,
}

impl LogSink {
    /// A sink into `log`, reporting readiness to `health`.
    pub fn new(log: Arc<Log>, health: Arc<Health>) -> Self {
        Self { log, health }
    }
}

impl Sink for LogSink {
    fn write_ticks(&self, batch: &mut Vec<Arc<EncodedTick>>) -> bool {
        self.log.ticks.append_batch(batch.drain(..));
        self.health.source.store(true, Ordering::Relaxed);
        true
    }

    fn write_event(&self, event: MarketEvent) {
        self.log.events.append(Arc::new(event));
    }

    fn write_metric(&self, sample: SystemMetric) {
        self.log.metrics.append(Arc::new(sample));
    }

    fn write_book(&self, records: &mut Vec<Arc<OrderBook>>, quotes: &mut Vec<Arc<TopOfBook>>) {
        self.log.book.append_batch(records.drain(..));
        self.log.quotes.append_batch(quotes.drain(..));
    }
}
