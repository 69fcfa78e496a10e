//! The command line: subcommands and flags (clap), which flags set which
//! configuration keys, and the check of `TICKSTREAM_*` variables.

use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{CommandFactory, Parser, Subcommand};
use tickstream::{
    client::{
        KeysAction, SimulateOptions,
        load::{LoadOptions, Mix},
    },
    config::{Config, ConfigError, ENV_PREFIX, Layer},
    model::{NewKey, Scope, protocol::Delivery},
    sim::{CalendarKind, Format, ScenarioRequest, Shard},
};

/// Real-time market data: simulator, log, analytics, store and gateway.
#[derive(Parser)]
#[command(version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// All-in-one: simulator → log → gateway (WebSocket, REST, dashboard) + SQLite store;
    /// with --brokers, simulator → Kafka → log.
    Run(RunArgs),
    /// Simulator → Kafka (serves /metrics, /healthz, /readyz).
    Producer(ProducerArgs),
    /// Kafka → log → gateway (WebSocket, REST, dashboard) + SQLite store.
    Bridge(BridgeArgs),
    /// Print a gateway's live ticks in the terminal.
    Tail(TailArgs),
    /// Write simulated trading days (NYSE sessions by default) to a file or
    /// stdout, without starting any server. Same arguments, same bytes.
    Simulate(SimulateArgs),
    /// Inject a market scenario into a running simulator, or list them.
    ///
    /// KIND is flash_crash, halt, resume, news_shock, regime_change or
    /// sector_rotation; fields as key=value, e.g.
    /// `tickstreamd scenario flash_crash symbol=AAPL depth=0.05 fall=30s recovery=5m`.
    /// Any scenario takes after=DURATION (market time) to start later.
    Scenario(ScenarioArgs),
    /// Play back a stored range of a running daemon's ticks at a speed, and
    /// print them (a table, or one JSON tick per line with --json, each as
    /// the store holds it) until the range ends (`replay_completed`).
    Replay(ReplayArgs),
    /// Create, list or revoke API keys: offline in a data directory (no
    /// daemon running on it), or through a daemon with --url and an admin key.
    Keys(KeysArgs),
    /// Put a load of WebSocket clients on a gateway and report, as JSON on
    /// stdout, what they received (ticks/s, latency p50/p99/p99.9/max,
    /// gaps, closes) and what the gateway's process used.
    Load(LoadArgs),
    /// Copy a data directory's store to a new file while its daemon runs (a
    /// consistent snapshot; writing goes on), with FILE.manifest.json beside
    /// it (time, log positions, size, SHA-256). Prints the manifest.
    Backup(BackupArgs),
    /// Check a store (a data directory's, or a backup --file): SQLite's
    /// integrity check, the log positions against the ticks, the candles.
    /// Prints JSON; exits 1 when it finds a problem.
    Verify(VerifyArgs),
    /// Put a backup in place as a stopped data directory's store, once it
    /// matches its manifest and passes the check; the store it replaces is
    /// kept beside it (tickstream.db.before-restore). With --until, the
    /// newest backup taken by then, and a bridge's ticks replayed from
    /// Kafka up to it. Prints what it did as JSON.
    Restore(RestoreArgs),
}

/// The store an offline command works on (given before or after a
/// subcommand of its own, as in `keys list --data-dir DIR`).
#[derive(clap::Args)]
pub struct StoreArgs {
    /// TOML config file (for store.data_dir).
    #[arg(long, env = "TICKSTREAM_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// The data directory of the SQLite store.
    #[arg(long, env = "TICKSTREAM_DATA_DIR", global = true)]
    pub data_dir: Option<String>,
}

impl StoreArgs {
    /// The configuration these flags, the environment and the file give.
    pub fn load(&self) -> anyhow::Result<Config> {
        let mut flags = Layer::new();
        set_store_and_start(&mut flags, self.data_dir.as_deref(), None)?;
        let environment = Layer::from_env(std::env::vars())?;
        Ok(Config::load(self.config.as_deref(), &[environment, flags])?)
    }
}

