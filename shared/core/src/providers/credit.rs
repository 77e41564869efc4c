//! Balances that include a credit line (Novita's `availableBalance`, Aliyun's
//! `AvailableAmount`, Volcengine's `AvailableBalance`): cash can reach zero while the figure
//! still shows the credit limit. The reading is what the account can still spend (the
//! provider's available figure, as the Python tool reports it), with the credit part in the
//! note; option `figure: "cash"` reads the cash part alone, so the alert fires on cash.

use balance_alert_model::{Balance, BalanceKind, Decimal};

use super::{balance, OptionProblem, Options, ProviderError};

/// The parts of one credit-line balance, in one currency.
pub(crate) struct Parts<'a> {
    /// What the account can still spend (cash plus credit, less holds), as reported.
    pub available: Decimal,
    /// The cash part, with the field it came from; None when the body has none.
    pub cash: Option<(Decimal, &'a str)>,
    /// The credit limit included in `available`, if reported.
    pub credit: Option<Decimal>,
    pub currency: &'a str,
}

/// Problem unless `figure` is absent, `available` or `cash`.
pub(crate) fn check(o: &Options, out: &mut Vec<OptionProblem>) {
    if let Some(v) = o.get("figure") {
        if !v.as_str().is_some_and(|s| s == "available" || s == "cash") {
            out.push(OptionProblem::new(
                "figure",
                format!(
                    "must be \"available\" (what the account can spend, credit line included; \
                     the default) or \"cash\" (the cash part alone), got {v}"
                ),
            ));
        }
    }
}

/// The figure the project asked for, with a note naming the other part.
pub(crate) fn reading(o: &Options, p: Parts<'_>) -> Result<Balance, ProviderError> {
    let c = p.currency;
    let money = |d: Decimal| format!("{d:.2} {c}");
    let credit = p.credit.filter(|d| !d.is_zero());
    if o.str("figure") == Some("cash") {
        let (cash, field) = p.cash.ok_or_else(|| ProviderError::Unparseable {
            reason: "the body has no cash figure: remove figure \"cash\" from the project".into(),
            snippet: String::new(),
        })?;
        // Never more than the account can spend: holds and arrears come off cash too.
        let figure = cash.min(p.available);
        let mut note = format!("cash only ({field}); {} available", money(p.available));
        if let Some(credit) = credit {
            note.push_str(&format!(" including a {} credit line", money(credit)));
        }
        return Ok(balance(figure, c, BalanceKind::PrepaidBalance)?.with_note(note));
    }
    let b = balance(p.available, c, BalanceKind::PrepaidBalance)?;
    Ok(match credit {
        Some(credit) => {
            let cash = p
                .cash
                .map(|(cash, _)| format!("; cash {}", money(cash)))
                .unwrap_or_default();
            b.with_note(format!(
                "includes a {} credit line{cash} (figure \"cash\" alerts on cash alone)",
                money(credit)
            ))
        }
        None => b,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use serde_json::json;

    fn parts() -> Parts<'static> {
        Parts {
            available: dec!(100),
            cash: Some((dec!(0), "cashBalance")),
            credit: Some(dec!(100)),
            currency: "USD",
        }
    }

    #[test]
    fn available_names_the_credit_line_and_cash_reads_cash_alone() {
        let b = reading(&Options::of(json!({})), parts()).expect("available");
        assert_eq!(b.amount, dec!(100));
        assert_eq!(
            b.note.as_deref(),
            Some("includes a 100.00 USD credit line; cash 0.00 USD (figure \"cash\" alerts on cash alone)")
        );
        let c = reading(&Options::of(json!({"figure": "cash"})), parts()).expect("cash");
        assert_eq!(c.amount, dec!(0));
        assert_eq!(
            c.note.as_deref(),
            Some(
                "cash only (cashBalance); 100.00 USD available including a 100.00 USD credit line"
            )
        );
    }

    #[test]
    fn figure_is_checked() {
        let mut out = Vec::new();
        check(&Options::of(json!({"figure": "credit"})), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].field, "figure");
        out.clear();
        check(&Options::of(json!({"figure": "cash"})), &mut out);
        assert!(out.is_empty());
    }
}
