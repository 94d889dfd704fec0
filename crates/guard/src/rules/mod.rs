//! The rule engine: builds the views of a text, runs every rule family over them, applies the shared
//! context decisions (refusals, enforcement, overlaps) and turns hits into [`Finding`]s.
//!
//! Rule families, one module each:
//!
//! | module | kinds | what it reads |
//! |---|---|---|
//! | [`email`] | `email` | addresses (plain and obfuscated), mail providers, "let's use email" phrases |
//! | [`phone`] | `phone` | digit sequences in any script, "call me" phrases |
//! | [`links`] | `line`, `sns`, `url_contact`, `file_sharing` | URLs and bare domains, file and meeting services |
//! | [`line`] | `line` | the word LINE in context, IDs, QR codes, 友だち追加 |
//! | [`sns`] | `sns` | SNS names in context, handles |
//! | [`phrases`] | `direct_deal`, `payment_outside` (and context phrases of other kinds) | phrase patterns |
//!
//! Every rule has a stable name (`family.rule`) that ends up in [`Finding::rule`].
//!
//! **Hard and soft hits.** A hit that contains an identifier (an address, a number, a link, a handle) is
//! *hard*. A hit that rests on wording alone is *soft* and is dropped when its sentence is a refusal
//! ("外部でのやり取りは規約で禁止されているため…", "メールアドレスはここに書かないでください"), unless the
//! sentence turns around after the refusal ("規約違反ですけど…").

pub(crate) mod email;
pub(crate) mod line;
pub(crate) mod links;
pub(crate) mod phone;
pub(crate) mod phrases;
pub(crate) mod sns;

use std::cell::OnceCell;

use regex::Regex;

use crate::lexicon::{Class, Lexicon, Token, Triggered};
use crate::normalize::{Normalized, Squeezed, hira, is_sentence_end};
use crate::{Finding, Kind, Policy};

/// A rule's raw result, in base-view char offsets.
#[derive(Debug, Clone)]
pub(crate) struct Hit {
    pub kind: Kind,
    pub rule: &'static str,
    pub start: usize,
    pub end: usize,
    /// Rests on wording only (dropped inside refusals).
    pub soft: bool,
}

/// Compiles a constant pattern (written in natural Japanese; katakana is folded to hiragana).
///
/// # Panics
/// If the pattern is invalid. Only called from `Guard::new` with constant patterns that the unit tests
/// compile, so it cannot panic at run time.
pub(crate) fn re(pattern: &str) -> Regex {
    Regex::new(&hira(pattern)).unwrap_or_else(|e| panic!("constant pattern {pattern:?}: {e}"))
}

/// Markers that make a sentence a refusal or a warning rather than a proposal.
const REFUSAL: &str = r"規約|禁止|できかね|出来かね|(?:でき|出来)(?:ません|ない)(?:[^かでの]|$)|ご?遠慮|お?控え|控えて|書かないで|送らないで|教えないで|載せないで|交換しないで|しないで(?:ください|下さい|ね)|お断り|違反|不可|規則|るーる上|notallowed|against|prohibited|notpermitted|cannot|can't|mustnot|donot|don't|お預かり(?:しておりません|できません|しません)|(?:受け?付け|受付|お受けし|対応し|行っ|おこなっ)て(?:おりません|いません|おらず)|ないよう(?:に)?(?:お願い|ご注意|注意)|ご注意";
/// Words that turn a refusal around when they follow it.
const CONCESSIVE: &str = r"けど|けれど|ですが|ますが|だが|とはいえ|内緒|ないしょ|こっそり|ばれ(?:ない|たら)|秘密|ひみつ|but|however";

/// Shared helpers compiled once.
#[derive(Debug)]
pub(crate) struct Common {
    refusal: Regex,
    concessive: Regex,
    /// `@handle`, letters possibly spaced out.
    handle_at: Regex,
    /// An ASCII id after a marker (`ID: mika.illust`, `→ maki_0303`, `y o s h i _ 0 9 0 1`).
    id_like: Regex,
    /// Words that mark an ASCII word as an account id (`ID:`, `→`, `ユーザー名`, `検索`).
    id_cue: Regex,
    placeholder: Regex,
}

