//! Phrase rules: proposals that carry no identifier — to deal directly, to avoid the fee, to move to
//! another platform, to pay outside, to switch to e-mail, phone or LINE — matched on the squeezed view
//! (so `直 接 取 引` reads 直接取引). Each rule is one [`PhraseRule`] constant below with its own
//! documentation and examples; all hits are *soft* (dropped inside refusals such as
//! 「外部でのやり取りは規約で禁止されているため…」).
//!
//! A rule may also require evidence elsewhere in the text (`requires`, matched against the base view)
//! and may be cancelled by words in its own sentence (`unless`, e.g. web work or the platform's own
//! payment screen); `requires` and `unless` are only evaluated after a match.
//!
//! Searching is driven by literals the lexicon finds in the same pass as the service names: a rule
//! is only searched when a literal of each of its sets (`triggers`, `also`) occurs, and a rule with
//! `starts` is only tried, anchored, where a start literal occurs. These literals must be implied by
//! the pattern; debug builds check on every scan that the result is what a plain search finds.
//!
//! In patterns, `{P}` stands for the platform's names from the policy and `{O}` for other marketplaces.
//! Payment apps named with a payment verb (`payment_outside.app`) are matched through the lexicon here
//! too.

use regex::Regex;

use super::{Ctx, Hit, WINDOW, push_sq, re};
use crate::Kind;
use crate::lexicon::{Class, LEVELS, START, TriggerLiteral};
use crate::policy::Policy;

/// One phrase rule.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PhraseRule {
    /// Stable rule name.
    pub name: &'static str,
    /// Kind reported.
    pub kind: Kind,
    /// Literals one of which every match contains (matched in the squeezed view by the lexicon's
    /// Aho-Corasick pass; a rule whose triggers are all absent is not run). `{O}` stands for the
    /// names in the other-platform list.
    pub triggers: &'static [&'static str],
    /// Further literal sets (at most [`LEVELS`]` - 1`): every match also contains a literal of each
    /// set. Matched by the lexicon like the triggers, so a text that lacks one of them skips the
    /// pattern search.
    pub also: &'static [&'static [&'static str]],
    /// Literals every match starts with (`{O}` as in `triggers`), or none. With them the pattern is
    /// only tried, anchored, where one of them occurs: no scan for the start, no reverse search.
    pub starts: &'static [&'static str],
    /// Pattern over the squeezed view.
    pub pattern: &'static str,
    /// Evidence that must also be present somewhere in the base view.
    pub requires: Option<&'static str>,
    /// Words that cancel the rule when found in the sentence of the match.
    pub unless: Option<&'static str>,
    /// Evidence the normalisation pass must have seen for the rule to be run at all (a cheap
    /// stand-in for `requires` that skips the pattern search).
    pub gate: Gate,
}

/// A precondition on [`crate::normalize::Facts`] checked before a phrase rule runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gate {
    /// Always run.
    None,
    /// Only when a dotted word occurs (a domain is required).
    Dotted,
    /// Only when a dotted word or an at-sign occurs.
    DottedOrAt,
}

/// Other marketplaces and shop platforms (a particle must follow; ASCII names must start a word).
const OTHER_PLATFORMS: &str = r"(?:ストアカ|ランサーズ|クラウドワークス|ミンネ|クリーマ|メルカリ|タイムチケット|シュフティ|ビザスク|ヤフオク|ジモティー|ココナラ以外|lancers|crowdworks|skima|minne|creema|base|stores|mercari|timeticket|fiverr|upwork|fanbox|booth|skeb|menta|streetacademy|note)";

/// Invitation endings shared by several rules: a request, a proposal or a condition.
const PROPOSAL: &str = r"(?:いただけ|いただく|ませんか|ましょう|できれば|できたら|できる(?:なら|と)|なら|たら|れば|ください|下さい|お願い|希望|いかが|どうですか|させて|しても|もらえ|という形|しません|したい)";

/// `direct_deal.bypass_platform` — going around the platform.
///
/// Blocks: `ココナラを通さずに直接やり取りできれば`, `ココナラ外でお受けすれば2割安く`,
/// `外部で直接契約していただけるなら`, `ココナラより安くお受けできます`.
/// Allows: `次回もココナラからご依頼いただければリピーター割で10%お値引き`,
/// `外部でのやり取りは規約で禁止されているため…` (refusal).
pub(crate) const BYPASS_PLATFORM: PhraseRule = PhraseRule {
    name: "direct_deal.bypass_platform",
    kind: Kind::DirectDeal,
    triggers: &[
        "通さ",
        "とおさ",
        "介さ",
        "かいさ",
        "経由せ",
        "挟ま",
        "はさま",
        "使わ",
        "利用せ",
        "利用し",
        "以外",
        "外で",
        "外の",
        "外から",
        "外にて",
        "外だと",
        "外なら",
        "外でも",
        "外部",
        "抜き",
        "ぬき",
        "より安",
        "よりお安",
        "より得",
        "よりお得",
        "より割安",
        "よりも",
    ],
    also: &[],
    starts: &[
        "{P}",
        "こちら",
        "ここ",
        "サイト",
        "プラットフォーム",
        "運営",
        "仲介",
        "サービス",
        "アプリ",
        "外部で",
        "外で",
    ],
    pattern: r"(?:{P}|こちら|ここ|サイト|プラットフォーム|運営|仲介)(?:さん|様)?を?(?:通さ|とおさ|介さ|かいさ|経由せ|挟ま|はさま|使わ|利用せ|利用し)(?:ず|ない|なけれ|なく)|(?:{P})(?:の)?(?:システム|サイト|サービス)?(?:以外|外|の外|抜き|ぬき)(?:で|の|から|にて|だと|なら|でも)|(?:サービス|サイト|プラットフォーム|アプリ|ここ|こちら)(?:以外|外)(?:で|から|にて|だと|なら)(?:の|も)?(?:直接|お?取引|ご?依頼|ご?契約|やり取り|お?支払|決済|お受け)|外部で(?:直接)?(?:の)?(?:ご|お)?(?:契約|取引|やり取り|やりとり|受け|依頼|発注|受注|対応|お支払|支払)|(?:{P}|ここ|こちら)より(?:も)?(?:お?安|お?得|割安)|外で(?:の)?(?:直接)?(?:やり取り|やりとり|お?取引|ご?契約|ご?依頼|お?仕事|お?支払)[^。!?]{0,10}?(?:{PROPOSAL}|方が|ほうが|安く|お得)",
    requires: None,
    unless: None,
    gate: Gate::None,
};

/// `direct_deal.direct_transaction` — a direct deal, contract or order proposed or offered.
///
/// Blocks: `直接お取引していただけるなら1万円引きます`, `直接やり取りで進めさせてもらえませんか`,
/// `私の事務所と直接契約という形にしませんか`, `次回は直接ご依頼ください`, `直接お願いできませんか`.
/// Allows: `企業様と直接取引の実績が多数あります` (no proposal), `直接のお取引はできかねます` (refusal).
pub(crate) const DIRECT_TRANSACTION: PhraseRule = PhraseRule {
    name: "direct_deal.direct_transaction",
    kind: Kind::DirectDeal,
    triggers: &[
        "直接の",
        "直接お",
        "直接ご",
        "直接取",
        "直接契約",
        "直接依頼",
        "直接注文",
        "直接発注",
        "直接やり",
        "直接購入",
        "直接仕事",
        "直接受注",
        "直接支払",
        "直接振込",
        "直接連絡を",
        "直接だと",
        "直接なら",
        "は直接",
        "直で",
        "個人的に",
        "ばれ",
        "見つから",
        "内緒",
        "ないしょ",
    ],
    also: &[],
    starts: &[
        "直接",
        "依頼",
        "ご依頼",
        "注文",
        "ご注文",
        "取引",
        "お取引",
        "契約",
        "お仕事",
        "やり取り",
        "次回",
        "今後",
        "以降",
        "運営",
        "{P}",
        "直で",
        "個人的に",
    ],
    pattern: r"直接(?:の)?(?:お|ご)?(?:取引|取り引き|契約|依頼|注文|発注|やり取り|やりとり|購入|お仕事|仕事|受注|お願い|支払|お支払|振込|お振込|連絡を取|連絡をと|やり)[^。!?]{0,14}?{PROPOSAL}|(?:依頼|ご依頼|注文|ご注文|取引|お取引|契約|お仕事|やり取り|次回|今後|以降)は直接(?:で|でも|に|の方が|のほうが|お願い)|直接(?:の(?:方|ほう)|だと|なら|のが)(?:が)?[^。!?]{0,8}?(?:お?安|お?得|割安|手数料)|(?:運営|{P})に(?:ばれ|バレ|見つから|内緒|ないしょ)|直で(?:の)?(?:お|ご)?(?:頼|依頼|注文|お願い|取引|やり取り|やりとり|契約|購入|買|払|支払|振込|連絡)|(?:個人的に|直で)(?:お|ご)?(?:依頼|仕事|取引|契約|注文|発注)(?:を)?[^。!?]{0,10}?(?:受け|お受け|承|お願い|でき|いただ)",
    requires: None,
    unless: None,
    gate: Gate::None,
};

