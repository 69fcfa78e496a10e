// Dashboard entry point: wires the transport to the watchlist, the chart,
// the tick table, the events log and the workspace panels, applying stream
// updates once per animation frame.
import './style.css';
import { AlertPanel } from './alerts';
import { type Bar, barFromCandle, INTERVALS, MAX_BARS } from './bars';
import { ChartView } from './chart';
import { setText } from './dom';
import { EventLog } from './eventlog';
import { formatPrice } from './format';
import type { Candle } from './generated/Candle';
import type { Interval } from './generated/Interval';
import type { MarketEvent } from './generated/MarketEvent';
import type { Quote } from './generated/Quote';
import type { Tick } from './generated/Tick';
import { IndicatorBar } from './indicators';
import { MetricsPanel } from './metrics';
import { PortfolioPanel } from './portfolio';
import { ScenarioPanel } from './scenarios';
import { SymbolSearch } from './search';
import { bindShortcuts } from './shortcuts';
import { Tabs } from './tabs';
import { ThemeControl } from './theme';
import { TickTable } from './ticktable';
import { inDesktopApp } from './platform';
import { createTransport, type Positions, RequestError } from './transport';
import { VolumePanel } from './volume';
import { WatchlistPanel } from './watchlist';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const transport = createTransport();
const quotes = new Map<string, Quote>();
const status = $('status');
const sourceStatus = $('source-status');
const banner = $('offline-banner');
const chartEl = $('chart');
const chartSymbol = $('chart-symbol');
const chartPrice = $('chart-price');
const chartMessage = $('chart-message');
const compareSelect = $<HTMLSelectElement>('compare-symbol');

const chart = new ChartView(chartEl, $('chart-legend'));
const theme = new ThemeControl($<HTMLSelectElement>('theme'), () => chart.applyTheme());
const indicators = new IndicatorBar($('indicators'), chart, transport);
const watchlist = new WatchlistPanel(document.querySelector('.watchlist-panel')!, transport, quotes, (s) => void select(s));
const search = new SymbolSearch($<HTMLInputElement>('symbol-search'), $<HTMLUListElement>('search-results'), quotes, (s) => {
  void select(s);
  $('chart-panel').focus();
});
const ticks = new TickTable($('ticks-scroll'), $<HTMLTableSectionElement>('ticks-body'), $<HTMLButtonElement>('ticks-pause'), $<HTMLInputElement>('ticks-filter'), $('ticks-count'));
const tabs = new Tabs(document.querySelector('[role="tablist"]')!);
const events = new EventLog(
  $<HTMLOListElement>('events'), $<HTMLSelectElement>('events-level'), $<HTMLSelectElement>('events-kind'),
  $<HTMLInputElement>('events-search'), $('events-count'), $('events-result'),
  $<HTMLButtonElement>('events-csv'), $<HTMLButtonElement>('events-json'), () => tabs.shown() === 'tab-events',
);
const scenarios = new ScenarioPanel($('market-control'), transport);
const alerts = new AlertPanel($('alerts'), transport);
const portfolio = new PortfolioPanel($('panel-portfolio'), transport);
const volume = new VolumePanel(document.querySelector('#volume-symbols tbody')!, $('volume-day'), $('volume-zone'), transport);
const metrics = new MetricsPanel($('metrics'), transport);
const shortcuts = $<HTMLDialogElement>('shortcuts');
if (inDesktopApp()) {
  // Loaded on demand: the browser build never needs it.
  const { SettingsDialog } = await import('./settings');
  new SettingsDialog($<HTMLDialogElement>('settings'), $<HTMLButtonElement>('settings-open'));
}

let selected: string | null = null;
let interval: Interval = '1s';
/** Ticks of the charted symbol held back while its history loads. */
let held: Tick[] | null = null;
/** The newest bar's start: when it changes, a bar closed and indicators move. */
let lastBar: number | null = null;
let pending: Tick[] = [];
let frame = 0;
/** Until the symbols' quotes have loaded, ticks wait (the quotes are their base). */
let loaded = false;
/** Each symbol's quote time when loaded: ticks up to it are already in the quote. */
const baseline = new Map<string, string>();

