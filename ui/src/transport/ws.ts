// WsTransport: REST over fetch and the stream over one WebSocket, with
// reconnection that resumes from the last offsets seen (no gap, no duplicate).
import type { ClientMsg } from '../generated/ClientMsg';
import type { ServerMsg } from '../generated/ServerMsg';
import { apiKey, authHeaders, keyRefused } from './credentials';
import { StreamListeners, TOPICS } from './listeners';
import type { Resume } from './positions';
import { type ConnectionState, type Positions, type Reply, RequestError, type Transport } from './types';

const PING_EVERY_MS = 15_000;
const SILENCE_LIMIT_MS = 35_000;
const MAX_BACKOFF_MS = 5_000;
/** Ticks gathered by the server into one frame: the dashboard draws once per display frame anyway. */
const BATCH_MS = 16;

export class WsTransport implements Transport {
  private socket: WebSocket | null = null;
  private listeners = new StreamListeners();
  private backoff = 250;
  private lastFrameAt = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private replayId: number | null = null;

  constructor(private readonly base: URL) {}

  async request<T>(path: string, params: Record<string, string | number> = {}): Promise<Reply<T>> {
    const url = new URL(`api/v1/${path}`, this.base);
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, String(value));
    const response = await fetch(url, { headers: authHeaders() });
    const body = await answer(response);
    return { data: body as T, positions: parsePositions(response.headers.get('tickstream-positions')) };
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  async send<T>(method: 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    return this.call<T>(method, path, body);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(new URL(`api/v1/${path}`, this.base), {
      method,
      headers: { ...authHeaders(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return (await answer(response)) as T;
  }

  subscribe(symbols: string[], onMessage: (msg: ServerMsg) => void): () => void {
    const remove = this.listeners.add(symbols, onMessage);
    if (!this.socket) this.connect();
    else if (this.socket.readyState === WebSocket.OPEN) this.subscribeFrame(symbols);
    return () => {
      const gone = remove();
      if (gone.length > 0 && this.socket?.readyState === WebSocket.OPEN) this.sendFrame({ op: 'unsubscribe', symbols: gone });
    };
  }

  onState(listener: (state: ConnectionState, detail: string) => void): () => void {
    return this.listeners.onState(listener);
  }

  useReplay(id: number | null): void {
    this.replayId = id;
    this.listeners.reset();
    const old = this.socket;
    // Its close is not a disconnection: the new socket replaces it.
    this.socket = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    old?.close(1000, 'the dashboard changed source');
    this.connect();
  }

  replay(): number | null {
    return this.replayId;
  }

  private connect(): void {
    const url = new URL('ws', this.base);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    this.listeners.setState('connecting', `Connecting to ${url.host}…`);
    // Browsers cannot set headers on a WebSocket: the key goes as access_token.
    const key = apiKey();
    if (key) url.searchParams.set('access_token', key);
    if (this.replayId !== null) url.searchParams.set('replay', String(this.replayId));
    const source = this.replayId === null ? 'Live' : `Replay ${this.replayId}`;
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      this.backoff = 250;
      this.lastFrameAt = Date.now();
      this.subscribeFrame(this.listeners.symbols(), this.listeners.resume());
      this.listeners.setState('live', `${source} from ${url.host}`);
      this.timer = setInterval(() => this.heartbeat(), PING_EVERY_MS / 3);
    };
    socket.onmessage = (event) => {
      this.lastFrameAt = Date.now();
      const msg = JSON.parse(String(event.data)) as ServerMsg;
      // The server's log is not the one these positions came from (e.g. its data was reset): start afresh.
      this.listeners.deliver(msg, () => this.subscribeFrame(this.listeners.symbols()));
    };
    socket.onclose = (event) => {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      if (this.socket !== socket) return;
      this.socket = null;
      if (event.code === 4401) keyRefused(event.reason || 'The API key was revoked or has expired.');
      const wait = this.backoff;
      this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
      const reason = event.reason || (event.code === 1006 ? 'connection lost' : `closed (${event.code})`);
      this.listeners.setState('reconnecting', `${reason}; reconnecting in ${(wait / 1000).toFixed(1)} s`);
      setTimeout(() => this.connect(), wait);
    };
  }

  private heartbeat(): void {
    if (Date.now() - this.lastFrameAt > SILENCE_LIMIT_MS) {
      this.socket?.close(4000, 'no data from the server');
      return;
    }
    this.sendFrame({ op: 'ping' });
  }

  /** Subscribes to `symbols` (continuing at `resume`), asking for the dashboard's batching. */
  private subscribeFrame(symbols: string[], resume?: Resume): void {
    this.sendFrame({ op: 'subscribe', topics: TOPICS, symbols, batch_ms: BATCH_MS, ...(resume ? { resume } : {}) });
  }

  private sendFrame(msg: ClientMsg): void {
    this.socket?.send(JSON.stringify(msg));
  }
}

/** Parses the `tickstream-positions` header: `0=1042,1=977`. */
export function parsePositions(header: string | null): Positions | null {
  if (!header) return null;
  const positions: Positions = {};
  for (const pair of header.split(',')) {
    const [partition, offset] = pair.split('=').map(Number);
    if (Number.isInteger(partition) && Number.isInteger(offset)) positions[partition!] = offset!;
  }
  return positions;
}

/** The JSON body of a REST answer; a RequestError with the gateway's code and message when it failed. */
async function answer(response: Response): Promise<unknown> {
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const error = RequestError.fromBody(body, `${response.status} ${response.statusText}`);
    if (response.status === 401) keyRefused(error.message);
    throw error;
  }
  return body;
}
