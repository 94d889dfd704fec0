//! HTTP routes of message templates.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::TemplateView;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::extract::ApiJson;
use crate::state::AppState;

/// The routes, mounted under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me/templates", get(list).post(create))
        .route("/me/templates/{id}", put(update).delete(remove))
        .route(
            "/orders/{order_id}/templates/{template_id}/render",
            post(render),
        )
}

/// Body of create and update.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TemplateRequest {
    /// 1–50 characters.
    pub title: String,
    /// 1–5,000 characters; may use `{buyer_name}`, `{seller_name}`, `{service_title}`, `{due_date}`.
    pub body: String,
}

/// The caller's templates.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateList {
    /// In order.
    pub items: Vec<TemplateView>,
    /// Always `null`.
    pub next_cursor: Option<String>,
}

/// The caller's templates (new users start with the standard set).
#[utoipa::path(get, operation_id = "list_templates", path = "/api/v1/me/templates", tag = "templates",
    responses((status = 200, body = TemplateList)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<TemplateList>, AppError> {
    Ok(Json(TemplateList {
        items: super::list(&state, &user.user_id).await?,
        next_cursor: None,
    }))
}

/// Add a template.
#[utoipa::path(post, operation_id = "create_template", path = "/api/v1/me/templates", tag = "templates", request_body = TemplateRequest,
    responses((status = 201, body = TemplateView), (status = 422)), security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<TemplateRequest>,
) -> Result<(StatusCode, Json<TemplateView>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(super::create(&state, &user.user_id, &body.title, &body.body).await?),
    ))
}

/// Change a template.
#[utoipa::path(put, operation_id = "update_template", path = "/api/v1/me/templates/{id}", tag = "templates", request_body = TemplateRequest,
    params(("id" = String, Path, description = "Template id")),
    responses((status = 200, body = TemplateView), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TemplateRequest>,
) -> Result<Json<TemplateView>, AppError> {
    Ok(Json(
        super::update(&state, &user.user_id, &id, &body.title, &body.body).await?,
    ))
}

/// Delete a template.
#[utoipa::path(delete, operation_id = "delete_template", path = "/api/v1/me/templates/{id}", tag = "templates",
    params(("id" = String, Path, description = "Template id")),
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn remove(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    super::delete(&state, &user.user_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Render a template for an order: placeholders filled with the order's values.
#[utoipa::path(post, path = "/api/v1/orders/{order_id}/templates/{template_id}/render", tag = "templates",
    params(("order_id" = String, Path, description = "Order id"), ("template_id" = String, Path, description = "Template id")),
    responses((status = 200, body = TemplateView), (status = 404)), security(("bearer" = [])))]
pub async fn render(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((order_id, template_id)): Path<(String, String)>,
) -> Result<Json<TemplateView>, AppError> {
    Ok(Json(
        super::render(&state, &user, &order_id, &template_id).await?,
    ))
}
