// End-to-end: the "Check a submission" panel against the real `bank serve`
// in headless Chromium (see visualizer.test.mjs for how it is run). The
// submission is the lab's own output, mutated the way a student gets it
// wrong; the panel must report that problem and, clicked, move the cursor
// to its event. Every wait is on a condition in the page, bounded.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, WAIT, serverAndBrowser } from './support.mjs';

const shared = serverAndBrowser();

const byId = (scope, id) => scope.getByTestId(id);

function newViewer(path) {
  return shared.open(path);
}

/** Loads a shipped example, plays it to the end, and gives its output. */
async function runToTheEnd(page, example) {
  await byId(page, 'app-root').waitFor({ timeout: WAIT });
  await byId(page, 'scenario-picker').selectOption(example);
  await byId(page, 'load-example').click();
  await byId(page, 'branch-2').waitFor({ timeout: WAIT });
  await byId(page, 'speed').fill('8');
  await byId(page, 'play').click();
  await page.waitForFunction(() => {
    const state = document.querySelector('[data-testid="play-state"]')?.textContent?.trim();
    const m = (document.querySelector('[data-testid="cursor"]')?.textContent ?? '').match(/(\d+)\s*\/\s*(\d+)/);
    return state === 'finished' && m && m[1] === m[2];
  }, null, { timeout: WAIT });
  return byId(page, 'output-json').textContent();
}

async function cursor(page) {
  const m = (await byId(page, 'cursor').textContent()).match(/(\d+)\s*\/\s*(\d+)/);
  return Number(m[1]);
}

async function waitForCursor(page, value) {
  await page.waitForFunction(
    (v) => (document.querySelector('[data-testid="cursor"]')?.textContent ?? '').trim().startsWith(`${v} /`),
    value,
    { timeout: WAIT },
  );
}

async function waitForCursorBefore(page, value) {
  await page.waitForFunction((v) => {
    const m = (document.querySelector('[data-testid="cursor"]')?.textContent ?? '').match(/(\d+)\s*\//);
    return m && Number(m[1]) < v;
  }, value, { timeout: WAIT });
}

/** Pastes `text` into the panel and checks it. */
async function check(page, text) {
  await byId(page, 'grade-input').fill(text);
  await byId(page, 'grade-check').click();
  await byId(page, 'grade-report').waitFor({ timeout: WAIT });
}

/** The event a problem is linked to must be the one shown and selected. */
async function assertShows(page, index, { diagram = true } = {}) {
  await waitForCursor(page, index + 1);
  assert.equal(await page.locator('.log-line.selected .log-index').textContent(), String(index + 1));
  assert.match(await byId(page, 'details').textContent(), new RegExp(`Event ${index + 1}\\b`));
  // The diagram marks it: its circle, or the message arrow that ends there.
  if (diagram) {
    const marked = page.locator('[data-testid="diagram-event"].hot, [data-testid="diagram-arrow"].hot');
    await marked.first().waitFor({ timeout: WAIT });
  }
}

test('a wrong balance is reported at its customer event, and clicking it shows that event', async () => {
  const { context, page, errors } = await newViewer('/');
  const output = await runToTheEnd(page, 'project1-sample');
  // The run's own output is exact and valid.
  await check(page, output);
  assert.equal(await byId(page, 'grade-exact').textContent(), 'exact ✓');
  assert.equal(await byId(page, 'grade-valid').textContent(), 'valid ✓');
  assert.equal(await byId(page, 'grade-problem').count(), 0);

  // Customer 2's query answered 590 instead of 570.
  assert.match(output, /\b570\b/);
  await check(page, output.replace(/\b570\b/, '590'));
  await byId(page, 'grade-valid').filter({ hasText: 'valid ✗' }).waitFor({ timeout: WAIT });
  assert.equal(await byId(page, 'grade-exact').textContent(), 'exact ✗');
  const problem = page.locator('[data-testid="grade-problems"] [data-testid="grade-problem"][data-kind="wrong_balance"]');
  assert.equal(await problem.count(), 1);
  assert.match(await problem.textContent(), /customer 2, event \d+ \(query at branch 2\): "balance": 590, expected (\d+ or )?570\b/);
  const index = Number(await problem.getAttribute('data-event'));
  assert.ok(index + 1 < (await cursor(page)), 'an event before the end');
  await problem.click();
  await assertShows(page, index);
  assert.match(await page.locator('.log-line.selected').textContent(), /C2/);
  await page.screenshot({ path: join(ARTIFACTS, 'grade-panel.png'), fullPage: true });

  // The keyboard does the same, and Space does not play.
  await byId(page, 'step-back').click();
  await waitForCursorBefore(page, index + 1);
  await problem.focus();
  await page.keyboard.press(' ');
  await waitForCursor(page, index + 1);
  assert.equal(await byId(page, 'play-state').textContent(), 'finished', 'Space did not play');
  await byId(page, 'step-back').click();
  await waitForCursorBefore(page, index + 1);
  await problem.focus();
  await page.keyboard.press('Enter');
  await waitForCursor(page, index + 1);
  assert.deepEqual(errors, []);
  await context.close();
});

test('an off-by-one clock is reported at its branch event, and clicking it shows that event', async () => {
  const { context, page, errors } = await newViewer('/');
  const output = JSON.parse(await runToTheEnd(page, 'project2-sample'));
  // The first propagation a branch received, one clock too early.
  const receives = [];
  const walk = (v) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      if (typeof v.logical_clock === 'number' && /event_recv from branch/.test(v.comment ?? '')) receives.push(v);
      Object.values(v).forEach(walk);
    }
  };
  walk(output);
  assert.ok(receives.length > 0, 'the output has branch receives');
  receives[0].logical_clock -= 1;
  await check(page, JSON.stringify(output, null, 2));
  await byId(page, 'grade-valid').filter({ hasText: 'valid ✗' }).waitFor({ timeout: WAIT });
  const problem = page.locator('[data-testid="grade-problems"] [data-testid="grade-problem"][data-event]').first();
  assert.match(await problem.getAttribute('data-kind'), /^(receive_rule|clock_not_increasing)$/);
  assert.match(await problem.textContent(), /clock/);
  const index = Number(await problem.getAttribute('data-event'));
  await problem.click();
  await assertShows(page, index);
  assert.match(await byId(page, 'details').textContent(), /propagat/i);
  assert.deepEqual(errors, []);
  await context.close();
});

test('in embed mode with &check=1 the panel checks a submission; an unreadable one says why', async () => {
  const { context, page, errors } = await newViewer('/?embed=1&check=1&scenario=project1-sample');
  await byId(page, 'embed-root').waitFor({ timeout: WAIT });
  await byId(page, 'branch-2').waitFor({ timeout: WAIT });
  await check(page, 'this is not JSON');
  const problem = byId(page, 'grade-problem').first();
  assert.equal(await problem.getAttribute('data-kind'), 'not_json');
  assert.equal(await byId(page, 'grade-valid').textContent(), 'valid ✗');
  // An empty list: named as such.
  await check(page, '[]');
  await page.locator('[data-testid="grade-problem"][data-kind="empty"]').waitFor({ timeout: WAIT });
  assert.deepEqual(errors, []);
  await context.close();
});
