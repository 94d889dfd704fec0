//! The top page, search and the listing page.

use super::session::PageQuery;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use serde::Deserialize;

use super::format::{grouped, jst_date, percent, rank_label, stars, url_encode, yen};
use super::{Layout, PageResult, Viewer, render};
use crate::listings::{self, CATEGORIES, ListQuery, ListingView, Sort};
use crate::state::AppState;

/// The routes of the top page, search and the listing page.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(search))
        .route("/search", get(search))
        .route("/listings/{id}", get(listing))
}

/// The query string of `/` and `/search` (every field optional; bad values are ignored).
#[derive(Debug, Default, Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    min_price: String,
    #[serde(default)]
    max_price: String,
    #[serde(default)]
    min_rating: String,
    #[serde(default)]
    rank: String,
    #[serde(default)]
    cursor: String,
}

/// A listing as a search card.
pub struct Card {
    pub id: String,
    pub title: String,
    pub price: String,
    pub days: i64,
    pub category: String,
    pub rating: String,
    pub rating_count: i64,
    pub seller: String,
    pub rank: String,
}

impl From<&ListingView> for Card {
    fn from(l: &ListingView) -> Self {
        Card {
            id: l.id.clone(),
            title: l.title.clone(),
            price: yen(l.price_yen),
            days: l.delivery_days,
            category: l.category_label.clone(),
            rating: stars(l.rating.average),
            rating_count: l.rating.count,
            seller: l.seller.display_name.clone(),
            rank: rank_label(l.seller.rank.as_deref()),
        }
    }
}

