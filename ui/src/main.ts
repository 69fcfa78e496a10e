// Dashboard entry point: wires the transport to the cards and the chart,
// applying stream updates once per animation frame.
import './style.css';
import { type Bar, barFromCandle, INTERVALS } from './bars';
import { Cards } from './cards';
import { ChartView } from './chart';
import { formatPrice } from './format';
import { IndicatorBar } from './indicators';
import type { Candle } from './generated/Candle';
import type { Interval } from './generated/Interval';
import type { Quote } from './generated/Quote';
import type { Tick } from './generated/Tick';
import { AlertPanel } from './alerts';
import { ScenarioPanel } from './scenarios';
import { applyTheme, initialTheme, saveTheme, type Theme } from './theme';
import { createTransport, inDesktopApp, type Positions, RequestError } from './transport';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const transport = createTransport();
const status = $('status');
const sourceStatus = $('source-status');
const chartEl = $('chart');
const chartSymbol = $('chart-symbol');
const chartPrice = $('chart-price');
const chartMessage = $('chart-message');
const themeButton = $<HTMLButtonElement>('theme-toggle');

let theme: Theme = initialTheme();
applyTheme(theme, themeButton);
const chart = new ChartView(chartEl);
const indicators = new IndicatorBar($('indicators'), chart, transport);
/** The newest bar's start: when it changes, a bar closed and indicators move. */
let lastBar: number | null = null;
const cards = new Cards($('cards'), (symbol) => void select(symbol));
const scenarios = new ScenarioPanel($('market-control'), transport);
const alerts = new AlertPanel($('alerts'), transport);
if (inDesktopApp()) {
  // Loaded on demand: the browser build never needs it.
  const { SettingsDialog } = await import('./settings');
  new SettingsDialog($<HTMLDialogElement>('settings'), $<HTMLButtonElement>('settings-open'));
}

const quotes = new Map<string, Quote>();
let selected: string | null = null;
let interval: Interval = '1s';
/** Ticks of the charted symbol held back while its history loads. */
let held: Tick[] | null = null;
let pending: Tick[] = [];
let frame = 0;

themeButton.addEventListener('click', () => {
  theme = theme === 'dark' ? 'light' : 'dark';
  applyTheme(theme, themeButton);
  saveTheme(theme);
  chart.applyTheme();
});

const intervalsEl = $('intervals');
for (const i of INTERVALS) {
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = i;
  button.setAttribute('role', 'radio');
  button.setAttribute('aria-checked', String(i === interval));
  button.addEventListener('click', () => {
    interval = i;
    for (const b of intervalsEl.children) b.setAttribute('aria-checked', String(b.textContent === i));
    if (selected) void select(selected);
  });
  intervalsEl.append(button);
}

transport.onState((state, detail) => {
  status.dataset.state = state;
  status.textContent = detail;
});

async function select(symbol: string): Promise<void> {
  selected = symbol;
  const wanted = { symbol, interval };
  cards.select(symbol);
  chartSymbol.textContent = symbol;
  held = [];
  chartMessage.hidden = true;
  let bars: Bar[] = [];
  let included: Positions | null = null;
  try {
    const reply = await transport.request<Candle[]>('candles', { symbol, interval, limit: 500 });
    bars = reply.data.map(barFromCandle);
    included = reply.positions;
  } catch (error) {
    chartMessage.textContent = `Could not load ${symbol} history: ${error instanceof RequestError ? error.message : String(error)}`;
    chartMessage.hidden = false;
  }
  // A newer selection owns the chart now.
  if (wanted.symbol !== selected || wanted.interval !== interval) return;
  chart.load(bars, interval, included);
  chart.applyTicks(held ?? []);
  held = null;
  lastBar = chart.lastBarTime();
  void indicators.show(symbol, interval);
  chartEl.dataset.bars = String(chart.barCount());
}

function applyTick(tick: Tick): void {
  const q = quotes.get(tick.symbol);
  if (!q) {
    quotes.set(tick.symbol, {
      symbol: tick.symbol, price: tick.price, bid: tick.bid, ask: tick.ask, open: tick.price, high: tick.price,
      low: tick.price, change: 0, change_percent: 0, vwap: tick.price, volume: tick.volume, trades: 1, timestamp: tick.timestamp,
    });
    return;
  }
  q.price = tick.price;
  q.bid = tick.bid;
  q.ask = tick.ask;
  q.high = Math.max(q.high, tick.price);
  q.low = Math.min(q.low, tick.price);
  if (q.volume + tick.volume > 0) q.vwap = (q.vwap * q.volume + tick.price * tick.volume) / (q.volume + tick.volume);
  q.volume += tick.volume;
  q.trades += 1;
  q.timestamp = tick.timestamp;
  q.change = tick.price - q.open;
  q.change_percent = q.open === 0 ? 0 : (q.change / q.open) * 100;
}

/** Ticks applied so far: shown as `data-ticks` on <body> for diagnostics and benchmarks. */
let ticksApplied = 0;

function flush(): void {
  frame = 0;
  const ticks = pending;
  pending = [];
  if (ticksApplied === 0 && ticks.length > 0) performance.mark('first-tick');
  ticksApplied += ticks.length;
  document.body.dataset.ticks = String(ticksApplied);
  const touched = new Set<string>();
  for (const tick of ticks) {
    applyTick(tick);
    touched.add(tick.symbol);
  }
  cards.update([...touched].map((s) => quotes.get(s)!));
  // A source that had no symbols at load (a Kafka topic read from its end) charts its first.
  if (selected === null && ticks.length > 0) void select(ticks[0]!.symbol);
  const mine = ticks.filter((t) => t.symbol === selected);
  if (held) held.push(...mine);
  else chart.applyTicks(mine);
  const q = selected ? quotes.get(selected) : undefined;
  if (q) {
    chartPrice.textContent = formatPrice(q.price);
    chartPrice.dataset.trend = q.change >= 0 ? 'up' : 'down';
  }
  chartEl.dataset.bars = String(chart.barCount());
  if (mine.length > 0) chartEl.dataset.lastPrice = String(mine.at(-1)!.price);
  if (!held && chart.lastBarTime() !== lastBar) {
    lastBar = chart.lastBarTime();
    void indicators.refresh();
  }
}

transport.subscribe(['*'], (msg) => {
  switch (msg.type) {
    case 'ticks':
      pending.push(...msg.data);
      if (!frame) frame = requestAnimationFrame(flush);
      break;
    case 'event':
      scenarios.addEvent(msg.data);
      // The daemon's own source (e.g. a bridge's Kafka cluster) came or went.
      if (msg.data.kind === 'connection') {
        sourceStatus.hidden = msg.data.level === 'info';
        sourceStatus.textContent = msg.data.message;
      }
      break;
    case 'error':
      console.warn(`gateway error ${msg.code}: ${msg.message}`);
      break;
    default:
      break;
  }
});

try {
  const list = (await transport.request<Quote[]>('symbols')).data;
  for (const q of list) if (!quotes.has(q.symbol)) quotes.set(q.symbol, q);
  cards.update(list);
  scenarios.setSymbols(list.map((q) => q.symbol));
  alerts.setSymbols(list.map((q) => q.symbol));
  void alerts.refresh();
  const wanted = new URLSearchParams(window.location.search).get('symbol');
  const first = list.find((q) => q.symbol === wanted) ?? list[0];
  if (first) await select(first.symbol);
} catch (error) {
  chartMessage.textContent = `Could not load symbols: ${String(error)}`;
  chartMessage.hidden = false;
}
