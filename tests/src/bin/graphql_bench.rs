//! GraphQL subscription fan-out next to the WebSocket protocol's: one
//! daemon, the same clients subscribed to every symbol the same way, first
//! through `/ws` (`subscribe`), then through `/graphql` (a `ticks`
//! subscription over `graphql-transport-ws`); delivered ticks/s of each and
//! their ratio (target: GraphQL at least half). Writes JSON.
//!
//! Usage: `graphql_bench <tickstreamd> <out.json>` (run by `cargo xtask bench`).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tickstream_e2e::{Daemon, WebSocket, scan_micros, subscribe_to_everything};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

const CLIENTS: usize = 50;
/// The tick rates measured, each on a fresh daemon: one both keep up with,
/// one that saturates this machine.
const RATES: [u64; 2] = [2_000, 10_000];
const WARMUP: Duration = Duration::from_secs(2);
const MEASURE: Duration = Duration::from_secs(10);
/// GraphQL's delivered ticks/s at least this share of the WebSocket protocol's.
const TARGET_SHARE: f64 = 0.5;

/// The subscription each GraphQL client runs, per tick or in batches.
fn subscription(field: &str) -> String {
    format!(
        r#"subscription {{ {field}(symbols: ["*"]) {{ symbol price volume timestamp partition offset }} }}"#
    )
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(bin), Some(out)) = (args.next(), args.next()) else {
        bail!("usage: graphql_bench <tickstreamd> <out.json>");
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut loads = Vec::new();
    for rate in RATES {
        let dir = tempfile::tempdir()?;
        let daemon = Daemon::start(
            &bin,
            "run",
            &["--rate", &rate.to_string()],
            Some(&dir.path().join("data")),
        )?;
        let ws = runtime.block_on(measure(&daemon.addr, Protocol::WebSocket))?;
        let each = runtime.block_on(measure(&daemon.addr, Protocol::GraphQL("ticks")))?;
        let batched = runtime.block_on(measure(&daemon.addr, Protocol::GraphQL("tickBatches")))?;
        let share = each.max(batched) / ws.max(1.0);
        let load = json!({
            "clients": CLIENTS,
            "ticks_per_sec_produced": rate,
            "seconds": MEASURE.as_secs(),
            "delivered_ticks_per_sec": {
                "websocket": ws,
                "graphql_ticks": each,
                "graphql_tick_batches": batched,
            },
            "graphql_share_of_websocket": {
                "ticks": each / ws.max(1.0),
                "tick_batches": batched / ws.max(1.0),
            },
            "met": share >= TARGET_SHARE,
        });
        println!("{load}");
        loads.push(load);
    }
    let met = loads.iter().all(|l| l["met"] == true);
    let report = json!({
        "loads": loads,
        "targets": {
            "graphql_share_of_websocket": { "target": TARGET_SHARE, "met": met },
        },
        "note": "one daemon per rate; clients and daemon share this machine's cores; the WebSocket protocol sends a batch of ticks per frame, GraphQL one tick per message",
    });
    std::fs::write(&out, serde_json::to_string_pretty(&report)?)?;
    println!("wrote {out}");
    Ok(())
}

#[derive(Clone, Copy)]
enum Protocol {
    WebSocket,
    /// A GraphQL subscription of this field.
    GraphQL(&'static str),
}

/// Delivered ticks/s over all clients of `protocol`.
async fn measure(addr: &str, protocol: Protocol) -> Result<f64> {
    let measuring = Arc::new(AtomicBool::new(false));
    let delivered = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let mut socket = match protocol {
            Protocol::WebSocket => {
                subscribe_to_everything(&format!("ws://{addr}/ws"), None, None).await?
            }
            Protocol::GraphQL(field) => subscribe_by_graphql(addr, field).await?,
        };
        let (measuring, delivered) = (measuring.clone(), delivered.clone());
        tasks.push(tokio::spawn(async move {
            while let Some(Ok(frame)) = socket.next().await {
                let Message::Text(text) = frame else { continue };
                if measuring.load(Ordering::Relaxed) {
                    // A frame or a batch carries many ticks, each with its offset.
                    let ticks = match protocol {
                        Protocol::WebSocket => scan_micros(text.as_bytes()).count() as u64,
                        Protocol::GraphQL(_) => text.matches(r#""offset":"#).count() as u64,
                    };
                    delivered.fetch_add(ticks, Ordering::Relaxed);
                }
            }
        }));
    }
    tokio::time::sleep(WARMUP).await;
    measuring.store(true, Ordering::Relaxed);
    tokio::time::sleep(MEASURE).await;
    measuring.store(false, Ordering::Relaxed);
    let count = delivered.load(Ordering::Relaxed);
    for task in tasks {
        task.abort();
    }
    Ok(count as f64 / MEASURE.as_secs_f64())
}

/// A `graphql-transport-ws` connection with a subscription of `field`
/// (`ticks` or `tickBatches`) to every symbol running.
async fn subscribe_by_graphql(addr: &str, field: &str) -> Result<WebSocket> {
    let mut request = format!("ws://{addr}/graphql").into_client_request()?;
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    socket
        .send(Message::text(r#"{"type":"connection_init"}"#))
        .await?;
    let ack = socket.next().await.context("no connection_ack")??;
    if !ack.to_text()?.contains("connection_ack") {
        bail!("expected connection_ack, got {ack:?}");
    }
    let query = subscription(field);
    let subscribe = json!({"id": "1", "type": "subscribe", "payload": {"query": query}});
    socket.send(Message::text(subscribe.to_string())).await?;
    Ok(socket)
}
