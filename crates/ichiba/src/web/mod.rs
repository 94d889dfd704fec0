//! The web app: server-rendered Japanese pages at `/` for buyers, sellers and operators.
//!
//! Every page reads and writes through the same service functions as the JSON API (`listings`,
//! `orders`, `messages`, `reviews`, `payouts`, …); this module only parses forms, renders
//! templates (askama, escaped by default) and redirects. Forms are plain `POST` + `303 See Other`
//! so they work without JavaScript; `assets/app.js` adds live updates (SSE), previews and upload
//! progress.
//!
//! One module per screen: `catalog` (top page, search, listing), `auth` (sign-up, login,
//! profile), `purchase`, `orders_list` (取引管理), `room` (the talk room and its commands),
//! `review`, `messages` (direct messages), `notifications`, `money` (売上, 振込口座),
//! `dashboard` (the seller's) and `admin` (the operator console). Beside them: `live` (the event
//! stream and downloads), `session` (cookies, CSRF, the viewer), `format` (single values in
//! Japanese) and `view` (pieces several screens share).
//!
//! Security: the session is the same token as the API's bearer token, kept in an `HttpOnly`,
//! `SameSite=Lax` cookie (`Secure` when the public URL is `https`). Every form carries a CSRF
//! token that must equal the `ichiba_csrf` cookie (double submit) and, when the browser sends an
//! `Origin`, it must be this site. Responses carry a strict Content-Security-Policy (no inline
//! script or style) and `X-Frame-Options: DENY`.

mod admin;
mod auth;
mod catalog;
mod dashboard;
mod format;
mod live;
mod messages;
mod money;
mod notifications;
mod orders_list;
mod purchase;
mod review;
mod room;
mod session;
mod view;

use askama::Template;
use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::error::AppError;
use crate::state::AppState;

pub use session::{Flash, Viewer};

/// The web routes (mounted at `/` beside `/api/v1`).
pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/assets/app.css", get(css))
        .route("/assets/app.js", get(js))
        .merge(catalog::routes())
        .merge(auth::routes())
        .merge(purchase::routes())
        .merge(orders_list::routes())
        .merge(room::routes())
        .merge(review::routes())
        .merge(live::routes())
        .merge(money::routes())
        .merge(messages::routes())
        .merge(notifications::routes())
        .merge(dashboard::routes())
        .merge(admin::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::layer,
        ))
}

const APP_CSS: &str = include_str!("../../assets/app.css");
const APP_JS: &str = include_str!("../../assets/app.js");

async fn css() -> Response {
    asset("text/css; charset=utf-8", APP_CSS)
}

async fn js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
        ],
        body,
    )
        .into_response()
}

/// What every page's layout shows: the title, the viewer and their counters, the CSRF token, the
/// flash message.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The page title (without the site name).
    pub title: String,
    /// The logged-in user's display name.
    pub user_name: Option<String>,
    /// Whether the viewer is an operator.
    pub is_operator: bool,
    /// Unread notifications.
    pub unread: i64,
    /// The CSRF token for forms.
    pub csrf: String,
    /// A one-time message from the previous request.
    pub flash: Option<String>,
    /// The `data-live` attribute of `<body>`: the page listens to the event stream.
    pub live: bool,
}

/// The `404` page.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    heading: String,
    message: String,
}

/// Why a page could not be shown.
#[derive(Debug)]
pub enum WebError {
    /// The page needs a login; redirect there and come back.
    LoginRequired(String),
    /// Any error of the services (404 for non-parties, 403, 409, …).
    App(AppError),
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        WebError::App(e)
    }
}

/// The feature errors the pages meet, each through its one mapping to [`AppError`].
macro_rules! web_error_from {
    ($($feature:ty),* $(,)?) => {$(
        impl From<$feature> for WebError {
            fn from(e: $feature) -> Self {
                WebError::App(e.into())
            }
        }
    )*};
}

web_error_from!(
    crate::appeals::AppealError,
    crate::guard::GuardError,
    crate::messages::MessageError,
    crate::orders::OrderError,
    crate::reviews::ReviewError,
);

impl From<sqlx::Error> for WebError {
    fn from(e: sqlx::Error) -> Self {
        WebError::App(AppError::internal(e))
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::App(AppError::internal(e))
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let e = match self {
            WebError::LoginRequired(next) => {
                return Redirect::to(&format!("/login?next={}", format::url_encode(&next)))
                    .into_response();
            }
            WebError::App(e) => e,
        };
        let status = e.status();
        let (heading, message) = match &e {
            AppError::NotFound => (
                "ページが見つかりません".to_string(),
                "お探しのページは削除されたか、URLが間違っているか、閲覧する権限がありません。"
                    .to_string(),
            ),
            AppError::Internal(cause) => {
                tracing::error!(error = %cause, "web page failed");
                (
                    "エラーが発生しました".to_string(),
                    "しばらくしてからもう一度お試しください。".to_string(),
                )
            }
            AppError::Restricted { until_at } => (
                "ご利用が制限されています".to_string(),
                format!(
                    "外部誘導と判断される投稿が続いたため、{}まで一部の機能を制限しています。取引中のトークルームは引き続きご利用いただけます。",
                    format::jst_rfc3339(until_at)
                ),
            ),
            // A form rejected before its handler ran (a refused character): name each field.
            AppError::Validation(fields) => (
                "入力内容に誤りがあります".to_string(),
                fields
                    .as_slice()
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            other => ("操作を完了できませんでした".to_string(), other.message()),
        };
        let page = ErrorPage {
            layout: Layout {
                title: heading.clone(),
                user_name: None,
                is_operator: false,
                unread: 0,
                csrf: String::new(),
                flash: None,
                live: false,
            },
            heading,
            message,
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, "エラーが発生しました").into_response(),
        }
    }
}

/// The result of a page handler.
pub type PageResult = Result<Response, WebError>;

/// Whether a service's refusal is shown on the form that was posted (any 4xx but 404) rather
/// than as an error page of its own (404, 5xx).
pub fn shown_on_form(e: &AppError) -> bool {
    e.status().is_client_error() && !matches!(e, AppError::NotFound)
}

/// Renders a template as a 200 page.
pub fn render(t: &impl Template) -> PageResult {
    Ok(Html(t.render()?).into_response())
}

/// Renders a template with a status (422 for a form with errors).
pub fn render_status(status: StatusCode, t: &impl Template) -> PageResult {
    Ok((status, Html(t.render()?)).into_response())
}

/// `303 See Other` to `to`, with a flash message for the next page.
pub fn see_other(to: &str, flash: Option<&str>) -> Response {
    let mut response = Redirect::to(to).into_response();
    if let Some(text) = flash {
        session::set_flash(&mut response, text);
    }
    response
}
