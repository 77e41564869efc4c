//! `balance-alert serve`: API + scheduler in one process on the embedded store, with config
//! hot reload and `/metrics` on a separate port.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use balance_alert_api::{app, metrics_app, ApiOptions, AppState, AuthConfig, Metrics};
use balance_alert_core::config::{self, LiveConfig};
use balance_alert_core::scheduler;
use balance_alert_core::service::Checker;
use balance_alert_core::store::SqliteStore;
use notify_debouncer_mini::{new_debouncer, notify::RecursiveMode, DebounceEventResult};

use super::{ServeArgs, EXIT_USAGE};

fn usage(message: String) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_USAGE)
}

pub async fn run(args: ServeArgs) -> ExitCode {
    let live = match LiveConfig::load(&args.config.config, config::process_env()) {
        Ok(l) => Arc::new(l),
        Err(e) => return usage(e.to_string()),
    };
    for w in &live.get().warnings {
        tracing::warn!(problem = %w, "config warning");
    }
    let db = live.get().config.settings.database_path.clone();
    let store = match SqliteStore::open(&db) {
        Ok(s) => Arc::new(s),
        Err(e) => return usage(format!("database {}: {e}", db.display())),
    };
    let env = config::process_env();
    let options = match ApiOptions::from_env(&env) {
        Ok(o) => o,
        Err(e) => return usage(e),
    };
    let auth = AuthConfig::from_env(&env);
    if auth.api_key.is_none() && !args.listen.ip().is_loopback() {
        tracing::warn!(listen = %args.listen, "no WEB_API_KEY set and listening beyond loopback: the API is open to the network");
    }
    let metrics = Arc::new(Metrics::new());
    let checker = Arc::new(Checker::new(live.clone(), store, metrics.clone()));
    let state = AppState::new(checker.clone(), metrics.clone(), auth, options);

    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => return usage(format!("--listen {}: {e}", args.listen)),
    };
    let metrics_listener = match tokio::net::TcpListener::bind(args.metrics_listen).await {
        Ok(l) => l,
        Err(e) => return usage(format!("--metrics-listen {}: {e}", args.metrics_listen)),
    };
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let _watcher = match watch_config(live.clone(), live.path()) {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!(error = %e, "config hot reload disabled");
            None
        }
    };
    let scheduler = tokio::spawn(scheduler::run(checker, shutdown_rx.clone()));
    let api_addr = listener.local_addr().unwrap_or(args.listen);
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
    let metrics_server = axum::serve(metrics_listener, metrics_app(metrics))
        .with_graceful_shutdown(stop(shutdown_rx));
    let signals = async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        let _ = shutdown_tx.send(true);
    };
    let (api_result, metrics_result, ()) = tokio::join!(api, metrics_server, signals);
    let _ = scheduler.await;
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

/// Watches the config file's directory (editors replace files by rename) and reloads after
/// ~1 s of quiet.
fn watch_config(
    live: Arc<LiveConfig>,
    path: &Path,
) -> Result<
    notify_debouncer_mini::Debouncer<notify_debouncer_mini::notify::RecommendedWatcher>,
    String,
> {
    let file = path
        .file_name()
        .map(|f| f.to_owned())
        .ok_or("config path has no file name")?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => std::path::PathBuf::from("."),
    };
    if !path.exists() {
        return Err(format!(
            "{} does not exist (env-only configuration)",
            path.display()
        ));
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut debouncer = new_debouncer(Duration::from_secs(1), move |res: DebounceEventResult| {
        if let Ok(events) = res {
            if events
                .iter()
                .any(|e| e.path.file_name() == Some(file.as_os_str()))
            {
                let _ = tx.send(());
            }
        }
    })
    .map_err(|e| e.to_string())?;
    debouncer
        .watcher()
        .watch(&dir, RecursiveMode::NonRecursive)
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            let live = live.clone();
            let _ = tokio::task::spawn_blocking(move || live.reload()).await;
        }
    });
    Ok(debouncer)
}
