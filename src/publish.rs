//! The ledger's own checkpoints: its checkpoint key, the C2SP tlog-checkpoint notes it signs over its
//! Merkle tree, and the files they are kept in (`schema/checkpoint.md`).
//!
//! # Files, in the ledger directory
//!
//! - `keys/_ledger.pem`: the ledger's Ed25519 checkpoint key, PKCS#8 v1 PEM, mode 0600 ([`crate::keys`]).
//! - `keys/_ledger.pub`: its public key, SPKI PEM, so that readers (`prove`, `ledger-key`) never need
//!   the private key.
//! - `checkpoints/<tree size, 20 digits>`: every checkpoint the ledger signed, one signed note a file.
//!
//! # Checkpoints
//!
//! A checkpoint's origin line is the ledger's origin (record 0), its tree size the number of records,
//! its root the RFC 6962 root of their record hashes (base64). The note is signed with the checkpoint
//! key under the key name = the origin, so the verifier key is `<origin>+<key id>+<base64(0x01‖key)>`.
//!
//! Ledgers made before checkpoints existed have no key: [`checkpoint`] creates one on first use (when
//! the ledger has published no checkpoint yet); everything else says how to get one.
//!
//! [`checkpoint`] is O(log n): the root comes from the stored Merkle tree. It refuses a ledger that
//! needs an operator (damaged, or with an unacknowledged tail an operator may still discard), and one
//! that no longer matches the last checkpoint it published (cut back, restored from an older copy, or
//! rewritten): it never signs two histories.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand_core::{OsRng, RngCore};

use crate::checkpoint::{self, Checkpoint, CheckpointError, CosignatureVerifier, OpenedCheckpoint};
use crate::keys::{self, KeyError, VerifyingKey, WriteMode};
use crate::ledger::{Ledger, LedgerError};
use crate::note::{self, Note, NoteError, Verifier};
use crate::store::Store;

/// The ledger's checkpoint key, relative to the ledger directory.
pub const KEY_FILE: &str = "keys/_ledger.pem";

/// The ledger's checkpoint public key (SPKI PEM), relative to the ledger directory.
pub const PUBLIC_KEY_FILE: &str = "keys/_ledger.pub";

/// The directory, relative to the ledger directory, that keeps every checkpoint the ledger signed.
pub const CHECKPOINT_DIR: &str = "checkpoints";

/// Largest checkpoint file read, in bytes (a checkpoint with a hundred cosignatures is under 12 KiB).
pub const MAX_CHECKPOINT_FILE: u64 = 64 * 1024;

/// What kind of failure an error is, for an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The input is malformed, missing or does not belong here; nothing was written (exit 2).
    BadInput,
    /// The ledger, a checkpoint or a proof is unsound: evidence does not hold (exit 1).
    Unsound,
    /// Reading or writing failed (exit 3).
    Io,
}

