// Browser numbers for BENCHMARKS.md (run by `cargo xtask bench`, not a test):
// time to first paint of `bank serve`'s page in headless Chromium, the frame
// rate while the visualizer animates a scenario (project3-big, then the
// busy-bank example with hundreds of messages in flight), and the peak
// resident memory of that `bank serve` process. Prints a Markdown section on
// stdout. Bounded: every wait has a timeout.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..', '..', '..');
const BANK_BIN = process.env.BANK_BIN ?? join(root, 'target', 'release', 'bank');
const BANK_DIST = process.env.BANK_DIST ?? join(root, 'dist');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const WAIT = 30_000;
const RUNS = 5;
/// How many messages in flight the busy-bank measurement aims for.
const TARGET_DOTS = 500;
/// The measurement window of an animation, in ms.
const WINDOW = 5000;

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
const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.round((xs.length - 1) * p)];

/// Counts animation frames for WINDOW ms in the page, and the message dots
/// drawn at each frame.
async function animate(page) {
  const { frames, elapsed, dots, gaps } = await page.evaluate((window) => new Promise((done) => {
    const dots = [];
    const gaps = [];
    let start = null;
    let last = null;
    const frame = (now) => {
      if (start === null) start = now;
      else gaps.push(now - last);
      last = now;
      dots.push(Number(document.querySelector('[data-testid="message-dots"]')?.dataset.count ?? 0));
      if (now - start < window) requestAnimationFrame(frame);
      else done({ frames: gaps.length, elapsed: now - start, dots, gaps });
    };
    requestAnimationFrame(frame);
  }), WINDOW);
  return { fps: frames / (elapsed / 1000), maxDots: Math.max(...dots), medianDots: median(dots), gaps };
}

function frameTimes({ gaps }) {
  const ms = (x) => `${x.toFixed(1)} ms`;
  return `${ms(percentile(gaps, 0.5))} / ${ms(percentile(gaps, 0.95))} / ${ms(Math.max(...gaps))}`;
}

