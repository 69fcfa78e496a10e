//! One typed configuration for every deployment: a TOML file, then
//! `TICKSTREAM_*` environment variables and command-line flags on top,
//! validated once at start with errors that name the key.

use std::{
    collections::{BTreeMap, HashSet},
    fmt,
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use serde::Deserialize;

use crate::{
    gateway::StreamLimits,
    log::{LogSettings, Retention},
    sim::{
        Calendar, CalendarKind, Correlations, Model, Rate, SimSettings, SourceSettings, Speed,
        SymbolSpec, default_universe,
    },
    store::WriterSettings,
};

/// The whole configuration. Every field has a default; a config file only
/// names what it changes. Unknown keys are errors.
#[derive(Debug, Clone, Default, Deserialize)]
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
}

/// `[kafka]`: typed settings, plus `[kafka.properties]`, librdkafka
/// properties passed through unchanged (SASL, SSL, timeouts…). Secrets are
/// redacted in `Debug` output and logs.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// Bootstrap servers (`bootstrap.servers`), e.g. `"k1:9092,k2:9092"`.
    pub brokers: String,
    /// Replication factor of the topics Tickstream creates.
    pub replication_factor: i32,
    /// Where a bridge starts reading.
    pub start: StartPosition,
    /// librdkafka properties, e.g. `"security.protocol" = "SASL_SSL"`.
    pub properties: BTreeMap<String, PropertyValue>,
}

/// A librdkafka property value: written as a TOML string, number or boolean,
/// passed on as text.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum PropertyValue {
    /// `"lz4"`
    Text(String),
    /// `5`
    Integer(i64),
    /// `0.5`
    Float(f64),
    /// `true`
    Bool(bool),
}

impl fmt::Display for PropertyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PropertyValue::Text(s) => f.write_str(s),
            PropertyValue::Integer(n) => write!(f, "{n}"),
            PropertyValue::Float(x) => write!(f, "{x}"),
            PropertyValue::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// Where a bridge starts reading each partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartPosition {
    /// New messages only.
    #[default]
    Latest,
    /// Everything the cluster retains.
    Earliest,
    /// The first message at or after this time.
    Time(chrono::DateTime<chrono::Utc>),
    /// Where this bridge's store left off (latest for partitions it never read).
    Stored,
}

impl std::str::FromStr for StartPosition {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "latest" => Ok(Self::Latest),
            "earliest" => Ok(Self::Earliest),
            "stored" => Ok(Self::Stored),
            _ => crate::model::timestamp::parse(s)
                .map(Self::Time)
                .map_err(|_| {
                    format!(
                        "invalid start {s:?}: expected latest, earliest, stored or an RFC 3339 time"
                    )
                }),
        }
    }
}

impl<'de> Deserialize<'de> for StartPosition {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            brokers: String::new(),
            replication_factor: 1,
            start: StartPosition::Latest,
            properties: BTreeMap::new(),
        }
    }
}

/// Whether a librdkafka property holds a secret.
pub fn is_secret(key: &str) -> bool {
    ["password", "secret", "key.pem", "private.key", "token"]
        .iter()
        .any(|word| key.contains(word))
}

impl KafkaConfig {
    /// Whether Kafka is configured.
    pub fn enabled(&self) -> bool {
        !self.brokers.trim().is_empty()
    }

    /// Every property passed to librdkafka: `defaults`, then
    /// `bootstrap.servers`, then `[kafka.properties]` (which win).
    pub fn client_properties(&self, defaults: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut all: BTreeMap<String, String> = defaults
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        all.insert("bootstrap.servers".into(), self.brokers.clone());
        for (k, v) in &self.properties {
            all.insert(k.clone(), v.to_string());
        }
        all
    }

