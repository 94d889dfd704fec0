//! Sign-up, login, logout and the profile.

use super::session::PageQuery;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Deserialize;

use super::session::{CsrfForm, FORM_INVALID, NoFields, clear_session, set_session};
use super::{Layout, PageResult, Viewer, render, render_status, see_other};
use crate::accounts::{self, LoginPolicy, Registration};
use crate::error::AppError;
use crate::extract::ClientAddr;
use crate::state::AppState;

/// The routes of sign-up, login, logout and the profile.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/signup", get(signup_form).post(signup))
        .route("/login", get(login_form).post(login))
        .route("/logout", axum::routing::post(logout))
        .route("/profile", get(profile_form).post(profile))
}

/// Only local paths are followed after a login (no open redirect).
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_string()
    } else {
        "/".to_string()
    }
}

/// Field errors of a form, by field name.
#[derive(Debug, Default)]
pub struct Errors {
    pub general: Option<String>,
    fields: Vec<(String, String)>,
}

impl Errors {
    /// From a service error: field errors go to their fields, anything else is general.
    pub fn from_app(e: &AppError) -> Errors {
        match e {
            AppError::Validation(f) => Errors {
                general: Some(e.message()),
                fields: f
                    .as_slice()
                    .iter()
                    .map(|x| (x.field.clone(), x.message.clone()))
                    .collect(),
            },
            other => Errors {
                general: Some(other.message()),
                fields: vec![],
            },
        }
    }

    /// The message of one field (empty when it is fine).
    pub fn of(&self, field: &str) -> String {
        self.fields
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage {
    layout: Layout,
    display_name: String,
    email: String,
    next: String,
    errors: Errors,
}

#[derive(Debug, Default, Deserialize)]
struct NextParam {
    #[serde(default)]
    next: String,
}

async fn signup_form(viewer: Viewer, PageQuery(p): PageQuery<NextParam>) -> PageResult {
    render(&SignupPage {
        layout: viewer.layout("会員登録"),
        display_name: String::new(),
        email: String::new(),
        next: p.next,
        errors: Errors::default(),
    })
}

#[derive(Debug, Deserialize)]
struct SignupForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

async fn signup(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientAddr(addr): ClientAddr,
    CsrfForm(f): CsrfForm<SignupForm>,
) -> PageResult {
    let registered = accounts::sign_up(
        &state,
        Registration {
            email: f.email.clone(),
            password: f.password.clone(),
            display_name: f.display_name.clone(),
        },
    )
    .await;
    if let Err(e) = registered {
        if e.status().is_server_error() {
            return Err(e.into());
        }
        return render_status(
            FORM_INVALID,
            &SignupPage {
                layout: viewer.layout("会員登録"),
                display_name: f.display_name,
                email: f.email,
                next: f.next,
                errors: Errors::from_app(&e),
            },
        );
    }
    Ok(start_session(
        &state,
        &viewer,
        &addr,
        &f.email,
        &f.password,
        &f.next,
        "会員登録が完了しました。ようこそ ichiba へ！",
    )
    .await?)
}

/// Logs in and answers with the session cookie and a redirect to `next` (a local path).
async fn start_session(
    state: &AppState,
    viewer: &Viewer,
    addr: &str,
    email: &str,
    password: &str,
    next: &str,
    flash: &str,
) -> Result<axum::response::Response, AppError> {
    let policy = LoginPolicy::default();
    let now = state.clock.now_ms();
    let session = accounts::login(&state.db, &policy, now, email, password, addr).await?;
    let mut response = see_other(&safe_next(next), Some(flash));
    set_session(
        &mut response,
        &session.token,
        viewer.secure,
        policy.session_ttl_ms / 1000,
    );
    Ok(response)
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    email: String,
    next: String,
    error: Option<String>,
}

async fn login_form(viewer: Viewer, PageQuery(p): PageQuery<NextParam>) -> PageResult {
    if viewer.identity.is_some() {
        return Ok(see_other(&safe_next(&p.next), None));
    }
    render(&LoginPage {
        layout: viewer.layout("ログイン"),
        email: String::new(),
        next: p.next,
        error: None,
    })
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

async fn login(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientAddr(addr): ClientAddr,
    CsrfForm(f): CsrfForm<LoginForm>,
) -> PageResult {
    let started = start_session(
        &state,
        &viewer,
        &addr,
        &f.email,
        &f.password,
        &f.next,
        "ログインしました。",
    )
    .await;
    match started {
        Ok(response) => Ok(response),
        Err(e) if e.status().is_client_error() => {
            let status = e.status();
            render_status(
                status,
                &LoginPage {
                    layout: viewer.layout("ログイン"),
                    email: f.email,
                    next: f.next,
                    error: Some(e.message()),
                },
            )
        }
        Err(e) => Err(e.into()),
    }
}

async fn logout(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    if let Some(token) = &viewer.token {
        accounts::logout(&state.db, token).await?;
    }
    let mut response = see_other("/", Some("ログアウトしました。"));
    clear_session(&mut response, viewer.secure);
    Ok(response.into_response())
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    layout: Layout,
    display_name: String,
    bio: String,
    email: String,
    restriction: Option<String>,
    errors: Errors,
}

async fn profile_form(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    let me = viewer.require()?;
    let p = accounts::profile(&state.db, &me.user_id)
        .await
        .map_err(AppError::from)?;
    let standing = crate::guard::standing(&state.db, &me.user_id, state.clock.now_ms()).await?;
    render(&ProfilePage {
        layout: viewer.layout("プロフィール"),
        display_name: p.display_name,
        bio: p.bio,
        email: p.email,
        restriction: standing.map(|s| s.reason),
        errors: Errors::default(),
    })
}

#[derive(Debug, Deserialize)]
struct ProfileForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    bio: String,
}

async fn profile(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(f): CsrfForm<ProfileForm>,
) -> PageResult {
    let me = viewer.require()?;
    match accounts::edit_profile(&state, &me.user_id, Some(&f.display_name), Some(&f.bio)).await {
        Ok(_) => Ok(see_other("/profile", Some("プロフィールを保存しました。"))),
        Err(e) if e.status().is_client_error() => {
            let p = accounts::profile(&state.db, &me.user_id)
                .await
                .map_err(AppError::from)?;
            render_status(
                e.status(),
                &ProfilePage {
                    layout: viewer.layout("プロフィール"),
                    display_name: f.display_name,
                    bio: f.bio,
                    email: p.email,
                    restriction: None,
                    errors: Errors::from_app(&e),
                },
            )
        }
        Err(e) => Err(e.into()),
    }
}
