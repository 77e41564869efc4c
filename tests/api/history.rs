//! Balance history, trends with forecasts, alert history and statistics.

use super::*;

#[tokio::test]
async fn history_balance_trend_alerts_and_stats() {
    let h = harness().await;
    for _ in 0..3 {
        h.check_all().await;
    }
    let (status, _, body) = h.get("/api/history/balance?days=7&limit=100").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["count"], 6,
        "two readable projects × three runs: {body}"
    );
    let (_, _, by_provider) = h.get("/api/history/balance?provider=deepseek").await;
    assert!(by_provider["data"]
        .as_array()
        .expect("data")
        .iter()
        .all(|p| p["provider"] == "deepseek"));
    let (_, _, one) = h
        .get("/api/history/balance?project_id=openrouter:Main&limit=2")
        .await;
    assert_eq!(one["count"], 2);

    let id = balance_alert_core::model::project_id("deepseek", "Low");
    let (status, _, trend) = h.get(&format!("/api/history/trend/{id}?days=30")).await;
    assert_eq!(status, StatusCode::OK, "{trend}");
    let d = &trend["data"];
    assert_eq!(d["current_balance"], 4.0);
    assert_eq!(d["min_balance"], 4.0);
    assert_eq!(d["data_points"], 3);
    assert_eq!(d["change"], 0.0);
    // Flat at 4 under a threshold of 10: no run-out date, but already below, said plainly.
    assert_eq!(d["forecast"]["already_below"], true, "{d}");
    assert_eq!(d["forecast"]["burn_rate_per_day"], 0.0);
    assert_eq!(d["forecast"]["days_until_threshold"], 0.0);
    assert_eq!(d["forecast"]["zero_date"], Value::Null);
    let (status, _, by_name) = h.get("/api/history/trend/deepseek:Low").await;
    assert_eq!(
        (status, &by_name["data"]["project_id"]),
        (StatusCode::OK, &json!(id))
    );
    assert_eq!(
        h.get("/api/history/trend/nothing-here").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        h.get("/api/history/trend/deepseek:Low?days=0").await.0,
        StatusCode::BAD_REQUEST
    );

    let (_, _, alerts) = h.get("/api/history/alerts?days=7&limit=50").await;
    // Low went LOW on the first run; Broken reached K = 3 failures on the third.
    assert_eq!(alerts["count"], 2, "{alerts}");
    let data = alerts["data"].as_array().expect("data");
    let mut kinds: Vec<&str> = data
        .iter()
        .filter_map(|a| a["alert_type"].as_str())
        .collect();
    // Newest first; the three runs share a second here, and alerts of one second have no
    // defined order (the stores' time resolution is a second).
    let times: Vec<&str> = data
        .iter()
        .filter_map(|a| a["timestamp"].as_str())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    kinds.sort_unstable();
    assert_eq!(kinds, vec!["failing", "low"]);
    assert_eq!(alerts["data"][0]["status"], "pending");
    let (_, _, only_low) = h.get("/api/history/alerts?project_id=deepseek:Low").await;
    assert_eq!(only_low["count"], 1);
    let (_, _, stats) = h.get("/api/history/stats?days=30").await;
    assert_eq!(stats["data"]["total_alerts"], 2);
    assert_eq!(stats["data"]["by_type"], json!({"failing": 1, "low": 1}));
    assert_eq!(
        stats["data"]["projects_by_state"],
        json!({"failing": 1, "low": 1, "ok": 1})
    );
    let (status, _, body) = h.get("/api/history/alerts?limit=abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["status"], "error");
}

#[tokio::test]
async fn trend_forecasts_when_the_balance_falls() {
    let h = harness().await;
    let store = &h.state.store;
    let id = balance_alert_core::model::project_id("openrouter", "Main");
    let now = chrono::Utc::now().timestamp();
    let points: Vec<_> = (0..4)
        .map(|i| {
            let mut state = balance_alert_core::model::alert::ProjectState {
                project_name: "Main".into(),
                balance: Some(crate::util::dec(100.0)),
                last_checked_at: now,
                last_success_at: Some(now),
                ..balance_alert_core::store::contract::state(
                    &id,
                    i + 1,
                    balance_alert_core::model::AlertState::Ok,
                )
            };
            state.balance = Some(crate::util::dec(100.0 - 10.0 * i as f64));
            balance_alert_core::store::CheckWrite {
                expected_version: if i == 0 { None } else { Some(i) },
                state,
                alert: None,
                point: Some(balance_alert_core::store::BalancePoint {
                    project_id: id.clone(),
                    project_name: "Main".into(),
                    provider: "openrouter".into(),
                    balance: crate::util::dec(100.0 - 10.0 * i as f64),
                    threshold: crate::util::dec(10.0),
                    currency: "USD".into(),
                    timestamp: now - (3 - i as i64) * 86_400,
                    ..Default::default()
                }),
                next: None,
            }
        })
        .collect();
    for w in points {
        assert_eq!(
            store.commit_checks(vec![w]).await.expect("commit"),
            vec![true]
        );
    }
    let (_, _, trend) = h.get("/api/history/trend/Main").await;
    let f = &trend["data"]["forecast"];
    assert!(
        (f["burn_rate_per_day"].as_f64().expect("rate") - 10.0).abs() < 1e-6,
        "{f}"
    );
    assert!(
        (f["days_until_threshold"].as_f64().expect("days") - 6.0).abs() < 0.01,
        "{f}"
    );
    assert!(
        (f["days_until_zero"].as_f64().expect("days") - 7.0).abs() < 0.01,
        "{f}"
    );
    assert_eq!(trend["data"]["change"], -30.0);
    assert_eq!(trend["data"]["change_percent"], -30.0);
}

