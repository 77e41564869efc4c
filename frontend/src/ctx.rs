//! What every page reads, apart from the shell that provides it: the settings and language
//! ([`Ctx`], kept in local storage), and the browser's clock and time zone.

use leptos::prelude::*;

use crate::i18n::{t, Lang, K};

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
    /// The settings saved in local storage; the language falls back to the browser's.
    pub fn from_storage() -> Ctx {
        let browser_lang = window()
            .navigator()
            .language()
            .and_then(|l| Lang::parse(&l));
        let lang = load(KEY_LANG)
            .and_then(|l| Lang::parse(&l))
            .or(browser_lang)
            .unwrap_or_default();
        Ctx {
            lang: RwSignal::new(lang),
            api_key: RwSignal::new(load(KEY_API_KEY).unwrap_or_default()),
            api_base_override: RwSignal::new(load(KEY_API_BASE).unwrap_or_default()),
            api_base_deployed: RwSignal::new(String::new()),
            notice: RwSignal::new(None),
            unauthorized_count: RwSignal::new(0),
        }
    }

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
