//! Replay from the store: a store of 3 000 000 stored ticks (20 symbols, 8
//! partitions, the last hour) under a daemon, replayed at `max`: first
//! with no stream (the store read, the ticks decoded, encoded and logged:
//! what a replay can play), then with one client of every symbol on
//! `/ws?replay=` (what one client receives, the replay waiting for it).
//! Ticks per second of each, against the target (≥ 1 000 000 from the
//! store). Writes JSON.
//!
//! Usage: `replay_bench <tickstreamd> <out.json>` (run by `cargo xtask bench`).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tickstream::{
    model::{EncodedTick, Symbol, Tick},
    store::{Batch, Store},
};
use tickstream_e2e::{Daemon, subscribe_to_everything};
use tokio_tungstenite::tungstenite::Message;

const TICKS: u64 = 3_000_000;
const SYMBOLS: usize = 20;
const PARTITIONS: u32 = 8;
/// Target: ticks per second a replay plays from the store at `max`.
const TARGET: f64 = 1_000_000.0;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(bin), Some(out)) = (args.next(), args.next()) else {
        bail!("usage: replay_bench <tickstreamd> <out.json>");
    };
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data)?;
    let (from, to) = fill_store(&data.join("tickstream.db"))?;
    let daemon = Daemon::start_with_env(
        &bin,
        "run",
        &["--rate", "10"],
        Some(&data),
        &[("TICKSTREAM_LOG__PARTITIONS", &PARTITIONS.to_string())],
    )?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let http = reqwest::Client::new();
    let (alone, streamed) = runtime.block_on(async {
        let alone = replay_alone(&http, &daemon.addr, &from, &to).await?;
        let streamed = replay_streamed(&http, &daemon.addr, &from, &to).await?;
        anyhow::Ok((alone, streamed))
    })?;
    let rate = |ticks: u64, seconds: f64| ticks as f64 / seconds;
    let alone_rate = rate(alone.0, alone.1);
    let report = json!({
        "stored_ticks": TICKS,
        "symbols": SYMBOLS,
        "partitions": PARTITIONS,
        "from_store": {
            "ticks": alone.0,
            "seconds": alone.1,
            "ticks_per_second": alone_rate.round(),
        },
        "to_one_client": {
            "ticks": streamed.0,
            "seconds": streamed.1,
            "ticks_per_second": rate(streamed.0, streamed.1).round(),
        },
        "targets": {
            "from_store_ticks_per_second": {
                "target": TARGET,
                "measured": alone_rate.round(),
                "met": alone_rate >= TARGET,
            },
        },
        "note": "a release daemon on this machine's 2 cores replays 3 M ticks at speed max from its SQLite store; from_store: no stream attached, timed by the replay's own played_ms (store read in log order, ticks encoded, appended to the replay's log); to_one_client: one WebSocket client of every symbol on the same machine, timed from play to replay_completed",
    });
    println!("{report}");
    std::fs::write(&out, serde_json::to_string_pretty(&report)?)?;
    println!("wrote {out}");
    Ok(())
}

