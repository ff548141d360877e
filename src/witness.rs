//! A witness: a second party (the congress office, an auditor) that cosigns the ledger's checkpoints
//! only after checking that each is consistent with the last one it cosigned, in the C2SP
//! tlog-cosignature format (`cosignature/v1`, with its timestamp). See `schema/checkpoint.md`.
//!
//! # State directory
//!
//! - `log.vkey`: the log's verifier key (signed-note form), given once with `--log-key`;
//! - `checkpoint`: the last checkpoint the witness cosigned (the note with its cosignature);
//! - `lock`: held (an exclusive file lock) while a cosigning runs, so two runs cannot interleave.
//!
//! Both files are replaced atomically, and only after every check passed: a refused checkpoint
//! changes nothing.
//!
//! # Rules
//!
//! The new checkpoint must be signed by the log key. On first use (no `checkpoint` yet) it is trusted
//! as it is (trust on first use). Afterwards it must have the origin of the state's checkpoint and at
//! least its size; the same size needs the same root (else it is a fork); a larger size needs a
//! consistency proof from the state's checkpoint to the new one.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::checkpoint::{self, Checkpoint, CheckpointError, CosignatureSigner};
use crate::keys::SigningKey;
use crate::note::{Note, NoteError, Verifier};
use crate::proof::{self, Input, ProofError};
use crate::publish::{self, Fault, PublishError};

/// The log's verifier key, in the state directory.
pub const LOG_KEY_FILE: &str = "log.vkey";

/// The last cosigned checkpoint, in the state directory.
pub const CHECKPOINT_FILE: &str = "checkpoint";

/// The lock file, in the state directory.
pub const LOCK_FILE: &str = "lock";

/// Largest `log.vkey` file read, in bytes.
const MAX_VKEY_FILE: u64 = 4096;

/// Errors from cosigning.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessError {
    /// First use without the log's key.
    #[error(
        "{} holds no log key yet: on first use give the log's verifier key with --log-key (the output of \
         `commitments ledger-key`, or a file holding it)",
        dir.display()
    )]
    NeedLogKey {
        /// The state directory.
        dir: PathBuf,
    },
    /// The log key given is not a verifier key.
    #[error("the log key is not a signed-note verifier key (name+keyid+base64): {problem}")]
    LogKey {
        /// Why.
        problem: NoteError,
    },
    /// The log key given differs from the one the state trusts.
    #[error(
        "{} trusts the log key {trusted}, but --log-key gives {given}: a witness follows one log key; use \
         another state directory for another log",
        path.display()
    )]
    LogKeyChanged {
        /// The state's key file.
        path: PathBuf,
        /// The key it trusts.
        trusted: String,
        /// The key given.
        given: String,
    },
    /// The witness's name cannot name a cosigner key.
    #[error("the witness name {name:?} cannot name a key: {problem}; choose one with --name")]
    Name {
        /// The name.
        name: String,
        /// Why.
        problem: CheckpointError,
    },
    /// The new checkpoint does not open.
    #[error("{0}")]
    Checkpoint(PublishError),
    /// The state directory's files are damaged or not the witness's.
    #[error("{}: the witness state is damaged: {problem}", path.display())]
    StateDamaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The new checkpoint is older than the state's.
    #[error(
        "the checkpoint covers {new_size} records, fewer than the {state_size} of the checkpoint this witness \
         already cosigned: it is older than what the witness saw, and is refused"
    )]
    Older {
        /// The state's tree size.
        state_size: u64,
        /// The new tree size.
        new_size: u64,
    },
    /// Same size, another root: two histories.
    #[error(
        "fork: the checkpoint covers {size} records with root {}, but the checkpoint this witness cosigned at \
         that size has root {}: the log shows two different histories, and the witness refuses",
        BASE64.encode(new_root),
        BASE64.encode(state_root)
    )]
    Fork {
        /// The common size.
        size: u64,
        /// The root the witness cosigned.
        state_root: [u8; 32],
        /// The new checkpoint's root.
        new_root: [u8; 32],
    },
    /// A larger checkpoint without a consistency proof.
    #[error(
        "a consistency proof from the {state_size} records this witness cosigned to the {new_size} of the \
         checkpoint is needed: give it with --proof (made by `commitments prove --consistency OLD NEW`)"
    )]
    NeedProof {
        /// The state's tree size.
        state_size: u64,
        /// The new tree size.
        new_size: u64,
    },
    /// The consistency proof does not hold or does not fit.
    #[error("{0}")]
    Proof(ProofError),
    /// Adding the cosignature failed.
    #[error("cannot cosign the checkpoint: {0}")]
    Cosign(CheckpointError),
    /// Another cosigning holds the state's lock.
    #[error("{}: another cosigning is running on this state directory; try again when it has finished", path.display())]
    Busy {
        /// The lock file.
        path: PathBuf,
    },
    /// Reading or writing the state failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What failed.
        source: io::Error,
    },
    /// Writing the state failed.
    #[error(transparent)]
    Write(PublishError),
}

