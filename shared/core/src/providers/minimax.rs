//! MiniMax Coding Plan: `GET /v1/api/openplatform/coding_plan/remains` (Bearer) →
//! `model_remains[]`; `base_resp.status_code` ≠ 0 (inside HTTP 200) is a failure. Careful:
//! `current_interval_usage_count` is the count *remaining*, of `current_interval_total_count`;
//! the window ends at `end_time` (ms). The reading is the remaining percent, a `quota_window`
//! with its reset time. Options: `window` = `5h` (the interval, default) or `weekly`; `model`
//! = a `model_name` (default: the first).

use balance_alert_model::{Balance, BalanceKind, Decimal};
use serde_json::Value;

use super::{amount, balance, snippet, Http, OptionProblem, Provider, ProviderError, ReadRequest};
use crate::project::ProjectConfig;

pub struct MiniMax;

#[async_trait::async_trait]
impl Provider for MiniMax {
    fn name(&self) -> &'static str {
        "minimax"
    }

    fn default_base_url(&self) -> &'static str {
        "https://www.minimaxi.com"
    }

    fn kind(&self, _: &ProjectConfig) -> BalanceKind {
        BalanceKind::QuotaWindow
    }

    fn check_options(&self, p: &ProjectConfig) -> Vec<OptionProblem> {
        let mut out = Vec::new();
        p.options
            .check_one_of("window", &["5h", "weekly"], &mut out);
        out
    }

    async fn read(&self, http: &Http, req: &ReadRequest<'_>) -> Result<Balance, ProviderError> {
        let reply = http
            .send(
                http.get(&req.url("/v1/api/openplatform/coding_plan/remains"))
                    .bearer_auth(req.api_key),
            )
            .await?;
        let body = reply.json()?;
        let o = req.options();
        parse(&body, o.str("window").unwrap_or("5h"), o.str("model"))
    }
}

fn parse(body: &Value, window: &str, model: Option<&str>) -> Result<Balance, ProviderError> {
    let status = body
        .pointer("/base_resp/status_code")
        .and_then(Value::as_i64);
    if status != Some(0) {
        return Err(ProviderError::Api {
            message: snippet(
                format!(
                    "status {}: {}",
                    status.map_or("missing".into(), |s| s.to_string()),
                    body.pointer("/base_resp/status_msg")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                )
                .as_bytes(),
            ),
        });
    }
    let models = body
        .get("model_remains")
        .and_then(Value::as_array)
        .ok_or_else(|| ProviderError::Unparseable {
            reason: "missing model_remains".into(),
            snippet: snippet(body.to_string().as_bytes()),
        })?;
    let entry = match model {
        Some(m) => models
            .iter()
            .find(|e| e.get("model_name").and_then(Value::as_str) == Some(m)),
        None => models.first(),
    }
    .ok_or_else(|| ProviderError::Unparseable {
        reason: format!(
            "no model {} in the plan (models: {})",
            model.unwrap_or("at all"),
            models
                .iter()
                .filter_map(|e| e.get("model_name").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        snippet: String::new(),
    })?;
    let (left_key, total_key, end_key) = match window {
        "weekly" => (
            "current_weekly_usage_count",
            "current_weekly_total_count",
            "weekly_end_time",
        ),
        _ => (
            "current_interval_usage_count",
            "current_interval_total_count",
            "end_time",
        ),
    };
    let field = |k: &str| {
        entry
            .get(k)
            .and_then(amount)
            .ok_or_else(|| ProviderError::Unparseable {
                reason: format!("the {window} window has no {k}"),
                snippet: snippet(entry.to_string().as_bytes()),
            })
    };
    let (left, total) = (field(left_key)?, field(total_key)?);
    if total <= Decimal::ZERO {
        return Err(ProviderError::Unparseable {
            reason: format!("the plan has no active {window} window (total 0)"),
            snippet: String::new(),
        });
    }
    let percent = (left / total * Decimal::ONE_HUNDRED).round_dp(2);
    let mut b = balance(percent, "percent", BalanceKind::QuotaWindow)?;
    b.resets_at = entry
        .get(end_key)
        .and_then(Value::as_i64)
        .map(|ms| ms / 1000);
    Ok(b.with_note(format!("{window} window: {left} of {total} prompts left")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn fixture() -> Value {
        serde_json::from_str(include_str!(
            "../../../../tests/fixtures/minimax_remains.json"
        ))
        .expect("fixture")
    }

    #[test]
    fn usage_count_is_what_is_left() {
        let b = parse(&fixture(), "5h", None).expect("5h");
        assert_eq!((b.amount, b.resets_at), (dec!(95), Some(1700018000)));
        assert_eq!(
            b.note.as_deref(),
            Some("5h window: 475 of 500 prompts left")
        );
        let w = parse(&fixture(), "weekly", Some("MiniMax-M*")).expect("weekly");
        assert_eq!((w.amount, w.resets_at), (dec!(40), Some(1700438400)));
        assert!(parse(&fixture(), "5h", Some("nope")).is_err());
    }

    #[test]
    fn a_non_zero_status_inside_200_is_a_failure() {
        let body = serde_json::json!({"base_resp": {"status_code": 1004, "status_msg": "invalid api key"}});
        let e = parse(&body, "5h", None).expect_err("fails");
        assert!(e.to_string().contains("1004: invalid api key"), "{e}");
    }
}
