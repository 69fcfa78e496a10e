//! The simulator's controls through the daemon's own interfaces: scenarios
//! over REST and the `tickstreamd scenario` CLI with their market events on
//! the WebSocket, backfilled history at start, accelerated time.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{Client, Daemon};

/// The next event frame's data of `kind`, skipping other frames.
async fn next_event(client: &mut Client, kind: &str) -> Value {
    loop {
        let frame = client.recv_type("event").await;
        if frame["data"]["kind"] == kind {
            return frame["data"].clone();
        }
    }
}

async fn post(daemon: &Daemon, body: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(daemon.url("/api/v1/scenarios"))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn cli(daemon: &Daemon, words: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tickstreamd"))
        .args(["scenario", "--url", &daemon.url("")])
        .args(words)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_come_in_over_rest_and_the_cli_and_show_as_market_events() {
    let daemon = Daemon::start(&["--rate", "2000"]);
    daemon.wait_ready().await;
    let mut client = Client::connect(&daemon.ws_url()).await;
    client.send(json!({"op":"subscribe","symbols":["*"]})).await;
    client.recv_type("subscribed").await;

    let (status, halt) = post(&daemon, r#"{"kind":"halt","symbol":"AAPL"}"#).await;
    assert_eq!(status, 201, "{halt}");
    assert_eq!(
        (halt["id"].as_u64(), halt["state"].as_str()),
        (Some(1), Some("active"))
    );
    let event = next_event(&mut client, "halt").await;
    assert_eq!(
        (event["symbol"].as_str(), event["scenario"].as_u64()),
        (Some("AAPL"), Some(1))
    );
    assert_eq!(event["level"], "warning");

    // The CLI speaks the same API.
    let out = support::succeeded(cli(&daemon, &["resume", "symbol=AAPL"]));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["state"], "finished");
    next_event(&mut client, "resume").await;
    let auction = loop {
        let frame = client.recv_type("ticks").await;
        if let Some(t) = frame["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["condition"] == "reopening_auction")
        {
            break t.clone();
        }
    };
    assert_eq!(auction["symbol"], "AAPL");

    let (status, crash) = post(
        &daemon,
        r#"{"kind":"flash_crash","symbol":"MSFT","depth":0.05,"fall":"2s","recovery":"2s"}"#,
    )
    .await;
    assert_eq!(status, 201, "{crash}");
    let event = next_event(&mut client, "flash_crash").await;
    assert_eq!(event["level"], "critical");
    assert!(
        event["message"].as_str().unwrap().contains("-5.0%"),
        "{event}"
    );
    let recovered = next_event(&mut client, "flash_crash").await;
    assert_eq!(recovered["level"], "info");

    // Listed with their states.
    let list = daemon.get_json("/api/v1/scenarios").await;
    let states: Vec<(&str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["scenario"]["kind"].as_str().unwrap(),
                s["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("halt", "finished"),
            ("resume", "finished"),
            ("flash_crash", "finished")
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_scenarios_are_refused_with_the_field_named() {
    let daemon = Daemon::start(&["--rate", "500"]);
    daemon.wait_ready().await;
    for (body, status, code, needle) in [
        (
            r#"{"kind":"flash_crash","depth":3}"#,
            400,
            "invalid_scenario",
            "\"depth\"",
        ),
        (
            r#"{"kind":"flash_crash"}"#,
            400,
            "invalid_scenario",
            "depth",
        ),
        (r#"{"kind":"meteor"}"#, 400, "invalid_scenario", "meteor"),
        (
            r#"{"kind":"halt","symbol":"AAPL","colour":"red"}"#,
            400,
            "invalid_scenario",
            "colour",
        ),
        (
            r#"{"kind":"news_shock","symbol":"ZZZZ","jump":0.1}"#,
            404,
            "unknown_symbol",
            "ZZZZ",
        ),
        (
            r#"{"kind":"sector_rotation","from":"Technology","to":"Mining"}"#,
            404,
            "unknown_sector",
            "\"to\"",
        ),
        (
            r#"{"kind":"resume","symbol":"AAPL"}"#,
            409,
            "conflict",
            "not halted",
        ),
        ("not json", 400, "invalid_json", "not JSON"),
    ] {
        let (got, reply) = post(&daemon, body).await;
        assert_eq!(got, status, "{body}: {reply}");
        assert_eq!(reply["error"]["code"], code, "{body}: {reply}");
        let message = reply["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{body}: {message}");
    }
    let out = cli(&daemon, &["news_shock", "symbol=AAPL", "jump=9"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("\"jump\""), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_gives_the_charts_history_at_start() {
    let daemon = Daemon::start(&["--rate", "200", "--backfill", "3h"]);
    daemon.wait_ready().await;
    let candles: Value =
        reqwest::get(daemon.url("/api/v1/candles?symbol=AAPL&interval=1m&limit=1000"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let candles = candles.as_array().unwrap();
    assert!(
        candles.len() >= 170,
        "{} one-minute candles after a 3 h backfill",
        candles.len()
    );
    let first = tickstream::model::timestamp::parse(candles[0]["start"].as_str().unwrap()).unwrap();
    let age = chrono::Utc::now() - first;
    assert!(
        (chrono::Duration::minutes(175)..chrono::Duration::minutes(185)).contains(&age),
        "history starts {age} ago"
    );
    // Volumes are scaled to the live rate: a minute trades like a live one.
    let volume: f64 = candles
        .iter()
        .take(60)
        .map(|c| c["volume"].as_f64().unwrap())
        .sum::<f64>()
        / 60.0;
    assert!(volume > 1_000.0, "{volume} shares a minute");
    // Live trading continues from where the history ended.
    let last_close = candles.last().unwrap()["close"].as_f64().unwrap();
    let mut client = Client::connect(&daemon.ws_url()).await;
    client
        .send(json!({"op":"subscribe","symbols":["AAPL"]}))
        .await;
    let ticks = client.collect_ticks(Duration::from_millis(1_500)).await;
    let live = ticks[0]["price"].as_f64().unwrap();
    assert!(
        (live / last_close - 1.0).abs() < 0.01,
        "live {live} after history closing at {last_close}"
    );
}

/// Candle starts of `interval` for AAPL since `from`, as Unix seconds.
async fn candle_starts(
    daemon: &Daemon,
    interval: &str,
    from: chrono::DateTime<chrono::Utc>,
) -> Vec<i64> {
    let url = format!(
        "/api/v1/candles?symbol=AAPL&interval={interval}&limit=10000&from={}",
        tickstream::model::timestamp::to_string(&from)
    );
    let candles: Value = reqwest::get(daemon.url(&url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    candles
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            tickstream::model::timestamp::parse(c["start"].as_str().unwrap())
                .unwrap()
                .timestamp()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deep_backfill_fills_every_chart_without_a_hole_across_its_tiers() {
    // 400 days: the hourly tier (older than a year), the 15-minute tier
    // (older than a month), the 5-minute tier (older than a day), the last
    // day at the backfill rate.
    let daemon = Daemon::start(&["--rate", "200", "--backfill", "400days"]);
    daemon.wait_ready().await;
    let now = chrono::Utc::now();
    let ago = |days: i64| now - chrono::Duration::days(days);
    for (interval, seconds, since, at_least) in [
        ("1d", 86_400, ago(400), 399),
        ("1h", 3_600, ago(399), 399 * 24 - 1),
        ("15m", 900, ago(40), 40 * 96 - 1),
        ("5m", 300, ago(3), 3 * 288 - 1),
        ("1m", 60, ago(1) + chrono::Duration::hours(1), 23 * 60 - 1),
    ] {
        let starts = candle_starts(&daemon, interval, since).await;
        assert!(
            starts.len() >= at_least,
            "{} {interval} candles since {since}",
            starts.len()
        );
        let hole = starts.windows(2).find(|w| w[1] - w[0] != seconds);
        assert!(hole.is_none(), "{interval} candles skip from {hole:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accelerated_time_runs_the_market_clock_faster() {
    let daemon = Daemon::start(&["--rate", "50", "--speed", "100"]);
    daemon.wait_ready().await;
    let mut client = Client::connect(&daemon.ws_url()).await;
    client.send(json!({"op":"subscribe","symbols":["*"]})).await;
    let ticks = client.collect_ticks(Duration::from_millis(1_500)).await;
    let time =
        |t: &Value| tickstream::model::timestamp::parse(t["timestamp"].as_str().unwrap()).unwrap();
    let span = time(ticks.last().unwrap()) - time(&ticks[0]);
    // 1.5 s of wall time at ×100: some 150 s of market time.
    assert!(
        span > chrono::Duration::seconds(60),
        "market time span {span}"
    );
    // 50 ticks per market second.
    let rate = ticks.len() as f64 / span.as_seconds_f64();
    assert!(
        (20.0..100.0).contains(&rate),
        "{rate} ticks per market second"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alert_rules_are_managed_over_rest_and_fire_as_market_events() {
    let daemon = Daemon::start(&["--rate", "2000"]);
    daemon.wait_ready().await;
    let http = reqwest::Client::new();
    let send = |method: reqwest::Method, path: &str, body: Option<&str>| {
        let mut request = http.request(method, daemon.url(path));
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            (
                status,
                serde_json::from_str::<Value>(&body).unwrap_or(Value::Null),
            )
        }
    };
    use reqwest::Method;
    for (body, status, needle) in [
        (
            r#"{"symbol":"AAPL","condition":{"kind":"percent_move","percent":0,"window":"1m"}}"#,
            400,
            "condition.percent",
        ),
        (
            r#"{"symbol":"AAPL","condition":{"kind":"volume_spike","factor":3,"lookback":1}}"#,
            400,
            "condition.lookback",
        ),
        (
            r#"{"symbol":"AAPL","condition":{"kind":"price_cross","level":-1}}"#,
            400,
            "condition.level",
        ),
        (
            r#"{"symbol":"AAPL","condition":{"kind":"telepathy"}}"#,
            400,
            "telepathy",
        ),
        (
            r#"{"symbol":"ZZZZ","condition":{"kind":"price_cross","level":10}}"#,
            404,
            "ZZZZ",
        ),
        (
            r#"{"symbol":"AAPL","cooldown":"soon","condition":{"kind":"price_cross","level":10}}"#,
            400,
            "field cooldown: invalid value",
        ),
        (
            r#"{"symbol":"AAPL","condition":{"kind":"price_cross","level":10,"direction":"up"}}"#,
            400,
            "field condition: unknown variant `up`",
        ),
        ("{", 400, "invalid alert rule: EOF"),
    ] {
        let (got, reply) = send(Method::POST, "/api/v1/alerts", Some(body)).await;
        assert_eq!(got, status, "{body}: {reply}");
        let message = reply["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{body}: {message}");
    }

    let (status, rule) = send(
        Method::POST,
        "/api/v1/alerts",
        Some(r#"{"symbol":"MSFT","condition":{"kind":"percent_move","percent":2,"window":"1m"}}"#),
    )
    .await;
    assert_eq!(status, 201, "{rule}");
    let id = rule["id"].as_u64().unwrap();
    assert_eq!(
        (rule["enabled"].as_bool(), rule["cooldown"].as_str()),
        (Some(true), Some("1m"))
    );

    let mut client = Client::connect(&daemon.ws_url()).await;
    client
        .send(json!({"op":"subscribe","symbols":["MSFT"]}))
        .await;
    client.recv_type("subscribed").await;
    let (status, _) = send(
        Method::POST,
        "/api/v1/scenarios",
        Some(r#"{"kind":"flash_crash","symbol":"MSFT","depth":0.05,"fall":"2s","recovery":"2s"}"#),
    )
    .await;
    assert_eq!(status, 201);
    let alert = next_event(&mut client, "alert").await;
    assert_eq!(
        (alert["alert"].as_u64(), alert["symbol"].as_str()),
        (Some(id), Some("MSFT"))
    );
    let message = alert["message"].as_str().unwrap();
    assert!(
        message.contains("MSFT moves 2% within 1m") && message.contains("down"),
        "{message}"
    );

    let (status, list) = send(Method::GET, "/api/v1/alerts", None).await;
    assert_eq!((status, list.as_array().unwrap().len()), (200, 1));
    let (status, replaced) = send(
        Method::PUT,
        &format!("/api/v1/alerts/{id}"),
        Some(r#"{"name":"MSFT drop","symbol":"MSFT","condition":{"kind":"price_cross","level":400,"direction":"below"},"enabled":false}"#),
    )
    .await;
    assert_eq!(status, 200, "{replaced}");
    let (_, read) = send(Method::GET, &format!("/api/v1/alerts/{id}"), None).await;
    assert_eq!(
        (read["name"].as_str(), read["enabled"].as_bool()),
        (Some("MSFT drop"), Some(false))
    );
    assert_eq!(
        send(Method::DELETE, &format!("/api/v1/alerts/{id}"), None)
            .await
            .0,
        204
    );
    assert_eq!(
        send(Method::GET, &format!("/api/v1/alerts/{id}"), None)
            .await
            .0,
        404
    );
    assert_eq!(
        send(Method::DELETE, &format!("/api/v1/alerts/{id}"), None)
            .await
            .0,
        404
    );
    assert_eq!(send(Method::GET, "/api/v1/alerts/x", None).await.0, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flash_crash_meets_limit_up_limit_down_a_typed_pause_and_a_reopening() {
    // Twenty times real time: fifteen seconds at the band take 0.75 s, the
    // five-minute pause 15 s.
    let daemon = Daemon::start(&["--rate", "500", "--speed", "20"]);
    daemon.wait_ready().await;
    let mut client = Client::connect(&daemon.ws_url()).await;
    client
        // Every symbol's ticks too, so frames keep coming while MSFT pauses;
        // conflated, so a busy test machine reading slowly is not closed.
        .send(json!({"op":"subscribe","symbols":["*"],"topics":["stock_ticks","market_events"],"mode":"conflate","batch_ms":50}))
        .await;
    client.recv_type("subscribed").await;
    let (status, crash) = post(
        &daemon,
        r#"{"kind":"flash_crash","symbol":"MSFT","depth":0.3,"fall":"30s","recovery":"30m","after":"30s"}"#,
    )
    .await;
    assert_eq!(status, 201, "{crash}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let mut next_msft = async |kind: &str| loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no MSFT {kind} within 90 s"
        );
        let frame = client.recv().await;
        if frame["type"] == "event"
            && frame["data"]["kind"] == kind
            && frame["data"]["symbol"] == "MSFT"
        {
            return frame["data"].clone();
        }
    };
    let limit = next_msft("limit_state").await;
    assert_eq!(limit["level"], "warning", "{limit}");
    let (lower, upper) = (
        limit["lower_band"].as_f64().unwrap(),
        limit["upper_band"].as_f64().unwrap(),
    );
    assert!(lower < upper, "{limit}");
    let pause = next_msft("halt").await;
    assert_eq!(pause["reason"], "luld_pause", "{pause}");
    assert_eq!(pause["lower_band"], limit["lower_band"], "{pause}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let resume = loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no resume within 60 s"
        );
        let frame = client.recv().await;
        if frame["type"] == "event" && frame["data"]["kind"] == "resume" {
            break frame["data"].clone();
        }
    };
    assert_eq!(resume["reason"], "luld_pause", "{resume}");
    let time = |event: &Value| {
        event["timestamp"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    };
    assert_eq!(
        (time(&resume) - time(&pause)).num_seconds(),
        300,
        "a five-minute pause in market time"
    );
}
