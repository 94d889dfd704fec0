//! The deal in the browser: purchase confirmation, 取引管理, the talk room (messages,
//! attachments, templates, the formal delivery, 承諾 / 差し戻し, cancel requests, appeals), reviews,
//! attachment downloads and the live event stream.

use std::convert::Infallible;

use askama::Template;
use axum::Router;
use axum::extract::{
    FromRequest, FromRequestParts, Multipart, Path, Query, RawQuery, Request, State,
};
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::Stream;
use serde::Deserialize;

use super::auth::Errors;
use super::format::{hours_left, jst_date, jst_datetime, remaining, yen};
use super::session::{CsrfForm, csrf_ok, request_csrf};
use super::{Layout, PageResult, Viewer, WebError, render, render_status, see_other};
use crate::auth::Identity;
use crate::error::AppError;
use crate::orders::model::Side;
use crate::orders::{self, Command, Order, OrderState, Policy, PurchaseRequest};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/listings/{id}/purchase", get(purchase_form).post(purchase))
        .route("/listings/{id}/purchase/quote", get(quote))
        .route("/orders", get(orders))
        .route("/orders/{id}", get(room))
        .route("/orders/{id}/messages", post(post_message))
        .route("/orders/{id}/accept", post(accept))
        .route("/orders/{id}/send-back", post(send_back))
        .route("/orders/{id}/due-date", post(due_date))
        .route("/orders/{id}/cancel-requests", post(file_cancel))
        .route("/orders/{id}/cancel-requests/{action}", post(answer_cancel))
        .route("/orders/{id}/review", get(review_form).post(review))
        .route("/appeals", post(appeal))
        .route("/attachments/{id}", get(download))
        .route("/events", get(events))
}

// ---------------------------------------------------------------- purchase

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

