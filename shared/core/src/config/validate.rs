//! Turns the (expanded) JSON document into typed config, collecting every problem with its path.
//!
//! Hand-written rather than serde-derived: serde stops at the first error, and users fixing a
//! config file want the whole list at once, each with the fix. Each kind of entry is read in
//! [`super::entries`], each field through [`super::fields::Fields`].

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::channels::{self, ChannelConfig};
use super::delivery;
use super::entries::{email, project, settings, silent_subscription, subscription, webhook};
use super::fields::describe;
use super::{Config, Problem};
use crate::providers;

fn objects<'a>(
    root: &'a Map<String, Value>,
    key: &str,
    problems: &mut Vec<Problem>,
) -> Vec<(String, &'a Map<String, Value>)> {
    match root.get(key) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let path = format!("{key}[{i}]");
                match item {
                    Value::Object(obj) => Some((path, obj)),
                    other => {
                        problems.push(Problem {
                            path,
                            message: format!("must be an object, got {}", describe(other)),
                        });
                        None
                    }
                }
            })
            .collect(),
        Some(other) => {
            problems.push(Problem {
                path: key.to_owned(),
                message: format!("must be a list, got {}", describe(other)),
            });
            Vec::new()
        }
    }
}
/// Validates an expanded config document. Returns every problem found, or the typed config;
/// non-fatal findings (unknown providers) go to `warnings`.
pub fn validate(doc: &Value, warnings: &mut Vec<Problem>) -> Result<Config, Vec<Problem>> {
    let mut problems = Vec::new();
    let Some(root) = doc.as_object() else {
        return Err(vec![Problem {
            path: "(root)".into(),
            message: format!(
                "must be a JSON object with a \"projects\" list, got {}",
                describe(doc)
            ),
        }]);
    };
    let settings_obj = match root.get("settings") {
        None | Some(Value::Null) => None,
        Some(Value::Object(o)) => Some(o),
        Some(other) => {
            problems.push(Problem {
                path: "settings".into(),
                message: format!("must be an object, got {}", describe(other)),
            });
            None
        }
    };
    let settings = settings(settings_obj, &mut problems);
    let webhook = match root.get("webhook") {
        Some(Value::Object(o)) => webhook(o, &mut problems),
        _ => None,
    };

    let mut projects = Vec::new();
    let mut seen = HashMap::new();
    for (path, obj) in objects(root, "projects", &mut problems) {
        let p = project(path.clone(), obj, &mut problems);
        if !p.name.is_empty() {
            if let Some(first) =
                seen.insert((p.provider.clone(), name_key(&p.name)), p.name.clone())
            {
                problems.push(Problem {
                    path: format!("{path}.name"),
                    message: format!(
                        "duplicate project {:?} for provider {:?}{}: names must be unique per provider",
                        p.name,
                        p.provider,
                        reads_as(&first, &p.name)
                    ),
                });
            }
        }
        if p.enabled && !p.provider.is_empty() && providers::lookup(&p.provider).is_none() {
            warnings.push(Problem {
                path: format!("{path}.provider"),
                message: format!(
                    "provider {:?} is not supported yet; its checks will fail. Supported: {}",
                    p.provider,
                    providers::names().join(", ")
                ),
            });
        }
        if p.enabled && p.currency.is_none() && p.provider.eq_ignore_ascii_case("deepseek") {
            warnings.push(Problem {
                path: format!("{path}.currency"),
                message: "not set: a DeepSeek account can hold USD and CNY rows, and without a \
                          currency the project is LOW only when every funded row is below the \
                          threshold; name the currency to watch, e.g. \"currency\": \"CNY\""
                    .into(),
            });
        }
        projects.push(p);
    }
    let mut subscriptions = Vec::new();
    let mut seen_subs = HashMap::new();
    for (path, obj) in objects(root, "subscriptions", &mut problems) {
        if let Some(s) = subscription(path.clone(), obj, &mut problems) {
            warnings.extend(silent_subscription(
                &path,
                &s,
                chrono::Utc::now().date_naive(),
            ));
            if let Some(first) = seen_subs.insert(name_key(&s.name), s.name.clone()) {
                problems.push(Problem {
                    path: format!("{path}.name"),
                    message: format!(
                        "duplicate subscription {:?}{}: names must be unique",
                        s.name,
                        reads_as(&first, &s.name)
                    ),
                });
            }
            subscriptions.push(s);
        }
    }
    let email = objects(root, "email", &mut problems)
        .into_iter()
        .map(|(path, obj)| email(path, obj, &mut problems))
        .collect();
    let mut channels: Vec<ChannelConfig> = Vec::new();
    for (path, obj) in objects(root, "channels", &mut problems) {
        if let Some(c) = channels::channel(path.clone(), obj, &mut problems) {
            if channels
                .iter()
                .any(|o| name_key(&o.name) == name_key(&c.name))
                || (name_key(&c.name) == "webhook" && webhook.is_some())
            {
                problems.push(Problem {
                    path: format!("{path}.name"),
                    message: format!(
                        "duplicate channel {:?}: names must be unique (\"webhook\" is taken by the top-level webhook)",
                        c.name
                    ),
                });
            }
            channels.push(c);
        }
    }
    let mut routes = Vec::new();
    // What a route may name: every enabled channel (the top-level webhook is one).
    let mut enabled: Vec<&str> = channels
        .iter()
        .filter(|c| c.enabled)
        .map(|c| c.name.as_str())
        .collect();
    if webhook.is_some() {
        enabled.push("webhook");
    }
    let instead = if enabled.is_empty() {
        "no channel is enabled: add one to channels[]".to_owned()
    } else {
        format!("enabled channels: {}", enabled.join(", "))
    };
    for (path, obj) in objects(root, "routes", &mut problems) {
        if let Some(r) = delivery::route(path.clone(), obj, &mut problems) {
            let matches = delivery::describe_match(&r.matcher);
            for name in &r.channels {
                let message = match channels.iter().find(|c| &c.name == name) {
                    _ if name == "webhook" && webhook.is_some() => continue,
                    Some(c) if c.enabled => continue,
                    // The alerts would reach no one there: refuse rather than drop them.
                    Some(_) => format!(
                        "channel {name:?} is disabled (\"enabled\": false), so the alerts this route matches ({matches}) would not reach it: set \"enabled\": true on channel {name:?} or name another channel ({instead})"
                    ),
                    None => format!(
                        "no channel named {name:?} for the alerts this route matches ({matches}): add it to channels[] or name another channel ({instead})"
                    ),
                };
                problems.push(Problem {
                    path: format!("{path}.channels"),
                    message,
                });
            }
            routes.push(r);
        }
    }

    if problems.is_empty() {
        Ok(Config {
            settings,
            webhook,
            email,
            email_settings: root.get("email_settings").cloned(),
            channels,
            routes,
            subscriptions,
            projects,
            secrets: Default::default(),
        })
    } else {
        Err(problems)
    }
}

