//! The commands the dashboard invokes: REST requests, live streams, the
//! settings and the switch between modes.

use std::{collections::BTreeMap, sync::atomic::Ordering};

use tauri::{
    AppHandle, Manager, State,
    ipc::{Channel, InvokeResponseBody},
};
use tauri_plugin_notification::NotificationExt;
use tickstream::model::{
    EventKind, EventLevel, MarketEvent,
    desktop::{AppInfo, EnteredSecrets, Mode, RestReply, SettingsView, Switched},
};
use tokio::sync::mpsc;

use crate::{
    AppState,
    backend::{Backend, REMOTE_API_KEY, kafka_secret, secret_properties},
    secrets::Stored,
    stream::{self, Sink},
    tray,
};

/// Protocol frames from the webview waiting on one stream; more is refused.
const STREAM_QUEUE: usize = 64;
/// How long a command waits for the engine to start (a backfill, a cluster).
const START_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// The current source, once there is one: at launch the engine may still
/// be starting, and requests wait for it rather than fail.
async fn ready(
    state: &AppState,
) -> Result<tokio::sync::RwLockReadGuard<'_, Option<Backend>>, String> {
    let deadline = tokio::time::Instant::now() + START_WAIT;
    loop {
        let backend = state.backend.read().await;
        if backend.is_some() {
            return Ok(backend);
        }
        drop(backend);
        if tokio::time::Instant::now() >= deadline {
            return Err("the engine did not start; see the tray for why".into());
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// `GET /api/v1/{path}` on the current source.
#[tauri::command]
pub async fn request(
    state: State<'_, AppState>,
    path: String,
    query: Option<BTreeMap<String, String>>,
) -> Result<RestReply, String> {
    let backend = ready(&state).await?;
    backend
        .as_ref()
        .expect("ready")
        .get(&path, &query.unwrap_or_default())
        .await
}

/// `POST`, `PUT` (with a JSON body) or `DELETE /api/v1/{path}` on the current source.
#[tauri::command]
pub async fn send(
    state: State<'_, AppState>,
    method: String,
    path: String,
    body: Option<serde_json::Value>,
) -> Result<RestReply, String> {
    let method = match method.as_str() {
        "POST" => axum::http::Method::POST,
        "PUT" => axum::http::Method::PUT,
        "DELETE" => axum::http::Method::DELETE,
        other => return Err(format!("method {other} is not allowed")),
    };
    let backend = ready(&state).await?;
    backend
        .as_ref()
        .expect("ready")
        .send(method, &path, body.as_ref())
        .await
}

/// Opens a live stream (or replay `replay`'s stream) delivering to
/// `channel`; returns its id for [`stream_send`]. Frames come as
/// `{"frames":[…]}`, states as `{"state":"live"|"reconnecting","detail":"…"}`.
#[tauri::command]
pub async fn stream_open(
    app: AppHandle,
    state: State<'_, AppState>,
    channel: Channel<InvokeResponseBody>,
    replay: Option<u64>,
) -> Result<u32, String> {
    let (tx, rx) = mpsc::channel(STREAM_QUEUE);
    let notifier = app.clone();
    let sink = Sink {
        channel,
        paused: state.paused.clone(),
        notify: std::sync::Arc::new(move |event: &MarketEvent| notify(&notifier, event)),
    };
    {
        let backend = ready(&state).await?;
        match backend.as_ref().expect("ready") {
            Backend::Local { state: gateway, .. } => {
                let replay = match replay {
                    Some(id) => Some(gateway.replays.get(id).map_err(|e| e.to_string())?),
                    None => None,
                };
                let label = match &replay {
                    Some(replay) => format!("Replay {}", replay.id()),
                    None => state.settings.lock().mode.label(),
                };
                let source = stream::Source {
                    gateway: gateway.clone(),
                    replay,
                };
                tauri::async_runtime::spawn(stream::local(source, label, rx, sink));
            }
            Backend::Remote(remote) => {
                let url = match replay {
                    Some(id) => format!("{}?replay={id}", remote.ws_url()),
                    None => remote.ws_url(),
                };
                tauri::async_runtime::spawn(stream::remote(
                    url,
                    remote.api_key.clone(),
                    remote.tls.clone(),
                    rx,
                    sink,
                ));
            }
        }
    }
    let id = state.next_stream.fetch_add(1, Ordering::Relaxed);
    state.streams.lock().insert(id, tx);
    Ok(id)
}

/// Sends a protocol frame (`ClientMsg` JSON) on stream `id`.
#[tauri::command]
pub fn stream_send(state: State<'_, AppState>, id: u32, text: String) -> Result<(), String> {
    let streams = state.streams.lock();
    let stream = streams.get(&id).ok_or_else(|| format!("no stream {id}"))?;
    stream.try_send(text).map_err(|e| match e {
        mpsc::error::TrySendError::Full(_) => {
            format!("stream {id} is busy: too many frames waiting")
        }
        mpsc::error::TrySendError::Closed(_) => format!("stream {id} has ended"),
    })
}

/// Closes stream `id`.
#[tauri::command]
pub fn stream_close(state: State<'_, AppState>, id: u32) {
    state.streams.lock().remove(&id);
}

/// The current settings.
#[tauri::command]
pub fn settings(app: AppHandle, state: State<'_, AppState>) -> SettingsView {
    let mode = state.settings.lock().mode.clone();
    let candidates = match &mode {
        Mode::Kafka { properties, .. } => secret_properties(properties)
            .iter()
            .map(|p| kafka_secret(p))
            .collect(),
        Mode::Remote { .. } => vec![REMOTE_API_KEY.to_owned()],
        Mode::Offline => Vec::new(),
    };
    SettingsView {
        secrets_set: candidates
            .into_iter()
            .filter(|name| state.secrets.get(name).is_some())
            .collect(),
        mode,
        data_dir: state.data_dir.display().to_string(),
        export_dir: export_dir(&app, &state).map_or_else(|e| e, |dir| dir.display().to_string()),
    }
}

/// Switches to `mode`: stores the secrets, starts the new source and, only
/// once it works, stops the old one and saves the settings. On failure the
/// old source keeps running and the reason comes back.
#[tauri::command]
pub async fn set_mode(
    app: AppHandle,
    state: State<'_, AppState>,
    mut mode: Mode,
    mut secrets: EnteredSecrets,
) -> Result<Switched, String> {
    // Secrets typed among the properties go to the keychain, not the file;
    // properties that run commands or load code are not taken from here.
    if let Mode::Kafka { properties, .. } = &mut mode {
        if let Some(refused) = properties.keys().find(|k| tickstream::config::runs_code(k)) {
            return Err(format!(
                "{refused} runs a command or loads code: set it in the TICKSTREAM_CONFIG file, not here"
            ));
        }
        let typed: Vec<String> = properties
            .keys()
            .filter(|k| tickstream::config::is_secret(k))
            .cloned()
            .collect();
        for key in typed {
            if let Some(value) = properties.remove(&key) {
                secrets.kafka.insert(key, value);
            }
        }
    }
    let mut warnings = Vec::new();
    let mut keep = |name: String, value: &str| {
        if let Stored::ThisRunOnly(why) = state.secrets.set(&name, value) {
            warnings.push(format!(
                "{name} is kept for this run only (no keychain: {why})"
            ));
        }
    };
    for (property, value) in &secrets.kafka {
        keep(kafka_secret(property), value);
    }
    if let Some(key) = &secrets.api_key {
        keep(REMOTE_API_KEY.to_owned(), key);
    }
    // A mode that keeps the data directory of the running one must stop it first.
    let same_store = std::mem::discriminant(&state.settings.lock().mode)
        == std::mem::discriminant(&mode)
        && !matches!(mode, Mode::Remote { .. });
    if same_store {
        stop(&state).await;
    }
    let backend = Backend::start(&mode, &state.data_dir, &state.secrets).await;
    let backend = match backend {
        Ok(backend) => backend,
        Err(reason) => {
            if same_store {
                // The old mode's data directory is free again: bring it back.
                let previous = state.settings.lock().mode.clone();
                if let Ok(old) = Backend::start(&previous, &state.data_dir, &state.secrets).await {
                    *state.backend.write().await = Some(old);
                }
            }
            return Err(reason);
        }
    };
    stop(&state).await;
    *state.backend.write().await = Some(backend);
    let label = mode.label();
    {
        let mut settings = state.settings.lock();
        settings.mode = mode;
        if let Err(error) = settings.save(&state.config_dir) {
            warnings.push(error.to_string());
        }
    }
    tray::set_status(&app, &format!("{label}: live"));
    Ok(Switched {
        mode: label,
        warnings,
    })
}

/// Stops the running source and its streams.
async fn stop(state: &AppState) {
    state.streams.lock().clear();
    let old = state.backend.write().await.take();
    if let Some(old) = old {
        old.shutdown().await;
    }
}

/// Starts the saved mode at launch; when it cannot run, the offline
/// simulation starts instead and a notification says why.
pub async fn start_saved(app: &AppHandle, mode: Mode) {
    let state = app.state::<AppState>();
    let label = mode.label();
    let backend = match Backend::start(&mode, &state.data_dir, &state.secrets).await {
        Ok(backend) => backend,
        Err(reason) if mode != Mode::Offline => {
            tracing::warn!(%reason, "the saved mode cannot start; running offline");
            let _ = app
                .notification()
                .builder()
                .title("Tickstream: working offline")
                .body(format!("{label} is unavailable: {reason}"))
                .show();
            state.settings.lock().mode = Mode::Offline;
            match Backend::start(&Mode::Offline, &state.data_dir, &state.secrets).await {
                Ok(backend) => backend,
                Err(reason) => return fail(app, &reason),
            }
        }
        Err(reason) => return fail(app, &reason),
    };
    *state.backend.write().await = Some(backend);
    let label = state.settings.lock().mode.label();
    tray::set_status(app, &format!("{label}: live"));
}

fn fail(app: &AppHandle, reason: &str) {
    tracing::error!(%reason, "the engine cannot start");
    tray::set_status(app, &format!("Stopped: {reason}"));
}

/// Versions, mode and directories.
#[tauri::command]
pub fn app_info(app: AppHandle, state: State<'_, AppState>) -> AppInfo {
    AppInfo {
        version: app.package_info().version.to_string(),
        engine: format!("tickstream-engine {}", tickstream::VERSION),
        mode: state.settings.lock().mode.label(),
        data_dir: state.data_dir.display().to_string(),
        config_dir: state.config_dir.display().to_string(),
        log_file: crate::logging::file(&app).display().to_string(),
    }
}

/// Opens the folder holding the log files in the system's file manager.
#[tauri::command]
pub fn open_log_folder(app: AppHandle) -> Result<(), String> {
    use tauri_plugin_opener::OpenerExt;
    let file = crate::logging::file(&app);
    let dir = file.parent().ok_or("the log has no folder")?;
    app.opener()
        .open_path(dir.display().to_string(), None::<&str>)
        .map_err(|e| format!("cannot open {}: {e}", dir.display()))
}

/// Writes an export (e.g. the events log as CSV) into the export folder
/// (see [`export_dir`]); returns the file's path. The name is reduced to
/// letters, digits, `.`, `-` and `_`.
#[tauri::command]
pub fn export_file(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
    contents: String,
) -> Result<String, String> {
    let safe: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    let safe = safe.trim_start_matches('.');
    if safe.is_empty() {
        return Err(format!("{name:?} is not a usable file name"));
    }
    let dir = export_dir(&app, &state)?;
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(safe);
    std::fs::write(&path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path.display().to_string())
}

/// Asks for the folder exports go to, with the system's folder dialog;
/// remembers it. `None` when the user cancelled.
#[tauri::command]
pub async fn choose_export_dir(
    app: AppHandle,
    state: State<'_, AppState>,
) -> Result<Option<String>, String> {
    use tauri_plugin_dialog::DialogExt;
    let mut dialog = app.dialog().file().set_title("Where exports go");
    if let Ok(current) = export_dir(&app, &state) {
        dialog = dialog.set_directory(current);
    }
    let (tell, told) = tokio::sync::oneshot::channel();
    dialog.pick_folder(move |chosen| {
        let _ = tell.send(chosen);
    });
    let Some(chosen) = told.await.map_err(|_| "the folder dialog went away")? else {
        return Ok(None);
    };
    let dir = chosen.into_path().map_err(|e| e.to_string())?;
    let mut settings = state.settings.lock();
    settings.export_dir = Some(dir.clone());
    settings
        .save(&state.config_dir)
        .map_err(|e| e.to_string())?;
    Ok(Some(dir.display().to_string()))
}

/// Where exports go: `TICKSTREAM_EXPORT_DIR`, else the folder the user
/// chose, else Downloads.
fn export_dir(app: &AppHandle, state: &AppState) -> Result<std::path::PathBuf, String> {
    if let Some(dir) = std::env::var_os("TICKSTREAM_EXPORT_DIR") {
        return Ok(dir.into());
    }
    if let Some(dir) = state.settings.lock().export_dir.clone() {
        return Ok(dir);
    }
    app.path()
        .download_dir()
        .map_err(|e| format!("no Downloads folder: {e}"))
}

/// A native notification for alerts and critical market events.
fn notify(app: &AppHandle, event: &MarketEvent) {
    if event.kind == EventKind::Alert || event.level == EventLevel::Critical {
        let title = match &event.symbol {
            Some(symbol) => format!("Tickstream: {symbol}"),
            None => "Tickstream".to_owned(),
        };
        if let Err(error) = app
            .notification()
            .builder()
            .title(title)
            .body(&event.message)
            .show()
        {
            tracing::debug!(%error, "notification not shown");
        }
    }
}
