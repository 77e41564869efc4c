//! Every setting in one table: its name in `settings`, its environment variable, default,
//! bounds and meaning. Validation, the environment overrides, `Settings::default()` and
//! `balance-alert config settings` (the README's table) all read it, so they cannot drift.

use std::path::PathBuf;

use super::{Settings, TimeZone};

/// What values a setting takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// A whole number in `min..=max`.
    Int { min: u64, max: u64 },
    /// A number in `min..=max`.
    Float { min: f64, max: f64 },
    /// `true`/`false`.
    Bool,
    /// A file path.
    Path,
    /// An IANA time zone name, or `local`.
    Zone,
    /// `zh` or `en`.
    Language,
    /// `off` or `daily HH:MM`.
    Digest,
}

/// One row of the settings table.
#[derive(Debug, Clone, Copy)]
pub struct SettingSpec {
    /// The key in `settings`.
    pub name: &'static str,
    /// The environment variable that overrides it (any mode).
    pub env: &'static str,
    /// The default, as it would be written in config.json.
    pub default: &'static str,
    pub kind: Kind,
    /// What it does.
    pub doc: &'static str,
}

const DAY: u64 = 86_400;
const YEAR: u64 = 365 * DAY;

macro_rules! int {
    ($name:literal, $env:literal, $default:literal, $min:expr, $max:expr, $doc:literal) => {
        SettingSpec {
            name: $name,
            env: $env,
            default: $default,
            kind: Kind::Int {
                min: $min,
                max: $max,
            },
            doc: $doc,
        }
    };
}

/// Every setting. Upper bounds keep time arithmetic far from overflow and catch unit mistakes
/// (milliseconds given for seconds).
pub const SETTINGS: &[SettingSpec] = &[
    int!(
        "balance_refresh_interval_seconds",
        "BALANCE_REFRESH_INTERVAL_SECONDS",
        "3600",
        1,
        YEAR,
        "base interval between two checks of a project"
    ),
    int!(
        "min_refresh_interval_seconds",
        "MIN_REFRESH_INTERVAL_SECONDS",
        "60",
        1,
        YEAR,
        "shortest interval the adaptive schedule may use"
    ),
    SettingSpec {
        name: "enable_smart_refresh",
        env: "ENABLE_SMART_REFRESH",
        default: "true",
        kind: Kind::Bool,
        doc: "check more often near the threshold or when the balance falls fast, less when flat",
    },
    int!(
        "max_concurrent_checks",
        "MAX_CONCURRENT_CHECKS",
        "100",
        1,
        1000,
        "provider calls in flight at once"
    ),
    int!(
        "response_cache_ttl",
        "RESPONSE_CACHE_TTL",
        "300",
        0,
        YEAR,
        "seconds a successful response is reused (0 = off)"
    ),
    SettingSpec {
        name: "request_timeout_seconds",
        env: "REQUEST_TIMEOUT_SECONDS",
        default: "10",
        kind: Kind::Float {
            min: 0.001,
            max: 600.0,
        },
        doc: "per-request timeout",
    },
    int!(
        "max_retries",
        "MAX_RETRIES",
        "3",
        0,
        10,
        "retries after the first attempt on timeouts, 429 and 5xx"
    ),
    int!(
        "retry_base_delay_ms",
        "RETRY_BASE_DELAY_MS",
        "500",
        1,
        60_000,
        "first retry delay; doubles each retry, with jitter"
    ),
    int!(
        "max_retry_after_seconds",
        "MAX_RETRY_AFTER_SECONDS",
        "30",
        0,
        3600,
        "longest Retry-After honoured; a longer one gives up"
    ),
    int!(
        "circuit_breaker_failures",
        "CIRCUIT_BREAKER_FAILURES",
        "5",
        1,
        1000,
        "consecutive transient failures of one key that open its breaker"
    ),
    int!(
        "circuit_breaker_reset_seconds",
        "CIRCUIT_BREAKER_RESET_SECONDS",
        "30",
        1,
        DAY,
        "how long an open breaker waits before one trial"
    ),
    int!(
        "alert_cooldown_seconds",
        "ALERT_COOLDOWN_SECONDS",
        "86400",
        0,
        YEAR,
        "seconds before a still-low project is reminded again"
    ),
    int!(
        "failure_alert_threshold",
        "FAILURE_ALERT_THRESHOLD",
        "3",
        1,
        1000,
        "consecutive failed checks before FAILING"
    ),
    SettingSpec {
        name: "database_path",
        env: "DATABASE_PATH",
        default: "data/balance_alert.db",
        kind: Kind::Path,
        doc: "SQLite file of the embedded store (local mode)",
    },
    int!(
        "history_retention_days",
        "HISTORY_RETENTION_DAYS",
        "90",
        1,
        36_500,
        "days of balance and alert history kept (DynamoDB: item TTL)"
    ),
    int!(
        "history_resolution_minutes",
        "HISTORY_RESOLUTION_MINUTES",
        "60",
        0,
        10_080,
        "an unchanged balance is stored as a history row at most once per this many minutes (0 = every check)"
    ),
    int!(
        "refresh_cooldown_seconds",
        "REFRESH_COOLDOWN_SECONDS",
        "30",
        0,
        DAY,
        "seconds between manual refreshes through the API, across processes"
    ),
    SettingSpec {
        name: "timezone",
        env: "TIMEZONE",
        default: "local",
        kind: Kind::Zone,
        doc: "IANA zone for calendar dates (renewals, reminders, today)",
    },
    SettingSpec {
        name: "language",
        // Not LANGUAGE: glibc's locale variable of that name is set on many systems.
        env: "ALERT_LANGUAGE",
        default: "zh",
        kind: Kind::Language,
        doc: "language of alert messages",
    },
    SettingSpec {
        name: "digest",
        env: "DIGEST",
        default: "off",
        kind: Kind::Digest,
        doc: "one summary per channel every day at this time (`settings.timezone`)",
    },
    SettingSpec {
        name: "recovery_margin_percent",
        env: "RECOVERY_MARGIN_PERCENT",
        default: "5",
        kind: Kind::Float {
            min: 0.0,
            max: 1000.0,
        },
        doc: "recovery needs the balance this many percent above the threshold (no flapping)",
    },
    int!(
        "forecast_alert_days",
        "FORECAST_ALERT_DAYS",
        "3",
        0,
        365,
        "alert when the trend runs out within this many days (0 = off)"
    ),
    int!(
        "storm_threshold",
        "STORM_THRESHOLD",
        "5",
        1,
        10_000,
        "more messages than this for one channel in a minute (counted across processes in the store) fold into one summary"
    ),
    int!(
        "delivery_max_attempts",
        "DELIVERY_MAX_ATTEMPTS",
        "10",
        1,
        100,
        "attempts per alert and channel before it is marked failed"
    ),
    int!(
        "email_scan_interval_seconds",
        "EMAIL_SCAN_INTERVAL_SECONDS",
        "3600",
        60,
        DAY,
        "how often `serve` scans the `email[]` mailboxes (`check` scans on every run)"
    ),
    int!(
        "delivery_timeout_seconds",
        "DELIVERY_TIMEOUT_SECONDS",
        "30",
        0,
        3600,
        "how long `check` waits for deliveries before exiting"
    ),
];

