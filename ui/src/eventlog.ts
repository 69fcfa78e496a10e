// The market events and activity log: alerts, halts, news shocks,
// scenarios and connection changes, newest first; filtered by level, type
// and text; exported as CSV or JSON (what the filters show).
import type { MarketEvent } from './generated/MarketEvent';
import { saveFile } from './save';

/** Most events kept. */
export const KEPT_EVENTS = 2_000;
/** Most events drawn (the newest that pass the filters). */
const DRAWN = 300;

export interface EventFilter {
  level: string;
  kind: string;
  text: string;
}

/** Whether an event passes the filters (empty = any; text matches message, symbol or kind, any case). */
export function matches(event: MarketEvent, filter: EventFilter): boolean {
  if (filter.level && event.level !== filter.level) return false;
  if (filter.kind && event.kind !== filter.kind) return false;
  const needle = filter.text.trim().toLowerCase();
  if (!needle) return true;
  return [event.message, event.symbol ?? '', event.kind].some((field) => field.toLowerCase().includes(needle));
}

const CSV_COLUMNS = ['timestamp', 'level', 'kind', 'symbol', 'message'] as const;

/** Events as CSV (RFC 4180: fields with commas, quotes or line breaks quoted, quotes doubled). */
export function toCsv(events: MarketEvent[]): string {
  const field = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
  const lines = events.map((e) => CSV_COLUMNS.map((c) => field(String(e[c] ?? ''))).join(','));
  return [CSV_COLUMNS.join(','), ...lines].join('\r\n') + '\r\n';
}

export class EventLog {
  /** Oldest first. */
  private events: MarketEvent[] = [];
  private readonly kinds = new Set<string>();
  private unseen = 0;

  constructor(
    private readonly list: HTMLOListElement,
    private readonly level: HTMLSelectElement,
    private readonly kind: HTMLSelectElement,
    private readonly search: HTMLInputElement,
    private readonly badge: HTMLElement,
    private readonly result: HTMLElement,
    csv: HTMLButtonElement,
    json: HTMLButtonElement,
    private readonly visible: () => boolean,
  ) {
    for (const control of [level, kind]) control.addEventListener('change', () => this.render());
    search.addEventListener('input', () => this.render());
    csv.addEventListener('click', () => void this.export('csv'));
    json.addEventListener('click', () => void this.export('json'));
  }

  add(event: MarketEvent): void {
    this.events.push(event);
    if (this.events.length > KEPT_EVENTS) this.events.splice(0, this.events.length - KEPT_EVENTS);
    if (!this.kinds.has(event.kind)) {
      this.kinds.add(event.kind);
      const current = this.kind.value;
      const options = [...this.kinds].sort().map((k) => new Option(k.replaceAll('_', ' '), k));
      this.kind.replaceChildren(new Option('All', ''), ...options);
      this.kind.value = current;
    }
    if (!this.visible()) {
      this.unseen += 1;
      this.badge.textContent = String(this.unseen);
    }
    if (matches(event, this.filter())) this.list.prepend(item(event));
    this.list.querySelector('.empty')?.remove();
    while (this.list.children.length > DRAWN) this.list.lastElementChild!.remove();
  }

  /** Opening the tab clears the badge. */
  setVisible(shown: boolean): void {
    if (!shown) return;
    this.unseen = 0;
    this.badge.textContent = '';
  }

  /** The events the filters pass, oldest first. */
  shown(): MarketEvent[] {
    const filter = this.filter();
    return this.events.filter((e) => matches(e, filter));
  }

  private filter(): EventFilter {
    return { level: this.level.value, kind: this.kind.value, text: this.search.value };
  }

  private render(): void {
    const shown = this.shown().slice(-DRAWN).reverse();
    if (shown.length === 0) {
      const empty = document.createElement('li');
      empty.className = 'empty';
      empty.textContent = this.events.length === 0 ? 'No market events yet.' : 'No events match the filters.';
      this.list.replaceChildren(empty);
      return;
    }
    this.list.replaceChildren(...shown.map(item));
  }

  private async export(format: 'csv' | 'json'): Promise<void> {
    const events = this.shown();
    const stamp = new Date().toISOString().replaceAll(':', '-').slice(0, 19);
    const name = `tickstream-events-${stamp}.${format}`;
    const [type, text] =
      format === 'csv' ? ['text/csv', toCsv(events)] : ['application/json', JSON.stringify(events, null, 2) + '\n'];
    try {
      this.result.textContent = `${await saveFile(name, type, text)} (${events.length} events)`;
    } catch (error) {
      this.result.textContent = `Export failed: ${String(error)}`;
    }
  }
}

function item(event: MarketEvent): HTMLLIElement {
  const item = document.createElement('li');
  item.className = 'event';
  item.dataset.kind = event.kind;
  item.dataset.level = event.level;
  const time = document.createElement('time');
  time.dateTime = event.timestamp;
  time.textContent = event.timestamp.slice(11, 19);
  const level = document.createElement('span');
  level.className = 'event-level';
  level.textContent = event.level;
  const kind = document.createElement('span');
  kind.className = 'event-kind';
  kind.textContent = event.kind.replaceAll('_', ' ');
  const message = document.createElement('span');
  message.textContent = event.message;
  item.append(time, level, kind, message);
  return item;
}
