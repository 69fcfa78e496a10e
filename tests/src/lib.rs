//! Harness for Tickstream's cross-component tests and benchmarks: real
//! processes (`tickstreamd`, the Tansu broker) on free local ports, metrics
//! read from their `/metrics`, and wire timestamps read without a JSON parse.

use std::{
    io::{BufRead, BufReader, Read, Write},
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::{Context, Result, bail};
pub use tickstream::model::timestamp::scan_micros;

/// A child process, stopped with SIGTERM (then reaped) when dropped.
pub struct Proc(pub Child);

impl Proc {
    /// Sends SIGTERM and waits for the exit.
    ///
    /// # Errors
    /// Returns the error of `kill` or `wait`.
    pub fn terminate(&mut self) -> Result<std::process::ExitStatus> {
        Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()?;
        Ok(self.0.wait()?)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.terminate();
        }
    }
}

/// A port free on 127.0.0.1 right now.
///
/// # Panics
/// Panics when no port can be bound.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A port for a server that will start later (a broker "down at start"):
/// bindable now, and outside Linux's ephemeral range (32768–60999), so no
/// other test's `free_port()` is handed it meanwhile.
///
/// # Panics
/// Panics when no such port is free.
pub fn spare_port() -> u16 {
    let seed = u64::from(std::process::id()) ^ (now_micros() as u64);
    (0..1_000)
        .map(|i| {
            20_000
                + ((seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(i * 7_919))
                    % 10_000) as u16
        })
        .find(|&port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok())
        .expect("a spare port between 20000 and 30000")
}

/// A Tansu broker (Kafka API, in-memory storage).
pub struct Tansu {
    /// The broker process.
    pub process: Proc,
    /// `host:port` for `bootstrap.servers`.
    pub brokers: String,
}

impl Tansu {
    /// Starts `bin` on `port` and waits until it listens.
    ///
    /// # Errors
    /// Fails when Tansu does not start, exits, or does not listen in 10 s
    /// (e.g. another process holds the port).
    pub fn start_on(bin: impl AsRef<std::ffi::OsStr>, port: u16) -> Result<Self> {
        Self::start_with(bin, port, "memory://tansu/", None, &[])
    }

    /// Starts `bin` on `port` validating records against the schemas in
    /// `registry` (`{topic}.json`, `.avsc` or `.proto`): a record that does
    /// not fit is refused with `INVALID_RECORD`.
    ///
    /// # Errors
    /// See [`Tansu::start_on`].
    pub fn start_validating(
        bin: impl AsRef<std::ffi::OsStr>,
        port: u16,
        registry: &Path,
    ) -> Result<Self> {
        // Tansu resolves a file:// registry against its working directory.
        Self::start_with(
            bin,
            port,
            "memory://tansu/",
            Some(registry),
            &["--schema-registry", "file://."],
        )
    }

    /// Starts `bin` on `port` with its log in an SQLite file in `dir`, so
    /// it survives a restart (needs a Tansu built with the `libsql` feature).
    ///
    /// # Errors
    /// See [`Tansu::start_on`].
    pub fn start_durable(bin: impl AsRef<std::ffi::OsStr>, port: u16, dir: &Path) -> Result<Self> {
        Self::start_with(bin, port, "sqlite://tansu.db", Some(dir), &[])
    }

    /// Like [`Tansu::start_durable`], requiring SASL (SCRAM) authentication
    /// with the users created while it ran without.
    ///
    /// # Errors
    /// See [`Tansu::start_on`].
    pub fn start_durable_authenticated(
        bin: impl AsRef<std::ffi::OsStr>,
        port: u16,
        dir: &Path,
    ) -> Result<Self> {
        Self::start_with(
            bin,
            port,
            "sqlite://tansu.db",
            Some(dir),
            &["--authentication"],
        )
    }

    /// Creates a SCRAM user through the running (unauthenticated) broker.
    ///
    /// # Errors
    /// Fails when `tansu user create` fails.
    pub fn create_user(
        &self,
        bin: impl AsRef<std::ffi::OsStr>,
        name: &str,
        password: &str,
    ) -> Result<()> {
        let status = Command::new(bin)
            .args(["user", "create", name, password, "--broker"])
            .arg(format!("tcp://{}", self.brokers))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        if !status.success() {
            bail!("tansu user create failed ({status})");
        }
        Ok(())
    }

