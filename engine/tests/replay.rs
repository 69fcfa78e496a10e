//! Replay through the daemon's public interfaces: `tickstreamd replay` at
//! `max` prints the stored ticks byte for byte; a replay at ×10 keeps the
//! ticks' timing; REST steers it (pause, step, seek, speed) while a stream
//! follows; candles and indicators asked for with `replay` see nothing
//! after its clock; refusals name the field and are counted.

mod support;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use support::{Client, Daemon, daemon_with_keys, eventually, succeeded, tickstreamd};

/// The tests here run one at a time: the timing test measures milliseconds
/// on a machine of two cores.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn control(daemon: &Daemon, id: u64, command: Value) -> (u16, Value) {
    let path = format!("/api/v1/replays/{id}/control");
    daemon
        .send(reqwest::Method::POST, &path, Some(command))
        .await
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn time_of(tick: &Value) -> DateTime<Utc> {
    tick["timestamp"].as_str().unwrap().parse().unwrap()
}

/// The symbols the daemon knows.
async fn symbols(daemon: &Daemon) -> Vec<String> {
    daemon
        .get_json("/api/v1/symbols")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["symbol"].as_str().unwrap().to_owned())
        .collect()
}

/// A range of `seconds` of live ticks that the store holds whole: every
/// symbol has a stored tick after its end (a partition is stored in offset
/// order, so nothing before it is missing).
async fn stored_range(daemon: &Daemon, seconds: i64) -> (DateTime<Utc>, DateTime<Utc>) {
    let from = Utc::now();
    let to = from + chrono::Duration::seconds(seconds);
    let symbols = symbols(daemon).await;
    eventually(
        "every symbol has a stored tick after the range",
        Duration::from_secs(seconds as u64 + 30),
        || async {
            for symbol in &symbols {
                let path = format!("/api/v1/ticks?symbol={symbol}&from={}&limit=1", stamp(to));
                if daemon
                    .get_json(&path)
                    .await
                    .as_array()
                    .is_none_or(Vec::is_empty)
                {
                    return false;
                }
            }
            true
        },
    )
    .await;
    (from, to)
}

