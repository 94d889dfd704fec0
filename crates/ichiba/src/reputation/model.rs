//! Seller reputation, as pure functions over the seller's history: metrics (first reply, response
//! rate, on-time delivery, completion, cancellation, ratings, repeat buyers, sales), seller ranks
//! (レギュラー … プラチナ), and the published おすすめ順 scoring formula.
//!
//! Fairness rule: lateness and cancellations count against a seller only when the recorded fault
//! is the seller's.
//!
//! ## The recommended score (published)
//!
//! `score = 0.2 × information + 0.4 × popularity + 0.4 × reliability`, each factor in [0, 1]:
//!
//! * **information** — completeness of the listing: a quarter each for a title of at least 15
//!   characters, a description of at least 200 characters, at least one paid option, and a seller
//!   profile text.
//! * **popularity** — `1 − exp(−W / 5)` where `W = Σ exp(−age_days / 90)` over the listing's
//!   completed orders: every completed delivery raises it, recent ones more.
//! * **reliability** — the mean of four parts: the Bayesian-smoothed rating mapped to [0, 1]
//!   (`(r − 1) / 4`, with `r = (5 × 4.0 + Σ ratings) / (5 + n)`), the on-time delivery rate, one
//!   minus the seller-fault cancellation rate, and `1 / (1 + median first-reply hours / 24)`. A
//!   part without data takes a neutral default (0.8, 0.9 and 0.5).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::clock::Millis;
use crate::clock::{DAY_MS, HOUR_MS};
use crate::orders::model::{Fault, OrderState};

/// One of the seller's orders, as the metrics need it.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderFact {
    pub listing_id: String,
    pub buyer_id: String,
    pub state: OrderState,
    pub purchased_at: Millis,
    pub first_replied_at: Option<Millis>,
    pub delivered_at: Option<Millis>,
    pub ended_at: Option<Millis>,
    pub late: bool,
    pub fault: Option<Fault>,
    /// What the sale was worth to the seller before commission (subtotal, or the settled share).
    pub sales_yen: i64,
}

/// A published buyer rating of the seller.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatingFact {
    pub rating: i64,
    pub at: Millis,
}

/// A message in one of the seller's direct threads: (time, written by the seller).
pub type DmFact = (Millis, bool);

/// Prior of the smoothed rating: as if every seller started with 5 ratings of 4.0.
pub const PRIOR_MEAN: f64 = 4.0;
/// Weight of the prior.
pub const PRIOR_WEIGHT: f64 = 5.0;

/// Seller metrics over a period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Metrics {
    /// Median minutes from purchase to the seller's first message.
    pub median_first_reply_minutes: Option<i64>,
    /// Share of direct-message conversations answered within 24 hours.
    pub response_rate: Option<f64>,
    /// Share of deliveries made by the due date.
    pub on_time_rate: Option<f64>,
    /// Completed ÷ (completed + seller-fault cancellations).
    pub completion_rate: Option<f64>,
    /// Seller-fault cancellations ÷ finished orders.
    pub cancellation_rate: Option<f64>,
    /// Average public rating.
    pub rating_average: Option<f64>,
    /// Number of published ratings.
    pub rating_count: i64,
    /// Bayesian-smoothed rating used for ranking.
    pub smoothed_rating: f64,
    /// Buyers with two or more completed orders.
    pub repeat_buyers: i64,
    /// Completed orders.
    pub sales_count: i64,
    /// Yen of completed orders (before commission).
    pub sales_yen: i64,
}

