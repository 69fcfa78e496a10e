//! Fan-out benchmark: starts `tickstreamd`, connects N WebSocket clients
//! subscribed to every symbol, and measures delivered ticks/s, tick→client
//! latency (p50/p99/max), and the daemon's CPU and memory. Writes JSON.
//!
//! Usage: `fanout <tickstreamd> <out.json>` (run by `cargo xtask bench`).

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

/// (clients, ticks/s) pairs measured.
const SCENARIOS: &[(usize, u64)] = &[(100, 10_000), (100, 20_000), (10, 100_000)];
const WARMUP: Duration = Duration::from_secs(2);
const MEASURE: Duration = Duration::from_secs(10);

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(daemon), Some(out)) = (args.next(), args.next()) else {
        bail!("usage: fanout <tickstreamd> <out.json>");
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut results = Vec::new();
    for &(clients, rate) in SCENARIOS {
        let result = runtime.block_on(scenario(&daemon, clients, rate))?;
        println!("{}", serde_json::to_string(&result)?);
        results.push(result);
    }
    let report = json!({
        "scenarios": results,
        "targets": {
            "delivered_ticks_per_sec_100_clients": 1_000_000,
            "latency_p99_ms_at_10k_ticks_100_clients": 1.0,
        },
        "note": "load generator and daemon share this machine's cores",
    });
    std::fs::write(&out, serde_json::to_string_pretty(&report)?)?;
    println!("wrote {out}");
    Ok(())
}

struct Daemon {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Daemon {
    fn start(bin: &str, rate: u64) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut child = Command::new(bin)
            .args([
                "run",
                "--listen",
                "127.0.0.1:0",
                "--rate",
                &rate.to_string(),
                "--data-dir",
            ])
            .arg(dir.path())
            .env("TICKSTREAM_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {bin}"))?;
        let line = BufReader::new(child.stdout.take().expect("piped"))
            .lines()
            .next()
            .context("tickstreamd printed nothing")??;
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .context("no address printed")?
            .to_owned();
        Ok(Self {
            child,
            addr,
            _dir: dir,
        })
    }

    /// User + system CPU seconds and resident memory (bytes) from /proc.
    fn usage(&self) -> (f64, u64) {
        let pid = self.child.id();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let ticks: u64 = [11, 12]
            .iter()
            .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
            .sum();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let rss_kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0);
        (ticks as f64 / 100.0, rss_kb * 1024)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

