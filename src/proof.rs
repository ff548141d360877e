//! Proofs for people without the ledger: RFC 6962 inclusion and consistency proofs as JSON documents
//! (`schema/proof.md`), made against the ledger's signed checkpoints ([`prove_inclusion`],
//! [`prove_consistency`]) and checked with nothing but the proof, a trusted checkpoint and the
//! ledger's verifier key ([`check_proof`]).
//!
//! A check never believes the proof about the tree: the tree size and root always come from a
//! checkpoint signed by the key; the proof's own `tree_size`, `old_root` and the like must merely agree
//! with them. An inclusion proof carries the record's stored bytes: the leaf is recomputed from them
//! (BLAKE3 record hash, then the RFC 6962 leaf hash), and the record shown beside them must be exactly
//! what they decode to.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::checkpoint::Checkpoint;
use crate::export::RecordJson;
use crate::ids::Seq;
use crate::ledger::{Ledger, LedgerError};
use crate::merkle::{self, MerkleError};
use crate::note::{Note, Verifier};
use crate::publish::{self, Fault, PublishError};
use crate::record::{Hash, Record, hash_record_bytes};
use crate::store::Store;
use crate::tree::leaf as tree_leaf;

/// Largest proof document read, in bytes: a record of the largest size, its base64 and its JSON fit.
pub const MAX_PROOF_SIZE: usize = 4 * 1024 * 1024;

/// The `type` of an inclusion proof document.
pub const INCLUSION: &str = "inclusion";

/// The `type` of a consistency proof document.
pub const CONSISTENCY: &str = "consistency";

/// Which input an error is about, so that a caller can name the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// The proof document.
    Proof,
    /// The checkpoint (the trusted one, or the one a proof is made against).
    Checkpoint,
    /// The older of two checkpoints.
    OldCheckpoint,
    /// The newer of two checkpoints.
    NewCheckpoint,
    /// The verifier key.
    Key,
}

/// Errors from making and checking proofs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// An input is not what it should be: not JSON, an unknown or missing field, bad base64, a size
    /// of 2^63 or more, a key that is not a verifier key.
    #[error("{problem}")]
    Malformed {
        /// Which input.
        input: Input,
        /// What is wrong.
        problem: String,
    },
    /// A checkpoint does not open (see [`publish::open`]).
    #[error("{source}")]
    Checkpoint {
        /// Which checkpoint.
        input: Input,
        /// Why.
        source: PublishError,
    },
    /// The inputs do not belong together (another ledger, another checkpoint, the wrong kind of proof).
    #[error("{problem}")]
    Mismatch {
        /// The input at fault.
        input: Input,
        /// What does not match.
        problem: String,
    },
    /// The proof does not hold: it contradicts the signed checkpoint, its record or its hashes.
    #[error("the proof does not hold: {problem}")]
    Fails {
        /// What fails.
        problem: String,
    },
    /// The ledger does not match a checkpoint signed by its own key: the ledger is unsound.
    #[error(
        "the ledger does not match that checkpoint: its first {size} records have root {} now, the checkpoint \
         says {} (records it covered were changed); run `commitments verify --checkpoint` with it",
        BASE64.encode(ledger_root),
        BASE64.encode(checkpoint_root)
    )]
    LedgerDiffers {
        /// The checkpoint's tree size.
        size: u64,
        /// The checkpoint's root.
        checkpoint_root: merkle::Hash,
        /// The ledger's root at that size.
        ledger_root: merkle::Hash,
    },
    /// The ledger has fewer records than a checkpoint signed by its own key covers.
    #[error(
        "the checkpoint covers {size} records but the ledger has only {records}: records it covered are gone \
         (the ledger was cut back or restored from an older copy)"
    )]
    LedgerShorter {
        /// The checkpoint's tree size.
        size: u64,
        /// The ledger's records.
        records: u64,
    },
    /// The record asked for is not covered by the checkpoint.
    #[error(
        "record {seq} is not covered by the checkpoint, which covers records 0 to {} ({size} records); \
         make a newer checkpoint with `commitments checkpoint`",
        size.saturating_sub(1)
    )]
    NotCovered {
        /// The record.
        seq: u64,
        /// The checkpoint's tree size.
        size: u64,
    },
    /// Reading the ledger or its key failed.
    #[error(transparent)]
    Publish(PublishError),
    /// Reading the ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

