//! The oracle: an independent reference model of the deal rules, written from DESIGN.md and not
//! from the engine. It says what a command should do (`expect`: refused, a no-op, or a change to
//! which state), what an accepted change must look like (`check_changed`), and where the money of
//! an order stands in each state (`money_split`).

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use crate::clock::Millis;
use crate::ledger::TransferCode;
use crate::orders::model::{
    Actor, CancelReason, Command, Decision, Fault, Order, OrderState, Side, TimerKind,
};
use crate::orders::policy::{DAY_MS, HOUR_MS};

/// What the rules expect of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Want {
    /// `Err`, and the order stays as it was.
    Refused,
    /// `Ok` with `unchanged == true` (a reminder may still carry notices).
    Noop,
    /// `Ok`, a new version, and the order in this state.
    Changed(OrderState),
    /// Either `Refused` or `Changed`: the rules do not say (a buyer and a seller message in the
    /// same millisecond have no order, so "the seller has been silent since" is open).
    Either(OrderState),
}

fn party(actor: Actor) -> Option<Side> {
    match actor {
        Actor::Buyer => Some(Side::Buyer),
        Actor::Seller => Some(Side::Seller),
        Actor::Operator | Actor::System => None,
    }
}

/// Who may file a cancel request for a reason (DESIGN.md row 8 and the reason docs).
pub(super) fn may_file(reason: CancelReason, side: Side) -> bool {
    match reason {
        CancelReason::DuplicatePurchase
        | CancelReason::SwitchService
        | CancelReason::ScheduleMismatch => true,
        CancelReason::BuyerReason | CancelReason::SellerUnresponsive => side == Side::Buyer,
        CancelReason::BuyerUnreachable | CancelReason::SellerReason => side == Side::Seller,
        CancelReason::NoFirstReply | CancelReason::Operator => false,
    }
}

/// The buyer may file only after ≥ 4 days of seller silence since the buyer's last message, or
/// when the due date has passed with nothing delivered. `None`: undecided (messages in the same
/// millisecond).
fn buyer_may_cancel(o: &Order, now: Millis) -> Option<bool> {
    let overdue = matches!(
        o.state,
        OrderState::PendingFirstReply | OrderState::InProgress
    ) && now > o.due_at;
    let Some(b) = o.last_buyer_message_at.filter(|b| now - b >= 4 * DAY_MS) else {
        return Some(overdue);
    };
    match o.last_seller_message_at {
        Some(s) if s == b && !overdue => None,
        Some(s) => Some(s < b || overdue),
        None => Some(true),
    }
}

/// What the rules say `cmd` by `actor` at `now` does to `o`: refused, a no-op, or a change to
/// which state.
pub(super) fn expect(o: &Order, cmd: &Command, actor: Actor, now: Millis) -> Want {
    use OrderState as S;
    let open = !o.state.is_terminal();
    let changed_if = |ok: bool, s: OrderState| if ok { Want::Changed(s) } else { Want::Refused };
    let room_cap = o.purchased_at + 120 * DAY_MS;
    match cmd {
        Command::PostMessage => match party(actor) {
            Some(Side::Seller) if o.state == S::PendingFirstReply => Want::Changed(S::InProgress),
            Some(_) => changed_if(open, o.state),
            None => Want::Refused,
        },
        Command::SetDueDate { due_at } => changed_if(
            actor == Actor::Seller && open && *due_at > now && *due_at <= room_cap,
            o.state,
        ),
        Command::Deliver => changed_if(
            actor == Actor::Seller && matches!(o.state, S::PendingFirstReply | S::InProgress),
            S::Delivered,
        ),
        Command::Accept => changed_if(
            actor == Actor::Buyer && o.state == S::Delivered,
            S::Completed,
        ),
        Command::SendBack => changed_if(
            actor == Actor::Buyer
                && o.state == S::Delivered
                && o.send_backs_used < o.policy.send_backs_allowed,
            S::InProgress,
        ),
        Command::FileCancel { reason, .. } => {
            let Some(side) = party(actor) else {
                return Want::Refused;
            };
            if !(open && o.pending_cancel.is_none() && may_file(*reason, side)) {
                return Want::Refused;
            }
            match side {
                Side::Seller => Want::Changed(o.state),
                Side::Buyer => match buyer_may_cancel(o, now) {
                    Some(ok) => changed_if(ok, o.state),
                    None => Want::Either(o.state),
                },
            }
        }
        Command::AcceptCancel | Command::RejectCancel | Command::WithdrawCancel => {
            let ok = match (party(actor), &o.pending_cancel) {
                (Some(side), Some(req)) if open => {
                    (req.by == side) == (*cmd == Command::WithdrawCancel)
                }
                _ => false,
            };
            let to = if *cmd == Command::AcceptCancel {
                S::Cancelled
            } else {
                o.state
            };
            changed_if(ok, to)
        }
        Command::OperatorCancel => changed_if(actor == Actor::Operator && open, S::Cancelled),
        Command::OperatorComplete => changed_if(actor == Actor::Operator && open, S::Completed),
        Command::OperatorSettle { seller_amount_yen } => changed_if(
            actor == Actor::Operator && open && (0..=o.subtotal_yen()).contains(seller_amount_yen),
            S::Completed,
        ),
        Command::Timer(kind) => {
            if actor != Actor::System {
                return Want::Refused;
            }
            if !open {
                return Want::Noop;
            }
            let fires = match kind {
                TimerKind::FirstReplyReminder
                | TimerKind::AcceptReminder
                | TimerKind::RoomCapReminder => None,
                TimerKind::FirstReplyDeadline => (o.state == S::PendingFirstReply
                    && now >= o.purchased_at + 48 * HOUR_MS)
                    .then_some(S::Cancelled),
                TimerKind::DuePassed => (matches!(o.state, S::PendingFirstReply | S::InProgress)
                    && now >= o.due_at
                    && !o.late)
                    .then_some(o.state),
                TimerKind::AcceptDeadline => (o.state == S::Delivered
                    && o.delivered_at.is_some_and(|d| now >= d + 72 * HOUR_MS))
                .then_some(S::Completed),
                TimerKind::RoomCap => (now >= room_cap).then_some(S::Completed),
                TimerKind::CancelRequestExpiry => o
                    .pending_cancel
                    .as_ref()
                    .is_some_and(|r| now >= r.filed_at + 24 * HOUR_MS)
                    .then_some(S::Cancelled),
            };
            fires.map_or(Want::Noop, Want::Changed)
        }
    }
}