async fn scenario(bin: &str, clients: usize, rate: u64) -> Result<serde_json::Value> {
    let daemon = Daemon::start(bin, rate)?;
    let url = format!("ws://{}/ws", daemon.addr);
    let measuring = Arc::new(AtomicBool::new(false));
    let delivered = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (mut socket, _) =
            tokio_tungstenite::connect_async_with_config(&url, None, true).await?;
        socket
            .send(Message::text(r#"{"op":"subscribe","symbols":["*"]}"#))
            .await?;
        let (measuring, delivered) = (measuring.clone(), delivered.clone());
        tasks.push(tokio::spawn(async move {
            let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds");
            while let Some(Ok(frame)) = socket.next().await {
                let Message::Text(text) = frame else { continue };
                if !measuring.load(Ordering::Relaxed) {
                    continue;
                }
                let now = now_micros();
                let mut n = 0;
                for ts in timestamps(text.as_bytes()) {
                    latency.saturating_record((now - ts).max(1) as u64);
                    n += 1;
                }
                delivered.fetch_add(n, Ordering::Relaxed);
            }
            latency
        }));
    }
    tokio::time::sleep(WARMUP).await;
    let (cpu_before, _) = daemon.usage();
    let buckets_before = latency_buckets(&daemon.addr)?;
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(MEASURE).await;
    measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    let (cpu_after, rss) = daemon.usage();
    let buckets_after = latency_buckets(&daemon.addr)?;
    let count = delivered.load(Ordering::Relaxed);
    drop(daemon);
    let mut merged = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    for task in tasks {
        merged.add(task.await?)?;
    }
    let ms = |q: f64| merged.value_at_quantile(q) as f64 / 1_000.0;
    Ok(json!({
        "clients": clients,
        "ticks_per_sec_produced": rate,
        "delivered_ticks_per_sec": (count as f64 / elapsed).round(),
        "delivered_fraction": count as f64 / (rate as f64 * clients as f64 * elapsed),
        "latency_ms": { "p50": ms(0.50), "p99": ms(0.99), "max": merged.max() as f64 / 1_000.0 },
        "daemon_write_latency_ms_at_most": {
            "p50": bucket_quantile(&buckets_before, &buckets_after, 0.50),
            "p99": bucket_quantile(&buckets_before, &buckets_after, 0.99),
        },
        "daemon_cpu_cores": (cpu_after - cpu_before) / elapsed,
        "daemon_rss_mib": rss as f64 / (1024.0 * 1024.0),
    }))
}

/// The daemon's `tickstream_delivery_latency_seconds` buckets: (upper bound in ms, cumulative count).
fn latency_buckets(addr: &str) -> Result<Vec<(f64, f64)>> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.write_all(b"GET /metrics HTTP/1.0\r\n\r\n")?;
    let mut text = String::new();
    stream.read_to_string(&mut text)?;
    const PREFIX: &str = "tickstream_delivery_latency_seconds_bucket{le=\"";
    Ok(text
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(PREFIX)?;
            let (le, count) = rest.split_once("\"} ")?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse::<f64>().ok()? * 1_000.0
            };
            Some((le, count.trim().parse().ok()?))
        })
        .collect())
}

/// The smallest bucket bound (ms) holding quantile `q` of the observations
/// made between two scrapes: an upper bound on the true quantile.
fn bucket_quantile(before: &[(f64, f64)], after: &[(f64, f64)], q: f64) -> Option<f64> {
    let deltas: Vec<(f64, f64)> = after
        .iter()
        .zip(before)
        .map(|(&(le, a), &(_, b))| (le, a - b))
        .collect();
    let total = deltas.last()?.1;
    deltas
        .iter()
        .find(|&&(_, cumulative)| cumulative >= q * total)
        .map(|&(le, _)| le)
        .filter(|le| le.is_finite())
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// Unix microseconds of every `"timestamp":"…"` in a frame, without a full JSON parse.
fn timestamps(frame: &[u8]) -> impl Iterator<Item = i64> + '_ {
    const KEY: &[u8] = b"\"timestamp\":\"";
    memchr::memmem::find_iter(frame, KEY)
        .filter_map(move |at| parse_rfc3339_micros(&frame[at + KEY.len()..]))
}

/// Parses `YYYY-MM-DDTHH:MM:SS.ffffffZ` (the wire format) into Unix microseconds.
fn parse_rfc3339_micros(b: &[u8]) -> Option<i64> {
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        b.get(r)?.iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss, us) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..26)?);
    // Days since the epoch for a proleptic Gregorian date.
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + hh * 3_600 + mm * 60 + ss) * 1_000_000) + us)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_wire_timestamps() {
        assert_eq!(
            parse_rfc3339_micros(b"1970-01-01T00:00:01.000002Z"),
            Some(1_000_002)
        );
        // 2026-11-24T14:30:00.123456Z
        assert_eq!(
            parse_rfc3339_micros(b"2026-11-24T14:30:00.123456Z"),
            Some(1_795_530_600_123_456)
        );
        let frame = br#"{"type":"ticks","data":[{"timestamp":"1970-01-01T00:00:00.000005Z"},{"timestamp":"1970-01-01T00:00:00.000007Z"}]}"#;
        assert_eq!(timestamps(frame).collect::<Vec<_>>(), [5, 7]);
    }
}
