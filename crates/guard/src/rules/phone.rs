//! Phone rules: Japanese phone numbers written in any script and split in any way. Phrases that
//! propose a call without a number ("普通に電話しませんか") live in [`super::phrases`].
//!
//! The number reader works on the base view. It reads *digit atoms* — ASCII digits (full-width and
//! circled digits are already ASCII there), kanji numerals (〇一二三…九, 零, ○), and kana readings
//! (ぜろ, れい, まる, いち, に(ー), さん, よん, ご(ー), ろく, なな, しち, はち, きゅう, く) — where kana
//! readings only count in runs of three or more (spaces or dots between them allowed), so the particle に or the prefix ご never become digits.
//! Adjacent atoms form a *group*; groups are chained across short gaps (hyphens, brackets, spaces, line
//! breaks, の, or a few words such as 「、真ん中が」) as long as the digits add up to a valid number.

use regex::Regex;

use super::{Ctx, Hit, re};
use crate::Kind;
use crate::normalize::is_sep;

/// Kana readings of digits, longest first.
const KANA_DIGITS: &[(&[char], u8)] = &[
    (&['き', 'ゅ', 'う'], 9),
    (&['き', 'ゅ', 'ー'], 9),
    (&['ぜ', 'ろ'], 0),
    (&['れ', 'い'], 0),
    (&['ま', 'る'], 0),
    (&['い', 'ち'], 1),
    (&['に', 'い'], 2),
    (&['に', 'ー'], 2),
    (&['さ', 'ん'], 3),
    (&['よ', 'ん'], 4),
    (&['ご', 'ー'], 5),
    (&['ご', 'お'], 5),
    (&['ろ', 'く'], 6),
    (&['な', 'な'], 7),
    (&['し', 'ち'], 7),
    (&['は', 'ち'], 8),
    (&['に'], 2),
    (&['し'], 4),
    (&['ご'], 5),
    (&['く'], 9),
];

/// The largest number of base chars allowed between two groups of one number.
const MAX_GAP: usize = 8;

