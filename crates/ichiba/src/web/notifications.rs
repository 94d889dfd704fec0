//! The notifications page (お知らせ) at `/notifications`: the list with its live first page,
//! the bell's unread count, and marking one or all read, through `notifications::list` /
//! `mark_read` / `mark_all_read`.

use super::session::PageQuery;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::format::{jst_rfc3339, lines, url_encode};
use super::session::{CsrfForm, NoFields};
use super::{Layout, PageResult, Viewer, render, see_other};
use crate::notifications::{self, NotificationView};
use crate::state::AppState;

/// The routes of the notifications page.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(notifications_page))
        .route("/notifications/count", get(notifications_count))
        .route("/notifications/read-all", post(read_all))
        .route("/notifications/{id}/read", post(read_one))
}

/// `/notifications?cursor=…` for the next page.
fn notifications_href(cursor: &str) -> String {
    format!("/notifications?cursor={}", url_encode(cursor))
}

/// A notification as listed.
struct NotificationItem {
    id: String,
    title: String,
    lines: Vec<String>,
    order_id: Option<String>,
    at: String,
    time: String,
    unread: bool,
}

fn notification_item(n: &NotificationView) -> NotificationItem {
    NotificationItem {
        id: n.id.clone(),
        title: n.title.clone(),
        lines: lines(&n.body),
        order_id: n.order_id.clone(),
        at: n.created_at.clone(),
        time: jst_rfc3339(&n.created_at),
        unread: n.read_at.is_none(),
    }
}

struct NotificationsList {
    items: Vec<NotificationItem>,
    unread: i64,
    csrf: String,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    layout: Layout,
    list: NotificationsList,
    /// The first page follows new notifications live.
    first_page: bool,
    next_href: Option<String>,
}

/// The list on its own (what the first page re-fetches on `notification` events).
#[derive(Template)]
#[template(path = "notifications_list.html")]
struct NotificationsFragment {
    list: NotificationsList,
}

#[derive(Debug, Default, Deserialize)]
struct NotificationParams {
    #[serde(default)]
    cursor: String,
    #[serde(default)]
    fragment: String,
}

async fn notifications_page(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(p): PageQuery<NotificationParams>,
) -> PageResult {
    let me = viewer.require()?.clone();
    let cursor = Some(p.cursor.as_str()).filter(|c| !c.is_empty());
    let page = notifications::list(&state.db, &me.user_id, cursor).await?;
    let list = NotificationsList {
        items: page.items.iter().map(notification_item).collect(),
        unread: page.unread,
        csrf: viewer.csrf.clone(),
    };
    if p.fragment == "1" {
        return render(&NotificationsFragment { list });
    }
    render(&NotificationsPage {
        layout: viewer.layout("お知らせ"),
        list,
        first_page: cursor.is_none(),
        next_href: page.next_cursor.as_deref().map(notifications_href),
    })
}

/// `{"unread": N}` for the bell; anonymous visitors get 0.
async fn notifications_count(viewer: Viewer) -> PageResult {
    let unread = if viewer.identity.is_some() {
        viewer.unread
    } else {
        0
    };
    Ok(Json(serde_json::json!({ "unread": unread })).into_response())
}

async fn read_all(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    let me = viewer.require()?.clone();
    notifications::mark_all_read(&state.db, &me.user_id, state.clock.now_ms()).await?;
    Ok(see_other(
        "/notifications",
        Some("すべてのお知らせを既読にしました。"),
    ))
}

async fn read_one(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    let me = viewer.require()?.clone();
    notifications::mark_read(&state.db, &me.user_id, &id, state.clock.now_ms()).await?;
    Ok(see_other(
        "/notifications",
        Some("お知らせを既読にしました。"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_page_links_encode_the_cursor() {
        assert_eq!(
            notifications_href("a+b=="),
            "/notifications?cursor=a%2Bb%3D%3D"
        );
    }

    #[test]
    fn notifications_show_unread_and_the_order() {
        let n = NotificationView {
            id: "n1".into(),
            kind: "purchased".into(),
            title: "購入されました".into(),
            body: "1行目\n2行目".into(),
            order_id: Some("o1".into()),
            created_at: "2026-11-23T15:00:00Z".into(),
            read_at: None,
        };
        let item = notification_item(&n);
        assert!(item.unread);
        assert_eq!(item.order_id.as_deref(), Some("o1"));
        assert_eq!(item.lines, vec!["1行目", "2行目"]);
        assert_eq!(item.time, "2026年11月24日 00:00");
        let read = NotificationView {
            read_at: Some("2026-11-24T00:00:00Z".into()),
            ..n
        };
        assert!(!notification_item(&read).unread);
    }
}
