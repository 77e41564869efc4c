//! Invariants of the alert state machine over random policies and random sequences of readings,
//! failures, skipped checks and snoozes in simulated time — what hand-picked examples missed:
//!
//! - every transition produces exactly one alert, of the kind the new state names;
//! - no alert while the state is unchanged, except reminders at the configured interval (never
//!   while snoozed);
//! - no flapping inside any margin: a project below a line leaves it only past the margin;
//! - the figure and words of a message never contradict its state, in either language.

use balance_alert_model::alert::{ProjectState, Snooze};
use balance_alert_model::text::{alert_text, Language};
use balance_alert_model::transition::{transition, AlertPolicy, Observation, ProjectRef};
use balance_alert_model::{AlertKind, AlertRecord, AlertState, Decimal};
use proptest::prelude::*;

const P: ProjectRef<'static> = ProjectRef {
    project_id: "id",
    project_name: "Main",
    provider: "openrouter",
};

#[derive(Debug, Clone)]
enum Step {
    /// A reading, as a fraction of the threshold in thousandths (so values cluster around the
    /// lines and their margins), plus a sub-cent nudge.
    Read {
        per_mille: i64,
        nudge: i64,
    },
    Fail,
    Skip,
    /// Snooze reminders for this many seconds (0: until topped up).
    Snooze(i64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0i64..1300, -3i64..4).prop_map(|(per_mille, nudge)| Step::Read { per_mille, nudge }),
        // Values exactly at and just around the lines.
        3 => prop_oneof![Just(1000i64), Just(200), Just(1050), Just(210), Just(999), Just(199)]
            .prop_flat_map(|p| (Just(p), -1i64..2))
            .prop_map(|(per_mille, nudge)| Step::Read { per_mille, nudge }),
        2 => Just(Step::Fail),
        1 => Just(Step::Skip),
        1 => (0i64..2000).prop_map(Step::Snooze),
    ]
}

fn policy() -> impl Strategy<Value = AlertPolicy> {
    (
        1i64..100_000,                // threshold in cents
        prop::option::of(50i64..950), // critical as thousandths of the threshold
        1u32..5,                      // K
        0i64..3000,                   // cooldown seconds
        0i64..25,                     // margin percent
        any::<bool>(),
    )
        .prop_map(|(cents, critical, k, cooldown, margin, zh)| {
            let threshold = Decimal::new(cents, 2);
            AlertPolicy {
                threshold,
                critical_threshold: critical
                    .map(|c| (threshold * Decimal::new(c, 3)).round_dp(2))
                    .filter(|c| *c > Decimal::ZERO && *c < threshold),
                failure_threshold: k,
                cooldown_seconds: cooldown,
                recovery_margin_percent: Decimal::from(margin),
                figure: None,
                language: if zh { Language::Zh } else { Language::En },
            }
        })
}

/// The decimals printed in `text`, in order.
fn numbers(text: &str) -> Vec<Decimal> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .filter(|w| w.contains('.'))
        .filter_map(|w| w.trim_matches('.').parse().ok())
        .collect()
}

