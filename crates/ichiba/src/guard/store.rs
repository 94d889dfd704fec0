//! All SQL of the contact guard: violations, sanctions and the audit log.

use sqlx::AnyConnection;

use crate::clock::Millis;
use crate::db::new_id;

/// Records a block. Only the text's hash and the findings' spans are stored, never the text.
pub async fn insert_violation(
    conn: &mut AnyConnection,
    user_id: Option<&str>,
    text_sha256: &str,
    findings_json: &str,
    context_json: &str,
    now: Millis,
) -> Result<String, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO guard_violations (id, user_id, text_sha256, findings_json, context_json, at_ms, voided) \
         VALUES ($1, $2, $3, $4, $5, $6, 0)",
    )
    .bind(&id)
    .bind(user_id.map(str::to_string))
    .bind(text_sha256)
    .bind(findings_json)
    .bind(context_json)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(id)
}

/// Strikes (non-voided violations) of a user since `since`.
pub async fn strikes_since(
    conn: &mut AnyConnection,
    user_id: &str,
    since: Millis,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM guard_violations WHERE user_id = $1 AND at_ms > $2 AND voided = 0",
    )
    .bind(user_id)
    .bind(since)
    .fetch_one(conn)
    .await
}

/// The latest violation of a user for a text hash.
pub async fn latest_violation_for(
    conn: &mut AnyConnection,
    user_id: &str,
    text_sha256: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM guard_violations WHERE user_id = $1 AND text_sha256 = $2 \
         ORDER BY at_ms DESC, id DESC LIMIT 1",
    )
    .bind(user_id)
    .bind(text_sha256)
    .fetch_optional(conn)
    .await
}

/// Voids a violation (its strike no longer counts).
pub async fn void_violation(conn: &mut AnyConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE guard_violations SET voided = 1 WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A sanction row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SanctionRow {
    pub id: String,
    pub kind: String,
    pub reason: String,
    pub starts_at_ms: i64,
    pub until_at_ms: Option<i64>,
}

/// Sanctions in force at `now`: not lifted, and unbounded or not yet ended. Suspensions first.
pub async fn active_sanctions(
    conn: &mut AnyConnection,
    user_id: &str,
    now: Millis,
) -> Result<Vec<SanctionRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, kind, reason, starts_at_ms, until_at_ms FROM sanctions \
         WHERE user_id = $1 AND lifted_at_ms IS NULL AND starts_at_ms <= $2 \
           AND (until_at_ms IS NULL OR until_at_ms > $2) \
         ORDER BY CASE kind WHEN 'suspension' THEN 0 ELSE 1 END, starts_at_ms DESC",
    )
    .bind(user_id)
    .bind(now)
    .fetch_all(conn)
    .await
}

/// Restrictions imposed since `since` (lifted ones included: they happened).
pub async fn restrictions_since(
    conn: &mut AnyConnection,
    user_id: &str,
    since: Millis,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM sanctions WHERE user_id = $1 AND kind = 'restriction' AND starts_at_ms > $2",
    )
    .bind(user_id)
    .bind(since)
    .fetch_one(conn)
    .await
}

/// Imposes a sanction.
pub async fn insert_sanction(
    conn: &mut AnyConnection,
    user_id: &str,
    kind: &str,
    reason: &str,
    now: Millis,
    until: Option<Millis>,
) -> Result<String, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO sanctions (id, user_id, kind, reason, starts_at_ms, until_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(user_id)
    .bind(kind)
    .bind(reason)
    .bind(now)
    .bind(until)
    .execute(conn)
    .await?;
    Ok(id)
}

/// Lifts every sanction in force; returns how many.
pub async fn lift_all(
    conn: &mut AnyConnection,
    user_id: &str,
    by: &str,
    now: Millis,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE sanctions SET lifted_at_ms = $2, lifted_by = $3 \
         WHERE user_id = $1 AND lifted_at_ms IS NULL AND (until_at_ms IS NULL OR until_at_ms > $2)",
    )
    .bind(user_id)
    .bind(now)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

/// Writes an audit entry.
pub async fn audit(
    conn: &mut AnyConnection,
    actor_id: Option<&str>,
    action: &str,
    target_user_id: Option<&str>,
    detail: &serde_json::Value,
    now: Millis,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (id, at_ms, actor_id, action, target_user_id, detail_json) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id())
    .bind(now)
    .bind(actor_id.map(str::to_string))
    .bind(action)
    .bind(target_user_id.map(str::to_string))
    .bind(detail.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// A sanction in force with the user it applies to (the operators' list).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SanctionInForceRow {
    pub id: String,
    pub user_id: String,
    pub display_name: String,
    pub kind: String,
    pub reason: String,
    pub starts_at_ms: i64,
    pub until_at_ms: Option<i64>,
}

/// Every sanction in force at `now` (same rule as [`active_sanctions`]), suspensions first, then
/// newest first.
pub async fn sanctions_in_force(
    conn: &mut AnyConnection,
    now: Millis,
    limit: i64,
) -> Result<Vec<SanctionInForceRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.id, s.user_id, u.display_name, s.kind, s.reason, s.starts_at_ms, s.until_at_ms \
         FROM sanctions s JOIN users u ON u.id = s.user_id \
         WHERE s.lifted_at_ms IS NULL AND s.starts_at_ms <= $1 \
           AND (s.until_at_ms IS NULL OR s.until_at_ms > $1) \
         ORDER BY CASE s.kind WHEN 'suspension' THEN 0 ELSE 1 END, s.starts_at_ms DESC, s.id \
         LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await
}
