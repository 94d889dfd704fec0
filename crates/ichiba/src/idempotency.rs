//! `Idempotency-Key` for commands that move money (purchase, payout request, points conversion):
//! a repeat with the same key and body returns the first result; the same key with a different
//! body is a 409. One mechanism for the API (the header) and the web app (a one-time form key):
//! a service calls [`replay`] before it does anything and [`commit`] instead of committing its
//! transaction, which records the result in that same transaction — so the effect and its record
//! exist together or not at all, and a concurrent twin answers with the winner's result.

use axum::http::HeaderMap;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::clock::Millis;
use crate::db::{Db, Tx};
use crate::error::AppError;

/// A key sent by the client, scoped to the user and the endpoint.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    /// The caller.
    pub user_id: String,
    /// The endpoint (`orders`, `payouts`).
    pub scope: &'static str,
    /// The client's key.
    pub key: String,
    /// Hash of the request body.
    pub request_hash: String,
}

/// Reads the `Idempotency-Key` header (1–200 visible characters), if any.
pub fn from_headers(
    headers: &HeaderMap,
    user_id: &str,
    scope: &'static str,
    request: &serde_json::Value,
) -> Result<Option<IdempotencyKey>, AppError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200);
    let Some(key) = key else {
        return Err(AppError::BadRequest {
            code: "invalid_idempotency_key",
            message: "Idempotency-Key は1〜200文字の英数字で指定してください。".into(),
        });
    };
    Ok(Some(IdempotencyKey {
        user_id: user_id.to_string(),
        scope,
        key: key.to_string(),
        request_hash: hex::encode(Sha256::digest(request.to_string().as_bytes())),
    }))
}

impl IdempotencyKey {
    /// The key of a web form: a one-time value rendered into the form, so a second click or a
    /// resubmitted page repeats nothing. `None` for a missing or malformed value.
    pub fn for_form(
        user_id: &str,
        scope: &'static str,
        key: &str,
        request: &serde_json::Value,
    ) -> Option<IdempotencyKey> {
        let key = key.trim();
        (!key.is_empty() && key.len() <= 200 && key.bytes().all(|b| b.is_ascii_graphic())).then(
            || IdempotencyKey {
                user_id: user_id.to_string(),
                scope,
                key: format!("form:{key}"),
                request_hash: hex::encode(Sha256::digest(request.to_string().as_bytes())),
            },
        )
    }
}

/// Why a keyed command could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError {
    /// The key was used before with a different request body (409 `idempotency_key_reused`).
    #[error("idempotency key reused with a different request")]
    Reused,
    /// The database failed, or a stored result could not be read back.
    #[error("idempotency store: {0}")]
    Store(String),
}

impl From<sqlx::Error> for IdempotencyError {
    fn from(e: sqlx::Error) -> Self {
        IdempotencyError::Store(e.to_string())
    }
}

impl From<IdempotencyError> for AppError {
    fn from(e: IdempotencyError) -> Self {
        match e {
            IdempotencyError::Reused => AppError::Conflict {
                code: "idempotency_key_reused",
                message: "この Idempotency-Key は別の内容のリクエストですでに使われています。"
                    .into(),
            },
            IdempotencyError::Store(cause) => AppError::internal(cause),
        }
    }
}

/// The result of an earlier request with this key, if there was one.
///
/// Errors: [`IdempotencyError::Reused`] when the earlier request had a different body.
pub async fn replay<T: DeserializeOwned>(
    db: &Db,
    key: Option<&IdempotencyKey>,
) -> Result<Option<T>, IdempotencyError> {
    let Some(k) = key else { return Ok(None) };
    let mut conn = db.pool().acquire().await?;
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT request_hash, response_json FROM idempotency_keys \
         WHERE user_id = $1 AND scope = $2 AND key = $3",
    )
    .bind(&k.user_id)
    .bind(k.scope)
    .bind(&k.key)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        None => Ok(None),
        Some((hash, _)) if hash != k.request_hash => Err(IdempotencyError::Reused),
        Some((_, body)) => serde_json::from_str(&body)
            .map(Some)
            .map_err(|e| IdempotencyError::Store(e.to_string())),
    }
}

/// Records `result` under the key in `tx` and commits it. Without a key it only commits.
///
/// Returns `Some(earlier)` when a concurrent request with the same key committed first: `tx` is
/// then rolled back (its effect never happened) and the caller answers with the winner's result.
///
/// Errors: [`IdempotencyError::Reused`] when that winner had a different body; `Store` when the
/// database fails.
pub async fn commit<T: Serialize + DeserializeOwned>(
    db: &Db,
    mut tx: Tx,
    key: Option<&IdempotencyKey>,
    result: &T,
    now: Millis,
) -> Result<Option<T>, IdempotencyError> {
    if let Some(k) = key {
        let json =
            serde_json::to_string(result).map_err(|e| IdempotencyError::Store(e.to_string()))?;
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys \
             (user_id, scope, key, request_hash, status, response_json, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&k.user_id)
        .bind(k.scope)
        .bind(&k.key)
        .bind(&k.request_hash)
        // The status column predates typed results; every keyed command answers 2xx.
        .bind(200_i64)
        .bind(json)
        .bind(now)
        .execute(&mut *tx)
        .await;
        if let Err(e) = inserted {
            drop(tx);
            if crate::db::is_unique_violation(&e) {
                return match replay(db, Some(k)).await? {
                    Some(earlier) => Ok(Some(earlier)),
                    None => Err(IdempotencyError::Store("raced key vanished".into())),
                };
            }
            return Err(e.into());
        }
    }
    tx.commit().await?;
    Ok(None)
}
