//! Zhipu / BigModel GLM Coding Plan (also Z.ai with `base_url` https://api.z.ai): `GET
//! /api/monitor/usage/quota/limit` with the raw key in `Authorization` (no `Bearer`) →
//! `data.limits[]`, one entry per window (`unit` 3 = hours, 6 = weeks, 5 = months; `percentage`
//! used; `nextResetTime` in ms). `success:false` inside HTTP 200 is a failure. The reading is
//! the window's remaining percent, a `quota_window` with its reset time. Option `window`:
//! `5h` (default), `weekly` or `monthly`; watch several windows with one project each.

use balance_alert_model::{Balance, BalanceKind, Decimal};
use serde_json::Value;

use super::{
    amount, balance, reported_error, snippet, Http, OptionProblem, Provider, ProviderError,
    ReadRequest,
};
use crate::project::ProjectConfig;

pub struct Zhipu;

const WINDOWS: &[&str] = &["5h", "weekly", "monthly"];

#[async_trait::async_trait]
impl Provider for Zhipu {
    fn name(&self) -> &'static str {
        "zhipu"
    }

    fn aliases(&self) -> &'static [&'static str] {
        &["bigmodel", "zai"]
    }

    fn default_base_url(&self) -> &'static str {
        "https://open.bigmodel.cn"
    }

    fn kind(&self, _: &ProjectConfig) -> BalanceKind {
        BalanceKind::QuotaWindow
    }

    fn check_options(&self, p: &ProjectConfig) -> Vec<OptionProblem> {
        let mut out = Vec::new();
        p.options.check_one_of("window", WINDOWS, &mut out);
        out
    }

    async fn read(&self, http: &Http, req: &ReadRequest<'_>) -> Result<Balance, ProviderError> {
        let reply = http
            .send(
                http.get(&req.url("/api/monitor/usage/quota/limit"))
                    .header("Authorization", req.api_key),
            )
            .await?;
        let body = reply.json()?;
        parse(&body, req.options().str("window").unwrap_or("5h"))
    }
}

fn window_of(entry: &Value) -> Option<&'static str> {
    let unit = entry.get("unit").and_then(Value::as_i64);
    let number = entry.get("number").and_then(Value::as_i64).unwrap_or(1);
    match (entry.get("type").and_then(Value::as_str), unit, number) {
        (Some("TOKENS_LIMIT"), Some(3), 5) => Some("5h"),
        (_, Some(6), _) => Some("weekly"),
        (_, Some(5), _) => Some("monthly"),
        _ => None,
    }
}

fn parse(body: &Value, window: &str) -> Result<Balance, ProviderError> {
    let ok = body.get("success") == Some(&Value::Bool(true))
        && body
            .get("code")
            .and_then(Value::as_i64)
            .is_none_or(|c| c == 200);
    if !ok {
        return Err(reported_error(body).unwrap_or_else(|| ProviderError::Api {
            message: snippet(
                body.get("msg")
                    .and_then(Value::as_str)
                    .unwrap_or("success is not true")
                    .as_bytes(),
            ),
        }));
    }
    let limits = body
        .pointer("/data/limits")
        .and_then(Value::as_array)
        .ok_or_else(|| ProviderError::Unparseable {
            reason: "missing data.limits".into(),
            snippet: snippet(body.to_string().as_bytes()),
        })?;
    let entry = limits
        .iter()
        .find(|e| window_of(e) == Some(window))
        .ok_or_else(|| ProviderError::Unparseable {
            reason: format!(
                "no {window} window in the plan (windows: {}); set the project's window",
                limits
                    .iter()
                    .filter_map(window_of)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            snippet: String::new(),
        })?;
    let used =
        entry
            .get("percentage")
            .and_then(amount)
            .ok_or_else(|| ProviderError::Unparseable {
                reason: format!("the {window} window has no percentage"),
                snippet: snippet(entry.to_string().as_bytes()),
            })?;
    let left = (Decimal::ONE_HUNDRED - used).max(Decimal::ZERO);
    let mut b = balance(left, "percent", BalanceKind::QuotaWindow)?;
    b.resets_at = entry
        .get("nextResetTime")
        .and_then(Value::as_i64)
        .map(|ms| ms / 1000);
    Ok(b.with_note(format!("{window} window: {used}% used")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn fixture() -> Value {
        serde_json::from_str(include_str!("../../../../tests/fixtures/zhipu_quota.json"))
            .expect("fixture")
    }

    #[test]
    fn each_window_is_its_own_figure_with_its_reset() {
        let b = parse(&fixture(), "5h").expect("5h");
        assert_eq!(
            (b.amount, b.currency.as_str(), b.resets_at),
            (dec!(66), "percent", Some(1768507567))
        );
        let w = parse(&fixture(), "weekly").expect("weekly");
        assert_eq!((w.amount, w.resets_at), (dec!(90), Some(1768900000)));
        let e = parse(&fixture(), "monthly").map(|b| b.amount);
        assert_eq!(e, Ok(dec!(0)), "the TIME_LIMIT entry is the monthly one");
    }

    #[test]
    fn success_false_inside_200_is_a_failure() {
        let body = serde_json::json!({"code": 1001, "msg": "Authorization Token Missing", "success": false});
        let e = parse(&body, "5h").expect_err("fails");
        assert!(e.to_string().contains("Authorization Token Missing"), "{e}");
    }
}
