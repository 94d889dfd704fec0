// Helpers of the browser end-to-end tests: launching Debian's Chromium through playwright-core,
// users in their own browser contexts, screenshots, the dev clock, sign-up and login through the
// UI, and small polling expectations (playwright-core has no `expect`).
//
// Environment: ICHIBA_URL (the server, default http://127.0.0.1:8080), E2E_ARTIFACTS (where
// screenshots go, default e2e/artifacts), CHROMIUM_PATH (default /usr/bin/chromium).
// scripts/e2e.sh sets the first two.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Base URL of the server under test, without a trailing slash. */
export const BASE_URL = (process.env.ICHIBA_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
/** Directory of screenshots. */
export const ARTIFACTS = path.resolve(process.env.E2E_ARTIFACTS ?? path.join(here, 'artifacts'));
/** Timeout of every expectation and action (the machine is slow). */
export const TIMEOUT = 15_000;
/** Timeout of navigations (a debug build rendering a page while another is compiling). */
export const NAV_TIMEOUT = 30_000;
/** Timeout of one whole test. */
export const TEST_TIMEOUT = 10 * 60_000;

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Without the background-networking flags Chromium's own connections are refused here. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Password of the users the tests sign up (the UI asks for at least 8 characters). */
export const PASSWORD = 'e2e-pass-2026';
/** The demo market's seller of the logo listing (`ichiba serve --demo`). */
export const DEMO_SELLER = {
  name: 'デザイン工房ひなた',
  email: 'seller01@demo.ichiba.jp',
  password: 'ichiba-demo-2026',
};

export const VIEWPORTS = {
  desktop: { width: 1280, height: 900 },
  mobile: { width: 390, height: 844 },
};

// ---------------------------------------------------------------------------------------------
// Browser, users, screenshots

/** Launches headless Chromium (a fresh temporary profile each time). */
export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
  });
}

const openPages = new Map(); // page -> label

/**
 * A fresh user: its own context (cookies) and page, locale ja-JP, time zone Asia/Tokyo.
 * `viewport` is 'desktop' (default) or 'mobile'. Every dialog (confirm()) is accepted and
 * recorded in `dialogs`; page errors and HTTP errors (≥ 400) are logged to stderr with the label.
 */
export async function newUser(browser, { viewport = 'desktop', label } = {}) {
  const size = VIEWPORTS[viewport] ?? VIEWPORTS.desktop;
  const context = await browser.newContext({
    baseURL: BASE_URL,
    locale: 'ja-JP',
    timezoneId: 'Asia/Tokyo',
    viewport: size,
    deviceScaleFactor: 1,
    isMobile: viewport === 'mobile',
    hasTouch: viewport === 'mobile',
  });
  context.setDefaultTimeout(TIMEOUT);
  context.setDefaultNavigationTimeout(NAV_TIMEOUT);
  const page = await context.newPage();
  const name = label ?? `user${openPages.size + 1}`;
  const dialogs = [];
  page.on('dialog', async (dialog) => {
    dialogs.push({ type: dialog.type(), message: dialog.message() });
    await dialog.accept().catch(() => {});
  });
  page.on('pageerror', (e) => console.error(`[${name}] page error: ${e.message}`));
  page.on('console', (m) => {
    // Failed loads are reported with their URL by the response handler below.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      console.error(`[${name}] console error: ${m.text()}`);
    }
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) {
      console.error(`[${name}] HTTP ${r.status()} ${r.request().method()} ${r.url()}`);
    }
  });
  page.on('close', () => openPages.delete(page));
  openPages.set(page, name);
  return { context, page, dialogs, label: name };
}

