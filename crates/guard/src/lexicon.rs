//! The dictionary of service names (LINE, SNS, mail providers, payment apps, file sharing, meeting tools,
//! other marketplaces) and the matcher that finds them in the squeezed view.
//!
//! Every word is written once, the natural way (カタカナ or ASCII); it goes through the same
//! normalisation as the text, so ライン also finds ﾗｲﾝ, らいん and ＬＩＮＥ finds line. Matching runs one
//! Aho-Corasick automaton over the squeezed view (separators removed), and each hit is then checked
//! against the base view:
//!
//! * **spacing** — the letters must be either contiguous (`LINE`), fully spaced (`L I N E`, `ら・い・ん`,
//!   `L⏎I⏎N⏎E`) or broken only where the dictionary word has a space (`Google Drive`,
//!   `エル・アイ・エヌ・イー`); `all in everything` does not spell `line`;
//! * **ASCII word boundaries** — `line` is not found in `online`, `guideline` or `lines`;
//! * **katakana word boundaries** — ライン is not found in オンライン, ガイドライン, ラインナップ or
//!   ラインストーン, because the neighbouring character came from the same katakana word (unless what
//!   follows is a word that legitimately continues the name, such as ラインアカウント);
//! * **look-alikes** — ライソ and ライノ (ソ/ノ for ン) count only when written in katakana.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::normalize::{Normalized, Squeezed, squeeze_word};

/// What a dictionary word names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// LINE the messenger (ライン, らいん, ＬＩＮＥ, エルアイエヌイー, 緑のアプリ).
    Line,
    /// SNS and messengers other than LINE (インスタ, ツイッター, X（旧Twitter）, 青い鳥, ディスコード…).
    Sns,
    /// Mail providers (Gmail, ジーメール, ヤフーメール…).
    MailProvider,
    /// Payment apps, gift cards and other ways to pay (PayPay, LINE Pay, PayPal, アマギフ…).
    PayApp,
    /// File transfer services whose mention with a verb means a file left the platform (Googleドライブ,
    /// Dropbox, ギガファイル便, WeTransfer…).
    FileStrong,
    /// Tools that are also everyday work topics and only count with a share verb (スプレッドシート,
    /// Googleフォーム, Notion, Figma, Canva…).
    FileWeak,
    /// Video meeting tools (Zoom, Google Meet, Teams…).
    Meeting,
}

/// Flag: the word counts only when every letter came from katakana (ライソ, ライノ).
const KATA_ONLY: u8 = 1;

