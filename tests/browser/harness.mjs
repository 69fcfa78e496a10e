// Shared by the browser tests: a real tickstreamd on a free port with its
// own data directory, real headless Chromium, and where screenshots go.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const daemonBin = process.env.TICKSTREAMD_BIN;
export const artifacts = process.env.SCREENSHOT_DIR ?? join(import.meta.dirname, '../artifacts');
assert.ok(daemonBin, 'TICKSTREAMD_BIN must name the tickstreamd binary (cargo xtask test sets it)');

/** A tickstreamd process; `url` is its dashboard. */
export class Daemon {
  /** Starts one (on a free port unless `listen` says) simulating `rate` ticks/s after `backfill` of history, with `args` after the defaults. */
  static async start({ listen = '127.0.0.1:0', rate = 400, backfill = '2h', args = [], bin = daemonBin } = {}) {
    const daemon = new Daemon();
    daemon.dataDir = mkdtempSync(join(tmpdir(), 'tickstream-browser-'));
    daemon.process = spawn(
      bin,
      ['run', '--listen', listen, '--rate', String(rate), '--backfill', backfill, '--data-dir', daemon.dataDir, ...args],
      { env: { ...process.env, TICKSTREAM_LOG: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    daemon.url = await new Promise((resolve, reject) => {
      daemon.process.once('exit', (code) => reject(new Error(`tickstreamd exited early (${code})`)));
      createInterface({ input: daemon.process.stdout }).once('line', (line) => {
        const match = line.match(/http:\/\/[^/\s]+\//);
        if (match) resolve(match[0]);
        else reject(new Error(`no URL in ${line}`));
      });
    });
    return daemon;
  }

  /** Stops it (SIGTERM) and waits for the exit; `keepData` leaves its directory. */
  async stop({ keepData = false } = {}) {
    if (this.process.exitCode === null) {
      const exited = new Promise((resolve) => this.process.once('exit', resolve));
      this.process.kill('SIGTERM');
      await exited;
    }
    if (!keepData) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Headless Chromium from the system (/usr/bin/chromium unless CHROMIUM says). */
export async function launchBrowser() {
  mkdirSync(artifacts, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
    ],
  });
}

/** Opens the dashboard in a fresh context; resolves once it streams live. Page errors are collected. */
export async function openDashboard(browser, url, { colorScheme = 'dark', width = 1440, height = 900, path = '' } = {}) {
  const page = await browser.newPage({ viewport: { width, height }, colorScheme, acceptDownloads: true });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url + path);
  await page.locator('#status[data-state="live"]').waitFor({ timeout: 30_000 });
  return { page, errors };
}

/** `SYMBOL=price` of every card shown, in order. */
export const cardPrices = (page) =>
  page.$$eval('.card', (cards) => cards.map((c) => `${c.dataset.symbol}=${c.querySelector('.card-price').textContent}`));

/** The symbols of the cards shown, in order. */
export const cardSymbols = (page) => page.$$eval('.card', (cards) => cards.map((c) => c.dataset.symbol));
