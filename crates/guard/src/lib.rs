//! Contact guard: detects attempts to move a marketplace conversation or payment off the platform —
//! e-mail addresses, phone numbers, LINE, SNS handles, contact and file-sharing links, proposals to deal
//! directly and to pay outside — and says *why* (kind, rule, span, excerpt).
//!
//! A pure library: no I/O, no async, no database. Build a [`Guard`] once from a [`Policy`] and share it
//! (it is `Send + Sync`; scanning never rebuilds an automaton or a regex):
//!
//! ```
//! use guard::{Action, Guard, Kind, Policy};
//!
//! let guard = Guard::new(Policy::default());
//! let verdict = guard.scan("電話の方が早いので、〇八〇ー〇一三四ー六七八七 に掛けてもらえますか？");
//! assert_eq!(verdict.action, Action::Block);
//! assert_eq!(verdict.findings[0].kind, Kind::Phone);
//! assert_eq!(verdict.findings[0].excerpt, "〇八〇ー〇一三四ー六七八七");
//!
//! let ok = guard.scan("オンラインで打ち合わせをご希望の場合は、このトークルームのビデオチャット機能でお願いします。");
//! assert_eq!(ok.action, Action::Allow);
//! ```
//!
//! How it works: [`normalize`](crate) builds a base view (NFKC, lower case, katakana → hiragana, circled
//! and keycap digits → ASCII) and a squeezed view (separators removed) of the text, both with an exact
//! map back to the original characters; a lexicon of service names is matched once with Aho-Corasick;
//! rule families (`rules::*`) read the views and report hits; hits are filtered (refusals, enforced
//! kinds, overlaps) and mapped back to original offsets. See the crate README for the rule list.

mod eval;
mod lexicon;
mod normalize;
mod policy;
mod rules;

use serde::{Deserialize, Serialize};

pub use eval::{CategoryStats, Example, ParseError, Report, evaluate, parse_jsonl};
pub use policy::Policy;

/// What a finding is about. Serialised in snake_case (`url_contact`, `file_sharing`, …), the values
/// the HTTP API's `off_platform_contact` error uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An e-mail address, plain or obfuscated, or a proposal to move to e-mail.
    Email,
    /// A phone number in any script, or a proposal to call or text.
    Phone,
    /// A LINE ID, LINE link or QR code, or an invitation to talk on LINE.
    Line,
    /// An SNS or messenger account or invitation (Instagram, X, TikTok, Discord, Skype, …).
    Sns,
    /// Meeting, form, booking, link-in-bio and contact-page links, and invitations to use them.
    UrlContact,
    /// File and form sharing outside the platform (Google Drive/Docs/Sheets/Forms, Dropbox, GigaFile便,
    /// WeTransfer, Notion/Figma/Canva share links, …).
    FileSharing,
    /// Proposals to deal outside the platform, to move to another platform, or to avoid the fee.
    DirectDeal,
    /// Payment outside the platform (bank transfer, PayPay, LINE Pay, PayPal, gift cards, cash, …).
    PaymentOutside,
}

impl Kind {
    /// Every kind, in declaration order.
    pub const ALL: [Kind; 8] = [
        Kind::Email,
        Kind::Phone,
        Kind::Line,
        Kind::Sns,
        Kind::UrlContact,
        Kind::FileSharing,
        Kind::DirectDeal,
        Kind::PaymentOutside,
    ];

