//! CloudWatch Embedded Metric Format: the functions' metrics as structured log lines (no
//! PutMetricData calls). The series and names are the `/metrics` ones, from the same
//! [`exposition::snapshot`]: one document per label set, its labels as dimensions.

use std::collections::BTreeMap;
use std::time::Duration;

use balance_alert_core::exposition::{Family, Kind};
use balance_alert_core::observe::NotifyObserver;
use serde_json::{json, Map, Value};

/// The CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "BalanceAlert";

/// Run-health series always sent to CloudWatch.
pub const ALWAYS: [&str; 2] = [
    "balance_alert_active_projects_count",
    "balance_alert_background_task_lag_seconds",
];
/// Projects counted by state (one metric per state), always sent.
pub const BY_STATE: &str = "balance_alert_projects_by_state";
/// The states [`BY_STATE`] counts, each always present (0 when no project is in it).
pub const STATES: [&str; 4] = ["ok", "low", "critical", "failing"];
/// Per-project balances (with kind and currency), only with `EMF_PROJECT_METRICS=true`.
pub const PER_PROJECT: &str = "balance_alert_project_balance";
/// Per-check-type success, only with `EMF_PROJECT_METRICS=true` (the state counts carry it).
pub const DETAILED: [&str; 2] = [PER_PROJECT, "balance_alert_check_success"];
/// The per-delivery series of [`EmfObserver`]: the count by outcome (sent, retry, failed) and
/// the time, by channel too with `EMF_PROJECT_METRICS=true`.
pub const DELIVERY: [&str; 2] = [
    "balance_alert_deliveries_total",
    "balance_alert_webhook_delivery_time_seconds",
];
/// The `event` of the log line carrying one project's balance (see [`project_lines`]).
pub const PROJECT_EVENT: &str = "project_balance";

/// The series sent to CloudWatch. Each metric name × dimension values is a custom metric
/// billed monthly ($0.30), so by default the set is fixed whatever the number of projects and
/// channels — at most 10: projects by state (4), how many projects (the checker's heartbeat),
/// how late the schedule runs, deliveries by outcome (3) and the delivery time. With
/// `detailed` (`EMF_PROJECT_METRICS=true`) each project's balance and each check type's
/// success come too. Per-project figures cost nothing per project in the log lines of
/// [`project_lines`] (CloudWatch Logs Insights), in `/metrics` and in remote write.
pub fn for_cloudwatch(families: &[Family], detailed: bool) -> Vec<Family> {
    let mut out: Vec<Family> = families
        .iter()
        .filter(|f| ALWAYS.contains(&f.name) || (detailed && DETAILED.contains(&f.name)))
        .cloned()
        .collect();
    let mut by_state = Family {
        name: BY_STATE,
        help: "Projects in each state",
        kind: Kind::Gauge,
        samples: Vec::new(),
    };
    let states = families
        .iter()
        .find(|f| f.name == "balance_alert_project_state");
    for state in STATES {
        let n = states.map_or(0, |f| {
            f.samples
                .iter()
                .filter(|(labels, _)| labels.iter().any(|(k, v)| *k == "state" && v == state))
                .count()
        });
        by_state
            .samples
            .push((vec![("state", state.to_owned())], n as f64));
    }
    out.push(by_state);
    out
}

/// One plain JSON log line per project with a balance (`event`, project, provider, kind,
/// currency, balance, state): per-project figures for CloudWatch Logs Insights at the price of
/// the log bytes, not of a custom metric each (`infra/grafana/balance-alert-cloudwatch.json`
/// queries them).
pub fn project_lines(families: &[Family]) -> Vec<Value> {
    let sample_labels = |labels: &[(&str, String)], key: &str| {
        labels
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
    };
    let states: BTreeMap<(String, String), String> = families
        .iter()
        .filter(|f| f.name == "balance_alert_project_state")
        .flat_map(|f| f.samples.iter())
        .filter_map(|(labels, _)| {
            Some((
                (
                    sample_labels(labels, "project")?,
                    sample_labels(labels, "provider")?,
                ),
                sample_labels(labels, "state")?,
            ))
        })
        .collect();
    families
        .iter()
        .filter(|f| f.name == PER_PROJECT)
        .flat_map(|f| f.samples.iter())
        .filter(|(_, v)| v.is_finite())
        .map(|(labels, balance)| {
            let mut line = Map::new();
            line.insert("event".into(), json!(PROJECT_EVENT));
            for (k, v) in labels {
                line.insert((*k).to_owned(), json!(v));
            }
            line.insert("balance".into(), json!(balance));
            let key = (
                sample_labels(labels, "project").unwrap_or_default(),
                sample_labels(labels, "provider").unwrap_or_default(),
            );
            if let Some(state) = states.get(&key) {
                line.insert("state".into(), json!(state));
            }
            Value::Object(line)
        })
        .collect()
}

