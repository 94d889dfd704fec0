//! HTTP routes of the ledger: the caller's balance and ledger lines, and the operators' verify.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{Balance, LedgerPage, Verification};
use crate::auth::{CurrentUser, Operator};
use crate::error::AppError;
use crate::extract::ApiQuery;
use crate::state::AppState;

/// The routes, mounted under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me/balance", get(my_balance))
        .route("/me/ledger", get(my_ledger))
        .route("/admin/ledger/verify", get(verify))
}

/// Query of `GET /me/ledger`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerParams {
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// The caller's earnings, pending payouts and points.
#[utoipa::path(get, path = "/api/v1/me/balance", tag = "ledger",
    responses((status = 200, body = Balance), (status = 401)), security(("bearer" = [])))]
pub async fn my_balance(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<Balance>, AppError> {
    Ok(Json(super::balance(&state.db, &user.user_id).await?))
}

/// The caller's ledger entries with transfer code and order, newest first.
#[utoipa::path(get, path = "/api/v1/me/ledger", tag = "ledger", params(LedgerParams),
    responses((status = 200, body = LedgerPage), (status = 401)), security(("bearer" = [])))]
pub async fn my_ledger(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(params): ApiQuery<LedgerParams>,
) -> Result<Json<LedgerPage>, AppError> {
    Ok(Json(
        super::lines(&state.db, &user.user_id, params.cursor.as_deref()).await?,
    ))
}

/// Recompute every balance and check that the ledger sums to zero (operators only).
#[utoipa::path(get, path = "/api/v1/admin/ledger/verify", tag = "admin",
    responses((status = 200, body = Verification), (status = 403)), security(("bearer" = [])))]
pub async fn verify(
    State(state): State<AppState>,
    _operator: Operator,
) -> Result<Json<Verification>, AppError> {
    Ok(Json(super::verify(&state.db).await?))
}
