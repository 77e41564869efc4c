//! One forecast: the forecast alert, the trend API (whatever its chart window), the overview's
//! sparklines, `/metrics` and the digest show the same run-out day count on the same data.

use super::*;
use balance_alert_core::model::text::{days as days_text, Language};
use balance_alert_core::model::AlertKind;
use proptest::prelude::*;

const DAY: i64 = 86_400;

/// `alert_days`: the forecast alert's horizon (only the last check falls inside it).
fn config_doc(url: &str, key: &str, alert_days: i64) -> Value {
    json!({
        "settings": {"max_retries": 0, "forecast_alert_days": alert_days, "timezone": "UTC",
                     "response_cache_ttl": 0, "language": "en"},
        "projects": [{"name": "Main", "provider": "openrouter", "api_key": key,
                      "threshold": 1, "base_url": url}],
    })
}

/// Checks `Main` reading `balance` at `now` (a fresh config with that balance), returning the
/// alerts written.
async fn check_at(
    store: &dyn Store,
    url: &str,
    (balance, alert_days): (&str, i64),
    now: i64,
) -> Vec<balance_alert_core::model::AlertRecord> {
    let doc = config_doc(url, &format!("bal:{balance}"), alert_days);
    let config = crate::util::parse_config(&doc, &[]).expect("config");
    crate::util::run_at(store, &config, now).await
}

/// GIVEN a balance falling `rate` a day for two days, now `hundredths / 100` days from zero,
/// WHEN every surface is asked THEN each says the same whole number of days.
async fn every_surface_agrees(rate: i64, hundredths: i64) {
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let url = fake.base_url();
    let cents = rate * hundredths; // the balance now, in hundredths
    let at = |c: i64| format!("{}.{:02}", c / 100, c % 100);
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("config.json");
    let expected = hundredths / 100;
    // The last check is `expected` and a fraction days from zero, the one before a day more.
    let horizon = expected + 1;
    std::fs::write(&path, config_doc(&url, "${KEY_F}", horizon).to_string()).expect("write");
    let state = open_state_for(
        &path,
        crate::util::env_map(&[("KEY_F", &format!("bal:{}", at(cents)))]),
    )
    .await;
    let store = state.store.clone();
    let now = chrono::Utc::now().timestamp();
    let earlier = [(2, now - 2 * DAY), (1, now - DAY)];
    for (days_back, t) in earlier {
        let balance = at(cents + 100 * days_back * rate);
        check_at(store.as_ref(), &url, (&balance, horizon), t).await;
    }
    let alerts = check_at(store.as_ref(), &url, (&at(cents), horizon), now).await;

    let alert = alerts
        .iter()
        .find(|a| a.kind == AlertKind::Forecast)
        .unwrap_or_else(|| panic!("a forecast alert within {horizon} days: {alerts:?}"));
    assert_eq!(alert.details.days_left, Some(expected), "the alert");
    assert!(
        alert.message.contains(&days_text(expected, Language::En)),
        "the alert's text says {:?}: {}",
        days_text(expected, Language::En),
        alert.message
    );

    let router = app(state.clone());
    let id = balance_alert_core::model::project_id("openrouter", "Main");
    let (status, _, trend) = call_router(
        &router,
        request(
            Method::GET,
            &format!("/api/history/trend/{id}?days=1"),
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{trend}");
    assert_eq!(
        trend["data"]["forecast"]["days_left"],
        json!(expected),
        "the trend API, whatever the chart's window: {trend}"
    );
    let (_, _, lines) = call_router(
        &router,
        request(Method::GET, "/api/history/sparklines?days=7&points=4", None),
    )
    .await;
    assert_eq!(
        lines["data"][0]["forecast"]["days_left"],
        json!(expected),
        "the overview: {lines}"
    );

    let metrics = super::credits::scrape(&state).await;
    let value = metrics
        .lines()
        .find(|l| l.starts_with("balance_alert_forecast_days_until_empty{"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("a forecast series in:\n{metrics}"));
    assert_eq!(value, expected as f64, "/metrics");

    let config = state.config.get();
    let digest = balance_alert_notify::digest::build(store.as_ref(), &config.config, "today", now)
        .await
        .expect("digest");
    let forecast_line = digest
        .lines
        .iter()
        .find(|l| l.label.as_deref() == Some("Forecast run-out"))
        .unwrap_or_else(|| panic!("a forecast line in {:?}", digest.lines));
    assert!(
        forecast_line
            .text
            .contains(&format!("({})", days_text(expected, Language::En))),
        "the digest: {}",
        forecast_line.text
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_forecast_alert_api_overview_metrics_and_digest_agree_to_the_day(
        rate in 2i64..40,
        whole in 0i64..5,
        // Fractions well inside the day: the surfaces are asked milliseconds apart.
        frac in 10i64..90,
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(every_surface_agrees(rate, whole * 100 + frac));
    }
}
