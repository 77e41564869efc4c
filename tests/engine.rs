//! The engine against the fake provider server: shapes, failure modes, retries, Retry-After,
//! circuit breaker, cache and the concurrency bound.

use std::time::{Duration, Instant};

use balance_alert_core::check::engine::CacheMode;
use balance_alert_core::config::ProjectConfig;
use balance_alert_core::providers::ProviderError;
use fake_providers::FakeServer;

use crate::util::{engine, fast_settings, project};

async fn server() -> FakeServer {
    FakeServer::start(Duration::ZERO)
        .await
        .expect("fake server starts")
}

#[tokio::test]
async fn each_provider_reads_its_documented_shape() {
    let s = server().await;
    let e = engine(&fast_settings());
    let cases = [
        ("openrouter", 12.5, "USD"),
        ("deepseek", 33.0, "CNY"),
        ("moonshot", 7.25, "CNY"),
        ("siliconflow", 88.88, "CNY"),
    ];
    for (provider, amount, currency) in cases {
        let p = project(
            provider,
            provider,
            &s.base_url(),
            &format!("bal:{amount}"),
            1.0,
        );
        let b = e
            .check(&p, CacheMode::Bypass)
            .await
            .result
            .expect("balance read");
        assert_eq!(b.amount, crate::util::dec(amount), "{provider}: exact");
        assert_eq!(b.currency, currency, "{provider}");
    }
}

#[tokio::test]
async fn deepseek_reports_the_configured_currency_row() {
    let s = server().await;
    let mut p = project("d", "deepseek", &s.base_url(), "bal:50", 1.0);
    p.currency = Some("USD".into());
    let b = engine(&fast_settings())
        .check(&p, CacheMode::Bypass)
        .await
        .result
        .expect("read");
    assert_eq!(
        (b.amount, b.currency.as_str()),
        (crate::util::dec(0.0), "USD")
    );
}

async fn error_for(provider: &str, token: &str) -> (ProviderError, u64) {
    let s = server().await;
    let p = project("x", provider, &s.base_url(), token, 1.0);
    let err = engine(&fast_settings())
        .check(&p, CacheMode::Bypass)
        .await
        .result
        .expect_err("fails");
    (err, s.hits(token))
}

#[tokio::test]
async fn auth_failure_is_not_retried_and_never_leaks_the_key() {
    let (err, hits) = error_for("openrouter", "status:401").await;
    assert_eq!(err, ProviderError::Auth { status: 401 });
    assert_eq!(hits, 1);
    // The fake echoes the key in 4xx/5xx bodies; our message must not carry it.
    let (err, _) = error_for("openrouter", "status:418").await;
    assert!(
        matches!(err, ProviderError::Upstream { status: 418, .. }),
        "{err:?}"
    );
    assert!(!err.to_string().contains("status:418"), "{err}");
    assert!(err.to_string().contains("***"), "{err}");
}

#[tokio::test]
async fn server_errors_are_retried_then_reported_with_status() {
    let (err, hits) = error_for("deepseek", "status:500").await;
    assert!(
        matches!(err, ProviderError::Upstream { status: 500, .. }),
        "{err:?}"
    );
    assert_eq!(hits, 3, "first attempt + max_retries (2)");
}

#[tokio::test]
async fn transient_failures_recover_within_the_retry_budget() {
    let s = server().await;
    let p = project("x", "moonshot", &s.base_url(), "flaky:2:9", 1.0);
    let b = engine(&fast_settings())
        .check(&p, CacheMode::Bypass)
        .await
        .result
        .expect("third try works");
    assert_eq!(b.amount, crate::util::dec(9.0));
    assert_eq!(s.hits("flaky:2:9"), 3);
}

#[tokio::test]
async fn retry_after_is_honoured_and_too_long_a_wait_gives_up() {
    let s = server().await;
    let mut settings = fast_settings();
    settings.max_retries = 1;
    let e = engine(&settings);
    let started = Instant::now();
    let p = project("x", "openrouter", &s.base_url(), "retry-after:1", 1.0);
    let err = e
        .check(&p, CacheMode::Bypass)
        .await
        .result
        .expect_err("still limited");
    assert!(
        matches!(err, ProviderError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(1))
    );
    assert_eq!(s.hits("retry-after:1"), 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited as asked, not the 5 ms backoff"
    );

    settings.max_retry_after_seconds = 5;
    let p = project("y", "openrouter", &s.base_url(), "retry-after:3600", 1.0);
    engine(&settings)
        .check(&p, CacheMode::Bypass)
        .await
        .result
        .expect_err("limited");
    assert_eq!(
        s.hits("retry-after:3600"),
        1,
        "an hour's wait is not worth it: no retry"
    );
}

#[tokio::test]
async fn malformed_responses_are_typed_errors() {
    for (provider, token) in [
        ("openrouter", "html"),
        ("moonshot", "wrongtype"),
        ("deepseek", "wrongtype"),
    ] {
        let (err, hits) = error_for(provider, token).await;
        assert!(
            matches!(err, ProviderError::Unparseable { .. }),
            "{provider} {token}: {err:?}"
        );
        assert_eq!(hits, 1, "unparseable is not retried");
    }
    let (err, _) = error_for("openrouter", "html").await;
    assert!(
        err.to_string().contains("502 Bad Gateway"),
        "snippet shown: {err}"
    );
    let (err, _) = error_for("siliconflow", "apierr").await;
    assert_eq!(
        err.to_string(),
        "provider reported an error: code 30001 (Unauthorized)"
    );
    let (err, _) = error_for("openrouter", "huge").await;
    assert!(matches!(err, ProviderError::TooLarge { .. }), "{err:?}");
}

