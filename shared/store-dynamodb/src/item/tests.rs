//! Round trips of every item type, and what a malformed item turns into.

use super::*;
use crate::request::{finish_update, state_update};
use crate::table::{PENDING, PENDING_VALUE};
use balance_alert_core::model::alert::ProjectState;
use balance_alert_core::model::{AlertKind, AlertRecord, AlertState, AlertStatus};
use balance_alert_core::store::contract::state;
use balance_alert_core::store::{BalancePoint, ConfigDocument, SubscriptionState};
use rust_decimal_macros::dec;

fn item_of(attrs: &[(&str, AttributeValue)]) -> Item {
    Item(
        attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

#[test]
fn amounts_are_written_exactly_and_read_back_exactly() {
    for (x, text) in [
        (dec!(0.1), "0.1"),
        (dec!(5.00), "5"),
        (dec!(-2.5), "-2.5"),
        (dec!(0.0000001), "0.0000001"),
        (dec!(74.75), "74.75"),
    ] {
        let v = num(x);
        assert_eq!(v.as_n().expect("a number"), text);
        assert_eq!(get_num("balance", &v).expect("reads back"), x);
    }
    // DynamoDB may normalise numbers into exponent form; those read back too.
    assert_eq!(
        get_num("b", &AttributeValue::N("1E+2".into())).expect("parses"),
        dec!(100)
    );
}

#[test]
fn sortable_times_sort_like_the_numbers() {
    let times = [i64::MIN, -86_400, -1, 0, 1, 100, 1_700_000_000, i64::MAX];
    let keys: Vec<String> = times.iter().map(|t| sortable_time(*t)).collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
    assert!(keys.iter().all(|k| k.len() == 20));
}

#[test]
fn a_state_round_trips_with_its_optional_fields() {
    let mut s = state("p1", 3, AlertState::Critical);
    s.last_error = Some("timeout".into());
    s.stale_reason = Some("circuit open".into());
    s.cached = true;
    s.balance = None;
    let item = Item::from(&s);
    assert_eq!(ProjectState::try_from(&item).expect("converts"), s);
    assert!(
        !item.0.contains_key("balance"),
        "None is an absent attribute"
    );
}

#[test]
fn alerts_readings_and_the_rest_round_trip() {
    let alert = AlertRecord {
        id: "a1".into(),
        project_id: "p1".into(),
        project_name: "n".into(),
        provider: "openrouter".into(),
        kind: AlertKind::Recovered,
        state: AlertState::Ok,
        balance: Some(dec!(12.34)),
        threshold: dec!(10),
        currency: "USD".into(),
        message: "back".into(),
        status: AlertStatus::Pending,
        created_at: 100,
        details: Default::default(),
        deliveries: Vec::new(),
    };
    let item: Item = NewAlert {
        alert: &alert,
        expires_at: 200,
    }
    .into();
    assert_eq!(AlertRecord::try_from(&item).expect("converts"), alert);
    assert_eq!(item.0.get(PENDING), Some(&s(PENDING_VALUE)));
    let sent = AlertRecord {
        status: AlertStatus::Sent,
        ..alert
    };
    let item: Item = NewAlert {
        alert: &sent,
        expires_at: 200,
    }
    .into();
    assert!(
        !item.0.contains_key(PENDING),
        "only pending alerts are indexed"
    );

    let point = BalancePoint {
        project_id: "p1".into(),
        project_name: "n".into(),
        provider: "x".into(),
        balance: dec!(0.3),
        threshold: dec!(1),
        currency: "CNY".into(),
        timestamp: -5,
        ..Default::default()
    };
    let item: Item = NewReading {
        point: &point,
        version: 7,
        expires_at: 1,
    }
    .into();
    assert_eq!(BalancePoint::try_from(&item).expect("converts"), point);
    // A reading's facts round-trip too.
    let noted = BalancePoint {
        note: Some("also 500.00 CNY".into()),
        estimate: true,
        unlimited: true,
        ..point.clone()
    };
    let item: Item = NewReading {
        point: &noted,
        version: 8,
        expires_at: 1,
    }
    .into();
    assert_eq!(BalancePoint::try_from(&item).expect("converts"), noted);

    let sub = SubscriptionState {
        subscription_id: "s".into(),
        name: "Copilot".into(),
        next_renewal_date: "2026-12-01".into(),
        days_until_renewal: 3,
        reminded_for: None,
        updated_at: 9,
    };
    assert_eq!(
        SubscriptionState::try_from(&Item::from(&sub)).expect("converts"),
        sub
    );
    let doc = ConfigDocument {
        text: "{}".into(),
        version: 4,
        updated_at: 5,
    };
    assert_eq!(
        ConfigDocument::try_from(&Item::from(&doc)).expect("converts"),
        doc
    );
    // A schedule is read from its project's item, beside the state.
    let mut item = Item::from(&state("p", 1, AlertState::Ok));
    item.set(NEXT_CHECK_AT, int(10));
    item.set(CONFIG_FINGERPRINT, s("f"));
    assert_eq!(
        Schedule::try_from(&item).expect("converts"),
        Schedule {
            project_id: "p".into(),
            next_check_at: 10,
            fingerprint: Some("f".into()),
        }
    );
    let lease = Lease {
        key: "run:checks".into(),
        owner: "o".into(),
        node: Some("n".into()),
        until: 40,
    };
    assert_eq!(
        Lease::try_from(&Item::from(&lease)).expect("converts"),
        lease
    );
    let cd = Cooldown {
        key: "refresh".into(),
        until: 30,
    };
    assert_eq!(Cooldown::try_from(&Item::from(&cd)).expect("converts"), cd);
}

#[test]
fn a_missing_or_mistyped_attribute_is_named_in_the_error() {
    let mut item = Item::from(&state("p1", 1, AlertState::Ok));
    item.0.remove("currency");
    let err = ProjectState::try_from(&item).expect_err("malformed");
    assert_eq!(err.error, AttrError::Missing("currency"));
    assert_eq!(err.key, "PROJECTS/p1");
    let message = StoreError::from(err).to_string();
    assert!(
        message.contains("project state") && message.contains("currency"),
        "{message}"
    );

    let mut item = Item::from(&state("p1", 1, AlertState::Ok));
    item.set("version", s("1"));
    assert_eq!(
        ProjectState::try_from(&item).expect_err("malformed").error,
        AttrError::WrongType {
            attr: "version",
            expected: "N"
        }
    );
    item.set("version", AttributeValue::N("-1".into()));
    assert!(matches!(
        ProjectState::try_from(&item)
            .expect_err("negative version")
            .error,
        AttrError::Invalid {
            attr: "version",
            ..
        }
    ));
}

#[test]
fn an_item_of_another_kind_is_not_read_as_this_one() {
    let doc = item_of(&[(KIND, s("config")), (PK, s("CONFIG")), (SK, s("CONFIG"))]);
    let err = ProjectState::try_from(&doc).expect_err("wrong kind");
    assert!(matches!(err.error, AttrError::Invalid { attr: KIND, .. }));
    let nothing = Item::default();
    assert_eq!(
        AlertRecord::try_from(&nothing).expect_err("empty").error,
        AttrError::Missing(KIND)
    );
}

#[test]
fn a_state_update_sets_what_the_state_has_and_removes_what_it_lacks() {
    let mut st = state("p1", 3, AlertState::Ok);
    st.balance = None;
    st.last_error = Some("boom".into());
    let (key, update) = state_update(&st);
    assert_eq!(key, project_key("p1"));
    let update = finish_update(update, &[CONFIG_FINGERPRINT]);
    let named = |attr: &str| {
        update
            .names
            .iter()
            .find(|(_, a)| a.as_str() == attr)
            .map(|(p, _)| p.clone())
            .unwrap_or_else(|| panic!("{attr} not named"))
    };
    let (set, remove) = update.text.split_once(" REMOVE ").expect("a REMOVE clause");
    assert!(
        set.contains(&format!("{} = ", named("last_error"))),
        "{set}"
    );
    assert!(set.contains(&format!("{} = ", named("version"))), "{set}");
    assert!(remove.contains(&named("balance")), "{remove}");
    assert!(remove.contains(&named(CONFIG_FINGERPRINT)), "{remove}");
    assert!(!remove.contains(&named("last_error")), "{remove}");
    // Every placeholder is used (DynamoDB refuses unused ones).
    for placeholder in update.names.keys().chain(update.values.keys()) {
        assert!(
            update.text.contains(placeholder.as_str()),
            "{placeholder} unused"
        );
    }
}
