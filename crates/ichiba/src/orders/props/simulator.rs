//! The simulator: drives the real engine (`purchase`, then `decide` step by step) through a
//! generated deal and follows it like the service does — an in-memory ledger that applies each
//! transfer once per key and a timer table whose due timers fire in order at their own moment as
//! `system`. Every step is checked against the oracle, then the order's invariants and the money.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::oracle::{self, Want, may_file};
use super::{BUYER, Bought, Cmd, DueAt, Share, Step, T0, code_of, input};
use crate::clock::Millis;
use crate::ledger::{AccountRef, TransferCode, TransferPlan};
use crate::orders::model::{
    Actor, Command, Decision, Order, OrderState, PurchaseInput, Side, TimerKind, decide, purchase,
};
use crate::orders::policy::{DAY_MS, HOUR_MS, Policy};

// ---- The in-memory ledger ------------------------------------------------------------------

/// Balances per account; a transfer key is applied once, zero amounts are dropped and a user
/// account may never go below zero — the rules of `ledger::store::apply`.
#[derive(Debug, Default)]
struct Ledger {
    balances: HashMap<AccountRef, i64>,
    keys: HashSet<String>,
}

impl Ledger {
    fn apply(&mut self, t: &TransferPlan) -> Result<(), TestCaseError> {
        let sum: i64 = t.entries.iter().map(|(_, a)| a).sum();
        prop_assert_eq!(sum, 0, "transfer {} does not balance", t.key);
        prop_assert!(t.check_balanced().is_ok());
        if !self.keys.insert(t.key.clone()) {
            return Ok(()); // applied before: the store skips it
        }
        for (account, amount) in t.entries.iter().filter(|(_, a)| *a != 0) {
            let b = self.balances.entry(account.clone()).or_insert(0);
            *b += amount;
            prop_assert!(
                account.may_go_negative() || *b >= 0,
                "{} went negative ({}) by {}",
                account.id(),
                *b,
                t.key
            );
        }
        Ok(())
    }

    fn get(&self, a: &AccountRef) -> i64 {
        self.balances.get(a).copied().unwrap_or(0)
    }
}

// ---- The simulation ------------------------------------------------------------------------

/// A deal in progress: the order as the engine left it, the ledger and timer table that follow
/// it, and the clock.
pub(super) struct Sim {
    pub(super) order: Order,
    ledger: Ledger,
    /// Scheduled timers: (due, sequence, kind).
    timers: Vec<(Millis, u64, TimerKind)>,
    timer_seq: u64,
    pub(super) now: Millis,
    /// Points the buyer held before the purchase.
    points_before: i64,
    /// The order as it first reached a terminal state.
    terminal: Option<Order>,
    next_request: u64,
}

impl Sim {
    /// Buys `b` at `T0` with the buyer's points seeded, checking the purchase against the rules.
    pub(super) fn start(b: &Bought) -> Result<Sim, TestCaseError> {
        let subtotal = b.price_yen + b.options.iter().map(|(p, _)| p).sum::<i64>();
        let total = subtotal + subtotal * 55 / 1000;
        let points = total * b.points_permille / 1000;
        let policy = Policy {
            send_backs_allowed: b.send_backs_allowed,
            ..Policy::default()
        };
        let mut ledger = Ledger::default();
        let points_before = points + b.spare_points;
        // The buyer's points came in from outside before the purchase.
        ledger.apply(&TransferPlan {
            key: "seed:points".into(),
            code: TransferCode::Purchase,
            order_id: None,
            memo: String::new(),
            entries: vec![
                (AccountRef::Gateway, -points_before),
                (AccountRef::Points(BUYER.into()), points_before),
            ],
        })?;
        let inp = input(b.price_yen, b.options.clone(), b.delivery_days, points);
        // More points than the total is refused.
        let too_many = PurchaseInput {
            points_used: total + 1,
            ..inp.clone()
        };
        prop_assert!(purchase(too_many, policy.clone(), T0).is_err());
        let d = purchase(inp, policy, T0).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let o = &d.order;
        prop_assert_eq!(o.state, OrderState::PendingFirstReply);
        prop_assert_eq!(o.version, 1);
        prop_assert_eq!(o.subtotal_yen(), subtotal);
        prop_assert_eq!(o.total_yen, total, "buyer fee is 5.5 % rounded down");
        prop_assert_eq!(o.points_used, points);
        let extra_days: i64 = b.options.iter().map(|(_, d)| d).sum();
        prop_assert_eq!(o.due_at, T0 + (b.delivery_days + extra_days) * DAY_MS);
        prop_assert_eq!(d.transfers.len(), 1);
        prop_assert_eq!(d.transfers[0].code, TransferCode::Purchase);
        for (kind, at) in [
            (TimerKind::FirstReplyDeadline, T0 + 48 * HOUR_MS),
            (TimerKind::FirstReplyReminder, T0 + 24 * HOUR_MS),
            (TimerKind::FirstReplyReminder, T0 + 40 * HOUR_MS),
            (TimerKind::DuePassed, o.due_at),
            (TimerKind::RoomCap, T0 + 120 * DAY_MS),
            (TimerKind::RoomCapReminder, T0 + 113 * DAY_MS),
        ] {
            prop_assert!(d.timers.contains(&(kind, at)), "no {:?} at {}", kind, at);
        }
        let mut sim = Sim {
            order: d.order.clone(),
            ledger,
            timers: vec![],
            timer_seq: 0,
            now: T0,
            points_before,
            terminal: None,
            next_request: 0,
        };
        for t in &d.transfers {
            sim.ledger.apply(t)?;
        }
        sim.schedule(&d);
        sim.check_money()?;
        Ok(sim)
    }

