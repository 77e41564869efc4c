//! The OpenAPI document and an offline docs page (no CDN: the page renders the document itself).

use axum::response::Html;
use axum::Json;
use utoipa::OpenApi;

use crate::openapi::ApiDoc;

/// The OpenAPI 3.1 document, generated from the handlers.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// A self-contained page listing every operation with its parameters, body and responses.
pub async fn page() -> Html<&'static str> {
    Html(include_str!("docs.html"))
}
