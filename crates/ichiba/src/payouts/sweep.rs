//! The periodic payout sweep run by the timer worker (`jobs::run_once`), at most once an hour
//! across all instances (claimed with a compare-and-set on `payout_sweeps`):
//!
//! - the 120-day rule, without forfeiture: when a seller's earnings include credits older than
//!   120 days (first in, first out) and a usable bank account is registered, the whole available
//!   earnings are requested automatically; without one, the seller is reminded 30, 7 and 1 days
//!   before each deadline (and the request follows as soon as an account is registered);
//! - points expiry, one year after the user last earned points.
//!
//! The sweep reads the ledger itself, so it needs no timers of its own and works unchanged with
//! the dev clock.

use super::model::{self, Origin, PayoutError, PayoutPolicy};
use super::{create_in_tx, points, store};
use crate::clock::{Millis, jst_date};
use crate::db::Db;
use crate::error::AppError;
use crate::events::Event;
use crate::ledger::AccountRef;
use crate::notifications;

/// The sweep's name in `payout_sweeps`.
const SWEEP_NAME: &str = "payouts";
/// How often the sweep runs at most.
pub const SWEEP_INTERVAL_MS: Millis = 3600 * 1000;

/// Runs the sweep if it is due. Returns how many payouts, reminders and expiries it made and the
/// events to publish. One user's failure is logged and does not stop the others.
pub async fn run(db: &Db, now: Millis) -> Result<(u64, Vec<Event>), sqlx::Error> {
    // A plain read first: the worker ticks every second and should not take SQLite's write lock
    // each time only to learn that the sweep ran minutes ago.
    let recent = {
        let mut conn = db.pool().acquire().await?;
        store::last_sweep(&mut conn, SWEEP_NAME).await?
    };
    if recent.is_some_and(|last| last > now - SWEEP_INTERVAL_MS) {
        return Ok((0, vec![]));
    }
    let claimed = {
        let mut tx = db.begin().await?;
        let ok = store::claim_sweep(&mut tx, SWEEP_NAME, now, SWEEP_INTERVAL_MS).await?;
        tx.commit().await?;
        ok
    };
    if !claimed {
        return Ok((0, vec![]));
    }
    let (sellers, point_holders) = {
        let mut conn = db.pool().acquire().await?;
        (
            store::owners_with_balance(&mut conn, "earnings").await?,
            store::owners_with_balance(&mut conn, "points").await?,
        )
    };
    let mut done = 0;
    let mut events = vec![];
    for user in sellers {
        match auto_request(db, &user, now).await {
            Ok(ev) => {
                done += ev.len() as u64;
                events.extend(ev);
            }
            Err(e) => {
                tracing::warn!(user = %user, error = %e, "120-day payout sweep failed for a user")
            }
        }
    }
    for user in point_holders {
        match points::expire(db, &user, now).await {
            Ok(ev) => {
                done += ev.len() as u64;
                events.extend(ev);
            }
            Err(e) => tracing::warn!(user = %user, error = %e, "points expiry failed for a user"),
        }
    }
    Ok((done, events))
}

/// Applies the 120-day rule to one seller: an automatic request when earnings are past the
/// deadline and a usable bank account is registered, else the reminder due now (once each).
/// Returns the events to publish (empty when nothing was done).
pub async fn auto_request(db: &Db, user_id: &str, now: Millis) -> Result<Vec<Event>, AppError> {
    let policy = PayoutPolicy::default();
    let earnings = AccountRef::Earnings(user_id.to_string());
    let mut tx = db.begin().await?;
    let (credits, used) = store::flows(&mut tx, &earnings).await?;
    let ageing = model::age_earnings(&policy, &credits, used, now);
    let account = store::bank_account(&mut tx, user_id).await?;
    let usable = account.as_ref().is_some_and(|a| a.needs_correction == 0);
    let mut events = vec![];
    if usable {
        if ageing.stale_yen == 0 || store::open_payout_of(&mut tx, user_id).await?.is_some() {
            // Nothing is due, or a payout is on its way (the rest follows after it).
            return Ok(events);
        }
        // Request everything available, not only the stale part: one fee instead of many.
        let available = crate::ledger::store::balance(&mut tx, &earnings).await?;
        let quote = match model::quote(&policy, available) {
            Ok(q) => q,
            // Too little to pay out after the fee: it stays as earnings (nothing is forfeited;
            // the seller may convert it to points).
            Err(PayoutError::AmountTooSmall { .. } | PayoutError::InvalidAmount) => {
                return Ok(events);
            }
            Err(e) => return Err(e.into()),
        };
        let (_, event) = create_in_tx(&mut tx, user_id, quote, Origin::Automatic, now).await?;
        events.push(event);
    } else if let Some(deadline) = ageing.next_deadline
        && let Some(days) = model::reminder_due(&policy, deadline, now)
        && store::record_reminder(&mut tx, user_id, deadline, days, now).await?
    {
        let body = format!(
            "売上金の一部が{}に売上確定から{}日を迎えます（あと{}日以内）。振込口座を登録していただくと、その日に自動で振込申請されます。売上金が失効することはありません。",
            jst_date(deadline),
            policy.auto_request_after_days,
            days
        );
        events.push(
            notifications::create(
                &mut tx,
                user_id,
                "payout_deadline_reminder",
                "振込口座を登録してください",
                &body,
                None,
                now,
            )
            .await?,
        );
    }
    tx.commit().await?;
    Ok(events)
}
