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
//! | `orkey:<left>`        | OpenRouter: `/credits` 403 (not a management key), `/key` limit 100 with `<left>` remaining |
//! | `ornolimit:<usage>`   | OpenRouter: `/credits` 403, `/key` without a limit, `<usage>` used |
//! | `gone`                | 410 Gone (a retired endpoint), for every provider           |
//! | `legacy:<percent>`    | MiniMax: `/v1/token_plan/remains` 404, the older coding-plan path answers |
//! | `credit:<cash>:<line>`| Novita / Aliyun / Volcengine: available = cash + credit line |
//! | `unavailable:<amount>`| DeepSeek: `<amount>` CNY with `is_available: false`         |
//! | `creditplan:<used>`   | Zhipu: a credit-based plan (`CREDIT_LIMIT` windows, `<used>` percent) |
//! | anything else         | 401                                                         |
//!
//! Where the token travels depends on the provider, as its client sends its key: Bearer for
//! most; `?key=` for wxrank; raw `Authorization` for zhipu; `x-api-key` for anthropic; the
//! client secret of the token request for azure (the budget then takes the issued token); for
//! the signed APIs (volcengine, aliyun) the access key id, with `_` for `:` (`bal_77.01`), and
//! the request must carry its signature parts. Budget adapters (openai, anthropic, azure) read
//! `<amount>` as the spend (two pages for the cost reports); quota windows (zhipu, minimax) as
//! percent used / left.
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

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

