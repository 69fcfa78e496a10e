//! `KeyStore`: the API keys' table — name, scope, public prefix, expiry and
//! the SHA-256 of the key (never the key), on a connection of its own.

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, ErrorCode, params};

use super::{StoreError, configure, schema};
use crate::model::{KeyInfo, Scope};

/// A key as stored: what is listed, and the hash it is checked against.
#[derive(Debug, Clone)]
pub struct StoredKey {
    /// What is listed.
    pub info: KeyInfo,
    /// SHA-256 of the whole key.
    pub hash: [u8; 32],
}

/// The `api_keys` table.
pub struct KeyStore {
    conn: Connection,
}

impl KeyStore {
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

    /// Every key, by name.
    ///
    /// # Errors
    /// The SQLite error, or [`StoreError::Corrupt`] for an unreadable row.
    pub fn list(&self) -> Result<Vec<StoredKey>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT name, scope, prefix, created_at, expires_at, hash FROM api_keys ORDER BY name",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, Option<i64>>(4)?,
                row.get::<_, Vec<u8>>(5)?,
            ))
        })?;
        rows.map(|row| {
            let (name, scope, prefix, created, expires, hash) = row?;
            let corrupt = |what: &str| StoreError::Corrupt(format!("api key {name}: {what}"));
            let scope: Scope = scope.parse().map_err(|e: String| corrupt(&e))?;
            let hash = hash.try_into().map_err(|_| corrupt("hash"))?;
            let time = |micros| DateTime::<Utc>::from_timestamp_micros(micros);
            let created_at = time(created).ok_or_else(|| corrupt("created_at"))?;
            let expires_at = match expires {
                Some(micros) => Some(time(micros).ok_or_else(|| corrupt("expires_at"))?),
                None => None,
            };
            Ok(StoredKey {
                info: KeyInfo {
                    name,
                    scope,
                    prefix,
                    created_at,
                    expires_at,
                },
                hash,
            })
        })
        .collect()
    }

    /// Stores a new key.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] when the name is taken, or the SQLite error.
    pub fn insert(&self, key: &StoredKey) -> Result<(), StoreError> {
        let info = &key.info;
        self.conn
            .execute(
                "INSERT INTO api_keys (name, prefix, hash, scope, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    info.name,
                    info.prefix,
                    &key.hash[..],
                    info.scope.as_str(),
                    info.created_at.timestamp_micros(),
                    info.expires_at.map(|t| t.timestamp_micros()),
                ],
            )
            .map_err(|error| match error.sqlite_error_code() {
                Some(ErrorCode::ConstraintViolation) => {
                    StoreError::Duplicate(format!("a key named {:?} exists", info.name))
                }
                _ => error.into(),
            })?;
        Ok(())
    }

    /// Deletes the key `name`; false when there is none.
    ///
    /// # Errors
    /// The SQLite error.
    pub fn delete(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .execute("DELETE FROM api_keys WHERE name = ?1", [name])?
            > 0)
    }
}