/// The dictionary: (word, class, flags). Spaces mark where the word may be broken.
const WORDS: &[(&str, Class, u8)] = &[
    // LINE
    ("line", Class::Line, 0),
    ("l1ne", Class::Line, 0),
    ("l!ne", Class::Line, 0),
    ("ライン", Class::Line, 0),
    ("ラィン", Class::Line, 0),
    ("ライソ", Class::Line, KATA_ONLY),
    ("ライノ", Class::Line, KATA_ONLY),
    ("エル アイ エヌ イー", Class::Line, 0),
    ("エル アイ エヌ イ", Class::Line, 0),
    ("緑の アプリ", Class::Line, 0),
    ("緑色の アプリ", Class::Line, 0),
    ("みどりの アプリ", Class::Line, 0),
    // SNS and messengers
    ("instagram", Class::Sns, 0),
    ("insta", Class::Sns, 0),
    ("インスタ グラム", Class::Sns, 0),
    ("インスタ", Class::Sns, 0),
    ("twitter", Class::Sns, 0),
    ("ツイッター", Class::Sns, 0),
    ("ついった", Class::Sns, 0),
    ("x (旧 twitter)", Class::Sns, 0),
    ("x (旧 ツイッター)", Class::Sns, 0),
    ("x 旧 twitter", Class::Sns, 0),
    ("x の", Class::Sns, 0),
    ("x :", Class::Sns, 0),
    ("x 垢", Class::Sns, 0),
    ("x で", Class::Sns, 0),
    ("x アカウント", Class::Sns, 0),
    ("エックス", Class::Sns, 0),
    ("青い 鳥", Class::Sns, 0),
    ("あおい とり", Class::Sns, 0),
    ("tiktok", Class::Sns, 0),
    ("tik tok", Class::Sns, 0),
    ("ティック トック", Class::Sns, 0),
    ("facebook", Class::Sns, 0),
    ("フェイス ブック", Class::Sns, 0),
    ("フェイスブック", Class::Sns, 0),
    ("messenger", Class::Sns, 0),
    ("メッセンジャー", Class::Sns, 0),
    ("discord", Class::Sns, 0),
    ("ディス コード", Class::Sns, 0),
    ("skype", Class::Sns, 0),
    ("スカイプ", Class::Sns, 0),
    ("slack", Class::Sns, 0),
    ("スラック", Class::Sns, 0),
    ("chatwork", Class::Sns, 0),
    ("チャット ワーク", Class::Sns, 0),
    ("telegram", Class::Sns, 0),
    ("テレグラム", Class::Sns, 0),
    ("whatsapp", Class::Sns, 0),
    ("ワッツ アップ", Class::Sns, 0),
    ("kakaotalk", Class::Sns, 0),
    ("kakao", Class::Sns, 0),
    ("カカオ トーク", Class::Sns, 0),
    ("wechat", Class::Sns, 0),
    ("ウィー チャット", Class::Sns, 0),
    ("threads", Class::Sns, 0),
    ("スレッズ", Class::Sns, 0),
    ("bluesky", Class::Sns, 0),
    ("ブルー スカイ", Class::Sns, 0),
    ("snapchat", Class::Sns, 0),
    ("viber", Class::Sns, 0),
    ("mixi", Class::Sns, 0),
    // Mail providers
    ("gmail", Class::MailProvider, 0),
    ("ジー メール", Class::MailProvider, 0),
    ("ジメール", Class::MailProvider, 0),
    ("グーグル の メール", Class::MailProvider, 0),
    ("グーグル メール", Class::MailProvider, 0),
    ("google の メール", Class::MailProvider, 0),
    ("google メール", Class::MailProvider, 0),
    ("yahoo メール", Class::MailProvider, 0),
    ("yahoo mail", Class::MailProvider, 0),
    ("ヤフー メール", Class::MailProvider, 0),
    ("ヤフメ", Class::MailProvider, KATA_ONLY),
    ("icloud", Class::MailProvider, 0),
    ("アイ クラウド", Class::MailProvider, 0),
    ("outlook", Class::MailProvider, 0),
    ("hotmail", Class::MailProvider, 0),
    ("ホット メール", Class::MailProvider, 0),
    ("キャリア メール", Class::MailProvider, 0),
    ("ドコモ メール", Class::MailProvider, 0),
    ("proton mail", Class::MailProvider, 0),
    // Payment apps and other ways to pay
    ("paypay", Class::PayApp, 0),
    ("ペイ ペイ", Class::PayApp, 0),
    ("line pay", Class::PayApp, 0),
    ("ライン ペイ", Class::PayApp, 0),
    ("paypal", Class::PayApp, 0),
    ("ペイ パル", Class::PayApp, 0),
    ("楽天 ペイ", Class::PayApp, 0),
    ("rakuten pay", Class::PayApp, 0),
    ("メル ペイ", Class::PayApp, 0),
    ("au pay", Class::PayApp, 0),
    ("d払い", Class::PayApp, 0),
    ("kyash", Class::PayApp, 0),
    ("venmo", Class::PayApp, 0),
    ("paidy", Class::PayApp, 0),
    ("アマギフ", Class::PayApp, 0),
    ("amazon ギフト", Class::PayApp, 0),
    ("アマゾン ギフト", Class::PayApp, 0),
    ("amazon gift", Class::PayApp, 0),
    ("apple gift card", Class::PayApp, 0),
    ("apple ギフト", Class::PayApp, 0),
    ("アップル ギフト", Class::PayApp, 0),
    ("itunes カード", Class::PayApp, 0),
    ("google play カード", Class::PayApp, 0),
    ("グーグル プレイ カード", Class::PayApp, 0),
    ("ギフト コード", Class::PayApp, 0),
    ("ギフト 券", Class::PayApp, 0),
    ("amazon ギフト 券", Class::PayApp, 0),
    ("アマゾン ギフト 券", Class::PayApp, 0),
    ("stripe", Class::PayApp, 0),
    ("ストライプ 決済", Class::PayApp, 0),
    ("square", Class::PayApp, 0),
    ("wise", Class::PayApp, 0),
    ("ギフト カード", Class::PayApp, 0),
    ("gift card", Class::PayApp, 0),
    ("web マネー", Class::PayApp, 0),
    ("bitcoin", Class::PayApp, 0),
    ("ビット コイン", Class::PayApp, 0),
    ("仮想 通貨", Class::PayApp, 0),
    ("暗号 資産", Class::PayApp, 0),
    ("現金 書留", Class::PayApp, 0),
    ("現金 手渡し", Class::PayApp, 0),
    ("western union", Class::PayApp, 0),
    ("ウエスタン ユニオン", Class::PayApp, 0),
    // File transfer services
    ("google drive", Class::FileStrong, 0),
    ("google ドライブ", Class::FileStrong, 0),
    ("グーグル ドライブ", Class::FileStrong, 0),
    ("dropbox", Class::FileStrong, 0),
    ("ドロップ ボックス", Class::FileStrong, 0),
    ("onedrive", Class::FileStrong, 0),
    ("one drive", Class::FileStrong, 0),
    ("ワン ドライブ", Class::FileStrong, 0),
    ("gigafile", Class::FileStrong, 0),
    ("ギガ ファイル 便", Class::FileStrong, 0),
    ("ギガ ファイル", Class::FileStrong, 0),
    ("wetransfer", Class::FileStrong, 0),
    ("we transfer", Class::FileStrong, 0),
    ("ウィー トランスファー", Class::FileStrong, 0),
    ("firestorage", Class::FileStrong, 0),
    ("ファイア ストレージ", Class::FileStrong, 0),
    ("宅ファイル 便", Class::FileStrong, 0),
    ("ファイル 便", Class::FileStrong, 0),
    ("データ 便", Class::FileStrong, 0),
    ("icloud drive", Class::FileStrong, 0),
    ("send anywhere", Class::FileStrong, 0),
    // Tools that need a share verb
    ("スプレッド シート", Class::FileWeak, 0),
    ("google フォーム", Class::FileWeak, 0),
    ("グーグル フォーム", Class::FileWeak, 0),
    ("google form", Class::FileWeak, 0),
    ("google forms", Class::FileWeak, 0),
    ("google ドキュメント", Class::FileWeak, 0),
    ("グーグル ドキュメント", Class::FileWeak, 0),
    ("google docs", Class::FileWeak, 0),
    ("google スライド", Class::FileWeak, 0),
    ("google slides", Class::FileWeak, 0),
    ("google sheets", Class::FileWeak, 0),
    ("notion", Class::FileWeak, 0),
    ("ノーション", Class::FileWeak, 0),
    ("figma", Class::FileWeak, 0),
    ("フィグマ", Class::FileWeak, 0),
    ("canva", Class::FileWeak, 0),
    ("キャンバ", Class::FileWeak, KATA_ONLY),
    ("miro", Class::FileWeak, 0),
    // Video meetings
    ("zoom", Class::Meeting, 0),
    ("ズーム", Class::Meeting, 0),
    ("google meet", Class::Meeting, 0),
    ("グーグル ミート", Class::Meeting, 0),
    ("teams", Class::Meeting, 0),
    ("チームズ", Class::Meeting, 0),
    ("whereby", Class::Meeting, 0),
    ("webex", Class::Meeting, 0),
    ("ウェベックス", Class::Meeting, 0),
    ("facetime", Class::Meeting, 0),
    ("フェイス タイム", Class::Meeting, 0),
    ("ハング アウト", Class::Meeting, 0),
    ("jitsi", Class::Meeting, 0),
];