/// Which provider's shape a path belongs to.
#[derive(Debug, Clone, Copy)]
enum Shape {
    OpenRouter,
    /// OpenRouter's `/api/v1/key` (the key's own limit).
    OpenRouterKey,
    DeepSeek,
    Moonshot,
    SiliconFlow,
    UniApi,
    TikHub,
    Novita,
    /// Key in the `key` query parameter.
    WxRank,
    /// Signed: the access key id (`:` written as `_`) in `Authorization: HMAC-SHA256
    /// Credential=<AK>/…`.
    Volcengine,
    /// Signed: the access key id (`:` written as `_`) in the `AccessKeyId` query parameter.
    Aliyun,
    /// Costs in two pages (`page=p2` is the second); the token's amount is the total spend.
    OpenAi,
    /// Cents in two pages, key in `x-api-key`.
    Anthropic,
    /// The budget, with the token issued by `/{tenant}/oauth2/v2.0/token`.
    AzureBudget,
    /// Raw key in `Authorization` (no Bearer).
    Zhipu,
    MiniMax,
    /// MiniMax's Token Plan path: under `data`, `status_code` "0", a video lane first.
    MiniMaxTokenPlan,
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
            get(|s, h, q| respond(s, h, q, Shape::OpenRouter)),
        )
        .route(
            "/user/balance",
            get(|s, h, q| respond(s, h, q, Shape::DeepSeek)),
        )
        .route(
            "/v1/users/me/balance",
            get(|s, h, q| respond(s, h, q, Shape::Moonshot)),
        )
        .route(
            "/v1/user/info",
            get(|s, h, q| respond(s, h, q, Shape::SiliconFlow)),
        )
        .route(
            "/api/v1/key",
            get(|s, h, q| respond(s, h, q, Shape::OpenRouterKey)),
        )
        .route(
            "/v1/billing/usage",
            get(|s, h, q| respond(s, h, q, Shape::UniApi)),
        )
        .route(
            "/api/v1/tikhub/user/get_user_info",
            get(|s, h, q| respond(s, h, q, Shape::TikHub)),
        )
        .route(
            "/openapi/v1/billing/balance/detail",
            get(|s, h, q| respond(s, h, q, Shape::Novita)),
        )
        .route(
            "/weixin/score",
            get(|s, h, q| respond(s, h, q, Shape::WxRank)),
        )
        .route(
            "/",
            get(|s, h, q: Query<HashMap<String, String>>| async move {
                let shape = if q.contains_key("AccessKeyId") {
                    Shape::Aliyun
                } else {
                    Shape::Volcengine
                };
                respond(s, h, q, shape).await
            }),
        )
        .route(
            "/v1/organization/costs",
            get(|s, h, q| respond(s, h, q, Shape::OpenAi)),
        )
        .route(
            "/v1/organizations/cost_report",
            get(|s, h, q| respond(s, h, q, Shape::Anthropic)),
        )
        .route(
            "/{tenant}/oauth2/v2.0/token",
            axum::routing::post(azure_token),
        )
        .route(
            "/subscriptions/{sub}/providers/Microsoft.Consumption/budgets/{name}",
            get(|s, h, q| respond(s, h, q, Shape::AzureBudget)),
        )
        .route(
            "/api/monitor/usage/quota/limit",
            get(|s, h, q| respond(s, h, q, Shape::Zhipu)),
        )
        .route(
            "/v1/api/openplatform/coding_plan/remains",
            get(|s, h, q| respond(s, h, q, Shape::MiniMax)),
        )
        .route(
            "/v1/token_plan/remains",
            get(|s, h, q| respond(s, h, q, Shape::MiniMaxTokenPlan)),
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
        .fallback(|uri: axum::http::Uri| async move {
            (StatusCode::NOT_FOUND, format!("no fake for {}", uri.path()))
        })
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
        Shape::OpenRouterKey => json!({"data": {"label": "sk-or-v1-fak...e00", "limit": null,
            "limit_remaining": null, "usage": 10.0, "is_free_tier": false}}),
        Shape::UniApi => {
            json!({"data": {"balance": amount, "used": 1.5, "cache_used": 0}, "success": true})
        }
        Shape::TikHub => {
            json!({"code": 200, "user_data": {"email": "fake@example.com", "balance": amount,
            "free_credit": 5.0, "is_active": true}})
        }
        Shape::Novita => {
            json!({"availableBalance": format!("{}", (amount * 10_000.0).round() as i64),
            "cashBalance": "0", "creditLimit": "0", "pendingCharges": "0", "outstandingInvoices": "0"})
        }
        Shape::WxRank => json!({"code": 0, "msg": format!("剩余{}积分", amount as i64)}),
        Shape::Volcengine => {
            json!({"ResponseMetadata": {"RequestId": "fake", "Action": "QueryBalanceAcct",
            "Version": "2022-01-01", "Service": "billing"},
            "Result": {"AccountID": 1, "AvailableBalance": format!("{amount:.2}"), "CashBalance": format!("{amount:.2}")}})
        }
        Shape::Aliyun => {
            json!({"Code": "200", "Success": true, "Message": "success", "RequestId": "fake",
            "Data": {"AvailableAmount": thousands(amount), "Currency": "CNY", "AvailableCashAmount": "0.00"}})
        }
        Shape::OpenAi => {
            json!({"object": "page", "data": [{"object": "bucket", "start_time": 0, "end_time": 86400,
            "results": [{"object": "organization.costs.result", "amount": {"value": amount / 2.0, "currency": "usd"}}]}],
            "has_more": true, "next_page": "p2"})
        }
        Shape::Anthropic => {
            json!({"data": [{"starting_at": "2026-11-01T00:00:00Z", "ending_at": "2026-11-02T00:00:00Z",
            "results": [{"currency": "USD", "amount": format!("{:.2}", amount * 50.0)}]}],
            "has_more": true, "next_page": "p2"})
        }
        Shape::AzureBudget => {
            json!({"name": "fake", "properties": {"category": "Cost", "amount": 100.0,
            "timeGrain": "Monthly", "currentSpend": {"amount": amount, "unit": "USD"}}})
        }
        Shape::Zhipu => {
            json!({"code": 200, "msg": "Operation successful", "success": true, "data": {"limits": [
            {"type": "TOKENS_LIMIT", "unit": 3, "number": 5, "percentage": amount, "nextResetTime": 1_893_456_000_000_i64},
            {"type": "TOKENS_LIMIT", "unit": 6, "number": 1, "percentage": amount / 2.0, "nextResetTime": 1_893_800_000_000_i64}]}})
        }
        Shape::MiniMax => {
            json!({"base_resp": {"status_code": 0, "status_msg": "success"}, "model_remains": [{
            "model_name": "MiniMax-M*", "end_time": 1_893_456_000_000_i64, "weekly_end_time": 1_893_800_000_000_i64,
            "current_interval_total_count": 1000, "current_interval_usage_count": (amount * 10.0) as i64,
            "current_weekly_total_count": 10000, "current_weekly_usage_count": (amount * 50.0) as i64}]})
        }
        Shape::MiniMaxTokenPlan => {
            json!({"base_resp": {"status_code": "0", "status_msg": "success"}, "data": {
            "current_subscribe_title": "Token Plan Plus", "model_remains": [
            {"model_name": "video", "current_interval_total_count": 100, "current_interval_usage_count": 100,
             "current_interval_remaining_percent": 100, "end_time": 1_893_500_000_000_i64},
            {"model_name": "general", "current_interval_total_count": 0, "current_interval_usage_count": 0,
             "current_interval_remaining_percent": format!("{amount}"), "end_time": 1_893_456_000_000_i64,
             "current_weekly_total_count": 0, "current_weekly_usage_count": 0,
             "current_weekly_remaining_percent": format!("{}", amount / 2.0), "weekly_end_time": 1_893_800_000_000_i64}]}})
        }
    }
}

