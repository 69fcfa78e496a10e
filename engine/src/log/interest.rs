//! `Interest`: a reader's standing interest in some keys of a topic (or in
//! all of them), so an append wakes only the readers of the keys it carries:
//! a client of one symbol is not woken by the rest of the market.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use parking_lot::Mutex;
use tokio::sync::Notify;

/// Which keys an [`Interest`] follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keys {
    /// Every key.
    All,
    /// These keys (none: the interest sleeps).
    Some(Vec<Box<[u8]>>),
}

/// A reader's wake-up: one permit is kept when it is not waiting, so an
/// append between its read and its wait is never missed.
type Wake = Arc<Notify>;

/// Who follows which keys of one topic.
#[derive(Default)]
pub(super) struct Watchers {
    /// Registered interests; appends skip the lock while there are none.
    count: AtomicUsize,
    inner: Mutex<Registry>,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    by_key: HashMap<Box<[u8]>, Vec<(u64, Wake)>>,
    all: Vec<(u64, Wake)>,
}

impl Watchers {
    /// Wakes, once each, the interests in any of `keys` (records just
    /// appended) and those in every key.
    pub(super) fn wake<'a>(&self, keys: impl IntoIterator<Item = &'a [u8]>) {
        if !self.any() {
            return;
        }
        let keys: HashSet<&[u8]> = keys.into_iter().collect();
        if keys.is_empty() {
            return;
        }
        let registry = self.inner.lock();
        for (_, wake) in &registry.all {
            wake.notify_one();
        }
        for key in keys {
            for (_, wake) in registry.by_key.get(key).into_iter().flatten() {
                wake.notify_one();
            }
        }
    }

    /// Whether any interest is registered.
    pub(super) fn any(&self) -> bool {
        self.count.load(Ordering::SeqCst) > 0
    }

    /// Wakes every interest, whatever its keys.
    pub(super) fn wake_every(&self) {
        let registry = self.inner.lock();
        let all = registry
            .all
            .iter()
            .chain(registry.by_key.values().flatten());
        for (_, wake) in all {
            wake.notify_one();
        }
    }

    fn register(&self, keys: &Keys, wake: &Wake) -> u64 {
        let mut registry = self.inner.lock();
        let id = registry.next_id;
        registry.next_id += 1;
        match keys {
            Keys::All => registry.all.push((id, wake.clone())),
            Keys::Some(keys) => {
                for key in keys {
                    registry
                        .by_key
                        .entry(key.clone())
                        .or_default()
                        .push((id, wake.clone()));
                }
            }
        }
        self.count.fetch_add(1, Ordering::SeqCst);
        id
    }

    fn unregister(&self, id: u64, keys: &Keys) {
        let mut registry = self.inner.lock();
        let remove = |list: &mut Vec<(u64, Wake)>| list.retain(|(i, _)| *i != id);
        match keys {
            Keys::All => remove(&mut registry.all),
            Keys::Some(keys) => {
                for key in keys {
                    if let Some(list) = registry.by_key.get_mut(key) {
                        remove(list);
                        if list.is_empty() {
                            registry.by_key.remove(key);
                        }
                    }
                }
            }
        }
        self.count.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Something that holds [`Watchers`]: a topic.
pub(super) trait Watched: Send + Sync + 'static {
    fn watchers(&self) -> &Watchers;
}

/// A standing interest in some keys of a topic; unregistered when dropped.
pub struct Interest {
    topic: Arc<dyn Watched>,
    keys: Keys,
    id: u64,
    wake: Wake,
}

impl Interest {
    pub(super) fn new(topic: Arc<dyn Watched>) -> Self {
        let keys = Keys::Some(Vec::new());
        let wake = Wake::default();
        let id = topic.watchers().register(&keys, &wake);
        Self {
            topic,
            keys,
            id,
            wake,
        }
    }

    /// Follows `keys` from now on. Wakes the reader once, so it reads what
    /// was appended while it changed.
    pub fn follow(&mut self, keys: Keys) {
        let watchers = self.topic.watchers();
        watchers.unregister(self.id, &self.keys);
        self.id = watchers.register(&keys, &self.wake);
        self.keys = keys;
        self.wake.notify_one();
    }

    /// Waits until a record of a followed key was appended since the last
    /// wait ended (or the keys changed). May wake without one.
    pub async fn appended(&self) {
        self.wake.notified().await;
    }
}

impl Drop for Interest {
    fn drop(&mut self) {
        self.topic.watchers().unregister(self.id, &self.keys);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::log::{Record, Retention, Topic};

    #[derive(Clone)]
    struct R(&'static str);
    impl Record for R {
        fn key(&self) -> &[u8] {
            self.0.as_bytes()
        }
        fn weight(&self) -> usize {
            1
        }
    }

    fn topic() -> Arc<Topic<R>> {
        let retention = Retention {
            max_records: 100,
            max_bytes: usize::MAX,
        };
        Arc::new(Topic::new("t", 4, retention, &[]))
    }

    /// Whether the interest is woken within a moment (it is woken at once
    /// or not at all: the appends happened before).
    async fn woken(interest: &Interest) -> bool {
        tokio::time::timeout(Duration::from_millis(50), interest.appended())
            .await
            .is_ok()
    }

    fn keys(keys: &[&str]) -> Keys {
        Keys::Some(keys.iter().map(|k| k.as_bytes().into()).collect())
    }

    #[tokio::test]
    async fn wakes_only_for_the_keys_followed() {
        let topic = topic();
        let mut aapl = topic.interest();
        aapl.follow(keys(&["AAPL"]));
        assert!(woken(&aapl).await, "a change of keys wakes once");
        assert!(!woken(&aapl).await);
        topic.append(R("MSFT"));
        topic.append_batch([R("TSLA"), R("NVDA")]);
        assert!(!woken(&aapl).await, "other keys do not wake it");
        topic.append_batch([R("MSFT"), R("AAPL"), R("AAPL")]);
        assert!(woken(&aapl).await);
        assert!(!woken(&aapl).await, "one wake for a batch");
        topic
            .append_at(topic.partition_for(b"AAPL"), 50, R("AAPL"))
            .unwrap();
        assert!(woken(&aapl).await);
    }

    #[tokio::test]
    async fn all_keys_wake_on_any_append_and_a_dropped_interest_is_gone() {
        let topic = topic();
        let mut all = topic.interest();
        all.follow(Keys::All);
        assert!(woken(&all).await);
        topic.append(R("MSFT"));
        assert!(woken(&all).await);
        all.follow(keys(&[]));
        assert!(woken(&all).await);
        topic.append(R("MSFT"));
        assert!(!woken(&all).await, "no keys: asleep");
        drop(all);
        let watchers = topic.watchers();
        assert_eq!(watchers.count.load(Ordering::SeqCst), 0);
        assert!(watchers.inner.lock().all.is_empty());
    }

    #[tokio::test]
    async fn an_interest_registered_during_an_append_is_woken_whatever_its_keys() {
        let topic = topic();
        let mut aapl = topic.interest();
        aapl.follow(keys(&["AAPL"]));
        let mut all = topic.interest();
        all.follow(Keys::All);
        assert!(woken(&aapl).await && woken(&all).await);
        // What an append does when it found no interest as it began and
        // one as it ended: it kept no keys, so it wakes every interest.
        topic.watchers().wake_every();
        assert!(woken(&aapl).await && woken(&all).await);
    }
}
