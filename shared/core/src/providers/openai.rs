//! OpenAI: no balance API exists. With an Admin key, `GET /v1/organization/costs`
//! (`start_time` = start of the budget period, `bucket_width=1d`, following `next_page`) summed
//! over `data[].results[].amount.value` (dollars) → `budget − spend` (see [`super::spend`]).
//! An ordinary project key gets 403 ("Missing scopes: api.usage.read"): an auth failure.

use balance_alert_model::{Balance, BalanceKind, Decimal};
use serde_json::Value;

use super::{amount, snippet, spend, Http, OptionProblem, Provider, ProviderError, ReadRequest};
use crate::config::ProjectConfig;

pub struct OpenAi;

/// Pages followed at most (a 180-day page each: far more than any budget period needs).
const MAX_PAGES: usize = 20;

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
        let start = spend::period_start(req.options(), req.now)
            .timestamp()
            .to_string();
        let mut spent = Decimal::ZERO;
        let mut currency: Option<String> = None;
        let mut page: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![
                ("start_time", start.clone()),
                ("bucket_width", "1d".to_owned()),
                ("limit", "180".to_owned()),
            ];
            if let Some(p) = &page {
                query.push(("page", p.clone()));
            }
            let reply = http
                .send(
                    http.get(&req.url("/v1/organization/costs"))
                        .bearer_auth(req.api_key)
                        .query(&query),
                )
                .await?;
            let body = reply.json()?;
            let (sum, cur) = sum_page(&body)?;
            spent += sum;
            currency = currency.or(cur);
            page = next_page(&body);
            if page.is_none() {
                let currency = req
                    .currency
                    .map(str::to_owned)
                    .or(currency)
                    .unwrap_or_else(|| "USD".into());
                return spend::remaining(req.options(), spent, &currency);
            }
        }
        Err(ProviderError::Unparseable {
            reason: format!("more than {MAX_PAGES} pages of costs"),
            snippet: String::new(),
        })
    }
}

/// `next_page` when `has_more`.
pub(crate) fn next_page(body: &Value) -> Option<String> {
    (body.get("has_more") == Some(&Value::Bool(true)))
        .then(|| {
            body.get("next_page")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .flatten()
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
