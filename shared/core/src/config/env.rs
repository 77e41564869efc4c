//! Environment variables: the env-only mode, hybrid overrides and `${VAR}` placeholders.
//!
//! The environment is read through [`EnvLookup`] so tests pass a map instead of mutating the
//! process environment.

use serde_json::{json, Map, Value};

use super::settings::SETTINGS;
use super::Problem;

/// Reads an environment variable; empty values count as unset.
pub trait EnvLookup {
    fn get(&self, key: &str) -> Option<String>;
}

impl<F: Fn(&str) -> Option<String>> EnvLookup for F {
    fn get(&self, key: &str) -> Option<String> {
        self(key)
    }
}

impl EnvLookup for std::collections::HashMap<String, String> {
    fn get(&self, key: &str) -> Option<String> {
        self.get(key).filter(|v| !v.is_empty()).cloned()
    }
}

/// `(JSON field, env suffix)` for each indexed family; the first entry ends the list when unset.
const PROJECT_FIELDS: &[(&str, &str)] = &[
    ("name", "NAME"),
    ("provider", "PROVIDER"),
    ("api_key", "API_KEY"),
    ("threshold", "THRESHOLD"),
    ("type", "TYPE"),
    ("enabled", "ENABLED"),
    ("owner_project", "OWNER_PROJECT"),
    ("critical_threshold", "CRITICAL_THRESHOLD"),
    ("base_url", "BASE_URL"),
    ("currency", "CURRENCY"),
    ("check_interval", "CHECK_INTERVAL"),
];
const EMAIL_FIELDS: &[(&str, &str)] = &[
    ("username", "USERNAME"),
    ("name", "NAME"),
    ("host", "HOST"),
    ("port", "PORT"),
    ("password", "PASSWORD"),
    ("use_ssl", "USE_SSL"),
    ("enabled", "ENABLED"),
];
const SUBSCRIPTION_FIELDS: &[(&str, &str)] = &[
    ("name", "NAME"),
    ("cycle_type", "CYCLE_TYPE"),
    ("renewal_day", "RENEWAL_DAY"),
    ("alert_days_before", "ALERT_DAYS_BEFORE"),
    ("amount", "AMOUNT"),
    ("currency", "CURRENCY"),
    ("last_renewed_date", "LAST_RENEWED_DATE"),
    ("interval_days", "INTERVAL_DAYS"),
    ("start_date", "START_DATE"),
    ("enabled", "ENABLED"),
];

/// Reads `PREFIX_1_*`, `PREFIX_2_*`, … until the first field of `fields` is missing.
fn indexed(env: &(impl EnvLookup + ?Sized), prefix: &str, fields: &[(&str, &str)]) -> Vec<Value> {
    let mut items = Vec::new();
    for n in 1.. {
        let key = |suffix: &str| format!("{prefix}_{n}_{suffix}");
        if env.get(&key(fields[0].1)).is_none() {
            break;
        }
        let mut obj = Map::new();
        for (field, suffix) in fields {
            if let Some(v) = env.get(&key(suffix)) {
                obj.insert((*field).to_owned(), Value::String(v));
            }
        }
        items.push(Value::Object(obj));
    }
    items
}

fn settings_from_env(env: &(impl EnvLookup + ?Sized), settings: &mut Map<String, Value>) {
    for spec in SETTINGS {
        if let Some(v) = env.get(spec.env) {
            settings.insert(spec.name.to_owned(), Value::String(v));
        }
    }
}

/// The Python tool's env-mode defaults for a project: provider `openrouter`, threshold 100.
fn with_project_defaults(mut projects: Vec<Value>) -> Vec<Value> {
    for p in projects.iter_mut().filter_map(Value::as_object_mut) {
        p.entry("provider")
            .or_insert_with(|| Value::String("openrouter".into()));
        p.entry("threshold")
            .or_insert_with(|| Value::String("100".into()));
    }
    projects
}

/// Builds the whole config document from the environment (`USE_ENV_CONFIG=true`).
pub fn env_config(env: &(impl EnvLookup + ?Sized)) -> Value {
    let mut settings = Map::new();
    settings_from_env(env, &mut settings);
    let webhook = env.get("WEBHOOK_URL").map(|url| {
        json!({
            "url": url,
            "type": env.get("WEBHOOK_TYPE").unwrap_or_else(|| "feishu".into()),
            "source": env.get("WEBHOOK_SOURCE").unwrap_or_else(|| "balance-alert".into()),
        })
    });
    json!({
        "settings": settings,
        "webhook": webhook,
        "email": indexed(env, "EMAIL", EMAIL_FIELDS),
        "projects": with_project_defaults(indexed(env, "PROJECT", PROJECT_FIELDS)),
        "subscriptions": indexed(env, "SUBSCRIPTION", SUBSCRIPTION_FIELDS),
    })
}

