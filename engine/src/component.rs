//! The component model: what every running part of the engine is given (a
//! [`Context`]: its stage's cancellation token and task tracker, the metrics
//! and the health flags) and the one place its tasks are supervised.
//!
//! A component (the simulator source, the Kafka source and sink, the quote
//! and alert followers, the store writer, the gateway) is built by its own
//! module and spawns its work through [`Context::spawn`] under its name
//! (blocking work through [`blocking`]). The engine groups components
//! into stages (sources, gateway, sinks) and stops the stages in order.
//!
//! A task that panics, or ends while its stage still runs, is a failure:
//! the supervisor logs it, counts it in `tickstream_component_failures_total`,
//! makes `/readyz` unready with the reason, and signals
//! [`Supervisor::failed`], on which the daemon exits non-zero so its
//! service manager restarts it.

use std::{future::Future, panic::AssertUnwindSafe, sync::Arc};

use futures_util::FutureExt;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    metrics::{Health, Metrics},
    model::Failure,
};

/// What a component's task may end with: nothing, or a result whose error
/// is a failure.
pub trait Outcome {
    /// The failure's description, if it is one.
    fn error(self) -> Option<String>;
}

impl Outcome for () {
    fn error(self) -> Option<String> {
        None
    }
}

impl<E: std::fmt::Display> Outcome for Result<(), E> {
    fn error(self) -> Option<String> {
        self.err().map(|e| e.to_string())
    }
}

/// Watches how supervised tasks end; shared by every stage of an engine.
#[derive(Debug)]
pub struct Supervisor {
    health: Arc<Health>,
    /// Cancelled at the first failure.
    failed: CancellationToken,
}

impl Supervisor {
    /// Tasks that panicked, failed, or returned while their stage was still
    /// running, first first.
    pub fn exits(&self) -> Vec<Failure> {
        self.health.failures()
    }

    /// Waits for the first failure and returns it.
    pub async fn failed(&self) -> Failure {
        self.failed.cancelled().await;
        self.health.failures().remove(0)
    }

    fn report(&self, cx: &Context, component: &'static str, ended: Result<Option<String>, String>) {
        let reason = match ended {
            Err(panic) => format!("panicked: {panic}"),
            Ok(Some(error)) => format!("failed: {error}"),
            Ok(None) if !cx.token.is_cancelled() => "stopped by itself".to_owned(),
            Ok(None) => return,
        };
        tracing::error!(component, %reason, "component failed");
        cx.metrics
            .component_failures
            .with_label_values(&[component])
            .inc();
        self.health.fail(Failure {
            component: component.to_owned(),
            reason,
        });
        self.failed.cancel();
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
        let supervisor = Arc::new(Supervisor {
            health: health.clone(),
            failed: CancellationToken::new(),
        });
        Self {
            token: CancellationToken::new(),
            tasks: TaskTracker::new(),
            metrics,
            health,
            supervisor,
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

    /// Runs `work` as the task of `component`; a panic, an error, or an
    /// end before the stage stops is reported to the supervisor.
    pub fn spawn<O: Outcome>(
        &self,
        component: &'static str,
        work: impl Future<Output = O> + Send + 'static,
    ) {
        let cx = self.clone();
        let work = async move {
            inject_fault(component);
            work.await.error()
        };
        self.tasks.spawn(async move {
            let ended = AssertUnwindSafe(work).catch_unwind().await;
            cx.supervisor
                .report(&cx, component, ended.map_err(panic_message));
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

/// The tests' fault injection, in debug builds only: the component named by
/// `TICKSTREAM_FAULT` panics as it starts.
fn inject_fault(component: &str) {
    if cfg!(debug_assertions) && std::env::var("TICKSTREAM_FAULT").is_ok_and(|c| c == component) {
        panic!("fault injected through TICKSTREAM_FAULT");
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

    /// Panics with a formatted (`String`) message.
    fn crash(message: &str) {
        panic!("{message}")
    }

    #[tokio::test]
    async fn panics_errors_and_early_ends_are_reported_with_the_component() {
        let cx = context();
        cx.spawn("quitter", async {});
        cx.spawn("crasher", blocking(|| -> () { panic!("boom") }));
        let later = cx.stage();
        later.spawn("async crasher", async { crash("bang") });
        later.spawn("failer", async { Err::<(), _>("no cluster") });
        later.stop().await;
        cx.stop().await;
        let first = cx.supervisor().failed().await;
        assert!(
            ["quitter", "crasher", "async crasher", "failer"].contains(&first.component.as_str())
        );
        assert!(!cx.health.ready());
        assert_eq!(
            cx.metrics
                .component_failures
                .with_label_values(&["failer"])
                .get(),
            1
        );
        let mut exits = cx.supervisor().exits();
        exits.sort_by(|a, b| a.component.cmp(&b.component));
        let failure = |component: &str, reason: &str| Failure {
            component: component.into(),
            reason: reason.into(),
        };
        assert_eq!(
            exits,
            [
                failure("async crasher", "panicked: bang"),
                failure("crasher", "panicked: boom"),
                failure("failer", "failed: no cluster"),
                failure("quitter", "stopped by itself"),
            ]
        );
    }
}
