// Unit tests of the dashboard's logic (Vitest): formatters, candle folding,
// the tick buffer, watchlist arrangement, search, event filters and CSV,
// form → request mapping, transport helpers and theme resolution.
import { describe, expect, it, vi } from 'vitest';
import { formatBytes, lastCheckText, progressText } from './about';
import { describe as describeRule, conditionFrom } from './alerts';
import { barFromCandle, bucketOf, exceedsKept, foldTicks } from './bars';
import { sparkline } from './cards';
import { matches, toCsv } from './eventlog';
import { displayLocale, formatChange, formatPercent, formatPrice, formatVolume } from './format';
import type { MarketEvent } from './generated/MarketEvent';
import type { Quote } from './generated/Quote';
import type { Tick } from './generated/Tick';
import { Poller } from './poller';
import { formatPnl } from './portfolio';
import { scenarioFrom } from './scenarios';
import { searchSymbols } from './search';
import { resolve } from './theme';
import { TickBuffer } from './ticktable';
import { StreamListeners } from './transport/listeners';
import { track } from './transport/positions';
import { parsePositions } from './transport/ws';
import { arrange } from './watchlist';

const tick = (timestamp: string, price: number, volume = 10, symbol = 'AAPL'): Tick => ({ symbol, price, volume, timestamp });

describe('formatters', () => {
  it('give prices the decimals their size needs', () => {
    expect(formatPrice(1234.5)).toBe('1,234.50');
    expect(formatPrice(0.12345)).toBe('0.1235');
    expect(formatPrice(0.05, 187)).toBe('0.05');
  });
  it('sign changes and percentages with a real minus', () => {
    expect(formatChange(1.25, 187)).toBe('+1.25');
    expect(formatChange(-1.25, 187)).toBe('−1.25');
    expect(formatChange(0, 187)).toBe('±0.00');
    expect(formatPercent(-0.664)).toBe('−0.66 %');
    expect(formatPnl(-1250)).toBe('−1,250.00');
    expect(formatPnl(3.5)).toBe('+3.50');
  });
  it('compact volumes', () => {
    expect(formatVolume(1_234_567)).toBe('1.2M');
    expect(formatVolume(950)).toBe('950');
  });
  it('take the user\'s language unless it is the POSIX locale', () => {
    expect(displayLocale('de-DE')).toBe('de-DE');
    expect(displayLocale('C')).toBe('en-US');
    expect(displayLocale('')).toBe('en-US');
  });
});

describe('candles', () => {
  it('bucket ticks on the epoch grid, UTC', () => {
    expect(bucketOf(tick('2026-12-01T14:07:29.699Z', 1), '1m')).toBe(Date.parse('2026-12-01T14:07:00Z') / 1000);
    expect(bucketOf(tick('2026-12-01T14:07:29.699Z', 1), '15m')).toBe(Date.parse('2026-12-01T14:00:00Z') / 1000);
  });
  it('fold ticks into the newest bar and open new ones, ignoring older ticks', () => {
    const last = { time: Date.parse('2026-12-01T14:07:00Z') / 1000, open: 10, high: 11, low: 9, close: 10.5, volume: 100 };
    const bars = foldTicks(last, [
      tick('2026-12-01T14:06:59Z', 50),
      tick('2026-12-01T14:07:30Z', 12, 5),
      tick('2026-12-01T14:08:01Z', 8, 7),
      tick('2026-12-01T14:08:30Z', 8.5, 1),
    ], '1m');
    expect(bars).toEqual([
      { time: last.time, open: 10, high: 12, low: 9, close: 12, volume: 105 },
      { time: last.time + 60, open: 8, high: 8.5, low: 8, close: 8.5, volume: 8 },
    ]);
    expect(last.close).toBe(10.5); // the input is not changed
  });
  it('read candles from the wire', () => {
    const bar = barFromCandle({ symbol: 'AAPL', interval: '1m', start: '2026-12-01T14:07:00Z', open: 1, high: 2, low: 0.5, close: 1.5, volume: 9, vwap: 1.2, trades: 3, closed: true });
    expect(bar).toEqual({ time: Date.parse('2026-12-01T14:07:00Z') / 1000, open: 1, high: 2, low: 0.5, close: 1.5, volume: 9 });
  });
  it('trim only past the slack, keeping the newest', () => {
    expect(exceedsKept(6, 3, 2)).toBe(true);
    expect(exceedsKept(5, 3, 2)).toBe(false);
  });
  it('sparklines scale into their box', () => {
    expect(sparkline([1])).toBe('');
    const points = sparkline([1, 2]).split(' ').map((p) => p.split(',').map(Number));
    expect(points.at(-1)).toEqual([100, 2]);
    expect(points[0]![1]).toBe(26);
  });
});

