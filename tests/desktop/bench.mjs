// Desktop app benchmarks, in its real window under Xvfb (driven through
// tauri-driver): installer sizes; an update from the installed release A
// to B served over HTTPS on loopback (check at start → offer on screen, then
// Install → running B), as root; launch → first live tick on screen (cold
// and warm), then → the chart drawn with candles, volume and axes (judged by
// its pixels, as the tests do); whole-app PSS (the app and its WebKit processes) idle after
// 60 s; CPU while streaming 200 symbols at 10 Hz; ticks per second the IPC
// path delivers to the web view, with the frame rate meanwhile. Writes JSON
// to BENCH_OUT. Run by `cargo xtask bench`.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Builder, By, until } from 'selenium-webdriver';
import { chartShown, webdriverView } from 'tickstream-visual';
import { certificates, cleanEnv, freePort, listening, serveRelease } from './harness.mjs';

const app = process.env.DESKTOP_APP_BIN;
const bundles = process.env.BUNDLE_DIR;
const out = process.env.BENCH_OUT ?? 'desktop.json';
const driverBin = process.env.TAURI_DRIVER ?? 'tauri-driver';
const updateFrom = process.env.UPDATE_FROM;
const updateTo = process.env.UPDATE_TO;
if (!app) throw new Error('DESKTOP_APP_BIN must name the (release) app binary');
const home = mkdtempSync(join(tmpdir(), 'tickstream-desktop-bench-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A tauri-driver whose sessions of `application` get `env`; returns a session factory and a stop function. */
async function driverWith(env, application = app) {
  const port = await freePort();
  const driver = spawn(driverBin, ['--port', String(port), '--native-port', String(await freePort())], {
    env: { ...cleanEnv(), TICKSTREAM_LOG: 'warn', ...env },
    stdio: 'ignore',
  });
  await listening(port);
  return {
    session: () => new Builder().usingServer(`http://127.0.0.1:${port}/`).withCapabilities({ browserName: 'wry', 'tauri:options': { application } }).build(),
    stop: () => driver.kill('SIGTERM'),
  };
}

/** The app's process and its descendants (the WebKit web and network processes). */
function appTree() {
  const procs = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
      return { pid: Number(pid), ppid: Number(fields[1]), cmd, utime: Number(fields[11]), stime: Number(fields[12]) };
    } catch {
      return null;
    }
  }).filter(Boolean);
  const roots = procs.filter((p) => p.cmd === app);
  const tree = [...roots];
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) {
      if (!tree.includes(p) && tree.some((t) => t.pid === p.ppid)) { tree.push(p); grew = true; }
    }
  }
  return tree;
}

/** Each process's PSS split into its own memory (anonymous: heap, stacks), files mapped (libraries) and shared memory, MiB. */
function pssParts(tree) {
  return Object.fromEntries(tree.map((p) => {
    let rollup = '';
    try { rollup = readFileSync(`/proc/${p.pid}/smaps_rollup`, 'utf8'); } catch { /* gone */ }
    const field = (name) => Math.round(Number(rollup.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))?.[1] ?? 0) / 1024);
    return [p.cmd.split('/').pop(), { anonymous: field('Pss_Anon'), files: field('Pss_File'), shared_memory: field('Pss_Shmem') }];
  }));
}

function pssMiB(tree) {
  let kb = 0;
  for (const p of tree) {
    try {
      const m = readFileSync(`/proc/${p.pid}/smaps_rollup`, 'utf8').match(/^Pss:\s+(\d+) kB/m);
      if (m) kb += Number(m[1]);
    } catch { /* gone */ }
  }
  return kb / 1024;
}

/** Cores used by the app's processes over `ms`. */
async function cpuCores(ms) {
  const ticks = () => appTree().reduce((sum, p) => sum + p.utime + p.stime, 0);
  const before = ticks();
  await sleep(ms);
  return (ticks() - before) / 100 / (ms / 1000);
}

