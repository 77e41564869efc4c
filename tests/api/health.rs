//! Health, readiness, the status page, metrics, docs and the Python-tool compatibility routes.

use super::*;

#[tokio::test]
async fn health_is_healthy_with_data_and_live_always_answers() {
    let h = harness().await;
    let (status, _, body) = h.get("/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["has_data"], false);
    let expected_hash = balance_alert_core::config::content_hash(
        &std::fs::read_to_string(h.config_path()).expect("read"),
    );
    assert_eq!(body["config_sha256"], expected_hash.as_str());
    // Not ready until the first check run completed.
    let (status, _, body) = h.get("/ready").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["ready"], false);
    h.check_all().await;
    let (status, _, body) = h.get("/ready").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "healthy");
    assert_eq!(body["has_data"], true);
    assert_eq!(body["is_stale"], false);
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    let (status, _, body) = h.get("/live").await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "alive"})));
}

#[tokio::test]
async fn broken_config_reload_keeps_last_good_config_and_turns_health_503() {
    let h = harness().await;
    h.check_all().await;
    std::fs::write(h.config_path(), "{ \"projects\": [ oops").expect("break the file");
    assert!(!h.live.reload(), "reload must fail");
    let (status, _, body) = h.get("/health").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "degraded");
    assert!(
        body["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("not valid JSON"),
        "{body}"
    );
    // The last good config still serves.
    let (_, _, credits) = h.get("/api/credits").await;
    assert_eq!(credits["summary"]["total"], 3);
    // Fixing the file clears the error.
    std::fs::write(h.config_path(), json!({"projects": []}).to_string()).expect("fix");
    assert!(h.live.reload());
    assert_eq!(h.get("/health").await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_store_failure_is_a_logged_500_without_detail() {
    // GIVEN a real SQLite store whose table disappears under it (a broken or foreign file)
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("state.db");
    let store = Arc::new(SqliteStore::open(&db).expect("store"));
    rusqlite::Connection::open(&db)
        .expect("open")
        .execute_batch("DROP TABLE project_state")
        .expect("drop");
    let config = dir.path().join("config.json");
    std::fs::write(&config, json!({"projects": []}).to_string()).expect("write");
    let router = app(state_for(
        &config,
        env(),
        store,
        AuthConfig::default(),
        ApiOptions::default(),
    ));
    // WHEN a handler needs it
    let response = router
        .clone()
        .oneshot(
            Request::get("/api/credits")
                .body(Body::empty())
                .expect("req"),
        )
        .await
        .expect("response");
    // THEN 500 with the error shape and no SQL detail
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(
        body,
        json!({"status": "error", "message": "internal error; see the server log"})
    );
    // …and /health says the service is unavailable (503), not broken, once its background
    // probe has found out (it answers from memory, never waiting on the store).
    let (status, health) = crate::util::eventually("/health to see the store fail", || async {
        let (status, _, health) = call_router(
            &router,
            Request::get("/health").body(Body::empty()).expect("req"),
        )
        .await;
        (status != StatusCode::OK).then_some((status, health))
    })
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        health["reason"],
        "the store cannot be read; see the server log"
    );
}

#[tokio::test]
async fn health_answers_at_once_from_memory_while_the_store_hangs() {
    use balance_alert_store_dynamodb::{Budget, DynamoStore};
    // GIVEN a server whose DynamoDB endpoint accepts connections and never answers, each
    // store call giving up after 3 s
    let endpoint = crate::util::silent::Silent::start().await;
    let client =
        crate::util::moto::client_within(&endpoint.url(), Budget::within(Duration::from_secs(3)));
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("config.json");
    std::fs::write(&config, json!({"projects": []}).to_string()).expect("write");
    let store = Arc::new(DynamoStore::new(client, "t", 90));
    let router = app(state_for(
        &config,
        env(),
        store,
        AuthConfig::default(),
        ApiOptions::default(),
    ));
    let health = || async {
        let call = call_router(&router, request(Method::GET, "/health", None));
        tokio::time::timeout(Duration::from_secs(1), call)
            .await
            .expect("/health answers without waiting on the store")
    };
    // WHEN /health is asked, THEN it answers at once (no store answer known yet)
    health().await;
    // AND once its background probe gave up, it says the store cannot be read — still at once
    let (status, _, body) = crate::util::eventually("the probe to give up", || async {
        let (status, headers, body) = health().await;
        (status != StatusCode::OK).then_some((status, headers, body))
    })
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(
        body["reason"],
        "the store cannot be read; see the server log"
    );
}

#[tokio::test]
async fn status_page_lists_projects_and_escapes_names() {
    let h = harness().await;
    h.check_all().await;
    let (status, _, page) = h.get("/").await;
    assert_eq!(status, StatusCode::OK);
    let page = page.as_str().expect("html").to_owned();
    assert!(
        page.contains("<td>Main</td>") && page.contains("120.00") && page.contains("LOW"),
        "{page}"
    );
}

#[tokio::test]
async fn metrics_endpoint_exposes_every_metric_after_activity() {
    let h = harness().await;
    h.check_all().await;
    // Second run hits the cache for Main and Low.
    let options = RunOptions {
        cache: CacheMode::Use,
        write: WriteMode::Persist,
        housekeeping: Housekeeping::Never,
    };
    h.state
        .refresher
        .as_ref()
        .expect("checks")
        .run(&Selection::All, options)
        .await
        .expect("run");
    h.get("/api/credits").await;
    let metrics = metrics_app(h.state.metrics_source(), Vec::new());
    let response = metrics
        .oneshot(Request::get("/metrics").body(Body::empty()).expect("req"))
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    let text = String::from_utf8(
        axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body")
            .to_vec(),
    )
    .expect("utf8");
    for name in [
        "balance_alert_project_balance{",
        "balance_alert_balance{project=\"Low\",provider=\"deepseek\",type=\"balance\"} 4",
        "balance_alert_status{project=\"Low\",provider=\"deepseek\",type=\"balance\"} 0",
        "balance_alert_ratio{",
        "balance_alert_active_projects 3",
        "balance_alert_active_projects_count 3",
        "balance_alert_last_check_timestamp{check_type=\"balance\"}",
        "balance_alert_alerts_total{type=\"low\"} 1",
        "balance_alert_monitor_execution_time_seconds_count 2",
        "balance_alert_provider_api_latency_seconds_bucket{",
        "balance_alert_http_request_duration_seconds_count{method=\"GET\",path=\"/api/credits\",status=\"200\"} 1",
        "balance_alert_cache_hits_total{cache_type=\"response_cache\"} 2",
        "balance_alert_cache_misses_total{cache_type=\"response_cache\"} 4",
        "balance_alert_provider_api_calls_total{provider=\"moonshot\",status=\"auth\"} 2",
        "balance_alert_failed_checks_total{project=\"Broken\",provider=\"moonshot\",error_type=\"auth\"} 2",
    ] {
        assert!(text.contains(name), "missing {name} in:\n{text}");
    }
}

/// One `/metrics` scrape with `headers`: status, headers and raw body.
async fn scrape_with(
    metrics: &Router,
    headers: &[(header::HeaderName, &str)],
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut request = Request::get("/metrics");
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    let response = metrics
        .clone()
        .oneshot(request.body(Body::empty()).expect("req"))
        .await
        .expect("response");
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.expect("body");
    (parts.status, parts.headers, body.to_vec())
}

#[tokio::test]
async fn metrics_render_once_per_change_and_serve_gzip_and_304() {
    // GIVEN a checked store and its metrics port
    let h = harness().await;
    h.check_all().await;
    let metrics = metrics_app(h.state.metrics_source(), Vec::new());
    // WHEN it is scraped twice, once asking for gzip, with nothing changed in between
    let (status, plain_headers, plain) = scrape_with(&metrics, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let before = h.state.metrics.renders();
    let (status, headers, gzipped) =
        scrape_with(&metrics, &[(header::ACCEPT_ENCODING, "gzip, br")]).await;
    // THEN the second scrape is served from the first rendering, gzipped, same text
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        h.state.metrics.renders(),
        before,
        "an unchanged scrape re-rendered"
    );
    assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
    let mut text = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gzipped[..]), &mut text)
        .expect("gzip body decodes");
    assert_eq!(text, plain);
    // AND a scrape carrying the ETag it was given gets 304 without a body
    let etag = plain_headers[header::ETAG]
        .to_str()
        .expect("ascii")
        .to_owned();
    let (status, _, body) = scrape_with(&metrics, &[(header::IF_NONE_MATCH, &etag)]).await;
    assert_eq!((status, body.len()), (StatusCode::NOT_MODIFIED, 0));
    // WHEN this process records something (an API request)
    h.get("/api/credits").await;
    // THEN the next scrape renders again and shows it
    let (_, _, after) = scrape_with(&metrics, &[]).await;
    assert_eq!(h.state.metrics.renders(), before + 1);
    let after = String::from_utf8(after).expect("utf8");
    assert!(
        after.contains("path=\"/api/credits\",status=\"200\"} 1"),
        "{after}"
    );
}