/// `GET /api/v1/ticks` of `symbol` in the range, as its body's text.
async fn stored_text(
    daemon: &Daemon,
    symbol: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> String {
    let path = format!(
        "/api/v1/ticks?symbol={symbol}&from={}&to={}&limit=10000",
        stamp(from),
        stamp(to)
    );
    reqwest::get(daemon.url(&path))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_at_max_prints_the_stored_ticks_byte_for_byte() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let daemon = Daemon::start(&["--rate", "3000"]);
    daemon.wait_ready().await;
    let (from, to) = stored_range(&daemon, 4).await;
    let out = succeeded(
        tickstreamd()
            .args([
                "replay",
                "--url",
                &daemon.url(""),
                "--speed",
                "max",
                "--json",
            ])
            .args(["--from", &stamp(from), "--to", &stamp(to)])
            .output()
            .unwrap(),
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 5_000, "{} ticks replayed", lines.len());
    let ticks: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // As a log delivers: each partition in offset order (and so in time
    // order); nothing outside the range.
    for (partition, offsets) in support::by_partition(&ticks) {
        assert!(
            offsets.windows(2).all(|w| w[0] < w[1]),
            "partition {partition}"
        );
    }
    assert!(ticks.iter().all(|t| (from..to).contains(&time_of(t))));
    // Per symbol, the lines are the store's ticks as REST serves them, byte for byte.
    let mut total = 0;
    for symbol in symbols(&daemon).await {
        let stored = stored_text(&daemon, &symbol, from, to).await;
        let needle = format!("{{\"symbol\":\"{symbol}\",");
        let replayed: Vec<&str> = lines
            .iter()
            .copied()
            .filter(|l| l.starts_with(&needle))
            .collect();
        total += replayed.len();
        let printed = format!("[{}]", replayed.join(","));
        if printed != stored {
            let stored: Vec<Value> = serde_json::from_str(&stored).unwrap();
            let first = replayed
                .iter()
                .zip(&stored)
                .position(|(r, s)| serde_json::from_str::<Value>(r).unwrap() != *s);
            panic!(
                "{symbol}: {} ticks printed, {} stored; first difference at {first:?}: printed {:?}, stored {:?}; stderr: {}",
                replayed.len(),
                stored.len(),
                first.and_then(|i| replayed.get(i)),
                first.and_then(|i| stored.get(i)),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    assert_eq!(total, lines.len(), "every line is a known symbol's tick");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("replayed {total} ticks")),
        "{stderr}"
    );
    // The replay deleted itself; its ticks were counted.
    assert_eq!(daemon.get_json("/api/v1/replays").await, json!([]));
    assert!(daemon.metric("tickstream_replay_ticks_total").await >= total as f64);

    // A stream of one symbol of a replay of all at max: the replay does not
    // wait on the partitions' other symbols, and the stream gets its own.
    let id = open_paused(&daemon, from, to, "max").await;
    let mut client = Client::connect(&format!("{}?replay={id}", daemon.ws_url())).await;
    client
        .send(json!({"op":"subscribe","symbols":["AAPL"]}))
        .await;
    client.recv_type("subscribed").await;
    control(&daemon, id, json!({"action":"play"})).await;
    let mut aapl = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(Instant::now() < deadline, "replay_completed within 30 s");
        let frame = client.recv().await;
        match frame["type"].as_str() {
            Some("ticks") => aapl.extend(frame["data"].as_array().unwrap().iter().cloned()),
            Some("event") if frame["data"]["kind"] == "replay_completed" => break,
            _ => {}
        }
    }
    let stored: Vec<Value> =
        serde_json::from_str(&stored_text(&daemon, "AAPL", from, to).await).unwrap();
    assert!(
        aapl == stored,
        "{} AAPL ticks streamed, {} stored",
        aapl.len(),
        stored.len()
    );
}

/// Opens a replay of the range, paused; returns its id.
async fn open_paused(daemon: &Daemon, from: DateTime<Utc>, to: DateTime<Utc>, speed: &str) -> u64 {
    let body = json!({"from": stamp(from), "to": stamp(to), "speed": speed, "paused": true});
    let (status, replay) = daemon
        .send(reqwest::Method::POST, "/api/v1/replays", Some(body))
        .await;
    assert_eq!(status, 201, "{replay}");
    assert_eq!(replay["state"], "paused");
    replay["id"].as_u64().unwrap()
}

/// A stream of replay `id`, subscribed to every symbol.
async fn stream(daemon: &Daemon, id: u64) -> Client {
    let mut client = Client::connect(&format!("{}?replay={id}", daemon.ws_url())).await;
    client.send(json!({"op":"subscribe","symbols":["*"]})).await;
    client.recv_type("subscribed").await;
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_at_ten_times_keeps_the_timing() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let daemon = Daemon::start(&["--rate", "500"]);
    daemon.wait_ready().await;
    let (from, to) = stored_range(&daemon, 10).await;
    let id = open_paused(&daemon, from, to, "10").await;
    let mut client = stream(&daemon, id).await;
    // The replay's clock starts at `from` while the play command is carried
    // out: between sending it and its answer.
    let sent = Instant::now();
    assert_eq!(control(&daemon, id, json!({"action":"play"})).await.0, 200);
    let answered = Instant::now();
    // Each tick's arrival, against its market time.
    let mut arrivals: Vec<(Instant, DateTime<Utc>)> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        assert!(Instant::now() < deadline, "replay_completed within 20 s");
        let frame = client.recv().await;
        let now = Instant::now();
        match frame["type"].as_str() {
            Some("ticks") => {
                for tick in frame["data"].as_array().unwrap() {
                    arrivals.push((now, time_of(tick)));
                }
            }
            Some("event") if frame["data"]["kind"] == "replay_completed" => break,
            _ => {}
        }
    }
    assert!(arrivals.len() > 1_000, "{} ticks", arrivals.len());
    let due = |market: &DateTime<Utc>| {
        Duration::from_micros(((*market - from).num_microseconds().unwrap() / 10) as u64)
    };
    // Never before its time.
    let early = arrivals
        .iter()
        .filter(|(wall, market)| *wall + Duration::from_millis(1) < sent + due(market))
        .count();
    assert_eq!(early, 0, "ticks that came before their time");
    // And on time to a few milliseconds as a rule.
    let mut lateness: Vec<f64> = arrivals
        .iter()
        .map(|(wall, market)| {
            wall.saturating_duration_since(answered + due(market))
                .as_secs_f64()
        })
        .collect();
    lateness.sort_by(f64::total_cmp);
    let (median, latest) = (lateness[lateness.len() / 2], lateness[lateness.len() - 1]);
    assert!(median < 0.03, "median lateness {:.1} ms", median * 1e3);
    assert!(latest < 0.25, "a tick came {:.1} ms late", latest * 1e3);
    let (wall0, market0) = arrivals[0];
    // Ten market seconds took about one.
    let span = arrivals
        .last()
        .unwrap()
        .0
        .duration_since(wall0)
        .as_secs_f64();
    let market = (arrivals.last().unwrap().1 - market0).num_milliseconds() as f64 / 1e3;
    assert!(
        (span - market / 10.0).abs() < 0.25,
        "{market} s of market in {span} s"
    );
    let status = daemon.get_json(&format!("/api/v1/replays/{id}")).await;
    assert_eq!(status["state"], "completed");
    assert_eq!(status["ticks"].as_u64().unwrap(), arrivals.len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_is_steered_and_its_candles_see_nothing_after_its_clock() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let daemon = Daemon::start(&["--rate", "1000"]);
    daemon.wait_ready().await;
    eventually(
        "AAPL has three seconds of history",
        Duration::from_secs(20),
        || async {
            let candles = daemon
                .get_json("/api/v1/candles?symbol=AAPL&interval=1s")
                .await;
            candles.as_array().is_some_and(|c| c.len() >= 3)
        },
    )
    .await;
    let (from, to) = stored_range(&daemon, 4).await;
    let id = open_paused(&daemon, from, to, "1").await;
    let mut client = stream(&daemon, id).await;

    // Step: exactly the first ticks of the range, in order.
    let (status, stepped) = control(&daemon, id, json!({"action":"step","ticks":25})).await;
    assert_eq!(status, 200, "{stepped}");
    assert_eq!(stepped["state"], "paused");
    let mut got = Vec::new();
    while got.len() < 25 {
        let frame = client.recv_type("ticks").await;
        got.extend(frame["data"].as_array().unwrap().iter().cloned());
    }
    assert!(got.len() >= 25 && got.len() == stepped["ticks"].as_u64().unwrap() as usize);
    let clock: DateTime<Utc> = stepped["clock"].as_str().unwrap().parse().unwrap();
    let newest = got.iter().max_by_key(|t| time_of(t)).unwrap();
    assert_eq!(
        clock,
        time_of(newest),
        "the clock is the newest tick's time"
    );
    let after_clock = clock + chrono::Duration::microseconds(1);
    let mut first = 0;
    for symbol in symbols(&daemon).await {
        let stored: Vec<Value> =
            serde_json::from_str(&stored_text(&daemon, &symbol, from, after_clock).await).unwrap();
        let stepped: Vec<&Value> = got
            .iter()
            .filter(|t| t["symbol"] == symbol.as_str())
            .collect();
        assert!(
            stepped == stored.iter().collect::<Vec<_>>(),
            "{symbol}: {} ticks stepped, {} stored up to the clock",
            stepped.len(),
            stored.len()
        );
        first += stored.len();
    }
    assert_eq!(first, got.len());

    // Candles as of the clock hold exactly the ticks up to it.
    let symbol = newest["symbol"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/candles?symbol={symbol}&interval=1m&replay={id}");
    let candles = daemon.get_json(&path).await;
    let last = candles.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["closed"], false);
    let bucket: DateTime<Utc> = last["start"].as_str().unwrap().parse().unwrap();
    let stored: Vec<Value> = serde_json::from_str(
        &stored_text(
            &daemon,
            &symbol,
            bucket,
            clock + chrono::Duration::microseconds(1),
        )
        .await,
    )
    .unwrap();
    assert_eq!(
        last["trades"].as_u64().unwrap(),
        stored.len() as u64,
        "{last}"
    );
    let volume: u64 = stored.iter().map(|t| t["volume"].as_u64().unwrap()).sum();
    assert_eq!(last["volume"].as_u64().unwrap(), volume);
    assert_eq!(last["close"], stored.last().unwrap()["price"]);
    assert_eq!(last["open"], stored[0]["price"]);
    let live = daemon
        .get_json(&format!("/api/v1/candles?symbol={symbol}&interval=1m"))
        .await;
    let live_bucket = live
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["start"] == last["start"])
        .unwrap();
    assert!(
        live_bucket["trades"].as_u64() > last["trades"].as_u64(),
        "the live candle has the ticks after the clock"
    );
    let sma = daemon
        .get_json(&format!(
            "/api/v1/indicators?symbol=AAPL&interval=1s&indicator=sma&period=2&replay={id}"
        ))
        .await;
    let points = sma["points"].as_array().unwrap_or_else(|| panic!("{sma}"));
    let newest: DateTime<Utc> = points.last().unwrap_or_else(|| panic!("{sma}"))["start"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(newest <= clock, "no indicator point after the clock");

    // Seek: the stream starts afresh there.
    let middle = from + chrono::Duration::seconds(2);
    let (status, sought) = control(&daemon, id, json!({"action":"seek","to": stamp(middle)})).await;
    assert_eq!(status, 200, "{sought}");
    assert_eq!(
        (sought["generation"].as_u64(), sought["ticks"].as_u64()),
        (Some(1), Some(0))
    );
    client.recv_type("subscribed").await;
    let event = client.recv_type("event").await;
    assert_eq!(event["data"]["kind"], "replay_seeked");
    // Speed and play: the ticks from the seek on, to the end.
    let (status, fast) = control(&daemon, id, json!({"action":"speed","speed":"max"})).await;
    assert_eq!((status, fast["speed"].as_str()), (200, Some("max")));
    control(&daemon, id, json!({"action":"play"})).await;
    let mut played = Vec::new();
    loop {
        let frame = client.recv().await;
        match frame["type"].as_str() {
            Some("ticks") => played.extend(frame["data"].as_array().unwrap().iter().cloned()),
            Some("event") if frame["data"]["kind"] == "replay_completed" => break,
            _ => {}
        }
    }
    assert!(played.iter().all(|t| (middle..to).contains(&time_of(t))));
    let all = symbols(&daemon).await;
    let mut expected = 0;
    for symbol in &all {
        let text = stored_text(&daemon, symbol, middle, to).await;
        expected += serde_json::from_str::<Vec<Value>>(&text).unwrap().len();
    }
    assert_eq!(
        played.len(),
        expected,
        "from the seek to the end, once each"
    );

    // A completed replay: play is refused until a seek.
    let (status, refused) = control(&daemon, id, json!({"action":"play"})).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (409, Some("conflict"))
    );
    // Delete: the stream ends.
    let (status, _) = daemon
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/replays/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    client.closed_within(Duration::from_secs(5)).await;
    assert_eq!(
        daemon
            .send(reqwest::Method::GET, &format!("/api/v1/replays/{id}"), None)
            .await
            .0,
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_replays_are_refused_naming_the_field_and_counted() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let daemon = Daemon::start(&[]);
    daemon.wait_ready().await;
    let now = Utc::now();
    let hour_ago = stamp(now - chrono::Duration::hours(1));
    let cases = [
        (
            json!({"from": stamp(now + chrono::Duration::hours(1))}),
            400,
            "from",
        ),
        (json!({"from": hour_ago, "speed": "fast"}), 400, "speed"),
        (json!({"from": hour_ago, "spede": "10"}), 400, "spede"),
        (
            json!({"from": hour_ago, "symbols": ["NOPE"]}),
            404,
            "symbols",
        ),
        (json!({"to": hour_ago}), 400, "from"),
    ];
    for (body, want, field) in cases {
        let (status, refused) = daemon
            .send(reqwest::Method::POST, "/api/v1/replays", Some(body.clone()))
            .await;
        assert_eq!(status, want, "{body} → {refused}");
        let message = refused["error"]["message"].as_str().unwrap();
        assert!(message.contains(field), "{body} → {message}");
    }
    let id = open_paused(&daemon, now - chrono::Duration::hours(1), now, "1").await;
    let commands = [
        (json!({"action":"step","ticks":0}), "ticks"),
        (json!({"action":"seek"}), "to"),
        (
            json!({"action":"seek","to": stamp(now + chrono::Duration::hours(2))}),
            "to",
        ),
        (json!({"action":"play","speed":"2"}), "speed"),
        (json!({"action":"rewind"}), "action"),
    ];
    for (command, field) in commands {
        let (status, refused) = control(&daemon, id, command.clone()).await;
        assert_eq!(status, 400, "{command} → {refused}");
        assert_eq!(refused["error"]["code"], "invalid_replay");
        assert!(
            refused["error"]["message"]
                .as_str()
                .unwrap()
                .contains(field),
            "{refused}"
        );
    }
    assert_eq!(control(&daemon, 999, json!({"action":"play"})).await.0, 404);
    match tokio_tungstenite::connect_async(format!("{}?replay=999", daemon.ws_url())).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 404)
        }
        other => panic!("a stream of no replay: {:?}", other.map(|_| ())),
    }
    // At most eight at once.
    for _ in 1..8 {
        open_paused(&daemon, now - chrono::Duration::hours(1), now, "1").await;
    }
    let ninth = json!({"from": hour_ago});
    let (status, refused) = daemon
        .send(reqwest::Method::POST, "/api/v1/replays", Some(ninth))
        .await;
    assert_eq!(status, 409, "{refused}");
    let refusals = daemon.metrics_text().await;
    let counted = |code: &str| {
        refusals
            .lines()
            .find_map(|l| {
                l.strip_prefix(&format!(
                    "tickstream_http_refusals_total{{code=\"{code}\"}} "
                ))
            })
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    assert_eq!(counted("invalid_replay"), 9.0, "{refusals}");
    assert!(counted("conflict") >= 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_and_steering_a_replay_needs_the_write_scope() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let (daemon, keys) = daemon_with_keys(&[("reader", "read", &[]), ("writer", "write", &[])]);
    daemon.wait_ready().await;
    let from = stamp(Utc::now() - chrono::Duration::minutes(5));
    let open = |key: &str| {
        reqwest::Client::new()
            .post(daemon.url("/api/v1/replays"))
            .bearer_auth(key)
            .json(&json!({"from": from, "paused": true}))
            .send()
    };
    assert_eq!(open(&keys[0]).await.unwrap().status(), 403);
    let opened: Value = open(&keys[1]).await.unwrap().json().await.unwrap();
    let id = opened["id"].as_u64().unwrap();
    let listed = reqwest::Client::new()
        .get(daemon.url("/api/v1/replays"))
        .bearer_auth(&keys[0])
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let steer = reqwest::Client::new()
        .post(daemon.url(&format!("/api/v1/replays/{id}/control")))
        .bearer_auth(&keys[0])
        .json(&json!({"action":"play"}))
        .send()
        .await
        .unwrap();
    assert_eq!(steer.status(), 403);
}

/// Runs a GraphQL request; its `data` and `errors`.
async fn graphql(daemon: &Daemon, query: &str, variables: Value) -> (Value, Value) {
    let answer: Value = reqwest::Client::new()
        .post(daemon.url("/graphql"))
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (answer["data"].clone(), answer["errors"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_opens_steers_reads_and_deletes_a_replay_as_rest_does() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let daemon = Daemon::start(&["--rate", "1000"]);
    daemon.wait_ready().await;
    let (from, to) = stored_range(&daemon, 2).await;
    let open = "mutation($r: JSON!) { openReplay(replay: $r) { id state clock } }";
    let range = json!({"from": stamp(from), "to": stamp(to), "paused": true});
    let (data, errors) = graphql(&daemon, open, json!({"r": range})).await;
    assert!(errors.is_null(), "{errors}");
    assert_eq!(data["openReplay"]["state"], "PAUSED");
    let id = data["openReplay"]["id"].as_u64().unwrap();

    let step = "mutation($id: ID!, $c: JSON!) { controlReplay(id: $id, command: $c) { ticks state clock } }";
    let command = json!({"action": "step", "ticks": 5});
    let (data, errors) = graphql(&daemon, step, json!({"id": id.to_string(), "c": command})).await;
    assert!(errors.is_null(), "{errors}");
    let stepped = &data["controlReplay"];
    assert!(stepped["ticks"].as_u64().unwrap() >= 5);
    let rest = daemon.get_json(&format!("/api/v1/replays/{id}")).await;
    assert_eq!(rest["ticks"], stepped["ticks"]);
    let clock = |v: &Value| {
        v["clock"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap()
    };
    assert_eq!(clock(&rest), clock(stepped));

    // Candles as of the replay's clock, as REST answers them.
    let read = "query($id: Int!) { replay(id: $id) { ticks } replays { id } candles(symbol: \"AAPL\", interval: \"1m\", replay: $id) { start trades closed } }";
    let (data, errors) = graphql(&daemon, read, json!({"id": id})).await;
    assert!(errors.is_null(), "{errors}");
    assert_eq!(data["replays"], json!([{"id": id}]));
    let candles = daemon
        .get_json(&format!(
            "/api/v1/candles?symbol=AAPL&interval=1m&replay={id}"
        ))
        .await;
    let trades = |c: &Value| {
        c.as_array()
            .unwrap()
            .iter()
            .map(|c| c["trades"].as_u64())
            .collect::<Vec<_>>()
    };
    assert_eq!(trades(&data["candles"]), trades(&candles));

    // A refusal names the field, with REST's code.
    let bad = json!({"from": stamp(from), "speed": "fast"});
    let (_, errors) = graphql(&daemon, open, json!({"r": bad})).await;
    assert_eq!(
        errors[0]["extensions"]["code"], "invalid_replay",
        "{errors}"
    );
    assert!(
        errors[0]["message"].as_str().unwrap().contains("speed"),
        "{errors}"
    );

    let delete = "mutation($id: ID!) { deleteReplay(id: $id) }";
    let (data, errors) = graphql(&daemon, delete, json!({"id": id.to_string()})).await;
    assert!(errors.is_null(), "{errors}");
    assert_eq!(data["deleteReplay"], true);
    let (_, errors) = graphql(
        &daemon,
        "query($id: Int!) { replay(id: $id) { id } }",
        json!({"id": id}),
    )
    .await;
    assert_eq!(errors[0]["extensions"]["code"], "not_found", "{errors}");
}
