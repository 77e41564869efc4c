//! The rendered `/api/credits` and `/metrics` bodies, reused while nothing changed.
//!
//! Rendering 1,000 projects (store scan, JSON, gzip) costs milliseconds; serving the stored bytes
//! costs microseconds. A body is reused while the checker's generation and the config are the
//! ones it was rendered from; after `TTL` it is re-rendered once (other requests keep getting
//! the previous body meanwhile), because another process — the checker Lambda, a cron
//! `check` — may have written to the store.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use balance_alert_core::config::Loaded;

use crate::error::ApiError;
use crate::http::etag_for;

const TTL: Duration = Duration::from_secs(1);

/// One rendering in both encodings, each with its own strong ETag.
pub struct Rendered {
    pub plain: Bytes,
    pub plain_etag: HeaderValue,
    pub gzip: Bytes,
    pub gzip_etag: HeaderValue,
}

impl Rendered {
    fn new(plain: Vec<u8>) -> Result<Self, ApiError> {
        let mut gz = flate2::write::GzEncoder::new(
            Vec::with_capacity(plain.len() / 8),
            flate2::Compression::fast(),
        );
        gz.write_all(&plain)
            .map_err(|e| ApiError::Internal(format!("gzip: {e}")))?;
        let gzip = gz
            .finish()
            .map_err(|e| ApiError::Internal(format!("gzip: {e}")))?;
        let gzip_etag = {
            let tag = etag_for(&gzip);
            let tag = tag
                .to_str()
                .unwrap_or_default()
                .trim_end_matches('"')
                .to_owned()
                + "-gz\"";
            HeaderValue::from_str(&tag).expect("ETag stays ASCII")
        };
        Ok(Rendered {
            plain_etag: etag_for(&plain),
            plain: plain.into(),
            gzip: gzip.into(),
            gzip_etag,
        })
    }

    /// The response for a request with `headers`: the gzip body when it accepts gzip, the
    /// plain one otherwise, each with its ETag (the [`crate::http::etag`] layer answers 304).
    pub fn respond(&self, headers: &HeaderMap, content_type: &'static str) -> Response {
        let gzip = headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(',')
                    .any(|e| e.trim().split(';').next() == Some("gzip"))
            });
        let content_type = HeaderValue::from_static(content_type);
        let vary = HeaderValue::from_static("accept-encoding");
        if gzip {
            let headers = [
                (header::CONTENT_TYPE, content_type),
                (header::CONTENT_ENCODING, HeaderValue::from_static("gzip")),
                (header::ETAG, self.gzip_etag.clone()),
                (header::VARY, vary),
            ];
            (headers, self.gzip.clone()).into_response()
        } else {
            let headers = [
                (header::CONTENT_TYPE, content_type),
                (header::ETAG, self.plain_etag.clone()),
                (header::VARY, vary),
            ];
            (headers, self.plain.clone()).into_response()
        }
    }
}

struct Entry {
    generation: u64,
    /// Held (not just its address) so a freed config cannot alias a new one.
    config: Arc<Loaded>,
    built: Instant,
    rendered: Arc<Rendered>,
}

/// Single-flight cache of one rendered body.
#[derive(Default)]
pub struct RenderCache {
    slot: Mutex<Option<Entry>>,
    rebuild: tokio::sync::Mutex<()>,
}

impl RenderCache {
    /// The body for `(generation, config)`, rendering it with `render` when needed.
    pub async fn get<F, Fut>(
        &self,
        generation: u64,
        config: Arc<Loaded>,
        render: F,
    ) -> Result<Arc<Rendered>, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Vec<u8>, ApiError>>,
    {
        let same = |e: &Entry| e.generation == generation && Arc::ptr_eq(&e.config, &config);
        let snapshot = {
            let slot = self
                .slot
                .lock()
                .expect("render cache lock is never poisoned");
            slot.as_ref()
                .filter(|e| same(e))
                .map(|e| (e.built.elapsed() < TTL, e.rendered.clone()))
        };
        let _guard = match snapshot {
            Some((true, rendered)) => return Ok(rendered),
            // Expired but unchanged here: one request re-renders, the rest serve the old body.
            Some((false, rendered)) => match self.rebuild.try_lock() {
                Ok(guard) => guard,
                Err(_) => return Ok(rendered),
            },
            None => {
                let guard = self.rebuild.lock().await;
                let slot = self
                    .slot
                    .lock()
                    .expect("render cache lock is never poisoned");
                if let Some(e) = slot.as_ref().filter(|e| same(e) && e.built.elapsed() < TTL) {
                    return Ok(e.rendered.clone());
                }
                drop(slot);
                guard
            }
        };
        let rendered = Arc::new(Rendered::new(render().await?)?);
        *self
            .slot
            .lock()
            .expect("render cache lock is never poisoned") = Some(Entry {
            generation,
            config,
            built: Instant::now(),
            rendered: rendered.clone(),
        });
        Ok(rendered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn loaded() -> Arc<Loaded> {
        let env = std::collections::HashMap::<String, String>::new();
        Arc::new(
            balance_alert_core::config::parse("{\"projects\": []}", &env).expect("empty config"),
        )
    }

    async fn fetch(
        cache: &RenderCache,
        generation: u64,
        config: &Arc<Loaded>,
        calls: &AtomicUsize,
    ) -> Bytes {
        cache
            .get(generation, config.clone(), || async {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                Ok(format!("{{\"render\":{n}}}").into_bytes())
            })
            .await
            .expect("renders")
            .plain
            .clone()
    }

    #[tokio::test]
    async fn renders_once_per_generation_and_config() {
        let (cache, calls, config) = (RenderCache::default(), AtomicUsize::new(0), loaded());
        assert_eq!(fetch(&cache, 1, &config, &calls).await, "{\"render\":0}");
        assert_eq!(fetch(&cache, 1, &config, &calls).await, "{\"render\":0}");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(
            fetch(&cache, 2, &config, &calls).await,
            "{\"render\":1}",
            "a run invalidates"
        );
        let reloaded = loaded();
        assert_eq!(
            fetch(&cache, 2, &reloaded, &calls).await,
            "{\"render\":2}",
            "a reload invalidates"
        );
    }

    #[tokio::test]
    async fn gzip_body_round_trips_and_has_its_own_etag() {
        let r = Rendered::new(b"{\"a\":1}".to_vec()).expect("renders");
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&r.gzip[..]), &mut out)
            .expect("gzip");
        assert_eq!(out, "{\"a\":1}");
        assert_ne!(r.plain_etag, r.gzip_etag);
        assert!(r.gzip_etag.to_str().expect("ascii").ends_with("-gz\""));
    }
}