    fn schedule(&mut self, d: &Decision) {
        for (kind, at) in &d.timers {
            self.timer_seq += 1;
            self.timers.push((*at, self.timer_seq, *kind));
        }
    }

    /// The timer worker: every timer due by now, oldest first, each fired at its own moment.
    pub(super) fn fire_due_timers(&mut self) -> Result<(), TestCaseError> {
        loop {
            let next = self
                .timers
                .iter()
                .enumerate()
                .filter(|(_, (at, _, _))| *at <= self.now)
                .min_by_key(|(_, (at, seq, _))| (*at, *seq))
                .map(|(i, _)| i);
            let Some(i) = next else {
                return Ok(());
            };
            let (at, _, kind) = self.timers.remove(i);
            self.act(&Command::Timer(kind), Actor::System, at.min(self.now))?;
        }
    }

    fn answer(&self, cmd: &Cmd) -> Cmd {
        let Cmd::Answer(k) = cmd else {
            return cmd.clone();
        };
        if self.order.pending_cancel.is_some() {
            [Cmd::AcceptCancel, Cmd::RejectCancel, Cmd::WithdrawCancel][usize::from(k % 3)].clone()
        } else if self.order.state == OrderState::Delivered {
            [Cmd::Accept, Cmd::SendBack, Cmd::SendBack][usize::from(k % 3)].clone()
        } else {
            Cmd::Post(k % 2 == 0)
        }
    }

    fn natural_actor(&self, cmd: &Cmd) -> Actor {
        let pending_by = self.order.pending_cancel.as_ref().map(|r| r.by);
        match cmd {
            Cmd::Post(true) => Actor::Buyer,
            Cmd::Post(false) | Cmd::SetDue(_) | Cmd::Deliver => Actor::Seller,
            Cmd::Accept | Cmd::SendBack => Actor::Buyer,
            Cmd::File(reason, buyer) => {
                match (
                    may_file(*reason, Side::Buyer),
                    may_file(*reason, Side::Seller),
                ) {
                    (true, false) => Actor::Buyer,
                    (false, true) => Actor::Seller,
                    _ if *buyer => Actor::Buyer,
                    _ => Actor::Seller,
                }
            }
            Cmd::AcceptCancel | Cmd::RejectCancel => match pending_by {
                Some(Side::Buyer) => Actor::Seller,
                Some(Side::Seller) | None => Actor::Buyer,
            },
            Cmd::WithdrawCancel => match pending_by {
                Some(Side::Buyer) | None => Actor::Buyer,
                Some(Side::Seller) => Actor::Seller,
            },
            Cmd::OperatorCancel | Cmd::OperatorComplete | Cmd::OperatorSettle(_) => Actor::Operator,
            Cmd::Timer(_) => Actor::System,
            Cmd::Answer(_) => Actor::Buyer,
        }
    }

    fn command(&mut self, cmd: &Cmd) -> Command {
        match cmd {
            Cmd::Post(_) => Command::PostMessage,
            Cmd::SetDue(DueAt::FromNow(ms)) => Command::SetDueDate {
                due_at: self.now + ms,
            },
            Cmd::SetDue(DueAt::RoomCapPlus(ms)) => Command::SetDueDate {
                due_at: self.order.room_cap_at() + ms,
            },
            Cmd::Deliver => Command::Deliver,
            Cmd::Accept => Command::Accept,
            Cmd::SendBack => Command::SendBack,
            Cmd::File(reason, _) => {
                self.next_request += 1;
                Command::FileCancel {
                    request_id: format!("req-{}", self.next_request),
                    reason: *reason,
                    note: "都合により".into(),
                }
            }
            Cmd::AcceptCancel => Command::AcceptCancel,
            Cmd::RejectCancel => Command::RejectCancel,
            Cmd::WithdrawCancel => Command::WithdrawCancel,
            Cmd::OperatorCancel => Command::OperatorCancel,
            Cmd::OperatorComplete => Command::OperatorComplete,
            Cmd::OperatorSettle(share) => {
                let subtotal = self.order.subtotal_yen();
                let seller_amount_yen = match share {
                    Share::Permille(p) => subtotal * p / 1000,
                    Share::Negative => -1,
                    Share::AboveSubtotal => subtotal + 1,
                };
                Command::OperatorSettle { seller_amount_yen }
            }
            Cmd::Timer(kind) => Command::Timer(*kind),
            Cmd::Answer(_) => Command::PostMessage,
        }
    }

