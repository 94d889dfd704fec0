//! The normalisation layer: turns a user's text into the two views the rules read, and keeps the offset
//! map back to the original text.
//!
//! * The **base view** is the text after, per character: NFKC (full-width → ASCII, ⓪ → 0, half-width
//!   katakana → katakana), lower-casing, katakana → hiragana (ライン, ﾗｲﾝ and らいん all become らいん),
//!   dingbat and keycap digits → ASCII digits (❾ → 9, 0⃣ → 0), unified dashes (‐ – — − → `-`), and with
//!   invisible characters (zero-width spaces, variation selectors, the keycap mark) dropped. Separators
//!   and line breaks are kept. Every base character remembers the original character it starts at
//!   (Unicode scalar offset; its range runs to where the next base character's original begins, so
//!   dropped characters stay attached to the one before them) and whether it came from katakana, so
//!   that a rule can tell the *word* オンライン from the particle-led の らいん.
//! * The **squeezed view** is the base view with separator characters removed (spaces, line breaks,
//!   `・ . - _ * / | , 、`, brackets …), so `L I N E`, `l.i.n.e`, `ら い ん` and `L⏎I⏎N⏎E` all read `line`/`らいん`.
//!   Every squeezed character remembers its base index.
//!
//! Normalising character by character (rather than NFKC over the whole string) is what makes the offset
//! map exact; the only cross-character step is composing a separate voiced sound mark with the kana
//! before it (ｶﾞ → が).

use unicode_normalization::UnicodeNormalization;

use crate::lexicon::Alphabet;

/// The base view of a text with its offset maps. Indices are base-view character indices.
#[derive(Debug)]
pub(crate) struct Normalized {
    /// The normalised text.
    pub text: String,
    /// The normalised characters (same content as `text`).
    pub chars: Vec<char>,
    /// Byte offset in `text` of each character, plus a final entry equal to `text.len()`.
    pub byte_of: Vec<usize>,
    /// First original char index each base char comes from.
    pub orig_start: Vec<usize>,
    /// Whether the base char comes from a katakana character (incl. ー and half-width katakana).
    pub kata: Vec<bool>,
    /// Number of chars in the original text (byte offsets into it are only needed for excerpts, and
    /// are computed then).
    pub orig_len: usize,
    /// Base char indices where a sentence starts (sorted; first entry 0).
    sentence_starts: Vec<usize>,
    /// Cheap facts gathered while normalising, so rules can skip a text without another pass.
    pub facts: Facts,
}

/// Facts about a base view gathered in the normalisation pass.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Facts {
    /// Chars that can be digits of a phone number: ASCII digits, kanji digits (〇一二…九, 零, ○),
    /// and `o` (O9O-…).
    pub digitish: usize,
    /// An at-sign occurs.
    pub at: bool,
    /// A dot followed by an ASCII letter occurs (every host name has one).
    pub dotted: bool,
    /// `at` occurs (in `(at)`, `[at]`, ` at `, …) — a gate for the spelled-out at-sign checks.
    pub at_letters: bool,
    /// `あっと` occurs.
    pub atto: bool,
    /// `dot` or `どっと` occurs.
    pub dot_word: bool,
    /// `(` or `[` occurs (for `(.)`, `[.]`).
    pub bracket: bool,
    /// The squeezed view contains a kana reading of zero (`ぜろ`, `れい`, `まる`). Only set by
    /// [`Normalized::with_squeezed`], which builds the squeezed view in the same pass.
    pub zero_word: bool,
}

/// The squeezed view: the base view without separator characters.
#[derive(Debug)]
pub(crate) struct Squeezed {
    /// The squeezed text.
    pub text: String,
    /// Byte offset in `text` of each character, plus a final entry equal to `text.len()`.
    pub byte_of: Vec<usize>,
    /// Base char index of each squeezed char.
    pub base_idx: Vec<usize>,
    /// The squeezed text spelled in the lexicon's [`Alphabet`] codes (filled when the view is built
    /// with an alphabet; the lexicon's automaton runs over it).
    pub codes: Vec<u8>,
}

