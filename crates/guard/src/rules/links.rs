//! Link rules: URLs and bare domains (including `line(.)me`, `example dot com`, `ttps://`), classified
//! by host through the policy lists, plus file-transfer and meeting services named with a verb.
//!
//! Public pages stay allowed: the client's own site to be redesigned, a reference article, an image
//! URL. A generic link blocks only when the text around it invites the reader to contact, book or
//! order through it, or when its path is a contact/booking form and the text is not about web work.

use regex::Regex;

use super::{Ctx, Hit, push_sq, re};
use crate::Kind;
use crate::lexicon::Class;
use crate::policy::host_in;

/// TLDs a bare domain (no scheme) may end with. File extensions such as `.ai` or `.ico` are left out.
const BARE_TLDS: &[&str] = &[
    "com", "net", "org", "jp", "io", "me", "ee", "ly", "co", "info", "biz", "site", "link", "app",
    "dev", "page", "so", "gl", "gle", "ms", "tl", "tt", "gg", "nu", "us", "tv", "cc", "to", "xyz",
    "tokyo", "shop", "online", "blog", "cloud", "am", "gd", "bio", "be", "nz", "si", "biz",
];

/// Compiled link rules.
#[derive(Debug)]
pub(crate) struct Rules {
    url: Regex,
    /// `url` without the spelled-out dots, for the common text that has none (a smaller automaton).
    url_plain: Regex,
    dot: Regex,
    contact_path: Regex,
    invite: Regex,
    web_work: Regex,
    reference: Regex,
    content_path: Regex,
    file_strong_tail: Regex,
    file_weak_tail: Regex,
    file_topic: Regex,
    meeting_tail: Regex,
    platform_feature: Regex,
    sns_invite: Regex,
}

impl Rules {
    pub(crate) fn new() -> Rules {
        Rules {
            url: re(concat!(
                r"(?P<scheme>h?ttps?[ \t]*:[ \t]*//[ \t]*)?",
                r"(?P<host>(?:[a-z0-9](?:[a-z0-9\-]{0,40}[a-z0-9])?(?:\.|\(\.\)|\[\.\]|\(dot\)|\[dot\]|[ \t]dot[ \t]|ドット))+[a-z]{2,12})",
                r"(?P<port>:[0-9]{1,5})?",
                r#"(?P<path>/[^\s<>「」『』()"'、。!?]*)?"#,
            )),
            url_plain: re(concat!(
                r"(?P<scheme>h?ttps?[ \t]*:[ \t]*//[ \t]*)?",
                r"(?P<host>(?:[a-z0-9](?:[a-z0-9\-]{0,40}[a-z0-9])?\.)+[a-z]{2,12})",
                r"(?P<port>:[0-9]{1,5})?",
                r#"(?P<path>/[^\s<>「」『』()"'、。!?]*)?"#,
            )),
            dot: re(r"\(\.\)|\[\.\]|\(dot\)|\[dot\]|[ \t]dot[ \t]|ドット"),
            contact_path: re(
                r"contact|inquiry|enquiry|toiawase|otoiawase|form|reserve|reservation|booking|yoyaku|apply|entry|order|request|consult|line",
            ),
            invite: re(concat!(
                r"(?:から|より|にて|経由で?|こちらで|ここで)(?:も)?(?:直接|個別に?|お気軽に)?(?:ご|お)?(?:連絡|れんらく|予約|申し?込|注文|相談|依頼|問い?合わ?せ|問合せ|購入|お求め|買え|申請|登録)",
                r"|受け?付け(?:て|し|ており|てい)|受付中",
                r"|(?:お問い?合わ?せ|問合せ|ご?予約|ご?注文|お?申し?込み?|ご?相談|ご?連絡|ご?依頼)(?:は|を|も)?(?:こちら|ここ|下記|以下|こっち)",
                r"|(?:こちら|ここ|下記|以下)(?:まで|に|へ)(?:ご|お)?(?:連絡|問い?合わ?せ)",
                r"|(?:から|より)(?:どうぞ|お気軽に)|(?:安く|お?得に|割引|値引|off|オフ)",
            )),
            web_work: re(
                r"修正|設定|実装|更新|表示|遷移|改修|リニューアル|一新|差し?替え|デザイン|作成|制作|構築|不具合|バグ|エラー|確認(?:ください|お願い|しました|して)|参考|のような|みたいな|イメージ|ssl|ファビコン|画像|動画|記事|ドキュメント|コーディング|サーバー|追加|項目|変更|変え|調整|レイアウト|色|動作|テスト|リンク切れ",
            ),
            reference: re(r"のような|みたいな|参考|イメージ|雰囲気|例えば|テンポ|like"),
            content_path: re(
                r"^/(?:p|reel|reels|tv|status|video|watch|posts|explore|shorts|stories/highlights)/|/status/|/video/",
            ),
            file_strong_tail: re(
                r"^(?:の|に|で|へ|から|を使って|経由で?|にて)?.{0,14}?(?:送り|送って|お送り|送信|共有|入れ|いれ|置い|置き|おい|上げ|あげ|アップ|渡し|ダウンロード|dl|リンク|url|格納|受け取|招待|お願い)",
            ),
            file_weak_tail: re(
                r"^(?:の|で|に|を)?.{0,10}?(?:共有リンク|閲覧リンク|編集リンク|リンク|url|共有(?:し|さ|い|を)|招待|閲覧権限|編集権限|ご?回答|ご?記入)",
            ),
            file_topic: re(
                r"使い方|マニュアル|整理|連携|容量|導入|解約|設定方法|講座|研修|教え方|フォルダ構成|テンプレート|関数|デザイン|作成代行|運用|ではなく|じゃなく|使わず|不要|ご遠慮",
            ),
            meeting_tail: re(concat!(
                r"^(?:で|にて|を使って|の|経由で?)?.{0,10}?",
                r"(?:打ち?合わ?せ|通話|話(?:し|せ)|お話|面談|ミーティング|mtg|会議|ヒアリング|説明|顔合わせ|url|リンク|招待|お会い)",
                r".{0,10}?(?:しませんか|しましょう|お願い|いかが|どうですか|できれば|でき(?:ませんか|ますか)|可能|させて|したい|送|お送|貼|発行|お伝え)",
            )),
            sns_invite: re(
                r"dm|ディーエム|フォロー|連絡|申し?込|予約|こちらから|ここから|見てください|ご覧ください|メッセージ|私の|僕の|弊社の|当店の",
            ),
            platform_feature: re(
                r"このトークルーム|ビデオチャット|通話機能|ココナラ|トークルーム内",
            ),
        }
    }

