//! All SQL of timers: due rows, lease claims, completion.

use sqlx::AnyConnection;

use crate::clock::Millis;

/// A timer row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TimerRow {
    pub id: String,
    pub order_id: String,
    pub kind: String,
    pub due_at_ms: i64,
    pub lease_until_ms: i64,
}

/// Timers due at `now` whose lease (if any) has run out, oldest first.
pub async fn due(
    conn: &mut AnyConnection,
    now: Millis,
    limit: i64,
) -> Result<Vec<TimerRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, order_id, kind, due_at_ms, lease_until_ms FROM timers \
         WHERE done = 0 AND due_at_ms <= $1 AND lease_until_ms <= $1 \
         ORDER BY due_at_ms, id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Timers of one order due at `now` whose lease has run out, oldest first.
pub async fn due_for_order(
    conn: &mut AnyConnection,
    order_id: &str,
    now: Millis,
) -> Result<Vec<TimerRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, order_id, kind, due_at_ms, lease_until_ms FROM timers \
         WHERE order_id = $1 AND done = 0 AND due_at_ms <= $2 AND lease_until_ms <= $2 \
         ORDER BY due_at_ms, id",
    )
    .bind(order_id)
    .bind(now)
    .fetch_all(conn)
    .await
}

/// Takes the lease if nobody took it since it was read (compare-and-set on the old lease).
pub async fn claim(
    conn: &mut AnyConnection,
    id: &str,
    old_lease: Millis,
    new_lease: Millis,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE timers SET lease_until_ms = $3, attempts = attempts + 1 \
         WHERE id = $1 AND done = 0 AND lease_until_ms = $2",
    )
    .bind(id)
    .bind(old_lease)
    .bind(new_lease)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Marks a timer fired.
pub async fn mark_done(conn: &mut AnyConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE timers SET done = 1 WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