/// Whether `c` is dropped by normalisation (it carries no letter of its own): format characters
/// and the C1 controls. (The ASCII controls other than the separators `\t \n \r \v \f` are
/// dropped by [`A_DROP`] on the ASCII path.) Dropping rather than separating keeps
/// `a\u{0}b@example.com` reading `ab@example.com`, whatever path let the control in.
fn is_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{0080}'..='\u{009F}'
            | '\u{00AD}'
            | '\u{034F}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{20E3}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{E0100}'..='\u{E01EF}'
    )
}

/// Digits that NFKC leaves alone: dingbat circled digits (❶ ➀ ➊), double circled digits (⓵) and the
/// negative circled zero (⓿).
fn dingbat_digit(c: char) -> Option<&'static str> {
    const DIGITS: [&str; 10] = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"];
    let u = c as u32;
    let i = match u {
        0x2776..=0x277F => u - 0x2776,
        0x2780..=0x2789 => u - 0x2780,
        0x278A..=0x2793 => u - 0x278A,
        0x24F5..=0x24FE => u - 0x24F5,
        0x24FF | 0x1F10B | 0x1F10C => return Some("0"),
        _ => return None,
    };
    DIGITS.get(i as usize).copied()
}

/// Whether `c` is katakana (full- or half-width, including the prolonged sound mark).
pub(crate) fn is_katakana(c: char) -> bool {
    matches!(c, '\u{30A1}'..='\u{30FA}' | '\u{30FC}'..='\u{30FE}' | '\u{31F0}'..='\u{31FF}' | '\u{FF66}'..='\u{FF9D}')
}

/// Whether `c` is a voiced/semi-voiced sound mark (combining or spacing, full- or half-width).
fn sound_mark(c: char) -> Option<char> {
    match c {
        '\u{3099}' | '\u{309B}' | '\u{FF9E}' => Some('\u{3099}'),
        '\u{309A}' | '\u{309C}' | '\u{FF9F}' => Some('\u{309A}'),
        _ => None,
    }
}

/// Folds one already NFKC-normalised, lower-cased char: katakana → hiragana, dashes → `-`, wave dash → `~`.
pub(crate) fn fold(c: char) -> char {
    match c {
        '\u{30A1}'..='\u{30F6}' | '\u{30FD}' | '\u{30FE}' => {
            char::from_u32(c as u32 - 0x60).unwrap_or(c)
        }
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE63}' | '\u{2043}' => '-',
        '\u{301C}' | '\u{FF5E}' => '~',
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// [`is_sep`] for the chars of the fast path ([`is_fast`]).
#[inline]
fn is_fast_sep(c: char) -> bool {
    matches!(c, '・' | '、' | '「' | '」' | '『' | '』')
}

/// Whether a char is stable under NFKC and lower-casing, so the slow path can be skipped.
fn is_fast(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{3096}' | '\u{309D}' | '\u{309E}' | '\u{30A1}'..='\u{30FE}' | '\u{4E00}'..='\u{9FFF}' | '\u{3001}' | '\u{3002}' | '\u{3005}'..='\u{3007}' | '\u{300C}'..='\u{300F}')
}

/// ASCII separator characters (see [`is_sep`]).
const fn is_ascii_sep(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'\t'
            | b'\n'
            | b'\r'
            | 0x0b
            | 0x0c
            | b'.'
            | b'-'
            | b'_'
            | b'*'
            | b'/'
            | b'|'
            | b','
            | b'~'
            | b'+'
            | b'='
            | b'\''
            | b'"'
            | b'`'
            | b'^'
            | b'('
            | b')'
            | b'['
            | b']'
            | b'<'
            | b'>'
    )
}