/// `EMF_PROJECT_METRICS` (default false): per-project and per-channel custom metrics.
pub fn detailed_from_env() -> bool {
    std::env::var("EMF_PROJECT_METRICS").is_ok_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "true" | "1" | "on" | "yes"
        )
    })
}

/// Labels (sorted) → the metrics sampled with them.
type Groups<'a> = BTreeMap<Vec<(&'a str, String)>, Vec<(&'a str, f64)>>;

/// EMF documents for `families` at `timestamp_ms`: samples sharing a label set share a
/// document (the labels are its dimensions).
pub fn documents(families: &[Family], timestamp_ms: i64) -> Vec<Value> {
    let mut groups: Groups<'_> = BTreeMap::new();
    for f in families {
        for (labels, value) in &f.samples {
            if value.is_finite() {
                let mut key = labels.clone();
                key.sort();
                groups.entry(key).or_default().push((f.name, *value));
            }
        }
    }
    groups
        .into_iter()
        .map(|(labels, metrics)| document(&labels, &metrics, timestamp_ms))
        .collect()
}

fn document(labels: &[(&str, String)], metrics: &[(&str, f64)], timestamp_ms: i64) -> Value {
    let mut doc = Map::new();
    let dimensions: Vec<&str> = labels.iter().map(|(k, _)| *k).collect();
    doc.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [dimensions],
                "Metrics": metrics.iter().map(|(n, _)| json!({"Name": n})).collect::<Vec<_>>(),
            }],
        }),
    );
    for (k, v) in labels {
        doc.insert((*k).to_owned(), Value::String(v.clone()));
    }
    for (n, v) in metrics {
        doc.insert((*n).to_owned(), json!(v));
    }
    Value::Object(doc)
}

/// Prints documents as log lines (stdout is the function's log stream).
pub fn print(docs: &[Value]) {
    for d in docs {
        println!("{d}");
    }
}

/// Delivery outcomes as EMF, one line per send (the notifier's and checker's observer): the
/// count by outcome and the time; by channel too when `detailed`.
pub struct EmfObserver {
    pub detailed: bool,
}

impl EmfObserver {
    /// Detailed when `EMF_PROJECT_METRICS=true`.
    pub fn from_env() -> Self {
        EmfObserver {
            detailed: detailed_from_env(),
        }
    }

    /// The EMF document of one send.
    pub fn document(
        &self,
        channel: &str,
        kind: &str,
        outcome: &str,
        elapsed: Duration,
        ts: i64,
    ) -> Value {
        let (count_dims, time_dims) = if self.detailed {
            (
                json!([["outcome"], ["channel", "outcome"]]),
                json!([[], ["channel"]]),
            )
        } else {
            (json!([["outcome"]]), json!([[]]))
        };
        json!({
            "_aws": {"Timestamp": ts, "CloudWatchMetrics": [
                {"Namespace": NAMESPACE, "Dimensions": count_dims,
                 "Metrics": [{"Name": DELIVERY[0], "Unit": "Count"}]},
                {"Namespace": NAMESPACE, "Dimensions": time_dims,
                 "Metrics": [{"Name": DELIVERY[1], "Unit": "Seconds"}]},
            ]},
            "channel": channel,
            "outcome": outcome,
            "webhook_type": kind,
            DELIVERY[0]: 1,
            DELIVERY[1]: elapsed.as_secs_f64(),
        })
    }
}

