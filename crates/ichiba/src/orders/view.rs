//! The `order` and `cancel_request` JSON shapes of API.md.

use serde::Serialize;
use utoipa::ToSchema;

use super::actions::{Action, available};
use super::model::{Actor, CancelReason, CancelRequest, Fault, Order, OrderState};
use super::policy::percent;
use crate::auth::Identity;
use crate::clock::Millis;
use crate::clock::to_rfc3339;

/// The policy snapshot as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PolicyView {
    /// 48.
    pub first_reply_hours: i64,
    /// 72.
    pub accept_hours: i64,
    /// "22%".
    pub commission_rate: String,
    /// "5.5%".
    pub buyer_fee_rate: String,
    /// 120.
    pub room_max_days: i64,
    /// 24.
    pub cancel_reply_hours: i64,
}

impl From<&super::policy::Policy> for PolicyView {
    fn from(p: &super::policy::Policy) -> Self {
        PolicyView {
            first_reply_hours: p.first_reply_hours,
            accept_hours: p.accept_hours,
            commission_rate: percent(p.commission_bp),
            buyer_fee_rate: percent(p.buyer_fee_bp),
            room_max_days: p.room_max_days,
            cancel_reply_hours: p.cancel_reply_hours,
        }
    }
}

/// How an order was cancelled.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CancellationView {
    /// Reason code.
    pub reason_code: String,
    /// `seller`, `buyer` or `none`.
    pub fault: Fault,
    /// `seller`, `buyer`, `system` or `operator`.
    pub by: String,
}

/// A cancel request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CancelRequestView {
    /// Request id.
    pub id: String,
    /// The order.
    pub order_id: String,
    /// `buyer` or `seller`.
    pub by: String,
    /// Reason code.
    pub reason_code: String,
    /// Reason in Japanese.
    pub reason_label: String,
    /// The fault the reason implies.
    pub fault: Fault,
    /// Free text.
    pub note: String,
    /// `pending`.
    pub state: String,
    /// When filed.
    pub created_at: String,
    /// When it is accepted automatically.
    pub expires_at: String,
}

impl CancelRequestView {
    /// The view of an open request.
    pub fn new(order_id: &str, r: &CancelRequest) -> Self {
        CancelRequestView {
            id: r.id.clone(),
            order_id: order_id.to_string(),
            by: serde_json::to_value(r.by)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            reason_code: r.reason.as_str().into(),
            reason_label: r.reason.label().into(),
            fault: r.reason.fault(),
            note: r.note.clone(),
            state: "pending".into(),
            created_at: to_rfc3339(r.filed_at),
            expires_at: to_rfc3339(r.expires_at),
        }
    }
}

/// An order as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderView {
    pub id: String,
    pub listing_id: String,
    pub buyer_id: String,
    pub seller_id: String,
    /// The listing title at purchase.
    pub title: String,
    pub state: OrderState,
    pub price_yen: i64,
    pub options_yen: i64,
    pub buyer_fee_yen: i64,
    pub total_yen: i64,
    pub points_used: i64,
    pub purchased_at: String,
    pub first_reply_deadline_at: String,
    pub due_at: String,
    pub delivered_at: Option<String>,
    pub accept_deadline_at: Option<String>,
    pub completed_at: Option<String>,
    pub cancelled_at: Option<String>,
    pub send_backs_used: i64,
    pub send_backs_allowed: i64,
    /// The due date passed before delivery.
    pub late: bool,
    pub cancellation: Option<CancellationView>,
    /// The open cancel request, if any.
    pub cancel_request: Option<CancelRequestView>,
    /// The seller's share when an operator settled with a split.
    pub settlement_seller_yen: Option<i64>,
    pub policy: PolicyView,
    /// What the viewer may do now, by the engine's own rules (`post_message`, `deliver`,
    /// `accept`, `send_back`, `change_due_date`, `file_cancel`, …): the buttons to show.
    pub allowed_actions: Vec<Action>,
    /// The cancel reasons the viewer may file now (empty unless `file_cancel` is allowed).
    pub allowed_cancel_reasons: Vec<CancelReason>,
}

impl OrderView {
    /// The order as `who` sees it at `now`: a party sees what their side may do, an operator
    /// who is not a party sees the operator's actions.
    pub fn for_user(o: &Order, who: &Identity, now: Millis) -> Self {
        let viewer = match o.side_of(&who.user_id) {
            Some(side) => Some(Actor::from(side)),
            None if who.is_operator => Some(Actor::Operator),
            None => None,
        };
        Self::new(o, viewer, now)
    }

    /// The order as `viewer` sees it at `now`; `None` is someone who may act on nothing.
    pub fn new(o: &Order, viewer: Option<Actor>, now: Millis) -> Self {
        let allowed = viewer.map(|a| available(o, a, now)).unwrap_or_default();
        OrderView {
            id: o.id.clone(),
            listing_id: o.listing_id.clone(),
            buyer_id: o.buyer_id.clone(),
            seller_id: o.seller_id.clone(),
            title: o.title.clone(),
            state: o.state,
            price_yen: o.price_yen,
            options_yen: o.options_yen,
            buyer_fee_yen: o.buyer_fee_yen,
            total_yen: o.total_yen,
            points_used: o.points_used,
            purchased_at: to_rfc3339(o.purchased_at),
            first_reply_deadline_at: to_rfc3339(o.first_reply_deadline),
            due_at: to_rfc3339(o.due_at),
            delivered_at: o.delivered_at.map(to_rfc3339),
            accept_deadline_at: o.accept_deadline.map(to_rfc3339),
            completed_at: o.completed_at.map(to_rfc3339),
            cancelled_at: o.cancelled_at.map(to_rfc3339),
            send_backs_used: o.send_backs_used,
            send_backs_allowed: o.policy.send_backs_allowed,
            late: o.late,
            cancellation: o.cancellation.as_ref().map(|c| CancellationView {
                reason_code: c.reason.as_str().into(),
                fault: c.fault,
                by: c.by.as_str().into(),
            }),
            cancel_request: o
                .pending_cancel
                .as_ref()
                .map(|r| CancelRequestView::new(&o.id, r)),
            settlement_seller_yen: o.settlement_seller_yen,
            policy: PolicyView::from(&o.policy),
            allowed_actions: allowed.actions,
            allowed_cancel_reasons: allowed.cancel_reasons,
        }
    }
}
