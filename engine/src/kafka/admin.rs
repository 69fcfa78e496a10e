//! Creating the topics Tickstream uses when the cluster lacks them.

use std::{sync::atomic::Ordering, time::Duration};

use rdkafka::{
    admin::{AdminClient, AdminOptions, NewTopic, TopicReplication},
    client::DefaultClientContext,
    types::RDKafkaErrorCode,
};

use tokio_util::sync::CancellationToken;

use super::{KafkaError, client_config};
use crate::{config::KafkaConfig, log::LogSettings, metrics::Health};

/// Creates Tickstream's topics (`stock_ticks`, `stock_quotes` and
/// `order_book` with the configured partitions, the others with one), retrying with backoff while the cluster
/// is unreachable. Returns false when the cluster refused (readiness turns
/// false) or `token` was cancelled.
pub async fn create_topics(
    config: &KafkaConfig,
    log: &LogSettings,
    health: &Health,
    token: &CancellationToken,
) -> bool {
    let names = log.topic_names();
    let topics = [
        (names.ticks.as_str(), log.partitions),
        (names.events.as_str(), 1),
        (names.metrics.as_str(), 1),
        (names.quotes.as_str(), log.partitions),
        (names.book.as_str(), log.partitions),
    ];
    let mut backoff = Duration::from_millis(250);
    loop {
        match ensure_topics(config, &topics).await {
            Ok(()) => return true,
            Err(KafkaError::TopicRefused { topic, reason }) => {
                health.source.store(false, Ordering::Relaxed);
                tracing::error!(topic, reason, "the cluster refused to create a topic");
                return false;
            }
            Err(error) => {
                tracing::warn!(%error, retry_in = ?backoff, "cannot create Kafka topics yet")
            }
        }
        tokio::select! {
            () = token.cancelled() => return false,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

/// Creates each `(topic, partitions)` that does not exist yet, with the
/// configured replication factor. Existing topics are left as they are.
///
/// # Errors
/// Returns [`KafkaError::TopicRefused`] with the cluster's reason, or the
/// client error when the cluster cannot be reached.
async fn ensure_topics(config: &KafkaConfig, topics: &[(&str, u32)]) -> Result<(), KafkaError> {
    let admin: AdminClient<DefaultClientContext> = client_config(config, "admin", &[]).create()?;
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|(name, partitions)| {
            NewTopic::new(
                name,
                *partitions as i32,
                TopicReplication::Fixed(config.replication_factor),
            )
        })
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    for result in admin.create_topics(&new, &options).await? {
        match result {
            Ok(topic) => tracing::info!(topic, "created Kafka topic"),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => {
                return Err(KafkaError::TopicRefused {
                    topic,
                    reason: code.to_string(),
                });
            }
        }
    }
    Ok(())
}
