//! Fan-out benchmark: starts `tickstreamd`, connects N WebSocket clients
//! subscribed to every symbol, and measures delivered ticks/s, tick→client
//! latency (p50/p99/max), and the daemon's CPU and memory. Writes JSON.
//!
//! Usage: `fanout <tickstreamd> <out.json>` (run by `cargo xtask bench`).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Result, bail};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::json;
use tickstream_e2e::{Daemon, now_micros, timestamps};
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

/// CPU seconds (user + system) and resident bytes of a process, from /proc.
fn usage(pid: u32) -> (f64, u64) {
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
    // USER_HZ is 100 on Linux.
    (ticks as f64 / 100.0, rss_kb * 1024)
}

async fn scenario(bin: &str, clients: usize, rate: u64) -> Result<serde_json::Value> {
    let data_dir = tempfile::tempdir()?;
    let daemon = Daemon::start(
        bin,
        "run",
        &["--rate", &rate.to_string()],
        Some(data_dir.path()),
    )?;
    let pid = daemon.process.0.id();
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
    let (cpu_before, _) = usage(pid);
    let buckets_before = latency_buckets(&daemon.addr)?;
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(MEASURE).await;
    measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    let (cpu_after, rss) = usage(pid);
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
