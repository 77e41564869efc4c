//! Metrics hooks: what a run and the notifier report as they work (the engine's per-request
//! hooks are [`crate::check::engine::CheckObserver`]). The default methods do nothing.

use crate::check::engine::CheckObserver;
use crate::check::CheckRun;

/// Metrics about whole runs, on top of the engine's per-request hooks.
pub trait RunObserver: CheckObserver {
    /// A check run finished; `active_projects` is the number of enabled projects configured.
    fn run_finished(
        &self,
        _run: &CheckRun,
        _elapsed: std::time::Duration,
        _active_projects: usize,
    ) {
    }
}

/// Metrics about alert delivery and the mailbox scan (the notifier's hooks); the default
/// methods do nothing.
pub trait NotifyObserver: Send + Sync {
    /// One send to a channel finished: `kind` is the channel type (`feishu`, `webhook`, …),
    /// `outcome` `sent`, `retry` or `failed`, `timed_out` when the receiver did not answer.
    fn delivery(
        &self,
        _channel: &str,
        _kind: &str,
        _outcome: &str,
        _timed_out: bool,
        _elapsed: std::time::Duration,
    ) {
    }

    /// One mailbox was scanned: mails read, mails that alerted, whether it could be read.
    fn mail_scan(
        &self,
        _mailbox: &str,
        _read: usize,
        _alerts: usize,
        _ok: bool,
        _elapsed: std::time::Duration,
    ) {
    }
}

/// Observes nothing.
pub struct NoopNotifyObserver;

impl NotifyObserver for NoopNotifyObserver {}
