//! The Prometheus rules and the Grafana dashboard in `infra/`: promtool checks and unit-tests the
//! rules, and every query of the dashboard may only name series that `balance-alert serve` exports.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

/// Every series the metrics port exports (the README's metrics section): the Python tool's, the
/// architecture document's and ours. A dashboard query naming anything else shows "no data".
const EXPORTED: &[&str] = &[
    "balance_alert_balance",
    "balance_alert_threshold",
    "balance_alert_ratio",
    "balance_alert_status",
    "balance_alert_subscription_days",
    "balance_alert_subscription_amount",
    "balance_alert_subscription_status",
    "balance_alert_last_check_timestamp",
    "balance_alert_check_success",
    "balance_alert_email_scan_total",
    "balance_alert_email_alerts_total",
    "balance_alert_provider_api_calls_total",
    "balance_alert_cache_hits_total",
    "balance_alert_cache_misses_total",
    "balance_alert_config_reload_total",
    "balance_alert_active_projects_count",
    "balance_alert_failed_checks_total",
    "balance_alert_circuit_breaker_state",
    "balance_alert_background_task_lag_seconds",
    "balance_alert_project_info",
    "balance_alert_project_balance",
    "balance_alert_active_projects",
    "balance_alert_alerts_total",
    "balance_alert_project_state",
    "balance_alert_project_last_success_timestamp",
    "balance_alert_forecast_days_until_empty",
    "balance_alert_deliveries_total",
    "balance_alert_delivery_pending",
];

/// The exported histograms: each is queried through its `_bucket`, `_count` and `_sum` series.
const HISTOGRAMS: &[&str] = &[
    "balance_alert_email_scan_duration_seconds",
    "balance_alert_monitor_execution_time_seconds",
    "balance_alert_provider_api_latency_seconds",
    "balance_alert_webhook_delivery_time_seconds",
    "balance_alert_http_request_duration_seconds",
];

fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Runs promtool with `args` and fails with its output unless it succeeds. A missing promtool
/// fails too: these files would otherwise ship unchecked.
fn promtool(args: &[&str]) {
    let program = std::env::var("PROMTOOL").unwrap_or_else(|_| "promtool".into());
    let output = match Command::new(&program).args(args).output() {
        Ok(output) => output,
        Err(e) => panic!(
            "cannot run {program} ({e}); install it with `apt-get install prometheus` \
             (Debian/Ubuntu) or point PROMTOOL at the binary"
        ),
    };
    assert!(
        output.status.success(),
        "promtool {} failed ({}):\n{}{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
}

#[test]
fn prometheus_rules_pass_promtool_check() {
    let rules = repo_path("infra/prometheus/rules.yml");
    promtool(&[
        "check",
        "rules",
        rules.to_str().expect("the repository path is UTF-8"),
    ]);
}

#[test]
fn prometheus_rules_pass_their_unit_tests() {
    let tests = repo_path("infra/prometheus/rules_test.yml");
    promtool(&[
        "test",
        "rules",
        tests.to_str().expect("the repository path is UTF-8"),
    ]);
}

fn is_exported(name: &str) -> bool {
    EXPORTED.contains(&name)
        || HISTOGRAMS.iter().any(|h| {
            name.strip_prefix(h)
                .is_some_and(|suffix| ["_bucket", "_count", "_sum"].contains(&suffix))
        })
}

/// PromQL words that look like metric names but are not: operators and modifiers, aggregations
/// (which may be followed by `by (...)` rather than by a parenthesis) and number literals.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "sum",
    "min",
    "max",
    "avg",
    "count",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "quantile",
    "count_values",
    "group",
    "inf",
    "nan",
];

/// Keywords followed by a parenthesised list of label names, not of expressions.
const LABEL_LISTS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// The metric names a PromQL expression selects. A small scanner rather than a parser: it skips
/// strings, label matchers `{...}`, ranges `[...]`, label lists `by (...)`, numbers, Grafana
/// variables and function names, and keeps every other identifier.
fn metric_names(expr: &str) -> Vec<String> {
    let chars: Vec<char> = expr.chars().collect();
    let skip_to = |from: usize, close: char| {
        let end = chars[from + 1..].iter().position(|&c| c == close);
        end.map_or(chars.len(), |e| from + 1 + e + 1)
    };
    let next_non_space = |from: usize| chars[from..].iter().find(|c| !c.is_whitespace()).copied();
    let mut names = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' | '\'' | '`' => i = skip_to(i, c),
            '{' => i = skip_to(i, '}'),
            '[' => i = skip_to(i, ']'),
            '$' => {
                i += 1;
                while i < chars.len() && (chars[i].is_alphanumeric() || "_{}:".contains(chars[i])) {
                    i += 1;
                }
            }
            // Numbers, durations (30m) and exponents (1e3) are one token.
            '0'..='9' | '.' => {
                while i < chars.len() && (chars[i].is_alphanumeric() || "._".contains(chars[i])) {
                    i += 1;
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' || c == ':' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || "_:".contains(chars[i]))
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let lower = word.to_ascii_lowercase();
                if LABEL_LISTS.contains(&lower.as_str()) && next_non_space(i) == Some('(') {
                    let open = i + chars[i..]
                        .iter()
                        .position(|&c| c == '(')
                        .expect("seen above");
                    i = skip_to(open, ')');
                } else if KEYWORDS.contains(&lower.as_str()) || next_non_space(i) == Some('(') {
                    // An aggregation, operator or function, not a series.
                } else {
                    names.push(word);
                }
            }
            _ => i += 1,
        }
    }
    names
}

