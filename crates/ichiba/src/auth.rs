//! Who is calling: the [`Identity`] behind a session token, and the extractors every feature's
//! handlers use to require it (`CurrentUser`, `Operator`, `MaybeUser`). It owns the session lookup
//! (sessions are created and deleted by `accounts`), so it sits below every feature.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use crate::clock::Millis;
use crate::db::Db;
use crate::error::AppError;
use crate::state::AppState;

/// Who is calling: the user behind a valid session token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The user's id.
    pub user_id: String,
    /// Whether the user holds the operator role.
    pub is_operator: bool,
}

/// The identity behind a bearer token, if the session exists and has not expired.
pub async fn authenticate(
    db: &Db,
    token: &str,
    now: Millis,
) -> Result<Option<Identity>, sqlx::Error> {
    let mut conn = db.pool().acquire().await?;
    Ok(session_user(&mut conn, &hash_token(token), now)
        .await?
        .map(|(user_id, op)| Identity {
            user_id,
            is_operator: op == 1,
        }))
}

/// The stored form of a session token: its SHA-256 in hex, so a leaked table grants nothing.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The display name of a user, `None` for an unknown id. Features that only need to know a user
/// exists, or what to call them, read it here rather than through the accounts service, which
/// sits above them (it screens profiles and seeds templates).
pub async fn display_name(
    conn: &mut AnyConnection,
    user_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> = sqlx::query_as("SELECT display_name FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|(n,)| n))
}

/// The user id and operator flag behind an unexpired session.
pub async fn session_user(
    conn: &mut AnyConnection,
    token_hash: &str,
    now: Millis,
) -> Result<Option<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.id, u.is_operator FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = $1 AND s.expires_at_ms > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// The caller, authenticated by `Authorization: Bearer <token>`. Rejects with 401.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Identity);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = bearer_token(&parts.headers).ok_or(AppError::Unauthenticated)?;
        let identity = authenticate(&state.db, token, state.clock.now_ms())
            .await?
            .ok_or(AppError::Unauthenticated)?;
        Ok(CurrentUser(identity))
    }
}

/// An authenticated operator. Rejects with 401 without a session and 403 for other users.
#[derive(Debug, Clone)]
pub struct Operator(pub Identity);

impl FromRequestParts<AppState> for Operator {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let CurrentUser(identity) = CurrentUser::from_request_parts(parts, state).await?;
        if !identity.is_operator {
            return Err(AppError::Forbidden {
                code: "operator_only",
                message: "この操作は運営者のみ行えます。".into(),
            });
        }
        Ok(Operator(identity))
    }
}

/// The caller if a valid token was sent, else `None` (never rejects for a missing token, but a
/// token that is sent and invalid is still a 401 so clients notice an expired session).
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<Identity>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        match bearer_token(&parts.headers) {
            None => Ok(MaybeUser(None)),
            Some(_) => Ok(MaybeUser(Some(
                CurrentUser::from_request_parts(parts, state).await?.0,
            ))),
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header, if one is present.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}
