//! What the alert state machine ([`crate::transition`]) works on: a project's state, the alerts
//! it makes and their deliveries, and snoozes.

use serde::{Deserialize, Serialize};

use crate::Decimal;

/// Where a project stands after its latest check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// Balance at or above `threshold`.
    Ok,
    /// Balance below `threshold`.
    Low,
    /// Balance below `critical_threshold`.
    Critical,
    /// The balance could not be read (K checks in a row failed, or none ever succeeded).
    Failing,
}

impl AlertState {
    /// The lowercase name used in JSON, SQL and CLI output.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Ok => "ok",
            AlertState::Low => "low",
            AlertState::Critical => "critical",
            AlertState::Failing => "failing",
        }
    }

    /// Parses [`AlertState::as_str`] output.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "ok" => AlertState::Ok,
            "low" => AlertState::Low,
            "critical" => AlertState::Critical,
            "failing" => AlertState::Failing,
            _ => return None,
        })
    }
}

/// Why an alert record was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// The balance fell below the threshold.
    Low,
    /// The balance fell below the critical threshold.
    Critical,
    /// K consecutive checks failed.
    Failing,
    /// The project is back to OK after LOW, CRITICAL or FAILING.
    Recovered,
    /// Still LOW/CRITICAL/FAILING once the cooldown has passed since the last alert.
    Reminder,
    /// A subscription renews within its `alert_days_before` window.
    Renewal,
    /// The balance trend runs out within `forecast_alert_days` (once per projected date).
    Forecast,
    /// A billing mail (overdue, low balance, expiring) found by the mailbox scan, or a mailbox
    /// that could not be read.
    Email,
}

impl AlertKind {
    /// The snake_case name used in JSON and SQL.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Low => "low",
            AlertKind::Critical => "critical",
            AlertKind::Failing => "failing",
            AlertKind::Recovered => "recovered",
            AlertKind::Reminder => "reminder",
            AlertKind::Renewal => "renewal",
            AlertKind::Forecast => "forecast",
            AlertKind::Email => "email",
        }
    }

    /// Parses [`AlertKind::as_str`] output.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "low" => AlertKind::Low,
            "critical" => AlertKind::Critical,
            "failing" => AlertKind::Failing,
            "recovered" => AlertKind::Recovered,
            "reminder" => AlertKind::Reminder,
            "renewal" => AlertKind::Renewal,
            "forecast" => AlertKind::Forecast,
            "email" => AlertKind::Email,
            _ => return None,
        })
    }
}

/// Delivery status of an alert record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    /// Written, not yet delivered.
    Pending,
    /// Delivered to every channel.
    Sent,
    /// Delivery gave up.
    Failed,
}

impl AlertStatus {
    /// The lowercase name used in JSON and SQL.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Pending => "pending",
            AlertStatus::Sent => "sent",
            AlertStatus::Failed => "failed",
        }
    }

    /// Parses [`AlertStatus::as_str`] output.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => AlertStatus::Pending,
            "sent" => AlertStatus::Sent,
            "failed" => AlertStatus::Failed,
            _ => return None,
        })
    }
}

/// One channel's delivery of an alert (the outbox row of an (alert, channel) pair).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    /// The channel's configured name.
    pub channel: String,
    /// `pending` (queued or retrying), `sent` or `failed` (gave up; see `error`).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub status: AlertStatus,
    /// Sends tried so far.
    pub attempts: u32,
    /// Unix seconds before which no new attempt is made (backoff, Retry-After, rate limit,
    /// quiet hours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<i64>,
    /// Why the last attempt failed (never contains a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Unix seconds of the successful send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<i64>,
    /// Sent inside a summary message (quiet hours, storm guard) rather than on its own.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub summarized: bool,
    /// Held back by quiet hours until `next_attempt_at` (then sent in one summary).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub held: bool,
}

impl Delivery {
    /// A new, queued delivery to `channel`.
    pub fn queued(channel: &str) -> Delivery {
        Delivery {
            channel: channel.to_owned(),
            status: AlertStatus::Pending,
            attempts: 0,
            next_attempt_at: None,
            error: None,
            sent_at: None,
            summarized: false,
            held: false,
        }
    }
}

