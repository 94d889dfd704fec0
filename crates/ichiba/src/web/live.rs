//! What the browser fetches beside the pages: the viewer's live event stream (`/events`, SSE)
//! and attachment downloads for the parties of their order or thread.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;

use super::{PageResult, Viewer, WebError};
use crate::state::AppState;

/// The event-stream and download routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/attachments/{id}", get(download))
        .route("/events", get(events))
}

async fn download(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> PageResult {
    let me = viewer.require()?.clone();
    let (row, bytes) =
        crate::attachments::open(&state.db, &state.config.data_dir, &me.user_id, &id).await?;
    Ok(crate::attachments::http::file_response(row, bytes)?)
}

/// The viewer's events; the browser's `EventSource` resumes with `Last-Event-ID` by itself.
async fn events(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let me = viewer.require()?;
    Ok(crate::notifications::http::stream(
        &state,
        &me.user_id,
        &headers,
    ))
}
