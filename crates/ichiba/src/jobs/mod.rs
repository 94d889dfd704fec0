//! The worker loop: every second it fires the due order timers (`orders::timers`), publishes
//! reviews whose window ended, refreshes reputation, and runs the payout sweep. It sits at the top
//! of the module graph with the router: it calls features, none calls it.

use std::time::Duration;

use crate::clock::Millis;
use crate::state::AppState;

/// Fires every timer due at `now`, oldest first, each at its own due time, then runs the payout
/// sweep when it is due. Returns how many changed an order, sent a notice, or made a payout,
/// reminder or points expiry.
pub async fn run_once(state: &AppState, now: Millis) -> Result<u64, sqlx::Error> {
    let fired = crate::orders::timers::run_due(state, now).await?;
    // Sweeps that are not order timers: reviews whose window ended, and the monthly ranks.
    if let Err(e) = crate::reviews::publish_due(state, now).await {
        tracing::warn!(error = %e, "publishing due reviews failed");
    }
    crate::reputation::monthly_ranks(&state.db, now).await?;
    crate::reputation::daily_refresh(&state.db, now).await?;
    Ok(fired + payout_sweep(state, now).await)
}

/// The payout sweep (120-day rule, points expiry) after the order timers; it runs at most
/// hourly and a failure is logged without failing the order timers.
async fn payout_sweep(state: &AppState, now: Millis) -> u64 {
    match crate::payouts::sweep::run(&state.db, now).await {
        Ok((done, events)) => {
            state.hub.publish(events).await;
            done
        }
        Err(e) => {
            tracing::warn!(error = %e, "payout sweep failed; will retry");
            0
        }
    }
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
