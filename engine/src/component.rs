//! The component model: what every running part of the engine is given (a
//! [`Context`]: its stage's cancellation token and task tracker, the metrics
//! and the health flags) and the one place its tasks are supervised.
//!
//! A component (the simulator source, the Kafka source and sink, the quote
//! and alert followers, the store writer, the gateway) is built by its own
//! module and spawns its work through [`Context::spawn`] under its name
//! (blocking work through [`blocking`]). The engine groups components
//! into stages (sources, gateway, sinks) and stops the stages in order.

use std::{future::Future, panic::AssertUnwindSafe, sync::Arc};

use futures_util::FutureExt;
use parking_lot::Mutex;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::metrics::{Health, Metrics};

/// How a component's task ended before it was asked to stop, or by panicking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    /// The component's name.
    pub component: &'static str,
    /// The panic's message, or `None` when the task returned.
    pub panic: Option<String>,
}

/// Records how supervised tasks ended; shared by every stage of an engine.
#[derive(Debug, Default)]
pub struct Supervisor {
    exits: Mutex<Vec<Exit>>,
}

impl Supervisor {
    /// Tasks that panicked, or returned while their stage was still running.
    pub fn exits(&self) -> Vec<Exit> {
        self.exits.lock().clone()
    }

    fn report(&self, component: &'static str, stopping: bool, panic: Option<String>) {
        match &panic {
            Some(message) => tracing::error!(component, panic = %message, "component panicked"),
            None if !stopping => tracing::warn!(component, "component stopped by itself"),
            None => return,
        }
        self.exits.lock().push(Exit { component, panic });
    }
}

/// What a component is built from: where it reports and when it stops.
#[derive(Clone)]
pub struct Context {
    /// Cancelled when the component's stage stops.
    pub token: CancellationToken,
    tasks: TaskTracker,
    /// The registry every component reports into.
    pub metrics: Arc<Metrics>,
    /// The readiness flags.
    pub health: Arc<Health>,
    supervisor: Arc<Supervisor>,
}

impl Context {
    /// A context for the first stage of an engine.
    pub fn new(metrics: Arc<Metrics>, health: Arc<Health>) -> Self {
        Self {
            token: CancellationToken::new(),
            tasks: TaskTracker::new(),
            metrics,
            health,
            supervisor: Arc::default(),
        }
    }

    /// A context for another stage, stopped on its own, sharing the metrics,
    /// health and supervisor.
    pub fn stage(&self) -> Self {
        Self {
            token: CancellationToken::new(),
            tasks: TaskTracker::new(),
            ..self.clone()
        }
    }

    /// The supervisor every stage of this context reports to.
    pub fn supervisor(&self) -> &Arc<Supervisor> {
        &self.supervisor
    }

    /// Runs `work` as the task of `component`; a panic, or an end before
    /// the stage stops, is reported to the supervisor.
    pub fn spawn(&self, component: &'static str, work: impl Future<Output = ()> + Send + 'static) {
        let (token, supervisor) = (self.token.clone(), self.supervisor.clone());
        self.tasks.spawn(async move {
            let ended = AssertUnwindSafe(work).catch_unwind().await;
            supervisor.report(
                component,
                token.is_cancelled(),
                ended.err().map(panic_message),
            );
        });
    }

    /// Cancels the stage and waits for its tasks to end.
    pub async fn stop(&self) {
        self.token.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

/// Runs blocking `work` on a thread of the blocking pool and waits for it;
/// a panic there continues in the caller (so a component's supervision
/// sees it).
pub async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => value,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(error) => panic!("blocking task did not finish: {error}"),
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> Context {
        Context::new(Arc::new(Metrics::new()), Arc::default())
    }

    #[tokio::test]
    async fn a_component_that_runs_until_stopped_reports_nothing() {
        let cx = context();
        let token = cx.token.clone();
        cx.spawn("waiter", async move { token.cancelled().await });
        let token = cx.token.clone();
        cx.spawn(
            "thread",
            blocking(move || {
                while !token.is_cancelled() {
                    std::thread::sleep(std::time::Duration::from_millis(1))
                }
            }),
        );
        cx.stop().await;
        assert!(cx.supervisor().exits().is_empty());
    }

    #[tokio::test]
    async fn panics_and_early_ends_are_reported_with_the_component() {
        let cx = context();
        cx.spawn("quitter", async {});
        cx.spawn("crasher", blocking(|| panic!("boom")));
        let later = cx.stage();
        later.spawn("async crasher", async { panic!("{}", "bang".to_owned()) });
        later.stop().await;
        cx.stop().await;
        let mut exits = cx.supervisor().exits();
        exits.sort_by_key(|e| e.component);
        assert_eq!(
            exits,
            [
                Exit {
                    component: "async crasher",
                    panic: Some("bang".into())
                },
                Exit {
                    component: "crasher",
                    panic: Some("boom".into())
                },
                Exit {
                    component: "quitter",
                    panic: None
                },
            ]
        );
    }
}
