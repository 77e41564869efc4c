//! MiniMax Token Plan / Coding Plan: `GET /v1/token_plan/remains` (Bearer; today's plans), then
//! the older `GET /v1/api/openplatform/coding_plan/remains` when the first is not there for the
//! key (401/403/404/405/410, or `base_resp.status_code` 1004). Hosts: `api.minimaxi.com` (China,
//! the default) and `api.minimax.io` (`region: "global"`); a `base_url` wins.
//!
//! The body holds `model_remains[]` (at the top level, or under `data`), one *lane* per entry
//! named by `model_name`: `general` is the coding (text) quota — older plans name a text model,
//! `MiniMax-M*` — and other lanes such as `video` have their own counts and can come first. The
//! adapter reads the lane named by the `lane` option (`model` is its older spelling), else the
//! coding lane, never merely the first entry. `base_resp.status_code` ≠ 0 (a number, or a
//! string such as `"0"`) inside HTTP 200 is a failure.
//!
//! A window's figure is `current_{interval,weekly}_remaining_percent` when present (token-plan
//! bodies report totals of 0), else `current_*_usage_count` — careful: the count *remaining* —
//! of `current_*_total_count`. The reading is the remaining percent, a `quota_window` with its
//! reset time (`end_time` / `weekly_end_time`, ms). Option `window`: `5h` (default) or `weekly`.

use balance_alert_model::{Balance, BalanceKind, Decimal};
use serde_json::Value;

use super::{amount, balance, snippet, Http, OptionProblem, Provider, ProviderError, ReadRequest};
use crate::project::ProjectConfig;

pub struct MiniMax;

/// Today's Token Plan endpoint, tried first.
const TOKEN_PLAN: &str = "/v1/token_plan/remains";
/// The older Coding Plan endpoint, tried when the first is not there for the key.
const CODING_PLAN: &str = "/v1/api/openplatform/coding_plan/remains";
const GLOBAL: &str = "https://api.minimax.io";
/// MiniMax's "invalid api key" inside HTTP 200: a key of the other plan family.
const KEY_NOT_FOR_THIS_PATH: i64 = 1004;
const RETIRED: &str = "MiniMax answers 410 on both /v1/token_plan/remains and \
     /v1/api/openplatform/coding_plan/remains: check the README's minimax row for the current \
     path, or set base_url to the host your plan uses (api.minimaxi.com or api.minimax.io)";

#[async_trait::async_trait]
impl Provider for MiniMax {
    fn name(&self) -> &'static str {
        "minimax"
    }

    fn default_base_url(&self) -> &'static str {
        "https://api.minimaxi.com"
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
        let o = &p.options;
        let mut out = Vec::new();
        o.check_one_of("window", &["5h", "weekly"], &mut out);
        o.check_region("cn = api.minimaxi.com, global = api.minimax.io", &mut out);
        for key in ["lane", "model"] {
            if let Some(v) = o.get(key) {
                if o.str(key).is_none() {
                    out.push(OptionProblem::new(
                        key,
                        format!(
                            "must be a lane's model_name such as \"general\" (the coding quota) \
                             or \"video\", got {v}"
                        ),
                    ));
                }
            }
        }
        if o.get("lane").is_some() && o.get("model").is_some() {
            out.push(OptionProblem::new(
                "model",
                "is the older name of lane: set only lane",
            ));
        }
        out
    }

    async fn read(&self, http: &Http, req: &ReadRequest<'_>) -> Result<Balance, ProviderError> {
        let o = req.options();
        let first = remains(http, req, TOKEN_PLAN).await;
        let try_older = match &first {
            Err(e) => not_served_here(e),
            Ok(body) => status_code(body) == Some(KEY_NOT_FOR_THIS_PATH),
        };
        let body = if try_older {
            match remains(http, req, CODING_PLAN).await {
                Ok(body) => body,
                // The older path is not there either: the first answer says more.
                Err(ProviderError::Upstream {
                    status: 404 | 405, ..
                }) => first?,
                Err(e) => return Err(e.with_retired_advice(RETIRED)),
            }
        } else {
            first?
        };
        parse(
            &body,
            o.str("window").unwrap_or("5h"),
            o.str("lane").or_else(|| o.str("model")),
        )
    }
}

async fn remains(http: &Http, req: &ReadRequest<'_>, path: &str) -> Result<Value, ProviderError> {
    http.send(http.get(&req.url(path)).bearer_auth(req.api_key))
        .await?
        .json()
}

/// The key's plan is not served at this path (so the other one may be).
fn not_served_here(e: &ProviderError) -> bool {
    matches!(
        e,
        ProviderError::Auth { .. }
            | ProviderError::Retired { .. }
            | ProviderError::Upstream {
                status: 404 | 405,
                ..
            }
    )
}