/// Errors from the ledger key, checkpoints and their files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// The ledger has no record 0, so no origin.
    #[error("the ledger is not initialized: it has no record 0, so no origin for a checkpoint")]
    NotInitialized,
    /// The ledger has no record for a checkpoint to cover.
    #[error("the ledger has no records: there is nothing for a checkpoint to cover")]
    EmptyLedger,
    /// The ledger is damaged or has an unacknowledged tail; an operator must act first.
    #[error("the ledger needs an operator before it can sign a checkpoint: {0}")]
    NeedsOperator(String),
    /// The checkpoint key file does not exist.
    #[error(
        "{}",
        if *published {
            format!(
                "this ledger's checkpoint key {} is missing, but the ledger has published checkpoints in {}: \
                 restore the key file from a backup (a new key would not verify the checkpoints people already hold)",
                path.display(),
                checkpoints.display()
            )
        } else {
            format!(
                "this ledger has no checkpoint key: {} does not exist (ledgers made before checkpoints have none); \
                 run `commitments checkpoint` once, which creates it, then try again",
                path.display()
            )
        }
    )]
    NoKey {
        /// The missing key file.
        path: PathBuf,
        /// The ledger's checkpoint directory.
        checkpoints: PathBuf,
        /// Whether that directory holds checkpoints signed with the missing key.
        published: bool,
    },
    /// A key file exists already; it is never replaced.
    #[error("{} already exists: the ledger already has a checkpoint key, and it is never replaced", path.display())]
    KeyExists {
        /// The existing file.
        path: PathBuf,
    },
    /// Reading or writing a key file failed, or its content is not a key.
    #[error(transparent)]
    Key(KeyError),
    /// The private and the public key files hold different keys.
    #[error(
        "{} and {} hold different keys: the ledger directory was tampered with or mixed up with another \
         ledger's; restore both from a backup",
        private.display(),
        public.display()
    )]
    KeyMismatch {
        /// The private key file.
        private: PathBuf,
        /// The public key file.
        public: PathBuf,
    },
    /// The ledger's origin cannot name a note key.
    #[error("the ledger's origin {origin:?} cannot name a checkpoint key: {problem}")]
    Origin {
        /// The origin.
        origin: String,
        /// Why not.
        problem: NoteError,
    },
    /// Reading the ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What failed.
        source: io::Error,
    },
    /// A file given as a checkpoint cannot be one (missing, too big, not text).
    #[error("{}: {problem}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// A checkpoint is malformed, of another ledger, not signed by the key, or altered.
    #[error("{problem}")]
    Checkpoint {
        /// What is wrong, for a clerk (the caller names the file).
        problem: String,
        /// Bad input or unsound.
        fault: Fault,
    },
    /// A checkpoint the ledger kept does not verify or cannot be read: its checkpoint directory was
    /// tampered with.
    #[error("{}: the ledger's own checkpoint file {problem}", path.display())]
    Kept {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The ledger has fewer records than a checkpoint it published.
    #[error(
        "the ledger has {records} records but the checkpoint it published in {} covers {size}: records it \
         covered are gone (the ledger was cut back or restored from an older copy); run `commitments verify \
         --checkpoint {}`",
        path.display(),
        path.display()
    )]
    Truncated {
        /// The published checkpoint.
        path: PathBuf,
        /// Its tree size.
        size: u64,
        /// The ledger's records.
        records: u64,
    },
    /// The ledger's tree at a published checkpoint's size has another root.
    #[error(
        "the ledger no longer matches the checkpoint it published in {}: its first {size} records have root \
         {} now, the checkpoint says {} (records it covered were changed); run `commitments verify \
         --checkpoint {}`",
        path.display(),
        BASE64.encode(ledger_root),
        BASE64.encode(published_root),
        path.display()
    )]
    Diverged {
        /// The published checkpoint.
        path: PathBuf,
        /// Its tree size.
        size: u64,
        /// Its root.
        published_root: [u8; 32],
        /// The ledger's root at that size.
        ledger_root: [u8; 32],
    },
}

impl PublishError {
    /// What kind of failure this is. [`PublishError::Ledger`] is `Io` here; callers with their own
    /// mapping of [`LedgerError`] use it instead.
    pub fn fault(&self) -> Fault {
        match self {
            PublishError::NotInitialized
            | PublishError::EmptyLedger
            | PublishError::NoKey { .. }
            | PublishError::KeyExists { .. }
            | PublishError::Origin { .. }
            | PublishError::File { .. } => Fault::BadInput,
            PublishError::NeedsOperator(_)
            | PublishError::KeyMismatch { .. }
            | PublishError::Kept { .. }
            | PublishError::Truncated { .. }
            | PublishError::Diverged { .. } => Fault::Unsound,
            PublishError::Key(e) => key_fault(e),
            PublishError::Checkpoint { fault, .. } => *fault,
            PublishError::Ledger(_) | PublishError::Io { .. } => Fault::Io,
        }
    }
}

fn key_fault(e: &KeyError) -> Fault {
    match e {
        KeyError::Io { .. } => Fault::Io,
        _ => Fault::BadInput,
    }
}

/// A checkpoint the ledger signed and kept.
#[derive(Debug, Clone)]
pub struct Published {
    /// The signed note.
    pub text: String,
    /// Its body: origin, tree size, root.
    pub checkpoint: Checkpoint,
    /// Where the ledger keeps it (`checkpoints/<size>`).
    pub path: PathBuf,
    /// The ledger's verifier key.
    pub vkey: String,
    /// Whether this call created the ledger's checkpoint key (a ledger made before checkpoints).
    pub key_created: bool,
}

/// The ledger's origin (record 0), or [`PublishError::NotInitialized`].
pub fn origin<S: Store>(ledger: &Ledger<S>) -> Result<String, PublishError> {
    ledger.registry().info().map(|i| i.origin.clone()).ok_or(PublishError::NotInitialized)
}