/// `direct_deal.fee_avoidance` — avoiding the platform fee, together with a way around the platform.
///
/// Blocks: `手数料がもったいないので、次回は直接ご依頼ください`, `手数料分お安くしますよ（ココナラを通さずに）`.
/// Allows: `オプションの手数料はかかりません` (no way around the platform mentioned).
pub(crate) const FEE_AVOIDANCE: PhraseRule = PhraseRule {
    name: "direct_deal.fee_avoidance",
    kind: Kind::DirectDeal,
    triggers: &["手数料"],
    also: &[
        &[
            "もったいな",
            "かから",
            "掛から",
            "払わ",
            "取られ",
            "とられ",
            "引",
            "節約",
            "浮",
            "なし",
            "無し",
            "抜き",
            "ぬき",
            "省",
            "不要",
            "カット",
            "安",
            "割",
            "避け",
            "払いたくな",
            "かかる",
            "かかって",
            "高い",
        ],
        &[
            "直接",
            "外",
            "個人",
            "通さ",
            "介さ",
            "次回",
            "今後",
            "振込",
            "振り込",
            "口座",
            "払い",
            "ペイペイ",
            "paypay",
            "ライン",
            "line",
            "メール",
            "サイト",
        ],
    ],
    starts: &["手数料"],
    pattern: r"手数料(?:が|を|は|分|の|も)?(?:もったいな|かから(?:ない|ず)|掛から|払わ(?:ず|ない|なく)|取られ|とられ|引かれ|節約|浮|なし|無し|抜き|ぬき|を?省|不要|カット|分(?:お)?安|分(?:お)?値引|分(?:を)?(?:引|割)|を?避け|払いたくな|がかかるので|がかかってしまう|高い)",
    requires: Some(
        r"直接|外|個人|通さ|介さ|次回|今後|振り?込|口座|払い|ペイペイ|paypay|ライン|line|メール|サイト",
    ),
    unless: None,
    gate: Gate::None,
};

/// `direct_deal.fee_avoidance` (a fee-free way) — proposing "a way without the fee", which can only be
/// a way around the platform.
///
/// Blocks: `手数料がかからない方法でやりとりしませんか？`, `手数料なしの形でお受けできます`.
/// Allows: `オプションの手数料はかかりません`, `手数料がかからない方法は規約上ありません` (refusal).
pub(crate) const FEE_FREE_WAY: PhraseRule = PhraseRule {
    name: "direct_deal.fee_avoidance",
    kind: Kind::DirectDeal,
    triggers: &["手数料"],
    also: &[&["方", "形", "かたち", "ルート", "手段", "ほう"]],
    starts: &["手数料"],
    pattern: r"手数料(?:が|の|を)?(?:かから(?:ない|ず)|掛から(?:ない|ず)|発生しない|払わ(?:ない|ず)|取られない|とられない|なし|無し|抜き|ぬき|ゼロ|0円|不要)(?:の|な|で)?(?:方法|やり方|形|かたち|ルート|手段|方|ほう)(?:で|に|が|を)[^。!?]{0,14}?(?:{PROPOSAL}|やり取り|やりとり|お受け|でき)",
    requires: None,
    unless: None,
    gate: Gate::None,
};

/// `direct_deal.other_platform` — ordering through another marketplace or shop instead.
///
/// Blocks: `ストアカの私の講座ページから申し込んでいただく方が安いですよ`, `BASEのショップでご購入ください`.
/// Allows: `BASEのショップのバナーを作成しました`, `メルカリで購入した商品の写真`.
pub(crate) const OTHER_PLATFORM: PhraseRule = PhraseRule {
    name: "direct_deal.other_platform",
    kind: Kind::DirectDeal,
    triggers: &["{O}"],
    also: &[],
    starts: &["{O}"],
    pattern: r"{O}(?:の|で|から|経由|に|にて|さん|でも)[^。!?]{0,30}?(?:(?:そちら|そっち|あちら|あっち)(?:から|で|経由)[^。!?]{0,8}?(?:申し?込|ご?注文|ご?依頼|ご?購入|ご?予約)|申し?込ん?で(?:いただ|もらえ|ください|下さい)|申し?込み(?:いただ|ください|下さい|を)|ご?(?:注文|購入|依頼|予約|契約)(?:いただ|ください|下さい|して(?:いただ|ください|もらえ)|を?お願い)|(?:方|ほう)が(?:お?安|お?得|割安)|(?:でも)?(?:販売|出品)(?:して|中|しており))",
    requires: None,
    unless: None,
    gate: Gate::None,
};

/// `direct_deal.other_site` — ordering through "another site" instead.
///
/// Blocks: `他のサイトで依頼してもらえれば安くできます`, `別のサービス経由でご注文いただければ`.
/// Allows: `他のサイトで注文した商品の写真です`.
pub(crate) const OTHER_SITE: PhraseRule = PhraseRule {
    name: "direct_deal.other_site",
    kind: Kind::DirectDeal,
    triggers: &["他の", "ほかの", "別の"],
    also: &[],
    starts: &["他の", "ほかの", "別の"],
    pattern: r"(?:他|ほか|別)の(?:サイト|サービス|プラットフォーム|アプリ|ところ|窓口)(?:で|から|経由で?|にて)[^。!?]{0,10}?(?:依頼|注文|申し?込|購入|契約|取引)[^。!?]{0,8}?(?:いただけ|もらえ|ください|下さい|れば|たら|なら|ませんか|しましょう)",
    requires: None,
    unless: None,
    gate: Gate::None,
};

/// `direct_deal.own_channel` — ordering through the seller's own site, shop or office.
///
/// Blocks: `次回以降は私のサイト経由でご注文いただければ20%オフ`, `弊社のホームページからお申し込みください`.
/// Allows: `弊社のサイトに掲載する記事を…`, `私のサイトでご紹介した事例`.
pub(crate) const OWN_CHANNEL: PhraseRule = PhraseRule {
    name: "direct_deal.own_channel",
    kind: Kind::DirectDeal,
    triggers: &[
        "私の",
        "わたしの",
        "僕の",
        "ぼくの",
        "自分の",
        "弊社の",
        "当社の",
        "うちの",
        "個人の",
        "当店の",
        "自社の",
        "ホームページ",
        "hp",
        "公式サイト",
        "ネットショップ",
        "自社サイト",
    ],
    also: &[&[
        "注文",
        "依頼",
        "申込",
        "申し込",
        "購入",
        "予約",
        "契約",
        "取引",
    ]],
    starts: &[
        "私の",
        "わたしの",
        "僕の",
        "ぼくの",
        "自分の",
        "弊社の",
        "当社の",
        "うちの",
        "個人の",
        "当店の",
        "自社の",
        "ホームページ",
        "hp",
        "公式サイト",
        "ネットショップ",
        "自社サイト",
    ],
    pattern: r"(?:私|わたし|僕|ぼく|自分|弊社|当社|うち|個人|当店|自社)の(?:サイト|ブログ|ホームページ|hp|ページ|ショップ|ストア|講座|事務所|教室|店舗|ネットショップ|ecサイト|ポートフォリオ|フォーム|予約ページ|公式サイト)[^。!?]{0,6}?(?:から|経由|で|にて)(?:も|の)?(?:直接)?(?:ご|お)?(?:注文|依頼|申し?込|購入|予約|契約|取引|お取引)|(?:ホームページ|hp|公式サイト|ネットショップ|自社サイト)(?:から|経由で?|で)(?:直接|も)?(?:ご|お)?(?:注文|依頼|申し?込み?|購入|予約)(?:いただけ|ください|できます|可能|を?受け付け|も受け付け)",
    requires: None,
    unless: Some(r"構築|実装|制作|作成|デザイン|修正|設定|システム|機能"),
    gate: Gate::None,
};