/// `base_resp.status_code` (at the top level or under `data`), a number or a numeric string.
fn status_code(body: &Value) -> Option<i64> {
    let code = body
        .pointer("/base_resp/status_code")
        .or_else(|| body.pointer("/data/base_resp/status_code"))?;
    code.as_i64()
        .or_else(|| code.as_str().and_then(|s| s.trim().parse().ok()))
}

fn lane_name(entry: &Value) -> Option<&str> {
    entry.get("model_name").and_then(Value::as_str)
}

/// The coding (text) quota: `general` on token plans, a `MiniMax-M…` model on older ones.
fn is_coding_lane(name: &str) -> bool {
    let lower = name.trim().to_lowercase();
    lower == "general" || lower.contains("minimax-m") || lower.starts_with("m2.")
}

fn parse(body: &Value, window: &str, lane: Option<&str>) -> Result<Balance, ProviderError> {
    let status = status_code(body);
    if status != Some(0) {
        let message = body
            .pointer("/base_resp/status_msg")
            .or_else(|| body.pointer("/data/base_resp/status_msg"))
            .and_then(Value::as_str)
            .unwrap_or("");
        return Err(ProviderError::Api {
            message: snippet(
                format!(
                    "status {}: {message}",
                    status.map_or("missing".into(), |s| s.to_string())
                )
                .as_bytes(),
            ),
        });
    }
    let lanes = body
        .get("model_remains")
        .or_else(|| body.pointer("/data/model_remains"))
        .and_then(Value::as_array)
        .ok_or_else(|| ProviderError::Unparseable {
            reason: "missing model_remains".into(),
            snippet: snippet(body.to_string().as_bytes()),
        })?;
    let named =
        |wanted: &dyn Fn(&str) -> bool| lanes.iter().find(|e| lane_name(e).is_some_and(wanted));
    let entry = match lane {
        Some(l) => named(&|n: &str| n.eq_ignore_ascii_case(l)),
        None => {
            named(&|n: &str| n.eq_ignore_ascii_case("general")).or_else(|| named(&is_coding_lane))
        }
    }
    .ok_or_else(|| {
        let names = lanes
            .iter()
            .filter_map(lane_name)
            .collect::<Vec<_>>()
            .join(", ");
        ProviderError::Unparseable {
            reason: match lane {
                Some(l) => {
                    format!("no lane {l:?} in the plan (lanes: {names}); fix the project's lane")
                }
                None => format!(
                    "no coding lane (general, or a MiniMax-M text model) in the plan (lanes: \
                     {names}); set the project's lane"
                ),
            },
            snippet: String::new(),
        }
    })?;
    let name = lane_name(entry).unwrap_or("");
    let (prefix, end_key) = match window {
        "weekly" => ("current_weekly", "weekly_end_time"),
        _ => ("current_interval", "end_time"),
    };
    let field = |k: &str| entry.get(format!("{prefix}_{k}").as_str()).and_then(amount);
    let (left, how) = match field("remaining_percent") {
        Some(p) => (p, format!("{}% left", p.normalize())),
        None => {
            let missing = |k: &str| ProviderError::Unparseable {
                reason: format!(
                    "the {window} window of lane {name} has neither {prefix}_remaining_percent \
                     nor {prefix}_{k}"
                ),
                snippet: snippet(entry.to_string().as_bytes()),
            };
            let total = field("total_count").ok_or_else(|| missing("total_count"))?;
            let left = field("usage_count").ok_or_else(|| missing("usage_count"))?;
            if total <= Decimal::ZERO {
                return Err(ProviderError::Unparseable {
                    reason: format!(
                        "lane {name} has no active {window} window (total 0, no remaining percent)"
                    ),
                    snippet: String::new(),
                });
            }
            (
                (left / total * Decimal::ONE_HUNDRED).round_dp(2),
                format!("{left} of {total} prompts left"),
            )
        }
    };
    let percent = left.clamp(Decimal::ZERO, Decimal::ONE_HUNDRED);
    let mut b = balance(percent, "percent", BalanceKind::QuotaWindow)?;
    b.resets_at = entry
        .get(end_key)
        .and_then(Value::as_i64)
        .map(|ms| ms / 1000);
    Ok(b.with_note(format!("{window} window, {name} lane: {how}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::test_support::fixture;
    use rust_decimal_macros::dec;

    /// An older Coding Plan body (one text-model lane, counts and percentages agree).
    fn coding_plan() -> Value {
        fixture(include_str!(
            "../../../../tests/fixtures/minimax_remains.json"
        ))
    }

    /// Today's Token Plan body: under `data`, `status_code` "0", a `video` lane first with its
    /// own counts, the `general` lane with totals 0 and string percentages.
    fn token_plan() -> Value {
        fixture(include_str!(
            "../../../../tests/fixtures/minimax_token_plan.json"
        ))
    }

    #[test]
    fn usage_count_is_what_is_left() {
        let b = parse(&coding_plan(), "5h", None).expect("5h");
        assert_eq!((b.amount, b.resets_at), (dec!(95), Some(1700018000)));
        assert_eq!(
            b.note.as_deref(),
            Some("5h window, MiniMax-M* lane: 95% left")
        );
        let w = parse(&coding_plan(), "weekly", Some("MiniMax-M*")).expect("weekly");
        assert_eq!((w.amount, w.resets_at), (dec!(40), Some(1700438400)));
        assert!(parse(&coding_plan(), "5h", Some("nope")).is_err());
        // Without the percent fields the counts give the figure: usage_count is what is left.
        let mut counts = coding_plan();
        let entry = counts
            .pointer_mut("/model_remains/0")
            .and_then(Value::as_object_mut)
            .expect("entry");
        entry.remove("current_interval_remaining_percent");
        let b = parse(&counts, "5h", None).expect("counts");
        assert_eq!(b.amount, dec!(95));
        assert_eq!(
            b.note.as_deref(),
            Some("5h window, MiniMax-M* lane: 475 of 500 prompts left")
        );
    }

    #[test]
    fn the_coding_lane_is_read_even_when_a_video_lane_comes_first() {
        // GIVEN a token plan listing video (70 of 100 left) before general (4 % left)
        let b = parse(&token_plan(), "5h", None).expect("5h");
        // THEN the figure is the coding quota, not the video lane's
        assert_eq!((b.amount, b.resets_at), (dec!(4), Some(1_780_297_200)));
        assert_eq!(b.note.as_deref(), Some("5h window, general lane: 4% left"));
        let w = parse(&token_plan(), "weekly", None).expect("weekly");
        assert_eq!((w.amount, w.resets_at), (dec!(61), Some(1_780_848_000)));
        // The video lane only when asked for, by name.
        let v = parse(&token_plan(), "5h", Some("video")).expect("video");
        assert_eq!(v.amount, dec!(30));
        let e = parse(&token_plan(), "5h", Some("speech")).expect_err("no such lane");
        assert!(e.to_string().contains("lanes: video, general"), "{e}");
    }

    #[test]
    fn a_plan_without_a_coding_lane_is_a_failure_not_the_first_lane() {
        let body = serde_json::json!({"base_resp": {"status_code": 0}, "model_remains": [
            {"model_name": "video", "current_interval_total_count": 100, "current_interval_usage_count": 90}]});
        let e = parse(&body, "5h", None).expect_err("no coding lane");
        assert!(e.to_string().contains("set the project's lane"), "{e}");
    }

    #[test]
    fn status_code_may_be_a_string_or_a_number() {
        assert_eq!(status_code(&token_plan()), Some(0));
        assert_eq!(status_code(&coding_plan()), Some(0));
        let body = serde_json::json!({"base_resp": {"status_code": "1004", "status_msg": "invalid api key"}});
        let e = parse(&body, "5h", None).expect_err("fails");
        assert!(e.to_string().contains("1004: invalid api key"), "{e}");
    }

    #[test]
    fn a_non_zero_status_inside_200_is_a_failure() {
        let body = serde_json::json!({"base_resp": {"status_code": 1004, "status_msg": "invalid api key"}});
        let e = parse(&body, "5h", None).expect_err("fails");
        assert!(e.to_string().contains("1004: invalid api key"), "{e}");
    }

    #[test]
    fn region_chooses_the_host_and_is_checked() {
        let p = |v: Value| ProjectConfig {
            options: crate::providers::Options::of(v),
            provider: "minimax".into(),
            ..crate::project::test_project()
        };
        assert_eq!(
            MiniMax.base_url_for(&p(serde_json::json!({"region": "global"}))),
            "https://api.minimax.io"
        );
        assert_eq!(
            MiniMax.base_url_for(&p(serde_json::json!({}))),
            "https://api.minimaxi.com"
        );
        let problems = MiniMax.check_options(&p(serde_json::json!({"region": "eu", "lane": ""})));
        let fields: Vec<_> = problems.iter().map(|p| p.field).collect();
        assert_eq!(fields, ["region", "lane"]);
        assert!(
            problems[0].message.contains("api.minimax.io"),
            "{problems:?}"
        );
    }
}
