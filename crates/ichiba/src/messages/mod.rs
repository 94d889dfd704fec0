//! Messages: talk rooms (トークルーム, one per order) and direct-message threads (メッセージ, between
//! any two users before a purchase). A message has a kind (`text`, `delivery`, `system`), a body
//! and attachments. The order engine decides what a talk-room post does to the order; this module
//! stores and lists messages.

pub mod http;
pub mod store;

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::clock::{Millis, to_rfc3339};
use crate::db::{Db, new_id};
use crate::error::{AppError, FieldError, FieldErrors};
use crate::events::{Event, EventKind, Hub};
use crate::guard::GuardError;

pub use store::ThreadRow;

/// What can go wrong with messages and threads.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// Field validation failed (the body).
    #[error("invalid message")]
    Invalid(FieldErrors),
    /// An attachment id is unknown or was uploaded by someone else.
    #[error("unknown attachment")]
    UnknownAttachment,
    /// A direct message to oneself.
    #[error("cannot message oneself")]
    CannotMessageSelf,
    /// No such thread or user, or the caller is not a member.
    #[error("thread not found")]
    NotFound,
    /// A page cursor this server did not make.
    #[error("invalid cursor")]
    InvalidCursor,
    /// The contact guard refused the text or the sender may not send direct messages now.
    #[error(transparent)]
    Guard(#[from] GuardError),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl From<MessageError> for AppError {
    fn from(e: MessageError) -> Self {
        match e {
            MessageError::Invalid(fields) => AppError::Validation(fields),
            MessageError::UnknownAttachment => {
                let mut f = FieldErrors::new();
                f.add(
                    "attachment_ids",
                    "unknown_attachment",
                    "添付ファイルが見つかりません。アップロードし直してください。",
                );
                AppError::Validation(f)
            }
            MessageError::CannotMessageSelf => AppError::Rule {
                code: "cannot_message_self",
                message: "ご自身にはメッセージを送れません。".into(),
                details: serde_json::json!({}),
            },
            MessageError::NotFound => AppError::NotFound,
            MessageError::InvalidCursor => AppError::invalid_cursor(),
            MessageError::Guard(e) => e.into(),
            MessageError::Db(e) => AppError::internal(e),
        }
    }
}

