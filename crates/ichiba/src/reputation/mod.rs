//! Reputation: seller metrics, seller ranks and the おすすめ順 (recommended) score — computed from
//! the recorded history with the published formulas in [`model`], stored on the listings for fast
//! sorting and filtering, and explained to each seller.

pub mod http;
pub mod model;
pub mod store;

use chrono::{Datelike, TimeZone};
use serde::Serialize;
use utoipa::ToSchema;

pub use model::{Metrics, Rank, Score};

use crate::auth::Identity;
use crate::clock::DAY_MS;
use crate::clock::{JST, Millis, to_rfc3339};
use crate::db::Db;
use crate::error::AppError;
use crate::state::AppState;

/// Marks the seller's reputation for a refresh off the request path (a finished deal, a published
/// review). Readers that show listing scores or ratings call [`settle`] first, so what they show
/// includes it; the worker of [`spawn_refresher`] does it meanwhile.
pub fn refresh_later(state: &AppState, seller_id: &str) {
    state.reputation_pending.mark(seller_id);
}

/// Refreshes every seller marked by [`refresh_later`] and not refreshed yet, and waits for a
/// refresh the worker is running: afterwards the stored scores and ratings include every
/// finished deal and published review. Costs nothing when nothing is pending.
pub async fn settle(state: &AppState) -> Result<(), sqlx::Error> {
    let pending = &state.reputation_pending;
    if pending.is_settled() {
        return Ok(());
    }
    let _draining = pending.drain_lock().await;
    let sellers = pending.take();
    let now = state.clock.now_ms();
    for (i, seller) in sellers.iter().enumerate() {
        if let Err(e) = refresh_seller(&state.db, seller, now).await {
            // Keep the ones not done for the next try.
            for s in &sellers[i..] {
                pending.mark(s);
            }
            return Err(e);
        }
    }
    Ok(())
}

/// How long the refresher lets marks gather before it refreshes: a seller with several deals
/// finishing together is refreshed once.
const GATHER: std::time::Duration = std::time::Duration::from_millis(50);

/// Starts the worker that refreshes marked sellers shortly after they are marked.
pub fn spawn_refresher(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            state.reputation_pending.woken().await;
            tokio::time::sleep(GATHER).await;
            if let Err(e) = settle(&state).await {
                tracing::warn!(error = %e, "reputation refresh failed; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    })
}

/// Recomputes the seller's metrics and the score and rating summary of each of their listings.
pub async fn refresh_seller(db: &Db, seller_id: &str, now: Millis) -> Result<(), sqlx::Error> {
    let mut conn = db.pool().acquire().await?;
    let orders = store::seller_orders(&mut conn, seller_id).await?;
    let ratings = store::seller_ratings(&mut conn, seller_id).await?;
    let dms = store::seller_dms(&mut conn, seller_id).await?;
    let metrics = model::metrics(&orders, &ratings, &dms, None);
    let has_bio = store::user_flags(&mut conn, seller_id)
        .await?
        .is_some_and(|(bio, _, _)| !bio.trim().is_empty());
    let listings = store::seller_listings(&mut conn, seller_id).await?;
    drop(conn);
    let mut tx = db.begin().await?;
    for l in listings {
        let facts = model::ListingFacts {
            title_chars: l.title.chars().count(),
            description_chars: l.description.chars().count(),
            options: usize::try_from(l.options).unwrap_or(0),
            seller_has_bio: has_bio,
            completed_ages_days: orders
                .iter()
                .filter(|o| o.listing_id == l.id && o.state == crate::orders::OrderState::Completed)
                .filter_map(|o| o.ended_at.map(|e| model::age_days(now, e)))
                .collect(),
        };
        let s = model::score(&facts, &metrics);
        let (avg, count) = store::listing_rating(&mut tx, &l.id).await?;
        let json = serde_json::to_string(&s).unwrap_or_else(|_| "{}".into());
        store::set_listing_score(
            &mut tx,
            &l.id,
            (s.total * 1_000_000.0).round() as i64,
            &json,
            avg,
            count,
        )
        .await?;
    }
    tx.commit().await
}

/// Public metrics of a user.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicMetrics {
    /// Median minutes to the first reply (last 90 days).
    pub median_first_reply_minutes: Option<i64>,
    /// On-time delivery rate (last 90 days).
    pub on_time_rate: Option<f64>,
    /// Completion rate (last 90 days).
    pub completion_rate: Option<f64>,
    /// Average public rating (all time).
    pub rating_average: Option<f64>,
    /// Published ratings (all time).
    pub rating_count: i64,
    /// Completed sales (all time).
    pub sales_count: i64,
    /// Current rank.
    pub rank: Rank,
}

/// All metrics of the caller.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyMetrics {
    /// The last 90 days.
    pub last_90_days: Metrics,
    /// All time.
    pub all_time: Metrics,
}

async fn history(
    db: &Db,
    user_id: &str,
) -> Result<
    (
        Vec<model::OrderFact>,
        Vec<model::RatingFact>,
        Vec<Vec<model::DmFact>>,
    ),
    sqlx::Error,
