//! Listings (サービス): create, update, pause, resume, delete, visibility, validation, list filters,
//! sorts and pagination.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, listing_body};

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect()
}

fn field_codes(r: &crate::helpers::Reply) -> Vec<(String, String)> {
    r.body["error"]["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap().to_string(),
                f["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn categories_are_served_with_japanese_labels() {
    let app = TestApp::spawn().await;
    let r = app.get("/api/v1/categories", None).await;
    let items = r.body["items"].as_array().unwrap();
    assert!(items.len() >= 10);
    assert!(
        items
            .iter()
            .any(|c| c["slug"] == "it" && c["label"] == "IT・プログラミング・開発")
    );
    assert!(items.iter().any(|c| c["label"] == "占い"));
}

#[tokio::test]
async fn a_seller_creates_updates_pauses_resumes_and_deletes_a_listing() {
    let app = TestApp::spawn().await;
    let seller = app.user("seller").await;
    let r = app
        .post(
            "/api/v1/listings",
            Some(&seller.token),
            listing_body("ロゴデザインを作成します", 5000),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["seller_id"], seller.id.as_str());
    assert_eq!(r.body["status"], "active");
    assert_eq!(r.body["options"][0]["price_yen"], 3000);
    assert_eq!(r.body["seller"]["display_name"], "seller");

    let path = format!("/api/v1/listings/{id}");
    let r = app
        .patch(
            &path,
            Some(&seller.token),
            json!({"price_yen": 6000, "options": []}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["price_yen"], 6000);
    assert_eq!(
        r.body["title"], "ロゴデザインを作成します",
        "untouched fields are kept"
    );
    assert_eq!(r.body["options"], json!([]));
    assert_eq!(app.get(&path, None).await.body["price_yen"], 6000);

    let r = app
        .post(&format!("{path}/pause"), Some(&seller.token), json!({}))
        .await;
    assert_eq!(r.body["status"], "paused");
    assert_eq!(
        app.get(&path, None).await.status,
        StatusCode::NOT_FOUND,
        "paused is hidden"
    );
    assert_eq!(
        app.get(&path, Some(&seller.token)).await.body["status"],
        "paused",
        "but not from its seller"
    );
    assert!(ids(&app.get("/api/v1/listings", None).await.body).is_empty());
    assert_eq!(
        ids(&app
            .get("/api/v1/me/listings", Some(&seller.token))
            .await
            .body),
        vec![id.clone()]
    );

    let r = app
        .post(&format!("{path}/resume"), Some(&seller.token), json!({}))
        .await;
    assert_eq!(r.body["status"], "active");
    assert_eq!(
        ids(&app.get("/api/v1/listings", None).await.body),
        vec![id.clone()]
    );

    assert_eq!(
        app.delete(&path, Some(&seller.token)).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&path, Some(&seller.token)).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(ids(&app.get("/api/v1/listings", None).await.body).is_empty());
    assert!(
        ids(&app
            .get("/api/v1/me/listings", Some(&seller.token))
            .await
            .body)
        .is_empty()
    );
    let r = app
        .post(&format!("{path}/resume"), Some(&seller.token), json!({}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "a deleted listing cannot come back"
    );
}

#[tokio::test]
async fn another_user_cannot_change_pause_or_delete_your_listing() {
    let app = TestApp::spawn().await;
    let seller = app.user("owner").await;
    let other = app.user("other").await;
    let id = app
        .post(
            "/api/v1/listings",
            Some(&seller.token),
            listing_body("名刺デザインを作ります", 3000),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/listings/{id}");
    let r = app
        .patch(&path, Some(&other.token), json!({"price_yen": 500}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.delete(&path, Some(&other.token)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post(&format!("{path}/pause"), Some(&other.token), json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let still = app.get(&path, None).await;
    assert_eq!(still.body["price_yen"], 3000);
    assert_eq!(still.body["status"], "active");
    // Writing without logging in is a 401.
    assert_eq!(
        app.post(
            "/api/v1/listings",
            None,
            listing_body("未ログインの出品", 3000)
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn every_validation_rule_reports_its_field() {
    let app = TestApp::spawn().await;
    let seller = app.user("validator").await;
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({"title": "短い"}), "title", "too_short"),
        (json!({"title": "長".repeat(101)}), "title", "too_long"),
        (json!({"description": ""}), "description", "required"),
        (
            json!({"description": "あ".repeat(5001)}),
            "description",
            "too_long",
        ),
        (
            json!({"category": "cooking"}),
            "category",
            "unknown_category",
        ),
        (json!({"price_yen": 499}), "price_yen", "out_of_range"),
        (json!({"price_yen": 1_000_001}), "price_yen", "out_of_range"),
        (json!({"delivery_days": 0}), "delivery_days", "out_of_range"),
        (
            json!({"delivery_days": 121}),
            "delivery_days",
            "out_of_range",
        ),
        (
            json!({"options": vec![json!({"title": "追加", "price_yen": 1000}); 11]}),
            "options",
            "too_many",
        ),
        (
            json!({"options": [{"title": "", "price_yen": 1000}]}),
            "options[0].title",
            "required",
        ),
        (
            json!({"options": [{"title": "追加", "price_yen": 100}]}),
            "options[0].price_yen",
            "out_of_range",
        ),
        (
            json!({"options": [{"title": "追加", "price_yen": 1000, "extra_days": 121}]}),
            "options[0].extra_days",
            "out_of_range",
        ),
    ];
    for (patch, field, code) in cases {
        let mut body = listing_body("ロゴデザインを作成します", 5000);
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = app
            .post("/api/v1/listings", Some(&seller.token), body)
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {r:?}");
        assert!(
            field_codes(&r).contains(&(field.to_string(), code.to_string())),
            "{field} {code}: {r:?}"
        );
    }
    let r = app
        .post("/api/v1/listings", Some(&seller.token), json!({}))
        .await;
    assert_eq!(
        field_codes(&r).len(),
        5,
        "all missing fields at once: {r:?}"
    );
    assert!(
        ids(&app
            .get("/api/v1/me/listings", Some(&seller.token))
            .await
            .body)
        .is_empty(),
        "nothing stored"
    );
}

#[tokio::test]
async fn an_invalid_update_leaves_the_listing_unchanged() {
    let app = TestApp::spawn().await;
    let seller = app.user("careful").await;
    let id = app
        .post(
            "/api/v1/listings",
            Some(&seller.token),
            listing_body("ロゴデザインを作成します", 5000),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/listings/{id}");
    let r = app
        .patch(
            &path,
            Some(&seller.token),
            json!({"title": "短い", "price_yen": 8000}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let now = app.get(&path, None).await;
    assert_eq!(now.body["price_yen"], 5000);
    assert_eq!(now.body["options"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_public_list_filters_by_category_price_and_words_and_sorts() {
    let app = TestApp::spawn().await;
    let seller = app.user("lister").await;
    let mut made = vec![];
    for (title, category, price) in [
        ("ロゴデザインを作成します", "design", 5000),
        ("ホームページ制作を承ります", "web", 80000),
        ("名刺デザインを作成します", "design", 3000),
        ("タロットで恋愛を占います", "fortune", 2000),
    ] {
        let mut body = listing_body(title, price);
        body["category"] = json!(category);
        let r = app
            .post("/api/v1/listings", Some(&seller.token), body)
            .await;
        made.push(r.body["id"].as_str().unwrap().to_string());
        app.advance(60).await; // distinct creation times
    }
    let newest_first: Vec<String> = made.iter().rev().cloned().collect();
    assert_eq!(
        ids(&app.get("/api/v1/listings?sort=new", None).await.body),
        newest_first
    );
    assert_eq!(
        ids(&app.get("/api/v1/listings", None).await.body),
        newest_first,
        "equal recommended scores fall back to the newest first"
    );
    assert_eq!(
        ids(&app.get("/api/v1/listings?sort=price_asc", None).await.body),
        [
            made[3].clone(),
            made[2].clone(),
            made[0].clone(),
            made[1].clone()
        ]
    );
    assert_eq!(
        ids(&app.get("/api/v1/listings?sort=price_desc", None).await.body)[0],
        made[1]
    );
    assert_eq!(
        ids(&app
            .get("/api/v1/listings?category=design&sort=price_asc", None)
            .await
            .body),
        [made[2].clone(), made[0].clone()]
    );
    assert_eq!(
        ids(&app
            .get(
                "/api/v1/listings?min_price_yen=2500&max_price_yen=5000&sort=price_asc",
                None
            )
            .await
            .body),
        [made[2].clone(), made[0].clone()]
    );
    let q = app
        .get(
            "/api/v1/listings?q=%E3%83%87%E3%82%B6%E3%82%A4%E3%83%B3&sort=price_asc",
            None,
        )
        .await; // デザイン
    assert_eq!(ids(&q.body), [made[2].clone(), made[0].clone()]);
    let r = app.get("/api/v1/listings?category=cooking", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn pages_follow_the_cursor_without_gaps_or_repeats() {
    let app = TestApp::spawn().await;
    let seller = app.user("pager").await;
    let mut made = vec![];
    for i in 0..5 {
        // Equal prices force the id tie-breaker.
        let r = app
            .post(
                "/api/v1/listings",
                Some(&seller.token),
                listing_body(&format!("同じ価格のサービス{i}"), 1000),
            )
            .await;
        made.push(r.body["id"].as_str().unwrap().to_string());
    }
    for sort in ["new", "price_asc", "price_desc"] {
        let mut seen = vec![];
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                None => format!("/api/v1/listings?sort={sort}&limit=2"),
                Some(c) => format!("/api/v1/listings?sort={sort}&limit=2&cursor={c}"),
            };
            let page = app.get(&path, None).await;
            assert_eq!(page.status, StatusCode::OK, "{page:?}");
            seen.extend(ids(&page.body));
            match page.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 5, "{sort}: {seen:?}");
        assert_eq!(seen.len(), 5, "{sort}: no repeats");
    }
    assert_eq!(
        app.get("/api/v1/listings?limit=0", None).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.get("/api/v1/listings?limit=101", None).await.status,
        StatusCode::BAD_REQUEST
    );
}

/// `q` as a query-string value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Every page of a list path, following the cursor.
async fn all_pages(app: &TestApp, path: &str, token: Option<&str>) -> Vec<String> {
    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let page = match &cursor {
            None => app.get(path, token).await,
            Some(c) => app.get(&format!("{path}&cursor={c}"), token).await,
        };
        assert_eq!(page.status, StatusCode::OK, "{path}: {page:?}");
        seen.extend(ids(&page.body));
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(seen.len() <= 100, "{path} does not end");
    }
    seen
}

/// Listings whose words are common alone but rare together, LIKE wildcards, one-character words
/// and folded forms. Prices rise with the index, so `price_asc` lists them in index order.
const SEARCH_CORPUS: &[(&str, &str)] = &[
    (
        "ロゴデザインを作成します",
        "シンプルなロゴを丁寧に制作します。",
    ),
    ("名刺のロゴを作ります", "名刺とロゴのセットです。"),
    ("ロゴマークを作ります", "商用利用できます。"),
    ("英語の翻訳を承ります", "ビジネス文書の翻訳です。"),
    ("中国語翻訳いたします", "丁寧な翻訳をお約束します。"),
    ("韓国語の翻訳を承ります", "短納期で対応します。"),
    ("ロゴの翻訳も承ります", "海外向けのロゴと翻訳をまとめて。"),
    ("タロットで占います", "未来を一緒に見ていきます。"),
    ("満足度100%保証の作業", "満足できなければ返金します。"),
    ("100円から受け付けます", "お試しにどうぞ。"),
    ("a_b形式のデータ入力", "表計算の入力です。"),
    ("axb形式のデータ入力", "表計算の入力です。"),
];

async fn search_corpus(app: &TestApp) -> (crate::helpers::TestUser, Vec<String>) {
    let seller = app.user("searcher").await;
    let mut made = vec![];
    for (i, (title, description)) in SEARCH_CORPUS.iter().enumerate() {
        let mut body = listing_body(title, 1000 + 100 * i as i64);
        body["description"] = json!(description);
        let r = app
            .post("/api/v1/listings", Some(&seller.token), body)
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        made.push(r.body["id"].as_str().unwrap().to_string());
    }
    (seller, made)
}

#[tokio::test]
async fn search_returns_exactly_the_listings_containing_every_word() {
    let app = TestApp::spawn().await;
    let (_, made) = search_corpus(&app).await;
    let pick = |idx: &[usize]| -> Vec<String> { idx.iter().map(|&i| made[i].clone()).collect() };
    for (q, want) in [
        ("ロゴ", pick(&[0, 1, 2, 6])),
        ("ﾛｺﾞ", pick(&[0, 1, 2, 6])),
        ("翻訳", pick(&[3, 4, 5, 6])),
        // Each word is common, the combination is in one listing.
        ("ロゴ 翻訳", pick(&[6])),
        ("翻訳　ロゴ", pick(&[6])),
        ("ロゴと翻訳", pick(&[6])),
        // Every bigram of ごの翻 is somewhere, the word nowhere but in 6.
        ("ゴの翻", pick(&[6])),
        ("ゴ翻", vec![]),
        ("ロゴマーク", pick(&[2])),
        // One-character words.
        ("占", pick(&[7])),
        ("ロ 訳", pick(&[6])),
        // LIKE wildcards are plain characters.
        ("100%", pick(&[8])),
        ("%", pick(&[8])),
        ("a_b", pick(&[10])),
        ("A_B", pick(&[10])),
        ("_", pick(&[10])),
        ("存在しない言葉", vec![]),
    ] {
        for limit in [1, 2, 20] {
            let path = format!("/api/v1/listings?q={}&sort=price_asc&limit={limit}", enc(q));
            assert_eq!(
                all_pages(&app, &path, None).await,
                want,
                "q={q} limit={limit}"
            );
        }
        let mut descending = want.clone();
        descending.reverse();
        let path = format!("/api/v1/listings?q={}&sort=price_desc&limit=3", enc(q));
        assert_eq!(all_pages(&app, &path, None).await, descending, "q={q}");
    }
}

#[tokio::test]
async fn search_follows_edits_pauses_and_filters() {
    let app = TestApp::spawn().await;
    let (seller, made) = search_corpus(&app).await;
    let search = |q: &str| format!("/api/v1/listings?q={}&sort=price_asc&limit=2", enc(q));
    // An edit takes the old words out of the search and puts the new ones in.
    let r = app
        .patch(
            &format!("/api/v1/listings/{}", made[6]),
            Some(&seller.token),
            json!({"title": "英文の校正を承ります", "description": "論文の校正です。"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(
        all_pages(&app, &search("ロゴ"), None).await,
        [made[0].clone(), made[1].clone(), made[2].clone()]
    );
    assert!(all_pages(&app, &search("ロゴ 翻訳"), None).await.is_empty());
    assert_eq!(
        all_pages(&app, &search("校正"), None).await,
        [made[6].clone()]
    );
    // A paused listing leaves the public search but stays in its seller's own.
    let r = app
        .post(
            &format!("/api/v1/listings/{}/pause", made[1]),
            Some(&seller.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(
        all_pages(&app, &search("ロゴ"), None).await,
        [made[0].clone(), made[2].clone()]
    );
    let mine = format!(
        "/api/v1/me/listings?q={}&sort=price_asc&limit=1",
        enc("ロゴ")
    );
    assert_eq!(
        all_pages(&app, &mine, Some(&seller.token)).await,
        [made[0].clone(), made[1].clone(), made[2].clone()]
    );
    // Filters apply to the search's candidates.
    let path = format!(
        "/api/v1/listings?q={}&sort=price_asc&min_price_yen=1200&max_price_yen=1500",
        enc("翻訳")
    );
    assert_eq!(
        all_pages(&app, &path, None).await,
        [made[3].clone(), made[4].clone(), made[5].clone()]
    );
    let path = format!("/api/v1/listings?q={}&category=fortune", enc("ロゴ"));
    assert!(all_pages(&app, &path, None).await.is_empty());
}
