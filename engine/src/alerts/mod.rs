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