impl Common {
    fn new() -> Common {
        Common {
            refusal: re(REFUSAL),
            concessive: re(CONCESSIVE),
            handle_at: re(r"@[ \t]*[a-z0-9_](?:[a-z0-9_.\-]|[ \t][a-z0-9_.\-])*"),
            id_like: re(r"[a-z0-9_](?:[a-z0-9_.\-:]|#[0-9]|[ \t][a-z0-9_.\-])*"),
            id_cue: re(
                r"(?:^|[^a-z])(?:id|user ?name)(?:[^a-z]|$)|アイディ|ユーザー(?:名|ネーム)|アカウント名|→|←|⇒|⇐|:|で検索|と検索|検索(?:で|して|すると|すれば|したら)",
            ),
            placeholder: re(
                r"^(?:your|my|user|account|sample|example|xxx+|hoge|fuga|test|dummy|name|id|handle|media|import|keyframes|font-face|charset|supports|param|return|override|here|everyone|channel|mention)(?:[_.\-]?(?:account|name|id|handle|here|user))?$|^x+$|^your",
            ),
        }
    }
}

/// Everything the rules read about one text.
pub(crate) struct Ctx<'a> {
    pub original: &'a str,
    pub n: Normalized,
    pub sq: Squeezed,
    pub tokens: Vec<Token>,
    /// Phrase rules whose literals occur in the text, per level (bit i = `phrases::ALL[i]`).
    pub triggered: Triggered,
    pub policy: &'a Policy,
    common: &'a Common,
    refusals: OnceCell<Vec<(usize, usize)>>,
}

/// Maximum number of squeezed chars a context window reaches.
pub(crate) const WINDOW: usize = 40;

/// How far (base chars) an account id may be from a service name for [`Ctx::id_near`].
pub(crate) const ID_REACH: usize = 50;

impl<'a> Ctx<'a> {
    /// Tokens of one class.
    pub(crate) fn tokens_of(&self, class: Class) -> impl Iterator<Item = &Token> {
        self.tokens.iter().filter(move |t| t.class == class)
    }

    /// Whether any token of `class` occurs in the text.
    pub(crate) fn has_class(&self, class: Class) -> bool {
        self.tokens.iter().any(|t| t.class == class)
    }

    /// The squeezed text after squeezed index `from`, up to the end of its sentence or `max` chars.
    pub(crate) fn tail(&self, from: usize, max: usize) -> &str {
        let window = self.sq.slice(from, from + max);
        match window.find(is_sentence_end) {
            Some(b) => &window[..b],
            None => window,
        }
    }

    /// The squeezed text before squeezed index `to`, back to the start of its sentence or `max` chars.
    pub(crate) fn head(&self, to: usize, max: usize) -> &str {
        let window = self.sq.slice(to.saturating_sub(max), to);
        match window.rfind(is_sentence_end) {
            Some(b) => &window[b + window[b..].chars().next().map_or(1, char::len_utf8)..],
            None => window,
        }
    }

    /// The squeezed text of the sentence containing base index `b` (or of it and the previous one).
    pub(crate) fn sentence_sq(&self, b: usize, with_previous: bool) -> &str {
        let (s, e) = if with_previous {
            self.n.sentence_with_previous(b)
        } else {
            self.n.sentence(b)
        };
        self.sq
            .slice(self.sq.index_of_base(s), self.sq.index_of_base(e))
    }

    /// Base range of a squeezed range.
    pub(crate) fn sq_to_base(&self, s: usize, e: usize) -> Option<(usize, usize)> {
        self.sq.base_range(s, e)
    }

