//! The order engine's types: order states, actors, cancel reasons and faults, the order with its
//! policy snapshot, commands, timers, decisions and refusals. The rules themselves — `purchase`
//! and `decide` — live in [`super::engine`] and are re-exported here. Nothing here does I/O.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::policy::{DAY_MS, Policy};
use crate::clock::Millis;
use crate::ledger::TransferPlan;

pub use super::engine::{PurchaseInput, Role, authorize, decide, purchase};
pub use super::money::{Quote, quote, settlement};
pub use super::texts::{NoticeKind, SystemMessage};

/// Where an order is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    /// Purchased; the seller has not written yet (48-hour rule running).
    PendingFirstReply,
    /// 作業中.
    InProgress,
    /// 正式な納品 posted; the buyer's 72 hours run.
    Delivered,
    /// 取引完了: escrow released.
    Completed,
    /// キャンセル: escrow refunded.
    Cancelled,
}

impl OrderState {
    /// Stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::PendingFirstReply => "pending_first_reply",
            OrderState::InProgress => "in_progress",
            OrderState::Delivered => "delivered",
            OrderState::Completed => "completed",
            OrderState::Cancelled => "cancelled",
        }
    }

    /// Parses stored text.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending_first_reply" => Some(OrderState::PendingFirstReply),
            "in_progress" => Some(OrderState::InProgress),
            "delivered" => Some(OrderState::Delivered),
            "completed" => Some(OrderState::Completed),
            "cancelled" => Some(OrderState::Cancelled),
            _ => None,
        }
    }

    /// Completed or cancelled: nothing changes any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, OrderState::Completed | OrderState::Cancelled)
    }
}

/// Who acts on an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// The buyer (購入者).
    Buyer,
    /// The seller (出品者).
    Seller,
    /// An operator (運営).
    Operator,
    /// The timer worker.
    System,
}

impl Actor {
    /// Stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Buyer => "buyer",
            Actor::Seller => "seller",
            Actor::Operator => "operator",
            Actor::System => "system",
        }
    }
}

impl From<Side> for Actor {
    fn from(side: Side) -> Actor {
        match side {
            Side::Buyer => Actor::Buyer,
            Side::Seller => Actor::Seller,
        }
    }
}

/// One of the two parties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The buyer.
    Buyer,
    /// The seller.
    Seller,
}

impl Side {
    /// The other party.
    pub fn other(self) -> Side {
        match self {
            Side::Buyer => Side::Seller,
            Side::Seller => Side::Buyer,
        }
    }

    pub(super) fn label(self) -> &'static str {
        match self {
            Side::Buyer => "購入者",
            Side::Seller => "出品者",
        }
    }
}

/// Whose doing a cancellation or lateness was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// The seller's.
    Seller,
    /// The buyer's.
    Buyer,
    /// Nobody's.
    None,
}

impl Fault {
    /// Stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Seller => "seller",
            Fault::Buyer => "buyer",
            Fault::None => "none",
        }
    }

    /// Parses stored text.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "seller" => Some(Fault::Seller),
            "buyer" => Some(Fault::Buyer),
            "none" => Some(Fault::None),
            _ => None,
        }
    }
}

/// Why an order is cancelled. Each reason fixes the fault and who may file it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// 重複購入: the same service was bought twice by mistake. Either side; nobody's fault.
    DuplicatePurchase,
    /// 別サービスへの切り替え: the deal moves to another service of the seller. Either side.
    SwitchService,
    /// 購入者と連絡が取れない: filed by the seller; the buyer's fault.
    BuyerUnreachable,
    /// 購入者都合: filed by the buyer; the buyer's fault.
    BuyerReason,
    /// 出品者都合: filed by the seller; the seller's fault.
    SellerReason,
    /// 日程・条件が合わない: either side; nobody's fault.
    ScheduleMismatch,
    /// 出品者の応答がない: filed by the buyer; the seller's fault.
    SellerUnresponsive,
    /// Automatic: no first reply within the deadline. The seller's fault.
    NoFirstReply,
    /// An operator cancelled. Nobody's fault.
    Operator,
}

