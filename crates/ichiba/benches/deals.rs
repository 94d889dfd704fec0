//! Deal-lifecycle load generator: whole deals through the real HTTP API of an in-process server
//! (purchase, the seller's first message, the formal delivery, acceptance, both reviews), from
//! `C` concurrent buyers, in rounds, so the cost per deal can be watched as the sellers' history
//! grows. Twenty calibration deals first count the SQL statements per deal (and how many write).
//! In the same run it measures two ceilings at the same concurrency — the bare database
//! committing the same number of write transactions per deal (one insert and one update each),
//! and the same transactions carrying as many row writes as ichiba's — and the HTTP floor (as
//! many requests to `/healthz`), and prints ichiba's deals/s as a share of each ceiling.
//!
//! Run (see `docs/benchmarks.md`):
//!
//! ```text
//! cargo bench -p ichiba --bench deals -- --backend sqlite --concurrency 1,4,16 --rounds 3 --deals 200
//! cargo bench -p ichiba --bench deals -- --backend postgres \
//!     --postgres-url postgres://postgres@127.0.0.1:5432/postgres
//! ```
//!
//! `--statements` also prints the statements per deal by kind and the mean time of each request.
//! Under `cargo test --benches` (no `--bench` flag) it does nothing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use ichiba::app::{self, AppState};
use ichiba::config::{Backend, Config, DatabaseConfig, database_config};
use ichiba::db::Db;
use serde_json::{Value, json};
use sqlx::Connection;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Counts the SQL statements sqlx executes (its `sqlx::query` events), by summary, while
/// `counting` is on: the calibration deals run with it on, the measured rounds with it off (the
/// events cost their formatting).
#[derive(Default)]
struct Statements {
    counting: AtomicBool,
    seen: Mutex<HashMap<String, u64>>,
}

impl Statements {
    fn get() -> &'static Statements {
        static STATEMENTS: OnceLock<Statements> = OnceLock::new();
        STATEMENTS.get_or_init(Statements::default)
    }

    fn start(&self) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.clear();
        }
        self.counting.store(true, Ordering::SeqCst);
    }

    /// Stops counting; the statements seen, by summary.
    fn stop(&self) -> HashMap<String, u64> {
        self.counting.store(false, Ordering::SeqCst);
        self.seen
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default()
    }
}

struct CountStatements;

/// Time spent per request step (the last path segment) while the statements are counted.
fn request_times() -> &'static Mutex<HashMap<String, (Duration, u32)>> {
    static TIMES: OnceLock<Mutex<HashMap<String, (Duration, u32)>>> = OnceLock::new();
    TIMES.get_or_init(Mutex::default)
}

/// The `summary` field of a statement event.
struct Summary(Option<String>);

impl tracing::field::Visit for Summary {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "summary" {
            self.0 = Some(value.to_string());
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "summary" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CountStatements {
    fn register_callsite(
        &self,
        meta: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        if meta.target() == "sqlx::query" {
            tracing::subscriber::Interest::sometimes()
        } else {
            tracing::subscriber::Interest::never()
        }
    }

    fn enabled(
        &self,
        meta: &tracing::Metadata<'_>,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        meta.target() == "sqlx::query" && Statements::get().counting.load(Ordering::Relaxed)
    }

    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let mut summary = Summary(None);
        event.record(&mut summary);
        if let (Some(summary), Ok(mut seen)) = (summary.0, Statements::get().seen.lock()) {
            *seen.entry(summary).or_default() += 1;
        }
    }
}

/// What a deal's statements are, per deal.
#[derive(Debug, Default, Clone, Copy)]
struct StatementMix {
    /// Every statement, transaction control included.
    all: f64,
    /// INSERT, UPDATE and DELETE.
    writes: f64,
}

fn is_write(summary: &str) -> bool {
    let first = summary
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    matches!(first.as_str(), "INSERT" | "UPDATE" | "DELETE")
}

const SELLERS: usize = 8;
const PASSWORD: &str = "load-test-password";

struct Options {
    backend: Backend,
    postgres_url: String,
    concurrency: Vec<usize>,
    rounds: usize,
    deals: usize,
    show_statements: bool,
}

fn options() -> Result<Option<Options>, BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        return Ok(None);
    }
    let mut o = Options {
        backend: Backend::Sqlite,
        postgres_url: "postgres://postgres@127.0.0.1:5432/postgres".into(),
        concurrency: vec![1, 4, 16],
        rounds: 4,
        deals: 200,
        show_statements: false,
    };
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--backend" => {
                o.backend = match value()?.as_str() {
                    "sqlite" => Backend::Sqlite,
                    "postgres" => Backend::Postgres,
                    other => return Err(format!("unknown backend {other}").into()),
                }
            }
            "--postgres-url" => o.postgres_url = value()?,
            "--concurrency" => {
                o.concurrency = value()?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()?;
            }
            "--rounds" => o.rounds = value()?.parse()?,
            "--deals" => o.deals = value()?.parse()?,
            "--statements" => o.show_statements = true,
            _ => {}
        }
    }
    Ok(Some(o))
}

