//! `tickstreamd`: the headless Tickstream daemon and its clients. Parses
//! the command line (`args.rs`), loads the config, sets up logging, then
//! hands over to the engine or to a client of the library.

mod args;
mod logging;

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    time::{Duration, SystemTime},
};

use anyhow::Context;
use clap::Parser;
use tickstream::{
    client::{self, Daemon, KeysAt, tail},
    config::{Config, Layer},
    engine::{Engine, Role, lock_data_dir, recover},
    model::{Restored, Symbol},
    store::backup,
};
use tokio_util::sync::CancellationToken;

use crate::{
    args::{Cli, Command, CommonArgs, KeysArgs, KeysCommand, ReplayArgs, check_environment},
    logging::LogFilter,
};

/// How long shutdown may take before the process exits anyway.
const SHUTDOWN_DEADLINE: Duration = Duration::from_millis(1_800);
/// The exit status when shutdown missed its deadline.
const SHUTDOWN_MISSED: i32 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(error) = check_environment() {
        return fail(&error);
    }
    // One descriptor per WebSocket client: the soft limit (often 1024) up
    // to the hard one, as a server for thousands of clients needs.
    if let Err(error) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("warning: cannot raise the open-file limit: {error}");
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

/// Prints an error and its causes on one line, as `error: what: why: because`.
fn fail(error: &anyhow::Error) -> ExitCode {
    eprintln!("error: {error:#}");
    ExitCode::FAILURE
}

async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run(a) => serve(&a.common, a.flags()?, Role::AllInOne).await,
        Command::Producer(a) => serve(&a.common, a.flags()?, Role::Producer(a.shard)).await,
        Command::Bridge(a) => serve(&a.common, a.flags()?, Role::Bridge).await,
        Command::Simulate(a) => {
            let output = a.output.clone();
            let written = client::simulate(&a.options())?;
            if let Some(path) = output {
                eprintln!("wrote {written} ticks to {}", path.display());
            }
            Ok(())
        }
        Command::Scenario(a) => {
            let daemon = Daemon {
                base_url: &a.url,
                api_key: a.client.api_key.as_deref(),
                ca: a.client.ca.as_deref(),
            };
            let answer = client::scenario(&daemon, &a.words).await?;
            println!("{}", serde_json::to_string_pretty(&answer)?);
            Ok(())
        }
        Command::Replay(a) => replay(a).await,
        Command::Keys(a) => keys(a).await,
        Command::Backup(a) => {
            let config = a.store.load()?;
            let manifest = backup::backup(&config.database_path(), &a.to)?;
            println!("{}", serde_json::to_string_pretty(&manifest)?);
            Ok(())
        }
        Command::Verify(a) => {
            let config = a.store.load()?;
            let database = a.file.unwrap_or_else(|| config.database_path());
            let found = backup::check(&database)
                .with_context(|| format!("cannot read {}", database.display()))?;
            println!("{}", serde_json::to_string_pretty(&found)?);
            if !found.ok {
                anyhow::bail!(
                    "{} failed its check: {}",
                    database.display(),
                    found.problems.join("; ")
                );
            }
            Ok(())
        }
        Command::Restore(a) => {
            let config = a.load()?;
            let (file, manifest) = backup::choose(&a.from, a.until)?;
            let check = {
                // Only into a stopped data directory: its daemon holds this lock.
                let _lock = lock_data_dir(&config.store.data_dir)?;
                backup::restore(&file, &config.database_path())?
            };
            let replayed = match a.until {
                Some(until) if config.kafka.enabled() => {
                    let token = CancellationToken::new();
                    tokio::spawn(cancel_on_signal(token.clone()));
                    let replayed = recover(&config, until, &token)
                        .await
                        .context("the backup is in place, but the replay from Kafka failed")?;
                    Some(replayed)
                }
                Some(_) => {
                    eprintln!(
                        "no Kafka brokers (--brokers): the store is as the backup left it; a bridge's store replays from its cluster"
                    );
                    None
                }
                None => None,
            };
            let restored = Restored {
                backup: file.display().to_string(),
                taken: manifest.map(|m| m.created),
                check,
                replayed,
            };
            println!("{}", serde_json::to_string_pretty(&restored)?);
            Ok(())
        }
        Command::Load(a) => {
            let token = CancellationToken::new();
            tokio::spawn(cancel_on_signal(token.clone()));
            let report = client::load::run(&a.options(), &token).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::Tail(a) => {
            let source = if a.kafka.brokers.is_some() {
                let environment = Layer::from_env(std::env::vars())?;
                let config = Config::load(None, &[environment, a.flags()?])?;
                tail::Source::Kafka {
                    config: config.kafka,
                    topic: a.topic,
                }
            } else {
                tail::Source::Gateway
            };
            let options = tail::TailOptions {
                url: a.url,
                api_key: a.client.api_key,
                ca: a.client.ca,
                symbols: a.symbols,
                json: a.json,
            };
            let token = CancellationToken::new();
            tokio::spawn(cancel_on_signal(token.clone()));
            Ok(tail::to_stdout(options, source, token).await?)
        }
    }
}

