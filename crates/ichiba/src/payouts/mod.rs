//! Payouts (振込申請): the seller's bank account (振込口座, in `account.rs`), payout requests that
//! move earnings to a pending payout, the operator's batches (a Zengin 総合振込 file, then paid or failed), the
//! 120-day rule that requests old earnings automatically, and the conversion of earnings to
//! points. Every command runs in one database transaction; events are published after commit.

mod account;
pub mod bank;
pub mod batch;
pub mod calendar;
pub mod http;
pub mod kana;
pub mod ledger_csv;
pub mod model;
pub mod points;
pub mod store;
pub mod sweep;
pub mod zengin;

use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

pub use account::{BankAccountView, delete_bank_account, get_bank_account, put_bank_account};
pub use model::{PayoutError, PayoutPolicy, PayoutState};

use crate::clock::{Millis, to_rfc3339};
use crate::cursor::{decode_key_cursor, encode_cursor};
use crate::db::{Db, new_id};
use crate::error::{AppError, FieldErrors};
use crate::events::Event;
use crate::idempotency::{self, IdempotencyKey};
use crate::ledger::{AccountRef, LedgerError, LedgerStoreError};
use crate::notifications;
use crate::state::AppState;
use account::{audit_json, names_of};
use model::{Origin, Payout, Quote};
use store::PayoutRow;

impl From<PayoutError> for AppError {
    fn from(e: PayoutError) -> Self {
        let rule = |code, message: String, details| AppError::Rule {
            code,
            message,
            details,
        };
        match e {
            PayoutError::InvalidAmount => {
                let mut f = FieldErrors::new();
                f.add(
                    "amount_yen",
                    "out_of_range",
                    "金額は1円以上の整数で指定してください。",
                );
                AppError::Validation(f)
            }
            PayoutError::AmountTooSmall { min_yen } => rule(
                "amount_too_small",
                format!(
                    "振込手数料を差し引くと振込額が0円以下になります。{min_yen}円以上で申請してください。"
                ),
                json!({ "min_yen": min_yen }),
            ),
            PayoutError::InsufficientEarnings { available_yen } => rule(
                "insufficient_earnings",
                format!("申請額が振込申請できる売上金（{available_yen}円）を超えています。"),
                json!({ "available_yen": available_yen }),
            ),
            PayoutError::AlreadyOpen => AppError::Conflict {
                code: "payout_already_requested",
                message: "処理中の振込申請があります。振込が完了してから次の申請を行ってください。"
                    .into(),
            },
            PayoutError::NoBankAccount => rule(
                "bank_account_required",
                "振込先の口座が登録されていません。先に振込口座を登録してください。".into(),
                json!({}),
            ),
            PayoutError::BankAccountNeedsCorrection { reason } => rule(
                "bank_account_needs_correction",
                "前回の振込が口座情報の不備で失敗しました。振込口座を確認・修正してから申請してください。"
                    .into(),
                json!({ "reason": reason }),
            ),
            PayoutError::WrongState { id, state, wanted } => AppError::Conflict {
                code: "payout_wrong_state",
                message: format!(
                    "振込申請 {id} は現在「{state}」のため、{wanted} にできません。"
                ),
            },
            PayoutError::UnknownPayout(id) => rule(
                "unknown_payout",
                format!("振込申請 {id} が見つかりません。"),
                json!({ "payout_id": id }),
            ),
            PayoutError::ListedTwice(id) => rule(
                "payout_listed_twice",
                format!("振込申請 {id} が振込済みと振込失敗の両方に指定されています。"),
                json!({ "payout_id": id }),
            ),
            PayoutError::NothingToExport => rule(
                "nothing_to_export",
                "指定日までに振込予定の申請はありません。".into(),
                json!({}),
            ),
            PayoutError::NotBusinessDay(d) => rule(
                "not_a_business_day",
                format!("{d} は銀行営業日ではありません。振込指定日には銀行営業日を指定してください。"),
                json!({ "pay_date": d.to_string() }),
            ),
            e @ PayoutError::Calendar(_) => AppError::internal(e),
        }
    }
}

/// Maps a ledger failure of a payout: an account that would go negative means the earnings are
/// not there (a concurrent request took them).
fn ledger_error(e: LedgerStoreError, available_yen: i64) -> AppError {
    match e {
        LedgerStoreError::Ledger(LedgerError::InsufficientFunds(_)) => {
            PayoutError::InsufficientEarnings { available_yen }.into()
        }
        LedgerStoreError::Ledger(e @ LedgerError::Unbalanced { .. }) => AppError::internal(e),
        LedgerStoreError::Db(e) => AppError::internal(e),
    }
}

