//! Reviews (評価): after an order ends each side may review the other once within 14 days. Reviews
//! are double-blind — hidden from the other party and the public until both are in or the window
//! ends — and the reviewee may reply publicly once. Private ratings are for operators only.

pub mod http;
pub mod model;
pub mod store;

use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Identity;
use crate::clock::{Millis, to_rfc3339};
use crate::cursor::{decode_key_cursor, encode_cursor};
use crate::error::{AppError, FieldErrors};
use crate::guard::GuardError;
use crate::orders::OrderError;
use crate::state::AppState;

/// What can go wrong with reviews.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// Field validation failed (ratings, comment, reply).
    #[error("invalid review")]
    Invalid(FieldErrors),
    /// The contact guard refused the comment or the reply.
    #[error(transparent)]
    Guard(#[from] GuardError),
    /// The order could not be read for the caller (not theirs: 404).
    #[error(transparent)]
    Order(#[from] OrderError),
    /// No such order or review, or the caller may not see it.
    #[error("review not found")]
    NotFound,
    /// The order's state, its cancellation's fault or the 14 days leave this side no review.
    #[error("review refused: {0:?}")]
    Refused(model::Refusal),
    /// This side has reviewed this order already.
    #[error("already reviewed")]
    AlreadyReviewed,
    /// Only the reviewee may reply.
    #[error("reviewee only")]
    RevieweeOnly,
    /// The review has its one reply already.
    #[error("already replied")]
    AlreadyReplied,
    /// A page cursor this server did not make.
    #[error("invalid cursor")]
    InvalidCursor,
    /// Database failure.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl From<ReviewError> for AppError {
    fn from(e: ReviewError) -> Self {
        match e {
            ReviewError::Invalid(fields) => AppError::Validation(fields),
            ReviewError::Guard(e) => e.into(),
            ReviewError::Order(e) => e.into(),
            ReviewError::NotFound => AppError::NotFound,
            ReviewError::Refused(model::Refusal::NotFinished) => AppError::Conflict {
                code: "order_not_finished",
                message: "評価は取引の完了後に行えます。".into(),
            },
            ReviewError::Refused(model::Refusal::NotEligible) => AppError::Forbidden {
                code: "review_not_allowed",
                message: "この取引のキャンセル理由により、評価は行えません。".into(),
            },
            ReviewError::Refused(model::Refusal::WindowClosed) => AppError::Conflict {
                code: "review_window_closed",
                message: format!(
                    "評価の期間（取引終了から{}日）を過ぎています。",
                    model::WINDOW_DAYS
                ),
            },
            ReviewError::AlreadyReviewed => AppError::Conflict {
                code: "already_reviewed",
                message: "この取引の評価はすでに送信済みです。".into(),
            },
            ReviewError::RevieweeOnly => AppError::Forbidden {
                code: "reviewee_only",
                message: "返信できるのは評価された方のみです。".into(),
            },
            ReviewError::AlreadyReplied => AppError::Conflict {
                code: "already_replied",
                message: "返信は1回のみ行えます。".into(),
            },
            ReviewError::InvalidCursor => AppError::invalid_cursor(),
            ReviewError::Db(e) => AppError::internal(e),
        }
    }
}

/// A review as the public sees it (no private rating).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewView {
    /// Id.
    pub id: String,
    /// The order.
    pub order_id: String,
    /// The listing.
    pub listing_id: String,
    /// Who wrote it.
    pub reviewer: ReviewerView,
    /// Who it is about.
    pub reviewee_id: String,
    /// `buyer_to_seller` or `seller_to_buyer`.
    pub direction: String,
    /// ★1–5.
    pub public_rating: i64,
    /// Comment.
    pub comment: String,
    /// The reviewee's public reply.
    pub reply: Option<ReplyView>,
    /// When it became visible; `null` while hidden (double-blind).
    pub published_at: Option<String>,
    /// When written.
    pub created_at: String,
}

/// The reviewer as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewerView {
    /// User id.
    pub id: String,
    /// Public name.
    pub display_name: String,
}

