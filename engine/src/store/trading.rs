//! `TradingStore`: paper trading's record (accounts, orders, fills) on a
//! connection of its own. Each change the desk makes is written in one
//! transaction before it is reported, so what a client was told survives a
//! restart; accounts are rebuilt from their fills.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use super::{StoreError, configure, schema};
use crate::model::{Fill, Order, TradingEvent};

/// An account as stored: its name and starting cash (units).
pub struct StoredAccount {
    /// Its name.
    pub name: String,
    /// The cash it started with, in units of 10⁻⁶.
    pub starting_cash: i128,
}

/// The trading tables.
pub struct TradingStore {
    conn: Connection,
}

impl TradingStore {
    /// Opens (or creates and migrates) the database at `path`.
    ///
    /// # Errors
    /// The SQLite error, or [`StoreError::NewerSchema`].
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut conn = Connection::open(path)?;
        configure(&conn)?;
        // Checkpoints (which sync the disk) are left to the store writer's
        // connection, which commits the ticks: not on an order's path.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        schema::migrate(&mut conn)?;
        Ok(Self { conn })
    }

    /// Records a new account.
    ///
    /// # Errors
    /// The SQLite error.
    pub fn create_account(&self, name: &str, starting_cash: i128) -> Result<(), StoreError> {
        let cash = i64::try_from(starting_cash)
            .map_err(|_| StoreError::Corrupt(format!("starting cash of {name} out of range")))?;
        self.conn.execute(
            "INSERT INTO trading_accounts (name, starting_cash, created) VALUES (?1, ?2, ?3)",
            params![name, cash, chrono::Utc::now().timestamp_micros()],
        )?;
        Ok(())
    }

    /// Every account, by name.
    ///
    /// # Errors
    /// The SQLite error.
    pub fn accounts(&self) -> Result<Vec<StoredAccount>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT name, starting_cash FROM trading_accounts ORDER BY name")?;
        let rows = stmt.query_map([], |row| {
            Ok(StoredAccount {
                name: row.get(0)?,
                starting_cash: row.get::<_, i64>(1)?.into(),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Writes what the desk changed, in one transaction.
    ///
    /// # Errors
    /// The SQLite error.
    pub fn record(&mut self, changes: &[TradingEvent]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut order_stmt = tx.prepare_cached(
                "INSERT INTO orders (id, account, working, body, updated) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (id) DO UPDATE SET working = excluded.working, body = excluded.body, updated = excluded.updated",
            )?;
            let mut fill_stmt = tx.prepare_cached(
                "INSERT INTO fills (id, order_id, account, body) VALUES (?1, ?2, ?3, ?4)",
            )?;
            // Orders first: a fill refers to its order.
            for change in changes {
                if let TradingEvent::Order(order) = change {
                    order_stmt.execute(params![
                        order.id as i64,
                        order.account,
                        !order.status.is_final(),
                        serde_json::to_string(order).expect("orders serialize"),
                        order.updated_at.timestamp_micros(),
                    ])?;
                }
            }
            for change in changes {
                if let TradingEvent::Fill(fill) = change {
                    fill_stmt.execute(params![
                        fill.id as i64,
                        fill.order_id as i64,
                        fill.account,
                        serde_json::to_string(fill).expect("fills serialize"),
                    ])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The working orders, oldest first.
    ///
    /// # Errors
    /// The SQLite error, or [`StoreError::Corrupt`] for an unreadable row.
    pub fn working_orders(&self) -> Result<Vec<Order>, StoreError> {
        self.bodies(
            "SELECT id, body FROM orders WHERE working = 1 ORDER BY id",
            [],
        )
    }

    /// Orders of `account` (every account when `None`), newest first, at
    /// most `limit`.
    ///
    /// # Errors
    /// As [`TradingStore::working_orders`].
    pub fn orders(&self, account: Option<&str>, limit: u32) -> Result<Vec<Order>, StoreError> {
        self.bodies(
            "SELECT id, body FROM orders WHERE ?1 IS NULL OR account = ?1 ORDER BY id DESC LIMIT ?2",
            params![account, limit],
        )
    }

    /// The order `id`, if any.
    ///
    /// # Errors
    /// As [`TradingStore::working_orders`].
    pub fn order(&self, id: u64) -> Result<Option<Order>, StoreError> {
        let body: Option<String> = self
            .conn
            .prepare_cached("SELECT body FROM orders WHERE id = ?1")?
            .query_row([id as i64], |row| row.get(0))
            .optional()?;
        body.map(|body| decode(id as i64, &body)).transpose()
    }

    /// Fills of `account` (every account when `None`), oldest first, after
    /// fill `after`, at most `limit`.
    ///
    /// # Errors
    /// As [`TradingStore::working_orders`].
    pub fn fills(
        &self,
        account: Option<&str>,
        after: u64,
        limit: u32,
    ) -> Result<Vec<Fill>, StoreError> {
        self.bodies(
            "SELECT id, body FROM fills WHERE (?1 IS NULL OR account = ?1) AND id > ?2 ORDER BY id LIMIT ?3",
            params![account, after as i64, limit],
        )
    }

    /// Every fill of `account`, oldest first: what its ledger is rebuilt from.
    ///
    /// # Errors
    /// As [`TradingStore::working_orders`].
    pub fn all_fills(&self, account: &str) -> Result<Vec<Fill>, StoreError> {
        self.bodies(
            "SELECT id, body FROM fills WHERE account = ?1 ORDER BY id",
            [account],
        )
    }

    /// The highest order and fill IDs used (0 when none).
    ///
    /// # Errors
    /// The SQLite error.
    pub fn last_ids(&self) -> Result<(u64, u64), StoreError> {
        let last = |table: &str| -> Result<u64, StoreError> {
            let id: i64 = self.conn.query_row(
                &format!("SELECT COALESCE(MAX(id), 0) FROM {table}"),
                [],
                |row| row.get(0),
            )?;
            Ok(id as u64)
        };
        Ok((last("orders")?, last("fills")?))
    }

    fn bodies<T: serde::de::DeserializeOwned>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<T>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map(params, |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })?;
        rows.map(|row| {
            let (id, body) = row?;
            decode(id, &body)
        })
        .collect()
    }
}

fn decode<T: serde::de::DeserializeOwned>(id: i64, body: &str) -> Result<T, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(format!("trading row {id}: {e}")))
}
