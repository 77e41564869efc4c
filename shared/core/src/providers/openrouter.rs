//! OpenRouter: `GET /api/v1/credits` → `{"data":{"total_credits":…,"total_usage":…}}`, USD.

use balance_alert_model::{Balance, BalanceKind};
use serde_json::Value;

use super::{amount_at, balance, ParseContext, Provider, ProviderError};

pub struct OpenRouter;

impl Provider for OpenRouter {
    fn name(&self) -> &'static str {
        "openrouter"
    }

    fn default_base_url(&self) -> &'static str {
        "https://openrouter.ai"
    }

    fn path(&self) -> &'static str {
        "/api/v1/credits"
    }

    fn kind(&self) -> BalanceKind {
        BalanceKind::RemainingCredit
    }

    fn parse(&self, body: &Value, _ctx: &ParseContext<'_>) -> Result<Balance, ProviderError> {
        let total = amount_at(body, "/data/total_credits")?;
        let used = amount_at(body, "/data/total_usage")?;
        // Both are bounded when parsed, so the difference cannot overflow.
        balance(total - used, "USD", self.kind())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::test_support::{ctx, fixture};

    #[test]
    fn balance_is_credits_minus_usage_in_usd() {
        let body = fixture(include_str!(
            "../../../../tests/fixtures/openrouter_credits.json"
        ));
        let b = OpenRouter
            .parse(&body, &ctx("https://openrouter.ai", None))
            .expect("parses");
        assert_eq!(
            b.amount,
            rust_decimal_macros::dec!(74.75),
            "exact, not 74.75000000000001"
        );
        assert_eq!(b.currency, "USD");
        assert_eq!(b.kind, BalanceKind::RemainingCredit);
    }

    #[test]
    fn absurd_amounts_are_unparseable_not_a_panic() {
        let err = OpenRouter
            .parse(
                &fixture(r#"{"data":{"total_credits":"79228162514264337593543950335","total_usage":"-1"}}"#),
                &ctx("x", None),
            )
            .expect_err("out of range");
        assert!(err.to_string().contains("is not a number"), "{err}");
    }

    #[test]
    fn a_difference_beyond_the_bound_is_refused_too() {
        let err = OpenRouter
            .parse(
                &fixture(r#"{"data":{"total_credits":1000000000000000,"total_usage":-1}}"#),
                &ctx("x", None),
            )
            .expect_err("out of range");
        assert!(err.to_string().contains("out of range"), "{err}");
    }

    #[test]
    fn missing_usage_is_unparseable_naming_the_field() {
        let err = OpenRouter
            .parse(&fixture(r#"{"data":{"total_credits":5}}"#), &ctx("x", None))
            .expect_err("usage missing");
        assert!(
            err.to_string().contains("missing /data/total_usage"),
            "{err}"
        );
    }
}