#[tokio::test]
async fn ack_and_snooze_hold_reminders_and_show_in_the_api() {
    let h = harness().await;
    h.check_all().await;
    let (_, _, alerts) = h.get("/api/history/alerts?days=7").await;
    let low = alerts["data"]
        .as_array()
        .expect("data")
        .iter()
        .find(|a| a["project_name"] == "Low")
        .cloned()
        .expect("a LOW alert");
    assert_eq!(low["acknowledged"], false);
    assert!(low["deliveries"].is_array(), "{low}");
    let id = low["id"].as_str().expect("id");

    let (status, _, body) = h.post(&format!("/api/alerts/{id}/ack"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["snooze"]["until_topped_up"], true);
    assert_eq!(body["snooze"]["alert_id"], id);
    let (_, _, alerts) = h.get("/api/history/alerts?days=7").await;
    assert!(alerts["data"]
        .as_array()
        .expect("data")
        .iter()
        .any(|a| a["id"] == id && a["acknowledged"] == true));
    let (_, _, credits) = h.get("/api/credits").await;
    let row = credits["projects"]
        .as_array()
        .expect("projects")
        .iter()
        .find(|p| p["name"] == "Low")
        .cloned()
        .expect("Low row");
    assert_eq!(row["snooze"]["until_topped_up"], true, "{row}");

    // Snooze by name until a time; then clear; bad input is named.
    let until = chrono::Utc::now().timestamp() + 3600;
    let (status, _, body) = h
        .post("/api/projects/deepseek:Low/snooze", json!({"until": until}))
        .await;
    assert_eq!(
        (status, &body["snooze"]["until"]),
        (StatusCode::OK, &json!(until))
    );
    let (status, _, body) = h
        .post("/api/projects/deepseek:Low/snooze", json!({"clear": true}))
        .await;
    assert_eq!((status, &body["snooze"]), (StatusCode::OK, &Value::Null));
    let (status, _, body) = h
        .post(
            "/api/projects/deepseek:Low/snooze",
            json!({"until": "tomorrow"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"].as_str().unwrap_or("").contains("until"),
        "{body}"
    );
    let (status, _, _) = h.post("/api/projects/deepseek:Low/snooze", json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        h.post("/api/alerts/nope/ack", json!({})).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        h.post(
            "/api/projects/openrouter:Nothing/snooze",
            json!({"until_topped_up": true})
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
}

/// Writes `balances` for `provider:name`, one reading `every` seconds ending at `end`.
async fn write_readings(
    store: &dyn balance_alert_core::store::Store,
    provider: &str,
    name: &str,
    count: usize,
    every: i64,
    end: i64,
) {
    use balance_alert_core::store::contract::{point, state, write};
    let id = balance_alert_core::model::project_id(provider, name);
    let writes: Vec<_> = (0..count)
        .map(|i| {
            let version = i as u64 + 1;
            let at = end - (count - 1 - i) as i64 * every;
            let mut s = state(&id, version, balance_alert_core::model::AlertState::Ok);
            s.last_checked_at = at;
            write(
                (i > 0).then_some(version - 1),
                s,
                None,
                Some(point(&id, 1_000.0 - i as f64, at)),
            )
        })
        .collect();
    for w in writes {
        assert_eq!(
            store.commit_checks(vec![w]).await.expect("commit"),
            vec![true]
        );
    }
}

#[tokio::test]
async fn sparklines_serve_a_bounded_series_per_enabled_project_in_one_request() {
    // GIVEN Main with a reading every 30 minutes for a week (336 readings, seven times what a
    // sparkline keeps; written one by one, so kept small for the DynamoDB run) and a project
    // no longer configured with readings too
    let h = harness().await;
    let now = chrono::Utc::now().timestamp();
    write_readings(&*h.state.store, "openrouter", "Main", 336, 1_800, now).await;
    write_readings(&*h.state.store, "openrouter", "Removed", 10, 600, now).await;
    // WHEN the overview asks for a week's sparklines of 48 points
    let (status, _, body) = h.get("/api/history/sparklines?days=7&points=48").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // THEN every enabled project has one series, in config order, and the removed one none
    let data = body["data"].as_array().expect("data");
    let ids: Vec<&str> = data
        .iter()
        .filter_map(|s| s["project_id"].as_str())
        .collect();
    let id = |n: &str, p: &str| balance_alert_core::model::project_id(p, n);
    assert_eq!(
        ids,
        vec![
            id("Main", "openrouter").as_str(),
            id("Low", "deepseek").as_str(),
            id("Broken", "moonshot").as_str()
        ]
    );
    // AND Main's series is at most 48 points, oldest first, ending with the newest reading
    let main = data[0]["points"].as_array().expect("points");
    assert!((40..=48).contains(&main.len()), "{}", main.len());
    let last = main.last().expect("a point");
    assert_eq!(last["balance"], 1_000.0 - 335.0);
    assert_eq!(last["timestamp"], balance_alert_core::model::wire::iso(now));
    let times: Vec<&str> = main
        .iter()
        .filter_map(|p| p["timestamp"].as_str())
        .collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "oldest first");
    assert_eq!(data[1]["points"], json!([]), "no reading yet");
    // AND the endpoint is in the OpenAPI document; a bad point count names the field
    let (_, _, doc) = h.get("/api/openapi.json").await;
    assert!(doc["paths"]["/api/history/sparklines"]["get"].is_object());
    let (status, _, body) = h.get("/api/history/sparklines?points=100000").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("points:"),
        "{body}"
    );
}
