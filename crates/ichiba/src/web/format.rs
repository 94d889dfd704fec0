//! How the web app writes money, dates, durations, rates, ranks and order states in Japanese.

use chrono::DateTime;

use crate::clock::Millis;
use crate::orders::OrderState;
use crate::reputation::model::Rank;

/// `15000` → `15,000円`.
pub fn yen(amount: i64) -> String {
    format!("{}円", grouped(amount))
}

/// `15000` → `15,000`.
pub fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

pub use crate::clock::{jst_date, jst_datetime};

/// A `YYYY-MM-DD` date as `2026年12月7日` (the text itself when it does not parse).
pub fn ymd(s: &str) -> String {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| d.format("%Y年%-m月%-d日").to_string())
        .unwrap_or_else(|_| s.to_string())
}

/// An RFC 3339 time as [`jst_datetime`] (the text itself when it does not parse).
pub fn jst_rfc3339(s: &str) -> String {
    DateTime::parse_from_rfc3339(s)
        .map(|t| jst_datetime(t.timestamp_millis()))
        .unwrap_or_else(|_| s.to_string())
}

/// The time left until `deadline` in words: `あと2日5時間`, `あと12時間`, `あと30分`.
pub fn remaining(now: Millis, deadline: Millis) -> String {
    let minutes = (deadline - now).max(0) / 60_000;
    let (days, hours, mins) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    if days > 0 && hours > 0 {
        format!("あと{days}日{hours}時間")
    } else if days > 0 {
        format!("あと{days}日")
    } else if hours > 0 {
        format!("あと{hours}時間")
    } else {
        format!("あと{}分", mins.max(1))
    }
}

/// The hours left until `deadline`, rounded down (`あと47時間で自動キャンセル`).
pub fn hours_left(now: Millis, deadline: Millis) -> String {
    let hours = (deadline - now).max(0) / 3_600_000;
    if hours > 0 {
        format!("あと{hours}時間")
    } else {
        remaining(now, deadline)
    }
}

/// Percent-encodes a path or query value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `4.8` for an average rating in thousandths, or `—` when there is none.
pub fn stars(average: Option<f64>) -> String {
    average.map_or_else(|| "—".to_string(), |a| format!("{a:.1}"))
}

/// The ranks a seller can reach, lowest first.
pub const RANKS: [Rank; 5] = [
    Rank::Regular,
    Rank::Bronze,
    Rank::Silver,
    Rank::Gold,
    Rank::Platinum,
];

/// The Japanese name of a stored rank (`gold` → `ゴールド`); empty for none or unknown.
pub fn rank_label(stored: Option<&str>) -> String {
    RANKS
        .into_iter()
        .find(|r| Some(r.as_str()) == stored)
        .map(|r| r.label().to_string())
        .unwrap_or_default()
}

/// `0.953` → `95%`; `—` without data.
pub fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".into(), |r| format!("{:.0}%", r * 100.0))
}

/// The Japanese status of an order and its CSS class.
pub fn order_status(state: OrderState) -> (&'static str, &'static str) {
    match state {
        OrderState::PendingFirstReply => ("開始待ち", "waiting"),
        OrderState::InProgress => ("進行中", "progress"),
        OrderState::Delivered => ("納品確認中", "delivered"),
        OrderState::Completed => ("完了", "done"),
        OrderState::Cancelled => ("キャンセル", "cancelled"),
    }
}

/// The lines of a text, for a `<p>` each (without the `\r` of `\r\n`).
pub fn lines(text: &str) -> Vec<String> {
    text.split('\n')
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yen_groups_thousands() {
        assert_eq!(yen(0), "0円");
        assert_eq!(yen(999), "999円");
        assert_eq!(yen(15000), "15,000円");
        assert_eq!(yen(1234567), "1,234,567円");
        assert_eq!(yen(-3000), "-3,000円");
    }

    #[test]
    fn times_are_japan_time() {
        // 2026-11-23T15:00:00Z is midnight of the 24th in Japan.
        let at = 1_795_446_000_000;
        assert_eq!(jst_datetime(at), "2026年11月24日 00:00");
        assert_eq!(jst_date(at), "2026年11月24日");
        assert_eq!(jst_rfc3339("2026-11-23T15:00:00Z"), "2026年11月24日 00:00");
        assert_eq!(ymd("2026-12-07"), "2026年12月7日");
        assert_eq!(ymd("soon"), "soon");
    }

    #[test]
    fn remaining_time_reads_naturally() {
        let h = 3_600_000;
        assert_eq!(remaining(0, 53 * h), "あと2日5時間");
        assert_eq!(remaining(0, 48 * h), "あと2日");
        assert_eq!(remaining(0, 12 * h + 59_000), "あと12時間");
        assert_eq!(remaining(0, 30 * 60_000), "あと30分");
        assert_eq!(remaining(10, 0), "あと1分");
        assert_eq!(hours_left(0, 47 * h + 30 * 60_000), "あと47時間");
    }

    #[test]
    fn rates_are_whole_percents() {
        assert_eq!(percent(None), "—");
        assert_eq!(percent(Some(0.953)), "95%");
        assert_eq!(percent(Some(1.0)), "100%");
    }

    #[test]
    fn order_states_have_japanese_labels() {
        assert_eq!(order_status(OrderState::Delivered).0, "納品確認中");
        assert_eq!(
            order_status(OrderState::Cancelled),
            ("キャンセル", "cancelled")
        );
    }

    #[test]
    fn url_encoding_keeps_paths_readable() {
        assert_eq!(url_encode("/orders/abc?x=1"), "/orders/abc%3Fx%3D1");
        assert_eq!(url_encode("ロゴ"), "%E3%83%AD%E3%82%B4");
    }

    #[test]
    fn lines_split_without_carriage_returns() {
        assert_eq!(lines("a\r\nb\n\nc"), vec!["a", "b", "", "c"]);
    }
}
