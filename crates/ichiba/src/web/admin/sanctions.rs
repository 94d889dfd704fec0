//! Sanctions (`/admin/sanctions`): every 利用制限 and アカウント停止 in force, grouped by user, and
//! the user page (`/admin/users/{id}`) with that user's sanctions; the operator lifts them with a
//! note the audit log keeps.

use askama::Template;
use axum::extract::{Path, State};
use serde::Deserialize;

use super::{error_text, operator};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::format::{jst_rfc3339, url_encode};
use crate::web::session::CsrfForm;
use crate::web::{
    Layout, PageResult, Viewer, WebError, render, render_status, see_other, shown_on_form,
};

/// Where a console form returns to: a console path, else `fallback`.
fn back_to(back: &str, fallback: &str) -> String {
    if back.starts_with("/admin") && !back.starts_with("//") && !back.contains('\\') {
        back.to_string()
    } else {
        fallback.to_string()
    }
}

/// A sanction as shown.
struct SanctionItem {
    kind: String,
    suspension: bool,
    reason: String,
    starts: String,
    until: String,
}

impl From<&crate::guard::SanctionView> for SanctionItem {
    fn from(s: &crate::guard::SanctionView) -> Self {
        SanctionItem {
            kind: s.kind_label.clone(),
            suspension: s.kind == "suspension",
            reason: s.reason.clone(),
            starts: jst_rfc3339(&s.starts_at),
            until: s
                .until_at
                .as_deref()
                .map(jst_rfc3339)
                .unwrap_or_else(|| "解除されるまで".into()),
        }
    }
}

/// The sanctions of one user (a lift lifts them all).
struct UserSanctions {
    user_id: String,
    user_name: String,
    sanctions: Vec<SanctionItem>,
}

/// Groups sanctions by user, in the order the users first appear.
fn by_user(views: &[crate::guard::SanctionView]) -> Vec<UserSanctions> {
    let mut out: Vec<UserSanctions> = Vec::new();
    for s in views {
        match out.iter_mut().find(|u| u.user_id == s.user_id) {
            Some(u) => u.sanctions.push(SanctionItem::from(s)),
            None => out.push(UserSanctions {
                user_id: s.user_id.clone(),
                user_name: s.user_name.clone(),
                sanctions: vec![SanctionItem::from(s)],
            }),
        }
    }
    out
}

#[derive(Template)]
#[template(path = "admin_sanctions.html")]
struct SanctionsPage {
    layout: Layout,
    section: &'static str,
    users: Vec<UserSanctions>,
    error: Option<String>,
    error_user: String,
    draft: String,
}

async fn sanctions_page(
    state: &AppState,
    viewer: &Viewer,
    error: Option<(String, String, String)>,
) -> Result<SanctionsPage, WebError> {
    let views = crate::guard::sanctions_in_force(&state.db, state.clock.now_ms()).await?;
    let (error, error_user, draft) = match error {
        Some((m, u, d)) => (Some(m), u, d),
        None => (None, String::new(), String::new()),
    };
    Ok(SanctionsPage {
        layout: viewer.layout("利用制限・アカウント停止"),
        section: "sanctions",
        users: by_user(&views),
        error,
        error_user,
        draft,
    })
}

/// `GET /admin/sanctions`.
pub(super) async fn list(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    operator(&viewer)?;
    render(&sanctions_page(&state, &viewer, None).await?)
}

#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserPage {
    layout: Layout,
    section: &'static str,
    user_id: String,
    name: String,
    email: String,
    is_operator: bool,
    sanctions: Vec<SanctionItem>,
    draft: String,
    error: Option<String>,
}

async fn user_view(
    state: &AppState,
    viewer: &Viewer,
    user_id: &str,
    draft: String,
    error: Option<String>,
) -> Result<UserPage, WebError> {
    let profile = crate::accounts::profile(&state.db, user_id)
        .await
        .map_err(AppError::from)?;
    let sanctions = crate::guard::sanctions_of(&state.db, user_id, state.clock.now_ms()).await?;
    Ok(UserPage {
        layout: viewer.layout(format!("ユーザー：{}", profile.display_name)),
        section: "sanctions",
        user_id: profile.id,
        name: profile.display_name,
        email: profile.email,
        is_operator: profile.roles.iter().any(|r| r == "operator"),
        sanctions: sanctions.iter().map(SanctionItem::from).collect(),
        draft,
        error,
    })
}

/// `GET /admin/users/{id}`.
pub(super) async fn user_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> PageResult {
    operator(&viewer)?;
    render(&user_view(&state, &viewer, &id, String::new(), None).await?)
}

/// The lift form: the note for the audit log and where to return.
#[derive(Debug, Deserialize)]
pub(super) struct LiftForm {
    #[serde(default)]
    note: String,
    #[serde(default)]
    back: String,
}

/// `POST /admin/users/{id}/sanctions/lift`: lifts every sanction of the user, back to `back`.
pub(super) async fn lift(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<LiftForm>,
) -> PageResult {
    let op = operator(&viewer)?;
    let user_path = format!("/admin/users/{}", url_encode(&id));
    let back = back_to(&f.back, &user_path);
    match crate::guard::lift_noted(&state, &op, &id, &f.note)
        .await
        .map_err(AppError::from)
    {
        Ok(0) => Ok(see_other(
            &back,
            Some("解除できる利用制限・アカウント停止はありませんでした。"),
        )),
        Ok(n) => Ok(see_other(
            &back,
            Some(&format!(
                "利用制限・アカウント停止を{n}件解除しました。ユーザーに通知しました。"
            )),
        )),
        Err(e) if shown_on_form(&e) => {
            if back == "/admin/sanctions" {
                let page =
                    sanctions_page(&state, &viewer, Some((error_text(&e), id.clone(), f.note)))
                        .await?;
                render_status(e.status(), &page)
            } else {
                let page = user_view(&state, &viewer, &id, f.note, Some(error_text(&e))).await?;
                render_status(e.status(), &page)
            }
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_only_return_inside_the_console() {
        assert_eq!(back_to("/admin/sanctions", "/x"), "/admin/sanctions");
        assert_eq!(back_to("https://evil.example/", "/x"), "/x");
        assert_eq!(back_to("//evil.example", "/x"), "/x");
        assert_eq!(back_to("/orders", "/x"), "/x");
        assert_eq!(back_to("", "/x"), "/x");
    }

    fn sanction(id: &str, user: &str, kind: &str) -> crate::guard::SanctionView {
        crate::guard::SanctionView {
            id: id.into(),
            user_id: user.into(),
            user_name: format!("name-{user}"),
            kind: kind.into(),
            kind_label: "x".into(),
            reason: "r".into(),
            starts_at: "2026-01-01T00:00:00Z".into(),
            until_at: None,
        }
    }

    #[test]
    fn sanctions_are_grouped_by_user_in_order() {
        let groups = by_user(&[
            sanction("s1", "u1", "suspension"),
            sanction("s2", "u2", "restriction"),
            sanction("s3", "u1", "restriction"),
        ]);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].user_id, "u1");
        assert_eq!(groups[0].sanctions.len(), 2);
        assert!(groups[0].sanctions[0].suspension);
        assert_eq!(groups[0].sanctions[0].until, "解除されるまで");
        assert_eq!(groups[1].user_name, "name-u2");
    }
}
