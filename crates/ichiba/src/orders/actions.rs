//! The rule book asked as a question: what may this side do to this order now? The answer is the
//! dry run of [`decide`] for every command a person can give, so a screen or an API client that
//! shows a button asks here and can never disagree with what the engine will do when it is
//! pressed.

use serde::Serialize;

use super::model::{Actor, CancelReason, Command, Order, Side, decide};
use crate::clock::Millis;

/// A command a person can give, as a screen offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Post a message in the talk room.
    PostMessage,
    /// Change the due date (お届け予定日); the seller.
    ChangeDueDate,
    /// The formal delivery (正式な納品); the seller.
    Deliver,
    /// Accept the delivery (承諾); the buyer.
    Accept,
    /// Send the delivery back (差し戻し); the buyer.
    SendBack,
    /// File a cancel request (with one of `cancel_reasons`).
    FileCancel,
    /// Accept the other party's cancel request.
    AcceptCancel,
    /// Reject the other party's cancel request.
    RejectCancel,
    /// Withdraw one's own cancel request.
    WithdrawCancel,
    /// Operator: cancel with a full refund.
    OperatorCancel,
    /// Operator: complete (release the escrow to the seller).
    OperatorComplete,
    /// Operator: settle with a split.
    OperatorSettle,
}

impl Action {
    /// Every action, in the order screens list them.
    pub const ALL: [Action; 12] = [
        Action::PostMessage,
        Action::ChangeDueDate,
        Action::Deliver,
        Action::Accept,
        Action::SendBack,
        Action::FileCancel,
        Action::AcceptCancel,
        Action::RejectCancel,
        Action::WithdrawCancel,
        Action::OperatorCancel,
        Action::OperatorComplete,
        Action::OperatorSettle,
    ];

    /// The stable code (`post_message`, `accept`, …), as in `allowed_actions`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::PostMessage => "post_message",
            Action::ChangeDueDate => "change_due_date",
            Action::Deliver => "deliver",
            Action::Accept => "accept",
            Action::SendBack => "send_back",
            Action::FileCancel => "file_cancel",
            Action::AcceptCancel => "accept_cancel",
            Action::RejectCancel => "reject_cancel",
            Action::WithdrawCancel => "withdraw_cancel",
            Action::OperatorCancel => "operator_cancel",
            Action::OperatorComplete => "operator_complete",
            Action::OperatorSettle => "operator_settle",
        }
    }

    /// The commands that stand for this action in a dry run: for a command with values, every
    /// value a person could choose that matters to the rules (each cancel reason; the earliest
    /// possible due date; the smallest split).
    fn probes(self, now: Millis) -> Vec<Command> {
        match self {
            Action::PostMessage => vec![Command::PostMessage],
            Action::ChangeDueDate => vec![Command::SetDueDate { due_at: now + 1 }],
            Action::Deliver => vec![Command::Deliver],
            Action::Accept => vec![Command::Accept],
            Action::SendBack => vec![Command::SendBack],
            Action::FileCancel => CancelReason::ALL
                .into_iter()
                .map(|reason| Command::FileCancel {
                    request_id: String::new(),
                    reason,
                    note: String::new(),
                })
                .collect(),
            Action::AcceptCancel => vec![Command::AcceptCancel],
            Action::RejectCancel => vec![Command::RejectCancel],
            Action::WithdrawCancel => vec![Command::WithdrawCancel],
            Action::OperatorCancel => vec![Command::OperatorCancel],
            Action::OperatorComplete => vec![Command::OperatorComplete],
            Action::OperatorSettle => vec![Command::OperatorSettle {
                seller_amount_yen: 0,
            }],
        }
    }
}

/// What one actor may do to one order at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, utoipa::ToSchema)]
pub struct Allowed {
    /// The actions the engine would accept now, in [`Action::ALL`] order.
    pub actions: Vec<Action>,
    /// The cancel reasons this actor may file now (empty unless `file_cancel` is allowed).
    pub cancel_reasons: Vec<CancelReason>,
}

impl Allowed {
    /// Whether `action` is allowed.
    pub fn can(&self, action: Action) -> bool {
        self.actions.contains(&action)
    }
}

/// What `actor` may do to `order` at `now`: every action whose command [`decide`] would accept.
/// Nothing for the system actor (timers are not offered to people).
pub fn available(order: &Order, actor: Actor, now: Millis) -> Allowed {
    let mut allowed = Allowed::default();
    if actor == Actor::System {
        return allowed;
    }
    for action in Action::ALL {
        let mut any = false;
        for probe in action.probes(now) {
            if decide(order, &probe, actor, now).is_ok() {
                any = true;
                if let Command::FileCancel { reason, .. } = probe {
                    allowed.cancel_reasons.push(reason);
                }
            }
        }
        if any {
            allowed.actions.push(action);
        }
    }
    allowed
}