#[tokio::test]
async fn a_slow_provider_times_out_without_delaying_the_others() {
    let s = server().await;
    let mut settings = fast_settings();
    // The slow provider answers after 10 s; its own timeout budget is 3 s.
    settings.request_timeout_seconds = 3.0;
    settings.max_retries = 0;
    let e = engine(&settings);
    let url = s.base_url();
    let projects: Vec<ProjectConfig> =
        std::iter::once(project("slow", "openrouter", &url, "slow:10000:1", 1.0))
            .chain((0..5).map(|i| project(&format!("fast{i}"), "deepseek", &url, "bal:5", 1.0)))
            .collect();
    let refs: Vec<&ProjectConfig> = projects.iter().collect();
    let started = Instant::now();
    let outcomes = e.check_all(&refs, CacheMode::Bypass).await;
    assert!(
        matches!(outcomes[0].result, Err(ProviderError::Timeout { .. })),
        "{:?}",
        outcomes[0].result
    );
    for o in &outcomes[1..] {
        assert!(o.result.is_ok());
        assert!(
            o.elapsed < Duration::from_millis(1500),
            "fast check took {:?}",
            o.elapsed
        );
    }
    let total = started.elapsed();
    assert!(
        total >= Duration::from_secs(3) && total < Duration::from_secs(6),
        "bounded by the slow one's own 3 s budget, took {total:?}"
    );
}

#[tokio::test]
async fn circuit_breaker_stops_calling_a_failing_provider() {
    let s = server().await;
    let mut settings = fast_settings();
    settings.max_retries = 0;
    settings.circuit_breaker_failures = 2;
    settings.max_concurrent_checks = 1;
    let e = engine(&settings);
    let projects: Vec<ProjectConfig> = (0..6)
        .map(|i| {
            project(
                &format!("p{i}"),
                "moonshot",
                &s.base_url(),
                "status:503",
                1.0,
            )
        })
        .collect();
    let refs: Vec<&ProjectConfig> = projects.iter().collect();
    let outcomes = e.check_all(&refs, CacheMode::Bypass).await;
    assert_eq!(s.hits("status:503"), 2, "breaker opened after two failures");
    assert!(outcomes[2..]
        .iter()
        .all(|o| matches!(o.result, Err(ProviderError::CircuitOpen { .. }))));
    // Another provider is unaffected.
    let ok = project("d", "deepseek", &s.base_url(), "bal:1", 1.0);
    assert!(e.check(&ok, CacheMode::Bypass).await.result.is_ok());
    // So is another key on the same endpoint: the breaker belongs to the failing key.
    let healthy = project("h", "moonshot", &s.base_url(), "bal:7", 1.0);
    assert_eq!(
        e.check(&healthy, CacheMode::Bypass)
            .await
            .result
            .expect("healthy key is called")
            .amount,
        crate::util::dec(7.0)
    );
}

#[tokio::test]
async fn a_key_echoed_json_escaped_never_reaches_the_message() {
    // The fake echoes the token inside a JSON string: `"` and `\` arrive escaped.
    let token = r#"status:500:se"cr\et-KEYMATERIAL"#;
    let (err, _) = error_for("openrouter", token).await;
    let text = err.to_string();
    assert!(!text.contains("KEYMATERIAL"), "{text}");
    assert!(text.contains("***"), "{text}");
}

#[tokio::test]
async fn a_provider_reporting_an_error_in_a_200_body_is_quoted() {
    let (err, hits) = error_for("moonshot", "apierr").await;
    assert_eq!(
        err.to_string(),
        "provider reported an error: account suspended"
    );
    assert_eq!(hits, 1);
}

#[tokio::test]
async fn response_cache_serves_repeat_checks_until_bypassed() {
    let s = server().await;
    let mut settings = fast_settings();
    settings.response_cache_ttl = 300;
    let e = engine(&settings);
    let p = project("c", "openrouter", &s.base_url(), "bal:3", 1.0);
    assert!(!e.check(&p, CacheMode::Use).await.cached);
    let second = e.check(&p, CacheMode::Use).await;
    assert!(second.cached);
    assert_eq!(
        second.result.expect("cached balance").amount,
        crate::util::dec(3.0)
    );
    assert_eq!(s.hits("bal:3"), 1);
    assert!(!e.check(&p, CacheMode::Bypass).await.cached);
    assert_eq!(s.hits("bal:3"), 2);
}

#[tokio::test]
async fn concurrency_is_bounded_by_max_concurrent_checks() {
    let s = server().await;
    let mut settings = fast_settings();
    settings.max_concurrent_checks = 2;
    let e = engine(&settings);
    let projects: Vec<ProjectConfig> = (0..4)
        .map(|i| {
            project(
                &format!("p{i}"),
                "openrouter",
                &s.base_url(),
                "slow:150:1",
                1.0,
            )
        })
        .collect();
    let refs: Vec<&ProjectConfig> = projects.iter().collect();
    let started = Instant::now();
    let outcomes = e.check_all(&refs, CacheMode::Bypass).await;
    assert!(outcomes.iter().all(|o| o.result.is_ok()));
    // Four 150 ms checks two at a time need two rounds.
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        outcomes.iter().map(|o| o.index).collect::<Vec<_>>(),
        vec![0, 1, 2, 3]
    );
}

#[tokio::test]
async fn unknown_provider_fails_without_network() {
    let p = project("v", "nosuch", "http://127.0.0.1:9", "k", 1.0);
    let err = engine(&fast_settings())
        .check(&p, CacheMode::Bypass)
        .await
        .result
        .expect_err("unsupported");
    assert_eq!(err.to_string(), "provider \"nosuch\" is not supported");
}
