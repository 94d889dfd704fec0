//! The order engine: the pure `purchase(input, policy, now)` and
//! `decide(order, command, actor, now) -> Result<Decision, DealError>`, one exhaustive
//! `match (state, command)`. A decision is the new order plus its effects — ledger transfers,
//! timers to set, notices to the parties, a system message and history entries — which the store
//! applies with a compare-and-set on the order's version. Money moves here as transfer plans:
//! release at completion, full refund at cancellation, and the operator's split settlement.

use serde_json::json;

use super::model::{
    Actor, CancelReason, CancelRequest, Cancellation, Command, DealError, Decision, Order,
    OrderState, Side, TimerKind,
};
use super::policy::{DAY_MS, HOUR_MS, Policy};
use crate::clock::{Millis, jst_date, jst_datetime, to_rfc3339};
use crate::ledger::{AccountRef, TransferCode, TransferPlan};

fn not_allowed(code: &'static str, message: &str) -> DealError {
    DealError::NotAllowed {
        code,
        message: message.into(),
    }
}

fn conflict(code: &'static str, message: &str) -> DealError {
    DealError::Conflict {
        code,
        message: message.into(),
    }
}

fn closed() -> DealError {
    conflict("order_closed", "この取引はすでに終了しています。")
}

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
        return Err(not_allowed(
            "own_listing",
            "ご自身のサービスは購入できません。",
        ));
    }
    let options_yen: i64 = input.options.iter().map(|(p, _)| p).sum();
    let extra_days: i64 = input.options.iter().map(|(_, d)| d).sum();
    let subtotal = input.price_yen + options_yen;
    let buyer_fee_yen = policy.buyer_fee(subtotal);
    let total_yen = subtotal + buyer_fee_yen;
    if input.points_used < 0 || input.points_used > total_yen {
        return Err(DealError::Invalid {
            code: "invalid_points",
            message: "利用ポイントは0以上、お支払い総額以下で指定してください。".into(),
        });
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
        buyer_fee_yen,
        total_yen,
        points_used: input.points_used,
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
    let title = format!(
        "サービスが購入されました（{}時間以内にトークルームでご連絡ください）",
        o.policy.first_reply_hours
    );
    let body = format!(
        "「{}」が購入されました。{}までに購入者へ最初のメッセージを送ってください。期限を過ぎると取引は自動キャンセルされます。",
        o.title,
        jst_datetime(o.first_reply_deadline)
    );
    let sys = format!(
        "ご購入ありがとうございます。出品者は{}時間以内にトークルームでご連絡します。お届け予定日は{}です。",
        o.policy.first_reply_hours,
        jst_date(o.due_at)
    );
    d.timers = timers;
    d.notice(Side::Seller, "purchased", title, body);
    d.system_message = Some(sys);
    Ok(d)
}

/// The release of escrow at completion: seller earnings (subtotal − commission) and platform
/// revenue (commission + buyer fee).
fn release(o: &Order) -> TransferPlan {
    let commission = o.policy.commission(o.subtotal_yen());
    TransferPlan {
        key: format!("order:{}:release", o.id),
        code: TransferCode::Release,
        order_id: Some(o.id.clone()),
        memo: format!("「{}」の売上（手数料{}円を差し引き）", o.title, commission),
        entries: vec![
            (AccountRef::Escrow(o.id.clone()), -o.total_yen),
            (
                AccountRef::Earnings(o.seller_id.clone()),
                o.subtotal_yen() - commission,
            ),
            (AccountRef::PlatformRevenue, commission + o.buyer_fee_yen),
        ],
    }
}

/// The full refund of escrow: points back to points, the rest to the card.
fn refund(o: &Order) -> TransferPlan {
    TransferPlan {
        key: format!("order:{}:refund", o.id),
        code: TransferCode::Refund,
        order_id: Some(o.id.clone()),
        memo: format!("「{}」のキャンセルによる返金", o.title),
        entries: vec![
            (AccountRef::Escrow(o.id.clone()), -o.total_yen),
            (AccountRef::Points(o.buyer_id.clone()), o.points_used),
            (AccountRef::Gateway, o.charged_yen()),
        ],
    }
}

