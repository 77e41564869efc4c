//! `/api/credits` and `/api/refresh`: rows, states, refresh cooldown, name lookups.

use super::*;

#[tokio::test]
async fn credits_lists_every_project_with_state_and_masked_errors() {
    let h = harness().await;
    let (status, _, before) = h.get("/api/credits").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(before["projects"][0]["state"], "unknown");
    assert_eq!(before["projects"][0]["error"], "not checked yet");
    h.check_all().await;
    let (_, _, body) = h.get("/api/credits").await;
    assert_eq!(
        body["summary"],
        json!({"total": 3, "success": 2, "failed": 1, "need_alarm": 1})
    );
    let main = &body["projects"][0];
    assert_eq!(main["project"], "Main");
    assert_eq!(main["credits"], 120.0);
    assert_eq!(main["balance"], 120.0);
    assert_eq!(main["currency"], "USD");
    assert_eq!(main["state"], "ok");
    assert_eq!(main["owner_project"], "bot");
    assert_eq!(
        main["project_id"],
        balance_alert_core::model::project_id("openrouter", "Main")
    );
    assert_eq!(body["projects"][1]["state"], "low");
    assert_eq!(body["projects"][1]["need_alarm"], true);
    assert_eq!(body["projects"][1]["type"], "balance");
    assert_eq!(body["projects"][1]["kind"], "prepaid_balance");
    assert_eq!(main["kind"], "remaining_credit");
    let broken = &body["projects"][2];
    assert_eq!(broken["credits"], Value::Null);
    assert!(broken["error"]
        .as_str()
        .unwrap_or_default()
        .contains("HTTP 401"));
    assert!(
        !body.to_string().contains("sk-broken"),
        "no key in the response"
    );
    assert!(body["last_update"].is_string());
}

