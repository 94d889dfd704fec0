//! Ledger verification (`/admin/ledger`): recomputes every balance and checks that all accounts
//! sum to zero (the same check as `ichiba admin verify`), and shows the problems found.

use askama::Template;
use axum::extract::State;

use super::operator;
use crate::state::AppState;
use crate::web::format::{jst_datetime, yen};
use crate::web::{Layout, PageResult, Viewer, render};

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

/// `GET /admin/ledger`.
pub(super) async fn page(State(state): State<AppState>, viewer: Viewer) -> PageResult {
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
