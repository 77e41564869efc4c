//! Item ↔ record conversions, in one place: key formats, attribute names, and the two helpers
//! ([`num`], [`get_num`]) every amount goes through: exact decimals, written as DynamoDB
//! numbers (`74.75`, never `74.75000000000001`). A malformed item becomes [`Corrupt`] (which
//! item, which attribute), never a panic.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use balance_alert_core::model::alert::ProjectState;
use balance_alert_core::model::{AlertKind, AlertRecord, AlertState, AlertStatus, Decimal};
use balance_alert_core::store::{BalancePoint, ConfigDocument, StoreError, SubscriptionState};

use crate::request::{set_all, Expr};
use crate::table::{
    kinds, ALERT_FEED, ALERT_FEED_VALUE, ALERT_PROJECT, CREATED_AT, KIND, LIST_PK, PENDING,
    PENDING_VALUE, PK, SK, TTL_ATTRIBUTE,
};

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

/// The attribute holding an alert's per-channel deliveries (JSON text).
pub(crate) const DELIVERIES: &str = "deliveries";

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

impl From<&ProjectState> for Item {
    fn from(p: &ProjectState) -> Self {
        let mut i = Item::new(kinds::PROJECT, project_key(&p.project_id));
        i.set("project_id", s(&p.project_id));
        i.set("project_name", s(&p.project_name));
        i.set("provider", s(&p.provider));
        i.set("state", s(p.state.as_str()));
        i.set_opt("balance", p.balance.map(num));
        i.set("currency", s(&p.currency));
        i.set("consecutive_failures", int(p.consecutive_failures));
        i.set_opt("last_alert_at", p.last_alert_at.map(int));
        i.set("last_checked_at", int(p.last_checked_at));
        i.set_opt("last_success_at", p.last_success_at.map(int));
        i.set_opt("last_error", p.last_error.as_deref().map(s));
        i.set_opt("stale_reason", p.stale_reason.as_deref().map(s));
        i.set("cached", AttributeValue::Bool(p.cached));
        i.set_opt("snooze", p.snooze.as_ref().map(json));
        i.set_opt("forecast_for", p.forecast_for.as_deref().map(s));
        i.set_opt("prior_state", p.prior_state.map(|st| s(st.as_str())));
        i.set("version", int(p.version));
        i
    }
}

impl TryFrom<&Item> for ProjectState {
    type Error = Corrupt;

    fn try_from(item: &Item) -> Result<Self, Corrupt> {
        item.read("project state", kinds::PROJECT, |i| {
            Ok(ProjectState {
                project_id: i.str("project_id")?,
                project_name: i.str("project_name")?,
                provider: i.str("provider")?,
                state: i.parsed("state", AlertState::parse)?,
                balance: i.opt_amount("balance")?,
                currency: i.str("currency")?,
                consecutive_failures: i.int("consecutive_failures")?,
                last_alert_at: i.opt_int("last_alert_at")?,
                last_checked_at: i.int("last_checked_at")?,
                last_success_at: i.opt_int("last_success_at")?,
                last_error: i.opt_str("last_error")?,
                stale_reason: i.opt_str("stale_reason")?,
                cached: i.bool("cached")?,
                snooze: i.opt_json("snooze")?,
                forecast_for: i.opt_str("forecast_for")?,
                prior_state: i
                    .opt_str("prior_state")?
                    .and_then(|st| AlertState::parse(&st)),
                version: i.int("version")?,
            })
        })
    }
}

/// The state attributes a state may lack ([`From<&ProjectState>`] leaves them out when `None`).
const STATE_OPTIONAL: [&str; 8] = [
    "balance",
    "last_alert_at",
    "last_success_at",
    "last_error",
    "stale_reason",
    "snooze",
    "forecast_for",
    "prior_state",
];

/// Whether a project item holds a state (a project claimed but never checked has only its
/// schedule attributes).
pub(crate) fn has_state(item: &Item) -> bool {
    item.0.contains_key("version")
}

