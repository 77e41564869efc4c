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

/// What the providers answer today (issue 23): MiniMax's token plan and its older path,
/// Zhipu's credit plans and MCP quota, SiliconFlow's international host in USD, credit lines
/// inside "prepaid" balances with `figure: "cash"`, and Anthropic's note on Priority Tier.
#[tokio::test(flavor = "multi_thread")]
async fn check_reads_what_the_providers_answer_today() {
    let s = FakeServer::start(Duration::ZERO).await.expect("fake");
    let url = s.base_url();
    // (entry, figure, currency, words the note must hold)
    let cases: Vec<(Value, f64, &str, &str)> = vec![
        (
            entry("mm-token-plan", "minimax", &url, "bal:5", json!({})),
            5.0,
            "percent",
            "general lane: 5% left",
        ),
        (
            entry("mm-older", "minimax", &url, "legacy:60", json!({})),
            60.0,
            "percent",
            "prompts left",
        ),
        (
            entry("glm-credits", "zhipu", &url, "creditplan:20", json!({})),
            80.0,
            "percent",
            "(credits): 20% used",
        ),
        (
            entry(
                "glm-mcp",
                "zhipu",
                &url,
                "creditplan:20",
                json!({"window": "mcp"}),
            ),
            90.0,
            "percent",
            "MCP tool calls",
        ),
        (
            entry(
                "sf-global",
                "siliconflow",
                &url,
                "bal:12.5",
                json!({"region": "global"}),
            ),
            12.5,
            "USD",
            "vouchers are not included",
        ),
        (
            entry("novita", "novita", &url, "credit:0:50", json!({})),
            50.0,
            "USD",
            "includes a 50.00 USD credit line",
        ),
        (
            entry(
                "novita-cash",
                "novita",
                &url,
                "credit:0:50",
                json!({"figure": "cash"}),
            ),
            0.0,
            "USD",
            "cash only",
        ),
        (
            entry(
                "volc-cash",
                "volc",
                &url,
                "credit_0_500:secret-key",
                json!({"figure": "cash"}),
            ),
            0.0,
            "CNY",
            "500.00 CNY credit line",
        ),
        (
            entry(
                "aliyun",
                "aliyun",
                &url,
                "credit_0.19_1000:secret-key",
                json!({}),
            ),
            1000.19,
            "CNY",
            "includes a 1000.00 CNY credit line",
        ),
        (
            entry(
                "anthropic",
                "anthropic",
                &url,
                "bal:25",
                json!({"budget": 100}),
            ),
            75.0,
            "USD",
            "Priority Tier usage is not included",
        ),
    ];
    let ws = Workspace::new(&config_doc(Value::Array(
        cases.iter().map(|c| c.0.clone()).collect(),
    )));
    let out = ws.run(&["check", "--json"]).await;
    let report: Value =
        serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    for (i, (p, figure, currency, note)) in cases.iter().enumerate() {
        let row = &report["projects"][i];
        let name = p["name"].as_str().unwrap_or("");
        assert_eq!(row["project"], name);
        assert_eq!(row["success"], true, "{name}: {row}");
        assert_eq!(row["credits"].as_f64(), Some(*figure), "{name}: {row}");
        assert_eq!(row["currency"], *currency, "{name}: {row}");
        assert!(
            row["note"].as_str().is_some_and(|n| n.contains(note)),
            "{name}: {row}"
        );
    }
    // Cash at zero behind a credit line is an alert, not "ok".
    assert_eq!(report["projects"][6]["need_alarm"], true);
    assert_eq!(report["projects"][5]["state"], "ok");
}

