//! Verification: walks a log in order, in memory that grows with the number of items but not of
//! records, and names the first record that is not what it should be.
//!
//! For each record: its key is the next seq; it decodes; its seq field matches its key; it links to
//! the previous record's hash; its time is not before the previous one; its stream version and stream
//! link continue its stream; and the rules of [`crate::decide::check`] allowed it when it was appended.
//! At the end, the store's acknowledged head must lie on the chain.
//!
//! [`Verifier`] is the pure checker; [`verify_store`] and [`verify_bundle`] drive it over a store and
//! over an export bundle (whose line format lives in [`crate::export`]).

use crate::codec::CodecError;
use crate::date::Timestamp;
use crate::decide::{self, Rejection};
use crate::event::Event;
use crate::export::{BundleLine, check_fields};
use crate::ids::{ActorId, Seq, StreamVersion};
use crate::keys::{PublicKey, VerifyingKey};
use crate::ledger::LedgerError;
use crate::merkle::Frontier;
use crate::projection::Stored;
use crate::record::Head;
use crate::record::{Hash, Record, hash_record_bytes};
use crate::state::{Facts, ItemCore, State};
use crate::store::{Store, StoreError};
use serde::Serialize;
use std::fmt;
use std::io::BufRead;
use std::ops::ControlFlow;

/// What is wrong with the first bad record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// A log key that is not an 8-byte sequence number.
    BadKey {
        /// The key, in hex.
        key: String,
    },
    /// The next record is missing: the log jumps from `expected` to `found`.
    Gap {
        /// The seq that should come next.
        expected: u64,
        /// The seq found instead.
        found: u64,
    },
    /// The bytes do not decode.
    Undecodable(CodecError),
    /// The record's own seq field differs from its position.
    SeqMismatch {
        /// The seq the record says it has.
        stored: u64,
    },
    /// The record does not link to the hash of the record before it.
    BrokenLink {
        /// The previous record's hash.
        expected: Hash,
        /// The link stored in this record.
        found: Hash,
    },
    /// The record was accepted before the record before it (back-dated).
    TimeWentBack {
        /// The previous record's time.
        previous: Timestamp,
        /// This record's time.
        time: Timestamp,
    },
    /// The record's time is before 1970 or after the year 9999.
    BadTime {
        /// The stored time, in microseconds.
        time: Timestamp,
    },
    /// The record's stream is not the stream its event belongs to.
    WrongStream {
        /// The stream stored.
        stored: String,
        /// The event's stream.
        event: String,
    },
    /// The stream version or stream link does not continue the stream.
    StreamBroken {
        /// The version the stream was at.
        expected_version: StreamVersion,
        /// The version stored.
        found_version: StreamVersion,
        /// The seq of the stream's previous record.
        expected_prev: Option<Seq>,
        /// The stream link stored.
        found_prev: Option<Seq>,
    },
    /// The event was not allowed when it was appended.
    Illegal(Rejection),
    /// The log holds no record at all: not even record 0, which every ledger has.
    Empty,
    /// The record was inserted: the record after it links to the record before it.
    Inserted {
        /// The seq of the genuine record the chain continues from (none when the record was inserted
        /// before the first).
        continues_from: Option<u64>,
    },
    /// Derived data (the stored projection) does not match a replay of the log it claims to reflect.
    DerivedMismatch {
        /// Which derived tree.
        tree: &'static str,
        /// What differs, the first few in words.
        differences: Vec<String>,
    },
    /// The storage engine could not read the log past this point (a damaged data file).
    StoreUnreadable {
        /// What the engine said.
        why: String,
    },
    /// The store acknowledged a head beyond the end of the log: acknowledged records are missing.
    Truncated {
        /// The acknowledged head's seq.
        acknowledged: u64,
        /// Records found.
        records: u64,
    },
    /// The record was changed after the next record was linked to it (the next record is intact).
    Changed {
        /// The hash the next record links to.
        linked: Hash,
        /// The hash this record has now.
        hashes_to: Hash,
    },
    /// The store's acknowledged head cannot be read.
    HeadUnreadable {
        /// Why.
        why: String,
    },
    /// A bundle line is not a record, or its JSON fields say something its stored bytes do not.
    BadLine {
        /// What is wrong.
        why: String,
    },
    /// The record should carry its actor's signature (the actor has a key, or the ledger is signed)
    /// and does not.
    Unsigned {
        /// The actor.
        actor: ActorId,
    },
    /// The record carries a signature, but its actor has no key to check it with.
    SignedWithoutKey {
        /// The actor.
        actor: ActorId,
    },
    /// The signature does not verify with the key the actor had at that point of the log.
    BadSignature {
        /// The actor.
        actor: ActorId,
        /// The key it was checked with.
        key: PublicKey,
    },
    /// The actor's own time is later than the time the ledger accepted the record.
    ActorTimeAhead {
        /// The actor's time.
        actor_time: Timestamp,
        /// The ledger's.
        time: Timestamp,
    },
    /// A witness saw a checkpoint covering this record before the time the record carries: the time
    /// was moved forward (or the ledger's clock was).
    AfterWitness {
        /// The record's time.
        time: Timestamp,
        /// The checkpoint.
        checkpoint: String,
        /// When the witness cosigned it.
        witnessed: Timestamp,
    },
    /// A checkpoint covers more records than the log holds: the log was truncated or rolled back to an
    /// older copy.
    CheckpointBeyondLog {
        /// The checkpoint.
        checkpoint: String,
        /// Records it covers.
        size: u64,
        /// Records the log holds (that verified).
        records: u64,
    },
    /// The log's first records do not have the Merkle root a checkpoint signed: a different history
    /// (rewritten and re-chained, or a fork).
    CheckpointMismatch {
        /// The checkpoint.
        checkpoint: String,
        /// Records it covers.
        size: u64,
    },
    /// A checkpoint is not cosigned by as many of the given witnesses as the policy asks.
    NotWitnessed {
        /// The checkpoint.
        checkpoint: String,
        /// The witnesses whose cosignatures verified.
        witnesses: Vec<String>,
    },
    /// The record at the acknowledged head's seq does not have the acknowledged hash.
    HeadMismatch {
        /// The acknowledged seq.
        seq: u64,
        /// The acknowledged hash.
        acknowledged: Hash,
        /// The hash of the record found.
        found: Hash,
    },
}

