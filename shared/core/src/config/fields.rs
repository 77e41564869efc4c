//! Reading typed fields from one JSON object of the config, each problem recorded with its
//! path and the fix (the validator's, the delivery settings' and each channel type's reader).

use balance_alert_model::Decimal;
use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::Problem;

/// Reads typed fields from one JSON object, recording problems under `path`.
pub(super) struct Fields<'a> {
    pub(super) obj: &'a Map<String, Value>,
    pub(super) path: String,
    pub(super) problems: &'a mut Vec<Problem>,
}

pub(super) fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

impl<'a> Fields<'a> {
    pub(super) fn problem(&mut self, key: &str, message: String) {
        let path = if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        };
        self.problems.push(Problem { path, message });
    }

    pub(super) fn present(&self, key: &str) -> Option<&'a Value> {
        self.obj.get(key).filter(|v| !v.is_null())
    }

    pub(super) fn string(&mut self, key: &str) -> Option<String> {
        match self.present(key) {
            None => None,
            Some(Value::String(s)) => {
                // Named by its length, never quoted: the value may be a secret.
                let (n, max) = (s.chars().count(), max_chars(key));
                if n > max {
                    self.problem(
                        key,
                        format!("is {n} characters long: at most {max} (shorten it)"),
                    );
                }
                Some(s.clone())
            }
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(other) => {
                self.problem(key, format!("must be a string, got {}", describe(other)));
                None
            }
        }
    }

    pub(super) fn required_string(&mut self, key: &str, hint: &str) -> String {
        match self.string(key) {
            Some(s) if !s.trim().is_empty() => s,
            _ if self
                .present(key)
                .is_some_and(|v| !v.is_string() && !v.is_number()) =>
            {
                String::new()
            }
            _ => {
                self.problem(key, format!("is required: {hint}"));
                String::new()
            }
        }
    }

    /// A number, also accepted as a numeric string (env values are strings).
    pub(super) fn number(&mut self, key: &str, min: f64, max: f64, what: &str) -> Option<f64> {
        let v = self.present(key)?;
        let parsed = match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        match parsed {
            Some(n) if n.is_finite() && n >= min && n <= max => Some(n),
            _ => {
                self.problem(key, format!("must be {what}, got {}", describe(v)));
                None
            }
        }
    }

    /// An exact amount ≥ 0: a number or a numeric string ("110.00", "1,234.50").
    pub(super) fn amount(&mut self, key: &str) -> Option<Decimal> {
        let v = self.present(key)?;
        let text = match v {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            _ => String::new(),
        };
        match crate::money::from_json(v) {
            Some(d) if d >= Decimal::ZERO => Some(d),
            // A number, but beyond any real balance: say so, not "must be a number".
            None if crate::money::parse_stored(&text).is_some() => {
                self.problem(
                    key,
                    format!(
                        "must be at most {} (a quadrillion), got {}",
                        crate::money::MAX_AMOUNT,
                        describe(v)
                    ),
                );
                None
            }
            _ => {
                self.problem(key, format!("must be a number ≥ 0, got {}", describe(v)));
                None
            }
        }
    }

    pub(super) fn integer(&mut self, key: &str, min: u64, max: u64) -> Option<u64> {
        let what = if max == u64::MAX {
            format!("a whole number ≥ {min}")
        } else {
            format!("a whole number from {min} to {max}")
        };
        let n = self.number(key, min as f64, max as f64, &what)?;
        if n.fract() != 0.0 {
            self.problem(key, format!("must be {what}, got {n}"));
            return None;
        }
        Some(n as u64)
    }

    pub(super) fn boolean(&mut self, key: &str) -> Option<bool> {
        let v = self.present(key)?;
        match v {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") || s == "1" => Some(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") || s == "0" => Some(false),
            other => {
                self.problem(
                    key,
                    format!("must be true or false, got {}", describe(other)),
                );
                None
            }
        }
    }

    pub(super) fn date(&mut self, key: &str) -> Option<NaiveDate> {
        let s = self.string(key)?;
        if s.is_empty() {
            return None;
        }
        match NaiveDate::parse_from_str(&s, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                self.problem(key, format!("must be a date like 2026-01-31, got {s:?}"));
                None
            }
        }
    }
}

/// The longest name (project, subscription, channel, owner, provider, currency), in characters.
pub const NAME_MAX_CHARS: usize = 200;
/// The longest note or description, in characters.
pub const NOTE_MAX_CHARS: usize = 2_000;
/// The longest value of any other string field (keys, URLs, templates), in characters.
pub const STRING_MAX_CHARS: usize = 8_192;

/// The length limit of the string field `key`: every string field has one, so no field can
/// grow the config past its size limit on its own.
pub fn max_chars(key: &str) -> usize {
    match key {
        "name" | "owner_project" | "provider" | "currency" | "type" | "channel" => NAME_MAX_CHARS,
        "note" | "notes" | "description" | "remark" => NOTE_MAX_CHARS,
        _ => STRING_MAX_CHARS,
    }
}
