// GraphQL at /graphql against a real tickstreamd, through real GraphQL
// clients: the `graphql` reference implementation reads the schema from
// introspection, queries and mutations go over HTTP as GraphQL-over-HTTP
// says, subscriptions through `graphql-ws` (the graphql-transport-ws
// protocol); answers agree with REST, refusals name the field and carry a
// code, depth is bounded, keys and scopes hold; the explorer page works
// from the daemon alone.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { buildClientSchema, getIntrospectionQuery, printSchema } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { Daemon, launchBrowser } from './harness.mjs';

let daemon;

before(async () => {
  daemon = await Daemon.start({ rate: 400, backfill: '10m' });
});

after(async () => {
  await daemon?.stop();
});

/** A GraphQL-over-HTTP request; the HTTP status and the body. */
async function graphql(query, variables = {}, key) {
  const headers = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  const response = await fetch(new URL('graphql', daemon.url), { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

const rest = async (path, init) => (await fetch(new URL(`api/v1/${path}`, daemon.url), init)).json();

/** The first `count` values a subscription yields, through graphql-ws. */
function take(url, query, count, variables = {}) {
  const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0 });
  const values = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${values.length} of ${count} values in 20 s`)), 20_000);
    const stop = client.subscribe({ query, variables }, {
      next: (value) => {
        // Messages already on their way still arrive after the last one wanted.
        if (values.length === count) return;
        if (value.errors) {
          clearTimeout(timer);
          reject(new Error(JSON.stringify(value.errors)));
          return;
        }
        values.push(value.data);
        if (values.length === count) {
          clearTimeout(timer);
          stop();
          client.dispose();
          resolve(values);
        }
      },
      error: (error) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
      },
      complete: () => {},
    });
  });
}

const socketUrl = (key) => {
  const url = new URL('graphql', daemon.url);
  url.protocol = 'ws:';
  if (key) url.searchParams.set('access_token', key);
  return url.href;
};

test('the schema introspects into a valid GraphQL schema with every root field', async () => {
  const { status, body } = await graphql(getIntrospectionQuery());
  assert.equal(status, 200);
  const schema = buildClientSchema(body.data);
  const sdl = printSchema(schema);
  for (const field of ['symbols', 'quote', 'ticks', 'candles', 'indicator', 'volume', 'alertRules', 'watchlists', 'portfolios', 'scenarios', 'metrics', 'orders', 'order', 'fills', 'accounts', 'account']) {
    assert.ok(schema.getQueryType().getFields()[field], `Query.${field}`);
  }
  for (const field of ['createAlertRule', 'replaceAlertRule', 'deleteAlertRule', 'createWatchlist', 'createPortfolio', 'injectScenario', 'placeOrder', 'changeOrder', 'cancelOrder', 'openAccount']) {
    assert.ok(schema.getMutationType().getFields()[field], `Mutation.${field}`);
  }
  for (const field of ['ticks', 'tickBatches', 'candles', 'events', 'alerts']) {
    assert.ok(schema.getSubscriptionType().getFields()[field], `Subscription.${field}`);
  }
  assert.match(sdl, /type Tick \{/);
});

test('queries answer what REST answers, and refusals name the field', async () => {
  const query = `query ($symbol: Symbol!) {
    candles(symbol: $symbol, interval: "1m", limit: 3) { start open high low close volume closed }
    quote(symbol: $symbol) { symbol price }
  }`;
  const { status, body } = await graphql(query, { symbol: 'AAPL' });
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  assert.equal(body.data.quote.symbol, 'AAPL');
  const closed = body.data.candles.filter((c) => c.closed);
  assert.ok(closed.length >= 1, JSON.stringify(body.data.candles));
  const viaRest = await rest('candles?symbol=AAPL&interval=1m&limit=3');
  for (const candle of closed) {
    const same = viaRest.find((c) => Date.parse(c.start) === Date.parse(candle.start));
    assert.ok(same, `REST has the candle at ${candle.start}`);
    assert.deepEqual([candle.open, candle.high, candle.low, candle.close, candle.volume], [same.open, same.high, same.low, same.close, same.volume]);
  }

  const unknown = await graphql('{ ticks(symbol: "ZZZZ") { price } }');
  assert.equal(unknown.body.errors[0].extensions.code, 'unknown_symbol');
  const limit = await graphql('{ ticks(symbol: "AAPL", limit: 0) { price } }');
  assert.equal(limit.body.errors[0].extensions.code, 'invalid_parameter');
  assert.match(limit.body.errors[0].message, /^limit: /);
  const symbol = await graphql('{ ticks(symbol: "not a symbol") { price } }');
  assert.ok(symbol.body.errors[0].message.includes('invalid characters'), JSON.stringify(symbol.body));
});

test('mutations change what REST shows, with REST refusals', async () => {
  const create = `mutation ($list: JSON!) { createWatchlist(watchlist: $list) { id name symbols } }`;
  const made = await graphql(create, { list: { name: 'Chips', symbols: ['NVDA', 'AMD'] } });
  assert.equal(made.body.errors, undefined, JSON.stringify(made.body.errors));
  const lists = await rest('watchlists');
  assert.deepEqual(lists.find((l) => l.name === 'Chips').symbols, ['NVDA', 'AMD']);
  const refused = await graphql(create, { list: { name: 'Bad', symbols: ['AAPL', 'ZZZZ'] } });
  assert.equal(refused.body.errors[0].extensions.code, 'invalid_watchlist');
  assert.match(refused.body.errors[0].message, /symbols\[1\]: ZZZZ/);
  const deleted = await graphql('mutation ($id: ID!) { deleteWatchlist(id: $id) }', { id: made.body.data.createWatchlist.id });
  assert.equal(deleted.body.data.deleteWatchlist, true);

  const portfolio = await graphql(
    `mutation { createPortfolio(portfolio: {name: "Core", positions: [{symbol: "AAPL", quantity: 10, cost: 100}]}) {
      id valuation { marketValue positions { symbol price } } } }`,
  );
  assert.equal(portfolio.body.errors, undefined, JSON.stringify(portfolio.body.errors));
  assert.ok(portfolio.body.data.createPortfolio.valuation.marketValue > 0);

  // Paper trading: an order placed through GraphQL is REST's, and so are its refusals.
  const place = `mutation ($order: JSON!) { placeOrder(order: $order) { order { id status filled side kind } fills { price quantity liquidity } } }`;
  const placed = await graphql(place, { order: { symbol: 'AAPL', side: 'buy', kind: 'market', quantity: 7 } });
  assert.equal(placed.body.errors, undefined, JSON.stringify(placed.body.errors));
  const { order, fills } = placed.body.data.placeOrder;
  assert.deepEqual([order.status, order.filled, order.side, order.kind], ['FILLED', 7, 'BUY', 'MARKET']);
  assert.equal(fills.reduce((n, f) => n + f.quantity, 0), 7);
  assert.equal((await rest(`orders/${order.id}`)).filled, 7);
  const account = await graphql('{ account(name: "paper") { cash positions { symbol quantity } } }');
  assert.deepEqual(account.body.data.account.positions, [{ symbol: 'AAPL', quantity: 7 }]);
  assert.equal(account.body.data.account.cash, (await rest('accounts/paper')).cash);
  const unpriced = await graphql(place, { order: { symbol: 'AAPL', side: 'buy', kind: 'limit', quantity: 1 } });
  assert.equal(unpriced.body.errors[0].extensions.code, 'invalid_order');
  assert.match(unpriced.body.errors[0].message, /^limit_price:/);
});

test('a query nested too deep is refused before it runs', async () => {
  let selection = 'id';
  for (let i = 0; i < 8; i += 1) selection = `valuation { portfolio { ${selection} } }`;
  const { body } = await graphql(`{ portfolios { ${selection} } }`);
  assert.match(body.errors[0].message, /nested too deep/i);
});

test('subscriptions stream live ticks and closing candles over graphql-transport-ws', async () => {
  const ticks = await take(socketUrl(), 'subscription { ticks(symbols: ["AAPL", "MSFT"]) { symbol price partition offset } }', 20);
  assert.ok(ticks.every(({ ticks: t }) => ['AAPL', 'MSFT'].includes(t.symbol)), JSON.stringify(ticks));
  const offsets = ticks.filter(({ ticks: t }) => t.symbol === 'AAPL').map(({ ticks: t }) => t.offset);
  assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b), 'one symbol is in order');
  const batches = await take(socketUrl(), 'subscription { tickBatches(symbols: ["*"]) { symbol offset } }', 3);
  assert.ok(batches.every(({ tickBatches: b }) => b.length >= 1 && b.every((t) => typeof t.offset === 'number')), JSON.stringify(batches));
  const [candle] = await take(socketUrl(), 'subscription { candles(symbol: "AAPL", interval: "1s") { symbol start closed volume } }', 1);
  assert.equal(candle.candles.symbol, 'AAPL');
  assert.equal(candle.candles.closed, true);
  await assert.rejects(take(socketUrl(), 'subscription { ticks(symbols: ["ZZZZ"]) { price } }', 1), /ZZZZ is not a known symbol/);
});

test('a request body, and the subscriptions of one connection, are bounded', async () => {
  // node:http, as fetch waits to send all of a body the server has refused.
  const huge = JSON.stringify({ query: `{ symbols { symbol } }${' '.repeat(3 * 1024 * 1024)}` });
  const status = await new Promise((resolve, reject) => {
    const request = http.request(new URL('graphql', daemon.url), { method: 'POST', headers: { 'content-type': 'application/json' } });
    request.on('response', (response) => resolve(response.statusCode));
    // Writing on after the answer may fail: the answer is what counts.
    request.on('error', (error) => setTimeout(() => reject(error), 1_000));
    request.end(huge);
  });
  assert.equal(status, 413);

  const client = createClient({ url: socketUrl(), webSocketImpl: WebSocket, retryAttempts: 0 });
  const errors = [];
  const started = [];
  try {
    const outcome = new Promise((resolve) => {
      for (let i = 0; i < 17; i += 1) {
        // A refused subscription answers with errors (then completes).
        const refused = (error) => {
          errors.push({ index: i, error });
          resolve();
        };
        started.push(client.subscribe({ query: 'subscription { ticks(symbols: ["AAPL"]) { offset } }' }, {
          next: (value) => value.errors && refused(value.errors),
          error: refused,
          complete: () => {},
        }));
      }
    });
    await outcome;
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(JSON.stringify(errors[0].error), /at most 16 subscriptions/);
    // A place given back (by one that runs) is taken again.
    started[errors[0].index === 0 ? 1 : 0]();
    const [again] = await new Promise((resolve, reject) => {
      const values = [];
      const stop = client.subscribe({ query: 'subscription { ticks(symbols: ["*"]) { offset } }' }, {
        next: (value) => {
          if (value.errors) reject(new Error(JSON.stringify(value.errors)));
          values.push(value);
          stop();
          resolve(values);
        },
        error: (error) => reject(new Error(JSON.stringify(error))),
        complete: () => {},
      });
    });
    assert.equal(typeof again.data.ticks.offset, 'number');
  } finally {
    for (const stop of started) stop();
    await client.dispose();
  }
});

test('the explorer runs a query from the daemon alone', async () => {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const elsewhere = [];
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => {
      if (!r.url().startsWith(daemon.url) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) elsewhere.push(r.url());
    });
    // A browser asking /graphql is sent to the explorer.
    await page.goto(new URL('graphql', daemon.url).href);
    assert.match(page.url(), /graphiql\.html$/);
    await page.locator('.graphiql-container').waitFor({ timeout: 30_000 });
    await page.locator('.graphiql-execute-button').click();
    await page.waitForFunction(() => document.querySelector('.result-window')?.textContent.includes('"symbols"'), null, { timeout: 30_000 });
    assert.deepEqual(elsewhere, []);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('with keys, operations need a key whose scope covers them', async () => {
  const created = await rest('keys', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'graphql-reader', scope: 'read' }) });
  const reader = created.key;
  const anonymous = await graphql('{ symbols { symbol } }');
  assert.equal(anonymous.status, 401);
  const read = await graphql('{ symbols { symbol } }', {}, reader);
  assert.equal(read.body.errors, undefined);
  const write = await graphql('mutation { deleteWatchlist(id: "1") }', {}, reader);
  assert.equal(write.body.errors[0].extensions.code, 'forbidden');
  const ticks = await take(socketUrl(reader), 'subscription { ticks(symbols: ["*"]) { symbol } }', 3);
  assert.equal(ticks.length, 3);
  await assert.rejects(take(socketUrl(), 'subscription { ticks(symbols: ["*"]) { symbol } }', 1));
});
