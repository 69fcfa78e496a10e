//! The app's settings: which mode it runs in and how to reach a cluster or
//! a daemon, and how it updates itself, kept as JSON in the platform's
//! config directory. Secrets
//! (passwords, API keys) never go there: see [`crate::secrets`].

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tickstream::model::desktop::Mode;

/// Everything persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// The mode the app starts in.
    #[serde(flatten)]
    pub mode: Mode,
    /// How the app updates itself.
    #[serde(default)]
    pub updates: Updates,
    /// The folder chosen for exports (Downloads when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_dir: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            mode: Mode::Offline,
            updates: Updates::default(),
            export_dir: None,
        }
    }
}

/// The update preferences, and what the last check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Updates {
    /// Check at start (at most daily).
    pub auto_check: bool,
    /// The release channel followed: `{{channel}}` in the endpoints.
    pub channel: String,
    /// When the last check ended.
    pub last_check: Option<DateTime<Utc>>,
    /// What it found.
    pub last_result: Option<String>,
}

impl Default for Updates {
    fn default() -> Self {
        Self {
            auto_check: true,
            channel: "stable".into(),
            last_check: None,
            last_result: None,
        }
    }
}

/// Why the settings could not be saved.
#[derive(Debug, thiserror::Error)]
#[error("cannot save settings to {path}: {source}")]
pub struct SaveError {
    path: PathBuf,
    source: std::io::Error,
}

impl Settings {
    /// The file in `dir`.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join("settings.json")
    }

    /// Reads the settings; defaults when there are none or they are unreadable
    /// (logged: a broken file must not keep the app from starting).
    pub fn load(dir: &Path) -> Self {
        let path = Self::path(dir);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|error| {
                tracing::warn!(path = %path.display(), %error, "unreadable settings; using defaults");
                Self::default()
            }),
            Err(_) => Self::default(),
        }
    }

    /// Writes the settings atomically (a temporary file, then a rename).
    ///
    /// # Errors
    /// The I/O error, with the path.
    pub fn save(&self, dir: &Path) -> Result<(), SaveError> {
        let path = Self::path(dir);
        let error = |source| SaveError {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(error)?;
        let temporary = path.with_extension("json.tmp");
        let text = serde_json::to_vec_pretty(self).expect("settings serialize");
        std::fs::write(&temporary, text).map_err(error)?;
        std::fs::rename(&temporary, &path).map_err(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_file() {
        let dir = std::env::temp_dir().join(format!("tickstream-settings-{}", std::process::id()));
        assert_eq!(Settings::load(&dir), Settings::default());
        let settings = Settings {
            mode: Mode::Kafka {
                brokers: "k1:9092".into(),
                properties: [("security.protocol".to_owned(), "SASL_SSL".to_owned())].into(),
                produce: true,
            },
            updates: Updates {
                auto_check: false,
                last_check: Some(Utc::now()),
                ..Updates::default()
            },
            export_dir: Some(dir.join("exports")),
        };
        settings.save(&dir).unwrap();
        assert_eq!(Settings::load(&dir), settings);
        std::fs::write(Settings::path(&dir), b"{broken").unwrap();
        assert_eq!(Settings::load(&dir), Settings::default());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