/// `direct_deal.connect_elsewhere` — connecting somewhere else or privately.
///
/// Blocks: `個人的にお礼がしたいので、どこかで繋がれませんか？`, `別の方法で連絡を取りたいです`.
/// Allows: `ほかの方法で連絡を取ることは規約で禁止されています` (refusal).
pub(crate) const CONNECT_ELSEWHERE: PhraseRule = PhraseRule {
    name: "direct_deal.connect_elsewhere",
    kind: Kind::DirectDeal,
    triggers: &[
        "どこか",
        "別の",
        "他の",
        "ほかの",
        "外部",
        "個人的",
        "プライベート",
    ],
    also: &[&[
        "繋が",
        "つなが",
        "繋げ",
        "つなげ",
        "連絡",
        "やり取り",
        "やりとり",
        "お話し",
        "話せ",
        "会え",
        "お会い",
    ]],
    starts: &[
        "どこか",
        "別の",
        "他の",
        "ほかの",
        "外部",
        "個人的",
        "プライベート",
    ],
    pattern: r"(?:どこか|別の(?:ところ|場所|所|サービス|アプリ|手段|方法|ツール)|他の(?:ところ|場所|所|サービス|アプリ|手段|方法|ツール)|ほかの(?:ところ|場所|所|サービス|アプリ|手段|方法|ツール)|外部|個人的|プライベート)(?:で|に|の)?[^。!?]{0,10}?(?:繋が|つなが|繋げ|つなげ|連絡(?:を)?(?:取|と)|やり取り|やりとり|お話し|話せ|会え|お会い|連絡先)[^。!?]{0,6}?(?:ませんか|ましょう|たい|できれば|できたら|てください|もらえ|いただけ|ないですか|ませんでしょうか|しません|れません|りません|を?交換|教え)",
    requires: None,
    unless: None,
    gate: Gate::None,
};

/// `direct_deal.search_me` — "search my name and contact me there".
///
/// Blocks: `私の本名で検索していただくと出てくると思うので、そこからご連絡ください`.
/// Allows: `会社名で検索したときに上位表示されるように` (SEO work, no contact).
pub(crate) const SEARCH_ME: PhraseRule = PhraseRule {
    name: "direct_deal.search_me",
    kind: Kind::DirectDeal,
    triggers: &["で検索", "でけんさく", "でググ"],
    also: &[&["から", "出て", "ヒット", "見つか", "フォロー", "dm"]],
    starts: &[
        "本名",
        "名前",
        "なまえ",
        "屋号",
        "会社名",
        "店名",
        "フルネーム",
        "氏名",
        "アカウント名",
        "ユーザー名",
        "ユーザーネーム",
        "ハンドルネーム",
    ],
    pattern: r"(?:本名|名前|なまえ|屋号|会社名|店名|フルネーム|氏名|アカウント名|ユーザー名|ユーザーネーム|ハンドルネーム)で(?:検索|けんさく|ググ)(?:して|する|していただ|すれば|したら|いただ|してもら|してみて)",
    requires: Some(
        r"(?:そこ|そちら|こちら)から(?:ご|お)?(?:連絡|れんらく|申し?込|依頼|注文|問い?合わ?せ|メッセージ|dm)|出て(?:くる|きます)|ヒット|見つか|フォロー|dm",
    ),
    unless: None,
    gate: Gate::None,
};

/// `direct_deal.meet_in_person` — meeting in person for an online service.
///
/// Blocks: `近くにお住まいのようなので、一度カフェでお会いして打ち合わせしませんか？`.
/// Allows: `一度お会いしたことがあるような気がします`.
pub(crate) const MEET_IN_PERSON: PhraseRule = PhraseRule {
    name: "direct_deal.meet_in_person",
    kind: Kind::DirectDeal,
    triggers: &["お会い", "会って", "会い", "会え", "対面"],
    also: &[],
    starts: &[
        "一度",
        "いちど",
        "カフェ",
        "喫茶",
        "お茶",
        "食事",
        "飲み",
        "ランチ",
        "近く",
        "直接",
    ],
    pattern: r"(?:一度|いちど|カフェ|喫茶|お茶|食事|飲み|ランチ|近く|直接)[^。!?]{0,16}?(?:お会い|会って|会い|会え|対面)[^。!?]{0,10}?(?:ませんか|ましょう|たい|できれば|いかが|どうですか|打ち?合わ?せ)",
    requires: None,
    unless: None,
    gate: Gate::None,
};

/// `direct_deal.apply_elsewhere` — "apply over there" with a discount.
///
/// Blocks: `インスタのストーリーで募集してるので、そっちから申し込んでもらえると割引できますよ`.
/// Allows: `そちらから申し込んでください（このサービスのボタン）` (no discount).
pub(crate) const APPLY_ELSEWHERE: PhraseRule = PhraseRule {
    name: "direct_deal.apply_elsewhere",
    kind: Kind::DirectDeal,
    triggers: &["そっち", "あっち", "向こう", "むこう"],
    also: &[&[
        "割引",
        "割り引",
        "安く",
        "得",
        "値引",
        "おまけ",
        "off",
        "オフ",
        "特典",
        "無料",
    ]],
    starts: &["そっち", "あっち", "向こう", "むこう"],
    pattern: r"(?:そっち|あっち|向こう|むこう)(?:から|で|に|の方|のほう)(?:の)?[^。!?]{0,6}?(?:申し?込|注文|依頼|購入|予約|連絡)",
    requires: Some(r"割引|割り引|安く|お?得|値引|おまけ|off|オフ|特典|無料"),
    unless: None,
    gate: Gate::None,
};

/// `direct_deal.contact_exchange` — exchanging contact details.
///
/// Blocks: `連絡先を交換しませんか`, `連絡先を教えてください`, `can we exchange contact details?`.
/// Allows: `連絡先の交換は規約で禁止されています` (refusal),
/// `Sorry, exchanging contact details is against Coconala's rules` (refusal).
pub(crate) const CONTACT_EXCHANGE: PhraseRule = PhraseRule {
    name: "direct_deal.contact_exchange",
    kind: Kind::DirectDeal,
    triggers: &[
        "連絡先を",
        "連絡先の",
        "連絡先も",
        "連絡先交",
        "連絡先こ",
        "連絡先教",
        "連絡先お",
        "連絡先伝",
        "連絡先送",
        "連絡先聞",
        "連絡先伺",
        "連絡先い",
        "連絡先く",
        "exchange",
        "share",
        "send",
        "give",
    ],
    also: &[],
    starts: &["連絡先", "exchange", "share", "send", "give"],
    pattern: r"連絡先(?:を|の|も)?(?:交換|こうかん|教え|おしえ|お教え|お伝え|伝え|送り|お送り|聞い|お聞き|伺|いただけ|ください)|(?:exchange|share|send|give)(?:our|your|my|me)?(?:personal)?(?:contact|contacts|contactdetails|contactinfo|email|phonenumber|number)",
    requires: None,
    unless: None,
    gate: Gate::None,
};

