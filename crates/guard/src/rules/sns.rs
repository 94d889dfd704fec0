//! SNS rules: an SNS or messenger name with an invitation (DM, follow, "same name there", an invite to
//! a workspace) or with a handle, and handles offered with contact words. An SNS name alone is a topic
//! and is allowed (`インスタの投稿画像を月10枚作成`, `X(旧Twitter)のヘッダー画像`). SNS links are in
//! [`super::links`].

use regex::Regex;

use super::{Ctx, Hit, ID_REACH, WINDOW, push_sq, re};
use crate::Kind;
use crate::lexicon::Class;

/// Compiled SNS rules.
#[derive(Debug)]
pub(crate) struct Rules {
    invite: Regex,
    head: Regex,
    contact_words: Regex,
}

impl Rules {
    pub(crate) fn new() -> Rules {
        Rules {
            invite: re(concat!(
                r"^(?:の|は|も)?(?:id|アカウント(?:名)?|垢|あか|ユーザー(?:名|ネーム|id)|なまえ|名前|ハンドル(?:ネーム)?|スペル)(?:の|を)?(?:は|:|→|教え|お?伝え|送|あります|お持ち|持って|で検索|を?検索|フォロー|です|スペル|@)",
                r"|^(?:の|で|に|から|へ|まで)?(?:dm|ディーエム|メッセージ|メッセ|チャット|トーク|通話|ボイスチャット|ボイチャ)(?:なら|でしたら|だったら|(?:で|に|を|へ|から|まで|は|も)?.{0,4}?(?:連絡|れんらく|ください|下さい|くれ|ちょうだい|送って(?:ください|下さい|もらえ|いただけ|頂け|ほしい|欲しい|ね|くれ|も(?:大丈夫|いい|ok|構いません))|送れ|送りま|お送り|お願い|やり取り|やりとり|しませんか|しましょう|もらえ|いただけ|お待ち|待って|確実|すぐ|見ま|返信|早|どうぞ|可能|受け付け|話))",
                r"|^(?:で|に|にて|から)(?:も)?(?:の)?(?:直接|個別に?|お?気軽に)?(?:(?:ご|お)?連絡|やり取り|やりとり|送って(?:ください|下さい|もらえ|いただけ|頂け|ほしい|欲しい|ね|くれ|も(?:大丈夫|いい|ok|構いません))|送れ|送りま|(?:お)?話し?(?:ませんか|ましょう|せ)|通話|返信|つなが|繋が|フォロー|検索(?:して(?:ください|もらえ|いただ|みて)|すると|すれば|したら)|申し?込|ご?依頼|ご?注文|招待)",
                r"|^(?:で|は|も|の)?(?:同じ|おなじ)(?:名前|なまえ|id|アカウント|ユーザー名|ハンドル)",
                r"|^[^。!?]{0,16}?(?:ワークスペース|サーバー|鯖|グループ|チャンネル|コミュニティ|ルーム)(?:に|へ)(?:ご)?(?:招待|参加|入って|追加|お?誘い)",
                r"|^(?:の)?(?:dm|ディーエム|メッセージ|チャット)(?:で|に|へ|まで|から)(?:お願い|どうぞ|ぜひ|お気軽に)?$",
                r"|^(?:の|のほう|の方)が(?:早|はや|すぐ|返信|確実|楽|ラク|便利|気づ|見|つなが|スムーズ|やりやす|連絡しやす)",
                r"|^(?:を|も)?(?:フォロー(?:して|お願い|ください|下さい|よろしく|待って)|交換|こうかん|教え|おしえ|お教え|やって(?:ますか|る|ます|たら|れば|いれば|いたら)|してますか|お持ち)",
                r"|^[^。!?]{0,12}?(?:フレンド|友だち|友達|ともだち)(?:に(?:なり|なって)|(?:追加|申請|登録)(?:して|お願い|しま|できま|よろしく|ください|下さい))",
                r"|^(?:なら|だったら|でしたら)(?:すぐ|確実|返信|見|連絡|気づ|早)",
                r"|^.{0,20}?[a-z0-9]{3,}[」』]?(?:と|で)(?:検索|けんさく)",
                r"|^.{0,24}?(?:と|って|で)(?:検索|けんさく|調べ)(?:して|したら|すると|すれば|してもらえ|していただ|してみて|で)[^。!?]{0,12}?(?:出て(?:くる|き)|ヒット|見つか|フォロー|dm|連絡|ください)",
            )),
            head: re(
                r"(?:add|contact|message|text|reach|find|dm|call|chat|talk|continue|move|follow)(?:me|us|withme)?(?:on|via|at|through|in|over|to)$",
            ),
            contact_words: re(
                r"dm|ディーエム|フォロー|連絡|れんらく|検索|申請|メッセージ|追加|アカウント|垢|id|フレンド|friend|follow|contact|message|reach",
            ),
        }
    }

