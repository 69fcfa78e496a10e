//! API keys: made at random (`tsk_` + a 12-hex-digit public prefix + `_` +
//! 256 random bits in hex), shown once, kept as their SHA-256 in the store,
//! checked in constant time; each with a scope and an optional expiry.
//! Revoking a key ends the streams it opened ([`Caller::revoked`]).
//!
//! A SHA-256 (not a password hash) is right here: a key has 256 bits of
//! entropy, so there is nothing to brute-force, and checking one costs
//! microseconds on every request.

use std::{collections::HashMap, path::Path, time::Duration};

use chrono::{DateTime, SubsecRound, Utc};
use parking_lot::{Mutex, RwLock};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio_util::sync::CancellationToken;

use crate::{
    model::{CreatedKey, KeyInfo, NewKey, Scope},
    store::{KeyStore, StoreError, StoredKey},
};

/// What every key starts with.
const KEY_TAG: &str = "tsk_";
/// Length of a key's public prefix: the tag and 12 hex digits.
const PREFIX_LEN: usize = KEY_TAG.len() + 12;
/// Longest key name.
pub const MAX_NAME_LEN: usize = 64;

/// Why a key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No key was given.
    #[error("an API key is required: send `Authorization: Bearer KEY`")]
    Missing,
    /// Not a key this daemon issued (or one since revoked).
    #[error("the API key is not valid (unknown or revoked)")]
    Invalid,
    /// The key's time is over.
    #[error("the API key {0:?} has expired")]
    Expired(String),
}

/// Why a key could not be created.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The name breaks the rules.
    #[error("name: {0}")]
    InvalidName(String),
    /// The expiry is past what a date can hold.
    #[error("expires: too far in the future")]
    InvalidExpiry,
    /// An imported key is not shaped as this daemon's keys are.
    #[error(
        "key: expected tsk_, 12 lowercase hex digits, _ and 64 lowercase hex digits (as `tickstreamd keys create` prints)"
    )]
    InvalidKey,
    /// The store failed, or the name is taken ([`StoreError::Duplicate`]).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who made a request: the key's name and scope, and what ends its streams.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The key's name.
    pub name: String,
    /// What the key may do.
    pub scope: Scope,
    /// When the key stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// Cancelled when the key is revoked.
    pub revoked: CancellationToken,
}

/// A key in force.
struct Entry {
    stored: StoredKey,
    revoked: CancellationToken,
}

/// The keys in force: in the store, and in memory by prefix so a check
/// needs no query.
pub struct Keyring {
    store: Mutex<KeyStore>,
    keys: RwLock<HashMap<String, Entry>>,
}

