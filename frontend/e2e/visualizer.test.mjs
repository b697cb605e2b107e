// End-to-end: the real `bank serve` (real branch cluster, grpc-web, the
// release build of the frontend in dist/) driven in headless Chromium.
//
// Run by `cargo xtask test` with BANK_BIN (the bank binary) and BANK_DIST
// (the trunk build output) set. Screenshots go to ARTIFACTS
// (target/e2e-artifacts by default). Every wait is on a condition in the
// page, bounded by a timeout; nothing sleeps.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { ARTIFACTS, WAIT, chromiumOptions, root, startServer, stopServer } from './support.mjs';

let server;
let baseUrl;
let browser; // a persistent context in a fresh, throwaway profile directory
let profile;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await startServer();
  baseUrl = server.url;
  profile = mkdtempSync(join(tmpdir(), 'bank-e2e-chromium-'));
  browser = await chromium.launchPersistentContext(
    profile,
    chromiumOptions({ viewport: { width: 1400, height: 900 } }),
  );
});

after(async () => {
  await browser?.close();
  await stopServer(server);
  if (profile) rmSync(profile, { recursive: true, force: true });
});

const byId = (page, id) => page.getByTestId(id);

async function newPage(path = '/') {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(new URL(path, baseUrl).href);
  return { page, errors };
}

async function balance(page, branch) {
  const text = await byId(page, `branch-balance-${branch}`).textContent();
  return Number(text.trim());
}

/** Waits until `branch-balance-<b>` shows `value`. */
async function expectBalance(page, branch, value) {
  await page.waitForFunction(
    ([b, v]) => Number(document.querySelector(`[data-testid="branch-balance-${b}"]`)?.textContent?.trim()) === v,
    [branch, value],
    { timeout: WAIT },
  );
}

// Plays the loaded scenario until the server says it is finished, and shows
// its last state.
async function playToTheEnd(page) {
  await byId(page, 'play').click();
  await page.waitForFunction(
    () => document.querySelector('[data-testid="play-state"]')?.textContent?.trim() === 'finished',
    null,
    { timeout: WAIT },
  );
  await byId(page, 'jump-end').click();
}

async function loadExample(page, name) {
  await byId(page, 'scenario-picker').selectOption(name);
  await byId(page, 'load-example').click();
}

