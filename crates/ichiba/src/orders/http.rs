//! HTTP routes of orders and their talk rooms, and the operators' dispute tool.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{CancelRequestView, Command, OrderState, OrderView, PurchaseRequest};
use crate::auth::{CurrentUser, Operator};
use crate::clock::parse_rfc3339;
use crate::error::{AppError, FieldErrors};
use crate::extract::{ApiJson, ApiQuery};
use crate::messages::{MessagePage, MessageView};
use crate::state::AppState;

/// The routes, mounted under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orders", post(purchase).get(list))
        .route("/orders/{id}", get(detail))
        .route("/orders/{id}/history", get(history))
        .route("/orders/{id}/messages", get(messages).post(post_message))
        .route("/orders/{id}/due-date", put(set_due_date))
        .route("/orders/{id}/deliveries", post(deliver))
        .route("/orders/{id}/accept", post(accept))
        .route("/orders/{id}/send-back", post(send_back))
        .route("/orders/{id}/cancel-requests", post(file_cancel))
        .route(
            "/orders/{id}/cancel-requests/current/accept",
            post(accept_cancel),
        )
        .route(
            "/orders/{id}/cancel-requests/current/reject",
            post(reject_cancel),
        )
        .route(
            "/orders/{id}/cancel-requests/current/withdraw",
            post(withdraw_cancel),
        )
        .route("/admin/orders/{id}/cancel", post(operator_cancel))
        .route("/admin/orders/{id}/complete", post(operator_complete))
        .route("/admin/orders/{id}/settle", post(operator_settle))
}

/// Query of `GET /orders`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `buyer` or `seller`; both when absent.
    pub role: Option<String>,
    /// Only orders in this state.
    pub state: Option<OrderState>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// A page of orders.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderPage {
    /// Newest first.
    pub items: Vec<OrderView>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
}

/// Body of a talk-room post or a delivery.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MessageRequest {
    /// Text, 1–5,000 characters.
    pub body: String,
    /// Attachments uploaded by the poster.
    #[serde(default)]
    pub attachment_ids: Vec<String>,
}

/// Body of `PUT /orders/{id}/due-date`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DueDateRequest {
    /// New due date (RFC 3339 with offset).
    pub due_at: String,
}

/// Body of `POST /orders/{id}/send-back`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SendBackRequest {
    /// Why (posted in the talk room).
    pub reason: String,
}

/// Body of `POST /orders/{id}/cancel-requests`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CancelRequestBody {
    /// `duplicate_purchase`, `switch_service`, `buyer_unreachable`, `buyer_reason`,
    /// `seller_reason`, `schedule_mismatch` or `seller_unresponsive`.
    pub reason_code: String,
    /// Free text.
    #[serde(default)]
    pub note: Option<String>,
}

/// Body of `POST /admin/orders/{id}/settle`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OperatorSettleRequest {
    /// The seller's share of price + options; the buyer gets the rest back.
    pub seller_amount_yen: i64,
}

/// One history entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    /// When.
    pub at: String,
    /// `buyer`, `seller`, `operator` or `system`.
    pub actor: String,
    /// `due_date_changed`, `cancel_requested`, `cancelled`, …
    pub kind: String,
    /// Details.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// The order's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryList {
    /// Oldest first.
    pub items: Vec<HistoryEntry>,
    /// Always `null`.
    pub next_cursor: Option<String>,
}

