// The dashboard judged by its pixels, as a person sees it. One list of
// checks serves the browser build (Chromium, Playwright) and the desktop
// window (WebKitGTK, WebDriver), so a difference between the two fails a
// test. A check sees the page through a `view`:
//   shot(css) → a PNG of that element as drawn on screen;
//   run(expr) → the value of a page expression (promises awaited);
//   save(name, png) → keeps a screenshot in the test artifacts.
import assert from 'node:assert/strict';
import { blend, changed, countNear, decode, parseColour, survey } from './pixels.mjs';

/** A view over a Playwright page. */
export function playwrightView(page, save) {
  return { shot: (css) => page.locator(css).screenshot(), run: (expr) => page.evaluate(expr), save };
}

/** A view over a selenium-webdriver session. */
export function webdriverView(driver, save) {
  return {
    // WebKitWebDriver shoots only the part inside the viewport: show it whole first.
    shot: async (css) => {
      const element = await driver.findElement({ css });
      await driver.executeScript(`arguments[0].scrollIntoView({ block: 'center' })`, element);
      return Buffer.from(await element.takeScreenshot(), 'base64');
    },
    run: (expr) => driver.executeScript(`return (${expr});`),
    save,
  };
}

const POLL_MS = 100;

/** Waits until the page expression `expr` is truthy. */
async function until(view, expr, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await view.run(expr);
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs / 1000} s (${expr})`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Takes shots of `css` until `judge(image)` returns no complaint; returns the shot. Fails with the last complaint. */
async function untilDrawn(view, css, judge, timeoutMs = 15_000) {
  const started = Date.now();
  let complaint;
  for (;;) {
    const png = await view.shot(css);
    complaint = judge(decode(png));
    if (!complaint) return png;
    if (Date.now() - started > timeoutMs) assert.fail(`${css} after ${timeoutMs / 1000} s: ${complaint}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

const js = (value) => JSON.stringify(value);
const click = (view, css) => view.run(`document.querySelector(${js(css)}).click()`);
const pickInterval = (view, interval) =>
  view.run(`[...document.querySelectorAll('#intervals button')].find((b) => b.textContent === ${js(interval)}).click()`);
const choose = (view, css, value) =>
  view.run(`(() => { const s = document.querySelector(${js(css)}); s.value = ${js(value)}; s.dispatchEvent(new Event('change')); })()`);

/** Where the chart's parts are, in CSS px from its top left: the price pane, the price axis, the time axis. */
const chartLayout = (view) =>
  view.run(`(() => {
    const chart = document.getElementById('chart');
    const o = chart.getBoundingClientRect();
    const rows = chart.querySelectorAll('table tr');
    const at = (el) => { const r = el.getBoundingClientRect(); return { x: r.x - o.x, y: r.y - o.y, w: r.width, h: r.height }; };
    const css = getComputedStyle(document.documentElement);
    return {
      width: o.width,
      pane: at(rows[0].children[1]),
      priceAxis: at(rows[0].children[2]),
      timeAxis: at(rows[rows.length - 1].children[1]),
      colours: { panel: css.getPropertyValue('--panel'), up: css.getPropertyValue('--up'), down: css.getPropertyValue('--down') },
    };
  })()`);

/** At least this many pixels make a mark a person sees (a few candle bodies, a stretch of line). */
const VISIBLE = 40;

/** What is missing from a chart shot: candles of both colours, volume bars, labels on both axes. */
function chartComplaint(image, layout) {
  const scale = image.width / layout.width;
  const panel = parseColour(layout.colours.panel);
  const up = parseColour(layout.colours.up);
  const down = parseColour(layout.colours.down);
  const pane = { region: layout.pane, scale };
  const volumeBand = { region: { ...layout.pane, y: layout.pane.y + layout.pane.h * 0.8, h: layout.pane.h * 0.2 }, scale };
  const found = {
    'up candles': countNear(image, up, pane),
    'down candles': countNear(image, down, pane),
    'volume bars': countNear(image, blend(up, panel, 0x80 / 255), volumeBand) + countNear(image, blend(down, panel, 0x80 / 255), volumeBand),
  };
  const missing = Object.entries(found).filter(([, n]) => n < VISIBLE);
  if (missing.length) return `too few pixels of ${missing.map(([k, n]) => `${k} (${n})`).join(', ')}`;
  for (const axis of ['priceAxis', 'timeAxis']) {
    const s = survey(image, { region: layout[axis], scale });
    if (s.ink < 0.01 || s.distinct < 3) return `${axis} has no labels (ink ${(s.ink * 100).toFixed(2)} %, ${s.distinct} colours)`;
  }
  return null;
}

/** Waits until the chart shows candles, volume and axes; `different` demands a shot that differs from it by ≥ 2 %. */
async function chartDrawn(view, different) {
  const layout = await chartLayout(view);
  const before = different && decode(different);
  return untilDrawn(view, '#chart', (image) => {
    if (before) {
      const share = changed(before, image);
      if (share < 0.02) return `only ${(share * 100).toFixed(2)} % of the chart changed`;
    }
    return chartComplaint(image, layout);
  });
}

