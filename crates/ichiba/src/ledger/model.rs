//! Ledger types: accounts, transfer codes and planned transfers, with the pure check that a
//! transfer balances. Naming follows TigerBeetle: *accounts*, *transfers*, *entries* ("transaction"
//! always means a database transaction).

use serde::Serialize;

/// How many rows each sharded account ([`AccountRef::is_sharded`]) is spread over.
pub const SHARDS: u64 = 16;

/// A ledger account. Users' accounts can never go negative; the outside world's can (money enters
/// the platform from the payment gateway and leaves to banks).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AccountRef {
    /// A seller's earnings (売上金).
    Earnings(String),
    /// A user's points (ポイント, 1 pt = 1 yen).
    Points(String),
    /// Earnings requested for payout and not yet paid.
    PayoutPending(String),
    /// An order's escrow: the buyer's payment held until completion or refund.
    Escrow(String),
    /// Commission and buyer fees.
    PlatformRevenue,
    /// The payment gateway: card money in and refunds out.
    Gateway,
    /// Banks: payouts out.
    Bank,
}

impl AccountRef {
    /// The stored id.
    pub fn id(&self) -> String {
        match self {
            AccountRef::Earnings(u) => format!("user:{u}:earnings"),
            AccountRef::Points(u) => format!("user:{u}:points"),
            AccountRef::PayoutPending(u) => format!("user:{u}:payout_pending"),
            AccountRef::Escrow(o) => format!("order:{o}:escrow"),
            AccountRef::PlatformRevenue => "platform:revenue".into(),
            AccountRef::Gateway => "external:gateway".into(),
            AccountRef::Bank => "external:bank".into(),
        }
    }

    /// Whether the account is stored in [`SHARDS`] rows: the platform's revenue and the outside
    /// world's accounts take part in every purchase or payout, and one row would make concurrent
    /// deals wait for each other. Their balance is the sum of the shards.
    pub fn is_sharded(&self) -> bool {
        self.owner().is_none()
    }

    /// The row a transfer writes: [`AccountRef::id`], or for a sharded account one of its
    /// shards, `<id>:NN`, chosen by `shard_key` (the order, else the transfer's key), so one
    /// order's transfers always meet the same shard.
    pub fn storage_id(&self, shard_key: &str) -> String {
        if !self.is_sharded() {
            return self.id();
        }
        // FNV-1a: stable across builds and platforms, unlike the standard library's hasher.
        let hash = shard_key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        format!("{}:{:02}", self.id(), hash % SHARDS)
    }

    /// The stored kind.
    pub fn kind(&self) -> &'static str {
        match self {
            AccountRef::Earnings(_) => "earnings",
            AccountRef::Points(_) => "points",
            AccountRef::PayoutPending(_) => "payout_pending",
            AccountRef::Escrow(_) => "escrow",
            AccountRef::PlatformRevenue => "platform_revenue",
            AccountRef::Gateway => "gateway",
            AccountRef::Bank => "bank",
        }
    }

    /// The user or order the account belongs to.
    pub fn owner(&self) -> Option<&str> {
        match self {
            AccountRef::Earnings(u) | AccountRef::Points(u) | AccountRef::PayoutPending(u) => {
                Some(u)
            }
            AccountRef::Escrow(o) => Some(o),
            AccountRef::PlatformRevenue | AccountRef::Gateway | AccountRef::Bank => None,
        }
    }

    /// Only the outside world may have a negative balance.
    pub fn may_go_negative(&self) -> bool {
        match self {
            AccountRef::Gateway | AccountRef::Bank => true,
            AccountRef::Earnings(_)
            | AccountRef::Points(_)
            | AccountRef::PayoutPending(_)
            | AccountRef::Escrow(_)
            | AccountRef::PlatformRevenue => false,
        }
    }
}

/// What a transfer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferCode {
    /// Buyer's payment (card and points) into escrow.
    Purchase,
    /// Escrow released at completion: seller earnings, commission and buyer fee.
    Release,
    /// Escrow returned to the buyer.
    Refund,
    /// Operator's split settlement.
    Settlement,
    /// Earnings set aside for a payout request (earnings → pending payout).
    PayoutRequest,
    /// A payout paid by the bank: pending payout → bank (net) and platform revenue (fee).
    Payout,
    /// A failed payout returned to earnings (pending payout → earnings).
    PayoutReturn,
    /// Earnings converted to points (irreversible).
    PointsConversion,
    /// Points expired one year after the user last earned points (points → platform revenue).
    PointsExpiry,
}

