//! Limits against the real daemon: a client past its request rate waits
//! (429 with Retry-After) and recovers; streams are capped per address;
//! a client that floods frames gets `rate_limited` error frames; one that
//! stops reading, or answers no ping, is closed while others stream on.

mod support;

use std::time::{Duration, Instant};

use support::{Client, Daemon};
use tokio::io::AsyncReadExt;

fn with(env: &[(&str, &str)], extra: &[&str]) -> Daemon {
    Daemon::role_with_env("run", extra, env)
}

/// The value of a labelled sample of `/metrics` (0 when absent).
async fn sample(daemon: &Daemon, series: &str) -> f64 {
    daemon
        .metrics_text()
        .await
        .lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn a_client_past_its_rate_waits_and_recovers() {
    let daemon = with(
        &[
            ("TICKSTREAM_GATEWAY__RATE_LIMIT", "5"),
            ("TICKSTREAM_GATEWAY__RATE_BURST", "5"),
        ],
        &[],
    );
    let client = reqwest::Client::new();
    let mut limited = None;
    for _ in 0..20 {
        let response = client
            .get(daemon.url("/api/v1/symbols"))
            .send()
            .await
            .unwrap();
        if response.status() == 429 {
            limited = Some(response);
            break;
        }
    }
    let limited = limited.expect("20 requests at once pass a burst of 5");
    let wait: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
    let body: serde_json::Value = limited.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    // Health stays open to probes however busy the client.
    assert_eq!(
        client
            .get(daemon.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Recovered once Retry-After has passed (a refused request costs nothing).
    let deadline = Instant::now() + Duration::from_secs(wait + 2);
    loop {
        let again = client
            .get(daemon.url("/api/v1/symbols"))
            .send()
            .await
            .unwrap();
        if again.status() == 200 {
            break;
        }
        assert_eq!(again.status(), 429);
        assert!(
            Instant::now() < deadline,
            "not recovered within Retry-After + 2 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // /metrics is rate-limited too: read it once the bucket has a token.
    let series = "tickstream_http_refusals_total{code=\"rate_limited\"}";
    let deadline = Instant::now() + Duration::from_secs(3);
    while sample(&daemon, series).await < 1.0 {
        assert!(Instant::now() < deadline, "{series} not counted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn streams_from_one_address_are_capped_and_given_back() {
    let daemon = with(&[("TICKSTREAM_GATEWAY__MAX_CONNECTIONS_PER_IP", "3")], &[]);
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(Client::connect(&daemon.ws_url()).await);
    }
    let refused = tokio_tungstenite::connect_async(daemon.ws_url())
        .await
        .unwrap_err();
    match refused {
        tokio_tungstenite::tungstenite::Error::Http(response) => assert_eq!(response.status(), 429),
        other => panic!("expected 429, got {other}"),
    }
    open.pop().unwrap().close().await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match tokio_tungstenite::connect_async(daemon.ws_url()).await {
            Ok(_) => break,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(error) => panic!("the slot was not given back: {error}"),
        }
    }
    let refused = sample(
        &daemon,
        "tickstream_http_refusals_total{code=\"too_many_connections\"}",
    )
    .await;
    assert!(refused >= 1.0);
}

#[tokio::test]
async fn a_client_flooding_frames_gets_rate_limited_errors() {
    let daemon = with(&[("TICKSTREAM_GATEWAY__WS_FRAME_RATE", "10")], &[]);
    let mut client = Client::connect(&daemon.ws_url()).await;
    for _ in 0..100 {
        client.send_text(r#"{"op":"ping"}"#).await;
    }
    let limited = client.recv_type("error").await;
    assert_eq!(limited["code"], "rate_limited", "{limited}");
    let counted = sample(&daemon, "tickstream_ws_errors_total{code=\"rate_limited\"}").await;
    assert!(counted >= 1.0, "{counted}");
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_and_others_stream_on() {
    let daemon = with(
        &[("TICKSTREAM_GATEWAY__WRITE_TIMEOUT", "500ms")],
        &["--rate", "20000"],
    );
    let stalled = tickstream_e2e::subscribe_to_everything(&daemon.ws_url(), None, None)
        .await
        .unwrap();
    let mut reader = Client::connect(&daemon.ws_url()).await;
    reader
        .send(serde_json::json!({"op": "subscribe", "symbols": ["AAPL"]}))
        .await;
    // `stalled` never reads: the kernel's buffers fill, then a delivery stalls.
    let deadline = Instant::now() + Duration::from_secs(60);
    while sample(&daemon, "tickstream_ws_closed_total{reason=\"slow\"}").await < 1.0 {
        assert!(
            Instant::now() < deadline,
            "the stalled client was not closed"
        );
        let ticks = reader.collect_ticks(Duration::from_millis(200)).await;
        assert!(!ticks.is_empty(), "the reading client stopped receiving");
    }
    let ticks = reader.collect_ticks(Duration::from_secs(1)).await;
    assert!(!ticks.is_empty(), "the reading client streams on");
    drop(stalled);
}

#[tokio::test]
async fn a_client_that_answers_no_ping_is_closed() {
    let daemon = with(
        &[
            ("TICKSTREAM_GATEWAY__PING_INTERVAL", "200ms"),
            ("TICKSTREAM_GATEWAY__PING_MISSES", "2"),
        ],
        &[],
    );
    let (socket, _) = tokio_tungstenite::connect_async(daemon.ws_url())
        .await
        .unwrap();
    // Below the WebSocket: read whatever comes, never answer (no pong).
    let mut tcp = match socket.into_inner() {
        tokio_tungstenite::MaybeTlsStream::Plain(tcp) => tcp,
        _ => unreachable!("plain ws"),
    };
    let started = Instant::now();
    let mut buffer = [0u8; 1024];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buffer))
            .await
            .expect("closed within 5 s");
        if matches!(read, Ok(0) | Err(_)) {
            break;
        }
    }
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        sample(
            &daemon,
            "tickstream_ws_closed_total{reason=\"unresponsive\"}"
        )
        .await,
        1.0
    );
    // A client that answers (tungstenite does, while it reads) stays.
    let mut alive = Client::connect(&daemon.ws_url()).await;
    let frames = alive.collect_frames(Duration::from_secs(1)).await;
    alive.send_text(r#"{"op":"ping"}"#).await;
    assert_eq!(alive.recv_type("pong").await["type"], "pong", "{frames:?}");
}
