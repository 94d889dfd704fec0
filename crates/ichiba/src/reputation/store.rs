//! All SQL of reputation: the seller's history, listing scores and seller ranks.

use sqlx::AnyConnection;

use super::model::{DmFact, OrderFact, RatingFact};
use crate::clock::Millis;
use crate::db::new_id;
use crate::orders::model::{Fault, OrderState};

#[derive(sqlx::FromRow)]
struct OrderRow {
    listing_id: String,
    buyer_id: String,
    state: String,
    purchased_at_ms: i64,
    first_replied_at_ms: Option<i64>,
    delivered_at_ms: Option<i64>,
    completed_at_ms: Option<i64>,
    cancelled_at_ms: Option<i64>,
    late: i64,
    cancel_fault: Option<String>,
    subtotal: i64,
    settlement_seller_yen: Option<i64>,
}

/// Every order of a seller.
pub async fn seller_orders(
    conn: &mut AnyConnection,
    seller_id: &str,
) -> Result<Vec<OrderFact>, sqlx::Error> {
    let rows: Vec<OrderRow> = sqlx::query_as(
        "SELECT listing_id, buyer_id, state, purchased_at_ms, first_replied_at_ms, delivered_at_ms, \
         completed_at_ms, cancelled_at_ms, late, cancel_fault, price_yen + options_yen AS subtotal, \
         settlement_seller_yen FROM orders WHERE seller_id = $1",
    )
    .bind(seller_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(OrderFact {
                state: OrderState::parse(&r.state)?,
                listing_id: r.listing_id,
                buyer_id: r.buyer_id,
                purchased_at: r.purchased_at_ms,
                first_replied_at: r.first_replied_at_ms,
                delivered_at: r.delivered_at_ms,
                ended_at: r.completed_at_ms.or(r.cancelled_at_ms),
                late: r.late == 1,
                fault: r.cancel_fault.as_deref().and_then(Fault::parse),
                sales_yen: r.settlement_seller_yen.unwrap_or(r.subtotal),
            })
        })
        .collect())
}

/// Published buyer ratings of a seller.
pub async fn seller_ratings(
    conn: &mut AnyConnection,
    seller_id: &str,
) -> Result<Vec<RatingFact>, sqlx::Error> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT public_rating, published_at_ms FROM reviews WHERE reviewee_id = $1 \
         AND direction = 'buyer_to_seller' AND published_at_ms IS NOT NULL",
    )
    .bind(seller_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(rating, at)| RatingFact { rating, at })
        .collect())
}

/// The seller's direct threads as (time, by seller) sequences.
pub async fn seller_dms(
    conn: &mut AnyConnection,
    seller_id: &str,
) -> Result<Vec<Vec<DmFact>>, sqlx::Error> {
    let rows: Vec<(String, i64, Option<String>)> = sqlx::query_as(
        "SELECT m.thread_id, m.created_at_ms, m.author_id FROM messages m JOIN threads t ON t.id = m.thread_id \
         WHERE t.kind = 'direct' AND (t.user_a = $1 OR t.user_b = $1) ORDER BY m.thread_id, m.seq",
    )
    .bind(seller_id)
    .fetch_all(conn)
    .await?;
    let mut out: Vec<Vec<DmFact>> = vec![];
    let mut current: Option<String> = None;
    for (thread, at, author) in rows {
        if current.as_deref() != Some(thread.as_str()) {
            out.push(vec![]);
            current = Some(thread);
        }
        if let Some(v) = out.last_mut() {
            v.push((at, author.as_deref() == Some(seller_id)));
        }
    }
    Ok(out)
}

/// A seller's listing as the score needs it.
#[derive(Debug, sqlx::FromRow)]
pub struct ListingRow {
    pub id: String,
    pub title: String,
    pub description: String,
    pub category: String,
    pub options: i64,
}

/// The seller's listings that still exist.
pub async fn seller_listings(
    conn: &mut AnyConnection,
    seller_id: &str,
) -> Result<Vec<ListingRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT l.id, l.title, l.description, l.category, \
         (SELECT COUNT(*) FROM listing_options o WHERE o.listing_id = l.id) AS options \
         FROM listings l WHERE l.seller_id = $1 AND l.status <> 'deleted'",
    )
    .bind(seller_id)
    .fetch_all(conn)
    .await
}

