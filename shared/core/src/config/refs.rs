//! Secret references: any config string may be `secretsmanager://<secret-id>` or
//! `secretsmanager://<secret-id>#<json-key>` (besides `${VAR}`). Core only finds and
//! substitutes them; a [`SecretResolver`] (the functions' Secrets Manager client) fetches the
//! values, so the AWS SDK stays out of the crates that do not call AWS. Values are held as
//! [`super::Secret`]s by the fields that take them and never logged.

use std::collections::HashMap;

use async_trait::async_trait;
use serde_json::Value;

use super::Problem;

/// The scheme of a secret reference.
pub const SCHEME: &str = "secretsmanager://";

/// Fetches the value of a secret reference.
#[async_trait]
pub trait SecretResolver: Send + Sync {
    /// The value `reference` names (the whole `secretsmanager://…` string), or why not (a
    /// message naming the secret id, never a value).
    async fn resolve(&self, reference: &str) -> Result<String, String>;
}

/// Resolved references: reference → value or the reason it failed.
pub type Resolved = HashMap<String, Result<String, String>>;

/// The values of the references that resolved: secrets to the scrubber ([`crate::scrub`]).
pub fn resolved_values(resolved: &Resolved) -> impl Iterator<Item = String> + '_ {
    resolved.values().filter_map(|v| v.as_ref().ok().cloned())
}

/// Every distinct secret reference in the document, in order of appearance.
pub fn secret_refs(doc: &Value) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) if s.trim().starts_with(SCHEME) => {
                let r = s.trim().to_owned();
                if !out.contains(&r) {
                    out.push(r);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            Value::Object(map) => map.values().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(doc, &mut out);
    out
}

/// Resolves every reference of `doc` with `resolver`.
pub async fn resolve_refs(resolver: &dyn SecretResolver, doc: &Value) -> Resolved {
    let mut out = Resolved::new();
    for r in secret_refs(doc) {
        let value = resolver.resolve(&r).await;
        out.insert(r, value);
    }
    out
}

/// How unresolved references are treated.
pub(crate) enum Mode<'a> {
    /// Substitute from these values; a failed one is a problem naming its path.
    Resolved(&'a Resolved),
    /// No resolver here (`config push`, the local binary): keep a stand-in value and warn.
    Deferred,
}

/// Replaces each reference in `value` by its value, recording problems (failed references)
/// or warnings (deferred ones) under their paths.
pub(crate) fn substitute(
    value: &mut Value,
    mode: &Mode<'_>,
    path: &str,
    problems: &mut Vec<Problem>,
    warnings: &mut Vec<Problem>,
) {
    match value {
        Value::String(s) if s.trim().starts_with(SCHEME) => {
            let reference = s.trim().to_owned();
            let id = reference.trim_start_matches(SCHEME).to_owned();
            match mode {
                Mode::Resolved(values) => match values.get(&reference) {
                    Some(Ok(v)) => *s = v.clone(),
                    Some(Err(reason)) => problems.push(Problem {
                        path: path.to_owned(),
                        message: format!("secret {id:?} could not be read: {reason}"),
                    }),
                    None => problems.push(Problem {
                        path: path.to_owned(),
                        message: format!("secret {id:?} was not resolved"),
                    }),
                },
                Mode::Deferred => {
                    warnings.push(Problem {
                        path: path.to_owned(),
                        message: format!(
                            "Secrets Manager reference {id:?}: resolved where the functions load the config, not here"
                        ),
                    });
                    // A stand-in that passes validation (URLs included) and never works.
                    *s = "https://secretsmanager.invalid/unresolved".to_owned();
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                substitute(item, mode, &format!("{path}[{i}]"), problems, warnings);
            }
        }
        Value::Object(map) => {
            for (k, item) in map.iter_mut() {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                substitute(item, mode, &p, problems, warnings);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_are_found_substituted_and_failures_named_by_path() {
        let mut doc = json!({"webhook": {"url": "secretsmanager://hooks#feishu"},
                             "projects": [{"api_key": "secretsmanager://keys/or"}, {"api_key": "k"}]});
        assert_eq!(
            secret_refs(&doc),
            vec!["secretsmanager://hooks#feishu", "secretsmanager://keys/or"]
        );
        let mut values = Resolved::new();
        values.insert(
            "secretsmanager://hooks#feishu".into(),
            Ok("https://x".into()),
        );
        values.insert(
            "secretsmanager://keys/or".into(),
            Err("ResourceNotFoundException".into()),
        );
        let (mut problems, mut warnings) = (Vec::new(), Vec::new());
        substitute(
            &mut doc,
            &Mode::Resolved(&values),
            "",
            &mut problems,
            &mut warnings,
        );
        assert_eq!(doc["webhook"]["url"], "https://x");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].path, "projects[0].api_key");
        assert!(problems[0].message.contains("keys/or"));
    }
}