/// A message body: 1 to 5,000 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    /// Maximum length in characters.
    pub const MAX_CHARS: usize = 5000;

    /// Parses a submitted body. Errors name the field `body`.
    pub fn parse(input: &str) -> Result<MessageBody, FieldError> {
        let s = crate::text::trim(input);
        let bad = |code, message: String| FieldError {
            field: "body".into(),
            code,
            message,
        };
        if s.is_empty() {
            return Err(bad("required", "メッセージを入力してください。".into()));
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(bad(
                "too_long",
                format!(
                    "メッセージは{}文字以内で入力してください。",
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok(MessageBody(s.to_string()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Parses a body, with the field error as a set (a 422 `validation_failed` at the edge).
pub fn parse_body(input: &str) -> Result<MessageBody, FieldErrors> {
    MessageBody::parse(input).map_err(|e| {
        let mut f = FieldErrors::new();
        f.add(e.field, e.code, e.message);
        f
    })
}

/// An attachment as listed with a message.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttachmentRef {
    /// Attachment id (download at `/api/v1/attachments/{id}`).
    pub id: String,
    /// Original file name.
    pub filename: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// MIME type.
    pub content_type: String,
}

/// A message as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageView {
    /// Id.
    pub id: String,
    /// The order, for talk-room messages.
    pub order_id: Option<String>,
    /// The thread.
    pub thread_id: String,
    /// Author; `null` for system messages.
    pub author_id: Option<String>,
    /// `text`, `delivery` or `system`.
    pub kind: String,
    /// Text.
    pub body: String,
    /// Attachments.
    pub attachments: Vec<AttachmentRef>,
    /// When.
    pub created_at: String,
}

/// A page of messages, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessagePage {
    /// Messages.
    pub items: Vec<MessageView>,
    /// Cursor of the next page (newer messages).
    pub next_cursor: Option<String>,
}

/// Stores a message in the caller's transaction and returns it with the events for both members
/// (to publish after commit).
///
/// Errors: [`MessageError::UnknownAttachment`] unless every attachment belongs to the author.
pub async fn insert(
    conn: &mut sqlx::AnyConnection,
    thread: &ThreadRow,
    author_id: Option<&str>,
    kind: &str,
    body: &str,
    attachment_ids: &[String],
    now: Millis,
) -> Result<(MessageView, Vec<Event>), MessageError> {
    if !attachment_ids.is_empty() {
        let owner = author_id.unwrap_or("");
        if !store::owns_attachments(conn, owner, attachment_ids).await? {
            return Err(MessageError::UnknownAttachment);
        }
    }
    let mut row = store::MessageRow {
        id: new_id(),
        thread_id: thread.id.clone(),
        author_id: author_id.map(str::to_string),
        kind: kind.to_string(),
        body: body.to_string(),
        created_at_ms: now,
        seq: 0,
    };
    row.seq = store::append_message(conn, &row).await?;
    for (i, a) in attachment_ids.iter().enumerate() {
        store::link_attachment(conn, &row.id, a, i64::try_from(i).unwrap_or(0)).await?;
    }
    if let Some(author) = author_id {
        store::mark_read(conn, &thread.id, author, row.seq).await?;
    }
    // A message without attachments needs no read back.
    let view = if attachment_ids.is_empty() {
        view_of(thread, row, Vec::new())
    } else {
        to_views(conn, thread, vec![row])
            .await?
            .pop()
            .ok_or(MessageError::NotFound)?
    };
    let data = serde_json::to_value(&view).unwrap_or_default();
    let events = [&thread.user_a, &thread.user_b]
        .into_iter()
        .map(|u| Event {
            user_id: u.clone(),
            kind: EventKind::Message,
            data: data.clone(),
        })
        .collect();
    Ok((view, events))
}

/// The attachments of the given messages, by message, in their order.
async fn attachments_by_message(
    conn: &mut sqlx::AnyConnection,
    message_ids: &[String],
) -> Result<HashMap<String, Vec<AttachmentRef>>, sqlx::Error> {
    let mut by_message: HashMap<String, Vec<AttachmentRef>> = HashMap::new();
    for a in store::attachments_of(conn, message_ids).await? {
        by_message
            .entry(a.message_id)
            .or_default()
            .push(AttachmentRef {
                id: a.id,
                filename: a.filename,
                size_bytes: a.size_bytes,
                content_type: a.content_type,
            });
    }
    Ok(by_message)
}

/// Attaches attachments and the order id to message rows.
pub async fn to_views(
    conn: &mut sqlx::AnyConnection,
    thread: &ThreadRow,
    rows: Vec<store::MessageRow>,
) -> Result<Vec<MessageView>, sqlx::Error> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut by_message = attachments_by_message(conn, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let attachments = by_message.remove(&r.id).unwrap_or_default();
            view_of(thread, r, attachments)
        })
        .collect())
}

fn view_of(
    thread: &ThreadRow,
    r: store::MessageRow,
    attachments: Vec<AttachmentRef>,
) -> MessageView {
    MessageView {
        attachments,
        order_id: thread.order_id.clone(),
        thread_id: r.thread_id,
        author_id: r.author_id,
        kind: r.kind,
        body: r.body,
        created_at: to_rfc3339(r.created_at_ms),
        id: r.id,
    }
}

/// A page of a thread's messages for a member, oldest first; marks them read for the reader.
///
/// Errors: [`MessageError::InvalidCursor`] for a cursor this server did not make.
pub async fn page(
    db: &Db,
    thread: &ThreadRow,
    reader: &str,
    cursor: Option<&str>,
) -> Result<MessagePage, MessageError> {
    let after = match cursor {
        None => 0,
        Some(c) => c.parse::<i64>().map_err(|_| MessageError::InvalidCursor)?,
    };
    let limit = 100;
    let mut conn = db.pool().acquire().await?;
    let mut rows = store::messages_of(&mut conn, &thread.id, after, limit).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let last_seq = rows.last().map(|r| r.seq);
    let next_cursor = if more {
        last_seq.map(|s| s.to_string())
    } else {
        None
    };
    let items = to_views(&mut conn, thread, rows).await?;
    drop(conn);
    if let Some(seq) = last_seq {
        let mut tx = db.begin().await?;
        store::mark_read(&mut tx, &thread.id, reader, seq).await?;
        tx.commit().await?;
    }
    Ok(MessagePage { items, next_cursor })
}

/// A direct-message thread as listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DirectThreadView {
    /// Thread id.
    pub id: String,
    /// The other member.
    pub other_user: OtherUser,
    /// The latest message.
    pub last_message: Option<MessageView>,
    /// Messages the caller has not read.
    pub unread: i64,
}

/// The other member of a thread.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OtherUser {
    /// User id.
    pub id: String,
    /// Public name.
    pub display_name: String,
}