describe('tick buffer', () => {
  it('keeps the newest ticks by sequence number', () => {
    const buffer = new TickBuffer(3);
    for (let i = 0; i < 5; i += 1) buffer.push(tick('2026-12-01T14:07:00Z', i));
    expect(buffer.total).toBe(5);
    expect(buffer.first()).toBe(2);
    expect(buffer.get(1)).toBeUndefined();
    expect([2, 3, 4].map((n) => buffer.get(n)!.price)).toEqual([2, 3, 4]);
    expect(buffer.get(5)).toBeUndefined();
    buffer.clear();
    expect(buffer.total).toBe(0);
  });

  it('keeps a snapshot (a paused view) as it was while the buffer wraps', () => {
    const buffer = new TickBuffer(3);
    for (let i = 0; i < 3; i += 1) buffer.push(tick('2026-12-01T14:07:00Z', i));
    const paused = buffer.snapshot();
    for (let i = 3; i < 9; i += 1) buffer.push(tick('2026-12-01T14:07:00Z', i));
    expect(buffer.first()).toBe(6);
    expect([paused.first(), paused.total]).toEqual([0, 3]);
    expect([0, 1, 2].map((n) => paused.get(n)!.price)).toEqual([0, 1, 2]);
  });
});

describe('watchlist and search', () => {
  const quote = (symbol: string, change_percent: number, volume: number, price: number) =>
    ({ symbol, change_percent, volume, price }) as Quote;
  const quotes = new Map([
    ['AAPL', quote('AAPL', 1, 100, 180)],
    ['MSFT', quote('MSFT', -2, 300, 400)],
    ['AMD', quote('AMD', 3, 200, 140)],
  ]);
  const all = ['MSFT', 'AAPL', 'AMD', 'NEW'];
  it('sort by the chosen key, unknown quotes last', () => {
    expect(arrange(all, quotes, '', 'symbol')).toEqual(['AAPL', 'AMD', 'MSFT', 'NEW']);
    expect(arrange(all, quotes, '', 'change-desc')).toEqual(['AMD', 'AAPL', 'MSFT', 'NEW']);
    expect(arrange(all, quotes, '', 'change-asc')).toEqual(['MSFT', 'AAPL', 'AMD', 'NEW']);
    expect(arrange(all, quotes, '', 'volume')).toEqual(['MSFT', 'AMD', 'AAPL', 'NEW']);
    expect(arrange(all, quotes, '', 'price')).toEqual(['MSFT', 'AAPL', 'AMD', 'NEW']);
  });
  it('filter by any part of the symbol, any case', () => {
    expect(arrange(all, quotes, ' a ', 'symbol')).toEqual(['AAPL', 'AMD']);
  });
  it('search lists prefix matches first', () => {
    expect(searchSymbols(['META', 'SMAR', 'MAR', 'MA', 'GOOGL'], 'ma')).toEqual(['MA', 'MAR', 'SMAR']);
    expect(searchSymbols(['AAPL'], '  ')).toEqual([]);
    expect(searchSymbols(['A1', 'A2', 'A3'], 'a', 2)).toEqual(['A1', 'A2']);
  });
});

describe('events log', () => {
  const event: MarketEvent = { kind: 'halt', level: 'warning', symbol: 'TSLA', message: 'TSLA halted, "news pending", 2m', timestamp: '2026-12-01T14:00:00Z' };
  it('filter by level, kind and text', () => {
    expect(matches(event, { level: '', kind: '', text: '' })).toBe(true);
    expect(matches(event, { level: 'critical', kind: '', text: '' })).toBe(false);
    expect(matches(event, { level: 'warning', kind: 'halt', text: 'tsla' })).toBe(true);
    expect(matches(event, { level: '', kind: 'news', text: '' })).toBe(false);
    expect(matches(event, { level: '', kind: '', text: 'crash' })).toBe(false);
  });
  it('export RFC 4180 CSV', () => {
    expect(toCsv([event, { ...event, symbol: undefined, message: 'plain' }])).toBe(
      'timestamp,level,kind,symbol,message\r\n' +
        '2026-12-01T14:00:00Z,warning,halt,TSLA,"TSLA halted, ""news pending"", 2m"\r\n' +
        '2026-12-01T14:00:00Z,warning,halt,,plain\r\n',
    );
  });
});

