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
use crate::date::Timestamp;
use crate::ids::Seq;
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
/// Where stores of format 1 kept the acknowledged head (inside sled, so it rolled back with the log).
const HEAD_KEY: &[u8] = b"head";
/// The marker `meta/format` holds in a store this version writes: the acknowledged head is kept
/// outside sled, in [`WITNESS_FILE`].
pub const STORE_FORMAT: &[u8] = b"commitment-ledger store v2";
/// The marker of format 1 stores, which are read as they are and move to format 2 on their next append.
pub const STORE_FORMAT_V1: &[u8] = b"commitment-ledger store v1";
/// The file holding the acknowledged head, outside sled's files (see [`Witness`]).
pub const WITNESS_FILE: &str = "acknowledged";

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
    /// The acknowledged head, outside sled.
    witness: Witness,
    /// Whether the store is of format 1 (head in `meta/head`, no witness yet).
    legacy: bool,
    /// Opened for reading: nothing is written, appends and derived writes are refused.
    read_only: bool,
    /// Modification times of the ledger directory and of `blobs/` at their last fsync.
    dir_mtime: Option<SystemTime>,
    blobs_mtime: Option<SystemTime>,
    /// Blob files already fsynced.
    known_blobs: HashSet<OsString>,
    /// The private copy a reader opened instead of the ledger directory (removed when dropped; declared
    /// last so that sled is closed first).
    _copy: Option<PrivateCopy>,
}

/// A private copy of sled's files in the temporary directory, for a reader that cannot open the ledger
/// directory in place. Removed when dropped.
#[derive(Debug)]
struct PrivateCopy(PathBuf);