    /// Squeezed char range of a byte range of the squeezed text.
    pub(crate) fn sq_chars(&self, start_byte: usize, end_byte: usize) -> (usize, usize) {
        (self.sq.char_at(start_byte), self.sq.char_at(end_byte))
    }

    /// The first handle or id (`@aoi_writer`, `mika.illust`, `y o s h i _ 0 9 0 1`) starting within
    /// `max` base chars after base index `from`; returns its base range. `needs_at` restricts to
    /// `@handles`.
    pub(crate) fn handle_after(
        &self,
        from: usize,
        max: usize,
        needs_at: bool,
    ) -> Option<(usize, usize)> {
        let end = (from + max).min(self.n.len());
        let hay_start = self.n.byte_of[from.min(self.n.len())];
        let hay_end = self.n.byte_of[end];
        let hay = &self.n.text[hay_start..hay_end];
        let at = self.common.handle_at.find_iter(hay).find_map(|m| {
            let (s, e) = (
                self.n.char_at(hay_start + m.start()),
                self.n.char_at(hay_start + m.end()),
            );
            self.clean_handle(s, e, true)
        });
        if needs_at {
            return at;
        }
        let id = self.common.id_like.find_iter(hay).find_map(|m| {
            let (s, e) = (
                self.n.char_at(hay_start + m.start()),
                self.n.char_at(hay_start + m.end()),
            );
            self.clean_id(s, e)
        });
        match (at, id) {
            (Some(a), Some(i)) => Some(if a.0 <= i.0 { a } else { i }),
            (a, i) => a.or(i),
        }
    }

    /// An account id near a service name: an `@handle`, or an id-shaped ASCII word (`hinata_design`,
    /// `mio_cafe_`, `taro#1234`) with an id cue (`ID:`, `→`, `←`, `ユーザー名`, `で検索`) outside it,
    /// in the sentence of base range `[s, e)`, the one before or the one after, at most `max` base
    /// chars away. Covers 「詳細はLINEで！ID: hinata_design です」 and 「hinata_design ←ラインのIDです」.
    /// Returns the handle's base range.
    pub(crate) fn id_near(&self, s: usize, e: usize, max: usize) -> Option<(usize, usize)> {
        let (ps, _) = self.n.sentence_with_previous(s);
        let (_, se) = self.n.sentence(e.saturating_sub(1).max(s));
        let ne = if se < self.n.len() {
            self.n.sentence(se).1
        } else {
            se
        };
        let lo = ps.max(s.saturating_sub(max));
        let hi = ne.min(e + max);
        if lo >= hi {
            return None;
        }
        let (blo, bhi) = (self.n.byte_of[lo], self.n.byte_of[hi]);
        let hay = &self.n.text[blo..bhi];
        let to_chars = |a: usize, b: usize| (self.n.char_at(blo + a), self.n.char_at(blo + b));
        let mut best: Option<(usize, usize)> = None;
        let mut consider = |h: (usize, usize)| {
            if h.1 <= s || h.0 >= e {
                let d = if h.0 >= e { h.0 - e } else { s - h.1 };
                let bd = best.map(|b| if b.0 >= e { b.0 - e } else { s - b.1 });
                if bd.is_none_or(|bd| d < bd) {
                    best = Some(h);
                }
            }
        };
        for m in self.common.handle_at.find_iter(hay) {
            let (a, b) = to_chars(m.start(), m.end());
            if let Some(h) = self.clean_handle(a, b, true) {
                consider(h);
            }
        }
        let cues: Vec<(usize, usize)> = self
            .common
            .id_cue
            .find_iter(hay)
            .map(|m| to_chars(m.start(), m.end()))
            .collect();
        if !cues.is_empty() {
            for m in self.common.id_like.find_iter(hay) {
                let (a, b) = to_chars(m.start(), m.end());
                let Some(h) = self.clean_id(a, b) else {
                    continue;
                };
                if cues.iter().any(|&(cs, ce)| ce <= h.0 || cs >= h.1) {
                    consider(h);
                }
            }
        }
        best
    }