/// A 410 from any provider says the endpoint was retired and what to do, never a bare HTTP
/// error; SiliconFlow's China endpoint and MiniMax say what replaces them.
#[tokio::test]
async fn a_retired_endpoint_is_named_as_such_with_what_to_do() {
    let s = FakeServer::start(Duration::ZERO).await.expect("fake");
    let url = s.base_url();
    let e = engine(&fast_settings());
    let cases: &[(&str, &str, &str, Value)] = &[
        ("deepseek", "gone", "provider table", json!({})),
        ("moonshot", "gone", "provider table", json!({})),
        ("novita", "gone", "provider table", json!({})),
        ("zhipu", "gone", "provider table", json!({})),
        (
            "volcengine",
            "gone:sk-volc-secret",
            "provider table",
            json!({}),
        ),
        (
            "aliyun",
            "gone:sk-aliyun-secret",
            "provider table",
            json!({}),
        ),
        ("siliconflow", "gone", "2026-08-14", json!({})),
        (
            "siliconflow",
            "gone",
            "set the project's path",
            json!({"region": "global"}),
        ),
        ("minimax", "gone", "both /v1/token_plan/remains", json!({})),
        (
            "http_json",
            "gone",
            "provider table",
            json!({"url": "/v1/billing/usage", "value_pointer": "/x"}),
        ),
    ];
    for (provider, key, advice, options) in cases {
        let mut p = project("x", provider, &url, key, 1.0);
        p.options = balance_alert_core::providers::Options::from_entry(
            options.as_object().expect("object"),
        );
        let err = e
            .check(&p, CacheMode::Bypass)
            .await
            .result
            .expect_err(provider);
        let text = err.to_string();
        assert!(
            text.starts_with("this endpoint was retired by the provider (HTTP 410): "),
            "{provider}: {text}"
        );
        assert!(text.contains(advice), "{provider}: {text}");
        assert!(!text.contains("sk-"), "{provider} leaked the key: {text}");
    }
}

/// DeepSeek's `is_available: false` (the balance cannot pay for API calls) fails the check
/// with that reason: the project is never "ok" on it.
#[tokio::test(flavor = "multi_thread")]
async fn deepseek_is_available_false_is_a_failure_with_its_reason() {
    let s = FakeServer::start(Duration::ZERO).await.expect("fake");
    let ws = Workspace::new(&config_doc(json!([entry(
        "ds",
        "deepseek",
        &s.base_url(),
        "unavailable:50",
        json!({"currency": "CNY"})
    )])));
    let out = ws.run(&["check", "--json"]).await;
    let row = &serde_json::from_str::<Value>(&stdout(&out)).expect("json")["projects"][0];
    assert_eq!(row["success"], false, "{row}");
    assert_eq!(row["state"], "failing", "{row}");
    assert!(
        row["error"]
            .as_str()
            .is_some_and(|e| e.contains("is_available: false")),
        "{row}"
    );
}

/// The options added for today's APIs are checked when the config loads, naming the field
/// and the fix; `window: "monthly"` says it was the MCP quota.
#[test]
fn options_for_todays_apis_are_checked_by_field() {
    let doc = config_doc(json!([
        {"name": "a", "provider": "zhipu", "api_key": "sk-test-key-1", "threshold": 1, "window": "monthly"},
        {"name": "b", "provider": "minimax", "api_key": "sk-test-key-1", "threshold": 1, "region": "eu"},
        {"name": "c", "provider": "novita", "api_key": "sk-test-key-1", "threshold": 1, "figure": "credit"},
        {"name": "d", "provider": "siliconflow", "api_key": "sk-test-key-1", "threshold": 1, "path": "user/info"},
    ]));
    let err = crate::util::parse_config(&doc, &[])
        .expect_err("invalid options")
        .to_string();
    for words in [
        "window",
        "MCP tools quota",
        "use \"mcp\"",
        "region",
        "api.minimax.io",
        "figure",
        "\"cash\"",
        "path",
        "starting with /",
    ] {
        assert!(err.contains(words), "{words}: {err}");
    }
    let ok = config_doc(json!([
        {"name": "a", "provider": "zhipu", "api_key": "sk-test-key-1", "threshold": 1, "window": "mcp", "region": "global"},
        {"name": "b", "provider": "minimax", "api_key": "sk-test-key-1", "threshold": 1, "region": "global", "lane": "general"},
        {"name": "c", "provider": "volc", "api_key": "AK:SK", "threshold": 1, "figure": "cash"},
        {"name": "d", "provider": "siliconflow", "api_key": "sk-test-key-1", "threshold": 1, "region": "global"},
    ]));
    crate::util::parse_config(&ok, &[]).expect("valid options load");
}
