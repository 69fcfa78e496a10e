// The TypeScript stream client in examples/typescript, in Node (with the
// `ws` package's WebSocket) and in Chromium, against a real tickstreamd: it
// streams every symbol, its connection is dropped, and it resumes without
// missing or repeating a tick.
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { Daemon, launchBrowser } from './harness.mjs';

// The UI's TypeScript compiles the example (its types are the UI's generated ones).
const ts = createRequire(import.meta.url)('../../ui/node_modules/typescript');
const source = readFileSync(join(import.meta.dirname, '../../examples/typescript/stream.ts'), 'utf8');
const compiled = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText;

let daemon;

before(async () => {
  daemon = await Daemon.start({ rate: 500, backfill: '0s' });
});

after(async () => {
  await daemon?.stop();
});

/** Each partition's offsets, which must each follow the one before. */
function contiguous(ticks) {
  const byPartition = new Map();
  for (const t of ticks) byPartition.set(t.partition, [...(byPartition.get(t.partition) ?? []), t.offset]);
  return [...byPartition.values()].every((offsets) => offsets.every((o, i) => i === 0 || o === offsets[i - 1] + 1));
}

const wsUrl = () => new URL('ws', daemon.url).href.replace(/^http/, 'ws');

test('in Node, the client resumes a dropped stream without missing or repeating a tick', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tickstream-example-'));
  writeFileSync(join(dir, 'stream.mjs'), compiled);
  const { TickStream } = await import(pathToFileURL(join(dir, 'stream.mjs')).href);
  const ticks = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${ticks.length} ticks in 30 s`)), 30_000);
    const stream = new TickStream({
      url: wsUrl(),
      symbols: ['*'],
      WebSocket,
      retryMs: 100,
      onTick: (tick) => {
        ticks.push(tick);
        if (ticks.length === 200) stream.drop();
        if (ticks.length === 600) {
          clearTimeout(timer);
          stream.close();
          resolve();
        }
      },
    });
  });
  assert.ok(contiguous(ticks.slice(0, 600)), 'every offset once, in order, across the drop');
});

test('in Chromium, the same client resumes the same way', async () => {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(daemon.url);
    const ticks = await page.evaluate(async ([code, url]) => {
      const module = await import(URL.createObjectURL(new Blob([code], { type: 'text/javascript' })));
      return new Promise((resolve) => {
        const seen = [];
        const stream = new module.TickStream({
          url,
          symbols: ['*'],
          retryMs: 100,
          onTick: (tick) => {
            seen.push({ partition: tick.partition, offset: tick.offset });
            if (seen.length === 100) stream.drop();
            if (seen.length === 300) {
              stream.close();
              // The rest of the frame being read still arrives: keep the first 300.
              resolve(seen.slice(0, 300));
            }
          },
        });
      });
    }, [compiled, wsUrl()]);
    assert.equal(ticks.length, 300);
    assert.ok(contiguous(ticks), 'every offset once, in order, across the drop');
  } finally {
    await browser.close();
  }
});
