//! Catalogue benchmark: a reproducible generator (fixed seed) that fills a fresh database with
//! sellers, buyers, listings with Japanese titles and descriptions, options, completed orders and
//! published reviews — with the stored score, rating and rank columns computed by the real
//! `reputation::model` functions — and then times the real list service
//! (`ichiba::listings::list`, what the HTTP handler calls) for search and recommended pages.
//!
//! Run (see `docs/benchmarks.md`):
//!
//! ```text
//! cargo bench -p ichiba --bench catalogue -- \
//!     --sizes 10000:100000,100000:1000000 --backends sqlite,postgres \
//!     --postgres-url postgres://postgres@127.0.0.1:5432/postgres
//! ```
//!
//! With no options it runs 10,000 listings / 100,000 orders on SQLite only. PostgreSQL runs use a
//! freshly created database that is dropped afterwards. With `--reuse` the databases are kept (a
//! SQLite file under the system temporary directory, a PostgreSQL database named
//! `ichiba_bench_reuse_LISTINGS_ORDERS`) and a later `--reuse` run migrates and measures them
//! without generating again. Under `cargo test --benches` (no
//! `--bench` flag) it does nothing.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use ichiba::config::{Backend, DatabaseConfig};
use ichiba::db::Db;
use ichiba::listings::ListQuery;
use ichiba::listings::model::fold_for_search;
use ichiba::listings::store::search_grams;
use ichiba::orders::OrderState;
use ichiba::reputation::model::{self as rep, OrderFact, RatingFact};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sqlx::Connection;

/// "Now" of the generated world: 2025-06-01 00:00 JST.
const NOW_MS: i64 = 1_748_703_600_000;
const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;
const SEED: u64 = 0x1c41_ba5e;

type BoxError = Box<dyn std::error::Error>;

// ---------------------------------------------------------------------------------------------
// Word lists
// ---------------------------------------------------------------------------------------------

/// Subjects per category slug (the category a listing about that subject goes into).
const SUBJECTS: &[(&str, &[&str])] = &[
    (
        "design",
        &[
            "ロゴ",
            "ロゴマーク",
            "名刺",
            "チラシ",
            "バナー",
            "パンフレット",
            "アイコン",
            "パッケージデザイン",
        ],
    ),
    (
        "web",
        &[
            "ホームページ",
            "ランディングページ",
            "WordPressサイト",
            "ECサイト",
            "Webデザイン",
            "ホームページ修正",
        ],
    ),
    (
        "illustration",
        &[
            "イラスト",
            "似顔絵",
            "漫画",
            "アイコンイラスト",
            "キャラクターデザイン",
            "LINEスタンプ",
        ],
    ),
    (
        "video",
        &[
            "動画編集",
            "YouTube動画",
            "アニメーション",
            "ショート動画",
            "オープニング動画",
            "結婚式ムービー",
        ],
    ),
    (
        "photo",
        &[
            "写真加工",
            "画像編集",
            "背景切り抜き",
            "写真レタッチ",
            "商品撮影",
        ],
    ),
    (
        "writing",
        &[
            "翻訳",
            "英語翻訳",
            "中国語翻訳",
            "英文校正",
            "記事作成",
            "キャッチコピー",
            "ブログ記事",
        ],
    ),
    (
        "business",
        &[
            "データ入力",
            "資料作成",
            "秘書代行",
            "文字起こし",
            "リサーチ",
        ],
    ),
    (
        "it",
        &[
            "プログラミング",
            "アプリ開発",
            "Pythonツール",
            "スクレイピング",
            "Excelマクロ",
            "システム開発",
        ],
    ),
    (
        "marketing",
        &[
            "SEO対策",
            "広告運用",
            "SNS運用",
            "インスタグラム集客",
            "市場調査",
        ],
    ),
    (
        "music",
        &[
            "作曲",
            "ナレーション",
            "ボイス録音",
            "ミックス",
            "歌ってみた",
        ],
    ),
    (
        "fortune",
        &[
            "占い",
            "タロット占い",
            "恋愛占い",
            "霊視",
            "四柱推命",
            "星占い",
        ],
    ),
    (
        "counseling",
        &[
            "恋愛相談",
            "悩み相談",
            "人間関係の相談",
            "復縁相談",
            "愚痴聞き",
        ],
    ),
    (
        "learning",
        &[
            "英会話レッスン",
            "面接対策",
            "資格勉強",
            "家庭教師",
            "コーチング",
            "履歴書添削",
        ],
    ),
    (
        "life",
        &[
            "インテリア相談",
            "ダイエット指導",
            "美容相談",
            "料理レシピ",
            "家系図",
        ],
    ),
    (
        "legal",
        &[
            "税務相談",
            "確定申告",
            "法律相談",
            "契約書チェック",
            "会社設立",
        ],
    ),
];

