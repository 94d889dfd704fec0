//! All SQL of attachments.

use sqlx::AnyConnection;

/// An attachment row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttachmentRow {
    pub id: String,
    pub owner_id: String,
    pub sha256: String,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub created_at_ms: i64,
}

/// Inserts an attachment.
pub async fn insert(conn: &mut AnyConnection, a: &AttachmentRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO attachments (id, owner_id, sha256, filename, content_type, size_bytes, created_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&a.id)
    .bind(&a.owner_id)
    .bind(&a.sha256)
    .bind(&a.filename)
    .bind(&a.content_type)
    .bind(a.size_bytes)
    .bind(a.created_at_ms)
    .execute(conn)
    .await?;
    Ok(())
}

/// One attachment.
pub async fn by_id(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<AttachmentRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, owner_id, sha256, filename, content_type, size_bytes, created_at_ms \
         FROM attachments WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Whether the attachment is in a message of a thread `user_id` belongs to.
pub async fn shared_with(
    conn: &mut AnyConnection,
    id: &str,
    user_id: &str,
) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM message_attachments ma \
         JOIN messages m ON m.id = ma.message_id JOIN threads t ON t.id = m.thread_id \
         WHERE ma.attachment_id = $1 AND (t.user_a = $2 OR t.user_b = $2)",
    )
    .bind(id)
    .bind(user_id)
    .fetch_one(conn)
    .await?;
    Ok(n > 0)
}
