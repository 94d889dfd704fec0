//! 売上 (earnings, payouts, history, CSV) and 振込口座 (the bank account).

use super::session::PageQuery;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Deserialize;

use super::auth::Errors;
use super::format::{jst_rfc3339, yen, ymd};
use super::session::CsrfForm;
use super::{Layout, PageResult, Viewer, render, render_status, see_other};
use crate::error::AppError;
use crate::payouts::bank::{self, BankAccountInput, BankCode, BranchCode};
use crate::payouts::model::{PayoutPolicy, quote, scheduled_for};
use crate::state::AppState;

/// The routes of 売上 and 振込口座.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sales", get(sales))
        .route("/sales/payouts", axum::routing::post(request_payout))
        .route("/sales/quote", get(payout_quote))
        .route("/sales/ledger.csv", get(ledger_csv))
        .route("/bank-account", get(bank_form).post(save_bank))
        .route("/bank-account/lookup", get(lookup))
}

struct PayoutRow {
    requested: String,
    amount: String,
    fee: String,
    net: String,
    status: String,
    scheduled: String,
}

struct LineRow {
    at: String,
    memo: String,
    amount: String,
    account: String,
    order_id: Option<String>,
}

#[derive(Template)]
#[template(path = "sales.html")]
struct SalesPage {
    layout: Layout,
    available: String,
    available_yen: i64,
    pending: String,
    points: i64,
    has_bank: bool,
    bank_label: String,
    amount: String,
    preview: String,
    payouts: Vec<PayoutRow>,
    lines: Vec<LineRow>,
    error: Option<String>,
    form_key: String,
}

/// The fee and payment date of a payout of `amount` requested now, in words.
fn preview(amount: i64, now: i64) -> String {
    let policy = PayoutPolicy::default();
    match quote(&policy, amount) {
        Ok(q) => {
            let date = scheduled_for(&policy, now)
                .map(|d| d.format("%Y年%-m月%-d日").to_string())
                .unwrap_or_default();
            format!(
                "振込手数料 {}、お振込額 {}（{}お振込予定）",
                yen(q.fee_yen),
                yen(q.net_yen),
                date
            )
        }
        Err(e) => AppError::from(e).message(),
    }
}

async fn sales_page(
    state: &AppState,
    viewer: &Viewer,
    user_id: &str,
    amount: String,
    error: Option<String>,
) -> Result<SalesPage, super::WebError> {
    let balance = crate::ledger::balance(&state.db, user_id).await?;
    let bank = crate::payouts::get_bank_account(&state.db, user_id).await;
    let payouts = crate::payouts::list(&state.db, user_id, None).await?;
    let lines = crate::ledger::lines(&state.db, user_id, None).await?;
    let now = state.clock.now_ms();
    let default_amount = if amount.is_empty() {
        balance.earnings_yen.to_string()
    } else {
        amount
    };
    Ok(SalesPage {
        layout: viewer.layout("売上"),
        available: yen(balance.earnings_yen),
        available_yen: balance.earnings_yen,
        pending: yen(balance.payout_pending_yen),
        points: balance.points,
        has_bank: bank.is_ok(),
        bank_label: bank
            .as_ref()
            .map(|b| {
                format!(
                    "{} {} {} {} {}",
                    b.bank_name,
                    b.branch_name,
                    b.account_type_name,
                    b.account_number,
                    b.holder_kana
                )
            })
            .unwrap_or_default(),
        preview: default_amount
            .trim()
            .parse::<i64>()
            .map(|a| preview(a, now))
            .unwrap_or_default(),
        amount: default_amount,
        payouts: payouts
            .items
            .iter()
            .map(|p| PayoutRow {
                requested: jst_rfc3339(&p.requested_at),
                amount: yen(p.amount_yen),
                fee: yen(p.fee_yen),
                net: yen(p.net_yen),
                status: p.status_label.clone(),
                scheduled: ymd(&p.scheduled_for),
            })
            .collect(),
        lines: lines
            .items
            .iter()
            .filter(|l| l.account != "points")
            .map(|l| LineRow {
                at: jst_rfc3339(&l.at),
                memo: l.memo.clone(),
                amount: yen(l.amount_yen),
                account: match l.account.as_str() {
                    "earnings" => "売上金".to_string(),
                    "payout_pending" => "振込申請中".to_string(),
                    other => other.to_string(),
                },
                order_id: l.order_id.clone(),
            })
            .collect(),
        error,
        form_key: crate::db::new_id(),
    })
}

async fn sales(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    let me = viewer.require()?.clone();
    render(&sales_page(&state, &viewer, &me.user_id, String::new(), None).await?)
}

#[derive(Debug, Deserialize)]
struct AmountParam {
    #[serde(default)]
    amount: String,
}

async fn payout_quote(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(p): PageQuery<AmountParam>,
) -> PageResult {
    viewer.require()?;
    let text = match p.amount.trim().parse::<i64>() {
        Ok(a) => preview(a, state.clock.now_ms()),
        Err(_) => "申請金額を数字で入力してください。".to_string(),
    };
    Ok(axum::Json(serde_json::json!({ "preview": text })).into_response())
}

#[derive(Debug, Deserialize)]
struct PayoutForm {
    #[serde(default)]
    amount_yen: String,
    #[serde(default)]
    key: String,
}