/// A payout as shown to its seller (and operators).
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct PayoutView {
    /// Id.
    pub id: String,
    /// Requested amount (left earnings).
    pub amount_yen: i64,
    /// Transfer fee.
    pub fee_yen: i64,
    /// Paid to the bank account.
    pub net_yen: i64,
    /// `pending`, `exported`, `paid` or `failed`.
    pub status: PayoutState,
    /// 振込待ち, 振込処理中, 振込完了 or 振込失敗.
    pub status_label: String,
    /// Payment date (YYYY-MM-DD, JST).
    pub scheduled_for: String,
    /// `user` or `automatic` (the 120-day rule).
    pub origin: String,
    /// When requested.
    pub requested_at: String,
    /// Destination bank.
    pub bank_name: String,
    /// Destination branch.
    pub branch_name: String,
    /// Destination account, masked.
    pub account_number: String,
    /// When handed to the bank in a Zengin file.
    pub exported_at: Option<String>,
    /// When paid or failed.
    pub settled_at: Option<String>,
    /// Why it failed.
    pub failure_reason: Option<String>,
}

impl From<&PayoutRow> for PayoutView {
    fn from(r: &PayoutRow) -> Self {
        let (bank_name, branch_name) = names_of(&r.bank_code, &r.branch_code);
        let status = PayoutState::parse(&r.state).unwrap_or(PayoutState::Pending);
        PayoutView {
            id: r.id.clone(),
            amount_yen: r.amount_yen,
            fee_yen: r.fee_yen,
            net_yen: r.net_yen,
            status,
            status_label: status.label().to_string(),
            scheduled_for: r.scheduled_for.clone(),
            origin: r.origin.clone(),
            requested_at: to_rfc3339(r.requested_at_ms),
            bank_name,
            branch_name,
            account_number: bank::mask(&r.account_number),
            exported_at: r.exported_at_ms.map(to_rfc3339),
            settled_at: r.settled_at_ms.map(to_rfc3339),
            failure_reason: r.failure_reason.clone(),
        }
    }
}

/// Reads a stored payout into the model (a row that cannot be read is corrupt).
pub(crate) fn to_model(r: &PayoutRow) -> Result<Payout, AppError> {
    let corrupt = |what: &str| AppError::internal(format!("corrupt payout {}: {what}", r.id));
    Ok(Payout {
        id: r.id.clone(),
        user_id: r.user_id.clone(),
        state: PayoutState::parse(&r.state).ok_or_else(|| corrupt("state"))?,
        version: r.version,
        quote: Quote {
            amount_yen: r.amount_yen,
            fee_yen: r.fee_yen,
            net_yen: r.net_yen,
        },
        requested_at: r.requested_at_ms,
        scheduled_for: chrono::NaiveDate::parse_from_str(&r.scheduled_for, "%Y-%m-%d")
            .map_err(|_| corrupt("scheduled_for"))?,
    })
}