impl Problem {
    /// A short stable name for scripts.
    pub fn kind(&self) -> &'static str {
        match self {
            Problem::BadKey { .. } => "bad_key",
            Problem::Gap { .. } => "gap",
            Problem::Undecodable(_) => "undecodable",
            Problem::SeqMismatch { .. } => "seq_mismatch",
            Problem::BrokenLink { .. } => "broken_link",
            Problem::TimeWentBack { .. } => "time_went_back",
            Problem::BadTime { .. } => "bad_time",
            Problem::WrongStream { .. } => "wrong_stream",
            Problem::StreamBroken { .. } => "stream_broken",
            Problem::Illegal(_) => "illegal_event",
            Problem::Empty => "empty",
            Problem::Inserted { .. } => "inserted",
            Problem::DerivedMismatch { .. } => "derived_mismatch",
            Problem::StoreUnreadable { .. } => "store_unreadable",
            Problem::Truncated { .. } => "truncated",
            Problem::BadLine { .. } => "bad_line",
            Problem::Changed { .. } => "changed",
            Problem::HeadUnreadable { .. } => "head_unreadable",
            Problem::HeadMismatch { .. } => "head_mismatch",
            Problem::Unsigned { .. } => "unsigned",
            Problem::SignedWithoutKey { .. } => "signed_without_key",
            Problem::BadSignature { .. } => "bad_signature",
            Problem::ActorTimeAhead { .. } => "actor_time_ahead",
            Problem::AfterWitness { .. } => "after_witness",
            Problem::CheckpointBeyondLog { .. } => "checkpoint_beyond_log",
            Problem::CheckpointMismatch { .. } => "checkpoint_mismatch",
            Problem::NotWitnessed { .. } => "not_witnessed",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::BadKey { key } => write!(f, "the log holds a key {key} that is not a sequence number"),
            Problem::Gap { expected, found } if found < expected => {
                write!(
                    f,
                    "record {expected} was expected but this one claims record {found}, which came before (repeated or reordered)"
                )
            }
            Problem::Gap { expected, found } => {
                write!(f, "record {expected} is missing: the log goes on at {found}")
            }
            Problem::Undecodable(e) => write!(f, "the record does not decode: {e}"),
            Problem::SeqMismatch { stored } => write!(f, "the record says it is record {stored} (moved or reordered)"),
            Problem::BrokenLink { expected, found } => write!(
                f,
                "the record links to {found} but the previous record hashes to {expected} (a record was changed, removed or reordered)"
            ),
            Problem::TimeWentBack { previous, time } => {
                write!(
                    f,
                    "accepted at {} before the previous record ({}): back-dated",
                    time.format(0),
                    previous.format(0)
                )
            }
            Problem::BadTime { time } => {
                write!(f, "the record's time ({} µs after 1970) is not a time a record can carry", time.0)
            }
            Problem::WrongStream { stored, event } => {
                write!(f, "the record is filed under stream {stored} but its event belongs to {event}")
            }
            Problem::StreamBroken { expected_version, found_version, expected_prev, found_prev } => write!(
                f,
                "the stream continues at version {expected_version} after {} but the record says version {found_version} after {}",
                expected_prev.map_or("nothing".into(), |s| format!("record {s}")),
                found_prev.map_or("nothing".into(), |s| format!("record {s}")),
            ),
            Problem::Illegal(r) => write!(f, "the event was not allowed when appended: {r}"),
            Problem::DerivedMismatch { tree, differences } => write!(
                f,
                "the {tree} does not match a replay of the log it claims to reflect: {}{}",
                differences.iter().take(5).cloned().collect::<Vec<_>>().join("; "),
                if differences.len() > 5 { format!(" (and {} more)", differences.len() - 5) } else { String::new() }
            ),
            Problem::StoreUnreadable { why } => write!(
                f,
                "the store cannot be read past this point ({why}): the records before it verified; \
                 restore the ledger from a verified export bundle (`commitments restore`)"
            ),
            Problem::Inserted { continues_from: Some(n) } => {
                write!(f, "the record was inserted: the record after it links to record {n}, the one before it")
            }
            Problem::Inserted { continues_from: None } => f.write_str(
                "the record was inserted before the log's first record: the record after it opens the ledger (it \
                 links to nothing) and the records after it continue from it",
            ),
            Problem::Empty => {
                f.write_str("the log holds no records, not even record 0 (the ledger was emptied or never opened)")
            }
            Problem::Truncated { acknowledged, records } => write!(
                f,
                "acknowledged records missing: the ledger acknowledged record {acknowledged} but the log ends after {records} records"
            ),
            Problem::BadLine { why } => f.write_str(why),
            Problem::Changed { linked, hashes_to } => write!(
                f,
                "the record was changed: the next record links to {linked} but this record now hashes to {hashes_to}"
            ),
            Problem::HeadUnreadable { why } => {
                write!(f, "the acknowledged head cannot be read ({why}): nothing vouches for the end of the log")
            }
            Problem::Unsigned { actor } => write!(
                f,
                "the record is not signed, but {actor} signs every record it appends (its key is registered, or the \
                 ledger is signed)"
            ),
            Problem::SignedWithoutKey { actor } => {
                write!(f, "the record carries a signature, but {actor} had no registered key to check it with")
            }
            Problem::BadSignature { actor, key } => write!(
                f,
                "the signature does not verify with {actor}'s key {} (the record was changed, or signed by \
                 someone else)",
                key.short()
            ),
            Problem::ActorTimeAhead { actor_time, time } => write!(
                f,
                "the actor signed at {} but the ledger accepted the record at {}, earlier (a clock moved, or \
                 the record was back-dated)",
                if actor_time.is_valid() { actor_time.format(0) } else { format!("{} µs after 1970", actor_time.0) },
                time.format(0)
            ),
            Problem::AfterWitness { time, checkpoint, witnessed } => write!(
                f,
                "the record is stamped {} but a witness cosigned checkpoint {checkpoint}, which covers it, at {}: \
                 the record's time was moved forward",
                time.format(0),
                witnessed.format(0)
            ),
            Problem::CheckpointBeyondLog { checkpoint, size, records } => write!(
                f,
                "checkpoint {checkpoint} covers {size} records but the log has only {records}: records it \
                 covered are gone (the log was truncated, or rolled back to an older copy)"
            ),
            Problem::CheckpointMismatch { checkpoint, size } => write!(
                f,
                "the log's first {size} records are not the history checkpoint {checkpoint} signed (their Merkle \
                 root differs): records it covered were rewritten, or this is another copy's history (a fork)"
            ),
            Problem::NotWitnessed { checkpoint, witnesses } => write!(
                f,
                "checkpoint {checkpoint} does not meet the witness policy: cosigned by {}",
                if witnesses.is_empty() { "none of the witnesses given".to_string() } else { witnesses.join(", ") }
            ),
            Problem::HeadMismatch { seq, acknowledged, found } => {
                write!(
                    f,
                    "the ledger acknowledged record {seq} with hash {acknowledged}, but record {seq} now hashes to \
                     {found}: it is not the record that was acknowledged (it, or records before it, were rewritten \
                     and re-chained)"
                )
            }
        }
    }
}

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Whether the ledger is sound.
    pub ok: bool,
    /// Records checked and found good.
    pub records: u64,
    /// Hash of the last good record, in hex.
    pub head: Option<String>,
    /// Seq of the last good record.
    pub head_seq: Option<u64>,
    /// The first bad seq, when unsound.
    pub first_bad_seq: Option<u64>,
    /// What is wrong with it, in words.
    pub problem: Option<String>,
    /// What is wrong with it, as a stable name.
    pub problem_kind: Option<&'static str>,
    /// For bundles: the line (from 1) of the first bad record.
    pub first_bad_line: Option<u64>,
    /// Records after the acknowledged head: written by an append that did not report success (a crash
    /// between writing and acknowledging). Sound, but never acknowledged to anyone.
    pub unacknowledged: u64,
    /// Good records that carry their actor's signature, checked.
    pub signed: u64,
    /// Good records without a signature (ledgers opened by version 1, actors without a key there).
    pub unsigned: u64,
    /// The Merkle root of the good records (base64, as checkpoints write it).
    pub root: Option<String>,
    /// What each checkpoint given was found to be.
    pub checkpoints: Vec<CheckpointCheck>,
    /// When the verification went on from an earlier one: the records that one verified, not read
    /// again.
    pub resumed_from: Option<u64>,
}

/// A checkpoint a verification was asked to hold the log to: its size and root (from a signed note the
/// caller has already checked), and what its cosignatures say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trusted {
    /// How to name it (its file).
    pub label: String,
    /// Records it covers.
    pub size: u64,
    /// Its Merkle root.
    pub root: [u8; 32],
    /// The witnesses whose cosignatures verified.
    pub witnesses: Vec<String>,
    /// The earliest time one of them cosigned it: no record it covers may carry a later time.
    pub witnessed: Option<Timestamp>,
    /// Whether the witness policy given is met.
    pub meets_policy: bool,
}

/// What a checkpoint was found to be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointCheck {
    /// Its name (the file).
    pub checkpoint: String,
    /// Records it covers.
    pub size: u64,
    /// Whether the log's first `size` records have its root; none when it was not compared (a record
    /// before the log's end is bad, which is the finding).
    pub consistent: Option<bool>,
    /// Witnesses whose cosignatures verified.
    pub witnesses: Vec<String>,
    /// Whether the witness policy is met.
    pub meets_policy: bool,
}

