//! The console's overview (`/admin`): what waits for the operators (pending appeals, sanctions in
//! force, payouts to export and to settle) and the forms that look up an order or a user by id.

use super::super::session::PageQuery;
use askama::Template;
use axum::extract::State;
use serde::Deserialize;

use super::operator;
use crate::state::AppState;
use crate::web::format::url_encode;
use crate::web::session::FORM_INVALID;
use crate::web::{Layout, PageResult, Viewer, WebError, render, render_status, see_other};

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

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminHome {
    layout: Layout,
    section: &'static str,
    pending_appeals: i64,
    sanctions: usize,
    pending_payouts: usize,
    exported_payouts: usize,
    order_id: String,
    user_id: String,
    order_error: Option<String>,
    user_error: Option<String>,
}

/// What the lookup forms were filled with, and why the id was refused.
#[derive(Default)]
struct LookupDraft {
    order_id: String,
    user_id: String,
    order_error: Option<String>,
    user_error: Option<String>,
}

async fn home_page(
    state: &AppState,
    viewer: &Viewer,
    draft: LookupDraft,
) -> Result<AdminHome, WebError> {
    let pending_appeals = crate::appeals::pending_count(state).await?;
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
        order_id: draft.order_id,
        user_id: draft.user_id,
        order_error: draft.order_error,
        user_error: draft.user_error,
    })
}

/// `GET /admin`.
pub(super) async fn home(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    operator(&viewer)?;
    render(&home_page(&state, &viewer, LookupDraft::default()).await?)
}

/// The lookup forms' query: the id as typed.
#[derive(Debug, Default, Deserialize)]
pub(super) struct LookupParams {
    #[serde(default)]
    id: String,
}

/// What a lookup form looks for.
#[derive(Debug, Clone, Copy)]
enum Lookup {
    Order,
    User,
}

/// To the page of the order or user with the id typed, or back to the overview with the error.
async fn lookup(state: &AppState, viewer: &Viewer, raw: String, what: Lookup) -> PageResult {
    operator(viewer)?;
    let prefix = match what {
        Lookup::Order => "/admin/orders/",
        Lookup::User => "/admin/users/",
    };
    if let Some(id) = lookup_id(&raw) {
        return Ok(see_other(&format!("{prefix}{}", url_encode(&id)), None));
    }
    let draft = match what {
        Lookup::Order => LookupDraft {
            order_id: raw,
            order_error: Some("注文番号を正しく入力してください。".into()),
            ..LookupDraft::default()
        },
        Lookup::User => LookupDraft {
            user_id: raw,
            user_error: Some("ユーザーIDを正しく入力してください。".into()),
            ..LookupDraft::default()
        },
    };
    render_status(FORM_INVALID, &home_page(state, viewer, draft).await?)
}

/// `GET /admin/orders?id=…`.
pub(super) async fn order_lookup(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(p): PageQuery<LookupParams>,
) -> PageResult {
    lookup(&state, &viewer, p.id, Lookup::Order).await
}

/// `GET /admin/users?id=…`.
pub(super) async fn user_lookup(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(p): PageQuery<LookupParams>,
) -> PageResult {
    lookup(&state, &viewer, p.id, Lookup::User).await
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
