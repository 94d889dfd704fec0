//! Model-based property tests of the pure order engine (`model::purchase` and `model::decide`)
//! against the deal rules of DESIGN.md section 1. A random purchase is driven through a random
//! sequence of commands by random actors with random clock jumps, while an in-memory ledger
//! (transfers applied once per key, like the real store) and timer table (due timers fired in
//! order at their own moment as `system`, like the real worker) follow it. After every step the
//! tests check money conservation, non-negative user accounts, escrow, terminal states, versions,
//! who may do what in which state (an independent oracle of the rules), the send-back limit, the
//! first-reply rule and the final split of the money. Deterministic tests pin the single rules:
//! 48 h auto-cancel, 72 h auto-accept, one send-back, the buyer's 4-day cancel rule, 24 h
//! cancel-request expiry, the 120-day room cap and the split settlement.
//!
//! - `oracle`: the independent reference model of the rules — what a command should do.
//! - `simulator`: drives the real engine step by step, with its ledger and timer table.
//! - `properties`: the `proptest!` properties.
//! - `single_rules`: the deterministic tests of one rule each.
//!
//! This module owns what they share: the fixed parties and moment of every purchase, and the
//! generators (the generated purchase, steps and commands, and their proptest strategies).

mod oracle;
mod properties;
mod simulator;
mod single_rules;

use proptest::prelude::*;

use super::model::{Actor, CancelReason, DealError, PurchaseInput, TimerKind};
use super::policy::{DAY_MS, HOUR_MS};
use crate::clock::Millis;

/// 2026-01-01T00:00:00Z: the moment every generated purchase happens.
const T0: Millis = 1_767_225_600_000;
const BUYER: &str = "buyer-1";
const SELLER: &str = "seller-1";
const ORDER: &str = "order-1";

const ALL_TIMERS: [TimerKind; 8] = TimerKind::ALL;
const ALL_REASONS: [CancelReason; 9] = CancelReason::ALL;

fn code_of(e: &DealError) -> &'static str {
    match e {
        DealError::NotAllowed { code, .. }
        | DealError::Conflict { code, .. }
        | DealError::Invalid { code, .. } => code,
    }
}

fn input(price_yen: i64, options: Vec<(i64, i64)>, days: i64, points: i64) -> PurchaseInput {
    PurchaseInput {
        order_id: ORDER.into(),
        listing_id: "listing-1".into(),
        buyer_id: BUYER.into(),
        seller_id: SELLER.into(),
        title: "ロゴ作成".into(),
        price_yen,
        options,
        delivery_days: days,
        points_used: points,
    }
}

// ---- Generated purchases and commands --------------------------------------------------------

/// A seller's share for a settlement, resolved against the order's subtotal.
#[derive(Debug, Clone, Copy)]
enum Share {
    Permille(i64),
    Negative,
    AboveSubtotal,
}

/// A new due date, resolved against the clock or the room cap.
#[derive(Debug, Clone, Copy)]
enum DueAt {
    FromNow(Millis),
    RoomCapPlus(Millis),
}

#[derive(Debug, Clone)]
enum Cmd {
    /// A message; `true` = by the buyer when the actor is the natural one.
    Post(bool),
    SetDue(DueAt),
    Deliver,
    Accept,
    SendBack,
    /// A cancel request; the flag picks the natural side for reasons either side may use.
    File(CancelReason, bool),
    AcceptCancel,
    RejectCancel,
    WithdrawCancel,
    OperatorCancel,
    OperatorComplete,
    OperatorSettle(Share),
    Timer(TimerKind),
    /// The answer the deal is waiting for, picked when it runs: to an open cancel request
    /// (accept, reject, withdraw), else to a delivery (accept, send back), else a message.
    Answer(u8),
}

#[derive(Debug, Clone)]
struct Step {
    jump_ms: Millis,
    /// `None`: the actor who would naturally send the command; else this one.
    actor: Option<Actor>,
    cmd: Cmd,
    /// Run the timer worker (all due timers) before the command.
    fire_timers: bool,
}

