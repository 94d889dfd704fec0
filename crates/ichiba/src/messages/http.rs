//! HTTP routes of direct messages (メッセージ). Talk-room routes live with orders.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{DirectThreadView, MessageView};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The routes, mounted under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/direct-messages", post(send))
        .route("/direct-messages/threads", get(threads))
        .route("/direct-messages/threads/{id}", get(thread))
}

/// Body of `POST /direct-messages`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DirectMessageRequest {
    /// Recipient.
    pub to_user_id: String,
    /// Text, 1–5,000 characters.
    pub body: String,
    /// Attachments uploaded by the sender.
    #[serde(default)]
    pub attachment_ids: Vec<String>,
}

/// The caller's direct threads.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadList {
    /// Threads, most recent first.
    pub items: Vec<DirectThreadView>,
    /// Always `null` (all threads are returned).
    pub next_cursor: Option<String>,
}

/// One direct thread with a page of its messages.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadDetail {
    /// The thread.
    pub thread: DirectThreadView,
    /// Messages, oldest first.
    pub items: Vec<MessageView>,
    /// Cursor of the next (newer) page.
    pub next_cursor: Option<String>,
}

/// Query with a cursor.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CursorParams {
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// Send a direct message (questions before purchase).
#[utoipa::path(post, path = "/api/v1/direct-messages", tag = "messages", request_body = DirectMessageRequest,
    responses((status = 201, body = MessageView), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn send(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<DirectMessageRequest>,
) -> Result<(StatusCode, Json<MessageView>), AppError> {
    let view = super::send_direct_checked(
        &state,
        &user.user_id,
        &body.to_user_id,
        &body.body,
        &body.attachment_ids,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The caller's direct-message threads.
#[utoipa::path(get, path = "/api/v1/direct-messages/threads", tag = "messages",
    responses((status = 200, body = ThreadList)), security(("bearer" = [])))]
pub async fn threads(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<ThreadList>, AppError> {
    let items = super::direct_threads(&state.db, &user.user_id).await?;
    Ok(Json(ThreadList {
        items,
        next_cursor: None,
    }))
}

/// One of the caller's direct threads with its messages (others' threads are 404).
#[utoipa::path(get, path = "/api/v1/direct-messages/threads/{id}", tag = "messages",
    params(("id" = String, Path, description = "Thread id"), CursorParams),
    responses((status = 200, body = ThreadDetail), (status = 404)), security(("bearer" = [])))]
pub async fn thread(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<CursorParams>,
) -> Result<Json<ThreadDetail>, AppError> {
    let (row, view) = super::direct_thread_for(&state.db, &user.user_id, &id).await?;
    let page = super::page(&state.db, &row, &user.user_id, p.cursor.as_deref()).await?;
    Ok(Json(ThreadDetail {
        thread: view,
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}