#[derive(clap::Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The backup file to create (never overwritten).
    #[arg(long)]
    pub to: PathBuf,
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// A backup file to check instead of the data directory's store.
    #[arg(long)]
    pub file: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The backup to restore, or a directory of them (store.backup.dir):
    /// the newest there, or with --until the newest taken by then.
    #[arg(long)]
    pub from: PathBuf,
    /// Point in time (RFC 3339): restore the newest backup taken by then
    /// and, with --brokers (a bridge's store), replay the cluster's ticks
    /// from the positions it holds up to the records stamped TIME.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub until: Option<DateTime<Utc>>,
    #[command(flatten)]
    pub kafka: KafkaArgs,
}

impl RestoreArgs {
    /// The configuration: the store's, and the cluster's to replay from.
    pub fn load(&self) -> anyhow::Result<Config> {
        let mut flags = Layer::new();
        set_store_and_start(&mut flags, self.store.data_dir.as_deref(), None)?;
        self.kafka.set(&mut flags)?;
        let environment = Layer::from_env(std::env::vars())?;
        Ok(Config::load(
            self.store.config.as_deref(),
            &[environment, flags],
        )?)
    }
}

/// An RFC 3339 time on the command line.
fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    tickstream::model::timestamp::parse(text)
}

#[derive(clap::Args)]
pub struct LoadArgs {
    /// Gateway WebSocket URL.
    #[arg(long, env = "TICKSTREAM_URL", default_value = "ws://127.0.0.1:8080/ws")]
    pub url: String,
    #[command(flatten)]
    pub client: ClientArgs,
    /// Clients that read as fast as they can (measured).
    #[arg(long, default_value_t = 100)]
    pub clients: usize,
    /// What each client subscribes to: all (every symbol), one (one symbol
    /// each, in turn) or watchlist:N (N symbols each).
    #[arg(long, default_value = "all")]
    pub mix: Mix,
    /// Delivery mode of every client: stream or conflate.
    #[arg(long, value_enum, default_value = "stream")]
    pub mode: DeliveryArg,
    /// The clients' batch_ms (0 to 1000).
    #[arg(long)]
    pub batch_ms: Option<u32>,
    /// More clients that pause after every frame (not measured).
    #[arg(long, default_value_t = 0)]
    pub slow: usize,
    /// How long a slow client pauses after a frame.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "250ms")]
    pub slow_pause: std::time::Duration,
    /// More clients that subscribe and then never read.
    #[arg(long, default_value_t = 0)]
    pub stalled: usize,
    /// Connections opened at once.
    #[arg(long, default_value_t = 256)]
    pub connect_concurrency: usize,
    /// Time between the last connection and the measurement.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "5s")]
    pub warmup: std::time::Duration,
    /// Time measured.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "30s")]
    pub duration: std::time::Duration,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum DeliveryArg {
    Stream,
    Conflate,
}

impl LoadArgs {
    /// The load these flags ask for.
    pub fn options(self) -> LoadOptions {
        LoadOptions {
            url: self.url,
            api_key: self.client.api_key,
            ca: self.client.ca,
            clients: self.clients,
            mix: self.mix,
            mode: match self.mode {
                DeliveryArg::Stream => Delivery::Stream,
                DeliveryArg::Conflate => Delivery::Conflate,
            },
            batch_ms: self.batch_ms,
            slow: self.slow,
            slow_pause: self.slow_pause,
            stalled: self.stalled,
            connect_concurrency: self.connect_concurrency,
            warmup: self.warmup,
            duration: self.duration,
        }
    }
}

#[derive(clap::Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub action: KeysCommand,
    /// The store that keeps the keys.
    #[command(flatten)]
    pub store: StoreArgs,
    /// A running daemon's HTTP address instead of the data directory.
    #[arg(long, global = true)]
    pub url: Option<String>,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// A key's name, scope and lifetime, for `keys create` and `keys import`.
#[derive(clap::Args)]
pub struct KeySpec {
    /// Unique name: 1–64 of A–Z a–z 0–9 . _ -
    #[arg(long)]
    name: String,
    /// read (streams, GET), write (+ alerts, watchlists, portfolios) or
    /// admin (+ scenarios, keys, audit).
    #[arg(long)]
    scope: Scope,
    /// How long it lasts from now, e.g. 30d or 12h (default: until revoked).
    #[arg(long)]
    expires: Option<humantime::Duration>,
}

impl From<KeySpec> for NewKey {
    fn from(spec: KeySpec) -> Self {
        NewKey {
            name: spec.name,
            scope: spec.scope,
            expires: spec.expires.map(Into::into),
        }
    }
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Make a key and print it (shown only this once).
    Create(KeySpec),
    /// Store a key made elsewhere (e.g. a Kubernetes Secret), read from a
    /// file or stdin; importing it again under the same name changes
    /// nothing. Data directory only: the API never takes a key's secret.
    Import {
        #[command(flatten)]
        spec: KeySpec,
        /// The file holding the key (as `keys create` printed it); `-`:
        /// stdin.
        #[arg(long, default_value = "-")]
        key_file: PathBuf,
    },
    /// List the keys (names, scopes, prefixes, expiry; never the keys).
    List {
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key: refused from now on, its open streams closed.
    Revoke {
        /// The key's name.
        name: String,
    },
}

/// How a client reaches a daemon: its API key and what TLS it trusts.
#[derive(clap::Args)]
pub struct ClientArgs {
    /// API key, sent as `Authorization: Bearer KEY` (needed once the daemon
    /// has keys; never over plain http/ws beyond loopback).
    #[arg(
        long,
        env = "TICKSTREAM_API_KEY",
        hide_env_values = true,
        global = true
    )]
    pub api_key: Option<String>,
    /// PEM file of CA certificates to trust for https/wss besides the
    /// system's (a private CA, or the daemon's self-signed certificate).
    #[arg(long, env = "TICKSTREAM_CA", global = true)]
    pub ca: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct ScenarioArgs {
    /// The daemon's HTTP address (a `run` or `producer`).
    #[arg(
        long,
        env = "TICKSTREAM_HTTP_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub url: String,
    /// KIND then key=value fields; none: list the scenarios and their states.
    #[arg(value_name = "KIND [KEY=VALUE]...")]
    pub words: Vec<String>,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(clap::Args)]
pub struct ReplayArgs {
    /// The daemon's HTTP address.
    #[arg(
        long,
        env = "TICKSTREAM_HTTP_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub url: String,
    /// The first tick time played (inclusive), RFC 3339.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub from: DateTime<Utc>,
    /// The end (exclusive), RFC 3339; default: now.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub to: Option<DateTime<Utc>>,
    /// Market seconds per wall second (1 is real time, 10, 0.5, …) or `max`
    /// (as fast as this client reads).
    #[arg(long, default_value = "1")]
    pub speed: String,
    /// Comma-separated symbols (default: all).
    #[arg(long, value_delimiter = ',')]
    pub symbols: Vec<String>,
    /// One JSON tick per line instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(clap::Args)]
pub struct SimulateArgs {
    /// TOML config file; its [sim.symbols] replace the default universe.
    #[arg(long, env = "TICKSTREAM_CONFIG")]
    pub config: Option<PathBuf>,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Comma-separated symbols of the universe to simulate (default: all).
    #[arg(long, value_delimiter = ',')]
    pub symbols: Vec<String>,
    /// Trading days to simulate.
    #[arg(long, default_value_t = 1)]
    pub days: u32,
    /// First day, YYYY-MM-DD (weekends are skipped; default: today, UTC).
    #[arg(long)]
    pub start: Option<chrono::NaiveDate>,
    /// Ticks per second of market time at midday, over all symbols.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub rate: u32,
    /// Market calendar: nyse or always_open (24/7, days of 24 hours from midnight UTC).
    #[arg(long, default_value = "nyse")]
    pub calendar: CalendarKind,
    /// Include pre-market (04:00) and after-hours (to 20:00) trading.
    #[arg(long)]
    pub extended_hours: bool,
    /// A scenario, as `KIND key=value …` with after=DURATION from the start
    /// (repeatable), e.g. --scenario "flash_crash symbol=AAPL depth=0.05 after=2h".
    #[arg(long = "scenario", value_name = "SCENARIO", value_parser = parse_scenario)]
    pub scenarios: Vec<ScenarioRequest>,
    /// Also write the market events (sessions, scenarios) as JSON lines here.
    #[arg(long)]
    pub events: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: SimFormat,
    /// Output file (default: stdout).
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum SimFormat {
    Jsonl,
    Csv,
}

#[derive(clap::Args)]
pub struct CommonArgs {
    /// TOML config file (see headless/tickstream.example.toml).
    #[arg(long, env = "TICKSTREAM_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to serve HTTP on.
    #[arg(long, env = "TICKSTREAM_LISTEN")]
    pub listen: Option<String>,
    /// Log format: "text" or "json" (default: text on a terminal, else json).
    #[arg(long, env = "TICKSTREAM_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,
    /// Validate the configuration (file, environment, flags), print it with
    /// secrets redacted, and exit without starting.
    #[arg(long)]
    pub check_config: bool,
    /// Serve a non-loopback --listen without API keys (insecure: anyone who
    /// reaches the port can read and change everything).
    #[arg(long)]
    pub insecure_no_auth: bool,
}

#[derive(clap::Args)]
pub struct SimArgs {
    /// Simulator seed.
    #[arg(long, env = "TICKSTREAM_SEED")]
    pub seed: Option<String>,
    /// Simulator ticks per second over all symbols, or "max".
    #[arg(long, env = "TICKSTREAM_RATE")]
    pub rate: Option<String>,
    /// Market time per wall-clock second: 1 (real time), 10, 100, … or "max".
    #[arg(long, env = "TICKSTREAM_SPEED")]
    pub speed: Option<String>,
    /// Market calendar: always_open (24/7) or nyse.
    #[arg(long, env = "TICKSTREAM_CALENDAR")]
    pub calendar: Option<String>,
    /// History to simulate into the store at start, e.g. 5days (run only).
    #[arg(long, env = "TICKSTREAM_BACKFILL")]
    pub backfill: Option<String>,
}

impl SimArgs {
    /// Sets the simulator's keys these flags give.
    pub fn set(&self, layer: &mut Layer) -> Result<(), ConfigError> {
        layer.set("sim.seed", self.seed.as_deref(), "--seed/TICKSTREAM_SEED")?;
        layer.set("sim.rate", self.rate.as_deref(), "--rate/TICKSTREAM_RATE")?;
        layer.set(
            "sim.speed",
            self.speed.as_deref(),
            "--speed/TICKSTREAM_SPEED",
        )?;
        layer.set(
            "sim.calendar",
            self.calendar.as_deref(),
            "--calendar/TICKSTREAM_CALENDAR",
        )?;
        layer.set(
            "sim.backfill",
            self.backfill.as_deref(),
            "--backfill/TICKSTREAM_BACKFILL",
        )
    }
}

fn parse_scenario(text: &str) -> Result<ScenarioRequest, String> {
    ScenarioRequest::parse_words(text).map_err(|e| e.to_string())
}

#[derive(clap::Args)]
pub struct KafkaArgs {
    /// Kafka bootstrap servers, e.g. k1:9092,k2:9092.
    #[arg(long, env = "TICKSTREAM_BROKERS")]
    pub brokers: Option<String>,
    /// A librdkafka property, passed through unchanged (repeatable), e.g.
    /// -X security.protocol=SASL_PLAINTEXT. Also TICKSTREAM_KAFKA__<NAME>
    /// environment variables (SASL_USERNAME for sasl.username).
    #[arg(short = 'X', value_name = "KEY=VALUE", value_parser = parse_property)]
    pub properties: Vec<(String, String)>,
    /// Replication factor of the topics Tickstream creates.
    #[arg(long, env = "TICKSTREAM_REPLICATION_FACTOR")]
    pub replication_factor: Option<String>,
}

impl KafkaArgs {
    /// Sets the Kafka keys and properties these flags give.
    pub fn set(&self, layer: &mut Layer) -> Result<(), ConfigError> {
        layer.set(
            "kafka.brokers",
            self.brokers.as_deref(),
            "--brokers/TICKSTREAM_BROKERS",
        )?;
        let factor = self.replication_factor.as_deref();
        layer.set(
            "kafka.replication_factor",
            factor,
            "--replication-factor/TICKSTREAM_REPLICATION_FACTOR",
        )?;
        for (name, value) in &self.properties {
            layer.set_property(name, value);
        }
        Ok(())
    }
}

#[derive(clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Directory of the SQLite store.
    #[arg(long, env = "TICKSTREAM_DATA_DIR")]
    pub data_dir: Option<String>,
    #[command(flatten)]
    pub sim: SimArgs,
    #[command(flatten)]
    pub kafka: KafkaArgs,
}

#[derive(clap::Args)]
pub struct ProducerArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub sim: SimArgs,
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// This replica's slice of the symbols: INDEX/COUNT, e.g. 0/2 and 1/2.
    #[arg(long, env = "TICKSTREAM_SHARD", default_value = "0/1")]
    pub shard: Shard,
    /// Directory of the SQLite store whose API keys guard scenario injection.
    #[arg(long, env = "TICKSTREAM_DATA_DIR")]
    pub data_dir: Option<String>,
}

#[derive(clap::Args)]
pub struct BridgeArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Directory of the SQLite store.
    #[arg(long, env = "TICKSTREAM_DATA_DIR")]
    pub data_dir: Option<String>,
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// Where to start reading: latest, earliest, stored, or an RFC 3339 time.
    #[arg(long, env = "TICKSTREAM_START")]
    pub start: Option<String>,
}

