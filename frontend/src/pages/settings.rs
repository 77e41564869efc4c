//! Settings: the API key (local storage, sent as Bearer), the language, and the API base URL
//! (default: config.json's `api_base`, else same origin). A 401 lands here with its notice.

use leptos::prelude::*;

use crate::client;
use crate::ctx::ctx;
use crate::i18n::{fill, t, Lang, K};

#[component]
pub fn SettingsPage() -> impl IntoView {
    let ctx = ctx();
    let key = RwSignal::new(ctx.api_key.get_untracked());
    let base = RwSignal::new(ctx.api_base_override.get_untracked());
    let status = RwSignal::new(None::<(bool, String)>);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        ctx.api_key.set(key.get_untracked().trim().to_owned());
        ctx.api_base_override
            .set(base.get_untracked().trim().to_owned());
        ctx.save();
        ctx.notice.set(None);
        let lang = ctx.lang.get_untracked();
        status.set(Some((false, t(lang, K::set_saved).to_owned())));
        // Try the key at once, so a wrong one is reported here rather than on the next page.
        leptos::task::spawn_local(async move {
            match client::credits(&ctx).await {
                Ok(c) => status.set(Some((
                    false,
                    format!(
                        "{} {}",
                        t(lang, K::set_saved),
                        fill(t(lang, K::set_test_ok), &[&c.projects.len().to_string()])
                    ),
                ))),
                Err(e) => status.set(Some((true, e.text(lang)))),
            }
        });
    };
    view! {
        <section class="settings">
            <h1>{move || ctx.t(K::nav_settings)}</h1>
            {move || ctx.notice.get().map(|n| view! { <p class="error" id="notice" role="alert">{n}</p> })}
            <form on:submit=save class="settings-form">
                <div class="field">
                    <label for="api-key">{move || ctx.t(K::set_api_key)}</label>
                    <input id="api-key" type="password" autocomplete="off" prop:value=move || key.get()
                        aria-describedby="api-key-hint" on:input=move |ev| key.set(event_target_value(&ev))/>
                    <span class="hint" id="api-key-hint">{move || ctx.t(K::set_api_key_hint)}</span>
                </div>
                <div class="field">
                    <label for="language">{move || ctx.t(K::set_language)}</label>
                    <select id="language" prop:value=move || ctx.lang.get().code().to_owned()
                        on:change=move |ev| {
                            if let Some(l) = Lang::parse(&event_target_value(&ev)) {
                                ctx.lang.set(l);
                                ctx.save();
                            }
                        }>
                        <option value="zh" selected=move || ctx.lang.get() == Lang::Zh>"中文"</option>
                        <option value="en" selected=move || ctx.lang.get() == Lang::En>"English"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="api-base">{move || ctx.t(K::set_api_base)}</label>
                    <input id="api-base" type="url" placeholder="https://…" prop:value=move || base.get()
                        aria-describedby="api-base-hint" on:input=move |ev| base.set(event_target_value(&ev))/>
                    <span class="hint" id="api-base-hint">{move || {
                        let deployed = ctx.api_base_deployed.get();
                        let default = if deployed.trim().is_empty() { ctx.t(K::set_same_origin).to_owned() } else { deployed };
                        fill(ctx.t(K::set_api_base_hint), &[&default])
                    }}</span>
                </div>
                <button type="submit" class="primary" id="settings-save">{move || ctx.t(K::save)}</button>
            </form>
            {move || status.get().map(|(bad, m)| view! { <p id="settings-status" class=if bad { "error" } else { "ok-note" } role="status">{m}</p> })}
        </section>
    }
}
