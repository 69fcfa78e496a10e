//! `RuleStore`: alert rules kept in the database (as JSON, one row each),
//! on a connection of their own beside the tick writer's.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use super::{StoreError, configure, schema};
use crate::alerts::AlertRule;

/// The alert rules table.
pub struct RuleStore {
    conn: Connection,
}

impl RuleStore {
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

    /// Every rule, by id.
    ///
    /// # Errors
    /// The SQLite error, or [`StoreError::Corrupt`] for an unreadable rule.
    pub fn list(&self) -> Result<Vec<AlertRule>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, rule FROM alert_rules ORDER BY id")?;
        let rows = stmt.query_map([], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })?;
        rows.map(|row| {
            let (id, json) = row?;
            decode(id, &json)
        })
        .collect()
    }

    /// The rule `id`, if any.
    ///
    /// # Errors
    /// The SQLite error, or [`StoreError::Corrupt`].
    pub fn get(&self, id: u64) -> Result<Option<AlertRule>, StoreError> {
        let json: Option<String> = self
            .conn
            .prepare_cached("SELECT rule FROM alert_rules WHERE id = ?1")?
            .query_row([id as i64], |row| row.get(0))
            .optional()?;
        json.map(|json| decode(id as i64, &json)).transpose()
    }

    /// Stores a new rule; returns it with its id.
    ///
    /// # Errors
    /// The SQLite error.
    pub fn create(&self, mut rule: AlertRule) -> Result<AlertRule, StoreError> {
        self.conn.execute(
            "INSERT INTO alert_rules (rule, updated) VALUES (?1, ?2)",
            params![encode(&rule), now()],
        )?;
        rule.id = self.conn.last_insert_rowid() as u64;
        Ok(rule)
    }

    /// Replaces rule `rule.id`; false when there is none.
    ///
    /// # Errors
    /// The SQLite error.
    pub fn update(&self, rule: &AlertRule) -> Result<bool, StoreError> {
        let changed = self.conn.execute(
            "UPDATE alert_rules SET rule = ?1, updated = ?2 WHERE id = ?3",
            params![encode(rule), now(), rule.id as i64],
        )?;
        Ok(changed == 1)
    }

    /// Deletes rule `id`; false when there was none.
    ///
    /// # Errors
    /// The SQLite error.
    pub fn delete(&self, id: u64) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .execute("DELETE FROM alert_rules WHERE id = ?1", [id as i64])?
            == 1)
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

fn encode(rule: &AlertRule) -> String {
    let mut stored = rule.clone();
    stored.id = 0;
    serde_json::to_string(&stored).expect("rules serialize")
}

fn decode(id: i64, json: &str) -> Result<AlertRule, StoreError> {
    let mut rule: AlertRule = serde_json::from_str(json)
        .map_err(|e| StoreError::Corrupt(format!("alert rule {id}: {e}")))?;
    rule.id = id as u64;
    Ok(rule)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::Condition;

    #[test]
    fn rules_survive_reopening_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let rule = AlertRule {
            id: 0,
            name: Some("AAPL above 200".into()),
            symbol: "AAPL".parse().unwrap(),
            condition: Condition::PriceCross {
                level: 200.0,
                direction: None,
            },
            cooldown: std::time::Duration::from_secs(30),
            enabled: true,
        };
        let created = {
            let store = RuleStore::open(&path).unwrap();
            let created = store.create(rule.clone()).unwrap();
            let mut changed = created.clone();
            changed.enabled = false;
            assert!(store.update(&changed).unwrap());
            assert!(!store.delete(99).unwrap());
            changed
        };
        let store = RuleStore::open(&path).unwrap();
        assert_eq!(store.list().unwrap(), std::slice::from_ref(&created));
        assert_eq!(store.get(created.id).unwrap(), Some(created.clone()));
        assert!(store.delete(created.id).unwrap());
        assert!(store.list().unwrap().is_empty());
    }
}
