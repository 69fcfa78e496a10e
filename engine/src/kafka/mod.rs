//! Kafka, the distributed log: a producer that publishes ticks with
//! backpressure (a source's [`KafkaSink`]), a source that mirrors a cluster's topics into the local log
//! keeping Kafka's partitions and offsets, and topic administration.
//!
//! Every librdkafka property is passed through unchanged from
//! [`crate::config::KafkaConfig`].

mod admin;
mod connectivity;
mod probe;
mod producer;
mod registry;
mod sink;
mod source;

use std::collections::BTreeMap;

use rdkafka::ClientConfig;

pub use admin::create_topics;
pub use connectivity::Connectivity;
pub use probe::{ClusterInfo, probe};
pub use producer::{KafkaPublisher, PRODUCER_DEFAULTS};
pub use registry::{Registry, RegistryError};
pub use sink::KafkaSink;
pub use source::{CONSUMER_DEFAULTS, KafkaSource};

use crate::config::KafkaConfig;

/// A Kafka failure.
#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    /// librdkafka refused the configuration or an operation.
    #[error(transparent)]
    Client(#[from] rdkafka::error::KafkaError),
    /// The cluster refused to create a topic.
    #[error("the cluster refused to create topic {topic}: {reason}")]
    TopicRefused {
        /// The topic.
        topic: String,
        /// The cluster's reason.
        reason: String,
    },
    /// A topic the bridge reads does not exist (yet).
    #[error("topic {0} does not exist on the cluster")]
    MissingTopic(String),
    /// The cluster's tick topic and the local log differ in partitions.
    #[error(
        "topic {topic} has {cluster} partitions on the cluster but log.partitions is {local}; set them equal"
    )]
    PartitionMismatch {
        /// The topic.
        topic: String,
        /// Partitions on the cluster.
        cluster: u32,
        /// `log.partitions`.
        local: u32,
    },
    /// Shutdown began while waiting for the cluster.
    #[error("cancelled")]
    Cancelled,
    /// A replay stopped getting records before it reached its end.
    #[error(
        "no record from partition {partition} of {topic} for {waited:?}: it stopped at offset {at}, short of {end}"
    )]
    Stalled {
        /// The topic.
        topic: String,
        /// The partition.
        partition: u32,
        /// The next offset it was to read.
        at: u64,
        /// The offset it was to read up to.
        end: u64,
        /// How long it waited.
        waited: std::time::Duration,
    },
    /// The cluster could not be reached.
    #[error("cannot reach Kafka at {brokers}: {reason}")]
    Unreachable {
        /// The bootstrap servers tried.
        brokers: String,
        /// librdkafka's reason.
        reason: String,
    },
}

/// Builds a librdkafka client configuration and logs it, secrets redacted.
fn client_config(config: &KafkaConfig, role: &str, defaults: &[(&str, &str)]) -> ClientConfig {
    let properties: BTreeMap<String, String> = config.client_properties(defaults);
    tracing::info!(role, config = %KafkaConfig::redacted(&properties), "Kafka client configuration");
    let mut client = ClientConfig::new();
    for (key, value) in properties {
        client.set(key, value);
    }
    client
}