tabs.onShow((id) => {
  metrics.setVisible(id === 'tab-metrics');
  volume.setVisible(id === 'tab-volume');
  portfolio.setVisible(id === 'tab-portfolio');
  if (id === 'tab-events') events.seen();
  ticks.setVisible(id === 'tab-ticks');
});
tabs.start();

const intervalsEl = $('intervals');
function setInterval_(i: Interval): void {
  interval = i;
  for (const b of intervalsEl.children) b.setAttribute('aria-checked', String(b.textContent === i));
  if (selected) void select(selected);
}
for (const i of INTERVALS) {
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = i;
  button.setAttribute('role', 'radio');
  button.setAttribute('aria-checked', String(i === interval));
  button.addEventListener('click', () => setInterval_(i));
  intervalsEl.append(button);
}

compareSelect.addEventListener('change', () => void compare(compareSelect.value || null));
$('shortcuts-open').addEventListener('click', () => shortcuts.showModal());
bindShortcuts({
  search: () => search.focus(),
  nextSymbol: (by) => {
    const order = watchlist.order();
    if (order.length === 0) return;
    const next = order[(order.indexOf(selected ?? '') + by + order.length) % order.length]!;
    void select(next);
  },
  interval: (index) => setInterval_(INTERVALS[index]!),
  pauseTicks: () => ticks.togglePause(),
  nextTheme: () => theme.cycle(),
  help: () => shortcuts.showModal(),
});

/** Where the stream stands, and since when the data on screen is stale. */
let lastState = '';
transport.onState((state, detail) => {
  status.dataset.state = state;
  status.textContent = detail;
  document.body.dataset.connection = state;
  if (state === 'reconnecting') {
    banner.hidden = false;
    banner.textContent = `Disconnected: ${detail}. Showing the data received until ${new Date().toLocaleTimeString()}.`;
  } else if (state === 'live') {
    banner.hidden = true;
  }
  // Connection changes go to the activity log.
  if (state !== lastState && (state === 'live' || state === 'reconnecting') && lastState !== '') {
    events.add({
      kind: 'connection',
      level: state === 'live' ? 'info' : 'warning',
      message: `Dashboard ${state === 'live' ? 'connected' : 'disconnected'}: ${detail}`,
      timestamp: new Date().toISOString(),
    } satisfies MarketEvent);
  }
  if (state === 'live' || state === 'reconnecting') lastState = state;
});

async function loadBars(symbol: string): Promise<{ bars: Bar[]; included: Positions | null }> {
  const reply = await transport.request<Candle[]>('candles', { symbol, interval, limit: MAX_BARS });
  return { bars: reply.data.map(barFromCandle), included: reply.positions };
}

async function select(symbol: string): Promise<void> {
  selected = symbol;
  const wanted = { symbol, interval };
  watchlist.cards.select(symbol);
  chartSymbol.textContent = symbol;
  document.title = `${symbol} · Tickstream`;
  held = [];
  chartMessage.dataset.state = 'loading';
  chartMessage.textContent = `Loading ${symbol} ${interval} history…`;
  chartMessage.hidden = false;
  let loaded: { bars: Bar[]; included: Positions | null } = { bars: [], included: null };
  try {
    loaded = await loadBars(symbol);
    chartMessage.hidden = true;
  } catch (error) {
    chartMessage.dataset.state = 'error';
    chartMessage.textContent = `Could not load ${symbol} history: ${error instanceof RequestError ? error.message : String(error)}`;
  }
  // A newer selection owns the chart now.
  if (wanted.symbol !== selected || wanted.interval !== interval) return;
  chart.load(symbol, loaded.bars, interval, loaded.included);
  chart.applyTicks(held ?? []);
  held = null;
  lastBar = chart.lastBarTime();
  void indicators.show(symbol, interval);
  const compared = chart.compared();
  if (compared) void compare(compared);
  chartEl.dataset.bars = String(chart.barCount());
  // What the chart holds now (tests wait for it after a change).
  chartEl.dataset.shows = `${symbol} ${interval}`;
  const url = new URL(window.location.href);
  url.searchParams.set('symbol', symbol);
  history.replaceState(null, '', url);
}

