//! The local server's connections: each listener serves at most a fixed number at a time, a
//! client must send a request's headers within a timeout, a kept-alive connection that starts no
//! new request within the keep-alive timeout is closed, and a new connection beyond the cap
//! closes the oldest idle one (no request in flight), so idle or trickling clients can neither
//! hold the server's descriptors nor lock out `/live` and `/metrics`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::{AbortHandle, JoinSet};
use tokio::time::Instant;
use tower::ServiceExt;

/// Descriptors kept free of connections: the store, config reloads, provider calls, deliveries.
pub const RESERVED_FDS: u64 = 256;
/// The fewest connections a listener accepts, whatever the descriptor limit.
const MIN_CONNECTIONS: usize = 8;
/// The pause after a failed accept (a descriptor limit reached), so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// How long clients may take and how many connections a listener holds.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A request's headers must be complete within this, counted from the connection's start
    /// or, on a kept-alive connection, from the next request's first byte.
    pub header_read_timeout: Duration,
    /// A kept-alive connection that sends no byte of a next request within this is closed.
    pub keep_alive_timeout: Duration,
    /// Open connections per listener.
    pub max_connections: usize,
}

impl Limits {
    /// `max_connections` 0 means from the descriptor limit: (soft `RLIMIT_NOFILE` −
    /// [`RESERVED_FDS`]) / 2, shared by the two listeners.
    pub fn new(
        header_read_timeout_seconds: u64,
        keep_alive_timeout_seconds: u64,
        max_connections: usize,
    ) -> Self {
        let max_connections = match max_connections {
            0 => auto_max_connections(),
            n => n,
        };
        Limits {
            header_read_timeout: Duration::from_secs(header_read_timeout_seconds.max(1)),
            keep_alive_timeout: Duration::from_secs(keep_alive_timeout_seconds.max(1)),
            max_connections: max_connections.max(1),
        }
    }
}

fn auto_max_connections() -> usize {
    let soft = rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(u64::MAX);
    let per_listener = soft.saturating_sub(RESERVED_FDS) / 2;
    usize::try_from(per_listener)
        .unwrap_or(usize::MAX)
        .clamp(MIN_CONNECTIONS, 1 << 20)
}

/// One open connection: whether it is serving a request, and how to close it.
struct Open {
    in_flight: Arc<AtomicUsize>,
    abort: AbortHandle,
}

/// The open connections of a listener, oldest first.
#[derive(Default)]
struct Registry(Mutex<BTreeMap<u64, Open>>);

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Open>> {
        self.0
            .lock()
            .expect("connection registry lock is never poisoned")
    }

    /// Makes room for one more connection: false when `max` are open and none is idle.
    fn make_room(&self, max: usize) -> bool {
        let mut open = self.lock();
        if open.len() < max {
            return true;
        }
        let oldest_idle = open
            .iter()
            .find(|(_, c)| c.in_flight.load(Ordering::Acquire) == 0)
            .map(|(id, _)| *id);
        match oldest_idle.and_then(|id| open.remove(&id)) {
            Some(c) => {
                c.abort.abort();
                true
            }
            None => false,
        }
    }
}

/// What a connection is doing, for its timeouts: serving a request (no deadline) or waiting for
/// the next one's headers.
struct Activity {
    in_flight: Arc<AtomicUsize>,
    waiting: Mutex<Waiting>,
    changed: Notify,
}

#[derive(Clone, Copy)]
struct Waiting {
    /// When the connection started waiting: accepted, or its last response written.
    since: Instant,
    /// The first byte read since then.
    first_byte: Option<Instant>,
    /// Whether a response was written before (kept alive) or the connection is new.
    kept_alive: bool,
}

impl Activity {
    fn new(in_flight: Arc<AtomicUsize>) -> Self {
        Activity {
            in_flight,
            waiting: Mutex::new(Waiting {
                since: Instant::now(),
                first_byte: None,
                kept_alive: false,
            }),
            changed: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.waiting
            .lock()
            .expect("connection activity lock is never poisoned")
    }

    fn serving(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) > 0
    }

    /// Bytes arrived: the first one starts the header-read timeout of a kept-alive connection.
    fn read(&self) {
        if self.serving() {
            return;
        }
        let mut waiting = self.lock();
        if waiting.first_byte.is_none() {
            waiting.first_byte = Some(Instant::now());
            drop(waiting);
            self.changed.notify_one();
        }
    }

    /// When the connection is closed unless a request has started: `None` while serving.
    fn deadline(&self, limits: &Limits) -> Option<Instant> {
        if self.serving() {
            return None;
        }
        let waiting = *self.lock();
        Some(match (waiting.kept_alive, waiting.first_byte) {
            (true, Some(first)) => first + limits.header_read_timeout,
            (true, None) => waiting.since + limits.keep_alive_timeout,
            (false, _) => waiting.since + limits.header_read_timeout,
        })
    }

