//! Properties over hostile input: whatever arrives as a client frame, a
//! Kafka tick, a timestamp, a config file or a REST body, the engine answers
//! with a value or an error and never panics. Inputs are arbitrary text and
//! mutations of the seed corpus in `tests/corpus/` (one input per line; the
//! config corpus is one file). `cargo xtask test` runs 256 cases each;
//! `PROPTEST_CASES=100000 cargo test -p tickstream-engine --test properties`
//! runs longer.

use std::{
    collections::HashSet,
    sync::{Arc, OnceLock},
    time::Duration,
};

use parking_lot::{Mutex, RwLock};
use proptest::prelude::*;
use tickstream::{
    alerts::Alerts,
    analytics::Quotes,
    auth::Keyring,
    component::Context,
    config::Config,
    gateway::{Access, GatewayState, Keepalive, Market, Operations, Session, Stored, StreamLimits},
    log::{Log, LogSettings, Retention},
    metrics::Metrics,
    model::{AlertRule, EncodedTick, NewKey, Portfolio, Symbol, Watchlist, timestamp},
    sim::ScenarioRequest,
    store::ItemStore,
};
use tokio_util::sync::CancellationToken;

/// The seeds of `name` in the corpus, one per line.
fn seeds(name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(format!(
        "{}/tests/corpus/{name}.txt",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    if name == "configs" {
        return vec![text];
    }
    text.lines().map(str::to_owned).collect()
}

/// Arbitrary text, or a seed with a few characters inserted, replaced or
/// removed.
fn hostile(name: &str) -> impl Strategy<Value = String> {
    let seeds = seeds(name);
    let count = seeds.len();
    let mutated = (
        0..count,
        prop::collection::vec((any::<usize>(), any::<char>(), 0..3u8), 0..8),
    )
        .prop_map(move |(which, edits)| {
            let mut chars: Vec<char> = seeds[which].chars().collect();
            for (at, c, how) in edits {
                let at = at % (chars.len() + 1);
                match how {
                    0 => chars.insert(at, c),
                    1 if at < chars.len() => chars[at] = c,
                    _ if at < chars.len() => {
                        chars.remove(at);
                    }
                    _ => chars.push(c),
                }
            }
            chars.into_iter().collect::<String>()
        });
    prop_oneof![any::<String>(), mutated]
}

/// A gateway over a fresh log and store, for sessions to answer from.
fn gateway() -> Arc<GatewayState> {
    static STATE: OnceLock<(
        tokio::runtime::Runtime,
        tempfile::TempDir,
        Arc<GatewayState>,
    )> = OnceLock::new();
    let (_, _, state) = STATE.get_or_init(|| {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let _entered = runtime.enter();
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("tickstream.db");
        let workspace = Arc::new(Mutex::new(ItemStore::open(&database).unwrap()));
        let alerts = Arc::new(Alerts::load(workspace.clone()).unwrap());
        let metrics = Arc::new(Metrics::new());
        let cx = Context::new(metrics.clone(), Arc::default());
        let access = Access::open(&database, Duration::from_secs(3_600), &cx).unwrap();
        let settings = LogSettings {
            topic_prefix: String::new(),
            partitions: 2,
            retention: Retention {
                max_records: 1_000,
                max_bytes: 1 << 20,
            },
        };
        let state = Arc::new(GatewayState {
            market: Market {
                log: Arc::new(Log::new(&settings, &[])),
                quotes: Arc::new(RwLock::new(Quotes::new())),
                universe: HashSet::from([Symbol::new("AAPL").unwrap()]),
                limits: StreamLimits {
                    max_frame_bytes: 16 * 1024,
                    max_symbols_per_client: 10,
                    frame_rate: 50,
                    keepalive: Keepalive {
                        every: Duration::from_secs(20),
                        misses: 3,
                    },
                    write_timeout: Duration::from_secs(10),
                },
            },
            stored: Arc::new(Stored::new(database, alerts, workspace, access)),
            ops: Operations {
                metrics,
                health: Arc::default(),
                simulator: None,
            },
            shutdown: CancellationToken::new(),
        });
        (runtime, dir, state)
    });
    state.clone()
}

proptest! {
    #[test]
    fn a_client_frame_is_answered_never_panicked_on(text in hostile("frames")) {
        let mut session = Session::new(gateway());
        let mut out = Vec::new();
        session.handle_text(&text, &mut out);
        session.poll(&mut out);
    }

    #[test]
    fn a_kafka_payload_is_decoded_or_refused(text in hostile("ticks")) {
        if let Ok(tick) = EncodedTick::decode(text.as_bytes()) {
            let _ = tick.tick().timestamp.timestamp_micros();
        }
    }

    #[test]
    fn a_timestamp_is_parsed_or_refused(text in hostile("timestamps")) {
        if let Ok(time) = timestamp::parse(&text) {
            let _ = timestamp::to_string(&time);
        }
    }

    #[test]
    fn a_config_file_is_loaded_or_refused(text in hostile("configs")) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tickstream.toml");
        std::fs::write(&path, &text).unwrap();
        let _ = Config::load(Some(&path), &[]);
    }

    #[test]
    fn a_rest_body_is_read_or_refused(text in hostile("bodies")) {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else {
            return Ok(());
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
            let dir = tempfile::tempdir().unwrap();
            let keys = Keyring::open(&dir.path().join("k.db")).unwrap();
            let _ = keys.create(&new, chrono::Utc::now());
        }
    }
}
