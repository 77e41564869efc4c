//! How long one store call may take: connect and per-attempt timeouts, a few retries, and an
//! overall deadline, so an endpoint that accepts connections and never answers fails the call
//! (`Unavailable`) instead of hanging its caller.

use std::time::Duration;

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use balance_alert_core::store::StoreError;

/// The variable that sets [`Budget::operation`], in seconds.
pub const TIMEOUT_VAR: &str = "DYNAMODB_TIMEOUT_SECONDS";

/// Default deadline of one store call, retries included.
const OPERATION: Duration = Duration::from_secs(12);
/// Longest wait for one attempt's answer.
const ATTEMPT: Duration = Duration::from_secs(5);
/// Longest wait for a TCP/TLS connection.
const CONNECT: Duration = Duration::from_secs(3);
/// Attempts per call, the first included (the SDK's standard retry mode, with backoff).
const MAX_ATTEMPTS: u32 = 3;

/// The time and attempts one store call may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Time to establish a connection.
    pub connect: Duration,
    /// Time for one attempt (request sent, response read).
    pub attempt: Duration,
    /// Time for the whole call, retries included.
    pub operation: Duration,
    /// Attempts per call, the first included.
    pub max_attempts: u32,
}

impl Default for Budget {
    fn default() -> Self {
        Budget::within(OPERATION)
    }
}

impl Budget {
    /// A call that may take `operation` in all: each attempt gets at most 5 s (and the
    /// connection 3 s), never more than the whole.
    pub fn within(operation: Duration) -> Self {
        let attempt = ATTEMPT.min(operation);
        Budget {
            connect: CONNECT.min(attempt),
            attempt,
            operation,
            max_attempts: MAX_ATTEMPTS,
        }
    }

    /// The default budget, or `DYNAMODB_TIMEOUT_SECONDS` (the deadline of one call) when set.
    pub fn from_env() -> Result<Self, StoreError> {
        match std::env::var(TIMEOUT_VAR) {
            Ok(v) => Self::parse(&v),
            Err(_) => Ok(Budget::default()),
        }
    }

    fn parse(value: &str) -> Result<Self, StoreError> {
        match value.trim().parse::<f64>() {
            Ok(secs) if secs > 0.0 && secs <= 3600.0 => {
                Ok(Budget::within(Duration::from_secs_f64(secs)))
            }
            _ => Err(StoreError::Backend {
                op: "connect",
                message: format!(
                    "{TIMEOUT_VAR}={value:?}: must be a number of seconds above 0 and at most 3600 (default {})",
                    OPERATION.as_secs()
                ),
            }),
        }
    }

    /// The SDK's timeouts for this budget.
    pub fn timeout_config(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect)
            .read_timeout(self.attempt)
            .operation_attempt_timeout(self.attempt)
            .operation_timeout(self.operation)
            .build()
    }

    /// The SDK's retries for this budget.
    pub fn retry_config(&self) -> RetryConfig {
        RetryConfig::standard().with_max_attempts(self.max_attempts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attempt_never_gets_more_than_the_whole_call() {
        let b = Budget::within(Duration::from_secs(1));
        assert_eq!(b.attempt, Duration::from_secs(1));
        assert_eq!(b.connect, Duration::from_secs(1));
        let d = Budget::default();
        assert_eq!(
            (d.connect, d.attempt, d.operation),
            (CONNECT, ATTEMPT, OPERATION)
        );
    }

    #[test]
    fn a_malformed_timeout_names_the_variable() {
        assert_eq!(
            Budget::parse(" 2 ").expect("valid").operation,
            Duration::from_secs(2)
        );
        for bad in ["0", "-1", "soon", "99999"] {
            let e = Budget::parse(bad).expect_err(bad).to_string();
            assert!(e.contains(TIMEOUT_VAR), "{e}");
        }
    }
}
