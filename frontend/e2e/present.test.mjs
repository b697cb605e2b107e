// End-to-end: presentation mode (`?present=1`, or the "Present" button), for
// a projector at 1920x1080: large type, the graph (and with `&view=both`
// the space-time diagram), the controls, the timeline and one line saying
// what just happened; none of the side panels. Leaving it (the button or
// Escape) brings the full page back with the same run at the same cursor,
// and the address follows, so a reload opens the same way. Against the
// real `bank serve` in headless Chromium (see visualizer.test.mjs).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, WAIT, serverAndBrowser } from './support.mjs';

const shared = serverAndBrowser();

const byId = (page, id) => page.getByTestId(id);
const projector = { width: 1920, height: 1080 };

/** The computed font size of the element with test id `id`, in pixels. */
function fontSize(page, id) {
  return page.evaluate((id) => parseFloat(getComputedStyle(document.querySelector(`[data-testid="${id}"]`)).fontSize), id);
}

test('?present=1 shows the run large, with its controls and one line of explanation', async () => {
  const { context, page, errors } = await shared.open('/?present=1&scenario=seed-test-1', projector);
  await byId(page, 'present-root').waitFor({ timeout: WAIT });
  await byId(page, 'branch-2').waitFor({ timeout: WAIT });
  // It says which engine runs the bank, as every view does.
  assert.match(await byId(page, 'engine-label').textContent(), /live cluster/);
  // The side panels are not part of it.
  for (const hidden of ['event-log', 'details', 'scenario-picker', 'app-root']) {
    assert.equal(await byId(page, hidden).count(), 0, `${hidden} is not shown in presentation mode`);
  }
  // A live lab's page follows its newest event: the caption says it.
  await byId(page, 'present-caption').filter({ hasText: /^Event \d+ of \d+ · lab: / }).waitFor({ timeout: WAIT });
  // Large type: the controls' text is bigger than on the main page (16 px).
  assert.ok(await fontSize(page, 'play') >= 20, `play button text ${await fontSize(page, 'play')}px`);

  // Step with the keyboard: the caption says each event, as the log would.
  await page.keyboard.press('Home');
  while (!/^0 \//.test(await byId(page, 'cursor').textContent())) await page.keyboard.press('ArrowLeft');
  await byId(page, 'present-caption').filter({ hasText: /^Press play \(space\) or step/ }).waitFor({ timeout: WAIT });
  await page.keyboard.press('ArrowRight');
  await byId(page, 'present-caption').filter({ hasText: /^Event 1 of \d+ · lab: loaded "seed-test-1"/ }).waitFor({ timeout: WAIT });
  // The next step (the server runs the next customer event when the
  // recorded ones are used up): a later event, said the same way.
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction(() => {
    const text = document.querySelector('[data-testid="present-caption"]')?.textContent ?? '';
    const cursor = document.querySelector('[data-testid="cursor"]')?.textContent ?? '';
    const n = Number(/^Event (\d+) of /.exec(text)?.[1]);
    return n > 1 && cursor.startsWith(`${n} /`);
  }, null, { timeout: WAIT });
  const stepped = Number(/^(\d+) \//.exec(await byId(page, 'cursor').textContent())[1]);

  // Graph, caption, controls and timeline all fit the projector's screen.
  const bottoms = await page.evaluate(() => ['graph', 'present-caption', 'play', 'timeline'].map((id) => {
    const el = document.querySelector(`[data-testid="${id}"]`);
    return el ? el.getBoundingClientRect().bottom : null;
  }));
  for (const bottom of bottoms) {
    assert.ok(bottom !== null && bottom <= projector.height, `everything within 1080 px: ${bottoms}`);
  }
  await page.screenshot({ path: join(ARTIFACTS, 'present-1920x1080.png') });

  // Escape leaves it: the full page, the same run at the same cursor.
  await page.keyboard.press('Escape');
  await byId(page, 'app-root').waitFor({ timeout: WAIT });
  await byId(page, 'event-log').waitFor({ timeout: WAIT });
  assert.equal(new URL(page.url()).searchParams.get('present'), null, 'the address no longer asks for it');
  assert.match(await byId(page, 'cursor').textContent(), new RegExp(`^${stepped} /`));

  // The button enters it again, with the keyboard, and keeps the focus on itself.
  await byId(page, 'present-toggle').focus();
  await page.keyboard.press('Enter');
  await byId(page, 'present-root').waitFor({ timeout: WAIT });
  assert.equal(new URL(page.url()).searchParams.get('present'), '1');
  await page.waitForFunction(() => document.activeElement?.dataset?.testid === 'present-toggle', null, { timeout: WAIT });
  assert.equal(await byId(page, 'present-toggle').getAttribute('aria-pressed'), 'true');
  await byId(page, 'present-caption').filter({ hasText: new RegExp(`^Event ${stepped} of `) }).waitFor({ timeout: WAIT });

  // A reload of that address opens in presentation mode, on the same lab.
  await page.reload();
  await byId(page, 'present-root').waitFor({ timeout: WAIT });
  await byId(page, 'branch-2').waitFor({ timeout: WAIT });
  await byId(page, 'present-toggle').click();
  await byId(page, 'app-root').waitFor({ timeout: WAIT });
  assert.deepEqual(errors, []);
  await context.close();
});

test('presentation mode with &view=both shows the graph and the diagram side by side', async () => {
  const { context, page, errors } = await shared.open('/?present=1&view=both&scenario=seed-test-1', projector);
  await byId(page, 'present-root').waitFor({ timeout: WAIT });
  await byId(page, 'branch-2').waitFor({ timeout: WAIT });
  await byId(page, 'diagram-lane-b2').waitFor({ timeout: WAIT });
  const [graph, diagram] = await page.evaluate(() => ['graph', 'diagram-lane-b2'].map((id) => {
    const r = document.querySelector(`[data-testid="${id}"]`).getBoundingClientRect();
    return { left: r.left, right: r.right, top: r.top };
  }));
  assert.ok(graph.right <= diagram.left + 1, `graph left of the diagram: ${JSON.stringify({ graph, diagram })}`);
  // The caption is read out when stepping, not at every event while playing.
  assert.equal(await byId(page, 'present-caption').getAttribute('aria-live'), 'polite');
  await byId(page, 'play').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="present-caption"]').getAttribute('aria-live') === 'off', null, { timeout: WAIT });
  await byId(page, 'play-state').filter({ hasText: /^finished$/ }).waitFor({ timeout: WAIT });
  await page.screenshot({ path: join(ARTIFACTS, 'present-both-1920x1080.png') });
  assert.deepEqual(errors, []);
  await context.close();
});

test('in an embedded frame, Escape leaves presentation mode for embed mode and keeps the focus', async () => {
  const { context, page, errors } = await shared.open('/?present=1&embed=1&view=diagram&scenario=seed-test-1', { width: 900, height: 600 });
  await byId(page, 'present-root').waitFor({ timeout: WAIT });
  await page.keyboard.press('Escape');
  await byId(page, 'embed-root').waitFor({ timeout: WAIT });
  await byId(page, 'diagram-lane-b1').waitFor({ timeout: WAIT });
  await page.waitForFunction(() => document.activeElement?.dataset?.testid === 'play', null, { timeout: WAIT });
  assert.deepEqual(errors, []);
  await context.close();
});