const TAGS: &[&str] = &[
    "商用利用OK",
    "修正無制限",
    "即日対応",
    "初心者歓迎",
    "プロが対応",
    "実績多数",
    "土日対応",
    "格安",
];
const ADJECTIVES: &[&str] = &[
    "高品質な",
    "おしゃれな",
    "シンプルな",
    "丁寧な",
    "格安で",
    "最短即日で",
    "プロの",
    "オリジナルの",
    "伝わる",
    "かわいい",
];
const VERBS: &[&str] = &[
    "制作します",
    "作成します",
    "デザインします",
    "代行します",
    "提案します",
    "承ります",
    "お手伝いします",
    "サポートします",
];
const SENTENCES: &[&str] = &[
    "{s}のご依頼を承ります。",
    "これまで{n}件以上の実績があります。",
    "{s2}にも対応可能です。",
    "ヒアリングを丁寧に行い、イメージに合わせて仕上げます。",
    "修正は{n}回まで無料です。",
    "納品形式はPNG・JPG・PDFなどご希望に合わせます。",
    "お気軽にご相談ください。",
    "個人の方も法人の方も歓迎です。",
    "{s}に関する経験は{n}年です。",
    "ご購入前にメッセージでご相談いただけるとスムーズです。",
    "初めての方にも分かりやすくご説明します。",
    "納期のご相談にも柔軟に対応いたします。",
    "{s}と{s2}をセットでご依頼いただくとお得です。",
    "トークルームでのやり取りは平日10時から20時です。",
    "完成までの流れ：ヒアリング→ラフ提案→修正→納品。",
    "ご不明点があれば何でもお聞きください。",
];
const OPTION_TITLES: &[&str] = &[
    "特急対応",
    "修正回数追加",
    "商用利用",
    "ソースファイル納品",
    "追加1点",
    "オンライン通話での打ち合わせ",
];

// ---------------------------------------------------------------------------------------------
// The generated world (in memory)
// ---------------------------------------------------------------------------------------------

struct Seller {
    id: String,
    has_bio: bool,
    verified: bool,
    /// 0–1: drives ratings and lateness.
    quality: f64,
}

struct Listing {
    id: String,
    seller: usize,
    title: String,
    description: String,
    category: &'static str,
    price_yen: i64,
    delivery_days: i64,
    active: bool,
    created_at_ms: i64,
    options: Vec<(String, i64, i64)>,
}

struct Order {
    id: String,
    listing: usize,
    buyer: usize,
    option_yen: i64,
    purchased_at: i64,
    first_replied_at: i64,
    delivered_at: i64,
    completed_at: i64,
    late: bool,
    /// (public rating, private rating, published at).
    review: Option<(i64, i64, Option<i64>)>,
}

