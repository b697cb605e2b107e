// End-to-end: the page laid out for teaching (a 1366×768 laptop shows the
// graph, the space-time diagram, the controls, the timeline and the demo's
// explanation without scrolling), presentation mode at 1920×1080 (with
// reduced motion), and the diagram's extras: lanes dragged and moved from
// the keyboard, vector clocks, and the happened-before cone of a selected
// event. Against the real `bank serve` in headless Chromium (see
// visualizer.test.mjs for how it is run); every wait is on a condition in
// the page, bounded by a timeout.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS, WAIT, launchChromium, startServer, stopServer } from './support.mjs';

let server;
let browser;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await startServer();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stopServer(server);
});

const byId = (page, id) => page.getByTestId(id);

/** A page in a fresh context (its own lab) of the given size, collecting errors. */
async function open(path, viewport, extra = {}) {
  const context = await browser.newContext({ viewport, ...extra });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(new URL(path, server.url).href);
  return { context, page, errors };
}

/** Fails unless `id`'s element lies wholly inside the viewport. */
async function assertInViewport(page, id, viewport) {
  const box = await byId(page, id).first().boundingBox();
  assert.ok(box, `${id} is drawn`);
  const inside = box.x >= 0 && box.y >= 0 && box.x + box.width <= viewport.width + 0.5
    && box.y + box.height <= viewport.height + 0.5;
  assert.ok(inside, `${id} at ${JSON.stringify(box)} is not inside ${viewport.width}×${viewport.height}`);
  return box;
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

test('on a 1366×768 laptop the graph, diagram, controls, timeline and explanation fit without scrolling', async () => {
  const viewport = { width: 1366, height: 768 };
  const { context, page, errors } = await open('/?scenario=demo-stale-read', viewport);
  await byId(page, 'branch-2').waitFor({ timeout: WAIT });
  await byId(page, 'diagram-lane-b2').waitFor({ timeout: WAIT });
  await byId(page, 'scenario-description').waitFor({ timeout: WAIT });
  await byId(page, 'step-forward').click();
  await byId(page, 'explain-step').filter({ hasText: /^event \d+ of \d+/ }).waitFor({ timeout: WAIT });
  for (const id of ['graph', 'diagram-lane-b1', 'space-time', 'play', 'step-forward', 'timeline', 'cursor', 'explanation']) {
    await assertInViewport(page, id, viewport);
  }
  // The diagram sits beside the graph, and the explanation under the run,
  // not in the side panel.
  const graph = await byId(page, 'graph').boundingBox();
  const diagram = await byId(page, 'space-time').boundingBox();
  assert.ok(diagram.x >= graph.x + graph.width - 1, 'the diagram is right of the graph');
  const inSide = await page.evaluate(() => !!document.querySelector('.side [data-testid="scenario-description"]'));
  assert.equal(inSide, false);
  assert.equal(await page.evaluate(() => window.scrollY), 0);
  await page.screenshot({ path: join(ARTIFACTS, 'layout-1366x768.png') });
  assert.deepEqual(errors, []);
  await context.close();
});

test('presentation mode at 1920×1080: the run, the controls and one explanation line, in large type', async () => {
  const viewport = { width: 1920, height: 1080 };
  const { context, page, errors } = await open('/?present=1&scenario=demo-stale-read', viewport, { reducedMotion: 'reduce' });
  await byId(page, 'branch-2').waitFor({ timeout: WAIT });
  await page.waitForFunction(() => document.documentElement.classList.contains('present-mode'), null, { timeout: WAIT });
  assert.equal(await byId(page, 'present-toggle').getAttribute('aria-pressed'), 'true');
  // The editor and the tables are out of the way.
  assert.equal(await byId(page, 'scenario-picker').isVisible(), false);
  assert.equal(await byId(page, 'event-log').isVisible(), false);
  for (const id of ['graph', 'space-time', 'play', 'timeline', 'explanation']) {
    await assertInViewport(page, id, viewport);
  }
  // Large type: bigger than the laptop page's 16px.
  const size = await page.evaluate(() => parseFloat(getComputedStyle(document.documentElement).fontSize));
  assert.ok(size >= 24, `root font size ${size}px`);

  // One explanation line: the demo's description before the first step,
  // then what the last step did.
  const lineHeight = async () => page.evaluate(() => {
    const shown = [...document.querySelectorAll('[data-testid="explanation"] p')]
      .filter((p) => getComputedStyle(p).display !== 'none');
    return shown.map((p) => p.getBoundingClientRect().height / parseFloat(getComputedStyle(p).lineHeight));
  });
  let lines = await lineHeight();
  assert.equal(lines.length, 1, 'one line shown');
  assert.ok(lines[0] < 1.5, `one line high (${lines[0]})`);
  await byId(page, 'step-forward').click();
  await byId(page, 'explain-step').filter({ hasText: /^event \d+ of \d+/ }).waitFor({ timeout: WAIT });
  lines = await lineHeight();
  assert.equal(lines.length, 1, 'still one line');
  assert.equal(await byId(page, 'scenario-description').isVisible(), false);
  await page.screenshot({ path: join(ARTIFACTS, 'present-1920x1080.png') });

  // The button is keyboard reachable and leaves; the address follows.
  await byId(page, 'present-toggle').focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => !document.documentElement.classList.contains('present-mode'), null, { timeout: WAIT });
  assert.ok(!new URL(page.url()).searchParams.has('present'));
  // (Space is the page's play/pause, even on a button.)
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('present') === '1', null, { timeout: WAIT });
  // Escape leaves too.
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !document.documentElement.classList.contains('present-mode'), null, { timeout: WAIT });
  assert.deepEqual(errors, []);
  await context.close();
});

