//! Direct messages (メッセージ) before a purchase: the thread list at `/messages`, a
//! conversation at `/messages/{id}`, a new conversation at `/messages/new`, and appeals against a
//! blocked message.
//!
//! Everything goes through the services the JSON API uses: `messages::direct_thread_summaries`
//! (the list, one query), `direct_thread_for`, `page` (which marks what it returns as read) and
//! `send_direct_checked` (sanctions, the contact guard, then the message), and `appeals::file`.
//! The composer and how a refused message is shown in it are in `composer`.

mod composer;

use super::session::PageQuery;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde::Deserialize;

use self::composer::{ComposerView, refusal};
use super::format::{jst_datetime, jst_rfc3339, lines, url_encode};
use super::session::CsrfForm;
use super::view::{APPEALED, whole_thread};
use super::{Layout, PageResult, Viewer, WebError, render, render_status, see_other};
use crate::auth::Identity;
use crate::clock::to_rfc3339;
use crate::error::AppError;
use crate::messages::{self, DirectThreadSummary, DirectThreadView, MessageView};
use crate::state::AppState;

/// The routes of direct messages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/messages", get(threads))
        .route("/messages/new", get(new_form).post(send_new))
        .route("/messages/new/appeal", post(appeal_new))
        .route("/messages/{id}", get(thread).post(send_in_thread))
        .route("/messages/{id}/appeal", post(appeal_thread))
}

/// What the flash says after a message was sent.
const SENT: &str = "メッセージを送信しました。";

/// How many characters of the last message the thread list shows.
const EXCERPT_CHARS: usize = 60;

// ---------------------------------------------------------------- pure helpers

/// The first `max` characters of a message on one line (runs of whitespace and line breaks
/// become one space), with `…` when cut.
fn excerpt(body: &str, max: usize) -> String {
    let flat = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let mut cut: String = flat.chars().take(max).collect();
        cut.push('…');
        cut
    }
}

/// The draft that opens a conversation about a listing.
fn opening_line(listing_title: &str) -> String {
    format!("「{listing_title}」について相談させてください。\n")
}

/// A thread as a row of the list.
struct ThreadItem {
    id: String,
    other: String,
    excerpt: String,
    /// The last message is the viewer's own.
    mine: bool,
    /// RFC 3339 (for `<time datetime>`), empty without messages.
    at: String,
    /// Japan time.
    time: String,
    unread: i64,
}

fn thread_item(t: &DirectThreadSummary, me: &str) -> ThreadItem {
    let last = t.last_message.as_ref();
    ThreadItem {
        id: t.id.clone(),
        other: t.other_user.display_name.clone(),
        excerpt: last
            .map(|m| excerpt(&m.body, EXCERPT_CHARS))
            .unwrap_or_default(),
        mine: last.is_some_and(|m| m.author_id.as_deref() == Some(me)),
        at: last
            .map(|m| to_rfc3339(m.created_at_ms))
            .unwrap_or_default(),
        time: last
            .map(|m| jst_datetime(m.created_at_ms))
            .unwrap_or_default(),
        unread: t.unread,
    }
}

struct AttachmentItem {
    id: String,
    filename: String,
}

/// A message of a conversation.
struct MessageItem {
    mine: bool,
    system: bool,
    author: String,
    lines: Vec<String>,
    at: String,
    time: String,
    attachments: Vec<AttachmentItem>,
}

/// The two members of a conversation, for naming authors.
struct Members<'a> {
    me: &'a str,
    my_name: &'a str,
    other: &'a str,
    other_name: &'a str,
}

fn message_item(m: &MessageView, who: &Members<'_>) -> MessageItem {
    let author = match m.author_id.as_deref() {
        None => "お知らせ".to_string(),
        Some(a) if a == who.me => who.my_name.to_string(),
        Some(a) if a == who.other => who.other_name.to_string(),
        Some(_) => "運営".to_string(),
    };
    MessageItem {
        mine: m.author_id.as_deref() == Some(who.me),
        system: m.author_id.is_none() || m.kind == "system",
        author,
        lines: lines(&m.body),
        at: m.created_at.clone(),
        time: jst_rfc3339(&m.created_at),
        attachments: m
            .attachments
            .iter()
            .map(|a| AttachmentItem {
                id: a.id.clone(),
                filename: a.filename.clone(),
            })
            .collect(),
    }
}

// ---------------------------------------------------------------- thread list

