// The symbol cards: price, change since the session open, trend and a
// sparkline per symbol. Only cards whose quote changed are redrawn.
import type { Quote } from './generated/Quote';
import { formatChange, formatPercent, formatPrice, formatVolume } from './format';

const SPARK_POINTS = 60;

interface Card {
  root: HTMLButtonElement;
  price: HTMLElement;
  change: HTMLElement;
  volume: HTMLElement;
  spark: SVGPolylineElement;
  history: number[];
  last: number | null;
}

export class Cards {
  private cards = new Map<string, Card>();
  private selected: string | null = null;

  constructor(
    private readonly container: HTMLElement,
    private readonly onSelect: (symbol: string) => void,
  ) {}

  /** Draws the given quotes (new symbols get a card, in symbol order). */
  update(quotes: Iterable<Quote>): void {
    for (const quote of quotes) {
      const card = this.cards.get(quote.symbol) ?? this.create(quote.symbol);
      this.draw(card, quote);
    }
  }

  select(symbol: string): void {
    this.selected = symbol;
    for (const [s, card] of this.cards) card.root.setAttribute('aria-pressed', String(s === symbol));
  }

  private create(symbol: string): Card {
    if (this.cards.size === 0) this.container.replaceChildren();
    const root = document.createElement('button');
    root.type = 'button';
    root.className = 'card';
    root.dataset.symbol = symbol;
    root.setAttribute('aria-pressed', String(symbol === this.selected));
    root.innerHTML = `
      <span class="card-symbol"></span>
      <span class="card-price" data-testid="price"></span>
      <span class="card-change"></span>
      <svg class="card-spark" viewBox="0 0 100 28" preserveAspectRatio="none" aria-hidden="true"><polyline points="" /></svg>
      <span class="card-volume"></span>`;
    root.querySelector('.card-symbol')!.textContent = symbol;
    root.addEventListener('click', () => this.onSelect(symbol));
    const card: Card = {
      root,
      price: root.querySelector('.card-price')!,
      change: root.querySelector('.card-change')!,
      volume: root.querySelector('.card-volume')!,
      spark: root.querySelector('polyline')!,
      history: [],
      last: null,
    };
    this.cards.set(symbol, card);
    const after = [...this.cards.keys()].sort().find((s) => s > symbol);
    this.container.insertBefore(root, after ? this.cards.get(after)!.root : null);
    return card;
  }

  private draw(card: Card, q: Quote): void {
    const trend = q.change > 0 ? 'up' : q.change < 0 ? 'down' : 'flat';
    const arrow = trend === 'up' ? '▲' : trend === 'down' ? '▼' : '■';
    card.root.dataset.trend = trend;
    card.price.textContent = formatPrice(q.price);
    card.change.textContent = `${arrow} ${formatChange(q.change, q.price)} (${formatPercent(q.change_percent)})`;
    card.volume.textContent = `Vol ${formatVolume(q.volume)}`;
    card.root.setAttribute(
      'aria-label',
      `${q.symbol} ${formatPrice(q.price)}, ${trend === 'flat' ? 'unchanged' : trend} ${formatPercent(q.change_percent)}`,
    );
    if (card.last !== null && q.price !== card.last) {
      card.price.dataset.flash = q.price > card.last ? 'up' : 'down';
      card.price.classList.remove('flash');
      void card.price.offsetWidth; // restart the animation
      card.price.classList.add('flash');
    }
    card.last = q.price;
    card.history.push(q.price);
    if (card.history.length > SPARK_POINTS) card.history.shift();
    card.spark.setAttribute('points', sparkline(card.history));
  }
}

function sparkline(values: number[]): string {
  if (values.length < 2) return '';
  const min = Math.min(...values);
  const span = Math.max(...values) - min || 1;
  const step = 100 / (SPARK_POINTS - 1);
  const offset = (SPARK_POINTS - values.length) * step;
  return values.map((v, i) => `${(offset + i * step).toFixed(1)},${(26 - ((v - min) / span) * 24).toFixed(1)}`).join(' ');
}
