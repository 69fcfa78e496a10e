// The desktop app's real window (the release or debug binary, under Xvfb),
// driven through tauri-driver and WebKitWebDriver: offline mode out of the
// box (writes over IPC: an alert rule, an export, a paper order; a replay
// streamed over IPC), judged by
// its pixels with the checks the Chromium suite runs (tests/visual), then
// switching to a remote tickstreamd and to a Kafka
// cluster (a real Tansu broker with a producer), each after a wrong address
// that must show its error and leave the app usable.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Builder, By, until } from 'selenium-webdriver';
import { checks, webdriverView } from 'tickstream-visual';
import { certificates, cleanEnv, freePort, listening } from './harness.mjs';

const app = process.env.DESKTOP_APP_BIN;
const daemonBin = process.env.TICKSTREAMD_BIN;
const tansuBin = process.env.TANSU;
const driverBin = process.env.TAURI_DRIVER ?? 'tauri-driver';
const artifacts = process.env.SCREENSHOT_DIR ?? join(import.meta.dirname, '../artifacts');
assert.ok(app && daemonBin, 'DESKTOP_APP_BIN and TICKSTREAMD_BIN must name the binaries (cargo xtask test sets them)');

const home = mkdtempSync(join(tmpdir(), 'tickstream-desktop-'));
const children = [];
let driverPort;

