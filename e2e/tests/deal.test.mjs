// The whole deal in two browser contexts: a new buyer finds and buys the demo logo listing, the
// seller (デザイン工房ひなた) sees the order arrive live in 取引管理, answers with a template,
// delivers twice (the buyer sends the first delivery back), the buyer accepts, both review, and the
// seller registers a bank account and requests a payout.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  DEMO_SELLER,
  headerLink,
  TEST_TIMEOUT,
  launch,
  login,
  makePng,
  markNoReload,
  newUser,
  norm,
  orderIdOf,
  resultLink,
  shot,
  signup,
  uniqueEmail,
  waitForCount,
  waitForFlash,
  waitForPath,
  waitForText,
  waitForValue,
  waitForVisible,
  wasNotReloaded,
  withFailureShots,
} from '../lib.mjs';

const TITLE = 'シンプルで覚えやすいロゴを3案ご提案します';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** The composer of a talk room. */
function composer(page) {
  return {
    templates: page.getByLabel('定型文', { exact: true }),
    insert: page.getByRole('button', { name: '挿入', exact: true }),
    text: page.getByLabel('メッセージ', { exact: true }),
    file: page.getByLabel('添付ファイル', { exact: true }),
    delivery: page.getByLabel('正式な納品として送る', { exact: true }),
    send: page.getByRole('button', { name: '送信する', exact: true }),
  };
}

/** The first yen amount in a text (「15,825円」 → 15825). */
const yen = (text) => Number(text.match(/(\d[\d,]*)\s*円/)[1].replace(/,/g, ''));
const messages = (page) => page.locator('ol#messages > li.msg');
const status = (page) => page.locator('#status');
const radio = (page, name, value) =>
  page.locator(`input[type="radio"][name="${name}"]`).and(page.getByLabel(value, { exact: true }));

/** The seller sends a formal delivery with a PNG attachment, accepting the confirm() dialog. */
async function deliver(seller, text, fileName, colour) {
  const c = composer(seller.page);
  await c.text.fill(text);
  await c.file.setInputFiles({ name: fileName, mimeType: 'image/png', buffer: makePng(96, 64, colour) });
  await c.delivery.check();
  const dialogsBefore = seller.dialogs.length;
  await c.send.click();
  await waitForText(messages(seller.page), text.slice(0, 12));
  assert.ok(
    seller.dialogs.length > dialogsBefore && seller.dialogs.at(-1).type === 'confirm',
    'a formal delivery asks with a confirm() dialog before sending',
  );
}

/** Submits the review form of the order (both sides give a public and a private rating). */
async function review(page, { rating, comment, privateRating, screenshot }) {
  await page.getByRole('link', { name: '評価する', exact: true }).first().click();
  await waitForPath(page, /^\/orders\/[^/]+\/review\/?$/);
  await radio(page, 'public_rating', String(rating)).check();
  await page.getByLabel('コメント（公開）', { exact: true }).fill(comment);
  await radio(page, 'private_rating', String(privateRating)).check();
  if (screenshot) await shot(page, screenshot);
  await page.getByRole('button', { name: '評価を送信する', exact: true }).click();
  await waitForFlash(page);
}

