//! The talk room's commands posted as forms: 承諾, 差し戻し, the due date, cancel requests (file,
//! accept, reject, withdraw) and appeals against a blocked post.

use axum::extract::{Path, State};
use serde::Deserialize;

use super::super::session::{CsrfForm, NoFields};
use super::super::view::APPEALED;
use super::super::{PageResult, Viewer, see_other};
use super::Answer;
use crate::error::AppError;
use crate::orders::{self, Command};
use crate::state::AppState;

pub(super) async fn accept(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    let me = viewer.require()?.clone();
    let result = orders::act(
        &state,
        &me,
        &id,
        Command::Accept,
        None,
        state.clock.now_ms(),
    )
    .await;
    let flash = "承諾しました。取引が完了しました。評価をお願いします。";
    Answer::new(&state, &viewer, &me, &id)
        .after(result, flash)
        .await
}

#[derive(Debug, Deserialize)]
pub(super) struct SendBackForm {
    #[serde(default)]
    reason: String,
}

pub(super) async fn send_back(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<SendBackForm>,
) -> PageResult {
    let me = viewer.require()?.clone();
    let result = orders::send_back(&state, &me, &id, &f.reason).await;
    let flash = "差し戻しました。出品者からの再納品をお待ちください。";
    Answer::new(&state, &viewer, &me, &id)
        .keeping(result, flash, &f.reason, "send_back")
        .await
}

#[derive(Debug, Deserialize)]
pub(super) struct DueDateForm {
    #[serde(default)]
    due_date: String,
}

pub(super) async fn due_date(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<DueDateForm>,
) -> PageResult {
    let me = viewer.require()?.clone();
    // The end of the chosen day, Japan time.
    let due_at = chrono::NaiveDate::parse_from_str(f.due_date.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(23, 59, 0))
        .map(|t| t.and_utc().timestamp_millis() - 9 * 3_600_000);
    let Some(due_at) = due_at else {
        let e = AppError::Rule {
            code: "invalid_date",
            message: "お届け予定日を正しく選んでください。".into(),
            details: serde_json::json!({}),
        };
        return Answer::new(&state, &viewer, &me, &id)
            .refused("", e, "order_message")
            .await;
    };
    let now = state.clock.now_ms();
    let result = orders::act(&state, &me, &id, Command::SetDueDate { due_at }, None, now).await;
    let flash = "お届け予定日を変更しました。購入者に通知されます。";
    Answer::new(&state, &viewer, &me, &id)
        .after(result, flash)
        .await
}

#[derive(Debug, Deserialize)]
pub(super) struct CancelForm {
    #[serde(default)]
    reason_code: String,
    #[serde(default)]
    note: String,
}

pub(super) async fn file_cancel(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<CancelForm>,
) -> PageResult {
    let me = viewer.require()?.clone();
    let result = orders::file_cancel(&state, &me, &id, &f.reason_code, Some(&f.note)).await;
    let flash = "キャンセルを申請しました。相手の回答をお待ちください（24時間以内に回答がない場合は成立します）。";
    Answer::new(&state, &viewer, &me, &id)
        .keeping(result, flash, &f.note, "cancel_note")
        .await
}

pub(super) async fn answer_cancel(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, action)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    let me = viewer.require()?.clone();
    let (command, flash) = match action.as_str() {
        "accept" => (Command::AcceptCancel, "キャンセルに同意しました。"),
        "reject" => (Command::RejectCancel, "キャンセルをお断りしました。"),
        "withdraw" => (Command::WithdrawCancel, "キャンセル申請を取り下げました。"),
        _ => return Err(AppError::NotFound.into()),
    };
    let result = orders::act(&state, &me, &id, command, None, state.clock.now_ms()).await;
    Answer::new(&state, &viewer, &me, &id)
        .after(result, flash)
        .await
}

#[derive(Debug, Deserialize)]
pub(super) struct AppealForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    context: String,
    #[serde(default)]
    order_id: String,
}

pub(super) async fn appeal(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(f): CsrfForm<AppealForm>,
) -> PageResult {
    let me = viewer.require()?.clone();
    let order_id = f.order_id.clone();
    let context = match f.context.as_str() {
        "delivery" => crate::guard::Context::Delivery { order_id },
        "send_back" => crate::guard::Context::SendBack { order_id },
        "cancel_note" => crate::guard::Context::CancelNote { order_id },
        _ => crate::guard::Context::OrderMessage { order_id },
    };
    // Only a party may appeal about a talk room.
    orders::get(&state, &me, &f.order_id).await?;
    crate::appeals::file(&state, &me.user_id, &f.text, &context).await?;
    Ok(see_other(
        &format!("/orders/{}", f.order_id),
        Some(APPEALED),
    ))
}
