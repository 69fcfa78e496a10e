// The API reference page (/api.html) in real Chromium against a real
// tickstreamd: it renders the daemon's own OpenAPI document, from the
// daemon's files only, and asks for a key when the daemon wants one.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Daemon, launchBrowser } from './harness.mjs';

let daemon;
let browser;

before(async () => {
  daemon = await Daemon.start({ backfill: '0s' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await daemon?.stop();
});

test('the API reference renders every operation from the daemon alone', async () => {
  const page = await browser.newPage();
  const errors = [];
  const elsewhere = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => {
    if (!r.url().startsWith(daemon.url) && !r.url().startsWith('data:')) elsewhere.push(r.url());
  });
  await page.goto(new URL('api.html', daemon.url).href);
  // RapiDoc draws into its shadow root.
  const spec = await (await fetch(new URL('api/v1/openapi.json', daemon.url))).json();
  const first = spec.paths['/api/v1/ticks'].get.summary;
  await page.waitForFunction((label) => document.querySelector('rapi-doc')?.shadowRoot?.textContent.includes(label), first, { timeout: 30_000 });
  const shown = await page.locator('rapi-doc').evaluate((doc) => doc.shadowRoot.textContent);
  // Each operation is listed by its summary, or its path when it has none.
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const label = operation.summary ?? path;
      assert.ok(shown.includes(label), `${method.toUpperCase()} ${path} is on the page as ${label}`);
    }
  }
  assert.deepEqual(elsewhere, [], 'nothing is fetched from anywhere but the daemon');
  assert.deepEqual(errors, []);
});

test('the API reference says a key is needed when the daemon wants one', async () => {
  const created = await fetch(new URL('api/v1/keys', daemon.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'reference', scope: 'read' }),
  });
  assert.equal(created.status, 201);
  const page = await browser.newPage();
  await page.goto(new URL('api.html', daemon.url).href);
  await page.locator('#notice:not([hidden])').waitFor();
  assert.match(await page.textContent('#notice'), /needs an API key/);
});
