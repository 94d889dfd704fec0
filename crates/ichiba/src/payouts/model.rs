//! Payout types and their pure rules: the [`PayoutPolicy`], the fee, the payment date, the payout
//! state machine with its ledger transfers, the ageing of earnings behind the 120-day rule, and the
//! expiry of points. No I/O here.

use chrono::{Datelike, Months, NaiveDate, TimeZone};
use serde::Serialize;

use super::calendar::{self, CalendarError};
use crate::clock::{JST, Millis};
use crate::ledger::{AccountRef, TransferCode, TransferPlan};

const DAY_MS: Millis = 24 * 3600 * 1000;

/// The payout rules in force. Every number here is a default of DESIGN.md row 11.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PayoutPolicy {
    /// Fee charged on requests under [`PayoutPolicy::fee_free_from_yen`] (160 yen).
    pub fee_yen: i64,
    /// Requests of at least this amount are free (3,000 yen).
    pub fee_free_from_yen: i64,
    /// Requests made on day 1 through this day of a month (JST) are paid that month (15).
    pub first_half_last_day: u32,
    /// Payment day of the first half's requests (20).
    pub first_half_pay_day: u32,
    /// Payment day, next month, of the second half's requests (5).
    pub second_half_pay_day: u32,
    /// Earnings older than this are requested automatically (120 days).
    pub auto_request_after_days: i64,
    /// Reminders before that deadline when no usable bank account is registered (30, 7, 1).
    pub reminder_days_before: Vec<i64>,
    /// Points expire this many months after the user last earned points (12).
    pub points_valid_months: u32,
}

impl Default for PayoutPolicy {
    fn default() -> Self {
        PayoutPolicy {
            fee_yen: 160,
            fee_free_from_yen: 3_000,
            first_half_last_day: 15,
            first_half_pay_day: 20,
            second_half_pay_day: 5,
            auto_request_after_days: 120,
            reminder_days_before: vec![30, 7, 1],
            points_valid_months: 12,
        }
    }
}

/// A rule a payout request or settlement broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayoutError {
    /// The amount is not a positive number of yen.
    #[error("amount must be positive")]
    InvalidAmount,
    /// The fee would take the whole amount.
    #[error("amount too small: at least {min_yen} yen")]
    AmountTooSmall {
        /// Smallest amount that leaves at least 1 yen to pay.
        min_yen: i64,
    },
    /// More than the available earnings.
    #[error("insufficient earnings: {available_yen} yen available")]
    InsufficientEarnings {
        /// Available earnings.
        available_yen: i64,
    },
    /// A request is already open (pending or exported).
    #[error("a payout request is already open")]
    AlreadyOpen,
    /// No bank account is registered.
    #[error("no bank account")]
    NoBankAccount,
    /// The bank account was marked for correction after a failed payout.
    #[error("bank account needs correction")]
    BankAccountNeedsCorrection {
        /// Why (the bank's reason).
        reason: Option<String>,
    },
    /// The payout's state does not allow the command.
    #[error("payout {id} is {state}")]
    WrongState {
        /// The payout.
        id: String,
        /// Its state.
        state: &'static str,
        /// What was asked.
        wanted: &'static str,
    },
    /// No such payout.
    #[error("unknown payout {0}")]
    UnknownPayout(String),
    /// The same payout was listed as both paid and failed.
    #[error("payout {0} listed twice")]
    ListedTwice(String),
    /// No payout is due on or before the pay date.
    #[error("nothing to export")]
    NothingToExport,
    /// The pay date is not a bank business day.
    #[error("{0} is not a bank business day")]
    NotBusinessDay(NaiveDate),
    /// The holiday calendar cannot classify a date.
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

/// A quoted payout: what is requested, the fee, and what reaches the bank account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    /// Requested amount (leaves earnings).
    pub amount_yen: i64,
    /// Transfer fee (to platform revenue).
    pub fee_yen: i64,
    /// Paid to the bank account.
    pub net_yen: i64,
}

