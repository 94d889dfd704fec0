//! `Idempotency-Key` for commands that move money (purchase, payout request, points conversion):
//! a repeat with the same key and body returns the first result; the same key with a different
//! body is a 409. One mechanism for the API (the header) and the web app (a one-time form key):
//! a service calls [`begin`] before it does anything — which claims the key, or replays the first
//! result, waiting for it if the first request is still running — and [`Claim::commit`] instead
//! of committing its transaction, which records the result in that same transaction. So the
//! effect and its record exist together or not at all, only one of concurrent twins acts, and
//! every twin answers with the first one's result.

use axum::http::HeaderMap;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

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
    /// The first request with this key is still running (409 `idempotency_key_in_use`).
    #[error("idempotency key in use by a running request")]
    InUse,
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
            IdempotencyError::InUse => AppError::Conflict {
                code: "idempotency_key_in_use",
                message: "同じ Idempotency-Key のリクエストを処理中です。しばらくしてから再度お試しください。"
                    .into(),
            },
            IdempotencyError::Store(cause) => AppError::internal(cause),
        }
    }
}

/// A claimed key older than this whose request never finished (its process died) may be taken
/// over by a repeat.
const ABANDONED_AFTER_MS: Millis = 60_000;

/// How long a repeat waits for the first request with its key to finish before answering 409
/// `idempotency_key_in_use`.
const WAIT_FOR_TWIN: Duration = Duration::from_secs(15);

/// What [`begin`] found for a key.
#[derive(Debug)]
pub enum Begun<T> {
    /// The first request with this key finished: answer with its result, do nothing.
    Replay(T),
    /// Nobody ran this request yet: do it, then [`Claim::commit`] in the same transaction.
    Fresh(Claim),
}

/// The right to run a keyed request, held from [`begin`] to [`Claim::commit`]. Without a key it
/// is a no-op. Dropped without a commit (the request failed), it frees the key so a retry with
/// it runs afresh.
#[derive(Debug)]
pub struct Claim {
    db: Db,
    key: Option<IdempotencyKey>,
    settled: bool,
}

