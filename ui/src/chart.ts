// The main chart: candlesticks and volume for one symbol, history set once,
// then live bars through update().
import {
  CandlestickSeries,
  type CandlestickData,
  createChart,
  HistogramSeries,
  type HistogramData,
  type IChartApi,
  type ISeriesApi,
  type LineData,
  LineSeries,
  type UTCTimestamp,
} from 'lightweight-charts';
import { type Bar, foldTicks } from './bars';
import type { Interval } from './generated/Interval';
import type { Tick } from './generated/Tick';
import { chartColors } from './theme';
import type { Positions } from './transport';

export class ChartView {
  private chart: IChartApi;
  private candles: ISeriesApi<'Candlestick'>;
  private volume: ISeriesApi<'Histogram'>;
  private last: Bar | null = null;
  private interval: Interval = '1m';
  /** Ticks below these offsets are already in the history. */
  private included: Positions = {};

  constructor(container: HTMLElement) {
    this.chart = createChart(container, {
      autoSize: true,
      timeScale: { timeVisible: true, secondsVisible: true },
      localization: { timeFormatter: (t: number) => new Date(t * 1000).toISOString().slice(11, 19) + ' UTC' },
    });
    this.candles = this.chart.addSeries(CandlestickSeries, {});
    this.volume = this.chart.addSeries(HistogramSeries, { priceFormat: { type: 'volume' }, priceScaleId: '' });
    this.volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    this.applyTheme();
  }

  /** Replaces the history, which holds the ticks below `included`. */
  load(bars: Bar[], interval: Interval, included: Positions | null): void {
    this.interval = interval;
    this.included = included ?? {};
    this.candles.setData(bars.map((b) => this.candleData(b)));
    this.volume.setData(bars.map((b) => this.volumeData(b)));
    this.last = bars.at(-1) ?? null;
    this.chart.timeScale().scrollToRealTime();
  }

  /** Folds live ticks of the charted symbol into the newest bars. */
  applyTicks(ticks: Tick[]): void {
    const fresh = ticks.filter((t) => t.partition === undefined || (t.offset ?? 0) >= (this.included[t.partition] ?? 0));
    if (fresh.length === 0) return;
    for (const bar of foldTicks(this.last, fresh, this.interval)) {
      this.candles.update(this.candleData(bar));
      this.volume.update(this.volumeData(bar));
      this.last = bar;
    }
  }

  /** A line for an indicator: pane 0 is the price pane, 1 a pane below. */
  addLine(color: string, pane = 0): ISeriesApi<'Line'> {
    return this.chart.addSeries(LineSeries, { color, lineWidth: 1, priceLineVisible: false, lastValueVisible: false }, pane);
  }

  /** Sets a line's points. */
  setLine(series: ISeriesApi<'Line'>, points: { time: number; value: number }[]): void {
    series.setData(points.map((p) => ({ time: p.time as UTCTimestamp, value: p.value }) satisfies LineData));
  }

  /** Takes a line off the chart. */
  removeLine(series: ISeriesApi<'Line'>): void {
    this.chart.removeSeries(series);
  }

  /** Start (Unix seconds) of the newest bar, if any. */
  lastBarTime(): number | null {
    return this.last?.time ?? null;
  }

  /** Bars on the chart (for tests and the crosshair legend). */
  barCount(): number {
    return this.candles.data().length;
  }

  applyTheme(): void {
    const c = chartColors();
    this.chart.applyOptions({
      layout: { background: { color: c.background }, textColor: c.text },
      grid: { vertLines: { color: c.grid }, horzLines: { color: c.grid } },
    });
    this.candles.applyOptions({ upColor: c.up, downColor: c.down, wickUpColor: c.up, wickDownColor: c.down, borderVisible: false });
    this.upColor = c.up;
    this.downColor = c.down;
  }

  private upColor = '';
  private downColor = '';

  private candleData(b: Bar): CandlestickData {
    return { time: b.time as UTCTimestamp, open: b.open, high: b.high, low: b.low, close: b.close };
  }

  private volumeData(b: Bar): HistogramData {
    const color = (b.close >= b.open ? this.upColor : this.downColor) + '80';
    return { time: b.time as UTCTimestamp, value: b.volume, color };
  }
}