/// Buy a listing (購入). Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", request_body = PurchaseRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "repeat-safe key")),
    responses((status = 201, body = OrderView), (status = 402, description = "payment_declined"),
              (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn purchase(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PurchaseRequest>,
) -> Result<(StatusCode, Json<OrderView>), AppError> {
    let request = serde_json::to_value(&body).map_err(AppError::internal)?;
    let key = crate::idempotency::from_headers(&headers, &user.user_id, "orders", &request)?;
    let now = state.clock.now_ms();
    let order = super::purchase(&state, &user.user_id, &body, key, now).await?;
    Ok((
        StatusCode::CREATED,
        Json(OrderView::for_user(&order, &user, now)),
    ))
}

/// The caller's orders as buyer and/or seller.
#[utoipa::path(get, operation_id = "list_orders", path = "/api/v1/orders", tag = "orders", params(ListParams),
    responses((status = 200, body = OrderPage)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Json<OrderPage>, AppError> {
    let as_buyer = match p.role.as_deref() {
        None | Some("") => None,
        Some("buyer") => Some(true),
        Some("seller") => Some(false),
        Some(_) => {
            return Err(AppError::BadRequest {
                code: "invalid_role",
                message: "role は buyer または seller を指定してください。".into(),
            });
        }
    };
    let page = super::list(
        &state,
        &user.user_id,
        as_buyer,
        p.state,
        p.cursor.as_deref(),
    )
    .await?;
    let now = state.clock.now_ms();
    Ok(Json(OrderPage {
        items: page
            .orders
            .iter()
            .map(|o| OrderView::for_user(o, &user, now))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One order (parties and operators; others 404).
#[utoipa::path(get, operation_id = "get_order", path = "/api/v1/orders/{id}", tag = "orders",
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, body = OrderView), (status = 404)), security(("bearer" = [])))]
pub async fn detail(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, AppError> {
    let order = super::get(&state, &user, &id).await?;
    Ok(Json(OrderView::for_user(
        &order,
        &user,
        state.clock.now_ms(),
    )))
}

/// The order's history: due-date changes, cancel requests, operator actions.
#[utoipa::path(get, path = "/api/v1/orders/{id}/history", tag = "orders",
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, body = HistoryList), (status = 404)), security(("bearer" = [])))]
pub async fn history(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<HistoryList>, AppError> {
    Ok(Json(HistoryList {
        items: super::history(&state, &user, &id).await?,
        next_cursor: None,
    }))
}

/// The talk room's messages, oldest first.
#[utoipa::path(get, path = "/api/v1/orders/{id}/messages", tag = "orders",
    params(("id" = String, Path, description = "Order id"), crate::messages::http::CursorParams),
    responses((status = 200, body = MessagePage), (status = 404)), security(("bearer" = [])))]
pub async fn messages(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<crate::messages::http::CursorParams>,
) -> Result<Json<MessagePage>, AppError> {
    let (_, thread) = super::talk_room(&state, &user, &id).await?;
    Ok(Json(
        crate::messages::page(&state.db, &thread, &user.user_id, p.cursor.as_deref()).await?,
    ))
}

/// Post in the talk room. The seller's first message starts the work (作業中).
#[utoipa::path(post, path = "/api/v1/orders/{id}/messages", tag = "orders", request_body = MessageRequest,
    params(("id" = String, Path, description = "Order id")),
    responses((status = 201, body = MessageView), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn post_message(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MessageRequest>,
) -> Result<(StatusCode, Json<MessageView>), AppError> {
    let message = super::post_text(&state, &user, &id, &body.body, body.attachment_ids).await?;
    Ok((StatusCode::CREATED, Json(message)))
}

/// Change the due date (seller only; the buyer is notified and the change is kept in history).
#[utoipa::path(put, path = "/api/v1/orders/{id}/due-date", tag = "orders", request_body = DueDateRequest,
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, body = OrderView), (status = 403), (status = 404),
              (status = 409, description = "order_closed, or a state where the due date is fixed"),
              (status = 422)),
    security(("bearer" = [])))]
pub async fn set_due_date(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DueDateRequest>,
) -> Result<Json<OrderView>, AppError> {
    let Some(due_at) = parse_rfc3339(&body.due_at) else {
        let mut f = FieldErrors::new();
        f.add(
            "due_at",
            "invalid_format",
            "日時は RFC 3339 形式（例: 2026-12-01T18:00:00+09:00）で指定してください。",
        );
        return Err(f.into());
    };
    let o = super::act(
        &state,
        &user,
        &id,
        Command::SetDueDate { due_at },
        None,
        state.clock.now_ms(),
    )
    .await?
    .order;
    Ok(Json(OrderView::for_user(&o, &user, state.clock.now_ms())))
}

/// The formal delivery (正式な納品): a message with attachments; the buyer's 72 hours start.
#[utoipa::path(post, path = "/api/v1/orders/{id}/deliveries", tag = "orders", request_body = MessageRequest,
    params(("id" = String, Path, description = "Order id")),
    responses((status = 201, body = OrderView), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn deliver(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MessageRequest>,
) -> Result<(StatusCode, Json<OrderView>), AppError> {
    let o = super::deliver(&state, &user, &id, &body.body, body.attachment_ids).await?;
    Ok((
        StatusCode::CREATED,
        Json(OrderView::for_user(&o, &user, state.clock.now_ms())),
    ))
}

/// Accept the delivery (承諾): the order completes and the seller is paid.
#[utoipa::path(post, path = "/api/v1/orders/{id}/accept", tag = "orders",
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, body = OrderView), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn accept(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, AppError> {
    run_command(&state, &user, &id, Command::Accept).await
}

/// Send the delivery back (差し戻し, once per order); the reason is posted in the talk room.
#[utoipa::path(post, path = "/api/v1/orders/{id}/send-back", tag = "orders", request_body = SendBackRequest,
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, body = OrderView), (status = 409, description = "send_back_limit_reached")),
    security(("bearer" = [])))]