test('a whole deal: purchase, live talk room, delivery, send-back, approval, reviews, payout', { timeout: TEST_TIMEOUT }, async () => {
  const buyer = await newUser(browser, { viewport: 'mobile', label: 'buyer' });
  const seller = await newUser(browser, { viewport: 'desktop', label: 'seller' });

  await withFailureShots('deal', async () => {
    // The seller logs in and keeps 取引管理 (販売) open before anything is bought.
    await login(seller.page, DEMO_SELLER.email, DEMO_SELLER.password);
    await headerLink(seller.page, '取引管理').click();
    await waitForPath(seller.page, /^\/orders\/?$/);
    await seller.page.getByRole('link', { name: '販売', exact: true }).click();
    await seller.page.waitForURL((u) => u.pathname.replace(/\/$/, '') === '/orders' && u.searchParams.get('role') === 'seller');
    await markNoReload(seller.page);

    // The buyer signs up and searches ロゴ from the top page.
    await signup(buyer.page, { name: 'E2E購入者', email: uniqueEmail('buyer') });
    await buyer.page.goto('/');
    const search = buyer.page.getByRole('search');
    await search.getByLabel('キーワード', { exact: true }).fill('ロゴ');
    await search.getByRole('button', { name: '検索', exact: true }).click();
    await waitForPath(buyer.page, /^\/search\/?$/);
    assert.equal(new URL(buyer.page.url()).searchParams.get('q'), 'ロゴ');
    await waitForVisible(resultLink(buyer.page, TITLE));
    await shot(buyer.page, 'deal-01-search-results');

    // The listing page.
    await resultLink(buyer.page, TITLE).first().click();
    await waitForPath(buyer.page, /^\/listings\/[^/]+\/?$/);
    await waitForText(buyer.page.locator('h1'), TITLE);
    await waitForText(buyer.page.locator('body'), /15,000\s*円|[¥￥]\s*15,000/);
    await waitForText(buyer.page.locator('body'), DEMO_SELLER.name);
    await shot(buyer.page, 'deal-02-listing');

    // The purchase confirmation.
    await buyer.page.getByRole('link', { name: '購入する', exact: true }).first().click();
    await waitForPath(buyer.page, /^\/listings\/[^/]+\/purchase\/?$/);
    // The total is the price plus the buyer's service fee.
    const total = yen(await waitForText(buyer.page.locator('#total'), /\d[\d,]*\s*円/));
    assert.ok(total >= 15000, `#total (${total}円) is at least the price 15,000円`);
    await shot(buyer.page, 'deal-03-purchase-confirmation');
    await buyer.page.getByRole('button', { name: '購入を確定する', exact: true }).click();
    await waitForPath(buyer.page, /^\/orders\/[^/]+\/?$/);
    const orderId = orderIdOf(buyer.page);
    await waitForText(buyer.page.locator('h1'), TITLE);
    await waitForText(status(buyer.page), '開始待ち');

    // The order appears live in the seller's 取引管理, without a reload.
    const row = seller.page.locator(`a.order-row[href$="/orders/${orderId}"]`);
    await waitForText(row, TITLE);
    await waitForText(row, '開始待ち');
    assert.ok(await wasNotReloaded(seller.page), '取引管理 updated live, not by reloading the page');
    await shot(seller.page, 'deal-04-orders-seller');

    // The seller opens the talk room and answers with a template.
    await row.click();
    await waitForPath(seller.page, new RegExp(`^/orders/${orderId}/?$`));
    await waitForText(status(seller.page), '開始待ち');
    const sc = composer(seller.page);
    await waitForVisible(sc.templates);
    const templateValue = await sc.templates
      .locator('option')
      .evaluateAll((options) => options.map((o) => o.value).find((v) => v.trim() !== ''));
    assert.ok(templateValue, "the 定型文 select offers at least one of the seller's templates");
    await sc.templates.selectOption(templateValue);
    await sc.insert.click();
    const greeting = await waitForValue(sc.text);
    await sc.send.click();
    // The talk room shows each line as a paragraph of its own (text contents run together), so
    // the snippet is taken from the greeting's first line.
    const snippet = norm(greeting.split('\n')[0]).slice(0, 15);
    await waitForText(messages(seller.page), snippet);

    // The buyer's open talk room shows it live, and the order is now in progress.
    await waitForText(messages(buyer.page), snippet);
    await waitForText(status(buyer.page), '進行中');
    await waitForText(status(seller.page), '進行中');

    // First formal delivery; the buyer sees 納品確認中 live and sends it back with a reason.
    await deliver(seller, '初回の納品です。方向性の異なる3案をお送りします。ご確認ください。', 'logo-v1.png', [232, 120, 40]);
    await waitForText(status(buyer.page), '納品確認中');
    await waitForText(messages(buyer.page), '初回の納品です');
    await shot(buyer.page, 'deal-05-talk-room-delivery');
    await buyer.page.getByLabel('差し戻しの理由', { exact: true }).fill('B案の色味をもう少し明るくしていただけますか。');
    await buyer.page.getByRole('button', { name: '差し戻す', exact: true }).click();
    await waitForText(status(buyer.page), '進行中');
    await waitForText(status(seller.page), '進行中');
    await waitForText(messages(seller.page), 'B案の色味');

    // Second delivery; the buyer can no longer send it back and accepts.
    await deliver(seller, '修正版を納品いたします。B案の色味を明るく調整しました。', 'logo-v2.png', [250, 170, 60]);
    await waitForText(status(buyer.page), '納品確認中');
    await waitForText(messages(buyer.page), '修正版を納品いたします');
    await waitForVisible(buyer.page.getByRole('button', { name: '承諾する', exact: true }));
    await waitForCount(buyer.page.getByRole('button', { name: '差し戻す', exact: true }), 0);
    await shot(buyer.page, 'deal-06-talk-room-second-delivery');
    await buyer.page.getByRole('button', { name: '承諾する', exact: true }).click();
    await waitForText(status(buyer.page), '完了');
    await waitForText(status(seller.page), '完了');

    // Both review each other.
    await review(buyer.page, {
      rating: 5,
      comment: '丁寧に対応していただき、素敵なロゴができました。ありがとうございました。',
      privateRating: 5,
      screenshot: 'deal-07-review-form-buyer',
    });
    await seller.page.reload();
    await review(seller.page, {
      rating: 5,
      comment: 'スムーズなお取引をありがとうございました。',
      privateRating: 5,
      screenshot: 'deal-08-review-form-seller',
    });

    // The seller registers a bank account; bank and branch names are filled in live.
    await headerLink(seller.page, '振込口座').click();
    await waitForPath(seller.page, /^\/bank-account\/?$/);
    await seller.page.getByLabel('金融機関コード', { exact: true }).fill('0001');
    await waitForText(seller.page.locator('#bank-name'), 'みずほ');
    await seller.page.getByLabel('支店コード', { exact: true }).fill('001');
    await waitForText(seller.page.locator('#branch-name'), /\S/);
    await seller.page.getByLabel('口座種別', { exact: true }).selectOption({ label: '普通' });
    await seller.page.getByLabel('口座番号', { exact: true }).fill('1234567');
    await seller.page.getByLabel('口座名義（カタカナ）', { exact: true }).fill('デモ タロウ');
    await shot(seller.page, 'deal-09-bank-account');
    await seller.page.getByRole('button', { name: '登録する', exact: true }).click();
    await waitForFlash(seller.page);

    // A payout request of 2,000 yen shows the 160-yen fee live and succeeds.
    await headerLink(seller.page, '売上').click();
    await waitForPath(seller.page, /^\/sales\/?$/);
    await waitForText(seller.page.locator('#available'), /\d/);
    await seller.page.getByLabel('申請金額', { exact: true }).fill('2000');
    await waitForText(seller.page.locator('#fee-preview'), '160円');
    await shot(seller.page, 'deal-10-sales');
    await seller.page.getByRole('button', { name: '振込申請をする', exact: true }).click();
    await waitForFlash(seller.page);
    await shot(seller.page, 'deal-11-sales-requested');
  });

  await buyer.context.close();
  await seller.context.close();
});
