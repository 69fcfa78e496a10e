// The trader's workspace in real Chromium against a real tickstreamd, used
// as a person would (clicks, typing, keyboard only): the watchlist (sort,
// filter, named lists kept by the engine), symbol search and shortcuts,
// compare mode and the crosshair legend, the virtualised tick table, the
// events log with its filters and exports, portfolios with live P&L, volume
// analysis and the metrics panel, a replay steered from its tab; accessibility (axe-core) in both themes;
// screenshots of the main views at 1440×900 and 375×812.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { artifacts, cardSymbols, Daemon, launchBrowser, openDashboard } from './harness.mjs';

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

const open = (options) => openDashboard(browser, daemon.url, options);
const api = async (path, init) => {
  const response = await fetch(new URL(`api/v1/${path}`, daemon.url), init);
  return { status: response.status, body: response.status === 204 ? null : await response.json() };
};
const post = (path, body) => api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

test('the watchlist sorts, filters and keeps named lists in the engine', async () => {
  const { page, errors } = await open();
  await page.waitForFunction(() => document.querySelectorAll('.card').length === 20);
  // Cards show the day's high and low and the change with a sign and an arrow.
  const card = page.locator('.card[data-symbol="AAPL"]');
  assert.match(await card.locator('.card-range').textContent(), /^H [\d,.]+ · L [\d,.]+$/);
  assert.match(await card.locator('.card-change').textContent(), /^[▲▼■] (up|down|unchanged) [+−±]/);

  await page.selectOption('#watchlist-sort', 'change-desc');
  const percents = await page.$$eval('.card .card-change', (cells) =>
    cells.map((c) => Number(c.textContent.match(/\(([+−±])([\d.]+) %\)/).slice(1).join('').replace('−', '-').replace('±', ''))),
  );
  // Cards redraw between re-sorts (every 2 s): allow the few hundredths prices move meanwhile.
  assert.ok(percents.every((p, i) => i === 0 || percents[i - 1] >= p - 0.1), `top gainers first: ${percents}`);
  assert.ok(percents[0] > percents.at(-1), `top gainers first: ${percents}`);
  await page.fill('#watchlist-filter', 'm');
  const filtered = await cardSymbols(page);
  assert.ok(filtered.length > 0 && filtered.every((s) => s.includes('M')), filtered.join());
  await page.fill('#watchlist-filter', '');

  // A named list, made with the keyboard only.
  await page.focus('#watchlist-new');
  await page.keyboard.press('Enter');
  await page.keyboard.type('Chips');
  await page.keyboard.press('Enter');
  await page.locator('#watchlist-result[data-state="ok"]').waitFor();
  for (const symbol of ['NVDA', 'AMD', 'ZZZZ']) {
    await page.locator('#watchlist-add input').fill(symbol);
    await page.keyboard.press('Enter');
    await page.waitForFunction((s) => document.querySelector('#watchlist-result').textContent.includes(s), symbol);
  }
  // The engine refused the unknown symbol and said which field.
  assert.match(await page.textContent('#watchlist-result'), /symbols\[2\]: ZZZZ is not a known symbol/);
  assert.equal(await page.getAttribute('#watchlist-result', 'data-state'), 'error');
  await page.selectOption('#watchlist-sort', 'symbol');
  assert.deepEqual(await cardSymbols(page), ['AMD', 'NVDA']);
  await page.click('.card[data-symbol="AMD"] .card-remove');
  await page.waitForFunction(() => document.querySelectorAll('.card').length === 1);
  const { body: lists } = await api('watchlists');
  assert.deepEqual(lists.map((l) => [l.name, l.symbols]), [['Chips', ['NVDA']]]);

  // Kept by the engine: a fresh browser (no local storage) finds it.
  const second = await open();
  await second.page.selectOption('#watchlist-select', { label: 'Chips (1)' });
  await second.page.waitForFunction(() => document.querySelectorAll('.card').length === 1);
  await second.page.click('#watchlist-delete');
  await second.page.waitForFunction(() => document.querySelectorAll('.card').length === 20);
  assert.deepEqual((await api('watchlists')).body, []);
  assert.deepEqual(errors, []);
  await second.page.close();
  await page.close();
});

