//! The notifier's loops in a long-lived process (`serve`): [`run`] ticks the [`Notifier`]
//! every two seconds, [`scan_mail_loop`] scans the mailboxes when due.

use std::sync::Arc;
use std::time::Duration;

use balance_alert_core::config::ConfigSource;
use balance_alert_core::periodic::every;

use crate::deliver::unix_now;
use crate::Notifier;

/// Scans the mailboxes when due (checked every minute) until `shutdown` turns true.
pub async fn scan_mail_loop(
    notifier: Notifier,
    source: Arc<dyn ConfigSource>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    every(Duration::from_secs(60), shutdown, || async {
        let loaded = source.get();
        match notifier.scan_mail_if_due(&loaded.config, unix_now()).await {
            Ok(Some(n)) => tracing::info!(new_alerts = n, "mailboxes scanned"),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "mailbox scan could not store its alerts"),
        }
    })
    .await;
}

/// Ticks every two seconds with the current config until `shutdown` turns true.
pub async fn run(
    notifier: Notifier,
    source: Arc<dyn ConfigSource>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    every(Duration::from_secs(2), shutdown, || async {
        let loaded = source.get();
        match notifier.tick(&loaded.config, unix_now()).await {
            Ok(r) if r.sent + r.failed + r.retrying > 0 => tracing::info!(
                sent = r.sent,
                summarized = r.summarized,
                retrying = r.retrying,
                failed = r.failed,
                "deliveries"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "delivery pass failed; retrying"),
        }
    })
    .await;
}
