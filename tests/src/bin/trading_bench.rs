//! Paper trading's round trip on loopback: a client subscribed to the
//! `orders` stream places market orders over REST (one connection, kept
//! alive), one after another, and times each from sending the request to
//! receiving its first fill on the stream; p50/p99/max against the target
//! (p99 ≤ 1 ms). The daemon simulates at its default rate meanwhile.
//! Writes JSON.
//!
//! Usage: `trading_bench <tickstreamd> <out.json>` (run by `cargo xtask bench`).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tickstream_e2e::Daemon;
use tokio_tungstenite::tungstenite::Message;

/// Orders timed, after the warm-up ones.
const ORDERS: usize = 2_000;
const WARMUP: usize = 200;
/// Target: the 99th percentile of submit → fill event.
const TARGET_P99: Duration = Duration::from_millis(1);

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(bin), Some(out)) = (args.next(), args.next()) else {
        bail!("usage: trading_bench <tickstreamd> <out.json>");
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let dir = tempfile::tempdir()?;
    // Cash for every order the bench places, and no request rate limit
    // (one client places them all, faster than the default allows).
    let daemon = Daemon::start_with_env(
        &bin,
        "run",
        &[],
        Some(&dir.path().join("data")),
        &[
            ("TICKSTREAM_TRADING__STARTING_CASH", "1000000000"),
            ("TICKSTREAM_GATEWAY__RATE_LIMIT", "1000000"),
            ("TICKSTREAM_GATEWAY__RATE_BURST", "1000000"),
        ],
    )?;
    let timings = runtime.block_on(measure(&daemon.addr))?;
    let latencies = &timings.round_trip;
    let micros = |q: f64| latencies.value_at_quantile(q);
    let p99 = Duration::from_micros(micros(0.99));
    let report = json!({
        "orders": ORDERS,
        "submit_to_fill_event_micros": {
            "p50": micros(0.5),
            "p90": micros(0.9),
            "p99": micros(0.99),
            "max": latencies.max(),
        },
        "submit_to_rest_answer_micros": {
            "p50": timings.answer.value_at_quantile(0.5),
            "p99": timings.answer.value_at_quantile(0.99),
        },
        "baseline_get_healthz_micros": {
            "p50": timings.health.value_at_quantile(0.5),
            "p99": timings.health.value_at_quantile(0.99),
        },
        "targets": {
            "round_trip_p99_micros": {
                "target": TARGET_P99.as_micros(),
                "measured": p99.as_micros(),
                "met": p99 <= TARGET_P99,
            },
        },
        "note": "market orders of 1 share, alternately buy and sell, one at a time over one kept-alive HTTP/1.1 connection; the time from sending POST /api/v1/orders to the first `fill` frame of the order on a WebSocket subscribed to `orders`; daemon (simulating, storing each order and fill in SQLite before answering) and client share this machine's cores",
    });
    println!("{report}");
    std::fs::write(&out, serde_json::to_string_pretty(&report)?)?;
    println!("wrote {out}");
    Ok(())
}

/// Places the orders, timing each to its first fill frame; then times
/// `GET /healthz` on the same connection, the HTTP round trip alone.
async fn measure(addr: &str) -> Result<Timings> {
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws")).await?;
    socket
        .send(Message::text(
            r#"{"op":"subscribe","symbols":[],"topics":["orders"]}"#,
        ))
        .await?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .tcp_nodelay(true)
        .build()?;
    let url = format!("http://{addr}/api/v1/orders");
    // The book exists once the symbol has traded.
    let deadline = Instant::now() + Duration::from_secs(10);
    while http
        .get(format!("http://{addr}/api/v1/book?symbol=AAPL"))
        .send()
        .await?
        .status()
        != 200
    {
        if Instant::now() > deadline {
            bail!("AAPL has no book");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Fills are timed as they arrive, by a reader of their own, so the
    // stream is read while the REST answer is awaited.
    let (arrived, mut fills) = tokio::sync::mpsc::unbounded_channel::<(u64, Instant)>();
    let reader = tokio::spawn(async move {
        while let Some(Ok(frame)) = socket.next().await {
            let Message::Text(text) = frame else { continue };
            let at = Instant::now();
            let Ok(value) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            if let (Some("fill"), Some(order)) =
                (value["type"].as_str(), value["data"]["order_id"].as_u64())
                && arrived.send((order, at)).is_err()
            {
                return;
            }
        }
    });
    let mut seen = std::collections::HashMap::new();
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut answers = histogram.clone();
    for i in 0..WARMUP + ORDERS {
        let side = if i % 2 == 0 { "buy" } else { "sell" };
        let order = json!({"symbol": "AAPL", "side": side, "kind": "market", "quantity": 1});
        let sent = Instant::now();
        let response = http.post(&url).json(&order).send().await?;
        if response.status() != 201 {
            bail!("order {i} refused: {}", response.text().await?);
        }
        let placed: Value = response.json().await?;
        let answered = sent.elapsed();
        let id = placed["order"]["id"].as_u64().context("no order id")?;
        let filled_at = loop {
            if let Some(at) = seen.remove(&id) {
                break at;
            }
            let (order, at) = tokio::time::timeout(Duration::from_secs(5), fills.recv())
                .await
                .context("no fill within 5 s")?
                .context("stream closed")?;
            // The first fill of each order.
            seen.entry(order).or_insert(at);
        };
        if i >= WARMUP {
            histogram.record((filled_at - sent).as_micros().max(1) as u64)?;
            answers.record(answered.as_micros().max(1) as u64)?;
        }
    }
    reader.abort();
    let mut baseline = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let health = format!("http://{addr}/healthz");
    for i in 0..WARMUP + ORDERS {
        let sent = Instant::now();
        http.get(&health).send().await?.bytes().await?;
        if i >= WARMUP {
            baseline.record(sent.elapsed().as_micros().max(1) as u64)?;
        }
    }
    Ok(Timings {
        round_trip: histogram,
        answer: answers,
        health: baseline,
    })
}

/// What the bench times.
struct Timings {
    /// Submit to the first fill frame.
    round_trip: Histogram<u64>,
    /// Submit to the REST answer.
    answer: Histogram<u64>,
    /// `GET /healthz` on the same connection.
    health: Histogram<u64>,
}