test('reference test 1: play to the end, watch messages fly, step back in time', async () => {
  const { page, errors } = await newPage('/');
  await byId(page, 'app-root').waitFor({ timeout: WAIT });
  await loadExample(page, 'seed-test-1');
  await byId(page, 'branch-1').waitFor({ timeout: WAIT });
  await byId(page, 'branch-2').waitFor({ timeout: WAIT });
  await expectBalance(page, 1, 0);

  await byId(page, 'play').click();
  // At least one message is drawn in flight during playback.
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid="message-dots"]')?.dataset.count) > 0,
    null,
    { timeout: WAIT },
  );
  await page.screenshot({ path: join(ARTIFACTS, 'playing.png') });

  // Played to the end: the server finished, the cursor reached the last event,
  // the course output is shown and both replicas are at 0.
  await page.waitForFunction(() => {
    const state = document.querySelector('[data-testid="play-state"]')?.textContent?.trim();
    const cursor = document.querySelector('[data-testid="cursor"]')?.textContent ?? '';
    const m = cursor.match(/(\d+)\s*\/\s*(\d+)/);
    return state === 'finished' && m && m[1] === m[2] && Number(m[2]) > 0;
  }, null, { timeout: WAIT });
  await expectBalance(page, 1, 0);
  await expectBalance(page, 2, 0);
  const output = JSON.parse(await byId(page, 'output-json').textContent());
  assert.deepEqual(output, [{ id: 1, balance: 0 }]);
  await page.screenshot({ path: join(ARTIFACTS, 'finished.png') });

  // Time travel: stepping back reaches the moment branch 1 held the deposit.
  let seen400 = false;
  for (let i = 0; i < 200 && !seen400; i++) {
    await byId(page, 'step-back').click();
    seen400 = (await balance(page, 1)) === 400;
  }
  assert.ok(seen400, 'stepping back never showed balance 400 on branch 1');
  await page.screenshot({ path: join(ARTIFACTS, 'stepped-back.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

/** The dots drawn in the last frame (the canvas's data-count). */
const dotCount = (page) =>
  page.evaluate(() => Number(document.querySelector('[data-testid="message-dots"]')?.dataset.count));

/**
 * Where the only dot of class `kind` is painted, in viewport (CSS) pixels:
 * the centre of the canvas pixels of exactly its colour (the label is in
 * another colour). Null if no pixel has it.
 */
const paintedDot = (page, kind) => page.evaluate((kind) => {
  const canvas = document.querySelector('[data-testid="message-dots"]');
  const probe = document.createElement('canvas').getContext('2d');
  probe.fillStyle = getComputedStyle(canvas).getPropertyValue(`--${kind}`).trim();
  const hex = probe.fillStyle; // normalized to #rrggbb
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const { data, width, height } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  let n = 0, sx = 0, sy = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      if (data[i + 3] === 255 && data[i] === r && data[i + 1] === g && data[i + 2] === b) { n++; sx += x; sy += y; }
    }
  }
  if (n === 0) return null;
  const rect = canvas.getBoundingClientRect();
  const scale = canvas.width / rect.width; // device pixels per CSS pixel
  return { x: rect.left + (sx / n + 0.5) / scale, y: rect.top + (sy / n + 0.5) / scale, pixels: n / scale / scale };
}, kind);

/** Distance (CSS px) from a viewport point to the nearest edge of the SVG graph. */
const distanceToEdge = (page, p) => page.evaluate(({ x, y }) => {
  const svg = document.querySelector('[data-testid="graph"]');
  let best = Infinity;
  for (const line of svg.querySelectorAll('line.edge')) {
    const m = line.getScreenCTM();
    const at = (px, py) => new DOMPoint(px, py).matrixTransform(m);
    const a = at(line.x1.baseVal.value, line.y1.baseVal.value);
    const b = at(line.x2.baseVal.value, line.y2.baseVal.value);
    const [dx, dy] = [b.x - a.x, b.y - a.y];
    const t = Math.max(0, Math.min(1, ((x - a.x) * dx + (y - a.y) * dy) / (dx * dx + dy * dy)));
    best = Math.min(best, Math.hypot(x - (a.x + t * dx), y - (a.y + t * dy)));
  }
  return best;
}, p);

test('message dots are painted on their edges, also after a resize, and can be hovered and clicked', async () => {
  const { page, errors } = await newPage('/');
  await byId(page, 'app-root').waitFor({ timeout: WAIT });
  await loadExample(page, 'seed-test-1');
  await byId(page, 'branch-2').waitFor({ timeout: WAIT });
  await byId(page, 'speed').fill('8');
  await playToTheEnd(page);
  await page.waitForFunction(() => {
    const m = (document.querySelector('[data-testid="cursor"]')?.textContent ?? '').match(/(\d+)\s*\/\s*(\d+)/);
    return m && m[1] === m[2];
  }, null, { timeout: WAIT });
  // Paused: step back to a moment with exactly one message in flight.
  let count = await dotCount(page);
  for (let i = 0; i < 200 && count !== 1; i++) {
    await byId(page, 'step-back').click();
    count = await dotCount(page);
  }
  assert.equal(count, 1, 'stepping back never showed exactly one message in flight');
  const kind = await byId(page, 'message-dots').getAttribute('data-kinds');
  assert.match(kind, /^(deposit|withdraw|query|propagate|ack):1$/);
  const cls = kind.split(':')[0];

  const dot = await paintedDot(page, cls);
  assert.ok(dot, `no ${cls} pixels on the canvas`);
  // A dot of radius 13 viewBox units: at least half its disc is painted,
  // at the scale the graph is drawn (smaller beside the diagram).
  const unit = await page.evaluate(() => document.querySelector('[data-testid="graph"]').getScreenCTM().a);
  const disc = Math.PI * (13 * unit) ** 2;
  assert.ok(dot.pixels > disc / 2, `the dot is too small: ${dot.pixels} px of a ${disc} px disc`);
  const off = await distanceToEdge(page, dot);
  assert.ok(off < 2, `the dot is ${off} px from the nearest edge`);
  await page.screenshot({ path: join(ARTIFACTS, 'dot-on-edge.png') });

  // Hover: the details panel describes the message, and the canvas its tooltip.
  assert.doesNotMatch(await byId(page, 'details').textContent(), /Message/);
  await page.mouse.move(dot.x, dot.y);
  await page.waitForFunction(
    () => /Message/.test(document.querySelector('[data-testid="details"]')?.textContent ?? ''),
    null,
    { timeout: WAIT },
  );
  assert.match(await byId(page, 'message-dots').getAttribute('title'), /→/);
  // Click selects it: the details stay once the pointer leaves the graph.
  await page.mouse.click(dot.x, dot.y);
  await page.mouse.move(2, 2);
  assert.equal(await byId(page, 'message-dots').getAttribute('title'), null);
  assert.match(await byId(page, 'details').textContent(), /Message/);

  // Resized: the canvas follows (backing store at the device pixel ratio)
  // and the dot is still on its edge.
  await page.setViewportSize({ width: 900, height: 700 });
  await page.waitForFunction(() => {
    const c = document.querySelector('[data-testid="message-dots"]');
    const r = c.getBoundingClientRect();
    return r.width < 880 && c.width === Math.round(r.width * devicePixelRatio);
  }, null, { timeout: WAIT });
  const moved = await paintedDot(page, cls);
  assert.ok(moved, 'no dot after the resize');
  const offAfter = await distanceToEdge(page, moved);
  assert.ok(offAfter < 2, `after the resize the dot is ${offAfter} px from the nearest edge`);
  await page.screenshot({ path: join(ARTIFACTS, 'dot-on-edge-resized.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

test('the page is a customer: a deposit changes every branch', async () => {
  const { page, errors } = await newPage('/');
  await byId(page, 'app-root').waitFor({ timeout: WAIT });
  await loadExample(page, 'project1-sample');
  for (const b of [1, 2, 3]) await expectBalance(page, b, 400);
  await byId(page, 'customer-branch').selectOption('2');
  await byId(page, 'customer-op').selectOption('deposit');
  await byId(page, 'customer-amount').fill('25');
  await byId(page, 'customer-send').click();
  await page.waitForFunction(
    () => /success/i.test(document.querySelector('[data-testid="customer-result"]')?.textContent ?? ''),
    null,
    { timeout: WAIT },
  );
  // Follow the live history to its end, then every replica shows the deposit.
  await byId(page, 'play').click();
  for (const b of [1, 2, 3]) await expectBalance(page, b, 425);
  await page.screenshot({ path: join(ARTIFACTS, 'customer-deposit.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

test('an invalid scenario shows where it is wrong', async () => {
  const { page } = await newPage('/');
  await byId(page, 'app-root').waitFor({ timeout: WAIT });
  await byId(page, 'scenario-editor').fill('[\n  {"id": 1, "type": "branch", "balance": 0},\n  {"id": 2,, }\n]');
  await byId(page, 'run-editor').click();
  const error = byId(page, 'scenario-error');
  await error.waitFor({ timeout: WAIT });
  const text = await error.textContent();
  assert.match(text, /line 3/i);
  assert.match(text, /column \d+/i);
  await page.screenshot({ path: join(ARTIFACTS, 'invalid-scenario.png') });
  await page.close();
});

test('an example changed in the editor runs under a name that says so', async () => {
  const { page, errors } = await newPage('/');
  await byId(page, 'app-root').waitFor({ timeout: WAIT });
  await loadExample(page, 'seed-test-1');
  const editor = byId(page, 'scenario-editor');
  await page.waitForFunction(() => (document.querySelector('[data-testid="scenario-editor"]')?.value ?? '').includes('"deposit"'), null, { timeout: WAIT });
  const text = await editor.inputValue();
  await editor.fill(text.replace('"money": 400', '"money": 500'));
  await byId(page, 'run-editor').click();
  await page.waitForFunction(
    () => (document.querySelector('.scenario-title')?.textContent ?? '').startsWith('seed-test-1 (edited) ·'),
    null, { timeout: WAIT },
  );
  assert.deepEqual(errors, []);
  await page.close();
});

test('embed mode shows the graph and controls only', async () => {
  const { page, errors } = await newPage('/?embed=1&scenario=seed-test-2');
  await byId(page, 'embed-root').waitFor({ timeout: WAIT });
  await byId(page, 'graph').waitFor({ timeout: WAIT });
  await byId(page, 'play').waitFor({ timeout: WAIT });
  await byId(page, 'branch-2').waitFor({ timeout: WAIT });
  assert.equal(await byId(page, 'scenario-editor').count(), 0, 'no editor in embed mode');
  assert.equal(await byId(page, 'app-root').count(), 0);
  // It is seed-test-2 (read your writes) that was loaded: played to the end,
  // both branches hold the deposit of 400 (seed-test-1 would end at 0).
  await playToTheEnd(page);
  await expectBalance(page, 1, 400);
  await expectBalance(page, 2, 400);
  await page.screenshot({ path: join(ARTIFACTS, 'embed.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

test('faults with the keyboard alone, shown at once while the run plays', async () => {
  const { page, errors } = await newPage('/');
  await byId(page, 'app-root').waitFor({ timeout: WAIT });
  await loadExample(page, 'seed-test-1');
  await byId(page, 'branch-2').waitFor({ timeout: WAIT });
  // Slowly, so that the cursor is far behind the server when branch 2 crashes.
  await byId(page, 'speed').fill('0.5');
  await byId(page, 'play').click();
  // A branch takes the focus; Enter opens its faults and puts the focus on
  // the first of them.
  await byId(page, 'branch-2').focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement?.dataset.testid === 'crash-2', null, { timeout: WAIT });
  await page.keyboard.press('Enter');
  // The bar says so as soon as the lab has crashed it, wherever the cursor is.
  await byId(page, 'fault-bar').filter({ hasText: /Branch 2\s*is down/ }).waitFor({ timeout: WAIT });
  assert.equal(await byId(page, 'crash-2').isDisabled(), true);
  // A link too: Tab reaches it, Enter opens cut / heal / delay.
  await byId(page, 'link-1-2').evaluate((line) => line.closest('[role=button]').focus());
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement?.dataset.testid === 'cut-1-2', null, { timeout: WAIT });
  // (Space is the page's play / pause, on a button too.)
  await page.keyboard.press('Enter');
  await byId(page, 'fault-bar').filter({ hasText: /Link 1-2\s*is cut/ }).waitFor({ timeout: WAIT });
  assert.deepEqual(errors, []);
  await page.close();
});

test('faults and consistency: crash and restart by clicking, a stale read is highlighted', async () => {
  const { page, errors } = await newPage('/');
  await byId(page, 'app-root').waitFor({ timeout: WAIT });
  // The stale-read demo with every guarantee off (its own setting, chosen explicitly).
  await byId(page, 'guarantees-none').click();
  assert.equal(await byId(page, 'guarantee-ryw').isChecked(), false);
  await loadExample(page, 'demo-stale-read');
  await byId(page, 'branch-2').waitFor({ timeout: WAIT });
  await page.waitForFunction(
    () => /guarantees none/.test(document.querySelector('[data-testid="settings-in-use"]')?.textContent ?? ''),
    null, { timeout: WAIT },
  );

  // Crash branch 2 by clicking it: it is drawn down.
  await byId(page, 'branch-2').click();
  await byId(page, 'crash-2').click();
  await byId(page, 'down-2').waitFor({ timeout: WAIT });
  // Slow the link 1-2 down by clicking it (the demo already has it at 500 ms).
  await byId(page, 'link-1-2').click({ force: true });
  await byId(page, 'delay-1-2').fill('600');
  await byId(page, 'set-delay-1-2').click();
  await page.waitForFunction(
    () => [...document.querySelectorAll('.log-network')].some((e) => /set the link 1-2 to 600 ms/.test(e.textContent)),
    null, { timeout: WAIT },
  );
  await page.screenshot({ path: join(ARTIFACTS, 'fault-crashed.png') });
  // Restart it: the badge goes away.
  await byId(page, 'branch-2').click();
  await byId(page, 'restart-2').click();
  await byId(page, 'down-2').waitFor({ state: 'detached', timeout: WAIT });

  // Play to the end, fast: the query must reach branch 2 before the deposit
  // does over the slow link. The checker's verdict is in the log and the graph.
  await byId(page, 'speed').fill('8');
  await byId(page, 'play').click();
  const violation = byId(page, 'violation').first();
  await violation.waitFor({ timeout: WAIT }).catch(async (e) => {
    await page.screenshot({ path: join(ARTIFACTS, 'violation-missing.png'), fullPage: true });
    throw e;
  });
  const text = await violation.textContent();
  assert.match(text, /Read Your Writes/);
  assert.match(text, /w1\.1/);
  await byId(page, 'violation-marker').first().waitFor({ state: 'attached', timeout: WAIT });
  await page.screenshot({ path: join(ARTIFACTS, 'violation.png'), fullPage: true });

  // Side by side: the same seed with the guarantees off and on.
  await byId(page, 'compare-run').click();
  await byId(page, 'compare-left').waitFor({ timeout: WAIT });
  assert.match(await byId(page, 'compare-left').textContent(), /guarantees: none[\s\S]*Read Your Writes violated/);
  assert.match(await byId(page, 'compare-right').textContent(), /guarantees: all[\s\S]*no violation/);
  await byId(page, 'compare').screenshot({ path: join(ARTIFACTS, 'compare.png') });
  assert.deepEqual(errors, []);
  await page.close();
});
