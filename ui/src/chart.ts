// The main chart: candlesticks and volume for one symbol, history set once,
// then live bars through update(); a crosshair legend; compare mode (a
// second symbol as a line, both on a % scale); paper fills marked on their
// bars; old bars trimmed so memory stays bounded however long it streams.
import {
  CandlestickSeries,
  type CandlestickData,
  createChart,
  createSeriesMarkers,
  HistogramSeries,
  type HistogramData,
  type IChartApi,
  type ISeriesApi,
  type ISeriesMarkersPluginApi,
  type LineData,
  LineSeries,
  type MouseEventParams,
  PriceScaleMode,
  type SeriesMarker,
  type Time,
  type UTCTimestamp,
} from 'lightweight-charts';
import { type Bar, bucketStart, exceedsKept, foldTicks, MAX_BARS } from './bars';
import { setText } from './dom';
import { displayLocale, formatPercent, formatPrice, formatVolume } from './format';
import type { Fill } from './generated/Fill';
import type { Interval } from './generated/Interval';
import type { Tick } from './generated/Tick';
import { chartColors } from './theme';
import type { Positions } from './transport';

interface Compare {
  symbol: string;
  series: ISeriesApi<'Line'>;
  last: Bar | null;
  first: number | null;
  /** Points in the line. */
  points: number;
}

/** Paper fills kept for marking, over every symbol. */
const MAX_FILLS = 5_000;

export class ChartView {
  private readonly markers: ISeriesMarkersPluginApi<Time>;
  private fills: Fill[] = [];
  private chart: IChartApi;
  private candles: ISeriesApi<'Candlestick'>;
  private volume: ISeriesApi<'Histogram'>;
  private last: Bar | null = null;
  /** Bars in the candle series (the series' own `data()` copies them all). */
  private bars = 0;
  private interval: Interval = '1m';
  private symbol = '';
  /** Ticks below these offsets are already in the history. */
  private included: Positions = {};
  private compare: Compare | null = null;
  private upColor = '';
  private downColor = '';

  constructor(
    container: HTMLElement,
    private readonly legend: HTMLElement,
  ) {
    this.chart = createChart(container, {
      autoSize: true,
      timeScale: { timeVisible: true, secondsVisible: true },
      // lightweight-charts formats with navigator.language by default and
      // draws nothing at all when that is not a valid tag (WebKitGTK's "C").
      localization: { locale: displayLocale(), timeFormatter: (t: number) => new Date(t * 1000).toISOString().slice(11, 19) + ' UTC' },
    });
    this.candles = this.chart.addSeries(CandlestickSeries, {});
    this.volume = this.chart.addSeries(HistogramSeries, { priceFormat: { type: 'volume' }, priceScaleId: '' });
    this.volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    this.chart.subscribeCrosshairMove((param) => this.showLegend(param));
    this.markers = createSeriesMarkers(this.candles, []);
    this.applyTheme();
  }

  /** Paper fills of every symbol, newest last; those of the charted one are marked on their bars. */
  addFills(fills: Fill[]): void {
    const known = new Set(this.fills.map((f) => f.id));
    this.fills.push(...fills.filter((f) => !known.has(f.id)));
    if (this.fills.length > MAX_FILLS) this.fills.splice(0, this.fills.length - MAX_FILLS);
    this.showFills();
  }

  private showFills(): void {
    const markers: SeriesMarker<Time>[] = this.fills
      .filter((f) => f.symbol === this.symbol)
      .map((f) => ({
        time: bucketStart(f.timestamp, this.interval) as UTCTimestamp,
        position: f.side === 'buy' ? 'belowBar' : 'aboveBar',
        shape: f.side === 'buy' ? 'arrowUp' : 'arrowDown',
        color: f.side === 'buy' ? this.upColor : this.downColor,
        text: `${f.side === 'buy' ? 'B' : 'S'} ${formatVolume(f.quantity)} @ ${formatPrice(f.price)}`,
      }));
    markers.sort((a, b) => (a.time as number) - (b.time as number));
    this.markers.setMarkers(markers);
  }

  /** Replaces the history, which holds the ticks below `included`. */
  load(symbol: string, bars: Bar[], interval: Interval, included: Positions | null): void {
    this.symbol = symbol;
    this.interval = interval;
    this.included = included ?? {};
    const kept = bars.slice(-MAX_BARS);
    this.candles.setData(kept.map((b) => this.candleData(b)));
    this.volume.setData(kept.map((b) => this.volumeData(b)));
    this.last = kept.at(-1) ?? null;
    this.bars = kept.length;
    this.showFills();
    this.chart.timeScale().scrollToRealTime();
    this.showLegend();
  }

  /** Folds live ticks of the charted symbol into the newest bars; returns how long the chart updates took (ms). */
  applyTicks(ticks: Tick[]): number {
    const fresh = ticks.filter((t) => t.partition === undefined || (t.offset ?? 0) >= (this.included[t.partition] ?? 0));
    if (fresh.length === 0) return 0;
    const started = performance.now();
    for (const bar of foldTicks(this.last, fresh, this.interval)) {
      if (bar.time !== this.last?.time) this.bars += 1;
      this.candles.update(this.candleData(bar));
      this.volume.update(this.volumeData(bar));
      this.last = bar;
    }
    this.trim();
    const took = performance.now() - started;
    this.showLegend();
    return took;
  }

