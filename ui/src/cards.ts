// The symbol cards: price, change since the session open (colour and
// arrow), day high/low, volume and a sparkline per symbol. The watchlist
// decides which cards show and in what order; only cards whose quote
// changed are redrawn.
import type { Quote } from './generated/Quote';
import { setText } from './dom';
import { formatChange, formatPercent, formatPrice, formatVolume } from './format';

const SPARK_POINTS = 60;
let reducedMotion: MediaQueryList | null = null;
const prefersReducedMotion = () => (reducedMotion ??= window.matchMedia('(prefers-reduced-motion: reduce)')).matches;
/** A price flash: the colour held, then gone (two repaints, not one per frame of a fade). */
const FLASH: KeyframeAnimationOptions = { duration: 400, easing: 'step-end' };
const FLASH_UP: Keyframe[] = [{ backgroundColor: 'color-mix(in srgb, var(--up) 35%, transparent)' }, { backgroundColor: 'transparent' }];
const FLASH_DOWN: Keyframe[] = [{ backgroundColor: 'color-mix(in srgb, var(--down) 35%, transparent)' }, { backgroundColor: 'transparent' }];

interface Card {
  root: HTMLElement;
  main: HTMLButtonElement;
  price: HTMLElement;
  arrow: HTMLElement;
  trend: HTMLElement;
  changeText: HTMLElement;
  range: HTMLElement;
  volume: HTMLElement;
  spark: SVGPolylineElement;
  remove: HTMLButtonElement;
  history: number[];
  last: number | null;
  /** The newest quote, drawn or waiting for the card to come on screen. */
  quote: Quote | null;
  /** False while the browser skips rendering it (off screen: `content-visibility: auto`). */
  onScreen: boolean;
  flash: Animation | null;
}

export class Cards {
  private cards = new Map<string, Card>();
  private selected: string | null = null;
  private shown: string[] = [];

  constructor(
    private readonly container: HTMLElement,
    private readonly onSelect: (symbol: string) => void,
    private readonly onRemove: (symbol: string) => void,
  ) {}

  /** Draws the given quotes (cards are made for every symbol, shown or not). */
  update(quotes: Iterable<Quote>): void {
    for (const quote of quotes) {
      const card = this.cards.get(quote.symbol) ?? this.create(quote.symbol);
      this.draw(card, quote);
    }
  }

  /**
   * Shows exactly `symbols`, in that order. `removeFrom` names the watchlist
   * they can be removed from (no remove buttons when null).
   */
  show(symbols: string[], removeFrom: string | null): void {
    this.shown = symbols;
    const nodes: Node[] = [];
    for (const symbol of symbols) {
      const card = this.cards.get(symbol) ?? this.create(symbol);
      card.remove.hidden = removeFrom === null;
      card.remove.setAttribute('aria-label', `Remove ${symbol} from ${removeFrom ?? ''}`);
      if (!card.root.isConnected) card.spark.setAttribute('points', sparkline(card.history));
      nodes.push(card.root);
    }
    if (nodes.length === 0) {
      const empty = document.createElement('p');
      empty.className = 'empty';
      empty.textContent = this.cards.size === 0 ? 'Waiting for the first ticks…' : 'No symbols match.';
      this.container.replaceChildren(empty);
      return;
    }
    // Move only the cards out of place: a re-sort of a nearly sorted list touches few.
    const children = this.container.children;
    nodes.forEach((node, i) => {
      if (children[i] !== node) this.container.insertBefore(node, children[i] ?? null);
    });
    while (children.length > nodes.length) children[nodes.length]!.remove();
  }

  /** The symbols shown, in order. */
  order(): string[] {
    return this.shown;
  }

  select(symbol: string): void {
    this.selected = symbol;
    for (const [s, card] of this.cards) card.main.setAttribute('aria-pressed', String(s === symbol));
  }