/// Separator characters: dropped from the squeezed view.
pub(crate) fn is_sep(c: char) -> bool {
    if c.is_ascii() {
        return is_ascii_sep(c as u8);
    }
    // Kana and kanji (the bulk of Japanese text): only the middle dot is a separator.
    if ('\u{3041}'..='\u{9FFF}').contains(&c) {
        return c == '・';
    }
    c.is_whitespace()
        || matches!(
            c,
            '・' | '.'
                | '-'
                | '_'
                | '*'
                | '/'
                | '|'
                | ','
                | '、'
                | '·'
                | '•'
                | '~'
                | '+'
                | '='
                | '\''
                | '"'
                | '`'
                | '^'
                | '‥'
                | '∙'
                | '⋅'
                | '‧'
                | '('
                | ')'
                | '['
                | ']'
                | '「'
                | '」'
                | '『'
                | '』'
                | '【'
                | '】'
                | '<'
                | '>'
                | '〈'
                | '〉'
                | '《'
                | '》'
        )
}

/// Sentence terminators (for sentence-scoped context).
pub(crate) fn is_sentence_end(c: char) -> bool {
    matches!(c, '。' | '!' | '?' | '\n' | '♪')
}

/// The growable buffers of one scan, kept per thread between scans so that scanning a text does not
/// allocate its views afresh (see [`recycle`]).
#[derive(Default)]
struct Buffers {
    text: String,
    chars: Vec<char>,
    byte_of: Vec<usize>,
    orig_start: Vec<usize>,
    kata: Vec<bool>,
    sentence_starts: Vec<usize>,
    sq_text: String,
    sq_byte_of: Vec<usize>,
    sq_base_idx: Vec<usize>,
    sq_codes: Vec<u8>,
}

impl Buffers {
    fn clear(&mut self) {
        self.text.clear();
        self.chars.clear();
        self.byte_of.clear();
        self.orig_start.clear();
        self.kata.clear();
        self.sentence_starts.clear();
        self.sq_text.clear();
        self.sq_byte_of.clear();
        self.sq_base_idx.clear();
        self.sq_codes.clear();
    }
}

/// Buffers larger than this (in chars) are not kept, so one huge text does not pin its memory.
const POOL_MAX_CHARS: usize = 1 << 16;

thread_local! {
    static POOL: std::cell::RefCell<Option<Buffers>> = const { std::cell::RefCell::new(None) };
}

/// Hands the buffers of a finished scan back to this thread's pool for the next scan.
pub(crate) fn recycle(n: Normalized, sq: Squeezed) {
    if n.chars.capacity() > POOL_MAX_CHARS {
        return;
    }
    let bufs = Buffers {
        text: n.text,
        chars: n.chars,
        byte_of: n.byte_of,
        orig_start: n.orig_start,
        kata: n.kata,
        sentence_starts: n.sentence_starts,
        sq_text: sq.text,
        sq_byte_of: sq.byte_of,
        sq_base_idx: sq.base_idx,
        sq_codes: sq.codes,
    };
    POOL.with(|p| *p.borrow_mut() = Some(bufs));
}

/// Per-char flags of the ASCII range, so the hot loop classifies a char with one load: a separator
/// (dropped from the squeezed view).
const A_SEP: u8 = 1;
/// A sentence terminator (`!`, `?`, line feed).
const A_END: u8 = 2;
/// A char that feeds one of the [`Facts`] (`o`, `t`, `@`, `(`, `[`, digits).
const A_FACT: u8 = 4;
/// A lower-case letter (a dot before it makes a dotted word).
const A_LOWER: u8 = 8;
/// A control character that is not a separator (NUL, ESC, DEL, …): dropped like an invisible
/// character, so it cannot split a contact in two.
const A_DROP: u8 = 16;

const ASCII_FLAGS: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut i = 0;
    while i < 128 {
        let c = i as u8;
        let mut f = 0;
        if is_ascii_sep(c) {
            f |= A_SEP;
        }
        if matches!(c, b'!' | b'?' | b'\n') {
            f |= A_END;
        }
        if matches!(c, b'o' | b't' | b'@' | b'(' | b'[') || c.is_ascii_digit() {
            f |= A_FACT;
        }
        if c.is_ascii_lowercase() {
            f |= A_LOWER;
        }
        if c.is_ascii_control() && !is_ascii_sep(c) {
            f |= A_DROP;
        }
        t[i] = f;
        i += 1;
    }
    t
};

