//! Each kind of config entry read into its typed form: the settings, a project, a
//! subscription, a mailbox and the legacy webhook. [`super::validate`] walks the document.

use balance_alert_model::subscription::cycle_from_config;
use balance_alert_model::Decimal;
use serde_json::{Map, Value};

use super::fields::{describe, Fields};
use super::settings::{apply, Kind, SETTINGS};
use super::{EmailAccount, Problem, ProjectConfig, Secret, Settings, SubscriptionConfig, Webhook};
use crate::providers;

const DAY: u64 = 86_400;
const YEAR: u64 = 365 * DAY;

pub(super) fn settings(obj: Option<&Map<String, Value>>, problems: &mut Vec<Problem>) -> Settings {
    let mut s = Settings::default();
    let Some(obj) = obj else { return s };
    let mut f = Fields {
        obj,
        path: "settings".into(),
        problems,
    };
    for spec in SETTINGS {
        let Some(v) = f.present(spec.name) else {
            continue;
        };
        let text = match v {
            Value::String(t) => t.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => String::new(),
        };
        // An empty string (an unset `${VAR:-}`) keeps the default.
        if text.trim().is_empty() && v.is_string() {
            continue;
        }
        match spec.parse(&text) {
            Some(parsed) => apply(&mut s, spec.name, parsed),
            None if spec.kind == Kind::Zone => f.problem(
                spec.name,
                format!(
                    "unknown time zone {text:?}; use an IANA name such as Asia/Shanghai, Europe/Berlin or UTC"
                ),
            ),
            None => f.problem(
                spec.name,
                format!("must be {}, got {}", spec.expected(), describe(v)),
            ),
        }
    }
    s
}

pub(super) fn project(
    path: String,
    obj: &Map<String, Value>,
    problems: &mut Vec<Problem>,
) -> ProjectConfig {
    let mut f = Fields {
        obj,
        path,
        problems,
    };
    let name = f.required_string("name", "give the project a unique name");
    let provider = f.required_string(
        "provider",
        &format!("one of {}", providers::names().join(", ")),
    );
    let enabled = f.boolean("enabled").unwrap_or(true);
    let api_key = f.string("api_key").unwrap_or_default();
    let adapter = providers::lookup(&provider);
    if enabled && api_key.trim().is_empty() && adapter.is_none_or(|a| a.needs_key()) {
        f.problem(
            "api_key",
            "is required for an enabled project: set the provider API key (or ${VAR})".into(),
        );
    }
    // Levels as amounts, or as percentages of `reference_amount` (e.g. the usual top-up).
    let reference = f.amount("reference_amount");
    let percent = |f: &mut Fields<'_>, key: &str| {
        let pct = f.number(key, 0.0, 100.0, "a percentage from 0 to 100")?;
        match reference {
            Some(r) => Decimal::try_from(pct)
                .ok()
                .map(|p| (r * p / Decimal::ONE_HUNDRED).round_dp(6)),
            None => {
                f.problem(
                    key,
                    "needs reference_amount: the amount the percentage is of, e.g. 100".into(),
                );
                None
            }
        }
    };
    let threshold_pct = percent(&mut f, "threshold_percent");
    let critical_pct = percent(&mut f, "critical_threshold_percent");
    let parsed_threshold = f.amount("threshold").or(threshold_pct);
    let threshold = parsed_threshold.unwrap_or_default();
    if f.present("threshold").is_none() && f.present("threshold_percent").is_none() {
        f.problem(
            "threshold",
            "is required: the balance below which to alert, e.g. 10 (or threshold_percent with reference_amount)".into(),
        );
    }
    let critical_threshold = f.amount("critical_threshold").or(critical_pct);
    if let Some(c) = critical_threshold {
        // Compared only with a threshold that parsed: a bad threshold is its own problem, not
        // a reason to report the critical one against a stand-in 0.
        if parsed_threshold.is_some_and(|t| c >= t) {
            f.problem(
                "critical_threshold",
                format!("must be below threshold ({threshold}), got {c}"),
            );
        }
    }
    let base_url = f.string("base_url").filter(|s| !s.is_empty());
    if let Some(url) = &base_url {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            f.problem(
                "base_url",
                format!("must start with http:// or https://, got {url:?}"),
            );
        }
    }
    // An ISO code, or `points` / `percent` for figures that are not money.
    let currency = f.string("currency").filter(|s| !s.is_empty()).map(|c| {
        if ["points", "percent"].contains(&c.to_lowercase().as_str()) {
            c.to_lowercase()
        } else {
            c.to_uppercase()
        }
    });
    if let Some(c) = &currency {
        let iso = c.len() == 3 && c.chars().all(|ch| ch.is_ascii_uppercase());
        if !iso && c != "points" && c != "percent" {
            f.problem(
                "currency",
                format!(
                    "must be a 3-letter code such as USD or CNY (or points, percent), got {c:?}"
                ),
            );
        }
    }
    let project = ProjectConfig {
        owner_project: f.string("owner_project").filter(|s| !s.is_empty()),
        kind: f.string("type").unwrap_or_else(|| "credits".into()),
        check_interval: f.integer("check_interval", 1, YEAR),
        name,
        // As written (lower-cased): the project id is md5("provider:name"), so the Python
        // tool's `volc` keeps its history; the lookup knows the aliases.
        provider: provider.to_lowercase(),
        api_key: Secret::new(api_key),
        threshold,
        critical_threshold,
        enabled,
        base_url: base_url.map(|u| u.trim_end_matches('/').to_owned()),
        currency,
        options: providers::Options::from_entry(obj),
        resolved: Default::default(),
    };
    if let Some(adapter) = adapter.filter(|_| project.enabled) {
        for problem in adapter.check_options(&project) {
            f.problem(problem.field, problem.message);
        }
    }
    project
}

