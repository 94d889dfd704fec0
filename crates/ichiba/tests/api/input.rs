//! Bad input never reaches a feature: one character rule for every text (control characters
//! refused with the field named, `\r\n` stored as `\n`, invisible-only names empty), and every
//! rejection of a body, query, path or upload in the API's error shape under `/api/` and as the
//! web app's error page elsewhere — the same on SQLite and PostgreSQL (which cannot store U+0000
//! and answered 500 before).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{CSRF, TestApp, client, cookies, get, listing_body, page, post_form};

/// Asserts a 422 `validation_failed` naming `field` with code `invalid_characters`.
fn assert_refused(what: &str, status: StatusCode, body: &Value, field: &str) {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {body}");
    assert_eq!(body["error"]["code"], "validation_failed", "{what}: {body}");
    let fields = body["error"]["details"]["fields"]
        .as_array()
        .expect("fields");
    assert!(
        fields
            .iter()
            .any(|f| f["field"] == field && f["code"] == "invalid_characters"),
        "{what}: {body}"
    );
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty() && !message.is_ascii(), "{what}: {body}");
}

#[tokio::test]
async fn control_characters_are_refused_in_every_text_field_naming_the_field() {
    let app = TestApp::spawn().await;
    let (seller, buyer, order) = app.deal(5000).await;
    let o = format!("/api/v1/orders/{order}");
    let listing = app.listing(&seller, 3000).await;
    let listing_id = listing["id"].as_str().unwrap();
    let (s, b) = (Some(seller.token.as_str()), Some(buyer.token.as_str()));
    let mut bad_listing = listing_body("ロゴデザインを作成します", 5000);
    bad_listing["options"] = json!([{"title": "特急\u{7f}", "price_yen": 1000, "extra_days": 0}]);
    // (what, path, token, body, field): every text a user can send, each with one refused
    // character (NUL, U+0001, DEL or a C1 control).
    let cases: Vec<(&str, String, Option<&str>, Value, &str)> = vec![
        (
            "sign-up e-mail",
            "/api/v1/users".into(),
            None,
            json!({"email": "a\u{0}b@example.jp", "password": "password-123", "display_name": "x"}),
            "email",
        ),
        (
            "sign-up name",
            "/api/v1/users".into(),
            None,
            json!({"email": "n@example.jp", "password": "password-123", "display_name": "山田\u{1}"}),
            "display_name",
        ),
        (
            "login e-mail",
            "/api/v1/sessions".into(),
            None,
            json!({"email": "a\u{0}@example.jp", "password": "password-123"}),
            "email",
        ),
        (
            "listing option",
            "/api/v1/listings".into(),
            s,
            bad_listing,
            "options[0].title",
        ),
        (
            "talk-room message",
            format!("{o}/messages"),
            s,
            json!({"body": "こんにちは\u{0}"}),
            "body",
        ),
        (
            "delivery",
            format!("{o}/deliveries"),
            s,
            json!({"body": "納品です\u{0}"}),
            "body",
        ),
        (
            "send-back reason",
            format!("{o}/send-back"),
            b,
            json!({"reason": "修正\u{0}"}),
            "reason",
        ),
        (
            "cancel note",
            format!("{o}/cancel-requests"),
            b,
            json!({"reason_code": "buyer_reason", "note": "\u{85}"}),
            "note",
        ),
        (
            "review",
            format!("{o}/reviews"),
            b,
            json!({"public_rating": 5, "private_rating": 5, "comment": "良い\u{0}"}),
            "comment",
        ),
        (
            "direct message",
            "/api/v1/direct-messages".into(),
            b,
            json!({"to_user_id": seller.id, "body": "質問\u{0}"}),
            "body",
        ),
        (
            "template",
            "/api/v1/me/templates".into(),
            s,
            json!({"title": "挨拶", "body": "\u{0}"}),
            "body",
        ),
        (
            "appeal",
            "/api/v1/guard/appeals".into(),
            s,
            json!({"text": "a\u{0}", "context": {"kind": "order_message", "order_id": order}}),
            "text",
        ),
        (
            "review reply",
            "/api/v1/reviews/nope/reply".into(),
            s,
            json!({"body": "\u{0}"}),
            "body",
        ),
    ];
    for (what, path, token, body, field) in cases {
        let r = app.post(&path, token, body).await;
        assert_refused(what, r.status, &r.body, field);
    }
    let r = app
        .patch("/api/v1/me", s, json!({"bio": "よろしく\u{0}"}))
        .await;
    assert_refused("profile", r.status, &r.body, "bio");
    let r = app
        .patch(
            &format!("/api/v1/listings/{listing_id}"),
            s,
            json!({"title": "x\u{0}"}),
        )
        .await;
    assert_refused("listing edit", r.status, &r.body, "title");
    let r = app.get("/api/v1/listings?q=%00", None).await;
    assert_refused("search", r.status, &r.body, "q");
    let r = app.get("/api/v1/listings?q=%C2%9F", None).await;
    assert_refused("search (C1)", r.status, &r.body, "q");
    // Nothing was stored: the talk room holds only what the deal wrote, the seller no template.
    let messages = app.get(&format!("{o}/messages"), s).await;
    assert!(
        !messages.body.to_string().contains("\\u0000"),
        "{messages:?}"
    );
    app.assert_ledger_clean().await;
}

