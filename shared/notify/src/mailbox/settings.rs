//! `email_settings`: what the mailbox scan looks for and how far back. The field names are the
//! Python tool's (`alert_keywords` replaces the built-in keywords, `extra_alert_keywords` adds to
//! them); `days`, `max_emails` and `timeout_seconds` are ours (the Python tool took them from
//! `--days` and `MAX_EMAILS_TO_SCAN`). Unknown fields are ignored: the peer's file loads as it is.

use std::time::Duration;

use balance_alert_core::config::Problem;
use serde_json::{Map, Value};

/// The Python tool's built-in keywords (`DEFAULT_ALERT_KEYWORDS`), matched case-insensitively
/// as substrings of the subject and the text body.
pub const DEFAULT_KEYWORDS: &[&str] = &[
    // Chinese
    "欠费",
    "余额不足",
    "余额预警",
    "余额告警",
    "即将到期",
    "已到期",
    "续费提醒",
    "续费通知",
    "账单逾期",
    "缴费通知",
    "请及时续费",
    "停机",
    "暂停服务",
    "服务即将暂停",
    "充值提醒",
    // English
    "overdue",
    "past due",
    "payment due",
    "payment overdue",
    "low balance",
    "insufficient balance",
    "balance alert",
    "expiring soon",
    "expired",
    "expiration notice",
    "renewal reminder",
    "renewal notice",
    "renew now",
    "payment reminder",
    "payment required",
    "bill overdue",
    "service suspension",
    "service suspended",
    "suspended",
    "recharge reminder",
    "top up",
    "account suspended",
    "unpaid invoice",
    "outstanding balance",
    "payment failed",
    // Not in the Python list: the wording of common "your balance is low" mails.
    "balance is low",
];

/// Default scan window in days (the Python tool's `--days` default).
pub const DEFAULT_DAYS: u32 = 1;
/// Default number of newest mails read per scan.
pub const DEFAULT_MAX_EMAILS: u32 = 50;
/// Default limit for each network step (connect, TLS, login, search, fetch).
pub const DEFAULT_TIMEOUT_SECONDS: u32 = 30;

/// How the mailbox scan reads every `email[]` account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailSettings {
    /// Scan mails received in the last `days` days (`days`, 1–365, default 1).
    pub days: u32,
    /// Read at most this many of the newest mails per account (`max_emails`, 1–1000,
    /// default 50).
    pub max_emails: u32,
    /// Keywords that make a mail an alert, lowercased for matching but kept as written for
    /// display (`alert_keywords` replaces the built-ins, `extra_alert_keywords` extends them).
    pub keywords: Vec<String>,
    /// Limit for each network step (`timeout_seconds`, 1–300, default 30).
    pub timeout: Duration,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings {
            days: DEFAULT_DAYS,
            max_emails: DEFAULT_MAX_EMAILS,
            keywords: DEFAULT_KEYWORDS.iter().map(|k| (*k).to_owned()).collect(),
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECONDS.into()),
        }
    }
}

