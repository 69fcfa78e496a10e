//! `tickstreamd`: the headless Tickstream daemon and its terminal consumer.
//! Parses the command line, loads the config, sets up logging, then hands
//! over to the engine.

use std::{io::IsTerminal, path::PathBuf, process::ExitCode, time::Duration};

use anyhow::Context;
use clap::{CommandFactory, Parser, Subcommand};
use tickstream::{
    config::{Config, ConfigError, ENV_PREFIX, Layer},
    engine::{Engine, Role},
    sim::{
        Calendar, CalendarKind, Format, ScenarioRequest, SessionError, SessionPlan, Shard,
        write_sessions,
    },
    tail::{self, TailOptions},
};
use tokio_util::sync::CancellationToken;

/// Real-time market data: simulator, log, analytics, store and gateway.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
}

#[derive(clap::Args)]
struct ScenarioArgs {
    /// The daemon's HTTP address (a `run` or `producer`).
    #[arg(
        long,
        env = "TICKSTREAM_HTTP_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    url: String,
    /// KIND then key=value fields; none: list the scenarios and their states.
    #[arg(value_name = "KIND [KEY=VALUE]...")]
    words: Vec<String>,
}

#[derive(clap::Args)]
struct SimulateArgs {
    /// TOML config file; its [sim.symbols] replace the default universe.
    #[arg(long, env = "TICKSTREAM_CONFIG")]
    config: Option<PathBuf>,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Comma-separated symbols of the universe to simulate (default: all).
    #[arg(long, value_delimiter = ',')]
    symbols: Vec<String>,
    /// Trading days to simulate.
    #[arg(long, default_value_t = 1)]
    days: u32,
    /// First day, YYYY-MM-DD (weekends are skipped; default: today, UTC).
    #[arg(long)]
    start: Option<chrono::NaiveDate>,
    /// Ticks per second of market time at midday, over all symbols.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    rate: u32,
    /// Market calendar: nyse or always_open (24/7, days of 24 hours from midnight UTC).
    #[arg(long, default_value = "nyse")]
    calendar: CalendarKind,
    /// Include pre-market (04:00) and after-hours (to 20:00) trading.
    #[arg(long)]
    extended_hours: bool,
    /// A scenario, as `KIND key=value …` with after=DURATION from the start
    /// (repeatable), e.g. --scenario "flash_crash symbol=AAPL depth=0.05 after=2h".
    #[arg(long = "scenario", value_name = "SCENARIO", value_parser = parse_scenario)]
    scenarios: Vec<ScenarioRequest>,
    /// Also write the market events (sessions, scenarios) as JSON lines here.
    #[arg(long)]
    events: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    format: SimFormat,
    /// Output file (default: stdout).
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum SimFormat {
    Jsonl,
    Csv,
}

#[derive(clap::Args)]
struct CommonArgs {
    /// TOML config file (see headless/tickstream.example.toml).
    #[arg(long, env = "TICKSTREAM_CONFIG")]
    config: Option<PathBuf>,
    /// Address to serve HTTP on.
    #[arg(long, env = "TICKSTREAM_LISTEN")]
    listen: Option<String>,
    /// Log format: "text" or "json" (default: text on a terminal, else json).
    #[arg(long, env = "TICKSTREAM_LOG_FORMAT")]
    log_format: Option<LogFormat>,
    /// Validate the configuration (file, environment, flags), print it with
    /// secrets redacted, and exit without starting.
    #[arg(long)]
    check_config: bool,
}

#[derive(clap::Args)]
struct SimArgs {
    /// Simulator seed.
    #[arg(long, env = "TICKSTREAM_SEED")]
    seed: Option<String>,
    /// Simulator ticks per second over all symbols, or "max".
    #[arg(long, env = "TICKSTREAM_RATE")]
    rate: Option<String>,
    /// Market time per wall-clock second: 1 (real time), 10, 100, … or "max".
    #[arg(long, env = "TICKSTREAM_SPEED")]
    speed: Option<String>,
    /// Market calendar: always_open (24/7) or nyse.
    #[arg(long, env = "TICKSTREAM_CALENDAR")]
    calendar: Option<String>,
    /// History to simulate into the store at start, e.g. 5days (run only).
    #[arg(long, env = "TICKSTREAM_BACKFILL")]
    backfill: Option<String>,
}

impl SimArgs {
    fn set(&self, layer: &mut Layer) -> Result<(), ConfigError> {
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
struct KafkaArgs {
    /// Kafka bootstrap servers, e.g. k1:9092,k2:9092.
    #[arg(long, env = "TICKSTREAM_BROKERS")]
    brokers: Option<String>,
    /// A librdkafka property, passed through unchanged (repeatable), e.g.
    /// -X security.protocol=SASL_PLAINTEXT. Also TICKSTREAM_KAFKA__<NAME>
    /// environment variables (SASL_USERNAME for sasl.username).
    #[arg(short = 'X', value_name = "KEY=VALUE", value_parser = parse_property)]
    properties: Vec<(String, String)>,
    /// Replication factor of the topics Tickstream creates.
    #[arg(long, env = "TICKSTREAM_REPLICATION_FACTOR")]
    replication_factor: Option<String>,
}

impl KafkaArgs {
    fn set(&self, layer: &mut Layer) -> Result<(), ConfigError> {
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
struct RunArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Directory of the SQLite store.
    #[arg(long, env = "TICKSTREAM_DATA_DIR")]
    data_dir: Option<String>,
    #[command(flatten)]
    sim: SimArgs,
    #[command(flatten)]
    kafka: KafkaArgs,
}

#[derive(clap::Args)]
struct ProducerArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    sim: SimArgs,
    #[command(flatten)]
    kafka: KafkaArgs,
    /// This replica's slice of the symbols: INDEX/COUNT, e.g. 0/2 and 1/2.
    #[arg(long, env = "TICKSTREAM_SHARD", default_value = "0/1")]
    shard: Shard,
}

#[derive(clap::Args)]
struct BridgeArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Directory of the SQLite store.
    #[arg(long, env = "TICKSTREAM_DATA_DIR")]
    data_dir: Option<String>,
    #[command(flatten)]
    kafka: KafkaArgs,
    /// Where to start reading: latest, earliest, stored, or an RFC 3339 time.
    #[arg(long, env = "TICKSTREAM_START")]
    start: Option<String>,
}

#[derive(clap::Args)]
struct TailArgs {
    /// Gateway WebSocket URL.
    #[arg(long, env = "TICKSTREAM_URL", default_value = "ws://127.0.0.1:8080/ws")]
    url: String,
    /// Read a Kafka cluster directly instead of a gateway (as kcat does).
    #[command(flatten)]
    kafka: KafkaArgs,
    /// With --brokers: start at the "latest" (default) or "earliest" offset.
    #[arg(long, env = "TICKSTREAM_START")]
    start: Option<String>,
    /// With --brokers: the tick topic.
    #[arg(long, default_value = "stock_ticks")]
    topic: String,
    /// Comma-separated symbols, or "*" for all.
    #[arg(long, value_delimiter = ',', default_value = "*")]
    symbols: Vec<String>,
    /// Print one JSON tick per line instead of a table.
    #[arg(long)]
    json: bool,
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
enum LogFormat {
    Text,
    Json,
}

/// How long shutdown may take before the process exits anyway.
const SHUTDOWN_DEADLINE: Duration = Duration::from_millis(1_800);

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(error) = check_environment() {
        return fail(&error);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            return fail(&anyhow::Error::new(error).context("cannot start the async runtime"));
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

/// Variables read outside clap: the log filter.
const OTHER_VARIABLES: &[&str] = &["TICKSTREAM_LOG"];

/// Refuses `TICKSTREAM_*` variables that are neither a flag's, nor a
/// section's (`TICKSTREAM_<SECTION>__<KEY>`, checked with the
/// configuration), nor the log filter, so a misspelt setting is an error
/// instead of being ignored. Kubernetes' service links for a Service named
/// `tickstream` (`TICKSTREAM_PORT`, `TICKSTREAM_PORT_8080_TCP_ADDR`,
/// `TICKSTREAM_SERVICE_HOST`, …) are not settings and are left alone.
fn check_environment() -> anyhow::Result<()> {
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

/// Prints an error and its causes on one line, as `error: what: why: because`.
fn fail(error: &anyhow::Error) -> ExitCode {
    eprintln!("error: {error:#}");
    ExitCode::FAILURE
}

async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run(a) => {
            let mut flags = Layer::new();
            a.sim.set(&mut flags)?;
            a.kafka.set(&mut flags)?;
            flags.set(
                "store.data_dir",
                a.data_dir.as_deref(),
                "--data-dir/TICKSTREAM_DATA_DIR",
            )?;
            serve(a.common, flags, Role::AllInOne).await
        }
        Command::Producer(a) => {
            let mut flags = Layer::new();
            a.sim.set(&mut flags)?;
            a.kafka.set(&mut flags)?;
            serve(a.common, flags, Role::Producer(a.shard)).await
        }
        Command::Bridge(a) => {
            let mut flags = Layer::new();
            a.kafka.set(&mut flags)?;
            flags.set(
                "store.data_dir",
                a.data_dir.as_deref(),
                "--data-dir/TICKSTREAM_DATA_DIR",
            )?;
            flags.set(
                "kafka.start",
                a.start.as_deref(),
                "--start/TICKSTREAM_START",
            )?;
            serve(a.common, flags, Role::Bridge).await
        }
        Command::Simulate(args) => simulate(args),
        Command::Scenario(args) => scenario(args).await,
        Command::Tail(args) => {
            let token = CancellationToken::new();
            tokio::spawn(cancel_on_signal(token.clone()));
            let options = TailOptions {
                url: args.url,
                symbols: args.symbols,
                json: args.json,
            };
            let result = if args.kafka.brokers.is_some() {
                let mut flags = Layer::new();
                args.kafka.set(&mut flags)?;
                flags.set(
                    "kafka.start",
                    args.start.as_deref(),
                    "--start/TICKSTREAM_START",
                )?;
                let config = Config::load(None, &[Layer::from_env(std::env::vars())?, flags])?;
                let topic = args.topic;
                tokio::task::spawn_blocking(move || {
                    tail::run_kafka(
                        &options,
                        &config.kafka,
                        &topic,
                        std::io::stdout().lock(),
                        &token,
                    )
                })
                .await?
            } else {
                tail::run(&options, std::io::stdout().lock(), token).await
            };
            match result {
                Err(tail::TailError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                    Ok(())
                }
                other => Ok(other?),
            }
        }
    }
}

async fn serve(common: CommonArgs, mut flags: Layer, role: Role) -> anyhow::Result<()> {
    flags.set(
        "gateway.listen",
        common.listen.as_deref(),
        "--listen/TICKSTREAM_LISTEN",
    )?;
    let environment = Layer::from_env(std::env::vars())?;
    let config = Config::load(common.config.as_deref(), &[environment, flags])?;
    if common.check_config {
        println!("configuration valid for {role:?}:\n{config:#?}");
        return Ok(());
    }
    init_tracing(common.log_format);
    let listener = tokio::net::TcpListener::bind(config.gateway.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (gateway.listen)",
                config.gateway.listen
            )
        })?;
    let engine = Engine::start(&config, role, Some(listener)).await?;
    let addr = engine
        .local_addr()
        .expect("the engine serves on the listener it was given");
    tracing::info!(%addr, ?role, data_dir = %config.store.data_dir.display(), rate = %config.sim.rate, "tickstreamd running");
    if engine.state().is_some() {
        println!(
            "Tickstream dashboard: http://{addr}/  (WebSocket ws://{addr}/ws, REST http://{addr}/api/v1)"
        );
    } else {
        println!("Tickstream producer: metrics at http://{addr}/metrics");
    }

