//! http_json: a generic adapter for anything we do not ship. Options:
//! - `url` (absolute, or a path appended to `base_url`), `method` (GET default, or POST…),
//! - `headers` (object; values may use `${VAR}` like any config string, and `{api_key}` for the
//!   project's key; without an `Authorization` header the key, if any, goes as Bearer),
//! - `body` (JSON sent as is, for POST),
//! - `value_pointer` (RFC 6901 JSON pointer to the figure, required), `scale` (multiplier, e.g.
//!   0.0001 for ten-thousandths), `currency_pointer` (else the project's `currency`, else USD),
//! - `success_pointer` + `success_value` (the figure counts only when that field equals it),
//!   `error_pointer` (a non-empty, non-false, non-zero value there is a failure with its text),
//! - `kind` (default `prepaid_balance`).

use balance_alert_model::{Balance, BalanceKind, Decimal};
use serde_json::Value;

use super::{
    amount, balance, snippet, Http, OptionProblem, Options, Provider, ProviderError, ReadRequest,
};
use crate::project::ProjectConfig;

pub struct HttpJson;

#[async_trait::async_trait]
impl Provider for HttpJson {
    fn name(&self) -> &'static str {
        "http_json"
    }

    fn default_base_url(&self) -> &'static str {
        ""
    }

    fn kind(&self, p: &ProjectConfig) -> BalanceKind {
        p.options.kind()
    }

    fn needs_key(&self) -> bool {
        false
    }

    fn check_options(&self, p: &ProjectConfig) -> Vec<OptionProblem> {
        let o = &p.options;
        let mut out = Vec::new();
        o.require_str(
            "url",
            "the endpoint, e.g. https://api.example.com/v1/balance",
            &mut out,
        );
        if let Some(u) = o.str("url") {
            if !(u.starts_with('/') || u.starts_with("http://") || u.starts_with("https://")) {
                out.push(OptionProblem::new(
                    "url",
                    format!("must be http(s)://… or a /path after base_url, got {u:?}"),
                ));
            } else if u.starts_with('/') && p.base_url.is_none() {
                out.push(OptionProblem::new(
                    "url",
                    "is a path: set base_url too, or give a full URL",
                ));
            }
        }
        o.require_str(
            "value_pointer",
            "a JSON pointer to the figure, e.g. /data/balance",
            &mut out,
        );
        for key in [
            "value_pointer",
            "currency_pointer",
            "success_pointer",
            "error_pointer",
        ] {
            if let Some(ptr) = o.str(key) {
                if !ptr.starts_with('/') {
                    out.push(OptionProblem::new(
                        key,
                        format!("must be a JSON pointer starting with /, got {ptr:?}"),
                    ));
                }
            }
        }
        o.check_one_of(
            "method",
            &["GET", "POST", "PUT", "get", "post", "put"],
            &mut out,
        );
        if let Some(h) = o.get("headers") {
            let ok = h
                .as_object()
                .is_some_and(|m| m.values().all(Value::is_string));
            if !ok {
                out.push(OptionProblem::new(
                    "headers",
                    "must be an object of strings, e.g. {\"X-Key\": \"{api_key}\"}",
                ));
            }
        }
        if let Some(s) = o.get("scale") {
            if o.decimal("scale").is_none_or(|d| d.is_zero()) {
                out.push(OptionProblem::new(
                    "scale",
                    format!("must be a non-zero number, got {s}"),
                ));
            }
        }
        o.check_kind(&mut out);
        out
    }

    async fn read(&self, http: &Http, req: &ReadRequest<'_>) -> Result<Balance, ProviderError> {
        let o = req.options();
        let url = o.str("url").unwrap_or("");
        let url = if url.starts_with('/') {
            req.url(url)
        } else {
            url.to_owned()
        };
        let method = o
            .str("method")
            .unwrap_or("GET")
            .to_uppercase()
            .parse::<reqwest::Method>()
            .unwrap_or(reqwest::Method::GET);
        let mut request = http.request(method, &url);
        let mut has_auth = false;
        if let Some(headers) = o.get("headers").and_then(Value::as_object) {
            for (name, value) in headers {
                let value = value
                    .as_str()
                    .unwrap_or("")
                    .replace("{api_key}", req.api_key);
                has_auth |= name.eq_ignore_ascii_case("authorization");
                request = request.header(name.as_str(), value);
            }
        }
        if !has_auth && !req.api_key.is_empty() {
            request = request.bearer_auth(req.api_key);
        }
        if let Some(body) = o.get("body") {
            request = match body {
                Value::String(s) => request.body(s.replace("{api_key}", req.api_key)),
                other => request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(other.to_string()),
            };
        }
        let body = http.send(request).await?.json()?;
        parse(&body, o, req.currency)
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.trim().is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
    }
}

