// Browser numbers for BENCHMARKS.md (run by `cargo xtask bench`, not a test):
// time to first paint of `bank serve`'s page in headless Chromium, and the
// frame rate while the visualizer animates a scenario. Prints a Markdown
// section on stdout. Bounded: every wait has a timeout.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..', '..', '..');
const BANK_BIN = process.env.BANK_BIN ?? join(root, 'target', 'release', 'bank');
const BANK_DIST = process.env.BANK_DIST ?? join(root, 'dist');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const WAIT = 30_000;
const RUNS = 5;

function startServer() {
  return new Promise((ok, fail) => {
    const child = spawn(BANK_BIN, ['serve', '--addr', '127.0.0.1:0', '--dist', BANK_DIST], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const timer = setTimeout(() => fail(new Error('bank serve printed no URL')), WAIT);
    child.stdout.on('data', (c) => {
      out += c;
      const m = out.match(/http:\/\/127\.0\.0\.1:\d+\//);
      if (m) { clearTimeout(timer); ok({ child, url: m[0] }); }
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const { child, url } = await startServer();
const profile = mkdtempSync(join(tmpdir(), 'bank-bench-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  viewport: { width: 1400, height: 900 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

try {
  // First paint and first drawn branch, fresh page load each run (the HTTP
  // cache is disabled through CDP so every run downloads the bundle).
  const fcp = [];
  const ready = [];
  // The context's first tab is the foreground one: background tabs record
  // no paint timing.
  const page = context.pages()[0] ?? await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  for (let i = 0; i < RUNS; i++) {
    await page.goto('about:blank');
    const start = Date.now();
    await page.goto(url);
    await page.getByTestId('branch-1').waitFor({ timeout: WAIT });
    ready.push(Date.now() - start);
    fcp.push(await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN));
  }

  // Frame rate while playing the 10-branch project 3 scenario at top speed.
  await page.goto(url);
  await page.getByTestId('scenario-picker').selectOption('project3-big');
  await page.getByTestId('load-example').click();
  await page.getByTestId('branch-10').waitFor({ timeout: WAIT });
  await page.getByTestId('speed').fill('8');
  await page.getByTestId('play').click();
  const { fps, maxDots } = await page.evaluate(() => new Promise((done) => {
    let frames = 0;
    let maxDots = 0;
    const start = performance.now();
    const frame = (now) => {
      frames += 1;
      maxDots = Math.max(maxDots, document.querySelectorAll('[data-testid="message-dot"]').length);
      if (now - start < 5000) requestAnimationFrame(frame);
      else done({ fps: frames / ((now - start) / 1000), maxDots });
    };
    requestAnimationFrame(frame);
  }));

  console.log(`## 4b. The page in headless Chromium

Fresh loads of \`bank serve\`'s page (HTTP cache disabled), ${RUNS} runs: first contentful paint median **${median(fcp).toFixed(0)} ms**; the graph's first branch drawn (wasm downloaded, compiled, scenario fetched over grpc-web) median **${median(ready).toFixed(0)} ms**.

Animation: playing \`project3-big\` (10 branches) at 8× for 5 s, requestAnimationFrame ran at **${fps.toFixed(1)} frames/s** with at most ${maxDots} message(s) drawn in flight at once (this scenario has one customer, so messages mostly travel one at a time). Headless Chromium without a GPU paces frames itself, so this is a floor for a real display. Not measured yet: 20 branches with 500 messages in flight (needs a scenario that keeps that many in flight at once).
`);
} finally {
  await context.close();
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  await exited;
  rmSync(profile, { recursive: true, force: true });
}
