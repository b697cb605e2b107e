// End-to-end: share and export, and the customer's session panel, against
// the real `bank serve` in headless Chromium (see visualizer.test.mjs for
// how it is run). Every wait is on a condition in the page, bounded by a
// timeout; nothing sleeps.
//
// - the exported history of demo-stale-read, run through `bank check
//   --json`, names the violation the page shows, with the same explanation;
// - a permalink opened in a fresh page (another lab) lands on the same
//   moment: the same visible cursor and the same balances;
// - the session panel shows the write set a known scenario builds, in both
//   notations, and the guarantees each request asked for.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ARTIFACTS, BANK_BIN, WAIT, launchChromium, openViewer, startServer, stopServer,
} from './support.mjs';

let server;
let browser;
let downloads;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  downloads = mkdtempSync(join(tmpdir(), 'bank-e2e-share-'));
  server = await startServer();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stopServer(server);
  if (downloads) rmSync(downloads, { recursive: true, force: true });
});

const byId = (page, id) => page.getByTestId(id);

async function open(path) {
  const viewer = await openViewer(browser, new URL(path, server.url).href);
  await byId(viewer.page, 'app-root').waitFor({ timeout: WAIT });
  return viewer;
}

async function waitLoaded(page, name) {
  await page.waitForFunction(
    (n) => (document.querySelector('.scenario-title')?.textContent ?? '').startsWith(`${n} ·`),
    name, { timeout: WAIT },
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

/** The state table's rows as text (branch, balance, ...). */
const stateRows = (page) => page.evaluate(() =>
  [...document.querySelectorAll('[data-testid="state-table"] tbody tr')]
    .map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim()).join(' | ')));

const visibleCursor = async (page) => Number(await byId(page, 'share-run').getAttribute('data-visible-cursor'));

/** Clicks an export button and returns the downloaded file's path and name. */
async function download(page, testid) {
  const [file] = await Promise.all([page.waitForEvent('download', { timeout: WAIT }), byId(page, testid).click()]);
  const path = join(downloads, file.suggestedFilename());
  await file.saveAs(path);
  return { path, name: file.suggestedFilename() };
}

test('the exported history of demo-stale-read checks like the page: bank check names the same violation', async () => {
  const { context, page, errors } = await open('/?scenario=demo-stale-read');
  await waitLoaded(page, 'demo-stale-read');
  await playToTheEnd(page);
  await byId(page, 'violation-item').first().waitFor({ timeout: WAIT });
  const shown = await page.evaluate(() =>
    [...document.querySelectorAll('[data-testid="violation-item"]')].map((li) => ({
      name: li.querySelector('strong').textContent.trim(),
      explanation: li.querySelector('p').textContent.trim(),
    })));
  assert.ok(shown.some((v) => v.name === 'Read Your Writes'), JSON.stringify(shown));

  const history = await download(page, 'export-history');
  assert.equal(history.name, 'demo-stale-read-history.json');
  let out;
  try {
    out = execFileSync(BANK_BIN, ['check', '--json', history.path], { encoding: 'utf8' });
    assert.fail('bank check found nothing in a history with a stale read');
  } catch (e) {
    assert.equal(e.status, 1, `bank check exits 1 on violations: ${e.stderr}`);
    out = e.stdout;
  }
  // The page explains a violation in its sentence (`bank check --json`'s `sentence`).
  const checked = JSON.parse(out).map((v) => ({ name: v.guarantee, explanation: v.sentence }));
  assert.deepEqual(checked, shown, 'the same violations, explained alike');

  // The diagram and the course output download too.
  const svg = await download(page, 'export-diagram');
  const text = readFileSync(svg.path, 'utf8');
  assert.match(text, /^<\?xml[^>]*>\s*<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.ok((text.match(/data-testid="diagram-event"/g) ?? []).length > 4, 'the events are in the file');
  assert.match(text, /style="[^"]*stroke:/, 'styles are inlined');
  const output = await download(page, 'export-output');
  assert.deepEqual(JSON.parse(readFileSync(output.path, 'utf8')),
    JSON.parse(await byId(page, 'output-json').textContent()));
  assert.deepEqual(errors, []);
  await context.close();
});