/// Builds both views in one pass.
struct Builder<'a> {
    text: String,
    chars: Vec<char>,
    byte_of: Vec<usize>,
    orig_start: Vec<usize>,
    kata: Vec<bool>,
    sentence_starts: Vec<usize>,
    facts: Facts,
    /// The last char of the squeezed view.
    sq_last: char,
    sq: Squeezed,
    /// Spells the squeezed view in codes as well.
    alphabet: Option<&'a Alphabet>,
}

/// Kanji numerals (and circles) that can stand for a digit of a phone number (see
/// [`Facts::digitish`]).
fn is_kanji_digit(c: char) -> bool {
    matches!(
        c,
        '〇' | '零'
            | '○'
            | '◯'
            | '一'
            | '壱'
            | '二'
            | '弐'
            | '三'
            | '参'
            | '四'
            | '五'
            | '六'
            | '七'
            | '八'
            | '九'
    )
}

impl Builder<'_> {
    /// Records a sentence end after base char `i`.
    #[inline]
    fn sentence_end(&mut self, i: usize) {
        // A run of terminators ("。\n", "!?") ends one sentence, not several empty ones.
        match self.sentence_starts.last_mut() {
            Some(last) if *last == i && i > 0 => *last = i + 1,
            _ => self.sentence_starts.push(i + 1),
        }
    }

    /// The facts an ASCII char with [`A_FACT`] feeds.
    #[inline]
    fn ascii_fact(&mut self, c: char, i: usize) {
        match c {
            'o' => self.facts.digitish += 1,
            't' => {
                let p1 = self.chars.last().copied().unwrap_or(' ');
                if p1 == 'a' {
                    self.facts.at_letters = true;
                } else if p1 == 'o' && i >= 2 && self.chars[i - 2] == 'd' {
                    self.facts.dot_word = true;
                }
            }
            '@' => self.facts.at = true,
            '(' | '[' => self.facts.bracket = true,
            _ => self.facts.digitish += 1,
        }
    }

    /// The facts a non-ASCII char feeds.
    #[inline]
    fn wide_fact(&mut self, c: char, i: usize) {
        // Kanji numerals are 〇 and CJK ideographs (U+4E00…) or geometric circles (U+25CB, U+25EF).
        if !('\u{3041}'..'\u{4E00}').contains(&c) {
            if is_kanji_digit(c) {
                self.facts.digitish += 1;
            }
        } else if c == 'と' && i >= 2 && self.chars[i - 1] == 'っ' {
            match self.chars[i - 2] {
                'あ' => self.facts.atto = true,
                'ど' => self.facts.dot_word = true,
                _ => {}
            }
        }
    }

    /// The facts a non-ASCII char feeds (the general path).
    #[inline]
    fn wide_fact_any(&mut self, c: char, i: usize) {
        if is_kanji_digit(c) {
            self.facts.digitish += 1;
        } else if c == 'と' && i >= 2 && self.chars[i - 1] == 'っ' {
            match self.chars[i - 2] {
                'あ' => self.facts.atto = true,
                'ど' => self.facts.dot_word = true,
                _ => {}
            }
        }
    }

    /// Appends a squeezed char for base char `i`.
    #[inline(always)]
    fn push_sq(&mut self, c: char, i: usize) {
        if matches!(
            (self.sq_last, c),
            ('ぜ', 'ろ') | ('れ', 'い') | ('ま', 'る')
        ) {
            self.facts.zero_word = true;
        }
        self.sq_last = c;
        self.sq.byte_of.push(self.sq.text.len());
        self.sq.text.push(c);
        self.sq.base_idx.push(i);
        if let Some(a) = self.alphabet {
            self.sq.codes.push(a.code(c));
        }
    }

    /// Appends a base char.
    #[inline(always)]
    fn push_base(&mut self, c: char, orig: usize, kata: bool) {
        self.byte_of.push(self.text.len());
        self.text.push(c);
        self.chars.push(c);
        self.orig_start.push(orig);
        self.kata.push(kata);
    }

    /// Appends an ASCII char (already lower-cased).
    #[inline(always)]
    fn push_ascii(&mut self, c: char, orig: usize) {
        let flags = ASCII_FLAGS[c as usize & 0x7f];
        if flags & A_DROP != 0 {
            return;
        }
        let i = self.chars.len();
        if flags & A_FACT != 0 {
            self.ascii_fact(c, i);
        }
        if flags & A_LOWER != 0 && self.chars.last() == Some(&'.') {
            self.facts.dotted = true;
        }
        if flags & A_END != 0 {
            self.sentence_end(i);
        }
        if flags & A_SEP == 0 {
            self.push_sq(c, i);
        }
        self.push_base(c, orig, false);
    }

    /// Appends a char of the kana/kanji fast path (already folded): there only 。 ends a sentence and
    /// only ・、「」『』 are separators.
    #[inline(always)]
    fn push_fast(&mut self, c: char, orig: usize, kata: bool) {
        let i = self.chars.len();
        self.wide_fact(c, i);
        if c == '。' {
            self.sentence_end(i);
        }
        if !is_fast_sep(c) {
            self.push_sq(c, i);
        }
        self.push_base(c, orig, kata);
    }

    /// Appends any normalised char.
    fn push(&mut self, c: char, orig: usize, kata: bool) {
        if c.is_ascii() {
            self.push_ascii(c, orig);
            return;
        }
        let i = self.chars.len();
        self.wide_fact_any(c, i);
        if is_sentence_end(c) {
            self.sentence_end(i);
        }
        if !is_sep(c) {
            self.push_sq(c, i);
        }
        self.push_base(c, orig, kata);
    }

    /// Tries to compose the previous base char with a sound mark; true on success.
    fn compose_last(&mut self, mark: char) -> bool {
        let Some(&last) = self.chars.last() else {
            return false;
        };
        let Some(composed) = unicode_normalization::char::compose(last, mark) else {
            return false;
        };
        self.text.pop();
        self.text.push(composed);
        if let Some(l) = self.chars.last_mut() {
            *l = composed;
        }
        // The squeezed copy of the last char (if it has one) changes with it.
        let last_idx = self.chars.len() - 1;
        if self.sq.base_idx.last() == Some(&last_idx) {
            self.sq.text.pop();
            self.sq.text.push(composed);
            if let (Some(a), Some(k)) = (self.alphabet, self.sq.codes.last_mut()) {
                *k = a.code(composed);
            }
            // ｾﾞﾛ reads ぜろ: the zero-word check sees the composed char.
            self.sq_last = composed;
        }
        true
    }

    /// The slow path: every char that is neither ASCII nor plain kana/kanji.
    #[inline(never)]
    fn push_other(&mut self, c: char, i: usize) {
        // Full-width ASCII (！, ？, （, ：, Ａ, ０ …): NFKC is the ASCII char; no need for the
        // general (and slow) NFKC iterator.
        if ('\u{FF01}'..='\u{FF5E}').contains(&c) {
            let a = char::from_u32(c as u32 - 0xFEE0).unwrap_or(c);
            self.push(fold(a.to_ascii_lowercase()), i, false);
            return;
        }
        // Pictographic emoji and the ideographic space and wave dash are stable under NFKC too.
        if ('\u{1F300}'..='\u{1FAFF}').contains(&c) {
            self.push(c, i, false);
            return;
        }
        if c == '\u{3000}' || c == '\u{301C}' {
            self.push(fold(c), i, false);
            return;
        }
        // Dropped chars need no bookkeeping: a base char's original range ends where the next
        // base char's begins, so they end up attached to the char before them.
        if is_ignorable(c) {
            return;
        }
        if let Some(mark) = sound_mark(c) {
            // Unless it composes, a stray mark is dropped like an ignorable char.
            self.compose_last(mark);
            return;
        }
        if let Some(d) = dingbat_digit(c) {
            for dc in d.chars() {
                self.push(dc, i, false);
            }
            return;
        }
        let kata = is_katakana(c);
        for d in c.nfkc() {
            if let Some(mark) = sound_mark(d) {
                self.compose_last(mark);
                continue;
            }
            if is_ignorable(d) {
                continue;
            }
            for l in d.to_lowercase() {
                self.push(fold(l), i, kata);
            }
        }
    }
}

