//! Listing (サービス) types and pure rules: the fixed category set, the listing state machine
//! (active → paused → active, either → deleted), and parsing of a submitted listing into a
//! [`ListingDraft`] with field-level errors.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{FieldError, FieldErrors};

/// A category (カテゴリ): stable slug in the API, Japanese label in the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Category {
    /// Stable identifier used in the API and stored in the database.
    pub slug: &'static str,
    /// The Japanese name shown to users.
    pub label: &'static str,
}

/// The initial category set, in display order.
pub const CATEGORIES: &[Category] = &[
    Category {
        slug: "design",
        label: "デザイン",
    },
    Category {
        slug: "web",
        label: "Webサイト制作・Webデザイン",
    },
    Category {
        slug: "illustration",
        label: "イラスト・似顔絵・漫画",
    },
    Category {
        slug: "video",
        label: "動画・アニメーション・撮影",
    },
    Category {
        slug: "photo",
        label: "写真・画像",
    },
    Category {
        slug: "writing",
        label: "ライティング・翻訳",
    },
    Category {
        slug: "business",
        label: "ビジネス代行・アシスタント",
    },
    Category {
        slug: "it",
        label: "IT・プログラミング・開発",
    },
    Category {
        slug: "marketing",
        label: "マーケティング・Web集客",
    },
    Category {
        slug: "music",
        label: "音楽・ナレーション",
    },
    Category {
        slug: "fortune",
        label: "占い",
    },
    Category {
        slug: "counseling",
        label: "悩み相談・恋愛相談",
    },
    Category {
        slug: "learning",
        label: "学習・就職・資格・コーチング",
    },
    Category {
        slug: "life",
        label: "住まい・美容・生活・趣味",
    },
    Category {
        slug: "legal",
        label: "法律・税務・士業相談",
    },
];

impl Category {
    /// Looks a category up by slug.
    pub fn from_slug(slug: &str) -> Option<Category> {
        CATEGORIES.iter().copied().find(|c| c.slug == slug)
    }
}

/// Where a listing is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListingStatus {
    /// Listed publicly and purchasable.
    Active,
    /// Hidden from the public by its seller (出品停止中); can be resumed.
    Paused,
    /// Removed by its seller. Kept for the orders that reference it; visible to nobody.
    Deleted,
}

impl ListingStatus {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            ListingStatus::Active => "active",
            ListingStatus::Paused => "paused",
            ListingStatus::Deleted => "deleted",
        }
    }

    /// Parses the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(ListingStatus::Active),
            "paused" => Some(ListingStatus::Paused),
            "deleted" => Some(ListingStatus::Deleted),
            _ => None,
        }
    }
}

/// What a seller can do to the status of their listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusCommand {
    /// 出品停止.
    Pause,
    /// 再開.
    Resume,
    /// 削除.
    Delete,
}

/// The outcome of a status command that is not allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusRefusal {
    /// The listing is deleted: it no longer exists for anyone.
    Gone,
}

/// The listing state machine. Pausing a paused listing or resuming an active one is a no-op, so
/// a retried request succeeds.
pub fn next_status(
    current: ListingStatus,
    command: StatusCommand,
) -> Result<ListingStatus, StatusRefusal> {
    use ListingStatus::*;
    use StatusCommand::*;
    match (current, command) {
        (Active, Pause) | (Paused, Pause) => Ok(Paused),
        (Active, Resume) | (Paused, Resume) => Ok(Active),
        (Active, Delete) | (Paused, Delete) => Ok(Deleted),
        (Deleted, Pause) | (Deleted, Resume) | (Deleted, Delete) => Err(StatusRefusal::Gone),
    }
}

/// A paid option (有料オプション) as submitted.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct RawOption {
    /// 1–50 characters.
    pub title: Option<String>,
    /// 500–1,000,000 yen.
    pub price_yen: Option<i64>,
    /// 0–120 extra days the option adds to delivery (default 0).
    pub extra_days: Option<i64>,
}

