//! Per-rule behaviour: for every rule family, positives (including obfuscated variants that are not in
//! the dev set) and hard negatives, plus the polite seller templates that must never be blocked.

use std::sync::OnceLock;

use guard::{Action, Guard, Kind, Policy, Verdict};

fn guard() -> &'static Guard {
    static GUARD: OnceLock<Guard> = OnceLock::new();
    GUARD.get_or_init(|| Guard::new(Policy::default()))
}

fn describe(v: &Verdict) -> String {
    v.findings
        .iter()
        .map(|f| {
            format!(
                "{} {} {}..{} {:?}",
                f.kind, f.rule, f.start, f.end, f.excerpt
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Asserts every text is blocked with at least one finding of `kind`.
fn assert_blocked_as(kind: Kind, texts: &[&str]) {
    for text in texts {
        let v = guard().scan(text);
        assert!(
            v.findings.iter().any(|f| f.kind == kind),
            "expected a {kind} finding in {text:?}, got [{}]",
            describe(&v)
        );
        assert_eq!(v.action, Action::Block, "{text:?}");
    }
}

/// Asserts every text is allowed.
fn assert_allowed(texts: &[&str]) {
    for text in texts {
        let v = guard().scan(text);
        assert_eq!(
            v.action,
            Action::Allow,
            "expected {text:?} to be allowed, got [{}]",
            describe(&v)
        );
    }
}

mod phone {
    use super::*;

    #[test]
    fn numbers_with_control_characters_between_the_digits_are_blocked() {
        assert_blocked_as(
            Kind::Phone,
            &["090\u{0}1234\u{0}5678", "0\u{7f}9\u{7f}0-12\u{85}34-5678"],
        );
    }

    #[test]
    fn plain_and_full_width_numbers_are_blocked() {
        assert_blocked_as(
            Kind::Phone,
            &[
                "090-1234-5678までお電話ください",
                "０９０ー１２３４ー５６７８",
                "携帯は 090 1234 5678 です",
                "09012345678に連絡ください",
                "電話番号：080.1234.5678",
                "tel:0312345678",
                "電話: 03 (1234) 5678",
                "フリーダイヤル 0120-123-456",
                "＋８１－９０－１２３４－５６７８",
            ],
        );
    }

    #[test]
    fn numbers_in_circled_kanji_kana_and_mixed_digits_are_blocked() {
        assert_blocked_as(
            Kind::Phone,
            &[
                "⓪⑨⓪-①②③④-⑤⑥⑦⑧",
                "⓪❾⓪-❶❷❸❹-❺❻❼❽に電話",
                "〇九〇の一二三四の五六七八です",
                "ぜろきゅーぜろ いちにーさんよん ごーろくななはち",
                "れいはちれい、いちにさんよん、ごろくななはち",
                "まるきゅうまる いちにいさんよん ごおろくななはち",
                "ぜろ きゅう ぜろ、いち に さん よん、ご ろく なな はち",
                "090-12三4-5六78",
                "O9O-1234-5678",
                "0⃣9⃣0⃣-1⃣2⃣3⃣4⃣-5⃣6⃣7⃣8⃣",
            ],
        );
    }

    #[test]
    fn numbers_split_across_words_lines_and_sentences_are_blocked() {
        assert_blocked_as(
            Kind::Phone,
            &[
                "最初の3桁は090、次が1234、最後が5678です",
                "090です。続きは1234。最後は5678です",
                "090\n1234\n5678",
                "090 の 1234 の 5678 に電話もらえますか？",
            ],
        );
    }

    #[test]
    fn proposals_to_call_or_text_are_blocked() {
        assert_blocked_as(
            Kind::Phone,
            &[
                "直接お電話いただければすぐ対応します",
                "携帯番号を教えてください",
                "SMSで連絡ください",
            ],
        );
    }

    #[test]
    fn dates_prices_codes_and_placeholders_are_allowed() {
        assert_allowed(&[
            "注文番号 0123-4567-89 の件でご連絡しました",
            "03-1234-5678 のように市外局番から入力してください",
            "電話番号は半角で「09012345678」のように入力してください",
            "2024/01/23 10:00 に納品予定です",
            "0.5mmの線でお願いします",
            "郵便番号は〒150-0001です",
            "JANコード 4901234567894 の商品",
            "ISBN 978-4-00-000000-0 の書籍の表紙",
            "01月02日から03月04日まで休業します",
            "お問い合わせ番号：0120123456",
            "会員ID 0801234567 のデータを修正しました",
            "納品データ: 20240523_0901234567.zip",
            "商品番号：0312345678",
            "電話番号の欄は、ダミーの「090-0000-0000」で仮置きしています。",
            "二〇二五年五月二十六日付の契約書",
            "〇〇様 お世話になります。",
        ]);
    }

    #[test]
    fn talk_about_phone_features_is_allowed() {
        assert_allowed(&[
            "注文番号を教えてください",
            "ご自身の電話番号は入力しないでください",
            "番号札のデザインをお願いします",
            "SMS認証のコードが届かない件を修正しました",
            "お電話でのご相談は、ココナラの電話相談機能をご利用ください",
        ]);
    }
}

mod email {
    use super::*;

    #[test]
    fn plain_and_full_width_addresses_are_blocked() {
        assert_blocked_as(
            Kind::Email,
            &[
                "abc.def@gmail.com",
                "taro＠gmail．com",
                "ｔａｒｏ＿ｄｅｓｉｇｎ＠ｙａｈｏｏ．ｃｏ．ｊｐ",
                "Email me at john.doe@gmail.com",
            ],
        );
    }

    #[test]
    fn at_and_dot_words_and_spacing_are_seen_through() {
        assert_blocked_as(
            Kind::Email,
            &[
                "taro あっとまーく gmail どっと com",
                "taro[at]example[dot]jp",
                "メールアドレスはtaro_y(アット)yahoo.co.jpです",
                "taro.y [at] yahoo [dot] co [dot] jp",
                "t a r o @ g m a i l . c o m",
                "taro.yamada (アットマーク) gmail.com",
                "taro_y あっと gmail",
                "gmailのtaro.yamada88です",
                "taro★gmail.com（★を@に変えてください）",
            ],
        );
    }

    #[test]
    fn control_and_zero_width_characters_inside_an_address_are_seen_through() {
        // The service refuses control characters at its edge; the guard must not depend on it.
        assert_blocked_as(
            Kind::Email,
            &[
                "a\u{0}b@example.com",
                "taro\u{1}@gmail.com",
                "taro@gmail\u{7f}.com",
                "ta\u{1b}ro.yamada@ya\u{85}hoo.co.jp",
                "ta\u{200B}ro@gm\u{200D}ail\u{FEFF}.com",
                "メールは t\u{0}a\u{0}r\u{0}o\u{0}@\u{0}g\u{0}m\u{0}a\u{0}i\u{0}l\u{0}.\u{0}c\u{0}o\u{0}m です",
            ],
        );
        // The span covers the original characters, the dropped ones included.
        let text = "連絡先はa\u{0}b@example.comです";
        let v = guard().scan(text);
        let f = v
            .findings
            .iter()
            .find(|f| f.kind == Kind::Email)
            .unwrap_or_else(|| panic!("no e-mail in [{}]", describe(&v)));
        assert_eq!(
            (f.start, f.end),
            (4, 4 + "a\u{0}b@example.com".chars().count())
        );
        assert_eq!(f.excerpt, "a\u{0}b@example.com");
    }

    #[test]
    fn proposals_to_move_to_email_are_blocked() {
        assert_blocked_as(
            Kind::Email,
            &[
                "メールでご連絡ください",
                "Eメールで送りますね",
                "メアド教えて！",
                "メールアドレスを教えていただけますか？",
                "アドレスお送りしますね",
                "メールにてご連絡いたします",
            ],
        );
    }

    #[test]
    fn mail_as_a_topic_and_placeholders_are_allowed() {
        assert_allowed(&[
            "メールマガジンの原稿を書きました",
            "問い合わせメールへの返信文を作成しました",
            "Gmailの設定方法を解説した記事です",
            "メールでのご連絡はご遠慮ください",
            "ココナラからメールが届きます",
            "ココナラからメールにてご連絡いたします",
            "迷惑メールフォルダもご確認ください",
            "メールアドレス欄の入力チェックを実装しました",
            "ステップメールでお送りする内容を整理しました",
            "メールで送信する機能を実装しました",
            "メールアドレス：sample@example.com のように表示します",
            "例：info@example.com",
            "サイトのアドレスを教えてください",
            "あっと驚くようなキャッチコピーが欲しいです",
            "look at example.com for the layout",
        ]);
    }
}

mod line {
    use super::*;

    #[test]
    fn line_in_any_spelling_with_an_invitation_is_blocked() {
        assert_blocked_as(
            Kind::Line,
            &[
                "ラインで話しましょう",
                "LINE交換できますか？",
                "ﾗｲﾝやってる？",
                "ら　い　ん　で連絡ください",
                "ら.い.ん で連絡ください",
                "ライ ン教えて",
                "Ｌ－Ｉ－Ｎ－Ｅ交換しよう",
                "L*I*N*Eやってます？",
                "LINEのほうが楽なので、そちらでお願いします",
                "緑のアプリで連絡しましょう",
                "L.I.N.E で繋がりましょう",
                "LINEのアカウント教えて",
                "LINE登録お願いします",
                "ライソ交換しよ",
                "ライン(交換)しませんか",
                "線（LINE）で連絡ください",
            ],
        );
    }

    #[test]
    fn line_ids_links_and_friend_requests_are_blocked() {
        assert_blocked_as(
            Kind::Line,
            &[
                "ラインIDはabc123です",
                "らいんID: abc_123",
                "ＬＩＮＥ ＩＤ → ｔａｒｏ＿８８",
                "Add me on LINE: taro_88",
                "友達追加お願いします！",
                "LINEのID、プロフィール名と同じです",
                "らいんのあいでぃーは taro88 です",
                "https://line.me/R/ti/p/@abc1234",
                "lin.ee/xYz123",
            ],
        );
    }

    #[test]
    fn line_as_a_word_or_a_topic_is_allowed() {
        assert_allowed(&[
            "枠は点線ではなく実線のラインでお願いします",
            "LINEで友だちに送れるスタンプを作ります",
            "LINE広告の運用を代行します",
            "LINE公式のリッチメニュー画像を作成しました",
            "LINEの友だち追加ボタンを設置しました",
            "LINE公式アカウントで友だち追加してくれたお客様にクーポンを配信したい",
            "LINEで予約できる仕組みを作りたいです",
            "LINEで問い合わせが来たら自動返信するbotを作ります",
            "ラインマーカーで強調しました",
            "ラインを太くしてください",
            "オンライン会議の資料を作成します",
            "ボディラインがきれいに見えるように修正しました",
            "タイムラインに流れる広告のバナーを作ります",
            "このデザインのラインナップは全部で5種類です",
            "グラフの折れ線（ライン）を赤にしてください",
            "ラインストーン風のロゴ",
            "1040x1040pxのLINEリッチメッセージ画像",
            "LINEスタンプの申請方法を教えてください",
            "Thanks for the quick reply! I'll check the line art tonight.",
        ]);
    }
}

mod sns {
    use super::*;

    #[test]
    fn an_sns_name_with_an_invitation_or_handle_is_blocked() {
        assert_blocked_as(
            Kind::Sns,
            &[
                "インスタやってますか？",
                "Instagramのアカウントはこちら→ @xxx_yyy",
                "ツイッターでフォローしてください",
                "Xで@hoge_designを検索してください",
                "ディスコードのサーバーに招待します",
                "TikTokにDMください",
                "フェイスブックのメッセンジャーで連絡ください",
                "インスタのアカ教えて",
                "Instagramで「taro_design」と検索してください",
                "Can we continue on WhatsApp?",
                "テレグラムでやり取りしませんか",
                "カカオトークのIDを教えてください",
                "インスタのDMまでお願いします",
                "いんすた→taro_88",
                "TikTokのIDはtaro_88です",
                "instagram.com/taro_design",
            ],
        );
    }

    #[test]
    fn a_handle_with_contact_words_is_blocked() {
        assert_blocked_as(
            Kind::Sns,
            &[
                "@hana_illust にDMください！",
                "@taro_design でインスタやってます",
            ],
        );
    }

    #[test]
    fn sns_as_a_topic_or_a_reference_is_allowed() {
        assert_allowed(&[
            "Instagramのフォロワーを増やす施策をご提案します",
            "インスタのDM機能を使った集客方法",
            "X（旧Twitter）で拡散されやすい投稿",
            "TikTokで流行っている音源を使いました",
            "InstagramのDMでお問い合わせが来たら返信しています",
            "お客様のインスタにDMを送る代行はしておりません",
            "@media クエリでスマホ対応しました",
            "Xのポスト用の画像を3枚作りました",
            "https://twitter.com/xxx/status/123 のような投稿デザインにしたいです",
            "https://www.instagram.com/client_shop/ のプロフィール画像を作成しました",
            "インスタグラマー向けのプロフィール文を書きます",
            "Discordのサーバー構築を代行します",
            "Instagram API v2 の連携を実装しました",
            "エックスサーバーの設定を代行します",
        ]);
    }
}

mod links {
    use super::*;

    #[test]
    fn file_sharing_links_and_services_are_blocked() {
        assert_blocked_as(
            Kind::FileSharing,
            &[
                "ギガファイル便のURLを送ります",
                "データはDropboxで共有しますね",
                "Googleドライブのリンクを貼っておきます",
                "firestorageにアップしました",
                "OneDriveで送ってもらえますか",
                "https://www.notion.so/taro/abc123 に要件をまとめました",
                "https://www.figma.com/file/abc/design を見てください",
                "xgf.nu/abcd からダウンロードしてください",
                "こちらのフォームからお申し込みください: https://forms.gle/abc123",
            ],
        );
    }

    #[test]
    fn contact_booking_and_meeting_links_are_blocked() {
        assert_blocked_as(
            Kind::UrlContact,
            &[
                "詳しくはこちら→ https://example.com/contact",
                "予約はこちらから https://example-salon.jp/",
                "lit.link/taro_design",
                "https://calendly.com/taro/30min で日程を選んでください",
                "Zoomのリンク送りますね",
                "Google Meetで打ち合わせしましょう",
                "Teamsで会議しませんか",
                "私のホームページのお問い合わせフォームからご連絡ください",
                "プロフのリンクからDMください",
                "zoom.us/j/1234567890",
                "下記URLからご予約ください https://reserva.be/taro",
            ],
        );
    }

    #[test]
    fn obfuscated_domains_are_seen_through() {
        assert_blocked_as(
            Kind::Line,
            &["line(.)me/ti/p/~yoshi_ex", "line dot me/ti/p/abc"],
        );
        assert_blocked_as(Kind::FileSharing, &["drive[.]google[.]com/file/d/abc"]);
    }

    #[test]
    fn public_pages_and_work_on_the_clients_site_are_allowed() {
        assert_allowed(&[
            "参考サイト: https://www.example.com/works",
            "お問い合わせフォームの項目を追加しました https://client-site.jp/contact",
            "https://example.com/reserve の予約ボタンの色を変えてください",
            "https://www.youtube.com/@channelname のチャンネルアートを作ります",
            "店舗の地図 https://maps.app.goo.gl/abcd をチラシに載せます",
            "https://github.com/taro/repo のリポジトリにpushしました",
            "ホームページから予約できるシステムを構築します",
            "https://coconala.com/services/123 のサービス説明を直しました",
            "納品ファイル名は logo_v3_0526.ai と logo_v3_0526.png です。",
            "サーバー環境はWordPress 6.5.3、PHP 8.2です。",
        ]);
    }

    #[test]
    fn tools_named_as_work_topics_are_allowed() {
        assert_allowed(&[
            "Googleドライブの整理代行",
            "Dropboxとの連携機能",
            "Notionでタスク管理テンプレートを作成しました",
            "Canvaで作ったデザインを修正します",
            "容量が大きいので、ギガファイル便ではなくトークルームに分割して添付します",
            "ZoomやGoogle Meetの背景画像を作成します",
            "Zoom研修の告知バナーを作りました",
            "Teams会議の議事録を作成しました",
            "Googleフォームの質問項目を見直しました",
            "スプレッドシートの関数を修正しました",
            "このトークルームでお話ししましょう",
            "ビデオチャットで打ち合わせしましょう",
        ]);
    }
}

mod direct_deal {
    use super::*;

    #[test]
    fn proposals_to_deal_directly_are_blocked() {
        assert_blocked_as(
            Kind::DirectDeal,
            &[
                "ココナラ通さずに取引しませんか",
                "ココナラだと手数料が高いので、直接やりませんか",
                "個人的に依頼を受けることもできますよ",
                "次回からはココナラ外でお願いします",
                "このサービス外でお取引できれば半額にします",
                "キャンセルしてから改めて直接ご依頼いただければ",
                "継続のご依頼は直接でも大丈夫です",
                "お見積りより安くなるので直接契約しませんか",
                "次回はココナラを使わずに依頼してください",
                "運営にバレないように進めましょう",
                "連絡先交換しませんか？",
                "直 接 取 引 し ま せ ん か",
            ],
        );
    }

    #[test]
    fn steering_to_another_platform_or_own_site_is_blocked() {
        assert_blocked_as(
            Kind::DirectDeal,
            &[
                "他のサイトで依頼してもらえれば安くできます",
                "ランサーズで依頼してもらえれば手数料が安いです",
                "ホームページから直接ご注文いただけます",
                "We could work outside of Coconala to save on fees.",
            ],
        );
    }

    #[test]
    fn refusals_and_ordinary_uses_of_direct_are_allowed() {
        assert_allowed(&[
            "直接編集していただいても構いません",
            "ご依頼者様と直接やり取りする業務経験があります",
            "一度お会いしたことがあるような気がします",
            "他のサイトで注文した商品の写真です",
            "手数料はかかりません",
            "外で撮影した写真を使います",
            "連絡先の交換は規約で禁止されていますので、こちらでお願いします",
            "連絡先の交換はできかねますので、ご了承ください",
            "直接お会いするのは難しいため、オンラインで対応します",
            "外部サービスへの誘導はお控えください",
            "次回もココナラからご依頼いただければ、リピーター割で10%お値引きいたします。",
            "見積り・仕事の相談ボタンからご依頼ください",
            "Please contact me through the Coconala message system.",
        ]);
    }
}

mod payment {
    use super::*;

    #[test]
    fn payment_outside_the_platform_is_blocked() {
        assert_blocked_as(
            Kind::PaymentOutside,
            &[
                "PayPayで払ってもらえますか",
                "銀行口座に直接振り込んでください",
                "お支払いはPayPalでお願いします",
                "振込先：みずほ銀行 渋谷支店 普通 1234567",
                "Amazonギフト券で支払ってもらえますか",
                "楽天ペイでもOKです",
                "ペイパルで送金してください",
                "https://paypal.me/taro88 からお支払いください",
                "LINE Payで送ってもらえれば",
                "お振込みでお願いします",
                "PayPayに送金してもらえれば大丈夫です",
                "ビットコインで払えますか？",
                "楽天銀行に振り込んでください",
            ],
        );
    }

    #[test]
    fn payment_topics_and_platform_payments_are_allowed() {
        assert_allowed(&[
            "ココナラの支払い方法でPayPayは使えますか？",
            "PayPay決済に対応したECサイトを構築します",
            "PayPayのロゴを入れたPOPを作りました",
            "PayPal決済ボタンをサイトに設置しました",
            "銀行振込の手数料はお客様負担となります",
            "お振込みの確認が取れ次第、作業を開始します",
            "振込申請の方法がわかりません",
            "請求書の振込先を変更するテンプレートを作りました",
            "おひねりで追加料金をお支払いいただけます",
            "現金払いのお客様向けのチラシを作成しました",
            "お支払いはココナラの決済画面から、クレジットカード・銀行振込・コンビニ払いなどをお選びいただけます。",
        ]);
    }
}

mod templates {
    use super::*;

    /// The standard seller templates (DESIGN.md rule 16) with their placeholders.
    const TEMPLATES: &[&str] = &[
        "{buyer_name}様\nこの度はご購入いただき誠にありがとうございます。{seller_name}と申します。\n「{service_title}」を担当させていただきます。お届け予定日は{due_date}です。どうぞよろしくお願いいたします。",
        "{buyer_name}様\n作業を始めるにあたり、以下についてお伺いさせてください。\n■ご希望のイメージや雰囲気\n■使用する媒体（Web・印刷など）\n■参考にしたいデザインがあれば添付でお送りください\nご回答いただき次第、着手いたします。",
        "{buyer_name}様\n追加で確認させていただきたい点がございます。\n1. ロゴの配置について、左寄せと中央どちらがご希望でしょうか。\n2. カラーは3色以内でよろしいでしょうか。",
        "{buyer_name}様\nお世話になっております。制作を進めておりますが、予定より早く進んでおり、{due_date}より前にお届けできる見込みです。",
        "{buyer_name}様\nお世話になっております。制作は予定どおり進んでおります。{due_date}までにお届けいたします。",
        "{buyer_name}様\nお手数ですが、{due_date}までに評価をいただけますと幸いです。今後の励みになります。",
        "{buyer_name}様\nご指摘の箇所をすべて修正いたしました。ほかに修正点がなければ、正式な納品に進ませていただいてもよろしいでしょうか。",
        "{buyer_name}様\n正式に納品いたしました。内容をご確認のうえ、問題がなければ「承諾する」ボタンを押していただけますと幸いです。お手数ですが評価をいただけますと幸いです。\n{seller_name}",
        "この度はご購入いただき誠にありがとうございます。ご要望に沿えるよう、誠心誠意対応させていただきます。",
        "お手数ですが評価をいただけますと幸いです",
    ];

    #[test]
    fn polite_seller_templates_are_never_blocked() {
        assert_allowed(TEMPLATES);
    }

    #[test]
    fn templates_with_their_placeholders_filled_in_are_never_blocked() {
        let filled: Vec<String> = TEMPLATES
            .iter()
            .map(|t| {
                t.replace("{buyer_name}", "山田")
                    .replace("{seller_name}", "佐藤デザイン")
                    .replace("{service_title}", "ロゴ制作（3案）")
                    .replace("{due_date}", "2025年6月3日")
            })
            .collect();
        let refs: Vec<&str> = filled.iter().map(String::as_str).collect();
        assert_allowed(&refs);
    }
}

mod verdicts {
    use super::*;

    #[test]
    fn findings_point_at_the_original_characters() {
        let text = "ご連絡は ０９０ー１２３４ー５６７８ までお願いします";
        let v = guard().scan(text);
        let f = &v.findings[0];
        let chars: Vec<char> = text.chars().collect();
        assert_eq!(f.kind, Kind::Phone);
        assert_eq!(f.excerpt, chars[f.start..f.end].iter().collect::<String>());
        assert_eq!(f.excerpt, "０９０ー１２３４ー５６７８");
    }

    #[test]
    fn a_text_with_several_contacts_reports_each_of_them() {
        let v =
            guard().scan("メールは taro@example.com、電話は 090-1234-5678、LINEのIDは taro88 です");
        let kinds: Vec<Kind> = v.findings.iter().map(|f| f.kind).collect();
        assert!(kinds.contains(&Kind::Email), "{kinds:?}");
        assert!(kinds.contains(&Kind::Phone), "{kinds:?}");
        assert!(kinds.contains(&Kind::Line), "{kinds:?}");
        assert!(v.findings.windows(2).all(|w| w[0].start <= w[1].start));
    }

    #[test]
    fn kinds_not_enforced_by_the_policy_are_dropped() {
        let policy = Policy {
            enforced: vec![Kind::Phone],
            ..Policy::default()
        };
        let g = Guard::new(policy);
        assert_eq!(
            g.scan("Googleドライブに入れておきました https://drive.google.com/file/d/1")
                .action,
            Action::Allow
        );
        assert_eq!(g.scan("090-1234-5678").action, Action::Block);
    }

    #[test]
    fn allowed_domains_from_the_policy_are_never_reported() {
        let policy = Policy {
            allowed_domains: vec!["example-salon.jp".into()],
            ..Policy::default()
        };
        let g = Guard::new(policy);
        assert_eq!(
            g.scan("ご予約はこちらから https://example-salon.jp/reserve")
                .action,
            Action::Allow
        );
        assert_eq!(
            guard()
                .scan("ご予約はこちらから https://example-salon.jp/reserve")
                .action,
            Action::Block
        );
    }

    #[test]
    fn a_refusal_keeps_its_identifiers_but_loses_its_wording() {
        assert_allowed(&[
            "外部でのやり取りは規約で禁止されているため、このトークルームでお願いします🙏",
        ]);
        assert_blocked_as(
            Kind::Phone,
            &["規約で禁止なのは分かってますけど、090-1234-5678 に電話ください"],
        );
    }
}

/// Account ids next to a service name, whichever side and across a sentence break, and the other
/// phrasings found by the held-out set (`tests/fixtures/heldout.jsonl`).
mod ids_near_services {
    use super::*;

    #[test]
    fn an_id_after_a_service_mention_and_a_full_width_exclamation_is_blocked() {
        let v = guard().scan("ご購入ありがとうございます。詳細はLINEで！ID: hinata_design です");
        assert_eq!(v.action, Action::Block, "{}", describe(&v));
        assert!(
            v.findings
                .iter()
                .any(|f| f.kind == Kind::Line && f.excerpt.contains("hinata_design")),
            "{}",
            describe(&v)
        );
        assert_blocked_as(
            Kind::Line,
            &[
                "hinata_design ←ラインのIDです。追加お願いします",
                "ID は sakura_nail_07 です。ラインで検索すれば出てきます。",
                "ID載せときます→ ai_rin0503（ラインです）",
                "細かいご相談はＬＩＮＥの方がスムーズかと思います。ｉｄ：ｎａｏ＿ｃｒａｆｔ",
                "LINE→ momo_art0812 で検索してみてください",
                "公式LINEに登録してもらえれば、そっちでクーポンお送りします",
                "納品後のフォローは私のLINEでさせてください。",
                "line で 追加 お願い します",
                "こちらのQRを読み込んで追加してもらえますか？（LINEです）",
            ],
        );
        assert_blocked_as(
            Kind::Sns,
            &[
                "Discord：taro#1234 で追加してください",
                "弊社は普段Slackを使っているので、ワークスペースに招待させてください",
                "Instagramのほうが返信早いので、そちらにメッセージください",
                "詳しくはツイッターのDMで！",
                "Xで「ゆきデザイン」って検索したら出てきます！",
                "Threadsでもやりとりできますよ",
            ],
        );
    }

    #[test]
    fn other_unseen_phrasings_are_blocked() {
        assert_blocked_as(
            Kind::Phone,
            &["直接お電話でお話しできればすぐ解決すると思います。いかがでしょうか？"],
        );
        assert_blocked_as(
            Kind::FileSharing,
            &["容量オーバーなので宅ファイル便で送ります"],
        );
        assert_blocked_as(
            Kind::DirectDeal,
            &[
                "手数料がかからない方法でやりとりしませんか？",
                "ここ以外でのご依頼も受け付けてます",
                "次からは直で頼んでくれたら安くしますよ〜",
                "ココナラさんを挟まずにやり取りできたらお互い得だと思います",
                "ここだけの話、外でやり取りした方が安くできます",
            ],
        );
        assert_blocked_as(
            Kind::Email,
            &[
                "アドレス載せときます hana-design☆example.com（☆を@に）",
                "Eメールでのご連絡が確実です",
            ],
        );
        assert_blocked_as(
            Kind::PaymentOutside,
            &["差額は現金でお渡しいただければ大丈夫です"],
        );
    }

    #[test]
    fn ids_without_a_cue_topics_and_compounds_stay_allowed() {
        assert_allowed(&[
            "LINE公式アカウントのリッチメニュー画像（menu_v2.png）を作成しました",
            "LINEログインの実装で client_id_v2 を設定しました",
            "赤いラインで囲った部分（section_02）を修正してください",
            "海外でのお取引実績も多数ございます",
            "以外でのご依頼は…という質問への回答例を作りました",
            "LINEでのご連絡は受け付けておりません。トークルームでお願いします。",
            "お振込み先の口座情報は請求書テンプレートに差し込めるようにしました",
            "Googleドライブの容量が足りないとのことで、整理方法をまとめました",
        ]);
    }
}
