//! Route handlers, one file per area, and the route tables: each operation is declared once,
//! beside its handler (its `#[utoipa::path]` gives the method and path), and [`protected`],
//! [`public`] and [`open`] list them by how they are guarded. The router ([`crate::app`]) and
//! the OpenAPI document ([`docs::document`]) are both built from these tables.

pub mod alerts;
pub mod auth;
pub mod config;
pub mod credits;
pub mod docs;
pub mod health;
pub mod history;
pub mod index;
pub mod subscriptions;

use axum::routing::{get, post};
use balance_alert_core::config::{Config, LookupError};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::AppState;

/// The operations behind authentication (API key or JWT) and the rate limit.
pub fn protected() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(credits::credits))
        .routes(routes!(credits::refresh))
        .routes(routes!(health::features))
        .routes(routes!(subscriptions::list))
        .routes(routes!(subscriptions::config_list))
        .routes(routes!(subscriptions::add))
        .routes(routes!(subscriptions::update))
        .routes(routes!(subscriptions::delete))
        .routes(routes!(subscriptions::mark_renewed))
        .routes(routes!(subscriptions::clear_renewed))
        .routes(routes!(history::balance))
        .routes(routes!(history::sparklines))
        .routes(routes!(history::trend))
        .routes(routes!(history::alerts))
        .routes(routes!(history::stats))
        .routes(routes!(alerts::ack))
        .routes(routes!(alerts::snooze))
        .routes(routes!(config::record_balance))
        .routes(routes!(config::projects))
        .routes(routes!(config::set_threshold))
        .routes(routes!(auth::token))
        // The Python tool's clients delete with POST; the document lists the DELETE.
        .route("/api/subscription/delete", post(subscriptions::delete))
        .route("/api/openapi.json", get(docs::openapi))
}

/// The operations whose credential is in the request itself (a refresh token), rate-limited.
pub fn public() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(auth::refresh))
}

/// The operations open to anyone: health probes, the index and the docs page.
pub fn open() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health::health))
        .routes(routes!(health::ready))
        .routes(routes!(health::live))
        .route("/", get(index::index))
        .route("/docs", get(docs::page))
}

/// Every table, for the OpenAPI document.
pub fn all() -> OpenApiRouter<AppState> {
    open().merge(protected()).merge(public())
}

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
