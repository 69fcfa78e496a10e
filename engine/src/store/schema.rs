//! The store's schema as numbered migrations, applied in order and recorded
//! in SQLite's `user_version`.

use rusqlite::Connection;

use super::StoreError;

/// Migration `i` brings the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: ticks, candles, log positions.
    "CREATE TABLE symbols (
        id INTEGER PRIMARY KEY,
        symbol TEXT NOT NULL UNIQUE
    ) STRICT;
    CREATE TABLE ticks (
        symbol_id INTEGER NOT NULL REFERENCES symbols (id),
        ts INTEGER NOT NULL,            -- Unix microseconds, UTC
        price REAL NOT NULL,
        volume INTEGER NOT NULL,
        bid REAL,
        ask REAL,
        seq INTEGER,
        log_partition INTEGER NOT NULL,
        log_offset INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX ticks_by_symbol_time ON ticks (symbol_id, ts);
    CREATE TABLE candles (
        symbol_id INTEGER NOT NULL REFERENCES symbols (id),
        interval_s INTEGER NOT NULL,
        start INTEGER NOT NULL,         -- Unix microseconds, UTC
        open INTEGER NOT NULL,          -- prices in fixed-point units (10^-6)
        high INTEGER NOT NULL,
        low INTEGER NOT NULL,
        close INTEGER NOT NULL,
        volume INTEGER NOT NULL,
        price_volume BLOB NOT NULL,     -- i128 little-endian: sum of units x shares
        trades INTEGER NOT NULL,
        closed INTEGER NOT NULL,
        PRIMARY KEY (symbol_id, interval_s, start)
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE log_positions (
        topic TEXT NOT NULL,
        log_partition INTEGER NOT NULL,
        next_offset INTEGER NOT NULL,
        PRIMARY KEY (topic, log_partition)
    ) STRICT, WITHOUT ROWID;",
    // 2: alert rules, as their JSON.
    "CREATE TABLE alert_rules (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        rule TEXT NOT NULL,
        updated INTEGER NOT NULL        -- Unix microseconds, UTC
    ) STRICT;",
    // 3: watchlists and portfolios, as their JSON, unique by name.
    "CREATE TABLE watchlists (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        body TEXT NOT NULL,
        updated INTEGER NOT NULL        -- Unix microseconds, UTC
    ) STRICT;
    CREATE TABLE portfolios (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        body TEXT NOT NULL,
        updated INTEGER NOT NULL        -- Unix microseconds, UTC
    ) STRICT;",
    // 4: alert rules in the shape of the other item tables (name, body).
    "ALTER TABLE alert_rules RENAME COLUMN rule TO body;
    ALTER TABLE alert_rules ADD COLUMN name TEXT;",
    // 5: API keys, by name; only the key's SHA-256 is kept.
    "CREATE TABLE api_keys (
        name TEXT PRIMARY KEY,
        prefix TEXT NOT NULL UNIQUE,
        hash BLOB NOT NULL,
        scope TEXT NOT NULL,
        created_at INTEGER NOT NULL,    -- Unix microseconds, UTC
        expires_at INTEGER              -- Unix microseconds, UTC; NULL: never
    ) STRICT;",
    // 6: the audit log.
    "CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts INTEGER NOT NULL,            -- Unix microseconds, UTC
        key_name TEXT,
        client TEXT NOT NULL,
        action TEXT NOT NULL,
        status INTEGER NOT NULL,
        outcome TEXT NOT NULL
    ) STRICT;
    CREATE INDEX audit_by_time ON audit (ts);",
    // 7: one row per log position (duplicates an earlier build could write
    // are dropped, the first kept), and the dead letters: what the writer
    // could not store, with why.
    "DELETE FROM ticks WHERE rowid NOT IN
        (SELECT min(rowid) FROM ticks GROUP BY log_partition, log_offset);
    CREATE UNIQUE INDEX ticks_by_position ON ticks (log_partition, log_offset);
    CREATE TABLE dead_letters (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts INTEGER NOT NULL,            -- Unix microseconds, UTC
        kind TEXT NOT NULL,             -- tick | candle
        log_partition INTEGER,
        log_offset INTEGER,
        body TEXT NOT NULL,
        error TEXT NOT NULL
    ) STRICT;",
    // 8: whether an engine is running on the store (1) or stopped cleanly
    // after its writer drained the log (0).
    "CREATE TABLE engine_state (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID;",
    // 9: paper trading: accounts, orders (as their JSON, with the status
    // to find the working ones) and fills (the record positions and
    // profit are rebuilt from).
    "CREATE TABLE trading_accounts (
        name TEXT PRIMARY KEY,
        starting_cash INTEGER NOT NULL, -- fixed-point units (10^-6)
        created INTEGER NOT NULL        -- Unix microseconds, UTC
    ) STRICT;
    CREATE TABLE orders (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL REFERENCES trading_accounts (name),
        working INTEGER NOT NULL,       -- 1 until filled, cancelled or expired
        body TEXT NOT NULL,
        updated INTEGER NOT NULL        -- Unix microseconds, UTC
    ) STRICT;
    CREATE INDEX orders_working ON orders (working) WHERE working = 1;
    CREATE TABLE fills (
        id INTEGER PRIMARY KEY,
        order_id INTEGER NOT NULL REFERENCES orders (id),
        account TEXT NOT NULL REFERENCES trading_accounts (name),
        body TEXT NOT NULL
    ) STRICT;
    CREATE INDEX fills_by_account ON fills (account, id);",
];

