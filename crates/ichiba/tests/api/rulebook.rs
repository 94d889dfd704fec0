//! The talk-room page offers exactly what the engine allows. A deal is driven through every state
//! a person can meet (waiting for the first reply, in progress, the buyer's cancel window, overdue,
//! delivered, sent back, delivered again, an open cancel request, completed, cancelled); at each
//! one, for the buyer and the seller, the engine's answer (`allowed_actions` and
//! `allowed_cancel_reasons` of the order JSON, from `orders::actions::available`) is compared with the
//! forms the web page renders. A page that offers a refused action or hides an allowed one fails.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

/// Each action a party can take, with the marker of its form in the talk-room HTML.
fn markers(order: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "post_message",
            format!("action=\"/orders/{order}/messages\""),
        ),
        ("deliver", "name=\"deliver\"".to_string()),
        ("accept", format!("action=\"/orders/{order}/accept\"")),
        ("send_back", format!("action=\"/orders/{order}/send-back\"")),
        (
            "change_due_date",
            format!("action=\"/orders/{order}/due-date\""),
        ),
        (
            "file_cancel",
            format!("action=\"/orders/{order}/cancel-requests\""),
        ),
        (
            "accept_cancel",
            format!("action=\"/orders/{order}/cancel-requests/accept\""),
        ),
        (
            "reject_cancel",
            format!("action=\"/orders/{order}/cancel-requests/reject\""),
        ),
        (
            "withdraw_cancel",
            format!("action=\"/orders/{order}/cancel-requests/withdraw\""),
        ),
    ]
}

