//! The wire schemas in `docs/api/schemas/` (generated from the Rust types)
//! against a broker that enforces them: Tansu validating `stock_ticks`,
//! `market_events`, `system_metrics`, `stock_quotes` and `order_book` takes
//! every record a producer sends (ticks, events, health samples and depth
//! arrive at a bridge), and refuses
//! a record that does not fit, visibly, with `INVALID_RECORD`.

mod support;

use std::{path::Path, time::Duration};

use rdkafka::{
    ClientConfig,
    producer::{FutureProducer, FutureRecord},
    types::RDKafkaErrorCode,
};
use serde_json::json;
use support::{Client, Daemon, Tansu};

/// A Tansu schema registry for the default topics: each topic's record
/// values must fit the schema of what it carries.
fn registry(dir: &Path) {
    let schemas = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/api/schemas");
    for (topic, schema) in [
        ("stock_ticks", "Tick"),
        ("market_events", "MarketEvent"),
        ("system_metrics", "SystemMetric"),
        ("stock_quotes", "TopOfBook"),
        ("order_book", "OrderBook"),
    ] {
        let text = std::fs::read_to_string(schemas.join(format!("{schema}.json"))).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let registry = json!({"title": topic, "type": "object", "properties": {"value": value}});
        std::fs::write(dir.join(format!("{topic}.json")), registry.to_string()).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_enforcing_the_schemas_takes_every_record_and_refuses_a_misfit() {
    let dir = tempfile::tempdir().unwrap();
    registry(dir.path());
    let tansu = Tansu::validating(dir.path());
    let brokers = tansu.brokers.as_str();
    let producer = Daemon::role("producer", &["--brokers", brokers, "--rate", "500"]);
    let bridge = Daemon::role("bridge", &["--brokers", brokers, "--start", "earliest"]);
    bridge.wait_ready().await;
    producer
        .wait_metric(
            r#"tickstream_kafka_delivered_total{record="tick"}"#,
            1_000.0,
        )
        .await;
    assert_eq!(
        producer
            .metric("tickstream_kafka_delivery_errors_total")
            .await,
        0.0,
        "no record of the producer's is refused"
    );
    for record in ["tick", "book", "quote"] {
        bridge
            .wait_metric(
                &format!(r#"tickstream_kafka_consumed_total{{record="{record}"}}"#),
                500.0,
            )
            .await;
    }
    // Health samples (and so their topic's schema) reach the bridge's clients too.
    let mut client = Client::connect(&bridge.ws_url()).await;
    client
        .send(json!({"op": "subscribe", "symbols": ["AAPL"], "topics": ["system_metrics"]}))
        .await;
    client.recv_type("metric").await;

    // A record that does not fit is refused by the broker, not stored.
    let raw: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("message.timeout.ms", "5000")
        .create()
        .unwrap();
    let misfit =
        json!({"symbol": "AAPL", "price": "ten", "volume": 1, "timestamp": "2026-12-03T09:30:00Z"});
    let sent = raw
        .send(
            FutureRecord::to("stock_ticks")
                .key("AAPL")
                .payload(&misfit.to_string()),
            Duration::from_secs(5),
        )
        .await;
    let (error, _) = sent.expect_err("a misfit is refused");
    assert_eq!(
        error.rdkafka_error_code(),
        Some(RDKafkaErrorCode::InvalidRecord),
        "{error}"
    );
    let fits = json!({"symbol": "AAPL", "price": 10.0, "volume": 1, "timestamp": "2026-12-03T09:30:00.000000Z"});
    raw.send(
        FutureRecord::to("stock_ticks")
            .key("AAPL")
            .payload(&fits.to_string()),
        Duration::from_secs(5),
    )
    .await
    .expect("a record that fits is taken");
}
