//! The web app over HTTP (no browser): cookies, CSRF, security headers, authorisation, and the
//! forms of the deal reaching the same services as the API. The browser tests in `e2e/` cover
//! JavaScript and live updates.

use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;
use serde_json::json;

use crate::helpers::{CSRF, Page, TestApp, TestUser, client, cookies, get, page, post_form};

#[tokio::test]
async fn pages_carry_security_headers_and_a_csrf_cookie() {
    let app = TestApp::spawn().await;
    let r = client().get(app.url("/")).send().await.expect("request");
    assert_eq!(r.status(), StatusCode::OK);
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    let set: Vec<_> = r.headers().get_all(SET_COOKIE).iter().collect();
    let csrf = set
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("ichiba_csrf="))
        .expect("a CSRF cookie");
    assert!(
        csrf.contains("HttpOnly") && csrf.contains("SameSite=Lax"),
        "{csrf}"
    );
    assert!(
        !csrf.contains("Secure"),
        "plain http must not get Secure: {csrf}"
    );
    let html = r.text().await.unwrap();
    assert!(html.contains("<html lang=\"ja\">"));
    assert!(!html.contains("style=\""), "inline styles break the CSP");
    // Unknown pages are the HTML 404 page, the API keeps its JSON.
    let p = get(&app, "/no-such-page", None).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    assert!(p.html.contains("ページが見つかりません"));
}

#[tokio::test]
async fn secure_cookies_when_configured() {
    let app = TestApp::spawn_with(|c| c.secure_cookies = true).await;
    let p = get(&app, "/login", None).await;
    let r = client().get(app.url("/login")).send().await.unwrap();
    let set: Vec<String> = r
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    assert!(
        set.iter()
            .any(|c| c.starts_with("ichiba_csrf=") && c.contains("Secure")),
        "{set:?}"
    );
    assert_eq!(p.status, StatusCode::OK);
}

