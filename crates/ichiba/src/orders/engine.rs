//! The order engine: the pure `purchase(input, policy, now)` and
//! `decide(order, command, actor, now) -> Result<Decision, DealError>`. Deciding is two exhaustive
//! steps: [`authorize`] (may this kind of actor ever give this command?) and the state rules, one
//! `match (state, command)`. A decision is the new order plus its effects — ledger transfers,
//! timers to set and to clear, typed notices and a typed system message (worded in
//! [`super::texts`]) and history entries — which the store applies with a compare-and-set on the
//! order's version. What a side may do *now* is the dry run of this function
//! ([`super::actions`]), so screens never re-derive a rule.

use serde_json::json;

use super::model::{
    Actor, CancelReason, Cancellation, Command, DealError, Decision, Order, OrderState, Side,
    TimerKind,
};
use super::money::{quote, refund, release};
use super::policy::Policy;
use super::texts::{Cancelling, Completion, NoticeKind, SystemMessage};
use crate::clock::{DAY_MS, HOUR_MS, Millis};
use crate::ledger::{AccountRef, TransferCode, TransferPlan};

/// The listing as bought, for [`purchase`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseInput {
    pub order_id: String,
    pub listing_id: String,
    pub buyer_id: String,
    pub seller_id: String,
    pub title: String,
    pub price_yen: i64,
    /// Chosen options: (price, extra days).
    pub options: Vec<(i64, i64)>,
    pub delivery_days: i64,
    /// Points the buyer wants to use (capped at the total by the caller's check).
    pub points_used: i64,
}

/// A purchase: the new order in `pending_first_reply` with the payment into escrow, the
/// first-reply, due-date and room-cap timers, and the notice to the seller.
pub fn purchase(input: PurchaseInput, policy: Policy, now: Millis) -> Result<Decision, DealError> {
    if input.buyer_id == input.seller_id {
        return Err(DealError::not_allowed(
            "own_listing",
            "ご自身のサービスは購入できません。",
        ));
    }
    let options_yen: i64 = input.options.iter().map(|(p, _)| p).sum();
    let extra_days: i64 = input.options.iter().map(|(_, d)| d).sum();
    let q = quote(&policy, input.price_yen, options_yen, input.points_used);
    if input.points_used != q.points_used {
        return Err(DealError::invalid(
            "invalid_points",
            "利用ポイントは0以上、お支払い総額以下で指定してください。",
        ));
    }
    let order = Order {
        id: input.order_id.clone(),
        listing_id: input.listing_id,
        buyer_id: input.buyer_id.clone(),
        seller_id: input.seller_id,
        title: input.title,
        state: OrderState::PendingFirstReply,
        version: 1,
        price_yen: input.price_yen,
        options_yen,
        buyer_fee_yen: q.buyer_fee_yen,
        total_yen: q.total_yen,
        points_used: q.points_used,
        purchased_at: now,
        first_reply_deadline: now + policy.first_reply_hours * HOUR_MS,
        first_replied_at: None,
        due_at: now + (input.delivery_days + extra_days) * DAY_MS,
        delivered_at: None,
        accept_deadline: None,
        completed_at: None,
        cancelled_at: None,
        send_backs_used: 0,
        late: false,
        last_buyer_message_at: None,
        last_seller_message_at: None,
        cancellation: None,
        pending_cancel: None,
        settlement_seller_yen: None,
        policy,
    };
    let mut d = Decision::new(order);
    let o = &d.order;
    d.transfers.push(TransferPlan {
        key: format!("order:{}:purchase", o.id),
        code: TransferCode::Purchase,
        order_id: Some(o.id.clone()),
        memo: format!("「{}」の購入", o.title),
        entries: vec![
            (AccountRef::Gateway, -o.charged_yen()),
            (AccountRef::Points(o.buyer_id.clone()), -o.points_used),
            (AccountRef::Escrow(o.id.clone()), o.total_yen),
        ],
    });
    let mut timers = vec![];
    for h in &o.policy.first_reply_reminder_hours {
        timers.push((TimerKind::FirstReplyReminder, now + h * HOUR_MS));
    }
    timers.push((TimerKind::FirstReplyDeadline, o.first_reply_deadline));
    timers.push((TimerKind::DuePassed, o.due_at));
    for days in &o.policy.room_cap_reminder_days {
        timers.push((TimerKind::RoomCapReminder, o.room_cap_at() - days * DAY_MS));
    }
    timers.push((TimerKind::RoomCap, o.room_cap_at()));
    d.timers = timers;
    d.notice(Side::Seller, NoticeKind::Purchased);
    d.system_message = Some(SystemMessage::Purchased);
    Ok(d)
}

