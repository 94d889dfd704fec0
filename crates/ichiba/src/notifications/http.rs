//! HTTP routes of notifications and the per-user event stream (SSE), and the development hook
//! that publishes events straight to the hub.

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::StreamExt;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::NotificationPage;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::events::Event;
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The routes, mounted under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me/notifications", get(list))
        .route("/me/notifications/read-all", post(read_all))
        .route("/me/notifications/{id}/read", post(read_one))
        .route("/events", get(events))
        .route("/dev/events", post(dev_events))
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

/// Server-Sent Events for the caller: `message`, `order` and `notification`, each with an `id`.
/// The stream opens with `ready`; with `Last-Event-ID` it replays the caller's events after that
/// id, or sends `resync` when it cannot (an unknown or too old id): then the client refetches.
#[utoipa::path(get, path = "/api/v1/events", tag = "notifications",
    params(("Last-Event-ID" = Option<String>, Header,
        description = "The id of the last event received: what followed is replayed, or `resync` is sent")),
    responses((status = 200, content_type = "text/event-stream")), security(("bearer" = [])))]
pub async fn events(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
) -> Response {
    stream(&state, &user.user_id, &headers)
}

/// The event stream of one user as an SSE response (the API's `/api/v1/events` and the web app's
/// `/events`), resuming after the request's `Last-Event-ID`. The hub writes the frames; this only
/// wraps them in a body.
pub fn stream(state: &AppState, user_id: &str, headers: &HeaderMap) -> Response {
    // An id that is not visible ASCII is none of ours: it resumes into `resync`, as an unknown
    // id does, never into a fresh stream that would skip the missed events silently.
    let last_event_id = headers
        .get("last-event-id")
        .map(|v| v.to_str().unwrap_or("?"));
    let events = state.hub.subscribe(user_id, last_event_id);
    let body = Body::from_stream(events.map(Ok::<_, Infallible>));
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// Body of `POST /dev/events`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DevEvents {
    /// Events as the services publish them: `{user_id, kind, data}`.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<Event>,
}

/// Publish events straight to the hub, without a database write (only with
/// `serve --dev-clock`; otherwise 404). The `fanout` benchmark feeds streams through it to
/// measure the fan-out apart from the cost of the writes behind real events.
#[utoipa::path(post, path = "/api/v1/dev/events", tag = "system", request_body = DevEvents,
    responses((status = 204), (status = 404)))]
pub async fn dev_events(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<DevEvents>,
) -> Result<StatusCode, AppError> {
    if !state.config.dev_clock {
        return Err(AppError::NotFound);
    }
    state.hub.publish(body.events).await;
    Ok(StatusCode::NO_CONTENT)
}