struct World {
    sellers: Vec<Seller>,
    buyers: Vec<String>,
    listings: Vec<Listing>,
    orders: Vec<Order>,
    /// Per listing: (score micros, score json, rating avg milli, rating count, seller rank).
    scores: Vec<(i64, String, Option<i64>, i64, &'static str)>,
}

fn hex_id(rng: &mut ChaCha8Rng) -> String {
    format!("{:032x}", rng.random::<u128>())
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn any_subject(rng: &mut ChaCha8Rng) -> &'static str {
    let (_, subjects) = SUBJECTS[rng.random_range(0..SUBJECTS.len())];
    subjects[rng.random_range(0..subjects.len())]
}

fn generate(listings: usize, orders: usize) -> World {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let seller_count = (listings / 4).max(1);
    let buyer_count = (listings / 2).max(1);
    let sellers: Vec<Seller> = (0..seller_count)
        .map(|_| Seller {
            id: hex_id(&mut rng),
            has_bio: rng.random_bool(0.7),
            verified: rng.random_bool(0.5),
            quality: rng.random::<f64>(),
        })
        .collect();
    let buyers: Vec<String> = (0..buyer_count).map(|_| hex_id(&mut rng)).collect();
    let mut ls = Vec::with_capacity(listings);
    for _ in 0..listings {
        let (category, subjects) = SUBJECTS[rng.random_range(0..SUBJECTS.len())];
        let subject = *pick(&mut rng, subjects);
        let title = format!(
            "【{}】{}{}を{}",
            pick(&mut rng, TAGS),
            pick(&mut rng, ADJECTIVES),
            subject,
            pick(&mut rng, VERBS)
        );
        let mut description = String::new();
        for _ in 0..rng.random_range(3..9) {
            let s2 = any_subject(&mut rng);
            let n = rng.random_range(2..500).to_string();
            description.push_str(
                &pick(&mut rng, SENTENCES)
                    .replace("{s2}", s2)
                    .replace("{s}", subject)
                    .replace("{n}", &n),
            );
        }
        let options = (0..rng.random_range(0..4))
            .map(|_| {
                (
                    pick(&mut rng, OPTION_TITLES).to_string(),
                    rng.random_range(1..20) * 500,
                    rng.random_range(0..4),
                )
            })
            .collect();
        ls.push(Listing {
            id: hex_id(&mut rng),
            seller: rng.random_range(0..seller_count),
            title,
            description,
            category,
            price_yen: rng.random_range(1..60) * 500,
            delivery_days: rng.random_range(1..15),
            active: rng.random_bool(0.95),
            created_at_ms: NOW_MS - rng.random_range(0..3 * 365) * DAY_MS,
            options,
        });
    }
    let mut os = Vec::with_capacity(orders);
    for _ in 0..orders {
        // Skewed popularity: a few listings sell a lot, most sell a little.
        let listing = ((rng.random::<f64>().powf(2.5)) * listings as f64) as usize;
        let listing = listing.min(listings - 1);
        let l = &ls[listing];
        let quality = sellers[l.seller].quality;
        let purchased_at = NOW_MS - rng.random_range(3 * DAY_MS..365 * DAY_MS);
        let first_replied_at = purchased_at + rng.random_range(5 * 60_000..30 * HOUR_MS);
        let late = rng.random_bool(0.25 * (1.0 - quality));
        let delivered_at = purchased_at + rng.random_range(DAY_MS..(l.delivery_days + 3) * DAY_MS);
        let completed_at = delivered_at + rng.random_range(HOUR_MS..72 * HOUR_MS);
        let option_yen = match l.options.first() {
            Some((_, price, _)) if rng.random_bool(0.3) => *price,
            _ => 0,
        };
        let review = rng.random_bool(0.7).then(|| {
            let r = if rng.random_bool(0.55 + 0.4 * quality) {
                5
            } else {
                rng.random_range(1..5)
            };
            let published = completed_at + rng.random_range(HOUR_MS..14 * DAY_MS);
            (r, r, (published <= NOW_MS).then_some(published))
        });
        os.push(Order {
            id: hex_id(&mut rng),
            listing,
            buyer: rng.random_range(0..buyer_count),
            option_yen,
            purchased_at,
            first_replied_at,
            delivered_at,
            completed_at,
            late,
            review,
        });
    }
    let scores = compute_scores(&sellers, &ls, &os);
    World {
        sellers,
        buyers,
        listings: ls,
        orders: os,
        scores,
    }
}

/// The stored score, rating and rank columns, computed like `reputation::refresh_seller` and
/// `reputation::monthly_ranks` do, with the real pure functions.
fn compute_scores(
    sellers: &[Seller],
    listings: &[Listing],
    orders: &[Order],
) -> Vec<(i64, String, Option<i64>, i64, &'static str)> {
    let mut facts: Vec<Vec<OrderFact>> = (0..sellers.len()).map(|_| vec![]).collect();
    let mut ratings: Vec<Vec<RatingFact>> = (0..sellers.len()).map(|_| vec![]).collect();
    let mut listing_ages: Vec<Vec<f64>> = (0..listings.len()).map(|_| vec![]).collect();
    let mut listing_ratings: Vec<(i64, i64)> = vec![(0, 0); listings.len()];
    for o in orders {
        let l = &listings[o.listing];
        facts[l.seller].push(OrderFact {
            listing_id: l.id.clone(),
            buyer_id: String::new(),
            state: OrderState::Completed,
            purchased_at: o.purchased_at,
            first_replied_at: Some(o.first_replied_at),
            delivered_at: Some(o.delivered_at),
            ended_at: Some(o.completed_at),
            late: o.late,
            fault: None,
            sales_yen: l.price_yen + o.option_yen,
        });
        listing_ages[o.listing].push(rep::age_days(NOW_MS, o.completed_at));
        if let Some((rating, _, Some(at))) = o.review {
            ratings[l.seller].push(RatingFact { rating, at });
            listing_ratings[o.listing].0 += rating;
            listing_ratings[o.listing].1 += 1;
        }
    }
    let policy = rep::RankPolicy::default();
    let per_seller: Vec<(rep::Metrics, &'static str)> = sellers
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let all = rep::metrics(&facts[i], &ratings[i], &[], None);
            let recent = rep::metrics(&facts[i], &ratings[i], &[], Some(NOW_MS - 90 * DAY_MS));
            let input = rep::RankInput {
                sales_total: all.sales_count,
                sales_3m: recent.sales_count,
                sales_yen_3m: recent.sales_yen,
                completion_3m: recent.completion_rate,
                rating_3m: recent.rating_average,
                identity_verified: s.verified,
                logged_in_within_month: true,
            };
            (all, rep::rank(&input, &policy).as_str())
        })
        .collect();
    listings
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let (metrics, rank) = &per_seller[l.seller];
            let s = rep::score(
                &rep::ListingFacts {
                    title_chars: l.title.chars().count(),
                    description_chars: l.description.chars().count(),
                    options: l.options.len(),
                    seller_has_bio: sellers[l.seller].has_bio,
                    completed_ages_days: std::mem::take(&mut listing_ages[i]),
                },
                metrics,
            );
            let (sum, count) = listing_ratings[i];
            (
                (s.total * 1_000_000.0).round() as i64,
                serde_json::to_string(&s).unwrap_or_else(|_| "{}".into()),
                (count > 0).then(|| sum * 1000 / count),
                count,
                *rank,
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Bulk insert
// ---------------------------------------------------------------------------------------------

/// A SQL text literal. Generated text never contains quotes, but double them anyway.
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Inserts `rows` (already rendered as `(…)` tuples) in multi-row statements of `batch` rows.
async fn insert_rows(
    tx: &mut sqlx::AnyConnection,
    head: &str,
    rows: impl Iterator<Item = String>,
    batch: usize,
) -> Result<usize, sqlx::Error> {
    let mut sql = String::new();
    let mut n = 0usize;
    let mut total = 0usize;
    for row in rows {
        if n == 0 {
            sql.clear();
            sql.push_str(head);
            sql.push_str(" VALUES ");
        } else {
            sql.push(',');
        }
        sql.push_str(&row);
        n += 1;
        total += 1;
        if n == batch {
            sqlx::raw_sql(sqlx::AssertSqlSafe(std::mem::take(&mut sql)))
                .execute(&mut *tx)
                .await?;
            n = 0;
        }
    }
    if n > 0 {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await?;
    }
    Ok(total)
}

async fn fill(db: &Db, w: &World) -> Result<(), BoxError> {
    let mut tx = db.begin().await?;
    let hash = lit("$argon2id$v=19$m=19456,t=2,p=1$benchmark$notarealhash");
    let users = w
        .sellers
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let bio = if s.has_bio {
                "デザイン歴10年のフリーランスです。丁寧な対応を心がけています。"
            } else {
                ""
            };
            format!(
                "({}, {}, {hash}, {}, {}, 0, {NOW_MS}, {NOW_MS}, {}, {NOW_MS})",
                lit(&s.id),
                lit(&format!("seller{i}@example.jp")),
                lit(&format!("出品者{i}")),
                lit(bio),
                i16::from(s.verified)
            )
        })
        .chain(w.buyers.iter().enumerate().map(|(i, b)| {
            format!(
                "({}, {}, {hash}, {}, '', 0, {NOW_MS}, {NOW_MS}, 0, {NOW_MS})",
                lit(b),
                lit(&format!("buyer{i}@example.jp")),
                lit(&format!("購入者{i}"))
            )
        }));
    insert_rows(
        &mut tx,
        "INSERT INTO users (id, email, password_hash, display_name, bio, is_operator, \
         created_at_ms, updated_at_ms, identity_verified, last_login_at_ms)",
        users,
        1000,
    )
    .await?;
    let search: Vec<String> = w
        .listings
        .iter()
        .map(|l| fold_for_search(&format!("{}\n{}", l.title, l.description)))
        .collect();
    let listings = w
        .listings
        .iter()
        .zip(&w.scores)
        .zip(&search)
        .map(|((l, s), search)| {
            format!(
                "({}, {}, {}, {}, '{}', {}, {}, '{}', {}, {}, {}, {}, {}, {}, {}, '{}')",
                lit(&l.id),
                lit(&w.sellers[l.seller].id),
                lit(&l.title),
                lit(&l.description),
                l.category,
                l.price_yen,
                l.delivery_days,
                if l.active { "active" } else { "paused" },
                l.created_at_ms,
                l.created_at_ms,
                lit(search),
                s.0,
                lit(&s.1),
                s.2.map_or("NULL".to_string(), |a| a.to_string()),
                s.3,
                s.4
            )
        });
    insert_rows(
        &mut tx,
        "INSERT INTO listings (id, seller_id, title, description, category, price_yen, \
         delivery_days, status, created_at_ms, updated_at_ms, search_text, score_micros, \
         score_json, rating_avg_milli, rating_count, seller_rank)",
        listings,
        500,
    )
    .await?;
    let options = w.listings.iter().flat_map(|l| {
        l.options
            .iter()
            .enumerate()
            .map(move |(p, (title, price, days))| {
                format!(
                    "({}, {}, {p}, {}, {price}, {days})",
                    lit(&format!("{}o{p}", l.id)),
                    lit(&l.id),
                    lit(title)
                )
            })
    });
    insert_rows(
        &mut tx,
        "INSERT INTO listing_options (id, listing_id, position, title, price_yen, extra_days)",
        options,
        1000,
    )
    .await?;
    // The bigram index, as `listings::store` writes it, inserted in key order.
    let mut grams: Vec<(String, &str)> = search
        .iter()
        .zip(&w.listings)
        .flat_map(|(text, l)| search_grams(text).into_iter().map(|g| (g, l.id.as_str())))
        .collect();
    grams.sort_unstable();
    let rows = grams.iter().map(|(g, id)| format!("({}, '{id}')", lit(g)));
    let n = insert_rows(
        &mut tx,
        "INSERT INTO listing_search_grams (gram, listing_id)",
        rows,
        2000,
    )
    .await?;
    eprintln!("  {n} bigram rows");
    // Their counts, as `listings::store` keeps them (the empty gram counts the listings).
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    counts.insert("", w.listings.len());
    for (g, _) in &grams {
        *counts.entry(g.as_str()).or_default() += 1;
    }
    // The migration counted the empty catalogue (the empty gram, 0).
    sqlx::raw_sql("DELETE FROM listing_search_gram_counts")
        .execute(&mut *tx)
        .await?;
    let rows = counts.iter().map(|(g, n)| format!("({}, {n})", lit(g)));
    insert_rows(
        &mut tx,
        "INSERT INTO listing_search_gram_counts (gram, listings)",
        rows,
        2000,
    )
    .await?;
    tx.commit().await?;

