//! The in-process partitioned log: the local broker.
//!
//! Kafka's semantics without a network: topics of partitions, dense
//! per-partition offsets, Kafka's default partitioner, bounded retention,
//! reads from any retained offset, and an explicit [`Gap`] when a reader fell
//! behind retention. Every source appends here and every sink reads from
//! here, so offsets, replay and resume work the same in every mode.

mod book;
mod interest;
pub mod partitioner;
mod reader;
mod sink;
mod topic;

use std::sync::Arc;

pub use book::BookTopic;
pub use interest::{Interest, Keys};
pub use reader::{Reader, Start};
pub use sink::{LogSink, Sink};
pub use topic::{Gap, Record, Retention, StaleOffset, Topic};

use crate::model::{EncodedTick, MarketEvent, OrderBook, SystemMetric, TopOfBook, TradingEvent};

impl Record for Arc<EncodedTick> {
    fn key(&self) -> &[u8] {
        self.tick().symbol.as_str().as_bytes()
    }
    fn weight(&self) -> usize {
        self.json().len() + std::mem::size_of::<EncodedTick>()
    }
}

impl Record for Arc<MarketEvent> {
    fn key(&self) -> &[u8] {
        self.symbol.as_ref().map_or(&[], |s| s.as_str().as_bytes())
    }
    fn weight(&self) -> usize {
        self.message.len() + std::mem::size_of::<MarketEvent>()
    }
}

impl Record for Arc<SystemMetric> {
    fn key(&self) -> &[u8] {
        self.source.as_bytes()
    }
    fn weight(&self) -> usize {
        self.source.len() + self.name.len() + std::mem::size_of::<SystemMetric>()
    }
}

impl Record for Arc<TradingEvent> {
    fn key(&self) -> &[u8] {
        match &**self {
            TradingEvent::Order(order) => order.account.as_bytes(),
            TradingEvent::Fill(fill) => fill.account.as_bytes(),
        }
    }
    fn weight(&self) -> usize {
        std::mem::size_of::<TradingEvent>()
    }
}

impl Record for Arc<OrderBook> {
    fn key(&self) -> &[u8] {
        self.symbol.as_str().as_bytes()
    }
    fn weight(&self) -> usize {
        (self.bids.len() + self.asks.len()) * std::mem::size_of::<crate::model::BookLevel>()
            + std::mem::size_of::<OrderBook>()
    }
}

impl Record for Arc<TopOfBook> {
    fn key(&self) -> &[u8] {
        self.symbol.as_str().as_bytes()
    }
    fn weight(&self) -> usize {
        std::mem::size_of::<TopOfBook>()
    }
}

/// Topic names, partition counts and retention of a [`Log`].
#[derive(Debug, Clone)]
pub struct LogSettings {
    /// Prepended to every topic name (e.g. `"prod."`).
    pub topic_prefix: String,
    /// Partitions of `stock_ticks`, `stock_quotes` and `order_book`.
    pub partitions: u32,
    /// Retention of every partition.
    pub retention: Retention,
}

/// The names of the topics, with their prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicNames {
    /// `stock_ticks`.
    pub ticks: String,
    /// `market_events`.
    pub events: String,
    /// `system_metrics`.
    pub metrics: String,
    /// `stock_quotes`.
    pub quotes: String,
    /// `order_book`.
    pub book: String,
}

impl LogSettings {
    /// The topics' names under this prefix.
    pub fn topic_names(&self) -> TopicNames {
        let name = |n: &str| format!("{}{n}", self.topic_prefix);
        TopicNames {
            ticks: name("stock_ticks"),
            events: name("market_events"),
            metrics: name("system_metrics"),
            quotes: name("stock_quotes"),
            book: name("order_book"),
        }
    }
}

/// The topics every deployment has.
pub struct Log {
    /// `stock_ticks`: every trade, keyed by symbol.
    pub ticks: Arc<Topic<Arc<EncodedTick>>>,
    /// `market_events`: alerts, halts, news, sessions, connection changes.
    pub events: Arc<Topic<Arc<MarketEvent>>>,
    /// `system_metrics`: producer and bridge health samples.
    pub metrics: Arc<Topic<Arc<SystemMetric>>>,
    /// `stock_quotes`: each symbol's best bid and ask when they change.
    pub quotes: Arc<Topic<Arc<TopOfBook>>>,
    /// `order_book`: each symbol's depth, snapshots and numbered updates,
    /// with the books they build.
    pub book: Arc<BookTopic>,
    /// `orders`: paper trading's order changes and fills, keyed by account
    /// (this engine's own: never on Kafka).
    pub orders: Arc<Topic<Arc<TradingEvent>>>,
}

impl Log {
    /// Creates the topics; `tick_offsets[p]` is where partition `p` of
    /// `stock_ticks` continues (from the store, after a restart).
    pub fn new(settings: &LogSettings, tick_offsets: &[u64]) -> Self {
        let names = settings.topic_names();
        Self {
            ticks: Arc::new(Topic::new(
                names.ticks,
                settings.partitions,
                settings.retention,
                tick_offsets,
            )),
            events: Arc::new(Topic::new(names.events, 1, settings.retention, &[])),
            metrics: Arc::new(Topic::new(names.metrics, 1, settings.retention, &[])),
            quotes: Arc::new(Topic::new(
                names.quotes,
                settings.partitions,
                settings.retention,
                &[],
            )),
            book: Arc::new(BookTopic::new(
                names.book,
                settings.partitions,
                settings.retention,
            )),
            orders: Arc::new(Topic::new(
                format!("{}orders", settings.topic_prefix),
                1,
                settings.retention,
                &[],
            )),
        }
    }
}
