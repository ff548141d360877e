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
    /// The store was opened for reading and cannot be written.
    #[error("the ledger at {0} was opened for reading; nothing can be written through it")]
    ReadOnly(PathBuf),
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
    /// A ledger's store is damaged: its witness of the acknowledged head is there, but the engine
    /// cannot open or read its files (cut, removed or corrupted). Unsound (CLI exit code 1); restore
    /// from a verified bundle.
    #[error("the ledger's store is damaged: {0}")]
    Damaged(String),
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

    /// The ledger directory the store lives in, if it has one (its `keys/` folder holds the actors'
    /// signing keys).
    fn ledger_dir(&self) -> Option<&std::path::Path> {
        None
    }

    /// Signing keys kept with the store, for a store with no directory (an in-memory store).
    fn shared_keys(&self) -> Option<crate::keyring::SharedKeys> {
        None
    }

    /// Whether the store takes writes (a store opened for reading does not; readers then keep what
    /// they derive in memory).
    fn writable(&self) -> bool {
        true
    }

    /// The head the store last acknowledged.
    fn stored_head(&self) -> Result<Option<Head>, StoreError>;

    /// Acknowledges records already in the log (an unacknowledged tail an operator accepted): makes
    /// `head` the acknowledged head, durably.
    fn acknowledge(&mut self, head: &Head) -> Result<(), StoreError>;

    /// Removes every record after `keep` (all of them when `keep` is none), durably: an unacknowledged
    /// tail an operator discarded. Never called for acknowledged records.
    fn discard_after(&mut self, keep: Option<Seq>) -> Result<(), StoreError>;

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
    /// The signing keys of the actors, in place of a ledger directory's `keys/` folder; shared by
    /// the store's clones.
    keys: crate::keyring::SharedKeys,
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
    fn shared_keys(&self) -> Option<crate::keyring::SharedKeys> {
        Some(self.keys.clone())
    }

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

    fn acknowledge(&mut self, head: &Head) -> Result<(), StoreError> {
        self.head = Some(*head);
        Ok(())
    }

    fn discard_after(&mut self, keep: Option<Seq>) -> Result<(), StoreError> {
        let from = keep.map_or(0, |k| k.0 + 1);
        self.log.retain(|k, _| *k < from);
        Ok(())
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

#[cfg(test)]
mod tests {
    //! The in-memory store: the log continues without gaps, all or nothing; scans; derived data.

    use super::*;
    use crate::date::Timestamp;
    use crate::record::Hash;

    fn head(seq: u64) -> Head {
        Head { seq: Seq(seq), hash: Hash([seq as u8; 32]), time: Timestamp(seq as i64) }
    }

    fn records(seqs: std::ops::Range<u64>) -> Vec<(Seq, Vec<u8>)> {
        seqs.map(|s| (Seq(s), format!("record {s}").into_bytes())).collect()
    }

    /// Every (seq, bytes) a scan from `from` visits, stopping after `take`.
    fn scanned(store: &MemStore, from: u64, take: usize) -> Vec<(u64, String)> {
        let mut out = Vec::new();
        store
            .scan(Seq(from), &mut |k, v| {
                out.push((Seq::from_key(k).unwrap().0, String::from_utf8(v.to_vec()).unwrap()));
                if out.len() == take { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
            })
            .unwrap();
        out
    }

    fn derived(store: &MemStore, prefix: &[u8], take: usize) -> Vec<(String, String)> {
        let mut out = Vec::new();
        store
            .derived_scan(prefix, &mut |k, v| {
                out.push((String::from_utf8(k.to_vec()).unwrap(), String::from_utf8(v.to_vec()).unwrap()));
                if out.len() == take { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
            })
            .unwrap();
        out
    }

    fn put(k: &str, v: &str) -> (Vec<u8>, Option<Vec<u8>>) {
        (k.as_bytes().to_vec(), Some(v.as_bytes().to_vec()))
    }

    fn remove(k: &str) -> (Vec<u8>, Option<Vec<u8>>) {
        (k.as_bytes().to_vec(), None)
    }

    #[test]
    fn an_empty_store_has_no_log_and_no_head() {
        let store = MemStore::new();
        assert_eq!(store.get(Seq(0)).unwrap(), None);
        assert_eq!(store.last().unwrap(), None);
        assert_eq!(store.stored_head().unwrap(), None);
        assert!(scanned(&store, 0, usize::MAX).is_empty());
    }

    #[test]
    fn appends_continue_the_log_in_order_and_set_the_head() {
        let mut store = MemStore::new();
        store.append(&records(0..2), &head(1)).unwrap();
        store.append(&records(2..3), &head(2)).unwrap();
        assert_eq!(store.get(Seq(1)).unwrap(), Some(b"record 1".to_vec()));
        assert_eq!(store.get(Seq(3)).unwrap(), None);
        assert_eq!(store.last().unwrap(), Some((2u64.to_be_bytes().to_vec(), b"record 2".to_vec())));
        assert_eq!(store.stored_head().unwrap(), Some(head(2)));
    }

    #[test]
    fn an_append_that_does_not_continue_the_log_is_refused_and_writes_nothing() {
        let mut store = MemStore::new();
        let r = store.append(&records(1..2), &head(1));
        assert!(matches!(r, Err(StoreError::OutOfOrder { expected: 0, got: 1 })), "{r:?}");
        store.append(&records(0..3), &head(2)).unwrap();
        // A gap inside a batch: its first record, which would have continued the log, is not written.
        let gap = [records(3..4), records(5..6)].concat();
        let r = store.append(&gap, &head(5));
        assert!(matches!(r, Err(StoreError::OutOfOrder { expected: 4, got: 5 })), "{r:?}");
        // A batch that rewrites a stored seq.
        let r = store.append(&records(2..4), &head(3));
        assert!(matches!(r, Err(StoreError::OutOfOrder { expected: 3, got: 2 })), "{r:?}");
        assert_eq!(store.get(Seq(3)).unwrap(), None);
        assert_eq!(store.get(Seq(2)).unwrap(), Some(b"record 2".to_vec()));
        assert_eq!(store.stored_head().unwrap(), Some(head(2)));
        store.append(&records(3..4), &head(3)).unwrap();
    }

    #[test]
    fn an_injected_failure_writes_nothing() {
        let mut store = MemStore::new();
        store.append(&records(0..1), &head(0)).unwrap();
        store.fail_appends = 1;
        let r = store.append(&records(1..3), &head(2));
        assert!(matches!(&r, Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::StorageFull));
        assert_eq!((store.get(Seq(1)).unwrap(), store.stored_head().unwrap()), (None, Some(head(0))));
        store.append(&records(1..3), &head(2)).unwrap();
        assert_eq!(store.stored_head().unwrap(), Some(head(2)));
    }

    #[test]
    fn a_scan_runs_in_seq_order_from_a_seq_until_it_breaks() {
        let mut store = MemStore::new();
        store.append(&records(0..300), &head(299)).unwrap();
        let all = scanned(&store, 0, usize::MAX);
        assert_eq!(all.len(), 300);
        assert!(all.iter().enumerate().all(|(i, (seq, bytes))| *seq == i as u64 && *bytes == format!("record {i}")));
        let from: Vec<u64> = scanned(&store, 255, usize::MAX).iter().map(|(s, _)| *s).collect();
        assert_eq!(from, (255..300).collect::<Vec<_>>(), "keys sort by seq (big-endian), past one byte");
        assert_eq!(scanned(&store, 10, 2), [(10, "record 10".to_string()), (11, "record 11".to_string())]);
        assert!(scanned(&store, 300, usize::MAX).is_empty());
    }

    #[test]
    fn derived_values_are_written_and_removed_together() {
        let mut store = MemStore::new();
        store.derived_write(vec![put("item/a", "1"), put("item/b", "2"), put("meta", "m")]).unwrap();
        assert_eq!(store.derived_get(b"item/a").unwrap(), Some(b"1".to_vec()));
        store.derived_write(vec![remove("item/a"), put("item/b", "3"), remove("missing")]).unwrap();
        assert_eq!(store.derived_get(b"item/a").unwrap(), None);
        assert_eq!(store.derived_get(b"item/b").unwrap(), Some(b"3".to_vec()));
        assert_eq!(store.derived_get(b"missing").unwrap(), None);
    }

    #[test]
    fn a_derived_scan_visits_its_prefix_in_key_order_until_it_breaks() {
        let mut store = MemStore::new();
        let puts = vec![put("item/c", "3"), put("item/a", "1"), put("iten", "x"), put("item/b", "2"), put("a", "0")];
        store.derived_write(puts).unwrap();
        let keys = |v: Vec<(String, String)>| v.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
        assert_eq!(keys(derived(&store, b"item/", usize::MAX)), ["item/a", "item/b", "item/c"]);
        assert_eq!(keys(derived(&store, b"item/", 1)), ["item/a"]);
        assert_eq!(keys(derived(&store, b"", usize::MAX)), ["a", "item/a", "item/b", "item/c", "iten"]);
        assert!(derived(&store, b"zzz", usize::MAX).is_empty());
    }

    #[test]
    fn clearing_derived_data_leaves_the_log() {
        let mut store = MemStore::new();
        store.append(&records(0..2), &head(1)).unwrap();
        store.derived_write(vec![put("item/a", "1"), put("watermark", "1")]).unwrap();
        store.derived_clear().unwrap();
        assert!(derived(&store, b"", usize::MAX).is_empty());
        assert_eq!(scanned(&store, 0, usize::MAX).len(), 2);
        assert_eq!(store.stored_head().unwrap(), Some(head(1)));
    }
}
