//! Payout batches (`/admin/payouts`): the payouts waiting to be exported and those waiting for
//! the bank's result, the export of a 全銀 (Zengin) file for a pay date, the recording of paid and
//! failed payouts, and each batch with its file for download.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use serde::Deserialize;

use super::{error_text, operator};
use crate::payouts::store::QueuedPayoutRow;
use crate::payouts::{PayoutState, PayoutView};
use crate::state::AppState;
use crate::web::format::{jst_datetime, jst_rfc3339, url_encode, yen};
use crate::web::session::{CsrfForm, FORM_INVALID};
use crate::web::{
    Layout, PageResult, Viewer, WebError, render, render_status, see_other, shown_on_form,
};

/// Payouts listed per state at most (as the payout queue of the service).
const QUEUE_LIMIT: i64 = 500;

/// Batches listed at most.
const RECENT_BATCHES: i64 = 20;

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

/// A payout as shown.
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
    p: &PayoutView,
    user_id: &str,
    user_name: &str,
    batch_id: Option<String>,
) -> PayoutItem {
    PayoutItem {
        id: p.id.clone(),
        user_id: user_id.to_string(),
        user_name: user_name.to_string(),
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

/// A batch of the list.
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
    let mut conn = state.db.pool().acquire().await?;
    let rows = crate::payouts::store::open_payout_queue(&mut conn, QUEUE_LIMIT).await?;
    let batches = crate::payouts::store::recent_batches(&mut conn, RECENT_BATCHES).await?;
    drop(conn);
    let (pending, exported): (Vec<&QueuedPayoutRow>, Vec<&QueuedPayoutRow>) = rows
        .iter()
        .partition(|r| r.payout.state == PayoutState::Pending.as_str());
    let item = |r: &QueuedPayoutRow, batch_id: Option<String>| {
        payout_item(
            &PayoutView::from(&r.payout),
            &r.payout.user_id,
            &r.user_name,
            batch_id,
        )
    };
    let net = |rows: &[&QueuedPayoutRow]| rows.iter().map(|r| r.payout.net_yen).sum::<i64>();
    // The earliest date a pending payout is due: what the next export is usually for.
    let next_date = pending
        .iter()
        .map(|r| r.payout.scheduled_for.clone())
        .min()
        .unwrap_or_default();
    Ok(PayoutsPage {
        layout: viewer.layout("振込"),
        section: "payouts",
        pending: pending.iter().map(|r| item(r, None)).collect(),
        pending_total: yen(net(&pending)),
        exported: exported
            .iter()
            .map(|r| item(r, r.payout.batch_id.clone()))
            .collect(),
        exported_total: yen(net(&exported)),
        batches: batches
            .iter()
            .map(|b| BatchItem {
                id: b.id.clone(),
                pay_date: b.pay_date.clone(),
                count: b.payout_count,
                total: yen(b.total_yen),
                created: jst_datetime(b.created_at_ms),
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

/// `GET /admin/payouts`.
pub(super) async fn page(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    operator(&viewer)?;
    render(&payouts_view(&state, &viewer, PayoutDraft::default()).await?)
}

/// The export form: the 振込指定日 (YYYY-MM-DD).
#[derive(Debug, Deserialize)]
pub(super) struct ExportForm {
    #[serde(default)]
    pay_date: String,
}

/// `POST /admin/payouts/export`: the batch of the payouts due by the pay date.
pub(super) async fn export(
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

/// The result form: payout ids paid and failed, and why they failed.
#[derive(Debug, Deserialize)]
pub(super) struct SettleForm {
    #[serde(default)]
    paid: String,
    #[serde(default)]
    failed: String,
    #[serde(default)]
    reason: String,
}

/// `POST /admin/payouts/settle`: the bank's result, payout ids paid and failed.
pub(super) async fn settle(
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

/// `GET /admin/payouts/batches/{id}`.
pub(super) async fn batch_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> PageResult {
    operator(&viewer)?;
    let b = crate::payouts::batch_view(&state.db, &id).await?;
    let mut conn = state.db.pool().acquire().await?;
    let creator = crate::accounts::store::user_by_id(&mut conn, &b.created_by).await?;
    drop(conn);
    let page = BatchPage {
        layout: viewer.layout(format!("振込データ {}", b.pay_date)),
        section: "payouts",
        payouts: b
            .payouts
            .iter()
            .map(|p| payout_item(p, "", "", None))
            .collect(),
        created_by: creator.map_or_else(|| b.created_by.clone(), |u| u.display_name),
        id: b.id,
        pay_date: b.pay_date,
        count: b.payout_count,
        total: yen(b.total_yen),
        created: jst_rfc3339(&b.created_at),
    };
    render(&page)
}

/// `GET /admin/payouts/batches/{id}/file`: the Zengin file (Shift_JIS) as a download.
pub(super) async fn batch_file(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_lists_split_on_any_separator() {
        assert_eq!(split_ids(""), Vec::<String>::new());
        assert_eq!(
            split_ids("a1\nb2, c3、d4  e5\r\nA1，a1"),
            vec!["a1", "b2", "c3", "d4", "e5", "A1"]
        );
    }
}
