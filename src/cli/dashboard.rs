//! The dashboard's files (`dist/`, built by scripts/build-spa.sh) embedded in the binary.
//!
//! Release builds carry the files inside; debug builds read them from `dist/` at run time
//! (rust-embed's behaviour), so a rebuilt SPA shows without recompiling the server. A build
//! without `dist/index.html` still compiles (`allow_missing`) and serves the plain status page;
//! `serve` says so at start-up.

use std::borrow::Cow;
use std::sync::Arc;

use balance_alert_api::Site;

#[derive(rust_embed::RustEmbed)]
#[folder = "dist/"]
#[allow_missing = true]
struct Dist;

struct Embedded;

impl Site for Embedded {
    fn get(&self, path: &str) -> Option<Cow<'static, [u8]>> {
        Dist::get(path).map(|f| f.data)
    }
}

/// The embedded dashboard, when its index.html is really there.
pub fn site() -> Option<Arc<dyn Site>> {
    Dist::get("index.html").map(|_| Arc::new(Embedded) as Arc<dyn Site>)
}

/// How many files the dashboard has (for the start-up line).
pub fn file_count() -> usize {
    Dist::iter().filter(|p| !p.starts_with('.')).count()
}
