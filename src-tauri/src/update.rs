//! Updates: asks the release host whether a newer signed release exists
//! (at start, at most daily, unless turned off; and whenever the user asks),
//! offers it to the web view, then downloads it, verifies its signature
//! against the key built into the app, installs it and restarts.
//!
//! The shell does this with `tauri-plugin-updater`'s Rust API rather than
//! from the web view: the web view needs no updater or process permission,
//! and the endpoints can follow a channel and an override
//! (`TICKSTREAM_UPDATE_ENDPOINTS`). `AppHandle::request_restart` is what
//! `tauri-plugin-process`'s relaunch does, after the store is flushed.

use std::time::Duration;

use chrono::Utc;
use parking_lot::Mutex;
use tauri::{AppHandle, Emitter, Manager, Url, ipc::Channel};
use tauri_plugin_updater::{Update, UpdaterExt};
use tickstream::{
    client::error_chain,
    model::desktop::{UpdateOffer, UpdateProgress, UpdateStatus},
};

use crate::AppState;

/// How often the automatic check runs, at most.
const CHECK_EVERY: chrono::TimeDelta = chrono::TimeDelta::days(1);
/// How long a check or a download may stall before it fails.
const TIMEOUT: Duration = Duration::from_secs(60);
/// The placeholder in an endpoint that the channel replaces.
const CHANNEL: &str = "{{channel}}";

/// The release found by the last check, until it is installed.
#[derive(Default)]
pub struct Pending(Mutex<Option<Update>>);

/// What the About box shows.
pub fn status(state: &AppState, pending: &Pending) -> UpdateStatus {
    let updates = state.settings.lock().updates.clone();
    UpdateStatus {
        channel: updates.channel,
        auto_check: updates.auto_check,
        last_check: updates.last_check,
        last_result: updates.last_result,
        available: pending.0.lock().as_ref().map(offer),
    }
}

/// At start: checks when automatic checks are on and the last one is a day
/// old; a release found opens the update dialog (`update-available`).
/// A failure is only recorded (the About box shows it): the app may well
/// be offline on purpose.
pub fn check_when_due(app: &AppHandle) {
    let updates = app.state::<AppState>().settings.lock().updates.clone();
    let due = updates
        .last_check
        .is_none_or(|last| Utc::now() - last >= CHECK_EVERY);
    if !(updates.auto_check && due) {
        return;
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        match check(&app).await {
            Ok(Some(offer)) => {
                let _ = app.emit("update-available", offer);
            }
            Ok(None) => {}
            Err(reason) => tracing::warn!(%reason, "the automatic update check failed"),
        }
    });
}

/// Asks the release host; remembers what it said (and when) in the settings.
///
/// # Errors
/// Why there is no answer, in words for the user.
pub async fn check(app: &AppHandle) -> Result<Option<UpdateOffer>, String> {
    let found = ask(app).await;
    let state = app.state::<AppState>();
    let result = match &found {
        Ok(Some(update)) => format!("{} available", update.version),
        Ok(None) => "up to date".to_owned(),
        Err(reason) => format!("failed: {reason}"),
    };
    tracing::info!(%result, "update check");
    {
        let mut settings = state.settings.lock();
        settings.updates.last_check = Some(Utc::now());
        settings.updates.last_result = Some(result);
        if let Err(error) = settings.save(&state.config_dir) {
            tracing::warn!(%error, "the update check's time is not saved");
        }
    }
    let found = found?;
    let offered = found.as_ref().map(offer);
    *app.state::<Pending>().0.lock() = found;
    Ok(offered)
}

async fn ask(app: &AppHandle) -> Result<Option<Update>, String> {
    let channel = app
        .state::<AppState>()
        .settings
        .lock()
        .updates
        .channel
        .clone();
    let updater = app
        .updater_builder()
        .endpoints(endpoints(app, &channel)?)
        .map_err(plain)?
        .timeout(TIMEOUT)
        .build()
        .map_err(plain)?;
    updater.check().await.map_err(plain)
}

