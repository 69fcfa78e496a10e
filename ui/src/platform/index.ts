// What only the desktop app offers, in one place: whether the dashboard runs
// in the app's window, and the shell's native commands (an export written
// into Downloads, the data-source settings). The rest of the dashboard never
// imports Tauri (the IPC transport aside); the browser build never calls these.
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { EnteredSecrets } from '../generated/EnteredSecrets';
import type { Mode } from '../generated/Mode';
import type { SettingsView } from '../generated/SettingsView';
import type { Switched } from '../generated/Switched';

/** Whether the dashboard runs inside the desktop app. */
export function inDesktopApp(): boolean {
  return '__TAURI_INTERNALS__' in window;
}

/** Writes `contents` to `name` in the Downloads folder; resolves to the path. */
export function exportFile(name: string, contents: string): Promise<string> {
  return invoke<string>('export_file', { name, contents });
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
