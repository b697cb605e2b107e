// End-to-end: dist/ on a plain static host, no `bank serve` anywhere. A tiny
// node HTTP server (files only, under a sub-path, as a course site would
// hold them) serves the release build; the page finds no Lab service there
// and runs the bank in the browser. Then the same page served by `bank
// serve` says it is on a live cluster.
//
// Run by `cargo xtask test` with BANK_BIN and BANK_DIST set (see support.mjs).
// Every wait is on a condition in the page, bounded by a timeout.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { BANK_DIST, WAIT, launchChromium, openViewer, startServer, stopServer } from './support.mjs';

/** Where the static host keeps the page: not the root, so paths must be relative. */
const PREFIX = '/course/bank-sim/';
/**
 * The same files as `cargo xtask site` leaves them: its index.html says in
 * its <head> that it is for a static host (xtask's SITE_META).
 */
const SITE_PREFIX = '/site/bank-sim/';
const SITE_META = '<meta name="bank-site" content="static">';
/** Every request that was not a GET or HEAD, by path. */
const posts = [];
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm',
  '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml',
};

let browser;
let host; // the static server
let hostUrl;

/** Serves BANK_DIST under PREFIX, GET and HEAD only, like any static host. */
function startStatic() {
  return new Promise((ok) => {
    const server = createServer(async (req, res) => {
      const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        posts.push(path);
        res.writeHead(405).end();
        return;
      }
      const prefix = [PREFIX, SITE_PREFIX].find((p) => path.startsWith(p));
      if (!prefix) {
        res.writeHead(404).end();
        return;
      }
      let rel = normalize(path.slice(prefix.length));
      if (rel === '.' || rel === '' || rel.endsWith('/')) rel = join(rel, 'index.html');
      if (rel.startsWith('..')) {
        res.writeHead(403).end();
        return;
      }
      try {
        let body = await readFile(join(BANK_DIST, rel));
        if (prefix === SITE_PREFIX && rel === 'index.html') {
          body = body.toString().replace('<head>', `<head>\n    ${SITE_META}`);
        }
        res.writeHead(200, { 'content-type': TYPES[extname(rel)] ?? 'application/octet-stream' });
        res.end(req.method === 'HEAD' ? undefined : body);
      } catch {
        res.writeHead(404).end();
      }
    });
    server.listen(0, '127.0.0.1', () => ok(server));
  });
}

before(async () => {
  host = await startStatic();
  hostUrl = `http://127.0.0.1:${host.address().port}${PREFIX}`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await new Promise((r) => (host ? host.close(r) : r()));
});

const byId = (page, id) => page.getByTestId(id);

async function engineLabel(page) {
  await byId(page, 'engine-label').waitFor({ timeout: WAIT });
  return (await byId(page, 'engine-label').textContent()).trim();
}

async function playToTheEnd(page) {
  await byId(page, 'play').click();
  await page.waitForFunction(
    () => document.querySelector('[data-testid="play-state"]')?.textContent?.trim() === 'finished',
    null,
    { timeout: WAIT },
  );
  await byId(page, 'jump-end').click();
}

async function expectBalance(page, branch, value) {
  await page.waitForFunction(
    ([b, v]) => Number(document.querySelector(`[data-testid="branch-balance-${b}"]`)?.textContent?.trim()) === v,
    [branch, value],
    { timeout: WAIT },
  );
}

test('a static host: the picker works and seed-test-1 plays to 0/0, simulated in the browser', async () => {
  const { context, page, errors } = await openViewer(browser, hostUrl);
  assert.equal(await engineLabel(page), 'simulated in your browser (no server)');
  await byId(page, 'live-only').waitFor({ timeout: WAIT });
  assert.equal(await byId(page, 'share-follow').count(), 0, 'no follow links without a server');
  await byId(page, 'scenario-picker').selectOption('seed-test-1');
  await byId(page, 'load-example').click();
  await byId(page, 'branch-2').waitFor({ timeout: WAIT });
  await byId(page, 'speed').fill('8');
  await playToTheEnd(page);
  await expectBalance(page, 1, 0);
  await expectBalance(page, 2, 0);
  // The course output is the one `bank run` prints.
  await page.waitForFunction(
    () => /"balance":\s*0/.test(document.querySelector('[data-testid="output-json"]')?.textContent ?? ''),
    null, { timeout: WAIT },
  );
  // Probing a server that is not there costs no error in the console but the
  // static host's own 405 for the probe's POST, which the browser logs.
  const real = errors.filter((e) => !/405|Failed to load resource/.test(e));
  assert.deepEqual(real, []);
  await context.close();
});

test('a site build (cargo xtask site) starts on the simulator without probing: no POST, no console error', async () => {
  const before = posts.length;
  const { context, page, errors } = await openViewer(browser, `${hostUrl.replace(PREFIX, SITE_PREFIX)}?scenario=seed-test-1`);
  assert.equal(await engineLabel(page), 'simulated in your browser (no server)');
  await byId(page, 'branch-2').waitFor({ timeout: WAIT });
  await byId(page, 'speed').fill('8');
  await playToTheEnd(page);
  await expectBalance(page, 1, 0);
  assert.deepEqual(posts.slice(before), [], 'the page asked the static host for no lab');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a static host: an embed of demo-stale-read shows the violation', async () => {
  const url = `${hostUrl}?embed=1&view=both&scenario=demo-stale-read`;
  const { context, page } = await openViewer(browser, url, { width: 900, height: 700 });
  await byId(page, 'embed-root').waitFor({ timeout: WAIT });
  assert.equal(await engineLabel(page), 'simulated in your browser (no server)');
  await byId(page, 'branch-2').waitFor({ timeout: WAIT });
  await playToTheEnd(page);
  await byId(page, 'violation-marker').first().waitFor({ state: 'attached', timeout: WAIT });
  await context.close();
});

