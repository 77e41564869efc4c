//! The state-derived Prometheus series, computed from the config and the store at scrape time:
//! the Python tool's names and labels exactly (`balance_alert_balance`, `_threshold`, `_ratio`,
//! `_status`, `balance_alert_subscription_*`, `balance_alert_last_check_timestamp`, …) and ours
//! (state, forecast, staleness). Built from what is configured now, so a project removed from
//! the config disappears from the exposition, and from the store, so every process sharing it
//! reports the same figures. One implementation for `/metrics` and the functions' outputs.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use balance_alert_model::alert::ProjectState;
use balance_alert_model::forecast::{days_left, run_out, Point};
use balance_alert_model::subscription::renewal_status;
use balance_alert_model::{AlertState, BalancePoint, Decimal};

use crate::check::housekeeping::renewal_spec;
use crate::config::Config;
use crate::money::to_f64;

/// Prometheus metric types used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gauge,
    Counter,
}

/// One metric family: name, help, type and its samples (labels, value).
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub name: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    pub samples: Vec<(Vec<(&'static str, String)>, f64)>,
}

impl Family {
    fn new(name: &'static str, kind: Kind, help: &'static str) -> Self {
        Family {
            name,
            help,
            kind,
            samples: Vec::new(),
        }
    }

    fn push(&mut self, labels: Vec<(&'static str, String)>, value: f64) {
        self.samples.push((labels, value));
    }
}

/// What the snapshot is computed from, besides the config.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// Every stored project state.
    pub states: Vec<ProjectState>,
    /// Recent readings of every project (a week), oldest first: the forecast.
    pub readings: Vec<BalancePoint>,
    /// Each project's newest reading: whether a threshold applies to its figure (a key
    /// without a limit reports usage). Without it, every figure is held against its threshold.
    pub latest: Vec<BalancePoint>,
    /// Each project's next check time.
    pub schedules: Vec<crate::store::NextCheck>,
    /// Unix seconds of the newest subscription evaluation.
    pub subscriptions_at: Option<i64>,
    /// The newest mailbox scan: when, and whether every mailbox was read.
    pub mail_scan: Option<(i64, bool)>,
    /// Config reloads applied since start.
    pub config_reloads: u64,
}

impl Inputs {
    /// Reads the store's part of the inputs at `now`: states, schedules, the newest
    /// subscription evaluation and, with `forecasts`, each project's forecast window (one
    /// bounded query per project, see [`crate::forecast`]) and each project's newest reading
    /// (the functions leave both out and fall back to the state for the verdict).
    pub async fn read(
        store: &dyn crate::store::Store,
        forecasts: bool,
        now: i64,
    ) -> Result<Inputs, crate::store::StoreError> {
        let states = store.list_states().await?;
        let mut readings = Vec::new();
        let mut latest = Vec::new();
        if forecasts {
            for s in &states {
                readings.extend(
                    crate::forecast::stored_readings(store, &s.project_id, Some(s), now).await?,
                );
            }
            latest = store.latest_readings().await?;
        }
        Ok(Inputs {
            states,
            readings,
            latest,
            schedules: store.schedules().await?,
            subscriptions_at: store
                .subscription_states()
                .await?
                .iter()
                .map(|s| s.updated_at)
                .max(),
            ..Inputs::default()
        })
    }
}

fn state_value(s: AlertState) -> f64 {
    match s {
        AlertState::Ok => 0.0,
        AlertState::Low => 1.0,
        AlertState::Critical => 2.0,
        AlertState::Failing => 3.0,
    }
}

fn ratio(balance: Decimal, threshold: Decimal) -> f64 {
    if threshold <= Decimal::ZERO {
        return 0.0;
    }
    to_f64(balance) / to_f64(threshold)
}

/// The families at `now`.
pub fn snapshot(config: &Config, inputs: &Inputs, now: i64) -> Vec<Family> {
    let mut out = project_families(config, inputs, now);
    out.extend(subscription_families(config, now));
    out.extend(run_families(config, inputs, now));
    out
}

fn project_families(config: &Config, inputs: &Inputs, now: i64) -> Vec<Family> {
    use Kind::Gauge;
    let mut balance = Family::new("balance_alert_balance", Gauge, "Current balance or credits");
    let mut threshold = Family::new("balance_alert_threshold", Gauge, "Alert threshold");
    let mut ratio_f = Family::new("balance_alert_ratio", Gauge, "Balance to threshold ratio");
    let mut status = Family::new(
        "balance_alert_status",
        Gauge,
        "Balance status (1=ok, 0=alert)",
    );
    let mut ours = Family::new(
        "balance_alert_project_balance",
        Gauge,
        "Latest balance of each project, with the kind of figure and its currency",
    );
    let mut state = Family::new(
        "balance_alert_project_state",
        Gauge,
        "Project state: 0 ok, 1 low, 2 critical, 3 failing (also in the state label)",
    );
    let mut success = Family::new(
        "balance_alert_project_last_success_timestamp",
        Gauge,
        "Unix time of the latest successful balance read",
    );
    let mut days = Family::new(
        "balance_alert_forecast_days_until_empty",
        Gauge,
        "Days until the balance reaches zero at the current burn rate (absent when not falling)",
    );
    // Indexed once: a scrape of 1,000 projects must not compare every pair.
    let states: HashMap<&str, &ProjectState> = inputs
        .states
        .iter()
        .map(|s| (s.project_id.as_str(), s))
        .collect();
    let unlimited: HashSet<&str> = inputs
        .latest
        .iter()
        .filter(|r| r.unlimited)
        .map(|r| r.project_id.as_str())
        .collect();
    let mut readings: HashMap<&str, Vec<Point>> = HashMap::new();
    for r in &inputs.readings {
        readings
            .entry(r.project_id.as_str())
            .or_default()
            .push(Point {
                timestamp: r.timestamp,
                balance: to_f64(r.balance),
            });
    }
    for p in config.projects.iter().filter(|p| p.enabled) {
        let id = p.id();
        let Some(s) = states.get(id.as_str()) else {
            continue;
        };
        let two = || {
            vec![
                ("project", p.name.clone()),
                ("provider", p.provider.clone()),
            ]
        };
        state.push(
            vec![
                ("project", p.name.clone()),
                ("provider", p.provider.clone()),
                ("state", s.state.as_str().to_owned()),
            ],
            state_value(s.state),
        );
        if let Some(t) = s.last_success_at {
            success.push(two(), t as f64);
        }
        let Some(b) = s.balance else { continue };
        let three = vec![
            ("project", p.name.clone()),
            ("provider", p.provider.clone()),
            ("type", p.kind.clone()),
        ];
        balance.push(three.clone(), to_f64(b));
        threshold.push(three.clone(), to_f64(p.threshold));
        let unlimited = unlimited.contains(id.as_str());
        // A figure no threshold applies to (usage of a key without a limit) has no ratio: a
        // rule on the ratio must not read it as "low".
        if !unlimited {
            ratio_f.push(three.clone(), ratio(b, p.threshold));
        }
        let alarm = balance_alert_model::need_alarm(s.state, unlimited);
        status.push(three, if alarm { 0.0 } else { 1.0 });
        ours.push(
            vec![
                ("project", p.name.clone()),
                ("provider", p.provider.clone()),
                ("kind", p.kind.clone()),
                ("currency", s.currency.clone()),
            ],
            to_f64(b),
        );
        let points = readings.get(id.as_str()).map_or(&[][..], Vec::as_slice);
        // The one forecast's whole days (as the alert, the API and the dashboard show them).
        if let Some(n) = run_out(points, to_f64(p.threshold), now).and_then(|f| days_left(&f, now))
        {
            days.push(two(), n as f64);
        }
    }
    vec![
        balance, threshold, ratio_f, status, ours, state, success, days,
    ]
}

fn subscription_families(config: &Config, now: i64) -> Vec<Family> {
    use Kind::Gauge;
    let mut days = Family::new(
        "balance_alert_subscription_days",
        Gauge,
        "Days until subscription renewal",
    );
    let mut amount = Family::new(
        "balance_alert_subscription_amount",
        Gauge,
        "Subscription renewal amount",
    );
    let mut status = Family::new(
        "balance_alert_subscription_status",
        Gauge,
        "Subscription status (1=normal, 0=needs_renewal, -1=renewed_in_cycle)",
    );
    let today = chrono::DateTime::from_timestamp(now, 0)
        .map(|d| config.settings.timezone.date_at(d))
        .unwrap_or_else(|| config.settings.timezone.today());
    for s in config.subscriptions.iter().filter(|s| s.enabled) {
        let r = renewal_status(&renewal_spec(s), today);
        let labels = vec![
            ("name", s.name.clone()),
            ("cycle_type", s.cycle_type.clone()),
        ];
        days.push(labels.clone(), r.days_until_renewal as f64);
        amount.push(labels.clone(), to_f64(s.amount));
        let v = if r.already_renewed {
            -1.0
        } else if r.need_alert {
            0.0
        } else {
            1.0
        };
        status.push(labels, v);
    }
    vec![days, amount, status]
}

fn run_families(config: &Config, inputs: &Inputs, now: i64) -> Vec<Family> {
    use Kind::{Counter, Gauge};
    let mut last = Family::new(
        "balance_alert_last_check_timestamp",
        Gauge,
        "Timestamp of last check",
    );
    let mut ok = Family::new(
        "balance_alert_check_success",
        Gauge,
        "Check success status (1=success, 0=failed)",
    );
    let enabled: HashSet<String> = config
        .projects
        .iter()
        .filter(|p| p.enabled)
        .map(|p| p.id())
        .collect();
    let checked: Vec<&ProjectState> = inputs
        .states
        .iter()
        .filter(|s| enabled.contains(&s.project_id))
        .collect();
    if let Some(t) = checked.iter().map(|s| s.last_checked_at).max() {
        last.push(vec![("check_type", "balance".into())], t as f64);
        let all_ok = checked.iter().all(|s| s.consecutive_failures == 0);
        ok.push(
            vec![("check_type", "balance".into())],
            f64::from(u8::from(all_ok)),
        );
    }
    if let Some(t) = inputs.subscriptions_at {
        last.push(vec![("check_type", "subscription".into())], t as f64);
        ok.push(vec![("check_type", "subscription".into())], 1.0);
    }
    if let Some((t, success)) = inputs.mail_scan {
        last.push(vec![("check_type", "email".into())], t as f64);
        ok.push(
            vec![("check_type", "email".into())],
            f64::from(u8::from(success)),
        );
    }
    let mut count = Family::new(
        "balance_alert_active_projects_count",
        Gauge,
        "Number of active projects being monitored",
    );
    count.push(Vec::new(), enabled.len() as f64);
    let mut active = Family::new(
        "balance_alert_active_projects",
        Gauge,
        "Enabled projects in the configuration",
    );
    active.push(Vec::new(), enabled.len() as f64);
    let mut breaker = Family::new(
        "balance_alert_circuit_breaker_state",
        Gauge,
        "Circuit breaker state (0=closed, 1=open): 1 when a check of the provider was skipped because its breaker was open",
    );
    let mut providers: Vec<&str> = config
        .projects
        .iter()
        .filter(|p| p.enabled)
        .map(|p| p.provider.as_str())
        .collect();
    providers.sort_unstable();
    providers.dedup();
    for provider in providers {
        let open = checked
            .iter()
            .any(|s| s.provider == provider && s.stale_reason.is_some());
        breaker.push(
            vec![("provider", provider.to_owned())],
            f64::from(u8::from(open)),
        );
    }
    let mut lag = Family::new(
        "balance_alert_background_task_lag_seconds",
        Gauge,
        "Background task lag from scheduled time: how late the most overdue check is",
    );
    let overdue = inputs
        .schedules
        .iter()
        .filter(|n| enabled.contains(&n.project_id))
        .map(|n| now - n.at)
        .max()
        .unwrap_or(0);
    lag.push(Vec::new(), overdue.max(0) as f64);
    let mut reloads = Family::new(
        "balance_alert_config_reload_total",
        Counter,
        "Total config reloads",
    );
    reloads.push(Vec::new(), inputs.config_reloads as f64);
    let mut info = Family::new("balance_alert_project_info", Gauge, "Project information");
    info.push(Vec::new(), 1.0);
    vec![last, ok, count, active, breaker, lag, reloads, info]
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn number(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else if v.is_nan() {
        "NaN".into()
    } else if v > 0.0 {
        "+Inf".into()
    } else {
        "-Inf".into()
    }
}

/// The families in the Prometheus text format (0.0.4). Families without samples still get
/// their HELP and TYPE lines, as the Python tool's exporter prints them.
pub fn render(families: &[Family]) -> String {
    let mut out = String::new();
    for f in families {
        let kind = match f.kind {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
        };
        let _ = writeln!(out, "# HELP {} {}", f.name, f.help);
        let _ = writeln!(out, "# TYPE {} {kind}", f.name);
        for (labels, value) in &f.samples {
            out.push_str(f.name);
            if !labels.is_empty() {
                let inner: Vec<String> = labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                    .collect();
                let _ = write!(out, "{{{}}}", inner.join(","));
            }
            let _ = writeln!(out, " {}", number(*value));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(doc: serde_json::Value) -> Config {
        crate::config::parse(
            &doc.to_string(),
            &std::collections::HashMap::<String, String>::new(),
        )
        .expect("config")
        .config
    }

    fn state(id: &str, name: &str, balance: Option<f64>, s: AlertState) -> ProjectState {
        ProjectState {
            project_name: name.into(),
            balance: balance.map(|b| Decimal::try_from(b).expect("finite")),
            consecutive_failures: u32::from(s == AlertState::Failing),
            last_success_at: Some(90),
            ..crate::store::contract::state(id, 1, s)
        }
    }

    fn sample<'a>(f: &'a [Family], name: &str, project: &str) -> Option<&'a f64> {
        f.iter()
            .find(|f| f.name == name)?
            .samples
            .iter()
            .find(|(l, _)| l.iter().any(|(_, v)| v == project))
            .map(|(_, v)| v)
    }

    #[test]
    fn the_python_tools_series_with_its_formulas_and_only_configured_projects() {
        let c = config(json!({"projects": [
            {"name": "Low", "provider": "openrouter", "api_key": "k", "threshold": 10, "type": "credits"},
            {"name": "Zero", "provider": "openrouter", "api_key": "k", "threshold": 0},
        ]}));
        let id = |n: &str| crate::model::project_id("openrouter", n);
        let inputs = Inputs {
            states: vec![
                state(&id("Low"), "Low", Some(5.0), AlertState::Low),
                state(&id("Zero"), "Zero", Some(3.0), AlertState::Ok),
                state(&id("Removed"), "Removed", Some(1.0), AlertState::Low),
            ],
            ..Inputs::default()
        };
        let f = snapshot(&c, &inputs, 1000);
        assert_eq!(sample(&f, "balance_alert_balance", "Low"), Some(&5.0));
        assert_eq!(sample(&f, "balance_alert_ratio", "Low"), Some(&0.5));
        assert_eq!(sample(&f, "balance_alert_status", "Low"), Some(&0.0));
        assert_eq!(
            sample(&f, "balance_alert_ratio", "Zero"),
            Some(&0.0),
            "threshold 0"
        );
        assert_eq!(sample(&f, "balance_alert_status", "Zero"), Some(&1.0));
        assert_eq!(sample(&f, "balance_alert_project_state", "Low"), Some(&1.0));
        assert_eq!(
            sample(&f, "balance_alert_balance", "Removed"),
            None,
            "not configured"
        );
        let text = render(&f);
        assert!(text.contains(
            "balance_alert_balance{project=\"Low\",provider=\"openrouter\",type=\"credits\"} 5\n"
        ));
        assert!(text.contains("# TYPE balance_alert_config_reload_total counter\n"));
    }

    #[test]
    fn a_reading_without_a_limit_exports_status_ok_and_no_ratio() {
        // GIVEN a key without a limit that used 5 against a threshold of 10 (state OK)
        let c = config(json!({"projects": [
            {"name": "Free", "provider": "openrouter", "api_key": "k", "threshold": 10},
        ]}));
        let id = crate::model::project_id("openrouter", "Free");
        let inputs = Inputs {
            states: vec![state(&id, "Free", Some(5.0), AlertState::Ok)],
            latest: vec![BalancePoint {
                project_id: id.clone(),
                balance: Decimal::new(5, 0),
                unlimited: true,
                ..Default::default()
            }],
            ..Inputs::default()
        };
        let f = snapshot(&c, &inputs, 1000);
        // THEN the status says OK and no ratio is there for a rule to read as "low"
        assert_eq!(sample(&f, "balance_alert_status", "Free"), Some(&1.0));
        assert_eq!(sample(&f, "balance_alert_ratio", "Free"), None);
        assert_eq!(sample(&f, "balance_alert_balance", "Free"), Some(&5.0));
    }

    #[test]
    fn subscriptions_are_normal_due_or_renewed() {
        let c = config(
            json!({"settings": {"timezone": "UTC"}, "projects": [], "subscriptions": [
                {"name": "Due", "cycle_type": "monthly", "renewal_day": 3, "alert_days_before": 5, "amount": 10},
                {"name": "Far", "cycle_type": "monthly", "renewal_day": 20, "alert_days_before": 1, "amount": 10},
                {"name": "Paid", "cycle_type": "monthly", "renewal_day": 3, "alert_days_before": 5, "amount": 10,
                 "last_renewed_date": "2026-12-01"},
            ]}),
        );
        // 2026-12-01 UTC
        let now = 1_796_083_200;
        let f = snapshot(&c, &Inputs::default(), now);
        assert_eq!(
            sample(&f, "balance_alert_subscription_days", "Due"),
            Some(&2.0)
        );
        assert_eq!(
            sample(&f, "balance_alert_subscription_status", "Due"),
            Some(&0.0)
        );
        assert_eq!(
            sample(&f, "balance_alert_subscription_status", "Far"),
            Some(&1.0)
        );
        assert_eq!(
            sample(&f, "balance_alert_subscription_status", "Paid"),
            Some(&-1.0)
        );
        assert!(render(&f).contains("cycle_type=\"monthly\""));
    }

    #[test]
    fn label_values_are_escaped() {
        let mut f = Family::new("x", Kind::Gauge, "h");
        f.push(vec![("project", "a\"b\\c\nd".into())], 1.0);
        assert!(render(&[f]).contains(r#"x{project="a\"b\\c\nd"} 1"#));
    }
}
