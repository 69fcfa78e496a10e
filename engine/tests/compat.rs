//! The compatible endpoints against the real daemon: Polygon's own client
//! (`polygon-api-client`) and Alpaca's own SDK (`alpaca-py`, MessagePack)
//! run unchanged but for the address (`tests/compat/*.py`), and what they
//! get is checked against the trades they got; then the in-band keys, the
//! refusals and the timeouts with raw frames.

mod support;

use std::{
    collections::BTreeMap,
    process::Command,
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use support::{Daemon, daemon_with_keys};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

/// The Python with the vendors' clients (`tests/compat/requirements.txt`).
fn python() -> std::ffi::OsString {
    std::env::var_os("COMPAT_PYTHON").expect(
        "this test runs the vendors' client libraries: run `cargo xtask test` (it installs them), or set COMPAT_PYTHON to a Python with tests/compat/requirements.txt",
    )
}

/// Runs `tests/compat/SCRIPT` with `args`; its exit code and the JSON
/// lines it printed.
fn run_client(script: &str, args: &[&str]) -> (i32, Vec<Value>) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/compat/");
    let out = Command::new(python())
        .arg(format!("{path}{script}"))
        .args(args)
        .output()
        .expect("python runs");
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("the client prints JSON lines, not {line:?}: {e}"))
        })
        .collect();
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 3,
        "{script} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (code, lines)
}

/// The messages of one kind (`field` = `value`).
fn of<'a>(lines: &'a [Value], field: &str, value: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l[field] == value).collect()
}

