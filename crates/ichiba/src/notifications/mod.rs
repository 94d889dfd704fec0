//! In-app notifications (お知らせ): the engine's events turned into Japanese messages for the right
//! party, listed and marked read by their owner.

pub mod http;
pub mod store;

use serde::Serialize;
use utoipa::ToSchema;

use crate::clock::{Millis, to_rfc3339};
use crate::cursor::{decode_key_cursor, encode_cursor};
use crate::db::Db;
use crate::error::AppError;
use crate::events::{Event, EventKind};

/// A notification as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationView {
    /// Id.
    pub id: String,
    /// Stable kind (`purchased`, `delivered`, `first_reply_reminder`, …).
    pub kind: String,
    /// Japanese title.
    pub title: String,
    /// Japanese body.
    pub body: String,
    /// The order concerned, if any.
    pub order_id: Option<String>,
    /// When.
    pub created_at: String,
    /// When read, `null` while unread.
    pub read_at: Option<String>,
}

/// A page of notifications.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationPage {
    /// Newest first.
    pub items: Vec<NotificationView>,
    /// Unread count over all notifications.
    pub unread: i64,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
}

impl From<store::NotificationRow> for NotificationView {
    fn from(r: store::NotificationRow) -> Self {
        NotificationView {
            id: r.id,
            kind: r.kind,
            title: r.title,
            body: r.body,
            order_id: r.order_id,
            created_at: to_rfc3339(r.created_at_ms),
            read_at: r.read_at_ms.map(to_rfc3339),
        }
    }
}

/// Stores a notification in the caller's transaction and returns the event to publish after
/// commit.
pub async fn create(
    conn: &mut sqlx::AnyConnection,
    user_id: &str,
    kind: &str,
    title: &str,
    body: &str,
    order_id: Option<&str>,
    now: Millis,
) -> Result<Event, sqlx::Error> {
    let row = store::insert(conn, user_id, kind, title, body, order_id, now).await?;
    let view = NotificationView::from(row);
    Ok(Event {
        user_id: user_id.to_string(),
        kind: EventKind::Notification,
        data: serde_json::to_value(view).unwrap_or_default(),
    })
}

/// A page of the user's notifications.
pub async fn list(
    db: &Db,
    user_id: &str,
    cursor: Option<&str>,
) -> Result<NotificationPage, AppError> {
    let before = decode_key_cursor(cursor)?;
    let limit = 30;
    let mut conn = db.pool().acquire().await?;
    let mut rows = store::list(&mut conn, user_id, before, limit).await?;
    let unread = store::unread_count(&mut conn, user_id).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = match (more, rows.last()) {
        (true, Some(last)) => Some(encode_cursor(&last.created_at_ms.to_string(), &last.id)),
        _ => None,
    };
    Ok(NotificationPage {
        items: rows.into_iter().map(Into::into).collect(),
        unread,
        next_cursor,
    })
}

/// Marks one of the user's notifications read; another user's is a 404.
pub async fn mark_read(db: &Db, user_id: &str, id: &str, now: Millis) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    if !store::mark_read(&mut tx, user_id, Some(id), now).await? {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

/// Marks all of the user's notifications read.
pub async fn mark_all_read(db: &Db, user_id: &str, now: Millis) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    store::mark_read(&mut tx, user_id, None, now).await?;
    tx.commit().await?;
    Ok(())
}