impl Drop for PrivateCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
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
            missing_sled_files(dir, &entries)?;
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
        let db = open_sled(dir, true).map_err(|e| damaged_if_ledger(dir, e))?;
        let names = db.tree_names();
        let has = |name: &[u8]| names.iter().any(|n| n.as_ref() == name);
        let foreign = |why: &str| foreign(dir, why);
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
            Some(f) if f.as_ref() == STORE_FORMAT || f.as_ref() == STORE_FORMAT_V1 => {}
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
        let legacy = meta.get(FORMAT_KEY).map_err(|e| engine(dir, e))?.is_some_and(|f| f.as_ref() == STORE_FORMAT_V1);
        let witness = Witness::open(&dir.join(WITNESS_FILE))?;
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
            witness,
            legacy,
            read_only: false,
            dir_mtime: None,
            blobs_mtime: None,
            known_blobs: HashSet::new(),
            _copy: None,
        };
        if fresh {
            // A new store: its witness says that nothing is acknowledged yet, and its files and
            // directory entries are durable before anything is appended.
            store.witness.write_nothing()?;
            store.sync()?;
        } else {
            (store.dir_mtime, store.blobs_mtime, store.known_blobs) = before_open;
        }
        Ok(store)
    }

    /// Opens the ledger directory `dir` for reading: writes nothing to it, and works on a read-only
    /// directory (a backup mount, another user's mirror) and beside other readers.
    ///
    /// It takes the ledger's lock shared (a writer holds it exclusively, and is waited for briefly,
    /// then refused). sled writes to any database it opens (its snapshot file, the unused end of its
    /// log), so sled's files are copied to a private directory under the system's temporary directory
    /// and opened there; the ledger directory itself is only read. Appends and derived writes are
    /// refused.
    pub fn open_read_only(dir: &Path) -> Result<SledStore, StoreError> {
        let entries: Vec<String> = match std::fs::read_dir(dir) {
            Ok(rd) => rd.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(StoreError::Missing(dir.to_path_buf())),
            Err(e) if dir.is_file() || e.kind() == std::io::ErrorKind::NotADirectory => {
                return Err(StoreError::NotALedger {
                    path: dir.to_path_buf(),
                    why: "it is a file, not a directory".into(),
                });
            }
            Err(e) => return Err(io(dir)(e)),
        };
        if !(entries.iter().any(|e| e == "db") && entries.iter().any(|e| e == "conf")) {
            missing_sled_files(dir, &entries)?;
            let mut found: Vec<String> = entries.into_iter().filter(|e| e != LOCK_FILE).collect();
            if found.is_empty() {
                return Err(StoreError::Missing(dir.to_path_buf()));
            }
            found.sort();
            found.truncate(5);
            return Err(StoreError::NotALedger {
                path: dir.to_path_buf(),
                why: format!("it holds other files ({})", found.join(", ")),
            });
        }
        let lock_path = dir.join(LOCK_FILE);
        let lock = File::open(&lock_path).ok();
        if let Some(lock) = &lock {
            take_shared_lock(lock, dir, &lock_path)?;
        }
        // sled writes whenever it opens a database (it refreshes its snapshot file and clears the unused
        // end of its log), so a reader never lets it open the ledger's own files.
        let copy = private_copy(dir)?;
        let db = open_sled(&copy.0, false).map_err(|e| damaged_if_ledger(dir, e))?;
        let copy = Some(copy);
        let foreign = |why: &str| foreign(dir, why);
        if !db.tree_names().iter().any(|n| n.as_ref() == b"meta") {
            return Err(foreign("it is a sled database of something else"));
        }
        let tree = |name: &str| db.open_tree(name).map_err(|e| engine(dir, e));
        let (log, meta, derived) = (tree("log")?, tree("meta")?, tree("derived")?);
        let format = meta.get(FORMAT_KEY).map_err(|e| engine(dir, e))?;
        let legacy = match format.as_deref() {
            Some(f) if f == STORE_FORMAT => false,
            Some(f) if f == STORE_FORMAT_V1 => true,
            Some(f) => return Err(foreign(&format!("its format is {:?}", String::from_utf8_lossy(f)))),
            None => return Err(foreign("it is a sled database of something else")),
        };
        let witness = Witness::open_read_only(&dir.join(WITNESS_FILE))?;
        let data_path = copy.as_ref().map_or(dir, |c| c.0.as_path()).join("db");
        let data_file = File::open(&data_path).map_err(io(&data_path))?;
        let dir_handle = File::open(dir).map_err(io(dir))?;
        Ok(SledStore {
            dir: dir.to_path_buf(),
            db,
            log,
            meta,
            derived,
            data_file,
            dir_handle,
            _lock: lock,
            witness,
            legacy,
            read_only: true,
            dir_mtime: None,
            blobs_mtime: None,
            known_blobs: HashSet::new(),
            _copy: copy,
        })
    }

    /// Whether the store was opened for reading only.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    fn refuse_if_read_only(&self) -> Result<(), StoreError> {
        if self.read_only { Err(StoreError::ReadOnly(self.dir.clone())) } else { Ok(()) }
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
                for name in ["conf", "db", "blobs", LOCK_FILE, WITNESS_FILE] {
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

/// Why a sled database is not this ledger: someone else's database, or (when the ledger's witness is
/// here) sled's files emptied or replaced, which is damage to the ledger's store.
fn foreign(dir: &Path, why: &str) -> StoreError {
    if dir.join(WITNESS_FILE).exists() {
        StoreError::Damaged(format!("sled's files at {} hold no ledger ({why})", dir.display()))
    } else {
        StoreError::NotALedger { path: dir.to_path_buf(), why: why.to_string() }
    }
}

/// An engine error on a directory that holds the ledger's witness is damage to a ledger's store.
fn damaged_if_ledger(dir: &Path, e: StoreError) -> StoreError {
    match e {
        StoreError::Engine(why) if dir.join(WITNESS_FILE).exists() => StoreError::Damaged(why),
        e => e,
    }
}

/// A directory that holds the ledger's witness of its acknowledged head but not sled's files is a
/// ledger whose store was removed or damaged, not another kind of directory: say so.
fn missing_sled_files(dir: &Path, entries: &[String]) -> Result<(), StoreError> {
    if !entries.iter().any(|e| e == WITNESS_FILE) {
        return Ok(());
    }
    let missing: Vec<&str> = ["db", "conf"].into_iter().filter(|f| !entries.iter().any(|e| e == f)).collect();
    Err(StoreError::Damaged(format!(
        "sled's file{} {} {} missing from the ledger at {} (its acknowledged head remains)",
        if missing.len() > 1 { "s" } else { "" },
        missing.join(" and "),
        if missing.len() > 1 { "are" } else { "is" },
        dir.display()
    )))
}

/// Takes the ledger's lock shared (for a reader), waiting up to 200 ms for a writer to let go.
fn take_shared_lock(lock: &File, dir: &Path, lock_path: &Path) -> Result<(), StoreError> {
    for _ in 0..10 {
        match lock.try_lock_shared() {
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) => std::thread::sleep(std::time::Duration::from_millis(20)),
            Err(std::fs::TryLockError::Error(e)) => return Err(io(lock_path)(e)),
        }
    }
    Err(StoreError::Locked(dir.to_path_buf()))
}

