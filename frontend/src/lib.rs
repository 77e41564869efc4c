//! The Balance Alert dashboard: a Leptos single-page app compiled to WASM.
//!
//! The modules without a target gate are pure (texts, formatting, chart geometry, the
//! overview's rows, routes, form checks, API errors) and are tested on the host; the browser
//! part only builds for `wasm32`, see `scripts/build-spa.sh`. Layers, each using only those
//! above it:
//!
//! - pure: `i18n`, `format`, `chart`, `route`, `validate`, `overview_rows`, `client::ApiErr`;
//! - `ctx` (settings, language, clock, local storage) and `navigation` (History API, links);
//! - `client`: one typed function per API call (`client::credits`, `client::trend`, …);
//! - `components`: widgets shared by the pages;
//! - `pages`: one module per page;
//! - `app`: the shell that provides the context and picks the page.

pub mod chart;
pub mod client;
pub mod format;
pub mod i18n;
pub mod overview_rows;
pub mod route;
pub mod validate;

#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(target_arch = "wasm32")]
mod components;
#[cfg(target_arch = "wasm32")]
mod ctx;
#[cfg(target_arch = "wasm32")]
mod navigation;
#[cfg(target_arch = "wasm32")]
mod pages;
