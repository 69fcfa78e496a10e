//! Engine micro-benchmarks: simulator, record formats, log, SQLite store,
//! backfill. Prints a table and
//! writes JSON to `$TICKSTREAM_BENCH_OUT` (default `target/bench/engine.json`).
//! Run with `cargo xtask bench`.

use std::{sync::Arc, time::Instant};

use chrono::DateTime;
use serde_json::json;
use tickstream::{
    analytics::Quotes,
    backfill::backfill,
    log::{Reader, Retention, Start, Topic},
    model::{EncodedTick, schemas::Record},
    sim::{
        Calendar, Correlations, Model, Output, ScenarioRequest, SimSettings, Simulator,
        default_universe,
    },
    store::{Batch, Store},
};

/// Runs `f` (which does `n` operations on this one thread) a few times;
/// returns the best rate in ops/s: a per-core figure.
fn best_rate(runs: usize, n: u64, mut f: impl FnMut()) -> f64 {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            n as f64 / start.elapsed().as_secs_f64()
        })
        .fold(0.0, f64::max)
}

fn main() {
    let out = std::env::var("TICKSTREAM_BENCH_OUT").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench/engine.json").to_owned()
    });
    let universe = default_universe();

    // Simulator: ticks generated per second on one thread (one core), with
    // features added one at a time; the differences are their costs.
    const SIM_N: u64 = 3_000_000;
    let start = DateTime::from_timestamp(1_767_600_000, 0).unwrap(); // a Monday, 08:00 UTC
    let simulator = |model, calendar: Calendar| {
        Simulator::new(
            &universe,
            &SimSettings {
                seed: 1,
                rate: 1_000.0,
                model,
                correlations: Correlations::default(),
                calendar,
                start,
            },
        )
    };
    let ticks_per_sec = |simulator: &mut Simulator| {
        best_rate(3, SIM_N, || {
            let mut n = 0;
            while n < SIM_N {
                if let Output::Tick(tick) = simulator.next_output() {
                    std::hint::black_box(tick);
                    n += 1;
                }
            }
        })
    };
    let walk_24_7 = ticks_per_sec(&mut simulator(Model::RandomWalk, Calendar::always_open()));
    let realistic_24_7 = ticks_per_sec(&mut simulator(Model::Realistic, Calendar::always_open()));
    // NYSE sessions with extended hours: phases, the U shape, auctions, closed hours.
    let sessions = ticks_per_sec(&mut simulator(Model::Realistic, Calendar::nyse(true)));
    // Every scenario at once, lasting the whole run.
    let mut busy = simulator(Model::Realistic, Calendar::nyse(true));
    for words in [
        "flash_crash depth=0.05 fall=160h recovery=1h",
        "news_shock symbol=AAPL jump=0.02 volatility=3 decay=160h",
        "regime_change volatility=2",
        "sector_rotation from=Technology to=Energy size=0.1 duration=160h",
    ] {
        busy.inject(ScenarioRequest::parse_words(words).unwrap())
            .unwrap();
    }
    let scenarios = ticks_per_sec(&mut busy);
    // The same market with order books: each trade refreshes and takes from
    // its symbol's book; the records and quotes are drained as a source does.
    let mut deep = simulator(Model::Realistic, Calendar::nyse(true));
    deep.enable_book();
    let (mut updates, mut quotes, mut levels) = (Vec::new(), Vec::new(), 0usize);
    let (mut book_records, mut book_ticks) = (0u64, 0u64);
    let with_book = best_rate(3, SIM_N, || {
        let mut n = 0;
        while n < SIM_N {
            if let Output::Tick(tick) = deep.next_output() {
                std::hint::black_box(tick);
                n += 1;
            }
            deep.take_book(&mut updates, &mut quotes);
            book_records += updates.len() as u64;
            levels += updates
                .iter()
                .map(|u: &tickstream::model::OrderBook| u.bids.len() + u.asks.len())
                .sum::<usize>();
            updates.clear();
            quotes.clear();
        }
        book_ticks += n;
    });
    let book_updates = with_book * book_records as f64 / book_ticks as f64;
    let levels_per_update = levels as f64 / book_records as f64;
    const ENC_N: u64 = 1_000_000;
    let mut encoding = simulator(Model::Realistic, Calendar::nyse(true));
    let encode = best_rate(3, ENC_N, || {
        let mut n = 0;
        while n < ENC_N {
            if let Output::Tick(tick) = encoding.next_output() {
                std::hint::black_box(EncodedTick::new(tick));
                n += 1;
            }
        }
    });
    let ns = |rate: f64| 1e9 / rate;

    // Record formats on Kafka: a tick encoded as the sink encodes it (JSON
    // as made with the tick; Avro from that JSON) and decoded as bridges
    // decode it, per core, and its size.
    const FORMAT_N: u64 = 200_000;
    let ticks: Vec<EncodedTick> = (0..FORMAT_N)
        .map(|_| {
            loop {
                if let Output::Tick(tick) = encoding.next_output() {
                    break EncodedTick::new(tick);
                }
            }
        })
        .collect();
    let codec = Record::Tick.avro();
    let to_avro = |t: &EncodedTick| {
        codec
            .encode(&serde_json::from_str(t.json()).unwrap())
            .unwrap()
    };
    let avro: Vec<Vec<u8>> = ticks.iter().map(to_avro).collect();
    let json_encode = best_rate(3, FORMAT_N, || {
        for t in &ticks {
            std::hint::black_box(EncodedTick::new(t.tick().clone()));
        }
    });
    let avro_encode = best_rate(3, FORMAT_N, || {
        for t in &ticks {
            std::hint::black_box(to_avro(t));
        }
    });
    let json_decode = best_rate(3, FORMAT_N, || {
        for t in &ticks {
            std::hint::black_box(EncodedTick::decode(t.json().as_bytes()).unwrap());
        }
    });
    let avro_decode = best_rate(3, FORMAT_N, || {
        for bytes in &avro {
            std::hint::black_box(EncodedTick::decode(bytes).unwrap());
        }
    });
    let json_bytes = ticks.iter().map(|t| t.json().len()).sum::<usize>() as f64 / FORMAT_N as f64;
    let avro_bytes = avro.iter().map(Vec::len).sum::<usize>() as f64 / FORMAT_N as f64;

    let mut feed = simulator(Model::RandomWalk, Calendar::always_open());
    let mut next_tick = move || loop {
        if let Output::Tick(tick) = feed.next_output() {
            return tick;
        }
    };

    // Log: appends and reads of ready-made records (8 partitions).
    const LOG_N: u64 = 10_000_000;
    let records: Vec<Arc<EncodedTick>> = (0..1_000)
        .map(|_| Arc::new(EncodedTick::new(next_tick())))
        .collect();
    let retention = Retention {
        max_records: 2_000_000,
        max_bytes: usize::MAX,
    };
    let topic = Arc::new(Topic::new("bench", 8, retention, &[]));
    let append_single = best_rate(3, LOG_N, || {
        for i in 0..LOG_N as usize {
            topic.append(records[i % records.len()].clone());
        }
    });
    let append_batch = best_rate(3, LOG_N, || {
        for _ in 0..LOG_N as usize / records.len() {
            topic.append_batch(records.iter().cloned());
        }
    });
    let retained: u64 = (0..8).map(|p| topic.latest(p) - topic.earliest(p)).sum();
    // A read copies each record out (an `Arc` clone), as consumers do.
    let read = best_rate(3, retained, || {
        let mut reader = Reader::new(topic.clone(), Start::Earliest);
        let mut batch = Vec::with_capacity(8 * 4_096);
        while reader.read_with(4_096, |_, _| {}, |_, o, r| batch.push((o, r.clone()))) > 0 {
            std::hint::black_box(&batch);
            batch.clear();
        }
    });

    // SQLite: crash-safe batches (WAL, one transaction per 10 000 ticks) of
    // simulated ticks in time order, as the store writer sees them.
    const DB_N: u64 = 2_000_000;
    const DB_BATCH: usize = 10_000;
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("bench.db")).unwrap();
    let mut offset = 0u64;
    let sqlite = (0..2)
        .map(|_| {
            let batches: Vec<Batch> = (0..DB_N as usize / DB_BATCH)
                .map(|_| {
                    let ticks = (0..DB_BATCH)
                        .map(|_| {
                            offset += 1;
                            (0, offset, Arc::new(EncodedTick::new(next_tick())))
                        })
                        .collect();
                    Batch {
                        ticks,
                        candles: vec![],
                        positions: vec![("stock_ticks".into(), 0, offset + 1)],
                    }
                })
                .collect();
            let started = Instant::now();
            for batch in &batches {
                store.write(batch, false).unwrap();
            }
            DB_N as f64 / started.elapsed().as_secs_f64()
        })
        .fold(0.0, f64::max);

    // Backfill at start: the seconds a year and five years of history take
    // (every chart interval, as `run --backfill 1y` makes them).
    let backfill_seconds = |days: i64| {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("backfill.db")).unwrap();
        let mut simulator = Simulator::new(
            &universe,
            &SimSettings {
                seed: 1,
                rate: 1_000.0,
                model: Model::Realistic,
                correlations: Correlations::default(),
                calendar: Calendar::always_open(),
                start: chrono::Utc::now() - chrono::Duration::days(days),
            },
        );
        let started = Instant::now();
        backfill(
            &mut simulator,
            &mut store,
            &mut Quotes::new(),
            20.0,
            1_000.0,
        )
        .unwrap();
        started.elapsed().as_secs_f64()
    };
    let backfill_1y = backfill_seconds(365);
    let backfill_5y = backfill_seconds(5 * 365);
    let target = |measured: f64, at_least: f64| json!({ "target": at_least, "measured": measured.round(), "met": measured >= at_least });
    let results = json!({
        "simulator_ticks_per_sec_per_core": scenarios.round(),
        "simulator_encoded_ticks_per_sec_per_core": encode.round(),
        "simulator_features": {
            "random_walk_24_7_ticks_per_sec": walk_24_7.round(),
            "realistic_24_7_ticks_per_sec": realistic_24_7.round(),
            "realistic_nyse_sessions_ticks_per_sec": sessions.round(),
            "all_features_with_scenarios_ticks_per_sec": scenarios.round(),
            "with_order_book_ticks_per_sec": with_book.round(),
            "order_book_updates_per_sec": book_updates.round(),
            "levels_per_book_update": (levels_per_update * 10.0).round() / 10.0,
            "ns_per_tick": {
                "arrivals_microstructure_random_walk": (ns(walk_24_7) * 10.0).round() / 10.0,
                "realistic_returns": ((ns(realistic_24_7) - ns(walk_24_7)) * 10.0).round() / 10.0,
                "calendar_u_shape_auctions": ((ns(sessions) - ns(realistic_24_7)) * 10.0).round() / 10.0,
                "scenarios": ((ns(scenarios) - ns(sessions)) * 10.0).round() / 10.0,
                "order_book": ((ns(with_book) - ns(sessions)) * 10.0).round() / 10.0,
                "json_encoding": ((ns(encode) - ns(sessions)) * 10.0).round() / 10.0,
            },
        },
        "record_formats": {
            "json": {
                "encoded_ticks_per_sec": json_encode.round(),
                "decoded_ticks_per_sec": json_decode.round(),
                "bytes_per_tick": (json_bytes * 10.0).round() / 10.0,
            },
            "avro": {
                "encoded_ticks_per_sec": avro_encode.round(),
                "decoded_ticks_per_sec": avro_decode.round(),
                "bytes_per_tick": (avro_bytes * 10.0).round() / 10.0,
            },
        },
        "log_appends_per_sec_single": append_single.round(),
        "log_appends_per_sec_batch_1000": append_batch.round(),
        "log_reads_per_sec": read.round(),
        "sqlite_ticks_per_sec_batch_10000": sqlite.round(),
        "backfill_seconds": { "one_year": backfill_1y, "five_years": backfill_5y },
        "targets": {
            "simulator_ticks_per_sec_per_core": target(scenarios, 5e6),
            "realistic_model_ticks_per_sec_per_core": target(realistic_24_7, 5e6),
            "simulator_with_book_ticks_per_sec_per_core": target(with_book, 2e6),
            "log_appends_per_sec": target(append_batch, 1e7),
            "avro_bytes_per_tick_vs_json": {
                "target": 0.5,
                "measured": (avro_bytes / json_bytes * 100.0).round() / 100.0,
                "met": avro_bytes <= json_bytes * 0.5,
            },
            "avro_ticks_per_sec_per_core": target(avro_encode.min(avro_decode), 2.5e5),
            "sqlite_ticks_per_sec": target(sqlite, 7e5),
            "backfill_one_year_seconds": {
                "target": 5.0,
                "measured": backfill_1y,
                "met": backfill_1y <= 5.0,
            },
        },
    });
    println!("{}", serde_json::to_string_pretty(&results).unwrap());
    if let Some(dir) = std::path::Path::new(&out).parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(&out, serde_json::to_string_pretty(&results).unwrap()).unwrap();
    eprintln!("wrote {out}");
}
