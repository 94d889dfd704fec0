//! View pieces shared by several screens (取引管理, the talk room, direct messages, the operator
//! console): the clock that matters for an order now, file sizes, a thread read whole, and the
//! text of a blocked post with the findings marked. How single values are written in Japanese is
//! in `format`.

use super::format::{hours_left, jst_date};
use crate::clock::Millis;
use crate::db::Db;
use crate::error::AppError;
use crate::messages::{MessageView, ThreadRow};
use crate::orders::{Order, OrderState};

/// The clock that matters for an order now (empty when there is none to show).
pub fn clock_of(o: &Order, now: Millis) -> String {
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

/// The size of a file: `1.5 MB` from a mebibyte on, otherwise kibibytes rounded up (`3 KB`).
pub fn size_label(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", (bytes + 1023) / 1024)
    }
}

/// Pages of a thread a screen reads at most (of 100 messages each), so that one runaway thread
/// cannot hold a page forever.
const THREAD_PAGES: usize = 50;

/// Every message of `thread` as `reader` sees it, oldest first; reading marks them read (see
/// `messages::page`). The talk room and a direct conversation show their thread whole.
pub async fn whole_thread(
    db: &Db,
    thread: &ThreadRow,
    reader: &str,
) -> Result<Vec<MessageView>, AppError> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..THREAD_PAGES {
        let page = crate::messages::page(db, thread, reader, cursor.as_deref()).await?;
        items.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    Ok(items)
}

/// What the flash says after an appeal against a block, in the talk room and in direct messages
/// alike.
pub const APPEALED: &str = "運営に確認を依頼しました。問題がないと判断された場合、メッセージは相手に届けられます。結果はお知らせでお伝えします。";

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
    /// Where it was written (a `guard::Context` kind), posted back with an appeal.
    pub context: String,
}

impl Blocked {
    /// The contact guard's block of `text` (the `off_platform_contact` refusal), with the
    /// findings marked; `None` for any other error.
    pub fn from_error(e: &AppError, text: &str, context: &str) -> Option<Blocked> {
        match e {
            AppError::Rule {
                code: "off_platform_contact",
                message,
                details,
            } => Some(Blocked {
                message: message.clone(),
                segments: segments(text, details),
                text: text.to_string(),
                context: context.to_string(),
            }),
            _ => None,
        }
    }
}

/// Splits `text` at the findings' character spans as the guard's refusal details carry them
/// (`details.findings[].start/end`).
pub fn segments(text: &str, details: &serde_json::Value) -> Vec<Segment> {
    let spans = details["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["start"].as_u64().unwrap_or(0) as usize,
                f["end"].as_u64().unwrap_or(0) as usize,
            )
        });
    marked(text, spans)
}

/// Splits `text` at character spans (`start` inclusive, `end` exclusive), marking what they cover.
pub fn marked(text: &str, spans: impl IntoIterator<Item = (usize, usize)>) -> Vec<Segment> {
    let chars: Vec<char> = text.chars().collect();
    let mut covered = vec![false; chars.len()];
    for (start, end) in spans {
        let end = end.min(chars.len());
        for m in covered.iter_mut().take(end).skip(start) {
            *m = true;
        }
    }
    let mut out: Vec<Segment> = Vec::new();
    for (c, m) in chars.into_iter().zip(covered) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_sizes_round_up_to_kilobytes_below_a_megabyte() {
        assert_eq!(size_label(1), "1 KB");
        assert_eq!(size_label(2048), "2 KB");
        assert_eq!(size_label(2049), "3 KB");
        assert_eq!(size_label(1536 * 1024), "1.5 MB");
    }

    #[test]
    fn a_finding_marks_its_characters_only() {
        let details = serde_json::json!({"findings": [{"start": 2, "end": 4}]});
        let parts: Vec<(String, bool)> = segments("連絡はLINEで", &details)
            .into_iter()
            .map(|s| (s.text, s.mark))
            .collect();
        assert_eq!(
            parts,
            vec![
                ("連絡".to_string(), false),
                ("はL".to_string(), true),
                ("INEで".to_string(), false),
            ]
        );
    }
}