#[derive(clap::Args)]
pub struct TailArgs {
    /// Gateway WebSocket URL.
    #[arg(long, env = "TICKSTREAM_URL", default_value = "ws://127.0.0.1:8080/ws")]
    pub url: String,
    #[command(flatten)]
    pub client: ClientArgs,
    /// Read a Kafka cluster directly instead of a gateway (as kcat does).
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// With --brokers: start at the "latest" (default) or "earliest" offset.
    #[arg(long, env = "TICKSTREAM_START")]
    pub start: Option<String>,
    /// With --brokers: the tick topic.
    #[arg(long, default_value = "stock_ticks")]
    pub topic: String,
    /// Comma-separated symbols, or "*" for all.
    #[arg(long, value_delimiter = ',', default_value = "*")]
    pub symbols: Vec<String>,
    /// Print one JSON tick per line instead of a table.
    #[arg(long)]
    pub json: bool,
}

fn parse_property(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!("expected KEY=VALUE, got {text:?}")),
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Variables read outside clap: the log filter, and the tests' fault
/// injection (debug builds; see `tickstream::component`).
const OTHER_VARIABLES: &[&str] = &["TICKSTREAM_LOG", "TICKSTREAM_FAULT"];

/// Refuses `TICKSTREAM_*` variables that are neither a flag's, nor a
/// section's (`TICKSTREAM_<SECTION>__<KEY>`, checked with the
/// configuration), nor the log filter, so a misspelt setting is an error
/// instead of being ignored. Kubernetes' service links for a Service named
/// `tickstream` (`TICKSTREAM_PORT`, `TICKSTREAM_PORT_8080_TCP_ADDR`,
/// `TICKSTREAM_SERVICE_HOST`, …) are not settings and are left alone.
pub fn check_environment() -> anyhow::Result<()> {
    let command = Cli::command();
    let known: Vec<String> = command
        .get_subcommands()
        .flat_map(|sub| sub.get_arguments())
        .filter_map(|arg| arg.get_env())
        .map(|name| name.to_string_lossy().into_owned())
        .chain(OTHER_VARIABLES.iter().map(|s| (*s).to_owned()))
        .collect();
    let service_link =
        |rest: &str| rest == "PORT" || rest.starts_with("PORT_") || rest.starts_with("SERVICE_");
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if !rest.contains("__") && !service_link(rest) && !known.iter().any(|k| *k == name) {
            let mut known = known.clone();
            known.sort();
            known.dedup();
            anyhow::bail!(
                "unknown environment variable {name} (known: {}, and {ENV_PREFIX}<SECTION>__<KEY> for any configuration key)",
                known.join(", ")
            );
        }
    }
    Ok(())
}