/// A finished order needs none of its timers.
pub(super) fn finish(d: &mut Decision) {
    d.clear_timers = TimerKind::ALL.to_vec();
}

pub(super) fn complete(d: &mut Decision, now: Millis, how: Completion) {
    let o = &mut d.order;
    o.state = OrderState::Completed;
    o.completed_at = Some(now);
    o.pending_cancel = None;
    let plan = release(o);
    d.transfers.push(plan);
    d.system_message = Some(SystemMessage::Completed(how));
    d.notice(Side::Seller, NoticeKind::Completed(how));
    d.notice(Side::Buyer, NoticeKind::Completed(how));
    finish(d);
}

pub(super) fn cancel(
    d: &mut Decision,
    now: Millis,
    reason: CancelReason,
    by: Actor,
    how: Cancelling,
) {
    let o = &mut d.order;
    o.state = OrderState::Cancelled;
    o.cancelled_at = Some(now);
    o.pending_cancel = None;
    o.cancellation = Some(Cancellation {
        reason,
        fault: reason.fault(),
        by,
    });
    let plan = refund(o);
    d.transfers.push(plan);
    d.system_message = Some(SystemMessage::Cancelled(how));
    d.history.push(("cancelled", json!({"reason_code": reason.as_str(), "fault": reason.fault().as_str(), "by": by.as_str()})));
    for side in [Side::Buyer, Side::Seller] {
        d.notice(side, NoticeKind::Cancelled(how));
    }
    finish(d);
}

/// Who, by kind, gives a command: a party (and which side), an operator, or the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The buyer or the seller of the order.
    Party(Side),
    /// An operator (the dispute tool).
    Operator,
    /// The timer worker.
    System,
}

impl From<Actor> for Role {
    fn from(actor: Actor) -> Role {
        match actor {
            Actor::Buyer => Role::Party(Side::Buyer),
            Actor::Seller => Role::Party(Side::Seller),
            Actor::Operator => Role::Operator,
            Actor::System => Role::System,
        }
    }
}

/// The first step of [`decide`]: whether `actor` may ever give `command`, whatever the order's
/// state. Exhaustive over commands.
///
/// Errors: [`DealError::NotAllowed`] naming who may (`seller_only`, `buyer_only`,
/// `parties_only`, `operator_only`, `system_only`).
pub fn authorize(command: &Command, actor: Actor) -> Result<Role, DealError> {
    use Command as C;
    // Who may give it (`None`: either party), and the refusal for anyone else.
    let (only, code, message) = match command {
        C::PostMessage
        | C::FileCancel { .. }
        | C::AcceptCancel
        | C::RejectCancel
        | C::WithdrawCancel => (None, "parties_only", "この操作は取引の当事者のみ行えます。"),
        C::SetDueDate { .. } => (
            Some(Actor::Seller),
            "seller_only",
            "お届け予定日を変更できるのは出品者のみです。",
        ),
        C::Deliver => (
            Some(Actor::Seller),
            "seller_only",
            "正式な納品ができるのは出品者のみです。",
        ),
        C::Accept => (
            Some(Actor::Buyer),
            "buyer_only",
            "承諾できるのは購入者のみです。",
        ),
        C::SendBack => (
            Some(Actor::Buyer),
            "buyer_only",
            "差し戻しできるのは購入者のみです。",
        ),
        C::OperatorCancel | C::OperatorComplete | C::OperatorSettle { .. } => (
            Some(Actor::Operator),
            "operator_only",
            "この操作は運営者のみ行えます。",
        ),
        C::Timer(_) => (
            Some(Actor::System),
            "system_only",
            "この操作はシステムのみ行えます。",
        ),
    };
    let role = Role::from(actor);
    let allowed = match only {
        None => matches!(role, Role::Party(_)),
        Some(who) => actor == who,
    };
    if allowed {
        Ok(role)
    } else {
        Err(DealError::not_allowed(code, message))
    }
}

/// Decides what a command does to an order. Pure: same inputs, same decision.
///
/// Errors: [`DealError::NotAllowed`] (403) for an actor who may never give the command,
/// [`DealError::Conflict`] (409) when the order's state does not allow it now,
/// [`DealError::Invalid`] (422) for values that break a rule.
pub fn decide(
    order: &Order,
    command: &Command,
    actor: Actor,
    now: Millis,
) -> Result<Decision, DealError> {
    let role = authorize(command, actor)?;
    super::rules::apply(order, command, role, now)
}
