//! Creating the topics Tickstream uses when the cluster lacks them.

use std::time::Duration;

use rdkafka::{
    admin::{AdminClient, AdminOptions, NewTopic, TopicReplication},
    client::DefaultClientContext,
    types::RDKafkaErrorCode,
};

use super::{KafkaError, client_config};
use crate::config::KafkaConfig;

/// Creates each `(topic, partitions)` that does not exist yet, with the
/// configured replication factor. Existing topics are left as they are.
///
/// # Errors
/// Returns [`KafkaError::TopicRefused`] with the cluster's reason, or the
/// client error when the cluster cannot be reached.
pub async fn ensure_topics(config: &KafkaConfig, topics: &[(&str, u32)]) -> Result<(), KafkaError> {
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
