//! The seller dashboard (`/dashboard`: metrics, rank progress, the おすすめ順 explanation of each
//! listing) and the operator console (`/admin`: appeals, sanctions, order interventions, payout
//! batches, ledger verification).
//!
//! Every figure and every decision comes from the services (`reputation`, `listings`, `guard`,
//! `orders`, `payouts`, `ledger`); this module only formats them in Japanese, parses forms and
//! redirects. The console answers a non-operator with the 404 page, so its existence does not
//! leak; an anonymous visitor is sent to the login page.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::Deserialize;

use super::deal::{Segment, segments};
use super::format::{jst_datetime, jst_rfc3339, url_encode, yen};
use super::session::{CsrfForm, FORM_INVALID};
use super::{Layout, PageResult, Viewer, WebError, render, render_status, see_other};
use crate::auth::Identity;
use crate::error::AppError;
use crate::orders::{self, Command, OrderState};
use crate::reputation::model::{Criterion, Rank};
use crate::reputation::{RankStatus, RankingView};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(dashboard))
        .route("/admin", get(admin_home))
        .route("/admin/appeals", get(appeals))
        .route("/admin/appeals/{id}/decide", post(decide))
        .route("/admin/sanctions", get(sanctions))
        .route("/admin/users", get(user_lookup))
        .route("/admin/users/{id}", get(user_page))
        .route("/admin/users/{id}/sanctions/lift", post(lift))
        .route("/admin/orders", get(order_lookup))
        .route("/admin/orders/{id}", get(order_page))
        .route("/admin/orders/{id}/cancel", post(order_cancel))
        .route("/admin/orders/{id}/complete", post(order_complete))
        .route("/admin/orders/{id}/settle", post(order_settle))
        .route("/admin/payouts", get(payouts_page))
        .route("/admin/payouts/export", post(export))
        .route("/admin/payouts/settle", post(settle))
        .route("/admin/payouts/batches/{id}", get(batch_page))
        .route("/admin/payouts/batches/{id}/file", get(batch_file))
        .route("/admin/ledger", get(ledger))
}

// ---------------------------------------------------------------- shared

/// The operator behind the request: anonymous → login, anyone else → the 404 page.
fn operator(viewer: &Viewer) -> Result<Identity, WebError> {
    let me = viewer.require()?;
    if !me.is_operator {
        return Err(WebError::App(AppError::NotFound));
    }
    Ok(me.clone())
}

/// Whether a service error is one to show on the form (a 4xx other than 404) rather than as an
/// error page.
fn shown_on_form(e: &AppError) -> bool {
    e.status().is_client_error() && !matches!(e, AppError::NotFound)
}

/// `0.953` → `95%`; `—` without data.
fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".into(), |r| format!("{:.0}%", r * 100.0))
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

/// An id typed into a lookup form, if it can be one (letters, digits, `-` and `_`).
fn lookup_id(raw: &str) -> Option<String> {
    let id = raw.trim();
    (!id.is_empty()
        && id.len() <= 100
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then(|| id.to_string())
}

/// Ids typed into a textarea, one or more per line, separated by spaces, commas or 、.
fn split_ids(raw: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in raw
        .split(|c: char| c.is_whitespace() || c == ',' || c == '、' || c == '，')
        .filter(|s| !s.is_empty())
    {
        if !out.iter().any(|x| x == id) {
            out.push(id.to_string());
        }
    }
    out
}

/// A yen amount typed into a form (`12,000`, `12000円`), if it is a whole number.
fn parse_yen(raw: &str) -> Option<i64> {
    let digits: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | '，' | '円' | ' ' | '¥'))
        .collect();
    digits.parse::<i64>().ok()
}

/// Where a console form returns to: a console path, else `fallback`.
fn back_to(back: &str, fallback: &str) -> String {
    if back.starts_with("/admin") && !back.starts_with("//") && !back.contains('\\') {
        back.to_string()
    } else {
        fallback.to_string()
    }
}

/// Display names of users, by id (unknown ids are left out).
async fn names_of(state: &AppState, ids: &[&str]) -> Result<HashMap<String, String>, WebError> {
    let mut out = HashMap::new();
    let mut conn = state.db.pool().acquire().await?;
    for &id in ids {
        if out.contains_key(id) {
            continue;
        }
        if let Some(u) = crate::accounts::store::user_by_id(&mut conn, id).await? {
            out.insert(id.to_string(), u.display_name);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- dashboard

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
    [
        Rank::Regular,
        Rank::Bronze,
        Rank::Silver,
        Rank::Gold,
        Rank::Platinum,
    ]
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
        let page = crate::listings::list(&state.db, &query, Some(&me.user_id)).await?;
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
                rank: super::format::rank_label(Some(h.rank.as_str())),
            })
            .collect(),
        listings,
        formula,
        more_listings,
    };
    render(&page)
}

// ---------------------------------------------------------------- overview

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminHome {
    layout: Layout,
    section: &'static str,
    pending_appeals: usize,
    sanctions: usize,
    pending_payouts: usize,
    exported_payouts: usize,
    order_id: String,
    user_id: String,
    order_error: Option<String>,
    user_error: Option<String>,
}

async fn admin_home_page(
    state: &AppState,
    viewer: &Viewer,
    order_id: String,
    user_id: String,
    order_error: Option<String>,
    user_error: Option<String>,
) -> Result<AdminHome, WebError> {
    let pending_appeals = crate::appeals::queue(state, Some("pending")).await?.len();
    let sanctions = crate::guard::sanctions_in_force(&state.db, state.clock.now_ms())
        .await?
        .len();
    let queue = crate::payouts::queue(&state.db).await?;
    Ok(AdminHome {
        layout: viewer.layout("運営"),
        section: "home",
        pending_appeals,
        sanctions,
        pending_payouts: queue.pending.len(),
        exported_payouts: queue.exported.len(),
        order_id,
        user_id,
        order_error,
        user_error,
    })
}

async fn admin_home(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    operator(&viewer)?;
    render(&admin_home_page(&state, &viewer, String::new(), String::new(), None, None).await?)
}

#[derive(Debug, Default, Deserialize)]
struct LookupParams {
    #[serde(default)]
    id: String,
}

async fn order_lookup(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(p): Query<LookupParams>,
) -> PageResult {
    operator(&viewer)?;
    match lookup_id(&p.id) {
        Some(id) => Ok(see_other(
            &format!("/admin/orders/{}", url_encode(&id)),
            None,
        )),
        None => {
            let page = admin_home_page(
                &state,
                &viewer,
                p.id,
                String::new(),
                Some("注文番号を正しく入力してください。".into()),
                None,
            )
            .await?;
            render_status(FORM_INVALID, &page)
        }
    }
}

