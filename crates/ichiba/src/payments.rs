//! The payment gateway seam. The built-in `sandbox` gateway approves every charge except the test
//! token `tok_decline`; a real gateway implements [`PaymentGateway`] the same way.

use futures::future::BoxFuture;

/// Why a charge failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// The card was declined (HTTP 402 `payment_declined`).
    #[error("payment declined")]
    Declined,
    /// The gateway could not be reached or answered an error.
    #[error("payment gateway unavailable: {0}")]
    Unavailable(String),
}

/// Charges a buyer.
pub trait PaymentGateway: Send + Sync + 'static {
    /// Charges `amount_yen` (> 0) with the client's payment token; the same `idempotency_key`
    /// never charges twice. Returns the gateway's charge id.
    fn charge<'a>(
        &'a self,
        amount_yen: i64,
        token: Option<&'a str>,
        idempotency_key: &'a str,
    ) -> BoxFuture<'a, Result<String, PaymentError>>;

    /// The gateway's name, shown in logs.
    fn name(&self) -> &'static str;
}

/// The sandbox: approves everything but `tok_decline`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Sandbox;

/// The token the sandbox declines.
pub const DECLINE_TOKEN: &str = "tok_decline";

impl PaymentGateway for Sandbox {
    fn charge<'a>(
        &'a self,
        _amount_yen: i64,
        token: Option<&'a str>,
        idempotency_key: &'a str,
    ) -> BoxFuture<'a, Result<String, PaymentError>> {
        Box::pin(async move {
            if token == Some(DECLINE_TOKEN) {
                Err(PaymentError::Declined)
            } else {
                Ok(format!("sandbox_{idempotency_key}"))
            }
        })
    }

    fn name(&self) -> &'static str {
        "sandbox"
    }
}