    /// Resolves when the connection has waited past its deadline.
    async fn expired(&self, limits: &Limits) {
        loop {
            let changed = self.changed.notified();
            match self.deadline(limits) {
                None => changed.await,
                Some(deadline) if deadline <= Instant::now() => return,
                Some(deadline) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(deadline) => {}
                        () = changed => {}
                    }
                }
            }
        }
    }
}

/// Marks its connection as serving a request while alive; when dropped (the response written
/// to its end), the connection waits for the next request.
struct Busy(Arc<Activity>);

impl Busy {
    fn enter(activity: &Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        activity.changed.notify_one();
        Busy(activity.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let activity = &self.0;
        *activity.lock() = Waiting {
            since: Instant::now(),
            first_byte: None,
            kept_alive: true,
        };
        activity.in_flight.fetch_sub(1, Ordering::AcqRel);
        activity.changed.notify_one();
    }
}

/// The connection's socket, telling its [`Activity`] when bytes arrive.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Removes a connection from the registry when its task ends or is aborted.
struct Registered(Arc<Registry>, u64);

impl Drop for Registered {
    fn drop(&mut self) {
        self.0.lock().remove(&self.1);
    }
}

/// Serves `router` on `listener` within `limits` until `shutdown` turns true, then lets the
/// requests in flight finish. Requests carry the peer address ([`ConnectInfo`]).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let registry = Arc::new(Registry::default());
    let mut tasks = JoinSet::new();
    let mut next_id = 0u64;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "accepting a connection failed; retrying shortly");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        if !registry.make_room(limits.max_connections) {
            // Every connection is serving a request: refuse this one at once.
            drop(stream);
            continue;
        }
        let in_flight = Arc::new(AtomicUsize::new(0));
        let id = next_id;
        next_id += 1;
        // Registered before the task can end, so its guard always finds the entry.
        let mut open = registry.lock();
        let abort = tasks.spawn(connection(
            stream,
            peer,
            router.clone(),
            limits,
            in_flight.clone(),
            Registered(registry.clone(), id),
            shutdown.clone(),
        ));
        open.insert(id, Open { in_flight, abort });
    }
    while tasks.join_next().await.is_some() {}
    Ok(())
}

/// One HTTP/1.1 connection, closed when it waits past its deadline ([`Activity::deadline`]) and
/// gracefully when `shutdown` turns true.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    in_flight: Arc<AtomicUsize>,
    _registered: Registered,
    mut shutdown: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new(in_flight));
    let watched = Watched {
        stream,
        activity: activity.clone(),
    };
    let serving = activity.clone();
    let service =
        hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            let busy = Busy::enter(&serving);
            let mut request = request.map(axum::body::Body::new);
            request.extensions_mut().insert(ConnectInfo(peer));
            let router = router.clone();
            async move {
                let response = router.oneshot(request).await?;
                // Serving until the body is written to its end (or dropped).
                Ok::<_, std::convert::Infallible>(response.map(move |body| {
                    axum::body::Body::new(body.map_frame(move |frame| {
                        let _serving = &busy;
                        frame
                    }))
                }))
            }
        });
    let mut builder = hyper::server::conn::http1::Builder::new();
    // The timeouts are this module's (`Activity`): hyper's own would count a kept-alive wait
    // as header reading.
    builder.header_read_timeout(None).keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(watched), service);
    tokio::pin!(conn);
    let stopping = async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    };
    let finished = tokio::select! {
        result = conn.as_mut() => Some(result),
        () = activity.expired(&limits) => {
            tracing::debug!(%peer, "connection closed: no request within its timeout");
            return;
        }
        () = stopping => None,
    };
    let result = match finished {
        Some(result) => result,
        None => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "connection closed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Registers a connection whose task never ends; returns its request counter.
    fn register(registry: &Registry, tasks: &mut JoinSet<()>, id: u64) -> Arc<AtomicUsize> {
        let in_flight = Arc::new(AtomicUsize::new(0));
        let abort = tasks.spawn(std::future::pending());
        registry.lock().insert(
            id,
            Open {
                in_flight: in_flight.clone(),
                abort,
            },
        );
        in_flight
    }

    #[tokio::test]
    async fn a_full_listener_closes_its_oldest_idle_connection_or_refuses() {
        let (registry, mut tasks) = (Registry::default(), JoinSet::new());
        let oldest = register(&registry, &mut tasks, 0);
        register(&registry, &mut tasks, 1);
        register(&registry, &mut tasks, 2);
        assert!(registry.make_room(4), "room left");
        // The oldest is serving a request: the next oldest idle one goes.
        oldest.fetch_add(1, Ordering::AcqRel);
        assert!(registry.make_room(3));
        assert_eq!(registry.lock().keys().copied().collect::<Vec<_>>(), [0, 2]);
        // Only busy connections left: the new one is refused, none is closed.
        let busy: Vec<_> = registry
            .lock()
            .values()
            .map(|c| c.in_flight.clone())
            .collect();
        busy.iter().for_each(|c| {
            c.fetch_add(1, Ordering::AcqRel);
        });
        assert!(!registry.make_room(2));
        assert_eq!(registry.lock().len(), 2);
    }
}