test('the diagram: lanes dragged and moved by keyboard, vector clocks, the happened-before cone', async () => {
  const viewport = { width: 1366, height: 768 };
  const { context, page, errors } = await open('/?scenario=seed-test-1', viewport);
  await byId(page, 'diagram-lane-b2').waitFor({ timeout: WAIT });
  assert.deepEqual(await laneKeys(page), ['b1', 'b2', 'c0', 'you']);

  // Keyboard: open the lane list, move B1 right with Enter on its button.
  await byId(page, 'lane-controls').focus();
  await page.keyboard.press('Enter');
  await byId(page, 'lane-down-b1').focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => {
    const x = (id) => document.querySelector(`[data-testid="diagram-lane-${id}"]`)?.getBoundingClientRect().left;
    return x('b2') < x('b1');
  }, null, { timeout: WAIT });
  assert.deepEqual(await laneKeys(page), ['b2', 'b1', 'c0', 'you']);
  // Drag: the browser's lane dropped on B2's header goes before it.
  await byId(page, 'diagram-lane-you').dragTo(byId(page, 'diagram-lane-b2'));
  await page.waitForFunction(() => {
    const x = (id) => document.querySelector(`[data-testid="diagram-lane-${id}"]`)?.getBoundingClientRect().left;
    return x('you') < x('b2');
  }, null, { timeout: WAIT });
  assert.deepEqual(await laneKeys(page), ['you', 'b2', 'b1', 'c0']);

  await playToTheEnd(page);
  // Vector clocks: one entry per shown lane, left to right.
  const labels = () => page.locator('[data-testid="diagram-event"] text').allTextContents();
  assert.ok((await labels()).every((t) => /^\d*(–\d+)?$/.test(t)), 'Lamport clocks first');
  await byId(page, 'diagram-vector').check();
  await page.waitForFunction(
    () => [...document.querySelectorAll('[data-testid="diagram-event"] text')].some((t) => /^\[\d+(,\d+){3}\]$/.test(t.textContent)),
    null, { timeout: WAIT },
  );
  assert.ok((await labels()).every((t) => /^\[\d+(,\d+){3}\]$/.test(t)), (await labels()).join(' '));
  const title = await byId(page, 'diagram-event').first().getAttribute('aria-label');
  assert.match(title, /vector clock B1:\d+ B2:\d+ C1:\d+ you:\d+/);

  // Selecting an event marks its cone: itself, its past, its future.
  const events = byId(page, 'diagram-event');
  const count = await events.count();
  const middle = events.nth(Math.floor(count / 2));
  const index = await middle.getAttribute('data-index');
  await middle.click();
  await page.waitForFunction(
    (i) => document.querySelector(`[data-testid="diagram-event"][data-index="${i}"]`)?.dataset.cone === 'selected',
    index, { timeout: WAIT },
  );
  const cones = await page.locator('[data-testid="diagram-event"]').evaluateAll((es) => es.map((e) => e.dataset.cone));
  assert.ok(cones.includes('past'), cones.join(' '));
  assert.ok(cones.includes('future'), cones.join(' '));
  assert.equal(cones.filter((c) => c === 'selected').length, 1);
  assert.ok(cones.every((c) => ['selected', 'past', 'future', 'concurrent'].includes(c)));
  await byId(page, 'diagram-cone-hint').waitFor({ timeout: WAIT });
  await byId(page, 'space-time').screenshot({ path: join(ARTIFACTS, 'diagram-cone.png') });
  assert.deepEqual(errors, []);
  await context.close();
});