/// Creates the ledger's checkpoint key in `dir` (`keys/_ledger.pem`, mode 0600, and `keys/_ledger.pub`)
/// and returns its public key. Refuses to replace either file.
pub fn create_ledger_key(dir: &Path) -> Result<VerifyingKey, PublishError> {
    let private = dir.join(KEY_FILE);
    let public = dir.join(PUBLIC_KEY_FILE);
    for path in [&private, &public] {
        if fs::symlink_metadata(path).is_ok() {
            return Err(PublishError::KeyExists { path: path.clone() });
        }
    }
    let keys_dir = private.parent().unwrap_or(dir);
    create_private_dir(keys_dir)?;
    let key = keys::generate_signing_key();
    keys::write_private_key(&private, &key, WriteMode::CreateNew).map_err(|e| match e {
        KeyError::AlreadyExists { path } => PublishError::KeyExists { path },
        e => PublishError::Key(e),
    })?;
    let verifying = key.verifying_key();
    keys::write_public_key(&public, &verifying, WriteMode::CreateNew).map_err(|e| match e {
        KeyError::AlreadyExists { path } => PublishError::KeyExists { path },
        e => PublishError::Key(e),
    })?;
    Ok(verifying)
}

/// Creates a directory readable by its owner only (0700 on Unix), if it does not exist.
fn create_private_dir(path: &Path) -> Result<(), PublishError> {
    if path.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path).map_err(|e| PublishError::Io { path: path.to_path_buf(), source: e })
}

/// The ledger's checkpoint signer: the key in `keys/_ledger.pem` under the key name `origin`.
///
/// A missing key file is [`PublishError::NoKey`], which says how to get one. When `keys/_ledger.pub`
/// exists too, it must hold the same key.
pub fn ledger_signer(dir: &Path, origin: &str) -> Result<note::Signer, PublishError> {
    let path = dir.join(KEY_FILE);
    let key = keys::read_private_key(&path).map_err(|e| match e {
        KeyError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound => no_key(dir),
        e => PublishError::Key(e),
    })?;
    let public = dir.join(PUBLIC_KEY_FILE);
    if public.exists() {
        let stated = keys::read_public_key(&public).map_err(PublishError::Key)?;
        if stated != key.verifying_key() {
            return Err(PublishError::KeyMismatch { private: path, public });
        }
    }
    note::Signer::new(origin, key).map_err(|problem| PublishError::Origin { origin: origin.to_owned(), problem })
}

/// The ledger's checkpoint verifier: from `keys/_ledger.pub`, else from `keys/_ledger.pem`.
pub fn ledger_verifier(dir: &Path, origin: &str) -> Result<Verifier, PublishError> {
    let public = dir.join(PUBLIC_KEY_FILE);
    let key = match keys::read_public_key(&public) {
        Ok(key) => key,
        Err(KeyError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
            return Ok(ledger_signer(dir, origin)?.verifier());
        }
        Err(e) => return Err(PublishError::Key(e)),
    };
    Verifier::new(origin, key).map_err(|problem| PublishError::Origin { origin: origin.to_owned(), problem })
}

/// The ledger's verifier key string (`<origin>+<key id>+<base64(0x01‖public key)>`).
pub fn ledger_vkey(dir: &Path, origin: &str) -> Result<String, PublishError> {
    Ok(ledger_verifier(dir, origin)?.to_vkey())
}

fn no_key(dir: &Path) -> PublishError {
    let checkpoints = dir.join(CHECKPOINT_DIR);
    let published = kept_sizes(&checkpoints).map(|s| !s.is_empty()).unwrap_or(true);
    PublishError::NoKey { path: dir.join(KEY_FILE), checkpoints, published }
}

/// The path of the kept checkpoint of `size` records in ledger directory `dir`.
pub fn checkpoint_path(dir: &Path, size: u64) -> PathBuf {
    dir.join(CHECKPOINT_DIR).join(format!("{size:020}"))
}

/// The tree sizes of the checkpoints kept in a checkpoint directory (files named by 20 digits),
/// ascending; none when the directory does not exist.
fn kept_sizes(checkpoints: &Path) -> Result<Vec<u64>, PublishError> {
    let entries = match fs::read_dir(checkpoints) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(PublishError::Io { path: checkpoints.to_path_buf(), source: e }),
    };
    let mut sizes = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| PublishError::Io { path: checkpoints.to_path_buf(), source: e })?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.len() == 20
            && name.bytes().all(|b| b.is_ascii_digit())
            && let Ok(size) = name.parse::<u64>()
        {
            sizes.push(size);
        }
    }
    sizes.sort_unstable();
    Ok(sizes)
}

