//! The single rules pinned by worked examples on the pure engine: 48 h auto-cancel, 72 h
//! auto-accept, one send-back, the buyer's 4-day cancel rule, 24 h cancel-request expiry, the
//! 120-day room cap and the split settlement.

use super::{BUYER, ORDER, SELLER, T0, code_of, input};
use crate::clock::Millis;
use crate::ledger::{AccountRef, TransferCode};
use crate::orders::model::{
    Actor, CancelReason, Command, Decision, Fault, Order, OrderState, Side, TimerKind, decide,
    purchase,
};
use crate::orders::policy::{DAY_MS, HOUR_MS, Policy};

fn bought(points: i64) -> Order {
    purchase(input(10_000, vec![], 30, points), Policy::default(), T0)
        .expect("purchase")
        .order
}

fn ok(o: &Order, cmd: Command, actor: Actor, at: Millis) -> Decision {
    decide(o, &cmd, actor, at).expect("command accepted")
}

fn refused(o: &Order, cmd: Command, actor: Actor, at: Millis) -> &'static str {
    code_of(&decide(o, &cmd, actor, at).expect_err("command refused"))
}

fn file(reason: CancelReason) -> Command {
    Command::FileCancel {
        request_id: "req-1".into(),
        reason,
        note: String::new(),
    }
}

#[test]
fn a_seller_silent_for_48_hours_gets_the_order_cancelled_automatically() {
    let o = bought(0);
    let early = ok(
        &o,
        Command::Timer(TimerKind::FirstReplyDeadline),
        Actor::System,
        T0 + 48 * HOUR_MS - 1,
    );
    assert!(early.unchanged);
    let d = ok(
        &o,
        Command::Timer(TimerKind::FirstReplyDeadline),
        Actor::System,
        T0 + 48 * HOUR_MS,
    );
    assert_eq!(d.order.state, OrderState::Cancelled);
    let c = d.order.cancellation.expect("cancellation");
    assert_eq!(c.reason, CancelReason::NoFirstReply);
    assert_eq!(c.fault, Fault::Seller);
    assert_eq!(d.transfers[0].code, TransferCode::Refund);
}

#[test]
fn a_seller_reply_at_47_hours_keeps_the_order_alive() {
    let o = bought(0);
    let replied = ok(&o, Command::PostMessage, Actor::Seller, T0 + 47 * HOUR_MS).order;
    assert_eq!(replied.state, OrderState::InProgress);
    let d = ok(
        &replied,
        Command::Timer(TimerKind::FirstReplyDeadline),
        Actor::System,
        T0 + 48 * HOUR_MS,
    );
    assert!(d.unchanged);
    assert_eq!(d.order.state, OrderState::InProgress);
}

#[test]
fn a_delivery_unanswered_for_72_hours_is_accepted_automatically() {
    let o = bought(0);
    let at = T0 + 5 * HOUR_MS;
    let delivered = ok(&o, Command::Deliver, Actor::Seller, at).order;
    let timer = Command::Timer(TimerKind::AcceptDeadline);
    assert!(
        ok(
            &delivered,
            timer.clone(),
            Actor::System,
            at + 72 * HOUR_MS - 1
        )
        .unchanged
    );
    let d = ok(&delivered, timer, Actor::System, at + 72 * HOUR_MS);
    assert_eq!(d.order.state, OrderState::Completed);
    let release = &d.transfers[0];
    assert_eq!(release.code, TransferCode::Release);
    assert!(
        release
            .entries
            .contains(&(AccountRef::Earnings(SELLER.into()), 7_800))
    );
    assert!(
        release
            .entries
            .contains(&(AccountRef::PlatformRevenue, 2_200 + 550))
    );
}

#[test]
fn a_second_send_back_is_refused_with_send_back_limit_reached() {
    let mut o = bought(0);
    o = ok(&o, Command::Deliver, Actor::Seller, T0 + HOUR_MS).order;
    o = ok(&o, Command::SendBack, Actor::Buyer, T0 + 2 * HOUR_MS).order;
    assert_eq!(o.state, OrderState::InProgress);
    assert_eq!(o.send_backs_used, 1);
    o = ok(&o, Command::Deliver, Actor::Seller, T0 + 3 * HOUR_MS).order;
    assert_eq!(
        refused(&o, Command::SendBack, Actor::Buyer, T0 + 4 * HOUR_MS),
        "send_back_limit_reached"
    );
    let done = ok(&o, Command::Accept, Actor::Buyer, T0 + 4 * HOUR_MS).order;
    assert_eq!(done.state, OrderState::Completed);
}