  /** Shows `symbol` beside the charted one as a line, both as % change; null ends compare mode. */
  setCompare(symbol: string | null, bars: Bar[]): void {
    if (this.compare) this.chart.removeSeries(this.compare.series);
    this.compare = null;
    this.chart.priceScale('right').applyOptions({ mode: symbol ? PriceScaleMode.Percentage : PriceScaleMode.Normal });
    if (!symbol) {
      this.showLegend();
      return;
    }
    const series = this.chart.addSeries(LineSeries, { color: '#a78bfa', lineWidth: 2, priceLineVisible: false, title: symbol });
    const kept = bars.slice(-MAX_BARS);
    series.setData(kept.map((b) => ({ time: b.time as UTCTimestamp, value: b.close }) satisfies LineData));
    this.compare = { symbol, series, last: kept.at(-1) ?? null, first: kept[0]?.close ?? null, points: kept.length };
    this.showLegend();
  }

  /** The compared symbol, if any. */
  compared(): string | null {
    return this.compare?.symbol ?? null;
  }

  /** Folds live ticks of the compared symbol into its line. */
  applyCompareTicks(ticks: Tick[]): void {
    const compare = this.compare;
    if (!compare || ticks.length === 0) return;
    for (const bar of foldTicks(compare.last, ticks, this.interval)) {
      if (bar.time !== compare.last?.time) compare.points += 1;
      compare.series.update({ time: bar.time as UTCTimestamp, value: bar.close });
      compare.last = bar;
    }
    if (exceedsKept(compare.points)) {
      compare.series.setData(compare.series.data().slice(-MAX_BARS) as LineData[]);
      compare.points = MAX_BARS;
    }
  }

  /** A line for an indicator: pane 0 is the price pane, 1 a pane below. */
  addLine(color: string, pane = 0): ISeriesApi<'Line'> {
    return this.chart.addSeries(LineSeries, { color, lineWidth: 1, priceLineVisible: false, lastValueVisible: false }, pane);
  }

  /** Sets a line's points. */
  setLine(series: ISeriesApi<'Line'>, points: { time: number; value: number }[]): void {
    series.setData(points.slice(-MAX_BARS).map((p) => ({ time: p.time as UTCTimestamp, value: p.value }) satisfies LineData));
  }

  /** Takes a line off the chart. */
  removeLine(series: ISeriesApi<'Line'>): void {
    this.chart.removeSeries(series);
  }

  /** Start (Unix seconds) of the newest bar, if any. */
  lastBarTime(): number | null {
    return this.last?.time ?? null;
  }

  /** Bars on the chart (for tests and diagnostics). */
  barCount(): number {
    return this.bars;
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
    this.showFills();
  }

  /** Drops the oldest bars once there are too many. */
  private trim(): void {
    if (!exceedsKept(this.bars)) return;
    const candles = this.candles.data().slice(-MAX_BARS);
    this.candles.setData(candles as CandlestickData[]);
    this.volume.setData(this.volume.data().slice(-candles.length) as HistogramData[]);
    this.bars = candles.length;
  }

  /** The legend: the bar under the crosshair, else the newest. */
  private showLegend(param?: MouseEventParams<Time>): void {
    const hovered = param?.time !== undefined ? (param.seriesData.get(this.candles) as CandlestickData | undefined) : undefined;
    const bar = hovered ?? (this.last ? this.candleData(this.last) : undefined);
    if (!bar) {
      this.legend.textContent = '';
      return;
    }
    const volume = hovered
      ? (param!.seriesData.get(this.volume) as HistogramData | undefined)?.value
      : this.last?.volume;
    const change = bar.open === 0 ? 0 : ((bar.close - bar.open) / bar.open) * 100;
    const time = new Date((bar.time as number) * 1000).toISOString().slice(0, 19).replace('T', ' ');
    const parts = [
      `${this.symbol} ${this.interval} ${time} UTC`,
      `O ${formatPrice(bar.open)}`,
      `H ${formatPrice(bar.high)}`,
      `L ${formatPrice(bar.low)}`,
      `C ${formatPrice(bar.close)}`,
      `${formatPercent(change)}`,
      `V ${formatVolume(volume ?? 0)}`,
    ];
    if (this.compare) {
      const point = hovered
        ? (param!.seriesData.get(this.compare.series) as LineData | undefined)?.value
        : this.compare.last?.close;
      if (point !== undefined && this.compare.first) {
        parts.push(`· ${this.compare.symbol} ${formatPrice(point)} (${formatPercent(((point - this.compare.first) / this.compare.first) * 100)} over the chart)`);
      }
    }
    setText(this.legend, parts.join('  '));
  }

  private candleData(b: Bar): CandlestickData {
    return { time: b.time as UTCTimestamp, open: b.open, high: b.high, low: b.low, close: b.close };
  }

  private volumeData(b: Bar): HistogramData {
    const color = (b.close >= b.open ? this.upColor : this.downColor) + '80';
    return { time: b.time as UTCTimestamp, value: b.volume, color };
  }
}