    // Orders and reviews in transactions of 100,000 orders.
    for chunk in w.orders.chunks(100_000) {
        let mut tx = db.begin().await?;
        let orders = chunk.iter().map(|o| {
            let l = &w.listings[o.listing];
            let subtotal = l.price_yen + o.option_yen;
            let fee = subtotal * 55 / 1000;
            format!(
                "({}, {}, {}, {}, {}, 'completed', 6, '{{}}', {}, {}, {fee}, {}, 0, {}, {}, {}, \
                 {}, {}, {}, {}, {}, 0)",
                lit(&o.id),
                lit(&l.id),
                lit(&w.buyers[o.buyer]),
                lit(&w.sellers[l.seller].id),
                lit(&l.title),
                l.price_yen,
                o.option_yen,
                subtotal + fee,
                lit(&format!("ch_{}", o.id)),
                o.purchased_at,
                o.purchased_at + 48 * HOUR_MS,
                o.first_replied_at,
                o.purchased_at + l.delivery_days * DAY_MS,
                o.delivered_at,
                o.completed_at,
                i16::from(o.late),
            )
        });
        insert_rows(
            &mut tx,
            "INSERT INTO orders (id, listing_id, buyer_id, seller_id, title, state, version, \
             policy_json, price_yen, options_yen, buyer_fee_yen, total_yen, points_used, \
             charge_id, purchased_at_ms, first_reply_deadline_ms, first_replied_at_ms, \
             due_at_ms, delivered_at_ms, completed_at_ms, late, send_backs_used)",
            orders,
            1000,
        )
        .await?;
        let reviews = chunk.iter().filter_map(|o| {
            let (public, private, published) = o.review?;
            let l = &w.listings[o.listing];
            Some(format!(
                "({}, {}, {}, {}, {}, 'buyer_to_seller', {public}, {}, {private}, {}, {}, {})",
                lit(&format!("r{}", o.id)),
                lit(&o.id),
                lit(&l.id),
                lit(&w.buyers[o.buyer]),
                lit(&w.sellers[l.seller].id),
                lit(if public >= 4 {
                    "とても丁寧に対応していただきました。またお願いしたいです。"
                } else {
                    "納品まで少し時間がかかりました。"
                }),
                o.completed_at + HOUR_MS,
                o.completed_at + 14 * DAY_MS,
                published.map_or("NULL".to_string(), |p| p.to_string())
            ))
        });
        insert_rows(
            &mut tx,
            "INSERT INTO reviews (id, order_id, listing_id, reviewer_id, reviewee_id, direction, \
             public_rating, comment, private_rating, created_at_ms, window_end_ms, \
             published_at_ms)",
            reviews,
            1000,
        )
        .await?;
        tx.commit().await?;
    }
    if db.backend() == Backend::Postgres {
        // What autovacuum does on its own after a bulk load (statistics, visibility map).
        sqlx::raw_sql("VACUUM ANALYZE").execute(db.pool()).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Measurement
// ---------------------------------------------------------------------------------------------

struct Case {
    name: &'static str,
    query: ListQuery,
    /// Follow the cursor this many pages before timing.
    skip_pages: usize,
}

fn cases() -> Vec<Case> {
    let q = |s: &str| ListQuery {
        q: Some(s.into()),
        ..ListQuery::default()
    };
    vec![
        Case {
            name: "recommended, page 1",
            query: ListQuery::default(),
            skip_pages: 0,
        },
        Case {
            name: "recommended, category=design",
            query: ListQuery {
                category: Some("design".into()),
                ..ListQuery::default()
            },
            skip_pages: 0,
        },
        Case {
            name: "recommended, page 11 (cursor)",
            query: ListQuery::default(),
            skip_pages: 10,
        },
        Case {
            name: "search q=ロゴ",
            query: q("ロゴ"),
            skip_pages: 0,
        },
        Case {
            name: "search q=ロゴ 制作",
            query: q("ロゴ 制作"),
            skip_pages: 0,
        },
        Case {
            name: "search q=家系図 (rare)",
            query: q("家系図"),
            skip_pages: 0,
        },
        Case {
            name: "search q=ロゴ 霊視 (very rare)",
            query: q("ロゴ 霊視"),
            skip_pages: 0,
        },
        Case {
            name: "search q=ロゴ, category=design, min_rating=4.5",
            query: ListQuery {
                q: Some("ロゴ".into()),
                category: Some("design".into()),
                min_rating: Some(4.5),
                ..ListQuery::default()
            },
            skip_pages: 0,
        },
    ]
}

struct Row {
    backend: &'static str,
    listings: usize,
    orders: usize,
    case: &'static str,
    hits: usize,
    p50: Duration,
    p99: Duration,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn measure(
    db: &Db,
    backend: &'static str,
    listings: usize,
    orders: usize,
    iterations: usize,
) -> Result<Vec<Row>, BoxError> {
    let mut rows = vec![];
    for case in cases() {
        let mut query = case.query.clone();
        for _ in 0..case.skip_pages {
            let page = ichiba::listings::list(db, &query, None)
                .await
                .map_err(|e| format!("{e:?}"))?;
            query.cursor = page.next_cursor;
        }
        let hits = ichiba::listings::list(db, &query, None)
            .await
            .map_err(|e| format!("{e:?}"))?
            .items
            .len();
        // Warm-up, then the timed runs.
        for _ in 0..iterations / 10 {
            ichiba::listings::list(db, &query, None)
                .await
                .map_err(|e| format!("{e:?}"))?;
        }
        let mut times = Vec::with_capacity(iterations);
        for _ in 0..iterations {
            let start = Instant::now();
            let page = ichiba::listings::list(db, &query, None)
                .await
                .map_err(|e| format!("{e:?}"))?;
            times.push(start.elapsed());
            std::hint::black_box(page);
        }
        times.sort();
        let row = Row {
            backend,
            listings,
            orders,
            case: case.name,
            hits,
            p50: percentile(&times, 50.0),
            p99: percentile(&times, 99.0),
        };
        eprintln!(
            "  {:<48} hits {:>3}  p50 {:>8.2} ms  p99 {:>8.2} ms",
            row.case,
            row.hits,
            ms(row.p50),
            ms(row.p99)
        );
        rows.push(row);
    }
    Ok(rows)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

// ---------------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------------

struct Options {
    sizes: Vec<(usize, usize)>,
    backends: Vec<String>,
    postgres_url: String,
    iterations: usize,
    /// Keep the generated databases and use them again on the next run with `--reuse`.
    reuse: bool,
}

fn parse_options() -> Result<Option<Options>, BoxError> {
    let mut opts = Options {
        sizes: vec![(10_000, 100_000)],
        backends: vec!["sqlite".into()],
        postgres_url: std::env::var("ICHIBA_BENCH_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
        iterations: 300,
        reuse: false,
    };
    let mut bench = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--bench" => bench = true,
            "--sizes" => {
                opts.sizes = value()?
                    .split(',')
                    .map(|s| {
                        let (l, o) = s.split_once(':').ok_or("size is LISTINGS:ORDERS")?;
                        Ok::<_, BoxError>((l.parse()?, o.parse()?))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--backends" => opts.backends = value()?.split(',').map(str::to_string).collect(),
            "--postgres-url" => opts.postgres_url = value()?,
            "--iterations" => opts.iterations = value()?.parse()?,
            "--reuse" => opts.reuse = true,
            // Flags cargo or libtest may pass (e.g. filters); ignored.
            _ => {}
        }
    }
    Ok(bench.then_some(opts))
}

/// The admin URL with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

async fn run_one(
    backend: &str,
    opts: &Options,
    listings: usize,
    orders: usize,
    world: &World,
) -> Result<Vec<Row>, BoxError> {
    let dir = tempfile::tempdir()?;
    let (config, cleanup) = match backend {
        "sqlite" => {
            let file = if opts.reuse {
                let keep = std::env::temp_dir().join("ichiba-bench-reuse");
                std::fs::create_dir_all(&keep)?;
                keep.join(format!("catalogue_{listings}_{orders}.sqlite"))
            } else {
                dir.path().join("bench.sqlite")
            };
            (
                DatabaseConfig {
                    url: format!("sqlite://{}?mode=rwc", file.display()),
                    backend: Backend::Sqlite,
                },
                None,
            )
        }
        "postgres" => {
            let name = if opts.reuse {
                format!("ichiba_bench_reuse_{listings}_{orders}")
            } else {
                format!("ichiba_bench_{}_{listings}", std::process::id())
            };
            let mut admin = sqlx::PgConnection::connect(&opts.postgres_url).await?;
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                    .bind(&name)
                    .fetch_one(&mut admin)
                    .await?;
            if !exists {
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut admin)
                    .await?;
            }
            admin.close().await?;
            (
                DatabaseConfig {
                    url: with_database(&opts.postgres_url, &name),
                    backend: Backend::Postgres,
                },
                (!opts.reuse).then_some(name),
            )
        }
        other => return Err(format!("unknown backend {other}").into()),
    };
    let result = async {
        let db = Db::connect(&config, 4).await?;
        db.migrate().await?;
        let filled = opts.reuse && is_filled(&db, listings, orders).await?;
        if filled {
            eprintln!(
                "{backend}: reusing the kept database of {listings} listings / {orders} orders"
            );
            if db.backend() == Backend::Postgres {
                // New migrations may have added tables; give the planner their statistics.
                sqlx::raw_sql("ANALYZE").execute(db.pool()).await?;
            }
        } else {
            let start = Instant::now();
            fill(&db, world).await?;
            eprintln!(
                "{backend}: inserted {listings} listings / {orders} orders in {:.1} s",
                start.elapsed().as_secs_f64()
            );
        }
        let rows = measure(
            &db,
            if backend == "sqlite" {
                "SQLite"
            } else {
                "PostgreSQL"
            },
            listings,
            orders,
            opts.iterations,
        )
        .await?;
        db.close().await;
        Ok::<_, BoxError>(rows)
    }
    .await;
    if let Some(name) = cleanup {
        let mut admin = sqlx::PgConnection::connect(&opts.postgres_url).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await?;
        admin.close().await?;
    }
    result
}

/// Whether a kept database (`--reuse`) already holds the generated catalogue. A partly filled
/// one (an interrupted run) is an error: delete it and run again.
async fn is_filled(db: &Db, listings: usize, orders: usize) -> Result<bool, BoxError> {
    let count = |table: &str| {
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(db.pool())
    };
    let (l, o) = (count("listings").await?, count("orders").await?);
    match (usize::try_from(l)?, usize::try_from(o)?) {
        (0, 0) => Ok(false),
        (l, o) if l == listings && o == orders => Ok(true),
        (l, o) => Err(format!(
            "the kept database holds {l} listings / {o} orders, not {listings} / {orders}: \
             delete it and run again"
        )
        .into()),
    }
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let Some(opts) = parse_options()? else {
        eprintln!("catalogue: run with `cargo bench -p ichiba --bench catalogue`");
        return Ok(());
    };
    sqlx::any::install_default_drivers();
    let mut all = vec![];
    for &(listings, orders) in &opts.sizes {
        let start = Instant::now();
        let world = generate(listings, orders);
        eprintln!(
            "generated {listings} listings / {orders} orders in memory in {:.1} s (seed {SEED:#x})",
            start.elapsed().as_secs_f64()
        );
        for backend in &opts.backends {
            all.extend(run_one(backend, &opts, listings, orders, &world).await?);
        }
    }
    let mut table = String::new();
    writeln!(
        table,
        "| backend | listings | orders | query | hits | p50 ms | p99 ms |"
    )?;
    writeln!(table, "|---|---:|---:|---|---:|---:|---:|")?;
    let mut by_case: HashMap<&str, usize> = HashMap::new();
    for (i, c) in cases().iter().enumerate() {
        by_case.insert(c.name, i);
    }
    all.sort_by_key(|r| (r.backend, r.listings, by_case.get(r.case).copied()));
    for r in &all {
        writeln!(
            table,
            "| {} | {} | {} | {} | {} | {:.2} | {:.2} |",
            r.backend,
            r.listings,
            r.orders,
            r.case,
            r.hits,
            ms(r.p50),
            ms(r.p99)
        )?;
    }
    println!("\n{table}");
    Ok(())
}