/// Whether a project item holds a schedule.
pub(crate) fn has_schedule(item: &Item) -> bool {
    item.0.contains_key(NEXT_CHECK_AT)
}

/// The UpdateItem writing `state` into its project's item: every state attribute set, the
/// optional ones it lacks removed, the schedule attributes left as they are. Returns the key
/// and the expression; clauses may be added with [`add_set`].
pub(crate) fn state_update(state: &ProjectState) -> (Attrs, Expr) {
    let item = Item::from(state);
    let absent: Vec<&str> = STATE_OPTIONAL
        .into_iter()
        .filter(|a| !item.0.contains_key(*a))
        .collect();
    let (key, mut update) = set_all(item);
    for (n, attr) in absent.into_iter().enumerate() {
        update = update.name(&format!("#r{n}"), attr);
    }
    (key, update)
}

/// Adds `#placeholder = :value` to an update's SET clause (before any REMOVE).
pub(crate) fn add_set(update: Expr, attr: &str, value: AttributeValue) -> Expr {
    let n = update.names.len();
    let (name, val) = (format!("#a{n}"), format!(":a{n}"));
    let mut update = update.name(&name, attr).value(&val, value);
    update.text = format!("{}, {name} = {val}", update.text);
    update
}

/// Finishes an update from [`state_update`]/[`add_set`]: the REMOVE clause of the absent
/// optional attributes and of `also` (attribute names).
pub(crate) fn finish_update(mut update: Expr, also: &[&str]) -> Expr {
    let mut removed: Vec<String> = update
        .names
        .keys()
        .filter(|k| k.starts_with("#r"))
        .cloned()
        .collect();
    for (n, attr) in also.iter().enumerate() {
        let name = format!("#x{n}");
        update = update.name(&name, attr);
        removed.push(name);
    }
    if !removed.is_empty() {
        removed.sort();
        update.text = format!("{} REMOVE {}", update.text, removed.join(", "));
    }
    update
}

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

/// An alert as written, with its expiry.
pub(crate) struct NewAlert<'a> {
    pub alert: &'a AlertRecord,
    pub expires_at: i64,
}

impl From<NewAlert<'_>> for Item {
    fn from(n: NewAlert<'_>) -> Self {
        let a = n.alert;
        let mut i = Item::new(kinds::ALERT, alert_key(&a.id));
        i.set(ALERT_FEED, s(ALERT_FEED_VALUE));
        i.set(ALERT_PROJECT, s(&a.project_id));
        if a.status == AlertStatus::Pending {
            i.set(PENDING, s(PENDING_VALUE));
        }
        i.set("id", s(&a.id));
        i.set("project_id", s(&a.project_id));
        i.set("project_name", s(&a.project_name));
        i.set("provider", s(&a.provider));
        i.set("alert_type", s(a.kind.as_str()));
        i.set("state", s(a.state.as_str()));
        i.set_opt("balance", a.balance.map(num));
        i.set("threshold", num(a.threshold));
        i.set("currency", s(&a.currency));
        i.set("message", s(&a.message));
        i.set("status", s(a.status.as_str()));
        i.set(CREATED_AT, int(a.created_at));
        if a.details != Default::default() {
            i.set("details", json(&a.details));
        }
        if !a.deliveries.is_empty() {
            i.set(DELIVERIES, json(&a.deliveries));
        }
        i.set(TTL_ATTRIBUTE, int(n.expires_at));
        i
    }
}

impl TryFrom<&Item> for AlertRecord {
    type Error = Corrupt;

    fn try_from(item: &Item) -> Result<Self, Corrupt> {
        item.read("alert", kinds::ALERT, |i| {
            Ok(AlertRecord {
                id: i.str("id")?,
                project_id: i.str("project_id")?,
                project_name: i.str("project_name")?,
                provider: i.str("provider")?,
                kind: i.parsed("alert_type", AlertKind::parse)?,
                state: i.parsed("state", AlertState::parse)?,
                balance: i.opt_amount("balance")?,
                threshold: i.amount("threshold")?,
                currency: i.str("currency")?,
                message: i.str("message")?,
                status: i.parsed("status", AlertStatus::parse)?,
                created_at: i.int(CREATED_AT)?,
                details: i.opt_json("details")?.unwrap_or_default(),
                deliveries: i.opt_json(DELIVERIES)?.unwrap_or_default(),
            })
        })
    }
}

