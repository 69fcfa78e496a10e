// The dashboard in real headless Chromium, served by a real tickstreamd.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { artifacts, cardPrices, Daemon, launchBrowser, openDashboard as open } from './harness.mjs';

let daemon;
let browser;

before(async () => {
  daemon = await Daemon.start();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await daemon?.stop();
});

const openDashboard = (colorScheme = 'dark') => open(browser, daemon.url, { colorScheme });

test('the dashboard loads from the daemon and shows a card per symbol', async () => {
  const { page, errors } = await openDashboard();
  await page.waitForFunction(() => document.querySelectorAll('.card').length === 20, null, { timeout: 30_000 });
  assert.match(await page.locator('#status').textContent(), /Live/);
  assert.match(await page.title(), /^[A-Z.]+ · Tickstream$/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('cards update with live ticks', async () => {
  const { page } = await openDashboard();
  await page.waitForFunction(() => document.querySelectorAll('.card').length === 20);
  const first = await cardPrices(page);
  await page.waitForTimeout(1_500);
  const later = await cardPrices(page);
  const changed = later.filter((p, i) => p !== first[i]);
  assert.ok(changed.length >= 5, `only ${changed.length} of 20 cards changed in 1.5 s`);
  const trends = await page.$$eval('.card', (cards) => cards.map((c) => c.dataset.trend));
  assert.ok(trends.every((t) => ['up', 'down', 'flat'].includes(t)));
  await page.close();
});

test('the chart shows candles and moves', async () => {
  const { page } = await openDashboard();
  const chart = page.locator('#chart');
  await page.waitForFunction(() => Number(document.getElementById('chart').dataset.bars) >= 1, null, { timeout: 30_000 });
  assert.ok(await chart.locator('canvas').count() > 0, 'the chart draws on a canvas');
  const bars = Number(await chart.getAttribute('data-bars'));
  // 1-second candles: new bars appear as time passes.
  await page.waitForFunction((n) => Number(document.getElementById('chart').dataset.bars) > n, bars, { timeout: 30_000 });
  const before = await chart.screenshot();
  await page.waitForTimeout(1_500);
  const after = await chart.screenshot();
  assert.notDeepEqual(before, after, 'the chart image changes as ticks arrive');
  // Picking another symbol charts it.
  await page.locator('.card[data-symbol="MSFT"]').click();
  await page.waitForFunction(() => document.getElementById('chart-symbol').textContent === 'MSFT');
  assert.equal(await page.locator('.card[data-symbol="MSFT"] .card-main').getAttribute('aria-pressed'), 'true');
  await page.screenshot({ path: join(artifacts, 'dashboard-dark.png') });
  await page.close();
});

test('indicators from the engine overlay the chart, RSI in its own pane', async () => {
  const { page, errors } = await openDashboard();
  await page.locator('#chart[data-bars]').waitFor({ timeout: 30_000 });
  await page.click('button:has-text("1m")');
  for (const label of ['SMA 20', 'BB 20·2', 'RSI 14']) await page.click(`#indicators button:has-text("${label}")`);
  for (const id of ['sma', 'bollinger', 'rsi']) {
    await page.waitForFunction((id) => Number(document.querySelector('#indicators').dataset[`${id}Points`]) > 10, id, { timeout: 30_000 });
  }
  assert.equal(await page.getAttribute('#indicators button[data-indicator="rsi"]', 'aria-pressed'), 'true');
  await page.screenshot({ path: join(artifacts, 'indicators.png') });
  await page.click('#indicators button:has-text("RSI 14")');
  assert.equal(await page.getAttribute('#indicators', 'data-active'), 'sma bollinger');
  assert.deepEqual(errors, []);
  await page.close();
});

test('a scenario injected from the dashboard shows in the market events', async () => {
  const { page, errors } = await openDashboard();
  await page.click('#tab-scenarios');
  await page.locator('#scenario-symbol option[value="AAPL"]').waitFor({ state: 'attached', timeout: 30_000 });
  await page.selectOption('#scenario-kind', 'flash_crash');
  await page.selectOption('#scenario-symbol', 'AAPL');
  await page.fill('input[name="depth"]', '5');
  await page.fill('input[name="fall"]', '10s');
  await page.click('#market-control button[type="submit"]');
  await page.locator('#scenario-result[data-state="ok"]').waitFor({ timeout: 30_000 });
  assert.match(await page.textContent('#scenario-result'), /Scenario \d+ \(flash crash\) active/);
  await page.click('#tab-events');
  const event = page.locator('.event[data-kind="flash_crash"][data-level="critical"]');
  await event.first().waitFor({ timeout: 30_000 });
  assert.match(await event.first().textContent(), /AAPL flash crash: -5\.0% over 10s/);
  // A refused scenario says why, in the form.
  await page.click('#tab-scenarios');
  await page.selectOption('#scenario-kind', 'resume');
  await page.selectOption('#scenario-symbol', 'MSFT');
  await page.click('#market-control button[type="submit"]');
  await page.locator('#scenario-result[data-state="error"]').waitFor({ timeout: 30_000 });
  assert.equal(await page.textContent('#scenario-result'), 'MSFT is not halted');
  await page.screenshot({ path: join(artifacts, 'scenarios.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test('alert rules are set from the dashboard and fire into the events list', async () => {
  const { page, errors } = await openDashboard();
  await page.click('#tab-alerts');
  await page.locator('#alert-symbol option[value="NVDA"]').waitFor({ state: 'attached', timeout: 30_000 });
  // A level just above the last price (the engine's: NVDA's card may be off screen, not redrawn): the next rise crosses it.
  const quotes = await (await fetch(new URL('api/v1/symbols', daemon.url))).json();
  const price = quotes.find((q) => q.symbol === 'NVDA').price;
  await page.selectOption('#alert-symbol', 'NVDA');
  await page.selectOption('#alert-kind', 'price_cross');
  await page.fill('input[name="alert-level"]', String((price + 0.005).toFixed(3)));
  await page.click('#alerts button[type="submit"]');
  await page.locator('#alert-result[data-state]').waitFor({ timeout: 30_000 });
  assert.equal(await page.getAttribute('#alert-result', 'data-state'), 'ok', await page.textContent('#alert-result'));
  await page.locator('.alert-rule').first().waitFor({ timeout: 30_000 });
  await page.click('#tab-events');
  const fired = page.locator('.event[data-kind="alert"]');
  await fired.first().waitFor({ timeout: 30_000 });
  assert.match(await fired.first().textContent(), /Alert: NVDA crosses/);
  // A refused rule says which field is wrong.
  await page.click('#tab-alerts');
  await page.selectOption('#alert-kind', 'percent_move');
  await page.fill('input[name="alert-percent"]', '0');
  await page.click('#alerts button[type="submit"]');
  await page.locator('#alert-result[data-state="error"]').waitFor({ timeout: 30_000 });
  assert.match(await page.textContent('#alert-result'), /condition\.percent/);
  // Delete: the list empties.
  await page.click('.alert-rule button:has-text("Delete")');
  await page.locator('#alert-rules .empty').waitFor({ timeout: 30_000 });
  await page.screenshot({ path: join(artifacts, 'alerts.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test('the theme follows the system until dark or light is picked', async () => {
  const { page } = await openDashboard('dark');
  const theme = () => page.evaluate(() => document.documentElement.dataset.theme);
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(await theme(), 'dark');
  const darkBackground = await background();
  assert.equal(await page.inputValue('#theme'), 'system');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.waitForFunction(() => document.documentElement.dataset.theme === 'light');
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
  await page.selectOption('#theme', 'light');
  assert.equal(await theme(), 'light');
  assert.notEqual(await background(), darkBackground);
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(artifacts, 'dashboard-light.png') });
  // The choice is remembered.
  await page.reload();
  await page.locator('#status[data-state="live"]').waitFor();
  assert.equal(await theme(), 'light');
  await page.close();
});

test('the dashboard reconnects when the daemon comes back with fresh data', async () => {
  const { page } = await openDashboard();
  await page.waitForFunction(() => document.querySelectorAll('.card').length === 20);
  // Let the dashboard see offsets far beyond what a fresh daemon has.
  await page.waitForTimeout(2_000);
  await daemon.stop();
  await page.locator('#status[data-state="reconnecting"]').waitFor({ timeout: 30_000 });
  // The last data stays on screen, marked as such; the activity log records the change.
  assert.match(await page.textContent('#offline-banner'), /Disconnected: .*Showing the data received until/);
  assert.equal(await page.locator('.card').count(), 20);
  daemon = await Daemon.start({ listen: new URL(daemon.url).host });
  await page.locator('#status[data-state="live"]').waitFor({ timeout: 30_000 });
  assert.ok(await page.locator('#offline-banner').isHidden());
  await page.click('#tab-events');
  await page.selectOption('#events-kind', 'connection');
  const changes = await page.locator('.event[data-kind="connection"]').allTextContents();
  assert.ok(changes.some((c) => /Dashboard disconnected/.test(c)) && changes.some((c) => /Dashboard connected/.test(c)), changes.join('\n'));
  // Its old positions are past the new log's end: the dashboard starts afresh and streams again.
  const first = await cardPrices(page);
  await page.waitForFunction(
    (before) => {
      const now = [...document.querySelectorAll('.card')].map(
        (c) => `${c.dataset.symbol}=${c.querySelector('.card-price').textContent}`,
      );
      return now.filter((p, i) => p !== before[i]).length >= 5;
    },
    first,
    { timeout: 30_000 },
  );
  await page.close();
});
