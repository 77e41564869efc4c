//! `GET /`: the dashboard when this process serves one (see [`crate::site`]), else a plain
//! server-rendered status page (no JavaScript).

use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};

use super::credits::credit_rows;
use crate::error::ApiError;
use crate::AppState;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The dashboard's index.html, or the plain status page.
pub async fn index(State(state): State<AppState>) -> Result<Response, ApiError> {
    if let Some(spa) = crate::site::index(&state) {
        return Ok(spa);
    }
    status_page(state).await.map(IntoResponse::into_response)
}

/// The status page. When an API key is configured it shows nothing but a pointer to the API,
/// so balances are not readable without the key.
async fn status_page(state: AppState) -> Result<Html<String>, ApiError> {
    let mut html = String::from(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"30\">\
         <title>Balance Alert</title><style>body{font:14px system-ui,sans-serif;margin:2em}\
         table{border-collapse:collapse}td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}\
         td.n{text-align:right}.ok{color:#0a7}.low{color:#c80}.critical,.failing{color:#c33}.unknown{color:#888}\
         </style></head><body><h1>Balance Alert</h1>",
    );
    if state.auth.api_key.is_some() {
        html.push_str(
            "<p>The API requires a key. See <a href=\"/docs\">/docs</a>.</p></body></html>",
        );
        return Ok(Html(html));
    }
    let credits = credit_rows(&state).await?;
    html.push_str("<table><tr><th>Project</th><th>Provider</th><th>Balance</th><th>Currency</th><th>Threshold</th><th>State</th><th>Note</th></tr>");
    for p in &credits.projects {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{:.2}</td><td class=\"{}\">{}</td><td>{}</td></tr>",
            escape(&p.project),
            escape(&p.provider),
            p.credits.map_or_else(|| "—".to_owned(), |c| format!("{c:.2}")),
            escape(&p.currency),
            p.threshold,
            escape(&p.state),
            escape(&p.state.to_uppercase()),
            escape(p.error.as_deref().unwrap_or("")),
        ));
    }
    let s = &credits.summary;
    html.push_str(&format!(
        "</table><p>{} project(s): {} ok, {} failed, {} below threshold. Last update: {}.</p>\
         <p><a href=\"/docs\">API docs</a> · <a href=\"/api/credits\">/api/credits</a> · <a href=\"/health\">/health</a></p></body></html>",
        s.total,
        s.success,
        s.failed,
        s.need_alarm,
        escape(credits.last_update.as_deref().unwrap_or("never")),
    ));
    Ok(Html(html))
}
