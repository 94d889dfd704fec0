//! The state rules of the deal: the second step of [`super::engine::decide`], after
//! [`super::engine::authorize`] has settled who may give the command. One exhaustive
//! `match (state, command)` with no catch-all arm, so a new state or command cannot be forgotten.

use serde_json::json;

use super::engine::{Role, cancel, complete, finish};
use super::model::{
    Actor, CancelReason, CancelRequest, Command, DealError, Decision, Order, OrderState, Side,
    TimerKind,
};
use super::money::settlement;
use super::texts::{Cancelling, Completion, NoticeKind, SystemMessage};
use crate::clock::{DAY_MS, HOUR_MS, Millis, to_rfc3339};

fn closed() -> DealError {
    DealError::conflict("order_closed", "この取引はすでに終了しています。")
}

fn not_delivered() -> DealError {
    DealError::conflict("not_delivered", "まだ正式な納品がありません。")
}

/// The side of a party command; `authorize` has already refused anyone else.
fn side_of(role: Role) -> Result<Side, DealError> {
    match role {
        Role::Party(side) => Ok(side),
        Role::Operator | Role::System => Err(DealError::not_allowed(
            "parties_only",
            "この操作は取引の当事者のみ行えます。",
        )),
    }
}

/// Who may act on an open cancel request.
enum Answer {
    /// Its filer (withdraw).
    Withdraw,
    /// The other party (accept or reject).
    Reply,
}

/// The open cancel request, if `role` may act on it as `answer` says.
fn open_request(order: &Order, role: Role, answer: Answer) -> Result<CancelRequest, DealError> {
    let side = side_of(role)?;
    let Some(req) = order.pending_cancel.clone() else {
        return Err(DealError::conflict(
            "no_cancel_request",
            "回答できるキャンセルリクエストはありません。",
        ));
    };
    match answer {
        Answer::Withdraw if req.by != side => Err(DealError::not_allowed(
            "not_requester",
            "取り下げられるのはリクエストを出した方のみです。",
        )),
        Answer::Reply if req.by == side => Err(DealError::not_allowed(
            "requester_cannot_answer",
            "ご自身のリクエストには回答できません。",
        )),
        Answer::Withdraw | Answer::Reply => Ok(req),
    }
}