/// The amounts for a listing, chosen options and points, by the same policy the purchase uses.
fn quote_of(price_yen: i64, options_yen: i64, points: i64) -> QuoteView {
    let policy = Policy::default();
    let subtotal = price_yen + options_yen;
    let fee = policy.buyer_fee(subtotal);
    let total = subtotal + fee;
    let points = points.clamp(0, total);
    QuoteView {
        subtotal: yen(subtotal),
        fee: yen(fee),
        total: yen(total),
        points: format!("-{}", yen(points)),
        pay: yen(total - points),
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
    let listing = crate::listings::get_for(&state.db, listing_id, Some(&me.user_id))
        .await
        .map_err(AppError::from)?;
    let balance = crate::ledger::balance(&state.db, &me.user_id).await?;
    let options_yen: i64 = listing
        .options
        .iter()
        .filter(|o| selected.contains(&o.id))
        .map(|o| o.price_yen)
        .sum();
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
        use_points: points.clamp(0, balance.points),
        quote: quote_of(
            listing.price_yen,
            options_yen,
            points.clamp(0, balance.points),
        ),
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
    let listing = crate::listings::get_for(&state.db, &id, None)
        .await
        .map_err(AppError::from)?;
    let options_yen: i64 = listing
        .options
        .iter()
        .filter(|o| selected.contains(&o.id))
        .map(|o| o.price_yen)
        .sum();
    Ok(axum::Json(quote_of(listing.price_yen, options_yen, points)).into_response())
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
        crate::guard::ensure_allowed(&state, &me.user_id, crate::guard::Activity::Purchase).await?;
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
        orders::purchase(&state, &me.user_id, &req, key, state.clock.now_ms()).await
    };
    match attempt.await {
        Ok((_, order)) => {
            let order_id = order["id"].as_str().unwrap_or_default();
            Ok(see_other(
                &format!("/orders/{order_id}"),
                Some(
                    "購入が完了しました。出品者からの連絡をお待ちください（48時間以内に返信がない場合は自動でキャンセルされ、全額返金されます）。",
                ),
            ))
        }
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::NOT_FOUND => {
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

// ---------------------------------------------------------------- 取引管理

/// An order as a row of 取引管理.
struct OrderRow {
    id: String,
    title: String,
    other: String,
    status: String,
    status_class: &'static str,
    clock: String,
    total: String,
    unread: i64,
}

/// The Japanese status of an order.
fn status_label(state: OrderState) -> (&'static str, &'static str) {
    match state {
        OrderState::PendingFirstReply => ("開始待ち", "waiting"),
        OrderState::InProgress => ("進行中", "progress"),
        OrderState::Delivered => ("納品確認中", "delivered"),
        OrderState::Completed => ("完了", "done"),
        OrderState::Cancelled => ("キャンセル", "cancelled"),
    }
}

/// The clock that matters for an order now.
fn clock_of(o: &Order, now: i64) -> String {
    match o.state {
        OrderState::PendingFirstReply => format!(
            "{}で自動キャンセル（出品者の最初の返信待ち）",
            hours_left(now, o.first_reply_deadline)
        ),
        OrderState::InProgress => {
            if o.due_at < now {
                format!("お届け予定日 {}（過ぎています）", jst_date(o.due_at))
            } else {
                format!("お届け予定日 {}", jst_date(o.due_at))
            }
        }
        OrderState::Delivered => match o.accept_deadline {
            Some(d) => format!("{}で自動承諾", hours_left(now, d)),
            None => String::new(),
        },
        OrderState::Completed => o
            .completed_at
            .map(|t| format!("{} 完了", jst_date(t)))
            .unwrap_or_default(),
        OrderState::Cancelled => o
            .cancelled_at
            .map(|t| format!("{} キャンセル", jst_date(t)))
            .unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "orders.html")]
struct OrdersPage {
    layout: Layout,
    list: OrdersList,
}

/// The live list of 取引管理 on its own (what the page re-fetches on events).
#[derive(Template)]
#[template(path = "orders_list.html")]
struct OrdersFragment {
    list: OrdersList,
}

struct OrdersList {
    role: String,
    rows: Vec<OrderRow>,
}

#[derive(Debug, Default, Deserialize)]
struct OrdersParams {
    #[serde(default)]
    role: String,
    #[serde(default)]
    fragment: String,
}

async fn orders(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(p): Query<OrdersParams>,
) -> PageResult {
    let me = viewer.require()?.clone();
    let role = if p.role == "seller" {
        "seller"
    } else {
        "buyer"
    };
    let page = orders::list(&state, &me.user_id, Some(role == "buyer"), None, None).await?;
    let now = state.clock.now_ms();
    let mut rows = Vec::with_capacity(page.items.len());
    let mut conn = state.db.pool().acquire().await?;
    for view in &page.items {
        let Some(o) = orders::store::order_by_id(&mut conn, &view.id).await? else {
            continue;
        };
        let other_id = if role == "buyer" {
            &o.seller_id
        } else {
            &o.buyer_id
        };
        let other = crate::accounts::store::user_by_id(&mut conn, other_id)
            .await?
            .map(|u| u.display_name)
            .unwrap_or_default();
        let unread = match crate::messages::store::thread_of_order(&mut conn, &o.id).await? {
            Some(t) => crate::messages::store::unread_count(&mut conn, &t.id, &me.user_id).await?,
            None => 0,
        };
        let (status, status_class) = status_label(o.state);
        rows.push(OrderRow {
            id: o.id.clone(),
            title: o.title.clone(),
            other,
            status: status.into(),
            status_class,
            clock: clock_of(&o, now),
            total: yen(o.total_yen),
            unread,
        });
    }
    drop(conn);
    let list = OrdersList {
        role: role.into(),
        rows,
    };
    if p.fragment == "1" {
        return render(&OrdersFragment { list });
    }
    render(&OrdersPage {
        layout: viewer.layout("取引管理"),
        list,
    })
}

// ---------------------------------------------------------------- talk room

struct AttachmentItem {
    id: String,
    filename: String,
    size: String,
}

struct MessageItem {
    mine: bool,
    kind: String,
    author: String,
    lines: Vec<String>,
    time: String,
    attachments: Vec<AttachmentItem>,
}

struct TemplateItem {
    id: String,
    title: String,
    body: String,
}

/// A piece of the blocked text, marked when a finding covers it.
pub struct Segment {
    pub text: String,
    pub mark: bool,
}

/// A blocked post: the explanation and the text with the findings marked.
pub struct Blocked {
    pub message: String,
    pub segments: Vec<Segment>,
    pub text: String,
    pub context: String,
}

/// Splits `text` at the findings' character spans (`details.findings[].start/end`).
pub fn segments(text: &str, details: &serde_json::Value) -> Vec<Segment> {
    let chars: Vec<char> = text.chars().collect();
    let mut marked = vec![false; chars.len()];
    for f in details["findings"].as_array().into_iter().flatten() {
        let start = f["start"].as_u64().unwrap_or(0) as usize;
        let end = (f["end"].as_u64().unwrap_or(0) as usize).min(chars.len());
        for m in marked.iter_mut().take(end).skip(start) {
            *m = true;
        }
    }
    let mut out: Vec<Segment> = Vec::new();
    for (c, m) in chars.into_iter().zip(marked) {
        match out.last_mut() {
            Some(s) if s.mark == m => s.text.push(c),
            _ => out.push(Segment {
                text: c.to_string(),
                mark: m,
            }),
        }
    }
    out
}

/// The live part of the talk room on its own (what the page re-fetches on events).
#[derive(Template)]
#[template(path = "room_live.html")]
struct RoomFragment {
    live: RoomLive,
}

/// The live part of the talk room: status, clock, messages and the actions of the moment.
struct RoomLive {
    order_id: String,
    csrf: String,
    status: String,
    status_class: &'static str,
    clock: String,
    due: String,
    late: bool,
    messages: Vec<MessageItem>,
    can_accept: bool,
    can_send_back: bool,
    can_review: bool,
    can_change_due: bool,
    cancel_open: Option<CancelInfo>,
    can_file_cancel: bool,
    cancel_reasons: Vec<(String, String)>,
    total: String,
    reviewed_by_me: bool,
    due_changes: Vec<String>,
}

struct CancelInfo {
    by_me: bool,
    reason: String,
    note: String,
    expires: String,
}

#[derive(Template)]
#[template(path = "room.html")]
struct RoomPage {
    layout: Layout,
    title: String,
    other: String,
    live: RoomLive,
    templates: Vec<TemplateItem>,
    draft: String,
    can_post: bool,
    can_deliver: bool,
    blocked: Option<Blocked>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct RoomParams {
    #[serde(default)]
    fragment: String,
    #[serde(default)]
    template: String,
}

fn size_label(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", (bytes + 1023) / 1024)
    }
}

async fn room_live(
    state: &AppState,
    viewer: &Viewer,
    me: &Identity,
    order_id: &str,
) -> Result<(RoomLive, Order, String), WebError> {
    let (order, thread) = orders::talk_room(state, me, order_id).await?;
    let now = state.clock.now_ms();
    let side = order.side_of(&me.user_id);
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    // A talk room is read whole (pages of 100, capped for safety).
    for _ in 0..50 {
        let page =
            crate::messages::page(&state.db, &thread, &me.user_id, cursor.as_deref()).await?;
        items.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let mut conn = state.db.pool().acquire().await?;
    let name_of = |id: &str, buyer: &str, seller: &str| -> String {
        if id == order.buyer_id {
            buyer.to_string()
        } else if id == order.seller_id {
            seller.to_string()
        } else {
            "運営".to_string()
        }
    };
    let buyer_name = crate::accounts::store::user_by_id(&mut conn, &order.buyer_id)
        .await?
        .map(|u| u.display_name)
        .unwrap_or_default();
    let seller_name = crate::accounts::store::user_by_id(&mut conn, &order.seller_id)
        .await?
        .map(|u| u.display_name)
        .unwrap_or_default();
    let reviewed_by_me = crate::reviews::store::of_order(&mut conn, order_id)
        .await?
        .iter()
        .any(|r| r.reviewer_id == me.user_id);
    drop(conn);
    let messages = items
        .iter()
        .map(|m| MessageItem {
            mine: m.author_id.as_deref() == Some(me.user_id.as_str()),
            kind: m.kind.clone(),
            author: m
                .author_id
                .as_deref()
                .map(|a| name_of(a, &buyer_name, &seller_name))
                .unwrap_or_else(|| "お知らせ".into()),
            lines: m.body.split('\n').map(str::to_string).collect(),
            time: super::format::jst_rfc3339(&m.created_at),
            attachments: m
                .attachments
                .iter()
                .map(|a| AttachmentItem {
                    id: a.id.clone(),
                    filename: a.filename.clone(),
                    size: size_label(a.size_bytes),
                })
                .collect(),
        })
        .collect();
    let is_buyer = side == Some(Side::Buyer);
    let is_seller = side == Some(Side::Seller);
    let open = matches!(
        order.state,
        OrderState::PendingFirstReply | OrderState::InProgress | OrderState::Delivered
    );
    let (status, status_class) = status_label(order.state);
    let cancel_open = order.pending_cancel.as_ref().map(|r| CancelInfo {
        by_me: Some(r.by) == side,
        reason: r.reason.label().to_string(),
        note: r.note.clone(),
        expires: format!(
            "{}（{}）",
            jst_datetime(r.expires_at),
            remaining(now, r.expires_at)
        ),
    });
    let cancel_reasons = crate::orders::model::CancelReason::ALL
        .iter()
        .filter(|r| side.is_some_and(|s| r.may_be_filed_by(s)))
        .map(|r| (r.as_str().to_string(), r.label().to_string()))
        .collect();
    let due_changes = orders::history(state, me, order_id)
        .await?
        .iter()
        .filter(|h| h.kind == "due_date_changed")
        .map(|h| {
            let date = |k: &str| {
                h.detail[k]
                    .as_str()
                    .and_then(crate::clock::parse_rfc3339)
                    .map(jst_date)
                    .unwrap_or_default()
            };
            format!(
                "{}：{} → {}",
                super::format::jst_rfc3339(&h.at),
                date("from_at"),
                date("to_at")
            )
        })
        .collect();
    let other = if is_buyer { seller_name } else { buyer_name };
    let live = RoomLive {
        order_id: order.id.clone(),
        csrf: viewer.csrf.clone(),
        status: status.into(),
        status_class,
        clock: clock_of(&order, now),
        due: jst_date(order.due_at),
        late: order.late,
        messages,
        can_accept: is_buyer && order.state == OrderState::Delivered,
        can_send_back: is_buyer
            && order.state == OrderState::Delivered
            && order.send_backs_used < order.policy.send_backs_allowed,
        can_review: side.is_some()
            && order.state == OrderState::Completed
            && crate::reviews::model::may_review(&order, side.unwrap_or(Side::Buyer), now).is_ok(),
        can_change_due: is_seller && order.state == OrderState::InProgress,
        can_file_cancel: side.is_some() && open && order.pending_cancel.is_none(),
        cancel_open,
        cancel_reasons,
        total: yen(order.total_yen),
        reviewed_by_me,
        due_changes,
    };
    Ok((live, order, other))
}

/// The 「正式な納品」 checkbox of the composer on its own (re-fetched when the order changes).
#[derive(Template)]
#[template(path = "room_deliver.html")]
struct DeliverFragment {
    can_deliver: bool,
}

/// Whether the composer offers the formal delivery: the seller, while the work is in progress.
fn may_deliver(order: &Order, me: &Identity) -> bool {
    order.side_of(&me.user_id) == Some(Side::Seller) && order.state == OrderState::InProgress
}

async fn room_page(
    state: &AppState,
    viewer: &Viewer,
    me: &Identity,
    order_id: &str,
    draft: String,
    blocked: Option<Blocked>,
    error: Option<String>,
) -> Result<RoomPage, WebError> {
    let (live, order, other) = room_live(state, viewer, me, order_id).await?;
    let side = order.side_of(&me.user_id);
    let mut templates = Vec::new();
    if side.is_some() {
        for t in crate::templates::list(state, &me.user_id).await? {
            let r = crate::templates::render(state, me, order_id, &t.id).await?;
            templates.push(TemplateItem {
                id: r.id,
                title: r.title,
                body: r.body,
            });
        }
    }
    let open = matches!(
        order.state,
        OrderState::PendingFirstReply | OrderState::InProgress | OrderState::Delivered
    );
    Ok(RoomPage {
        layout: viewer.layout(format!("トークルーム：{}", order.title)),
        title: order.title.clone(),
        other,
        live,
        templates,
        draft,
        can_post: side.is_some() && open,
        can_deliver: may_deliver(&order, me),
        blocked,
        error,
    })
}

async fn room(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(p): Query<RoomParams>,
) -> PageResult {
    let me = viewer.require()?.clone();
    if p.fragment == "1" {
        let (live, _, _) = room_live(&state, &viewer, &me, &id).await?;
        return render(&RoomFragment { live });
    }
    if p.fragment == "deliver" {
        let order = orders::get(&state, &me, &id).await?;
        return render(&DeliverFragment {
            can_deliver: may_deliver(&order, &me),
        });
    }
    let draft = if p.template.is_empty() {
        String::new()
    } else {
        crate::templates::render(&state, &me, &id, &p.template)
            .await
            .map(|t| t.body)
            .unwrap_or_default()
    };
    render(&room_page(&state, &viewer, &me, &id, draft, None, None).await?)
}

/// Re-renders the talk room after a refused post, keeping the text in the composer.
async fn refused(
    state: &AppState,
    viewer: &Viewer,
    me: &Identity,
    order_id: &str,
    text: &str,
    e: AppError,
    context: &str,
) -> PageResult {
    if !e.status().is_client_error() || e.status() == StatusCode::NOT_FOUND {
        return Err(e.into());
    }
    let status = e.status();
    let (blocked, error) = match &e {
        AppError::Rule {
            code: "off_platform_contact",
            message,
            details,
        } => (
            Some(Blocked {
                message: message.clone(),
                segments: segments(text, details),
                text: text.to_string(),
                context: context.to_string(),
            }),
            None,
        ),
        other => (None, Some(other.message())),
    };
    let page = room_page(
        state,
        viewer,
        me,
        order_id,
        text.to_string(),
        blocked,
        error,
    )
    .await?;
    render_status(status, &page)
}

/// The composer's multipart form.
#[derive(Default)]
struct Composer {
    csrf: String,
    body: String,
    deliver: bool,
    files: Vec<(String, Vec<u8>)>,
}

async fn read_composer(req: Request, state: &AppState) -> Result<(Composer, String), WebError> {
    let (mut parts, body) = req.into_parts();
    let expected = request_csrf(&parts);
    let _ = Viewer::from_request_parts(&mut parts, state).await?;
    let mut multipart = Multipart::from_request(Request::from_parts(parts, body), state)
        .await
        .map_err(|_| bad_upload())?;
    let mut c = Composer::default();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(AppError::PayloadTooLarge.into());
            }
            Err(_) => return Err(bad_upload()),
        };
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" => {
                let filename = field.file_name().unwrap_or_default().to_string();
                let bytes = field.bytes().await.map_err(|e| {
                    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        WebError::App(AppError::PayloadTooLarge)
                    } else {
                        bad_upload()
                    }
                })?;
                if !filename.is_empty() && !bytes.is_empty() {
                    c.files.push((filename, bytes.to_vec()));
                }
            }
            "csrf" | "body" | "deliver" => {
                let text = field.text().await.map_err(|_| bad_upload())?;
                match name.as_str() {
                    "csrf" => c.csrf = text,
                    "body" => c.body = text,
                    _ => c.deliver = !text.is_empty(),
                }
            }
            _ => {}
        }
    }
    Ok((c, expected))
}

