//! Configuration reload against the real daemon: when its `--config` file
//! changes, and on SIGHUP, the log filter (`logging.filter`, per module),
//! the gateway's limits and the simulator's rate apply at once without
//! dropping a client, a changed setting that takes a restart is named in a
//! warning and in `/api/v1/config` (which redacts secrets), and a file
//! that does not load changes nothing.

mod support;

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

/// A daemon whose JSON log goes to a file.
struct Logged {
    child: Child,
    addr: SocketAddr,
    log: std::path::PathBuf,
}

impl Drop for Logged {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Logged {
    fn start(dir: &Path, config: &Path) -> Self {
        let log = dir.join("daemon.log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_tickstreamd"))
            .args(["run", "--listen", "127.0.0.1:0", "--log-format", "json"])
            .arg("--data-dir")
            .arg(dir.join("data"))
            .arg("--config")
            .arg(config)
            // The file's filter, not the environment's.
            .env("TICKSTREAM_LOG", "")
            .env_remove("RUST_LOG")
            .env("TICKSTREAM_BACKFILL", "0s")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = lines.next().expect("tickstreamd prints its URL").unwrap();
        let addr = support::address_in(&line);
        Self { child, addr, log }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The log's lines as JSON.
    fn lines(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .unwrap()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// Waits until a log line's message contains `needle`; returns the line.
    fn wait_for(&self, needle: &str) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(line) = self.lines().into_iter().find(|l| {
                l["fields"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(needle))
            }) {
                return line;
            }
            assert!(
                Instant::now() < deadline,
                "no log line with {needle:?} within 15 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn hang_up(&self) {
        support::hang_up(self.child.id());
    }
}

#[test]
fn the_log_filter_follows_the_file_and_other_changes_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tickstream.toml");
    std::fs::write(&config, "[logging]\nfilter = \"warn\"\n").unwrap();
    let daemon = Logged::start(dir.path(), &config);
    // "tickstreamd running" (info) was logged before the URL was printed:
    // filtered out.
    assert!(
        daemon.lines().iter().all(|l| l["level"] != "INFO"),
        "warn only at first"
    );

    std::fs::write(
        &config,
        "[logging]\nfilter = \"info,tickstream::gateway=debug\"\n\n[log]\npartitions = 4\n",
    )
    .unwrap();
    let changed = daemon.wait_for("log filter changed");
    assert_eq!(
        changed["fields"]["filter"],
        "info,tickstream::gateway=debug"
    );
    let pending = daemon.wait_for("apply only at the next start");
    assert_eq!(pending["fields"]["keys"], "log.partitions");

    // A file that does not load leaves everything as it was.
    std::fs::write(&config, "[logging]\nfilter = \"info,=[\"\n").unwrap();
    let kept = daemon.wait_for("keeping the running configuration");
    assert!(
        kept["fields"]["error"]
            .as_str()
            .unwrap()
            .contains("logging.filter"),
        "{kept}"
    );

    // SIGHUP reloads too.
    daemon.hang_up();
    daemon.wait_for("SIGHUP: reloading");
}

#[tokio::test(flavor = "multi_thread")]
async fn limits_and_the_simulator_retune_live_and_the_configuration_is_shown_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tickstream.toml");
    let secret = "hunter2-not-for-logs";
    let kafka = format!("[kafka.properties]\n\"sasl.password\" = \"{secret}\"\n");
    std::fs::write(&config, format!("[sim]\nrate = 20\n\n{kafka}")).unwrap();
    let daemon = Logged::start(dir.path(), &config);

    let shown = get_config(&daemon).await;
    assert_eq!(shown["settings"]["sim"]["rate"], 20);
    assert_eq!(shown["settings"]["gateway"]["rate_limit"], 100);
    assert_eq!(
        shown["settings"]["kafka"]["properties"]["sasl.password"],
        "***"
    );
    assert!(
        shown["live"]
            .as_array()
            .unwrap()
            .contains(&json!("sim.rate"))
    );
    assert_eq!(shown["restart_pending"], json!([]));
    assert!(shown.get("reloaded_at").is_none());

    // A client streaming before the reload keeps streaming after it.
    let mut client = support::Client::connect(&format!("ws://{}/ws", daemon.addr)).await;
    client.send(json!({"op":"subscribe","symbols":["*"]})).await;
    client.recv_type("subscribed").await;

    std::fs::write(
        &config,
        format!(
            "[sim]\nrate = 5000\n\n[gateway]\nrate_limit = 5\nrate_burst = 5\nmax_frame_bytes = 1024\n\n{kafka}"
        ),
    )
    .unwrap();
    let applied = daemon.wait_for("applied");
    assert_eq!(
        applied["fields"]["keys"],
        "gateway.max_frame_bytes, gateway.rate_burst, gateway.rate_limit, sim.rate"
    );

    // At 20 ticks/s, 2 000 ticks take 100 s; at 5 000/s, under a second.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut received = 0;
    while received < 2_000 {
        assert!(
            Instant::now() < deadline,
            "{received} ticks within 15 s of the reload: the new rate did not apply"
        );
        let frame = client.recv().await;
        if frame["type"] == "ticks" {
            received += frame["data"].as_array().unwrap().len();
        }
    }
    // The smaller frame bound applies to the same connection's next frame.
    client
        .send_text(&format!(r#"{{"op":"ping","pad":"{}"}}"#, "x".repeat(2_000)))
        .await;
    let refused = client.recv_type("error").await;
    assert!(
        refused["message"].as_str().unwrap().contains("1024"),
        "{refused}"
    );

    let shown = get_config(&daemon).await;
    assert_eq!(shown["settings"]["sim"]["rate"], 5000);
    assert_eq!(shown["settings"]["gateway"]["rate_limit"], 5);
    assert!(shown["reloaded_at"].is_string(), "{shown}");
    // The new request rate holds: a burst past 5 is refused.
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(
            http.get(daemon.url("/healthz"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
        statuses.push(
            http.get(daemon.url("/api/v1/symbols"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    assert!(statuses.contains(&429), "{statuses:?}");

    assert!(
        !std::fs::read_to_string(&daemon.log)
            .unwrap()
            .contains(secret),
        "the secret reached the log"
    );
}

/// `GET /api/v1/config` (loopback, no keys: the daemon is open).
async fn get_config(daemon: &Logged) -> Value {
    let response = reqwest::get(daemon.url("/api/v1/config")).await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}