    pub(crate) fn run(&self, cx: &Ctx<'_>, out: &mut Vec<Hit>) {
        self.services(cx, out);
        if cx.n.facts.at {
            self.handles(cx, out);
        }
    }

    /// `sns.invite` / `sns.handle` (service) — an SNS name with an invitation or a handle.
    ///
    /// Blocks: `インスタのDMでやり取りしませんか？`, `X(旧Twitter)のDMに連絡もらえますか？`,
    /// `てぃっくとっく で同じ名前です`, `すかいぷ：ｌｉｖｅ：ｈｉｒｏ＿ｅｘ`, `Messengerで送ってもらえれば`,
    /// `青い鳥のDMに連絡ください！`, `いんすたぐらむ の なまえ は mio.nail_ex です`,
    /// `Slackのワークスペースに招待したい`, `TwitterのDMでしたら、添付ファイルも送れますよ`.
    /// Without an invitation, an account id near the name with an id cue blocks too
    /// (`mio_cafe ←インスタのIDです`, `Discord：taro#1234`).
    /// Allows: `InstagramのDMで届くお問い合わせへの返信テンプレート`, `TikTokのプロフィール文`,
    /// `インスタのリールで再生数が伸びた投稿`, `Instagramで検索されやすいハッシュタグ`.
    fn services(&self, cx: &Ctx<'_>, out: &mut Vec<Hit>) {
        for t in cx.tokens_of(Class::Sns) {
            let tail = cx.tail(t.sq_end, WINDOW);
            let head = cx.head(t.sq_start, 20);
            // How far the invitation reaches (squeezed index), if there is one after or before the name.
            let invited_to = match self.invite.find(tail) {
                Some(m) => Some(cx.sq.char_at(cx.sq.byte_of[t.sq_end] + m.end())),
                None if self.head.is_match(head) => Some(t.sq_end),
                None => None,
            };
            let end_sq = invited_to.unwrap_or(t.sq_end);
            let Some((bs, be)) = cx.sq_to_base(t.sq_start, end_sq) else {
                continue;
            };
            // A handle right after the name (or after the invitation) makes the hit hard; without an
            // invitation only an @handle counts, or an id right after a colon or arrow.
            let colon = tail.starts_with(':') || tail.starts_with('→');
            let any_id = invited_to.is_some() || colon;
            match (invited_to, cx.handle_after(be, WINDOW, !any_id)) {
                (_, Some((_, he))) => out.push(Hit {
                    kind: Kind::Sns,
                    rule: "sns.handle",
                    start: bs,
                    end: he,
                    soft: false,
                }),
                (Some(_), None) => {
                    push_sq(cx, out, Kind::Sns, "sns.invite", t.sq_start, end_sq, true)
                }
                (None, None) => {
                    // An account id next to the name with an id cue: 「mio_cafe ←インスタのIDです」.
                    if let Some((hs, he)) = cx.id_near(t.base_start, t.base_end, ID_REACH) {
                        out.push(Hit {
                            kind: Kind::Sns,
                            rule: "sns.handle",
                            start: hs.min(t.base_start),
                            end: he.max(t.base_end),
                            soft: false,
                        });
                    }
                }
            }
        }
    }

    /// `sns.handle` (alone) — an `@handle` offered with contact words (DM, フォロー, 検索, ID, …) or in
    /// a text that names an SNS.
    ///
    /// Blocks: `@aoi_writer_ex にDMください`, `Ｘのアカウント：＠ｋｏｕ＿ｄｅｖ＿ｅｘ`.
    /// Allows: `@media クエリで対応`, `@your_account` (placeholder), e-mail addresses.
    fn handles(&self, cx: &Ctx<'_>, out: &mut Vec<Hit>) {
        let named = cx.has_class(Class::Sns);
        for (s, e) in cx.all_handles() {
            if out.iter().any(|h| h.start < e && s < h.end) {
                continue;
            }
            let window = cx.sentence_sq(s, true);
            let next = {
                let (_, se) = cx.n.sentence(s);
                if se < cx.n.len() {
                    cx.sentence_sq(se, false)
                } else {
                    ""
                }
            };
            if named || self.contact_words.is_match(window) || self.contact_words.is_match(next) {
                out.push(Hit {
                    kind: Kind::Sns,
                    rule: "sns.handle",
                    start: s,
                    end: e,
                    soft: false,
                });
            }
        }
    }
}
