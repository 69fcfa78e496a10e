//! The configuration a running engine works with, as reloads change it:
//! the settings in [`LIVE_KEYS`] are taken from each reload at once; a
//! change to any other waits for a restart and is listed as pending.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use parking_lot::RwLock;
use serde_json::Value;

use super::Config;
use crate::model::EffectiveConfig;

/// The settings a reload applies while the engine runs: the log filter,
/// the gateway's limits (for requests from then on and streams opened
/// after it), and the simulator's rate and speed. The TLS certificate's
/// files are read again on every reload too.
pub const LIVE_KEYS: &[&str] = &[
    "gateway.max_frame_bytes",
    "gateway.max_symbols_per_client",
    "gateway.max_connections",
    "gateway.max_connections_per_ip",
    "gateway.rate_limit",
    "gateway.rate_burst",
    "gateway.ws_frame_rate",
    "gateway.request_timeout",
    "gateway.ping_interval",
    "gateway.ping_misses",
    "gateway.write_timeout",
    "sim.rate",
    "sim.speed",
    "logging.filter",
];

impl Config {
    /// This configuration with the settings of [`LIVE_KEYS`] taken from
    /// `newer`.
    pub fn with_live_settings_of(&self, newer: &Config) -> Config {
        let mut live = self.clone();
        let (to, from) = (&mut live.gateway, &newer.gateway);
        to.max_frame_bytes = from.max_frame_bytes;
        to.max_symbols_per_client = from.max_symbols_per_client;
        to.max_connections = from.max_connections;
        to.max_connections_per_ip = from.max_connections_per_ip;
        to.rate_limit = from.rate_limit;
        to.rate_burst = from.rate_burst;
        to.ws_frame_rate = from.ws_frame_rate;
        to.request_timeout = from.request_timeout;
        to.ping_interval = from.ping_interval;
        to.ping_misses = from.ping_misses;
        to.write_timeout = from.write_timeout;
        live.sim.rate = newer.sim.rate;
        live.sim.speed = newer.sim.speed;
        live.logging.filter.clone_from(&newer.logging.filter);
        live
    }

    /// The dotted keys (`gateway.listen`, `kafka.properties.sasl.password`)
    /// whose values differ between this configuration and `other`; a list
    /// (`sim.symbols`) counts as one value.
    pub fn differences(&self, other: &Config) -> Vec<String> {
        let mut keys = Vec::new();
        compare(&self.to_json(), &other.to_json(), "", &mut keys);
        // Secrets are redacted in the JSON: compare them as they are.
        let (ours, theirs) = (&self.kafka.properties, &other.kafka.properties);
        for name in ours.keys().chain(theirs.keys()) {
            let key = format!("kafka.properties.{name}");
            if ours.get(name) != theirs.get(name) && !keys.contains(&key) {
                keys.push(key);
            }
        }
        let auth = "kafka.schema_registry_auth".to_owned();
        if self.kafka.schema_registry_auth != other.kafka.schema_registry_auth
            && !keys.contains(&auth)
        {
            keys.push(auth);
        }
        keys.sort();
        keys
    }

    /// Every setting, shaped as the file, secrets redacted.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("a configuration serializes")
    }
}

/// The keys under `prefix` whose values differ between `a` and `b`.
fn compare(a: &Value, b: &Value, prefix: &str, keys: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for name in a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))) {
                let key = if prefix.is_empty() {
                    name.clone()
                } else {
                    format!("{prefix}.{name}")
                };
                compare(
                    a.get(name).unwrap_or(&Value::Null),
                    b.get(name).unwrap_or(&Value::Null),
                    &key,
                    keys,
                );
            }
        }
        _ if a != b => keys.push(prefix.to_owned()),
        _ => {}
    }
}

/// The configuration in force, shared by the engine (which applies
/// reloads) and the gateway (which shows it).
pub struct Running {
    now: RwLock<Snapshot>,
}

struct Snapshot {
    effective: Arc<Config>,
    pending: Vec<String>,
    reloaded_at: Option<DateTime<Utc>>,
}

/// What a reload changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reload {
    /// Keys applied at once.
    pub applied: Vec<String>,
    /// Keys that changed but apply at the next start.
    pub pending: Vec<String>,
}

impl Running {
    /// Running as `config` says.
    pub fn new(config: Config) -> Self {
        Self {
            now: RwLock::new(Snapshot {
                effective: Arc::new(config),
                pending: Vec::new(),
                reloaded_at: None,
            }),
        }
    }

    /// The configuration in force.
    pub fn effective(&self) -> Arc<Config> {
        self.now.read().effective.clone()
    }

    /// Takes the live settings of `newer` (the configuration read again)
    /// and notes the rest as pending.
    pub fn reload(&self, newer: &Config) -> Reload {
        let mut now = self.now.write();
        let effective = now.effective.with_live_settings_of(newer);
        let reload = Reload {
            applied: now.effective.differences(&effective),
            pending: effective.differences(newer),
        };
        *now = Snapshot {
            effective: Arc::new(effective),
            pending: reload.pending.clone(),
            reloaded_at: Some(Utc::now()),
        };
        reload
    }

