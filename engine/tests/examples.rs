//! The client examples in `examples/` against the real daemon and broker:
//! the Python WebSocket client resumes across a dropped connection without
//! missing or repeating a tick, the Python REST/GraphQL client sees the same
//! candles both ways and its mutation through REST, kafka-python reads
//! Tickstream's default (gzip) topic with no codec package installed, and
//! fastavro decodes an Avro producer's ticks by the published `.avsc`. They
//! run in a virtual environment made
//! from `examples/python/requirements.txt` (kept between runs while the
//! requirements stay the same); without Python, venv or pip they fail.

mod support;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use serde_json::Value;
use support::{Daemon, Tansu, succeeded};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/python")
}

/// The examples' virtual environment's Python, made (once per set of
/// requirements) beside the build; the tests share it.
fn python() -> PathBuf {
    static PYTHON: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PYTHON.get_or_init(make_venv).clone()
}

fn make_venv() -> PathBuf {
    let requirements = std::fs::read_to_string(examples().join("requirements.txt")).unwrap();
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    let venv = target.join("examples-venv");
    let stamp = venv.join("requirements.txt");
    let python = venv.join("bin/python");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(requirements.as_str()) {
        let _ = std::fs::remove_dir_all(&venv);
        succeeded(
            Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .output()
                .expect("python3"),
        );
        succeeded(
            Command::new(&python)
                .args(["-m", "pip", "install", "--quiet", "-r"])
                .arg(examples().join("requirements.txt"))
                .output()
                .unwrap(),
        );
        std::fs::write(&stamp, requirements).unwrap();
    }
    python
}

/// Runs an example with `args`; it must succeed.
fn run(example: &str, args: &[&str]) -> Output {
    let out = Command::new(python())
        .arg(examples().join(example))
        .args(args)
        .output()
        .unwrap();
    succeeded(out)
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_stream_resumes_without_missing_or_repeating_a_tick() {
    let daemon = Daemon::start(&["--rate", "500"]);
    daemon.wait_ready().await;
    let url = daemon.ws_url();
    let out = tokio::task::spawn_blocking(move || {
        run(
            "stream.py",
            &["--url", &url, "--count", "600", "--drop-after", "200"],
        )
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The drop comes after the frame that took the count past 200.
    assert!(stderr.contains("dropping the connection after"), "{stderr}");
    let ticks = lines(&out);
    assert_eq!(ticks.len(), 600);
    let mut offsets: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for tick in &ticks {
        let at = |k: &str| tick[k].as_u64().unwrap();
        offsets
            .entry(at("partition"))
            .or_default()
            .push(at("offset"));
    }
    for (partition, offsets) in offsets {
        assert!(
            offsets.windows(2).all(|w| w[1] == w[0] + 1),
            "partition {partition}: every offset once, in order: {offsets:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_api_client_agrees_with_itself_through_rest_and_graphql() {
    let daemon = Daemon::start(&["--rate", "500", "--backfill", "10m"]);
    daemon.wait_ready().await;
    let url = daemon.url("");
    let out = tokio::task::spawn_blocking(move || run("api.py", &["--url", &url]))
        .await
        .unwrap();
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["candles"], 5, "{summary}");
    assert_eq!(summary["closed_candles_agree"], true, "{summary}");
    assert_eq!(
        summary["watchlist_made_by_graphql_seen_by_rest"], true,
        "{summary}"
    );
    assert_eq!(summary["refusal"]["code"], "invalid_watchlist", "{summary}");
    assert!(
        summary["refusal"]["message"]
            .as_str()
            .unwrap()
            .contains("symbols[1]")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_python_reads_the_default_topic_without_a_codec_package() {
    let tansu = Tansu::start();
    let brokers = tansu.brokers.clone();
    let producer = Daemon::role("producer", &["--brokers", &brokers, "--rate", "500"]);
    producer
        .wait_metric(r#"tickstream_kafka_delivered_total{record="tick"}"#, 300.0)
        .await;
    let out = tokio::task::spawn_blocking(move || {
        run(
            "consume_kafka.py",
            &["--brokers", &brokers, "--count", "300"],
        )
    })
    .await
    .unwrap();
    let ticks = lines(&out);
    assert_eq!(ticks.len(), 300);
    for tick in &ticks {
        assert!(
            tick["symbol"].is_string() && tick["price"].as_f64().unwrap() > 0.0,
            "{tick}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fastavro_reads_an_avro_producers_ticks_by_the_published_schema() {
    let tansu = Tansu::start();
    let brokers = tansu.brokers.clone();
    let producer = Daemon::role_with_env(
        "producer",
        &["--brokers", &brokers, "--rate", "500"],
        &[("TICKSTREAM_KAFKA__FORMAT", "avro")],
    );
    producer
        .wait_metric(r#"tickstream_kafka_delivered_total{record="tick"}"#, 200.0)
        .await;
    let out = tokio::task::spawn_blocking(move || {
        run(
            "consume_kafka.py",
            &["--brokers", &brokers, "--count", "200"],
        )
    })
    .await
    .unwrap();
    let ticks = lines(&out);
    assert_eq!(ticks.len(), 200);
    for tick in &ticks {
        let decoded = tickstream::model::EncodedTick::decode(tick.to_string().as_bytes());
        assert!(decoded.is_ok(), "{tick}: {decoded:?}");
        assert!(
            tick["bid"].as_f64().unwrap() > 0.0 && tick["seq"].is_u64(),
            "{tick}"
        );
        assert!(tick["timestamp"].as_str().unwrap().ends_with('Z'), "{tick}");
    }
}