    pub(crate) fn run(&self, cx: &Ctx<'_>, out: &mut Vec<Hit>) {
        // A host always has a dot (or a spelled-out one); skip the URL pattern, which has no literal
        // prefix, when there is none.
        let t = &cx.n.text;
        let f = &cx.n.facts;
        if f.dotted || f.dot_word || (f.bracket && (t.contains("(.)") || t.contains("[.]"))) {
            self.urls(cx, out);
        }
        self.services(cx, out);
    }

    /// URLs and bare domains, classified by host:
    ///
    /// * `payment_outside.link` — `paypal.me/name`, `buy.stripe.com/…`, `pay.line.me/…`;
    /// * `line.link` — `https://line.me/ti/p/~example`, `lin.ee/Ab9XyZq`, `line(.)me/ti/p/~yoshi`;
    /// * `file_sharing.link` — `drive.google.com/…`, `docs.google.com/forms/…`, `dropbox.com/scl/…`,
    ///   `box.comの共有リンク`, `gigafile.nu/…`, `we.tl/…`, Notion/Figma/Canva share links;
    /// * `url_contact.meeting_link` — `zoom.us/j/…`, `meet.google.com/…`, `calendly.com/…`;
    /// * `sns.link` — `instagram.com/name`, `x.com/name`, `discord.gg/…`, `wa.me/…` (a post cited as a
    ///   reference, `このInstagram投稿（instagram.com/p/…）のような雰囲気で`, and the client's account as
    ///   the object of the work, `instagram.com/client_shop/ のプロフィール画像を作成しました`, are allowed);
    /// * `url_contact.link` — shorteners and link-in-bio/form hosts (`bit.ly/…`, `lit.link/…`);
    /// * `url_contact.contact_page` — any other page offered as the way to contact, book or order
    ///   (`ご予約はこちらのページからも受け付けています https://example-salon.jp/reserve`), or a
    ///   contact-form path outside web-work talk.
    ///
    /// Allows: `現在のサイト（https://example-cafe.jp）のデザインを一新したい`,
    /// `https://example-law.jp/favicon.ico が表示されない`, `developers.line.biz/ja/docs/`, YouTube
    /// references, the platform's own domains.
    fn urls(&self, cx: &Ctx<'_>, out: &mut Vec<Hit>) {
        let text = &cx.n.text;
        let f = &cx.n.facts;
        // The spelled-out dots are `(.)`, `[.]`, `(dot)`, `[dot]`, ` dot ` and ドット: without them the
        // smaller pattern finds the same.
        let spelled_dot =
            f.dot_word || (f.bracket && (text.contains("(.)") || text.contains("[.]")));
        let url = if spelled_dot {
            &self.url
        } else {
            &self.url_plain
        };
        for caps in url.captures_iter(text) {
            let (Some(whole), Some(host_m)) = (caps.get(0), caps.name("host")) else {
                continue;
            };
            let scheme = caps.name("scheme").is_some();
            if !scheme && whole.start() > 0 {
                let prev = text[..whole.start()].chars().next_back().unwrap_or(' ');
                if prev.is_ascii_alphanumeric() || matches!(prev, '_' | '-' | '.' | '@' | '/') {
                    continue;
                }
            }
            // A host of the smaller pattern has plain dots and no spaces.
            let obfuscated = spelled_dot && self.dot.is_match(host_m.as_str());
            let host: String = if obfuscated {
                self.dot
                    .replace_all(host_m.as_str(), ".")
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect()
            } else {
                host_m
                    .as_str()
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect()
            };
            let host = host.trim_start_matches("www.").to_owned();
            let tld = host.rsplit('.').next().unwrap_or("");
            if (!scheme || obfuscated) && !BARE_TLDS.contains(&tld) {
                continue;
            }
            let start = cx.n.char_at(whole.start());
            let end = cx.n.char_at(whole.end());
            if out
                .iter()
                .any(|h| h.kind == Kind::Email && h.start <= start && end <= h.end)
            {
                continue;
            }
            let p = cx.policy;
            if host_in(&host, &p.allowed_domains) {
                continue;
            }
            let path = caps.name("path").map_or("", |m| m.as_str());
            let (kind, rule) = if host_in(&host, &p.payment_hosts) {
                (Kind::PaymentOutside, "payment_outside.link")
            } else if host_in(&host, &p.line_hosts) {
                (Kind::Line, "line.link")
            } else if host_in(&host, &p.file_sharing_hosts) {
                (Kind::FileSharing, "file_sharing.link")
            } else if host_in(&host, &p.meeting_hosts) {
                (Kind::UrlContact, "url_contact.meeting_link")
            } else if host_in(&host, &p.sns_hosts) {
                let window = cx.sentence_sq(start, true);
                let cited = self.content_path.is_match(path) && self.reference.is_match(window);
                // The client's own account as the object of the work, with no invitation to use it.
                let worked_on = self.web_work.is_match(window) && !self.sns_invite.is_match(window);
                if cited || worked_on {
                    continue;
                }
                (Kind::Sns, "sns.link")
            } else if host_in(&host, &p.contact_hosts) {
                (Kind::UrlContact, "url_contact.link")
            } else {
                let window = cx.sentence_sq(start, true);
                let next = {
                    let (_, e) = cx.n.sentence(start);
                    if e < cx.n.len() {
                        cx.sentence_sq(e, false)
                    } else {
                        ""
                    }
                };
                let invited = self.invite.is_match(window) || self.invite.is_match(next);
                let form_path = self.contact_path.is_match(path) && !self.web_work.is_match(window);
                if !(invited && !self.reference.is_match(window) || form_path) {
                    continue;
                }
                (Kind::UrlContact, "url_contact.contact_page")
            };
            out.push(Hit {
                kind,
                rule,
                start,
                end,
                soft: false,
            });
        }
    }