/// A listing as submitted: every field optional so missing ones are reported, not rejected as
/// malformed JSON.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct RawListing {
    /// 5–100 characters.
    pub title: Option<String>,
    /// 1–5,000 characters.
    pub description: Option<String>,
    /// A category slug from `GET /api/v1/categories`.
    pub category: Option<String>,
    /// 500–1,000,000 yen.
    pub price_yen: Option<i64>,
    /// 1–120 days.
    pub delivery_days: Option<i64>,
    /// Up to 10 paid options; on update, replaces all options when present.
    pub options: Option<Vec<RawOption>>,
}

/// A validated paid option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionDraft {
    /// Title.
    pub title: String,
    /// Price in yen.
    pub price_yen: i64,
    /// Extra delivery days.
    pub extra_days: i64,
}

/// A validated listing, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingDraft {
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Category.
    pub category: Category,
    /// Price in yen.
    pub price_yen: i64,
    /// Delivery days.
    pub delivery_days: i64,
    /// Paid options in order.
    pub options: Vec<OptionDraft>,
}

/// Limits of a listing, in one place for the validation and the docs.
pub mod limits {
    /// Title length in characters.
    pub const TITLE_CHARS: std::ops::RangeInclusive<usize> = 5..=100;
    /// Description length in characters.
    pub const DESCRIPTION_CHARS: std::ops::RangeInclusive<usize> = 1..=5000;
    /// Price in yen.
    pub const PRICE_YEN: std::ops::RangeInclusive<i64> = 500..=1_000_000;
    /// Delivery days.
    pub const DELIVERY_DAYS: std::ops::RangeInclusive<i64> = 1..=120;
    /// Number of paid options.
    pub const MAX_OPTIONS: usize = 10;
    /// Option title length.
    pub const OPTION_TITLE_CHARS: std::ops::RangeInclusive<usize> = 1..=50;
    /// Option price in yen.
    pub const OPTION_PRICE_YEN: std::ops::RangeInclusive<i64> = 500..=1_000_000;
    /// Option extra days.
    pub const OPTION_EXTRA_DAYS: std::ops::RangeInclusive<i64> = 0..=120;
}

fn text(
    field: &str,
    label: &str,
    value: Option<&str>,
    range: std::ops::RangeInclusive<usize>,
) -> Result<String, FieldError> {
    let err = |code, message: String| FieldError {
        field: field.to_string(),
        code,
        message,
    };
    // Invisible characters count as nothing (crate::text): a title of zero-width spaces is empty.
    let v = value.map(crate::text::trim).unwrap_or("");
    let n = v.chars().count();
    if n == 0 && *range.start() > 0 {
        return Err(err("required", format!("{label}を入力してください。")));
    }
    if n < *range.start() {
        return Err(err(
            "too_short",
            format!("{label}は{}文字以上で入力してください。", range.start()),
        ));
    }
    if n > *range.end() {
        return Err(err(
            "too_long",
            format!("{label}は{}文字以内で入力してください。", range.end()),
        ));
    }
    if v.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(err(
            "invalid_characters",
            format!("{label}に使用できない文字が含まれています。"),
        ));
    }
    Ok(v.to_string())
}