impl MailSettings {
    /// Reads `email_settings` as written in the config (absent or `null`: the defaults).
    /// Every problem is reported with its path, e.g. `email_settings.alert_keywords[2]`.
    pub fn from_config(value: Option<&Value>) -> Result<MailSettings, Vec<Problem>> {
        let obj = match value {
            None | Some(Value::Null) => return Ok(MailSettings::default()),
            Some(Value::Object(obj)) => obj,
            Some(_) => return Err(vec![problem("email_settings", "must be a JSON object")]),
        };
        let mut problems = Vec::new();
        let defaults = MailSettings::default();
        let days = integer(obj, "days", 1, 365, &mut problems).unwrap_or(defaults.days);
        let max_emails =
            integer(obj, "max_emails", 1, 1000, &mut problems).unwrap_or(defaults.max_emails);
        let timeout = integer(obj, "timeout_seconds", 1, 300, &mut problems)
            .map_or(defaults.timeout, |s| Duration::from_secs(s.into()));
        let mut keywords = match keywords(obj, "alert_keywords", &mut problems) {
            Some(replaced) => replaced,
            None => defaults.keywords,
        };
        keywords.extend(keywords_or_empty(
            obj,
            "extra_alert_keywords",
            &mut problems,
        ));
        if keywords.is_empty() && problems.is_empty() {
            problems.push(problem(
                "email_settings.alert_keywords",
                "leaves no keyword, so no mail could ever match: remove it to use the built-in \
                 list, or add extra_alert_keywords",
            ));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(MailSettings {
            days,
            max_emails,
            keywords,
            timeout,
        })
    }
}

fn problem(path: &str, message: &str) -> Problem {
    Problem {
        path: path.to_owned(),
        message: message.to_owned(),
    }
}

/// A whole number in `min..=max` (a JSON number or a numeric string, as env mode writes).
fn integer(
    obj: &Map<String, Value>,
    key: &str,
    min: u32,
    max: u32,
    problems: &mut Vec<Problem>,
) -> Option<u32> {
    let value = obj.get(key).filter(|v| !v.is_null())?;
    let parsed = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    match parsed.and_then(|n| u32::try_from(n).ok()) {
        Some(n) if (min..=max).contains(&n) => Some(n),
        _ => {
            problems.push(problem(
                &format!("email_settings.{key}"),
                &format!("must be a whole number from {min} to {max}, got {value}"),
            ));
            None
        }
    }
}

/// A list of non-empty strings, or None when the key is absent.
fn keywords(
    obj: &Map<String, Value>,
    key: &str,
    problems: &mut Vec<Problem>,
) -> Option<Vec<String>> {
    let value = obj.get(key).filter(|v| !v.is_null())?;
    let Some(items) = value.as_array() else {
        problems.push(problem(
            &format!("email_settings.{key}"),
            "must be a list of strings, e.g. [\"欠费\", \"overdue\"]",
        ));
        return Some(Vec::new());
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match item.as_str().map(str::trim) {
            Some(k) if !k.is_empty() => out.push(k.to_owned()),
            _ => problems.push(problem(
                &format!("email_settings.{key}[{i}]"),
                "must be a non-empty string",
            )),
        }
    }
    Some(out)
}

fn keywords_or_empty(
    obj: &Map<String, Value>,
    key: &str,
    problems: &mut Vec<Problem>,
) -> Vec<String> {
    keywords(obj, key, problems).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn paths(value: Value) -> Vec<String> {
        MailSettings::from_config(Some(&value))
            .expect_err("settings have problems")
            .into_iter()
            .map(|p| p.path)
            .collect()
    }

    #[test]
    fn absent_settings_mean_the_python_defaults() {
        let s = MailSettings::from_config(None).expect("defaults are valid");
        assert_eq!(s.days, 1);
        assert_eq!(s.max_emails, 50);
        assert!(s.keywords.iter().any(|k| k == "欠费"));
        assert!(s.keywords.iter().any(|k| k == "payment failed"));
    }

    #[test]
    fn alert_keywords_replace_and_extra_keywords_extend() {
        let s = MailSettings::from_config(Some(&json!({
            "alert_keywords": ["到期"],
            "extra_alert_keywords": ["invoice"],
            "days": 3,
            "max_emails": "20"
        })))
        .expect("valid settings");
        assert_eq!(s.keywords, vec!["到期", "invoice"]);
        assert_eq!((s.days, s.max_emails), (3, 20));

        let s = MailSettings::from_config(Some(&json!({"extra_alert_keywords": ["发票"]})))
            .expect("valid settings");
        assert_eq!(s.keywords.len(), DEFAULT_KEYWORDS.len() + 1);
    }

    #[test]
    fn every_bad_field_is_named_with_its_path() {
        assert_eq!(
            paths(json!({
                "days": 0,
                "max_emails": "many",
                "timeout_seconds": 9999,
                "alert_keywords": ["ok", 3, " "],
                "extra_alert_keywords": "overdue"
            })),
            vec![
                "email_settings.days",
                "email_settings.max_emails",
                "email_settings.timeout_seconds",
                "email_settings.alert_keywords[1]",
                "email_settings.alert_keywords[2]",
                "email_settings.extra_alert_keywords",
            ]
        );
        assert_eq!(paths(json!([])), vec!["email_settings"]);
    }

    #[test]
    fn an_empty_keyword_list_is_refused_because_nothing_could_match() {
        assert_eq!(
            paths(json!({"alert_keywords": []})),
            vec!["email_settings.alert_keywords"]
        );
    }

    #[test]
    fn unknown_fields_are_ignored_like_the_python_tool_does() {
        assert!(MailSettings::from_config(Some(&json!({"note": "x"}))).is_ok());
    }
}
