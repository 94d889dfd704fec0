//! Contact-guard enforcement: the 422 shape, nothing blocked is stored, the strike ladder with the
//! dev clock, talk rooms stay usable while restricted, appeals, and the operator's lift.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, TestUser};

const HOUR: i64 = 3600;

async fn dm(app: &TestApp, from: &TestUser, to: &TestUser, body: &str) -> crate::helpers::Reply {
    app.post(
        "/api/v1/direct-messages",
        Some(&from.token),
        json!({"to_user_id": to.id, "body": body}),
    )
    .await
}

#[tokio::test]
async fn a_blocked_talk_room_message_gets_the_documented_422_and_is_not_stored() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(3000).await;
    let text = "ご購入ありがとうございます。詳細はLINEで！ID: hinata_design です";
    let r = app
        .post(
            &format!("/api/v1/orders/{id}/messages"),
            Some(&seller.token),
            json!({"body": text}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.code(), "off_platform_contact");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("添付ファイル")
    );
    let f = &r.body["error"]["details"]["findings"][0];
    assert_eq!(f["kind"], "line");
    let (start, end) = (
        f["start"].as_u64().unwrap() as usize,
        f["end"].as_u64().unwrap() as usize,
    );
    let excerpt: String = text.chars().skip(start).take(end - start).collect();
    assert_eq!(
        f["excerpt"],
        excerpt.as_str(),
        "spans are character offsets into the text"
    );
    assert_eq!(r.body["error"]["details"]["strikes_24h"], 1);
    assert_eq!(
        r.body["error"]["details"]["appeal_url"],
        "/api/v1/guard/appeals"
    );
    // Nothing was stored or delivered, and the order did not start.
    let m = app
        .get(&format!("/api/v1/orders/{id}/messages"), Some(&buyer.token))
        .await;
    assert!(
        m.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| !x["body"].as_str().unwrap().contains("hinata"))
    );
    assert_eq!(app.order(&buyer, &id).await["state"], "pending_first_reply");
    let violations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM guard_violations")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(violations, 1);
    let stored_text: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM guard_violations WHERE findings_json LIKE '%hinata%' OR context_json LIKE '%hinata%'")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(stored_text, 0, "the violation record keeps no text");
}

#[tokio::test]
async fn every_text_a_user_writes_is_screened_and_topics_are_not_contacts() {
    let app = TestApp::spawn().await;
    let user = app.user("writer").await;
    let other = app.user("other").await;
    let blocked = [
        app.post("/api/v1/listings", Some(&user.token), crate::helpers::listing_body("連絡は seller.hinata@gmail.com へ", 3000)).await,
        app.patch("/api/v1/me", Some(&user.token), json!({"bio": "インスタ @hinata_works でDMください"})).await,
        dm(&app, &user, &other, "直接取引なら手数料なしで半額にできます。090-1234-5678 に電話ください").await,
        app.post("/api/v1/users", None, json!({"email": "x@example.jp", "password": "password-123", "display_name": "LINE ID:abc123"})).await,
    ];
    for r in &blocked {
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
        assert_eq!(r.code(), "off_platform_contact");
    }
    let fine = app
        .post(
            "/api/v1/listings",
            Some(&other.token),
            crate::helpers::listing_body("LINEスタンプ制作とオンライン打ち合わせ対応", 3000),
        )
        .await;
    assert_eq!(fine.status, StatusCode::CREATED, "{fine:?}");
    let fine = dm(
        &app,
        &other,
        &user,
        "ガイドラインに沿って、デッドラインまでに納品します。",
    )
    .await;
    assert_eq!(fine.status, StatusCode::CREATED, "{fine:?}");
}