/// Peak and current resident memory of process `pid`, from /proc.
function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mib = (key) => {
    const kib = status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
    return kib ? `${(Number(kib[1]) / 1024).toFixed(1)} MiB` : null;
  };
  return { hwm: mib('VmHWM') ?? 'not readable', now: mib('VmRSS') };
}

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
    // The paint entry is reported asynchronously: wait for it (bounded).
    fcp.push(await page.evaluate((wait) => new Promise((done) => {
      const timer = setTimeout(() => done(NaN), wait);
      new PerformanceObserver((list, observer) => {
        const entry = list.getEntriesByName('first-contentful-paint')[0];
        if (entry) { clearTimeout(timer); observer.disconnect(); done(entry.startTime); }
      }).observe({ type: 'paint', buffered: true });
    }), 5_000));
  }

  // Frame rate while playing the 10-branch project 3 scenario at top speed.
  await page.goto(url);
  await page.getByTestId('scenario-picker').selectOption('project3-big');
  await page.getByTestId('load-example').click();
  await page.getByTestId('branch-10').waitFor({ timeout: WAIT });
  await page.getByTestId('speed').fill('8');
  await page.getByTestId('play').click();
  const small = await animate(page);

  // Frame rate with hundreds of messages in flight: busy-bank (20 branches,
  // 32 concurrent customers, parallel propagation over 3 s links) played at
  // 8x. The replay starts at the first event, where nothing is in flight
  // yet; "Live" jumps to the newest event, where the server's messages in
  // flight are. Jump until the page shows TARGET_DOTS of them (the server
  // needs a few seconds of play to get there), then keep playing and
  // measure.
  await page.getByTestId('scenario-picker').selectOption('busy-bank');
  await page.getByTestId('load-example').click();
  await page.getByTestId('branch-20').waitFor({ timeout: WAIT });
  await page.getByTestId('speed').fill('8');
  await page.getByTestId('play').click();
  // The server may finish the run before TARGET_DOTS are ever in flight at
  // once (then waiting for them would measure an idle page): once the count
  // is within 10% of the target and falls, the busiest moment has passed, so
  // measure at once.
  const warmDeadline = Date.now() + 60_000;
  let warm = 0;
  let mostWarm = 0;
  while (Date.now() < warmDeadline) {
    await page.getByTestId('jump-end').click();
    const previous = warm;
    warm = await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(
      () => done(Number(document.querySelector('[data-testid="message-dots"]')?.dataset.count ?? 0))))));
    mostWarm = Math.max(mostWarm, warm);
    if (warm >= TARGET_DOTS || (warm >= 0.9 * TARGET_DOTS && warm < previous)) break;
  }
  const cursorBefore = await page.getByTestId('cursor').textContent();
  const busy = await animate(page);
  const cursorAfter = await page.getByTestId('cursor').textContent();
  const rss = memory(child.pid);

  // The simulator in the page (the engine of a static host): project 3's
  // input_big simulated to its end, as the page's simulated lab runs it
  // (bank-core in the wasm, called through trunk's window.wasmBindings).
  await page.goto(`${url}?engine=sim`);
  await page.getByTestId('branch-1').waitFor({ timeout: WAIT });
  const big = readFileSync(join(root, 'testdata/formats/p3-client-consistency/anuragbnrj+cse531/input_big.json'), 'utf8');
  const simulated = await page.evaluate(([text, runs]) => {
    const times = [];
    let events = 0;
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      const output = window.wasmBindings.simulate_to_end(text);
      times.push(performance.now() - start);
      events = JSON.parse(output).length;
    }
    return { times, events };
  }, [big, RUNS * 2]);

  const painted = fcp.filter((t) => Number.isFinite(t));
  const fcpMedian = painted.length ? `${median(painted).toFixed(0)} ms` + (painted.length < fcp.length ? ` (${fcp.length - painted.length} of ${fcp.length} loads reported no paint entry)` : '') : 'not reported by this Chromium';
  console.log(`## 4b. The page in headless Chromium

Fresh loads of \`bank serve\`'s page (HTTP cache disabled), ${RUNS} runs: first contentful paint median **${fcpMedian}**; the graph's first branch drawn (wasm downloaded, compiled, scenario fetched over grpc-web) median **${median(ready).toFixed(0)} ms**.

Animation, measured with requestAnimationFrame in the page (frames counted for ${WINDOW / 1000} s; the message dots counted on every frame). Headless Chromium without a GPU paces frames itself, so these are floors for a real display; the goal is 60 frames/s.

| scenario | messages in flight (max / median per frame) | frames/s | frame time p50 / p95 / max |
|---|---|---|---|
| \`project3-big\` (10 branches, one customer) at 8× | ${small.maxDots} / ${small.medianDots} | **${small.fps.toFixed(1)}** | ${frameTimes(small)} |
| \`busy-bank\` (20 branches, 32 concurrent customers) at 8× | ${busy.maxDots} / ${busy.medianDots} | **${busy.fps.toFixed(1)}** | ${frameTimes(busy)} |

\`busy-bank\`: the server played the scenario at speed 8 (at most 8 customer events/s) while the page replayed it (cursor ${cursorBefore.trim()} → ${cursorAfter.trim()} during the window, after jumping to the newest event${warm >= TARGET_DOTS ? ` once ${warm} dots were in flight` : warm >= 0.9 * TARGET_DOTS ? ` once ${warm} dots were in flight, past the busiest moment seen (${mostWarm}; ${TARGET_DOTS} were not reached)` : `; ${TARGET_DOTS} dots in flight were not reached within 60 s, the most seen was ${mostWarm}`}); the page kept receiving the server's new events meanwhile.

Simulated in the page (\`?engine=sim\`, what a static host runs): project 3's \`input_big.json\` (${JSON.parse(big).filter((e) => e.type === 'customer').length} customers, ${simulated.events} output entries) simulated to its end with the history checked and the course output rendered, ${RUNS * 2} runs: median **${median(simulated.times).toFixed(1)} ms**, max ${Math.max(...simulated.times).toFixed(1)} ms (goal < 50 ms).

Peak resident memory of that \`bank serve\` process (/proc/<pid>/status VmHWM) at the end, having served these page loads and run \`project3-big\` and then \`busy-bank\` (32 concurrent customers, each deposit waiting for its 19 propagations and their acknowledgements, as above) with the page watching: **${rss.hwm}**${rss.now ? ` (resident now: ${rss.now})` : ''}.
`);
} finally {
  await context.close();
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  await exited;
  rmSync(profile, { recursive: true, force: true });
}
