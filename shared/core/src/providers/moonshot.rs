//! Moonshot (Kimi): `GET /v1/users/me/balance` → `data.available_balance`.
//! api.moonshot.cn bills in CNY, api.moonshot.ai in USD; a configured `currency` overrides.

use balance_alert_model::{Balance, BalanceKind};
use serde_json::Value;

use super::{amount_at, balance, ParseContext, ProviderError, Simple};

pub struct Moonshot;

impl Simple for Moonshot {
    fn name(&self) -> &'static str {
        "moonshot"
    }

    fn default_base_url(&self) -> &'static str {
        "https://api.moonshot.cn"
    }

    fn path(&self) -> &'static str {
        "/v1/users/me/balance"
    }

    fn kind(&self) -> BalanceKind {
        BalanceKind::PrepaidBalance
    }

    fn parse(&self, body: &Value, ctx: &ParseContext<'_>) -> Result<Balance, ProviderError> {
        let available = amount_at(body, "/data/available_balance")?;
        let currency = ctx.currency.unwrap_or_else(|| currency_for(ctx.base_url));
        balance(available, currency, self.kind())
    }
}

/// CNY for the .cn platform, USD for .ai (and anything else that is not .cn).
fn currency_for(base_url: &str) -> &'static str {
    let host = base_url.split("://").nth(1).unwrap_or(base_url);
    let host = host.split(['/', ':']).next().unwrap_or(host);
    if host.ends_with(".ai") {
        "USD"
    } else {
        "CNY"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::test_support::{ctx, fixture};

    #[test]
    fn currency_follows_the_platform_domain() {
        let body = fixture(include_str!(
            "../../../../tests/fixtures/moonshot_balance.json"
        ));
        let cn = Moonshot
            .parse(&body, &ctx("https://api.moonshot.cn", None))
            .expect("parses");
        assert_eq!(
            (cn.amount, cn.currency.as_str()),
            (rust_decimal_macros::dec!(49.58894), "CNY")
        );
        let ai = Moonshot
            .parse(&body, &ctx("https://api.moonshot.ai", None))
            .expect("parses");
        assert_eq!(ai.currency, "USD");
        let forced = Moonshot
            .parse(&body, &ctx("http://127.0.0.1:9", Some("USD")))
            .expect("parses");
        assert_eq!(forced.currency, "USD");
    }
}