impl CancelReason {
    /// Stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            CancelReason::DuplicatePurchase => "duplicate_purchase",
            CancelReason::SwitchService => "switch_service",
            CancelReason::BuyerUnreachable => "buyer_unreachable",
            CancelReason::BuyerReason => "buyer_reason",
            CancelReason::SellerReason => "seller_reason",
            CancelReason::ScheduleMismatch => "schedule_mismatch",
            CancelReason::SellerUnresponsive => "seller_unresponsive",
            CancelReason::NoFirstReply => "no_first_reply",
            CancelReason::Operator => "operator",
        }
    }

    /// Every reason, in the order a form lists them.
    pub const ALL: [CancelReason; 9] = [
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

    /// Parses a stored or submitted code.
    pub fn parse(s: &str) -> Option<Self> {
        CancelReason::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Japanese label.
    pub fn label(self) -> &'static str {
        match self {
            CancelReason::DuplicatePurchase => "重複購入",
            CancelReason::SwitchService => "別サービスへの切り替え",
            CancelReason::BuyerUnreachable => "購入者と連絡が取れない",
            CancelReason::BuyerReason => "購入者都合",
            CancelReason::SellerReason => "出品者都合",
            CancelReason::ScheduleMismatch => "日程・条件が合わない",
            CancelReason::SellerUnresponsive => "出品者の応答がない",
            CancelReason::NoFirstReply => "48時間以内の返信なし",
            CancelReason::Operator => "運営による対応",
        }
    }

    /// Whose fault a cancellation for this reason is.
    pub fn fault(self) -> Fault {
        match self {
            CancelReason::BuyerUnreachable | CancelReason::BuyerReason => Fault::Buyer,
            CancelReason::SellerReason
            | CancelReason::SellerUnresponsive
            | CancelReason::NoFirstReply => Fault::Seller,
            CancelReason::DuplicatePurchase
            | CancelReason::SwitchService
            | CancelReason::ScheduleMismatch
            | CancelReason::Operator => Fault::None,
        }
    }

    /// Whether `side` may file a request with this reason.
    pub fn may_be_filed_by(self, side: Side) -> bool {
        match (self, side) {
            (CancelReason::DuplicatePurchase, _)
            | (CancelReason::SwitchService, _)
            | (CancelReason::ScheduleMismatch, _) => true,
            (CancelReason::BuyerReason, Side::Buyer)
            | (CancelReason::SellerUnresponsive, Side::Buyer)
            | (CancelReason::BuyerUnreachable, Side::Seller)
            | (CancelReason::SellerReason, Side::Seller) => true,
            (CancelReason::BuyerReason, Side::Seller)
            | (CancelReason::SellerUnresponsive, Side::Seller)
            | (CancelReason::BuyerUnreachable, Side::Buyer)
            | (CancelReason::SellerReason, Side::Buyer)
            | (CancelReason::NoFirstReply, _)
            | (CancelReason::Operator, _) => false,
        }
    }
}

/// How an order was cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancellation {
    /// The reason.
    pub reason: CancelReason,
    /// Whose fault.
    pub fault: Fault,
    /// Who brought it about (the filer of an accepted request, the system, an operator).
    pub by: Actor,
}

/// An open cancel request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelRequest {
    /// Request id.
    pub id: String,
    /// Who filed it.
    pub by: Side,
    /// The reason.
    pub reason: CancelReason,
    /// Free text (passes the contact guard).
    pub note: String,
    /// When it was filed.
    pub filed_at: Millis,
    /// When it is accepted automatically.
    pub expires_at: Millis,
}

/// An order (取引) with its policy snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: String,
    pub listing_id: String,
    pub buyer_id: String,
    pub seller_id: String,
    /// The listing title at purchase.
    pub title: String,
    pub state: OrderState,
    /// Bumped by every applied decision; the compare-and-set key.
    pub version: i64,
    pub policy: Policy,
    pub price_yen: i64,
    pub options_yen: i64,
    pub buyer_fee_yen: i64,
    pub total_yen: i64,
    pub points_used: i64,
    pub purchased_at: Millis,
    pub first_reply_deadline: Millis,
    pub first_replied_at: Option<Millis>,
    pub due_at: Millis,
    pub delivered_at: Option<Millis>,
    pub accept_deadline: Option<Millis>,
    pub completed_at: Option<Millis>,
    pub cancelled_at: Option<Millis>,
    pub send_backs_used: i64,
    /// The due date passed before delivery (counted against the seller).
    pub late: bool,
    pub last_buyer_message_at: Option<Millis>,
    pub last_seller_message_at: Option<Millis>,
    pub cancellation: Option<Cancellation>,
    pub pending_cancel: Option<CancelRequest>,
    /// Seller's share when an operator settled with a split.
    pub settlement_seller_yen: Option<i64>,
}

