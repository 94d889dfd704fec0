//! HTTP routes of payouts: the caller's bank account, payout requests, points conversion, and the
//! operators' batch export (the Zengin file) and settlement.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::bank::BankAccountInput;
use super::batch::SettleReport;
use super::points::{self, Converted};
use super::{BankAccountView, PayoutPage, PayoutView};
use crate::auth::{CurrentUser, Operator};
use crate::error::AppError;
use crate::extract::{ApiJson, ApiQuery};
use crate::idempotency;
use crate::state::AppState;

/// The routes, mounted under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/me/bank-account",
            put(put_bank_account)
                .get(get_bank_account)
                .delete(delete_bank_account),
        )
        .route("/payouts", post(request).get(list))
        .route("/me/points/convert", post(convert_points))
        .route("/me/ledger.csv", get(my_ledger_csv))
        .route("/admin/payouts/export", post(export))
        .route("/admin/payouts/settle", post(settle))
        .route("/admin/payouts/batches/{id}", get(batch_detail))
        .route("/admin/payouts/batches/{id}/file", get(batch_file))
}

/// Body of `PUT /me/bank-account`. For ゆうちょ銀行 (bank code 9900) `kigou` and `bangou` may be
/// given instead of `branch_code`, `account_type` and `account_number`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct BankAccountRequest {
    /// 金融機関コード (4 digits).
    pub bank_code: Option<String>,
    /// 支店コード (3 digits).
    pub branch_code: Option<String>,
    /// 預金種目: 1 普通, 2 当座, 4 貯蓄.
    pub account_type: Option<i64>,
    /// 口座番号 (1–7 digits; stored zero-padded to 7).
    pub account_number: Option<String>,
    /// ゆうちょ 記号 (5 digits starting with 1).
    pub kigou: Option<String>,
    /// ゆうちょ 番号 (up to 8 digits, ending in 1).
    pub bangou: Option<String>,
    /// 口座名義 in katakana (full- or half-width; 株式会社 etc. are abbreviated).
    pub holder_kana: Option<String>,
}

impl From<BankAccountRequest> for BankAccountInput {
    fn from(r: BankAccountRequest) -> Self {
        BankAccountInput {
            bank_code: r.bank_code,
            branch_code: r.branch_code,
            account_type: r.account_type,
            account_number: r.account_number,
            kigou: r.kigou,
            bangou: r.bangou,
            holder_kana: r.holder_kana,
        }
    }
}

/// Body of `POST /payouts` and `POST /me/points/convert`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct AmountRequest {
    /// Yen.
    pub amount_yen: i64,
}

/// Query of `GET /payouts`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// Body of `POST /admin/payouts/export`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExportRequest {
    /// 振込指定日, a bank business day: `YYYY-MM-DD`. Every pending payout scheduled on or before
    /// it goes into the file.
    pub pay_date: String,
}

/// Body of `POST /admin/payouts/settle`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SettleRequest {
    /// Payouts the bank paid.
    #[serde(default)]
    pub paid: Vec<String>,
    /// Payouts the bank could not pay.
    #[serde(default)]
    pub failed: Vec<String>,
    /// Why they failed (shown to the sellers).
    #[serde(default)]
    pub reason: Option<String>,
}

/// A batch and its payouts.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchView {
    /// Id.
    pub id: String,
    /// 振込指定日.
    pub pay_date: String,
    /// Number of transfers.
    pub payout_count: i64,
    /// Sum of the transfers.
    pub total_yen: i64,
    /// When exported.
    pub created_at: String,
    /// Operator id, or `cli`.
    pub created_by: String,
    /// The payouts in file order.
    pub payouts: Vec<PayoutView>,
}

/// Register or replace the caller's bank account (振込口座).
#[utoipa::path(put, path = "/api/v1/me/bank-account", tag = "payouts",
    request_body = BankAccountRequest,
    responses((status = 200, body = BankAccountView),
              (status = 422, description = "validation_failed with details.fields")),
    security(("bearer" = [])))]
pub async fn put_bank_account(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<BankAccountRequest>,
) -> Result<Json<BankAccountView>, AppError> {
    let now = state.clock.now_ms();
    Ok(Json(
        super::put_bank_account(&state, &user.user_id, &body.into(), now).await?,
    ))
}

/// The caller's bank account (number masked); 404 when none is registered.
#[utoipa::path(get, path = "/api/v1/me/bank-account", tag = "payouts",
    responses((status = 200, body = BankAccountView), (status = 404)), security(("bearer" = [])))]