> {
    let mut conn = db.pool().acquire().await?;
    Ok((
        store::seller_orders(&mut conn, user_id).await?,
        store::seller_ratings(&mut conn, user_id).await?,
        store::seller_dms(&mut conn, user_id).await?,
    ))
}

/// The caller's metrics over 90 days and all time.
pub async fn my_metrics(db: &Db, user_id: &str, now: Millis) -> Result<MyMetrics, sqlx::Error> {
    let (o, r, d) = history(db, user_id).await?;
    Ok(MyMetrics {
        last_90_days: model::metrics(&o, &r, &d, Some(now - 90 * DAY_MS)),
        all_time: model::metrics(&o, &r, &d, None),
    })
}

/// The public subset for a profile (404 for an unknown user).
pub async fn public_metrics(
    db: &Db,
    user_id: &str,
    now: Millis,
) -> Result<PublicMetrics, AppError> {
    {
        let mut conn = db.pool().acquire().await?;
        store::user_flags(&mut conn, user_id)
            .await?
            .ok_or(AppError::NotFound)?;
    }
    let m = my_metrics(db, user_id, now).await?;
    let rank = current_rank(db, user_id).await?;
    Ok(PublicMetrics {
        median_first_reply_minutes: m.last_90_days.median_first_reply_minutes,
        on_time_rate: m.last_90_days.on_time_rate,
        completion_rate: m.last_90_days.completion_rate,
        rating_average: m.all_time.rating_average,
        rating_count: m.all_time.rating_count,
        sales_count: m.all_time.sales_count,
        rank,
    })
}

async fn current_rank(db: &Db, user_id: &str) -> Result<Rank, sqlx::Error> {
    let mut conn = db.pool().acquire().await?;
    let h = store::rank_history(&mut conn, user_id).await?;
    Ok(h.first()
        .and_then(|(r, _, _)| serde_json::from_value(serde_json::Value::String(r.clone())).ok())
        .unwrap_or(Rank::None))
}

async fn rank_input(db: &Db, user_id: &str, now: Millis) -> Result<model::RankInput, sqlx::Error> {
    let (o, r, d) = history(db, user_id).await?;
    let all = model::metrics(&o, &r, &d, None);
    let recent = model::metrics(&o, &r, &d, Some(now - 90 * DAY_MS));
    let mut conn = db.pool().acquire().await?;
    let (verified, last_login) = store::user_flags(&mut conn, user_id)
        .await?
        .map(|(_, v, l)| (v == 1, l))
        .unwrap_or((false, None));
    Ok(model::RankInput {
        sales_total: all.sales_count,
        sales_3m: recent.sales_count,
        sales_yen_3m: recent.sales_yen,
        completion_3m: recent.completion_rate,
        rating_3m: recent.rating_average,
        identity_verified: verified,
        logged_in_within_month: last_login.is_some_and(|l| now - l <= 31 * DAY_MS),
    })
}

/// Where the caller stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RankStatus {
    /// The rank of this month (computed on the 1st).
    pub rank: Rank,
    /// Its Japanese name.
    pub rank_label: String,
    /// The rank the current figures would give.
    pub projected_rank: Rank,
    /// The next rank above the current one.
    pub next_rank: Option<Rank>,
    /// Every criterion with the caller's value.
    pub criteria: Vec<model::Criterion>,
    /// Past ranks, newest first.
    pub history: Vec<RankHistoryEntry>,
}

/// One month's rank.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RankHistoryEntry {
    /// `YYYY-MM`.
    pub period: String,
    /// Rank.
    pub rank: String,
    /// When computed.
    pub computed_at: String,
}

/// The caller's rank, live projection, criteria and history.
pub async fn rank_status(db: &Db, user_id: &str, now: Millis) -> Result<RankStatus, sqlx::Error> {
    let input = rank_input(db, user_id, now).await?;
    let policy = model::RankPolicy::default();
    let rank = current_rank(db, user_id).await?;
    let mut conn = db.pool().acquire().await?;
    let history = store::rank_history(&mut conn, user_id)
        .await?
        .into_iter()
        .map(|(rank, period, at)| RankHistoryEntry {
            period,
            rank,
            computed_at: to_rfc3339(at),
        })
        .collect();
    Ok(RankStatus {
        rank,
        rank_label: rank.label().into(),
        projected_rank: model::rank(&input, &policy),
        next_rank: rank.next(),
        criteria: model::criteria(&input, &policy),
        history,
    })
}

/// The month (`YYYY-MM`, JST) a time falls in.
pub fn period_of(now: Millis) -> String {
    match JST.timestamp_millis_opt(now).single() {
        Some(t) => format!("{:04}-{:02}", t.year(), t.month()),
        None => String::new(),
    }
}

