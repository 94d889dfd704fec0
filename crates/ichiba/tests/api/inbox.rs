//! The direct-message pages over HTTP: what the thread list of `/messages` and the API's thread
//! list show of each thread (the other member, the last message and its attachments, the unread
//! count, the most recent thread first) and that reading a conversation clears its count. How
//! many statements the list runs is not measured here (`statements.rs` measures 取引管理).

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, TestUser, html_of};

/// The live thread list of the `/messages` page.
async fn thread_list(app: &TestApp, user: &TestUser) -> String {
    let html = html_of(app, "/messages", user).await;
    let start = html.find("id=\"threads-live\"").expect("the live list");
    let end = html[start..]
        .find("</ul>")
        .map_or(html.len(), |e| start + e);
    html[start..end].to_string()
}

/// Sends a direct message and returns its thread id.
async fn send(app: &TestApp, from: &TestUser, to: &TestUser, body: serde_json::Value) -> String {
    let mut body = body;
    body["to_user_id"] = json!(to.id);
    let r = app
        .post("/api/v1/direct-messages", Some(&from.token), body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    r.body["thread_id"].as_str().expect("thread id").to_string()
}

#[tokio::test]
async fn the_thread_list_shows_each_partner_the_last_message_and_the_unread_count() {
    let app = TestApp::spawn().await;
    let seller = app.user("seller").await;
    let buyer = app.user("buyer").await;
    let other = app.user("other").await;
    let file = app.upload(&buyer, "案.pdf", b"%PDF-1.4 x".to_vec()).await;
    let with_buyer = send(
        &app,
        &buyer,
        &seller,
        json!({"body": "見積もり\nお願いします"}),
    )
    .await;
    send(
        &app,
        &buyer,
        &seller,
        json!({"body": "追伸です。", "attachment_ids": [file["id"]]}),
    )
    .await;
    app.advance(60).await;
    let with_other = send(&app, &other, &seller, json!({"body": "別件です"})).await;
    send(&app, &seller, &other, json!({"body": "承知しました。"})).await;

    let html = thread_list(&app, &seller).await;
    let (newer, older) = (
        html.find(&format!("/messages/{with_other}"))
            .expect("other's row"),
        html.find(&format!("/messages/{with_buyer}"))
            .expect("buyer's row"),
    );
    assert!(newer < older, "most recent first");
    assert!(html.contains("otherさん") && html.contains("buyerさん"));
    assert!(html.contains("あなた：承知しました。"), "own last message");
    assert!(html.contains("追伸です。"));
    assert!(
        html.contains("未読 2"),
        "both of the buyer's messages are unread"
    );
    assert_eq!(html.matches("class=\"badge\"").count(), 1, "{html}");
    // Only members see a thread; the buyer's list has the one thread.
    let html = thread_list(&app, &buyer).await;
    assert!(html.contains("sellerさん") && !html.contains("otherさん"));

    // The API list carries the attachments of each last message.
    let r = app
        .get("/api/v1/direct-messages/threads", Some(&seller.token))
        .await;
    let items = r.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[1]["id"], with_buyer.as_str());
    assert_eq!(items[1]["unread"], 2);
    assert_eq!(
        items[1]["last_message"]["attachments"][0]["filename"],
        "案.pdf"
    );
    assert_eq!(items[0]["unread"], 0);

    // Reading the conversation clears its count.
    let html = html_of(&app, &format!("/messages/{with_buyer}"), &seller).await;
    assert!(html.contains("見積もり"));
    let html = thread_list(&app, &seller).await;
    assert!(!html.contains("未読"), "{html}");
}
