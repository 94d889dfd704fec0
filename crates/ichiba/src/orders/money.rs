//! The money of a deal as pure functions: the purchase [`Quote`] (price, options, the buyer's
//! service fee, points and the card charge) and the escrow's transfer plans — release at
//! completion, full refund at cancellation, and the operator's split settlement. Fees round down.

use serde::Serialize;

use super::model::Order;
use super::policy::Policy;
use crate::ledger::{AccountRef, TransferCode, TransferPlan};

/// What a purchase costs, as the engine will charge it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Quote {
    /// Listing price.
    pub price_yen: i64,
    /// Chosen paid options.
    pub options_yen: i64,
    /// Price + options: what commission is taken from.
    pub subtotal_yen: i64,
    /// The buyer's service fee on the subtotal, rounded down.
    pub buyer_fee_yen: i64,
    /// Subtotal + fee.
    pub total_yen: i64,
    /// Points that pay first (the request, capped at the total).
    pub points_used: i64,
    /// What the card is charged.
    pub charged_yen: i64,
}

/// The amounts of buying at `price_yen` with options worth `options_yen`, paying `points` first
/// (negative points count as none; more than the total pays the total).
pub fn quote(policy: &Policy, price_yen: i64, options_yen: i64, points: i64) -> Quote {
    let subtotal_yen = price_yen + options_yen;
    let buyer_fee_yen = policy.buyer_fee(subtotal_yen);
    let total_yen = subtotal_yen + buyer_fee_yen;
    let points_used = points.clamp(0, total_yen);
    Quote {
        price_yen,
        options_yen,
        subtotal_yen,
        buyer_fee_yen,
        total_yen,
        points_used,
        charged_yen: total_yen - points_used,
    }
}

/// The release of escrow at completion: seller earnings (subtotal − commission) and platform
/// revenue (commission + buyer fee).
pub(super) fn release(o: &Order) -> TransferPlan {
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
pub(super) fn refund(o: &Order) -> TransferPlan {
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
