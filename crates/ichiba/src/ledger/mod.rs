//! The double-entry, append-only ledger: every yen that moves is a transfer whose entries sum to
//! zero, keyed for idempotency. Users read their balances and entries here; operators verify the
//! whole ledger.

pub mod http;
pub mod model;
pub mod store;

pub use model::{AccountRef, LedgerError, TransferCode, TransferPlan};
pub use store::{LedgerStoreError, Verification};

use serde::Serialize;
use utoipa::ToSchema;

use crate::clock::to_rfc3339;
use crate::cursor::{decode_key_cursor, encode_cursor};
use crate::db::Db;
use crate::error::AppError;

/// A user's balances (`GET /me/balance`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Balance {
    /// Available earnings (売上金).
    pub earnings_yen: i64,
    /// Requested payouts not yet paid.
    pub payout_pending_yen: i64,
    /// Points.
    pub points: i64,
}

/// One entry of a user's ledger.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LedgerLine {
    /// Entry id.
    pub id: String,
    /// `earnings`, `points` or `payout_pending`.
    pub account: String,
    /// Signed amount (points for the points account).
    pub amount_yen: i64,
    /// Transfer code (`purchase`, `release`, `refund`, …).
    pub code: String,
    /// The order, if any.
    pub order_id: Option<String>,
    /// Description.
    pub memo: String,
    /// When.
    pub at: String,
    /// The payout this line belongs to (payout request, payment, return), with its status now.
    pub payout: Option<LedgerPayout>,
}

/// The payout behind a ledger line, so a seller can reconcile requests, fees and payments.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LedgerPayout {
    /// Payout id.
    pub id: String,
    /// `pending`, `exported`, `paid` or `failed`.
    pub status: String,
    /// Transfer fee of the payout.
    pub fee_yen: i64,
    /// What reaches (or reached) the bank account.
    pub net_yen: i64,
    /// Payment date (YYYY-MM-DD, JST).
    pub scheduled_for: String,
}

impl From<store::EntryRow> for LedgerLine {
    fn from(r: store::EntryRow) -> Self {
        let payout = match (r.payout_id, r.payout_state) {
            (Some(id), Some(status)) => Some(LedgerPayout {
                id,
                status,
                fee_yen: r.payout_fee_yen.unwrap_or(0),
                net_yen: r.payout_net_yen.unwrap_or(0),
                scheduled_for: r.payout_scheduled_for.unwrap_or_default(),
            }),
            _ => None,
        };
        LedgerLine {
            id: r.entry_id,
            account: r.account_kind,
            amount_yen: r.amount_yen,
            code: r.code,
            order_id: r.order_id,
            memo: r.memo,
            at: to_rfc3339(r.at_ms),
            payout,
        }
    }
}

/// A page of ledger lines.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LedgerPage {
    /// Lines, newest first.
    pub items: Vec<LedgerLine>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
}

/// The user's balances.
pub async fn balance(db: &Db, user_id: &str) -> Result<Balance, sqlx::Error> {
    let mut conn = db.pool().acquire().await?;
    let u = user_id.to_string();
    Ok(Balance {
        earnings_yen: store::balance(&mut conn, &AccountRef::Earnings(u.clone())).await?,
        payout_pending_yen: store::balance(&mut conn, &AccountRef::PayoutPending(u.clone()))
            .await?,
        points: store::balance(&mut conn, &AccountRef::Points(u)).await?,
    })
}

/// A page of the user's ledger lines.
pub async fn lines(db: &Db, user_id: &str, cursor: Option<&str>) -> Result<LedgerPage, AppError> {
    let before = decode_key_cursor(cursor)?;
    let limit = 50;
    let mut conn = db.pool().acquire().await?;
    let mut rows = store::entries_of_user(&mut conn, user_id, before, limit).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = match (more, rows.last()) {
        (true, Some(last)) => Some(encode_cursor(&last.at_ms.to_string(), &last.entry_id)),
        _ => None,
    };
    Ok(LedgerPage {
        items: rows.into_iter().map(LedgerLine::from).collect(),
        next_cursor,
    })
}

/// Recomputes and checks the whole ledger.
pub async fn verify(db: &Db) -> Result<Verification, sqlx::Error> {
    let mut conn = db.pool().acquire().await?;
    store::verify(&mut conn).await
}
