//! Config loading: the Python tool's file unchanged, env-only mode, hybrid overrides, errors.

use std::collections::HashMap;

use balance_alert_core::config::{self, ConfigError, Mode};
use balance_alert_core::model::subscription::Cycle;
use serde_json::json;

use crate::util::parse_config;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    crate::util::env_map(pairs)
}

const PYTHON_CONFIG: &str = include_str!("fixtures/python_config.json");

fn python_env() -> HashMap<String, String> {
    env(&[
        ("API_KEY", "sk-test-0000000000001234"),
        (
            "WEBHOOK_URL",
            "https://open.feishu.cn/open-apis/bot/v2/hook/token-abc",
        ),
        ("WEBHOOK_SOURCE", "ops"),
        ("WEBHOOK_TYPE", "feishu"),
        ("EMAIL_PASSWORD", "pw"),
    ])
}

#[test]
fn python_tools_config_loads_unchanged() {
    let loaded = config::parse(PYTHON_CONFIG, &python_env()).expect("the peer's file loads");
    let c = &loaded.config;
    assert_eq!(c.projects.len(), 4);
    assert_eq!(c.projects[0].api_key.expose(), "sk-test-0000000000001234");
    assert_eq!(c.projects[1].owner_project.as_deref(), Some("chatbot"));
    assert_eq!(c.projects[1].threshold, 50.0);
    assert!(!c.projects[3].enabled);
    assert_eq!(c.subscriptions.len(), 4);
    assert_eq!(c.subscriptions[2].cycle, Cycle::YearlyAnniversary);
    assert_eq!(c.subscriptions[3].cycle, Cycle::Weekly { renewal_day: 1 });
    assert_eq!(c.email.len(), 2);
    let hook = c.webhook.as_ref().expect("webhook configured");
    assert_eq!(
        (hook.kind.as_str(), hook.source.as_str()),
        ("feishu", "ops")
    );
    assert_eq!(c.settings.balance_refresh_interval_seconds, 3600);
    // Unsupported providers and the disabled mailbox's unset variable are warnings only.
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("projects[2].provider: provider \"uniapi\"")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("QQ_PASSWORD_NOT_SET")),
        "{warnings:?}"
    );
    // The raw document keeps placeholders and unknown fields for write-back.
    let raw = loaded.raw.expect("raw kept");
    assert_eq!(raw["projects"][0]["api_key"], "${API_KEY}");
    assert_eq!(raw["projects"][0]["_comment"], "key from API_KEY");
}

#[test]
fn unset_placeholder_is_an_error_naming_the_variable_and_path() {
    let mut e = python_env();
    e.remove("API_KEY");
    let Err(ConfigError::Invalid(problems)) = config::parse(PYTHON_CONFIG, &e) else {
        panic!("expected validation problems");
    };
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(text.contains(&"projects[0].api_key: environment variable API_KEY is not set; set it or replace \"${API_KEY}\" with a value".to_string()), "{text:?}");
    // The disabled project's placeholder is not an error.
    assert!(
        !text.iter().any(|t| t.starts_with("projects[3]")),
        "{text:?}"
    );
    // Reported once: not again as "api_key is required" for the empty stand-in.
    assert_eq!(
        text.iter()
            .filter(|t| t.starts_with("projects[0].api_key"))
            .count(),
        1,
        "{text:?}"
    );
}

#[test]
fn secrets_never_appear_in_debug_output_or_errors() {
    let loaded = config::parse(PYTHON_CONFIG, &python_env()).expect("loads");
    let debug = format!("{:?} {loaded:?}", loaded.config);
    assert!(!debug.contains("sk-test-0000000000001234"));
    assert!(!debug.contains("token-abc"));
    assert!(!debug.contains("\"pw\""));
}

#[test]
fn env_only_mode_builds_projects_from_indexed_variables() {
    let e = env(&[
        ("USE_ENV_CONFIG", "true"),
        ("PROJECT_1_NAME", "Main"),
        ("PROJECT_1_PROVIDER", "openrouter"),
        ("PROJECT_1_API_KEY", "k1"),
        ("PROJECT_1_THRESHOLD", "25.5"),
        ("PROJECT_2_NAME", "DS"),
        ("PROJECT_2_PROVIDER", "deepseek"),
        ("PROJECT_2_API_KEY", "k2"),
        ("PROJECT_2_THRESHOLD", "10"),
        ("PROJECT_2_ENABLED", "false"),
        ("SUBSCRIPTION_1_NAME", "Copilot"),
        ("SUBSCRIPTION_1_CYCLE_TYPE", "yearly"),
        ("SUBSCRIPTION_1_RENEWAL_DAY", "1231"),
        ("EMAIL_1_USERNAME", "me@example.com"),
        ("EMAIL_1_HOST", "imap.example.com"),
        ("MAX_CONCURRENT_CHECKS", "500"),
    ]);
    let loaded = config::load(std::path::Path::new("/nonexistent/config.json"), &e)
        .expect("env config loads");
    assert_eq!(loaded.mode, Mode::Env);
    let c = loaded.config;
    assert_eq!(c.projects.len(), 2);
    assert_eq!(c.projects[0].threshold, 25.5);
    assert!(!c.projects[1].enabled);
    assert_eq!(
        c.subscriptions[0].cycle,
        Cycle::Yearly { month: 12, day: 31 }
    );
    assert_eq!(c.email[0].host, "imap.example.com");
    assert_eq!(c.settings.max_concurrent_checks, 500);
}

