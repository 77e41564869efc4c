//! Azure: a client-credentials token (`tenant_id`, `client_id`, the client secret as `api_key`)
//! from `POST {login_url}/{tenant}/oauth2/v2.0/token`, then the Consumption budget
//! `GET {base_url}/{scope}/providers/Microsoft.Consumption/budgets/{budget_name}` →
//! `properties.amount − properties.currentSpend.amount` in `currentSpend.unit`, a
//! `budget_spend` reading. Options: `tenant_id`, `client_id`, `scope`
//! (`subscriptions/<id>[/resourceGroups/<rg>]`), `budget_name`, `login_url`.

use balance_alert_model::{Balance, BalanceKind};
use serde_json::Value;

use super::{
    amount_at, balance, snippet, Http, OptionProblem, Provider, ProviderError, ReadRequest,
};
use crate::project::ProjectConfig;

pub struct Azure;

const LOGIN_URL: &str = "https://login.microsoftonline.com";
const API_VERSION: &str = "2023-05-01";

#[async_trait::async_trait]
impl Provider for Azure {
    fn name(&self) -> &'static str {
        "azure"
    }

    fn default_base_url(&self) -> &'static str {
        "https://management.azure.com"
    }

    fn kind(&self, _: &ProjectConfig) -> BalanceKind {
        BalanceKind::BudgetSpend
    }

    fn check_options(&self, p: &ProjectConfig) -> Vec<OptionProblem> {
        let mut out = Vec::new();
        let o = &p.options;
        o.require_str("tenant_id", "the Entra ID tenant (directory) id", &mut out);
        o.require_str(
            "client_id",
            "the app registration's application (client) id",
            &mut out,
        );
        o.require_str(
            "scope",
            "the budget's scope, e.g. subscriptions/<subscription id>",
            &mut out,
        );
        o.require_str(
            "budget_name",
            "the name of the Cost Management budget",
            &mut out,
        );
        if let Some(u) = o.str("login_url") {
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                out.push(OptionProblem::new(
                    "login_url",
                    format!("must start with https://, got {u:?}"),
                ));
            }
        }
        out
    }

    async fn read(&self, http: &Http, req: &ReadRequest<'_>) -> Result<Balance, ProviderError> {
        let o = req.options();
        let missing = |k: &str| ProviderError::Api {
            message: format!("the project has no {k}"),
        };
        let tenant = o.str("tenant_id").ok_or_else(|| missing("tenant_id"))?;
        let client = o.str("client_id").ok_or_else(|| missing("client_id"))?;
        let scope = o
            .str("scope")
            .ok_or_else(|| missing("scope"))?
            .trim_matches('/');
        let budget = o.str("budget_name").ok_or_else(|| missing("budget_name"))?;
        let login = o
            .str("login_url")
            .unwrap_or(LOGIN_URL)
            .trim_end_matches('/');

        let reply = http
            .send(
                http.request(
                    reqwest::Method::POST,
                    &format!("{login}/{tenant}/oauth2/v2.0/token"),
                )
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", client),
                    ("client_secret", req.api_key),
                    ("scope", "https://management.azure.com/.default"),
                ]),
            )
            .await?;
        if !reply.is_success() {
            // {"error":"invalid_client","error_description":"AADSTS7000215: …"}
            let why = reply
                .json_any_status()
                .and_then(|b| {
                    b.get("error_description")
                        .or_else(|| b.get("error"))
                        .and_then(Value::as_str)
                        .map(|s| s.lines().next().unwrap_or("").to_owned())
                })
                .unwrap_or_else(|| format!("HTTP {}", reply.status));
            return Err(ProviderError::Api {
                message: snippet(format!("token request refused: {why}").as_bytes()),
            });
        }
        let token_body = reply.json()?;
        let token = token_body
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::Unparseable {
                reason: "the token response has no access_token".into(),
                snippet: String::new(),
            })?;
        let reply = http
            .send(
                http.get(&req.url(&format!(
                    "/{scope}/providers/Microsoft.Consumption/budgets/{budget}"
                )))
                .query(&[("api-version", API_VERSION)])
                .bearer_auth(token),
            )
            .await?;
        if !reply.is_success() {
            if let Some(e) = reply
                .json_any_status()
                .and_then(|b| b.get("error").cloned())
            {
                return Err(ProviderError::Api {
                    message: snippet(
                        format!(
                            "{}: {}",
                            e.get("code").and_then(Value::as_str).unwrap_or("error"),
                            e.get("message").and_then(Value::as_str).unwrap_or("")
                        )
                        .as_bytes(),
                    ),
                });
            }
        }
        let body = reply.json()?;
        parse(&body, req.currency)
    }
}

fn parse(body: &Value, currency: Option<&str>) -> Result<Balance, ProviderError> {
    let limit = amount_at(body, "/properties/amount")?;
    let spent = amount_at(body, "/properties/currentSpend/amount")?;
    let unit = body
        .pointer("/properties/currentSpend/unit")
        .and_then(Value::as_str)
        .map(str::to_uppercase);
    let currency = currency
        .map(str::to_owned)
        .or(unit)
        .unwrap_or_else(|| "USD".into());
    let grain = body
        .pointer("/properties/timeGrain")
        .and_then(Value::as_str)
        .unwrap_or("period");
    Ok(
        balance(limit - spent, &currency, BalanceKind::BudgetSpend)?.with_note(format!(
            "spent {} of {} {currency} budget ({grain})",
            spent.round_dp(2).normalize(),
            limit.round_dp(2).normalize()
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn budget_minus_current_spend() {
        let body: Value =
            serde_json::from_str(include_str!("../../../../tests/fixtures/azure_budget.json"))
                .expect("fixture");
        let b = parse(&body, None).expect("parses");
        assert_eq!(
            (b.amount, b.currency.as_str(), b.kind),
            (dec!(19.76), "EUR", BalanceKind::BudgetSpend)
        );
        assert_eq!(
            b.note.as_deref(),
            Some("spent 80.89 of 100.65 EUR budget (Monthly)")
        );
    }
}
