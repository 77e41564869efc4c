//! The per-project alert state machine: OK → LOW → CRITICAL, FAILING after K failed checks, and a
//! *recovered* event on the way back to OK.
//!
//! [`transition`] is pure: the store runs it inside a conditional write so that two racing checks
//! of one project produce exactly one alert (the loser re-reads and finds nothing left to announce).

use crate::alert::*;
use crate::Decimal;

/// The result of one check, fed to [`transition`].
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    /// The balance was read.
    Balance { amount: Decimal, currency: String },
    /// The check failed; the message is safe to show.
    Failure { message: String },
    /// The check was not attempted (circuit open): not a failure. The state, reading and
    /// failure count stay as they were; the reason marks the reading stale.
    Skipped { reason: String },
}

/// Thresholds and timing that drive the state machine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlertPolicy {
    /// Below this the project is LOW.
    pub threshold: Decimal,
    /// Below this the project is CRITICAL.
    pub critical_threshold: Option<Decimal>,
    /// K: consecutive failures before FAILING (and its alert).
    pub failure_threshold: u32,
    /// Seconds before a still-low project is reminded again.
    pub cooldown_seconds: i64,
    /// Leaving LOW/CRITICAL needs the balance this many percent above `threshold`, so a
    /// balance hovering at the line does not flap.
    pub recovery_margin_percent: Decimal,
    /// What kind of figure the balance is: a budget or a quota window is named as such in
    /// the alert's message ("budget left 5.00 USD is LOW").
    pub figure: Option<crate::BalanceKind>,
    /// The language the alert's stored one-line text is written in (`settings.language`).
    pub language: crate::text::Language,
}

impl AlertPolicy {
    fn with_margin(&self, line: Decimal) -> Decimal {
        line + line.abs() * self.recovery_margin_percent / Decimal::ONE_HUNDRED
    }

    /// The balance at or above which a LOW/CRITICAL project counts as recovered.
    pub fn recovery_level(&self) -> Decimal {
        self.with_margin(self.threshold)
    }

    /// The balance at or above which a CRITICAL project is back to LOW (None without a
    /// critical threshold).
    pub fn critical_recovery_level(&self) -> Option<Decimal> {
        self.critical_threshold.map(|c| self.with_margin(c))
    }

    /// The level `amount` puts a project in that was at `prev` before: leaving a level needs
    /// the recovery margin above its line, at every level, so a balance hovering at either
    /// line does not flap.
    pub fn level_after(&self, amount: Decimal, prev: Option<AlertState>) -> AlertState {
        let raw = level_for(amount, self);
        match (prev, raw) {
            (Some(AlertState::Critical), AlertState::Low | AlertState::Ok)
                if self.critical_recovery_level().is_some_and(|r| amount < r) =>
            {
                AlertState::Critical
            }
            (Some(AlertState::Critical | AlertState::Low), AlertState::Ok)
                if amount < self.recovery_level() =>
            {
                AlertState::Low
            }
            _ => raw,
        }
    }

    /// The figure at which a project in `state` leaves it upwards.
    pub fn recovers_at(&self, state: AlertState) -> Option<Decimal> {
        match state {
            AlertState::Critical => self.critical_recovery_level(),
            AlertState::Low => Some(self.recovery_level()),
            AlertState::Ok | AlertState::Failing => None,
        }
    }
}

/// Identity of the project being checked.
#[derive(Debug, Clone, Copy)]
pub struct ProjectRef<'a> {
    pub project_id: &'a str,
    pub project_name: &'a str,
    pub provider: &'a str,
}

/// The level a balance reading puts a project in.
pub fn level_for(amount: Decimal, policy: &AlertPolicy) -> AlertState {
    match policy.critical_threshold {
        Some(critical) if amount < critical => AlertState::Critical,
        _ if amount < policy.threshold => AlertState::Low,
        _ => AlertState::Ok,
    }
}