impl Report {
    /// The report on a store whose engine cannot open or read it at all (a damaged data file): unsound,
    /// nothing verified.
    pub fn unreadable_store(why: String) -> Report {
        let problem = Problem::StoreUnreadable { why };
        Report {
            ok: false,
            records: 0,
            head: None,
            head_seq: None,
            first_bad_seq: Some(0),
            problem: Some(problem.to_string()),
            problem_kind: Some(problem.kind()),
            first_bad_line: None,
            unacknowledged: 0,
            signed: 0,
            unsigned: 0,
            root: None,
            checkpoints: Vec::new(),
            resumed_from: None,
        }
    }
}

/// A bad record: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bad {
    /// The first bad seq.
    pub seq: u64,
    /// What is wrong.
    pub problem: Problem,
}

/// What the verifier knows about the head the store acknowledged.
#[derive(Debug, Clone, Default)]
enum Acknowledged {
    /// A bundle: no store, no acknowledged head.
    #[default]
    NotApplicable,
    /// The store's head (none if it holds none).
    Store(Option<Head>),
    /// The store's head could not be read.
    Unreadable(String),
}

/// Checks records one at a time.
#[derive(Debug, Default)]
pub struct Verifier {
    state: State<ItemCore>,
    next: u64,
    prev: Hash,
    /// The hash of the record before `prev`, to report the last good record when `prev`'s own record
    /// turns out to be the changed one.
    prev_prev: Hash,
    prev_time: Timestamp,
    acknowledged: Acknowledged,
    acknowledged_seen: bool,
    /// The ledger's origin (from record 0): signatures cover it.
    origin: Option<String>,
    /// Signatures checked in batches: the ones not yet checked.
    pending: Vec<Pending>,
    /// The first record whose signature failed, and the hash of the record before it.
    sig_bad: Option<(Bad, Hash)>,
    /// Verifying keys, decoded once.
    keys: std::collections::HashMap<PublicKey, Option<VerifyingKey>>,
    signed: u64,
    unsigned: u64,
    /// The Merkle tree of the records accepted so far.
    tree: Frontier,
    /// The checkpoints to hold the log to, by size, and the roots found at their sizes.
    trusted: Vec<Trusted>,
    roots: Vec<(u64, [u8; 32])>,
    /// For each checkpoint a witness saw, the time bound it sets on the records it covers:
    /// (records covered, latest allowed time, checkpoint).
    bounds: Vec<(u64, Timestamp, String)>,
}

/// A signature waiting for its batch.
#[derive(Debug)]
pub(crate) struct Pending {
    seq: u64,
    prev: Hash,
    actor: ActorId,
    key: PublicKey,
    verifying: VerifyingKey,
    msg: Vec<u8>,
    signature: [u8; 64],
}

/// Where an earlier verification ended, kept by whoever verifies (an auditor's file, never the ledger
/// directory) so that the next one reads only the records after it: the verifier's state there.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Resume {
    origin: String,
    records: u64,
    last: Hash,
    before_last: Hash,
    last_time: Timestamp,
    tree: Frontier,
    registry: crate::state::Registry,
    items: Vec<(crate::ids::ItemId, ItemCore)>,
    signed: u64,
    unsigned: u64,
}

impl Resume {
    /// The first bytes of a resume file; the number is its format.
    pub const MAGIC: &'static [u8] = b"commitment-ledger verified state 1\n";

    /// Records verified.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Self::MAGIC.to_vec();
        out.extend(bincode::serde::encode_to_vec(self, bincode::config::standard()).unwrap_or_default());
        out
    }

    /// Reads a file's bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Resume, String> {
        let body = bytes.strip_prefix(Self::MAGIC).ok_or("it is not a verified-state file of this version")?;
        let (r, used): (Resume, usize) =
            bincode::serde::decode_from_slice(body, bincode::config::standard()).map_err(|e| e.to_string())?;
        if used != body.len() {
            return Err("it has bytes after its end".into());
        }
        Ok(r)
    }
}

/// Signatures per batch.
pub const SIGNATURE_BATCH: usize = crate::keys::BATCH_SIZE;

/// How far an actor's time may run ahead of the ledger's (clocks differ a little).
pub const MAX_ACTOR_SKEW: i64 = 5 * 60 * 1_000_000;

/// Checks a batch of signatures on `threads` threads; the first record whose signature fails.
pub(crate) fn check_signatures(batch: &[Pending], threads: usize) -> Option<(Bad, Hash)> {
    let items: Vec<_> = batch
        .iter()
        .map(|p| (p.verifying, p.msg.as_slice(), ed25519_dalek::Signature::from_bytes(&p.signature)))
        .collect();
    let ok = crate::keys::verify_many_with_threads(&items, threads);
    batch.iter().zip(ok).find(|(_, ok)| !ok).map(|(p, _)| {
        (Bad { seq: p.seq, problem: Problem::BadSignature { actor: p.actor.clone(), key: p.key } }, p.prev)
    })
}

impl Verifier {
    /// A verifier for a store, which also checks that `acknowledged` (the store's head) lies on the chain.
    pub fn new(acknowledged: Option<Head>) -> Verifier {
        Verifier { acknowledged: Acknowledged::Store(acknowledged), ..Verifier::default() }
    }

    /// A verifier for a store whose acknowledged head cannot be read: the ledger is unsound.
    pub fn with_unreadable_head(why: String) -> Verifier {
        Verifier { acknowledged: Acknowledged::Unreadable(why), ..Verifier::default() }
    }

    /// A verifier for a bundle (no store, no acknowledged head).
    pub fn for_bundle() -> Verifier {
        Verifier::default()
    }

    fn stored_head(&self) -> Option<Head> {
        match self.acknowledged {
            Acknowledged::Store(h) => h,
            _ => None,
        }
    }

    /// Records checked so far.
    pub fn records(&self) -> u64 {
        self.next
    }

    /// A verifier that goes on where an earlier verification of the same log ended.
    fn resumed(r: &Resume, acknowledged: Acknowledged) -> Verifier {
        let mut state = State::default();
        state.set_registry(r.registry.clone());
        for (id, item) in &r.items {
            state.insert(id.clone(), item.clone());
        }
        Verifier {
            state,
            next: r.records,
            prev: r.last,
            prev_prev: r.before_last,
            prev_time: r.last_time,
            acknowledged,
            origin: Some(r.origin.clone()),
            tree: r.tree.clone(),
            signed: r.signed,
            unsigned: r.unsigned,
            ..Verifier::default()
        }
    }

    /// Where this verification ended, to resume from (after a sound one).
    fn resume_point(&self) -> Option<Resume> {
        Some(Resume {
            origin: self.origin.clone()?,
            records: self.next,
            last: self.prev,
            before_last: self.prev_prev,
            last_time: self.prev_time,
            tree: self.tree.clone(),
            registry: self.state.registry().clone(),
            items: self.state.entries().map(|(id, i)| (id.clone(), i.clone())).collect(),
            signed: self.signed,
            unsigned: self.unsigned,
        })
    }

    /// Holds the log to checkpoints: the records each covers must be there, with its root, and none
    /// may carry a time after a witness saw it.
    pub fn hold_to(&mut self, trusted: Vec<Trusted>) {
        self.bounds = trusted.iter().filter_map(|t| t.witnessed.map(|w| (t.size, w, t.label.clone()))).collect();
        self.trusted = trusted;
    }

    /// The ledger's origin, when known before record 0 is checked (a driver that decodes records on
    /// other threads needs it to build the statements signatures cover).
    pub fn set_origin(&mut self, origin: String) {
        self.origin = Some(origin);
    }

    /// How many signatures wait for a batch.
    pub(crate) fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// The signatures waiting for a batch, taken out (a driver checks them on other threads with
    /// [`check_signatures`]).
    pub(crate) fn take_pending(&mut self) -> Vec<Pending> {
        std::mem::take(&mut self.pending)
    }

    /// Notes a failed signature found by [`check_signatures`]; the earliest counts.
    pub(crate) fn signature_failed(&mut self, bad: (Bad, Hash)) {
        if self.sig_bad.as_ref().is_none_or(|(b, _)| bad.0.seq < b.seq) {
            self.sig_bad = Some(bad);
        }
    }