#[test]
fn metric_names_finds_the_series_and_nothing_else() {
    let expr = r#"histogram_quantile(0.95, sum by (le, provider) (rate(a_bucket{x=~"$v"}[$__rate_interval])))
        / on (provider) group_left (kind) 3600 * b offset 30m or vector(1e3) unless c:rec:sum > bool 0"#;
    assert_eq!(metric_names(expr), ["a_bucket", "b", "c:rec:sum"]);
}

/// Every `expr` in the dashboard, with where it is (panel title and refId).
fn dashboard_exprs(value: &Value, place: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            let place = match (map.get("title"), map.get("refId")) {
                (_, Some(Value::String(r))) => format!("{place} / {r}"),
                (Some(Value::String(t)), _) => t.clone(),
                _ => place.to_string(),
            };
            if let Some(Value::String(expr)) = map.get("expr") {
                out.push((place.clone(), expr.clone()));
            }
            for v in map.values() {
                dashboard_exprs(v, &place, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| dashboard_exprs(v, place, out)),
        _ => {}
    }
}

fn dashboard() -> Value {
    let path = repo_path("infra/grafana/balance-alert-prometheus.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("the dashboard is valid JSON")
}

#[test]
fn grafana_dashboard_queries_only_exported_series() {
    let dashboard = dashboard();
    let mut exprs = Vec::new();
    dashboard_exprs(&dashboard, "dashboard", &mut exprs);
    // A renamed key or an emptied dashboard must not pass by having nothing to check.
    assert!(exprs.len() >= 20, "only {} queries found", exprs.len());

    let unknown: Vec<String> = exprs
        .iter()
        .flat_map(|(place, expr)| {
            metric_names(expr)
                .into_iter()
                .filter(|name| !is_exported(name))
                .map(move |name| format!("{place}: {name} in `{expr}`"))
        })
        .collect();
    assert!(
        unknown.is_empty(),
        "series that are not exported:\n{}",
        unknown.join("\n")
    );

    // The template variables query series too (Grafana's label_values(metric, label)).
    let variables = dashboard["templating"]["list"]
        .as_array()
        .expect("templating.list");
    for var in variables.iter().filter(|v| v["type"] == "query") {
        let query = var["definition"]
            .as_str()
            .expect("a query variable has a definition");
        let metric = query
            .strip_prefix("label_values(")
            .and_then(|rest| rest.split(',').next())
            .unwrap_or_else(|| panic!("variable {}: unexpected query {query}", var["name"]));
        assert!(
            is_exported(metric.trim()),
            "variable {}: {metric} is not exported",
            var["name"]
        );
    }
}

#[test]
fn grafana_dashboard_uses_the_datasource_variable_everywhere() {
    let dashboard = dashboard();
    let variables = dashboard["templating"]["list"]
        .as_array()
        .expect("templating.list");
    let ds = variables
        .iter()
        .find(|v| v["name"] == "DS_PROMETHEUS")
        .expect("a DS_PROMETHEUS variable");
    assert_eq!(ds["type"], "datasource");
    assert_eq!(ds["query"], "prometheus");

    // Every panel and every query names the variable, so the import asks for one data source
    // and nothing points at a uid from the machine the dashboard was drawn on.
    let panels = dashboard["panels"].as_array().expect("panels");
    for panel in panels.iter().filter(|p| p["type"] != "row") {
        let title = &panel["title"];
        assert_eq!(
            panel["datasource"]["uid"], "${DS_PROMETHEUS}",
            "panel {title}"
        );
        for target in panel["targets"].as_array().expect("a panel has targets") {
            assert_eq!(
                target["datasource"]["uid"], "${DS_PROMETHEUS}",
                "panel {title}"
            );
        }
    }
}
