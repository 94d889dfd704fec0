//! All SQL of threads (talk rooms and direct-message threads), messages, read marks and the links
//! between messages and attachments.

use sqlx::AnyConnection;

use crate::clock::Millis;
use crate::db::{new_id, params};

/// A thread row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ThreadRow {
    pub id: String,
    pub kind: String,
    pub order_id: Option<String>,
    pub user_a: String,
    pub user_b: String,
    pub created_at_ms: i64,
    pub last_message_at_ms: i64,
}

impl ThreadRow {
    /// Whether the user is one of the two members.
    pub fn has_member(&self, user_id: &str) -> bool {
        self.user_a == user_id || self.user_b == user_id
    }

    /// The member who is not `user_id`.
    pub fn other(&self, user_id: &str) -> &str {
        if self.user_a == user_id {
            &self.user_b
        } else {
            &self.user_a
        }
    }
}

/// A message row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    pub id: String,
    pub thread_id: String,
    pub author_id: Option<String>,
    pub kind: String,
    pub body: String,
    pub created_at_ms: i64,
    pub seq: i64,
}

/// An attachment of a message.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageAttachmentRow {
    pub message_id: String,
    pub id: String,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
}

const THREAD_COLUMNS: &str =
    "id, kind, order_id, user_a, user_b, created_at_ms, last_message_at_ms";

/// Creates a thread and returns its row; members are stored in sorted order.
pub async fn insert_thread(
    conn: &mut AnyConnection,
    kind: &str,
    order_id: Option<&str>,
    a: &str,
    b: &str,
    now: Millis,
) -> Result<ThreadRow, sqlx::Error> {
    let (a, b) = if a <= b { (a, b) } else { (b, a) };
    let row = ThreadRow {
        id: new_id(),
        kind: kind.to_string(),
        order_id: order_id.map(str::to_string),
        user_a: a.to_string(),
        user_b: b.to_string(),
        created_at_ms: now,
        last_message_at_ms: now,
    };
    sqlx::query(
        "INSERT INTO threads (id, kind, order_id, user_a, user_b, created_at_ms, last_message_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(&row.id)
    .bind(&row.kind)
    .bind(row.order_id.clone())
    .bind(&row.user_a)
    .bind(&row.user_b)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(row)
}

/// The talk room of an order.
pub async fn thread_of_order(
    conn: &mut AnyConnection,
    order_id: &str,
) -> Result<Option<ThreadRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {THREAD_COLUMNS} FROM threads WHERE order_id = $1"
    )))
    .bind(order_id)
    .fetch_optional(conn)
    .await
}

/// A thread by id.
pub async fn thread_by_id(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<ThreadRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {THREAD_COLUMNS} FROM threads WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The direct-message thread of two users, if any.
pub async fn direct_thread(
    conn: &mut AnyConnection,
    a: &str,
    b: &str,
) -> Result<Option<ThreadRow>, sqlx::Error> {
    let (a, b) = if a <= b { (a, b) } else { (b, a) };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {THREAD_COLUMNS} FROM threads WHERE kind = 'direct' AND user_a = $1 AND user_b = $2"
    )))
    .bind(a)
    .bind(b)
    .fetch_optional(conn)
    .await
}

/// The direct thread of a pair, created if they have none. Two first messages sent at once both
/// find it: the second insert waits for the first and does nothing (on PostgreSQL it would
/// otherwise fail on the one-thread-per-pair index and abort its transaction).
pub async fn ensure_direct_thread(
    conn: &mut AnyConnection,
    a: &str,
    b: &str,
    now: Millis,
) -> Result<Option<ThreadRow>, sqlx::Error> {
    let (a, b) = if a <= b { (a, b) } else { (b, a) };
    sqlx::query(
        "INSERT INTO threads (id, kind, order_id, user_a, user_b, created_at_ms, last_message_at_ms) \
         VALUES ($1, 'direct', NULL, $2, $3, $4, $4) \
         ON CONFLICT (user_a, user_b) WHERE kind = 'direct' DO NOTHING",
    )
    .bind(new_id())
    .bind(a)
    .bind(b)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    direct_thread(conn, a, b).await
}

/// A direct-message thread as its list shows it to one member: the other member and their
/// name, the latest message (all `None` without messages) and how many messages by others the
/// member has not read. The read model of the thread list, one row per thread.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DirectThreadRow {
    pub id: String,
    pub other_user_id: String,
    pub other_display_name: String,
    pub last_id: Option<String>,
    pub last_author_id: Option<String>,
    pub last_kind: Option<String>,
    pub last_body: Option<String>,
    pub last_created_at_ms: Option<i64>,
    pub unread: i64,
}

/// The read model of direct threads for the member `$1`: the other member's name by a join, the
/// latest message by its sequence number (unique per thread), the unread count by a subquery.
const SELECT_DIRECT_THREAD: &str = "SELECT t.id, \
     CASE WHEN t.user_a = $1 THEN t.user_b ELSE t.user_a END AS other_user_id, \
     COALESCE(u.display_name, '') AS other_display_name, \
     m.id AS last_id, m.author_id AS last_author_id, m.kind AS last_kind, \
     m.body AS last_body, m.created_at_ms AS last_created_at_ms, \
     (SELECT COUNT(*) FROM messages x WHERE x.thread_id = t.id \
       AND (x.author_id IS NULL OR x.author_id <> $1) \
       AND x.seq > COALESCE((SELECT r.last_read_seq FROM thread_reads r \
                             WHERE r.thread_id = t.id AND r.user_id = $1), 0)) AS unread \
     FROM threads t \
     LEFT JOIN users u ON u.id = CASE WHEN t.user_a = $1 THEN t.user_b ELSE t.user_a END \
     LEFT JOIN messages m ON m.thread_id = t.id \
       AND m.seq = (SELECT MAX(l.seq) FROM messages l WHERE l.thread_id = t.id) \
     WHERE t.kind = 'direct' AND (t.user_a = $1 OR t.user_b = $1)";

