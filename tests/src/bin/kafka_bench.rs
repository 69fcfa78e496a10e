//! Kafka benchmark against a real Kafka-API broker (Tansu): producer ticks/s
//! acknowledged, bridge ticks/s consumed, and tick→client latency at 10k
//! ticks/s through a bridge next to a bare rdkafka consumer in the same run.
//!
//! Usage: `kafka_bench <tickstreamd> <tansu> <out.json>` (run by `cargo xtask bench`).

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use rdkafka::{
    ClientConfig, Message, Offset, TopicPartitionList,
    consumer::{BaseConsumer, Consumer},
};
use serde_json::json;
use tickstream_e2e::{Daemon, Tansu, now_micros, scan_micros};
use tokio_tungstenite::tungstenite::Message as WsMessage;

const MEASURE: Duration = Duration::from_secs(10);

fn quantiles(h: &Histogram<u64>) -> serde_json::Value {
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1_000.0;
    json!({ "p50": ms(0.5), "p99": ms(0.99), "max": h.max() as f64 / 1_000.0, "samples": h.len() })
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [tickstreamd, tansu_bin, out] = args.as_slice() else {
        bail!("usage: kafka_bench <tickstreamd> <tansu> <out.json>");
    };
    let dir = tempfile::tempdir()?;

    // 1. Producer: ticks/s acknowledged by the broker, simulator at full
    //    speed: trades only, then with the order book on (its records and
    //    quotes go to the cluster too).
    let broker = Tansu::start(tansu_bin)?;
    let brokers = broker.brokers.clone();
    let depth_broker = Tansu::start(tansu_bin)?;
    let (depth_ticks_rate, depth_records_rate) =
        producer_rates(tickstreamd, &depth_broker.brokers, "true")?;
    drop(depth_broker);
    let (produced_rate, _) = producer_rates(tickstreamd, &brokers, "false")?;
    // Everything acknowledged, including what shutdown flushed.
    let total = count_messages(&brokers)?;
    println!(
        "producer: {produced_rate:.0} ticks/s acknowledged; with depth {depth_ticks_rate:.0} ticks/s, {depth_records_rate:.0} records/s"
    );

    // 2. Bridge: consume what is there from the earliest offset; a bare
    //    rdkafka consumer first, for what the broker and client allow.
    let bare_rate = bare_consumer_rate(&brokers, total)?;
    println!("bare consumer: {bare_rate:.0} ticks/s");
    let started = Instant::now();
    let bridge = Daemon::start(
        tickstreamd,
        "bridge",
        &["--brokers", &brokers, "--start", "earliest"],
        Some(&dir.path().join("bridge")),
    )?;
    let mut consumed = 0.0;
    while started.elapsed() < Duration::from_secs(120) {
        consumed = bridge
            .metric(r#"tickstream_kafka_consumed_total{record="tick"}"#)
            .unwrap_or(0.0);
        if consumed >= total {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let consume_rate = consumed / started.elapsed().as_secs_f64();
    drop(bridge);
    drop(broker);
    println!("bridge: {consume_rate:.0} ticks/s consumed ({consumed} of {total})");

    // 3. Latency at 10k ticks/s: a WebSocket client of a bridge, and a bare
    //    consumer of the same topic, side by side.
    let broker = Tansu::start(tansu_bin)?;
    let brokers2 = broker.brokers.clone();
    let _producer = Daemon::start(
        tickstreamd,
        "producer",
        &["--brokers", &brokers2, "--rate", "10000"],
        None,
    )?;
    let bridge = Daemon::start(
        tickstreamd,
        "bridge",
        &["--brokers", &brokers2, "-X", "fetch.wait.max.ms=5"],
        Some(&dir.path().join("bridge2")),
    )?;
    let baddr = bridge.addr.clone();
    std::thread::sleep(Duration::from_secs(3));
    let bare = std::thread::spawn({
        let brokers = brokers2.clone();
        move || bare_consumer_latency(&brokers)
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let ws = runtime.block_on(ws_latency(&baddr))?;
    let bare = bare.join().expect("bare consumer thread")?;
    let bridge_adds_p99 =
        (ws.value_at_quantile(0.99) as f64 - bare.value_at_quantile(0.99) as f64) / 1_000.0;
    println!(
        "latency: bridge→client {} / bare consumer {}",
        quantiles(&ws),
        quantiles(&bare)
    );

    let report = json!({
        "producer_ticks_per_sec": produced_rate.round(),
        "producer_with_depth_ticks_per_sec": depth_ticks_rate.round(),
        "producer_with_depth_records_per_sec": depth_records_rate.round(),
        "bridge_consumed_ticks_per_sec": consume_rate.round(),
        "bare_rdkafka_consumer_ticks_per_sec": bare_rate.round(),
        "latency_at_10k_ticks_per_sec_ms": {
            "bridge_to_websocket_client": quantiles(&ws),
            "bare_rdkafka_consumer": quantiles(&bare),
            "bridge_adds_p99": bridge_adds_p99,
        },
        "targets": { "producer_ticks_per_sec": 500_000, "bridge_consumed_ticks_per_sec": 1_000_000, "bridge_adds_p99_ms": 1.0 },
        "note": "broker (Tansu, memory engine), daemons and clients share this machine's cores",
    });
    std::fs::write(out, serde_json::to_string_pretty(&report)?)?;
    println!("wrote {out}");
    Ok(())
}

/// Messages per second a bare consumer reads from the earliest offset
/// until it has `total` (payloads touched, nothing decoded).
fn bare_consumer_rate(brokers: &str, total: f64) -> Result<f64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "bench-bare-rate")
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "10")
        .create()?;
    let metadata = consumer.fetch_metadata(Some("stock_ticks"), Duration::from_secs(10))?;
    let mut tpl = TopicPartitionList::new();
    for p in metadata.topics()[0].partitions() {
        tpl.add_partition_offset("stock_ticks", p.id(), Offset::Beginning)?;
    }
    consumer.assign(&tpl)?;
    let started = Instant::now();
    let (mut count, mut bytes) = (0.0, 0usize);
    while count < total && started.elapsed() < Duration::from_secs(120) {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            bytes += m.payload().map_or(0, <[u8]>::len);
            count += 1.0;
        }
    }
    std::hint::black_box(bytes);
    Ok(count / started.elapsed().as_secs_f64())
}

/// Messages in `stock_ticks` (sum of high minus low watermarks).
/// Ticks/s and records/s (every kind) a producer at full speed gets
/// acknowledged over [`MEASURE`], the order book on or not (`order_book`).
fn producer_rates(tickstreamd: &str, brokers: &str, order_book: &str) -> Result<(f64, f64)> {
    let producer = Daemon::start_with_env(
        tickstreamd,
        "producer",
        &["--brokers", brokers, "--rate", "max"],
        None,
        &[("TICKSTREAM_SIM__ORDER_BOOK", order_book)],
    )?;
    // Ticks, and records of every kind, acknowledged so far: one reading.
    let delivered = || -> Result<(f64, f64)> {
        let text = producer.metrics_text()?;
        Ok(text
            .lines()
            .filter_map(|line| line.strip_prefix("tickstream_kafka_delivered_total{record=\""))
            .filter_map(|rest| {
                let (kind, value) = rest.split_once("\"} ")?;
                Some((kind == "tick", value.parse::<f64>().ok()?))
            })
            .fold((0.0, 0.0), |(ticks, all), (tick, n)| {
                (if tick { ticks + n } else { ticks }, all + n)
            }))
    };
    std::thread::sleep(Duration::from_secs(2));
    let ((ticks, all), t0) = (delivered()?, Instant::now());
    std::thread::sleep(MEASURE);
    let seconds = t0.elapsed().as_secs_f64();
    let (ticks_after, all_after) = delivered()?;
    Ok(((ticks_after - ticks) / seconds, (all_after - all) / seconds))
}

fn count_messages(brokers: &str) -> Result<f64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()?;
    let metadata = consumer.fetch_metadata(Some("stock_ticks"), Duration::from_secs(10))?;
    let mut total = 0;
    for p in metadata.topics()[0].partitions() {
        let (low, high) =
            consumer.fetch_watermarks("stock_ticks", p.id(), Duration::from_secs(10))?;
        total += high - low;
    }
    Ok(total as f64)
}

