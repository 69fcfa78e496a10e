// Picks the transport for where the dashboard runs.
import { inDesktopApp } from '../platform';
import { IpcTransport } from './ipc';
import type { Transport } from './types';
import { WsTransport } from './ws';

export type { ConnectionState, Positions, Reply, Transport } from './types';
export { RequestError } from './types';

/** In the desktop app, IPC to the bundled engine; in a browser, the daemon that served the page. */
export function createTransport(): Transport {
  return inDesktopApp() ? new IpcTransport() : new WsTransport(new URL('/', window.location.href));
}

/** The parameter asking a chart's REST answer as of the replay streamed (none when live). */
export function asOfReplay(transport: Transport): Record<string, number> {
  const replay = transport.replay();
  return replay === null ? {} : { replay };
}
