//! HTTP routes of reviews.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{PrivateReviewView, ReviewPage, ReviewView};
use crate::auth::{CurrentUser, Operator};
use crate::error::AppError;
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The routes, mounted under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orders/{id}/reviews", post(submit).get(of_order))
        .route("/reviews/{id}/reply", post(reply))
        .route("/users/{id}/reviews", get(for_user))
        .route("/listings/{id}/reviews", get(for_listing))
        .route("/admin/users/{id}/reviews", get(for_operator))
}

/// Body of `POST /orders/{id}/reviews`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReviewRequest {
    /// ★1–5, public.
    pub public_rating: i64,
    /// Public comment.
    pub comment: String,
    /// ★1–5, seen by operators only.
    pub private_rating: i64,
}

/// Body of a reply.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReplyRequest {
    /// Text, 1–1,000 characters.
    pub body: String,
}

/// Query with a cursor.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Params {
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// Reviews of one order visible to the caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderReviews {
    /// The caller's own review (with private rating) and the other's once published.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<serde_json::Value>,
}

/// Operator view.
#[derive(Debug, Serialize, ToSchema)]
pub struct OperatorReviews {
    /// With private ratings.
    pub items: Vec<PrivateReviewView>,
}

/// Review the other party of a finished order (once, within 14 days).
#[utoipa::path(post, path = "/api/v1/orders/{id}/reviews", tag = "reviews", request_body = ReviewRequest,
    params(("id" = String, Path, description = "Order id")),
    responses((status = 201, body = PrivateReviewView), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn submit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReviewRequest>,
) -> Result<(StatusCode, Json<PrivateReviewView>), AppError> {
    let review = super::write(
        &state,
        &user,
        &id,
        body.public_rating,
        &body.comment,
        body.private_rating,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(review)))
}

/// The reviews of an order the caller may see.
#[utoipa::path(get, path = "/api/v1/orders/{id}/reviews", tag = "reviews",
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, body = OrderReviews), (status = 404)), security(("bearer" = [])))]
pub async fn of_order(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<OrderReviews>, AppError> {
    Ok(Json(OrderReviews {
        items: super::of_order(&state, &user, &id).await?,
    }))
}

/// Reply publicly to a review about you (once).
#[utoipa::path(post, path = "/api/v1/reviews/{id}/reply", tag = "reviews", request_body = ReplyRequest,
    params(("id" = String, Path, description = "Review id")),
    responses((status = 201, body = ReviewView), (status = 403), (status = 409)), security(("bearer" = [])))]
pub async fn reply(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReplyRequest>,
) -> Result<(StatusCode, Json<ReviewView>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(super::reply(&state, &user, &id, &body.body).await?),
    ))
}

/// Published reviews about a user.
#[utoipa::path(get, path = "/api/v1/users/{id}/reviews", tag = "reviews",
    params(("id" = String, Path, description = "User id"), Params),
    responses((status = 200, body = ReviewPage)))]
pub async fn for_user(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<Params>,
) -> Result<Json<ReviewPage>, AppError> {
    Ok(Json(
        super::for_user(&state, &id, p.cursor.as_deref()).await?,
    ))
}

/// Published buyer reviews of a listing.
#[utoipa::path(get, path = "/api/v1/listings/{id}/reviews", tag = "reviews",
    params(("id" = String, Path, description = "Listing id"), Params),
    responses((status = 200, body = ReviewPage)))]
pub async fn for_listing(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<Params>,
) -> Result<Json<ReviewPage>, AppError> {
    Ok(Json(
        super::for_listing(&state, &id, p.cursor.as_deref()).await?,
    ))
}

/// Every review about a user with private ratings (operators).
#[utoipa::path(get, path = "/api/v1/admin/users/{id}/reviews", tag = "admin",
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = OperatorReviews), (status = 403)), security(("bearer" = [])))]
pub async fn for_operator(
    State(state): State<AppState>,
    _op: Operator,
    Path(id): Path<String>,
) -> Result<Json<OperatorReviews>, AppError> {
    Ok(Json(OperatorReviews {
        items: super::for_operator(&state, &id).await?,
    }))
}
