//! The seller's ledger as a CSV file for 確定申告 (tax returns): UTF-8 with a byte-order mark so
//! Excel opens it as UTF-8, Japanese headers, one row per entry oldest first, with the payout
//! behind each payout line (status, fee, net, payment date). It lives with payouts because every
//! payout line is labelled by the payout's state.

use chrono::TimeZone;

use super::model::PayoutState;
use crate::clock::JST;
use crate::db::Db;
use crate::ledger::store::{self, EntryRow};

/// The header row.
pub const HEADERS: [&str; 11] = [
    "日時",
    "口座",
    "区分",
    "金額",
    "取引ID",
    "振込申請ID",
    "振込状況",
    "振込手数料",
    "振込額",
    "振込予定日",
    "摘要",
];

fn account_label(kind: &str) -> &str {
    match kind {
        "earnings" => "売上金",
        "points" => "ポイント",
        "payout_pending" => "振込申請中",
        other => other,
    }
}

fn code_label(code: &str) -> &str {
    match code {
        "purchase" => "購入",
        "release" => "売上確定",
        "refund" => "返金",
        "settlement" => "運営による精算",
        "payout_request" => "振込申請",
        "payout" => "振込",
        "payout_return" => "振込失敗による返却",
        "points_conversion" => "ポイント交換",
        "points_expiry" => "ポイント失効",
        other => other,
    }
}

/// Quotes a field when needed, and defuses text that a spreadsheet would run as a formula
/// (memos hold listing titles, which users write).
fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn row(r: &EntryRow) -> String {
    let at = JST
        .timestamp_millis_opt(r.at_ms)
        .single()
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default();
    let status = r
        .payout_state
        .as_deref()
        .and_then(PayoutState::parse)
        .map(PayoutState::label)
        .unwrap_or("");
    let cells = [
        at,
        account_label(&r.account_kind).to_string(),
        code_label(&r.code).to_string(),
        r.amount_yen.to_string(),
        r.order_id.clone().unwrap_or_default(),
        r.payout_id.clone().unwrap_or_default(),
        status.to_string(),
        r.payout_fee_yen.map(|v| v.to_string()).unwrap_or_default(),
        r.payout_net_yen.map(|v| v.to_string()).unwrap_or_default(),
        r.payout_scheduled_for.clone().unwrap_or_default(),
        r.memo.clone(),
    ];
    // Amounts may be negative numbers: only text cells are defused.
    let mut out: Vec<String> = Vec::with_capacity(cells.len());
    for (i, c) in cells.iter().enumerate() {
        out.push(if i == 3 { c.clone() } else { field(c) });
    }
    out.join(",")
}

/// Renders rows as the CSV file's bytes (BOM, header, CRLF line ends).
pub fn render(rows: &[EntryRow]) -> Vec<u8> {
    let mut text = String::from("\u{FEFF}");
    text.push_str(&HEADERS.join(","));
    text.push_str("\r\n");
    for r in rows {
        text.push_str(&row(r));
        text.push_str("\r\n");
    }
    text.into_bytes()
}

/// The user's whole ledger as CSV.
pub async fn of_user(db: &Db, user_id: &str) -> Result<Vec<u8>, sqlx::Error> {
    let mut conn = db.pool().acquire().await?;
    let rows = store::all_entries_of_user(&mut conn, user_id).await?;
    Ok(render(&rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(code: &str, amount: i64, memo: &str) -> EntryRow {
        EntryRow {
            entry_id: "e1".into(),
            account_kind: "earnings".into(),
            amount_yen: amount,
            at_ms: 1_795_424_400_000, // 2026-11-23T18:00:00+09:00
            code: code.into(),
            order_id: None,
            memo: memo.into(),
            payout_id: Some("p1".into()),
            payout_state: Some("paid".into()),
            payout_fee_yen: Some(160),
            payout_net_yen: Some(1_840),
            payout_scheduled_for: Some("2026-12-07".into()),
        }
    }

    #[test]
    fn the_csv_has_a_bom_japanese_headers_and_defused_text() {
        let bytes = render(&[entry("payout_request", -2_000, "=HYPERLINK(\"x\"), 申請")]);
        assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.trim_start_matches('\u{FEFF}').split("\r\n").collect();
        assert!(lines[0].starts_with("日時,口座,区分,金額"));
        assert_eq!(
            lines[1],
            "2026-11-23 18:00:00,売上金,振込申請,-2000,,p1,振込完了,160,1840,2026-12-07,\"'=HYPERLINK(\"\"x\"\"), 申請\""
        );
    }
}
