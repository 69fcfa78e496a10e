//! The trader's workspace through the daemon's REST API: watchlists and
//! portfolios (validated, unique by name, kept across restarts, valued at
//! the live quotes), volume analysis and the once-a-second metrics history.

mod support;

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use support::Daemon;

/// Sends a request; the status and the JSON body (null when empty).
async fn send(daemon: &Daemon, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method, daemon.url(path));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watchlists_and_portfolios_are_validated_kept_and_valued() {
    let mut daemon = Daemon::start(&["--rate", "500"]);
    daemon.wait_ready().await;

    // Refusals name the field.
    for (path, body, status, code, needle) in [
        (
            "/api/v1/watchlists",
            json!({"name": "", "symbols": []}),
            400,
            "invalid_watchlist",
            "name",
        ),
        (
            "/api/v1/watchlists",
            json!({"name": "T", "symbols": ["AAPL", "ZZZZ"]}),
            400,
            "invalid_watchlist",
            "symbols[1]: ZZZZ",
        ),
        (
            "/api/v1/watchlists",
            json!({"name": "T", "symbols": ["AAPL", "AAPL"]}),
            400,
            "invalid_watchlist",
            "listed twice",
        ),
        (
            "/api/v1/watchlists",
            json!({"name": "T"}),
            400,
            "invalid_watchlist",
            "symbols",
        ),
        (
            "/api/v1/portfolios",
            json!({"name": "P", "positions": [{"symbol": "AAPL", "quantity": 0, "cost": 1}]}),
            400,
            "invalid_portfolio",
            "positions[0].quantity",
        ),
        (
            "/api/v1/portfolios",
            json!({"name": "P", "positions": [{"symbol": "AAPL", "quantity": 5, "cost": -1}]}),
            400,
            "invalid_portfolio",
            "positions[0].cost",
        ),
        (
            "/api/v1/portfolios",
            json!({"name": "P", "positions": [{"symbol": "AAPL", "quantity": "ten", "cost": 1}]}),
            400,
            "invalid_portfolio",
            "field positions[0].quantity: invalid type",
        ),
        (
            "/api/v1/watchlists",
            json!({"name": "T", "symbols": ["AAPL", 3]}),
            400,
            "invalid_watchlist",
            "field symbols[1]: invalid type",
        ),
    ] {
        let (got, reply) = send(&daemon, Method::POST, path, Some(body.clone())).await;
        assert_eq!(got, status, "{body} → {reply}");
        assert_eq!(reply["error"]["code"], code, "{reply}");
        assert!(
            message(&reply).contains(needle),
            "{needle:?} not in {reply}"
        );
    }

    let (status, tech) = send(
        &daemon,
        Method::POST,
        "/api/v1/watchlists",
        Some(json!({"name": "Tech", "symbols": ["NVDA", "AAPL"]})),
    )
    .await;
    assert_eq!(status, 201, "{tech}");
    let id = tech["id"].as_u64().unwrap();
    assert_eq!(tech["symbols"], json!(["NVDA", "AAPL"]));
    let (status, again) = send(
        &daemon,
        Method::POST,
        "/api/v1/watchlists",
        Some(json!({"name": "Tech", "symbols": []})),
    )
    .await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (409, Some("conflict")),
        "{again}"
    );
    let (status, changed) = send(
        &daemon,
        Method::PUT,
        &format!("/api/v1/watchlists/{id}"),
        Some(json!({"name": "Tech", "symbols": ["NVDA", "AAPL", "MSFT"]})),
    )
    .await;
    assert_eq!(status, 200, "{changed}");

    let (status, portfolio) = send(
        &daemon,
        Method::POST,
        "/api/v1/portfolios",
        Some(json!({"name": "Main", "positions": [
            {"symbol": "AAPL", "quantity": 10, "cost": 100.0},
            {"symbol": "MSFT", "quantity": -4, "cost": 50.0}
        ]})),
    )
    .await;
    assert_eq!(status, 201, "{portfolio}");
    let pid = portfolio["id"].as_u64().unwrap();

    // Valued at the quotes the daemon serves.
    let (status, value) = send(
        &daemon,
        Method::GET,
        &format!("/api/v1/portfolios/{pid}/value"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{value}");
    let (_, quotes) = send(&daemon, Method::GET, "/api/v1/symbols", None).await;
    let price = |symbol: &str| {
        quotes
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["symbol"] == symbol)
            .unwrap()["price"]
            .as_f64()
            .unwrap()
    };
    let aapl = &value["positions"][0];
    let valued_at = aapl["price"].as_f64().unwrap();
    // The price moved between the two requests by at most a few percent.
    assert!(
        (valued_at / price("AAPL") - 1.0).abs() < 0.05,
        "{valued_at} vs {}",
        price("AAPL")
    );
    assert!(
        (aapl["pnl"].as_f64().unwrap() - 10.0 * (valued_at - 100.0)).abs() < 1e-6,
        "{aapl}"
    );
    assert_eq!(value["cost_basis"].as_f64(), Some(1000.0 - 200.0));
    let total: f64 = value["positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pnl"].as_f64().unwrap())
        .sum();
    assert!(
        (value["pnl"].as_f64().unwrap() - total).abs() < 1e-6,
        "{value}"
    );

    // Kept across a restart on the same data directory.
    daemon.restart(&["--rate", "500"]);
    daemon.wait_ready().await;
    let (_, lists) = send(&daemon, Method::GET, "/api/v1/watchlists", None).await;
    assert_eq!(
        lists,
        json!([{"id": id, "name": "Tech", "symbols": ["NVDA", "AAPL", "MSFT"]}])
    );
    let (_, read) = send(
        &daemon,
        Method::GET,
        &format!("/api/v1/portfolios/{pid}"),
        None,
    )
    .await;
    assert_eq!(read["positions"][1]["quantity"], -4.0);
    assert_eq!(
        send(
            &daemon,
            Method::DELETE,
            &format!("/api/v1/watchlists/{id}"),
            None
        )
        .await
        .0,
        204
    );
    assert_eq!(
        send(
            &daemon,
            Method::DELETE,
            &format!("/api/v1/watchlists/{id}"),
            None
        )
        .await
        .0,
        404
    );
    assert_eq!(
        send(&daemon, Method::GET, "/api/v1/portfolios/abc", None)
            .await
            .0,
        400
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volume_analysis_and_the_metrics_history_come_from_the_engine() {
    let daemon = Daemon::start(&["--rate", "2000", "--backfill", "1day"]);
    daemon.wait_ready().await;
    let mut client = support::Client::connect(&daemon.ws_url()).await;
    client
        .send(json!({"op": "subscribe", "symbols": ["*"]}))
        .await;
    client.collect_ticks(Duration::from_millis(2500)).await;

    let (status, report) = send(
        &daemon,
        Method::GET,
        "/api/v1/volume?days=2&minutes=60",
        None,
    )
    .await;
    assert_eq!(status, 200, "{report}");
    let symbols = report["symbols"].as_array().unwrap();
    assert!(symbols.len() >= 10, "{report}");
    let share: f64 = symbols
        .iter()
        .map(|s| s["share_percent"].as_f64().unwrap())
        .sum();
    assert!((share - 100.0).abs() < 1e-6, "shares add to {share}");
    let volumes: Vec<u64> = symbols
        .iter()
        .map(|s| s["volume"].as_u64().unwrap())
        .collect();
    assert!(
        volumes.windows(2).all(|w| w[0] >= w[1]),
        "most traded first: {volumes:?}"
    );
    for s in symbols {
        let (price, vwap) = (s["price"].as_f64().unwrap(), s["vwap"].as_f64().unwrap());
        let deviation = s["vwap_deviation_percent"].as_f64().unwrap();
        assert!(
            (deviation - (price - vwap) / vwap * 100.0).abs() < 1e-9,
            "{s}"
        );
    }
    let day = &report["time_of_day"];
    assert_eq!(day["timezone"], "America/New_York");
    assert_eq!(day["minutes"], 60);
    let slots = day["slots"].as_array().unwrap();
    assert!(
        slots.len() >= 12,
        "a backfilled day spreads over the hours: {day}"
    );
    assert!(
        slots
            .iter()
            .all(|s| s["start"].as_str().unwrap().ends_with(":00")),
        "{day}"
    );

    for (query, needle) in [
        ("tz=Mars/Olympus", "tz"),
        ("minutes=7", "minutes"),
        ("days=0", "days"),
        ("symbol=ZZZZ", "ZZZZ"),
        ("colour=red", "colour"),
    ] {
        let (status, reply) = send(
            &daemon,
            Method::GET,
            &format!("/api/v1/volume?{query}"),
            None,
        )
        .await;
        assert!(status == 400 || status == 404, "{query}: {status}");
        assert!(message(&reply).contains(needle), "{query}: {reply}");
    }
    let (_, one) = send(&daemon, Method::GET, "/api/v1/volume?symbol=AAPL", None).await;
    assert_eq!(one["symbols"].as_array().unwrap().len(), 1);
    assert_eq!(one["symbols"][0]["share_percent"], 100.0);

    let (status, samples) = send(&daemon, Method::GET, "/api/v1/metrics", None).await;
    assert_eq!(status, 200);
    let samples = samples.as_array().unwrap();
    assert!(samples.len() >= 2, "{samples:?}");
    let last = samples.last().unwrap();
    let rate = last["ticks_in_per_second"].as_f64().unwrap();
    assert!(
        (1000.0..4000.0).contains(&rate),
        "simulating 2000/s, sampled {rate}"
    );
    assert!(
        last["ticks_out_per_second"].as_f64().unwrap() > 0.0,
        "{last}"
    );
    assert_eq!(last["clients"], 1);
    assert!(last["latency_p99_ms"].as_f64().unwrap() >= last["latency_p50_ms"].as_f64().unwrap());
    assert!(
        last["store_writes_per_second"].as_f64().unwrap() > 0.0,
        "{last}"
    );
    assert_eq!(last["consumer_lag"], Value::Null, "no Kafka here");
    client.close().await;
}
