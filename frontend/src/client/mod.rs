//! The dashboard's calls to the Balance Alert API. Pages call the typed functions in
//! `endpoints.rs` (`credits`, `trend`, `alert_history`, `snooze`, …), the only place that
//! spells an API path; `http.rs` is the transport under them (ETags, the key, 401s) and
//! `error.rs` what a failed call becomes.

mod error;
pub use error::ApiErr;

#[cfg(target_arch = "wasm32")]
mod endpoints;
#[cfg(target_arch = "wasm32")]
mod http;
#[cfg(target_arch = "wasm32")]
pub use endpoints::*;
