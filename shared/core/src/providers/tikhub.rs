//! TikHub: `GET /api/v1/tikhub/user/get_user_info` → `user_data.balance` (USD; `free_credit`
//! is not added: it is not money). Also accepts `data.balance` and a top-level `balance`, as
//! the Python tool does.

use balance_alert_model::{Balance, BalanceKind};
use serde_json::Value;

use super::{amount, balance, snippet, ParseContext, ProviderError, Simple};

pub struct TikHub;

impl Simple for TikHub {
    fn name(&self) -> &'static str {
        "tikhub"
    }

    fn default_base_url(&self) -> &'static str {
        "https://api.tikhub.io"
    }

    fn path(&self) -> &'static str {
        "/api/v1/tikhub/user/get_user_info"
    }

    fn kind(&self) -> BalanceKind {
        BalanceKind::PrepaidBalance
    }

    fn parse(&self, body: &Value, ctx: &ParseContext<'_>) -> Result<Balance, ProviderError> {
        let raw = ["/user_data/balance", "/data/balance", "/balance"]
            .iter()
            .find_map(|p| body.pointer(p))
            .ok_or_else(|| ProviderError::Unparseable {
                reason: "missing user_data.balance".into(),
                snippet: snippet(body.to_string().as_bytes()),
            })?;
        let left = amount(raw).ok_or_else(|| ProviderError::Unparseable {
            reason: "user_data.balance is not a number".into(),
            snippet: snippet(raw.to_string().as_bytes()),
        })?;
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
    fn user_data_balance_without_free_credit() {
        let body = serde_json::json!({"code": 200, "user_data": {"email": "a@b.c", "balance": 99.5, "free_credit": 5}});
        let b = TikHub
            .parse(&body, &ctx("https://api.tikhub.io", None))
            .expect("parses");
        assert_eq!((b.amount, b.currency.as_str()), (dec!(99.5), "USD"));
        let e = TikHub
            .parse(
                &serde_json::json!({"code": 200, "user_data": {}}),
                &ctx("https://api.tikhub.io", None),
            )
            .expect_err("no balance is a failure, not zero");
        assert!(matches!(e, ProviderError::Unparseable { .. }));
    }
}