/// A parsed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Int(u64),
    Float(f64),
    Bool(bool),
    Path(PathBuf),
    Zone(TimeZone),
    Language(super::delivery::Language),
    Digest(super::delivery::Digest),
}

impl SettingSpec {
    /// What a valid value looks like, for error messages.
    pub fn expected(&self) -> String {
        match self.kind {
            Kind::Int { min, max } => format!("a whole number from {min} to {max}"),
            Kind::Float { min, max } => format!("a number from {min} to {max}"),
            Kind::Bool => "true or false".into(),
            Kind::Path => "a file path".into(),
            Kind::Zone => {
                "an IANA time zone such as Asia/Shanghai, Europe/Berlin or UTC (or local)".into()
            }
            Kind::Language => "zh or en".into(),
            Kind::Digest => "off, or daily HH:MM".into(),
        }
    }

    /// Parses the setting's value from config text (env values and JSON scalars alike).
    pub fn parse(&self, text: &str) -> Option<Parsed> {
        let t = text.trim();
        match self.kind {
            Kind::Int { min, max } => {
                let n: f64 = t.parse().ok()?;
                (n.fract() == 0.0 && n >= min as f64 && n <= max as f64)
                    .then_some(Parsed::Int(n as u64))
            }
            Kind::Float { min, max } => {
                let n: f64 = t.parse().ok()?;
                (n.is_finite() && n >= min && n <= max).then_some(Parsed::Float(n))
            }
            Kind::Bool => match t.to_ascii_lowercase().as_str() {
                "true" | "1" => Some(Parsed::Bool(true)),
                "false" | "0" => Some(Parsed::Bool(false)),
                _ => None,
            },
            Kind::Path => (!t.is_empty()).then(|| Parsed::Path(PathBuf::from(t))),
            Kind::Zone => TimeZone::parse(t).map(Parsed::Zone),
            Kind::Language => super::delivery::Language::parse(t).map(Parsed::Language),
            Kind::Digest => super::delivery::Digest::parse(t).map(Parsed::Digest),
        }
    }
}

