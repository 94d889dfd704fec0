//! HTTP routes of listings and categories. Handlers only translate between HTTP and the service.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{CATEGORIES, ListQuery, ListingPage, ListingView, RawListing, Sort, StatusCommand};
use crate::auth::{CurrentUser, MaybeUser};
use crate::error::AppError;
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The routes, mounted under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/categories", get(categories))
        .route("/listings", post(create).get(list))
        .route("/listings/{id}", get(detail).patch(update).delete(remove))
        .route("/listings/{id}/pause", post(pause))
        .route("/listings/{id}/resume", post(resume))
        .route("/me/listings", get(my_listings))
}

/// A category as served.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryView {
    /// Slug used in listings and filters.
    pub slug: &'static str,
    /// Japanese name.
    pub label: &'static str,
}

/// The category list.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryList {
    /// Categories in display order.
    pub items: Vec<CategoryView>,
}

/// Query of `GET /listings`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Search words (all must match title or description).
    pub q: Option<String>,
    /// Category slug.
    pub category: Option<String>,
    /// Minimum price in yen.
    pub min_price_yen: Option<i64>,
    /// Maximum price in yen.
    pub max_price_yen: Option<i64>,
    /// Minimum average rating, e.g. 4.5.
    pub min_rating: Option<f64>,
    /// Minimum seller rank: `regular`, `bronze`, `silver`, `gold`, `platinum`.
    pub min_rank: Option<String>,
    /// `recommended` (default), `new`, `price_asc`, `price_desc`.
    pub sort: Option<Sort>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–100 (default 20).
    pub limit: Option<i64>,
}

impl From<ListParams> for ListQuery {
    fn from(p: ListParams) -> Self {
        ListQuery {
            q: p.q,
            category: p.category,
            min_price_yen: p.min_price_yen,
            max_price_yen: p.max_price_yen,
            min_rating: p.min_rating,
            min_rank: p.min_rank,
            sort: p.sort.unwrap_or_default(),
            cursor: p.cursor,
            limit: p.limit,
        }
    }
}

/// Status after pause/resume.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusView {
    /// Listing id.
    pub id: String,
    /// New status.
    pub status: super::ListingStatus,
}

/// The fixed category set.
#[utoipa::path(get, path = "/api/v1/categories", tag = "listings",
    responses((status = 200, body = CategoryList)))]
pub async fn categories() -> Json<CategoryList> {
    Json(CategoryList {
        items: CATEGORIES
            .iter()
            .map(|c| CategoryView {
                slug: c.slug,
                label: c.label,
            })
            .collect(),
    })
}

/// Create a listing (サービスを出品する).
#[utoipa::path(post, operation_id = "create_listing", path = "/api/v1/listings", tag = "listings", request_body = RawListing,
    responses((status = 201, body = ListingView), (status = 401), (status = 422)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<RawListing>,
) -> Result<(StatusCode, Json<ListingView>), AppError> {
    let view = super::create(&state, &user.user_id, &body).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Public list of active listings with filters and sorts.
#[utoipa::path(get, operation_id = "list_listings", path = "/api/v1/listings", tag = "listings", params(ListParams),
    responses((status = 200, body = ListingPage), (status = 400)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<ListingPage>, AppError> {
    Ok(Json(super::browse(&state, &params.into(), None).await?))
}

/// The caller's own listings (active and paused).
#[utoipa::path(get, path = "/api/v1/me/listings", tag = "listings", params(ListParams),
    responses((status = 200, body = ListingPage), (status = 401)), security(("bearer" = [])))]
pub async fn my_listings(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<ListingPage>, AppError> {
    Ok(Json(
        super::browse(&state, &params.into(), Some(&user.user_id)).await?,
    ))
}

/// One listing. Paused listings are visible only to their seller.
#[utoipa::path(get, operation_id = "get_listing", path = "/api/v1/listings/{id}", tag = "listings",
    params(("id" = String, Path, description = "Listing id")),
    responses((status = 200, body = ListingView), (status = 404)),
    // Anyone may read a listing; a token, when sent, must be valid (401 otherwise) and lets the
    // seller see their paused listing.
    security((), ("bearer" = [])))]
pub async fn detail(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    Path(id): Path<String>,
) -> Result<Json<ListingView>, AppError> {
    let viewer = viewer.as_ref().map(|v| v.user_id.as_str());
    Ok(Json(super::show(&state, &id, viewer).await?))
}

/// Update your listing; present fields replace the stored ones.
#[utoipa::path(patch, operation_id = "update_listing", path = "/api/v1/listings/{id}", tag = "listings", request_body = RawListing,
    params(("id" = String, Path, description = "Listing id")),
    responses((status = 200, body = ListingView), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RawListing>,
) -> Result<Json<ListingView>, AppError> {
    Ok(Json(
        super::update(&state, &user.user_id, &id, &body).await?,
    ))
}

/// Delete your listing.
#[utoipa::path(delete, operation_id = "delete_listing", path = "/api/v1/listings/{id}", tag = "listings",
    params(("id" = String, Path, description = "Listing id")),
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn remove(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let now = state.clock.now_ms();
    super::change_status(&state.db, now, &user.user_id, &id, StatusCommand::Delete).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pause your listing (出品停止): hidden from the public until resumed.
#[utoipa::path(post, path = "/api/v1/listings/{id}/pause", tag = "listings",
    params(("id" = String, Path, description = "Listing id")),
    responses((status = 200, body = StatusView), (status = 404)), security(("bearer" = [])))]
pub async fn pause(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<StatusView>, AppError> {
    let now = state.clock.now_ms();
    let status =
        super::change_status(&state.db, now, &user.user_id, &id, StatusCommand::Pause).await?;
    Ok(Json(StatusView { id, status }))
}

/// Resume your paused listing.
#[utoipa::path(post, path = "/api/v1/listings/{id}/resume", tag = "listings",
    params(("id" = String, Path, description = "Listing id")),
    responses((status = 200, body = StatusView), (status = 404)), security(("bearer" = [])))]
pub async fn resume(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<StatusView>, AppError> {
    let now = state.clock.now_ms();
    let status =
        super::change_status(&state.db, now, &user.user_id, &id, StatusCommand::Resume).await?;
    Ok(Json(StatusView { id, status }))
}
