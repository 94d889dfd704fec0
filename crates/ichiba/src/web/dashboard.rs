//! The seller dashboard (`/dashboard`): the seller's metrics over the last 90 days and all time,
//! where they stand on the way to the next rank, their rank history, and the おすすめ順
//! explanation of each of their listings against its category.
//!
//! Every figure comes from the services (`reputation`, `listings`); this module only writes them
//! in Japanese.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::routing::get;

use super::format::{RANKS, percent, rank_label, yen};
use super::{Layout, PageResult, Viewer, render};
use crate::reputation::model::{Criterion, Rank};
use crate::reputation::{RankStatus, RankingView};
use crate::state::AppState;

/// The dashboard's route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/dashboard", get(dashboard))
}

/// Minutes as `45分`, `3時間20分`, `2日5時間`; `—` without data.
fn duration_label(minutes: Option<i64>) -> String {
    let Some(m) = minutes else {
        return "—".into();
    };
    let m = m.max(0);
    let (days, hours, mins) = (m / 1440, m % 1440 / 60, m % 60);
    match (days, hours, mins) {
        (0, 0, m) => format!("{m}分"),
        (0, h, 0) => format!("{h}時間"),
        (0, h, m) => format!("{h}時間{m}分"),
        (d, 0, _) => format!("{d}日"),
        (d, h, _) => format!("{d}日{h}時間"),
    }
}

/// `4.8（12件）`; `—（0件）` without ratings.
fn rating_label(average: Option<f64>, count: i64) -> String {
    let avg = average.map_or_else(|| "—".to_string(), |a| format!("{a:.2}"));
    format!("{avg}（{count}件）")
}

/// A score in 0–1 as points out of 100: `0.6234` → `62.3`.
fn points(v: f64) -> String {
    format!("{:.1}", v * 100.0)
}

/// How a value stands against the category median (differences under half a point are even).
fn versus_median(value: f64, median: f64) -> (&'static str, &'static str) {
    let diff = value - median;
    if diff > 0.005 {
        ("カテゴリの中央値より高い", "above")
    } else if diff < -0.005 {
        ("カテゴリの中央値より低い", "below")
    } else {
        ("カテゴリの中央値と同程度", "even")
    }
}

/// One metric over the last 90 days and all time.
struct MetricRow {
    name: &'static str,
    help: &'static str,
    recent: String,
    all: String,
}

fn metric_rows(m: &crate::reputation::MyMetrics) -> Vec<MetricRow> {
    let (r, a) = (&m.last_90_days, &m.all_time);
    let row = |name, help, f: &dyn Fn(&crate::reputation::Metrics) -> String| MetricRow {
        name,
        help,
        recent: f(r),
        all: f(a),
    };
    vec![
        row(
            "最初の返信までの時間",
            "購入から最初のメッセージまでの中央値",
            &|m| duration_label(m.median_first_reply_minutes),
        ),
        row(
            "メッセージの返信率",
            "購入前の相談に24時間以内に返信した割合",
            &|m| percent(m.response_rate),
        ),
        row(
            "納期を守った割合",
            "お届け予定日までに納品した割合",
            &|m| percent(m.on_time_rate),
        ),
        row(
            "完了率",
            "完了 ÷（完了 ＋ 出品者都合のキャンセル）",
            &|m| percent(m.completion_rate),
        ),
        row(
            "キャンセル率",
            "終了した取引のうち出品者都合でキャンセルされた割合",
            &|m| percent(m.cancellation_rate),
        ),
        row(
            "評価",
            "公開された評価の平均（件数）",
            &|m| rating_label(m.rating_average, m.rating_count),
        ),
        row("販売実績", "完了した取引の数", &|m| {
            format!("{}件", m.sales_count)
        }),
        row(
            "売上",
            "完了した取引の金額（手数料を差し引く前）",
            &|m| yen(m.sales_yen),
        ),
        row(
            "リピート購入者",
            "2回以上購入した購入者の数",
            &|m| format!("{}人", m.repeat_buyers),
        ),
    ]
}

/// One rank criterion as shown.
struct CriterionRow {
    rank: &'static str,
    name: String,
    required: String,
    actual: String,
    met: bool,
}

impl From<&Criterion> for CriterionRow {
    fn from(c: &Criterion) -> Self {
        CriterionRow {
            rank: c.rank.label(),
            name: c.name.clone(),
            required: c.required.clone(),
            actual: c.actual.clone(),
            met: c.met,
        }
    }
}

