//! Security against the real daemon: API keys made with `tickstreamd keys`
//! and through REST, each scope's allowed and refused routes, revoked and
//! expired keys closing their streams (4401), the refusal to serve a network
//! without keys, and the `Host`, `Origin` and `Content-Type` checks.

mod support;

use std::{
    path::Path,
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Daemon, create_key, daemon_with_keys, tickstreamd};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, protocol::CloseFrame};

async fn call(
    daemon: &Daemon,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().request(method, daemon.url(path));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open_ws(
    url: &str,
    key: Option<&str>,
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let mut request = url.into_client_request().unwrap();
    if let Some(key) = key {
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {key}").parse().unwrap());
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(s, _)| s)
}

fn refused_with(error: tokio_tungstenite::tungstenite::Error) -> u16 {
    match error {
        tokio_tungstenite::tungstenite::Error::Http(response) => response.status().as_u16(),
        other => panic!("expected an HTTP refusal, got {other}"),
    }
}

/// Reads frames until the socket closes; the close frame's code, within `limit`.
async fn close_code(socket: &mut Socket, limit: Duration) -> Option<u16> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, socket.next()).await {
            Err(_) => panic!("the socket stayed open past {limit:?}"),
            Ok(Some(Ok(Message::Close(frame)))) => {
                return frame.map(|CloseFrame { code, .. }| code.into());
            }
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(_)) | None) => return None,
        }
    }
}