/// The Python tool's per-project key variable: `MY_PROJECT_API_KEY` for "my-project".
pub fn project_key_var(name: &str) -> String {
    format!("{}_API_KEY", name.to_uppercase().replace([' ', '-'], "_"))
}

/// Variables the server itself reads: never taken as a project's key (a project named `web`
/// would otherwise send the dashboard's `WEB_API_KEY` to its provider).
pub const SERVER_VARIABLES: &[&str] = &[
    "WEB_API_KEY",
    "API_KEY",
    "API_KEY_SECRET_ARN",
    "JWT_SECRET",
    "PROMETHEUS_REMOTE_WRITE_BEARER_TOKEN",
    "PROMETHEUS_REMOTE_WRITE_PASSWORD",
];

/// The numbered families of env mode, with the variable that makes an entry exist.
const FAMILIES: &[(&str, &str)] = &[
    ("PROJECT", "NAME"),
    ("EMAIL", "USERNAME"),
    ("SUBSCRIPTION", "NAME"),
];
/// How far past a gap numbered variables are looked for.
const GAP_PROBE: usize = 100;

/// Numbered variables that are never read because an earlier number is missing
/// (`PROJECT_2_NAME` without `PROJECT_1_NAME`): entries stop at the first gap.
pub fn numbering_gaps(env: &(impl EnvLookup + ?Sized)) -> Vec<super::Problem> {
    let mut out = Vec::new();
    for (prefix, field) in FAMILIES {
        let key = |n: usize| format!("{prefix}_{n}_{field}");
        let Some(gap) = (1..=GAP_PROBE).find(|n| env.get(&key(*n)).is_none()) else {
            continue;
        };
        if let Some(n) = (gap + 1..=gap + GAP_PROBE).find(|n| env.get(&key(*n)).is_some()) {
            out.push(super::Problem {
                path: key(n),
                message: format!(
                    "is set but {} is not, so it and every later {prefix}_n_* entry are ignored: \
                     numbering starts at 1 and has no gaps (rename it {})",
                    key(gap),
                    key(gap)
                ),
            });
        }
    }
    out
}

/// Projects whose `<NAME>_API_KEY` would be one of the server's own variables.
pub fn key_collisions(doc: &Value) -> Vec<super::Problem> {
    let Some(list) = doc.get("projects").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let name = p.get("name").and_then(Value::as_str)?;
            let var = project_key_var(name);
            SERVER_VARIABLES
                .contains(&var.as_str())
                .then(|| super::Problem {
                    path: format!("projects[{i}].name"),
                    message: format!(
                    "project {name:?} would read its key from {var}, which is the server's own \
                     variable: it is never used as a project key; set \"api_key\" (e.g. \
                     \"${{{}_PROVIDER_KEY}}\") or rename the project",
                    var.trim_end_matches("_API_KEY")
                ),
                })
        })
        .collect()
}

/// Hybrid mode: environment values that replace parts of config.json, as the Python tool does.
pub(super) fn apply_overrides(doc: &mut Value, env: &(impl EnvLookup + ?Sized)) {
    let Some(root) = doc.as_object_mut() else {
        return;
    };
    if let Some(url) = env.get("WEBHOOK_URL") {
        let hook = root.entry("webhook").or_insert_with(|| json!({}));
        if let Some(hook) = hook.as_object_mut() {
            hook.insert("url".into(), Value::String(url));
            for (field, var) in [("type", "WEBHOOK_TYPE"), ("source", "WEBHOOK_SOURCE")] {
                if let Some(v) = env.get(var) {
                    hook.insert(field.into(), Value::String(v));
                }
            }
        }
    }
    let projects = with_project_defaults(indexed(env, "PROJECT", PROJECT_FIELDS));
    if !projects.is_empty() {
        root.insert("projects".into(), Value::Array(projects));
    } else if let Some(Value::Array(list)) = root.get_mut("projects") {
        for p in list.iter_mut().filter_map(Value::as_object_mut) {
            let Some(name) = p.get("name").and_then(Value::as_str) else {
                continue;
            };
            let var = project_key_var(name);
            if SERVER_VARIABLES.contains(&var.as_str()) {
                continue;
            }
            if let Some(key) = env.get(&var) {
                p.insert("api_key".into(), Value::String(key));
            }
        }
    }
    let emails = indexed(env, "EMAIL", EMAIL_FIELDS);
    if !emails.is_empty() {
        root.insert("email".into(), Value::Array(emails));
    }
    let has_subs = root
        .get("subscriptions")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if !has_subs {
        let subs = indexed(env, "SUBSCRIPTION", SUBSCRIPTION_FIELDS);
        if !subs.is_empty() {
            root.insert("subscriptions".into(), Value::Array(subs));
        }
    }
    let settings = root.entry("settings").or_insert_with(|| json!({}));
    if let Some(settings) = settings.as_object_mut() {
        settings_from_env(env, settings);
    }
}

