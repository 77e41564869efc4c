//! Route handlers, one file per area; shared helpers here.

pub mod auth;
pub mod config;
pub mod credits;
pub mod docs;
pub mod health;
pub mod history;
pub mod index;
pub mod subscriptions;

use balance_alert_core::config::Config;

/// Unix seconds as RFC 3339 UTC, the Python tool's timestamp format.
pub fn iso(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// Resolves a project reference: the Python tool's md5 id, `provider:name` (hashed for you), or
/// a configured project's name. Returns the md5 id.
pub fn resolve_project_id(config: &Config, reference: &str) -> String {
    let is_md5 = reference.len() == 32 && reference.chars().all(|c| c.is_ascii_hexdigit());
    if is_md5 {
        return reference.to_ascii_lowercase();
    }
    if let Some(p) = config.projects.iter().find(|p| p.name == reference) {
        return p.id();
    }
    match reference.split_once(':') {
        Some((provider, name)) => balance_alert_core::model::project_id(provider, name),
        None => reference.to_owned(),
    }
}