test('a static host: presentation mode plays demo-stale-read in the browser, one line at a time', async () => {
  const url = `${hostUrl}?present=1&scenario=demo-stale-read`;
  const { context, page } = await openViewer(browser, url, { width: 1920, height: 1080 });
  await byId(page, 'present-root').waitFor({ timeout: WAIT });
  assert.equal(await engineLabel(page), 'simulated in your browser (no server)');
  await byId(page, 'branch-2').waitFor({ timeout: WAIT });
  await byId(page, 'step-forward').click();
  await byId(page, 'present-caption').filter({ hasText: /^Event \d+ of \d+ · / }).waitFor({ timeout: WAIT });
  await playToTheEnd(page);
  await byId(page, 'violation-marker').first().waitFor({ state: 'attached', timeout: WAIT });
  await context.close();
});

test('a static host: ?engine=sim and a scenario in the link (base64url)', async () => {
  const text = JSON.stringify([
    { id: 1, type: 'customer', events: [{ id: 1, interface: 'deposit', money: 70, branch: 1 }] },
    { id: 1, type: 'branch', balance: 0 },
    { id: 2, type: 'branch', balance: 0 },
  ]);
  const encoded = Buffer.from(text).toString('base64url');
  const { context, page } = await openViewer(browser, `${hostUrl}?engine=sim&scenario=${encoded}`);
  assert.equal(await engineLabel(page), 'simulated in your browser (no server)');
  await byId(page, 'branch-2').waitFor({ timeout: WAIT });
  await playToTheEnd(page);
  await expectBalance(page, 1, 70);
  await expectBalance(page, 2, 70);
  await context.close();
});

test('served by bank serve, the same page says it is on a live cluster', async () => {
  const server = await startServer();
  try {
    const { context, page, errors } = await openViewer(browser, server.url);
    assert.match(await engineLabel(page), /^live cluster on 127\.0\.0\.1:\d+ \(real gRPC\)$/);
    assert.equal(await byId(page, 'run-to-end').count(), 0, 'a live cluster keeps its real timing');
    await byId(page, 'share-follow').waitFor({ timeout: WAIT });
    assert.deepEqual(errors, []);
    await context.close();
    // Asked for, the simulator runs there too.
    const sim = await openViewer(browser, `${server.url}?engine=sim`);
    assert.equal(await engineLabel(sim.page), 'simulated in your browser (no server)');
    await sim.context.close();
  } finally {
    await stopServer(server);
  }
});

test('a link naming no example: both engines say why and show their starting scenario', async () => {
  const server = await startServer();
  try {
    for (const [url, engine] of [[hostUrl, /^simulated/], [server.url, /^live cluster/]]) {
      const { context, page } = await openViewer(browser, `${url}?scenario=no-such-example`);
      assert.match(await engineLabel(page), engine);
      await page.locator('.notice', { hasText: '?scenario=no-such-example is no shipped example' })
        .waitFor({ timeout: WAIT });
      // The lab is not left empty: its first branch is drawn.
      await byId(page, 'branch-1').waitFor({ timeout: WAIT });
      await context.close();
    }
  } finally {
    await stopServer(server);
  }
});

test('a link copied after a fault from the page says the fault is not in it', async () => {
  const { context, page, errors } = await openViewer(browser, `${hostUrl}?engine=sim&scenario=seed-test-1`);
  await byId(page, 'branch-2').waitFor({ timeout: WAIT });
  await byId(page, 'branch-2').focus();
  await page.keyboard.press('Enter');
  await byId(page, 'crash-2').click();
  await byId(page, 'fault-bar').filter({ hasText: /Branch 2\s*is down/ }).waitFor({ timeout: WAIT });
  await byId(page, 'speed').fill('8');
  await playToTheEnd(page);
  await byId(page, 'copy-permalink').click();
  assert.match(await page.locator('.share-run .hint').first().textContent(), /in the simulator/);
  assert.match(await byId(page, 'permalink-left-out').textContent(),
    /^The 1 fault made from this page is not in the link/);
  assert.deepEqual(errors.filter((e) => !/405|Failed to load resource/.test(e)), []);
  await context.close();
});

test('the simulator plays busy-bank to its end at once: "To the end"', async () => {
  // At the fastest speed (50 customer events/s) its 3,000 customer events
  // took a minute of waiting.
  const { context, page, errors } = await openViewer(browser, `${hostUrl}?scenario=busy-bank`);
  await byId(page, 'branch-20').waitFor({ timeout: WAIT });
  await byId(page, 'run-to-end').click();
  await page.waitForFunction(
    () => document.querySelector('[data-testid="play-state"]')?.textContent?.trim() === 'finished',
    null, { timeout: WAIT },
  );
  assert.equal(await byId(page, 'run-to-end').isDisabled(), true);
  // The cursor followed to the end, where the output is.
  await page.waitForFunction(() => {
    const m = (document.querySelector('[data-testid="cursor"]')?.textContent ?? '').match(/^(\d+) \/ (\d+)/);
    return m && m[1] === m[2] && Number(m[1]) > 1000;
  }, null, { timeout: WAIT });
  await page.waitForFunction(
    () => /"result": "success"/.test(document.querySelector('[data-testid="output-json"]')?.textContent ?? ''),
    null, { timeout: WAIT },
  );
  assert.deepEqual(errors.filter((e) => !/405|Failed to load resource/.test(e)), []);
  await context.close();
});