impl Keyring {
    /// Loads the keys of the database at `path`.
    ///
    /// # Errors
    /// The store's error.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let store = KeyStore::open(path)?;
        let keys = store
            .list()?
            .into_iter()
            .map(|stored| {
                let entry = Entry {
                    stored,
                    revoked: CancellationToken::new(),
                };
                (entry.stored.info.prefix.clone(), entry)
            })
            .collect();
        Ok(Self {
            store: Mutex::new(store),
            keys: RwLock::new(keys),
        })
    }

    /// Whether no key exists (then a loopback gateway is open to all).
    pub fn is_empty(&self) -> bool {
        self.keys.read().is_empty()
    }

    /// Every key, by name.
    pub fn list(&self) -> Vec<KeyInfo> {
        let mut keys: Vec<KeyInfo> = self
            .keys
            .read()
            .values()
            .map(|e| e.stored.info.clone())
            .collect();
        keys.sort_by(|a, b| a.name.cmp(&b.name));
        keys
    }

    /// Makes, stores and returns a new key: the only time it is shown.
    ///
    /// # Errors
    /// A [`KeyError`] naming the field at fault; a taken name is
    /// [`StoreError::Duplicate`].
    pub fn create(&self, new: &NewKey, now: DateTime<Utc>) -> Result<CreatedKey, KeyError> {
        let key = generate();
        let info = self.insert(new, &key, now)?;
        Ok(CreatedKey { key, info })
    }

    /// Stores `key`, made elsewhere (a secret a deployment provisions, as
    /// `tickstreamd keys create` printed it), as `new` says. Importing the
    /// same key under the same name again changes nothing, so a container
    /// may import on every start.
    ///
    /// # Errors
    /// [`KeyError::InvalidKey`] for a key not shaped as this daemon's, or
    /// as [`Keyring::create`]: a name taken by another key is
    /// [`StoreError::Duplicate`].
    pub fn import(&self, new: &NewKey, key: &str, now: DateTime<Utc>) -> Result<KeyInfo, KeyError> {
        if !is_key_shaped(key) {
            return Err(KeyError::InvalidKey);
        }
        let hash: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        if let Some(entry) = self.keys.read().get(&key[..PREFIX_LEN])
            && entry.stored.info.name == new.name
            && bool::from(entry.stored.hash.ct_eq(&hash))
        {
            return Ok(entry.stored.info.clone());
        }
        self.insert(new, key, now)
    }

    /// Stores `key` as `new` says.
    fn insert(&self, new: &NewKey, key: &str, now: DateTime<Utc>) -> Result<KeyInfo, KeyError> {
        check_name(&new.name).map_err(KeyError::InvalidName)?;
        // As the store keeps it.
        let now = now.trunc_subsecs(6);
        let expires_at = match new.expires {
            Some(lasts) => Some(
                chrono::Duration::from_std(lasts)
                    .ok()
                    .and_then(|d| now.checked_add_signed(d))
                    .ok_or(KeyError::InvalidExpiry)?,
            ),
            None => None,
        };
        let stored = StoredKey {
            info: KeyInfo {
                name: new.name.clone(),
                scope: new.scope,
                prefix: key[..PREFIX_LEN].to_owned(),
                created_at: now,
                expires_at,
            },
            hash: Sha256::digest(key.as_bytes()).into(),
        };
        // Under the map's lock, so a check never sees a key the store lacks.
        let mut keys = self.keys.write();
        self.store.lock().insert(&stored)?;
        let info = stored.info.clone();
        keys.insert(
            info.prefix.clone(),
            Entry {
                stored,
                revoked: CancellationToken::new(),
            },
        );
        Ok(info)
    }

    /// Revokes the key `name`: refused from now on, its streams ended.
    /// False when there is none.
    ///
    /// # Errors
    /// The store's error.
    pub fn revoke(&self, name: &str) -> Result<bool, StoreError> {
        let mut keys = self.keys.write();
        if !self.store.lock().delete(name)? {
            return Ok(false);
        }
        keys.retain(|_, entry| {
            let keep = entry.stored.info.name != name;
            if !keep {
                entry.revoked.cancel();
            }
            keep
        });
        Ok(true)
    }

    /// Checks `key` at time `now`.
    ///
    /// # Errors
    /// [`AuthError::Invalid`] for a key not in force, [`AuthError::Expired`]
    /// for one past its expiry.
    pub fn verify(&self, key: &str, now: DateTime<Utc>) -> Result<Caller, AuthError> {
        let prefix = key
            .get(..PREFIX_LEN)
            .filter(|p| p.starts_with(KEY_TAG))
            .ok_or(AuthError::Invalid)?;
        let keys = self.keys.read();
        let entry = keys.get(prefix).ok_or(AuthError::Invalid)?;
        let hash = Sha256::digest(key.as_bytes());
        if !bool::from(hash.as_slice().ct_eq(&entry.stored.hash)) {
            return Err(AuthError::Invalid);
        }
        let info = &entry.stored.info;
        if info.expires_at.is_some_and(|at| at <= now) {
            return Err(AuthError::Expired(info.name.clone()));
        }
        Ok(Caller {
            name: info.name.clone(),
            scope: info.scope,
            expires_at: info.expires_at,
            revoked: entry.revoked.clone(),
        })
    }
}

impl Caller {
    /// How long until the key expires (zero once it has); `None`: never.
    pub fn lasts(&self, now: DateTime<Utc>) -> Option<Duration> {
        self.expires_at
            .map(|at| (at - now).to_std().unwrap_or(Duration::ZERO))
    }
}

/// A new random key: the tag, 48 bits of public prefix, 256 secret bits.
fn generate() -> String {
    let mut bytes = [0u8; 38];
    rand::rng().fill_bytes(&mut bytes);
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    format!("{KEY_TAG}{}_{}", hex(&bytes[..6]), hex(&bytes[6..]))
}