fn ratio(num: usize, den: usize) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// Computes the metrics of everything at or after `since` (`None` = all time).
pub fn metrics(
    orders: &[OrderFact],
    ratings: &[RatingFact],
    dms: &[Vec<DmFact>],
    since: Option<Millis>,
) -> Metrics {
    let from = since.unwrap_or(i64::MIN);
    let mut replies: Vec<i64> = orders
        .iter()
        .filter(|o| o.purchased_at >= from)
        .filter_map(|o| o.first_replied_at.map(|r| (r - o.purchased_at) / 60_000))
        .collect();
    replies.sort_unstable();
    let median_first_reply_minutes = (!replies.is_empty()).then(|| replies[replies.len() / 2]);
    let ended: Vec<&OrderFact> = orders
        .iter()
        .filter(|o| o.ended_at.is_some_and(|e| e >= from))
        .collect();
    let completed: Vec<&&OrderFact> = ended
        .iter()
        .filter(|o| o.state == OrderState::Completed)
        .collect();
    let seller_cancels = ended
        .iter()
        .filter(|o| o.state == OrderState::Cancelled && o.fault == Some(Fault::Seller))
        .count();
    let delivered: Vec<&OrderFact> = orders
        .iter()
        .filter(|o| o.delivered_at.is_some_and(|d| d >= from))
        .collect();
    let on_time = delivered.iter().filter(|o| !o.late).count();
    let mut per_buyer: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for o in &completed {
        *per_buyer.entry(o.buyer_id.as_str()).or_default() += 1;
    }
    let rs: Vec<i64> = ratings
        .iter()
        .filter(|r| r.at >= from)
        .map(|r| r.rating)
        .collect();
    let sum: i64 = rs.iter().sum();
    let n = rs.len();
    let (mut turns, mut answered) = (0usize, 0usize);
    for thread in dms {
        let mut i = 0;
        while i < thread.len() {
            let (at, by_seller) = thread[i];
            let starts_turn = !by_seller && (i == 0 || thread[i - 1].1) && at >= from;
            if starts_turn {
                turns += 1;
                if thread[i + 1..]
                    .iter()
                    .any(|(t, s)| *s && *t - at <= 24 * HOUR_MS)
                {
                    answered += 1;
                }
            }
            i += 1;
        }
    }
    Metrics {
        median_first_reply_minutes,
        response_rate: ratio(answered, turns),
        on_time_rate: ratio(on_time, delivered.len()),
        completion_rate: ratio(completed.len(), completed.len() + seller_cancels),
        cancellation_rate: ratio(seller_cancels, ended.len()),
        rating_average: (n > 0).then(|| sum as f64 / n as f64),
        rating_count: n as i64,
        smoothed_rating: (PRIOR_WEIGHT * PRIOR_MEAN + sum as f64) / (PRIOR_WEIGHT + n as f64),
        repeat_buyers: per_buyer.values().filter(|c| **c >= 2).count() as i64,
        sales_count: completed.len() as i64,
        sales_yen: completed.iter().map(|o| o.sales_yen).sum(),
    }
}

/// Seller ranks, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rank {
    /// No sale yet.
    None,
    /// レギュラー.
    Regular,
    /// ブロンズ.
    Bronze,
    /// シルバー.
    Silver,
    /// ゴールド.
    Gold,
    /// プラチナ.
    Platinum,
}

impl Rank {
    /// Stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Rank::None => "none",
            Rank::Regular => "regular",
            Rank::Bronze => "bronze",
            Rank::Silver => "silver",
            Rank::Gold => "gold",
            Rank::Platinum => "platinum",
        }
    }

    /// Japanese name.
    pub fn label(self) -> &'static str {
        match self {
            Rank::None => "なし",
            Rank::Regular => "レギュラー",
            Rank::Bronze => "ブロンズ",
            Rank::Silver => "シルバー",
            Rank::Gold => "ゴールド",
            Rank::Platinum => "プラチナ",
        }
    }

    /// The next rank up.
    pub fn next(self) -> Option<Rank> {
        match self {
            Rank::None => Some(Rank::Regular),
            Rank::Regular => Some(Rank::Bronze),
            Rank::Bronze => Some(Rank::Silver),
            Rank::Silver => Some(Rank::Gold),
            Rank::Gold => Some(Rank::Platinum),
            Rank::Platinum => None,
        }
    }
}

/// Rank thresholds (policy values).
#[derive(Debug, Clone, PartialEq)]
pub struct RankPolicy {
    pub regular_sales: i64,
    pub bronze_sales_total: i64,
    pub silver_sales_3m: i64,
    pub silver_completion: f64,
    pub gold_sales_yen_3m: i64,
    pub gold_completion: f64,
    pub gold_rating: f64,
    pub platinum_sales_yen_3m: i64,
}

