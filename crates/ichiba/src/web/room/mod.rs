//! The talk room of an order in the browser: the page, its live fragment (status, clock,
//! messages, the actions of the moment) and the composer's delivery checkbox, plus what every
//! command of the room shares: [`room_actions`] (which buttons and forms to show) and [`Answer`]
//! (back to the room after a command, or the room again with the reason it was refused).
//!
//! The commands live beside this file: `actions` (承諾, 差し戻し, due date, cancel requests,
//! appeals) and `composer` (messages, attachments, the formal delivery).

mod actions;
mod composer;

use super::session::PageQuery;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde::Deserialize;

use super::format::{jst_date, jst_datetime, jst_rfc3339, order_status, remaining, yen};
use super::view::{Blocked, clock_of, size_label, whole_thread};
use super::{
    Layout, PageResult, Viewer, WebError, render, render_status, see_other, shown_on_form,
};
use crate::auth::Identity;
use crate::clock::Millis;
use crate::error::AppError;
use crate::messages::MessageView;
use crate::orders::actions::Action;
use crate::orders::http::HistoryEntry;
use crate::orders::model::{CancelReason, Side};
use crate::orders::{self, Order};
use crate::state::AppState;

/// The talk-room routes: the page and every command posted from it.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orders/{id}", get(room))
        .route("/orders/{id}/messages", post(composer::post_message))
        .route("/orders/{id}/accept", post(actions::accept))
        .route("/orders/{id}/send-back", post(actions::send_back))
        .route("/orders/{id}/due-date", post(actions::due_date))
        .route("/orders/{id}/cancel-requests", post(actions::file_cancel))
        .route(
            "/orders/{id}/cancel-requests/{action}",
            post(actions::answer_cancel),
        )
        .route("/appeals", post(actions::appeal))
}

// ---------------------------------------------------------------- what the viewer may do

/// What the viewer may do in the talk room now: the buttons and forms the room shows.
struct RoomActions {
    /// 承諾 of the delivery.
    can_accept: bool,
    /// 差し戻し of the delivery.
    can_send_back: bool,
    /// The link to the review form.
    can_review: bool,
    /// The due-date form.
    can_change_due: bool,
    /// The cancel-request form.
    can_file_cancel: bool,
    /// The reasons the cancel-request form offers.
    cancel_reasons: Vec<CancelReason>,
    /// The open cancel request (if any) was filed by the viewer: the room offers to withdraw it
    /// rather than to answer it.
    cancel_by_me: bool,
    /// The composer.
    can_post: bool,
    /// The composer's 「正式な納品」 checkbox.
    can_deliver: bool,
}

/// What `side` (`None` for a viewer who is not a party) may do with `order` at `now`: the
/// engine's own answer (`orders::actions::available_to`, a dry run of its rules), so the room
/// never offers what the engine would refuse nor hides what it allows. Reviews have their own
/// rule (`reviews::model::may_review`).
fn room_actions(order: &Order, side: Option<Side>, now: Millis) -> RoomActions {
    let allowed = side
        .map(|s| crate::orders::actions::available_to(order, s, now))
        .unwrap_or_default();
    let can = |a: Action| allowed.can(a);
    RoomActions {
        can_accept: can(Action::Accept),
        can_send_back: can(Action::SendBack),
        can_review: side.is_some_and(|s| crate::reviews::model::may_review(order, s, now).is_ok()),
        can_change_due: can(Action::ChangeDueDate),
        can_file_cancel: can(Action::FileCancel),
        cancel_reasons: allowed.cancel_reasons.clone(),
        cancel_by_me: order
            .pending_cancel
            .as_ref()
            .is_some_and(|r| Some(r.by) == side),
        can_post: can(Action::PostMessage),
        can_deliver: can(Action::Deliver),
    }
}

// ---------------------------------------------------------------- the page

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

/// The 「正式な納品」 checkbox of the composer on its own (re-fetched when the order changes).
#[derive(Template)]
#[template(path = "room_deliver.html")]
struct DeliverFragment {
    can_deliver: bool,
}

#[derive(Debug, Default, Deserialize)]
struct RoomParams {
    #[serde(default)]
    fragment: String,
    #[serde(default)]
    template: String,
}

/// The display names of an order's buyer and seller.
struct Parties {
    buyer: String,
    seller: String,
}

impl Parties {
    /// Who wrote a message of the talk room: a party by name, else the operators.
    fn author(&self, order: &Order, author_id: &str) -> String {
        if author_id == order.buyer_id {
            self.buyer.clone()
        } else if author_id == order.seller_id {
            self.seller.clone()
        } else {
            "運営".to_string()
        }
    }
}