impl ProofError {
    /// What kind of failure this is ([`ProofError::Ledger`] is `Io` here; callers with their own
    /// mapping of [`LedgerError`] use it instead).
    pub fn fault(&self) -> Fault {
        match self {
            ProofError::Malformed { .. } | ProofError::Mismatch { .. } | ProofError::NotCovered { .. } => {
                Fault::BadInput
            }
            ProofError::Fails { .. } | ProofError::LedgerDiffers { .. } | ProofError::LedgerShorter { .. } => {
                Fault::Unsound
            }
            ProofError::Checkpoint { source, .. } | ProofError::Publish(source) => source.fault(),
            ProofError::Ledger(_) => Fault::Io,
        }
    }

    /// The input this error is about, if it is about one.
    pub fn input(&self) -> Option<Input> {
        match self {
            ProofError::Malformed { input, .. }
            | ProofError::Checkpoint { input, .. }
            | ProofError::Mismatch { input, .. } => Some(*input),
            ProofError::Fails { .. } => Some(Input::Proof),
            _ => None,
        }
    }
}

impl From<PublishError> for ProofError {
    fn from(e: PublishError) -> Self {
        match e {
            PublishError::Ledger(e) => ProofError::Ledger(e),
            e => ProofError::Publish(e),
        }
    }
}

fn malformed(input: Input, problem: impl Into<String>) -> ProofError {
    ProofError::Malformed { input, problem: problem.into() }
}

fn fails(problem: impl Into<String>) -> ProofError {
    ProofError::Fails { problem: problem.into() }
}

/// An RFC 6962 inclusion proof of one record against a signed checkpoint, with the record itself.
#[derive(Debug, Clone)]
pub struct InclusionProof {
    /// The ledger's origin.
    pub origin: String,
    /// The record's seq (its leaf index).
    pub leaf_index: u64,
    /// The checkpoint's tree size.
    pub tree_size: u64,
    /// The record's leaf hash: SHA-256(0x00 ‖ BLAKE3 record hash).
    pub leaf_hash: merkle::Hash,
    /// The audit path, lowest sibling first.
    pub hashes: Vec<merkle::Hash>,
    /// The record, decoded.
    pub record: Record,
    /// Its BLAKE3 record hash.
    pub record_hash: Hash,
    /// The ledger's UTC offset in minutes, in which the record's time is shown.
    pub utc_offset: i32,
    /// The record's stored bytes.
    pub record_bytes: Vec<u8>,
    /// The signed checkpoint note the proof is against.
    pub checkpoint: String,
}

#[derive(Serialize)]
struct InclusionOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    origin: &'a str,
    leaf_index: u64,
    tree_size: u64,
    leaf_hash: String,
    hashes: Vec<String>,
    record: RecordJson<'a>,
    record_bytes: String,
    checkpoint: &'a str,
}

impl InclusionProof {
    /// The proof document (`schema/proof.md`), pretty-printed.
    pub fn to_json(&self) -> String {
        let out = InclusionOut {
            kind: INCLUSION,
            origin: &self.origin,
            leaf_index: self.leaf_index,
            tree_size: self.tree_size,
            leaf_hash: BASE64.encode(self.leaf_hash),
            hashes: self.hashes.iter().map(|h| BASE64.encode(h)).collect(),
            record: RecordJson::new(&self.record, self.record_hash, self.utc_offset, None),
            record_bytes: BASE64.encode(&self.record_bytes),
            checkpoint: &self.checkpoint,
        };
        serde_json::to_string_pretty(&out).expect("a proof always serializes")
    }
}

/// An RFC 6962 consistency proof between two signed checkpoints of one ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// The ledger's origin.
    pub origin: String,
    /// The older checkpoint's tree size.
    pub old_size: u64,
    /// The newer checkpoint's tree size.
    pub new_size: u64,
    /// The older checkpoint's root.
    pub old_root: merkle::Hash,
    /// The newer checkpoint's root.
    pub new_root: merkle::Hash,
    /// The proof's hashes (RFC 9162 §2.1.4).
    pub hashes: Vec<merkle::Hash>,
    /// The older signed checkpoint note.
    pub old_checkpoint: String,
    /// The newer signed checkpoint note.
    pub new_checkpoint: String,
}

