// What the desktop tests and benchmark share: free ports, waiting for a
// listener, a clean environment, test certificates, a release host.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer, Socket } from 'node:net';
import { join } from 'node:path';

/** A port nothing listens on (yet). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts connections on `port`. */
export async function listening(port, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const socket = new Socket();
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
      socket.connect(port, '127.0.0.1');
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The environment without TICKSTREAM_* variables (tickstreamd refuses ones it does not know). */
export function cleanEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TICKSTREAM_')));
}

/** A CA and a certificate for 127.0.0.1 signed by it, made with the openssl command; their paths. */
export function certificates(dir) {
  mkdirSync(dir, { recursive: true });
  const openssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Tickstream test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('x509', '-req', '-in', 'cert.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'cert.pem', '-days', '2', '-extfile', 'san.ext');
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
}

/**
 * A release host for the updater over HTTPS: `dir`'s latest.json (as
 * `cargo xtask release` and `merge-manifests` wrote it, its URLs pointed
 * here) at /stable/latest.json and its packages under /download/.
 * `tamper = true` flips a byte of every package served.
 */
export async function serveRelease(dir, tls) {
  const manifest = JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8'));
  const port = await freePort();
  const published = structuredClone(manifest);
  for (const entry of Object.values(published.platforms)) {
    entry.url = `https://localhost:${port}/download/${entry.url.split('/').pop()}`;
  }
  const host = {
    version: manifest.version,
    endpoint: `https://localhost:${port}/{{channel}}/latest.json`,
    ca: tls.ca,
    tamper: false,
    close: () => server.close(),
  };
  const server = createHttpsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (req, res) => {
    if (req.url === '/stable/latest.json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(published));
      return;
    }
    const name = decodeURIComponent(req.url.replace(/^\/download\//, ''));
    const file = join(dir, name);
    if (!req.url.startsWith('/download/') || name.includes('/') || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    const bytes = readFileSync(file);
    if (host.tamper) bytes[bytes.length >> 1] ^= 0xff;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length }).end(bytes);
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return host;
}
