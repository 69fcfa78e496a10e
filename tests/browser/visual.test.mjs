// The dashboard in Chromium judged by its pixels: the same checks the
// desktop window must pass (tests/visual), so the two builds cannot differ.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { checks, playwrightView } from 'tickstream-visual';
import { artifacts, Daemon, launchBrowser, openDashboard } from './harness.mjs';

let daemon;
let browser;
let opened;

before(async () => {
  daemon = await Daemon.start();
  browser = await launchBrowser();
  opened = await openDashboard(browser, daemon.url);
});

after(async () => {
  await browser?.close();
  await daemon?.stop();
});

const view = () => playwrightView(opened.page, (name, png) => writeFileSync(join(artifacts, `browser-${name}.png`), png));

for (const check of checks) {
  test(check.name, async (t) => {
    const said = await check.run(view());
    if (said) t.diagnostic(said);
    assert.deepEqual(opened.errors, [], 'no page errors');
  });
}
