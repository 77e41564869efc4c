//! The OpenAPI document's frame: its title, security schemes and shared schemas. The paths come
//! from the route tables ([`crate::routes`]), assembled by [`crate::routes::docs::document`].

pub use balance_alert_core::model::wire::ErrorBody;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

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
    components(schemas(ErrorBody)),
    modifiers(&Security),
)]
pub struct ApiDoc;