#[derive(Serialize)]
struct ConsistencyOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    origin: &'a str,
    old_size: u64,
    new_size: u64,
    old_root: String,
    new_root: String,
    hashes: Vec<String>,
    old_checkpoint: &'a str,
    new_checkpoint: &'a str,
}

impl ConsistencyProof {
    /// The proof document (`schema/proof.md`), pretty-printed.
    pub fn to_json(&self) -> String {
        let out = ConsistencyOut {
            kind: CONSISTENCY,
            origin: &self.origin,
            old_size: self.old_size,
            new_size: self.new_size,
            old_root: BASE64.encode(self.old_root),
            new_root: BASE64.encode(self.new_root),
            hashes: self.hashes.iter().map(|h| BASE64.encode(h)).collect(),
            old_checkpoint: &self.old_checkpoint,
            new_checkpoint: &self.new_checkpoint,
        };
        serde_json::to_string_pretty(&out).expect("a proof always serializes")
    }
}

/// Opens a checkpoint of `ledger` signed by `verifier` and checks that the ledger still matches it.
fn ledger_checkpoint<S: Store>(
    ledger: &Ledger<S>,
    origin: &str,
    msg: &[u8],
    verifier: &Verifier,
    input: Input,
) -> Result<Checkpoint, ProofError> {
    let opened =
        publish::open(msg, origin, verifier, &[]).map_err(|source| ProofError::Checkpoint { input, source })?;
    let checkpoint = opened.checkpoint;
    let records = ledger.tree_size();
    if checkpoint.size > records {
        return Err(ProofError::LedgerShorter { size: checkpoint.size, records });
    }
    let ledger_root = ledger.tree_root(checkpoint.size)?;
    if ledger_root != checkpoint.root {
        return Err(ProofError::LedgerDiffers { size: checkpoint.size, checkpoint_root: checkpoint.root, ledger_root });
    }
    Ok(checkpoint)
}

fn note_text(msg: &[u8]) -> String {
    String::from_utf8_lossy(msg).into_owned()
}

/// The inclusion proof of record `seq` against a checkpoint of this ledger (`checkpoint_msg`, signed by
/// `verifier`). The checkpoint must verify and be of this ledger's origin, and the ledger must still
/// match it ([`ProofError::LedgerDiffers`], [`ProofError::LedgerShorter`]); `seq` must be below its size.
pub fn prove_inclusion<S: Store>(
    ledger: &Ledger<S>,
    seq: Seq,
    checkpoint_msg: &[u8],
    verifier: &Verifier,
) -> Result<InclusionProof, ProofError> {
    let origin = publish::origin(ledger)?;
    let checkpoint = ledger_checkpoint(ledger, &origin, checkpoint_msg, verifier, Input::Checkpoint)?;
    if seq.0 >= checkpoint.size {
        return Err(ProofError::NotCovered { seq: seq.0, size: checkpoint.size });
    }
    let bytes = ledger
        .store()
        .get(seq)
        .map_err(LedgerError::from)?
        .ok_or_else(|| LedgerError::Corrupt { seq: seq.0, why: "the record is missing from the log".into() })?;
    let record = Record::decode(&bytes).map_err(|e| LedgerError::Corrupt { seq: seq.0, why: e.to_string() })?;
    let record_hash = hash_record_bytes(&bytes);
    let leaf_hash = tree_leaf(&record_hash);
    let hashes = ledger.inclusion_proof(seq, checkpoint.size)?;
    // The stored tree matched the checkpoint's root; the record's bytes must be the leaf it holds.
    if merkle::check_inclusion(&hashes, checkpoint.size, &checkpoint.root, seq.0, &leaf_hash).is_err() {
        return Err(LedgerError::Corrupt {
            seq: seq.0,
            why: "its stored bytes are not the record the checkpoint covers (they were changed after it was signed)"
                .into(),
        }
        .into());
    }
    Ok(InclusionProof {
        origin,
        leaf_index: seq.0,
        tree_size: checkpoint.size,
        leaf_hash,
        hashes,
        record,
        record_hash,
        utc_offset: ledger.registry().utc_offset(),
        record_bytes: bytes,
        checkpoint: note_text(checkpoint_msg),
    })
}

