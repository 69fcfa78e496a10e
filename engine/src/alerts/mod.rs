//! Alerts: rules users set on symbols (a price crossing a level, a fast
//! move, a volume spike, a widening spread), evaluated on every tick; a
//! firing becomes an `alert` market event, so it reaches the dashboard, the
//! events log and the desktop's notifications like any other.

mod evaluator;
mod rules;

pub use evaluator::Evaluator;
pub use rules::RuleError;

use std::sync::Arc;

use parking_lot::Mutex;
use tokio_util::sync::CancellationToken;

use crate::{
    log::{Reader, Topic},
    model::{AlertRule, EncodedTick, MarketEvent, Tick},
    store::{ItemStore, StoreError},
};

/// The alert follower: evaluates the rules on every new tick of `reader`
/// and appends firings to `events`, until `token` is cancelled.
pub async fn follow_alerts(
    reader: Reader<Arc<EncodedTick>>,
    alerts: Arc<Alerts>,
    events: Arc<Topic<Arc<MarketEvent>>>,
    token: CancellationToken,
) {
    let mut fired = Vec::new();
    reader
        .follow(4_096, &token, |batch| {
            alerts.apply(batch.iter().map(|r| r.tick()), &mut fired);
            for event in fired.drain(..) {
                tracing::info!(message = %event.message, "alert fired");
                events.append(Arc::new(event));
            }
        })
        .await;
}

/// The rules in force: stored in the database, evaluated in memory. Changes
/// go to both; the database is the truth at start.
pub struct Alerts {
    store: Arc<Mutex<ItemStore>>,
    evaluator: Mutex<Evaluator>,
}

impl Alerts {
    /// Loads the rules kept in `store`.
    ///
    /// # Errors
    /// The store's error.
    pub fn load(store: Arc<Mutex<ItemStore>>) -> Result<Self, StoreError> {
        let mut evaluator = Evaluator::new();
        for rule in store.lock().list::<AlertRule>()? {
            evaluator.set(rule);
        }
        Ok(Self {
            store,
            evaluator: Mutex::new(evaluator),
        })
    }

    /// Every rule, by id.
    ///
    /// # Errors
    /// The store's error.
    pub fn list(&self) -> Result<Vec<AlertRule>, StoreError> {
        self.store.lock().list::<AlertRule>()
    }

    /// The rule `id`.
    ///
    /// # Errors
    /// The store's error.
    pub fn get(&self, id: u64) -> Result<Option<AlertRule>, StoreError> {
        self.store.lock().get(id)
    }

    /// Stores and starts a validated rule; returns it with its id.
    ///
    /// # Errors
    /// The store's error.
    pub fn create(&self, rule: AlertRule) -> Result<AlertRule, StoreError> {
        let rule = self.store.lock().create(rule)?;
        self.evaluator.lock().set(rule.clone());
        Ok(rule)
    }

    /// Replaces a rule; false when there is none.
    ///
    /// # Errors
    /// The store's error.
    pub fn update(&self, rule: AlertRule) -> Result<bool, StoreError> {
        let found = self.store.lock().update(&rule)?;
        if found {
            self.evaluator.lock().set(rule);
        }
        Ok(found)
    }

    /// Deletes a rule; false when there was none.
    ///
    /// # Errors
    /// The store's error.
    pub fn delete(&self, id: u64) -> Result<bool, StoreError> {
        let found = self.store.lock().delete::<AlertRule>(id)?;
        self.evaluator.lock().remove(id);
        Ok(found)
    }

    /// Evaluates a batch of ticks; firings go to `out`.
    pub fn apply<'a>(&self, ticks: impl IntoIterator<Item = &'a Tick>, out: &mut Vec<MarketEvent>) {
        let mut evaluator = self.evaluator.lock();
        for tick in ticks {
            evaluator.apply(tick, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::{
        component::Context,
        log::{Log, LogSettings, Retention, Start},
        metrics::Metrics,
        model::{Condition, EventKind, Symbol},
    };

    #[tokio::test]
    async fn the_follower_turns_a_crossing_into_an_event_until_its_stage_stops() {
        let dir = tempfile::tempdir().unwrap();
        let store = ItemStore::open(&dir.path().join("items.db")).unwrap();
        let alerts = Arc::new(Alerts::load(Arc::new(Mutex::new(store))).unwrap());
        let msft = Symbol::new("MSFT").unwrap();
        alerts
            .create(AlertRule {
                id: 0,
                name: None,
                symbol: msft.clone(),
                condition: Condition::PriceCross {
                    level: 400.0,
                    direction: None,
                },
                cooldown: Duration::from_secs(60),
                enabled: true,
            })
            .unwrap();
        let settings = LogSettings {
            topic_prefix: String::new(),
            partitions: 2,
            retention: Retention {
                max_records: 100,
                max_bytes: 1 << 20,
            },
        };
        let log = Arc::new(Log::new(&settings, &[]));
        let cx = Context::new(Arc::new(Metrics::new()), Arc::default());
        cx.spawn(
            "alert follower",
            follow_alerts(
                Reader::new(log.ticks.clone(), Start::Earliest),
                alerts,
                log.events.clone(),
                cx.token.clone(),
            ),
        );
        let at = chrono::DateTime::from_timestamp(1_767_225_600, 0).unwrap();
        for (second, price) in [(0, 399.0), (1, 401.0)] {
            let tick = Tick::trade(
                msft.clone(),
                price,
                10,
                at + chrono::Duration::seconds(second),
            );
            log.ticks.append(Arc::new(EncodedTick::new(tick)));
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut fired = Vec::new();
        while fired.is_empty() {
            assert!(Instant::now() < deadline, "no alert within 5 s");
            tokio::time::sleep(Duration::from_millis(5)).await;
            log.events.fetch(0, 0, 10, &mut fired).unwrap();
        }
        assert_eq!(fired.len(), 1);
        assert_eq!(fired[0].1.kind, EventKind::Alert);
        assert_eq!(fired[0].1.symbol.as_ref(), Some(&msft));
        cx.stop().await;
        assert!(cx.supervisor().exits().is_empty());
    }
}