/// What a command the rules accept must make of the order: `d` turns `old` into `state` by
/// `cmd` of `actor` at `now`, keeps what the purchase fixed, moves money only when the order
/// closes and sets only the timers the command calls for.
pub(super) fn check_changed(
    old: &Order,
    d: &Decision,
    cmd: &Command,
    actor: Actor,
    now: Millis,
    state: OrderState,
) -> Result<(), TestCaseError> {
    let o = &d.order;
    prop_assert!(!old.state.is_terminal(), "a terminal order changed");
    prop_assert_eq!(o.version, old.version + 1);
    prop_assert_eq!(o.state, state);
    // What a purchase fixed never changes.
    prop_assert_eq!(&o.id, &old.id);
    prop_assert_eq!(&o.buyer_id, &old.buyer_id);
    prop_assert_eq!(&o.seller_id, &old.seller_id);
    prop_assert_eq!(&o.policy, &old.policy);
    prop_assert_eq!(
        (o.price_yen, o.options_yen, o.buyer_fee_yen, o.total_yen),
        (
            old.price_yen,
            old.options_yen,
            old.buyer_fee_yen,
            old.total_yen
        )
    );
    prop_assert_eq!(o.points_used, old.points_used);
    prop_assert_eq!(o.purchased_at, old.purchased_at);
    prop_assert_eq!(o.first_reply_deadline, old.first_reply_deadline);
    prop_assert!(o.send_backs_used <= o.policy.send_backs_allowed);
    prop_assert!(o.send_backs_used >= old.send_backs_used);
    // Money moves exactly once: when the order closes.
    if state.is_terminal() {
        prop_assert_eq!(d.transfers.len(), 1);
        let t = &d.transfers[0];
        prop_assert_eq!(t.order_id.as_deref(), Some(o.id.as_str()));
        let want_code = match (state, cmd) {
            (OrderState::Cancelled, _) => TransferCode::Refund,
            (_, Command::OperatorSettle { .. }) => TransferCode::Settlement,
            _ => TransferCode::Release,
        };
        prop_assert_eq!(t.code, want_code);
        prop_assert!(o.pending_cancel.is_none());
    } else {
        prop_assert!(d.transfers.is_empty());
    }
    // Timers come only from a due date, a delivery or a cancel request.
    let want_timers = match cmd {
        Command::SetDueDate { due_at } => vec![(TimerKind::DuePassed, *due_at)],
        Command::Deliver => vec![
            (TimerKind::AcceptReminder, now + 48 * HOUR_MS),
            (TimerKind::AcceptDeadline, now + 72 * HOUR_MS),
        ],
        Command::FileCancel { .. } => {
            vec![(TimerKind::CancelRequestExpiry, now + 24 * HOUR_MS)]
        }
        _ => vec![],
    };
    prop_assert_eq!(&d.timers, &want_timers);
    match state {
        OrderState::Cancelled => {
            let Some(c) = o.cancellation.clone() else {
                return Err(TestCaseError::fail("cancelled without a cancellation"));
            };
            prop_assert_eq!(c.fault, c.reason.fault());
            prop_assert_eq!(o.cancelled_at, Some(now));
            match cmd {
                Command::Timer(TimerKind::FirstReplyDeadline) => {
                    prop_assert_eq!(c.reason, CancelReason::NoFirstReply);
                    prop_assert_eq!(c.fault, Fault::Seller);
                    prop_assert_eq!(c.by, Actor::System);
                }
                Command::OperatorCancel => {
                    prop_assert_eq!(c.reason, CancelReason::Operator);
                    prop_assert_eq!(c.by, Actor::Operator);
                }
                _ => {
                    // An accepted (or expired) request: its reason, filed by its filer.
                    let Some(req) = old.pending_cancel.clone() else {
                        return Err(TestCaseError::fail("cancelled without a request"));
                    };
                    prop_assert_eq!(c.reason, req.reason);
                    let by = match req.by {
                        Side::Buyer => Actor::Buyer,
                        Side::Seller => Actor::Seller,
                    };
                    prop_assert_eq!(c.by, by);
                }
            }
        }
        OrderState::Completed => {
            prop_assert_eq!(o.completed_at, Some(now));
            let settled = match cmd {
                Command::OperatorSettle { seller_amount_yen } => Some(*seller_amount_yen),
                _ => None,
            };
            prop_assert_eq!(o.settlement_seller_yen, settled);
        }
        OrderState::PendingFirstReply | OrderState::InProgress | OrderState::Delivered => {}
    }
    match (cmd, party(actor)) {
        (Command::PostMessage, Some(Side::Buyer)) => {
            prop_assert_eq!(o.last_buyer_message_at, Some(now));
        }
        (Command::PostMessage | Command::Deliver, Some(Side::Seller)) => {
            prop_assert_eq!(o.last_seller_message_at, Some(now));
            // The seller's first message or delivery ends the 48-hour rule.
            prop_assert!(o.state != OrderState::PendingFirstReply);
            prop_assert!(o.first_replied_at.is_some());
            if old.first_replied_at.is_none() {
                prop_assert_eq!(o.first_replied_at, Some(now));
            }
        }
        (Command::Deliver, _) => {}
        (Command::SendBack, _) => {
            prop_assert_eq!(o.send_backs_used, old.send_backs_used + 1);
            prop_assert_eq!(o.accept_deadline, None);
        }
        (Command::SetDueDate { due_at }, _) => prop_assert_eq!(o.due_at, *due_at),
        (Command::FileCancel { request_id, .. }, Some(side)) => {
            let req = o.pending_cancel.clone();
            prop_assert!(req.as_ref().is_some_and(|r| &r.id == request_id
                && r.by == side
                && r.expires_at == now + 24 * HOUR_MS));
        }
        (Command::RejectCancel | Command::WithdrawCancel, _) => {
            prop_assert!(o.pending_cancel.is_none());
        }
        (Command::Timer(TimerKind::DuePassed), _) => prop_assert!(o.late && !old.late),
        _ => {}
    }
    if cmd == &Command::Deliver {
        prop_assert_eq!(o.delivered_at, Some(now));
        prop_assert_eq!(o.accept_deadline, Some(now + 72 * HOUR_MS));
        prop_assert_eq!(o.late, old.late || now > old.due_at);
    }
    Ok(())
}

