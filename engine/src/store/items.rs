//! `ItemStore`: user-made items kept in the database (alert rules,
//! watchlists, portfolios), each as its JSON in a row of its type's table,
//! on a connection of their own beside the tick writer's.

use std::path::Path;

use rusqlite::{Connection, ErrorCode, OptionalExtension, params};
use serde::{Serialize, de::DeserializeOwned};

use super::{StoreError, configure, schema};
use crate::model::{AlertRule, Portfolio, Watchlist};

/// An item stored by id in a table of `(id, name, body, updated)`; tables
/// whose `name` is `UNIQUE` refuse a second item of the same name.
pub trait StoredItem: Serialize + DeserializeOwned + Clone {
    /// Its table.
    const TABLE: &'static str;
    /// What it is called in messages, e.g. `watchlist`.
    const KIND: &'static str;
    /// Its id (0 before it is stored).
    fn id(&self) -> u64;
    /// Sets its id.
    fn set_id(&mut self, id: u64);
    /// Its name, if it has one.
    fn name(&self) -> Option<&str>;
}

impl StoredItem for AlertRule {
    const TABLE: &'static str = "alert_rules";
    const KIND: &'static str = "alert rule";
    fn id(&self) -> u64 {
        self.id
    }
    fn set_id(&mut self, id: u64) {
        self.id = id;
    }
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl StoredItem for Watchlist {
    const TABLE: &'static str = "watchlists";
    const KIND: &'static str = "watchlist";
    fn id(&self) -> u64 {
        self.id
    }
    fn set_id(&mut self, id: u64) {
        self.id = id;
    }
    fn name(&self) -> Option<&str> {
        Some(&self.name)
    }
}

impl StoredItem for Portfolio {
    const TABLE: &'static str = "portfolios";
    const KIND: &'static str = "portfolio";
    fn id(&self) -> u64 {
        self.id
    }
    fn set_id(&mut self, id: u64) {
        self.id = id;
    }
    fn name(&self) -> Option<&str> {
        Some(&self.name)
    }
}

/// The item tables.
pub struct ItemStore {
    conn: Connection,
}

impl ItemStore {
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

    /// Every item, by id.
    ///
    /// # Errors
    /// The SQLite error, or [`StoreError::Corrupt`] for an unreadable row.
    pub fn list<T: StoredItem>(&self) -> Result<Vec<T>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT id, body FROM {} ORDER BY id", T::TABLE))?;
        let rows = stmt.query_map([], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })?;
        rows.map(|row| {
            let (id, json) = row?;
            decode(id, &json)
        })
        .collect()
    }

    /// The item `id`, if any.
    ///
    /// # Errors
    /// The SQLite error, or [`StoreError::Corrupt`].
    pub fn get<T: StoredItem>(&self, id: u64) -> Result<Option<T>, StoreError> {
        let json: Option<String> = self
            .conn
            .prepare_cached(&format!("SELECT body FROM {} WHERE id = ?1", T::TABLE))?
            .query_row([id as i64], |row| row.get(0))
            .optional()?;
        json.map(|json| decode(id as i64, &json)).transpose()
    }

    /// Stores a new item; returns it with its id.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] when the name is taken, or the SQLite error.
    pub fn create<T: StoredItem>(&self, mut item: T) -> Result<T, StoreError> {
        self.conn
            .execute(
                &format!(
                    "INSERT INTO {} (name, body, updated) VALUES (?1, ?2, ?3)",
                    T::TABLE
                ),
                params![item.name(), encode(&item), now()],
            )
            .map_err(|e| duplicate::<T>(e, item.name()))?;
        item.set_id(self.conn.last_insert_rowid() as u64);
        Ok(item)
    }

    /// Replaces item `item.id()`; false when there is none.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] when another item has the name, or the SQLite error.
    pub fn update<T: StoredItem>(&self, item: &T) -> Result<bool, StoreError> {
        let changed = self
            .conn
            .execute(
                &format!(
                    "UPDATE {} SET name = ?1, body = ?2, updated = ?3 WHERE id = ?4",
                    T::TABLE
                ),
                params![item.name(), encode(item), now(), item.id() as i64],
            )
            .map_err(|e| duplicate::<T>(e, item.name()))?;
        Ok(changed == 1)
    }

    /// Deletes item `id`; false when there was none.
    ///
    /// # Errors
    /// The SQLite error.
    pub fn delete<T: StoredItem>(&self, id: u64) -> Result<bool, StoreError> {
        let sql = format!("DELETE FROM {} WHERE id = ?1", T::TABLE);
        Ok(self.conn.execute(&sql, [id as i64])? == 1)
    }
}

