//! `TestApp::spawn()`, a small typed client of the API, and a minimal browser for the web app
//! (session and CSRF cookies sent by hand, redirects not followed).

use ichiba::app::{self, AppState};
use ichiba::config::{Config, database_config};
use ichiba::db::Db;
use ichiba::server::Limits;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

/// A running app on its own database.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub state: AppState,
    config: Config,
    _dir: tempfile::TempDir,
    postgres: Option<PostgresDb>,
}

struct PostgresDb {
    admin_url: String,
    name: String,
}

/// A registered, logged-in user.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub email: String,
    pub token: String,
}

/// Status and JSON body of a response (JSON `null` when the body is empty or not JSON).
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    /// The `error.code` of an error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.body)
    }
}

impl TestApp {
    /// Spawns the app with the manual (dev) clock on.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// Spawns the app after letting the test adjust the configuration.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        Self::spawn_prepared(adjust, async |_: &Db| {}).await
    }

    /// Spawns the app on a database that `prepare` has set up first through a connection of its
    /// own (an older schema with data, say): start-up then migrates it as it would in production.
    pub async fn spawn_prepared(
        adjust: impl FnOnce(&mut Config),
        prepare: impl AsyncFnOnce(&Db),
    ) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, postgres) = match std::env::var("ICHIBA_TEST_POSTGRES_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("ichiba_test_{}", uuid_like());
                create_postgres_db(&admin_url, &name).await;
                (
                    Some(replace_db_name(&admin_url, &name)),
                    Some(PostgresDb { admin_url, name }),
                )
            }
            _ => (None, None),
        };
        let database = database_config(url.as_deref(), dir.path()).expect("database config");
        let mut config = Config {
            data_dir: dir.path().to_path_buf(),
            database,
            dev_clock: true,
            trust_forwarded_for: false,
            secure_cookies: false,
            zengin: Default::default(),
        };
        adjust(&mut config);
        let db = Db::connect(&config.database, 2)
            .await
            .expect("connect to the test database");
        prepare(&db).await;
        db.close().await;
        let (base, state) = serve(config.clone(), Limits::default()).await;
        TestApp {
            base,
            http: reqwest::Client::new(),
            state,
            config,
            _dir: dir,
            postgres,
        }
    }

    /// A second instance of the app on the same database (another "machine"), as its base URL.
    pub async fn sibling(&self) -> String {
        serve(self.config.clone(), Limits::default()).await.0
    }

    /// Another instance on the same database, served within other connection limits.
    pub async fn sibling_with(&self, limits: Limits) -> String {
        serve(self.config.clone(), limits).await.0
    }

    /// Whether the suite runs on PostgreSQL.
    pub fn on_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    async fn send(&self, req: reqwest::RequestBuilder, token: Option<&str>) -> Reply {
        let req = match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        let res = req.send().await.expect("request");
        let status = res.status();
        let text = res.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, body }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(self.http.get(self.url(path)), token).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.send(self.http.post(self.url(path)).json(&body), token)
            .await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.send(self.http.patch(self.url(path)).json(&body), token)
            .await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(self.http.delete(self.url(path)), token).await
    }

    pub async fn send_put(&self, path: &str, user: &TestUser, body: Value) -> Reply {
        self.send(self.http.put(self.url(path)).json(&body), Some(&user.token))
            .await
    }

    /// Uploads a file as `user` and returns the attachment JSON.
    pub async fn upload(&self, user: &TestUser, filename: &str, bytes: Vec<u8>) -> Value {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(filename.to_string());
        let form = reqwest::multipart::Form::new().part("file", part);
        let r = self
            .send(
                self.http
                    .post(self.url("/api/v1/attachments"))
                    .multipart(form),
                Some(&user.token),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        r.body
    }

    /// Sends a raw body with a content type.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let req = self
            .http
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body);
        self.send(req, None).await
    }

    /// Registers a user and logs in.
    pub async fn user(&self, name: &str) -> TestUser {
        let email = format!("{}-{}@example.jp", name, uuid_like());
        self.register(&email, name).await
    }

    /// Registers a user with this email and display name and logs in.
    pub async fn register(&self, email: &str, display_name: &str) -> TestUser {
        let r = self
            .post(
                "/api/v1/users",
                None,
                json!({"email": email, "password": "password-123", "display_name": display_name}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        let id = r.body["id"].as_str().expect("id").to_string();
        let token = self.login(email, "password-123").await;
        TestUser {
            id,
            email: email.to_string(),
            token,
        }
    }

    /// Logs in and returns the token.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let r = self
            .post(
                "/api/v1/sessions",
                None,
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        r.body["token"].as_str().expect("token").to_string()
    }

    /// Registers a user and makes them an operator.
    pub async fn operator(&self, name: &str) -> TestUser {
        let user = self.user(name).await;
        self.grant_operator(&user).await;
        user
    }

    /// Makes a registered user an operator.
    pub async fn grant_operator(&self, user: &TestUser) {
        ichiba::accounts::grant_operator(&self.state.db, self.state.clock.now_ms(), &user.email)
            .await
            .expect("grant operator");
    }

    /// Creates a listing for `seller` and returns its JSON.
    pub async fn listing(&self, seller: &TestUser, price: i64) -> Value {
        let r = self
            .post(
                "/api/v1/listings",
                Some(&seller.token),
                listing_body("ロゴデザインを作成します", price),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        r.body
    }

    /// A seller, a buyer and a purchased order (no options).
    pub async fn deal(&self, price: i64) -> (TestUser, TestUser, String) {
        let seller = self.user("seller").await;
        let buyer = self.user("buyer").await;
        let listing = self.listing(&seller, price).await;
        let id = self
            .purchase(&buyer, listing["id"].as_str().expect("listing id"))
            .await;
        (seller, buyer, id)
    }

    /// `buyer` purchases the listing (no options, no points); the new order's id.
    pub async fn purchase(&self, buyer: &TestUser, listing_id: &str) -> String {
        let r = self
            .post(
                "/api/v1/orders",
                Some(&buyer.token),
                json!({"listing_id": listing_id}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        r.body["id"].as_str().expect("order id").to_string()
    }

    /// The order as the user sees it.
    pub async fn order(&self, user: &TestUser, id: &str) -> Value {
        let r = self
            .get(&format!("/api/v1/orders/{id}"), Some(&user.token))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        r.body
    }

    /// The user's balance.
    pub async fn balance(&self, user: &TestUser) -> Value {
        self.get("/api/v1/me/balance", Some(&user.token)).await.body
    }

    /// Asserts that the whole ledger verifies clean.
    pub async fn assert_ledger_clean(&self) {
        let v = ichiba::ledger::verify(&self.state.db)
            .await
            .expect("verify");
        assert!(v.ok, "ledger problems: {:?}", v.problems);
        assert_eq!(v.imbalance_yen, 0);
    }

    /// Advances the manual clock.
    pub async fn advance(&self, seconds: i64) {
        let r = self
            .post(
                "/api/v1/dev/clock",
                None,
                json!({"advance_seconds": seconds}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
    }
}

/// A valid CSRF token (43 URL-safe characters), used as cookie and form field.
pub const CSRF: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ";

/// A page of the web app as a minimal browser sees it: no redirects followed, cookies sent by hand.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub html: String,
}

impl Page {
    /// The `Location` of a redirect (empty when there is none).
    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The `Set-Cookie` headers.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect()
    }

    /// Whether the response sets a flash message for the next page.
    pub fn sets_flash(&self) -> bool {
        self.set_cookies()
            .iter()
            .any(|c| c.starts_with("ichiba_flash=") && !c.starts_with("ichiba_flash=;"))
    }
}

/// An HTTP client that does not follow redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The `Cookie` header: the CSRF cookie, and the session when logged in.
pub fn cookies(session: Option<&str>) -> String {
    match session {
        Some(t) => format!("ichiba_csrf={CSRF}; ichiba_session={t}"),
        None => format!("ichiba_csrf={CSRF}"),
    }
}

/// `GET`s a page of the web app.
pub async fn get(app: &TestApp, path: &str, session: Option<&str>) -> Page {
    let r = client()
        .get(app.url(path))
        .header("cookie", cookies(session))
        .send()
        .await
        .expect("request");
    page(r).await
}

/// The HTML of a page `user` is logged in to see; the page must answer 200.
pub async fn html_of(app: &TestApp, path: &str, user: &TestUser) -> String {
    let page = get(app, path, Some(&user.token)).await;
    assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.html);
    page.html
}

/// Posts a form to the web app (the caller adds the `csrf` field).
pub async fn post_form(
    app: &TestApp,
    path: &str,
    session: Option<&str>,
    form: &[(&str, &str)],
) -> Page {
    let r = client()
        .post(app.url(path))
        .header("cookie", cookies(session))
        .form(form)
        .send()
        .await
        .expect("request");
    page(r).await
}

/// Reads a response as a page.
pub async fn page(r: reqwest::Response) -> Page {
    Page {
        status: r.status(),
        headers: r.headers().clone(),
        html: r.text().await.unwrap_or_default(),
    }
}

async fn serve(config: Config, limits: Limits) -> (String, AppState) {
    let state = AppState::open(config).await.expect("app starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = app::router(state.clone());
    tokio::spawn(async move {
        ichiba::server::run(listener, router, limits, std::future::pending())
            .await
            .expect("serve");
    });
    (format!("http://{addr}"), state)
}

/// A valid listing body.
pub fn listing_body(title: &str, price: i64) -> Value {
    json!({
        "title": title,
        "description": "丁寧に対応いたします。まずはお気軽にご相談ください。",
        "category": "design",
        "price_yen": price,
        "delivery_days": 7,
        "options": [{"title": "特急対応", "price_yen": 3000, "extra_days": 0}]
    })
}

fn uuid_like() -> String {
    ichiba::db::new_id()
}

fn replace_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let prefix = match base.rfind('/') {
        Some(i) if i > base.find("://").map(|s| s + 2).unwrap_or(0) => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

async fn create_postgres_db(admin_url: &str, name: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("connect to PostgreSQL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    conn.close().await.ok();
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(pg) = self.postgres.take() {
            // Drop runs inside the test's runtime; use a separate thread and runtime to drop the
            // database (FORCE closes the app's pooled connections).
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(rt) = rt {
                    rt.block_on(async move {
                        use sqlx::Connection;
                        if let Ok(mut conn) = sqlx::PgConnection::connect(&pg.admin_url).await {
                            let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", pg.name);
                            let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                                .execute(&mut conn)
                                .await;
                            let _ = conn.close().await;
                        }
                    });
                }
            })
            .join();
        }
    }
}

#[test]
fn the_database_name_is_replaced_in_postgres_urls() {
    assert_eq!(
        replace_db_name("postgres://u@h:5432/postgres", "t1"),
        "postgres://u@h:5432/t1"
    );
    assert_eq!(
        replace_db_name("postgres://u@h/postgres?sslmode=disable", "t1"),
        "postgres://u@h/t1?sslmode=disable"
    );
}
