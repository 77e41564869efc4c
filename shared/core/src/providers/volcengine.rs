//! Volcengine (火山引擎, the Python tool's `volc`): billing `QueryBalanceAcct` signed with
//! Volcengine's HMAC-SHA256 (key `AK:SK`) → `Result.AvailableBalance` (可用余额: cash plus
//! the credit line `CreditLimit`, less frozen amounts and arrears; a string), CNY; option
//! `figure: "cash"` reads `Result.CashBalance` alone (see [`super::credit`]).
//! Errors come in `ResponseMetadata.Error`, with a 4xx or even a 200.
//! Options: `region` (default `cn-shanghai`, as the Python tool signs).

use balance_alert_model::{Balance, BalanceKind};
use serde_json::Value;

use super::credit::{self, Parts};
use super::signing::{check_key_pair, split_key, volc_authorization, VolcRequest};
use super::{
    amount, amount_at, snippet, Http, OptionProblem, Options, Provider, ProviderError, ReadRequest,
};
use crate::project::ProjectConfig;

pub struct Volcengine;

const QUERY: &[(&str, &str)] = &[("Action", "QueryBalanceAcct"), ("Version", "2022-01-01")];
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

#[async_trait::async_trait]
impl Provider for Volcengine {
    fn name(&self) -> &'static str {
        "volcengine"
    }

    fn aliases(&self) -> &'static [&'static str] {
        &["volc"]
    }

    fn default_base_url(&self) -> &'static str {
        "https://open.volcengineapi.com"
    }

    fn kind(&self, _: &ProjectConfig) -> BalanceKind {
        BalanceKind::PrepaidBalance
    }

    fn check_options(&self, p: &ProjectConfig) -> Vec<OptionProblem> {
        let mut out = check_key_pair(p, "ACCESS_KEY_ID:SECRET_ACCESS_KEY (AK:SK)");
        credit::check(&p.options, &mut out);
        out
    }

    async fn read(&self, http: &Http, req: &ReadRequest<'_>) -> Result<Balance, ProviderError> {
        let (ak, sk) = split_key(req.api_key).ok_or_else(|| ProviderError::Api {
            message: "api_key must be AK:SK".into(),
        })?;
        let region = req.options().str("region").unwrap_or("cn-shanghai");
        let host = authority(req.base_url);
        let x_date = req.now.format("%Y%m%dT%H%M%SZ").to_string();
        let (authorization, _) = volc_authorization(
            &VolcRequest {
                method: "GET",
                host,
                path: "/",
                query: QUERY,
                headers: &[
                    ("content-type", "application/json"),
                    ("x-content-sha256", EMPTY_SHA256),
                ],
                body: b"",
                x_date: &x_date,
                region,
                service: "billing",
            },
            ak,
            sk,
        );
        let reply = http
            .send(
                http.get(&req.url("/"))
                    .query(QUERY)
                    .header("Content-Type", "application/json")
                    .header("X-Content-Sha256", EMPTY_SHA256)
                    .header("X-Date", &x_date)
                    .header("Authorization", authorization),
            )
            .await?;
        // The error envelope says more than the status.
        if let Some(e) = reply
            .json_any_status()
            .as_ref()
            .and_then(|b| b.pointer("/ResponseMetadata/Error"))
        {
            return Err(api_error(e));
        }
        let body = reply.json()?;
        parse(&body, req.options(), req.currency)
    }
}

fn api_error(e: &Value) -> ProviderError {
    let code = e.get("Code").and_then(Value::as_str).unwrap_or("error");
    let message = e.get("Message").and_then(Value::as_str).unwrap_or("");
    ProviderError::Api {
        message: snippet(format!("{code}: {message}").as_bytes()),
    }
}

/// `host[:port]` of a base URL.
pub(crate) fn authority(base_url: &str) -> &str {
    let rest = base_url.split("://").nth(1).unwrap_or(base_url);
    rest.split('/').next().unwrap_or(rest)
}

fn parse(body: &Value, o: &Options, currency: Option<&str>) -> Result<Balance, ProviderError> {
    if let Some(e) = body.pointer("/ResponseMetadata/Error") {
        return Err(api_error(e));
    }
    let field = |k: &str| body.pointer(&format!("/Result/{k}")).and_then(amount);
    credit::reading(
        o,
        Parts {
            available: amount_at(body, "/Result/AvailableBalance")?,
            cash: field("CashBalance").map(|d| (d, "CashBalance")),
            credit: field("CreditLimit"),
            currency: currency.unwrap_or("CNY"),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn available_balance_in_cny() {
        let body: Value = serde_json::from_str(include_str!(
            "../../../../tests/fixtures/volcengine_balance.json"
        ))
        .expect("fixture");
        let b = parse(&body, &Options::default(), None).expect("parses");
        assert_eq!((b.amount, b.currency.as_str()), (dec!(77.01), "CNY"));
    }

    #[test]
    fn available_balance_includes_the_credit_line_and_cash_can_be_watched_alone() {
        // GIVEN cash spent down to 0 while a 500 CNY credit line keeps AvailableBalance up
        let body: Value = serde_json::from_str(include_str!(
            "../../../../tests/fixtures/volcengine_balance_credit.json"
        ))
        .expect("fixture");
        let b = parse(&body, &Options::default(), None).expect("available");
        assert_eq!(b.amount, dec!(500.00));
        assert_eq!(
            b.note.as_deref(),
            Some("includes a 500.00 CNY credit line; cash 0.00 CNY (figure \"cash\" alerts on cash alone)")
        );
        let cash = Options::of(serde_json::json!({"figure": "cash"}));
        let c = parse(&body, &cash, None).expect("cash");
        assert_eq!(c.amount, dec!(0));
    }

    #[test]
    fn the_error_envelope_is_a_failure() {
        let body = serde_json::json!({"ResponseMetadata": {"Error": {"CodeN": 100010,
            "Code": "SignatureDoesNotMatch", "Message": "The request signature we calculated does not match"}}});
        let e = parse(&body, &Options::default(), None).expect_err("fails");
        assert!(e.to_string().contains("SignatureDoesNotMatch"), "{e}");
    }

    #[test]
    fn authority_keeps_the_port() {
        assert_eq!(authority("http://127.0.0.1:18080"), "127.0.0.1:18080");
        assert_eq!(
            authority("https://open.volcengineapi.com"),
            "open.volcengineapi.com"
        );
    }
}
