// The watchlist panel: "All symbols" or a named watchlist kept by the
// engine (/api/v1/watchlists), sorted and filtered, with symbols added and
// removed; the cards show the result.
import { Cards } from './cards';
import type { Quote } from './generated/Quote';
import type { Watchlist } from './generated/Watchlist';
import { RequestError, type Transport } from './transport';

export type SortKey = 'symbol' | 'change-desc' | 'change-asc' | 'volume' | 'price';

/** The symbols to show: `symbols` filtered by `filter` (a substring, any case) and sorted by `key`. */
export function arrange(symbols: string[], quotes: Map<string, Quote>, filter: string, key: SortKey): string[] {
  const needle = filter.trim().toUpperCase();
  const shown = needle ? symbols.filter((s) => s.includes(needle)) : [...symbols];
  const q = (s: string) => quotes.get(s);
  const by: Record<SortKey, (a: string, b: string) => number> = {
    symbol: (a, b) => a.localeCompare(b),
    'change-desc': (a, b) => (q(b)?.change_percent ?? -Infinity) - (q(a)?.change_percent ?? -Infinity),
    'change-asc': (a, b) => (q(a)?.change_percent ?? Infinity) - (q(b)?.change_percent ?? Infinity),
    volume: (a, b) => (q(b)?.volume ?? 0) - (q(a)?.volume ?? 0),
    price: (a, b) => (q(b)?.price ?? 0) - (q(a)?.price ?? 0),
  };
  return shown.sort((a, b) => by[key](a, b) || a.localeCompare(b));
}

/** Least time between two redraws of the cards: a price shown 10 times a second is still live. */
const REDRAW_MS = 100;
/** How often a sort by a live value (change, volume, price) is redone. */
const RESORT_MS = 2_000;
const SORT_KEY = 'tickstream.sort';
const LIST_KEY = 'tickstream.watchlist';

export class WatchlistPanel {
  readonly cards: Cards;
  private lists: Watchlist[] = [];
  private current: Watchlist | null = null;
  private readonly select: HTMLSelectElement;
  private readonly filter: HTMLInputElement;
  private readonly sort: HTMLSelectElement;
  private readonly result: HTMLElement;
  private readonly createForm: HTMLFormElement;
  private readonly addForm: HTMLFormElement;
  private readonly deleteButton: HTMLButtonElement;
  /** When the order was last computed: sorting by a live value re-sorts every `RESORT_MS`. */
  private arrangedAt = 0;
  /** Symbols whose card waits for the next redraw. */
  private readonly changed = new Set<string>();
  private drawnAt = 0;

