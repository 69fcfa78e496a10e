//! Tickstream's desktop shell: the dashboard in a native window, talking to
//! the bundled engine over IPC (commands for requests and control, a
//! channel per live stream). Three modes, switched at run time from the
//! dashboard's settings: offline simulation, a Kafka cluster, a remote
//! `tickstreamd`. Native parts: tray, notifications for critical market
//! events, remembered window geometry, a single instance, an About box,
//! signed updates, a rotating log file. Closing flushes the store.

mod backend;
mod commands;
mod logging;
mod secrets;
mod settings;
mod stream;
mod tray;
mod update;

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU32},
    },
};

use parking_lot::Mutex;
use tauri::{Manager, RunEvent};
use tokio::sync::{RwLock, mpsc};

use crate::{backend::Backend, secrets::Secrets, settings::Settings};

/// Everything the commands share.
pub struct AppState {
    /// The source of data, replaced when the mode changes.
    backend: RwLock<Option<Backend>>,
    /// The persisted settings, with the mode running now.
    settings: Mutex<Settings>,
    secrets: Secrets,
    /// Open live streams: what the webview sends to each.
    streams: Mutex<HashMap<u32, mpsc::Sender<String>>>,
    next_stream: AtomicU32,
    /// The tray's "Pause stream".
    paused: Arc<AtomicBool>,
    config_dir: PathBuf,
    data_dir: PathBuf,
}

/// Runs the app until it quits.
///
/// # Panics
/// When the window system or the webview cannot start.
pub fn run() {
    software_rendering_without_gpu();
    fewer_malloc_arenas();
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            tray::show(app);
        }))
        .plugin(logging::plugin())
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_updater::Builder::new().build())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_dialog::init())
        .invoke_handler(tauri::generate_handler![
            commands::request,
            commands::send,
            commands::stream_open,
            commands::stream_send,
            commands::stream_close,
            commands::settings,
            commands::set_mode,
            commands::app_info,
            commands::export_file,
            commands::choose_export_dir,
            commands::open_log_folder,
            update::update_status,
            update::update_check,
            update::update_install,
            update::set_auto_update,
        ])
        .setup(|app| {
            let paths = app.path();
            let config_dir = std::env::var_os("TICKSTREAM_CONFIG_DIR")
                .map(PathBuf::from)
                .map_or_else(|| paths.app_config_dir(), Ok)?;
            let data_dir = std::env::var_os("TICKSTREAM_DATA_DIR")
                .map(PathBuf::from)
                .map_or_else(|| paths.app_data_dir(), Ok)?;
            let settings = Settings::load(&config_dir);
            let state = AppState {
                backend: RwLock::new(None),
                settings: Mutex::new(settings.clone()),
                secrets: Secrets::default(),
                streams: Mutex::new(HashMap::new()),
                next_stream: AtomicU32::new(1),
                paused: Arc::new(AtomicBool::new(false)),
                config_dir,
                data_dir,
            };
            app.manage(state);
            app.manage(update::Pending::default());
            tracing::info!(
                version = %app.package_info().version,
                log = %logging::file(app.handle()).display(),
                "Tickstream starting"
            );
            app.set_menu(tray::app_menu(app.handle())?)?;
            tray::install(app.handle())?;
            // Start the saved mode; if it fails, fall back to offline and say why.
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                commands::start_saved(&handle, settings.mode).await;
                update::check_when_due(&handle);
            });
            Ok(())
        })
        .build(tauri::generate_context!())
        .expect("the app starts");
    app.run(|handle, event| {
        if let RunEvent::Exit = event {
            // Flush the store before the process goes.
            let state = handle.state::<AppState>();
            state.streams.lock().clear();
            let backend = tauri::async_runtime::block_on(state.backend.write()).take();
            if let Some(backend) = backend {
                tauri::async_runtime::block_on(backend.shutdown());
            }
        }
    });
}

/// Caps glibc's allocator at two arenas (unless `MALLOC_ARENA_MAX` says
/// otherwise): by default each of the engine's threads may get one, and the
/// memory they keep free but do not return was about 7 of the app's 65 MiB
/// of anonymous memory when idle (see `cargo xtask bench`, desktop.json).
fn fewer_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: called first thing in `run`, before any thread is started;
        // mallopt only sets one of the allocator's parameters.
        unsafe { libc::mallopt(libc::M_ARENA_MAX, 2) };
    }
}

/// Without a GPU (no DRM device: a VM, a remote desktop, Xvfb), WebKitGTK's
/// accelerated compositing runs on a software GL and costs the web process
/// several times the CPU and memory of plain software painting: turn it off
/// there, unless the user decided (`WEBKIT_DISABLE_COMPOSITING_MODE` set).
fn software_rendering_without_gpu() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none()
        && !std::path::Path::new("/dev/dri").exists()
    {
        // SAFETY: called first thing in `run`, before any thread is started.
        unsafe { std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1") };
    }
}