/// A fresh database of the chosen backend, and how to drop it afterwards.
struct Scratch {
    config: DatabaseConfig,
    _dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

async fn scratch(o: &Options, tag: &str) -> Result<Scratch, BoxError> {
    let dir = tempfile::tempdir()?;
    match o.backend {
        Backend::Sqlite => Ok(Scratch {
            config: database_config(None, dir.path())?,
            _dir: dir,
            postgres: None,
        }),
        Backend::Postgres => {
            let name = format!("ichiba_bench_{tag}_{}", std::process::id());
            let mut admin = sqlx::PgConnection::connect(&o.postgres_url).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name}"
            )))
            .execute(&mut admin)
            .await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut admin)
                .await?;
            let (base, query) = match o.postgres_url.split_once('?') {
                Some((b, q)) => (b.to_string(), format!("?{q}")),
                None => (o.postgres_url.clone(), String::new()),
            };
            let root = base.rsplit_once('/').map_or(base.as_str(), |(r, _)| r);
            let url = format!("{root}/{name}{query}");
            Ok(Scratch {
                config: database_config(Some(&url), dir.path())?,
                _dir: dir,
                postgres: Some((o.postgres_url.clone(), name)),
            })
        }
    }
}

impl Scratch {
    async fn drop_database(self) {
        if let Some((admin_url, name)) = self.postgres
            && let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await
        {
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut admin)
            .await;
        }
    }
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> Result<Value, BoxError> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await?;
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(format!("{path}: {status} {body}").into());
        }
        Ok(body)
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Result<Value, BoxError> {
        let started = Instant::now();
        let r = self.call(reqwest::Method::POST, path, token, body).await;
        if Statements::get().counting.load(Ordering::Relaxed)
            && let Ok(mut times) = request_times().lock()
        {
            // The step: the path without its order id.
            let step = path.rsplit('/').next().unwrap_or(path).to_string();
            let e = times.entry(step).or_default();
            e.0 += started.elapsed();
            e.1 += 1;
        }
        r
    }

    /// Registers and logs in; (user id, token).
    async fn user(&self, email: &str, name: &str) -> Result<(String, String), BoxError> {
        let u = self
            .post(
                "/api/v1/users",
                None,
                json!({"email": email, "password": PASSWORD, "display_name": name}),
            )
            .await?;
        let s = self
            .post(
                "/api/v1/sessions",
                None,
                json!({"email": email, "password": PASSWORD}),
            )
            .await?;
        Ok((
            u["id"].as_str().unwrap_or_default().to_string(),
            s["token"].as_str().unwrap_or_default().to_string(),
        ))
    }
}