fn bad_upload() -> WebError {
    WebError::App(AppError::BadRequest {
        code: "malformed_upload",
        message: "送信内容を読み取れませんでした。".into(),
    })
}

fn csrf_failed() -> WebError {
    WebError::App(AppError::Forbidden {
        code: "csrf_failed",
        message:
            "フォームの有効期限が切れました。ページを再読み込みしてから、もう一度お試しください。"
                .into(),
    })
}

async fn post_message(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    req: Request,
) -> PageResult {
    let me = viewer.require()?.clone();
    let (c, expected) = read_composer(req, &state).await?;
    if !csrf_ok(&expected, &c.csrf) {
        return Err(csrf_failed());
    }
    // The order must be visible before anything is stored for it.
    orders::get(&state, &me, &id).await?;
    let mut attachment_ids = Vec::new();
    for (filename, bytes) in &c.files {
        match crate::attachments::save(
            &state.db,
            &state.config.data_dir,
            &me.user_id,
            filename,
            bytes,
            state.clock.now_ms(),
        )
        .await
        {
            Ok(a) => attachment_ids.push(a.id),
            Err(e) => return refused(&state, &viewer, &me, &id, &c.body, e, "order_message").await,
        }
    }
    let result = if c.deliver {
        orders::deliver(&state, &me, &id, &c.body, attachment_ids)
            .await
            .map(|_| "正式な納品を送りました。購入者の承諾をお待ちください。")
    } else {
        orders::post_text(&state, &me, &id, &c.body, attachment_ids)
            .await
            .map(|_| "メッセージを送信しました。")
    };
    match result {
        Ok(flash) => Ok(see_other(&format!("/orders/{id}#composer"), Some(flash))),
        Err(e) => {
            let context = if c.deliver {
                "delivery"
            } else {
                "order_message"
            };
            refused(&state, &viewer, &me, &id, &c.body, e, context).await
        }
    }
}

