//! Novita AI: `GET /openapi/v1/billing/balance/detail` → `availableBalance`, a string in
//! 1/10000 USD (`"1000000"` is $100).

use balance_alert_model::{Balance, BalanceKind, Decimal};
use serde_json::Value;

use super::{amount_at, balance, ParseContext, ProviderError, Simple};

pub struct Novita;

impl Simple for Novita {
    fn name(&self) -> &'static str {
        "novita"
    }

    fn default_base_url(&self) -> &'static str {
        "https://api.novita.ai"
    }

    fn path(&self) -> &'static str {
        "/openapi/v1/billing/balance/detail"
    }

    fn kind(&self) -> BalanceKind {
        BalanceKind::PrepaidBalance
    }

    fn parse(&self, body: &Value, ctx: &ParseContext<'_>) -> Result<Balance, ProviderError> {
        let units = amount_at(body, "/availableBalance")?;
        balance(
            units / Decimal::from(10_000),
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
    fn ten_thousandths_of_a_dollar() {
        let body = serde_json::json!({"availableBalance": "1234567", "cashBalance": "800000", "creditLimit": "200000", "pendingCharges": "0", "outstandingInvoices": "0"});
        let b = Novita
            .parse(&body, &ctx("https://api.novita.ai", None))
            .expect("parses");
        assert_eq!((b.amount, b.currency.as_str()), (dec!(123.4567), "USD"));
    }
}