impl Order {
    /// Price plus options: the amount commission is taken from.
    pub fn subtotal_yen(&self) -> i64 {
        self.price_yen + self.options_yen
    }

    /// The part of the total paid by card.
    pub fn charged_yen(&self) -> i64 {
        self.total_yen - self.points_used
    }

    /// The side of a user id, if they are a party.
    pub fn side_of(&self, user_id: &str) -> Option<Side> {
        if user_id == self.buyer_id {
            Some(Side::Buyer)
        } else if user_id == self.seller_id {
            Some(Side::Seller)
        } else {
            None
        }
    }

    /// The user id of a side.
    pub fn user_of(&self, side: Side) -> &str {
        match side {
            Side::Buyer => &self.buyer_id,
            Side::Seller => &self.seller_id,
        }
    }

    /// The due date passed and nothing has been delivered.
    pub fn is_overdue(&self, now: Millis) -> bool {
        matches!(
            self.state,
            OrderState::PendingFirstReply | OrderState::InProgress
        ) && now > self.due_at
    }

    /// When the room age cap completes the order.
    pub fn room_cap_at(&self) -> Millis {
        self.purchased_at + self.policy.room_max_days * DAY_MS
    }
}

/// Scheduled commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerKind {
    /// Remind the seller to reply (24 h and 40 h).
    FirstReplyReminder,
    /// Cancel when the seller has not replied (48 h).
    FirstReplyDeadline,
    /// The due date passed: mark late and tell both parties.
    DuePassed,
    /// Remind the buyer to answer a delivery (48 h).
    AcceptReminder,
    /// Accept the delivery automatically (72 h).
    AcceptDeadline,
    /// Remind both parties that the room closes soon (7, 3, 1 days before).
    RoomCapReminder,
    /// Complete the order at the room age cap (120 days).
    RoomCap,
    /// Accept an unanswered cancel request (24 h).
    CancelRequestExpiry,
}

impl TimerKind {
    /// Stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            TimerKind::FirstReplyReminder => "first_reply_reminder",
            TimerKind::FirstReplyDeadline => "first_reply_deadline",
            TimerKind::DuePassed => "due_passed",
            TimerKind::AcceptReminder => "accept_reminder",
            TimerKind::AcceptDeadline => "accept_deadline",
            TimerKind::RoomCapReminder => "room_cap_reminder",
            TimerKind::RoomCap => "room_cap",
            TimerKind::CancelRequestExpiry => "cancel_request_expiry",
        }
    }

    /// Every kind.
    pub const ALL: [TimerKind; 8] = [
        TimerKind::FirstReplyReminder,
        TimerKind::FirstReplyDeadline,
        TimerKind::DuePassed,
        TimerKind::AcceptReminder,
        TimerKind::AcceptDeadline,
        TimerKind::RoomCapReminder,
        TimerKind::RoomCap,
        TimerKind::CancelRequestExpiry,
    ];

    /// Parses stored text.
    pub fn parse(s: &str) -> Option<Self> {
        TimerKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What can be done to an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A text message in the talk room (the seller's first one moves the order to 作業中).
    PostMessage,
    /// The seller changes the due date (お届け予定日).
    SetDueDate {
        /// New due date.
        due_at: Millis,
    },
    /// The seller posts the formal delivery.
    Deliver,
    /// The buyer accepts the delivery (承諾).
    Accept,
    /// The buyer sends the delivery back (差し戻し).
    SendBack,
    /// A party files a cancel request.
    FileCancel {
        /// New request id.
        request_id: String,
        /// Reason.
        reason: CancelReason,
        /// Free text.
        note: String,
    },
    /// The other party accepts the open cancel request.
    AcceptCancel,
    /// The other party rejects it.
    RejectCancel,
    /// The filer withdraws it.
    WithdrawCancel,
    /// An operator cancels with a full refund.
    OperatorCancel,
    /// An operator completes the order (escrow released to the seller).
    OperatorComplete,
    /// An operator settles with a split: the seller keeps `seller_amount_yen` of the subtotal.
    OperatorSettle {
        /// Seller's share of price + options, 0..=subtotal.
        seller_amount_yen: i64,
    },
    /// A timer fired.
    Timer(TimerKind),
}

impl Command {
    /// A short name for logs (no user text: a cancel note stays out of them).
    pub fn name(&self) -> &'static str {
        match self {
            Command::PostMessage => "post_message",
            Command::SetDueDate { .. } => "set_due_date",
            Command::Deliver => "deliver",
            Command::Accept => "accept",
            Command::SendBack => "send_back",
            Command::FileCancel { .. } => "file_cancel",
            Command::AcceptCancel => "accept_cancel",
            Command::RejectCancel => "reject_cancel",
            Command::WithdrawCancel => "withdraw_cancel",
            Command::OperatorCancel => "operator_cancel",
            Command::OperatorComplete => "operator_complete",
            Command::OperatorSettle { .. } => "operator_settle",
            Command::Timer(k) => k.as_str(),
        }
    }
}

