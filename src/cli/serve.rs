//! `balance-alert serve`: API + scheduler in one process on the embedded store, with config
//! hot reload and `/metrics` on a separate port. A store that does not answer at start (a
//! DynamoDB endpoint that is down or hangs) is waited for, not an error: the ports answer at
//! once (`/live` 200, the rest 503 with the reason) and the store is tried again with backoff.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::extract::Request;
use axum::Router;
use balance_alert_api::{
    app, metrics_app, unavailable_app, ApiOptions, AppState, AuthConfig, MetricsSource,
};
use balance_alert_core::check::driver;
use balance_alert_core::config::{self, ConfigSource};
use balance_alert_core::node::NodeLock;
use balance_alert_core::store::{Claimant, Store};
use balance_alert_services::{Metrics, Services};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower::ServiceExt;

use super::conn::{self, Limits};
use super::source::{open_config, open_store, OpenError};
use super::{ServeArgs, EXIT_USAGE};

/// How long a start may take before the ports answer 503 while it goes on: a quick start
/// serves the full app from the first request and reports a config error before listening.
const START_GRACE: Duration = Duration::from_secs(1);
/// The first wait before trying an unreachable store again; it doubles up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_secs(1);
/// The longest wait between two tries of an unreachable store at start.
const RETRY_MAX: Duration = Duration::from_secs(10);
/// What `/health` and the API answer (503) until the store can be read.
const STARTING: &str = "starting: the store cannot be read yet, retrying; see the server log";

fn usage(message: String) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_USAGE)
}

pub async fn run(args: ServeArgs) -> ExitCode {
    let env = config::process_env();
    let options = match ApiOptions::from_env(&env) {
        Ok(o) => o,
        Err(e) => return usage(e),
    };
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => return usage(format!("--listen {}: {e}", args.listen)),
    };
    let metrics_listener = match tokio::net::TcpListener::bind(args.metrics_listen).await {
        Ok(l) => l,
        Err(e) => return usage(format!("--metrics-listen {}: {e}", args.metrics_listen)),
    };
    let addrs = Addrs {
        api: listener.local_addr().unwrap_or(args.listen),
        metrics: metrics_listener.local_addr().unwrap_or(args.metrics_listen),
    };
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let mut opening = tokio::spawn(open_until_readable(args.config.clone(), args.table.clone()));
    let mut started = None;
    if let Ok(opened) = tokio::time::timeout(START_GRACE, &mut opening).await {
        let opened = match joined(opened) {
            Ok(o) => o,
            Err(e) => return usage(e),
        };
        match start(opened, &args, options.clone(), addrs, shutdown_rx.clone()).await {
            Ok(s) => started = Some(s),
            Err(e) => return usage(e),
        }
    }
    let api = Switch::new(unavailable_app(STARTING));
    let metrics = Switch::new(unavailable_app(STARTING));
    if let Some(s) = &started {
        api.set(s.api.clone());
        metrics.set(s.metrics.clone());
    }
    println!(
        "balance-alert {} listening on http://{} (metrics on http://{}/metrics)",
        env!("CARGO_PKG_VERSION"),
        addrs.api,
        addrs.metrics
    );
    let _ = std::io::Write::flush(&mut std::io::stdout());

    let stop = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let limits = Limits::new(
        args.header_read_timeout_seconds,
        args.keep_alive_timeout_seconds,
        args.max_connections,
    );
    let api_server = tokio::spawn(conn::serve(
        listener,
        api.service(),
        limits,
        shutdown_rx.clone(),
    ));
    let metrics_server = tokio::spawn(conn::serve(
        metrics_listener,
        metrics.service(),
        limits,
        shutdown_rx.clone(),
    ));
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        let _ = shutdown_tx.send(true);
    });
    let started = match started {
        Some(s) => Ok(s),
        // Started while serving 503: the app replaces it once the store answers.
        None => tokio::select! {
            opened = &mut opening => match joined(opened) {
                Ok(opened) => start(opened, &args, options, addrs, shutdown_rx.clone()).await,
                Err(e) => Err(e),
            },
            () = stop(shutdown_rx.clone()) => {
                opening.abort();
                return finish(api_server, metrics_server, None).await;
            }
        }
        .inspect(|s| {
            api.set(s.api.clone());
            metrics.set(s.metrics.clone());
        }),
    };
    match started {
        Ok(s) => finish(api_server, metrics_server, Some(s)).await,
        Err(e) => {
            // Nothing can be served: stop the placeholder servers and say why.
            api_server.abort();
            metrics_server.abort();
            usage(e)
        }
    }
}

