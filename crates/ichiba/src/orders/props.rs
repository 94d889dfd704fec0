//! Property tests of the pure order engine (`model::purchase` and `model::decide`) against the
//! deal rules of DESIGN.md section 1. A random purchase is driven through a random sequence of
//! commands by random actors with random clock jumps, while an in-memory ledger (transfers
//! applied once per key, like the real store) and timer table (due timers fired in order at
//! their own moment as `system`, like the real worker) follow it. After every step the tests
//! check money conservation, non-negative user accounts, escrow, terminal states, versions,
//! who may do what in which state (an independent oracle of the rules), the send-back limit,
//! the first-reply rule and the final split of the money. Deterministic tests below pin the
//! single rules: 48 h auto-cancel, 72 h auto-accept, one send-back, the buyer's 4-day cancel
//! rule, 24 h cancel-request expiry, the 120-day room cap and the split settlement.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::model::{
    Actor, CancelReason, Command, DealError, Decision, Fault, Order, OrderState, PurchaseInput,
    Side, TimerKind, decide, purchase,
};
use super::policy::{DAY_MS, HOUR_MS, Policy};
use crate::clock::Millis;
use crate::ledger::{AccountRef, TransferCode, TransferPlan};

/// 2026-01-01T00:00:00Z: the moment every generated purchase happens.
const T0: Millis = 1_767_225_600_000;
const BUYER: &str = "buyer-1";
const SELLER: &str = "seller-1";
const ORDER: &str = "order-1";

const ALL_TIMERS: [TimerKind; 8] = [
    TimerKind::FirstReplyReminder,
    TimerKind::FirstReplyDeadline,
    TimerKind::DuePassed,
    TimerKind::AcceptReminder,
    TimerKind::AcceptDeadline,
    TimerKind::RoomCapReminder,
    TimerKind::RoomCap,
    TimerKind::CancelRequestExpiry,
];

const ALL_REASONS: [CancelReason; 9] = [
    CancelReason::DuplicatePurchase,
    CancelReason::SwitchService,
    CancelReason::BuyerUnreachable,
    CancelReason::BuyerReason,
    CancelReason::SellerReason,
    CancelReason::ScheduleMismatch,
    CancelReason::SellerUnresponsive,
    CancelReason::NoFirstReply,
    CancelReason::Operator,
];

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

// ---- The oracle: what the rules say a command does -----------------------------------------

/// What the rules expect of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
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
fn may_file(reason: CancelReason, side: Side) -> bool {
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

fn expect(o: &Order, cmd: &Command, actor: Actor, now: Millis) -> Want {
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

// ---- Generated commands --------------------------------------------------------------------

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

// ---- The simulation ------------------------------------------------------------------------

struct Sim {
    order: Order,
    ledger: Ledger,
    /// Scheduled timers: (due, sequence, kind).
    timers: Vec<(Millis, u64, TimerKind)>,
    timer_seq: u64,
    now: Millis,
    /// Points the buyer held before the purchase.
    points_before: i64,
    /// The order as it first reached a terminal state.
    terminal: Option<Order>,
    next_request: u64,
}

impl Sim {
    fn start(b: &Bought) -> Result<Sim, TestCaseError> {
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
    fn fire_due_timers(&mut self) -> Result<(), TestCaseError> {
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

    fn run(&mut self, step: &Step) -> Result<(), TestCaseError> {
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
    fn act(&mut self, cmd: &Command, actor: Actor, now: Millis) -> Result<(), TestCaseError> {
        let old = self.order.clone();
        let got = decide(&old, cmd, actor, now);
        prop_assert_eq!(&got, &decide(&old, cmd, actor, now), "decide is not pure");
        let want = expect(&old, cmd, actor, now);
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
                self.check_changed(&old, &d, cmd, actor, now, state)
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

    fn check_changed(
        &self,
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
        let subtotal = o.subtotal_yen();
        // (escrow, earnings, revenue, points, gateway) by the rules.
        let want = match (o.state, o.settlement_seller_yen) {
            (OrderState::PendingFirstReply | OrderState::InProgress | OrderState::Delivered, _) => {
                (
                    o.total_yen,
                    0,
                    0,
                    self.points_before - o.points_used,
                    -self.points_before - o.charged_yen(),
                )
            }
            (OrderState::Cancelled, _) => (0, 0, 0, self.points_before, -self.points_before),
            (OrderState::Completed, None) => {
                let seller = subtotal - subtotal * 22 / 100;
                (
                    0,
                    seller,
                    o.total_yen - seller,
                    self.points_before - o.points_used,
                    -self.points_before - o.charged_yen(),
                )
            }
            (OrderState::Completed, Some(s)) => {
                let commission = s * 22 / 100;
                let fee_kept = i64::try_from(
                    i128::from(o.buyer_fee_yen) * i128::from(s) / i128::from(subtotal),
                )
                .unwrap_or(i64::MAX);
                let refund = o.total_yen - s - fee_kept;
                let points_back = refund.min(o.points_used);
                prop_assert!((0..=o.buyer_fee_yen).contains(&fee_kept));
                prop_assert!(refund >= 0);
                (
                    0,
                    s - commission,
                    commission + fee_kept,
                    self.points_before - o.points_used + points_back,
                    -self.points_before - o.charged_yen() + (refund - points_back),
                )
            }
        };
        prop_assert_eq!(
            (escrow, earnings, revenue, points, gateway),
            want,
            "(escrow, earnings, revenue, points, gateway) in {:?}",
            o.state
        );
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1024,
        // No regression files: this module owns only its own source file.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_command_sequence_keeps_the_deal_rules_and_the_money_right(
        bought in bought_strategy(),
        steps in prop::collection::vec(step_strategy(), 1..=40),
    ) {
        let mut sim = Sim::start(&bought)?;
        if let Some(m) = bought.greeting_min {
            sim.run(&Step {
                jump_ms: m * 60_000,
                actor: Some(Actor::Seller),
                cmd: Cmd::Post(false),
                fire_timers: true,
            })?;
        }
        for step in &steps {
            sim.run(step)?;
        }
        // Every order ends: past the room cap the worker closes whatever is still open.
        sim.now = sim.now.max(sim.order.room_cap_at()) + DAY_MS;
        sim.fire_due_timers()?;
        prop_assert!(sim.order.state.is_terminal(), "still {:?}", sim.order.state);
        // And nothing moves a closed order any more.
        for (cmd, actor) in [
            (Command::PostMessage, Actor::Seller),
            (Command::Accept, Actor::Buyer),
            (Command::OperatorCancel, Actor::Operator),
            (Command::OperatorComplete, Actor::Operator),
            (Command::Timer(TimerKind::RoomCap), Actor::System),
            (Command::Timer(TimerKind::CancelRequestExpiry), Actor::System),
        ] {
            let now = sim.now;
            sim.act(&cmd, actor, now)?;
        }
    }

    #[test]
    fn a_purchase_paying_more_points_than_the_total_is_refused(
        price in 500i64..=100_000,
        extra in 1i64..=1_000,
    ) {
        let total = price + price * 55 / 1000;
        prop_assert!(purchase(input(price, vec![], 7, total + extra), Policy::default(), T0).is_err());
        prop_assert!(purchase(input(price, vec![], 7, -extra), Policy::default(), T0).is_err());
        prop_assert!(purchase(input(price, vec![], 7, total), Policy::default(), T0).is_ok());
    }
}

// ---- Single rules ----------------------------------------------------------------------------

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
