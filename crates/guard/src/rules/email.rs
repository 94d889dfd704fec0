//! E-mail rules: addresses written plainly or obfuscated, and mail providers named as one's own
//! address. Phrases that move the conversation to e-mail without an address ("メルアド交換しませんか")
//! live in [`super::phrases`].

use regex::Regex;

use super::{Ctx, Hit, re};
use crate::Kind;
use crate::lexicon::Class;
use crate::policy::host_in;

/// Top-level domains accepted when the address is obfuscated (`at`, `dot`, `あっと`, `ドット`).
const KNOWN_TLDS: &[&str] = &[
    "com", "jp", "net", "org", "info", "biz", "io", "me", "co", "ne", "or", "ac", "go", "us", "uk",
    "dev", "app", "xyz", "tokyo", "cloud", "ai",
];

/// Mail providers: with these a plain English ` at ` is enough (`name at gmail.com`).
const PROVIDERS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.co.jp",
    "yahoo.com",
    "ymail.ne.jp",
    "icloud.com",
    "me.com",
    "mac.com",
    "outlook.com",
    "outlook.jp",
    "hotmail.com",
    "hotmail.co.jp",
    "live.jp",
    "live.com",
    "docomo.ne.jp",
    "ezweb.ne.jp",
    "au.com",
    "softbank.ne.jp",
    "i.softbank.jp",
    "protonmail.com",
    "proton.me",
    "nifty.com",
    "biglobe.ne.jp",
    "ocn.ne.jp",
];

/// Local parts that are placeholders, not addresses (`your_name@…`, `xxx@…`).
const PLACEHOLDER_LOCALS: &[&str] = &[
    "xxx",
    "xxxx",
    "xxxxx",
    "your",
    "yourname",
    "your_name",
    "your.name",
    "youraddress",
    "your_address",
    "youremail",
    "your_email",
    "yourmail",
    "your_mail",
    "name",
    "user",
    "username",
    "user_name",
    "hoge",
    "sample",
    "dummy",
    "aaa",
    "abc",
    "mail",
    "email",
    "address",
];

/// Compiled e-mail rules.
#[derive(Debug)]
pub(crate) struct Rules {
    address: Regex,
    dot_split: Regex,
    at_word_domain: Regex,
    provider_tail: Regex,
    provider_head: Regex,
    example_before: Regex,
    example_after: Regex,
}

impl Rules {
    pub(crate) fn new() -> Rules {
        Rules {
            address: re(concat!(
                r"(?P<local>[a-z0-9][a-z0-9._%+\-]*(?:[ \t]+[a-z0-9._%+\-]+)*)",
                r"(?P<at>[ \t]*(?:@|\(at\)|\[at\]|<at>|\{at\}|\(あっと\)|アットマーク|アット)[ \t]*|[ \t]+at[ \t]+)",
                r"(?P<domain>[a-z0-9\-]+(?:(?:[ \t]*(?:\.|\(dot\)|\[dot\]|<dot>|\{dot\}|\(\.\)|\[\.\]|ドット|。)[ \t]*|[ \t]+dot[ \t]+)[a-z0-9\-]+)+)",
            )),
            dot_split: re(
                r"[ \t]*(?:\(dot\)|\[dot\]|<dot>|\{dot\}|\(\.\)|\[\.\]|ドット|。|\.)[ \t]*|[ \t]+dot[ \t]+",
            ),
            at_word_domain: re(
                r"(?:アットマーク|アット|\(at\)|\[at\])[ \t]*[^\s。、!?@]{1,20}?[ \t]*(?:\.|ドット)[ \t]*(?:co\.jp|ne\.jp|com|jp|net|org|info|biz|io|me|コム|ジェーピー|ネット)(?:[^a-z]|$)",
            ),
            provider_tail: re(
                r"^(?:です|だよ|になります|のアドレス|アドレス|:|宛|あて|に(?:送|連絡|ご連絡|お願い|ください|下さい|お送り)|まで(?:ご?連絡|送|お送り|お願い)|で(?:送って|送り|お送り|連絡|ご連絡|やり取り|やりとり|お願い))",
            ),
            example_before: re(
                r"例|ダミー|サンプル|プレースホルダー|e\.?g|入力欄|形式|フォーマット",
            ),
            example_after: re(r"^.{0,6}?(?:のように|のような|など|形式|という形|と入力|と表示)"),
            provider_head: re(
                r"(?:ローマ字|名前|なまえ|誕生日|本名|アットマーク|アット)[^。!?]{0,14}$|[a-z0-9]+(?:@|\(at\)|\[at\]|アット)$",
            ),
        }
    }

    /// Whether the address at base bytes `[start, end)` is given as an example (`例：info@example.com`,
    /// `…@example.com のように入力`).
    fn is_example(&self, cx: &Ctx<'_>, start_byte: usize, end_byte: usize) -> bool {
        let (s, e) = (cx.n.char_at(start_byte), cx.n.char_at(end_byte));
        let (ss, se) = cx.n.sentence(s);
        let before = cx.sq.slice(cx.sq.index_of_base(ss), cx.sq.index_of_base(s));
        let after = cx.sq.slice(cx.sq.index_of_base(e), cx.sq.index_of_base(se));
        self.example_before.is_match(before) || self.example_after.is_match(after)
    }

    pub(crate) fn run(&self, cx: &Ctx<'_>, out: &mut Vec<Hit>) {
        // The address pattern has no literal prefix for the regex engine to skip ahead with; an
        // address always has an at-sign or an at-word, so look for one first.
        let f = &cx.n.facts;
        if !(f.at || f.atto || f.at_letters) {
            self.providers(cx, out);
            return;
        }
        let t = &cx.n.text;
        let at_word = f.atto || t.contains("(at)") || t.contains("[at]");
        if at_word
            || cx.n.facts.at
            || t.contains(" at ")
            || t.contains("<at>")
            || t.contains("{at}")
        {
            self.addresses(cx, out);
        }
        if at_word {
            self.at_word_domains(cx, out);
        }
        self.providers(cx, out);
    }

