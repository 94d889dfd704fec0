//! Reviews, reputation, ranks, おすすめ順 and Japanese search.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

const DAY: i64 = 24 * 3600;

async fn complete(app: &TestApp, seller: &TestUser, buyer: &TestUser, id: &str) {
    let r = app
        .post(
            &format!("/api/v1/orders/{id}/deliveries"),
            Some(&seller.token),
            json!({"body": "納品いたします。"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let r = app
        .post(
            &format!("/api/v1/orders/{id}/accept"),
            Some(&buyer.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
}

async fn review(app: &TestApp, who: &TestUser, id: &str, stars: i64) -> crate::helpers::Reply {
    app.post(
        &format!("/api/v1/orders/{id}/reviews"),
        Some(&who.token),
        json!({"public_rating": stars, "comment": "丁寧にご対応いただきありがとうございました。", "private_rating": 2}),
    )
    .await
}

fn items(r: &crate::helpers::Reply) -> Vec<Value> {
    r.body["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn reviews_stay_hidden_until_both_are_in() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(5000).await;
    complete(&app, &seller, &buyer, &id).await;
    let r = review(&app, &buyer, &id, 5).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    assert_eq!(r.body["published_at"], Value::Null);
    assert_eq!(
        r.body["private_rating"], 2,
        "the reviewer sees their own private rating"
    );
    assert!(
        items(
            &app.get(&format!("/api/v1/orders/{id}/reviews"), Some(&seller.token))
                .await
        )
        .is_empty(),
        "hidden from the seller"
    );
    assert!(
        items(
            &app.get(&format!("/api/v1/users/{}/reviews", seller.id), None)
                .await
        )
        .is_empty(),
        "hidden from the public"
    );
    let n = app
        .get("/api/v1/me/notifications", Some(&seller.token))
        .await;
    assert!(
        n.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["kind"] == "review_received")
    );
    assert_eq!(
        review(&app, &seller, &id, 4).await.status,
        StatusCode::CREATED
    );
    let public = app
        .get(&format!("/api/v1/users/{}/reviews", seller.id), None)
        .await;
    assert_eq!(items(&public).len(), 1);
    assert_eq!(items(&public)[0]["public_rating"], 5);
    assert!(items(&public)[0]["published_at"].is_string());
    let listing_id = app.order(&buyer, &id).await["listing_id"]
        .as_str()
        .unwrap()
        .to_string();
    let listing = app
        .get(&format!("/api/v1/listings/{listing_id}"), None)
        .await;
    assert_eq!(listing.body["rating"], json!({"average": 5.0, "count": 1}));
    assert_eq!(
        items(
            &app.get(&format!("/api/v1/listings/{listing_id}/reviews"), None)
                .await
        )
        .len(),
        1
    );
}

#[tokio::test]
async fn a_lone_review_is_published_when_the_14_day_window_ends() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(5000).await;
    complete(&app, &seller, &buyer, &id).await;
    review(&app, &buyer, &id, 4).await;
    app.advance(13 * DAY).await;
    assert!(
        items(
            &app.get(&format!("/api/v1/users/{}/reviews", seller.id), None)
                .await
        )
        .is_empty()
    );
    app.advance(2 * DAY).await;
    assert_eq!(
        items(
            &app.get(&format!("/api/v1/users/{}/reviews", seller.id), None)
                .await
        )
        .len(),
        1
    );
    let seller_token = app.login(&seller.email, "password-123").await;
    let late = app
        .post(
            &format!("/api/v1/orders/{id}/reviews"),
            Some(&seller_token),
            json!({"public_rating": 5, "comment": "ありがとうございました", "private_rating": 5}),
        )
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    assert_eq!(late.code(), "review_window_closed");
}

#[tokio::test]
async fn one_review_and_one_reply_each_and_only_by_the_right_people() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(5000).await;
    let early = review(&app, &buyer, &id, 5).await;
    assert_eq!(early.code(), "order_not_finished");
    complete(&app, &seller, &buyer, &id).await;
    let mine = review(&app, &buyer, &id, 5).await;
    assert_eq!(
        review(&app, &buyer, &id, 1).await.code(),
        "already_reviewed"
    );
    review(&app, &seller, &id, 5).await;
    let stranger = app.user("stranger").await;
    assert_eq!(
        review(&app, &stranger, &id, 1).await.status,
        StatusCode::NOT_FOUND
    );
    let rid = mine.body["id"].as_str().unwrap();
    let reply_path = format!("/api/v1/reviews/{rid}/reply");
    let reply_body = json!({"body": "こちらこそありがとうございました。"});
    let reply = async |u: &TestUser| {
        app.post(&reply_path, Some(&u.token), reply_body.clone())
            .await
    };
    assert_eq!(
        reply(&buyer).await.status,
        StatusCode::FORBIDDEN,
        "the reviewer cannot reply to their own review"
    );
    let r = reply(&seller).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    assert_eq!(
        r.body["reply"]["body"],
        "こちらこそありがとうございました。"
    );
    assert_eq!(reply(&seller).await.code(), "already_replied");
    let bad = app
        .post(
            &format!("/api/v1/orders/{id}/reviews"),
            Some(&buyer.token),
            json!({"public_rating": 6, "comment": "", "private_rating": 0}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn review_eligibility_after_a_cancellation_follows_the_recorded_fault() {
    let app = TestApp::spawn().await;
    // Seller's fault (no first reply): only the buyer may review.
    let (seller, buyer, id) = app.deal(3000).await;
    app.advance(2 * DAY + 60).await;
    let (seller, buyer) = (relogin(&app, seller).await, relogin(&app, buyer).await);
    assert_eq!(
        review(&app, &seller, &id, 1).await.code(),
        "review_not_allowed"
    );
    assert_eq!(
        review(&app, &buyer, &id, 1).await.status,
        StatusCode::CREATED
    );
    // Buyer's fault and duplicate purchase: only the seller; switch of service: nobody.
    for (reason, seller_may, buyer_may) in [
        ("buyer_unreachable", true, false),
        ("duplicate_purchase", true, false),
        ("switch_service", false, false),
    ] {
        let (seller, buyer, id) = app.deal(3000).await;
        app.post(
            &format!("/api/v1/orders/{id}/messages"),
            Some(&seller.token),
            json!({"body": "よろしくお願いします。"}),
        )
        .await;
        let r = app
            .post(
                &format!("/api/v1/orders/{id}/cancel-requests"),
                Some(&seller.token),
                json!({"reason_code": reason}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        app.post(
            &format!("/api/v1/orders/{id}/cancel-requests/current/accept"),
            Some(&buyer.token),
            json!({}),
        )
        .await;
        assert_eq!(
            review(&app, &seller, &id, 3).await.status == StatusCode::CREATED,
            seller_may,
            "{reason} seller"
        );
        assert_eq!(
            review(&app, &buyer, &id, 3).await.status == StatusCode::CREATED,
            buyer_may,
            "{reason} buyer"
        );
    }
}

async fn relogin(app: &TestApp, u: TestUser) -> TestUser {
    let token = app.login(&u.email, "password-123").await;
    TestUser { token, ..u }
}

#[tokio::test]
async fn private_ratings_are_seen_only_by_operators() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(5000).await;
    complete(&app, &seller, &buyer, &id).await;
    review(&app, &buyer, &id, 5).await;
    review(&app, &seller, &id, 5).await;
    let public = [
        app.get(&format!("/api/v1/users/{}/reviews", seller.id), None)
            .await,
        app.get(&format!("/api/v1/orders/{id}/reviews"), Some(&seller.token))
            .await,
    ];
    for r in &public {
        for item in items(r) {
            if item["reviewer"]["id"] != seller.id.as_str() {
                assert!(item.get("private_rating").is_none(), "leaked: {item}");
            }
        }
    }
    assert_eq!(
        app.get(
            &format!("/api/v1/admin/users/{}/reviews", seller.id),
            Some(&seller.token)
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let op = app.operator("operator").await;
    let r = app
        .get(
            &format!("/api/v1/admin/users/{}/reviews", seller.id),
            Some(&op.token),
        )
        .await;
    assert_eq!(r.body["items"][0]["private_rating"], 2);
}

#[tokio::test]
async fn review_comments_pass_the_contact_guard() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(5000).await;
    complete(&app, &seller, &buyer, &id).await;
    let r = app
        .post(&format!("/api/v1/orders/{id}/reviews"), Some(&buyer.token), json!({"public_rating": 5, "comment": "次回は直接 LINE ID: buyer_abc に連絡ください", "private_rating": 5}))
        .await;
    assert_eq!(r.code(), "off_platform_contact");
    assert_eq!(
        review(&app, &buyer, &id, 5).await.status,
        StatusCode::CREATED,
        "nothing was stored by the blocked attempt"
    );
}

#[tokio::test]
async fn a_buyer_fault_cancellation_does_not_hurt_the_sellers_metrics() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(5000).await;
    app.post(
        &format!("/api/v1/orders/{id}/messages"),
        Some(&seller.token),
        json!({"body": "よろしくお願いします。"}),
    )
    .await;
    complete(&app, &seller, &buyer, &id).await;
    let listing = app.order(&buyer, &id).await["listing_id"].clone();
    let second = app
        .post(
            "/api/v1/orders",
            Some(&buyer.token),
            json!({"listing_id": listing}),
        )
        .await;
    assert_eq!(second.status, StatusCode::CREATED, "{second:?}");
    let id2 = second.body["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/api/v1/orders/{id2}/messages"),
        Some(&seller.token),
        json!({"body": "よろしくお願いします。"}),
    )
    .await;
    app.post(
        &format!("/api/v1/orders/{id2}/cancel-requests"),
        Some(&seller.token),
        json!({"reason_code": "buyer_unreachable"}),
    )
    .await;
    app.post(
        &format!("/api/v1/orders/{id2}/cancel-requests/current/accept"),
        Some(&buyer.token),
        json!({}),
    )
    .await;
    let m = app
        .get(&format!("/api/v1/users/{}/metrics", seller.id), None)
        .await;
    assert_eq!(m.body["completion_rate"], 1.0, "{m:?}");
    assert_eq!(m.body["sales_count"], 1);
    let mine = app.get("/api/v1/me/metrics", Some(&seller.token)).await;
    assert_eq!(mine.body["all_time"]["cancellation_rate"], 0.0);
    assert_eq!(mine.body["all_time"]["repeat_buyers"], 0);
    assert!(mine.body["all_time"]["median_first_reply_minutes"].is_number());
}

#[tokio::test]
async fn ranks_are_computed_monthly_and_explained_to_the_seller() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(5000).await;
    complete(&app, &seller, &buyer, &id).await;
    let r = app.get("/api/v1/me/rank", Some(&seller.token)).await;
    assert_eq!(r.body["projected_rank"], "regular", "{r:?}");
    assert!(
        r.body["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["rank"] == "bronze" && c["met"] == false)
    );
    // The next month's first worker pass records the rank and shows it on the listings.
    app.advance(32 * DAY).await;
    let seller = relogin(&app, seller).await;
    let r = app.get("/api/v1/me/rank", Some(&seller.token)).await;
    assert_eq!(r.body["rank"], "regular", "{r:?}");
    assert_eq!(r.body["history"].as_array().unwrap().len(), 1);
    let listing = app.order(&seller, &id).await["listing_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.get(&format!("/api/v1/listings/{listing}"), None)
            .await
            .body["seller"]["rank"],
        "regular"
    );
    let found = app.get("/api/v1/listings?min_rank=regular", None).await;
    assert_eq!(items(&found).len(), 1);
    assert!(items(&app.get("/api/v1/listings?min_rank=gold", None).await).is_empty());
}

#[tokio::test]
async fn a_completed_sale_raises_the_listing_in_recommended_order_with_an_explanation() {
    let app = TestApp::spawn().await;
    let seller = app.user("seller").await;
    let buyer = app.user("buyer").await;
    let a = app.listing(&seller, 5000).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = app.listing(&seller, 5000).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let explain = async |l: &str| {
        app.get(
            &format!("/api/v1/listings/{l}/ranking"),
            Some(&seller.token),
        )
        .await
    };
    let before = explain(&a).await;
    assert_eq!(before.status, StatusCode::OK, "{before:?}");
    let id = app
        .post(
            "/api/v1/orders",
            Some(&buyer.token),
            json!({"listing_id": a}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    complete(&app, &seller, &buyer, &id).await;
    let after = explain(&a).await;
    assert!(
        after.body["score"].as_f64().unwrap() > before.body["score"].as_f64().unwrap(),
        "{before:?} {after:?}"
    );
    let popularity = after.body["factors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["factor"] == "popularity")
        .unwrap()
        .clone();
    assert!(popularity["value"].as_f64().unwrap() > 0.0);
    assert!(popularity["category_median"].is_number());
    let order: Vec<String> = items(&app.get("/api/v1/listings?sort=recommended", None).await)
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(order, vec![a.clone(), b.clone()]);
    assert_eq!(
        app.get(&format!("/api/v1/listings/{a}/ranking"), Some(&buyer.token))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn japanese_search_finds_words_inside_text_across_widths_and_kana() {
    let app = TestApp::spawn().await;
    let seller = app.user("seller").await;
    for title in [
        "ロゴデザインを作成します",
        "ホームページ制作を承ります",
        "占いで未来を鑑定します",
    ] {
        app.post(
            "/api/v1/listings",
            Some(&seller.token),
            crate::helpers::listing_body(title, 3000),
        )
        .await;
    }
    let titles = |r: crate::helpers::Reply| {
        items(&r)
            .iter()
            .map(|l| l["title"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    for (q, expected) in [
        ("ロゴ", "ロゴデザインを作成します"),
        ("ﾛｺﾞ", "ロゴデザインを作成します"),
        ("ろご", "ロゴデザインを作成します"),
        ("ホームページ", "ホームページ制作を承ります"),
        ("ほーむぺーじ 制作", "ホームページ制作を承ります"),
    ] {
        let r = app
            .http
            .get(app.url("/api/v1/listings"))
            .query(&[("q", q)])
            .send()
            .await
            .unwrap();
        let body: Value = r.json().await.unwrap();
        let got: Vec<String> = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["title"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(got, vec![expected.to_string()], "q={q}");
    }
    assert!(
        titles(app.get("/api/v1/listings?min_rating=4.5", None).await).is_empty(),
        "no listing has ratings yet"
    );
}

#[tokio::test]
async fn popularity_decays_as_sales_age_through_the_daily_refresh() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(5000).await;
    complete(&app, &seller, &buyer, &id).await;
    let listing = app.order(&seller, &id).await["listing_id"]
        .as_str()
        .unwrap()
        .to_string();
    let score = async |token: &str| {
        let r = app
            .get(&format!("/api/v1/listings/{listing}/ranking"), Some(token))
            .await;
        r.body["factors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["factor"] == "popularity")
            .unwrap()["value"]
            .as_f64()
            .unwrap()
    };
    let fresh = score(&seller.token).await;
    app.advance(29 * DAY).await;
    let token = app.login(&seller.email, "password-123").await;
    let later = score(&token).await;
    assert!(later < fresh, "{fresh} → {later}");
}

#[tokio::test]
async fn a_reply_is_checked_and_screened_before_anything_is_stored() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(5000).await;
    complete(&app, &seller, &buyer, &id).await;
    let mine = review(&app, &buyer, &id, 5).await;
    review(&app, &seller, &id, 5).await;
    let rid = mine.body["id"].as_str().expect("review id");
    let path = format!("/api/v1/reviews/{rid}/reply");
    let send = |body: String| {
        let path = path.clone();
        let token = seller.token.clone();
        let app = &app;
        async move { app.post(&path, Some(&token), json!({"body": body})).await }
    };
    let empty = send("   ".into()).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY, "{empty:?}");
    assert_eq!(empty.body["error"]["details"]["fields"][0]["field"], "body");
    // Zero-width spaces and a BOM are no reply either.
    let invisible = send("\u{200B}\u{FEFF} \u{200B}".into()).await;
    assert_eq!(
        invisible.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{invisible:?}"
    );
    assert_eq!(
        invisible.body["error"]["details"]["fields"][0]["field"],
        "body"
    );
    let long = send("あ".repeat(1001)).await;
    assert_eq!(long.status, StatusCode::UNPROCESSABLE_ENTITY, "{long:?}");
    let blocked = send("続きはLINEで。IDは ichiba_seller です".into()).await;
    assert_eq!(blocked.code(), "off_platform_contact", "{blocked:?}");
    // Nothing was stored: the one reply is still free.
    let ok = send("ありがとうございました。".into()).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{ok:?}");
}

#[tokio::test]
async fn a_published_review_reaches_the_stored_rating_off_the_request_path() {
    let app = TestApp::spawn().await;
    // As `ichiba serve` runs it; the tests' server runs without it, so reads settle on demand.
    let worker = ichiba::reputation::spawn_refresher(app.state.clone());
    let (seller, buyer, id) = app.deal(5000).await;
    complete(&app, &seller, &buyer, &id).await;
    assert_eq!(
        review(&app, &buyer, &id, 4).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        review(&app, &seller, &id, 5).await.status,
        StatusCode::CREATED
    );
    let listing_id = app.order(&buyer, &id).await["listing_id"]
        .as_str()
        .unwrap()
        .to_string();
    // Read the stored column directly (no settling reader): the worker must have written it.
    let stored = async || -> i64 {
        sqlx::query_scalar("SELECT rating_count FROM listings WHERE id = $1")
            .bind(&listing_id)
            .fetch_one(app.state.db.pool())
            .await
            .expect("listing row")
    };
    let mut count = stored().await;
    for _ in 0..200 {
        if count == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        count = stored().await;
    }
    assert_eq!(count, 1, "the refresher never refreshed the seller");
    assert!(app.state.reputation_pending.is_settled());
    worker.abort();
}