#[tokio::test]
async fn python_tool_compat_routes_answer() {
    let h = harness().await;
    let (status, _, body) = h.get("/api/features").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["features"],
        json!({"subscriptions": true, "dynamic_config": true, "history": true, "jwt": false})
    );
    let (_, _, a) = h.get("/api/subscriptions").await;
    let (_, _, b) = h.get("/api/config/subscriptions").await;
    assert_eq!(a, b);
    // POST works for delete too, as in the Python tool.
    assert_eq!(
        h.post("/api/subscription/delete", json!({"name": "Copilot"}))
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn openapi_document_and_docs_page_are_served() {
    let h = harness().await;
    let (status, _, doc) = h.get("/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"]
        .as_str()
        .unwrap_or_default()
        .starts_with("3."));
    for path in [
        "/api/credits",
        "/api/refresh",
        "/api/subscriptions",
        "/api/history/trend/{id}",
        "/api/config/threshold",
        "/health",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} documented");
    }
    let (status, headers, page) = h.get("/docs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap_or_default()
        .starts_with("text/html"));
    assert!(page
        .as_str()
        .unwrap_or_default()
        .contains("/api/openapi.json"));
    assert!(
        !page.as_str().unwrap_or_default().contains("https://"),
        "works offline: no CDN assets"
    );
}

