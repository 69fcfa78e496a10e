// The updater end to end, as a user meets it. Release A is installed from
// its .deb (as root) and started in a real window; release B's signed
// packages and its latest.json (both made by `cargo xtask release`, signed
// by a throwaway key both releases trust) are served over HTTPS with a
// certificate from a CA made here, which the app trusts through
// SSL_CERT_FILE. An unreachable server is a calm message; a tampered
// package is refused and A carries on; then A finds B at start, shows its
// version and notes, downloads it, verifies it, installs it (dpkg, through
// sudo as the updater does) and restarts as B.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Builder, By, until } from 'selenium-webdriver';
import { certificates, cleanEnv, freePort, listening, serveRelease } from './harness.mjs';

const from = process.env.UPDATE_FROM;
const to = process.env.UPDATE_TO;
const driverBin = process.env.TAURI_DRIVER ?? 'tauri-driver';
const skip = !(from && to) && 'UPDATE_FROM and UPDATE_TO are not set (cargo xtask test builds both releases)';
const installed = '/usr/bin/tickstream';

const home = mkdtempSync(join(tmpdir(), 'tickstream-update-'));
const children = [];
/** The release host serving B. */
let release;

const version = () => spawnSync('dpkg-query', ['-W', '-f=${Version}', 'tickstream'], { encoding: 'utf8' }).stdout.trim();
const text = (driver, css) => driver.executeScript(`return document.querySelector(${JSON.stringify(css)})?.textContent ?? ''`);

before(async () => {
  if (skip) return;
  assert.equal(process.getuid?.(), 0, 'the update test installs .deb packages: it runs as root');
  const deb = readdirSync(from).find((f) => f.endsWith('.deb'));
  assert.ok(deb, `no .deb in ${from}`);
  execFileSync('dpkg', ['-i', join(from, deb)], { stdio: ['ignore', 'ignore', 'inherit'] });
  release = await serveRelease(to, certificates(join(home, 'tls')));
});

after(() => {
  for (const child of children) child.kill('SIGTERM');
  spawnSync('pkill', ['-KILL', '-x', '-f', installed]);
  release?.close();
  if (!skip) spawnSync('dpkg', ['-r', 'tickstream'], { stdio: 'ignore' });
  rmSync(home, { recursive: true, force: true });
});

/** The installed app in a window, with fresh settings, asking `endpoint` for updates. */
async function launch(name, endpoint) {
  const driverPort = await freePort();
  const driver = spawn(driverBin, ['--port', String(driverPort), '--native-port', String(await freePort())], {
    env: {
      ...cleanEnv(),
      TICKSTREAM_DATA_DIR: join(home, name, 'data'),
      TICKSTREAM_CONFIG_DIR: join(home, name, 'config'),
      TICKSTREAM_BACKFILL: '5m',
      TICKSTREAM_LOG: 'info',
      TICKSTREAM_UPDATE_ENDPOINTS: endpoint,
      SSL_CERT_FILE: release.ca,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(driver);
  await listening(driverPort);
  const session = await new Builder()
    .usingServer(`http://127.0.0.1:${driverPort}/`)
    .withCapabilities({ browserName: 'wry', 'tauri:options': { application: installed } })
    .build();
  await session.wait(until.elementLocated(By.css('#status[data-state="live"]')), 30_000);
  return { session, log: join(home, name, 'data/logs/tickstream.log') };
}

const updateOffered = (driver) => driver.wait(async () => (await text(driver, '#update-summary')).includes(`${release.version} is available`), 30_000);

test('an unreachable update server is a calm message and the app carries on', { skip }, async () => {
  const closed = await freePort();
  const { session: driver, log } = await launch('unreachable', `https://localhost:${closed}/{{channel}}/latest.json`);
  try {
    // The check at start failed quietly: no dialog; About says when and why.
    await driver.wait(async () => {
      await driver.findElement(By.css('#about-open')).click();
      const last = await text(driver, '#about-last-check');
      if (!last.includes('failed')) await driver.findElement(By.css('#about button[type="submit"]')).click();
      return last.includes('failed: cannot reach the update server');
    }, 30_000);
    assert.equal(await driver.executeScript("return document.querySelector('#update').open"), false);
    assert.match(await text(driver, '#about-log'), /tickstream\.log$/);
    assert.match(readFileSync(log, 'utf8'), /Tickstream starting/);
    // Asked again from About: the dialog says so plainly.
    await driver.findElement(By.css('#about-check')).click();
    await driver.wait(async () => (await text(driver, '#update-message')).includes('cannot reach the update server'), 30_000);
    assert.match(await text(driver, '#update-summary'), /carries on/);
    assert.equal(await driver.findElement(By.css('#status')).getAttribute('data-state'), 'live');
  } finally {
    await driver.quit();
  }
});

test('a tampered package is refused and the app carries on as it was', { skip }, async () => {
  release.tamper = true;
  const before = version();
  const { session: driver } = await launch('tampered', release.endpoint);
  try {
    await updateOffered(driver);
    await driver.findElement(By.css('#update-install')).click();
    await driver.wait(async () => (await text(driver, '#update-message')) !== '', 60_000);
    assert.match(await text(driver, '#update-message'), /signature does not match.*refused/);
    assert.equal(version(), before);
    assert.equal(await driver.findElement(By.css('#status')).getAttribute('data-state'), 'live');
  } finally {
    await driver.quit();
    release.tamper = false;
  }
});

test('finds the signed release at start, installs it and restarts on it', { skip }, async () => {
  assert.notEqual(version(), release.version);
  const { session: driver, log } = await launch('update', release.endpoint);
  const started = Date.now();
  try {
    await updateOffered(driver);
    assert.match(await text(driver, '#update-notes'), /the update test's release/);
    const clicked = Date.now();
    await driver.findElement(By.css('#update-install')).click();
    const deadline = Date.now() + 120_000;
    const relaunched = new RegExp(`Tickstream starting.*version=${release.version.replaceAll('.', '\\.')}`);
    while (!(existsSync(log) && relaunched.test(readFileSync(log, 'utf8')))) {
      assert.ok(Date.now() < deadline, `the app did not restart as ${release.version}:\n${readFileSync(log, 'utf8').slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(version(), release.version);
    const running = spawnSync('pgrep', ['-x', '-f', installed], { encoding: 'utf8' }).stdout.trim();
    assert.ok(running, 'the new version runs');
    console.log(`update: offered ${((clicked - started) / 1000).toFixed(1)} s after start; install → running ${release.version} in ${((Date.now() - clicked) / 1000).toFixed(1)} s`);
  } finally {
    // The session's app was replaced: its end is expected to fail.
    await driver.quit().catch(() => {});
    spawnSync('pkill', ['-KILL', '-x', '-f', installed]);
  }
});
