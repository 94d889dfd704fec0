//! Cookies of the web app: the session, the CSRF token, the flash message; the security headers
//! every web response carries; the viewer extractor and the CSRF-checked form extractor.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, COOKIE, HOST, ORIGIN, REFERRER_POLICY, SET_COOKIE,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cookie::{Cookie, SameSite};
use rand::RngCore;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::{Layout, WebError};
use crate::accounts;
use crate::auth::Identity;
use crate::error::AppError;
use crate::state::AppState;

/// The session cookie: the same token the API takes as a bearer token.
pub const SESSION_COOKIE: &str = "ichiba_session";
/// The CSRF cookie (double submit).
pub const CSRF_COOKIE: &str = "ichiba_csrf";
/// A one-time message for the next page.
pub const FLASH_COOKIE: &str = "ichiba_flash";

/// The policy for every web response: nothing inline, nothing from elsewhere.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
frame-ancestors 'none'";

/// The request's CSRF token (from its cookie, or freshly made by the layer).
#[derive(Debug, Clone)]
struct CsrfToken(String);

/// The flash message that arrived with the request.
#[derive(Debug, Clone)]
pub struct Flash(pub Option<String>);

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| Cookie::split_parse(v.to_string()))
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn is_token(s: &str) -> bool {
    s.len() == 43
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn cookie_header(c: Cookie<'_>) -> Option<HeaderValue> {
    HeaderValue::from_str(&c.to_string()).ok()
}

fn build_cookie(
    name: &'static str,
    value: String,
    secure: bool,
    max_age_secs: i64,
) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build()
}

/// Whether an `Origin` header (when the browser sent one) names this site.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let Some(host) = headers.get(HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(host))
}

/// Middleware of every web route: CSRF cookie, flash cookie, origin check, security headers.
pub async fn layer(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let secure = state.config.secure_cookies;
    let existing = cookie_value(req.headers(), CSRF_COOKIE).filter(|t| is_token(t));
    let fresh = existing.is_none();
    let csrf = existing.unwrap_or_else(new_token);
    let flash_in = cookie_value(req.headers(), FLASH_COOKIE);
    let flash = flash_in
        .as_deref()
        .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
        .and_then(|b| String::from_utf8(b).ok());
    req.extensions_mut().insert(CsrfToken(csrf.clone()));
    req.extensions_mut().insert(Flash(flash));
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD);
    let mut response = if unsafe_method && !same_origin(req.headers()) {
        axum::response::IntoResponse::into_response(WebError::App(AppError::Forbidden {
            code: "cross_site",
            message: "別のサイトから送信されたため受け付けませんでした。".into(),
        }))
    } else {
        next.run(req).await
    };
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if fresh
        && let Some(v) = cookie_header(build_cookie(CSRF_COOKIE, csrf, secure, 60 * 60 * 24 * 30))
    {
        headers.append(SET_COOKIE, v);
    }
    let flash_out = response.extensions_mut().remove::<FlashOut>();
    let flash_cookie = match flash_out {
        Some(FlashOut(text)) => Some(build_cookie(
            FLASH_COOKIE,
            URL_SAFE_NO_PAD.encode(text.as_bytes()),
            secure,
            60,
        )),
        None if flash_in.is_some() => Some(build_cookie(FLASH_COOKIE, String::new(), secure, 0)),
        None => None,
    };
    if let Some(v) = flash_cookie.and_then(cookie_header) {
        response.headers_mut().append(SET_COOKIE, v);
    }
    response
}

/// A flash message for the next page (turned into a cookie by [`layer`]).
#[derive(Debug, Clone)]
struct FlashOut(String);

/// Sets the flash message shown by the next page.
pub fn set_flash(response: &mut Response, text: &str) {
    response.extensions_mut().insert(FlashOut(text.to_string()));
}

/// Sets the session cookie after a login.
pub fn set_session(response: &mut Response, token: &str, secure: bool, max_age_secs: i64) {
    if let Some(v) = cookie_header(build_cookie(
        SESSION_COOKIE,
        token.to_string(),
        secure,
        max_age_secs,
    )) {
        response.headers_mut().append(SET_COOKIE, v);
    }
}

/// Removes the session cookie.
pub fn clear_session(response: &mut Response, secure: bool) {
    if let Some(v) = cookie_header(build_cookie(SESSION_COOKIE, String::new(), secure, 0)) {
        response.headers_mut().append(SET_COOKIE, v);
    }
}

/// Who is looking at the page, with what the layout needs.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The logged-in user.
    pub identity: Option<Identity>,
    /// The session token (for logout).
    pub token: Option<String>,
    /// Display name of the logged-in user.
    pub name: Option<String>,
    /// Unread notifications.
    pub unread: i64,
    /// The CSRF token.
    pub csrf: String,
    /// The flash message.
    pub flash: Option<String>,
    /// The path and query asked for (for the login redirect).
    pub path: String,
    /// Whether cookies are `Secure`.
    pub secure: bool,
}