#[test]
fn a_buyer_may_file_a_cancel_only_after_four_days_of_seller_silence() {
    let mut o = bought(0);
    o = ok(&o, Command::PostMessage, Actor::Seller, T0 + HOUR_MS).order;
    let asked = T0 + 2 * HOUR_MS;
    o = ok(&o, Command::PostMessage, Actor::Buyer, asked).order;
    let reason = file(CancelReason::SellerUnresponsive);
    assert_eq!(
        refused(&o, reason.clone(), Actor::Buyer, asked + 4 * DAY_MS - 1),
        "cancel_not_allowed_yet"
    );
    let d = ok(&o, reason.clone(), Actor::Buyer, asked + 4 * DAY_MS);
    assert_eq!(d.order.pending_cancel.map(|r| r.by), Some(Side::Buyer));
    // A seller reply restarts the wait.
    let answered = ok(&o, Command::PostMessage, Actor::Seller, asked + DAY_MS).order;
    assert_eq!(
        refused(&answered, reason, Actor::Buyer, asked + 5 * DAY_MS),
        "cancel_not_allowed_yet"
    );
}

#[test]
fn an_unanswered_cancel_request_cancels_the_order_after_24_hours() {
    let mut o = bought(300);
    o = ok(&o, Command::PostMessage, Actor::Seller, T0 + HOUR_MS).order;
    let filed = T0 + 2 * HOUR_MS;
    o = ok(
        &o,
        file(CancelReason::ScheduleMismatch),
        Actor::Seller,
        filed,
    )
    .order;
    let timer = Command::Timer(TimerKind::CancelRequestExpiry);
    assert!(ok(&o, timer.clone(), Actor::System, filed + 24 * HOUR_MS - 1).unchanged);
    let d = ok(&o, timer, Actor::System, filed + 24 * HOUR_MS);
    assert_eq!(d.order.state, OrderState::Cancelled);
    let c = d.order.cancellation.expect("cancellation");
    assert_eq!(
        (c.reason, c.fault, c.by),
        (CancelReason::ScheduleMismatch, Fault::None, Actor::Seller)
    );
    let refund = &d.transfers[0];
    assert!(
        refund
            .entries
            .contains(&(AccountRef::Points(BUYER.into()), 300))
    );
    assert!(
        refund
            .entries
            .contains(&(AccountRef::Gateway, 10_550 - 300))
    );
}

#[test]
fn an_open_order_is_completed_at_the_120_day_room_cap() {
    let mut o = bought(0);
    o = ok(&o, Command::PostMessage, Actor::Seller, T0 + HOUR_MS).order;
    let timer = Command::Timer(TimerKind::RoomCap);
    assert!(ok(&o, timer.clone(), Actor::System, T0 + 120 * DAY_MS - 1).unchanged);
    let d = ok(&o, timer, Actor::System, T0 + 120 * DAY_MS);
    assert_eq!(d.order.state, OrderState::Completed);
    assert_eq!(d.transfers[0].code, TransferCode::Release);
}

#[test]
fn a_split_settlement_divides_the_total_between_seller_platform_and_buyer() {
    let o = bought(1_000);
    assert_eq!(o.total_yen, 10_550);
    let d = ok(
        &o,
        Command::OperatorSettle {
            seller_amount_yen: 4_000,
        },
        Actor::Operator,
        T0 + DAY_MS,
    );
    assert_eq!(d.order.state, OrderState::Completed);
    let t = &d.transfers[0];
    assert_eq!(t.code, TransferCode::Settlement);
    let sum: i64 = t.entries.iter().map(|(_, a)| a).sum();
    assert_eq!(sum, 0);
    // Seller: 4,000 − 22 % = 3,120. Platform: 880 commission + 550 × 4,000 / 10,000 = 220 of
    // the buyer fee. Buyer: 10,550 − 4,000 − 220 = 6,330 back, points first.
    for entry in [
        (AccountRef::Escrow(ORDER.into()), -10_550),
        (AccountRef::Earnings(SELLER.into()), 3_120),
        (AccountRef::PlatformRevenue, 1_100),
        (AccountRef::Points(BUYER.into()), 1_000),
        (AccountRef::Gateway, 5_330),
    ] {
        assert!(t.entries.contains(&entry), "missing {entry:?}");
    }
    assert_eq!(
        refused(
            &o,
            Command::OperatorSettle {
                seller_amount_yen: 10_001
            },
            Actor::Operator,
            T0 + DAY_MS
        ),
        "invalid_split"
    );
}
