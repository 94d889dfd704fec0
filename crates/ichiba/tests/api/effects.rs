//! What the order service leaves in the database beyond the order itself: timers that a
//! transition made pointless are cleared with it, and a purchase key answers with the first
//! order — also when two requests race, and for results recorded in the older JSON form.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

/// The kinds of the order's timers that have not fired or been cleared, sorted.
async fn pending_timers(app: &TestApp, order: &str) -> Vec<String> {
    let mut conn = app.state.db.pool().acquire().await.expect("connection");
    let mut kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM timers WHERE order_id = $1 AND done = 0")
            .bind(order)
            .fetch_all(&mut *conn)
            .await
            .expect("timers");
    kinds.sort();
    kinds
}

async fn ok(app: &TestApp, user: &TestUser, path: String, body: Value) {
    let r = app.post(&path, Some(&user.token), body).await;
    assert!(r.status.is_success(), "{path}: {r:?}");
}

#[tokio::test]
async fn transitions_clear_the_timers_they_make_pointless_in_the_same_transaction() {
    let app = TestApp::spawn().await;
    let (seller, buyer, order) = app.deal(5000).await;
    let first = pending_timers(&app, &order).await;
    assert!(
        first.contains(&"first_reply_deadline".to_string()),
        "{first:?}"
    );
    assert_eq!(
        first
            .iter()
            .filter(|k| *k == "first_reply_reminder")
            .count(),
        2
    );

    // The seller's first message: the first-reply reminders and deadline are cleared.
    ok(
        &app,
        &seller,
        format!("/api/v1/orders/{order}/messages"),
        json!({"body": "ご購入ありがとうございます"}),
    )
    .await;
    let after_reply = pending_timers(&app, &order).await;
    assert!(
        !after_reply.iter().any(|k| k.starts_with("first_reply")),
        "{after_reply:?}"
    );

    // A new due date replaces the old one's timer: one due timer, at the new date.
    let r = app
        .send_put(
            &format!("/api/v1/orders/{order}/due-date"),
            &seller,
            json!({"due_at": chrono_in_days(&app, &buyer, &order, 10).await}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let after_due = pending_timers(&app, &order).await;
    assert_eq!(
        after_due.iter().filter(|k| *k == "due_passed").count(),
        1,
        "{after_due:?}"
    );

    // Delivered, sent back: the accept timers go with the delivery they were for.
    ok(
        &app,
        &seller,
        format!("/api/v1/orders/{order}/deliveries"),
        json!({"body": "納品します"}),
    )
    .await;
    assert!(
        pending_timers(&app, &order)
            .await
            .contains(&"accept_deadline".to_string())
    );
    ok(
        &app,
        &buyer,
        format!("/api/v1/orders/{order}/send-back"),
        json!({"reason": "修正をお願いします"}),
    )
    .await;
    let after_send_back = pending_timers(&app, &order).await;
    assert!(
        !after_send_back.iter().any(|k| k.starts_with("accept_")),
        "{after_send_back:?}"
    );

    // Completed: nothing is left to fire.
    ok(
        &app,
        &seller,
        format!("/api/v1/orders/{order}/deliveries"),
        json!({"body": "修正版です"}),
    )
    .await;
    ok(
        &app,
        &buyer,
        format!("/api/v1/orders/{order}/accept"),
        json!({}),
    )
    .await;
    assert_eq!(pending_timers(&app, &order).await, Vec::<String>::new());
    app.assert_ledger_clean().await;
}

/// The order's purchase time plus `days`, as RFC 3339.
async fn chrono_in_days(app: &TestApp, user: &TestUser, order: &str, days: i64) -> String {
    let purchased = app.order(user, order).await["purchased_at"]
        .as_str()
        .expect("purchased_at")
        .to_string();
    let t = chrono::DateTime::parse_from_rfc3339(&purchased).expect("rfc3339");
    (t + chrono::Duration::days(days)).to_rfc3339()
}

async fn buy_with_key(
    app: &TestApp,
    buyer: &TestUser,
    listing: &Value,
    key: &str,
) -> (StatusCode, Value) {
    let r = app
        .http
        .post(app.url("/api/v1/orders"))
        .bearer_auth(&buyer.token)
        .header("Idempotency-Key", key)
        .json(&json!({"listing_id": listing["id"]}))
        .send()
        .await
        .expect("purchase");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn two_purchases_racing_with_one_key_make_one_order() {
    let app = TestApp::spawn().await;
    let seller = app.user("seller").await;
    let buyer = app.user("buyer").await;
    let listing = app.listing(&seller, 3000).await;
    let (a, b) = tokio::join!(
        buy_with_key(&app, &buyer, &listing, "race-1"),
        buy_with_key(&app, &buyer, &listing, "race-1")
    );
    assert_eq!((a.0, b.0), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(a.1["id"], b.1["id"]);
    let mine = app
        .get("/api/v1/orders?role=buyer", Some(&buyer.token))
        .await;
    assert_eq!(mine.body["items"].as_array().map(Vec::len), Some(1));
    app.assert_ledger_clean().await;
}

#[tokio::test]
async fn a_purchase_key_recorded_in_the_older_json_form_still_answers_with_its_order() {
    let app = TestApp::spawn().await;
    let seller = app.user("seller").await;
    let buyer = app.user("buyer").await;
    let listing = app.listing(&seller, 3000).await;
    let (status, first) = buy_with_key(&app, &buyer, &listing, "old-1").await;
    assert_eq!(status, StatusCode::CREATED);
    // Before orders were recorded whole, the key held the response: the order's JSON view.
    let mut conn = app.state.db.pool().acquire().await.expect("connection");
    let n = sqlx::query("UPDATE idempotency_keys SET response_json = $1 WHERE key = $2")
        .bind(first.to_string())
        .bind("old-1")
        .execute(&mut *conn)
        .await
        .expect("rewrite")
        .rows_affected();
    assert_eq!(n, 1);
    drop(conn);
    let (status, again) = buy_with_key(&app, &buyer, &listing, "old-1").await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(again["id"], first["id"]);
    let mine = app
        .get("/api/v1/orders?role=buyer", Some(&buyer.token))
        .await;
    assert_eq!(mine.body["items"].as_array().map(Vec::len), Some(1));
}
