//! Secrets (Kafka passwords, a daemon's API key) in the operating system's
//! keychain (Keychain, Credential Manager, Secret Service). Where there is
//! none (a bare Linux session), they are kept in memory for this run only,
//! and the user is told: they are never written to a plain file.

use std::collections::HashMap;

use parking_lot::Mutex;

const SERVICE: &str = "dev.tickstream.desktop";

/// The app's secrets.
#[derive(Default)]
pub struct Secrets {
    /// Secrets the keychain could not take, for this run.
    memory: Mutex<HashMap<String, String>>,
}

/// Where a secret ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// In the keychain.
    Keychain,
    /// In memory only: the keychain said this.
    ThisRunOnly(String),
}

impl Secrets {
    /// Stores `value` under `name` (an empty value deletes it).
    pub fn set(&self, name: &str, value: &str) -> Stored {
        let result = keyring::Entry::new(SERVICE, name).and_then(|entry| {
            if value.is_empty() {
                match entry.delete_credential() {
                    Err(keyring::Error::NoEntry) => Ok(()),
                    other => other,
                }
            } else {
                entry.set_password(value)
            }
        });
        match result {
            Ok(()) => {
                self.memory.lock().remove(name);
                Stored::Keychain
            }
            Err(error) => {
                tracing::warn!(name, %error, "no keychain: the secret is kept for this run only");
                let mut memory = self.memory.lock();
                if value.is_empty() {
                    memory.remove(name);
                } else {
                    memory.insert(name.to_owned(), value.to_owned());
                }
                Stored::ThisRunOnly(error.to_string())
            }
        }
    }

    /// The secret stored under `name`, if any.
    pub fn get(&self, name: &str) -> Option<String> {
        if let Some(value) = self.memory.lock().get(name) {
            return Some(value.clone());
        }
        keyring::Entry::new(SERVICE, name)
            .and_then(|entry| entry.get_password())
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_comes_back() {
        // With or without a keychain on this machine, the value is there this run.
        let secrets = Secrets::default();
        let name = format!("test-{}", std::process::id());
        secrets.set(&name, "hunter2");
        assert_eq!(secrets.get(&name).as_deref(), Some("hunter2"));
        secrets.set(&name, "");
        assert_eq!(secrets.get(&name), None);
    }
}
