// End-to-end: a lab per viewer on one `bank serve`. Two browser contexts
// (two people) and a course page on another origin with eight frames each get
// their own lab and reach their own output; a follower watches an owner's
// lab live, read-only; a server at --max-labs 1 says so in the second page.
//
// Run by `cargo xtask test` (BANK_BIN, BANK_DIST, ARTIFACTS as for
// visualizer.test.mjs). Every wait is on a condition, bounded by a timeout.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ARTIFACTS, WAIT, openViewer, root, serverAndBrowser, startServer, stopServer,
} from './support.mjs';

const expected = (name) => JSON.parse(readFileSync(join(root, 'examples', `${name}.expected.json`), 'utf8'));

const shared = serverAndBrowser();

const byId = (scope, id) => scope.getByTestId(id);

/** A page in a fresh browser context (another person), collecting errors. */
const newViewer = (url) => openViewer(shared.browser, url);

async function loadExample(page, name) {
  await byId(page, 'scenario-picker').selectOption(name);
  await byId(page, 'load-example').click();
  await page.waitForFunction(
    (n) => (document.querySelector('.scenario-title')?.textContent ?? '').startsWith(`${n} ·`),
    name,
    { timeout: WAIT },
  );
}

/** Waits until the page (or frame) says the server finished its run. */
async function untilFinished(scope) {
  await byId(scope, 'play-state').filter({ hasText: /^finished$/ }).waitFor({ timeout: WAIT });
}

/** Waits until the cursor shows the newest of more than zero events. */
async function untilAtTheEnd(scope) {
  const cursor = byId(scope, 'cursor');
  const deadline = Date.now() + WAIT;
  for (;;) {
    const m = ((await cursor.textContent()) ?? '').match(/(\d+)\s*\/\s*(\d+)/);
    if (m && m[1] === m[2] && Number(m[2]) > 0) return Number(m[2]);
    if (Date.now() > deadline) throw new Error(`the cursor never reached the end: ${m?.[0]}`);
    await cursor.page().waitForTimeout(50);
  }
}

const labParam = (page) => new URL(page.url()).searchParams.get('lab');

test('two people load different scenarios and play at once: each ends at its own output', async () => {
  const a = await newViewer(shared.server.url);
  const b = await newViewer(shared.server.url);
  for (const v of [a, b]) await byId(v.page, 'app-root').waitFor({ timeout: WAIT });
  // Each page opened its own lab and put it in its address.
  await a.page.waitForURL(/[?&]lab=[0-9a-f]{32}/, { timeout: WAIT });
  await b.page.waitForURL(/[?&]lab=[0-9a-f]{32}/, { timeout: WAIT });
  assert.notEqual(labParam(a.page), labParam(b.page));

  await loadExample(a.page, 'seed-test-1');
  await loadExample(b.page, 'seed-test-2');
  for (const v of [a, b]) await byId(v.page, 'speed').fill('8');
  await Promise.all([byId(a.page, 'play').click(), byId(b.page, 'play').click()]);
  await Promise.all([untilFinished(a.page), untilFinished(b.page)]);
  for (const v of [a, b]) await byId(v.page, 'jump-end').click();
  assert.deepEqual(JSON.parse(await byId(a.page, 'output-json').textContent()), expected('seed-test-1'));
  assert.deepEqual(JSON.parse(await byId(b.page, 'output-json').textContent()), expected('seed-test-2'));
  // B's load did not touch A: A's history has one scenario, its own.
  assert.match(await byId(a.page, 'event-log').textContent(), /loaded "seed-test-1"/);
  assert.doesNotMatch(await byId(a.page, 'event-log').textContent(), /seed-test-2/);
  await a.page.screenshot({ path: join(ARTIFACTS, 'labs-viewer-a.png') });

  // A reload comes back to the same lab, with its finished run.
  const lab = labParam(a.page);
  await a.page.reload();
  await byId(a.page, 'app-root').waitFor({ timeout: WAIT });
  assert.equal(labParam(a.page), lab);
  await untilFinished(a.page);
  // It opens on the lab's present: the end of the finished run, not its start.
  await a.page.waitForFunction(() => {
    const m = (document.querySelector('[data-testid="cursor"]')?.textContent ?? '').match(/^(\d+) \/ (\d+)/);
    return m && m[1] === m[2] && Number(m[1]) > 5;
  }, null, { timeout: WAIT });
  await byId(a.page, 'jump-end').click();
  assert.deepEqual(JSON.parse(await byId(a.page, 'output-json').textContent()), expected('seed-test-1'));
  assert.deepEqual([...a.errors, ...b.errors], []);
  await a.context.close();
  await b.context.close();
});

