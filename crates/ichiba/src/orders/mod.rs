//! Orders (取引): the talk room, delivery, acceptance, send-back, cancel requests, operator actions
//! (the purchase is in `purchase.rs`, timers in `timers.rs`). Every command follows one path: open
//! a transaction, load the order, resolve the caller's role, call the pure [`model::decide`], and
//! let `commit_decision` write it with a compare-and-set on the order's version, commit, and
//! publish the events.

pub mod actions;
mod engine;
mod error;
pub mod http;
pub mod model;
mod money;
pub mod policy;
#[cfg(test)]
mod props;
mod purchase;
mod rules;
pub mod store;
pub mod texts;
pub mod timers;
pub mod view;

pub use error::OrderError;
pub use model::{Actor, CancelReason, Command, DealError, Decision, Order, OrderState, TimerKind};
pub use policy::Policy;
pub use purchase::{PurchaseRequest, purchase};
pub use view::{CancelRequestView, OrderView};

use crate::auth::Identity;
use crate::clock::Millis;
use crate::db::new_id;
use crate::events::{Event, EventKind};
use crate::messages::{self, ThreadRow};
use crate::notifications;
use crate::state::AppState;

/// A message to post together with a command (talk-room text, the delivery message, a
/// send-back reason).
#[derive(Debug, Clone)]
pub struct Post {
    /// `text` or `delivery`.
    pub kind: &'static str,
    /// The text.
    pub body: String,
    /// Attachment ids (uploaded by the poster).
    pub attachment_ids: Vec<String>,
}

/// Applies a decision's effects (ledger, timers, history, system message, notifications) in the
/// caller's transaction; returns the events to publish after commit.
async fn apply_effects(
    tx: &mut sqlx::AnyConnection,
    thread: &ThreadRow,
    d: &Decision,
    actor: Actor,
    actor_id: Option<&str>,
    now: Millis,
) -> Result<Vec<Event>, OrderError> {
    let o = &d.order;
    let mut events = vec![];
    for t in &d.transfers {
        crate::ledger::store::apply(tx, t, now).await?;
    }
    store::clear_timers(tx, &o.id, &d.clear_timers).await?;
    store::insert_timers(tx, &o.id, &d.timers).await?;
    for (kind, detail) in &d.history {
        store::insert_event(tx, &o.id, now, actor.as_str(), actor_id, kind, detail).await?;
    }
    if let Some(m) = d.system_message {
        let text = texts::system_message(o, m);
        let (_, ev) = messages::insert(tx, thread, None, "system", &text, &[], now).await?;
        events.extend(ev);
    }
    for n in &d.notices {
        let user = o.user_of(n.to).to_string();
        let t = texts::notice(o, n.to, n.kind);
        events.push(
            notifications::create(tx, &user, t.kind, &t.title, &t.body, Some(&o.id), now).await?,
        );
    }
    Ok(events)
}

/// The `order` events of a change: each party gets the order as their side sees it, with what
/// they may do next.
fn order_events(o: &Order, now: Millis) -> Vec<Event> {
    [(&o.buyer_id, Actor::Buyer), (&o.seller_id, Actor::Seller)]
        .into_iter()
        .map(|(u, side)| Event {
            user_id: u.clone(),
            kind: EventKind::Order,
            data: serde_json::to_value(OrderView::new(o, Some(side), now)).unwrap_or_default(),
        })
        .collect()
}

/// Who the caller is on this order: a party, an operator (for operator commands and reads), or
/// nobody — reported as 404 so an order's existence does not leak.
fn actor_for(order: &Order, who: &Identity, operator_command: bool) -> Result<Actor, OrderError> {
    match order.side_of(&who.user_id) {
        Some(model::Side::Buyer) if !operator_command => Ok(Actor::Buyer),
        Some(model::Side::Seller) if !operator_command => Ok(Actor::Seller),
        _ if who.is_operator => Ok(Actor::Operator),
        Some(model::Side::Buyer) => Ok(Actor::Buyer),
        Some(model::Side::Seller) => Ok(Actor::Seller),
        None => Err(OrderError::NotFound),
    }
}

fn is_operator_command(c: &Command) -> bool {
    matches!(
        c,
        Command::OperatorCancel | Command::OperatorComplete | Command::OperatorSettle { .. }
    )
}

/// The result of a command: the order after it and the message posted with it, if any.
#[derive(Debug, Clone)]
pub struct Acted {
    /// The order after the command.
    pub order: Order,
    /// The talk-room message posted with the command.
    pub message: Option<messages::MessageView>,
}

