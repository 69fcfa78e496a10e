//! The system tray (connection state, pause/resume the stream, show/hide,
//! quit) and the app menu (About, which the dashboard draws: versions,
//! directories, log, updates; Check for Updates; Settings; Quit).

use std::sync::atomic::Ordering;

use tauri::{
    AppHandle, Emitter, Manager, Wry,
    menu::{Menu, MenuItem, PredefinedMenuItem, Submenu},
    tray::TrayIconBuilder,
};

use crate::AppState;

const TRAY: &str = "tickstream";

/// The window's menu.
///
/// # Errors
/// When the platform refuses the menu.
pub fn app_menu(app: &AppHandle) -> tauri::Result<Menu<Wry>> {
    let about = MenuItem::with_id(app, "about", "About Tickstream", true, None::<&str>)?;
    let updates = MenuItem::with_id(app, "updates", "Check for Updates…", true, None::<&str>)?;
    let settings = MenuItem::with_id(app, "settings", "Settings…", true, Some("CmdOrCtrl+,"))?;
    let file = Submenu::with_items(
        app,
        "Tickstream",
        true,
        &[
            &about,
            &updates,
            &settings,
            &PredefinedMenuItem::separator(app)?,
            &PredefinedMenuItem::quit(app, Some("Quit"))?,
        ],
    )?;
    let menu = Menu::with_items(app, &[&file])?;
    app.on_menu_event(|app, event| {
        // The dashboard opens the dialog each one names.
        let dialog = match event.id().as_ref() {
            "about" => "open-about",
            "updates" => "check-updates",
            "settings" => "open-settings",
            _ => return,
        };
        show(app);
        let _ = app.emit(dialog, ());
    });
    Ok(menu)
}

/// Puts the tray icon up.
///
/// # Errors
/// When the platform has no tray or refuses it.
pub fn install(app: &AppHandle) -> tauri::Result<()> {
    let status = MenuItem::with_id(app, "status", "Starting…", false, None::<&str>)?;
    let pause = MenuItem::with_id(app, "pause", "Pause stream", true, None::<&str>)?;
    let toggle = MenuItem::with_id(app, "toggle", "Hide window", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit Tickstream", true, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[
            &status,
            &PredefinedMenuItem::separator(app)?,
            &pause,
            &toggle,
            &PredefinedMenuItem::separator(app)?,
            &quit,
        ],
    )?;
    let mut tray = TrayIconBuilder::with_id(TRAY)
        .tooltip("Tickstream")
        .menu(&menu)
        .on_menu_event(move |app, event| match event.id().as_ref() {
            "pause" => {
                let paused = &app.state::<AppState>().paused;
                let now_paused = !paused.fetch_xor(true, Ordering::Relaxed);
                let _ = pause.set_text(if now_paused {
                    "Resume stream"
                } else {
                    "Pause stream"
                });
            }
            "toggle" => {
                if let Some(window) = app.get_webview_window("main") {
                    let visible = window.is_visible().unwrap_or(true);
                    let _ = if visible {
                        window.hide()
                    } else {
                        window.show()
                    };
                    let _ = toggle.set_text(if visible {
                        "Show window"
                    } else {
                        "Hide window"
                    });
                }
            }
            "quit" => app.exit(0),
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    let tray = tray.build(app)?;
    // The status line is the tray menu's first item.
    app.manage(TrayStatus { item: status });
    let _ = tray;
    Ok(())
}

/// The tray's status line.
struct TrayStatus {
    item: MenuItem<Wry>,
}

/// Shows `text` as the connection state, in the tray and its tooltip.
pub fn set_status(app: &AppHandle, text: &str) {
    if let Some(status) = app.try_state::<TrayStatus>() {
        let _ = status.item.set_text(text);
    }
    if let Some(tray) = app.tray_by_id(TRAY) {
        let _ = tray.set_tooltip(Some(format!("Tickstream — {text}")));
    }
}

/// Brings the window to the front.
pub fn show(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}
