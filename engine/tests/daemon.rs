//! The daemon as a real process on a free port, exercised through its public
//! interfaces: the WebSocket protocol, the REST API, /metrics, signals.

mod support;

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    process::Command,
    time::Duration,
};

use serde_json::{Value, json};
use support::{Client, Daemon, by_partition, position};

fn assert_contiguous(ticks: &[Value]) {
    for (p, offsets) in by_partition(ticks) {
        for w in offsets.windows(2) {
            assert_eq!(
                w[1],
                w[0] + 1,
                "partition {p}: offset {} follows {}",
                w[1],
                w[0]
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_get_exactly_their_symbols_in_offset_order() {
    let daemon = Daemon::start(&["--rate", "2000"]);
    daemon.wait_ready().await;
    let mut all = Client::connect(&daemon.ws_url()).await;
    all.send(json!({"op":"subscribe","symbols":["*"]})).await;
    assert_eq!(all.recv_type("subscribed").await["symbols"], json!(["*"]));
    let mut a = Client::connect(&daemon.ws_url()).await;
    a.send(json!({"op":"subscribe","symbols":["AAPL","MSFT"]}))
        .await;
    assert_eq!(
        a.recv_type("subscribed").await["symbols"],
        json!(["AAPL", "MSFT"])
    );
    let mut b = Client::connect(&daemon.ws_url()).await;
    b.send(json!({"op":"subscribe","symbols":["NVDA"]})).await;
    b.recv_type("subscribed").await;

    let window = Duration::from_millis(1_500);
    let (all_ticks, a_ticks, b_ticks) = tokio::join!(
        all.collect_ticks(window),
        a.collect_ticks(window),
        b.collect_ticks(window)
    );
    assert!(
        all_ticks.len() > 1_000,
        "only {} ticks at 2000/s",
        all_ticks.len()
    );
    assert!(
        a_ticks
            .iter()
            .all(|t| t["symbol"] == "AAPL" || t["symbol"] == "MSFT")
    );
    assert!(b_ticks.iter().all(|t| t["symbol"] == "NVDA"));
    assert!(!a_ticks.is_empty() && !b_ticks.is_empty());
    // The wildcard client sees every offset of every partition, in order.
    assert_contiguous(&all_ticks);

    // Each filtered client got exactly the wildcard stream's ticks of its
    // symbols, over the offsets both saw.
    for (client, symbols) in [(&a_ticks, &["AAPL", "MSFT"][..]), (&b_ticks, &["NVDA"][..])] {
        let seen: HashSet<(u64, u64)> = client.iter().map(position).collect();
        let first: HashMap<u64, u64> = by_partition(client)
            .into_iter()
            .map(|(p, o)| (p, o[0]))
            .collect();
        let last: HashMap<u64, u64> = by_partition(client)
            .into_iter()
            .map(|(p, o)| (p, *o.last().unwrap()))
            .collect();
        for t in &all_ticks {
            let (p, o) = position(t);
            let in_window =
                first.get(&p).is_some_and(|&f| o >= f) && last.get(&p).is_some_and(|&l| o <= l);
            let wanted = symbols.contains(&t["symbol"].as_str().unwrap());
            if in_window {
                assert_eq!(seen.contains(&(p, o)), wanted, "tick {t}");
            }
        }
        for (p, offsets) in by_partition(client) {
            assert!(
                offsets.windows(2).all(|w| w[0] < w[1]),
                "partition {p} out of order"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batching_client_gets_every_tick_in_fewer_frames() {
    let daemon = Daemon::start(&["--rate", "2000"]);
    daemon.wait_ready().await;
    let mut plain = Client::connect(&daemon.ws_url()).await;
    plain.send(json!({"op":"subscribe","symbols":["*"]})).await;
    assert_eq!(plain.recv_type("subscribed").await["batch_ms"], 0);
    let mut batched = Client::connect(&daemon.ws_url()).await;
    batched
        .send(json!({"op":"subscribe","symbols":["*"],"batch_ms":200}))
        .await;
    assert_eq!(batched.recv_type("subscribed").await["batch_ms"], 200);

    let window = Duration::from_secs(2);
    let (plain_frames, batched_frames) =
        tokio::join!(plain.collect_frames(window), batched.collect_frames(window));
    let tick_frames = |frames: &[Value]| -> Vec<Value> {
        frames
            .iter()
            .filter(|f| f["type"] == "ticks")
            .cloned()
            .collect()
    };
    let (plain_frames, batched_frames) = (tick_frames(&plain_frames), tick_frames(&batched_frames));
    // At most one frame per 200 ms (and one for the ticks waiting at the start).
    assert!(
        batched_frames.len() <= 11,
        "{} frames in 2 s at batch_ms 200",
        batched_frames.len()
    );
    assert!(
        plain_frames.len() > 2 * batched_frames.len(),
        "unbatched {} frames, batched {}",
        plain_frames.len(),
        batched_frames.len()
    );
    // Nothing is lost to batching: every offset of every partition, in order.
    let ticks: Vec<Value> = batched_frames
        .iter()
        .flat_map(|f| f["data"].as_array().unwrap().iter().cloned())
        .collect();
    assert!(ticks.len() > 2_000, "only {} ticks at 2000/s", ticks.len());
    assert_contiguous(&ticks);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnecting_with_resume_gives_no_gap_and_no_duplicate() {
    let daemon = Daemon::start(&["--rate", "2000"]);
    daemon.wait_ready().await;
    let mut first = Client::connect(&daemon.ws_url()).await;
    first.send(json!({"op":"subscribe","symbols":["*"]})).await;
    first.recv_type("subscribed").await;
    let before = first.collect_ticks(Duration::from_millis(500)).await;
    first.close().await;
    let mut resume = BTreeMap::new();
    for (p, offsets) in by_partition(&before) {
        resume.insert(p.to_string(), offsets.last().unwrap() + 1);
    }
    // Ticks keep flowing while the client is away.
    let produced = daemon.metric("tickstream_ticks_produced_total").await;
    daemon
        .wait_metric("tickstream_ticks_produced_total", produced + 500.0)
        .await;

    let mut second = Client::connect(&daemon.ws_url()).await;
    second
        .send(json!({"op":"subscribe","symbols":["*"],"resume":resume}))
        .await;
    let subscribed = second.recv_type("subscribed").await;
    for (p, next) in &resume {
        assert_eq!(subscribed["positions"][p], json!(next));
    }
    let after = second.collect_ticks(Duration::from_millis(500)).await;
    let after_by_partition = by_partition(&after);
    for (p, next) in &resume {
        let offsets = &after_by_partition[&p.parse::<u64>().unwrap()];
        assert_eq!(
            offsets[0], *next,
            "partition {p} resumes at the next offset"
        );
    }
    assert_contiguous(&after);
    // About 400 ms of ticks were produced while away and are delivered now.
    assert!(
        after.len() > before.len(),
        "{} after vs {} before",
        after.len(),
        before.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_frames_get_error_frames_and_the_connection_stays_usable() {
    let daemon = Daemon::start(&["--rate", "1000"]);
    daemon.wait_ready().await;
    let mut c = Client::connect(&daemon.ws_url()).await;
    let cases: Vec<(String, &str)> = vec![
        ("not json".into(), "malformed_json"),
        ("{\"op\":\"dance\"}".into(), "invalid_message"),
        ("[1,2]".into(), "invalid_message"),
        (
            "{\"op\":\"subscribe\",\"symbol\":[\"AAPL\"]}".into(),
            "invalid_message",
        ),
        (
            format!("{{\"op\":\"ping\",\"pad\":\"{}\"}}", "x".repeat(40_000)),
            "frame_too_large",
        ),
        (
            "{\"op\":\"subscribe\",\"symbols\":[\"aapl\"]}".into(),
            "invalid_symbol",
        ),
        (
            "{\"op\":\"subscribe\",\"symbols\":[\"ZZZZ\"]}".into(),
            "unknown_symbol",
        ),
        (
            "{\"op\":\"subscribe\",\"symbols\":[\"*\"],\"resume\":{\"99\":0}}".into(),
            "invalid_resume",
        ),
        (
            "{\"op\":\"subscribe\",\"symbols\":[\"*\"],\"resume\":{\"0\":999999999}}".into(),
            "invalid_resume",
        ),
        (
            "{\"op\":\"subscribe\",\"symbols\":[\"*\"],\"batch_ms\":5000}".into(),
            "invalid_message",
        ),
    ];
    for (frame, code) in cases {
        c.send_text(&frame).await;
        let reply = c.recv_type("error").await;
        assert_eq!(
            reply["code"],
            code,
            "for {}: {reply}",
            &frame[..frame.len().min(60)]
        );
        assert!(reply["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    c.send_binary(vec![1, 2, 3]).await;
    assert_eq!(c.recv_type("error").await["code"], "binary_not_supported");
    c.send(json!({"op":"ping","id":7})).await;
    assert_eq!(c.recv_type("pong").await, json!({"type":"pong","id":7}));
    // Still streams after all that.
    c.send(json!({"op":"subscribe","symbols":["AAPL"]})).await;
    c.recv_type("subscribed").await;
    let ticks = c.collect_ticks(Duration::from_millis(600)).await;
    assert!(!ticks.is_empty() && ticks.iter().all(|t| t["symbol"] == "AAPL"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_candles_agree_with_the_ticks_a_client_saw() {
    let daemon = Daemon::start(&["--rate", "3000"]);
    // Subscribe from offset 0 of every partition: the client sees every tick.
    let mut c = Client::connect(&daemon.ws_url()).await;
    let from_zero: BTreeMap<String, u64> = (0..8).map(|p| (p.to_string(), 0)).collect();
    c.send(json!({"op":"subscribe","symbols":["AAPL"],"resume":from_zero}))
        .await;
    c.recv_type("subscribed").await;
    let ticks = c.collect_ticks(Duration::from_millis(2_500)).await;
    let stop = chrono::Utc::now();
    // The store has committed every tick the client saw.
    let seen = by_partition(&ticks);
    support::eventually(
        "the store holds what the client saw",
        Duration::from_secs(10),
        || async {
            let response =
                reqwest::get(daemon.url("/api/v1/candles?symbol=AAPL&interval=1s&limit=1"))
                    .await
                    .unwrap();
            let positions = stored_positions(&response);
            seen.iter().all(|(p, offsets)| {
                positions
                    .get(p)
                    .is_some_and(|&next| next > *offsets.last().unwrap())
            })
        },
    )
    .await;

    let mine = candles_in_cents(ticks.iter());
    let candles: Vec<Value> =
        reqwest::get(daemon.url("/api/v1/candles?symbol=AAPL&interval=1s&limit=100"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let mut compared = 0;
    for c in &candles {
        let start = chrono::DateTime::parse_from_rfc3339(c["start"].as_str().unwrap()).unwrap();
        if start.timestamp() + 1 >= stop.timestamp() {
            continue; // the client stopped listening inside this bucket
        }
        assert_candle_matches(c, &mine[&start.timestamp()]);
        assert_eq!(c["closed"], true);
        compared += 1;
    }
    assert!(compared >= 1, "no complete candle compared: {candles:?}");
    // Every bucket the client saw (but the last) is in the REST answer.
    assert!(candles.len() + 1 >= mine.len());
}

/// The `tickstream-positions` header: the next offset the store holds per partition.
fn stored_positions(response: &reqwest::Response) -> HashMap<u64, u64> {
    response.headers()["tickstream-positions"]
        .to_str()
        .unwrap()
        .split(',')
        .map(|pair| {
            let (p, o) = pair.split_once('=').unwrap();
            (p.parse().unwrap(), o.parse().unwrap())
        })
        .collect()
}

/// One-second candles, in exact cents, computed from ticks as a client saw them.
#[derive(Debug, Clone, Copy)]
struct Ohlcv {
    open: i64,
    high: i64,
    low: i64,
    close: i64,
    volume: u64,
    trades: u64,
    cents_volume: i128,
}

fn candles_in_cents<'a>(ticks: impl Iterator<Item = &'a Value>) -> BTreeMap<i64, Ohlcv> {
    let mut candles: BTreeMap<i64, Ohlcv> = BTreeMap::new();
    for t in ticks {
        let ts = chrono::DateTime::parse_from_rfc3339(t["timestamp"].as_str().unwrap()).unwrap();
        let cents = (t["price"].as_f64().unwrap() * 100.0).round() as i64;
        let volume = t["volume"].as_u64().unwrap();
        let e = candles.entry(ts.timestamp()).or_insert(Ohlcv {
            open: cents,
            high: cents,
            low: cents,
            close: cents,
            volume: 0,
            trades: 0,
            cents_volume: 0,
        });
        e.high = e.high.max(cents);
        e.low = e.low.min(cents);
        e.close = cents;
        e.volume += volume;
        e.trades += 1;
        e.cents_volume += i128::from(cents) * i128::from(volume);
    }
    candles
}

/// Checks a REST candle against one computed from ticks: prices, volume and
/// trades exactly, the VWAP to its 10^-6 rounding.
fn assert_candle_matches(c: &Value, m: &Ohlcv) {
    let cents = |k: &str| (c[k].as_f64().unwrap() * 100.0).round() as i64;
    assert_eq!(
        (cents("open"), cents("high"), cents("low"), cents("close")),
        (m.open, m.high, m.low, m.close),
        "{c}"
    );
    assert_eq!(
        (c["volume"].as_u64().unwrap(), c["trades"].as_u64().unwrap()),
        (m.volume, m.trades),
        "{c}"
    );
    let vwap = m.cents_volume as f64 / m.volume as f64 / 100.0;
    assert!(
        (c["vwap"].as_f64().unwrap() - vwap).abs() < 1e-6,
        "{c} vs {vwap}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candle_positions_header_says_exactly_which_ticks_are_included() {
    let daemon = Daemon::start(&["--rate", "3000"]);
    let mut c = Client::connect(&daemon.ws_url()).await;
    let from_zero: BTreeMap<String, u64> = (0..8).map(|p| (p.to_string(), 0)).collect();
    c.send(json!({"op":"subscribe","symbols":["*"],"resume":from_zero}))
        .await;
    c.recv_type("subscribed").await;
    let mut ticks = c.collect_ticks(Duration::from_millis(1_500)).await;
    let response = reqwest::get(daemon.url("/api/v1/candles?symbol=AAPL&interval=1s&limit=100"))
        .await
        .unwrap();
    let positions = stored_positions(&response);
    assert_eq!(positions.len(), 8, "{positions:?}");
    let candles: Vec<Value> = response.json().await.unwrap();
    // Read on until the client has every tick below the positions.
    while positions
        .iter()
        .any(|(p, &next)| next > 0 && !ticks.iter().any(|t| position(t) == (*p, next - 1)))
    {
        ticks.extend(c.collect_ticks(Duration::from_millis(200)).await);
    }
    let included = ticks
        .iter()
        .filter(|t| t["symbol"] == "AAPL" && position(t).1 < positions[&position(t).0]);
    let mine = candles_in_cents(included);
    assert_eq!(
        candles.len(),
        mine.len(),
        "one candle per second with AAPL ticks"
    );
    for c in &candles {
        let start = chrono::DateTime::parse_from_rfc3339(c["start"].as_str().unwrap()).unwrap();
        assert_candle_matches(c, &mine[&start.timestamp()]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_reports_precise_errors() {
    let daemon = Daemon::start(&["--rate", "100"]);
    daemon.wait_ready().await;
    let cases = [
        ("/api/v1/ticks", 400, "missing_parameter"),
        ("/api/v1/ticks?symbol=a%20b", 400, "invalid_parameter"),
        ("/api/v1/ticks?symbol=ZZZZ", 404, "unknown_symbol"),
        (
            "/api/v1/ticks?symbol=AAPL&limit=0",
            400,
            "invalid_parameter",
        ),
        (
            "/api/v1/ticks?symbol=AAPL&from=yesterday",
            400,
            "invalid_parameter",
        ),
        (
            "/api/v1/ticks?symbol=AAPL&symbl=x",
            400,
            "unknown_parameter",
        ),
        (
            "/api/v1/candles?symbol=AAPL&interval=2m",
            400,
            "invalid_parameter",
        ),
        (
            "/api/v1/candles?symbol=AAPL&from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
            400,
            "invalid_parameter",
        ),
        ("/api/v1/nothing", 404, "not_found"),
    ];
    for (path, status, code) in cases {
        let response = reqwest::get(daemon.url(path)).await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{path}: {body}");
    }
    let symbols: Vec<Value> = reqwest::get(daemon.url("/api/v1/symbols"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(symbols.len(), 20);
    assert!(symbols.iter().all(|s| s["price"].as_f64().unwrap() > 0.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_as_prometheus_text() {
    let daemon = Daemon::start(&["--rate", "1000"]);
    daemon.wait_ready().await;
    let mut c = Client::connect(&daemon.ws_url()).await;
    c.send(json!({"op":"subscribe","symbols":["*"]})).await;
    c.collect_ticks(Duration::from_millis(500)).await;
    let text = daemon.metrics_text().await;
    let mut samples = HashMap::new();
    for line in text.lines() {
        if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            continue;
        }
        assert!(!line.starts_with('#'), "stray comment {line:?}");
        let (name, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value in {line:?}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line:?}"));
        let bare = name.split('{').next().unwrap();
        assert!(
            bare.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
                && (bare.starts_with("tickstream_") || bare.starts_with("process_")),
            "bad name {bare:?}"
        );
        samples.insert(name.to_owned(), value);
    }
    assert!(samples["tickstream_ticks_produced_total"] > 0.0);
    // The process's own, as every Prometheus client library names them.
    assert!(samples["process_resident_memory_bytes"] > 0.0);
    assert!(samples["process_open_fds"] > 0.0);
    assert!(samples["tickstream_ticks_delivered_total"] > 0.0);
    assert_eq!(samples["tickstream_ws_clients"], 1.0);
    assert!(samples["tickstream_delivery_latency_seconds_count"] > 0.0);
    assert!(samples["tickstream_store_batches_total"] > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_exits_cleanly_and_the_store_holds_the_last_ticks() {
    let mut daemon = Daemon::start(&["--rate", "5000"]);
    let mut c = Client::connect(&daemon.ws_url()).await;
    c.send(json!({"op":"subscribe","symbols":["*"]})).await;
    c.recv_type("subscribed").await;
    let seen = c.collect_ticks(Duration::from_millis(800)).await;
    let (status, took) = daemon.terminate();
    // A shutdown that missed its deadline exits with status 2.
    assert!(status.success(), "exit status {status}");
    assert!(took < Duration::from_secs(2), "shutdown took {took:?}");

    let db = rusqlite::Connection::open(daemon.data_dir.path().join("tickstream.db")).unwrap();
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let stored = |p: u64, o: u64| -> bool {
        db.query_row(
            "SELECT count(*) FROM ticks WHERE log_partition = ?1 AND log_offset = ?2",
            [p as i64, o as i64],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
            == 1
    };
    for (p, offsets) in by_partition(&seen) {
        let last = *offsets.last().unwrap();
        assert!(
            stored(p, last),
            "last tick seen in partition {p} (offset {last}) is stored"
        );
    }
    // Every tick the log held was committed: one row per offset, no more.
    let rows: i64 = db
        .query_row("SELECT count(*) FROM ticks", [], |r| r.get(0))
        .unwrap();
    let next: i64 = db
        .query_row("SELECT sum(next_offset) FROM log_positions", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(rows, next);
}

#[test]
fn a_failed_component_ends_the_daemon_with_an_error_naming_it() {
    for component in ["store writer", "quote follower", "alert follower"] {
        let out = Command::new(env!("CARGO_BIN_EXE_tickstreamd"))
            .args(["run", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(tempfile::tempdir().unwrap().path())
            .env("TICKSTREAM_BACKFILL", "0s")
            .env("TICKSTREAM_FAULT", component)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{component}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "component {component} panicked: fault injected through TICKSTREAM_FAULT; exiting so the service manager restarts tickstreamd"
            )),
            "{component}: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_that_fails_once_is_restarted_and_the_daemon_stays_ready() {
    let daemon = Daemon::role_with_env(
        "run",
        &["--rate", "500"],
        &[("TICKSTREAM_FAULT", "alert follower:once")],
    );
    daemon
        .wait_metric(
            "tickstream_component_restarts_total{component=\"alert follower\"}",
            1.0,
        )
        .await;
    daemon.wait_ready().await;
    let ready = daemon.get_json("/readyz").await;
    assert_eq!(ready["failed"], json!([]), "{ready}");
    assert_eq!(
        daemon
            .metric("tickstream_component_failures_total{component=\"alert follower\"}")
            .await,
        1.0
    );
}

#[test]
fn bad_configuration_is_refused_with_the_key_named() {
    let bin = env!("CARGO_BIN_EXE_tickstreamd");
    let out = Command::new(bin)
        .args(["run", "--rate", "fast"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--rate") && err.contains("max"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "[log]\npartitions = 0\n[gateway]\nmax_frame_bytes = 1\n",
    )
    .unwrap();
    let out = Command::new(bin)
        .args(["run", "--config"])
        .arg(&file)
        .env("TICKSTREAM_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("log.partitions") && err.contains("gateway.max_frame_bytes"),
        "{err}"
    );

    let out = Command::new(bin)
        .args(["run"])
        .env("TICKSTREAM_LISTEN", "not-an-address")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--listen"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_prints_the_subscribed_symbols() {
    use std::io::BufRead;
    let daemon = Daemon::start(&["--rate", "2000"]);
    daemon.wait_ready().await;
    let mut tail = Command::new(env!("CARGO_BIN_EXE_tickstreamd"))
        .args([
            "tail",
            "--url",
            &daemon.ws_url(),
            "--symbols",
            "AAPL,MSFT",
            "--json",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lines: Vec<String> = std::io::BufReader::new(tail.stdout.take().unwrap())
        .lines()
        .take(20)
        .map(Result::unwrap)
        .collect();
    tail.kill().unwrap();
    tail.wait().unwrap();
    assert_eq!(lines.len(), 20);
    for line in lines {
        let tick: Value = serde_json::from_str(&line).unwrap();
        assert!(
            tick["symbol"] == "AAPL" || tick["symbol"] == "MSFT",
            "{tick}"
        );
        assert!(tick["offset"].is_u64());
    }
}

#[test]
fn simulate_writes_byte_identical_sessions_without_a_server() {
    let bin = env!("CARGO_BIN_EXE_tickstreamd");
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, seed: &str| {
        let path = dir.path().join(name);
        support::succeeded(
            Command::new(bin)
                .args([
                    "simulate",
                    "--seed",
                    seed,
                    "--start",
                    "2026-03-06",
                    "--days",
                    "2",
                ])
                .args([
                    "--rate",
                    "5",
                    "--symbols",
                    "AAPL,MSFT",
                    "--format",
                    "csv",
                    "-o",
                ])
                .arg(&path)
                .output()
                .unwrap(),
        );
        std::fs::read(path).unwrap()
    };
    let (a, b, c) = (run("a.csv", "9"), run("b.csv", "9"), run("c.csv", "10"));
    assert_eq!(a, b, "same seed, same bytes");
    assert_ne!(a, c);
    let text = String::from_utf8(a).unwrap();
    // Friday and Monday, 6.5 hours each, 5 ticks/s at midday and more at
    // the open and close; plus the header.
    let lines = text.lines().count();
    assert!(
        (2 * 23_400 * 5..2 * 23_400 * 7).contains(&lines),
        "{lines} lines"
    );
    assert!(
        text.lines()
            .skip(1)
            .all(|l| l.starts_with("AAPL,") || l.starts_with("MSFT,"))
    );
    assert!(
        text.contains(",2026-03-09T13:30:00.000000Z,,,") && text.contains(",opening_auction\n"),
        "Monday opens at 09:30 EDT with an opening auction"
    );
    assert!(!text.contains("2026-03-07"), "no Saturday session");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_daemon_on_the_same_data_dir_is_refused() {
    let first = Daemon::start(&["--rate", "100"]);
    first.wait_ready().await;
    let out = Command::new(env!("CARGO_BIN_EXE_tickstreamd"))
        .args(["run", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(first.data_dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("in use by another tickstreamd"), "{err}");
    // The first one is unaffected.
    let r = reqwest::get(first.url("/readyz")).await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indicators_are_computed_from_the_stored_candles() {
    let daemon = Daemon::start(&["--rate", "2000", "--backfill", "2h"]);
    daemon.wait_ready().await;
    let base = daemon.url("");
    let get = |path: String| {
        let url = format!("{base}{path}");
        async move {
            let response = reqwest::get(url).await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<serde_json::Value>().await.unwrap())
        }
    };
    // Closed one-minute candles only (the open one moves while we compare).
    let to = chrono::Utc::now() - chrono::Duration::minutes(2);
    let to = tickstream::model::timestamp::to_string(&to);
    let (_, candles) = get(format!(
        "/api/v1/candles?symbol=AAPL&interval=1m&limit=100&to={to}"
    ))
    .await;
    let closes: Vec<f64> = candles
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["close"].as_f64().unwrap())
        .collect();
    assert!(closes.len() >= 60, "{} candles", closes.len());
    let (status, sma) = get(format!(
        "/api/v1/indicators?symbol=AAPL&interval=1m&indicator=sma&period=5&limit=10&to={to}"
    ))
    .await;
    assert_eq!(status, 200, "{sma}");
    let points = sma["points"].as_array().unwrap();
    assert_eq!(points.len(), 10);
    // The last point is the mean of the last five closes.
    let expected = closes[closes.len() - 5..].iter().sum::<f64>() / 5.0;
    let got = points[9]["value"].as_f64().unwrap();
    assert!((got - expected).abs() < 1e-9, "{got} vs {expected}");
    assert_eq!(
        points[9]["start"],
        candles.as_array().unwrap().last().unwrap()["start"]
    );
    let (_, bands) = get(format!(
        "/api/v1/indicators?symbol=AAPL&interval=1m&indicator=bollinger&period=20&k=2&limit=3&to={to}"
    ))
    .await;
    let last = &bands["points"].as_array().unwrap()[2];
    let (upper, middle, lower) = (
        last["upper"].as_f64().unwrap(),
        last["middle"].as_f64().unwrap(),
        last["lower"].as_f64().unwrap(),
    );
    assert!(lower < middle && middle < upper && ((upper - middle) - (middle - lower)).abs() < 1e-9);
    let (_, rsi) = get(format!(
        "/api/v1/indicators?symbol=AAPL&interval=1m&indicator=rsi&limit=5&to={to}"
    ))
    .await;
    for p in rsi["points"].as_array().unwrap() {
        assert!((0.0..=100.0).contains(&p["value"].as_f64().unwrap()), "{p}");
    }
    for (query, needle) in [
        ("indicator=sma&period=1", "period"),
        ("indicator=bollinger&k=0", "k:"),
        ("indicator=macd", "macd"),
        ("indicator=sma&period=x", "period"),
        ("period=5", "indicator is required"),
    ] {
        let (status, body) = get(format!("/api/v1/indicators?symbol=AAPL&{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{query}: {message}");
    }
}
