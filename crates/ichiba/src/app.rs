//! The top of the module graph: the router table assembled from every feature's routes, and
//! serving until shutdown. The shared state lives in [`crate::state`].

use std::net::SocketAddr;

use axum::extract::DefaultBodyLimit;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;

use crate::error::AppError;
pub use crate::state::{AppState, StartError};

/// Largest JSON body accepted (uploads have their own limit).
pub const JSON_BODY_LIMIT_BYTES: usize = 1024 * 1024;

/// The full router: API, health, OpenAPI, JSON fallbacks.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(crate::accounts::http::routes())
        .merge(crate::listings::http::routes())
        .merge(crate::orders::http::routes())
        .merge(crate::messages::http::routes())
        .merge(crate::attachments::http::routes())
        .merge(crate::ledger::http::routes())
        .merge(crate::notifications::http::routes())
        .merge(crate::templates::http::routes())
        .merge(crate::guard::http::routes())
        .merge(crate::appeals::http::routes())
        .merge(crate::reviews::http::routes())
        .merge(crate::reputation::http::routes())
        .merge(crate::payouts::http::routes())
        .merge(crate::system::api_routes())
        .route("/openapi.json", get(openapi))
        .fallback(api_not_found);
    Router::new()
        .nest("/api/v1", api)
        .merge(crate::web::routes(&state))
        .merge(crate::system::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT_BYTES))
        .layer(CatchPanicLayer::custom(panicked))
        .layer(axum::middleware::from_fn(crate::edge::uri_span))
        .layer(axum::middleware::from_fn(crate::edge::check_path))
        .layer(axum::middleware::from_fn(crate::edge::shape_plain_errors))
        .layer(TraceLayer::new_for_http().make_span_with(crate::edge::request_span))
        .with_state(state)
}

/// A handler that panicked answers a plain 500, which `edge::shape_plain_errors` (outside it)
/// turns into the JSON error under `/api` or the web app's error page, without the panic text.
fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    (
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "handler panicked",
    )
        .into_response()
}

/// Binds `addr` and serves within `limits` until SIGINT/SIGTERM; in-flight requests finish first.
pub async fn serve(
    state: AppState,
    addr: SocketAddr,
    limits: crate::server::Limits,
) -> Result<(), StartError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;
    let limits = crate::server::Limits {
        max_connections: crate::server::fit_to_open_file_limit(limits.max_connections),
        ..limits
    };
    tracing::info!(
        "ichiba listening on http://{local} ({:?}, data dir {}, at most {} connections)",
        state.db.backend(),
        state.config.data_dir.display(),
        limits.max_connections
    );
    let db = state.db.clone();
    // With the manual clock, time moves only through POST /dev/clock, which runs the timers.
    let worker = (!state.config.dev_clock).then(|| crate::jobs::spawn_worker(state.clone()));
    let refresher = crate::reputation::spawn_refresher(state.clone());
    let hub = state.hub.clone();
    let app = router(state);
    let shutdown = async move {
        shutdown_signal().await;
        // Live event streams never end by themselves: end them so in-flight requests can drain.
        hub.close();
    };
    let result = crate::server::run(listener, app, limits, shutdown).await;
    if let Some(w) = worker {
        w.abort();
    }
    refresher.abort();
    db.close().await;
    result.map_err(|source| StartError::Bind { addr, source })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(crate::openapi::ApiDoc::openapi())
}

async fn api_not_found(uri: Uri) -> Response {
    tracing::debug!(%uri, "no such API route");
    AppError::NotFound.into_response()
}

/// Unknown paths: the JSON error under `/api`, the web app's 404 page elsewhere.
async fn not_found(uri: Uri) -> Response {
    crate::edge::error_response(uri.path(), AppError::NotFound)
}

/// A known path with another method: the JSON error under `/api`, the web app's error page
/// elsewhere (a browser that posts to a page gets a page, not JSON).
async fn method_not_allowed(uri: Uri) -> Response {
    crate::edge::error_response(uri.path(), AppError::MethodNotAllowed)
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use axum::routing::get;
    use tower::ServiceExt;

    async fn boom() -> &'static str {
        panic!("secret internal detail")
    }

    async fn answer(path: &str) -> (StatusCode, String, String) {
        let app: Router = Router::new()
            .route("/api/v1/boom", get(boom))
            .route("/boom", get(boom))
            .layer(tower_http::catch_panic::CatchPanicLayer::custom(
                super::panicked,
            ))
            .layer(axum::middleware::from_fn(crate::edge::shape_plain_errors));
        let r = app
            .oneshot(Request::get(path).body(Body::empty()).expect("request"))
            .await
            .expect("infallible");
        let status = r.status();
        let content_type = r
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = axum::body::to_bytes(r.into_body(), 1 << 20)
            .await
            .expect("body");
        (
            status,
            content_type,
            String::from_utf8_lossy(&body).into_owned(),
        )
    }

    #[tokio::test]
    async fn a_panic_answers_500_as_json_under_the_api_and_as_a_page_elsewhere() {
        let (status, content_type, body) = answer("/api/v1/boom").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            content_type.starts_with("application/json"),
            "{content_type}"
        );
        assert!(body.contains("\"error\""), "{body}");
        assert!(!body.contains("secret"), "{body}");

        let (status, content_type, body) = answer("/boom").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            content_type.starts_with("text/html"),
            "{content_type}: {body}"
        );
        assert!(body.contains("エラーが発生しました"), "{body}");
        assert!(!body.contains("secret"), "{body}");
    }
}