impl WitnessError {
    /// What kind of failure this is.
    pub fn fault(&self) -> Fault {
        match self {
            WitnessError::NeedLogKey { .. }
            | WitnessError::LogKey { .. }
            | WitnessError::LogKeyChanged { .. }
            | WitnessError::Name { .. }
            | WitnessError::Older { .. }
            | WitnessError::NeedProof { .. }
            | WitnessError::Cosign(_) => Fault::BadInput,
            WitnessError::StateDamaged { .. } | WitnessError::Fork { .. } => Fault::Unsound,
            WitnessError::Checkpoint(e) | WitnessError::Write(e) => e.fault(),
            WitnessError::Proof(e) => e.fault(),
            WitnessError::Busy { .. } | WitnessError::Io { .. } => Fault::Io,
        }
    }

    /// The input this error is about, if it is about one: the new checkpoint, the proof or the log key.
    pub fn input(&self) -> Option<Input> {
        match self {
            WitnessError::Checkpoint(_) | WitnessError::Older { .. } | WitnessError::Fork { .. } => {
                Some(Input::Checkpoint)
            }
            WitnessError::Proof(e) => e.input(),
            WitnessError::LogKey { .. } => Some(Input::Key),
            _ => None,
        }
    }
}

/// A checkpoint the witness cosigned.
#[derive(Debug, Clone)]
pub struct Cosigned {
    /// The checkpoint note with the witness's cosignature line added (other lines kept).
    pub note: String,
    /// Its body.
    pub checkpoint: Checkpoint,
    /// The checkpoint the witness had cosigned before; `None` on first use (trust on first use).
    pub previous: Option<Checkpoint>,
    /// The cosignature's time (POSIX seconds).
    pub timestamp: u64,
    /// The witness's cosigner verifier key (`name+keyid+base64(0x04‖key)`), for witness policies.
    pub cosigner_vkey: String,
    /// The log key the witness trusts.
    pub log_vkey: String,
}

impl Cosigned {
    /// Whether this was the witness's first checkpoint (accepted on trust).
    pub fn first_use(&self) -> bool {
        self.previous.is_none()
    }
}