test('a course page on another origin with eight frames: every frame loads its own lab, two play to their outputs', async () => {
  // A browser keeps six connections to one server, shared by every frame:
  // eight frames each watching its lab must still all get their calls
  // through (a watch stream that held its connection for good left the
  // seventh frame at "Loading the scenario…").
  const frameSrc = (name) => `${shared.server.url}?embed=1&scenario=${name}`;
  const others = ['demo-stale-read', 'project2-sample', 'seed-test-1', 'busy-bank', 'seed-test-2', 'demo-stale-read'];
  const html = `<!doctype html><meta charset="utf-8"><title>course page</title>
    <h1>Eight frames</h1>
    <iframe id="one" src="${frameSrc('seed-test-1')}" width="900" height="560" style="border:0"></iframe>
    <iframe id="two" src="${frameSrc('seed-test-2')}" width="900" height="560" style="border:0"></iframe>
    ${others.map((name, i) => `<iframe id="more-${i}" src="${frameSrc(name)}" width="600" height="400" style="border:0"></iframe>`).join('\n')}`;
  const course = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise((r) => course.listen(0, '127.0.0.1', r));
  const courseUrl = `http://127.0.0.1:${course.address().port}/`;
  assert.notEqual(new URL(courseUrl).origin, new URL(shared.server.url).origin);
  try {
    const { context, page, errors } = await newViewer(courseUrl);
    const one = page.frameLocator('#one');
    const two = page.frameLocator('#two');
    const more = others.map((_, i) => page.frameLocator(`#more-${i}`));
    for (const frame of [one, two, ...more]) {
      await byId(frame, 'embed-root').waitFor({ timeout: WAIT });
      await byId(frame, 'branch-2').waitFor({ timeout: WAIT });
    }
    for (const frame of [one, two]) await byId(frame, 'speed').fill('8');
    await Promise.all([byId(one, 'play').click(), byId(two, 'play').click()]);
    await Promise.all([untilFinished(one), untilFinished(two)]);
    for (const frame of [one, two]) await byId(frame, 'jump-end').click();
    const balances = (frame) => Promise.all([1, 2].map(async (b) =>
      Number((await byId(frame, `branch-balance-${b}`).textContent()).trim())));
    // seed-test-1 ends at 0 everywhere (deposit 400, withdraw 400); seed-test-2 at 400.
    assert.deepEqual(await balances(one), [0, 0]);
    assert.deepEqual(await balances(two), [400, 400]);
    // Eight frames, eight labs.
    const labs = page.frames().filter((f) => f.url().startsWith(shared.server.url)).map((f) => new URL(f.url()).searchParams.get('lab'));
    assert.equal(labs.length, 8);
    assert.ok(labs.every((l) => /^[0-9a-f]{32}$/.test(l ?? '')), `${labs}`);
    assert.equal(new Set(labs).size, 8);
    await page.screenshot({ path: join(ARTIFACTS, 'labs-course-page.png'), fullPage: true });
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    course.close();
  }
});