    /// Checks the signatures waiting, here (both cores).
    pub(crate) fn flush_signatures(&mut self) {
        let batch = self.take_pending();
        if let Some(bad) = check_signatures(&batch, std::thread::available_parallelism().map_or(1, |n| n.get())) {
            self.signature_failed(bad);
        }
    }

    /// Checks the next entry of the log, its key (8 bytes big-endian) and its stored bytes, and folds
    /// it in. Returns the decoded record and its hash.
    pub fn push(&mut self, key: &[u8], bytes: &[u8]) -> Result<(Record, Hash), Bad> {
        let (rec, hash) = self.check_next(key, bytes)?;
        self.accept(&rec, hash);
        Ok((rec, hash))
    }

    /// Checks the next entry without folding it in; [`Verifier::accept`] does that.
    pub fn check_next(&mut self, key: &[u8], bytes: &[u8]) -> Result<(Record, Hash), Bad> {
        let (decoded, statement) = Record::decode_with_statement(bytes, self.origin.as_deref());
        let checked = self.check_decoded(key, decoded, hash_record_bytes(bytes), statement);
        if self.pending.len() >= SIGNATURE_BATCH * 4 {
            self.flush_signatures();
        }
        checked
    }

    /// [`Verifier::check_next`] for an entry already decoded and hashed (on another thread).
    pub fn check_decoded(
        &mut self,
        key: &[u8],
        decoded: Result<Record, CodecError>,
        hash: Hash,
        statement: Option<(Vec<u8>, [u8; 64])>,
    ) -> Result<(Record, Hash), Bad> {
        let expected = self.next;
        let bad = |problem| Bad { seq: expected, problem };
        let Some(seq) = Seq::from_key(key) else {
            return Err(bad(Problem::BadKey { key: key.iter().map(|b| format!("{b:02x}")).collect() }));
        };
        if seq.0 != expected {
            return Err(bad(Problem::Gap { expected, found: seq.0 }));
        }
        let rec = decoded.map_err(|e| bad(Problem::Undecodable(e)))?;
        self.check(&rec).map_err(bad)?;
        self.check_signature(&rec, statement).map_err(bad)?;
        // The earliest time a witness saw a checkpoint covering the record.
        if let Some((_, bound, checkpoint)) = self.bounds.iter().filter(|b| b.0 > rec.seq.0).min_by_key(|b| b.1)
            && rec.time > *bound
        {
            return Err(bad(Problem::AfterWitness {
                time: rec.time,
                checkpoint: checkpoint.clone(),
                witnessed: *bound,
            }));
        }
        if let Some(ack) = self.stored_head().filter(|a| a.seq == seq) {
            // The record is not the one the ledger acknowledged. (The witness has its own check, so a
            // careless edit of the head alone shows as an unreadable head instead.)
            if ack.hash != hash {
                return Err(bad(Problem::HeadMismatch { seq: seq.0, acknowledged: ack.hash, found: hash }));
            }
            self.acknowledged_seen = true;
        }
        Ok((rec, hash))
    }

    /// Whether the record carries the signature it must, by the key its actor had at that point of the
    /// log; the signature itself joins the batch waiting to be checked.
    fn check_signature(&mut self, rec: &Record, statement: Option<(Vec<u8>, [u8; 64])>) -> Result<(), Problem> {
        let needed = decide::signing_key(self.state.registry(), &rec.actor, &rec.event).map_err(Problem::Illegal)?;
        let actor = || rec.actor.clone();
        match (needed, &rec.signature) {
            (None, None) => Ok(()),
            (None, Some(_)) => Err(Problem::SignedWithoutKey { actor: actor() }),
            (Some(_), None) => Err(Problem::Unsigned { actor: actor() }),
            (Some(key), Some(signed)) => {
                if signed.actor_time.0 > rec.time.0.saturating_add(MAX_ACTOR_SKEW) {
                    return Err(Problem::ActorTimeAhead { actor_time: signed.actor_time, time: rec.time });
                }
                let verifying = *self.keys.entry(key).or_insert_with(|| key.verifying_key().ok());
                let (Some(verifying), Some((msg, signature))) = (verifying, statement) else {
                    return Err(Problem::BadSignature { actor: actor(), key });
                };
                self.pending.push(Pending {
                    seq: rec.seq.0,
                    prev: rec.prev,
                    actor: actor(),
                    key,
                    verifying,
                    msg,
                    signature,
                });
                Ok(())
            }
        }
    }

    /// Folds in a record that [`Verifier::check_next`] accepted.
    pub fn accept(&mut self, rec: &Record, hash: Hash) {
        if rec.signature.is_some() {
            self.signed += 1;
        } else {
            self.unsigned += 1;
        }
        if let crate::event::Event::LedgerOpened(o) = &rec.event
            && self.origin.is_none()
        {
            self.origin = Some(o.origin.clone());
        }
        // Only past 2^63 records can the tree refuse a leaf; the seq check stops long before.
        let _ = self.tree.push(crate::tree::leaf(&hash));
        if self.trusted.iter().any(|t| t.size == self.tree.size()) {
            self.roots.push((self.tree.size(), self.tree.root()));
        }
        self.state.apply(rec);
        self.prev_prev = self.prev;
        self.prev = hash;
        self.prev_time = rec.time;
        self.next += 1;
    }

    fn check(&self, rec: &Record) -> Result<(), Problem> {
        if rec.seq.0 != self.next {
            return Err(Problem::SeqMismatch { stored: rec.seq.0 });
        }
        if rec.prev != self.prev {
            return Err(Problem::BrokenLink { expected: self.prev, found: rec.prev });
        }
        if !rec.time.is_valid() {
            return Err(Problem::BadTime { time: rec.time });
        }
        if rec.time < self.prev_time {
            return Err(Problem::TimeWentBack { previous: self.prev_time, time: rec.time });
        }
        let event_stream = rec.event.stream();
        if event_stream != rec.stream {
            return Err(Problem::WrongStream { stored: rec.stream.to_text(), event: event_stream.to_text() });
        }
        let pos = self.state.stream_pos(&rec.stream);
        if pos.next != rec.stream_version || pos.last != rec.stream_prev {
            return Err(Problem::StreamBroken {
                expected_version: pos.next,
                found_version: rec.stream_version,
                expected_prev: pos.last,
                found_prev: rec.stream_prev,
            });
        }
        decide::check(&self.state, &rec.actor, rec.time, &rec.event).map_err(Problem::Illegal)
    }

