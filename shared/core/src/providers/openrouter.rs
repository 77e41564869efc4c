//! OpenRouter. With a management key, `GET /api/v1/credits` → `{"data":{"total_credits":…,
//! "total_usage":…}}`, USD: the account's credits. An ordinary key gets 403 there: then `GET
//! /api/v1/key` → `data.limit_remaining` (the key's own spending limit; `null` = no limit: the
//! usage is reported and no threshold applies). When both are readable, the spendable figure is
//! the lower of the two.

use balance_alert_model::{Balance, BalanceKind, Decimal};
use serde_json::Value;

use super::{
    amount, amount_at, balance, interpret, Http, ParseContext, Provider, ProviderError, ReadRequest,
};
use crate::project::ProjectConfig;

pub struct OpenRouter;

impl OpenRouter {
    /// The account's credits from a `/credits` body.
    pub(crate) fn parse(
        &self,
        body: &Value,
        _ctx: &ParseContext<'_>,
    ) -> Result<Balance, ProviderError> {
        let total = amount_at(body, "/data/total_credits")?;
        let used = amount_at(body, "/data/total_usage")?;
        // Both are bounded when parsed, so the difference cannot overflow.
        balance(total - used, "USD", BalanceKind::RemainingCredit)
    }
}

/// The key's limit from a `/key` body: `(limit, limit_remaining, usage)`, limits `None` when
/// the key has none.
fn key_limit(body: &Value) -> Result<(Option<Decimal>, Option<Decimal>, Decimal), ProviderError> {
    let data = body.get("data").ok_or_else(|| ProviderError::Unparseable {
        reason: "missing /data".into(),
        snippet: super::snippet(body.to_string().as_bytes()),
    })?;
    let usage = data.get("usage").and_then(amount).unwrap_or_default();
    let limit = data.get("limit").and_then(amount);
    let remaining = match data.get("limit_remaining") {
        None | Some(Value::Null) => limit.map(|l| l - usage),
        Some(v) => Some(amount(v).ok_or_else(|| ProviderError::Unparseable {
            reason: "/data/limit_remaining is not a number".into(),
            snippet: super::snippet(v.to_string().as_bytes()),
        })?),
    };
    Ok((limit, remaining, usage))
}

#[async_trait::async_trait]
impl Provider for OpenRouter {
    fn name(&self) -> &'static str {
        "openrouter"
    }

    fn default_base_url(&self) -> &'static str {
        "https://openrouter.ai"
    }

    fn kind(&self, _: &ProjectConfig) -> BalanceKind {
        BalanceKind::RemainingCredit
    }

    async fn read(&self, http: &Http, req: &ReadRequest<'_>) -> Result<Balance, ProviderError> {
        let ctx = req.parse_context();
        let credits = match http
            .send(
                http.get(&req.url("/api/v1/credits"))
                    .bearer_auth(req.api_key),
            )
            .await?
            .json()
        {
            Ok(body) => Some(interpret(&body, |b| self.parse(b, &ctx))?),
            // Not a management key: the key's own limit is what we can read.
            Err(ProviderError::Auth { status: 403 }) => None,
            Err(e) => return Err(e),
        };
        let key = http
            .send(http.get(&req.url("/api/v1/key")).bearer_auth(req.api_key))
            .await
            .and_then(|r| r.json())
            .and_then(|body| interpret(&body, key_limit));
        match (credits, key) {
            (Some(account), Ok((Some(limit), Some(left), _))) if left < account.amount => Ok(
                balance(left, "USD", BalanceKind::RemainingCredit)?.with_note(format!(
                    "the key's limit: {} of {} USD left (account credits {})",
                    left.round_dp(2).normalize(),
                    limit.round_dp(2).normalize(),
                    account.amount.round_dp(2).normalize()
                )),
            ),
            (Some(account), _) => Ok(account),
            (None, Ok((Some(limit), Some(left), _))) => {
                Ok(
                    balance(left, "USD", BalanceKind::RemainingCredit)?.with_note(format!(
                "the key's limit: {} of {} USD left (the account's credits need a management key)",
                left.round_dp(2).normalize(),
                limit.round_dp(2).normalize()
            )),
                )
            }
            (None, Ok((_, _, usage))) => {
                let mut b = balance(usage, "USD", BalanceKind::RemainingCredit)?.with_note(format!(
                    "no limit on this key; used {} USD (the account's credits need a management key)",
                    usage.round_dp(2).normalize()
                ));
                b.unlimited = true;
                Ok(b)
            }
            (None, Err(e)) => Err(e),
        }
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
        let (limit, left, usage) = key_limit(&fixture(
            r#"{"data":{"limit":null,"limit_remaining":null,"usage":12.5}}"#,
        ))
        .expect("key");
        assert_eq!(
            (limit, left, usage),
            (None, None, rust_decimal_macros::dec!(12.5))
        );
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