/// The consistency proof from an older checkpoint of this ledger to a newer one (both signed by
/// `verifier`, both matched by the ledger). The older one must not be larger than the newer one.
pub fn prove_consistency<S: Store>(
    ledger: &Ledger<S>,
    old_msg: &[u8],
    new_msg: &[u8],
    verifier: &Verifier,
) -> Result<ConsistencyProof, ProofError> {
    let origin = publish::origin(ledger)?;
    let old = ledger_checkpoint(ledger, &origin, old_msg, verifier, Input::OldCheckpoint)?;
    let new = ledger_checkpoint(ledger, &origin, new_msg, verifier, Input::NewCheckpoint)?;
    if old.size > new.size {
        return Err(ProofError::Mismatch {
            input: Input::OldCheckpoint,
            problem: format!(
                "the old checkpoint covers {} records, more than the new one ({}): give the older checkpoint first",
                old.size, new.size
            ),
        });
    }
    let hashes = ledger.consistency_proof(old.size, new.size)?;
    merkle::check_consistency(&hashes, old.size, &old.root, new.size, &new.root)
        .map_err(|e| LedgerError::Tree(format!("the stored Merkle tree gives a proof that fails: {e}")))?;
    Ok(ConsistencyProof {
        origin,
        old_size: old.size,
        new_size: new.size,
        old_root: old.root,
        new_root: new.root,
        hashes,
        old_checkpoint: note_text(old_msg),
        new_checkpoint: note_text(new_msg),
    })
}

/// What a checked proof proved.
#[derive(Debug, Clone)]
pub enum Checked {
    /// A record is in the tree of the trusted checkpoint.
    Inclusion(Box<CheckedInclusion>),
    /// One checkpoint's tree is a prefix of the other's.
    Consistency(CheckedConsistency),
}

/// A record proved to be in the tree of the trusted checkpoint.
#[derive(Debug, Clone)]
pub struct CheckedInclusion {
    /// The trusted checkpoint.
    pub checkpoint: Checkpoint,
    /// The record, decoded from the proved bytes.
    pub record: Record,
    /// Its BLAKE3 record hash.
    pub record_hash: Hash,
    /// The record as the proof shows it (equal to what the bytes say).
    pub record_json: Value,
}

/// Two checkpoints proved consistent: the older tree is a prefix of the newer.
#[derive(Debug, Clone)]
pub struct CheckedConsistency {
    /// The older checkpoint.
    pub old: Checkpoint,
    /// The newer checkpoint.
    pub new: Checkpoint,
    /// Whether the trusted checkpoint is the newer one (else the older).
    pub trusted_is_new: bool,
}

/// Checks a proof document with no ledger: only the proof, a trusted checkpoint and the ledger's
/// verifier key (`schema/proof.md` spells the procedure out).
///
/// The trusted checkpoint must be signed by `vkey`. An inclusion proof must be made against it (the
/// same checkpoint text); its leaf hash is recomputed from its record bytes, the record it shows must
/// be what the bytes decode to, and the audit path must lead from the leaf to the checkpoint's root at
/// the checkpoint's size. A consistency proof must have the trusted checkpoint as one of its two, both
/// signed by `vkey`, and its hashes must prove the older tree a prefix of the newer.
pub fn check_proof(proof_json: &[u8], trusted_checkpoint_msg: &[u8], vkey: &str) -> Result<Checked, ProofError> {
    let verifier = Verifier::from_vkey(vkey.trim())
        .map_err(|e| malformed(Input::Key, format!("is not a signed-note verifier key (name+keyid+base64): {e}")))?;
    let document = parse(proof_json)?;
    let trusted = open_any(trusted_checkpoint_msg, &verifier, Input::Checkpoint)?;
    match document {
        Document::Inclusion(p) => check_inclusion_document(p, &trusted, trusted_checkpoint_msg, &verifier),
        Document::Consistency(p) => check_consistency_document(p, &trusted, trusted_checkpoint_msg, &verifier),
    }
}

