//! A project's adapter options: the fields of its `projects[]` entry beyond the common ones
//! (`budget`, `tenant_id`, `window`, `value_pointer`, …), as written after `${VAR}` expansion.
//! Their values can hold secrets (an `http_json` header), so `Debug` shows only the names.

use balance_alert_model::{BalanceKind, Decimal};
use serde_json::{Map, Value};

/// The fields every project has; everything else is an adapter option.
const COMMON: &[&str] = &[
    "name",
    "owner_project",
    "provider",
    "api_key",
    "threshold",
    "critical_threshold",
    "threshold_percent",
    "critical_threshold_percent",
    "reference_amount",
    "type",
    "enabled",
    "base_url",
    "currency",
    "check_interval",
];

/// An adapter option that does not fit: which field and how to fix it.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionProblem {
    pub field: &'static str,
    pub message: String,
}

impl OptionProblem {
    pub fn new(field: &'static str, message: impl Into<String>) -> OptionProblem {
        OptionProblem {
            field,
            message: message.into(),
        }
    }
}

/// The adapter options of one project.
#[derive(Clone, PartialEq, Default)]
pub struct Options(Map<String, Value>);

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl Options {
    /// The non-common fields of a `projects[]` entry (names starting with `_` are comments).
    pub fn from_entry(entry: &Map<String, Value>) -> Options {
        Options(
            entry
                .iter()
                .filter(|(k, _)| !COMMON.contains(&k.as_str()) && !k.starts_with('_'))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    }

    /// Every option as written (values may hold secrets: never log them).
    pub fn fields(&self) -> &Map<String, Value> {
        &self.0
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    /// A non-empty string option.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// A number option (JSON number or a string holding one), exactly.
    pub fn decimal(&self, key: &str) -> Option<Decimal> {
        self.get(key).and_then(crate::money::from_json)
    }

    /// A stable text of the options, for cache keys (never shown).
    pub fn fingerprint(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }

    /// Problem unless `key` is a non-empty string.
    pub fn require_str(&self, key: &'static str, fix: &str, out: &mut Vec<OptionProblem>) {
        match self.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => {}
            Some(other) => out.push(OptionProblem::new(
                key,
                format!("must be a non-empty string: {fix}, got {other}"),
            )),
            None => out.push(OptionProblem::new(key, format!("is required: {fix}"))),
        }
    }

    /// Problem unless `key` is absent or a number (`required`: present too), ≥ 0.
    pub fn check_amount(
        &self,
        key: &'static str,
        required: bool,
        fix: &str,
        out: &mut Vec<OptionProblem>,
    ) {
        match (self.get(key), self.decimal(key)) {
            (None, _) if required => {
                out.push(OptionProblem::new(key, format!("is required: {fix}")))
            }
            (None, _) => {}
            (Some(_), Some(d)) if d >= Decimal::ZERO && d <= crate::money::MAX_AMOUNT => {}
            (Some(v), _) => out.push(OptionProblem::new(
                key,
                format!("must be a number from 0 to a quadrillion: {fix}, got {v}"),
            )),
        }
    }

    /// Problem unless `key` is absent or one of `allowed`.
    pub fn check_one_of(&self, key: &'static str, allowed: &[&str], out: &mut Vec<OptionProblem>) {
        if let Some(v) = self.get(key) {
            if !v.as_str().is_some_and(|s| allowed.contains(&s)) {
                out.push(OptionProblem::new(
                    key,
                    format!("must be one of {}, got {v}", allowed.join(", ")),
                ));
            }
        }
    }

    /// Problem unless `region` is absent, `cn` or `global` (providers with a China and an
    /// international host).
    pub fn check_region(&self, hosts: &str, out: &mut Vec<OptionProblem>) {
        if let Some(v) = self.get("region") {
            if !v.as_str().is_some_and(|s| s == "cn" || s == "global") {
                out.push(OptionProblem::new(
                    "region",
                    format!("must be \"cn\" or \"global\" ({hosts}), or set base_url; got {v}"),
                ));
            }
        }
    }

    /// Whether the project chose the international host (`region: "global"`).
    pub fn is_global(&self) -> bool {
        self.str("region") == Some("global")
    }

    /// The `kind` option (what the figure is), `prepaid_balance` by default.
    pub fn kind(&self) -> BalanceKind {
        self.str("kind")
            .and_then(BalanceKind::parse)
            .unwrap_or(BalanceKind::PrepaidBalance)
    }

    /// Problem unless `kind` is absent or a kind's name.
    pub fn check_kind(&self, out: &mut Vec<OptionProblem>) {
        self.check_one_of("kind", &BalanceKind::ALL.map(BalanceKind::as_str), out);
    }
}

#[cfg(test)]
impl Options {
    /// The options of a config entry written as JSON (an object), for tests.
    pub(crate) fn of(entry: Value) -> Options {
        Options::from_entry(entry.as_object().expect("an object"))
    }
}
