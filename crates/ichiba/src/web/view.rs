//! View pieces shared by several screens (取引管理, the talk room, direct messages, the operator
//! console): the clock that matters for an order now, file sizes, and the text of a blocked post
//! with the findings marked. How single values are written in Japanese is in `format`.

use super::format::{hours_left, jst_date};
use crate::clock::Millis;
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