#[derive(Debug, Deserialize)]
struct Empty {}

/// [`done`] for a command that carries no text of its own.
async fn back<T>(
    state: &AppState,
    viewer: &Viewer,
    me: &Identity,
    id: &str,
    result: Result<T, AppError>,
    flash: &str,
) -> PageResult {
    done(state, viewer, me, id, result, flash, "", "order_message").await
}

/// After a command on the order: back to the talk room with `flash`, or the room again with the
/// reason it was refused (and `text` kept in the composer).
#[allow(clippy::too_many_arguments)]
async fn done<T>(
    state: &AppState,
    viewer: &Viewer,
    me: &Identity,
    id: &str,
    result: Result<T, AppError>,
    flash: &str,
    text: &str,
    context: &str,
) -> PageResult {
    match result {
        Ok(_) => Ok(see_other(&format!("/orders/{id}"), Some(flash))),
        Err(e) => refused(state, viewer, me, id, text, e, context).await,
    }
}

async fn accept(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> PageResult {
    let me = viewer.require()?.clone();
    let result = orders::act(
        &state,
        &me,
        &id,
        Command::Accept,
        None,
        state.clock.now_ms(),
    )
    .await;
    let flash = "承諾しました。取引が完了しました。評価をお願いします。";
    back(&state, &viewer, &me, &id, result, flash).await
}

#[derive(Debug, Deserialize)]
struct SendBackForm {
    #[serde(default)]
    reason: String,
}

async fn send_back(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<SendBackForm>,
) -> PageResult {
    let me = viewer.require()?.clone();
    let result = orders::send_back(&state, &me, &id, &f.reason).await;
    let flash = "差し戻しました。出品者からの再納品をお待ちください。";
    done(
        &state,
        &viewer,
        &me,
        &id,
        result,
        flash,
        &f.reason,
        "send_back",
    )
    .await
}

#[derive(Debug, Deserialize)]
struct DueDateForm {
    #[serde(default)]
    due_date: String,
}

async fn due_date(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<DueDateForm>,
) -> PageResult {
    let me = viewer.require()?.clone();
    // The end of the chosen day, Japan time.
    let due_at = chrono::NaiveDate::parse_from_str(f.due_date.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(23, 59, 0))
        .map(|t| t.and_utc().timestamp_millis() - 9 * 3_600_000);
    let Some(due_at) = due_at else {
        let e = AppError::Rule {
            code: "invalid_date",
            message: "お届け予定日を正しく選んでください。".into(),
            details: serde_json::json!({}),
        };
        return refused(&state, &viewer, &me, &id, "", e, "order_message").await;
    };
    let now = state.clock.now_ms();
    let result = orders::act(&state, &me, &id, Command::SetDueDate { due_at }, None, now).await;
    let flash = "お届け予定日を変更しました。購入者に通知されます。";
    back(&state, &viewer, &me, &id, result, flash).await
}

#[derive(Debug, Deserialize)]
struct CancelForm {
    #[serde(default)]
    reason_code: String,
    #[serde(default)]
    note: String,
}

async fn file_cancel(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<CancelForm>,
) -> PageResult {
    let me = viewer.require()?.clone();
    match orders::file_cancel(&state, &me, &id, &f.reason_code, Some(&f.note)).await {
        Ok(_) => Ok(see_other(
            &format!("/orders/{id}"),
            Some(
                "キャンセルを申請しました。相手の回答をお待ちください（24時間以内に回答がない場合は成立します）。",
            ),
        )),
        Err(e) => refused(&state, &viewer, &me, &id, &f.note, e, "cancel_note").await,
    }
}

async fn answer_cancel(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, action)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> PageResult {
    let me = viewer.require()?.clone();
    let (command, flash) = match action.as_str() {
        "accept" => (Command::AcceptCancel, "キャンセルに同意しました。"),
        "reject" => (Command::RejectCancel, "キャンセルをお断りしました。"),
        "withdraw" => (Command::WithdrawCancel, "キャンセル申請を取り下げました。"),
        _ => return Err(AppError::NotFound.into()),
    };
    let result = orders::act(&state, &me, &id, command, None, state.clock.now_ms()).await;
    back(&state, &viewer, &me, &id, result, flash).await
}

#[derive(Debug, Deserialize)]
struct AppealForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    context: String,
    #[serde(default)]
    order_id: String,
}