    /// Every `@handle` in the text that is not part of an e-mail address and not a placeholder.
    pub(crate) fn all_handles(&self) -> Vec<(usize, usize)> {
        self.common
            .handle_at
            .find_iter(&self.n.text)
            .filter_map(|m| {
                self.clean_handle(self.n.char_at(m.start()), self.n.char_at(m.end()), true)
            })
            .collect()
    }

    /// An id (no at-sign) in the raw match `[s, e)`: the whole match, or else the match from one of
    /// its later space-separated pieces (`id: hinata_design` is the id `hinata_design`).
    fn clean_id(&self, s: usize, e: usize) -> Option<(usize, usize)> {
        if let Some(h) = self.clean_handle(s, e, false) {
            return Some(h);
        }
        let chars = &self.n.chars;
        let mut i = s;
        while i < e {
            if chars[i].is_whitespace() {
                while i < e && chars[i].is_whitespace() {
                    i += 1;
                }
                if i < e
                    && let Some(h) = self.clean_handle(i, e, false)
                {
                    return Some(h);
                }
            }
            i += 1;
        }
        None
    }

    /// Trims a raw handle match, checks it looks like an account name, and returns its base range.
    fn clean_handle(&self, s: usize, e: usize, with_at: bool) -> Option<(usize, usize)> {
        let chars = &self.n.chars;
        // Not the domain part of an e-mail address, not inside a word.
        if s > 0 {
            let prev = chars[s - 1];
            if prev.is_ascii_alphanumeric()
                || matches!(prev, '_' | '.' | '-' | '/' | '@')
                || (with_at && prev == ':')
            {
                return None;
            }
        }
        // Spaced-out letters are one handle only if every piece is one or two chars long.
        let body_start = if with_at { s + 1 } else { s };
        let mut pieces: Vec<(usize, usize)> = Vec::new();
        let mut i = body_start;
        while i < e {
            while i < e && chars[i].is_whitespace() {
                i += 1;
            }
            let ps = i;
            while i < e && !chars[i].is_whitespace() {
                i += 1;
            }
            if ps < i {
                pieces.push((ps, i));
            }
        }
        let spaced = pieces.len() > 1 && pieces.iter().all(|(a, b)| b - a <= 2);
        let (bs, mut be) = match (pieces.first(), pieces.last()) {
            (Some(f), Some(l)) => (f.0, if spaced { l.1 } else { f.1 }),
            _ => return None,
        };
        while be > bs && matches!(chars[be - 1], '.' | '-' | ':' | '_') {
            be -= 1;
        }
        let body: String = chars[bs..be]
            .iter()
            .filter(|c| !c.is_whitespace())
            .collect();
        let len = body.chars().count();
        if !(3..=40).contains(&len) || self.common.placeholder.is_match(&body) {
            return None;
        }
        if body.contains(':') && !body.starts_with("live:") {
            return None;
        }
        let has_letter = body.chars().any(|c| c.is_ascii_alphabetic());
        let has_mark = body
            .chars()
            .any(|c| c.is_ascii_digit() || matches!(c, '_' | '.' | '-'));
        if !with_at {
            // Without an @, only id-shaped words count: letters with digits or marks, and not a domain
            // or file name.
            if !(has_letter && has_mark) {
                return None;
            }
            if looks_like_domain_or_file(&body) {
                return None;
            }
        } else if body.contains('.') && looks_like_domain_or_file(&body) {
            return None;
        }
        Some((if with_at { s } else { bs }, be))
    }

    /// Whether the sentence containing base index `b` is a refusal or warning.
    pub(crate) fn in_refusal(&self, b: usize) -> bool {
        let spans = self.refusals.get_or_init(|| self.find_refusals());
        spans.iter().any(|&(s, e)| s <= b && b < e)
    }