impl Default for RankPolicy {
    fn default() -> Self {
        RankPolicy {
            regular_sales: 1,
            bronze_sales_total: 10,
            silver_sales_3m: 10,
            silver_completion: 0.8,
            gold_sales_yen_3m: 50_000,
            gold_completion: 0.9,
            gold_rating: 4.8,
            platinum_sales_yen_3m: 100_000,
        }
    }
}

/// What a rank is decided from.
#[derive(Debug, Clone, PartialEq)]
pub struct RankInput {
    pub sales_total: i64,
    pub sales_3m: i64,
    pub sales_yen_3m: i64,
    pub completion_3m: Option<f64>,
    pub rating_3m: Option<f64>,
    pub identity_verified: bool,
    pub logged_in_within_month: bool,
}

/// One criterion of one rank, with where the seller stands.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Criterion {
    /// The rank it belongs to.
    pub rank: Rank,
    /// Japanese description.
    pub name: String,
    /// Required value (as text).
    pub required: String,
    /// The seller's value (as text).
    pub actual: String,
    /// Met or not.
    pub met: bool,
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.0}%", x * 100.0))
        .unwrap_or_else(|| "—".into())
}

/// The criteria of every rank for this seller.
pub fn criteria(i: &RankInput, p: &RankPolicy) -> Vec<Criterion> {
    let c = |rank, name: &str, required: String, actual: String, met| Criterion {
        rank,
        name: name.into(),
        required,
        actual,
        met,
    };
    let completion = i.completion_3m.unwrap_or(0.0);
    let rating = i.rating_3m.unwrap_or(0.0);
    let mut out = vec![
        c(
            Rank::Regular,
            "累計販売実績",
            format!("{}件以上", p.regular_sales),
            format!("{}件", i.sales_total),
            i.sales_total >= p.regular_sales,
        ),
        c(
            Rank::Bronze,
            "累計販売実績",
            format!("{}件以上", p.bronze_sales_total),
            format!("{}件", i.sales_total),
            i.sales_total >= p.bronze_sales_total,
        ),
        c(
            Rank::Silver,
            "直近3か月の販売実績",
            format!("{}件以上", p.silver_sales_3m),
            format!("{}件", i.sales_3m),
            i.sales_3m >= p.silver_sales_3m,
        ),
        c(
            Rank::Silver,
            "直近3か月の完了率",
            pct(Some(p.silver_completion)),
            pct(i.completion_3m),
            completion >= p.silver_completion,
        ),
    ];
    for (rank, yen) in [
        (Rank::Gold, p.gold_sales_yen_3m),
        (Rank::Platinum, p.platinum_sales_yen_3m),
    ] {
        out.push(c(
            rank,
            "直近3か月の売上",
            format!("{yen}円以上"),
            format!("{}円", i.sales_yen_3m),
            i.sales_yen_3m >= yen,
        ));
        out.push(c(
            rank,
            "直近3か月の完了率",
            pct(Some(p.gold_completion)),
            pct(i.completion_3m),
            completion >= p.gold_completion,
        ));
        out.push(c(
            rank,
            "直近3か月の評価",
            format!("{:.1}以上", p.gold_rating),
            i.rating_3m
                .map(|r| format!("{r:.2}"))
                .unwrap_or_else(|| "—".into()),
            rating >= p.gold_rating,
        ));
        out.push(c(
            rank,
            "本人確認",
            "済み".into(),
            if i.identity_verified {
                "済み".into()
            } else {
                "未".into()
            },
            i.identity_verified,
        ));
        out.push(c(
            rank,
            "1か月以内のログイン",
            "あり".into(),
            if i.logged_in_within_month {
                "あり".into()
            } else {
                "なし".into()
            },
            i.logged_in_within_month,
        ));
    }
    out
}

/// The highest rank whose criteria (and those of every rank below) are all met.
pub fn rank(i: &RankInput, p: &RankPolicy) -> Rank {
    let all = criteria(i, p);
    let mut best = Rank::None;
    for r in [
        Rank::Regular,
        Rank::Bronze,
        Rank::Silver,
        Rank::Gold,
        Rank::Platinum,
    ] {
        if all.iter().filter(|c| c.rank == r).all(|c| c.met) {
            best = r;
        } else {
            break;
        }
    }
    best
}

