// Indicator overlays on the main chart, computed by the engine
// (GET /api/v1/indicators): moving averages, Bollinger bands and VWAP on the
// price pane, RSI in a pane of its own. Refreshed when a bar closes.
import type { ISeriesApi } from 'lightweight-charts';
import type { ChartView } from './chart';
import type { IndicatorReply } from './generated/IndicatorReply';
import type { Interval } from './generated/Interval';
import { asOfReplay, type Transport } from './transport';

type Spec = {
  label: string;
  query: Record<string, string | number>;
  /** The reply's fields drawn, with their colours. */
  lines: Record<string, string>;
  pane: number;
};

export const INDICATORS: Record<string, Spec> = {
  sma: { label: 'SMA 20', query: { indicator: 'sma', period: 20 }, lines: { value: '#f59e0b' }, pane: 0 },
  ema: { label: 'EMA 20', query: { indicator: 'ema', period: 20 }, lines: { value: '#a855f7' }, pane: 0 },
  bollinger: {
    label: 'BB 20·2',
    query: { indicator: 'bollinger', period: 20, k: 2 },
    lines: { upper: '#38bdf8', middle: '#0ea5e9', lower: '#38bdf8' },
    pane: 0,
  },
  vwap: { label: 'VWAP', query: { indicator: 'vwap' }, lines: { value: '#ec4899' }, pane: 0 },
  rsi: { label: 'RSI 14', query: { indicator: 'rsi', period: 14 }, lines: { value: '#eab308' }, pane: 1 },
};

export class IndicatorBar {
  private active = new Map<string, ISeriesApi<'Line'>[]>();
  private target: { symbol: string; interval: Interval } | null = null;

  constructor(
    private readonly root: HTMLElement,
    private readonly chart: ChartView,
    private readonly transport: Transport,
  ) {
    for (const [id, spec] of Object.entries(INDICATORS)) {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = spec.label;
      button.dataset.indicator = id;
      button.setAttribute('aria-pressed', 'false');
      button.addEventListener('click', () => void this.toggle(id, button));
      root.append(button);
    }
  }

  /** Follows the charted symbol and interval. */
  async show(symbol: string, interval: Interval): Promise<void> {
    this.target = { symbol, interval };
    await this.refresh();
  }

  /** Reloads every active indicator (e.g. when a bar closed). */
  async refresh(): Promise<void> {
    await Promise.all([...this.active.keys()].map((id) => this.load(id)));
  }

  private async toggle(id: string, button: HTMLButtonElement): Promise<void> {
    const on = !this.active.has(id);
    button.setAttribute('aria-pressed', String(on));
    if (on) {
      const spec = INDICATORS[id]!;
      this.active.set(id, Object.values(spec.lines).map((color) => this.chart.addLine(color, spec.pane)));
      await this.load(id);
    } else {
      for (const series of this.active.get(id) ?? []) this.chart.removeLine(series);
      this.active.delete(id);
    }
    this.root.dataset.active = [...this.active.keys()].join(' ');
  }

  private async load(id: string): Promise<void> {
    const target = this.target;
    const series = this.active.get(id);
    if (!target || !series) return;
    const spec = INDICATORS[id]!;
    try {
      const reply = await this.transport.request<IndicatorReply>('indicators', { symbol: target.symbol, interval: target.interval, limit: 500, ...spec.query, ...asOfReplay(this.transport) });
      if (this.target !== target || this.active.get(id) !== series) return;
      Object.keys(spec.lines).forEach((line, i) => {
        const points = reply.data.points.map((p) => ({ time: Date.parse(p.start) / 1000, value: Number(p[line]) }));
        this.chart.setLine(series[i]!, points);
      });
      this.root.dataset[`${id}Points`] = String(reply.data.points.length);
    } catch (error) {
      console.warn(`indicator ${id}: ${String(error)}`);
    }
  }
}