/// Checks that each bar holds exactly the trades received in its window:
/// volume, count, open, high, low and close. A bar is built from the same
/// trades the client is sent, so they must agree to the share.
fn bars_agree_with_trades(
    bars: &[&Value],
    trades: &[(String, i64, f64, f64)],
    field: (&str, &str, &str, &str),
) {
    let (symbol_of, start_of, volume_of, width) = field;
    for bar in bars {
        let symbol = bar[symbol_of].as_str().unwrap();
        let start = match &bar[start_of] {
            Value::Number(n) => n.as_i64().unwrap(),
            Value::String(t) => chrono::DateTime::parse_from_rfc3339(t)
                .unwrap()
                .timestamp_millis(),
            other => panic!("a bar's start is {other}"),
        };
        let end = start + width.parse::<i64>().unwrap();
        let inside: Vec<&(String, i64, f64, f64)> = trades
            .iter()
            .filter(|(s, t, _, _)| s == symbol && (start..end).contains(t))
            .collect();
        assert!(!inside.is_empty(), "no trade of {bar} was received");
        let volume: f64 = inside.iter().map(|t| t.3).sum();
        assert_eq!(bar[volume_of].as_f64().unwrap(), volume, "{bar}");
        let prices: Vec<f64> = inside.iter().map(|t| t.2).collect();
        let (high, low) = prices
            .iter()
            .fold((f64::MIN, f64::MAX), |(h, l), &p| (h.max(p), l.min(p)));
        assert_eq!(bar["open"].as_f64().unwrap(), prices[0], "{bar}");
        assert_eq!(
            bar["close"].as_f64().unwrap(),
            *prices.last().unwrap(),
            "{bar}"
        );
        assert_eq!(bar["high"].as_f64().unwrap(), high, "{bar}");
        assert_eq!(bar["low"].as_f64().unwrap(), low, "{bar}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polygons_own_client_gets_trades_quotes_and_aggregates_that_agree() {
    // Sixty simulated seconds a second: minute aggregates come every second.
    let daemon = Daemon::start(&["--rate", "500", "--speed", "60"]);
    let (code, lines) = tokio::task::spawn_blocking({
        let address = daemon.addr.to_string();
        move || {
            run_client(
                "polygon_client.py",
                &[
                    &address,
                    "any-key",
                    "T.AAPL,Q.AAPL,A.AAPL,AM.AAPL,T.MSFT",
                    r#"{"T": 200, "Q": 20, "A": 3, "AM": 2}"#,
                    "60",
                ],
            )
        }
    })
    .await
    .unwrap();
    assert_eq!(code, 0);
    assert!(
        !lines.iter().any(|l| l["class"] == "Timeout"),
        "the client did not get enough: {:?}",
        lines.last()
    );
    let trades = of(&lines, "event_type", "T");
    let mut last_seq = BTreeMap::new();
    for trade in &trades {
        assert_eq!(trade["class"], "EquityTrade");
        let symbol = trade["symbol"].as_str().unwrap().to_owned();
        assert!(symbol == "AAPL" || symbol == "MSFT", "{trade}");
        assert!(trade["price"].as_f64().unwrap() > 0.0);
        assert!(trade["size"].as_u64().unwrap() > 0);
        // One symbol is one partition: its sequence numbers increase.
        let seq = trade["sequence_number"].as_u64().unwrap();
        assert_eq!(trade["id"], seq.to_string());
        if let Some(previous) = last_seq.insert(symbol, seq) {
            assert!(seq > previous, "{trade}");
        }
    }
    for quote in of(&lines, "event_type", "Q") {
        assert_eq!(quote["symbol"], "AAPL");
        assert!(quote["bid_price"].as_f64().unwrap() < quote["ask_price"].as_f64().unwrap());
    }
    let received: Vec<(String, i64, f64, f64)> = trades
        .iter()
        .map(|t| {
            (
                t["symbol"].as_str().unwrap().to_owned(),
                t["timestamp"].as_i64().unwrap(),
                t["price"].as_f64().unwrap(),
                t["size"].as_f64().unwrap(),
            )
        })
        .collect();
    // The first bar of each width began before the client subscribed; the
    // rest hold exactly the trades received in their window.
    for (kind, width) in [("A", "1000"), ("AM", "60000")] {
        let bars = of(&lines, "event_type", kind);
        assert!(bars.len() >= 2, "{kind}: {bars:?}");
        for bar in &bars {
            assert_eq!(bar["symbol"], "AAPL");
            assert_eq!(
                bar["end_timestamp"].as_i64().unwrap() - bar["start_timestamp"].as_i64().unwrap(),
                width.parse::<i64>().unwrap()
            );
            assert!(bar["accumulated_volume"].as_u64().unwrap() >= bar["volume"].as_u64().unwrap());
        }
        let renamed: Vec<Value> = bars[1..]
            .iter()
            .map(|b| {
                json!({"symbol": b["symbol"], "start": b["start_timestamp"], "volume": b["volume"],
                       "open": b["open"], "close": b["close"], "high": b["high"], "low": b["low"]})
            })
            .collect();
        let renamed: Vec<&Value> = renamed.iter().collect();
        bars_agree_with_trades(&renamed, &received, ("symbol", "start", "volume", width));
    }
    // The stored ticks hold what the client was sent.
    let first = &received[0];
    let stored = daemon
        .get_json(&format!("/api/v1/ticks?symbol={}&limit=10000", first.0))
        .await;
    assert!(
        stored.as_array().unwrap().iter().any(|t| {
            t["price"].as_f64() == Some(first.2)
                && t["volume"].as_f64() == Some(first.3)
                && chrono::DateTime::parse_from_rfc3339(t["timestamp"].as_str().unwrap())
                    .unwrap()
                    .timestamp_millis()
                    == first.1
        }),
        "{first:?} is not among the stored ticks"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alpacas_own_sdk_gets_trades_quotes_bars_and_statuses_over_msgpack() {
    let daemon = Daemon::start(&["--rate", "500", "--speed", "60"]);
    // A halt of MSFT, so its status comes too.
    let (status, _) = post(
        &daemon,
        "/api/v1/scenarios",
        json!({"kind": "halt", "symbol": "MSFT", "duration": "1m", "after": "5m"}),
    )
    .await;
    assert_eq!(status, 201);
    let (code, lines) = tokio::task::spawn_blocking({
        let address = daemon.addr.to_string();
        move || {
            run_client(
                "alpaca_client.py",
                &[
                    &address,
                    "key-id",
                    "any-secret",
                    "AAPL,MSFT",
                    r#"{"trade": 200, "quote": 20, "bar": 3, "daily_bar": 2, "status": 1}"#,
                    "60",
                ],
            )
        }
    })
    .await
    .unwrap();
    assert_eq!(code, 0);
    let end = lines.last().unwrap();
    assert_eq!(end["kind"], "end");
    for (kind, least) in [
        ("trade", 200),
        ("quote", 20),
        ("bar", 3),
        ("daily_bar", 2),
        ("status", 1),
    ] {
        assert!(
            end["counts"][kind].as_u64().unwrap_or(0) >= least,
            "the SDK got too few {kind}: {end}"
        );
    }
    let trades = of(&lines, "kind", "trade");
    let received: Vec<(String, i64, f64, f64)> = trades
        .iter()
        .map(|t| {
            let at =
                chrono::DateTime::parse_from_rfc3339(t["timestamp"].as_str().unwrap()).unwrap();
            (
                t["symbol"].as_str().unwrap().to_owned(),
                at.timestamp_millis(),
                t["price"].as_f64().unwrap(),
                t["size"].as_f64().unwrap(),
            )
        })
        .collect();
    // Microseconds survive the MessagePack timestamp.
    assert!(
        trades
            .iter()
            .any(|t| !t["timestamp"].as_str().unwrap().ends_with(".000000Z")),
        "{:?}",
        trades.first()
    );
    // Bars after each symbol's first hold exactly the trades received.
    let bars = of(&lines, "kind", "bar");
    let mut seen = std::collections::HashSet::new();
    let later: Vec<&Value> = bars
        .iter()
        .copied()
        .filter(|b| !seen.insert(b["symbol"].as_str().unwrap().to_owned()))
        .collect();
    bars_agree_with_trades(
        &later,
        &received,
        ("symbol", "timestamp", "volume", "60000"),
    );
    for bar in of(&lines, "kind", "daily_bar") {
        assert!(
            bar["timestamp"].as_str().unwrap().ends_with("T00:00:00Z"),
            "{bar}"
        );
        assert!(bar["volume"].as_f64().unwrap() > 0.0);
    }
    let halts = of(&lines, "kind", "status");
    assert!(
        halts.iter().any(|s| s["symbol"] == "MSFT"
            && s["status_code"] == "H"
            && s["reason_code"] == "T1"
            && s["tape"] == "C"),
        "{halts:?}"
    );
}

async fn post(daemon: &Daemon, path: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(daemon.url(path))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(daemon: &Daemon, path: &str) -> Socket {
    let url = format!("ws://{}{path}", daemon.addr);
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

/// The next frame as JSON, within `within`; `None` once the socket closed.
async fn next(socket: &mut Socket, within: Duration) -> Option<Value> {
    loop {
        match tokio::time::timeout(within, socket.next())
            .await
            .expect("a frame in time")
        {
            Some(Ok(Message::Text(text))) => return Some(serde_json::from_str(&text).unwrap()),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
    }
}

async fn send(socket: &mut Socket, value: Value) {
    socket.send(Message::text(value.to_string())).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_checked_in_band_and_each_refusal_is_named_counted_and_audited() {
    let (daemon, keys) = daemon_with_keys(&[("admin", "admin", &[]), ("reader", "read", &[])]);
    let (admin, reader) = (&keys[0], &keys[1]);
    let second = Duration::from_secs(5);

    // Polygon's client is told its key is wrong.
    let (code, lines) = tokio::task::spawn_blocking({
        let address = daemon.addr.to_string();
        move || {
            run_client(
                "polygon_client.py",
                &[&address, "tsk_wrong", "T.*", "{}", "20"],
            )
        }
    })
    .await
    .unwrap();
    assert_eq!(code, 3, "{lines:?}");
    assert!(
        lines[0]["message"]
            .as_str()
            .unwrap()
            .contains("authentication failed")
    );

    // Before its key, a client may do nothing; with it, it streams.
    let mut polygon = connect(&daemon, "/compat/polygon/stocks").await;
    let hello = next(&mut polygon, second).await.unwrap();
    assert_eq!(hello[0]["status"], "connected");
    send(
        &mut polygon,
        json!({"action": "subscribe", "params": "T.AAPL"}),
    )
    .await;
    let refused = next(&mut polygon, second).await.unwrap();
    assert_eq!(refused[0]["status"], "error", "{refused}");
    assert!(
        refused[0]["message"]
            .as_str()
            .unwrap()
            .contains("not authenticated")
    );
    send(&mut polygon, json!({"action": "auth", "params": reader})).await;
    assert_eq!(
        next(&mut polygon, second).await.unwrap()[0]["status"],
        "auth_success"
    );
    send(
        &mut polygon,
        json!({"action": "subscribe", "params": "T.AAPL,T.NOPE,XX.AAPL"}),
    )
    .await;
    let refused = next(&mut polygon, second).await.unwrap();
    assert!(
        refused[0]["message"].as_str().unwrap().contains("XX.AAPL"),
        "{refused}"
    );
    send(
        &mut polygon,
        json!({"action": "subscribe", "params": "T.AAPL,T.NOPE"}),
    )
    .await;
    let answer = next(&mut polygon, second).await.unwrap();
    assert!(
        answer[0]["message"]
            .as_str()
            .unwrap()
            .contains("unknown symbols NOPE"),
        "{answer}"
    );
    assert_eq!(answer[1]["message"], "subscribed to: T.AAPL", "{answer}");
    let trades = next(&mut polygon, second).await.unwrap();
    assert_eq!(trades[0]["ev"], "T", "{trades}");
    assert_eq!(trades[0]["sym"], "AAPL", "{trades}");

    // Alpaca's codes, in JSON: a wrong secret is 402 and the end.
    let mut alpaca = connect(&daemon, "/compat/alpaca/v2/iex").await;
    assert_eq!(
        next(&mut alpaca, second).await.unwrap(),
        json!([{"T": "success", "msg": "connected"}])
    );
    send(
        &mut alpaca,
        json!({"action": "subscribe", "trades": ["AAPL"]}),
    )
    .await;
    assert_eq!(next(&mut alpaca, second).await.unwrap()[0]["code"], 401);
    send(
        &mut alpaca,
        json!({"action": "auth", "key": "id", "secret": "tsk_nope"}),
    )
    .await;
    assert_eq!(next(&mut alpaca, second).await.unwrap()[0]["code"], 402);
    assert_eq!(next(&mut alpaca, second).await, None, "the socket closes");

    // A revoked key ends its stream.
    let mut alpaca = connect(&daemon, "/compat/alpaca/v2/sip").await;
    next(&mut alpaca, second).await.unwrap();
    send(
        &mut alpaca,
        json!({"action": "auth", "key": "id", "secret": reader}),
    )
    .await;
    assert_eq!(
        next(&mut alpaca, second).await.unwrap()[0]["msg"],
        "authenticated"
    );
    send(
        &mut alpaca,
        json!({"action": "auth", "key": "id", "secret": reader}),
    )
    .await;
    assert_eq!(next(&mut alpaca, second).await.unwrap()[0]["code"], 403);
    send(
        &mut alpaca,
        json!({"action": "subscribe", "quotes": ["AAPL"]}),
    )
    .await;
    let subscription = next(&mut alpaca, second).await.unwrap();
    assert_eq!(subscription[0]["T"], "subscription");
    assert_eq!(subscription[0]["quotes"], json!(["AAPL"]));
    let revoked = reqwest::Client::new()
        .delete(daemon.url("/api/v1/keys/reader"))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    let deadline = Instant::now() + Duration::from_secs(10);
    let ended = loop {
        assert!(
            Instant::now() < deadline,
            "the revoked key's stream went on"
        );
        match next(&mut alpaca, second).await {
            Some(frame) if frame[0]["T"] == "error" => break frame,
            Some(_) => continue,
            None => panic!("closed without saying why"),
        }
    };
    assert_eq!(ended[0]["code"], 402, "{ended}");
    assert_eq!(next(&mut alpaca, second).await, None);

    // A client that never authenticates is let go after ten seconds.
    let mut silent = connect(&daemon, "/compat/alpaca/v2/iex").await;
    next(&mut silent, second).await.unwrap();
    let timeout = next(&mut silent, Duration::from_secs(15)).await.unwrap();
    assert_eq!(
        timeout,
        json!([{"T": "error", "code": 404, "msg": "auth timeout"}])
    );

    // No such feed; a page on another site may not open a stream.
    let unknown = reqwest::get(daemon.url("/compat/alpaca/v2/crypto"))
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let mut request = format!("ws://{}/compat/polygon/stocks", daemon.addr)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("origin", "http://evil.example".parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403)
        }
        other => panic!(
            "a cross-site upgrade was not refused: {:?}",
            other.map(|_| ())
        ),
    }

    // Refusals are counted by code, and the failed keys audited.
    let metrics = daemon.metrics_text_with(admin).await;
    let count = |code: &str| {
        metrics
            .lines()
            .find(|l| l.starts_with(&format!("tickstream_ws_errors_total{{code=\"{code}\"}}")))
            .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    assert!(count("unauthorized") >= 5.0, "{metrics}");
    assert!(count("unknown_symbol") >= 1.0);
    assert!(count("invalid_message") >= 1.0);
    assert!(count("conflict") >= 1.0);
    let audit = daemon.audited(admin).await;
    let failed: Vec<&Value> = audit
        .iter()
        .filter(|e| {
            e["action"]
                .as_str()
                .unwrap_or("")
                .starts_with("GET /compat/")
        })
        .collect();
    assert!(failed.len() >= 2, "{audit:?}");
}
