//! Which alerts go where: `routes[]` (which alerts go to which channels), the quiet hours a route
//! or a channel may carry and `settings.digest`. The receivers themselves (`channels[]`, and the
//! Python tool's single `webhook` as a channel named `webhook`) are in [`super::channels`].

use chrono::NaiveTime;
use serde_json::{Map, Value};

use super::fields::{describe, Fields};
use super::{Problem, TimeZone};

/// A daily window in which non-critical messages wait (and go out as one summary at its end).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
    /// The zone of `start`/`end`; default `settings.timezone`.
    pub timezone: Option<TimeZone>,
}

/// Which alerts a route matches: every given field must match (case-insensitive); `*` or a
/// missing field matches anything.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RouteMatch {
    pub owner_project: Option<Vec<String>>,
    pub project: Option<Vec<String>>,
    pub provider: Option<Vec<String>>,
    /// `critical`, `warning`, `info` (recovered) — see the notifier's severity.
    pub severity: Option<Vec<String>>,
    /// Alert kinds: `low`, `critical`, `failing`, `recovered`, `reminder`, `renewal`,
    /// `forecast`, `email`.
    pub kind: Option<Vec<String>>,
}

/// A route's match as `field=value|value, …` (`every alert` when it has none), for messages
/// that name a route.
pub fn describe_match(m: &RouteMatch) -> String {
    let fields = [
        ("owner_project", &m.owner_project),
        ("project", &m.project),
        ("provider", &m.provider),
        ("severity", &m.severity),
        ("kind", &m.kind),
    ];
    let parts: Vec<String> = fields
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", v.join("|"))))
        .collect();
    if parts.is_empty() {
        "every alert".to_owned()
    } else {
        parts.join(", ")
    }
}

/// One entry of `routes[]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub matcher: RouteMatch,
    /// Channel names.
    pub channels: Vec<String>,
    /// Keep looking at later routes after this one matched.
    pub continue_matching: bool,
    /// Quiet hours for the alerts this route sends (in addition to the channel's own).
    pub quiet_hours: Option<QuietHours>,
}

/// The language of messages (the model's, so the dashboard and the stored texts share it).
pub use balance_alert_model::text::Language;

/// `settings.digest`: a daily summary at a time of day, or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Digest {
    #[default]
    Off,
    /// Daily at this local time (`settings.timezone`).
    Daily(NaiveTime),
}

impl Digest {
    /// Parses `off`, `daily` (09:00), `daily HH:MM`, `daily@HH:MM` or a bare `HH:MM`.
    pub fn parse(text: &str) -> Option<Digest> {
        let t = text.trim().to_ascii_lowercase();
        if t.is_empty() || t == "off" || t == "false" || t == "none" {
            return Some(Digest::Off);
        }
        let time = t
            .strip_prefix("daily")
            .map(|r| r.trim_start_matches(['@', ' ', ':']).trim())
            .unwrap_or(&t);
        if time.is_empty() {
            return NaiveTime::from_hms_opt(9, 0, 0).map(Digest::Daily);
        }
        parse_time(time).map(Digest::Daily)
    }
}

fn parse_time(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(s.trim(), "%H:%M:%S"))
        .ok()
}

pub(super) fn strings(f: &mut Fields<'_>, key: &str) -> Option<Vec<String>> {
    let v = f.present(key)?;
    let list: Vec<String> = match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        other => {
            f.problem(
                key,
                format!(
                    "must be a string or a list of strings, got {}",
                    describe(other)
                ),
            );
            return None;
        }
    };
    Some(list)
}

