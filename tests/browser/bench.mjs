// The dashboard's performance in headless Chromium against a release
// tickstreamd streaming 200 symbols at 10 updates/s each: first render,
// frame rate and frame times, main-thread busy share, JS heap over the run
// (after forced GCs), the chart's update() path, and the production bundle's
// gzipped size. Writes JSON to BENCH_OUT; `cargo xtask bench` runs it.
// BENCH_SECONDS sets the streaming time (default 600: the heap must stay flat
// over 10 minutes).
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Daemon, launchBrowser } from './harness.mjs';

const out = process.env.BENCH_OUT ?? join(import.meta.dirname, '../../target/bench/dashboard.json');
const seconds = Number(process.env.BENCH_SECONDS ?? 600);
const dist = join(import.meta.dirname, '../../ui/dist');

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? null;
};
const round = (x, digits = 2) => (x === null ? null : Number(x.toFixed(digits)));

/** Gzipped size of the production bundle's scripts, styles and HTML (no fonts). */
function bundleSize() {
  const files = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(js|css|html|svg)$/.test(name)) files.push(path);
    }
  };
  walk(dist);
  const gzipped = files.reduce((sum, f) => sum + gzipSync(readFileSync(f), { level: 9 }).length, 0);
  return { files: files.length, gzip_bytes: gzipped, gzip_kb: round(gzipped / 1024, 1) };
}

const universe = join(mkdtempSync(join(tmpdir(), 'tickstream-bench-')), 'universe.toml');
writeFileSync(universe, '[sim]\nbackfill_rate = 2000\n\n' + Array.from({ length: 200 }, (_, i) => `[[sim.symbols]]\nsymbol = "S${String(i).padStart(3, '0')}"\nprice = ${20 + i}\n`).join('\n'));
// 30 minutes of history at the live rate: the 1 s chart opens holding its
// full 1 000 bars, so the heap measured is the steady state, not the chart
// filling up (at the default backfill rate a symbol of 200 trades too
// rarely for a bar every second).
const daemon = await Daemon.start({ rate: 2000, backfill: '30m', args: ['--config', universe], bin: process.env.TICKSTREAMD_BIN });
const browser = await launchBrowser();
const results = { symbols: 200, updates_per_symbol_per_second: 10, streaming_seconds: seconds, bundle: bundleSize() };
try {
  // First render: a fresh page, cold cache.
  const first = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const started = Date.now();
  await first.goto(daemon.url);
  await first.waitForFunction(() => document.querySelectorAll('.card').length >= 200 && performance.getEntriesByName('first-tick').length > 0, null, { timeout: 30_000 });
  const render = await first.evaluate(() => ({
    fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
    firstTick: performance.getEntriesByName('first-tick')[0]?.startTime ?? null,
  }));
  results.first_render = {
    first_contentful_paint_ms: round(render.fcp, 0),
    first_live_tick_ms: round(render.firstTick, 0),
    all_200_cards_ms: Date.now() - started,
  };
  await first.close();

  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(daemon.url);
  await page.waitForFunction(() => document.querySelectorAll('.card').length >= 200, null, { timeout: 30_000 });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const metric = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  // The heap retained: the least of three readings after a full GC, as
  // ticks keep arriving between the GC and the reading.
  const heap = async () => {
    const readings = [];
    for (let i = 0; i < 3; i += 1) {
      await cdp.send('HeapProfiler.collectGarbage');
      readings.push((await metric()).JSHeapUsedSize);
      await page.waitForTimeout(200);
    }
    return Math.min(...readings);
  };
  // Frame times from requestAnimationFrame, kept in the page.
  await page.evaluate(() => {
    window.benchFrames = [];
    let last = performance.now();
    const loop = (now) => {
      window.benchFrames.push(now - last);
      last = now;
      requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
  });
  await page.waitForTimeout(5_000); // warm-up
  await page.evaluate(() => {
    window.benchFrames = [];
    window.tickstreamStats.chartUpdates.length = 0;
  });
  const heapSamples = [await heap()];
  const before = await metric();
  const ticksBefore = await page.evaluate(() => window.tickstreamStats.ticks);
  const t0 = Date.now();
  const frameWindows = [];
  while (Date.now() - t0 < seconds * 1000) {
    await page.waitForTimeout(Math.min(30_000, seconds * 1000 - (Date.now() - t0)));
    const frames = await page.evaluate(() => window.benchFrames.splice(0));
    frameWindows.push(...frames);
    heapSamples.push(await heap());
  }
  const after = await metric();
  const elapsed = (Date.now() - t0) / 1000;
  const ticks = (await page.evaluate(() => window.tickstreamStats.ticks)) - ticksBefore;
  const updates = await page.evaluate(() => window.tickstreamStats.chartUpdates);
  // Median fps over one-second windows of frames.
  const fpsPerSecond = [];
  let acc = 0;
  let count = 0;
  for (const dt of frameWindows) {
    acc += dt;
    count += 1;
    if (acc >= 1000) {
      fpsPerSecond.push((count * 1000) / acc);
      acc = 0;
      count = 0;
    }
  }
  const busy = (after.TaskDuration - before.TaskDuration) / elapsed;
  const heapMb = heapSamples.map((h) => h / 1048576);
  const heapFirst = heapMb[1] ?? heapMb[0];
  const heapDrift = Math.max(...heapMb.slice(1).map((h) => Math.abs(h - heapFirst) / heapFirst));
  results.streaming = {
    ticks_per_second_applied: round(ticks / elapsed, 0),
    fps_median: round(percentile(fpsPerSecond, 50), 1),
    fps_p5: round(percentile(fpsPerSecond, 5), 1),
    frame_ms_p50: round(percentile(frameWindows, 50)),
    frame_ms_p99: round(percentile(frameWindows, 99)),
    frame_ms_max: round(Math.max(...frameWindows)),
    main_thread_busy_percent: round(busy * 100, 1),
    script_busy_percent: round(((after.ScriptDuration - before.ScriptDuration) / elapsed) * 100, 1),
    // CPU time, unlike the busy share above, does not count time the thread
    // waited for a core (the daemon and Chromium's other threads share two).
    main_thread_cpu_percent: round(((after.ThreadTime - before.ThreadTime) / elapsed) * 100, 1),
    renderer_cpu_percent: round(((after.ProcessTime - before.ProcessTime) / elapsed) * 100, 1),
    js_heap_mb: heapMb.map((h) => round(h, 1)),
    js_heap_max_drift_percent: round(heapDrift * 100, 1),
    chart_update_ms_p50: round(percentile(updates, 50), 3),
    chart_update_ms_p99: round(percentile(updates, 99), 3),
    chart_update_ms_max: round(Math.max(...updates), 3),
  };
  results.targets = {
    fps_median_at_least_55: results.streaming.fps_median >= 55,
    frame_p99_at_most_32ms: results.streaming.frame_ms_p99 <= 32,
    main_thread_busy_at_most_50_percent: results.streaming.main_thread_busy_percent <= 50,
    heap_flat_within_10_percent: results.streaming.js_heap_max_drift_percent <= 10,
    chart_update_at_most_1ms: results.streaming.chart_update_ms_p99 <= 1,
    bundle_at_most_250kb_gzip: results.bundle.gzip_kb <= 250,
    first_render_at_most_1s: results.first_render.first_contentful_paint_ms <= 1000,
  };
  await page.close();
} finally {
  await browser.close();
  await daemon.stop();
}
writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
console.log(JSON.stringify(results, null, 2));