pub async fn send_back(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SendBackRequest>,
) -> Result<Json<OrderView>, AppError> {
    let o = super::send_back(&state, &user, &id, &body.reason).await?;
    Ok(Json(OrderView::for_user(&o, &user, state.clock.now_ms())))
}

/// File a cancel request (the other party has 24 hours to answer).
#[utoipa::path(post, path = "/api/v1/orders/{id}/cancel-requests", tag = "orders", request_body = CancelRequestBody,
    params(("id" = String, Path, description = "Order id")),
    responses((status = 201, body = CancelRequestView), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn file_cancel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CancelRequestBody>,
) -> Result<(StatusCode, Json<CancelRequestView>), AppError> {
    let o = super::file_cancel(&state, &user, &id, &body.reason_code, body.note.as_deref()).await?;
    let req = o.pending_cancel.as_ref().ok_or(AppError::NotFound)?;
    Ok((
        StatusCode::CREATED,
        Json(CancelRequestView::new(&o.id, req)),
    ))
}

/// Runs a command that carries no body and answers with the order.
async fn run_command(
    state: &AppState,
    user: &crate::auth::Identity,
    id: &str,
    c: Command,
) -> Result<Json<OrderView>, AppError> {
    let o = super::act(state, user, id, c, None, state.clock.now_ms())
        .await?
        .order;
    Ok(Json(OrderView::for_user(&o, user, state.clock.now_ms())))
}

/// Accept the other party's cancel request: the order is cancelled and refunded.
#[utoipa::path(post, path = "/api/v1/orders/{id}/cancel-requests/current/accept", tag = "orders",
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, body = OrderView), (status = 403), (status = 409)), security(("bearer" = [])))]
pub async fn accept_cancel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, AppError> {
    run_command(&state, &user, &id, Command::AcceptCancel).await
}

/// Reject the other party's cancel request: the deal goes on.
#[utoipa::path(post, path = "/api/v1/orders/{id}/cancel-requests/current/reject", tag = "orders",
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, body = OrderView), (status = 403), (status = 409)), security(("bearer" = [])))]
pub async fn reject_cancel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, AppError> {
    run_command(&state, &user, &id, Command::RejectCancel).await
}

/// Withdraw your own cancel request.
#[utoipa::path(post, path = "/api/v1/orders/{id}/cancel-requests/current/withdraw", tag = "orders",
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, body = OrderView), (status = 403), (status = 409)), security(("bearer" = [])))]
pub async fn withdraw_cancel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, AppError> {
    run_command(&state, &user, &id, Command::WithdrawCancel).await
}

/// Operator: cancel with a full refund.
#[utoipa::path(post, path = "/api/v1/admin/orders/{id}/cancel", tag = "admin",
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, body = OrderView), (status = 403), (status = 409)), security(("bearer" = [])))]
pub async fn operator_cancel(
    State(state): State<AppState>,
    Operator(op): Operator,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, AppError> {
    run_command(&state, &op, &id, Command::OperatorCancel).await
}

/// Operator: complete the order (the seller is paid).
#[utoipa::path(post, path = "/api/v1/admin/orders/{id}/complete", tag = "admin",
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, body = OrderView), (status = 403), (status = 409)), security(("bearer" = [])))]
pub async fn operator_complete(
    State(state): State<AppState>,
    Operator(op): Operator,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, AppError> {
    run_command(&state, &op, &id, Command::OperatorComplete).await
}

/// Operator: settle with a split (partial refund).
#[utoipa::path(post, path = "/api/v1/admin/orders/{id}/settle", tag = "admin", request_body = OperatorSettleRequest,
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, body = OrderView), (status = 403), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn operator_settle(
    State(state): State<AppState>,
    Operator(op): Operator,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<OperatorSettleRequest>,
) -> Result<Json<OrderView>, AppError> {
    run_command(
        &state,
        &op,
        &id,
        Command::OperatorSettle {
            seller_amount_yen: body.seller_amount_yen,
        },
    )
    .await
}