/** Milliseconds from the session request (the app's launch) to the first tick on screen. */
async function launchToFirstTick(session) {
  const started = Date.now();
  const driver = await session();
  for (;;) {
    const at = await driver.executeScript("const m = performance.getEntriesByName('first-tick')[0]; return m ? performance.timeOrigin + m.startTime : null");
    if (at) return { driver, ms: Math.round(at - started), at };
    await sleep(20);
  }
}

/** Ticks applied per second in the web view and frames per second, over `ms`. */
async function delivery(driver, ms) {
  await driver.executeScript('window.__frames = 0; const f = () => { window.__frames++; requestAnimationFrame(f); }; requestAnimationFrame(f);');
  const ticks = async () => Number(await driver.executeScript('return window.tickstreamStats?.ticks ?? 0'));
  const before = await ticks();
  await sleep(ms);
  const after = await ticks();
  const frames = await driver.executeScript('return window.__frames');
  return { ticksPerSecond: Math.round(((after - before) * 1000) / ms), fps: Math.round((frames * 1000) / ms) };
}

function universe(n) {
  const path = join(home, `universe-${n}.toml`);
  writeFileSync(path, Array.from({ length: n }, (_, i) => `[[sim.symbols]]\nsymbol = "S${String(i).padStart(3, '0')}"\nprice = ${20 + i}\n`).join('\n'));
  return path;
}

const results = {};
if (bundles) {
  for (const [kind, extension] of [['deb', '.deb'], ['rpm', '.rpm']]) {
    const file = readdirSync(join(bundles, kind)).find((f) => f.endsWith(extension));
    results[`installer_${kind}_bytes`] = statSync(join(bundles, kind, file)).size;
  }
}

// An update, three times: A installed, started with B on offer; the
// seconds from launch to the offer on screen (the check) plus from Install
// to B's first log line (download, verify, install, relaunch).
if (updateFrom && updateTo && process.getuid?.() === 0) {
  const release = await serveRelease(updateTo, certificates(join(home, 'tls')));
  const deb = join(updateFrom, readdirSync(updateFrom).find((f) => f.endsWith('.deb')));
  const runs = [];
  for (let i = 0; i < 3; i++) {
    execFileSync('dpkg', ['-i', deb], { stdio: 'ignore' });
    const data = join(home, `update-${i}`);
    const { session, stop } = await driverWith({
      TICKSTREAM_DATA_DIR: data, TICKSTREAM_CONFIG_DIR: join(home, `update-${i}-config`), TICKSTREAM_LOG: 'info',
      TICKSTREAM_BACKFILL: '0s', TICKSTREAM_UPDATE_ENDPOINTS: release.endpoint, SSL_CERT_FILE: release.ca,
    }, '/usr/bin/tickstream');
    const launched = Date.now();
    const driver = await session();
    const install = await driver.wait(until.elementLocated(By.css('#update-install:not([hidden])')), 60_000);
    const offered = Date.now();
    await install.click();
    const clicked = Date.now();
    const log = join(data, 'logs/tickstream.log');
    const relaunched = new RegExp(`Tickstream starting.*version=${release.version.replaceAll('.', '\\.')}`);
    while (!(existsSync(log) && relaunched.test(readFileSync(log, 'utf8')))) {
      if (Date.now() - clicked > 120_000) throw new Error(`no relaunch as ${release.version}`);
      await sleep(50);
    }
    runs.push({ check_ms: offered - launched, install_to_relaunched_ms: Date.now() - clicked });
    await driver.quit().catch(() => {});
    spawnSync('pkill', ['-KILL', '-x', '-f', '/usr/bin/tickstream']);
    stop();
  }
  release.close();
  spawnSync('dpkg', ['-r', 'tickstream'], { stdio: 'ignore' });
  const median = (values) => values.sort((a, b) => a - b)[values.length >> 1];
  results.update = {
    runs,
    check_to_relaunched_ms: median(runs.map((r) => r.check_ms + r.install_to_relaunched_ms)),
    package_bytes: statSync(join(updateTo, readdirSync(updateTo).find((f) => f.endsWith('.deb')))).size,
  };
} else {
  results.update = { skipped: 'needs UPDATE_FROM, UPDATE_TO (cargo xtask bench builds them) and root (dpkg)' };
}

