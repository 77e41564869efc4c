//! Budgets for the providers that only report spending (OpenAI, Anthropic): the project sets
//! `budget` and `budget_period` (`monthly`, the default, or `total` since `budget_start`), and
//! the figure is `budget − spend` as a `budget_spend` reading that says what was spent of what.

use balance_alert_model::{Balance, BalanceKind, Decimal};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};

use super::{balance, Http, OptionProblem, Options, ProviderError};

/// Pages followed at most (far more than any budget period needs).
const MAX_PAGES: usize = 20;

/// Sums a paginated cost report: `request(page)` builds the request for a page (`None` for
/// the first), `sum` reads one page's total; pages continue while `has_more` gives a
/// `next_page`. Returns the total and the first currency `sum` reported.
pub async fn sum_pages(
    http: &Http,
    request: impl Fn(Option<&str>) -> reqwest::RequestBuilder,
    sum: impl Fn(&serde_json::Value) -> Result<(Decimal, Option<String>), ProviderError>,
) -> Result<(Decimal, Option<String>), ProviderError> {
    let mut total = Decimal::ZERO;
    let mut currency = None;
    let mut page: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let body = http.send(request(page.as_deref())).await?.json()?;
        let (amount, cur) = sum(&body)?;
        total += amount;
        currency = currency.or(cur);
        page = next_page(&body);
        if page.is_none() {
            return Ok((total, currency));
        }
    }
    Err(ProviderError::Unparseable {
        reason: format!("more than {MAX_PAGES} pages of costs"),
        snippet: String::new(),
    })
}

/// `next_page` when `has_more`.
pub fn next_page(body: &serde_json::Value) -> Option<String> {
    (body.get("has_more") == Some(&serde_json::Value::Bool(true)))
        .then(|| {
            body.get("next_page")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        })
        .flatten()
}

/// Checks `budget`, `budget_period` and `budget_start`.
pub fn check(options: &Options) -> Vec<OptionProblem> {
    let mut out = Vec::new();
    options.check_amount(
        "budget",
        true,
        "the amount you allow to be spent per period, e.g. 100",
        &mut out,
    );
    options.check_one_of("budget_period", &["monthly", "total"], &mut out);
    if let Some(v) = options.get("budget_start") {
        if start_date(options).is_none() {
            out.push(OptionProblem::new(
                "budget_start",
                format!("must be a date such as 2026-01-01, got {v}"),
            ));
        }
    } else if options.str("budget_period") == Some("total") {
        out.push(OptionProblem::new(
            "budget_start",
            "is required with budget_period total: the date the budget started, e.g. 2026-01-01",
        ));
    }
    out
}

fn start_date(options: &Options) -> Option<NaiveDate> {
    options
        .str("budget_start")
        .and_then(|s| NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d").ok())
}

/// Where the budget period began: the 1st of this month (UTC), or `budget_start`.
pub fn period_start(options: &Options, now: DateTime<Utc>) -> DateTime<Utc> {
    let date = match options.str("budget_period") {
        Some("total") => start_date(options),
        _ => NaiveDate::from_ymd_opt(now.year(), now.month(), 1),
    }
    .unwrap_or_else(|| now.date_naive());
    Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// `budget − spent`, in `currency`, saying what was spent of what.
pub fn remaining(
    options: &Options,
    spent: Decimal,
    currency: &str,
) -> Result<Balance, ProviderError> {
    let budget = options
        .decimal("budget")
        .ok_or_else(|| ProviderError::Api {
            message: "the project has no budget: set budget (and budget_period)".into(),
        })?;
    let period = match options.str("budget_period") {
        Some("total") => format!(
            "since {}",
            options.str("budget_start").unwrap_or("the start")
        ),
        _ => "this month".to_owned(),
    };
    Ok(
        balance(budget - spent, currency, BalanceKind::BudgetSpend)?.with_note(format!(
            "spent {} of {} {currency} budget {period}",
            spent.round_dp(2).normalize(),
            budget.round_dp(2).normalize()
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use serde_json::json;

    #[test]
    fn a_monthly_budget_starts_on_the_first() {
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 10, 0, 0).unwrap();
        let o = Options::of(json!({"budget": 100}));
        assert_eq!(
            period_start(&o, now).to_rfc3339(),
            "2026-11-01T00:00:00+00:00"
        );
        let b = remaining(&o, dec!(40), "USD").expect("ok");
        assert_eq!((b.amount, b.kind), (dec!(60), BalanceKind::BudgetSpend));
        assert_eq!(
            b.note.as_deref(),
            Some("spent 40 of 100 USD budget this month")
        );
    }

    #[test]
    fn a_total_budget_needs_its_start() {
        let o = Options::of(json!({"budget": 100, "budget_period": "total"}));
        assert_eq!(check(&o)[0].field, "budget_start");
        let o = Options::of(json!({"budget": "x", "budget_period": "weekly"}));
        let fields: Vec<_> = check(&o).iter().map(|p| p.field).collect();
        assert_eq!(fields, ["budget", "budget_period"]);
        let o = Options::of(
            json!({"budget": 5, "budget_period": "total", "budget_start": "2026-01-15"}),
        );
        assert!(check(&o).is_empty());
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 10, 0, 0).unwrap();
        assert_eq!(
            period_start(&o, now).to_rfc3339(),
            "2026-01-15T00:00:00+00:00"
        );
    }
}