/// `direct_deal.english` — English proposals to work outside the platform.
///
/// Blocks: `We could work outside of Coconala`, `You can pay me directly`, `to avoid the platform fee`.
/// Allows: `Let's keep everything in this chat.`
pub(crate) const ENGLISH_DIRECT: PhraseRule = PhraseRule {
    name: "direct_deal.english",
    kind: Kind::DirectDeal,
    triggers: &[
        "outside",
        "off",
        "directly",
        "fee",
        "commission",
        "whatsapp",
        "telegram",
        "myline",
        "ourline",
        "myemail",
        "ouremail",
        "myphone",
        "ourphone",
        "mynumber",
        "ournumber",
        "myinstagram",
        "myig",
    ],
    also: &[],
    starts: &[
        "outside", "off", "pay", "work", "deal", "contact", "hire", "order", "email", "call",
        "text", "message", "avoid", "skip", "save", "saving", "bypass", "my", "our",
    ],
    pattern: r"(?:outside|off)(?:of)?(?:coconala|theplatform|thisplatform|thissite|thewebsite|thisapp)|(?:pay|paying|work|deal|contact|hire|order|email|call|text|message)(?:me|you|us)directly|(?:avoid|skip|save|saving|bypass)(?:on)?(?:the|paying)?(?:platform|service|coconala|site)?(?:fee|fees|commission)|(?:my|our)(?:whatsapp|telegram|line|email|phone|number|instagram|ig)(?:is|id)",
    requires: None,
    unless: None,
    gate: Gate::None,
};

/// `payment_outside.bank_transfer` — paying by bank transfer to the seller.
///
/// Blocks: `銀行振込で直接お支払いいただければ`, `ゆうちょの口座教えるので、そっちに振り込んでもらえますか？`,
/// `ココナラ外で期日までにお振込みください`, `追加分はゆうちょ銀行への振込でいただけますか？`.
/// Allows: `お支払いはココナラの決済画面から、クレジットカード・銀行振込・コンビニ払いなどをお選びいただけます`,
/// `売上金の振込申請をしました`.
pub(crate) const BANK_TRANSFER: PhraseRule = PhraseRule {
    name: "payment_outside.bank_transfer",
    kind: Kind::PaymentOutside,
    triggers: &[
        "振り込",
        "振込",
        "ふりこ",
        "送金",
        "入金",
        "銀行",
        "ゆうちょ",
        "口座",
        "バンク",
    ],
    also: &[],
    starts: &[
        "振り込",
        "振込",
        "ふりこ",
        "送金",
        "入金",
        "銀行",
        "ゆうちょ",
        "口座",
        "バンク",
    ],
    pattern: r"(?:振り?込|ふりこ|送金|入金)(?:み|ん)?(?:で|を|に)?[^。!?]{0,6}?(?:ください|下さい|くださ|もらえ|いただけ|いただく|頂け|ほしい|欲しい|お願い)|(?:銀行|ゆうちょ|口座|バンク)(?:への|に|へ|で|宛|あて|あての|宛の|の方に|のほうに)(?:の)?(?:お)?(?:振り?込|送金|入金|支払|お支払)|口座(?:番号)?(?:を|は|も)?(?:教え|おしえ|お教え|お伝え|伝え|送り|お送り|記載|書い|載せ|お知らせ)|振込先|振り?込み?先|(?:振り?込|振込)み?で(?:直接|お?支払|いただ|お願い|ok|も(?:大丈夫|ok|構いません|可|いい))",
    requires: None,
    unless: Some(
        r"{P}(?:の|から|で|上|内)(?:の)?(?:決済|お?支払|購入|ポイント|売上|振込)|決済画面|振込申請|売上金|おひねり|お選び|選択|運営|返金|請求書の振込先|テンプレート|雛形|ひな形|書式|フォーマット|差し込|経理|帳簿|仕訳|会計|記帳",
    ),
    gate: Gate::None,
};

/// `payment_outside.cash` — cash outside the platform.
///
/// Blocks: `現金でお支払いいただければ`, `現金手渡しでも大丈夫です`.
/// Allows: `現金払いのお客様向けのチラシ`.
pub(crate) const CASH: PhraseRule = PhraseRule {
    name: "payment_outside.cash",
    kind: Kind::PaymentOutside,
    triggers: &["現金"],
    also: &[],
    starts: &["現金"],
    pattern: r"現金(?:で|を)?(?:直接)?(?:お|ご)?(?:支払|払|手渡し|渡し|送|書留)[^。!?]{0,6}?(?:いただけ|ください|もらえ|ok|でも(?:大丈夫|ok|構いません)|お願い)",
    requires: None,
    unless: None,
    gate: Gate::None,
};

/// `email.exchange_proposal` — asking for or exchanging e-mail addresses.
///
/// Blocks: `メルアド交換しませんか？`, `納品データはメール添付で送りますね。アドレスだけ教えてください`,
/// `招待を送るアドレスを教えてください`.
/// Allows: `メールアドレスや電話番号はここに書かないでくださいね` (warning),
/// `現在のサイトのアドレスを教えてください` (a web address).
pub(crate) const EMAIL_EXCHANGE: PhraseRule = PhraseRule {
    name: "email.exchange_proposal",
    kind: Kind::Email,
    triggers: &[
        "交換",
        "こうかん",
        "アドレスを",
        "アドレスだけ",
        "アドレスも",
        "アドレスは",
        "アドレス教",
        "アドレスお",
        "アドレス伺",
        "アドレスう",
        "アドレスい",
        "アドレス頂",
        "アドレスく",
        "アドレス下",
        "アドレス送",
        "アドレス貼",
        "アドレス書",
        "アドレス載",
        "メルアドを",
        "メルアドだけ",
        "メルアドも",
        "メルアドは",
        "メルアド教",
        "メルアドお",
        "メルアド伺",
        "メルアドう",
        "メルアドい",
        "メルアド頂",
        "メルアドく",
        "メルアド下",
        "メルアド送",
        "メルアド貼",
        "メルアド書",
        "メルアド載",
        "メアドを",
        "メアドだけ",
        "メアドも",
        "メアドは",
        "メアド教",
        "メアドお",
        "メアド伺",
        "メアドう",
        "メアドい",
        "メアド頂",
        "メアドく",
        "メアド下",
        "メアド送",
        "メアド貼",
        "メアド書",
        "メアド載",
    ],
    also: &[],
    starts: &[
        "メルアド",
        "メアド",
        "メール",
        "アドレス",
        "mail",
        "email",
        "eメール",
    ],
    pattern: r"(?:メルアド|メアド|メールアドレス|メール|アドレス|mail|email|eメール)(?:を|も|の)?(?:交換|こうかん)|(?:メルアド|メアド|メールアドレス|アドレス)(?:を|だけ|も|は)?(?:教え|おしえ|お教え|伺|うかが|お知らせ|いただけ|もらえ|頂け|ください|下さい|お?送りします|お?送りますね|お伝えします|貼ります|書いておきます|載せておきます)",
    requires: None,
    unless: Some(
        r"サイト|ページ|url|ホームページ|hp|ブログ|web|ウェブ|ドメイン|ip|ビットコイン|ウォレット",
    ),
    gate: Gate::None,
};

/// `email.move_to_email` — moving the conversation or the delivery to e-mail.
///
/// Blocks: `続きはメールでお送りします`, `メールでやり取りさせていただけると助かります`,
/// `納品データはメール添付で送りますね`, `メールの方が確認しやすいので`.
/// Allows: `メールでのやり取りは規約上できかねます` (refusal), `ココナラからのメール通知`,
/// `ステップメールでお送りする内容` (a katakana compound), `謝罪メールの文面を添削してほしい`.
pub(crate) const MOVE_TO_EMAIL: PhraseRule = PhraseRule {
    name: "email.move_to_email",
    kind: Kind::Email,
    triggers: &[
        "メールで",
        "メールに",
        "メールへ",
        "メール添付",
        "メールの方",
        "メールのほう",
        "mailで",
        "mailに",
        "mailへ",
        "mailの方",
        "mailのほう",
    ],
    also: &[],
    starts: &["メール", "mail", "email", "eメール"],
    pattern: r"(?:メール|mail|e-?mail|eメール)(?:で|に|にて|へ)(?:の)?(?:直接|個別に?)?(?:お|ご)?(?:送り|送って|送信|やり取り|やりとり|連絡|れんらく|お願い|お送り|返信|ご相談|相談|ご連絡)(?:ます|します|しますね|しませんか|しましょう|ください|下さい|いただけ|もらえ|させて|でき|したい|頂け|を?お願い|ますね|させ|いたします|いたしますね|差し上げ)|メール添付(?:で|にて)|(?:メール|mail)(?:の(?:方|ほう)|(?:で|にて)の(?:ご|お)?(?:連絡|やり取り|やりとり|返信)(?:の(?:方|ほう))?)が(?:確認|見|早|返信|楽|便利|気づ|助か|確実|スムーズ|ありがた)",
    requires: None,
    unless: Some(r"{P}(?:から|の)(?:の)?(?:メール|通知)|メルマガ|配信"),
    gate: Gate::None,
};

