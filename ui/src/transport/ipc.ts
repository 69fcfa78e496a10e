// IpcTransport: the desktop app's way to the engine. Requests are Tauri
// commands; the live stream is the WebSocket protocol carried by a Tauri
// channel, delivered at most once per animation frame by the shell.
import { Channel, invoke } from '@tauri-apps/api/core';
import type { ClientMsg } from '../generated/ClientMsg';
import type { RestReply } from '../generated/RestReply';
import type { ServerMsg } from '../generated/ServerMsg';
import type { StreamDelivery } from '../generated/StreamDelivery';
import { StreamListeners, TOPICS } from './listeners';
import { type ConnectionState, type Reply, RequestError, type Transport } from './types';
import { parsePositions } from './ws';

export class IpcTransport implements Transport {
  private listeners = new StreamListeners();
  private stream: Promise<number> | null = null;
  private replayId: number | null = null;

  async request<T>(path: string, params: Record<string, string | number> = {}): Promise<Reply<T>> {
    const query = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]));
    const reply = await call<RestReply>('request', { path, query });
    return { data: answer(reply) as T, positions: parsePositions(reply.positions) };
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    return answer(await call<RestReply>('send', { method: 'POST', path, body })) as T;
  }

  async send<T>(method: 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    return answer(await call<RestReply>('send', { method, path, body: body ?? null })) as T;
  }

  subscribe(symbols: string[], onMessage: (msg: ServerMsg) => void): () => void {
    const remove = this.listeners.add(symbols, onMessage);
    if (!this.stream) this.open();
    else void this.sendFrame({ op: 'subscribe', topics: TOPICS, symbols });
    return () => {
      const gone = remove();
      if (gone.length > 0) void this.sendFrame({ op: 'unsubscribe', symbols: gone });
    };
  }

  onState(listener: (state: ConnectionState, detail: string) => void): () => void {
    return this.listeners.onState(listener);
  }

  useReplay(id: number | null): void {
    this.replayId = id;
    this.listeners.reset();
    const old = this.stream;
    this.stream = null;
    if (old) void old.then((stream) => invoke('stream_close', { id: stream })).catch(() => undefined);
    this.open();
  }

  replay(): number | null {
    return this.replayId;
  }

  private open(): void {
    this.listeners.setState('connecting', 'Starting the engine…');
    const channel = new Channel<StreamDelivery>();
    channel.onmessage = (delivery) => {
      if ('state' in delivery) {
        if (delivery.state === 'live') {
          // (Re)subscribe, continuing where the stream was.
          const resume = this.listeners.resume();
          void this.sendFrame({ op: 'subscribe', topics: TOPICS, symbols: this.listeners.symbols(), ...(resume ? { resume } : {}) });
          this.listeners.setState('live', delivery.detail);
        } else {
          this.listeners.setState('reconnecting', delivery.detail);
        }
        return;
      }
      for (const msg of delivery.frames) {
        this.listeners.deliver(msg, () => void this.sendFrame({ op: 'subscribe', topics: TOPICS, symbols: this.listeners.symbols() }));
      }
    };
    const stream = openStream(channel, this.replayId);
    this.stream = stream;
    stream.catch((error: unknown) => {
      // Replaced meanwhile: nothing to retry.
      if (this.stream !== stream) return;
      // The engine is still starting: try again shortly.
      this.stream = null;
      this.listeners.setState('connecting', String(error));
      setTimeout(() => this.open(), 500);
    });
  }

  private async sendFrame(msg: ClientMsg): Promise<void> {
    if (!this.stream) return;
    const id = await this.stream;
    await invoke('stream_send', { id, text: JSON.stringify(msg) });
  }
}

async function openStream(channel: Channel<StreamDelivery>, replay: number | null): Promise<number> {
  return invoke<number>('stream_open', { channel, replay });
}

/** A command's result; its failure as a RequestError. */
async function call<T>(command: string, args: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (error) {
    throw new RequestError('unavailable', String(error));
  }
}

/** The body of a successful reply; the gateway's error otherwise. */
function answer(reply: RestReply): unknown {
  if (reply.status >= 200 && reply.status < 300) return reply.body;
  throw RequestError.fromBody(reply.body, `status ${reply.status}`);
}