/// The fee rule: 160 yen under 3,000 yen, else free; the net must be at least 1 yen.
///
/// Errors: [`PayoutError::InvalidAmount`] for 0 or less, [`PayoutError::AmountTooSmall`] when the
/// fee would take everything.
pub fn quote(policy: &PayoutPolicy, amount_yen: i64) -> Result<Quote, PayoutError> {
    if amount_yen <= 0 {
        return Err(PayoutError::InvalidAmount);
    }
    let fee_yen = if amount_yen < policy.fee_free_from_yen {
        policy.fee_yen
    } else {
        0
    };
    let net_yen = amount_yen - fee_yen;
    if net_yen < 1 {
        return Err(PayoutError::AmountTooSmall {
            min_yen: policy.fee_yen + 1,
        });
    }
    Ok(Quote {
        amount_yen,
        fee_yen,
        net_yen,
    })
}

/// The JST calendar date of a moment.
pub fn jst_date(at: Millis) -> NaiveDate {
    JST.timestamp_millis_opt(at)
        .single()
        .map(|t| t.date_naive())
        .unwrap_or_default()
}

/// The payment date of a request made at `requested_at`: the 20th for requests made on the
/// 1st–15th (JST), the 5th of the next month for the 16th–end, moved to the next bank business day.
///
/// Errors: [`CalendarError`] when the holiday data does not cover the date.
pub fn scheduled_for(
    policy: &PayoutPolicy,
    requested_at: Millis,
) -> Result<NaiveDate, CalendarError> {
    let d = jst_date(requested_at);
    let nominal = if d.day() <= policy.first_half_last_day {
        d.with_day(policy.first_half_pay_day)
    } else {
        d.with_day(1)
            .and_then(|first| first.checked_add_months(Months::new(1)))
            .and_then(|next| next.with_day(policy.second_half_pay_day))
    };
    // Pay days are small numbers every month has; fall back to the date itself if misconfigured.
    calendar::business_day_on_or_after(nominal.unwrap_or(d))
}

/// The state of a payout request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PayoutState {
    /// Requested, waiting for the next batch (振込待ち).
    Pending,
    /// In a Zengin file handed to the bank (振込処理中).
    Exported,
    /// Paid (振込完了).
    Paid,
    /// The bank could not pay; the money went back to earnings (振込失敗).
    Failed,
}

impl PayoutState {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            PayoutState::Pending => "pending",
            PayoutState::Exported => "exported",
            PayoutState::Paid => "paid",
            PayoutState::Failed => "failed",
        }
    }

    /// Parses the stored text.
    pub fn parse(s: &str) -> Option<PayoutState> {
        match s {
            "pending" => Some(PayoutState::Pending),
            "exported" => Some(PayoutState::Exported),
            "paid" => Some(PayoutState::Paid),
            "failed" => Some(PayoutState::Failed),
            _ => None,
        }
    }

    /// The Japanese label.
    pub fn label(self) -> &'static str {
        match self {
            PayoutState::Pending => "振込待ち",
            PayoutState::Exported => "振込処理中",
            PayoutState::Paid => "振込完了",
            PayoutState::Failed => "振込失敗",
        }
    }
}

/// Who asked for a payout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The seller.
    User,
    /// The 120-day rule.
    Automatic,
}

impl Origin {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::User => "user",
            Origin::Automatic => "automatic",
        }
    }
}

/// A payout request as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payout {
    /// Id.
    pub id: String,
    /// The seller.
    pub user_id: String,
    /// State.
    pub state: PayoutState,
    /// Compare-and-set version.
    pub version: i64,
    /// Requested amount, fee and net.
    pub quote: Quote,
    /// When it was requested.
    pub requested_at: Millis,
    /// Payment date.
    pub scheduled_for: NaiveDate,
}