/// Downloads the release the last check found, reporting progress on
/// `progress`, verifies and installs it, then restarts the app on it.
///
/// # Errors
/// Why it was not installed (the running app carries on untouched).
pub async fn install(app: &AppHandle, progress: Channel<UpdateProgress>) -> Result<(), String> {
    let update = app
        .state::<Pending>()
        .0
        .lock()
        .clone()
        .ok_or("no update is waiting: check for updates first")?;
    let mut received = 0u64;
    let bytes = update
        .download(
            |chunk, total| {
                received += chunk as u64;
                let _ = progress.send(UpdateProgress::Downloading { received, total });
            },
            || {},
        )
        .await
        .map_err(plain)?;
    let _ = progress.send(UpdateProgress::Installing);
    tracing::info!(version = %update.version, "installing the update");
    // Installing runs the platform's installer (dpkg, rpm, msiexec…) and waits.
    tauri::async_runtime::spawn_blocking(move || update.install(bytes).map_err(plain))
        .await
        .map_err(|e| e.to_string())??;
    let _ = progress.send(UpdateProgress::Relaunching);
    tracing::info!("update installed; restarting");
    app.request_restart();
    Ok(())
}

/// The endpoints to ask: `TICKSTREAM_UPDATE_ENDPOINTS` (comma-separated)
/// or `plugins.updater.endpoints` in tauri.conf.json, with `{{channel}}`
/// replaced by the channel followed.
fn endpoints(app: &AppHandle, channel: &str) -> Result<Vec<Url>, String> {
    let configured: Vec<String> = match std::env::var("TICKSTREAM_UPDATE_ENDPOINTS") {
        Ok(list) => list.split(',').map(|s| s.trim().to_owned()).collect(),
        Err(_) => app
            .config()
            .plugins
            .0
            .get("updater")
            .and_then(|updater| updater.get("endpoints"))
            .and_then(|list| serde_json::from_value(list.clone()).ok())
            .unwrap_or_default(),
    };
    if configured.is_empty() {
        return Err("this build has no update endpoint".into());
    }
    configured
        .iter()
        .map(|url| {
            let url = url.replace(CHANNEL, channel);
            Url::parse(&url).map_err(|e| format!("update endpoint {url}: {e}"))
        })
        .collect()
}

fn offer(update: &Update) -> UpdateOffer {
    UpdateOffer {
        version: update.version.clone(),
        current_version: update.current_version.clone(),
        notes: update.body.clone(),
        date: update
            .raw_json
            .get("pub_date")
            .and_then(|d| d.as_str())
            .map(str::to_owned),
    }
}

/// The updater's errors, in words for the user.
fn plain(error: tauri_plugin_updater::Error) -> String {
    use tauri_plugin_updater::Error;
    match error {
        Error::Minisign(_)
        | Error::SignatureUtf8(_)
        | Error::Base64(_)
        | Error::SignedVersionMismatch { .. }
        | Error::MissingSignedVersion => format!(
            "the download's signature does not match this app's update key, so it was refused ({error})"
        ),
        Error::Reqwest(e) if e.is_connect() || e.is_timeout() => {
            format!("cannot reach the update server ({})", error_chain(&e))
        }
        Error::Reqwest(e) if e.is_status() => format!("the update server refused: {e}"),
        Error::Reqwest(e) => format!("cannot talk to the update server ({})", error_chain(&e)),
        Error::ReleaseNotFound => {
            "the update server answered, but not with a release description".into()
        }
        Error::TargetNotFound(_) | Error::TargetsNotFound(_) => {
            format!("the release has no build for this system: {error}")
        }
        other => other.to_string(),
    }
}

/// Where updates stand: channel, automatic checks, the last check.
#[tauri::command]
pub fn update_status(
    state: tauri::State<'_, AppState>,
    pending: tauri::State<'_, Pending>,
) -> UpdateStatus {
    status(&state, &pending)
}

/// Checks now; the release found, if any.
#[tauri::command]
pub async fn update_check(app: AppHandle) -> Result<Option<UpdateOffer>, String> {
    check(&app).await
}

/// Installs the release found and restarts on it.
#[tauri::command]
pub async fn update_install(
    app: AppHandle,
    progress: Channel<UpdateProgress>,
) -> Result<(), String> {
    install(&app, progress).await
}

/// Turns the automatic check on or off.
#[tauri::command]
pub fn set_auto_update(state: tauri::State<'_, AppState>, on: bool) -> Result<(), String> {
    let mut settings = state.settings.lock();
    settings.updates.auto_check = on;
    settings.save(&state.config_dir).map_err(|e| e.to_string())
}