test('the keyboard finds symbols, switches intervals and walks the watchlist', async () => {
  const { page, errors } = await open();
  await page.waitForFunction(() => document.getElementById('chart-symbol').textContent === 'AAPL');
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'symbol-search');
  await page.keyboard.type('ms');
  await page.locator('#search-results [role="option"]').first().waitFor();
  assert.equal(await page.getAttribute('#search-results [aria-selected="true"]', 'data-symbol'), 'MSFT');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('chart-symbol').textContent === 'MSFT');
  assert.ok(await page.locator('#search-results').isHidden());
  // An unknown name says so.
  await page.keyboard.press('/');
  await page.keyboard.type('qqqq');
  assert.match(await page.textContent('#search-results'), /No symbol matches “qqqq”/);
  await page.keyboard.press('Escape');

  await page.keyboard.press('2');
  assert.equal(await page.textContent('#intervals button[aria-checked="true"]'), '1m');
  const order = await cardSymbols(page);
  const next = order[order.indexOf('MSFT') + 1];
  await page.keyboard.press('j');
  await page.waitForFunction((s) => document.getElementById('chart-symbol').textContent === s, next);
  await page.keyboard.press('k');
  await page.waitForFunction(() => document.getElementById('chart-symbol').textContent === 'MSFT');
  await page.keyboard.press('?');
  assert.ok(await page.locator('#shortcuts').isVisible());
  await page.keyboard.press('Escape');
  assert.ok(await page.locator('#shortcuts').isHidden());
  // Tabs follow the arrow keys.
  await page.focus('#tab-ticks');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.getAttribute('#tab-events', 'aria-selected'), 'true');
  assert.ok(await page.locator('#panel-events').isVisible());
  assert.deepEqual(errors, []);
  await page.close();
});

test('compare mode puts a second symbol on a % scale; the legend follows the crosshair', async () => {
  const { page, errors } = await open();
  await page.locator('#chart[data-bars]').waitFor();
  await page.waitForFunction(() => Number(document.getElementById('chart').dataset.bars) > 5);
  const latest = await page.textContent('#chart-legend');
  assert.match(latest, /^AAPL 1s .* O [\d,.]+ {2}H [\d,.]+ {2}L [\d,.]+ {2}C [\d,.]+/);
  const box = await page.locator('#chart').boundingBox();
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.5);
  await page.waitForFunction((before) => document.getElementById('chart-legend').textContent !== before, latest);
  await page.selectOption('#compare-symbol', 'MSFT');
  await page.locator('#chart[data-compare="MSFT"]').waitFor();
  await page.mouse.move(box.x + box.width * 0.95, box.y + box.height * 0.5);
  await page.waitForFunction(() => /· MSFT [\d,.]+ \([+−±][\d.]+ % over the chart\)/.test(document.getElementById('chart-legend').textContent));
  await page.screenshot({ path: join(artifacts, 'compare-1440.png') });
  await page.selectOption('#compare-symbol', '');
  await page.waitForFunction(() => !document.getElementById('chart').dataset.compare);
  assert.deepEqual(errors, []);
  await page.close();
});

test('the tick table keeps 10 000 rows with only the visible ones in the page; pause and filter', async () => {
  const fast = await Daemon.start({ rate: 5000 });
  try {
    const { page, errors } = await openDashboard(browser, fast.url);
    await page.click('#tab-ticks');
    // Drawn while on screen: the panel is below the fold at 1440×900.
    await page.locator('#ticks-scroll').scrollIntoViewIfNeeded();
    await page.waitForFunction(() => Number(document.getElementById('ticks-body').dataset.rows) === 10_000, null, { timeout: 30_000 });
    const drawn = await page.locator('#ticks-body tr:not(.spacer)').count();
    assert.ok(drawn > 5 && drawn < 60, `${drawn} rows in the DOM for 10 000 ticks`);
    // Newest first: offsets fall down the table within a partition.
    const firstRow = await page.locator('#ticks-body tr:not(.spacer)').first().locator('td').allTextContents();
    assert.match(firstRow[0], /^\d\d:\d\d:\d\d\.\d{3}$/);
    assert.equal(firstRow.length, 8);

    await page.keyboard.press('p');
    assert.equal(await page.getAttribute('#ticks-pause', 'aria-pressed'), 'true');
    const frozen = await page.locator('#ticks-body tr:not(.spacer)').first().textContent();
    // Longer than 10 000 ticks take to arrive at this rate: the paused rows are kept, not pushed out.
    await page.waitForTimeout(2_500);
    assert.equal(await page.locator('#ticks-body tr:not(.spacer)').first().textContent(), frozen, 'paused rows hold still');
    assert.equal(await page.getAttribute('#ticks-body', 'data-rows'), '10000');
    assert.match(await page.textContent('#ticks-count'), /paused, [\d,]+ new/);
    // Scrolling to the end shows the oldest kept rows, still few in the DOM.
    await page.locator('#ticks-scroll').evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.waitForTimeout(100);
    assert.ok((await page.locator('#ticks-body tr:not(.spacer)').count()) < 60);
    await page.click('#ticks-pause');
    await page.fill('#ticks-filter', 'nvda');
    await page.waitForTimeout(300);
    const symbols = await page.$$eval('#ticks-body tr:not(.spacer) td:nth-child(2)', (cells) => cells.map((c) => c.textContent));
    assert.ok(symbols.length > 0 && symbols.every((s) => s === 'NVDA'), symbols.join());
    assert.match(await page.textContent('#ticks-count'), /ticks of NVDA/);
    await page.screenshot({ path: join(artifacts, 'ticks-1440.png') });
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    await fast.stop();
  }
});