impl Normalized {
    /// Normalises `original`. Never fails; the result may be empty.
    pub(crate) fn new(original: &str) -> Normalized {
        Normalized::with_squeezed(original, None).0
    }

    /// Normalises `original` and builds its squeezed view in the same pass (what the engine uses),
    /// spelled in `alphabet`'s codes too if given.
    pub(crate) fn with_squeezed(
        original: &str,
        alphabet: Option<&Alphabet>,
    ) -> (Normalized, Squeezed) {
        let cap = original.len() + 8;
        // Japanese text takes three bytes a char; ASCII one. Size for the common case.
        let chars_cap = original.len() / 2 + 8;
        // The buffers of the previous scan on this thread, if any (see `recycle`).
        let mut bufs = POOL.with(|p| p.borrow_mut().take()).unwrap_or_default();
        bufs.clear();
        bufs.text.reserve(cap);
        bufs.chars.reserve(chars_cap);
        bufs.byte_of.reserve(chars_cap + 1);
        bufs.orig_start.reserve(chars_cap);
        bufs.kata.reserve(chars_cap);
        bufs.sentence_starts.push(0);
        bufs.sq_text.reserve(cap);
        bufs.sq_byte_of.reserve(chars_cap + 1);
        bufs.sq_base_idx.reserve(chars_cap);
        if alphabet.is_some() {
            bufs.sq_codes.reserve(chars_cap);
        }
        let mut b = Builder {
            text: bufs.text,
            chars: bufs.chars,
            byte_of: bufs.byte_of,
            orig_start: bufs.orig_start,
            kata: bufs.kata,
            sentence_starts: bufs.sentence_starts,
            facts: Facts::default(),
            sq_last: ' ',
            alphabet,
            sq: Squeezed {
                text: bufs.sq_text,
                byte_of: bufs.sq_byte_of,
                base_idx: bufs.sq_base_idx,
                codes: bufs.sq_codes,
            },
        };
        let mut orig_len = 0;
        for c in original.chars() {
            let i = orig_len;
            orig_len += 1;
            if c.is_ascii() {
                b.push_ascii(c.to_ascii_lowercase(), i);
            } else if is_fast(c) {
                b.push_fast(fold(c), i, is_katakana(c));
            } else {
                b.push_other(c, i);
            }
        }
        b.byte_of.push(b.text.len());
        b.sq.byte_of.push(b.sq.text.len());
        let n = Normalized {
            text: b.text,
            chars: b.chars,
            byte_of: b.byte_of,
            orig_start: b.orig_start,
            kata: b.kata,
            orig_len,
            sentence_starts: b.sentence_starts,
            facts: b.facts,
        };
        (n, b.sq)
    }