/// Creates a payout in the caller's transaction after checking the account, the open request and
/// the earnings: inserts the row, moves the money earnings → pending payout, links the transfer
/// and notifies the seller. Returns the row and the event to publish after commit.
///
/// The unique index on open payouts and the ledger's non-negative guard make two concurrent
/// requests safe on both backends: the loser gets `payout_already_requested` or
/// `insufficient_earnings`, never a double effect.
pub(crate) async fn create_in_tx(
    tx: &mut sqlx::AnyConnection,
    user_id: &str,
    quote: Quote,
    origin: Origin,
    now: Millis,
) -> Result<(PayoutRow, Event), AppError> {
    let policy = PayoutPolicy::default();
    let account = store::bank_account(tx, user_id)
        .await?
        .ok_or(PayoutError::NoBankAccount)?;
    if account.needs_correction == 1 {
        return Err(PayoutError::BankAccountNeedsCorrection {
            reason: account.correction_reason,
        }
        .into());
    }
    if store::open_payout_of(tx, user_id).await?.is_some() {
        return Err(PayoutError::AlreadyOpen.into());
    }
    let available =
        crate::ledger::store::balance(tx, &AccountRef::Earnings(user_id.to_string())).await?;
    if quote.amount_yen > available {
        return Err(PayoutError::InsufficientEarnings {
            available_yen: available,
        }
        .into());
    }
    let scheduled = model::scheduled_for(&policy, now).map_err(PayoutError::from)?;
    let row = PayoutRow {
        id: new_id(),
        user_id: user_id.to_string(),
        state: PayoutState::Pending.as_str().to_string(),
        version: 1,
        origin: origin.as_str().to_string(),
        amount_yen: quote.amount_yen,
        fee_yen: quote.fee_yen,
        net_yen: quote.net_yen,
        requested_at_ms: now,
        scheduled_for: scheduled.format("%Y-%m-%d").to_string(),
        bank_code: account.bank_code.clone(),
        branch_code: account.branch_code.clone(),
        account_type: account.account_type,
        account_number: account.account_number.clone(),
        holder_kana: account.holder_kana.clone(),
        batch_id: None,
        exported_at_ms: None,
        settled_at_ms: None,
        failure_reason: None,
    };
    if let Err(e) = store::insert_payout(tx, &row).await {
        return Err(if crate::db::is_unique_violation(&e) {
            PayoutError::AlreadyOpen.into()
        } else {
            e.into()
        });
    }
    let transfer = model::request_transfer(&to_model(&row)?);
    crate::ledger::store::apply(tx, &transfer, now)
        .await
        .map_err(|e| ledger_error(e, available))?;
    store::link_transfer(tx, &transfer.key, &row.id).await?;
    let (title, body) = match origin {
        Origin::User => (
            "振込申請を受け付けました",
            format!(
                "{}円の振込申請を受け付けました（振込手数料 {}円、振込額 {}円）。{}に振り込まれる予定です。",
                quote.amount_yen, quote.fee_yen, quote.net_yen, row.scheduled_for
            ),
        ),
        Origin::Automatic => (
            "売上金を自動で振込申請しました",
            format!(
                "売上確定から{}日を過ぎた売上金があるため、{}円を自動で振込申請しました（振込手数料 {}円、振込額 {}円、{}振込予定）。",
                policy.auto_request_after_days,
                quote.amount_yen,
                quote.fee_yen,
                quote.net_yen,
                row.scheduled_for
            ),
        ),
    };
    let kind = match origin {
        Origin::User => "payout_requested",
        Origin::Automatic => "payout_auto_requested",
    };
    let event = notifications::create(tx, user_id, kind, title, &body, None, now).await?;
    Ok((row, event))
}

/// Requests a payout of `amount_yen` (振込申請). Honours an idempotency key: the same key and body
/// returns the first result.
///
/// Errors: 422 for an amount the fee would consume, more than the available earnings, no bank
/// account or one that needs correction; 409 while another request is open.
#[tracing::instrument(skip_all, fields(user_id = %user_id, amount_yen))]
pub async fn request(
    state: &AppState,
    user_id: &str,
    amount_yen: i64,
    key: Option<IdempotencyKey>,
    now: Millis,
) -> Result<PayoutView, AppError> {
    let claim = match idempotency::begin(&state.db, key, now).await? {
        idempotency::Begun::Replay(earlier) => return Ok(earlier),
        idempotency::Begun::Fresh(claim) => claim,
    };
    let quote = model::quote(&PayoutPolicy::default(), amount_yen)?;
    let mut tx = state.db.begin().await?;
    let (row, event) = create_in_tx(&mut tx, user_id, quote, Origin::User, now).await?;
    let view = PayoutView::from(&row);
    claim.commit(tx, &view).await?;
    state.hub.publish(vec![event]).await;
    Ok(view)
}

/// A page of payouts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PayoutPage {
    /// Newest first.
    pub items: Vec<PayoutView>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
}

/// A page of the user's payouts, newest first.
pub async fn list(db: &Db, user_id: &str, cursor: Option<&str>) -> Result<PayoutPage, AppError> {
    let before = decode_key_cursor(cursor)?;
    let limit = 50;
    let mut conn = db.pool().acquire().await?;
    let mut rows = store::payouts_of_user(&mut conn, user_id, before, limit).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = match (more, rows.last()) {
        (true, Some(last)) => Some(encode_cursor(&last.requested_at_ms.to_string(), &last.id)),
        _ => None,
    };
    Ok(PayoutPage {
        items: rows.iter().map(PayoutView::from).collect(),
        next_cursor,
    })
}

/// Exports a batch for a pay date written `YYYY-MM-DD` (operators: the API and the console). See
/// [`batch::parse_pay_date`] and [`batch::export`].
pub async fn export_batch(
    state: &AppState,
    operator_id: &str,
    pay_date: &str,
) -> Result<batch::Exported, AppError> {
    let pay_date = batch::parse_pay_date(pay_date)?;
    let now = state.clock.now_ms();
    batch::export(&state.db, &state.config.zengin, pay_date, operator_id, now).await
}