/// Writes [`TICKS`] ticks of the last hour into a new store, as a log of
/// [`PARTITIONS`] partitions numbers them; returns the range they cover.
fn fill_store(path: &std::path::Path) -> Result<(String, String)> {
    let mut store = Store::open(path)?;
    let symbols: Vec<Symbol> = (0..SYMBOLS)
        .map(|i| Symbol::new(&format!("S{i:02}")))
        .collect::<Result<_, _>>()?;
    let end = tickstream_e2e::now_micros() - 60_000_000;
    let start = end - 3_600_000_000;
    let spacing = (end - start) / TICKS as i64;
    let mut offsets = vec![0u64; PARTITIONS as usize];
    let mut batch = Vec::with_capacity(100_000);
    for i in 0..TICKS {
        let symbol = &symbols[(i as usize * 7 + i as usize / 3) % SYMBOLS];
        let partition =
            tickstream::log::partitioner::partition_for(symbol.as_str().as_bytes(), PARTITIONS);
        let offset = offsets[partition as usize];
        offsets[partition as usize] += 1;
        let price = 100.0 + ((i % 977) as f64) * 0.01;
        let mut tick = Tick::trade(
            symbol.clone(),
            price,
            i % 300 + 1,
            chrono::DateTime::from_timestamp_micros(start + i as i64 * spacing)
                .context("tick time")?,
        );
        tick.bid = Some(price - 0.01);
        tick.ask = Some(price + 0.01);
        tick.seq = Some(i);
        batch.push((partition, offset, Arc::new(EncodedTick::new(tick))));
        if batch.len() == batch.capacity() || i + 1 == TICKS {
            store.write(
                &Batch {
                    ticks: std::mem::take(&mut batch),
                    ..Batch::default()
                },
                false,
            )?;
            batch.reserve(100_000);
        }
    }
    let positions = (0..PARTITIONS)
        .map(|p| ("stock_ticks".to_owned(), p, offsets[p as usize]))
        .collect();
    store.write(
        &Batch {
            positions,
            ..Batch::default()
        },
        false,
    )?;
    let stamp = |micros: i64| {
        chrono::DateTime::from_timestamp_micros(micros)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
            .context("range time")
    };
    Ok((stamp(start)?, stamp(end)?))
}

async fn open(
    http: &reqwest::Client,
    addr: &str,
    from: &str,
    to: &str,
    paused: bool,
) -> Result<u64> {
    let replay: Value = http
        .post(format!("http://{addr}/api/v1/replays"))
        .json(&json!({"from": from, "to": to, "speed": "max", "paused": paused}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    replay["id"].as_u64().context("a replay id")
}

/// Replays the range with no stream; (ticks, seconds of playing).
async fn replay_alone(
    http: &reqwest::Client,
    addr: &str,
    from: &str,
    to: &str,
) -> Result<(u64, f64)> {
    let id = open(http, addr, from, to, false).await?;
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let status: Value = http
            .get(format!("http://{addr}/api/v1/replays/{id}"))
            .send()
            .await?
            .json()
            .await?;
        if status["state"] == "completed" {
            let ticks = status["ticks"].as_u64().context("ticks")?;
            let ms = status["played_ms"].as_u64().context("played_ms")?;
            http.delete(format!("http://{addr}/api/v1/replays/{id}"))
                .send()
                .await?;
            if ticks != TICKS {
                bail!("the replay played {ticks} ticks of {TICKS}");
            }
            return Ok((ticks, ms as f64 / 1e3));
        }
        if Instant::now() > deadline {
            bail!("the replay did not complete in 10 minutes: {status}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Replays the range to one client of every symbol; (ticks received,
/// seconds from play to `replay_completed`).
async fn replay_streamed(
    http: &reqwest::Client,
    addr: &str,
    from: &str,
    to: &str,
) -> Result<(u64, f64)> {
    let id = open(http, addr, from, to, true).await?;
    let mut socket =
        subscribe_to_everything(&format!("ws://{addr}/ws?replay={id}"), None, None).await?;
    // The subscription is in force once it is confirmed.
    loop {
        let frame = socket.next().await.context("the stream ended")??;
        if let Message::Text(text) = frame
            && text.as_str().starts_with(r#"{"type":"subscribed""#)
        {
            break;
        }
    }
    let started = Instant::now();
    http.post(format!("http://{addr}/api/v1/replays/{id}/control"))
        .json(&json!({"action": "play"}))
        .send()
        .await?
        .error_for_status()?;
    let mut ticks = 0u64;
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(60), socket.next())
            .await
            .context("no frame in 60 s")?
            .context("the stream ended")??;
        let Message::Text(text) = frame else { continue };
        let text = text.as_str();
        if text.starts_with(r#"{"type":"ticks""#) {
            // Each tick is one object with one "symbol".
            ticks += text.matches(r#""symbol":"#).count() as u64;
        } else if text.contains("replay_completed") {
            break;
        } else if text.starts_with(r#"{"type":"gap""#) {
            bail!("the client got a gap: {text}");
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    http.delete(format!("http://{addr}/api/v1/replays/{id}"))
        .send()
        .await?;
    if ticks != TICKS {
        bail!("the client received {ticks} ticks of {TICKS}");
    }
    Ok((ticks, seconds))
}