/// Whether `key` is shaped as [`generate`] makes them.
fn is_key_shaped(key: &str) -> bool {
    let hex = |s: &str, n: usize| {
        s.len() == n && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    key.strip_prefix(KEY_TAG)
        .and_then(|rest| rest.split_once('_'))
        .is_some_and(|(prefix, secret)| hex(prefix, 12) && hex(secret, 64))
}

/// A key name: 1–64 of `A–Z a–z 0–9 . _ -`.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(format!("must be 1 to {MAX_NAME_LEN} characters"));
    }
    match name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        Some(c) => Err(format!("{c:?} is not allowed (A-Z a-z 0-9 . _ -)")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyring() -> (tempfile::TempDir, Keyring) {
        let dir = tempfile::tempdir().unwrap();
        let keyring = Keyring::open(&dir.path().join("k.db")).unwrap();
        (dir, keyring)
    }

    fn new_key(name: &str, scope: Scope, expires: Option<Duration>) -> NewKey {
        NewKey {
            name: name.into(),
            scope,
            expires,
        }
    }

    #[test]
    fn a_created_key_verifies_until_revoked_and_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.db");
        let now = Utc::now();
        let created = {
            let keyring = Keyring::open(&path).unwrap();
            assert!(keyring.is_empty());
            keyring
                .create(&new_key("ops", Scope::Admin, None), now)
                .unwrap()
        };
        assert!(created.key.starts_with(&created.info.prefix));
        assert_eq!(created.key.len(), PREFIX_LEN + 1 + 64);
        let keyring = Keyring::open(&path).unwrap();
        assert_eq!(keyring.list(), vec![created.info.clone()]);
        let caller = keyring.verify(&created.key, now).unwrap();
        assert_eq!((caller.name.as_str(), caller.scope), ("ops", Scope::Admin));
        assert!(keyring.revoke("ops").unwrap());
        assert!(caller.revoked.is_cancelled());
        assert_eq!(
            keyring.verify(&created.key, now).unwrap_err(),
            AuthError::Invalid
        );
        assert!(!keyring.revoke("ops").unwrap());
        assert!(Keyring::open(&path).unwrap().is_empty());
    }

    #[test]
    fn wrong_keys_are_refused_alike() {
        let (_dir, keyring) = keyring();
        let now = Utc::now();
        let key = keyring
            .create(&new_key("a", Scope::Read, None), now)
            .unwrap()
            .key;
        let mut tampered = key.clone();
        tampered.pop();
        tampered.push(if key.ends_with('0') { '1' } else { '0' });
        for wrong in ["", "tsk_", "Bearer", &key[..PREFIX_LEN], &tampered, "ü€"] {
            assert_eq!(
                keyring.verify(wrong, now).unwrap_err(),
                AuthError::Invalid,
                "{wrong}"
            );
        }
    }

    #[test]
    fn a_key_expires() {
        let (_dir, keyring) = keyring();
        let now = Utc::now().trunc_subsecs(6);
        let lasts = Duration::from_secs(60);
        let key = keyring
            .create(&new_key("short", Scope::Write, Some(lasts)), now)
            .unwrap()
            .key;
        let caller = keyring.verify(&key, now).unwrap();
        assert_eq!(caller.lasts(now), Some(lasts));
        let later = now + chrono::Duration::seconds(60);
        assert_eq!(
            keyring.verify(&key, later).unwrap_err(),
            AuthError::Expired("short".into())
        );
    }

    #[test]
    fn names_are_checked_and_unique() {
        let (_dir, keyring) = keyring();
        let now = Utc::now();
        for bad in ["", "has space", "x/y", &"n".repeat(65)] {
            let error = keyring
                .create(&new_key(bad, Scope::Read, None), now)
                .unwrap_err();
            assert!(matches!(error, KeyError::InvalidName(_)), "{bad}: {error}");
        }
        keyring
            .create(&new_key("twin", Scope::Read, None), now)
            .unwrap();
        let error = keyring
            .create(&new_key("twin", Scope::Admin, None), now)
            .unwrap_err();
        assert!(
            matches!(error, KeyError::Store(StoreError::Duplicate(_))),
            "{error}"
        );
        assert_eq!(keyring.list().len(), 1);
        let forever = Some(Duration::from_secs(u64::MAX));
        let error = keyring
            .create(&new_key("far", Scope::Read, forever), now)
            .unwrap_err();
        assert!(matches!(error, KeyError::InvalidExpiry), "{error}");
    }

    #[test]
    fn an_imported_key_works_once_stored_and_again_changes_nothing() {
        let (_dir, keyring) = keyring();
        let now = Utc::now();
        let made = generate();
        let new = new_key("ops", Scope::Admin, None);
        let info = keyring.import(&new, &made, now).unwrap();
        assert_eq!(info.prefix, made[..PREFIX_LEN]);
        assert_eq!(keyring.verify(&made, now).unwrap().scope, Scope::Admin);
        assert_eq!(keyring.import(&new, &made, now).unwrap(), info);
        assert!(matches!(
            keyring.import(&new, &generate(), now),
            Err(KeyError::Store(StoreError::Duplicate(_)))
        ));
        for bad in [
            "",
            "tsk_0123456789ab",
            &made.to_uppercase(),
            &format!("{made}0"),
            &made.replace("tsk_", "tsx_"),
        ] {
            assert!(
                matches!(keyring.import(&new, bad, now), Err(KeyError::InvalidKey)),
                "{bad}"
            );
        }
    }
}
