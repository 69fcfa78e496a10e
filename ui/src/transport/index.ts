// Picks the transport for where the dashboard runs.
import type { Transport } from './types';
import { WsTransport } from './ws';

export type { ConnectionState, Positions, Reply, Transport } from './types';
export { RequestError } from './types';

/** The browser talks to the daemon that served the page. The desktop shell plugs in its IPC transport here. */
export function createTransport(): Transport {
  return new WsTransport(new URL('/', window.location.href));
}