/// [`available`] for a party of the order.
pub fn available_to(order: &Order, side: Side, now: Millis) -> Allowed {
    available(order, Actor::from(side), now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{DAY_MS, HOUR_MS};
    use crate::orders::model::{OrderState, PurchaseInput, purchase};
    use crate::orders::policy::Policy;

    fn fresh(now: Millis) -> Order {
        purchase(
            PurchaseInput {
                order_id: "o1".into(),
                listing_id: "l1".into(),
                buyer_id: "b".into(),
                seller_id: "s".into(),
                title: "ロゴ".into(),
                price_yen: 5000,
                options: vec![],
                delivery_days: 7,
                points_used: 0,
            },
            Policy::default(),
            now,
        )
        .expect("purchase")
        .order
    }

    fn after(o: &Order, c: Command, actor: Actor, now: Millis) -> Order {
        decide(o, &c, actor, now).expect("command").order
    }

    #[test]
    fn a_fresh_order_offers_the_buyer_no_cancel_request_until_the_seller_is_silent_for_four_days() {
        let t0 = 1_000 * DAY_MS;
        let o = fresh(t0);
        let buyer = available_to(&o, Side::Buyer, t0);
        assert_eq!(buyer.actions, vec![Action::PostMessage]);
        assert!(buyer.cancel_reasons.is_empty());
        let o = after(&o, Command::PostMessage, Actor::Buyer, t0 + HOUR_MS);
        let later = available_to(&o, Side::Buyer, t0 + HOUR_MS + 4 * DAY_MS);
        assert!(later.can(Action::FileCancel));
        assert!(
            later
                .cancel_reasons
                .contains(&CancelReason::SellerUnresponsive)
        );
        assert!(!later.cancel_reasons.contains(&CancelReason::SellerReason));
    }

    #[test]
    fn a_delivered_order_still_lets_the_seller_move_the_due_date_and_the_buyer_answer() {
        let t0 = 1_000 * DAY_MS;
        let o = fresh(t0);
        let o = after(&o, Command::Deliver, Actor::Seller, t0 + DAY_MS);
        assert_eq!(o.state, OrderState::Delivered);
        let seller = available_to(&o, Side::Seller, t0 + DAY_MS);
        assert!(seller.can(Action::ChangeDueDate));
        assert!(!seller.can(Action::Deliver));
        assert!(!seller.can(Action::Accept));
        let buyer = available_to(&o, Side::Buyer, t0 + DAY_MS);
        assert!(buyer.can(Action::Accept) && buyer.can(Action::SendBack));
        let o = after(&o, Command::SendBack, Actor::Buyer, t0 + 2 * DAY_MS);
        let o = after(&o, Command::Deliver, Actor::Seller, t0 + 3 * DAY_MS);
        let buyer = available_to(&o, Side::Buyer, t0 + 3 * DAY_MS);
        assert!(buyer.can(Action::Accept));
        assert!(!buyer.can(Action::SendBack), "one send-back only");
    }

    #[test]
    fn a_finished_order_offers_nothing_and_operators_get_only_the_dispute_tool() {
        let t0 = 1_000 * DAY_MS;
        let o = fresh(t0);
        let op = available(&o, Actor::Operator, t0);
        assert_eq!(
            op.actions,
            vec![
                Action::OperatorCancel,
                Action::OperatorComplete,
                Action::OperatorSettle
            ]
        );
        assert!(available(&o, Actor::System, t0).actions.is_empty());
        let done = after(&o, Command::OperatorComplete, Actor::Operator, t0);
        for actor in [Actor::Buyer, Actor::Seller, Actor::Operator] {
            assert_eq!(available(&done, actor, t0), Allowed::default());
        }
    }

    #[test]
    fn an_open_cancel_request_is_answered_by_the_other_side_and_withdrawn_by_its_filer() {
        let t0 = 1_000 * DAY_MS;
        let o = fresh(t0);
        let o = after(
            &o,
            Command::FileCancel {
                request_id: "r".into(),
                reason: CancelReason::SellerReason,
                note: String::new(),
            },
            Actor::Seller,
            t0,
        );
        let seller = available_to(&o, Side::Seller, t0);
        assert!(seller.can(Action::WithdrawCancel));
        assert!(!seller.can(Action::AcceptCancel) && !seller.can(Action::FileCancel));
        let buyer = available_to(&o, Side::Buyer, t0);
        assert!(buyer.can(Action::AcceptCancel) && buyer.can(Action::RejectCancel));
        assert!(!buyer.can(Action::WithdrawCancel));
    }

    #[test]
    fn finishing_an_order_clears_every_pending_timer_and_moving_the_due_date_replaces_its_own() {
        let t0 = 1_000 * DAY_MS;
        let o = fresh(t0);
        let d = decide(&o, &Command::PostMessage, Actor::Seller, t0).expect("reply");
        assert_eq!(
            d.clear_timers,
            vec![
                crate::orders::TimerKind::FirstReplyReminder,
                crate::orders::TimerKind::FirstReplyDeadline
            ]
        );
        let d = decide(
            &d.order,
            &Command::SetDueDate {
                due_at: t0 + 9 * DAY_MS,
            },
            Actor::Seller,
            t0,
        )
        .expect("due date");
        assert_eq!(d.clear_timers, vec![crate::orders::TimerKind::DuePassed]);
        assert!(
            d.timers
                .contains(&(crate::orders::TimerKind::DuePassed, t0 + 9 * DAY_MS))
        );
        let d = decide(&d.order, &Command::OperatorCancel, Actor::Operator, t0).expect("cancel");
        assert_eq!(d.clear_timers.len(), 8);
    }
}