fn kanji_digit(c: char) -> Option<u8> {
    Some(match c {
        '〇' | '零' | '○' | '◯' => 0,
        '一' | '壱' => 1,
        '二' | '弐' => 2,
        '三' | '参' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy)]
struct Atom {
    start: usize,
    end: usize,
    digit: u8,
    kana: bool,
}

#[derive(Debug, Clone)]
struct Group {
    start: usize,
    end: usize,
    digits: String,
}

/// Compiled phone rules.
#[derive(Debug)]
pub(crate) struct Rules {
    phone_context: Regex,
    placeholder_context: Regex,
    placeholder_after: Regex,
    other_number: Regex,
}

impl Rules {
    pub(crate) fn new() -> Rules {
        Rules {
            phone_context: re(
                r"電話|でんわ|tel|番号|携帯|けいたい|sms|ショートメ|call|phone|かけて|掛けて|連絡|fax|ファックス",
            ),
            placeholder_after: re(
                r"^.{0,6}?(?:のように|のような|など|形式|という形|と入力|と表示|を入れ|と記載)",
            ),
            other_number: re(
                r"(?:(?:注文|品|管理|会員|商品|型|製造|伝票|問い?合わ?せ|受付|追跡|予約|口座|請求書?|取引|案件|社員|学籍|登録|証明書|シリアル|ロット|認証|整理|受注|発注|契約|顧客|お客様|チケット|座席)(?:番号|no|ナンバー)|品番|型番|コード|isbn|jan|sku|id|no|#|ロット|シリアル|口座|バージョン|ver)[^。!?]{0,4}$",
            ),
            placeholder_context: re(
                r"例|ダミー|サンプル|プレースホルダー|仮置き|仮の|架空|e\.?g|example|sample|dummy|placeholder|入力欄|形式|フォーマット|xxx",
            ),
        }
    }

    /// `phone.number` — a Japanese phone number (mobile, IP, landline, toll-free, +81), however written.
    ///
    /// Blocks: `090-0000-4821`, `〇八〇-０１２３-五六七八`, `090 の 0045 の 7788`,
    /// `ぜろきゅうぜろ の ぜろぜろぜろぜろ の よんはちにーいち`, `０７０（００２１）８８６４`,
    /// `＋８１　９０　００００　２７４５`, `0⃣9⃣0⃣-0⃣0⃣0⃣0⃣-4⃣8⃣2⃣1⃣`, `最初が080、真ん中が0000、最後が6614です`.
    /// Allows: dates (`2025年2月17日 15:00`), prices, `品番 128-0497-8110`, `A-0901-2345`,
    /// `管理番号 2025-0526-0012`, postal codes, placeholders (`000-0000-0000`, `03-0000-0000`, `例：…`).
    pub(crate) fn run(&self, cx: &Ctx<'_>, out: &mut Vec<Hit>) {
        // A number needs ten digits; most texts have far fewer, and kana readings of a number start
        // with a reading of zero.
        let definite = cx.n.facts.digitish;
        if definite < 8 && !cx.n.facts.zero_word {
            return;
        }
        let groups = groups(&cx.n.chars);
        let chars = &cx.n.chars;
        let mut i = 0;
        while i < groups.len() {
            let g = &groups[i];
            if !self.may_start(cx, &groups, i) {
                i += 1;
                continue;
            }
            let plus81 = g.start > 0 && chars[g.start - 1] == '+' && g.digits.starts_with("81");
            let mut digits = if plus81 {
                format!("0{}", &g.digits[2..])
            } else {
                g.digits.clone()
            };
            let phone_ctx = self.phone_context.is_match(cx.sentence_sq(g.start, true));
            let mut best: Option<usize> = None;
            if valid(&digits, phone_ctx) {
                best = Some(i);
            }
            let mut j = i;
            while j + 1 < groups.len() && digits.len() < 11 {
                if !gap_ok(chars, groups[j].end, groups[j + 1].start) {
                    break;
                }
                j += 1;
                if digits == "0" && groups[j].digits == "0" {
                    continue; // +81 (0)90 …
                }
                digits.push_str(&groups[j].digits);
                if digits.len() > 11 {
                    break;
                }
                if valid(&digits, phone_ctx) {
                    best = Some(j);
                }
            }
            match best {
                Some(last) => {
                    let all: String = groups[i..=last].iter().map(|g| g.digits.as_str()).collect();
                    let start = if plus81 { g.start - 1 } else { g.start };
                    if !self.is_placeholder(cx, &all, g.start, groups[last].end) {
                        out.push(Hit {
                            kind: Kind::Phone,
                            rule: "phone.number",
                            start,
                            end: groups[last].end,
                            soft: false,
                        });
                    }
                    i = last + 1;
                }
                None => i += 1,
            }
        }
    }

    /// A group may start a number if it begins with 0 (or is `+81`), is not the middle of a longer
    /// hyphenated number, and is not glued to a word (`A0901…`), except `tel`, `fax` and the like.
    fn may_start(&self, cx: &Ctx<'_>, groups: &[Group], i: usize) -> bool {
        let g = &groups[i];
        let chars = &cx.n.chars;
        let plus81 = g.start > 0 && chars[g.start - 1] == '+' && g.digits.starts_with("81");
        if !plus81 && !g.digits.starts_with('0') {
            return false;
        }
        if i > 0 {
            let prev = &groups[i - 1];
            let gap: Vec<char> = chars[prev.end..g.start].to_vec();
            if gap.len() == 1 && matches!(gap[0], '-' | '.' | '_' | '/' | ',') {
                return false;
            }
            if gap.is_empty() {
                return false;
            }
        }
        let mut k = g.start;
        while k > 0 && chars[k - 1].is_ascii_alphabetic() {
            k -= 1;
        }
        if k < g.start {
            let word: String = chars[k..g.start].iter().collect();
            if !matches!(
                word.as_str(),
                "tel"
                    | "tell"
                    | "fax"
                    | "phone"
                    | "mobile"
                    | "no"
                    | "num"
                    | "sms"
                    | "call"
                    | "t"
                    | "m"
            ) {
                return false;
            }
        }
        true
    }

    /// A placeholder, an example, or a number labelled as something else (注文番号, 品番, ID…).
    fn is_placeholder(&self, cx: &Ctx<'_>, digits: &str, start: usize, end: usize) -> bool {
        let n = digits.len();
        if n >= 8 && digits[n - 8..].bytes().all(|b| b == b'0') {
            return true;
        }
        if digits[1..].bytes().all(|b| b == digits.as_bytes()[1]) {
            return true;
        }
        let (s, e) = cx.n.sentence(start);
        let before = cx
            .sq
            .slice(cx.sq.index_of_base(s), cx.sq.index_of_base(start));
        // Only the words just before the number label it (「例：」「ダミーの」「注文番号」).
        let near: String = {
            let chars: Vec<char> = before.chars().collect();
            chars[chars.len().saturating_sub(12)..].iter().collect()
        };
        if self.placeholder_context.is_match(&near) || self.other_number.is_match(before) {
            return true;
        }
        let after = cx
            .sq
            .slice(cx.sq.index_of_base(end), cx.sq.index_of_base(e));
        self.placeholder_after.is_match(after)
    }
}

/// Whether `d` is a plausible Japanese number: 0 + non-zero, 11 digits for mobile/IP/0800 numbers, 10
/// for the rest; with phone words around, either length is accepted.
fn valid(d: &str, phone_ctx: bool) -> bool {
    let b = d.as_bytes();
    let len = b.len();
    if !(10..=11).contains(&len) || b[0] != b'0' || b[1] == b'0' {
        return false;
    }
    let mobile = matches!(&d[..3], "050" | "070" | "080" | "090" | "020") || d.starts_with("0800");
    let exact = if mobile { len == 11 } else { len == 10 };
    exact || phone_ctx
}

/// Whether the chars between two groups may sit inside one number.
fn gap_ok(chars: &[char], from: usize, to: usize) -> bool {
    if to < from || to - from > MAX_GAP {
        return false;
    }
    chars[from..to].iter().all(|c| {
        !c.is_ascii_alphanumeric()
            && *c != '@'
            && *c != '年'
            && *c != '月'
            && *c != '日'
            && *c != '時'
            && *c != '円'
    })
}

/// Reads digit atoms and joins adjacent ones into groups.
fn groups(chars: &[char]) -> Vec<Group> {
    let mut atoms: Vec<Atom> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            atoms.push(Atom {
                start: i,
                end: i + 1,
                digit: c as u8 - b'0',
                kana: false,
            });
            i += 1;
            continue;
        }
        // The letter o between digits is a zero (O9O-1234-5678).
        let digit_near = |k: usize| chars.get(k).is_some_and(|c| c.is_ascii_digit());
        if c == 'o' && ((i > 0 && digit_near(i - 1)) || digit_near(i + 1)) {
            atoms.push(Atom {
                start: i,
                end: i + 1,
                digit: 0,
                kana: false,
            });
            i += 1;
            continue;
        }
        if let Some(d) = kanji_digit(c) {
            atoms.push(Atom {
                start: i,
                end: i + 1,
                digit: d,
                kana: false,
            });
            i += 1;
            continue;
        }
        if ('\u{3041}'..='\u{3096}').contains(&c)
            && let Some((len, d)) = kana_digit_at(chars, i)
        {
            let mut end = i + len;
            while end < chars.len() && chars[end] == 'ー' {
                end += 1;
            }
            atoms.push(Atom {
                start: i,
                end,
                digit: d,
                kana: true,
            });
            i = end;
            continue;
        }
        i += 1;
    }
    // Kana readings count only in runs of three or more adjacent readings.
    let mut keep = vec![true; atoms.len()];
    let mut k = 0;
    while k < atoms.len() {
        if !atoms[k].kana {
            k += 1;
            continue;
        }
        let mut e = k + 1;
        while e < atoms.len()
            && atoms[e].kana
            && chars[atoms[e - 1].end..atoms[e].start]
                .iter()
                .all(|&c| is_sep(c))
            && atoms[e].start - atoms[e - 1].end <= 2
        {
            e += 1;
        }
        if e - k < 3 {
            keep[k..e].iter_mut().for_each(|x| *x = false);
        }
        k = e;
    }
    let mut groups: Vec<Group> = Vec::new();
    for (a, _) in atoms.iter().zip(keep).filter(|(_, k)| *k) {
        let digit = char::from(b'0' + a.digit);
        match groups.last_mut() {
            Some(g) if g.end == a.start => {
                g.end = a.end;
                g.digits.push(digit);
            }
            _ => groups.push(Group {
                start: a.start,
                end: a.end,
                digits: digit.to_string(),
            }),
        }
    }
    groups
}

