// Access: a talk room is the two parties' only (anyone else gets the 404 page), and a logged-in
// page sends an anonymous visitor to the login form, which brings them back afterwards.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  TEST_TIMEOUT,
  fillLogin,
  launch,
  newUser,
  pathOf,
  purchase,
  shot,
  signup,
  uniqueEmail,
  waitForPath,
  waitForText,
  withFailureShots,
} from '../lib.mjs';

const LISTING = { query: '職務経歴書', title: '職務経歴書を採用担当目線で添削します' };

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("a stranger opening someone else's talk room gets the 404 page", { timeout: TEST_TIMEOUT }, async () => {
  const buyer = await newUser(browser, { label: 'access-buyer' });
  const stranger = await newUser(browser, { label: 'access-stranger' });
  await withFailureShots('access-404', async () => {
    await signup(buyer.page, { name: 'E2E購入者A', email: uniqueEmail('access-buyer') });
    await purchase(buyer.page, LISTING);
    const talkRoom = pathOf(buyer.page);

    await signup(stranger.page, { name: 'E2E第三者', email: uniqueEmail('stranger') });
    const res = await stranger.page.goto(talkRoom);
    assert.equal(res.status(), 404, `GET ${talkRoom} as a stranger answers 404`);
    await waitForText(stranger.page.locator('h1'), 'ページが見つかりません');
    assert.ok(
      !(await stranger.page.locator('body').textContent()).includes(LISTING.title),
      'the 404 page does not reveal the listing title',
    );
    await shot(stranger.page, 'access-01-stranger-404');
  });
  await buyer.context.close();
  await stranger.context.close();
});

test('an anonymous visitor to 取引管理 is sent to the login form and back', { timeout: TEST_TIMEOUT }, async () => {
  const member = await newUser(browser, { label: 'access-member' });
  const visitor = await newUser(browser, { label: 'access-anonymous' });
  await withFailureShots('access-login', async () => {
    const user = await signup(member.page, { name: 'E2E会員', email: uniqueEmail('member') });

    const res = await visitor.page.goto('/orders');
    const first = res.request().redirectedFrom();
    assert.ok(first, 'GET /orders redirects an anonymous visitor');
    const redirect = await first.response();
    assert.equal(redirect.status(), 303, 'the redirect is a 303');
    const location = new URL(redirect.headers().location, redirect.url());
    assert.equal(location.pathname, '/login');
    assert.equal(location.searchParams.get('next'), '/orders');
    await waitForPath(visitor.page, /^\/login\/?$/);
    await shot(visitor.page, 'access-02-login-redirect');

    // Logging in there returns to 取引管理.
    await fillLogin(visitor.page, user.email, user.password);
    await waitForPath(visitor.page, /^\/orders\/?$/);
  });
  await member.context.close();
  await visitor.context.close();
});
