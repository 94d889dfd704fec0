//! Request extractors shared by every feature: JSON bodies, query strings and multipart uploads
//! whose rejections speak the API's error format, with the character rule of [`crate::text`]
//! applied to every string before a feature sees it; and the client address. The caller's
//! identity is [`crate::auth`]'s.

use std::net::SocketAddr;

use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Multipart, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::AppError;
use crate::state::AppState;

/// A JSON object body: rejections become API errors (400 malformed or not an object, 413 too
/// large), every string in it passes [`crate::text::clean_json`] (422 `validation_failed` naming
/// the field), then it is read into `T` (400 naming the field whose type is wrong).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let axum::Json(mut value) = axum::Json::<Value>::from_request(req, state).await?;
        // Every body of the API is an object; serde would also read a struct from an array of
        // its fields in order (`[null, null]`), which no client means.
        if !value.is_object() {
            return Err(AppError::BadRequest {
                code: "malformed_json",
                message: "リクエストの本文は JSON オブジェクト（{…}）で送信してください。".into(),
            });
        }
        crate::text::clean_json(&mut value)?;
        serde_path_to_error::deserialize(value)
            .map(ApiJson)
            .map_err(|e| AppError::BadRequest {
                code: "malformed_json",
                // The path names the field, serde's message the expected type; both come from
                // what the client sent, never from internal state.
                message: format!("リクエストの JSON を読み取れませんでした: {e}"),
            })
    }
}

/// A query string: every value passes [`crate::text::clean`] (422 naming the parameter), then
/// it is read into `T` (400 `malformed_query`).
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        let query = parts.uri.query().unwrap_or_default();
        let cleaned = crate::text::clean_urlencoded(query)?;
        serde_urlencoded::from_str(&cleaned)
            .map(ApiQuery)
            .map_err(|e| AppError::BadRequest {
                code: "malformed_query",
                message: format!("クエリパラメータが正しくありません: {e}"),
            })
    }
}

/// A `multipart/form-data` body whose rejection (no boundary, wrong content type) is a 400 API
/// error. Reading its fields is the handler's; text fields pass [`crate::text::clean`] there.
#[derive(Debug)]
pub struct ApiMultipart(pub Multipart);

impl<S: Send + Sync> FromRequest<S> for ApiMultipart {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        Multipart::from_request(req, state)
            .await
            .map(ApiMultipart)
            .map_err(AppError::from)
    }
}

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
                    // serde's message names the line and column; it holds no internal state,
                    // only what the client itself sent.
                    rejection.body_text()
                ),
            },
        }
    }
}

impl From<MultipartRejection> for AppError {
    fn from(rejection: MultipartRejection) -> Self {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
            _ => AppError::BadRequest {
                code: "malformed_upload",
                message: "multipart/form-data（boundary 付き）で送信してください。".into(),
            },
        }
    }
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
