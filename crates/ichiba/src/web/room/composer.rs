//! The talk room's composer: a message with attachments (multipart, read here with its CSRF
//! token), or the formal delivery when the seller ticks 「正式な納品」.

use axum::extract::{FromRequest, FromRequestParts, Multipart, Path, Request, State};
use axum::http::StatusCode;

use super::super::session::{csrf_ok, form_rejected, request_csrf};
use super::super::{PageResult, Viewer, WebError, see_other};
use super::Answer;
use crate::error::{AppError, FieldErrors};
use crate::orders;
use crate::state::AppState;

/// The composer's multipart form.
#[derive(Default)]
struct Composer {
    csrf: String,
    body: String,
    deliver: bool,
    files: Vec<(String, Vec<u8>)>,
}

/// Reads the composer's form and the CSRF token it must carry.
async fn read_composer(req: Request, state: &AppState) -> Result<(Composer, String), WebError> {
    let (mut parts, body) = req.into_parts();
    let expected = request_csrf(&parts);
    let _ = Viewer::from_request_parts(&mut parts, state).await?;
    let mut multipart = Multipart::from_request(Request::from_parts(parts, body), state)
        .await
        .map_err(|_| bad_upload())?;
    let mut c = Composer::default();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(AppError::PayloadTooLarge.into());
            }
            Err(_) => return Err(bad_upload()),
        };
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" => {
                let filename = field.file_name().unwrap_or_default().to_string();
                let bytes = field.bytes().await.map_err(|e| {
                    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        WebError::App(AppError::PayloadTooLarge)
                    } else {
                        bad_upload()
                    }
                })?;
                if !filename.is_empty() && !bytes.is_empty() {
                    c.files.push((filename, bytes.to_vec()));
                }
            }
            "csrf" | "body" | "deliver" => {
                let raw = field.text().await.map_err(|_| bad_upload())?;
                // The character rule of every text (crate::text), as for URL-encoded forms.
                let text = crate::text::clean(&name, &raw)
                    .map_err(|e| AppError::Validation(FieldErrors::from(e)))?
                    .into_owned();
                match name.as_str() {
                    "csrf" => c.csrf = text,
                    "body" => c.body = text,
                    _ => c.deliver = !text.is_empty(),
                }
            }
            _ => {}
        }
    }
    Ok((c, expected))
}

fn bad_upload() -> WebError {
    WebError::App(AppError::BadRequest {
        code: "malformed_upload",
        message: "送信内容を読み取れませんでした。".into(),
    })
}

pub(super) async fn post_message(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    req: Request,
) -> PageResult {
    let me = viewer.require()?.clone();
    let answer = Answer::new(&state, &viewer, &me, &id);
    let (c, expected) = read_composer(req, &state).await?;
    if !csrf_ok(&expected, &c.csrf) {
        return Err(form_rejected());
    }
    // The order must be visible before anything is stored for it.
    orders::get(&state, &me, &id).await?;
    let mut attachment_ids = Vec::new();
    for (filename, bytes) in &c.files {
        match crate::attachments::save(
            &state.db,
            &state.config.data_dir,
            &me.user_id,
            filename,
            bytes,
            state.clock.now_ms(),
        )
        .await
        {
            Ok(a) => attachment_ids.push(a.id),
            Err(e) => return answer.refused(&c.body, e, "order_message").await,
        }
    }
    let result = if c.deliver {
        orders::deliver(&state, &me, &id, &c.body, attachment_ids)
            .await
            .map(|_| "正式な納品を送りました。購入者の承諾をお待ちください。")
    } else {
        orders::post_text(&state, &me, &id, &c.body, attachment_ids)
            .await
            .map(|_| "メッセージを送信しました。")
    };
    match result {
        Ok(flash) => Ok(see_other(&format!("/orders/{id}#composer"), Some(flash))),
        Err(e) => {
            let context = if c.deliver {
                "delivery"
            } else {
                "order_message"
            };
            answer.refused(&c.body, e, context).await
        }
    }
}