#[tokio::test]
async fn carriage_returns_are_stored_as_line_feeds_and_tabs_kept() {
    let app = TestApp::spawn().await;
    let (seller, _buyer, order) = app.deal(5000).await;
    let r = app
        .post(
            &format!("/api/v1/orders/{order}/messages"),
            Some(&seller.token),
            json!({"body": "一行目\r\n二行目\r三行目\t終わり"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    assert_eq!(r.body["body"], "一行目\n二行目\n三行目\t終わり");
    let r = app
        .get(
            &format!("/api/v1/orders/{order}/messages"),
            Some(&seller.token),
        )
        .await;
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(
        items.last().unwrap()["body"],
        "一行目\n二行目\n三行目\t終わり"
    );
}

#[tokio::test]
async fn a_name_or_title_of_only_invisible_characters_is_required() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            "/api/v1/users",
            None,
            json!({"email": "zw@example.jp", "password": "password-123",
                   "display_name": "\u{200B}\u{200B}\u{FEFF} \u{3000}"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(
        r.body["error"]["details"]["fields"][0]["field"],
        "display_name"
    );
    assert_eq!(r.body["error"]["details"]["fields"][0]["code"], "required");
    let seller = app.user("seller").await;
    let r = app
        .post(
            "/api/v1/listings",
            Some(&seller.token),
            listing_body("\u{200B}\u{200C}\u{200D}\u{2060}", 5000),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.body["error"]["details"]["fields"][0]["field"], "title");
    assert_eq!(r.body["error"]["details"]["fields"][0]["code"], "required");
    // Inside a name they are kept (ZWJ joins an emoji family); at the ends they are trimmed.
    let r = app
        .patch(
            "/api/v1/me",
            Some(&seller.token),
            json!({"display_name": "\u{FEFF}ひなた👨\u{200D}👩\u{200D}👧\u{200B}"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let me = app.get("/api/v1/me", Some(&seller.token)).await;
    assert_eq!(me.body["display_name"], "ひなた👨\u{200D}👩\u{200D}👧");
}

#[tokio::test]
async fn every_extractor_rejection_under_api_is_in_the_error_shape() {
    let app = TestApp::spawn().await;
    let user = app.user("uploader").await;
    let shape = |what: &str, status: StatusCode, body: &Value, code: &str| {
        assert_eq!(body["error"]["code"], code, "{what}: {status} {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_ascii()),
            "{what}: {body}"
        );
        assert!(body["error"]["details"].is_object(), "{what}: {body}");
    };
    // A path segment that is not UTF-8, and one with a control character.
    for path in [
        "/api/v1/orders/%FF",
        "/api/v1/listings/a%00b",
        "/api/v1/orders/%FF/history",
    ] {
        let r = app.get(path, Some(&user.token)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}");
        shape(path, r.status, &r.body, "malformed_path");
    }
    // Multipart without a boundary, and not multipart at all.
    for content_type in ["multipart/form-data", "application/json"] {
        let r = client()
            .post(app.url("/api/v1/attachments"))
            .bearer_auth(&user.token)
            .header("content-type", content_type)
            .body("--x--")
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap_or(Value::Null);
        assert_eq!(status, StatusCode::BAD_REQUEST, "{content_type}: {body}");
        shape(content_type, status, &body, "malformed_upload");
    }
    // A JSON body of the wrong type names the field.
    let r = app
        .post(
            "/api/v1/sessions",
            None,
            json!({"email": ["x"], "password": "p"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    shape("wrong type", r.status, &r.body, "malformed_json");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("email"),
        "{r:?}"
    );
}

#[tokio::test]
async fn web_forms_queries_and_paths_refuse_control_characters_with_the_japanese_page() {
    let app = TestApp::spawn().await;
    let user = app.user("writer").await;
    let p = post_form(
        &app,
        "/profile",
        Some(&user.token),
        &[
            ("csrf", CSRF),
            ("display_name", "山田"),
            ("bio", "よろしく\u{0}"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
    assert!(p.html.contains("bio"), "{}", p.html);
    assert!(p.html.contains("制御文字"), "{}", p.html);
    let me = app.get("/api/v1/me", Some(&user.token)).await;
    assert_ne!(me.body["bio"], "よろしく\u{0}");
    let p = get(&app, "/search?q=%00", None).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
    assert!(p.html.contains("制御文字"), "{}", p.html);
    let p = get(&app, "/listings/%FF", None).await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST, "{}", p.html);
    assert!(
        p.html.contains("<html") || p.html.contains("<!DOCTYPE"),
        "{}",
        p.html
    );
    // The talk room's composer (multipart) follows the same rule.
    let (seller, _buyer, order) = app.deal(5000).await;
    let form = reqwest::multipart::Form::new()
        .text("csrf", CSRF)
        .text("body", "納品前のご連絡\u{0}");
    let r = client()
        .post(app.url(&format!("/orders/{order}/messages")))
        .header("cookie", cookies(Some(&seller.token)))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let p = page(r).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
    assert!(p.html.contains("制御文字"), "{}", p.html);
}

#[tokio::test]
async fn an_absurd_clock_advance_is_refused_and_time_keeps_working() {
    let app = TestApp::spawn().await;
    let seller = app.user("seller").await;
    let r = app
        .post(
            "/api/v1/dev/clock",
            None,
            json!({"advance_seconds": i64::MAX - 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(
        r.body["error"]["details"]["fields"][0]["field"],
        "advance_seconds"
    );
    // The clock did not wrap: what reads it still works, and a sane advance still does.
    let r = app.get("/api/v1/me/rank", Some(&seller.token)).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = app
        .post(
            "/api/v1/dev/clock",
            None,
            json!({"advance_seconds": 86_400}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
}

#[tokio::test]
async fn a_json_body_must_be_an_object_not_an_array_of_its_fields() {
    let app = TestApp::spawn().await;
    let user = app.user("writer").await;
    let before = app.get("/api/v1/me", Some(&user.token)).await;
    for body in [
        json!([null, null]),
        json!(["新しい名前", "新しい自己紹介"]),
        json!("x"),
        json!(5),
    ] {
        let r = app
            .patch("/api/v1/me", Some(&user.token), body.clone())
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {r:?}");
        assert_eq!(r.code(), "malformed_json", "{body}: {r:?}");
    }
    let after = app.get("/api/v1/me", Some(&user.token)).await;
    assert_eq!(before.body, after.body);
}
