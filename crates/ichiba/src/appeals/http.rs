//! HTTP routes of appeals: filing one, the operators' queue and their decision.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppealView;
use crate::auth::{CurrentUser, Operator};
use crate::error::AppError;
use crate::extract::{ApiJson, ApiQuery};
use crate::guard::Context;
use crate::state::AppState;

/// The routes, mounted under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/guard/appeals", post(file))
        .route("/admin/guard/appeals", get(queue))
        .route("/admin/guard/appeals/{id}/decide", post(decide))
}

/// Body of `POST /guard/appeals`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AppealRequest {
    /// The blocked text, as written.
    pub text: String,
    /// Where it was written, e.g. `{"kind": "order_message", "order_id": "…"}`.
    pub context: Context,
}

/// Body of a decision.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DecideRequest {
    /// `allow` or `uphold`.
    pub decision: String,
    /// The operator's note.
    #[serde(default)]
    pub note: String,
}

/// Query of the queue.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueParams {
    /// `pending`, `allowed` or `upheld`; all when absent.
    pub state: Option<String>,
}

/// The queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppealList {
    /// Pending first, then newest.
    pub items: Vec<AppealView>,
    /// Always `null`.
    pub next_cursor: Option<String>,
}

/// Appeal a block: an operator reviews the text.
#[utoipa::path(post, path = "/api/v1/guard/appeals", tag = "guard", request_body = AppealRequest,
    responses((status = 201, body = AppealView), (status = 422)), security(("bearer" = [])))]
pub async fn file(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<AppealRequest>,
) -> Result<(StatusCode, Json<AppealView>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(super::file(&state, &user.user_id, &body.text, &body.context).await?),
    ))
}

/// The appeal queue (operators).
#[utoipa::path(get, path = "/api/v1/admin/guard/appeals", tag = "admin", params(QueueParams),
    responses((status = 200, body = AppealList), (status = 403)), security(("bearer" = [])))]
pub async fn queue(
    State(state): State<AppState>,
    _op: Operator,
    ApiQuery(p): ApiQuery<QueueParams>,
) -> Result<Json<AppealList>, AppError> {
    Ok(Json(AppealList {
        items: super::queue(&state, p.state.as_deref()).await?,
        next_cursor: None,
    }))
}

/// Decide an appeal (operators).
#[utoipa::path(post, path = "/api/v1/admin/guard/appeals/{id}/decide", tag = "admin", request_body = DecideRequest,
    params(("id" = String, Path, description = "Appeal id")),
    responses((status = 200, body = AppealView), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn decide(
    State(state): State<AppState>,
    Operator(op): Operator,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DecideRequest>,
) -> Result<Json<AppealView>, AppError> {
    Ok(Json(
        super::decide_named(&state, &op, &id, &body.decision, &body.note).await?,
    ))
}