/// Replaces `${VAR}` (and `${VAR:-default}`) in every string of `doc`; `$${` stands for a
/// literal `${`.
///
/// An unset variable is a problem naming it, except inside an entry with `"enabled": false`,
/// where it is only a warning: the entry is not used.
///
/// Returns the values the variables had: secrets to the scrubber ([`crate::scrub`]).
pub fn expand_placeholders(
    doc: &mut Value,
    env: &(impl EnvLookup + ?Sized),
    problems: &mut Vec<Problem>,
    warnings: &mut Vec<Problem>,
) -> Vec<String> {
    let mut found = Found {
        problems,
        warnings,
        values: Vec::new(),
    };
    walk(doc, String::new(), false, env, &mut found);
    found.values
}

/// What a walk of [`expand_placeholders`] collects.
struct Found<'a> {
    problems: &'a mut Vec<Problem>,
    warnings: &'a mut Vec<Problem>,
    /// The values of the variables substituted.
    values: Vec<String>,
}

fn walk(
    v: &mut Value,
    path: String,
    disabled: bool,
    env: &(impl EnvLookup + ?Sized),
    found: &mut Found<'_>,
) {
    match v {
        Value::String(s) if s.contains("${") => {
            let (expanded, missing) = expand_str_into(s, env, &mut found.values);
            for var in missing {
                let p = Problem {
                    path: path.clone(),
                    message: format!(
                        "environment variable {var} is not set; set it or replace \"${{{var}}}\" with a value"
                    ),
                };
                if disabled {
                    found.warnings.push(p)
                } else {
                    found.problems.push(p)
                }
            }
            *s = expanded;
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                walk(item, format!("{path}[{i}]"), disabled, env, found);
            }
        }
        Value::Object(map) => {
            let disabled = disabled || map.get("enabled").is_some_and(is_false);
            for (k, item) in map.iter_mut() {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(item, p, disabled, env, found);
            }
        }
        _ => {}
    }
}

fn is_false(v: &Value) -> bool {
    matches!(v, Value::Bool(false)) || v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("false"))
}

/// Expands one string; returns the result and the names of unset variables.
#[cfg(test)]
fn expand_str(s: &str, env: &(impl EnvLookup + ?Sized)) -> (String, Vec<String>) {
    expand_str_into(s, env, &mut Vec::new())
}

/// [`expand_str`], adding the values of the variables found to `values`.
fn expand_str_into(
    s: &str,
    env: &(impl EnvLookup + ?Sized),
    values: &mut Vec<String>,
) -> (String, Vec<String>) {
    let mut out = String::with_capacity(s.len());
    let mut missing = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        // `$${` is a literal `${`: how values that came through the API (literal text) are
        // stored, so they are never interpolated.
        if rest[..start].ends_with('$') {
            out.push_str(&rest[..start - 1]);
            out.push_str("${");
            rest = &rest[start + 2..];
            continue;
        }
        out.push_str(&rest[..start]);
        let Some(len) = rest[start + 2..].find('}') else {
            out.push_str(&rest[start..]);
            return (out, missing);
        };
        let inner = &rest[start + 2..start + 2 + len];
        let (var, default) = match inner.split_once(":-") {
            Some((var, default)) => (var, Some(default)),
            None => (inner, None),
        };
        match (env.get(var), default) {
            (Some(value), _) => {
                out.push_str(&value);
                values.push(value);
            }
            (None, Some(default)) => out.push_str(default),
            (None, None) => missing.push(var.to_owned()),
        }
        rest = &rest[start + 3 + len..];
    }
    out.push_str(rest);
    (out, missing)
}

