//! Which channels an alert goes to (`routes[]`) and when quiet hours hold it back.

use balance_alert_core::config::delivery::{QuietHours, Route, RouteMatch};
use balance_alert_core::config::TimeZone;
use balance_alert_model::AlertRecord;
use chrono::{DateTime, NaiveDateTime, Utc};

use crate::message::Severity;

/// A channel an alert is routed to, with the quiet hours of the route that chose it.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub channel: String,
    pub quiet_hours: Option<QuietHours>,
}

fn matches_any(wanted: &Option<Vec<String>>, values: &[&str]) -> bool {
    let Some(wanted) = wanted else { return true };
    wanted.iter().any(|w| {
        w == "*"
            || values
                .iter()
                .any(|v| !v.is_empty() && v.eq_ignore_ascii_case(w.trim()))
    })
}

/// Whether a route's match accepts an alert. Projects match by name or `provider:name`.
pub fn accepts(m: &RouteMatch, alert: &AlertRecord) -> bool {
    let qualified = format!("{}:{}", alert.provider, alert.project_name);
    let owner = alert.details.owner_project.as_deref().unwrap_or("");
    matches_any(&m.owner_project, &[owner])
        && matches_any(&m.project, &[&alert.project_name, &qualified])
        && matches_any(&m.provider, &[&alert.provider])
        && matches_any(&m.severity, &[Severity::of(alert).as_str()])
        && matches_any(&m.kind, &[alert.kind.as_str()])
}

/// Matching routes named only channels that are disabled or not configured: the alert goes to
/// every enabled channel instead (validation refuses such routes; this is the run-time net).
#[derive(Debug, Clone, PartialEq)]
pub struct Fallback {
    /// Indices in `routes[]` of the routes that matched.
    pub routes: Vec<usize>,
    /// The channels those routes named.
    pub named: Vec<String>,
}

/// Where an alert goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Routing {
    pub targets: Vec<Target>,
    /// Set when matching routes left no enabled channel and every enabled channel was chosen.
    pub fallback: Option<Fallback>,
}

/// The channels an alert goes to: the first matching route's (and later ones' while a
/// matched route says `continue`). With no routes, or when none matches, every channel —
/// an alert is never silently dropped by routing.
pub fn targets(alert: &AlertRecord, routes: &[Route], channels: &[String]) -> Vec<Target> {
    route(alert, routes, channels).targets
}

/// [`targets`], saying whether matching routes named no enabled channel (`channels` are the
/// enabled ones). Such an alert goes to every enabled channel rather than nowhere.
pub fn route(alert: &AlertRecord, routes: &[Route], channels: &[String]) -> Routing {
    let mut out: Vec<Target> = Vec::new();
    let mut matched: Vec<usize> = Vec::new();
    let mut named: Vec<String> = Vec::new();
    for (i, route) in routes.iter().enumerate() {
        if !accepts(&route.matcher, alert) {
            continue;
        }
        matched.push(i);
        for name in &route.channels {
            if !named.contains(name) {
                named.push(name.clone());
            }
            if channels.contains(name) && !out.iter().any(|t| &t.channel == name) {
                out.push(Target {
                    channel: name.clone(),
                    quiet_hours: route.quiet_hours,
                });
            }
        }
        if !route.continue_matching {
            break;
        }
    }
    let mut fallback = None;
    if out.is_empty() {
        if !matched.is_empty() {
            fallback = Some(Fallback {
                routes: matched,
                named,
            });
        }
        out = channels
            .iter()
            .map(|c| Target {
                channel: c.clone(),
                quiet_hours: None,
            })
            .collect();
    }
    Routing {
        targets: out,
        fallback,
    }
}

/// When the quiet window around `now` ends (unix seconds), or None outside quiet hours.
/// Windows may cross midnight (22:00–08:00); equal start and end mean no window.
pub fn quiet_until(q: &QuietHours, default_tz: &TimeZone, now: i64) -> Option<i64> {
    let tz = q.timezone.unwrap_or(*default_tz);
    let now_utc = DateTime::<Utc>::from_timestamp(now, 0)?;
    let local: NaiveDateTime = tz.local_at(now_utc);
    let t = local.time();
    let inside = if q.start < q.end {
        t >= q.start && t < q.end
    } else if q.start > q.end {
        t >= q.start || t < q.end
    } else {
        false
    };
    if !inside {
        return None;
    }
    let mut end = local.date().and_time(q.end);
    if end <= local {
        end += chrono::Duration::days(1);
    }
    Some(tz.to_utc(end).timestamp())
}

#[cfg(test)]
mod tests {
    use super::route as route_alert;
    use super::*;
    use balance_alert_model::{AlertDetails, AlertKind, AlertState, AlertStatus, Decimal};
    use chrono::NaiveTime;