/// Opens a checkpoint signed by `verifier`, of whatever origin its first line names.
fn open_any(msg: &[u8], verifier: &Verifier, input: Input) -> Result<Checkpoint, ProofError> {
    let checkpoint_error = |source| ProofError::Checkpoint { input, source };
    // The origin to expect is the checkpoint's own; a malformed note is reported by `open`.
    let origin =
        Note::parse(msg).ok().and_then(|n| Checkpoint::parse(n.text()).ok()).map(|c| c.origin).unwrap_or_default();
    Ok(publish::open(msg, &origin, verifier, &[]).map_err(checkpoint_error)?.checkpoint)
}

fn same_text(a: &[u8], b: &[u8]) -> bool {
    match (Note::parse(a), Note::parse(b)) {
        (Ok(a), Ok(b)) => a.text() == b.text(),
        _ => false,
    }
}

fn describe_checkpoint(c: &Checkpoint) -> String {
    format!("{} records, root {}", c.size, BASE64.encode(c.root))
}

/// A proof is about the ledger of the checkpoint it is checked against.
fn same_ledger(origin: &str, trusted: &Checkpoint) -> Result<(), ProofError> {
    if origin == trusted.origin {
        return Ok(());
    }
    Err(ProofError::Mismatch {
        input: Input::Proof,
        problem: format!("is a proof about ledger {origin:?}, but the checkpoint is of ledger {:?}", trusted.origin),
    })
}

fn check_inclusion_document(
    p: InclusionIn,
    trusted: &Checkpoint,
    trusted_msg: &[u8],
    verifier: &Verifier,
) -> Result<Checked, ProofError> {
    same_ledger(&p.origin, trusted)?;
    // The checkpoint it carries must be signed by the key too, and be the trusted one.
    match open_any(p.checkpoint.as_bytes(), verifier, Input::Proof) {
        Err(e) => return Err(fails(format!("its checkpoint does not verify with the key (it was altered): {e}"))),
        Ok(other) if !same_text(p.checkpoint.as_bytes(), trusted_msg) => {
            return Err(ProofError::Mismatch {
                input: Input::Proof,
                problem: format!(
                    "is made against another checkpoint ({}) than the trusted one ({}): ask for a proof against \
                     your checkpoint",
                    describe_checkpoint(&other),
                    describe_checkpoint(trusted)
                ),
            });
        }
        Ok(_) => {}
    }
    if p.tree_size != trusted.size {
        return Err(fails(format!(
            "its tree_size is {} but the signed checkpoint covers {} records",
            p.tree_size, trusted.size
        )));
    }
    let record_hash = hash_record_bytes(&p.record_bytes);
    let leaf_hash = tree_leaf(&record_hash);
    if leaf_hash != p.leaf_hash {
        return Err(fails(format!(
            "its leaf_hash {} is not the leaf hash of its record_bytes ({})",
            BASE64.encode(p.leaf_hash),
            BASE64.encode(leaf_hash)
        )));
    }
    let record = Record::decode(&p.record_bytes)
        .map_err(|e| fails(format!("its record_bytes are not a record this build can read: {e}")))?;
    if record.seq.0 != p.leaf_index {
        return Err(fails(format!(
            "its record_bytes are record {}, but its leaf_index is {}",
            record.seq.0, p.leaf_index
        )));
    }
    check_shown_record(&p.record, &record, record_hash)?;
    merkle::check_inclusion(&p.hashes, trusted.size, &trusted.root, p.leaf_index, &leaf_hash)
        .map_err(|e| fails(merkle_problem(&e)))?;
    Ok(Checked::Inclusion(Box::new(CheckedInclusion {
        checkpoint: trusted.clone(),
        record,
        record_hash,
        record_json: p.record,
    })))
}

