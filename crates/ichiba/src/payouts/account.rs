//! The seller's bank account (振込口座): read, saved (checked against the bundled Zengin data,
//! holder name in Zengin kana; a failed payout's block lifted by saving it again) and deleted,
//! each change audited.

use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::bank::{self, AccountType, BankAccountError, BankAccountInput, BankCode, BranchCode};
use super::store::{self, BankAccountRow};
use super::sweep;
use crate::clock::{Millis, to_rfc3339};
use crate::db::Db;
use crate::error::AppError;
use crate::state::AppState;

impl From<BankAccountError> for AppError {
    fn from(e: BankAccountError) -> Self {
        match e {
            BankAccountError::Invalid(f) => AppError::Validation(f),
            e @ BankAccountError::Directory(_) => AppError::internal(e),
        }
    }
}

/// A bank account as shown: names from the Zengin data, the number masked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BankAccountView {
    /// 金融機関コード.
    pub bank_code: String,
    /// 金融機関名.
    pub bank_name: String,
    /// 支店コード.
    pub branch_code: String,
    /// 支店名.
    pub branch_name: String,
    /// 1 (普通), 2 (当座) or 4 (貯蓄).
    pub account_type: i64,
    /// 普通, 当座 or 貯蓄.
    pub account_type_name: String,
    /// Masked: `****567`.
    pub account_number: String,
    /// Holder name as it goes into the Zengin file (half-width katakana).
    pub holder_kana: String,
    /// True after a failed payout until the account is saved again; requests are refused.
    pub needs_correction: bool,
    /// The bank's reason for the failure.
    pub correction_reason: Option<String>,
    /// Last change.
    pub updated_at: String,
}

pub(super) fn names_of(bank_code: &str, branch_code: &str) -> (String, String) {
    let lookup = || -> Option<(String, String)> {
        let bank = bank::lookup_bank(&BankCode::parse(bank_code).ok()?).ok()??;
        let branch = bank::lookup_branch(bank, &BranchCode::parse(branch_code).ok()?).ok()??;
        Some((bank.name.clone(), branch.name.clone()))
    };
    // A code that left the Zengin data after it was stored is still shown, by its code.
    lookup().unwrap_or_else(|| (bank_code.to_string(), branch_code.to_string()))
}

impl From<&BankAccountRow> for BankAccountView {
    fn from(r: &BankAccountRow) -> Self {
        let (bank_name, branch_name) = names_of(&r.bank_code, &r.branch_code);
        BankAccountView {
            bank_code: r.bank_code.clone(),
            bank_name,
            branch_code: r.branch_code.clone(),
            branch_name,
            account_type: r.account_type,
            account_type_name: AccountType::parse(r.account_type)
                .map(|t| t.name().to_string())
                .unwrap_or_default(),
            account_number: bank::mask(&r.account_number),
            holder_kana: r.holder_kana.clone(),
            needs_correction: r.needs_correction == 1,
            correction_reason: r.correction_reason.clone(),
            updated_at: to_rfc3339(r.updated_at_ms),
        }
    }
}

/// What the history keeps of an account: codes, type, holder and the masked number.
pub(super) fn audit_json(r: &BankAccountRow) -> serde_json::Value {
    json!({
        "bank_code": r.bank_code, "branch_code": r.branch_code, "account_type": r.account_type,
        "account_number": bank::mask(&r.account_number), "holder_kana": r.holder_kana,
        "needs_correction": r.needs_correction == 1, "correction_reason": r.correction_reason,
    })
}

/// The caller's bank account; 404 when none is registered.
pub async fn get_bank_account(db: &Db, user_id: &str) -> Result<BankAccountView, AppError> {
    let mut conn = db.pool().acquire().await?;
    let row = store::bank_account(&mut conn, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(BankAccountView::from(&row))
}

/// Registers or replaces the caller's bank account (clearing a correction mark) and records the
/// change. Earnings past the 120-day deadline are then requested automatically.
///
/// Errors: 422 `validation_failed` with every field's problem.
pub async fn put_bank_account(
    state: &AppState,
    user_id: &str,
    input: &BankAccountInput,
    now: Millis,
) -> Result<BankAccountView, AppError> {
    let account = bank::parse_account(input)?;
    let mut tx = state.db.begin().await?;
    let before = store::bank_account(&mut tx, user_id).await?;
    store::upsert_bank_account(
        &mut tx,
        user_id,
        &store::NewBankAccount {
            bank_code: account.bank_code.as_str(),
            branch_code: account.branch_code.as_str(),
            account_type: i64::from(account.account_type.code()),
            account_number: account.account_number.as_str(),
            holder_kana: account.holder.as_str(),
        },
        now,
    )
    .await?;
    let after = store::bank_account(&mut tx, user_id)
        .await?
        .ok_or_else(|| AppError::internal("bank account vanished after upsert"))?;
    store::insert_bank_change(
        &mut tx,
        user_id,
        now,
        "user",
        Some(user_id),
        if before.is_some() {
            "updated"
        } else {
            "registered"
        },
        before.as_ref().map(audit_json).as_ref(),
        Some(&audit_json(&after)),
    )
    .await?;
    tx.commit().await?;
    // The 120-day rule: stale earnings go out as soon as there is an account to pay them to. A
    // failure here is retried by the worker's sweep, so it does not fail the registration.
    match sweep::auto_request(&state.db, user_id, now).await {
        Ok(events) => state.hub.publish(events).await,
        Err(e) => {
            tracing::warn!(user = %user_id, error = %e, "automatic payout after registration failed")
        }
    }
    Ok(BankAccountView::from(&after))
}

/// Removes the caller's bank account (open payouts keep the destination they were made with).
pub async fn delete_bank_account(db: &Db, user_id: &str, now: Millis) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    let before = store::bank_account(&mut tx, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    store::delete_bank_account(&mut tx, user_id).await?;
    store::insert_bank_change(
        &mut tx,
        user_id,
        now,
        "user",
        Some(user_id),
        "removed",
        Some(&audit_json(&before)),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
