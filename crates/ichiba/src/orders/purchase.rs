//! The purchase (購入): the listing as it is on sale, its options and the buyer's points are
//! checked, the card is charged for what points do not pay, and the order opens with its talk
//! room, escrow and timers in one transaction. A repeated idempotency key answers with the first
//! order and charges nothing again.

use std::collections::BTreeSet;

use super::model::{self, Actor, Order};
use super::policy::Policy;
use super::{OrderError, apply_effects, order_events, store};
use crate::clock::Millis;
use crate::db::new_id;
use crate::idempotency::{self, IdempotencyKey};
use crate::ledger::AccountRef;
use crate::listings::ListingStatus;
use crate::messages;
use crate::state::AppState;

/// A purchase as requested.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
pub struct PurchaseRequest {
    /// The listing to buy.
    pub listing_id: String,
    /// Paid options of the listing.
    #[serde(default)]
    pub option_ids: Vec<String>,
    /// Points to spend (1 pt = 1 yen); they pay first.
    #[serde(default)]
    pub use_points: i64,
    /// Payment token for the gateway (`tok_decline` makes the sandbox decline).
    #[serde(default)]
    pub payment_token: Option<String>,
}

/// Buys a listing and returns the new order. Honours an idempotency key: the same key and body
/// returns the first result (the order as it was bought) and charges nothing again.
///
/// Errors: [`OrderError::NotFound`] for a listing that is not on sale;
/// [`OrderError::UnknownOption`], [`OrderError::NegativePoints`] and
/// [`OrderError::InsufficientPoints`]; [`OrderError::Deal`] for the buyer's own listing;
/// [`OrderError::Payment`] when the card is declined; [`OrderError::Guard`] while a sanction blocks
/// purchases; [`OrderError::Idempotency`] for a key reused with another body.
#[tracing::instrument(skip_all, fields(user_id = %buyer_id, listing_id = %req.listing_id))]
pub async fn purchase(
    state: &AppState,
    buyer_id: &str,
    req: &PurchaseRequest,
    key: Option<IdempotencyKey>,
    now: Millis,
) -> Result<Order, OrderError> {
    // The gateway's own idempotency key: the client's key when there is one.
    let charge_key = key.as_ref().map(|k| format!("{}:{}", k.user_id, k.key));
    let claim = match idempotency::begin::<serde_json::Value>(&state.db, key, now).await? {
        idempotency::Begun::Replay(earlier) => return earlier_purchase(state, earlier).await,
        idempotency::Begun::Fresh(claim) => claim,
    };
    crate::guard::ensure_allowed(state, buyer_id, crate::guard::Activity::Purchase).await?;
    let mut conn = state.db.pool().acquire().await?;
    let listing = crate::listings::store::listing_by_id(&mut conn, &req.listing_id)
        .await?
        .filter(|l| ListingStatus::parse(&l.status) == Some(ListingStatus::Active))
        .ok_or(OrderError::NotFound)?;
    let available =
        crate::listings::store::options_of(&mut conn, std::slice::from_ref(&listing.id)).await?;
    let wanted: BTreeSet<&String> = req.option_ids.iter().collect();
    let chosen: Vec<_> = available
        .iter()
        .filter(|o| wanted.contains(&o.id))
        .collect();
    if chosen.len() != wanted.len() {
        return Err(OrderError::UnknownOption);
    }
    if req.use_points < 0 {
        return Err(OrderError::NegativePoints);
    }
    let points =
        crate::ledger::store::balance(&mut conn, &AccountRef::Points(buyer_id.to_string())).await?;
    if req.use_points > points {
        return Err(OrderError::InsufficientPoints);
    }
    drop(conn);
    let order_id = new_id();
    let decision = model::purchase(
        model::PurchaseInput {
            order_id: order_id.clone(),
            listing_id: listing.id.clone(),
            buyer_id: buyer_id.to_string(),
            seller_id: listing.seller_id.clone(),
            title: listing.title.clone(),
            price_yen: listing.price_yen,
            options: chosen.iter().map(|o| (o.price_yen, o.extra_days)).collect(),
            delivery_days: listing.delivery_days,
            points_used: req.use_points,
        },
        Policy::default(),
        now,
    )?;
    let charge = decision.order.charged_yen();
    let charge_key = charge_key.unwrap_or_else(|| order_id.clone());
    if charge > 0 {
        // Declined or unreachable: nothing has been written yet.
        state
            .gateway
            .charge(charge, req.payment_token.as_deref(), &charge_key)
            .await?;
    }
    let mut tx = state.db.begin().await?;
    store::insert_order(&mut tx, &decision.order).await?;
    for (i, o) in chosen.iter().enumerate() {
        store::insert_option(
            &mut tx,
            &order_id,
            i64::try_from(i).unwrap_or(0),
            &o.id,
            &o.title,
            o.price_yen,
            o.extra_days,
        )
        .await?;
    }
    let thread = messages::store::insert_thread(
        &mut tx,
        "order",
        Some(&order_id),
        buyer_id,
        &listing.seller_id,
        now,
    )
    .await?;
    let mut events = apply_effects(
        &mut tx,
        &thread,
        &decision,
        Actor::Buyer,
        Some(buyer_id),
        now,
    )
    .await?;
    claim.commit(tx, &decision.order).await?;
    events.extend(order_events(&decision.order, now));
    state.hub.publish(events).await;
    Ok(decision.order)
}

/// The order an earlier purchase with the same key made. Results recorded before orders were
/// stored whole hold the order's JSON view: those are read back by their id.
async fn earlier_purchase(
    state: &AppState,
    earlier: serde_json::Value,
) -> Result<Order, OrderError> {
    if let Ok(order) = serde_json::from_value::<Order>(earlier.clone()) {
        return Ok(order);
    }
    let id = earlier["id"]
        .as_str()
        .ok_or(OrderError::UnreadablePurchase)?;
    let mut conn = state.db.pool().acquire().await?;
    store::order_by_id(&mut conn, id)
        .await?
        .ok_or(OrderError::NotFound)
}
