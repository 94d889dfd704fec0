//! Listings (サービス): sellers create, edit, pause, resume and delete their own; anyone browses the
//! active ones. Another user's listing is a 404 for every write, and paused or deleted listings are
//! invisible to everyone but (for paused) their seller.

pub mod http;
pub mod model;
pub mod store;

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

pub use model::{CATEGORIES, Category, ListingStatus, RawListing, Sort, StatusCommand};

use crate::clock::{Millis, to_rfc3339};
use crate::cursor::{decode_key_cursor, encode_cursor};
use crate::db::{Db, new_id};
use crate::error::{AppError, FieldErrors};
use crate::guard::GuardError;
use crate::state::AppState;

/// What can go wrong with listings.
#[derive(Debug, thiserror::Error)]
pub enum ListingError {
    /// Missing, deleted, or not visible to the caller.
    #[error("listing not found")]
    NotFound,
    /// Field validation failed.
    #[error("invalid listing")]
    Invalid(FieldErrors),
    /// The listing changed concurrently; retry.
    #[error("listing changed concurrently")]
    Conflict,
    /// The contact guard refused a text (422 `off_platform_contact`) or the seller may not edit
    /// listings now (429 / 403); the guard's own answer.
    #[error(transparent)]
    Guard(#[from] GuardError),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl From<ListingError> for AppError {
    fn from(e: ListingError) -> Self {
        match e {
            ListingError::NotFound => AppError::NotFound,
            ListingError::Invalid(f) => AppError::Validation(f),
            ListingError::Conflict => AppError::Conflict {
                code: "concurrent_update",
                message: "同時に更新されました。もう一度お試しください。".into(),
            },
            ListingError::Guard(e) => e.into(),
            ListingError::Db(e) => AppError::internal(e),
        }
    }
}

/// A paid option as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OptionView {
    /// Option id (pass in `option_ids` when purchasing).
    pub id: String,
    /// Title.
    pub title: String,
    /// Price in yen.
    pub price_yen: i64,
    /// Extra delivery days.
    pub extra_days: i64,
}

/// The seller as shown on a listing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SellerSummary {
    /// User id.
    pub id: String,
    /// Public name.
    pub display_name: String,
    /// Seller rank (`regular`, `bronze`, `silver`, `gold`, `platinum`); `null` without one.
    pub rank: Option<String>,
}

/// A listing's published rating.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Rating {
    /// Average public rating, `null` without reviews.
    pub average: Option<f64>,
    /// Number of published reviews.
    pub count: i64,
}

/// A listing as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListingView {
    /// Listing id.
    pub id: String,
    /// The seller's user id.
    pub seller_id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Category slug.
    pub category: String,
    /// Category name in Japanese.
    pub category_label: String,
    /// Base price in yen.
    pub price_yen: i64,
    /// Delivery days (お届け日数).
    pub delivery_days: i64,
    /// Paid options.
    pub options: Vec<OptionView>,
    /// `active`, `paused` (`deleted` is never shown).
    pub status: ListingStatus,
    /// Seller summary.
    pub seller: SellerSummary,
    /// Rating summary.
    pub rating: Rating,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

/// A page of listings.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListingPage {
    /// The listings.
    pub items: Vec<ListingView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Public list query, parsed.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Search words.
    pub q: Option<String>,
    /// Category slug.
    pub category: Option<String>,
    /// Minimum price.
    pub min_price_yen: Option<i64>,
    /// Maximum price.
    pub max_price_yen: Option<i64>,
    /// Minimum average rating (e.g. 4.5).
    pub min_rating: Option<f64>,
    /// Minimum seller rank (`regular`, `bronze`, `silver`, `gold`, `platinum`).
    pub min_rank: Option<String>,
    /// Order.
    pub sort: Sort,
    /// Opaque cursor of the previous page.
    pub cursor: Option<String>,
    /// Page size (1–100, default 20).
    pub limit: Option<i64>,
}

/// Listing edits need an unrestricted account, and every text passes the contact guard before
/// anything is stored.
async fn screen(state: &AppState, seller_id: &str, raw: &RawListing) -> Result<(), ListingError> {
    crate::guard::ensure_allowed(state, seller_id, crate::guard::Activity::ListingEdit).await?;
    let mut fields: Vec<(String, &str)> = vec![];
    if let Some(t) = &raw.title {
        fields.push(("title".into(), t));
    }
    if let Some(d) = &raw.description {
        fields.push(("description".into(), d));
    }
    for (i, o) in raw.options.iter().flatten().enumerate() {
        if let Some(t) = &o.title {
            fields.push((format!("options[{i}].title"), t));
        }
    }
    let refs: Vec<(&str, &str)> = fields.iter().map(|(f, t)| (f.as_str(), *t)).collect();
    crate::guard::screen(
        state,
        Some(seller_id),
        &crate::guard::Context::Listing,
        &refs,
    )
    .await?;
    Ok(())
}

