//! The HTTP edge of every error: [`AppError`] and its one exhaustive mapping to a status code and the
//! JSON error body of API.md (`{"error": {"code", "message", "details"}}`). Internal causes are logged
//! here and never sent to the client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

/// One invalid field of a request, reported in `details.fields` of a 422 `validation_failed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The JSON field name (`title`, `options[2].price_yen`, …).
    pub field: String,
    /// A stable machine code (`too_short`, `out_of_range`, …).
    pub code: &'static str,
    /// A Japanese sentence for the user.
    pub message: String,
}

/// An accumulator of [`FieldError`]s so a form reports every problem at once, not the first only.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `field` is invalid.
    pub fn add(
        &mut self,
        field: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
    ) {
        self.0.push(FieldError {
            field: field.into(),
            code,
            message: message.into(),
        });
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The recorded errors.
    pub fn as_slice(&self) -> &[FieldError] {
        &self.0
    }

    /// `Ok(value)` when nothing was recorded, else `Err(self)`.
    pub fn into_result<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }

    /// Records the error of a single-field parse, returning the parsed value if any.
    pub fn take<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }
}

impl From<FieldError> for FieldErrors {
    fn from(e: FieldError) -> Self {
        FieldErrors(vec![e])
    }
}

/// Every error a handler can return. Feature errors convert into it with `From`.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the request could not be read (bad JSON, wrong types, bad query string).
    #[error("malformed request: {message}")]
    BadRequest {
        /// Stable code.
        code: &'static str,
        /// Japanese explanation.
        message: String,
    },
    /// 401: no token, or a token that is unknown or expired.
    #[error("not authenticated")]
    Unauthenticated,
    /// 401: wrong e-mail or password.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// 402: the payment gateway declined the charge; nothing was created.
    #[error("payment declined")]
    PaymentDeclined,
    /// 403: authenticated but not allowed.
    #[error("forbidden: {code}")]
    Forbidden {
        /// Stable code.
        code: &'static str,
        /// Japanese explanation.
        message: String,
    },
    /// 404: missing, or not visible to the caller.
    #[error("not found")]
    NotFound,
    /// 405: the route exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: conflicts with the current state.
    #[error("conflict: {code}")]
    Conflict {
        /// Stable code.
        code: &'static str,
        /// Japanese explanation.
        message: String,
    },
    /// 413: the body is larger than the limit of the route.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 422: field-level validation errors.
    #[error("validation failed")]
    Validation(FieldErrors),
    /// 422: valid input that breaks a rule, with structured details.
    #[error("rule violated: {code}")]
    Rule {
        /// Stable code.
        code: &'static str,
        /// Japanese explanation.
        message: String,
        /// Machine-readable details.
        details: Value,
    },
    /// 429: a contact-guard restriction is in force.
    #[error("restricted")]
    Restricted {
        /// When it ends.
        until_at: String,
    },
    /// 429: too many attempts.
    #[error("rate limited")]
    RateLimited {
        /// Seconds until a retry may succeed.
        retry_after_secs: u64,
    },
    /// 500: a fault of ours. The cause is logged, never sent.
    #[error("internal error: {0}")]
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    /// Wraps an internal cause.
    pub fn internal(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        AppError::Internal(e.into())
    }

    /// 400 `invalid_cursor`: a list cursor this server did not make.
    pub fn invalid_cursor() -> Self {
        AppError::BadRequest {
            code: "invalid_cursor",
            message: "cursor の値が正しくありません。".into(),
        }
    }

    /// The HTTP status of this error (one exhaustive mapping).
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthenticated | AppError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            AppError::PaymentDeclined => StatusCode::PAYMENT_REQUIRED,
            AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Validation(_) | AppError::Rule { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::RateLimited { .. } | AppError::Restricted { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The Japanese explanation shown to the user (the `message` of the JSON body).
    pub fn message(&self) -> String {
        self.body()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The JSON body `{"error": {...}}`.
    pub fn body(&self) -> Value {
        let (code, message, details): (&str, String, Value) = match self {
            AppError::BadRequest { code, message } => (code, message.clone(), json!({})),
            AppError::Unauthenticated => (
                "unauthenticated",
                "ログインが必要です。もう一度ログインしてください。".into(),
                json!({}),
            ),
            AppError::InvalidCredentials => (
                "invalid_credentials",
                "メールアドレスまたはパスワードが正しくありません。".into(),
                json!({}),
            ),
            AppError::PaymentDeclined => (
                "payment_declined",
                "お支払いが承認されませんでした。別のお支払い方法をお試しください。".into(),
                json!({}),
            ),
            AppError::Forbidden { code, message } => (code, message.clone(), json!({})),
            AppError::NotFound => (
                "not_found",
                "お探しのページまたはデータは見つかりませんでした。".into(),
                json!({}),
            ),
            AppError::MethodNotAllowed => (
                "method_not_allowed",
                "このURLではそのメソッドは使えません。".into(),
                json!({}),
            ),
            AppError::Conflict { code, message } => (code, message.clone(), json!({})),
            AppError::PayloadTooLarge => (
                "payload_too_large",
                "送信されたデータが大きすぎます。".into(),
                json!({}),
            ),
            AppError::Validation(fields) => (
                "validation_failed",
                "入力内容に誤りがあります。各項目をご確認ください。".into(),
                json!({ "fields": fields.as_slice() }),
            ),
            AppError::Rule {
                code,
                message,
                details,
            } => (code, message.clone(), details.clone()),
            AppError::Restricted { until_at } => (
                "restricted",
                "外部誘導と判断される投稿が続いたため、この機能は一時的に制限されています。取引中のトークルームは引き続きご利用いただけます。".into(),
                json!({ "until_at": until_at }),
            ),
            AppError::RateLimited { retry_after_secs } => (
                "rate_limited",
                "試行回数が多すぎます。しばらく時間をおいてから再度お試しください。".into(),
                json!({ "retry_after_seconds": retry_after_secs }),
            ),
            AppError::Internal(_) => (
                "internal_error",
                "サーバーで問題が発生しました。時間をおいて再度お試しください。".into(),
                json!({}),
            ),
        };
        json!({ "error": { "code": code, "message": message, "details": details } })
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(cause) = &self {
            tracing::error!(error = %cause, "internal error");
        }
        let status = self.status();
        let mut response = (status, axum::Json(self.body())).into_response();
        if let AppError::RateLimited { retry_after_secs } = &self
            && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

impl From<FieldErrors> for AppError {
    fn from(e: FieldErrors) -> Self {
        AppError::Validation(e)
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::internal(e)
    }
}

/// The check every feature's error mapping is tested with.
#[cfg(test)]
pub(crate) mod mapping {
    use std::collections::BTreeSet;

    use axum::http::StatusCode;

    use super::AppError;

    /// Checks `From<E> for AppError`: each sample maps to the status and `code` written beside it
    /// (API.md, not read back from the mapping), and the samples cover every variant. `variant`
    /// numbers the variants `0..count` with a `match` that has no `_` arm, so a new variant does
    /// not compile until it is numbered, and then fails here until it has a sample.
    pub(crate) fn check<E>(
        samples: Vec<(E, StatusCode, &str)>,
        variant: fn(&E) -> usize,
        count: usize,
    ) where
        E: std::fmt::Debug + Into<AppError>,
    {
        let mut covered = BTreeSet::new();
        for (e, status, code) in samples {
            let n = variant(&e);
            assert!(
                n < count,
                "variant {n} of {e:?} is beyond the count {count}"
            );
            covered.insert(n);
            let shown = format!("{e:?}");
            let app: AppError = e.into();
            assert_eq!(app.status(), status, "{shown}");
            assert_eq!(app.body()["error"]["code"], code, "{shown}");
        }
        let missing: Vec<usize> = (0..count).filter(|n| !covered.contains(n)).collect();
        assert!(missing.is_empty(), "variants without a sample: {missing:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_never_reveal_their_cause() {
        let e = AppError::internal(std::io::Error::other("disk /secret/path exploded"));
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = e.body().to_string();
        assert!(!body.contains("secret"), "{body}");
        assert!(body.contains("internal_error"));
    }

    #[test]
    fn validation_errors_list_every_field() {
        let mut f = FieldErrors::new();
        f.add("title", "too_short", "短すぎます");
        f.add("price_yen", "out_of_range", "範囲外です");
        let body = AppError::from(f).body();
        assert_eq!(body["error"]["code"], "validation_failed");
        assert_eq!(body["error"]["details"]["fields"][1]["field"], "price_yen");
    }
}