/// A subscription's evaluation *without* `reminded_for`, which only the store's conditional
/// reminder write sets.
impl From<&SubscriptionState> for Item {
    fn from(sub: &SubscriptionState) -> Self {
        let mut i = Item::new(kinds::SUBSCRIPTION, subscription_key(&sub.subscription_id));
        i.set(LIST_PK, s(kinds::SUBSCRIPTION));
        i.set("subscription_id", s(&sub.subscription_id));
        i.set("name", s(&sub.name));
        i.set("next_renewal_date", s(&sub.next_renewal_date));
        i.set("days_until_renewal", int(sub.days_until_renewal));
        i.set("updated_at", int(sub.updated_at));
        i
    }
}

/// The attribute recording which renewal date a reminder was sent for.
pub(crate) const REMINDED_FOR: &str = "reminded_for";

impl TryFrom<&Item> for SubscriptionState {
    type Error = Corrupt;

    fn try_from(item: &Item) -> Result<Self, Corrupt> {
        item.read("subscription state", kinds::SUBSCRIPTION, |i| {
            Ok(SubscriptionState {
                subscription_id: i.str("subscription_id")?,
                name: i.str("name")?,
                next_renewal_date: i.str("next_renewal_date")?,
                days_until_renewal: i.int("days_until_renewal")?,
                reminded_for: i.opt_str(REMINDED_FOR)?,
                updated_at: i.int("updated_at")?,
            })
        })
    }
}

/// A project's next check time, read from its project item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Schedule {
    pub project_id: String,
    pub next_check_at: i64,
    /// The fingerprint of the config the last check ran with (see
    /// [`balance_alert_core::store::NextCheck`]).
    pub fingerprint: Option<String>,
}

/// The attribute holding a schedule's next check time.
pub(crate) const NEXT_CHECK_AT: &str = "next_check_at";
/// The attribute holding a schedule's config fingerprint.
pub(crate) const CONFIG_FINGERPRINT: &str = "config_fingerprint";
/// The attribute holding the config document's version.
pub(crate) const CONFIG_VERSION: &str = "version";

impl TryFrom<&Item> for Schedule {
    type Error = Corrupt;

    fn try_from(item: &Item) -> Result<Self, Corrupt> {
        item.read("schedule", kinds::PROJECT, |i| {
            Ok(Schedule {
                project_id: i.str("project_id")?,
                next_check_at: i.int(NEXT_CHECK_AT)?,
                fingerprint: i.opt_str(CONFIG_FINGERPRINT)?,
            })
        })
    }
}

/// The partition holding every lease, listed by one Query (a restart frees its node's).
pub(crate) const LEASES_PK: &str = "LEASES";

/// Key of a lease.
pub(crate) fn lease_key(name: &str) -> Attrs {
    key(LEASES_PK.to_string(), name)
}

/// A named lease: its holder (process and node) and its end (expires by TTL after it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lease {
    pub key: String,
    pub owner: String,
    pub node: Option<String>,
    pub until: i64,
}

/// The attributes naming a lease's holder.
pub(crate) const OWNER: &str = "owner";
pub(crate) const NODE: &str = "node";

impl From<&Lease> for Item {
    fn from(l: &Lease) -> Self {
        let mut i = Item::new(kinds::LEASE, lease_key(&l.key));
        i.set("key", s(&l.key));
        i.set(OWNER, s(&l.owner));
        i.set_opt(NODE, l.node.as_deref().map(s));
        i.set(UNTIL, int(l.until));
        i.set(TTL_ATTRIBUTE, int(l.until));
        i
    }
}

impl TryFrom<&Item> for Lease {
    type Error = Corrupt;

