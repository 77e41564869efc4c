//! `balance-alert serve`: API + scheduler in one process on the embedded store, with config
//! hot reload and `/metrics` on a separate port.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use balance_alert_api::{
    app, metrics_app, ApiOptions, AppState, AuthConfig, Metrics, MetricsSource,
};
use balance_alert_core::config::{self, ConfigSource};
use balance_alert_core::node::NodeLock;
use balance_alert_core::scheduler;
use balance_alert_core::service::{Checker, Status};
use balance_alert_core::store::Claimant;

use super::source::{open_config, open_store};
use super::{ServeArgs, EXIT_USAGE};

fn usage(message: String) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_USAGE)
}

pub async fn run(args: ServeArgs) -> ExitCode {
    let (source, _) = match open_config(&args.config, &args.table).await {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    let settings = source.get().config.settings.clone();
    let db = settings.database_path.clone();
    let store = match open_store(&args.table, &settings, false).await {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    let env = config::process_env();
    let mut options = match ApiOptions::from_env(&env) {
        Ok(o) => o,
        Err(e) => return usage(e),
    };
    let data_dir = db
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let auth = match AuthConfig::from_env(&env, data_dir) {
        Ok(a) => a,
        Err(e) => return usage(e),
    };
    if auth.api_key.is_none() && !args.listen.ip().is_loopback() {
        if !args.allow_open_without_key {
            return usage(format!(
                "--listen {}: listening beyond loopback without an API key would open balances and config edits to the network; set WEB_API_KEY, or pass --allow-open-without-key (ALLOW_OPEN_WITHOUT_KEY=true) if that is really meant",
                args.listen
            ));
        }
        tracing::warn!(listen = %args.listen, "no WEB_API_KEY set and listening beyond loopback: the API is open to the network");
    }
    let metrics = Arc::new(Metrics::new());
    let status = Arc::new(Status::default());
    if let Err(e) = status.prime(&*store).await {
        tracing::warn!(error = %e, "cannot read the stored state at start");
    }
    let notifier = balance_alert_notify::Notifier::new(
        store.clone(),
        Duration::from_secs_f64(settings.request_timeout_seconds),
    )
    .with_observer(metrics.clone())
    // A digest due at start waits for this process's first run: current readings, not the
    // previous process's.
    .with_ready(status.clone());
    let metrics_store = store.clone();
    // The node this process runs as (held until exit): its claims are freed at once by the
    // next process on this data directory if this one dies mid-check.
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
    let checker = Arc::new(
        Checker::new(source.clone(), store, status, metrics.clone()).with_claimant(claimant),
    );

    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => return usage(format!("--listen {}: {e}", args.listen)),
    };
    let metrics_listener = match tokio::net::TcpListener::bind(args.metrics_listen).await {
        Ok(l) => l,
        Err(e) => return usage(format!("--metrics-listen {}: {e}", args.metrics_listen)),
    };
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let watcher = tokio::spawn(watch_config(
        source.clone(),
        metrics.clone(),
        shutdown_rx.clone(),
    ));
    let scheduler = tokio::spawn(scheduler::run(checker.clone(), shutdown_rx.clone()));
    let mail = tokio::spawn(balance_alert_notify::worker::scan_mail_loop(
        notifier.clone(),
        source.clone(),
        shutdown_rx.clone(),
    ));
    let deliveries = tokio::spawn(balance_alert_notify::worker::run(
        notifier,
        source.clone(),
        shutdown_rx.clone(),
    ));
    let api_addr = listener.local_addr().unwrap_or(args.listen);
    // Requests addressed to the listen address itself are ours (the DNS-rebinding guard).
    options.allowed_hosts.push(api_addr.ip().to_string());
    let state_hosts = options.allowed_hosts.clone();
    let mut state = AppState::new(checker.clone(), metrics.clone(), auth, options);
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
    let metrics_addr = metrics_listener.local_addr().unwrap_or(args.metrics_listen);
    println!("balance-alert {} listening on http://{api_addr} (metrics on http://{metrics_addr}/metrics)", env!("CARGO_PKG_VERSION"));
    let _ = std::io::Write::flush(&mut std::io::stdout());

    let stop = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let api = axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop(shutdown_rx.clone()));
    let mut metrics_hosts = state_hosts.clone();
    metrics_hosts.push(metrics_addr.ip().to_string());
    let metrics_source = MetricsSource {
        metrics,
        config: source.clone(),
        store: metrics_store,
    };
    let metrics_server = axum::serve(metrics_listener, metrics_app(metrics_source, metrics_hosts))
        .with_graceful_shutdown(stop(shutdown_rx));
    let signals = async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        let _ = shutdown_tx.send(true);
    };
    let (api_result, metrics_result, ()) = tokio::join!(api, metrics_server, signals);
    let _ = scheduler.await;
    drop(node);
    let _ = deliveries.await;
    let _ = mail.await;
    let _ = watcher.await;
    match api_result.and(metrics_result) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: server failed: {e}");
            ExitCode::from(1)
        }
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
    scheduler::every(period, shutdown, || async {
        if source.refresh().await {
            metrics.note_config_reload();
        }
    })
    .await;
}
