//! `tickstreamd keys`: API keys created, imported, listed and revoked —
//! offline in a data directory (no daemon may hold it), or (all but
//! import) through a running daemon's `/api/v1/keys` with an admin key.

use std::path::Path;

use reqwest::Method;

use super::{ClientError, Daemon};
use crate::{
    auth::{KeyError, Keyring},
    engine::lock_data_dir,
    model::{AuditEntry, CreatedKey, KeyInfo, NewKey},
    store::AuditStore,
};

/// What to do with the keys.
pub enum KeysAction {
    /// Make a key.
    Create(NewKey),
    /// Store a key made elsewhere (the second field).
    Import(NewKey, String),
    /// List the keys.
    List,
    /// Revoke the key of this name.
    Revoke(String),
}

/// What was done.
pub enum KeysAnswer {
    /// The key made: the only time it is shown.
    Created(CreatedKey),
    /// The key imported (or found already there).
    Imported(KeyInfo),
    /// The keys, by name.
    Listed(Vec<KeyInfo>),
    /// The key of this name is revoked.
    Revoked(String),
}

impl KeysAnswer {
    /// Prints the answer: a new key alone on stdout (to capture it) and
    /// what it is on stderr; a list as a table, or JSON when `json`.
    ///
    /// # Errors
    /// The I/O error of a closed stdout.
    pub fn print(&self, json: bool) -> std::io::Result<()> {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        match self {
            Self::Created(created) => {
                writeln!(out, "{}", created.key)?;
                let expires = created
                    .info
                    .expires_at
                    .map_or("never expires".to_owned(), |t| format!("expires {t}"));
                eprintln!(
                    "created key {:?} (scope {}, {expires}); it is shown only this once",
                    created.info.name, created.info.scope
                );
            }
            Self::Listed(keys) if json => {
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(keys).expect("serializes")
                )?;
            }
            Self::Listed(keys) => {
                let time =
                    |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S").to_string();
                writeln!(
                    out,
                    "{:<24} {:<6} {:<17} {:<20} EXPIRES",
                    "NAME", "SCOPE", "PREFIX", "CREATED"
                )?;
                for key in keys {
                    let expires = key.expires_at.map_or("never".to_owned(), time);
                    writeln!(
                        out,
                        "{:<24} {:<6} {:<17} {:<20} {expires}",
                        key.name,
                        key.scope,
                        key.prefix,
                        time(key.created_at)
                    )?;
                }
            }
            Self::Imported(info) => eprintln!(
                "imported key {:?} (scope {}, prefix {})",
                info.name, info.scope, info.prefix
            ),
            Self::Revoked(name) => eprintln!("revoked key {name:?}"),
        }
        Ok(())
    }
}

/// Where the keys are.
pub enum KeysAt<'a> {
    /// The store in this data directory, with its database file.
    DataDir {
        /// The data directory (locked while the command runs).
        dir: &'a Path,
        /// Its database.
        database: &'a Path,
    },
    /// A running daemon's REST API.
    Daemon(Daemon<'a>),
}

/// Does `action` on the keys `at`.
///
/// # Errors
/// [`ClientError::Keys`] for a refused key or an unopenable store (a data
/// directory a daemon holds, say), or the REST call's error.
pub async fn keys(at: &KeysAt<'_>, action: KeysAction) -> Result<KeysAnswer, ClientError> {
    match at {
        KeysAt::DataDir { dir, database } => {
            let _lock = lock_data_dir(dir).map_err(|e| {
                ClientError::Keys(format!(
                    "{e}; a running daemon's keys are changed with --url and an admin key"
                ))
            })?;
            let keyring = Keyring::open(database).map_err(|e| ClientError::Keys(e.to_string()))?;
            let what = match &action {
                KeysAction::Create(new) => {
                    Some(format!("keys create {} (scope {})", new.name, new.scope))
                }
                KeysAction::Import(new, _) => {
                    Some(format!("keys import {} (scope {})", new.name, new.scope))
                }
                KeysAction::Revoke(name) => Some(format!("keys revoke {name}")),
                KeysAction::List => None,
            };
            let answer = offline(&keyring, action)?;
            if let Some(action) = what {
                audit_offline(database, action)?;
            }
            Ok(answer)
        }
        KeysAt::Daemon(daemon) => online(daemon, action).await,
    }
}

fn offline(keyring: &Keyring, action: KeysAction) -> Result<KeysAnswer, ClientError> {
    let failed = |e: KeyError| ClientError::Keys(e.to_string());
    Ok(match action {
        KeysAction::Create(new) => {
            KeysAnswer::Created(keyring.create(&new, chrono::Utc::now()).map_err(failed)?)
        }
        KeysAction::Import(new, key) => KeysAnswer::Imported(
            keyring
                .import(&new, &key, chrono::Utc::now())
                .map_err(failed)?,
        ),
        KeysAction::List => KeysAnswer::Listed(keyring.list()),
        KeysAction::Revoke(name) => {
            if !keyring.revoke(&name).map_err(|e| failed(e.into()))? {
                return Err(ClientError::Keys(format!("no key named {name:?}")));
            }
            KeysAnswer::Revoked(name)
        }
    })
}

/// Records a key change made offline in the audit log, as done by `cli`.
fn audit_offline(database: &Path, action: String) -> Result<(), ClientError> {
    let entry = AuditEntry {
        id: 0,
        timestamp: chrono::Utc::now(),
        key: None,
        client: "cli".into(),
        action,
        status: 0,
        outcome: "ok".into(),
    };
    AuditStore::open(database)
        .and_then(|mut store| store.append(&[entry]))
        .map_err(|e| ClientError::Keys(format!("the audit log: {e}")))
}

fn decode<T: serde::de::DeserializeOwned>(body: serde_json::Value) -> Result<T, ClientError> {
    serde_json::from_value(body).map_err(|e| ClientError::Keys(format!("unexpected answer: {e}")))
}

async fn online(daemon: &Daemon<'_>, action: KeysAction) -> Result<KeysAnswer, ClientError> {
    Ok(match action {
        KeysAction::Create(new) => {
            let body = serde_json::to_value(&new).expect("serializes");
            let (_, answer) = daemon
                .call(Method::POST, "/api/v1/keys", Some(&body))
                .await?;
            KeysAnswer::Created(decode(answer)?)
        }
        KeysAction::Import(..) => {
            return Err(ClientError::Keys(
                "keys import works on a data directory (--data-dir), not through --url: the API never takes a key's secret".into(),
            ));
        }
        KeysAction::List => {
            let (_, answer) = daemon.call(Method::GET, "/api/v1/keys", None).await?;
            KeysAnswer::Listed(decode(answer)?)
        }
        KeysAction::Revoke(name) => {
            let path = format!("/api/v1/keys/{name}");
            daemon.call(Method::DELETE, &path, None).await?;
            KeysAnswer::Revoked(name)
        }
    })
}
