//! DeepSeek: `GET /user/balance` → `balance_infos[]` rows, one per currency, amounts as strings.
//!
//! We report the configured `currency`'s row. Without one: a debt first (never hidden), else,
//! when several rows hold funds, a row not below the threshold (the project is LOW only when
//! every funded row is), else the lowest funded row, else the row with a non-zero balance,
//! else the currency the account was last seen in: never blindly the first row (an empty USD
//! row can precede a funded or overdrawn CNY one). The other funded rows go in the note
//! ("also 500.00 CNY").
//!
//! `is_available: false` means the balance cannot be used for API calls (DeepSeek's own
//! verdict, e.g. what is left does not cover a call): the check fails with that reason, never
//! reads as a figure that could be "ok".

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
                    // Say which: a missing field and an amount out of range need other fixes.
                    let reason = match (currency, row.get("total_balance")) {
                        (Some(_), Some(v)) if !v.is_null() => format!(
                            "balance_infos total_balance {} is not an amount (a number up to 1e15)",
                            snippet(v.to_string().as_bytes())
                        ),
                        _ => "balance_infos row without currency/total_balance".to_owned(),
                    };
                    return Err(ProviderError::Unparseable {
                        reason,
                        snippet: snippet(row.to_string().as_bytes()),
                    });
                }
            }
        }
        if body.get("is_available") == Some(&Value::Bool(false)) {
            return Err(unavailable(&parsed));
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
            None => {
                let chosen =
                    choose_row(&parsed, ctx.last_currency, ctx.threshold).ok_or_else(|| {
                        ProviderError::Unparseable {
                            reason: "balance_infos is empty".into(),
                            snippet: snippet(body.to_string().as_bytes()),
                        }
                    })?;
                let others: Vec<String> = parsed
                    .iter()
                    .filter(|r| !std::ptr::eq(*r, chosen) && r.1 > Decimal::ZERO)
                    .map(|(c, t)| format!("{t:.2} {c}"))
                    .collect();
                let b = balance(chosen.1, &chosen.0, self.kind())?;
                return Ok(if others.is_empty() {
                    b
                } else {
                    b.with_note(format!("also {}", others.join(", ")))
                });
            }
        };
        balance(chosen.1, &chosen.0, self.kind())
    }
}

/// DeepSeek says the balance cannot pay for API calls, whatever the rows hold.
fn unavailable(rows: &[(String, Decimal)]) -> ProviderError {
    let held = rows
        .iter()
        .map(|(c, t)| format!("{t:.2} {c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let held = if held.is_empty() {
        String::new()
    } else {
        format!(" (balance {held})")
    };
    ProviderError::Api {
        message: format!(
            "DeepSeek reports is_available: false: the balance cannot be used for API calls{held}; \
             top up the account at platform.deepseek.com"
        ),
    }
}

/// The account's row without a configured currency: a negative one first (a debt is never
/// hidden, whatever the other rows hold); with several funded rows and a `threshold`, one not
/// below it, else the lowest; else one with a non-zero balance. The currency the account was
/// last seen in is preferred when several qualify; when every row is zero, the last-seen
/// currency's row, else the first.
fn choose_row<'a>(
    rows: &'a [(String, Decimal)],
    last: Option<&str>,
    threshold: Option<Decimal>,
) -> Option<&'a (String, Decimal)> {
    let is_last = |c: &str| last.is_some_and(|l| c.eq_ignore_ascii_case(l));
    let funded: Vec<&(String, Decimal)> = rows.iter().filter(|(_, t)| *t > Decimal::ZERO).collect();
    let in_debt = rows
        .iter()
        .any(|(_, t)| t.is_sign_negative() && !t.is_zero());
    if let (Some(threshold), false, true) = (threshold, in_debt, funded.len() > 1) {
        // LOW only when every funded row is below the threshold.
        let enough: Vec<&(String, Decimal)> = funded
            .iter()
            .copied()
            .filter(|(_, t)| *t >= threshold)
            .collect();
        return enough
            .iter()
            .find(|(c, _)| is_last(c))
            .or_else(|| enough.first())
            .copied()
            .or_else(|| funded.iter().copied().min_by_key(|(_, t)| *t));
    }
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
    fn an_amount_out_of_range_is_named_as_such_not_as_a_missing_field() {
        let e = DeepSeek
            .parse(&rows("1e30", "1.00"), &ctx("x", None))
            .expect_err("out of range");
        let text = e.to_string();
        assert!(
            text.contains("total_balance \"1e30\" is not an amount"),
            "{text}"
        );
        let e = DeepSeek
            .parse(
                &serde_json::json!({"balance_infos": [{"currency": "USD"}]}),
                &ctx("x", None),
            )
            .expect_err("missing");
        assert!(e.to_string().contains("row without currency/total_balance"));
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
        assert_eq!(b.note.as_deref(), Some("also 3.00 USD"));
    }

    fn with_threshold(t: Decimal) -> ParseContext<'static> {
        let mut c = ctx("x", None);
        c.threshold = Some(t);
        c
    }

    #[test]
    fn two_funded_rows_without_a_currency_show_a_row_above_the_threshold() {
        // GIVEN USD 20 and CNY 500, threshold 100, no configured currency
        let b = DeepSeek
            .parse(&rows("20.00", "500.00"), &with_threshold(dec!(100)))
            .expect("parses");
        // THEN the figure is the row not below the threshold, the other one in the note
        assert_eq!((b.amount, b.currency.as_str()), (dec!(500), "CNY"));
        assert_eq!(b.note.as_deref(), Some("also 20.00 USD"));
    }

    #[test]
    fn two_funded_rows_all_below_the_threshold_show_the_lowest() {
        let b = DeepSeek
            .parse(&rows("20.00", "50.00"), &with_threshold(dec!(100)))
            .expect("parses");
        assert_eq!((b.amount, b.currency.as_str()), (dec!(20), "USD"));
        assert_eq!(b.note.as_deref(), Some("also 50.00 CNY"));
    }

    #[test]
    fn a_configured_currency_uses_its_row_even_when_another_is_funded() {
        let mut c = with_threshold(dec!(100));
        c.currency = Some("USD");
        let b = DeepSeek
            .parse(&rows("20.00", "500.00"), &c)
            .expect("parses");
        assert_eq!(
            (b.amount, b.currency.as_str(), b.note),
            (dec!(20), "USD", None)
        );
    }

    #[test]
    fn a_balance_that_cannot_pay_for_calls_is_a_failure_with_that_reason() {
        // GIVEN funds on the rows but is_available false
        let body = fixture(include_str!(
            "../../../../tests/fixtures/deepseek_balance_unavailable.json"
        ));
        for currency in [None, Some("CNY")] {
            let e = DeepSeek
                .parse(&body, &ctx("x", currency))
                .expect_err("not usable for API calls");
            assert_eq!(e.label(), "api");
            let text = e.to_string();
            assert!(text.contains("is_available: false"), "{text}");
            assert!(text.contains("0.05 CNY"), "{text}");
        }
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
