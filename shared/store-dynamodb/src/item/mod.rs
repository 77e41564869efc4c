//! Item ↔ record conversions, in one place: key formats, attribute names, and the two helpers
//! ([`num`], [`get_num`]) every amount goes through: exact decimals, written as DynamoDB
//! numbers (`74.75`, never `74.75000000000001`). A malformed item becomes [`Corrupt`] (which
//! item, which attribute), never a panic.
//!
//! This file holds the attribute helpers, the key formats and [`Item`]'s typed reads; each
//! role's records convert in their own file (`states.rs`, `readings.rs`, `outbox.rs`,
//! `subscriptions.rs`, `leases.rs`, `config.rs`).

mod config;
mod leases;
mod outbox;
mod readings;
mod states;
mod subscriptions;

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use balance_alert_core::model::Decimal;
use balance_alert_core::store::StoreError;

use crate::table::{KIND, PK, SK};

pub(crate) use config::{stored_text_size, CONFIG_VERSION, TEXT_GZ};
pub(crate) use leases::{lease_key, Cooldown, Lease, LEASES_PK, NODE, OWNER, UNTIL};
pub(crate) use outbox::{sends_of, NewAlert, DELIVERIES, SENT};
pub(crate) use readings::{latest_reading, read_latest, NewReading, LATEST_READING};
pub(crate) use states::{
    has_schedule, has_state, Schedule, CONFIG_FINGERPRINT, NEXT_CHECK_AT, STATE_OPTIONAL,
};
pub(crate) use subscriptions::REMINDED_FOR;

/// Raw attributes as the SDK takes and returns them.
pub(crate) type Attrs = HashMap<String, AttributeValue>;

/// One stored item.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Item(pub(crate) Attrs);

/// What is wrong with one attribute.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum AttrError {
    /// The attribute is absent.
    #[error("attribute {0} is missing")]
    Missing(&'static str),
    /// The attribute has another DynamoDB type.
    #[error("attribute {attr} is not of type {expected}")]
    WrongType {
        attr: &'static str,
        expected: &'static str,
    },
    /// The attribute's value does not parse.
    #[error("attribute {attr} has an invalid value {value:?}")]
    Invalid { attr: &'static str, value: String },
}

/// A stored item that does not convert: which kind of item, its key, and the attribute.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Corrupt {
    pub item: &'static str,
    pub key: String,
    pub error: AttrError,
}

impl From<Corrupt> for StoreError {
    fn from(c: Corrupt) -> Self {
        StoreError::Corrupt {
            item: c.item,
            message: format!("{}: {}", c.key, c.error),
        }
    }
}

/// Writes an exact amount as a DynamoDB number: its normalised decimal text (no exponent,
/// no trailing zeros), which DynamoDB stores exactly (38 significant digits).
pub(crate) fn num(x: Decimal) -> AttributeValue {
    AttributeValue::N(x.normalize().to_string())
}

/// Reads an amount written by [`num`] (DynamoDB may hand it back in exponent form).
pub(crate) fn get_num(attr: &'static str, v: &AttributeValue) -> Result<Decimal, AttrError> {
    let s = v.as_n().map_err(|_| AttrError::WrongType {
        attr,
        expected: "N",
    })?;
    balance_alert_core::money::parse_stored(s).ok_or_else(|| AttrError::Invalid {
        attr,
        value: s.clone(),
    })
}

/// Writes a structured value as JSON text (read back whole; never queried by field).
pub(crate) fn json<T: serde::Serialize>(v: &T) -> AttributeValue {
    AttributeValue::S(serde_json::to_string(v).unwrap_or_default())
}

/// Writes an integer (times, versions, counters).
pub(crate) fn int(x: impl Into<i128>) -> AttributeValue {
    AttributeValue::N(x.into().to_string())
}

/// Reads an integer written by [`int`] into the type the record uses.
pub(crate) fn get_int<T: TryFrom<i128>>(
    attr: &'static str,
    v: &AttributeValue,
) -> Result<T, AttrError> {
    let s = v.as_n().map_err(|_| AttrError::WrongType {
        attr,
        expected: "N",
    })?;
    s.parse::<i128>()
        .ok()
        .and_then(|i| T::try_from(i).ok())
        .ok_or_else(|| AttrError::Invalid {
            attr,
            value: s.clone(),
        })
}

/// A string attribute.
pub(crate) fn s(x: impl Into<String>) -> AttributeValue {
    AttributeValue::S(x.into())
}

/// A time as a fixed-width string that sorts like the number (negative times included), for
/// sort keys.
pub(crate) fn sortable_time(t: i64) -> String {
    format!("{:020}", (t as u64) ^ (1 << 63))
}

/// The partition holding every project's item (state, schedule, claim): listed by one Query of
/// the base table, so a project's writes carry no index write.
pub(crate) const PROJECTS_PK: &str = "PROJECTS";

/// Key of a project's item: its state, next check and claim, in one item.
pub(crate) fn project_key(project_id: &str) -> Attrs {
    key(PROJECTS_PK.to_string(), project_id)
}

/// Key of an alert.
pub(crate) fn alert_key(id: &str) -> Attrs {
    key(format!("ALERT#{id}"), "ALERT")
}