async fn request_payout(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(f): CsrfForm<PayoutForm>,
) -> PageResult {
    let me = viewer.require()?.clone();
    let amount = f.amount_yen.trim().replace([',', '円'], "");
    let Ok(amount_yen) = amount.parse::<i64>() else {
        let page = sales_page(
            &state,
            &viewer,
            &me.user_id,
            f.amount_yen,
            Some("申請金額を数字で入力してください。".into()),
        )
        .await?;
        return render_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    // The form's one-time key makes a double submit (a second click, a reload) harmless.
    let key = crate::idempotency::IdempotencyKey::for_form(
        &me.user_id,
        "payouts",
        &f.key,
        &serde_json::json!({ "amount_yen": amount_yen }),
    );
    match crate::payouts::request(&state, &me.user_id, amount_yen, key, state.clock.now_ms()).await
    {
        Ok(payout) => Ok(see_other(
            "/sales",
            Some(&format!(
                "振込申請を受け付けました。お振込額 {}（{}お振込予定）。",
                yen(payout.net_yen),
                ymd(&payout.scheduled_for)
            )),
        )),
        Err(e) if e.status().is_client_error() => {
            let page = sales_page(&state, &viewer, &me.user_id, amount, Some(e.message())).await?;
            render_status(e.status(), &page)
        }
        Err(e) => Err(e.into()),
    }
}

async fn ledger_csv(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    let me = viewer.require()?.clone();
    let bytes = crate::payouts::ledger_csv::of_user(&state.db, &me.user_id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"ichiba-ledger.csv\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "bank.html")]
struct BankPage {
    layout: Layout,
    bank_code: String,
    bank_name: String,
    branch_code: String,
    branch_name: String,
    account_type: i64,
    account_number: String,
    kigou: String,
    bangou: String,
    holder_kana: String,
    registered: Option<String>,
    correction: Option<String>,
    errors: Errors,
}

/// The names of a bank and branch from the bundled Zengin data (empty when unknown).
fn names(bank_code: &str, branch_code: &str) -> (String, String) {
    let bank = BankCode::parse(bank_code)
        .ok()
        .and_then(|c| bank::lookup_bank(&c).ok().flatten());
    let branch = bank.and_then(|b| {
        BranchCode::parse(branch_code)
            .ok()
            .and_then(|c| bank::lookup_branch(b, &c).ok().flatten())
    });
    (
        bank.map(|b| b.name.clone()).unwrap_or_default(),
        branch.map(|b| b.name.clone()).unwrap_or_default(),
    )
}

async fn bank_form(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    let me = viewer.require()?.clone();
    let current = crate::payouts::get_bank_account(&state.db, &me.user_id).await;
    let page = match current {
        Ok(b) => BankPage {
            layout: viewer.layout("振込口座"),
            registered: Some(format!(
                "{} {} {} {} {}",
                b.bank_name, b.branch_name, b.account_type_name, b.account_number, b.holder_kana
            )),
            correction: b
                .needs_correction
                .then(|| b.correction_reason.clone().unwrap_or_default()),
            bank_code: b.bank_code,
            bank_name: b.bank_name,
            branch_code: b.branch_code,
            branch_name: b.branch_name,
            account_type: b.account_type,
            account_number: String::new(),
            kigou: String::new(),
            bangou: String::new(),
            holder_kana: b.holder_kana,
            errors: Errors::default(),
        },
        Err(AppError::NotFound) => BankPage {
            layout: viewer.layout("振込口座"),
            bank_code: String::new(),
            bank_name: String::new(),
            branch_code: String::new(),
            branch_name: String::new(),
            account_type: 1,
            account_number: String::new(),
            kigou: String::new(),
            bangou: String::new(),
            holder_kana: String::new(),
            registered: None,
            correction: None,
            errors: Errors::default(),
        },
        Err(e) => return Err(e.into()),
    };
    render(&page)
}

#[derive(Debug, Deserialize)]
struct BankForm {
    #[serde(default)]
    bank_code: String,
    #[serde(default)]
    branch_code: String,
    #[serde(default)]
    account_type: String,
    #[serde(default)]
    account_number: String,
    #[serde(default)]
    kigou: String,
    #[serde(default)]
    bangou: String,
    #[serde(default)]
    holder_kana: String,
}

fn non_empty(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

async fn save_bank(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(f): CsrfForm<BankForm>,
) -> PageResult {
    let me = viewer.require()?.clone();
    let input = BankAccountInput {
        bank_code: non_empty(&f.bank_code),
        branch_code: non_empty(&f.branch_code),
        account_type: f.account_type.trim().parse().ok(),
        account_number: non_empty(&f.account_number),
        kigou: non_empty(&f.kigou),
        bangou: non_empty(&f.bangou),
        holder_kana: non_empty(&f.holder_kana),
    };
    match crate::payouts::put_bank_account(&state, &me.user_id, &input, state.clock.now_ms()).await
    {
        Ok(_) => Ok(see_other("/sales", Some("振込口座を登録しました。"))),
        Err(e) if e.status().is_client_error() => {
            let (bank_name, branch_name) = names(&f.bank_code, &f.branch_code);
            let page = BankPage {
                layout: viewer.layout("振込口座"),
                bank_code: f.bank_code,
                bank_name,
                branch_code: f.branch_code,
                branch_name,
                account_type: f.account_type.trim().parse().unwrap_or(1),
                account_number: f.account_number,
                kigou: f.kigou,
                bangou: f.bangou,
                holder_kana: f.holder_kana,
                registered: None,
                correction: None,
                errors: Errors::from_app(&e),
            };
            render_status(e.status(), &page)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
struct LookupParams {
    #[serde(default)]
    bank_code: String,
    #[serde(default)]
    branch_code: String,
}

async fn lookup(viewer: Viewer, PageQuery(p): PageQuery<LookupParams>) -> PageResult {
    viewer.require()?;
    let (bank, branch) = names(&p.bank_code, &p.branch_code);
    Ok(axum::Json(serde_json::json!({ "bank_name": bank, "branch_name": branch })).into_response())
}
