//! Test support: the real `tickstreamd` as a child process on a free port,
//! and a WebSocket client speaking the documented protocol.

#![allow(dead_code)] // each test file uses a different part

pub mod book;

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite::Message};

/// `out` of a command that must have succeeded; its stderr otherwise.
pub fn succeeded(out: std::process::Output) -> std::process::Output {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The daemon's binary, logging warnings only.
pub fn tickstreamd() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tickstreamd"));
    cmd.env("TICKSTREAM_LOG", "warn");
    cmd
}

/// `tickstreamd keys create` on a data directory; the key it prints.
pub fn create_key(data_dir: &Path, name: &str, scope: &str, extra: &[&str]) -> String {
    let out = succeeded(
        tickstreamd()
            .args(["keys", "create", "--name", name, "--scope", scope])
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .output()
            .unwrap(),
    );
    let key = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(key.starts_with("tsk_"), "{key}");
    key
}

/// A daemon whose data directory holds keys made before it started.
pub fn daemon_with_keys(keys: &[(&str, &str, &[&str])]) -> (Daemon, Vec<String>) {
    let mut daemon = Daemon::start(&[]);
    let _ = daemon.child.kill();
    let _ = daemon.child.wait();
    let made = keys
        .iter()
        .map(|(name, scope, extra)| create_key(daemon.data_dir.path(), name, scope, extra))
        .collect();
    daemon.restart(&[]);
    (daemon, made)
}

/// Sends SIGHUP to process `pid` (what reloads a daemon's certificate and
/// configuration).
pub fn hang_up(pid: u32) {
    let pid = pid.to_string();
    let sent = Command::new("kill").args(["-HUP", &pid]).status();
    assert!(sent.unwrap().success(), "kill -HUP {pid}");
}

/// A running daemon with its own data directory.
pub struct Daemon {
    pub child: Child,
    pub addr: SocketAddr,
    /// A small filesystem mounted on the data directory, unmounted (after
    /// the process is gone) before the directory is removed.
    pub disk: Option<Tmpfs>,
    pub data_dir: tempfile::TempDir,
}