/// Computes the next state and the alert (if any) that the change deserves.
///
/// `prev` is the stored state (None for a project never checked). The returned state has
/// `version = prev.version + 1`.
pub fn transition(
    project: ProjectRef<'_>,
    prev: Option<&ProjectState>,
    observation: &Observation,
    policy: &AlertPolicy,
    now: i64,
) -> (ProjectState, Option<AlertRecord>) {
    let version = prev.map_or(1, |p| p.version + 1);
    let mut next = ProjectState {
        project_id: project.project_id.to_owned(),
        project_name: project.project_name.to_owned(),
        provider: project.provider.to_owned(),
        state: prev.map_or(AlertState::Ok, |p| p.state),
        balance: prev.and_then(|p| p.balance),
        currency: prev.map(|p| p.currency.clone()).unwrap_or_default(),
        consecutive_failures: 0,
        last_alert_at: prev.and_then(|p| p.last_alert_at),
        last_checked_at: now,
        last_success_at: prev.and_then(|p| p.last_success_at),
        last_error: None,
        stale_reason: None,
        cached: false,
        snooze: prev.and_then(|p| p.snooze.clone()),
        forecast_for: prev.and_then(|p| p.forecast_for.clone()),
        prior_state: None,
        version,
    };
    let prev_state = prev.map(|p| p.state);

    if let Observation::Skipped { reason } = observation {
        // Nothing was learned: keep everything, including when the project was last checked.
        return match prev {
            Some(p) => (
                ProjectState {
                    stale_reason: Some(reason.clone()),
                    version,
                    ..p.clone()
                },
                None,
            ),
            // Never read: nothing suggests the project is fine, but no check failed either.
            None => (
                ProjectState {
                    state: AlertState::Failing,
                    stale_reason: Some(reason.clone()),
                    last_checked_at: 0,
                    ..next
                },
                None,
            ),
        };
    }

    let kind = match observation {
        Observation::Balance { amount, currency } => {
            // Hysteresis at every level; after FAILING, against the level before it.
            let before = match prev_state {
                Some(AlertState::Failing) => prev.and_then(|p| p.prior_state),
                other => other,
            };
            let level = policy.level_after(*amount, before);
            next.balance = Some(*amount);
            next.currency = currency.clone();
            next.state = level;
            next.last_success_at = Some(now);
            match (prev_state, level) {
                (None | Some(AlertState::Ok), AlertState::Ok) => None,
                // Recovered only from something announced: a FAILING state whose alert never went
                // out (fewer than K failures, e.g. a new project's first check) is not news.
                (Some(AlertState::Failing), AlertState::Ok)
                    if prev.is_some_and(|p| {
                        p.consecutive_failures < policy.failure_threshold.max(1)
                    }) =>
                {
                    None
                }
                (Some(_), AlertState::Ok) => Some(AlertKind::Recovered),
                // De-escalation (CRITICAL → LOW) is good news but not yet recovery: stay quiet.
                (Some(AlertState::Critical), AlertState::Low) => None,
                (Some(p), l) if p == l => reminder_due(prev, policy, now).filter(|_| {
                    !prev
                        .and_then(|p| p.snooze.as_ref())
                        .is_some_and(|s| s.active(now, l))
                }),
                (_, AlertState::Low) => Some(AlertKind::Low),
                (_, AlertState::Critical) => Some(AlertKind::Critical),
                (_, AlertState::Failing) => unreachable!("level_for never yields Failing"),
            }
        }
        Observation::Skipped { .. } => unreachable!("handled above"),
        Observation::Failure { message } => {
            let failures = prev.map_or(0, |p| p.consecutive_failures) + 1;
            next.consecutive_failures = failures;
            next.last_error = Some(message.clone());
            let reached = failures >= policy.failure_threshold.max(1);
            match prev_state {
                // Never read successfully: nothing suggests the project is fine.
                None => {
                    next.state = AlertState::Failing;
                    reached.then_some(AlertKind::Failing)
                }
                Some(AlertState::Failing) => {
                    if reached && failures == policy.failure_threshold.max(1) {
                        // First time K is reached for a project that started out failing.
                        Some(AlertKind::Failing)
                    } else if reached {
                        reminder_due(prev, policy, now).filter(|_| {
                            !prev
                                .and_then(|p| p.snooze.as_ref())
                                .is_some_and(|s| s.active(now, AlertState::Failing))
                        })
                    } else {
                        None
                    }
                }
                Some(_) if reached => {
                    next.state = AlertState::Failing;
                    Some(AlertKind::Failing)
                }
                Some(_) => None,
            }
        }
    };
    if next.state == AlertState::Failing {
        // Remember the level to leave by its margin: the one before FAILING, kept while failing.
        next.prior_state = match prev {
            Some(p) if p.state == AlertState::Failing => p.prior_state,
            Some(p) if matches!(p.state, AlertState::Low | AlertState::Critical) => Some(p.state),
            _ => None,
        };
    }

    // Back to OK: a snooze has done its job (it holds reminders "until topped up" at most).
    if next.state == AlertState::Ok {
        next.snooze = None;
    }
    let alert = kind.map(|kind| {
        next.last_alert_at = Some(now);
        let failing = next.state == AlertState::Failing;
        let mut a = AlertRecord {
            id: format!("{}-{}-{}", project.project_id, now, version),
            project_id: project.project_id.to_owned(),
            project_name: project.project_name.to_owned(),
            provider: project.provider.to_owned(),
            kind,
            state: next.state,
            balance: match observation {
                Observation::Balance { amount, .. } => Some(*amount),
                _ => None,
            },
            threshold: match next.state {
                AlertState::Critical => policy.critical_threshold.unwrap_or(policy.threshold),
                _ => policy.threshold,
            },
            currency: next.currency.clone(),
            message: String::new(),
            status: AlertStatus::Pending,
            created_at: now,
            details: AlertDetails {
                figure: policy.figure,
                failures: failing.then_some(next.consecutive_failures),
                reason: if failing {
                    next.last_error.clone()
                } else {
                    None
                },
                recovers_at: policy.recovers_at(next.state),
                ..AlertDetails::default()
            },
            deliveries: Vec::new(),
        };
        a.message = crate::text::alert_text(&a, policy.language);
        a
    });
    (next, alert)
}