fn number(
    field: &str,
    label: &str,
    unit: &str,
    value: Option<i64>,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, FieldError> {
    let err = |code, message: String| FieldError {
        field: field.to_string(),
        code,
        message,
    };
    let v = value.ok_or_else(|| err("required", format!("{label}を入力してください。")))?;
    if !range.contains(&v) {
        return Err(err(
            "out_of_range",
            format!(
                "{label}は{}{unit}から{}{unit}の範囲で入力してください。",
                range.start(),
                range.end()
            ),
        ));
    }
    Ok(v)
}

/// Parses a submitted listing, reporting every invalid field at once.
pub fn parse_listing(raw: &RawListing) -> Result<ListingDraft, FieldErrors> {
    let mut errors = FieldErrors::new();
    let title = errors.take(text(
        "title",
        "タイトル",
        raw.title.as_deref(),
        limits::TITLE_CHARS,
    ));
    let description = errors.take(text(
        "description",
        "サービス内容",
        raw.description.as_deref(),
        limits::DESCRIPTION_CHARS,
    ));
    let category = match raw.category.as_deref().map(str::trim) {
        None | Some("") => {
            errors.add("category", "required", "カテゴリを選択してください。");
            None
        }
        Some(slug) => match Category::from_slug(slug) {
            Some(c) => Some(c),
            None => {
                errors.add("category", "unknown_category", "存在しないカテゴリです。");
                None
            }
        },
    };
    let price = errors.take(number(
        "price_yen",
        "価格",
        "円",
        raw.price_yen,
        limits::PRICE_YEN,
    ));
    let days = errors.take(number(
        "delivery_days",
        "お届け日数",
        "日",
        raw.delivery_days,
        limits::DELIVERY_DAYS,
    ));
    let raw_options = raw.options.as_deref().unwrap_or(&[]);
    if raw_options.len() > limits::MAX_OPTIONS {
        errors.add(
            "options",
            "too_many",
            format!(
                "有料オプションは{}個まで設定できます。",
                limits::MAX_OPTIONS
            ),
        );
    }
    let mut options = Vec::new();
    for (i, o) in raw_options.iter().enumerate().take(limits::MAX_OPTIONS) {
        let t = errors.take(text(
            &format!("options[{i}].title"),
            "オプション名",
            o.title.as_deref(),
            limits::OPTION_TITLE_CHARS,
        ));
        let p = errors.take(number(
            &format!("options[{i}].price_yen"),
            "オプション価格",
            "円",
            o.price_yen,
            limits::OPTION_PRICE_YEN,
        ));
        let d = errors.take(number(
            &format!("options[{i}].extra_days"),
            "追加日数",
            "日",
            Some(o.extra_days.unwrap_or(0)),
            limits::OPTION_EXTRA_DAYS,
        ));
        if let (Some(title), Some(price_yen), Some(extra_days)) = (t, p, d) {
            options.push(OptionDraft {
                title,
                price_yen,
                extra_days,
            });
        }
    }
    match (title, description, category, price, days) {
        (Some(title), Some(description), Some(category), Some(price_yen), Some(delivery_days))
            if errors.is_empty() =>
        {
            Ok(ListingDraft {
                title,
                description,
                category,
                price_yen,
                delivery_days,
                options,
            })
        }
        _ => Err(errors),
    }
}

/// Folds text for search: NFKC (full-width → half-width, ｶﾞ → ガ), lower case, and katakana as
/// hiragana, so 「ﾛｺﾞ」「ろご」「ロゴ」 all find 「ロゴデザイン」.
pub fn fold_for_search(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.nfkc()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            // Katakana ァ..ヶ sit 0x60 above hiragana ぁ..ゖ.
            'ァ'..='ヶ' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Seller ranks from lowest to highest.
pub const RANKS: &[&str] = &["regular", "bronze", "silver", "gold", "platinum"];

/// The ranks at or above `min`, or `None` for an unknown rank.
pub fn ranks_at_least(min: &str) -> Option<Vec<&'static str>> {
    let i = RANKS.iter().position(|r| *r == min)?;
    Some(RANKS[i..].to_vec())
}

/// How public lists are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// おすすめ順: by the published recommended score (see `reputation`).
    #[default]
    Recommended,
    /// 新着順.
    New,
    /// 価格の安い順.
    PriceAsc,
    /// 価格の高い順.
    PriceDesc,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> RawListing {
        RawListing {
            title: Some("ロゴデザインを作成します".into()),
            description: Some("シンプルで伝わるロゴを制作します。".into()),
            category: Some("design".into()),
            price_yen: Some(5000),
            delivery_days: Some(7),
            options: Some(vec![RawOption {
                title: Some("特急対応".into()),
                price_yen: Some(3000),
                extra_days: None,
            }]),
        }
    }

    fn codes(raw: &RawListing) -> Vec<(String, &'static str)> {
        parse_listing(raw)
            .unwrap_err()
            .as_slice()
            .iter()
            .map(|e| (e.field.clone(), e.code))
            .collect()
    }

    #[test]
    fn a_valid_listing_parses_with_trimmed_text_and_default_extra_days() {
        let mut raw = valid();
        raw.title = Some("  ロゴデザインを作成します  ".into());
        let d = parse_listing(&raw).unwrap();
        assert_eq!(d.title, "ロゴデザインを作成します");
        assert_eq!(d.options[0].extra_days, 0);
        assert_eq!(d.category.label, "デザイン");
    }

    #[test]
    fn boundaries_of_every_number_are_inclusive() {
        for (price, ok) in [
            (499, false),
            (500, true),
            (1_000_000, true),
            (1_000_001, false),
        ] {
            let mut raw = valid();
            raw.price_yen = Some(price);
            assert_eq!(parse_listing(&raw).is_ok(), ok, "price {price}");
        }
        for (days, ok) in [(0, false), (1, true), (120, true), (121, false)] {
            let mut raw = valid();
            raw.delivery_days = Some(days);
            assert_eq!(parse_listing(&raw).is_ok(), ok, "days {days}");
        }
    }

    #[test]
    fn title_length_counts_characters_not_bytes() {
        let mut raw = valid();
        raw.title = Some("あいうえ".into());
        assert_eq!(codes(&raw), vec![("title".to_string(), "too_short")]);
        raw.title = Some("あいうえお".into());
        assert!(parse_listing(&raw).is_ok());
        raw.title = Some("あ".repeat(101));
        assert_eq!(codes(&raw), vec![("title".to_string(), "too_long")]);
    }

    #[test]
    fn every_missing_field_is_reported_at_once() {
        let c = codes(&RawListing::default());
        let fields: Vec<_> = c.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "title",
                "description",
                "category",
                "price_yen",
                "delivery_days"
            ]
        );
    }

    #[test]
    fn options_are_limited_to_ten_and_checked_one_by_one() {
        let mut raw = valid();
        raw.options = Some(vec![RawOption::default(); 11]);
        let c = codes(&raw);
        assert!(c.contains(&("options".to_string(), "too_many")));
        assert!(c.contains(&("options[0].title".to_string(), "required")));
        assert!(c.contains(&("options[0].price_yen".to_string(), "required")));
    }

    #[test]
    fn an_unknown_category_is_refused() {
        let mut raw = valid();
        raw.category = Some("cooking".into());
        assert_eq!(
            codes(&raw),
            vec![("category".to_string(), "unknown_category")]
        );
    }

    #[test]
    fn search_folding_ignores_width_case_and_kana_kind() {
        assert_eq!(fold_for_search("ﾛｺﾞデザイン"), "ろごでざいん");
        assert_eq!(fold_for_search("ホームページ制作"), "ほーむぺーじ制作");
        assert_eq!(fold_for_search("ＷＥＢ　サイト"), "web さいと");
        assert!(fold_for_search("ロゴデザインを作成します").contains(&fold_for_search("ろご")));
    }

    #[test]
    fn deleted_listings_accept_no_command_and_retries_are_harmless() {
        use ListingStatus::*;
        assert_eq!(next_status(Active, StatusCommand::Pause), Ok(Paused));
        assert_eq!(next_status(Paused, StatusCommand::Pause), Ok(Paused));
        assert_eq!(next_status(Paused, StatusCommand::Resume), Ok(Active));
        assert_eq!(
            next_status(Deleted, StatusCommand::Resume),
            Err(StatusRefusal::Gone)
        );
    }
}