async fn user_lookup(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(p): Query<LookupParams>,
) -> PageResult {
    operator(&viewer)?;
    match lookup_id(&p.id) {
        Some(id) => Ok(see_other(
            &format!("/admin/users/{}", url_encode(&id)),
            None,
        )),
        None => {
            let page = admin_home_page(
                &state,
                &viewer,
                String::new(),
                p.id,
                None,
                Some("ユーザーIDを正しく入力してください。".into()),
            )
            .await?;
            render_status(FORM_INVALID, &page)
        }
    }
}

// ---------------------------------------------------------------- appeals

/// Where a blocked text was written, in words, with a link for the operator.
struct ContextInfo {
    label: &'static str,
    link: Option<(String, String)>,
}

fn context_info(context: &serde_json::Value) -> ContextInfo {
    use crate::guard::Context as C;
    let order = |label, id: &str| ContextInfo {
        label,
        link: Some((
            format!("/admin/orders/{}", url_encode(id)),
            "注文を見る".into(),
        )),
    };
    match serde_json::from_value::<C>(context.clone()) {
        Ok(C::OrderMessage { order_id }) => order("トークルームのメッセージ", &order_id),
        Ok(C::Delivery { order_id }) => order("正式な納品のメッセージ", &order_id),
        Ok(C::SendBack { order_id }) => order("差し戻しの理由", &order_id),
        Ok(C::CancelNote { order_id }) => order("キャンセル申請の補足", &order_id),
        Ok(C::DirectMessage { to_user_id }) => ContextInfo {
            label: "ダイレクトメッセージ",
            link: Some((
                format!("/admin/users/{}", url_encode(&to_user_id)),
                "宛先のユーザーを見る".into(),
            )),
        },
        Ok(C::Listing) => ContextInfo {
            label: "サービスの出品内容",
            link: None,
        },
        Ok(C::Profile) => ContextInfo {
            label: "プロフィール",
            link: None,
        },
        Ok(C::Review) => ContextInfo {
            label: "評価・感想",
            link: None,
        },
        Err(_) => ContextInfo {
            label: "不明",
            link: None,
        },
    }
}

fn appeal_state_label(state: &str) -> (&'static str, &'static str) {
    match state {
        "pending" => ("未対応", "waiting"),
        "allowed" => ("認めた", "done"),
        "upheld" => ("認めなかった", "cancelled"),
        _ => ("不明", ""),
    }
}

struct AppealItem {
    id: String,
    user_id: String,
    user_name: String,
    segments: Vec<Segment>,
    context: &'static str,
    link: Option<(String, String)>,
    findings: Vec<String>,
    state: &'static str,
    state_class: &'static str,
    pending: bool,
    note: String,
    created: String,
    decided: String,
}

/// A filter tab of the queue.
struct Tab {
    href: &'static str,
    label: &'static str,
    current: bool,
}

/// The queue's filter (`""` = all, pending first).
fn appeal_filter(raw: &str) -> &'static str {
    match raw {
        "pending" => "pending",
        "allowed" => "allowed",
        "upheld" => "upheld",
        _ => "",
    }
}

#[derive(Template)]
#[template(path = "admin_appeals.html")]
struct AppealsPage {
    layout: Layout,
    section: &'static str,
    tabs: Vec<Tab>,
    filter: &'static str,
    items: Vec<AppealItem>,
    error: Option<String>,
    error_id: String,
    draft: String,
}

async fn appeals_page(
    state: &AppState,
    viewer: &Viewer,
    filter: &'static str,
    error: Option<(String, String, String)>,
) -> Result<AppealsPage, WebError> {
    let views = crate::appeals::queue(state, Some(filter).filter(|f| !f.is_empty())).await?;
    let ids: Vec<&str> = views.iter().map(|a| a.user_id.as_str()).collect();
    let names = names_of(state, &ids).await?;
    let items = views
        .iter()
        .map(|a| {
            let ctx = context_info(&a.context);
            let (label, class) = appeal_state_label(&a.state);
            let findings = serde_json::json!({ "findings": a.findings });
            AppealItem {
                id: a.id.clone(),
                user_id: a.user_id.clone(),
                user_name: names.get(&a.user_id).cloned().unwrap_or_default(),
                segments: segments(&a.text, &findings),
                context: ctx.label,
                link: ctx.link,
                findings: a
                    .findings
                    .iter()
                    .map(|f| format!("{}「{}」", f.label, f.excerpt))
                    .collect(),
                state: label,
                state_class: class,
                pending: a.state == "pending",
                note: a.note.clone(),
                created: jst_rfc3339(&a.created_at),
                decided: a.decided_at.as_deref().map(jst_rfc3339).unwrap_or_default(),
            }
        })
        .collect();
    let tabs = [
        ("", "/admin/appeals", "すべて"),
        ("pending", "/admin/appeals?state=pending", "未対応"),
        ("allowed", "/admin/appeals?state=allowed", "認めた"),
        ("upheld", "/admin/appeals?state=upheld", "認めなかった"),
    ]
    .into_iter()
    .map(|(f, href, label)| Tab {
        href,
        label,
        current: f == filter,
    })
    .collect();
    let (error, error_id, draft) = match error {
        Some((message, id, draft)) => (Some(message), id, draft),
        None => (None, String::new(), String::new()),
    };
    Ok(AppealsPage {
        layout: viewer.layout("異議申し立て"),
        section: "appeals",
        tabs,
        filter,
        items,
        error,
        error_id,
        draft,
    })
}

#[derive(Debug, Default, Deserialize)]
struct AppealsParams {
    #[serde(default)]
    state: String,
}

async fn appeals(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(p): Query<AppealsParams>,
) -> PageResult {
    operator(&viewer)?;
    render(&appeals_page(&state, &viewer, appeal_filter(&p.state), None).await?)
}

#[derive(Debug, Deserialize)]
struct DecideForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    filter: String,
}