    /// `client_properties` with secrets replaced by `***`, for logs.
    pub fn redacted(properties: &BTreeMap<String, String>) -> String {
        properties
            .iter()
            .map(|(k, v)| format!("{k}={}", if is_secret(k) { "***" } else { v }))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl fmt::Debug for KafkaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let properties: BTreeMap<&str, String> = self
            .properties
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str(),
                    if is_secret(k) {
                        "***".into()
                    } else {
                        v.to_string()
                    },
                )
            })
            .collect();
        f.debug_struct("KafkaConfig")
            .field("brokers", &self.brokers)
            .field("replication_factor", &self.replication_factor)
            .field("start", &self.start)
            .field("properties", &properties)
            .finish()
    }
}

/// `[gateway]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Largest client frame accepted, in bytes; larger ones get an error frame.
    pub max_frame_bytes: usize,
    /// Most symbols one WebSocket client may subscribe to.
    pub max_symbols_per_client: usize,
    /// Directory of the built dashboard; found automatically when unset.
    pub ui_dir: Option<PathBuf>,
}

/// `[store]`
#[derive(Debug, Clone, Deserialize)]
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
}

/// `[sim]`
#[derive(Debug, Clone, Deserialize)]
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
}

/// `[log]`
#[derive(Debug, Clone, Deserialize)]
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

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_frame_bytes: 16 * 1024,
            max_symbols_per_client: 1_000,
            ui_dir: None,
        }
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            retention: Duration::from_secs(24 * 3600),
            flush_interval: Duration::from_millis(50),
            max_batch: 50_000,
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

/// Values from the command line or environment that override the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--listen` / `TICKSTREAM_LISTEN`.
    pub listen: Option<SocketAddr>,
    /// `--data-dir` / `TICKSTREAM_DATA_DIR`.
    pub data_dir: Option<PathBuf>,
    /// `--seed` / `TICKSTREAM_SEED`.
    pub seed: Option<u64>,
    /// `--rate` / `TICKSTREAM_RATE`.
    pub rate: Option<Rate>,
    /// `--speed` / `TICKSTREAM_SPEED`.
    pub speed: Option<Speed>,
    /// `--calendar` / `TICKSTREAM_CALENDAR`.
    pub calendar: Option<CalendarKind>,
    /// `--backfill` / `TICKSTREAM_BACKFILL`.
    pub backfill: Option<Duration>,
    /// `--brokers` / `TICKSTREAM_BROKERS`.
    pub brokers: Option<String>,
    /// `--replication-factor` / `TICKSTREAM_REPLICATION_FACTOR`.
    pub replication_factor: Option<i32>,
    /// `--start` / `TICKSTREAM_START`.
    pub start: Option<StartPosition>,
    /// `-X key=value` and `TICKSTREAM_KAFKA__KEY` (librdkafka properties).
    pub properties: Vec<(String, String)>,
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
    /// Values are out of range; every problem is listed.
    #[error("invalid configuration:\n{}", .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
}

