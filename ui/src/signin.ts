// The browser dashboard's sign-in: when the daemon wants an API key (a 401,
// or a stream closed with 4401), a dialog asks for one, checks it, keeps it
// for the tab's session and reloads; "Sign out" forgets it.
import { apiKey, clearApiKey, onKeyRefused, setApiKey, verifyKey } from './transport/credentials';

export class SignIn {
  private readonly form: HTMLFormElement;
  private readonly input: HTMLInputElement;
  private readonly reason: HTMLElement;
  private readonly error: HTMLElement;

  constructor(
    private readonly dialog: HTMLDialogElement,
    signOut: HTMLButtonElement,
    private readonly base: URL,
  ) {
    this.form = dialog.querySelector('form')!;
    this.input = dialog.querySelector<HTMLInputElement>('input[name="key"]')!;
    this.reason = dialog.querySelector<HTMLElement>('[data-role="reason"]')!;
    this.error = dialog.querySelector<HTMLElement>('[role="alert"]')!;
    signOut.hidden = apiKey() === null;
    signOut.addEventListener('click', () => {
      clearApiKey();
      window.location.reload();
    });
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.submit();
    });
    onKeyRefused((message) => this.ask(message));
  }

  /** Opens the dialog, saying why a key is needed. */
  ask(message: string): void {
    document.body.dataset.auth = 'required';
    this.reason.textContent = apiKey() === null
      ? 'This Tickstream daemon needs an API key.'
      : `The daemon refused the key: ${message}`;
    if (!this.dialog.open) this.dialog.showModal();
    this.input.focus();
  }

  private async submit(): Promise<void> {
    const key = this.input.value.trim();
    if (!key) {
      this.error.textContent = 'Enter an API key.';
      return;
    }
    this.error.textContent = 'Checking…';
    try {
      const refused = await verifyKey(this.base, key);
      if (refused) {
        this.error.textContent = refused.message;
        return;
      }
    } catch (error) {
      this.error.textContent = `Cannot reach the daemon: ${String(error)}`;
      return;
    }
    setApiKey(key);
    window.location.reload();
  }
}
