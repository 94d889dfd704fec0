//! The system endpoints: the health check and, with `serve --dev-clock`, advancing the manual
//! clock (which runs every timer that became due).

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::clock::to_rfc3339;
use crate::error::AppError;
use crate::extract::ApiJson;
use crate::state::AppState;

/// `/healthz`, outside the API prefix.
pub fn routes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

/// `/dev/clock`, under `/api/v1`.
pub fn api_routes() -> Router<AppState> {
    Router::new().route("/dev/clock", post(advance_clock))
}

/// Health check.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the process serves.
    pub status: &'static str,
}

#[utoipa::path(get, path = "/healthz", tag = "system", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Body of `POST /dev/clock`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AdvanceClock {
    /// Seconds to move the manual clock forward (≥ 0; the clock stops at 3000-01-01T00:00:00Z,
    /// beyond which the request is refused).
    pub advance_seconds: i64,
}

/// Result of advancing the clock.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClockAdvanced {
    /// The new time.
    pub now_at: String,
    /// Timers that became due and were run.
    pub timers_fired: u64,
}

/// Advance the manual clock (only with `serve --dev-clock`; otherwise 404).
#[utoipa::path(post, path = "/api/v1/dev/clock", tag = "system", request_body = AdvanceClock,
    responses((status = 200, body = ClockAdvanced), (status = 404)))]
pub async fn advance_clock(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<AdvanceClock>,
) -> Result<Json<ClockAdvanced>, AppError> {
    let clock = state.clock.manual().ok_or(AppError::NotFound)?;
    let out_of_range = || {
        let mut f = crate::error::FieldErrors::new();
        f.add(
            "advance_seconds",
            "out_of_range",
            "0以上で、時計が西暦3000年を超えない秒数を指定してください。",
        );
        AppError::from(f)
    };
    if body.advance_seconds < 0 {
        return Err(out_of_range());
    }
    let now = clock
        .advance_ms(body.advance_seconds.saturating_mul(1000))
        .ok_or_else(out_of_range)?;
    let timers_fired = crate::jobs::run_once(&state, now).await?;
    Ok(Json(ClockAdvanced {
        now_at: to_rfc3339(now),
        timers_fired,
    }))
}