/// Where the seller stands on the way to the next rank.
struct Progress {
    next: &'static str,
    met: usize,
    total: usize,
    /// 0–100, for the `<progress>` bar.
    percent: usize,
    /// The criteria of the next rank.
    criteria: Vec<CriterionRow>,
    /// Criteria of lower ranks that are not met now (a rank needs those of every rank below).
    below_unmet: Vec<CriterionRow>,
}

/// The progress to the rank above the current one, from the criteria of the rank status.
fn progress(status: &RankStatus) -> Option<Progress> {
    let next = status.next_rank?;
    let of_next: Vec<&Criterion> = status.criteria.iter().filter(|c| c.rank == next).collect();
    let below_unmet = status
        .criteria
        .iter()
        .filter(|c| c.rank < next && !c.met)
        .map(CriterionRow::from)
        .collect::<Vec<_>>();
    let total = of_next.len() + below_unmet.len();
    let met = of_next.iter().filter(|c| c.met).count();
    Some(Progress {
        next: next.label(),
        met,
        total,
        percent: (met * 100).checked_div(total).unwrap_or(100),
        criteria: of_next.into_iter().map(CriterionRow::from).collect(),
        below_unmet,
    })
}

/// Every rank's criteria, lowest rank first.
struct RankGroup {
    label: &'static str,
    reached: bool,
    criteria: Vec<CriterionRow>,
}

fn rank_groups(status: &RankStatus) -> Vec<RankGroup> {
    RANKS
        .into_iter()
        .map(|r| RankGroup {
            label: r.label(),
            reached: status.rank >= r,
            criteria: status
                .criteria
                .iter()
                .filter(|c| c.rank == r)
                .map(CriterionRow::from)
                .collect(),
        })
        .filter(|g| !g.criteria.is_empty())
        .collect()
}

/// One factor of a listing's score against the category.
struct FactorRow {
    name: &'static str,
    weight: String,
    value: String,
    contribution: String,
    median: String,
    versus: &'static str,
    versus_class: &'static str,
}

fn factor_name(factor: &str) -> &'static str {
    match factor {
        "information" => "情報の充実度",
        "popularity" => "人気",
        "reliability" => "信頼性",
        _ => "その他",
    }
}

/// A listing with its おすすめ順 explanation.
struct ListingRow {
    id: String,
    title: String,
    status: &'static str,
    price: String,
    score: String,
    median: String,
    versus: &'static str,
    versus_class: &'static str,
    factors: Vec<FactorRow>,
}

fn listing_row(l: &crate::listings::ListingView, r: &RankingView) -> ListingRow {
    let (versus, versus_class) = versus_median(r.score, r.category_median_score);
    ListingRow {
        id: l.id.clone(),
        title: l.title.clone(),
        status: match l.status {
            crate::listings::ListingStatus::Active => "公開中",
            crate::listings::ListingStatus::Paused => "停止中",
            crate::listings::ListingStatus::Deleted => "削除済み",
        },
        price: yen(l.price_yen),
        score: points(r.score),
        median: points(r.category_median_score),
        versus,
        versus_class,
        factors: r
            .factors
            .iter()
            .map(|f| {
                let (versus, versus_class) = versus_median(f.value, f.category_median);
                FactorRow {
                    name: factor_name(&f.factor),
                    weight: format!("{:.0}%", f.weight * 100.0),
                    value: points(f.value),
                    contribution: points(f.contribution),
                    median: points(f.category_median),
                    versus,
                    versus_class,
                }
            })
            .collect(),
    }
}

struct HistoryItem {
    period: String,
    rank: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    layout: Layout,
    metrics: Vec<MetricRow>,
    rank: String,
    projected: Option<String>,
    progress: Option<Progress>,
    ranks: Vec<RankGroup>,
    history: Vec<HistoryItem>,
    listings: Vec<ListingRow>,
    formula: String,
    more_listings: bool,
}

/// Listings the dashboard explains at most (pages of 100).
const DASHBOARD_PAGES: usize = 3;

