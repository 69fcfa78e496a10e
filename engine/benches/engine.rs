//! Engine micro-benchmarks: simulator, log, SQLite store. Prints a table and
//! writes JSON to `$TICKSTREAM_BENCH_OUT` (default `target/bench/engine.json`).
//! Run with `cargo xtask bench`.

use std::{sync::Arc, time::Instant};

use chrono::{DateTime, Utc};
use serde_json::json;
use tickstream::{
    log::{Reader, Retention, Start, Topic},
    model::EncodedTick,
    sim::{Market, RandomWalk, Realistic, default_universe},
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
    let ts: DateTime<Utc> = Utc::now();

    // Simulator: ticks generated per second on one thread (one core).
    const SIM_N: u64 = 5_000_000;
    let mut walk = RandomWalk::new(&universe, 1, 0.02);
    let sim = best_rate(3, SIM_N, || {
        for _ in 0..SIM_N {
            std::hint::black_box(walk.next_tick(ts));
        }
    });
    let mut realistic = Realistic::new(&universe, 1);
    let realistic_rate = best_rate(3, SIM_N, || {
        for k in 0..SIM_N {
            let at = ts + chrono::Duration::microseconds(k as i64 * 100);
            std::hint::black_box(realistic.next_tick(at));
        }
    });
    const ENC_N: u64 = 1_000_000;
    let encode = best_rate(3, ENC_N, || {
        for _ in 0..ENC_N {
            std::hint::black_box(EncodedTick::new(walk.next_tick(ts)));
        }
    });

    // Log: appends and reads of ready-made records (8 partitions).
    const LOG_N: u64 = 10_000_000;
    let records: Vec<Arc<EncodedTick>> = (0..1_000)
        .map(|_| Arc::new(EncodedTick::new(walk.next_tick(ts))))
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

    // SQLite: crash-safe batches (WAL, one transaction per 10 000 ticks).
    const DB_N: u64 = 2_000_000;
    const DB_BATCH: usize = 10_000;
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("bench.db")).unwrap();
    let mut offset = 0u64;
    let sqlite = best_rate(2, DB_N, || {
        for _ in 0..DB_N as usize / DB_BATCH {
            let ticks = (0..DB_BATCH)
                .map(|i| {
                    offset += 1;
                    (0, offset, records[i % records.len()].clone())
                })
                .collect();
            store
                .write(&Batch {
                    ticks,
                    candles: vec![],
                    positions: vec![("stock_ticks".into(), 0, offset + 1)],
                })
                .unwrap();
        }
    });

    let results = json!({
        "simulator_ticks_per_sec_per_core": sim.round(),
        "simulator_encoded_ticks_per_sec_per_core": encode.round(),
        "realistic_simulator_ticks_per_sec_per_core": realistic_rate.round(),
        "log_appends_per_sec_single": append_single.round(),
        "log_appends_per_sec_batch_1000": append_batch.round(),
        "log_reads_per_sec": read.round(),
        "sqlite_ticks_per_sec_batch_10000": sqlite.round(),
        "targets": {
            "simulator_ticks_per_sec_per_core": 5_000_000,
            "log_appends_per_sec": 10_000_000,
            "sqlite_ticks_per_sec": 700_000,
        },
    });
    println!("{}", serde_json::to_string_pretty(&results).unwrap());
    if let Some(dir) = std::path::Path::new(&out).parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(&out, serde_json::to_string_pretty(&results).unwrap()).unwrap();
    eprintln!("wrote {out}");
}