    fn start_with(
        bin: impl AsRef<std::ffi::OsStr>,
        port: u16,
        storage: &str,
        dir: Option<&Path>,
        extra: &[&str],
    ) -> Result<Self> {
        let url = format!("tcp://127.0.0.1:{port}");
        let mut cmd = Command::new(bin);
        cmd.args([
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
        ])
        .args(["--storage-engine", storage, "--silent"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        // Tansu resolves an sqlite:// path against its working directory.
        if let Some(dir) = dir {
            cmd.current_dir(dir);
        }
        let child = cmd.spawn().context("cannot start tansu")?;
        let mut process = Proc(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if process.0.try_wait()?.is_some() {
                bail!("tansu exited (is port {port} taken?)");
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            if Instant::now() > deadline {
                bail!("tansu did not listen on {port} within 10 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // The listener might be another process's: ours must still be alive.
        if process.0.try_wait()?.is_some() {
            bail!("tansu exited: port {port} was taken");
        }
        Ok(Self {
            process,
            brokers: format!("127.0.0.1:{port}"),
        })
    }

    /// Starts `bin` on a free port.
    ///
    /// # Errors
    /// See [`Tansu::start_on`].
    pub fn start(bin: impl AsRef<std::ffi::OsStr>) -> Result<Self> {
        Self::start_on(bin, free_port())
    }
}

impl Tansu {
    /// Kills the broker at once (SIGKILL), as a crash would.
    ///
    /// # Errors
    /// Returns the error of `kill` or `wait`.
    pub fn crash(&mut self) -> Result<()> {
        self.process.0.kill()?;
        self.process.0.wait()?;
        Ok(())
    }
}

/// `tickstreamd` running a role on a free port.
pub struct Daemon {
    /// The daemon process.
    pub process: Proc,
    /// `host:port` it serves HTTP on.
    pub addr: String,
}

impl Daemon {
    /// Starts `bin ROLE --listen 127.0.0.1:0 ARGS` (with `--data-dir` when
    /// given) and waits for the line announcing its address.
    ///
    /// # Errors
    /// Fails when the daemon does not start or prints no address.
    pub fn start(
        bin: impl AsRef<std::ffi::OsStr>,
        role: &str,
        args: &[&str],
        data_dir: Option<&Path>,
    ) -> Result<Self> {
        Self::start_with_env(bin, role, args, data_dir, &[])
    }

    /// Like [`Daemon::start`], with extra environment variables.
    ///
    /// # Errors
    /// Fails when the daemon does not start or prints no address.
    pub fn start_with_env(
        bin: impl AsRef<std::ffi::OsStr>,
        role: &str,
        args: &[&str],
        data_dir: Option<&Path>,
        env: &[(&str, &str)],
    ) -> Result<Self> {
        let mut cmd = Command::new(bin);
        cmd.args([role, "--listen", "127.0.0.1:0"]).args(args);
        if let Some(dir) = data_dir {
            cmd.arg("--data-dir").arg(dir);
        }
        let mut child = cmd
            .env("TICKSTREAM_LOG", "warn")
            // No simulated history unless asked: fast starts.
            .env("TICKSTREAM_BACKFILL", "0s")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .spawn()
            .context("cannot start tickstreamd")?;
        let stdout = child.stdout.take().expect("piped");
        let process = Proc(child);
        let line = BufReader::new(stdout)
            .lines()
            .next()
            .context("tickstreamd printed nothing")??;
        let addr = line
            .split("://")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .with_context(|| format!("no address in {line:?}"))?
            .to_owned();
        Ok(Self { process, addr })
    }

    /// The daemon's `/metrics`, as Prometheus text.
    ///
    /// # Errors
    /// Fails when `/metrics` cannot be read.
    pub fn metrics_text(&self) -> Result<String> {
        let mut stream = std::net::TcpStream::connect(&self.addr)?;
        stream.write_all(b"GET /metrics HTTP/1.0\r\n\r\n")?;
        let mut text = String::new();
        stream.read_to_string(&mut text)?;
        Ok(text)
    }

    /// A sample of the daemon's `/metrics` (0 when absent).
    ///
    /// # Errors
    /// Fails when `/metrics` cannot be read.
    pub fn metric(&self, name: &str) -> Result<f64> {
        Ok(self
            .metrics_text()?
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(0.0))
    }
}

/// A WebSocket connection to a daemon.
pub type WebSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects to the WebSocket at `url` (with `bearer` as its API key, over
/// `tls` for `wss://`) and subscribes to every symbol.
///
/// # Errors
/// Fails when the connection or the subscription cannot be made.
pub async fn subscribe_to_everything(
    url: &str,
    bearer: Option<&str>,
    tls: Option<std::sync::Arc<rustls::ClientConfig>>,
) -> Result<WebSocket> {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};
    let mut request = url.into_client_request()?;
    if let Some(key) = bearer {
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {key}").parse()?);
    }
    let connector = tls.map(tokio_tungstenite::Connector::Rustls);
    let (mut socket, _) =
        tokio_tungstenite::connect_async_tls_with_config(request, None, true, connector).await?;
    socket
        .send(Message::text(r#"{"op":"subscribe","symbols":["*"]}"#))
        .await?;
    Ok(socket)
}

/// Now, in Unix microseconds.
pub fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}