/// Katakana words that may follow a service name without making it part of a longer word
/// (ラインアカウント, インスタアカウント, ラインアプリ).
const CONTINUATIONS: &[&str] = &[
    "あかうんと",
    "あぷり",
    "ぐるーぷ",
    "とーく",
    "ゆーざー",
    "ねーむ",
    "こーる",
    "びでお",
    "めーる",
    "でぃーえむ",
    "めっせーじ",
    "ぺーじ",
    "らいぶ",
];

/// One compiled dictionary word.
#[derive(Debug)]
struct Word {
    class: Class,
    /// Squeezed length in chars.
    len: usize,
    /// Positions (1..len) where a break is allowed.
    gaps: Vec<usize>,
    ascii_start: bool,
    ascii_end: bool,
    kata_only: bool,
}

/// A dictionary word found in a text, with its position in both views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    /// What the word names.
    pub class: Class,
    /// Squeezed char range.
    pub sq_start: usize,
    /// Squeezed char range end (exclusive).
    pub sq_end: usize,
    /// Base char range.
    pub base_start: usize,
    /// Base char range end (exclusive).
    pub base_end: usize,
}

/// How many literal sets a phrase rule can name: its triggers (level 0) and up to two further sets of
/// literals every match also contains (levels 1 and 2).
pub(crate) const LEVELS: usize = 3;