/// Runs a command by a user (party or operator), with an optional message posted in the talk
/// room in the same transaction.
#[tracing::instrument(skip_all, fields(order_id = %order_id, user_id = %who.user_id, command = command.name()))]
pub async fn act(
    state: &AppState,
    who: &Identity,
    order_id: &str,
    command: Command,
    post: Option<Post>,
    now: Millis,
) -> Result<Acted, OrderError> {
    timers::catch_up(state, order_id, now).await?;
    let mut tx = state.db.begin().await?;
    let order = store::order_by_id(&mut tx, order_id)
        .await?
        .ok_or(OrderError::NotFound)?;
    let actor = actor_for(&order, who, is_operator_command(&command))?;
    let decision = model::decide(&order, &command, actor, now)?;
    let message = commit_decision(
        state,
        tx,
        &order,
        &decision,
        actor,
        Some(&who.user_id),
        post,
        now,
    )
    .await?;
    Ok(Acted {
        order: decision.order,
        message,
    })
}

/// The one way a decision about `order` takes effect: in `tx`, the compare-and-set write of the
/// order (unless unchanged), the message posted with the command, the decision's effects; then
/// commit, publish the events, and refresh the seller's reputation when the order just ended.
/// Returns the posted message.
///
/// Errors: [`OrderError::ConcurrentUpdate`] when another command changed the order first (nothing
/// is written); [`OrderError::NotFound`] when the order has no talk room.
#[allow(clippy::too_many_arguments)]
async fn commit_decision(
    state: &AppState,
    mut tx: crate::db::Tx,
    order: &Order,
    decision: &Decision,
    actor: Actor,
    actor_id: Option<&str>,
    post: Option<Post>,
    now: Millis,
) -> Result<Option<messages::MessageView>, OrderError> {
    let thread = messages::store::thread_of_order(&mut tx, &order.id)
        .await?
        .ok_or(OrderError::NotFound)?;
    if !decision.unchanged && !store::update_order(&mut tx, order, &decision.order).await? {
        return Err(OrderError::ConcurrentUpdate);
    }
    let mut events = vec![];
    let mut message = None;
    if let Some(p) = post {
        let (view, ev) = messages::insert(
            &mut tx,
            &thread,
            actor_id,
            p.kind,
            &p.body,
            &p.attachment_ids,
            now,
        )
        .await?;
        events.extend(ev);
        message = Some(view);
    }
    events.extend(apply_effects(&mut tx, &thread, decision, actor, actor_id, now).await?);
    tx.commit().await?;
    if !decision.unchanged {
        events.extend(order_events(&decision.order, now));
    }
    state.hub.publish(events).await;
    if decision.order.state.is_terminal() && !order.state.is_terminal() {
        crate::reputation::refresh_later(state, &order.seller_id);
    }
    Ok(message)
}

/// Checks a talk-room text (length, then the contact guard in `context`) and makes the post of
/// `kind` that carries it.
async fn screened_post(
    state: &AppState,
    who: &Identity,
    context: crate::guard::Context,
    field: &str,
    kind: &'static str,
    text: &str,
    attachment_ids: Vec<String>,
) -> Result<Post, OrderError> {
    let text = messages::parse_body(text).map_err(OrderError::Invalid)?;
    crate::guard::screen(
        state,
        Some(&who.user_id),
        &context,
        &[(field, text.as_str())],
    )
    .await?;
    Ok(Post {
        kind,
        body: text.as_str().to_string(),
        attachment_ids,
    })
}

/// Posts a message in the talk room after the contact guard passed it. The seller's first
/// message starts the work (作業中).
pub async fn post_text(
    state: &AppState,
    who: &Identity,
    order_id: &str,
    body: &str,
    attachment_ids: Vec<String>,
) -> Result<messages::MessageView, OrderError> {
    let context = crate::guard::Context::OrderMessage {
        order_id: order_id.to_string(),
    };
    let post = screened_post(state, who, context, "body", "text", body, attachment_ids).await?;
    let now = state.clock.now_ms();
    let acted = act(state, who, order_id, Command::PostMessage, Some(post), now).await?;
    acted.message.ok_or(OrderError::NotFound)
}

/// The formal delivery (正式な納品) after the contact guard passed its text; the buyer's 72 hours
/// start.
pub async fn deliver(
    state: &AppState,
    who: &Identity,
    order_id: &str,
    body: &str,
    attachment_ids: Vec<String>,
) -> Result<Order, OrderError> {
    let context = crate::guard::Context::Delivery {
        order_id: order_id.to_string(),
    };
    let post = screened_post(
        state,
        who,
        context,
        "body",
        "delivery",
        body,
        attachment_ids,
    )
    .await?;
    let now = state.clock.now_ms();
    Ok(act(state, who, order_id, Command::Deliver, Some(post), now)
        .await?
        .order)
}

/// Sends the delivery back (差し戻し) with a reason, posted in the talk room.
pub async fn send_back(
    state: &AppState,
    who: &Identity,
    order_id: &str,
    reason: &str,
) -> Result<Order, OrderError> {
    let context = crate::guard::Context::SendBack {
        order_id: order_id.to_string(),
    };
    let mut post = screened_post(state, who, context, "reason", "text", reason, vec![]).await?;
    post.body = format!("【差し戻し】{}", post.body);
    let now = state.clock.now_ms();
    Ok(
        act(state, who, order_id, Command::SendBack, Some(post), now)
            .await?
            .order,
    )
}