    /// `email.address` — an address, plain or obfuscated.
    ///
    /// Blocks: `sato_office@example.jp`, `kaito.dev (at) gmail (dot) com`,
    /// `ayaka_translate at gmail dot com`, `yoko_coach @ example . net`, `ｓａｔｏ＠ｅｘａｍｐｌｅ．ｃｏｍ`.
    /// Allows: `look at example.com` (a plain English "at" needs a mail provider or a spelled "dot"),
    /// `your_name@example.com` (placeholder), addresses at the platform's own domains.
    fn addresses(&self, cx: &Ctx<'_>, out: &mut Vec<Hit>) {
        let text = &cx.n.text;
        for caps in self.address.captures_iter(text) {
            let (Some(local), Some(at), Some(domain)) =
                (caps.name("local"), caps.name("at"), caps.name("domain"))
            else {
                continue;
            };
            let at_word = at.as_str().trim();
            let word_at = at_word != "@";
            let english_at = at_word == "at";
            let labels: Vec<&str> = self.dot_split.split(domain.as_str()).collect();
            let word_dot = domain
                .as_str()
                .chars()
                .any(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '.'));
            let Some(tld) = labels.last() else { continue };
            if tld.len() < 2 || !tld.chars().all(|c| c.is_ascii_alphabetic()) {
                continue;
            }
            if (word_at || word_dot) && !KNOWN_TLDS.contains(tld) {
                continue;
            }
            let host = labels.join(".");
            if english_at && !word_dot && !PROVIDERS.contains(&host.as_str()) {
                continue;
            }
            if host_in(&host, &cx.policy.allowed_domains)
                || host.contains("xxx")
                || host.contains("your")
            {
                continue;
            }
            // Keep only the trailing pieces of a spaced local part (`sato 0526`), not the words before it.
            let pieces: Vec<(usize, &str)> = local
                .as_str()
                .split([' ', '\t'])
                .scan(0usize, |off, p| {
                    let here = *off;
                    *off += p.len() + 1;
                    Some((here, p))
                })
                .filter(|(_, p)| !p.is_empty())
                .collect();
            let mut first = pieces.len().saturating_sub(1);
            while first > 0 && pieces[first - 1].1.len() <= 5 && pieces.len() - first < 12 {
                first -= 1;
            }
            let local_start = local.start() + pieces.get(first).map_or(0, |p| p.0);
            let local_text: String = pieces[first..].iter().map(|p| p.1).collect();
            if PLACEHOLDER_LOCALS.contains(&local_text.as_str())
                || self.is_example(cx, local_start, domain.end())
            {
                continue;
            }
            out.push(Hit {
                kind: Kind::Email,
                rule: "email.address",
                start: cx.n.char_at(local_start),
                end: cx.n.char_at(domain.end()),
                soft: false,
            });
        }
    }

    /// `email.at_word_domain` — an at-word followed by a domain, whatever spells the name before it.
    ///
    /// Blocks: `「エス・エー・ティー・オー」あっとイグザンプル.comです`, `あっとまーく example どっと com`.
    /// Allows: `あっと驚くようなキャッチコピー`, `アットマーク（@）を含むパスワード`.
    fn at_word_domains(&self, cx: &Ctx<'_>, out: &mut Vec<Hit>) {
        for m in self.at_word_domain.find_iter(&cx.n.text) {
            out.push(Hit {
                kind: Kind::Email,
                rule: "email.at_word_domain",
                start: cx.n.char_at(m.start()),
                end: cx.n.char_at(m.end()),
                soft: false,
            });
        }
    }

    /// `email.provider_personal` — a mail provider named as the writer's own address.
    ///
    /// Blocks: `名前のローマ字＋誕生日4桁のジーメールです`, `kenta_ex ＠ ぐーぐるのメール`,
    /// `Gmailに送ってください`.
    /// Allows: `Gmailの署名テンプレートを作成しました`, `Gmailで届いた問い合わせへの返信`.
    fn providers(&self, cx: &Ctx<'_>, out: &mut Vec<Hit>) {
        for t in cx.tokens_of(Class::MailProvider) {
            let tail = cx.tail(t.sq_end, 20);
            let head = cx.head(t.sq_start, 25);
            let head_byte = cx.sq.byte_of[t.sq_start] - head.len();
            let mut start = t.sq_start;
            let mut end = t.sq_end;
            let mut hard = false;
            let mut matched = false;
            if let Some(m) = self.provider_head.find(head) {
                matched = true;
                start = cx.sq.char_at(head_byte + m.start());
                hard = head.ends_with('@') || head.ends_with("(at)") || head.ends_with("[at]");
            }
            if let Some(m) = self.provider_tail.find(tail) {
                matched = true;
                end = cx.sq.char_at(cx.sq.byte_of[t.sq_end] + m.end());
            }
            if let Some((_, he)) = cx.handle_after(t.base_end, 15, false) {
                // `gmailのtaro.yamada88です`: the provider with an account name.
                if let Some((bs, _)) = cx.sq_to_base(start, end) {
                    out.push(Hit {
                        kind: Kind::Email,
                        rule: "email.provider_personal",
                        start: bs,
                        end: he,
                        soft: false,
                    });
                    continue;
                }
            }
            if matched {
                super::push_sq(
                    cx,
                    out,
                    Kind::Email,
                    "email.provider_personal",
                    start,
                    end,
                    !hard,
                );
            }
        }
    }
}
