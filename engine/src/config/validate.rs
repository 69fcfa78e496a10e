//! Validation, section by section: each section checks its own values and
//! reports every problem with its dotted key.

use std::{collections::HashSet, time::Duration};

use super::{
    Config, KafkaConfig, LogConfig, Problem, SimConfig, StartPosition, StoreConfig,
    SupervisionConfig, TradingConfig,
};

/// The problems found so far.
#[derive(Default)]
pub(super) struct Problems(Vec<Problem>);

impl Problems {
    /// Records `message` for `key` unless `ok`.
    pub(super) fn check(&mut self, ok: bool, key: &str, message: impl FnOnce() -> String) {
        if !ok {
            self.0.push(Problem {
                key: key.to_owned(),
                message: message(),
            });
        }
    }
}

impl Config {
    /// Checks every value; returns every problem found.
    ///
    /// # Errors
    /// Returns the list of problems, each naming its key.
    pub fn validate(&self) -> Result<(), Vec<Problem>> {
        let mut problems = Problems::default();
        self.gateway.validate(&mut problems);
        self.store.validate(&mut problems);
        self.log.validate(&mut problems);
        self.kafka.validate(&mut problems);
        self.sim.validate(&mut problems);
        self.supervision.validate(&mut problems);
        self.trading.validate(&mut problems);
        let filter = &self.logging.filter;
        problems.check(
            filter.is_empty() || tracing_subscriber::EnvFilter::try_new(filter).is_ok(),
            "logging.filter",
            || format!("{filter:?} is not a filter like \"info,tickstream::kafka=debug\""),
        );
        if problems.0.is_empty() {
            Ok(())
        } else {
            Err(problems.0)
        }
    }
}

impl StoreConfig {
    fn validate(&self, p: &mut Problems) {
        p.check(
            self.retention >= Duration::from_secs(1),
            "store.retention",
            || "must be at least 1s".into(),
        );
        p.check(
            (Duration::from_millis(1)..=Duration::from_secs(60)).contains(&self.flush_interval),
            "store.flush_interval",
            || format!("must be between 1ms and 60s, got {:?}", self.flush_interval),
        );
        p.check(
            (1..=1_000_000).contains(&self.max_batch),
            "store.max_batch",
            || format!("must be between 1 and 1000000, got {}", self.max_batch),
        );
        p.check(
            self.audit_retention >= Duration::from_secs(3_600),
            "store.audit_retention",
            || "must be at least 1h".into(),
        );
        let interval = self.backup.interval;
        p.check(
            interval.is_zero() || interval >= Duration::from_secs(1),
            "store.backup.interval",
            || format!("must be 0s (no backups) or at least 1s, got {interval:?}"),
        );
        p.check(
            (1..=1_000).contains(&self.backup.keep),
            "store.backup.keep",
            || format!("must be between 1 and 1000, got {}", self.backup.keep),
        );
    }
}

impl TradingConfig {
    fn validate(&self, p: &mut Problems) {
        p.check(
            (0.0..=1e12).contains(&self.starting_cash),
            "trading.starting_cash",
            || format!("must be between 0 and 1e12, got {}", self.starting_cash),
        );
        p.check(
            (0.0..=100.0).contains(&self.fee_per_share),
            "trading.fee_per_share",
            || format!("must be between 0 and 100, got {}", self.fee_per_share),
        );
        p.check(
            (0.0..=0.1).contains(&self.fee_rate),
            "trading.fee_rate",
            || format!("must be between 0 and 0.1, got {}", self.fee_rate),
        );
    }
}

impl SupervisionConfig {
    fn validate(&self, p: &mut Problems) {
        p.check(self.restarts <= 100, "supervision.restarts", || {
            format!("must be between 0 and 100, got {}", self.restarts)
        });
        p.check(
            (Duration::from_secs(1)..=Duration::from_secs(86_400)).contains(&self.restart_window),
            "supervision.restart_window",
            || format!("must be between 1s and 1day, got {:?}", self.restart_window),
        );
    }
}

