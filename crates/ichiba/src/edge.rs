//! The edge around every route, API and web alike: the request's log span (method and path), the
//! check of the path's characters before any `Path` extractor reads it, and the shaping of every
//! error response that is still axum's plain text (a rejection of one of its own extractors) into
//! the API's JSON error under `/api/` and the web app's error page elsewhere. The rejections of
//! the extractors in [`crate::extract`] and the web forms already have their shape; this is the
//! net under them, so no plain-text error ever leaves the server.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::error::AppError;
use crate::web::WebError;

/// The span of one request: its method and path (never the query string, headers or body, which
/// may hold what is not ours to log). Every log line of the request, the internal-error line of
/// [`AppError`] included, is written inside it and so names them. The span is at ERROR level so
/// that it exists whenever an error line is written, whatever the log filter (a span's level
/// only decides whether it is recorded; its fields are printed with every line inside it).
pub fn request_span<B>(req: &axum::http::Request<B>) -> tracing::Span {
    tracing::error_span!("request", method = %req.method(), path = %req.uri().path())
}

/// Runs the rest of the request inside a DEBUG span `uri` holding the whole URI, query string
/// included: off under the default filter (a query may hold what a user typed), there when
/// debugging, and what the statement-count test keys its measured requests by.
pub async fn uri_span(req: Request, next: Next) -> Response {
    let span = tracing::debug_span!("uri", uri = %req.uri());
    next.run(req).instrument(span).await
}

/// The error response for `path`: the API's JSON under `/api/`, the web app's page elsewhere.
pub fn error_response(path: &str, error: AppError) -> Response {
    if is_api(path) {
        error.into_response()
    } else {
        WebError::App(error).into_response()
    }
}

fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// Refuses a path with a segment that is not UTF-8 once percent-decoded, or that holds a control
/// character (nothing of ours is named so): 400 `malformed_path`, before a `Path` extractor would
/// answer in plain text or hand the database a string it cannot store.
pub async fn check_path(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path.split('/').any(|segment| !segment_ok(segment)) {
        let error = AppError::BadRequest {
            code: "malformed_path",
            message: "URL のパスに使用できない文字が含まれています。".into(),
        };
        return error_response(path, error);
    }
    next.run(req).await
}

/// Whether a raw path segment decodes to UTF-8 without control characters.
fn segment_ok(segment: &str) -> bool {
    if !segment.contains('%') {
        // Raw bytes of a path are visible ASCII (the URI parser refuses the rest).
        return true;
    }
    let bytes = segment.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                decoded.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    std::str::from_utf8(&decoded).is_ok_and(|s| !s.chars().any(char::is_control))
}

/// Reshapes an error response that is plain text (or has no body type): the rejections of
/// axum's own extractors and routers. JSON errors and error pages pass untouched.
pub async fn shape_plain_errors(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let plain = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if !plain {
        return response;
    }
    let text = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    error_response(&path, error_for(status, text))
}

/// The [`AppError`] closest to a plain-text error of `status` (the text is logged for a 5xx, and
/// never sent).
fn error_for(status: StatusCode, text: String) -> AppError {
    match status {
        StatusCode::UNAUTHORIZED => AppError::Unauthenticated,
        StatusCode::FORBIDDEN => AppError::Forbidden {
            code: "forbidden",
            message: "この操作は許可されていません。".into(),
        },
        StatusCode::NOT_FOUND => AppError::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => AppError::MethodNotAllowed,
        StatusCode::CONFLICT => AppError::Conflict {
            code: "conflict",
            message: "現在の状態ではこの操作を行えません。".into(),
        },
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::BadRequest {
            code: "unsupported_media_type",
            message: "この Content-Type の送信には対応していません。".into(),
        },
        StatusCode::UNPROCESSABLE_ENTITY => AppError::Rule {
            code: "unprocessable",
            message: "リクエストの内容を処理できませんでした。".into(),
            details: serde_json::json!({}),
        },
        s if s.is_server_error() => AppError::internal(format!("{s}: {text}")),
        _ => AppError::BadRequest {
            code: "bad_request",
            message: "リクエストを読み取れませんでした。".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use std::io::Write;
    use std::sync::{Arc, Mutex};
    use tower::ServiceExt;

    #[test]
    fn path_segments_must_decode_to_utf8_without_control_characters() {
        assert!(segment_ok("01JABCDEF"));
        assert!(segment_ok("%E3%83%AD%E3%82%B4"));
        assert!(segment_ok("100%"));
        assert!(!segment_ok("%FF"));
        assert!(!segment_ok("a%00b"));
        assert!(!segment_ok("%7F"));
        assert!(!segment_ok("%C2%85"));
        assert!(!segment_ok("%0A"));
    }

    /// A plain-text error, as axum's rejections are.
    fn plain(status: StatusCode, text: &'static str) -> Response {
        (status, Body::from(text)).into_response()
    }

    async fn call(app: Router, uri: &str) -> (StatusCode, String, String) {
        let response = app
            .oneshot(Request::builder().uri(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let ct = response
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, ct, String::from_utf8_lossy(&body).into_owned())
    }

    fn app() -> Router {
        Router::new()
            .route(
                "/api/v1/plain",
                get(|| async { plain(StatusCode::BAD_REQUEST, "Invalid URL") }),
            )
            .route(
                "/plain",
                get(|| async { plain(StatusCode::BAD_REQUEST, "Invalid URL") }),
            )
            .route(
                "/api/v1/things/{id}",
                get(|axum::extract::Path(id): axum::extract::Path<String>| async move { id }),
            )
            .layer(axum::middleware::from_fn(check_path))
            .layer(axum::middleware::from_fn(shape_plain_errors))
    }

    #[tokio::test]
    async fn plain_text_errors_become_the_api_shape_under_api_and_a_page_elsewhere() {
        let (status, ct, body) = call(app(), "/api/v1/plain").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(ct.starts_with("application/json"), "{ct}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["error"]["code"], "bad_request");
        assert!(v["error"]["details"].is_object());
        let (status, ct, body) = call(app(), "/plain").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(ct.starts_with("text/html"), "{ct}");
        assert!(body.contains("リクエストを読み取れませんでした"), "{body}");
    }

    #[tokio::test]
    async fn a_bad_path_segment_is_refused_before_the_extractor() {
        let (status, ct, body) = call(app(), "/api/v1/things/%FF").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(ct.starts_with("application/json"), "{ct}");
        assert!(body.contains("malformed_path"), "{body}");
        let (status, _, body) = call(app(), "/api/v1/things/a%00b").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("malformed_path"), "{body}");
        let (status, _, body) = call(app(), "/api/v1/things/%E3%83%AD").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "ロ"));
    }

    /// A writer that keeps what the log subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn the_internal_error_log_line_names_the_method_and_path_but_not_the_query() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::ERROR)
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = Router::new()
            .route(
                "/api/v1/boom",
                get(|| async { AppError::internal("disk on fire").into_response() }),
            )
            .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(request_span));
        let (status, _, body) = call(app, "/api/v1/boom?token=secret").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!body.contains("disk"), "{body}");
        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let line = log
            .lines()
            .find(|l| l.contains("internal error"))
            .unwrap_or_else(|| panic!("no internal-error line in {log}"));
        assert!(line.contains("method=GET"), "{line}");
        assert!(line.contains("path=/api/v1/boom"), "{line}");
        assert!(line.contains("disk on fire"), "{line}");
        assert!(!log.contains("secret"), "{log}");
    }
}