    fn find_refusals(&self) -> Vec<(usize, usize)> {
        let mut out: Vec<(usize, usize)> = Vec::new();
        for m in self.common.refusal.find_iter(&self.sq.text) {
            let sq_idx = self.sq.char_at(m.start());
            let Some(&b) = self.sq.base_idx.get(sq_idx) else {
                continue;
            };
            let (s, e) = self.n.sentence(b);
            if out.iter().any(|&(a, _)| a == s) {
                continue;
            }
            let after = self.sq.slice(sq_idx, self.sq.index_of_base(e));
            if self.common.concessive.is_match(after) {
                continue;
            }
            out.push((s, e));
        }
        out
    }
}

/// Whether an ASCII word is a domain (`example.com`) or a file name (`logo_v3.png`), not an account id.
pub(crate) fn looks_like_domain_or_file(word: &str) -> bool {
    const ENDINGS: &[&str] = &[
        ".com", ".jp", ".net", ".org", ".io", ".me", ".co", ".info", ".biz", ".png", ".jpg",
        ".jpeg", ".gif", ".pdf", ".ai", ".psd", ".zip", ".mp4", ".mov", ".doc", ".docx", ".xls",
        ".xlsx", ".ppt", ".pptx", ".txt", ".csv", ".svg", ".html", ".css", ".js", ".php", ".webp",
        ".mp3", ".wav", ".eps", ".tif", ".tiff", ".heic",
    ];
    ENDINGS.iter().any(|e| word.ends_with(e))
}

/// The compiled rule families. Built once by `Guard::new`.
#[derive(Debug)]
pub(crate) struct Engine {
    lexicon: Lexicon,
    common: Common,
    email: email::Rules,
    phone: phone::Rules,
    links: links::Rules,
    line: line::Rules,
    sns: sns::Rules,
    phrases: phrases::Rules,
}

impl Engine {
    /// Compiles every rule for `policy`.
    pub(crate) fn new(policy: &Policy) -> Engine {
        let phrases = phrases::Rules::new(policy);
        Engine {
            lexicon: Lexicon::new(&phrases.triggers()),
            common: Common::new(),
            email: email::Rules::new(),
            phone: phone::Rules::new(),
            links: links::Rules::new(),
            line: line::Rules::new(),
            sns: sns::Rules::new(),
            phrases,
        }
    }

    /// Scans `text`; findings are sorted by start and restricted to enforced kinds.
    pub(crate) fn scan(&self, text: &str, policy: &Policy) -> Vec<Finding> {
        let (n, sq) = Normalized::with_squeezed(text, Some(self.lexicon.alphabet()));
        if n.len() == 0 {
            return Vec::new();
        }
        let (tokens, triggered) = self.lexicon.find(&n, &sq);
        let cx = Ctx {
            original: text,
            n,
            sq,
            tokens,
            triggered,
            policy,
            common: &self.common,
            refusals: OnceCell::new(),
        };
        let mut hits: Vec<Hit> = Vec::new();
        self.email.run(&cx, &mut hits);
        self.phone.run(&cx, &mut hits);
        self.links.run(&cx, &mut hits);
        self.line.run(&cx, &mut hits);
        self.sns.run(&cx, &mut hits);
        self.phrases.run(&cx, &mut hits);
        let findings = finish(&cx, hits);
        crate::normalize::recycle(cx.n, cx.sq);
        findings
    }
}