/// One whole deal; its latency.
async fn deal(
    c: &Client,
    buyer: &str,
    seller: &str,
    listing: &str,
    n: usize,
) -> Result<Duration, BoxError> {
    let t = Instant::now();
    let order = c
        .post(
            "/api/v1/orders",
            Some(buyer),
            json!({"listing_id": listing}),
        )
        .await?;
    let id = order["id"].as_str().ok_or("no order id")?.to_string();
    c.post(
        &format!("/api/v1/orders/{id}/messages"),
        Some(seller),
        json!({"body": format!("ご購入ありがとうございます。{n}件目のご依頼、さっそく作業を始めます。")}),
    )
    .await?;
    c.post(
        &format!("/api/v1/orders/{id}/deliveries"),
        Some(seller),
        json!({"body": "納品いたします。ご確認をお願いいたします。"}),
    )
    .await?;
    c.post(
        &format!("/api/v1/orders/{id}/accept"),
        Some(buyer),
        json!({}),
    )
    .await?;
    c.post(
        &format!("/api/v1/orders/{id}/reviews"),
        Some(buyer),
        json!({"public_rating": 5, "comment": "丁寧な対応ありがとうございました。", "private_rating": 5}),
    )
    .await?;
    c.post(
        &format!("/api/v1/orders/{id}/reviews"),
        Some(seller),
        json!({"public_rating": 5, "comment": "スムーズなお取引でした。", "private_rating": 5}),
    )
    .await?;
    Ok(t.elapsed())
}

struct Market {
    client: Arc<Client>,
    state: AppState,
    sellers: Vec<(String, String)>,
    buyers: Vec<String>,
}

async fn market(db: &DatabaseConfig, buyers: usize) -> Result<Market, BoxError> {
    let data = tempfile::tempdir()?;
    let config = Config {
        data_dir: data.path().to_path_buf(),
        database: db.clone(),
        dev_clock: false,
        trust_forwarded_for: false,
        secure_cookies: false,
        zengin: Default::default(),
    };
    let state = AppState::open(config).await?;
    // As `ichiba serve` does: finished deals refresh their seller's reputation off the request path.
    ichiba::reputation::spawn_refresher(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let router = app::router(state.clone());
    tokio::spawn(async move {
        let _keep = data;
        let _ = ichiba::server::run(
            listener,
            router,
            ichiba::server::Limits::default(),
            std::future::pending(),
        )
        .await;
    });
    let client = Arc::new(Client {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()?,
        base,
    });
    let mut sellers = Vec::new();
    for i in 0..SELLERS {
        let (_, token) = client
            .user(&format!("seller{i}@load.example.jp"), &format!("出品者{i}"))
            .await?;
        let l = client
            .post(
                "/api/v1/listings",
                Some(&token),
                json!({
                    "title": format!("ロゴデザインを丁寧に作成します（負荷試験{i}）"),
                    "description": "ヒアリングから納品まで、ご要望に合わせて丁寧に対応いたします。修正にも柔軟に対応します。",
                    "category": "design",
                    "price_yen": 5000,
                    "delivery_days": 7
                }),
            )
            .await?;
        sellers.push((token, l["id"].as_str().unwrap_or_default().to_string()));
    }
    let mut tokens = Vec::new();
    for i in 0..buyers {
        let (_, token) = client
            .user(&format!("buyer{i}@load.example.jp"), &format!("購入者{i}"))
            .await?;
        tokens.push(token);
    }
    Ok(Market {
        client,
        state,
        sellers,
        buyers: tokens,
    })
}

/// Runs `deals` deals with `concurrency` buyers at once; (deals/s, p50, p99, write tx per deal).
async fn round(
    m: &Market,
    concurrency: usize,
    deals: usize,
) -> Result<(f64, Duration, Duration, f64), BoxError> {
    let next = Arc::new(AtomicUsize::new(0));
    let before = m.state.db.write_transactions();
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..concurrency {
        let client = Arc::clone(&m.client);
        let buyer = m.buyers[w].clone();
        let sellers = m.sellers.clone();
        let next = Arc::clone(&next);
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= deals {
                    return Ok::<_, BoxError>(lat);
                }
                let (seller, listing) = &sellers[n % sellers.len()];
                lat.push(deal(&client, &buyer, seller, listing, n).await?);
            }
        }));
    }
    let mut lat = Vec::new();
    for w in workers {
        lat.extend(w.await??);
    }
    let secs = started.elapsed().as_secs_f64();
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    let txs = (m.state.db.write_transactions() - before) as f64 / deals as f64;
    Ok((deals as f64 / secs, pct(0.5), pct(0.99), txs))
}