    /// Number of base chars.
    pub(crate) fn len(&self) -> usize {
        self.chars.len()
    }

    /// Base char index of a byte offset in `text` (which must be a char boundary).
    pub(crate) fn char_at(&self, byte: usize) -> usize {
        self.byte_of.partition_point(|&b| b < byte)
    }

    /// The base char range `[start, end)` as a `&str` of the base text.
    #[cfg(test)]
    pub(crate) fn slice(&self, start: usize, end: usize) -> &str {
        let s = self.byte_of[start.min(self.len())];
        let e = self.byte_of[end.min(self.len())];
        &self.text[s..e.max(s)]
    }

    /// The original char range covered by base chars `[start, end)`; `None` if the range is empty.
    pub(crate) fn orig_range(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        if start >= end || end > self.len() {
            return None;
        }
        Some((self.orig_start[start], self.orig_end_of(end - 1)))
    }

    /// One past the last original char base char `i` covers: where the next base char from a
    /// different original char begins (so dropped and merged chars belong to the char before them).
    fn orig_end_of(&self, i: usize) -> usize {
        let s = self.orig_start[i];
        let mut j = i + 1;
        while j < self.len() && self.orig_start[j] == s {
            j += 1;
        }
        if j < self.len() {
            self.orig_start[j]
        } else {
            self.orig_len
        }
    }