async function compare(symbol: string | null): Promise<void> {
  compareSelect.value = symbol ?? '';
  if (!symbol) {
    chart.setCompare(null, []);
    delete chartEl.dataset.compare;
    return;
  }
  try {
    const { bars } = await loadBars(symbol);
    chart.setCompare(symbol, bars);
    chartEl.dataset.compare = symbol;
  } catch (error) {
    chartMessage.dataset.state = 'error';
    chartMessage.textContent = `Could not load ${symbol} to compare: ${String(error)}`;
    chartMessage.hidden = false;
  }
}

function applyTick(tick: Tick): void {
  if (tick.timestamp <= (baseline.get(tick.symbol) ?? '')) return;
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

/** Diagnostics for tests and the benchmark: ticks applied and the chart's update times (ms). */
const stats = { ticks: 0, chartUpdates: [] as number[] };
(window as unknown as { tickstreamStats: typeof stats }).tickstreamStats = stats;

function flush(): void {
  frame = 0;
  if (!loaded) return;
  const batch = pending;
  pending = [];
  if (stats.ticks === 0 && batch.length > 0) performance.mark('first-tick');
  stats.ticks += batch.length;
  const touched = new Set<string>();
  for (const tick of batch) {
    applyTick(tick);
    touched.add(tick.symbol);
  }
  watchlist.update(touched);
  ticks.push(batch);
  ticks.render();
  // A source that had no symbols at load (a Kafka topic read from its end) charts its first.
  if (selected === null && batch.length > 0) void select(batch[0]!.symbol);
  const mine = batch.filter((t) => t.symbol === selected);
  if (held) held.push(...mine);
  else {
    const took = chart.applyTicks(mine);
    if (mine.length > 0) {
      stats.chartUpdates.push(took);
      if (stats.chartUpdates.length > 1000) stats.chartUpdates.shift();
    }
  }
  const compared = chart.compared();
  if (compared) chart.applyCompareTicks(batch.filter((t) => t.symbol === compared));
  const q = selected ? quotes.get(selected) : undefined;
  if (q) {
    setText(chartPrice, formatPrice(q.price));
    const trend = q.change >= 0 ? 'up' : 'down';
    if (chartPrice.dataset.trend !== trend) chartPrice.dataset.trend = trend;
  }
  const bars = String(chart.barCount());
  if (chartEl.dataset.bars !== bars) chartEl.dataset.bars = bars;
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
      events.add(msg.data);
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
  for (const q of list) {
    quotes.set(q.symbol, q);
    baseline.set(q.symbol, q.timestamp);
  }
  const symbols = list.map((q) => q.symbol);
  $('symbol-list').replaceChildren(...symbols.map((s) => new Option(s, s)));
  compareSelect.replaceChildren(new Option('—', ''), ...symbols.map((s) => new Option(s, s)));
  scenarios.setSymbols(symbols);
  alerts.setSymbols(symbols);
  loaded = true;
  if (pending.length > 0 && !frame) frame = requestAnimationFrame(flush);
  await watchlist.refresh();
  void alerts.refresh();
  void portfolio.refresh();
  const wanted = new URLSearchParams(window.location.search).get('symbol');
  const first = list.find((q) => q.symbol === wanted) ?? list.find((q) => q.symbol === watchlist.order()[0]) ?? list[0];
  if (first) await select(first.symbol);
} catch (error) {
  loaded = true;
  chartMessage.dataset.state = 'error';
  chartMessage.textContent = `Could not load symbols: ${error instanceof RequestError ? error.message : String(error)}`;
  chartMessage.hidden = false;
}
