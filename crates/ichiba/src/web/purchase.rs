//! The purchase in the browser: the confirmation page, the live quote (JSON) it re-fetches as
//! options and points change, and the purchase form itself.

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::format::yen;
use super::session::CsrfForm;
use super::{
    Layout, PageResult, Viewer, WebError, render, render_status, see_other, shown_on_form,
};
use crate::auth::Identity;
use crate::error::AppError;
use crate::listings::ListingView;
use crate::orders::{self, Policy, PurchaseRequest};
use crate::state::AppState;

/// The purchase routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/listings/{id}/purchase", get(purchase_form).post(purchase))
        .route("/listings/{id}/purchase/quote", get(quote))
}

#[derive(Template)]
#[template(path = "purchase.html")]
struct PurchasePage {
    layout: Layout,
    listing_id: String,
    title: String,
    seller: String,
    price: String,
    options: Vec<PurchaseOption>,
    points_available: i64,
    use_points: i64,
    quote: QuoteView,
    fee_rate: String,
    error: Option<String>,
    form_key: String,
}

struct PurchaseOption {
    id: String,
    title: String,
    price: String,
    checked: bool,
}

/// The amounts of a purchase as the engine will charge them.
#[derive(serde::Serialize)]
struct QuoteView {
    subtotal: String,
    fee: String,
    total: String,
    points: String,
    pay: String,
}

/// The amounts for a listing, the chosen options and the points to use, as the engine's own
/// [`orders::model::quote`] computes them for the purchase.
fn quote_of(listing: &ListingView, selected: &[String], points: i64) -> QuoteView {
    let options_yen: i64 = listing
        .options
        .iter()
        .filter(|o| selected.contains(&o.id))
        .map(|o| o.price_yen)
        .sum();
    let q = orders::model::quote(&Policy::default(), listing.price_yen, options_yen, points);
    QuoteView {
        subtotal: yen(q.subtotal_yen),
        fee: yen(q.buyer_fee_yen),
        total: yen(q.total_yen),
        points: format!("-{}", yen(q.points_used)),
        pay: yen(q.charged_yen),
    }
}

/// `option=…&option=…&points=…` from a query string or a form body.
fn chosen(pairs: &[(String, String)]) -> (Vec<String>, i64, Option<String>) {
    let options = pairs
        .iter()
        .filter(|(k, _)| k == "option")
        .map(|(_, v)| v.clone())
        .collect();
    let points = pairs
        .iter()
        .find(|(k, _)| k == "points")
        .and_then(|(_, v)| v.trim().parse::<i64>().ok())
        .unwrap_or(0);
    let token = pairs
        .iter()
        .find(|(k, _)| k == "payment")
        .map(|(_, v)| v.clone());
    (options, points, token)
}

async fn purchase_page(
    state: &AppState,
    viewer: &Viewer,
    me: &Identity,
    listing_id: &str,
    selected: &[String],
    points: i64,
    error: Option<String>,
) -> Result<PurchasePage, WebError> {
    let listing = crate::listings::show(state, listing_id, Some(&me.user_id))
        .await
        .map_err(AppError::from)?;
    let balance = crate::ledger::balance(&state.db, &me.user_id).await?;
    let use_points = points.clamp(0, balance.points);
    Ok(PurchasePage {
        layout: viewer.layout("購入手続き"),
        listing_id: listing.id.clone(),
        title: listing.title.clone(),
        seller: listing.seller.display_name.clone(),
        price: yen(listing.price_yen),
        options: listing
            .options
            .iter()
            .map(|o| PurchaseOption {
                id: o.id.clone(),
                title: o.title.clone(),
                price: format!("+{}", yen(o.price_yen)),
                checked: selected.contains(&o.id),
            })
            .collect(),
        points_available: balance.points,
        use_points,
        quote: quote_of(&listing, selected, use_points),
        fee_rate: crate::orders::view::PolicyView::from(&Policy::default()).buyer_fee_rate,
        error,
        form_key: crate::db::new_id(),
    })
}

async fn purchase_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> PageResult {
    let me = viewer.require()?.clone();
    render(&purchase_page(&state, &viewer, &me, &id, &[], 0, None).await?)
}

async fn quote(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, WebError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(q.as_deref().unwrap_or("")).unwrap_or_default();
    let (selected, points, _) = chosen(&pairs);
    let listing = crate::listings::show(&state, &id, None)
        .await
        .map_err(AppError::from)?;
    Ok(axum::Json(quote_of(&listing, &selected, points)).into_response())
}

async fn purchase(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let me = viewer.require()?.clone();
    let (selected, points, token) = chosen(&pairs);
    let attempt = async {
        let req = PurchaseRequest {
            listing_id: id.clone(),
            option_ids: selected.clone(),
            use_points: points,
            payment_token: token,
        };
        let form_key = pairs
            .iter()
            .find(|(k, _)| k == "key")
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        let request = serde_json::to_value(&req).map_err(AppError::internal)?;
        let key =
            crate::idempotency::IdempotencyKey::for_form(&me.user_id, "orders", form_key, &request);
        orders::purchase(&state, &me.user_id, &req, key, state.clock.now_ms())
            .await
            .map_err(AppError::from)
    };
    match attempt.await {
        Ok(order) => {
            let order_id = &order.id;
            Ok(see_other(
                &format!("/orders/{order_id}"),
                Some(
                    "購入が完了しました。出品者からの連絡をお待ちください（48時間以内に返信がない場合は自動でキャンセルされ、全額返金されます）。",
                ),
            ))
        }
        Err(e) if shown_on_form(&e) => {
            let page = purchase_page(
                &state,
                &viewer,
                &me,
                &id,
                &selected,
                points,
                Some(e.message()),
            )
            .await?;
            render_status(e.status(), &page)
        }
        Err(e) => Err(e.into()),
    }
}