    fn alert(kind: AlertKind, state: AlertState, owner: &str) -> AlertRecord {
        AlertRecord {
            id: "a".into(),
            project_id: "p".into(),
            project_name: "Main".into(),
            provider: "openrouter".into(),
            kind,
            state,
            balance: Some(Decimal::ONE),
            threshold: Decimal::TEN,
            currency: "USD".into(),
            message: String::new(),
            status: AlertStatus::Pending,
            created_at: 0,
            details: AlertDetails {
                owner_project: Some(owner.into()),
                ..AlertDetails::default()
            },
            deliveries: Vec::new(),
        }
    }

    fn route(m: RouteMatch, channels: &[&str], cont: bool) -> Route {
        Route {
            matcher: m,
            channels: channels.iter().map(|c| c.to_string()).collect(),
            continue_matching: cont,
            quiet_hours: None,
        }
    }

    fn names(t: Vec<Target>) -> Vec<String> {
        t.into_iter().map(|t| t.channel).collect()
    }

    #[test]
    fn first_match_wins_unless_continue_and_no_match_means_every_channel() {
        let all: Vec<String> = ["pager", "team-a", "everyone"].map(String::from).to_vec();
        let routes = vec![
            route(
                RouteMatch {
                    severity: Some(vec!["critical".into()]),
                    ..RouteMatch::default()
                },
                &["pager"],
                true,
            ),
            route(
                RouteMatch {
                    owner_project: Some(vec!["Team A".into()]),
                    ..RouteMatch::default()
                },
                &["team-a"],
                false,
            ),
            route(RouteMatch::default(), &["everyone"], false),
        ];
        let critical = alert(AlertKind::Critical, AlertState::Critical, "team a");
        assert_eq!(
            names(targets(&critical, &routes, &all)),
            ["pager", "team-a"]
        );
        let low_b = alert(AlertKind::Low, AlertState::Low, "Team B");
        assert_eq!(names(targets(&low_b, &routes, &all)), ["everyone"]);
        let only_critical = vec![routes[0].clone()];
        assert_eq!(names(targets(&low_b, &only_critical, &all)), all);
        assert_eq!(names(targets(&low_b, &[], &all)), all);
    }

    #[test]
    fn routes_that_name_no_enabled_channel_fall_back_to_every_enabled_channel() {
        let enabled: Vec<String> = ["all", "team"].map(String::from).to_vec();
        let routes = vec![route(
            RouteMatch {
                severity: Some(vec!["critical".into()]),
                ..RouteMatch::default()
            },
            &["ops-disabled", "gone"],
            false,
        )];
        let critical = alert(AlertKind::Critical, AlertState::Critical, "x");
        let r = route_alert(&critical, &routes, &enabled);
        assert_eq!(names(r.targets), enabled);
        assert_eq!(
            r.fallback,
            Some(Fallback {
                routes: vec![0],
                named: vec!["ops-disabled".into(), "gone".into()],
            })
        );
        // No route matched: every channel too, but that is the rule, not a fallback.
        let low = alert(AlertKind::Low, AlertState::Low, "x");
        assert_eq!(route_alert(&low, &routes, &enabled).fallback, None);
    }

    #[test]
    fn routes_match_project_provider_and_kind() {
        let m = RouteMatch {
            project: Some(vec!["openrouter:Main".into()]),
            kind: Some(vec!["low".into(), "reminder".into()]),
            provider: Some(vec!["OpenRouter".into()]),
            ..RouteMatch::default()
        };
        assert!(accepts(&m, &alert(AlertKind::Low, AlertState::Low, "x")));
        assert!(!accepts(
            &m,
            &alert(AlertKind::Recovered, AlertState::Ok, "x")
        ));
    }

    #[test]
    fn quiet_windows_cross_midnight_in_their_zone() {
        let q = QuietHours {
            start: NaiveTime::from_hms_opt(22, 0, 0).expect("time"),
            end: NaiveTime::from_hms_opt(8, 0, 0).expect("time"),
            timezone: TimeZone::parse("Asia/Shanghai"),
        };
        let utc = TimeZone::parse("UTC").expect("utc");
        // 2026-11-26 15:00 UTC = 23:00 in Shanghai: quiet until 08:00 Shanghai = 00:00 UTC.
        let at = |s: &str| DateTime::parse_from_rfc3339(s).expect("date").timestamp();
        assert_eq!(
            quiet_until(&q, &utc, at("2026-11-26T15:00:00Z")),
            Some(at("2026-11-27T00:00:00Z"))
        );
        // 03:00 Shanghai (19:00 UTC the day before): same end.
        assert_eq!(
            quiet_until(&q, &utc, at("2026-11-26T19:00:00Z")),
            Some(at("2026-11-27T00:00:00Z"))
        );
        // 12:00 Shanghai: not quiet.
        assert_eq!(quiet_until(&q, &utc, at("2026-11-27T04:00:00Z")), None);
    }
}