/// Brings the database to the latest schema, each migration in its own
/// transaction.
///
/// # Errors
/// Returns [`StoreError::NewerSchema`] for a database written by a newer
/// Tickstream, or the SQLite error of a failed migration.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let current = usize::try_from(current).unwrap_or(usize::MAX);
    if current > MIGRATIONS.len() {
        return Err(StoreError::NewerSchema {
            found: current,
            supported: MIGRATIONS.len(),
        });
    }
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

/// The schema version this build writes.
pub const fn latest_version() -> usize {
    MIGRATIONS.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::AlertRule,
        store::{ItemStore, StoredItem},
    };

    /// A database at `path` as schema `version` left it.
    fn database_at(path: &std::path::Path, version: usize) -> Connection {
        let conn = Connection::open(path).unwrap();
        for sql in &MIGRATIONS[..version] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", version as i64)
            .unwrap();
        conn
    }

    #[test]
    fn rules_stored_before_the_item_tables_were_alike_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v3.db");
        {
            // A database as version 3 left it, with one rule.
            let conn = database_at(&path, 3);
            conn.execute(
                "INSERT INTO alert_rules (rule, updated) VALUES (?1, 0)",
                [r#"{"id":0,"name":"high","symbol":"AAPL","condition":{"kind":"price_cross","level":200.0},"cooldown":"30s","enabled":true}"#],
            )
            .unwrap();
        }
        let store = ItemStore::open(&path).unwrap();
        let rules = store.list::<AlertRule>().unwrap();
        assert_eq!(rules.len(), 1, "{rules:?}");
        assert_eq!(
            (StoredItem::id(&rules[0]), StoredItem::name(&rules[0])),
            (1, Some("high"))
        );
    }

    #[test]
    fn duplicate_positions_an_older_build_wrote_are_dropped_keeping_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v6.db");
        {
            let conn = database_at(&path, 6);
            conn.execute_batch(
                "INSERT INTO symbols (id, symbol) VALUES (1, 'AAPL');
                 INSERT INTO ticks VALUES (1, 10, 1.5, 1, NULL, NULL, NULL, 0, 7);
                 INSERT INTO ticks VALUES (1, 10, 2.5, 1, NULL, NULL, NULL, 0, 7);
                 INSERT INTO ticks VALUES (1, 11, 3.5, 1, NULL, NULL, NULL, 1, 7);",
            )
            .unwrap();
        }
        let mut conn = Connection::open(&path).unwrap();
        migrate(&mut conn).unwrap();
        let prices: Vec<f64> = conn
            .prepare("SELECT price FROM ticks ORDER BY log_partition")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(prices, [1.5, 3.5]);
    }
}
