// The one interface the dashboard reaches the engine through. Implemented by
// WsTransport (browser) and, in the desktop app, by an IPC transport.
import type { ErrorBody } from '../generated/ErrorBody';
import type { ErrorCode } from '../generated/ErrorCode';
import type { ServerMsg } from '../generated/ServerMsg';

/** Where the live stream stands. */
export type ConnectionState = 'connecting' | 'live' | 'reconnecting';

/** A failed request: the gateway's error code and message (`http_error` for an answer without one, `unavailable` when the engine could not be asked). */
export class RequestError extends Error {
  constructor(
    readonly code: ErrorCode | 'http_error' | 'unavailable',
    message: string,
  ) {
    super(message);
  }

  /** The error a failed answer's body (an `ErrorBody`) carries; `fallback` as its message when it carries none. */
  static fromBody(body: unknown, fallback: string): RequestError {
    const error = (body as Partial<ErrorBody> | null)?.error;
    return new RequestError(error?.code ?? 'http_error', error?.message ?? fallback);
  }
}

/** Next offset per partition of `stock_ticks`. */
export type Positions = Record<number, number>;

/** A REST answer, with the log positions it reflects where the engine says (candles). */
export interface Reply<T> {
  data: T;
  positions: Positions | null;
}

export interface Transport {
  /** GET a REST resource under /api/v1, e.g. request('candles', {symbol: 'AAPL'}). */
  request<T>(path: string, params?: Record<string, string | number>): Promise<Reply<T>>;
  /** POST a JSON body to a REST resource under /api/v1; resolves to the answer's body. */
  post<T>(path: string, body: unknown): Promise<T>;
  /** PUT (with a JSON body) or DELETE a REST resource under /api/v1; resolves to the answer's body (null when empty). */
  send<T>(method: 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T>;
  /** Streams frames for `symbols` ('*' = all); returns a function that unsubscribes. */
  subscribe(symbols: string[], onMessage: (msg: ServerMsg) => void): () => void;
  /** Reports connection changes; returns a function that stops reporting. */
  onState(listener: (state: ConnectionState, detail: string) => void): () => void;
  /** Streams replay `id` instead of the live market (`null`: the live market again), from its start. */
  useReplay(id: number | null): void;
  /** The replay streamed, if any. */
  replay(): number | null;
}