fn reminder_due(prev: Option<&ProjectState>, policy: &AlertPolicy, now: i64) -> Option<AlertKind> {
    let last = prev.and_then(|p| p.last_alert_at)?;
    (now - last >= policy.cooldown_seconds).then_some(AlertKind::Reminder)
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: ProjectRef<'static> = ProjectRef {
        project_id: "id1",
        project_name: "Main",
        provider: "openrouter",
    };

    fn policy() -> AlertPolicy {
        AlertPolicy {
            threshold: Decimal::from(10),
            critical_threshold: Some(Decimal::from(2)),
            failure_threshold: 3,
            cooldown_seconds: 100,
            recovery_margin_percent: Decimal::from(5),
            figure: None,
            language: crate::text::Language::En,
        }
    }

    #[test]
    fn a_budget_or_quota_window_is_named_as_such_in_the_message() {
        let mut p = policy();
        p.figure = Some(crate::BalanceKind::BudgetSpend);
        let (_, alert) = transition(P, None, &bal(5.0), &p, 1_000);
        let message = alert.expect("LOW alert").message;
        assert_eq!(
            message,
            "Main: budget left 5.00 USD is LOW (threshold 10.00 USD)"
        );
        p.figure = Some(crate::BalanceKind::QuotaWindow);
        let (_, alert) = transition(P, None, &bal(5.0), &p, 1_000);
        assert!(alert
            .expect("LOW alert")
            .message
            .contains("quota left 5.00"));
    }

    fn bal(amount: f64) -> Observation {
        Observation::Balance {
            amount: Decimal::try_from(amount).expect("finite test amount"),
            currency: "USD".into(),
        }
    }

    fn fail() -> Observation {
        Observation::Failure {
            message: "timeout".into(),
        }
    }

    /// Runs observations at the given times and returns the alert kinds produced.
    fn run(steps: &[(i64, Observation)]) -> (ProjectState, Vec<AlertKind>) {
        let mut state: Option<ProjectState> = None;
        let mut kinds = Vec::new();
        for (t, obs) in steps {
            let (next, alert) = transition(P, state.as_ref(), obs, &policy(), *t);
            kinds.extend(alert.map(|a| a.kind));
            state = Some(next);
        }
        (state.expect("at least one step"), kinds)
    }

    #[test]
    fn ok_balance_on_first_check_raises_nothing() {
        let (s, kinds) = run(&[(0, bal(50.0))]);
        assert_eq!(s.state, AlertState::Ok);
        assert!(kinds.is_empty());
    }

    #[test]
    fn falling_balance_alerts_once_per_transition() {
        let (s, kinds) = run(&[(0, bal(50.0)), (1, bal(5.0)), (2, bal(4.0)), (3, bal(1.0))]);
        assert_eq!(s.state, AlertState::Critical);
        assert_eq!(kinds, vec![AlertKind::Low, AlertKind::Critical]);
    }

    #[test]
    fn still_low_project_is_reminded_only_after_the_cooldown() {
        let (_, kinds) = run(&[
            (0, bal(5.0)),
            (50, bal(5.0)),
            (99, bal(5.0)),
            (100, bal(5.0)),
        ]);
        assert_eq!(kinds, vec![AlertKind::Low, AlertKind::Reminder]);
    }

    #[test]
    fn recovery_emits_a_recovered_event() {
        let (s, kinds) = run(&[(0, bal(5.0)), (1, bal(20.0)), (2, bal(30.0))]);
        assert_eq!(s.state, AlertState::Ok);
        assert_eq!(kinds, vec![AlertKind::Low, AlertKind::Recovered]);
    }

    #[test]
    fn failing_needs_k_consecutive_failures_and_alerts_once() {
        let (s, kinds) = run(&[
            (0, bal(50.0)),
            (1, fail()),
            (2, fail()),
            (3, fail()),
            (4, fail()),
        ]);
        assert_eq!(s.state, AlertState::Failing);
        assert_eq!(s.consecutive_failures, 4);
        assert_eq!(kinds, vec![AlertKind::Failing]);
    }

    #[test]
    fn a_success_between_failures_resets_the_count() {
        let (s, kinds) = run(&[
            (0, bal(50.0)),
            (1, fail()),
            (2, fail()),
            (3, bal(50.0)),
            (4, fail()),
        ]);
        assert_eq!(s.state, AlertState::Ok);
        assert_eq!(s.consecutive_failures, 1);
        assert!(kinds.is_empty());
    }

    #[test]
    fn project_never_read_is_failing_but_alerts_only_at_k() {
        let (s, kinds) = run(&[(0, fail())]);
        assert_eq!(s.state, AlertState::Failing);
        assert!(kinds.is_empty());
        let (_, kinds) = run(&[(0, fail()), (1, fail()), (2, fail()), (3, fail())]);
        assert_eq!(kinds, vec![AlertKind::Failing]);
    }

    #[test]
    fn first_check_failing_then_ok_is_not_a_recovery() {
        let (s, kinds) = run(&[(0, fail()), (1, bal(50.0))]);
        assert_eq!(s.state, AlertState::Ok);
        assert!(kinds.is_empty());
    }

    #[test]
    fn failing_then_success_recovers() {
        let (s, kinds) = run(&[
            (0, bal(50.0)),
            (1, fail()),
            (2, fail()),
            (3, fail()),
            (4, bal(50.0)),
        ]);
        assert_eq!(s.state, AlertState::Ok);
        assert_eq!(kinds, vec![AlertKind::Failing, AlertKind::Recovered]);
    }

    fn skipped() -> Observation {
        Observation::Skipped {
            reason: "circuit open".into(),
        }
    }

    #[test]
    fn a_check_not_attempted_never_counts_as_a_failure() {
        // GIVEN a healthy project, WHEN many checks in a row are skipped (breaker open),
        // THEN it stays OK with its reading, no failure is counted and nothing alerts.
        let (s, kinds) = run(&[
            (0, bal(50.0)),
            (1, skipped()),
            (2, skipped()),
            (3, skipped()),
            (4, skipped()),
        ]);
        assert_eq!(s.state, AlertState::Ok);
        assert_eq!(s.balance, Some(Decimal::from(50)));
        assert_eq!(s.consecutive_failures, 0);
        assert_eq!(s.last_checked_at, 0, "not checked since");
        assert_eq!(s.stale_reason.as_deref(), Some("circuit open"));
        assert!(kinds.is_empty());
        // A real check afterwards clears the stale mark and does not "recover".
        let (s, kinds) = run(&[(0, bal(50.0)), (1, skipped()), (2, bal(49.0))]);
        assert_eq!(s.stale_reason, None);
        assert!(kinds.is_empty());
    }

    #[test]
    fn skipped_checks_neither_advance_nor_reset_the_failure_count() {
        let (s, kinds) = run(&[
            (0, bal(50.0)),
            (1, fail()),
            (2, skipped()),
            (3, fail()),
            (4, skipped()),
            (5, fail()),
        ]);
        assert_eq!(s.consecutive_failures, 3);
        assert_eq!(
            kinds,
            vec![AlertKind::Failing],
            "FAILING after K real attempts"
        );
    }

    #[test]
    fn a_balance_hovering_at_the_threshold_does_not_flap() {
        // threshold 10, margin 5 %: recovery needs 10.50.
        let (s, kinds) = run(&[
            (0, bal(9.9)),
            (1, bal(10.1)),
            (2, bal(9.95)),
            (3, bal(10.4)),
            (4, bal(10.5)),
        ]);
        assert_eq!(s.state, AlertState::Ok);
        assert_eq!(kinds, vec![AlertKind::Low, AlertKind::Recovered]);
    }

    #[test]
    fn a_snooze_holds_reminders_until_it_ends_and_recovery_clears_it() {
        let snoozed = |until: Option<i64>, topped: bool| {
            let (mut s, _) = run(&[(0, bal(5.0))]);
            s.snooze = Some(Snooze {
                until,
                until_topped_up: topped,
                alert_id: None,
                at: 0,
            });
            s
        };
        // Until topped up: no reminder however long it stays low.
        let s = snoozed(None, true);
        let (s, a) = transition(P, Some(&s), &bal(5.0), &policy(), 1_000);
        assert!(a.is_none());
        assert!(s.snooze.is_some());
        // …and a recovery clears it (and is still announced).
        let (s, a) = transition(P, Some(&s), &bal(50.0), &policy(), 1_001);
        assert_eq!(a.map(|a| a.kind), Some(AlertKind::Recovered));
        assert!(s.snooze.is_none());
        // Until a time: reminders resume after it.
        let s = snoozed(Some(500), false);
        let (s2, a) = transition(P, Some(&s), &bal(5.0), &policy(), 200);
        assert!(a.is_none());
        let (_, a) = transition(P, Some(&s2), &bal(5.0), &policy(), 600);
        assert_eq!(a.map(|a| a.kind), Some(AlertKind::Reminder));
        // A worse state is news even while snoozed.
        let (_, a) = transition(P, Some(&s), &bal(1.0), &policy(), 200);
        assert_eq!(a.map(|a| a.kind), Some(AlertKind::Critical));
    }

    #[test]
    fn the_critical_line_does_not_flap() {
        // threshold 10, critical 2, margin 5 %: back to LOW needs 2.10.
        let (s, kinds) = run(&[
            (0, bal(1.99)),
            (1, bal(2.01)),
            (2, bal(1.99)),
            (3, bal(2.01)),
            (4, bal(1.99)),
        ]);
        assert_eq!(s.state, AlertState::Critical);
        assert_eq!(kinds, vec![AlertKind::Critical]);
        let (s, kinds) = run(&[(0, bal(1.99)), (1, bal(2.1)), (2, bal(1.99))]);
        assert_eq!(s.state, AlertState::Critical);
        assert_eq!(
            kinds,
            vec![AlertKind::Critical, AlertKind::Critical],
            "past the margin and back down is a new crossing"
        );
    }

    #[test]
    fn failing_after_low_recovers_only_past_the_margin() {
        let (s, kinds) = run(&[
            (0, bal(5.0)),
            (1, fail()),
            (2, fail()),
            (3, fail()),
            (4, bal(10.2)),
        ]);
        assert_eq!(s.state, AlertState::Low, "10.20 is inside the margin");
        assert_eq!(
            kinds,
            vec![AlertKind::Low, AlertKind::Failing, AlertKind::Low]
        );
        let (s, kinds) = run(&[
            (0, bal(5.0)),
            (1, fail()),
            (2, fail()),
            (3, fail()),
            (4, bal(10.5)),
        ]);
        assert_eq!(s.state, AlertState::Ok);
        assert_eq!(kinds.last(), Some(&AlertKind::Recovered));
        // From OK, FAILING, then a reading inside the margin: never was low, so OK.
        let (s, kinds) = run(&[
            (0, bal(50.0)),
            (1, fail()),
            (2, fail()),
            (3, fail()),
            (4, bal(10.2)),
        ]);
        assert_eq!(s.state, AlertState::Ok);
        assert_eq!(kinds, vec![AlertKind::Failing, AlertKind::Recovered]);
    }

    #[test]
    fn a_low_message_never_shows_its_value_equal_to_the_threshold() {
        let (_, a) = transition(P, None, &bal(9.999), &policy(), 0);
        let m = a.expect("LOW").message;
        assert_eq!(m, "Main: balance 9.999 USD is LOW (threshold 10.000 USD)");
    }

    #[test]
    fn a_reminder_inside_the_margin_says_it_is_not_yet_recovered() {
        let (s, _) = transition(P, None, &bal(5.0), &policy(), 0);
        let (_, a) = transition(P, Some(&s), &bal(10.2), &policy(), 1_000);
        let a = a.expect("reminder after the cooldown");
        assert_eq!(a.kind, AlertKind::Reminder);
        assert_eq!(
            a.message,
            "Main: balance 10.20 USD is above the threshold 10.00 USD but not yet recovered (recovers at 10.50 USD)"
        );
    }

    #[test]
    fn the_stored_text_is_in_the_configured_language() {
        let mut p = policy();
        p.language = crate::text::Language::Zh;
        let (_, a) = transition(P, None, &bal(5.0), &p, 0);
        assert_eq!(
            a.expect("LOW").message,
            "Main：余额 5.00 USD 低于阈值 10.00 USD（余额不足）"
        );
        let mut s = None;
        let mut last = None;
        for t in 0..3 {
            let (n, a) = transition(P, s.as_ref(), &fail(), &p, t);
            s = Some(n);
            last = a.or(last);
        }
        let a = last.expect("FAILING after 3");
        assert_eq!(a.message, "Main：连续 3 次查询失败：timeout");
        assert_eq!(
            crate::text::alert_text(&a, crate::text::Language::En),
            "Main: 3 checks failed in a row: timeout"
        );
    }

    #[test]
    fn versions_increase_by_one_per_write() {
        let (s, _) = run(&[(0, bal(50.0)), (1, bal(40.0)), (2, fail())]);
        assert_eq!(s.version, 3);
    }

    #[test]
    fn state_names_round_trip() {
        for s in [
            AlertState::Ok,
            AlertState::Low,
            AlertState::Critical,
            AlertState::Failing,
        ] {
            assert_eq!(AlertState::parse(s.as_str()), Some(s));
        }
        assert_eq!(AlertState::parse("nope"), None);
    }
}