#[tokio::test]
async fn three_blocks_restrict_for_24_hours_but_open_talk_rooms_keep_working() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(3000).await;
    let other = app.user("other").await;
    for i in 1..=3 {
        let r = dm(
            &app,
            &seller,
            &other,
            "LINE交換しませんか？ID: hinata_design",
        )
        .await;
        assert_eq!(r.body["error"]["details"]["strikes_24h"], i);
    }
    let me = app.get("/api/v1/me", Some(&seller.token)).await;
    assert_eq!(me.body["restriction"]["kind"], "restricted", "{me:?}");
    assert!(me.body["restriction"]["until_at"].is_string());
    let r = dm(&app, &seller, &other, "こんにちは").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.code(), "restricted");
    let r = app
        .post(
            "/api/v1/listings",
            Some(&seller.token),
            crate::helpers::listing_body("新しいサービスです", 3000),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // The open deal goes on, still guarded.
    let r = app
        .post(
            &format!("/api/v1/orders/{id}/messages"),
            Some(&seller.token),
            json!({"body": "ご購入ありがとうございます。"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = app
        .post(
            &format!("/api/v1/orders/{id}/messages"),
            Some(&seller.token),
            json!({"body": "メールは hinata@gmail.com です"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let n = app
        .get("/api/v1/me/notifications", Some(&seller.token))
        .await;
    assert!(
        n.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["kind"] == "restricted")
    );
    app.advance(25 * HOUR).await;
    assert_eq!(
        app.get("/api/v1/me", Some(&seller.token)).await.body["restriction"],
        json!(null)
    );
    assert_eq!(
        dm(&app, &seller, &other, "先日は失礼しました。")
            .await
            .status,
        StatusCode::CREATED
    );
    let _ = buyer;
}

#[tokio::test]
async fn three_restrictions_in_30_days_suspend_until_an_operator_lifts_it() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(3000).await;
    let other = app.user("other").await;
    let greet = app
        .post(
            &format!("/api/v1/orders/{id}/messages"),
            Some(&seller.token),
            json!({"body": "よろしくお願いします。"}),
        )
        .await;
    assert_eq!(greet.status, StatusCode::CREATED);
    for round in 0..3 {
        for _ in 0..3 {
            dm(
                &app,
                &seller,
                &other,
                "PayPayで直接払ってくれたら安くします",
            )
            .await;
        }
        if round < 2 {
            app.advance(25 * HOUR).await;
        }
    }
    let me = app.get("/api/v1/me", Some(&seller.token)).await;
    assert_eq!(me.body["restriction"]["kind"], "suspended", "{me:?}");
    let r = dm(&app, &seller, &other, "こんにちは").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "account_suspended");
    let listing = app.listing(&other, 3000).await;
    let r = app
        .post(
            "/api/v1/orders",
            Some(&seller.token),
            json!({"listing_id": listing["id"]}),
        )
        .await;
    assert_eq!(r.code(), "account_suspended");
    // The suspended seller can still finish the open order.
    assert_eq!(
        app.post(
            &format!("/api/v1/orders/{id}/deliveries"),
            Some(&seller.token),
            json!({"body": "納品いたします。"})
        )
        .await
        .status,
        StatusCode::CREATED
    );
    assert_eq!(
        app.post(
            &format!("/api/v1/orders/{id}/accept"),
            Some(&buyer.token),
            json!({})
        )
        .await
        .status,
        StatusCode::OK
    );

    let op = app.operator("operator").await;
    assert_eq!(
        app.post(
            &format!("/api/v1/admin/users/{}/sanctions/lift", seller.id),
            Some(&seller.token),
            json!({})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let r = app
        .post(
            &format!("/api/v1/admin/users/{}/sanctions/lift", seller.id),
            Some(&op.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert!(r.body["lifted"].as_u64().unwrap() >= 1);
    assert_eq!(
        app.get("/api/v1/me", Some(&seller.token)).await.body["restriction"],
        json!(null)
    );
    assert_eq!(
        dm(&app, &seller, &other, "ご迷惑をおかけしました。")
            .await
            .status,
        StatusCode::CREATED
    );
    let audits: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action IN ('restrict', 'suspend', 'lift_sanctions')",
    )
    .fetch_one(app.state.db.pool())
    .await
    .unwrap();
    assert_eq!(audits, 3 + 1 + 1);
    app.assert_ledger_clean().await;
}

#[tokio::test]
async fn an_allowed_appeal_delivers_the_message_and_removes_the_strike_an_upheld_one_does_not() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(3000).await;
    app.post(
        &format!("/api/v1/orders/{id}/messages"),
        Some(&seller.token),
        json!({"body": "よろしくお願いします。"}),
    )
    .await;
    // An e-mail address that is the content of the work (text for the client's own form), not a
    // contact between the parties: blocked, then allowed by an operator on appeal.
    let text = "フォームの自動返信文に、弊社窓口 info@example.co.jp を記載してください";
    let r = app
        .post(
            &format!("/api/v1/orders/{id}/messages"),
            Some(&buyer.token),
            json!({"body": text}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    let appeal = app
        .post(
            "/api/v1/guard/appeals",
            Some(&buyer.token),
            json!({"text": text, "context": {"kind": "order_message", "order_id": id}}),
        )
        .await;
    assert_eq!(appeal.status, StatusCode::CREATED, "{appeal:?}");
    let op = app.operator("operator").await;
    assert_eq!(
        app.get("/api/v1/admin/guard/appeals", Some(&buyer.token))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let q = app
        .get("/api/v1/admin/guard/appeals?state=pending", Some(&op.token))
        .await;
    assert_eq!(q.body["items"][0]["text"], text);
    let aid = appeal.body["id"].as_str().unwrap();
    let d = app
        .post(
            &format!("/api/v1/admin/guard/appeals/{aid}/decide"),
            Some(&op.token),
            json!({"decision": "allow", "note": "参考サイトの共有のため問題なし"}),
        )
        .await;
    assert_eq!(d.status, StatusCode::OK, "{d:?}");
    assert_eq!(d.body["state"], "allowed");
    let again = app
        .post(
            &format!("/api/v1/admin/guard/appeals/{aid}/decide"),
            Some(&op.token),
            json!({"decision": "uphold"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let m = app
        .get(
            &format!("/api/v1/orders/{id}/messages"),
            Some(&seller.token),
        )
        .await;
    let delivered = m.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["body"] == text)
        .cloned();
    assert_eq!(
        delivered.map(|x| x["author_id"].clone()),
        Some(json!(buyer.id))
    );
    let strikes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM guard_violations WHERE voided = 0")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(strikes, 0, "the strike is removed");
    let n = app
        .get("/api/v1/me/notifications", Some(&buyer.token))
        .await;
    assert!(
        n.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["kind"] == "appeal_decided")
    );

    let text2 = "LINEでやりとりしましょう ID: buyer_1234";
    app.post(
        &format!("/api/v1/orders/{id}/messages"),
        Some(&buyer.token),
        json!({"body": text2}),
    )
    .await;
    let appeal = app
        .post(
            "/api/v1/guard/appeals",
            Some(&buyer.token),
            json!({"text": text2, "context": {"kind": "order_message", "order_id": id}}),
        )
        .await;
    let aid = appeal.body["id"].as_str().unwrap();
    let d = app
        .post(
            &format!("/api/v1/admin/guard/appeals/{aid}/decide"),
            Some(&op.token),
            json!({"decision": "uphold", "note": "LINE ID の交換"}),
        )
        .await;
    assert_eq!(d.body["state"], "upheld");
    let m = app
        .get(
            &format!("/api/v1/orders/{id}/messages"),
            Some(&seller.token),
        )
        .await;
    assert!(
        m.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["body"] != text2)
    );
    let strikes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM guard_violations WHERE voided = 0")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(strikes, 1);
}

#[tokio::test]
async fn the_standard_templates_are_never_blocked() {
    let app = TestApp::spawn().await;
    let (seller, _buyer, id) = app.deal(3000).await;
    let list = app.get("/api/v1/me/templates", Some(&seller.token)).await;
    for t in list.body["items"].as_array().unwrap() {
        let tid = t["id"].as_str().unwrap();
        let rendered = app
            .post(
                &format!("/api/v1/orders/{id}/templates/{tid}/render"),
                Some(&seller.token),
                json!({}),
            )
            .await;
        let r = app
            .post(
                &format!("/api/v1/orders/{id}/messages"),
                Some(&seller.token),
                json!({"body": rendered.body["body"]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}: {r:?}", t["title"]);
    }
}