/** Full-page screenshot `<E2E_ARTIFACTS>/<name>.png`; returns its path. */
export async function shot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name.replace(/[^\w.-]+/g, '_')}.png`);
  await page.screenshot({ path: file, fullPage: true, timeout: NAV_TIMEOUT });
  return file;
}

/** Screenshots every open page as `FAIL-<name>-<label>.png` (best effort). */
export async function shotAll(name) {
  for (const [page, label] of openPages) {
    if (page.isClosed()) continue;
    await shot(page, `FAIL-${name}-${label}`).catch((e) =>
      console.error(`could not screenshot ${label}: ${e.message}`),
    );
  }
}

/** Runs `fn`; when it throws, screenshots every open page first (named after `name`). */
export async function withFailureShots(name, fn) {
  try {
    return await fn();
  } catch (e) {
    await shotAll(name);
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// The server

/** Moves the manual clock (`serve --dev-clock`) forward and runs the timers that became due. */
export async function advanceClock(seconds) {
  const res = await fetch(`${BASE_URL}/api/v1/dev/clock`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ advance_seconds: seconds }),
  });
  const text = await res.text();
  if (!res.ok) {
    throw new Error(`POST /api/v1/dev/clock answered ${res.status}: ${text} (is the server started with --dev-clock?)`);
  }
  return JSON.parse(text); // { now_at, timers_fired }
}

let emailCounter = 0;
/** A fresh e-mail address, different on every call and every run. */
export function uniqueEmail(prefix = 'user') {
  emailCounter += 1;
  const stamp = Date.now().toString(36);
  const rand = Math.random().toString(36).slice(2, 7);
  return `${prefix}-${stamp}${rand}${emailCounter}@e2e.ichiba.jp`;
}

/** The path of a page's URL (`/orders/…`). */
export function pathOf(page) {
  return new URL(page.url()).pathname;
}

/** Waits until the page's path matches `re` (a RegExp on the pathname); returns the match. */
export async function waitForPath(page, re, { timeout = NAV_TIMEOUT } = {}) {
  await page.waitForURL((u) => re.test(u.pathname), { timeout });
  return pathOf(page).match(re);
}

/** The order id of a talk room page (`/orders/{id}`). */
export function orderIdOf(page) {
  const m = pathOf(page).match(/^\/orders\/([^/]+)\/?$/);
  if (!m) throw new Error(`not on a talk room: ${page.url()}`);
  return decodeURIComponent(m[1]);
}

// ---------------------------------------------------------------------------------------------
// Accounts through the UI

/** Signs up through /signup; ends logged in on `/`. Returns the user. */
export async function signup(page, { name, email = uniqueEmail(), password = PASSWORD } = {}) {
  const user = { name: name ?? `E2Eユーザー${++emailCounter}`, email, password };
  await page.goto('/signup');
  await page.getByLabel('表示名', { exact: true }).fill(user.name);
  await page.getByLabel('メールアドレス', { exact: true }).fill(user.email);
  await page.getByLabel('パスワード', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: '登録する', exact: true }).click();
  await waitForPath(page, /^\/$/);
  await expectLoggedIn(page);
  return user;
}

/** Logs in through /login (with `?next=` when given); waits until the page has left /login. */
export async function login(page, email, password, { next } = {}) {
  await page.goto(next ? `/login?next=${encodeURIComponent(next)}` : '/login');
  await fillLogin(page, email, password);
  await expectLoggedIn(page);
}

/** Fills and submits the login form already on screen. */
export async function fillLogin(page, email, password) {
  await page.getByLabel('メールアドレス', { exact: true }).fill(email);
  await page.getByLabel('パスワード', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'ログイン', exact: true }).click();
  await page.waitForURL((u) => u.pathname !== '/login', { timeout: NAV_TIMEOUT });
}

/** The header shows the logged-in navigation (the ログアウト button). */
export async function expectLoggedIn(page) {
  await waitForVisible(page.getByRole('button', { name: 'ログアウト', exact: true }));
}

// ---------------------------------------------------------------------------------------------
// Market actions through the UI

/** A link of the site header (取引管理, メッセージ, 売上, 振込口座, …). */
export function headerLink(page, name) {
  return page.locator('header').getByRole('link', { name, exact: true }).first();
}

/** The link of the search result titled `title` (`article.card` containing the link). */
export function resultLink(page, title) {
  return page.locator('article.card').getByRole('link', { name: title, exact: true });
}

/**
 * Buys a listing: searches `query`, opens the result titled `title`, 購入する, 購入を確定する.
 * Ends in the talk room; returns the order id.
 */
export async function purchase(page, { query, title }) {
  await page.goto(`/search?q=${encodeURIComponent(query)}`);
  await resultLink(page, title).first().click();
  await waitForPath(page, /^\/listings\/[^/]+\/?$/);
  await page.getByRole('link', { name: '購入する', exact: true }).first().click();
  await waitForPath(page, /^\/listings\/[^/]+\/purchase\/?$/);
  await page.getByRole('button', { name: '購入を確定する', exact: true }).click();
  await waitForPath(page, /^\/orders\/[^/]+\/?$/);
  await waitForText(page.locator('h1'), title);
  return orderIdOf(page);
}

// ---------------------------------------------------------------------------------------------
// Polling expectations

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Whitespace collapsed and trimmed. */
export function norm(text) {
  return (text ?? '').replace(/\s+/g, ' ').trim();
}

function matches(text, expected) {
  return expected instanceof RegExp ? expected.test(text) : text.includes(norm(expected));
}

/**
 * Polls `fn` until it returns something truthy, which is returned. `describe()` (optional)
 * explains the failure; errors thrown by `fn` count as "not yet".
 */
export async function waitUntil(fn, { timeout = TIMEOUT, interval = 200, message = 'condition', describe } = {}) {
  const deadline = Date.now() + timeout;
  let lastError;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      lastError = undefined;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) {
      let why = `${message}: not met within ${timeout} ms`;
      if (describe) why += ` (${await Promise.resolve(describe()).catch((e) => e.message)})`;
      if (lastError) why += ` (last error: ${lastError.message.split('\n')[0]})`;
      throw new Error(why);
    }
    await sleep(interval);
  }
}

/** Waits until the locator's first match is visible. */
export async function waitForVisible(locator, { timeout = TIMEOUT } = {}) {
  await locator.first().waitFor({ state: 'visible', timeout });
}

/** Waits until nothing the locator matches is visible (or it matches nothing). */
export async function waitForHidden(locator, { timeout = TIMEOUT } = {}) {
  await waitUntil(
    async () => {
      for (const el of await locator.all()) if (await el.isVisible()) return false;
      return true;
    },
    { timeout, message: `${locator} still visible` },
  );
}

/**
 * Waits until some element the locator matches has text containing `expected` (a string,
 * whitespace-insensitive) or matching it (a RegExp). Returns that text.
 */
export async function waitForText(locator, expected, { timeout = TIMEOUT } = {}) {
  let seen = [];
  return waitUntil(
    async () => {
      seen = (await locator.allTextContents()).map(norm);
      return seen.find((t) => matches(t, expected));
    },
    {
      timeout,
      message: `${locator} with text ${expected instanceof RegExp ? expected : JSON.stringify(expected)}`,
      describe: () => `saw ${seen.length ? JSON.stringify(seen.map((t) => t.slice(0, 200))) : 'no element'}`,
    },
  );
}

/** Waits until no element the locator matches has text containing/matching `unexpected`. */
export async function waitForNoText(locator, unexpected, { timeout = TIMEOUT } = {}) {
  let seen = [];
  await waitUntil(
    async () => {
      seen = (await locator.allTextContents()).map(norm);
      return !seen.some((t) => matches(t, unexpected));
    },
    { timeout, message: `${locator} still has ${unexpected}`, describe: () => `saw ${JSON.stringify(seen)}` },
  );
}

/** Waits until the locator matches exactly `n` elements (or `n(count)` is true). */
export async function waitForCount(locator, n, { timeout = TIMEOUT } = {}) {
  let count = -1;
  const ok = typeof n === 'function' ? n : (c) => c === n;
  await waitUntil(
    async () => {
      count = await locator.count();
      return ok(count);
    },
    { timeout, message: `count of ${locator}`, describe: () => `count is ${count}` },
  );
  return count;
}

/** Waits until the input's value satisfies `pred` (default: non-empty after trimming). Returns it. */
export async function waitForValue(locator, pred = (v) => v.trim() !== '', { timeout = TIMEOUT } = {}) {
  let value;
  return waitUntil(
    async () => {
      value = await locator.inputValue();
      return pred(value) ? value || true : false;
    },
    { timeout, message: `value of ${locator}`, describe: () => `value is ${JSON.stringify(value)}` },
  ).then(() => value);
}

/** Waits for the success flash (`.flash[role=status]`) and returns its text. */
export async function waitForFlash(page, expected = /\S/, opts) {
  return waitForText(page.locator('.flash[role="status"]'), expected, opts);
}

/** Marks the document so that `assertNotReloaded` can tell a live update from a reload. */
export async function markNoReload(page) {
  await page.evaluate(() => {
    window.__e2eNoReload = true;
  });
}

/** True when the document marked by `markNoReload` is still the one shown. */
export async function wasNotReloaded(page) {
  return page.evaluate(() => window.__e2eNoReload === true);
}

// ---------------------------------------------------------------------------------------------
// Files

/** A small valid PNG (solid colour) made in memory, for attachments. */
export function makePng(width = 64, height = 64, [r, g, b] = [232, 120, 40]) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc32 = (buf) => {
    let c = 0xffffffff;
    for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  const row = Buffer.alloc(1 + width * 3);
  for (let x = 0; x < width; x++) row.set([r, g, b], 1 + x * 3);
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