    /// One generated step: jump the clock, maybe run the timer worker, then the command.
    pub(super) fn run(&mut self, step: &Step) -> Result<(), TestCaseError> {
        self.now += step.jump_ms;
        if step.fire_timers {
            self.fire_due_timers()?;
        }
        let chosen = self.answer(&step.cmd);
        let actor = step.actor.unwrap_or_else(|| self.natural_actor(&chosen));
        let cmd = self.command(&chosen);
        self.act(&cmd, actor, self.now)
    }

    /// One command through the engine, checked against the oracle and applied like the store.
    pub(super) fn act(
        &mut self,
        cmd: &Command,
        actor: Actor,
        now: Millis,
    ) -> Result<(), TestCaseError> {
        let old = self.order.clone();
        let got = decide(&old, cmd, actor, now);
        prop_assert_eq!(&got, &decide(&old, cmd, actor, now), "decide is not pure");
        let want = oracle::expect(&old, cmd, actor, now);
        let ctx = || format!("{cmd:?} by {actor:?} at +{}ms in {:?}", now - T0, old.state);
        match (want, got) {
            (Want::Refused, Err(_)) => {} // refused: the store keeps the old order
            (Want::Noop, Ok(d)) if d.unchanged => {
                prop_assert_eq!(&d.order, &old, "a no-op changed the order: {}", ctx());
                prop_assert!(d.transfers.is_empty(), "no-op with transfers: {}", ctx());
                prop_assert!(d.timers.is_empty(), "no-op with timers: {}", ctx());
                prop_assert!(d.history.is_empty() && d.system_message.is_none());
                let reminder = matches!(
                    cmd,
                    Command::Timer(
                        TimerKind::FirstReplyReminder
                            | TimerKind::AcceptReminder
                            | TimerKind::RoomCapReminder
                    )
                );
                prop_assert!(reminder || d.notices.is_empty(), "notice on {}", ctx());
                prop_assert!(!old.state.is_terminal() || d.notices.is_empty());
            }
            (Want::Either(_), Err(_)) => {}
            (Want::Changed(state) | Want::Either(state), Ok(d)) if !d.unchanged => {
                oracle::check_changed(&old, &d, cmd, actor, now, state)
                    .map_err(|e| TestCaseError::fail(format!("{e} — {}", ctx())))?;
                for t in &d.transfers {
                    self.ledger.apply(t)?;
                }
                self.schedule(&d);
                self.order = d.order;
            }
            (want, got) => {
                return Err(TestCaseError::fail(format!(
                    "{}: expected {want:?}, engine said {:?}",
                    ctx(),
                    got.map(|d| (d.unchanged, d.order.state))
                        .map_err(|e| code_of(&e))
                )));
            }
        }
        self.check_order()?;
        self.check_money()
    }

    fn check_order(&mut self) -> Result<(), TestCaseError> {
        let o = &self.order;
        prop_assert!(o.send_backs_used <= o.policy.send_backs_allowed);
        prop_assert!(o.send_backs_used >= 0);
        prop_assert_eq!(o.state == OrderState::Cancelled, o.cancellation.is_some());
        prop_assert_eq!(o.state == OrderState::Cancelled, o.cancelled_at.is_some());
        prop_assert_eq!(o.state == OrderState::Completed, o.completed_at.is_some());
        if !o.state.is_terminal() {
            // Only a delivery waiting for the buyer has an accept deadline.
            prop_assert_eq!(
                o.state == OrderState::Delivered,
                o.accept_deadline.is_some()
            );
            // Open and never answered by the seller ⇔ still waiting for the first reply.
            prop_assert_eq!(
                o.state == OrderState::PendingFirstReply,
                o.first_replied_at.is_none()
            );
        }
        if o.state.is_terminal() {
            prop_assert!(o.pending_cancel.is_none());
            match &self.terminal {
                Some(t) => prop_assert_eq!(t, o, "a terminal order changed"),
                None => self.terminal = Some(o.clone()),
            }
        }
        Ok(())
    }

    fn check_money(&self) -> Result<(), TestCaseError> {
        let l = &self.ledger;
        let o = &self.order;
        let total: i64 = l.balances.values().sum();
        prop_assert_eq!(total, 0, "money is not conserved");
        for (a, b) in &l.balances {
            prop_assert!(a.may_go_negative() || *b >= 0, "{} is {}", a.id(), b);
        }
        let escrow = l.get(&AccountRef::Escrow(o.id.clone()));
        let earnings = l.get(&AccountRef::Earnings(o.seller_id.clone()));
        let revenue = l.get(&AccountRef::PlatformRevenue);
        let points = l.get(&AccountRef::Points(o.buyer_id.clone()));
        let gateway = l.get(&AccountRef::Gateway);
        let want = oracle::money_split(o, self.points_before)?;
        prop_assert_eq!(
            (escrow, earnings, revenue, points, gateway),
            want,
            "(escrow, earnings, revenue, points, gateway) in {:?}",
            o.state
        );
        Ok(())
    }
}