/// Facts of an alert beyond the balance, for messages.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertDetails {
    /// The project's (or subscription's) `owner_project`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_project: Option<String>,
    /// Renewals: days until the renewal; forecasts: days until the balance runs out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i64>,
    /// Renewals: the renewal date; forecasts: the projected run-out date (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    /// Email alerts: the sender and subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// What kind of figure the balance is (`budget_spend`, `quota_window`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub figure: Option<crate::BalanceKind>,
    /// How the figure was arrived at ("spent 40 of 100 USD budget this month").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// FAILING alerts and their reminders: checks failed in a row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failures: Option<u32>,
    /// FAILING alerts and their reminders: the last failure (never a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// LOW/CRITICAL alerts and reminders: the figure at or above which the project counts as
    /// recovered from that level (the threshold plus the recovery margin).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::float_option"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub recovers_at: Option<Decimal>,
}

/// A persisted alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// Unique id: `<project_id>-<unix millis>-<state version>`, stable across retries of one write.
    pub id: String,
    /// md5("provider:name"), see [`crate::project_id`].
    pub project_id: String,
    /// The project's configured name.
    pub project_name: String,
    /// Provider name such as `openrouter`.
    pub provider: String,
    /// Why the alert was raised.
    pub kind: AlertKind,
    /// The state the project entered (or is still in, for reminders).
    pub state: AlertState,
    /// The balance at the time, when known.
    pub balance: Option<Decimal>,
    /// The threshold that applied.
    pub threshold: Decimal,
    /// Currency of `balance` and `threshold`.
    pub currency: String,
    /// Human-readable one-line summary (never contains a secret).
    pub message: String,
    /// Delivery status: `pending` until every channel's delivery has settled, then `sent`
    /// (all sent) or `failed` (some channel gave up).
    pub status: AlertStatus,
    /// Unix seconds.
    pub created_at: i64,
    /// Owner, days left, due date.
    #[serde(default)]
    pub details: AlertDetails,
    /// Per-channel outcomes, filled in by the deliverer.
    #[serde(default)]
    pub deliveries: Vec<Delivery>,
}

/// The stored state of one project, versioned for conditional writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectState {
    /// md5("provider:name").
    pub project_id: String,
    /// The project's configured name.
    pub project_name: String,
    /// Provider name.
    pub provider: String,
    /// Current state.
    pub state: AlertState,
    /// Latest successfully read balance.
    pub balance: Option<Decimal>,
    /// Currency of `balance`.
    pub currency: String,
    /// Checks failed in a row.
    pub consecutive_failures: u32,
    /// Unix seconds of the last alert written for this project.
    pub last_alert_at: Option<i64>,
    /// Unix seconds of the last check.
    pub last_checked_at: i64,
    /// Unix seconds of the last successful check.
    pub last_success_at: Option<i64>,
    /// The last failure's message (no secrets).
    pub last_error: Option<String>,
    /// Set when the latest scheduled check was not attempted (circuit open): why the reading
    /// shown is older than the check. Cleared by the next real check.
    #[serde(default)]
    pub stale_reason: Option<String>,
    /// The latest reading came from the response cache rather than a call.
    #[serde(default)]
    pub cached: bool,
    /// Reminders held back until a time or until the balance recovers (ack / snooze).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snooze: Option<Snooze>,
    /// The run-out date (`YYYY-MM-DD`) the last forecast alert was raised for: one alert per
    /// projected date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast_for: Option<String>,
    /// While FAILING: the level the project was at before (LOW or CRITICAL), so the first
    /// reading afterwards leaves it only past the recovery margin, as it would have without the
    /// failures in between. None otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior_state: Option<AlertState>,
    /// Incremented on every write; the conditional write compares it.
    pub version: u64,
}

/// Reminders held back for a project (`POST /api/alerts/{id}/ack`, `…/snooze`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Snooze {
    /// Until this unix second (None: no time limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
    /// Until the project is back to OK (the balance was topped up).
    #[serde(default)]
    pub until_topped_up: bool,
    /// The alert acknowledged, when the snooze came from an acknowledgement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_id: Option<String>,
    /// Unix seconds of the request.
    pub at: i64,
}

impl Snooze {
    /// Whether it still holds reminders back at `now` for a project in `state`. A snooze
    /// ends when its time passes or the project is back to OK, whichever comes first.
    pub fn active(&self, now: i64, state: AlertState) -> bool {
        state != AlertState::Ok && self.until.is_none_or(|u| now < u)
    }
}