function start(bin, args, env = {}) {
  const child = spawn(bin, args, { env: { ...cleanEnv(), TICKSTREAM_LOG: 'warn', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return child;
}

/** A config whose universe tells its ticks apart from the app's own simulation. */
function universe(name, symbols) {
  const path = join(home, `${name}.toml`);
  writeFileSync(path, symbols.map((s, i) => `[[sim.symbols]]\nsymbol = "${s}"\nprice = ${50 + 25 * i}\n`).join('\n'));
  return path;
}

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  driverPort = await freePort();
  const nativePort = await freePort();
  start(driverBin, ['--port', String(driverPort), '--native-port', String(nativePort)], {
    TICKSTREAM_DATA_DIR: join(home, 'data'),
    TICKSTREAM_CONFIG_DIR: join(home, 'config'),
    TICKSTREAM_BACKFILL: '30m',
    TICKSTREAM_EXPORT_DIR: join(home, 'exports'),
    TICKSTREAM_LOG: 'info',
  });
  await listening(driverPort);
});

after(() => {
  for (const child of children) child.kill('SIGTERM');
  // An app whose session did not end outlives tauri-driver, holding this
  // file's stderr open: the test runner would wait for it forever.
  spawnSync('pkill', ['-KILL', '-x', '-f', app]);
  rmSync(home, { recursive: true, force: true });
});

/** Launches the app (in its saved mode) and waits for a live stream. */
async function launch() {
  const driver = await new Builder()
    .usingServer(`http://127.0.0.1:${driverPort}/`)
    .withCapabilities({ browserName: 'wry', 'tauri:options': { application: app } })
    .build();
  await driver.wait(until.elementLocated(By.css('#status[data-state="live"]')), 30_000);
  return driver;
}

const cardSymbols = (driver) => driver.executeScript("return [...document.querySelectorAll('.card')].map((c) => c.dataset.symbol)");
const cardPrices = (driver) => driver.executeScript("return [...document.querySelectorAll('.card')].map((c) => c.dataset.symbol + '=' + c.querySelector('.card-price').textContent)");

/** An element's text, read in one script (the page may be reloading). */
const text = (driver, css) => driver.executeScript(`return document.querySelector(${JSON.stringify(css)})?.textContent ?? ''`);

async function screenshot(driver, name) {
  writeFileSync(join(artifacts, `${name}.png`), await driver.takeScreenshot(), 'base64');
}

/** Opens the settings, fills the mode's fields, submits; returns the dialog's message (empty on success). */
async function switchTo(driver, mode, fields) {
  await driver.findElement(By.css('#settings-open')).click();
  await driver.wait(until.elementIsVisible(driver.findElement(By.css('#settings'))), 5_000);
  await driver.findElement(By.css(`input[name="mode"][value="${mode}"]`)).click();
  for (const [name, value] of Object.entries(fields)) {
    const input = driver.findElement(By.css(`[name="${name}"]`));
    await input.clear();
    if (value) await input.sendKeys(value);
  }
  await driver.findElement(By.css('#settings button[type="submit"]')).click();
}

async function waitForError(driver) {
  await driver.wait(async () => {
    const message = await text(driver, '#settings-error');
    return message !== '' && message !== 'Connecting…';
  }, 20_000);
  return text(driver, '#settings-error');
}

/** Waits until the cards show exactly `symbols` and their prices move. */
async function showsLiveTicksOf(driver, symbols) {
  await driver.wait(async () => JSON.stringify((await cardSymbols(driver)).sort()) === JSON.stringify([...symbols].sort()), 30_000);
  const before = await cardPrices(driver);
  await driver.wait(async () => JSON.stringify(await cardPrices(driver)) !== JSON.stringify(before), 10_000);
}

test('opens in offline mode and shows ticks changing within seconds', async () => {
  const driver = await launch();
  try {
    assert.match(await text(driver, '#status'), /Offline simulation/);
    await driver.wait(async () => (await cardSymbols(driver)).length === 20, 15_000);
    const before = await cardPrices(driver);
    await driver.wait(async () => JSON.stringify(await cardPrices(driver)) !== JSON.stringify(before), 5_000);
    await driver.wait(async () => Number(await driver.executeScript("return document.querySelector('#chart').dataset.bars")) > 0, 10_000);
    await screenshot(driver, 'desktop-offline');
    // Writes go over IPC too: an alert rule added, listed and deleted.
    await driver.findElement(By.css('#tab-alerts')).click();
    await driver.findElement(By.css('#alerts button[type="submit"]')).click();
    await driver.wait(async () => (await text(driver, '#alert-rules')).includes('AAPL crosses 100'), 10_000);
    await driver.findElement(By.css('.alert-rule button')).click();
    await driver.wait(async () => (await text(driver, '#alert-rules')).includes('No alert rules yet'), 10_000);
    // Paper trading over IPC: a market buy placed from the ticket fills, and
    // the orders stream brings it to the blotter and the account.
    await driver.findElement(By.css('#tab-trade')).click();
    const quantity = driver.findElement(By.css('#trade-ticket [name="quantity"]'));
    await quantity.clear();
    await quantity.sendKeys('25');
    await driver.findElement(By.css('#trade-ticket button[type="submit"]')).click();
    await driver.wait(async () => /: filled, 25 filled at/.test(await text(driver, '#ticket-result')), 10_000);
    await driver.wait(async () => (await text(driver, '#trade-orders tbody')).includes('filled'), 10_000);
    await driver.wait(async () => Number(await driver.executeScript(
      "return [...document.querySelectorAll('#trade-positions tbody tr')].map((tr) => Number(tr.cells[1].textContent)).reduce((a, b) => a + b, 0)",
    )) === 25, 10_000);
    await screenshot(driver, 'desktop-trade');
    // A replay over IPC: the last minutes played at max in place of the
    // live market, to its end, then back to live.
    await driver.findElement(By.css('#tab-replay')).click();
    await driver.findElement(By.css('#panel-replay select[name="speed"] option[value="max"]')).click();
    await driver.findElement(By.css('#panel-replay button[type="submit"]')).click();
    await driver.wait(until.elementLocated(By.css('#replay-status[data-state="paused"]')), 10_000);
    await driver.wait(async () => /^Replay \d+/.test(await text(driver, '#status')), 10_000);
    await driver.findElement(By.css('#replay-toggle')).click();
    await driver.wait(until.elementLocated(By.css('#replay-status[data-state="completed"]')), 30_000);
    assert.match(await text(driver, '#replay-status'), /^Replay \d+ · completed · .* · [\d,]+ ticks$/);
    assert.doesNotMatch(await text(driver, '#replay-status'), / 0 ticks$/);
    await driver.findElement(By.css('#replay-live')).click();
    await driver.wait(async () => /Offline simulation/.test(await text(driver, '#status')), 10_000);
    // An export is a file the app writes (the web view has no downloads).
    await driver.findElement(By.css('#tab-events')).click();
    await driver.findElement(By.css('#events-json')).click();
    await driver.wait(async () => (await text(driver, '#events-result')).startsWith('Saved to '), 10_000);
    const saved = (await text(driver, '#events-result')).match(/^Saved to (.+\.json) \((\d+) events\)$/);
    assert.ok(saved, await text(driver, '#events-result'));
    assert.ok(saved[1].startsWith(join(home, 'exports')), saved[1]);
    assert.equal(JSON.parse(readFileSync(saved[1], 'utf8')).length, Number(saved[2]));
    // The settings say where exports go, with a button for the system's folder dialog.
    await driver.findElement(By.css('#settings-open')).click();
    await driver.wait(async () => (await text(driver, '#settings-export-dir')) === join(home, 'exports'), 5_000);
    assert.ok(await driver.findElement(By.css('#settings-export-choose')).isDisplayed());
    await driver.findElement(By.css('#settings-cancel')).click();
  } finally {
    await driver.quit();
  }
});

test('the window draws what the dashboard shows, judged by its pixels as in Chromium', async (t) => {
  const driver = await launch();
  try {
    const view = webdriverView(driver, (name, png) => writeFileSync(join(artifacts, `desktop-${name}.png`), png));
    for (const check of checks) {
      await t.test(check.name, async (c) => {
        const said = await check.run(view);
        if (said) c.diagnostic(said);
      });
    }
    await screenshot(driver, 'desktop-window');
  } finally {
    await driver.quit();
  }
});

test('switches to a remote tickstreamd, after a wrong address that is refused with its reason', async () => {
  const port = await freePort();
  start(daemonBin, ['run', '--listen', `127.0.0.1:${port}`, '--rate', '200', '--config', universe('remote', ['ZZRA', 'ZZRB', 'ZZRC']), '--data-dir', join(home, 'remote-data')], { TICKSTREAM_BACKFILL: '0s' });
  await listening(port);
  const driver = await launch();
  try {
    const dead = await freePort();
    await switchTo(driver, 'remote', { url: `http://127.0.0.1:${dead}` });
    assert.match(await waitForError(driver), new RegExp(`cannot reach http://127\\.0\\.0\\.1:${dead}.*(refused|connect)`, 'i'));
    await screenshot(driver, 'desktop-remote-error');
    // Still usable: the offline market keeps streaming behind the dialog.
    await driver.findElement(By.css('#settings-cancel')).click();
    await showsLiveTicksOf(driver, (await cardSymbols(driver)));
    await switchTo(driver, 'remote', { url: `http://127.0.0.1:${port}` });
    await driver.wait(async () => (await text(driver, '#status')).includes(`127.0.0.1:${port}`), 20_000);
    await showsLiveTicksOf(driver, ['ZZRA', 'ZZRB', 'ZZRC']);
    await screenshot(driver, 'desktop-remote');
  } finally {
    await driver.quit();
  }
  // The mode is remembered: the next launch starts where this one left.
  const again = await launch();
  try {
    assert.match(await text(again, '#status'), new RegExp(`127\\.0\\.0\\.1:${port}`));
    await showsLiveTicksOf(again, ['ZZRA', 'ZZRB', 'ZZRC']);
    // Back to offline for the next test.
    await switchTo(again, 'offline', {});
    await again.wait(async () => (await text(again, '#status')).includes('Offline simulation'), 20_000);
  } finally {
    await again.quit();
  }
});

test('connects to a remote tickstreamd over HTTPS and WSS with an API key, trusting a CA file', async () => {
  const files = certificates(join(home, 'tls'));
  const dataDir = join(home, 'tls-data');
  const apiKey = execFileSync(daemonBin, ['keys', 'create', '--name', 'desktop', '--scope', 'read', '--data-dir', dataDir], { env: cleanEnv() })
    .toString().trim();
  const port = await freePort();
  start(daemonBin, ['run', '--listen', `127.0.0.1:${port}`, '--rate', '200', '--config', universe('tls', ['ZZTA', 'ZZTB']), '--data-dir', dataDir], {
    TICKSTREAM_BACKFILL: '0s', TICKSTREAM_GATEWAY__TLS_CERT: files.cert, TICKSTREAM_GATEWAY__TLS_KEY: files.key,
  });
  await listening(port);
  const driver = await launch();
  try {
    // Without the CA the daemon's certificate is not trusted, and the app says so.
    await switchTo(driver, 'remote', { url: `https://127.0.0.1:${port}`, api_key: apiKey, ca: '' });
    assert.match(await waitForError(driver), /cannot reach https:\/\/127\.0\.0\.1.*(certificate|issuer)/i);
    await driver.findElement(By.css('#settings-cancel')).click();
    await switchTo(driver, 'remote', { url: `https://127.0.0.1:${port}`, api_key: apiKey, ca: files.ca });
    await driver.wait(async () => {
      // Without a keychain (as under Xvfb) the key is kept for the run, and the dialog says so.
      if ((await text(driver, '#settings-error')).includes('kept for this run only')) {
        await driver.findElement(By.css('#settings-cancel')).click();
        return false;
      }
      return (await text(driver, '#status')).includes(`127.0.0.1:${port}`);
    }, 30_000);
    const saved = readFileSync(join(home, 'config', 'settings.json'), 'utf8');
    assert.match(saved, /"ca": ".*ca\.pem"/);
    assert.ok(!saved.includes(apiKey), 'the key is not in the settings file');
    await showsLiveTicksOf(driver, ['ZZTA', 'ZZTB']);
    await screenshot(driver, 'desktop-remote-tls');
    // Back to offline for the next test.
    await switchTo(driver, 'offline', {});
    await driver.wait(async () => (await text(driver, '#status')).includes('Offline simulation'), 20_000);
  } finally {
    await driver.quit();
  }
});

test('switches to a Kafka cluster with a producer, after an unreachable broker is refused', { skip: !tansuBin && 'TANSU is not set' }, async () => {
  const port = await freePort();
  start(tansuBin, ['broker', '--listener-url', `tcp://127.0.0.1:${port}`, '--advertised-listener-url', `tcp://127.0.0.1:${port}`, '--storage-engine', 'memory://tansu/']);
  await listening(port);
  start(daemonBin, ['producer', '--brokers', `127.0.0.1:${port}`, '--listen', '127.0.0.1:0', '--rate', '200', '--config', universe('kafka', ['KAFA', 'KAFB'])]);
  const driver = await launch();
  try {
    const dead = await freePort();
    await switchTo(driver, 'kafka', { brokers: `127.0.0.1:${dead}` });
    assert.match(await waitForError(driver), new RegExp(`cannot reach Kafka at 127\\.0\\.0\\.1:${dead}`));
    await screenshot(driver, 'desktop-kafka-error');
    await driver.findElement(By.css('#settings-cancel')).click();
    // A password goes to the keychain (or stays in memory, said so), never to the settings file.
    await switchTo(driver, 'kafka', { brokers: `127.0.0.1:${port}`, password: 'hunter2-secret' });
    await driver.wait(async () => {
      const status = await text(driver, '#status');
      const message = await text(driver, '#settings-error');
      if (message.includes('kept for this run only')) {
        await driver.findElement(By.css('#settings-cancel')).click();
        return false;
      }
      return status.includes(`Kafka 127.0.0.1:${port}`);
    }, 30_000);
    const saved = readFileSync(join(home, 'config', 'settings.json'), 'utf8');
    assert.match(saved, new RegExp(`"brokers": "127\\.0\\.0\\.1:${port}"`));
    assert.doesNotMatch(saved, /hunter2/);
    await showsLiveTicksOf(driver, ['KAFA', 'KAFB']);
    await screenshot(driver, 'desktop-kafka');
  } finally {
    await driver.quit();
  }
});
