//! The audit log: every change made over the network, every refused key
//! or request, every key made or revoked and every scenario injected, with
//! the key's name (never the key), the client's address and the outcome.
//! Requests hand entries to the [`Auditor`] without waiting; the audit
//! writer (a sink component) stores them in batches, logs each as a line
//! with target `audit` (JSON where logs are JSON), and prunes past the
//! retention. An entry the writer cannot take in time is counted in
//! `tickstream_audit_dropped_total`, never lost silently.

use std::{path::Path, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::{
    component::Context,
    metrics::Metrics,
    model::AuditEntry,
    store::{AuditStore, StoreError},
};

/// Entries waiting for the writer, at most.
const QUEUE: usize = 8_192;
/// Most entries per transaction.
const BATCH: usize = 512;
/// How often entries past retention are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(3_600);

/// Where requests record what they did. Cheap to clone.
#[derive(Clone)]
pub struct Auditor {
    queue: mpsc::Sender<AuditEntry>,
    store: Arc<Mutex<AuditStore>>,
    metrics: Arc<Metrics>,
}

impl Auditor {
    /// Opens the audit table of the database at `path` and starts its
    /// writer in `cx`, keeping entries for `retention`.
    ///
    /// # Errors
    /// The store's error.
    pub fn start(path: &Path, retention: Duration, cx: &Context) -> Result<Self, StoreError> {
        let store = Arc::new(Mutex::new(AuditStore::open(path)?));
        let (queue, entries) = mpsc::channel(QUEUE);
        cx.spawn(
            "audit writer",
            write(entries, store.clone(), retention, cx.token.clone()),
        );
        Ok(Self {
            queue,
            store,
            metrics: cx.metrics.clone(),
        })
    }

    /// Records an action now: the key's name, the client's address, what
    /// was asked, the status answered and the outcome.
    pub fn record(
        &self,
        key: Option<&str>,
        client: String,
        action: String,
        status: u16,
        outcome: &str,
    ) {
        let entry = AuditEntry {
            id: 0,
            timestamp: Utc::now(),
            key: key.map(str::to_owned),
            client,
            action,
            status,
            outcome: outcome.to_owned(),
        };
        tracing::info!(
            target: "audit",
            key = entry.key.as_deref().unwrap_or("-"),
            client = %entry.client,
            action = %entry.action,
            status = entry.status,
            outcome = %entry.outcome,
            "audit"
        );
        if self.queue.try_send(entry).is_err() {
            self.metrics.audit_dropped.inc();
        }
    }

    /// Up to `limit` entries from `from` to `to`, newest first.
    ///
    /// # Errors
    /// The store's error.
    pub async fn recent(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.lock().recent(from, to, limit))
            .await
            .unwrap_or_else(|_| Err(StoreError::Corrupt("the audit query panicked".into())))
    }
}

/// The audit writer: stores what the queue brings until `token` is
/// cancelled, then what is left in it.
async fn write(
    mut entries: mpsc::Receiver<AuditEntry>,
    store: Arc<Mutex<AuditStore>>,
    retention: Duration,
    token: CancellationToken,
) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut pruned = tokio::time::Instant::now() - PRUNE_EVERY;
    loop {
        let stopping = tokio::select! {
            n = entries.recv_many(&mut batch, BATCH) => n == 0,
            () = token.cancelled() => {
                entries.close();
                while let Ok(entry) = entries.try_recv() {
                    batch.push(entry);
                }
                true
            }
        };
        if !batch.is_empty() {
            let written = std::mem::take(&mut batch);
            let store = store.clone();
            let result = tokio::task::spawn_blocking(move || store.lock().append(&written)).await;
            if !matches!(result, Ok(Ok(()))) {
                tracing::error!("audit entries could not be stored");
            }
        }
        if pruned.elapsed() >= PRUNE_EVERY {
            pruned = tokio::time::Instant::now();
            let before = Utc::now() - chrono::Duration::from_std(retention).unwrap_or_default();
            let store = store.clone();
            let _ = tokio::task::spawn_blocking(move || store.lock().prune(before)).await;
        }
        if stopping {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn entries_are_stored_newest_first_and_kept_at_stop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.db");
        let cx = Context::new(Arc::new(Metrics::new()), Arc::default());
        let auditor = Auditor::start(&path, Duration::from_secs(3_600), &cx).unwrap();
        for action in ["POST /api/v1/watchlists", "DELETE /api/v1/keys/ci"] {
            auditor.record(
                Some("ops"),
                "127.0.0.1:5000".into(),
                action.into(),
                201,
                "ok",
            );
        }
        auditor.record(
            None,
            "10.0.0.9:1234".into(),
            "GET /api/v1/keys".into(),
            401,
            "unauthorized",
        );
        cx.stop().await;
        assert!(cx.supervisor().exits().is_empty());
        let stored = AuditStore::open(&path)
            .unwrap()
            .recent(None, None, 10)
            .unwrap();
        let actions: Vec<&str> = stored.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "GET /api/v1/keys",
                "DELETE /api/v1/keys/ci",
                "POST /api/v1/watchlists"
            ]
        );
        assert_eq!(stored[0].outcome, "unauthorized");
        assert_eq!(stored[0].key, None);
        assert_eq!(stored[1].key.as_deref(), Some("ops"));
    }
}