    /// Decides which record a broken link blames. Record k's link does not match record k-1's hash:
    /// either record k-1 was changed (then record k is intact, and record k+1 — or the acknowledged
    /// head, when k is the last — still agrees with record k's hash), or record k was. `this` is record
    /// k's bytes, `next` record k+1's.
    pub fn attribute(&self, bad: Bad, this: Option<&[u8]>, next: Option<&[u8]>) -> Bad {
        let out_of_place = matches!(bad.problem, Problem::BrokenLink { .. } | Problem::SeqMismatch { .. })
            || matches!(bad.problem, Problem::Gap { expected, found } if found < expected);
        let this_rec = this.and_then(|b| Record::decode(b).ok());
        let next_links_to = next.and_then(|b| Record::decode(b).ok()).map(|r| r.prev);
        if out_of_place && bad.seq >= 1 && this.is_some_and(|b| hash_record_bytes(b) != self.prev) {
            // Record k links where record k-1 does (to k-2), and record k+1 links to record k-1: record
            // k is a copy of k-1 renumbered into place, the intruder, not its twin.
            if this_rec.as_ref().is_some_and(|r| r.prev == self.prev_prev) && next_links_to == Some(self.prev) {
                return Bad { seq: bad.seq, problem: Problem::Inserted { continues_from: Some(bad.seq - 1) } };
            }
            // Record 1 opens the ledger too (it links to nothing, it is a `LedgerOpened`), and the
            // record after it does not continue from record 0: record 0 was inserted before the log's
            // genuine first record.
            if bad.seq == 1
                && this_rec.as_ref().is_some_and(|r| r.prev == Hash::ZERO && matches!(r.event, Event::LedgerOpened(_)))
                && next_links_to != Some(self.prev)
            {
                return Bad { seq: 0, problem: Problem::Inserted { continues_from: None } };
            }
        }
        // Record k continues the chain from record k-2 (its link is k-2's hash): record k-1 is an
        // intruder, inserted between two genuine records (renumbered or not).
        // (A record identical to the one before it is the intruder itself: it is not blamed on its twin.)
        if bad.seq >= 2
            && out_of_place
            && this.is_some_and(|b| hash_record_bytes(b) != self.prev)
            && this_rec.as_ref().is_some_and(|r| r.prev == self.prev_prev)
        {
            return Bad { seq: bad.seq - 1, problem: Problem::Inserted { continues_from: Some(bad.seq - 2) } };
        }
        let (Problem::BrokenLink { expected, found }, Some(this)) = (&bad.problem, this) else { return bad };
        if bad.seq == 0 {
            return bad;
        }
        let this_hash = hash_record_bytes(this);
        let vouched = match next {
            Some(next) => Record::decode(next).is_ok_and(|r| r.prev == this_hash),
            None => self.stored_head().is_some_and(|h| h.seq.0 == bad.seq && h.hash == this_hash),
        };
        if !vouched {
            return bad;
        }
        Bad { seq: bad.seq - 1, problem: Problem::Changed { linked: *found, hashes_to: *expected } }
    }

    /// The report, after the last record (or after the first bad one).
    pub fn finish(mut self, bad: Option<Bad>) -> Report {
        self.flush_signatures();
        // A bad signature found in a batch may come before the record the walk stopped at.
        let mut override_good = None;
        let bad = match (bad, self.sig_bad.take()) {
            (Some(b), Some((s, prev))) if s.seq < b.seq => {
                override_good = Some(prev);
                Some(s)
            }
            (None, Some((s, prev))) => {
                override_good = Some(prev);
                Some(s)
            }
            (b, _) => b,
        };
        let stored = self.stored_head();
        // Problems of the head rather than of a record: every record verified.
        let mut head_problem = None;
        let bad = bad.or_else(|| match &self.acknowledged {
            _ if self.next == 0 => Some(Bad { seq: 0, problem: Problem::Empty }),
            Acknowledged::Unreadable(why) => {
                head_problem = Some(Problem::HeadUnreadable { why: why.clone() });
                None
            }
            _ => {
                let ack = stored?;
                (ack.seq.0 >= self.next).then_some(Bad {
                    seq: self.next,
                    problem: Problem::Truncated { acknowledged: ack.seq.0, records: self.next },
                })
            }
        });
        // Records verified good: everything before the first bad one.
        let good = bad.as_ref().map_or(self.next, |b| b.seq.min(self.next));
        let last_good = match (override_good, self.next - good) {
            (Some(prev), _) => prev,
            (None, 0) => self.prev,
            (None, 1) => self.prev_prev,
            _ => Hash::ZERO,
        };
        // Checkpoints: only against a log whose records all verified (otherwise the first bad record
        // is the finding).
        let mut checkpoint_problem = None;
        let mut checkpoints = Vec::new();
        for t in &self.trusted {
            let root = self.roots.iter().find(|(size, _)| *size == t.size).map(|r| r.1);
            let consistent = bad.is_none().then(|| t.size <= good && root == Some(t.root));
            if checkpoint_problem.is_none() && consistent == Some(false) {
                checkpoint_problem = Some(if t.size > good {
                    Problem::CheckpointBeyondLog { checkpoint: t.label.clone(), size: t.size, records: good }
                } else {
                    Problem::CheckpointMismatch { checkpoint: t.label.clone(), size: t.size }
                });
            }
            if bad.is_none() && checkpoint_problem.is_none() && !t.meets_policy {
                checkpoint_problem =
                    Some(Problem::NotWitnessed { checkpoint: t.label.clone(), witnesses: t.witnesses.clone() });
            }
            checkpoints.push(CheckpointCheck {
                checkpoint: t.label.clone(),
                size: t.size,
                consistent,
                witnesses: t.witnesses.clone(),
                meets_policy: t.meets_policy,
            });
        }
        let root = (bad.is_none())
            .then(|| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, self.tree.root()));
        let head = (good > 0).then(|| (last_good.to_hex(), good - 1));
        let unacknowledged = match (&bad, &self.acknowledged, stored) {
            (None, _, Some(ack)) if self.acknowledged_seen => self.next - 1 - ack.seq.0,
            (None, Acknowledged::Store(None), _) => self.next,
            _ => 0,
        };
        let problem = bad.as_ref().map(|b| &b.problem).or(head_problem.as_ref()).or(checkpoint_problem.as_ref());
        Report {
            ok: problem.is_none(),
            records: good,
            head: head.as_ref().map(|h| h.0.clone()),
            head_seq: head.map(|h| h.1),
            first_bad_seq: bad.as_ref().map(|b| b.seq),
            problem: problem.map(|p| p.to_string()),
            problem_kind: problem.map(|p| p.kind()),
            first_bad_line: None,
            unacknowledged,
            signed: if bad.is_none() { self.signed } else { 0 },
            unsigned: if bad.is_none() { self.unsigned } else { 0 },
            root,
            checkpoints,
            resumed_from: None,
        }
    }
}

/// Records per chunk handed between the threads of [`verify_store`].
const CHUNK: usize = 1024;

/// A stored entry, decoded and hashed off the checking thread.
struct Prepared {
    key: Vec<u8>,
    decoded: Result<Record, CodecError>,
    hash: Hash,
    statement: Option<(Vec<u8>, [u8; 64])>,
}

/// Verifies every record of a store, in order; `progress` is called with the records checked so far.
///
/// Hashing and decoding are independent per record, so they run on worker threads (one per core)
/// while the links, streams and rules are checked in order on this one. Chunks are handed round-robin
/// through bounded channels, so memory stays a few chunks whatever the size of the log. Signatures are
/// checked in batches on threads of their own (one per core), and the stored Merkle tree is compared
/// with the log's on another.
pub fn verify_store<S: Store + ?Sized>(store: &S, progress: &mut dyn FnMut(u64)) -> Result<Report, LedgerError> {
    verify_store_against(store, Vec::new(), progress)
}

/// [`verify_store`], holding the log to checkpoints ([`Verifier::hold_to`]).
pub fn verify_store_against<S: Store + ?Sized>(
    store: &S,
    trusted: Vec<Trusted>,
    progress: &mut dyn FnMut(u64),
) -> Result<Report, LedgerError> {
    Ok(verify_store_resuming(store, None, trusted, progress)?.0)
}

