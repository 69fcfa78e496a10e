//! Generates Tauri's context and the permissions of the app's own commands.

fn main() {
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(
        tauri_build::AppManifest::new().commands(&[
            "request",
            "send",
            "stream_open",
            "stream_send",
            "stream_close",
            "settings",
            "set_mode",
            "app_info",
            "export_file",
            "choose_export_dir",
            "open_log_folder",
            "update_status",
            "update_check",
            "update_install",
            "set_auto_update",
        ]),
    ))
    .expect("tauri-build");
}