/// `--data-dir` and `--start`, as configuration keys.
fn set_store_and_start(
    layer: &mut Layer,
    data_dir: Option<&str>,
    start: Option<&str>,
) -> Result<(), ConfigError> {
    layer.set("store.data_dir", data_dir, "--data-dir/TICKSTREAM_DATA_DIR")?;
    layer.set("kafka.start", start, "--start/TICKSTREAM_START")
}

impl RunArgs {
    /// The configuration keys the flags set.
    pub fn flags(&self) -> Result<Layer, ConfigError> {
        let mut layer = self.common.flags()?;
        self.sim.set(&mut layer)?;
        self.kafka.set(&mut layer)?;
        set_store_and_start(&mut layer, self.data_dir.as_deref(), None)?;
        Ok(layer)
    }
}

impl ProducerArgs {
    /// The configuration keys the flags set.
    pub fn flags(&self) -> Result<Layer, ConfigError> {
        let mut layer = self.common.flags()?;
        self.sim.set(&mut layer)?;
        self.kafka.set(&mut layer)?;
        set_store_and_start(&mut layer, self.data_dir.as_deref(), None)?;
        Ok(layer)
    }
}

impl BridgeArgs {
    /// The configuration keys the flags set.
    pub fn flags(&self) -> Result<Layer, ConfigError> {
        let mut layer = self.common.flags()?;
        self.kafka.set(&mut layer)?;
        set_store_and_start(&mut layer, self.data_dir.as_deref(), self.start.as_deref())?;
        Ok(layer)
    }
}