  private create(symbol: string): Card {
    const root = document.createElement('div');
    root.className = 'card';
    root.dataset.symbol = symbol;
    root.innerHTML = `
      <button type="button" class="card-main">
        <span class="card-symbol"></span>
        <span class="card-price" data-testid="price"></span>
        <span class="card-change"><span aria-hidden="true"></span><span class="visually-hidden"></span><span></span></span>
        <svg class="card-spark" viewBox="0 0 100 28" preserveAspectRatio="none" aria-hidden="true"><polyline points="" /></svg>
        <span class="card-range"></span>
        <span class="card-volume"></span>
      </button>
      <button type="button" class="card-remove" hidden>×</button>`;
    root.querySelector('.card-symbol')!.textContent = symbol;
    const main = root.querySelector<HTMLButtonElement>('.card-main')!;
    main.setAttribute('aria-pressed', String(symbol === this.selected));
    main.addEventListener('click', () => this.onSelect(symbol));
    const remove = root.querySelector<HTMLButtonElement>('.card-remove')!;
    remove.addEventListener('click', () => this.onRemove(symbol));
    const card: Card = {
      root,
      main,
      price: root.querySelector('.card-price')!,
      arrow: root.querySelector('.card-change')!.children[0] as HTMLElement,
      trend: root.querySelector('.card-change')!.children[1] as HTMLElement,
      changeText: root.querySelector('.card-change')!.children[2] as HTMLElement,
      range: root.querySelector('.card-range')!,
      volume: root.querySelector('.card-volume')!,
      spark: root.querySelector('polyline')!,
      remove,
      history: [],
      last: null,
      quote: null,
      onScreen: true,
      flash: null,
    };
    // Off-screen cards only record their quotes; they are drawn when they come into view.
    root.addEventListener('contentvisibilityautostatechange', (event) => {
      card.onScreen = !(event as Event & { skipped: boolean }).skipped;
      if (card.onScreen && card.quote) this.draw(card, card.quote, false);
    });
    this.cards.set(symbol, card);
    return card;
  }

  private draw(card: Card, q: Quote, fresh = true): void {
    if (fresh) {
      card.history.push(q.price);
      if (card.history.length > SPARK_POINTS) card.history.shift();
    }
    card.quote = q;
    if (!card.onScreen) {
      card.last = q.price;
      return;
    }
    const trend = q.change > 0 ? 'up' : q.change < 0 ? 'down' : 'flat';
    const arrow = trend === 'up' ? '▲' : trend === 'down' ? '▼' : '■';
    if (card.root.dataset.trend !== trend) card.root.dataset.trend = trend;
    setText(card.price, formatPrice(q.price));
    setText(card.arrow, arrow);
    setText(card.trend, ` ${trend === 'flat' ? 'unchanged' : trend} `);
    setText(card.changeText, `${formatChange(q.change, q.price)} (${formatPercent(q.change_percent)})`);
    setText(card.range, `H ${formatPrice(q.high)} · L ${formatPrice(q.low)}`);
    setText(card.volume, `Vol ${formatVolume(q.volume)}`);
    if (fresh && card.last !== null && q.price !== card.last && card.root.isConnected && !prefersReducedMotion()) {
      // One flash per card, restarted through the Web Animations API (no forced layout).
      card.flash?.cancel();
      card.flash = card.price.animate(q.price > card.last ? FLASH_UP : FLASH_DOWN, FLASH);
    }
    card.last = q.price;
    if (card.root.isConnected) card.spark.setAttribute('points', sparkline(card.history));
  }
}

/** SVG polyline points for the last prices, scaled into a 100×28 box. */
export function sparkline(values: number[]): string {
  if (values.length < 2) return '';
  const min = Math.min(...values);
  const span = Math.max(...values) - min || 1;
  const step = 100 / (SPARK_POINTS - 1);
  const offset = (SPARK_POINTS - values.length) * step;
  return values.map((v, i) => `${(offset + i * step).toFixed(1)},${(26 - ((v - min) / span) * 24).toFixed(1)}`).join(' ');
}
