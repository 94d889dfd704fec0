//! Appeals against a contact-guard block (異議申し立て): a blocked user files the text, the
//! operators decide; an allowed appeal removes the strike and delivers the text to where it was
//! written (a talk-room post through `orders::act`, a direct message through
//! `messages::send_direct`). This module sits above `guard`, `orders` and `messages`, so the
//! guard itself depends on none of the features it screens for.

pub mod http;
pub mod store;

use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::Identity;
use crate::clock::to_rfc3339;
use crate::error::{AppError, FieldErrors};
use crate::guard::{self, Context, FindingView};
use crate::state::AppState;
use crate::{messages, notifications, orders};

/// What can go wrong with appeals.
#[derive(Debug, thiserror::Error)]
pub enum AppealError {
    /// Field validation failed (the text, the operator's decision).
    #[error("invalid appeal")]
    Invalid(FieldErrors),
    /// No such appeal.
    #[error("appeal not found")]
    NotFound,
    /// An operator has decided this appeal already.
    #[error("appeal already decided")]
    AlreadyDecided,
    /// Where the text was written could not be recorded.
    #[error("context not serialisable: {0}")]
    Context(#[from] serde_json::Error),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl From<AppealError> for AppError {
    fn from(e: AppealError) -> Self {
        match e {
            AppealError::Invalid(fields) => AppError::Validation(fields),
            AppealError::NotFound => AppError::NotFound,
            AppealError::AlreadyDecided => AppError::Conflict {
                code: "appeal_decided",
                message: "この異議申し立ては判断済みです。".into(),
            },
            AppealError::Context(e) => AppError::internal(e),
            AppealError::Db(e) => AppError::internal(e),
        }
    }
}

/// An appeal as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AppealView {
    /// Id.
    pub id: String,
    /// Who appealed.
    pub user_id: String,
    /// The text the user asks to send.
    pub text: String,
    /// Where it was written.
    #[schema(value_type = Object)]
    pub context: serde_json::Value,
    /// `pending`, `allowed` or `upheld`.
    pub state: String,
    /// What the detector finds in it (for the operator).
    pub findings: Vec<FindingView>,
    /// The operator's note.
    pub note: String,
    /// When filed.
    pub created_at: String,
    /// When decided.
    pub decided_at: Option<String>,
}

fn appeal_view(state: &AppState, r: store::AppealRow) -> AppealView {
    let findings = state
        .guard
        .scan(&r.text)
        .findings
        .into_iter()
        .map(|f| FindingView::new(f, "text"))
        .collect();
    AppealView {
        context: serde_json::from_str(&r.context_json).unwrap_or_default(),
        findings,
        id: r.id,
        user_id: r.user_id,
        text: r.text,
        state: r.state,
        note: r.note,
        created_at: to_rfc3339(r.created_at_ms),
        decided_at: r.decided_at_ms.map(to_rfc3339),
    }
}

