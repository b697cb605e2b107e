// End-to-end: the space-time diagram (main page and embed mode) and the
// scenario picker after `?scenario=`, against the real `bank serve` in
// headless Chromium (see visualizer.test.mjs for how it is run). Every wait
// is on a condition in the page, bounded by a timeout; nothing sleeps.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
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
  profile = mkdtempSync(join(tmpdir(), 'bank-e2e-diagram-'));
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

/** The timeline's readout as [cursor, length]. */
async function cursorOf(page) {
  const text = await byId(page, 'cursor').textContent();
  const m = text.match(/(\d+)\s*\/\s*(\d+)/);
  return [Number(m[1]), Number(m[2])];
}

async function waitForCursor(page, value) {
  await page.waitForFunction(
    (v) => (document.querySelector('[data-testid="cursor"]')?.textContent ?? '').trim().startsWith(`${v} /`),
    value,
    { timeout: WAIT },
  );
}

async function playToTheEnd(page) {
  await byId(page, 'speed').fill('8');
  await byId(page, 'play').click();
  await page.waitForFunction(() => {
    const state = document.querySelector('[data-testid="play-state"]')?.textContent?.trim();
    const m = (document.querySelector('[data-testid="cursor"]')?.textContent ?? '').match(/(\d+)\s*\/\s*(\d+)/);
    return state === 'finished' && m && m[1] === m[2];
  }, null, { timeout: WAIT });
}

/** The lane headers' keys, left to right. */
const laneKeys = (page) => page.evaluate(() =>
  [...document.querySelectorAll('[data-testid^="diagram-lane-"]')]
    .sort((a, b) => a.getBoundingClientRect().left - b.getBoundingClientRect().left)
    .map((e) => e.dataset.testid.replace('diagram-lane-', '')));

test('the space-time diagram: a lane per branch and session, events and arrows move the cursor', async () => {
  const { page, errors } = await newPage('/');
  await byId(page, 'app-root').waitFor({ timeout: WAIT });
  await byId(page, 'scenario-picker').selectOption('seed-test-1');
  await byId(page, 'load-example').click();
  // seed-test-1: branches 1 and 2, one customer session, and the browser.
  await byId(page, 'diagram-lane-b2').waitFor({ timeout: WAIT });
  assert.deepEqual(await laneKeys(page), ['b1', 'b2', 'c0', 'you']);
  assert.equal(await byId(page, 'diagram-lane-c0').textContent(), 'C1');

  await playToTheEnd(page);
  const [end, len] = await cursorOf(page);
  assert.equal(end, len);
  // Every arrow is received by now, and every event has its circle.
  await page.waitForFunction(
    () => document.querySelectorAll('[data-testid="diagram-arrow"][data-state="delivered"]').length > 3,
    null, { timeout: WAIT },
  );
  assert.equal(await page.locator('[data-testid="diagram-arrow"]:not([data-state="delivered"])').count(), 0);
  assert.ok(await byId(page, 'diagram-event').count() > 6);
  await byId(page, 'space-time').screenshot({ path: join(ARTIFACTS, 'diagram.png') });

  // Clicking an event moves the cursor to just after it and selects it.
  const event = byId(page, 'diagram-event').nth(2);
  const index = Number(await event.getAttribute('data-index'));
  assert.ok(index + 1 < len, 'an event before the end');
  await event.click();
  await waitForCursor(page, index + 1);
  assert.match(await byId(page, 'details').textContent(), new RegExp(`Event ${index + 1}\\b`));
  assert.equal(await page.locator('.log-line.selected .log-index').textContent(), String(index + 1));
  // Events after the cursor are drawn faint.
  assert.ok(await page.locator('[data-testid="diagram-event"].future').count() > 0);

  // The keyboard does the same: Tab to an event, Enter.
  const first = byId(page, 'diagram-event').first();
  await first.focus();
  await page.keyboard.press('Enter');
  await waitForCursor(page, Number(await first.getAttribute('data-index')) + 1);
  assert.equal(await byId(page, 'play-state').textContent(), 'finished', 'Enter did not play');

  // Clicking an arrow moves the cursor to its send and selects the message.
  const arrow = byId(page, 'diagram-arrow').last();
  const start = Number(await arrow.getAttribute('data-start'));
  await arrow.locator('.st-arrow-hit').click({ force: true });
  await waitForCursor(page, start + 1);
  assert.match(await byId(page, 'details').textContent(), /Message/);

  // Lanes can be hidden and reordered from the keyboard.
  await byId(page, 'lane-controls').click();
  await byId(page, 'lane-up-b2').focus();
  await page.keyboard.press('Enter');
  assert.deepEqual(await laneKeys(page), ['b2', 'b1', 'c0', 'you']);
  // Or with the mouse: c0's header dragged onto b2's place takes it.
  const from = await byId(page, 'diagram-lane-c0').boundingBox();
  const to = await byId(page, 'diagram-lane-b2').boundingBox();
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 5 });
  await byId(page, 'lane-drop').waitFor({ timeout: WAIT });
  await page.mouse.up();
  assert.deepEqual(await laneKeys(page), ['c0', 'b2', 'b1', 'you']);
  assert.equal(await byId(page, 'lane-drop').count(), 0, 'the drop marker goes with the drag');
  await byId(page, 'lane-shown-you').check();
  await byId(page, 'lane-shown-you').uncheck();
  await byId(page, 'diagram-lane-you').waitFor({ state: 'detached', timeout: WAIT });
  assert.deepEqual(await laneKeys(page), ['c0', 'b2', 'b1']);
  // The legend is folded until asked for, by the keyboard too.
  assert.equal(await byId(page, 'diagram-legend').isVisible(), false);
  await byId(page, 'diagram-legend-toggle').focus();
  await page.keyboard.press('Enter');
  await byId(page, 'diagram-legend').waitFor({ timeout: WAIT });
  assert.deepEqual(errors, []);
  await page.close();
});