/// Computes every seller's rank once per month (the first worker pass of the month, i.e. on the
/// 1st) and refreshes their scores. Returns the number of sellers ranked.
pub async fn monthly_ranks(db: &Db, now: Millis) -> Result<u64, sqlx::Error> {
    let period = period_of(now);
    let sellers = {
        let mut tx = db.begin().await?;
        let claimed = store::claim_period(&mut tx, "monthly_ranks", &period, now).await?;
        tx.commit().await?;
        if !claimed {
            return Ok(0);
        }
        let mut conn = db.pool().acquire().await?;
        store::sellers(&mut conn).await?
    };
    let policy = model::RankPolicy::default();
    for s in &sellers {
        let input = rank_input(db, s, now).await?;
        let rank = model::rank(&input, &policy);
        let detail = serde_json::to_string(&model::criteria(&input, &policy))
            .unwrap_or_else(|_| "[]".into());
        let mut tx = db.begin().await?;
        store::record_rank(&mut tx, s, rank.as_str(), &period, &detail, now).await?;
        tx.commit().await?;
        refresh_seller(db, s, now).await?;
    }
    Ok(sellers.len() as u64)
}

/// Refreshes every seller's scores once per JST day, so popularity decays with the age of sales
/// even when nothing else happens. Returns the number of sellers refreshed.
pub async fn daily_refresh(db: &Db, now: Millis) -> Result<u64, sqlx::Error> {
    let day = crate::clock::to_rfc3339(now)
        .chars()
        .take(10)
        .collect::<String>();
    let sellers = {
        let mut tx = db.begin().await?;
        let claimed = store::claim_period(&mut tx, "daily_scores", &day, now).await?;
        tx.commit().await?;
        if !claimed {
            return Ok(0);
        }
        let mut conn = db.pool().acquire().await?;
        store::sellers(&mut conn).await?
    };
    for s in &sellers {
        refresh_seller(db, s, now).await?;
    }
    Ok(sellers.len() as u64)
}

/// A factor's contribution compared with the category.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FactorView {
    /// `information`, `popularity` or `reliability`.
    pub factor: String,
    /// Weight in the formula.
    pub weight: f64,
    /// The listing's value, 0–1.
    pub value: f64,
    /// `weight × value`.
    pub contribution: f64,
    /// The category's median value.
    pub category_median: f64,
}

/// The explanation of a listing's place in おすすめ順.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RankingView {
    /// The listing.
    pub listing_id: String,
    /// Total score, 0–1.
    pub score: f64,
    /// The category's median total.
    pub category_median_score: f64,
    /// Each factor.
    pub factors: Vec<FactorView>,
    /// The formula in words.
    pub formula: String,
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Explains the score of one of the caller's listings (its seller or an operator; others 404).
pub async fn explain(
    state: &AppState,
    who: &Identity,
    listing_id: &str,
) -> Result<RankingView, AppError> {
    settle(state).await?;
    let mut conn = state.db.pool().acquire().await?;
    let (seller_id, status, category) = store::listing_owner(&mut conn, listing_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if (seller_id != who.user_id && !who.is_operator) || status == "deleted" {
        return Err(AppError::NotFound);
    }
    let mine: Score =
        serde_json::from_str(&l_score_json(&mut conn, listing_id).await?).unwrap_or_default();
    let all: Vec<Score> = store::category_scores(&mut conn, &category)
        .await?
        .iter()
        .filter_map(|j| serde_json::from_str(j).ok())
        .collect();
    let pick = |f: fn(&Score) -> f64| median(all.iter().map(f).collect());
    let factors = vec![
        (
            "information",
            0.2,
            mine.information,
            pick(|s| s.information),
        ),
        ("popularity", 0.4, mine.popularity, pick(|s| s.popularity)),
        (
            "reliability",
            0.4,
            mine.reliability,
            pick(|s| s.reliability),
        ),
    ]
    .into_iter()
    .map(|(f, w, v, m)| FactorView {
        factor: f.into(),
        weight: w,
        value: v,
        contribution: w * v,
        category_median: m,
    })
    .collect();
    Ok(RankingView {
        listing_id: listing_id.into(),
        score: mine.total,
        category_median_score: pick(|s| s.total),
        factors,
        formula: "おすすめ度 = 0.2×情報の充実度 + 0.4×人気（直近ほど重い取引完了数）+ 0.4×信頼性（評価・納期遵守・出品者都合キャンセルの少なさ・初回返信の速さ）".into(),
    })
}

async fn l_score_json(conn: &mut sqlx::AnyConnection, id: &str) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT score_json FROM listings WHERE id = $1")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// Sets a user's identity-verified flag (operators), audited.
pub async fn set_identity_verified(
    state: &AppState,
    operator: &Identity,
    user_id: &str,
    verified: bool,
) -> Result<(), AppError> {
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    if !store::set_identity_verified(&mut tx, user_id, verified).await? {
        return Err(AppError::NotFound);
    }
    crate::guard::store::audit(
        &mut tx,
        Some(&operator.user_id),
        "identity_verified",
        Some(user_id),
        &serde_json::json!({"verified": verified}),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
