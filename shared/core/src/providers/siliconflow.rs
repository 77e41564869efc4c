//! SiliconFlow: `GET /v1/user/info` (Bearer) → `{"code":20000,"data":{"totalBalance":"88.88"}}`.
//! Errors arrive as HTTP 200 with another `code`.
//!
//! Two platforms: `api.siliconflow.cn` (China, the default; CNY) and `api.siliconflow.com`
//! (`region: "global"`; balances in USD). A configured `currency` wins. SiliconFlow retired the
//! China `/v1/user/info` on 2026-08-14 (it answers 410) without publishing an API-key
//! replacement; the international one still answers. Option `path` overrides the endpoint
//! path (for a replacement SiliconFlow publishes later, or a proxy). `totalBalance` is the
//! gift balance plus the charged balance: vouchers shown in the console are not in it, and the
//! note says so.

use balance_alert_model::{Balance, BalanceKind};
use serde_json::Value;

use super::{
    amount, amount_at, balance, interpret, Http, OptionProblem, Provider, ProviderError,
    ReadRequest,
};
use crate::project::ProjectConfig;

pub struct SiliconFlow;

const USER_INFO: &str = "/v1/user/info";
const GLOBAL: &str = "https://api.siliconflow.com";
const RETIRED_CN: &str = "SiliconFlow retired GET /v1/user/info for China (api.siliconflow.cn) \
     accounts on 2026-08-14 and publishes no API-key replacement: read the balance in the \
     console (cloud.siliconflow.cn) and record it with provider manual, or set the project's \
     path if SiliconFlow publishes a new endpoint; an international account uses region \
     \"global\" (api.siliconflow.com, USD)";
const RETIRED: &str = "SiliconFlow no longer serves this balance endpoint: set the project's \
     path (or base_url) to the current one, or record the balance with provider manual";

#[async_trait::async_trait]
impl Provider for SiliconFlow {
    fn name(&self) -> &'static str {
        "siliconflow"
    }

    fn default_base_url(&self) -> &'static str {
        "https://api.siliconflow.cn"
    }

    fn base_url_for(&self, p: &ProjectConfig) -> &'static str {
        if p.options.is_global() {
            GLOBAL
        } else {
            self.default_base_url()
        }
    }

    fn kind(&self, _: &ProjectConfig) -> BalanceKind {
        BalanceKind::PrepaidBalance
    }

    fn check_options(&self, p: &ProjectConfig) -> Vec<OptionProblem> {
        let o = &p.options;
        let mut out = Vec::new();
        o.check_region(
            "cn = api.siliconflow.cn in CNY, global = api.siliconflow.com in USD",
            &mut out,
        );
        if let Some(v) = o.get("path") {
            if !o.str("path").is_some_and(|s| s.starts_with('/')) {
                out.push(OptionProblem::new(
                    "path",
                    format!("must be a path starting with /, e.g. /v1/user/info, got {v}"),
                ));
            }
        }
        out
    }

    async fn read(&self, http: &Http, req: &ReadRequest<'_>) -> Result<Balance, ProviderError> {
        let o = req.options();
        let path = o.str("path").unwrap_or(USER_INFO);
        let global = is_global(req.base_url, o.is_global());
        let reply = http
            .send(http.get(&req.url(path)).bearer_auth(req.api_key))
            .await?;
        let body = reply.json().map_err(|e| {
            e.with_retired_advice(if global || path != USER_INFO {
                RETIRED
            } else {
                RETIRED_CN
            })
        })?;
        let currency = req.currency.unwrap_or(if global { "USD" } else { "CNY" });
        interpret(&body, |b| parse(b, currency))
    }
}

/// The international platform: its host, or `region: "global"` behind a proxy.
fn is_global(base_url: &str, region_global: bool) -> bool {
    let host = super::volcengine::authority(base_url);
    let host = host.split(':').next().unwrap_or(host);
    if host.ends_with("siliconflow.com") {
        true
    } else if host.ends_with("siliconflow.cn") {
        false
    } else {
        region_global
    }
}

fn parse(body: &Value, currency: &str) -> Result<Balance, ProviderError> {
    let code = body.get("code").and_then(Value::as_i64);
    if code != Some(20000) {
        let message = body
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("no message");
        return Err(ProviderError::Api {
            message: format!(
                "code {} ({})",
                code.map_or("missing".into(), |c| c.to_string()),
                message
            ),
        });
    }
    let total = amount_at(body, "/data/totalBalance")?;
    let part = |k: &str| body.pointer(&format!("/data/{k}")).and_then(amount);
    let parts = match (part("balance"), part("chargeBalance")) {
        (Some(gift), Some(charged)) => format!("gift {gift} + charged {charged} {currency}; "),
        _ => String::new(),
    };
    Ok(
        balance(total, currency, BalanceKind::PrepaidBalance)?.with_note(format!(
            "{parts}vouchers are not included (user/info does not report them)"
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::test_support::fixture;

    #[test]
    fn total_balance_string_is_read_with_a_note_on_vouchers() {
        let body = fixture(include_str!(
            "../../../../tests/fixtures/siliconflow_user_info.json"
        ));
        let b = parse(&body, "CNY").expect("parses");
        assert_eq!(
            (b.amount, b.currency.as_str()),
            (rust_decimal_macros::dec!(88.88), "CNY")
        );
        assert_eq!(
            b.note.as_deref(),
            Some("gift 0.88 + charged 88.00 CNY; vouchers are not included (user/info does not report them)")
        );
    }

    #[test]
    fn the_international_host_is_in_usd_and_the_china_host_in_cny() {
        assert!(is_global("https://api.siliconflow.com", false));
        assert!(!is_global("https://api.siliconflow.cn", true));
        // Behind a proxy (or the fake server) the region decides.
        assert!(is_global("http://127.0.0.1:9", true));
        assert!(!is_global("http://127.0.0.1:9", false));
        let p = ProjectConfig {
            options: crate::providers::Options::of(serde_json::json!({"region": "global"})),
            provider: "siliconflow".into(),
            ..crate::project::test_project()
        };
        assert_eq!(SiliconFlow.base_url_for(&p), "https://api.siliconflow.com");
    }

    #[test]
    fn region_and_path_are_checked_by_field() {
        let p = ProjectConfig {
            options: crate::providers::Options::of(
                serde_json::json!({"region": "us", "path": "v1/balance"}),
            ),
            provider: "siliconflow".into(),
            ..crate::project::test_project()
        };
        let fields: Vec<_> = SiliconFlow
            .check_options(&p)
            .iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(fields, ["region", "path"]);
    }

    #[test]
    fn non_20000_code_is_a_provider_error_even_with_http_200() {
        let err = parse(
            &fixture(r#"{"code":30001,"message":"Unauthorized","data":null}"#),
            "CNY",
        )
        .expect_err("error code");
        assert_eq!(
            err.to_string(),
            "provider reported an error: code 30001 (Unauthorized)"
        );
    }
}