    fn try_from(item: &Item) -> Result<Self, Corrupt> {
        item.read("lease", kinds::LEASE, |i| {
            Ok(Lease {
                key: i.str("key")?,
                owner: i.str(OWNER)?,
                node: i.opt_str(NODE)?,
                until: i.int(UNTIL)?,
            })
        })
    }
}

/// A cooldown claim (expires by TTL once `until` has passed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cooldown {
    pub key: String,
    pub until: i64,
}

/// The attribute holding a cooldown's end.
pub(crate) const UNTIL: &str = "until";

impl From<&Cooldown> for Item {
    fn from(c: &Cooldown) -> Self {
        let mut i = Item::new(kinds::COOLDOWN, cooldown_key(&c.key));
        i.set("key", s(&c.key));
        i.set(UNTIL, int(c.until));
        i.set(TTL_ATTRIBUTE, int(c.until));
        i
    }
}

impl TryFrom<&Item> for Cooldown {
    type Error = Corrupt;

    fn try_from(item: &Item) -> Result<Self, Corrupt> {
        item.read("cooldown", kinds::COOLDOWN, |i| {
            Ok(Cooldown {
                key: i.str("key")?,
                until: i.int(UNTIL)?,
            })
        })
    }
}

/// The attribute holding a send counter's count.
pub(crate) const SENT: &str = "sent";

/// The count of a send counter item.
pub(crate) fn sends_of(item: &Item) -> Result<u32, Corrupt> {
    item.read("send counter", kinds::SEND_WINDOW, |i| i.int(SENT))
}

/// The config document's text, as written; a document longer than [`INLINE_DOCUMENT`] is kept
/// gzip-compressed in [`TEXT_GZ`] instead (a 10,000-project config is ~1 MB of JSON, ~100 KB
/// compressed, and an item holds 400 KB).
const TEXT: &str = "text";
pub(crate) const TEXT_GZ: &str = "text_gz";
/// Longest document kept as plain text (readable in the console).
const INLINE_DOCUMENT: usize = 64 * 1024;

fn gzip(text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text.as_bytes())
        .and_then(|()| e.finish())
        .expect("compressing into memory cannot fail")
}

fn gunzip(bytes: &[u8]) -> Option<String> {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .ok()
        .map(|_| text)
}

/// How many bytes the document's text takes in its item.
pub(crate) fn stored_text_size(item: &Item) -> usize {
    match (item.0.get(TEXT), item.0.get(TEXT_GZ)) {
        (Some(AttributeValue::S(t)), _) => t.len(),
        (_, Some(AttributeValue::B(b))) => b.as_ref().len(),
        _ => 0,
    }
}

impl From<&ConfigDocument> for Item {
    fn from(d: &ConfigDocument) -> Self {
        let mut i = Item::new(kinds::CONFIG, config_key());
        if d.text.len() > INLINE_DOCUMENT {
            i.set(
                TEXT_GZ,
                AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(gzip(&d.text))),
            );
        } else {
            i.set(TEXT, s(&d.text));
        }
        i.set(CONFIG_VERSION, int(d.version));
        i.set("updated_at", int(d.updated_at));
        i
    }
}

impl TryFrom<&Item> for ConfigDocument {
    type Error = Corrupt;

    fn try_from(item: &Item) -> Result<Self, Corrupt> {
        item.read("config document", kinds::CONFIG, |i| {
            let text = match i.0.get(TEXT_GZ) {
                None => i.str(TEXT)?,
                Some(AttributeValue::B(b)) => {
                    gunzip(b.as_ref()).ok_or_else(|| AttrError::Invalid {
                        attr: TEXT_GZ,
                        value: format!(
                            "{} bytes that are not gzip-compressed UTF-8",
                            b.as_ref().len()
                        ),
                    })?
                }
                Some(_) => {
                    return Err(AttrError::WrongType {
                        attr: TEXT_GZ,
                        expected: "B",
                    })
                }
            };
            Ok(ConfigDocument {
                text,
                version: i.int(CONFIG_VERSION)?,
                updated_at: i.int("updated_at")?,
            })
        })
    }
}

#[cfg(test)]
#[path = "item_tests.rs"]
mod tests;