// Launch, cold (first run: a day of history is backfilled) then warm; idle memory.
{
  const { session, stop } = await driverWith({ TICKSTREAM_DATA_DIR: join(home, 'a'), TICKSTREAM_CONFIG_DIR: join(home, 'a-config') });
  const cold = await launchToFirstTick(session);
  results.launch_to_first_tick_cold_ms = cold.ms;
  await cold.driver.quit();
  await sleep(1_000);
  const warm = await launchToFirstTick(session);
  results.launch_to_first_tick_warm_ms = warm.ms;
  await chartShown(webdriverView(warm.driver, () => {}));
  results.first_tick_to_chart_drawn_warm_ms = Math.round(Date.now() - warm.at);
  await sleep(60_000);
  results.idle_pss_mib_after_60s = Math.round(pssMiB(appTree()));
  results.idle_pss_mib_by_process = Object.fromEntries(appTree().map((p) => [p.cmd.split('/').pop(), Math.round(pssMiB([p]))]));
  results.idle_pss_mib_by_kind = pssParts(appTree());
  results.idle_cpu_cores_default_1000_ticks_per_s = Number((await cpuCores(10_000)).toFixed(3));
  await warm.driver.quit();
  stop();
}

// 200 symbols at 10 updates/s each.
{
  const { session, stop } = await driverWith({
    TICKSTREAM_DATA_DIR: join(home, 'b'), TICKSTREAM_CONFIG_DIR: join(home, 'b-config'),
    TICKSTREAM_CONFIG: universe(200), TICKSTREAM_RATE: '2000', TICKSTREAM_BACKFILL: '0s',
  });
  const { driver } = await launchToFirstTick(session);
  await sleep(5_000);
  const [cores, seen] = await Promise.all([cpuCores(20_000), delivery(driver, 20_000)]);
  results.streaming_200_symbols_10hz = { cpu_cores: Number(cores.toFixed(3)), ticks_per_second_in_webview: seen.ticksPerSecond, fps: seen.fps };
  await driver.quit();
  stop();
}

// The IPC path at full speed: how many ticks a second reach the web view.
{
  const { session, stop } = await driverWith({
    TICKSTREAM_DATA_DIR: join(home, 'c'), TICKSTREAM_CONFIG_DIR: join(home, 'c-config'),
    TICKSTREAM_RATE: '150000', TICKSTREAM_BACKFILL: '0s',
  });
  const { driver } = await launchToFirstTick(session);
  await sleep(3_000);
  const seen = await delivery(driver, 10_000);
  results.ipc = { offered_ticks_per_second: 150_000, delivered_ticks_per_second: seen.ticksPerSecond, fps: seen.fps };
  await driver.quit();
  stop();
}

results.targets = {
  installer_deb_bytes: 10_000_000, installer_rpm_bytes: 10_000_000, update_check_to_relaunched_ms: 10_000,
  launch_to_first_tick_warm_ms: 1_500, first_tick_to_chart_drawn_warm_ms: 2_000, idle_pss_mib_after_60s: 150,
  ipc_delivered_ticks_per_second: 100_000, fps: 55,
};
const measured = {
  installer_deb_bytes: results.installer_deb_bytes, installer_rpm_bytes: results.installer_rpm_bytes,
  update_check_to_relaunched_ms: results.update.check_to_relaunched_ms,
  launch_to_first_tick_warm_ms: results.launch_to_first_tick_warm_ms, first_tick_to_chart_drawn_warm_ms: results.first_tick_to_chart_drawn_warm_ms,
  idle_pss_mib_after_60s: results.idle_pss_mib_after_60s,
};
results.met = Object.fromEntries(Object.entries(measured).map(([name, value]) => [name, value === undefined ? null : value <= results.targets[name]]));
results.met.ipc_delivered_ticks_per_second = results.ipc.delivered_ticks_per_second >= results.targets.ipc_delivered_ticks_per_second;
results.met.fps = results.streaming_200_symbols_10hz.fps >= results.targets.fps;
writeFileSync(out, JSON.stringify(results, null, 2));
console.log(JSON.stringify(results, null, 2));
rmSync(home, { recursive: true, force: true });