/// Stores a listing's score and rating summary.
pub async fn set_listing_score(
    conn: &mut AnyConnection,
    id: &str,
    score_micros: i64,
    score_json: &str,
    rating_avg_milli: Option<i64>,
    rating_count: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE listings SET score_micros = $2, score_json = $3, rating_avg_milli = $4, rating_count = $5 WHERE id = $1",
    )
    .bind(id)
    .bind(score_micros)
    .bind(score_json)
    .bind(rating_avg_milli)
    .bind(rating_count)
    .execute(conn)
    .await?;
    Ok(())
}

/// The stored score breakdowns of a category's active listings.
pub async fn category_scores(
    conn: &mut AnyConnection,
    category: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT score_json FROM listings WHERE category = $1 AND status = 'active'")
        .bind(category)
        .fetch_all(conn)
        .await
}

/// (bio, identity verified, last login) of a user.
pub async fn user_flags(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<(String, i64, Option<i64>)>, sqlx::Error> {
    sqlx::query_as("SELECT bio, identity_verified, last_login_at_ms FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Sets the identity-verified flag; returns whether the user exists.
pub async fn set_identity_verified(
    conn: &mut AnyConnection,
    id: &str,
    verified: bool,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE users SET identity_verified = $2 WHERE id = $1")
        .bind(id)
        .bind(i16::from(verified))
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Everyone who has listed or sold.
pub async fn sellers(conn: &mut AnyConnection) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT seller_id FROM listings UNION SELECT DISTINCT seller_id FROM orders",
    )
    .fetch_all(conn)
    .await
}

/// Claims a periodic sweep for a period: true for exactly one caller per (name, period), however
/// many instances try at once.
pub async fn claim_period(
    conn: &mut AnyConnection,
    name: &str,
    period: &str,
    now: Millis,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO job_marks (name, period, at_ms) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET period = excluded.period, at_ms = excluded.at_ms \
         WHERE job_marks.period <> excluded.period",
    )
    .bind(name)
    .bind(period)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Records a seller's rank for a period (once) and shows it on their listings.
pub async fn record_rank(
    conn: &mut AnyConnection,
    user_id: &str,
    rank: &str,
    period: &str,
    detail_json: &str,
    now: Millis,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO seller_ranks (id, user_id, rank, period, computed_at_ms, detail_json) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id, period) DO NOTHING",
    )
    .bind(new_id())
    .bind(user_id)
    .bind(rank)
    .bind(period)
    .bind(now)
    .bind(detail_json)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE listings SET seller_rank = $2 WHERE seller_id = $1")
        .bind(user_id)
        .bind(rank)
        .execute(conn)
        .await?;
    Ok(())
}

/// A user's rank history, newest first: (rank, period, computed at).
pub async fn rank_history(
    conn: &mut AnyConnection,
    user_id: &str,
) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT rank, period, computed_at_ms FROM seller_ranks WHERE user_id = $1 ORDER BY computed_at_ms DESC LIMIT 36",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await
}

/// Average (in thousandths) and count of published buyer ratings of a listing.
pub async fn listing_rating(
    conn: &mut AnyConnection,
    listing_id: &str,
) -> Result<(Option<i64>, i64), sqlx::Error> {
    let (sum, count): (i64, i64) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(public_rating), 0) AS BIGINT), COUNT(*) FROM reviews \
         WHERE listing_id = $1 AND direction = 'buyer_to_seller' AND published_at_ms IS NOT NULL",
    )
    .bind(listing_id)
    .fetch_one(conn)
    .await?;
    Ok(((count > 0).then(|| sum * 1000 / count), count))
}

/// The seller, status and category of a listing, `None` for an unknown id.
pub async fn listing_owner(
    conn: &mut AnyConnection,
    listing_id: &str,
) -> Result<Option<(String, String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT seller_id, status, category FROM listings WHERE id = $1")
        .bind(listing_id)
        .fetch_optional(conn)
        .await
}
