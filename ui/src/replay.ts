// Replay: a stored range played back in place of the live market. The form
// opens one (POST /api/v1/replays, paused), the dashboard then streams it
// and charts as of its clock; the controls steer it (play, pause, step,
// seek, speed) and "Back to live" deletes it.
import type { ReplayCommand } from './generated/ReplayCommand';
import type { ReplayStatus } from './generated/ReplayStatus';
import { Poller } from './poller';
import { RequestError, type Transport } from './transport';

/** How often the status (clock, state) is read while a replay runs. */
const STATUS_EVERY_MS = 250;

/** `datetime-local` text (local time) as an RFC 3339 UTC time. */
export function fromLocalInput(text: string): string | null {
  const time = new Date(text);
  return text === '' || Number.isNaN(time.getTime()) ? null : time.toISOString();
}

/** A time as `datetime-local` text, to the second, in local time. */
export function toLocalInput(time: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${time.getFullYear()}-${pad(time.getMonth() + 1)}-${pad(time.getDate())}T${pad(time.getHours())}:${pad(time.getMinutes())}:${pad(time.getSeconds())}`;
}

export class ReplayPanel {
  private readonly form: HTMLFormElement;
  private readonly controls: HTMLElement;
  private readonly toggle: HTMLButtonElement;
  private readonly seek: HTMLInputElement;
  private readonly speed: HTMLSelectElement;
  private readonly status: HTMLElement;
  private readonly result: HTMLElement;
  private current: ReplayStatus | null = null;
  private readonly poller = new Poller(STATUS_EVERY_MS, () => this.refresh());

  constructor(
    root: HTMLElement,
    private readonly transport: Transport,
    /** Called when the dashboard's source changes (a replay's id, or null for live) or a replay starts afresh (a seek): charts reload. */
    private readonly onSource: (replay: number | null) => void,
  ) {
    this.form = root.querySelector('form')!;
    this.controls = root.querySelector('#replay-controls')!;
    this.toggle = root.querySelector('#replay-toggle')!;
    this.seek = root.querySelector('#replay-seek')!;
    this.speed = root.querySelector('#replay-speed')!;
    this.status = root.querySelector('#replay-status')!;
    this.result = root.querySelector('#replay-result')!;
    // The last five minutes up to when it starts (an empty `to` is now).
    this.input('from').value = toLocalInput(new Date(Date.now() - 5 * 60_000));
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.start();
    });
    this.toggle.addEventListener('click', () => void this.command({ action: this.current?.state === 'playing' ? 'pause' : 'play' }));
    root.querySelector('#replay-step')!.addEventListener('click', () => void this.command({ action: 'step', ticks: 1 }));
    this.speed.addEventListener('change', () => void this.command({ action: 'speed', speed: this.speed.value }));
    this.seek.addEventListener('change', () => void this.seekTo(Number(this.seek.value)));
    root.querySelector('#replay-live')!.addEventListener('click', () => void this.stop());
  }

  /** The replay streamed, if any. */
  replay(): number | null {
    return this.current?.id ?? null;
  }

  private input(name: string): HTMLInputElement {
    return this.form.elements.namedItem(name) as HTMLInputElement;
  }

  private async start(): Promise<void> {
    const from = fromLocalInput(this.input('from').value);
    const to = fromLocalInput(this.input('to').value);
    if (!from) {
      this.say('error', 'from: choose when the replay starts');
      return;
    }
    try {
      const opened = await this.transport.post<ReplayStatus>('replays', {
        from,
        ...(to ? { to } : {}),
        speed: (this.form.elements.namedItem('speed') as HTMLSelectElement).value,
        paused: true,
      });
      if (this.current) await this.transport.send('DELETE', `replays/${this.current.id}`).catch(() => undefined);
      this.show(opened);
      this.transport.useReplay(opened.id);
      this.onSource(opened.id);
      this.poller.setActive(true);
      this.say('ok', `Replay ${opened.id} ready: press Play, or Step through it.`);
    } catch (error) {
      this.say('error', error instanceof RequestError ? error.message : String(error));
    }
  }

  private async command(command: ReplayCommand): Promise<void> {
    if (!this.current) return;
    try {
      this.show(await this.transport.post<ReplayStatus>(`replays/${this.current.id}/control`, command));
      this.say('ok', '');
    } catch (error) {
      this.say('error', error instanceof RequestError ? error.message : String(error));
    }
  }

  private async seekTo(millis: number): Promise<void> {
    if (!this.current) return;
    await this.command({ action: 'seek', to: new Date(millis).toISOString() });
    // The stream starts afresh there: charts reload as of the new clock.
    this.onSource(this.current.id);
  }

  /** Deletes the replay and goes back to the live market. */
  private async stop(): Promise<void> {
    const replay = this.current;
    this.current = null;
    this.poller.setActive(false);
    this.controls.hidden = true;
    this.transport.useReplay(null);
    this.onSource(null);
    this.say('ok', '');
    if (replay) await this.transport.send('DELETE', `replays/${replay.id}`).catch(() => undefined);
  }

  private async refresh(): Promise<void> {
    if (!this.current) return;
    try {
      this.show((await this.transport.request<ReplayStatus>(`replays/${this.current.id}`)).data);
    } catch (error) {
      // Deleted elsewhere (or the daemon restarted): back to live.
      if (error instanceof RequestError && error.code === 'not_found') void this.stop();
    }
  }

  private show(status: ReplayStatus): void {
    this.current = status;
    this.controls.hidden = false;
    const clock = new Date(status.clock);
    this.toggle.textContent = status.state === 'playing' ? 'Pause' : 'Play';
    this.toggle.disabled = status.state === 'completed';
    this.seek.min = String(Date.parse(status.from));
    this.seek.max = String(Date.parse(status.to));
    if (document.activeElement !== this.seek) this.seek.value = String(clock.getTime());
    if (document.activeElement !== this.speed) this.speed.value = status.speed;
    this.status.dataset.state = status.state;
    this.status.textContent = `Replay ${status.id} · ${status.state} · ${clock.toLocaleString()} · ${status.ticks.toLocaleString()} ticks`;
  }

  private say(kind: 'ok' | 'error', message: string): void {
    this.result.dataset.state = kind;
    this.result.textContent = message;
  }
}
