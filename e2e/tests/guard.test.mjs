// The contact guard in the talk room: a message that hands over a LINE ID is not sent; the buyer
// sees why, with the offending part marked, and keeps the text to edit.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  TEST_TIMEOUT,
  launch,
  newUser,
  norm,
  orderIdOf,
  purchase,
  shot,
  signup,
  uniqueEmail,
  waitForText,
  waitForVisible,
  withFailureShots,
} from '../lib.mjs';

const LISTING = { query: '校正', title: 'プロの編集者が文章を校正・リライトします' };
const BLOCKED = 'LINEのIDは taro_88 です。追加してください';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('a message with a LINE ID is blocked with an explanation and the text kept', { timeout: TEST_TIMEOUT }, async () => {
  const buyer = await newUser(browser, { label: 'guard-buyer' });
  await withFailureShots('guard', async () => {
    const { page } = buyer;
    await signup(page, { name: 'E2Eガード確認', email: uniqueEmail('guard') });
    await purchase(page, LISTING);
    const orderId = orderIdOf(page);

    const textarea = page.getByLabel('メッセージ', { exact: true });
    await textarea.fill(BLOCKED);
    await page.getByRole('button', { name: '送信する', exact: true }).click();

    // The explanation, with the LINE ID marked inside it.
    const alert = page.locator('[role="alert"]');
    await waitForVisible(alert);
    await waitForText(alert, /\S/);
    await waitForText(alert.locator('mark'), 'taro_88');
    await waitForVisible(page.getByRole('button', { name: '運営に確認を依頼する', exact: true }));
    // The text stays in the composer, and nothing was posted.
    assert.equal(await textarea.inputValue(), BLOCKED, 'the blocked text is kept in the textarea');
    assert.ok(
      !norm(await page.locator('#messages').textContent()).includes('taro_88'),
      'the blocked message is not in the message list',
    );
    await shot(page, 'guard-01-blocked-message');

    // Opened afresh, the talk room still has no such message.
    await page.goto(`/orders/${encodeURIComponent(orderId)}`);
    await waitForVisible(page.locator('#messages'));
    assert.ok(
      !norm(await page.locator('#messages').textContent()).includes('taro_88'),
      'the blocked message was not stored',
    );
  });
  await buyer.context.close();
});