/// A balance whose available figure includes a credit line (`credit:<cash>:<line>`).
fn credit_line_body(shape: Shape, cash: f64, line: f64) -> Option<Value> {
    let available = cash + line;
    Some(match shape {
        Shape::Novita => {
            json!({"availableBalance": format!("{}", (available * 10_000.0).round() as i64),
            "cashBalance": format!("{}", (cash * 10_000.0).round() as i64),
            "creditLimit": format!("{}", (line * 10_000.0).round() as i64),
            "pendingCharges": "0", "outstandingInvoices": "0"})
        }
        Shape::Aliyun => {
            json!({"Code": "200", "Success": true, "Message": "success", "RequestId": "fake",
            "Data": {"AvailableAmount": thousands(available), "AvailableCashAmount": thousands(cash),
                     "CreditAmount": thousands(line), "MybankCreditAmount": "0.00", "Currency": "CNY"}})
        }
        Shape::Volcengine => {
            json!({"ResponseMetadata": {"RequestId": "fake", "Action": "QueryBalanceAcct",
            "Version": "2022-01-01", "Service": "billing"},
            "Result": {"AccountID": 1, "AvailableBalance": format!("{available:.2}"), "CashBalance": format!("{cash:.2}"),
                       "CreditLimit": format!("{line:.2}"), "FreezeAmount": "0.00", "ArrearsBalance": "0.00"}})
        }
        _ => return None,
    })
}

/// `12345.6` → `"12,345.60"`, as a console might print it.
fn thousands(amount: f64) -> String {
    let text = format!("{:.2}", amount.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, "00"));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{}{grouped}.{frac}", if amount < 0.0 { "-" } else { "" })
}

/// The second page of the paginated cost reports (the other half of the amount).
fn last_page(shape: Shape, amount: f64) -> Value {
    match shape {
        Shape::OpenAi => {
            json!({"object": "page", "data": [{"object": "bucket", "start_time": 86400, "end_time": 172800,
            "results": [{"object": "organization.costs.result", "amount": {"value": amount / 2.0, "currency": "usd"}}]}],
            "has_more": false, "next_page": null})
        }
        _ => {
            json!({"data": [{"starting_at": "2026-11-02T00:00:00Z", "ending_at": "2026-11-03T00:00:00Z",
            "results": [{"currency": "USD", "amount": format!("{:.2}", amount * 50.0)}]}],
            "has_more": false, "next_page": null})
        }
    }
}

fn wrong_type_body(shape: Shape) -> Value {
    match shape {
        Shape::UniApi => json!({"success": true, "data": {"balance": "lots"}}),
        Shape::Volcengine => json!({"Result": {"AvailableBalance": {"v": 1}}}),
        Shape::Aliyun => json!({"Code": "200", "Data": {"AvailableAmount": "n/a"}}),
        Shape::Zhipu => json!({"code": 200, "success": true, "data": {"limits": "none"}}),
        Shape::MiniMax => {
            json!({"base_resp": {"status_code": 0}, "model_remains": [{"current_interval_total_count": "x"}]})
        }
        Shape::OpenRouter => json!({"data": {"total_credits": "lots", "total_usage": null}}),
        Shape::DeepSeek => json!({"is_available": true, "balance_infos": {"currency": "CNY"}}),
        Shape::Moonshot => json!({"code": 0, "data": {"available_balance": [1, 2]}}),
        Shape::SiliconFlow => json!({"code": 20000, "data": {"totalBalance": {"v": 1}}}),
        _ => {
            json!({"data": {"balance": [1, 2], "total_credits": "lots"}, "availableBalance": null})
        }
    }
}

