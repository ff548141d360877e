//! The on-disk store: sled 0.34.7, three trees, and the fsyncs sled does not do itself.
//!
//! Files: sled's own (`conf`, `db`, `blobs/`, `snap.*`) and `lock`, which an open store holds locked
//! (flock) so that a second process is refused before it reads anything.
//!
//! Trees: `log` (key: seq as 8 bytes big-endian; value: record bytes), `meta` (`format`, `head`) and
//! `derived` (projections, each carrying the watermark it reflects). This is the only module that
//! imports sled.
//!
//! Durability: sled's `flush()` on Linux ends in `sync_file_range`, which does not flush the file's
//! metadata or the disk's write cache (sled issue 1452), and 0.34.7 never fsyncs its directory or the
//! blob files it creates. After every flush this store therefore `fdatasync`s the data file, fsyncs
//! every new blob file and the directories, and only then reports the append as done.

use crate::codec;
use crate::ids::Seq;
use crate::date::Timestamp;
use crate::record::{Hash, Head};
use crate::store::{Entry, Store, StoreError, Visit};
use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

const FORMAT_KEY: &[u8] = b"format";
/// The file this store locks, so that one process at a time opens a ledger.
const LOCK_FILE: &str = "lock";
const HEAD_KEY: &[u8] = b"head";
/// The marker `meta/format` holds in a store this version writes.
pub const STORE_FORMAT: &[u8] = b"commitment-ledger store v1";

/// What a directory held before `init` created a store in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriorState {
    /// It did not exist.
    Absent,
    /// It existed and was empty.
    Empty,
    /// It held something (then a store is only created if it was already one).
    Occupied,
}

/// A ledger directory holding a sled database.
pub struct SledStore {
    dir: PathBuf,
    db: sled::Db,
    log: sled::Tree,
    meta: sled::Tree,
    derived: sled::Tree,
    data_file: File,
    dir_handle: File,
    /// Held (locked) while the store is open.
    _lock: Option<File>,
    /// Modification times of the ledger directory and of `blobs/` at their last fsync.
    dir_mtime: Option<SystemTime>,
    blobs_mtime: Option<SystemTime>,
    /// Blob files already fsynced.
    known_blobs: HashSet<OsString>,
}

impl std::fmt::Debug for SledStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStore").field("dir", &self.dir).finish_non_exhaustive()
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| {
        if is_disk_full(&source) {
            StoreError::DiskFull(path.to_path_buf())
        } else {
            StoreError::Io { path: path.to_path_buf(), source }
        }
    }
}

/// Whether an I/O error means the disk is full (sled sometimes wraps the OS error in its own text).
fn is_disk_full(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull
        || e.raw_os_error() == Some(28)
        || e.to_string().contains("No space left on device")
}

