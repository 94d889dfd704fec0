//! Order timers (the first-reply deadline, auto-acceptance, the room cap, cancel-request expiry,
//! reminders): rows of one table, claimed with a compare-and-set lease so several instances can
//! fire them without firing one twice at once, and fired through the engine with actor `system`.
//! A timer whose moment has moved on is a no-op; timers a transition makes pointless are cleared
//! in the transition's own transaction.

use super::model::{Actor, Command, TimerKind};
use super::{OrderError, model, store};
use crate::clock::Millis;
use crate::state::AppState;

/// How long a claimed timer is reserved for its worker.
const LEASE_MS: Millis = 60_000;

/// Fires every order timer due at `now`, oldest first, each at its own due time. Returns how many
/// changed an order or sent a notice.
pub async fn run_due(state: &AppState, now: Millis) -> Result<u64, sqlx::Error> {
    let mut fired = 0;
    loop {
        let due = {
            let mut conn = state.db.pool().acquire().await?;
            store::due(&mut conn, now, 100).await?
        };
        if due.is_empty() {
            break;
        }
        fired += fire(state, due, now).await?;
    }
    Ok(fired)
}

/// Fires the timers of one order that are already due, before a user's command on it is
/// decided: a deadline that has passed takes effect first even if the worker has not run yet
/// (a reply at 49 hours finds the order already cancelled).
pub async fn catch_up(state: &AppState, order_id: &str, now: Millis) -> Result<u64, sqlx::Error> {
    let due = {
        let mut conn = state.db.pool().acquire().await?;
        store::due_for_order(&mut conn, order_id, now).await?
    };
    if due.is_empty() {
        return Ok(0);
    }
    fire(state, due, now).await
}

async fn fire(
    state: &AppState,
    due: Vec<store::TimerRow>,
    now: Millis,
) -> Result<u64, sqlx::Error> {
    let mut fired = 0;
    {
        for t in due {
            let claimed = {
                let mut tx = state.db.begin().await?;
                let ok = store::claim(&mut tx, &t.id, t.lease_until_ms, now + LEASE_MS).await?;
                tx.commit().await?;
                ok
            };
            if !claimed {
                continue; // another worker has it
            }
            let Some(kind) = TimerKind::parse(&t.kind) else {
                tracing::error!(timer = %t.id, kind = %t.kind, "unknown timer kind; marking done");
                mark_done(state, &t.id).await?;
                continue;
            };
            // Fire at the timer's own moment: with the dev clock jumping days at once, events
            // still happen in order and at the times the rules name.
            match fire_timer(state, &t.order_id, kind, t.due_at_ms.min(now)).await {
                Ok(changed) => {
                    mark_done(state, &t.id).await?;
                    if changed {
                        fired += 1;
                    }
                }
                Err(e) => {
                    // Left claimed: retried when the lease runs out.
                    tracing::warn!(timer = %t.id, order = %t.order_id, error = %e, "timer failed; will retry");
                }
            }
        }
    }
    Ok(fired)
}

async fn mark_done(state: &AppState, id: &str) -> Result<(), sqlx::Error> {
    let mut tx = state.db.begin().await?;
    store::mark_done(&mut tx, id).await?;
    tx.commit().await
}

/// Fires one timer through the same path with actor `system`. A timer whose moment has moved on
/// changes nothing. Returns whether the order changed or a notice was sent.
#[tracing::instrument(skip_all, fields(order_id = %order_id, timer = ?kind))]
pub async fn fire_timer(
    state: &AppState,
    order_id: &str,
    kind: TimerKind,
    now: Millis,
) -> Result<bool, OrderError> {
    let mut tx = state.db.begin().await?;
    let Some(order) = store::order_by_id(&mut tx, order_id).await? else {
        return Ok(false);
    };
    let decision = model::decide(&order, &Command::Timer(kind), Actor::System, now)?;
    if decision.unchanged && decision.notices.is_empty() {
        return Ok(false);
    }
    super::commit_decision(state, tx, &order, &decision, Actor::System, None, None, now).await?;
    Ok(true)
}
