//! One typed configuration for every deployment: a TOML file, then
//! `TICKSTREAM_<SECTION>__<KEY>` environment variables and command-line
//! flags laid over it ([`Layer`]), validated once at start, section by
//! section, with errors that name the key and where it was set.

mod gateway;
mod kafka;
mod layers;
mod running;
mod validate;

pub use gateway::GatewayConfig;
pub use kafka::{Format, KafkaConfig, PropertyValue, StartPosition, is_secret, runs_code};
pub use layers::{ENV_PREFIX, Layer};
pub use running::{LIVE_KEYS, Reload, Running};

use std::{
    fmt,
    path::{Path, PathBuf},
    time::Duration,
};

use serde::{Deserialize, Serialize};

use crate::{
    component::Restart,
    gateway::{ClientLimits, Keepalive, StreamLimits},
    log::{LogSettings, Retention},
    sim::{
        Calendar, CalendarKind, Correlations, Model, Pacing, Rate, SimSettings, SourceSettings,
        Speed, SymbolSpec, default_universe,
    },
    store::{WriterSettings, backup::Schedule},
};

/// The whole configuration. Every field has a default; a config file only
/// names what it changes. Unknown keys are errors.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// HTTP gateway: WebSocket, REST, metrics, dashboard.
    pub gateway: GatewayConfig,
    /// SQLite store.
    pub store: StoreConfig,
    /// Market simulator.
    pub sim: SimConfig,
    /// In-process log.
    pub log: LogConfig,
    /// Kafka cluster (producer, bridge, `run --brokers`).
    pub kafka: KafkaConfig,
    /// Restarts of failed components.
    pub supervision: SupervisionConfig,
    /// What the process logs.
    pub logging: LoggingConfig,
    /// Paper trading.
    pub trading: TradingConfig,
}

/// `[trading]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TradingConfig {
    /// Cash of a new paper account (and of `paper`, the one every engine
    /// opens) unless it says otherwise.
    pub starting_cash: f64,
    /// Fee per share filled, in currency.
    pub fee_per_share: f64,
    /// Fee as a fraction of each fill's notional, e.g. 0.0001 (1 bp).
    pub fee_rate: f64,
}

impl Default for TradingConfig {
    fn default() -> Self {
        Self {
            starting_cash: 100_000.0,
            fee_per_share: 0.0,
            fee_rate: 0.0,
        }
    }
}

impl TradingConfig {
    /// The settings paper trading runs with.
    pub fn settings(&self) -> crate::trading::TradingSettings {
        crate::trading::TradingSettings {
            starting_cash: self.starting_cash,
            fees: crate::trading::Fees {
                per_share: self.fee_per_share,
                rate: self.fee_rate,
            },
        }
    }
}

/// `[logging]`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingConfig {
    /// Levels per module, as `RUST_LOG` writes them, e.g.
    /// `"info,tickstream::kafka=debug"`; applied again on SIGHUP or when the
    /// file changes. `TICKSTREAM_LOG`, then `RUST_LOG`, take precedence;
    /// empty (the default): `info`.
    pub filter: String,
}

/// `[supervision]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SupervisionConfig {
    /// Restarts of a failed component that can start afresh (the quote and
    /// alert followers, the metrics sampler) allowed within
    /// `restart_window`; the failure after that (or any failure of another
    /// component) stops the process non-zero. 0: no restarts.
    pub restarts: u32,
    /// The window `restarts` are counted in, e.g. `"1m"`.
    #[serde(with = "humantime_serde")]
    pub restart_window: Duration,
}

impl Default for SupervisionConfig {
    fn default() -> Self {
        Self {
            restarts: 3,
            restart_window: Duration::from_secs(60),
        }
    }
}

/// `[store]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Directory of `tickstream.db`.
    pub data_dir: PathBuf,
    /// How long ticks and 1-second candles are kept, e.g. `"24h"`.
    #[serde(with = "humantime_serde")]
    pub retention: Duration,
    /// Longest wait before ticks are committed, e.g. `"50ms"`.
    #[serde(with = "humantime_serde")]
    pub flush_interval: Duration,
    /// Most ticks per transaction.
    pub max_batch: usize,
    /// How long audit log entries are kept, e.g. `"90days"`.
    #[serde(with = "humantime_serde")]
    pub audit_retention: Duration,
    /// Scheduled backups.
    pub backup: BackupConfig,
}

/// `[store.backup]`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackupConfig {
    /// Time between two backups, e.g. `"6h"`; `"0s"` (the default): none.
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
    /// Backups kept (the oldest are removed).
    pub keep: usize,
    /// Where they go; empty: `backups` in the data directory.
    pub dir: PathBuf,
}

