//! UniAPI: `GET /v1/billing/usage?unit=usd` → `{"success":true,"data":{"balance":…,"used":…}}`,
//! USD (as the Python tool reads it).

use balance_alert_model::{Balance, BalanceKind};
use serde_json::Value;

use super::{amount_at, balance, reported_error, snippet, ParseContext, ProviderError, Simple};

pub struct UniApi;

impl Simple for UniApi {
    fn name(&self) -> &'static str {
        "uniapi"
    }

    fn default_base_url(&self) -> &'static str {
        "https://api.uniapi.io"
    }

    fn path(&self) -> &'static str {
        "/v1/billing/usage?unit=usd"
    }

    fn kind(&self) -> BalanceKind {
        BalanceKind::PrepaidBalance
    }

    fn parse(&self, body: &Value, ctx: &ParseContext<'_>) -> Result<Balance, ProviderError> {
        if body.get("success") != Some(&Value::Bool(true)) {
            let said = ["/message", "/msg", "/error/message", "/error"]
                .iter()
                .find_map(|p| body.pointer(p).and_then(Value::as_str));
            return Err(match said {
                Some(m) => ProviderError::Api {
                    message: snippet(m.as_bytes()),
                },
                None => reported_error(body).unwrap_or(ProviderError::Api {
                    message: "success is not true".into(),
                }),
            });
        }
        let left = amount_at(body, "/data/balance")?;
        balance(
            left,
            ctx.currency.unwrap_or("USD"),
            BalanceKind::PrepaidBalance,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::test_support::ctx;
    use rust_decimal_macros::dec;

    #[test]
    fn balance_in_usd_and_success_false_fails() {
        let body = serde_json::json!({"data": {"balance": 10446.054266, "used": 48280.241632, "cache_used": 0}, "success": true});
        let b = UniApi
            .parse(&body, &ctx("https://api.uniapi.io", None))
            .expect("parses");
        assert_eq!((b.amount, b.currency.as_str()), (dec!(10446.054266), "USD"));
        let failed = serde_json::json!({"success": false, "message": "invalid token"});
        let e = UniApi
            .parse(&failed, &ctx("https://api.uniapi.io", None))
            .expect_err("fails");
        assert!(e.to_string().contains("invalid token"), "{e}");
    }
}