    /// Services named with a verb:
    ///
    /// * `file_sharing.service` — `WeTransferで送りました`, `ギガファイル便でお送りしました`,
    ///   `Googleドライブに入れておきました`, `Figmaの共有リンクを送ります`, `スプレッドシートで共有しますね`;
    ///   allowed: `Googleドライブの使い方マニュアル`, `スプレッドシートの関数を修正しました`,
    ///   `Figmaでデザインしました`;
    /// * `url_contact.meeting` — `Zoomで打ち合わせしませんか`, `Google MeetのURLをお送りします`;
    ///   allowed: `Zoomの背景画像を作成しました`, `このトークルームのビデオチャットでお願いします`.
    fn services(&self, cx: &Ctx<'_>, out: &mut Vec<Hit>) {
        for t in &cx.tokens {
            let (tail_re, kind, rule) = match t.class {
                Class::FileStrong => (
                    &self.file_strong_tail,
                    Kind::FileSharing,
                    "file_sharing.service",
                ),
                Class::FileWeak => (
                    &self.file_weak_tail,
                    Kind::FileSharing,
                    "file_sharing.service",
                ),
                Class::Meeting => (&self.meeting_tail, Kind::UrlContact, "url_contact.meeting"),
                _ => continue,
            };
            let tail = cx.tail(t.sq_end, super::WINDOW);
            let Some(m) = tail_re.find(tail) else {
                continue;
            };
            let sentence = cx.sentence_sq(t.base_start, false);
            let cancelled = match t.class {
                Class::Meeting => self.platform_feature.is_match(sentence),
                // The service as the topic of the work is said after its name (「Googleドライブの整理」,
                // 「Figmaでデザインしました」); words before it (「容量オーバーなので…」) are the reason.
                _ => self
                    .file_topic
                    .is_match(cx.tail(t.sq_start, 2 * super::WINDOW)),
            };
            if cancelled {
                continue;
            }
            let end = cx.sq.char_at(cx.sq.byte_of[t.sq_end] + m.end());
            push_sq(cx, out, kind, rule, t.sq_start, end, true);
        }
    }
}
