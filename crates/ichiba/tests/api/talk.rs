//! Talk rooms, direct messages, attachments, notifications, live events and templates.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn direct_messages_open_one_thread_per_pair_visible_only_to_its_members() {
    let app = TestApp::spawn().await;
    let buyer = app.user("buyer").await;
    let seller = app.user("seller").await;
    let r = app
        .post(
            "/api/v1/direct-messages",
            Some(&buyer.token),
            json!({"to_user_id": seller.id, "body": "購入前に質問です。納期は相談できますか？"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    assert_eq!(r.body["kind"], "text");
    let thread_id = r.body["thread_id"].as_str().unwrap().to_string();
    let r = app
        .post(
            "/api/v1/direct-messages",
            Some(&seller.token),
            json!({"to_user_id": buyer.id, "body": "はい、ご相談ください。"}),
        )
        .await;
    assert_eq!(
        r.body["thread_id"],
        thread_id.as_str(),
        "the reply lands in the same thread"
    );

    let threads = app
        .get("/api/v1/direct-messages/threads", Some(&buyer.token))
        .await;
    let items = threads.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["other_user"]["display_name"], "seller");
    assert_eq!(items[0]["unread"], 1);
    let detail = app
        .get(
            &format!("/api/v1/direct-messages/threads/{thread_id}"),
            Some(&buyer.token),
        )
        .await;
    assert_eq!(detail.body["items"].as_array().unwrap().len(), 2);
    let threads = app
        .get("/api/v1/direct-messages/threads", Some(&buyer.token))
        .await;
    assert_eq!(
        threads.body["items"][0]["unread"], 0,
        "reading marks the thread read"
    );

    let stranger = app.user("stranger").await;
    assert_eq!(
        app.get(
            &format!("/api/v1/direct-messages/threads/{thread_id}"),
            Some(&stranger.token)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let to_self = app
        .post(
            "/api/v1/direct-messages",
            Some(&buyer.token),
            json!({"to_user_id": buyer.id, "body": "自分宛"}),
        )
        .await;
    assert_eq!(to_self.status, StatusCode::UNPROCESSABLE_ENTITY);
    let nobody = app
        .post(
            "/api/v1/direct-messages",
            Some(&buyer.token),
            json!({"to_user_id": "nobody", "body": "こんにちは"}),
        )
        .await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
    let empty = app
        .post(
            "/api/v1/direct-messages",
            Some(&buyer.token),
            json!({"to_user_id": seller.id, "body": "   "}),
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn uploads_are_limited_in_type_and_size_and_downloaded_as_attachments() {
    let app = TestApp::spawn().await;
    let user = app.user("uploader").await;
    let ok = app
        .upload(&user, "見積書.pdf", b"%PDF-1.4 estimate".to_vec())
        .await;
    assert_eq!(ok["content_type"], "application/pdf");
    assert_eq!(ok["size_bytes"], 17);
    let res = app
        .http
        .get(app.url(&format!(
            "/api/v1/attachments/{}",
            ok["id"].as_str().unwrap()
        )))
        .bearer_auth(&user.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"%PDF-1.4 estimate");

    let form = |name: &str, bytes: Vec<u8>| {
        reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
        )
    };
    let exe = app
        .http
        .post(app.url("/api/v1/attachments"))
        .bearer_auth(&user.token)
        .multipart(form("tool.exe", b"MZ".to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(exe.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let huge = app
        .http
        .post(app.url("/api/v1/attachments"))
        .bearer_auth(&user.token)
        .multipart(form("big.zip", vec![0u8; 21 * 1024 * 1024]))
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let anon = app
        .http
        .post(app.url("/api/v1/attachments"))
        .multipart(form("a.pdf", b"x".to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_seller_is_notified_of_a_purchase_and_can_mark_it_read() {
    let app = TestApp::spawn().await;
    let (seller, _buyer, id) = app.deal(3000).await;
    let n = app
        .get("/api/v1/me/notifications", Some(&seller.token))
        .await;
    assert_eq!(n.body["unread"], 1);
    let first = &n.body["items"][0];
    assert_eq!(first["kind"], "purchased");
    assert_eq!(first["order_id"], id.as_str());
    assert!(first["title"].as_str().unwrap().contains("48時間以内"));
    let nid = first["id"].as_str().unwrap();
    let other = app.user("other").await;
    assert_eq!(
        app.post(
            &format!("/api/v1/me/notifications/{nid}/read"),
            Some(&other.token),
            json!({})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post(
            &format!("/api/v1/me/notifications/{nid}/read"),
            Some(&seller.token),
            json!({})
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get("/api/v1/me/notifications", Some(&seller.token))
            .await
            .body["unread"],
        0
    );
}

#[tokio::test]
async fn the_event_stream_pushes_new_messages_to_the_other_party() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(3000).await;
    let mut events = EventStream::open(&app, &app.base, &buyer).await;
    let body = json!({"body": "はじめまして。よろしくお願いします。"});
    app.post(
        &format!("/api/v1/orders/{id}/messages"),
        Some(&seller.token),
        body,
    )
    .await;
    let seen = events
        .wait_for(&["event: message", "はじめまして", "event: order"])
        .await;
    assert!(seen.contains("in_progress"), "{seen}");
    let anon = app
        .http
        .get(app.url("/api/v1/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn new_users_start_with_the_standard_templates_which_render_for_an_order() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(3000).await;
    let list = app.get("/api/v1/me/templates", Some(&seller.token)).await;
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 7);
    assert!(items[0]["body"].as_str().unwrap().contains("{buyer_name}"));
    let tid = items[0]["id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/api/v1/orders/{id}/templates/{tid}/render"),
            Some(&seller.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let body = r.body["body"].as_str().unwrap();
    assert!(body.starts_with("buyer様"), "{body}");
    assert!(body.contains("「ロゴデザインを作成します」"));
    assert!(body.contains("年") && !body.contains("{due_date}"));

    // CRUD, and nobody else's templates.
    let created = app
        .post(
            "/api/v1/me/templates",
            Some(&seller.token),
            json!({"title": "お礼", "body": "{buyer_name}様、ありがとうございました。"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let cid = created.body["id"].as_str().unwrap();
    let put = app
        .send_put(
            &format!("/api/v1/me/templates/{cid}"),
            &seller,
            json!({"title": "お礼（改）", "body": "感謝申し上げます。"}),
        )
        .await;
    assert_eq!(put.body["title"], "お礼（改）");
    assert_eq!(
        app.send_put(
            &format!("/api/v1/me/templates/{cid}"),
            &buyer,
            json!({"title": "x", "body": "y"})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let r = app
        .post(
            &format!("/api/v1/orders/{id}/templates/{cid}/render"),
            Some(&buyer.token),
            json!({}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "the buyer cannot render the seller's template"
    );
    assert_eq!(
        app.delete(&format!("/api/v1/me/templates/{cid}"), Some(&seller.token))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let bad = app
        .post(
            "/api/v1/me/templates",
            Some(&seller.token),
            json!({"title": "", "body": ""}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn orders_are_listed_by_role_and_state() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(3000).await;
    let as_buyer = app
        .get("/api/v1/orders?role=buyer", Some(&buyer.token))
        .await;
    assert_eq!(as_buyer.body["items"][0]["id"], id.as_str());
    assert_eq!(
        app.get("/api/v1/orders?role=seller", Some(&buyer.token))
            .await
            .body["items"],
        json!([])
    );
    assert_eq!(
        app.get(
            "/api/v1/orders?role=seller&state=pending_first_reply",
            Some(&seller.token)
        )
        .await
        .body["items"][0]["id"],
        id.as_str()
    );
    assert_eq!(
        app.get(
            "/api/v1/orders?role=seller&state=completed",
            Some(&seller.token)
        )
        .await
        .body["items"],
        json!([])
    );
    assert_eq!(
        app.get("/api/v1/orders?role=boss", Some(&seller.token))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn on_postgres_a_message_posted_on_one_instance_reaches_a_stream_on_another() {
    let app = TestApp::spawn().await;
    if !app.on_postgres() {
        // Instances share events through PostgreSQL LISTEN/NOTIFY; SQLite runs one instance.
        eprintln!("single-instance backend: cross-instance relay not applicable");
        return;
    }
    let (seller, buyer, id) = app.deal(3000).await;
    let other = app.sibling().await;
    let mut events = EventStream::open(&app, &other, &buyer).await;
    // Posted on the first instance, read from the second.
    let body = json!({"body": "別のサーバーからこんにちは"});
    app.post(
        &format!("/api/v1/orders/{id}/messages"),
        Some(&seller.token),
        body,
    )
    .await;
    let seen = events
        .wait_for(&["event: message", "別のサーバーからこんにちは"])
        .await;
    assert!(seen.contains("event: message"), "{seen}");
}

/// A user's open SSE stream, read until it shows what a test waits for.
struct EventStream {
    res: reqwest::Response,
    seen: String,
}

impl EventStream {
    /// Opens the stream on the instance at `base` and waits until it is live.
    async fn open(app: &TestApp, base: &str, user: &crate::helpers::TestUser) -> EventStream {
        let res = app
            .http
            .get(format!("{base}/api/v1/events"))
            .bearer_auth(&user.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let mut s = EventStream {
            res,
            seen: String::new(),
        };
        s.wait_for(&["event: ready"]).await;
        s
    }

    /// Reads until every needle has been seen; a guard against a hang, not a timing assertion.
    async fn wait_for(&mut self, needles: &[&str]) -> String {
        let read = async {
            while !needles.iter().all(|n| self.seen.contains(n)) {
                match self.res.chunk().await.unwrap() {
                    Some(c) => self.seen.push_str(&String::from_utf8_lossy(&c)),
                    None => break,
                }
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(20), read)
            .await
            .expect("events arrive");
        self.seen.clone()
    }
}

#[tokio::test]
async fn first_direct_messages_sent_at_once_by_both_sides_share_one_thread() {
    let app = TestApp::spawn().await;
    let a = app.user("pair-a").await;
    let b = app.user("pair-b").await;
    // Both open the conversation at the same moment (on PostgreSQL the second insert of the pair's
    // thread failed on the one-thread-per-pair index: a 500).
    let sends = (0..6).map(|i| {
        let (from, to) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        app.post(
            "/api/v1/direct-messages",
            Some(&from.token),
            json!({"to_user_id": to.id, "body": format!("はじめまして（{i}）")}),
        )
    });
    let replies = futures::future::join_all(sends).await;
    let mut threads = std::collections::BTreeSet::new();
    for r in &replies {
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        threads.insert(r.body["thread_id"].as_str().expect("thread id").to_string());
    }
    assert_eq!(threads.len(), 1, "{threads:?}");
}
