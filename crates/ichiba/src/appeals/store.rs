//! All SQL of appeals (`guard_appeals`): filing, the operators' queue and the decision.

use sqlx::AnyConnection;

use crate::clock::Millis;
use crate::db::new_id;

/// An appeal row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AppealRow {
    pub id: String,
    pub user_id: String,
    pub violation_id: Option<String>,
    pub text: String,
    pub context_json: String,
    pub state: String,
    pub created_at_ms: i64,
    pub decided_at_ms: Option<i64>,
    pub note: String,
}

const APPEAL_COLUMNS: &str =
    "id, user_id, violation_id, text, context_json, state, created_at_ms, decided_at_ms, note";

/// Files an appeal.
pub async fn insert_appeal(
    conn: &mut AnyConnection,
    user_id: &str,
    violation_id: Option<&str>,
    text: &str,
    context_json: &str,
    now: Millis,
) -> Result<AppealRow, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO guard_appeals (id, user_id, violation_id, text, context_json, state, created_at_ms, note) \
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, '')",
    )
    .bind(&id)
    .bind(user_id)
    .bind(violation_id.map(str::to_string))
    .bind(text)
    .bind(context_json)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(AppealRow {
        id,
        user_id: user_id.into(),
        violation_id: violation_id.map(str::to_string),
        text: text.into(),
        context_json: context_json.into(),
        state: "pending".into(),
        created_at_ms: now,
        decided_at_ms: None,
        note: String::new(),
    })
}

/// One appeal.
pub async fn appeal(conn: &mut AnyConnection, id: &str) -> Result<Option<AppealRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {APPEAL_COLUMNS} FROM guard_appeals WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Decides a pending appeal (compare-and-set on `pending`).
pub async fn decide_appeal(
    conn: &mut AnyConnection,
    id: &str,
    state: &str,
    by: &str,
    note: &str,
    now: Millis,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE guard_appeals SET state = $2, decided_by = $3, note = $4, decided_at_ms = $5 \
         WHERE id = $1 AND state = 'pending'",
    )
    .bind(id)
    .bind(state)
    .bind(by)
    .bind(note)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// An appeal of the operators' queue with the display name of the user who filed it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AppealQueueRow {
    #[sqlx(flatten)]
    pub appeal: AppealRow,
    /// The appellant's display name (empty for an unknown user).
    pub user_name: String,
}

/// The operators' appeal queue in one query: the appeals in `state` (every state when `None` or
/// empty), pending first then newest, at most 200, each with its user's display name.
pub async fn appeal_queue(
    conn: &mut AnyConnection,
    state: Option<&str>,
) -> Result<Vec<AppealQueueRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.id, a.user_id, a.violation_id, a.text, a.context_json, a.state, \
         a.created_at_ms, a.decided_at_ms, a.note, COALESCE(u.display_name, '') AS user_name \
         FROM guard_appeals a LEFT JOIN users u ON u.id = a.user_id \
         WHERE ($1 = '' OR a.state = $1) \
         ORDER BY CASE a.state WHEN 'pending' THEN 0 ELSE 1 END, a.created_at_ms DESC LIMIT 200",
    )
    .bind(state.unwrap_or(""))
    .fetch_all(conn)
    .await
}

/// How many appeals are in `state` (`pending`: what waits for the operators).
pub async fn count_appeals(conn: &mut AnyConnection, state: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM guard_appeals WHERE state = $1")
        .bind(state)
        .fetch_one(conn)
        .await
}