/// The three factors and the total of the recommended score.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Score {
    /// Completeness of the listing, 0–1.
    pub information: f64,
    /// Recency-weighted completed sales, 0–1.
    pub popularity: f64,
    /// Rating, punctuality, cancellations, first reply, 0–1.
    pub reliability: f64,
    /// `0.2 × information + 0.4 × popularity + 0.4 × reliability`.
    pub total: f64,
}

/// What the score of one listing is computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct ListingFacts {
    pub title_chars: usize,
    pub description_chars: usize,
    pub options: usize,
    pub seller_has_bio: bool,
    /// Ages in days of the listing's completed orders.
    pub completed_ages_days: Vec<f64>,
}

/// The published formula.
pub fn score(l: &ListingFacts, seller: &Metrics) -> Score {
    let quarter = |b: bool| if b { 0.25 } else { 0.0 };
    let information = quarter(l.title_chars >= 15)
        + quarter(l.description_chars >= 200)
        + quarter(l.options >= 1)
        + quarter(l.seller_has_bio);
    let w: f64 = l
        .completed_ages_days
        .iter()
        .map(|a| (-a.max(0.0) / 90.0).exp())
        .sum();
    let popularity = 1.0 - (-w / 5.0).exp();
    let rating_part = ((seller.smoothed_rating - 1.0) / 4.0).clamp(0.0, 1.0);
    let on_time = seller.on_time_rate.unwrap_or(0.8);
    let not_cancelled = 1.0 - seller.cancellation_rate.unwrap_or(0.1);
    let reply = seller
        .median_first_reply_minutes
        .map(|m| 1.0 / (1.0 + (m as f64 / 60.0) / 24.0))
        .unwrap_or(0.5);
    let reliability = (rating_part + on_time + not_cancelled + reply) / 4.0;
    Score {
        information,
        popularity,
        reliability,
        total: 0.2 * information + 0.4 * popularity + 0.4 * reliability,
    }
}