/// The talk-room page as `user` sees it (the session cookie is the API token).
async fn room_html(app: &TestApp, user: &TestUser, order: &str) -> String {
    let r = app
        .http
        .get(app.url(&format!("/orders/{order}")))
        .header("cookie", format!("ichiba_session={}", user.token))
        .send()
        .await
        .expect("room page");
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.expect("html")
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Compares the page with the engine for both parties; returns the actions each side had, so the
/// scenario can also check that the states it meant to reach were reached.
async fn check(
    app: &TestApp,
    what: &str,
    order: &str,
    parties: [(&str, &TestUser); 2],
) -> Vec<Vec<String>> {
    let mut seen = vec![];
    for (side, user) in parties {
        let json = app.order(user, order).await;
        let allowed = strings(&json["allowed_actions"]);
        let reasons = strings(&json["allowed_cancel_reasons"]);
        let html = room_html(app, user, order).await;
        for (action, marker) in markers(order) {
            let offered = html.contains(&marker);
            let allows = allowed.iter().any(|a| a == action);
            assert_eq!(
                offered,
                allows,
                "{what}: the {side}'s page {} `{action}` but the engine {} it (allowed: {allowed:?})",
                if offered { "offers" } else { "hides" },
                if allows { "allows" } else { "refuses" },
            );
        }
        for code in [
            "duplicate_purchase",
            "switch_service",
            "buyer_unreachable",
            "buyer_reason",
            "seller_reason",
            "schedule_mismatch",
            "seller_unresponsive",
            "no_first_reply",
            "operator",
        ] {
            let offered = html.contains(&format!("<option value=\"{code}\""));
            let allows = reasons.iter().any(|r| r == code);
            assert_eq!(
                offered, allows,
                "{what}: the {side}'s cancel form and the engine disagree on `{code}` (allowed: {reasons:?})"
            );
        }
        seen.push(allowed);
    }
    seen
}

fn has(actions: &[String], a: &str) -> bool {
    actions.iter().any(|x| x == a)
}

#[tokio::test]
async fn every_talk_room_page_offers_exactly_the_actions_the_engine_allows() {
    let app = TestApp::spawn().await;
    let (seller, buyer, order) = app.deal(5000).await;
    let parties = |b: &TestUser, s: &TestUser| [("buyer", b.clone()), ("seller", s.clone())];
    let run = |what: &'static str| {
        let app = &app;
        let order = order.clone();
        let [(bs, b), (ss, s)] = parties(&buyer, &seller);
        async move { check(app, what, &order, [(bs, &b), (ss, &s)]).await }
    };
    let post = |user: &TestUser, path: String, body: Value| {
        let app = &app;
        let token = user.token.clone();
        async move {
            let r = app.post(&path, Some(&token), body).await;
            assert!(r.status.is_success(), "{path}: {r:?}");
        }
    };

    // Waiting for the first reply: the buyer may write, not cancel (the 4-day rule).
    let [b, s] = run("a fresh order").await.try_into().expect("two sides");
    assert!(has(&b, "post_message") && !has(&b, "file_cancel"));
    assert!(has(&s, "deliver") && has(&s, "change_due_date"));

    // The buyer writes and the seller stays silent for four days: the buyer may now cancel.
    post(
        &buyer,
        format!("/api/v1/orders/{order}/messages"),
        json!({"body": "よろしくお願いします"}),
    )
    .await;
    post(
        &seller,
        format!("/api/v1/orders/{order}/messages"),
        json!({"body": "承知しました"}),
    )
    .await;
    post(
        &buyer,
        format!("/api/v1/orders/{order}/messages"),
        json!({"body": "進捗はいかがでしょうか"}),
    )
    .await;
    run("in progress").await;
    app.advance(4 * 24 * 3600 + 60).await;
    let [b, _] = run("a silent seller").await.try_into().expect("two sides");
    assert!(has(&b, "file_cancel"));

    // Past the due date (7 days): still the buyer's cancel window, the seller may move the date.
    app.advance(4 * 24 * 3600).await;
    run("overdue").await;

    // Delivered: the buyer answers; the seller may still move the due date but not deliver.
    post(
        &seller,
        format!("/api/v1/orders/{order}/deliveries"),
        json!({"body": "納品いたします"}),
    )
    .await;
    let [b, s] = run("delivered").await.try_into().expect("two sides");
    assert!(has(&b, "accept") && has(&b, "send_back"));
    assert!(has(&s, "change_due_date") && !has(&s, "deliver"));

    // Sent back, then delivered again: no second send-back.
    post(
        &buyer,
        format!("/api/v1/orders/{order}/send-back"),
        json!({"reason": "色を変えてください"}),
    )
    .await;
    run("sent back").await;
    post(
        &seller,
        format!("/api/v1/orders/{order}/deliveries"),
        json!({"body": "修正しました"}),
    )
    .await;
    let [b, _] = run("delivered again").await.try_into().expect("two sides");
    assert!(has(&b, "accept") && !has(&b, "send_back"));

    // An open cancel request: the other side answers, the filer may withdraw.
    post(
        &seller,
        format!("/api/v1/orders/{order}/cancel-requests"),
        json!({"reason_code": "schedule_mismatch"}),
    )
    .await;
    let [b, s] = run("an open cancel request")
        .await
        .try_into()
        .expect("two sides");
    assert!(has(&b, "accept_cancel") && has(&b, "reject_cancel"));
    assert!(has(&s, "withdraw_cancel") && !has(&s, "accept_cancel"));
    post(
        &buyer,
        format!("/api/v1/orders/{order}/cancel-requests/current/reject"),
        json!({}),
    )
    .await;

    // Completed: nothing is offered any more.
    post(&buyer, format!("/api/v1/orders/{order}/accept"), json!({})).await;
    let [b, s] = run("completed").await.try_into().expect("two sides");
    assert!(b.is_empty() && s.is_empty());

    // Cancelled (a second deal, the first reply never came): nothing is offered.
    let listing = app.listing(&seller, 3000).await;
    let r = app
        .post(
            "/api/v1/orders",
            Some(&buyer.token),
            json!({"listing_id": listing["id"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let second = r.body["id"].as_str().expect("id").to_string();
    app.advance(49 * 3600).await;
    let seen = check(
        &app,
        "cancelled",
        &second,
        [("buyer", &buyer), ("seller", &seller)],
    )
    .await;
    assert!(seen.iter().all(Vec::is_empty), "{seen:?}");
    assert_eq!(app.order(&buyer, &second).await["state"], "cancelled");
}