/// `email.address_pointer` — pointing at an address given elsewhere ("下記のアドレスに").
///
/// Blocks: `こちらのアドレスに送っていただけますか？`, `下記のメールアドレスまでご連絡ください`.
/// Allows: `こちらのアドレスにアクセスしてください（サイトのURL）`.
pub(crate) const ADDRESS_POINTER: PhraseRule = PhraseRule {
    name: "email.address_pointer",
    kind: Kind::Email,
    triggers: &[
        "アドレスに",
        "アドレスへ",
        "アドレスまで",
        "アドレス宛",
        "アドレスあて",
    ],
    also: &[],
    starts: &["こちら", "この", "下記", "以下", "次", "つぎ", "上記"],
    pattern: r"(?:こちら|この|下記|以下|次|つぎ|上記)の?(?:メール)?アドレス(?:に|へ|まで|宛|あて)",
    requires: None,
    unless: Some(r"サイト|url|アクセス|ページ|ブラウザ|ip|ウォレット"),
    gate: Gate::None,
};

/// `email.contact_in_attachment` — contact details handed over in a file.
///
/// Blocks: `連絡先（メールアドレス）を記載したPDFを添付しました。以降はそちらにご連絡ください。`
/// Allows: `名刺データに電話番号を記載して、PDFで納品します` (a deliverable, nobody told to use it).
pub(crate) const CONTACT_IN_ATTACHMENT: PhraseRule = PhraseRule {
    name: "email.contact_in_attachment",
    kind: Kind::Email,
    triggers: &["記載", "書い", "載せ", "記入", "入れ"],
    also: &[
        &["pdf", "ファイル", "画像", "添付", "資料", "紙"],
        &["連絡先", "アドレス", "電話番号", "line", "ライン", "id"],
    ],
    starts: &[
        "連絡先",
        "メールアドレス",
        "アドレス",
        "電話番号",
        "line",
        "ライン",
        "id",
    ],
    pattern: r"(?:連絡先|メールアドレス|アドレス|電話番号|line|ライン|id)[^。!?]{0,12}?(?:記載|書い|載せ|記入|入れ)[^。!?]{0,12}?(?:pdf|ファイル|画像|添付|資料|紙)",
    requires: Some(
        r"(?:そちら|そこ|こちら)(?:に|へ|から|まで)(?:ご|お)?(?:連絡|れんらく|メール|電話)|(?:私|わたし|僕|自分)の(?:連絡先|アドレス|メール|電話番号)",
    ),
    unless: None,
    gate: Gate::None,
};

/// `email.described_halves` — an address described in halves around the at-sign.
///
/// Blocks: `アドレスはアットマークの前が miki.photo で、後ろが example.net です`.
/// Allows: `アットマーク（@）を含むパスワードは使えない仕様です` (no domain given).
pub(crate) const DESCRIBED_HALVES: PhraseRule = PhraseRule {
    name: "email.described_halves",
    kind: Kind::Email,
    triggers: &[
        "@より",
        "@の",
        "@前",
        "@まえ",
        "@後",
        "@あと",
        "@うしろ",
        "@左",
        "@右",
        "アットより",
        "アットの",
        "アット前",
        "アットまえ",
        "アット後",
        "アットあと",
        "アットうしろ",
        "アット左",
        "アット右",
        "アットマークより",
        "アットマークの",
        "アットマーク前",
        "アットマークまえ",
        "アットマーク後",
        "アットマークあと",
        "アットマークうしろ",
        "アットマーク左",
        "アットマーク右",
    ],
    also: &[],
    starts: &["アット", "@"],
    pattern: r"(?:アットマーク|@|アット)(?:より|の)?(?:前|まえ|後|あと|うしろ|左|右)",
    requires: Some(r"[a-z0-9][a-z0-9_\-]*\.(?:com|jp|net|org|info|biz|io|me|co)(?:[^a-z]|$)"),
    unless: None,
    gate: Gate::Dotted,
};

/// `email.assemble_hint` — instructions to assemble an address.
///
/// Blocks: `example.jp ドメインの tkym_ex です。@でつないでください`,
/// `sato 0526 @ example . com（スペースを詰めてください）`.
/// Allows: `スペースを詰めてレイアウトしました` (no domain).
pub(crate) const ASSEMBLE_HINT: PhraseRule = PhraseRule {
    name: "email.assemble_hint",
    kind: Kind::Email,
    triggers: &[
        "@で",
        "@を",
        "@と",
        "スペースを",
        "空白を",
        "すきまを",
        "隙間を",
        "を@",
        "をアット",
    ],
    also: &[],
    starts: &["@", "スペース", "空白", "すきま", "隙間", "を"],
    pattern: r"@(?:で|を|と)(?:つな|繋|付け|つけ|入れ|いれ|挟|はさ|結|くっつけ)|(?:スペース|空白|すきま|隙間)を(?:詰め|つめ|削除|消|取|抜い|除)|を(?:@|アットマーク|アット)に(?:変|替|置|直|して)|を(?:@|アットマーク|アット)(?:に|へ)(?:$|[^\p{L}\p{N}])",
    requires: Some(r"[a-z0-9][a-z0-9_\-]*\.(?:com|jp|net|org|info|biz|io|me|co)(?:[^a-z]|$)|@"),
    unless: Some(r"レイアウト|デザイン|行間|文字間|余白"),
    gate: Gate::DottedOrAt,
};

/// `phone.call_invitation` — proposing an ordinary phone call or sending a number.
///
/// Blocks: `ココナラの電話相談だと時間が限られるので、普通に電話しませんか？`, `番号お送りしますね`
/// (with 電話 in the text), `携帯番号を教えてください`, `電話でお話ししませんか`.
/// Allows: `こちらの電話番号を先生にお伝えする必要はありますか？`, `注文番号を教えてください`.
pub(crate) const CALL_INVITATION: PhraseRule = PhraseRule {
    name: "phone.call_invitation",
    kind: Kind::Phone,
    triggers: &[
        "普通に電話",
        "普通にお電話",
        "直接電話",
        "直接お電話",
        "個人的に電話",
        "個人的にお電話",
        "携帯に",
        "けいたいに",
        "この番号に",
        "電話で話",
        "電話でお話",
        "電話にて",
        "電話番号を",
        "電話番号は",
        "電話番号だけ",
        "電話番号も",
        "電話番号お",
        "電話番号送",
        "電話番号教",
        "電話番号伝",
        "電話番号知",
        "携帯番号を",
        "携帯番号は",
        "携帯番号だけ",
        "携帯番号も",
        "携帯番号お",
        "携帯番号送",
        "携帯番号教",
        "携帯番号伝",
        "携帯番号知",
        "けいたい番号を",
        "けいたい番号は",
        "けいたい番号だけ",
        "けいたい番号も",
        "けいたい番号お",
        "けいたい番号送",
        "けいたい番号教",
        "けいたい番号伝",
        "けいたい番号知",
        "でんわ番号を",
        "でんわ番号は",
        "でんわ番号だけ",
        "でんわ番号も",
        "でんわ番号お",
        "でんわ番号送",
        "でんわ番号教",
        "でんわ番号伝",
        "でんわ番号知",
    ],
    also: &[],
    starts: &[
        "普通に",
        "直接",
        "個人的に",
        "携帯",
        "けいたい",
        "この番号に",
        "電話",
        "でんわ",
    ],
    pattern: r"(?:普通に|直接|個人的に|携帯に|けいたいに|この番号に)(?:お)?電話(?:(?:で|にて)(?:お)?(?:話|相談|説明|打ち?合わ?せ)し?)?(?:しませんか|しましょう|ください|下さい|いただけ|もらえ|させて|して(?:も|いただけ|ください|もらえ)|できれば|できたら|できませんか|できると|したい|でき(?:ます|る)(?:か|と|なら))|電話(?:で|にて)(?:お)?話(?:しませんか|しましょう|せませんか)|(?:電話|携帯|けいたい|でんわ)番号(?:を|は|だけ|も)?(?:お)?(?:送り|教え|伝え|知らせ)(?:します|しますね|ますね|ておきます|ましょうか|てください|ていただけ|てもらえ|とく)",
    requires: None,
    unless: None,
    gate: Gate::None,
};