    /// The sentence (base char range) containing base char `idx`, terminator included.
    pub(crate) fn sentence(&self, idx: usize) -> (usize, usize) {
        let k = self.sentence_starts.partition_point(|&s| s <= idx);
        let start = self.sentence_starts[k.saturating_sub(1)];
        let end = self.sentence_starts.get(k).copied().unwrap_or(self.len());
        (start, end)
    }

    /// The sentence before the one containing `idx`, plus that one (a two-sentence window).
    pub(crate) fn sentence_with_previous(&self, idx: usize) -> (usize, usize) {
        let (start, end) = self.sentence(idx);
        if start == 0 {
            return (start, end);
        }
        let (prev, _) = self.sentence(start - 1);
        (prev, end)
    }

    /// Whether base chars `i` and `i - 1` both come from katakana, i.e. `i` is inside a katakana word.
    pub(crate) fn kata_joined_before(&self, i: usize) -> bool {
        i > 0 && i < self.len() && self.kata[i] && self.kata[i - 1]
    }

    /// The squeezed view of this text.
    pub(crate) fn squeeze(&self) -> Squeezed {
        let mut text = String::with_capacity(self.text.len());
        let mut byte_of = Vec::with_capacity(self.len() + 1);
        let mut base_idx = Vec::with_capacity(self.len());
        for (i, &c) in self.chars.iter().enumerate() {
            if is_sep(c) {
                continue;
            }
            byte_of.push(text.len());
            text.push(c);
            base_idx.push(i);
        }
        byte_of.push(text.len());
        Squeezed {
            text,
            byte_of,
            base_idx,
            codes: Vec::new(),
        }
    }
}

impl Squeezed {
    /// Number of squeezed chars.
    pub(crate) fn len(&self) -> usize {
        self.base_idx.len()
    }

    /// Squeezed char index of a byte offset in `text` (a char boundary).
    pub(crate) fn char_at(&self, byte: usize) -> usize {
        self.byte_of.partition_point(|&b| b < byte)
    }

    /// Base char range covered by squeezed chars `[start, end)`.
    pub(crate) fn base_range(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        if start >= end || end > self.len() {
            return None;
        }
        Some((self.base_idx[start], self.base_idx[end - 1] + 1))
    }

    /// The squeezed char index of the first squeezed char at or after base index `b`.
    pub(crate) fn index_of_base(&self, b: usize) -> usize {
        self.base_idx.partition_point(|&x| x < b)
    }

    /// Squeezed text of chars `[start, end)`.
    pub(crate) fn slice(&self, start: usize, end: usize) -> &str {
        let s = self.byte_of[start.min(self.len())];
        let e = self.byte_of[end.min(self.len())];
        &self.text[s..e.max(s)]
    }
}

/// Normalises a pattern written in natural Japanese for use against the views: katakana → hiragana
/// only (no NFKC, no lower-casing, so regex escapes such as `\S` survive).
pub(crate) fn hira(pattern: &str) -> String {
    pattern.chars().map(fold).collect()
}

