// The chart panel's controller: which symbol and interval are charted, their
// history loaded (live ticks held back meanwhile), the interval buttons, the
// compare selector, the indicators, and the live ticks of each frame.
import { type Bar, barFromCandle, INTERVALS, MAX_BARS } from './bars';
import type { ChartView } from './chart';
import { setText } from './dom';
import { formatPrice } from './format';
import type { Candle } from './generated/Candle';
import type { Interval } from './generated/Interval';
import type { Quote } from './generated/Quote';
import type { Tick } from './generated/Tick';
import type { IndicatorBar } from './indicators';
import { asOfReplay, type Positions, RequestError, type Transport } from './transport';

/** The panel's elements. */
export type ChartElements = {
  chart: HTMLElement;
  symbol: HTMLElement;
  price: HTMLElement;
  message: HTMLElement;
  intervals: HTMLElement;
  compare: HTMLSelectElement;
};

export class ChartPanel {
  private selected: string | null = null;
  private interval: Interval = '1s';
  /** Ticks of the charted symbol held back while its history loads. */
  private held: Tick[] | null = null;
  /** The newest bar's start: when it changes, a bar closed and indicators move. */
  private lastBar: number | null = null;

  constructor(
    private readonly el: ChartElements,
    private readonly chart: ChartView,
    private readonly indicators: IndicatorBar,
    private readonly transport: Transport,
    /** Called with the symbol charted, before its history loads. */
    private readonly onSelect: (symbol: string) => void,
  ) {
    for (const i of INTERVALS) {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = i;
      button.setAttribute('role', 'radio');
      button.setAttribute('aria-checked', String(i === this.interval));
      button.addEventListener('click', () => this.setInterval(i));
      el.intervals.append(button);
    }
    el.compare.addEventListener('change', () => void this.compare(el.compare.value || null));
  }

  /** The symbol charted, if any. */
  symbol(): string | null {
    return this.selected;
  }

  /** Offers `symbols` to compare with. */
  setSymbols(symbols: string[]): void {
    this.el.compare.replaceChildren(new Option('—', ''), ...symbols.map((s) => new Option(s, s)));
  }

  setInterval(interval: Interval): void {
    this.interval = interval;
    for (const b of this.el.intervals.children) b.setAttribute('aria-checked', String(b.textContent === interval));
    if (this.selected) void this.select(this.selected);
  }

  /** Charts `symbol`: its history at the current interval, then live. */
  async select(symbol: string): Promise<void> {
    const { el, chart } = this;
    this.selected = symbol;
    const wanted = { symbol, interval: this.interval };
    this.onSelect(symbol);
    el.symbol.textContent = symbol;
    document.title = `${symbol} · Tickstream`;
    this.held = [];
    this.say('loading', `Loading ${symbol} ${this.interval} history…`);
    let loaded: { bars: Bar[]; included: Positions | null } = { bars: [], included: null };
    try {
      loaded = await this.loadBars(symbol);
      el.message.hidden = true;
    } catch (error) {
      this.say('error', `Could not load ${symbol} history: ${error instanceof RequestError ? error.message : String(error)}`);
    }
    // A newer selection owns the chart now.
    if (wanted.symbol !== this.selected || wanted.interval !== this.interval) return;
    chart.load(symbol, loaded.bars, this.interval, loaded.included);
    chart.applyTicks(this.held ?? []);
    this.held = null;
    this.lastBar = chart.lastBarTime();
    void this.indicators.show(symbol, this.interval);
    const compared = chart.compared();
    if (compared) void this.compare(compared);
    el.chart.dataset.bars = String(chart.barCount());
    // What the chart holds now (tests wait for it after a change).
    el.chart.dataset.shows = `${symbol} ${this.interval}`;
    const url = new URL(window.location.href);
    url.searchParams.set('symbol', symbol);
    history.replaceState(null, '', url);
  }

  /**
   * Folds a frame's ticks into the chart (held back while history loads)
   * and the compare line; shows the charted symbol's price. Returns how long
   * the chart's update took (ms), or null when it had none of its ticks.
   */
  applyFrame(batch: Tick[], quotes: Map<string, Quote>): number | null {
    const { el, chart } = this;
    const mine = batch.filter((t) => t.symbol === this.selected);
    let took: number | null = null;
    if (this.held) this.held.push(...mine);
    else if (mine.length > 0) took = chart.applyTicks(mine);
    const compared = chart.compared();
    if (compared) chart.applyCompareTicks(batch.filter((t) => t.symbol === compared));
    const q = this.selected ? quotes.get(this.selected) : undefined;
    if (q) {
      setText(el.price, formatPrice(q.price));
      const trend = q.change >= 0 ? 'up' : 'down';
      if (el.price.dataset.trend !== trend) el.price.dataset.trend = trend;
    }
    const bars = String(chart.barCount());
    if (el.chart.dataset.bars !== bars) el.chart.dataset.bars = bars;
    if (!this.held && chart.lastBarTime() !== this.lastBar) {
      this.lastBar = chart.lastBarTime();
      void this.indicators.refresh();
    }
    return took;
  }

  /** Shows a loading or error message under the chart. */
  say(state: 'loading' | 'error', message: string): void {
    this.el.message.dataset.state = state;
    this.el.message.textContent = message;
    this.el.message.hidden = false;
  }

  private async compare(symbol: string | null): Promise<void> {
    const { el, chart } = this;
    el.compare.value = symbol ?? '';
    if (!symbol) {
      chart.setCompare(null, []);
      delete el.chart.dataset.compare;
      return;
    }
    try {
      const { bars } = await this.loadBars(symbol);
      chart.setCompare(symbol, bars);
      el.chart.dataset.compare = symbol;
    } catch (error) {
      this.say('error', `Could not load ${symbol} to compare: ${String(error)}`);
    }
  }

  private async loadBars(symbol: string): Promise<{ bars: Bar[]; included: Positions | null }> {
    const reply = await this.transport.request<Candle[]>('candles', { symbol, interval: this.interval, limit: MAX_BARS, ...asOfReplay(this.transport) });
    return { bars: reply.data.map(barFromCandle), included: reply.positions };
  }
}