/// `phone.number_offer` — offering "the number" in a text about calling.
///
/// Blocks: `普通に電話しませんか？番号お送りしますね。`
/// Allows: `注文番号を教えてください`, `品番をお送りしますね`.
pub(crate) const NUMBER_OFFER: PhraseRule = PhraseRule {
    name: "phone.number_offer",
    kind: Kind::Phone,
    triggers: &[
        "番号を",
        "番号は",
        "番号だけ",
        "番号も",
        "番号お",
        "番号送",
        "番号教",
        "番号伝",
        "番号知",
    ],
    also: &[&["電話", "でんわ", "携帯", "tel", "通話"]],
    starts: &[],
    pattern: r"(?:^|[^号品文理員録付送込])番号(?:を|は|だけ|も)?(?:お)?(?:送り|教え|伝え|知らせ)(?:します|しますね|ますね|ておきます|ましょうか|てください|ていただけ|てもらえ|とく)",
    requires: Some(r"電話|でんわ|携帯|tel|通話"),
    unless: Some(r"注文|口座|会員|管理|追跡|郵便|予約|受付|取引|お問い合わせ"),
    gate: Gate::None,
};

/// `phone.sms` — moving to SMS.
///
/// Blocks: `ショートメッセージでも大丈夫です`, `SMSで連絡ください`.
/// Allows: `SMS認証のコードが届かない`.
pub(crate) const SMS: PhraseRule = PhraseRule {
    name: "phone.sms",
    kind: Kind::Phone,
    triggers: &["ショートメ", "sms", "エスエムエス", "cメール", "シーメール"],
    also: &[],
    starts: &["ショートメ", "sms", "エスエムエス", "cメール", "シーメール"],
    pattern: r"(?:ショートメッセージ|ショートメール|sms|エスエムエス|c\+?メール|シーメール)(?:で|に|にて)(?:も)?(?:大丈夫|ok|連絡|ください|送って|送り|お願い|いいです|構いません|どうぞ)",
    requires: None,
    unless: None,
    gate: Gate::None,
};

/// `line.add_friend` — asking to add a (LINE) friend.
///
/// Blocks: `友だち追加して「ココナラ見ました」と送ってください`, `友だち追加お願いします`.
/// Allows: `友だち追加ボタンのデザイン`, `友だち追加してくれた人向けのクーポン`.
pub(crate) const ADD_FRIEND: PhraseRule = PhraseRule {
    name: "line.add_friend",
    kind: Kind::Line,
    triggers: &["友だち", "友達"],
    also: &[],
    starts: &["友だち", "友達"],
    pattern: r"友(?:だち|達)(?:追加|登録|申請)(?:して[^。!?]{0,20}?(?:ください|下さい|ね|もらえ|いただ|ほしい|欲しい|お願い|よろしく)|(?:しました|しておきました|送りました|しておいた)[^。!?]{0,16}?(?:承認|確認|追加)|を?お願い|できます|可能|よろしく|お待ち|お気軽|どうぞ)",
    requires: None,
    unless: Some(
        r"ボタン|文言|文面|バナー|チラシ|pop|デザイン|あいさつメッセージ|ポップ|案|特典|クーポン|施策|促す|増やす|画像|キャンペーン",
    ),
    gate: Gate::None,
};

/// `line.id_search` — "find me by ID search".
///
/// Blocks: `ID検索で yuka_nail88 で出てきます`.
/// Allows: `ID検索機能の実装`.
pub(crate) const ID_SEARCH: PhraseRule = PhraseRule {
    name: "line.id_search",
    kind: Kind::Line,
    triggers: &["id検索"],
    also: &[],
    starts: &["id検索"],
    pattern: r"id検索(?:で|から|して|すると|していただ|してもら|してください|だと)",
    requires: None,
    unless: None,
    gate: Gate::None,
};

/// `line.qr_share` — a QR code to read and add.
///
/// Blocks: `QRコードを添付しました。読み取って追加してください。`
/// Allows: `QRコードをチラシの右下に配置しました。読み取り先はお客様の予約ページです。`
pub(crate) const QR_SHARE: PhraseRule = PhraseRule {
    name: "line.qr_share",
    kind: Kind::Line,
    triggers: &["qr", "キューアール"],
    also: &[
        &["追加", "友だち", "友達"],
        &[
            "読み取",
            "よみと",
            "読みと",
            "読み込",
            "よみこ",
            "読込",
            "スキャン",
        ],
    ],
    starts: &["qr", "キューアール"],
    pattern: r"(?:qr|キューアール)(?:コード)?[^。!?]{0,12}?(?:読み取|よみと|読みと|読み込|よみこ|読込|スキャン)(?:って|んで|して)?[^。!?]{0,6}?(?:追加|友だち|友達)",
    requires: None,
    unless: Some(r"チラシ|名刺|ポスター|配置|印刷|デザイン|予約ページ"),
    gate: Gate::None,
};

/// `url_contact.contact_page` — "contact me through my site's form".
///
/// Blocks: `ポートフォリオサイトのContactから連絡いただければ`,
/// `私のブログのお問い合わせページから、個別相談も受けています`,
/// `詳しいご相談は公式サイトのお問い合わせフォームからどうぞ`.
/// Allows: `サイトのお問い合わせフォームから送信されたメールが届かない不具合を修正しました`.
pub(crate) const CONTACT_PAGE: PhraseRule = PhraseRule {
    name: "url_contact.contact_page",
    kind: Kind::UrlContact,
    triggers: &[
        "contact",
        "コンタクト",
        "問い合",
        "問合",
        "フォーム",
        "予約ページ",
        "申込み",
        "申し込み",
    ],
    also: &[&["から", "より", "経由", "にて"]],
    starts: &[
        "サイト",
        "ブログ",
        "ホームページ",
        "hp",
        "ポートフォリオ",
        "ページ",
        "公式",
        "note",
    ],
    pattern: r"(?:サイト|ブログ|ホームページ|hp|ポートフォリオ|ページ|公式|note)(?:の|にある|内の|上の)?(?:contact|コンタクト|お?問い?合わ?せ|問合せ|フォーム|予約ページ|予約フォーム|申し?込みフォーム|申し?込みページ)(?:ページ|フォーム|欄)?(?:から|より|経由|にて)(?:も)?[^。!?]{0,8}?(?:連絡|れんらく|相談|依頼|申し?込|注文|予約|受け?付|どうぞ|お気軽|問い?合わ?せ|メッセージ|ください)",
    requires: None,
    unless: Some(
        r"不具合|修正|設定|実装|表示|届かない|送信され|デザイン|作成|改修|エラー|バグ|動作|テスト|確認して",
    ),
    gate: Gate::None,
};

/// `url_contact.link_in_bio` — "the link in my profile".
///
/// Blocks: `プロフのリンクからDMください`, `プロフィールのURLから予約できます`.
/// Allows: `インスタのプロフィールのリンクからLPに飛ぶよう設計しました`.
pub(crate) const LINK_IN_BIO: PhraseRule = PhraseRule {
    name: "url_contact.link_in_bio",
    kind: Kind::UrlContact,
    triggers: &["プロフ", "bio", "バイオ", "自己紹介"],
    also: &[&["リンク", "url", "サイト", "linktree"]],
    starts: &["プロフ", "bio", "バイオ", "自己紹介"],
    pattern: r"(?:プロフ|プロフィール|bio|バイオ|自己紹介)(?:の|にある|に(?:貼|載|のせ)って(?:ある|いる|ます))?(?:リンク|url|サイト|リットリンク|linktree|リンクツリー)(?:から|に|より|を見|へ|をご覧|をチェック|をクリック)[^。!?]{0,10}?(?:連絡|dm|申し?込|予約|注文|相談|依頼|見て|飛んで|どうぞ|ください|できます)",
    requires: None,
    unless: Some(r"設計|設定|デザイン|作成|修正|実装|導線"),
    gate: Gate::None,
};