/// Files an appeal against a block: the text goes to the operators' queue, linked to the user's
/// latest violation with the same text (if any).
///
/// Errors: [`AppealError::Invalid`] for an empty or overlong text.
pub async fn file(
    state: &AppState,
    user_id: &str,
    text: &str,
    context: &Context,
) -> Result<AppealView, AppealError> {
    let body = messages::parse_body(text).map_err(AppealError::Invalid)?;
    let now = state.clock.now_ms();
    let context_json = serde_json::to_string(context)?;
    let mut tx = state.db.begin().await?;
    let violation =
        guard::store::latest_violation_for(&mut tx, user_id, &guard::text_hash(body.as_str()))
            .await?;
    let row = store::insert_appeal(
        &mut tx,
        user_id,
        violation.as_deref(),
        body.as_str(),
        &context_json,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(appeal_view(state, row))
}

/// An appeal of the operators' queue: the appeal as shown (with the detector's findings) and the
/// display name of the user who filed it.
#[derive(Debug, Clone)]
pub struct QueuedAppeal {
    /// The appeal.
    pub appeal: AppealView,
    /// The appellant's display name (empty for an unknown user).
    pub user_name: String,
}

/// The operators' queue with the appellants' names, in one query: the appeals of one state
/// (`pending`, `allowed`, `upheld`; every state when `None` or empty), pending first then newest,
/// at most 200.
pub async fn queue_named(
    state: &AppState,
    filter: Option<&str>,
) -> Result<Vec<QueuedAppeal>, AppealError> {
    let mut conn = state.db.pool().acquire().await?;
    Ok(store::appeal_queue(&mut conn, filter)
        .await?
        .into_iter()
        .map(|r| QueuedAppeal {
            appeal: appeal_view(state, r.appeal),
            user_name: r.user_name,
        })
        .collect())
}

/// The operators' queue as the API lists it: [`queue_named`] without the names.
pub async fn queue(state: &AppState, filter: Option<&str>) -> Result<Vec<AppealView>, AppealError> {
    Ok(queue_named(state, filter)
        .await?
        .into_iter()
        .map(|q| q.appeal)
        .collect())
}

/// How many appeals wait for an operator's decision.
pub async fn pending_count(state: &AppState) -> Result<i64, AppealError> {
    let mut conn = state.db.pool().acquire().await?;
    Ok(store::count_appeals(&mut conn, "pending").await?)
}

/// An operator's decision on an appeal. `allow`: the strike is removed and a message is delivered
/// to its thread (talk room or direct message) as the user wrote it; `uphold`: the block stands.
/// Either way the user is notified and the decision audited.
///
/// Errors: [`AppealError::NotFound`], [`AppealError::AlreadyDecided`].
pub async fn decide(
    state: &AppState,
    operator: &Identity,
    id: &str,
    allow: bool,
    note: &str,
) -> Result<AppealView, AppealError> {
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    let row = store::appeal(&mut tx, id)
        .await?
        .ok_or(AppealError::NotFound)?;
    let decision = if allow { "allowed" } else { "upheld" };
    if !store::decide_appeal(&mut tx, id, decision, &operator.user_id, note, now).await? {
        return Err(AppealError::AlreadyDecided);
    }
    if allow && let Some(v) = &row.violation_id {
        guard::store::void_violation(&mut tx, v).await?;
    }
    guard::store::audit(
        &mut tx,
        Some(&operator.user_id),
        &format!("appeal_{decision}"),
        Some(&row.user_id),
        &json!({"appeal_id": id, "note": note}),
        now,
    )
    .await?;
    let (title, body) = if allow {
        (
            "異議申し立てが認められました",
            "運営が内容を確認し、送信を認めました。ペナルティは取り消されました。",
        )
    } else {
        (
            "異議申し立ての結果のお知らせ",
            "運営が内容を確認しましたが、外部誘導にあたると判断しました。内容を修正のうえ、あらためて送信してください。",
        )
    };
    let event = notifications::create(
        &mut tx,
        &row.user_id,
        "appeal_decided",
        title,
        body,
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    state.hub.publish([event]).await;
    if allow {
        deliver(state, &row).await;
    }
    let mut conn = state.db.pool().acquire().await?;
    let row = store::appeal(&mut conn, id)
        .await?
        .ok_or(AppealError::NotFound)?;
    Ok(appeal_view(state, row))
}

/// Delivers an allowed text to its thread, bypassing the guard (an operator has read it). A
/// thread that has closed meanwhile gets nothing; the strike is removed all the same.
async fn deliver(state: &AppState, row: &store::AppealRow) {
    let Ok(context) = serde_json::from_str::<Context>(&row.context_json) else {
        return;
    };
    let user = Identity {
        user_id: row.user_id.clone(),
        is_operator: false,
    };
    let now = state.clock.now_ms();
    // Only logged: the order's and the thread's own errors, whatever feature they come from.
    let result: Result<(), Box<dyn std::error::Error + Send + Sync>> = match context {
        Context::OrderMessage { order_id } => {
            let post = orders::Post {
                kind: "text",
                body: row.text.clone(),
                attachment_ids: vec![],
            };
            orders::act(
                state,
                &user,
                &order_id,
                orders::Command::PostMessage,
                Some(post),
                now,
            )
            .await
            .map(|_| ())
            .map_err(Into::into)
        }
        Context::DirectMessage { to_user_id } => messages::send_direct(
            &state.db,
            &state.hub,
            &row.user_id,
            &to_user_id,
            &row.text,
            &[],
            now,
        )
        .await
        .map(|_| ())
        .map_err(Into::into),
        Context::Delivery { .. }
        | Context::SendBack { .. }
        | Context::CancelNote { .. }
        | Context::Listing
        | Context::Profile
        | Context::Review => Ok(()),
    };
    if let Err(e) = result {
        tracing::info!(appeal = %row.id, error = %e, "allowed appeal could not be delivered");
    }
}

/// An operator's decision given by name, as the API and the operator console submit it:
/// `allow` or `uphold` (anything else is a 422 on the field `decision`). See [`decide`].
pub async fn decide_named(
    state: &AppState,
    operator: &Identity,
    id: &str,
    decision: &str,
    note: &str,
) -> Result<AppealView, AppealError> {
    let allow = match decision {
        "allow" => true,
        "uphold" => false,
        _ => {
            let mut f = FieldErrors::new();
            f.add(
                "decision",
                "invalid",
                "decision は allow または uphold を指定してください。",
            );
            return Err(AppealError::Invalid(f));
        }
    };
    decide(state, operator, id, allow, note).await
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;

    fn variant(e: &AppealError) -> usize {
        match e {
            AppealError::Invalid(_) => 0,
            AppealError::NotFound => 1,
            AppealError::AlreadyDecided => 2,
            AppealError::Context(_) => 3,
            AppealError::Db(_) => 4,
        }
    }

    #[test]
    fn every_appeal_error_maps_to_its_status_and_code() {
        let samples = vec![
            (
                AppealError::Invalid(messages::parse_body("").expect_err("empty")),
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
            ),
            (AppealError::NotFound, StatusCode::NOT_FOUND, "not_found"),
            (
                AppealError::AlreadyDecided,
                StatusCode::CONFLICT,
                "appeal_decided",
            ),
            (
                AppealError::Context(serde_json::from_str::<i64>("x").expect_err("not json")),
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
            ),
            (
                AppealError::Db(sqlx::Error::RowNotFound),
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
            ),
        ];
        crate::error::mapping::check(samples, variant, 5);
    }
}
