//! Registration, login, sessions, rate limits and profiles.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn a_user_registers_logs_in_sees_their_account_and_logs_out() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            "/api/v1/users",
            None,
            json!({"email": "  Hanako@Example.JP ", "password": "password-123", "display_name": "はなこ"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    assert_eq!(r.body["display_name"], "はなこ");
    let token = app.login("hanako@example.jp", "password-123").await;
    let me = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["email"], "hanako@example.jp");
    assert_eq!(me.body["roles"], json!([]));
    assert_eq!(me.body["restriction"], json!(null));
    assert_eq!(me.body["id"], r.body["id"]);

    let out = app.delete("/api/v1/sessions/current", Some(&token)).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let after = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(after.code(), "unauthenticated");
}

#[tokio::test]
async fn a_duplicate_email_is_a_conflict_even_with_different_case() {
    let app = TestApp::spawn().await;
    let body =
        json!({"email": "taro@example.jp", "password": "password-123", "display_name": "太郎"});
    assert_eq!(
        app.post("/api/v1/users", None, body).await.status,
        StatusCode::CREATED
    );
    let again = app
        .post(
            "/api/v1/users",
            None,
            json!({"email": "TARO@example.jp", "password": "password-456", "display_name": "別人"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "email_taken");
}

#[tokio::test]
async fn registration_reports_every_invalid_field() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            "/api/v1/users",
            None,
            json!({"email": "nope", "password": "short", "display_name": " "}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.code(), "validation_failed");
    let fields: Vec<&str> = r.body["error"]["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "password", "display_name"]);
}

#[tokio::test]
async fn a_wrong_password_or_unknown_email_is_401() {
    let app = TestApp::spawn().await;
    let user = app.user("jiro").await;
    for (email, password) in [
        (user.email.as_str(), "wrong-password"),
        ("nobody@example.jp", "password-123"),
    ] {
        let r = app
            .post(
                "/api/v1/sessions",
                None,
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
        assert_eq!(r.code(), "invalid_credentials");
    }
}

#[tokio::test]
async fn garbage_missing_and_expired_tokens_are_401() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.get("/api/v1/me", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/v1/me", Some("garbage")).await.status,
        StatusCode::UNAUTHORIZED
    );
    let user = app.user("saburo").await;
    assert_eq!(
        app.get("/api/v1/me", Some(&user.token)).await.status,
        StatusCode::OK
    );
    app.advance(29 * 24 * 3600).await;
    assert_eq!(
        app.get("/api/v1/me", Some(&user.token)).await.status,
        StatusCode::OK
    );
    app.advance(2 * 24 * 3600).await;
    let r = app.get("/api/v1/me", Some(&user.token)).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "a 30-day session has expired: {r:?}"
    );
}

#[tokio::test]
async fn repeated_failed_logins_for_one_email_are_rate_limited_then_allowed_again() {
    let app = TestApp::spawn().await;
    let user = app.user("shiro").await;
    for _ in 0..5 {
        let r = app
            .post(
                "/api/v1/sessions",
                None,
                json!({"email": user.email, "password": "wrong-password"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    // Even the right password is refused while the limit holds.
    let r = app
        .post(
            "/api/v1/sessions",
            None,
            json!({"email": user.email, "password": "password-123"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{r:?}");
    assert_eq!(r.code(), "rate_limited");
    assert!(
        r.body["error"]["details"]["retry_after_seconds"]
            .as_u64()
            .unwrap()
            > 0
    );
    // Another account from the same address is not yet affected.
    let other = app.user("goro").await;
    assert!(!other.token.is_empty());
    // After the window the right password works again.
    app.advance(16 * 60).await;
    let token = app.login(&user.email, "password-123").await;
    assert!(!token.is_empty());
}

#[tokio::test]
async fn many_failed_logins_from_one_address_are_rate_limited_across_emails() {
    let app = TestApp::spawn().await;
    for i in 0..20 {
        let r = app
            .post(
                "/api/v1/sessions",
                None,
                json!({"email": format!("guess{i}@example.jp"), "password": "password-123"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}: {r:?}");
    }
    let r = app
        .post(
            "/api/v1/sessions",
            None,
            json!({"email": "fresh@example.jp", "password": "password-123"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{r:?}");
}

#[tokio::test]
async fn a_user_updates_their_profile_and_bad_values_are_refused() {
    let app = TestApp::spawn().await;
    let user = app.user("rokuro").await;
    let r = app
        .patch(
            "/api/v1/me",
            Some(&user.token),
            json!({"display_name": "六郎デザイン", "bio": "ロゴ制作が得意です。"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["display_name"], "六郎デザイン");
    let me = app.get("/api/v1/me", Some(&user.token)).await;
    assert_eq!(me.body["bio"], "ロゴ制作が得意です。");
    // Only the bio changes when only the bio is sent.
    let r = app
        .patch("/api/v1/me", Some(&user.token), json!({"bio": ""}))
        .await;
    assert_eq!(r.body["display_name"], "六郎デザイン");
    let bad = app
        .patch("/api/v1/me", Some(&user.token), json!({"display_name": ""}))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        bad.body["error"]["details"]["fields"][0]["field"],
        "display_name"
    );
    let me = app.get("/api/v1/me", Some(&user.token)).await;
    assert_eq!(
        me.body["display_name"], "六郎デザイン",
        "nothing half-written"
    );
}

#[tokio::test]
async fn an_operator_role_granted_by_the_admin_command_shows_in_me() {
    let app = TestApp::spawn().await;
    let user = app.user("shichiro").await;
    ichiba::accounts::grant_operator(&app.state.db, app.state.clock.now_ms(), &user.email)
        .await
        .unwrap();
    let me = app.get("/api/v1/me", Some(&user.token)).await;
    assert_eq!(me.body["roles"], json!(["operator"]));
    let missing = ichiba::accounts::grant_operator(&app.state.db, 0, "nobody@example.jp")
        .await
        .unwrap_err();
    assert!(matches!(missing, ichiba::accounts::AccountError::NotFound));
}
