//! The transport under the typed calls: the base URL and key from the settings,
//! `If-None-Match` with the last ETag of each URL (a 304 reuses the body already held), and
//! failures turned into [`ApiErr`]. A 401 sends the reader to Settings.

use std::cell::RefCell;
use std::collections::HashMap;

use gloo_net::http::{Request, RequestBuilder, Response};
use leptos::prelude::GetUntracked;
use serde::de::DeserializeOwned;
use serde::Serialize;
use web_sys::RequestCache;

use super::ApiErr;
use crate::ctx::Ctx;

thread_local! {
    /// URL → (ETag, body) of the last 200 answer.
    static ETAGS: RefCell<HashMap<String, (String, String)>> = RefCell::new(HashMap::new());
}

fn url(ctx: &Ctx, path: &str) -> String {
    format!("{}{}", ctx.api_base().trim_end_matches('/'), path)
}

fn authorised(ctx: &Ctx, builder: RequestBuilder) -> RequestBuilder {
    let key = ctx.api_key.get_untracked();
    let builder = builder
        .header("Accept", "application/json")
        // Our own If-None-Match replaces the browser's cache, so it never answers for us.
        .cache(RequestCache::NoStore);
    if key.trim().is_empty() {
        builder
    } else {
        builder.header("Authorization", &format!("Bearer {}", key.trim()))
    }
}

async fn failure(ctx: &Ctx, response: Response) -> ApiErr {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if status == 401 {
        ctx.unauthorized();
    }
    ApiErr::from_answer(status, &response.status_text(), &body)
}

fn parse<T: DeserializeOwned>(body: &str) -> Result<T, ApiErr> {
    serde_json::from_str(body).map_err(ApiErr::unexpected)
}

/// GET `path`; `Ok(None)` when the body is unchanged since the last call (304).
pub async fn get_if_changed<T: DeserializeOwned>(
    ctx: &Ctx,
    path: &str,
) -> Result<Option<T>, ApiErr> {
    let url = url(ctx, path);
    let mut builder = authorised(ctx, Request::get(&url));
    if let Some(tag) = ETAGS.with(|e| e.borrow().get(&url).map(|(t, _)| t.clone())) {
        builder = builder.header("If-None-Match", &tag);
    }
    let response = builder
        .send()
        .await
        .map_err(|_| ApiErr::unreachable(&url))?;
    match response.status() {
        304 => Ok(None),
        200 => {
            let etag = response.headers().get("etag");
            let body = response
                .text()
                .await
                .map_err(|_| ApiErr::unreachable(&url))?;
            let value = parse(&body)?;
            if let Some(tag) = etag {
                ETAGS.with(|e| e.borrow_mut().insert(url, (tag, body)));
            }
            Ok(Some(value))
        }
        _ => Err(failure(ctx, response).await),
    }
}

/// GET `path`, reusing the held body on 304.
pub async fn get<T: DeserializeOwned>(ctx: &Ctx, path: &str) -> Result<T, ApiErr> {
    match get_if_changed(ctx, path).await? {
        Some(v) => Ok(v),
        None => {
            let url = url(ctx, path);
            let body = ETAGS.with(|e| e.borrow().get(&url).map(|(_, b)| b.clone()));
            match body {
                Some(b) => parse(&b),
                // A 304 without a held body cannot happen (we only send tags we hold).
                None => Err(ApiErr::unreachable(&url)),
            }
        }
    }
}

/// The methods edits use.
#[derive(Debug, Clone, Copy)]
pub enum Method {
    Post,
    Delete,
}

/// POST or DELETE `body` as JSON to `path`.
pub async fn send<T: DeserializeOwned, B: Serialize>(
    ctx: &Ctx,
    method: Method,
    path: &str,
    body: &B,
) -> Result<T, ApiErr> {
    let url = url(ctx, path);
    let builder = match method {
        Method::Post => Request::post(&url),
        Method::Delete => Request::delete(&url),
    };
    let request = authorised(ctx, builder).json(body).map_err(|e| ApiErr {
        status: 0,
        message: e.to_string(),
        retry_after: None,
    })?;
    let response = request
        .send()
        .await
        .map_err(|_| ApiErr::unreachable(&url))?;
    if (200..300).contains(&response.status()) {
        let text = response
            .text()
            .await
            .map_err(|_| ApiErr::unreachable(&url))?;
        parse(&text)
    } else {
        Err(failure(ctx, response).await)
    }
}

/// Percent-encodes a path segment or query value.
pub fn enc(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}