/// `url_contact.meeting_room` — a meeting link or ID to be sent.
///
/// Blocks: `ミーティングのURLをお送りします`, `招待リンクを送りますね`.
/// Allows: `このトークルームのビデオチャットでお願いします`.
pub(crate) const MEETING_ROOM: PhraseRule = PhraseRule {
    name: "url_contact.meeting_room",
    kind: Kind::UrlContact,
    triggers: &["ミーティング", "会議", "招待", "通話"],
    also: &[&["url", "リンク", "id", "パスコード"]],
    starts: &["ミーティング", "会議", "招待", "通話", "ビデオ通話"],
    pattern: r"(?:ミーティング|会議|招待|通話|ビデオ通話)(?:用の|の)?(?:url|リンク|id|パスコード)(?:を|は)?[^。!?]{0,8}?(?:送り|送って|お送り|貼|発行|お伝え|共有|お知らせ|:)",
    requires: None,
    unless: Some(r"このトークルーム|ビデオチャット|{P}"),
    gate: Gate::None,
};

/// Every phrase rule, in reporting order.
pub(crate) const ALL: &[PhraseRule] = &[
    BYPASS_PLATFORM,
    DIRECT_TRANSACTION,
    FEE_AVOIDANCE,
    FEE_FREE_WAY,
    OTHER_PLATFORM,
    OTHER_SITE,
    OWN_CHANNEL,
    CONNECT_ELSEWHERE,
    SEARCH_ME,
    MEET_IN_PERSON,
    APPLY_ELSEWHERE,
    CONTACT_EXCHANGE,
    ENGLISH_DIRECT,
    BANK_TRANSFER,
    CASH,
    EMAIL_EXCHANGE,
    MOVE_TO_EMAIL,
    ADDRESS_POINTER,
    CONTACT_IN_ATTACHMENT,
    DESCRIBED_HALVES,
    ASSEMBLE_HINT,
    CALL_INVITATION,
    NUMBER_OFFER,
    SMS,
    ADD_FRIEND,
    ID_SEARCH,
    QR_SHARE,
    CONTACT_PAGE,
    LINK_IN_BIO,
    MEETING_ROOM,
];

#[derive(Debug)]
struct Compiled {
    rule: PhraseRule,
    pattern: Regex,
    /// The pattern anchored at the start (`^(?:…)`), for rules with start literals.
    anchored: Option<Regex>,
    requires: Option<Regex>,
    unless: Option<Regex>,
}

/// Compiled phrase rules.
#[derive(Debug)]
pub(crate) struct Rules {
    rules: Vec<Compiled>,
    /// The policy's platform names as they read in the squeezed view (what `{P}` stands for).
    platform_names: Vec<String>,
    /// Per level, the rules that have a literal set at that level (the others pass it).
    need: [u64; LEVELS],
    pay_tail: Regex,
    pay_topic: Regex,
}

fn is_kanji(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '々')
}

/// Expands `{P}`, `{O}` and `{PROPOSAL}` in a pattern.
fn expand(pattern: &str, platforms: &str) -> String {
    pattern
        .replace("{P}", platforms)
        .replace("{O}", OTHER_PLATFORMS)
        .replace("{PROPOSAL}", PROPOSAL)
}

impl Rules {
    /// Compiles the phrase rules with the policy's platform names.
    ///
    /// # Panics
    /// Only if a constant pattern is invalid (the unit tests compile every one); platform names are
    /// escaped, so no policy can make compilation fail.
    pub(crate) fn new(policy: &Policy) -> Rules {
        let mut platform_names: Vec<String> = policy
            .platform_names
            .iter()
            .filter(|n| !n.trim().is_empty())
            .map(|n| crate::normalize::Normalized::new(n).squeeze().text)
            .collect();
        let names: Vec<String> = platform_names.iter().map(|n| regex::escape(n)).collect();
        let platforms = if names.is_empty() {
            platform_names.push("ココナラ".to_owned());
            "ココナラ".to_owned()
        } else {
            format!("(?:{})", names.join("|"))
        };
        // A name that reads as nothing (only separators) lets `{P}` match anywhere: rules starting
        // with it cannot be anchored at their start literals.
        let anchorable = |r: &PhraseRule| {
            let reads_as_nothing = platform_names.iter().any(String::is_empty);
            let on_names = r.starts.contains(&"{P}");
            let blocked = on_names && reads_as_nothing;
            !r.starts.is_empty() && !blocked
        };
        let rules: Vec<Compiled> = ALL
            .iter()
            .map(|r| Compiled {
                rule: *r,
                pattern: re(&expand(r.pattern, &platforms)),
                anchored: anchorable(r)
                    .then(|| re(&format!("^(?:{})", expand(r.pattern, &platforms)))),
                requires: r.requires.map(|p| re(&expand(p, &platforms))),
                unless: r.unless.map(|p| re(&expand(p, &platforms))),
            })
            .collect();
        let mut need = [0u64; LEVELS];
        for (i, r) in ALL.iter().enumerate() {
            need[0] |= 1 << i;
            for n in need.iter_mut().skip(1).take(r.also.len()) {
                *n |= 1 << i;
            }
        }
        Rules {
            rules,
            platform_names,
            need,
            pay_tail: re(concat!(
                r"^(?:の)?(?:id|アカウント|バーコード|qr|リンク|url|送金リンク|:)",
                r"|^(?:で|に|へ|から|あて|宛|にて)(?:の)?(?:直接)?(?:お?支払|払|送|お送|送金|振り?込|受け?取|いただ|頂|お願い|ok|おk|精算|清算|決済して|も(?:大丈夫|ok|構いません|可|いい))",
                r"|^払い(?:で|でも|ok|も)|^(?:で|でも|も)(?:大丈夫|ok|構いません|いいです|可能です|受け?付け|お受け|対応(?:して|可能|でき))|^での(?:お)?支払",
                r"|^(?:を|の)?(?:コード|番号)(?:を)?(?:ここ|こちら)?(?:に)?(?:貼|送|教え|お送)",
            )),
            pay_topic: re(&expand(
                r"対応した|対応の|導入|設定|実装|連携|構築|組み込|ロゴ|ボタン|pop|バナー|チラシ|デザイン|決済画面|{P}|使い方|マニュアル|の記事|解説|キャンペーン",
                &platforms,
            )),
        }
    }

    /// The trigger literals (level 0) and further literal sets (levels 1, 2) of every rule, with the
    /// bit of its rule (for the lexicon).
    pub(crate) fn triggers(&self) -> Vec<TriggerLiteral> {
        let mut out = Vec::new();
        for (i, c) in self.rules.iter().enumerate() {
            let bit = 1u64 << i;
            for t in c.rule.triggers {
                if *t == "{O}" {
                    let names = OTHER_PLATFORMS
                        .trim_start_matches("(?:")
                        .trim_end_matches(')');
                    out.extend(names.split('|').map(|n| (n.to_owned(), 0, bit)));
                } else {
                    out.push(((*t).to_owned(), 0, bit));
                }
            }
            for (l, set) in c.rule.also.iter().enumerate().take(LEVELS - 1) {
                out.extend(set.iter().map(|t| ((*t).to_owned(), l + 1, bit)));
            }
            for t in c.rule.starts.iter().filter(|_| c.anchored.is_some()) {
                if *t == "{O}" {
                    let names = OTHER_PLATFORMS
                        .trim_start_matches("(?:")
                        .trim_end_matches(')');
                    out.extend(names.split('|').map(|n| (n.to_owned(), START, bit)));
                } else if *t == "{P}" {
                    out.extend(self.platform_names.iter().map(|n| (n.clone(), START, bit)));
                } else {
                    out.push(((*t).to_owned(), START, bit));
                }
            }
        }
        out
    }