/** A pane's pixels near `colour`, waiting for `VISIBLE` of them. */
async function lineDrawn(view, colour, what) {
  const layout = await chartLayout(view);
  return untilDrawn(view, '#chart', (image) => {
    const n = countNear(image, parseColour(colour), { region: layout.pane, scale: image.width / layout.width });
    return n < VISIBLE ? `${what}: ${n} pixels of ${colour}` : null;
  });
}

/** Waits until the chart has bars and draws them with volume and axes; returns the shot. */
export async function chartShown(view) {
  await until(view, `Number(document.getElementById('chart').dataset.bars) > 1`, 'bars on the chart');
  return chartDrawn(view);
}

/** The chart's shown "SYMBOL INTERVAL". */
const shows = (view) => view.run(`document.getElementById('chart').dataset.shows ?? ''`);

/** The checks, in order; each leaves the dashboard as it found it. */
export const checks = [
  {
    name: 'the chart draws candles, volume and labelled price and time axes',
    async run(view) {
      view.save('chart', await chartShown(view));
    },
  },
  {
    name: 'a change of interval redraws the chart',
    async run(view) {
      const [symbol, interval] = (await shows(view)).split(' ');
      const next = interval === '1m' ? '5m' : '1m';
      const before = await chartDrawn(view);
      await pickInterval(view, next);
      await until(view, `document.getElementById('chart').dataset.shows === ${js(`${symbol} ${next}`)}`, `the chart at ${next}`);
      await chartDrawn(view, before);
      await pickInterval(view, interval);
      await until(view, `document.getElementById('chart').dataset.shows === ${js(`${symbol} ${interval}`)}`, `the chart back at ${interval}`);
    },
  },
  {
    name: 'a change of symbol redraws the chart',
    async run(view) {
      const [symbol, interval] = (await shows(view)).split(' ');
      const other = await view.run(`[...document.querySelectorAll('.card')].map((c) => c.dataset.symbol).find((s) => s !== ${js(symbol)})`);
      const before = await chartDrawn(view);
      await click(view, `.card[data-symbol="${other}"] .card-main`);
      await until(view, `document.getElementById('chart').dataset.shows === ${js(`${other} ${interval}`)}`, `the chart of ${other}`);
      await chartDrawn(view, before);
      await click(view, `.card[data-symbol="${symbol}"] .card-main`);
      await until(view, `document.getElementById('chart').dataset.shows === ${js(`${symbol} ${interval}`)}`, `the chart of ${symbol} again`);
    },
  },
  {
    name: 'the compare line appears on the chart',
    async run(view) {
      const [symbol] = (await shows(view)).split(' ');
      const other = await view.run(`[...document.getElementById('compare-symbol').options].map((o) => o.value).find((s) => s && s !== ${js(symbol)})`);
      await choose(view, '#compare-symbol', other);
      await until(view, `document.getElementById('chart').dataset.compare === ${js(other)}`, `comparing ${other}`);
      const png = await lineDrawn(view, '#a78bfa', `the ${other} line`);
      view.save('chart-compare', png);
      await choose(view, '#compare-symbol', '');
      await until(view, `document.getElementById('chart').dataset.compare === undefined`, 'compare mode off');
    },
  },
  {
    name: 'an indicator overlay appears on the chart',
    async run(view) {
      await click(view, '#indicators [data-indicator="sma"]');
      await until(view, `Number(document.getElementById('indicators').dataset.smaPoints) > 0`, 'SMA points');
      const png = await lineDrawn(view, '#f59e0b', 'the SMA line');
      view.save('chart-sma', png);
      await click(view, '#indicators [data-indicator="sma"]');
      await until(view, `document.getElementById('indicators').dataset.active === ''`, 'no indicators');
    },
  },
  {
    name: 'the theme paints the chart background',
    async run(view) {
      const backgrounds = {};
      for (const theme of ['light', 'dark']) {
        await choose(view, '#theme', theme);
        await until(view, `document.documentElement.dataset.theme === ${js(theme)}`, `the ${theme} theme`);
        const layout = await chartLayout(view);
        const panel = parseColour(layout.colours.panel);
        const png = await untilDrawn(view, '#chart', (image) => {
          const { background } = survey(image, { region: layout.pane, scale: image.width / layout.width });
          if (background.some((c, i) => Math.abs(c - panel[i]) > 8)) return `background rgb(${background}) is not ${layout.colours.panel}`;
          return chartComplaint(image, layout);
        });
        view.save(`chart-${theme}`, png);
        backgrounds[theme] = panel;
      }
      assert.notDeepEqual(backgrounds.light, backgrounds.dark);
      await choose(view, '#theme', 'system');
    },
  },
  {
    name: 'each workspace tab draws its content',
    async run(view) {
      const tabs = await view.run(`[...document.querySelectorAll('[role="tab"]')].map((t) => [t.id, t.getAttribute('aria-controls')])`);
      assert.ok(tabs.length >= 7, `${tabs.length} tabs`);
      for (const [tab, panel] of tabs) {
        await click(view, `#${tab}`);
        await until(view, `!document.getElementById(${js(panel)}).hidden`, `${panel} shown`);
        const png = await untilDrawn(view, `#${panel}`, (image) => {
          const s = survey(image);
          return s.ink < 0.01 || s.distinct < 4 ? `blank (ink ${(s.ink * 100).toFixed(2)} %, ${s.distinct} colours)` : null;
        });
        view.save(panel, png);
      }
      await click(view, '#tab-ticks');
    },
  },
];