/// Creates a listing for `seller_id` (screened first), refreshes the seller's scores, and returns
/// the listing as its seller sees it.
pub async fn create(
    state: &AppState,
    seller_id: &str,
    raw: &RawListing,
) -> Result<ListingView, ListingError> {
    screen(state, seller_id, raw).await?;
    let draft = model::parse_listing(raw).map_err(ListingError::Invalid)?;
    let now = state.clock.now_ms();
    let id = new_id();
    let mut tx = state.db.begin().await?;
    store::insert_listing(&mut tx, &id, seller_id, &draft, now).await?;
    tx.commit().await?;
    crate::reputation::refresh_seller(&state.db, seller_id, now).await?;
    get_for(&state.db, &id, Some(seller_id)).await
}

/// Applies a partial update (screened first): present fields replace the stored ones (options as
/// a whole), then the result is validated like a new listing; the seller's scores are refreshed.
pub async fn update(
    state: &AppState,
    seller_id: &str,
    id: &str,
    patch: &RawListing,
) -> Result<ListingView, ListingError> {
    screen(state, seller_id, patch).await?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    let row = owned(&mut tx, id, seller_id).await?;
    let options = store::options_of(&mut tx, std::slice::from_ref(&row.id)).await?;
    let merged = RawListing {
        title: patch.title.clone().or(Some(row.title)),
        description: patch.description.clone().or(Some(row.description)),
        category: patch.category.clone().or(Some(row.category)),
        price_yen: patch.price_yen.or(Some(row.price_yen)),
        delivery_days: patch.delivery_days.or(Some(row.delivery_days)),
        options: patch.options.clone().or_else(|| {
            Some(
                options
                    .into_iter()
                    .map(|o| model::RawOption {
                        title: Some(o.title),
                        price_yen: Some(o.price_yen),
                        extra_days: Some(o.extra_days),
                    })
                    .collect(),
            )
        }),
    };
    let draft = model::parse_listing(&merged).map_err(ListingError::Invalid)?;
    if !store::update_listing(&mut tx, id, &draft, now).await? {
        return Err(ListingError::NotFound);
    }
    tx.commit().await?;
    crate::reputation::refresh_seller(&state.db, seller_id, now).await?;
    get_for(&state.db, id, Some(seller_id)).await
}

/// Pauses, resumes or deletes the seller's own listing.
pub async fn change_status(
    db: &Db,
    now: Millis,
    seller_id: &str,
    id: &str,
    command: StatusCommand,
) -> Result<ListingStatus, ListingError> {
    let mut tx = db.begin().await?;
    let row = owned(&mut tx, id, seller_id).await?;
    let current = ListingStatus::parse(&row.status).ok_or(ListingError::NotFound)?;
    let next = model::next_status(current, command).map_err(|_| ListingError::NotFound)?;
    if next != current && !store::set_status(&mut tx, id, current, next, now).await? {
        return Err(ListingError::Conflict);
    }
    tx.commit().await?;
    Ok(next)
}

/// [`get_for`] once the pending reputation refreshes are done, so its score and rating include
/// every finished deal and published review. What the screens and the API show.
pub async fn show(
    state: &AppState,
    id: &str,
    viewer: Option<&str>,
) -> Result<ListingView, ListingError> {
    crate::reputation::settle(state).await?;
    get_for(&state.db, id, viewer).await
}

/// [`list`] once the pending reputation refreshes are done (scores order おすすめ順, ratings show
/// on every card). What the screens and the API show.
pub async fn browse(
    state: &AppState,
    query: &ListQuery,
    seller_id: Option<&str>,
) -> Result<ListingPage, AppError> {
    crate::reputation::settle(state).await?;
    list(&state.db, query, seller_id).await
}

