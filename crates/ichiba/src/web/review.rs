//! The review of a finished order in the browser: the form (public stars and comment, private
//! stars) and its submission.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use serde::Deserialize;

use super::auth::Errors;
use super::format::jst_datetime;
use super::session::CsrfForm;
use super::{
    Layout, PageResult, Viewer, WebError, render, render_status, see_other, shown_on_form,
};
use crate::auth::Identity;
use crate::error::AppError;
use crate::orders::{self, model::Side};
use crate::state::AppState;

/// The review routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/orders/{id}/review", get(review_form).post(review))
}

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage {
    layout: Layout,
    order_id: String,
    title: String,
    other: String,
    is_buyer: bool,
    public_stars: Vec<Star>,
    private_stars: Vec<Star>,
    comment: String,
    errors: Errors,
    window: String,
}

/// One choice of a star rating.
struct Star {
    n: i64,
    checked: bool,
}

fn stars_of(chosen: i64) -> Vec<Star> {
    (1..=5)
        .rev()
        .map(|n| Star {
            n,
            checked: n == chosen,
        })
        .collect()
}

async fn review_page(
    state: &AppState,
    viewer: &Viewer,
    me: &Identity,
    order_id: &str,
) -> Result<ReviewPage, WebError> {
    let order = orders::get(state, me, order_id).await?;
    let side = order.side_of(&me.user_id).ok_or(AppError::NotFound)?;
    let mut conn = state.db.pool().acquire().await?;
    let other = crate::accounts::store::user_by_id(&mut conn, order.user_of(side.other()))
        .await?
        .map(|u| u.display_name)
        .unwrap_or_default();
    let window = crate::reviews::model::may_review(&order, side, state.clock.now_ms())
        .map(|end| format!("{}まで", jst_datetime(end)))
        .unwrap_or_default();
    Ok(ReviewPage {
        layout: viewer.layout("評価する"),
        order_id: order.id.clone(),
        title: order.title.clone(),
        other,
        is_buyer: side == Side::Buyer,
        public_stars: stars_of(0),
        private_stars: stars_of(0),
        comment: String::new(),
        errors: Errors::default(),
        window,
    })
}

async fn review_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> PageResult {
    let me = viewer.require()?.clone();
    render(&review_page(&state, &viewer, &me, &id).await?)
}

#[derive(Debug, Deserialize)]
struct ReviewForm {
    #[serde(default)]
    public_rating: String,
    #[serde(default)]
    private_rating: String,
    #[serde(default)]
    comment: String,
}

async fn review(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<ReviewForm>,
) -> PageResult {
    let me = viewer.require()?.clone();
    let public_rating = f.public_rating.parse().unwrap_or(0);
    let private_rating = f.private_rating.parse().unwrap_or(0);
    match crate::reviews::write(&state, &me, &id, public_rating, &f.comment, private_rating)
        .await
        .map_err(AppError::from)
    {
        Ok(_) => Ok(see_other(
            &format!("/orders/{id}"),
            Some("評価を送信しました。お互いの評価がそろうか、評価期間が終わると公開されます。"),
        )),
        Err(e) if shown_on_form(&e) => {
            let mut page = review_page(&state, &viewer, &me, &id).await?;
            page.public_stars = stars_of(public_rating);
            page.private_stars = stars_of(private_rating);
            page.comment = f.comment;
            page.errors = Errors::from_app(&e);
            render_status(e.status(), &page)
        }
        Err(e) => Err(e.into()),
    }
}