/// [`verify_store_against`], going on from where an earlier verification of this log ended: the
/// records it verified are not read again, except the last, which must still hash to what it did.
/// What it covered is held to the checkpoints given through the log's stored Merkle tree: a
/// consistency proof from each older checkpoint to the tree verified then must check. Stored derived
/// data (projection, tree) is compared only by a full verification. When the log no longer holds that
/// record, or the stored tree cannot prove an older checkpoint, it verifies the whole log instead.
/// Returns the report and, when sound, where this verification ended.
pub fn verify_store_resuming<S: Store + ?Sized>(
    store: &S,
    resume: Option<&Resume>,
    trusted: Vec<Trusted>,
    progress: &mut dyn FnMut(u64),
) -> Result<(Report, Option<Resume>), LedgerError> {
    let acknowledged = match store.stored_head() {
        Ok(head) => Acknowledged::Store(head),
        Err(StoreError::HeadUnreadable(why)) => Acknowledged::Unreadable(why),
        Err(e) => return Err(e.into()),
    };
    let resume = resume.filter(|r| resumable(store, r, &trusted));
    let mut v = match resume {
        Some(r) => Verifier::resumed(r, acknowledged),
        None => Verifier { acknowledged, ..Verifier::default() },
    };
    let start = v.next;
    let resumed_root = resume.map(|r| (r.records, r.tree.root()));
    // Checkpoints the earlier verification covered were checked by consistency (see `resumable`);
    // only the later ones are held to the records read now.
    let (earlier, later): (Vec<Trusted>, Vec<Trusted>) =
        trusted.into_iter().partition(|t| resumed_root.is_some_and(|(size, _)| t.size <= size));
    v.hold_to(later);
    if let Some((size, root)) = resumed_root
        && v.trusted.iter().any(|t| t.size == size)
    {
        v.roots.push((size, root));
    }
    // Workers build the statements signatures cover, which name the origin record 0 gives.
    if v.origin.is_none()
        && let Some(o) = store.get(Seq(0)).ok().flatten().and_then(|b| crate::record::origin_of(&b))
    {
        v.set_origin(o);
    }
    let origin = v.origin.clone().unwrap_or_default();
    let mut tree_differences = Vec::new();
    // Derived data is compared by a full verification only.
    let full = resume.is_none();
    let stored = if full { crate::projection::Projection::inspect(store)? } else { Stored::None };
    // The stored projection claims to be the log folded through its watermark: fold the full item
    // states that far on a thread of their own, from the records as they are accepted, to compare.
    let mark = if full { crate::projection::stored_mark(store)? } else { None };
    let mut replayed: Option<(State, Hash)> = None;
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8);
    let mut bad = None;
    let scanned = std::thread::scope(|s| -> Result<(), StoreError> {
        let (to_folder, folder_rx) = std::sync::mpsc::sync_channel::<Vec<(Record, Hash)>>(4);
        let folder = s.spawn(move || {
            let mut state = State::default();
            let until = mark.map(|m| m.seq);
            for chunk in folder_rx {
                for (rec, hash) in chunk {
                    if until.is_none_or(|u| rec.seq > u) {
                        return None;
                    }
                    state.apply(&rec);
                    if until == Some(rec.seq) {
                        return Some((state, hash));
                    }
                }
            }
            None
        });
        let (to_tree, tree_rx) = std::sync::mpsc::sync_channel::<Vec<Hash>>(4);
        let tree = s.spawn(move || if full { compare_tree(store, tree_rx) } else { Ok(Vec::new()) });
        let mut tree_open = full;
        let (to_signers, signer_rx) = std::sync::mpsc::sync_channel::<Vec<Pending>>(workers);
        let signer_rx = std::sync::Arc::new(std::sync::Mutex::new(signer_rx));
        let (sig_tx, sig_results) = std::sync::mpsc::channel::<(Bad, Hash)>();
        let signers: Vec<_> = (0..workers)
            .map(|_| {
                let rx = signer_rx.clone();
                let tx = sig_tx.clone();
                s.spawn(move || {
                    loop {
                        let batch = match rx.lock().map(|r| r.recv()) {
                            Ok(Ok(batch)) => batch,
                            _ => return,
                        };
                        if let Some(bad) = check_signatures(&batch, 1) {
                            let _ = tx.send(bad);
                        }
                    }
                })
            })
            .collect();
        drop(sig_tx);
        let mut accepted = Vec::with_capacity(CHUNK);
        let mut folding = mark.is_some();
        let mut to_workers = Vec::with_capacity(workers);
        let mut from_workers = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (raw_tx, raw_rx) = std::sync::mpsc::sync_channel::<Vec<(Vec<u8>, Vec<u8>)>>(2);
            let (out_tx, out_rx) = std::sync::mpsc::sync_channel::<Vec<Prepared>>(2);
            let origin = origin.clone();
            s.spawn(move || {
                for chunk in raw_rx {
                    let prepared = chunk
                        .into_iter()
                        .map(|(key, bytes)| {
                            let (decoded, statement) = Record::decode_with_statement(&bytes, Some(&origin));
                            Prepared { hash: hash_record_bytes(&bytes), decoded, statement, key }
                        })
                        .collect();
                    if out_tx.send(prepared).is_err() {
                        return;
                    }
                }
            });
            to_workers.push(raw_tx);
            from_workers.push(out_rx);
        }
        let scanner = s.spawn(move || -> Result<(), StoreError> {
            let mut chunk = Vec::with_capacity(CHUNK);
            let mut turn = 0usize;
            let mut stopped = false;
            store.scan(Seq(start), &mut |key, bytes| {
                chunk.push((key.to_vec(), bytes.to_vec()));
                if chunk.len() == CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                    if to_workers[turn % to_workers.len()].send(full).is_err() {
                        stopped = true;
                        return ControlFlow::Break(());
                    }
                    turn += 1;
                }
                ControlFlow::Continue(())
            })?;
            if !stopped && !chunk.is_empty() {
                let _ = to_workers[turn % to_workers.len()].send(chunk);
            }
            Ok(())
        });
        'chunks: for turn in 0.. {
            let Ok(chunk) = from_workers[turn % from_workers.len()].recv() else { break };
            let mut hashes = Vec::with_capacity(chunk.len());
            for p in chunk {
                match v.check_decoded(&p.key, p.decoded, p.hash, p.statement) {
                    Ok((rec, hash)) => {
                        v.accept(&rec, hash);
                        hashes.push(hash);
                        if folding {
                            accepted.push((rec, hash));
                        }
                    }
                    Err(b) => {
                        bad = Some(b);
                        break 'chunks;
                    }
                }
                if v.records() % 65_536 == 0 {
                    progress(v.records());
                }
            }
            if folding && !accepted.is_empty() {
                let chunk = std::mem::replace(&mut accepted, Vec::with_capacity(CHUNK));
                // The folder stops (and hangs up) once it has passed the watermark.
                folding = to_folder.send(chunk).is_ok();
            }
            if tree_open && !hashes.is_empty() {
                tree_open = to_tree.send(hashes).is_ok();
            }
            if v.pending_len() >= SIGNATURE_BATCH {
                let _ = to_signers.send(v.take_pending());
            }
        }
        drop(to_tree);
        drop(to_signers);
        for signer in signers {
            let _ = signer.join();
        }
        for failed in sig_results.try_iter() {
            v.signature_failed(failed);
        }
        tree_differences = tree.join().unwrap_or_else(|_| Ok(vec!["the tree comparison panicked".into()]))?;
        drop(to_folder);
        replayed = folder.join().unwrap_or(None);
        // Dropping the receivers stops the workers and the scanner early after a bad record.
        drop(from_workers);
        scanner.join().unwrap_or_else(|_| Err(StoreError::Engine("the scanning thread panicked".into())))
    });
    match scanned {
        Ok(()) => {}
        // The engine cannot read on (a damaged data file): what was read verified, the rest cannot be.
        Err(StoreError::Engine(why) | StoreError::Damaged(why)) if bad.is_none() => {
            bad = Some(Bad { seq: v.records(), problem: Problem::StoreUnreadable { why } })
        }
        Err(e) => return Err(e.into()),
    }
    progress(v.records());
    if let Some(b) = bad.take() {
        // A broken link may mean the record before was changed: look at the next one to tell.
        let this = store.get(Seq(b.seq)).ok().flatten();
        let next = store.get(Seq(b.seq + 1)).ok().flatten();
        bad = Some(v.attribute(b, this.as_deref(), next.as_deref()));
    }
    let derived = match (&bad, &stored) {
        (Some(_), _) | (None, Stored::None | Stored::Unusable(_)) => Vec::new(),
        (None, Stored::Tampered) => {
            let mut d =
                vec!["its values do not add up to the digest in its watermark (changed behind its back)".into()];
            d.extend(derived_differences(store, mark, replayed.as_ref())?);
            d
        }
        (None, Stored::At(_)) => derived_differences(store, mark, replayed.as_ref())?,
    };
    let point = v.resume_point();
    let mut report = v.finish(bad);
    report.resumed_from = resume.map(|r| r.records);
    for t in earlier {
        if report.ok && !t.meets_policy {
            let problem = Problem::NotWitnessed { checkpoint: t.label.clone(), witnesses: t.witnesses.clone() };
            report.ok = false;
            report.problem_kind = Some(problem.kind());
            report.problem = Some(problem.to_string());
        }
        report.checkpoints.push(CheckpointCheck {
            checkpoint: t.label,
            size: t.size,
            consistent: Some(true),
            witnesses: t.witnesses,
            meets_policy: t.meets_policy,
        });
    }
    let derived_problem = if !derived.is_empty() {
        Some(Problem::DerivedMismatch { tree: "stored projection", differences: derived })
    } else if !tree_differences.is_empty() && report.first_bad_seq.is_none() {
        Some(Problem::DerivedMismatch { tree: "stored Merkle tree", differences: tree_differences })
    } else {
        None
    };
    if let Some(problem) = derived_problem.filter(|_| report.ok) {
        report.ok = false;
        report.problem_kind = Some(problem.kind());
        report.problem = Some(problem.to_string());
    }
    let point = point.filter(|_| report.ok);
    Ok((report, point))
}