fn duplicate<T: StoredItem>(error: rusqlite::Error, name: Option<&str>) -> StoreError {
    match (error.sqlite_error_code(), name) {
        (Some(ErrorCode::ConstraintViolation), Some(name)) => {
            StoreError::Duplicate(format!("name: a {} named {name:?} exists", T::KIND))
        }
        _ => error.into(),
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

fn encode<T: StoredItem>(item: &T) -> String {
    let mut stored = item.clone();
    stored.set_id(0);
    serde_json::to_string(&stored).expect("stored items serialize")
}

fn decode<T: StoredItem>(id: i64, json: &str) -> Result<T, StoreError> {
    let mut item: T = serde_json::from_str(json)
        .map_err(|e| StoreError::Corrupt(format!("{} {id}: {e}", T::KIND)))?;
    item.set_id(id as u64);
    Ok(item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Condition, Position};

    #[test]
    fn rules_survive_reopening_the_file_and_may_share_a_name() {
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
            let store = ItemStore::open(&path).unwrap();
            let created = store.create(rule.clone()).unwrap();
            let twin = store.create(rule.clone()).unwrap();
            assert!(store.delete::<AlertRule>(twin.id).unwrap());
            let mut changed = created.clone();
            changed.enabled = false;
            assert!(store.update(&changed).unwrap());
            assert!(!store.delete::<AlertRule>(99).unwrap());
            changed
        };
        let store = ItemStore::open(&path).unwrap();
        assert_eq!(
            store.list::<AlertRule>().unwrap(),
            std::slice::from_ref(&created)
        );
        assert_eq!(store.get(created.id).unwrap(), Some(created.clone()));
        assert!(store.delete::<AlertRule>(created.id).unwrap());
        assert!(store.list::<AlertRule>().unwrap().is_empty());
    }

    #[test]
    fn items_survive_reopening_the_file_and_names_stay_unique() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let list = Watchlist {
            id: 0,
            name: "Tech".into(),
            symbols: vec!["AAPL".parse().unwrap(), "MSFT".parse().unwrap()],
        };
        let portfolio = Portfolio {
            id: 0,
            name: "Tech".into(),
            positions: vec![Position {
                symbol: "AAPL".parse().unwrap(),
                quantity: 10.0,
                cost: 150.5,
            }],
        };
        let (list, portfolio) = {
            let store = ItemStore::open(&path).unwrap();
            let list = store.create(list).unwrap();
            // The same name in the other table is fine; in the same one it is not.
            let portfolio = store.create(portfolio).unwrap();
            let again = store.create(Watchlist {
                id: 0,
                ..list.clone()
            });
            assert!(
                matches!(&again, Err(StoreError::Duplicate(m)) if m == "name: a watchlist named \"Tech\" exists"),
                "{again:?}"
            );
            let other = store
                .create(Watchlist {
                    id: 0,
                    name: "Other".into(),
                    symbols: vec![],
                })
                .unwrap();
            let renamed = Watchlist {
                name: "Tech".into(),
                ..other.clone()
            };
            assert!(matches!(
                store.update(&renamed),
                Err(StoreError::Duplicate(_))
            ));
            assert!(store.delete::<Watchlist>(other.id).unwrap());
            assert!(!store.delete::<Watchlist>(other.id).unwrap());
            (list, portfolio)
        };
        let store = ItemStore::open(&path).unwrap();
        assert_eq!(
            store.list::<Watchlist>().unwrap(),
            std::slice::from_ref(&list)
        );
        assert_eq!(
            store.get::<Portfolio>(portfolio.id).unwrap(),
            Some(portfolio)
        );
        assert_eq!(store.get::<Watchlist>(99).unwrap(), None);
    }
}