#[derive(Debug, Clone)]
struct Bought {
    price_yen: i64,
    options: Vec<(i64, i64)>,
    delivery_days: i64,
    /// Share of the total paid with points, in permille.
    points_permille: i64,
    /// Points the buyer holds beyond what the purchase uses.
    spare_points: i64,
    send_backs_allowed: i64,
    /// When the seller greets the buyer, if they do before the first command (minutes after
    /// purchase); most deals start this way, the rest test the 48-hour rule.
    greeting_min: Option<i64>,
}

fn bought_strategy() -> impl Strategy<Value = Bought> {
    (
        500i64..=100_000,
        prop::collection::vec((0i64..=50_000, 0i64..=30), 0..=3),
        1i64..=120,
        prop_oneof![2 => Just(0i64), 1 => Just(1000i64), 3 => 0i64..=1000],
        prop_oneof![Just(0i64), 0i64..=5_000],
        prop_oneof![4 => Just(1i64), 1 => Just(0i64), 1 => Just(2i64)],
        prop_oneof![1 => Just(None), 3 => (0i64..=50 * 60).prop_map(Some)],
    )
        .prop_map(
            |(price_yen, options, delivery_days, points_permille, spare_points, sb, greet)| {
                Bought {
                    price_yen,
                    options,
                    delivery_days,
                    points_permille,
                    spare_points,
                    send_backs_allowed: sb,
                    greeting_min: greet,
                }
            },
        )
}

fn jump_strategy() -> impl Strategy<Value = Millis> {
    prop_oneof![
        6 => Just(0i64),
        16 => (0i64..=12 * 60).prop_map(|m| m * 60_000),
        12 => (0i64..=48).prop_map(|h| h * HOUR_MS),
        5 => 0i64..=10 * DAY_MS,
        1 => (100i64..=140).prop_map(|d| d * DAY_MS),
    ]
}

fn cmd_strategy() -> impl Strategy<Value = Cmd> {
    let due = prop_oneof![
        3 => (-120i64..=130 * 24).prop_map(|h| DueAt::FromNow(h * HOUR_MS)),
        1 => Just(DueAt::FromNow(0)),
        1 => (-1i64..=1).prop_map(DueAt::RoomCapPlus),
    ];
    let share = prop_oneof![
        4 => (0i64..=1000).prop_map(Share::Permille),
        1 => Just(Share::Permille(0)),
        1 => Just(Share::Permille(1000)),
        1 => Just(Share::Negative),
        1 => Just(Share::AboveSubtotal),
    ];
    prop_oneof![
        8 => any::<bool>().prop_map(Cmd::Post),
        2 => due.prop_map(Cmd::SetDue),
        4 => Just(Cmd::Deliver),
        3 => Just(Cmd::Accept),
        3 => Just(Cmd::SendBack),
        4 => (prop::sample::select(ALL_REASONS.to_vec()), any::<bool>())
            .prop_map(|(r, b)| Cmd::File(r, b)),
        4 => Just(Cmd::AcceptCancel),
        3 => Just(Cmd::RejectCancel),
        2 => Just(Cmd::WithdrawCancel),
        2 => prop_oneof![
            Just(Cmd::OperatorCancel),
            Just(Cmd::OperatorComplete),
            share.prop_map(Cmd::OperatorSettle),
        ],
        5 => prop::sample::select(ALL_TIMERS.to_vec()).prop_map(Cmd::Timer),
        6 => any::<u8>().prop_map(Cmd::Answer),
    ]
}

fn step_strategy() -> impl Strategy<Value = Step> {
    let actor = prop_oneof![
        4 => Just(None),
        1 => Just(Some(Actor::Buyer)),
        1 => Just(Some(Actor::Seller)),
        1 => Just(Some(Actor::Operator)),
        1 => Just(Some(Actor::System)),
    ];
    (
        jump_strategy(),
        actor,
        cmd_strategy(),
        prop::bool::weighted(0.3),
    )
        .prop_map(|(jump_ms, actor, cmd, fire_timers)| Step {
            jump_ms,
            actor,
            cmd,
            fire_timers,
        })
}