impl CommonArgs {
    fn flags(&self) -> Result<Layer, ConfigError> {
        let mut layer = Layer::new();
        layer.set(
            "gateway.listen",
            self.listen.as_deref(),
            "--listen/TICKSTREAM_LISTEN",
        )?;
        if self.insecure_no_auth {
            layer.set(
                "gateway.insecure_no_auth",
                Some("true"),
                "--insecure-no-auth",
            )?;
        }
        Ok(layer)
    }
}

impl KeysCommand {
    /// What the library is asked to do (an imported key read from its
    /// file).
    ///
    /// # Errors
    /// The key file cannot be read.
    pub fn into_action(self) -> anyhow::Result<KeysAction> {
        Ok(match self {
            Self::Create(spec) => KeysAction::Create(spec.into()),
            Self::Import { spec, key_file } => {
                let key = if key_file.as_os_str() == "-" {
                    std::io::read_to_string(std::io::stdin().lock())
                        .context("cannot read the key from stdin")?
                } else {
                    std::fs::read_to_string(&key_file)
                        .with_context(|| format!("cannot read {}", key_file.display()))?
                };
                KeysAction::Import(spec.into(), key.trim().to_owned())
            }
            Self::List { .. } => KeysAction::List,
            Self::Revoke { name } => KeysAction::Revoke(name),
        })
    }
}

impl TailArgs {
    /// The Kafka keys the flags set (with `--brokers`).
    pub fn flags(&self) -> Result<Layer, ConfigError> {
        let mut layer = Layer::new();
        self.kafka.set(&mut layer)?;
        set_store_and_start(&mut layer, None, self.start.as_deref())?;
        Ok(layer)
    }
}

impl SimulateArgs {
    /// The simulation these flags ask for.
    pub fn options(self) -> SimulateOptions {
        SimulateOptions {
            config: self.config,
            seed: self.seed,
            symbols: self.symbols,
            days: self.days,
            start: self.start,
            rate: self.rate,
            calendar: self.calendar,
            extended_hours: self.extended_hours,
            scenarios: self.scenarios,
            events: self.events,
            format: match self.format {
                SimFormat::Jsonl => Format::JsonLines,
                SimFormat::Csv => Format::Csv,
            },
            output: self.output,
        }
    }
}