/// The pseudo-level of a phrase rule's *start* literals (every match starts with one): the lexicon
/// reports where they occur.
pub(crate) const START: usize = LEVELS;

/// The phrase-rule literals present in a text.
#[derive(Debug, Clone)]
pub(crate) struct Triggered {
    /// Bit `i` of `mask[l]` is set when a level-`l` literal of phrase rule `i` occurs.
    pub mask: [u64; LEVELS],
    /// `last[i]`: the squeezed byte offset where the last trigger (level-0 literal) of phrase rule `i`
    /// starts (0 when there is none). A match of the rule that starts after it cannot exist.
    pub last: [usize; 64],
    /// `(i, offset)`: a start literal of phrase rule `i` begins at this squeezed byte offset.
    pub starts: Vec<(usize, usize)>,
}

impl Default for Triggered {
    fn default() -> Triggered {
        Triggered {
            mask: [0; LEVELS],
            last: [0; 64],
            starts: Vec::new(),
        }
    }
}

/// A phrase-rule literal for the lexicon: the literal, its level and the mask of the rules it serves.
pub(crate) type TriggerLiteral = (String, usize, u64);

/// The compiled dictionary. Built once per guard.
///
/// Besides the service names it carries *trigger* literals of the phrase rules: each literal has a
/// level and a bit mask of the rules it serves, and [`Lexicon::find`] returns, per level, the union
/// of the masks of the literals present, so the phrase rules know in the same pass which of them can
/// possibly match (a rule needs a literal of each of its levels).
#[derive(Debug)]
pub(crate) struct Lexicon {
    /// The automaton over the dictionary spelled in [`Alphabet`] codes.
    ac: AhoCorasick,
    alphabet: Alphabet,
    /// Each pattern (squeezed) if it has a char with the shared code, so a match must be checked.
    shared: Vec<Option<String>>,
    words: Vec<Word>,
    trigger_masks: Vec<[u64; LEVELS + 1]>,
}

/// The chars of the dictionary, each with a one-byte code: the automaton runs over the text spelled
/// in codes (chars outside the dictionary are 0) rather than over UTF-8, which takes a third of the
/// steps for Japanese text and keeps the automaton small.
///
/// The [`SHARED`]` - 1` chars that occur most in the dictionary have codes of their own; the rarer
/// ones share [`SHARED`], so a match of a word with such a char is checked against the text.
#[derive(Debug)]
pub(crate) struct Alphabet {
    /// Codes of U+0000..U+30FF (ASCII, CJK punctuation, hiragana, katakana).
    low: Vec<u8>,
    /// The other chars (kanji, …) in an open-addressing table (a power of two of slots).
    high: Vec<(char, u8)>,
}

/// Chars below this have their code in [`Alphabet::low`].
const LOW_END: u32 = 0x3100;

/// The code shared by the dictionary's rarest chars.
const SHARED: u8 = 255;