    /// What `GET /api/v1/config` answers.
    pub fn view(&self) -> EffectiveConfig {
        let now = self.now.read();
        EffectiveConfig {
            settings: now.effective.to_json(),
            live: LIVE_KEYS.iter().map(|k| (*k).to_owned()).collect(),
            restart_pending: now.pending.clone(),
            reloaded_at: now.reloaded_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A configuration with every key set to something other than its
    /// default.
    fn all_changed() -> Config {
        let toml = r#"
            [gateway]
            listen = "127.0.0.1:9999"
            max_frame_bytes = 4096
            max_symbols_per_client = 5
            ui_dir = "/srv/ui"
            allowed_origins = ["https://dash.example.com"]
            public_hosts = ["ticks.example.com"]
            insecure_no_auth = true
            tls_cert = "/etc/cert.pem"
            tls_key = "/etc/key.pem"
            max_connections = 5
            max_connections_per_ip = 2
            rate_limit = 7
            rate_burst = 9
            ws_frame_rate = 3
            request_timeout = "5s"
            ping_interval = "7s"
            ping_misses = 1
            write_timeout = "3s"
            [store]
            data_dir = "/var/lib/t"
            retention = "2h"
            flush_interval = "10ms"
            max_batch = 10
            audit_retention = "1day"
            [store.backup]
            interval = "1h"
            keep = 2
            dir = "/backups"
            [sim]
            seed = 1
            rate = 50
            model = "random_walk"
            speed = 10
            calendar = "nyse"
            extended_hours = true
            holidays = ["2026-12-31"]
            backfill = "0s"
            backfill_rate = 5
            symbols = [{ symbol = "ACME", price = 10.0 }]
            [sim.correlation]
            market = 0.1
            sector = 0.2
            [log]
            partitions = 2
            retention_records = 1000
            retention_bytes = 100000
            topic_prefix = "t."
            [kafka]
            brokers = "k:9092"
            replication_factor = 3
            start = "earliest"
            start_fallback = "earliest"
            [kafka.properties]
            "sasl.password" = "hunter2"
            [supervision]
            restarts = 1
            restart_window = "5m"
            [logging]
            filter = "debug"
        "#;
        toml::from_str(toml).expect("a valid configuration")
    }

    #[test]
    fn the_live_keys_are_exactly_those_a_reload_takes() {
        let (running, newer) = (Config::default(), all_changed());
        let everything = running.differences(&newer);
        assert!(everything.len() > LIVE_KEYS.len() + 10, "{everything:?}");
        let live = running.differences(&running.with_live_settings_of(&newer));
        let mut expected: Vec<String> = LIVE_KEYS.iter().map(|k| (*k).to_owned()).collect();
        expected.sort();
        assert_eq!(live, expected);
    }

    #[test]
    fn a_reload_applies_live_keys_and_keeps_the_rest_pending_until_reverted() {
        let running = Running::new(Config::default());
        let mut newer = Config::default();
        newer.gateway.rate_limit = 3;
        newer.sim.rate = crate::sim::Rate::Max;
        newer.gateway.listen = "127.0.0.1:1".parse().unwrap();
        let reload = running.reload(&newer);
        assert_eq!(reload.applied, ["gateway.rate_limit", "sim.rate"]);
        assert_eq!(reload.pending, ["gateway.listen"]);
        let view = running.view();
        assert_eq!(view.settings["gateway"]["rate_limit"], 3);
        assert_eq!(view.settings["sim"]["rate"], "max");
        assert_eq!(view.settings["gateway"]["listen"], "127.0.0.1:8080");
        assert_eq!(view.restart_pending, ["gateway.listen"]);
        assert!(view.reloaded_at.is_some());
        let reverted = running.reload(&Config::default());
        assert_eq!(reverted.applied, ["gateway.rate_limit", "sim.rate"]);
        assert!(reverted.pending.is_empty());
    }

    #[test]
    fn secrets_are_redacted_yet_their_changes_are_seen() {
        let secret = all_changed();
        let json = secret.to_json();
        assert_eq!(json["kafka"]["properties"]["sasl.password"], "***");
        assert!(!json.to_string().contains("hunter2"));
        let mut changed = secret.clone();
        changed.kafka.properties.insert(
            "sasl.password".into(),
            super::super::PropertyValue::Text("other".into()),
        );
        assert_eq!(
            secret.differences(&changed),
            ["kafka.properties.sasl.password"]
        );
        let mut rekeyed = secret.clone();
        rekeyed.kafka.schema_registry_auth = "a:b".into();
        changed.kafka.schema_registry_auth = "a:c".into();
        assert!(
            rekeyed
                .differences(&changed)
                .contains(&"kafka.schema_registry_auth".to_owned())
        );
        assert_eq!(rekeyed.to_json()["kafka"]["schema_registry_auth"], "***");
    }
}