/// Drops soft hits inside refusals and hits of kinds the policy does not enforce, removes hits
/// contained in another hit of the same kind, and maps the rest to original offsets.
fn finish(cx: &Ctx<'_>, mut hits: Vec<Hit>) -> Vec<Finding> {
    hits.retain(|h| h.start < h.end && cx.policy.enforces(h.kind));
    hits.retain(|h| !(h.soft && cx.in_refusal(h.start)));
    for h in &mut hits {
        // Trim separators at both ends so the excerpt shows the evidence, not the spacing.
        while h.start < h.end && is_trim(cx.n.chars[h.start]) {
            h.start += 1;
        }
        while h.end > h.start && is_trim(cx.n.chars[h.end - 1]) {
            h.end -= 1;
        }
    }
    hits.retain(|h| h.start < h.end);
    hits.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut kept: Vec<Hit> = Vec::with_capacity(hits.len());
    for h in hits {
        if kept
            .iter()
            .any(|k| k.kind == h.kind && k.start <= h.start && h.end <= k.end)
        {
            continue;
        }
        kept.push(h);
    }
    let spans: Vec<(Hit, usize, usize)> = kept
        .into_iter()
        .filter_map(|h| {
            let (os, oe) = cx.n.orig_range(h.start, h.end)?;
            Some((h, os, oe))
        })
        .collect();
    // Byte offsets of the span ends in the original, found in one walk over it.
    let mut wanted: Vec<usize> = spans.iter().flat_map(|&(_, s, e)| [s, e]).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut bytes: Vec<usize> = Vec::with_capacity(wanted.len());
    let mut chars = cx.original.char_indices().map(|(b, _)| b).enumerate();
    for &w in &wanted {
        let b = chars
            .by_ref()
            .find(|&(i, _)| i == w)
            .map_or(cx.original.len(), |(_, b)| b);
        bytes.push(b);
    }
    let byte_of = |c: usize| {
        wanted
            .binary_search(&c)
            .ok()
            .and_then(|k| bytes.get(k).copied())
            .unwrap_or(cx.original.len())
    };
    spans
        .into_iter()
        .map(|(h, os, oe)| {
            let excerpt = cx.original[byte_of(os)..byte_of(oe)].to_owned();
            Finding {
                kind: h.kind,
                start: os,
                end: oe,
                excerpt,
                rule: h.rule,
            }
        })
        .collect()
}

fn is_trim(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '、' | '。' | ',' | '・' | '→' | '←' | ':' | '「' | '」' | '(' | ')'
        )
}

/// Pushes a hit for a squeezed char range (used by phrase-style rules).
pub(crate) fn push_sq(
    cx: &Ctx<'_>,
    out: &mut Vec<Hit>,
    kind: Kind,
    rule: &'static str,
    s: usize,
    e: usize,
    soft: bool,
) {
    if let Some((start, end)) = cx.sq_to_base(s, e) {
        out.push(Hit {
            kind,
            rule,
            start,
            end,
            soft,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx_handles(text: &str) -> Vec<String> {
        let policy = Policy::default();
        let common = Common::new();
        let n = Normalized::new(text);
        let sq = n.squeeze();
        let cx = Ctx {
            original: text,
            n,
            sq,
            tokens: Vec::new(),
            triggered: Triggered::default(),
            policy: &policy,
            common: &common,
            refusals: OnceCell::new(),
        };
        cx.all_handles()
            .into_iter()
            .map(|(s, e)| cx.n.slice(s, e).to_owned())
            .collect()
    }

    #[test]
    fn handles_are_read_even_when_spaced_out() {
        assert_eq!(
            cx_handles("@ k u m o _ d e s i g n"),
            vec!["@ k u m o _ d e s i g n"]
        );
        assert_eq!(cx_handles("@aoi_writer です"), vec!["@aoi_writer"]);
    }

    #[test]
    fn placeholders_css_rules_and_mail_domains_are_not_handles() {
        assert!(cx_handles("@your_account").is_empty());
        assert!(cx_handles("@media クエリ").is_empty());
        assert!(cx_handles("name@example.com").is_empty());
        assert!(cx_handles("@gmail.com のアドレス").is_empty());
    }

    #[test]
    fn refusal_and_concessive_patterns_compile() {
        let c = Common::new();
        assert!(
            c.refusal
                .is_match(&hira("外部でのやり取りは規約で禁止されています"))
        );
        assert!(!c.refusal.is_match(&hira("直接やり取りできませんか")));
        assert!(c.concessive.is_match("規約違反ですけど"));
    }
}
