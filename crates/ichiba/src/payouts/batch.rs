//! Payout batches: the operator exports every pending payout due by a pay date into one Zengin
//! file (the payouts become `exported`, so a second export does not repeat them; the file is kept
//! so it can be downloaded again), then settles each one as paid or failed. Shared by the CLI
//! (`ichiba payouts …`) and the operator API.

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::bank::{self, AccountNumber, AccountType, BankCode, BranchCode, HolderKana};
use super::model::{self, Outcome, PayoutCommand, PayoutError, PayoutState};
use super::store::{self, BatchRow, PayoutRow, StateChange};
use super::zengin::{self, Line, NAME_CHARS};
use super::{PayoutView, to_model};
use crate::clock::{Millis, to_rfc3339};
use crate::config::ZenginSettings;
use crate::db::{Db, new_id};
use crate::error::AppError;
use crate::events::Event;
use crate::notifications;

/// An exported batch: its file and what is in it.
#[derive(Debug, Clone)]
pub struct Exported {
    /// Batch id.
    pub id: String,
    /// Pay date.
    pub pay_date: NaiveDate,
    /// The Zengin file (Shift_JIS, CRLF).
    pub file_bytes: Vec<u8>,
    /// The payouts in file order.
    pub payouts: Vec<PayoutView>,
    /// Sum of the nets.
    pub total_yen: i64,
}

impl Exported {
    /// The file name offered for download.
    pub fn file_name(&self) -> String {
        format!(
            "zengin-{}-{}.txt",
            self.pay_date.format("%Y%m%d"),
            &self.id[self.id.len().saturating_sub(8)..]
        )
    }
}

/// Parses a pay date `YYYY-MM-DD` that must be a bank business day.
///
/// Errors: 422 `validation_failed` on the field `pay_date`, `not_a_business_day`.
pub fn parse_pay_date(s: &str) -> Result<NaiveDate, AppError> {
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        let mut f = crate::error::FieldErrors::new();
        f.add(
            "pay_date",
            "invalid_format",
            "振込指定日は YYYY-MM-DD の形式で指定してください。",
        );
        AppError::Validation(f)
    })?;
    if !super::calendar::is_business_day(d).map_err(PayoutError::from)? {
        return Err(PayoutError::NotBusinessDay(d).into());
    }
    Ok(d)
}

fn line_of(p: &PayoutRow) -> Result<Line, AppError> {
    let corrupt = |what: &str| AppError::internal(format!("corrupt payout {}: {what}", p.id));
    let bank_code = BankCode::parse(&p.bank_code).map_err(|_| corrupt("bank_code"))?;
    let branch_code = BranchCode::parse(&p.branch_code).map_err(|_| corrupt("branch_code"))?;
    let b = bank::lookup_bank(&bank_code).map_err(AppError::internal)?;
    let (bank_name, branch_name) = match b {
        Some(b) => {
            let branch = bank::lookup_branch(b, &branch_code).map_err(AppError::internal)?;
            (
                bank::to_zengin_kana_lossy(&b.kana, NAME_CHARS),
                branch
                    .map(|br| bank::to_zengin_kana_lossy(&br.kana, NAME_CHARS))
                    .unwrap_or_default(),
            )
        }
        // Names are optional in a data record: the codes are what the bank routes by.
        None => (String::new(), String::new()),
    };
    Ok(Line {
        bank_code,
        bank_name,
        branch_code,
        branch_name,
        account_type: AccountType::parse(p.account_type).map_err(|_| corrupt("account_type"))?,
        account_number: AccountNumber::parse(&p.account_number)
            .map_err(|_| corrupt("account_number"))?,
        holder: HolderKana::from_stored(p.holder_kana.clone()),
        amount_yen: p.net_yen,
    })
}

/// Exports every pending payout due on or before `pay_date` into a Zengin file, marks them
/// `exported` and stores the batch, all in one transaction.
///
/// Errors: 422 `nothing_to_export`; 409 when a payout changed meanwhile (nothing is exported).
pub async fn export(
    db: &Db,
    settings: &ZenginSettings,
    pay_date: NaiveDate,
    created_by: &str,
    now: Millis,
) -> Result<Exported, AppError> {
    let requester =
        super::zengin::Requester::from_settings(settings).map_err(AppError::internal)?;
    let mut tx = db.begin().await?;
    let due = store::due_payouts(&mut tx, &pay_date.format("%Y-%m-%d").to_string()).await?;
    if due.is_empty() {
        return Err(PayoutError::NothingToExport.into());
    }
    let lines = due.iter().map(line_of).collect::<Result<Vec<_>, _>>()?;
    let file_bytes = zengin::write(&requester, pay_date, &lines).map_err(AppError::internal)?;
    let total_yen: i64 = due.iter().map(|p| p.net_yen).sum();
    let batch = BatchRow {
        id: new_id(),
        pay_date: pay_date.format("%Y-%m-%d").to_string(),
        payout_count: i64::try_from(due.len()).unwrap_or(i64::MAX),
        total_yen,
        file_bytes,
        created_at_ms: now,
        created_by: created_by.to_string(),
    };
    store::insert_batch(&mut tx, &batch).await?;
    let mut payouts = Vec::with_capacity(due.len());
    for p in &due {
        match model::decide(&to_model(p)?, &PayoutCommand::Export)? {
            Outcome::Changed { state, .. } => {
                let ok = store::update_state(
                    &mut tx,
                    p,
                    &StateChange {
                        new_state: state.as_str(),
                        batch_id: Some(&batch.id),
                        exported_at_ms: Some(now),
                        settled_at_ms: None,
                        failure_reason: None,
                    },
                )
                .await?;
                if !ok {
                    return Err(concurrent());
                }
            }
            Outcome::Unchanged => {}
        }
        let mut view = PayoutView::from(p);
        view.status = PayoutState::Exported;
        view.status_label = PayoutState::Exported.label().to_string();
        view.exported_at = Some(to_rfc3339(now));
        payouts.push(view);
    }
    tx.commit().await?;
    Ok(Exported {
        id: batch.id,
        pay_date,
        file_bytes: batch.file_bytes,
        payouts,
        total_yen,
    })
}

