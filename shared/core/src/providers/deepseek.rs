//! DeepSeek: `GET /user/balance` → `balance_infos[]` rows, one per currency, amounts as strings.
//!
//! We report the configured `currency`'s row, else the row with a non-zero balance (a debt
//! counts), else the currency the account was last seen in: never blindly the first row (an
//! empty USD row can precede a funded or overdrawn CNY one).

use balance_alert_model::{Balance, BalanceKind, Decimal};
use serde_json::Value;

use super::{amount, balance, snippet, ParseContext, ProviderError, Simple};

pub struct DeepSeek;

impl Simple for DeepSeek {
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
            None => choose_row(&parsed, ctx.last_currency).ok_or_else(|| {
                ProviderError::Unparseable {
                    reason: "balance_infos is empty".into(),
                    snippet: snippet(body.to_string().as_bytes()),
                }
            })?,
        };
        balance(chosen.1, &chosen.0, self.kind())
    }
}

/// The account's row without a configured currency: a negative one first (a debt is never
/// hidden, whatever the other rows hold), else one with a non-zero balance, preferring the
/// currency the account was last seen in when several qualify; when every row is zero, the
/// last-seen currency's row, else the first.
fn choose_row<'a>(
    rows: &'a [(String, Decimal)],
    last: Option<&str>,
) -> Option<&'a (String, Decimal)> {
    let is_last = |c: &str| last.is_some_and(|l| c.eq_ignore_ascii_case(l));
    let negative: Vec<&(String, Decimal)> = rows
        .iter()
        .filter(|(_, t)| t.is_sign_negative() && !t.is_zero())
        .collect();
    let non_zero: Vec<&(String, Decimal)> = if negative.is_empty() {
        rows.iter().filter(|(_, t)| !t.is_zero()).collect()
    } else {
        negative
    };
    non_zero
        .iter()
        .find(|(c, _)| is_last(c))
        .or_else(|| non_zero.first())
        .copied()
        .or_else(|| rows.iter().find(|(c, _)| is_last(c)))
        .or_else(|| rows.first())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::test_support::{ctx, fixture};
    use rust_decimal_macros::dec;

    fn body() -> Value {
        fixture(include_str!(
            "../../../../tests/fixtures/deepseek_balance.json"
        ))
    }

    #[test]
    fn picks_the_row_with_funds_not_the_first_row() {
        let b = DeepSeek.parse(&body(), &ctx("x", None)).expect("parses");
        assert_eq!((b.amount, b.currency.as_str()), (dec!(110), "CNY"));
    }

    fn rows(usd: &str, cny: &str) -> Value {
        serde_json::json!({"is_available": true, "balance_infos": [
            {"currency": "USD", "total_balance": usd, "granted_balance": "0.00", "topped_up_balance": usd},
            {"currency": "CNY", "total_balance": cny, "granted_balance": "0.00", "topped_up_balance": cny}
        ]})
    }

    #[test]
    fn a_negative_balance_is_never_hidden_behind_an_empty_row() {
        let b = DeepSeek
            .parse(&rows("0.00", "-5.00"), &ctx("x", None))
            .expect("parses");
        assert_eq!((b.amount, b.currency.as_str()), (dec!(-5), "CNY"));
    }

    #[test]
    fn an_account_that_ran_dry_stays_in_its_currency() {
        let mut c = ctx("x", None);
        c.last_currency = Some("CNY");
        let b = DeepSeek.parse(&rows("0.00", "0.00"), &c).expect("parses");
        assert_eq!((b.amount, b.currency.as_str()), (dec!(0), "CNY"));
        // A debt in one currency is never hidden by funds in another.
        let b = DeepSeek
            .parse(&rows("5.00", "-5.00"), &ctx("x", None))
            .expect("parses");
        assert_eq!((b.amount, b.currency.as_str()), (dec!(-5), "CNY"));
        // Two funded rows: the account's own currency, not the first row.
        let b = DeepSeek.parse(&rows("3.00", "7.00"), &c).expect("parses");
        assert_eq!((b.amount, b.currency.as_str()), (dec!(7), "CNY"));
    }

    #[test]
    fn configured_currency_wins_even_when_empty() {
        let b = DeepSeek
            .parse(&body(), &ctx("x", Some("USD")))
            .expect("parses");
        assert_eq!((b.amount, b.currency.as_str()), (dec!(0), "USD"));
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