test('a permalink opened in a fresh page lands on the same moment with the same balances', async () => {
  const first = await open('/?scenario=seed-test-1');
  await waitLoaded(first.page, 'seed-test-1');
  await playToTheEnd(first.page);
  // Back to the middle of the run.
  const len = Number((await byId(first.page, 'cursor').textContent()).match(/\/\s*(\d+)/)[1]);
  await byId(first.page, 'timeline').evaluate((input, to) => {
    input.value = String(to);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  }, Math.floor(len / 2));
  await first.page.waitForFunction(
    (c) => (document.querySelector('[data-testid="cursor"]')?.textContent ?? '').startsWith(`${c} /`),
    Math.floor(len / 2), { timeout: WAIT },
  );
  const at = await visibleCursor(first.page);
  const balances = await stateRows(first.page);
  assert.ok(balances.length >= 2, JSON.stringify(balances));

  await byId(first.page, 'copy-permalink').press('Enter'); // the keyboard works too
  const link = await byId(first.page, 'permalink').inputValue();
  const url = new URL(link);
  assert.equal(url.searchParams.get('scenario'), 'seed-test-1');
  assert.equal(Number(url.searchParams.get('at')), at);
  assert.ok(url.searchParams.get('g') && url.searchParams.get('p') && url.searchParams.get('seed'), link);
  assert.match(await first.page.locator('.share-run .hint').first().textContent(), /timing can differ/);
  assert.equal(await byId(first.page, 'permalink-left-out').count(), 0, 'nothing was done from the page');

  const second = await openViewer(browser, link);
  await byId(second.page, 'permalink-status').waitFor({ timeout: WAIT });
  await second.page.waitForFunction(
    () => ['same', 'differs', 'short'].includes(document.querySelector('[data-testid="permalink-status"]')?.dataset.state),
    null, { timeout: 2 * WAIT },
  );
  const status = byId(second.page, 'permalink-status');
  assert.equal(await status.getAttribute('data-state'), 'same', await status.textContent());
  assert.equal(await visibleCursor(second.page), at);
  // The note names the event the timeline shows.
  const shown = (await byId(second.page, 'cursor').textContent()).match(/^(\d+)/)[1];
  assert.match(await status.textContent(), new RegExp(`^Landed at event ${shown} of the linked run`));
  assert.deepEqual(await stateRows(second.page), balances);
  assert.notEqual(new URL(second.page.url()).searchParams.get('lab'), url.searchParams.get('lab'), 'another lab');
  await second.page.screenshot({ path: join(ARTIFACTS, 'permalink-landed.png') });
  assert.deepEqual(first.errors, []);
  assert.deepEqual(second.errors, []);
  await first.context.close();
  await second.context.close();
});

test('the session panel shows the write set as it grows, and each request\'s guarantees', async () => {
  const { context, page, errors } = await open('/?scenario=demo-stale-read');
  await waitLoaded(page, 'demo-stale-read');
  const writes = byId(page, 'session-writes-customer-0');
  await writes.waitFor({ timeout: WAIT });
  assert.match(await writes.textContent(), /no writes/);
  await playToTheEnd(page);
  // Customer 1 deposited 100 at branch 1: the first write branch 1 accepted.
  assert.equal(await writes.locator('code').textContent(), 'w1.1');
  assert.match(await writes.textContent(), /write 1 from branch 1/);
  const deposit = byId(page, 'session-request-customer-0-1');
  assert.match(await deposit.textContent(), /deposit 100 at branch 1/);
  assert.match(await deposit.textContent(), /asked for none/);
  // The query at branch 2 read nothing (Read Your Writes off): an empty read set.
  const query = byId(page, 'session-request-customer-0-2');
  assert.match(await query.textContent(), /query at branch 2/);
  assert.match(await query.textContent(), /saw -/);
  // Its "#2" button moves the cursor to the request.
  await query.getByRole('button', { name: '#2' }).press('Enter');
  assert.match(await writes.textContent(), /w1\.1/, 'the deposit was answered before the query was sent');
  await byId(page, 'session-panel').screenshot({ path: join(ARTIFACTS, 'session-panel.png') });
  assert.deepEqual(errors, []);
  await context.close();
});

test('with Read Your Writes on, the panel says what the parked query waited for and when it was released', async () => {
  const { context, page, errors } = await open('/?scenario=demo-stale-read&g=ryw');
  await waitLoaded(page, 'demo-stale-read');
  await playToTheEnd(page);
  const parked = byId(page, 'session-parked-customer-0-2');
  await parked.waitFor({ timeout: WAIT });
  const text = await parked.textContent();
  assert.match(text, /parked at branch 2/);
  assert.match(text, /write 1 from branch 1 \(w1\.1\), which Read Your Writes requires/);
  assert.match(text, /released at event #\d+/);
  assert.match(await byId(page, 'session-request-customer-0-2').textContent(), /answered ok, balance 100\.00/);
  assert.deepEqual(errors, []);
  await context.close();
});
