//! Request extractors shared by every feature: JSON and query bodies whose rejections speak the
//! API's error format, the authenticated user, the client address, and opaque list cursors.

use std::net::SocketAddr;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::accounts::{self, Identity};
use crate::app::AppState;
use crate::error::AppError;

/// `axum::Json` whose rejections become API errors (400 malformed, 413 too large).
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

/// `axum::extract::Query` whose rejections become 400 API errors.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::BadRequest {
                code: "unsupported_media_type",
                message: "Content-Type: application/json で送信してください。".into(),
            },
            _ => AppError::BadRequest {
                code: "malformed_json",
                message: format!(
                    "リクエストの JSON を読み取れませんでした: {}",
                    // serde's message names the field and the expected type; it holds no
                    // internal state, only what the client itself sent.
                    rejection.body_text()
                ),
            },
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::BadRequest {
            code: "malformed_query",
            message: format!(
                "クエリパラメータが正しくありません: {}",
                rejection.body_text()
            ),
        }
    }
}

/// The caller, authenticated by `Authorization: Bearer <token>`. Rejects with 401.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Identity);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = bearer_token(&parts.headers).ok_or(AppError::Unauthenticated)?;
        let identity = accounts::authenticate(&state.db, token, state.clock.now_ms())
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

/// The client's address: the socket peer, or the first `X-Forwarded-For` hop when the operator
/// configured ichiba to trust its reverse proxy.
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if state.config.trust_forwarded_for
            && let Some(first) = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        {
            return Ok(ClientAddr(first.to_string()));
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string())
            .unwrap_or_else(|| "unknown".to_string());
        Ok(ClientAddr(peer))
    }
}

/// Encodes a keyset position (`sort key`, `id`) as an opaque cursor.
pub fn encode_cursor(key: &str, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{key}\n{id}"))
}

/// Decodes a cursor made by [`encode_cursor`]; a cursor that was not is a 400.
pub fn decode_cursor(cursor: &str) -> Result<(String, String), AppError> {
    let bad = || AppError::BadRequest {
        code: "invalid_cursor",
        message: "cursor の値が正しくありません。".into(),
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (key, id) = text.split_once('\n').ok_or_else(bad)?;
    Ok((key.to_string(), id.to_string()))
}

/// Decodes an optional cursor whose sort key is an integer (a time in ms, a price, a score): the
/// keyset position `(key, id)` after which the next page starts. A bad cursor is a 400.
pub fn decode_key_cursor(cursor: Option<&str>) -> Result<Option<(i64, String)>, AppError> {
    let Some(c) = cursor else { return Ok(None) };
    let (key, id) = decode_cursor(c)?;
    let key = key.parse::<i64>().map_err(|_| AppError::BadRequest {
        code: "invalid_cursor",
        message: "cursor の値が正しくありません。".into(),
    })?;
    Ok(Some((key, id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_rejected() {
        let c = encode_cursor("1500", "abc");
        assert_eq!(
            decode_cursor(&c).unwrap(),
            ("1500".to_string(), "abc".to_string())
        );
        assert!(decode_cursor("!!!").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("no-newline")).is_err());
    }
}
