//! The OpenAPI document, assembled from the handlers' `#[utoipa::path]` annotations.

pub use balance_alert_core::model::wire::ErrorBody;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Balance Alert API", description = "Balances, subscriptions, history and configuration of Balance Alert."),
    paths(
        routes::health::health, routes::health::ready, routes::health::live, routes::health::features,
        routes::credits::credits, routes::credits::refresh,
        routes::subscriptions::list, routes::subscriptions::config_list, routes::subscriptions::add, routes::subscriptions::update,
        routes::subscriptions::delete, routes::subscriptions::mark_renewed, routes::subscriptions::clear_renewed,
        routes::history::balance, routes::history::sparklines, routes::history::trend, routes::history::alerts, routes::history::stats,
        routes::config::projects, routes::config::set_threshold, routes::config::record_balance,
        routes::alerts::ack, routes::alerts::snooze,
        routes::auth::token, routes::auth::refresh,
    ),
    components(schemas(ErrorBody)),
    modifiers(&Security),
)]
pub struct ApiDoc;
