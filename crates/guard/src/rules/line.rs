//! LINE rules: the word LINE (in any spelling the lexicon knows) followed or preceded by an invitation,
//! an ID or a QR code. LINE as a *topic* — LINEスタンプ制作, LINE公式アカウントの構築, 「LINEで送る」ボタン,
//! LINE Messaging API — is allowed, as is ライン inside オンライン/ガイドライン/ラインナップ (the lexicon never
//! reports those). LINE links (`line.me`, `lin.ee`) are in [`super::links`]; 友だち追加 and ID検索
//! phrases in [`super::phrases`].

use regex::Regex;

use super::{Ctx, Hit, ID_REACH, WINDOW, push_sq, re};
use crate::Kind;
use crate::lexicon::Class;

/// Compiled LINE rules.
#[derive(Debug)]
pub(crate) struct Rules {
    topic: Regex,
    id: Regex,
    qr: Regex,
    qr_design: Regex,
    invite: Regex,
    head: Regex,
    dev_topic: Regex,
    drawing: Regex,
    strong: Regex,
    /// 「詳細は」「続きは」… before the name, with 「で」「に」 right after it: 「詳細はLINEで！」.
    head_topic: Regex,
    tail_particle: Regex,
}

impl Rules {
    pub(crate) fn new() -> Rules {
        Rules {
            topic: re(concat!(
                r"^(?:の)?(?:スタンプ|stamp|sticker|messaging|api|developers|creators|リッチ|bot|ボット|広告|で送るボタン|で送る」|で送る\x22|マンガ|漫画|着せ(?:かえ|替え)|絵文字|ギフト|news|ニュース|ポイント|works|ワークス|の仕様|の規約|の審査|バナー|ボタン|ヤフー|マーケティング|運用|構築|連携|ミニアプリ|liff)",
                r"|^(?:の)?公式アカウント(?:の|を|に)?(?:構築|運用|開設|設定|作成|導入|あいさつ|リッチ|配信|友だち追加時|代行|立ち上げ|開発|文面|画像|デザイン|メッセージ|機能)",
            )),
            id: re(r"^(?:の|も|は|:)?(?:id|アイディー|アイディ|ユーザーid)|^[:→⇒=]"),
            qr: re(
                r"^(?:の|も)?(?:qr|キューアール)(?:コード)?.{0,16}?(?:貼|はり|はっ|送|添付|読|よみ|載せ|あげ|上げ|共有|追加|です|:)",
            ),
            qr_design: re(
                r"チラシ|名刺|めいし|ポスター|配置|掲載|印刷|バナー|pop|ポップ|デザイン|入れ込|載せたい|作成|看板|店頭|メニュー|パンフ",
            ),
            invite: re(concat!(
                r"^(?:の|も|は|が)?(?:アカウント|垢)(?:は|あります|ありま|持って|もって|お持ち|教え|おしえ|を教え|をお?教え|:|を?交換|を?送|お伝え|を?お?伝え|を?追加)",
                r"|^(?:を|も|の|は)?(?:交換|こうかん|教え|おしえ|お教え|追加(?:して|を?お願い|ください|下さい|できます|よろしく)|やって|やりま|やれ|して(?:ますか|ます|る|ない)|お持ち|もって|持って|お伝え|伝え|送りま|送って(?:ください|下さい|もらえ|いただけ|頂け|ほしい|欲しい|ね|くれ|も(?:大丈夫|いい|ok|構いません))|ください|下さい|ちょうだい|しよ|しましょう|あります|ある$|つなが|繋が|登録(?:して|お願い|ください|よろしく))",
                r"|^(?:の(?:方|ほう))?(?:で|に|にて|から|へ)(?:も)?(?:の)?(?:直接|個別に?|お?気軽に|すぐ)?(?:(?:ご|お)?連絡|れんらく|やり取り|やりとり|送って(?:ください|下さい|もらえ|いただけ|頂け|ほしい|欲しい|ね|くれ|も(?:大丈夫|いい|ok|構いません))|送れ|送りま|お送り|(?:お)?話し?(?:ませんか|ましょう|せ)|通話|お?電話|返信|お願い|つなが|繋が|(?:ご)?相談|(?:画像|写真|データ|ファイル|資料)を?(?:送|お送|もらえ|ください|いただ|共有)|ちょうだい|どうぞ|も(?:大丈夫|ok|いい|構いません|可)|ok|おk|dm|メッセージ)",
                r"|^(?:の(?:方|ほう))?(?:で|に|にて|へ)(?:の)?(?:直接|個別に?)?(?:やり(?:ましょう|ませんか|ません|たい)|やりとりしましょう|させて(?:ください|下さい|いただ|もらえ|ほしい)|して(?:ください|下さい|いただけ|もらえ))",
                r"|^(?:で|から|にて)(?:id)?(?:検索|けんさく)(?:して|すれば|すると|したら|で|いただ|を|お願い)",
                r"|^(?:に|へ|で|から)(?:も)?(?:ご|お)?(?:登録|追加)(?:して|を?お願い|ください|下さい|いただ|もらえ|よろしく|お待ち)",
                r"|^(?:の|のほう|の方)が(?:早|はや|すぐ|返信|確実|楽|ラク|らく|便利|気づ|見|つなが|スムーズ|すむーず|やりやす|連絡しやす)",
                r"|^(?:なら|だったら|でしたら)(?:すぐ|確実|返信|見|連絡|気づ|早)",
                r"|^(?:id|account|me)",
            )),
            dev_topic: re(
                r"bot|ボット|自動|実装|開発|構築|api|通知|配信|連携|webhook|リッチメニュー|ボタン|設置|機能|システム",
            ),
            drawing: re(
                r"線|太さ|太く|細く|色|枠|罫|引い|描|点線|実線|破線|px|mm|幅|ボーダー|フォント|文字|デザイン|イラスト|ロゴ|図|グラフ|チャート|マーカー|装飾",
            ),
            strong: re(r"連絡|交換|id|追加|友だち|友達|やり取り|やりとり|教え|アカウント|qr"),
            head_topic: re(
                r"(?:詳細|詳しく|くわしく|続き|つづき|やり取り|やりとり|ご?相談|ご?質問|返信|お問い?合わ?せ|ご?連絡|打ち?合わ?せ|以降|今後|この先|急ぎ)(?:は|も|の方は|のほうは|の場合は|でしたら|なら)(?:ぜひ|是非|お気軽に|気軽に|すべて|全部)?$",
            ),
            tail_particle: re(r"^(?:で|に|にて|へ|まで)(?:お願い|どうぞ|!|$)"),
            head: re(
                r"(?:連絡|れんらく)(?:先|手段|方法)?(?:は|を|も)$|(?:add|contact|message|text|reach|find|dm|call|chat|talk|continue|move)(?:me|us|withme)?(?:on|via|at|through|in|over|to)$",
            ),
        }
    }