  constructor(
    root: HTMLElement,
    private readonly transport: Transport,
    private readonly quotes: Map<string, Quote>,
    onSelect: (symbol: string) => void,
  ) {
    const $ = <T extends Element>(selector: string) => root.querySelector<T>(selector)!;
    this.select = $('#watchlist-select');
    this.filter = $('#watchlist-filter');
    this.sort = $('#watchlist-sort');
    this.result = $('#watchlist-result');
    this.createForm = $('#watchlist-create');
    this.addForm = $('#watchlist-add');
    this.deleteButton = $('#watchlist-delete');
    this.cards = new Cards($('#cards'), onSelect, (symbol) => void this.removeSymbol(symbol));
    this.sort.value = localStorage.getItem(SORT_KEY) ?? 'symbol';
    this.select.addEventListener('change', () => this.choose(this.select.value));
    this.filter.addEventListener('input', () => this.arrange());
    this.sort.addEventListener('change', () => {
      localStorage.setItem(SORT_KEY, this.sort.value);
      this.arrange();
    });
    $('#watchlist-new').addEventListener('click', () => {
      this.createForm.hidden = false;
      this.createForm.querySelector('input')!.focus();
    });
    this.createForm.querySelector('[data-action="cancel"]')!.addEventListener('click', () => {
      this.createForm.hidden = true;
    });
    this.createForm.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.create(new FormData(this.createForm).get('name') as string);
    });
    this.addForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const input = this.addForm.querySelector('input')!;
      void this.addSymbol(input.value.trim().toUpperCase()).then((ok) => {
        if (ok) input.value = '';
      });
    });
    this.deleteButton.addEventListener('click', () => void this.deleteList());
  }

  /** The symbols of the list shown (before filtering). */
  symbols(): string[] {
    return this.current ? this.current.symbols : [...this.quotes.keys()];
  }

  /** The shown symbols, in order (for j/k). */
  order(): string[] {
    return this.cards.order();
  }

  /** Loads the watchlists from the engine and re-selects the remembered one. */
  async refresh(): Promise<void> {
    try {
      this.lists = (await this.transport.request<Watchlist[]>('watchlists')).data;
    } catch (error) {
      // A daemon without a store (e.g. an older one) still shows every symbol.
      this.say('error', error);
      this.lists = [];
    }
    this.renderOptions();
    this.choose(localStorage.getItem(LIST_KEY) ?? '');
  }

  /**
   * Quotes of `symbols` changed: their cards are redrawn at most every
   * `REDRAW_MS` (call once per frame), re-sorted when the sort depends on them.
   */
  update(symbols: Iterable<string>): void {
    for (const symbol of symbols) this.changed.add(symbol);
    if (this.changed.size === 0 || performance.now() - this.drawnAt < REDRAW_MS) return;
    this.drawnAt = performance.now();
    const quotes = [...this.changed].map((s) => this.quotes.get(s)).filter((q): q is Quote => q !== undefined);
    this.changed.clear();
    this.cards.update(quotes);
    const known = this.cards.order().length;
    const grew = !this.current && this.quotes.size !== known && !this.filter.value;
    const live = this.sort.value !== 'symbol' && performance.now() - this.arrangedAt > RESORT_MS;
    if (grew || live) this.arrange();
  }

  private renderOptions(): void {
    const options = [new Option('All symbols', ''), ...this.lists.map((l) => new Option(`${l.name} (${l.symbols.length})`, String(l.id)))];
    this.select.replaceChildren(...options);
    this.select.value = this.current ? String(this.current.id) : '';
  }

  private choose(id: string): void {
    this.current = this.lists.find((l) => String(l.id) === id) ?? null;
    this.select.value = this.current ? String(this.current.id) : '';
    if (this.current) localStorage.setItem(LIST_KEY, String(this.current.id));
    else localStorage.removeItem(LIST_KEY);
    this.addForm.hidden = this.current === null;
    this.deleteButton.hidden = this.current === null;
    this.arrange();
  }

  private arrange(): void {
    this.arrangedAt = performance.now();
    const symbols = arrange(this.symbols(), this.quotes, this.filter.value, this.sort.value as SortKey);
    this.cards.update(symbols.map((s) => this.quotes.get(s)).filter((q): q is Quote => q !== undefined));
    this.cards.show(symbols, this.current?.name ?? null);
  }

  private say(state: 'ok' | 'error', message: unknown): void {
    this.result.dataset.state = state;
    this.result.textContent = message instanceof RequestError ? message.message : String(message);
  }

  private async create(name: string): Promise<void> {
    try {
      const list = await this.transport.post<Watchlist>('watchlists', { name: name.trim(), symbols: [] });
      this.lists.push(list);
      this.createForm.hidden = true;
      this.createForm.reset();
      this.renderOptions();
      this.choose(String(list.id));
      this.say('ok', `Watchlist ${list.name} created: add symbols to it.`);
      this.addForm.querySelector('input')!.focus();
    } catch (error) {
      this.say('error', error);
    }
  }

  private async save(list: Watchlist): Promise<boolean> {
    try {
      const saved = await this.transport.send<Watchlist>('PUT', `watchlists/${list.id}`, list);
      this.lists = this.lists.map((l) => (l.id === saved.id ? saved : l));
      this.current = saved;
      this.renderOptions();
      this.arrange();
      return true;
    } catch (error) {
      this.say('error', error);
      return false;
    }
  }

  private async addSymbol(symbol: string): Promise<boolean> {
    const list = this.current;
    if (!list || symbol === '') return false;
    if (list.symbols.includes(symbol)) {
      this.say('error', `${symbol} is already in ${list.name}.`);
      return false;
    }
    const ok = await this.save({ ...list, symbols: [...list.symbols, symbol] });
    if (ok) this.say('ok', `${symbol} added to ${list.name}.`);
    return ok;
  }

  private async removeSymbol(symbol: string): Promise<void> {
    const list = this.current;
    if (!list) return;
    if (await this.save({ ...list, symbols: list.symbols.filter((s) => s !== symbol) })) {
      this.say('ok', `${symbol} removed from ${list.name}.`);
    }
  }

  private async deleteList(): Promise<void> {
    const list = this.current;
    if (!list) return;
    try {
      await this.transport.send<null>('DELETE', `watchlists/${list.id}`);
      this.lists = this.lists.filter((l) => l.id !== list.id);
      this.renderOptions();
      this.choose('');
      this.say('ok', `Watchlist ${list.name} deleted.`);
    } catch (error) {
      this.say('error', error);
    }
  }
}
