//! A lease (in the one leases partition) and a claim (a cooldown item).

use super::{cooldown_key, int, key, s, Attrs, Corrupt, Item};
use crate::table::{kinds, TTL_ATTRIBUTE};

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
