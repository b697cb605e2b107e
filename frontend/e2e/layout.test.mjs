// End-to-end: the page laid out for teaching. On a 1366x768 laptop the
// graph, the space-time diagram, the controls, the timeline and the live
// invariants are on screen together without scrolling, and a demo's
// explanation sits next to the run (beside the graph, at the top of the side
// column), not under the scenario editor. Against the real `bank serve` in
// headless Chromium (see visualizer.test.mjs).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, WAIT, serverAndBrowser } from './support.mjs';

const shared = serverAndBrowser();
const byId = (page, id) => page.getByTestId(id);

/** The viewport rectangle of each test id (null where it is missing). */
function boxes(page, ids) {
  return page.evaluate((ids) => Object.fromEntries(ids.map((id) => {
    const el = document.querySelector(`[data-testid="${id}"]`);
    if (!el) return [id, null];
    const r = el.getBoundingClientRect();
    return [id, { top: r.top, bottom: r.bottom, left: r.left, right: r.right }];
  })), ids);
}

for (const [width, height] of [[1366, 768], [1920, 1080]]) {
  test(`at ${width}x${height} the run, its diagram, controls, timeline and invariants fit on one screen`, async () => {
    const { context, page, errors } = await shared.open('/?scenario=demo-stale-read', { width, height });
    await byId(page, 'app-root').waitFor({ timeout: WAIT });
    await byId(page, 'branch-2').waitFor({ timeout: WAIT });
    await byId(page, 'diagram-lane-b2').waitFor({ timeout: WAIT });
    await byId(page, 'scenario-description').waitFor({ timeout: WAIT });
    // Play a little, so the diagram has rows.
    await byId(page, 'play').click();
    await byId(page, 'diagram-event').nth(3).waitFor({ timeout: WAIT });
    await byId(page, 'pause').click();
    const ids = ['graph', 'diagram-lane-b1', 'diagram-event', 'play', 'step-forward', 'timeline', 'invariants', 'jump-first-violation', 'scenario-description'];
    const at = await boxes(page, ids);
    for (const id of ids) {
      assert.ok(at[id], `${id} is on the page`);
      assert.ok(at[id].top >= 0 && at[id].bottom <= height, `${id} is within the ${height}px screen: ${JSON.stringify(at[id])}`);
    }
    assert.equal(await page.evaluate(() => window.scrollY), 0, 'nothing had to scroll');
    // The graph and the diagram side by side, the explanation beside them.
    assert.ok(at.graph.right <= at['diagram-lane-b1'].left, `graph left of the diagram: ${JSON.stringify(at)}`);
    assert.ok(at['scenario-description'].left >= at.graph.right, 'the explanation is beside the run');
    assert.ok(at['scenario-description'].top < at.graph.bottom, 'and level with the graph');
    await page.screenshot({ path: join(ARTIFACTS, `layout-${width}x${height}.png`) });
    assert.deepEqual(errors, []);
    await context.close();
  });
}

test('a phone-sized window (400x700) has nothing wider than the page, and an embed gives the graph the room', async () => {
  const { context, page, errors } = await shared.open('/?scenario=seed-test-1', { width: 400, height: 700 });
  await byId(page, 'branch-2').waitFor({ timeout: WAIT });
  const widths = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(widths[0] <= widths[1], `scrolls sideways: ${widths}`);
  await context.close();
  // In a 900x560 frame the engine line is one short block, not a third of it.
  const embed = await shared.open('/?embed=1&scenario=seed-test-1', { width: 900, height: 560 });
  await byId(embed.page, 'branch-2').waitFor({ timeout: WAIT });
  const at = await boxes(embed.page, ['engine', 'graph']);
  assert.ok(at.engine.bottom - at.engine.top < 60, `engine line: ${JSON.stringify(at)}`);
  assert.ok(at.graph.bottom - at.graph.top > 160, `graph: ${JSON.stringify(at)}`);
  assert.deepEqual([...errors, ...embed.errors], []);
  await embed.context.close();
});

test('a narrow window stacks the views, and the explanation follows the run', async () => {
  const { context, page, errors } = await shared.open('/?scenario=demo-stale-read', { width: 900, height: 800 });
  await byId(page, 'diagram-lane-b1').waitFor({ timeout: WAIT });
  await byId(page, 'scenario-description').waitFor({ timeout: WAIT });
  const at = await boxes(page, ['graph', 'diagram-lane-b1', 'scenario-description']);
  assert.ok(at.graph.bottom <= at['diagram-lane-b1'].top, `the diagram under the graph: ${JSON.stringify(at)}`);
  assert.ok(at['scenario-description'].top > at.graph.bottom, 'the explanation after the run');
  assert.deepEqual(errors, []);
  await context.close();
});
