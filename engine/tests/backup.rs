//! Backup, verify and restore against the real daemon: a backup taken while
//! it writes is a consistent snapshot that matches its manifest; `verify`
//! passes it and refuses a damaged file; `restore` refuses a running data
//! directory and a backup that does not match its manifest, and puts a
//! sound one in place with every tick it holds; a bridge's store restored
//! to a point in time (the newest backup before it, then the cluster's
//! ticks up to it) matches the source's ticks and candles exactly.

mod support;

use std::{
    collections::BTreeMap,
    path::Path,
    process::{Command, Output},
};

use support::{Daemon, succeeded};
use tickstream::model::{BackupManifest, StoreCheck};

fn tickstreamd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tickstreamd"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs `tickstreamd` and expects it to succeed.
fn succeeds(args: &[&str]) -> Output {
    succeeded(tickstreamd(args))
}

/// `tickstreamd OP --data-dir DIR FLAG FILE` (backup `--to`, restore `--from`).
fn on_store(op: &str, dir: &Path, flag: &str, file: &Path) -> Output {
    tickstreamd(&[op, "--data-dir", text(dir), flag, text(file)])
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Every tick as (partition, offset, time, price, volume), in position
/// order, of those below `positions` (partition → next offset).
fn ticks_below(database: &Path, positions: &BTreeMap<u32, u64>) -> Vec<(i64, i64, i64, f64, i64)> {
    let db =
        rusqlite::Connection::open_with_flags(database, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut rows = db
        .prepare("SELECT log_partition, log_offset, ts, price, volume FROM ticks ORDER BY 1, 2")
        .unwrap();
    rows.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .unwrap()
    .map(Result::unwrap)
    .filter(|&(p, o, ..): &(i64, i64, i64, f64, i64)| {
        positions
            .get(&(p as u32))
            .is_some_and(|&next| (o as u64) < next)
    })
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_writing_restores_every_tick_it_holds() {
    let daemon = Daemon::start(&["--rate", "5000"]);
    daemon.wait_ready().await;
    daemon
        .wait_metric("tickstream_store_ticks_total", 5_000.0)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.db");
    let data_dir = daemon.data_dir.path();

    let out = succeeded(on_store("backup", data_dir, "--to", &file));
    let manifest: BackupManifest = serde_json::from_slice(&out.stdout).unwrap();
    let beside: BackupManifest = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("backup.db.manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest, beside);
    assert!(manifest.ticks >= 5_000, "{manifest:?}");
    assert_eq!(manifest.bytes, std::fs::metadata(&file).unwrap().len());
    let positions = manifest
        .positions
        .values()
        .next()
        .expect("tick positions")
        .clone();
    // The daemon wrote on: its store holds more than the snapshot.
    let stored = daemon.metric("tickstream_store_ticks_total").await;
    daemon
        .wait_metric("tickstream_store_ticks_total", stored + 1_000.0)
        .await;
    let again = on_store("backup", data_dir, "--to", &file);
    assert!(!again.status.success(), "a backup never overwrites");

    let out = succeeds(&["verify", "--file", text(&file)]);
    let check: StoreCheck = serde_json::from_slice(&out.stdout).unwrap();
    assert!(check.ok && check.ticks == manifest.ticks, "{check:?}");

    // Only into a stopped data directory.
    let busy = on_store("restore", data_dir, "--from", &file);
    assert!(!busy.status.success());
    let stderr = String::from_utf8_lossy(&busy.stderr);
    assert!(stderr.contains("in use"), "{stderr}");

    let target = tempfile::tempdir().unwrap();
    succeeded(on_store("restore", target.path(), "--from", &file));
    let restored = ticks_below(&target.path().join("tickstream.db"), &positions);
    assert_eq!(restored.len() as u64, manifest.ticks);
    // The same ticks as the running store holds below those positions.
    let source = ticks_below(&data_dir.join("tickstream.db"), &positions);
    assert_eq!(restored, source);
    succeeds(&["verify", "--data-dir", text(target.path())]);
}

#[test]
fn a_damaged_backup_is_refused_by_verify_and_restore() {
    let source = tempfile::tempdir().unwrap();
    // A store to back up: a short run of the daemon, stopped.
    {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let mut daemon = Daemon::start(&["--rate", "2000"]);
        runtime.block_on(daemon.wait_metric("tickstream_store_ticks_total", 2_000.0));
        assert!(daemon.terminate().0.success());
        std::fs::copy(
            daemon.data_dir.path().join("tickstream.db"),
            source.path().join("tickstream.db"),
        )
        .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.db");
    succeeded(on_store("backup", source.path(), "--to", &file));

    // Garbage over the second half of the file.
    let mut bytes = std::fs::read(&file).unwrap();
    let half = bytes.len() / 2;
    bytes[half..].fill(0xA5);
    std::fs::write(&file, &bytes).unwrap();

    let out = tickstreamd(&["verify", "--file", text(&file)]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("backup.db"), "{stderr}");

    let target = tempfile::tempdir().unwrap();
    let out = on_store("restore", target.path(), "--from", &file);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("does not match its manifest"), "{stderr}");
    assert!(
        !target.path().join("tickstream.db").exists(),
        "nothing restored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_backups_keep_the_newest_and_each_verifies() {
    let daemon = Daemon::role_with_env(
        "run",
        &["--rate", "1000"],
        &[
            ("TICKSTREAM_STORE__BACKUP__INTERVAL", "1s"),
            ("TICKSTREAM_STORE__BACKUP__KEEP", "2"),
        ],
    );
    daemon.wait_metric("tickstream_backups_total", 3.0).await;
    let dir = daemon.data_dir.path().join("backups");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.ends_with(".partial"))
        .collect();
    names.sort();
    let backups: Vec<&String> = names.iter().filter(|n| n.ends_with(".db")).collect();
    // Two kept (a third may be on its way), each with its manifest.
    assert!((2..=3).contains(&backups.len()), "{names:?}");
    for backup in backups {
        assert!(
            names.contains(&format!("{backup}.manifest.json")),
            "{names:?}"
        );
    }
    assert_eq!(daemon.metric("tickstream_backup_failures_total").await, 0.0);
    assert!(
        daemon
            .metric("tickstream_backup_last_success_timestamp_seconds")
            .await
            > 0.0
    );
    let newest = dir.join(names.iter().rfind(|n| n.ends_with(".db")).unwrap());
    succeeds(&["verify", "--file", text(&newest)]);
}

/// Closed 1-second candles starting before `before` (Unix µs) as (symbol,
/// [start, open, high, low, close, volume, trades]), in order.
fn closed_candles(database: &Path, before: i64) -> Vec<(String, [i64; 7])> {
    let db =
        rusqlite::Connection::open_with_flags(database, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut rows = db
        .prepare(
            "SELECT s.symbol, c.start, c.open, c.high, c.low, c.close, c.volume, c.trades
             FROM candles c JOIN symbols s ON s.id = c.symbol_id
             WHERE c.interval_s = 1 AND c.closed = 1 AND c.start < ?1 ORDER BY 1, 2",
        )
        .unwrap();
    rows.query_map([before], |r| {
        let mut fields = [0; 7];
        for (i, field) in fields.iter_mut().enumerate() {
            *field = r.get(i + 1)?;
        }
        Ok((r.get(0)?, fields))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bridge_store_restored_to_a_point_in_time_matches_the_source_up_to_it() {
    let tansu = support::Tansu::start();
    let brokers = tansu.brokers.as_str();
    let mut producer = Daemon::role("producer", &["--brokers", brokers, "--rate", "1000"]);
    let mut bridge = Daemon::role("bridge", &["--brokers", brokers, "--start", "earliest"]);
    bridge.wait_ready().await;
    bridge
        .wait_metric("tickstream_store_ticks_total", 1_000.0)
        .await;
    let backups = tempfile::tempdir().unwrap();
    let early = backups.path().join("early.db");
    succeeded(on_store("backup", bridge.data_dir.path(), "--to", &early));

    // The point in time: after more ticks than the backup holds, before others.
    let stored = bridge.metric("tickstream_store_ticks_total").await;
    bridge
        .wait_metric("tickstream_store_ticks_total", stored + 1_500.0)
        .await;
    let until = chrono::Utc::now();
    let stored = bridge.metric("tickstream_store_ticks_total").await;
    bridge
        .wait_metric("tickstream_store_ticks_total", stored + 1_500.0)
        .await;
    // A backup taken after the point in time is passed over.
    let late = backups.path().join("late.db");
    succeeded(on_store("backup", bridge.data_dir.path(), "--to", &late));
    assert!(producer.terminate().0.success());
    assert!(bridge.terminate().0.success());

    let target = tempfile::tempdir().unwrap();
    let until_text = until.to_rfc3339();
    let out = succeeds(&[
        "restore",
        "--data-dir",
        text(target.path()),
        "--from",
        text(backups.path()),
        "--until",
        &until_text,
        "--brokers",
        brokers,
    ]);
    let restored: tickstream::model::Restored = serde_json::from_slice(&out.stdout).unwrap();
    assert!(restored.backup.ends_with("early.db"), "{restored:?}");
    let replayed = restored.replayed.expect("a replay");
    let ends: BTreeMap<u32, u64> = replayed
        .partitions
        .iter()
        .map(|(&p, &[_, end])| (p, end))
        .collect();
    assert!(replayed.ticks >= 1_000, "{replayed:?}");

    // Exactly the source's ticks below the replay's ends: none missing, none beyond.
    let restored_db = target.path().join("tickstream.db");
    let source_db = bridge.data_dir.path().join("tickstream.db");
    let everything: BTreeMap<u32, u64> = ends.keys().map(|&p| (p, u64::MAX)).collect();
    let mine = ticks_below(&restored_db, &everything);
    let theirs = ticks_below(&source_db, &ends);
    assert_eq!(mine.len(), theirs.len(), "tick counts");
    assert_eq!(mine, theirs);
    let later = ticks_below(&source_db, &everything).len();
    assert!(
        later > mine.len() + 1_000,
        "the source went on past the point: {later} vs {}",
        mine.len()
    );
    // Each tick restored was made by the point in time (ticks carry the simulator's wall-clock time).
    let until_micros = until.timestamp_micros();
    assert!(
        mine.iter().all(|t| t.2 <= until_micros),
        "no tick after the point in time"
    );
    // And the candles agree with the source's: those that closed a second
    // before it (a tick's record is stamped as it is sent, just after it is made).
    let settled = until_micros - 2_000_000;
    let candles = closed_candles(&restored_db, settled);
    assert!(!candles.is_empty());
    assert_eq!(candles, closed_candles(&source_db, settled));
    succeeds(&["verify", "--data-dir", text(target.path())]);
}
