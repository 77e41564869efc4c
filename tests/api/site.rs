//! The dashboard's files through the router: index.html at `/` and for deep links, hashed
//! assets cached for a year, `.wasm` as `application/wasm`, and `/api` left to the API. An
//! in-memory site stands in for the embedded `dist/`, so no SPA build is needed here.

use std::borrow::Cow;
use std::sync::Arc;

use axum::http::{header, Method, StatusCode};
use balance_alert_api::{app, Site};
use tower::ServiceExt;

use super::{harness, request};

struct MemSite;

impl Site for MemSite {
    fn get(&self, path: &str) -> Option<Cow<'static, [u8]>> {
        Some(Cow::Borrowed(match path {
            "index.html" => b"<!DOCTYPE html><title>spa</title>",
            "config.json" => br#"{"api_base": ""}"#,
            "assets/app-0123abcd.wasm" => b"\0asm\x01\0\0\0",
            ".gitkeep" => b"",
            _ => return None,
        }))
    }
}

/// GET `uri`: status, content type, cache control, body as text.
async fn fetch(
    router: &axum::Router,
    method: Method,
    uri: &str,
) -> (StatusCode, String, String, String) {
    let response = router
        .clone()
        .oneshot(request(method, uri, None))
        .await
        .expect("infallible router");
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (status, ctype, cache) = (
        response.status(),
        header(header::CONTENT_TYPE),
        header(header::CACHE_CONTROL),
    );
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (
        status,
        ctype,
        cache,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

#[tokio::test]
async fn the_dashboard_replaces_the_status_page_and_serves_deep_links() {
    let h = harness().await;
    let router = app(h.state.clone().with_site(Arc::new(MemSite)));
    for uri in [
        "/",
        "/projects/0123456789abcdef0123456789abcdef",
        "/settings",
    ] {
        let (status, ctype, cache, body) = fetch(&router, Method::GET, uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert!(
            ctype.starts_with("text/html") && body.contains("<title>spa</title>"),
            "{uri}: {ctype} {body}"
        );
        assert_eq!(cache, "no-cache", "{uri}: index.html must be revalidated");
    }
    let (status, _, cache, body) = fetch(&router, Method::GET, "/config.json").await;
    assert_eq!((status, cache.as_str()), (StatusCode::OK, "no-cache"));
    assert!(body.contains("api_base"));
}

#[tokio::test]
async fn hashed_assets_are_cached_for_a_year_and_wasm_has_its_type() {
    let h = harness().await;
    let router = app(h.state.clone().with_site(Arc::new(MemSite)));
    let (status, ctype, cache, _) = fetch(&router, Method::GET, "/assets/app-0123abcd.wasm").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ctype, "application/wasm");
    assert_eq!(cache, "public, max-age=31536000, immutable");
    // A missing asset is a 404, not index.html served as JavaScript.
    let (status, ctype, _, _) = fetch(&router, Method::GET, "/assets/app-gone.js").await;
    assert_eq!(
        (status, ctype.as_str()),
        (StatusCode::NOT_FOUND, "application/json")
    );
    let (status, _, _, _) = fetch(&router, Method::GET, "/.gitkeep").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "dotfiles are never served");
}

#[tokio::test]
async fn the_api_keeps_its_own_answers_beside_the_dashboard() {
    let h = harness().await;
    let router = app(h.state.clone().with_site(Arc::new(MemSite)));
    let (status, ctype, _, body) = fetch(&router, Method::GET, "/api/no-such-thing").await;
    assert_eq!(
        (status, ctype.as_str()),
        (StatusCode::NOT_FOUND, "application/json"),
        "{body}"
    );
    let (status, ctype, _, _) = fetch(&router, Method::GET, "/api/credits").await;
    assert_eq!(
        (status, ctype.as_str()),
        (StatusCode::OK, "application/json")
    );
    // Other methods on app paths are not the dashboard's.
    let (status, ctype, _, _) = fetch(&router, Method::POST, "/settings").await;
    assert_eq!(
        (status, ctype.as_str()),
        (StatusCode::NOT_FOUND, "application/json")
    );
}

#[tokio::test]
async fn without_a_dashboard_the_plain_status_page_stays() {
    let h = harness().await;
    let (status, ctype, _, body) = fetch(&app(h.state.clone()), Method::GET, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        ctype.starts_with("text/html") && body.contains("<table>"),
        "{body}"
    );
    let (status, _, _, _) = fetch(&app(h.state.clone()), Method::GET, "/settings").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
