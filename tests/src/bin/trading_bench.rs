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
    // Cash for every order the bench places.
    let daemon = Daemon::start_with_env(
        &bin,
        "run",
        &[],
        Some(&dir.path().join("data")),
        &[("TICKSTREAM_TRADING__STARTING_CASH", "1000000000")],
    )?;
    let latencies = runtime.block_on(measure(&daemon.addr))?;
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

/// Places the orders, timing each to its first fill frame.
async fn measure(addr: &str) -> Result<Histogram<u64>> {
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
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    for i in 0..WARMUP + ORDERS {
        let side = if i % 2 == 0 { "buy" } else { "sell" };
        let order = json!({"symbol": "AAPL", "side": side, "kind": "market", "quantity": 1});
        let sent = Instant::now();
        let response = http.post(&url).json(&order).send().await?;
        if response.status() != 201 {
            bail!("order {i} refused: {}", response.text().await?);
        }
        let placed: Value = response.json().await?;
        let id = placed["order"]["id"].as_u64().context("no order id")?;
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
                .await
                .context("no fill within 5 s")?
                .context("stream closed")??;
            let Message::Text(text) = frame else { continue };
            let value: Value = serde_json::from_str(&text)?;
            if value["type"] == "fill" && value["data"]["order_id"] == id {
                break;
            }
        }
        if i >= WARMUP {
            histogram.record(sent.elapsed().as_micros().max(1) as u64)?;
        }
    }
    Ok(histogram)
}