/// Stores a parsed value in its field. Every name in [`SETTINGS`] has an arm (a test holds it).
pub fn apply(s: &mut Settings, name: &str, v: Parsed) {
    use Parsed::*;
    match (name, v) {
        ("balance_refresh_interval_seconds", Int(n)) => s.balance_refresh_interval_seconds = n,
        ("min_refresh_interval_seconds", Int(n)) => s.min_refresh_interval_seconds = n,
        ("enable_smart_refresh", Bool(b)) => s.enable_smart_refresh = b,
        ("max_concurrent_checks", Int(n)) => s.max_concurrent_checks = n as usize,
        ("response_cache_ttl", Int(n)) => s.response_cache_ttl = n,
        ("request_timeout_seconds", Float(f)) => s.request_timeout_seconds = f,
        ("max_retries", Int(n)) => s.max_retries = n as u32,
        ("retry_base_delay_ms", Int(n)) => s.retry_base_delay_ms = n,
        ("max_retry_after_seconds", Int(n)) => s.max_retry_after_seconds = n,
        ("circuit_breaker_failures", Int(n)) => s.circuit_breaker_failures = n as u32,
        ("circuit_breaker_reset_seconds", Int(n)) => s.circuit_breaker_reset_seconds = n,
        ("alert_cooldown_seconds", Int(n)) => s.alert_cooldown_seconds = n as i64,
        ("failure_alert_threshold", Int(n)) => s.failure_alert_threshold = n as u32,
        ("database_path", Path(p)) => s.database_path = p,
        ("history_retention_days", Int(n)) => s.history_retention_days = n as u32,
        ("history_resolution_minutes", Int(n)) => s.history_resolution_minutes = n as u32,
        ("refresh_cooldown_seconds", Int(n)) => s.refresh_cooldown_seconds = n,
        ("timezone", Zone(z)) => s.timezone = z,
        ("language", Language(l)) => s.language = l,
        ("digest", Digest(d)) => s.digest = d,
        ("recovery_margin_percent", Float(f)) => s.recovery_margin_percent = f,
        ("forecast_alert_days", Int(n)) => s.forecast_alert_days = n as u32,
        ("storm_threshold", Int(n)) => s.storm_threshold = n as u32,
        ("delivery_max_attempts", Int(n)) => s.delivery_max_attempts = n as u32,
        ("delivery_timeout_seconds", Int(n)) => s.delivery_timeout_seconds = n,
        ("email_scan_interval_seconds", Int(n)) => s.email_scan_interval_seconds = n,
        (name, v) => unreachable!("setting {name} has no field for {v:?}"),
    }
}

/// The table as Markdown (`balance-alert config settings`, the README).
pub fn markdown() -> String {
    let mut out =
        String::from("| setting | env | default | values | what |\n|---|---|---|---|---|\n");
    for s in SETTINGS {
        out.push_str(&format!(
            "| `{}` | `{}` | `{}` | {} | {} |\n",
            s.name,
            s.env,
            s.default,
            s.expected(),
            s.doc
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_parses_and_is_what_settings_default_holds() {
        let mut from_table = Settings::default();
        for spec in SETTINGS {
            let v = spec
                .parse(spec.default)
                .unwrap_or_else(|| panic!("default of {} parses", spec.name));
            apply(&mut from_table, spec.name, v);
            let expected = match spec.name {
                "language" => "ALERT_LANGUAGE".to_owned(),
                other => other.to_uppercase(),
            };
            assert_eq!(spec.env, expected, "env name of {}", spec.name);
        }
        assert_eq!(from_table, Settings::default());
    }

    #[test]
    fn bounds_are_enforced() {
        let find = |n: &str| SETTINGS.iter().find(|s| s.name == n).expect("known");
        assert_eq!(find("max_concurrent_checks").parse("1001"), None);
        assert_eq!(find("max_concurrent_checks").parse("2.5"), None);
        assert_eq!(
            find("request_timeout_seconds").parse("0.5"),
            Some(Parsed::Float(0.5))
        );
        assert_eq!(
            find("enable_smart_refresh").parse("FALSE"),
            Some(Parsed::Bool(false))
        );
        assert_eq!(find("timezone").parse("Mars/Base"), None);
    }
}
