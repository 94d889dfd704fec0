//! Direct messages (メッセージ) before a purchase, and the notifications page.

use axum::Router;

use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}
