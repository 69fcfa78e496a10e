// The API key a browser dashboard sends to its daemon, kept for this tab's
// session only (sessionStorage: gone when the tab closes, never in a URL the
// user sees), and the news that the daemon refused it.
import { RequestError } from './types';

const STORAGE_KEY = 'tickstream.apiKey';
const refusedListeners = new Set<(message: string) => void>();

/** The key to send, if the user gave one. */
export function apiKey(): string | null {
  return sessionStorage.getItem(STORAGE_KEY);
}

export function setApiKey(key: string): void {
  sessionStorage.setItem(STORAGE_KEY, key);
}

export function clearApiKey(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** Headers that carry the key, if there is one. */
export function authHeaders(): Record<string, string> {
  const key = apiKey();
  return key ? { authorization: `Bearer ${key}` } : {};
}

/** Calls `listener` when the daemon wants a (valid) key; returns a function that stops calling it. */
export function onKeyRefused(listener: (message: string) => void): () => void {
  refusedListeners.add(listener);
  return () => refusedListeners.delete(listener);
}

/** The daemon refused the key (401, or close code 4401): tell whoever asks for one. */
export function keyRefused(message: string): void {
  for (const listener of refusedListeners) listener(message);
}

/** Checks `key` against the daemon at `base`: null when it may read, else why not. */
export async function verifyKey(base: URL, key: string): Promise<RequestError | null> {
  const response = await fetch(new URL('api/v1/symbols', base), { headers: { authorization: `Bearer ${key}` } });
  if (response.ok) return null;
  const body: unknown = await response.json().catch(() => null);
  return RequestError.fromBody(body, `${response.status} ${response.statusText}`);
}
