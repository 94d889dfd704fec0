//! Names as a Zengin record carries them (全銀カナ): half-width katakana with large kana only,
//! upper-case letters, digits, spaces and `( ) . - / ,` (and `｢ ｣`), with the standard
//! abbreviations of company forms (株式会社 → ｶ, 有限会社 → ﾕ, …). Pure functions, no I/O.

use std::collections::HashMap;
use std::sync::LazyLock;

/// Company forms and their Zengin abbreviations (略語). At the start of a name the abbreviation is
/// written `ｶ)…`, at the end `…(ｶ`, in the middle `…(ｶ)…`.
const COMPANY_FORMS: &[(&[&str], &str)] = &[
    (
        &["株式会社", "カブシキガイシャ", "カブシキカイシャ", "(株)"],
        "ｶ",
    ),
    (
        &["有限会社", "ユウゲンガイシャ", "ユウゲンカイシャ", "(有)"],
        "ﾕ",
    ),
    (&["合同会社", "ゴウドウガイシャ", "(同)"], "ﾄﾞ"),
    (&["合名会社", "ゴウメイガイシャ", "(名)"], "ﾒ"),
    (&["合資会社", "ゴウシガイシャ", "(資)"], "ｼ"),
    (&["一般社団法人", "(一社)"], "ｼﾔ"),
    (&["一般財団法人", "(一財)"], "ｻﾞｲ"),
    (&["特定非営利活動法人", "NPO法人"], "ﾄｸﾋ"),
    (&["医療法人"], "ｲ"),
    (&["学校法人"], "ｶﾞｸ"),
    (&["社会福祉法人"], "ﾌｸ"),
];

/// Replaces the first company form found by its Zengin abbreviation (the rest is left as
/// written for [`to_zengin_kana`]).
pub fn abbreviate_company_forms(input: &str) -> String {
    // Fold full-width ASCII and the enclosed ㈱ ㈲ first so `（株）` and `㈱` match `(株)`.
    let s: String = input
        .chars()
        .flat_map(|c| -> Vec<char> {
            match c {
                '㈱' => "(株)".chars().collect(),
                '㈲' => "(有)".chars().collect(),
                '\u{3000}' => vec![' '],
                '\u{FF01}'..='\u{FF5E}' => {
                    vec![char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)]
                }
                _ => vec![c],
            }
        })
        .collect();
    let s = s.trim();
    for (forms, abbr) in COMPANY_FORMS {
        for form in *forms {
            if let Some(rest) = s.strip_prefix(form) {
                return format!("{abbr}){}", rest.trim());
            }
            if let Some(rest) = s.strip_suffix(form) {
                return format!("{}({abbr}", rest.trim());
            }
            if let Some((a, b)) = s.split_once(form) {
                return format!("{}({abbr}){}", a.trim(), b.trim());
            }
        }
    }
    s.to_string()
}

const PLAIN_FULL: &str =
    "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲン";
const PLAIN_HALF: &str = "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜｦﾝ";
const VOICED_FULL: &str = "ガギグゲゴザジズゼゾダヂヅデドバビブベボヴ";
const VOICED_HALF: &str = "ｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾊﾋﾌﾍﾎｳ";
const SEMI_FULL: &str = "パピプペポ";
const SEMI_HALF: &str = "ﾊﾋﾌﾍﾎ";
// Zengin names have no small kana: they are written large (ｼﾕｳｲﾁ for シュウイチ).
const SMALL_FULL: &str = "ァィゥェォッャュョヮヵヶヰヱ";
const SMALL_HALF: &str = "ｱｲｳｴｵﾂﾔﾕﾖﾜｶｹｲｴ";
const SMALL_HALFWIDTH_IN: &str = "ｧｨｩｪｫｯｬｭｮ";
const SMALL_HALFWIDTH_OUT: &str = "ｱｲｳｴｵﾂﾔﾕﾖ";

static KANA: LazyLock<HashMap<char, &'static str>> = LazyLock::new(|| {
    let mut m: HashMap<char, &'static str> = HashMap::new();
    let pairs = |full: &'static str, half: &'static str| {
        full.chars().zip(
            half.char_indices()
                .map(move |(i, c)| &half[i..i + c.len_utf8()]),
        )
    };
    for (f, h) in pairs(PLAIN_FULL, PLAIN_HALF)
        .chain(pairs(SMALL_FULL, SMALL_HALF))
        .chain(pairs(SMALL_HALFWIDTH_IN, SMALL_HALFWIDTH_OUT))
    {
        m.insert(f, h);
    }
    m
});

static VOICED: LazyLock<HashMap<char, (char, char)>> = LazyLock::new(|| {
    let mut m = HashMap::new();
    for (f, h) in VOICED_FULL.chars().zip(VOICED_HALF.chars()) {
        m.insert(f, (h, 'ﾞ'));
    }
    for (f, h) in SEMI_FULL.chars().zip(SEMI_HALF.chars()) {
        m.insert(f, (h, 'ﾟ'));
    }
    m
});