impl Viewer {
    /// The logged-in user, or a redirect to the login page that comes back here.
    pub fn require(&self) -> Result<&Identity, WebError> {
        self.identity
            .as_ref()
            .ok_or_else(|| WebError::LoginRequired(self.path.clone()))
    }

    /// The layout of a page with this title.
    pub fn layout(&self, title: impl Into<String>) -> Layout {
        Layout {
            title: title.into(),
            user_name: self.name.clone(),
            is_operator: self.identity.as_ref().is_some_and(|i| i.is_operator),
            unread: self.unread,
            csrf: self.csrf.clone(),
            flash: self.flash.clone(),
            live: self.identity.is_some(),
        }
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let csrf = parts
            .extensions
            .get::<CsrfToken>()
            .map(|t| t.0.clone())
            .unwrap_or_default();
        let flash = parts.extensions.get::<Flash>().and_then(|f| f.0.clone());
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let token = cookie_value(&parts.headers, SESSION_COOKIE);
        let identity = match &token {
            Some(t) => crate::auth::authenticate(&state.db, t, state.clock.now_ms()).await?,
            None => None,
        };
        let (name, unread) = match &identity {
            Some(i) => {
                let profile = accounts::profile(&state.db, &i.user_id)
                    .await
                    .map_err(AppError::from)?;
                let mut conn = state.db.pool().acquire().await?;
                let unread =
                    crate::notifications::store::unread_count(&mut conn, &i.user_id).await?;
                (Some(profile.display_name), unread)
            }
            None => (None, 0),
        };
        Ok(Viewer {
            token: identity.as_ref().and(token),
            identity,
            name,
            unread,
            csrf,
            flash,
            path,
            secure: state.config.secure_cookies,
        })
    }
}

/// Compares a submitted CSRF token with the request's cookie in constant time.
pub fn csrf_ok(parts_token: &str, submitted: &str) -> bool {
    // Comparing digests keeps the time independent of where the strings differ.
    !parts_token.is_empty() && Sha256::digest(parts_token) == Sha256::digest(submitted)
}

/// The CSRF token of a request (for handlers that parse their own body, such as multipart).
pub fn request_csrf(parts: &Parts) -> String {
    parts
        .extensions
        .get::<CsrfToken>()
        .map(|t| t.0.clone())
        .unwrap_or_default()
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// A URL-encoded form whose `csrf` field matches the CSRF cookie.
#[derive(Debug)]
pub struct CsrfForm<T>(pub T);

/// A form with nothing but its CSRF token (a button): `CsrfForm<NoFields>`.
#[derive(Debug, Deserialize)]
pub struct NoFields {}

/// The answer to a form that failed the CSRF check (or could not be read).
pub(super) fn form_rejected() -> WebError {
    WebError::App(AppError::Forbidden {
        code: "csrf_failed",
        message:
            "フォームの有効期限が切れました。ページを再読み込みしてから、もう一度お試しください。"
                .into(),
    })
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, WebError> {
        let (parts, body) = req.into_parts();
        let expected = request_csrf(&parts);
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|_| WebError::App(AppError::PayloadTooLarge))?;
        let field: CsrfField = serde_urlencoded::from_bytes(&bytes).map_err(|_| form_rejected())?;
        if !csrf_ok(&expected, &field.csrf) {
            return Err(form_rejected());
        }
        // The character rule of every text (crate::text): a refused character shows the field's
        // error; line breaks arrive as `\n`.
        let encoded = std::str::from_utf8(&bytes).map_err(|_| malformed_form())?;
        let cleaned = crate::text::clean_urlencoded(encoded).map_err(AppError::from)?;
        let value = serde_urlencoded::from_str(&cleaned).map_err(|_| malformed_form())?;
        Ok(CsrfForm(value))
    }
}

fn malformed_form() -> WebError {
    WebError::App(AppError::BadRequest {
        code: "malformed_form",
        message: "フォームの内容を読み取れませんでした。".into(),
    })
}

/// A page's query string: every value passes the character rule of [`crate::text`], then it is
/// read into `T`; a rejection is the web app's error page (the API's is [`crate::extract::ApiQuery`]).
#[derive(Debug)]
pub struct PageQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for PageQuery<T> {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, WebError> {
        let query = parts.uri.query().unwrap_or_default();
        let cleaned = crate::text::clean_urlencoded(query).map_err(AppError::from)?;
        serde_urlencoded::from_str(&cleaned)
            .map(PageQuery)
            .map_err(|_| {
                WebError::App(AppError::BadRequest {
                    code: "malformed_query",
                    message: "URL のパラメータを読み取れませんでした。".into(),
                })
            })
    }
}

/// The status of a page that rejects a form (kept here so handlers share it).
pub const FORM_INVALID: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;