    let token = CancellationToken::new();
    cancel_on_signal(token.clone()).await;
    tracing::info!("shutting down");
    if tokio::time::timeout(SHUTDOWN_DEADLINE, engine.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("shutdown deadline passed; exiting");
    }
    Ok(())
}

fn simulate(args: SimulateArgs) -> anyhow::Result<()> {
    let config = Config::load(args.config.as_deref(), &[])?;
    let mut universe = config.universe();
    if !args.symbols.is_empty() {
        let unknown: Vec<&String> = args
            .symbols
            .iter()
            .filter(|s| {
                !universe
                    .iter()
                    .any(|spec| spec.symbol.as_str() == s.as_str())
            })
            .collect();
        if !unknown.is_empty() {
            let known: Vec<&str> = universe.iter().map(|s| s.symbol.as_str()).collect();
            anyhow::bail!(
                "--symbols: unknown {} (known: {})",
                unknown
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                known.join(", ")
            );
        }
        universe.retain(|spec| args.symbols.iter().any(|s| s == spec.symbol.as_str()));
    }
    let plan = SessionPlan {
        universe,
        seed: args.seed,
        start: args
            .start
            .unwrap_or_else(|| chrono::Utc::now().date_naive()),
        days: args.days,
        rate: f64::from(args.rate),
        model: config.sim.model,
        correlations: config.sim.correlation,
        calendar: Calendar {
            kind: args.calendar,
            extended_hours: args.extended_hours,
            holidays: config.sim.holidays.clone(),
        },
        scenarios: args.scenarios,
    };
    let mut events = match &args.events {
        Some(path) => Some(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => None,
    };
    let events = events.as_mut().map(|w| w as &mut dyn std::io::Write);
    let format = match args.format {
        SimFormat::Jsonl => Format::JsonLines,
        SimFormat::Csv => Format::Csv,
    };
    let written = match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            write_sessions(&plan, format, std::io::BufWriter::new(file), events)
        }
        None => match write_sessions(
            &plan,
            format,
            std::io::BufWriter::new(std::io::stdout().lock()),
            events,
        ) {
            Err(SessionError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            other => other,
        },
    }?;
    if let Some(path) = &args.output {
        eprintln!("wrote {written} ticks to {}", path.display());
    }
    Ok(())
}

/// Posts a scenario to a daemon's REST API (or lists them) and prints the answer.
async fn scenario(args: ScenarioArgs) -> anyhow::Result<()> {
    let url = format!("{}/api/v1/scenarios", args.url.trim_end_matches('/'));
    let client = reqwest::Client::new();
    let request = if args.words.is_empty() {
        client.get(&url)
    } else {
        let scenario = ScenarioRequest::parse_words(&args.words.join(" "))?;
        client.post(&url).json(&scenario.to_json())
    };
    let response = request
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    let body: serde_json::Value = response
        .json()
        .await
        .with_context(|| format!("{url} answered {status} without JSON"))?;
    if !status.is_success() {
        let message = body["error"]["message"].as_str().unwrap_or("no message");
        anyhow::bail!("{url} refused the scenario ({status}): {message}");
    }
    println!("{}", serde_json::to_string_pretty(&body)?);
    Ok(())
}

/// Waits for SIGINT or SIGTERM, then cancels `token`.
async fn cancel_on_signal(token: CancellationToken) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    token.cancel();
}

fn init_tracing(format: Option<LogFormat>) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TICKSTREAM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let json = match format {
        Some(LogFormat::Json) => true,
        Some(LogFormat::Text) => false,
        None => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