/// Where the two servers listen.
#[derive(Debug, Clone, Copy)]
struct Addrs {
    api: SocketAddr,
    metrics: SocketAddr,
}

/// The configuration and the store, once they could be read.
struct Opened {
    source: Arc<dyn ConfigSource>,
    store: Arc<dyn Store>,
}

/// The running service: its two routers and the tasks to wait for at shutdown.
struct Started {
    api: Router,
    metrics: Router,
    scheduler: JoinHandle<()>,
    others: Vec<JoinHandle<()>>,
    /// Held until the scheduler stopped: its claims are freed at once by the next process on
    /// this data directory if this one dies mid-check.
    node: Option<NodeLock>,
}

/// Opens the config and the store once.
async fn open(
    config: &super::source::ConfigArg,
    table: &super::source::TableArg,
) -> Result<Opened, OpenError> {
    let (source, _) = open_config(config, table).await?;
    let settings = source.get().config.settings.clone();
    let store = open_store(table, &settings, false).await?;
    Ok(Opened { source, store })
}

/// Opens the config and the store, trying again with backoff while the store cannot be
/// read; the outage is logged once, and its end once. Any other problem is returned.
async fn open_until_readable(
    config: super::source::ConfigArg,
    table: super::source::TableArg,
) -> Result<Opened, String> {
    let mut wait = RETRY_FIRST;
    let mut down = false;
    loop {
        match open(&config, &table).await {
            Ok(opened) => {
                if down {
                    tracing::info!("the store answers again: serving");
                }
                return Ok(opened);
            }
            Err(e) if e.retryable => {
                if down {
                    tracing::debug!(error = %e, "the store still cannot be read");
                } else {
                    tracing::error!(error = %e, "the store cannot be read at start: /health, /ready and the API answer 503 while it is tried again (logged again when it answers)");
                    down = true;
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(RETRY_MAX);
            }
            Err(e) => return Err(e.message),
        }
    }
}

/// The outcome of the opening task.
fn joined(
    result: Result<Result<Opened, String>, tokio::task::JoinError>,
) -> Result<Opened, String> {
    result.map_err(|e| format!("start failed: {e}"))?
}

/// Builds the service on what was opened and starts its background tasks (config watcher,
/// scheduler, mailbox scan, deliveries); Err for a setting that needs a fix.
async fn start(
    opened: Opened,
    args: &ServeArgs,
    mut options: ApiOptions,
    addrs: Addrs,
    shutdown_rx: watch::Receiver<bool>,
) -> Result<Started, String> {
    let Opened { source, store } = opened;
    let settings = source.get().config.settings.clone();
    let db = settings.database_path.clone();
    let env = config::process_env();
    let data_dir = db
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let auth = AuthConfig::from_env(&env, data_dir)?;
    options.check_with(&auth)?;
    if auth.api_key.is_none() && !args.listen.ip().is_loopback() {
        if !args.allow_open_without_key {
            return Err(format!(
                "--listen {}: listening beyond loopback without an API key would open balances and config edits to the network; set WEB_API_KEY, or pass --allow-open-without-key (ALLOW_OPEN_WITHOUT_KEY=true) if that is really meant",
                args.listen
            ));
        }
        tracing::warn!(listen = %args.listen, "no WEB_API_KEY set and listening beyond loopback: the API is open to the network");
    }
    let metrics_store = store.clone();
    let node = match NodeLock::acquire(data_dir) {
        Ok(Some(node)) => Some(node),
        Ok(None) => {
            tracing::info!(dir = %data_dir.display(), "another process runs as this data directory's node: claims left by a crash here come back when their lease expires");
            None
        }
        Err(e) => {
            tracing::warn!(dir = %data_dir.display(), error = %e, "cannot take the node lock: claims left by a crash come back when their lease expires");
            None
        }
    };
    let claimant = node
        .as_ref()
        .map_or_else(Claimant::anonymous, |n| Claimant::of_node(n.id()));
    let Services {
        status,
        metrics,
        checker,
        notifier,
        ..
    } = Services::builder(source.clone(), store.clone())
        .claimant(claimant)
        // A digest due at start waits for this process's first run: current readings, not
        // the previous process's.
        .digest_after_first_run()
        .build();
    // Learned in the background: a store that hangs must not hold up the start.
    tokio::spawn({
        let (status, store) = (status.clone(), store.clone());
        async move {
            // A failure is logged by the status (once per outage).
            let _ = status.prime(&*store).await;
        }
    });
    let others = vec![
        tokio::spawn(watch_config(
            source.clone(),
            metrics.clone(),
            shutdown_rx.clone(),
        )),
        tokio::spawn(balance_alert_notify::worker::scan_mail_loop(
            notifier.clone(),
            source.clone(),
            shutdown_rx.clone(),
        )),
        tokio::spawn(balance_alert_notify::worker::run(
            notifier,
            source.clone(),
            shutdown_rx.clone(),
        )),
    ];
    let scheduler = tokio::spawn(driver::run(checker.clone(), shutdown_rx));
    // Requests addressed to the listen address itself are ours (the DNS-rebinding guard).
    options.allowed_hosts.push(addrs.api.ip().to_string());
    let mut metrics_hosts = options.allowed_hosts.clone();
    metrics_hosts.push(addrs.metrics.ip().to_string());
    let mut state = AppState::new(checker, metrics.clone(), auth, options);
    match super::dashboard::site() {
        Some(site) => {
            tracing::info!(
                files = super::dashboard::file_count(),
                "dashboard served at /"
            );
            state = state.with_site(site);
        }
        None => {
            // A release binary built before the SPA: say how to get the dashboard.
            tracing::warn!("this binary has no dashboard (dist/index.html was missing when it was built): / shows the plain status page; run ./scripts/build-spa.sh, then rebuild");
        }
    }
    let metrics_source = MetricsSource {
        metrics,
        status: state.status.clone(),
        config: source,
        store: metrics_store,
    };
    Ok(Started {
        api: app(state),
        metrics: metrics_app(metrics_source, metrics_hosts),
        scheduler,
        others,
        node,
    })
}

/// Waits for both servers to stop (graceful shutdown), then for the service's tasks.
async fn finish(
    api: JoinHandle<std::io::Result<()>>,
    metrics: JoinHandle<std::io::Result<()>>,
    started: Option<Started>,
) -> ExitCode {
    let (api_result, metrics_result) = tokio::join!(api, metrics);
    if let Some(s) = started {
        let _ = s.scheduler.await;
        drop(s.node);
        for task in s.others {
            let _ = task.await;
        }
    }
    let flat = |r: Result<std::io::Result<()>, tokio::task::JoinError>| {
        r.map_err(std::io::Error::other).and_then(|r| r)
    };
    match flat(api_result).and(flat(metrics_result)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: server failed: {e}");
            ExitCode::from(1)
        }
    }
}