/// The bare database's commit rate at `concurrency`: each transaction makes `writes` row writes
/// (at least two): it inserts `writes - 1` rows and updates the writer's counter row, as ichiba's
/// write transactions at least do. Commits/s.
async fn ceiling(
    db: &DatabaseConfig,
    concurrency: usize,
    commits: usize,
    writes: usize,
) -> Result<f64, BoxError> {
    let db = Db::connect(db, u32::try_from(concurrency.max(2))?).await?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS bare_rows (id TEXT PRIMARY KEY, body TEXT NOT NULL, at BIGINT NOT NULL); \
         CREATE TABLE IF NOT EXISTS bare_counters (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)",
    )
    .execute(db.pool())
    .await?;
    for w in 0..concurrency {
        sqlx::query("INSERT INTO bare_counters (id, n) VALUES ($1, 0) ON CONFLICT (id) DO NOTHING")
            .bind(i64::try_from(w)?)
            .execute(db.pool())
            .await?;
    }
    let inserts = writes.max(2) - 1;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..concurrency {
        let db = db.clone();
        let next = Arc::clone(&next);
        workers.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < commits {
                let mut tx = db.begin().await?;
                for _ in 0..inserts {
                    sqlx::query("INSERT INTO bare_rows (id, body, at) VALUES ($1, $2, $3)")
                        .bind(ichiba::db::new_id())
                        .bind("ご購入ありがとうございます。さっそく作業を始めます。")
                        .bind(0_i64)
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query("UPDATE bare_counters SET n = n + 1 WHERE id = $1")
                    .bind(i64::try_from(w)?)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
            Ok::<_, BoxError>(())
        }));
    }
    for w in workers {
        w.await??;
    }
    let rate = commits as f64 / started.elapsed().as_secs_f64();
    db.close().await;
    Ok(rate)
}

/// The HTTP floor: as many requests as `deals` deals make (six each), to `/healthz` (no database,
/// no JSON body), from the same client at the same concurrency. Deals/s if a deal cost only its
/// requests.
async fn http_floor(m: &Market, concurrency: usize, deals: usize) -> Result<f64, BoxError> {
    let requests = deals * 6;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let client = Arc::clone(&m.client);
        let next = Arc::clone(&next);
        workers.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < requests {
                let r = client
                    .http
                    .get(format!("{}/healthz", client.base))
                    .send()
                    .await?;
                r.bytes().await?;
            }
            Ok::<_, BoxError>(())
        }));
    }
    for w in workers {
        w.await??;
    }
    Ok(deals as f64 / started.elapsed().as_secs_f64())
}