struct ThreadsList {
    rows: Vec<ThreadItem>,
}

#[derive(Template)]
#[template(path = "messages_threads.html")]
struct ThreadsPage {
    layout: Layout,
    list: ThreadsList,
}

/// The live list on its own (what the page re-fetches on `message` events).
#[derive(Template)]
#[template(path = "messages_threads_list.html")]
struct ThreadsFragment {
    list: ThreadsList,
}

#[derive(Debug, Default, Deserialize)]
struct FragmentParams {
    #[serde(default)]
    fragment: String,
    #[serde(default)]
    listing: String,
}

async fn threads(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(p): PageQuery<FragmentParams>,
) -> PageResult {
    let me = viewer.require()?.clone();
    let rows = messages::direct_thread_summaries(&state.db, &me.user_id)
        .await?
        .iter()
        .map(|t| thread_item(t, &me.user_id))
        .collect();
    let list = ThreadsList { rows };
    if p.fragment == "1" {
        return render(&ThreadsFragment { list });
    }
    render(&ThreadsPage {
        layout: viewer.layout("メッセージ"),
        list,
    })
}

/// The listing a conversation is about.
struct ListingRef {
    id: String,
    title: String,
}

/// The listing `listing_id` when it is a visible listing of `seller_id`.
async fn listing_ref(
    state: &AppState,
    me: &Identity,
    listing_id: &str,
    seller_id: &str,
) -> Option<ListingRef> {
    if listing_id.is_empty() {
        return None;
    }
    crate::listings::show(state, listing_id, Some(&me.user_id))
        .await
        .ok()
        .filter(|l| l.seller_id == seller_id)
        .map(|l| ListingRef {
            id: l.id,
            title: l.title,
        })
}

// ---------------------------------------------------------------- a conversation

/// The live part of a conversation: its messages.
struct ThreadLive {
    thread_id: String,
    messages: Vec<MessageItem>,
}

#[derive(Template)]
#[template(path = "messages_thread.html")]
struct ThreadPage {
    layout: Layout,
    other: String,
    listing: Option<ListingRef>,
    live: ThreadLive,
    composer: ComposerView,
}

/// The messages on their own (what the page re-fetches on `message` events).
#[derive(Template)]
#[template(path = "messages_thread_live.html")]
struct ThreadFragment {
    live: ThreadLive,
}

/// A conversation the viewer is a member of (else 404), read whole and marked read.
async fn conversation(
    state: &AppState,
    viewer: &Viewer,
    me: &Identity,
    thread_id: &str,
) -> Result<(ThreadLive, DirectThreadView), WebError> {
    let (row, view) = messages::direct_thread_for(&state.db, &me.user_id, thread_id).await?;
    let items = whole_thread(&state.db, &row, &me.user_id).await?;
    let my_name = viewer.name.clone().unwrap_or_default();
    let who = Members {
        me: &me.user_id,
        my_name: &my_name,
        other: &view.other_user.id,
        other_name: &view.other_user.display_name,
    };
    let live = ThreadLive {
        thread_id: row.id.clone(),
        messages: items.iter().map(|m| message_item(m, &who)).collect(),
    };
    Ok((live, view))
}

async fn thread_page(
    state: &AppState,
    viewer: &Viewer,
    me: &Identity,
    thread_id: &str,
    listing_id: &str,
    draft: Option<String>,
) -> Result<ThreadPage, WebError> {
    let (live, view) = conversation(state, viewer, me, thread_id).await?;
    let listing = listing_ref(state, me, listing_id, &view.other_user.id).await;
    let draft = draft
        .or_else(|| listing.as_ref().map(|l| opening_line(&l.title)))
        .unwrap_or_default();
    let other = view.other_user.display_name.clone();
    Ok(ThreadPage {
        layout: viewer.layout(format!("{other}さんとのメッセージ")),
        other,
        listing,
        composer: ComposerView::new(
            format!("/messages/{}", live.thread_id),
            format!("/messages/{}/appeal", live.thread_id),
            vec![],
            draft,
        ),
        live,
    })
}

async fn thread(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    PageQuery(p): PageQuery<FragmentParams>,
) -> PageResult {
    let me = viewer.require()?.clone();
    if p.fragment == "1" {
        let (live, _) = conversation(&state, &viewer, &me, &id).await?;
        return render(&ThreadFragment { live });
    }
    render(&thread_page(&state, &viewer, &me, &id, &p.listing, None).await?)
}

