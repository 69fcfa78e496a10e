//! Point-in-time recovery's second half: after a backup is restored into a
//! stopped data directory, the cluster's ticks from the positions it holds
//! up to a time are replayed into it, through the same store writer (ticks,
//! candles and positions in one transaction per batch) a bridge runs.

use std::{collections::BTreeMap, sync::Arc};

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::{EngineError, local::Local};
use crate::{
    component::{Context, blocking},
    config::Config,
    kafka::KafkaSource,
    metrics::Metrics,
    model::{Replayed, schemas::Record},
};

/// Replays `stock_ticks` into the store of `config`'s data directory, from
/// the positions it records up to the records stamped `until` (see
/// [`KafkaSource::replay`]); stops early, keeping what was written, when
/// `token` is cancelled.
///
/// # Errors
/// The store's or Kafka's error, or [`EngineError::FellBehind`] when ticks
/// were lost to the log's retention (the store was slower than the replay).
pub async fn recover(
    config: &Config,
    until: DateTime<Utc>,
    token: &CancellationToken,
) -> Result<Replayed, EngineError> {
    if !config.kafka.enabled() {
        return Err(EngineError::NoBrokers);
    }
    let sinks = Context::new(Arc::new(Metrics::new()), Arc::default());
    let local = Local::open(config, &sinks, false)?;
    let metrics = sinks.metrics.clone();
    let source = KafkaSource::new(
        &config.kafka,
        local.log.clone(),
        metrics.clone(),
        sinks.health.clone(),
    )
    .map_err(EngineError::Kafka)?;
    // Appended ticks the store writer has not taken yet stay well within
    // the log's retention.
    let slack = (config.log.retention_records as u64 / 2).max(1);
    let room = {
        let metrics = metrics.clone();
        move || {
            let taken = metrics.store_ticks.get()
                + metrics.store_duplicate_ticks.get()
                + metrics.store_skipped_ticks.get();
            metrics
                .kafka_consumed
                .of(Record::Tick)
                .get()
                .saturating_sub(taken)
                < slack
        }
    };
    let (stored, token) = (local.stored.clone(), token.clone());
    let read = blocking(move || source.replay(&stored, until, room, &token)).await;
    // The writer drains what the log holds before it stops.
    sinks.stop().await;
    let ranges = read.map_err(EngineError::Kafka)?;
    let skipped = metrics.store_skipped_ticks.get();
    if skipped > 0 {
        return Err(EngineError::FellBehind(skipped));
    }
    Ok(Replayed {
        until,
        ticks: metrics.store_ticks.get(),
        partitions: ranges
            .into_iter()
            .enumerate()
            .map(|(p, r)| (p as u32, [r.start, r.end]))
            .collect::<BTreeMap<_, _>>(),
    })
}
