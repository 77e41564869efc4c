//! CloudWatch Embedded Metric Format: the functions' metrics as structured log lines (no
//! PutMetricData calls). The series and names are the `/metrics` ones, from the same
//! [`exposition::snapshot`]: one document per label set, its labels as dimensions.

use std::collections::BTreeMap;
use std::time::Duration;

use balance_alert_core::exposition::Family;
use balance_alert_core::service::NotifyObserver;
use serde_json::{json, Map, Value};

/// The CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "BalanceAlert";

/// Run-health series always sent to CloudWatch.
pub const ALWAYS: [&str; 3] = [
    "balance_alert_check_success",
    "balance_alert_active_projects_count",
    "balance_alert_background_task_lag_seconds",
];
/// Per-project balances (with kind and currency), unless `EMF_PROJECT_METRICS=false`.
pub const PER_PROJECT: &str = "balance_alert_project_balance";
/// The per-delivery series of [`EmfObserver`].
pub const DELIVERY: [&str; 2] = [
    "balance_alert_deliveries_total",
    "balance_alert_webhook_delivery_time_seconds",
];

/// The series sent to CloudWatch. Each metric name × dimension values is a custom metric
/// billed monthly, so EMF carries a small set: whether the checks succeed, how many projects,
/// how late the schedule runs, and — unless `per_project` is off (`EMF_PROJECT_METRICS=false`)
/// — each project's balance with its kind and currency. Everything else stays in `/metrics`
/// and remote write.
pub fn for_cloudwatch(families: &[Family], per_project: bool) -> Vec<Family> {
    families
        .iter()
        .filter(|f| ALWAYS.contains(&f.name) || (per_project && f.name == PER_PROJECT))
        .cloned()
        .collect()
}

/// `EMF_PROJECT_METRICS` (default true).
pub fn per_project_from_env() -> bool {
    std::env::var("EMF_PROJECT_METRICS")
        .map(|v| {
            !matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "false" | "0" | "off" | "no"
            )
        })
        .unwrap_or(true)
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

/// Delivery outcomes as EMF, one line per send (the notifier's and checker's observer).
pub struct EmfObserver;

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
        let doc = json!({
            "_aws": {"Timestamp": ts, "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["channel", "outcome"]],
                "Metrics": [{"Name": DELIVERY[0], "Unit": "Count"},
                            {"Name": DELIVERY[1], "Unit": "Seconds"}],
            }]},
            "channel": channel,
            "outcome": outcome,
            "webhook_type": kind,
            "balance_alert_deliveries_total": 1,
            "balance_alert_webhook_delivery_time_seconds": elapsed.as_secs_f64(),
        });
        println!("{doc}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use balance_alert_core::exposition::Kind;

    #[test]
    fn cloudwatch_gets_a_small_set_and_per_project_balances_only_when_asked() {
        let fam = |name| Family {
            name,
            help: "",
            kind: Kind::Gauge,
            samples: Vec::new(),
        };
        let all = [
            fam("balance_alert_balance"),
            fam("balance_alert_project_balance"),
            fam("balance_alert_check_success"),
        ];
        let names = |v: Vec<Family>| v.into_iter().map(|f| f.name).collect::<Vec<_>>();
        assert_eq!(
            names(for_cloudwatch(&all, true)),
            [
                "balance_alert_project_balance",
                "balance_alert_check_success"
            ]
        );
        assert_eq!(
            names(for_cloudwatch(&all, false)),
            ["balance_alert_check_success"]
        );
    }

    #[test]
    fn the_aws_dashboard_queries_only_what_the_functions_emit() {
        let dash: Value =
            serde_json::from_str(include_str!("../../../infra/grafana-dashboard.json"))
                .expect("dashboard JSON");
        let emitted: Vec<&str> = ALWAYS
            .iter()
            .chain(DELIVERY.iter())
            .copied()
            .chain([PER_PROJECT])
            .collect();
        let panels = dash["panels"].as_array().expect("panels");
        assert!(panels.len() >= 5);
        for p in panels {
            for t in p["targets"].as_array().expect("targets") {
                let sql = t["sqlExpression"]
                    .as_str()
                    .expect("a Metrics Insights query");
                assert!(sql.contains("\"BalanceAlert\""), "{sql}");
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
