//! The node lock: which installation a process runs as, so that a restarted `serve` frees the
//! claims its crashed predecessor left in the store at once instead of waiting for their
//! leases to expire.
//!
//! The node's id is a random id written once to `balance-alert.node` in the data directory; a
//! process runs as that node only while it holds an exclusive lock on the file (`flock`),
//! which the operating system drops when the process exits, however it exits. So at most one
//! live process runs as a node, and every claim made under the node before the lock was taken
//! belongs to a dead process. A second process on the same data directory finds the lock held
//! and runs as no node: it never touches the first one's claims.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::Path;

use crate::store::random_id;

/// The file holding the node id, in the data directory.
pub const NODE_FILE: &str = "balance-alert.node";

/// The node this process runs as, held until it is dropped (or the process exits).
#[derive(Debug)]
pub struct NodeLock {
    id: String,
    _file: File,
}

impl NodeLock {
    /// Takes the node of `dir` (creating its id on first use). `Ok(None)`: another live process
    /// holds it (or this platform has no file locks).
    pub fn acquire(dir: &Path) -> std::io::Result<Option<NodeLock>> {
        std::fs::create_dir_all(dir)?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join(NODE_FILE))?;
        if !try_lock(&file)? {
            return Ok(None);
        }
        let mut text = String::new();
        file.read_to_string(&mut text)?;
        let id = text.trim();
        let id = if !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
            id.to_owned()
        } else {
            let id = random_id();
            file.set_len(0)?;
            file.rewind()?;
            file.write_all(format!("{id}\n").as_bytes())?;
            file.sync_all()?;
            id
        };
        Ok(Some(NodeLock { id, _file: file }))
    }

    /// The node's id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

#[cfg(unix)]
fn try_lock(file: &File) -> std::io::Result<bool> {
    use rustix::fs::{flock, FlockOperation};
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(unix))]
fn try_lock(_file: &File) -> std::io::Result<bool> {
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_live_process_holds_a_node_and_its_successor_gets_the_same_id() {
        let dir = tempfile::tempdir().expect("dir");
        let first = NodeLock::acquire(dir.path()).expect("lock").expect("free");
        // A second process on the same data directory while the first lives: no node.
        assert!(NodeLock::acquire(dir.path()).expect("lock").is_none());
        let id = first.id().to_owned();
        drop(first);
        // The next process (a restart) runs as the same node.
        let next = NodeLock::acquire(dir.path()).expect("lock").expect("free");
        assert_eq!(next.id(), id);
    }
}