    /// The snake_case name used in JSON (`"url_contact"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::Line => "line",
            Kind::Sns => "sns",
            Kind::UrlContact => "url_contact",
            Kind::FileSharing => "file_sharing",
            Kind::DirectDeal => "direct_deal",
            Kind::PaymentOutside => "payment_outside",
        }
    }

    /// A short Japanese description for user-facing error messages (e.g. 「メールアドレス」).
    pub fn label_ja(self) -> &'static str {
        match self {
            Kind::Email => "メールアドレス・メールへの誘導",
            Kind::Phone => "電話番号・電話への誘導",
            Kind::Line => "LINE ID・LINEへの誘導",
            Kind::Sns => "SNSアカウント・SNSへの誘導",
            Kind::UrlContact => "外部の連絡・予約・会議用リンク",
            Kind::FileSharing => "外部のファイル共有サービス",
            Kind::DirectDeal => "サービス外での直接取引の提案",
            Kind::PaymentOutside => "サービス外でのお支払い",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to do with a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Nothing enforced was found; store the text.
    Allow,
    /// At least one enforced finding; reject the text with its findings.
    Block,
}

/// One piece of evidence. Offsets are Unicode scalar (char) offsets into the **original** text,
/// `start < end <= text.chars().count()`, and `excerpt` is exactly the chars `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What was found.
    pub kind: Kind,
    /// First char (inclusive).
    pub start: usize,
    /// Last char (exclusive).
    pub end: usize,
    /// The original text of the span.
    pub excerpt: String,
    /// Stable name of the rule that fired (`phone.number`, `line.invite`, …).
    pub rule: &'static str,
}

/// The result of a scan: `action` is [`Action::Block`] exactly when `findings` is non-empty.
/// Findings are sorted by `start` and only of kinds the policy enforces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Allow or block.
    pub action: Action,
    /// The evidence, sorted by start.
    pub findings: Vec<Finding>,
}

impl Verdict {
    /// Whether the text is blocked.
    pub fn is_block(&self) -> bool {
        self.action == Action::Block
    }
}

/// The detector. Build once with [`Guard::new`] (compiles the lexicon and every rule) and share it;
/// [`Guard::scan`] takes `&self`, allocates only per-text views, and never panics.
#[derive(Debug)]
pub struct Guard {
    policy: Policy,
    engine: rules::Engine,
}

impl Guard {
    /// Compiles a guard for `policy`.
    ///
    /// This is the only place regexes and automata are built. They come from constant patterns (and the
    /// policy's platform names, escaped), so building cannot fail at run time; the `expect`s inside are
    /// checked by the unit tests, which build every pattern.
    pub fn new(policy: Policy) -> Guard {
        let engine = rules::Engine::new(&policy);
        Guard { policy, engine }
    }

    /// The policy this guard was built with.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Scans one text. Deterministic: the same text always gives the same verdict.
    pub fn scan(&self, text: &str) -> Verdict {
        let findings = self.engine.scan(text, &self.policy);
        let action = if findings.is_empty() {
            Action::Allow
        } else {
            Action::Block
        };
        Verdict { action, findings }
    }
}

impl Default for Guard {
    /// A guard with [`Policy::default`].
    fn default() -> Guard {
        Guard::new(Policy::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn the_guard_can_be_shared_between_threads() {
        assert_send_sync::<Guard>();
    }

    #[test]
    fn kinds_serialise_in_snake_case() {
        let json = serde_json::to_string(&Kind::ALL).unwrap_or_default();
        assert_eq!(
            json,
            r#"["email","phone","line","sns","url_contact","file_sharing","direct_deal","payment_outside"]"#
        );
        for k in Kind::ALL {
            assert_eq!(
                serde_json::to_string(&k).unwrap_or_default(),
                format!("\"{}\"", k.as_str())
            );
            assert!(!k.label_ja().is_empty());
        }
    }

    #[test]
    fn a_verdict_serialises_with_action_and_findings() {
        let v = Guard::default().scan("090-0000-4821");
        let json = serde_json::to_value(&v).unwrap_or_default();
        assert_eq!(json["action"], "block");
        assert_eq!(json["findings"][0]["kind"], "phone");
        assert_eq!(json["findings"][0]["start"], 0);
        assert_eq!(json["findings"][0]["end"], 13);
        assert_eq!(json["findings"][0]["rule"], "phone.number");
    }

    #[test]
    fn an_empty_text_is_allowed() {
        assert_eq!(Guard::default().scan("").action, Action::Allow);
    }
}
