//! The notifier's metrics hooks: what delivery and the mailbox scan report as they work (a
//! run's are [`crate::check::RunObserver`], the engine's per-request ones
//! [`crate::check::engine::CheckObserver`]). The default methods do nothing.

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