/// `[sim]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimConfig {
    /// Random seed; the same seed gives the same prices.
    pub seed: u64,
    /// Ticks per second over all symbols, or `"max"`.
    #[serde(deserialize_with = "deserialize_rate")]
    pub rate: Rate,
    /// The simulated universe; about 20 large US equities when empty.
    pub symbols: Vec<SymbolSpec>,
    /// The market model: `"realistic"` or `"random_walk"`.
    pub model: Model,
    /// How fast market time runs: `1` (real time), `10`, `100`, … or `"max"`.
    #[serde(deserialize_with = "deserialize_speed")]
    pub speed: Speed,
    /// When the market trades: `"always_open"` (24/7) or `"nyse"`.
    pub calendar: CalendarKind,
    /// With the NYSE calendar: pre-market (from 04:00) and after-hours
    /// (until 20:00) trading.
    pub extended_hours: bool,
    /// Extra days without trading (NYSE calendar), e.g. `["2026-12-31"]`.
    pub holidays: Vec<chrono::NaiveDate>,
    /// Target correlations of daily returns: `[sim.correlation]`.
    pub correlation: Correlations,
    /// History simulated at start, up to now (default `"1day"`; `"0s"`:
    /// none): stored as candles so charts have depth at once. After a
    /// restart only the gap since the last stored candle is simulated.
    #[serde(with = "humantime_serde")]
    pub backfill: Duration,
    /// Ticks per second of market time while backfilling (volumes are
    /// scaled to the live rate).
    pub backfill_rate: u32,
    /// Simulate each symbol's order book (ten levels a side): trades take
    /// liquidity from it, and its changes and quotes are published on
    /// `order_book` and `stock_quotes` (the local log, or Kafka for `producer`).
    pub order_book: bool,
    /// Apply limit-up/limit-down price bands (trading pauses), announce the
    /// short-sale restriction and publish auction imbalances, as US equity
    /// markets do.
    pub market_rules: bool,
}

/// `[log]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// Partitions of `stock_ticks`.
    pub partitions: u32,
    /// Most records kept per partition.
    pub retention_records: usize,
    /// Most bytes kept per partition.
    pub retention_bytes: usize,
    /// Prefix of every topic name.
    pub topic_prefix: String,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            retention: Duration::from_secs(24 * 3600),
            audit_retention: Duration::from_secs(90 * 24 * 3600),
            flush_interval: Duration::from_millis(50),
            max_batch: 50_000,
            backup: BackupConfig {
                interval: Duration::ZERO,
                keep: 7,
                dir: PathBuf::new(),
            },
        }
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            rate: Rate::PerSecond(1_000),
            symbols: Vec::new(),
            model: Model::default(),
            speed: Speed::Times(1.0),
            calendar: CalendarKind::default(),
            extended_hours: false,
            holidays: Vec::new(),
            correlation: Correlations::default(),
            backfill: Duration::from_secs(86_400),
            backfill_rate: 20,
            order_book: true,
            market_rules: true,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            partitions: 8,
            retention_records: 250_000,
            retention_bytes: 32 * 1024 * 1024,
            topic_prefix: String::new(),
        }
    }
}

fn deserialize_rate<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Rate, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(u64),
        Text(String),
    }
    match Raw::deserialize(deserializer)? {
        Raw::Number(n) => n.to_string().parse(),
        Raw::Text(s) => s.parse(),
    }
    .map_err(serde::de::Error::custom)
}

fn deserialize_speed<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Speed, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(f64),
        Text(String),
    }
    match Raw::deserialize(deserializer)? {
        Raw::Number(n) => n.to_string().parse(),
        Raw::Text(s) => s.parse(),
    }
    .map_err(serde::de::Error::custom)
}

/// One thing wrong with a configuration: the key and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted key, e.g. `log.partitions`.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has a key of the wrong type or name.
    #[error("invalid config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, naming the key and line.
        message: String,
    },
    /// A variable or flag names no setting, or holds a value its setting
    /// does not take.
    #[error("{origin} ({key}): {message}")]
    Setting {
        /// The variable or flag, e.g. `TICKSTREAM_LOG__PARTITIONS`.
        origin: String,
        /// The dotted key it sets.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// Values are out of range; every problem is listed.
    #[error("invalid configuration:\n{}", .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
}

