//! HTTP routes of attachments: multipart upload and download.

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};

use super::{AttachmentView, MAX_BYTES};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::extract::ApiMultipart;
use crate::state::AppState;

/// The routes, mounted under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/attachments",
            // The multipart envelope adds a little to the file itself.
            post(upload).layer(DefaultBodyLimit::max(MAX_BYTES + 64 * 1024)),
        )
        .route("/attachments/{id}", get(download))
}

/// Upload a file (multipart field `file`, 20 MB at most).
#[utoipa::path(post, path = "/api/v1/attachments", tag = "messages",
    request_body(content_type = "multipart/form-data", description = "field `file`"),
    responses((status = 201, body = AttachmentView), (status = 413), (status = 422)),
    security(("bearer" = [])))]
pub async fn upload(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiMultipart(mut multipart): ApiMultipart,
) -> Result<(StatusCode, Json<AttachmentView>), AppError> {
    let bad = |message: &str| AppError::BadRequest {
        code: "malformed_upload",
        message: message.into(),
    };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => {
                return Err(bad(
                    "multipart の file フィールドでファイルを送信してください。",
                ));
            }
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(AppError::PayloadTooLarge);
            }
            Err(_) => return Err(bad("アップロードを読み取れませんでした。")),
        };
        if field.name() != Some("file") {
            continue;
        }
        let filename = field.file_name().unwrap_or("file").to_string();
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(AppError::PayloadTooLarge);
            }
            Err(_) => return Err(bad("アップロードを読み取れませんでした。")),
        };
        let view = super::save(
            &state.db,
            &state.config.data_dir,
            &user.user_id,
            &filename,
            &bytes,
            state.clock.now_ms(),
        )
        .await?;
        return Ok((StatusCode::CREATED, Json(view)));
    }
}

/// Download a file: its owner or a member of a thread it was attached in; others get 404.
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "messages",
    params(("id" = String, Path, description = "Attachment id")),
    responses((status = 200, description = "the file"), (status = 404)), security(("bearer" = [])))]
pub async fn download(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (row, bytes) = super::open(&state.db, &state.config.data_dir, &user.user_id, &id).await?;
    file_response(row, bytes)
}

/// The download response of a stored file: always an attachment, never rendered inline.
pub fn file_response(
    row: super::store::AttachmentRow,
    bytes: Vec<u8>,
) -> Result<Response, AppError> {
    let encoded: String = row
        .filename
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    Response::builder()
        .header(header::CONTENT_TYPE, row.content_type)
        // Always a download, never rendered inline: uploaded SVG or HTML cannot run in our origin.
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename*=UTF-8''{encoded}"),
        )
        .header("x-content-type-options", "nosniff")
        .body(Body::from(bytes))
        .map_err(AppError::internal)
}
