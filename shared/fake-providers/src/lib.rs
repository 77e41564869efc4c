//! A fake of the providers' balance endpoints for tests, the benchmark and the demo config.
//!
//! It serves the documented response shape of each provider on its real path, and picks the
//! behaviour from the Bearer token, so one server covers every case:
//!
//! | token                 | response                                                    |
//! |-----------------------|-------------------------------------------------------------|
//! | `bal:<amount>`        | 200 with the provider's shape holding `<amount>`            |
//! | `slow:<ms>:<amount>`  | the same after `<ms>` milliseconds                          |
//! | `flaky:<n>:<amount>`  | 503 for the first `<n>` requests of this token, then 200   |
//! | `half:<amount>`       | 503 and 200 in turn: every other request fails              |
//! | `status:<code>[:…]`   | that status, with a JSON body that echoes the token         |
//! | `rows:<usd>:<cny>`    | DeepSeek's two currency rows with these amounts             |
//! | `credits:<t>:<u>`     | OpenRouter credits `t` and usage `u`, as JSON numbers as written |
//! | `retry-after:<secs>`  | 429 with `Retry-After: <secs>`                              |
//! | `html`                | 200 `text/html` (a captive portal or proxy error page)      |
//! | `wrongtype`           | 200 JSON whose amounts are of the wrong type                |
//! | `huge`                | 200 with a 2 MiB body                                       |
//! | `apierr`              | 200 whose body reports an error in its own fields           |
//! | anything else         | 401                                                         |
//!
//! A global latency (`--latency-ms`) is added to every response, for the benchmark.
//!
//! The same server is a fake alert receiver (see [`receiver`]): `POST /hooks/{name}`,
//! `GET /hooks`.

pub mod receiver;

pub use receiver::{HookMode, Received};

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

/// Which provider's shape a path belongs to.
#[derive(Debug, Clone, Copy)]
enum Shape {
    OpenRouter,
    DeepSeek,
    Moonshot,
    SiliconFlow,
}

#[derive(Default)]
struct Shared {
    latency: Duration,
    hits: Mutex<HashMap<String, u64>>,
    hooks: Arc<receiver::Hooks>,
}

/// A running fake server.
pub struct FakeServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeServer {
    /// Starts on a free loopback port with the given extra latency per response.
    pub async fn start(latency: Duration) -> std::io::Result<Self> {
        Self::bind("127.0.0.1:0".parse().expect("literal address"), latency).await
    }

    /// Starts on `addr`.
    pub async fn bind(addr: SocketAddr, latency: Duration) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            latency,
            hits: Mutex::default(),
            hooks: Arc::default(),
        });
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let app = router(shared.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("fake provider server runs until dropped");
        });
        Ok(FakeServer { addr, shared, task })
    }

    /// `http://127.0.0.1:<port>`: use as a project's `base_url`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The URL of receiver hook `name`.
    pub fn hook_url(&self, name: &str) -> String {
        format!("http://{}/hooks/{name}", self.addr)
    }

    /// Messages received by hook `name`, in arrival order.
    pub fn received(&self, name: &str) -> Vec<Received> {
        self.shared
            .hooks
            .received
            .lock()
            .expect("received lock")
            .iter()
            .filter(|r| r.hook == name)
            .cloned()
            .collect()
    }

    /// Sets how hook `name` answers from now on.
    pub fn set_hook(&self, name: &str, mode: HookMode) {
        self.shared
            .hooks
            .modes
            .lock()
            .expect("modes lock")
            .insert(name.to_owned(), mode);
    }

    /// How many requests carried this token.
    pub fn hits(&self, token: &str) -> u64 {
        self.shared
            .hits
            .lock()
            .expect("hits lock")
            .get(token)
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The fake's routes: each provider's real balance path.
fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/api/v1/credits",
            get(|s, h| respond(s, h, Shape::OpenRouter)),
        )
        .route("/user/balance", get(|s, h| respond(s, h, Shape::DeepSeek)))
        .route(
            "/v1/users/me/balance",
            get(|s, h| respond(s, h, Shape::Moonshot)),
        )
        .route(
            "/v1/user/info",
            get(|s, h| respond(s, h, Shape::SiliconFlow)),
        )
        .route("/_health", get(|| async { "ok" }))
        .route(
            "/hooks",
            get(receiver::page).with_state(shared.hooks.clone()),
        )
        .route(
            "/hooks/{name}",
            axum::routing::post(receiver::receive).with_state(shared.hooks.clone()),
        )
        .route(
            "/{*rest}",
            get(|Path(rest): Path<String>| async move {
                (StatusCode::NOT_FOUND, format!("no fake for /{rest}"))
            }),
        )
        .with_state(shared)
}

