// Where a stream continues after a reconnect: the next offset per partition,
// learnt from the frames received. Shared by every transport.
import type { ServerMsg } from '../generated/ServerMsg';

/** Next offset per `stock_ticks` partition. */
export type Resume = Record<string, number>;

/**
 * Folds a server frame into `positions`. Returns true when the positions are
 * unusable (the server's log is not the one they came from) and were cleared.
 */
export function track(positions: Resume, msg: ServerMsg): boolean {
  if (msg.type === 'ticks') {
    for (const tick of msg.data) {
      if (tick.partition !== undefined && tick.offset !== undefined) positions[tick.partition] = tick.offset + 1;
    }
  } else if (msg.type === 'subscribed') {
    // Where the stream continues (a replay's starts afresh at a seek).
    for (const key of Object.keys(positions)) delete positions[key];
    Object.assign(positions, msg.positions);
  } else if (msg.type === 'gap') {
    positions[msg.partition] = msg.resumed_at;
  } else if (msg.type === 'error' && msg.code === 'invalid_resume') {
    for (const key of Object.keys(positions)) delete positions[key];
    return true;
  }
  return false;
}
