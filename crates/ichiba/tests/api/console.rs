//! The seller dashboard and the operator console through the whole app, on both databases: who
//! may see them, what they show, and how their forms report the services' refusals.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{CSRF, Page, TestApp, TestUser, get, post_form};

/// Posts a console form with the CSRF token.
async fn post(app: &TestApp, path: &str, session: Option<&str>, form: &[(&str, &str)]) -> Page {
    let mut fields = vec![("csrf", CSRF)];
    fields.extend_from_slice(form);
    post_form(app, path, session, &fields).await
}

/// A seller with a listing, a buyer who bought it, an operator.
struct World {
    seller: TestUser,
    buyer: TestUser,
    op: TestUser,
    listing_id: String,
    order_id: String,
}

async fn world(app: &TestApp) -> World {
    let seller = app.register("seller@example.com", "出品者さん").await;
    let buyer = app.register("buyer@example.com", "購入者さん").await;
    let op = app.register("op@example.com", "運営さん").await;
    app.grant_operator(&op).await;
    let listing = app
        .post(
            "/api/v1/listings",
            Some(&seller.token),
            json!({
                "title": "ロゴデザインを丁寧に作成します",
                "description": "シンプルで伝わるロゴを制作します。",
                "category": "design",
                "price_yen": 5000,
                "delivery_days": 7
            }),
        )
        .await;
    assert_eq!(listing.status, StatusCode::CREATED, "{listing:?}");
    let listing_id = listing.body["id"].as_str().expect("listing id").to_string();
    ichiba::reputation::refresh_seller(&app.state.db, &seller.id, app.state.clock.now_ms())
        .await
        .expect("refresh");
    let order_id = app.purchase(&buyer, &listing_id).await;
    World {
        seller,
        buyer,
        op,
        listing_id,
        order_id,
    }
}

