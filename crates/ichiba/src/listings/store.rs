//! All SQL of listings and their paid options. This file holds the writes and the reads by id;
//! the bigram index the writes keep in step is in `store/grams.rs`, the list query (filters,
//! sorts, keyset pagination, search) in `store/search.rs` and its planner in `store/plan.rs`.

mod grams;
mod plan;
mod search;

use std::collections::BTreeSet;

use sqlx::AnyConnection;

use super::model::{ListingDraft, ListingStatus};
use crate::clock::Millis;
use crate::db::{new_id, params};

pub use grams::search_grams;
pub use search::{ListingFilter, SearchPath, list_listings, list_listings_via};

use grams::{search_text, write_search_grams};

/// A listing row joined with its seller's display name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListingRow {
    pub id: String,
    pub seller_id: String,
    pub seller_name: String,
    pub title: String,
    pub description: String,
    pub category: String,
    pub price_yen: i64,
    pub delivery_days: i64,
    pub status: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub score_micros: i64,
    pub rating_avg_milli: Option<i64>,
    pub rating_count: i64,
    pub seller_rank: String,
}

/// A paid option row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OptionRow {
    pub id: String,
    pub listing_id: String,
    pub title: String,
    pub price_yen: i64,
    pub extra_days: i64,
}

const SELECT_LISTING: &str = "SELECT l.id, l.seller_id, u.display_name AS seller_name, l.title, \
     l.description, l.category, l.price_yen, l.delivery_days, l.status, l.created_at_ms, \
     l.updated_at_ms, l.score_micros, l.rating_avg_milli, l.rating_count, l.seller_rank \
     FROM listings l JOIN users u ON u.id = l.seller_id";

/// Inserts a listing and its options.
pub async fn insert_listing(
    conn: &mut AnyConnection,
    id: &str,
    seller_id: &str,
    draft: &ListingDraft,
    now: Millis,
) -> Result<(), sqlx::Error> {
    let text = search_text(draft);
    sqlx::query(
        "INSERT INTO listings (id, seller_id, title, description, category, price_yen, \
         delivery_days, status, created_at_ms, updated_at_ms, search_text) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $8, $9)",
    )
    .bind(id)
    .bind(seller_id)
    .bind(&draft.title)
    .bind(&draft.description)
    .bind(draft.category.slug)
    .bind(draft.price_yen)
    .bind(draft.delivery_days)
    .bind(now)
    .bind(&text)
    .execute(&mut *conn)
    .await?;
    write_search_grams(conn, id, &BTreeSet::new(), &search_grams(&text), true).await?;
    replace_options(conn, id, draft).await
}

/// Overwrites the listing's fields and options.
pub async fn update_listing(
    conn: &mut AnyConnection,
    id: &str,
    draft: &ListingDraft,
    now: Millis,
) -> Result<bool, sqlx::Error> {
    let old: Option<String> = sqlx::query_scalar(
        "SELECT search_text FROM listings WHERE id = $1 AND status <> 'deleted'",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(old) = old else {
        return Ok(false);
    };
    let text = search_text(draft);
    let r = sqlx::query(
        "UPDATE listings SET title = $2, description = $3, category = $4, price_yen = $5, \
         delivery_days = $6, updated_at_ms = $7, search_text = $8 \
         WHERE id = $1 AND status <> 'deleted'",
    )
    .bind(id)
    .bind(&draft.title)
    .bind(&draft.description)
    .bind(draft.category.slug)
    .bind(draft.price_yen)
    .bind(draft.delivery_days)
    .bind(now)
    .bind(&text)
    .execute(&mut *conn)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    write_search_grams(conn, id, &search_grams(&old), &search_grams(&text), false).await?;
    replace_options(conn, id, draft).await?;
    Ok(true)
}

async fn replace_options(
    conn: &mut AnyConnection,
    listing_id: &str,
    draft: &ListingDraft,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM listing_options WHERE listing_id = $1")
        .bind(listing_id)
        .execute(&mut *conn)
        .await?;
    for (position, o) in draft.options.iter().enumerate() {
        sqlx::query(
            "INSERT INTO listing_options (id, listing_id, position, title, price_yen, extra_days) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new_id())
        .bind(listing_id)
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .bind(&o.title)
        .bind(o.price_yen)
        .bind(o.extra_days)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Compare-and-set of the status; returns whether the row changed.
pub async fn set_status(
    conn: &mut AnyConnection,
    id: &str,
    from: ListingStatus,
    to: ListingStatus,
    now: Millis,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE listings SET status = $3, updated_at_ms = $4 WHERE id = $1 AND status = $2",
    )
    .bind(id)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// One listing by id, whatever its status.
pub async fn listing_by_id(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<ListingRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_LISTING} WHERE l.id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The options of the given listings, in their order.
pub async fn options_of(
    conn: &mut AnyConnection,
    listing_ids: &[String],
) -> Result<Vec<OptionRow>, sqlx::Error> {
    if listing_ids.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT id, listing_id, title, price_yen, extra_days FROM listing_options \
         WHERE listing_id IN ({}) ORDER BY listing_id, position",
        params::list(1, listing_ids.len())
    );
    let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
    for id in listing_ids {
        q = q.bind(id);
    }
    q.fetch_all(conn).await
}
