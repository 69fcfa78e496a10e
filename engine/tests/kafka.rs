//! Producer and bridge against a real Kafka-API broker (Tansu, started per
//! test): delivery exactly once and in order, shards, resume across
//! bridges, malformed messages, Avro records.

mod support;

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::{Arc, Mutex},
    time::Duration,
};

use rdkafka::{
    ClientConfig,
    producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer},
};
use serde_json::{Value, json};
use support::{Client, Daemon, DurableBroker, Tansu, book::DepthStream, eventually, position};

/// Subscribes to every symbol from offset 0 of every partition.
async fn subscribe_from_start(client: &mut Client) {
    let from_zero: BTreeMap<String, u64> = (0..8).map(|p| (p.to_string(), 0)).collect();
    client
        .send(json!({"op":"subscribe","symbols":["*"],"resume":from_zero}))
        .await;
    client.recv_type("subscribed").await;
}

/// Collects ticks until none arrives for `quiet`.
async fn collect_until_quiet(client: &mut Client, quiet: Duration) -> Vec<Value> {
    let mut all = Vec::new();
    loop {
        let more = client.collect_ticks(quiet).await;
        if more.is_empty() {
            return all;
        }
        all.extend(more);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_produced_tick_reaches_every_client_exactly_once_in_order() {
    let tansu = Tansu::start();
    let brokers = tansu.brokers.as_str();
    let mut producer = Daemon::role("producer", &["--brokers", brokers, "--rate", "1500"]);
    let bridge = Daemon::role("bridge", &["--brokers", brokers, "--start", "earliest"]);
    bridge.wait_ready().await;
    producer
        .wait_metric(
            r#"tickstream_kafka_delivered_total{record="tick"}"#,
            2_000.0,
        )
        .await;
    let (status, _) = producer.terminate();
    assert!(status.success());

    let mut a = Client::connect(&bridge.ws_url()).await;
    let mut b = Client::connect(&bridge.ws_url()).await;
    subscribe_from_start(&mut a).await;
    subscribe_from_start(&mut b).await;
    let (ticks_a, ticks_b) = tokio::join!(
        collect_until_quiet(&mut a, Duration::from_millis(1_000)),
        collect_until_quiet(&mut b, Duration::from_millis(1_000))
    );
    let produced = bridge
        .metric(r#"tickstream_kafka_consumed_total{record="tick"}"#)
        .await as usize;
    assert!(produced > 1_000, "only {produced} ticks produced");
    for ticks in [&ticks_a, &ticks_b] {
        // The producer numbers its ticks 1..=N: each arrives once.
        let seqs: BTreeSet<u64> = ticks.iter().map(|t| t["seq"].as_u64().unwrap()).collect();
        assert_eq!(seqs.len(), ticks.len(), "a tick arrived twice");
        assert_eq!(seqs.len(), produced);
        assert_eq!(
            (*seqs.first().unwrap(), *seqs.last().unwrap()),
            (1, produced as u64)
        );
        // In order per symbol, with Kafka's partition and offset.
        let mut last: HashMap<&str, u64> = HashMap::new();
        for t in ticks {
            let (symbol, seq) = (t["symbol"].as_str().unwrap(), t["seq"].as_u64().unwrap());
            assert!(
                last.insert(symbol, seq).is_none_or(|prev| prev < seq),
                "{symbol} out of order"
            );
            let _ = position(t);
        }
    }
    // Caught up: librdkafka's statistics (once a second) report no lag,
    // and the metrics history shows the bridge's consumer lag.
    eventually(
        "the bridge reports no lag",
        Duration::from_secs(10),
        || async {
            let samples: Vec<serde_json::Value> = reqwest::get(bridge.url("/api/v1/metrics"))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            bridge
                .metrics_text()
                .await
                .contains("tickstream_kafka_consumer_lag 0")
                && samples.last().is_some_and(|s| s["consumer_lag"] == 0)
        },
    )
    .await;
}

/// The symbols a shard's producer publishes, seen through a bridge.
async fn symbols_of_shard(brokers: &str, shard: &str, client: &mut Client) -> BTreeSet<String> {
    let mut producer = Daemon::role(
        "producer",
        &["--brokers", brokers, "--rate", "500", "--shard", shard],
    );
    producer
        .wait_metric(r#"tickstream_kafka_delivered_total{record="tick"}"#, 500.0)
        .await;
    assert!(producer.terminate().0.success());
    collect_until_quiet(client, Duration::from_millis(800))
        .await
        .iter()
        .map(|t| t["symbol"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharded_producers_split_the_symbols_without_overlap_or_hole() {
    let tansu = Tansu::start();
    let brokers = tansu.brokers.as_str();
    let bridges = [
        Daemon::role("bridge", &["--brokers", brokers]),
        Daemon::role("bridge", &["--brokers", brokers]),
    ];
    for bridge in &bridges {
        bridge.wait_ready().await;
    }
    let mut a = Client::connect(&bridges[0].ws_url()).await;
    a.send(json!({"op":"subscribe","symbols":["*"]})).await;
    a.recv_type("subscribed").await;
    let first = symbols_of_shard(brokers, "0/2", &mut a).await;
    let second = symbols_of_shard(brokers, "1/2", &mut a).await;
    assert!(
        first.is_disjoint(&second),
        "both shards published {:?}",
        first.intersection(&second)
    );
    assert_eq!(first.len() + second.len(), 20, "{first:?} + {second:?}");

    // The other bridge serves every symbol too.
    let mut b = Client::connect(&bridges[1].ws_url()).await;
    subscribe_from_start(&mut b).await;
    let all: BTreeSet<String> = collect_until_quiet(&mut b, Duration::from_millis(800))
        .await
        .iter()
        .map(|t| t["symbol"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(all.len(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_moves_between_bridges_with_resume_and_loses_nothing() {
    let tansu = Tansu::start();
    let brokers = tansu.brokers.as_str();
    let mut producer = Daemon::role("producer", &["--brokers", brokers, "--rate", "1000"]);
    let bridge_a = Daemon::role("bridge", &["--brokers", brokers, "--start", "earliest"]);
    let bridge_b = Daemon::role("bridge", &["--brokers", brokers, "--start", "earliest"]);
    bridge_a.wait_ready().await;
    bridge_b.wait_ready().await;

    let mut on_a = Client::connect(&bridge_a.ws_url()).await;
    subscribe_from_start(&mut on_a).await;
    let before = on_a.collect_ticks(Duration::from_millis(1_000)).await;
    on_a.close().await;
    let mut next: BTreeMap<String, u64> = BTreeMap::new();
    for t in &before {
        let (p, o) = position(t);
        next.insert(p.to_string(), o + 1);
    }
    // Ticks produced while the client moves, then the producer stops.
    let delivered = producer
        .metric(r#"tickstream_kafka_delivered_total{record="tick"}"#)
        .await;
    producer
        .wait_metric(
            r#"tickstream_kafka_delivered_total{record="tick"}"#,
            delivered + 200.0,
        )
        .await;
    assert!(producer.terminate().0.success());

    let mut on_b = Client::connect(&bridge_b.ws_url()).await;
    on_b.send(json!({"op":"subscribe","symbols":["*"],"resume":next}))
        .await;
    on_b.recv_type("subscribed").await;
    let after = collect_until_quiet(&mut on_b, Duration::from_millis(1_000)).await;
    assert!(!after.is_empty());
    // One producer numbered its ticks 1..=N: together the two bridges
    // delivered each exactly once.
    let produced = bridge_b
        .metric(r#"tickstream_kafka_consumed_total{record="tick"}"#)
        .await as u64;
    let mut count: BTreeMap<u64, u32> = BTreeMap::new();
    for t in before.iter().chain(&after) {
        *count.entry(t["seq"].as_u64().unwrap()).or_default() += 1;
    }
    let missing: Vec<u64> = (1..=produced)
        .filter(|s| !count.contains_key(s))
        .take(10)
        .collect();
    let repeated: Vec<u64> = count
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(s, _)| *s)
        .take(10)
        .collect();
    assert!(produced > 1_000, "only {produced} ticks");
    assert!(
        missing.is_empty() && repeated.is_empty(),
        "missing {missing:?}, repeated {repeated:?}"
    );
    assert_eq!(count.len() as u64, produced);
}

/// A plain rdkafka producer on `brokers`, for records no Tickstream
/// producer would write.
fn raw_producer(brokers: &str) -> ThreadedProducer<DefaultProducerContext> {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_are_counted_and_skipped() {
    let tansu = Tansu::start();
    let brokers = tansu.brokers.as_str();
    let bridge = Daemon::role("bridge", &["--brokers", brokers, "--start", "earliest"]);
    bridge.wait_ready().await;
    let raw = raw_producer(brokers);
    let good = json!({"symbol":"AAPL","price":189.5,"volume":100,"timestamp":"2026-11-24T14:30:00Z","exchange":"XNAS"});
    for payload in [
        "not json".to_owned(),
        r#"{"symbol":"AAPL","price":"cheap"}"#.to_owned(),
        good.to_string(),
    ] {
        raw.send(BaseRecord::to("stock_ticks").key("AAPL").payload(&payload))
            .unwrap();
    }
    raw.flush(Duration::from_secs(10)).unwrap();

    let mut c = Client::connect(&bridge.ws_url()).await;
    subscribe_from_start(&mut c).await;
    let ticks = collect_until_quiet(&mut c, Duration::from_millis(1_000)).await;
    assert_eq!(ticks.len(), 1, "{ticks:?}");
    // Fields the bridge does not know reach clients unchanged.
    assert_eq!(ticks[0]["exchange"], "XNAS");
    assert_eq!(
        ticks[0]["offset"], 2,
        "Kafka's offset, after the two bad messages"
    );
    let text = bridge.metrics_text().await;
    assert!(
        text.contains(r#"tickstream_kafka_malformed_total{topic="stock_ticks"} 2"#),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn depth_records_no_market_has_are_counted_and_skipped() {
    let tansu = Tansu::start();
    let brokers = tansu.brokers.as_str();
    let bridge = Daemon::role("bridge", &["--brokers", brokers, "--start", "earliest"]);
    bridge.wait_ready().await;
    let raw = raw_producer(brokers);
    let at = "2026-11-24T14:30:00Z";
    let book = |price: f64| {
        json!({"symbol":"AAPL","seq":1,"snapshot":true,"bids":[{"price":price,"size":100}],
               "asks":[{"price":189.38,"size":200}],"timestamp":at})
    };
    let quote = |bid_size: u64| json!({"symbol":"AAPL","bid":189.36,"bid_size":bid_size,"ask":189.38,"ask_size":200,"seq":1,"timestamp":at});
    for (topic, payload) in [
        ("order_book", book(-1.0)),
        ("order_book", book(189.36)),
        ("stock_quotes", quote(u64::MAX)),
        ("stock_quotes", quote(100)),
    ] {
        raw.send(
            BaseRecord::to(topic)
                .key("AAPL")
                .payload(&payload.to_string()),
        )
        .unwrap();
    }
    raw.flush(Duration::from_secs(10)).unwrap();

    eventually(
        "the good book reaches the bridge",
        Duration::from_secs(20),
        || async {
            reqwest::get(bridge.url("/api/v1/book?symbol=AAPL"))
                .await
                .is_ok_and(|r| r.status() == 200)
        },
    )
    .await;
    let rest = bridge.get_json("/api/v1/book?symbol=AAPL").await;
    assert_eq!(rest["bids"], json!([{"price":189.36,"size":100}]));
    bridge
        .wait_metric(r#"tickstream_kafka_consumed_total{record="quote"}"#, 1.0)
        .await;
    let text = bridge.metrics_text().await;
    for topic in ["order_book", "stock_quotes"] {
        assert!(
            text.contains(&format!(
                r#"tickstream_kafka_malformed_total{{topic="{topic}"}} 1"#
            )),
            "{text}"
        );
    }
}

/// The bytes of the first record on `topic`, as the cluster holds it.
fn first_record(brokers: &str, topic: &str) -> Vec<u8> {
    use rdkafka::{
        Message,
        consumer::{BaseConsumer, Consumer},
    };
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "format-check")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    loop {
        if let Some(message) = consumer.poll(Duration::from_secs(10)) {
            return message.unwrap().payload().unwrap().to_vec();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_avro_producer_feeds_a_bridge_that_reads_avro_and_json_alike() {
    use tickstream::model::schemas::Record;
    let tansu = Tansu::start();
    let brokers = tansu.brokers.as_str();
    let mut producer = Daemon::role_with_env(
        "producer",
        &["--brokers", brokers, "--rate", "1500"],
        &[("TICKSTREAM_KAFKA__FORMAT", "avro")],
    );
    let bridge = Daemon::role("bridge", &["--brokers", brokers, "--start", "earliest"]);
    bridge.wait_ready().await;
    producer
        .wait_metric(
            r#"tickstream_kafka_delivered_total{record="tick"}"#,
            1_000.0,
        )
        .await;
    let (status, _) = producer.terminate();
    assert!(status.success());
    // Another producer's JSON tick on the same topic, and a record of
    // another Avro schema (an event's) where ticks belong.
    let raw = raw_producer(brokers);
    let json_tick = json!({"symbol":"AAPL","price":189.5,"volume":100,"timestamp":"2026-11-24T14:30:00Z","seq":999999,"exchange":"XNAS"});
    let event =
        json!({"kind":"news","level":"info","message":"x","timestamp":"2026-11-24T14:30:00Z"});
    let foreign = Record::MarketEvent.avro().encode(&event).unwrap();
    for payload in [json_tick.to_string().into_bytes(), foreign] {
        raw.send(BaseRecord::to("stock_ticks").key("AAPL").payload(&payload))
            .unwrap();
    }
    raw.flush(Duration::from_secs(10)).unwrap();

    // On the topic: single-object Avro (C3 01, the tick schema's fingerprint).
    let payload = first_record(brokers, "stock_ticks");
    let payload = payload.as_slice();
    assert_eq!(payload[..2], [0xC3, 0x01]);
    let decoded = Record::Tick.avro().decode(payload).unwrap();
    assert!(payload.len() < serde_json::to_vec(&decoded).unwrap().len() / 2);

    let mut client = Client::connect(&bridge.ws_url()).await;
    subscribe_from_start(&mut client).await;
    let ticks = collect_until_quiet(&mut client, Duration::from_millis(1_000)).await;
    let from_avro: BTreeSet<u64> = ticks
        .iter()
        .filter(|t| t.get("exchange").is_none())
        .map(|t| t["seq"].as_u64().unwrap())
        .collect();
    assert!(from_avro.len() >= 1_000, "{} Avro ticks", from_avro.len());
    assert_eq!(from_avro.len(), ticks.len() - 1, "each once");
    assert_eq!(*from_avro.first().unwrap(), 1);
    assert_eq!(
        *from_avro.last().unwrap(),
        from_avro.len() as u64,
        "none missing"
    );
    let sample = &ticks[0];
    for field in [
        "symbol",
        "price",
        "volume",
        "timestamp",
        "bid",
        "ask",
        "seq",
    ] {
        assert!(sample.get(field).is_some(), "{field} in {sample}");
    }
    let json_one = ticks.iter().find(|t| t["exchange"] == "XNAS").unwrap();
    assert_eq!(json_one["seq"], 999999);
    let text = bridge.metrics_text().await;
    assert!(
        text.contains(r#"tickstream_kafka_malformed_total{topic="stock_ticks"} 1"#),
        "the event-shaped record is refused: {text}"
    );
    assert!(
        !text.contains(r#"tickstream_kafka_malformed_total{topic="market_events"}"#),
        "the producer's Avro events decode: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotes_and_the_order_book_travel_through_kafka_to_a_bridge_joining_mid_stream() {
    use tickstream::model::schemas::Record;
    let tansu = Tansu::start();
    let brokers = tansu.brokers.as_str();
    let producer = Daemon::role_with_env(
        "producer",
        &["--brokers", brokers, "--rate", "1500"],
        &[("TICKSTREAM_KAFKA__FORMAT", "avro")],
    );
    producer
        .wait_metric(
            r#"tickstream_kafka_delivered_total{record="book"}"#,
            1_000.0,
        )
        .await;
    producer
        .wait_metric(r#"tickstream_kafka_delivered_total{record="quote"}"#, 100.0)
        .await;
    // On the topics: single-object Avro records of their own schemas.
    let book = Record::OrderBook
        .avro()
        .decode(&first_record(brokers, "order_book"))
        .unwrap();
    assert_eq!(book["snapshot"], true, "a symbol's first record: {book}");
    assert!(book["bids"].as_array().unwrap().len() >= 5, "{book}");
    let quote = Record::TopOfBook
        .avro()
        .decode(&first_record(brokers, "stock_quotes"))
        .unwrap();
    assert!(quote["bid"].as_f64() < quote["ask"].as_f64(), "{quote}");

    // A bridge joining now: each book whole from its last snapshot on.
    let bridge = Daemon::role("bridge", &["--brokers", brokers]);
    bridge.wait_ready().await;
    let mut client = Client::connect(&bridge.ws_url()).await;
    client
        .send(json!({"op":"subscribe","symbols":["AAPL"],"topics":["order_book","stock_quotes"]}))
        .await;
    client.recv_type("subscribed").await;
    let mut stream = DepthStream::new("AAPL");
    stream
        .read_until(
            &mut client,
            Duration::from_secs(30),
            "the joining bridge's first book records",
            |s| s.book.tops.len() > 5,
        )
        .await;
    // The bridge's book (REST) is the one its stream builds.
    let rest = bridge.get_json("/api/v1/book?symbol=AAPL").await;
    stream.matches(&mut client, &rest).await;
    assert!(!stream.quotes.is_empty());
    let text = bridge.metrics_text().await;
    for topic in ["order_book", "stock_quotes"] {
        assert!(
            !text.contains(&format!(
                r#"tickstream_kafka_malformed_total{{topic="{topic}"}}"#
            )),
            "{text}"
        );
    }
}

/// The stand-in registry's HTTP basic credentials, and their header.
const REGISTRY_AUTH: (&str, &str) = ("tick:s3cret", "Basic dGljazpzM2NyZXQ=");

/// A schema registry speaking the part of Confluent's REST API Tickstream
/// uses (register a schema under a subject; a schema by id), in memory,
/// asking for [`REGISTRY_AUTH`]. No registry server installs here
/// (Confluent's and Apicurio's need Java and Maven Central, Karapace is not
/// on PyPI), so this stands in for one.
async fn schema_registry() -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    use axum::{
        Json, Router,
        extract::{Path, Request, State},
        http::StatusCode,
        middleware::{self, Next},
        response::{IntoResponse, Response},
        routing::{get, post},
    };
    async fn authenticated(request: Request, next: Next) -> Response {
        let given = request.headers().get("authorization");
        if given.is_some_and(|v| v == REGISTRY_AUTH.1) {
            next.run(request).await
        } else {
            let refusal = json!({ "error_code": 40101, "message": "Unauthorized" });
            (StatusCode::UNAUTHORIZED, Json(refusal)).into_response()
        }
    }
    type Schemas = Arc<Mutex<Vec<(String, String)>>>;
    async fn register(
        State(schemas): State<Schemas>,
        Path(subject): Path<String>,
        Json(body): Json<Value>,
    ) -> Json<Value> {
        let text = body["schema"].as_str().unwrap().to_owned();
        let mut schemas = schemas.lock().unwrap();
        let id = match schemas.iter().position(|(_, s)| *s == text) {
            Some(i) => i + 1,
            None => {
                schemas.push((subject, text));
                schemas.len()
            }
        };
        Json(json!({ "id": id }))
    }
    async fn by_id(
        State(schemas): State<Schemas>,
        Path(id): Path<usize>,
    ) -> (StatusCode, Json<Value>) {
        match schemas.lock().unwrap().get(id.wrapping_sub(1)) {
            Some((_, text)) => (StatusCode::OK, Json(json!({ "schema": text }))),
            None => (
                StatusCode::NOT_FOUND,
                Json(json!({ "error_code": 40403, "message": "Schema not found" })),
            ),
        }
    }
    let schemas: Schemas = Arc::default();
    let app = Router::new()
        .route("/subjects/{subject}/versions", post(register))
        .route("/schemas/ids/{id}", get(by_id))
        .layer(middleware::from_fn(authenticated))
        .with_state(schemas.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, schemas)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avro_in_confluents_wire_format_goes_through_a_schema_registry() {
    let (registry, schemas) = schema_registry().await;
    let tansu = Tansu::start();
    let brokers = tansu.brokers.as_str();
    let with_registry = [
        ("TICKSTREAM_KAFKA__FORMAT", "avro"),
        ("TICKSTREAM_KAFKA__SCHEMA_REGISTRY", registry.as_str()),
        ("TICKSTREAM_KAFKA__SCHEMA_REGISTRY_AUTH", REGISTRY_AUTH.0),
    ];
    let mut producer = Daemon::role_with_env(
        "producer",
        &["--brokers", brokers, "--rate", "1500"],
        &with_registry,
    );
    let bridge = Daemon::role_with_env(
        "bridge",
        &["--brokers", brokers, "--start", "earliest"],
        &with_registry[1..],
    );
    let unaware = Daemon::role("bridge", &["--brokers", brokers, "--start", "earliest"]);
    bridge.wait_ready().await;
    producer
        .wait_metric(
            r#"tickstream_kafka_delivered_total{record="tick"}"#,
            1_000.0,
        )
        .await;
    let (status, _) = producer.terminate();
    assert!(status.success());

    let subjects: Vec<String> = schemas
        .lock()
        .unwrap()
        .iter()
        .map(|(s, _)| s.clone())
        .collect();
    assert!(
        subjects.contains(&"stock_ticks-value".to_owned()),
        "{subjects:?}"
    );
    assert!(
        subjects.contains(&"market_events-value".to_owned()),
        "{subjects:?}"
    );
    let tick_id = subjects
        .iter()
        .position(|s| s == "stock_ticks-value")
        .unwrap() as u32
        + 1;
    let payload = first_record(brokers, "stock_ticks");
    assert_eq!(payload[0], 0, "Confluent's magic byte");
    assert_eq!(payload[1..5], tick_id.to_be_bytes(), "the registry's id");

    let mut client = Client::connect(&bridge.ws_url()).await;
    subscribe_from_start(&mut client).await;
    let ticks = collect_until_quiet(&mut client, Duration::from_millis(1_000)).await;
    let seqs: BTreeSet<u64> = ticks.iter().map(|t| t["seq"].as_u64().unwrap()).collect();
    assert!(
        seqs.len() >= 1_000 && seqs.len() == ticks.len(),
        "{}",
        ticks.len()
    );
    assert_eq!(*seqs.last().unwrap(), seqs.len() as u64, "none missing");
    assert!(ticks[0]["timestamp"].as_str().unwrap().ends_with('Z'));
    let shown = bridge.get_json("/api/v1/config").await;
    assert_eq!(shown["settings"]["kafka"]["schema_registry_auth"], "***");
    // A bridge without the registry cannot read them: it says so and counts.
    eventually(
        "the unaware bridge refuses the framed ticks",
        Duration::from_secs(20),
        || async {
            unaware
                .metric(r#"tickstream_kafka_malformed_total{topic="stock_ticks"}"#)
                .await
                >= 1_000.0
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_roles_without_brokers_are_refused() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tickstreamd"))
        .args(["bridge", "--listen", "127.0.0.1:0"])
        .env_remove("TICKSTREAM_BROKERS")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--brokers"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_started_before_the_broker_recover_by_themselves() {
    // Without a broker, fail now rather than after the roles gave up.
    let _ = Tansu::bin();
    let port = tickstream_e2e::spare_port();
    let brokers = format!("127.0.0.1:{port}");
    let producer = Daemon::role("producer", &["--brokers", &brokers, "--rate", "500"]);
    let bridge = Daemon::role("bridge", &["--brokers", &brokers]);
    let readiness = |d: &Daemon| {
        let url = d.url("/readyz");
        async move {
            let response = reqwest::get(url).await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let mut watcher = Client::connect(&bridge.ws_url()).await;
    watcher
        .send(json!({"op":"subscribe","symbols":["*"]}))
        .await;
    watcher.recv_type("subscribed").await;
    // Unreachable: each role's Kafka circuit opens, and it is not ready.
    for (daemon, circuit) in [(&producer, "kafka_producer"), (&bridge, "kafka_bridge")] {
        eventually(
            &format!("{circuit} opens without a broker"),
            Duration::from_secs(20),
            || async {
                let (status, body) = readiness(daemon).await;
                status == 503 && body["circuits"][circuit] != "closed"
            },
        )
        .await;
    }

    let _tansu = Tansu::start_on(port);
    producer.wait_ready().await;
    bridge.wait_ready().await;
    assert_eq!(
        readiness(&producer).await.1["circuits"]["kafka_producer"],
        "closed"
    );
    assert_eq!(
        readiness(&bridge).await.1["circuits"]["kafka_bridge"],
        "closed"
    );
    // Clients hear that the bridge connected, then ticks flow.
    let event = watcher.recv_type("event").await;
    assert_eq!(event["data"]["kind"], "connection", "{event}");
    assert!(
        event["data"]["message"]
            .as_str()
            .unwrap()
            .contains("connected"),
        "{event}"
    );
    let ticks = watcher.collect_ticks(Duration::from_millis(1_000)).await;
    assert!(!ticks.is_empty(), "ticks flow once the broker is up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_reads_the_cluster_directly() {
    use std::io::BufRead;
    let tansu = Tansu::start();
    let brokers = tansu.brokers.as_str();
    // Started before the producer: tail waits for the topic to appear.
    let mut tail = std::process::Command::new(env!("CARGO_BIN_EXE_tickstreamd"))
        .args([
            "tail",
            "--brokers",
            brokers,
            "--symbols",
            "AAPL",
            "--json",
            "--start",
            "earliest",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _producer = Daemon::role("producer", &["--brokers", brokers, "--rate", "1000"]);
    let stdout = tail.stdout.take().unwrap();
    let lines = tokio::task::spawn_blocking(move || {
        std::io::BufReader::new(stdout)
            .lines()
            .take(10)
            .map(Result::unwrap)
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    tail.kill().unwrap();
    tail.wait().unwrap();
    assert_eq!(lines.len(), 10);
    for line in lines {
        let tick: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(tick["symbol"], "AAPL", "{tick}");
        assert!(tick["offset"].is_u64() && tick["partition"].is_u64());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_crash_and_restart_loses_no_acknowledged_tick() {
    let mut broker = DurableBroker::start();
    let brokers = broker.brokers();
    let mut producer = Daemon::role("producer", &["--brokers", &brokers, "--rate", "500"]);
    let bridge = Daemon::role("bridge", &["--brokers", &brokers, "--start", "earliest"]);
    producer.wait_ready().await;
    bridge.wait_ready().await;
    let mut client = Client::connect(&bridge.ws_url()).await;
    subscribe_from_start(&mut client).await;
    let mut frames = client.collect_frames(Duration::from_millis(1_000)).await;

    broker.crash();
    let ready = |d: &Daemon| {
        let url = d.url("/readyz");
        async move { reqwest::get(url).await.unwrap().status() == 200 }
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while ready(&bridge).await || ready(&producer).await {
        assert!(
            std::time::Instant::now() < deadline,
            "readiness stayed true without a broker"
        );
        frames.extend(client.collect_frames(Duration::from_millis(200)).await);
    }
    frames.extend(client.collect_frames(Duration::from_millis(1_000)).await);

    broker.restart();
    producer.wait_ready().await;
    bridge.wait_ready().await;
    frames.extend(client.collect_frames(Duration::from_millis(1_500)).await);
    let acknowledged = producer
        .metric(r#"tickstream_kafka_delivered_total{record="tick"}"#)
        .await as u64;
    assert!(producer.terminate().0.success());
    loop {
        let more = client.collect_frames(Duration::from_millis(1_500)).await;
        let done = !more.iter().any(|f| f["type"] == "ticks");
        frames.extend(more);
        if done {
            break;
        }
    }

    // Clients heard the bridge lose and regain the cluster.
    let events: Vec<&str> = frames
        .iter()
        .filter(|f| f["type"] == "event" && f["data"]["kind"] == "connection")
        .map(|f| f["data"]["message"].as_str().unwrap())
        .collect();
    let lost = events.iter().position(|m| m.contains("unreachable"));
    let back = events.iter().rposition(|m| m.contains("connected"));
    assert!(
        matches!((lost, back), (Some(l), Some(b)) if l < b),
        "{events:?}"
    );
    // Every tick the cluster acknowledged arrived (the producer numbers them
    // 1..=N).
    let seqs: BTreeSet<u64> = frames
        .iter()
        .filter(|f| f["type"] == "ticks")
        .flat_map(|f| f["data"].as_array().unwrap().iter())
        .map(|t| t["seq"].as_u64().unwrap())
        .collect();
    let highest = *seqs.last().unwrap();
    assert!(
        highest >= acknowledged,
        "{highest} ticks seen, {acknowledged} acknowledged"
    );
    let missing: Vec<u64> = (1..=highest)
        .filter(|s| !seqs.contains(s))
        .take(10)
        .collect();
    assert!(missing.is_empty(), "lost across the restart: {missing:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_restarted_in_a_loop_leaves_every_acknowledged_tick_stored_once() {
    let mut broker = DurableBroker::start();
    let brokers = broker.brokers();
    let mut producer = Daemon::role("producer", &["--brokers", &brokers, "--rate", "400"]);
    let mut bridges = [
        Daemon::role("bridge", &["--brokers", &brokers, "--start", "earliest"]),
        Daemon::role("bridge", &["--brokers", &brokers, "--start", "earliest"]),
    ];
    let ready = |d: &Daemon| {
        let url = d.url("/readyz");
        async move { reqwest::get(url).await.is_ok_and(|r| r.status() == 200) }
    };
    for round in 0..3 {
        producer.wait_ready().await;
        for bridge in &bridges {
            bridge.wait_ready().await;
        }
        let delivered = producer
            .metric(r#"tickstream_kafka_delivered_total{record="tick"}"#)
            .await;
        producer
            .wait_metric(
                r#"tickstream_kafka_delivered_total{record="tick"}"#,
                delivered + 200.0,
            )
            .await;
        broker.crash();
        eventually(
            &format!("round {round}: the roles notice the broker is gone"),
            Duration::from_secs(30),
            || async { !ready(&producer).await && !ready(&bridges[0]).await },
        )
        .await;
        broker.restart();
    }
    producer.wait_ready().await;
    let acknowledged = producer
        .metric(r#"tickstream_kafka_delivered_total{record="tick"}"#)
        .await;
    assert!(producer.terminate().0.success());
    // Each bridge stores every tick the cluster acknowledged, once: the
    // producer numbers its ticks 1..=N.
    for bridge in &mut bridges {
        bridge.wait_ready().await;
        // Ticks flushed at the producer's shutdown come after `acknowledged`
        // and land in any partition: wait until the store holds every tick
        // below the highest one it holds, at least up to `acknowledged`.
        let file = bridge.data_dir.path().join("tickstream.db");
        let stored = || {
            let db = rusqlite::Connection::open(&file).unwrap();
            db.query_row(
                "SELECT count(*), count(DISTINCT seq), coalesce(max(seq), 0) FROM ticks",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap()
        };
        eventually(
            "the bridge stored what was produced",
            Duration::from_secs(30),
            || async {
                let (rows, _, highest): (i64, i64, i64) = stored();
                rows == highest && highest as f64 >= acknowledged
            },
        )
        .await;
        assert!(bridge.terminate().0.success());
        let (rows, distinct, highest): (i64, i64, i64) = stored();
        assert_eq!(rows, distinct, "a tick was stored twice");
        assert_eq!(rows, highest, "a tick is missing below {highest}");
        assert!(
            highest as f64 >= acknowledged,
            "{highest} stored, {acknowledged} acknowledged"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_scram_works_through_passthrough_properties_only() {
    let bin = support::durable_tansu();
    let storage = tempfile::tempdir().unwrap();
    let port = tickstream_e2e::spare_port();
    // Users are created while the broker is open, then it restarts locked.
    let mut open = tickstream_e2e::Tansu::start_durable(&bin, port, storage.path()).unwrap();
    open.create_user(&bin, "tick", "s3cret").unwrap();
    open.crash().unwrap();
    let broker =
        tickstream_e2e::Tansu::start_durable_authenticated(&bin, port, storage.path()).unwrap();
    let brokers = broker.brokers.as_str();

    // The producer through -X, the bridge through TICKSTREAM_KAFKA__* variables.
    let producer = Daemon::role(
        "producer",
        &[
            "--brokers",
            brokers,
            "--rate",
            "500",
            "-X",
            "security.protocol=SASL_PLAINTEXT",
            "-X",
            "sasl.mechanism=SCRAM-SHA-512",
            "-X",
            "sasl.username=tick",
            "-X",
            "sasl.password=s3cret",
        ],
    );
    let bridge = Daemon::role_with_env(
        "bridge",
        &["--brokers", brokers],
        &[
            ("TICKSTREAM_KAFKA__SECURITY_PROTOCOL", "SASL_PLAINTEXT"),
            ("TICKSTREAM_KAFKA__SASL_MECHANISM", "SCRAM-SHA-512"),
            ("TICKSTREAM_KAFKA__SASL_USERNAME", "tick"),
            ("TICKSTREAM_KAFKA__SASL_PASSWORD", "s3cret"),
        ],
    );
    producer.wait_ready().await;
    bridge.wait_ready().await;
    let mut client = Client::connect(&bridge.ws_url()).await;
    client.send(json!({"op":"subscribe","symbols":["*"]})).await;
    client.recv_type("subscribed").await;
    assert!(
        !client
            .collect_ticks(Duration::from_millis(1_000))
            .await
            .is_empty()
    );

    // A wrong password is never ready and delivers nothing.
    let intruder = Daemon::role(
        "producer",
        &[
            "--brokers",
            brokers,
            "-X",
            "security.protocol=SASL_PLAINTEXT",
            "-X",
            "sasl.mechanism=SCRAM-SHA-512",
            "-X",
            "sasl.username=tick",
            "-X",
            "sasl.password=wrong",
        ],
    );
    // Refused by the broker: the producer's circuit opens (librdkafka reports
    // the authentication failure) and it is not ready.
    eventually(
        "the intruder's Kafka circuit opens",
        Duration::from_secs(20),
        || async { intruder.get_json("/readyz").await["circuits"]["kafka_producer"] == "open" },
    )
    .await;
    let status = reqwest::get(intruder.url("/readyz"))
        .await
        .unwrap()
        .status();
    assert_eq!(status, 503);
    assert_eq!(
        intruder
            .metric(r#"tickstream_kafka_delivered_total{record="tick"}"#)
            .await,
        0.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn producers_publish_health_samples_that_bridges_serve() {
    let tansu = Tansu::start();
    let brokers = tansu.brokers.as_str();
    let _producer = Daemon::role("producer", &["--brokers", brokers, "--rate", "400"]);
    let bridge = Daemon::role("bridge", &["--brokers", brokers]);
    bridge.wait_ready().await;
    let mut client = Client::connect(&bridge.ws_url()).await;
    client
        .send(json!({"op":"subscribe","symbols":["*"],"topics":["system_metrics"]}))
        .await;
    client.recv_type("subscribed").await;
    // Samples come every 5 s.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let metric = loop {
        let frames = client.collect_frames(Duration::from_millis(500)).await;
        if let Some(m) = frames.into_iter().find(|f| f["type"] == "metric") {
            break m;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no health sample within 15 s"
        );
    };
    assert_eq!(metric["data"]["name"], "ticks_per_second");
    let rate = metric["data"]["value"].as_f64().unwrap();
    assert!((200.0..=600.0).contains(&rate), "{metric}");
    assert!(
        metric["data"]["source"]
            .as_str()
            .unwrap()
            .starts_with("tickstreamd@")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bridge_joining_a_busy_cluster_at_latest_reports_no_false_gap() {
    let tansu = Tansu::start();
    let brokers = tansu.brokers.as_str();
    let mut first = Daemon::role("producer", &["--brokers", brokers, "--rate", "1000"]);
    first
        .wait_metric(r#"tickstream_kafka_delivered_total{record="tick"}"#, 500.0)
        .await;
    assert!(first.terminate().0.success());

    // The bridge's store and any early client took their positions before
    // the bridge knew where in Kafka it would begin.
    let bridge = Daemon::role("bridge", &["--brokers", brokers, "--start", "latest"]);
    let mut client = Client::connect(&bridge.ws_url()).await;
    client.send(json!({"op":"subscribe","symbols":["*"]})).await;
    client.recv_type("subscribed").await;
    bridge.wait_ready().await;
    let _second = Daemon::role("producer", &["--brokers", brokers, "--rate", "1000"]);
    // collect_ticks fails on any gap frame.
    let ticks = client.collect_ticks(Duration::from_millis(1_500)).await;
    assert!(!ticks.is_empty());
    assert_eq!(
        bridge.metric("tickstream_store_skipped_ticks_total").await,
        0.0
    );
    assert_eq!(bridge.metric("tickstream_ws_gaps_total").await, 0.0);
}
