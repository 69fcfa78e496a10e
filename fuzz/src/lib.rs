//! What each fuzz target feeds the engine. Every parser that faces the
//! outside gets one check: whatever arrives as a client frame, a Kafka tick,
//! a timestamp, a config file or a REST body, the engine answers with a
//! value or an error and never panics. The cargo-fuzz targets in
//! `fuzz_targets/` and the bounded properties in `tests/properties.rs` call
//! the same checks; `corpus/<target>/` holds the seeds of both.

use std::sync::{Arc, OnceLock};

use tickstream::{
    auth::Keyring,
    config::Config,
    gateway::{GatewayState, Session},
    model::{AlertRule, EncodedTick, NewKey, Portfolio, Watchlist, timestamp},
    sim::ScenarioRequest,
};

/// The fuzz targets, each named after its corpus directory.
pub const TARGETS: [&str; 5] = [
    "client_frame",
    "kafka_payload",
    "timestamp",
    "config_file",
    "rest_body",
];

/// A WebSocket client's text frame, answered by a session of a live gateway.
pub fn client_frame(text: &str) {
    let mut session = Session::new(&gateway());
    let mut out = Vec::new();
    session.handle_text(text, &mut out);
    session.poll(&mut out);
}

/// A Kafka record's payload, decoded (or refused) as a tick.
pub fn kafka_payload(bytes: &[u8]) {
    if let Ok(tick) = EncodedTick::decode(bytes) {
        let _ = tick.tick().timestamp.timestamp_micros();
    }
}

/// A timestamp as REST queries and the CLI take it, parsed and printed back.
pub fn timestamp(text: &str) {
    if let Ok(time) = timestamp::parse(text) {
        let _ = timestamp::to_string(&time);
    }
}

/// A config file, loaded and validated.
pub fn config_file(text: &str) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("tickstream.toml");
    std::fs::write(&path, text).expect("a writable temporary directory");
    let _ = Config::load(Some(&path), &[]);
}

/// A REST body, read as each kind of body the API takes and validated.
pub fn rest_body(text: &str) {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return;
    };
    let _ = ScenarioRequest::from_json(value.clone());
    if let Ok(rule) = serde_json::from_value::<AlertRule>(value.clone()) {
        let _ = rule.validate();
    }
    if let Ok(list) = serde_json::from_value::<Watchlist>(value.clone()) {
        let _ = list.validate(|_| true);
    }
    if let Ok(portfolio) = serde_json::from_value::<Portfolio>(value.clone()) {
        let _ = portfolio.validate(|_| true);
    }
    if let Ok(new) = serde_json::from_value::<NewKey>(value) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let keys = Keyring::open(&dir.path().join("k.db")).expect("a fresh key store");
        let _ = keys.create(&new, chrono::Utc::now());
    }
}

/// A gateway over a fresh log and store, made once per process, for
/// sessions to answer from.
fn gateway() -> Arc<GatewayState> {
    static STATE: OnceLock<(
        tokio::runtime::Runtime,
        tempfile::TempDir,
        Arc<GatewayState>,
    )> = OnceLock::new();
    let (_, _, state) = STATE.get_or_init(|| {
        let runtime = tokio::runtime::Runtime::new().expect("a Tokio runtime");
        let _entered = runtime.enter();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let state = GatewayState::scratch(dir.path()).expect("a fresh store");
        (runtime, dir, state)
    });
    state.clone()
}
