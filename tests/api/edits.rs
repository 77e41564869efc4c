//! Config edits through the API: write-back, validation, literal values, symlinks, time zones.

use super::*;

#[tokio::test]
async fn threshold_edit_writes_back_keeping_every_project_and_placeholder() {
    let h = harness().await;
    let before = h.file();
    let (status, _, body) = h
        .post(
            "/api/config/threshold",
            json!({"project_name": "Low", "new_threshold": 3.5}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let after = h.file();
    // GIVEN the edit THEN only that field changed: placeholders, comments, order all intact.
    let mut expected = before.clone();
    expected["projects"][1]["threshold"] = json!(3.5);
    assert_eq!(after, expected);
    assert_eq!(after["projects"][0]["api_key"], "${KEY_MAIN}");
    assert_eq!(after["email"][0]["password"], "${UNSET_BUT_DISABLED}");
    let keys: Vec<&String> = after.as_object().expect("object").keys().collect();
    assert_eq!(
        keys,
        vec!["_comment", "settings", "projects", "subscriptions", "email"]
    );
    // The running config follows.
    let (_, _, projects) = h.get("/api/config/projects").await;
    assert_eq!(projects["projects"][1]["threshold"], 3.5);
}

#[tokio::test]
async fn threshold_edit_rejects_bad_values_without_writing() {
    let h = harness().await;
    let before = std::fs::read_to_string(h.config_path()).expect("read");
    for (body, code) in [
        (
            json!({"project_name": "Low", "new_threshold": -1}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"project_name": "Low", "new_threshold": "abc"}),
            StatusCode::BAD_REQUEST,
        ),
        (json!({"project_name": "Low"}), StatusCode::BAD_REQUEST),
        (
            json!({"project_name": "Nope", "new_threshold": 1}),
            StatusCode::NOT_FOUND,
        ),
        // Below critical_threshold (2): the whole config is validated before saving.
        (
            json!({"project_name": "Low", "new_threshold": 1}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (status, _, resp) = h.post("/api/config/threshold", body.clone()).await;
        assert_eq!(status, code, "{body} → {resp}");
        assert_eq!(resp["status"], "error");
    }
    let (_, _, resp) = h
        .post(
            "/api/config/threshold",
            json!({"project_name": "Low", "new_threshold": 1}),
        )
        .await;
    assert!(
        resp["message"]
            .as_str()
            .unwrap_or_default()
            .contains("projects[1].critical_threshold"),
        "{resp}"
    );
    assert_eq!(
        std::fs::read_to_string(h.config_path()).expect("read"),
        before
    );
}

#[tokio::test]
async fn config_projects_masks_keys() {
    let h = harness().await;
    let (status, _, body) = h.get("/api/config/projects").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["projects"][2]["api_key"], "sk-b***0401");
    assert_eq!(
        body["projects"][0]["api_key"], "***",
        "short keys fully masked"
    );
    assert!(!body.to_string().contains("sk-broken-000000401"));
}

#[tokio::test]
async fn subscriptions_crud_round_trips_through_the_file() {
    let h = harness().await;
    let (_, _, list) = h.get("/api/subscriptions").await;
    assert_eq!(list["subscriptions"][0]["name"], "Copilot");
    assert!(list["subscriptions"][0]["days_until_renewal"].is_i64());

    let add = json!({"name": "Cloud", "cycle_type": "monthly", "renewal_day": 31, "alert_days_before": 3, "amount": 9.5, "currency": "USD"});
    assert_eq!(
        h.post("/api/subscription/add", add.clone()).await.0,
        StatusCode::OK
    );
    assert_eq!(
        h.post("/api/subscription/add", add).await.0,
        StatusCode::CONFLICT
    );
    let (status, _, body) = h
        .post(
            "/api/subscription/add",
            json!({"name": "Bad", "cycle_type": "weekly", "renewal_day": 9}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("renewal_day"),
        "{body}"
    );
    assert_eq!(
        h.post(
            "/api/subscription/add",
            json!({"name": "X", "cycle_type": "monthly"})
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        h.post("/api/subscription/add", json!({"name": "X", "bogus": 1}))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );

    let (status, _, body) = h
        .post(
            "/api/config/subscription",
            json!({"name": "Cloud", "amount": 12, "new_name": "Cloud2"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        h.post(
            "/api/config/subscription",
            json!({"name": "Nope", "amount": 1})
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );

    let (status, _, _) = h
        .post(
            "/api/subscription/mark_renewed",
            json!({"name": "Cloud2", "renewed_date": "2026-11-20"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        h.post(
            "/api/subscription/mark_renewed",
            json!({"name": "Cloud2", "renewed_date": "20/11"})
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    let file = h.file();
    assert_eq!(
        file["subscriptions"][1],
        json!({"name": "Cloud2", "cycle_type": "monthly", "renewal_day": 31,
        "alert_days_before": 3, "amount": 12.0, "currency": "USD", "last_renewed_date": "2026-11-20"})
    );
    assert_eq!(
        h.post("/api/subscription/clear_renewed", json!({"name": "Cloud2"}))
            .await
            .0,
        StatusCode::OK
    );
    assert!(h.file()["subscriptions"][1]
        .get("last_renewed_date")
        .is_none());

    let del = request(
        Method::DELETE,
        "/api/subscription/delete",
        Some(json!({"name": "Cloud2"})),
    );
    assert_eq!(h.call(del).await.0, StatusCode::OK);
    let again = request(
        Method::DELETE,
        "/api/subscription/delete",
        Some(json!({"name": "Cloud2"})),
    );
    assert_eq!(h.call(again).await.0, StatusCode::NOT_FOUND);
    let (_, _, list) = h.get("/api/subscriptions").await;
    assert_eq!(list["subscriptions"].as_array().map(Vec::len), Some(1));
    // Projects and placeholders survived all of it.
    assert_eq!(h.file()["projects"].as_array().map(Vec::len), Some(3));
    assert_eq!(h.file()["projects"][1]["api_key"], "${KEY_LOW}");
}

#[tokio::test]
async fn edits_are_refused_where_the_environment_supplies_the_list() {
    // GIVEN hybrid mode where PROJECT_n_* and SUBSCRIPTION_n_* supply the lists
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("config.json");
    let file = json!({"projects": [{"name": "F", "provider": "openrouter", "api_key": "k", "threshold": 1}]});
    std::fs::write(&path, file.to_string()).expect("write");
    let env = crate::util::env_map(&[
        ("PROJECT_1_NAME", "E"),
        ("PROJECT_1_API_KEY", "k"),
        ("SUBSCRIPTION_1_NAME", "S"),
        ("SUBSCRIPTION_1_CYCLE_TYPE", "monthly"),
        ("SUBSCRIPTION_1_RENEWAL_DAY", "5"),
    ]);
    let store = crate::util::test_store().await;
    let router = app(state_for(
        &path,
        env,
        store,
        AuthConfig::default(),
        ApiOptions::default(),
    ));
    // WHEN edits arrive THEN they are refused with the variable to change, and the file is kept
    let (status, _, body) = call_router(
        &router,
        request(
            Method::POST,
            "/api/config/threshold",
            Some(json!({"project_name": "E", "new_threshold": 2})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("PROJECT_n_THRESHOLD"),
        "{body}"
    );
    let add = json!({"name": "N", "cycle_type": "monthly", "renewal_day": 3});
    let (status, _, _) = call_router(
        &router,
        request(Method::POST, "/api/subscription/add", Some(add)),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let kept: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
    assert_eq!(kept, file);
}

#[tokio::test]
async fn calendar_dates_follow_settings_timezone_not_utc() {
    // UTC+14 and UTC−11 are always on different dates: a renewal due "today" in one zone is
    // never due today in the other, whatever the server's clock zone.
    use balance_alert_core::config::TimeZone;
    use chrono::Datelike;
    let east = "Pacific/Kiritimati";
    let today_east = TimeZone::parse(east).expect("zone").today();
    for (zone, due_today) in [(east, true), ("Pacific/Pago_Pago", false)] {
        let doc = json!({
            "settings": {"timezone": zone},
            "projects": [],
            "subscriptions": [{"name": "S", "cycle_type": "monthly",
                               "renewal_day": today_east.day(), "alert_days_before": 0,
                               "amount": 1, "currency": "USD"}]
        });
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("config.json");
        std::fs::write(&path, doc.to_string()).expect("write");
        let state = open_state_for(&path, HashMap::new()).await;
        let router = app(state);
        let (_, _, body) =
            call_router(&router, request(Method::GET, "/api/subscriptions", None)).await;
        let row = &body["subscriptions"][0];
        assert_eq!(
            row["next_renewal_date"],
            today_east.to_string(),
            "{zone}: {row}"
        );
        let days = row["days_until_renewal"].as_i64().expect("days");
        assert_eq!(days == 0, due_today, "{zone}: {row}");
        assert_eq!(row["need_alert"], due_today, "{zone}: {row}");
        // mark_renewed without a date records the zone's today.
        let (status, _, _) = call_router(
            &router,
            request(
                Method::POST,
                "/api/subscription/mark_renewed",
                Some(json!({"name": "S"})),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let file: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
        let zone_today = TimeZone::parse(zone).expect("zone").today();
        assert_eq!(
            file["subscriptions"][0]["last_renewed_date"],
            zone_today.to_string()
        );
    }
}

#[tokio::test]
async fn edits_write_through_a_symlinked_config_and_refuse_a_read_only_one() {
    // GIVEN config.json → ..data/config.json with ..data → ..v1 (a ConfigMap-style mount)
    let dir = tempfile::tempdir().expect("dir");
    let v1 = dir.path().join("..v1");
    std::fs::create_dir(&v1).expect("v1");
    let doc = json!({"projects": [{"name": "A", "provider": "openrouter", "api_key": "k", "threshold": 1}]});
    std::fs::write(v1.join("config.json"), doc.to_string()).expect("write");
    std::os::unix::fs::symlink("..v1", dir.path().join("..data")).expect("link");
    let path = dir.path().join("config.json");
    std::os::unix::fs::symlink("..data/config.json", &path).expect("link");
    let state = open_state_for(&path, HashMap::new()).await;
    let router = app(state.clone());
    let set = |t: f64| {
        call_router(
            &router,
            request(
                Method::POST,
                "/api/config/threshold",
                Some(json!({"project_name": "A", "new_threshold": t})),
            ),
        )
    };
    // WHEN a threshold is edited THEN the target changes and the link stays a link
    let (status, _, body) = set(7.0).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(std::fs::symlink_metadata(&path)
        .expect("meta")
        .file_type()
        .is_symlink());
    let target: Value =
        serde_json::from_str(&std::fs::read_to_string(v1.join("config.json")).expect("read"))
            .expect("JSON");
    assert_eq!(target["projects"][0]["threshold"], 7);
    // WHEN the target's directory is read-only THEN 409 saying so, and nothing changes
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&v1, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    let (status, _, body) = set(9.0).await;
    std::fs::set_permissions(&v1, std::fs::Permissions::from_mode(0o755)).expect("chmod back");
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("read-only"),
        "{body}"
    );
    assert_eq!(
        state.config.get().config.projects[0].threshold,
        crate::util::dec(7.0)
    );
    let target: Value =
        serde_json::from_str(&std::fs::read_to_string(v1.join("config.json")).expect("read"))
            .expect("JSON");
    assert_eq!(
        target["projects"][0]["threshold"], 7,
        "nothing half-applied"
    );
}

#[tokio::test]
async fn values_sent_through_the_api_are_literal_text_never_placeholders() {
    // GIVEN a server whose environment holds a secret
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("config.json");
    std::fs::write(&path, json!({"projects": []}).to_string()).expect("write");
    let env = crate::util::env_map(&[("SERVER_SECRET", "hunter2-secret")]);
    let state = open_state_for(&path, env).await;
    let router = app(state);
    let post =
        |uri: &str, body: Value| call_router(&router, request(Method::POST, uri, Some(body)));
    // WHEN a client sends placeholders in values
    let (status, _, body) = post(
        "/api/subscription/add",
        json!({"name": "leak-${SERVER_SECRET}", "owner_project": "${SERVER_SECRET:-x}",
               "cycle_type": "monthly", "renewal_day": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // THEN they read back as written, and the secret appears nowhere
    let (_, _, list) = call_router(&router, request(Method::GET, "/api/subscriptions", None)).await;
    assert_eq!(list["subscriptions"][0]["name"], "leak-${SERVER_SECRET}");
    assert_eq!(
        list["subscriptions"][0]["owner_project"],
        "${SERVER_SECRET:-x}"
    );
    assert!(!list.to_string().contains("hunter2"), "{list}");
    // AND the file loads again without that variable (a restart elsewhere)
    let reloaded = balance_alert_core::config::load(&path, &HashMap::<String, String>::new())
        .expect("literal values need no variable");
    assert_eq!(
        reloaded.config.subscriptions[0].name,
        "leak-${SERVER_SECRET}"
    );
    // AND the entry is found again by the name the API shows
    let (status, _, body) = post(
        "/api/config/subscription",
        json!({"name": "leak-${SERVER_SECRET}", "amount": 5}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = post(
        "/api/subscription/delete",
        json!({"name": "leak-${SERVER_SECRET}"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn edits_go_to_the_stores_config_document_when_it_is_the_source() {
    use balance_alert_core::config::{push_document, ConfigSource, StoreConfig};
    // GIVEN a config pushed to the store, placeholders kept
    let store = crate::util::test_store().await;
    let text = json!({"projects": [{"name": "A", "provider": "openrouter", "api_key": "${KEY_A}", "threshold": 1}]})
        .to_string();
    let env = || crate::util::env_map(&[("KEY_A", "bal:5")]);
    let (v1, unresolved) = push_document(&*store, &text, &env(), 1)
        .await
        .expect("push");
    assert!(unresolved.is_empty());
    let source = Arc::new(StoreConfig::load(store.clone(), env()).await.expect("load"));
    assert_eq!(source.get().config.projects[0].api_key.expose(), "bal:5");
    let metrics = Arc::new(Metrics::new());
    let checker = Arc::new(Checker::new(
        source.clone(),
        store.clone(),
        Arc::new(Status::default()),
        metrics.clone(),
    ));
    let options = ApiOptions {
        rate_limit_per_minute: 0,
        ..Default::default()
    };
    let router = app(AppState::new(
        checker,
        metrics,
        AuthConfig::default(),
        options,
    ));
    // WHEN a threshold is edited through the API
    let (status, _, body) = call_router(
        &router,
        request(
            Method::POST,
            "/api/config/threshold",
            Some(json!({"project_name": "A", "new_threshold": 7})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // THEN the document has a new version with the change and the placeholder kept
    let doc = store.config_document().await.expect("doc").expect("exists");
    assert!(doc.version > v1);
    let raw: Value = serde_json::from_str(&doc.text).expect("JSON");
    assert_eq!(raw["projects"][0]["threshold"], 7);
    assert_eq!(raw["projects"][0]["api_key"], "${KEY_A}");
    // AND another process on the same store picks it up on refresh
    let other = StoreConfig::load(store.clone(), env()).await.expect("load");
    assert_eq!(
        other.get().config.projects[0].threshold,
        crate::util::dec(7.0)
    );
    push_document(&*store, &text, &env(), 3)
        .await
        .expect("push again");
    assert!(source.refresh().await, "a newer version is installed");
    assert_eq!(
        source.get().config.projects[0].threshold,
        crate::util::dec(1.0)
    );
    // Pushing from a machine without the secret: accepted, the placeholder named.
    let (_, unresolved) = push_document(&*store, &text, &crate::util::env_map(&[]), 4)
        .await
        .expect("a placeholder unset here is not an error");
    assert_eq!(unresolved.len(), 1);
    assert!(unresolved[0].message.contains("KEY_A"));
    // Any other problem refuses the upload.
    let bad = json!({"projects": [{"name": "A", "provider": "openrouter", "api_key": "k", "threshold": "abc"}]});
    assert!(push_document(&*store, &bad.to_string(), &env(), 5)
        .await
        .is_err());
}

#[tokio::test]
async fn a_manual_projects_balance_is_recorded_in_the_file_and_re_bases_the_estimate() {
    let h = harness().await;
    // GIVEN a manual project (Groq: no balance API) added to the file
    let mut doc = h.file();
    doc["projects"].as_array_mut().expect("projects").push(
        json!({"name": "Groq", "provider": "manual", "threshold": 5, "currency": "USD",
                     "balance": 20, "balance_date": "2026-01-01", "daily_spend": 0.1}),
    );
    std::fs::write(
        h.config_path(),
        serde_json::to_string_pretty(&doc).expect("json"),
    )
    .expect("write");
    assert!(h.live.reload(), "reloads");
    // WHEN a person records what the console shows
    let (status, _, body) = h
        .post(
            "/api/projects/manual:Groq/balance",
            json!({"balance": 12.5, "as_of": "2026-11-20"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // THEN the file holds it, every other field kept
    let after = h.file();
    let groq = &after["projects"][3];
    assert_eq!(
        (
            &groq["balance"],
            &groq["balance_date"],
            &groq["daily_spend"]
        ),
        (&json!(12.5), &json!("2026-11-20"), &json!(0.1))
    );
    assert_eq!(after["projects"][0]["api_key"], "${KEY_MAIN}");
    // AND the running config has it (the estimate starts from it)
    let loaded = h.live.get();
    let p = loaded.config.find_project("manual:Groq").expect("project");
    assert_eq!(p.options.decimal("balance"), Some(crate::util::dec(12.5)));
    // A project read from its provider refuses, naming why; bad values name their field.
    let (status, _, body) = h
        .post("/api/projects/Low/balance", json!({"balance": 1}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("provider \"manual\""),
        "{body}"
    );
    let (status, _, body) = h
        .post(
            "/api/projects/Groq/balance",
            json!({"balance": 1, "as_of": "last week"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"].as_str().unwrap_or("").starts_with("as_of:"),
        "{body}"
    );
    let (status, _, _) = h
        .post("/api/projects/Nope/balance", json!({"balance": 1}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_every_n_days_subscription_lists_its_interval_and_start_for_editing() {
    let h = harness().await;
    let add = json!({"name": "Backups", "cycle_type": "every_n_days", "renewal_day": 1,
        "interval_days": 10, "start_date": "2026-11-01", "amount": 3, "currency": "EUR"});
    assert_eq!(h.post("/api/subscription/add", add).await.0, StatusCode::OK);
    let (_, _, list) = h.get("/api/subscriptions").await;
    let subs = list["subscriptions"].as_array().expect("list");
    let backups = subs.iter().find(|s| s["name"] == "Backups").expect("added");
    assert_eq!(backups["interval_days"], 10);
    assert_eq!(backups["start_date"], "2026-11-01");
    // The other cycles carry neither field (the Python tool's shape is unchanged for them).
    let copilot = subs
        .iter()
        .find(|s| s["name"] == "Copilot")
        .expect("configured");
    assert!(copilot.get("interval_days").is_none() && copilot.get("start_date").is_none());
}

#[tokio::test]
async fn no_edit_can_grow_the_config_past_its_size_limit_or_a_field_past_its_length() {
    // GIVEN a config file just under the 1 MiB limit (many subscriptions with long notes)
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("config.json");
    let note = "n".repeat(1_900);
    let sub = |i: usize| json!({"name": format!("sub-{i:04}"), "cycle_type": "monthly", "renewal_day": 1, "note": note});
    let size = |n: usize| {
        let subs: Vec<Value> = (0..n).map(sub).collect();
        serde_json::to_string_pretty(&json!({"subscriptions": subs}))
            .expect("json")
            .len()
    };
    let per_sub = size(2) - size(1);
    let count = (1024 * 1024 - 15_000 - size(0)) / per_sub;
    let doc = json!({"subscriptions": (0..count).map(sub).collect::<Vec<_>>()});
    std::fs::write(&path, serde_json::to_string_pretty(&doc).expect("json")).expect("write");
    let before = std::fs::read(&path).expect("read");
    assert!(
        before.len() < 1024 * 1024 && before.len() > 1024 * 1024 - 20_000,
        "{}",
        before.len()
    );
    let router = app(open_state_for(&path, HashMap::new()).await);
    let post =
        |uri: &str, body: Value| call_router(&router, request(Method::POST, uri, Some(body)));
    // WHEN a name longer than 200 characters is added
    let (status, _, body) = post(
        "/api/subscription/add",
        json!({"name": "x".repeat(201), "cycle_type": "monthly", "renewal_day": 1}),
    )
    .await;
    // THEN it is refused naming the field and its limit
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(".name: is 201 characters long: at most 200"),
        "{message}"
    );
    // WHEN additions within every field limit would push the file over 1 MiB
    let mut last = (StatusCode::OK, Value::Null);
    for i in 0..200 {
        let (status, _, body) = post(
            "/api/subscription/add",
            json!({"name": format!("more-{i:03}-{}", "m".repeat(190)), "owner_project": "o".repeat(200),
                   "cycle_type": "monthly", "renewal_day": 1}),
        )
        .await;
        last = (status, body);
        if status != StatusCode::OK {
            break;
        }
    }
    // THEN the one that would cross the limit is a 413 naming why, and the file still loads
    assert_eq!(last.0, StatusCode::PAYLOAD_TOO_LARGE, "{}", last.1);
    assert!(
        last.1["message"]
            .as_str()
            .unwrap_or_default()
            .contains("over the 1048576-byte limit"),
        "{}",
        last.1
    );
    let on_disk = std::fs::read(&path).expect("read");
    assert!(on_disk.len() <= 1024 * 1024);
    balance_alert_core::config::load(&path, &HashMap::<String, String>::new())
        .expect("the file always loads");
}
