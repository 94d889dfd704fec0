//! The appeal queue (`/admin/appeals`): texts the contact guard blocked and their writers asked
//! to send anyway, with what the detector finds in them and where they were written; the
//! operator allows (the text is delivered, the strike voided) or upholds each one once. The
//! appeals, their findings and their writers' names come from `appeals::queue_named`.

use super::super::session::PageQuery;
use askama::Template;
use axum::extract::{Path, State};
use serde::Deserialize;

use super::{error_text, operator};
use crate::appeals::QueuedAppeal;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::format::{jst_rfc3339, url_encode};
use crate::web::session::CsrfForm;
use crate::web::view::{Segment, marked};
use crate::web::{
    Layout, PageResult, Viewer, WebError, render, render_status, see_other, shown_on_form,
};

/// Where a blocked text was written, in words, with a link for the operator.
struct ContextInfo {
    label: &'static str,
    link: Option<(String, String)>,
}

/// The context of an appeal from its JSON (`不明` when it cannot be read).
fn context_info(context: &serde_json::Value) -> ContextInfo {
    use crate::guard::Context as C;
    let order = |label, id: &str| ContextInfo {
        label,
        link: Some((
            format!("/admin/orders/{}", url_encode(id)),
            "注文を見る".into(),
        )),
    };
    match C::deserialize(context) {
        Ok(C::OrderMessage { order_id }) => order("トークルームのメッセージ", &order_id),
        Ok(C::Delivery { order_id }) => order("正式な納品のメッセージ", &order_id),
        Ok(C::SendBack { order_id }) => order("差し戻しの理由", &order_id),
        Ok(C::CancelNote { order_id }) => order("キャンセル申請の補足", &order_id),
        Ok(C::DirectMessage { to_user_id }) => ContextInfo {
            label: "ダイレクトメッセージ",
            link: Some((
                format!("/admin/users/{}", url_encode(&to_user_id)),
                "宛先のユーザーを見る".into(),
            )),
        },
        Ok(C::Listing) => ContextInfo {
            label: "サービスの出品内容",
            link: None,
        },
        Ok(C::Profile) => ContextInfo {
            label: "プロフィール",
            link: None,
        },
        Ok(C::Review) => ContextInfo {
            label: "評価・感想",
            link: None,
        },
        Err(_) => ContextInfo {
            label: "不明",
            link: None,
        },
    }
}

fn appeal_state_label(state: &str) -> (&'static str, &'static str) {
    match state {
        "pending" => ("未対応", "waiting"),
        "allowed" => ("認めた", "done"),
        "upheld" => ("認めなかった", "cancelled"),
        _ => ("不明", ""),
    }
}

struct AppealItem {
    id: String,
    user_id: String,
    user_name: String,
    segments: Vec<Segment>,
    context: &'static str,
    link: Option<(String, String)>,
    findings: Vec<String>,
    state: &'static str,
    state_class: &'static str,
    pending: bool,
    note: String,
    created: String,
    decided: String,
}

/// A filter tab of the queue.
struct Tab {
    href: &'static str,
    label: &'static str,
    current: bool,
}

/// The queue's filter (`""` = all, pending first).
fn appeal_filter(raw: &str) -> &'static str {
    match raw {
        "pending" => "pending",
        "allowed" => "allowed",
        "upheld" => "upheld",
        _ => "",
    }
}

#[derive(Template)]
#[template(path = "admin_appeals.html")]
struct AppealsPage {
    layout: Layout,
    section: &'static str,
    tabs: Vec<Tab>,
    filter: &'static str,
    items: Vec<AppealItem>,
    error: Option<String>,
    error_id: String,
    draft: String,
}

/// One appeal as shown: its text with the detector's findings marked.
fn appeal_item(q: &QueuedAppeal) -> AppealItem {
    let a = &q.appeal;
    let ctx = context_info(&a.context);
    let (label, class) = appeal_state_label(&a.state);
    AppealItem {
        id: a.id.clone(),
        user_id: a.user_id.clone(),
        user_name: q.user_name.clone(),
        segments: marked(&a.text, a.findings.iter().map(|f| (f.start, f.end))),
        context: ctx.label,
        link: ctx.link,
        findings: a
            .findings
            .iter()
            .map(|f| format!("{}「{}」", f.label, f.excerpt))
            .collect(),
        state: label,
        state_class: class,
        pending: a.state == "pending",
        note: a.note.clone(),
        created: jst_rfc3339(&a.created_at),
        decided: a.decided_at.as_deref().map(jst_rfc3339).unwrap_or_default(),
    }
}