/// Sends a direct message (a thread is created on the first one).
///
/// Errors: [`MessageError::Invalid`] for the body, [`MessageError::CannotMessageSelf`],
/// [`MessageError::NotFound`] for an unknown recipient, [`MessageError::UnknownAttachment`].
pub async fn send_direct(
    db: &Db,
    hub: &Hub,
    from: &str,
    to: &str,
    body: &str,
    attachment_ids: &[String],
    now: Millis,
) -> Result<MessageView, MessageError> {
    let body = parse_body(body).map_err(MessageError::Invalid)?;
    if from == to {
        return Err(MessageError::CannotMessageSelf);
    }
    let mut tx = db.begin().await?;
    if crate::auth::display_name(&mut tx, to).await?.is_none() {
        return Err(MessageError::NotFound);
    }
    let thread = store::ensure_direct_thread(&mut tx, from, to, now)
        .await?
        .ok_or(MessageError::NotFound)?;
    let (view, events) = insert(
        &mut tx,
        &thread,
        Some(from),
        "text",
        body.as_str(),
        attachment_ids,
        now,
    )
    .await?;
    tx.commit().await?;
    hub.publish(events).await;
    Ok(view)
}

/// A direct-message thread as its list shows it: one row of one query, without attachments.
#[derive(Debug, Clone)]
pub struct DirectThreadSummary {
    /// Thread id.
    pub id: String,
    /// The other member.
    pub other_user: OtherUser,
    /// The latest message, `None` before the first.
    pub last_message: Option<LastMessage>,
    /// Messages by others the caller has not read.
    pub unread: i64,
}

/// The latest message of a thread, as a list row shows it.
#[derive(Debug, Clone)]
pub struct LastMessage {
    /// Id.
    pub id: String,
    /// Author; `None` for system messages.
    pub author_id: Option<String>,
    /// `text`, `delivery` or `system`.
    pub kind: String,
    /// Text.
    pub body: String,
    /// When.
    pub created_at_ms: Millis,
}

impl From<store::DirectThreadRow> for DirectThreadSummary {
    fn from(r: store::DirectThreadRow) -> Self {
        let last_message = match (r.last_id, r.last_kind, r.last_body, r.last_created_at_ms) {
            (Some(id), Some(kind), Some(body), Some(created_at_ms)) => Some(LastMessage {
                id,
                author_id: r.last_author_id,
                kind,
                body,
                created_at_ms,
            }),
            _ => None,
        };
        DirectThreadSummary {
            id: r.id,
            other_user: OtherUser {
                id: r.other_user_id,
                display_name: r.other_display_name,
            },
            last_message,
            unread: r.unread,
        }
    }
}

