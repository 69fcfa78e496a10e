// The desktop app's settings: where the data comes from (offline
// simulation, a Kafka cluster, a remote tickstreamd), switched at run time.
// A failed switch says why and leaves the current data on screen.
import type { EnteredSecrets } from './generated/EnteredSecrets';
import type { Mode } from './generated/Mode';
import { chooseExportDir, currentSettings, onOpenSettings, setMode } from './platform';


/** `key=value` lines (blank lines and `#` comments skipped) as properties. */
export function parseProperties(text: string): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const at = line.indexOf('=');
    if (at <= 0) throw new Error(`"${line}" is not key=value`);
    properties[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return properties;
}

export class SettingsDialog {
  private readonly dialog: HTMLDialogElement;
  private readonly form: HTMLFormElement;
  private readonly error: HTMLElement;

  constructor(root: HTMLDialogElement, opener: HTMLButtonElement) {
    this.dialog = root;
    this.form = root.querySelector('form')!;
    this.error = root.querySelector('#settings-error')!;
    opener.hidden = false;
    opener.addEventListener('click', () => void this.open());
    onOpenSettings(() => void this.open());
    for (const radio of this.form.querySelectorAll<HTMLInputElement>('input[name="mode"]')) {
      radio.addEventListener('change', () => this.showFields());
    }
    root.querySelector('#settings-cancel')!.addEventListener('click', () => this.dialog.close());
    root.querySelector('#settings-export-choose')!.addEventListener('click', () => {
      chooseExportDir()
        .then((dir) => {
          if (dir) this.form.querySelector('#settings-export-dir')!.textContent = dir;
        })
        .catch((error: unknown) => (this.error.textContent = String(error)));
    });
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.apply();
    });
  }

  async open(): Promise<void> {
    const view = await currentSettings();
    const field = (name: string) => this.form.elements.namedItem(name) as HTMLInputElement;
    field('mode').value = view.mode.mode;
    for (const radio of this.form.querySelectorAll<HTMLInputElement>('input[name="mode"]')) {
      radio.checked = radio.value === view.mode.mode;
    }
    if (view.mode.mode === 'kafka') {
      field('brokers').value = view.mode.brokers;
      (this.form.elements.namedItem('properties') as HTMLTextAreaElement).value = Object.entries(view.mode.properties)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n');
      field('produce').checked = view.mode.produce;
    }
    if (view.mode.mode === 'remote') {
      field('url').value = view.mode.url;
      field('ca').value = view.mode.ca ?? '';
    }
    field('password').placeholder = view.secrets_set.includes('kafka:sasl.password') ? 'saved in the keychain' : '';
    field('api_key').placeholder = view.secrets_set.includes('remote:api_key') ? 'saved in the keychain' : 'none';
    this.form.querySelector('#settings-data-dir')!.textContent = view.data_dir;
    this.form.querySelector('#settings-export-dir')!.textContent = view.export_dir;
    this.error.textContent = '';
    delete this.error.dataset.state;
    this.showFields();
    this.dialog.showModal();
  }

  private selected(): Mode['mode'] {
    return (this.form.querySelector<HTMLInputElement>('input[name="mode"]:checked')?.value ?? 'offline') as Mode['mode'];
  }

  private showFields(): void {
    const mode = this.selected();
    for (const group of this.form.querySelectorAll<HTMLElement>('[data-mode]')) group.hidden = group.dataset.mode !== mode;
  }

  private async apply(): Promise<void> {
    const field = (name: string) => this.form.elements.namedItem(name) as HTMLInputElement;
    const kind = this.selected();
    const secrets: EnteredSecrets = { kafka: {} };
    let mode: Mode;
    try {
      if (kind === 'kafka') {
        const properties = parseProperties((this.form.elements.namedItem('properties') as HTMLTextAreaElement).value);
        mode = { mode: 'kafka', brokers: field('brokers').value.trim(), properties, produce: field('produce').checked };
        if (field('password').value) secrets.kafka['sasl.password'] = field('password').value;
      } else if (kind === 'remote') {
        const ca = field('ca').value.trim();
        mode = { mode: 'remote', url: field('url').value.trim(), ...(ca ? { ca } : {}) };
        if (field('api_key').value) secrets.api_key = field('api_key').value;
      } else {
        mode = { mode: 'offline' };
      }
    } catch (error) {
      this.error.textContent = error instanceof Error ? error.message : String(error);
      return;
    }
    const button = this.form.querySelector<HTMLButtonElement>('button[type="submit"]')!;
    button.disabled = true;
    this.error.textContent = 'Connecting…';
    try {
      const switched = await setMode(mode, secrets);
      if (switched.warnings.length > 0) {
        // Say it before the page starts afresh; the user moves on.
        this.error.textContent = `Connected to ${switched.mode}. ${switched.warnings.join(' ')}`;
        this.error.dataset.state = 'warning';
        const cancel = this.form.querySelector<HTMLButtonElement>('#settings-cancel')!;
        cancel.textContent = 'Continue';
        cancel.addEventListener('click', () => window.location.reload(), { once: true });
        return;
      }
      // Everything on screen belongs to the old source: start afresh.
      window.location.reload();
    } catch (error) {
      this.error.textContent = String(error);
    } finally {
      button.disabled = false;
    }
  }
}