fn concurrent() -> AppError {
    AppError::Conflict {
        code: "concurrent_update",
        message: "振込申請が同時に更新されました。もう一度お試しください。".into(),
    }
}

/// A stored batch with its payouts (for downloading the file again).
pub async fn batch(db: &Db, id: &str) -> Result<(BatchRow, Vec<PayoutView>), AppError> {
    let mut conn = db.pool().acquire().await?;
    let b = store::batch_by_id(&mut conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let payouts = store::payouts_of_batch(&mut conn, id).await?;
    Ok((b, payouts.iter().map(PayoutView::from).collect()))
}

/// What a settlement did.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct SettleReport {
    /// Payouts now paid.
    pub paid: Vec<String>,
    /// Payouts now failed (money back to earnings).
    pub failed: Vec<String>,
    /// Payouts that already were in the requested state.
    pub unchanged: Vec<String>,
}

/// Records the bank's result: `paid` payouts move pending payout → bank (net) and platform
/// revenue (fee); `failed` ones go back to earnings, mark the seller's bank account for correction
/// and notify the seller. All or nothing: one bad id refuses the whole settlement. Settling a
/// payout again in the same way is a no-op.
///
/// Errors: 422 `unknown_payout`, `payout_listed_twice`; 409 `payout_wrong_state`.
pub async fn settle(
    db: &Db,
    paid: &[String],
    failed: &[String],
    reason: Option<&str>,
    now: Millis,
) -> Result<(SettleReport, Vec<Event>), AppError> {
    if let Some(id) = paid.iter().find(|id| failed.contains(id)) {
        return Err(PayoutError::ListedTwice(id.clone()).into());
    }
    let reason = reason
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .unwrap_or("口座情報の不備により振込できませんでした");
    let mut tx = db.begin().await?;
    let mut report = SettleReport::default();
    let mut events = vec![];
    let work = paid
        .iter()
        .map(|id| (id, PayoutCommand::MarkPaid))
        .chain(failed.iter().map(|id| (id, PayoutCommand::MarkFailed)));
    for (id, command) in work {
        let row = store::payout_by_id(&mut tx, id)
            .await?
            .ok_or_else(|| PayoutError::UnknownPayout(id.clone()))?;
        let payout = to_model(&row)?;
        let (state, transfer) = match model::decide(&payout, &command)? {
            Outcome::Changed { state, transfer } => (state, transfer),
            Outcome::Unchanged => {
                report.unchanged.push(id.clone());
                continue;
            }
        };
        let failure = (state == PayoutState::Failed).then_some(reason);
        let ok = store::update_state(
            &mut tx,
            &row,
            &StateChange {
                new_state: state.as_str(),
                batch_id: None,
                exported_at_ms: None,
                settled_at_ms: Some(now),
                failure_reason: failure,
            },
        )
        .await?;
        if !ok {
            return Err(concurrent());
        }
        if let Some(t) = &transfer {
            crate::ledger::store::apply(&mut tx, t, now).await?;
            store::link_transfer(&mut tx, &t.key, &row.id).await?;
        }
        if state == PayoutState::Failed {
            if store::mark_for_correction(&mut tx, &row, reason, now).await? {
                let after = store::bank_account(&mut tx, &row.user_id).await?;
                store::insert_bank_change(
                    &mut tx,
                    &row.user_id,
                    now,
                    "operator",
                    None,
                    "marked_for_correction",
                    None,
                    after.as_ref().map(super::audit_json).as_ref(),
                )
                .await?;
            }
            events.push(
                notifications::create(
                    &mut tx,
                    &row.user_id,
                    "payout_failed",
                    "振込できませんでした",
                    &format!(
                        "{}円の振込ができませんでした（理由: {reason}）。申請額は売上金に戻しました。振込口座を確認・修正してから、もう一度振込申請をしてください。",
                        row.amount_yen
                    ),
                    None,
                    now,
                )
                .await?,
            );
            report.failed.push(id.clone());
        } else {
            events.push(
                notifications::create(
                    &mut tx,
                    &row.user_id,
                    "payout_paid",
                    "振込が完了しました",
                    &format!(
                        "{}円（振込手数料 {}円を差し引き）を登録口座に振り込みました。",
                        row.net_yen, row.fee_yen
                    ),
                    None,
                    now,
                )
                .await?,
            );
            report.paid.push(id.clone());
        }
    }
    tx.commit().await?;
    Ok((report, events))
}
