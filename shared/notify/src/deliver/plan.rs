//! Stage 1, plan: routes every pending alert (oldest first) to its channels — routes that
//! leave no enabled channel fall back to every enabled one, logged — fails deliveries to
//! channels that are gone or disabled, keeps a project's later alerts behind an earlier one
//! waiting for its retry, asks [`super::hold`] about quiet hours, and records what changed.
//! Returns the (alert, channel) deliveries due now.

use std::collections::{HashMap, HashSet};

use balance_alert_core::config::Config;
use balance_alert_core::store::StoreError;
use balance_alert_model::{AlertRecord, AlertStatus, Delivery};

use super::hold::{quiet_end, Holds, Lane};
use super::record::overall;
use super::{Deliverer, Due, PassReport, Ready};
use crate::message::Severity;
use crate::route::{route, Routing};

/// Adds a queued delivery for every routed channel the alert has none for; true if any.
fn add_deliveries(alert: &mut AlertRecord, routing: &Routing) -> bool {
    let mut added = false;
    for t in &routing.targets {
        if !alert.deliveries.iter().any(|d| d.channel == t.channel) {
            alert.deliveries.push(Delivery::queued(&t.channel));
            added = true;
        }
    }
    added
}

/// Why nothing here can deliver on `channel` (disabled, or no longer configured).
fn unavailable(config: &Config, channel: &str) -> String {
    if config.channels.iter().any(|c| c.name == channel) {
        format!("channel {channel:?} is disabled")
    } else {
        format!("channel {channel:?} is no longer configured")
    }
}

impl Deliverer {
    /// Routes every pending alert, records what is new or held, and returns what is due now.
    pub(super) async fn plan(
        &self,
        config: &Config,
        ready: &HashMap<String, Ready>,
        names: &[String],
        pending: Vec<AlertRecord>,
        now: i64,
        report: &mut PassReport,
    ) -> Result<Vec<Due>, StoreError> {
        let tz = config.settings.timezone;
        let mut due = Vec::new();
        // Lanes with an earlier alert waiting to be retried: later ones wait behind it. A
        // quiet-hours hold is not such a wait: later alerts of the project are judged on their
        // own (a critical one passes).
        let mut blocked: HashSet<Lane> = HashSet::new();
        let mut holds = Holds::default();
        for mut alert in pending {
            let routing = route(&alert, &config.routes, names);
            let added = add_deliveries(&mut alert, &routing);
            if let (true, Some(f)) = (added, &routing.fallback) {
                tracing::warn!(
                    alert = %alert.id,
                    project = %alert.project_name,
                    kind = alert.kind.as_str(),
                    routes = ?f.routes,
                    named_channels = ?f.named,
                    enabled_channels = ?names,
                    "the routes matching this alert name no enabled channel: sending it to every enabled channel (enable one of the named channels or fix routes[])"
                );
            }
            let mut changed = added;
            let targets = routing.targets;
            let critical = Severity::of(&alert) == Severity::Critical;
            let snapshot = alert.clone();
            for d in alert.deliveries.iter_mut() {
                if d.status != AlertStatus::Pending {
                    continue;
                }
                let Some(r) = ready.get(&d.channel) else {
                    d.status = AlertStatus::Failed;
                    d.error = Some(unavailable(config, &d.channel));
                    changed = true;
                    continue;
                };
                let lane = (alert.project_id.clone(), d.channel.clone());
                if blocked.contains(&lane) {
                    report.wait_until(d.next_attempt_at.unwrap_or(now));
                    continue;
                }
                // A held delivery's time is the window's end, re-judged below each pass.
                if let Some(at) = d.next_attempt_at.filter(|at| *at > now && !d.held) {
                    blocked.insert(lane);
                    report.wait_until(at);
                    continue;
                }
                let route_quiet = targets
                    .iter()
                    .find(|t| t.channel == d.channel)
                    .and_then(|t| t.quiet_hours);
                let quiet = quiet_end([r.config.quiet_hours, route_quiet], &tz, now);
                if let Some(until) = holds.until(&lane, quiet, critical) {
                    if !d.held || d.next_attempt_at != Some(until) {
                        d.next_attempt_at = Some(until);
                        d.held = true;
                        changed = true;
                    }
                    report.wait_until(until);
                    let held = Due {
                        alert: snapshot.clone(),
                        channel: d.channel.clone(),
                        held: true,
                    };
                    holds.hold(lane, until, held);
                    continue;
                }
                if critical {
                    let earlier = holds.release(&lane);
                    report.waiting = report.waiting.saturating_sub(earlier.len());
                    due.extend(earlier);
                }
                due.push(Due {
                    alert: snapshot.clone(),
                    channel: d.channel.clone(),
                    held: d.held,
                });
            }
            if changed {
                let status = overall(&alert.deliveries);
                self.outbox
                    .record_deliveries(&alert.id, status, alert.deliveries.clone())
                    .await?;
            }
        }
        // The copies in `due` predate this pass's bookkeeping; they are re-read under the claim.
        Ok(due)
    }
}

#[cfg(test)]
mod tests {
    use balance_alert_core::store::contract::alert;

    use super::*;
    use crate::route::Target;

    #[test]
    fn routing_adds_a_delivery_per_new_channel_only() {
        let mut a = alert("a", "p", 1);
        a.deliveries.push(Delivery::queued("ops"));
        let to = |names: &[&str]| Routing {
            targets: names
                .iter()
                .map(|n| Target {
                    channel: n.to_string(),
                    quiet_hours: None,
                })
                .collect(),
            fallback: None,
        };
        assert!(!add_deliveries(&mut a, &to(&["ops"])));
        assert!(add_deliveries(&mut a, &to(&["ops", "team"])));
        let channels: Vec<&str> = a.deliveries.iter().map(|d| d.channel.as_str()).collect();
        assert_eq!(channels, ["ops", "team"]);
    }

    #[test]
    fn a_delivery_to_a_gone_or_disabled_channel_says_which() {
        let config = Config::default();
        assert_eq!(
            unavailable(&config, "ops"),
            "channel \"ops\" is no longer configured"
        );
    }
}
