//! Route handlers, one file per area; shared helpers here.

pub mod alerts;
pub mod auth;
pub mod config;
pub mod credits;
pub mod docs;
pub mod health;
pub mod history;
pub mod index;
pub mod subscriptions;

use balance_alert_core::config::{Config, LookupError};

use crate::error::ApiError;

pub use balance_alert_core::model::wire::iso;

/// Resolves a project reference to its md5 id: a configured project's id, `provider:name` or
/// unique name; for a project no longer configured (its history remains), an md5 id or
/// `provider:name` (hashed for you). A bare name several projects share is a 409.
pub fn resolve_project_id(config: &Config, reference: &str) -> Result<String, ApiError> {
    match config.find_project(reference) {
        Ok(p) => Ok(p.id()),
        Err(e @ LookupError::Ambiguous { .. }) => Err(e.into()),
        Err(LookupError::NotFound { .. }) => {
            let is_md5 = reference.len() == 32 && reference.chars().all(|c| c.is_ascii_hexdigit());
            Ok(if is_md5 {
                reference.to_ascii_lowercase()
            } else if let Some((provider, name)) = reference.split_once(':') {
                balance_alert_core::model::project_id(provider, name)
            } else {
                reference.to_owned()
            })
        }
    }
}
