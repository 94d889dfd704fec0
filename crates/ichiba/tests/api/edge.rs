//! The HTTP edge: error format, malformed and oversize bodies, unknown routes, health, OpenAPI,
//! the dev clock, and the demo market.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn health_is_ok() {
    let app = TestApp::spawn().await;
    let r = app.get("/healthz", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, json!({"status": "ok"}));
}

#[tokio::test]
async fn malformed_json_is_400_in_the_error_format() {
    let app = TestApp::spawn().await;
    let r = app
        .post_raw(
            "/api/v1/users",
            "application/json",
            b"{\"email\": ".to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "malformed_json");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("JSON")
    );
    let wrong_type = app
        .post(
            "/api/v1/users",
            None,
            json!({"email": 5, "password": "x", "display_name": "y"}),
        )
        .await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST);
    let no_type = app
        .post_raw("/api/v1/users", "text/plain", b"{}".to_vec())
        .await;
    assert_eq!(no_type.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_type.code(), "unsupported_media_type");
}

#[tokio::test]
async fn an_oversize_body_is_413() {
    let app = TestApp::spawn().await;
    let huge = format!("{{\"email\": \"{}\"}}", "a".repeat(2 * 1024 * 1024));
    let r = app
        .post_raw("/api/v1/users", "application/json", huge.into_bytes())
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.code(), "payload_too_large");
}

#[tokio::test]
async fn unknown_api_routes_and_wrong_methods_answer_in_json() {
    let app = TestApp::spawn().await;
    let r = app.get("/api/v1/no-such-thing", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "not_found");
    let r = app.delete("/api/v1/users", None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.code(), "method_not_allowed");
}

#[tokio::test]
async fn a_bad_query_string_is_400() {
    let app = TestApp::spawn().await;
    let r = app.get("/api/v1/listings?min_price_yen=cheap", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "malformed_query");
    let r = app.get("/api/v1/listings?sort=random", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app.get("/api/v1/listings?cursor=%%%", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_openapi_document_describes_the_core_endpoints() {
    let app = TestApp::spawn().await;
    let r = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/users",
        "/api/v1/sessions",
        "/api/v1/me",
        "/api/v1/listings",
        "/api/v1/listings/{id}",
    ] {
        assert!(r.body["paths"][path].is_object(), "missing {path}");
    }
    assert!(r.body["components"]["schemas"]["ListingView"].is_object());
}

#[tokio::test]
async fn the_dev_clock_moves_forward_and_is_absent_without_the_flag() {
    let app = TestApp::spawn().await;
    let before = app.state.clock.now_ms();
    let r = app
        .post("/api/v1/dev/clock", None, json!({"advance_seconds": 3600}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(app.state.clock.now_ms() - before, 3_600_000);
    assert!(r.body["now_at"].as_str().unwrap().ends_with("+09:00"));
    let bad = app
        .post("/api/v1/dev/clock", None, json!({"advance_seconds": -5}))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    let prod = TestApp::spawn_with(|c| c.dev_clock = false).await;
    let r = prod
        .post("/api/v1/dev/clock", None, json!({"advance_seconds": 3600}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_demo_market_is_created_once_and_a_second_run_adds_nothing() {
    let app = TestApp::spawn().await;
    let now = app.state.clock.now_ms();
    let first = ichiba::demo::seed(&app.state.db, now, false).await.unwrap();
    assert!(first.created_users >= 15, "{first:?}");
    assert!(first.created_listings >= 40, "{first:?}");
    let count = |app: &TestApp| {
        let db = app.state.db.clone();
        async move {
            let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
                .fetch_one(db.pool())
                .await
                .unwrap();
            let listings: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM listings")
                .fetch_one(db.pool())
                .await
                .unwrap();
            (users, listings)
        }
    };
    let after_first = count(&app).await;
    let second = ichiba::demo::seed(&app.state.db, now, false).await.unwrap();
    assert_eq!((second.created_users, second.created_listings), (0, 0));
    assert_eq!(count(&app).await, after_first);
    // The demo buyers can log in with the printed password.
    app.login("buyer01@demo.ichiba.jp", ichiba::demo::DEMO_PASSWORD)
        .await;
    let page = app.get("/api/v1/listings?limit=100", None).await;
    assert_eq!(
        page.body["items"].as_array().unwrap().len() as i64,
        after_first.1
    );
}

#[tokio::test]
async fn a_wrong_method_on_a_web_page_answers_with_the_error_page() {
    let app = TestApp::spawn().await;
    // `/login` exists for GET and POST; DELETE is not a method of the page.
    let r = app
        .http
        .delete(app.url("/login"))
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let content_type = r
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = r.text().await.expect("body");
    assert!(
        content_type.starts_with("text/html"),
        "{content_type}: {body}"
    );
    assert!(!body.contains("\"error\""), "{body}");
}