    /// Whether rule `i` may match: a literal of each of its sets occurs and its gate is open.
    fn may_match(&self, cx: &Ctx<'_>, i: usize, c: &Compiled) -> bool {
        let bit = 1u64 << i;
        let literals = cx
            .triggered
            .mask
            .iter()
            .zip(&self.need)
            .all(|(t, n)| (t | !n) & bit != 0);
        let f = &cx.n.facts;
        literals
            && match c.rule.gate {
                Gate::None => true,
                Gate::Dotted => f.dotted,
                Gate::DottedOrAt => f.dotted || f.at,
            }
    }

    pub(crate) fn run(&self, cx: &Ctx<'_>, out: &mut Vec<Hit>) {
        // A rule is searched only when the lexicon saw its literals; `requires` is only looked at once
        // its pattern has matched.
        let text = &cx.sq.text;
        for (i, c) in self.rules.iter().enumerate() {
            if !self.may_match(cx, i, c) {
                // The literal sets and gates are implied by the pattern (and `requires`); the tests,
                // the property tests and the fuzz target (built with debug assertions) check it on
                // every text they scan.
                debug_assert!(
                    !(c.pattern.is_match(&cx.sq.text)
                        && c.requires.as_ref().is_none_or(|r| r.is_match(&cx.n.text))),
                    "{} skipped but matches {:?}",
                    c.rule.name,
                    cx.sq.text
                );
                continue;
            }
            let mut required: Option<bool> = None;
            // Handles one match (squeezed byte range); false stops the rule.
            let mut hit = |ms: usize, me: usize| -> bool {
                if let Some(req) = &c.requires
                    && !*required.get_or_insert_with(|| req.is_match(&cx.n.text))
                {
                    return false;
                }
                let (s, e) = cx.sq_chars(ms, me);
                let Some((bs, _)) = cx.sq_to_base(s, e) else {
                    return true;
                };
                // A match that starts inside a katakana word (ステップメール) or an ASCII word (database)
                // is that word, not ours.
                if cx.n.kata_joined_before(bs) {
                    return true;
                }
                let first = cx.n.chars[bs];
                // 外 closing a compound (海外で, 以外で, 社外の) is not "outside (the platform)".
                if first == '外' && bs > 0 && is_kanji(cx.n.chars[bs - 1]) {
                    return true;
                }
                if first.is_ascii_alphanumeric()
                    && bs > 0
                    && cx.n.chars[bs - 1].is_ascii_alphanumeric()
                {
                    return true;
                }
                if let Some(unless) = &c.unless
                    && unless.is_match(cx.sentence_sq(bs, false))
                {
                    return true;
                }
                push_sq(cx, out, c.rule.kind, c.rule.name, s, e, true);
                true
            };
            if let Some(anchored) = &c.anchored {
                // Every match starts with a start literal: try the pattern anchored at each, leftmost
                // first, skipping those inside a match — what `find_iter` finds.
                let mut at: Vec<usize> = cx
                    .triggered
                    .starts
                    .iter()
                    .filter(|&&(r, _)| r == i)
                    .map(|&(_, p)| p)
                    .collect();
                at.sort_unstable();
                at.dedup();
                #[cfg(debug_assertions)]
                let mut found: Vec<(usize, usize)> = Vec::new();
                let mut from = 0;
                for p in at {
                    if p < from {
                        continue;
                    }
                    let Some(m) = anchored.find(&text[p..]) else {
                        continue;
                    };
                    from = p + m.end();
                    #[cfg(debug_assertions)]
                    found.push((p, from));
                    if !hit(p, from) {
                        break;
                    }
                }
                #[cfg(debug_assertions)]
                {
                    let all: Vec<(usize, usize)> = c
                        .pattern
                        .find_iter(text)
                        .map(|m| (m.start(), m.end()))
                        .collect();
                    debug_assert!(
                        all.starts_with(&found)
                            && (found.len() == all.len() || required == Some(false)),
                        "{}: anchored {found:?}, unanchored {all:?} in {text:?}",
                        c.rule.name
                    );
                }
                continue;
            }
            let last_trigger = cx.triggered.last[i];
            let mut from = Some(0);
            while let Some(at) = from {
                let Some(m) = c.pattern.find_at(text, at) else {
                    break;
                };
                // Like `find_iter` (matches are never empty), but a further match would start at or
                // after this one's end and contain a trigger, so without a trigger there is none.
                from = (m.end() > m.start() && last_trigger >= m.end()).then_some(m.end());
                debug_assert!(
                    from.is_some() || c.pattern.find_at(text, m.end()).is_none(),
                    "{} stopped early in {text:?}",
                    c.rule.name
                );
                if !hit(m.start(), m.end()) {
                    break;
                }
            }
        }
        self.pay_apps(cx, out);
    }

    /// `payment_outside.app` — a payment app, gift card or other way to pay named with a payment verb.
    ///
    /// Blocks: `ペイペイ払いでもOKですよ〜`, `残金はPayPayで直接送っていただいても大丈夫です`,
    /// `PayPay ID「sato-0526-ex」あてに送ってください`, `Apple Gift Cardでのお支払いでも構いません`.
    /// Allows: `PayPay対応を知らせる店頭POPのデザイン`, `PayPayで支払えるようにECサイトを設定しました`.
    fn pay_apps(&self, cx: &Ctx<'_>, out: &mut Vec<Hit>) {
        for t in cx.tokens_of(Class::PayApp) {
            let tail = cx.tail(t.sq_end, WINDOW);
            let Some(m) = self.pay_tail.find(tail) else {
                continue;
            };
            if self.pay_topic.is_match(cx.sentence_sq(t.base_start, false)) {
                continue;
            }
            let end = cx.sq.char_at(cx.sq.byte_of[t.sq_end] + m.end());
            push_sq(
                cx,
                out,
                Kind::PaymentOutside,
                "payment_outside.app",
                t.sq_start,
                end,
                true,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_names_that_read_as_nothing_disable_anchoring() {
        let mut policy = Policy {
            platform_names: vec!["・".into(), "Skill Market".into()],
            ..Policy::default()
        };
        let rules = Rules::new(&policy);
        let anchored = |name: &str| {
            rules
                .rules
                .iter()
                .find(|c| c.rule.name == name)
                .is_some_and(|c| c.anchored.is_some())
        };
        assert!(!anchored("direct_deal.bypass_platform"));
        assert!(anchored("payment_outside.bank_transfer"));
        // Debug builds compare the anchored search with the plain one on every scan.
        let guard = crate::Guard::new(policy.clone());
        assert!(
            guard
                .scan("Skill Marketを通さずに直接お取引しませんか")
                .is_block()
        );
        policy.platform_names = vec!["Skill Market".into()];
        let guard = crate::Guard::new(policy);
        assert!(
            guard
                .scan("skillmarketを通さずに直接お取引しませんか")
                .is_block()
        );
        assert!(
            guard
                .scan("スキルマーケットを通さずにお願いします")
                .findings
                .is_empty()
        );
    }

    #[test]
    fn start_literals_are_where_matches_start() {
        // Every rule with start literals is anchored under the default policy; debug builds check
        // on every scan (tests, property tests, fuzzing) that anchored and plain searches agree.
        let rules = Rules::new(&Policy::default());
        for c in &rules.rules {
            assert_eq!(
                c.anchored.is_some(),
                !c.rule.starts.is_empty(),
                "{}",
                c.rule.name
            );
        }
    }

    #[test]
    fn every_phrase_rule_compiles_and_has_a_family_prefix() {
        let rules = Rules::new(&Policy::default());
        assert_eq!(rules.rules.len(), ALL.len());
        assert!(ALL.len() <= 64, "trigger masks are u64");
        assert!(ALL.iter().all(|r| !r.triggers.is_empty()));
        assert!(ALL.iter().all(|r| r.also.len() < LEVELS));
        for r in ALL {
            let family = r.name.split('.').next().unwrap_or("");
            assert!(
                [
                    "direct_deal",
                    "payment_outside",
                    "email",
                    "phone",
                    "line",
                    "url_contact",
                    "sns",
                    "file_sharing"
                ]
                .contains(&family),
                "{}",
                r.name
            );
        }
    }
}
