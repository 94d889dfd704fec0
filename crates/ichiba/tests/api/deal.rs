//! The deal end to end: purchase, first reply, delivery, send-back, acceptance, timers, cancel
//! requests, the operator's dispute tool, payment, idempotency, races — with the ledger verified
//! clean at the end of each test.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

async fn say(app: &TestApp, user: &TestUser, order: &str, body: &str) -> crate::helpers::Reply {
    app.post(
        &format!("/api/v1/orders/{order}/messages"),
        Some(&user.token),
        json!({"body": body}),
    )
    .await
}

async fn deliver(app: &TestApp, seller: &TestUser, order: &str) -> crate::helpers::Reply {
    app.post(
        &format!("/api/v1/orders/{order}/deliveries"),
        Some(&seller.token),
        json!({"body": "納品いたします。ご確認をお願いいたします。"}),
    )
    .await
}

fn kinds(messages: &Value) -> Vec<String> {
    messages["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_whole_story_pays_the_seller_price_minus_22_percent() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(5000).await;
    let o = app.order(&buyer, &id).await;
    assert_eq!(o["state"], "pending_first_reply");
    assert_eq!(
        (
            o["price_yen"].as_i64(),
            o["buyer_fee_yen"].as_i64(),
            o["total_yen"].as_i64()
        ),
        (Some(5000), Some(275), Some(5275))
    );
    assert_eq!(o["policy"]["commission_rate"], "22%");
    assert_eq!(o["policy"]["buyer_fee_rate"], "5.5%");

    // The seller greets: the work starts.
    assert_eq!(
        say(
            &app,
            &seller,
            &id,
            "ご購入ありがとうございます。ヒアリングをお願いします。"
        )
        .await
        .status,
        StatusCode::CREATED
    );
    assert_eq!(app.order(&seller, &id).await["state"], "in_progress");
    assert_eq!(
        say(
            &app,
            &buyer,
            &id,
            "よろしくお願いします。イメージは青系です。"
        )
        .await
        .status,
        StatusCode::CREATED
    );
    assert_eq!(
        say(
            &app,
            &seller,
            &id,
            "進捗のご報告です。予定どおり進んでいます。"
        )
        .await
        .status,
        StatusCode::CREATED
    );

    // Delivery with an attachment, send back once, deliver again, accept.
    let upload = app
        .upload(&seller, "logo.png", b"\x89PNG fake image".to_vec())
        .await;
    let r = app
        .post(
            &format!("/api/v1/orders/{id}/deliveries"),
            Some(&seller.token),
            json!({"body": "納品いたします。", "attachment_ids": [upload["id"]]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    assert_eq!(r.body["state"], "delivered");
    assert!(r.body["accept_deadline_at"].is_string());
    let r = app
        .post(
            &format!("/api/v1/orders/{id}/send-back"),
            Some(&buyer.token),
            json!({"reason": "色味をもう少し明るくしてください。"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["state"], "in_progress");
    assert_eq!(r.body["send_backs_used"], 1);
    assert_eq!(
        deliver(&app, &seller, &id).await.status,
        StatusCode::CREATED
    );
    let r = app
        .post(
            &format!("/api/v1/orders/{id}/accept"),
            Some(&buyer.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["state"], "completed");

    // Money: seller 5000 − 1100; platform 1100 + 275; the buyer's attachment is visible to both.
    assert_eq!(app.balance(&seller).await["earnings_yen"], 3900);
    let ledger = app.get("/api/v1/me/ledger", Some(&seller.token)).await;
    assert_eq!(ledger.body["items"][0]["code"], "release");
    assert_eq!(ledger.body["items"][0]["amount_yen"], 3900);
    assert_eq!(ledger.body["items"][0]["order_id"], id.as_str());
    let revenue = {
        let mut conn = app.state.db.pool().acquire().await.unwrap();
        ichiba::ledger::store::balance(&mut conn, &ichiba::ledger::AccountRef::PlatformRevenue)
            .await
            .unwrap()
    };
    assert_eq!(revenue, 1375);
    let file = app
        .http
        .get(app.url(&format!(
            "/api/v1/attachments/{}",
            upload["id"].as_str().unwrap()
        )))
        .bearer_auth(&buyer.token)
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), StatusCode::OK);

    // The talk room shows the whole conversation with system messages, and is now read-only.
    let m = app
        .get(&format!("/api/v1/orders/{id}/messages"), Some(&buyer.token))
        .await;
    let k = kinds(&m.body);
    assert_eq!(k.first().map(String::as_str), Some("system"));
    assert_eq!(k.iter().filter(|k| *k == "delivery").count(), 2);
    assert!(
        m.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["body"].as_str().unwrap().contains("【差し戻し】"))
    );
    assert_eq!(
        m.body["items"].as_array().unwrap().last().unwrap()["kind"],
        "system"
    );
    let closed = say(&app, &buyer, &id, "ありがとうございました").await;
    assert_eq!(closed.status, StatusCode::CONFLICT);
    assert_eq!(closed.code(), "talk_room_closed");

    // Operators verify the ledger through the API.
    let op = app.operator("op").await;
    let v = app
        .get("/api/v1/admin/ledger/verify", Some(&op.token))
        .await;
    assert_eq!(v.body["ok"], true, "{v:?}");
    assert_eq!(v.body["imbalance_yen"], 0);
    assert_eq!(
        app.get("/api/v1/admin/ledger/verify", Some(&seller.token))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    app.assert_ledger_clean().await;
}

#[tokio::test]
async fn options_add_to_the_price_and_the_due_date() {
    let app = TestApp::spawn().await;
    let seller = app.user("seller").await;
    let buyer = app.user("buyer").await;
    let mut body = crate::helpers::listing_body("ロゴデザインを作成します", 10000);
    body["options"] = json!([{"title": "特急", "price_yen": 3000, "extra_days": 0}, {"title": "追加案", "price_yen": 2000, "extra_days": 3}]);
    let listing = app
        .post("/api/v1/listings", Some(&seller.token), body)
        .await
        .body;
    let opt = listing["options"][1]["id"].clone();
    let r = app
        .post(
            "/api/v1/orders",
            Some(&buyer.token),
            json!({"listing_id": listing["id"], "option_ids": [opt]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    assert_eq!(r.body["options_yen"], 2000);
    assert_eq!(r.body["buyer_fee_yen"], 660); // 5.5 % of 12,000
    assert_eq!(r.body["total_yen"], 12660);
    let purchased = ichiba::clock::parse_rfc3339(r.body["purchased_at"].as_str().unwrap()).unwrap();
    let due = ichiba::clock::parse_rfc3339(r.body["due_at"].as_str().unwrap()).unwrap();
    assert_eq!((due - purchased) / 1000, (7 + 3) * DAY);
    let bad = app
        .post(
            "/api/v1/orders",
            Some(&buyer.token),
            json!({"listing_id": listing["id"], "option_ids": ["nope"]}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.code(), "unknown_option");
    let own = app
        .post(
            "/api/v1/orders",
            Some(&seller.token),
            json!({"listing_id": listing["id"]}),
        )
        .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);
    app.assert_ledger_clean().await;
}

#[tokio::test]
async fn without_a_first_reply_in_48_hours_the_order_cancels_and_refunds() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(3000).await;
    app.advance(24 * HOUR).await;
    let n = app
        .get("/api/v1/me/notifications", Some(&seller.token))
        .await;
    assert!(
        n.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["kind"] == "first_reply_reminder"),
        "{n:?}"
    );
    app.advance(24 * HOUR).await;
    let o = app.order(&buyer, &id).await;
    assert_eq!(o["state"], "cancelled");
    assert_eq!(
        o["cancellation"],
        json!({"reason_code": "no_first_reply", "fault": "seller", "by": "system"})
    );
    let m = app
        .get(&format!("/api/v1/orders/{id}/messages"), Some(&buyer.token))
        .await;
    assert!(
        m.body["items"].as_array().unwrap().iter().any(
            |x| x["kind"] == "system" && x["body"].as_str().unwrap().contains("自動キャンセル")
        )
    );
    assert_eq!(app.balance(&seller).await["earnings_yen"], 0);
    app.assert_ledger_clean().await;
}

#[tokio::test]
async fn a_reply_at_47_hours_keeps_the_order_alive() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(3000).await;
    app.advance(47 * HOUR).await;
    assert_eq!(
        say(&app, &seller, &id, "ご連絡が遅くなり申し訳ございません。")
            .await
            .status,
        StatusCode::CREATED
    );
    app.advance(2 * HOUR).await;
    assert_eq!(app.order(&buyer, &id).await["state"], "in_progress");
    app.assert_ledger_clean().await;
}

#[tokio::test]
async fn a_delivery_is_accepted_automatically_after_72_hours_with_a_reminder_at_48() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(10000).await;
    assert_eq!(
        deliver(&app, &seller, &id).await.status,
        StatusCode::CREATED
    );
    app.advance(48 * HOUR).await;
    let n = app
        .get("/api/v1/me/notifications", Some(&buyer.token))
        .await;
    assert!(
        n.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["kind"] == "accept_reminder"),
        "{n:?}"
    );
    assert_eq!(app.order(&buyer, &id).await["state"], "delivered");
    let r = app
        .post(
            "/api/v1/dev/clock",
            None,
            json!({"advance_seconds": 24 * HOUR}),
        )
        .await;
    assert!(r.body["timers_fired"].as_u64().unwrap() >= 1);
    let o = app.order(&buyer, &id).await;
    assert_eq!(o["state"], "completed");
    assert_eq!(app.balance(&seller).await["earnings_yen"], 7800);
    app.assert_ledger_clean().await;
}

#[tokio::test]
async fn a_second_send_back_is_refused() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(3000).await;
    deliver(&app, &seller, &id).await;
    let send_back_path = format!("/api/v1/orders/{id}/send-back");
    let send_back = || {
        app.post(
            &send_back_path,
            Some(&buyer.token),
            json!({"reason": "修正をお願いします"}),
        )
    };
    assert_eq!(send_back().await.status, StatusCode::OK);
    deliver(&app, &seller, &id).await;
    let r = send_back().await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "send_back_limit_reached");
    assert_eq!(app.order(&buyer, &id).await["state"], "delivered");
    app.assert_ledger_clean().await;
}

#[tokio::test]
async fn only_the_buyer_accepts_and_strangers_see_nothing() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(3000).await;
    let upload = app
        .upload(&seller, "draft.pdf", b"%PDF-1.4 draft".to_vec())
        .await;
    app.post(
        &format!("/api/v1/orders/{id}/deliveries"),
        Some(&seller.token),
        json!({"body": "納品します", "attachment_ids": [upload["id"]]}),
    )
    .await;
    let r = app
        .post(
            &format!("/api/v1/orders/{id}/accept"),
            Some(&seller.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let stranger = app.user("stranger").await;
    for path in [
        format!("/api/v1/orders/{id}"),
        format!("/api/v1/orders/{id}/messages"),
        format!("/api/v1/attachments/{}", upload["id"].as_str().unwrap()),
    ] {
        assert_eq!(
            app.get(&path, Some(&stranger.token)).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let r = app
        .post(
            &format!("/api/v1/orders/{id}/accept"),
            Some(&stranger.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        say(&app, &stranger, &id, "こんにちは").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.order(&buyer, &id).await["state"], "delivered");
    // A stranger cannot attach someone else's upload to their own message either.
    let other = app.user("other").await;
    let dm = app.post("/api/v1/direct-messages", Some(&stranger.token), json!({"to_user_id": other.id, "body": "見てください", "attachment_ids": [upload["id"]]})).await;
    assert_eq!(dm.status, StatusCode::UNPROCESSABLE_ENTITY);
    app.assert_ledger_clean().await;
}

#[tokio::test]
async fn only_the_seller_changes_the_due_date_and_the_change_is_kept() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(3000).await;
    let new_due = ichiba::clock::to_rfc3339(app.state.clock.now_ms() + 10 * DAY * 1000);
    let path = format!("/api/v1/orders/{id}/due-date");
    let r = app
        .send_put(&path, &buyer, json!({"due_at": new_due}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
    let r = app
        .send_put(&path, &seller, json!({"due_at": new_due}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["due_at"], new_due.as_str());
    let h = app
        .get(&format!("/api/v1/orders/{id}/history"), Some(&buyer.token))
        .await;
    assert_eq!(h.body["items"][0]["kind"], "due_date_changed");
    assert_eq!(h.body["items"][0]["detail"]["to_at"], new_due.as_str());
    let n = app
        .get("/api/v1/me/notifications", Some(&buyer.token))
        .await;
    assert!(
        n.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["kind"] == "due_date_changed")
    );
    let past = app
        .send_put(
            &path,
            &seller,
            json!({"due_at": "2020-01-01T00:00:00+09:00"}),
        )
        .await;
    assert_eq!(past.status, StatusCode::UNPROCESSABLE_ENTITY);
    let garbage = app
        .send_put(&path, &seller, json!({"due_at": "来週"}))
        .await;
    assert_eq!(garbage.status, StatusCode::UNPROCESSABLE_ENTITY);
    app.assert_ledger_clean().await;
}

#[tokio::test]
async fn an_overdue_order_is_marked_late_and_both_parties_are_told() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(3000).await;
    say(&app, &seller, &id, "よろしくお願いします").await;
    app.advance(8 * DAY).await;
    assert_eq!(app.order(&buyer, &id).await["late"], true);
    for u in [&buyer, &seller] {
        let n = app.get("/api/v1/me/notifications", Some(&u.token)).await;
        assert!(
            n.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["kind"] == "overdue")
        );
    }
    app.assert_ledger_clean().await;
}

#[tokio::test]
async fn a_cancel_request_can_be_accepted_rejected_or_left_to_expire() {
    let app = TestApp::spawn().await;
    for outcome in ["accept", "reject", "expire"] {
        let (seller, buyer, id) = app.deal(4000).await;
        say(&app, &seller, &id, "よろしくお願いします").await;
        let r = app
            .post(
                &format!("/api/v1/orders/{id}/cancel-requests"),
                Some(&seller.token),
                json!({"reason_code": "seller_reason", "note": "体調不良のため"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        assert_eq!(r.body["reason_code"], "seller_reason");
        assert_eq!(r.body["fault"], "seller");
        let again = app
            .post(
                &format!("/api/v1/orders/{id}/cancel-requests"),
                Some(&buyer.token),
                json!({"reason_code": "schedule_mismatch"}),
            )
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        // The filer cannot answer their own request.
        let own = app
            .post(
                &format!("/api/v1/orders/{id}/cancel-requests/current/accept"),
                Some(&seller.token),
                json!({}),
            )
            .await;
        assert_eq!(own.status, StatusCode::FORBIDDEN);
        match outcome {
            "accept" => {
                let r = app
                    .post(
                        &format!("/api/v1/orders/{id}/cancel-requests/current/accept"),
                        Some(&buyer.token),
                        json!({}),
                    )
                    .await;
                assert_eq!(r.body["state"], "cancelled");
                assert_eq!(
                    r.body["cancellation"],
                    json!({"reason_code": "seller_reason", "fault": "seller", "by": "seller"})
                );
            }
            "reject" => {
                let r = app
                    .post(
                        &format!("/api/v1/orders/{id}/cancel-requests/current/reject"),
                        Some(&buyer.token),
                        json!({}),
                    )
                    .await;
                assert_eq!(r.body["state"], "in_progress");
                assert_eq!(r.body["cancel_request"], Value::Null);
                app.advance(25 * HOUR).await;
                assert_eq!(
                    app.order(&buyer, &id).await["state"],
                    "in_progress",
                    "a rejected request does not expire into a cancel"
                );
            }
            _ => {
                app.advance(23 * HOUR).await;
                assert_eq!(app.order(&buyer, &id).await["state"], "in_progress");
                app.advance(2 * HOUR).await;
                let o = app.order(&buyer, &id).await;
                assert_eq!(o["state"], "cancelled");
                assert_eq!(o["cancellation"]["fault"], "seller");
            }
        }
    }
    app.assert_ledger_clean().await;
}

#[tokio::test]
async fn the_buyer_may_cancel_only_after_four_days_of_seller_silence() {
    let app = TestApp::spawn().await;
    let seller = app.user("seller").await;
    let buyer = app.user("buyer").await;
    let mut body = crate::helpers::listing_body("長期の制作サービスです", 5000);
    body["delivery_days"] = json!(30);
    let listing = app
        .post("/api/v1/listings", Some(&seller.token), body)
        .await
        .body;
    let id = app
        .post(
            "/api/v1/orders",
            Some(&buyer.token),
            json!({"listing_id": listing["id"]}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    say(&app, &seller, &id, "よろしくお願いします").await;
    say(&app, &buyer, &id, "進捗はいかがでしょうか").await;
    let cancel_path = format!("/api/v1/orders/{id}/cancel-requests");
    let file = || {
        app.post(
            &cancel_path,
            Some(&buyer.token),
            json!({"reason_code": "seller_unresponsive"}),
        )
    };
    app.advance(3 * DAY).await;
    let r = file().await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{r:?}");
    assert_eq!(r.code(), "cancel_not_allowed_yet");
    app.advance(DAY).await;
    let r = file().await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    // A reason the buyer may not choose is refused.
    let wrong = app
        .post(
            &format!("/api/v1/orders/{id}/cancel-requests/current/withdraw"),
            Some(&buyer.token),
            json!({}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::OK);
    let r = app
        .post(
            &format!("/api/v1/orders/{id}/cancel-requests"),
            Some(&buyer.token),
            json!({"reason_code": "buyer_unreachable"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    app.assert_ledger_clean().await;
}

#[tokio::test]
async fn after_120_days_an_open_order_completes_and_pays_the_seller() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(20000).await;
    say(&app, &seller, &id, "よろしくお願いします").await;
    let due = ichiba::clock::to_rfc3339(app.state.clock.now_ms() + 110 * DAY * 1000);
    assert_eq!(
        app.send_put(
            &format!("/api/v1/orders/{id}/due-date"),
            &seller,
            json!({"due_at": due})
        )
        .await
        .status,
        StatusCode::OK
    );
    app.advance(114 * DAY).await;
    // Sessions last 30 days: log in again after the long jump.
    let buyer_token = app.login(&buyer.email, "password-123").await;
    let seller_token = app.login(&seller.email, "password-123").await;
    let (buyer, seller) = (
        crate::helpers::TestUser {
            token: buyer_token,
            ..buyer
        },
        crate::helpers::TestUser {
            token: seller_token,
            ..seller
        },
    );
    let n = app
        .get("/api/v1/me/notifications", Some(&buyer.token))
        .await;
    assert!(
        n.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["kind"] == "room_cap_reminder")
    );
    app.advance(6 * DAY).await;
    let o = app.order(&buyer, &id).await;
    assert_eq!(o["state"], "completed");
    assert_eq!(app.balance(&seller).await["earnings_yen"], 20000 - 4400);
    app.assert_ledger_clean().await;
}

#[tokio::test]
async fn an_operator_can_cancel_complete_or_settle_with_a_split() {
    let app = TestApp::spawn().await;
    let op = app.operator("operator").await;
    let (seller, buyer, id) = app.deal(10000).await;
    say(&app, &seller, &id, "よろしくお願いします").await;
    // Parties cannot use the dispute tool.
    assert_eq!(
        app.post(
            &format!("/api/v1/admin/orders/{id}/complete"),
            Some(&seller.token),
            json!({})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let bad = app
        .post(
            &format!("/api/v1/admin/orders/{id}/settle"),
            Some(&op.token),
            json!({"seller_amount_yen": 10001}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .post(
            &format!("/api/v1/admin/orders/{id}/settle"),
            Some(&op.token),
            json!({"seller_amount_yen": 6000}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["state"], "completed");
    assert_eq!(r.body["settlement_seller_yen"], 6000);
    assert_eq!(app.balance(&seller).await["earnings_yen"], 6000 - 1320);
    let h = app
        .get(&format!("/api/v1/orders/{id}/history"), Some(&op.token))
        .await;
    assert!(
        h.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "operator_settled" && e["actor"] == "operator")
    );

    let (_, buyer2, id2) = app.deal(3000).await;
    let r = app
        .post(
            &format!("/api/v1/admin/orders/{id2}/cancel"),
            Some(&op.token),
            json!({}),
        )
        .await;
    assert_eq!(
        r.body["cancellation"],
        json!({"reason_code": "operator", "fault": "none", "by": "operator"})
    );
    let (seller3, _, id3) = app.deal(3000).await;
    let r = app
        .post(
            &format!("/api/v1/admin/orders/{id3}/complete"),
            Some(&op.token),
            json!({}),
        )
        .await;
    assert_eq!(r.body["state"], "completed");
    assert_eq!(app.balance(&seller3).await["earnings_yen"], 3000 - 660);
    let _ = (buyer, buyer2);
    app.assert_ledger_clean().await;
}

#[tokio::test]
async fn a_declined_payment_creates_nothing() {
    let app = TestApp::spawn().await;
    let seller = app.user("seller").await;
    let buyer = app.user("buyer").await;
    let listing = app.listing(&seller, 3000).await;
    let r = app
        .post(
            "/api/v1/orders",
            Some(&buyer.token),
            json!({"listing_id": listing["id"], "payment_token": "tok_decline"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(r.code(), "payment_declined");
    assert_eq!(
        app.get("/api/v1/orders", Some(&buyer.token)).await.body["items"],
        json!([])
    );
    assert_eq!(
        app.get("/api/v1/me/notifications", Some(&seller.token))
            .await
            .body["items"],
        json!([])
    );
    let v = ichiba::ledger::verify(&app.state.db).await.unwrap();
    assert_eq!(v.transfers, 0);
    let points = app
        .post(
            "/api/v1/orders",
            Some(&buyer.token),
            json!({"listing_id": listing["id"], "use_points": 100}),
        )
        .await;
    assert_eq!(points.code(), "insufficient_points");
}

#[tokio::test]
async fn a_repeated_idempotency_key_returns_the_first_order() {
    let app = TestApp::spawn().await;
    let seller = app.user("seller").await;
    let buyer = app.user("buyer").await;
    let listing = app.listing(&seller, 3000).await;
    let buy = |body: Value| {
        app.http
            .post(app.url("/api/v1/orders"))
            .bearer_auth(&buyer.token)
            .header("Idempotency-Key", "order-1")
            .json(&body)
            .send()
    };
    let a = buy(json!({"listing_id": listing["id"]})).await.unwrap();
    assert_eq!(a.status(), StatusCode::CREATED);
    let a: Value = a.json().await.unwrap();
    let b = buy(json!({"listing_id": listing["id"]})).await.unwrap();
    assert_eq!(b.status(), StatusCode::CREATED);
    let b: Value = b.json().await.unwrap();
    assert_eq!(a["id"], b["id"]);
    let c = buy(json!({"listing_id": listing["id"], "option_ids": []  , "use_points": 0, "payment_token": "tok_other"})).await.unwrap();
    assert_eq!(c.status(), StatusCode::CONFLICT);
    assert_eq!(
        app.get("/api/v1/orders?role=buyer", Some(&buyer.token))
            .await
            .body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    app.assert_ledger_clean().await;
}

#[tokio::test]
async fn two_simultaneous_accepts_release_the_escrow_once() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(8000).await;
    deliver(&app, &seller, &id).await;
    let path = format!("/api/v1/orders/{id}/accept");
    let (a, b) = tokio::join!(
        app.post(&path, Some(&buyer.token), json!({})),
        app.post(&path, Some(&buyer.token), json!({}))
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{a:?} {b:?}");
    assert_eq!(app.balance(&seller).await["earnings_yen"], 8000 - 1760);
    app.assert_ledger_clean().await;
}

#[tokio::test]
async fn the_buyers_accept_racing_the_auto_accept_timer_releases_once() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(8000).await;
    deliver(&app, &seller, &id).await;
    app.advance(71 * HOUR).await;
    let accept_path = format!("/api/v1/orders/{id}/accept");
    let accept = app.post(&accept_path, Some(&buyer.token), json!({}));
    let tick = app.post(
        "/api/v1/dev/clock",
        None,
        json!({"advance_seconds": 2 * HOUR}),
    );
    let (a, t) = tokio::join!(accept, tick);
    assert!(
        a.status == StatusCode::OK || a.status == StatusCode::CONFLICT,
        "{a:?}"
    );
    assert_eq!(t.status, StatusCode::OK);
    assert_eq!(app.order(&buyer, &id).await["state"], "completed");
    assert_eq!(app.balance(&seller).await["earnings_yen"], 8000 - 1760);
    app.assert_ledger_clean().await;
}

#[tokio::test]
async fn concurrent_purchases_spread_the_gateway_over_shards_whose_sum_is_its_balance() {
    let app = TestApp::spawn().await;
    let (_seller, buyer, first) = app.deal(3000).await;
    let listing = app.order(&buyer, &first).await["listing_id"]
        .as_str()
        .expect("listing id")
        .to_string();
    // No points: the card pays the whole total.
    let charged = app.order(&buyer, &first).await["total_yen"]
        .as_i64()
        .expect("total");
    // Twelve more purchases at once: none may fail on the shared platform rows.
    let buys = (0..12).map(|_| app.purchase(&buyer, &listing));
    let ids = futures::future::join_all(buys).await;
    assert_eq!(ids.len(), 12);

    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT id, balance_yen FROM ledger_accounts WHERE kind = 'gateway' ORDER BY id",
    )
    .fetch_all(app.state.db.pool())
    .await
    .expect("gateway rows");
    assert!(rows.len() > 1, "one row for every purchase: {rows:?}");
    assert!(
        rows.iter()
            .all(|(id, _)| id.starts_with("external:gateway:")),
        "{rows:?}"
    );
    let sum: i64 = rows.iter().map(|(_, b)| b).sum();
    assert_eq!(sum, -13 * charged, "{rows:?}");
    let balance = {
        let mut conn = app.state.db.pool().acquire().await.expect("conn");
        ichiba::ledger::store::balance(&mut conn, &ichiba::ledger::AccountRef::Gateway)
            .await
            .expect("balance")
    };
    assert_eq!(balance, sum);
    app.assert_ledger_clean().await;
}