impl NotifyObserver for EmfObserver {
    fn delivery(
        &self,
        channel: &str,
        kind: &str,
        outcome: &str,
        _timed_out: bool,
        elapsed: Duration,
    ) {
        let ts = chrono::Utc::now().timestamp_millis();
        println!("{}", self.document(channel, kind, outcome, elapsed, ts));
    }
}

/// The distinct custom metrics `documents` define (metric name × dimension names × values):
/// what CloudWatch bills monthly.
pub fn custom_metrics(documents: &[Value]) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for d in documents {
        for directive in d["_aws"]["CloudWatchMetrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for dims in directive["Dimensions"].as_array().into_iter().flatten() {
                let dims: Vec<String> = dims
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|k| k.as_str())
                    .map(|k| format!("{k}={}", d[k].as_str().unwrap_or_default()))
                    .collect();
                for m in directive["Metrics"].as_array().into_iter().flatten() {
                    out.insert(format!(
                        "{}{{{}}}",
                        m["Name"].as_str().unwrap_or_default(),
                        dims.join(",")
                    ));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The families a checker run of `n` projects (states in turn) produces, as far as EMF
    /// reads them.
    fn run_of(n: usize) -> Vec<Family> {
        let fam = |name| Family {
            name,
            help: "",
            kind: Kind::Gauge,
            samples: Vec::new(),
        };
        let mut state = fam("balance_alert_project_state");
        let mut balance = fam(PER_PROJECT);
        for i in 0..n {
            let project = || {
                vec![
                    ("project", format!("p{i}")),
                    ("provider", "openrouter".to_owned()),
                ]
            };
            let mut labels = project();
            labels.push(("state", STATES[i % 4].to_owned()));
            state.samples.push((labels, (i % 4) as f64));
            let mut labels = project();
            labels.push(("kind", "remaining_credit".to_owned()));
            labels.push(("currency", "USD".to_owned()));
            balance.samples.push((labels, i as f64));
        }
        let mut success = fam("balance_alert_check_success");
        for t in ["balance", "subscription", "email"] {
            success
                .samples
                .push((vec![("check_type", t.to_owned())], 1.0));
        }
        let mut count = fam("balance_alert_active_projects_count");
        count.samples.push((Vec::new(), n as f64));
        let mut lag = fam("balance_alert_background_task_lag_seconds");
        lag.samples.push((Vec::new(), 3.0));
        vec![
            fam("balance_alert_balance"),
            state,
            balance,
            success,
            count,
            lag,
        ]
    }

    /// Every custom metric a run of `n` projects and sends on `channels` channels define.
    fn billed(n: usize, channels: usize, detailed: bool) -> std::collections::BTreeSet<String> {
        let mut docs = documents(&for_cloudwatch(&run_of(n), detailed), 1_000);
        let observer = EmfObserver { detailed };
        for c in 0..channels {
            for outcome in ["sent", "retry", "failed"] {
                let channel = format!("c{c}");
                docs.push(observer.document(
                    &channel,
                    "webhook",
                    outcome,
                    Duration::from_millis(5),
                    1_000,
                ));
            }
        }
        custom_metrics(&docs)
    }

    #[test]
    fn by_default_the_custom_metrics_are_a_fixed_set_whatever_the_projects_and_channels() {
        for (n, channels) in [(0, 0), (1, 1), (100, 3), (1_000, 20)] {
            let metrics = billed(n, channels, false);
            assert!(
                metrics.len() <= 10,
                "{n} projects, {channels} channels: {metrics:?}"
            );
            if n > 0 && channels > 0 {
                assert_eq!(metrics.len(), 10, "{metrics:?}");
            }
        }
        let metrics = billed(1_000, 20, false);
        assert!(metrics.contains("balance_alert_projects_by_state{state=failing}"));
        assert!(
            metrics.contains("balance_alert_active_projects_count{}"),
            "the heartbeat alarm's metric"
        );
        assert!(!metrics
            .iter()
            .any(|m| m.contains("project=") || m.contains("channel=")));
    }

    #[test]
    fn per_project_and_per_channel_metrics_come_only_when_asked() {
        let metrics = billed(100, 3, true);
        assert!(metrics.contains("balance_alert_project_balance{currency=USD,kind=remaining_credit,project=p7,provider=openrouter}"), "{metrics:?}");
        assert!(metrics.contains("balance_alert_deliveries_total{channel=c2,outcome=retry}"));
        assert!(metrics.len() > 100 + 3 * 3);
    }

    #[test]
    fn projects_are_counted_by_state_and_each_has_a_log_line_with_its_balance_and_state() {
        let families = run_of(6);
        let by_state = for_cloudwatch(&families, false)
            .into_iter()
            .find(|f| f.name == BY_STATE)
            .expect("by state");
        let count = |s: &str| {
            by_state
                .samples
                .iter()
                .find(|(l, _)| l[0].1 == s)
                .map(|(_, v)| *v)
        };
        assert_eq!(
            (
                count("ok"),
                count("low"),
                count("critical"),
                count("failing")
            ),
            (Some(2.0), Some(2.0), Some(1.0), Some(1.0))
        );
        let lines = project_lines(&families);
        assert_eq!(lines.len(), 6);
        assert_eq!(lines[5]["event"], PROJECT_EVENT);
        assert_eq!(lines[5]["project"], "p5");
        assert_eq!(lines[5]["balance"], 5.0);
        assert_eq!(lines[5]["state"], "low");
        assert!(
            lines[5].get("_aws").is_none(),
            "a plain log line, not a metric"
        );
    }

    #[test]
    fn the_aws_dashboard_queries_only_what_the_functions_emit() {
        let dash: Value = serde_json::from_str(include_str!(
            "../../../infra/grafana/balance-alert-cloudwatch.json"
        ))
        .expect("dashboard JSON");
        let emitted: Vec<&str> = ALWAYS
            .iter()
            .chain(DELIVERY.iter())
            .copied()
            .chain([BY_STATE])
            .collect();
        let line = &project_lines(&run_of(1))[0];
        let panels = dash["panels"].as_array().expect("panels");
        assert!(panels.len() >= 5);
        for p in panels {
            for t in p["targets"].as_array().expect("targets") {
                if t["queryMode"] == "Logs" {
                    // Logs Insights over the project lines: the fields it reads exist.
                    let q = t["expression"].as_str().expect("a Logs Insights query");
                    assert!(q.contains(&format!("event = \"{PROJECT_EVENT}\"")), "{q}");
                    for field in ["project", "balance", "currency"] {
                        assert!(
                            q.contains(field) && line.get(field).is_some(),
                            "{field}: {q}"
                        );
                    }
                    continue;
                }
                let sql = t["sqlExpression"]
                    .as_str()
                    .expect("a Metrics Insights query");
                assert!(sql.contains("\"BalanceAlert\""), "{sql}");
                let dims: Vec<&str> = sql
                    .split("SCHEMA(")
                    .nth(1)
                    .and_then(|rest| rest.split(')').next())
                    .map(|d| d.split(',').skip(1).map(str::trim).collect())
                    .unwrap_or_default();
                assert!(
                    !dims.iter().any(|d| *d == "project" || *d == "channel"),
                    "the default metrics have no such dimension: {sql}"
                );
                let metric = sql
                    .split('(')
                    .nth(1)
                    .and_then(|rest| rest.split(')').next())
                    .expect("an aggregate over one metric");
                assert!(emitted.contains(&metric), "{metric} is not emitted: {sql}");
            }
        }
    }

    #[test]
    fn samples_of_one_label_set_share_a_document_with_their_labels_as_dimensions() {
        let fam = |name, v| Family {
            name,
            help: "",
            kind: Kind::Gauge,
            samples: vec![(
                vec![
                    ("project", "Main".into()),
                    ("provider", "openrouter".into()),
                ],
                v,
            )],
        };
        let docs = documents(
            &[
                fam("balance_alert_balance", 5.0),
                fam("balance_alert_threshold", 10.0),
            ],
            1_000,
        );
        assert_eq!(docs.len(), 1);
        let d = &docs[0];
        assert_eq!(d["project"], "Main");
        assert_eq!(d["balance_alert_balance"], 5.0);
        let cw = &d["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(cw["Namespace"], NAMESPACE);
        assert_eq!(cw["Dimensions"], json!([["project", "provider"]]));
        assert_eq!(cw["Metrics"].as_array().map(Vec::len), Some(2));
        assert_eq!(d["_aws"]["Timestamp"], 1_000);
    }
}
