//! One typed function per API call the dashboard makes: the path, query and body are
//! spelled here and nowhere else.

use balance_alert_model::wire::{
    AlertHistory, Credits, EditResponse, Sparklines, SubscriptionInput, SubscriptionList, Trend,
};
use leptos::prelude::GetUntracked;
use serde::Deserialize;
use serde_json::json;

use super::http::{self, enc, Method};
use super::ApiErr;
use crate::ctx::Ctx;

/// `GET /api/credits`: every project's latest reading.
pub async fn credits(ctx: &Ctx) -> Result<Credits, ApiErr> {
    http::get(ctx, "/api/credits").await
}

/// `GET /api/credits` only when it changed since the last call (`Ok(None)`: unchanged, 304).
pub async fn credits_if_changed(ctx: &Ctx) -> Result<Option<Credits>, ApiErr> {
    http::get_if_changed(ctx, "/api/credits").await
}

/// `GET /api/history/sparklines`: the week's bounded series and forecast of every project.
pub async fn week_sparklines(ctx: &Ctx) -> Result<Sparklines, ApiErr> {
    http::get(ctx, "/api/history/sparklines?days=7&points=48").await
}

/// `GET /api/history/trend/{id}`: project `id`'s trend over the last `days`.
pub async fn trend(ctx: &Ctx, id: &str, days: u32) -> Result<Trend, ApiErr> {
    http::get(ctx, &format!("/api/history/trend/{}?days={days}", enc(id))).await
}

/// `GET /api/history/alerts`: up to `limit` alerts of the last `days` (of one project when
/// `project_id` is given), their messages in the reader's language.
pub async fn alert_history(
    ctx: &Ctx,
    project_id: Option<&str>,
    days: u32,
    limit: u32,
) -> Result<AlertHistory, ApiErr> {
    // Messages in the viewer's language (the server renders them from the stored facts).
    let lang = ctx.lang.get_untracked().code();
    let mut path = format!("/api/history/alerts?days={days}&limit={limit}&lang={lang}");
    if let Some(id) = project_id {
        path.push_str(&format!("&project_id={}", enc(id)));
    }
    http::get(ctx, &path).await
}

/// `GET /api/subscriptions`: every subscription and where it stands today.
pub async fn subscriptions(ctx: &Ctx) -> Result<SubscriptionList, ApiErr> {
    http::get(ctx, "/api/subscriptions").await
}

/// Only the message of a refresh is shown: the report's own types need not be decoded.
#[derive(Deserialize)]
struct Refreshed {
    #[serde(default)]
    message: String,
}

/// `POST /api/refresh`: checks every project now; the server's summary message.
pub async fn refresh(ctx: &Ctx) -> Result<String, ApiErr> {
    let r: Refreshed = http::send(ctx, Method::Post, "/api/refresh", &json!({})).await?;
    Ok(r.message)
}

/// `POST /api/config/threshold`: project `project`'s new low threshold.
pub async fn set_threshold(
    ctx: &Ctx,
    project: &str,
    threshold: f64,
) -> Result<EditResponse, ApiErr> {
    let body = json!({ "project_name": project, "new_threshold": threshold });
    http::send(ctx, Method::Post, "/api/config/threshold", &body).await
}

/// `POST /api/alerts/{id}/ack`: acknowledges an alert (its reminders stop).
pub async fn acknowledge(ctx: &Ctx, alert_id: &str) -> Result<(), ApiErr> {
    let path = format!("/api/alerts/{}/ack", enc(alert_id));
    http::send::<serde_json::Value, _>(ctx, Method::Post, &path, &json!({}))
        .await
        .map(drop)
}

/// How long a project's reminders are held back.
#[derive(Debug, Clone, Copy)]
pub enum Snooze {
    /// Until this unix time.
    Until(i64),
    /// Until the balance is topped up.
    UntilToppedUp,
    /// No longer: reminders resume.
    Clear,
}

/// `POST /api/projects/{id}/snooze`.
pub async fn snooze(ctx: &Ctx, project_id: &str, how: Snooze) -> Result<(), ApiErr> {
    let body = match how {
        Snooze::Until(until) => json!({ "until": until }),
        Snooze::UntilToppedUp => json!({ "until_topped_up": true }),
        Snooze::Clear => json!({ "clear": true }),
    };
    let path = format!("/api/projects/{}/snooze", enc(project_id));
    http::send::<serde_json::Value, _>(ctx, Method::Post, &path, &body)
        .await
        .map(drop)
}

/// `POST /api/subscription/add` (`editing` None) or `POST /api/config/subscription` (the
/// subscription named `editing`, renamed when `input.name` differs).
pub async fn save_subscription(
    ctx: &Ctx,
    editing: Option<&str>,
    input: &SubscriptionInput,
) -> Result<EditResponse, ApiErr> {
    // The input's names are not serialised (the server reads them from these two keys).
    let mut body = serde_json::to_value(input).unwrap_or_default();
    let path = match editing {
        Some(old) => {
            body["name"] = old.into();
            if old != input.name {
                body["new_name"] = input.name.clone().into();
            }
            "/api/config/subscription"
        }
        None => {
            body["name"] = input.name.clone().into();
            "/api/subscription/add"
        }
    };
    http::send(ctx, Method::Post, path, &body).await
}

/// `DELETE /api/subscription/delete`.
pub async fn delete_subscription(ctx: &Ctx, name: &str) -> Result<(), ApiErr> {
    let body = json!({ "name": name });
    http::send::<serde_json::Value, _>(ctx, Method::Delete, "/api/subscription/delete", &body)
        .await
        .map(drop)
}

/// `POST /api/subscription/mark_renewed` (today).
pub async fn mark_renewed(ctx: &Ctx, name: &str) -> Result<(), ApiErr> {
    let body = json!({ "name": name });
    http::send::<serde_json::Value, _>(ctx, Method::Post, "/api/subscription/mark_renewed", &body)
        .await
        .map(drop)
}

/// `config.json` next to index.html: where the API is (set at deploy time).
#[derive(Deserialize, Default)]
pub struct DeployConfig {
    /// The API's base URL ("" = same origin).
    #[serde(default)]
    pub api_base: String,
}

/// `GET /config.json` (not the API: a static file beside the app); the default when absent.
pub async fn deploy_config() -> DeployConfig {
    match gloo_net::http::Request::get("/config.json").send().await {
        Ok(r) if r.ok() => r.json::<DeployConfig>().await.unwrap_or_default(),
        _ => DeployConfig::default(),
    }
}
