//! SDK errors → [`StoreError`]: throttling is `Throttled`, network trouble, timeouts and 5xx are
//! `Unavailable` (both retryable), everything else is `Backend`. Transaction cancellations are
//! classified per reason, since one cancelled transaction may mean "lost the race" or "retry".

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
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

/// The outcome of a conditional write: true when applied, false when its condition failed
/// (the write lost, nothing changed), an error otherwise.
pub(crate) fn applied<O, E>(
    op: &'static str,
    result: Result<O, SdkError<E, HttpResponse>>,
) -> Result<bool, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(false),
        Err(e) => Err(classify(op, &e)),
    }
}

/// Classifies one SDK error; the message is [`one_line`] (never a secret).
pub(crate) fn classify<E>(op: &'static str, err: &SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let message = one_line(err);
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

/// An SDK error as one readable line: the service's code and message when it answered, else
/// the chain of causes ("dispatch failure: io error: Connection refused", "request has timed
/// out: operation timeout … occurred after 12s"). Not the SDK's `Debug` dump, which spans
/// screens and repeats itself.
pub(crate) fn one_line<E>(err: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    if let SdkError::ServiceError(service) = err {
        let e = service.err();
        if let Some(code) = e.code() {
            let status = service.raw().status().as_u16();
            return match e.message() {
                Some(m) => format!("{code} (HTTP {status}): {m}"),
                None => format!("{code} (HTTP {status})"),
            };
        }
    }
    chain(err)
}

/// `err` and its sources joined by ": ", a part repeating the previous one left out, on one
/// line.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string().replace(['\n', '\r'], " ");
        if parts
            .last()
            .is_none_or(|last| !last.contains(text.as_str()))
        {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
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
