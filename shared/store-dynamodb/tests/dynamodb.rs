//! The DynamoDB store against a real moto_server: the shared contract suite, racing writers,
//! malformed items, TTL-expired items and the table definition. One server per test binary,
//! one table per test.

mod moto;
#[allow(dead_code)]
mod silent;

use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::types::{
    AttributeValue, BillingMode, KeyType, StreamViewType, TimeToLiveStatus,
};
use balance_alert_core::model::{AlertState, AlertStatus, Decimal};
use balance_alert_core::store::contract::{alert, point, state, store_contract, write};
use balance_alert_core::store::{
    AlertQuery, ConfigStore, NextCheck, Outbox, Readings, States, StoreError,
};
use balance_alert_store_dynamodb::table::{INDEXES, KIND, PK, SK, TTL_ATTRIBUTE};
use balance_alert_store_dynamodb::{create_table, DynamoStore};

/// Long enough that the contract's 1970 timestamps are still inside the TTL horizon.
const CENTURY: u32 = 36_500;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64
}

#[tokio::test]
async fn dynamo_store_passes_the_contract() {
    let (_, store) = moto::fresh_store("contract", CENTURY).await;
    store_contract(&store).await;
}

#[tokio::test]
async fn alert_fires_once_when_two_stores_race() {
    // GIVEN two stores (two clients, as two Lambda invocations) on one table
    let (_, first) = moto::fresh_store("race", CENTURY).await;
    let second = DynamoStore::new(moto::client(), first.table(), CENTURY);
    let t0 = now();
    for round in 0..20u64 {
        // WHEN both commit a conflicting transition from the same prior version
        let expected = (round > 0).then_some(round);
        let attempt = |store: &DynamoStore, who: &str| {
            let s = state("p", round + 1, AlertState::Low);
            let a = alert(&format!("a-{round}-{who}"), "p", t0 + round as i64);
            let p = point("p", round as f64, t0 + round as i64);
            let store = store.clone();
            async move {
                store
                    .commit_checks(vec![write(expected, s, Some(a), Some(p))])
                    .await
                    .expect("a lost race is not an error")
            }
        };
        let (a, b) = tokio::join!(attempt(&first, "first"), attempt(&second, "second"));
        // THEN exactly one applies
        assert_eq!(
            [a[0], b[0]].iter().filter(|x| **x).count(),
            1,
            "round {round}: {a:?} {b:?}"
        );
    }
    // AND exactly one alert and one reading per transition exist
    let alerts = first
        .alerts(AlertQuery {
            project_id: Some("p".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("alerts");
    assert_eq!(alerts.len(), 20);
    let rounds: HashSet<String> = alerts
        .iter()
        .map(|a| {
            a.id.rsplit_once('-')
                .expect("id has a writer")
                .0
                .to_string()
        })
        .collect();
    assert_eq!(rounds.len(), 20, "one alert per round");
    let history = second.balance_history("p", 0, 100).await.expect("history");
    assert_eq!(history.len(), 20);
    let latest = first.get_state("p").await.expect("get").expect("exists");
    assert_eq!(latest.version, 20);
}

#[tokio::test]
async fn many_writes_apply_concurrently_and_list_sorted() {
    let (_, store) = moto::fresh_store("many", CENTURY).await;
    let t = now();
    // 40 projects (above the concurrency bound), and two writes for one project in one batch:
    // they apply in order, the second expecting the version the first sets.
    let mut writes: Vec<_> = (0..40)
        .map(|i| {
            let id = format!("p{i:02}");
            write(
                None,
                state(&id, 1, AlertState::Ok),
                None,
                Some(point(&id, 1.0, t)),
            )
        })
        .collect();
    writes.push(write(Some(1), state("p00", 2, AlertState::Low), None, None));
    let applied = store.commit_checks(writes).await.expect("commit");
    assert!(applied.iter().all(|a| *a), "{applied:?}");
    let states = store.list_states().await.expect("list");
    assert_eq!(states.len(), 40);
    assert!(states
        .windows(2)
        .all(|w| w[0].project_name <= w[1].project_name));
    assert_eq!(states[0].version, 2);

    // set_next_checks crosses BatchWriteItem's 25-item limit; a repeated id keeps its last time.
    let mut next: Vec<NextCheck> = (0..60).map(|i| NextCheck::at(format!("s{i}"), i)).collect();
    next.push(NextCheck::at("s0", 999));
    store.set_next_checks(next).await.expect("set");
    let schedules: HashMap<String, i64> = store
        .schedules()
        .await
        .expect("schedules")
        .into_iter()
        .map(|n| (n.project_id, n.at))
        .collect();
    assert_eq!(schedules.len(), 60);
    assert_eq!(schedules["s0"], 999);
    assert_eq!(schedules["s59"], 59);
}

#[tokio::test]
async fn malformed_items_are_corrupt_errors_naming_the_attribute() {
    let (client, store) = moto::fresh_store("corrupt", CENTURY).await;
    let s = |v: &str| AttributeValue::S(v.into());
    // A state whose version is a string, and an alert without a status.
    let broken_state = HashMap::from([
        (PK.to_string(), s("PROJECTS")),
        (SK.to_string(), s("broken")),
        (KIND.to_string(), s("project")),
        ("version".to_string(), s("seven")),
    ]);
    client
        .put_item()
        .table_name(store.table())
        .set_item(Some(broken_state))
        .send()
        .await
        .expect("raw put");
    let err = store.get_state("broken").await.expect_err("corrupt");
    assert!(
        matches!(&err, StoreError::Corrupt { item: "project state", message } if message.contains("PROJECTS/broken")),
        "{err}"
    );
    let err = store.list_states().await.expect_err("corrupt");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(!err.is_retryable());

    store
        .commit_checks(vec![write(
            None,
            state("ok", 1, AlertState::Low),
            Some(alert("good", "ok", now())),
            None,
        )])
        .await
        .expect("commit");
    client
        .update_item()
        .table_name(store.table())
        .key(PK, s("ALERT#good"))
        .key(SK, s("ALERT"))
        .update_expression("REMOVE #status")
        .expression_attribute_names("#status", "status")
        .send()
        .await
        .expect("raw update");
    let err = store
        .alerts(AlertQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect_err("corrupt");
    let StoreError::Corrupt { item, message } = err else {
        panic!("expected Corrupt, got {err}")
    };
    assert_eq!(item, "alert");
    assert!(message.contains("attribute status is missing"), "{message}");
}

#[tokio::test]
async fn items_carry_their_kind_and_expiry() {
    let (client, store) = moto::fresh_store("ttl", 30).await;
    let t = now();
    store
        .commit_checks(vec![write(
            None,
            state("p", 1, AlertState::Low),
            Some(alert("a", "p", t)),
            Some(point("p", 0.1, t)),
        )])
        .await
        .expect("commit");
    let items = client
        .scan()
        .table_name(store.table())
        .send()
        .await
        .expect("scan")
        .items
        .unwrap_or_default();
    let kinds: HashSet<&str> = items
        .iter()
        .map(|i| i[KIND].as_s().expect("kind is a string").as_str())
        .collect();
    assert_eq!(kinds, HashSet::from(["project", "alert", "reading"]));
    let expiry = (t + 30 * 86_400).to_string();
    for item in &items {
        let kind = item[KIND].as_s().expect("kind");
        if kind != "project" {
            assert_eq!(
                item[TTL_ATTRIBUTE].as_n().expect("a number"),
                &expiry,
                "{kind}"
            );
        } else {
            assert!(!item.contains_key(TTL_ATTRIBUTE), "states never expire");
        }
    }
    let reading = items
        .iter()
        .find(|i| i[KIND].as_s().is_ok_and(|k| k == "reading"));
    assert_eq!(
        reading.expect("a reading")["balance"]
            .as_n()
            .expect("a number"),
        "0.1",
        "amounts are written as their shortest decimal"
    );
}

#[tokio::test]
async fn reads_skip_items_past_their_ttl_and_the_regular_prune_makes_no_call() {
    // GIVEN one-day retention, and a reading and alert from two days ago not yet deleted
    let (_, store) = moto::fresh_store("expired", 1).await;
    let (old, recent) = (now() - 2 * 86_400, now());
    let writes = vec![
        write(
            None,
            state("p", 1, AlertState::Low),
            Some(alert("old", "p", old)),
            Some(point("p", 1.0, old)),
        ),
        write(
            Some(1),
            state("p", 2, AlertState::Low),
            Some(alert("new", "p", recent)),
            Some(point("p", 2.0, recent)),
        ),
    ];
    assert_eq!(
        store.commit_checks(writes).await.expect("commit"),
        [true, true]
    );
    // THEN reads show only what TTL keeps
    let history = store.balance_history("p", 0, 10).await.expect("history");
    assert_eq!(
        history.iter().map(|p| p.balance).collect::<Vec<_>>(),
        [Decimal::from(2)]
    );
    for query in [None, Some("p".to_string())] {
        let alerts = store
            .alerts(AlertQuery {
                project_id: query,
                since: Some(0),
                limit: 10,
            })
            .await
            .expect("alerts");
        assert_eq!(
            alerts.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
            ["new"]
        );
    }
    let pending = store.pending_alerts(10).await.expect("pending");
    assert_eq!(
        pending.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        ["new"]
    );
    assert!(!store
        .set_alert_status("old", AlertStatus::Sent)
        .await
        .expect("status"));
    // AND the check run's prune (now − retention) leaves it to TTL
    assert_eq!(store.prune(now() - 86_400).await.expect("prune"), 0);
}

#[tokio::test]
async fn create_table_is_idempotent_and_declares_stream_ttl_and_indexes() {
    let client = moto::client();
    let name = moto::unique_table("schema");
    create_table(&client, &name).await.expect("create");
    create_table(&client, &name)
        .await
        .expect("an existing table is fine");

    let t = client
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .expect("describe")
        .table
        .expect("a table description");
    let keys: Vec<(&str, &KeyType)> = t
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name(), k.key_type()))
        .collect();
    assert_eq!(keys, [(PK, &KeyType::Hash), (SK, &KeyType::Range)]);
    let stream = t.stream_specification().expect("a stream");
    assert!(stream.stream_enabled());
    assert_eq!(
        stream.stream_view_type(),
        Some(&StreamViewType::NewAndOldImages)
    );
    assert_eq!(
        t.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&BillingMode::PayPerRequest)
    );
    let declared: HashSet<(String, String, String)> = t
        .global_secondary_indexes()
        .iter()
        .map(|i| {
            let key = |ty: KeyType| {
                i.key_schema()
                    .iter()
                    .find(|k| *k.key_type() == ty)
                    .map(|k| k.attribute_name().to_string())
                    .unwrap_or_default()
            };
            (
                i.index_name().unwrap_or_default().to_string(),
                key(KeyType::Hash),
                key(KeyType::Range),
            )
        })
        .collect();
    let expected: HashSet<(String, String, String)> = INDEXES
        .iter()
        .map(|(n, h, r)| (n.to_string(), h.to_string(), r.to_string()))
        .collect();
    assert_eq!(declared, expected);

    let ttl = client
        .describe_time_to_live()
        .table_name(&name)
        .send()
        .await
        .expect("describe ttl")
        .time_to_live_description
        .expect("a TTL description");
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
    assert_eq!(ttl.attribute_name(), Some(TTL_ATTRIBUTE));
}

#[tokio::test]
async fn create_table_refuses_a_table_with_another_schema() {
    let client = moto::client();
    let name = moto::unique_table("other");
    client
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(
            aws_sdk_dynamodb::types::KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
        )
        .attribute_definitions(
            aws_sdk_dynamodb::types::AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                .build()
                .expect("attribute"),
        )
        .send()
        .await
        .expect("raw create");
    let err = create_table(&client, &name)
        .await
        .expect_err("another schema");
    assert!(matches!(err, StoreError::Backend { .. }), "{err}");
}

#[tokio::test]
async fn a_config_document_over_the_item_limit_is_a_clear_error() {
    let (_, store) = moto::fresh_store("bigdoc", CENTURY).await;
    // Text that does not compress: hex of a pseudo-random sequence, twice the limit.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let noise: String = (0..balance_alert_store_dynamodb::CONFIG_DOCUMENT_LIMIT / 8)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            format!("{x:016x}")
        })
        .collect();
    let text = format!("{{\"padding\": \"{noise}\"}}");
    let err = store
        .put_config_document(text, None, 1)
        .await
        .expect_err("too large for one item");
    assert!(matches!(err, StoreError::TooLarge { .. }), "{err}");
    assert!(err.to_string().contains("make it smaller"), "{err}");
    assert!(err.to_string().contains("compressed"), "{err}");
    assert_eq!(store.config_document().await.expect("read"), None);
}