/// A reply.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReplyView {
    /// Text.
    pub body: String,
    /// When.
    pub created_at: String,
}

/// A review with its private rating (the reviewer's own copy, and operators).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PrivateReviewView {
    /// The review.
    #[serde(flatten)]
    pub review: ReviewView,
    /// ★1–5, seen by operators only.
    pub private_rating: i64,
}

/// A page of reviews.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewPage {
    /// Newest first.
    pub items: Vec<ReviewView>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
}

fn view(r: &store::ReviewRow) -> ReviewView {
    ReviewView {
        id: r.id.clone(),
        order_id: r.order_id.clone(),
        listing_id: r.listing_id.clone(),
        reviewer: ReviewerView {
            id: r.reviewer_id.clone(),
            display_name: r.reviewer_name.clone(),
        },
        reviewee_id: r.reviewee_id.clone(),
        direction: r.direction.clone(),
        public_rating: r.public_rating,
        comment: r.comment.clone(),
        reply: r.reply_body.as_ref().map(|b| ReplyView {
            body: b.clone(),
            created_at: r.reply_at_ms.map(to_rfc3339).unwrap_or_default(),
        }),
        published_at: r.published_at_ms.map(to_rfc3339),
        created_at: to_rfc3339(r.created_at_ms),
    }
}

fn private_view(r: &store::ReviewRow) -> PrivateReviewView {
    PrivateReviewView {
        review: view(r),
        private_rating: r.private_rating,
    }
}

/// Parses a review as submitted, passes its comment through the contact guard and
/// [`submit`]s it.
#[tracing::instrument(skip_all, fields(order_id = %order_id, user_id = %who.user_id))]
pub async fn write(
    state: &AppState,
    who: &Identity,
    order_id: &str,
    public_rating: i64,
    comment: &str,
    private_rating: i64,
) -> Result<PrivateReviewView, ReviewError> {
    let input =
        model::parse(public_rating, comment, private_rating).map_err(ReviewError::Invalid)?;
    crate::guard::screen(
        state,
        Some(&who.user_id),
        &crate::guard::Context::Review,
        &[("comment", &input.comment)],
    )
    .await?;
    submit(state, who, order_id, input).await
}

/// Writes the caller's review of the other party. Publishes both reviews when the other side is
/// already in or can no longer review.
///
/// Errors: [`ReviewError::NotFound`] for an order that is not the caller's,
/// [`ReviewError::Refused`] outside the window or without eligibility,
/// [`ReviewError::AlreadyReviewed`].
pub async fn submit(
    state: &AppState,
    who: &Identity,
    order_id: &str,
    input: model::ReviewInput,
) -> Result<PrivateReviewView, ReviewError> {
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    let order = crate::orders::store::order_by_id(&mut tx, order_id)
        .await?
        .ok_or(ReviewError::NotFound)?;
    let side = order.side_of(&who.user_id).ok_or(ReviewError::NotFound)?;
    let window_end = model::may_review(&order, side, now).map_err(ReviewError::Refused)?;
    let reviewee = order.user_of(side.other()).to_string();
    let direction = model::Direction::of(side);
    let id = match store::insert(
        &mut tx,
        order_id,
        &order.listing_id,
        &who.user_id,
        &reviewee,
        direction.as_str(),
        &input,
        now,
        window_end,
    )
    .await
    {
        Ok(id) => id,
        Err(e) if crate::db::is_unique_violation(&e) => {
            return Err(ReviewError::AlreadyReviewed);
        }
        Err(e) => return Err(e.into()),
    };
    let existing = store::of_order(&mut tx, order_id).await?;
    let both_in = existing.len() >= 2;
    let published = both_in || !model::other_side_may_review(&order, side, now);
    let mut events = vec![];
    if published {
        store::publish_order(&mut tx, order_id, now).await?;
    } else {
        let title = "取引相手から評価が届きました".to_string();
        let body = format!(
            "「{}」の評価が届いています。あなたも評価すると、お互いの評価が公開されます。",
            order.title
        );
        events.push(
            crate::notifications::create(
                &mut tx,
                &reviewee,
                "review_received",
                &title,
                &body,
                Some(order_id),
                now,
            )
            .await?,
        );
    }
    tx.commit().await?;
    state.hub.publish(events).await;
    if published {
        crate::reputation::refresh_later(state, &order.seller_id);
    }
    let mut conn = state.db.pool().acquire().await?;
    let row = store::by_id(&mut conn, &id)
        .await?
        .ok_or(ReviewError::NotFound)?;
    Ok(private_view(&row))
}