async fn appeal(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(f): CsrfForm<AppealForm>,
) -> PageResult {
    let me = viewer.require()?.clone();
    let order_id = f.order_id.clone();
    let context = match f.context.as_str() {
        "delivery" => crate::guard::Context::Delivery { order_id },
        "send_back" => crate::guard::Context::SendBack { order_id },
        "cancel_note" => crate::guard::Context::CancelNote { order_id },
        _ => crate::guard::Context::OrderMessage { order_id },
    };
    // Only a party may appeal about a talk room.
    orders::get(&state, &me, &f.order_id).await?;
    crate::appeals::file(&state, &me.user_id, &f.text, &context).await?;
    Ok(see_other(
        &format!("/orders/{}", f.order_id),
        Some(
            "運営に確認を依頼しました。問題がないと判断された場合、メッセージは相手に届けられます。結果はお知らせでお伝えします。",
        ),
    ))
}

// ---------------------------------------------------------------- reviews

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
    let other_id = order.user_of(match side {
        Side::Buyer => Side::Seller,
        Side::Seller => Side::Buyer,
    });
    let other = crate::accounts::store::user_by_id(&mut conn, other_id)
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
    match crate::reviews::write(&state, &me, &id, public_rating, &f.comment, private_rating).await {
        Ok(_) => Ok(see_other(
            &format!("/orders/{id}"),
            Some("評価を送信しました。お互いの評価がそろうか、評価期間が終わると公開されます。"),
        )),
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::NOT_FOUND => {
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

// ---------------------------------------------------------------- files and events

async fn download(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> PageResult {
    let me = viewer.require()?.clone();
    let (row, bytes) =
        crate::attachments::open(&state.db, &state.config.data_dir, &me.user_id, &id).await?;
    Ok(crate::attachments::http::file_response(row, bytes)?)
}

async fn events(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, WebError> {
    let me = viewer.require()?.clone();
    Ok(crate::notifications::http::stream(&state, me.user_id))
}