/// Runs `deals` deals one at a time with the statement counter on: the statements per deal.
async fn calibrate(m: &Market, deals: usize, show: bool) -> Result<StatementMix, BoxError> {
    let counter = Statements::get();
    counter.start();
    let ran = round(m, 1, deals).await;
    // Statements of the last deal's off-path work (the reputation refresh) finish just after it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let seen = counter.stop();
    ran?;
    let per_deal = |n: u64| n as f64 / deals as f64;
    let mut mix = StatementMix::default();
    for (summary, n) in &seen {
        if summary.starts_with("PRAGMA") {
            continue;
        }
        mix.all += per_deal(*n);
        if is_write(summary) {
            mix.writes += per_deal(*n);
        }
    }
    if show {
        let mut rows: Vec<_> = seen.into_iter().collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        if let Ok(times) = request_times().lock() {
            println!("  mean time per request ({deals} deals, one at a time, counting on):");
            for (step, (t, n)) in times.iter() {
                println!(
                    "    {:>8.2} ms  {step}",
                    t.as_secs_f64() * 1000.0 / f64::from(*n)
                );
            }
        }
        println!("  statements per deal ({deals} deals, one at a time):");
        for (summary, n) in rows {
            println!("    {:>6.2}  {summary}", per_deal(n));
        }
    }
    Ok(mix)
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let Some(o) = options()? else { return Ok(()) };
    {
        use tracing_subscriber::layer::SubscriberExt;
        tracing::subscriber::set_global_default(
            tracing_subscriber::registry().with(CountStatements),
        )?;
    }
    let max_c = o.concurrency.iter().copied().max().unwrap_or(1);
    println!(
        "deal lifecycle, {:?}: purchase, first message, delivery, acceptance, two reviews; {} sellers, {} deals per round",
        o.backend, SELLERS, o.deals
    );
    for &c in &o.concurrency {
        let app_db = scratch(&o, "app").await?;
        let bare_db = scratch(&o, "bare").await?;
        let m = market(&app_db.config, max_c).await?;
        let mix = calibrate(&m, 20, o.show_statements && c == o.concurrency[0]).await?;
        println!(
            "  c={c}: {:.1} statements per deal, {:.1} of them writes (INSERT, UPDATE, DELETE)",
            mix.all, mix.writes
        );
        println!(
            "{:>3} {:>5} {:>9} {:>8} {:>8} {:>8} {:>6} {:>6} {:>10} {:>7} {:>10} {:>7} {:>10}",
            "c",
            "round",
            "history",
            "deals/s",
            "p50 ms",
            "p99 ms",
            "tx/d",
            "wr/d",
            "tx-ceil/s",
            "share",
            "wr-ceil/s",
            "share",
            "http-floor"
        );
        let mut shares = Vec::new();
        let mut write_shares = Vec::new();
        for r in 0..o.rounds {
            let history = 20 + r * o.deals;
            let (rate, p50, p99, txs) = round(&m, c, o.deals).await?;
            let commits = (o.deals as f64 * txs).ceil() as usize;
            // Two ceilings: the same number of transactions with one insert and one update
            // each, and the same transactions carrying as many row writes as ichiba's did.
            let per_tx = (mix.writes / txs.max(1.0)).round() as usize;
            let tx_ceiling = ceiling(&bare_db.config, c, commits, 2).await? / txs.max(1.0);
            let write_ceiling = ceiling(&bare_db.config, c, commits, per_tx).await? / txs.max(1.0);
            let floor = http_floor(&m, c, o.deals).await?;
            shares.push(rate / tx_ceiling);
            write_shares.push(rate / write_ceiling);
            println!(
                "{c:>3} {r:>5} {history:>9} {rate:>8.1} {:>8} {:>8} {txs:>6.1} {:>6.1} {tx_ceiling:>10.1} {:>6.1}% {write_ceiling:>10.1} {:>6.1}% {floor:>10.1}",
                ms(p50),
                ms(p99),
                mix.writes,
                rate / tx_ceiling * 100.0,
                rate / write_ceiling * 100.0,
            );
        }
        let range = |v: &[f64]| {
            let (lo, hi) = v
                .iter()
                .fold((f64::MAX, f64::MIN), |(lo, hi), s| (lo.min(*s), hi.max(*s)));
            format!("{:.1}–{:.1}%", lo * 100.0, hi * 100.0)
        };
        println!(
            "    c={c}: share of the bare database's ceiling over {} rounds: {} (same transactions), {} (same transactions and row writes)",
            o.rounds,
            range(&shares),
            range(&write_shares)
        );
        m.state.db.close().await;
        app_db.drop_database().await;
        bare_db.drop_database().await;
    }
    Ok(())
}
