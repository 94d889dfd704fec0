//! The application: shared state, the router table, and serving until shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa::{OpenApi, ToSchema};

use crate::clock::{AppClock, Clock, ManualClock, SystemClock, to_rfc3339};
use crate::config::Config;
use crate::db::{Db, DbError};
use crate::error::AppError;
use crate::events::Hub;
use crate::extract::ApiJson;
use crate::payments::{PaymentGateway, Sandbox};

/// Largest JSON body accepted (uploads have their own limit).
pub const JSON_BODY_LIMIT_BYTES: usize = 1024 * 1024;

/// Everything a handler needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// The clock.
    pub clock: AppClock,
    /// The validated configuration.
    pub config: Arc<Config>,
    /// Realtime events.
    pub hub: Hub,
    /// The payment gateway.
    pub gateway: Arc<dyn PaymentGateway>,
    /// The contact detector, built once.
    pub guard: Arc<::guard::Guard>,
}

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause (address in use, permission denied, …).
        source: std::io::Error,
    },
}

impl AppState {
    /// Opens and migrates the database and picks the clock the configuration asks for.
    pub async fn open(config: Config) -> Result<AppState, StartError> {
        let db = Db::connect(&config.database, 16).await?;
        db.migrate().await?;
        let clock = if config.dev_clock {
            AppClock::Manual(Arc::new(ManualClock::starting_at(SystemClock.now_ms())))
        } else {
            AppClock::System(SystemClock)
        };
        let mut hub = Hub::new();
        if db.backend() == crate::config::Backend::Postgres {
            hub.relay_through_postgres(&config.database.url, db.pool().clone())
                .await
                .map_err(|source| DbError::Unreachable {
                    backend: db.backend(),
                    source,
                })?;
        }
        Ok(AppState {
            db,
            clock,
            config: Arc::new(config),
            hub,
            gateway: Arc::new(Sandbox),
            guard: Arc::new(::guard::Guard::new(::guard::Policy::default())),
        })
    }
}

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
        .merge(crate::reviews::http::routes())
        .merge(crate::reputation::http::routes())
        .merge(crate::payouts::http::routes())
        .route("/openapi.json", get(openapi))
        .route("/dev/clock", post(advance_clock))
        .fallback(api_not_found);
    Router::new()
        .nest("/api/v1", api)
        .merge(crate::web::routes(&state))
        .route("/healthz", get(healthz))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT_BYTES))
        .layer(CatchPanicLayer::custom(|_| {
            AppError::internal("handler panicked").into_response()
        }))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Binds `addr` and serves until SIGINT/SIGTERM; in-flight requests finish first.
pub async fn serve(state: AppState, addr: SocketAddr) -> Result<(), StartError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;
    tracing::info!(
        "ichiba listening on http://{local} ({:?}, data dir {})",
        state.db.backend(),
        state.config.data_dir.display()
    );
    let db = state.db.clone();
    // With the manual clock, time moves only through POST /dev/clock, which runs the timers.
    let worker = (!state.config.dev_clock).then(|| crate::jobs::spawn_worker(state.clone()));
    let app = router(state);
    let result = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await;
    if let Some(w) = worker {
        w.abort();
    }
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

/// Health check.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the process serves.
    pub status: &'static str,
}

#[utoipa::path(get, path = "/healthz", tag = "system", responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(crate::openapi::ApiDoc::openapi())
}

/// Body of `POST /dev/clock`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AdvanceClock {
    /// Seconds to move the manual clock forward (≥ 0).
    pub advance_seconds: i64,
}

/// Result of advancing the clock.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClockAdvanced {
    /// The new time.
    pub now_at: String,
    /// Timers that became due and were run.
    pub timers_fired: u64,
}

/// Advance the manual clock (only with `serve --dev-clock`; otherwise 404).
#[utoipa::path(post, path = "/api/v1/dev/clock", tag = "system", request_body = AdvanceClock,
    responses((status = 200, body = ClockAdvanced), (status = 404)))]
pub async fn advance_clock(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<AdvanceClock>,
) -> Result<Json<ClockAdvanced>, AppError> {
    let clock = state.clock.manual().ok_or(AppError::NotFound)?;
    if body.advance_seconds < 0 {
        let mut f = crate::error::FieldErrors::new();
        f.add(
            "advance_seconds",
            "out_of_range",
            "0以上の秒数を指定してください。",
        );
        return Err(f.into());
    }
    let now = clock.advance_ms(body.advance_seconds.saturating_mul(1000));
    let timers_fired = crate::jobs::run_once(&state, now).await?;
    Ok(Json(ClockAdvanced {
        now_at: to_rfc3339(now),
        timers_fired,
    }))
}

async fn api_not_found(uri: Uri) -> Response {
    tracing::debug!(%uri, "no such API route");
    AppError::NotFound.into_response()
}

/// Unknown paths: the JSON error under `/api`, the web app's 404 page elsewhere.
async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        AppError::NotFound.into_response()
    } else {
        crate::web::WebError::App(AppError::NotFound).into_response()
    }
}

async fn method_not_allowed() -> Response {
    AppError::MethodNotAllowed.into_response()
}
