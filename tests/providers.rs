//! Every adapter against the fake provider server, as a user runs it: `balance-alert check`
//! on one config mixing them all shows each project's kind, figure and currency; each adapter
//! has at least one failure mode that is a failure (never a zero), with no key in the text.

use std::time::Duration;

use balance_alert_core::check::engine::CacheMode;
use fake_providers::FakeServer;
use serde_json::{json, Value};

use crate::util::{config_doc, engine, fast_settings, project, stderr, stdout, Workspace};

fn entry(name: &str, provider: &str, url: &str, key: &str, extra: Value) -> Value {
    let mut p = json!({"name": name, "provider": provider, "api_key": key, "threshold": 1,
                       "base_url": url});
    if let (Some(p), Some(extra)) = (p.as_object_mut(), extra.as_object()) {
        p.extend(extra.clone());
    }
    p
}

/// (name, provider, key, extra options, kind, figure, currency)
fn cases(url: &str) -> Vec<(Value, &'static str, f64, &'static str)> {
    vec![
        (
            entry("openrouter", "openrouter", url, "bal:42.5", json!({})),
            "remaining_credit",
            42.5,
            "USD",
        ),
        (
            entry("or-key", "openrouter", url, "orkey:12.25", json!({})),
            "remaining_credit",
            12.25,
            "USD",
        ),
        (
            entry("deepseek", "deepseek", url, "bal:33", json!({})),
            "prepaid_balance",
            33.0,
            "CNY",
        ),
        (
            entry(
                "moonshot",
                "moonshot",
                url,
                "bal:7.25",
                json!({"currency": "USD"}),
            ),
            "prepaid_balance",
            7.25,
            "USD",
        ),
        (
            entry("siliconflow", "siliconflow", url, "bal:88.88", json!({})),
            "prepaid_balance",
            88.88,
            "CNY",
        ),
        (
            entry("volc", "volc", url, "bal_77.01:secret-key", json!({})),
            "prepaid_balance",
            77.01,
            "CNY",
        ),
        (
            entry(
                "aliyun",
                "aliyun",
                url,
                "bal_12345.67:secret-key",
                json!({}),
            ),
            "prepaid_balance",
            12345.67,
            "CNY",
        ),
        (
            entry("uniapi", "uniapi", url, "bal:10.5", json!({})),
            "prepaid_balance",
            10.5,
            "USD",
        ),
        (
            entry("tikhub", "tikhub", url, "bal:99.5", json!({})),
            "prepaid_balance",
            99.5,
            "USD",
        ),
        (
            entry("wxrank", "wxrank", url, "bal:9810", json!({})),
            "remaining_credit",
            9810.0,
            "points",
        ),
        (
            entry("novita", "novita", url, "bal:123.4567", json!({})),
            "prepaid_balance",
            123.4567,
            "USD",
        ),
        (
            entry("openai", "openai", url, "bal:40", json!({"budget": 100})),
            "budget_spend",
            60.0,
            "USD",
        ),
        (
            entry(
                "anthropic",
                "anthropic",
                url,
                "bal:25",
                json!({"budget": 100, "budget_period": "monthly"}),
            ),
            "budget_spend",
            75.0,
            "USD",
        ),
        (
            entry(
                "azure",
                "azure",
                url,
                "bal:30",
                json!({"tenant_id": "t1", "client_id": "c1",
            "scope": "subscriptions/s1", "budget_name": "team", "login_url": url}),
            ),
            "budget_spend",
            70.0,
            "USD",
        ),
        (
            entry("zhipu", "zhipu", url, "bal:34", json!({})),
            "quota_window",
            66.0,
            "percent",
        ),
        (
            entry(
                "zhipu-week",
                "zhipu",
                url,
                "bal:34",
                json!({"window": "weekly"}),
            ),
            "quota_window",
            83.0,
            "percent",
        ),
        (
            entry("minimax", "minimax", url, "bal:47.5", json!({})),
            "quota_window",
            47.5,
            "percent",
        ),
        (
            json!({"name": "groq", "provider": "manual", "threshold": 1, "currency": "USD",
                "balance": 25, "balance_date": chrono::Utc::now().to_rfc3339()}),
            "prepaid_balance",
            25.0,
            "USD",
        ),
        (
            entry(
                "generic",
                "http_json",
                url,
                "bal:5",
                json!({"url": "/v1/billing/usage",
            "value_pointer": "/data/balance", "scale": 100, "kind": "remaining_credit",
            "success_pointer": "/success", "currency": "points"}),
            ),
            "remaining_credit",
            500.0,
            "points",
        ),
        (
            json!({"name": "together", "provider": "manual", "threshold": 1, "currency": "USD",
                   "balance": 25, "balance_date": "2026-11-01", "spend_source": "openai",
                   "api_key": "bal:4", "spend_base_url": url}),
            "prepaid_balance",
            21.0,
            "USD",
        ),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn check_on_a_config_mixing_every_adapter_labels_each_figure() {
    let s = FakeServer::start(Duration::ZERO).await.expect("fake");
    let url = s.base_url();
    let cases = cases(&url);
    let ws = Workspace::new(&config_doc(Value::Array(
        cases.iter().map(|c| c.0.clone()).collect(),
    )));
    let out = ws.run(&["check", "--json"]).await;
    let report: Value =
        serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    for (i, (p, kind, figure, currency)) in cases.iter().enumerate() {
        let row = &report["projects"][i];
        let name = p["name"].as_str().unwrap_or("");
        assert_eq!(row["project"], name);
        assert_eq!(row["success"], true, "{name}: {row}");
        assert_eq!(row["kind"], *kind, "{name}: {row}");
        assert_eq!(row["credits"].as_f64(), Some(*figure), "{name}: {row}");
        assert_eq!(row["currency"], *currency, "{name}: {row}");
    }
    // Budgets say what was spent of what; the manual figure says it is recorded.
    assert_eq!(
        report["projects"][11]["note"],
        "spent 40 of 100 USD budget this month"
    );
    assert_eq!(report["projects"][17]["estimate"], true);
    assert!(report["projects"][14]["resets_at"].as_i64().is_some());
    // The table shows the kind too.
    let table = stdout(&ws.run(&["check"]).await);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("azure") && l.contains("budget_spend") && l.contains("70.00")),
        "{table}"
    );
    assert!(
        table.contains("azure: spent 30 of 100 USD budget (Monthly)"),
        "{table}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_openrouter_key_without_limit_reports_usage_and_never_alerts() {
    let s = FakeServer::start(Duration::ZERO).await.expect("fake");
    let ws = Workspace::new(&config_doc(json!([entry(
        "or",
        "openrouter",
        &s.base_url(),
        "ornolimit:3.5",
        json!({"threshold": 10})
    )])));
    let out = ws.run(&["check", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "no alarm: {}", stdout(&out));
    let row = &serde_json::from_str::<Value>(&stdout(&out)).expect("json")["projects"][0];
    assert_eq!(
        (
            row["credits"].as_f64(),
            &row["unlimited"],
            &row["need_alarm"],
            &row["state"]
        ),
        (Some(3.5), &json!(true), &json!(false), &json!("ok")),
        "{row}"
    );
}

/// A failure mode per adapter: each is a failure with the provider's words, never a figure,
/// and the key is in no message.
#[tokio::test]
async fn every_adapter_fails_loudly_without_leaking_the_key() {
    let s = FakeServer::start(Duration::ZERO).await.expect("fake");
    let url = s.base_url();
    let e = engine(&fast_settings());
    let failing: &[(&str, &str, &str, Value)] = &[
        (
            "openrouter",
            "status:401:sk-or-secret",
            "authentication failed",
            json!({}),
        ),
        ("deepseek", "html", "not JSON", json!({})),
        ("moonshot", "wrongtype", "is not a number", json!({})),
        ("siliconflow", "apierr", "Unauthorized", json!({})),
        (
            "volcengine",
            "apierr:sk-volc-secret",
            "AccountSuspended",
            json!({}),
        ),
        (
            "aliyun",
            "apierr:sk-aliyun-secret",
            "NotApplicable: account suspended",
            json!({}),
        ),
        ("uniapi", "apierr", "account suspended", json!({})),
        ("tikhub", "wrongtype", "not a number", json!({})),
        ("wxrank", "apierr", "积分不足", json!({})),
        ("novita", "status:500:sk-novita", "HTTP 500", json!({})),
        (
            "openai",
            "status:403:sk-admin-secret",
            "authentication failed",
            json!({"budget": 10}),
        ),
        (
            "anthropic",
            "status:401:sk-ant-secret",
            "authentication failed",
            json!({"budget": 10}),
        ),
        (
            "azure",
            "status:401:azure-secret",
            "AADSTS7000215",
            json!({"tenant_id": "t", "client_id": "c",
            "scope": "subscriptions/s", "budget_name": "b"}),
        ),
        ("zhipu", "apierr", "Authorization Token Missing", json!({})),
        ("minimax", "apierr", "account suspended", json!({})),
        (
            "http_json",
            "huge",
            "larger than",
            json!({"url": "/v1/billing/usage", "value_pointer": "/x"}),
        ),
    ];
    for (provider, key, expected, options) in failing {
        let mut p = project("x", provider, &url, key, 1.0);
        let mut entry = json!({"login_url": url});
        if let (Some(o), Some(extra)) = (entry.as_object_mut(), options.as_object()) {
            o.extend(extra.clone());
        }
        p.options =
            balance_alert_core::providers::Options::from_entry(entry.as_object().expect("object"));
        let err = e
            .check(&p, CacheMode::Bypass)
            .await
            .result
            .expect_err(provider);
        let text = err.to_string();
        assert!(text.contains(expected), "{provider}: {text}");
        for part in key.split(':').filter(|p| p.len() >= 6) {
            assert!(!text.contains(part), "{provider} leaked {part}: {text}");
        }
    }
}

/// The Python tool's example config (its six providers, `AK:SK` keys from the environment)
/// loads unchanged with no unsupported provider.
#[test]
fn the_python_tools_example_config_loads_with_every_provider_supported() {
    let doc: Value =
        serde_json::from_str(include_str!("fixtures/python_example_config.json")).expect("fixture");
    let env = [
        ("OPENROUTER_API_KEY", "sk-or-1"),
        ("UNIAPI_API_KEY", "sk-uni"),
        ("WXRANK_API_KEY", "wx"),
        ("VOLC_1_API_KEY", "AKLT1:SK1"),
        ("VOLC_2_API_KEY", "AKLT2:SK2"),
        ("ALIYUN_1_API_KEY", "LTAI1:secret1"),
        ("ALIYUN_2_API_KEY", "LTAI2:secret2"),
        ("TIKHUB_API_KEY", "tk"),
        ("WEBHOOK_URL", "https://hooks.example/x"),
        ("WEBHOOK_SOURCE", "balance"),
        ("WEBHOOK_TYPE", "feishu"),
    ];
    let config = crate::util::parse_config(&doc, &env).expect("loads");
    let providers: Vec<&str> = config
        .projects
        .iter()
        .map(|p| p.provider.as_str())
        .collect();
    for p in ["openrouter", "uniapi", "wxrank", "volc", "aliyun", "tikhub"] {
        assert!(providers.contains(&p), "{p} in {providers:?}");
    }
    for p in &config.projects {
        assert!(
            balance_alert_core::providers::lookup(&p.provider).is_some(),
            "{}",
            p.provider
        );
    }
}