/// The form names are compared in, so look-alikes count as one: Unicode NFKC (composed
/// accents, fullwidth letters), without invisible characters (zero-width spaces and joiners,
/// bidi marks, soft hyphens, controls), trimmed, lower-cased.
pub fn name_key(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let visible: String = name.nfkc().filter(|c| !invisible(*c)).collect();
    visible.trim().to_lowercase()
}

fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}')
}

/// ", which reads the same as \"first\"" when the names differ only in look.
fn reads_as(first: &str, name: &str) -> String {
    if first == name {
        String::new()
    } else {
        format!(" (it reads the same as {first:?}: names are compared without case, surrounding spaces, invisible characters and Unicode look-alike forms)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::fields::STRING_MAX_CHARS;
    use balance_alert_model::Decimal;
    use serde_json::json;
    use std::collections::HashSet;

    fn warnings(doc: Value) -> Vec<String> {
        let mut w = Vec::new();
        validate(&doc, &mut w).expect("document loads");
        w.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn settings_that_silence_a_subscriptions_reminders_are_warned_about_with_the_fix() {
        // Yearly by anniversary without the last renewal: the next date is always a year away.
        let w = warnings(json!({"subscriptions": [
            {"name": "Domain", "cycle_type": "yearly", "renewal_day": 15, "amount": 10}
        ]}));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with("subscriptions[0].last_renewed_date: is missing")
                && w[0].contains("MMDD"),
            "{w:?}"
        );
        // A last renewal in the future marks it renewed for months.
        let w = warnings(json!({"subscriptions": [
            {"name": "Cloud", "cycle_type": "monthly", "renewal_day": 5, "amount": 10,
             "last_renewed_date": "2999-01-01"}
        ]}));
        assert!(
            w.iter().any(|m| m.contains("2999-01-01 is in the future")),
            "{w:?}"
        );
        // Sound settings (and the Python tool's MMDD yearly) load without a word.
        let w = warnings(json!({"subscriptions": [
            {"name": "Copilot", "cycle_type": "yearly", "renewal_day": 1231, "amount": 100},
            {"name": "Domain", "cycle_type": "yearly", "renewal_day": 15, "amount": 10,
             "last_renewed_date": "2026-01-15"}
        ]}));
        assert!(w.is_empty(), "{w:?}");
    }

    fn problems(doc: Value) -> Vec<String> {
        validate(&doc, &mut Vec::new())
            .expect_err("document has problems")
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn every_problem_is_reported_with_its_path_and_fix() {
        let got = problems(json!({
            "settings": {"max_concurrent_checks": 5000},
            "projects": [
                {"name": "a", "provider": "openrouter", "api_key": "k", "threshold": 1},
                {"name": "b", "provider": "deepseek", "api_key": "k", "threshold": 1},
                {"name": "c", "provider": "openrouter", "api_key": "k", "threshold": 1},
                {"name": "d", "provider": "openrouter", "api_key": "k", "threshold": "abc"},
            ]
        }));
        assert!(
            got.contains(&r#"projects[3].threshold: must be a number ≥ 0, got "abc""#.to_string()),
            "{got:?}"
        );
        assert!(
            got.iter().any(|p| p.starts_with(
                "settings.max_concurrent_checks: must be a whole number from 1 to 1000"
            )),
            "{got:?}"
        );
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn an_absurd_threshold_is_named_as_too_large() {
        let found = problems(json!({"projects": [
            {"name": "a", "provider": "openrouter", "api_key": "k", "threshold": 1e20}
        ]}));
        assert_eq!(
            found,
            vec!["projects[0].threshold: must be at most 1000000000000000 (a quadrillion), got 1e+20"]
        );
    }

    #[test]
    fn a_bad_threshold_is_one_problem_not_two() {
        let found = problems(json!({"projects": [
            {"name": "a", "provider": "openrouter", "api_key": "k", "threshold": "abc", "critical_threshold": 5}
        ]}));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("projects[0].threshold:"), "{found:?}");
    }

    #[test]
    fn timezone_must_be_an_iana_name() {
        let found = problems(json!({"settings": {"timezone": "Mars/Olympus"}}));
        assert_eq!(found.len(), 1);
        assert!(
            found[0].starts_with("settings.timezone: unknown time zone"),
            "{found:?}"
        );
        let mut warnings = Vec::new();
        let c = validate(
            &json!({"settings": {"timezone": "Asia/Shanghai"}}),
            &mut warnings,
        )
        .expect("valid");
        assert_eq!(c.settings.timezone.name(), "Asia/Shanghai");
    }

    #[test]
    fn critical_threshold_must_sit_below_threshold() {
        let got = problems(json!({"projects": [
            {"name": "a", "provider": "openrouter", "api_key": "k", "threshold": 5, "critical_threshold": 9}
        ]}));
        assert_eq!(
            got,
            vec!["projects[0].critical_threshold: must be below threshold (5), got 9"]
        );
    }

    #[test]
    fn levels_can_be_percentages_of_a_reference_amount() {
        let c = validate(
            &json!({"projects": [{"name": "a", "provider": "openrouter", "api_key": "k",
                "reference_amount": 200, "threshold_percent": 20, "critical_threshold_percent": 5}]}),
            &mut Vec::new(),
        )
        .expect("valid");
        assert_eq!(c.projects[0].threshold, Decimal::from(40));
        assert_eq!(c.projects[0].critical_threshold, Some(Decimal::from(10)));
        let got = problems(json!({"projects": [
            {"name": "a", "provider": "openrouter", "api_key": "k", "threshold_percent": 20}
        ]}));
        assert_eq!(
            got,
            vec!["projects[0].threshold_percent: needs reference_amount: the amount the percentage is of, e.g. 100"]
        );
    }

    #[test]
    fn numeric_strings_and_boolean_strings_are_accepted() {
        let c = validate(
            &json!({"projects": [{"name": "a", "provider": "openrouter", "api_key": "k",
                    "threshold": "12.5", "enabled": "true"}]}),
            &mut Vec::new(),
        )
        .expect("valid");
        assert_eq!(c.projects[0].threshold, Decimal::new(125, 1));
        assert!(c.projects[0].enabled);
    }

    #[test]
    fn every_string_field_has_a_length_limit_named_without_its_value() {
        let long_key = "k".repeat(STRING_MAX_CHARS + 1);
        let problems = validate(
            &json!({"projects": [{"name": "é".repeat(201), "provider": "openrouter",
                                  "api_key": long_key, "threshold": 1}],
                    "subscriptions": [{"name": "ok", "renewal_day": 1, "note": "n".repeat(2_001)}]}),
            &mut Vec::new(),
        )
        .expect_err("too long");
        let texts: Vec<String> = problems.iter().map(ToString::to_string).collect();
        for (path, n, max) in [
            ("projects[0].name", 201, 200),
            (
                "projects[0].api_key",
                STRING_MAX_CHARS + 1,
                STRING_MAX_CHARS,
            ),
        ] {
            assert!(
                texts
                    .iter()
                    .any(|t| t
                        == &format!("{path}: is {n} characters long: at most {max} (shorten it)")),
                "{path}: {texts:?}"
            );
        }
        assert!(
            !texts.iter().any(|t| t.contains("kkkk")),
            "never the value: {texts:?}"
        );
        let fine = validate(
            &json!({"projects": [{"name": "é".repeat(200), "provider": "openrouter", "api_key": "k", "threshold": 1}]}),
            &mut Vec::new(),
        );
        assert!(fine.is_ok(), "{fine:?}");
    }

    #[test]
    fn look_alike_names_are_one_name() {
        // Café as NFC, with a combining accent, fullwidth, with spaces around, with a
        // zero-width space, and in capitals: seven ways to write one subscription.
        let variants = [
            "Caf\u{e9}",
            "Cafe\u{301}",
            "\u{ff23}af\u{e9}",
            " Caf\u{e9} ",
            "Caf\u{200b}\u{e9}",
            "CAF\u{c9}",
            "caf\u{e9}\u{feff}",
        ];
        let keys: HashSet<String> = variants.iter().map(|v| name_key(v)).collect();
        assert_eq!(keys.len(), 1, "{keys:?}");
        let subs: Vec<Value> = variants
            .iter()
            .map(|n| json!({"name": n, "renewal_day": 1, "amount": 10}))
            .collect();
        let Err(problems) = validate(&json!({"subscriptions": subs}), &mut Vec::new()) else {
            panic!("look-alikes must be refused");
        };
        let dups: Vec<&Problem> = problems
            .iter()
            .filter(|p| p.message.contains("duplicate subscription"))
            .collect();
        assert_eq!(dups.len(), 6, "{problems:?}");
        assert_eq!(dups[0].path, "subscriptions[1].name");
        assert!(
            dups[0].message.contains("reads the same as \"Café\""),
            "{}",
            dups[0]
        );
        // Different names stay different; projects compare per provider.
        assert_ne!(name_key("Cafe"), name_key("Café"));
        let Err(problems) = validate(
            &json!({"projects": [
                {"name": "Main", "provider": "openrouter", "api_key": "k", "threshold": 1},
                {"name": "ＭＡＩＮ", "provider": "openrouter", "api_key": "k", "threshold": 1},
                {"name": "main", "provider": "deepseek", "api_key": "k", "threshold": 1, "currency": "CNY"}
            ]}),
            &mut Vec::new(),
        ) else {
            panic!("a fullwidth look-alike project must be refused");
        };
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].path, "projects[1].name");
    }

    #[test]
    fn a_deepseek_project_without_currency_is_warned_to_name_one() {
        let mut warnings = Vec::new();
        validate(
            &json!({"projects": [
                {"name": "ds", "provider": "deepseek", "api_key": "k", "threshold": 100},
                {"name": "cny", "provider": "deepseek", "api_key": "k", "threshold": 100, "currency": "CNY"}
            ]}),
            &mut warnings,
        )
        .expect("loads");
        let texts: Vec<String> = warnings.iter().map(ToString::to_string).collect();
        assert_eq!(texts.len(), 1, "{texts:?}");
        assert!(
            texts[0].starts_with("projects[0].currency: ")
                && texts[0].contains("\"currency\": \"CNY\""),
            "{texts:?}"
        );
    }

    #[test]
    fn unknown_provider_is_a_warning_not_an_error() {
        let mut warnings = Vec::new();
        let c = validate(
            &json!({"projects": [{"name": "v", "provider": "nosuch", "api_key": "k", "threshold": 1}]}),
            &mut warnings,
        )
        .expect("loads");
        assert_eq!(c.projects.len(), 1);
        assert!(warnings[0]
            .to_string()
            .starts_with("projects[0].provider: provider \"nosuch\" is not supported"));
    }

    #[test]
    fn duplicate_names_and_bad_subscriptions_are_named() {
        let got = problems(json!({
            "projects": [
                {"name": "a", "provider": "openrouter", "api_key": "k", "threshold": 1},
                {"name": "a", "provider": "openrouter", "api_key": "k", "threshold": 1}
            ],
            "subscriptions": [{"name": "s", "cycle_type": "weekly", "renewal_day": 9}]
        }));
        assert!(
            got.iter()
                .any(|p| p.starts_with("projects[1].name: duplicate project")),
            "{got:?}"
        );
        assert!(
            got.iter()
                .any(|p| p
                    .starts_with("subscriptions[0].renewal_day: weekly renewal_day must be 1–7")),
            "{got:?}"
        );
    }

    #[test]
    fn a_bad_webhook_url_is_named_without_echoing_it() {
        let got = problems(json!({"webhook": {"url": "ftp://token-123"}, "projects": []}));
        assert_eq!(
            got,
            vec!["webhook.url: must start with http:// or https://"]
        );
    }

    #[test]
    fn a_route_to_a_disabled_or_unknown_channel_is_named_with_the_fix() {
        let got = problems(json!({
            "channels": [
                {"name": "ops", "type": "webhook", "url": "http://x", "enabled": false},
                {"name": "all", "type": "webhook", "url": "http://y"},
            ],
            "routes": [
                {"match": {"severity": "critical"}, "channels": ["ops"]},
                {"match": {"kind": "low"}, "channels": ["all", "nope"]},
            ],
            "projects": [{"name": "a", "provider": "openrouter", "api_key": "k", "threshold": 1}],
        }));
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].starts_with("routes[0].channels: "), "{got:?}");
        for want in [
            "\"ops\"",
            "disabled",
            "severity=critical",
            "\"enabled\": true",
            "all",
        ] {
            assert!(got[0].contains(want), "{want} in {:?}", got[0]);
        }
        assert!(got[1].starts_with("routes[1].channels: "), "{got:?}");
        for want in ["\"nope\"", "kind=low", "all"] {
            assert!(got[1].contains(want), "{want} in {:?}", got[1]);
        }
        assert!(
            !got[1].contains("ops"),
            "a disabled channel is no fix: {:?}",
            got[1]
        );
    }

    proptest::proptest! {
        #[test]
        fn any_json_is_either_a_config_or_named_problems(doc in crate::test_json::json(&[
            "settings", "projects", "subscriptions", "email", "webhook", "name", "provider",
            "api_key", "threshold", "critical_threshold", "enabled", "cycle_type", "renewal_day",
            "base_url", "currency", "max_concurrent_checks", "url", "port",
        ])) {
            match validate(&doc, &mut Vec::new()) {
                Ok(config) => proptest::prop_assert!(config.settings.max_concurrent_checks >= 1),
                Err(problems) => {
                    proptest::prop_assert!(!problems.is_empty());
                    for p in problems {
                        proptest::prop_assert!(!p.path.is_empty() && !p.message.is_empty());
                    }
                }
            }
        }
    }
}