/// Records the bank's result (operators) and publishes the sellers' notifications. See
/// [`batch::settle`].
pub async fn settle_batch(
    state: &AppState,
    paid: &[String],
    failed: &[String],
    reason: Option<&str>,
) -> Result<batch::SettleReport, AppError> {
    let now = state.clock.now_ms();
    let (report, events) = batch::settle(&state.db, paid, failed, reason, now).await?;
    state.hub.publish(events).await;
    Ok(report)
}

/// An exported batch with its payouts (operators).
pub async fn batch_view(db: &Db, id: &str) -> Result<http::BatchView, AppError> {
    let (b, payouts) = batch::batch(db, id).await?;
    Ok(http::BatchView {
        id: b.id,
        pay_date: b.pay_date,
        payout_count: b.payout_count,
        total_yen: b.total_yen,
        created_at: to_rfc3339(b.created_at_ms),
        created_by: b.created_by,
        payouts,
    })
}

/// A stored Zengin file, ready to download again.
#[derive(Debug, Clone)]
pub struct BatchFile {
    /// The file name offered (`zengin-YYYYMMDD-<last 8 of the id>.txt`).
    pub name: String,
    /// The batch.
    pub batch_id: String,
    /// Transfers in the file.
    pub payout_count: usize,
    /// Their sum.
    pub total_yen: i64,
    /// The file (Shift_JIS, CRLF).
    pub bytes: Vec<u8>,
}

/// The Zengin file of an exported batch (operators); 404 for an unknown batch.
pub async fn batch_file(db: &Db, id: &str) -> Result<BatchFile, AppError> {
    let (b, payouts) = batch::batch(db, id).await?;
    let name = format!(
        "zengin-{}-{}.txt",
        b.pay_date.replace('-', ""),
        &b.id[b.id.len().saturating_sub(8)..]
    );
    Ok(BatchFile {
        name,
        payout_count: payouts.len(),
        batch_id: b.id,
        total_yen: b.total_yen,
        bytes: b.file_bytes,
    })
}

/// A payout in the operators' queue, with its seller.
#[derive(Debug, Clone)]
pub struct QueuedPayout {
    /// The seller.
    pub user_id: String,
    /// The batch it was exported in, if any.
    pub batch_id: Option<String>,
    /// The payout.
    pub payout: PayoutView,
}

/// A batch without its file.
#[derive(Debug, Clone)]
pub struct BatchSummary {
    /// Id.
    pub id: String,
    /// 振込指定日 (YYYY-MM-DD).
    pub pay_date: String,
    /// Transfers.
    pub payout_count: i64,
    /// Their sum.
    pub total_yen: i64,
    /// When exported.
    pub created_at: String,
    /// Operator id, or `cli`.
    pub created_by: String,
}

/// What the operators have to do with payouts.
#[derive(Debug, Clone)]
pub struct PayoutQueue {
    /// 振込待ち: pending payouts, oldest first (at most 500).
    pub pending: Vec<QueuedPayout>,
    /// Sum of their nets.
    pub pending_net_yen: i64,
    /// 振込処理中: exported payouts waiting for the bank's result, oldest first (at most 500).
    pub exported: Vec<QueuedPayout>,
    /// Sum of their nets.
    pub exported_net_yen: i64,
    /// The 20 latest batches.
    pub batches: Vec<BatchSummary>,
}

/// The operators' payout queue: pending and exported payouts and the latest batches.
pub async fn queue(db: &Db) -> Result<PayoutQueue, AppError> {
    let mut conn = db.pool().acquire().await?;
    let queued = |rows: Vec<PayoutRow>| -> Vec<QueuedPayout> {
        rows.iter()
            .map(|r| QueuedPayout {
                user_id: r.user_id.clone(),
                batch_id: r.batch_id.clone(),
                payout: PayoutView::from(r),
            })
            .collect()
    };
    let pending =
        queued(store::payouts_in_state(&mut conn, PayoutState::Pending.as_str(), 500).await?);
    let exported =
        queued(store::payouts_in_state(&mut conn, PayoutState::Exported.as_str(), 500).await?);
    let batches = store::recent_batches(&mut conn, 20)
        .await?
        .into_iter()
        .map(|b| BatchSummary {
            id: b.id,
            pay_date: b.pay_date,
            payout_count: b.payout_count,
            total_yen: b.total_yen,
            created_at: to_rfc3339(b.created_at_ms),
            created_by: b.created_by,
        })
        .collect();
    Ok(PayoutQueue {
        pending_net_yen: pending.iter().map(|p| p.payout.net_yen).sum(),
        exported_net_yen: exported.iter().map(|p| p.payout.net_yen).sum(),
        pending,
        exported,
        batches,
    })
}