#[derive(Debug, Default, Deserialize)]
struct MessageForm {
    #[serde(default)]
    body: String,
}

async fn send_in_thread(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<MessageForm>,
) -> PageResult {
    let me = viewer.require()?.clone();
    // Only a member may write here; the recipient is the other member.
    let (_, view) = messages::direct_thread_for(&state.db, &me.user_id, &id).await?;
    match messages::send_direct_checked(&state, &me.user_id, &view.other_user.id, &f.body, &[])
        .await
        .map_err(AppError::from)
    {
        Ok(_) => Ok(see_other(&format!("/messages/{id}#composer"), Some(SENT))),
        Err(e) => {
            let Some(r) = refusal(&e, &f.body) else {
                return Err(e.into());
            };
            let mut page = thread_page(&state, &viewer, &me, &id, "", Some(f.body)).await?;
            page.composer = page.composer.refused(r);
            render_status(e.status(), &page)
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct AppealForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    to: String,
}

async fn appeal_thread(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<AppealForm>,
) -> PageResult {
    let me = viewer.require()?.clone();
    // Only a member may appeal about a conversation.
    let (_, view) = messages::direct_thread_for(&state.db, &me.user_id, &id).await?;
    let context = crate::guard::Context::DirectMessage {
        to_user_id: view.other_user.id,
    };
    crate::appeals::file(&state, &me.user_id, &f.text, &context).await?;
    Ok(see_other(&format!("/messages/{id}"), Some(APPEALED)))
}

// ---------------------------------------------------------------- a new conversation

#[derive(Template)]
#[template(path = "messages_new.html")]
struct NewPage {
    layout: Layout,
    to_name: String,
    listing: Option<ListingRef>,
    composer: ComposerView,
}

#[derive(Debug, Default, Deserialize)]
struct NewParams {
    #[serde(default)]
    to: String,
    #[serde(default)]
    listing: String,
}

/// The display name of a user (404 for an unknown one).
async fn name_of(state: &AppState, user_id: &str) -> Result<String, WebError> {
    let profile = crate::accounts::profile(&state.db, user_id)
        .await
        .map_err(AppError::from)?;
    Ok(profile.display_name)
}

async fn new_page(
    state: &AppState,
    viewer: &Viewer,
    me: &Identity,
    to: &str,
    listing_id: &str,
    draft: Option<String>,
) -> Result<NewPage, WebError> {
    let to_name = name_of(state, to).await?;
    let listing = listing_ref(state, me, listing_id, to).await;
    let draft = draft
        .or_else(|| listing.as_ref().map(|l| opening_line(&l.title)))
        .unwrap_or_default();
    let mut hidden = vec![("to".to_string(), to.to_string())];
    if let Some(l) = &listing {
        hidden.push(("listing".into(), l.id.clone()));
    }
    Ok(NewPage {
        layout: viewer.layout(format!("{to_name}さんにメッセージを送る")),
        to_name,
        listing,
        composer: ComposerView::new(
            "/messages/new".into(),
            "/messages/new/appeal".into(),
            hidden,
            draft,
        ),
    })
}

async fn new_form(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(p): PageQuery<NewParams>,
) -> PageResult {
    let me = viewer.require()?.clone();
    if let Some(t) = messages::direct_thread_between(&state.db, &me.user_id, &p.to).await? {
        let to = if p.listing.is_empty() {
            format!("/messages/{}", t.id)
        } else {
            format!("/messages/{}?listing={}", t.id, url_encode(&p.listing))
        };
        return Ok(see_other(&to, None));
    }
    render(&new_page(&state, &viewer, &me, &p.to, &p.listing, None).await?)
}

#[derive(Debug, Default, Deserialize)]
struct NewForm {
    #[serde(default)]
    to: String,
    #[serde(default)]
    listing: String,
    #[serde(default)]
    body: String,
}

async fn send_new(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(f): CsrfForm<NewForm>,
) -> PageResult {
    let me = viewer.require()?.clone();
    match messages::send_direct_checked(&state, &me.user_id, &f.to, &f.body, &[])
        .await
        .map_err(AppError::from)
    {
        Ok(m) => Ok(see_other(
            &format!("/messages/{}#composer", m.thread_id),
            Some(SENT),
        )),
        Err(e) => {
            let Some(r) = refusal(&e, &f.body) else {
                return Err(e.into());
            };
            let mut page = new_page(
                &state,
                &viewer,
                &me,
                &f.to,
                &f.listing,
                Some(f.body.clone()),
            )
            .await?;
            page.composer = page.composer.refused(r);
            render_status(e.status(), &page)
        }
    }
}

async fn appeal_new(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(f): CsrfForm<AppealForm>,
) -> PageResult {
    let me = viewer.require()?.clone();
    // The recipient must exist.
    name_of(&state, &f.to).await?;
    let context = crate::guard::Context::DirectMessage {
        to_user_id: f.to.clone(),
    };
    crate::appeals::file(&state, &me.user_id, &f.text, &context).await?;
    Ok(see_other("/messages", Some(APPEALED)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::{AttachmentRef, LastMessage, OtherUser};

    fn message(author: Option<&str>, kind: &str, body: &str) -> MessageView {
        MessageView {
            id: "m1".into(),
            order_id: None,
            thread_id: "t1".into(),
            author_id: author.map(str::to_string),
            kind: kind.into(),
            body: body.into(),
            attachments: vec![],
            created_at: "2026-11-23T15:00:00Z".into(),
        }
    }

    #[test]
    fn routes_do_not_conflict() {
        // `/messages/new` beside `/messages/{id}`: building the router panics on a conflict.
        let _ = routes();
    }

    #[test]
    fn excerpts_are_one_short_line() {
        assert_eq!(excerpt("こんにちは", 60), "こんにちは");
        assert_eq!(excerpt("  一行目\n\n二行目\t三 ", 60), "一行目 二行目 三");
        assert_eq!(excerpt("あいうえおかきくけこ", 5), "あいうえお…");
        assert_eq!(excerpt("あいうえお", 5), "あいうえお");
        assert_eq!(excerpt("", 5), "");
    }

    #[test]
    fn a_listing_opens_the_draft() {
        assert_eq!(
            opening_line("ロゴ作成"),
            "「ロゴ作成」について相談させてください。\n"
        );
    }

    #[test]
    fn a_thread_row_shows_the_last_message_in_japan_time() {
        let t = DirectThreadSummary {
            id: "t1".into(),
            other_user: OtherUser {
                id: "u2".into(),
                display_name: "山田".into(),
            },
            last_message: Some(LastMessage {
                id: "m1".into(),
                author_id: Some("u1".into()),
                kind: "text".into(),
                body: "見積もり\nお願いします".into(),
                // 2026-11-23T15:00:00Z, midnight in Japan.
                created_at_ms: 1_795_446_000_000,
            }),
            unread: 2,
        };
        let row = thread_item(&t, "u1");
        assert_eq!(row.other, "山田");
        assert_eq!(row.excerpt, "見積もり お願いします");
        assert!(row.mine);
        assert_eq!(row.time, "2026年11月24日 00:00");
        assert_eq!(row.at, "2026-11-24T00:00:00+09:00");
        assert_eq!(row.unread, 2);
        assert!(!thread_item(&t, "u2").mine);
        let empty = DirectThreadSummary {
            last_message: None,
            ..t
        };
        let row = thread_item(&empty, "u1");
        assert!(row.excerpt.is_empty() && row.time.is_empty() && !row.mine);
    }

    #[test]
    fn messages_are_named_by_member() {
        let who = Members {
            me: "u1",
            my_name: "私",
            other: "u2",
            other_name: "山田",
        };
        let mut mine = message(Some("u1"), "text", "こんにちは\nよろしく");
        mine.attachments.push(AttachmentRef {
            id: "a1".into(),
            filename: "案.pdf".into(),
            size_bytes: 10,
            content_type: "application/pdf".into(),
        });
        let m = message_item(&mine, &who);
        assert!(m.mine && !m.system);
        assert_eq!(m.author, "私");
        assert_eq!(m.lines, vec!["こんにちは", "よろしく"]);
        assert_eq!(m.attachments[0].filename, "案.pdf");
        let m = message_item(&message(Some("u2"), "text", "はい"), &who);
        assert!(!m.mine);
        assert_eq!(m.author, "山田");
        let m = message_item(&message(None, "system", "お知らせです"), &who);
        assert!(m.system && !m.mine);
        assert_eq!(m.author, "お知らせ");
        assert_eq!(
            message_item(&message(Some("op"), "text", "x"), &who).author,
            "運営"
        );
    }
}
