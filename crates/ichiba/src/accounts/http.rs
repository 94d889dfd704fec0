//! HTTP routes of accounts: `POST /users`, `POST /sessions`, `DELETE /sessions/current`, `GET/PATCH
//! /me`. Handlers only translate between HTTP and the service functions.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{LoginPolicy, Profile, Registration};
use crate::auth::{CurrentUser, bearer_token};
use crate::error::AppError;
use crate::extract::{ApiJson, ClientAddr};
use crate::guard;
use crate::state::AppState;

/// The routes, mounted under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/users", post(register))
        .route("/sessions", post(login))
        .route("/sessions/current", delete(logout))
        .route("/me", get(me).patch(update_me))
}

/// Body of `POST /users`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterRequest {
    /// E-mail address (login id).
    pub email: String,
    /// At least 8 characters.
    pub password: String,
    /// Public name, 1–40 characters.
    pub display_name: String,
}

/// Response of `POST /users`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserCreated {
    /// New user id.
    pub id: String,
    /// Public name.
    pub display_name: String,
}

/// Body of `POST /sessions`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    /// E-mail address.
    pub email: String,
    /// Password.
    pub password: String,
}

/// Response of `POST /sessions`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Bearer token; send as `Authorization: Bearer <token>`. Valid 30 days.
    pub token: String,
    /// The user.
    pub user_id: String,
}

/// Body of `PATCH /me`: absent fields are left unchanged.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ProfilePatch {
    /// New public name.
    pub display_name: Option<String>,
    /// New profile text (up to 3,000 characters).
    pub bio: Option<String>,
}

/// Register a new account.
#[utoipa::path(post, path = "/api/v1/users", tag = "accounts", request_body = RegisterRequest,
    responses((status = 201, body = UserCreated), (status = 409, description = "email_taken"),
              (status = 422, description = "validation_failed")))]
pub async fn register(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<UserCreated>), AppError> {
    let profile = super::sign_up(
        &state,
        Registration {
            email: body.email,
            password: body.password,
            display_name: body.display_name,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(UserCreated {
            id: profile.id,
            display_name: profile.display_name,
        }),
    ))
}

/// Log in and receive a bearer token.
#[utoipa::path(post, path = "/api/v1/sessions", tag = "accounts", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, description = "invalid_credentials"),
              (status = 429, description = "rate_limited")))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, AppError> {
    let session = super::login(
        &state.db,
        &LoginPolicy::default(),
        state.clock.now_ms(),
        &body.email,
        &body.password,
        &addr,
    )
    .await?;
    Ok(Json(LoginResponse {
        token: session.token,
        user_id: session.user_id,
    }))
}

/// Log out (ends the session of the token sent).
#[utoipa::path(delete, path = "/api/v1/sessions/current", tag = "accounts",
    responses((status = 204), (status = 401)), security(("bearer" = [])))]
pub async fn logout(
    State(state): State<AppState>,
    _user: CurrentUser,
    headers: HeaderMap,
) -> Result<StatusCode, AppError> {
    if let Some(token) = bearer_token(&headers) {
        super::logout(&state.db, token).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's own account.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts",
    responses((status = 200, body = Profile), (status = 401)), security(("bearer" = [])))]
pub async fn me(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<Profile>, AppError> {
    let mut profile = super::profile(&state.db, &user.user_id).await?;
    profile.restriction = guard::standing(&state.db, &user.user_id, state.clock.now_ms()).await?;
    Ok(Json(profile))
}

/// Update the caller's display name and/or bio.
#[utoipa::path(patch, path = "/api/v1/me", tag = "accounts", request_body = ProfilePatch,
    responses((status = 200, body = Profile), (status = 401), (status = 422)),
    security(("bearer" = [])))]
pub async fn update_me(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<ProfilePatch>,
) -> Result<Json<Profile>, AppError> {
    let profile = super::edit_profile(
        &state,
        &user.user_id,
        body.display_name.as_deref(),
        body.bio.as_deref(),
    )
    .await?;
    Ok(Json(profile))
}
