//! The shell: settings and language in a context, the router with one route per page, the
//! header navigation, and the redirect to Settings after a 401.

use leptos::prelude::*;
use serde::Deserialize;

use crate::i18n::{t, Lang, K};
use crate::pages::{
    alerts::AlertsPage, overview::OverviewPage, project::ProjectPage, settings::SettingsPage,
    subscriptions::SubscriptionsPage,
};
use crate::route::Route;
use crate::router::{self, navigate, Link};

const KEY_API_KEY: &str = "balance-alert.api_key";
const KEY_LANG: &str = "balance-alert.lang";
const KEY_API_BASE: &str = "balance-alert.api_base";

/// What every page reads: the settings, the language and the notices between pages.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub lang: RwSignal<Lang>,
    /// Kept in local storage, sent as a Bearer token.
    pub api_key: RwSignal<String>,
    /// The reader's override of the API base URL (empty: the deployed default).
    pub api_base_override: RwSignal<String>,
    /// `api_base` from `config.json` next to index.html (empty: same origin).
    pub api_base_deployed: RwSignal<String>,
    /// A message for the Settings page (why the reader was sent there).
    pub notice: RwSignal<Option<String>>,
    /// Bumped on each 401, watched by the redirect.
    pub unauthorized_count: RwSignal<u32>,
}

impl Ctx {
    /// The text of `key` in the current language (tracked: views re-render on a switch).
    pub fn t(&self, key: K) -> &'static str {
        t(self.lang.get(), key)
    }

    /// The base URL calls go to, without a trailing slash ("" = same origin).
    pub fn api_base(&self) -> String {
        let o = self.api_base_override.get_untracked();
        if o.trim().is_empty() {
            self.api_base_deployed.get_untracked().trim().to_owned()
        } else {
            o.trim().to_owned()
        }
    }

    /// Records a 401: Settings shows why, the redirect takes the reader there.
    pub fn unauthorized(&self) {
        self.notice.set(Some(
            t(self.lang.get_untracked(), K::err_unauthorized).to_owned(),
        ));
        self.unauthorized_count.update(|n| *n += 1);
    }

    /// Saves the settings to local storage.
    pub fn save(&self) {
        store(KEY_API_KEY, &self.api_key.get_untracked());
        store(KEY_LANG, self.lang.get_untracked().code());
        store(KEY_API_BASE, &self.api_base_override.get_untracked());
    }
}

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

fn load(key: &str) -> Option<String> {
    storage()?.get_item(key).ok().flatten()
}

fn store(key: &str, value: &str) {
    if let Some(s) = storage() {
        let _ = s.set_item(key, value);
    }
}

/// The current context.
pub fn ctx() -> Ctx {
    expect_context::<Ctx>()
}

/// The browser's offset from UTC in minutes east (Shanghai: 480).
pub fn utc_offset_minutes() -> i32 {
    -(js_sys::Date::new_0().get_timezone_offset() as i32)
}

/// Now in unix seconds, from the browser's clock.
pub fn now() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

#[derive(Deserialize, Default)]
struct DeployConfig {
    #[serde(default)]
    api_base: String,
}

/// Mounts the app on `<body>`.
pub fn mount() {
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let browser_lang = window()
        .navigator()
        .language()
        .and_then(|l| Lang::parse(&l));
    let lang = load(KEY_LANG)
        .and_then(|l| Lang::parse(&l))
        .or(browser_lang)
        .unwrap_or_default();
    let ctx = Ctx {
        lang: RwSignal::new(lang),
        api_key: RwSignal::new(load(KEY_API_KEY).unwrap_or_default()),
        api_base_override: RwSignal::new(load(KEY_API_BASE).unwrap_or_default()),
        api_base_deployed: RwSignal::new(String::new()),
        notice: RwSignal::new(None),
        unauthorized_count: RwSignal::new(0),
    };
    provide_context(ctx);
    let nav = router::provide();
    let route = Memo::new(move |_| Route::parse(&nav.path.get()));
    // config.json sits next to index.html; the pages wait for it so one build serves the
    // local server (same origin) and the API Gateway URL set at deploy time.
    let ready = RwSignal::new(false);
    leptos::task::spawn_local(async move {
        let config = match gloo_net::http::Request::get("/config.json").send().await {
            Ok(r) if r.ok() => r.json::<DeployConfig>().await.unwrap_or_default(),
            _ => DeployConfig::default(),
        };
        ctx.api_base_deployed.set(config.api_base);
        ready.set(true);
    });
    Effect::new(move |_| {
        let lang = ctx.lang.get();
        if let Some(el) = document().document_element() {
            let _ = el.set_attribute("lang", lang.code());
        }
        document().set_title(t(lang, K::app_title));
    });
    view! {
        <a class="skip" href="#main">{move || ctx.t(K::skip_link)}</a>
            <header class="top">
                <span class="brand">{move || ctx.t(K::app_title)}</span>
                <nav aria-label="main">
                    <Link href="/".to_owned() exact=true>{move || ctx.t(K::nav_overview)}</Link>
                    <Link href="/subscriptions".to_owned()>{move || ctx.t(K::nav_subscriptions)}</Link>
                    <Link href="/alerts".to_owned()>{move || ctx.t(K::nav_alerts)}</Link>
                    <Link href="/settings".to_owned()>{move || ctx.t(K::nav_settings)}</Link>
                </nav>
                <button class="lang" id="lang-toggle"
                    on:click=move |_| {
                        ctx.lang.update(|l| *l = if *l == Lang::Zh { Lang::En } else { Lang::Zh });
                        ctx.save();
                    }>
                    {move || if ctx.lang.get() == Lang::Zh { "English" } else { "中文" }}
                </button>
            </header>
            <AuthRedirect/>
            <main id="main" tabindex="-1">
                <Show when=move || ready.get() fallback=move || view! { <p class="loading" role="status">{move || ctx.t(K::loading)}</p> }>
                    {move || match route.get() {
                        Route::Overview => view! { <OverviewPage/> }.into_any(),
                        Route::Project(id) => view! { <ProjectPage id=id/> }.into_any(),
                        Route::Subscriptions => view! { <SubscriptionsPage/> }.into_any(),
                        Route::Alerts => view! { <AlertsPage/> }.into_any(),
                        Route::Settings => view! { <SettingsPage/> }.into_any(),
                        Route::NotFound => view! { <p class="error" role="alert">{move || ctx.t(K::not_found)}</p> }.into_any(),
                    }}
                </Show>
            </main>
    }
}

/// Sends the reader to Settings after a 401, where the notice says why.
#[component]
fn AuthRedirect() -> impl IntoView {
    let ctx = ctx();
    Effect::new(move |prev: Option<u32>| {
        let n = ctx.unauthorized_count.get();
        if prev.is_some_and(|p| p != n) || (prev.is_none() && n > 0) {
            navigate("/settings");
        }
        n
    });
}
