// Security in a real browser: a page on another origin cannot stream, read
// or change a daemon on loopback; a daemon with API keys asks the dashboard
// for one, which then works until the user signs out.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { Daemon, launchBrowser } from './harness.mjs';

let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

/** An HTTP server on another loopback port serving `html` at `/`; resolves to its origin. */
async function otherSite(html) {
  const server = createServer((_, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end(html);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

test('a page on another origin can neither stream nor read nor change a keyless loopback daemon', async () => {
  const daemon = await Daemon.start({ rate: 50, backfill: '0s' });
  const site = await otherSite('<!doctype html><title>elsewhere</title>');
  try {
    const page = await browser.newPage();
    await page.goto(site.origin);
    const outcome = await page.evaluate(async (base) => {
      const wsOpened = await new Promise((resolve) => {
        const socket = new WebSocket(base.replace('http', 'ws') + 'ws');
        socket.onopen = () => resolve(true);
        socket.onerror = () => resolve(false);
        setTimeout(() => resolve('timeout'), 5_000);
      });
      const scenario = JSON.stringify({ kind: 'flash_crash', depth: 0.2, fall: '10s', recovery: '1m' });
      // No preflight for text/plain: the request is sent, the daemon must refuse it.
      await fetch(base + 'api/v1/scenarios', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: scenario });
      // A JSON post needs a preflight the daemon does not allow.
      const json = await fetch(base + 'api/v1/watchlists', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', symbols: ['AAPL'] }),
      }).then(() => 'sent', (e) => `blocked: ${e.message}`);
      const read = await fetch(base + 'api/v1/portfolios').then((r) => r.text(), (e) => `blocked: ${e.message}`);
      return { wsOpened, json, read };
    }, daemon.url);
    assert.equal(outcome.wsOpened, false, 'the WebSocket upgrade is refused');
    assert.match(outcome.json, /^blocked/);
    assert.match(outcome.read, /^blocked/, 'the page cannot read the answer');
    const scenarios = await (await fetch(daemon.url + 'api/v1/scenarios')).json();
    assert.deepEqual(scenarios, [], 'no scenario was injected');
    const watchlists = await (await fetch(daemon.url + 'api/v1/watchlists')).json();
    assert.deepEqual(watchlists, []);
    const metrics = await (await fetch(daemon.url + 'metrics')).text();
    // The upgrade and the text/plain post, each refused for its origin.
    const refusals = Number(metrics.match(/tickstream_http_refusals_total\{code="origin_not_allowed"\} (\d+)/)?.[1]);
    assert.ok(refusals >= 2, `origin refusals counted: ${refusals}`);
    await page.close();
  } finally {
    site.server.close();
    await daemon.stop();
  }
});

test('a daemon with keys asks the dashboard for one, which works until signing out', async () => {
  const daemon = await Daemon.start({ rate: 200, backfill: '0s' });
  try {
    // Keyless on loopback, so the first key is made over REST; from then on keys are required.
    const made = await fetch(daemon.url + 'api/v1/keys', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'viewer', scope: 'read' }),
    });
    assert.equal(made.status, 201);
    const { key } = await made.json();
    assert.equal((await fetch(daemon.url + 'api/v1/symbols')).status, 401);

    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(daemon.url);
    const dialog = page.locator('#sign-in');
    await dialog.waitFor({ state: 'visible', timeout: 15_000 });
    assert.match(await dialog.locator('[data-role="reason"]').textContent(), /needs an API key/);
    await dialog.locator('input[name="key"]').fill('tsk_000000000000_wrong');
    await dialog.locator('button[type="submit"]').click();
    await page.waitForFunction(() => /not valid/.test(document.querySelector('#sign-in [role="alert"]').textContent));
    await dialog.locator('input[name="key"]').fill(key);
    await dialog.locator('button[type="submit"]').click();
    await page.locator('#status[data-state="live"]').waitFor({ timeout: 30_000 });
    await page.waitForFunction(() => document.querySelectorAll('.card').length === 20, null, { timeout: 30_000 });
    assert.equal(await page.locator('#sign-in').isVisible(), false);
    const url = page.url();
    assert.ok(!url.includes(key), 'the key is not in the address bar');
    // A read key cannot change anything: the refusal is shown, not swallowed.
    const refused = await page.evaluate(async () => {
      const r = await fetch('/api/v1/watchlists', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${sessionStorage.getItem('tickstream.apiKey')}` },
        body: JSON.stringify({ name: 'x', symbols: ['AAPL'] }),
      });
      return { status: r.status, body: await r.json() };
    });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'forbidden');
    await page.locator('#sign-out').click();
    await dialog.waitFor({ state: 'visible', timeout: 15_000 });
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    await daemon.stop();
  }
});
