//! A writer killed with SIGKILL mid-write leaves a database that opens and
//! holds every batch it had committed, and no part of any other.

use std::{
    io::{BufRead, BufReader, Write},
    process::{Command, Stdio},
    sync::Arc,
};

use chrono::Utc;
use tickstream::{
    model::{EncodedTick, Symbol, Tick},
    store::{Batch, Store},
};

const BATCH: u64 = 2_000;
const CHILD_ENV: &str = "TICKSTREAM_CRASH_CHILD_DB";

/// The child: commits batches forever, printing each commit. Run by the
/// parent test only (it loops until killed).
#[test]
#[ignore = "run as a child process by killed_writer_keeps_every_committed_batch"]
fn crash_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut store = Store::open(path.as_ref()).unwrap();
    let symbols: Vec<Symbol> = ["AAPL", "MSFT", "NVDA"]
        .iter()
        .map(|s| Symbol::new(s).unwrap())
        .collect();
    let mut stdout = std::io::stdout();
    for batch_no in 0u64.. {
        let ticks = (0..BATCH)
            .map(|i| {
                let offset = batch_no * BATCH + i;
                let tick = Tick {
                    symbol: symbols[(offset % 3) as usize].clone(),
                    price: 100.0 + (offset % 100) as f64 / 100.0,
                    volume: 100,
                    timestamp: Utc::now(),
                    bid: None,
                    ask: None,
                    seq: Some(offset),
                    condition: None,
                    partition: None,
                    offset: None,
                };
                (0, offset, Arc::new(EncodedTick::new(tick)))
            })
            .collect();
        let batch = Batch {
            ticks,
            candles: vec![],
            positions: vec![("stock_ticks".into(), 0, (batch_no + 1) * BATCH)],
        };
        store.write(&batch, false).unwrap();
        writeln!(stdout, "committed {}", batch_no + 1).unwrap();
        stdout.flush().unwrap();
    }
}

#[test]
fn killed_writer_keeps_every_committed_batch() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    for round in 0..3 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "crash_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut committed = 0u64;
        let target = 5 + round * 7;
        for line in BufReader::new(child.stdout.take().unwrap()).lines() {
            if let Some(n) = line.unwrap().strip_prefix("committed ") {
                committed = n.trim().parse().unwrap();
                if committed >= target {
                    break;
                }
            }
        }
        // SIGKILL while the child is inside its next transaction.
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(
            committed >= target,
            "child committed only {committed} batches"
        );

        let conn = rusqlite::Connection::open(&db).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        let rows = conn
            .query_row("SELECT count(*) FROM ticks", [], |r| r.get::<_, i64>(0))
            .unwrap() as u64;
        assert_eq!(rows % BATCH, 0, "a partial batch is visible: {rows} rows");
        assert!(
            rows / BATCH >= committed,
            "{rows} rows but {committed} batches were reported committed"
        );
        let position = conn
            .query_row("SELECT next_offset FROM log_positions", [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap() as u64;
        assert_eq!(position, rows, "the log position commits with its ticks");
        // The next round reopens this database and appends to it; offsets restart
        // per round, so clear them to keep the arithmetic simple.
        conn.execute("DELETE FROM ticks", []).unwrap();
        conn.execute("DELETE FROM log_positions", []).unwrap();
        drop(conn);
        assert!(Store::open(&db).is_ok(), "the database reopens for writing");
    }
}