#[tokio::test]
async fn each_scope_reaches_its_routes_and_no_further() {
    let (daemon, keys) = daemon_with_keys(&[
        ("viewer", "read", &[]),
        ("editor", "write", &[]),
        ("ops", "admin", &[]),
    ]);
    let [read, write, admin] = [&keys[0], &keys[1], &keys[2]].map(|k| Some(k.as_str()));
    daemon.wait_ready().await;
    let watchlist = || Some(json!({"name": "tech", "symbols": ["AAPL"]}));
    let scenario = || Some(json!({"kind": "regime_change", "volatility": 1.5}));
    let cases = [
        // (method, path, key, body, expected)
        (Method::GET, "/api/v1/symbols", None, None, 401),
        (
            Method::GET,
            "/api/v1/symbols",
            Some("tsk_nope_0000"),
            None,
            401,
        ),
        (Method::GET, "/metrics", None, None, 401),
        (Method::GET, "/api/v1/symbols", read, None, 200),
        (Method::GET, "/metrics", read, None, 200),
        (Method::POST, "/api/v1/watchlists", read, watchlist(), 403),
        (Method::POST, "/api/v1/watchlists", write, watchlist(), 201),
        (Method::POST, "/api/v1/scenarios", write, scenario(), 403),
        (Method::POST, "/api/v1/scenarios", admin, scenario(), 201),
        (Method::GET, "/api/v1/keys", write, None, 403),
        (Method::GET, "/api/v1/keys", admin, None, 200),
        (Method::GET, "/healthz", None, None, 200),
        (Method::GET, "/readyz", None, None, 200),
    ];
    for (method, path, key, body, expected) in cases {
        let (status, answer) = call(&daemon, method.clone(), path, key, body).await;
        assert_eq!(status.as_u16(), expected, "{method} {path}: {answer}");
        match expected {
            401 => assert_eq!(answer["error"]["code"], "unauthorized", "{answer}"),
            403 => {
                assert_eq!(answer["error"]["code"], "forbidden", "{answer}");
                let message = answer["error"]["message"].as_str().unwrap();
                assert!(message.contains("needs"), "{message}");
            }
            _ => {}
        }
    }
    // A WebSocket needs a key too: none is refused at the upgrade.
    let refused = open_ws(&daemon.ws_url(), None).await.unwrap_err();
    assert_eq!(refused_with(refused), 401);
    let mut socket = open_ws(&daemon.ws_url(), read).await.unwrap();
    socket
        .send(Message::text(r#"{"op":"subscribe","symbols":["AAPL"]}"#))
        .await
        .unwrap();
    // Browsers send the key as access_token.
    let url = format!("{}?access_token={}", daemon.ws_url(), keys[0]);
    open_ws(&url, None).await.unwrap();
    let metrics = call(&daemon, Method::GET, "/metrics", read, None).await;
    assert_eq!(metrics.0, 200);
    let text = daemon.metrics_text_with(&keys[0]).await;
    // Every change, refusal and key use failure is in the audit log.
    let audit = daemon.audited(admin.unwrap()).await;
    let has = |key: Option<&str>, action: &str, status: u64, outcome: &str| {
        audit.iter().any(|e| {
            e["key"].as_str() == key
                && e["action"] == action
                && e["status"] == status
                && e["outcome"] == outcome
                && e["client"].as_str().unwrap().starts_with("127.0.0.1:")
        })
    };
    assert!(
        has(None, "GET /api/v1/symbols", 401, "unauthorized"),
        "{audit:?}"
    );
    assert!(has(
        Some("viewer"),
        "POST /api/v1/watchlists",
        403,
        "forbidden"
    ));
    assert!(has(Some("editor"), "POST /api/v1/watchlists", 201, "ok"));
    assert!(has(Some("ops"), "POST /api/v1/scenarios", 201, "ok"));
    assert!(has(Some("editor"), "GET /api/v1/keys", 403, "forbidden"));
    let offline: Vec<&Value> = audit.iter().filter(|e| e["client"] == "cli").collect();
    assert_eq!(offline.len(), 3, "the keys made offline: {offline:?}");
    assert!(
        !serde_json::to_string(&audit).unwrap().contains(&keys[0]),
        "no key in the audit log"
    );
    let (status, _) = call(&daemon, Method::GET, "/api/v1/audit", write, None).await;
    assert_eq!(status, 403);
    for code in ["unauthorized", "forbidden"] {
        let line = format!("tickstream_http_refusals_total{{code=\"{code}\"}}");
        let count: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix(&line)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {line} in /metrics"));
        assert!(count >= 1.0, "{line} {count}");
    }
}

#[tokio::test]
async fn a_key_made_through_rest_works_and_its_revocation_closes_its_stream() {
    let (daemon, keys) = daemon_with_keys(&[("ops", "admin", &[])]);
    let admin = Some(keys[0].as_str());
    let (status, created) = call(
        &daemon,
        Method::POST,
        "/api/v1/keys",
        admin,
        Some(json!({"name": "grafana", "scope": "read"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let key = created["key"].as_str().unwrap().to_owned();
    assert_eq!(created["scope"], "read");
    assert!(key.starts_with(created["prefix"].as_str().unwrap()));
    let (_, listed) = call(&daemon, Method::GET, "/api/v1/keys", admin, None).await;
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["grafana", "ops"]);
    assert!(!listed.to_string().contains(&key), "a listing shows no key");
    for (body, field) in [
        (json!({"name": "two words", "scope": "read"}), "name"),
        (json!({"name": "x", "scope": "root"}), "scope"),
        (
            json!({"name": "x", "scope": "read", "expires": "soon"}),
            "expires",
        ),
    ] {
        let (status, answer) = call(&daemon, Method::POST, "/api/v1/keys", admin, Some(body)).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["error"]["code"], "invalid_key");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(field), "{message} names {field}");
    }
    let dup = json!({"name": "grafana", "scope": "admin"});
    let (status, _) = call(&daemon, Method::POST, "/api/v1/keys", admin, Some(dup)).await;
    assert_eq!(status, 409);

    let mut socket = open_ws(&daemon.ws_url(), Some(&key)).await.unwrap();
    socket
        .send(Message::text(r#"{"op":"subscribe","symbols":["*"]}"#))
        .await
        .unwrap();
    let (status, _) = call(&daemon, Method::DELETE, "/api/v1/keys/grafana", admin, None).await;
    assert_eq!(status, 204);
    let revoked = Instant::now();
    assert_eq!(
        close_code(&mut socket, Duration::from_secs(1)).await,
        Some(4401)
    );
    assert!(revoked.elapsed() < Duration::from_secs(1));
    let (status, _) = call(&daemon, Method::GET, "/api/v1/symbols", Some(&key), None).await;
    assert_eq!(status, 401);
    let (status, _) = call(&daemon, Method::DELETE, "/api/v1/keys/grafana", admin, None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_expired_key_is_refused_and_its_stream_closed() {
    let (daemon, keys) = daemon_with_keys(&[("brief", "read", &["--expires", "3s"])]);
    let key = keys[0].as_str();
    let mut socket = open_ws(&daemon.ws_url(), Some(key)).await.unwrap();
    assert_eq!(
        close_code(&mut socket, Duration::from_secs(5)).await,
        Some(4401)
    );
    let (status, answer) = call(&daemon, Method::GET, "/api/v1/symbols", Some(key), None).await;
    assert_eq!(status, 401);
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(message.contains("expired"), "{message}");
}

#[tokio::test]
async fn the_keys_command_lists_and_revokes_offline_and_through_the_daemon() {
    let (mut daemon, keys) = daemon_with_keys(&[("ops", "admin", &[]), ("ci", "write", &[])]);
    let keys_at_url = |args: &[&str]| {
        tickstreamd()
            .arg("keys")
            .args(args)
            .args(["--url", &daemon.url(""), "--api-key", &keys[0]])
            .output()
            .unwrap()
    };
    let listed = keys_at_url(&["list", "--json"]);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert!(keys_at_url(&["revoke", "ci"]).status.success());
    // Offline on a data directory the daemon holds: refused, with the way out.
    let busy = tickstreamd()
        .args(["keys", "list", "--data-dir"])
        .arg(daemon.data_dir.path())
        .output()
        .unwrap();
    assert!(!busy.status.success());
    let stderr = String::from_utf8_lossy(&busy.stderr);
    assert!(stderr.contains("--url"), "{stderr}");
    daemon.terminate();
    let offline = tickstreamd()
        .args(["keys", "list", "--data-dir"])
        .arg(daemon.data_dir.path())
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&offline.stdout);
    assert!(table.contains("ops") && !table.contains("ci "), "{table}");
    assert!(!table.contains(&keys[0]), "the table shows no key");
}

/// What a deployment does: a key made once, kept as a secret, imported
/// into each fresh data directory at start (again at a restart: no change).
#[tokio::test]
async fn a_key_kept_as_a_secret_is_imported_and_works() {
    let made = tempfile::tempdir().unwrap();
    let key = create_key(made.path(), "seed", "read", &[]);
    let secret = made.path().join("key");
    std::fs::write(&secret, format!("{key}\n")).unwrap();
    let mut daemon = Daemon::start(&[]);
    let _ = daemon.child.kill();
    let _ = daemon.child.wait();
    let import = |file: &Path| {
        tickstreamd()
            .args([
                "keys",
                "import",
                "--name",
                "ops",
                "--scope",
                "admin",
                "--key-file",
            ])
            .arg(file)
            .arg("--data-dir")
            .arg(daemon.data_dir.path())
            .output()
            .unwrap()
    };
    for _ in 0..2 {
        let out = support::succeeded(import(&secret));
        assert!(out.stdout.is_empty(), "the key is not echoed");
    }
    let bad = made.path().join("bad");
    std::fs::write(&bad, "tsk_not-a-key").unwrap();
    let refused = import(&bad);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("key: expected tsk_"), "{stderr}");
    assert!(
        !stderr.contains("not-a-key"),
        "the refusal does not echo the input"
    );
    daemon.restart(&[]);
    let (status, _) = call(&daemon, Method::GET, "/api/v1/keys", Some(&key), None).await;
    assert_eq!(status, StatusCode::OK, "imported with scope admin");
    let (status, _) = call(&daemon, Method::GET, "/api/v1/keys", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[test]
fn a_network_listen_without_keys_is_refused_unless_made_insecure() {
    let dir = tempfile::tempdir().unwrap();
    let out = tickstreamd()
        .args([
            "run",
            "--listen",
            "0.0.0.0:0",
            "--backfill",
            "0s",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("without API keys") && stderr.contains("keys create"),
        "{stderr}"
    );
    let mut insecure = tickstreamd()
        .args([
            "run",
            "--listen",
            "0.0.0.0:0",
            "--backfill",
            "0s",
            "--insecure-no-auth",
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .env("TICKSTREAM_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(insecure.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    assert!(line.contains("Tickstream dashboard"), "{line}");
    let _ = insecure.kill();
    let _ = insecure.wait();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut insecure.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(
        stderr.contains("insecure_no_auth"),
        "a warning at start: {stderr}"
    );
}

#[tokio::test]
async fn browsers_on_other_sites_and_rebound_hosts_are_refused() {
    let daemon = Daemon::start(&[]);
    daemon.wait_ready().await;
    let client = reqwest::Client::new();
    let watchlist = json!({"name": "w", "symbols": ["AAPL"]}).to_string();
    // A cross-site form post: text/plain needs no preflight.
    let plain = client
        .post(daemon.url("/api/v1/watchlists"))
        .header("content-type", "text/plain")
        .body(watchlist.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 415);
    let evil = client
        .post(daemon.url("/api/v1/watchlists"))
        .header("content-type", "application/json")
        .header("origin", "http://evil.example")
        .body(watchlist.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), 403);
    let body: Value = evil.json().await.unwrap();
    assert_eq!(body["error"]["code"], "origin_not_allowed");
    // The dashboard's own origin is its own.
    let own = client
        .post(daemon.url("/api/v1/watchlists"))
        .header("content-type", "application/json")
        .header("origin", format!("http://{}", daemon.addr))
        .body(watchlist)
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 201);
    // DNS rebinding: a name that resolves to 127.0.0.1 but is not ours.
    let rebound = client
        .get(daemon.url("/api/v1/symbols"))
        .header("host", format!("evil.example:{}", daemon.addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), 403);
    // An IP address cannot be rebound: what probes and scrapers send.
    for host in ["10.1.2.3:8080", "[fd00::1]:8080"] {
        let by_address = client
            .get(daemon.url("/api/v1/symbols"))
            .header("host", host)
            .send()
            .await
            .unwrap();
        assert_eq!(by_address.status(), 200, "{host}");
    }
    let mut request = daemon.ws_url().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", "http://evil.example".parse().unwrap());
    let refused = tokio_tungstenite::connect_async(request).await.unwrap_err();
    assert_eq!(refused_with(refused), 403);
    // A body announced larger than 2 MiB is refused before it is read.
    let answer = {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(daemon.addr).await.unwrap();
        let head = "POST /api/v1/watchlists HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                    Content-Type: application/json\r\nContent-Length: 3000000\r\n\
                    Connection: close\r\n\r\n";
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        answer
    };
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("\"body_too_large\"") && answer.contains("Content-Length"),
        "{answer}"
    );
    let refusals = daemon.metrics_text().await;
    for code in [
        "unsupported_media_type",
        "origin_not_allowed",
        "host_not_allowed",
        "body_too_large",
    ] {
        assert!(
            refusals.contains(&format!(
                "tickstream_http_refusals_total{{code=\"{code}\"}}"
            )),
            "{code} counted"
        );
    }
}

#[tokio::test]
async fn a_thousand_news_shocks_are_bounded_and_the_store_keeps_writing() {
    let daemon = Daemon::start(&["--rate", "200"]);
    daemon.wait_ready().await;
    let shock = json!({"kind": "news_shock", "symbol": "AAPL", "jump": 2.0, "volatility": 3.0, "decay": "1s"});
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..1_000 {
        let (status, answer) = call(
            &daemon,
            Method::POST,
            "/api/v1/scenarios",
            None,
            Some(shock.clone()),
        )
        .await;
        match status.as_u16() {
            201 => accepted += 1,
            409 => {
                assert_eq!(answer["error"]["code"], "conflict", "{answer}");
                refused += 1;
            }
            other => panic!("{other}: {answer}"),
        }
    }
    assert_eq!(accepted + refused, 1_000);
    assert!(refused > 900, "the bound stops them: {accepted} accepted");
    let stored = daemon.metric("tickstream_store_ticks_total").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while daemon.metric("tickstream_store_ticks_total").await <= stored {
        assert!(Instant::now() < deadline, "the store stopped writing");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        reqwest::get(daemon.url("/readyz")).await.unwrap().status(),
        200
    );
    assert_eq!(daemon.metric("tickstream_store_errors_total").await, 0.0);
    let (_, quotes) = call(&daemon, Method::GET, "/api/v1/symbols", None, None).await;
    let aapl = quotes
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["symbol"] == "AAPL")
        .unwrap();
    let price = aapl["price"].as_f64().unwrap();
    assert!(price.is_finite() && price > 0.0, "{aapl}");
}

#[tokio::test]
async fn times_at_the_edge_of_the_calendar_are_answered_not_panicked_on() {
    let daemon = Daemon::start(&[]);
    daemon.wait_ready().await;
    for from in [
        "-262143-01-01T00:00:00Z",
        "+262142-12-31T23:59:59Z",
        "0000-01-01T00:00:00Z",
    ] {
        let path = format!(
            "/api/v1/indicators?symbol=AAPL&indicator=sma&from={}",
            from.replace('+', "%2B")
        );
        let (status, answer) = call(&daemon, Method::GET, &path, None, None).await;
        assert!(status == 200 || status == 400, "{from}: {status} {answer}");
    }
    assert_eq!(
        reqwest::get(daemon.url("/healthz")).await.unwrap().status(),
        200
    );
}