/// The reviewee's one public reply to a published review, 1–1,000 characters, screened by the
/// contact guard before anything is stored.
#[tracing::instrument(skip_all, fields(review_id = %review_id, user_id = %who.user_id))]
pub async fn reply(
    state: &AppState,
    who: &Identity,
    review_id: &str,
    body: &str,
) -> Result<ReviewView, ReviewError> {
    let body = crate::text::trim(body);
    if body.is_empty() || body.chars().count() > 1000 {
        let mut f = FieldErrors::new();
        f.add(
            "body",
            "length",
            "返信は1文字以上1000文字以内で入力してください。",
        );
        return Err(ReviewError::Invalid(f));
    }
    crate::guard::screen(
        state,
        Some(&who.user_id),
        &crate::guard::Context::Review,
        &[("body", body)],
    )
    .await?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    let row = store::by_id(&mut tx, review_id)
        .await?
        .ok_or(ReviewError::NotFound)?;
    let visible = row.published_at_ms.is_some() || row.reviewer_id == who.user_id;
    if !visible {
        return Err(ReviewError::NotFound);
    }
    if row.reviewee_id != who.user_id {
        return Err(ReviewError::RevieweeOnly);
    }
    if !store::reply(&mut tx, review_id, body, now).await? {
        return Err(ReviewError::AlreadyReplied);
    }
    tx.commit().await?;
    let mut conn = state.db.pool().acquire().await?;
    let row = store::by_id(&mut conn, review_id)
        .await?
        .ok_or(ReviewError::NotFound)?;
    Ok(view(&row))
}

/// The reviews of an order as the caller may see them: their own (with private rating) and the
/// other party's once published.
pub async fn of_order(
    state: &AppState,
    who: &Identity,
    order_id: &str,
) -> Result<Vec<serde_json::Value>, ReviewError> {
    let order = crate::orders::get(state, who, order_id).await?;
    let mut conn = state.db.pool().acquire().await?;
    let rows = store::of_order(&mut conn, order_id).await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            if r.reviewer_id == who.user_id
                || who.is_operator && order.side_of(&who.user_id).is_none()
            {
                serde_json::to_value(private_view(r)).ok()
            } else if r.published_at_ms.is_some() {
                serde_json::to_value(view(r)).ok()
            } else {
                None
            }
        })
        .collect())
}

fn page(rows: Vec<store::ReviewRow>, limit: i64) -> ReviewPage {
    let mut rows = rows;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = match (more, rows.last()) {
        (true, Some(r)) => Some(encode_cursor(
            &r.published_at_ms.unwrap_or(0).to_string(),
            &r.id,
        )),
        _ => None,
    };
    ReviewPage {
        items: rows.iter().map(view).collect(),
        next_cursor,
    }
}

/// Published reviews about a user.
pub async fn for_user(
    state: &AppState,
    user_id: &str,
    c: Option<&str>,
) -> Result<ReviewPage, ReviewError> {
    let after = decode_key_cursor(c).map_err(|_| ReviewError::InvalidCursor)?;
    let mut conn = state.db.pool().acquire().await?;
    Ok(page(
        store::published_for_user(&mut conn, user_id, after, 20).await?,
        20,
    ))
}

/// Published buyer reviews of a listing.
pub async fn for_listing(
    state: &AppState,
    listing_id: &str,
    c: Option<&str>,
) -> Result<ReviewPage, ReviewError> {
    let after = decode_key_cursor(c).map_err(|_| ReviewError::InvalidCursor)?;
    let mut conn = state.db.pool().acquire().await?;
    Ok(page(
        store::published_for_listing(&mut conn, listing_id, after, 20).await?,
        20,
    ))
}