    /// `line.invite` — LINE with an invitation, an ID or a QR code to share.
    ///
    /// Blocks: `LINEで連絡もらえたら嬉しいです。ID検索で mika.illust です`, `連絡は⏎L⏎I⏎N⏎E⏎でお願いします`,
    /// `らいん教えてください！！`, `ライン交換しましょう！`, `L I N E やってますか？`,
    /// `エル・アイ・エヌ・イーのアカウントあります？`, `ＬＩＮＥのQRコードを画像で貼りますね`,
    /// `公式らいんの方が返信早いです`, `私個人のらいんも教えておきますね→ maki_0303`, `ライソ交換しよ`.
    /// Allows: `LINEスタンプの審査が通りました`, `LINE公式アカウントの構築、承知しました`,
    /// `「LINEで送る」ボタンを設置したい`, `LINEのリッチメッセージ用の画像`,
    /// `LINEのQRコードをチラシに載せたい`, `ボーダーのラインは点線ではなく実線で`.
    ///
    /// Without an invitation, an account id near the name (either side, across a sentence break, with an
    /// id cue such as `ID:` or `←`) blocks as `line.id`: `詳細はLINEで！ID: hinata_design です`,
    /// `hinata_design ←ラインのIDです`; `詳細は/続きは…LINEで。` blocks as an invitation.
    ///
    /// The hit is hard (kept inside a refusal) when an ID or handle follows.
    pub(crate) fn run(&self, cx: &Ctx<'_>, out: &mut Vec<Hit>) {
        for t in cx.tokens_of(Class::Line) {
            let tail = cx.tail(t.sq_end, WINDOW);
            if self.topic.is_match(tail) {
                continue;
            }
            let head = cx.head(t.sq_start, 20);
            let sentence = cx.sentence_sq(t.base_start, false);
            let matched = self
                .id
                .find(tail)
                .or_else(|| {
                    self.qr
                        .find(tail)
                        .filter(|_| !self.qr_design.is_match(sentence))
                })
                .or_else(|| self.invite.find(tail));
            let end_sq = match matched {
                Some(m) => cx.sq.char_at(cx.sq.byte_of[t.sq_end] + m.end()),
                None if self.head.is_match(head) => t.sq_end,
                None if self.head_topic.is_match(head) && self.tail_particle.is_match(tail) => {
                    t.sq_end
                }
                None => {
                    // No invitation, but an account id next to the name (before or after, across a
                    // sentence break): 「詳細はLINEで！ID: hinata_design です」, 「hinata_design ←ラインのIDです」.
                    if self.dev_topic.is_match(sentence)
                        || (self.drawing.is_match(sentence) && !self.strong.is_match(sentence))
                    {
                        continue;
                    }
                    if let Some((hs, he)) = cx.id_near(t.base_start, t.base_end, ID_REACH) {
                        out.push(Hit {
                            kind: Kind::Line,
                            rule: "line.id",
                            start: hs.min(t.base_start),
                            end: he.max(t.base_end),
                            soft: false,
                        });
                    }
                    continue;
                }
            };
            let Some((bs, be)) = cx.sq_to_base(t.sq_start, end_sq) else {
                continue;
            };
            match cx.handle_after(be, WINDOW, false) {
                Some((_, he)) => out.push(Hit {
                    kind: Kind::Line,
                    rule: "line.id",
                    start: bs,
                    end: he,
                    soft: false,
                }),
                None if self.dev_topic.is_match(sentence) => {}
                // ライン as a drawn line: 「実線のラインでお願いします」.
                None if self.drawing.is_match(sentence) && !self.strong.is_match(sentence) => {}
                None => push_sq(cx, out, Kind::Line, "line.invite", t.sq_start, end_sq, true),
            }
        }
    }
}
