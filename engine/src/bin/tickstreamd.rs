//! `tickstreamd`: the headless Tickstream daemon and its terminal consumer.
//! Parses the command line, loads the config, sets up logging, then hands
//! over to the engine.

use std::{io::IsTerminal, net::SocketAddr, path::PathBuf, process::ExitCode, time::Duration};

use anyhow::Context;
use clap::{Parser, Subcommand};
use tickstream::{
    config::{Config, Overrides},
    engine::Engine,
    sim::Rate,
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
    /// All-in-one: simulator → log → gateway (WebSocket, REST, dashboard) + SQLite store.
    Run(RunArgs),
    /// Print a gateway's live ticks in the terminal.
    Tail(TailArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// TOML config file (see headless/tickstream.example.toml).
    #[arg(long, env = "TICKSTREAM_CONFIG")]
    config: Option<PathBuf>,
    /// Address to serve HTTP on.
    #[arg(long, env = "TICKSTREAM_LISTEN")]
    listen: Option<SocketAddr>,
    /// Directory of the SQLite store.
    #[arg(long, env = "TICKSTREAM_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Simulator seed.
    #[arg(long, env = "TICKSTREAM_SEED")]
    seed: Option<u64>,
    /// Simulator ticks per second over all symbols, or "max".
    #[arg(long, env = "TICKSTREAM_RATE")]
    rate: Option<Rate>,
    /// Log format: "text" or "json" (default: text on a terminal, else json).
    #[arg(long, env = "TICKSTREAM_LOG_FORMAT")]
    log_format: Option<LogFormat>,
}

#[derive(clap::Args)]
struct TailArgs {
    /// Gateway WebSocket URL.
    #[arg(long, env = "TICKSTREAM_URL", default_value = "ws://127.0.0.1:8080/ws")]
    url: String,
    /// Comma-separated symbols, or "*" for all.
    #[arg(long, value_delimiter = ',', default_value = "*")]
    symbols: Vec<String>,
    /// Print one JSON tick per line instead of a table.
    #[arg(long)]
    json: bool,
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

/// Prints an error and its causes on one line, as `error: what: why: because`.
fn fail(error: &anyhow::Error) -> ExitCode {
    eprintln!("error: {error:#}");
    ExitCode::FAILURE
}

async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run(args) => run(args).await,
        Command::Tail(args) => {
            let token = CancellationToken::new();
            tokio::spawn(cancel_on_signal(token.clone()));
            let options = TailOptions {
                url: args.url,
                symbols: args.symbols,
                json: args.json,
            };
            match tail::run(&options, std::io::stdout().lock(), token).await {
                Err(tail::TailError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                    Ok(())
                }
                other => Ok(other?),
            }
        }
    }
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    init_tracing(args.log_format);
    let overrides = Overrides {
        listen: args.listen,
        data_dir: args.data_dir,
        seed: args.seed,
        rate: args.rate,
    };
    let config = Config::load(args.config.as_deref(), &overrides)?;
    let listener = tokio::net::TcpListener::bind(config.gateway.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (gateway.listen)",
                config.gateway.listen
            )
        })?;
    let engine = Engine::start(&config, listener).await?;
    let addr = engine.local_addr();
    tracing::info!(%addr, data_dir = %config.store.data_dir.display(), rate = %config.sim.rate, "tickstreamd running");
    println!(
        "Tickstream dashboard: http://{addr}/  (WebSocket ws://{addr}/ws, REST http://{addr}/api/v1)"
    );

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