/// Applies `command` by `role` to `order` at `now`.
pub(super) fn apply(
    order: &Order,
    command: &Command,
    role: Role,
    now: Millis,
) -> Result<Decision, DealError> {
    use Command as C;
    use OrderState as S;
    let mut d = Decision::new(order.clone());
    d.order.version = order.version + 1;
    match (order.state, command) {
        // ---- Talk room messages -------------------------------------------------------------
        (S::PendingFirstReply | S::InProgress | S::Delivered, C::PostMessage) => {
            match side_of(role)? {
                Side::Buyer => d.order.last_buyer_message_at = Some(now),
                Side::Seller => {
                    d.order.last_seller_message_at = Some(now);
                    if d.order.first_replied_at.is_none() {
                        d.order.first_replied_at = Some(now);
                    }
                    if order.state == S::PendingFirstReply {
                        d.order.state = S::InProgress;
                        d.notice(Side::Buyer, NoticeKind::FirstReply);
                        d.clear_timers =
                            vec![TimerKind::FirstReplyReminder, TimerKind::FirstReplyDeadline];
                    }
                }
            }
        }
        (S::Completed | S::Cancelled, C::PostMessage) => {
            return Err(DealError::conflict(
                "talk_room_closed",
                "取引が終了したトークルームには投稿できません。",
            ));
        }

        // ---- Due date -----------------------------------------------------------------------
        (S::PendingFirstReply | S::InProgress | S::Delivered, C::SetDueDate { due_at }) => {
            if *due_at <= now {
                return Err(DealError::invalid(
                    "due_date_in_past",
                    "お届け予定日は現在より後の日時を指定してください。",
                ));
            }
            if *due_at > order.room_cap_at() {
                return Err(DealError::invalid(
                    "due_date_too_late",
                    &format!(
                        "お届け予定日は購入から{}日以内で指定してください。",
                        order.policy.room_max_days
                    ),
                ));
            }
            d.order.due_at = *due_at;
            // The old due date's timer would only find the date moved: replace it.
            d.clear_timers = vec![TimerKind::DuePassed];
            d.timers.push((TimerKind::DuePassed, *due_at));
            d.history.push((
                "due_date_changed",
                json!({"from_at": to_rfc3339(order.due_at), "to_at": to_rfc3339(*due_at)}),
            ));
            let (from, to) = (order.due_at, *due_at);
            d.system_message = Some(SystemMessage::DueDateChanged { from, to });
            d.notice(Side::Buyer, NoticeKind::DueDateChanged { from, to });
        }
        (S::Completed | S::Cancelled, C::SetDueDate { .. }) => return Err(closed()),

        // ---- Formal delivery ----------------------------------------------------------------
        (S::PendingFirstReply | S::InProgress, C::Deliver) => {
            let o = &mut d.order;
            let deadline = now + o.policy.accept_hours * HOUR_MS;
            o.state = S::Delivered;
            o.delivered_at = Some(now);
            o.accept_deadline = Some(deadline);
            o.last_seller_message_at = Some(now);
            if o.first_replied_at.is_none() {
                o.first_replied_at = Some(now);
            }
            if now > o.due_at {
                o.late = true;
            }
            d.timers.push((
                TimerKind::AcceptReminder,
                now + order.policy.accept_reminder_hours * HOUR_MS,
            ));
            d.timers.push((TimerKind::AcceptDeadline, deadline));
            if order.state == S::PendingFirstReply {
                d.clear_timers = vec![TimerKind::FirstReplyReminder, TimerKind::FirstReplyDeadline];
            }
            d.notice(
                Side::Buyer,
                NoticeKind::Delivered {
                    accept_deadline: deadline,
                },
            );
        }
        (S::Delivered, C::Deliver) => {
            return Err(DealError::conflict(
                "already_delivered",
                "すでに正式な納品済みです。購入者の回答をお待ちください。",
            ));
        }
        (S::Completed | S::Cancelled, C::Deliver) => return Err(closed()),

        // ---- Acceptance and send-back -------------------------------------------------------
        (S::Delivered, C::Accept) => complete(&mut d, now, Completion::BuyerAccepted),
        (S::PendingFirstReply | S::InProgress, C::Accept) => return Err(not_delivered()),
        (S::Completed | S::Cancelled, C::Accept) => return Err(closed()),
        (S::Delivered, C::SendBack) => {
            if order.send_backs_used >= order.policy.send_backs_allowed {
                return Err(DealError::conflict(
                    "send_back_limit_reached",
                    "差し戻しはこの取引ではもう行えません（1回まで）。承諾するか、運営にご相談ください。",
                ));
            }
            let o = &mut d.order;
            o.state = S::InProgress;
            o.send_backs_used += 1;
            o.accept_deadline = None;
            // Back in progress after the due date: the order is late now, whatever happens next.
            if now > o.due_at {
                o.late = true;
            }
            o.last_buyer_message_at = Some(now);
            d.clear_timers = vec![TimerKind::AcceptReminder, TimerKind::AcceptDeadline];
            d.notice(Side::Seller, NoticeKind::SentBack);
        }
        (S::PendingFirstReply | S::InProgress, C::SendBack) => return Err(not_delivered()),
        (S::Completed | S::Cancelled, C::SendBack) => return Err(closed()),

        // ---- Cancel requests ----------------------------------------------------------------
        (
            S::PendingFirstReply | S::InProgress | S::Delivered,
            C::FileCancel {
                request_id,
                reason,
                note,
            },
        ) => {
            let side = side_of(role)?;
            if order.pending_cancel.is_some() {
                return Err(DealError::conflict(
                    "cancel_request_pending",
                    "すでにキャンセルリクエストが出ています。",
                ));
            }
            if !reason.may_be_filed_by(side) {
                return Err(DealError::invalid(
                    "invalid_reason",
                    &format!(
                        "この理由（{}）は{}からは選べません。",
                        reason.label(),
                        side.label()
                    ),
                ));
            }
            if side == Side::Buyer {
                let silent_since = order
                    .last_buyer_message_at
                    .filter(|b| order.last_seller_message_at.is_none_or(|s| s <= *b));
                let silent_long = silent_since
                    .is_some_and(|b| now - b >= order.policy.buyer_cancel_silence_days * DAY_MS);
                if !(silent_long || order.is_overdue(now)) {
                    return Err(DealError::conflict(
                        "cancel_not_allowed_yet",
                        &format!(
                            "購入者からのキャンセルリクエストは、最後のメッセージから出品者の返信が{}日以上ない場合か、お届け予定日を過ぎた場合に行えます。",
                            order.policy.buyer_cancel_silence_days
                        ),
                    ));
                }
            }
            let expires_at = now + order.policy.cancel_reply_hours * HOUR_MS;
            d.order.pending_cancel = Some(CancelRequest {
                id: request_id.clone(),
                by: side,
                reason: *reason,
                note: note.clone(),
                filed_at: now,
                expires_at,
            });
            d.timers.push((TimerKind::CancelRequestExpiry, expires_at));
            d.history.push((
                "cancel_requested",
                json!({"by": side, "reason_code": reason.as_str(), "note": note}),
            ));
            d.system_message = Some(SystemMessage::CancelRequested {
                by: side,
                reason: *reason,
            });
            d.notice(
                side.other(),
                NoticeKind::CancelRequested {
                    reason: *reason,
                    expires_at,
                },
            );
        }
        (S::PendingFirstReply | S::InProgress | S::Delivered, C::WithdrawCancel) => {
            let req = open_request(order, role, Answer::Withdraw)?;
            d.order.pending_cancel = None;
            d.clear_timers = vec![TimerKind::CancelRequestExpiry];
            d.history
                .push(("cancel_withdrawn", json!({"request_id": req.id})));
            d.system_message = Some(SystemMessage::CancelWithdrawn);
        }
        (S::PendingFirstReply | S::InProgress | S::Delivered, C::RejectCancel) => {
            let req = open_request(order, role, Answer::Reply)?;
            d.order.pending_cancel = None;
            d.clear_timers = vec![TimerKind::CancelRequestExpiry];
            d.history
                .push(("cancel_rejected", json!({"request_id": req.id})));
            d.system_message = Some(SystemMessage::CancelRejected);
            d.notice(req.by, NoticeKind::CancelRejected);
        }
        (S::PendingFirstReply | S::InProgress | S::Delivered, C::AcceptCancel) => {
            let req = open_request(order, role, Answer::Reply)?;
            cancel(
                &mut d,
                now,
                req.reason,
                Actor::from(req.by),
                Cancelling::RequestAccepted(req.reason),
            );
        }
        (
            S::Completed | S::Cancelled,
            C::FileCancel { .. } | C::AcceptCancel | C::RejectCancel | C::WithdrawCancel,
        ) => return Err(closed()),

        // ---- Operator (dispute tool) --------------------------------------------------------
        (S::PendingFirstReply | S::InProgress | S::Delivered, C::OperatorCancel) => cancel(
            &mut d,
            now,
            CancelReason::Operator,
            Actor::Operator,
            Cancelling::Operator,
        ),
        (S::PendingFirstReply | S::InProgress | S::Delivered, C::OperatorComplete) => {
            d.history.push(("operator_completed", json!({})));
            complete(&mut d, now, Completion::Operator);
        }
        (
            S::PendingFirstReply | S::InProgress | S::Delivered,
            C::OperatorSettle { seller_amount_yen },
        ) => {
            let s = *seller_amount_yen;
            if !(0..=order.subtotal_yen()).contains(&s) {
                return Err(DealError::invalid(
                    "invalid_split",
                    &format!(
                        "出品者への支払額は0円から{}円の範囲で指定してください。",
                        order.subtotal_yen()
                    ),
                ));
            }
            let plan = settlement(order, s);
            let o = &mut d.order;
            o.state = S::Completed;
            o.completed_at = Some(now);
            o.pending_cancel = None;
            o.settlement_seller_yen = Some(s);
            d.transfers.push(plan);
            d.history
                .push(("operator_settled", json!({"seller_amount_yen": s})));
            d.system_message = Some(SystemMessage::Settled);
            for side in [Side::Buyer, Side::Seller] {
                d.notice(side, NoticeKind::Settled);
            }
            finish(&mut d);
        }
        (
            S::Completed | S::Cancelled,
            C::OperatorCancel | C::OperatorComplete | C::OperatorSettle { .. },
        ) => return Err(closed()),

        // ---- Timers ---------------------------------------------------------------------------
        (S::PendingFirstReply, C::Timer(TimerKind::FirstReplyReminder)) => {
            let hours_left = (order.first_reply_deadline - now).max(0) / HOUR_MS;
            d.notice(Side::Seller, NoticeKind::FirstReplyReminder { hours_left });
            d.order.version = order.version;
            d.unchanged = true; // a notice only: the order itself does not change
        }
        (S::PendingFirstReply, C::Timer(TimerKind::FirstReplyDeadline)) => {
            if now < order.first_reply_deadline {
                return Ok(Decision::noop(order));
            }
            cancel(
                &mut d,
                now,
                CancelReason::NoFirstReply,
                Actor::System,
                Cancelling::NoFirstReply,
            );
        }
        (S::PendingFirstReply | S::InProgress, C::Timer(TimerKind::DuePassed)) => {
            if now < order.due_at || order.late {
                return Ok(Decision::noop(order));
            }
            d.order.late = true;
            for side in [Side::Buyer, Side::Seller] {
                d.notice(side, NoticeKind::Overdue);
            }
        }
        (S::Delivered, C::Timer(TimerKind::AcceptReminder)) => {
            let due =
                order.delivered_at.unwrap_or(now) + order.policy.accept_reminder_hours * HOUR_MS;
            let deadline = order.accept_deadline.unwrap_or(now);
            if now < due || now >= deadline {
                return Ok(Decision::noop(order));
            }
            let hours_left = (deadline - now) / HOUR_MS;
            d.notice(Side::Buyer, NoticeKind::AcceptReminder { hours_left });
            d.order.version = order.version;
            d.unchanged = true;
        }
        (S::Delivered, C::Timer(TimerKind::AcceptDeadline)) => match order.accept_deadline {
            Some(deadline) if now >= deadline => complete(&mut d, now, Completion::AutoAccepted),
            Some(_) | None => return Ok(Decision::noop(order)),
        },
        (
            S::PendingFirstReply | S::InProgress | S::Delivered,
            C::Timer(TimerKind::RoomCapReminder),
        ) => {
            let days_left = (order.room_cap_at() - now + DAY_MS - 1) / DAY_MS;
            if days_left <= 0 {
                return Ok(Decision::noop(order));
            }
            for side in [Side::Buyer, Side::Seller] {
                d.notice(side, NoticeKind::RoomCapReminder { days_left });
            }
            d.order.version = order.version;
            d.unchanged = true;
        }
        (S::PendingFirstReply | S::InProgress | S::Delivered, C::Timer(TimerKind::RoomCap)) => {
            if now < order.room_cap_at() {
                return Ok(Decision::noop(order));
            }
            complete(&mut d, now, Completion::RoomCap);
        }
        (
            S::PendingFirstReply | S::InProgress | S::Delivered,
            C::Timer(TimerKind::CancelRequestExpiry),
        ) => match &order.pending_cancel {
            Some(req) if now >= req.expires_at => {
                let reason = req.reason;
                cancel(
                    &mut d,
                    now,
                    reason,
                    Actor::from(req.by),
                    Cancelling::RequestExpired(reason),
                );
            }
            Some(_) | None => return Ok(Decision::noop(order)),
        },
        // Timers whose moment has moved on: the state no longer needs them.
        (
            S::InProgress | S::Delivered,
            C::Timer(TimerKind::FirstReplyReminder | TimerKind::FirstReplyDeadline),
        )
        | (S::Delivered, C::Timer(TimerKind::DuePassed))
        | (
            S::PendingFirstReply | S::InProgress,
            C::Timer(TimerKind::AcceptReminder | TimerKind::AcceptDeadline),
        )
        | (S::Completed | S::Cancelled, C::Timer(_)) => return Ok(Decision::noop(order)),
    }
    Ok(d)
}
