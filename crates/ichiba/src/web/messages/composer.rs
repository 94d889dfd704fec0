//! The composer of a direct conversation: its view, and how a refused send is shown in it — the
//! contact guard's block with the findings marked, a restriction in force, or the service's own
//! message for the body.

use super::super::auth::Errors;
use super::super::format::jst_rfc3339;
use super::super::shown_on_form;
use super::super::view::Blocked;
use crate::error::AppError;
use crate::messages::MessageBody;

/// The composer of a conversation (`messages_composer.html`).
pub(super) struct ComposerView {
    /// Where the message is posted.
    pub(super) action: String,
    /// Where an appeal against a block is posted.
    pub(super) appeal_action: String,
    /// Extra hidden fields of both forms.
    pub(super) hidden: Vec<(String, String)>,
    /// The text in the box.
    pub(super) draft: String,
    /// The longest message, in characters.
    pub(super) max_chars: usize,
    /// The contact guard blocked the text: the explanation and the marked text.
    pub(super) blocked: Option<Blocked>,
    /// Why the message was not sent, for any other reason.
    pub(super) error: Option<String>,
    /// The body field's own message.
    pub(super) body_error: String,
}

impl ComposerView {
    /// An empty composer posting to `action` (with `draft` in the box).
    pub(super) fn new(
        action: String,
        appeal_action: String,
        hidden: Vec<(String, String)>,
        draft: String,
    ) -> Self {
        ComposerView {
            action,
            appeal_action,
            hidden,
            draft,
            max_chars: MessageBody::MAX_CHARS,
            blocked: None,
            error: None,
            body_error: String::new(),
        }
    }

    /// The composer showing why its text was not sent.
    pub(super) fn refused(mut self, r: Refusal) -> Self {
        self.blocked = r.blocked;
        self.error = r.error;
        self.body_error = r.body_error;
        self
    }
}

/// Why a message was not sent, as the composer shows it.
#[derive(Default)]
pub(super) struct Refusal {
    /// The contact guard blocked it: the explanation and the marked text.
    blocked: Option<Blocked>,
    /// Any other reason.
    error: Option<String>,
    /// The body field's own message.
    body_error: String,
}

/// The composer's view of a refused send; `None` when the error is a page of its own (404, 5xx).
pub(super) fn refusal(e: &AppError, text: &str) -> Option<Refusal> {
    if !shown_on_form(e) {
        return None;
    }
    if let Some(blocked) = Blocked::from_error(e, text, "direct_message") {
        return Some(Refusal {
            blocked: Some(blocked),
            ..Refusal::default()
        });
    }
    Some(match e {
        AppError::Restricted { until_at } if !until_at.is_empty() => Refusal {
            error: Some(format!(
                "外部誘導と判断される投稿が続いたため、{}までメッセージの送信を制限しています。取引中のトークルームは引き続きご利用いただけます。",
                jst_rfc3339(until_at)
            )),
            ..Refusal::default()
        },
        other => {
            let errors = Errors::from_app(other);
            Refusal {
                body_error: errors.of("body"),
                error: errors.general,
                blocked: None,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FieldErrors;

    #[test]
    fn a_guard_block_marks_the_findings() {
        let e = AppError::Rule {
            code: "off_platform_contact",
            message: "外部の連絡先が含まれています。".into(),
            details: serde_json::json!({"findings": [{"start": 3, "end": 6}]}),
        };
        let r = refusal(&e, "連絡はabcまで").expect("shown in the composer");
        let b = r.blocked.expect("blocked");
        assert_eq!(b.message, "外部の連絡先が含まれています。");
        assert_eq!(b.text, "連絡はabcまで");
        let marked: Vec<(&str, bool)> = b
            .segments
            .iter()
            .map(|s| (s.text.as_str(), s.mark))
            .collect();
        assert_eq!(
            marked,
            vec![("連絡は", false), ("abc", true), ("まで", false)]
        );
        assert!(r.error.is_none());
    }

    #[test]
    fn other_refusals_explain_themselves() {
        let mut f = FieldErrors::new();
        f.add("body", "required", "メッセージを入力してください。");
        let r = refusal(&AppError::Validation(f), "").expect("shown");
        assert_eq!(r.body_error, "メッセージを入力してください。");
        assert!(r.error.is_some() && r.blocked.is_none());

        let r = refusal(
            &AppError::Restricted {
                until_at: "2026-11-23T15:00:00Z".into(),
            },
            "x",
        )
        .expect("shown");
        assert!(r.error.expect("error").contains("2026年11月24日 00:00まで"));

        let r = refusal(
            &AppError::Rule {
                code: "cannot_message_self",
                message: "ご自身にはメッセージを送れません。".into(),
                details: serde_json::json!({}),
            },
            "x",
        )
        .expect("shown");
        assert_eq!(
            r.error.as_deref(),
            Some("ご自身にはメッセージを送れません。")
        );

        assert!(refusal(&AppError::NotFound, "x").is_none());
        assert!(refusal(&AppError::internal("boom"), "x").is_none());
    }
}