#[tokio::test]
async fn health_sees_checks_made_by_another_process_on_the_same_store() {
    use balance_alert_core::store::contract::{state, write};
    // GIVEN a server that has checked nothing itself
    let h = harness().await;
    let (_, _, before) = h.get("/health").await;
    assert_eq!(before["has_data"], false);
    // WHEN another process sharing the store records a check
    let mut s = state("other", 1, balance_alert_core::model::AlertState::Ok);
    s.last_checked_at = chrono::Utc::now().timestamp();
    h.state
        .store
        .commit_checks(vec![write(None, s, None, None)])
        .await
        .expect("commit");
    // THEN health reports that data as fresh (no data was known, so every call asks; the
    // answer comes from the probe it started, not the call itself)
    let (status, after) = crate::util::eventually("/health to learn the other check", || async {
        let (status, _, after) = h.get("/health").await;
        (after["has_data"] == true).then_some((status, after))
    })
    .await;
    assert_eq!(status, StatusCode::OK, "{after}");
}

#[tokio::test]
async fn ready_is_503_until_every_project_has_a_reading_or_a_failure_since_start() {
    // GIVEN a store holding every project's reading from a previous process
    let h = harness().await;
    let config = h.state.config.get().config.clone();
    let e = crate::util::engine(&config.settings);
    let earlier = chrono::Utc::now().timestamp() - 600;
    let options = RunOptions {
        cache: CacheMode::Bypass,
        write: WriteMode::Persist,
        housekeeping: Housekeeping::Never,
    };
    balance_alert_core::check::run_due(
        &e,
        &*h.state.store,
        &config,
        &Selection::All,
        options,
        earlier,
    )
    .await
    .expect("previous run");
    // AND a server starting on it now
    let metrics = Arc::new(Metrics::new());
    let checker = Arc::new(Checker::new(
        h.state.config.clone(),
        h.state.store.clone(),
        Arc::new(Status::default()),
        metrics.clone(),
    ));
    let router = app(AppState::new(
        checker.clone(),
        metrics,
        AuthConfig::default(),
        ApiOptions {
            rate_limit_per_minute: 0,
            ..Default::default()
        },
    ));
    let ready = || call_router(&router, request(Method::GET, "/ready", None));
    // THEN it is not ready, although the store has data
    let (status, _, body) = ready().await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["ready"], false);
    // WHEN one project has been checked: still not ready, and it says how many are missing
    let main = config.find_project("Main").expect("Main").id();
    checker
        .run(&Selection::Only(vec![main.clone()]), options)
        .await
        .expect("run");
    let (status, _, body) = ready().await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        body["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("2 project(s) have no reading or failure since start"),
        "{body}"
    );
    // WHEN the scheduler's run comes: it checks the two others (a reading and a failure)
    // although their next checks are an hour away, and not Main again
    let selection = checker.scheduled_selection();
    let report = checker.run(&selection, options).await.expect("run");
    assert_eq!(report.checked.len(), 2, "{:?}", report.checked);
    assert!(!report.checked.contains(&main));
    // THEN it is ready
    let (status, _, body) = ready().await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ready"], true);
    // AND its runs are back to what is due
    assert_eq!(checker.scheduled_selection(), Selection::Due);
}

