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
    match value.to_str().ok().map(str::trim).filter(|k| fits(k)) {
        Some(key) => Ok(Some(IdempotencyKey::new(
            user_id,
            scope,
            key.to_string(),
            request,
        ))),
        None => Err(AppError::BadRequest {
            code: "invalid_idempotency_key",
            message: "Idempotency-Key は1〜200文字の英数字で指定してください。".into(),
        }),
    }
}

/// 1–200 bytes (a header value is already visible ASCII).
fn fits(key: &str) -> bool {
    !key.is_empty() && key.len() <= 200
}

impl IdempotencyKey {
    fn new(user_id: &str, scope: &'static str, key: String, request: &serde_json::Value) -> Self {
        IdempotencyKey {
            user_id: user_id.to_string(),
            scope,
            key,
            request_hash: hex::encode(Sha256::digest(request.to_string().as_bytes())),
        }
    }

    /// The key of a web form: a one-time value rendered into the form, so a second click or a
    /// resubmitted page repeats nothing. `None` for a missing or malformed value.
    pub fn for_form(
        user_id: &str,
        scope: &'static str,
        key: &str,
        request: &serde_json::Value,
    ) -> Option<IdempotencyKey> {
        let key = key.trim();
        // Prefixed, so a form's key can never collide with a key an API client chose.
        (fits(key) && key.bytes().all(|b| b.is_ascii_graphic()))
            .then(|| IdempotencyKey::new(user_id, scope, format!("form:{key}"), request))
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use serde_json::json;

    fn headers(key: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            "idempotency-key",
            HeaderValue::from_str(key).expect("header"),
        );
        h
    }

    #[test]
    fn a_header_key_of_one_to_200_characters_is_taken_and_anything_else_is_a_400() {
        let body = json!({"amount_yen": 5000});
        let k = from_headers(&headers(" order 1 "), "u", "payouts", &body)
            .expect("valid")
            .expect("a key");
        assert_eq!((k.key.as_str(), k.scope), ("order 1", "payouts"));
        assert!(
            from_headers(&HeaderMap::new(), "u", "payouts", &body)
                .expect("no header")
                .is_none()
        );
        for bad in ["   ", &"x".repeat(201)] {
            let e = from_headers(&headers(bad), "u", "payouts", &body).expect_err("refused");
            assert!(
                matches!(
                    e,
                    AppError::BadRequest {
                        code: "invalid_idempotency_key",
                        ..
                    }
                ),
                "{e:?}"
            );
        }
    }

    #[test]
    fn a_form_key_is_kept_apart_from_api_keys_and_the_body_decides_the_hash() {
        let a = IdempotencyKey::for_form("u", "orders", "abc", &json!({"x": 1})).expect("key");
        let b = IdempotencyKey::for_form("u", "orders", "abc", &json!({"x": 2})).expect("key");
        assert_eq!(a.key, "form:abc");
        assert_ne!(a.request_hash, b.request_hash);
        let same = IdempotencyKey::for_form("u", "orders", " abc ", &json!({"x": 1})).expect("key");
        assert_eq!(a.request_hash, same.request_hash);
        assert!(IdempotencyKey::for_form("u", "orders", "a b", &json!({})).is_none());
        assert!(IdempotencyKey::for_form("u", "orders", "", &json!({})).is_none());
    }
}
