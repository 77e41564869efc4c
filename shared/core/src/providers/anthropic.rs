//! Anthropic: no balance API exists. With an Admin key (`x-api-key`, `anthropic-version:
//! 2023-06-01`), `GET /v1/organizations/cost_report` (`starting_at` = start of the budget period,
//! `bucket_width=1d`, paginated with `has_more`/`next_page`); each `amount` is a decimal string
//! in cents → `budget − spend` (see [`super::spend`]). The cost report leaves out Priority Tier
//! usage (Anthropic's Usage & Cost API docs): an organization on Priority Tier has spent more
//! than it says, and the note says so.

use balance_alert_model::{Balance, BalanceKind, Decimal};
use serde_json::Value;

#[cfg(test)]
use super::spend::next_page;
use super::{amount, snippet, spend, Http, OptionProblem, Provider, ProviderError, ReadRequest};
use crate::project::ProjectConfig;

pub struct Anthropic;

#[async_trait::async_trait]
impl Provider for Anthropic {
    fn name(&self) -> &'static str {
        "anthropic"
    }

    fn default_base_url(&self) -> &'static str {
        "https://api.anthropic.com"
    }

    fn kind(&self, _: &ProjectConfig) -> BalanceKind {
        BalanceKind::BudgetSpend
    }

    fn check_options(&self, p: &ProjectConfig) -> Vec<OptionProblem> {
        spend::check(&p.options)
    }

    async fn read(&self, http: &Http, req: &ReadRequest<'_>) -> Result<Balance, ProviderError> {
        let start = spend::period_start(req.options(), req.now);
        let spent = spent_since(http, req.base_url, req.api_key, start).await?;
        let b = spend::remaining(req.options(), spent, req.currency.unwrap_or("USD"))?;
        let note = b.note.clone().unwrap_or_default();
        Ok(b.with_note(format!("{note}; {NOT_IN_THE_REPORT}")))
    }
}

/// What the cost report does not count, for every figure built on it.
pub(crate) const NOT_IN_THE_REPORT: &str =
    "Priority Tier usage is not included (Anthropic's cost report leaves it out)";

/// The organization's costs since `start` (whole UTC days), in dollars.
pub(crate) async fn spent_since(
    http: &Http,
    base_url: &str,
    admin_key: &str,
    start: chrono::DateTime<chrono::Utc>,
) -> Result<Decimal, ProviderError> {
    let start = start.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let url = format!("{base_url}/v1/organizations/cost_report");
    let (cents, _) = spend::sum_pages(
        http,
        |page| {
            let mut query = vec![
                ("starting_at", start.as_str()),
                ("bucket_width", "1d"),
                ("limit", "31"),
            ];
            query.extend(page.map(|p| ("page", p)));
            http.get(&url)
                .header("x-api-key", admin_key)
                .header("anthropic-version", "2023-06-01")
                .query(&query)
        },
        |body| sum_cents(body).map(|c| (c, None)),
    )
    .await?;
    Ok(cents / Decimal::ONE_HUNDRED)
}

/// The page's costs in cents.
fn sum_cents(body: &Value) -> Result<Decimal, ProviderError> {
    if body.get("type").and_then(Value::as_str) == Some("error") {
        return Err(ProviderError::Api {
            message: snippet(
                body.pointer("/error/message")
                    .and_then(Value::as_str)
                    .unwrap_or("error")
                    .as_bytes(),
            ),
        });
    }
    let buckets =
        body.get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| ProviderError::Unparseable {
                reason: "missing data list".into(),
                snippet: snippet(body.to_string().as_bytes()),
            })?;
    let mut sum = Decimal::ZERO;
    for result in buckets
        .iter()
        .filter_map(|b| b.get("results").and_then(Value::as_array))
        .flatten()
    {
        sum += result
            .get("amount")
            .and_then(amount)
            .ok_or_else(|| ProviderError::Unparseable {
                reason: "a cost result without amount".into(),
                snippet: snippet(result.to_string().as_bytes()),
            })?;
    }
    Ok(sum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn amounts_are_cents_as_decimal_strings() {
        let body: Value = serde_json::from_str(include_str!(
            "../../../../tests/fixtures/anthropic_cost_report.json"
        ))
        .expect("fixture");
        assert_eq!(sum_cents(&body).expect("parses"), dec!(4123.45));
        assert_eq!(next_page(&body), None);
    }
}
