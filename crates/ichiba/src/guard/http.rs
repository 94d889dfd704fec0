//! HTTP routes of the contact guard: lifting sanctions. Appeals have their routes in
//! `appeals::http` (a module above this one).

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Operator;
use crate::error::AppError;
use crate::state::AppState;

/// The routes, mounted under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/users/{id}/sanctions/lift", post(lift))
}

/// Result of lifting sanctions.
#[derive(Debug, Serialize, ToSchema)]
pub struct Lifted {
    /// How many sanctions were lifted.
    pub lifted: u64,
}

/// Lift a user's restriction and suspension (operators).
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/sanctions/lift", tag = "admin",
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = Lifted), (status = 404)), security(("bearer" = [])))]
pub async fn lift(
    State(state): State<AppState>,
    Operator(op): Operator,
    Path(id): Path<String>,
) -> Result<Json<Lifted>, AppError> {
    let lifted = super::lift(
        &state.db,
        &state.hub,
        Some(&op.user_id),
        &id,
        "",
        state.clock.now_ms(),
    )
    .await?;
    Ok(Json(Lifted { lifted }))
}