/// Settings that load but silence a subscription's reminders (the Python tool's configs keep
/// loading; these are warnings saying what to set).
pub(super) fn silent_subscription(
    path: &str,
    s: &SubscriptionConfig,
    today: chrono::NaiveDate,
) -> Vec<Problem> {
    use balance_alert_model::subscription::Cycle;
    let mut out = Vec::new();
    if s.enabled && s.cycle == Cycle::YearlyAnniversary && s.last_renewed_date.is_none() {
        out.push(Problem {
            path: format!("{path}.last_renewed_date"),
            message: format!(
                "is missing: a yearly subscription with renewal_day {} renews on the \
                 anniversary of its last renewal, so without one the next date is always a year \
                 away and it never reminds; set last_renewed_date (YYYY-MM-DD), or renewal_day \
                 as MMDD (e.g. 1231 for 31 December)",
                s.renewal_day
            ),
        });
    }
    // A day of slack: "today" in the user's zone may be tomorrow in UTC.
    if let Some(d) = s
        .last_renewed_date
        .filter(|d| *d > today + chrono::Days::new(1))
    {
        out.push(Problem {
            path: format!("{path}.last_renewed_date"),
            message: format!(
                "{d} is in the future (today is {today}): the subscription counts as renewed \
                 until then and no reminder goes out; set the date of the last renewal that \
                 actually happened"
            ),
        });
    }
    out
}

pub(super) fn subscription(
    path: String,
    obj: &Map<String, Value>,
    problems: &mut Vec<Problem>,
) -> Option<SubscriptionConfig> {
    let before = problems.len();
    let mut f = Fields {
        obj,
        path,
        problems,
    };
    let name = f.required_string("name", "give the subscription a unique name");
    let cycle_type = f.string("cycle_type").unwrap_or_else(|| "monthly".into());
    use balance_alert_model::subscription::bounds;
    let within = |(min, max): (u32, u32)| (u64::from(min), u64::from(max));
    let (day_min, day_max) = within(bounds::RENEWAL_DAY);
    let renewal_day = f.integer("renewal_day", day_min, day_max).unwrap_or(1) as u32;
    let (every_min, every_max) = within(bounds::INTERVAL_DAYS);
    let interval_days = f
        .integer("interval_days", every_min, every_max)
        .map(|d| d as u32);
    let start_date = f.date("start_date");
    let cycle = match cycle_from_config(&cycle_type, renewal_day, interval_days, start_date) {
        Ok(c) => Some(c),
        Err(msg) => {
            let key = if cycle_type == "every_n_days"
                || !matches!(cycle_type.as_str(), "weekly" | "monthly" | "yearly")
            {
                "cycle_type"
            } else {
                "renewal_day"
            };
            f.problem(key, msg);
            None
        }
    };
    let sub = SubscriptionConfig {
        name,
        cycle: cycle?,
        cycle_type,
        renewal_day,
        alert_days_before: {
            let (min, max) = within(bounds::ALERT_DAYS_BEFORE);
            f.integer("alert_days_before", min, max).unwrap_or(3) as i64
        },
        amount: f.amount("amount").unwrap_or_default(),
        currency: f
            .string("currency")
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "CNY".into()),
        last_renewed_date: f.date("last_renewed_date"),
        enabled: f.boolean("enabled").unwrap_or(true),
        owner_project: f.string("owner_project").filter(|s| !s.is_empty()),
    };
    (problems.len() == before).then_some(sub)
}

pub(super) fn email(
    path: String,
    obj: &Map<String, Value>,
    problems: &mut Vec<Problem>,
) -> EmailAccount {
    let mut f = Fields {
        obj,
        path,
        problems,
    };
    let enabled = f.boolean("enabled").unwrap_or(true);
    let username = if enabled {
        f.required_string("username", "the IMAP login")
    } else {
        f.string("username").unwrap_or_default()
    };
    EmailAccount {
        name: f.string("name").unwrap_or_else(|| username.clone()),
        host: f.string("host").unwrap_or_else(|| "imap.gmail.com".into()),
        port: f.integer("port", 1, 65_535).unwrap_or(993) as u16,
        password: Secret::new(f.string("password").unwrap_or_default()),
        use_ssl: f.boolean("use_ssl").unwrap_or(true),
        ca_file: f.string("ca_file").filter(|s| !s.trim().is_empty()),
        username,
        enabled,
    }
}

pub(super) fn webhook(obj: &Map<String, Value>, problems: &mut Vec<Problem>) -> Option<Webhook> {
    let mut f = Fields {
        obj,
        path: "webhook".into(),
        problems,
    };
    let url = f.string("url").filter(|u| !u.trim().is_empty())?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        // The URL may carry a token: name the problem without echoing the value.
        f.problem("url", "must start with http:// or https://".into());
    }
    Some(Webhook {
        url: Secret::new(url),
        kind: f
            .string("type")
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "feishu".into()),
        source: f
            .string("source")
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "balance-alert".into()),
    })
}
