//! All SQL of accounts: users, sessions and login attempts. Functions take an open connection or
//! transaction so a service composes them.

use sqlx::AnyConnection;

use crate::clock::Millis;

/// A user row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub display_name: String,
    pub bio: String,
    pub is_operator: i64,
}

/// Inserts a user. A duplicate e-mail is a unique violation.
pub async fn insert_user(
    conn: &mut AnyConnection,
    id: &str,
    email: &str,
    password_hash: &str,
    display_name: &str,
    now: Millis,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO users (id, email, password_hash, display_name, bio, is_operator, \
         created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4, '', 0, $5, $5)",
    )
    .bind(id)
    .bind(email)
    .bind(password_hash)
    .bind(display_name)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

const USER_COLUMNS: &str = "id, email, password_hash, display_name, bio, is_operator";

/// The user with this normalised e-mail.
pub async fn user_by_email(
    conn: &mut AnyConnection,
    email: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM users WHERE email = $1"
    )))
    .bind(email)
    .fetch_optional(conn)
    .await
}

/// The user with this id.
pub async fn user_by_id(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM users WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Updates name and bio; returns whether a row changed.
pub async fn update_profile(
    conn: &mut AnyConnection,
    id: &str,
    display_name: &str,
    bio: &str,
    now: Millis,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE users SET display_name = $2, bio = $3, updated_at_ms = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(display_name)
    .bind(bio)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Sets the operator flag; returns whether the user exists.
pub async fn set_operator(
    conn: &mut AnyConnection,
    email: &str,
    operator: bool,
    now: Millis,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE users SET is_operator = $2, updated_at_ms = $3 WHERE email = $1")
        .bind(email)
        .bind(i16::from(operator))
        .bind(now)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Records a successful login (for the "logged in within a month" rank criterion).
pub async fn touch_login(
    conn: &mut AnyConnection,
    id: &str,
    now: Millis,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET last_login_at_ms = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Stores a session by the hash of its token.
pub async fn insert_session(
    conn: &mut AnyConnection,
    token_hash: &str,
    user_id: &str,
    now: Millis,
    expires_at: Millis,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at_ms, expires_at_ms) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes a session.
pub async fn delete_session(conn: &mut AnyConnection, token_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records one login attempt.
pub async fn insert_login_attempt(
    conn: &mut AnyConnection,
    id: &str,
    email: &str,
    client_addr: &str,
    now: Millis,
    succeeded: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO login_attempts (id, email, client_addr, at_ms, succeeded) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(email)
    .bind(client_addr)
    .bind(now)
    .bind(i16::from(succeeded))
    .execute(conn)
    .await?;
    Ok(())
}

/// Failed attempts for an e-mail since `since`, with the time of the oldest.
pub async fn failed_attempts_for_email(
    conn: &mut AnyConnection,
    email: &str,
    since: Millis,
) -> Result<(i64, Option<Millis>), sqlx::Error> {
    sqlx::query_as(
        "SELECT COUNT(*), MIN(at_ms) FROM login_attempts \
         WHERE email = $1 AND at_ms > $2 AND succeeded = 0",
    )
    .bind(email)
    .bind(since)
    .fetch_one(conn)
    .await
}

/// Failed attempts from a client address since `since`, with the time of the oldest.
pub async fn failed_attempts_for_client(
    conn: &mut AnyConnection,
    client_addr: &str,
    since: Millis,
) -> Result<(i64, Option<Millis>), sqlx::Error> {
    sqlx::query_as(
        "SELECT COUNT(*), MIN(at_ms) FROM login_attempts \
         WHERE client_addr = $1 AND at_ms > $2 AND succeeded = 0",
    )
    .bind(client_addr)
    .bind(since)
    .fetch_one(conn)
    .await
}

/// Forgets attempts older than `before` (they no longer count against anyone).
pub async fn prune_login_attempts(
    conn: &mut AnyConnection,
    before: Millis,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_attempts WHERE at_ms <= $1")
        .bind(before)
        .execute(conn)
        .await?;
    Ok(())
}
