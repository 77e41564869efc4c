//! Which projects a run checks: every enabled one, the given ones, or those due under the
//! schedule (their next check time has come, their check-relevant config changed since their
//! last check, or, in the runs after a start, they have had no result yet).

use std::collections::HashMap;

use crate::config::{Config, ProjectConfig};
use crate::store::{NextCheck, Store, StoreError};

/// Which projects a run checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every enabled project, due or not (`check`).
    All,
    /// Enabled projects whose next check time has come, or whose check-relevant config
    /// changed since their last check ([`ProjectConfig::check_fingerprint`]): the scheduler,
    /// the checker function.
    Due,
    /// As `Due`, and the enabled projects without a result since the given time (unix s),
    /// even when scheduled later: the scheduler's runs after start, until every project has
    /// one.
    DueOrUncheckedSince(i64),
    /// The given projects (by id), enabled or not (a manual refresh).
    Only(Vec<String>),
}

impl Selection {
    /// Whether the run follows the schedule (and so holds the checking lease).
    pub fn scheduled(&self) -> bool {
        matches!(self, Selection::Due | Selection::DueOrUncheckedSince(_))
    }
}

/// What a selection picked.
pub struct Selected<'a> {
    /// The projects to check, in config order.
    pub projects: Vec<&'a ProjectConfig>,
    /// With [`Selection::DueOrUncheckedSince`]: the enabled projects that already had a result
    /// (by any process) since that time.
    pub current: Vec<String>,
}

/// The projects `selection` picks from `config` at `now`, given their `schedules`; reads when
/// each project last had a result only for [`Selection::DueOrUncheckedSince`].
pub async fn select<'a>(
    store: &dyn Store,
    config: &'a Config,
    selection: &Selection,
    schedules: &HashMap<String, NextCheck>,
    now: i64,
) -> Result<Selected<'a>, StoreError> {
    let on_time = |id: &String| schedules.get(id).is_none_or(|n| n.at <= now);
    // When each project last had a result (a reading or a failure), for the run after start.
    let since = match selection {
        Selection::DueOrUncheckedSince(since) => Some(*since),
        _ => None,
    };
    let last_result: HashMap<String, i64> = match since {
        Some(_) => store
            .list_states()
            .await?
            .into_iter()
            .map(|s| (s.project_id, s.last_checked_at))
            .collect(),
        None => Default::default(),
    };
    let current_since =
        |id: &String| since.is_some_and(|since| last_result.get(id).is_some_and(|t| *t >= since));
    let current: Vec<String> = config
        .projects
        .iter()
        .filter(|p| p.enabled)
        .map(|p| p.id())
        .filter(|id| current_since(id))
        .collect();
    let projects: Vec<&ProjectConfig> = match selection {
        Selection::All => config.projects.iter().filter(|p| p.enabled).collect(),
        Selection::Due | Selection::DueOrUncheckedSince(_) => config
            .projects
            .iter()
            .filter(|p| {
                let id = p.id();
                p.enabled
                    && (on_time(&id)
                        || config_changed(schedules.get(&id), p)
                        || (since.is_some() && !current_since(&id)))
            })
            .collect(),
        Selection::Only(ids) => config
            .projects
            .iter()
            .filter(|p| ids.contains(&p.id()))
            .collect(),
    };
    Ok(Selected { projects, current })
}

/// Whether `p`'s check-relevant config differs from the one its last check ran with (as
/// recorded with its schedule). Unknown (no schedule, or one recorded without a fingerprint)
/// is no change.
fn config_changed(schedule: Option<&NextCheck>, p: &ProjectConfig) -> bool {
    schedule
        .and_then(|n| n.fingerprint.as_deref())
        .is_some_and(|f| f != p.check_fingerprint())
}