impl Alphabet {
    fn new<'p>(patterns: impl Iterator<Item = &'p str>) -> Alphabet {
        let mut counts: Vec<(char, usize)> = Vec::new();
        let mut chars: Vec<char> = patterns.flat_map(str::chars).collect();
        chars.sort_unstable();
        for c in chars {
            match counts.last_mut() {
                Some((k, n)) if *k == c => *n += 1,
                _ => counts.push((c, 1)),
            }
        }
        // The most used chars first (ties by char, so the codes are stable).
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let high_count = counts.iter().filter(|&&(c, _)| c as u32 >= LOW_END).count();
        // A power of two at least four times the number of chars, so probes are short.
        let slots = (high_count * 4).next_power_of_two().max(64);
        let mut a = Alphabet {
            low: vec![0; LOW_END as usize],
            high: vec![('\0', 0); slots],
        };
        for (k, &(c, _)) in counts.iter().enumerate() {
            let code = u8::try_from(k + 1).unwrap_or(SHARED);
            if (c as u32) < LOW_END {
                a.low[c as usize] = code;
            } else {
                let mut h = a.slot(c);
                while a.high[h].1 != 0 {
                    h = (h + 1) & (slots - 1);
                }
                a.high[h] = (c, code);
            }
        }
        a
    }

    #[inline]
    fn slot(&self, c: char) -> usize {
        ((c as u32).wrapping_mul(0x9E37_79B1) >> 16) as usize & (self.high.len() - 1)
    }

    /// The code of `c` (0 outside the dictionary).
    #[inline]
    pub(crate) fn code(&self, c: char) -> u8 {
        if let Some(&k) = self.low.get(c as usize) {
            return k;
        }
        let mut h = self.slot(c);
        loop {
            let (k, code) = self.high[h];
            if k == c || code == 0 {
                return code;
            }
            h = (h + 1) & (self.high.len() - 1);
        }
    }

    /// Whether `word` has a char with the shared code.
    fn has_shared(&self, word: &str) -> bool {
        word.chars().any(|c| self.code(c) == SHARED)
    }

    /// Appends the coded form of `text` to `out`.
    fn encode(&self, text: &str, out: &mut Vec<u8>) {
        out.reserve(text.len());
        for c in text.chars() {
            out.push(self.code(c));
        }
    }
}

fn is_ascii_alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