async fn appeals_page(
    state: &AppState,
    viewer: &Viewer,
    filter: &'static str,
    error: Option<(String, String, String)>,
) -> Result<AppealsPage, WebError> {
    let items = crate::appeals::queue_named(state, Some(filter))
        .await?
        .iter()
        .map(appeal_item)
        .collect();
    let tabs = [
        ("", "/admin/appeals", "すべて"),
        ("pending", "/admin/appeals?state=pending", "未対応"),
        ("allowed", "/admin/appeals?state=allowed", "認めた"),
        ("upheld", "/admin/appeals?state=upheld", "認めなかった"),
    ]
    .into_iter()
    .map(|(f, href, label)| Tab {
        href,
        label,
        current: f == filter,
    })
    .collect();
    let (error, error_id, draft) = match error {
        Some((message, id, draft)) => (Some(message), id, draft),
        None => (None, String::new(), String::new()),
    };
    Ok(AppealsPage {
        layout: viewer.layout("異議申し立て"),
        section: "appeals",
        tabs,
        filter,
        items,
        error,
        error_id,
        draft,
    })
}

/// The queue's query: `state` filters it (pending, allowed, upheld; anything else is all).
#[derive(Debug, Default, Deserialize)]
pub(super) struct AppealsParams {
    #[serde(default)]
    state: String,
}

/// `GET /admin/appeals[?state=…]`.
pub(super) async fn queue(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(p): PageQuery<AppealsParams>,
) -> PageResult {
    operator(&viewer)?;
    render(&appeals_page(&state, &viewer, appeal_filter(&p.state), None).await?)
}

/// The decision form: `allow` or `uphold`, the note, and the filter to return to.
#[derive(Debug, Deserialize)]
pub(super) struct DecideForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    filter: String,
}

/// `POST /admin/appeals/{id}/decide`: allow or uphold, back to the queue with its filter.
pub(super) async fn decide(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<DecideForm>,
) -> PageResult {
    let op = operator(&viewer)?;
    let filter = appeal_filter(&f.filter);
    let back = if filter.is_empty() {
        "/admin/appeals".to_string()
    } else {
        format!("/admin/appeals?state={filter}")
    };
    match crate::appeals::decide_named(&state, &op, &id, &f.decision, &f.note)
        .await
        .map_err(AppError::from)
    {
        Ok(a) => {
            let flash = if a.state == "allowed" {
                "異議申し立てを認めました。ペナルティを取り消し、送信できる場合は投稿を相手に届けました。"
            } else {
                "異議申し立てを認めませんでした。ブロックはそのままです。"
            };
            Ok(see_other(&back, Some(flash)))
        }
        Err(e) if shown_on_form(&e) => {
            let page = appeals_page(
                &state,
                &viewer,
                filter,
                Some((error_text(&e), id.clone(), f.note)),
            )
            .await?;
            render_status(e.status(), &page)
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn contexts_are_named_and_linked() {
        let c = context_info(&json!({"kind": "order_message", "order_id": "o1"}));
        assert_eq!(c.label, "トークルームのメッセージ");
        assert_eq!(c.link.unwrap().0, "/admin/orders/o1");
        let c = context_info(&json!({"kind": "direct_message", "to_user_id": "u2"}));
        assert_eq!(c.link.unwrap().0, "/admin/users/u2");
        let c = context_info(&json!({"kind": "listing"}));
        assert_eq!(c.label, "サービスの出品内容");
        assert!(c.link.is_none());
        assert_eq!(context_info(&json!({})).label, "不明");
        assert_eq!(context_info(&json!("not a context")).label, "不明");
        assert_eq!(appeal_filter("pending"), "pending");
        assert_eq!(appeal_filter("whatever"), "");
    }

    #[test]
    fn an_appeal_shows_its_findings_marked_and_named() {
        let q = QueuedAppeal {
            appeal: crate::appeals::AppealView {
                id: "a1".into(),
                user_id: "u1".into(),
                text: "連絡はLINEで".into(),
                context: json!({"kind": "order_message", "order_id": "o1"}),
                state: "pending".into(),
                findings: vec![crate::guard::FindingView {
                    kind: "line".into(),
                    label: "LINE".into(),
                    field: "text".into(),
                    start: 3,
                    end: 7,
                    excerpt: "LINE".into(),
                    rule: "line".into(),
                }],
                note: String::new(),
                // 2026-11-23T15:00:00Z, midnight in Japan.
                created_at: "2026-11-24T00:00:00+09:00".into(),
                decided_at: None,
            },
            user_name: "山田".into(),
        };
        let item = appeal_item(&q);
        let parts: Vec<(&str, bool)> = item
            .segments
            .iter()
            .map(|s| (s.text.as_str(), s.mark))
            .collect();
        assert_eq!(
            parts,
            vec![("連絡は", false), ("LINE", true), ("で", false)]
        );
        assert_eq!(item.findings, vec!["LINE「LINE」"]);
        assert_eq!(item.user_name, "山田");
        assert_eq!(item.context, "トークルームのメッセージ");
        assert!(item.pending);
        assert_eq!(item.created, "2026年11月24日 00:00");
        assert!(item.decided.is_empty());
    }
}