test('vector clocks: every event labelled with one, and the selected event\'s causal past and future marked', async () => {
  const { page, errors } = await newPage('/');
  await byId(page, 'app-root').waitFor({ timeout: WAIT });
  await byId(page, 'scenario-picker').selectOption('seed-test-1');
  await byId(page, 'load-example').click();
  await byId(page, 'diagram-lane-b2').waitFor({ timeout: WAIT });
  await playToTheEnd(page);
  const labels = () => page.locator('[data-testid="diagram-event"] text').allTextContents();
  assert.ok((await labels()).every((l) => !l.startsWith('[')), 'Lamport clocks first');

  await byId(page, 'diagram-vector').check();
  await page.waitForFunction(
    () => [...document.querySelectorAll('[data-testid="diagram-event"] text')].every((t) => /^\[(\w+:\d+ ?)*\]$/.test(t.textContent)),
    null, { timeout: WAIT },
  );
  // The first event (the customer's first request) has seen only itself.
  const first = byId(page, 'diagram-event').first();
  assert.match(await first.locator('text').textContent(), /^\[c0:1\]$/);

  // The last event of the run: the events before it in its past, none after.
  const last = byId(page, 'diagram-event').last();
  await last.click();
  await page.locator('[data-testid="diagram-event"].cone-past').first().waitFor({ timeout: WAIT });
  assert.equal(await page.locator('[data-testid="diagram-event"].cone-future').count(), 0);
  assert.ok(await first.evaluate((e) => e.classList.contains('cone-past')), 'the first request is in its past');
  // The first event: everything causally after it is marked, nothing before.
  await first.click();
  await page.locator('[data-testid="diagram-event"].cone-future').first().waitFor({ timeout: WAIT });
  assert.equal(await page.locator('[data-testid="diagram-event"].cone-past').count(), 0);
  await byId(page, 'space-time').screenshot({ path: join(ARTIFACTS, 'diagram-vector.png') });

  // Off again: Lamport clocks, no cone.
  await byId(page, 'diagram-vector').uncheck();
  await page.waitForFunction(
    () => document.querySelectorAll('[data-testid="diagram-event"].cone-future, [data-testid="diagram-event"].cone-past').length === 0,
    null, { timeout: WAIT },
  );
  assert.ok((await labels()).every((l) => !l.startsWith('[')));
  assert.deepEqual(errors, []);
  await page.close();
});

test('embed mode with &view=diagram shows the diagram and the controls only', async () => {
  const { page, errors } = await newPage('/?embed=1&view=diagram&scenario=seed-test-1');
  await byId(page, 'embed-root').waitFor({ timeout: WAIT });
  await byId(page, 'diagram-lane-b2').waitFor({ timeout: WAIT });
  assert.equal(await byId(page, 'graph').count(), 0, 'no graph with view=diagram');
  assert.equal(await page.locator('main h1').count(), 1, 'a main landmark with a heading');
  await playToTheEnd(page);
  await page.waitForFunction(
    () => document.querySelectorAll('[data-testid="diagram-event"]').length > 6,
    null, { timeout: WAIT },
  );
  await page.screenshot({ path: join(ARTIFACTS, 'embed-diagram.png') });
  await page.goto(new URL('/?embed=1&view=both', baseUrl).href);
  await byId(page, 'graph').waitFor({ timeout: WAIT });
  await byId(page, 'diagram-lane-b2').waitFor({ timeout: WAIT });
  assert.deepEqual(errors, []);
  await page.close();
});

test('while a run plays, the example picked is the one loaded', async () => {
  const { page, errors } = await newPage('/');
  await byId(page, 'app-root').waitFor({ timeout: WAIT });
  await byId(page, 'scenario-picker').selectOption('project3-big');
  await byId(page, 'load-example').click();
  await byId(page, 'branch-10').waitFor({ timeout: WAIT });
  await byId(page, 'speed').fill('8');
  await byId(page, 'play').click();
  // Events keep arriving while the person picks another example.
  await page.waitForFunction(
    () => Number((document.querySelector('[data-testid="cursor"]')?.textContent ?? '').match(/(\d+)\s*\//)?.[1]) > 20,
    null, { timeout: WAIT },
  );
  await byId(page, 'scenario-picker').selectOption('busy-bank');
  // More events of the old run arrive meanwhile (each used to reset the pick).
  const [picked] = await cursorOf(page);
  await page.waitForFunction(
    (c) => Number((document.querySelector('[data-testid="cursor"]')?.textContent ?? '').match(/(\d+)\s*\//)?.[1]) > c + 5,
    picked, { timeout: WAIT },
  );
  assert.equal(await byId(page, 'scenario-picker').inputValue(), 'busy-bank', 'the pick stays');
  await byId(page, 'load-example').click();
  await byId(page, 'branch-20').waitFor({ timeout: WAIT });
  assert.match(await page.locator('.scenario-title').textContent(), /busy-bank/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('after ?scenario=demo-stale-read the picker and the editor show that scenario', async () => {
  const { page, errors } = await newPage('/?scenario=demo-stale-read');
  await byId(page, 'app-root').waitFor({ timeout: WAIT });
  await page.waitForFunction(
    () => document.querySelector('[data-testid="scenario-picker"]')?.value === 'demo-stale-read',
    null, { timeout: WAIT },
  );
  const shipped = JSON.parse(readFileSync(join(root, 'examples', 'demo-stale-read.json'), 'utf8'));
  assert.deepEqual(JSON.parse(await byId(page, 'scenario-editor').inputValue()), shipped);
  assert.deepEqual(errors, []);
  await page.close();
});