fn merkle_problem(e: &MerkleError) -> String {
    match e {
        MerkleError::InclusionRootMismatch { .. } => {
            format!("its hashes do not lead from the record to the checkpoint's root: {e}")
        }
        MerkleError::WrongProofLength { .. } => format!("its hashes are not a proof for this tree: {e}"),
        _ => e.to_string(),
    }
}

/// The record shown in a proof must be exactly what the bytes say, in the UTC offset its `time` names.
fn check_shown_record(shown: &Value, record: &Record, hash: Hash) -> Result<(), ProofError> {
    let time = shown.get("time").and_then(Value::as_str).unwrap_or("");
    let offset = time
        .len()
        .checked_sub(6)
        .and_then(|i| time.get(i..))
        .and_then(crate::date::parse_utc_offset)
        .ok_or_else(|| fails(format!("its record's time {time:?} does not end in a UTC offset like +08:00")))?;
    let canonical = serde_json::to_value(RecordJson::new(record, hash, offset, None)).expect("records serialize");
    if &canonical == shown {
        return Ok(());
    }
    let field = match (canonical.as_object(), shown.as_object()) {
        (Some(want), Some(got)) => want
            .iter()
            .find(|(k, v)| got.get(*k) != Some(*v))
            .map(|(k, _)| k.clone())
            .or_else(|| got.keys().find(|k| !want.contains_key(*k)).cloned())
            .unwrap_or_default(),
        _ => String::new(),
    };
    Err(fails(format!(
        "the record it shows is not what its record_bytes say (field `{field}` differs): the shown record was altered"
    )))
}

fn check_consistency_document(
    p: ConsistencyIn,
    trusted: &Checkpoint,
    trusted_msg: &[u8],
    verifier: &Verifier,
) -> Result<Checked, ProofError> {
    same_ledger(&p.origin, trusted)?;
    let embedded = |msg: &str, which: &str| {
        publish::open(msg.as_bytes(), &trusted.origin, verifier, &[]).map_err(|e| match e.fault() {
            Fault::Unsound => fails(format!("its {which}: {e}")),
            _ => malformed(Input::Proof, format!("its {which} {e}")),
        })
    };
    let old = embedded(&p.old_checkpoint, "old_checkpoint")?.checkpoint;
    let new = embedded(&p.new_checkpoint, "new_checkpoint")?.checkpoint;
    let trusted_is_new = same_text(p.new_checkpoint.as_bytes(), trusted_msg);
    if !trusted_is_new && !same_text(p.old_checkpoint.as_bytes(), trusted_msg) {
        return Err(ProofError::Mismatch {
            input: Input::Proof,
            problem: format!(
                "is between checkpoints of {} and {} records, and neither is the trusted checkpoint ({})",
                old.size,
                new.size,
                describe_checkpoint(trusted)
            ),
        });
    }
    check_fields(&p, &old, &new)?;
    merkle::check_consistency(&p.hashes, old.size, &old.root, new.size, &new.root)
        .map_err(|e| fails(format!("its hashes do not prove the old tree a prefix of the new one: {e}")))?;
    Ok(Checked::Consistency(CheckedConsistency { old, new, trusted_is_new }))
}

/// The proof's own sizes and roots must be those of the signed checkpoints.
fn check_fields(p: &ConsistencyIn, old: &Checkpoint, new: &Checkpoint) -> Result<(), ProofError> {
    let sizes = [("old_size", p.old_size, old.size), ("new_size", p.new_size, new.size)];
    for (field, got, want) in sizes {
        if got != want {
            return Err(fails(format!("its {field} is {got} but the signed checkpoint says {want}")));
        }
    }
    let roots = [("old_root", &p.old_root, &old.root), ("new_root", &p.new_root, &new.root)];
    for (field, got, want) in roots {
        if got != want {
            return Err(fails(format!(
                "its {field} is {} but the signed checkpoint says {}",
                BASE64.encode(got),
                BASE64.encode(want)
            )));
        }
    }
    Ok(())
}