#[tokio::test]
async fn data_is_stale_after_three_refresh_intervals_of_at_least_a_minute_as_the_readme_says() {
    use balance_alert_core::config::Settings;
    use balance_alert_core::health::stale_after;
    use balance_alert_core::store::contract::{state, write};
    // The rule, and the README's words for it.
    let readme = include_str!("../../README.md");
    assert!(
        readme.contains("3 × max(`balance_refresh_interval_seconds`, 60) seconds"),
        "README must state the staleness rule"
    );
    let every = |i| Settings {
        balance_refresh_interval_seconds: i,
        ..Settings::default()
    };
    assert_eq!(stale_after(&every(3600)), 3 * 3600);
    assert_eq!(stale_after(&every(120)), 3 * 120);
    assert_eq!(
        stale_after(&every(10)),
        3 * 60,
        "a tiny interval counts as a minute"
    );
    // /health (default interval: an hour) on a reading just inside, then just past, 3 hours.
    for (age, stale) in [(3 * 3600 - 30, false), (3 * 3600 + 30, true)] {
        let h = harness().await;
        let mut s = state("other", 1, balance_alert_core::model::AlertState::Ok);
        s.last_checked_at = chrono::Utc::now().timestamp() - age;
        h.state
            .store
            .commit_checks(vec![write(None, s, None, None)])
            .await
            .expect("commit");
        // (the first calls start the probe that learns the reading)
        let (status, body) = crate::util::eventually("/health to learn the reading", || async {
            let (status, _, body) = h.get("/health").await;
            (body["has_data"] == true).then_some((status, body))
        })
        .await;
        assert_eq!(body["is_stale"], stale, "{age} s: {body}");
        let expected = if stale {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::OK
        };
        assert_eq!(status, expected, "{body}");
    }
}