/// What the operator does with a payout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayoutCommand {
    /// Put it into a Zengin file.
    Export,
    /// The bank paid it.
    MarkPaid,
    /// The bank could not pay it.
    MarkFailed,
}

/// The outcome of a command: the new state and the transfer to apply, or nothing to do (the
/// command was already carried out — settling twice is harmless).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Move to `state`, applying `transfer` if any.
    Changed {
        /// New state.
        state: PayoutState,
        /// Ledger transfer.
        transfer: Option<TransferPlan>,
    },
    /// Already done.
    Unchanged,
}

/// The payout state machine: one exhaustive match over (state, command).
///
/// Errors: [`PayoutError::WrongState`] when the command does not fit the state.
pub fn decide(p: &Payout, command: &PayoutCommand) -> Result<Outcome, PayoutError> {
    use PayoutCommand as C;
    use PayoutState as S;
    let wrong = |wanted| PayoutError::WrongState {
        id: p.id.clone(),
        state: p.state.as_str(),
        wanted,
    };
    match (p.state, command) {
        (S::Pending, C::Export) => Ok(Outcome::Changed {
            state: S::Exported,
            transfer: None,
        }),
        (S::Exported, C::Export) | (S::Paid, C::Export) | (S::Failed, C::Export) => {
            Err(wrong("export"))
        }
        (S::Exported, C::MarkPaid) => Ok(Outcome::Changed {
            state: S::Paid,
            transfer: Some(paid_transfer(p)),
        }),
        // Money cannot be paid from a file the bank never received.
        (S::Pending, C::MarkPaid) => Err(wrong("paid")),
        (S::Paid, C::MarkPaid) => Ok(Outcome::Unchanged),
        (S::Failed, C::MarkPaid) => Err(wrong("paid")),
        (S::Pending, C::MarkFailed) | (S::Exported, C::MarkFailed) => Ok(Outcome::Changed {
            state: S::Failed,
            transfer: Some(return_transfer(p)),
        }),
        (S::Failed, C::MarkFailed) => Ok(Outcome::Unchanged),
        (S::Paid, C::MarkFailed) => Err(wrong("failed")),
    }
}

fn yen(n: i64) -> String {
    // 12345 → "12,345"
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// The transfer of a request: earnings → pending payout.
pub fn request_transfer(p: &Payout) -> TransferPlan {
    TransferPlan {
        key: format!("payout:{}:request", p.id),
        code: TransferCode::PayoutRequest,
        order_id: None,
        memo: format!(
            "振込申請 {}円（手数料 {}円・振込額 {}円、{}振込予定）",
            yen(p.quote.amount_yen),
            yen(p.quote.fee_yen),
            yen(p.quote.net_yen),
            p.scheduled_for.format("%Y年%-m月%-d日")
        ),
        entries: vec![
            (AccountRef::Earnings(p.user_id.clone()), -p.quote.amount_yen),
            (
                AccountRef::PayoutPending(p.user_id.clone()),
                p.quote.amount_yen,
            ),
        ],
    }
}

/// The transfer of a paid payout: pending payout → bank (net) and platform revenue (fee).
pub fn paid_transfer(p: &Payout) -> TransferPlan {
    TransferPlan {
        key: format!("payout:{}:paid", p.id),
        code: TransferCode::Payout,
        order_id: None,
        memo: format!(
            "振込完了 {}円（手数料 {}円を差し引き {}円を振込）",
            yen(p.quote.amount_yen),
            yen(p.quote.fee_yen),
            yen(p.quote.net_yen)
        ),
        entries: vec![
            (
                AccountRef::PayoutPending(p.user_id.clone()),
                -p.quote.amount_yen,
            ),
            (AccountRef::Bank, p.quote.net_yen),
            (AccountRef::PlatformRevenue, p.quote.fee_yen),
        ],
    }
}

/// The transfer of a failed payout: the whole amount back to earnings (no fee is kept).
pub fn return_transfer(p: &Payout) -> TransferPlan {
    TransferPlan {
        key: format!("payout:{}:failed", p.id),
        code: TransferCode::PayoutReturn,
        order_id: None,
        memo: format!(
            "振込失敗のため {}円を売上金に戻しました",
            yen(p.quote.amount_yen)
        ),
        entries: vec![
            (
                AccountRef::PayoutPending(p.user_id.clone()),
                -p.quote.amount_yen,
            ),
            (AccountRef::Earnings(p.user_id.clone()), p.quote.amount_yen),
        ],
    }
}

/// How old a user's earnings are, first in first out: what has passed the deadline and when the
/// next part will.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ageing {
    /// Earnings credited more than `auto_request_after_days` ago and not yet used.
    pub stale_yen: i64,
    /// The deadline of the oldest unused credit that has not passed yet.
    pub next_deadline: Option<Millis>,
}