/// A tmpfs mounted on a directory (root only), unmounted when dropped.
pub struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    /// Mounts a tmpfs of `megabytes` on `dir`; fails the test, saying why,
    /// where mounting is not allowed.
    pub fn mount(dir: &std::path::Path, megabytes: u32) -> Self {
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir)
            .output()
            .expect("mount runs");
        assert!(
            out.status.success(),
            "this test mounts a small tmpfs and needs root (CI runs as root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self(dir.to_owned())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

impl Daemon {
    /// Starts `tickstreamd run` on 127.0.0.1:0 with `extra` arguments and
    /// waits until it prints its address.
    pub fn start(extra: &[&str]) -> Self {
        Self::role("run", extra)
    }

    /// Starts `tickstreamd ROLE` (run, producer, bridge) on 127.0.0.1:0.
    pub fn role(role: &str, extra: &[&str]) -> Self {
        Self::role_with_env(role, extra, &[])
    }

    /// Like [`Daemon::role`], with extra environment variables.
    pub fn role_with_env(role: &str, extra: &[&str], env: &[(&str, &str)]) -> Self {
        let data_dir = tempfile::tempdir().unwrap();
        let (child, addr) = spawn(role, extra, env, data_dir.path());
        Self {
            child,
            addr,
            disk: None,
            data_dir,
        }
    }

    /// Starts `tickstreamd run` with its data directory on a tmpfs of
    /// `megabytes`.
    pub fn on_small_disk(megabytes: u32, extra: &[&str]) -> Self {
        let data_dir = tempfile::tempdir().unwrap();
        let disk = Tmpfs::mount(data_dir.path(), megabytes);
        let (child, addr) = spawn("run", extra, &[], data_dir.path());
        Self {
            child,
            addr,
            disk: Some(disk),
            data_dir,
        }
    }

    /// Stops this `tickstreamd run` and starts another on the same data
    /// directory (on a new port) with `extra` arguments.
    pub fn restart(&mut self, extra: &[&str]) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        (self.child, self.addr) = spawn("run", extra, &[], self.data_dir.path());
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Sends SIGTERM and waits for the exit; returns the status and how long it took.
    pub fn terminate(&mut self) -> (std::process::ExitStatus, Duration) {
        let started = Instant::now();
        let pid = self.child.id().to_string();
        let ok = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -TERM {pid}");
        let status = self.child.wait().unwrap();
        (status, started.elapsed())
    }

    /// The Prometheus text of GET /metrics.
    pub async fn metrics_text(&self) -> String {
        reqwest::get(self.url("/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// `/metrics` of a daemon that needs a key, read with `key`.
    pub async fn metrics_text_with(&self, key: &str) -> String {
        reqwest::Client::new()
            .get(self.url("/metrics"))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The audit log, read with an `admin` key once it holds what was done
    /// (the writer is a moment behind: until two reads agree, within 5 s).
    pub async fn audited(&self, admin: &str) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut last = Vec::new();
        while Instant::now() < deadline {
            let response = reqwest::Client::new()
                .get(self.url("/api/v1/audit?limit=1000"))
                .bearer_auth(admin)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let entries: Vec<Value> = response.json().await.unwrap();
            if entries.len() == last.len() && !entries.is_empty() {
                return entries;
            }
            last = entries;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        last
    }

    /// The JSON body of GET `path`, whatever the status.
    /// Sends `method` to `path` with `body` as JSON; the status and the
    /// JSON answer (`null` for none).
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = reqwest::Client::new().request(method, self.url(path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn get_json(&self, path: &str) -> Value {
        reqwest::get(self.url(path))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The value of a Prometheus sample (0 when absent).
    pub async fn metric(&self, name: &str) -> f64 {
        let text = self.metrics_text().await;
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(0.0)
    }

    /// Waits (up to 20 s) until the sample `name` reaches `at_least`.
    pub async fn wait_metric(&self, name: &str, at_least: f64) {
        eventually(
            &format!("{name} reaches {at_least}"),
            Duration::from_secs(20),
            || async { self.metric(name).await >= at_least },
        )
        .await;
    }

    /// Waits until GET /readyz answers 200.
    pub async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = reqwest::get(self.url("/readyz")).await
                && r.status() == 200
            {
                return;
            }
            assert!(Instant::now() < deadline, "daemon not ready within 20 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `tickstreamd ROLE` on 127.0.0.1:0 with its data in `data_dir`
/// and waits until it prints its address.
fn spawn(
    role: &str,
    extra: &[&str],
    env: &[(&str, &str)],
    data_dir: &std::path::Path,
) -> (Child, SocketAddr) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tickstreamd"));
    cmd.args([role, "--listen", "127.0.0.1:0"]);
    cmd.arg("--data-dir").arg(data_dir);
    let mut child = cmd
        .args(extra)
        .env("TICKSTREAM_LOG", "warn")
        // No history unless a test asks (--backfill): fast starts.
        .env("TICKSTREAM_BACKFILL", "0s")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("tickstreamd starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next().expect("tickstreamd prints its URL").unwrap();
    (child, address_in(&line))
}

/// The address in the line `tickstreamd` prints first (`… http://ADDR/ …`).
pub fn address_in(line: &str) -> SocketAddr {
    line.split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
}

/// Waits until `check` holds, polling; fails naming `what` after `within`.
pub async fn eventually<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A WebSocket client.
pub struct Client {
    socket: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
}

impl Client {
    pub async fn connect(url: &str) -> Self {
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("WebSocket connects");
        Self { socket }
    }

    pub async fn send(&mut self, value: Value) {
        self.send_text(&value.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.socket.send(Message::text(text)).await.unwrap();
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.socket.send(Message::binary(bytes)).await.unwrap();
    }

    /// The next JSON frame, within 5 s.
    pub async fn recv(&mut self) -> Value {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(5), self.socket.next())
                .await
                .expect("a frame within 5 s")
                .expect("socket open")
                .expect("frame ok");
            if let Message::Text(text) = frame {
                return serde_json::from_str(text.as_str()).expect("server frames are JSON");
            }
        }
    }

    /// The next frame of `kind`, skipping others (e.g. ticks).
    pub async fn recv_type(&mut self, kind: &str) -> Value {
        loop {
            let v = self.recv().await;
            if v["type"] == kind {
                return v;
            }
        }
    }

    /// Every tick received for `duration`.
    pub async fn collect_ticks(&mut self, duration: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + duration;
        let mut ticks = Vec::new();
        while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, self.socket.next()).await
        {
            if let Message::Text(text) = frame {
                let v: Value = serde_json::from_str(text.as_str()).unwrap();
                assert_ne!(v["type"], "gap", "unexpected gap: {v}");
                if v["type"] == "ticks" {
                    ticks.extend(v["data"].as_array().unwrap().iter().cloned());
                }
            }
        }
        ticks
    }

    /// Every frame received for `duration`.
    pub async fn collect_frames(&mut self, duration: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + duration;
        let mut frames = Vec::new();
        while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, self.socket.next()).await
        {
            if let Message::Text(text) = frame {
                frames.push(serde_json::from_str(text.as_str()).unwrap());
            }
        }
        frames
    }

    /// Waits until the server ends the stream; fails after `within`.
    pub async fn closed_within(&mut self, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Err(_) => panic!("the stream stayed open for {within:?}"),
                Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return,
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

/// (partition, offset) of a tick.
pub fn position(tick: &Value) -> (u64, u64) {
    (
        tick["partition"].as_u64().unwrap(),
        tick["offset"].as_u64().unwrap(),
    )
}

/// Offsets per partition, in the order received.
pub fn by_partition(ticks: &[Value]) -> std::collections::BTreeMap<u64, Vec<u64>> {
    let mut map: std::collections::BTreeMap<u64, Vec<u64>> = Default::default();
    for t in ticks {
        let (p, o) = position(t);
        map.entry(p).or_default().push(o);
    }
    map
}

/// The Tansu broker from `$TANSU` (set by `cargo xtask test`) on a free
/// port. A Kafka test without a broker fails, saying how to get one.
pub struct Tansu;

impl Tansu {
    pub fn start() -> tickstream_e2e::Tansu {
        Self::start_on(free_port())
    }

    /// Starts Tansu on `port` (e.g. one a daemon already points at).
    pub fn start_on(port: u16) -> tickstream_e2e::Tansu {
        tickstream_e2e::Tansu::start_on(Self::bin(), port).expect("tansu starts")
    }

    /// Starts Tansu validating records against the schemas in `registry`.
    pub fn validating(registry: &std::path::Path) -> tickstream_e2e::Tansu {
        tickstream_e2e::Tansu::start_validating(Self::bin(), free_port(), registry)
            .expect("tansu starts")
    }

    /// The broker's binary.
    pub fn bin() -> std::ffi::OsString {
        std::env::var_os("TANSU").expect(
            "this Kafka test needs the Tansu broker: run `cargo xtask test` (it installs one), or set TANSU=/path/to/tansu",
        )
    }
}

pub use tickstream_e2e::free_port;

/// A Tansu with durable storage on a port of its own, which a test can
/// crash and start again on the same storage (its disk survives, as a real
/// broker's does).
pub struct DurableBroker {
    bin: std::ffi::OsString,
    port: u16,
    storage: tempfile::TempDir,
    running: tickstream_e2e::Tansu,
}

impl DurableBroker {
    pub fn start() -> Self {
        let (bin, storage) = (durable_tansu(), tempfile::tempdir().unwrap());
        let port = tickstream_e2e::spare_port();
        let running = tickstream_e2e::Tansu::start_durable(&bin, port, storage.path()).unwrap();
        Self {
            bin,
            port,
            storage,
            running,
        }
    }

    /// `host:port` for `--brokers`.
    pub fn brokers(&self) -> String {
        self.running.brokers.clone()
    }

    /// Kills the broker (SIGKILL).
    pub fn crash(&mut self) {
        self.running.crash().unwrap();
    }

    /// Starts it again on the same port and storage.
    pub fn restart(&mut self) {
        self.running =
            tickstream_e2e::Tansu::start_durable(&self.bin, self.port, self.storage.path())
                .unwrap();
    }
}

/// The Tansu with durable storage from `$TANSU_DURABLE` (set by `cargo xtask
/// test`); the test fails, saying how to get one, when it is unset.
pub fn durable_tansu() -> std::ffi::OsString {
    std::env::var_os("TANSU_DURABLE").expect(
        "this Kafka test needs a Tansu with durable storage: run `cargo xtask test` (it builds one), or set TANSU_DURABLE=/path/to/tansu",
    )
}

/// Runs `tickstreamd ARGS --check-config` with only `env` among the
/// `TICKSTREAM_*` variables.
pub fn check_config(
    args: &[String],
    env: &std::collections::BTreeMap<String, String>,
) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tickstreamd"));
    for (name, _) in std::env::vars() {
        if name.starts_with("TICKSTREAM_") {
            cmd.env_remove(name);
        }
    }
    cmd.args(args)
        .arg("--check-config")
        .envs(env)
        .output()
        .unwrap()
}