/// A listing as `viewer` may see it: active ones for anyone, paused ones only for their seller.
pub async fn get_for(db: &Db, id: &str, viewer: Option<&str>) -> Result<ListingView, ListingError> {
    let mut conn = db.pool().acquire().await?;
    let row = store::listing_by_id(&mut conn, id)
        .await?
        .ok_or(ListingError::NotFound)?;
    let visible = match ListingStatus::parse(&row.status) {
        Some(ListingStatus::Active) => true,
        Some(ListingStatus::Paused) => viewer == Some(row.seller_id.as_str()),
        Some(ListingStatus::Deleted) | None => false,
    };
    if !visible {
        return Err(ListingError::NotFound);
    }
    let mut views = to_views(&mut conn, vec![row]).await?;
    views.pop().ok_or(ListingError::NotFound)
}

/// A page of the public list, or of the seller's own listings when `seller_id` is given.
pub async fn list(
    db: &Db,
    query: &ListQuery,
    seller_id: Option<&str>,
) -> Result<ListingPage, AppError> {
    let limit = query.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(AppError::BadRequest {
            code: "invalid_limit",
            message: "limit は1から100の範囲で指定してください。".into(),
        });
    }
    if let Some(c) = query.category.as_deref().filter(|c| !c.is_empty())
        && Category::from_slug(c).is_none()
    {
        return Err(AppError::BadRequest {
            code: "unknown_category",
            message: "存在しないカテゴリです。".into(),
        });
    }
    let after = decode_key_cursor(query.cursor.as_deref())?;
    let seller_ranks = match query.min_rank.as_deref().filter(|r| !r.is_empty()) {
        None => None,
        Some(r) => Some(model::ranks_at_least(r).ok_or_else(|| {
            AppError::BadRequest {
                code: "unknown_rank",
                message:
                    "rank は regular, bronze, silver, gold, platinum のいずれかを指定してください。"
                        .into(),
            }
        })?),
    };
    let filter = store::ListingFilter {
        min_rating_milli: query.min_rating.map(|r| (r * 1000.0).round() as i64),
        seller_ranks,
        seller_id: seller_id.map(str::to_string),
        q: query.q.clone().filter(|q| !q.trim().is_empty()),
        category: query.category.clone().filter(|c| !c.is_empty()),
        min_price_yen: query.min_price_yen,
        max_price_yen: query.max_price_yen,
        sort: query.sort,
        after,
        limit,
    };
    let mut conn = db.pool().acquire().await?;
    let mut rows = store::list_listings(&mut conn, &filter).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(20));
    let next_cursor = match (more, rows.last()) {
        (true, Some(last)) => {
            let key = match query.sort {
                Sort::Recommended => last.score_micros,
                Sort::New => last.created_at_ms,
                Sort::PriceAsc | Sort::PriceDesc => last.price_yen,
            };
            Some(encode_cursor(&key.to_string(), &last.id))
        }
        _ => None,
    };
    let items = to_views(&mut conn, rows).await?;
    Ok(ListingPage { items, next_cursor })
}

async fn owned(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    seller_id: &str,
) -> Result<store::ListingRow, ListingError> {
    match store::listing_by_id(conn, id).await? {
        Some(row) if row.seller_id == seller_id && row.status != "deleted" => Ok(row),
        // Someone else's listing is reported exactly like a missing one.
        _ => Err(ListingError::NotFound),
    }
}

async fn to_views(
    conn: &mut sqlx::AnyConnection,
    rows: Vec<store::ListingRow>,
) -> Result<Vec<ListingView>, sqlx::Error> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut options: HashMap<String, Vec<OptionView>> = HashMap::new();
    for o in store::options_of(conn, &ids).await? {
        options.entry(o.listing_id).or_default().push(OptionView {
            id: o.id,
            title: o.title,
            price_yen: o.price_yen,
            extra_days: o.extra_days,
        });
    }
    Ok(rows
        .into_iter()
        .map(|r| ListingView {
            options: options.remove(&r.id).unwrap_or_default(),
            category_label: Category::from_slug(&r.category)
                .map(|c| c.label.to_string())
                .unwrap_or_default(),
            status: ListingStatus::parse(&r.status).unwrap_or(ListingStatus::Paused),
            seller: SellerSummary {
                id: r.seller_id.clone(),
                display_name: r.seller_name,
                rank: (r.seller_rank != "none").then_some(r.seller_rank),
            },
            rating: Rating {
                average: r.rating_avg_milli.map(|m| m as f64 / 1000.0),
                count: r.rating_count,
            },
            created_at: to_rfc3339(r.created_at_ms),
            updated_at: to_rfc3339(r.updated_at_ms),
            id: r.id,
            seller_id: r.seller_id,
            title: r.title,
            description: r.description,
            category: r.category,
            price_yen: r.price_yen,
            delivery_days: r.delivery_days,
        })
        .collect())
}
