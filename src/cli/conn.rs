//! The local server's connections: each listener serves at most a fixed number at a time, a
//! client must send a request's headers within a timeout, and a new connection beyond the cap
//! closes the oldest idle one (no request in flight), so idle or trickling clients can neither
//! hold the server's descriptors nor lock out `/live` and `/metrics`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinSet};
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
    /// A request's headers must arrive within this, counted from when the server waits for
    /// them: it also closes a kept-alive connection that starts no new request.
    pub header_read_timeout: Duration,
    /// Open connections per listener.
    pub max_connections: usize,
}

impl Limits {
    /// `max_connections` 0 means from the descriptor limit: (soft `RLIMIT_NOFILE` −
    /// [`RESERVED_FDS`]) / 2, shared by the two listeners.
    pub fn new(header_read_timeout_seconds: u64, max_connections: usize) -> Self {
        let max_connections = match max_connections {
            0 => auto_max_connections(),
            n => n,
        };
        Limits {
            header_read_timeout: Duration::from_secs(header_read_timeout_seconds.max(1)),
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

/// Counts a request in flight on its connection while alive.
struct Busy(Arc<AtomicUsize>);

impl Busy {
    fn enter(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::AcqRel);
        Busy(count.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
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

/// One HTTP/1.1 connection, closed gracefully when `shutdown` turns true.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    in_flight: Arc<AtomicUsize>,
    _registered: Registered,
    mut shutdown: watch::Receiver<bool>,
) {
    let service =
        hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            let busy = Busy::enter(&in_flight);
            let mut request = request.map(axum::body::Body::new);
            request.extensions_mut().insert(ConnectInfo(peer));
            let router = router.clone();
            async move {
                let response = router.oneshot(request).await;
                drop(busy);
                response
            }
        });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let stopping = async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    };
    let finished = tokio::select! {
        result = conn.as_mut() => Some(result),
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