/// Files a cancel request (the other party has 24 hours to answer); the note passes the contact
/// guard first.
pub async fn file_cancel(
    state: &AppState,
    who: &Identity,
    order_id: &str,
    reason_code: &str,
    note: Option<&str>,
) -> Result<Order, OrderError> {
    let mut f = crate::error::FieldErrors::new();
    let reason = CancelReason::parse(reason_code);
    if reason.is_none() {
        f.add(
            "reason_code",
            "unknown_reason",
            "キャンセル理由が正しくありません。",
        );
    }
    let note = note.unwrap_or_default().trim().to_string();
    if note.chars().count() > 1000 {
        f.add("note", "too_long", "補足は1000文字以内で入力してください。");
    }
    let Some(reason) = reason.filter(|_| f.is_empty()) else {
        return Err(OrderError::Invalid(f));
    };
    let context = crate::guard::Context::CancelNote {
        order_id: order_id.to_string(),
    };
    crate::guard::screen(
        state,
        Some(&who.user_id),
        &context,
        &[("note", note.as_str())],
    )
    .await?;
    let command = Command::FileCancel {
        request_id: new_id(),
        reason,
        note,
    };
    Ok(
        act(state, who, order_id, command, None, state.clock.now_ms())
            .await?
            .order,
    )
}

/// An order the caller may see (party or operator), else 404.
pub async fn get(state: &AppState, who: &Identity, order_id: &str) -> Result<Order, OrderError> {
    let mut conn = state.db.pool().acquire().await?;
    let order = store::order_by_id(&mut conn, order_id)
        .await?
        .ok_or(OrderError::NotFound)?;
    actor_for(&order, who, false)?;
    Ok(order)
}

/// A page of orders, newest first.
#[derive(Debug, Clone)]
pub struct OrderList {
    /// The orders of the page.
    pub orders: Vec<Order>,
    /// The cursor of the next page, if there is one.
    pub next_cursor: Option<String>,
}

/// A page of the caller's orders (as buyer, seller or both), newest first.
pub async fn list(
    state: &AppState,
    user_id: &str,
    as_buyer: Option<bool>,
    only: Option<OrderState>,
    cursor: Option<&str>,
) -> Result<OrderList, OrderError> {
    let before = crate::cursor::decode_key_cursor(cursor).map_err(|_| OrderError::InvalidCursor)?;
    let limit = 30;
    let mut conn = state.db.pool().acquire().await?;
    let mut orders =
        store::orders_of_user(&mut conn, user_id, as_buyer, only, before, limit).await?;
    let more = orders.len() as i64 > limit;
    orders.truncate(limit as usize);
    let next_cursor = match (more, orders.last()) {
        (true, Some(o)) => Some(crate::cursor::encode_cursor(
            &o.purchased_at.to_string(),
            &o.id,
        )),
        _ => None,
    };
    Ok(OrderList {
        orders,
        next_cursor,
    })
}

/// The history of an order the caller may see: due-date changes, cancel requests, operator
/// actions, oldest first.
pub async fn history(
    state: &AppState,
    who: &Identity,
    order_id: &str,
) -> Result<Vec<http::HistoryEntry>, OrderError> {
    get(state, who, order_id).await?;
    let mut conn = state.db.pool().acquire().await?;
    Ok(store::events_of(&mut conn, order_id)
        .await?
        .into_iter()
        .map(|e| http::HistoryEntry {
            at: crate::clock::to_rfc3339(e.at_ms),
            actor: e.actor,
            kind: e.kind,
            detail: serde_json::from_str(&e.detail_json).unwrap_or_default(),
        })
        .collect())
}

/// The talk room of an order the caller may see.
pub async fn talk_room(
    state: &AppState,
    who: &Identity,
    order_id: &str,
) -> Result<(Order, ThreadRow), OrderError> {
    let order = get(state, who, order_id).await?;
    let mut conn = state.db.pool().acquire().await?;
    let thread = messages::store::thread_of_order(&mut conn, order_id)
        .await?
        .ok_or(OrderError::NotFound)?;
    Ok((order, thread))
}

/// A page of 取引管理 in one read: the caller's orders as buyer (`as_buyer`) or as seller,
/// newest first, each with the other party's name and the caller's unread count, and the cursor
/// of the next page. Errors: a malformed cursor.
pub async fn list_rows(
    state: &AppState,
    user_id: &str,
    as_buyer: bool,
    cursor: Option<&str>,
) -> Result<(Vec<store::OrderListRow>, Option<String>), OrderError> {
    let limit: usize = 30;
    let before = crate::cursor::decode_key_cursor(cursor).map_err(|_| OrderError::InvalidCursor)?;
    let mut conn = state.db.pool().acquire().await?;
    let mut rows =
        store::order_list_of_user(&mut conn, user_id, as_buyer, before, limit as i64).await?;
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last()
            .map(|r| crate::cursor::encode_cursor(&r.order.purchased_at.to_string(), &r.order.id))
    } else {
        None
    };
    Ok((rows, next_cursor))
}
