//! Storage behind a small trait: the log, the stored head, and derived data (projections).
//!
//! [`SledStore`](crate::SledStore) keeps them on disk; [`MemStore`] in memory, for tests and fuzzing.
//! A store knows nothing about records: it keeps bytes under sequence numbers.

use crate::ids::Seq;
use crate::record::Head;
use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::PathBuf;

/// Why the store failed. Each is a storage failure (CLI exit code 3; HTTP 503 or 500).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// An operating-system I/O error (disk full, permissions, a failed fsync).
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The disk is full. Nothing of the failed write was acknowledged; free space and try again.
    #[error("the disk holding {0} is full (no space left on device); nothing of this write was acknowledged")]
    DiskFull(PathBuf),
    /// The stored head (the last acknowledged record) is unreadable.
    #[error("the stored head is unreadable: {0}")]
    HeadUnreadable(String),
    /// Another process has the ledger open.
    #[error("the ledger at {0} is open in another process (it holds the ledger's lock)")]
    Locked(PathBuf),
    /// No ledger exists at the path.
    #[error("no ledger at {0} (create one with `commitments init`)")]
    Missing(PathBuf),
    /// The path holds something that is not a ledger.
    #[error("{path} is not a commitment ledger: {why}")]
    NotALedger {
        /// The path.
        path: PathBuf,
        /// What was found there.
        why: String,
    },
    /// The storage engine reported an error.
    #[error("storage engine error: {0}")]
    Engine(String),
    /// Derived data (a projection) is unreadable. It is rebuilt from the log; the log is not affected.
    #[error("derived data is unreadable ({0}); it is rebuilt from the log")]
    DerivedCorrupt(String),
    /// An append did not continue the log.
    #[error("append out of order: the log's next seq is {expected}, got {got}")]
    OutOfOrder {
        /// The seq the log expects.
        expected: u64,
        /// The seq given.
        got: u64,
    },
}

/// A callback over stored entries (key, value); it breaks to stop the scan.
pub type Visit<'a> = dyn FnMut(&[u8], &[u8]) -> ControlFlow<()> + 'a;

/// A stored entry: its raw key and bytes.
pub type Entry = (Vec<u8>, Vec<u8>);

/// Where the log and its derived data are kept.
pub trait Store: Send + Sync {
    /// Appends records that continue the log, sets the stored head to the last of them, and returns
    /// only once all of it is durable. All or nothing.
    fn append(&mut self, records: &[(Seq, Vec<u8>)], head: &Head) -> Result<(), StoreError>;

    /// The bytes stored under a seq.
    fn get(&self, seq: Seq) -> Result<Option<Vec<u8>>, StoreError>;

    /// The last entry of the log: its raw key and bytes.
    fn last(&self) -> Result<Option<Entry>, StoreError>;

    /// Calls `f` with each entry's raw key and bytes, in key order, from `from` (from the first key of
    /// all, whatever its length, when `from` is 0), until it breaks.
    fn scan(&self, from: Seq, f: &mut Visit<'_>) -> Result<(), StoreError>;

    /// The head the store last acknowledged.
    fn stored_head(&self) -> Result<Option<Head>, StoreError>;

    /// A derived value.
    fn derived_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Writes and removes derived values atomically (not necessarily durably: derived data can be
    /// rebuilt from the log).
    fn derived_write(&mut self, puts: Vec<(Vec<u8>, Option<Vec<u8>>)>) -> Result<(), StoreError>;

    /// Calls `f` with each derived key and value under a prefix, in key order, until it breaks.
    fn derived_scan(&self, prefix: &[u8], f: &mut Visit<'_>) -> Result<(), StoreError>;

    /// Removes all derived values.
    fn derived_clear(&mut self) -> Result<(), StoreError>;
}

/// A store in memory. With the `testing` feature, `fail_appends` makes the next appends fail as a full
/// disk would, writing nothing, and the log and head can be tampered with.
#[derive(Debug, Default, Clone)]
pub struct MemStore {
    log: BTreeMap<u64, Vec<u8>>,
    head: Option<Head>,
    derived: BTreeMap<Vec<u8>, Vec<u8>>,
    /// How many upcoming appends fail.
    #[cfg(any(test, feature = "testing"))]
    pub fail_appends: u32,
}

impl MemStore {
    /// An empty store.
    pub fn new() -> MemStore {
        MemStore::default()
    }

    /// The log, for tests that tamper with it.
    #[cfg(any(test, feature = "testing"))]
    pub fn log_mut(&mut self) -> &mut BTreeMap<u64, Vec<u8>> {
        &mut self.log
    }

    /// The stored head, for tests that tamper with it.
    #[cfg(any(test, feature = "testing"))]
    pub fn head_mut(&mut self) -> &mut Option<Head> {
        &mut self.head
    }
}

impl Store for MemStore {
    fn append(&mut self, records: &[(Seq, Vec<u8>)], head: &Head) -> Result<(), StoreError> {
        #[cfg(any(test, feature = "testing"))]
        if self.fail_appends > 0 {
            self.fail_appends -= 1;
            return Err(StoreError::Io {
                path: PathBuf::from("<memory>"),
                source: std::io::Error::new(std::io::ErrorKind::StorageFull, "injected failure: no space left"),
            });
        }
        let next = self.log.keys().next_back().map_or(0, |k| k + 1);
        for (expected, (seq, _)) in (next..).zip(records) {
            if seq.0 != expected {
                return Err(StoreError::OutOfOrder { expected, got: seq.0 });
            }
        }
        for (seq, bytes) in records {
            self.log.insert(seq.0, bytes.clone());
        }
        self.head = Some(*head);
        Ok(())
    }

    fn get(&self, seq: Seq) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.log.get(&seq.0).cloned())
    }

    fn last(&self) -> Result<Option<Entry>, StoreError> {
        Ok(self.log.iter().next_back().map(|(k, v)| (k.to_be_bytes().to_vec(), v.clone())))
    }

    fn scan(&self, from: Seq, f: &mut Visit<'_>) -> Result<(), StoreError> {
        for (k, v) in self.log.range(from.0..) {
            if f(&k.to_be_bytes(), v).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn stored_head(&self) -> Result<Option<Head>, StoreError> {
        Ok(self.head)
    }

    fn derived_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.derived.get(key).cloned())
    }

    fn derived_write(&mut self, puts: Vec<(Vec<u8>, Option<Vec<u8>>)>) -> Result<(), StoreError> {
        for (k, v) in puts {
            match v {
                Some(v) => self.derived.insert(k, v),
                None => self.derived.remove(&k),
            };
        }
        Ok(())
    }

    fn derived_scan(&self, prefix: &[u8], f: &mut Visit<'_>) -> Result<(), StoreError> {
        for (k, v) in self.derived.range(prefix.to_vec()..) {
            if !k.starts_with(prefix) || f(k, v).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn derived_clear(&mut self) -> Result<(), StoreError> {
        self.derived.clear();
        Ok(())
    }
}