fn ok_body(shape: Shape, amount: f64) -> Value {
    match shape {
        Shape::OpenRouter => json!({"data": {"total_credits": amount + 10.0, "total_usage": 10.0}}),
        Shape::DeepSeek => json!({"is_available": true, "balance_infos": [
            {"currency": "USD", "total_balance": "0.00", "granted_balance": "0.00", "topped_up_balance": "0.00"},
            {"currency": "CNY", "total_balance": format!("{amount:.2}"), "granted_balance": "0.00",
             "topped_up_balance": format!("{amount:.2}")}
        ]}),
        Shape::Moonshot => json!({"code": 0, "data": {"available_balance": amount,
            "voucher_balance": 0.0, "cash_balance": amount}, "scode": "0x0", "status": true}),
        Shape::SiliconFlow => json!({"code": 20000, "message": "OK", "status": true, "data": {
            "id": "u1", "name": "fake", "balance": "0.00", "status": "normal",
            "chargeBalance": format!("{amount:.2}"), "totalBalance": format!("{amount:.2}")}}),
    }
}

fn wrong_type_body(shape: Shape) -> Value {
    match shape {
        Shape::OpenRouter => json!({"data": {"total_credits": "lots", "total_usage": null}}),
        Shape::DeepSeek => json!({"is_available": true, "balance_infos": {"currency": "CNY"}}),
        Shape::Moonshot => json!({"code": 0, "data": {"available_balance": [1, 2]}}),
        Shape::SiliconFlow => json!({"code": 20000, "data": {"totalBalance": {"v": 1}}}),
    }
}

fn api_error_body(shape: Shape) -> Value {
    match shape {
        Shape::SiliconFlow => {
            json!({"code": 30001, "message": "Unauthorized", "status": false, "data": null})
        }
        _ => json!({"error": {"message": "account suspended", "code": 4031}}),
    }
}

async fn respond(State(shared): State<Arc<Shared>>, headers: HeaderMap, shape: Shape) -> Response {
    if !shared.latency.is_zero() {
        tokio::time::sleep(shared.latency).await;
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .to_owned();
    let count = {
        let mut hits = shared.hits.lock().expect("hits lock");
        let n = hits.entry(token.clone()).or_default();
        *n += 1;
        *n
    };
    let parts: Vec<&str> = token.split(':').collect();
    let amount = |s: &str| s.parse::<f64>().ok();
    match parts.as_slice() {
        ["bal", a] if amount(a).is_some() => {
            Json(ok_body(shape, amount(a).unwrap_or(0.0))).into_response()
        }
        ["slow", ms, a] if ms.parse::<u64>().is_ok() && amount(a).is_some() => {
            tokio::time::sleep(Duration::from_millis(ms.parse().unwrap_or(0))).await;
            Json(ok_body(shape, amount(a).unwrap_or(0.0))).into_response()
        }
        ["half", a] if amount(a).is_some() => {
            if count % 2 == 1 {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(json!({"error": "try again"})),
                )
                    .into_response()
            } else {
                Json(ok_body(shape, amount(a).unwrap_or(0.0))).into_response()
            }
        }
        ["flaky", n, a] if n.parse::<u64>().is_ok() && amount(a).is_some() => {
            if count <= n.parse::<u64>().unwrap_or(0) {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(json!({"error": "try again"})),
                )
                    .into_response()
            } else {
                Json(ok_body(shape, amount(a).unwrap_or(0.0))).into_response()
            }
        }
        ["rows", usd, cny] if amount(usd).is_some() && amount(cny).is_some() => {
            Json(json!({"is_available": true, "balance_infos": [
                {"currency": "USD", "total_balance": usd, "granted_balance": "0.00", "topped_up_balance": usd},
                {"currency": "CNY", "total_balance": cny, "granted_balance": "0.00", "topped_up_balance": cny}
            ]}))
            .into_response()
        }
        ["credits", total, usage] => {
            let number = |s: &str| serde_json::from_str::<Value>(s).unwrap_or(Value::Null);
            Json(json!({"data": {"total_credits": number(total), "total_usage": number(usage)}}))
                .into_response()
        }
        ["status", code, ..] => {
            let status = code
                .parse()
                .ok()
                .and_then(|c| StatusCode::from_u16(c).ok())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            // Real providers do echo keys in error bodies; the client must not pass them on.
            (
                status,
                Json(json!({"error": {"message": format!("invalid api key {token}")}})),
            )
                .into_response()
        }
        ["retry-after", secs] => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, secs.to_string())],
            Json(json!({"error": "rate limited"})),
        )
            .into_response(),
        ["html"] => (
            [(header::CONTENT_TYPE, "text/html")],
            "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>",
        )
            .into_response(),
        ["wrongtype"] => Json(wrong_type_body(shape)).into_response(),
        ["huge"] => {
            let filler = "x".repeat(2 * 1024 * 1024);
            Json(json!({"data": {"padding": filler}})).into_response()
        }
        ["apierr"] => Json(api_error_body(shape)).into_response(),
        _ => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid token"})),
        )
            .into_response(),
    }
}