/// A message of the talk room as shown to `me` (one `<p>` a line, as the body was written).
fn message_item(m: &MessageView, me: &str, order: &Order, parties: &Parties) -> MessageItem {
    MessageItem {
        mine: m.author_id.as_deref() == Some(me),
        kind: m.kind.clone(),
        author: m
            .author_id
            .as_deref()
            .map(|a| parties.author(order, a))
            .unwrap_or_else(|| "お知らせ".into()),
        lines: m.body.split('\n').map(str::to_string).collect(),
        time: jst_rfc3339(&m.created_at),
        attachments: m
            .attachments
            .iter()
            .map(|a| AttachmentItem {
                id: a.id.clone(),
                filename: a.filename.clone(),
                size: size_label(a.size_bytes),
            })
            .collect(),
    }
}

/// A change of the due date from the order's history, in words (`None` for other entries).
fn due_change(h: &HistoryEntry) -> Option<String> {
    if h.kind != "due_date_changed" {
        return None;
    }
    let date = |k: &str| {
        h.detail[k]
            .as_str()
            .and_then(crate::clock::parse_rfc3339)
            .map(jst_date)
            .unwrap_or_default()
    };
    Some(format!(
        "{}：{} → {}",
        jst_rfc3339(&h.at),
        date("from_at"),
        date("to_at")
    ))
}

/// The talk room as the viewer sees it now: its live part, the order, the other party's name and
/// what the viewer may do (one answer of the rule book for the whole page).
struct RoomNow {
    live: RoomLive,
    order: Order,
    other: String,
    actions: RoomActions,
}

/// The talk room of `order_id` for `me` now (404 for anyone who may not see it).
async fn room_now(
    state: &AppState,
    viewer: &Viewer,
    me: &Identity,
    order_id: &str,
) -> Result<RoomNow, WebError> {
    let (order, thread) = orders::talk_room(state, me, order_id).await?;
    let now = state.clock.now_ms();
    let side = order.side_of(&me.user_id);
    let items = whole_thread(&state.db, &thread, &me.user_id).await?;
    let mut conn = state.db.pool().acquire().await?;
    let (buyer, seller) = orders::store::party_names(&mut conn, order_id)
        .await?
        .unwrap_or_default();
    let parties = Parties { buyer, seller };
    let reviewed_by_me = crate::reviews::store::of_order(&mut conn, order_id)
        .await?
        .iter()
        .any(|r| r.reviewer_id == me.user_id);
    drop(conn);
    let messages = items
        .iter()
        .map(|m| message_item(m, &me.user_id, &order, &parties))
        .collect();
    let actions = room_actions(&order, side, now);
    let (status, status_class) = order_status(order.state);
    let cancel_open = order.pending_cancel.as_ref().map(|r| CancelInfo {
        by_me: actions.cancel_by_me,
        reason: r.reason.label().to_string(),
        note: r.note.clone(),
        expires: format!(
            "{}（{}）",
            jst_datetime(r.expires_at),
            remaining(now, r.expires_at)
        ),
    });
    let due_changes = orders::history(state, me, order_id)
        .await?
        .iter()
        .filter_map(due_change)
        .collect();
    let other = if side == Some(Side::Buyer) {
        parties.seller
    } else {
        parties.buyer
    };
    let live = RoomLive {
        order_id: order.id.clone(),
        csrf: viewer.csrf.clone(),
        status: status.into(),
        status_class,
        clock: clock_of(&order, now),
        due: jst_date(order.due_at),
        late: order.late,
        messages,
        can_accept: actions.can_accept,
        can_send_back: actions.can_send_back,
        can_review: actions.can_review,
        can_change_due: actions.can_change_due,
        can_file_cancel: actions.can_file_cancel,
        cancel_open,
        cancel_reasons: actions
            .cancel_reasons
            .iter()
            .map(|r| (r.as_str().to_string(), r.label().to_string()))
            .collect(),
        total: yen(order.total_yen),
        reviewed_by_me,
        due_changes,
    };
    Ok(RoomNow {
        live,
        order,
        other,
        actions,
    })
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
    let RoomNow {
        live,
        order,
        other,
        actions,
    } = room_now(state, viewer, me, order_id).await?;
    let mut templates = Vec::new();
    if order.side_of(&me.user_id).is_some() {
        for r in crate::templates::render_all(state, me, order_id).await? {
            templates.push(TemplateItem {
                id: r.id,
                title: r.title,
                body: r.body,
            });
        }
    }
    Ok(RoomPage {
        layout: viewer.layout(format!("トークルーム：{}", order.title)),
        title: order.title.clone(),
        other,
        live,
        templates,
        draft,
        can_post: actions.can_post,
        can_deliver: actions.can_deliver,
        blocked,
        error,
    })
}