/// Converts a name to Zengin kana: katakana (full- or half-width) and hiragana become half-width
/// large katakana, letters are upper-cased, long-vowel marks and dashes become `-`, runs of spaces
/// collapse. Returns the characters that cannot be carried when there are any.
pub fn to_zengin_kana(input: &str) -> Result<String, Vec<char>> {
    let mut out = String::new();
    let mut bad: Vec<char> = vec![];
    for c in input.trim().chars() {
        // Hiragana → katakana (same layout, 0x60 apart).
        let c = match c {
            '\u{3041}'..='\u{3096}' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        };
        if let Some(h) = KANA.get(&c) {
            out.push_str(h);
        } else if let Some((base, mark)) = VOICED.get(&c) {
            out.push(*base);
            out.push(*mark);
        } else {
            match c {
                '0'..='9' | 'A'..='Z' | '(' | ')' | '.' | '-' | '/' | ',' => out.push(c),
                'a'..='z' => out.push(c.to_ascii_uppercase()),
                ' ' | '\u{3000}' => {
                    if !out.is_empty() && !out.ends_with(' ') {
                        out.push(' ');
                    }
                }
                'ー' | 'ｰ' | '‐' | '−' | '–' | '—' | '―' | '－' => out.push('-'),
                '・' | '･' => out.push('.'),
                '「' | '｢' => out.push('｢'),
                '」' | '｣' => out.push('｣'),
                '\u{3099}' | '\u{309B}' | 'ﾞ' => out.push('ﾞ'),
                '\u{309A}' | '\u{309C}' | 'ﾟ' => out.push('ﾟ'),
                '\u{FF66}' | '\u{FF71}'..='\u{FF9D}' => out.push(c),
                _ => {
                    if !bad.contains(&c) {
                        bad.push(c);
                    }
                }
            }
        }
    }
    if bad.is_empty() {
        Ok(out.trim_end().to_string())
    } else {
        Err(bad)
    }
}

/// Converts a name from the bundled data (or configuration) and cuts it to `max` characters, the
/// width of its field: characters that cannot be carried are dropped.
pub fn to_zengin_kana_lossy(input: &str, max: usize) -> String {
    let cleaned: String = input
        .chars()
        .filter(|c| to_zengin_kana(&c.to_string()).is_ok())
        .collect();
    to_zengin_kana(&cleaned)
        .unwrap_or_default()
        .chars()
        .take(max)
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::payouts::bank::HolderKana;

    #[test]
    fn katakana_becomes_half_width_large_kana() {
        assert_eq!(
            HolderKana::parse("ヤマダ タロウ").unwrap().as_str(),
            "ﾔﾏﾀﾞ ﾀﾛｳ"
        );
        assert_eq!(
            HolderKana::parse("やまだ　はなこ").unwrap().as_str(),
            "ﾔﾏﾀﾞ ﾊﾅｺ"
        );
        assert_eq!(HolderKana::parse("シュウイチ").unwrap().as_str(), "ｼﾕｳｲﾁ");
        assert_eq!(HolderKana::parse("ﾊﾟｯﾄﾝ").unwrap().as_str(), "ﾊﾟﾂﾄﾝ");
        assert_eq!(HolderKana::parse("ヴィーナス").unwrap().as_str(), "ｳﾞｲ-ﾅｽ");
        assert_eq!(HolderKana::parse("ｽﾐｽ ｼﾞｮﾝ").unwrap().as_str(), "ｽﾐｽ ｼﾞﾖﾝ");
        assert_eq!(
            HolderKana::parse("ＡＢＣ　ｓｈｏｐ").unwrap().as_str(),
            "ABC SHOP"
        );
        assert_eq!(HolderKana::parse("ダヂヅデド").unwrap().as_str(), "ﾀﾞﾁﾞﾂﾞﾃﾞﾄﾞ");
    }

    #[test]
    fn company_forms_are_abbreviated_where_they_stand() {
        assert_eq!(
            HolderKana::parse("株式会社イチバ").unwrap().as_str(),
            "ｶ)ｲﾁﾊﾞ"
        );
        assert_eq!(
            HolderKana::parse("イチバ株式会社").unwrap().as_str(),
            "ｲﾁﾊﾞ(ｶ"
        );
        assert_eq!(
            HolderKana::parse("カブシキガイシャ イチバ")
                .unwrap()
                .as_str(),
            "ｶ)ｲﾁﾊﾞ"
        );
        assert_eq!(HolderKana::parse("（株）イチバ").unwrap().as_str(), "ｶ)ｲﾁﾊﾞ");
        assert_eq!(HolderKana::parse("㈱イチバ").unwrap().as_str(), "ｶ)ｲﾁﾊﾞ");
        assert_eq!(
            HolderKana::parse("イチバ有限会社").unwrap().as_str(),
            "ｲﾁﾊﾞ(ﾕ"
        );
        assert_eq!(
            HolderKana::parse("合同会社イチバ").unwrap().as_str(),
            "ﾄﾞ)ｲﾁﾊﾞ"
        );
        assert_eq!(
            HolderKana::parse("イチバ株式会社トウキョウシテン")
                .unwrap()
                .as_str(),
            "ｲﾁﾊﾞ(ｶ)ﾄｳｷﾖｳｼﾃﾝ"
        );
        assert_eq!(HolderKana::parse("ｶ)ｲﾁﾊﾞ").unwrap().as_str(), "ｶ)ｲﾁﾊﾞ");
    }

    #[test]
    fn characters_a_zengin_file_cannot_carry_are_refused_with_a_japanese_message() {
        let e = HolderKana::parse("山田 タロウ").unwrap_err();
        assert_eq!(e.field, "holder_kana");
        assert_eq!(e.code, "invalid_characters");
        assert!(e.message.contains("「山」「田」"), "{}", e.message);
        assert!(HolderKana::parse("タロウ@").is_err());
        assert!(HolderKana::parse("タロウ♥").is_err());
        assert_eq!(HolderKana::parse("   ").unwrap_err().code, "required");
        let long = "ア".repeat(31);
        assert_eq!(HolderKana::parse(&long).unwrap_err().code, "too_long");
        // Voiced marks count: 15 voiced kana are 30 half-width characters.
        assert!(HolderKana::parse(&"ガ".repeat(15)).is_ok());
        assert!(HolderKana::parse(&"ガ".repeat(16)).is_err());
    }
}
