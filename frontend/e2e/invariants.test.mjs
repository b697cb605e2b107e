// End-to-end: the live invariants and the clock explanations, against the
// real `bank serve` in headless Chromium (run like visualizer.test.mjs:
// BANK_BIN and BANK_DIST set, `node --test`).
//
// The stale-read demo (Read Your Writes off, a slow link): once its query is
// answered, the Read Your Writes badge turns ⚠ and says why in a sentence;
// "jump to first violation" moves the cursor to the query's answer (one step
// before it the badge is ✓). Selecting a branch's receive event in the log
// shows how its Lamport clock was computed, with the numbers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, WAIT, serverAndBrowser } from './support.mjs';

const shared = serverAndBrowser();

const byId = (scope, id) => scope.getByTestId(id);

/** Waits until `testid`'s `data-verdict` is `verdict`. */
async function expectVerdict(page, testid, verdict) {
  await page.waitForFunction(
    ([id, v]) => document.querySelector(`[data-testid="${id}"]`)?.dataset.verdict === v,
    [testid, verdict],
    { timeout: WAIT },
  );
}

async function cursor(page) {
  const [at] = (await byId(page, 'cursor').textContent()).split('/');
  return Number(at.trim());
}

async function playToTheEnd(page) {
  await byId(page, 'play').click();
  await byId(page, 'play-state').filter({ hasText: /^finished$/ }).waitFor({ timeout: WAIT });
  await byId(page, 'jump-end').click();
}

test('demo-stale-read: a ⚠ invariant, and "jump to first violation" lands on the stale query', async () => {
  const { context, page, errors } = await shared.open('/?scenario=demo-stale-read');
  try {
    await byId(page, 'branch-2').waitFor({ timeout: WAIT });
    await byId(page, 'invariants').waitFor({ timeout: WAIT });
    // Before anything ran, every invariant holds (or waits for a quiet moment).
    await expectVerdict(page, 'invariant-ryw', 'holds');
    await expectVerdict(page, 'invariant-overdraft', 'holds');
    await playToTheEnd(page);

    await expectVerdict(page, 'invariant-ryw', 'broken');
    const badge = byId(page, 'invariant-ryw');
    const said = await badge.getAttribute('aria-label');
    assert.match(said, /^Read Your Writes \(off\): broken\. Let R = customer 1's query #2 at branch 2 \(answered 0\), W = customer 1's deposit #1 of 100 at branch 1 \(w1\.1\)\. Then: the session issued W before R; R did not observe W; so Read Your Writes is broken/);
    assert.equal(await badge.getAttribute('title'), said, 'the tooltip says the same');
    // The badge opens its sentence from the keyboard too.
    await badge.focus();
    await page.keyboard.press('Enter');
    await byId(page, 'invariant-detail').filter({ hasText: /R did not observe W/ }).waitFor({ timeout: WAIT });
    // At the end, with nothing in flight, the replicas agree and the money adds up.
    await expectVerdict(page, 'invariant-converged', 'holds');
    await expectVerdict(page, 'invariant-money', 'holds');

    await byId(page, 'jump-first-violation').click();
    await byId(page, 'invariants-jumped').filter({ hasText: /First broken at event \d+: Read Your Writes/ }).waitFor({ timeout: WAIT });
    const at = await cursor(page);
    assert.ok(at > 0, 'the cursor moved');
    await expectVerdict(page, 'invariant-ryw', 'broken');
    // The event selected is the query's answer at branch 2.
    const details = byId(page, 'details');
    await details.filter({ hasText: new RegExp(`Event ${at} `) }).waitFor({ timeout: WAIT });
    assert.match(await details.textContent(), /query/);
    assert.match(await page.locator('[data-testid="event-log"] li.selected').textContent(), /← B2: query/);
    // One event earlier, Read Your Writes still held.
    await byId(page, 'step-back').click();
    await expectVerdict(page, 'invariant-ryw', 'holds');
    assert.equal(await cursor(page), at - 1);
    assert.deepEqual(errors, []);
  } catch (e) {
    await page.screenshot({ path: join(ARTIFACTS, 'invariants-failed.png'), fullPage: true });
    throw e;
  } finally {
    await context.close();
  }
});

test('selecting a receive event explains its Lamport clock with the numbers', async () => {
  const { context, page, errors } = await shared.open('/?scenario=demo-stale-read');
  try {
    await byId(page, 'branch-2').waitFor({ timeout: WAIT });
    await playToTheEnd(page);
    // A branch receiving the customer's request: max(local, message) + 1.
    const received = page.locator('[data-testid="event-log"] li.log-request').first();
    await received.click();
    // The pointer moves on to read the details: what is shown is the
    // selection, not whichever row slides under a resting pointer.
    await byId(page, 'details').hover({ position: { x: 5, y: 5 } });
    const formula = byId(page, 'clock-formula');
    await formula.waitFor({ timeout: WAIT });
    const text = await formula.textContent();
    const m = text.match(/request from customer 1 received at branch \d+: max\(local (\d+), message (\d+)\) \+ 1 = (\d+)$/);
    assert.ok(m, `a receive's formula: ${text}`);
    assert.equal(Number(m[3]), Math.max(Number(m[1]), Number(m[2])) + 1, 'the numbers add up');
    // The details name the same event, with the clock the formula ends at.
    const facts = await byId(page, 'details').evaluate((d) =>
      Object.fromEntries([...d.querySelectorAll('dt')].map((dt) => [dt.textContent, dt.nextElementSibling?.textContent])));
    assert.equal(facts.kind, 'request received');
    assert.equal(facts['Lamport clock'], m[3]);
    assert.match(await byId(page, 'clock-rule').textContent(), /rule: event_recv takes the larger of the branch's clock and the message's, plus one/);

    // A propagation arriving from the other branch is a receive too.
    const propagated = page.locator('[data-testid="event-log"] li.log-propagate', { hasText: /from B1/ }).first();
    // The log follows the cursor while it settles: dispatch the click on the row itself.
    await propagated.dispatchEvent('click');
    await formula.filter({ hasText: /propagated deposit received from branch 1 at branch 2: max\(local \d+, message \d+\) \+ 1 = \d+/ }).waitFor({ timeout: WAIT });
    assert.deepEqual(errors, []);
  } catch (e) {
    await page.screenshot({ path: join(ARTIFACTS, 'clock-why-failed.png'), fullPage: true });
    throw e;
  } finally {
    await context.close();
  }
});