/// Checks a consistency proof document (from `prove --consistency`) between two checkpoints the caller
/// has already verified (a witness: its last cosigned checkpoint and the new one). The proof's sizes,
/// roots and checkpoints must be those two, and its hashes must prove `old` a prefix of `new`.
pub fn check_consistency_between(proof_json: &[u8], old: &Checkpoint, new: &Checkpoint) -> Result<(), ProofError> {
    let p = match parse(proof_json)? {
        Document::Consistency(p) => p,
        Document::Inclusion(_) => {
            return Err(ProofError::Mismatch {
                input: Input::Proof,
                problem: "is an inclusion proof; a consistency proof is needed (`commitments prove --consistency OLD \
                          NEW`)"
                    .into(),
            });
        }
    };
    if p.origin != old.origin {
        return Err(ProofError::Mismatch {
            input: Input::Proof,
            problem: format!("is a proof about ledger {:?}, not {:?}", p.origin, old.origin),
        });
    }
    if (p.old_size, p.new_size) != (old.size, new.size) {
        return Err(ProofError::Mismatch {
            input: Input::Proof,
            problem: format!(
                "proves consistency from {} to {} records, but the checkpoints are of {} and {} records: make the \
                 proof between these two",
                p.old_size, p.new_size, old.size, new.size
            ),
        });
    }
    for (which, text, want) in [("old_checkpoint", &p.old_checkpoint, old), ("new_checkpoint", &p.new_checkpoint, new)]
    {
        let body = Note::parse(text.as_bytes())
            .ok()
            .and_then(|n| Checkpoint::parse(n.text()).ok())
            .ok_or_else(|| malformed(Input::Proof, format!("its {which} is not a checkpoint note")))?;
        if body != *want {
            return Err(fails(format!(
                "its {which} ({}) is not the checkpoint it is checked against ({})",
                describe_checkpoint(&body),
                describe_checkpoint(want)
            )));
        }
    }
    check_fields(&p, old, new)?;
    merkle::check_consistency(&p.hashes, old.size, &old.root, new.size, &new.root)
        .map_err(|e| fails(format!("its hashes do not prove the old tree a prefix of the new one: {e}")))
}

// ---------------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------------

/// A proof document, parsed and decoded.
enum Document {
    Inclusion(InclusionIn),
    Consistency(ConsistencyIn),
}

struct InclusionIn {
    origin: String,
    leaf_index: u64,
    tree_size: u64,
    leaf_hash: merkle::Hash,
    hashes: Vec<merkle::Hash>,
    record: Value,
    record_bytes: Vec<u8>,
    checkpoint: String,
}

