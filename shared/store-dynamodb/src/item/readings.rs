//! A reading: its own item in its project's partition, and the copy of the newest one kept in
//! the project's item.

use aws_sdk_dynamodb::types::AttributeValue;
use balance_alert_core::store::BalancePoint;

use super::{int, key, num, project_pk, reading_sk, s, AttrError, Corrupt, Item};
use crate::table::{kinds, PK, SK, TTL_ATTRIBUTE};

/// A reading as written: keyed by the state version it came with (unique per project), with
/// its expiry.
pub(crate) struct NewReading<'a> {
    pub point: &'a BalancePoint,
    pub version: u64,
    pub expires_at: i64,
}

impl From<NewReading<'_>> for Item {
    fn from(r: NewReading<'_>) -> Self {
        let p = r.point;
        let mut i = Item::new(
            kinds::READING,
            key(
                project_pk(&p.project_id),
                &reading_sk(p.timestamp, r.version),
            ),
        );
        i.set("project_id", s(&p.project_id));
        i.set("project_name", s(&p.project_name));
        i.set("provider", s(&p.provider));
        i.set("balance", num(p.balance));
        i.set("threshold", num(p.threshold));
        i.set("currency", s(&p.currency));
        i.set("timestamp", int(p.timestamp));
        i.set_opt("note", p.note.as_deref().map(s));
        // Written only when true: readings from before these flags read back as false.
        if p.estimate {
            i.set("estimate", AttributeValue::Bool(true));
        }
        if p.unlimited {
            i.set("unlimited", AttributeValue::Bool(true));
        }
        i.set(TTL_ATTRIBUTE, int(r.expires_at));
        i
    }
}

impl TryFrom<&Item> for BalancePoint {
    type Error = Corrupt;

    fn try_from(item: &Item) -> Result<Self, Corrupt> {
        item.read("balance reading", kinds::READING, |i| {
            Ok(BalancePoint {
                project_id: i.str("project_id")?,
                project_name: i.str("project_name")?,
                provider: i.str("provider")?,
                balance: i.amount("balance")?,
                threshold: i.amount("threshold")?,
                currency: i.str("currency")?,
                timestamp: i.int("timestamp")?,
                note: i.opt_str("note")?,
                estimate: i.opt_bool("estimate")?.unwrap_or(false),
                unlimited: i.opt_bool("unlimited")?.unwrap_or(false),
            })
        })
    }
}

/// The attribute of a project item holding its newest reading (a map of the reading's
/// attributes), written with the state that came with it: `/api/credits` reads every project's
/// newest reading in the one Query of the project items.
pub(crate) const LATEST_READING: &str = "latest_reading";

/// A reading as the map kept in [`LATEST_READING`]: its attributes without key and expiry.
pub(crate) fn latest_reading(r: NewReading<'_>) -> AttributeValue {
    let Item(mut attrs) = Item::from(r);
    for k in [PK, SK, TTL_ATTRIBUTE] {
        attrs.remove(k);
    }
    AttributeValue::M(attrs)
}

/// The newest reading kept in a project item, if any.
pub(crate) fn read_latest(item: &Item) -> Result<Option<BalancePoint>, Corrupt> {
    match item.0.get(LATEST_READING) {
        None => Ok(None),
        Some(AttributeValue::M(attrs)) => BalancePoint::try_from(&Item(attrs.clone()))
            .map(Some)
            .map_err(|c| Corrupt {
                key: item.describe_key(),
                ..c
            }),
        Some(_) => Err(Corrupt {
            item: "project state",
            key: item.describe_key(),
            error: AttrError::WrongType {
                attr: LATEST_READING,
                expected: "M",
            },
        }),
    }
}
