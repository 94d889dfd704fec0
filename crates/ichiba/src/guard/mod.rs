//! Contact-guard enforcement (外部誘導の防止): every text a user writes is screened by the
//! detector (`crates/guard`) before it is stored. A block is a 422 `off_platform_contact` naming
//! what looked like an outside contact and where, records a violation (hash and spans only, never
//! the text) and climbs the strike ladder; users may appeal to the operators.

pub mod http;
pub mod model;
pub mod store;

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

pub use model::{Activity, Context, Ladder, Standing};

use crate::auth::Identity;
use crate::clock::{Millis, to_rfc3339};
use crate::db::Db;
use crate::error::AppError;
use crate::events::Event;
use crate::state::AppState;

/// One finding as reported to the client.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FindingView {
    /// `email`, `phone`, `line`, `sns`, `url_contact`, `file_sharing`, `direct_deal`, `payment_outside`.
    pub kind: String,
    /// Japanese name of the kind.
    pub label: String,
    /// Which field of the request (`body`, `title`, …).
    pub field: String,
    /// First character (Unicode scalar offset, inclusive).
    pub start: usize,
    /// Last character (exclusive).
    pub end: usize,
    /// The text of the span.
    pub excerpt: String,
    /// The rule that fired.
    pub rule: String,
}

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Scans the fields (name, text) of one submission. Allowed: `Ok(())`. Blocked: the violation and
/// any sanction are committed, and the 422 error is returned for the caller to send.
pub async fn screen(
    state: &AppState,
    user_id: Option<&str>,
    context: &Context,
    fields: &[(&str, &str)],
) -> Result<(), AppError> {
    let mut findings = Vec::new();
    let mut blocked_text = None;
    for (field, text) in fields {
        let verdict = state.guard.scan(text);
        if verdict.is_block() && blocked_text.is_none() {
            blocked_text = Some(*text);
        }
        findings.extend(verdict.findings.into_iter().map(|f| FindingView {
            kind: f.kind.as_str().to_string(),
            label: f.kind.label_ja().to_string(),
            field: (*field).to_string(),
            start: f.start,
            end: f.end,
            excerpt: f.excerpt,
            rule: f.rule.to_string(),
        }));
    }
    let Some(text) = blocked_text else {
        return Ok(());
    };
    let now = state.clock.now_ms();
    let stored: Vec<_> = findings
        .iter()
        .map(|f| json!({"kind": f.kind, "field": f.field, "start": f.start, "end": f.end, "rule": f.rule}))
        .collect();
    let context_json = serde_json::to_string(context).map_err(AppError::internal)?;
    let mut tx = state.db.begin().await?;
    store::insert_violation(
        &mut tx,
        user_id,
        &sha256(text),
        &json!(stored).to_string(),
        &context_json,
        now,
    )
    .await?;
    let mut strikes = 0;
    let mut restricted_until = None;
    let mut events = vec![];
    if let Some(user) = user_id {
        let ladder = Ladder::default();
        strikes = store::strikes_since(&mut tx, user, now - ladder.strike_window_ms).await?;
        let sanctioned = !store::active_sanctions(&mut tx, user, now)
            .await?
            .is_empty();
        let restrictions =
            store::restrictions_since(&mut tx, user, now - ladder.restriction_window_ms).await?;
        match ladder.step(now, strikes, sanctioned, restrictions) {
            model::Step::None => {}
            model::Step::Restrict { until } => {
                events.push(restrict(&mut tx, user, now, until).await?);
                restricted_until = Some(until);
            }
            model::Step::RestrictAndSuspend { until } => {
                events.push(restrict(&mut tx, user, now, until).await?);
                restricted_until = Some(until);
                let reason = "外部誘導と判断される投稿による利用制限が30日間で3回に達したため、運営の確認が終わるまでアカウントを停止しています。";
                store::insert_sanction(&mut tx, user, "suspension", reason, now, None).await?;
                store::audit(
                    &mut tx,
                    None,
                    "suspend",
                    Some(user),
                    &json!({"reason": "three_restrictions_in_30_days"}),
                    now,
                )
                .await?;
                events.push(
                    crate::notifications::create(
                        &mut tx,
                        user,
                        "suspended",
                        "アカウントが停止されました",
                        reason,
                        None,
                        now,
                    )
                    .await?,
                );
            }
        }
    }
    tx.commit().await?;
    state.hub.publish(events);
    let labels: Vec<&str> = {
        let mut l: Vec<&str> = findings.iter().map(|f| f.label.as_str()).collect();
        l.dedup();
        l
    };
    Err(AppError::Rule {
        code: "off_platform_contact",
        message: format!(
            "外部の連絡先や外部サービスへの誘導と判断される内容が含まれています（{}）。連絡先の交換や外部でのやり取り・お支払いは利用規約で禁止されています。作業に必要な情報はトークルームの添付ファイルとしてお送りください。誤って判定された場合は、異議申し立てができます。",
            labels.join("、")
        ),
        details: json!({
            "findings": findings,
            "strikes_24h": strikes,
            "restricted_until_at": restricted_until.map(to_rfc3339),
            "appeal_url": "/api/v1/guard/appeals",
        }),
    })
}

async fn restrict(
    tx: &mut sqlx::AnyConnection,
    user: &str,
    now: Millis,
    until: Millis,
) -> Result<Event, sqlx::Error> {
    let reason = "24時間以内に外部誘導と判断される投稿が3回あったため、メッセージの送信・サービスの出品や編集を24時間制限しています。取引中のトークルームは引き続きご利用いただけます。";
    store::insert_sanction(tx, user, "restriction", reason, now, Some(until)).await?;
    store::audit(
        tx,
        None,
        "restrict",
        Some(user),
        &json!({"until_at": to_rfc3339(until)}),
        now,
    )
    .await?;
    crate::notifications::create(
        tx,
        user,
        "restricted",
        "一部の機能が制限されました",
        reason,
        None,
        now,
    )
    .await
}

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

