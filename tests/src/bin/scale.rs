//! Scale benchmark: a fresh `tickstreamd run` at 1 000 ticks/s per load,
//! loaded by `tickstreamd load` (the tool users run against their own
//! deployment): 10 000 clients of one symbol each, then 1 000 clients of
//! every symbol. Writes each report and its targets as JSON.
//!
//! Usage: `scale <tickstreamd> <out.json>` (run by `cargo xtask bench`).

use std::{process::Command, time::Duration};

use anyhow::{Result, bail};
use serde_json::json;
use tickstream::model::LoadReport;
use tickstream_e2e::Daemon;

/// One load and its targets.
struct Load {
    name: &'static str,
    clients: usize,
    mix: &'static str,
    measure: Duration,
    /// Least share of the expected ticks delivered.
    delivered: f64,
    /// Largest p99 latency, ms.
    p99_ms: f64,
    /// Largest daemon memory per connected client, KiB (None: not a target).
    kib_per_client: Option<f64>,
}

const LOADS: &[Load] = &[
    Load {
        name: "10k_clients_one_symbol_each",
        clients: 10_000,
        mix: "one",
        measure: Duration::from_secs(20),
        // "All ticks delivered": all but those in flight at the window's edges.
        delivered: 0.999,
        p99_ms: 50.0,
        kib_per_client: Some(16.0),
    },
    Load {
        name: "1k_clients_every_symbol",
        clients: 1_000,
        mix: "all",
        measure: Duration::from_secs(15),
        delivered: 0.999,
        p99_ms: 50.0,
        kib_per_client: None,
    },
];
const RATE: &str = "1000";

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(bin), Some(out)) = (args.next(), args.next()) else {
        bail!("usage: scale <tickstreamd> <out.json>");
    };
    let mut results = serde_json::Map::new();
    for load in LOADS {
        let report = run(&bin, load)?;
        let used = report.daemon;
        let kib = used.map(|u| u.rss_kib_per_client);
        let targets = json!({
            "all_connected": { "target": load.clients, "met": report.connected == load.clients as u64 && report.connect_failures == 0 },
            "delivered_fraction": { "target": load.delivered, "met": report.delivered_fraction >= load.delivered && report.gaps == 0 && report.closed_by_server == 0 },
            "latency_p99_ms": { "target": load.p99_ms, "met": report.latency_ms.p99 <= load.p99_ms },
            "daemon_rss_kib_per_client": load.kib_per_client.map(|t| json!({ "target": t, "met": kib.is_some_and(|k| k <= t) })),
        });
        println!("{}: {}", load.name, serde_json::to_string(&report)?);
        results.insert(
            load.name.to_owned(),
            json!({ "ticks_per_sec_produced": RATE.parse::<u64>()?, "report": report, "targets": targets }),
        );
    }
    results.insert(
        "note".into(),
        json!(
            "the load generator (tickstreamd load) and the daemon share this machine's two cores"
        ),
    );
    std::fs::write(&out, serde_json::to_string_pretty(&results)?)?;
    println!("wrote {out}");
    Ok(())
}

/// Starts a fresh daemon that admits the load from one address, runs
/// `tickstreamd load` against it, and returns its report.
fn run(bin: &str, load: &Load) -> Result<LoadReport> {
    let dir = tempfile::tempdir()?;
    // One address opens every connection: the per-address limits are raised.
    let daemon = Daemon::start_with_env(
        bin,
        "run",
        &["--rate", RATE],
        Some(&dir.path().join("data")),
        &[
            ("TICKSTREAM_GATEWAY__RATE_LIMIT", "100000"),
            ("TICKSTREAM_GATEWAY__RATE_BURST", "100000"),
            ("TICKSTREAM_GATEWAY__MAX_CONNECTIONS", "20000"),
            ("TICKSTREAM_GATEWAY__MAX_CONNECTIONS_PER_IP", "20000"),
        ],
    )?;
    let output = Command::new(bin)
        .arg("load")
        .arg("--url")
        .arg(format!("ws://{}/ws", daemon.addr))
        .args(["--clients", &load.clients.to_string(), "--mix", load.mix])
        .args(["--warmup", "3s", "--duration"])
        .arg(format!("{}s", load.measure.as_secs()))
        .output()?;
    if !output.status.success() {
        bail!(
            "tickstreamd load: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}