#[test]
fn env_only_mode_names_the_variable_to_fix() {
    let e = env(&[
        ("USE_ENV_CONFIG", "true"),
        ("PROJECT_1_NAME", "Main"),
        ("PROJECT_1_PROVIDER", "openrouter"),
        ("PROJECT_1_API_KEY", "k1"),
        ("PROJECT_1_THRESHOLD", "abc"),
    ]);
    let Err(ConfigError::Invalid(problems)) =
        config::load(std::path::Path::new("/nonexistent"), &e)
    else {
        panic!("expected problems");
    };
    assert_eq!(
        problems[0].to_string(),
        "PROJECT_1_THRESHOLD: must be a number ≥ 0, got \"abc\""
    );
    assert_eq!(problems.len(), 1, "no spurious critical_threshold problem: {problems:?}");
}

#[test]
fn env_only_mode_names_setting_variables() {
    let e = env(&[
        ("USE_ENV_CONFIG", "true"),
        ("PROJECT_1_NAME", "Main"),
        ("PROJECT_1_API_KEY", "k1"),
        ("MAX_RETRIES", "abc"),
        ("TIMEZONE", "Asia/Shanghai"),
    ]);
    let Err(ConfigError::Invalid(problems)) =
        config::load(std::path::Path::new("/nonexistent"), &e)
    else {
        panic!("expected problems");
    };
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 1, "{text:?}");
    assert!(text[0].starts_with("MAX_RETRIES: "), "{text:?}");
}

#[test]
fn hybrid_mode_names_the_variable_that_overrides_a_setting() {
    let doc = json!({"settings": {"max_retries": 2}, "projects": []});
    let Err(ConfigError::Invalid(problems)) =
        config::parse(&doc.to_string(), &env(&[("MAX_RETRIES", "abc")]))
    else {
        panic!("expected problems");
    };
    assert!(
        problems[0]
            .to_string()
            .starts_with("MAX_RETRIES (overrides settings.max_retries): "),
        "{problems:?}"
    );
}

#[test]
fn hybrid_mode_applies_env_overrides_like_the_python_tool() {
    let doc = json!({"projects": [
        {"name": "my-proj", "provider": "openrouter", "api_key": "from-file", "threshold": 1}
    ]});
    let c = parse_config(
        &doc,
        &[
            ("MY_PROJ_API_KEY", "from-env"),
            ("MAX_CONCURRENT_CHECKS", "7"),
        ],
    )
    .expect("loads");
    assert_eq!(c.projects[0].api_key.expose(), "from-env");
    assert_eq!(c.settings.max_concurrent_checks, 7);

    // PROJECT_n_* in the environment replaces the file's project list.
    let c = parse_config(
        &doc,
        &[
            ("PROJECT_1_NAME", "E"),
            ("PROJECT_1_PROVIDER", "moonshot"),
            ("PROJECT_1_API_KEY", "k"),
            ("PROJECT_1_THRESHOLD", "3"),
        ],
    )
    .expect("loads");
    assert_eq!(c.projects.len(), 1);
    assert_eq!(c.projects[0].provider, "moonshot");
}

#[test]
fn our_additions_per_project_are_read() {
    let doc = json!({"projects": [{
        "name": "a", "provider": "deepseek", "api_key": "k", "threshold": 10,
        "critical_threshold": 2, "base_url": "http://127.0.0.1:9/", "currency": "usd",
        "check_interval": 600
    }]});
    let c = parse_config(&doc, &[]).expect("loads");
    let p = &c.projects[0];
    assert_eq!(p.critical_threshold, Some(2.0));
    assert_eq!(p.base_url.as_deref(), Some("http://127.0.0.1:9"));
    assert_eq!(p.currency.as_deref(), Some("USD"));
    assert_eq!(p.check_interval, Some(600));
}

#[test]
fn invalid_json_reports_line_and_column() {
    let err = config::parse("{\n  \"projects\": [,]\n}", &env(&[])).expect_err("bad JSON");
    let text = err.to_string();
    assert!(text.contains("line 2"), "{text}");
}
