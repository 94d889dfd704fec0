//! `Idempotency-Key` for POSTs that move money: a repeat with the same key and body returns the
//! first response; the same key with a different body is a 409.

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use crate::clock::Millis;
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

/// The stored response of an earlier request with this key, or a 409 when the body differs.
pub async fn replay(
    conn: &mut AnyConnection,
    k: &IdempotencyKey,
) -> Result<Option<(u16, serde_json::Value)>, AppError> {
    let row: Option<(String, i64, String)> = sqlx::query_as(
        "SELECT request_hash, status, response_json FROM idempotency_keys \
         WHERE user_id = $1 AND scope = $2 AND key = $3",
    )
    .bind(&k.user_id)
    .bind(k.scope)
    .bind(&k.key)
    .fetch_optional(conn)
    .await?;
    match row {
        None => Ok(None),
        Some((hash, _, _)) if hash != k.request_hash => Err(AppError::Conflict {
            code: "idempotency_key_reused",
            message: "この Idempotency-Key は別の内容のリクエストですでに使われています。".into(),
        }),
        Some((_, status, body)) => Ok(Some((
            u16::try_from(status).unwrap_or(200),
            serde_json::from_str(&body).map_err(AppError::internal)?,
        ))),
    }
}

/// Records the response in the same transaction as the effect it describes.
pub async fn record(
    conn: &mut AnyConnection,
    k: &IdempotencyKey,
    status: u16,
    response: &serde_json::Value,
    now: Millis,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO idempotency_keys (user_id, scope, key, request_hash, status, response_json, created_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&k.user_id)
    .bind(k.scope)
    .bind(&k.key)
    .bind(&k.request_hash)
    .bind(i64::from(status))
    .bind(response.to_string())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}
