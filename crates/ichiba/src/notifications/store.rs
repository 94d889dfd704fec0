//! All SQL of notifications.

use sqlx::AnyConnection;

use crate::clock::Millis;
use crate::db::new_id;

/// A notification row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub order_id: Option<String>,
    pub created_at_ms: i64,
    pub read_at_ms: Option<i64>,
}

/// Inserts a notification.
pub async fn insert(
    conn: &mut AnyConnection,
    user_id: &str,
    kind: &str,
    title: &str,
    body: &str,
    order_id: Option<&str>,
    now: Millis,
) -> Result<NotificationRow, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO notifications (id, user_id, kind, title, body, order_id, created_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(user_id)
    .bind(kind)
    .bind(title)
    .bind(body)
    .bind(order_id.map(str::to_string))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(NotificationRow {
        id,
        kind: kind.into(),
        title: title.into(),
        body: body.into(),
        order_id: order_id.map(str::to_string),
        created_at_ms: now,
        read_at_ms: None,
    })
}

/// A page, newest first.
pub async fn list(
    conn: &mut AnyConnection,
    user_id: &str,
    before: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<NotificationRow>, sqlx::Error> {
    let (at, id) = before.unwrap_or((i64::MAX, "~".into()));
    sqlx::query_as(
        "SELECT id, kind, title, body, order_id, created_at_ms, read_at_ms FROM notifications \
         WHERE user_id = $1 AND (created_at_ms < $2 OR (created_at_ms = $2 AND id < $3)) \
         ORDER BY created_at_ms DESC, id DESC LIMIT $4",
    )
    .bind(user_id)
    .bind(at)
    .bind(id)
    .bind(limit + 1)
    .fetch_all(conn)
    .await
}

/// Number of unread notifications.
pub async fn unread_count(conn: &mut AnyConnection, user_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at_ms IS NULL",
    )
    .bind(user_id)
    .fetch_one(conn)
    .await
}

/// Marks one (or, with `None`, all) of the user's notifications read. Returns whether the one
/// named exists for this user.
pub async fn mark_read(
    conn: &mut AnyConnection,
    user_id: &str,
    id: Option<&str>,
    now: Millis,
) -> Result<bool, sqlx::Error> {
    match id {
        Some(id) => {
            let r = sqlx::query(
                "UPDATE notifications SET read_at_ms = COALESCE(read_at_ms, $3) \
                 WHERE id = $1 AND user_id = $2",
            )
            .bind(id)
            .bind(user_id)
            .bind(now)
            .execute(conn)
            .await?;
            Ok(r.rows_affected() == 1)
        }
        None => {
            sqlx::query(
                "UPDATE notifications SET read_at_ms = $2 WHERE user_id = $1 AND read_at_ms IS NULL",
            )
            .bind(user_id)
            .bind(now)
            .execute(conn)
            .await?;
            Ok(true)
        }
    }
}
