// What only the desktop app offers, in one place: whether the dashboard runs
// in the app's window, and the shell's native commands (an export written
// into Downloads, the data-source settings, the About box, updates). The rest of the dashboard never
// imports Tauri (the IPC transport aside); the browser build never calls these.
import { Channel, invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { AppInfo } from '../generated/AppInfo';
import type { EnteredSecrets } from '../generated/EnteredSecrets';
import type { Mode } from '../generated/Mode';
import type { SettingsView } from '../generated/SettingsView';
import type { Switched } from '../generated/Switched';
import type { UpdateOffer } from '../generated/UpdateOffer';
import type { UpdateProgress } from '../generated/UpdateProgress';
import type { UpdateStatus } from '../generated/UpdateStatus';

/** Whether the dashboard runs inside the desktop app. */
export function inDesktopApp(): boolean {
  return '__TAURI_INTERNALS__' in window;
}

/** Writes `contents` to `name` in the Downloads folder; resolves to the path. */
export function exportFile(name: string, contents: string): Promise<string> {
  return invoke<string>('export_file', { name, contents });
}

/** Asks for the folder exports go to (the system's dialog); resolves to it, or null when cancelled. */
export function chooseExportDir(): Promise<string | null> {
  return invoke<string | null>('choose_export_dir');
}

/** The data source and which secrets are set. */
export function currentSettings(): Promise<SettingsView> {
  return invoke<SettingsView>('settings');
}

/** Switches the data source; refused with the reason when the new one does not work. */
export function setMode(mode: Mode, secrets: EnteredSecrets): Promise<Switched> {
  return invoke<Switched>('set_mode', { mode, secrets });
}

/** Calls `open` when the app menu asks for the settings. */
export function onOpenSettings(open: () => void): void {
  void listen('open-settings', open);
}

/** Versions, mode, directories and the log file. */
export function appInfo(): Promise<AppInfo> {
  return invoke<AppInfo>('app_info');
}

/** Opens the log files' folder in the file manager. */
export function openLogFolder(): Promise<void> {
  return invoke('open_log_folder');
}

/** The update channel, automatic checks and the last check. */
export function updateStatus(): Promise<UpdateStatus> {
  return invoke<UpdateStatus>('update_status');
}

/** Asks the release host now; the newer release, or null when up to date. */
export function checkForUpdate(): Promise<UpdateOffer | null> {
  return invoke<UpdateOffer | null>('update_check');
}

/** Downloads, verifies and installs the release found, then the app restarts on it. */
export function installUpdate(onProgress: (progress: UpdateProgress) => void): Promise<void> {
  const channel = new Channel<UpdateProgress>();
  channel.onmessage = onProgress;
  return invoke('update_install', { progress: channel });
}

/** Turns the automatic update check on or off. */
export function setAutoUpdate(on: boolean): Promise<void> {
  return invoke('set_auto_update', { on });
}

/** Calls the handlers when the app menu asks for About or an update check,
 * and when the check at start found a release. */
export function onAppMenu(handlers: { about: () => void; checkUpdates: () => void; updateFound: (offer: UpdateOffer) => void }): void {
  void listen('open-about', handlers.about);
  void listen('check-updates', handlers.checkUpdates);
  void listen<UpdateOffer>('update-available', (event) => handlers.updateFound(event.payload));
}