async fn decide(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<DecideForm>,
) -> PageResult {
    let op = operator(&viewer)?;
    let filter = appeal_filter(&f.filter);
    let back = if filter.is_empty() {
        "/admin/appeals".to_string()
    } else {
        format!("/admin/appeals?state={filter}")
    };
    match crate::appeals::decide_named(&state, &op, &id, &f.decision, &f.note).await {
        Ok(a) => {
            let flash = if a.state == "allowed" {
                "異議申し立てを認めました。ペナルティを取り消し、送信できる場合は投稿を相手に届けました。"
            } else {
                "異議申し立てを認めませんでした。ブロックはそのままです。"
            };
            Ok(see_other(&back, Some(flash)))
        }
        Err(e) if shown_on_form(&e) => {
            let page = appeals_page(
                &state,
                &viewer,
                filter,
                Some((error_text(&e), id.clone(), f.note)),
            )
            .await?;
            render_status(e.status(), &page)
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- sanctions and users

struct SanctionItem {
    kind: String,
    suspension: bool,
    reason: String,
    starts: String,
    until: String,
}

impl From<&crate::guard::SanctionView> for SanctionItem {
    fn from(s: &crate::guard::SanctionView) -> Self {
        SanctionItem {
            kind: s.kind_label.clone(),
            suspension: s.kind == "suspension",
            reason: s.reason.clone(),
            starts: jst_rfc3339(&s.starts_at),
            until: s
                .until_at
                .as_deref()
                .map(jst_rfc3339)
                .unwrap_or_else(|| "解除されるまで".into()),
        }
    }
}

/// The sanctions of one user (a lift lifts them all).
struct UserSanctions {
    user_id: String,
    user_name: String,
    sanctions: Vec<SanctionItem>,
}

/// Groups sanctions by user, in the order the users first appear.
fn by_user(views: &[crate::guard::SanctionView]) -> Vec<UserSanctions> {
    let mut out: Vec<UserSanctions> = Vec::new();
    for s in views {
        match out.iter_mut().find(|u| u.user_id == s.user_id) {
            Some(u) => u.sanctions.push(SanctionItem::from(s)),
            None => out.push(UserSanctions {
                user_id: s.user_id.clone(),
                user_name: s.user_name.clone(),
                sanctions: vec![SanctionItem::from(s)],
            }),
        }
    }
    out
}

#[derive(Template)]
#[template(path = "admin_sanctions.html")]
struct SanctionsPage {
    layout: Layout,
    section: &'static str,
    users: Vec<UserSanctions>,
    error: Option<String>,
    error_user: String,
    draft: String,
}

async fn sanctions_page(
    state: &AppState,
    viewer: &Viewer,
    error: Option<(String, String, String)>,
) -> Result<SanctionsPage, WebError> {
    let views = crate::guard::sanctions_in_force(&state.db, state.clock.now_ms()).await?;
    let (error, error_user, draft) = match error {
        Some((m, u, d)) => (Some(m), u, d),
        None => (None, String::new(), String::new()),
    };
    Ok(SanctionsPage {
        layout: viewer.layout("利用制限・アカウント停止"),
        section: "sanctions",
        users: by_user(&views),
        error,
        error_user,
        draft,
    })
}

async fn sanctions(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    operator(&viewer)?;
    render(&sanctions_page(&state, &viewer, None).await?)
}

#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserPage {
    layout: Layout,
    section: &'static str,
    user_id: String,
    name: String,
    email: String,
    is_operator: bool,
    sanctions: Vec<SanctionItem>,
    draft: String,
    error: Option<String>,
}

async fn user_view(
    state: &AppState,
    viewer: &Viewer,
    user_id: &str,
    draft: String,
    error: Option<String>,
) -> Result<UserPage, WebError> {
    let profile = crate::accounts::profile(&state.db, user_id)
        .await
        .map_err(AppError::from)?;
    let sanctions = crate::guard::sanctions_of(&state.db, user_id, state.clock.now_ms()).await?;
    Ok(UserPage {
        layout: viewer.layout(format!("ユーザー：{}", profile.display_name)),
        section: "sanctions",
        user_id: profile.id,
        name: profile.display_name,
        email: profile.email,
        is_operator: profile.roles.iter().any(|r| r == "operator"),
        sanctions: sanctions.iter().map(SanctionItem::from).collect(),
        draft,
        error,
    })
}

async fn user_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> PageResult {
    operator(&viewer)?;
    render(&user_view(&state, &viewer, &id, String::new(), None).await?)
}

#[derive(Debug, Deserialize)]
struct LiftForm {
    #[serde(default)]
    note: String,
    #[serde(default)]
    back: String,
}

async fn lift(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<LiftForm>,
) -> PageResult {
    let op = operator(&viewer)?;
    let user_path = format!("/admin/users/{}", url_encode(&id));
    let back = back_to(&f.back, &user_path);
    match crate::guard::lift_noted(&state, &op, &id, &f.note).await {
        Ok(0) => Ok(see_other(
            &back,
            Some("解除できる利用制限・アカウント停止はありませんでした。"),
        )),
        Ok(n) => Ok(see_other(
            &back,
            Some(&format!(
                "利用制限・アカウント停止を{n}件解除しました。ユーザーに通知しました。"
            )),
        )),
        Err(e) if shown_on_form(&e) => {
            if back == "/admin/sanctions" {
                let page =
                    sanctions_page(&state, &viewer, Some((error_text(&e), id.clone(), f.note)))
                        .await?;
                render_status(e.status(), &page)
            } else {
                let page = user_view(&state, &viewer, &id, f.note, Some(error_text(&e))).await?;
                render_status(e.status(), &page)
            }
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- orders

/// The Japanese status of an order and its CSS class.
fn order_status(state: OrderState) -> (&'static str, &'static str) {
    match state {
        OrderState::PendingFirstReply => ("開始待ち", "waiting"),
        OrderState::InProgress => ("進行中", "progress"),
        OrderState::Delivered => ("納品確認中", "delivered"),
        OrderState::Completed => ("完了", "done"),
        OrderState::Cancelled => ("キャンセル", "cancelled"),
    }
}

fn actor_label(actor: &str) -> &'static str {
    match actor {
        "buyer" => "購入者",
        "seller" => "出品者",
        "operator" => "運営",
        "system" => "システム",
        _ => "不明",
    }
}

fn history_label(kind: &str) -> String {
    match kind {
        "due_date_changed" => "お届け予定日の変更".into(),
        "cancel_requested" => "キャンセル申請".into(),
        "cancel_withdrawn" => "キャンセル申請の取り下げ".into(),
        "cancel_rejected" => "キャンセル申請のお断り".into(),
        "cancelled" => "キャンセル".into(),
        "completed" => "完了".into(),
        "operator_completed" => "運営による完了".into(),
        "operator_settled" => "運営による精算".into(),
        other => other.to_string(),
    }
}

struct HistoryRow {
    at: String,
    actor: &'static str,
    kind: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "admin_order.html")]
struct OrderPage {
    layout: Layout,
    section: &'static str,
    id: String,
    title: String,
    listing_id: String,
    buyer_id: String,
    buyer: String,
    seller_id: String,
    seller: String,
    status: &'static str,
    status_class: &'static str,
    facts: Vec<(&'static str, String)>,
    amounts: Vec<(&'static str, String)>,
    subtotal: String,
    subtotal_yen: i64,
    open: bool,
    history: Vec<HistoryRow>,
    amount: String,
    error: Option<String>,
}

async fn order_view(
    state: &AppState,
    viewer: &Viewer,
    op: &Identity,
    id: &str,
    amount: String,
    error: Option<String>,
) -> Result<OrderPage, WebError> {
    let o = orders::get(state, op, id).await?;
    let history = orders::history(state, op, id).await?;
    let names = names_of(state, &[o.buyer_id.as_str(), o.seller_id.as_str()]).await?;
    let (status, status_class) = order_status(o.state);
    let mut facts = vec![
        ("購入日時", jst_datetime(o.purchased_at)),
        ("お届け予定日", jst_datetime(o.due_at)),
    ];
    if o.late {
        facts.push(("納期", "お届け予定日を過ぎました（出品者の遅延）".into()));
    }
    if let Some(t) = o.delivered_at {
        facts.push(("納品日時", jst_datetime(t)));
    }
    if let Some(t) = o.accept_deadline {
        facts.push(("自動承諾の期限", jst_datetime(t)));
    }
    if let Some(t) = o.completed_at {
        facts.push(("完了日時", jst_datetime(t)));
    }
    if let Some(t) = o.cancelled_at {
        facts.push(("キャンセル日時", jst_datetime(t)));
    }
    if let Some(c) = &o.cancellation {
        facts.push((
            "キャンセル理由",
            format!("{}（{}）", c.reason.label(), actor_label(c.by.as_str())),
        ));
    }
    if let Some(r) = &o.pending_cancel {
        let by = match r.by {
            orders::model::Side::Buyer => "購入者",
            orders::model::Side::Seller => "出品者",
        };
        let note = if r.note.is_empty() {
            String::new()
        } else {
            format!("「{}」", r.note)
        };
        facts.push((
            "キャンセル申請中",
            format!(
                "{by}から：{}{note}（{}に自動成立）",
                r.reason.label(),
                jst_datetime(r.expires_at)
            ),
        ));
    }
    facts.push((
        "差し戻し",
        format!("{} / {}回", o.send_backs_used, o.policy.send_backs_allowed),
    ));
    let mut amounts = vec![
        ("サービス価格", yen(o.price_yen)),
        ("オプション", yen(o.options_yen)),
        ("購入者の手数料", yen(o.buyer_fee_yen)),
        ("支払総額", yen(o.total_yen)),
        ("うちポイント利用", format!("{}pt", o.points_used)),
    ];
    if let Some(s) = o.settlement_seller_yen {
        amounts.push(("精算時の出品者への支払額", yen(s)));
    }
    Ok(OrderPage {
        layout: viewer.layout(format!("注文：{}", o.title)),
        section: "orders",
        id: o.id.clone(),
        title: o.title.clone(),
        listing_id: o.listing_id.clone(),
        buyer: names.get(&o.buyer_id).cloned().unwrap_or_default(),
        buyer_id: o.buyer_id.clone(),
        seller: names.get(&o.seller_id).cloned().unwrap_or_default(),
        seller_id: o.seller_id.clone(),
        status,
        status_class,
        facts,
        amounts,
        subtotal: yen(o.subtotal_yen()),
        subtotal_yen: o.subtotal_yen(),
        open: !o.state.is_terminal(),
        history: history
            .iter()
            .map(|h| HistoryRow {
                at: jst_rfc3339(&h.at),
                actor: actor_label(&h.actor),
                kind: history_label(&h.kind),
                detail: if h.detail.as_object().is_some_and(|m| m.is_empty()) {
                    String::new()
                } else {
                    h.detail.to_string()
                },
            })
            .collect(),
        amount,
        error,
    })
}

async fn order_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> PageResult {
    let op = operator(&viewer)?;
    render(&order_view(&state, &viewer, &op, &id, String::new(), None).await?)
}

/// Runs an operator command on an order and comes back to it.
async fn intervene(
    state: &AppState,
    viewer: &Viewer,
    op: &Identity,
    id: &str,
    command: Command,
    flash: &str,
    amount: String,
) -> PageResult {
    match orders::act(state, op, id, command, None, state.clock.now_ms()).await {
        Ok(_) => Ok(see_other(
            &format!("/admin/orders/{}", url_encode(id)),
            Some(flash),
        )),
        Err(e) if shown_on_form(&e) => {
            let page = order_view(state, viewer, op, id, amount, Some(error_text(&e))).await?;
            render_status(e.status(), &page)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
struct Empty {}

async fn order_cancel(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> PageResult {
    let op = operator(&viewer)?;
    intervene(
        &state,
        &viewer,
        &op,
        &id,
        Command::OperatorCancel,
        "運営として取引をキャンセルしました。購入者には全額返金されます。",
        String::new(),
    )
    .await
}

async fn order_complete(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> PageResult {
    let op = operator(&viewer)?;
    intervene(
        &state,
        &viewer,
        &op,
        &id,
        Command::OperatorComplete,
        "運営として取引を完了にしました。出品者の売上が確定します。",
        String::new(),
    )
    .await
}

#[derive(Debug, Deserialize)]
struct SettleOrderForm {
    #[serde(default)]
    seller_amount_yen: String,
}

async fn order_settle(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<SettleOrderForm>,
) -> PageResult {
    let op = operator(&viewer)?;
    let Some(seller_amount_yen) = parse_yen(&f.seller_amount_yen) else {
        let page = order_view(
            &state,
            &viewer,
            &op,
            &id,
            f.seller_amount_yen,
            Some("出品者への支払額を数字で入力してください。".into()),
        )
        .await?;
        return render_status(FORM_INVALID, &page);
    };
    let flash = format!(
        "出品者への支払額を{}として取引を精算しました。残りは購入者に返金されます。",
        yen(seller_amount_yen)
    );
    intervene(
        &state,
        &viewer,
        &op,
        &id,
        Command::OperatorSettle { seller_amount_yen },
        &flash,
        f.seller_amount_yen,
    )
    .await
}

// ---------------------------------------------------------------- payouts

struct PayoutItem {
    id: String,
    user_id: String,
    user_name: String,
    amount: String,
    fee: String,
    net: String,
    scheduled: String,
    requested: String,
    automatic: bool,
    batch_id: Option<String>,
    status: String,
    failure: String,
    bank: String,
}

fn payout_item(
    p: &crate::payouts::PayoutView,
    user_id: &str,
    names: &HashMap<String, String>,
    batch_id: Option<String>,
) -> PayoutItem {
    PayoutItem {
        id: p.id.clone(),
        user_id: user_id.to_string(),
        user_name: names.get(user_id).cloned().unwrap_or_default(),
        amount: yen(p.amount_yen),
        fee: yen(p.fee_yen),
        net: yen(p.net_yen),
        scheduled: p.scheduled_for.clone(),
        requested: jst_rfc3339(&p.requested_at),
        automatic: p.origin == "automatic",
        batch_id,
        status: p.status_label.clone(),
        failure: p.failure_reason.clone().unwrap_or_default(),
        bank: format!("{} {} {}", p.bank_name, p.branch_name, p.account_number),
    }
}

struct BatchItem {
    id: String,
    pay_date: String,
    count: i64,
    total: String,
    created: String,
}

#[derive(Template)]
#[template(path = "admin_payouts.html")]
struct PayoutsPage {
    layout: Layout,
    section: &'static str,
    pending: Vec<PayoutItem>,
    pending_total: String,
    exported: Vec<PayoutItem>,
    exported_total: String,
    batches: Vec<BatchItem>,
    pay_date: String,
    paid: String,
    failed: String,
    reason: String,
    export_error: Option<String>,
    settle_error: Option<String>,
}

/// What the payout forms were filled with.
#[derive(Default)]
struct PayoutDraft {
    pay_date: Option<String>,
    paid: String,
    failed: String,
    reason: String,
    export_error: Option<String>,
    settle_error: Option<String>,
}

async fn payouts_view(
    state: &AppState,
    viewer: &Viewer,
    draft: PayoutDraft,
) -> Result<PayoutsPage, WebError> {
    let q = crate::payouts::queue(&state.db).await?;
    let ids: Vec<&str> = q
        .pending
        .iter()
        .chain(q.exported.iter())
        .map(|p| p.user_id.as_str())
        .collect();
    let names = names_of(state, &ids).await?;
    // The earliest date a pending payout is due: what the next export is usually for.
    let next_date = q
        .pending
        .iter()
        .map(|p| p.payout.scheduled_for.clone())
        .min()
        .unwrap_or_default();
    Ok(PayoutsPage {
        layout: viewer.layout("振込"),
        section: "payouts",
        pending: q
            .pending
            .iter()
            .map(|p| payout_item(&p.payout, &p.user_id, &names, None))
            .collect(),
        pending_total: yen(q.pending_net_yen),
        exported: q
            .exported
            .iter()
            .map(|p| payout_item(&p.payout, &p.user_id, &names, p.batch_id.clone()))
            .collect(),
        exported_total: yen(q.exported_net_yen),
        batches: q
            .batches
            .iter()
            .map(|b| BatchItem {
                id: b.id.clone(),
                pay_date: b.pay_date.clone(),
                count: b.payout_count,
                total: yen(b.total_yen),
                created: jst_rfc3339(&b.created_at),
            })
            .collect(),
        pay_date: draft.pay_date.unwrap_or(next_date),
        paid: draft.paid,
        failed: draft.failed,
        reason: draft.reason,
        export_error: draft.export_error,
        settle_error: draft.settle_error,
    })
}

async fn payouts_page(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    operator(&viewer)?;
    render(&payouts_view(&state, &viewer, PayoutDraft::default()).await?)
}

#[derive(Debug, Deserialize)]
struct ExportForm {
    #[serde(default)]
    pay_date: String,
}

async fn export(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(f): CsrfForm<ExportForm>,
) -> PageResult {
    let op = operator(&viewer)?;
    match crate::payouts::export_batch(&state, &op.user_id, &f.pay_date).await {
        Ok(b) => Ok(see_other(
            &format!("/admin/payouts/batches/{}", url_encode(&b.id)),
            Some(&format!(
                "振込データを作成しました（{}件、合計{}）。全銀ファイルをダウンロードして銀行に送信してください。",
                b.payouts.len(),
                yen(b.total_yen)
            )),
        )),
        Err(e) if shown_on_form(&e) => {
            let draft = PayoutDraft {
                pay_date: Some(f.pay_date),
                export_error: Some(error_text(&e)),
                ..PayoutDraft::default()
            };
            let page = payouts_view(&state, &viewer, draft).await?;
            render_status(e.status(), &page)
        }
        Err(e) => Err(e.into()),
    }
}

/// A service error in words: the message, and each field's message for a validation error.
fn error_text(e: &AppError) -> String {
    match e {
        AppError::Validation(f) => {
            let fields: Vec<&str> = f.as_slice().iter().map(|x| x.message.as_str()).collect();
            format!("{}{}", e.message(), fields.join(""))
        }
        other => other.message(),
    }
}

#[derive(Debug, Deserialize)]
struct SettleForm {
    #[serde(default)]
    paid: String,
    #[serde(default)]
    failed: String,
    #[serde(default)]
    reason: String,
}

async fn settle(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(f): CsrfForm<SettleForm>,
) -> PageResult {
    operator(&viewer)?;
    let paid = split_ids(&f.paid);
    let failed = split_ids(&f.failed);
    let refused = |message: String| PayoutDraft {
        paid: f.paid.clone(),
        failed: f.failed.clone(),
        reason: f.reason.clone(),
        settle_error: Some(message),
        ..PayoutDraft::default()
    };
    if paid.is_empty() && failed.is_empty() {
        let draft = refused("振込完了または振込失敗の申請IDを入力してください。".into());
        let page = payouts_view(&state, &viewer, draft).await?;
        return render_status(FORM_INVALID, &page);
    }
    let reason = Some(f.reason.trim()).filter(|r| !r.is_empty());
    match crate::payouts::settle_batch(&state, &paid, &failed, reason).await {
        Ok(r) => Ok(see_other(
            "/admin/payouts",
            Some(&format!(
                "振込結果を記録しました（振込完了 {}件、振込失敗 {}件、変更なし {}件）。",
                r.paid.len(),
                r.failed.len(),
                r.unchanged.len()
            )),
        )),
        Err(e) if shown_on_form(&e) => {
            let page = payouts_view(&state, &viewer, refused(error_text(&e))).await?;
            render_status(e.status(), &page)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "admin_batch.html")]
struct BatchPage {
    layout: Layout,
    section: &'static str,
    id: String,
    pay_date: String,
    count: i64,
    total: String,
    created: String,
    created_by: String,
    payouts: Vec<PayoutItem>,
}

async fn batch_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> PageResult {
    operator(&viewer)?;
    let b = crate::payouts::batch_view(&state.db, &id).await?;
    let names = names_of(&state, &[b.created_by.as_str()]).await?;
    let no_names = HashMap::new();
    let page = BatchPage {
        layout: viewer.layout(format!("振込データ {}", b.pay_date)),
        section: "payouts",
        payouts: b
            .payouts
            .iter()
            .map(|p| payout_item(p, "", &no_names, None))
            .collect(),
        created_by: names
            .get(&b.created_by)
            .cloned()
            .unwrap_or_else(|| b.created_by.clone()),
        id: b.id,
        pay_date: b.pay_date,
        count: b.payout_count,
        total: yen(b.total_yen),
        created: jst_rfc3339(&b.created_at),
    };
    render(&page)
}

async fn batch_file(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> PageResult {
    operator(&viewer)?;
    let f = crate::payouts::batch_file(&state.db, &id).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=Shift_JIS".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", f.name),
            ),
        ],
        f.bytes,
    )
        .into_response())
}

// ---------------------------------------------------------------- ledger

#[derive(Template)]
#[template(path = "admin_ledger.html")]
struct LedgerPage {
    layout: Layout,
    section: &'static str,
    ok: bool,
    accounts: i64,
    transfers: i64,
    imbalance: String,
    problems: Vec<String>,
    checked: String,
}

async fn ledger(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    operator(&viewer)?;
    let v = crate::ledger::verify(&state.db).await?;
    render(&LedgerPage {
        layout: viewer.layout("台帳の検証"),
        section: "ledger",
        ok: v.ok,
        accounts: v.accounts,
        transfers: v.transfers,
        imbalance: yen(v.imbalance_yen),
        problems: v.problems,
        checked: jst_datetime(state.clock.now_ms()),
    })
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
    fn rates_ratings_and_points() {
        assert_eq!(percent(None), "—");
        assert_eq!(percent(Some(0.953)), "95%");
        assert_eq!(percent(Some(1.0)), "100%");
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

    #[test]
    fn lookup_ids_are_plain() {
        assert_eq!(
            lookup_id("  0193abc-DEF_1 ").as_deref(),
            Some("0193abc-DEF_1")
        );
        assert_eq!(lookup_id(""), None);
        assert_eq!(lookup_id("   "), None);
        assert_eq!(lookup_id("../etc"), None);
        assert_eq!(lookup_id("a/b"), None);
        assert_eq!(lookup_id(&"a".repeat(101)), None);
    }

    #[test]
    fn id_lists_split_on_any_separator() {
        assert_eq!(split_ids(""), Vec::<String>::new());
        assert_eq!(
            split_ids("a1\nb2, c3、d4  e5\r\nA1，a1"),
            vec!["a1", "b2", "c3", "d4", "e5", "A1"]
        );
    }

    #[test]
    fn yen_amounts_accept_separators() {
        assert_eq!(parse_yen("12,000"), Some(12000));
        assert_eq!(parse_yen(" 12000円 "), Some(12000));
        assert_eq!(parse_yen("¥3，000"), Some(3000));
        assert_eq!(parse_yen("0"), Some(0));
        assert_eq!(parse_yen("-5"), Some(-5));
        assert_eq!(parse_yen("abc"), None);
        assert_eq!(parse_yen(""), None);
    }

    #[test]
    fn forms_only_return_inside_the_console() {
        assert_eq!(back_to("/admin/sanctions", "/x"), "/admin/sanctions");
        assert_eq!(back_to("https://evil.example/", "/x"), "/x");
        assert_eq!(back_to("//evil.example", "/x"), "/x");
        assert_eq!(back_to("/orders", "/x"), "/x");
        assert_eq!(back_to("", "/x"), "/x");
    }

    #[test]
    fn contexts_are_named_and_linked() {
        let c = context_info(&serde_json::json!({"kind": "order_message", "order_id": "o1"}));
        assert_eq!(c.label, "トークルームのメッセージ");
        assert_eq!(c.link.unwrap().0, "/admin/orders/o1");
        let c = context_info(&serde_json::json!({"kind": "direct_message", "to_user_id": "u2"}));
        assert_eq!(c.link.unwrap().0, "/admin/users/u2");
        let c = context_info(&serde_json::json!({"kind": "listing"}));
        assert_eq!(c.label, "サービスの出品内容");
        assert!(c.link.is_none());
        assert_eq!(context_info(&serde_json::json!({})).label, "不明");
        assert_eq!(appeal_filter("pending"), "pending");
        assert_eq!(appeal_filter("whatever"), "");
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

    fn sanction(id: &str, user: &str, kind: &str) -> crate::guard::SanctionView {
        crate::guard::SanctionView {
            id: id.into(),
            user_id: user.into(),
            user_name: format!("name-{user}"),
            kind: kind.into(),
            kind_label: "x".into(),
            reason: "r".into(),
            starts_at: "2026-01-01T00:00:00Z".into(),
            until_at: None,
        }
    }

    #[test]
    fn sanctions_are_grouped_by_user_in_order() {
        let groups = by_user(&[
            sanction("s1", "u1", "suspension"),
            sanction("s2", "u2", "restriction"),
            sanction("s3", "u1", "restriction"),
        ]);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].user_id, "u1");
        assert_eq!(groups[0].sanctions.len(), 2);
        assert!(groups[0].sanctions[0].suspension);
        assert_eq!(groups[0].sanctions[0].until, "解除されるまで");
        assert_eq!(groups[1].user_name, "name-u2");
    }

    #[test]
    fn order_labels() {
        assert_eq!(order_status(OrderState::Delivered).0, "納品確認中");
        assert_eq!(actor_label("operator"), "運営");
        assert_eq!(history_label("operator_settled"), "運営による精算");
        assert_eq!(history_label("something_new"), "something_new");
    }
}

/// The pages and forms through the whole router, on a fresh SQLite database.
#[cfg(test)]
mod route_tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use tower::ServiceExt;

    use crate::config::{Config, database_config};
    use crate::state::AppState;

    /// A valid CSRF token (43 URL-safe characters), sent as cookie and form field.
    const CSRF: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ";

    struct Env {
        _dir: tempfile::TempDir,
        state: AppState,
    }

    async fn env() -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            database: database_config(None, dir.path()).expect("database config"),
            dev_clock: true,
            trust_forwarded_for: false,
            secure_cookies: false,
            zengin: Default::default(),
        };
        let state = AppState::open(config).await.expect("state");
        Env { _dir: dir, state }
    }

    /// Registers and logs in a user; returns (user id, session token).
    async fn user(state: &AppState, email: &str, name: &str, operator: bool) -> (String, String) {
        let now = state.clock.now_ms();
        let password = "correct horse battery";
        let profile = crate::accounts::register(
            &state.db,
            now,
            crate::accounts::Registration {
                email: email.into(),
                password: password.into(),
                display_name: name.into(),
            },
        )
        .await
        .expect("register");
        if operator {
            crate::accounts::grant_operator(&state.db, now, email)
                .await
                .expect("operator");
        }
        let session = crate::accounts::login(
            &state.db,
            &crate::accounts::LoginPolicy::default(),
            now,
            email,
            password,
            "127.0.0.1",
        )
        .await
        .expect("login");
        (profile.id, session.token)
    }

    struct Reply {
        status: StatusCode,
        location: String,
        flash: bool,
        body: String,
    }

    async fn send(state: &AppState, req: Request<Body>) -> Reply {
        let res = crate::app::router(state.clone())
            .oneshot(req)
            .await
            .expect("response");
        let status = res.status();
        let location = res
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let flash = res.headers().get_all(header::SET_COOKIE).iter().any(|v| {
            v.to_str()
                .is_ok_and(|c| c.starts_with("ichiba_flash=") && !c.starts_with("ichiba_flash=;"))
        });
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .expect("body");
        Reply {
            status,
            location,
            flash,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    fn cookies(token: Option<&str>) -> String {
        match token {
            Some(t) => format!("ichiba_csrf={CSRF}; ichiba_session={t}"),
            None => format!("ichiba_csrf={CSRF}"),
        }
    }

    async fn get(state: &AppState, path: &str, token: Option<&str>) -> Reply {
        let req = Request::get(path)
            .header(header::COOKIE, cookies(token))
            .body(Body::empty())
            .expect("request");
        send(state, req).await
    }

    async fn post(
        state: &AppState,
        path: &str,
        token: Option<&str>,
        form: &[(&str, &str)],
    ) -> Reply {
        let mut fields = vec![("csrf", CSRF)];
        fields.extend_from_slice(form);
        let body = serde_urlencoded::to_string(&fields).expect("form");
        let req = Request::post(path)
            .header(header::COOKIE, cookies(token))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request");
        send(state, req).await
    }

    /// A seller with a listing, a buyer who bought it, an operator. Returns the tokens and ids.
    struct World {
        seller: (String, String),
        buyer: (String, String),
        op: (String, String),
        listing_id: String,
        order_id: String,
    }

    async fn world(state: &AppState) -> World {
        let seller = user(state, "seller@example.com", "出品者さん", false).await;
        let buyer = user(state, "buyer@example.com", "購入者さん", false).await;
        let op = user(state, "op@example.com", "運営さん", true).await;
        let now = state.clock.now_ms();
        let listing = crate::listings::create(
            &state.db,
            now,
            &seller.0,
            &crate::listings::RawListing {
                title: Some("ロゴデザインを丁寧に作成します".into()),
                description: Some("シンプルで伝わるロゴを制作します。".into()),
                category: Some("design".into()),
                price_yen: Some(5000),
                delivery_days: Some(7),
                options: None,
            },
        )
        .await
        .expect("listing");
        crate::reputation::refresh_seller(&state.db, &seller.0, now)
            .await
            .expect("refresh");
        let (_, order) = crate::orders::purchase(
            state,
            &buyer.0,
            &crate::orders::PurchaseRequest {
                listing_id: listing.id.clone(),
                option_ids: vec![],
                use_points: 0,
                payment_token: None,
            },
            None,
            now,
        )
        .await
        .expect("purchase");
        World {
            seller,
            buyer,
            op,
            listing_id: listing.id,
            order_id: order["id"].as_str().expect("order id").to_string(),
        }
    }

    #[tokio::test]
    async fn the_dashboard_shows_metrics_rank_and_ranking() {
        let e = env().await;
        let w = world(&e.state).await;
        let anon = get(&e.state, "/dashboard", None).await;
        assert_eq!(anon.status, StatusCode::SEE_OTHER);
        assert_eq!(anon.location, "/login?next=/dashboard");
        let r = get(&e.state, "/dashboard", Some(&w.seller.1)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        for text in [
            "納期を守った割合",
            "キャンセル率",
            "「レギュラー」まで",
            "ロゴデザインを丁寧に作成します",
            &format!("/listings/{}", w.listing_id),
            "おすすめ度",
            "情報の充実度",
            "カテゴリの中央値",
        ] {
            assert!(r.body.contains(text), "missing {text}");
        }
        // A buyer without listings still has a dashboard.
        let r = get(&e.state, "/dashboard", Some(&w.buyer.1)).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("まだ出品したサービスはありません"));
    }

    #[tokio::test]
    async fn the_console_is_for_operators_only() {
        let e = env().await;
        let w = world(&e.state).await;
        let order_path = format!("/admin/orders/{}", w.order_id);
        for path in [
            "/admin",
            "/admin/appeals",
            "/admin/sanctions",
            "/admin/payouts",
            "/admin/ledger",
            order_path.as_str(),
        ] {
            let anon = get(&e.state, path, None).await;
            assert_eq!(anon.status, StatusCode::SEE_OTHER, "{path}");
            assert!(anon.location.starts_with("/login?next="), "{path}");
            let seller = get(&e.state, path, Some(&w.seller.1)).await;
            assert_eq!(seller.status, StatusCode::NOT_FOUND, "{path}");
            let op = get(&e.state, path, Some(&w.op.1)).await;
            assert_eq!(op.status, StatusCode::OK, "{path}: {}", op.body);
        }
        let cancel = format!("{order_path}/cancel");
        let r = post(&e.state, &cancel, Some(&w.buyer.1), &[]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let ledger = get(&e.state, "/admin/ledger", Some(&w.op.1)).await;
        assert!(ledger.body.contains("問題は見つかりませんでした"));
    }

    #[tokio::test]
    async fn operators_look_up_and_intervene_in_orders() {
        let e = env().await;
        let w = world(&e.state).await;
        let r = get(
            &e.state,
            &format!("/admin/orders?id={}", w.order_id),
            Some(&w.op.1),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location, format!("/admin/orders/{}", w.order_id));
        let r = get(&e.state, "/admin/orders?id=..%2Fx", Some(&w.op.1)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("role=\"alert\""));

        let path = format!("/admin/orders/{}", w.order_id);
        let page = get(&e.state, &path, Some(&w.op.1)).await;
        assert!(page.body.contains("出品者さん") && page.body.contains("購入者さん"));
        assert!(page.body.contains("この金額で精算する"));

        let settle = format!("{path}/settle");
        let r = post(
            &e.state,
            &settle,
            Some(&w.op.1),
            &[("seller_amount_yen", "abc")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.body
                .contains("出品者への支払額を数字で入力してください。")
        );
        let r = post(
            &e.state,
            &settle,
            Some(&w.op.1),
            &[("seller_amount_yen", "999999")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.body
                .contains("出品者への支払額は0円から5000円の範囲で指定してください。")
        );
        assert!(r.body.contains("value=\"999999\""));

        let r = post(&e.state, &format!("{path}/cancel"), Some(&w.op.1), &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location, path);
        assert!(r.flash);
        let page = get(&e.state, &path, Some(&w.op.1)).await;
        assert!(page.body.contains("キャンセル"));
        assert!(page.body.contains("運営による対応はできません"));

        let r = post(&e.state, &format!("{path}/complete"), Some(&w.op.1), &[]).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.body.contains("role=\"alert\""));

        let r = post(&e.state, "/admin/orders/nope/cancel", Some(&w.op.1), &[]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);

        // A form without the CSRF token is refused.
        let req = Request::post(format!("{path}/complete"))
            .header(header::COOKIE, cookies(Some(&w.op.1)))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("csrf=wrong"))
            .expect("request");
        assert_eq!(send(&e.state, req).await.status, StatusCode::FORBIDDEN);
    }

    #[tokio::test]
    async fn appeals_are_decided_once() {
        let e = env().await;
        let w = world(&e.state).await;
        let context = crate::guard::Context::OrderMessage {
            order_id: w.order_id.clone(),
        };
        let a = crate::appeals::file(&e.state, &w.buyer.0, "LINEのIDは abc123 です", &context)
            .await
            .expect("appeal");
        let queue = get(&e.state, "/admin/appeals", Some(&w.op.1)).await;
        assert!(queue.body.contains("購入者さん"));
        assert!(queue.body.contains("トークルームのメッセージ"));
        assert!(
            queue
                .body
                .contains(&format!("/admin/appeals/{}/decide", a.id))
        );

        let decide = format!("/admin/appeals/{}/decide", a.id);
        let r = post(&e.state, &decide, Some(&w.op.1), &[("decision", "maybe")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.body
                .contains("decision は allow または uphold を指定してください。")
        );

        let form = [
            ("decision", "uphold"),
            ("note", "外部誘導"),
            ("filter", "pending"),
        ];
        let r = post(&e.state, &decide, Some(&w.op.1), &form).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location, "/admin/appeals?state=pending");
        assert!(r.flash);
        let r = post(&e.state, &decide, Some(&w.op.1), &form).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.body.contains("この異議申し立ては判断済みです。"));
        let done = get(&e.state, "/admin/appeals?state=upheld", Some(&w.op.1)).await;
        assert!(done.body.contains("メモ：外部誘導"));
    }

    #[tokio::test]
    async fn sanctions_are_listed_and_lifted() {
        let e = env().await;
        let w = world(&e.state).await;
        let now = e.state.clock.now_ms();
        let mut tx = e.state.db.begin().await.expect("tx");
        crate::guard::store::insert_sanction(
            &mut tx,
            &w.buyer.0,
            "restriction",
            "テストの制限",
            now,
            Some(now + 3_600_000),
        )
        .await
        .expect("sanction");
        tx.commit().await.expect("commit");

        let list = get(&e.state, "/admin/sanctions", Some(&w.op.1)).await;
        assert!(list.body.contains("購入者さん") && list.body.contains("テストの制限"));
        assert!(list.body.contains("制限を解除する"));
        let user = get(
            &e.state,
            &format!("/admin/users/{}", w.buyer.0),
            Some(&w.op.1),
        )
        .await;
        assert!(user.body.contains("buyer@example.com") && user.body.contains("テストの制限"));

        let lift = format!("/admin/users/{}/sanctions/lift", w.buyer.0);
        let long = "あ".repeat(1001);
        let r = post(
            &e.state,
            &lift,
            Some(&w.op.1),
            &[("note", &long), ("back", "/admin/sanctions")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("メモは1000文字以内で入力してください。"));

        let form = [("note", "誤検知のため"), ("back", "/admin/sanctions")];
        let r = post(&e.state, &lift, Some(&w.op.1), &form).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location, "/admin/sanctions");
        assert!(r.flash);
        let list = get(&e.state, "/admin/sanctions", Some(&w.op.1)).await;
        assert!(
            list.body
                .contains("現在、有効な利用制限・アカウント停止はありません。")
        );
        let r = post(
            &e.state,
            &lift,
            Some(&w.op.1),
            &[("back", "https://evil.example/")],
        )
        .await;
        assert_eq!(r.location, format!("/admin/users/{}", w.buyer.0));
    }

    #[tokio::test]
    async fn payout_forms_show_the_services_errors() {
        let e = env().await;
        let w = world(&e.state).await;
        let r = post(
            &e.state,
            "/admin/payouts/export",
            Some(&w.op.1),
            &[("pay_date", "2026/03/10")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.body
                .contains("振込指定日は YYYY-MM-DD の形式で指定してください。")
        );
        let r = post(
            &e.state,
            "/admin/payouts/export",
            Some(&w.op.1),
            &[("pay_date", "2026-03-10")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("指定日までに振込予定の申請はありません。"));
        let r = post(
            &e.state,
            "/admin/payouts/settle",
            Some(&w.op.1),
            &[("paid", " "), ("failed", "")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("申請IDを入力してください。"));
        let r = post(
            &e.state,
            "/admin/payouts/settle",
            Some(&w.op.1),
            &[("paid", "p-unknown")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("振込申請 p-unknown が見つかりません。"));
        assert!(r.body.contains(">p-unknown</textarea>"));
        let r = get(&e.state, "/admin/payouts/batches/nope", Some(&w.op.1)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
}