impl SledStore {
    /// Opens the ledger directory `dir`. With `create`, a missing or empty directory becomes a new
    /// store; without it, it is an error.
    pub fn open(dir: &Path, create: bool) -> Result<SledStore, StoreError> {
        let entries: Vec<String> = match std::fs::read_dir(dir) {
            Ok(rd) => rd
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name != LOCK_FILE)
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !create {
                    return Err(StoreError::Missing(dir.to_path_buf()));
                }
                std::fs::create_dir_all(dir).map_err(io(dir))?;
                Vec::new()
            }
            Err(e) if dir.is_file() || e.kind() == std::io::ErrorKind::NotADirectory => {
                return Err(StoreError::NotALedger {
                    path: dir.to_path_buf(),
                    why: "it is a file, not a directory".into(),
                });
            }
            Err(e) => return Err(io(dir)(e)),
        };
        let fresh = entries.is_empty();
        if fresh && !create {
            return Err(StoreError::Missing(dir.to_path_buf()));
        }
        let is_sled = entries.iter().any(|e| e == "db") && entries.iter().any(|e| e == "conf");
        if !fresh && !is_sled {
            let mut found = entries;
            found.sort();
            found.truncate(5);
            return Err(StoreError::NotALedger {
                path: dir.to_path_buf(),
                why: format!("it holds other files ({})", found.join(", ")),
            });
        }
        // Our own lock first: a second process is refused here, before it touches any file.
        let lock_path = dir.join(LOCK_FILE);
        let lock = match std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path) {
            Ok(f) => Some(f),
            // On a read-only file system an existing lock file can still be locked; without one, sled's
            // own attempt to open the database reports the read-only file system.
            Err(e) if e.kind() == std::io::ErrorKind::ReadOnlyFilesystem => File::open(&lock_path).ok(),
            Err(e) => return Err(io(&lock_path)(e)),
        };
        if let Some(lock) = &lock {
            take_lock(lock, dir, &lock_path)?;
        }
        if is_sled {
            remove_unfinished_snapshots(dir)?;
        }
        // What an earlier process left was made durable before it acknowledged anything that needs it;
        // from here on only what changes (sled's own opening included) is synced, so note it first.
        let blobs = dir.join("blobs");
        let before_open = (
            mtime(dir)?,
            mtime(&blobs)?,
            std::fs::read_dir(&blobs)
                .map(|rd| rd.filter_map(Result::ok).map(|e| e.file_name()).collect())
                .unwrap_or_default(),
        );
        let db = open_sled(dir)?;
        let names = db.tree_names();
        let has = |name: &[u8]| names.iter().any(|n| n.as_ref() == name);
        let foreign = |why: &str| StoreError::NotALedger { path: dir.to_path_buf(), why: why.to_string() };
        if !has(b"meta") {
            // Only an empty sled database (nothing but the default tree, empty) may become a ledger;
            // opening trees in anything else would write into another application's data.
            let empty = names.iter().all(|n| n.as_ref() == b"__sled__default") && db.is_empty();
            if !(create && empty) {
                return Err(foreign("it is a sled database of something else"));
            }
        }
        let tree = |name: &str| db.open_tree(name).map_err(|e| engine(dir, e));
        let (log, meta, derived) = (tree("log")?, tree("meta")?, tree("derived")?);
        match meta.get(FORMAT_KEY).map_err(|e| engine(dir, e))? {
            Some(f) if f.as_ref() == STORE_FORMAT => {}
            Some(f) => {
                return Err(foreign(&format!(
                    "its format is {:?}, not {:?}",
                    String::from_utf8_lossy(&f),
                    String::from_utf8_lossy(STORE_FORMAT)
                )));
            }
            None if create && log.is_empty() && meta.is_empty() && derived.is_empty() => {
                meta.insert(FORMAT_KEY, STORE_FORMAT).map_err(|e| engine(dir, e))?;
            }
            None => return Err(foreign("it is a sled database of something else")),
        }
        let data_path = dir.join("db");
        let data_file = File::open(&data_path).map_err(io(&data_path))?;
        let dir_handle = File::open(dir).map_err(io(dir))?;
        let mut store = SledStore {
            dir: dir.to_path_buf(),
            db,
            log,
            meta,
            derived,
            data_file,
            dir_handle,
            _lock: lock,
            dir_mtime: None,
            blobs_mtime: None,
            known_blobs: HashSet::new(),
        };
        if fresh {
            // A new store: its files and directory entries are durable before anything is appended.
            store.sync()?;
        } else {
            (store.dir_mtime, store.blobs_mtime, store.known_blobs) = before_open;
        }
        Ok(store)
    }

    /// What a directory held before a store is created in it, for [`SledStore::remove_new`].
    pub fn prior_state(dir: &Path) -> PriorState {
        match std::fs::read_dir(dir) {
            Err(_) => PriorState::Absent,
            Ok(mut entries) => {
                if entries.next().is_none() {
                    PriorState::Empty
                } else {
                    PriorState::Occupied
                }
            }
        }
    }

    /// Removes the store that a refused `init` created: the whole directory if it did not exist
    /// before, sled's files and the lock if it was empty, nothing if it held anything.
    pub fn remove_new(dir: &Path, prior: PriorState) {
        match prior {
            PriorState::Occupied => {}
            PriorState::Absent => {
                let _ = std::fs::remove_dir_all(dir);
            }
            PriorState::Empty => {
                for name in ["conf", "db", "blobs", LOCK_FILE] {
                    let path = dir.join(name);
                    let _ = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
                }
                if let Ok(rd) = std::fs::read_dir(dir) {
                    for e in rd.flatten() {
                        if e.file_name().to_string_lossy().starts_with("snap.") {
                            let _ = std::fs::remove_file(e.path());
                        }
                    }
                }
            }
        }
    }

    /// The ledger directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Makes everything written so far durable: sled flush, then fdatasync of the data file; fsync of
    /// every new blob file; fsync of a directory whenever its entries changed (its mtime moved) since
    /// its last fsync: sled created or removed a snapshot or a blob.
    fn sync(&mut self) -> Result<(), StoreError> {
        self.db.flush().map_err(|e| engine(&self.dir, e))?;
        let data_path = self.dir.join("db");
        self.data_file.sync_data().map_err(io(&data_path))?;
        let blobs = self.dir.join("blobs");
        let blobs_mtime = mtime(&blobs)?;
        if blobs_mtime != self.blobs_mtime {
            let mut present = HashSet::new();
            for entry in std::fs::read_dir(&blobs).map_err(io(&blobs))? {
                let name = entry.map_err(io(&blobs))?.file_name();
                if !self.known_blobs.contains(&name) {
                    let path = blobs.join(&name);
                    match File::open(&path).and_then(|f| f.sync_all()) {
                        Ok(()) => {}
                        // sled removes blobs it has superseded; one gone since the listing needs nothing.
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                        Err(e) => return Err(io(&path)(e)),
                    }
                }
                present.insert(name);
            }
            File::open(&blobs).and_then(|f| f.sync_all()).map_err(io(&blobs))?;
            self.known_blobs = present;
            self.blobs_mtime = blobs_mtime;
        }
        let dir_mtime = mtime(&self.dir)?;
        if dir_mtime != self.dir_mtime {
            self.dir_handle.sync_all().map_err(io(&self.dir))?;
            self.dir_mtime = dir_mtime;
        }
        Ok(())
    }

    fn next_seq(&self) -> Result<u64, StoreError> {
        Ok(match self.log.last().map_err(|e| engine(&self.dir, e))? {
            Some((k, _)) => Seq::from_key(&k).map_or(0, |s| s.0 + 1),
            None => 0,
        })
    }
}