/// A split settlement: the seller keeps `s` of the subtotal (less commission on `s`), the
/// platform keeps the buyer fee in proportion to `s`, the buyer gets the rest back (points first).
pub fn settlement(o: &Order, s: i64) -> TransferPlan {
    let subtotal = o.subtotal_yen();
    let commission = o.policy.commission(s);
    let fee_kept = if subtotal == 0 {
        0
    } else {
        i64::try_from(i128::from(o.buyer_fee_yen) * i128::from(s) / i128::from(subtotal))
            .unwrap_or(0)
    };
    let buyer_refund = o.total_yen - s - fee_kept;
    let points_back = buyer_refund.min(o.points_used);
    TransferPlan {
        key: format!("order:{}:settlement", o.id),
        code: TransferCode::Settlement,
        order_id: Some(o.id.clone()),
        memo: format!("「{}」の運営による精算", o.title),
        entries: vec![
            (AccountRef::Escrow(o.id.clone()), -o.total_yen),
            (AccountRef::Earnings(o.seller_id.clone()), s - commission),
            (AccountRef::PlatformRevenue, commission + fee_kept),
            (AccountRef::Points(o.buyer_id.clone()), points_back),
            (AccountRef::Gateway, buyer_refund - points_back),
        ],
    }
}

fn complete(d: &mut Decision, now: Millis, how: &str) {
    let o = &mut d.order;
    o.state = OrderState::Completed;
    o.completed_at = Some(now);
    o.pending_cancel = None;
    let plan = release(o);
    let title = o.title.clone();
    d.transfers.push(plan);
    d.system_message = Some(format!(
        "{how}により取引が完了しました。お互いに評価をお願いします。"
    ));
    d.notice(
        Side::Seller,
        "completed",
        "取引が完了しました".into(),
        format!("「{title}」の取引が完了し、売上金に反映されました（{how}）。"),
    );
    d.notice(
        Side::Buyer,
        "completed",
        "取引が完了しました".into(),
        format!("「{title}」の取引が完了しました（{how}）。評価をお願いします。"),
    );
}

fn cancel(d: &mut Decision, now: Millis, reason: CancelReason, by: Actor, message: String) {
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
    let title = o.title.clone();
    d.transfers.push(plan);
    d.system_message = Some(message.clone());
    d.history.push(("cancelled", json!({"reason_code": reason.as_str(), "fault": reason.fault().as_str(), "by": by.as_str()})));
    for side in [Side::Buyer, Side::Seller] {
        d.notice(
            side,
            "cancelled",
            "取引がキャンセルされました".into(),
            format!("「{title}」: {message}"),
        );
    }
}

fn require_side(
    actor: Actor,
    side: Side,
    code: &'static str,
    message: &str,
) -> Result<(), DealError> {
    let ok = match (actor, side) {
        (Actor::Buyer, Side::Buyer) | (Actor::Seller, Side::Seller) => true,
        (Actor::Buyer, Side::Seller)
        | (Actor::Seller, Side::Buyer)
        | (Actor::Operator, _)
        | (Actor::System, _) => false,
    };
    if ok {
        Ok(())
    } else {
        Err(not_allowed(code, message))
    }
}

fn party(actor: Actor) -> Result<Side, DealError> {
    match actor {
        Actor::Buyer => Ok(Side::Buyer),
        Actor::Seller => Ok(Side::Seller),
        Actor::Operator | Actor::System => Err(not_allowed(
            "parties_only",
            "この操作は取引の当事者のみ行えます。",
        )),
    }
}

fn require_operator(actor: Actor) -> Result<(), DealError> {
    match actor {
        Actor::Operator => Ok(()),
        Actor::Buyer | Actor::Seller | Actor::System => Err(not_allowed(
            "operator_only",
            "この操作は運営者のみ行えます。",
        )),
    }
}

fn require_system(actor: Actor) -> Result<(), DealError> {
    match actor {
        Actor::System => Ok(()),
        Actor::Buyer | Actor::Seller | Actor::Operator => Err(not_allowed(
            "system_only",
            "この操作はシステムのみ行えます。",
        )),
    }
}

