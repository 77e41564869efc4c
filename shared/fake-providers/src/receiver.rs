//! A fake alert receiver on the same server: `POST /hooks/{name}` records each message (path,
//! query, headers, body) and answers like a chat robot that accepted it
//! (`{"code":0,"errcode":0,"ok":true}`); `GET /hooks` lists what arrived, newest first (the
//! demo's "receiver page"). Tests script a hook's behaviour with [`HookMode`]; a hook whose
//! name starts with `half` fails every other request (503) without scripting.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// One message as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub hook: String,
    pub query: Option<String>,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    /// Milliseconds since the server started.
    pub at_ms: u128,
    /// Unix seconds of its arrival (to count arrivals per UTC minute).
    pub at_unix: i64,
}

impl Received {
    /// The body as JSON (Null when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// How a hook answers.
#[derive(Debug, Clone, PartialEq)]
pub enum HookMode {
    /// 200 with a success body, after `delay`.
    Ok { delay: Duration },
    /// This HTTP status (with a small JSON body); the message is not recorded.
    Status(u16),
    /// 429 with `Retry-After: secs`; not recorded.
    RetryAfter(u64),
}

impl Default for HookMode {
    fn default() -> Self {
        HookMode::Ok {
            delay: Duration::ZERO,
        }
    }
}

/// The receiver's memory.
#[derive(Default)]
pub(crate) struct Hooks {
    pub(crate) received: Mutex<Vec<Received>>,
    pub(crate) modes: Mutex<HashMap<String, HookMode>>,
    /// Requests per hook (for `half…` hooks).
    pub(crate) tries: Mutex<HashMap<String, u64>>,
    pub(crate) started: Mutex<Option<std::time::Instant>>,
}

impl Hooks {
    fn elapsed_ms(&self) -> u128 {
        let mut s = self.started.lock().expect("started lock");
        s.get_or_insert_with(std::time::Instant::now)
            .elapsed()
            .as_millis()
    }
}

pub(crate) async fn receive(
    State(hooks): State<Arc<Hooks>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let scripted = hooks.modes.lock().expect("modes lock").get(&name).cloned();
    // A hook named `half…` (from outside, e.g. the demo server) fails every other request.
    let mode = scripted.unwrap_or_else(|| {
        let mut tries = hooks.tries.lock().expect("tries lock");
        let n = tries.entry(name.clone()).or_insert(0);
        *n += 1;
        if name.starts_with("half") && *n % 2 == 1 {
            HookMode::Status(503)
        } else {
            HookMode::default()
        }
    });
    match mode {
        HookMode::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (
                status,
                Json(json!({"code": code, "msg": "scripted failure"})),
            )
                .into_response();
        }
        HookMode::RetryAfter(secs) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", secs.to_string())],
                Json(json!({"retry_after": secs})),
            )
                .into_response();
        }
        HookMode::Ok { delay } => {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
        }
    }
    let at_ms = hooks.elapsed_ms();
    let headers = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    hooks
        .received
        .lock()
        .expect("received lock")
        .push(Received {
            hook: name,
            query,
            headers,
            body: body.to_vec(),
            at_ms,
            at_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64),
        });
    // Accepted, in every robot's dialect (Feishu `code`, DingTalk/WeCom `errcode`, Telegram
    // `ok`).
    Json(json!({"code": 0, "errcode": 0, "ok": true, "msg": "ok", "StatusCode": 0})).into_response()
}

/// `GET /hooks`: what arrived, newest first, as a small HTML page.
pub(crate) async fn page(State(hooks): State<Arc<Hooks>>) -> Html<String> {
    let received = hooks.received.lock().expect("received lock").clone();
    let mut html = String::from(
        "<!doctype html><meta charset=utf-8><meta http-equiv=refresh content=5>\
         <title>Alert receiver</title><h1>Messages received</h1>",
    );
    if received.is_empty() {
        html.push_str(
            "<p>Nothing yet: alerts appear here as they are delivered (refreshes every 5 s).</p>",
        );
    }
    for r in received.iter().rev() {
        let body = serde_json::from_slice::<Value>(&r.body)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_else(|| r.text());
        html.push_str(&format!(
            "<h3>/hooks/{} at +{} ms</h3><pre>{}</pre>",
            escape(&r.hook),
            r.at_ms,
            escape(&body)
        ));
    }
    Html(html)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