/// Takes the ledger's lock. A copy of a lock held by this process can linger for a moment in a child
/// process between its fork and its exec, so a refusal is retried for up to 200 ms before it is final.
fn take_lock(lock: &File, dir: &Path, lock_path: &Path) -> Result<(), StoreError> {
    let mut attempts = 0;
    loop {
        match lock.try_lock() {
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) if attempts < 10 => {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(std::fs::TryLockError::WouldBlock) => return Err(StoreError::Locked(dir.to_path_buf())),
            Err(std::fs::TryLockError::Error(e)) => return Err(io(lock_path)(e)),
        }
    }
}

/// Opens sled, waiting (up to 10 s) when its lock is held: with our own lock taken, only a ledger
/// dropped by this process a moment ago can still hold it, until sled's background threads finish.
fn open_sled(dir: &Path) -> Result<sled::Db, StoreError> {
    let mut attempt = 0;
    loop {
        let result = sled::Config::new()
            .path(dir)
            .mode(sled::Mode::HighThroughput)
            .cache_capacity(64 * 1024 * 1024)
            .flush_every_ms(None)
            .open();
        match result {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(ref e)) if e.to_string().contains("could not acquire lock") => {
                attempt += 1;
                if attempt > 400 {
                    return Err(StoreError::Locked(dir.to_path_buf()));
                }
                std::thread::sleep(std::time::Duration::from_millis(25));
            }
            Err(other) => return Err(engine(dir, other)),
        }
    }
}

/// Removes snapshots sled began but never finished (`snap.*.generating`, left by a crash while it
/// wrote one): sled would try to read the newest snapshot file, unfinished or not, and fail. A snapshot
/// only speeds up recovery; sled rebuilds its state from the log without it.
fn remove_unfinished_snapshots(dir: &Path) -> Result<(), StoreError> {
    let mut removed = false;
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            std::fs::remove_file(&path).map_err(io(&path))?;
            removed = true;
        }
    }
    if removed {
        File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))?;
    }
    Ok(())
}

