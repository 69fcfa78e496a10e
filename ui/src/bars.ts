// Folding live ticks into the newest candle of a chart, the way the engine
// buckets them (UTC, aligned to the epoch), and how many bars a chart keeps.
import type { Candle } from './generated/Candle';
import type { Interval } from './generated/Interval';
import type { Tick } from './generated/Tick';

export const INTERVALS: Interval[] = ['1s', '1m', '5m', '15m', '1h', '1d'];

const SECONDS: Record<Interval, number> = { '1s': 1, '1m': 60, '5m': 300, '15m': 900, '1h': 3600, '1d': 86400 };

/** A chart bar: time in Unix seconds. */
export interface Bar {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

export function barFromCandle(c: Candle): Bar {
  return { time: Date.parse(c.start) / 1000, open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume };
}

/** The bucket start (Unix seconds) of a tick. */
export function bucketOf(tick: Tick, interval: Interval): number {
  return bucketStart(tick.timestamp, interval);
}

/** The bucket start (Unix seconds) of an RFC 3339 time. */
export function bucketStart(timestamp: string, interval: Interval): number {
  const seconds = SECONDS[interval];
  return Math.floor(Date.parse(timestamp) / 1000 / seconds) * seconds;
}

/**
 * Applies ticks (in order) to `last`, the newest bar. Returns the bars that
 * changed, oldest first: the updated last bar and any new ones. Ticks older
 * than `last` are ignored.
 */
export function foldTicks(last: Bar | null, ticks: Tick[], interval: Interval): Bar[] {
  const changed: Bar[] = [];
  let current = last ? { ...last } : null;
  for (const tick of ticks) {
    const time = bucketOf(tick, interval);
    if (current && time < current.time) continue;
    if (current && time === current.time) {
      current.high = Math.max(current.high, tick.price);
      current.low = Math.min(current.low, tick.price);
      current.close = tick.price;
      current.volume += tick.volume;
    } else {
      if (current) changed.push(current);
      current = { time, open: tick.price, high: tick.price, low: tick.price, close: tick.price, volume: tick.volume };
    }
  }
  if (current && ticks.length > 0) changed.push(current);
  return changed;
}

/**
 * Bars a chart series holds: the history loaded, and as live bars arrive
 * beyond `MAX_BARS + TRIM_SLACK` the oldest go, so a chart left streaming
 * keeps a constant memory.
 */
export const MAX_BARS = 1_000;
const TRIM_SLACK = 100;

/** Whether `count` bars are more than `max + slack`: then the oldest go, down to `max`. */
export function exceedsKept(count: number, max = MAX_BARS, slack = TRIM_SLACK): boolean {
  return count > max + slack;
}
