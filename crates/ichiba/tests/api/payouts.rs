//! Payouts end to end: the bank account, payout requests and their races, the Zengin export and
//! settlement (API and CLI), the 120-day rule on the dev clock, points, and the ledger CSV — with
//! the ledger verified clean at the end of each test.

use ichiba::config::PayoutsCommand;
use ichiba::ledger::AccountRef;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, TestUser};

const DAY: i64 = 24 * 3600;

/// A seller with earnings from one completed deal: price − 22 % commission.
async fn seller_with_earnings(app: &TestApp, price: i64) -> TestUser {
    let (seller, buyer, id) = app.deal(price).await;
    let r = app
        .post(
            &format!("/api/v1/orders/{id}/deliveries"),
            Some(&seller.token),
            json!({"body": "納品いたします。ご確認をお願いいたします。"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let r = app
        .post(
            &format!("/api/v1/orders/{id}/accept"),
            Some(&buyer.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    seller
}

/// Logs in again after the dev clock passed the 30-day session lifetime.
async fn relogin(app: &TestApp, user: &mut TestUser) {
    user.token = app.login(&user.email, "password-123").await;
}

fn mizuho(holder: &str) -> Value {
    json!({"bank_code": "0001", "branch_code": "001", "account_type": 1,
           "account_number": "1234567", "holder_kana": holder})
}

async fn register_bank(app: &TestApp, user: &TestUser) -> Reply {
    let r = app
        .send_put("/api/v1/me/bank-account", user, mizuho("ヤマダ タロウ"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    r
}

async fn request_payout(app: &TestApp, user: &TestUser, amount: i64) -> Reply {
    app.post(
        "/api/v1/payouts",
        Some(&user.token),
        json!({"amount_yen": amount}),
    )
    .await
}

fn fields(r: &Reply) -> Vec<(String, String)> {
    r.body["error"]["details"]["fields"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    (
                        f["field"].as_str().unwrap_or("").to_string(),
                        f["code"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn notification_kinds(app: &TestApp, user: &TestUser) -> Vec<String> {
    let r = app.get("/api/v1/me/notifications", Some(&user.token)).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_string())
        .collect()
}

async fn payouts_of(app: &TestApp, user: &TestUser) -> Vec<Value> {
    let r = app.get("/api/v1/payouts", Some(&user.token)).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    r.body["items"].as_array().unwrap().clone()
}

async fn export_api(app: &TestApp, op: &TestUser, pay_date: &str) -> reqwest::Response {
    app.http
        .post(app.url("/api/v1/admin/payouts/export"))
        .bearer_auth(&op.token)
        .json(&json!({"pay_date": pay_date}))
        .send()
        .await
        .unwrap()
}

async fn bank_balance(app: &TestApp) -> i64 {
    let mut conn = app.state.db.pool().acquire().await.unwrap();
    ichiba::ledger::store::balance(&mut conn, &AccountRef::Bank)
        .await
        .unwrap()
}

#[tokio::test]
async fn bank_accounts_are_validated_field_by_field_and_yucho_kigou_bangou_are_converted() {
    let app = TestApp::spawn().await;
    let user = app.user("seller").await;

    // Unknown bank, and a holder name in kanji: both reported at once.
    let r = app
        .send_put(
            "/api/v1/me/bank-account",
            &user,
            json!({"bank_code": "0000", "branch_code": "001", "account_type": 1,
                   "account_number": "1234567", "holder_kana": "山田太郎"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.code(), "validation_failed");
    let f = fields(&r);
    assert!(
        f.contains(&("bank_code".into(), "unknown_bank".into())),
        "{f:?}"
    );
    assert!(
        f.contains(&("holder_kana".into(), "invalid_characters".into())),
        "{f:?}"
    );
    let message = r.body["error"]["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "holder_kana")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("「山」"), "{message}");

    // Unknown branch, bad type and number, missing holder.
    let r = app
        .send_put(
            "/api/v1/me/bank-account",
            &user,
            json!({"bank_code": "0001", "branch_code": "999", "account_type": 3,
                   "account_number": "12345678"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    let f = fields(&r);
    for expected in [
        ("branch_code", "unknown_branch"),
        ("account_type", "invalid_choice"),
        ("account_number", "invalid_format"),
        ("holder_kana", "required"),
    ] {
        assert!(
            f.contains(&(expected.0.into(), expected.1.into())),
            "{expected:?} in {f:?}"
        );
    }

    // ゆうちょ銀行: 記号 10120 番号 12345671 → 〇一八店 (018) 普通 1234567.
    let r = app
        .send_put(
            "/api/v1/me/bank-account",
            &user,
            json!({"bank_code": "9900", "kigou": "10120", "bangou": "12345671",
                   "holder_kana": "やまだ たろう"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["bank_name"], "ゆうちょ");
    assert_eq!(r.body["branch_code"], "018");
    assert_eq!(r.body["branch_name"], "〇一八");
    assert_eq!(r.body["account_type"], 1);
    assert_eq!(r.body["account_number"], "****567");
    assert_eq!(r.body["holder_kana"], "ﾔﾏﾀﾞ ﾀﾛｳ");
    // A 記号 that is not an ordinary savings account is a field error on kigou.
    let r = app
        .send_put(
            "/api/v1/me/bank-account",
            &user,
            json!({"bank_code": "9900", "kigou": "2012", "bangou": "12345671",
                   "holder_kana": "ヤマダ"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(
        fields(&r),
        [("kigou".to_string(), "invalid_format".to_string())]
    );

    // Company forms are abbreviated; the number is masked on reading.
    let r = app
        .send_put("/api/v1/me/bank-account", &user, mizuho("株式会社イチバ"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["holder_kana"], "ｶ)ｲﾁﾊﾞ");
    assert_eq!(r.body["bank_name"], "みずほ");
    assert_eq!(r.body["branch_name"], "東京営業部");
    let r = app.get("/api/v1/me/bank-account", Some(&user.token)).await;
    assert_eq!(r.body["account_number"], "****567");
    assert!(!r.body.to_string().contains("1234567"));
    assert_eq!(
        app.delete("/api/v1/me/bank-account", Some(&user.token))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get("/api/v1/me/bank-account", Some(&user.token))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_payout_request_moves_earnings_to_pending_and_is_idempotent() {
    let app = TestApp::spawn().await;
    let seller = seller_with_earnings(&app, 5000).await;
    assert_eq!(app.balance(&seller).await["earnings_yen"], 3900);
    // No bank account yet.
    let r = request_payout(&app, &seller, 2000).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.code(), "bank_account_required");
    register_bank(&app, &seller).await;

    let send = || {
        app.http
            .post(app.url("/api/v1/payouts"))
            .bearer_auth(&seller.token)
            .header("Idempotency-Key", "payout-1")
            .json(&json!({"amount_yen": 2000}))
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["amount_yen"], 2000);
    assert_eq!(first["fee_yen"], 160);
    assert_eq!(first["net_yen"], 1840);
    assert_eq!(first["status"], "pending");
    assert!(
        first["scheduled_for"].as_str().unwrap().len() == 10,
        "{first}"
    );
    assert_eq!(first["account_number"], "****567");
    let again: Value = send().await.unwrap().json().await.unwrap();
    assert_eq!(again["id"], first["id"]);

    let b = app.balance(&seller).await;
    assert_eq!(
        (b["earnings_yen"].as_i64(), b["payout_pending_yen"].as_i64()),
        (Some(1900), Some(2000))
    );
    let list = payouts_of(&app, &seller).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], first["id"]);
    // The ledger shows the request with its payout and status.
    let ledger = app.get("/api/v1/me/ledger", Some(&seller.token)).await.body;
    let line = ledger["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["code"] == "payout_request" && l["account"] == "earnings")
        .unwrap()
        .clone();
    assert_eq!(line["amount_yen"], -2000);
    assert_eq!(line["payout"]["id"], first["id"]);
    assert_eq!(line["payout"]["status"], "pending");
    assert_eq!(line["payout"]["fee_yen"], 160);

    // One open request at a time.
    let r = request_payout(&app, &seller, 1000).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{r:?}");
    assert_eq!(r.code(), "payout_already_requested");
    app.assert_ledger_clean().await;
}

#[tokio::test]
async fn requesting_more_than_available_or_less_than_the_fee_is_refused() {
    let app = TestApp::spawn().await;
    let seller = seller_with_earnings(&app, 5000).await;
    register_bank(&app, &seller).await;
    let r = request_payout(&app, &seller, 3901).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.code(), "insufficient_earnings");
    assert_eq!(r.body["error"]["details"]["available_yen"], 3900);
    let r = request_payout(&app, &seller, 160).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.code(), "amount_too_small");
    let r = request_payout(&app, &seller, 0).await;
    assert_eq!(r.code(), "validation_failed");
    // 3,000 yen or more is free.
    let r = request_payout(&app, &seller, 3000).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    assert_eq!(
        (r.body["fee_yen"].as_i64(), r.body["net_yen"].as_i64()),
        (Some(0), Some(3000))
    );
    assert_eq!(app.balance(&seller).await["earnings_yen"], 900);
    app.assert_ledger_clean().await;
}

#[tokio::test]
async fn two_simultaneous_payout_requests_cannot_overdraw() {
    let app = TestApp::spawn().await;
    let seller = seller_with_earnings(&app, 5000).await;
    register_bank(&app, &seller).await;
    let (a, b) = tokio::join!(
        request_payout(&app, &seller, 3900),
        request_payout(&app, &seller, 3900)
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses[0], 201, "{a:?} {b:?}");
    assert!(statuses[1] == 409 || statuses[1] == 422, "{a:?} {b:?}");
    let bal = app.balance(&seller).await;
    assert_eq!(bal["earnings_yen"], 0);
    assert_eq!(bal["payout_pending_yen"], 3900);
    assert_eq!(payouts_of(&app, &seller).await.len(), 1);
    app.assert_ledger_clean().await;
}

#[tokio::test]
async fn export_writes_a_zengin_file_once_and_settling_paid_moves_pending_to_the_bank() {
    let app = TestApp::spawn().await;
    let op = app.operator("operator").await;
    let s1 = seller_with_earnings(&app, 5000).await;
    let s2 = seller_with_earnings(&app, 10000).await;
    register_bank(&app, &s1).await;
    let r = app
        .send_put("/api/v1/me/bank-account", &s2, mizuho("スズキ ハナコ"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let p1 = request_payout(&app, &s1, 2000).await.body;
    let p2 = request_payout(&app, &s2, 7800).await.body;
    let pay_date = p1["scheduled_for"].as_str().unwrap().to_string();
    assert_eq!(p2["scheduled_for"], pay_date.as_str());

    // Not for sellers.
    let r = export_api(&app, &s1, &pay_date).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let r = export_api(&app, &op, &pay_date).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-ichiba-payout-count"], "2");
    let batch_id = r.headers()["x-ichiba-batch-id"]
        .to_str()
        .unwrap()
        .to_string();
    let bytes = r.bytes().await.unwrap();
    // Header, two data records, trailer, end: 120 bytes each plus CRLF.
    assert_eq!(bytes.len(), 5 * 122);
    let records: Vec<&[u8]> = bytes.chunks(122).collect();
    assert_eq!(
        records.iter().map(|r| r[0]).collect::<Vec<_>>(),
        b"12289".to_vec()
    );
    assert!(records.iter().all(|r| &r[120..] == b"\r\n"));
    let mmdd = format!("{}{}", &pay_date[5..7], &pay_date[8..10]);
    assert_eq!(&records[0][54..58], mmdd.as_bytes());
    assert_eq!(&records[1][80..90], b"0000001840");
    assert_eq!(&records[2][80..90], b"0000007800");
    assert_eq!(&records[3][1..7], b"000002");
    assert_eq!(&records[3][7..19], b"000000009640");
    let (_, _, bad) = encoding_rs::SHIFT_JIS.decode(&bytes);
    assert!(!bad);

    for s in [&s1, &s2] {
        assert_eq!(payouts_of(&app, s).await[0]["status"], "exported");
    }
    // Exporting again finds nothing new.
    let again = export_api(&app, &op, &pay_date).await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["error"]["code"], "nothing_to_export");
    // The batch can be downloaded again.
    let r = app
        .get(
            &format!("/api/v1/admin/payouts/batches/{batch_id}"),
            Some(&op.token),
        )
        .await;
    assert_eq!(r.body["payout_count"], 2);
    let file = app
        .http
        .get(app.url(&format!("/api/v1/admin/payouts/batches/{batch_id}/file")))
        .bearer_auth(&op.token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(file, bytes);

    // The bank paid both.
    let bank_before = bank_balance(&app).await;
    let r = app
        .post(
            "/api/v1/admin/payouts/settle",
            Some(&op.token),
            json!({"paid": [p1["id"], p2["id"]]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["paid"].as_array().unwrap().len(), 2);
    assert_eq!(bank_balance(&app).await - bank_before, 1840 + 7800);
    let b = app.balance(&s1).await;
    assert_eq!(
        (b["earnings_yen"].as_i64(), b["payout_pending_yen"].as_i64()),
        (Some(1900), Some(0))
    );
    let p = &payouts_of(&app, &s1).await[0];
    assert_eq!(p["status"], "paid");
    assert!(p["settled_at"].is_string());
    assert!(
        notification_kinds(&app, &s1)
            .await
            .contains(&"payout_paid".to_string())
    );
    let ledger = app.get("/api/v1/me/ledger", Some(&s1.token)).await.body;
    let paid_line = ledger["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["code"] == "payout")
        .unwrap()
        .clone();
    assert_eq!(paid_line["amount_yen"], -2000);
    assert_eq!(paid_line["payout"]["status"], "paid");
    assert_eq!(paid_line["payout"]["net_yen"], 1840);
    // Settling again changes nothing.
    let r = app
        .post(
            "/api/v1/admin/payouts/settle",
            Some(&op.token),
            json!({"paid": [p1["id"]]}),
        )
        .await;
    assert_eq!(r.body["unchanged"].as_array().unwrap().len(), 1);
    app.assert_ledger_clean().await;
}

#[tokio::test]
async fn a_failed_payout_returns_the_money_and_blocks_requests_until_the_account_is_fixed() {
    let app = TestApp::spawn().await;
    let seller = seller_with_earnings(&app, 5000).await;
    register_bank(&app, &seller).await;
    let p = request_payout(&app, &seller, 2000).await.body;
    let pay_date = p["scheduled_for"].as_str().unwrap().to_string();

    // Export and settle through the command line's functions.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("zengin.txt");
    ichiba::cli::run_payouts(
        &app.state.db,
        &app.state.config,
        PayoutsCommand::Export {
            pay_date: pay_date.clone(),
            out: out.clone(),
        },
    )
    .await
    .unwrap();
    let file = std::fs::read(&out).unwrap();
    assert_eq!(file.len(), 4 * 122);
    assert_eq!(payouts_of(&app, &seller).await[0]["status"], "exported");
    // A second export has nothing to write.
    let e = ichiba::cli::run_payouts(
        &app.state.db,
        &app.state.config,
        PayoutsCommand::Export {
            pay_date,
            out: dir.path().join("again.txt"),
        },
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("nothing_to_export"), "{e}");

    ichiba::cli::run_payouts(
        &app.state.db,
        &app.state.config,
        PayoutsCommand::Settle {
            paid: vec![],
            failed: vec![p["id"].as_str().unwrap().to_string()],
            reason: Some("口座番号相違".into()),
        },
    )
    .await
    .unwrap();
    let b = app.balance(&seller).await;
    assert_eq!(
        (b["earnings_yen"].as_i64(), b["payout_pending_yen"].as_i64()),
        (Some(3900), Some(0))
    );
    let listed = &payouts_of(&app, &seller).await[0];
    assert_eq!(listed["status"], "failed");
    assert_eq!(listed["failure_reason"], "口座番号相違");
    assert!(
        notification_kinds(&app, &seller)
            .await
            .contains(&"payout_failed".to_string())
    );
    let account = app
        .get("/api/v1/me/bank-account", Some(&seller.token))
        .await;
    assert_eq!(account.body["needs_correction"], true);

    // Blocked until the account is saved again.
    let r = request_payout(&app, &seller, 2000).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.code(), "bank_account_needs_correction");
    let fixed = app
        .send_put(
            "/api/v1/me/bank-account",
            &seller,
            json!({"bank_code": "0001", "branch_code": "004", "account_type": 1,
                   "account_number": "7654321", "holder_kana": "ヤマダ タロウ"}),
        )
        .await;
    assert_eq!(fixed.body["needs_correction"], false);
    let r = request_payout(&app, &seller, 2000).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    assert_eq!(r.body["account_number"], "****321");
    app.assert_ledger_clean().await;
}

#[tokio::test]
async fn earnings_older_than_120_days_are_requested_automatically_and_never_forfeited() {
    let app = TestApp::spawn().await;
    // One seller registers an account early; the other never does until reminded.
    let mut early = seller_with_earnings(&app, 5000).await;
    register_bank(&app, &early).await;
    let mut late = seller_with_earnings(&app, 3000).await;

    // Day 91: 29 days before the deadline — the seller without an account is reminded.
    app.advance(91 * DAY).await;
    relogin(&app, &mut early).await;
    relogin(&app, &mut late).await;
    assert!(
        notification_kinds(&app, &late)
            .await
            .contains(&"payout_deadline_reminder".to_string())
    );
    assert!(payouts_of(&app, &early).await.is_empty());
    // Day 114 (6 days before) and day 119.5: the 7-day and 1-day reminders, once each.
    app.advance(23 * DAY).await;
    app.advance(DAY / 2).await;
    app.advance(5 * DAY).await;
    relogin(&app, &mut late).await;
    let reminders = notification_kinds(&app, &late)
        .await
        .iter()
        .filter(|k| *k == "payout_deadline_reminder")
        .count();
    assert_eq!(reminders, 3);

    // Day 121: the early seller's earnings are requested automatically, all of them.
    app.advance(DAY + DAY / 2).await;
    relogin(&app, &mut early).await;
    let list = payouts_of(&app, &early).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["origin"], "automatic");
    assert_eq!(list[0]["amount_yen"], 3900);
    assert_eq!(app.balance(&early).await["payout_pending_yen"], 3900);
    // The late seller has no account: nothing is paid and nothing is lost.
    assert!(payouts_of(&app, &late).await.is_empty());
    assert_eq!(app.balance(&late).await["earnings_yen"], 2340);

    // Registering the account requests the stale earnings at once.
    register_bank(&app, &late).await;
    let list = payouts_of(&app, &late).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["origin"], "automatic");
    assert_eq!(
        (list[0]["amount_yen"].as_i64(), list[0]["fee_yen"].as_i64()),
        (Some(2340), Some(160))
    );
    assert!(
        notification_kinds(&app, &late)
            .await
            .contains(&"payout_auto_requested".to_string())
    );
    app.assert_ledger_clean().await;
}

#[tokio::test]
async fn earnings_convert_to_points_irreversibly_and_points_expire_a_year_later() {
    let app = TestApp::spawn().await;
    let mut seller = seller_with_earnings(&app, 5000).await;
    let r = app
        .post(
            "/api/v1/me/points/convert",
            Some(&seller.token),
            json!({"amount_yen": 1000}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["points_added"], 1000);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("戻すことはできません")
    );
    let b = app.balance(&seller).await;
    assert_eq!(
        (b["earnings_yen"].as_i64(), b["points"].as_i64()),
        (Some(2900), Some(1000))
    );
    let r = app
        .post(
            "/api/v1/me/points/convert",
            Some(&seller.token),
            json!({"amount_yen": 2901}),
        )
        .await;
    assert_eq!(r.code(), "insufficient_earnings");
    let r = app
        .post(
            "/api/v1/me/points/convert",
            Some(&seller.token),
            json!({"amount_yen": 0}),
        )
        .await;
    assert_eq!(r.code(), "validation_failed");

    // 364 days later the points are still there; after a year they expire.
    app.advance(364 * DAY).await;
    relogin(&app, &mut seller).await;
    assert_eq!(app.balance(&seller).await["points"], 1000);
    app.advance(2 * DAY).await;
    relogin(&app, &mut seller).await;
    assert_eq!(app.balance(&seller).await["points"], 0);
    let ledger = app.get("/api/v1/me/ledger", Some(&seller.token)).await.body;
    assert!(
        ledger["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["code"] == "points_expiry" && l["amount_yen"] == -1000)
    );
    assert!(
        notification_kinds(&app, &seller)
            .await
            .contains(&"points_expired".to_string())
    );
    app.assert_ledger_clean().await;
}

#[tokio::test]
async fn the_ledger_csv_has_a_bom_japanese_headers_and_every_payout_with_its_status() {
    let app = TestApp::spawn().await;
    let seller = seller_with_earnings(&app, 5000).await;
    register_bank(&app, &seller).await;
    let p = request_payout(&app, &seller, 2000).await.body;
    let r = app
        .http
        .get(app.url("/api/v1/me/ledger.csv"))
        .bearer_auth(&seller.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("日時,口座,区分,金額"), "{}", lines[0]);
    // Release (earnings +3900), then the request (earnings −2000, pending +2000).
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[1].contains(",売上金,売上確定,3900,"), "{}", lines[1]);
    let id = p["id"].as_str().unwrap();
    let request_rows: Vec<&&str> = lines.iter().filter(|l| l.contains(id)).collect();
    assert_eq!(request_rows.len(), 2, "{text}");
    assert!(
        request_rows
            .iter()
            .all(|l| l.contains("振込待ち") && l.contains(",160,1840,"))
    );
    assert_eq!(
        app.get("/api/v1/me/ledger.csv", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    app.assert_ledger_clean().await;
}

#[tokio::test]
async fn concurrent_repeats_of_one_idempotency_key_all_answer_the_first_payout() {
    let app = TestApp::spawn().await;
    let seller = seller_with_earnings(&app, 5000).await;
    register_bank(&app, &seller).await;
    let send = || {
        app.http
            .post(app.url("/api/v1/payouts"))
            .bearer_auth(&seller.token)
            .header("Idempotency-Key", "double-click")
            .json(&json!({"amount_yen": 2000}))
            .send()
    };
    // Eight twins at once: one acts, and every one answers with its payout (they answered 409
    // payout_already_requested or 422 when the first had not finished yet).
    let replies = futures::future::join_all((0..8).map(|_| send())).await;
    let mut ids = std::collections::BTreeSet::new();
    for r in replies {
        let r = r.expect("sent");
        let status = r.status();
        let body: Value = r.json().await.expect("json");
        assert_eq!(status, StatusCode::CREATED, "{body}");
        ids.insert(body["id"].as_str().expect("an id").to_string());
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(payouts_of(&app, &seller).await.len(), 1);
    let b = app.balance(&seller).await;
    assert_eq!(b["payout_pending_yen"], 2000);

    // A key whose request failed is free again: the retry runs afresh and succeeds.
    let other = seller_with_earnings(&app, 5000).await;
    let retry = || {
        app.http
            .post(app.url("/api/v1/payouts"))
            .bearer_auth(&other.token)
            .header("Idempotency-Key", "retry-me")
            .json(&json!({"amount_yen": 2000}))
            .send()
    };
    let first = retry().await.expect("sent");
    assert_eq!(first.status(), StatusCode::UNPROCESSABLE_ENTITY);
    register_bank(&app, &other).await;
    let mut second = retry().await.expect("sent");
    // The failed request frees its key just after answering; a retry that races it waits.
    for _ in 0..50 {
        if second.status() != StatusCode::CONFLICT {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        second = retry().await.expect("sent");
    }
    assert_eq!(second.status(), StatusCode::CREATED);
    app.assert_ledger_clean().await;
}