pub(super) fn quiet_hours(f: &mut Fields<'_>) -> Option<QuietHours> {
    let v = f.present("quiet_hours")?;
    let Value::Object(obj) = v else {
        f.problem(
            "quiet_hours",
            format!(
                "must be an object like {{\"start\": \"22:00\", \"end\": \"08:00\"}}, got {}",
                describe(v)
            ),
        );
        return None;
    };
    let path = format!("{}.quiet_hours", f.path);
    let mut q = Fields {
        obj,
        path,
        problems: f.problems,
    };
    let time = |q: &mut Fields<'_>, key: &str| {
        let s = q.string(key);
        match s.as_deref().map(parse_time) {
            Some(Some(t)) => Some(t),
            Some(None) => {
                q.problem(
                    key,
                    format!("must be a time like 22:00, got {:?}", s.unwrap_or_default()),
                );
                None
            }
            None => {
                q.problem(key, "is required: a time like 22:00".into());
                None
            }
        }
    };
    let start = time(&mut q, "start");
    let end = time(&mut q, "end");
    let timezone = match q.string("timezone") {
        None => None,
        Some(z) => match TimeZone::parse(&z) {
            Some(z) => Some(z),
            None => {
                q.problem(
                    "timezone",
                    format!("unknown time zone {z:?}; use an IANA name such as Asia/Shanghai"),
                );
                None
            }
        },
    };
    Some(QuietHours {
        start: start?,
        end: end?,
        timezone,
    })
}

/// Parses one `routes[]` entry; channel names are checked by the caller.
pub(super) fn route(
    path: String,
    obj: &Map<String, Value>,
    problems: &mut Vec<Problem>,
) -> Option<Route> {
    let mut f = Fields {
        obj,
        path,
        problems,
    };
    let before = f.problems.len();
    let source: &Map<String, Value> = match f.present("match") {
        Some(Value::Object(m)) => m,
        Some(other) => {
            f.problem(
                "match",
                format!("must be an object, got {}", describe(other)),
            );
            obj
        }
        None => obj,
    };
    let mut m = Fields {
        obj: source,
        path: if std::ptr::eq(source, obj) {
            f.path.clone()
        } else {
            format!("{}.match", f.path)
        },
        problems: f.problems,
    };
    let matcher = RouteMatch {
        owner_project: strings(&mut m, "owner_project"),
        project: strings(&mut m, "project"),
        provider: strings(&mut m, "provider"),
        severity: strings(&mut m, "severity"),
        kind: strings(&mut m, "kind"),
    };
    if let Some(sev) = &matcher.severity {
        for s in sev {
            if !matches!(
                s.to_ascii_lowercase().as_str(),
                "critical" | "warning" | "info" | "*"
            ) {
                m.problem(
                    "severity",
                    format!("{s:?} is not a severity; use critical, warning or info"),
                );
            }
        }
    }
    if let Some(kinds) = &matcher.kind {
        for k in kinds {
            if k != "*" && balance_alert_model::AlertKind::parse(&k.to_ascii_lowercase()).is_none()
            {
                m.problem(
                    "kind",
                    format!(
                        "{k:?} is not an alert kind; use low, critical, failing, recovered, reminder, renewal, forecast or email"
                    ),
                );
            }
        }
    }
    let channels = strings(&mut f, "channels").unwrap_or_default();
    if channels.is_empty() {
        f.problem(
            "channels",
            "is required: the names of the channels this route sends to".into(),
        );
    }
    let route = Route {
        matcher,
        channels,
        continue_matching: f.boolean("continue").unwrap_or(false),
        quiet_hours: quiet_hours(&mut f),
    };
    (f.problems.len() == before).then_some(route)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_forms() {
        let t = |h, m| Some(Digest::Daily(NaiveTime::from_hms_opt(h, m, 0).unwrap()));
        assert_eq!(Digest::parse("off"), Some(Digest::Off));
        assert_eq!(Digest::parse("daily"), t(9, 0));
        assert_eq!(Digest::parse("daily 18:30"), t(18, 30));
        assert_eq!(Digest::parse("daily@07:05"), t(7, 5));
        assert_eq!(Digest::parse("08:00"), t(8, 0));
        assert_eq!(Digest::parse("weekly"), None);
    }
}