impl Config {
    /// Reads `file` (when given), lays `layers` over it in order (the
    /// environment, then flags: later wins) and validates.
    ///
    /// # Errors
    /// Returns a [`ConfigError`] naming the file, variable or flag, the key
    /// and the problem.
    pub fn load(file: Option<&Path>, layers: &[Layer]) -> Result<Self, ConfigError> {
        let mut table = match file {
            Some(path) => Self::read_toml_file(path)?,
            None => toml::Table::new(),
        };
        for layer in layers {
            layer.apply_to(&mut table);
        }
        // Each part was checked on its own; together they still fit.
        let config: Self = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| {
                ConfigError::Invalid(vec![Problem {
                    key: "(file, environment and flags together)".into(),
                    message: e.message().to_owned(),
                }])
            })?;
        config.validate().map_err(ConfigError::Invalid)?;
        Ok(config)
    }

    /// The file as a table, after checking that it is a valid configuration
    /// on its own (so its errors name the line).
    fn read_toml_file(path: &Path) -> Result<toml::Table, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let parse_error = |message: String| ConfigError::Parse {
            path: path.to_owned(),
            message: message.trim_end().to_owned(),
        };
        toml::from_str::<Self>(&text).map_err(|e| parse_error(e.to_string()))?;
        toml::from_str(&text).map_err(|e| parse_error(e.to_string()))
    }

    /// The simulated universe: the configured symbols, or the default one.
    pub fn universe(&self) -> Vec<SymbolSpec> {
        if self.sim.symbols.is_empty() {
            default_universe()
        } else {
            self.sim.symbols.clone()
        }
    }

    /// The market calendar.
    pub fn calendar(&self) -> Calendar {
        Calendar {
            kind: self.sim.calendar,
            extended_hours: self.sim.extended_hours,
            holidays: self.sim.holidays.clone(),
        }
    }

    /// How fast the live simulator runs.
    pub fn pacing(&self) -> Pacing {
        Pacing {
            rate: self.sim.rate,
            speed: self.sim.speed,
        }
    }

    /// The simulator's settings, starting at `start`.
    pub fn sim_settings(&self, start: chrono::DateTime<chrono::Utc>) -> SimSettings {
        SimSettings {
            seed: self.sim.seed,
            rate: self.sim.rate.nominal_per_second(),
            model: self.sim.model,
            correlations: self.sim.correlation,
            calendar: self.calendar(),
            start,
        }
    }

    /// How the live simulator is paced and announced.
    pub fn source_settings(&self) -> SourceSettings {
        SourceSettings {
            pacing: self.pacing(),
            calendar: self.sim.calendar,
            seed: self.sim.seed,
            order_book: self.sim.order_book,
            market_rules: self.sim.market_rules,
        }
    }

    /// Bounds on one client's stream.
    pub fn stream_limits(&self) -> StreamLimits {
        let g = &self.gateway;
        StreamLimits {
            max_frame_bytes: g.max_frame_bytes,
            max_symbols_per_client: g.max_symbols_per_client,
            frame_rate: g.ws_frame_rate,
            keepalive: Keepalive {
                every: g.ping_interval,
                misses: g.ping_misses,
            },
            write_timeout: g.write_timeout,
        }
    }

    /// What the gateway allows one client, and all of them.
    pub fn client_limits(&self) -> ClientLimits {
        let g = &self.gateway;
        ClientLimits {
            max_connections: g.max_connections,
            max_connections_per_ip: g.max_connections_per_ip,
            rate_limit: g.rate_limit,
            rate_burst: g.rate_burst,
            request_timeout: g.request_timeout,
        }
    }

    /// The log's settings.
    pub fn log_settings(&self) -> LogSettings {
        LogSettings {
            topic_prefix: self.log.topic_prefix.clone(),
            partitions: self.log.partitions,
            retention: Retention {
                max_records: self.log.retention_records,
                max_bytes: self.log.retention_bytes,
            },
        }
    }

    /// The store writer's settings.
    pub fn writer_settings(&self) -> WriterSettings {
        WriterSettings {
            flush_interval: self.store.flush_interval,
            max_batch: self.store.max_batch,
            retention: self.store.retention,
        }
    }

    /// How a component that can start afresh is restarted.
    pub fn restart_policy(&self) -> Restart {
        Restart {
            max: self.supervision.restarts,
            window: self.supervision.restart_window,
        }
    }

    /// The backup schedule, when one is set.
    pub fn backup_schedule(&self) -> Option<Schedule> {
        let backup = &self.store.backup;
        (!backup.interval.is_zero()).then(|| Schedule {
            dir: if backup.dir.as_os_str().is_empty() {
                self.store.data_dir.join("backups")
            } else {
                backup.dir.clone()
            },
            every: backup.interval,
            keep: backup.keep,
        })
    }

    /// The database file.
    pub fn database_path(&self) -> PathBuf {
        self.store.data_dir.join("tickstream.db")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tickstream.toml");
        std::fs::write(&path, text).unwrap();
        Config::load(Some(&path), &[])
    }

    #[test]
    fn defaults_are_valid() {
        let c = Config::load(None, &[]).unwrap();
        assert_eq!(c.gateway.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.universe().len(), 20);
    }

    #[test]
    fn file_values_and_flags_apply_in_order() {
        let c =
            load_text("[sim]\nseed = 7\nrate = \"max\"\n[store]\nretention = \"2h\"\n").unwrap();
        assert_eq!((c.sim.seed, c.sim.rate), (7, Rate::Max));
        assert_eq!(c.store.retention, Duration::from_secs(7200));
        let mut flags = Layer::new();
        flags.set("sim.seed", Some("9"), "--seed").unwrap();
        assert_eq!(Config::load(None, &[flags]).unwrap().sim.seed, 9);
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = load_text("[gateway]\nlisten_addr = \"0.0.0.0:1\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("listen_addr"), "{err}");
    }

    #[test]
    fn wrong_types_are_named() {
        let err = load_text("[gateway]\nlisten = \"not an address\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("listen"), "{err}");
        let err = load_text("[sim]\nrate = \"fast\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("rate") && err.contains("max"), "{err}");
    }

    #[test]
    fn every_out_of_range_value_is_reported() {
        let err = load_text(
            "[log]\npartitions = 0\n[store]\nmax_batch = 0\n[[sim.symbols]]\nsymbol = \"ABC\"\nprice = -1\ntick_size = 0.03\n",
        )
        .unwrap_err();
        let ConfigError::Invalid(problems) = err else {
            panic!("{err}")
        };
        let keys: Vec<_> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "store.max_batch",
                "log.partitions",
                "sim.symbols[0].price",
                "sim.symbols[0].tick_size"
            ]
        );
    }

    #[test]
    fn invalid_symbols_in_the_file_are_named() {
        let err = load_text("[[sim.symbols]]\nsymbol = \"bad sym\"\nprice = 1.0\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("symbol") && err.contains("bad sym"), "{err}");
    }

    #[test]
    fn the_example_config_is_valid_and_matches_the_defaults() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../headless/tickstream.example.toml");
        let c = Config::load(Some(&path), &[]).unwrap();
        let d = Config::default();
        assert_eq!(c.gateway.listen, d.gateway.listen);
        assert_eq!(c.store.retention, d.store.retention);
        assert_eq!((c.sim.seed, c.sim.rate), (d.sim.seed, d.sim.rate));
        assert_eq!(c.log.retention_bytes, d.log.retention_bytes);
    }

    #[test]
    fn kafka_properties_pass_through_and_secrets_are_redacted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tickstream.toml");
        std::fs::write(
            &path,
            "[kafka]\nbrokers = \"k1:9092\"\n[kafka.properties]\n\"linger.ms\" = 20\n\"sasl.password\" = \"hunter2\"\n",
        )
        .unwrap();
        let mut flags = Layer::new();
        flags.set_property("security.protocol", "SASL_PLAINTEXT");
        let c = Config::load(Some(&path), &[flags]).unwrap();
        let props = c
            .kafka
            .client_properties(&[("linger.ms", "5"), ("acks", "all")]);
        assert_eq!(props["bootstrap.servers"], "k1:9092");
        assert_eq!(props["linger.ms"], "20", "the file overrides the defaults");
        assert_eq!(props["acks"], "all");
        assert_eq!(props["security.protocol"], "SASL_PLAINTEXT");
        let shown = KafkaConfig::redacted(&props);
        assert!(
            shown.contains("sasl.password=***") && !shown.contains("hunter2"),
            "{shown}"
        );
        assert!(!format!("{:?}", c.kafka).contains("hunter2"));
    }

    #[test]
    fn kafka_start_positions_parse() {
        assert_eq!("earliest".parse(), Ok(StartPosition::Earliest));
        assert!(matches!(
            "2026-11-24T14:30:00Z".parse(),
            Ok(StartPosition::Time(_))
        ));
        let err = load_text("[kafka]\nstart = \"yesterday\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("start") && err.contains("earliest"), "{err}");
    }

    #[test]
    fn a_missing_file_is_named() {
        let err = Config::load(Some(Path::new("/nonexistent/t.toml")), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/t.toml"), "{err}");
    }
}
