//! HTTP routes of reputation: metrics, ranks, ranking explanations, identity verification.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{MyMetrics, PublicMetrics, RankStatus, RankingView};
use crate::auth::{CurrentUser, Operator};
use crate::error::AppError;
use crate::extract::ApiJson;
use crate::state::AppState;

/// The routes, mounted under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/users/{id}/metrics", get(public_metrics))
        .route("/me/metrics", get(my_metrics))
        .route("/me/rank", get(my_rank))
        .route("/listings/{id}/ranking", get(ranking))
        .route("/admin/users/{id}/identity-verified", post(identity))
}

/// Body of the identity flag.
#[derive(Debug, Deserialize, ToSchema)]
pub struct IdentityRequest {
    /// Verified or not.
    pub verified: bool,
}

/// A user's public metrics.
#[utoipa::path(get, path = "/api/v1/users/{id}/metrics", tag = "reputation",
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = PublicMetrics), (status = 404)))]
pub async fn public_metrics(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<PublicMetrics>, AppError> {
    Ok(Json(
        super::public_metrics(&state.db, &id, state.clock.now_ms()).await?,
    ))
}

/// The caller's metrics (90 days and all time).
#[utoipa::path(get, path = "/api/v1/me/metrics", tag = "reputation",
    responses((status = 200, body = MyMetrics)), security(("bearer" = [])))]
pub async fn my_metrics(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<MyMetrics>, AppError> {
    Ok(Json(
        super::my_metrics(&state.db, &user.user_id, state.clock.now_ms()).await?,
    ))
}

/// The caller's rank, where they stand on each criterion, and the history.
#[utoipa::path(get, path = "/api/v1/me/rank", tag = "reputation",
    responses((status = 200, body = RankStatus)), security(("bearer" = [])))]
pub async fn my_rank(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<RankStatus>, AppError> {
    Ok(Json(
        super::rank_status(&state.db, &user.user_id, state.clock.now_ms()).await?,
    ))
}

/// How the listing's おすすめ順 score is made up, against the category median (its seller only).
#[utoipa::path(get, path = "/api/v1/listings/{id}/ranking", tag = "reputation",
    params(("id" = String, Path, description = "Listing id")),
    responses((status = 200, body = RankingView), (status = 404)), security(("bearer" = [])))]
pub async fn ranking(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<RankingView>, AppError> {
    Ok(Json(super::explain(&state, &user, &id).await?))
}

/// Set a user's identity-verified flag (operators).
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/identity-verified", tag = "admin", request_body = IdentityRequest,
    params(("id" = String, Path, description = "User id")),
    responses((status = 204), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn identity(
    State(state): State<AppState>,
    Operator(op): Operator,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<IdentityRequest>,
) -> Result<StatusCode, AppError> {
    super::set_identity_verified(&state, &op, &id, body.verified).await?;
    Ok(StatusCode::NO_CONTENT)
}