#[tokio::test]
async fn refresh_checks_now_then_cools_down() {
    let h = harness().await;
    let (status, _, body) = h
        .post("/api/refresh", json!({"project_name": "Main"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["report"]["summary"]["total"], 1);
    assert_eq!(body["report"]["projects"][0]["credits"], 120.0);
    let (status, headers, body) = h.call(request(Method::POST, "/api/refresh", None)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["status"], "error");
    let left = body["retry_after"].as_u64().expect("seconds left");
    assert!((1..=30).contains(&left));
    assert_eq!(headers[header::RETRY_AFTER], left.to_string().as_str());
}

#[tokio::test]
async fn refresh_rejects_bad_bodies_and_unknown_projects() {
    let h = harness().await;
    let bad = Request::builder()
        .method(Method::POST)
        .uri("/api/refresh")
        .body(Body::from("{not json"))
        .expect("req");
    let (status, _, body) = h.call(bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["status"], "error");
    let (status, _, body) = h
        .post("/api/refresh", json!({"project_name": "nope"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body["message"],
        "no project \"nope\"; known: openrouter:Main, deepseek:Low, moonshot:Broken"
    );
    let (status, _, _) = h.post("/api/refresh", json!({"project": "typo"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn credits_are_served_pre_gzipped_with_their_own_etag() {
    let h = harness().await;
    h.check_all().await;
    let (_, plain_headers, plain) = h.get("/api/credits").await;
    let gz = Request::get("/api/credits")
        .header(header::ACCEPT_ENCODING, "gzip, br")
        .body(Body::empty())
        .expect("req");
    let response = h.app.clone().oneshot(gz).await.expect("response");
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
    let etag = response.headers()[header::ETAG].clone();
    assert_ne!(etag, plain_headers[header::ETAG]);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .expect("body");
    let mut json = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut json)
        .expect("valid gzip");
    assert_eq!(serde_json::from_str::<Value>(&json).expect("JSON"), plain);
    let again = Request::get("/api/credits")
        .header(header::ACCEPT_ENCODING, "gzip")
        .header(header::IF_NONE_MATCH, etag)
        .body(Body::empty())
        .expect("req");
    assert_eq!(h.call(again).await.0, StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn a_name_two_providers_share_is_a_conflict_never_a_guess() {
    // GIVEN "Main" under two providers
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let url = fake.base_url();
    let doc = json!({
        "settings": {"retry_base_delay_ms": 5, "max_retries": 0, "refresh_cooldown_seconds": 0},
        "projects": [
            {"name": "Main", "provider": "openrouter", "api_key": "bal:20", "threshold": 10, "base_url": url},
            {"name": "Main", "provider": "deepseek", "api_key": "bal:30", "threshold": 10, "base_url": url}
        ]
    });
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("config.json");
    std::fs::write(&path, doc.to_string()).expect("write");
    let state = open_state_for(&path, HashMap::new()).await;
    let router = app(state.clone());
    let post =
        |uri: &str, body: Value| call_router(&router, request(Method::POST, uri, Some(body)));
    // WHEN a bare name is used THEN every lookup answers 409 naming both candidates
    let (status, _, body) = post(
        "/api/config/threshold",
        json!({"project_name": "Main", "new_threshold": 5}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let message = body["message"].as_str().expect("message");
    assert!(
        message.contains("openrouter:Main") && message.contains("deepseek:Main"),
        "{message}"
    );
    let (status, _, _) = post("/api/refresh", json!({"project_name": "Main"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    for uri in [
        "/api/history/trend/Main",
        "/api/history/balance?project_id=Main",
        "/api/history/alerts?project_id=Main",
    ] {
        let (status, _, _) = call_router(&router, request(Method::GET, uri, None)).await;
        assert_eq!(status, StatusCode::CONFLICT, "{uri}");
    }
    // AND provider:name picks exactly that project, in memory and in the file
    let (status, _, body) = post(
        "/api/config/threshold",
        json!({"project_name": "deepseek:Main", "new_threshold": 5}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
    assert_eq!(
        file["projects"][0]["threshold"], 10,
        "openrouter's untouched"
    );
    assert_eq!(file["projects"][1]["threshold"], 5.0);
    let (status, _, body) = post("/api/refresh", json!({"project_name": "deepseek:Main"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["report"]["projects"][0]["provider"], "deepseek");
    let id = balance_alert_core::model::project_id("openrouter", "Main");
    let (status, _, body) = post("/api/refresh", json!({"project_name": id})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["report"]["projects"][0]["provider"], "openrouter");
}

/// Serves `doc` (a config document) on the test store and checks every project once.
async fn checked(doc: Value) -> (AppState, Router, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("config.json");
    std::fs::write(&path, doc.to_string()).expect("write");
    let state = open_state_for(&path, HashMap::new()).await;
    let options = RunOptions {
        cache: CacheMode::Bypass,
        write: WriteMode::Persist,
        housekeeping: Housekeeping::Never,
    };
    state
        .refresher
        .as_ref()
        .expect("checks")
        .run(&Selection::All, options)
        .await
        .expect("run");
    (state.clone(), app(state), dir)
}

pub(super) async fn scrape(state: &AppState) -> String {
    let metrics = metrics_app(state.metrics_source(), Vec::new());
    let response = metrics
        .oneshot(Request::get("/metrics").body(Body::empty()).expect("req"))
        .await
        .expect("response");
    String::from_utf8(
        axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body")
            .to_vec(),
    )
    .expect("utf8")
}

#[tokio::test]
async fn a_key_without_limit_is_ok_in_credits_and_metrics_as_in_check_json() {
    // GIVEN an OpenRouter key without a limit that used 3.5 against a threshold of 10
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let (state, router, _dir) = checked(json!({
        "settings": {"retry_base_delay_ms": 5, "max_retries": 0},
        "projects": [{"name": "Free", "provider": "openrouter", "api_key": "ornolimit:3.5",
                      "threshold": 10, "base_url": fake.base_url()}]
    }))
    .await;
    // THEN /api/credits says OK, no alarm, and that no limit applies
    let (_, _, body) = call_router(&router, request(Method::GET, "/api/credits", None)).await;
    let row = &body["projects"][0];
    assert_eq!(
        (&row["state"], &row["need_alarm"], &row["unlimited"]),
        (&json!("ok"), &json!(false), &json!(true)),
        "{row}"
    );
    assert_eq!(body["summary"]["need_alarm"], 0);
    // AND /metrics says status 1 and exports no ratio that a rule could read as "low"
    let text = scrape(&state).await;
    assert!(
        text.contains(
            "balance_alert_status{project=\"Free\",provider=\"openrouter\",type=\"credits\"} 1"
        ),
        "{text}"
    );
    assert!(
        !text.contains("balance_alert_ratio{project=\"Free\""),
        "no ratio for a reading no threshold applies to:\n{text}"
    );
}

#[tokio::test]
async fn credits_rows_carry_the_estimate_flag_and_note_of_the_reading() {
    // GIVEN a manual project (an estimate) and a budget (a figure with a note)
    let fake = FakeServer::start(Duration::ZERO).await.expect("fake");
    let (_, router, _dir) = checked(json!({
        "settings": {"retry_base_delay_ms": 5, "max_retries": 0},
        "projects": [
            {"name": "groq", "provider": "manual", "threshold": 1, "currency": "USD",
             "balance": 25, "balance_date": chrono::Utc::now().to_rfc3339(), "daily_spend": 1},
            {"name": "Real", "provider": "deepseek", "api_key": "bal:30", "threshold": 10,
             "base_url": fake.base_url()}
        ]
    }))
    .await;
    let (_, _, body) = call_router(&router, request(Method::GET, "/api/credits", None)).await;
    let manual = &body["projects"][0];
    assert_eq!(manual["estimate"], true, "{manual}");
    assert!(manual["note"].is_string(), "{manual}");
    // AND a real reading carries neither (the fields are skipped when absent)
    let real = &body["projects"][1];
    assert_eq!(real["credits"], 30.0, "{real}");
    assert!(
        real.get("estimate").is_none() && real.get("note").is_none(),
        "{real}"
    );
}