/// Copies sled's files (`conf`, `db`, `blobs/`, finished `snap.*`) into a new private directory.
fn private_copy(dir: &Path) -> Result<PrivateCopy, StoreError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    // A new directory of our own (created, never reused: `create` fails if the name exists), readable
    // by us alone; the copies are made writable for sled whatever the originals' modes.
    remove_abandoned_copies();
    let to = loop {
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nonce = blake3::hash(format!("{}-{n}-{:?}", std::process::id(), SystemTime::now()).as_bytes());
        let to =
            std::env::temp_dir().join(format!("commitments-read-{}-{}", std::process::id(), &nonce.to_hex()[..16]));
        match std::fs::DirBuilder::new().mode(0o700).create(&to) {
            Ok(()) => break to,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io(&to)(e)),
        }
    };
    let copy = PrivateCopy(to);
    let blobs_to = copy.0.join("blobs");
    std::fs::DirBuilder::new().mode(0o700).create(&blobs_to).map_err(io(&blobs_to))?;
    let copy_file = |from: &Path, to: &Path| -> Result<(), StoreError> {
        std::fs::copy(from, to).map_err(io(from))?;
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600)).map_err(io(to))
    };
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let wanted = name == "conf" || name == "db" || (name.starts_with("snap.") && !name.ends_with(".generating"));
        if wanted {
            copy_file(&entry.path(), &copy.0.join(&name))?;
        }
    }
    if let Ok(blobs) = std::fs::read_dir(dir.join("blobs")) {
        for entry in blobs.flatten() {
            copy_file(&entry.path(), &blobs_to.join(entry.file_name()))?;
        }
    }
    Ok(copy)
}