/// A router that can be replaced while its listener serves it: the 503 one until the store
/// answers, then the app.
#[derive(Clone)]
struct Switch(Arc<RwLock<Router>>);

impl Switch {
    fn new(initial: Router) -> Self {
        Switch(Arc::new(RwLock::new(initial)))
    }

    /// Serves `router` from the next request on.
    fn set(&self, router: Router) {
        *self.0.write().expect("router lock is never poisoned") = router;
    }

    /// The router to serve: each request goes to the current one.
    fn service(&self) -> Router {
        let current = self.0.clone();
        Router::new().fallback(move |request: Request| {
            let router = current
                .read()
                .expect("router lock is never poisoned")
                .clone();
            async move {
                match router.oneshot(request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                }
            }
        })
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Looks for a new configuration regularly: the file once a second (a stat; see
/// [`LiveConfig::poll`]: symlink chains and ConfigMap swaps included, no reload loops), the
/// table's document every 5 s.
async fn watch_config(
    source: Arc<dyn ConfigSource>,
    metrics: Arc<Metrics>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let loaded = source.get();
    if loaded.mode == config::Mode::Env {
        return;
    }
    let period = if loaded.path.is_some() {
        Duration::from_secs(1)
    } else {
        Duration::from_secs(5)
    };
    balance_alert_core::periodic::every(period, shutdown, || async {
        if source.refresh().await {
            metrics.note_config_reload();
        }
    })
    .await;
}
