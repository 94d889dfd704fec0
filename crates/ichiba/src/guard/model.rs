//! Pure rules of contact-guard enforcement: where a text was written (the context), the strike
//! ladder (3 blocks in 24 h → a 24 h restriction; 3 restrictions in 30 days → suspension) and what
//! a restricted or suspended user may still do.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::clock::Millis;
use crate::clock::{DAY_MS, HOUR_MS};

/// Where a text was written. Stored with violations and appeals; an allowed appeal delivers
/// messages back to their thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Context {
    /// A talk-room message.
    OrderMessage {
        /// The order.
        order_id: String,
    },
    /// A formal delivery message.
    Delivery {
        /// The order.
        order_id: String,
    },
    /// A send-back reason.
    SendBack {
        /// The order.
        order_id: String,
    },
    /// A cancel-request note.
    CancelNote {
        /// The order.
        order_id: String,
    },
    /// A direct message.
    DirectMessage {
        /// The recipient.
        to_user_id: String,
    },
    /// A listing's title, description or options.
    Listing,
    /// A display name or bio.
    Profile,
    /// A review or reply.
    Review,
}

/// The sanction thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ladder {
    /// Blocks within the strike window that restrict.
    pub strikes_to_restrict: i64,
    /// Strike window.
    pub strike_window_ms: Millis,
    /// How long a restriction lasts.
    pub restriction_ms: Millis,
    /// Restrictions within the restriction window that suspend.
    pub restrictions_to_suspend: i64,
    /// Restriction window.
    pub restriction_window_ms: Millis,
}

impl Default for Ladder {
    fn default() -> Self {
        Ladder {
            strikes_to_restrict: 3,
            strike_window_ms: 24 * HOUR_MS,
            restriction_ms: 24 * HOUR_MS,
            restrictions_to_suspend: 3,
            restriction_window_ms: 30 * DAY_MS,
        }
    }
}

/// A sanction to impose after a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Nothing more.
    None,
    /// Restrict until the given time.
    Restrict {
        /// End of the restriction.
        until: Millis,
    },
    /// Restrict, and suspend because this is one restriction too many.
    RestrictAndSuspend {
        /// End of the restriction.
        until: Millis,
    },
}

impl Ladder {
    /// What follows a block, given the strikes in the window (including this one), whether a
    /// sanction is already active, and the restrictions already imposed within the window.
    pub fn step(&self, now: Millis, strikes: i64, sanctioned: bool, restrictions: i64) -> Step {
        if sanctioned || strikes < self.strikes_to_restrict {
            return Step::None;
        }
        let until = now + self.restriction_ms;
        if restrictions + 1 >= self.restrictions_to_suspend {
            Step::RestrictAndSuspend { until }
        } else {
            Step::Restrict { until }
        }
    }
}

/// What a sanction blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// Direct messages.
    DirectMessage,
    /// Creating or editing listings.
    ListingEdit,
    /// New purchases.
    Purchase,
    /// Profile changes.
    ProfileEdit,
}

/// The sanction in force for a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Standing {
    /// `restricted` or `suspended`.
    pub kind: String,
    /// End of a restriction; `null` for a suspension (until an operator lifts it).
    pub until_at: Option<String>,
    /// Japanese explanation.
    pub reason: String,
}

/// Whether a restriction or suspension stops the activity. Talk rooms of open orders are never
/// blocked, so no deal fails because of a sanction.
pub fn blocks(kind: &str, activity: Activity) -> bool {
    match (kind, activity) {
        ("suspended", _) => true,
        ("restricted", Activity::DirectMessage | Activity::ListingEdit) => true,
        ("restricted", Activity::Purchase | Activity::ProfileEdit) => false,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_third_strike_restricts_and_the_third_restriction_suspends() {
        let l = Ladder::default();
        assert_eq!(l.step(0, 2, false, 0), Step::None);
        assert_eq!(
            l.step(0, 3, false, 0),
            Step::Restrict {
                until: 24 * HOUR_MS
            }
        );
        assert_eq!(
            l.step(0, 4, true, 1),
            Step::None,
            "an active sanction is not stacked"
        );
        assert_eq!(
            l.step(0, 3, false, 2),
            Step::RestrictAndSuspend {
                until: 24 * HOUR_MS
            }
        );
    }

    #[test]
    fn a_restriction_leaves_purchases_and_profiles_alone() {
        assert!(blocks("restricted", Activity::DirectMessage));
        assert!(blocks("restricted", Activity::ListingEdit));
        assert!(!blocks("restricted", Activity::Purchase));
        assert!(blocks("suspended", Activity::Purchase));
    }

    #[test]
    fn contexts_serialise_with_their_kind() {
        let c = Context::OrderMessage {
            order_id: "o1".into(),
        };
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            serde_json::json!({"kind": "order_message", "order_id": "o1"})
        );
    }
}