fn parse(body: &Value, o: &Options, currency: Option<&str>) -> Result<Balance, ProviderError> {
    if let Some(e) = o
        .str("error_pointer")
        .and_then(|p| body.pointer(p))
        .filter(|v| truthy(v))
    {
        let text = e.as_str().map_or_else(|| e.to_string(), str::to_owned);
        return Err(ProviderError::Api {
            message: snippet(text.as_bytes()),
        });
    }
    if let Some(ptr) = o.str("success_pointer") {
        let expected = o.get("success_value").cloned().unwrap_or(Value::Bool(true));
        let got = body.pointer(ptr).cloned().unwrap_or(Value::Null);
        // 200 and "200" are the same answer.
        let same = got == expected
            || (got.to_string().trim_matches('"') == expected.to_string().trim_matches('"'));
        if !same {
            return Err(ProviderError::Api {
                message: snippet(format!("{ptr} is {got}, not {expected}").as_bytes()),
            });
        }
    }
    let ptr = o.str("value_pointer").unwrap_or("");
    let raw = body
        .pointer(ptr)
        .ok_or_else(|| ProviderError::Unparseable {
            reason: format!("missing {ptr}"),
            snippet: snippet(body.to_string().as_bytes()),
        })?;
    let value = amount(raw).ok_or_else(|| ProviderError::Unparseable {
        reason: format!("{ptr} is not a number"),
        snippet: snippet(raw.to_string().as_bytes()),
    })?;
    let scale = o.decimal("scale").unwrap_or(Decimal::ONE);
    let reported = o
        .str("currency_pointer")
        .and_then(|p| body.pointer(p))
        .and_then(Value::as_str)
        .map(str::to_uppercase);
    let currency = currency
        .map(str::to_owned)
        .or(reported)
        .unwrap_or_else(|| "USD".into());
    let figure = value
        .checked_mul(scale)
        .ok_or_else(|| ProviderError::Unparseable {
            reason: "the scaled figure is out of range".into(),
            snippet: value.to_string(),
        })?;
    balance(figure, &currency, o.kind())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use serde_json::json;

    #[test]
    fn pointer_scale_currency_and_conditions() {
        let o = Options::of(
            json!({"url": "https://x", "value_pointer": "/data/left", "scale": 0.01,
            "currency_pointer": "/data/cur", "success_pointer": "/code", "success_value": 0,
            "error_pointer": "/error", "kind": "remaining_credit"}),
        );
        let b = parse(
            &json!({"code": 0, "data": {"left": "1234", "cur": "eur"}}),
            &o,
            None,
        )
        .expect("ok");
        assert_eq!(
            (b.amount, b.currency.as_str(), b.kind),
            (dec!(12.34), "EUR", BalanceKind::RemainingCredit)
        );
        assert!(parse(&json!({"code": 7, "data": {"left": 1}}), &o, None).is_err());
        let e = parse(
            &json!({"code": 0, "error": "quota exceeded", "data": {"left": 1}}),
            &o,
            None,
        )
        .expect_err("error");
        assert!(e.to_string().contains("quota exceeded"));
        let e = parse(&json!({"code": 0, "data": {}}), &o, None).expect_err("missing");
        assert!(e.to_string().contains("missing /data/left"), "{e}");
    }

    #[test]
    fn options_are_checked_by_field() {
        let p = |v| ProjectConfig {
            options: Options::of(v),
            provider: "http_json".into(),
            ..crate::project::test_project()
        };
        let fields = |v| {
            HttpJson
                .check_options(&p(v))
                .iter()
                .map(|p| p.field)
                .collect::<Vec<_>>()
        };
        assert_eq!(fields(json!({})), ["url", "value_pointer"]);
        assert_eq!(
            fields(json!({"url": "/v1", "value_pointer": "data", "scale": 0, "headers": {"a": 1}})),
            ["url", "value_pointer", "headers", "scale"]
        );
    }
}
