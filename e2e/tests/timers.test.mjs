// Timers on the dev clock: an order the seller never answers shows its auto-cancel deadline, and
// 49 hours later it is cancelled.
//
// This moves the server's shared manual clock: scripts/e2e.sh runs the test files one at a time,
// and this one is last in name order, so it does not disturb the other files' orders.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  TEST_TIMEOUT,
  advanceClock,
  launch,
  newUser,
  orderIdOf,
  purchase,
  shot,
  signup,
  uniqueEmail,
  waitForPath,
  waitForText,
  withFailureShots,
} from '../lib.mjs';

const LISTING = { query: 'タロット', title: 'タロットで恋愛のお悩みを丁寧に鑑定します' };

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('an order the seller does not answer within 48 hours is cancelled automatically', { timeout: TEST_TIMEOUT }, async () => {
  const buyer = await newUser(browser, { label: 'timers-buyer' });
  await withFailureShots('timers', async () => {
    const { page } = buyer;
    await signup(page, { name: 'E2Eタイマー確認', email: uniqueEmail('timers') });
    await purchase(page, LISTING);
    const orderId = orderIdOf(page);
    const talkRoom = page.url();

    // The deadline is shown in the talk room and in 取引管理.
    await waitForText(page.locator('#status'), '開始待ち');
    await waitForText(page.locator('#clock'), /自動キャンセル/);
    await page.goto('/orders?role=buyer');
    const row = page.locator(`a.order-row[href$="/orders/${orderId}"]`);
    await waitForText(row, LISTING.title);
    await waitForText(row, /自動キャンセル/);
    await shot(page, 'timers-01-orders-before');

    // 49 hours pass without a word from the seller.
    const advanced = await advanceClock(49 * 3600);
    assert.ok(advanced.timers_fired >= 1, `the clock advance fired timers (${JSON.stringify(advanced)})`);

    await page.reload();
    await waitForText(row, 'キャンセル');
    await page.goto(talkRoom);
    await waitForPath(page, /^\/orders\/[^/]+\/?$/);
    await waitForText(page.locator('#status'), 'キャンセル');
    await shot(page, 'timers-02-talk-room-cancelled');
  });
  await buyer.context.close();
});