/// Cosigns `new_checkpoint_msg` as the witness named `witness_name` whose state is in `state_dir`, at
/// time `now_unix_secs`, after the checks of the module documentation. `log_vkey` is required on first
/// use and must match the state's afterwards; `consistency_proof_json` is the `prove --consistency`
/// document from the state's checkpoint to the new one. The state is written only after every check.
pub fn cosign(
    state_dir: &Path,
    new_checkpoint_msg: &[u8],
    consistency_proof_json: Option<&[u8]>,
    log_vkey: Option<&str>,
    witness_key: &SigningKey,
    witness_name: &str,
    now_unix_secs: u64,
) -> Result<Cosigned, WitnessError> {
    let cosigner = CosignatureSigner::new(witness_name, witness_key.clone())
        .map_err(|problem| WitnessError::Name { name: witness_name.to_owned(), problem })?;
    let key_path = state_dir.join(LOG_KEY_FILE);
    let trusted_vkey = read_state_file(&key_path, MAX_VKEY_FILE)?;
    let given = log_vkey
        .map(|v| Verifier::from_vkey(v.trim()).map_err(|problem| WitnessError::LogKey { problem }))
        .transpose()?;
    let trusted = trusted_vkey
        .map(|text| {
            let text = String::from_utf8_lossy(&text).trim().to_owned();
            Verifier::from_vkey(&text).map_err(|e| WitnessError::StateDamaged {
                path: key_path.clone(),
                problem: format!("it is not a verifier key: {e}"),
            })
        })
        .transpose()?;
    let (verifier, new_key) = match (trusted, given) {
        (Some(trusted), Some(given)) if trusted != given => {
            return Err(WitnessError::LogKeyChanged {
                path: key_path,
                trusted: trusted.to_vkey(),
                given: given.to_vkey(),
            });
        }
        (Some(trusted), _) => (trusted, false),
        (None, Some(given)) => (given, true),
        (None, None) => return Err(WitnessError::NeedLogKey { dir: state_dir.to_path_buf() }),
    };

    fs::create_dir_all(state_dir).map_err(|e| WitnessError::Io { path: state_dir.to_path_buf(), source: e })?;
    let _lock = lock(state_dir)?;

    let state_path = state_dir.join(CHECKPOINT_FILE);
    let previous = match read_state_file(&state_path, publish::MAX_CHECKPOINT_FILE)? {
        None => None,
        Some(msg) => {
            let origin = Note::parse(&msg)
                .ok()
                .and_then(|n| Checkpoint::parse(n.text()).ok())
                .map(|c| c.origin)
                .unwrap_or_default();
            let opened = publish::open(&msg, &origin, &verifier, &[]).map_err(|e| WitnessError::StateDamaged {
                path: state_path.clone(),
                problem: format!("the checkpoint it keeps does not verify with the log key: {e}"),
            })?;
            Some(opened.checkpoint)
        }
    };

    // The origin to expect: the state's, or on first use the one the new checkpoint names.
    let origin = match &previous {
        Some(p) => p.origin.clone(),
        None => Note::parse(new_checkpoint_msg)
            .ok()
            .and_then(|n| Checkpoint::parse(n.text()).ok())
            .map(|c| c.origin)
            .unwrap_or_default(),
    };
    let new = publish::open(new_checkpoint_msg, &origin, &verifier, &[]).map_err(WitnessError::Checkpoint)?.checkpoint;

    if let Some(old) = &previous {
        if new.size < old.size {
            return Err(WitnessError::Older { state_size: old.size, new_size: new.size });
        }
        if new.size == old.size {
            if new.root != old.root {
                return Err(WitnessError::Fork { size: new.size, state_root: old.root, new_root: new.root });
            }
        } else {
            let proof =
                consistency_proof_json.ok_or(WitnessError::NeedProof { state_size: old.size, new_size: new.size })?;
            proof::check_consistency_between(proof, old, &new).map_err(WitnessError::Proof)?;
        }
    }

    let note =
        checkpoint::add_cosignature(new_checkpoint_msg, &cosigner, now_unix_secs).map_err(WitnessError::Cosign)?;
    if new_key {
        publish::write_atomically(&key_path, format!("{}\n", verifier.to_vkey()).as_bytes())
            .map_err(WitnessError::Write)?;
    }
    publish::write_atomically(&state_path, note.as_bytes()).map_err(WitnessError::Write)?;
    Ok(Cosigned {
        note,
        checkpoint: new,
        previous,
        timestamp: now_unix_secs,
        cosigner_vkey: cosigner.verifier().to_vkey(),
        log_vkey: verifier.to_vkey(),
    })
}

/// Reads a state file, `None` when it does not exist.
fn read_state_file(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, WitnessError> {
    if !path.exists() {
        return Ok(None);
    }
    match publish::read_small_file(path, limit, "a witness state file") {
        Ok(bytes) => Ok(Some(bytes)),
        Err(PublishError::Io { path, source }) => Err(WitnessError::Io { path, source }),
        Err(e) => Err(WitnessError::StateDamaged { path: path.to_path_buf(), problem: e.to_string() }),
    }
}

/// Takes the state directory's lock (released when the file is dropped).
fn lock(state_dir: &Path) -> Result<File, WitnessError> {
    let path = state_dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| WitnessError::Io { path: path.clone(), source: e })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(WitnessError::Busy { path }),
        Err(fs::TryLockError::Error(e)) => Err(WitnessError::Io { path, source: e }),
    }
}
