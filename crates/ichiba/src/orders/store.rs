//! All SQL of orders: insert, load, compare-and-set update, options snapshot, history, timers.

use sqlx::AnyConnection;

use super::model::{CancelReason, Cancellation, Fault, Order, OrderState, TimerKind};
use super::policy::Policy;
use crate::clock::Millis;
use crate::db::{new_id, params};

#[derive(Debug, sqlx::FromRow)]
struct OrderRow {
    id: String,
    listing_id: String,
    buyer_id: String,
    seller_id: String,
    title: String,
    state: String,
    version: i64,
    policy_json: String,
    price_yen: i64,
    options_yen: i64,
    buyer_fee_yen: i64,
    total_yen: i64,
    points_used: i64,
    purchased_at_ms: i64,
    first_reply_deadline_ms: i64,
    first_replied_at_ms: Option<i64>,
    due_at_ms: i64,
    delivered_at_ms: Option<i64>,
    accept_deadline_ms: Option<i64>,
    completed_at_ms: Option<i64>,
    cancelled_at_ms: Option<i64>,
    send_backs_used: i64,
    late: i64,
    last_buyer_message_ms: Option<i64>,
    last_seller_message_ms: Option<i64>,
    cancel_reason_code: Option<String>,
    cancel_fault: Option<String>,
    cancel_by: Option<String>,
    settlement_seller_yen: Option<i64>,
    pending_cancel_json: Option<String>,
}

const COLUMNS: &str = "id, listing_id, buyer_id, seller_id, title, state, version, policy_json, \
    price_yen, options_yen, buyer_fee_yen, total_yen, points_used, purchased_at_ms, \
    first_reply_deadline_ms, first_replied_at_ms, due_at_ms, delivered_at_ms, accept_deadline_ms, \
    completed_at_ms, cancelled_at_ms, send_backs_used, late, last_buyer_message_ms, \
    last_seller_message_ms, cancel_reason_code, cancel_fault, cancel_by, settlement_seller_yen, \
    pending_cancel_json";

/// A stored order that cannot be read back (a bug or manual tampering).
fn corrupt(what: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("corrupt order row: {what}").into())
}

fn to_order(r: OrderRow) -> Result<Order, sqlx::Error> {
    let policy: Policy = serde_json::from_str(&r.policy_json).map_err(|_| corrupt("policy"))?;
    let cancellation = match (r.cancel_reason_code, r.cancel_fault, r.cancel_by) {
        (Some(reason), Some(fault), Some(by)) => Some(Cancellation {
            reason: CancelReason::parse(&reason).ok_or_else(|| corrupt("cancel reason"))?,
            fault: Fault::parse(&fault).ok_or_else(|| corrupt("fault"))?,
            by: serde_json::from_value(serde_json::Value::String(by))
                .map_err(|_| corrupt("cancel by"))?,
        }),
        _ => None,
    };
    let pending_cancel = match r.pending_cancel_json {
        Some(j) => Some(serde_json::from_str(&j).map_err(|_| corrupt("pending cancel"))?),
        None => None,
    };
    Ok(Order {
        state: OrderState::parse(&r.state).ok_or_else(|| corrupt("state"))?,
        id: r.id,
        listing_id: r.listing_id,
        buyer_id: r.buyer_id,
        seller_id: r.seller_id,
        title: r.title,
        version: r.version,
        policy,
        price_yen: r.price_yen,
        options_yen: r.options_yen,
        buyer_fee_yen: r.buyer_fee_yen,
        total_yen: r.total_yen,
        points_used: r.points_used,
        purchased_at: r.purchased_at_ms,
        first_reply_deadline: r.first_reply_deadline_ms,
        first_replied_at: r.first_replied_at_ms,
        due_at: r.due_at_ms,
        delivered_at: r.delivered_at_ms,
        accept_deadline: r.accept_deadline_ms,
        completed_at: r.completed_at_ms,
        cancelled_at: r.cancelled_at_ms,
        send_backs_used: r.send_backs_used,
        late: r.late == 1,
        last_buyer_message_at: r.last_buyer_message_ms,
        last_seller_message_at: r.last_seller_message_ms,
        cancellation,
        pending_cancel,
        settlement_seller_yen: r.settlement_seller_yen,
    })
}

