//! All SQL of reviews.

use sqlx::AnyConnection;

use crate::clock::Millis;
use crate::db::new_id;

/// A review row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReviewRow {
    pub id: String,
    pub order_id: String,
    pub listing_id: String,
    pub reviewer_id: String,
    pub reviewer_name: String,
    pub reviewee_id: String,
    pub direction: String,
    pub public_rating: i64,
    pub comment: String,
    pub private_rating: i64,
    pub created_at_ms: i64,
    pub window_end_ms: i64,
    pub published_at_ms: Option<i64>,
    pub reply_body: Option<String>,
    pub reply_at_ms: Option<i64>,
}

const SELECT: &str = "SELECT r.id, r.order_id, r.listing_id, r.reviewer_id, u.display_name AS reviewer_name, \
    r.reviewee_id, r.direction, r.public_rating, r.comment, r.private_rating, r.created_at_ms, \
    r.window_end_ms, r.published_at_ms, r.reply_body, r.reply_at_ms \
    FROM reviews r JOIN users u ON u.id = r.reviewer_id";

/// Inserts a review; a second review by the same reviewer is a unique violation.
#[allow(clippy::too_many_arguments)]
pub async fn insert(
    conn: &mut AnyConnection,
    order_id: &str,
    listing_id: &str,
    reviewer_id: &str,
    reviewee_id: &str,
    direction: &str,
    input: &super::model::ReviewInput,
    now: Millis,
    window_end: Millis,
) -> Result<String, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO reviews (id, order_id, listing_id, reviewer_id, reviewee_id, direction, \
         public_rating, comment, private_rating, created_at_ms, window_end_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&id)
    .bind(order_id)
    .bind(listing_id)
    .bind(reviewer_id)
    .bind(reviewee_id)
    .bind(direction)
    .bind(i16::try_from(input.public_rating).unwrap_or(0))
    .bind(&input.comment)
    .bind(i16::try_from(input.private_rating).unwrap_or(0))
    .bind(now)
    .bind(window_end)
    .execute(conn)
    .await?;
    Ok(id)
}

/// The reviews of an order.
pub async fn of_order(
    conn: &mut AnyConnection,
    order_id: &str,
) -> Result<Vec<ReviewRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE r.order_id = $1 ORDER BY r.created_at_ms"
    )))
    .bind(order_id)
    .fetch_all(conn)
    .await
}

/// One review.
pub async fn by_id(conn: &mut AnyConnection, id: &str) -> Result<Option<ReviewRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE r.id = $1")))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Publishes every unpublished review of an order.
pub async fn publish_order(
    conn: &mut AnyConnection,
    order_id: &str,
    now: Millis,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE reviews SET published_at_ms = $2 WHERE order_id = $1 AND published_at_ms IS NULL",
    )
    .bind(order_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

/// Publishes reviews whose window has ended; returns the listings and sellers touched.
pub async fn publish_due(
    conn: &mut AnyConnection,
    now: Millis,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let due: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT listing_id, reviewee_id FROM reviews \
         WHERE published_at_ms IS NULL AND window_end_ms <= $1",
    )
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query("UPDATE reviews SET published_at_ms = window_end_ms WHERE published_at_ms IS NULL AND window_end_ms <= $1")
        .bind(now)
        .execute(conn)
        .await?;
    Ok(due)
}

/// Published reviews of a user (as reviewee), newest first.
pub async fn published_for_user(
    conn: &mut AnyConnection,
    user_id: &str,
    before: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<ReviewRow>, sqlx::Error> {
    let (at, id) = before.unwrap_or((i64::MAX, "~".into()));
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE r.reviewee_id = $1 AND r.published_at_ms IS NOT NULL \
         AND (r.published_at_ms < $2 OR (r.published_at_ms = $2 AND r.id < $3)) \
         ORDER BY r.published_at_ms DESC, r.id DESC LIMIT $4"
    )))
    .bind(user_id)
    .bind(at)
    .bind(id)
    .bind(limit + 1)
    .fetch_all(conn)
    .await
}

/// Published buyer reviews of a listing, newest first.
pub async fn published_for_listing(
    conn: &mut AnyConnection,
    listing_id: &str,
    before: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<ReviewRow>, sqlx::Error> {
    let (at, id) = before.unwrap_or((i64::MAX, "~".into()));
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE r.listing_id = $1 AND r.direction = 'buyer_to_seller' AND r.published_at_ms IS NOT NULL \
         AND (r.published_at_ms < $2 OR (r.published_at_ms = $2 AND r.id < $3)) \
         ORDER BY r.published_at_ms DESC, r.id DESC LIMIT $4"
    )))
    .bind(listing_id)
    .bind(at)
    .bind(id)
    .bind(limit + 1)
    .fetch_all(conn)
    .await
}

/// Every review about a user, published or not, with private ratings (operators only).
pub async fn all_for_user(
    conn: &mut AnyConnection,
    user_id: &str,
) -> Result<Vec<ReviewRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE r.reviewee_id = $1 ORDER BY r.created_at_ms DESC LIMIT 500"
    )))
    .bind(user_id)
    .fetch_all(conn)
    .await
}

/// Stores the reviewee's reply if there is none yet; returns whether it did.
pub async fn reply(
    conn: &mut AnyConnection,
    id: &str,
    body: &str,
    now: Millis,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE reviews SET reply_body = $2, reply_at_ms = $3 WHERE id = $1 AND reply_body IS NULL",
    )
    .bind(id)
    .bind(body)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}
