//! `AuditStore`: the audit log's table, appended in batches, read newest
//! first, pruned past its retention; on a connection of its own.

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use super::{StoreError, configure, schema};
use crate::model::AuditEntry;

/// The `audit` table.
pub struct AuditStore {
    conn: Connection,
}

impl AuditStore {
    /// Opens (or creates and migrates) the database at `path`.
    ///
    /// # Errors
    /// The SQLite error, or [`StoreError::NewerSchema`].
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut conn = Connection::open(path)?;
        configure(&conn)?;
        schema::migrate(&mut conn)?;
        Ok(Self { conn })
    }

    /// Appends `entries` (their ids are given by the table) in one transaction.
    ///
    /// # Errors
    /// The SQLite error; nothing is written.
    pub fn append(&mut self, entries: &[AuditEntry]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO audit (ts, key_name, client, action, status, outcome)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for e in entries {
                insert.execute(params![
                    e.timestamp.timestamp_micros(),
                    e.key,
                    e.client,
                    e.action,
                    e.status,
                    e.outcome
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Up to `limit` entries from `from` (inclusive) to `to` (exclusive),
    /// newest first.
    ///
    /// # Errors
    /// The SQLite error, or [`StoreError::Corrupt`] for an unreadable row.
    pub fn recent(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, ts, key_name, client, action, status, outcome FROM audit
             WHERE ts >= ?1 AND ts < ?2 ORDER BY id DESC LIMIT ?3",
        )?;
        let from = from.map_or(i64::MIN, |t| t.timestamp_micros());
        let to = to.map_or(i64::MAX, |t| t.timestamp_micros());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![from, to, limit], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, Option<String>>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, u16>(5)?,
                row.get::<_, String>(6)?,
            ))
        })?;
        rows.map(|row| {
            let (id, ts, key, client, action, status, outcome) = row?;
            let timestamp = DateTime::from_timestamp_micros(ts)
                .ok_or_else(|| StoreError::Corrupt(format!("audit entry {id}: time {ts}")))?;
            Ok(AuditEntry {
                id: id as u64,
                timestamp,
                key,
                client,
                action,
                status,
                outcome,
            })
        })
        .collect()
    }

    /// Deletes the entries older than `before`; returns how many.
    ///
    /// # Errors
    /// The SQLite error.
    pub fn prune(&mut self, before: DateTime<Utc>) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            "DELETE FROM audit WHERE ts < ?1",
            [before.timestamp_micros()],
        )?)
    }
}
