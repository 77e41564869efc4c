//! The contract of [`Readings`]: history, the views read from it, and retention.

use super::{point, state, write};
use crate::model::{AlertState, Decimal};
use crate::store::{AlertQuery, BalancePoint, Readings, Store};

/// History: only applied points, oldest first; readings across projects.
pub(super) async fn history(store: &dyn Readings) {
    // History: only applied points, oldest first, limited to the most recent.
    let history = store.balance_history("p1", 0, 10).await.expect("history");
    assert_eq!(
        history.iter().map(|p| p.balance).collect::<Vec<_>>(),
        vec![Decimal::from(5), Decimal::from(1)]
    );
    let latest = store.balance_history("p1", 0, 1).await.expect("history");
    assert_eq!(
        latest.iter().map(|p| p.timestamp).collect::<Vec<_>>(),
        vec![200]
    );
    assert!(store
        .balance_history("p1", 150, 10)
        .await
        .expect("history")
        .iter()
        .all(|p| p.timestamp >= 150));

    // Readings across projects: the newest, oldest first, by provider.
    let recent = store.recent_readings(None, 0, 2).await.expect("recent");
    assert_eq!(
        recent.iter().map(|p| p.timestamp).collect::<Vec<_>>(),
        vec![200, 200],
        "{recent:?}"
    );
    // Ties (one run, one second) are ordered by project id, on every backend.
    let newest = store.recent_readings(None, 0, 1).await.expect("recent");
    assert_eq!(newest[0].project_id, "p2", "{newest:?}");
    let all = store.recent_readings(None, 0, 10).await.expect("recent");
    assert_eq!(all.len(), 3);
    assert!(all.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
    assert!(store
        .recent_readings(Some("deepseek"), 0, 10)
        .await
        .expect("recent")
        .is_empty());
    assert_eq!(
        store
            .recent_readings(Some("openrouter"), 150, 10)
            .await
            .expect("recent")
            .len(),
        2
    );
}

/// Retention: prune removes old points and alerts.
pub(super) async fn retention(store: &dyn Store) {
    let removed = store.prune(150).await.expect("prune");
    assert!(removed >= 2, "old point and alert removed, got {removed}");
    assert_eq!(
        store
            .balance_history("p1", 0, 10)
            .await
            .expect("history")
            .len(),
        1
    );
    assert!(store
        .alerts(AlertQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("alerts")
        .iter()
        .all(|a| a.created_at >= 150));
}

/// Each project's newest reading with its facts, and sparkline thinning: at most `points`
/// readings per project in the window, each span's newest, oldest first.
pub(super) async fn latest_and_thinned(store: &dyn Readings) {
    // GIVEN project r1 with readings at 1000..1900 every 100 s, the last one noted and unlimited
    let mut version = None;
    for (i, t) in (1000..2000).step_by(100).enumerate() {
        let mut p = point("r1", 100.0 - i as f64, t);
        if t == 1900 {
            p.note = Some("also 500.00 CNY".into());
            p.unlimited = true;
            p.estimate = true;
        }
        let next = version.map_or(1, |v| v + 1);
        let applied = store
            .commit_checks(vec![write(
                version,
                state("r1", next, AlertState::Ok),
                None,
                Some(p),
            )])
            .await
            .expect("commit");
        assert_eq!(applied, vec![true]);
        version = Some(next);
    }
    // AND project r2 with one reading outside the window
    store
        .commit_checks(vec![write(
            None,
            state("r2", 1, AlertState::Ok),
            None,
            Some(point("r2", 7.0, 500)),
        )])
        .await
        .expect("commit");

    // THEN the newest reading of r1 carries its facts
    let latest = store.latest_readings().await.expect("latest");
    let r1: Vec<&BalancePoint> = latest.iter().filter(|p| p.project_id == "r1").collect();
    assert_eq!(r1.len(), 1, "one newest reading per project");
    assert_eq!(
        (
            r1[0].timestamp,
            r1[0].note.as_deref(),
            r1[0].estimate,
            r1[0].unlimited
        ),
        (1900, Some("also 500.00 CNY"), true, true)
    );
    assert!(latest
        .iter()
        .any(|p| p.project_id == "r2" && p.timestamp == 500));

    // WHEN the window [1000, 2000) is thinned to 4 points
    let ids = vec!["r1".to_owned(), "r2".to_owned()];
    let thinned = store
        .downsampled_history(&ids, 1000, 2000, 4)
        .await
        .expect("thinned");
    // THEN r1 keeps each 250 s span's newest reading, oldest first; r2 has none in the window
    let times: Vec<i64> = thinned
        .iter()
        .filter(|p| p.project_id == "r1")
        .map(|p| p.timestamp)
        .collect();
    assert_eq!(times, vec![1200, 1400, 1700, 1900]);
    assert!(thinned.iter().all(|p| p.project_id == "r1"));
    // AND a project not asked for is left out
    let only_r2 = store
        .downsampled_history(&["r2".to_owned()], 0, 2000, 4)
        .await
        .expect("thinned");
    assert_eq!(only_r2.len(), 1);
    assert_eq!(only_r2[0].project_id, "r2");
}
