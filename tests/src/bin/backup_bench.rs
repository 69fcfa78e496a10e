//! An online backup of a 1 GiB store while the daemon writes to it: how
//! long `tickstreamd backup` takes (a consistent `VACUUM INTO` copy plus its
//! manifest's checksum), and what it does to ingest: the store's batch
//! commit time (p99, from the daemon's own histogram) and ticks stored per
//! second, in a window while the backup runs against an equal one before.
//! The copy is then checked with `tickstreamd verify`. Writes JSON.
//!
//! Usage: `backup_bench <tickstreamd> <out.json>` (run by `cargo xtask bench`).

use std::{
    path::Path,
    process::Command,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use serde_json::json;
use tickstream::{
    model::EncodedTick,
    sim::{Calendar, Correlations, Model, Output, SimSettings, Simulator, default_universe},
    store::{Batch, Store},
};
use tickstream_e2e::Daemon;

/// The store's size before the backup.
const STORE_BYTES: u64 = 1 << 30;
/// Ticks per second the daemon simulates and stores meanwhile.
const RATE: &str = "20000";
/// Partitions of `stock_ticks` (the default `log.partitions`).
const PARTITIONS: u32 = 8;
/// Ticks per transaction while filling.
const FILL_BATCH: usize = 20_000;
const WARMUP: Duration = Duration::from_secs(3);
/// The window measured before the backup.
const QUIET: Duration = Duration::from_secs(10);
/// The store's batch commit p99 during the backup, at most this many times
/// its p99 before.
const TARGET_P99_RATIO: f64 = 3.0;
/// The backup of 1 GiB within this many seconds.
const TARGET_SECONDS: f64 = 60.0;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(bin), Some(out)) = (args.next(), args.next()) else {
        bail!("usage: backup_bench <tickstreamd> <out.json>");
    };
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data)?;
    let database = data.join("tickstream.db");
    let filling = Instant::now();
    let ticks = fill(&database)?;
    let fill_seconds = filling.elapsed().as_secs_f64();
    let store_bytes = std::fs::metadata(&database)?.len();
    eprintln!("filled {store_bytes} bytes with {ticks} ticks in {fill_seconds:.1} s");

    let daemon = Daemon::start(&bin, "run", &["--rate", RATE], Some(&data))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while daemon.metric("tickstream_store_ticks_total")? < 1.0 {
        if Instant::now() > deadline {
            bail!("the daemon stored nothing within 60 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(WARMUP);
    let start = Sample::take(&daemon)?;
    std::thread::sleep(QUIET);
    let before = Sample::take(&daemon)?;
    let copy = dir.path().join("backup.db");
    let backing_up = Instant::now();
    let status = Command::new(&bin)
        .args(["backup", "--data-dir"])
        .arg(&data)
        .arg("--to")
        .arg(&copy)
        .env("TICKSTREAM_LOG", "warn")
        .output()
        .context("cannot run tickstreamd backup")?;
    let backup_seconds = backing_up.elapsed().as_secs_f64();
    let during = Sample::take(&daemon)?;
    if !status.status.success() {
        bail!("backup failed: {}", String::from_utf8_lossy(&status.stderr));
    }
    let verified = Command::new(&bin)
        .args(["verify", "--file"])
        .arg(&copy)
        .arg("--data-dir")
        .arg(&data)
        .output()?;
    let quiet = before.since(&start);
    let busy = during.since(&before);
    let ratio = busy.p99_ms / quiet.p99_ms.max(f64::MIN_POSITIVE);
    let report = json!({
        "store_bytes": store_bytes,
        "store_ticks": ticks,
        "fill_seconds": (fill_seconds * 10.0).round() / 10.0,
        "backup_seconds": (backup_seconds * 100.0).round() / 100.0,
        "backup_mib_per_second": (store_bytes as f64 / (1 << 20) as f64 / backup_seconds).round(),
        "backup_bytes": std::fs::metadata(&copy)?.len(),
        "backup_verified": verified.status.success(),
        "ingest_rate": RATE,
        "ingest_before": quiet.report(),
        "ingest_during_backup": busy.report(),
        "note": "p99 is the upper bound of the histogram bucket holding the 99th percentile of the store's batch commit time",
        "targets": {
            "backup_seconds_for_1_gib": {
                "target": TARGET_SECONDS,
                "measured": (backup_seconds * 100.0).round() / 100.0,
                "met": backup_seconds <= TARGET_SECONDS,
            },
            "ingest_p99_during_backup_vs_before": {
                "target": TARGET_P99_RATIO,
                "measured": (ratio * 100.0).round() / 100.0,
                "met": ratio <= TARGET_P99_RATIO,
            },
        },
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    std::fs::write(&out, serde_json::to_string_pretty(&report)?)?;
    if !verified.status.success() {
        bail!(
            "the backup failed its check: {}",
            String::from_utf8_lossy(&verified.stdout)
        );
    }
    Ok(())
}

/// Writes simulated ticks (the last few hours, as a running daemon would
/// have stored them) into a new store until it holds [`STORE_BYTES`];
/// returns how many.
fn fill(database: &Path) -> Result<u64> {
    let mut store = Store::open(database)?;
    let mut simulator = Simulator::new(
        &default_universe(),
        &SimSettings {
            seed: 7,
            rate: 1_000.0,
            model: Model::Realistic,
            correlations: Correlations::default(),
            calendar: Calendar::always_open(),
            start: chrono::Utc::now() - chrono::Duration::hours(5),
        },
    );
    let mut next = [0u64; PARTITIONS as usize];
    let mut written = 0u64;
    loop {
        let mut ticks = Vec::with_capacity(FILL_BATCH);
        while ticks.len() < FILL_BATCH {
            if let Output::Tick(tick) = simulator.next_output() {
                let partition = (written % u64::from(PARTITIONS)) as u32;
                let offset = next[partition as usize];
                next[partition as usize] += 1;
                ticks.push((partition, offset, Arc::new(EncodedTick::new(tick))));
                written += 1;
            }
        }
        let positions = (0..PARTITIONS)
            .map(|p| ("stock_ticks".to_owned(), p, next[p as usize]))
            .collect();
        store.write(
            &Batch {
                ticks,
                candles: vec![],
                positions,
            },
            false,
        )?;
        let wal = database.with_extension("db-wal");
        let size =
            std::fs::metadata(database)?.len() + std::fs::metadata(&wal).map_or(0, |m| m.len());
        if size >= STORE_BYTES {
            return Ok(written);
        }
    }
}

/// The store's counters at one moment.
struct Sample {
    at: Instant,
    stored: f64,
    /// The batch commit time histogram: (upper bound in seconds, count).
    buckets: Vec<(f64, f64)>,
}

/// Ingest over a window between two samples.
struct Window {
    seconds: f64,
    stored_per_second: f64,
    batches: f64,
    p99_ms: f64,
}

impl Sample {
    fn take(daemon: &Daemon) -> Result<Self> {
        let text = daemon.metrics_text()?;
        let mut buckets = Vec::new();
        let mut stored = 0.0;
        for line in text.lines() {
            if let Some(rest) =
                line.strip_prefix("tickstream_store_batch_duration_seconds_bucket{le=\"")
            {
                let (bound, count) = rest.split_once("\"} ").context("a bucket line")?;
                let bound = if bound == "+Inf" {
                    f64::INFINITY
                } else {
                    bound.parse()?
                };
                buckets.push((bound, count.parse()?));
            } else if let Some(count) = line.strip_prefix("tickstream_store_ticks_total ") {
                stored = count.parse()?;
            }
        }
        Ok(Self {
            at: Instant::now(),
            stored,
            buckets,
        })
    }

    fn since(&self, earlier: &Sample) -> Window {
        let seconds = self.at.duration_since(earlier.at).as_secs_f64();
        let counts: Vec<(f64, f64)> = self
            .buckets
            .iter()
            .zip(&earlier.buckets)
            .map(|((bound, now), (_, then))| (*bound, now - then))
            .collect();
        let batches = counts.last().map_or(0.0, |(_, n)| *n);
        let p99 = counts
            .iter()
            .find(|(_, n)| *n >= 0.99 * batches)
            .map_or(f64::NAN, |(bound, _)| *bound);
        Window {
            seconds,
            stored_per_second: (self.stored - earlier.stored) / seconds,
            batches,
            p99_ms: p99 * 1e3,
        }
    }
}

impl Window {
    fn report(&self) -> serde_json::Value {
        json!({
            "seconds": (self.seconds * 10.0).round() / 10.0,
            "ticks_stored_per_second": self.stored_per_second.round(),
            "batches": self.batches,
            "batch_commit_p99_ms": self.p99_ms,
        })
    }
}