fn kana_digit_at(chars: &[char], i: usize) -> Option<(usize, u8)> {
    // Cheap rejection: only these kana start a digit reading.
    if !matches!(
        chars[i],
        'き' | 'ぜ'
            | 'れ'
            | 'ま'
            | 'い'
            | 'に'
            | 'さ'
            | 'よ'
            | 'ご'
            | 'ろ'
            | 'な'
            | 'し'
            | 'は'
            | 'く'
    ) {
        return None;
    }
    KANA_DIGITS
        .iter()
        .find_map(|(w, d)| chars[i..].starts_with(w).then_some((w.len(), *d)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits_of(text: &str) -> Vec<String> {
        let chars: Vec<char> = crate::normalize::Normalized::new(text).chars;
        groups(&chars).into_iter().map(|g| g.digits).collect()
    }

    #[test]
    fn kanji_kana_and_ascii_digits_are_read_as_digit_groups() {
        assert_eq!(digits_of("〇八〇-０１２３"), vec!["080", "0123"]);
        assert_eq!(digits_of("ぜろきゅうぜろ"), vec!["090"]);
        assert_eq!(digits_of("ゼロニーハチゴー"), vec!["0285"]);
    }

    #[test]
    fn isolated_kana_that_sound_like_digits_are_not_digits() {
        assert!(digits_of("ご確認ください。日本にいます").is_empty());
    }

    #[test]
    fn number_validity_follows_japanese_numbering() {
        assert!(valid("09000004821", false));
        assert!(valid("0300007712", false));
        assert!(valid("0120000456", false));
        assert!(!valid("0900000482", false));
        assert!(valid("0900000482", true));
        assert!(!valid("0012345678", true));
        assert!(!valid("128049781", true));
    }
}
