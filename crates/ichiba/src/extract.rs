//! Request extractors shared by every feature: JSON and query bodies whose rejections speak the
//! API's error format, and the client address. The caller's identity is [`crate::auth`]'s.

use std::net::SocketAddr;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;

use crate::error::AppError;
use crate::state::AppState;

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