/// The newest checkpoint the ledger in `dir` kept (the largest tree size), if any.
pub fn latest_checkpoint(dir: &Path) -> Result<Option<PathBuf>, PublishError> {
    Ok(kept_sizes(&dir.join(CHECKPOINT_DIR))?.last().map(|&size| checkpoint_path(dir, size)))
}

/// Signs a checkpoint of the whole ledger with the ledger's key, keeps it in `dir`'s
/// `checkpoints/<size>` (written atomically) and returns it.
///
/// Creates the ledger's key when it has none and has published no checkpoint (a ledger made before
/// checkpoints). Refuses an empty or uninitialized ledger, one that needs an operator, and one that
/// no longer matches the newest checkpoint it kept.
pub fn checkpoint<S: Store>(ledger: &Ledger<S>, dir: &Path) -> Result<Published, PublishError> {
    let origin = origin(ledger)?;
    if let Some(why) = ledger.damage() {
        return Err(PublishError::NeedsOperator(format!("it is damaged: {why} (run `commitments verify`)")));
    }
    if let Some((first, last)) = ledger.unacknowledged() {
        return Err(PublishError::NeedsOperator(format!(
            "records {first} to {last} were written but never acknowledged; keep or remove them with \
             `commitments recover --accept` or `--discard` first"
        )));
    }
    let size = ledger.tree_size();
    if size == 0 {
        return Err(PublishError::EmptyLedger);
    }
    let records = ledger.head().map_or(0, |h| h.seq.0 + 1);
    if records != size {
        return Err(PublishError::NeedsOperator(format!(
            "its Merkle tree covers {size} records but the log has {records} (run `commitments verify`)"
        )));
    }
    let latest = latest_checkpoint(dir)?;
    let (signer, key_created) = match ledger_signer(dir, &origin) {
        Ok(signer) => (signer, false),
        Err(PublishError::NoKey { published: false, .. }) if latest.is_none() => {
            create_ledger_key(dir)?;
            (ledger_signer(dir, &origin)?, true)
        }
        Err(e) => return Err(e),
    };
    let verifier = signer.verifier();
    if let Some(path) = latest {
        check_kept(ledger, &path, &origin, &verifier, size)?;
    }
    let root = ledger.tree_root(size)?;
    let body = Checkpoint::new(&origin, size, root)
        .map_err(|e| PublishError::Checkpoint { problem: e.to_string(), fault: Fault::BadInput })?;
    let text = checkpoint::sign_checkpoint(&body, &signer)
        .map_err(|e| PublishError::Checkpoint { problem: e.to_string(), fault: Fault::BadInput })?;
    let path = checkpoint_path(dir, size);
    let parent = dir.join(CHECKPOINT_DIR);
    fs::create_dir_all(&parent).map_err(|e| PublishError::Io { path: parent, source: e })?;
    write_atomically(&path, text.as_bytes())?;
    Ok(Published { text, checkpoint: body, path, vkey: verifier.to_vkey(), key_created })
}

/// Checks the ledger against a checkpoint it kept: signed by its key, of its origin, covering no more
/// than its records, with the same root at that size.
fn check_kept<S: Store>(
    ledger: &Ledger<S>,
    path: &Path,
    origin: &str,
    verifier: &Verifier,
    records: u64,
) -> Result<(), PublishError> {
    let kept = |problem: String| PublishError::Kept { path: path.to_path_buf(), problem };
    let msg = read_checkpoint(path).map_err(|e| kept(format!("cannot be read: {e}")))?;
    let opened = open(&msg, origin, verifier, &[]).map_err(|e| kept(format!("does not verify: {e}")))?;
    let published = opened.checkpoint;
    if published.size > records {
        return Err(PublishError::Truncated { path: path.to_path_buf(), size: published.size, records });
    }
    let ledger_root = ledger.tree_root(published.size)?;
    if ledger_root != published.root {
        return Err(PublishError::Diverged {
            path: path.to_path_buf(),
            size: published.size,
            published_root: published.root,
            ledger_root,
        });
    }
    Ok(())
}

/// Reads a checkpoint file: it must exist, be a regular file of at most [`MAX_CHECKPOINT_FILE`] bytes,
/// and be UTF-8 text. The note itself is checked by [`open`].
pub fn read_checkpoint(path: &Path) -> Result<Vec<u8>, PublishError> {
    read_small_file(path, MAX_CHECKPOINT_FILE, "a checkpoint")
}