/// A choice of a `<select>`.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn choices(pairs: &[(&str, &str)], current: &str) -> Vec<Choice> {
    pairs
        .iter()
        .map(|(v, l)| Choice {
            value: (*v).to_string(),
            label: (*l).to_string(),
            selected: *v == current,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    layout: Layout,
    q: String,
    heading: String,
    categories: Vec<Choice>,
    sorts: Vec<Choice>,
    ratings: Vec<Choice>,
    ranks: Vec<Choice>,
    min_price: String,
    max_price: String,
    cards: Vec<Card>,
    next_url: Option<String>,
    error: Option<String>,
}

fn parse_sort(s: &str) -> Sort {
    match s {
        "new" => Sort::New,
        "price_asc" => Sort::PriceAsc,
        "price_desc" => Sort::PriceDesc,
        _ => Sort::Recommended,
    }
}

fn yen_param(s: &str) -> Option<i64> {
    let digits: String = s.chars().filter(|c| *c != ',' && *c != '円').collect();
    digits.trim().parse::<i64>().ok().filter(|n| *n >= 0)
}

async fn search(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(p): PageQuery<SearchParams>,
) -> PageResult {
    let query = ListQuery {
        q: Some(p.q.clone()).filter(|q| !q.trim().is_empty()),
        category: Some(p.category.clone()).filter(|c| listings::Category::from_slug(c).is_some()),
        min_price_yen: yen_param(&p.min_price),
        max_price_yen: yen_param(&p.max_price),
        min_rating: p
            .min_rating
            .parse::<f64>()
            .ok()
            .filter(|r| (0.0..=5.0).contains(r)),
        min_rank: Some(p.rank.clone())
            .filter(|r| ["regular", "bronze", "silver", "gold", "platinum"].contains(&r.as_str())),
        sort: parse_sort(&p.sort),
        cursor: Some(p.cursor.clone()).filter(|c| !c.is_empty()),
        limit: Some(20),
    };
    let (cards, next_url, error) = match listings::browse(&state, &query, None).await {
        Ok(page) => {
            let next = page.next_cursor.map(|c| {
                format!(
                    "/search?q={}&category={}&sort={}&min_price={}&max_price={}&min_rating={}&rank={}&cursor={}",
                    url_encode(&p.q),
                    url_encode(&p.category),
                    url_encode(&p.sort),
                    url_encode(&p.min_price),
                    url_encode(&p.max_price),
                    url_encode(&p.min_rating),
                    url_encode(&p.rank),
                    url_encode(&c)
                )
            });
            (page.items.iter().map(Card::from).collect(), next, None)
        }
        // A stale or edited cursor: show the first page's form with an explanation.
        Err(e) if e.status().is_client_error() => (vec![], None, Some(e.message())),
        Err(e) => return Err(e.into()),
    };
    let category_label = CATEGORIES
        .iter()
        .find(|c| c.slug == p.category)
        .map(|c| c.label);
    let heading = match (query.q.as_deref(), category_label) {
        (Some(q), _) => format!("「{q}」の検索結果"),
        (None, Some(c)) => c.to_string(),
        (None, None) => "おすすめのサービス".to_string(),
    };
    let mut category_pairs: Vec<(&str, &str)> = vec![("", "すべてのカテゴリ")];
    category_pairs.extend(CATEGORIES.iter().map(|c| (c.slug, c.label)));
    let page = SearchPage {
        layout: viewer.layout(heading.clone()),
        q: p.q.clone(),
        heading,
        categories: choices(&category_pairs, &p.category),
        sorts: choices(
            &[
                ("recommended", "おすすめ順"),
                ("new", "新着順"),
                ("price_asc", "価格の安い順"),
                ("price_desc", "価格の高い順"),
            ],
            if p.sort.is_empty() {
                "recommended"
            } else {
                &p.sort
            },
        ),
        ratings: choices(
            &[
                ("", "指定なし"),
                ("4.5", "4.5以上"),
                ("4", "4.0以上"),
                ("3", "3.0以上"),
            ],
            &p.min_rating,
        ),
        ranks: choices(
            &[
                ("", "指定なし"),
                ("bronze", "ブロンズ以上"),
                ("silver", "シルバー以上"),
                ("gold", "ゴールド以上"),
                ("platinum", "プラチナ"),
            ],
            &p.rank,
        ),
        min_price: p.min_price.clone(),
        max_price: p.max_price.clone(),
        cards,
        next_url,
        error,
    };
    render(&page)
}

/// A published review as shown on the listing page.
pub struct ReviewItem {
    pub reviewer: String,
    pub stars: String,
    pub rating: i64,
    pub comment: String,
    pub date: String,
    pub reply: Option<String>,
}

/// A paid option.
pub struct OptionItem {
    pub title: String,
    pub price: String,
    pub extra_days: i64,
}

#[derive(Template)]
#[template(path = "listing.html")]
struct ListingPage {
    layout: Layout,
    listing: ListingView,
    price: String,
    options: Vec<OptionItem>,
    paragraphs: Vec<String>,
    seller_name: String,
    seller_rank: String,
    rating: String,
    sales_count: i64,
    on_time: String,
    completion: String,
    first_reply: String,
    reviews: Vec<ReviewItem>,
    is_own: bool,
}

async fn listing(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> PageResult {
    let viewer_id = viewer.identity.as_ref().map(|i| i.user_id.as_str());
    let listing = listings::show(&state, &id, viewer_id)
        .await
        .map_err(crate::error::AppError::from)?;
    let now = state.clock.now_ms();
    let metrics = crate::reputation::public_metrics(&state.db, &listing.seller_id, now).await?;
    let reviews = crate::reviews::for_listing(&state, &listing.id, None).await?;
    let page = ListingPage {
        layout: viewer.layout(listing.title.clone()),
        price: yen(listing.price_yen),
        options: listing
            .options
            .iter()
            .map(|o| OptionItem {
                title: o.title.clone(),
                price: format!("+{}", yen(o.price_yen)),
                extra_days: o.extra_days,
            })
            .collect(),
        paragraphs: listing
            .description
            .split('\n')
            .map(str::to_string)
            .collect(),
        seller_name: listing.seller.display_name.clone(),
        seller_rank: metrics.rank.label().to_string(),
        rating: format!(
            "{}（{}件）",
            stars(metrics.rating_average),
            grouped(metrics.rating_count)
        ),
        sales_count: metrics.sales_count,
        on_time: percent(metrics.on_time_rate),
        completion: percent(metrics.completion_rate),
        first_reply: metrics.median_first_reply_minutes.map_or_else(
            || "—".into(),
            |m| {
                if m < 60 {
                    format!("{m}分")
                } else {
                    format!("{}時間", m / 60)
                }
            },
        ),
        reviews: reviews
            .items
            .iter()
            .map(|r| ReviewItem {
                reviewer: r.reviewer.display_name.clone(),
                stars: "★".repeat(usize::try_from(r.public_rating.clamp(0, 5)).unwrap_or(0)),
                rating: r.public_rating,
                comment: r.comment.clone(),
                date: r
                    .published_at
                    .as_deref()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| jst_date(t.timestamp_millis()))
                    .unwrap_or_default(),
                reply: r.reply.as_ref().map(|x| x.body.clone()),
            })
            .collect(),
        is_own: viewer_id == Some(listing.seller_id.as_str()),
        listing,
    };
    render(&page)
}