fn api_error_body(shape: Shape) -> Value {
    match shape {
        Shape::SiliconFlow => {
            json!({"code": 30001, "message": "Unauthorized", "status": false, "data": null})
        }
        Shape::UniApi => json!({"success": false, "message": "account suspended"}),
        Shape::WxRank => json!({"code": 1000, "msg": "积分不足"}),
        Shape::Volcengine => volc_error("AccountSuspended", "account suspended"),
        Shape::Aliyun => {
            json!({"Code": "NotApplicable", "Message": "account suspended", "RequestId": "fake"})
        }
        Shape::Zhipu => {
            json!({"code": 1001, "msg": "Authorization Token Missing", "success": false})
        }
        Shape::MiniMax | Shape::MiniMaxTokenPlan => {
            json!({"base_resp": {"status_code": 1004, "status_msg": "account suspended"}})
        }
        _ => json!({"error": {"message": "account suspended", "code": 4031}}),
    }
}

fn volc_error(code: &str, message: &str) -> Value {
    json!({"ResponseMetadata": {"RequestId": "fake", "Action": "QueryBalanceAcct", "Version": "2022-01-01",
        "Service": "billing", "Error": {"CodeN": 100010, "Code": code, "Message": message}}})
}

/// Where each shape's client puts its key, and whether the request is well-formed for it
/// (signed requests carry their signature parts; Zhipu's key has no `Bearer`).
fn token_of(
    shape: Shape,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Result<String, (StatusCode, Value)> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let bearer = || {
        header("authorization")
            .strip_prefix("Bearer ")
            .unwrap_or("")
            .to_owned()
    };
    match shape {
        Shape::WxRank => Ok(query.get("key").cloned().unwrap_or_default()),
        Shape::Volcengine => {
            let auth = header("authorization");
            let ak = auth
                .strip_prefix("HMAC-SHA256 Credential=")
                .and_then(|rest| rest.split('/').next())
                .filter(|_| auth.contains("Signature=") && !header("x-date").is_empty());
            match ak {
                Some(ak) => Ok(ak.replace('_', ":")),
                None => Err((
                    StatusCode::UNAUTHORIZED,
                    volc_error("InvalidAuthorization", "Invalid 'Authorization' header"),
                )),
            }
        }
        Shape::Aliyun => {
            let signed = [
                "Signature",
                "SignatureNonce",
                "Timestamp",
                "SignatureMethod",
            ]
            .iter()
            .all(|k| query.contains_key(*k));
            match query.get("AccessKeyId").filter(|_| signed) {
                Some(ak) => Ok(ak.replace('_', ":")),
                None => Err((
                    StatusCode::BAD_REQUEST,
                    json!({"Code": "MissingSignature",
                    "Message": "Signature is mandatory for this action.", "RequestId": "fake"}),
                )),
            }
        }
        Shape::Anthropic if header("anthropic-version").is_empty() => Err((
            StatusCode::BAD_REQUEST,
            json!({"type": "error", "error": {"type": "invalid_request_error",
                "message": "anthropic-version: header is required"}}),
        )),
        Shape::Anthropic => Ok(header("x-api-key").to_owned()),
        Shape::Zhipu => Ok(header("authorization").to_owned()),
        Shape::AzureBudget => Ok(bearer().strip_prefix("az|").unwrap_or("").to_owned()),
        _ => Ok(bearer()),
    }
}