/// Where the money of `o` stands by the rules, as (escrow, earnings, revenue, points, gateway),
/// given the points the buyer held before the purchase: all in escrow while open, all back
/// (points first) when cancelled, the 22 % commission split at completion, and the operator's
/// split pro rata for a settlement.
pub(super) fn money_split(
    o: &Order,
    points_before: i64,
) -> Result<(i64, i64, i64, i64, i64), TestCaseError> {
    let subtotal = o.subtotal_yen();
    // (escrow, earnings, revenue, points, gateway) by the rules.
    let want = match (o.state, o.settlement_seller_yen) {
        (OrderState::PendingFirstReply | OrderState::InProgress | OrderState::Delivered, _) => (
            o.total_yen,
            0,
            0,
            points_before - o.points_used,
            -points_before - o.charged_yen(),
        ),
        (OrderState::Cancelled, _) => (0, 0, 0, points_before, -points_before),
        (OrderState::Completed, None) => {
            let seller = subtotal - subtotal * 22 / 100;
            (
                0,
                seller,
                o.total_yen - seller,
                points_before - o.points_used,
                -points_before - o.charged_yen(),
            )
        }
        (OrderState::Completed, Some(s)) => {
            let commission = s * 22 / 100;
            let fee_kept =
                i64::try_from(i128::from(o.buyer_fee_yen) * i128::from(s) / i128::from(subtotal))
                    .unwrap_or(i64::MAX);
            let refund = o.total_yen - s - fee_kept;
            let points_back = refund.min(o.points_used);
            prop_assert!((0..=o.buyer_fee_yen).contains(&fee_kept));
            prop_assert!(refund >= 0);
            (
                0,
                s - commission,
                commission + fee_kept,
                points_before - o.points_used + points_back,
                -points_before - o.charged_yen() + (refund - points_back),
            )
        }
    };
    Ok(want)
}