/// One order by id.
pub async fn order_by_id(conn: &mut AnyConnection, id: &str) -> Result<Option<Order>, sqlx::Error> {
    let row: Option<OrderRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM orders WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(to_order).transpose()
}

/// A page of a user's orders, newest first.
pub async fn orders_of_user(
    conn: &mut AnyConnection,
    user_id: &str,
    as_buyer: Option<bool>,
    state: Option<OrderState>,
    before: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<Order>, sqlx::Error> {
    let who = match as_buyer {
        Some(true) => "buyer_id = $1",
        Some(false) => "seller_id = $1",
        None => "(buyer_id = $1 OR seller_id = $1)",
    };
    let (at, id) = before.unwrap_or((i64::MAX, "~".to_string()));
    let sql = format!(
        "SELECT {COLUMNS} FROM orders WHERE {who} AND ($2 = '' OR state = $2) \
         AND (purchased_at_ms < $3 OR (purchased_at_ms = $3 AND id < $4)) \
         ORDER BY purchased_at_ms DESC, id DESC LIMIT $5"
    );
    let rows: Vec<OrderRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(state.map(|s| s.as_str()).unwrap_or(""))
        .bind(at)
        .bind(id)
        .bind(limit + 1)
        .fetch_all(conn)
        .await?;
    rows.into_iter().map(to_order).collect()
}

fn pending_json(o: &Order) -> Option<String> {
    o.pending_cancel
        .as_ref()
        .and_then(|p| serde_json::to_string(p).ok())
}

/// Inserts a new order.
pub async fn insert_order(conn: &mut AnyConnection, o: &Order) -> Result<(), sqlx::Error> {
    let policy = serde_json::to_string(&o.policy).map_err(|e| sqlx::Error::Encode(e.into()))?;
    sqlx::query(
        "INSERT INTO orders (id, listing_id, buyer_id, seller_id, title, state, version, policy_json, \
         price_yen, options_yen, buyer_fee_yen, total_yen, points_used, purchased_at_ms, \
         first_reply_deadline_ms, due_at_ms, send_backs_used, late) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 0, 0)",
    )
    .bind(&o.id)
    .bind(&o.listing_id)
    .bind(&o.buyer_id)
    .bind(&o.seller_id)
    .bind(&o.title)
    .bind(o.state.as_str())
    .bind(o.version)
    .bind(policy)
    .bind(o.price_yen)
    .bind(o.options_yen)
    .bind(o.buyer_fee_yen)
    .bind(o.total_yen)
    .bind(o.points_used)
    .bind(o.purchased_at)
    .bind(o.first_reply_deadline)
    .bind(o.due_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes the new order over the old one if nobody changed it meanwhile (same state and
/// version). Returns whether it did.
pub async fn update_order(
    conn: &mut AnyConnection,
    old: &Order,
    new: &Order,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE orders SET state = $3, version = $4, first_replied_at_ms = $5, due_at_ms = $6, \
         delivered_at_ms = $7, accept_deadline_ms = $8, completed_at_ms = $9, cancelled_at_ms = $10, \
         send_backs_used = $11, late = $12, last_buyer_message_ms = $13, last_seller_message_ms = $14, \
         cancel_reason_code = $15, cancel_fault = $16, cancel_by = $17, settlement_seller_yen = $18, \
         pending_cancel_json = $19 \
         WHERE id = $1 AND version = $2 AND state = $20",
    )
    .bind(&new.id)
    .bind(old.version)
    .bind(new.state.as_str())
    .bind(new.version)
    .bind(new.first_replied_at)
    .bind(new.due_at)
    .bind(new.delivered_at)
    .bind(new.accept_deadline)
    .bind(new.completed_at)
    .bind(new.cancelled_at)
    .bind(new.send_backs_used)
    .bind(i16::from(new.late))
    .bind(new.last_buyer_message_at)
    .bind(new.last_seller_message_at)
    .bind(new.cancellation.as_ref().map(|c| c.reason.as_str()))
    .bind(new.cancellation.as_ref().map(|c| c.fault.as_str()))
    .bind(new.cancellation.as_ref().map(|c| c.by.as_str()))
    .bind(new.settlement_seller_yen)
    .bind(pending_json(new))
    .bind(old.state.as_str())
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Stores the chosen options.
pub async fn insert_option(
    conn: &mut AnyConnection,
    order_id: &str,
    position: i64,
    option_id: &str,
    title: &str,
    price_yen: i64,
    extra_days: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO order_options (order_id, position, option_id, title, price_yen, extra_days) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(order_id)
    .bind(position)
    .bind(option_id)
    .bind(title)
    .bind(price_yen)
    .bind(extra_days)
    .execute(conn)
    .await?;
    Ok(())
}

/// Appends a history entry.
pub async fn insert_event(
    conn: &mut AnyConnection,
    order_id: &str,
    now: Millis,
    actor: &str,
    actor_id: Option<&str>,
    kind: &str,
    detail: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO order_events (id, order_id, at_ms, actor, actor_id, kind, detail_json) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(new_id())
    .bind(order_id)
    .bind(now)
    .bind(actor)
    .bind(actor_id.map(str::to_string))
    .bind(kind)
    .bind(detail.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// A history entry.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub at_ms: i64,
    pub actor: String,
    pub kind: String,
    pub detail_json: String,
}

/// The order's history, oldest first.
pub async fn events_of(
    conn: &mut AnyConnection,
    order_id: &str,
) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT at_ms, actor, kind, detail_json FROM order_events WHERE order_id = $1 \
         ORDER BY at_ms, id",
    )
    .bind(order_id)
    .fetch_all(conn)
    .await
}

/// Schedules timers on the order, all in one statement.
pub async fn insert_timers(
    conn: &mut AnyConnection,
    order_id: &str,
    timers: &[(TimerKind, Millis)],
) -> Result<(), sqlx::Error> {
    if timers.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO timers (id, kind, due_at_ms, order_id, done, lease_until_ms, attempts) \
         VALUES {}",
        params::rows(2, timers.len(), 3, "$1, 0, 0, 0")
    );
    let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(order_id);
    for (kind, due_at) in timers {
        insert = insert.bind(new_id()).bind(kind.as_str()).bind(*due_at);
    }
    insert.execute(conn).await?;
    Ok(())
}

/// Marks the pending timers of `kinds` on the order done: the transition in the same
/// transaction made them pointless.
pub async fn clear_timers(
    conn: &mut AnyConnection,
    order_id: &str,
    kinds: &[TimerKind],
) -> Result<(), sqlx::Error> {
    if kinds.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE timers SET done = 1 WHERE order_id = $1 AND done = 0 AND kind IN ({})",
        params::list(2, kinds.len())
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(order_id);
    for kind in kinds {
        q = q.bind(kind.as_str());
    }
    q.execute(conn).await?;
    Ok(())
}

// ---- Timers: due rows, lease claims, completion ---------------------------------------------

/// A timer row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TimerRow {
    pub id: String,
    pub order_id: String,
    pub kind: String,
    pub due_at_ms: i64,
    pub lease_until_ms: i64,
}

/// Timers due at `now` whose lease (if any) has run out, oldest first.
pub async fn due(
    conn: &mut AnyConnection,
    now: Millis,
    limit: i64,
) -> Result<Vec<TimerRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, order_id, kind, due_at_ms, lease_until_ms FROM timers \
         WHERE done = 0 AND due_at_ms <= $1 AND lease_until_ms <= $1 \
         ORDER BY due_at_ms, id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Timers of one order due at `now` whose lease has run out, oldest first.
pub async fn due_for_order(
    conn: &mut AnyConnection,
    order_id: &str,
    now: Millis,
) -> Result<Vec<TimerRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, order_id, kind, due_at_ms, lease_until_ms FROM timers \
         WHERE order_id = $1 AND done = 0 AND due_at_ms <= $2 AND lease_until_ms <= $2 \
         ORDER BY due_at_ms, id",
    )
    .bind(order_id)
    .bind(now)
    .fetch_all(conn)
    .await
}