/// Ages earnings: `credits` are (time, amount) of every credit to the earnings account, `used_yen`
/// the sum of every debit (payout requests, conversions). Debits use the oldest credits first.
pub fn age_earnings(
    policy: &PayoutPolicy,
    credits: &[(Millis, i64)],
    used_yen: i64,
    now: Millis,
) -> Ageing {
    let max_age = policy.auto_request_after_days * DAY_MS;
    let mut sorted = credits.to_vec();
    sorted.sort_unstable();
    let mut used = used_yen.max(0);
    let mut stale_yen = 0;
    let mut next_deadline = None;
    for (at, amount) in sorted {
        let left = (amount - used).max(0);
        used = (used - amount).max(0);
        if left == 0 {
            continue;
        }
        let deadline = at + max_age;
        if deadline <= now {
            stale_yen += left;
        } else if next_deadline.is_none() {
            next_deadline = Some(deadline);
        }
    }
    Ageing {
        stale_yen,
        next_deadline,
    }
}

/// The reminder to send now for a deadline: the smallest threshold (days before) already reached,
/// or `None` when no threshold is reached yet or the deadline has passed.
pub fn reminder_due(policy: &PayoutPolicy, deadline: Millis, now: Millis) -> Option<i64> {
    if now >= deadline {
        return None;
    }
    policy
        .reminder_days_before
        .iter()
        .copied()
        .filter(|days| now >= deadline - days * DAY_MS)
        .min()
}