#[tokio::test]
async fn sign_up_needs_the_csrf_token_and_logs_the_user_in() {
    let app = TestApp::spawn().await;
    let email = format!("web-{}@example.jp", ichiba::db::new_id());
    let form = [
        ("display_name", "ウェブ太郎"),
        ("email", email.as_str()),
        ("password", "password-123"),
        ("next", "/orders"),
    ];
    // Without the token: refused, nothing created.
    let p = post_form(&app, "/signup", None, &form).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let login = app
        .post(
            "/api/v1/sessions",
            None,
            json!({"email": email, "password": "password-123"}),
        )
        .await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED);
    // A token that differs from the cookie is refused too.
    let mut wrong = form.to_vec();
    wrong.push(("csrf", "ZZZZefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"));
    assert_eq!(
        post_form(&app, "/signup", None, &wrong).await.status,
        StatusCode::FORBIDDEN
    );
    // With it: a session cookie and a redirect to `next`.
    let mut ok = form.to_vec();
    ok.push(("csrf", CSRF));
    let p = post_form(&app, "/signup", None, &ok).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    assert_eq!(p.location(), "/orders");
    let session = p
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("ichiba_session="))
        .expect("session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    let token = session
        .trim_start_matches("ichiba_session=")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    // The cookie is a real session: the page greets the user, the API accepts it.
    let home = get(&app, "/", Some(&token)).await;
    assert!(home.html.contains("ウェブ太郎"));
    assert_eq!(
        app.get("/api/v1/me", Some(&token)).await.status,
        StatusCode::OK
    );
    // An invalid form comes back with the field errors and keeps the input.
    let bad = post_form(
        &app,
        "/signup",
        None,
        &[
            ("csrf", CSRF),
            ("display_name", "花子"),
            ("email", "not-an-email"),
            ("password", "x"),
        ],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.html.contains("role=\"alert\"") && bad.html.contains("value=\"花子\""));
    // Logging out ends the session.
    let out = post_form(&app, "/logout", Some(&token), &[("csrf", CSRF)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get("/api/v1/me", Some(&token)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn login_form_reports_wrong_passwords_and_refuses_other_origins() {
    let app = TestApp::spawn().await;
    let user = app.user("login").await;
    let p = post_form(
        &app,
        "/login",
        None,
        &[
            ("csrf", CSRF),
            ("email", &user.email),
            ("password", "wrong-password"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    assert!(
        p.html
            .contains("メールアドレスまたはパスワードが正しくありません")
    );
    // A post from another site is refused even with the right token.
    let r = client()
        .post(app.url("/login"))
        .header("cookie", cookies(None))
        .header("origin", "https://evil.example")
        .form(&[
            ("csrf", CSRF),
            ("email", user.email.as_str()),
            ("password", "password-123"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // An open redirect through `next` is not followed.
    let p = post_form(
        &app,
        "/login",
        None,
        &[
            ("csrf", CSRF),
            ("email", &user.email),
            ("password", "password-123"),
            ("next", "//evil.example/x"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(p.location(), "/");
}

#[tokio::test]
async fn search_page_finds_listings_by_japanese_words() {
    let app = TestApp::spawn().await;
    let seller = app.user("seller").await;
    let listing = app.listing(&seller, 5000).await;
    let id = listing["id"].as_str().unwrap();
    let p = get(&app, "/search?q=%E3%83%AD%E3%82%B4", None).await; // ロゴ
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.html.contains(&format!("/listings/{id}")), "{}", p.html);
    assert!(p.html.contains("5,000円"));
    // Katakana typed as hiragana finds it too (the service folds both).
    let p = get(&app, "/search?q=%E3%82%8D%E3%81%94", None).await; // ろご
    assert!(p.html.contains(&format!("/listings/{id}")));
    let p = get(&app, "/search?q=%E5%AE%B6%E7%B3%BB%E5%9B%B3", None).await; // 家系図
    assert!(!p.html.contains(&format!("/listings/{id}")));
    let p = get(&app, &format!("/listings/{id}"), None).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.html.contains("購入する") && p.html.contains("特急対応"));
}

async fn order_id_from(p: &Page) -> String {
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    p.location()
        .trim_start_matches("/orders/")
        .split('#')
        .next()
        .unwrap()
        .to_string()
}

/// Posts the talk-room composer as the browser does (multipart).
async fn compose(
    app: &TestApp,
    user: &TestUser,
    order: &str,
    body: &str,
    file: Option<(&str, Vec<u8>)>,
    deliver: bool,
) -> Page {
    let mut form = reqwest::multipart::Form::new()
        .text("csrf", CSRF)
        .text("body", body.to_string());
    if deliver {
        form = form.text("deliver", "1");
    }
    if let Some((name, bytes)) = file {
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
        );
    }
    let r = client()
        .post(app.url(&format!("/orders/{order}/messages")))
        .header("cookie", cookies(Some(&user.token)))
        .multipart(form)
        .send()
        .await
        .unwrap();
    page(r).await
}

#[tokio::test]
async fn the_deal_runs_through_the_forms() {
    let app = TestApp::spawn().await;
    let seller = app.user("seller").await;
    let buyer = app.user("buyer").await;
    let stranger = app.user("stranger").await;
    let listing = app.listing(&seller, 2000).await;
    let lid = listing["id"].as_str().unwrap();
    let option = listing["options"][0]["id"].as_str().unwrap();

    // Anonymous: the purchase page asks for a login and comes back.
    let p = get(&app, &format!("/listings/{lid}/purchase"), None).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert!(
        p.location().starts_with("/login?next=/listings/"),
        "{}",
        p.location()
    );

    // The confirmation shows the 5.5 % fee from the same policy as the purchase.
    let p = get(
        &app,
        &format!("/listings/{lid}/purchase"),
        Some(&buyer.token),
    )
    .await;
    assert!(p.html.contains("110円"), "5.5% of 2,000 is 110: {}", p.html);
    let q = get(
        &app,
        &format!("/listings/{lid}/purchase/quote?option={option}"),
        None,
    )
    .await;
    let quote: serde_json::Value = serde_json::from_str(&q.html).unwrap();
    assert_eq!(quote["subtotal"], "5,000円");
    assert_eq!(quote["fee"], "275円");

    // A declined card keeps the buyer on the page with the reason; nothing is bought.
    let p = post_form(
        &app,
        &format!("/listings/{lid}/purchase"),
        Some(&buyer.token),
        &[
            ("csrf", CSRF),
            ("payment", "tok_decline"),
            ("key", "k-declined"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::PAYMENT_REQUIRED);
    assert!(p.html.contains("お支払いが承認されませんでした"));

    let form = [
        ("csrf", CSRF),
        ("option", option),
        ("payment", "tok_ok"),
        ("key", "k-1"),
    ];
    let p = post_form(
        &app,
        &format!("/listings/{lid}/purchase"),
        Some(&buyer.token),
        &form,
    )
    .await;
    let order = order_id_from(&p).await;
    // A double submit of the same form buys nothing more.
    let again = post_form(
        &app,
        &format!("/listings/{lid}/purchase"),
        Some(&buyer.token),
        &form,
    )
    .await;
    assert_eq!(order_id_from(&again).await, order);
    let mine = app
        .get("/api/v1/orders?role=buyer", Some(&buyer.token))
        .await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(app.order(&buyer, &order).await["options_yen"], 3000);

    // 取引管理 lists it for the seller with the 48-hour clock.
    let p = get(&app, "/orders?role=seller", Some(&seller.token)).await;
    assert!(
        p.html.contains(&format!("/orders/{order}")) && p.html.contains("自動キャンセル"),
        "{}",
        p.html
    );

    // Only the parties see the talk room.
    assert_eq!(
        get(&app, &format!("/orders/{order}"), Some(&stranger.token))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        compose(&app, &stranger, &order, "こんにちは", None, false)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let anon = get(&app, &format!("/orders/{order}"), None).await;
    assert_eq!(anon.status, StatusCode::SEE_OTHER);
    assert!(anon.location().starts_with("/login?next="));

    // A template is filled in for this order.
    let templates = app.get("/api/v1/me/templates", Some(&seller.token)).await;
    let tid = templates.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let p = get(
        &app,
        &format!("/orders/{order}?template={tid}"),
        Some(&seller.token),
    )
    .await;
    assert!(
        p.html.contains(">buyer様"),
        "the composer holds the template with the buyer's name"
    );

    // The seller greets; the order starts.
    let p = compose(
        &app,
        &seller,
        &order,
        "ご購入ありがとうございます。",
        None,
        false,
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    assert_eq!(app.order(&buyer, &order).await["state"], "in_progress");

    // The seller moves the due date; both see the change in the room's history.
    let new_due = (chrono::Utc::now() + chrono::Duration::days(20))
        .format("%Y-%m-%d")
        .to_string();
    let p = post_form(
        &app,
        &format!("/orders/{order}/due-date"),
        Some(&seller.token),
        &[("csrf", CSRF), ("due_date", &new_due)],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let room = get(&app, &format!("/orders/{order}"), Some(&buyer.token)).await;
    assert!(
        room.html.contains("お届け予定日の変更履歴（1件）"),
        "{}",
        room.html
    );
    assert_eq!(
        post_form(
            &app,
            &format!("/orders/{order}/due-date"),
            Some(&buyer.token),
            &[("csrf", CSRF), ("due_date", &new_due)]
        )
        .await
        .status,
        StatusCode::FORBIDDEN,
        "only the seller sets the due date"
    );

    // A LINE id is blocked: 422, the text stays in the composer, the span is marked, nothing sent.
    let text = "LINEのIDは taro_88 です。追加してください";
    let p = compose(&app, &seller, &order, text, None, false).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains("<mark>"), "{}", p.html);
    assert!(
        p.html.contains("taro_88</mark>") || p.html.contains("<mark>taro_88"),
        "{}",
        p.html
    );
    assert!(p.html.contains(&format!(">{text}</textarea>")));
    assert!(p.html.contains("運営に確認を依頼する"));
    let msgs = app
        .get(
            &format!("/api/v1/orders/{order}/messages"),
            Some(&buyer.token),
        )
        .await;
    assert!(!msgs.body.to_string().contains("taro_88"));

    // The formal delivery with an attachment.
    let png = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0];
    let p = compose(
        &app,
        &seller,
        &order,
        "納品いたします。",
        Some(("logo.png", png)),
        true,
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    assert_eq!(app.order(&buyer, &order).await["state"], "delivered");
    let room = get(&app, &format!("/orders/{order}"), Some(&buyer.token)).await;
    assert!(
        room.html.contains("logo.png")
            && room.html.contains("差し戻す")
            && room.html.contains("承諾する")
    );
    let attachment = msgs_attachment(&app, &buyer, &order).await;
    assert_eq!(
        get(
            &app,
            &format!("/attachments/{attachment}"),
            Some(&buyer.token)
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(
        get(
            &app,
            &format!("/attachments/{attachment}"),
            Some(&stranger.token)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    // One send-back, then the button is gone.
    let p = post_form(
        &app,
        &format!("/orders/{order}/send-back"),
        Some(&buyer.token),
        &[("csrf", CSRF), ("reason", "色味を少し明るくしてください。")],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    compose(&app, &seller, &order, "修正版です。", None, true).await;
    let room = get(&app, &format!("/orders/{order}"), Some(&buyer.token)).await;
    assert!(
        room.html.contains("承諾する") && !room.html.contains("差し戻す"),
        "{}",
        room.html
    );

    // Acceptance completes it; both review through the form.
    let p = post_form(
        &app,
        &format!("/orders/{order}/accept"),
        Some(&buyer.token),
        &[("csrf", CSRF)],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(app.order(&buyer, &order).await["state"], "completed");
    let p = post_form(
        &app,
        &format!("/orders/{order}/review"),
        Some(&buyer.token),
        &[
            ("csrf", CSRF),
            ("public_rating", "5"),
            ("comment", "丁寧でした。"),
            ("private_rating", "5"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let p = post_form(
        &app,
        &format!("/orders/{order}/review"),
        Some(&seller.token),
        &[
            ("csrf", CSRF),
            ("public_rating", "9"),
            ("comment", ""),
            ("private_rating", "5"),
        ],
    )
    .await;
    assert_eq!(
        p.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid stars and empty comment"
    );

    // The seller registers a bank account and requests a payout under 3,000 yen: 160 yen fee.
    let lookup = get(
        &app,
        "/bank-account/lookup?bank_code=0001&branch_code=001",
        Some(&seller.token),
    )
    .await;
    assert!(lookup.html.contains("みずほ"), "{}", lookup.html);
    let p = post_form(
        &app,
        "/bank-account",
        Some(&seller.token),
        &[
            ("csrf", CSRF),
            ("bank_code", "0001"),
            ("branch_code", "001"),
            ("account_type", "1"),
            ("account_number", "1234567"),
            ("holder_kana", "デモ タロウ"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let preview = get(&app, "/sales/quote?amount=2000", Some(&seller.token)).await;
    assert!(
        preview.html.contains("振込手数料 160円"),
        "{}",
        preview.html
    );
    let preview = get(&app, "/sales/quote?amount=3000", Some(&seller.token)).await;
    assert!(preview.html.contains("振込手数料 0円"), "{}", preview.html);
    let p = post_form(
        &app,
        "/sales/payouts",
        Some(&seller.token),
        &[("csrf", CSRF), ("amount_yen", "2000"), ("key", "p-1")],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let payouts = app.get("/api/v1/payouts", Some(&seller.token)).await;
    assert_eq!(payouts.body["items"][0]["fee_yen"], 160);
    let sales = get(&app, "/sales", Some(&seller.token)).await;
    assert!(sales.html.contains("2,000円") && sales.html.contains("160円"));
    app.assert_ledger_clean().await;
}

async fn msgs_attachment(app: &TestApp, user: &TestUser, order: &str) -> String {
    let msgs = app
        .get(
            &format!("/api/v1/orders/{order}/messages"),
            Some(&user.token),
        )
        .await;
    msgs.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|m| m["attachments"][0]["id"].as_str().map(str::to_string))
        .expect("an attachment")
}

#[tokio::test]
async fn the_first_reply_clock_and_the_automatic_cancellation_show() {
    let app = TestApp::spawn().await;
    let (seller, buyer, order) = app.deal(3000).await;
    let p = get(&app, &format!("/orders/{order}"), Some(&buyer.token)).await;
    assert!(
        p.html.contains("あと48時間で自動キャンセル")
            || p.html.contains("あと47時間で自動キャンセル"),
        "{}",
        p.html
    );
    app.advance(49 * 3600).await;
    let p = get(&app, &format!("/orders/{order}"), Some(&buyer.token)).await;
    assert!(
        p.html
            .contains("id=\"status\" class=\"status cancelled\">キャンセル<"),
        "{}",
        p.html
    );
    let p = get(&app, "/orders?role=seller", Some(&seller.token)).await;
    assert!(p.html.contains("キャンセル"));
}
