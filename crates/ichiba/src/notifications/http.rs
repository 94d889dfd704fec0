//! HTTP routes of notifications and the per-user event stream (SSE).

use std::convert::Infallible;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::Stream;
use serde::Deserialize;
use utoipa::IntoParams;

use super::NotificationPage;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::extract::ApiQuery;
use crate::state::AppState;

/// The routes, mounted under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me/notifications", get(list))
        .route("/me/notifications/read-all", post(read_all))
        .route("/me/notifications/{id}/read", post(read_one))
        .route("/events", get(events))
}

/// Query of `GET /me/notifications`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Params {
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// The caller's notifications, newest first, with the unread count.
#[utoipa::path(get, operation_id = "list_notifications", path = "/api/v1/me/notifications", tag = "notifications", params(Params),
    responses((status = 200, body = NotificationPage), (status = 401)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(p): ApiQuery<Params>,
) -> Result<Json<NotificationPage>, AppError> {
    Ok(Json(
        super::list(&state.db, &user.user_id, p.cursor.as_deref()).await?,
    ))
}

/// Mark one notification read.
#[utoipa::path(post, path = "/api/v1/me/notifications/{id}/read", tag = "notifications",
    params(("id" = String, Path, description = "Notification id")),
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn read_one(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    super::mark_read(&state.db, &user.user_id, &id, state.clock.now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mark every notification read.
#[utoipa::path(post, path = "/api/v1/me/notifications/read-all", tag = "notifications",
    responses((status = 204)), security(("bearer" = [])))]
pub async fn read_all(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<StatusCode, AppError> {
    super::mark_all_read(&state.db, &user.user_id, state.clock.now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Server-Sent Events for the caller: `message`, `order` and `notification`.
#[utoipa::path(get, path = "/api/v1/events", tag = "notifications",
    responses((status = 200, content_type = "text/event-stream")), security(("bearer" = [])))]
pub async fn events(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    stream(&state, user.user_id)
}

/// The event stream of one user (the API's `/api/v1/events` and the web app's `/events`).
pub fn stream(
    state: &AppState,
    user_id: String,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>> + use<>> {
    let mut rx = state.hub.subscribe();
    let stream = async_stream::stream! {
        // The first event tells the client the stream is live (and lets tests wait for it).
        yield Ok(SseEvent::default().event("ready").data("{}"));
        loop {
            match rx.recv().await {
                Ok(e) if e.user_id == user_id => {
                    yield Ok(SseEvent::default().event(e.kind.as_str()).data(e.data.to_string()));
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    };
    Sse::new(stream).keep_alive(KeepAlive::default())
}
