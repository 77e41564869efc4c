//! The dashboard's static files: the single-page app at `/`, its hashed assets, and
//! index.html for deep links (`/projects/{id}`), so a reload or a shared link opens the page.
//!
//! The files come from a [`Site`] the caller supplies (the `balance-alert` binary embeds
//! `dist/`); the API Lambda supplies none (S3 and CloudFront serve the SPA there), and then
//! `/` stays the plain status page.

use std::borrow::Cow;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::AppState;

/// Where the dashboard's files come from, by path relative to the site root
/// (`index.html`, `assets/app-0123abcd.wasm`).
pub trait Site: Send + Sync + 'static {
    /// The file's bytes, or None.
    fn get(&self, path: &str) -> Option<Cow<'static, [u8]>>;
}

/// Hashed assets never change under their name: cache them for a year. Everything else
/// (index.html, config.json) is revalidated on each load, so a new build shows at once.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";

/// The content type of a dashboard file, by extension.
pub fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn file(path: &str, body: Cow<'static, [u8]>) -> Response {
    let cache = if path.starts_with("assets/") {
        IMMUTABLE
    } else {
        NO_CACHE
    };
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(path)),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        Body::from(body),
    )
        .into_response()
}

/// The SPA's index.html, when this process serves a dashboard.
pub fn index(state: &AppState) -> Option<Response> {
    let site = state.site.as_ref()?;
    site.get("index.html").map(|b| file("index.html", b))
}

/// Fallback for every path no route matched: a dashboard file, index.html for a client
/// route, or the API's JSON 404 (always under `/api`, and for other methods).
pub async fn fallback(State(state): State<AppState>, method: Method, uri: Uri) -> Response {
    let path = uri.path();
    let api = path == "/api" || path.starts_with("/api/");
    let site = state.site.as_ref();
    let (Some(site), false, true) = (site, api, method == Method::GET || method == Method::HEAD)
    else {
        return crate::not_found().await.into_response();
    };
    let rel = path.trim_start_matches('/');
    // No dotfiles, no climbing out (the embedded set has neither, but say so plainly).
    if rel.split('/').any(|seg| seg.starts_with('.')) {
        return crate::not_found().await.into_response();
    }
    if let Some(body) = site.get(rel) {
        return file(rel, body);
    }
    // A missing file (a stale hashed asset, a typo) is a 404; a path without an extension is
    // one of the app's own routes, which index.html renders.
    let last = rel.rsplit('/').next().unwrap_or_default();
    if last.contains('.') {
        return ApiError::NotFound(format!("no file {path} in this dashboard build"))
            .into_response();
    }
    match index(&state) {
        Some(page) => page,
        None => crate::not_found().await.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wasm_is_served_as_application_wasm() {
        assert_eq!(content_type("assets/app-0123.wasm"), "application/wasm");
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(
            content_type("assets/app-0123.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("LICENSE"), "application/octet-stream");
    }
}