describe('forms', () => {
  it('alert conditions take only their fields, as numbers where numeric', () => {
    expect(conditionFrom('price_cross', { level: '101.5', direction: 'above', percent: '3' })).toEqual({ kind: 'price_cross', level: 101.5, direction: 'above' });
    expect(conditionFrom('percent_move', { percent: '2', window: ' 5m ' })).toEqual({ kind: 'percent_move', percent: 2, window: '5m' });
    expect(describeRule({ id: 1, symbol: 'AAPL', condition: { kind: 'price_cross', level: 200, direction: 'below' }, cooldown: '1m', enabled: true })).toBe('AAPL crosses below 200');
  });
  it('scenario percentages become fractions', () => {
    expect(scenarioFrom('flash_crash', { symbol: 'AAPL', depth: '5', fall: '30s', recovery: '' })).toEqual({ kind: 'flash_crash', symbol: 'AAPL', depth: 0.05, fall: '30s' });
  });
});

describe('transport helpers', () => {
  it('parse the positions header', () => {
    expect(parsePositions('0=1042,1=977')).toEqual({ 0: 1042, 1: 977 });
    expect(parsePositions(null)).toBeNull();
    expect(parsePositions('0=x,2=5')).toEqual({ 2: 5 });
  });
  it('track where a stream resumes, and forget a foreign log', () => {
    const positions: Record<string, number> = {};
    expect(track(positions, { type: 'ticks', data: [{ ...tick('2026-12-01T14:00:00Z', 1), partition: 3, offset: 41 }] })).toBe(false);
    expect(positions).toEqual({ 3: 42 });
    track(positions, { type: 'gap', partition: 3, requested: 42, resumed_at: 90 });
    expect(positions).toEqual({ 3: 90 });
    expect(track(positions, { type: 'error', code: 'invalid_resume', message: 'no' })).toBe(true);
    expect(positions).toEqual({});
  });
  it('resolve the system theme', () => {
    expect(resolve('system', true)).toBe('light');
    expect(resolve('system', false)).toBe('dark');
    expect(resolve('dark', true)).toBe('dark');
  });
});

describe('poller', () => {
  it('polls at once, then every interval while active, one request at a time', async () => {
    vi.useFakeTimers();
    let calls = 0;
    let finish: () => void = () => {};
    const poller = new Poller(1000, () => {
      calls += 1;
      return new Promise<void>((resolve) => (finish = resolve));
    });
    poller.setActive(true);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toBe(1); // the first answer is still awaited
    finish();
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toBe(2);
    // Hidden and shown again while a request is out: still one loop.
    poller.setActive(false);
    poller.setActive(true);
    finish();
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toBe(3);
    poller.setActive(false);
    finish();
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toBe(3);
    vi.useRealTimers();
  });
});

describe('stream listeners', () => {
  it('subscribe to the union of their symbols and say which ones nobody wants any more', () => {
    const listeners = new StreamListeners();
    const removeA = listeners.add(['AAPL', 'MSFT'], () => {});
    const removeB = listeners.add(['MSFT', 'NVDA'], () => {});
    expect(listeners.symbols().sort()).toEqual(['AAPL', 'MSFT', 'NVDA']);
    expect(removeA()).toEqual(['AAPL']);
    expect(removeB().sort()).toEqual(['MSFT', 'NVDA']);
  });
  it('resume where the ticks left off, and start afresh when the server refuses the positions', () => {
    const listeners = new StreamListeners();
    const seen: string[] = [];
    listeners.add(['AAPL'], (msg) => seen.push(msg.type));
    expect(listeners.resume()).toBeUndefined();
    listeners.deliver({ type: 'ticks', data: [{ ...tick('2026-11-24T14:30:00Z', 1), partition: 3, offset: 41 }] }, () => {
      throw new Error('not afresh');
    });
    expect(listeners.resume()).toEqual({ 3: 42 });
    let afresh = 0;
    listeners.deliver({ type: 'error', code: 'invalid_resume', message: 'no such partition' }, () => (afresh += 1));
    expect(afresh).toBe(1);
    expect(listeners.resume()).toBeUndefined();
    expect(seen).toEqual(['ticks', 'error']);
  });
});

describe('the update dialog', () => {
  it('says how far the download is, in bytes for people', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(4_321_000)).toBe('4.3 MB');
    expect(progressText({ step: 'downloading', received: 1_500_000, total: 6_000_000 })).toBe('Downloading… 1.5 MB of 6.0 MB');
    expect(progressText({ step: 'downloading', received: 2_000, total: null })).toBe('Downloading… 2.0 kB');
    expect(progressText({ step: 'installing' })).toContain('Signature verified');
  });

  it('shows the last check with what it found, or never', () => {
    const status = { channel: 'stable', auto_check: true, last_check: null, last_result: null, available: null };
    expect(lastCheckText(status)).toBe('never');
    const checked = lastCheckText({ ...status, last_check: '2026-12-03T10:00:00Z', last_result: 'failed: cannot reach the update server' });
    expect(checked).toContain('failed: cannot reach the update server');
  });
});
