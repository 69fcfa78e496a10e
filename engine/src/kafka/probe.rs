//! `probe`: can this configuration reach the cluster? Asks for its metadata
//! and, when that fails, says why in librdkafka's own words (refused
//! connection, unknown host, failed authentication) rather than a time-out.

use std::time::Duration;

use parking_lot::Mutex;
use rdkafka::{
    ClientContext,
    config::RDKafkaLogLevel,
    error::KafkaError as RdKafkaError,
    producer::{BaseProducer, DeliveryResult, Producer, ProducerContext},
};

use super::{KafkaError, client_config};
use crate::config::KafkaConfig;

/// Remembers the last error librdkafka reported.
#[derive(Default)]
struct LastError(Mutex<Option<String>>);

impl ClientContext for LastError {
    fn error(&self, error: RdKafkaError, reason: &str) {
        *self.0.lock() = Some(format!("{error}: {reason}"));
    }

    fn log(&self, _level: RDKafkaLogLevel, _fac: &str, _log_message: &str) {}
}

impl ProducerContext for LastError {
    type DeliveryOpaque = ();

    fn delivery(&self, _report: &DeliveryResult<'_>, _opaque: ()) {}
}

/// What the cluster said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterInfo {
    /// Brokers in the metadata.
    pub brokers: usize,
    /// Topics in the metadata.
    pub topics: usize,
}

/// Fetches the cluster's metadata within `timeout`. Blocking.
///
/// # Errors
/// [`KafkaError::Unreachable`] with librdkafka's last reported error (or
/// the metadata request's), or a configuration error.
pub fn probe(config: &KafkaConfig, timeout: Duration) -> Result<ClusterInfo, KafkaError> {
    let producer: BaseProducer<LastError> =
        client_config(config, "probe", &[]).create_with_context(LastError::default())?;
    let client = producer.client();
    match client.fetch_metadata(None, timeout) {
        Ok(metadata) => Ok(ClusterInfo {
            brokers: metadata.brokers().len(),
            topics: metadata.topics().len(),
        }),
        Err(error) => {
            // Callbacks run when the client is polled: collect the reason.
            producer.poll(Duration::from_millis(100));
            let reason = client
                .context()
                .0
                .lock()
                .take()
                .unwrap_or_else(|| error.to_string());
            Err(KafkaError::Unreachable {
                brokers: config.brokers.clone(),
                reason,
            })
        }
    }
}
