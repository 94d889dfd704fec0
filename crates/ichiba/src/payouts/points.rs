//! Points (ポイント, 1 pt = 1 yen) from earnings: a seller converts earnings to points
//! (irreversible), and points expire one year after the user last earned points (any credit to
//! the points account), swept by the worker with their own transfer code.

use serde::Serialize;
use utoipa::ToSchema;

use super::model::{self, PayoutPolicy};
use super::store;
use crate::clock::{Millis, jst_date};
use crate::db::Db;
use crate::error::{AppError, FieldErrors};
use crate::events::Event;
use crate::idempotency::{self, IdempotencyKey};
use crate::ledger::{AccountRef, LedgerError, LedgerStoreError, TransferCode, TransferPlan};
use crate::notifications;
use crate::state::AppState;

/// The result of a conversion.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct Converted {
    /// Earnings converted.
    pub converted_yen: i64,
    /// Points received (1 pt per yen).
    pub points_added: i64,
    /// Earnings left.
    pub earnings_yen: i64,
    /// Points now held.
    pub points: i64,
    /// When these points expire unless more are earned (RFC 3339).
    pub points_expire_at: String,
    /// A Japanese confirmation that says the conversion cannot be undone.
    pub message: String,
}

/// Converts `amount_yen` of the caller's earnings to points. Irreversible. Honours an idempotency
/// key like payout requests.
///
/// Errors: 422 `validation_failed` for a non-positive amount, `insufficient_earnings`.
#[tracing::instrument(skip_all, fields(user_id = %user_id, amount_yen))]
pub async fn convert(
    state: &AppState,
    user_id: &str,
    amount_yen: i64,
    key: Option<IdempotencyKey>,
    now: Millis,
) -> Result<Converted, AppError> {
    let claim = match idempotency::begin(&state.db, key, now).await? {
        idempotency::Begun::Replay(earlier) => return Ok(earlier),
        idempotency::Begun::Fresh(claim) => claim,
    };
    if amount_yen <= 0 {
        let mut f = FieldErrors::new();
        f.add(
            "amount_yen",
            "out_of_range",
            "交換する金額は1円以上の整数で指定してください。",
        );
        return Err(f.into());
    }
    let earnings = AccountRef::Earnings(user_id.to_string());
    let points = AccountRef::Points(user_id.to_string());
    let mut tx = state.db.begin().await?;
    let available = crate::ledger::store::balance(&mut tx, &earnings).await?;
    let insufficient = || super::PayoutError::InsufficientEarnings {
        available_yen: available,
    };
    if amount_yen > available {
        return Err(insufficient().into());
    }
    let plan = TransferPlan {
        key: format!("points:{user_id}:convert:{}", crate::db::new_id()),
        code: TransferCode::PointsConversion,
        order_id: None,
        memo: format!("売上金 {amount_yen}円をポイントに交換（取り消しできません）"),
        entries: vec![
            (earnings.clone(), -amount_yen),
            (points.clone(), amount_yen),
        ],
    };
    match crate::ledger::store::apply(&mut tx, &plan, now).await {
        Ok(_) => {}
        Err(LedgerStoreError::Ledger(LedgerError::InsufficientFunds(_))) => {
            return Err(insufficient().into());
        }
        Err(e) => return Err(e.into()),
    }
    let policy = PayoutPolicy::default();
    let body = Converted {
        converted_yen: amount_yen,
        points_added: amount_yen,
        earnings_yen: crate::ledger::store::balance(&mut tx, &earnings).await?,
        points: crate::ledger::store::balance(&mut tx, &points).await?,
        points_expire_at: crate::clock::to_rfc3339(model::points_expire_at(&policy, now)),
        message: format!(
            "売上金 {amount_yen}円を {amount_yen}ポイントに交換しました。ポイントから売上金に戻すことはできません。ポイントは最後にポイントを獲得した日から{}か月で失効します。",
            policy.points_valid_months
        ),
    };
    claim.commit(tx, &body).await?;
    Ok(body)
}

/// Expires the user's points when a year has passed since they last earned any. Returns the
/// notification event, if points expired.
pub async fn expire(db: &Db, user_id: &str, now: Millis) -> Result<Vec<Event>, AppError> {
    let policy = PayoutPolicy::default();
    let points = AccountRef::Points(user_id.to_string());
    let mut tx = db.begin().await?;
    let Some(last) = store::last_credit_at(&mut tx, &points).await? else {
        return Ok(vec![]);
    };
    let expires = model::points_expire_at(&policy, last);
    let balance = crate::ledger::store::balance(&mut tx, &points).await?;
    if now < expires || balance <= 0 {
        return Ok(vec![]);
    }
    let plan = TransferPlan {
        // One expiry per last-earned moment: earning again starts a new year.
        key: format!("points:{user_id}:expiry:{last}"),
        code: TransferCode::PointsExpiry,
        order_id: None,
        memo: format!(
            "有効期限（{}）を過ぎた {balance}ポイントが失効しました",
            jst_date(expires)
        ),
        entries: vec![(points, -balance), (AccountRef::PlatformRevenue, balance)],
    };
    if !crate::ledger::store::apply(&mut tx, &plan, now).await? {
        return Ok(vec![]);
    }
    let event = notifications::create(
        &mut tx,
        user_id,
        "points_expired",
        "ポイントが失効しました",
        &format!(
            "最後にポイントを獲得してから{}か月が過ぎたため、{balance}ポイントが失効しました。",
            policy.points_valid_months
        ),
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(vec![event])
}
