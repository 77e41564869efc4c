//! The contract of [`States`]: conditional check writes, the schedule, health reads.

use super::{alert, point, state, write};
use crate::model::AlertState;
use crate::store::{CheckWrite, NextCheck, States};

/// Check writes: the first expects "absent", a stale version loses, a batch mixes both.
pub(super) async fn writes(store: &dyn States) {
    // GIVEN an empty store
    assert!(store.list_states().await.expect("list").is_empty());
    assert_eq!(store.get_state("p1").await.expect("get"), None);

    // WHEN a first write expects "absent", it applies with its alert and point
    let applied = store
        .commit_checks(vec![write(
            None,
            state("p1", 1, AlertState::Low),
            Some(alert("a1", "p1", 100)),
            Some(point("p1", 5.0, 100)),
        )])
        .await
        .expect("commit");
    assert_eq!(applied, vec![true]);
    assert_eq!(
        store.get_state("p1").await.expect("get"),
        Some(state("p1", 1, AlertState::Low))
    );

    // THEN a second "absent" write for the same project loses, leaving no trace
    let applied = store
        .commit_checks(vec![write(
            None,
            state("p1", 1, AlertState::Ok),
            Some(alert("a-lost", "p1", 101)),
            Some(point("p1", 99.0, 101)),
        )])
        .await
        .expect("commit");
    assert_eq!(applied, vec![false]);
    assert_eq!(
        store.get_state("p1").await.expect("get").map(|s| s.state),
        Some(AlertState::Low)
    );

    // Version-checked updates: stale loses, current wins; a batch mixes both independently.
    let applied = store
        .commit_checks(vec![
            write(Some(7), state("p1", 8, AlertState::Ok), None, None),
            write(
                Some(1),
                state("p1", 2, AlertState::Critical),
                Some(alert("a2", "p1", 200)),
                Some(point("p1", 1.0, 200)),
            ),
            write(
                None,
                state("p2", 1, AlertState::Ok),
                None,
                Some(point("p2", 50.0, 200)),
            ),
        ])
        .await
        .expect("commit");
    assert_eq!(applied, vec![false, true, true]);
    let states = store.list_states().await.expect("list");
    assert_eq!(states.len(), 2);
    assert_eq!(
        store
            .get_state("p1")
            .await
            .expect("get")
            .expect("exists")
            .version,
        2
    );
}

/// Next checks with their fingerprints, alone and written with a check's state.
pub(super) async fn schedules(store: &dyn States) {
    // Each next check keeps the fingerprint given with it; a repeated id keeps its last entry.
    let fingerprinted = |id: &str, at, f: &str| NextCheck {
        fingerprint: Some(f.into()),
        ..NextCheck::at(id, at)
    };
    store
        .set_next_checks(vec![
            fingerprinted("c1", 1_900, "old"),
            fingerprinted("c1", 2_000, "f1"),
            NextCheck::at("c2", 1_200),
        ])
        .await
        .expect("set");
    let mut schedules = store.schedules().await.expect("schedules");
    schedules.sort();
    assert_eq!(
        schedules,
        vec![fingerprinted("c1", 2_000, "f1"), NextCheck::at("c2", 1_200)]
    );
    // A scheduled project is not checked yet: it has no state.
    assert_eq!(store.get_state("c1").await.expect("get"), None);
    assert!(store
        .list_states()
        .await
        .expect("list")
        .iter()
        .all(|s| s.project_id != "c1"));

    // A check written with its next check: state and schedule in one write, the state's other
    // fields and the schedule of others untouched; a lost race writes neither.
    let n = |at| NextCheck {
        fingerprint: Some("fp".into()),
        ..NextCheck::at("c1", at)
    };
    let mut c1 = state("c1", 1, AlertState::Ok);
    c1.last_error = Some("was failing".into());
    assert_eq!(
        store
            .commit_checks(vec![CheckWrite {
                next: Some(n(3_000)),
                ..write(None, c1.clone(), None, None)
            }])
            .await
            .expect("commit"),
        vec![true]
    );
    assert_eq!(store.get_state("c1").await.expect("get"), Some(c1.clone()));
    let schedule_of = |id: &'static str| async move {
        store
            .schedules()
            .await
            .expect("schedules")
            .into_iter()
            .find(|s| s.project_id == id)
    };
    assert_eq!(schedule_of("c1").await, Some(n(3_000)));
    let mut c1b = state("c1", 2, AlertState::Ok);
    c1b.last_error = None;
    let lost = CheckWrite {
        next: Some(n(9_000)),
        ..write(Some(7), c1b.clone(), None, None)
    };
    assert_eq!(
        store.commit_checks(vec![lost]).await.expect("commit"),
        vec![false]
    );
    assert_eq!(
        schedule_of("c1").await,
        Some(n(3_000)),
        "a lost write schedules nothing"
    );
    // Without a next check, a commit keeps the schedule; a field the state lost is gone.
    assert_eq!(
        store
            .commit_checks(vec![write(Some(1), c1b.clone(), None, None)])
            .await
            .expect("commit"),
        vec![true]
    );
    assert_eq!(store.get_state("c1").await.expect("get"), Some(c1b));
    assert_eq!(schedule_of("c1").await, Some(n(3_000)));
}

/// The stale mark and cache flag survive a round trip; ping and the newest check answer.
pub(super) async fn stale_and_cached(store: &dyn States) {
    let mut s = state("st", 1, AlertState::Ok);
    s.stale_reason = Some("not checked: circuit open".into());
    s.cached = true;
    assert_eq!(
        store
            .commit_checks(vec![write(None, s.clone(), None, None)])
            .await
            .expect("commit"),
        vec![true]
    );
    assert_eq!(store.get_state("st").await.expect("get"), Some(s.clone()));
    assert!(store.ping().await.is_ok());
    let newest = store
        .list_states()
        .await
        .expect("states")
        .iter()
        .map(|s| s.last_checked_at)
        .max();
    assert_eq!(store.newest_check().await.expect("newest"), newest);
}