pub async fn get_bank_account(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<BankAccountView>, AppError> {
    Ok(Json(
        super::get_bank_account(&state.db, &user.user_id).await?,
    ))
}

/// Remove the caller's bank account.
#[utoipa::path(delete, path = "/api/v1/me/bank-account", tag = "payouts",
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn delete_bank_account(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<StatusCode, AppError> {
    super::delete_bank_account(&state.db, &user.user_id, state.clock.now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Request a payout (振込申請). Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/payouts", tag = "payouts", request_body = AmountRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "repeat-safe key")),
    responses((status = 201, body = PayoutView),
              (status = 409, description = "payout_already_requested"),
              (status = 422, description = "insufficient_earnings, amount_too_small, bank_account_required, bank_account_needs_correction")),
    security(("bearer" = [])))]
pub async fn request(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<AmountRequest>,
) -> Result<(StatusCode, Json<PayoutView>), AppError> {
    let key = idempotency::from_headers(&headers, &user.user_id, "payouts", &json!(body))?;
    let now = state.clock.now_ms();
    let payout = super::request(&state, &user.user_id, body.amount_yen, key, now).await?;
    Ok((StatusCode::CREATED, Json(payout)))
}

/// The caller's payouts, newest first.
#[utoipa::path(get, operation_id = "list_payouts", path = "/api/v1/payouts", tag = "payouts", params(ListParams),
    responses((status = 200, body = PayoutPage), (status = 401)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<PayoutPage>, AppError> {
    Ok(Json(
        super::list(&state.db, &user.user_id, params.cursor.as_deref()).await?,
    ))
}

/// Convert earnings to points (irreversible). Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/me/points/convert", tag = "payouts",
    request_body = AmountRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "repeat-safe key")),
    responses((status = 200, body = Converted), (status = 422)), security(("bearer" = [])))]
pub async fn convert_points(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<AmountRequest>,
) -> Result<Json<Converted>, AppError> {
    let key = idempotency::from_headers(&headers, &user.user_id, "points_convert", &json!(body))?;
    let now = state.clock.now_ms();
    Ok(Json(
        points::convert(&state, &user.user_id, body.amount_yen, key, now).await?,
    ))
}

fn file_response(
    file_name: &str,
    batch_id: &str,
    count: usize,
    total_yen: i64,
    bytes: Vec<u8>,
) -> Response {
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=Shift_JIS"),
    );
    let pairs = [
        (
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file_name}\""),
        ),
        (
            HeaderName::from_static("x-ichiba-batch-id"),
            batch_id.to_string(),
        ),
        (
            HeaderName::from_static("x-ichiba-payout-count"),
            count.to_string(),
        ),
        (
            HeaderName::from_static("x-ichiba-total-yen"),
            total_yen.to_string(),
        ),
    ];
    for (name, value) in pairs {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
    response
}

/// Export the payouts due by a pay date as a Zengin 総合振込 file (operators). They become
/// `exported`; the batch id is in `X-Ichiba-Batch-Id`.
#[utoipa::path(post, path = "/api/v1/admin/payouts/export", tag = "admin",
    request_body = ExportRequest,
    responses((status = 200, content_type = "text/plain", description = "the Zengin file (Shift_JIS)"),
              (status = 403), (status = 422, description = "nothing_to_export, not_a_business_day")),
    security(("bearer" = [])))]
pub async fn export(
    State(state): State<AppState>,
    Operator(op): Operator,
    ApiJson(body): ApiJson<ExportRequest>,
) -> Result<Response, AppError> {
    let b = super::export_batch(&state, &op.user_id, &body.pay_date).await?;
    Ok(file_response(
        &b.file_name(),
        &b.id,
        b.payouts.len(),
        b.total_yen,
        b.file_bytes,
    ))
}

/// Record the bank's result (operators): paid payouts leave the platform, failed ones return to
/// earnings and block the seller's bank account until it is corrected.
#[utoipa::path(post, path = "/api/v1/admin/payouts/settle", tag = "admin",
    request_body = SettleRequest,
    responses((status = 200, body = SettleReport), (status = 403), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn settle(
    State(state): State<AppState>,
    _operator: Operator,
    ApiJson(body): ApiJson<SettleRequest>,
) -> Result<Json<SettleReport>, AppError> {
    Ok(Json(
        super::settle_batch(&state, &body.paid, &body.failed, body.reason.as_deref()).await?,
    ))
}

/// An exported batch and its payouts (operators).
#[utoipa::path(get, path = "/api/v1/admin/payouts/batches/{id}", tag = "admin",
    params(("id" = String, Path)),
    responses((status = 200, body = BatchView), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn batch_detail(
    State(state): State<AppState>,
    _operator: Operator,
    Path(id): Path<String>,
) -> Result<Json<BatchView>, AppError> {
    Ok(Json(super::batch_view(&state.db, &id).await?))
}

/// Download an exported batch's Zengin file again (operators).
#[utoipa::path(get, path = "/api/v1/admin/payouts/batches/{id}/file", tag = "admin",
    params(("id" = String, Path)),
    responses((status = 200, content_type = "text/plain", description = "the Zengin file"),
              (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn batch_file(
    State(state): State<AppState>,
    _operator: Operator,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let f = super::batch_file(&state.db, &id).await?;
    Ok(file_response(
        &f.name,
        &f.batch_id,
        f.payout_count,
        f.total_yen,
        f.bytes,
    ))
}

/// The caller's whole ledger as CSV for 確定申告: UTF-8 with BOM, Japanese headers, oldest first,
/// with each payout's status, fee and net.
#[utoipa::path(get, path = "/api/v1/me/ledger.csv", tag = "ledger",
    responses((status = 200, content_type = "text/csv", body = String), (status = 401)),
    security(("bearer" = [])))]
pub async fn my_ledger_csv(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<impl IntoResponse, AppError> {
    let bytes = super::ledger_csv::of_user(&state.db, &user.user_id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"ichiba-ledger.csv\"",
            ),
        ],
        bytes,
    ))
}
