//! Review rules (評価): who may review whom after an order ends, the 14-day window, the
//! double-blind publication, and the parsed review input.

use crate::clock::DAY_MS;
use crate::clock::Millis;
use crate::error::FieldErrors;
use crate::orders::model::{CancelReason, Fault, Order, OrderState, Side};

/// Days after the end of an order during which reviews may be written.
pub const WINDOW_DAYS: i64 = 14;

/// Which way a review goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The buyer reviews the seller (shown on the listing and the seller's profile).
    BuyerToSeller,
    /// The seller reviews the buyer.
    SellerToBuyer,
}

impl Direction {
    /// Stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::BuyerToSeller => "buyer_to_seller",
            Direction::SellerToBuyer => "seller_to_buyer",
        }
    }

    /// The direction of a review written by `side`.
    pub fn of(side: Side) -> Direction {
        match side {
            Side::Buyer => Direction::BuyerToSeller,
            Side::Seller => Direction::SellerToBuyer,
        }
    }
}

/// Why a review is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The order has not ended.
    NotFinished,
    /// The cancellation's recorded fault leaves this side no review.
    NotEligible,
    /// The 14 days have passed.
    WindowClosed,
}

/// Whether `side` may review after this order, and until when. Completed orders: both sides.
/// Cancelled orders follow the recorded fault: the seller's fault → only the buyer; the buyer's
/// fault or a duplicate purchase → only the seller; anything else (switch of service, schedule,
/// operator) → nobody.
pub fn may_review(order: &Order, side: Side, now: Millis) -> Result<Millis, Refusal> {
    let (ended, eligible) = match order.state {
        OrderState::Completed => (order.completed_at, true),
        OrderState::Cancelled => {
            let eligible = match order.cancellation.as_ref().map(|c| (c.reason, c.fault)) {
                Some((CancelReason::DuplicatePurchase, _)) => side == Side::Seller,
                Some((_, Fault::Seller)) => side == Side::Buyer,
                Some((_, Fault::Buyer)) => side == Side::Seller,
                Some((_, Fault::None)) | None => false,
            };
            (order.cancelled_at, eligible)
        }
        OrderState::PendingFirstReply | OrderState::InProgress | OrderState::Delivered => {
            return Err(Refusal::NotFinished);
        }
    };
    if !eligible {
        return Err(Refusal::NotEligible);
    }
    let window_end = ended.unwrap_or(now) + WINDOW_DAYS * DAY_MS;
    if now >= window_end {
        return Err(Refusal::WindowClosed);
    }
    Ok(window_end)
}

/// Whether the other side can still write a review (if not, a review is published at once).
pub fn other_side_may_review(order: &Order, side: Side, now: Millis) -> bool {
    may_review(order, side.other(), now).is_ok()
}

/// A validated review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewInput {
    /// ★1–5, public.
    pub public_rating: i64,
    /// Public comment, 1–1,000 characters.
    pub comment: String,
    /// ★1–5, seen by operators only.
    pub private_rating: i64,
}

/// Parses a submitted review, reporting every field.
pub fn parse(
    public_rating: i64,
    comment: &str,
    private_rating: i64,
) -> Result<ReviewInput, FieldErrors> {
    let mut f = FieldErrors::new();
    if !(1..=5).contains(&public_rating) {
        f.add(
            "public_rating",
            "out_of_range",
            "評価は1から5の星で選んでください。",
        );
    }
    if !(1..=5).contains(&private_rating) {
        f.add(
            "private_rating",
            "out_of_range",
            "非公開の評価は1から5の星で選んでください。",
        );
    }
    let c = crate::text::trim(comment);
    if c.is_empty() {
        f.add("comment", "required", "コメントを入力してください。");
    } else if c.chars().count() > 1000 {
        f.add(
            "comment",
            "too_long",
            "コメントは1000文字以内で入力してください。",
        );
    }
    f.into_result(ReviewInput {
        public_rating,
        comment: c.to_string(),
        private_rating,
    })
}