/// Whether a verification can go on from `r`: the log still holds the record it ended at, record 0
/// names its ledger, and every checkpoint it covered is consistent with the tree it verified, by a
/// consistency proof from the log's stored Merkle tree.
fn resumable<S: Store + ?Sized>(store: &S, r: &Resume, trusted: &[Trusted]) -> bool {
    let Some(last) = r.records.checked_sub(1) else { return false };
    let holds = |seq: u64| store.get(Seq(seq)).ok().flatten();
    if holds(last).map(|b| hash_record_bytes(&b)) != Some(r.last)
        || holds(0).and_then(|b| crate::record::origin_of(&b)).as_deref() != Some(r.origin.as_str())
    {
        return false;
    }
    let root = r.tree.root();
    let reader = crate::tree::Stored(store);
    trusted.iter().filter(|t| t.size <= r.records).all(|t| {
        if t.size == r.records {
            return t.root == root;
        }
        t.size > 0
            && crate::merkle::prove_consistency(t.size, r.records, &reader)
                .and_then(|proof| crate::merkle::check_consistency(&proof, t.size, &t.root, r.records, &root))
                .is_ok()
    })
}

/// Compares the stored Merkle tree (the hashes under `t/`, as many leaves as `t-size` claims) with
/// the tree of the record hashes received, in order. Returns what differs, in words (at most 20).
fn compare_tree<S: Store + ?Sized>(
    store: &S,
    rx: std::sync::mpsc::Receiver<Vec<Hash>>,
) -> Result<Vec<String>, StoreError> {
    use crate::merkle::{split_stored_hash_index, stored_hash_count};
    let claimed = store
        .derived_get(crate::tree::SIZE_KEY)?
        .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
        .map(u64::from_be_bytes);
    let mut frontier = Frontier::default();
    let mut computed = std::collections::VecDeque::new();
    let mut next_index = 0u64;
    let mut out = Vec::new();
    let Some(claimed) = claimed else {
        // No stored tree (a ledger no writer opened since it was made): nothing to compare.
        return Ok(out);
    };
    let limit = stored_hash_count(claimed.min(crate::merkle::MAX_TREE_SIZE));
    let mut more = true;
    let pull = |computed: &mut std::collections::VecDeque<[u8; 32]>, frontier: &mut Frontier| match rx.recv() {
        Ok(chunk) => {
            for h in chunk {
                if let Ok(added) = frontier.push(crate::tree::leaf(&h)) {
                    computed.extend(added);
                }
            }
            true
        }
        Err(_) => false,
    };
    let describe = |index: u64| {
        let (level, n) = split_stored_hash_index(index);
        format!("stored Merkle hash {index} (level {level}, subtree {n})")
    };
    store.derived_scan(crate::tree::PREFIX, &mut |k, value| {
        let Some(index) = k.get(crate::tree::PREFIX.len()..).and_then(|i| <[u8; 8]>::try_from(i).ok()) else {
            out.push(format!(
                "the stored Merkle tree holds a key that is not an index ({:?})",
                String::from_utf8_lossy(k)
            ));
            return ControlFlow::Continue(());
        };
        let index = u64::from_be_bytes(index);
        if index >= limit {
            return ControlFlow::Break(());
        }
        while more && next_index + (computed.len() as u64) <= index {
            more = pull(&mut computed, &mut frontier);
        }
        if next_index + (computed.len() as u64) <= index {
            // The stored tree claims more leaves than the log has records.
            out.push(format!(
                "the stored Merkle tree claims {claimed} leaves but the log has {} records",
                frontier.size()
            ));
            return ControlFlow::Break(());
        }
        while next_index < index {
            computed.pop_front();
            out.push(format!("{} is missing", describe(next_index)));
            next_index += 1;
        }
        let expected = computed.pop_front();
        next_index += 1;
        if expected.as_ref().map(|e| e.as_slice()) != Some(value) {
            out.push(format!("{} differs from the log's", describe(index)));
        }
        if out.len() >= 20 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    })?;
    while more {
        more = pull(&mut computed, &mut frontier);
        computed.clear();
    }
    let expected = stored_hash_count(claimed.min(frontier.size()));
    if out.is_empty() && next_index < expected {
        out.push(format!("stored Merkle hashes {next_index} to {} are missing", expected - 1));
    }
    Ok(out)
}

/// What differs between the stored projection (whose watermark is `mark`) and `replayed`, the fold of
/// the log through the record at the watermark's seq, with that record's hash.
fn derived_differences<S: Store + ?Sized>(
    store: &S,
    mark: Option<Head>,
    replayed: Option<&(State, Hash)>,
) -> Result<Vec<String>, StoreError> {
    match mark {
        None => crate::projection::compare_stored(store, &State::default(), None),
        Some(m) => match replayed {
            Some((state, hash)) if *hash == m.hash => crate::projection::compare_stored(store, state, Some(m)),
            _ => Ok(vec![format!(
                "its watermark (record {}, hash {}) is not a record of this log",
                m.seq,
                m.hash.to_hex()
            )]),
        },
    }
}

/// Verifies a bundle without a store: the same checks as [`verify_store`], per line, plus that each
/// line's JSON fields match its stored bytes. With `expected_head`, the last record must have that
/// hash (this is what catches a bundle with its newest lines removed). `progress` gets the lines read
/// so far.
pub fn verify_bundle(
    input: &mut dyn BufRead,
    expected_head: Option<Hash>,
    progress: &mut dyn FnMut(u64),
) -> Result<Report, std::io::Error> {
    verify_bundle_with(input, expected_head, progress, &mut |_, _, _| Ok(()))
}

/// What [`verify_bundle_with`] calls with each verified record: the record, its hash, its stored bytes.
pub type OnRecord<'a> = dyn FnMut(&Record, Hash, &[u8]) -> Result<(), std::io::Error> + 'a;

/// [`verify_bundle`], calling `each` with every record that verified (decoded, its hash, its stored
/// bytes), in order, as soon as it has; an error from `each` stops the walk and is returned.
pub fn verify_bundle_with(
    input: &mut dyn BufRead,
    expected_head: Option<Hash>,
    progress: &mut dyn FnMut(u64),
    each: &mut OnRecord<'_>,
) -> Result<Report, std::io::Error> {
    verify_bundle_against(input, expected_head, Vec::new(), progress, each)
}