impl Lexicon {
    /// Compiles the dictionary.
    ///
    /// # Panics
    /// Only if the constant dictionary cannot be compiled, which the unit tests rule out.
    pub(crate) fn new(triggers: &[TriggerLiteral]) -> Lexicon {
        let mut patterns = Vec::with_capacity(WORDS.len() + triggers.len());
        let mut words = Vec::with_capacity(WORDS.len());
        for &(word, class, flags) in WORDS {
            let (sq, gaps) = squeeze_word(word);
            let len = sq.chars().count();
            words.push(Word {
                class,
                len,
                gaps,
                ascii_start: sq.chars().next().is_some_and(is_ascii_alnum),
                ascii_end: sq.chars().last().is_some_and(is_ascii_alnum),
                kata_only: flags & KATA_ONLY != 0,
            });
            patterns.push(sq);
        }
        // Trigger literals, normalised like the text and merged when two rules (or levels) share one.
        let mut merged: Vec<(String, [u64; LEVELS + 1])> = Vec::new();
        for (raw, level, mask) in triggers {
            let (sq, _) = squeeze_word(raw);
            if sq.is_empty() || *level > START {
                continue;
            }
            match merged.iter_mut().find(|(s, _)| *s == sq) {
                Some((_, m)) => m[*level] |= mask,
                None => {
                    let mut m = [0; LEVELS + 1];
                    m[*level] = *mask;
                    merged.push((sq, m));
                }
            }
        }
        let trigger_masks = merged.iter().map(|(_, m)| *m).collect();
        patterns.extend(merged.into_iter().map(|(s, _)| s));
        let alphabet = Alphabet::new(patterns.iter().map(String::as_str));
        let coded: Vec<Vec<u8>> = patterns
            .iter()
            .map(|p| {
                let mut out = Vec::new();
                alphabet.encode(p, &mut out);
                out
            })
            .collect();
        let shared = patterns
            .iter()
            .map(|p| alphabet.has_shared(p).then(|| p.clone()))
            .collect();
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&coded)
            .expect("the constant service dictionary compiles");
        Lexicon {
            ac,
            alphabet,
            shared,
            words,
            trigger_masks,
        }
    }

    /// The alphabet the squeezed view is to be spelled in (see [`Normalized::with_squeezed`]).
    pub(crate) fn alphabet(&self) -> &Alphabet {
        &self.alphabet
    }

    /// Finds every dictionary word in the text (the longest where words overlap), and the phrase-rule
    /// literals present.
    pub(crate) fn find(&self, n: &Normalized, sq: &Squeezed) -> (Vec<Token>, Triggered) {
        let mut found: Vec<Token> = Vec::new();
        let mut triggered = Triggered::default();
        // The engine's views come spelled in codes; others (tests) are spelled here.
        let mut spelled = Vec::new();
        let codes = if sq.codes.len() == sq.len() {
            &sq.codes
        } else {
            self.alphabet.encode(&sq.text, &mut spelled);
            &spelled
        };
        for m in self.ac.find_overlapping_iter(&codes[..]) {
            let id = m.pattern().as_usize();
            // Squeezed char range of the match (one code a char).
            let (s, e) = (m.start(), m.end());
            if let Some(Some(p)) = self.shared.get(id)
                && sq.slice(s, e) != p
            {
                continue;
            }
            let Some(word) = self.words.get(id) else {
                if let Some(t) = self.trigger_masks.get(id - self.words.len()) {
                    for (m, t) in triggered.mask.iter_mut().zip(t) {
                        *m |= t;
                    }
                    let mut rules = t[0];
                    while rules != 0 {
                        let i = rules.trailing_zeros() as usize;
                        triggered.last[i] = triggered.last[i].max(sq.byte_of[s]);
                        rules &= rules - 1;
                    }
                    let mut rules = t[START];
                    while rules != 0 {
                        let i = rules.trailing_zeros() as usize;
                        triggered.starts.push((i, sq.byte_of[s]));
                        rules &= rules - 1;
                    }
                }
                continue;
            };
            if e - s != word.len {
                continue;
            }
            if let Some(tok) = self.check(word, n, sq, s, e) {
                found.push(tok);
            }
        }
        // Keep the longest of overlapping tokens (インスタグラム over インスタ, LINE Pay over LINE).
        found.sort_by(|a, b| {
            a.sq_start
                .cmp(&b.sq_start)
                .then((b.sq_end - b.sq_start).cmp(&(a.sq_end - a.sq_start)))
        });
        // In place: `found[..kept]` are the tokens kept so far.
        let mut kept = 0;
        for k in 0..found.len() {
            let t = found[k];
            if found[..kept]
                .iter()
                .any(|o| t.sq_start < o.sq_end && o.sq_start < t.sq_end)
            {
                continue;
            }
            found[kept] = t;
            kept += 1;
        }
        found.truncate(kept);
        (found, triggered)
    }

    fn check(
        &self,
        word: &Word,
        n: &Normalized,
        sq: &Squeezed,
        s: usize,
        e: usize,
    ) -> Option<Token> {
        let idx = &sq.base_idx[s..e];
        // Spacing: contiguous, fully spaced, or broken only at the word's own spaces.
        // Positions where the word is broken by separators (no allocation: words are short).
        let breaks = || (1..idx.len()).filter(|&k| idx[k] != idx[k - 1] + 1);
        let n_breaks = breaks().count();
        if n_breaks > 0 {
            let fully_spaced = idx.len() > 1 && n_breaks == idx.len() - 1;
            // Kana words may also be broken by plain spaces anywhere (ライ ン), never by punctuation
            // (こちら、インスタ).
            let space_only = !word.ascii_start
                && breaks().all(|b| (idx[b - 1] + 1..idx[b]).all(|i| n.chars[i].is_whitespace()));
            if !fully_spaced && !space_only && !breaks().all(|b| word.gaps.contains(&b)) {
                return None;
            }
        }
        let (bs, be) = (idx[0], idx[idx.len() - 1] + 1);
        let before = bs.checked_sub(1).map(|i| n.chars[i]);
        let after = n.chars.get(be).copied();
        if word.ascii_start && before.is_some_and(is_ascii_alnum) {
            return None;
        }
        if word.ascii_end && after.is_some_and(is_ascii_alnum) {
            return None;
        }
        if word.kata_only && !(bs..be).all(|i| n.kata[i]) {
            return None;
        }
        // Katakana word boundaries.
        if n.kata_joined_before(bs) {
            return None;
        }
        if be < n.len() && n.kata_joined_before(be) {
            let rest = sq.slice(e, e + 6);
            if !CONTINUATIONS.iter().any(|c| rest.starts_with(c)) {
                return None;
            }
        }
        Some(Token {
            class: word.class,
            sq_start: s,
            sq_end: e,
            base_start: bs,
            base_end: be,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(text: &str) -> Vec<(Class, String)> {
        let lex = Lexicon::new(&[("直接".to_owned(), 0, 0b10)]);
        let n = Normalized::new(text);
        let sq = n.squeeze();
        lex.find(&n, &sq)
            .0
            .into_iter()
            .map(|t| (t.class, n.slice(t.base_start, t.base_end).to_owned()))
            .collect()
    }

    #[test]
    fn line_is_found_in_every_common_spelling() {
        for text in [
            "LINE",
            "ＬＩＮＥ",
            "ライン",
            "ﾗｲﾝ",
            "らいん",
            "L I N E",
            "l.i.n.e",
            "L\nI\nN\nE",
            "ら い ん",
            "エル・アイ・エヌ・イー",
            "ライソ",
        ] {
            let found = classes(text);
            assert_eq!(found.len(), 1, "{text}: {found:?}");
            assert_eq!(found[0].0, Class::Line, "{text}");
        }
    }

    #[test]
    fn line_is_not_found_inside_longer_words() {
        for text in [
            "オンライン",
            "ガイドライン",
            "ラインナップ",
            "デッドライン",
            "ラインストーン",
            "online",
            "guidelines",
            "all in everything",
            "らいそう",
        ] {
            assert!(
                classes(text).iter().all(|(c, _)| *c != Class::Line),
                "{text}: {:?}",
                classes(text)
            );
        }
    }

    #[test]
    fn longer_names_win_over_their_prefixes() {
        assert_eq!(classes("LINE Pay")[0].0, Class::PayApp);
        assert_eq!(classes("インスタグラム")[0].1, "いんすたぐらむ");
    }

    #[test]
    fn service_names_may_continue_with_account_words() {
        assert_eq!(classes("ラインアカウント")[0].0, Class::Line);
        assert!(classes("エックスサーバー").is_empty());
    }

    #[test]
    fn triggers_report_their_rule_masks() {
        let lex = Lexicon::new(&[
            ("直接".to_owned(), 0, 0b01),
            ("手数料".to_owned(), 0, 0b10),
            ("お願い".to_owned(), 1, 0b01),
            ("お願い".to_owned(), 2, 0b10),
        ]);
        let n = Normalized::new("直 接 お願いします");
        let t = lex.find(&n, &n.squeeze()).1;
        assert_eq!(t.mask, [0b01, 0b01, 0b10]);
        assert_eq!(t.last[0], 0);
        let n = Normalized::new("直接、直接");
        // The squeezed view drops the comma: the second 直接 starts at byte 6.
        assert_eq!(lex.find(&n, &n.squeeze()).1.last[0], "直接".len());
        let n = Normalized::new("よろしく");
        assert_eq!(lex.find(&n, &n.squeeze()).1.mask, [0; LEVELS]);
    }

    #[test]
    fn the_engine_dictionary_has_codes_for_its_chars() {
        let rules = crate::rules::phrases::Rules::new(&crate::Policy::default());
        let lex = Lexicon::new(&rules.triggers());
        // Chars outside the dictionary are 0; common ones have their own code.
        assert_eq!(lex.alphabet.code('☃'), 0);
        for c in ['ら', 'い', 'ん', 'l', '直', '接', '@'] {
            assert!(![0, SHARED].contains(&lex.alphabet.code(c)), "{c:?}");
        }
    }

    #[test]
    fn words_with_shared_codes_are_checked_against_the_text() {
        // 255 one-char words use up the codes; the rarest share one.
        let kanji = |k: u32| char::from_u32(0x4E00 + k).unwrap_or('?');
        let words: Vec<String> = (0..300).map(kanji).map(|c| format!("{c}{c}")).collect();
        let alpha = Alphabet::new(words.iter().map(String::as_str));
        let last = kanji(299);
        assert_eq!(alpha.code(last), SHARED);
        let mut triggers: Vec<TriggerLiteral> =
            words.iter().map(|w| (w.clone(), 0, 1u64)).collect();
        triggers.push(("直接".to_owned(), 0, 2));
        let lex = Lexicon::new(&triggers);
        let two_shared = format!("{}{}", kanji(298), last);
        let n = Normalized::new(&two_shared);
        assert_eq!(lex.find(&n, &n.squeeze()).1.mask[0], 0);
        let n = Normalized::new(&format!("{last}{last}"));
        assert_eq!(lex.find(&n, &n.squeeze()).1.mask[0], 1);
    }

    #[test]
    fn the_letter_x_counts_only_as_a_service_name() {
        assert!(classes("1040x1040").is_empty());
        assert!(classes("boxの共有").is_empty());
        assert_eq!(classes("Xのアカウント")[0].0, Class::Sns);
    }
}