/// Decides what a command does to an order. Pure: same inputs, same decision.
pub fn decide(
    order: &Order,
    command: &Command,
    actor: Actor,
    now: Millis,
) -> Result<Decision, DealError> {
    use Command as C;
    use OrderState as S;
    let mut d = Decision::new(order.clone());
    d.order.version = order.version + 1;
    match (order.state, command) {
        // ---- Talk room messages -------------------------------------------------------------
        (S::PendingFirstReply | S::InProgress | S::Delivered, C::PostMessage) => {
            let side = party(actor)?;
            match side {
                Side::Buyer => d.order.last_buyer_message_at = Some(now),
                Side::Seller => {
                    d.order.last_seller_message_at = Some(now);
                    if d.order.first_replied_at.is_none() {
                        d.order.first_replied_at = Some(now);
                    }
                    if order.state == S::PendingFirstReply {
                        d.order.state = S::InProgress;
                        d.notice(
                            Side::Buyer,
                            "first_reply",
                            "出品者から最初のメッセージが届きました".into(),
                            format!("「{}」のトークルームを確認してください。", order.title),
                        );
                    }
                }
            }
        }
        (S::Completed | S::Cancelled, C::PostMessage) => {
            party(actor)?;
            return Err(conflict(
                "talk_room_closed",
                "取引が終了したトークルームには投稿できません。",
            ));
        }

        // ---- Due date -----------------------------------------------------------------------
        (S::PendingFirstReply | S::InProgress | S::Delivered, C::SetDueDate { due_at }) => {
            require_side(
                actor,
                Side::Seller,
                "seller_only",
                "お届け予定日を変更できるのは出品者のみです。",
            )?;
            if *due_at <= now {
                return Err(DealError::Invalid {
                    code: "due_date_in_past",
                    message: "お届け予定日は現在より後の日時を指定してください。".into(),
                });
            }
            if *due_at > order.room_cap_at() {
                return Err(DealError::Invalid {
                    code: "due_date_too_late",
                    message: format!(
                        "お届け予定日は購入から{}日以内で指定してください。",
                        order.policy.room_max_days
                    ),
                });
            }
            d.order.due_at = *due_at;
            d.timers.push((TimerKind::DuePassed, *due_at));
            d.history.push((
                "due_date_changed",
                json!({"from_at": to_rfc3339(order.due_at), "to_at": to_rfc3339(*due_at)}),
            ));
            let text = format!(
                "お届け予定日が{}から{}に変更されました。",
                jst_date(order.due_at),
                jst_date(*due_at)
            );
            d.system_message = Some(text.clone());
            d.notice(
                Side::Buyer,
                "due_date_changed",
                "お届け予定日が変更されました".into(),
                format!("「{}」: {text}", order.title),
            );
        }
        (S::Completed | S::Cancelled, C::SetDueDate { .. }) => {
            require_side(
                actor,
                Side::Seller,
                "seller_only",
                "お届け予定日を変更できるのは出品者のみです。",
            )?;
            return Err(closed());
        }

        // ---- Formal delivery ----------------------------------------------------------------
        (S::PendingFirstReply | S::InProgress, C::Deliver) => {
            require_side(
                actor,
                Side::Seller,
                "seller_only",
                "正式な納品ができるのは出品者のみです。",
            )?;
            let o = &mut d.order;
            o.state = S::Delivered;
            o.delivered_at = Some(now);
            o.accept_deadline = Some(now + o.policy.accept_hours * HOUR_MS);
            o.last_seller_message_at = Some(now);
            if o.first_replied_at.is_none() {
                o.first_replied_at = Some(now);
            }
            if now > o.due_at {
                o.late = true;
            }
            let deadline = now + o.policy.accept_hours * HOUR_MS;
            d.timers.push((
                TimerKind::AcceptReminder,
                now + order.policy.accept_reminder_hours * HOUR_MS,
            ));
            d.timers.push((TimerKind::AcceptDeadline, deadline));
            d.notice(Side::Buyer, "delivered",
                format!("正式な納品がありました（{}時間以内に承諾または差し戻しをしてください）", order.policy.accept_hours),
                format!("「{}」の納品内容を確認してください。{}までに回答がない場合は自動で承諾されます。", order.title, jst_datetime(deadline)));
        }
        (S::Delivered, C::Deliver) => {
            require_side(
                actor,
                Side::Seller,
                "seller_only",
                "正式な納品ができるのは出品者のみです。",
            )?;
            return Err(conflict(
                "already_delivered",
                "すでに正式な納品済みです。購入者の回答をお待ちください。",
            ));
        }
        (S::Completed | S::Cancelled, C::Deliver) => {
            require_side(
                actor,
                Side::Seller,
                "seller_only",
                "正式な納品ができるのは出品者のみです。",
            )?;
            return Err(closed());
        }

        // ---- Acceptance and send-back -------------------------------------------------------
        (S::Delivered, C::Accept) => {
            require_side(
                actor,
                Side::Buyer,
                "buyer_only",
                "承諾できるのは購入者のみです。",
            )?;
            complete(&mut d, now, "購入者の承諾");
        }
        (S::PendingFirstReply | S::InProgress, C::Accept) => {
            require_side(
                actor,
                Side::Buyer,
                "buyer_only",
                "承諾できるのは購入者のみです。",
            )?;
            return Err(conflict("not_delivered", "まだ正式な納品がありません。"));
        }
        (S::Completed | S::Cancelled, C::Accept) => {
            require_side(
                actor,
                Side::Buyer,
                "buyer_only",
                "承諾できるのは購入者のみです。",
            )?;
            return Err(closed());
        }
        (S::Delivered, C::SendBack) => {
            require_side(
                actor,
                Side::Buyer,
                "buyer_only",
                "差し戻しできるのは購入者のみです。",
            )?;
            if order.send_backs_used >= order.policy.send_backs_allowed {
                return Err(conflict(
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
            d.notice(Side::Seller, "sent_back", "納品が差し戻されました".into(),
                format!("「{}」の納品が差し戻されました。内容を確認し、修正後にあらためて正式な納品をしてください。", order.title));
        }
        (S::PendingFirstReply | S::InProgress, C::SendBack) => {
            require_side(
                actor,
                Side::Buyer,
                "buyer_only",
                "差し戻しできるのは購入者のみです。",
            )?;
            return Err(conflict("not_delivered", "まだ正式な納品がありません。"));
        }
        (S::Completed | S::Cancelled, C::SendBack) => {
            require_side(
                actor,
                Side::Buyer,
                "buyer_only",
                "差し戻しできるのは購入者のみです。",
            )?;
            return Err(closed());
        }

        // ---- Cancel requests ----------------------------------------------------------------
        (
            S::PendingFirstReply | S::InProgress | S::Delivered,
            C::FileCancel {
                request_id,
                reason,
                note,
            },
        ) => {
            let side = party(actor)?;
            if order.pending_cancel.is_some() {
                return Err(conflict(
                    "cancel_request_pending",
                    "すでにキャンセルリクエストが出ています。",
                ));
            }
            if !reason.may_be_filed_by(side) {
                return Err(DealError::Invalid {
                    code: "invalid_reason",
                    message: format!(
                        "この理由（{}）は{}からは選べません。",
                        reason.label(),
                        side.label()
                    ),
                });
            }
            if side == Side::Buyer {
                let silent_since = order
                    .last_buyer_message_at
                    .filter(|b| order.last_seller_message_at.is_none_or(|s| s <= *b));
                let silent_long = silent_since
                    .is_some_and(|b| now - b >= order.policy.buyer_cancel_silence_days * DAY_MS);
                if !(silent_long || order.is_overdue(now)) {
                    return Err(conflict(
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
            d.system_message = Some(format!(
                "{}からキャンセルリクエストが送信されました（理由: {}）。{}時間以内に回答がない場合は自動でキャンセルが成立します。",
                side.label(),
                reason.label(),
                order.policy.cancel_reply_hours
            ));
            d.notice(side.other(), "cancel_requested", "キャンセルリクエストが届きました".into(),
                format!("「{}」についてキャンセルリクエストが届きました（理由: {}）。{}までに承諾または拒否してください。", order.title, reason.label(), jst_datetime(expires_at)));
        }
        (
            S::PendingFirstReply | S::InProgress | S::Delivered,
            C::AcceptCancel | C::RejectCancel | C::WithdrawCancel,
        ) => {
            let side = party(actor)?;
            let Some(req) = order.pending_cancel.clone() else {
                return Err(conflict(
                    "no_cancel_request",
                    "回答できるキャンセルリクエストはありません。",
                ));
            };
            match command {
                C::WithdrawCancel => {
                    if req.by != side {
                        return Err(not_allowed(
                            "not_requester",
                            "取り下げられるのはリクエストを出した方のみです。",
                        ));
                    }
                    d.order.pending_cancel = None;
                    d.history
                        .push(("cancel_withdrawn", json!({"request_id": req.id})));
                    d.system_message = Some("キャンセルリクエストが取り下げられました。".into());
                }
                C::RejectCancel => {
                    if req.by == side {
                        return Err(not_allowed(
                            "requester_cannot_answer",
                            "ご自身のリクエストには回答できません。",
                        ));
                    }
                    d.order.pending_cancel = None;
                    d.history
                        .push(("cancel_rejected", json!({"request_id": req.id})));
                    d.system_message =
                        Some("キャンセルリクエストは拒否されました。取引を続けてください。".into());
                    d.notice(
                        req.by,
                        "cancel_rejected",
                        "キャンセルリクエストが拒否されました".into(),
                        format!("「{}」の取引は継続します。", order.title),
                    );
                }
                _ => {
                    if req.by == side {
                        return Err(not_allowed(
                            "requester_cannot_answer",
                            "ご自身のリクエストには回答できません。",
                        ));
                    }
                    let by = match req.by {
                        Side::Buyer => Actor::Buyer,
                        Side::Seller => Actor::Seller,
                    };
                    cancel(
                        &mut d,
                        now,
                        req.reason,
                        by,
                        format!(
                            "キャンセルリクエストが承諾され、取引はキャンセルされました（理由: {}）。お支払いは全額返金されます。",
                            req.reason.label()
                        ),
                    );
                }
            }
        }
        (
            S::Completed | S::Cancelled,
            C::FileCancel { .. } | C::AcceptCancel | C::RejectCancel | C::WithdrawCancel,
        ) => {
            party(actor)?;
            return Err(closed());
        }

        // ---- Operator (dispute tool) --------------------------------------------------------
        (S::PendingFirstReply | S::InProgress | S::Delivered, C::OperatorCancel) => {
            require_operator(actor)?;
            cancel(
                &mut d,
                now,
                CancelReason::Operator,
                Actor::Operator,
                "運営により取引がキャンセルされました。お支払いは全額返金されます。".into(),
            );
        }
        (S::PendingFirstReply | S::InProgress | S::Delivered, C::OperatorComplete) => {
            require_operator(actor)?;
            d.history.push(("operator_completed", json!({})));
            complete(&mut d, now, "運営の対応");
        }
        (
            S::PendingFirstReply | S::InProgress | S::Delivered,
            C::OperatorSettle { seller_amount_yen },
        ) => {
            require_operator(actor)?;
            let s = *seller_amount_yen;
            if !(0..=order.subtotal_yen()).contains(&s) {
                return Err(DealError::Invalid {
                    code: "invalid_split",
                    message: format!(
                        "出品者への支払額は0円から{}円の範囲で指定してください。",
                        order.subtotal_yen()
                    ),
                });
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
            d.system_message = Some("運営の判断により、取引は精算のうえ終了しました。".into());
            for side in [Side::Buyer, Side::Seller] {
                d.notice(
                    side,
                    "settled",
                    "運営により取引が精算されました".into(),
                    format!(
                        "「{}」の取引は運営の判断により精算されました。",
                        order.title
                    ),
                );
            }
        }
        (
            S::Completed | S::Cancelled,
            C::OperatorCancel | C::OperatorComplete | C::OperatorSettle { .. },
        ) => {
            require_operator(actor)?;
            return Err(closed());
        }

        // ---- Timers ---------------------------------------------------------------------------
        (S::PendingFirstReply, C::Timer(TimerKind::FirstReplyReminder)) => {
            require_system(actor)?;
            let left_h = (order.first_reply_deadline - now).max(0) / HOUR_MS;
            d.notice(Side::Seller, "first_reply_reminder", format!("あと{left_h}時間で自動キャンセルされます"),
                format!("「{}」の購入者へまだメッセージを送っていません。{}までに送らないと取引は自動キャンセルされます。", order.title, jst_datetime(order.first_reply_deadline)));
            d.order.version = order.version;
            d.unchanged = true; // a notice only: the order itself does not change
        }
        (S::PendingFirstReply, C::Timer(TimerKind::FirstReplyDeadline)) => {
            require_system(actor)?;
            if now < order.first_reply_deadline {
                return Ok(Decision::noop(order));
            }
            cancel(
                &mut d,
                now,
                CancelReason::NoFirstReply,
                Actor::System,
                format!(
                    "{}時間以内に出品者からの返信がなかったため、取引は自動キャンセルされました。お支払いは全額返金されます。",
                    order.policy.first_reply_hours
                ),
            );
        }
        (S::PendingFirstReply | S::InProgress, C::Timer(TimerKind::DuePassed)) => {
            require_system(actor)?;
            if now < order.due_at || order.late {
                return Ok(Decision::noop(order));
            }
            d.order.late = true;
            for side in [Side::Buyer, Side::Seller] {
                d.notice(
                    side,
                    "overdue",
                    "お届け予定日を過ぎました".into(),
                    format!(
                        "「{}」のお届け予定日（{}）を過ぎました。",
                        order.title,
                        jst_date(order.due_at)
                    ),
                );
            }
        }
        (S::Delivered, C::Timer(TimerKind::AcceptReminder)) => {
            require_system(actor)?;
            let due =
                order.delivered_at.unwrap_or(now) + order.policy.accept_reminder_hours * HOUR_MS;
            let deadline = order.accept_deadline.unwrap_or(now);
            if now < due || now >= deadline {
                return Ok(Decision::noop(order));
            }
            let left_h = (deadline - now) / HOUR_MS;
            d.notice(
                Side::Buyer,
                "accept_reminder",
                format!("あと{left_h}時間で自動承諾されます"),
                format!(
                    "「{}」の納品内容を確認し、承諾または差し戻しをしてください。",
                    order.title
                ),
            );
            d.order.version = order.version;
            d.unchanged = true;
        }
        (S::Delivered, C::Timer(TimerKind::AcceptDeadline)) => {
            require_system(actor)?;
            match order.accept_deadline {
                Some(deadline) if now >= deadline => complete(&mut d, now, "自動承諾"),
                Some(_) | None => return Ok(Decision::noop(order)),
            }
        }
        (
            S::PendingFirstReply | S::InProgress | S::Delivered,
            C::Timer(TimerKind::RoomCapReminder),
        ) => {
            require_system(actor)?;
            let left_days = (order.room_cap_at() - now + DAY_MS - 1) / DAY_MS;
            if left_days <= 0 {
                return Ok(Decision::noop(order));
            }
            for side in [Side::Buyer, Side::Seller] {
                d.notice(
                    side,
                    "room_cap_reminder",
                    format!("あと{left_days}日でトークルームが終了します"),
                    format!(
                        "「{}」は購入から{}日で自動的に完了となります（{}）。",
                        order.title,
                        order.policy.room_max_days,
                        jst_date(order.room_cap_at())
                    ),
                );
            }
            d.order.version = order.version;
            d.unchanged = true;
        }
        (S::PendingFirstReply | S::InProgress | S::Delivered, C::Timer(TimerKind::RoomCap)) => {
            require_system(actor)?;
            if now < order.room_cap_at() {
                return Ok(Decision::noop(order));
            }
            complete(
                &mut d,
                now,
                &format!("購入から{}日の経過", order.policy.room_max_days),
            );
        }
        (
            S::PendingFirstReply | S::InProgress | S::Delivered,
            C::Timer(TimerKind::CancelRequestExpiry),
        ) => {
            require_system(actor)?;
            match &order.pending_cancel {
                Some(req) if now >= req.expires_at => {
                    let by = match req.by {
                        Side::Buyer => Actor::Buyer,
                        Side::Seller => Actor::Seller,
                    };
                    let reason = req.reason;
                    cancel(
                        &mut d,
                        now,
                        reason,
                        by,
                        format!(
                            "{}時間以内に回答がなかったため、キャンセルリクエストが自動で承諾されました（理由: {}）。お支払いは全額返金されます。",
                            order.policy.cancel_reply_hours,
                            reason.label()
                        ),
                    );
                }
                Some(_) | None => return Ok(Decision::noop(order)),
            }
        }
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
        | (S::Completed | S::Cancelled, C::Timer(_)) => {
            require_system(actor)?;
            return Ok(Decision::noop(order));
        }
    }
    Ok(d)
}
