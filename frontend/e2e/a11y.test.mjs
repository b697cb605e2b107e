// End-to-end: an axe-core accessibility audit of every way the page is
// shown (the main page, embed mode with the graph, with graph and diagram,
// presentation mode, a follower's read-only view, and the page a full
// server answers with), against the real `bank serve` in headless Chromium (see
// visualizer.test.mjs for how it is run).
//
// axe-core (npm, pinned in package.json) is injected into the page and run
// over the whole document once the run is on screen, in the light and the
// dark colour scheme; any violation fails the test with its rule id, what it
// asks for, and the elements that broke it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import axe from 'axe-core';
import { WAIT, serverAndBrowser, startServer, stopServer } from './support.mjs';

const shared = serverAndBrowser();

const byId = (scope, id) => scope.getByTestId(id);

/** A page in a fresh browser context (its own lab), collecting errors. */
function newViewer(path) {
  return shared.open(path, { width: 1366, height: 768 });
}

/** One violation as lines a person can act on: rule, help, and each node. */
function describe(violation) {
  const nodes = violation.nodes.map((n) => `    ${n.target.join(' ')}\n      ${n.failureSummary?.replace(/\n/g, '\n      ')}`);
  return `  ${violation.id} (${violation.impact}): ${violation.help}\n    ${violation.helpUrl}\n${nodes.join('\n')}`;
}

/**
 * Injects axe-core and audits the whole document in the light and the dark
 * colour scheme (style.css has both); fails on any violation.
 */