/// A directory's modification time (none if it does not exist).
fn mtime(dir: &Path) -> Result<Option<SystemTime>, StoreError> {
    match std::fs::metadata(dir) {
        Ok(m) => m.modified().map(Some).map_err(io(dir)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(dir)(e)),
    }
}

fn engine(dir: &Path, e: sled::Error) -> StoreError {
    match e {
        sled::Error::Io(source) if is_disk_full(&source) => StoreError::DiskFull(dir.to_path_buf()),
        sled::Error::Io(source) => StoreError::Io { path: dir.to_path_buf(), source },
        other => StoreError::Engine(other.to_string()),
    }
}

impl Store for SledStore {
    fn append(&mut self, records: &[(Seq, Vec<u8>)], head: &Head) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (expected, (seq, bytes)) in (self.next_seq()?..).zip(records) {
            if seq.0 != expected {
                return Err(StoreError::OutOfOrder { expected, got: seq.0 });
            }
            batch.insert(&seq.key(), bytes.as_slice());
        }
        self.log.apply_batch(batch).map_err(|e| engine(&self.dir, e))?;
        self.meta.insert(HEAD_KEY, codec::encode(&(head.seq.0, head.hash.0, head.time.0))).map_err(|e| engine(&self.dir, e))?;
        self.sync()
    }

    fn get(&self, seq: Seq) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.log.get(seq.key()).map_err(|e| engine(&self.dir, e))?.map(|v| v.to_vec()))
    }

    fn last(&self) -> Result<Option<Entry>, StoreError> {
        Ok(self.log.last().map_err(|e| engine(&self.dir, e))?.map(|(k, v)| (k.to_vec(), v.to_vec())))
    }

    fn scan(&self, from: Seq, f: &mut Visit<'_>) -> Result<(), StoreError> {
        // From 0 means from the very first key, so that a key shorter than 8 bytes is seen too.
        let entries = if from == Seq(0) { self.log.iter() } else { self.log.range(from.key()..) };
        for entry in entries {
            let (k, v) = entry.map_err(|e| engine(&self.dir, e))?;
            if f(&k, &v).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn stored_head(&self) -> Result<Option<Head>, StoreError> {
        let Some(v) = self.meta.get(HEAD_KEY).map_err(|e| engine(&self.dir, e))? else { return Ok(None) };
        let unreadable = |e: codec::CodecError| StoreError::HeadUnreadable(e.to_string());
        // 48 bytes: seq, hash, time. Stores written before the head carried its time hold 40 bytes
        // (seq, hash); their time reads as 0, which nothing compares.
        let (seq, hash, time) = if v.len() == 40 {
            let (seq, hash): (u64, [u8; 32]) = codec::decode(&v).map_err(unreadable)?;
            (seq, hash, 0)
        } else {
            codec::decode::<(u64, [u8; 32], i64)>(&v).map_err(unreadable)?
        };
        Ok(Some(Head { seq: Seq(seq), hash: Hash(hash), time: Timestamp(time) }))
    }

    fn derived_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.derived.get(key).map_err(|e| engine(&self.dir, e))?.map(|v| v.to_vec()))
    }

    fn derived_write(&mut self, puts: Vec<(Vec<u8>, Option<Vec<u8>>)>) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (k, v) in puts {
            match v {
                Some(v) => batch.insert(k, v),
                None => batch.remove(k),
            }
        }
        self.derived.apply_batch(batch).map_err(|e| engine(&self.dir, e))
    }

    fn derived_scan(&self, prefix: &[u8], f: &mut Visit<'_>) -> Result<(), StoreError> {
        for entry in self.derived.scan_prefix(prefix) {
            let (k, v) = entry.map_err(|e| engine(&self.dir, e))?;
            if f(&k, &v).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn derived_clear(&mut self) -> Result<(), StoreError> {
        self.derived.clear().map_err(|e| engine(&self.dir, e))
    }
}