/// The caller's direct-message threads as list rows, most recent first, from one query.
pub async fn direct_thread_summaries(
    db: &Db,
    user_id: &str,
) -> Result<Vec<DirectThreadSummary>, MessageError> {
    let mut conn = db.pool().acquire().await?;
    let rows = store::direct_thread_rows(&mut conn, user_id).await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// The caller's direct-message threads: the list rows and, in one more query, the attachments of
/// their latest messages.
pub async fn direct_threads(db: &Db, user_id: &str) -> Result<Vec<DirectThreadView>, MessageError> {
    let mut conn = db.pool().acquire().await?;
    let rows = store::direct_thread_rows(&mut conn, user_id).await?;
    let summaries: Vec<DirectThreadSummary> = rows.into_iter().map(Into::into).collect();
    Ok(with_attachments(&mut conn, summaries).await?)
}

/// Thread views of list rows, with the attachments of every latest message read at once.
async fn with_attachments(
    conn: &mut sqlx::AnyConnection,
    summaries: Vec<DirectThreadSummary>,
) -> Result<Vec<DirectThreadView>, sqlx::Error> {
    let ids: Vec<String> = summaries
        .iter()
        .filter_map(|t| t.last_message.as_ref().map(|m| m.id.clone()))
        .collect();
    let mut by_message = attachments_by_message(conn, &ids).await?;
    Ok(summaries
        .into_iter()
        .map(|t| DirectThreadView {
            last_message: t.last_message.map(|m| MessageView {
                attachments: by_message.remove(&m.id).unwrap_or_default(),
                order_id: None,
                thread_id: t.id.clone(),
                author_id: m.author_id,
                kind: m.kind,
                body: m.body,
                created_at: to_rfc3339(m.created_at_ms),
                id: m.id,
            }),
            id: t.id,
            other_user: t.other_user,
            unread: t.unread,
        })
        .collect())
}

/// A direct thread the caller is a member of (else 404).
pub async fn direct_thread_for(
    db: &Db,
    user_id: &str,
    thread_id: &str,
) -> Result<(ThreadRow, DirectThreadView), MessageError> {
    let mut conn = db.pool().acquire().await?;
    let t = store::thread_by_id(&mut conn, thread_id)
        .await?
        .ok_or(MessageError::NotFound)?;
    if t.kind != "direct" || !t.has_member(user_id) {
        return Err(MessageError::NotFound);
    }
    let row = store::direct_thread_row(&mut conn, user_id, thread_id)
        .await?
        .ok_or(MessageError::NotFound)?;
    let view = with_attachments(&mut conn, vec![row.into()])
        .await?
        .pop()
        .ok_or(MessageError::NotFound)?;
    Ok((t, view))
}

/// Sends a direct message the way its author asked for it, for the API and the web app alike:
/// refused while a sanction blocks direct messages (429 `restricted` / 403
/// `account_suspended`), screened by the contact guard (a block is recorded and comes back as the
/// 422 `off_platform_contact` with the findings), then sent with [`send_direct`].
#[tracing::instrument(skip_all, fields(user_id = %from, to = %to))]
pub async fn send_direct_checked(
    state: &crate::state::AppState,
    from: &str,
    to: &str,
    body: &str,
    attachment_ids: &[String],
) -> Result<MessageView, MessageError> {
    crate::guard::ensure_allowed(state, from, crate::guard::Activity::DirectMessage).await?;
    let context = crate::guard::Context::DirectMessage {
        to_user_id: to.to_string(),
    };
    crate::guard::screen(state, Some(from), &context, &[("body", body)]).await?;
    send_direct(
        &state.db,
        &state.hub,
        from,
        to,
        body,
        attachment_ids,
        state.clock.now_ms(),
    )
    .await
}

/// The direct-message thread of two users, if they have written to each other.
pub async fn direct_thread_between(
    db: &Db,
    a: &str,
    b: &str,
) -> Result<Option<ThreadRow>, MessageError> {
    let mut conn = db.pool().acquire().await?;
    Ok(store::direct_thread(&mut conn, a, b).await?)
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;

    fn variant(e: &MessageError) -> usize {
        match e {
            MessageError::Invalid(_) => 0,
            MessageError::UnknownAttachment => 1,
            MessageError::CannotMessageSelf => 2,
            MessageError::NotFound => 3,
            MessageError::InvalidCursor => 4,
            MessageError::Guard(_) => 5,
            MessageError::Db(_) => 6,
        }
    }

    #[test]
    fn every_message_error_maps_to_its_status_and_code() {
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        let samples = vec![
            (
                MessageError::Invalid(parse_body("  ").expect_err("empty")),
                unprocessable,
                "validation_failed",
            ),
            (
                MessageError::UnknownAttachment,
                unprocessable,
                "validation_failed",
            ),
            (
                MessageError::CannotMessageSelf,
                unprocessable,
                "cannot_message_self",
            ),
            (MessageError::NotFound, StatusCode::NOT_FOUND, "not_found"),
            (
                MessageError::InvalidCursor,
                StatusCode::BAD_REQUEST,
                "invalid_cursor",
            ),
            (
                MessageError::Guard(GuardError::Restricted {
                    until_at: "2027-01-15T08:00:00+09:00".into(),
                }),
                StatusCode::TOO_MANY_REQUESTS,
                "restricted",
            ),
            (
                MessageError::Db(sqlx::Error::RowNotFound),
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
            ),
        ];
        crate::error::mapping::check(samples, variant, 7);
    }

    #[test]
    fn field_errors_name_the_body_and_the_attachments() {
        let fields =
            |e: MessageError| AppError::from(e).body()["error"]["details"]["fields"][0].clone();
        let body = fields(MessageError::Invalid(parse_body("").expect_err("empty")));
        assert_eq!(body["field"], "body");
        assert_eq!(body["code"], "required");
        let attachments = fields(MessageError::UnknownAttachment);
        assert_eq!(attachments["field"], "attachment_ids");
        assert_eq!(attachments["code"], "unknown_attachment");
    }

    #[test]
    fn a_guard_refusal_inside_a_message_error_keeps_the_guards_own_answer() {
        let suspended = AppError::from(MessageError::Guard(GuardError::Suspended));
        assert_eq!(suspended.status(), StatusCode::FORBIDDEN);
        assert_eq!(suspended.body()["error"]["code"], "account_suspended");
        let blocked = AppError::from(MessageError::Guard(GuardError::Blocked {
            findings: vec![],
            strikes_24h: 1,
            restricted_until: None,
            labels: vec!["LINE".into()],
        }));
        assert_eq!(blocked.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(blocked.body()["error"]["code"], "off_platform_contact");
    }
}
