//! The OpenAPI document and an offline docs page (no CDN: the page renders the document itself).

use std::sync::OnceLock;

use axum::response::Html;
use axum::Json;
use utoipa::OpenApi;

use crate::openapi::ApiDoc;

/// The OpenAPI 3.1 document: the frame ([`ApiDoc`]) with every operation of the route tables.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let (_, paths) = super::all().split_for_parts();
        ApiDoc::openapi().merge_from(paths)
    })
}

/// The OpenAPI 3.1 document, generated from the handlers.
pub async fn openapi() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(document())
}

/// A self-contained page listing every operation with its parameters, body and responses.
pub async fn page() -> Html<&'static str> {
    Html(include_str!("docs.html"))
}
