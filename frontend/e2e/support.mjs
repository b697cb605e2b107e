// What every end-to-end test file shares: where the binary, the built page
// and the artifacts are, how `bank serve` is started on an ephemeral port
// and stopped with Ctrl-C, and how headless Chromium is launched.
//
// Run by `cargo xtask test` with BANK_BIN (the bank binary) and BANK_DIST
// (the trunk build output) set; CHROMIUM and ARTIFACTS have defaults.

import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { before, after } from 'node:test';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

export const root = resolve(import.meta.dirname, '..', '..');
export const BANK_BIN = process.env.BANK_BIN ?? join(root, 'target', 'release', 'bank');
export const BANK_DIST = process.env.BANK_DIST ?? join(root, 'dist');
export const ARTIFACTS = process.env.ARTIFACTS ?? join(root, 'target', 'e2e-artifacts');
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
/** The bound on every wait, in milliseconds. */
export const WAIT = 30_000;

/** The flags headless Chromium needs here (no sandbox, no GPU, no phoning home). */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** The options of `chromium.launch` / `launchPersistentContext`, plus `extra`. */
export function chromiumOptions(extra = {}) {
  return { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, ...extra };
}

/** Launches headless Chromium (one browser, contexts per viewer). */
export function launchChromium() {
  return chromium.launch(chromiumOptions());
}

/**
 * Starts `bank serve ARGS` on an ephemeral port. Resolves to `{ child, url,
 * log }` once it prints its URL; `log` collects its stderr (also echoed).
 */
export function startServer(args = []) {
  return new Promise((resolveUrl, reject) => {
    const child = spawn(BANK_BIN, ['serve', '--addr', '127.0.0.1:0', '--dist', BANK_DIST, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = { child, url: null, log: '' };
    child.stderr.on('data', (chunk) => { server.log += chunk; process.stderr.write(chunk); });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`bank serve printed no URL: ${out}`)), WAIT);
    child.on('exit', (code) => reject(new Error(`bank serve exited early (${code}): ${out}`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/http:\/\/127\.0\.0\.1:\d+\//);
      if (m && !server.url) {
        clearTimeout(timer);
        server.url = m[0];
        resolveUrl(server);
      }
    });
  });
}

/** Stops a server with Ctrl-C and waits until it has exited. */
export async function stopServer(server) {
  if (!server) return;
  const exited = new Promise((r) => server.child.once('exit', r));
  server.child.kill('SIGINT');
  await exited; // Ctrl-C must stop `bank serve` cleanly, with a page connected or not
}

/**
 * Opens `url` in a fresh context of `browser` (another person, so another
 * lab), collecting the page's errors: `{ context, page, errors }`.
 */
export async function openViewer(browser, url, viewport = { width: 1400, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(url);
  return { context, page, errors };
}

/**
 * The `before` and `after` hooks most test files share: one `bank serve`
 * (with `args`) and one headless Chromium for the whole file, and the
 * artifacts folder. Returns `{ server, browser, open }`, filled in once
 * `before` ran; `open(path, viewport)` is [`openViewer`] on the server.
 */
export function serverAndBrowser(args = []) {
  const shared = {
    server: null,
    browser: null,
    open: (path, viewport) => openViewer(shared.browser, new URL(path, shared.server.url).href, viewport),
  };
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    shared.server = await startServer(args);
    shared.browser = await launchChromium();
  });
  after(async () => {
    await shared.browser?.close();
    await stopServer(shared.server);
  });
  return shared;
}