/// Fully normalises a dictionary word the way the base view is built, then drops separators, returning
/// the squeezed word and the squeezed positions where the original word had a space (allowed gaps).
pub(crate) fn squeeze_word(word: &str) -> (String, Vec<usize>) {
    let n = Normalized::new(word);
    let mut out = String::new();
    let mut gaps = Vec::new();
    let mut count = 0usize;
    for &c in &n.chars {
        if is_sep(c) {
            if count > 0 {
                gaps.push(count);
            }
            continue;
        }
        out.push(c);
        count += 1;
    }
    (out, gaps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_letters_become_lower_case_ascii_and_keep_offsets() {
        let n = Normalized::new("ＬＩＮＥ ＩＤ");
        assert_eq!(n.text, "line id");
        assert_eq!(n.orig_range(0, 4), Some((0, 4)));
    }

    #[test]
    fn katakana_and_half_width_katakana_fold_to_hiragana() {
        assert_eq!(Normalized::new("ライン").text, "らいん");
        assert_eq!(Normalized::new("ﾗｲﾝ").text, "らいん");
        assert_eq!(Normalized::new("ｶﾞｲﾄﾞﾗｲﾝ").text, "がいどらいん");
        let n = Normalized::new("ｶﾞ");
        assert_eq!(n.orig_range(0, 1), Some((0, 2)));
    }

    #[test]
    fn circled_keycap_and_dingbat_digits_become_ascii_digits() {
        assert_eq!(Normalized::new("⓪⑨⓪").text, "090");
        assert_eq!(Normalized::new("❶➁⓿").text, "120");
        let n = Normalized::new("0\u{FE0F}\u{20E3}9\u{20E3}");
        assert_eq!(n.text, "09");
        assert_eq!(n.orig_range(0, 2), Some((0, 5)));
    }

    #[test]
    fn expanding_characters_map_every_piece_to_the_same_original_char() {
        let n = Normalized::new("a㈱b");
        assert_eq!(n.text, "a(株)b");
        assert_eq!(n.orig_range(1, 4), Some((1, 2)));
        assert_eq!(n.orig_range(4, 5), Some((2, 3)));
    }

    #[test]
    fn squeezed_view_drops_separators_and_line_breaks() {
        let n = Normalized::new("L\nI・N-E で");
        let s = n.squeeze();
        assert_eq!(s.text, "lineで");
        assert_eq!(s.base_range(0, 4), Some((0, 7)));
    }

    #[test]
    fn sentences_split_at_japanese_and_ascii_terminators() {
        let n = Normalized::new("あい。うえ？お");
        assert_eq!(n.sentence(0), (0, 3));
        assert_eq!(n.sentence(4), (3, 6));
        assert_eq!(n.sentence(6), (6, 7));
        assert_eq!(n.sentence_with_previous(6), (3, 7));
    }

    #[test]
    fn fast_paths_agree_with_nfkc() {
        for c in ('\u{FF01}'..='\u{FF5E}')
            .chain('\u{1F300}'..='\u{1FAFF}')
            .chain(['\u{3000}', '\u{301C}'])
        {
            let slow: String = c.nfkc().flat_map(char::to_lowercase).map(fold).collect();
            assert_eq!(Normalized::new(&c.to_string()).text, slow, "{c:?}");
        }
    }

    #[test]
    fn the_fast_path_classifies_like_the_general_one() {
        for c in ('\u{3000}'..='\u{9FFF}').filter(|&c| is_fast(c)) {
            assert_eq!(is_fast_sep(c), is_sep(c), "{c:?}");
            assert_eq!(c == '。', is_sentence_end(c), "{c:?}");
        }
        // `wide_fact` only looks for kanji numerals outside the kana block.
        for c in ('\u{3041}'..'\u{4E00}').filter(|&c| is_fast(c)) {
            assert!(!is_kanji_digit(c), "{c:?}");
        }
        assert_eq!(Normalized::new("〇八〇 零一二三").facts.digitish, 7);
    }

    #[test]
    fn half_width_kana_readings_of_zero_are_seen() {
        assert!(Normalized::new("ｾﾞﾛ").facts.zero_word);
    }

    #[test]
    fn katakana_flags_distinguish_words_from_particles() {
        let n = Normalized::new("オンライン のらいん");
        assert!(n.kata_joined_before(2));
        assert!(!n.kata_joined_before(7));
    }
}
