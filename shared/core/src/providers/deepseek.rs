//! DeepSeek: `GET /user/balance` → `balance_infos[]` rows, one per currency, amounts as strings.
//!
//! We report the configured `currency`'s row, else the first row holding funds: never blindly
//! the first row (an empty USD row can precede a funded CNY one).

use balance_alert_model::{Balance, BalanceKind};
use serde_json::Value;

use super::{amount, balance, snippet, ParseContext, Provider, ProviderError};

pub struct DeepSeek;

impl Provider for DeepSeek {
    fn name(&self) -> &'static str {
        "deepseek"
    }

    fn default_base_url(&self) -> &'static str {
        "https://api.deepseek.com"
    }

    fn path(&self) -> &'static str {
        "/user/balance"
    }

    fn kind(&self) -> BalanceKind {
        BalanceKind::PrepaidBalance
    }

    fn parse(&self, body: &Value, ctx: &ParseContext<'_>) -> Result<Balance, ProviderError> {
        let rows = body
            .get("balance_infos")
            .and_then(Value::as_array)
            .ok_or_else(|| ProviderError::Unparseable {
                reason: "missing balance_infos list".into(),
                snippet: snippet(body.to_string().as_bytes()),
            })?;
        let mut parsed = Vec::with_capacity(rows.len());
        for row in rows {
            let currency = row.get("currency").and_then(Value::as_str);
            let total = row.get("total_balance").and_then(amount);
            match (currency, total) {
                (Some(c), Some(t)) => parsed.push((c.to_uppercase(), t)),
                _ => {
                    return Err(ProviderError::Unparseable {
                        reason: "balance_infos row without currency/total_balance".into(),
                        snippet: snippet(row.to_string().as_bytes()),
                    })
                }
            }
        }
        let chosen = match ctx.currency {
            Some(wanted) => parsed
                .iter()
                .find(|(c, _)| c.eq_ignore_ascii_case(wanted))
                .ok_or_else(|| ProviderError::Unparseable {
                    reason: format!(
                        "no {wanted} row (rows: {}); fix the project's currency",
                        parsed
                            .iter()
                            .map(|(c, _)| c.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    snippet: snippet(body.to_string().as_bytes()),
                })?,
            None => parsed
                .iter()
                .find(|(_, t)| *t > 0.0)
                .or_else(|| parsed.first())
                .ok_or_else(|| ProviderError::Unparseable {
                    reason: "balance_infos is empty".into(),
                    snippet: snippet(body.to_string().as_bytes()),
                })?,
        };
        balance(chosen.1, &chosen.0, self.kind())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::test_support::{ctx, fixture};

    fn body() -> Value {
        fixture(include_str!(
            "../../../../tests/fixtures/deepseek_balance.json"
        ))
    }

    #[test]
    fn picks_the_row_with_funds_not_the_first_row() {
        let b = DeepSeek.parse(&body(), &ctx("x", None)).expect("parses");
        assert_eq!((b.amount, b.currency.as_str()), (110.0, "CNY"));
    }

    #[test]
    fn configured_currency_wins_even_when_empty() {
        let b = DeepSeek
            .parse(&body(), &ctx("x", Some("USD")))
            .expect("parses");
        assert_eq!((b.amount, b.currency.as_str()), (0.0, "USD"));
    }

    #[test]
    fn unknown_configured_currency_names_the_rows_available() {
        let err = DeepSeek
            .parse(&body(), &ctx("x", Some("EUR")))
            .expect_err("no EUR row");
        assert!(
            err.to_string().contains("no EUR row (rows: USD, CNY)"),
            "{err}"
        );
    }
}
