//! All SQL of message templates.

use sqlx::AnyConnection;

use crate::clock::Millis;
use crate::db::new_id;

/// A template row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TemplateRow {
    pub id: String,
    pub user_id: String,
    pub title: String,
    pub body: String,
    pub position: i64,
}

/// Gives a new user the standard templates.
pub async fn seed_standard(
    conn: &mut AnyConnection,
    user_id: &str,
    now: Millis,
) -> Result<(), sqlx::Error> {
    for (i, (title, body)) in super::model::STANDARD.iter().enumerate() {
        insert(
            conn,
            user_id,
            title,
            body,
            i64::try_from(i).unwrap_or(0),
            now,
        )
        .await?;
    }
    Ok(())
}

/// Inserts a template.
pub async fn insert(
    conn: &mut AnyConnection,
    user_id: &str,
    title: &str,
    body: &str,
    position: i64,
    now: Millis,
) -> Result<TemplateRow, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO message_templates (id, user_id, title, body, position, created_at_ms, updated_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(&id)
    .bind(user_id)
    .bind(title)
    .bind(body)
    .bind(position)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(TemplateRow {
        id,
        user_id: user_id.into(),
        title: title.into(),
        body: body.into(),
        position,
    })
}

/// The user's templates in order.
pub async fn list(
    conn: &mut AnyConnection,
    user_id: &str,
) -> Result<Vec<TemplateRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, user_id, title, body, position FROM message_templates WHERE user_id = $1 \
         ORDER BY position, id",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await
}

/// One of the user's templates.
pub async fn get(
    conn: &mut AnyConnection,
    user_id: &str,
    id: &str,
) -> Result<Option<TemplateRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, user_id, title, body, position FROM message_templates WHERE id = $1 AND user_id = $2",
    )
    .bind(id)
    .bind(user_id)
    .fetch_optional(conn)
    .await
}

/// Updates one of the user's templates; returns whether it exists.
pub async fn update(
    conn: &mut AnyConnection,
    user_id: &str,
    id: &str,
    title: &str,
    body: &str,
    now: Millis,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE message_templates SET title = $3, body = $4, updated_at_ms = $5 WHERE id = $1 AND user_id = $2",
    )
    .bind(id)
    .bind(user_id)
    .bind(title)
    .bind(body)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Deletes one of the user's templates; returns whether it existed.
pub async fn delete(
    conn: &mut AnyConnection,
    user_id: &str,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM message_templates WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Number of templates and the next position.
pub async fn count_and_next(
    conn: &mut AnyConnection,
    user_id: &str,
) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT COUNT(*), COALESCE(MAX(position), -1) + 1 FROM message_templates WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_one(conn)
    .await
}