#[tokio::test]
async fn the_dashboard_shows_metrics_rank_and_ranking() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let anon = get(&app, "/dashboard", None).await;
    assert_eq!(anon.status, StatusCode::SEE_OTHER);
    assert_eq!(anon.location(), "/login?next=/dashboard");
    let r = get(&app, "/dashboard", Some(&w.seller.token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    for text in [
        "納期を守った割合",
        "キャンセル率",
        "「レギュラー」まで",
        "ロゴデザインを丁寧に作成します",
        &format!("/listings/{}", w.listing_id),
        "おすすめ度",
        "情報の充実度",
        "カテゴリの中央値",
    ] {
        assert!(r.html.contains(text), "missing {text}");
    }
    // A buyer without listings still has a dashboard.
    let r = get(&app, "/dashboard", Some(&w.buyer.token)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.html.contains("まだ出品したサービスはありません"));
}

#[tokio::test]
async fn the_console_is_for_operators_only() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let order_path = format!("/admin/orders/{}", w.order_id);
    for path in [
        "/admin",
        "/admin/appeals",
        "/admin/sanctions",
        "/admin/payouts",
        "/admin/ledger",
        order_path.as_str(),
    ] {
        let anon = get(&app, path, None).await;
        assert_eq!(anon.status, StatusCode::SEE_OTHER, "{path}");
        assert!(anon.location().starts_with("/login?next="), "{path}");
        let seller = get(&app, path, Some(&w.seller.token)).await;
        assert_eq!(seller.status, StatusCode::NOT_FOUND, "{path}");
        let op = get(&app, path, Some(&w.op.token)).await;
        assert_eq!(op.status, StatusCode::OK, "{path}: {}", op.html);
    }
    let cancel = format!("{order_path}/cancel");
    let r = post(&app, &cancel, Some(&w.buyer.token), &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let ledger = get(&app, "/admin/ledger", Some(&w.op.token)).await;
    assert!(ledger.html.contains("問題は見つかりませんでした"));
}

#[tokio::test]
async fn operators_look_up_and_intervene_in_orders() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let r = get(
        &app,
        &format!("/admin/orders?id={}", w.order_id),
        Some(&w.op.token),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), format!("/admin/orders/{}", w.order_id));
    let r = get(&app, "/admin/orders?id=..%2Fx", Some(&w.op.token)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("role=\"alert\""));

    let path = format!("/admin/orders/{}", w.order_id);
    let page = get(&app, &path, Some(&w.op.token)).await;
    assert!(page.html.contains("出品者さん") && page.html.contains("購入者さん"));
    assert!(page.html.contains("この金額で精算する"));

    let settle = format!("{path}/settle");
    let r = post(
        &app,
        &settle,
        Some(&w.op.token),
        &[("seller_amount_yen", "abc")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.html
            .contains("出品者への支払額を数字で入力してください。")
    );
    let r = post(
        &app,
        &settle,
        Some(&w.op.token),
        &[("seller_amount_yen", "999999")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.html
            .contains("出品者への支払額は0円から5000円の範囲で指定してください。")
    );
    assert!(r.html.contains("value=\"999999\""));

    let r = post(&app, &format!("{path}/cancel"), Some(&w.op.token), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), path);
    assert!(r.sets_flash());
    let page = get(&app, &path, Some(&w.op.token)).await;
    assert!(page.html.contains("キャンセル"));
    assert!(page.html.contains("運営による対応はできません"));

    let r = post(&app, &format!("{path}/complete"), Some(&w.op.token), &[]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.html.contains("role=\"alert\""));

    let r = post(&app, "/admin/orders/nope/cancel", Some(&w.op.token), &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // A form without the CSRF token is refused.
    let complete = format!("{path}/complete");
    let r = post_form(&app, &complete, Some(&w.op.token), &[("csrf", "wrong")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn appeals_are_decided_once() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let context = ichiba::guard::Context::OrderMessage {
        order_id: w.order_id.clone(),
    };
    let a = ichiba::appeals::file(&app.state, &w.buyer.id, "LINEのIDは abc123 です", &context)
        .await
        .expect("appeal");
    let queue = get(&app, "/admin/appeals", Some(&w.op.token)).await;
    assert!(queue.html.contains("購入者さん"));
    assert!(queue.html.contains("トークルームのメッセージ"));
    assert!(
        queue
            .html
            .contains(&format!("/admin/appeals/{}/decide", a.id))
    );

    let decide = format!("/admin/appeals/{}/decide", a.id);
    let r = post(&app, &decide, Some(&w.op.token), &[("decision", "maybe")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.html
            .contains("decision は allow または uphold を指定してください。")
    );

    let form = [
        ("decision", "uphold"),
        ("note", "外部誘導"),
        ("filter", "pending"),
    ];
    let r = post(&app, &decide, Some(&w.op.token), &form).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/admin/appeals?state=pending");
    assert!(r.sets_flash());
    let r = post(&app, &decide, Some(&w.op.token), &form).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.html.contains("この異議申し立ては判断済みです。"));
    let done = get(&app, "/admin/appeals?state=upheld", Some(&w.op.token)).await;
    assert!(done.html.contains("メモ：外部誘導"));
}

#[tokio::test]
async fn sanctions_are_listed_and_lifted() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let now = app.state.clock.now_ms();
    let mut tx = app.state.db.begin().await.expect("tx");
    ichiba::guard::store::insert_sanction(
        &mut tx,
        &w.buyer.id,
        "restriction",
        "テストの制限",
        now,
        Some(now + 3_600_000),
    )
    .await
    .expect("sanction");
    tx.commit().await.expect("commit");

    let list = get(&app, "/admin/sanctions", Some(&w.op.token)).await;
    assert!(list.html.contains("購入者さん") && list.html.contains("テストの制限"));
    assert!(list.html.contains("制限を解除する"));
    let user = get(
        &app,
        &format!("/admin/users/{}", w.buyer.id),
        Some(&w.op.token),
    )
    .await;
    assert!(user.html.contains("buyer@example.com") && user.html.contains("テストの制限"));

    let lift = format!("/admin/users/{}/sanctions/lift", w.buyer.id);
    let long = "あ".repeat(1001);
    let r = post(
        &app,
        &lift,
        Some(&w.op.token),
        &[("note", &long), ("back", "/admin/sanctions")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("メモは1000文字以内で入力してください。"));

    let form = [("note", "誤検知のため"), ("back", "/admin/sanctions")];
    let r = post(&app, &lift, Some(&w.op.token), &form).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/admin/sanctions");
    assert!(r.sets_flash());
    let list = get(&app, "/admin/sanctions", Some(&w.op.token)).await;
    assert!(
        list.html
            .contains("現在、有効な利用制限・アカウント停止はありません。")
    );
    let r = post(
        &app,
        &lift,
        Some(&w.op.token),
        &[("back", "https://evil.example/")],
    )
    .await;
    assert_eq!(r.location(), format!("/admin/users/{}", w.buyer.id));
}

#[tokio::test]
async fn payout_forms_show_the_services_errors() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let r = post(
        &app,
        "/admin/payouts/export",
        Some(&w.op.token),
        &[("pay_date", "2026/03/10")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.html
            .contains("振込指定日は YYYY-MM-DD の形式で指定してください。")
    );
    let r = post(
        &app,
        "/admin/payouts/export",
        Some(&w.op.token),
        &[("pay_date", "2026-03-10")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("指定日までに振込予定の申請はありません。"));
    let r = post(
        &app,
        "/admin/payouts/settle",
        Some(&w.op.token),
        &[("paid", " "), ("failed", "")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("申請IDを入力してください。"));
    let r = post(
        &app,
        "/admin/payouts/settle",
        Some(&w.op.token),
        &[("paid", "p-unknown")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.html.contains("振込申請 p-unknown が見つかりません。"));
    assert!(r.html.contains(">p-unknown</textarea>"));
    let r = get(&app, "/admin/payouts/batches/nope", Some(&w.op.token)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_payout_queue_shows_each_payout_with_its_seller_and_batch() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let order = format!("/api/v1/orders/{}", w.order_id);
    let body = json!({"body": "納品いたします。ご確認をお願いいたします。"});
    let steps = [
        (format!("{order}/deliveries"), &w.seller, body),
        (format!("{order}/accept"), &w.buyer, json!({})),
    ];
    for (path, who, body) in steps {
        let r = app.post(&path, Some(&who.token), body).await;
        assert!(r.status.is_success(), "{path}: {r:?}");
    }
    let bank = json!({"bank_code": "0001", "branch_code": "001", "account_type": 1,
                      "account_number": "1234567", "holder_kana": "ヤマダ タロウ"});
    let r = app
        .send_put("/api/v1/me/bank-account", &w.seller, bank)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let payout = app
        .post(
            "/api/v1/payouts",
            Some(&w.seller.token),
            json!({"amount_yen": 3900}),
        )
        .await;
    assert_eq!(payout.status, StatusCode::CREATED, "{payout:?}");
    let payout_id = payout.body["id"].as_str().expect("payout id");
    let pay_date = payout.body["scheduled_for"].as_str().expect("pay date");

    // Waiting for export: the seller's name links to the user page, the next pay date is proposed.
    let page = get(&app, "/admin/payouts", Some(&w.op.token)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains(payout_id));
    let seller_link = format!("<a href=\"/admin/users/{}\">出品者さん</a>", w.seller.id);
    assert!(page.html.contains(&seller_link), "{}", page.html);
    assert!(page.html.contains(&format!("value=\"{pay_date}\"")));

    let r = post(
        &app,
        "/admin/payouts/export",
        Some(&w.op.token),
        &[("pay_date", pay_date)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    assert!(r.sets_flash());
    let batch_path = r.location().to_string();
    assert!(batch_path.starts_with("/admin/payouts/batches/"));
    let batch = get(&app, &batch_path, Some(&w.op.token)).await;
    assert_eq!(batch.status, StatusCode::OK);
    assert!(batch.html.contains(payout_id) && batch.html.contains("運営さん"));

    // Exported: still the seller's name, now with the batch it went out in.
    let page = get(&app, "/admin/payouts", Some(&w.op.token)).await;
    assert!(page.html.contains(&seller_link));
    assert!(
        page.html
            .contains(&format!("href=\"{batch_path}\">表示</a>"))
    );

    let r = post(
        &app,
        "/admin/payouts/settle",
        Some(&w.op.token),
        &[("paid", payout_id)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
    let page = get(&app, "/admin/payouts", Some(&w.op.token)).await;
    assert!(!page.html.contains(&seller_link));
    app.assert_ledger_clean().await;
}