/// When points last earned at `last_earned` expire (the same moment `points_valid_months` later).
pub fn points_expire_at(policy: &PayoutPolicy, last_earned: Millis) -> Millis {
    JST.timestamp_millis_opt(last_earned)
        .single()
        .and_then(|t| t.checked_add_months(Months::new(policy.points_valid_months)))
        .map(|t| t.timestamp_millis())
        .unwrap_or(Millis::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(y: i32, m: u32, d: u32) -> Millis {
        JST.with_ymd_and_hms(y, m, d, 12, 0, 0)
            .unwrap()
            .timestamp_millis()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_fee_is_160_yen_under_3000_yen_and_the_net_must_be_positive() {
        let p = PayoutPolicy::default();
        assert_eq!(
            quote(&p, 2_999).unwrap(),
            Quote {
                amount_yen: 2_999,
                fee_yen: 160,
                net_yen: 2_839
            }
        );
        assert_eq!(quote(&p, 3_000).unwrap().fee_yen, 0);
        assert_eq!(quote(&p, 3_000).unwrap().net_yen, 3_000);
        assert_eq!(quote(&p, 161).unwrap().net_yen, 1);
        assert_eq!(
            quote(&p, 160),
            Err(PayoutError::AmountTooSmall { min_yen: 161 })
        );
        assert_eq!(quote(&p, 0), Err(PayoutError::InvalidAmount));
        assert_eq!(quote(&p, -5), Err(PayoutError::InvalidAmount));
    }

    #[test]
    fn the_first_half_is_paid_on_the_20th_and_the_second_half_on_the_5th() {
        let p = PayoutPolicy::default();
        // 2026-11-20 is a Friday.
        assert_eq!(
            scheduled_for(&p, at(2026, 11, 1)).unwrap(),
            date(2026, 11, 20)
        );
        assert_eq!(
            scheduled_for(&p, at(2026, 11, 15)).unwrap(),
            date(2026, 11, 20)
        );
        // 16th → the 5th of next month; 2026-12-05 is a Saturday → Monday the 7th.
        assert_eq!(
            scheduled_for(&p, at(2026, 11, 16)).unwrap(),
            date(2026, 12, 7)
        );
        assert_eq!(
            scheduled_for(&p, at(2026, 11, 30)).unwrap(),
            date(2026, 12, 7)
        );
    }

    #[test]
    fn the_day_boundary_is_japan_time() {
        let p = PayoutPolicy::default();
        // 2026-11-15T23:30 JST is still the 15th in Japan although it is the 15th 14:30 UTC…
        let late_15th = JST
            .with_ymd_and_hms(2026, 11, 15, 23, 30, 0)
            .unwrap()
            .timestamp_millis();
        assert_eq!(scheduled_for(&p, late_15th).unwrap(), date(2026, 11, 20));
        // …and 2026-11-16T00:30 JST (15th 15:30 UTC) is the 16th.
        let early_16th = JST
            .with_ymd_and_hms(2026, 11, 16, 0, 30, 0)
            .unwrap()
            .timestamp_millis();
        assert_eq!(scheduled_for(&p, early_16th).unwrap(), date(2026, 12, 7));
    }

    #[test]
    fn the_schedule_crosses_month_and_year_ends() {
        let p = PayoutPolicy::default();
        // Requested 31 January → 5 February 2027 (Friday).
        assert_eq!(
            scheduled_for(&p, at(2027, 1, 31)).unwrap(),
            date(2027, 2, 5)
        );
        // Requested 28 February 2027 → 5 March (Friday).
        assert_eq!(
            scheduled_for(&p, at(2027, 2, 28)).unwrap(),
            date(2027, 3, 5)
        );
        // Requested 20 December 2026 → 5 January 2027 (Tuesday, after the 31 Dec–3 Jan break).
        assert_eq!(
            scheduled_for(&p, at(2026, 12, 20)).unwrap(),
            date(2027, 1, 5)
        );
        // Requested 20 December 2031 → 5 January 2032 is a Monday: paid that day.
        assert_eq!(
            scheduled_for(&p, at(2031, 12, 20)).unwrap(),
            date(2032, 1, 5)
        );
        // Requested 16 December 2029 → 5 January 2030 is a Saturday → Monday the 7th.
        assert_eq!(
            scheduled_for(&p, at(2029, 12, 16)).unwrap(),
            date(2030, 1, 7)
        );
    }

    #[test]
    fn a_holiday_on_the_20th_moves_the_payment_to_the_next_business_day() {
        let p = PayoutPolicy::default();
        // 2026-03-20 is 春分の日 (Friday) → Monday 23 March.
        assert_eq!(
            scheduled_for(&p, at(2026, 3, 10)).unwrap(),
            date(2026, 3, 23)
        );
        // 2026-07-20 is 海の日 (Monday) → Tuesday 21 July.
        assert_eq!(
            scheduled_for(&p, at(2026, 7, 1)).unwrap(),
            date(2026, 7, 21)
        );
        // 2026-05-05 こどもの日 + 5-06 振替休日: a second-half April request → Thursday 7 May.
        assert_eq!(
            scheduled_for(&p, at(2026, 4, 20)).unwrap(),
            date(2026, 5, 7)
        );
    }

    fn payout(state: PayoutState) -> Payout {
        Payout {
            id: "p1".into(),
            user_id: "u1".into(),
            state,
            version: 1,
            quote: quote(&PayoutPolicy::default(), 2_000).unwrap(),
            requested_at: at(2026, 11, 2),
            scheduled_for: date(2026, 11, 20),
        }
    }

    #[test]
    fn a_payout_is_exported_then_paid_or_failed_and_settling_twice_is_harmless() {
        use PayoutCommand as C;
        use PayoutState as S;
        let exported = decide(&payout(S::Pending), &C::Export).unwrap();
        assert_eq!(
            exported,
            Outcome::Changed {
                state: S::Exported,
                transfer: None
            }
        );
        let Outcome::Changed {
            state: S::Paid,
            transfer: Some(t),
        } = decide(&payout(S::Exported), &C::MarkPaid).unwrap()
        else {
            panic!("expected paid");
        };
        t.check_balanced().unwrap();
        assert_eq!(
            t.entries,
            vec![
                (AccountRef::PayoutPending("u1".into()), -2_000),
                (AccountRef::Bank, 1_840),
                (AccountRef::PlatformRevenue, 160)
            ]
        );
        let Outcome::Changed {
            state: S::Failed,
            transfer: Some(t),
        } = decide(&payout(S::Exported), &C::MarkFailed).unwrap()
        else {
            panic!("expected failed");
        };
        assert_eq!(t.entries[1], (AccountRef::Earnings("u1".into()), 2_000));
        assert_eq!(
            decide(&payout(S::Paid), &C::MarkPaid).unwrap(),
            Outcome::Unchanged
        );
        assert!(decide(&payout(S::Pending), &C::MarkPaid).is_err());
        assert!(decide(&payout(S::Paid), &C::MarkFailed).is_err());
        assert!(decide(&payout(S::Exported), &C::Export).is_err());
        request_transfer(&payout(S::Pending))
            .check_balanced()
            .unwrap();
    }

    #[test]
    fn earnings_age_first_in_first_out() {
        let p = PayoutPolicy::default();
        let day = DAY_MS;
        let credits = [(0, 1_000), (10 * day, 2_000), (50 * day, 500)];
        // Day 125: the first credit is stale; 300 yen of it were already used.
        let a = age_earnings(&p, &credits, 300, 125 * day);
        assert_eq!(a.stale_yen, 700);
        assert_eq!(a.next_deadline, Some(130 * day));
        // Day 131: the first two are stale.
        assert_eq!(age_earnings(&p, &credits, 300, 131 * day).stale_yen, 2_700);
        // Using 1,200 consumes the whole first credit and part of the second.
        let a = age_earnings(&p, &credits, 1_200, 125 * day);
        assert_eq!(a.stale_yen, 0);
        assert_eq!(a.next_deadline, Some(130 * day));
        // Everything used: nothing ages.
        let a = age_earnings(&p, &credits, 3_500, 400 * day);
        assert_eq!((a.stale_yen, a.next_deadline), (0, None));
    }

    #[test]
    fn reminders_fire_at_30_7_and_1_days_before_the_deadline() {
        let p = PayoutPolicy::default();
        let deadline = 200 * DAY_MS;
        assert_eq!(reminder_due(&p, deadline, deadline - 31 * DAY_MS), None);
        assert_eq!(reminder_due(&p, deadline, deadline - 30 * DAY_MS), Some(30));
        assert_eq!(reminder_due(&p, deadline, deadline - 6 * DAY_MS), Some(7));
        assert_eq!(reminder_due(&p, deadline, deadline - 1), Some(1));
        assert_eq!(reminder_due(&p, deadline, deadline), None);
    }

    #[test]
    fn points_expire_a_year_after_they_were_last_earned() {
        let p = PayoutPolicy::default();
        assert_eq!(points_expire_at(&p, at(2026, 2, 10)), at(2027, 2, 10));
        assert_eq!(yen(1234567), "1,234,567");
        assert_eq!(yen(160), "160");
    }
}
