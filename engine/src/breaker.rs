//! `Breaker`: a circuit breaker around a dependency that can be away for a
//! while (the store's disk, the Kafka cluster). Closed, calls go through;
//! after `failures` failures in a row it opens and callers wait out a
//! cool-down instead of hammering the dependency; then it is half-open and
//! lets one call try: success closes it, failure opens it again for twice
//! as long (up to `max_cooldown`). Its state is in `/metrics`
//! (`tickstream_circuit_state{circuit}`: 0 closed, 1 half-open, 2 open;
//! `tickstream_circuit_opened_total{circuit}`) and in `/readyz`.

use std::time::{Duration, Instant};

use parking_lot::Mutex;
use prometheus::{IntCounter, IntGauge};
use tokio_util::sync::CancellationToken;

use crate::{metrics::Metrics, model::CircuitState};

/// When a breaker opens and how long it stays open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerSettings {
    /// Failures in a row that open it.
    pub failures: u32,
    /// The first cool-down.
    pub cooldown: Duration,
    /// The longest cool-down.
    pub max_cooldown: Duration,
}

/// A circuit breaker; see the module docs.
pub struct Breaker {
    name: String,
    settings: BreakerSettings,
    inner: Mutex<Inner>,
    gauge: IntGauge,
    opened: IntCounter,
}

struct Inner {
    state: CircuitState,
    /// Failures in a row while closed.
    failures: u32,
    /// When the current cool-down ends (while open).
    until: Instant,
    /// The cool-down the next opening gets.
    cooldown: Duration,
}

impl Breaker {
    /// A closed breaker for `name`, reporting into `metrics`.
    pub fn new(name: impl Into<String>, settings: BreakerSettings, metrics: &Metrics) -> Self {
        let name = name.into();
        let gauge = metrics.circuit_state.with_label_values(&[&name]);
        let opened = metrics.circuit_opened.with_label_values(&[&name]);
        gauge.set(0);
        Self {
            name,
            settings,
            inner: Mutex::new(Inner {
                state: CircuitState::Closed,
                failures: 0,
                until: Instant::now(),
                cooldown: settings.cooldown,
            }),
            gauge,
            opened,
        }
    }

    /// The dependency's name (`store`, `kafka_producer`, `kafka_bridge`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The state now.
    pub fn state(&self) -> CircuitState {
        self.inner.lock().state
    }

    /// How long a caller should wait before its next call: zero while
    /// closed, the rest of the cool-down while open. Once the cool-down has
    /// passed the breaker turns half-open and the call may try.
    pub fn wait(&self) -> Duration {
        let mut inner = self.inner.lock();
        if inner.state != CircuitState::Open {
            return Duration::ZERO;
        }
        let left = inner.until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            self.set(&mut inner, CircuitState::HalfOpen);
        }
        left
    }

    /// Blocks while the breaker is open (sleeping at most `slice` at a time,
    /// so a cancelled `token` is seen); true once a call may try, false when
    /// `token` was cancelled first. For a caller on a thread of its own.
    pub fn wait_out(&self, token: &CancellationToken, slice: Duration) -> bool {
        loop {
            let left = self.wait();
            if left.is_zero() {
                return true;
            }
            if token.is_cancelled() {
                return false;
            }
            std::thread::sleep(left.min(slice));
        }
    }

    /// A call succeeded (or the dependency showed it is back).
    pub fn success(&self) {
        let mut inner = self.inner.lock();
        inner.failures = 0;
        inner.cooldown = self.settings.cooldown;
        if inner.state != CircuitState::Closed {
            tracing::info!(circuit = %self.name, "circuit closed: the dependency is back");
            self.set(&mut inner, CircuitState::Closed);
        }
    }

    /// A call failed (or the dependency showed it is away).
    pub fn failure(&self) {
        let mut inner = self.inner.lock();
        match inner.state {
            CircuitState::Open => {}
            CircuitState::HalfOpen => self.open(&mut inner),
            CircuitState::Closed => {
                inner.failures += 1;
                if inner.failures >= self.settings.failures {
                    self.open(&mut inner);
                }
            }
        }
    }

    fn open(&self, inner: &mut Inner) {
        let cooldown = inner.cooldown;
        inner.until = Instant::now() + cooldown;
        inner.cooldown = (cooldown * 2).min(self.settings.max_cooldown);
        inner.failures = 0;
        tracing::warn!(
            circuit = %self.name,
            cooldown_ms = cooldown.as_millis() as u64,
            "circuit open: waiting before the next try"
        );
        self.opened.inc();
        self.set(inner, CircuitState::Open);
    }

    fn set(&self, inner: &mut Inner, state: CircuitState) {
        inner.state = state;
        self.gauge.set(match state {
            CircuitState::Closed => 0,
            CircuitState::HalfOpen => 1,
            CircuitState::Open => 2,
        });
    }
}

