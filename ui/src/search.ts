// Symbol search: a combobox over every known symbol (prefix matches
// first), `/` to focus it, arrows to move, Enter to chart the pick.
import { formatPercent, formatPrice } from './format';
import type { Quote } from './generated/Quote';

/** Most results listed. */
const MAX_RESULTS = 8;

/** Symbols matching `text`: those starting with it first, then those containing it, each alphabetical. */
export function searchSymbols(symbols: Iterable<string>, text: string, limit = MAX_RESULTS): string[] {
  const needle = text.trim().toUpperCase();
  if (!needle) return [];
  const starts: string[] = [];
  const contains: string[] = [];
  for (const s of symbols) {
    if (s.startsWith(needle)) starts.push(s);
    else if (s.includes(needle)) contains.push(s);
  }
  return [...starts.sort(), ...contains.sort()].slice(0, limit);
}

export class SymbolSearch {
  private results: string[] = [];
  private active = -1;

  constructor(
    private readonly input: HTMLInputElement,
    private readonly list: HTMLUListElement,
    private readonly quotes: Map<string, Quote>,
    private readonly onPick: (symbol: string) => void,
  ) {
    input.addEventListener('input', () => this.render());
    input.addEventListener('keydown', (event) => this.key(event));
    input.addEventListener('blur', () => setTimeout(() => this.close(), 150));
  }

  focus(): void {
    this.input.focus();
    this.input.select();
  }

  private key(event: KeyboardEvent): void {
    switch (event.key) {
      case 'ArrowDown':
        event.preventDefault();
        this.move(1);
        break;
      case 'ArrowUp':
        event.preventDefault();
        this.move(-1);
        break;
      case 'Enter': {
        event.preventDefault();
        const pick = this.results[Math.max(this.active, 0)];
        if (pick) this.pick(pick);
        break;
      }
      case 'Escape':
        this.input.value = '';
        this.close();
        this.input.blur();
        break;
      default:
        break;
    }
  }

  private move(by: number): void {
    if (this.results.length === 0) return;
    this.active = (this.active + by + this.results.length) % this.results.length;
    this.highlight();
  }

  private pick(symbol: string): void {
    this.input.value = '';
    this.close();
    this.onPick(symbol);
  }

  private close(): void {
    this.results = [];
    this.active = -1;
    this.list.hidden = true;
    this.input.setAttribute('aria-expanded', 'false');
    this.input.removeAttribute('aria-activedescendant');
  }

  private render(): void {
    this.results = searchSymbols(this.quotes.keys(), this.input.value);
    this.active = this.results.length > 0 ? 0 : -1;
    if (this.input.value.trim() === '') {
      this.close();
      return;
    }
    const items = this.results.map((symbol, i) => {
      const item = document.createElement('li');
      item.id = `search-result-${i}`;
      item.setAttribute('role', 'option');
      item.dataset.symbol = symbol;
      const q = this.quotes.get(symbol);
      item.innerHTML = '<span class="search-symbol"></span><span class="search-price"></span>';
      item.firstElementChild!.textContent = symbol;
      item.lastElementChild!.textContent = q ? `${formatPrice(q.price)} ${formatPercent(q.change_percent)}` : '';
      item.addEventListener('mousedown', (event) => {
        event.preventDefault();
        this.pick(symbol);
      });
      return item;
    });
    if (items.length === 0) {
      const none = document.createElement('li');
      none.className = 'empty';
      none.setAttribute('role', 'option');
      none.setAttribute('aria-disabled', 'true');
      none.textContent = `No symbol matches “${this.input.value.trim()}”`;
      items.push(none);
    }
    this.list.replaceChildren(...items);
    this.list.hidden = false;
    this.input.setAttribute('aria-expanded', 'true');
    this.highlight();
  }

  private highlight(): void {
    [...this.list.children].forEach((item, i) => item.setAttribute('aria-selected', String(i === this.active)));
    if (this.active >= 0) this.input.setAttribute('aria-activedescendant', `search-result-${this.active}`);
    else this.input.removeAttribute('aria-activedescendant');
  }
}