test('a follower sees the owner\'s events live, read-only, with a cursor of its own', async () => {
  const owner = await newViewer(shared.server.url);
  await byId(owner.page, 'app-root').waitFor({ timeout: WAIT });
  await loadExample(owner.page, 'seed-test-1');
  await byId(owner.page, 'share-follow').click();
  const link = await byId(owner.page, 'follow-link').inputValue();
  assert.match(link, /[?&]follow=[0-9a-f]{32}/);
  assert.doesNotMatch(link, /[?&]lab=/, 'the follow link does not carry the owner\'s id');

  const follower = await newViewer(link);
  await byId(follower.page, 'app-root').waitFor({ timeout: WAIT });
  await byId(follower.page, 'following').waitFor({ timeout: WAIT });
  await byId(follower.page, 'branch-2').waitFor({ timeout: WAIT });
  assert.equal(labParam(follower.page), null, 'a follower gets no lab id');
  for (const id of ['restart', 'load-example', 'run-editor', 'customer-send', 'scenario-upload']) {
    const control = byId(follower.page, id);
    assert.ok(await control.isDisabled(), `${id} is disabled for a follower`);
    assert.match(await control.getAttribute('title'), /read-only/, `${id} says why`);
  }
  await byId(follower.page, 'branch-1').click();
  assert.match(await byId(follower.page, 'fault-bar').textContent(), /read-only/);
  await follower.page.screenshot({ path: join(ARTIFACTS, 'labs-follower-waiting.png') });

  // The owner plays; the follower, showing the newest event, follows live.
  await byId(owner.page, 'speed').fill('8');
  await byId(owner.page, 'play').click();
  await untilFinished(follower.page);
  const total = await untilAtTheEnd(follower.page);
  assert.deepEqual(JSON.parse(await byId(follower.page, 'output-json').textContent()), expected('seed-test-1'));
  assert.match(await byId(follower.page, 'event-log').textContent(), /loaded "seed-test-1"/);

  // The follower did not load the scenario, yet grades a submission against
  // it and puts it in a link: the lab sends its text with the load.
  await byId(follower.page, 'grade-input').fill(await byId(follower.page, 'output-json').textContent());
  await byId(follower.page, 'grade-check').click();
  await byId(follower.page, 'grade-exact').filter({ hasText: 'exact ✓' }).waitFor({ timeout: WAIT });
  assert.equal(await byId(follower.page, 'grade-valid').textContent(), 'valid ✓');
  await byId(follower.page, 'copy-permalink').click();
  assert.match(await byId(follower.page, 'permalink').inputValue(), /[?&]scenario=seed-test-1(&|$)/);

  // Its own cursor: stepping back moves only the follower's; "Live" snaps back.
  await byId(follower.page, 'step-back').click();
  const back = ((await byId(follower.page, 'cursor').textContent()) ?? '').match(/(\d+)\s*\/\s*(\d+)/);
  assert.ok(Number(back[1]) < total, `stepped back: ${back[0]}`);
  await untilFinished(owner.page);
  await byId(follower.page, 'jump-end').click();
  assert.equal(await untilAtTheEnd(follower.page), total);
  await follower.page.screenshot({ path: join(ARTIFACTS, 'labs-follower.png') });
  assert.deepEqual([...owner.errors, ...follower.errors], []);
  await owner.context.close();
  await follower.context.close();
});

test('a server at --max-labs 1 shows the limit in the second page, and logs each lab', async () => {
  const small = await startServer(['--max-labs', '1']);
  try {
    const first = await newViewer(small.url);
    await byId(first.page, 'app-root').waitFor({ timeout: WAIT });
    const second = await newViewer(small.url);
    const limit = byId(second.page, 'lab-limit');
    await limit.waitFor({ timeout: WAIT });
    const text = await limit.textContent();
    assert.match(text, /this server runs 1 lab, its maximum/);
    assert.match(text, /try again in a few minutes/);
    assert.match(text, /cargo xtask serve/);
    assert.equal(await byId(second.page, 'app-root').count(), 0);
    await second.page.screenshot({ path: join(ARTIFACTS, 'labs-limit.png') });
    assert.match(small.log, /lab [0-9a-f]{8} started \(1 of 1 labs/);
    await first.context.close();
    await second.context.close();
  } finally {
    await stopServer(small);
  }
  assert.match(small.log, /lab [0-9a-f]{8} stopped: the server is stopping/);
});

test('a closed page\'s lab is stopped after --lab-idle, an open page\'s is kept', async () => {
  const quick = await startServer(['--lab-idle', '0.02']); // 1.2 s
  try {
    const kept = await newViewer(quick.url);
    await kept.page.waitForURL(/[?&]lab=[0-9a-f]{32}/, { timeout: WAIT });
    const closed = await newViewer(quick.url);
    await closed.page.waitForURL(/[?&]lab=[0-9a-f]{32}/, { timeout: WAIT });
    const [keptId, closedId] = [labParam(kept.page), labParam(closed.page)].map((id) => id.slice(0, 8));
    await closed.context.close();
    const deadline = Date.now() + WAIT;
    while (!quick.log.includes(`lab ${closedId} stopped: no viewer`)) {
      assert.ok(Date.now() < deadline, `lab ${closedId} was not stopped:\n${quick.log}`);
      await kept.page.waitForTimeout(50);
    }
    // The open page's lab went idle first, but its page watches it.
    assert.ok(!quick.log.includes(`lab ${keptId} stopped`), quick.log);
    await byId(kept.page, 'play').click();
    await untilFinished(kept.page);
    await kept.context.close();
  } finally {
    await stopServer(quick);
  }
});
