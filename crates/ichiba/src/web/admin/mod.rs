//! The operator console (`/admin`): its route table and what its screens share — who may see
//! it, and how a service's refusal is shown on a form.
//!
//! One file per screen: [`overview`] (counters and the order and user lookups), [`appeals`],
//! [`sanctions`] (and the user page), [`orders`] (interventions), [`payouts`] (batches and
//! results) and [`ledger`] (verification). Every decision comes from the services (`guard`,
//! `orders`, `payouts`, `ledger`); list rows come from one read-model query of the feature's
//! store. The console answers a non-operator with the 404 page, so its existence does not leak;
//! an anonymous visitor is sent to the login page.

mod appeals;
mod ledger;
mod orders;
mod overview;
mod payouts;
mod sanctions;

use axum::Router;
use axum::routing::{get, post};

use super::{Viewer, WebError};
use crate::auth::Identity;
use crate::error::AppError;
use crate::state::AppState;

/// The console's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(overview::home))
        .route("/admin/appeals", get(appeals::queue))
        .route("/admin/appeals/{id}/decide", post(appeals::decide))
        .route("/admin/sanctions", get(sanctions::list))
        .route("/admin/users", get(overview::user_lookup))
        .route("/admin/users/{id}", get(sanctions::user_page))
        .route("/admin/users/{id}/sanctions/lift", post(sanctions::lift))
        .route("/admin/orders", get(overview::order_lookup))
        .route("/admin/orders/{id}", get(orders::page))
        .route("/admin/orders/{id}/cancel", post(orders::cancel))
        .route("/admin/orders/{id}/complete", post(orders::complete))
        .route("/admin/orders/{id}/settle", post(orders::settle))
        .route("/admin/payouts", get(payouts::page))
        .route("/admin/payouts/export", post(payouts::export))
        .route("/admin/payouts/settle", post(payouts::settle))
        .route("/admin/payouts/batches/{id}", get(payouts::batch_page))
        .route("/admin/payouts/batches/{id}/file", get(payouts::batch_file))
        .route("/admin/ledger", get(ledger::page))
}

/// The operator behind the request: anonymous → login, anyone else → the 404 page.
fn operator(viewer: &Viewer) -> Result<Identity, WebError> {
    let me = viewer.require()?;
    if !me.is_operator {
        return Err(WebError::App(AppError::NotFound));
    }
    Ok(me.clone())
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
