//! The timer worker: claims due timers with a compare-and-set lease (so several instances can run
//! it without firing a timer twice at once) and fires them through the order engine with actor
//! `system`. A timer whose moment has moved on is a no-op.

pub mod store;

use std::time::Duration;

use crate::app::AppState;
use crate::clock::Millis;
use crate::orders::{self, TimerKind};

/// How long a claimed timer is reserved for its worker.
const LEASE_MS: Millis = 60_000;

/// Fires every timer due at `now`, oldest first, each at its own due time, then runs the payout
/// sweep when it is due. Returns how many changed an order, sent a notice, or made a payout,
/// reminder or points expiry.
pub async fn run_once(state: &AppState, now: Millis) -> Result<u64, sqlx::Error> {
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
    // Sweeps that are not order timers: reviews whose window ended, and the monthly ranks.
    if let Err(e) = crate::reviews::publish_due(state, now).await {
        tracing::warn!(error = %e, "publishing due reviews failed");
    }
    crate::reputation::monthly_ranks(&state.db, now).await?;
    crate::reputation::daily_refresh(&state.db, now).await?;
    Ok(fired + payout_sweep(state, now).await)
}

/// Fires the timers of one order that are already due, before a user's command on it is
/// decided: a deadline that has passed takes effect first even if the worker has not run yet
/// (a reply at 49 hours finds the order already cancelled).
pub async fn catch_up_order(
    state: &AppState,
    order_id: &str,
    now: Millis,
) -> Result<u64, sqlx::Error> {
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
            match orders::fire_timer(state, &t.order_id, kind, t.due_at_ms.min(now)).await {
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

/// The payout sweep (120-day rule, points expiry) after the order timers; it runs at most
/// hourly and a failure is logged without failing the order timers.
async fn payout_sweep(state: &AppState, now: Millis) -> u64 {
    match crate::payouts::sweep::run(&state.db, now).await {
        Ok((done, events)) => {
            state.hub.publish(events);
            done
        }
        Err(e) => {
            tracing::warn!(error = %e, "payout sweep failed; will retry");
            0
        }
    }
}

async fn mark_done(state: &AppState, id: &str) -> Result<(), sqlx::Error> {
    let mut tx = state.db.begin().await?;
    store::mark_done(&mut tx, id).await?;
    tx.commit().await
}

/// Runs the worker every second until the process ends (production clock only).
pub fn spawn_worker(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = run_once(&state, state.clock.now_ms()).await {
                tracing::warn!(error = %e, "timer worker pass failed");
            }
        }
    })
}
