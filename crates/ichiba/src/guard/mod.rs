//! Contact-guard enforcement (外部誘導の防止): every text a user writes is screened by the
//! detector (`crates/guard`) before it is stored. A block is a 422 `off_platform_contact` naming
//! what looked like an outside contact and where, records a violation (hash and spans only, never
//! the text) and climbs the strike ladder to the sanctions of `sanctions.rs`. Users may appeal to
//! the operators: appeals and the delivery of an allowed text live in the `appeals` module, above
//! the features that deliver it, so this module depends on none of them.

pub mod http;
pub mod model;
mod sanctions;
pub mod store;

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

pub use model::{Activity, Context, Ladder, Standing};
pub use sanctions::{
    SanctionView, ensure_allowed, lift, lift_noted, sanctions_in_force, sanctions_of, standing,
};

use crate::clock::{Millis, to_rfc3339};
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

impl FindingView {
    /// A finding of the detector in the field `field` of a submission.
    pub fn new(f: ::guard::Finding, field: &str) -> FindingView {
        FindingView {
            kind: f.kind.as_str().to_string(),
            label: f.kind.label_ja().to_string(),
            field: field.to_string(),
            start: f.start,
            end: f.end,
            excerpt: f.excerpt,
            rule: f.rule.to_string(),
        }
    }
}

/// The hash a violation keeps of the blocked text (hex SHA-256; the text itself is never
/// stored). An appeal finds its violation by the hash of its text.
pub fn text_hash(text: &str) -> String {
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
        findings.extend(
            verdict
                .findings
                .into_iter()
                .map(|f| FindingView::new(f, field)),
        );
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
        &text_hash(text),
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
    state.hub.publish(events).await;
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