/// Every review about a user with private ratings (operators).
pub async fn for_operator(
    state: &AppState,
    user_id: &str,
) -> Result<Vec<PrivateReviewView>, ReviewError> {
    let mut conn = state.db.pool().acquire().await?;
    Ok(store::all_for_user(&mut conn, user_id)
        .await?
        .iter()
        .map(private_view)
        .collect())
}

/// Publishes reviews whose window ended (run by the timer worker) and refreshes the sellers'
/// reputation. Returns how many sellers were touched.
pub async fn publish_due(state: &AppState, now: Millis) -> Result<u64, ReviewError> {
    let mut tx = state.db.begin().await?;
    let touched = store::publish_due(&mut tx, now).await?;
    tx.commit().await?;
    let mut sellers: Vec<String> = Vec::new();
    for (listing_id, _reviewee) in &touched {
        let mut conn = state.db.pool().acquire().await?;
        if let Some(l) = crate::listings::store::listing_by_id(&mut conn, listing_id).await?
            && !sellers.contains(&l.seller_id)
        {
            sellers.push(l.seller_id);
        }
    }
    for s in &sellers {
        crate::reputation::refresh_later(state, s);
    }
    Ok(sellers.len() as u64)
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;

    fn variant(e: &ReviewError) -> usize {
        match e {
            ReviewError::Invalid(_) => 0,
            ReviewError::Guard(_) => 1,
            ReviewError::Order(_) => 2,
            ReviewError::NotFound => 3,
            ReviewError::Refused(_) => 4,
            ReviewError::AlreadyReviewed => 5,
            ReviewError::RevieweeOnly => 6,
            ReviewError::AlreadyReplied => 7,
            ReviewError::InvalidCursor => 8,
            ReviewError::Db(_) => 9,
        }
    }

    #[test]
    fn every_review_error_maps_to_its_status_and_code() {
        let invalid = model::parse(0, "", 6).expect_err("out of range");
        let samples = vec![
            (
                ReviewError::Invalid(invalid),
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
            ),
            (
                ReviewError::Guard(GuardError::Blocked {
                    findings: vec![],
                    strikes_24h: 2,
                    restricted_until: None,
                    labels: vec!["メールアドレス".into()],
                }),
                StatusCode::UNPROCESSABLE_ENTITY,
                "off_platform_contact",
            ),
            (
                ReviewError::Order(OrderError::NotFound),
                StatusCode::NOT_FOUND,
                "not_found",
            ),
            (ReviewError::NotFound, StatusCode::NOT_FOUND, "not_found"),
            (
                ReviewError::Refused(model::Refusal::NotFinished),
                StatusCode::CONFLICT,
                "order_not_finished",
            ),
            (
                ReviewError::Refused(model::Refusal::NotEligible),
                StatusCode::FORBIDDEN,
                "review_not_allowed",
            ),
            (
                ReviewError::Refused(model::Refusal::WindowClosed),
                StatusCode::CONFLICT,
                "review_window_closed",
            ),
            (
                ReviewError::AlreadyReviewed,
                StatusCode::CONFLICT,
                "already_reviewed",
            ),
            (
                ReviewError::RevieweeOnly,
                StatusCode::FORBIDDEN,
                "reviewee_only",
            ),
            (
                ReviewError::AlreadyReplied,
                StatusCode::CONFLICT,
                "already_replied",
            ),
            (
                ReviewError::InvalidCursor,
                StatusCode::BAD_REQUEST,
                "invalid_cursor",
            ),
            (
                ReviewError::Db(sqlx::Error::RowNotFound),
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
            ),
        ];
        crate::error::mapping::check(samples, variant, 10);
    }

    #[test]
    fn a_closed_window_names_its_days() {
        let e = AppError::from(ReviewError::Refused(model::Refusal::WindowClosed));
        assert_eq!(
            e.message(),
            format!(
                "評価の期間（取引終了から{}日）を過ぎています。",
                model::WINDOW_DAYS
            )
        );
        assert!(e.message().contains("14日"), "{}", e.message());
    }
}
