//! Message templates (定型文): the standard set every new user starts with, validation, and the
//! placeholder filling (`{buyer_name}`, `{seller_name}`, `{service_title}`, `{due_date}`).

use crate::error::FieldErrors;

/// The placeholders a template may use.
pub const PLACEHOLDERS: &[&str] = &[
    "{buyer_name}",
    "{seller_name}",
    "{service_title}",
    "{due_date}",
];

/// The standard templates (title, body), in polite business Japanese.
pub const STANDARD: &[(&str, &str)] = &[
    (
        "ご挨拶とヒアリング",
        "{buyer_name}様\n\nこの度は「{service_title}」をご購入いただき、誠にありがとうございます。\n出品者の{seller_name}です。\n\n作業を始めるにあたり、いくつか確認させてください。\n1. 完成イメージ（雰囲気・参考になるもの）\n2. 必ず入れたい内容・避けたい内容\n3. ご利用の目的と使用する場面\n\n参考資料がございましたら、ファイルを添付してお送りください。\nお届け予定日は{due_date}です。どうぞよろしくお願いいたします。",
    ),
    (
        "追加ヒアリング",
        "{buyer_name}様\n\nご回答いただき、ありがとうございます。\nより良い仕上がりにするため、追加で以下の点を教えていただけますでしょうか。\n\n・\n・\n\nお手数をおかけしますが、ご確認のほどよろしくお願いいたします。",
    ),
    (
        "進捗報告（予定どおり）",
        "{buyer_name}様\n\nお世話になっております。{seller_name}です。\n「{service_title}」の進捗をご報告いたします。\n現在、予定どおり作業を進めております。お届け予定日の{due_date}までに納品いたしますので、今しばらくお待ちください。",
    ),
    (
        "進捗報告（前倒し）",
        "{buyer_name}様\n\nお世話になっております。{seller_name}です。\n作業が順調に進んでおり、お届け予定日の{due_date}より早めにお届けできる見込みです。\n仕上がりましたら、あらためてご連絡いたします。",
    ),
    (
        "ご確認のお願い（回答期限つき）",
        "{buyer_name}様\n\nお世話になっております。\n途中段階のものをお送りいたしますので、ご確認をお願いいたします。\n修正のご希望がございましたら、○月○日までにご返信いただけますと幸いです。\nお届け予定日（{due_date}）に間に合わせるため、ご協力をお願いいたします。",
    ),
    (
        "納品のご相談",
        "{buyer_name}様\n\nお世話になっております。{seller_name}です。\nご依頼の内容がすべて整いましたので、正式な納品をさせていただいてもよろしいでしょうか。\nご確認いただけましたら、納品の手続きを進めます。",
    ),
    (
        "納品のご連絡と評価のお願い",
        "{buyer_name}様\n\nお待たせいたしました。「{service_title}」の納品物をお送りいたします。\n内容をご確認のうえ、問題がなければ承諾をお願いいたします。\n\nこの度はご依頼いただき、誠にありがとうございました。\nお手数ですが、評価をいただけますと幸いです。またの機会がございましたら、どうぞよろしくお願いいたします。",
    ),
];

/// Limits.
pub const TITLE_MAX_CHARS: usize = 50;
/// Body limit.
pub const BODY_MAX_CHARS: usize = 5000;
/// Templates per user.
pub const MAX_TEMPLATES: i64 = 50;

/// Validates a template, reporting every field.
pub fn validate(title: &str, body: &str) -> Result<(String, String), FieldErrors> {
    let mut f = FieldErrors::new();
    let (t, b) = (crate::text::trim(title), crate::text::trim(body));
    if t.is_empty() {
        f.add("title", "required", "タイトルを入力してください。");
    } else if t.chars().count() > TITLE_MAX_CHARS {
        f.add(
            "title",
            "too_long",
            format!("タイトルは{TITLE_MAX_CHARS}文字以内で入力してください。"),
        );
    }
    if b.is_empty() {
        f.add("body", "required", "本文を入力してください。");
    } else if b.chars().count() > BODY_MAX_CHARS {
        f.add(
            "body",
            "too_long",
            format!("本文は{BODY_MAX_CHARS}文字以内で入力してください。"),
        );
    }
    f.into_result((t.to_string(), b.to_string()))
}

/// Values for the placeholders of one order.
#[derive(Debug, Clone)]
pub struct Values {
    /// Buyer's display name.
    pub buyer_name: String,
    /// Seller's display name.
    pub seller_name: String,
    /// Order title.
    pub service_title: String,
    /// Due date, e.g. `2026年12月1日`.
    pub due_date: String,
}

/// Fills the placeholders; unknown braces are left as written.
pub fn render(text: &str, v: &Values) -> String {
    text.replace("{buyer_name}", &v.buyer_name)
        .replace("{seller_name}", &v.seller_name)
        .replace("{service_title}", &v.service_title)
        .replace("{due_date}", &v.due_date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_others_kept() {
        let v = Values {
            buyer_name: "佐藤".into(),
            seller_name: "山田".into(),
            service_title: "ロゴ制作".into(),
            due_date: "2026年12月1日".into(),
        };
        assert_eq!(
            render("{buyer_name}様 {service_title} {due_date} {other}", &v),
            "佐藤様 ロゴ制作 2026年12月1日 {other}"
        );
    }

    #[test]
    fn the_standard_set_covers_every_step_and_is_valid() {
        assert_eq!(STANDARD.len(), 7);
        for (t, b) in STANDARD {
            assert!(validate(t, b).is_ok(), "{t}");
        }
        assert!(
            STANDARD
                .iter()
                .any(|(_, b)| b.contains("評価をいただけますと幸いです"))
        );
    }

    #[test]
    fn empty_and_long_templates_are_refused() {
        let e = validate("", &"あ".repeat(5001)).unwrap_err();
        assert_eq!(e.as_slice().len(), 2);
    }
}