impl LogConfig {
    fn validate(&self, p: &mut Problems) {
        p.check(
            (1..=1_024).contains(&self.partitions),
            "log.partitions",
            || format!("must be between 1 and 1024, got {}", self.partitions),
        );
        p.check(self.retention_records >= 1, "log.retention_records", || {
            "must be at least 1".into()
        });
        p.check(self.retention_bytes >= 4_096, "log.retention_bytes", || {
            format!("must be at least 4096, got {}", self.retention_bytes)
        });
        p.check(
            self.topic_prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')),
            "log.topic_prefix",
            || {
                format!(
                    "{:?} may only hold ASCII letters, digits, '.', '_' and '-'",
                    self.topic_prefix
                )
            },
        );
    }
}

impl KafkaConfig {
    fn validate(&self, p: &mut Problems) {
        p.check(
            self.replication_factor >= 1,
            "kafka.replication_factor",
            || format!("must be at least 1, got {}", self.replication_factor),
        );
        p.check(
            matches!(
                self.start_fallback,
                StartPosition::Latest | StartPosition::Earliest
            ),
            "kafka.start_fallback",
            || "must be latest or earliest".into(),
        );
        let registry = &self.schema_registry;
        p.check(
            registry.is_empty()
                || reqwest::Url::parse(registry).is_ok_and(|url| {
                    matches!(url.scheme(), "http" | "https") && url.password().is_none()
                }),
            "kafka.schema_registry",
            || format!("{registry:?} is not an http:// or https:// URL without a password"),
        );
        let auth = &self.schema_registry_auth;
        p.check(
            auth.is_empty() || (auth.contains(':') && !registry.is_empty()),
            "kafka.schema_registry_auth",
            || "must be user:password, with kafka.schema_registry set".into(),
        );
        for key in self.properties.keys() {
            p.check(
                !key.is_empty()
                    && key
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_'),
                &format!("kafka.properties.{key}"),
                || "is not a librdkafka property name (letters, digits and dots)".into(),
            );
        }
    }
}

/// The longest history `sim.backfill` makes.
const MAX_BACKFILL_YEARS: u64 = 10;

impl SimConfig {
    fn validate(&self, p: &mut Problems) {
        if let Some(message) = self.correlation.problem() {
            p.check(false, "sim.correlation", || message);
        }
        p.check(
            self.backfill <= Duration::from_secs(MAX_BACKFILL_YEARS * 366 * 86_400),
            "sim.backfill",
            || format!("must be at most {MAX_BACKFILL_YEARS} years"),
        );
        p.check(
            (1..=100_000).contains(&self.backfill_rate),
            "sim.backfill_rate",
            || format!("must be between 1 and 100000, got {}", self.backfill_rate),
        );
        let mut seen = HashSet::new();
        for (i, spec) in self.symbols.iter().enumerate() {
            let key = |field: &str| format!("sim.symbols[{i}].{field}");
            p.check(seen.insert(spec.symbol.clone()), &key("symbol"), || {
                format!("{} is listed twice", spec.symbol)
            });
            p.check(
                spec.price.is_finite() && spec.price > 0.0,
                &key("price"),
                || format!("must be a positive number, got {}", spec.price),
            );
            let steps = 1.0 / spec.tick_size;
            p.check(
                spec.tick_size > 0.0
                    && spec.tick_size <= 1.0
                    && (steps - steps.round()).abs() < 1e-6,
                &key("tick_size"),
                || {
                    format!(
                        "must divide 1 evenly (e.g. 0.01, 0.0001), got {}",
                        spec.tick_size
                    )
                },
            );
            p.check(
                (0.0..=5.0).contains(&spec.volatility),
                &key("volatility"),
                || {
                    format!(
                        "must be between 0 and 5 (annualised), got {}",
                        spec.volatility
                    )
                },
            );
            p.check((-1.0..=1.0).contains(&spec.drift), &key("drift"), || {
                format!("must be between -1 and 1 (annualised), got {}", spec.drift)
            });
            let max_beta = self.correlation.max_beta(spec.sector.is_some());
            p.check((0.0..=max_beta).contains(&spec.beta), &key("beta"), || {
                format!(
                    "must be between 0 and {max_beta:.2} with these correlations, got {}",
                    spec.beta
                )
            });
            p.check(
                spec.spread_bps > 0.0 && spec.spread_bps <= 1_000.0,
                &key("spread_bps"),
                || format!("must be above 0 and at most 1000, got {}", spec.spread_bps),
            );
            p.check((100.0..=1e11).contains(&spec.adv), &key("adv"), || {
                format!(
                    "must be between 100 and 1e11 shares a day, got {}",
                    spec.adv
                )
            });
        }
    }
}
