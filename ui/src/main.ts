// Dashboard entry point: wires the transport to the watchlist, the chart,
// the tick table, the events log and the workspace panels, applying stream
// updates once per animation frame.
import './style.css';
import { AlertPanel } from './alerts';
import { INTERVALS } from './bars';
import { ChartView } from './chart';
import { ChartPanel } from './chartpanel';
import { DepthPanel } from './depth';
import { EventLog } from './eventlog';
import type { MarketEvent } from './generated/MarketEvent';
import type { Quote } from './generated/Quote';
import type { Tick } from './generated/Tick';
import { IndicatorBar } from './indicators';
import { MetricsPanel } from './metrics';
import { inDesktopApp } from './platform';
import { PortfolioPanel } from './portfolio';
import { ReplayPanel } from './replay';
import { ScenarioPanel } from './scenarios';
import { SymbolSearch } from './search';
import { bindShortcuts } from './shortcuts';
import { Tabs } from './tabs';
import { ThemeControl } from './theme';
import { TickTable } from './ticktable';
import { TradePanel } from './trading';
import { createTransport, RequestError } from './transport';
import { VolumePanel } from './volume';
import { WatchlistPanel } from './watchlist';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const transport = createTransport();
const quotes = new Map<string, Quote>();
const status = $('status');
const sourceStatus = $('source-status');
const banner = $('offline-banner');

const chart = new ChartView($('chart'), $('chart-legend'));
const theme = new ThemeControl($<HTMLSelectElement>('theme'), () => chart.applyTheme());
const chartPanel = new ChartPanel(
  {
    chart: $('chart'), symbol: $('chart-symbol'), price: $('chart-price'), message: $('chart-message'),
    intervals: $('intervals'), compare: $<HTMLSelectElement>('compare-symbol'),
  },
  chart, new IndicatorBar($('indicators'), chart, transport), transport,
  (symbol) => watchlist.cards.select(symbol),
);
const select = (symbol: string) => chartPanel.select(symbol);
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
const trade = new TradePanel($('panel-trade'), transport, () => chartPanel.symbol(), (fills) => chart.addFills(fills));
new ReplayPanel($('panel-replay'), transport, () => {
  // Another source (a replay, or live again): its ticks are not older than what is shown.
  baseline.clear();
  const charted = chartPanel.symbol();
  if (charted) void select(charted);
});
const depth = new DepthPanel($<HTMLTableSectionElement>('depth-bids'), $<HTMLTableSectionElement>('depth-asks'), $('depth-summary'), transport, () => chartPanel.symbol());
const shortcuts = $<HTMLDialogElement>('shortcuts');
if (inDesktopApp()) {
  // Loaded on demand: the browser build never needs it.
  const { SettingsDialog } = await import('./settings');
  new SettingsDialog($<HTMLDialogElement>('settings'), $<HTMLButtonElement>('settings-open'));
  const { AboutDialog, UpdateDialog } = await import('./about');
  new AboutDialog($<HTMLDialogElement>('about'), $<HTMLButtonElement>('about-open'), new UpdateDialog($<HTMLDialogElement>('update')));
} else {
  // A daemon with API keys asks the browser for one.
  const { SignIn } = await import('./signin');
  new SignIn($<HTMLDialogElement>('sign-in'), $<HTMLButtonElement>('sign-out'), new URL('/', window.location.href));
}

let pending: Tick[] = [];
let frame = 0;
/** Until the symbols' quotes have loaded, ticks wait (the quotes are their base). */
let loaded = false;
/** Each symbol's quote time when loaded: ticks up to it are already in the quote. */
const baseline = new Map<string, string>();

// A workspace panel that works only while shown is added here (and its tab in index.html).
tabs.setPanels({ 'tab-ticks': ticks, 'tab-events': events, 'tab-trade': trade, 'tab-portfolio': portfolio, 'tab-depth': depth, 'tab-volume': volume, 'tab-metrics': metrics });
tabs.start();

$('shortcuts-open').addEventListener('click', () => shortcuts.showModal());
bindShortcuts({
  search: () => search.focus(),
  nextSymbol: (by) => {
    const order = watchlist.order();
    if (order.length === 0) return;
    const next = order[(order.indexOf(chartPanel.symbol() ?? '') + by + order.length) % order.length]!;
    void select(next);
  },
  interval: (index) => chartPanel.setInterval(INTERVALS[index]!),
  pauseTicks: () => ticks.togglePause(),
  nextTheme: () => theme.cycle(),
  trade: (side) => {
    tabs.show('tab-trade');
    trade.open(side);
  },
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
  if (chartPanel.symbol() === null && batch.length > 0) void select(batch[0]!.symbol);
  const took = chartPanel.applyFrame(batch, quotes);
  if (took !== null) {
    stats.chartUpdates.push(took);
    if (stats.chartUpdates.length > 1000) stats.chartUpdates.shift();
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
    case 'order':
    case 'fill':
      trade.onMessage(msg);
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
  chartPanel.setSymbols(symbols);
  scenarios.setSymbols(symbols);
  alerts.setSymbols(symbols);
  loaded = true;
  if (pending.length > 0 && !frame) frame = requestAnimationFrame(flush);
  await watchlist.refresh();
  void alerts.refresh();
  void portfolio.refresh();
  void trade.refresh();
  const wanted = new URLSearchParams(window.location.search).get('symbol');
  const first = list.find((q) => q.symbol === wanted) ?? list.find((q) => q.symbol === watchlist.order()[0]) ?? list[0];
  if (first) await select(first.symbol);
} catch (error) {
  loaded = true;
  chartPanel.say('error', `Could not load symbols: ${error instanceof RequestError ? error.message : String(error)}`);
}
