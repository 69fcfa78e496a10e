//! The app's log: `tauri-plugin-log` writes every record (the shell's and
//! the engine's `tracing` events, which reach `log` because the desktop sets
//! no tracing subscriber) to stderr and to a file rotated at 5 MB, keeping
//! the last four. `TICKSTREAM_LOG` sets the level (`info` by default).

use std::path::PathBuf;

use tauri::{AppHandle, Manager, Runtime, plugin::TauriPlugin};
use tauri_plugin_log::{RotationStrategy, Target, TargetKind};

/// The file's name, without `.log`.
const NAME: &str = "tickstream";

/// The plugin, set up.
pub fn plugin<R: Runtime>() -> TauriPlugin<R> {
    let level = std::env::var("TICKSTREAM_LOG")
        .ok()
        .and_then(|level| level.parse().ok())
        .unwrap_or(log::LevelFilter::Info);
    let file = match dir_override() {
        Some(path) => TargetKind::Folder {
            path,
            file_name: Some(NAME.into()),
        },
        None => TargetKind::LogDir {
            file_name: Some(NAME.into()),
        },
    };
    tauri_plugin_log::Builder::new()
        .clear_targets()
        .targets([Target::new(TargetKind::Stderr), Target::new(file)])
        .level(level)
        .max_file_size(5_000_000)
        .rotation_strategy(RotationStrategy::KeepSome(4))
        .build()
}

/// The log file being written.
pub fn file<R: Runtime>(app: &AppHandle<R>) -> PathBuf {
    let dir = dir_override()
        .or_else(|| app.path().app_log_dir().ok())
        .unwrap_or_default();
    dir.join(format!("{NAME}.log"))
}

/// With `TICKSTREAM_DATA_DIR` set, the log goes beside the data, in `logs/`.
fn dir_override() -> Option<PathBuf> {
    std::env::var_os("TICKSTREAM_DATA_DIR").map(|dir| PathBuf::from(dir).join("logs"))
}