async function assertAccessible(page, what) {
  if (!(await page.evaluate(() => 'axe' in window))) {
    await page.addScriptTag({ content: axe.source });
  }
  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme });
    const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
    const report = result.violations.map(describe).join('\n');
    assert.equal(result.violations.length, 0, `axe-core found violations in ${what} (${colorScheme}):\n${report}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

test('the main page has no axe-core violations', async () => {
  const { context, page, errors } = await newViewer('/');
  await byId(page, 'app-root').waitFor({ timeout: WAIT });
  await byId(page, 'scenario-picker').selectOption('seed-test-1');
  await byId(page, 'load-example').click();
  await byId(page, 'branch-2').waitFor({ timeout: WAIT });
  await byId(page, 'diagram-lane-b2').waitFor({ timeout: WAIT });
  await assertAccessible(page, 'the main page');

  // After a run, with an event selected (details filled in) and the lane
  // controls open.
  await byId(page, 'play').click();
  await byId(page, 'play-state').filter({ hasText: /^finished$/ }).waitFor({ timeout: WAIT });
  await byId(page, 'diagram-event').nth(2).click();
  await byId(page, 'details').filter({ hasText: /Event \d+/ }).waitFor({ timeout: WAIT });
  await byId(page, 'lane-controls').click();
  // The permalink shown, and the session panel filled in.
  await byId(page, 'copy-permalink').click();
  await byId(page, 'permalink').waitFor({ timeout: WAIT });
  await byId(page, 'session-request-customer-0-1').waitFor({ timeout: WAIT });
  await assertAccessible(page, 'the main page after a run, an event selected');
  assert.deepEqual(errors, []);
  await context.close();
});

test('embed mode has no axe-core violations', async () => {
  const { context, page, errors } = await newViewer('/?embed=1&scenario=seed-test-1');
  await byId(page, 'embed-root').waitFor({ timeout: WAIT });
  await byId(page, 'branch-2').waitFor({ timeout: WAIT });
  await assertAccessible(page, 'embed mode');
  assert.deepEqual(errors, []);
  await context.close();
});

test('embed mode with &view=both has no axe-core violations', async () => {
  const { context, page, errors } = await newViewer('/?embed=1&view=both&scenario=seed-test-1');
  await byId(page, 'embed-root').waitFor({ timeout: WAIT });
  await byId(page, 'branch-2').waitFor({ timeout: WAIT });
  await byId(page, 'diagram-lane-b2').waitFor({ timeout: WAIT });
  await assertAccessible(page, 'embed mode with the diagram');
  assert.deepEqual(errors, []);
  await context.close();
});

test('presentation mode has no axe-core violations', async () => {
  const { context, page, errors } = await newViewer('/?present=1&view=both&scenario=seed-test-1');
  await byId(page, 'present-root').waitFor({ timeout: WAIT });
  await byId(page, 'branch-2').waitFor({ timeout: WAIT });
  await byId(page, 'diagram-lane-b2').waitFor({ timeout: WAIT });
  await byId(page, 'step-forward').click();
  await byId(page, 'present-caption').filter({ hasText: /^Event \d+ of \d+ · / }).waitFor({ timeout: WAIT });
  await assertAccessible(page, 'presentation mode');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a follower\'s read-only view has no axe-core violations', async () => {
  const owner = await newViewer('/');
  await byId(owner.page, 'app-root').waitFor({ timeout: WAIT });
  await byId(owner.page, 'scenario-picker').selectOption('seed-test-1');
  await byId(owner.page, 'load-example').click();
  await byId(owner.page, 'branch-2').waitFor({ timeout: WAIT });
  await byId(owner.page, 'share-follow').click();
  const link = await byId(owner.page, 'follow-link').inputValue();

  const follower = await newViewer(link);
  await byId(follower.page, 'following').waitFor({ timeout: WAIT });
  await byId(follower.page, 'branch-2').waitFor({ timeout: WAIT });
  await assertAccessible(follower.page, 'the follower view');
  assert.deepEqual([...owner.errors, ...follower.errors], []);
  await follower.context.close();
  await owner.context.close();
});

test('the page a full server shows (--max-labs 1) has no axe-core violations', async () => {
  const small = await startServer(['--max-labs', '1']);
  try {
    const first = await newViewer(small.url);
    await byId(first.page, 'app-root').waitFor({ timeout: WAIT });
    const second = await newViewer(small.url);
    await byId(second.page, 'lab-limit').waitFor({ timeout: WAIT });
    await assertAccessible(second.page, 'the lab-limit page');
    await second.context.close();
    await first.context.close();
  } finally {
    await stopServer(small);
  }
});

test('the "Check a submission" report has no axe-core violations (main page and embed mode)', async () => {
  const { context, page, errors } = await newViewer('/');
  await byId(page, 'app-root').waitFor({ timeout: WAIT });
  await byId(page, 'scenario-picker').selectOption('project1-sample');
  await byId(page, 'load-example').click();
  await byId(page, 'branch-2').waitFor({ timeout: WAIT });
  await byId(page, 'speed').fill('8');
  await byId(page, 'play').click();
  await byId(page, 'play-state').filter({ hasText: /^finished$/ }).waitFor({ timeout: WAIT });
  const output = await byId(page, 'output-json').textContent();
  // A wrong balance (linked to its event) and the differences list open.
  await byId(page, 'grade-input').fill(output.replace(/\b570\b/, '590'));
  await byId(page, 'grade-check').click();
  await byId(page, 'grade-report').waitFor({ timeout: WAIT });
  await page.locator('.grade-differences summary').click();
  await byId(page, 'grade-problem').first().click();
  await assertAccessible(page, 'the main page with a grade report');
  await context.close();

  const embed = await newViewer('/?embed=1&check=1&scenario=project1-sample');
  await byId(embed.page, 'branch-2').waitFor({ timeout: WAIT });
  await byId(embed.page, 'grade-input').fill('not JSON');
  await byId(embed.page, 'grade-check').click();
  await byId(embed.page, 'grade-report').waitFor({ timeout: WAIT });
  await assertAccessible(embed.page, 'embed mode with the check panel');
  assert.deepEqual([...errors, ...embed.errors], []);
  await embed.context.close();
});
