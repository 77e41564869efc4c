//! The shell (the composition root): the settings and language in a context ([`Ctx`]), the
//! navigation with one route per page, the header, and the redirect to Settings after a 401.

use leptos::prelude::*;

use crate::client;
use crate::ctx::{ctx, Ctx};
use crate::i18n::{t, Lang, K};
use crate::navigation::{self, navigate, Link};
use crate::pages::{
    alerts::AlertsPage, overview::OverviewPage, project::ProjectPage, settings::SettingsPage,
    subscriptions::SubscriptionsPage,
};
use crate::route::Route;

/// Mounts the app on `<body>`.
pub fn mount() {
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let ctx = Ctx::from_storage();
    provide_context(ctx);
    let nav = navigation::provide();
    let route = Memo::new(move |_| Route::parse(&nav.path.get()));
    // config.json sits next to index.html; the pages wait for it so one build serves the
    // local server (same origin) and the API Gateway URL set at deploy time.
    let ready = RwSignal::new(false);
    leptos::task::spawn_local(async move {
        ctx.api_base_deployed
            .set(client::deploy_config().await.api_base);
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