/// Reads a small text file given as input (`what` says what it should be, for messages): missing, not
/// a regular file, larger than `limit` or not UTF-8 is [`PublishError::File`].
pub fn read_small_file(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>, PublishError> {
    let problem = |problem: String| PublishError::File { path: path.to_path_buf(), problem };
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(problem("no such file".into())),
        Err(e) => return Err(PublishError::Io { path: path.to_path_buf(), source: e }),
    };
    let metadata = file.metadata().map_err(|e| PublishError::Io { path: path.to_path_buf(), source: e })?;
    if !metadata.is_file() {
        return Err(problem(format!("is not a regular file, so not {what}")));
    }
    let too_big = |size: u64| problem(format!("is {size} bytes, too big for {what} (the limit is {limit} bytes)"));
    if metadata.len() > limit {
        return Err(too_big(metadata.len()));
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| PublishError::Io { path: path.to_path_buf(), source: e })?;
    if bytes.len() as u64 > limit {
        return Err(too_big(bytes.len() as u64));
    }
    if let Err(e) = std::str::from_utf8(&bytes) {
        return Err(problem(format!(
            "is not UTF-8 text (the first bad byte is at offset {}), so not {what}",
            e.valid_up_to()
        )));
    }
    Ok(bytes)
}

/// Parses and verifies a signed checkpoint of the ledger named `origin`, signed by `log`, with the
/// known witnesses' cosignatures checked ([`checkpoint::open_checkpoint`]). Errors say what a clerk
/// needs: a checkpoint of another ledger names both origins, a bad signature names the key, a malformed
/// note names the line.
pub fn open(
    msg: &[u8],
    origin: &str,
    log: &Verifier,
    witnesses: &[CosignatureVerifier],
) -> Result<OpenedCheckpoint, PublishError> {
    checkpoint::open_checkpoint(msg, origin, log, witnesses).map_err(|e| describe(e, msg, log))
}

/// The signature lines of a note, as `name+keyid`, for messages.
fn signers(msg: &[u8]) -> String {
    match Note::parse(msg) {
        Ok(note) => {
            let names: Vec<String> =
                note.signatures().iter().map(|s| format!("{}+{:08x}", s.name(), s.key_id())).collect();
            names.join(", ")
        }
        Err(_) => "no readable signature".into(),
    }
}

fn describe(e: CheckpointError, msg: &[u8], log: &Verifier) -> PublishError {
    let bad = |problem: String| PublishError::Checkpoint { problem, fault: Fault::BadInput };
    let unsound = |problem: String| PublishError::Checkpoint { problem, fault: Fault::Unsound };
    match e {
        CheckpointError::Note(NoteError::InvalidSignature { name, key_id }) => unsound(format!(
            "the signature by {name}+{key_id:08x} does not verify: the checkpoint was changed after it was signed"
        )),
        CheckpointError::Note(e) => bad(format!("is not a signed checkpoint note: {e}")),
        CheckpointError::TooFewLines { found } => bad(format!(
            "is not a checkpoint: its text has {found} line(s); a checkpoint has an origin (line 1), a tree size \
             (line 2) and a root hash (line 3)"
        )),
        CheckpointError::EmptyOrigin => bad("is not a checkpoint: line 1 (the origin) is empty".into()),
        CheckpointError::InvalidTreeSize { reason } => {
            bad(format!("is not a checkpoint: line 2 (the tree size) is invalid: {reason}"))
        }
        CheckpointError::TreeSizeTooLarge => bad("is not a checkpoint: line 2 (the tree size) is 2^63 or more".into()),
        CheckpointError::InvalidRootHash { reason } => {
            bad(format!("is not a checkpoint: line 3 (the root hash) is invalid: {reason}"))
        }
        CheckpointError::InvalidExtension { line, reason } => {
            bad(format!("is not a checkpoint: line {line} (an extension line) is invalid: {reason}"))
        }
        CheckpointError::OriginMismatch { expected, found } => {
            bad(format!("is a checkpoint of another ledger: its origin is {found:?}, this ledger's is {expected:?}"))
        }
        CheckpointError::MissingLogSignature { name, key_id } => bad(format!(
            "is not signed by the ledger key {name}+{key_id:08x} (its signatures are by: {}); it comes from \
             another ledger or another key",
            signers(msg)
        )),
        CheckpointError::InvalidCosignature { name, key_id, reason } => {
            unsound(format!("the cosignature by witness {name}+{key_id:08x} is invalid: {reason}"))
        }
        e => bad(format!("is not a valid checkpoint for the ledger key {}: {e}", log.to_vkey())),
    }
}