/// [`verify_bundle_with`], holding the bundle to checkpoints ([`Verifier::hold_to`]).
pub fn verify_bundle_against(
    input: &mut dyn BufRead,
    expected_head: Option<Hash>,
    trusted: Vec<Trusted>,
    progress: &mut dyn FnMut(u64),
    each: &mut OnRecord<'_>,
) -> Result<Report, std::io::Error> {
    let mut verifier = Verifier::for_bundle();
    verifier.hold_to(trusted);
    let mut offset = 0;
    let mut line = Vec::new();
    let mut lineno = 0u64;
    let mut bad = None;
    loop {
        line.clear();
        let too_long = read_line(input, &mut line)?;
        if line.is_empty() && !too_long {
            break;
        }
        lineno += 1;
        if lineno == 1 && line.starts_with(b"\xef\xbb\xbf") {
            // A byte-order mark, as some editors write: not part of the record.
            line.drain(..3);
        }
        if line.iter().all(u8::is_ascii_whitespace) && !too_long {
            // A blank last line (an editor's final newline) is no record; a blank line before more
            // lines is refused below like any other line that is not a record.
            let mut rest = Vec::new();
            if !read_line(input, &mut rest)? && rest.is_empty() {
                lineno -= 1;
                break;
            }
            bad = Some(Bad { seq: verifier.records(), problem: Problem::BadLine { why: "the line is empty".into() } });
            break;
        }
        let checked = if too_long {
            Err(Box::new((
                Bad {
                    seq: verifier.records(),
                    problem: Problem::BadLine {
                        why: format!(
                            "the line is longer than {} bytes, longer than any record's rendering",
                            crate::export::MAX_LINE_BYTES
                        ),
                    },
                },
                None,
            )))
        } else {
            check_line(&mut verifier, &line, &mut offset)
        };
        if let Ok((rec, hash, bytes)) = &checked {
            each(rec, *hash, bytes)?;
        }
        if let Err(failure) = checked {
            let (b, this) = *failure;
            // A broken link may mean the line before was changed: the next line tells.
            let mut next = Vec::new();
            read_line(input, &mut next)?;
            let next_bytes = BundleLine::parse(&next).ok().map(|l| l.bytes);
            let b = verifier.attribute(b, this.as_deref(), next_bytes.as_deref());
            lineno -= verifier.records() - b.seq.min(verifier.records());
            bad = Some(b);
            break;
        }
        if lineno.is_multiple_of(65_536) {
            progress(lineno);
        }
    }
    progress(lineno);
    let records = verifier.records();
    let mut report = verifier.finish(bad.clone());
    if bad.is_some() {
        report.first_bad_line = Some(lineno);
    } else if records == 0 {
        // An empty bundle lacks record 0, which would have been its first line.
        report.first_bad_line = Some(1);
    } else if let Some(expected) = expected_head
        && report.head.as_deref() != Some(expected.to_hex().as_str())
    {
        let problem = Problem::BadLine {
            why: format!(
                "the bundle ends with {} but the expected head is {expected}: records were changed or removed at the end",
                report
                    .head
                    .as_deref()
                    .map_or("no records".to_string(), |h| format!("record {} hashing to {h}", records - 1))
            ),
        };
        // The record after the last one is the first that is not what was expected (the bundle's last
        // record may itself have been changed instead: the message says both).
        report.ok = false;
        report.first_bad_seq = Some(records);
        report.first_bad_line = Some(records + 1);
        report.problem_kind = Some(problem.kind());
        report.problem = Some(problem.to_string());
    }
    Ok(report)
}

/// Reads one line (through its `\n`) into `line`, at most [`crate::export::MAX_LINE_BYTES`] of it;
/// returns whether the line was longer (then reading stops there). `line` is empty at the end of input.
fn read_line(input: &mut dyn BufRead, line: &mut Vec<u8>) -> Result<bool, std::io::Error> {
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(false);
        }
        let (n, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        let room = crate::export::MAX_LINE_BYTES.saturating_sub(line.len());
        if n > room {
            line.extend_from_slice(&buf[..room]);
            input.consume(room);
            return Ok(true);
        }
        line.extend_from_slice(&buf[..n]);
        input.consume(n);
        if done {
            return Ok(false);
        }
    }
}

/// A failed line: why, and the line's stored bytes when it had readable ones.
type LineFailure = Box<(Bad, Option<Vec<u8>>)>;

/// Checks one bundle line and folds its record in; returns the record, its hash and its bytes.
fn check_line(verifier: &mut Verifier, line: &[u8], offset: &mut i32) -> Result<(Record, Hash, Vec<u8>), LineFailure> {
    let seq = verifier.records();
    let bad = |why: String| Box::new((Bad { seq, problem: Problem::BadLine { why } }, None));
    let parsed = BundleLine::parse(line).map_err(bad)?;
    let (rec, hash) = match verifier.check_next(&Seq(parsed.seq).key(), &parsed.bytes) {
        Ok(checked) => checked,
        Err(b) => return Err(Box::new((b, Some(parsed.bytes)))),
    };
    if let crate::event::Event::LedgerOpened(o) = &rec.event {
        *offset = o.utc_offset_minutes;
    }
    check_fields(&parsed, &rec, hash, *offset).map_err(bad)?;
    verifier.accept(&rec, hash);
    Ok((rec, hash, parsed.bytes))
}

#[cfg(test)]
mod bundle_tests {
    use super::*;

    /// A bundle of a small ledger, as `export` writes it.
    fn bundle() -> Vec<u8> {
        let mut ledger = crate::ledger::Ledger::with_store(
            crate::store::MemStore::new(),
            Box::new(crate::date::ManualClock::at(Timestamp::parse("2024-06-01T09:00:00+08:00").unwrap())),
        )
        .unwrap();
        let opened = crate::command::OpenLedger {
            title: "t".into(),
            origin: "example.test/bundle".into(),
            utc_offset_minutes: 480,
            admin: crate::ids::ActorId::new("admin").unwrap(),
            admin_name: "admin".into(),
            vocabulary: crate::vocab::Vocabulary::default_v1(),
            admin_key: None,
        };
        ledger.init(opened, crate::command::RegisterArea::seed()).unwrap();
        let mut out = Vec::new();
        crate::export::export(&ledger, &mut out, &mut |_| {}).unwrap();
        out
    }

    fn verify(bytes: &[u8]) -> Report {
        verify_bundle(&mut &bytes[..], None, &mut |_| {}).unwrap()
    }

    #[test]
    fn an_honest_bundle_with_a_bom_or_a_trailing_blank_line_verifies() {
        let b = bundle();
        assert!(verify(&b).ok);
        let with_bom = [&b"\xef\xbb\xbf"[..], &b].concat();
        assert!(verify(&with_bom).ok, "{:?}", verify(&with_bom));
        let with_blank = [&b[..], b"\n"].concat();
        assert!(verify(&with_blank).ok, "{:?}", verify(&with_blank));
        assert_eq!(verify(&with_blank).records, verify(&b).records);
    }

    #[test]
    fn a_blank_line_between_records_is_refused() {
        let b = bundle();
        let first = b.iter().position(|c| *c == b'\n').unwrap() + 1;
        let doctored = [&b[..first], b"\n", &b[first..]].concat();
        let r = verify(&doctored);
        assert!(!r.ok);
        assert_eq!(r.first_bad_line, Some(2));
    }

    #[test]
    fn a_duplicate_key_is_refused_even_when_the_last_value_is_right() {
        let b = bundle();
        let text = String::from_utf8(b).unwrap();
        let first = text.lines().next().unwrap();
        // A fake `"event"` before the real one: serde keeps the last, a reader's eye the first.
        let doctored_line = first.replacen("{\"seq\"", "{\"event\":{\"title\":\"forged\"},\"seq\"", 1);
        let doctored = text.replacen(first, &doctored_line, 1);
        let r = verify(doctored.as_bytes());
        assert!(!r.ok, "{r:?}");
        assert_eq!(r.first_bad_line, Some(1));
        assert!(r.problem.unwrap().contains("canonical"));
    }

    #[test]
    fn an_endless_line_is_refused_without_reading_it_all() {
        // 64 MiB of zeroes (no newline): stopped at the cap, named as too long.
        let mut zeros = std::io::BufReader::new(std::io::Read::take(std::io::repeat(0), 64 * 1024 * 1024));
        let r = verify_bundle(&mut zeros, None, &mut |_| {}).unwrap();
        assert!(!r.ok);
        assert_eq!(r.first_bad_line, Some(1));
        assert!(r.problem.unwrap().contains("longer than"), "names the cause");
    }
}
