//! Alibaba Cloud (阿里云): BSS `QueryAccountBalance` with the RPC signature (HMAC-SHA1, key
//! `AccessKeyId:AccessKeySecret`) → `Data.AvailableAmount` (可用额度: cash plus the credit
//! line `CreditAmount`; a string, commas removed; it can be negative), in `Data.Currency`;
//! option `figure: "cash"` reads `Data.AvailableCashAmount` alone (see [`super::credit`]).
//! Errors: a `Code` other than 200 with a `Message`.

use balance_alert_model::{Balance, BalanceKind, Decimal};
use serde_json::Value;

use super::credit::{self, Parts};
use super::signing::{aliyun_signature, check_key_pair, split_key};
use super::{amount, snippet, Http, OptionProblem, Options, Provider, ProviderError, ReadRequest};
use crate::project::ProjectConfig;

pub struct Aliyun;

#[async_trait::async_trait]
impl Provider for Aliyun {
    fn name(&self) -> &'static str {
        "aliyun"
    }

    fn default_base_url(&self) -> &'static str {
        "https://business.aliyuncs.com"
    }

    fn kind(&self, _: &ProjectConfig) -> BalanceKind {
        BalanceKind::PrepaidBalance
    }

    fn check_options(&self, p: &ProjectConfig) -> Vec<OptionProblem> {
        let mut out = check_key_pair(p, "AccessKeyId:AccessKeySecret");
        credit::check(&p.options, &mut out);
        out
    }

    async fn read(&self, http: &Http, req: &ReadRequest<'_>) -> Result<Balance, ProviderError> {
        let (id, secret) = split_key(req.api_key).ok_or_else(|| ProviderError::Api {
            message: "api_key must be AccessKeyId:AccessKeySecret".into(),
        })?;
        let timestamp = req.now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let nonce = format!("{:032x}", rand::random::<u128>());
        let mut params = vec![
            ("AccessKeyId", id),
            ("Action", "QueryAccountBalance"),
            ("Format", "JSON"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", nonce.as_str()),
            ("SignatureVersion", "1.0"),
            ("Timestamp", timestamp.as_str()),
            ("Version", "2017-12-14"),
        ];
        let signature = aliyun_signature("GET", &params, secret);
        params.push(("Signature", signature.as_str()));
        let reply = http.send(http.get(&req.url("/")).query(&params)).await?;
        // Errors arrive as 4xx with a JSON `Code`/`Message` that says more than the status.
        if let Some(body) = reply.json_any_status() {
            if let Some(e) = error_in(&body) {
                return Err(e);
            }
        }
        let body = reply.json()?;
        parse(&body, req.options(), req.currency)
    }
}

fn error_in(body: &Value) -> Option<ProviderError> {
    let code = body.get("Code")?;
    let ok = code.as_i64() == Some(200)
        || code
            .as_str()
            .is_some_and(|c| c == "200" || c.eq_ignore_ascii_case("success"));
    (!ok).then(|| ProviderError::Api {
        message: snippet(
            format!(
                "{}: {}",
                code.as_str()
                    .map_or_else(|| code.to_string(), str::to_owned),
                body.get("Message").and_then(Value::as_str).unwrap_or("")
            )
            .as_bytes(),
        ),
    })
}

/// An amount string as the console prints it (`"12,345.67"`).
fn console_amount(v: &Value) -> Option<Decimal> {
    match v {
        Value::String(s) => amount(&Value::String(s.replace(',', ""))),
        other => amount(other),
    }
}

fn parse(body: &Value, o: &Options, currency: Option<&str>) -> Result<Balance, ProviderError> {
    if let Some(e) = error_in(body) {
        return Err(e);
    }
    let raw = body
        .pointer("/Data/AvailableAmount")
        .ok_or_else(|| ProviderError::Unparseable {
            reason: "missing /Data/AvailableAmount".into(),
            snippet: snippet(body.to_string().as_bytes()),
        })?;
    let available = console_amount(raw).ok_or_else(|| ProviderError::Unparseable {
        reason: "/Data/AvailableAmount is not a number".into(),
        snippet: snippet(raw.to_string().as_bytes()),
    })?;
    let field = |k: &str| body.pointer(&format!("/Data/{k}")).and_then(console_amount);
    let reported = body.pointer("/Data/Currency").and_then(Value::as_str);
    credit::reading(
        o,
        Parts {
            available,
            cash: field("AvailableCashAmount").map(|d| (d, "AvailableCashAmount")),
            credit: field("CreditAmount"),
            currency: currency.or(reported).unwrap_or("CNY"),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn available_amount_with_commas_and_its_currency() {
        let body: Value = serde_json::from_str(include_str!(
            "../../../../tests/fixtures/aliyun_balance.json"
        ))
        .expect("fixture");
        let b = parse(&body, &Options::default(), None).expect("parses");
        assert_eq!((b.amount, b.currency.as_str()), (dec!(12345.67), "CNY"));
        let overdrawn = serde_json::json!({"Code": "200", "Data": {"AvailableAmount": "-11.19", "Currency": "USD"}});
        let b = parse(&overdrawn, &Options::default(), None).expect("parses");
        assert_eq!((b.amount, b.currency.as_str()), (dec!(-11.19), "USD"));
    }

    #[test]
    fn available_amount_includes_the_credit_line_and_cash_can_be_watched_alone() {
        // GIVEN the documented body: 1000.19 available = 0.19 cash + 1000.00 credit (信控)
        let body: Value = serde_json::from_str(include_str!(
            "../../../../tests/fixtures/aliyun_balance_credit.json"
        ))
        .expect("fixture");
        let b = parse(&body, &Options::default(), None).expect("available");
        assert_eq!(b.amount, dec!(1000.19));
        assert_eq!(
            b.note.as_deref(),
            Some("includes a 1000.00 CNY credit line; cash 0.19 CNY (figure \"cash\" alerts on cash alone)")
        );
        let cash = Options::of(serde_json::json!({"figure": "cash"}));
        let c = parse(&body, &cash, None).expect("cash");
        assert_eq!(c.amount, dec!(0.19));
    }

    #[test]
    fn an_error_code_is_a_failure() {
        let body = serde_json::json!({"Code": "InvalidAccessKeyId.NotFound", "Message": "Specified access key is not found."});
        let e = parse(&body, &Options::default(), None).expect_err("fails");
        assert!(e.to_string().contains("InvalidAccessKeyId.NotFound"), "{e}");
    }
}