/// Key of a subscription's state.
pub(crate) fn subscription_key(id: &str) -> Attrs {
    key(format!("SUBSCRIPTION#{id}"), "STATE")
}

/// Key of a cooldown.
pub(crate) fn cooldown_key(name: &str) -> Attrs {
    key(format!("COOLDOWN#{name}"), "COOLDOWN")
}

/// Key of a channel's send counter for one minute.
pub(crate) fn send_window_key(channel: &str, minute: i64) -> Attrs {
    key(format!("SENDS#{channel}#{minute}"), "SENDS")
}

/// Key of the configuration document.
pub(crate) fn config_key() -> Attrs {
    key("CONFIG".into(), "CONFIG")
}

/// Partition key value of a project's items.
pub(crate) fn project_pk(project_id: &str) -> String {
    format!("PROJECT#{project_id}")
}

/// Sort key of a reading; bounds for a time range are [`reading_sk_from`] values.
pub(crate) fn reading_sk(timestamp: i64, version: u64) -> String {
    format!("{}#{version:020}", reading_sk_from(timestamp))
}

/// The smallest sort key of a reading at or after `timestamp` (a prefix of theirs).
pub(crate) fn reading_sk_from(timestamp: i64) -> String {
    format!("READING#{}", sortable_time(timestamp))
}

fn key(pk: String, sk: &str) -> Attrs {
    HashMap::from([(PK.to_string(), s(pk)), (SK.to_string(), s(sk))])
}

impl Item {
    fn new(kind: &str, key: Attrs) -> Self {
        let mut item = Item(key);
        item.set(KIND, s(kind));
        item
    }

    /// Sets an attribute.
    pub(crate) fn set(&mut self, attr: &str, v: AttributeValue) {
        self.0.insert(attr.to_string(), v);
    }

    fn set_opt(&mut self, attr: &str, v: Option<AttributeValue>) {
        if let Some(v) = v {
            self.set(attr, v);
        }
    }

    /// The item's key, for error messages.
    pub(crate) fn describe_key(&self) -> String {
        let part = |a| match self.0.get(a) {
            Some(AttributeValue::S(v)) => v.clone(),
            _ => "?".into(),
        };
        format!("{}/{}", part(PK), part(SK))
    }

    fn get(&self, attr: &'static str) -> Result<&AttributeValue, AttrError> {
        self.0.get(attr).ok_or(AttrError::Missing(attr))
    }

    fn str(&self, attr: &'static str) -> Result<String, AttrError> {
        self.get(attr)?
            .as_s()
            .cloned()
            .map_err(|_| AttrError::WrongType {
                attr,
                expected: "S",
            })
    }

    fn opt_str(&self, attr: &'static str) -> Result<Option<String>, AttrError> {
        self.0
            .contains_key(attr)
            .then(|| self.str(attr))
            .transpose()
    }

    fn amount(&self, attr: &'static str) -> Result<Decimal, AttrError> {
        get_num(attr, self.get(attr)?)
    }

    fn opt_amount(&self, attr: &'static str) -> Result<Option<Decimal>, AttrError> {
        self.0.get(attr).map(|v| get_num(attr, v)).transpose()
    }

    fn int<T: TryFrom<i128>>(&self, attr: &'static str) -> Result<T, AttrError> {
        get_int(attr, self.get(attr)?)
    }

    fn opt_int<T: TryFrom<i128>>(&self, attr: &'static str) -> Result<Option<T>, AttrError> {
        self.0.get(attr).map(|v| get_int(attr, v)).transpose()
    }

    fn bool(&self, attr: &'static str) -> Result<bool, AttrError> {
        self.get(attr)?
            .as_bool()
            .copied()
            .map_err(|_| AttrError::WrongType {
                attr,
                expected: "BOOL",
            })
    }

    fn opt_bool(&self, attr: &'static str) -> Result<Option<bool>, AttrError> {
        self.0
            .contains_key(attr)
            .then(|| self.bool(attr))
            .transpose()
    }

    fn opt_json<T: serde::de::DeserializeOwned>(
        &self,
        attr: &'static str,
    ) -> Result<Option<T>, AttrError> {
        match self.opt_str(attr)? {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|_| AttrError::Invalid { attr, value: text }),
        }
    }

    fn parsed<T>(&self, attr: &'static str, parse: fn(&str) -> Option<T>) -> Result<T, AttrError> {
        let v = self.str(attr)?;
        parse(&v).ok_or(AttrError::Invalid { attr, value: v })
    }

    /// Reads the item as a `kind` record with `f`, naming item and attribute on failure.
    fn read<T>(
        &self,
        item: &'static str,
        kind: &'static str,
        f: impl FnOnce(&Item) -> Result<T, AttrError>,
    ) -> Result<T, Corrupt> {
        let check_kind = || {
            let found = self.str(KIND)?;
            if found == kind {
                Ok(())
            } else {
                Err(AttrError::Invalid {
                    attr: KIND,
                    value: found,
                })
            }
        };
        check_kind()
            .and_then(|()| f(self))
            .map_err(|error| Corrupt {
                item,
                key: self.describe_key(),
                error,
            })
    }
}

#[cfg(test)]
mod tests;
