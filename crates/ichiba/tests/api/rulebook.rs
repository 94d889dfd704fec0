//! The talk-room page offers exactly what the engine allows. A deal is driven through every state
//! a person can meet (waiting for the first reply, in progress, the buyer's cancel window, overdue,
//! delivered, sent back, delivered again, an open cancel request, completed, cancelled); at each
//! one, for the buyer and the seller, the engine's answer (`allowed_actions` and
//! `allowed_cancel_reasons` of the order JSON, from `orders::actions::available`) is compared with
//! the forms the web page renders. A page that offers a refused action or hides an allowed one
//! fails. The operator's order page is held to the same rule for the dispute tool.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, html_of};

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

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Compares the page with the engine for the buyer and for the seller; returns the actions each
/// had (buyer first), so the scenario can also check that it reached the states it meant to.
async fn check(
    app: &TestApp,
    what: &str,
    order: &str,
    buyer: &TestUser,
    seller: &TestUser,
) -> [Vec<String>; 2] {
    [
        check_side(app, what, order, "buyer", buyer).await,
        check_side(app, what, order, "seller", seller).await,
    ]
}

/// Compares the talk-room page of one party with the engine's answer for that party; returns the
/// actions the engine allows.
async fn check_side(
    app: &TestApp,
    what: &str,
    order: &str,
    side: &str,
    user: &TestUser,
) -> Vec<String> {
    let json = app.order(user, order).await;
    let allowed = strings(&json["allowed_actions"]);
    let reasons = strings(&json["allowed_cancel_reasons"]);
    let html = html_of(app, &format!("/orders/{order}"), user).await;
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
    allowed
}

/// `user` takes a step of the order through the API (`step` is the path below the order); the
/// engine must accept it.
async fn act(app: &TestApp, user: &TestUser, order: &str, step: &str, body: Value) {
    let path = format!("/api/v1/orders/{order}/{step}");
    let r = app.post(&path, Some(&user.token), body).await;
    assert!(r.status.is_success(), "{path}: {r:?}");
}

/// `user` writes `body` in the talk room.
async fn say(app: &TestApp, user: &TestUser, order: &str, body: &str) {
    act(app, user, order, "messages", json!({ "body": body })).await;
}

fn has(actions: &[String], a: &str) -> bool {
    actions.iter().any(|x| x == a)
}

#[tokio::test]
async fn every_talk_room_page_offers_exactly_the_actions_the_engine_allows() {
    let app = TestApp::spawn().await;
    let (seller, buyer, order) = app.deal(5000).await;
    let (app, order) = (&app, order.as_str());
    let run = |what: &'static str| check(app, what, order, &buyer, &seller);

    // Waiting for the first reply: the buyer may write, not cancel (the 4-day rule).
    let [b, s] = run("a fresh order").await;
    assert!(has(&b, "post_message") && !has(&b, "file_cancel"));
    assert!(has(&s, "deliver") && has(&s, "change_due_date"));

    // The buyer writes and the seller stays silent for four days: the buyer may now cancel.
    say(app, &buyer, order, "よろしくお願いします").await;
    say(app, &seller, order, "承知しました").await;
    say(app, &buyer, order, "進捗はいかがでしょうか").await;
    run("in progress").await;
    app.advance(4 * 24 * 3600 + 60).await;
    let [b, _] = run("a silent seller").await;
    assert!(has(&b, "file_cancel"));

    // Past the due date (7 days): still the buyer's cancel window, the seller may move the date.
    app.advance(4 * 24 * 3600).await;
    run("overdue").await;

    // Delivered: the buyer answers; the seller may still move the due date but not deliver.
    let delivery = json!({"body": "納品いたします"});
    act(app, &seller, order, "deliveries", delivery).await;
    let [b, s] = run("delivered").await;
    assert!(has(&b, "accept") && has(&b, "send_back"));
    assert!(has(&s, "change_due_date") && !has(&s, "deliver"));

    // Sent back, then delivered again: no second send-back.
    let reason = json!({"reason": "色を変えてください"});
    act(app, &buyer, order, "send-back", reason).await;
    run("sent back").await;
    let delivery = json!({"body": "修正しました"});
    act(app, &seller, order, "deliveries", delivery).await;
    let [b, _] = run("delivered again").await;
    assert!(has(&b, "accept") && !has(&b, "send_back"));

    // An open cancel request: the other side answers, the filer may withdraw.
    let request = json!({"reason_code": "schedule_mismatch"});
    act(app, &seller, order, "cancel-requests", request).await;
    let [b, s] = run("an open cancel request").await;
    assert!(has(&b, "accept_cancel") && has(&b, "reject_cancel"));
    assert!(has(&s, "withdraw_cancel") && !has(&s, "accept_cancel"));
    let reject = "cancel-requests/current/reject";
    act(app, &buyer, order, reject, json!({})).await;

    // Completed: nothing is offered any more.
    act(app, &buyer, order, "accept", json!({})).await;
    let [b, s] = run("completed").await;
    assert!(b.is_empty() && s.is_empty());

    // Cancelled (a second deal, the first reply never came): nothing is offered.
    let listing = app.listing(&seller, 3000).await;
    let second = app
        .purchase(&buyer, listing["id"].as_str().expect("listing id"))
        .await;
    app.advance(49 * 3600).await;
    let seen = check(app, "cancelled", &second, &buyer, &seller).await;
    assert!(seen.iter().all(Vec::is_empty), "{seen:?}");
    assert_eq!(app.order(&buyer, &second).await["state"], "cancelled");
}

/// Compares the operator's order page with the engine's answer for an operator.
async fn check_operator(app: &TestApp, what: &str, order: &str, op: &TestUser) -> Vec<String> {
    let allowed = strings(&app.order(op, order).await["allowed_actions"]);
    let html = html_of(app, &format!("/admin/orders/{order}"), op).await;
    for (action, path) in [
        ("operator_cancel", "cancel"),
        ("operator_complete", "complete"),
        ("operator_settle", "settle"),
    ] {
        let offered = html.contains(&format!("action=\"/admin/orders/{order}/{path}\""));
        let allows = has(&allowed, action);
        assert_eq!(
            offered, allows,
            "{what}: the operator's page and the engine disagree on `{action}` ({allowed:?})"
        );
    }
    allowed
}

#[tokio::test]
async fn the_operators_order_page_offers_exactly_the_dispute_actions_the_engine_allows() {
    let app = TestApp::spawn().await;
    let op = app.operator("operator").await;
    let (seller, buyer, order) = app.deal(5000).await;
    let open = check_operator(&app, "an open order", &order, &op).await;
    assert_eq!(
        open,
        ["operator_cancel", "operator_complete", "operator_settle"]
    );
    act(
        &app,
        &seller,
        &order,
        "deliveries",
        json!({"body": "納品します"}),
    )
    .await;
    check_operator(&app, "a delivered order", &order, &op).await;
    act(&app, &buyer, &order, "accept", json!({})).await;
    let done = check_operator(&app, "a completed order", &order, &op).await;
    assert!(done.is_empty(), "{done:?}");
}