/// In env-only mode, names problems by their variable: `projects[2].threshold` →
/// `PROJECT_3_THRESHOLD`.
pub(super) fn rename_to_env(problems: Vec<Problem>) -> Vec<Problem> {
    problems
        .into_iter()
        .map(|mut p| {
            if let Some(name) = env_name(&p.path) {
                p.path = name;
            }
            p
        })
        .collect()
}

/// In hybrid mode, a setting that an environment variable overrides is named by both: the
/// value that failed came from the variable.
pub(super) fn name_settings_overrides(
    problems: Vec<Problem>,
    env: &(impl EnvLookup + ?Sized),
) -> Vec<Problem> {
    problems
        .into_iter()
        .map(|mut p| {
            if let Some(var) = settings_var(&p.path).filter(|v| env.get(v).is_some()) {
                p.path = format!("{var} (overrides {})", p.path);
            }
            p
        })
        .collect()
}

/// `settings.max_retries` → `MAX_RETRIES`, for the settings the environment can set.
fn settings_var(path: &str) -> Option<String> {
    let field = path.strip_prefix("settings.")?;
    SETTINGS
        .iter()
        .find(|s| s.name == field)
        .map(|s| s.env.to_owned())
}

fn env_name(path: &str) -> Option<String> {
    if let Some(var) = settings_var(path) {
        return Some(var);
    }
    let (list, rest) = path.split_once('[')?;
    let (index, field) = rest.split_once("].")?;
    let n: usize = index.parse().ok()?;
    let (prefix, fields) = match list {
        "projects" => ("PROJECT", PROJECT_FIELDS),
        "email" => ("EMAIL", EMAIL_FIELDS),
        "subscriptions" => ("SUBSCRIPTION", SUBSCRIPTION_FIELDS),
        _ => return None,
    };
    let suffix = fields.iter().find(|(f, _)| *f == field).map(|(_, s)| *s)?;
    Some(format!("{prefix}_{}_{suffix}", n + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn placeholders_expand_with_defaults_and_report_unset_variables() {
        let e = env(&[("KEY", "sk-1")]);
        assert_eq!(expand_str("a ${KEY} b", &e), ("a sk-1 b".into(), vec![]));
        assert_eq!(expand_str("${NOPE:-x}", &e), ("x".into(), vec![]));
        assert_eq!(expand_str("${NOPE}", &e).1, vec!["NOPE".to_string()]);
        assert_eq!(expand_str("${unterminated", &e).0, "${unterminated");
    }

    #[test]
    fn env_mode_reads_indexed_projects_until_a_name_is_missing() {
        let e = env(&[
            ("PROJECT_1_NAME", "A"),
            ("PROJECT_1_PROVIDER", "deepseek"),
            ("PROJECT_2_NAME", "B"),
            ("PROJECT_4_NAME", "not read: 3 is missing"),
        ]);
        let doc = env_config(&e);
        let projects = doc["projects"].as_array().expect("projects array");
        assert_eq!(projects.len(), 2);
        assert_eq!(projects[0]["provider"], "deepseek");
        // The Python tool's defaults for what is not set.
        assert_eq!(projects[1]["provider"], "openrouter");
        assert_eq!(projects[1]["threshold"], "100");
    }

    #[test]
    fn a_doubled_dollar_is_a_literal_placeholder() {
        let e = env(&[("SECRET", "s3cret")]);
        assert_eq!(
            expand_str("leak-$${SECRET} and ${SECRET}", &e),
            ("leak-${SECRET} and s3cret".to_string(), vec![])
        );
        assert_eq!(
            expand_str("pa$$word", &e).0,
            "pa$$word",
            "only a dollar before a placeholder is special"
        );
    }

    #[test]
    fn env_names_map_back_from_paths() {
        assert_eq!(
            env_name("projects[2].threshold").as_deref(),
            Some("PROJECT_3_THRESHOLD")
        );
        assert_eq!(env_name("email[0].port").as_deref(), Some("EMAIL_1_PORT"));
        assert_eq!(
            env_name("settings.max_retries").as_deref(),
            Some("MAX_RETRIES")
        );
    }
}
