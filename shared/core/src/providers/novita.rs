//! Novita AI: `GET /openapi/v1/billing/balance/detail` (Bearer) → strings in 1/10000 USD
//! (`"1000000"` is $100): `availableBalance` (what the account can spend: `cashBalance` plus
//! the `creditLimit`), read by default; option `figure: "cash"` reads `cashBalance` alone (see
//! [`super::credit`]).

use balance_alert_model::{Balance, BalanceKind, Decimal};
use serde_json::Value;

use super::credit::{self, Parts};
use super::{
    amount, amount_at, interpret, Http, OptionProblem, Options, Provider, ProviderError,
    ReadRequest,
};
use crate::project::ProjectConfig;

pub struct Novita;

#[async_trait::async_trait]
impl Provider for Novita {
    fn name(&self) -> &'static str {
        "novita"
    }

    fn default_base_url(&self) -> &'static str {
        "https://api.novita.ai"
    }

    fn kind(&self, _: &ProjectConfig) -> BalanceKind {
        BalanceKind::PrepaidBalance
    }

    fn check_options(&self, p: &ProjectConfig) -> Vec<OptionProblem> {
        let mut out = Vec::new();
        credit::check(&p.options, &mut out);
        out
    }

    async fn read(&self, http: &Http, req: &ReadRequest<'_>) -> Result<Balance, ProviderError> {
        let reply = http
            .send(
                http.get(&req.url("/openapi/v1/billing/balance/detail"))
                    .bearer_auth(req.api_key),
            )
            .await?;
        let body = reply.json()?;
        interpret(&body, |b| {
            parse(b, req.options(), req.currency.unwrap_or("USD"))
        })
    }
}

fn parse(body: &Value, o: &Options, currency: &str) -> Result<Balance, ProviderError> {
    let unit = Decimal::from(10_000);
    let dollars = |k: &str| body.get(k).and_then(amount).map(|d| d / unit);
    credit::reading(
        o,
        Parts {
            available: amount_at(body, "/availableBalance")? / unit,
            cash: dollars("cashBalance").map(|d| (d, "cashBalance")),
            credit: dollars("creditLimit"),
            currency,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use serde_json::json;

    #[test]
    fn ten_thousandths_of_a_dollar() {
        let body = json!({"availableBalance": "1234567", "cashBalance": "800000", "creditLimit": "0", "pendingCharges": "0", "outstandingInvoices": "0"});
        let b = parse(&body, &Options::of(json!({})), "USD").expect("parses");
        assert_eq!((b.amount, b.currency.as_str()), (dec!(123.4567), "USD"));
        assert_eq!(b.note, None, "no credit line, nothing to say");
    }

    #[test]
    fn the_credit_limit_inside_available_is_named_and_cash_can_be_watched_alone() {
        // GIVEN the documented body: 100 available = 80 cash + 20 credit limit
        let body: Value = serde_json::from_str(include_str!(
            "../../../../tests/fixtures/novita_balance_detail.json"
        ))
        .expect("fixture");
        let b = parse(&body, &Options::of(json!({})), "USD").expect("available");
        assert_eq!(b.amount, dec!(100));
        assert_eq!(
            b.note.as_deref(),
            Some("includes a 20.00 USD credit line; cash 80.00 USD (figure \"cash\" alerts on cash alone)")
        );
        let c = parse(&body, &Options::of(json!({"figure": "cash"})), "USD").expect("cash");
        assert_eq!(c.amount, dec!(80));
    }
}