test('the events log filters by level, type and text and exports what it shows', async () => {
  const { page, errors } = await open();
  await page.click('#tab-events');
  assert.equal((await post('scenarios', { kind: 'halt', symbol: 'TSLA' })).status, 201);
  assert.equal((await post('scenarios', { kind: 'news_shock', symbol: 'META', jump: 0.03 })).status, 201);
  await page.locator('.event[data-kind="halt"]').first().waitFor({ timeout: 30_000 });
  await page.locator('.event[data-kind="news"]').first().waitFor({ timeout: 30_000 });
  assert.equal((await post('scenarios', { kind: 'resume', symbol: 'TSLA' })).status, 201);
  await page.locator('.event[data-kind="resume"]').first().waitFor({ timeout: 30_000 });

  await page.selectOption('#events-kind', 'halt');
  assert.ok((await page.locator('.event').count()) >= 1);
  assert.deepEqual(new Set(await page.$$eval('.event', (e) => e.map((x) => x.dataset.kind))), new Set(['halt']));
  await page.selectOption('#events-kind', '');
  await page.fill('#events-search', 'meta');
  const texts = await page.locator('.event').allTextContents();
  assert.ok(texts.length > 0 && texts.every((t) => /META/i.test(t)), texts.join('\n'));
  await page.fill('#events-search', 'no such words anywhere');
  assert.equal(await page.textContent('#events .empty'), 'No events match the filters.');
  await page.fill('#events-search', '');
  await page.selectOption('#events-level', 'critical');
  const levels = await page.$$eval('.event', (e) => e.map((x) => x.dataset.level));
  assert.ok(levels.every((l) => l === 'critical'), levels.join());
  await page.selectOption('#events-level', '');
  await page.selectOption('#events-kind', 'halt');

  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#events-csv')]);
  assert.match(csv.suggestedFilename(), /^tickstream-events-.*\.csv$/);
  const lines = readFileSync(await csv.path(), 'utf8').trim().split('\r\n');
  assert.equal(lines[0], 'timestamp,level,kind,symbol,message');
  assert.ok(lines.length >= 2 && lines.slice(1).every((l) => l.split(',')[2] === 'halt'), lines.join('\n'));
  await page.selectOption('#events-kind', '');
  const [json] = await Promise.all([page.waitForEvent('download'), page.click('#events-json')]);
  const exported = JSON.parse(readFileSync(await json.path(), 'utf8'));
  const kinds = new Set(exported.map((e) => e.kind));
  for (const kind of ['halt', 'resume', 'news']) assert.ok(kinds.has(kind), [...kinds].join());
  assert.ok(exported.every((e) => e.timestamp && e.level && e.message));
  assert.match(await page.textContent('#events-result'), /Downloaded tickstream-events-.*\.json \(\d+ events\)/);
  await page.screenshot({ path: join(artifacts, 'events-1440.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

test('a portfolio is kept by the engine and valued live', async () => {
  const { page, errors } = await open();
  await page.click('#tab-portfolio');
  await page.fill('#portfolio-create input', 'Growth');
  await page.click('#portfolio-create button');
  await page.locator('#position-add').waitFor();
  for (const [symbol, quantity, cost] of [['AAPL', '100', '150'], ['MSFT', '-20', '500']]) {
    await page.fill('#position-add [name="symbol"]', symbol);
    await page.fill('#position-add [name="quantity"]', quantity);
    await page.fill('#position-add [name="cost"]', cost);
    await page.click('#position-add button');
    await page.locator(`#positions tbody tr[data-symbol="${symbol}"]`).waitFor();
  }
  // A position the engine refuses says which field.
  await page.fill('#position-add [name="symbol"]', 'AMD');
  await page.fill('#position-add [name="quantity"]', '0');
  await page.fill('#position-add [name="cost"]', '10');
  await page.click('#position-add button');
  await page.waitForFunction(() => /positions\[2\]\.quantity/.test(document.getElementById('portfolio-result').textContent));

  const { body: [portfolio] } = await api('portfolios');
  assert.equal(portfolio.name, 'Growth');
  assert.deepEqual(portfolio.positions.map((p) => [p.symbol, p.quantity, p.cost]), [['AAPL', 100, 150], ['MSFT', -20, 500]]);
  // The P&L on screen moves with the market and is the engine's.
  const shown = () => page.getAttribute('#positions tfoot tr', 'data-pnl').then(Number);
  const first = await shown();
  await page.waitForFunction((f) => Number(document.querySelector('#positions tfoot tr').dataset.pnl) !== f, first, { timeout: 30_000 });
  const { body: value } = await api(`portfolios/${portfolio.id}/value`);
  assert.ok(Math.abs((await shown()) - value.pnl) / Math.abs(value.cost_basis) < 0.05, `${await shown()} vs ${value.pnl}`);
  const row = await page.locator('#positions tbody tr[data-symbol="AAPL"] td').allTextContents();
  assert.match(row[5], /^[+−±][\d,]+\.\d\d$/);
  await page.screenshot({ path: join(artifacts, 'portfolio-1440.png') });

  // Kept: a fresh browser shows it; removing a position updates the engine.
  const second = await open();
  await second.page.click('#tab-portfolio');
  await second.page.locator('#positions tbody tr[data-symbol="MSFT"]').waitFor();
  await second.page.click('#positions tbody tr[data-symbol="MSFT"] button');
  await second.page.waitForFunction(() => !document.querySelector('#positions tbody tr[data-symbol="MSFT"]'));
  assert.deepEqual((await api(`portfolios/${portfolio.id}`)).body.positions.map((p) => p.symbol), ['AAPL']);
  assert.deepEqual(errors, []);
  await second.page.close();
  await page.close();
});

test("the depth tab shows the charted symbol's order book as the engine has it", async () => {
  const { page, errors } = await open();
  await page.locator('#chart-symbol').filter({ hasText: /^[A-Z]/ }).waitFor({ timeout: 30_000 });
  const symbol = (await page.textContent('#chart-symbol')).trim();
  await page.click('#tab-depth');
  await page.waitForFunction(() => document.querySelectorAll('#depth-bids tr').length === 10 && document.querySelectorAll('#depth-asks tr').length === 10, null, { timeout: 30_000 });
  const { body: book } = await api(`book?symbol=${symbol}`);
  // Ten levels a side, but for those the last trade took until the next refresh.
  assert.ok(book.bids.length >= 5 && book.bids.length <= 10, `${book.bids.length} bids`);
  assert.equal(book.snapshot, true);
  const prices = async (side) => page.$$eval(`#depth-${side} tr`, (trs) => trs.map((tr) => Number(tr.cells[0].textContent.replace(/,/g, ''))));
  const [bids, asks] = [await prices('bids'), await prices('asks')];
  assert.ok(bids.every((p, i) => i === 0 || p < bids[i - 1]), `bids highest first: ${bids}`);
  assert.ok(asks.every((p, i) => i === 0 || p > asks[i - 1]), `asks lowest first: ${asks}`);
  assert.ok(bids[0] < asks[0], `not crossed: ${bids[0]} < ${asks[0]}`);
  assert.match(await page.textContent('#depth-summary'), new RegExp(`^${symbol}: spread .* seq \\d+$`));
  await page.screenshot({ path: join(artifacts, 'depth-1440.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

test('the trade ticket places paper orders from the keyboard; the blotter and account follow the engine', async () => {
  const { page, errors } = await open();
  await page.locator('#chart-symbol').filter({ hasText: /^[A-Z]/ }).waitFor({ timeout: 30_000 });
  const symbol = (await page.textContent('#chart-symbol')).trim();
  // `b` opens the ticket on the buy side with the quantity selected; Enter places it.
  await page.keyboard.press('b');
  await page.waitForFunction(() => document.activeElement?.getAttribute('name') === 'quantity');
  assert.equal(await page.getAttribute('#tab-trade', 'aria-selected'), 'true');
  assert.equal(await page.textContent('#ticket-symbol'), symbol);
  await page.keyboard.type('50');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /: filled, 50 filled at/.test(document.getElementById('ticket-result').textContent), null, { timeout: 15_000 });
  const { body: [bought] } = await api('orders?limit=1');
  assert.deepEqual([bought.symbol, bought.side, bought.kind, bought.filled, bought.status], [symbol, 'buy', 'market', 50, 'filled']);
  await page.locator(`#trade-orders tbody tr[data-status="filled"]`).first().waitFor();
  await page.waitForFunction((s) => [...document.querySelectorAll('#trade-positions tbody tr')].some((tr) => tr.cells[0].textContent === s && tr.cells[1].textContent === '50'), symbol);
  const { body: account } = await api('accounts/paper');
  assert.equal(account.positions.find((p) => p.symbol === symbol).quantity, 50);
  assert.match(await page.textContent('#account-summary'), /cash [\d,]+\.\d\d · buying power/);

  // A limit far below the market rests; Cancel in the blotter ends it.
  await page.selectOption('#trade-ticket [name="kind"]', 'limit');
  await page.fill('#trade-ticket [name="limit_price"]', String(Math.floor(bought.average_price / 2)));
  await page.selectOption('#trade-ticket [name="time_in_force"]', 'gtc');
  await page.fill('#trade-ticket [name="quantity"]', '10');
  await page.click('#trade-ticket button[type="submit"]');
  const working = page.locator('#trade-orders tbody tr[data-status="open"]');
  await working.waitFor();
  await working.locator('button').click();
  await page.waitForFunction(() => !document.querySelector('#trade-orders tbody tr[data-status="open"]'));
  const { body: [cancelled] } = await api('orders?limit=1');
  assert.equal(cancelled.status, 'canceled');

  // A refusal says which field and why.
  await page.keyboard.press('s');
  await page.keyboard.type('1000000');
  await page.selectOption('#trade-ticket [name="kind"]', 'market');
  await page.click('#trade-ticket button[type="submit"]');
  await page.waitForFunction(() => /^quantity: selling 1000000/.test(document.getElementById('ticket-result').textContent));
  await page.screenshot({ path: join(artifacts, 'trade-1440.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

test('a replay takes over the dashboard: opened paused, stepped, played to its end at max, then back to live', async () => {
  const { page, errors } = await open();
  await page.locator('#chart-symbol').filter({ hasText: /^[A-Z]/ }).waitFor({ timeout: 30_000 });
  const symbol = (await page.textContent('#chart-symbol')).trim();
  // Five seconds the store holds whole: ticks of the symbol stored before and after them.
  const waited = Date.now();
  const stored = async (query) => (await api(`ticks?symbol=${symbol}&${query}&limit=1`)).body.length > 0;
  while (!(await stored(`to=${new Date(Date.now() - 6_000).toISOString()}`))) {
    assert.ok(Date.now() - waited < 30_000, 'the daemon stored six seconds of ticks');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const from = new Date(Math.floor((Date.now() - 6_000) / 1000) * 1000);
  const to = new Date(from.getTime() + 5_000);
  while (!(await stored(`from=${to.toISOString()}`))) {
    assert.ok(Date.now() - waited < 30_000, 'the daemon stored a tick after the range');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await page.click('#tab-replay');
  const local = (time) => page.evaluate((ms) => {
    const t = new Date(ms);
    const pad = (n) => String(n).padStart(2, '0');
    return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}T${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
  }, time.getTime());
  await page.fill('#panel-replay [name="from"]', await local(from));
  await page.fill('#panel-replay [name="to"]', await local(to));
  const asOf = page.waitForRequest((r) => r.url().includes('/api/v1/candles') && r.url().includes('replay='));
  await page.click('#panel-replay button[type="submit"]');
  await page.locator('#replay-status[data-state="paused"]').waitFor({ timeout: 15_000 });
  // The stream is the replay's, the chart as of its clock.
  await page.waitForFunction(() => /^Replay \d+ from /.test(document.getElementById('status').textContent), null, { timeout: 15_000 });
  await asOf;
  const { body: [replay] } = await api('replays');
  assert.equal(replay.state, 'paused');
  assert.equal(replay.from, `${from.toISOString().slice(0, 19)}.000000Z`);

  // Step: one tick (and any of the same microsecond), then paused again.
  const before = await page.evaluate(() => window.tickstreamStats.ticks);
  await page.click('#replay-step');
  await page.waitForFunction((n) => window.tickstreamStats.ticks > n, before, { timeout: 15_000 });
  const { body: stepped } = await api(`replays/${replay.id}`);
  assert.ok(stepped.ticks >= 1 && stepped.state === 'paused', JSON.stringify(stepped));

  // At max it plays to the end; the events log says so.
  await page.selectOption('#replay-speed', 'max');
  await page.waitForFunction(() => document.getElementById('replay-status').textContent.includes('paused'));
  await page.click('#replay-toggle');
  await page.locator('#replay-status[data-state="completed"]').waitFor({ timeout: 30_000 });
  const { body: done } = await api(`replays/${replay.id}`);
  assert.equal(done.state, 'completed');
  assert.equal(done.speed, 'max');
  await page.click('#tab-events');
  await page.waitForFunction((id) => document.getElementById('events').textContent.includes(`replay ${id} completed`), replay.id, { timeout: 15_000 });
  await page.screenshot({ path: join(artifacts, 'replay-1440.png') });

  // Back to live: the replay is deleted, the stream is live again.
  await page.click('#tab-replay');
  await page.click('#replay-live');
  await page.waitForFunction(() => /^Live from /.test(document.getElementById('status').textContent), null, { timeout: 15_000 });
  assert.deepEqual((await api('replays')).body, []);
  assert.deepEqual(errors, []);
  await page.close();
});

test('volume analysis and metrics come from the engine', async () => {
  const { page, errors } = await open();
  await page.click('#tab-volume');
  await page.locator('#volume-symbols tbody tr').first().waitFor({ timeout: 30_000 });
  const { body: report } = await api('volume?days=5&minutes=30');
  const rows = await page.$$eval('#volume-symbols tbody tr', (trs) => trs.map((tr) => tr.dataset.symbol));
  assert.equal(rows.length, report.symbols.length);
  assert.equal(rows[0], report.symbols[0].symbol, 'most traded first, as the engine ranks them');
  await page.locator('#volume-day .bar').first().waitFor();
  assert.ok((await page.locator('#volume-day .bar').count()) >= 3, 'the backfilled hours have volume');
  assert.match(await page.textContent('#volume-zone'), /America\/New_York/);
  await page.screenshot({ path: join(artifacts, 'volume-1440.png') });

  await page.click('#tab-metrics');
  await page.locator('.metric[data-metric="ticks_in_per_second"] output[data-value]').waitFor({ timeout: 30_000 });
  await page.waitForFunction(() => Number(document.querySelector('.metric[data-metric="ticks_in_per_second"] output').dataset.value) > 100);
  assert.equal(await page.textContent('.metric[data-metric="consumer_lag"] output'), 'not Kafka');
  await page.waitForFunction(() => Number(document.querySelector('.metric[data-metric="clients"] output').dataset.value) >= 1);
  assert.match(await page.textContent('.metric[data-metric="latency_p99_ms"] output'), /ms$/);
  await page.screenshot({ path: join(artifacts, 'metrics-1440.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Serious and critical axe-core violations (WCAG 2.1 A/AA rules) on the page as it is. */
async function violations(page) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }),
  );
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

for (const theme of ['dark', 'light']) {
  test(`axe-core finds no serious or critical violations in the ${theme} theme`, async () => {
    const { page } = await open({ colorScheme: theme });
    await page.waitForFunction(() => document.querySelectorAll('.card').length === 20);
    await page.waitForTimeout(700); // let the price flashes fade
    const found = [];
    for (const tab of ['ticks', 'events', 'alerts', 'portfolio', 'volume', 'metrics', 'scenarios']) {
      await page.click(`#tab-${tab}`);
      await page.waitForTimeout(300);
      found.push(...(await violations(page)).map((v) => `[${tab}] ${v}`));
    }
    assert.deepEqual(found, []);
    await page.close();
  });
}

test('the main views fit 1440×900 and a 375×812 phone; screenshots saved', async () => {
  for (const [width, height, name] of [[1440, 900, '1440'], [375, 812, '375']]) {
    for (const colorScheme of ['dark', 'light']) {
      const { page, errors } = await open({ width, height, colorScheme });
      await page.waitForFunction(() => document.querySelectorAll('.card').length === 20);
      await page.waitForTimeout(500);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${width}px wide: the page scrolls sideways by ${overflow}px`);
      await page.screenshot({ path: join(artifacts, `dashboard-${name}-${colorScheme}.png`), fullPage: width < 500 });
      assert.deepEqual(errors, []);
      await page.close();
    }
  }
});
