//! Every setting, declared once: its field in [`Settings`], its name in `settings`, its
//! environment variable, default, bounds and meaning. The [`settings!`] macro makes the struct,
//! `Settings::default()`, the [`SETTINGS`] table (validation, the environment overrides and
//! `balance-alert config settings`, i.e. the README's table) and [`apply`] from that one list, so
//! they cannot drift.

use std::path::PathBuf;

use super::delivery;
use super::TimeZone;

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

/// A whole number from `min` to `max`.
const fn int(min: u64, max: u64) -> Kind {
    Kind::Int { min, max }
}

/// A number from `min` to `max`.
const fn float(min: f64, max: f64) -> Kind {
    Kind::Float { min, max }
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

/// Declares every setting once. Each entry is the field (its `///` doc and Rust type), then
/// `env` (the variable that overrides it), `default` (as written in config.json; the field's
/// default is parsed from it), `values` (a [`Kind`]) and `what` (the README's description).
/// It generates [`Settings`] with its `Default`, [`SETTINGS`] in declaration order and [`apply`].
macro_rules! settings {
    ($(
        $(#[doc = $field_doc:literal])*
        $name:ident: $ty:ty {
            env: $env:literal,
            default: $default:literal,
            values: $kind:expr,
            what: $what:literal $(,)?
        }
    )*) => {
        /// Global settings (`settings` in config.json).
        #[derive(Debug, Clone, PartialEq)]
        pub struct Settings {
            $(
                $(#[doc = $field_doc])*
                pub $name: $ty,
            )*
        }

        impl Default for Settings {
            fn default() -> Self {
                Settings {
                    $($name: initial(stringify!($name), $kind, $default),)*
                }
            }
        }

        /// Every setting. Upper bounds keep time arithmetic far from overflow and catch unit
        /// mistakes (milliseconds given for seconds).
        pub const SETTINGS: &[SettingSpec] = &[
            $(SettingSpec {
                name: stringify!($name),
                env: $env,
                default: $default,
                kind: $kind,
                doc: $what,
            },)*
        ];

        /// Stores a parsed value in its field (the value must be of the setting's kind, as
        /// [`SettingSpec::parse`] gives it).
        pub fn apply(s: &mut Settings, name: &str, v: Parsed) {
            match name {
                $(stringify!($name) => {
                    s.$name = FromParsed::from_parsed(&v)
                        .unwrap_or_else(|| unreachable!("setting {name} has no field for {v:?}"))
                })*
                _ => unreachable!("setting {name} has no field for {v:?}"),
            }
        }
    };
}

settings! {
    /// Base interval between checks of a project, in seconds (default 3600).
    balance_refresh_interval_seconds: u64 {
        env: "BALANCE_REFRESH_INTERVAL_SECONDS",
        default: "3600",
        values: int(1, YEAR),
        what: "base interval between two checks of a project",
    }
    /// Shortest interval the adaptive scheduler may use, in seconds (default 60).
    min_refresh_interval_seconds: u64 {
        env: "MIN_REFRESH_INTERVAL_SECONDS",
        default: "60",
        values: int(1, YEAR),
        what: "shortest interval the adaptive schedule may use",
    }
    /// Let the scheduler shorten/lengthen intervals from the balance trend (default true).
    enable_smart_refresh: bool {
        env: "ENABLE_SMART_REFRESH",
        default: "true",
        values: Kind::Bool,
        what: "check more often near the threshold or when the balance falls fast, less when flat",
    }
    /// Checks running at once (default 100, at most 1000).
    max_concurrent_checks: usize {
        env: "MAX_CONCURRENT_CHECKS",
        default: "100",
        values: int(1, 1000),
        what: "provider calls in flight at once",
    }
    /// Seconds a successful provider response is reused (default 300; 0 disables).
    response_cache_ttl: u64 {
        env: "RESPONSE_CACHE_TTL",
        default: "300",
        values: int(0, YEAR),
        what: "seconds a successful response is reused (0 = off)",
    }
    /// Per-request timeout in seconds (default 10).
    request_timeout_seconds: f64 {
        env: "REQUEST_TIMEOUT_SECONDS",
        default: "10",
        values: float(0.001, 600.0),
        what: "per-request timeout",
    }
    /// Retries after the first attempt on timeout/429/5xx (default 3).
    max_retries: u32 {
        env: "MAX_RETRIES",
        default: "3",
        values: int(0, 10),
        what: "retries after the first attempt on timeouts, 429 and 5xx",
    }
    /// First retry delay in milliseconds; doubles each retry, with jitter (default 500).
    retry_base_delay_ms: u64 {
        env: "RETRY_BASE_DELAY_MS",
        default: "500",
        values: int(1, 60_000),
        what: "first retry delay; doubles each retry, with jitter",
    }
    /// Longest Retry-After we are willing to wait, in seconds (default 30); longer gives up.
    max_retry_after_seconds: u64 {
        env: "MAX_RETRY_AFTER_SECONDS",
        default: "30",
        values: int(0, 3600),
        what: "longest Retry-After honoured; a longer one gives up",
    }
    /// Consecutive transient failures that open a provider's circuit breaker (default 5).
    circuit_breaker_failures: u32 {
        env: "CIRCUIT_BREAKER_FAILURES",
        default: "5",
        values: int(1, 1000),
        what: "consecutive transient failures of one key that open its breaker",
    }
    /// Seconds an open breaker waits before letting one trial request through (default 30).
    circuit_breaker_reset_seconds: u64 {
        env: "CIRCUIT_BREAKER_RESET_SECONDS",
        default: "30",
        values: int(1, DAY),
        what: "how long an open breaker waits before one trial",
    }
    /// Seconds before a still-low project is reminded again (default 86400).
    alert_cooldown_seconds: i64 {
        env: "ALERT_COOLDOWN_SECONDS",
        default: "86400",
        values: int(0, YEAR),
        what: "seconds before a still-low project is reminded again",
    }
    /// Consecutive failed checks before a project is FAILING (default 3).
    failure_alert_threshold: u32 {
        env: "FAILURE_ALERT_THRESHOLD",
        default: "3",
        values: int(1, 1000),
        what: "consecutive failed checks before FAILING",
    }
    /// SQLite file of the embedded store (default `data/balance_alert.db`; env `DATABASE_PATH`).
    database_path: PathBuf {
        env: "DATABASE_PATH",
        default: "data/balance_alert.db",
        values: Kind::Path,
        what: "SQLite file of the embedded store (local mode)",
    }
    /// Days of balance and alert history kept (default 90).
    history_retention_days: u32 {
        env: "HISTORY_RETENTION_DAYS",
        default: "90",
        values: int(1, 36_500),
        what: "days of balance and alert history kept (DynamoDB: item TTL)",
    }
    /// Minutes between two history rows of an unchanged balance (default 60; 0: a row per
    /// check). A changed balance is always stored; the state keeps the latest reading's time.
    history_resolution_minutes: u32 {
        env: "HISTORY_RESOLUTION_MINUTES",
        default: "60",
        values: int(0, 10_080),
        what: "an unchanged balance is stored as a history row at most once per this many minutes (0 = every check)",
    }
    /// Seconds between manual refreshes through the API (default 30).
    refresh_cooldown_seconds: u64 {
        env: "REFRESH_COOLDOWN_SECONDS",
        default: "30",
        values: int(0, DAY),
        what: "seconds between manual refreshes through the API, across processes",
    }
    /// IANA zone for calendar dates: renewals, reminders, "today" (default: the process's local
    /// zone, i.e. `TZ` or the system's; env `TIMEZONE`).
    timezone: TimeZone {
        env: "TIMEZONE",
        default: "local",
        values: Kind::Zone,
        what: "IANA zone for calendar dates (renewals, reminders, today)",
    }
    /// Language of messages: `zh` (default, as the Python tool) or `en`.
    language: delivery::Language {
        // Not LANGUAGE: glibc's locale variable of that name is set on many systems.
        env: "ALERT_LANGUAGE",
        default: "zh",
        values: Kind::Language,
        what: "language of alert messages",
    }
    /// Daily summary per channel, or off (default).
    digest: delivery::Digest {
        env: "DIGEST",
        default: "off",
        values: Kind::Digest,
        what: "one summary per channel every day at this time (`settings.timezone`)",
    }
    /// Recovery needs the balance this many percent above the threshold (default 5).
    recovery_margin_percent: f64 {
        env: "RECOVERY_MARGIN_PERCENT",
        default: "5",
        values: float(0.0, 1000.0),
        what: "recovery needs the balance this many percent above the threshold (no flapping)",
    }
    /// Alert when the trend says the balance runs out within this many days (default 3; 0 off).
    forecast_alert_days: u32 {
        env: "FORECAST_ALERT_DAYS",
        default: "3",
        values: int(0, 365),
        what: "alert when the trend runs out within this many days (0 = off)",
    }
    /// More than this many messages for one channel within a minute fold into one summary
    /// (default 5).
    storm_threshold: u32 {
        env: "STORM_THRESHOLD",
        default: "5",
        values: int(1, 10_000),
        what: "more messages than this for one channel in a minute (counted across processes in the store) fold into one summary",
    }
    /// Attempts per (alert, channel) before it is marked failed (default 10: backoff from 5 s
    /// doubling to 10 min keeps trying for about half an hour).
    delivery_max_attempts: u32 {
        env: "DELIVERY_MAX_ATTEMPTS",
        default: "10",
        values: int(1, 100),
        what: "attempts per alert and channel before it is marked failed",
    }
    /// Seconds between two scans of the `email[]` mailboxes by `serve` (default 3600).
    email_scan_interval_seconds: u64 {
        env: "EMAIL_SCAN_INTERVAL_SECONDS",
        default: "3600",
        values: int(60, DAY),
        what: "how often `serve` scans the `email[]` mailboxes (`check` scans on every run)",
    }
    /// Seconds `check` waits for deliveries before exiting (default 30).
    delivery_timeout_seconds: u64 {
        env: "DELIVERY_TIMEOUT_SECONDS",
        default: "30",
        values: int(0, 3600),
        what: "how long `check` waits for deliveries before exiting",
    }

}

/// A setting's default as its field's type: `default` parsed as `kind`.
fn initial<T: FromParsed>(name: &str, kind: Kind, default: &str) -> T {
    kind.parse(default)
        .as_ref()
        .and_then(T::from_parsed)
        .unwrap_or_else(|| panic!("the default {default:?} of setting {name} is a valid value"))
}

/// A parsed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Int(u64),
    Float(f64),
    Bool(bool),
    Path(PathBuf),
    Zone(TimeZone),
    Language(delivery::Language),
    Digest(delivery::Digest),
}

/// A field type a [`Parsed`] value can be stored in (None: the value is of another kind).
trait FromParsed: Sized {
    fn from_parsed(v: &Parsed) -> Option<Self>;
}

/// Whole-number fields; the bounds of [`Kind::Int`] keep every value in range.
macro_rules! from_int {
    ($($ty:ty),*) => {$(
        impl FromParsed for $ty {
            fn from_parsed(v: &Parsed) -> Option<Self> {
                match v {
                    Parsed::Int(n) => <$ty>::try_from(*n).ok(),
                    _ => None,
                }
            }
        }
    )*};
}
from_int!(u64, u32, usize, i64);

/// Fields whose type is one [`Parsed`] variant's payload.
macro_rules! from_variant {
    ($($ty:ty => $variant:ident),*) => {$(
        impl FromParsed for $ty {
            fn from_parsed(v: &Parsed) -> Option<Self> {
                match v {
                    Parsed::$variant(x) => Some(x.clone()),
                    _ => None,
                }
            }
        }
    )*};
}
from_variant!(
    f64 => Float,
    bool => Bool,
    PathBuf => Path,
    TimeZone => Zone,
    delivery::Language => Language,
    delivery::Digest => Digest
);

impl Kind {
    /// Parses a value of this kind from config text (env values and JSON scalars alike).
    fn parse(self, text: &str) -> Option<Parsed> {
        let t = text.trim();
        match self {
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
            Kind::Language => delivery::Language::parse(t).map(Parsed::Language),
            Kind::Digest => delivery::Digest::parse(t).map(Parsed::Digest),
        }
    }
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
        self.kind.parse(text)
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
    fn defaults_parse_into_the_field_types() {
        let d = Settings::default();
        assert_eq!(d.max_concurrent_checks, 100usize);
        assert_eq!(d.request_timeout_seconds, 10.0);
        assert_eq!(d.alert_cooldown_seconds, 86_400i64);
        assert_eq!(d.database_path, PathBuf::from("data/balance_alert.db"));
        assert_eq!(d.timezone, TimeZone::Local);
        assert_eq!(d.language, delivery::Language::Zh);
        assert_eq!(d.digest, delivery::Digest::Off);
        assert_eq!(d.recovery_margin_percent, 5.0);
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
