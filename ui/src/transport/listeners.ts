// The dashboard's side of one live stream, shared by both transports: who
// listens for which symbols (the stream subscribes to their union), the
// connection's state, and where the stream resumes after a reconnect.
import type { ServerMsg } from '../generated/ServerMsg';
import type { StreamTopic } from '../generated/StreamTopic';
import { type Resume, track } from './positions';
import type { ConnectionState } from './types';

/** What the dashboard's stream carries: ticks, market events, and paper trading's orders and fills. */
export const TOPICS: StreamTopic[] = ['stock_ticks', 'market_events', 'orders'];

type Listener = { symbols: string[]; onMessage: (msg: ServerMsg) => void };
type StateListener = (state: ConnectionState, detail: string) => void;

export class StreamListeners {
  private listeners = new Set<Listener>();
  private stateListeners = new Set<StateListener>();
  /** Next offset per partition: where a reconnect resumes. */
  private positions: Resume = {};

  /** Adds a listener; the function returned removes it and gives the symbols no listener wants any more. */
  add(symbols: string[], onMessage: (msg: ServerMsg) => void): () => string[] {
    const listener = { symbols, onMessage };
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      const still = new Set(this.symbols());
      return symbols.filter((s) => !still.has(s));
    };
  }

  /** Every symbol some listener wants. */
  symbols(): string[] {
    return [...new Set([...this.listeners].flatMap((l) => l.symbols))];
  }

  onState(listener: StateListener): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  setState(state: ConnectionState, detail: string): void {
    for (const listener of this.stateListeners) listener(state, detail);
  }

  /** Forgets where the stream was (it changes source). */
  reset(): void {
    for (const key of Object.keys(this.positions)) delete this.positions[key];
  }

  /** Where a (re)subscription continues, once anything was received. */
  resume(): Resume | undefined {
    return Object.keys(this.positions).length > 0 ? { ...this.positions } : undefined;
  }

  /**
   * Notes `msg`'s positions and hands it to every listener; first calls
   * `afresh` when the positions were unusable (the server's log is not the
   * one they came from) and the stream must subscribe again from scratch.
   */
  deliver(msg: ServerMsg, afresh: () => void): void {
    if (track(this.positions, msg)) afresh();
    for (const listener of this.listeners) listener.onMessage(msg);
  }
}
