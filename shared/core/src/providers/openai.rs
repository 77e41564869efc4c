//! OpenAI: no balance API exists. With an Admin key, `GET /v1/organization/costs`
//! (`start_time` = start of the budget period, `bucket_width=1d`, following `next_page`) summed
//! over `data[].results[].amount.value` (dollars) → `budget − spend` (see [`super::spend`]).
//! An ordinary project key gets 403 ("Missing scopes: api.usage.read"): an auth failure.

use balance_alert_model::{Balance, BalanceKind, Decimal};
use serde_json::Value;

#[cfg(test)]
use super::spend::next_page;
use super::{amount, snippet, spend, Http, OptionProblem, Provider, ProviderError, ReadRequest};
use crate::project::ProjectConfig;

pub struct OpenAi;

#[async_trait::async_trait]
impl Provider for OpenAi {
    fn name(&self) -> &'static str {
        "openai"
    }

    fn default_base_url(&self) -> &'static str {
        "https://api.openai.com"
    }

    fn kind(&self, _: &ProjectConfig) -> BalanceKind {
        BalanceKind::BudgetSpend
    }

    fn check_options(&self, p: &ProjectConfig) -> Vec<OptionProblem> {
        spend::check(&p.options)
    }

    async fn read(&self, http: &Http, req: &ReadRequest<'_>) -> Result<Balance, ProviderError> {
        let start = spend::period_start(req.options(), req.now);
        let (spent, currency) = spent_since(http, req.base_url, req.api_key, start).await?;
        let currency = req
            .currency
            .map(str::to_owned)
            .or(currency)
            .unwrap_or_else(|| "USD".into());
        spend::remaining(req.options(), spent, &currency)
    }
}

/// The organization's costs since `start` (whole UTC days), in dollars, and their currency.
pub(crate) async fn spent_since(
    http: &Http,
    base_url: &str,
    admin_key: &str,
    start: chrono::DateTime<chrono::Utc>,
) -> Result<(Decimal, Option<String>), ProviderError> {
    let start = start.timestamp().to_string();
    let url = format!("{base_url}/v1/organization/costs");
    spend::sum_pages(
        http,
        |page| {
            let mut query = vec![
                ("start_time", start.as_str()),
                ("bucket_width", "1d"),
                ("limit", "180"),
            ];
            query.extend(page.map(|p| ("page", p)));
            http.get(&url).bearer_auth(admin_key).query(&query)
        },
        sum_page,
    )
    .await
}

/// The page's costs in dollars, and their currency (upper-cased).
fn sum_page(body: &Value) -> Result<(Decimal, Option<String>), ProviderError> {
    let buckets =
        body.get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| ProviderError::Unparseable {
                reason: "missing data list".into(),
                snippet: snippet(body.to_string().as_bytes()),
            })?;
    let mut sum = Decimal::ZERO;
    let mut currency = None;
    for result in buckets
        .iter()
        .filter_map(|b| b.get("results").and_then(Value::as_array))
        .flatten()
    {
        let value = result
            .pointer("/amount/value")
            .and_then(amount)
            .ok_or_else(|| ProviderError::Unparseable {
                reason: "a cost result without amount.value".into(),
                snippet: snippet(result.to_string().as_bytes()),
            })?;
        sum += value;
        currency = currency.or_else(|| {
            result
                .pointer("/amount/currency")
                .and_then(Value::as_str)
                .map(str::to_uppercase)
        });
    }
    Ok((sum, currency))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn costs_are_summed_over_buckets_and_results() {
        let body: Value =
            serde_json::from_str(include_str!("../../../../tests/fixtures/openai_costs.json"))
                .expect("fixture");
        let (sum, currency) = sum_page(&body).expect("parses");
        assert_eq!((sum, currency.as_deref()), (dec!(12.56), Some("USD")));
        assert_eq!(next_page(&body).as_deref(), Some("page_2"));
        assert_eq!(
            next_page(&serde_json::json!({"has_more": false, "next_page": "x"})),
            None
        );
    }
}