/// The words and figures of `a` agree with its state, in both languages.
fn check_text(a: &AlertRecord, policy: &AlertPolicy) -> Result<(), TestCaseError> {
    for lang in [Language::En, Language::Zh] {
        let text = alert_text(a, lang);
        match (a.kind, a.state, a.balance) {
            (AlertKind::Low | AlertKind::Critical | AlertKind::Reminder, s, Some(b))
                if s == AlertState::Low || s == AlertState::Critical =>
            {
                let shown = numbers(&text);
                prop_assert!(shown.len() >= 2, "{text}");
                let (value, line) = (shown[0], shown[1]);
                if b < a.threshold {
                    // A value below its line never prints equal to (or above) it.
                    prop_assert!(value < line, "{text} (balance {b}, line {})", a.threshold);
                } else {
                    // Above the line but inside the margin: said so, with the recovery figure.
                    prop_assert!(
                        text.contains("not yet recovered") || text.contains("尚未恢复"),
                        "{text}"
                    );
                    let recovers = a.details.recovers_at.expect("recovery figure");
                    prop_assert!(b < recovers, "{text}");
                }
            }
            // (From LOW/CRITICAL it also needs the margin: the no-flapping check covers that.)
            (AlertKind::Recovered, AlertState::Ok, Some(b)) => {
                prop_assert!(b >= policy.threshold, "recovered at {b}: {text}");
            }
            (AlertKind::Failing | AlertKind::Reminder, AlertState::Failing, None) => {
                let n = a.details.failures.expect("failure count");
                prop_assert!(n >= policy.failure_threshold.max(1));
                prop_assert!(text.contains(&n.to_string()), "{text}");
            }
            other => prop_assert!(false, "unexpected alert {other:?}: {text}"),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_state_machine_alerts_once_per_transition_never_flaps_and_never_contradicts_itself(
        policy in policy(),
        steps in prop::collection::vec((step(), 1i64..2000), 1..60),
    ) {
        let mut state: Option<ProjectState> = None;
        let mut now = 1_800_000_000i64;
        for (s, dt) in steps {
            now += dt;
            let obs = match s {
                Step::Snooze(secs) => {
                    if let Some(st) = state.as_mut() {
                        st.snooze = Some(Snooze {
                            until: (secs > 0).then_some(now + secs),
                            until_topped_up: secs == 0,
                            alert_id: None,
                            at: now,
                        });
                    }
                    continue;
                }
                Step::Read { per_mille, nudge } => Observation::Balance {
                    amount: (policy.threshold * Decimal::new(per_mille, 3)).round_dp(2)
                        + Decimal::new(nudge, 3),
                    currency: "USD".into(),
                },
                Step::Fail => Observation::Failure { message: "HTTP 500".into() },
                Step::Skip => Observation::Skipped { reason: "circuit open".into() },
            };
            let prev = state.clone();
            let (next, alert) = transition(P, prev.as_ref(), &obs, &policy, now);
            prop_assert_eq!(next.version, prev.as_ref().map_or(1, |p| p.version + 1));
            let before = prev.as_ref().map(|p| p.state);
            // The level the project was at, looking through FAILING.
            let level_before = match prev.as_ref() {
                Some(p) if p.state == AlertState::Failing => p.prior_state,
                Some(p) => Some(p.state),
                None => None,
            };

            if let Observation::Balance { amount, .. } = &obs {
                // No flapping: below a line, a project leaves it only past the margin.
                if matches!(level_before, Some(AlertState::Low | AlertState::Critical))
                    && *amount < policy.recovery_level()
                {
                    prop_assert_ne!(next.state, AlertState::Ok, "{} inside the margin", amount);
                }
                if level_before == Some(AlertState::Critical)
                    && policy.critical_recovery_level().is_some_and(|r| *amount < r)
                {
                    prop_assert_eq!(next.state, AlertState::Critical, "{} inside the critical margin", amount);
                }
            }
            if matches!(obs, Observation::Skipped { .. }) {
                prop_assert!(alert.is_none(), "a check not attempted says nothing");
            }

            let changed = before != Some(next.state);
            match &alert {
                Some(a) => {
                    check_text(a, &policy)?;
                    prop_assert_eq!(a.state, next.state);
                    match a.kind {
                        AlertKind::Reminder => {
                            prop_assert!(!changed, "a reminder only while unchanged");
                            let last = prev.as_ref().and_then(|p| p.last_alert_at).expect("an earlier alert");
                            prop_assert!(now - last >= policy.cooldown_seconds);
                            let snoozed = prev.as_ref()
                                .and_then(|p| p.snooze.as_ref())
                                .is_some_and(|z| z.active(now, next.state));
                            prop_assert!(!snoozed, "no reminder while snoozed");
                        }
                        AlertKind::Low => prop_assert_eq!(next.state, AlertState::Low),
                        AlertKind::Critical => prop_assert_eq!(next.state, AlertState::Critical),
                        AlertKind::Failing => prop_assert_eq!(next.state, AlertState::Failing),
                        AlertKind::Recovered => {
                            prop_assert_eq!(next.state, AlertState::Ok);
                            prop_assert!(changed);
                        }
                        other => prop_assert!(false, "transition never raises {:?}", other),
                    }
                }
                None => {
                    // Every announced change of level has its alert; the silent ones are
                    // de-escalation (CRITICAL → LOW), FAILING before K, and leaving an
                    // unannounced FAILING or a first OK reading.
                    if changed {
                        let quiet = matches!(
                            (before, next.state),
                            (Some(AlertState::Critical), AlertState::Low)
                                | (None, AlertState::Ok)
                                | (_, AlertState::Failing)
                        ) || (before == Some(AlertState::Failing)
                            && prev.as_ref().is_some_and(|p| p.consecutive_failures < policy.failure_threshold.max(1)));
                        prop_assert!(quiet, "{:?} → {:?} without an alert", before, next.state);
                        if next.state == AlertState::Failing {
                            prop_assert!(next.consecutive_failures < policy.failure_threshold.max(1)
                                || before.is_none());
                        }
                    }
                }
            }
            state = Some(next);
        }
    }
}
