//! What the order services answer instead of an order: [`OrderError`], and the one mapping of it
//! (and of the engine's [`DealError`] and the ledger's refusals) to the HTTP error of API.md.

use serde_json::json;

use super::model::DealError;
use crate::error::{AppError, FieldErrors};
use crate::guard::GuardError;
use crate::idempotency::IdempotencyError;
use crate::ledger::{LedgerError, LedgerStoreError};
use crate::messages::MessageError;
use crate::payments::PaymentError;

/// What can go wrong with an order: a purchase, a command on the talk room, a timer, a read.
#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    /// The engine refused the command (403 / 409 / 422 with the engine's own code).
    #[error(transparent)]
    Deal(#[from] DealError),
    /// The contact guard refused a text, or a sanction blocks the purchase.
    #[error(transparent)]
    Guard(#[from] GuardError),
    /// The message posted with a command could not be stored (an attachment that is not the
    /// poster's, …).
    #[error(transparent)]
    Message(#[from] MessageError),
    /// No such order (or listing on sale, or talk room), or the caller may not see it.
    #[error("order not found")]
    NotFound,
    /// Field validation failed (a text's length, a cancel reason).
    #[error("invalid input")]
    Invalid(FieldErrors),
    /// A chosen option is not one of the listing's.
    #[error("unknown option")]
    UnknownOption,
    /// Negative points asked for.
    #[error("negative points")]
    NegativePoints,
    /// More points asked for than the buyer holds.
    #[error("insufficient points")]
    InsufficientPoints,
    /// The payment gateway declined the card, or could not be reached.
    #[error(transparent)]
    Payment(#[from] PaymentError),
    /// The purchase's idempotency key was reused with another body, or its record failed.
    #[error(transparent)]
    Idempotency(#[from] IdempotencyError),
    /// A ledger transfer of the decision failed.
    #[error(transparent)]
    Ledger(#[from] LedgerStoreError),
    /// Another command changed the order first; nothing was written.
    #[error("order changed concurrently")]
    ConcurrentUpdate,
    /// A page cursor this server did not make.
    #[error("invalid cursor")]
    InvalidCursor,
    /// The recorded result of an earlier purchase with the same key could not be read.
    #[error("unreadable purchase record")]
    UnreadablePurchase,
    /// Database failure.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

fn rule(code: &'static str, message: &str) -> AppError {
    AppError::Rule {
        code,
        message: message.into(),
        details: json!({}),
    }
}

impl From<OrderError> for AppError {
    fn from(e: OrderError) -> Self {
        match e {
            OrderError::Deal(e) => e.into(),
            OrderError::Guard(e) => e.into(),
            OrderError::Message(e) => e.into(),
            OrderError::NotFound => AppError::NotFound,
            OrderError::Invalid(fields) => AppError::Validation(fields),
            OrderError::UnknownOption => rule(
                "unknown_option",
                "選択されたオプションはこのサービスにありません。",
            ),
            OrderError::NegativePoints => {
                rule("invalid_points", "利用ポイントは0以上で指定してください。")
            }
            OrderError::InsufficientPoints => {
                rule("insufficient_points", "保有ポイントが不足しています。")
            }
            OrderError::Payment(PaymentError::Declined) => AppError::PaymentDeclined,
            OrderError::Payment(e @ PaymentError::Unavailable(_)) => AppError::internal(e),
            OrderError::Idempotency(e) => e.into(),
            OrderError::Ledger(e) => e.into(),
            OrderError::ConcurrentUpdate => AppError::Conflict {
                code: "concurrent_update",
                message:
                    "取引の状態が同時に更新されました。画面を更新してからもう一度お試しください。"
                        .into(),
            },
            OrderError::InvalidCursor => AppError::invalid_cursor(),
            OrderError::UnreadablePurchase => AppError::internal("unreadable purchase record"),
            OrderError::Db(e) => AppError::internal(e),
        }
    }
}

impl From<DealError> for AppError {
    fn from(e: DealError) -> Self {
        match e {
            DealError::NotAllowed { code, message } => AppError::Forbidden { code, message },
            DealError::Conflict { code, message } => AppError::Conflict { code, message },
            DealError::Invalid { code, message } => AppError::Rule {
                code,
                message,
                details: json!({}),
            },
        }
    }
}

impl From<LedgerStoreError> for AppError {
    fn from(e: LedgerStoreError) -> Self {
        match e {
            LedgerStoreError::Ledger(LedgerError::InsufficientFunds(_)) => {
                rule("insufficient_funds", "残高が不足しています。")
            }
            LedgerStoreError::Ledger(e @ LedgerError::Unbalanced { .. }) => AppError::internal(e),
            LedgerStoreError::Db(e) => AppError::internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;

    fn variant(e: &OrderError) -> usize {
        match e {
            OrderError::Deal(_) => 0,
            OrderError::Guard(_) => 1,
            OrderError::Message(_) => 2,
            OrderError::NotFound => 3,
            OrderError::Invalid(_) => 4,
            OrderError::UnknownOption => 5,
            OrderError::NegativePoints => 6,
            OrderError::InsufficientPoints => 7,
            OrderError::Payment(_) => 8,
            OrderError::Idempotency(_) => 9,
            OrderError::Ledger(_) => 10,
            OrderError::ConcurrentUpdate => 11,
            OrderError::InvalidCursor => 12,
            OrderError::UnreadablePurchase => 13,
            OrderError::Db(_) => 14,
        }
    }

    #[test]
    fn every_order_error_maps_to_its_status_and_code() {
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        let internal = StatusCode::INTERNAL_SERVER_ERROR;
        let mut fields = FieldErrors::new();
        fields.add(
            "reason_code",
            "unknown_reason",
            "キャンセル理由が正しくありません。",
        );
        let samples = vec![
            (
                OrderError::Deal(DealError::not_allowed("seller_only", "出品者のみです。")),
                StatusCode::FORBIDDEN,
                "seller_only",
            ),
            (
                OrderError::Deal(DealError::conflict("not_delivered", "納品前です。")),
                StatusCode::CONFLICT,
                "not_delivered",
            ),
            (
                OrderError::Deal(DealError::invalid("due_in_past", "過去の日付です。")),
                unprocessable,
                "due_in_past",
            ),
            (
                OrderError::Guard(GuardError::Suspended),
                StatusCode::FORBIDDEN,
                "account_suspended",
            ),
            (
                OrderError::Guard(GuardError::Blocked {
                    findings: vec![],
                    strikes_24h: 1,
                    restricted_until: None,
                    labels: vec!["LINE".into()],
                }),
                unprocessable,
                "off_platform_contact",
            ),
            (
                OrderError::Message(MessageError::UnknownAttachment),
                unprocessable,
                "validation_failed",
            ),
            (OrderError::NotFound, StatusCode::NOT_FOUND, "not_found"),
            (
                OrderError::Invalid(fields),
                unprocessable,
                "validation_failed",
            ),
            (OrderError::UnknownOption, unprocessable, "unknown_option"),
            (OrderError::NegativePoints, unprocessable, "invalid_points"),
            (
                OrderError::InsufficientPoints,
                unprocessable,
                "insufficient_points",
            ),
            (
                OrderError::Payment(PaymentError::Declined),
                StatusCode::PAYMENT_REQUIRED,
                "payment_declined",
            ),
            (
                OrderError::Payment(PaymentError::Unavailable("timeout".into())),
                internal,
                "internal_error",
            ),
            (
                OrderError::Idempotency(IdempotencyError::Reused),
                StatusCode::CONFLICT,
                "idempotency_key_reused",
            ),
            (
                OrderError::Idempotency(IdempotencyError::Store("gone".into())),
                internal,
                "internal_error",
            ),
            (
                OrderError::Ledger(LedgerError::InsufficientFunds("escrow:o1".into()).into()),
                unprocessable,
                "insufficient_funds",
            ),
            (
                OrderError::Ledger(
                    LedgerError::Unbalanced {
                        key: "order:o1:release".into(),
                        sum: 1,
                    }
                    .into(),
                ),
                internal,
                "internal_error",
            ),
            (
                OrderError::Ledger(sqlx::Error::RowNotFound.into()),
                internal,
                "internal_error",
            ),
            (
                OrderError::ConcurrentUpdate,
                StatusCode::CONFLICT,
                "concurrent_update",
            ),
            (
                OrderError::InvalidCursor,
                StatusCode::BAD_REQUEST,
                "invalid_cursor",
            ),
            (OrderError::UnreadablePurchase, internal, "internal_error"),
            (
                OrderError::Db(sqlx::Error::RowNotFound),
                internal,
                "internal_error",
            ),
        ];
        crate::error::mapping::check(samples, variant, 15);
    }

    #[test]
    fn the_purchase_rules_explain_themselves_in_japanese() {
        let message = |e: OrderError| AppError::from(e).message();
        assert_eq!(
            message(OrderError::UnknownOption),
            "選択されたオプションはこのサービスにありません。"
        );
        assert_eq!(
            message(OrderError::NegativePoints),
            "利用ポイントは0以上で指定してください。"
        );
        assert_eq!(
            message(OrderError::InsufficientPoints),
            "保有ポイントが不足しています。"
        );
    }
}