async fn dashboard(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    let me = viewer.require()?.clone();
    let now = state.clock.now_ms();
    let metrics = crate::reputation::my_metrics(&state.db, &me.user_id, now).await?;
    let status = crate::reputation::rank_status(&state.db, &me.user_id, now).await?;
    let mut mine = Vec::new();
    let mut cursor = None;
    let mut more_listings = false;
    for page_no in 0..DASHBOARD_PAGES {
        let query = crate::listings::ListQuery {
            cursor: cursor.take(),
            limit: Some(100),
            ..crate::listings::ListQuery::default()
        };
        let page = crate::listings::browse(&state, &query, Some(&me.user_id)).await?;
        mine.extend(page.items);
        match page.next_cursor {
            Some(c) if page_no + 1 < DASHBOARD_PAGES => cursor = Some(c),
            Some(_) => more_listings = true,
            None => break,
        }
    }
    let mut listings = Vec::with_capacity(mine.len());
    let mut formula = String::new();
    for l in &mine {
        let r = crate::reputation::explain(&state, &me, &l.id).await?;
        if formula.is_empty() {
            formula = r.formula.clone();
        }
        listings.push(listing_row(l, &r));
    }
    let label = |r: Rank| {
        if r == Rank::None {
            "まだランクはありません".to_string()
        } else {
            r.label().to_string()
        }
    };
    let page = DashboardPage {
        layout: viewer.layout("ダッシュボード"),
        metrics: metric_rows(&metrics),
        rank: label(status.rank),
        projected: (status.projected_rank != status.rank).then(|| label(status.projected_rank)),
        progress: progress(&status),
        ranks: rank_groups(&status),
        history: status
            .history
            .iter()
            .map(|h| HistoryItem {
                period: h.period.clone(),
                rank: rank_label(Some(h.rank.as_str())),
            })
            .collect(),
        listings,
        formula,
        more_listings,
    };
    render(&page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reputation::RankHistoryEntry;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_label(None), "—");
        assert_eq!(duration_label(Some(0)), "0分");
        assert_eq!(duration_label(Some(45)), "45分");
        assert_eq!(duration_label(Some(120)), "2時間");
        assert_eq!(duration_label(Some(200)), "3時間20分");
        assert_eq!(duration_label(Some(1440)), "1日");
        assert_eq!(duration_label(Some(2 * 1440 + 5 * 60 + 7)), "2日5時間");
        assert_eq!(duration_label(Some(-3)), "0分");
    }

    #[test]
    fn ratings_and_points() {
        assert_eq!(rating_label(Some(4.8), 12), "4.80（12件）");
        assert_eq!(rating_label(None, 0), "—（0件）");
        assert_eq!(points(0.6234), "62.3");
        assert_eq!(points(0.0), "0.0");
    }

    #[test]
    fn scores_compare_with_the_median() {
        assert_eq!(versus_median(0.7, 0.5).1, "above");
        assert_eq!(versus_median(0.3, 0.5).1, "below");
        assert_eq!(versus_median(0.502, 0.5).1, "even");
        assert_eq!(versus_median(0.5, 0.5).1, "even");
    }

    fn criterion(rank: Rank, name: &str, met: bool) -> Criterion {
        Criterion {
            rank,
            name: name.into(),
            required: "req".into(),
            actual: "act".into(),
            met,
        }
    }

    fn status(rank: Rank, criteria: Vec<Criterion>) -> RankStatus {
        RankStatus {
            rank,
            rank_label: rank.label().into(),
            projected_rank: rank,
            next_rank: rank.next(),
            criteria,
            history: Vec::<RankHistoryEntry>::new(),
        }
    }

    #[test]
    fn progress_counts_the_next_ranks_criteria() {
        let s = status(
            Rank::Bronze,
            vec![
                criterion(Rank::Regular, "累計販売実績", true),
                criterion(Rank::Bronze, "累計販売実績", true),
                criterion(Rank::Silver, "直近3か月の販売実績", true),
                criterion(Rank::Silver, "直近3か月の完了率", false),
                criterion(Rank::Gold, "本人確認", false),
            ],
        );
        let p = progress(&s).expect("a next rank");
        assert_eq!(p.next, "シルバー");
        assert_eq!((p.met, p.total, p.percent), (1, 2, 50));
        assert_eq!(p.criteria.len(), 2);
        assert!(p.below_unmet.is_empty());
        let groups = rank_groups(&s);
        assert_eq!(groups.len(), 4);
        assert!(groups[0].reached && groups[1].reached && !groups[2].reached);
    }

    #[test]
    fn progress_includes_lower_criteria_no_longer_met() {
        let s = status(
            Rank::Silver,
            vec![
                criterion(Rank::Silver, "直近3か月の販売実績", false),
                criterion(Rank::Gold, "直近3か月の売上", true),
            ],
        );
        let p = progress(&s).expect("a next rank");
        assert_eq!(p.next, "ゴールド");
        assert_eq!((p.met, p.total), (1, 2));
        assert_eq!(p.below_unmet.len(), 1);
        assert_eq!(p.below_unmet[0].rank, "シルバー");
    }

    #[test]
    fn the_top_rank_has_no_next() {
        assert!(progress(&status(Rank::Platinum, vec![])).is_none());
        let p = progress(&status(Rank::None, vec![])).expect("regular is next");
        assert_eq!((p.met, p.total, p.percent), (0, 0, 100));
    }
}
