// A Tickstream stream client for browsers and Node (give Node the `ws`
// package's WebSocket): subscribes to symbols, hands each tick to a
// callback, and after a dropped connection reconnects with `resume` (the
// next offset of every partition read), so no tick is missed or repeated;
// a `gap` says when the gateway no longer holds what was missed. The frame
// types are the engine's own, generated from its Rust types.
import type { ClientMsg } from '../../ui/src/generated/ClientMsg';
import type { ServerMsg } from '../../ui/src/generated/ServerMsg';
import type { Tick } from '../../ui/src/generated/Tick';

/** The WebSocket constructor: the browser's, or Node's from `ws`. */
export type WebSocketClass = new (url: string) => WebSocket;

export interface StreamOptions {
  /** `ws://host:port/ws`; an API key goes in `?access_token=`. */
  url: string;
  /** Symbols, or `['*']` for all. */
  symbols: string[];
  onTick: (tick: Tick) => void;
  onGap?: (partition: number, requested: number, resumedAt: number) => void;
  /** Defaults to the global WebSocket. */
  WebSocket?: WebSocketClass;
  /** Wait before reconnecting, ms (default 1000). */
  retryMs?: number;
}

export class TickStream {
  /** Next offset of every partition read. */
  readonly positions = new Map<number, number>();
  private socket: WebSocket | null = null;
  private closed = false;

  constructor(private readonly options: StreamOptions) {
    this.connect();
  }

  /** Drops the connection (as a network would); the stream reconnects and resumes. */
  drop(): void {
    this.socket?.close();
  }

  /** Stops for good. */
  close(): void {
    this.closed = true;
    this.socket?.close();
  }

  private connect(): void {
    const Socket = this.options.WebSocket ?? (globalThis.WebSocket as WebSocketClass);
    const socket = new Socket(this.options.url);
    this.socket = socket;
    socket.onopen = () => {
      const subscribe: ClientMsg = { op: 'subscribe', symbols: this.options.symbols };
      if (this.positions.size > 0) {
        subscribe.resume = Object.fromEntries(this.positions);
      }
      socket.send(JSON.stringify(subscribe));
    };
    socket.onmessage = (event: MessageEvent) => this.receive(JSON.parse(String(event.data)) as ServerMsg);
    socket.onclose = () => {
      if (!this.closed) setTimeout(() => this.connect(), this.options.retryMs ?? 1000);
    };
  }

  private receive(frame: ServerMsg): void {
    switch (frame.type) {
      case 'ticks':
        for (const tick of frame.data) {
          if (tick.partition !== undefined && tick.offset !== undefined) {
            this.positions.set(tick.partition, tick.offset + 1);
          }
          this.options.onTick(tick);
        }
        break;
      case 'gap':
        this.options.onGap?.(frame.partition, frame.requested, frame.resumed_at);
        break;
      case 'error':
        throw new Error(`${frame.code}: ${frame.message}`);
      default:
        break;
    }
  }
}