impl std::fmt::Debug for Breaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Breaker")
            .field("name", &self.name)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker(cooldown: Duration) -> (Breaker, Metrics) {
        let metrics = Metrics::new();
        let settings = BreakerSettings {
            failures: 3,
            cooldown,
            max_cooldown: cooldown * 4,
        };
        (Breaker::new("store", settings, &metrics), metrics)
    }

    #[test]
    fn opens_after_failures_in_a_row_and_makes_callers_wait() {
        let (breaker, metrics) = breaker(Duration::from_secs(3_600));
        breaker.failure();
        breaker.failure();
        breaker.success();
        breaker.failure();
        breaker.failure();
        assert_eq!(
            breaker.state(),
            CircuitState::Closed,
            "a success resets the count"
        );
        assert_eq!(breaker.wait(), Duration::ZERO);
        breaker.failure();
        assert_eq!(breaker.state(), CircuitState::Open);
        assert!(breaker.wait() > Duration::from_secs(3_500));
        let text = metrics.render();
        assert!(
            text.contains("tickstream_circuit_state{circuit=\"store\"} 2"),
            "{text}"
        );
        assert!(text.contains("tickstream_circuit_opened_total{circuit=\"store\"} 1"));
        breaker.success();
        assert_eq!(breaker.state(), CircuitState::Closed);
        assert!(
            metrics
                .render()
                .contains("tickstream_circuit_state{circuit=\"store\"} 0")
        );
    }

    #[test]
    fn after_the_cooldown_one_try_decides_and_failures_lengthen_it() {
        let (breaker, _metrics) = breaker(Duration::ZERO);
        for _ in 0..3 {
            breaker.failure();
        }
        assert_eq!(breaker.state(), CircuitState::Open);
        assert_eq!(breaker.wait(), Duration::ZERO, "the cool-down has passed");
        assert_eq!(breaker.state(), CircuitState::HalfOpen);
        breaker.failure();
        assert_eq!(
            breaker.state(),
            CircuitState::Open,
            "one failure reopens it"
        );
        breaker.wait();
        breaker.success();
        assert_eq!(breaker.state(), CircuitState::Closed);

        let (breaker, _metrics) = breaker_with(Duration::from_secs(10), Duration::from_secs(25));
        let open = |breaker: &Breaker| {
            for _ in 0..3 {
                breaker.failure();
            }
        };
        open(&breaker);
        assert_eq!(breaker.inner.lock().cooldown, Duration::from_secs(20));
        // Half-open (as if the cool-down passed), fails again: doubled, capped.
        breaker.inner.lock().until = Instant::now();
        breaker.wait();
        breaker.failure();
        assert!(breaker.wait() > Duration::from_secs(19));
        assert_eq!(breaker.inner.lock().cooldown, Duration::from_secs(25));
    }

    fn breaker_with(cooldown: Duration, max: Duration) -> (Breaker, Metrics) {
        let metrics = Metrics::new();
        let settings = BreakerSettings {
            failures: 3,
            cooldown,
            max_cooldown: max,
        };
        (Breaker::new("kafka", settings, &metrics), metrics)
    }
}