struct ConsistencyIn {
    origin: String,
    old_size: u64,
    new_size: u64,
    old_root: merkle::Hash,
    new_root: merkle::Hash,
    hashes: Vec<merkle::Hash>,
    old_checkpoint: String,
    new_checkpoint: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InclusionWire {
    #[serde(rename = "type")]
    _kind: String,
    origin: String,
    leaf_index: u64,
    tree_size: u64,
    leaf_hash: String,
    hashes: Vec<String>,
    record: Value,
    record_bytes: String,
    checkpoint: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsistencyWire {
    #[serde(rename = "type")]
    _kind: String,
    origin: String,
    old_size: u64,
    new_size: u64,
    old_root: String,
    new_root: String,
    hashes: Vec<String>,
    old_checkpoint: String,
    new_checkpoint: String,
}

/// Parses a proof document strictly: valid JSON with no duplicate member anywhere, a known `type`, every
/// field present and no other, sizes below 2^63, hashes of exactly 32 bytes in canonical padded base64.
fn parse(json: &[u8]) -> Result<Document, ProofError> {
    if json.len() > MAX_PROOF_SIZE {
        return Err(malformed(
            Input::Proof,
            format!("is {} bytes, more than a proof can be ({MAX_PROOF_SIZE} bytes)", json.len()),
        ));
    }
    let Strict(value) =
        serde_json::from_slice(json).map_err(|e| malformed(Input::Proof, format!("is not a JSON proof: {e}")))?;
    let kind = value
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed(Input::Proof, "is not a proof: it has no \"type\" (inclusion or consistency)"))?;
    let bad = |e: serde_json::Error| malformed(Input::Proof, format!("is not a valid {kind} proof: {e}"));
    match kind {
        INCLUSION => {
            let w: InclusionWire = serde_json::from_value(value.clone()).map_err(bad)?;
            Ok(Document::Inclusion(InclusionIn {
                origin: w.origin,
                leaf_index: size("leaf_index", w.leaf_index)?,
                tree_size: size("tree_size", w.tree_size)?,
                leaf_hash: hash("leaf_hash", &w.leaf_hash)?,
                hashes: hashes(&w.hashes)?,
                record: w.record,
                record_bytes: BASE64
                    .decode(&w.record_bytes)
                    .map_err(|e| malformed(Input::Proof, format!("its record_bytes are not canonical base64: {e}")))?,
                checkpoint: w.checkpoint,
            }))
        }
        CONSISTENCY => {
            let w: ConsistencyWire = serde_json::from_value(value.clone()).map_err(bad)?;
            Ok(Document::Consistency(ConsistencyIn {
                origin: w.origin,
                old_size: size("old_size", w.old_size)?,
                new_size: size("new_size", w.new_size)?,
                old_root: hash("old_root", &w.old_root)?,
                new_root: hash("new_root", &w.new_root)?,
                hashes: hashes(&w.hashes)?,
                old_checkpoint: w.old_checkpoint,
                new_checkpoint: w.new_checkpoint,
            }))
        }
        other => Err(malformed(
            Input::Proof,
            format!("has type {other:?}; a proof's type is \"{INCLUSION}\" or \"{CONSISTENCY}\""),
        )),
    }
}

fn size(field: &str, value: u64) -> Result<u64, ProofError> {
    if value > merkle::MAX_TREE_SIZE {
        return Err(malformed(Input::Proof, format!("its {field} {value} is 2^63 or more")));
    }
    Ok(value)
}

fn hash(field: &str, text: &str) -> Result<merkle::Hash, ProofError> {
    let bytes = BASE64
        .decode(text)
        .map_err(|e| malformed(Input::Proof, format!("its {field} is not canonical base64: {e}")))?;
    bytes
        .as_slice()
        .try_into()
        .map_err(|_| malformed(Input::Proof, format!("its {field} is {} bytes; a hash is 32", bytes.len())))
}

fn hashes(texts: &[String]) -> Result<Vec<merkle::Hash>, ProofError> {
    texts.iter().enumerate().map(|(i, t)| hash(&format!("hashes[{i}]"), t)).collect()
}

/// A JSON value that refuses duplicate object members, anywhere in it: a document that says two things
/// about one field is not a proof of either.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let Strict(v) = map.next_value()?;
            if out.insert(key.clone(), v).is_some() {
                return Err(de::Error::custom(format_args!("the member {key:?} appears twice")));
            }
        }
        Ok(Value::Object(out.into_iter().collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_members_are_refused_at_any_depth() {
        for json in [r#"{"type":"inclusion","type":"inclusion"}"#, r#"{"type":"x","record":{"seq":1,"seq":2}}"#] {
            let e = parse(json.as_bytes()).err().expect("refused");
            assert!(e.to_string().contains("appears twice"), "{e}");
            assert_eq!(e.fault(), Fault::BadInput);
        }
    }

    #[test]
    fn hashes_must_be_32_bytes_of_canonical_base64() {
        assert!(hash("leaf_hash", &BASE64.encode([7u8; 32])).is_ok());
        assert!(hash("leaf_hash", &BASE64.encode([7u8; 31])).unwrap_err().to_string().contains("31 bytes"));
        // 43 characters and a pad with non-zero trailing bits: not canonical.
        let mut text = BASE64.encode([7u8; 32]);
        text.replace_range(42..43, "x");
        assert!(hash("leaf_hash", &text).unwrap_err().to_string().contains("not canonical base64"));
        assert!(size("tree_size", 1 << 63).unwrap_err().to_string().contains("2^63"));
    }

    #[test]
    fn an_unknown_type_or_field_is_refused() {
        let e = parse(br#"{"type":"audit"}"#).err().expect("refused");
        assert!(e.to_string().contains("a proof's type is"), "{e}");
        let e = parse(br#"{"type":"consistency","extra":1}"#).err().expect("refused");
        assert!(e.to_string().contains("unknown field `extra`"), "{e}");
    }
}