/// A notice for one party (becomes an in-app notification, worded by [`super::texts::notice`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notice {
    /// To whom.
    pub to: Side,
    /// What it tells.
    pub kind: NoticeKind,
}

/// The outcome of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The order after the command (version bumped unless `unchanged`).
    pub order: Order,
    /// Ledger transfers to apply.
    pub transfers: Vec<TransferPlan>,
    /// Timers to schedule.
    pub timers: Vec<(TimerKind, Millis)>,
    /// Pending timers of these kinds that the command made pointless: cleared in the same
    /// transaction, before `timers` are scheduled (so a moved due date replaces its timer).
    pub clear_timers: Vec<TimerKind>,
    /// Notices to the parties.
    pub notices: Vec<Notice>,
    /// A system message for the talk room (worded by [`super::texts::system_message`]).
    pub system_message: Option<SystemMessage>,
    /// History entries (kind, details).
    pub history: Vec<(&'static str, Value)>,
    /// The order itself is unchanged (no version bump, no write). A reminder still carries its
    /// notices; a timer whose moment has passed carries nothing.
    pub unchanged: bool,
}

impl Decision {
    pub(super) fn new(order: Order) -> Self {
        Decision {
            order,
            transfers: vec![],
            timers: vec![],
            clear_timers: vec![],
            notices: vec![],
            system_message: None,
            history: vec![],
            unchanged: false,
        }
    }

    pub(super) fn noop(order: &Order) -> Self {
        Decision {
            unchanged: true,
            ..Decision::new(order.clone())
        }
    }

    pub(super) fn notice(&mut self, to: Side, kind: NoticeKind) {
        self.notices.push(Notice { to, kind });
    }
}

impl DealError {
    /// 403: this actor may never do this.
    pub fn not_allowed(code: &'static str, message: &str) -> DealError {
        DealError::NotAllowed {
            code,
            message: message.into(),
        }
    }

    /// 409: not possible in the order's current state.
    pub fn conflict(code: &'static str, message: &str) -> DealError {
        DealError::Conflict {
            code,
            message: message.into(),
        }
    }

    /// 422: values that break a rule.
    pub fn invalid(code: &'static str, message: &str) -> DealError {
        DealError::Invalid {
            code,
            message: message.into(),
        }
    }
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DealError {
    /// This actor may never do this (403).
    #[error("not allowed: {code}")]
    NotAllowed {
        /// Stable code.
        code: &'static str,
        /// Japanese explanation.
        message: String,
    },
    /// Not possible in the order's current state (409).
    #[error("conflict: {code}")]
    Conflict {
        /// Stable code.
        code: &'static str,
        /// Japanese explanation.
        message: String,
    },
    /// Invalid values (422).
    #[error("invalid: {code}")]
    Invalid {
        /// Stable code.
        code: &'static str,
        /// Japanese explanation.
        message: String,
    },
}
