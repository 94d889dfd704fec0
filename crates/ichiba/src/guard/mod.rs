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
use crate::error::{AppError, FieldErrors};
use crate::events::Event;
use crate::state::AppState;

/// What the contact guard answers instead of letting a text or an activity through, and what its
/// operator functions can fail with. Its `From` impl below is the one place these become HTTP
/// errors (the 422 `off_platform_contact` body of API.md included).
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    /// The text looks like an outside contact (422 `off_platform_contact`). The violation and any
    /// sanction it triggered are already committed.
    #[error("blocked by the contact guard")]
    Blocked {
        /// What looked like an outside contact, and where.
        findings: Vec<FindingView>,
        /// The user's blocks within the strike window, this one included (0 for an anonymous
        /// sign-up).
        strikes_24h: i64,
        /// The end of the restriction this block imposed, if it imposed one.
        restricted_until: Option<Millis>,
        /// The Japanese names of the findings' kinds, for the message.
        labels: Vec<String>,
    },
    /// The account is suspended and the activity is not one a suspended user may do (403
    /// `account_suspended`).
    #[error("account suspended")]
    Suspended,
    /// A restriction blocks the activity until `until_at` (429 `restricted`).
    #[error("restricted until {until_at}")]
    Restricted {
        /// When the restriction ends (RFC 3339).
        until_at: String,
    },
    /// No such user.
    #[error("user not found")]
    NotFound,
    /// Field validation failed (an operator's note).
    #[error("invalid input")]
    Invalid(FieldErrors),
    /// Where a text was written could not be recorded.
    #[error("context not serialisable: {0}")]
    Context(#[from] serde_json::Error),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl From<GuardError> for AppError {
    fn from(e: GuardError) -> Self {
        match e {
            GuardError::Blocked {
                findings,
                strikes_24h,
                restricted_until,
                labels,
            } => AppError::Rule {
                code: "off_platform_contact",
                message: format!(
                    "外部の連絡先や外部サービスへの誘導と判断される内容が含まれています（{}）。連絡先の交換や外部でのやり取り・お支払いは利用規約で禁止されています。作業に必要な情報はトークルームの添付ファイルとしてお送りください。誤って判定された場合は、異議申し立てができます。",
                    labels.join("、")
                ),
                details: json!({
                    "findings": findings,
                    "strikes_24h": strikes_24h,
                    "restricted_until_at": restricted_until.map(to_rfc3339),
                    "appeal_url": "/api/v1/guard/appeals",
                }),
            },
            GuardError::Suspended => AppError::Forbidden {
                code: "account_suspended",
                message: "アカウントが停止されています。取引中の注文の閲覧と完了のみ行えます。"
                    .into(),
            },
            GuardError::Restricted { until_at } => AppError::Restricted { until_at },
            GuardError::NotFound => AppError::NotFound,
            GuardError::Invalid(fields) => AppError::Validation(fields),
            GuardError::Context(e) => AppError::internal(e),
            GuardError::Db(e) => AppError::internal(e),
        }
    }
}

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
/// any sanction are committed, and [`GuardError::Blocked`] is returned for the caller to pass on.
pub async fn screen(
    state: &AppState,
    user_id: Option<&str>,
    context: &Context,
    fields: &[(&str, &str)],
) -> Result<(), GuardError> {
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
    let context_json = serde_json::to_string(context)?;
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
    let labels: Vec<String> = {
        let mut l: Vec<String> = findings.iter().map(|f| f.label.clone()).collect();
        l.dedup();
        l
    };
    Err(GuardError::Blocked {
        findings,
        strikes_24h: strikes,
        restricted_until,
        labels,
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

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;

    fn finding(label: &str) -> FindingView {
        FindingView {
            kind: "line".into(),
            label: label.into(),
            field: "body".into(),
            start: 0,
            end: 4,
            excerpt: "LINE".into(),
            rule: "line_id".into(),
        }
    }

    fn variant(e: &GuardError) -> usize {
        match e {
            GuardError::Blocked { .. } => 0,
            GuardError::Suspended => 1,
            GuardError::Restricted { .. } => 2,
            GuardError::NotFound => 3,
            GuardError::Invalid(_) => 4,
            GuardError::Context(_) => 5,
            GuardError::Db(_) => 6,
        }
    }

    #[test]
    fn every_guard_error_maps_to_its_status_and_code() {
        let mut fields = FieldErrors::new();
        fields.add("note", "too_long", "長すぎます");
        let samples = vec![
            (
                GuardError::Blocked {
                    findings: vec![finding("LINE")],
                    strikes_24h: 3,
                    restricted_until: Some(1_800_000_000_000),
                    labels: vec!["LINE".into()],
                },
                StatusCode::UNPROCESSABLE_ENTITY,
                "off_platform_contact",
            ),
            (
                GuardError::Suspended,
                StatusCode::FORBIDDEN,
                "account_suspended",
            ),
            (
                GuardError::Restricted {
                    until_at: "2027-01-15T08:00:00+09:00".into(),
                },
                StatusCode::TOO_MANY_REQUESTS,
                "restricted",
            ),
            (GuardError::NotFound, StatusCode::NOT_FOUND, "not_found"),
            (
                GuardError::Invalid(fields),
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
            ),
            (
                GuardError::Context(serde_json::from_str::<i64>("x").expect_err("not json")),
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
            ),
            (
                GuardError::Db(sqlx::Error::RowNotFound),
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
            ),
        ];
        crate::error::mapping::check(samples, variant, 7);
    }

    #[test]
    fn a_block_names_the_kinds_and_carries_the_findings_strikes_and_appeal_url() {
        let app = AppError::from(GuardError::Blocked {
            findings: vec![finding("LINE"), finding("メールアドレス")],
            strikes_24h: 3,
            restricted_until: Some(0),
            labels: vec!["LINE".into(), "メールアドレス".into()],
        });
        let body = app.body();
        let message = body["error"]["message"].as_str().expect("message");
        assert!(
            message.starts_with(
                "外部の連絡先や外部サービスへの誘導と判断される内容が含まれています（LINE、メールアドレス）。"
            ),
            "{message}"
        );
        let details = &body["error"]["details"];
        assert_eq!(details["findings"][1]["label"], "メールアドレス");
        assert_eq!(details["findings"][0]["start"], 0);
        assert_eq!(details["strikes_24h"], 3);
        assert_eq!(details["restricted_until_at"], "1970-01-01T09:00:00+09:00");
        assert_eq!(details["appeal_url"], "/api/v1/guard/appeals");
    }

    #[test]
    fn a_block_without_a_restriction_says_null_and_a_restriction_carries_its_end() {
        let app = AppError::from(GuardError::Blocked {
            findings: vec![],
            strikes_24h: 1,
            restricted_until: None,
            labels: vec![],
        });
        assert!(app.body()["error"]["details"]["restricted_until_at"].is_null());
        let app = AppError::from(GuardError::Restricted {
            until_at: "2027-01-15T08:00:00Z".into(),
        });
        assert_eq!(
            app.body()["error"]["details"]["until_at"],
            "2027-01-15T08:00:00Z"
        );
    }
}
