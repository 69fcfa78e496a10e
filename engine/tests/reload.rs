//! Configuration reload against the real daemon: when its `--config` file
//! changes, and on SIGHUP, the log filter (`logging.filter`, per module)
//! applies at once, a changed setting that takes a restart is named in a
//! warning, and a file that does not load changes nothing.

mod support;

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// A daemon whose JSON log goes to a file.
struct Logged {
    child: Child,
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
        lines.next().expect("tickstreamd prints its URL").unwrap();
        Self { child, log }
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
        "[logging]\nfilter = \"info,tickstream::gateway=debug\"\n\n[gateway]\nrate_limit = 50\n",
    )
    .unwrap();
    let changed = daemon.wait_for("log filter changed");
    assert_eq!(
        changed["fields"]["filter"],
        "info,tickstream::gateway=debug"
    );
    let pending = daemon.wait_for("apply only at the next start");
    assert_eq!(pending["fields"]["sections"], "[gateway]");

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