/// Starts a keyed request. A repeat of a finished request replays its result; a repeat that
/// arrives while the first is still running waits for it (up to 15 s) and then replays, so
/// concurrent twins all get the first request's answer and only one of them acts.
///
/// Errors: [`IdempotencyError::Reused`] when the key was used with another body;
/// [`IdempotencyError::InUse`] when the first request is still running after the wait; `Store`
/// when the database fails.
pub async fn begin<T: DeserializeOwned>(
    db: &Db,
    key: Option<IdempotencyKey>,
    now: Millis,
) -> Result<Begun<T>, IdempotencyError> {
    let Some(k) = key else {
        return Ok(Begun::Fresh(Claim {
            db: db.clone(),
            key: None,
            settled: false,
        }));
    };
    let deadline = tokio::time::Instant::now() + WAIT_FOR_TWIN;
    let mut pause = Duration::from_millis(5);
    loop {
        if try_claim(db, &k, now).await? {
            return Ok(Begun::Fresh(Claim {
                db: db.clone(),
                key: Some(k),
                settled: false,
            }));
        }
        match lookup(db, &k).await? {
            Some(Found::Done(body)) => {
                return serde_json::from_str(&body)
                    .map(Begun::Replay)
                    .map_err(|e| IdempotencyError::Store(e.to_string()));
            }
            Some(Found::Running { claimed_at }) if claimed_at < now - ABANDONED_AFTER_MS => {
                take_over(db, &k, claimed_at, now).await?;
            }
            // Freed meanwhile (the first request failed): claim it on the next round.
            None | Some(Found::Running { .. }) => {}
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(IdempotencyError::InUse);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// Status of a claimed key whose request has not finished.
const RUNNING: i64 = 0;
/// Status of a key whose request finished (every keyed command answers 2xx).
const DONE: i64 = 200;

enum Found {
    Running { claimed_at: Millis },
    Done(String),
}

/// Inserts the key as running; false when it exists already.
async fn try_claim(db: &Db, k: &IdempotencyKey, now: Millis) -> Result<bool, IdempotencyError> {
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys \
         (user_id, scope, key, request_hash, status, response_json, created_at_ms) \
         VALUES ($1, $2, $3, $4, $5, '', $6) ON CONFLICT (user_id, scope, key) DO NOTHING",
    )
    .bind(&k.user_id)
    .bind(k.scope)
    .bind(&k.key)
    .bind(&k.request_hash)
    .bind(RUNNING)
    .bind(now)
    .execute(db.pool())
    .await?;
    // A twin holds the key: no error (PostgreSQL would log every polling round as one).
    Ok(inserted.rows_affected() == 1)
}

/// The key's row, checked against this request's body.
async fn lookup(db: &Db, k: &IdempotencyKey) -> Result<Option<Found>, IdempotencyError> {
    let row: Option<(String, i64, String, Millis)> = sqlx::query_as(
        "SELECT request_hash, status, response_json, created_at_ms FROM idempotency_keys \
         WHERE user_id = $1 AND scope = $2 AND key = $3",
    )
    .bind(&k.user_id)
    .bind(k.scope)
    .bind(&k.key)
    .fetch_optional(db.pool())
    .await?;
    match row {
        None => Ok(None),
        Some((hash, _, _, _)) if hash != k.request_hash => Err(IdempotencyError::Reused),
        Some((_, RUNNING, _, claimed_at)) => Ok(Some(Found::Running { claimed_at })),
        Some((_, _, body, _)) => Ok(Some(Found::Done(body))),
    }
}

/// Frees an abandoned claim (only if nobody else took it over first).
async fn take_over(
    db: &Db,
    k: &IdempotencyKey,
    claimed_at: Millis,
    now: Millis,
) -> Result<(), IdempotencyError> {
    tracing::warn!(scope = k.scope, user_id = %k.user_id, "taking over an abandoned idempotency key");
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE user_id = $1 AND scope = $2 AND key = $3 \
         AND status = $4 AND created_at_ms = $5 AND created_at_ms < $6",
    )
    .bind(&k.user_id)
    .bind(k.scope)
    .bind(&k.key)
    .bind(RUNNING)
    .bind(claimed_at)
    .bind(now - ABANDONED_AFTER_MS)
    .execute(db.pool())
    .await?;
    Ok(())
}

impl Claim {
    /// Records `result` under the key in `tx` and commits `tx`: the effect and its record exist
    /// together or not at all. Without a key it only commits.
    ///
    /// Errors: `Store` when the database fails or the claim was taken over meanwhile (the
    /// request ran past the abandonment time); `tx` is then rolled back.
    pub async fn commit<T: Serialize>(
        mut self,
        mut tx: Tx,
        result: &T,
    ) -> Result<(), IdempotencyError> {
        if let Some(k) = &self.key {
            let json = serde_json::to_string(result)
                .map_err(|e| IdempotencyError::Store(e.to_string()))?;
            let updated = sqlx::query(
                "UPDATE idempotency_keys SET status = $1, response_json = $2 \
                 WHERE user_id = $3 AND scope = $4 AND key = $5 AND status = $6",
            )
            .bind(DONE)
            .bind(json)
            .bind(&k.user_id)
            .bind(k.scope)
            .bind(&k.key)
            .bind(RUNNING)
            .execute(&mut *tx)
            .await?;
            if updated.rows_affected() != 1 {
                return Err(IdempotencyError::Store("idempotency claim lost".into()));
            }
        }
        tx.commit().await?;
        self.settled = true;
        Ok(())
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let Some(k) = self.key.take() else { return };
        let db = self.db.clone();
        // The request failed before committing: free the key for a retry. Best effort: if this
        // does not run (the runtime is shutting down), the claim is taken over once abandoned.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let freed = sqlx::query(
                    "DELETE FROM idempotency_keys \
                     WHERE user_id = $1 AND scope = $2 AND key = $3 AND status = $4",
                )
                .bind(&k.user_id)
                .bind(k.scope)
                .bind(&k.key)
                .bind(RUNNING)
                .execute(db.pool())
                .await;
                if let Err(e) = freed {
                    tracing::warn!(error = %e, "could not free an idempotency key");
                }
            });
        }
    }
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
