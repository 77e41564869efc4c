//! Zhipu / BigModel GLM Coding Plan, and Z.ai: `GET /api/monitor/usage/quota/limit` on
//! `open.bigmodel.cn` (China, the default) or `api.z.ai` (`region: "global"`; a `base_url`
//! wins), with the raw key in `Authorization` (no `Bearer`) → `data.limits[]`, one entry per
//! window (`unit` 1 = days, 3 = hours, 5 = minutes, 6 = weeks; `number` of them; `percentage`
//! used; `nextResetTime` in ms). The token budget is `TOKENS_LIMIT`, or `CREDIT_LIMIT` on
//! today's credit-based plans; `TIME_LIMIT` is the MCP tools quota (web search, reader calls),
//! not a token budget. `success:false` inside HTTP 200 is a failure. The reading is the
//! window's remaining percent, a `quota_window` with its reset time. Option `window`: `5h`
//! (default), `weekly` or `mcp`; watch several windows with one project each. `monthly` (which
//! used to read the MCP entry) is refused with a message saying so.

use balance_alert_model::{Balance, BalanceKind, Decimal};
use serde_json::Value;

use super::{
    amount, balance, reported_error, snippet, Http, OptionProblem, Provider, ProviderError,
    ReadRequest,
};
use crate::project::ProjectConfig;

pub struct Zhipu;

const WINDOWS: &[&str] = &["5h", "weekly", "mcp"];
const GLOBAL: &str = "https://api.z.ai";
const MONTHLY_IS_MCP: &str = "\"monthly\" is no longer accepted: it read the TIME_LIMIT entry, \
     which is the MCP tools quota (web search and reader calls; its unit 5 is minutes, not \
     months), not a token budget: use \"mcp\" to watch that quota, or \"5h\" / \"weekly\" \
     for the token (or credit) windows";

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

    fn base_url_for(&self, p: &ProjectConfig) -> &'static str {
        if p.options.is_global() {
            GLOBAL
        } else {
            self.default_base_url()
        }
    }

    fn kind(&self, _: &ProjectConfig) -> BalanceKind {
        BalanceKind::QuotaWindow
    }

    fn check_options(&self, p: &ProjectConfig) -> Vec<OptionProblem> {
        let mut out = Vec::new();
        if p.options.str("window") == Some("monthly") {
            out.push(OptionProblem::new("window", MONTHLY_IS_MCP));
        } else {
            p.options.check_one_of("window", WINDOWS, &mut out);
        }
        p.options
            .check_region("cn = open.bigmodel.cn, global = api.z.ai", &mut out);
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

/// Which window an entry is: the token (or credit) budget's 5-hour and weekly windows, and the
/// MCP tools quota whatever its period.
fn window_of(entry: &Value) -> Option<&'static str> {
    let unit = entry.get("unit").and_then(Value::as_i64);
    let number = entry.get("number").and_then(Value::as_i64).unwrap_or(1);
    match (entry.get("type").and_then(Value::as_str), unit, number) {
        (Some("TIME_LIMIT"), _, _) => Some("mcp"),
        (Some("TOKENS_LIMIT" | "CREDIT_LIMIT"), Some(3), 5) => Some("5h"),
        (Some("TOKENS_LIMIT" | "CREDIT_LIMIT"), Some(6), 1) => Some("weekly"),
        _ => None,
    }
}

/// What an entry counts, for the note.
fn what(entry: &Value) -> &'static str {
    match entry.get("type").and_then(Value::as_str) {
        Some("CREDIT_LIMIT") => "credits",
        Some("TIME_LIMIT") => "MCP tool calls",
        _ => "tokens",
    }
}

fn parse(body: &Value, window: &str) -> Result<Balance, ProviderError> {
    if window == "monthly" {
        return Err(ProviderError::Api {
            message: format!("window {MONTHLY_IS_MCP}"),
        });
    }
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
    Ok(b.with_note(format!(
        "{window} window ({}): {}% used",
        what(entry),
        used.normalize()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn fixture() -> Value {
        serde_json::from_str(include_str!("../../../../tests/fixtures/zhipu_quota.json"))
            .expect("fixture")
    }

    fn credit_plan() -> Value {
        serde_json::from_str(include_str!(
            "../../../../tests/fixtures/zhipu_credit_quota.json"
        ))
        .expect("fixture")
    }

    #[test]
    fn each_window_is_its_own_figure_with_its_reset() {
        let b = parse(&fixture(), "5h").expect("5h");
        assert_eq!(
            (b.amount, b.currency.as_str(), b.resets_at),
            (dec!(66), "percent", Some(1768507567))
        );
        assert_eq!(b.note.as_deref(), Some("5h window (tokens): 34% used"));
        let w = parse(&fixture(), "weekly").expect("weekly");
        assert_eq!((w.amount, w.resets_at), (dec!(90), Some(1768900000)));
    }

    #[test]
    fn the_time_limit_entry_is_the_mcp_quota_and_monthly_is_refused() {
        let m = parse(&fixture(), "mcp").expect("mcp");
        assert_eq!(m.amount, dec!(0));
        assert_eq!(
            m.note.as_deref(),
            Some("mcp window (MCP tool calls): 100% used")
        );
        let e = parse(&fixture(), "monthly").expect_err("monthly is refused");
        assert!(e.to_string().contains("MCP tools quota"), "{e}");
        let p = ProjectConfig {
            options: crate::providers::Options::of(serde_json::json!({"window": "monthly"})),
            provider: "zhipu".into(),
            ..crate::project::test_project()
        };
        let problems = Zhipu.check_options(&p);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].field, "window");
        assert!(problems[0].message.contains("use \"mcp\""), "{problems:?}");
    }

    #[test]
    fn credit_plans_report_their_windows_as_credit_limit() {
        // GIVEN today's credit-based plan: CREDIT_LIMIT entries, no TOKENS_LIMIT
        let b = parse(&credit_plan(), "5h").expect("the default window reads credits");
        assert_eq!((b.amount, b.resets_at), (dec!(95), Some(1_786_073_946)));
        assert_eq!(b.note.as_deref(), Some("5h window (credits): 5% used"));
        let w = parse(&credit_plan(), "weekly").expect("weekly");
        assert_eq!(w.amount, dec!(90));
    }

    #[test]
    fn region_global_is_z_ai() {
        let p = ProjectConfig {
            options: crate::providers::Options::of(serde_json::json!({"region": "global"})),
            provider: "zai".into(),
            ..crate::project::test_project()
        };
        assert_eq!(Zhipu.base_url_for(&p), "https://api.z.ai");
        assert!(Zhipu.check_options(&p).is_empty());
    }

    #[test]
    fn success_false_inside_200_is_a_failure() {
        let body = serde_json::json!({"code": 1001, "msg": "Authorization Token Missing", "success": false});
        let e = parse(&body, "5h").expect_err("fails");
        assert!(e.to_string().contains("Authorization Token Missing"), "{e}");
    }
}