impl Config {
    /// Reads `file` (when given), applies `overrides` and validates.
    ///
    /// # Errors
    /// Returns a [`ConfigError`] naming the file, key and problem.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        let mut config = match file {
            Some(path) => Self::from_toml_file(path)?,
            None => Self::default(),
        };
        config.apply(overrides);
        config.validate().map_err(ConfigError::Invalid)?;
        Ok(config)
    }

    fn from_toml_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })
    }

    /// Applies command-line and environment overrides.
    pub fn apply(&mut self, overrides: &Overrides) {
        if let Some(listen) = overrides.listen {
            self.gateway.listen = listen;
        }
        if let Some(dir) = &overrides.data_dir {
            self.store.data_dir = dir.clone();
        }
        if let Some(seed) = overrides.seed {
            self.sim.seed = seed;
        }
        if let Some(rate) = overrides.rate {
            self.sim.rate = rate;
        }
        if let Some(speed) = overrides.speed {
            self.sim.speed = speed;
        }
        if let Some(calendar) = overrides.calendar {
            self.sim.calendar = calendar;
        }
        if let Some(backfill) = overrides.backfill {
            self.sim.backfill = backfill;
        }
        if let Some(brokers) = &overrides.brokers {
            self.kafka.brokers = brokers.clone();
        }
        if let Some(factor) = overrides.replication_factor {
            self.kafka.replication_factor = factor;
        }
        if let Some(start) = overrides.start {
            self.kafka.start = start;
        }
        for (k, v) in &overrides.properties {
            self.kafka
                .properties
                .insert(k.clone(), PropertyValue::Text(v.clone()));
        }
    }

    /// Checks every value; returns every problem found.
    ///
    /// # Errors
    /// Returns the list of problems, each naming its key.
    pub fn validate(&self) -> Result<(), Vec<Problem>> {
        let mut problems = Vec::new();
        let mut check = |ok: bool, key: &str, message: String| {
            if !ok {
                problems.push(Problem {
                    key: key.to_owned(),
                    message,
                });
            }
        };
        let g = &self.gateway;
        check(
            (256..=1 << 20).contains(&g.max_frame_bytes),
            "gateway.max_frame_bytes",
            format!("must be between 256 and 1048576, got {}", g.max_frame_bytes),
        );
        check(
            g.max_symbols_per_client >= 1,
            "gateway.max_symbols_per_client",
            "must be at least 1".into(),
        );
        if let Some(dir) = &g.ui_dir {
            check(
                dir.join("index.html").is_file(),
                "gateway.ui_dir",
                format!("{} has no index.html", dir.display()),
            );
        }
        let s = &self.store;
        check(
            s.retention >= Duration::from_secs(1),
            "store.retention",
            "must be at least 1s".into(),
        );
        check(
            (Duration::from_millis(1)..=Duration::from_secs(60)).contains(&s.flush_interval),
            "store.flush_interval",
            format!("must be between 1ms and 60s, got {:?}", s.flush_interval),
        );
        check(
            (1..=1_000_000).contains(&s.max_batch),
            "store.max_batch",
            format!("must be between 1 and 1000000, got {}", s.max_batch),
        );
        let l = &self.log;
        check(
            (1..=1_024).contains(&l.partitions),
            "log.partitions",
            format!("must be between 1 and 1024, got {}", l.partitions),
        );
        check(
            l.retention_records >= 1,
            "log.retention_records",
            "must be at least 1".into(),
        );
        check(
            l.retention_bytes >= 4_096,
            "log.retention_bytes",
            format!("must be at least 4096, got {}", l.retention_bytes),
        );
        check(
            l.topic_prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')),
            "log.topic_prefix",
            format!(
                "{:?} may only hold ASCII letters, digits, '.', '_' and '-'",
                l.topic_prefix
            ),
        );
        check(
            self.kafka.replication_factor >= 1,
            "kafka.replication_factor",
            format!("must be at least 1, got {}", self.kafka.replication_factor),
        );
        for key in self.kafka.properties.keys() {
            check(
                !key.is_empty()
                    && key
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_'),
                &format!("kafka.properties.{key}"),
                "is not a librdkafka property name (letters, digits and dots)".into(),
            );
        }
        if let Some(message) = self.sim.correlation.problem() {
            check(false, "sim.correlation", message);
        }
        check(
            self.sim.backfill <= Duration::from_secs(366 * 86_400),
            "sim.backfill",
            "must be at most 366 days".into(),
        );
        check(
            (1..=100_000).contains(&self.sim.backfill_rate),
            "sim.backfill_rate",
            format!(
                "must be between 1 and 100000, got {}",
                self.sim.backfill_rate
            ),
        );
        let mut seen = HashSet::new();
        for (i, spec) in self.sim.symbols.iter().enumerate() {
            let key = |field: &str| format!("sim.symbols[{i}].{field}");
            check(
                seen.insert(spec.symbol.clone()),
                &key("symbol"),
                format!("{} is listed twice", spec.symbol),
            );
            check(
                spec.price.is_finite() && spec.price > 0.0,
                &key("price"),
                format!("must be a positive number, got {}", spec.price),
            );
            let steps = 1.0 / spec.tick_size;
            check(
                spec.tick_size > 0.0
                    && spec.tick_size <= 1.0
                    && (steps - steps.round()).abs() < 1e-6,
                &key("tick_size"),
                format!(
                    "must divide 1 evenly (e.g. 0.01, 0.0001), got {}",
                    spec.tick_size
                ),
            );
            check(
                (0.0..=5.0).contains(&spec.volatility),
                &key("volatility"),
                format!(
                    "must be between 0 and 5 (annualised), got {}",
                    spec.volatility
                ),
            );
            check(
                (-1.0..=1.0).contains(&spec.drift),
                &key("drift"),
                format!("must be between -1 and 1 (annualised), got {}", spec.drift),
            );
            let max_beta = self.sim.correlation.max_beta(spec.sector.is_some());
            check(
                (0.0..=max_beta).contains(&spec.beta),
                &key("beta"),
                format!(
                    "must be between 0 and {max_beta:.2} with these correlations, got {}",
                    spec.beta
                ),
            );
            check(
                spec.spread_bps > 0.0 && spec.spread_bps <= 1_000.0,
                &key("spread_bps"),
                format!("must be above 0 and at most 1000, got {}", spec.spread_bps),
            );
            check(
                (100.0..=1e11).contains(&spec.adv),
                &key("adv"),
                format!(
                    "must be between 100 and 1e11 shares a day, got {}",
                    spec.adv
                ),
            );
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
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

    /// How fast the live simulator runs: `rate = "max"` is the same as
    /// `speed = "max"` at 10 000 ticks/s of market time.
    pub fn speed(&self) -> Speed {
        match self.sim.rate {
            Rate::Max => Speed::Max,
            Rate::PerSecond(_) => self.sim.speed,
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
            speed: self.speed(),
            rate: self.sim.rate,
            calendar: self.sim.calendar,
            seed: self.sim.seed,
        }
    }

    /// Bounds on one client's stream.
    pub fn stream_limits(&self) -> StreamLimits {
        StreamLimits {
            max_frame_bytes: self.gateway.max_frame_bytes,
            max_symbols_per_client: self.gateway.max_symbols_per_client,
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
        Config::load(Some(&path), &Overrides::default())
    }

    #[test]
    fn defaults_are_valid() {
        let c = Config::load(None, &Overrides::default()).unwrap();
        assert_eq!(c.gateway.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.universe().len(), 20);
    }

    #[test]
    fn file_values_and_overrides_apply_in_order() {
        let c =
            load_text("[sim]\nseed = 7\nrate = \"max\"\n[store]\nretention = \"2h\"\n").unwrap();
        assert_eq!((c.sim.seed, c.sim.rate), (7, Rate::Max));
        assert_eq!(c.store.retention, Duration::from_secs(7200));
        let mut c = c;
        c.apply(&Overrides {
            seed: Some(9),
            ..Overrides::default()
        });
        assert_eq!(c.sim.seed, 9);
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
        let c = Config::load(Some(&path), &Overrides::default()).unwrap();
        let d = Config::default();
        assert_eq!(c.gateway.listen, d.gateway.listen);
        assert_eq!(c.store.retention, d.store.retention);
        assert_eq!((c.sim.seed, c.sim.rate), (d.sim.seed, d.sim.rate));
        assert_eq!(c.log.retention_bytes, d.log.retention_bytes);
    }

    #[test]
    fn kafka_properties_pass_through_and_secrets_are_redacted() {
        let mut c = load_text(
            "[kafka]\nbrokers = \"k1:9092\"\n[kafka.properties]\n\"linger.ms\" = 20\n\"sasl.password\" = \"hunter2\"\n",
        )
        .unwrap();
        c.apply(&Overrides {
            properties: vec![("security.protocol".into(), "SASL_PLAINTEXT".into())],
            ..Overrides::default()
        });
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
        let err = Config::load(
            Some(Path::new("/nonexistent/t.toml")),
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("/nonexistent/t.toml"), "{err}");
    }
}