/// Refuses the activity when a sanction blocks it: 429 `restricted` (with `until_at`) or 403
/// `account_suspended`.
pub async fn ensure_allowed(
    state: &AppState,
    user_id: &str,
    activity: Activity,
) -> Result<(), AppError> {
    let Some(s) = standing(&state.db, user_id, state.clock.now_ms()).await? else {
        return Ok(());
    };
    if !model::blocks(&s.kind, activity) {
        return Ok(());
    }
    if s.kind == "suspended" {
        Err(AppError::Forbidden {
            code: "account_suspended",
            message: "アカウントが停止されています。取引中の注文の閲覧と完了のみ行えます。".into(),
        })
    } else {
        Err(AppError::Restricted {
            until_at: s.until_at.unwrap_or_default(),
        })
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
        .map(|f| FindingView {
            kind: f.kind.as_str().into(),
            label: f.kind.label_ja().into(),
            field: "text".into(),
            start: f.start,
            end: f.end,
            excerpt: f.excerpt,
            rule: f.rule.into(),
        })
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

/// Files an appeal against a block: the text goes to the operators' queue.
pub async fn appeal(
    state: &AppState,
    user_id: &str,
    text: &str,
    context: &Context,
) -> Result<AppealView, AppError> {
    let body = crate::messages::parse_body(text)?;
    let now = state.clock.now_ms();
    let context_json = serde_json::to_string(context).map_err(AppError::internal)?;
    let mut tx = state.db.begin().await?;
    let violation = store::latest_violation_for(&mut tx, user_id, &sha256(body.as_str())).await?;
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

/// The operators' queue.
pub async fn appeals(state: &AppState, filter: Option<&str>) -> Result<Vec<AppealView>, AppError> {
    let mut conn = state.db.pool().acquire().await?;
    Ok(store::appeals(&mut conn, filter)
        .await?
        .into_iter()
        .map(|r| appeal_view(state, r))
        .collect())
}

/// An operator's decision on an appeal. `allow`: the strike is removed and a message is delivered
/// to its thread (talk room or direct message) as the user wrote it; `uphold`: the block stands.
/// Either way the user is notified and the decision audited.
pub async fn decide(
    state: &AppState,
    operator: &Identity,
    id: &str,
    allow: bool,
    note: &str,
) -> Result<AppealView, AppError> {
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    let row = store::appeal(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let decision = if allow { "allowed" } else { "upheld" };
    if !store::decide_appeal(&mut tx, id, decision, &operator.user_id, note, now).await? {
        return Err(AppError::Conflict {
            code: "appeal_decided",
            message: "この異議申し立ては判断済みです。".into(),
        });
    }
    if allow && let Some(v) = &row.violation_id {
        store::void_violation(&mut tx, v).await?;
    }
    store::audit(
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
    let event = crate::notifications::create(
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
    state.hub.publish([event]);
    if allow {
        deliver(state, &row).await;
    }
    let mut conn = state.db.pool().acquire().await?;
    let row = store::appeal(&mut conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
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
    let result = match context {
        Context::OrderMessage { order_id } => {
            let post = crate::orders::Post {
                kind: "text",
                body: row.text.clone(),
                attachment_ids: vec![],
            };
            crate::orders::act(
                state,
                &user,
                &order_id,
                crate::orders::Command::PostMessage,
                Some(post),
                now,
            )
            .await
            .map(|_| ())
        }
        Context::DirectMessage { to_user_id } => crate::messages::send_direct(
            &state.db,
            &state.hub,
            &row.user_id,
            &to_user_id,
            &row.text,
            &[],
            now,
        )
        .await
        .map(|_| ()),
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

/// Lifts every sanction of a user (operator action, audited with the note, user notified).
pub async fn lift(
    db: &Db,
    hub: &crate::events::Hub,
    operator_id: Option<&str>,
    user_id: &str,
    note: &str,
    now: Millis,
) -> Result<u64, AppError> {
    let mut tx = db.begin().await?;
    if store::display_name(&mut tx, user_id).await?.is_none() {
        return Err(AppError::NotFound);
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
    hub.publish([event]);
    Ok(n)
}

/// An operator's decision given by name, as the API and the operator console submit it:
/// `allow` or `uphold` (anything else is a 422 on the field `decision`). See [`decide`].
pub async fn decide_named(
    state: &AppState,
    operator: &Identity,
    id: &str,
    decision: &str,
    note: &str,
) -> Result<AppealView, AppError> {
    let allow = match decision {
        "allow" => true,
        "uphold" => false,
        _ => {
            let mut f = crate::error::FieldErrors::new();
            f.add(
                "decision",
                "invalid",
                "decision は allow または uphold を指定してください。",
            );
            return Err(f.into());
        }
    };
    decide(state, operator, id, allow, note).await
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
pub async fn sanctions_in_force(db: &Db, now: Millis) -> Result<Vec<SanctionView>, AppError> {
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
) -> Result<Vec<SanctionView>, AppError> {
    let mut conn = db.pool().acquire().await?;
    let user_name = store::display_name(&mut conn, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
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
pub async fn lift_noted(
    state: &AppState,
    operator: &Identity,
    user_id: &str,
    note: &str,
) -> Result<u64, AppError> {
    let note = note.trim();
    if note.chars().count() > 1000 {
        let mut f = crate::error::FieldErrors::new();
        f.add("note", "too_long", "メモは1000文字以内で入力してください。");
        return Err(f.into());
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