/// `tickstreamd replay …`: a stored range played on a daemon, printed.
async fn replay(a: ReplayArgs) -> anyhow::Result<()> {
    let symbols = a
        .symbols
        .iter()
        .map(|s| Symbol::new(s).with_context(|| format!("--symbols: {s:?}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let options = client::ReplayOptions {
        from: a.from,
        to: a.to,
        speed: a.speed,
        symbols,
        json: a.json,
    };
    let daemon = Daemon {
        base_url: &a.url,
        api_key: a.client.api_key.as_deref(),
        ca: a.client.ca.as_deref(),
    };
    let token = CancellationToken::new();
    tokio::spawn(cancel_on_signal(token.clone()));
    let started = std::time::Instant::now();
    let out = std::io::stdout().lock();
    let played = match client::replay(&daemon, a.client.ca.as_deref(), &options, out, token).await {
        Err(client::ClientError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            return Ok(());
        }
        other => other?,
    };
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "replayed {} ticks in {seconds:.2} s ({:.0} ticks/s){}",
        played.ticks,
        played.ticks as f64 / seconds,
        if played.completed {
            ""
        } else {
            ", interrupted"
        }
    );
    Ok(())
}

/// `tickstreamd keys …`, offline on the data directory or through `--url`.
async fn keys(a: KeysArgs) -> anyhow::Result<()> {
    let json = matches!(a.action, KeysCommand::List { json: true });
    let action = a.action.into_action()?;
    let config;
    let at = match &a.url {
        Some(url) => KeysAt::Daemon(Daemon {
            base_url: url,
            api_key: a.client.api_key.as_deref(),
            ca: a.client.ca.as_deref(),
        }),
        None => {
            config = a.store.load()?;
            KeysAt::DataDir {
                dir: &config.store.data_dir,
                database: &config.database_path(),
            }
        }
    };
    client::keys(&at, action).await?.print(json)?;
    Ok(())
}

/// Runs the engine in `role` until SIGINT or SIGTERM, or until a component
/// fails (then the process exits non-zero), and shuts it down within
/// [`SHUTDOWN_DEADLINE`] (else it exits with [`SHUTDOWN_MISSED`]).
async fn serve(common: &CommonArgs, flags: Layer, role: Role) -> anyhow::Result<()> {
    let environment = Layer::from_env(std::env::vars())?;
    // A change from here on is a change to reload.
    let seen = modified(common.config.as_deref());
    let config = Config::load(common.config.as_deref(), &[environment, flags.clone()])?;
    if common.check_config {
        println!("configuration valid for {role:?}:\n{config:#?}");
        return Ok(());
    }
    let filter = logging::init(common.log_format, &config.logging.filter);
    let listen = config.gateway.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (gateway.listen)"))?;
    let engine = Engine::start(&config, role, Some(listener)).await?;
    let addr = engine
        .local_addr()
        .expect("the engine serves on the listener it was given");
    tracing::info!(%addr, ?role, data_dir = %config.store.data_dir.display(), rate = %config.sim.rate, "tickstreamd running");
    let (http, ws) = if engine.is_tls() {
        ("https", "wss")
    } else {
        ("http", "ws")
    };
    if engine.state().is_some() {
        println!(
            "Tickstream dashboard: {http}://{addr}/  (WebSocket {ws}://{addr}/ws, REST {http}://{addr}/api/v1)"
        );
    } else {
        println!("Tickstream producer: metrics at {http}://{addr}/metrics");
    }
    let token = CancellationToken::new();
    tokio::spawn(cancel_on_signal(token.clone()));
    let mut reloading = Reloading {
        file: common.config.clone(),
        seen,
        flags,
        filter,
    };
    let failure = tokio::select! {
        () = reloading.run(&engine, &token) => None,
        exit = engine.failed() => Some(exit),
    };
    tracing::info!("shutting down");
    let shutdown = engine.shutdown();
    tokio::pin!(shutdown);
    tokio::select! {
        () = &mut shutdown => {}
        () = tokio::time::sleep(SHUTDOWN_DEADLINE) => {
            // Exit with the engine (its store writer, the data directory's
            // lock) still held: nothing else may open the store until the
            // process is gone.
            tracing::error!("shutdown deadline passed; exiting before the engine stopped");
            std::process::exit(SHUTDOWN_MISSED);
        }
    }
    match failure {
        Some(exit) => anyhow::bail!("{exit}; exiting so the service manager restarts tickstreamd"),
        None => Ok(()),
    }
}

/// How often the configuration file is looked at for a change.
const CONFIG_POLL: Duration = Duration::from_secs(2);

/// The running daemon's configuration, reloaded on SIGHUP and when its file
/// changes: the TLS certificate, the log filter and the settings the engine
/// retunes live (`config::LIVE_KEYS`) apply at once; a change to anything
/// else is named in a warning (it takes a restart).
struct Reloading {
    file: Option<PathBuf>,
    /// When the file was last changed, as last read.
    seen: Option<SystemTime>,
    /// The command line's settings, which keep precedence over the file.
    flags: Layer,
    filter: LogFilter,
}

impl Reloading {
    /// Reloads on every SIGHUP and file change until `stop` is cancelled.
    async fn run(&mut self, engine: &Engine, stop: &CancellationToken) {
        let mut poll = tokio::time::interval(CONFIG_POLL);
        #[cfg(unix)]
        let mut hangup =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        loop {
            #[cfg(unix)]
            let signalled = async {
                match &mut hangup {
                    Some(hangup) => {
                        hangup.recv().await;
                    }
                    None => std::future::pending().await,
                }
            };
            #[cfg(not(unix))]
            let signalled = std::future::pending::<()>();
            tokio::select! {
                () = stop.cancelled() => return,
                () = signalled => {
                    tracing::info!("SIGHUP: reloading the configuration and the TLS certificate");
                    self.reload(engine).await;
                }
                _ = poll.tick() => {
                    let now = modified(self.file.as_deref());
                    if now != self.seen {
                        self.seen = now;
                        tracing::info!("the configuration file changed: reloading it");
                        self.reload(engine).await;
                    }
                }
            }
        }
    }

    async fn reload(&mut self, engine: &Engine) {
        if let Err(error) = engine.reload_certificates().await {
            tracing::error!(error = %format!("{:#}", anyhow::Error::new(error)), "keeping the previous TLS certificate");
        }
        let loaded = Layer::from_env(std::env::vars())
            .map_err(anyhow::Error::from)
            .and_then(|environment| {
                Ok(Config::load(
                    self.file.as_deref(),
                    &[environment, self.flags.clone()],
                )?)
            });
        let config = match loaded {
            Ok(config) => config,
            Err(error) => {
                tracing::error!(error = %format!("{error:#}"), "keeping the running configuration");
                return;
            }
        };
        self.filter.apply(&config.logging.filter);
        let reload = engine.reconfigure(&config);
        if !reload.applied.is_empty() {
            tracing::info!(keys = %reload.applied.join(", "), "applied");
        }
        if !reload.pending.is_empty() {
            tracing::warn!(
                keys = %reload.pending.join(", "),
                "these settings changed but apply only at the next start"
            );
        }
    }
}

/// When `file` was last changed, if it can be read.
fn modified(file: Option<&Path>) -> Option<SystemTime> {
    std::fs::metadata(file?).and_then(|m| m.modified()).ok()
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