/// Takes the lease if nobody took it since it was read (compare-and-set on the old lease).
pub async fn claim(
    conn: &mut AnyConnection,
    id: &str,
    old_lease: Millis,
    new_lease: Millis,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE timers SET lease_until_ms = $3, attempts = attempts + 1 \
         WHERE id = $1 AND done = 0 AND lease_until_ms = $2",
    )
    .bind(id)
    .bind(old_lease)
    .bind(new_lease)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Marks a timer fired.
pub async fn mark_done(conn: &mut AnyConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE timers SET done = 1 WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

// ---- Read model: 取引管理 ------------------------------------------------------------------

/// A row of 取引管理: the order, the other party's display name (empty when the account is
/// gone) and how many messages of the order's talk room the viewer has not read.
#[derive(Debug, Clone)]
pub struct OrderListRow {
    /// The order.
    pub order: Order,
    /// The other party's display name.
    pub other_name: String,
    /// Unread messages (notices included) of the order's talk room for the viewer.
    pub unread: i64,
}

#[derive(Debug, sqlx::FromRow)]
struct OrderListRecord {
    #[sqlx(flatten)]
    order: OrderRow,
    other_name: String,
    unread: i64,
}

/// A page of a user's orders as buyer (`as_buyer`) or as seller, newest first and before the
/// keyset `before` like [`orders_of_user`], each with the other party's name and the user's
/// unread count, in one statement. Returns up to `limit + 1` rows: the extra one tells that
/// there is a next page.
pub async fn order_list_of_user(
    conn: &mut AnyConnection,
    user_id: &str,
    as_buyer: bool,
    before: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<OrderListRow>, sqlx::Error> {
    let (mine, other) = if as_buyer {
        ("buyer_id", "seller_id")
    } else {
        ("seller_id", "buyer_id")
    };
    let (at, id) = before.unwrap_or((i64::MAX, "~".to_string()));
    // Unread as in `messages::store::unread_count`: not written by the viewer (notices count)
    // and after the viewer's last read; the subqueries keep the outer columns unqualified.
    let sql = format!(
        "SELECT {COLUMNS}, \
         COALESCE((SELECT u.display_name FROM users u WHERE u.id = orders.{other}), '') \
           AS other_name, \
         (SELECT COUNT(*) FROM threads t JOIN messages m ON m.thread_id = t.id \
           WHERE t.order_id = orders.id AND (m.author_id IS NULL OR m.author_id <> $1) \
           AND m.seq > COALESCE((SELECT r.last_read_seq FROM thread_reads r \
                                 WHERE r.thread_id = t.id AND r.user_id = $1), 0)) AS unread \
         FROM orders WHERE {mine} = $1 \
         AND (purchased_at_ms < $2 OR (purchased_at_ms = $2 AND id < $3)) \
         ORDER BY purchased_at_ms DESC, id DESC LIMIT $4"
    );
    let rows: Vec<OrderListRecord> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(at)
        .bind(id)
        .bind(limit + 1)
        .fetch_all(conn)
        .await?;
    rows.into_iter()
        .map(|r| {
            Ok(OrderListRow {
                order: to_order(r.order)?,
                other_name: r.other_name,
                unread: r.unread,
            })
        })
        .collect()
}

/// The display names of an order's buyer and seller in one query; `None` for an unknown order.
pub async fn party_names(
    conn: &mut AnyConnection,
    order_id: &str,
) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT b.display_name, s.display_name FROM orders o \
         JOIN users b ON b.id = o.buyer_id JOIN users s ON s.id = o.seller_id \
         WHERE o.id = $1",
    )
    .bind(order_id)
    .fetch_optional(conn)
    .await
}
