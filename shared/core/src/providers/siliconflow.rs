//! SiliconFlow: `GET /v1/user/info` → `{"code":20000,"data":{"totalBalance":"88.88"}}`, CNY.
//! Errors arrive as HTTP 200 with another `code`.

use balance_alert_model::{Balance, BalanceKind};
use serde_json::Value;

use super::{amount_at, balance, ParseContext, ProviderError, Simple};

pub struct SiliconFlow;

impl Simple for SiliconFlow {
    fn name(&self) -> &'static str {
        "siliconflow"
    }

    fn default_base_url(&self) -> &'static str {
        "https://api.siliconflow.cn"
    }

    fn path(&self) -> &'static str {
        "/v1/user/info"
    }

    fn kind(&self) -> BalanceKind {
        BalanceKind::PrepaidBalance
    }

    fn parse(&self, body: &Value, ctx: &ParseContext<'_>) -> Result<Balance, ProviderError> {
        let code = body.get("code").and_then(Value::as_i64);
        if code != Some(20000) {
            let message = body
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("no message");
            return Err(ProviderError::Api {
                message: format!(
                    "code {} ({})",
                    code.map_or("missing".into(), |c| c.to_string()),
                    message
                ),
            });
        }
        let total = amount_at(body, "/data/totalBalance")?;
        balance(
            total,
            ctx.currency.unwrap_or("CNY"),
            BalanceKind::PrepaidBalance,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::test_support::{ctx, fixture};

    #[test]
    fn total_balance_string_is_read_in_cny() {
        let body = fixture(include_str!(
            "../../../../tests/fixtures/siliconflow_user_info.json"
        ));
        let b = SiliconFlow.parse(&body, &ctx("x", None)).expect("parses");
        assert_eq!(
            (b.amount, b.currency.as_str()),
            (rust_decimal_macros::dec!(88.88), "CNY")
        );
    }

    #[test]
    fn non_20000_code_is_a_provider_error_even_with_http_200() {
        let err = SiliconFlow
            .parse(
                &fixture(r#"{"code":30001,"message":"Unauthorized","data":null}"#),
                &ctx("x", None),
            )
            .expect_err("error code");
        assert_eq!(
            err.to_string(),
            "provider reported an error: code 30001 (Unauthorized)"
        );
    }
}
