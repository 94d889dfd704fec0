//! The deal policy (rows 1–9 of DESIGN.md section 1). Every order stores the policy in force at
//! purchase and keeps it for life, so a later change never alters an open deal.

use serde::{Deserialize, Serialize};

pub use crate::clock::{DAY_MS, HOUR_MS};

/// Deal timers, limits and rates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Hours the seller has for the first message (48時間ルール).
    pub first_reply_hours: i64,
    /// Hours after purchase at which the seller is reminded.
    pub first_reply_reminder_hours: Vec<i64>,
    /// Hours the buyer has to accept or send back a delivery.
    pub accept_hours: i64,
    /// Hours after delivery at which the buyer is reminded.
    pub accept_reminder_hours: i64,
    /// Send-backs (差し戻し) allowed per order.
    pub send_backs_allowed: i64,
    /// Days after purchase when an open order is completed (room age cap).
    pub room_max_days: i64,
    /// Days before the cap at which both parties are reminded.
    pub room_cap_reminder_days: Vec<i64>,
    /// Hours the other party has to answer a cancel request.
    pub cancel_reply_hours: i64,
    /// Days of seller silence after the buyer's last message before the buyer may file a cancel.
    pub buyer_cancel_silence_days: i64,
    /// Seller commission in basis points (2200 = 22 %).
    pub commission_bp: i64,
    /// Buyer service fee in basis points (550 = 5.5 %).
    pub buyer_fee_bp: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            first_reply_hours: 48,
            first_reply_reminder_hours: vec![24, 40],
            accept_hours: 72,
            accept_reminder_hours: 48,
            send_backs_allowed: 1,
            room_max_days: 120,
            room_cap_reminder_days: vec![7, 3, 1],
            cancel_reply_hours: 24,
            buyer_cancel_silence_days: 4,
            commission_bp: 2200,
            buyer_fee_bp: 550,
        }
    }
}

/// `amount × bp / 10000`, rounded down (fees always round down), without overflow for any yen
/// amount this engine accepts.
pub fn rate_of(amount_yen: i64, bp: i64) -> i64 {
    i64::try_from(i128::from(amount_yen) * i128::from(bp) / 10_000).unwrap_or(i64::MAX)
}

/// Formats basis points as a percentage (`2200` → `22%`, `550` → `5.5%`).
pub fn percent(bp: i64) -> String {
    let whole = bp / 100;
    let frac = bp % 100;
    if frac == 0 {
        format!("{whole}%")
    } else if frac % 10 == 0 {
        format!("{whole}.{}%", frac / 10)
    } else {
        format!("{whole}.{frac:02}%")
    }
}

impl Policy {
    /// Buyer fee on a subtotal.
    pub fn buyer_fee(&self, subtotal_yen: i64) -> i64 {
        rate_of(subtotal_yen, self.buyer_fee_bp)
    }

    /// Seller commission on a subtotal.
    pub fn commission(&self, subtotal_yen: i64) -> i64 {
        rate_of(subtotal_yen, self.commission_bp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fees_round_down() {
        let p = Policy::default();
        assert_eq!(p.buyer_fee(5000), 275);
        assert_eq!(p.buyer_fee(999), 54); // 54.945
        assert_eq!(p.commission(5000), 1100);
        assert_eq!(p.commission(1234), 271); // 271.48
    }

    #[test]
    fn rates_are_shown_as_percentages() {
        assert_eq!(percent(2200), "22%");
        assert_eq!(percent(550), "5.5%");
        assert_eq!(percent(1234), "12.34%");
    }
}