/// Tick age when a bare consumer (reading every partition from the end) gets it.
fn bare_consumer_latency(brokers: &str) -> Result<Histogram<u64>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "bench-bare")
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "5")
        .create()?;
    let metadata = consumer.fetch_metadata(Some("stock_ticks"), Duration::from_secs(10))?;
    let mut tpl = TopicPartitionList::new();
    for p in metadata.topics()[0].partitions() {
        tpl.add_partition_offset("stock_ticks", p.id(), Offset::End)?;
    }
    consumer.assign(&tpl)?;
    let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let deadline = Instant::now() + MEASURE;
    while Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100))
            && let Some(ts) = m.payload().and_then(|p| scan_micros(p).next())
        {
            h.saturating_record((now_micros() - ts).max(1) as u64);
        }
    }
    Ok(h)
}

/// Tick age when a WebSocket client of the bridge gets it.
async fn ws_latency(addr: &str) -> Result<Histogram<u64>> {
    let (mut socket, _) =
        tokio_tungstenite::connect_async_with_config(format!("ws://{addr}/ws"), None, true).await?;
    socket
        .send(WsMessage::text(r#"{"op":"subscribe","symbols":["*"]}"#))
        .await?;
    let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let deadline = tokio::time::Instant::now() + MEASURE;
    while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, socket.next()).await {
        let WsMessage::Text(text) = frame else {
            continue;
        };
        let now = now_micros();
        for ts in scan_micros(text.as_bytes()) {
            h.saturating_record((now - ts).max(1) as u64);
        }
    }
    Ok(h)
}