async fn room(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    PageQuery(p): PageQuery<RoomParams>,
) -> PageResult {
    let me = viewer.require()?.clone();
    if p.fragment == "1" {
        let live = room_now(&state, &viewer, &me, &id).await?.live;
        return render(&RoomFragment { live });
    }
    if p.fragment == "deliver" {
        let order = orders::get(&state, &me, &id).await?;
        let actions = room_actions(&order, order.side_of(&me.user_id), state.clock.now_ms());
        return render(&DeliverFragment {
            can_deliver: actions.can_deliver,
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

// ---------------------------------------------------------------- after a command

/// How a command posted from the talk room of `order_id` is answered: back to the room with a
/// flash, or the room again with the reason the command was refused.
struct Answer<'a> {
    state: &'a AppState,
    viewer: &'a Viewer,
    me: &'a Identity,
    order_id: &'a str,
}

impl<'a> Answer<'a> {
    /// The answer to a command of `me` on the order `order_id`.
    fn new(
        state: &'a AppState,
        viewer: &'a Viewer,
        me: &'a Identity,
        order_id: &'a str,
    ) -> Answer<'a> {
        Answer {
            state,
            viewer,
            me,
            order_id,
        }
    }

    /// [`Answer::keeping`] for a command that carries no text of its own.
    async fn after<T, E: Into<AppError>>(&self, result: Result<T, E>, flash: &str) -> PageResult {
        self.keeping(result, flash, "", "order_message").await
    }

    /// Back to the talk room with `flash`, or the room again with the reason the command was
    /// refused and `text` kept in the composer (`context`: where it was written, for an appeal).
    async fn keeping<T, E: Into<AppError>>(
        &self,
        result: Result<T, E>,
        flash: &str,
        text: &str,
        context: &str,
    ) -> PageResult {
        match result {
            Ok(_) => Ok(see_other(
                &format!("/orders/{}", self.order_id),
                Some(flash),
            )),
            Err(e) => self.refused(text, e, context).await,
        }
    }

    /// Re-renders the talk room after a refused command, keeping `text` in the composer; an
    /// error that is no form's (404, 5xx) is its own page.
    async fn refused(&self, text: &str, e: impl Into<AppError>, context: &str) -> PageResult {
        let e: AppError = e.into();
        if !shown_on_form(&e) {
            return Err(e.into());
        }
        let status = e.status();
        let blocked = Blocked::from_error(&e, text, context);
        let error = blocked.is_none().then(|| e.message());
        let page = room_page(
            self.state,
            self.viewer,
            self.me,
            self.order_id,
            text.to_string(),
            blocked,
            error,
        )
        .await?;
        render_status(status, &page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::OrderState;
    use crate::orders::Policy;
    use crate::orders::model::CancelRequest;

    const NOW: Millis = 1_800_000_000_000;

    fn order(state: OrderState) -> Order {
        Order {
            id: "o1".into(),
            listing_id: "l1".into(),
            buyer_id: "b".into(),
            seller_id: "s".into(),
            title: "ロゴデザイン".into(),
            state,
            version: 1,
            policy: Policy::default(),
            price_yen: 5000,
            options_yen: 0,
            buyer_fee_yen: 275,
            total_yen: 5275,
            points_used: 0,
            purchased_at: NOW - 86_400_000,
            first_reply_deadline: NOW + 86_400_000,
            first_replied_at: None,
            due_at: NOW + 7 * 86_400_000,
            delivered_at: None,
            accept_deadline: None,
            completed_at: None,
            cancelled_at: None,
            send_backs_used: 0,
            late: false,
            last_buyer_message_at: None,
            last_seller_message_at: None,
            cancellation: None,
            pending_cancel: None,
            settlement_seller_yen: None,
        }
    }

    #[test]
    fn a_delivery_is_accepted_or_sent_back_by_the_buyer_alone() {
        let o = order(OrderState::Delivered);
        let buyer = room_actions(&o, Some(Side::Buyer), NOW);
        assert!(buyer.can_accept && buyer.can_send_back && buyer.can_post);
        let seller = room_actions(&o, Some(Side::Seller), NOW);
        assert!(!seller.can_accept && !seller.can_send_back && !seller.can_deliver);
        let used_up = Order {
            send_backs_used: o.policy.send_backs_allowed,
            ..o
        };
        let buyer = room_actions(&used_up, Some(Side::Buyer), NOW);
        assert!(buyer.can_accept && !buyer.can_send_back);
    }

    #[test]
    fn work_in_progress_lets_the_seller_deliver_and_move_the_due_date() {
        let o = order(OrderState::InProgress);
        let seller = room_actions(&o, Some(Side::Seller), NOW);
        assert!(seller.can_deliver && seller.can_change_due && seller.can_file_cancel);
        let buyer = room_actions(&o, Some(Side::Buyer), NOW);
        assert!(!buyer.can_deliver && !buyer.can_change_due && buyer.can_post);
        assert!(!buyer.can_review);
    }

    #[test]
    fn an_open_cancel_request_is_withdrawn_by_its_author_and_blocks_another() {
        let mut o = order(OrderState::InProgress);
        o.pending_cancel = Some(CancelRequest {
            id: "c1".into(),
            by: Side::Buyer,
            reason: CancelReason::ALL[0],
            note: String::new(),
            filed_at: NOW,
            expires_at: NOW + 86_400_000,
        });
        let buyer = room_actions(&o, Some(Side::Buyer), NOW);
        assert!(buyer.cancel_by_me && !buyer.can_file_cancel);
        let seller = room_actions(&o, Some(Side::Seller), NOW);
        assert!(!seller.cancel_by_me && !seller.can_file_cancel);
    }

    #[test]
    fn someone_outside_the_order_gets_no_buttons_and_no_reasons() {
        for state in [OrderState::InProgress, OrderState::Delivered] {
            let a = room_actions(&order(state), None, NOW);
            assert!(!a.can_accept && !a.can_send_back && !a.can_change_due);
            assert!(!a.can_file_cancel && !a.can_post && !a.can_deliver);
            assert!(a.cancel_reasons.is_empty());
        }
        let seller = room_actions(&order(OrderState::InProgress), Some(Side::Seller), NOW);
        assert!(!seller.cancel_reasons.is_empty());
    }

    #[test]
    fn talk_room_messages_are_named_by_party() {
        let o = order(OrderState::InProgress);
        let parties = Parties {
            buyer: "買う人".into(),
            seller: "売る人".into(),
        };
        let message = |author: Option<&str>| MessageView {
            id: "m1".into(),
            order_id: Some("o1".into()),
            thread_id: "t1".into(),
            author_id: author.map(str::to_string),
            kind: "text".into(),
            body: "一行目\n二行目".into(),
            attachments: vec![],
            created_at: "2026-11-23T15:00:00Z".into(),
        };
        let m = message_item(&message(Some("b")), "b", &o, &parties);
        assert!(m.mine);
        assert_eq!(m.author, "買う人");
        assert_eq!(m.lines, vec!["一行目", "二行目"]);
        assert_eq!(m.time, "2026年11月24日 00:00");
        let m = message_item(&message(Some("s")), "b", &o, &parties);
        assert!(!m.mine);
        assert_eq!(m.author, "売る人");
        assert_eq!(
            message_item(&message(Some("op")), "b", &o, &parties).author,
            "運営"
        );
        assert_eq!(
            message_item(&message(None), "b", &o, &parties).author,
            "お知らせ"
        );
    }

    #[test]
    fn due_date_changes_are_told_in_japan_time() {
        let entry = |kind: &str| HistoryEntry {
            at: "2026-11-23T15:00:00Z".into(),
            actor: "seller".into(),
            kind: kind.into(),
            detail: serde_json::json!({
                "from_at": "2026-11-30T14:59:00Z",
                "to_at": "2026-12-07T14:59:00Z",
            }),
        };
        assert_eq!(
            due_change(&entry("due_date_changed")).as_deref(),
            Some("2026年11月24日 00:00：2026年11月30日 → 2026年12月7日")
        );
        assert_eq!(due_change(&entry("cancel_requested")), None);
    }

    #[test]
    fn a_finished_order_takes_no_more_posts() {
        for state in [OrderState::Completed, OrderState::Cancelled] {
            let a = room_actions(&order(state), Some(Side::Buyer), NOW);
            assert!(!a.can_post && !a.can_file_cancel && !a.can_accept);
        }
    }
}
