//! The API's wire types: every JSON shape the server sends or accepts, defined once for the
//! server, the Lambda functions and the SPA. Amounts are exact decimals serialised as JSON
//! numbers. With the `openapi` feature they also describe themselves for the OpenAPI document.

mod config;
mod credits;
mod health;
mod history;
mod subscriptions;

pub use config::*;
pub use credits::*;
pub use health::*;
pub use history::*;
pub use subscriptions::*;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{AlertRecord, BalanceKind, CheckReport, Decimal};

/// Unix seconds as RFC 3339 UTC, the Python tool's timestamp format.
pub fn iso(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// One balance reading kept for history and trends.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BalancePoint {
    pub project_id: String,
    pub project_name: String,
    pub provider: String,
    /// Exact, as read.
    pub balance: Decimal,
    /// The threshold that applied then.
    pub threshold: Decimal,
    pub currency: String,
    /// Unix seconds.
    pub timestamp: i64,
    /// How the figure was arrived at (a budget's spend, an estimate's basis, other currencies
    /// held).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Computed from a recorded figure (the manual adapter), not read from the provider.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub estimate: bool,
    /// The key has no limit: `balance` is what it used, and no threshold applies.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unlimited: bool,
}

/// Every error response: `{"status":"error","message":"…"}`, with `"retry_after":<seconds>`
/// on a 429. The server writes it and the dashboard reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Always `error`. (Read leniently: an API Gateway answer such as a throttled
    /// `{"message":"Too Many Requests"}` has only the message.)
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub status: String,
    /// What went wrong and how to fix it.
    pub message: String,
    /// Seconds to wait before trying again (429 answers only; also the `Retry-After` header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl ErrorBody {
    /// The body of an error saying `message`.
    pub fn new(message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            status: "error".to_owned(),
            message: message.into(),
            retry_after: None,
        }
    }

    /// The same body telling the client to wait `seconds` first (a 429).
    pub fn retry_after(self, seconds: u64) -> ErrorBody {
        ErrorBody {
            retry_after: Some(seconds),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_read_and_write_what_the_server_sends() {
        // Literals as the server's `ApiError` answers them today (shared/api/src/error.rs).
        let plain = r#"{"status":"error","message":"internal error; see the server log"}"#;
        let cooling = r#"{"status":"error","message":"refresh is cooling down: try again in 42 s","retry_after":42}"#;
        let body: ErrorBody = serde_json::from_str(plain).expect("plain error");
        assert_eq!(body, ErrorBody::new("internal error; see the server log"));
        assert_eq!(serde_json::to_string(&body).expect("json"), plain);
        let body: ErrorBody = serde_json::from_str(cooling).expect("429 error");
        assert_eq!(body.retry_after, Some(42));
        assert_eq!(
            serde_json::to_string(
                &ErrorBody::new("refresh is cooling down: try again in 42 s").retry_after(42)
            )
            .expect("json"),
            cooling
        );
    }

    #[test]
    fn an_error_body_without_a_status_keeps_its_message() {
        let body: ErrorBody =
            serde_json::from_str(r#"{"message":"Too Many Requests"}"#).expect("gateway error");
        assert_eq!(body.message, "Too Many Requests");
    }

    #[cfg(feature = "openapi")]
    #[test]
    fn the_schemas_subscription_bounds_are_the_models() {
        use crate::subscription::bounds;
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(SubscriptionInput::schema()).expect("schema");
        let field = |name: &str| &schema["properties"][name];
        let range = |name: &str| {
            let f = field(name);
            (f["minimum"].as_f64(), f["maximum"].as_f64())
        };
        let expect = |(lo, hi): (u32, u32)| (Some(f64::from(lo)), Some(f64::from(hi)));
        assert_eq!(range("renewal_day"), expect(bounds::RENEWAL_DAY));
        assert_eq!(range("interval_days"), expect(bounds::INTERVAL_DAYS));
        assert_eq!(
            field("alert_days_before")["maximum"].as_f64(),
            Some(f64::from(bounds::ALERT_DAYS_BEFORE.1))
        );
    }

    #[cfg(feature = "openapi")]
    #[test]
    fn the_schema_of_an_error_body_requires_status_and_message() {
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(ErrorBody::schema()).expect("schema");
        assert_eq!(schema["required"], serde_json::json!(["status", "message"]));
    }
}