/// Writes `contents` to `path` atomically: a temporary file in the same directory, written and
/// fsynced, renamed over `path`, then the directory fsynced. A crash leaves the old file or the new
/// one, never a mix.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), PublishError> {
    let io_error = |source: io::Error| PublishError::Io { path: path.to_path_buf(), source };
    let file_name = path
        .file_name()
        .ok_or_else(|| PublishError::File { path: path.to_path_buf(), problem: "has no file name".into() })?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!(".tmp-{}-{:016x}", std::process::id(), OsRng.next_u64()));
    let tmp = dir.join(tmp_name);
    let written = (|| -> io::Result<()> {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io_error(e));
    }
    // Make the new directory entry durable (where directories can be opened).
    if let Ok(d) = File::open(&dir) {
        d.sync_all().map_err(|e| PublishError::Io { path: dir.clone(), source: e })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_sizes_reads_only_twenty_digit_names_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let cps = dir.path().join(CHECKPOINT_DIR);
        fs::create_dir_all(&cps).unwrap();
        for name in ["00000000000000000010", "00000000000000000002", "latest", "0000000000000000001", ".tmp-x"] {
            fs::write(cps.join(name), b"x").unwrap();
        }
        assert_eq!(kept_sizes(&cps).unwrap(), vec![2, 10]);
        assert_eq!(latest_checkpoint(dir.path()).unwrap(), Some(checkpoint_path(dir.path(), 10)));
        assert_eq!(kept_sizes(&dir.path().join("none")).unwrap(), Vec::<u64>::new());
    }

    #[test]
    fn a_checkpoint_file_that_cannot_be_one_is_named_with_why() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        assert!(read_checkpoint(&missing).unwrap_err().to_string().ends_with("missing: no such file"));
        let big = dir.path().join("big");
        fs::write(&big, vec![b'a'; MAX_CHECKPOINT_FILE as usize + 1]).unwrap();
        assert!(read_checkpoint(&big).unwrap_err().to_string().contains("too big for a checkpoint"));
        let binary = dir.path().join("binary");
        fs::write(&binary, b"ab\xffcd").unwrap();
        let e = read_checkpoint(&binary).unwrap_err();
        assert!(e.to_string().contains("not UTF-8 text (the first bad byte is at offset 2)"), "{e}");
        assert_eq!(e.fault(), Fault::BadInput);
        assert!(read_checkpoint(dir.path()).unwrap_err().to_string().contains("not a regular file"));
    }

    #[test]
    fn the_key_is_created_once_and_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let e = ledger_verifier(dir.path(), "example.org/log").unwrap_err();
        assert!(matches!(e, PublishError::NoKey { published: false, .. }), "{e}");
        assert!(e.to_string().contains("run `commitments checkpoint` once"), "{e}");
        let key = create_ledger_key(dir.path()).unwrap();
        assert!(matches!(create_ledger_key(dir.path()), Err(PublishError::KeyExists { .. })));
        let verifier = ledger_verifier(dir.path(), "example.org/log").unwrap();
        assert_eq!(verifier.public_key(), &key);
        assert_eq!(ledger_signer(dir.path(), "example.org/log").unwrap().verifier(), verifier);
        assert!(ledger_vkey(dir.path(), "example.org/log").unwrap().starts_with("example.org/log+"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_missing_key_after_published_checkpoints_says_restore_it() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(CHECKPOINT_DIR)).unwrap();
        fs::write(checkpoint_path(dir.path(), 3), b"x").unwrap();
        let e = ledger_signer(dir.path(), "example.org/log").unwrap_err();
        assert!(matches!(e, PublishError::NoKey { published: true, .. }));
        assert!(e.to_string().contains("restore the key file from a backup"), "{e}");
    }

    #[test]
    fn mismatched_key_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        create_ledger_key(dir.path()).unwrap();
        let other = keys::generate_signing_key().verifying_key();
        keys::write_public_key(&dir.path().join(PUBLIC_KEY_FILE), &other, WriteMode::Overwrite).unwrap();
        let e = ledger_signer(dir.path(), "example.org/log").unwrap_err();
        assert!(matches!(e, PublishError::KeyMismatch { .. }), "{e}");
        assert_eq!(e.fault(), Fault::Unsound);
    }

    #[test]
    fn write_atomically_replaces_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        write_atomically(&path, b"one").unwrap();
        write_atomically(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
