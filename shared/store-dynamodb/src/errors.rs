//! SDK errors → [`StoreError`]: throttling is `Throttled`, network trouble, timeouts and 5xx are
//! `Unavailable` (both retryable), everything else is `Backend`. Transaction cancellations are
//! classified per reason, since one cancelled transaction may mean "lost the race" or "retry".

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::CancellationReason;
use balance_alert_core::store::StoreError;

/// Error codes (service errors and cancellation reasons) that mean "slow down".
const THROTTLING: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ProvisionedThroughputExceeded",
    "ThrottlingException",
    "ThrottlingError",
    "RequestLimitExceeded",
];

/// A mapper for `map_err`: classifies an SDK error of operation `op`.
pub(crate) fn sdk<E>(op: &'static str) -> impl Fn(SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    move |e| classify(op, &e)
}

/// Classifies one SDK error; the message is the SDK's full error chain (never a secret).
pub(crate) fn classify<E>(op: &'static str, err: &SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let message = DisplayErrorContext(err).to_string();
    match err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            StoreError::Unavailable { op, message }
        }
        SdkError::ServiceError(service) => {
            if service.err().code().is_some_and(is_throttling) {
                StoreError::Throttled { op, message }
            } else if service.err().code() == Some("ResourceNotFoundException") {
                StoreError::Backend {
                    op,
                    message: format!(
                        "the table does not exist (or is not in this region): create it with `balance-alert table create --table NAME`, or check AWS_REGION ({message})"
                    ),
                }
            } else if service.raw().status().is_server_error() {
                StoreError::Unavailable { op, message }
            } else {
                StoreError::Backend { op, message }
            }
        }
        _ => StoreError::Backend { op, message },
    }
}

/// Whether an error code or cancellation reason means throttling.
pub(crate) fn is_throttling(code: &str) -> bool {
    THROTTLING.contains(&code)
}

/// What a cancelled transaction means for the write it carried.
#[derive(Debug)]
pub(crate) enum Cancelled {
    /// The first item's condition failed: another write came first. Nothing changed.
    Lost,
    /// A conflict with a concurrent transaction or throttling: the same transaction may succeed.
    Retry(StoreError),
    /// Anything else (validation, item too large): retrying will not help.
    Fatal(StoreError),
}

/// Classifies the reasons of a `TransactionCanceledException`. Reasons are per item, in request
/// order; item 0 is always the conditional one.
pub(crate) fn cancelled(op: &'static str, reasons: &[CancellationReason]) -> Cancelled {
    let codes: Vec<&str> = reasons.iter().map(|r| r.code().unwrap_or("None")).collect();
    let message = format!("transaction cancelled: {codes:?}");
    if codes.first() == Some(&"ConditionalCheckFailed") {
        Cancelled::Lost
    } else if codes.iter().any(|c| is_throttling(c)) {
        Cancelled::Retry(StoreError::Throttled { op, message })
    } else if codes.contains(&"TransactionConflict") {
        Cancelled::Retry(StoreError::Conflict { op, message })
    } else {
        Cancelled::Fatal(StoreError::Backend { op, message })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(codes: &[&str]) -> Vec<CancellationReason> {
        codes
            .iter()
            .map(|c| CancellationReason::builder().code(*c).build())
            .collect()
    }

    #[test]
    fn a_failed_condition_on_the_state_means_the_write_lost() {
        let r = reasons(&["ConditionalCheckFailed", "None", "None"]);
        assert!(matches!(cancelled("t", &r), Cancelled::Lost));
    }

    #[test]
    fn conflicts_and_throttling_are_retried_with_their_own_error_kind() {
        let conflict = cancelled("t", &reasons(&["TransactionConflict", "None"]));
        assert!(matches!(
            conflict,
            Cancelled::Retry(StoreError::Conflict { .. })
        ));
        let throttled = cancelled("t", &reasons(&["None", "ThrottlingError"]));
        assert!(matches!(
            throttled,
            Cancelled::Retry(StoreError::Throttled { .. })
        ));
    }

    #[test]
    fn other_reasons_are_fatal_backend_errors() {
        let r = cancelled("t", &reasons(&["None", "ValidationError"]));
        assert!(matches!(r, Cancelled::Fatal(StoreError::Backend { .. })));
        assert!(matches!(
            cancelled("t", &[]),
            Cancelled::Fatal(StoreError::Backend { .. })
        ));
    }
}
