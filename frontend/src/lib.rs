//! The Balance Alert dashboard: a Leptos single-page app compiled to WASM.
//!
//! The modules without a target gate are pure (texts, formatting, chart geometry, the
//! overview's filtering) and are tested on the host; the browser part (`app`, `api`, pages,
//! components) only builds for `wasm32`, see `scripts/build-spa.sh`.

pub mod chart;
pub mod format;
pub mod i18n;
pub mod overview;
pub mod route;
pub mod validate;

#[cfg(target_arch = "wasm32")]
mod api;
#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(target_arch = "wasm32")]
mod components;
#[cfg(target_arch = "wasm32")]
mod pages;
#[cfg(target_arch = "wasm32")]
mod router;
