// The desktop app's About box (versions, directories, the log, update
// preferences) and its update dialog: a release found, its notes, the
// download's progress, then install and relaunch. A failure is said in the
// dialog and the app carries on.
import type { UpdateOffer } from './generated/UpdateOffer';
import type { UpdateProgress } from './generated/UpdateProgress';
import type { UpdateStatus } from './generated/UpdateStatus';
import { appInfo, checkForUpdate, installUpdate, onAppMenu, openLogFolder, setAutoUpdate, updateStatus } from './platform';

/** A byte count for people: `12.3 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/** What a step of the installation shows. */
export function progressText(progress: UpdateProgress): string {
  switch (progress.step) {
    case 'downloading':
      return progress.total ? `Downloading… ${formatBytes(progress.received)} of ${formatBytes(progress.total)}` : `Downloading… ${formatBytes(progress.received)}`;
    case 'installing':
      return 'Signature verified. Installing…';
    case 'relaunching':
      return 'Installed. Restarting…';
  }
}

/** The last check as one line: when, and what it found. */
export function lastCheckText(status: UpdateStatus): string {
  if (!status.last_check) return 'never';
  const when = new Date(status.last_check).toLocaleString();
  return status.last_result ? `${when}: ${status.last_result}` : when;
}

export class UpdateDialog {
  private readonly dialog: HTMLDialogElement;
  private readonly summary: HTMLElement;
  private readonly notes: HTMLElement;
  private readonly progress: HTMLProgressElement;
  private readonly message: HTMLElement;
  private readonly install: HTMLButtonElement;
  private readonly later: HTMLButtonElement;

  constructor(root: HTMLDialogElement) {
    this.dialog = root;
    this.summary = root.querySelector('#update-summary')!;
    this.notes = root.querySelector('#update-notes')!;
    this.progress = root.querySelector('#update-progress')!;
    this.message = root.querySelector('#update-message')!;
    this.install = root.querySelector('#update-install')!;
    this.later = root.querySelector('#update-later')!;
    this.install.addEventListener('click', () => void this.installNow());
  }

  /** Checks now and says what was found (or why nothing could be). */
  async check(): Promise<void> {
    this.reset('Checking for updates…');
    this.dialog.showModal();
    try {
      const offer = await checkForUpdate();
      if (offer) this.offer(offer);
      else this.summary.textContent = 'Tickstream is up to date.';
    } catch (error) {
      this.summary.textContent = 'The check did not work; Tickstream carries on as it is.';
      this.message.textContent = String(error);
    }
  }

  /** Shows a release found and offers to install it. */
  offer(offer: UpdateOffer): void {
    if (!this.dialog.open) {
      this.reset('');
      this.dialog.showModal();
    }
    const date = offer.date ? ` (released ${new Date(offer.date).toLocaleDateString()})` : '';
    this.summary.textContent = `Tickstream ${offer.version} is available${date}; this is ${offer.current_version}.`;
    this.notes.textContent = offer.notes ?? '';
    this.notes.hidden = !offer.notes;
    this.install.hidden = false;
  }

  private reset(summary: string): void {
    this.summary.textContent = summary;
    this.notes.hidden = true;
    this.progress.hidden = true;
    this.message.textContent = '';
    this.install.hidden = true;
    this.install.disabled = false;
    this.later.disabled = false;
  }

  private async installNow(): Promise<void> {
    this.install.disabled = true;
    this.later.disabled = true;
    this.progress.hidden = false;
    this.progress.removeAttribute('value');
    this.message.textContent = '';
    try {
      await installUpdate((step) => {
        this.summary.textContent = progressText(step);
        if (step.step === 'downloading' && step.total) this.progress.value = step.received / step.total;
      });
    } catch (error) {
      this.summary.textContent = 'The update was not installed; Tickstream carries on as it is.';
      this.message.textContent = String(error);
      this.progress.hidden = true;
      this.later.disabled = false;
      this.install.disabled = false;
    }
  }
}

export class AboutDialog {
  private readonly dialog: HTMLDialogElement;
  private readonly error: HTMLElement;
  private readonly auto: HTMLInputElement;

  constructor(root: HTMLDialogElement, opener: HTMLButtonElement, updates: UpdateDialog) {
    this.dialog = root;
    opener.hidden = false;
    opener.addEventListener('click', () => void this.open());
    this.error = root.querySelector('#about-error')!;
    this.auto = root.querySelector('#about-auto')!;
    this.auto.addEventListener('change', () => {
      setAutoUpdate(this.auto.checked).catch((error: unknown) => (this.error.textContent = String(error)));
    });
    root.querySelector('#about-log-folder')!.addEventListener('click', () => {
      openLogFolder().catch((error: unknown) => (this.error.textContent = String(error)));
    });
    root.querySelector('#about-check')!.addEventListener('click', () => {
      this.dialog.close();
      void updates.check();
    });
    onAppMenu({ about: () => void this.open(), checkUpdates: () => void updates.check(), updateFound: (offer) => updates.offer(offer) });
    // The check at start may have ended before this page listened.
    void updateStatus().then((status) => status.available && updates.offer(status.available));
  }

  async open(): Promise<void> {
    const [info, status] = await Promise.all([appInfo(), updateStatus()]);
    const set = (id: string, text: string) => (this.dialog.querySelector(`#${id}`)!.textContent = text);
    set('about-version', info.version);
    set('about-engine', info.engine);
    set('about-mode', info.mode);
    set('about-data', info.data_dir);
    set('about-log', info.log_file);
    set('about-channel', `${status.channel} channel${status.available ? `, ${status.available.version} available` : ''}`);
    set('about-last-check', lastCheckText(status));
    this.auto.checked = status.auto_check;
    this.error.textContent = '';
    this.dialog.showModal();
  }
}