/// A config of 10,000 projects is ~1 MB of JSON: kept gzip-compressed, it fits one item and
/// reads back as written.
#[tokio::test]
async fn a_large_config_document_is_stored_compressed_and_reads_back_as_written() {
    let (client, store) = moto::fresh_store("gzdoc", CENTURY).await;
    let projects: Vec<String> = (0..10_000)
        .map(|i| format!(r#"{{"name":"p{i}","provider":"openrouter","api_key":"${{KEY_{i}}}","threshold":10}}"#))
        .collect();
    let text = format!(r#"{{"projects":[{}]}}"#, projects.join(","));
    assert!(text.len() > balance_alert_store_dynamodb::CONFIG_DOCUMENT_LIMIT * 3 / 2);
    let version = store
        .put_config_document(text.clone(), None, 1)
        .await
        .expect("stored");
    assert_eq!(version, Some(1));
    let doc = store
        .config_document()
        .await
        .expect("read")
        .expect("a document");
    assert_eq!(doc.text, text);
    assert_eq!(store.config_version().await.expect("version"), Some(1));
    let item = client
        .get_item()
        .table_name(store.table())
        .key(PK, AttributeValue::S("CONFIG".into()))
        .key(SK, AttributeValue::S("CONFIG".into()))
        .send()
        .await
        .expect("raw get")
        .item
        .expect("the item");
    let stored = item["text_gz"]
        .as_b()
        .expect("compressed text")
        .as_ref()
        .len();
    assert!(
        stored < text.len() / 4,
        "{stored} bytes stored for {}",
        text.len()
    );
}

#[tokio::test]
async fn a_call_to_an_endpoint_that_never_answers_fails_within_the_budget_in_one_line() {
    // GIVEN an endpoint that accepts connections and never answers, and a 1 s budget
    let endpoint = silent::Silent::start().await;
    let budget = balance_alert_store_dynamodb::Budget::within(std::time::Duration::from_secs(1));
    let store = DynamoStore::new(moto::client_within(&endpoint.url(), budget), "t", CENTURY);
    // WHEN the store is called
    let started = std::time::Instant::now();
    let err = store.ping().await.expect_err("no answer");
    // THEN it gives up within the budget (a margin for a busy machine), as a retryable error
    assert!(
        started.elapsed() < budget.operation + std::time::Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err}");
    // …whose message is one readable line, not the SDK's debug dump
    let message = err.to_string();
    assert!(message.contains("timeout"), "{message}");
    assert!(!message.contains('\n') && message.len() < 300, "{message}");
    for dump in ["{", "DispatchFailure", "ConnectorError", "TimeoutError"] {
        assert!(!message.contains(dump), "{message}");
    }
}