/// The user's direct-message threads as list rows, most recent first (at most 200), in one
/// statement.
pub async fn direct_thread_rows(
    conn: &mut AnyConnection,
    user_id: &str,
) -> Result<Vec<DirectThreadRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_DIRECT_THREAD} ORDER BY t.last_message_at_ms DESC, t.id DESC LIMIT 200"
    )))
    .bind(user_id)
    .fetch_all(conn)
    .await
}

/// One direct-message thread of the user as a list row (`None` when it is not theirs).
pub async fn direct_thread_row(
    conn: &mut AnyConnection,
    user_id: &str,
    thread_id: &str,
) -> Result<Option<DirectThreadRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_DIRECT_THREAD} AND t.id = $2"
    )))
    .bind(user_id)
    .bind(thread_id)
    .fetch_optional(conn)
    .await
}

/// Appends a message to its thread: locks the thread (the UPDATE takes the row lock on
/// PostgreSQL; SQLite has one writer) and inserts the message with the thread's next sequence
/// number, which it returns. `m.seq` is not read.
pub async fn append_message(conn: &mut AnyConnection, m: &MessageRow) -> Result<i64, sqlx::Error> {
    sqlx::query("UPDATE threads SET last_message_at_ms = $2 WHERE id = $1")
        .bind(&m.thread_id)
        .bind(m.created_at_ms)
        .execute(&mut *conn)
        .await?;
    sqlx::query_scalar(
        "INSERT INTO messages (id, thread_id, author_id, kind, body, created_at_ms, seq) \
         VALUES ($1, $2, $3, $4, $5, $6, \
                 (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE thread_id = $2)) \
         RETURNING seq",
    )
    .bind(&m.id)
    .bind(&m.thread_id)
    .bind(m.author_id.clone())
    .bind(&m.kind)
    .bind(&m.body)
    .bind(m.created_at_ms)
    .fetch_one(conn)
    .await
}

/// Links an attachment to a message.
pub async fn link_attachment(
    conn: &mut AnyConnection,
    message_id: &str,
    attachment_id: &str,
    position: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO message_attachments (message_id, attachment_id, position) VALUES ($1, $2, $3)",
    )
    .bind(message_id)
    .bind(attachment_id)
    .bind(position)
    .execute(conn)
    .await?;
    Ok(())
}

/// Messages of a thread after sequence `after`, oldest first.
pub async fn messages_of(
    conn: &mut AnyConnection,
    thread_id: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<MessageRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, thread_id, author_id, kind, body, created_at_ms, seq FROM messages \
         WHERE thread_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(thread_id)
    .bind(after)
    .bind(limit + 1)
    .fetch_all(conn)
    .await
}

/// Attachments of the given messages, in order.
pub async fn attachments_of(
    conn: &mut AnyConnection,
    message_ids: &[String],
) -> Result<Vec<MessageAttachmentRow>, sqlx::Error> {
    if message_ids.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT ma.message_id, a.id, a.filename, a.content_type, a.size_bytes \
         FROM message_attachments ma JOIN attachments a ON a.id = ma.attachment_id \
         WHERE ma.message_id IN ({}) ORDER BY ma.message_id, ma.position",
        params::list(1, message_ids.len())
    );
    let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
    for id in message_ids {
        q = q.bind(id);
    }
    q.fetch_all(conn).await
}

/// Records that `user_id` has read the thread up to `seq`.
pub async fn mark_read(
    conn: &mut AnyConnection,
    thread_id: &str,
    user_id: &str,
    seq: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO thread_reads (thread_id, user_id, last_read_seq) VALUES ($1, $2, $3) \
         ON CONFLICT (thread_id, user_id) DO UPDATE SET last_read_seq = \
         CASE WHEN thread_reads.last_read_seq > excluded.last_read_seq \
              THEN thread_reads.last_read_seq ELSE excluded.last_read_seq END",
    )
    .bind(thread_id)
    .bind(user_id)
    .bind(seq)
    .execute(conn)
    .await?;
    Ok(())
}

/// Messages in the thread by others that `user_id` has not read.
pub async fn unread_count(
    conn: &mut AnyConnection,
    thread_id: &str,
    user_id: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages m WHERE m.thread_id = $1 \
         AND (m.author_id IS NULL OR m.author_id <> $2) \
         AND m.seq > COALESCE((SELECT r.last_read_seq FROM thread_reads r \
                               WHERE r.thread_id = $1 AND r.user_id = $2), 0)",
    )
    .bind(thread_id)
    .bind(user_id)
    .fetch_one(conn)
    .await
}

/// Whether every attachment id exists and belongs to `owner_id`.
pub async fn owns_attachments(
    conn: &mut AnyConnection,
    owner_id: &str,
    ids: &[String],
) -> Result<bool, sqlx::Error> {
    for id in ids {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM attachments WHERE id = $1 AND owner_id = $2")
                .bind(id)
                .bind(owner_id)
                .fetch_one(&mut *conn)
                .await?;
        if n != 1 {
            return Ok(false);
        }
    }
    Ok(true)
}