/// Azure's client-credentials token endpoint: the client secret is the behaviour token.
async fn azure_token(body: String) -> Response {
    let form: HashMap<String, String> = body
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), percent_decode(v)))
        .collect();
    let secret = form.get("client_secret").cloned().unwrap_or_default();
    let well_formed = form.get("grant_type").map(String::as_str) == Some("client_credentials")
        && form.get("scope").is_some_and(|s| s.ends_with("/.default"))
        && form.contains_key("client_id");
    if !well_formed || secret.starts_with("status:") || secret.is_empty() {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: fake"}))).into_response();
    }
    Json(
        json!({"token_type": "Bearer", "expires_in": 3599, "access_token": format!("az|{secret}")}),
    )
    .into_response()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.replace('+', " ").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&String::from_utf8_lossy(&bytes[i + 1..i + 3]), 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The tokens for what the providers answer today (retired endpoints, MiniMax's two paths,
/// credit lines, DeepSeek's `is_available`, Zhipu's credit plans); None for the others.
fn current_api(shape: Shape, parts: &[&str]) -> Option<Response> {
    let amount = |s: &str| s.parse::<f64>().ok();
    Some(match (shape, parts) {
        (_, ["gone"]) => (
            StatusCode::GONE,
            Json(json!({"code": 410, "message": "this API has been discontinued"})),
        )
            .into_response(),
        (Shape::MiniMaxTokenPlan, ["legacy", _]) => {
            (StatusCode::NOT_FOUND, "404 page not found").into_response()
        }
        (Shape::MiniMax, ["legacy", a]) => Json(ok_body(shape, amount(a)?)).into_response(),
        (_, ["credit", cash, line]) => {
            Json(credit_line_body(shape, amount(cash)?, amount(line)?)?).into_response()
        }
        (Shape::DeepSeek, ["unavailable", a]) => {
            let a = amount(a)?;
            Json(json!({"is_available": false, "balance_infos": [
                {"currency": "CNY", "total_balance": format!("{a:.2}"), "granted_balance": "0.00",
                 "topped_up_balance": format!("{a:.2}")}]}))
            .into_response()
        }
        (Shape::Zhipu, ["creditplan", used]) => {
            let used = amount(used)?;
            Json(json!({"code": 200, "msg": "success", "success": true, "data": {"level": "lite", "limits": [
                {"type": "CREDIT_LIMIT", "unit": 3, "number": 5, "percentage": used, "nextResetTime": 1_893_456_000_000_i64},
                {"type": "CREDIT_LIMIT", "unit": 6, "number": 1, "percentage": used / 2.0, "nextResetTime": 1_893_800_000_000_i64},
                {"type": "TIME_LIMIT", "unit": 5, "number": 1, "percentage": 10}]}}))
            .into_response()
        }
        _ => return None,
    })
}

async fn respond(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    shape: Shape,
) -> Response {
    if !shared.latency.is_zero() {
        tokio::time::sleep(shared.latency).await;
    }
    let token = match token_of(shape, &headers, &query) {
        Ok(t) => t,
        Err(refused) => return (refused.0, Json(refused.1)).into_response(),
    };
    // OpenRouter keys without management rights: /credits is 403, /key has the key's limit.
    if let Some(rest) = token
        .strip_prefix("orkey:")
        .or_else(|| token.strip_prefix("ornolimit:"))
    {
        let limited = token.starts_with("orkey:");
        let n = rest.parse::<f64>().unwrap_or(0.0);
        return match shape {
            Shape::OpenRouterKey if limited => Json(json!({"data": {"limit": 100.0,
                "limit_remaining": n, "usage": 100.0 - n, "is_free_tier": false}}))
            .into_response(),
            Shape::OpenRouterKey => Json(json!({"data": {"limit": null, "limit_remaining": null,
                "usage": n, "is_free_tier": false}}))
            .into_response(),
            _ => (
                StatusCode::FORBIDDEN,
                Json(json!({"error": {"code": 403,
                "message": "Only management keys can fetch credits"}})),
            )
                .into_response(),
        };
    }
    // Any other key's own limit: none. Not counted in `hits`, which count balance requests.
    if matches!(shape, Shape::OpenRouterKey) {
        return Json(ok_body(shape, 0.0)).into_response();
    }
    // Second pages of the paginated cost reports.
    if query.get("page").map(String::as_str) == Some("p2") {
        if let ["bal", a] = token.split(':').collect::<Vec<_>>().as_slice() {
            if let Ok(a) = a.parse::<f64>() {
                return Json(last_page(shape, a)).into_response();
            }
        }
    }
    let count = {
        let mut hits = shared.hits.lock().expect("hits lock");
        let n = hits.entry(token.clone()).or_default();
        *n += 1;
        *n
    };
    let parts: Vec<&str> = token.split(':').collect();
    let amount = |s: &str| s.parse::<f64>().ok();
    if let Some(response) = current_api(shape, &parts) {
        return response;
    }
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