/// Removes private copies left by readers that were killed before they could remove their own (the
/// process named in the directory's name is gone).
fn remove_abandoned_copies() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix("commitments-read-").and_then(|rest| rest.split('-').next()) else {
            continue;
        };
        let alive = pid.parse::<u32>().is_ok_and(|p| Path::new(&format!("/proc/{p}")).exists());
        if !alive && pid.bytes().all(|b| b.is_ascii_digit()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Opens sled, waiting (up to 10 s) when its lock is held: with our own lock taken, only a ledger
/// dropped by this process a moment ago can still hold it, until sled's background threads finish.
fn open_sled(dir: &Path, wait: bool) -> Result<sled::Db, StoreError> {
    let mut attempt = 0;
    loop {
        let result = contain(|| {
            sled::Config::new()
                .path(dir)
                .mode(sled::Mode::HighThroughput)
                .cache_capacity(64 * 1024 * 1024)
                .flush_every_ms(None)
                .open()
        })?;
        match result {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(ref e)) if e.to_string().contains("could not acquire lock") => {
                if !wait {
                    return Err(StoreError::Locked(dir.to_path_buf()));
                }
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

/// Runs a call into sled, turning a panic (sled 0.34 panics on some damaged files, e.g. "tried to
/// serialize Uninitialized") into an engine error, so that damage is reported as damage.
fn contain<T>(f: impl FnOnce() -> T) -> Result<T, StoreError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| {
        let why = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".into());
        StoreError::Engine(format!("the storage engine failed on damaged data ({why})"))
    })
}

fn engine(dir: &Path, e: sled::Error) -> StoreError {
    match e {
        sled::Error::Io(source) if is_disk_full(&source) => StoreError::DiskFull(dir.to_path_buf()),
        sled::Error::Io(source) => StoreError::Io { path: dir.to_path_buf(), source },
        other => StoreError::Engine(other.to_string()),
    }
}

impl SledStore {
    /// Writes the witness of the acknowledged head and makes it durable; a format 1 store becomes
    /// format 2 (its marker follows with sled's next flush; the witness, once present, is what counts).
    fn acknowledge(&mut self, head: &Head) -> Result<(), StoreError> {
        let created = !self.witness.exists();
        debug_assert!(head.seq != NOTHING.seq);
        self.witness.write(head)?;
        if created {
            self.dir_handle.sync_all().map_err(io(&self.dir))?;
        }
        if self.legacy {
            self.meta.insert(FORMAT_KEY, STORE_FORMAT).map_err(|e| engine(&self.dir, e))?;
            self.legacy = false;
        }
        Ok(())
    }
}

impl Store for SledStore {
    fn writable(&self) -> bool {
        !self.read_only
    }

    fn ledger_dir(&self) -> Option<&Path> {
        Some(self.dir())
    }

    fn append(&mut self, records: &[(Seq, Vec<u8>)], head: &Head) -> Result<(), StoreError> {
        self.refuse_if_read_only()?;
        let mut batch = sled::Batch::default();
        for (expected, (seq, bytes)) in (self.next_seq()?..).zip(records) {
            if seq.0 != expected {
                return Err(StoreError::OutOfOrder { expected, got: seq.0 });
            }
            batch.insert(&seq.key(), bytes.as_slice());
        }
        self.log.apply_batch(batch).map_err(|e| engine(&self.dir, e))?;
        self.sync()?;
        // Only what sled holds durably is acknowledged: the witness is written after the sync.
        self.acknowledge(head)
    }

    fn acknowledge(&mut self, head: &Head) -> Result<(), StoreError> {
        self.refuse_if_read_only()?;
        SledStore::acknowledge(self, head)
    }

    fn discard_after(&mut self, keep: Option<Seq>) -> Result<(), StoreError> {
        self.refuse_if_read_only()?;
        let from = keep.map_or(Seq(0), |k| k.next());
        let mut batch = sled::Batch::default();
        for entry in self.log.range(from.key()..) {
            let (k, _) = entry.map_err(|e| engine(&self.dir, e))?;
            batch.remove(k);
        }
        self.log.apply_batch(batch).map_err(|e| engine(&self.dir, e))?;
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
        let mut entries = entries.fuse();
        loop {
            // sled can panic on a damaged data file instead of returning an error: contain it here.
            let Some(entry) = contain(|| entries.next()).map_err(|e| damaged_if_ledger(&self.dir, e))? else {
                return Ok(());
            };
            let (k, v) = entry.map_err(|e| damaged_if_ledger(&self.dir, engine(&self.dir, e)))?;
            if f(&k, &v).is_break() {
                return Ok(());
            }
        }
    }

    fn stored_head(&self) -> Result<Option<Head>, StoreError> {
        if self.witness.exists() {
            return self.witness.read();
        }
        if !self.legacy {
            // A format 2 store is created with its witness: without it, nothing vouches for the end
            // of the log.
            return Err(StoreError::HeadUnreadable(format!("its witness, the file `{WITNESS_FILE}`, is missing")));
        }
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
        self.refuse_if_read_only()?;
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
        self.refuse_if_read_only()?;
        self.derived.clear().map_err(|e| engine(&self.dir, e))
    }
}

/// The acknowledged head, kept outside sled's files so that sled's own recovery (after damage, or
/// after someone cut its files) cannot roll it back together with the log.
///
/// The file holds two slots of [`SLOT`] bytes, at offsets 0 and 512 (different disk sectors). Each
/// write goes to the slot not holding the newest head, with a counter one higher, and is fdatasynced
/// before the append is acknowledged. A crash can tear at most the slot being written; the other still
/// holds the previous head. A slot: magic `CLWITNES` (8) ‖ counter u64 LE ‖ seq u64 LE ‖ hash (32) ‖
/// time i64 LE (µs) ‖ check (8) ‖ zeroes (8); the check is the first 8 bytes of BLAKE3
/// `derive_key("commitment-ledger 2026-11-29 acknowledged head v1", the 64 bytes before it)`.
#[derive(Debug)]
pub struct Witness {
    path: PathBuf,
    file: Option<File>,
    /// The newest valid slot: its counter and index.
    newest: Option<(u64, usize)>,
}

const SLOT: usize = 88;
/// What a slot holds while nothing is acknowledged: seq `u64::MAX`, no record can have it.
const NOTHING: Head = Head { seq: Seq(u64::MAX), hash: Hash::ZERO, time: Timestamp(0) };
const SLOT_OFFSETS: [u64; 2] = [0, 512];
const WITNESS_MAGIC: &[u8; 8] = b"CLWITNES";
/// The BLAKE3 context of a witness slot's check.
pub const WITNESS_CONTEXT: &str = "commitment-ledger 2026-11-29 acknowledged head v1";

fn slot_check(body: &[u8]) -> [u8; 8] {
    let mut out = [0u8; 8];
    out.copy_from_slice(&blake3::derive_key(WITNESS_CONTEXT, body)[..8]);
    out
}

fn encode_slot(counter: u64, head: &Head) -> [u8; SLOT] {
    let mut s = [0u8; SLOT];
    s[..8].copy_from_slice(WITNESS_MAGIC);
    s[8..16].copy_from_slice(&counter.to_le_bytes());
    s[16..24].copy_from_slice(&head.seq.0.to_le_bytes());
    s[24..56].copy_from_slice(&head.hash.0);
    s[56..64].copy_from_slice(&head.time.0.to_le_bytes());
    let check = slot_check(&s[..64]);
    s[64..72].copy_from_slice(&check);
    s
}

/// A slot's counter and head, if it is a whole, valid slot.
fn decode_slot(s: &[u8]) -> Option<(u64, Head)> {
    if s.len() < SLOT || &s[..8] != WITNESS_MAGIC || s[64..72] != slot_check(&s[..64]) {
        return None;
    }
    let u64_at = |i: usize| u64::from_le_bytes(s[i..i + 8].try_into().unwrap_or_default());
    let mut hash = [0u8; 32];
    hash.copy_from_slice(&s[24..56]);
    Some((u64_at(8), Head { seq: Seq(u64_at(16)), hash: Hash(hash), time: Timestamp(u64_at(56) as i64) }))
}

impl Witness {
    /// Opens the witness file for reading only.
    pub fn open_read_only(path: &Path) -> Result<Witness, StoreError> {
        let file = match File::open(path) {
            Ok(f) => Some(f),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(path)(e)),
        };
        let mut w = Witness { path: path.to_path_buf(), file, newest: None };
        w.newest = w.slots()?.into_iter().enumerate().filter_map(|(i, s)| s.map(|(c, _)| (c, i))).max();
        Ok(w)
    }

    /// Opens the witness file if it exists (for reading and, on a writable directory, writing).
    pub fn open(path: &Path) -> Result<Witness, StoreError> {
        let file = match std::fs::OpenOptions::new().read(true).write(true).open(path) {
            Ok(f) => Some(f),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
                ) =>
            {
                Some(File::open(path).map_err(io(path))?)
            }
            Err(e) => return Err(io(path)(e)),
        };
        let mut w = Witness { path: path.to_path_buf(), file, newest: None };
        w.newest = w.slots()?.into_iter().enumerate().filter_map(|(i, s)| s.map(|(c, _)| (c, i))).max();
        Ok(w)
    }

    /// Whether the file exists.
    pub fn exists(&self) -> bool {
        self.file.is_some()
    }

    fn slots(&self) -> Result<[Option<(u64, Head)>; 2], StoreError> {
        let Some(file) = &self.file else { return Ok([None, None]) };
        let mut out = [None, None];
        for (i, offset) in SLOT_OFFSETS.iter().enumerate() {
            let mut buf = [0u8; SLOT];
            match read_exact_at(file, &mut buf, *offset) {
                Ok(()) => out[i] = decode_slot(&buf),
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {}
                Err(e) => return Err(io(&self.path)(e)),
            }
        }
        Ok(out)
    }

    /// The acknowledged head: none if the file does not exist; an error if it exists but holds no
    /// valid slot (it was damaged or rewritten).
    pub fn read(&self) -> Result<Option<Head>, StoreError> {
        if self.file.is_none() {
            return Ok(None);
        }
        let slots = self.slots()?;
        match slots.iter().flatten().max_by_key(|(c, _)| *c) {
            Some((_, head)) if *head == NOTHING => Ok(None),
            Some((_, head)) => Ok(Some(*head)),
            None => Err(StoreError::HeadUnreadable(format!(
                "{} holds no valid acknowledged head (damaged or rewritten)",
                self.path.display()
            ))),
        }
    }

    /// Records that nothing is acknowledged yet (a new store), durably.
    pub fn write_nothing(&mut self) -> Result<(), StoreError> {
        self.write(&NOTHING)
    }

    /// Writes a new acknowledged head into the older slot and makes it durable.
    pub fn write(&mut self, head: &Head) -> Result<(), StoreError> {
        if self.file.is_none() {
            let f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&self.path)
                .map_err(io(&self.path))?;
            f.set_len(SLOT_OFFSETS[1] + SLOT as u64).map_err(io(&self.path))?;
            self.file = Some(f);
        }
        let (counter, slot) = match self.newest {
            Some((c, i)) => (c + 1, 1 - i),
            None => (1, 0),
        };
        let bytes = encode_slot(counter, head);
        let file = self.file.as_ref().ok_or_else(|| StoreError::Engine("the witness file is not open".into()))?;
        write_all_at(file, &bytes, SLOT_OFFSETS[slot]).map_err(io(&self.path))?;
        file.sync_data().map_err(io(&self.path))?;
        self.newest = Some((counter, slot));
        Ok(())
    }
}

fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.read_exact_at(buf, offset)
}

fn write_all_at(file: &File, buf: &[u8], offset: u64) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.write_all_at(buf, offset)
}

#[cfg(test)]
mod witness_tests {
    use super::*;

    fn head(n: u64) -> Head {
        Head { seq: Seq(n), hash: Hash([n as u8; 32]), time: Timestamp(n as i64 * 1000) }
    }

    #[test]
    fn the_newest_valid_slot_wins_and_a_torn_slot_leaves_the_previous_head() {
        let dir = std::env::temp_dir().join(format!("witness-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(WITNESS_FILE);
        let mut w = Witness::open(&path).unwrap();
        assert_eq!(w.read().unwrap(), None);
        for n in 1..=5 {
            w.write(&head(n)).unwrap();
            assert_eq!(Witness::open(&path).unwrap().read().unwrap(), Some(head(n)));
        }
        // Head 5 went to slot 0 (counters 1, 3, 5 in slot 0): tear it, and head 4 is what remains.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[30] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(Witness::open(&path).unwrap().read().unwrap(), Some(head(4)));
        // Both slots damaged: unreadable, never "no head".
        bytes[512 + 30] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(Witness::open(&path).unwrap().read(), Err(StoreError::HeadUnreadable(_))));
        // Writing after damage goes on from the valid slot's counter.
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
