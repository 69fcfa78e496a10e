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
//! service manager restarts it. A component that can start afresh (the
//! followers, the metrics sampler) is spawned with
//! [`Context::spawn_restarting`] instead: it is started again after a
//! backoff, as often as its [`Restart`] policy allows within its window,
//! each restart logged and counted (`tickstream_component_restarts_total`);
//! one failure more is a failure as above.

use std::{
    collections::VecDeque,
    future::Future,
    panic::AssertUnwindSafe,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

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

    /// Why a task's end is a failure; `None` when it ended because its
    /// stage stopped.
    fn reason(cx: &Context, ended: Result<Option<String>, String>) -> Option<String> {
        match ended {
            Err(panic) => Some(format!("panicked: {panic}")),
            Ok(Some(error)) => Some(format!("failed: {error}")),
            Ok(None) if !cx.token.is_cancelled() => Some("stopped by itself".to_owned()),
            Ok(None) => None,
        }
    }

    fn report(&self, cx: &Context, component: &'static str, ended: Result<Option<String>, String>) {
        if let Some(reason) = Self::reason(cx, ended) {
            self.fail(cx, component, reason);
        }
    }

    fn fail(&self, cx: &Context, component: &'static str, reason: String) {
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

/// How often a component that can start afresh is restarted: at most
/// `max` times within any `window`; the failure after that ends the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restart {
    /// Restarts allowed within `window` (0: none).
    pub max: u32,
    /// The window restarts are counted in.
    pub window: Duration,
}

/// The wait before the first restart; it doubles with each failure in a
/// row, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait before a restart.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

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
        self.tasks.spawn(async move {
            let ended = run_once(component, work).await;
            cx.supervisor.report(&cx, component, ended);
        });
    }

    /// Runs the work `start` makes as the task of `component`, starting it
    /// again after a failure as `restart` allows (after a backoff from
    /// 100 ms, doubling up to 5 s); see the module docs. `start` makes the
    /// work from scratch (a follower: a new reader).
    pub fn spawn_restarting<O: Outcome, W: Future<Output = O> + Send + 'static>(
        &self,
        component: &'static str,
        restart: Restart,
        start: impl Fn() -> W + Send + 'static,
    ) {
        let cx = self.clone();
        self.tasks.spawn(async move {
            let mut restarts: VecDeque<Instant> = VecDeque::new();
            let mut backoff = FIRST_BACKOFF;
            loop {
                let ended = run_once(component, start()).await;
                let Some(reason) = Supervisor::reason(&cx, ended) else {
                    return;
                };
                let now = Instant::now();
                restarts.retain(|&at| now.duration_since(at) < restart.window);
                if restarts.len() >= restart.max as usize {
                    cx.supervisor.fail(&cx, component, reason);
                    return;
                }
                restarts.push_back(now);
                tracing::error!(component, %reason, restart = restarts.len(), backoff_ms = backoff.as_millis() as u64, "component failed; restarting it");
                cx.metrics
                    .component_failures
                    .with_label_values(&[component])
                    .inc();
                cx.metrics
                    .component_restarts
                    .with_label_values(&[component])
                    .inc();
                cx.health.set_restarting(component, true);
                tokio::select! {
                    () = cx.token.cancelled() => return,
                    () = tokio::time::sleep(backoff) => {}
                }
                cx.health.set_restarting(component, false);
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        });
    }

    /// Cancels the stage and waits for its tasks to end.
    pub async fn stop(&self) {
        self.token.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

/// Runs one start of `component`'s `work`: its error, if it ended with one,
/// or `Err` with the message of its panic.
async fn run_once<O: Outcome>(
    component: &'static str,
    work: impl Future<Output = O>,
) -> Result<Option<String>, String> {
    let work = async move {
        inject_fault(component);
        work.await.error()
    };
    AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .map_err(panic_message)
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
/// `TICKSTREAM_FAULT` panics as it starts (`NAME:once`: its first start only).
fn inject_fault(component: &str) {
    /// A `:once` fault has fired.
    static FIRED: AtomicBool = AtomicBool::new(false);
    if !cfg!(debug_assertions) {
        return;
    }
    let Ok(fault) = std::env::var("TICKSTREAM_FAULT") else {
        return;
    };
    let (name, once) = match fault.strip_suffix(":once") {
        Some(name) => (name, true),
        None => (fault.as_str(), false),
    };
    if name == component && !(once && FIRED.swap(true, Ordering::SeqCst)) {
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

    #[tokio::test]
    async fn a_restartable_component_is_started_again_within_its_policy() {
        let cx = context();
        let starts = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let counted = starts.clone();
        let token = cx.token.clone();
        let policy = Restart {
            max: 3,
            window: Duration::from_secs(60),
        };
        // Fails on its first two starts, then runs until stopped.
        cx.spawn_restarting("follower", policy, move || {
            let (n, token) = (counted.fetch_add(1, Ordering::SeqCst), token.clone());
            async move {
                if n < 2 {
                    return Err("a poison record");
                }
                token.cancelled().await;
                Ok(())
            }
        });
        let deadline = Instant::now() + Duration::from_secs(5);
        while starts.load(Ordering::SeqCst) < 3 {
            assert!(Instant::now() < deadline, "not restarted twice within 5 s");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        cx.stop().await;
        assert!(
            cx.supervisor().exits().is_empty(),
            "restarts are not failures of the engine"
        );
        assert!(cx.health.readiness().failed.is_empty());
        let restarts = cx
            .metrics
            .component_restarts
            .with_label_values(&["follower"]);
        assert_eq!(restarts.get(), 2);
    }

    #[tokio::test]
    async fn a_component_failing_past_its_policy_fails_the_engine() {
        let cx = context();
        let policy = Restart {
            max: 2,
            window: Duration::from_secs(60),
        };
        cx.spawn_restarting("crasher", policy, || async { crash("always") });
        let deadline = Instant::now() + Duration::from_secs(5);
        while cx.health.readiness().restarting.is_empty() {
            assert!(Instant::now() < deadline, "never shown as restarting");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(!cx.health.ready(), "unready while it waits to restart");
        let failure = cx.supervisor().failed().await;
        assert_eq!(failure.component, "crasher");
        assert_eq!(failure.reason, "panicked: always");
        let restarts = cx
            .metrics
            .component_restarts
            .with_label_values(&["crasher"]);
        assert_eq!(restarts.get(), 2);
        cx.stop().await;

        let cx = context();
        let never = Restart {
            max: 0,
            window: Duration::from_secs(60),
        };
        cx.spawn_restarting("strict", never, || async { Err::<(), _>("no") });
        assert_eq!(cx.supervisor().failed().await.reason, "failed: no");
        cx.stop().await;
    }
}
