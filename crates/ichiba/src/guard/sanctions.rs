//! Sanctions of the contact guard: the one in force for a user and what it blocks, the
//! operators' lists, and lifting (by an operator or the CLI, audited, the user notified). The
//! strike ladder that imposes them is in `guard/mod.rs`.

use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::model::{self, Activity, Standing};
use super::{GuardError, store};
use crate::auth::Identity;
use crate::clock::{Millis, to_rfc3339};
use crate::db::Db;
use crate::state::AppState;

/// The sanction in force for a user, if any (a suspension outranks a restriction).
pub async fn standing(
    db: &Db,
    user_id: &str,
    now: Millis,
) -> Result<Option<Standing>, sqlx::Error> {
    let mut conn = db.pool().acquire().await?;
    let active = store::active_sanctions(&mut conn, user_id, now).await?;
    Ok(active.into_iter().next().map(|s| Standing {
        kind: if s.kind == "suspension" {
            "suspended".into()
        } else {
            "restricted".into()
        },
        until_at: s.until_at_ms.map(to_rfc3339),
        reason: s.reason,
    }))
}

/// Refuses the activity when a sanction blocks it: [`GuardError::Restricted`] (429 `restricted`,
/// with `until_at`) or [`GuardError::Suspended`] (403 `account_suspended`).
pub async fn ensure_allowed(
    state: &AppState,
    user_id: &str,
    activity: Activity,
) -> Result<(), GuardError> {
    let Some(s) = standing(&state.db, user_id, state.clock.now_ms()).await? else {
        return Ok(());
    };
    if !model::blocks(&s.kind, activity) {
        return Ok(());
    }
    if s.kind == "suspended" {
        Err(GuardError::Suspended)
    } else {
        Err(GuardError::Restricted {
            until_at: s.until_at.unwrap_or_default(),
        })
    }
}

/// Lifts every sanction of a user (operator action, audited with the note, user notified).
///
/// Errors: [`GuardError::NotFound`] for an unknown user.
pub async fn lift(
    db: &Db,
    hub: &crate::events::Hub,
    operator_id: Option<&str>,
    user_id: &str,
    note: &str,
    now: Millis,
) -> Result<u64, GuardError> {
    let mut tx = db.begin().await?;
    if crate::auth::display_name(&mut tx, user_id).await?.is_none() {
        return Err(GuardError::NotFound);
    }
    let n = store::lift_all(&mut tx, user_id, operator_id.unwrap_or("cli"), now).await?;
    store::audit(
        &mut tx,
        operator_id,
        "lift_sanctions",
        Some(user_id),
        &if note.is_empty() {
            json!({"lifted": n})
        } else {
            json!({"lifted": n, "note": note})
        },
        now,
    )
    .await?;
    let event = crate::notifications::create(
        &mut tx,
        user_id,
        "sanction_lifted",
        "利用制限が解除されました",
        "運営により利用制限・アカウント停止が解除されました。",
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    hub.publish([event]).await;
    Ok(n)
}

/// A sanction in force, as the operators see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SanctionView {
    /// Id.
    pub id: String,
    /// The sanctioned user.
    pub user_id: String,
    /// Their display name.
    pub user_name: String,
    /// `restriction` or `suspension`.
    pub kind: String,
    /// 利用制限 or アカウント停止.
    pub kind_label: String,
    /// Japanese explanation given to the user.
    pub reason: String,
    /// When it started.
    pub starts_at: String,
    /// When a restriction ends; `null` for a suspension (until lifted).
    pub until_at: Option<String>,
}

fn sanction_kind_label(kind: &str) -> &'static str {
    if kind == "suspension" {
        "アカウント停止"
    } else {
        "利用制限"
    }
}

/// Every sanction in force (operators): suspensions first, then newest first, at most 500.
pub async fn sanctions_in_force(db: &Db, now: Millis) -> Result<Vec<SanctionView>, GuardError> {
    let mut conn = db.pool().acquire().await?;
    Ok(store::sanctions_in_force(&mut conn, now, 500)
        .await?
        .into_iter()
        .map(|r| SanctionView {
            kind_label: sanction_kind_label(&r.kind).into(),
            id: r.id,
            user_id: r.user_id,
            user_name: r.display_name,
            kind: r.kind,
            reason: r.reason,
            starts_at: to_rfc3339(r.starts_at_ms),
            until_at: r.until_at_ms.map(to_rfc3339),
        })
        .collect())
}

/// The sanctions in force of one user (operators); 404 for an unknown user.
pub async fn sanctions_of(
    db: &Db,
    user_id: &str,
    now: Millis,
) -> Result<Vec<SanctionView>, GuardError> {
    let mut conn = db.pool().acquire().await?;
    let user_name = crate::auth::display_name(&mut conn, user_id)
        .await?
        .ok_or(GuardError::NotFound)?;
    Ok(store::active_sanctions(&mut conn, user_id, now)
        .await?
        .into_iter()
        .map(|s| SanctionView {
            kind_label: sanction_kind_label(&s.kind).into(),
            id: s.id,
            user_id: user_id.to_string(),
            user_name: user_name.clone(),
            kind: s.kind,
            reason: s.reason,
            starts_at: to_rfc3339(s.starts_at_ms),
            until_at: s.until_at_ms.map(to_rfc3339),
        })
        .collect())
}

/// [`lift`] by an operator with a note (at most 1,000 characters) kept in the audit log next to
/// the lift. Returns how many sanctions were lifted.
///
/// Errors: [`GuardError::Invalid`] for a longer note, [`GuardError::NotFound`] for an unknown user.
pub async fn lift_noted(
    state: &AppState,
    operator: &Identity,
    user_id: &str,
    note: &str,
) -> Result<u64, GuardError> {
    let note = note.trim();
    if note.chars().count() > 1000 {
        let mut f = crate::error::FieldErrors::new();
        f.add("note", "too_long", "メモは1000文字以内で入力してください。");
        return Err(GuardError::Invalid(f));
    }
    let now = state.clock.now_ms();
    lift(
        &state.db,
        &state.hub,
        Some(&operator.user_id),
        user_id,
        note,
        now,
    )
    .await
}