/// Days between two times.
pub fn age_days(now: Millis, then: Millis) -> f64 {
    (now - then) as f64 / DAY_MS as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn order(state: OrderState, fault: Option<Fault>, late: bool, buyer: &str) -> OrderFact {
        OrderFact {
            listing_id: "l".into(),
            buyer_id: buyer.into(),
            state,
            purchased_at: 0,
            first_replied_at: Some(30 * 60_000),
            delivered_at: (state == OrderState::Completed).then_some(DAY_MS),
            ended_at: Some(2 * DAY_MS),
            late,
            fault,
            sales_yen: 5000,
        }
    }

    #[test]
    fn a_buyer_fault_cancellation_does_not_hurt_the_seller() {
        let base = vec![order(OrderState::Completed, None, false, "a")];
        let mut with_buyer_fault = base.clone();
        with_buyer_fault.push(order(OrderState::Cancelled, Some(Fault::Buyer), false, "b"));
        let m1 = metrics(&base, &[], &[], None);
        let m2 = metrics(&with_buyer_fault, &[], &[], None);
        assert_eq!(m1.completion_rate, m2.completion_rate);
        assert_eq!(m2.cancellation_rate, Some(0.0));
        let mut with_seller_fault = base.clone();
        with_seller_fault.push(order(
            OrderState::Cancelled,
            Some(Fault::Seller),
            false,
            "b",
        ));
        let m3 = metrics(&with_seller_fault, &[], &[], None);
        assert_eq!(m3.completion_rate, Some(0.5));
        assert_eq!(m3.cancellation_rate, Some(0.5));
    }

    #[test]
    fn metrics_count_repeat_buyers_sales_and_response() {
        let orders = vec![
            order(OrderState::Completed, None, false, "a"),
            order(OrderState::Completed, None, true, "a"),
            order(OrderState::Completed, None, false, "b"),
        ];
        let dms = vec![
            vec![(0, false), (HOUR_MS, true)],
            vec![(0, false), (2 * DAY_MS, true)],
        ];
        let m = metrics(
            &orders,
            &[
                RatingFact { rating: 5, at: 0 },
                RatingFact { rating: 4, at: 0 },
            ],
            &dms,
            None,
        );
        assert_eq!(m.repeat_buyers, 1);
        assert_eq!(m.sales_count, 3);
        assert_eq!(m.sales_yen, 15000);
        assert_eq!(m.on_time_rate, Some(2.0 / 3.0));
        assert_eq!(m.response_rate, Some(0.5));
        assert_eq!(m.rating_average, Some(4.5));
        assert_eq!(m.median_first_reply_minutes, Some(30));
        assert!((m.smoothed_rating - (20.0 + 9.0) / 7.0).abs() < 1e-9);
    }

    fn input(
        sales_total: i64,
        sales_3m: i64,
        yen: i64,
        completion: f64,
        rating: f64,
        verified: bool,
    ) -> RankInput {
        RankInput {
            sales_total,
            sales_3m,
            sales_yen_3m: yen,
            completion_3m: Some(completion),
            rating_3m: Some(rating),
            identity_verified: verified,
            logged_in_within_month: true,
        }
    }

    #[test]
    fn ranks_follow_the_published_thresholds() {
        let p = RankPolicy::default();
        assert_eq!(rank(&input(0, 0, 0, 0.0, 0.0, false), &p), Rank::None);
        assert_eq!(rank(&input(1, 1, 3000, 1.0, 5.0, false), &p), Rank::Regular);
        assert_eq!(
            rank(&input(10, 3, 30000, 1.0, 5.0, false), &p),
            Rank::Bronze
        );
        assert_eq!(
            rank(&input(12, 10, 40000, 0.85, 5.0, true), &p),
            Rank::Silver
        );
        assert_eq!(
            rank(&input(12, 10, 60000, 0.95, 4.9, false), &p),
            Rank::Silver,
            "gold needs identity"
        );
        assert_eq!(rank(&input(12, 10, 60000, 0.95, 4.9, true), &p), Rank::Gold);
        assert_eq!(
            rank(&input(30, 20, 120000, 0.95, 4.9, true), &p),
            Rank::Platinum
        );
        assert_eq!(
            rank(&input(30, 20, 120000, 0.95, 4.7, true), &p),
            Rank::Silver,
            "rating below 4.8"
        );
    }

    fn facts(ages: Vec<f64>) -> ListingFacts {
        ListingFacts {
            title_chars: 20,
            description_chars: 300,
            options: 1,
            seller_has_bio: true,
            completed_ages_days: ages,
        }
    }

    proptest! {
        #[test]
        fn one_more_completed_sale_never_lowers_the_score(ages in proptest::collection::vec(0.0f64..400.0, 0..30), new_age in 0.0f64..400.0) {
            let m = Metrics { smoothed_rating: 4.5, ..Metrics::default() };
            let before = score(&facts(ages.clone()), &m).total;
            let mut more = ages.clone();
            more.push(new_age);
            prop_assert!(score(&facts(more), &m).total >= before);
        }

        #[test]
        fn a_better_rating_never_lowers_the_score(ratings in proptest::collection::vec(1i64..=5, 1..30), which in 0usize..30) {
            let i = which % ratings.len();
            let to_facts = |rs: &[i64]| rs.iter().map(|r| RatingFact { rating: *r, at: 0 }).collect::<Vec<_>>();
            let before = score(&facts(vec![]), &metrics(&[], &to_facts(&ratings), &[], None)).total;
            let mut better = ratings.clone();
            better[i] = (better[i] + 1).min(5);
            let after = score(&facts(vec![]), &metrics(&[], &to_facts(&better), &[], None)).total;
            prop_assert!(after >= before);
        }
    }

    #[test]
    fn a_recent_sale_counts_more_than_an_old_one() {
        let m = Metrics {
            smoothed_rating: 4.0,
            ..Metrics::default()
        };
        assert!(score(&facts(vec![1.0]), &m).total > score(&facts(vec![300.0]), &m).total);
        let s = score(&facts(vec![]), &m);
        assert_eq!(s.information, 1.0);
        assert_eq!(s.popularity, 0.0);
    }
}