impl TransferCode {
    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            TransferCode::Purchase => "purchase",
            TransferCode::Release => "release",
            TransferCode::Refund => "refund",
            TransferCode::Settlement => "settlement",
            TransferCode::PayoutRequest => "payout_request",
            TransferCode::Payout => "payout",
            TransferCode::PayoutReturn => "payout_return",
            TransferCode::PointsConversion => "points_conversion",
            TransferCode::PointsExpiry => "points_expiry",
        }
    }
}

/// A transfer to apply: entries (account, signed amount) that sum to zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferPlan {
    /// Unique key: applying the same key twice applies it once.
    pub key: String,
    /// Purpose.
    pub code: TransferCode,
    /// The order it belongs to.
    pub order_id: Option<String>,
    /// A Japanese description for the user's ledger.
    pub memo: String,
    /// Signed amounts; zero amounts are dropped when applied.
    pub entries: Vec<(AccountRef, i64)>,
}

/// Why a transfer was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LedgerError {
    /// The entries do not sum to zero (a bug in the caller).
    #[error("transfer {key} does not balance: {sum}")]
    Unbalanced {
        /// The transfer.
        key: String,
        /// The sum of its entries.
        sum: i64,
    },
    /// An account that may not go negative would.
    #[error("insufficient funds in {0}")]
    InsufficientFunds(String),
}

impl TransferPlan {
    /// Checks that the entries sum to zero (with overflow treated as imbalance).
    pub fn check_balanced(&self) -> Result<(), LedgerError> {
        let sum = self
            .entries
            .iter()
            .try_fold(0i64, |acc, (_, a)| acc.checked_add(*a));
        match sum {
            Some(0) => Ok(()),
            Some(sum) => Err(LedgerError::Unbalanced {
                key: self.key.clone(),
                sum,
            }),
            None => Err(LedgerError::Unbalanced {
                key: self.key.clone(),
                sum: i64::MAX,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transfer_must_sum_to_zero() {
        let mut t = TransferPlan {
            key: "k".into(),
            code: TransferCode::Purchase,
            order_id: None,
            memo: String::new(),
            entries: vec![
                (AccountRef::Gateway, -100),
                (AccountRef::Escrow("o".into()), 100),
            ],
        };
        assert!(t.check_balanced().is_ok());
        t.entries.push((AccountRef::PlatformRevenue, 1));
        assert_eq!(
            t.check_balanced(),
            Err(LedgerError::Unbalanced {
                key: "k".into(),
                sum: 1
            })
        );
        t.entries = vec![
            (AccountRef::Gateway, i64::MAX),
            (AccountRef::Bank, i64::MAX),
        ];
        assert!(t.check_balanced().is_err());
    }

    #[test]
    fn only_the_outside_world_may_go_negative() {
        assert!(AccountRef::Gateway.may_go_negative());
        assert!(!AccountRef::Earnings("u".into()).may_go_negative());
        assert!(!AccountRef::Escrow("o".into()).may_go_negative());
        assert_eq!(AccountRef::Points("u1".into()).id(), "user:u1:points");
    }

    #[test]
    fn platform_and_outside_accounts_are_sharded_by_order_and_users_are_not() {
        let earnings = AccountRef::Earnings("u1".into());
        assert_eq!(earnings.storage_id("order-a"), earnings.id());
        let revenue = AccountRef::PlatformRevenue;
        let a = revenue.storage_id("order-a");
        assert_eq!(a, revenue.storage_id("order-a"), "one order, one shard");
        assert!(a.starts_with("platform:revenue:"), "{a}");
        let shards: std::collections::HashSet<String> = (0..200)
            .map(|i| AccountRef::Gateway.storage_id(&format!("order-{i}")))
            .collect();
        assert_eq!(shards.len() as u64, SHARDS, "{shards:?}");
        // Every shard sorts inside the key range that `balance` sums.
        for s in &shards {
            assert!(s.as_str() > "external:gateway" && s.as_str() < "external:gateway;");
        }
    }
}
