//! commitment-ledger: a tamper-evident, event-sourced record of public commitments and of every
//! update to them.
//!
//! The append-only log is the only truth. Every record is hash-chained with BLAKE3 and stored in sled;
//! the current state of every item is a projection that can be thrown away and rebuilt from the log.
//!
//! # How data flows
//!
//! - **Appends**: a [`Command`] (from the CLI, an import document, a request) → [`rules::decide`]
//!   checks it against the current [`State`] (the rules read it through [`Facts`]) and builds the
//!   [`Event`] → the [`Ledger`] wraps it in a [`Record`] (seq, link to the previous hash, time, actor,
//!   stream position) signed with the actor's key from its [`keyring::Keyring`] (or takes a
//!   [`SignedStatement`] an actor signed elsewhere) → its bytes go to the [`Store`] in one durable write per batch or group, and the
//!   witness of the acknowledged head after it → the record is folded into the projection
//!   ([`State::apply`], pure).
//!   [`Writer`] runs this for many concurrent callers: it decides a group in order, writes the
//!   accepted records with one flush and answers each caller with its own result.
//! - **Reads** use the projection as of the head ([`Ledger::item`], [`Ledger::state`], or a
//!   [`Snapshot`] a writer publishes), or a replay of the log as of an earlier moment
//!   ([`Ledger::replay`]), folded in memory.
//! - **Verification** ([`verify_store`], [`verify_bundle`]) walks the stored bytes (or an export
//!   bundle), rechecking every link, hash and rule with the same [`rules::check`] code, in memory
//!   bounded by the number of items, and every signature against the key its actor had then; then
//!   the acknowledged head, the stored projection, the stored Merkle tree, and the checkpoints and
//!   witnesses it is held to. Reads and verification write nothing ([`Ledger::open_read`]).
//! - **Publishing**: the log's Merkle tree ([`merkle`], kept by `tree`) gives signed checkpoints
//!   ([`publish`]), proofs a third party checks without the ledger ([`proof`]) and cosignatures by
//!   witnesses ([`witness`]).
//!
//! # Layout
//!
//! - `ids`, `date`, `vocab`: identities, dates and clocks, the ledger's vocabularies.
//! - `event`: the events, listed once; `codec`: the pinned bincode configuration; `record`: the
//!   record envelope, its bytes and its hash.
//! - `command`: what callers ask for; `decide`: every rule, pure.
//! - `keys`, `keyring`: Ed25519 keys and key files; the actors' keys at hand.
//! - `merkle`: RFC 6962 trees, pure; `tree`: the log's tree in the store; `note`, `checkpoint`: C2SP
//!   signed notes, checkpoints and cosignatures; `publish`, `proof`, `witness`: the ledger's
//!   checkpoints, proofs, and cosigning.
//! - `state`: the pure fold of the log; `projection`: the fold kept in the store with its watermark.
//! - `store`: the storage trait and its in-memory twin; `sled_store`: the on-disk store (the only
//!   module that imports sled).
//! - `ledger`: the single writer tying them together, reads and replays; `writer`: group commit.
//! - `verify`: the checker and its two drivers (store, bundle); `at`: `verify --at SEQ:HASH` points;
//!   `export`: bundles, their line format, restore.
//! - `import`: import documents; `demo`: the seed reply and a simulated year; `summary` and `view`:
//!   summaries and JSON views.
#![deny(missing_docs, unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod at;
pub mod checkpoint;
mod codec;
mod command;
mod date;
mod decide;
pub mod demo;
mod event;
pub mod export;
mod ids;
pub mod import;
pub mod keyring;
pub mod keys;
mod ledger;
pub mod merkle;
pub mod note;
mod projection;
pub mod proof;
pub mod publish;
mod record;
mod sled_store;
mod state;
mod store;
pub mod summary;
mod tree;
mod verify;
pub mod view;
mod vocab;
pub mod witness;
mod writer;

pub use at::{At, AtCheck, AtError, AtForm, AtHash, apply_points, check_points};
pub use codec::{CodecError, MAX_RECORD_BYTES, decode as decode_stored, encode as encode_stored};
pub use command::{
    Amend, Categorize, Command, Correct, NewCommitment, OpenLedger, RecordFeedback, RecordIndicator, RecordSource,
    RegisterActor, RegisterArea, source_digest,
};
pub use date::{Clock, Date, DateError, Day, ManualClock, SystemClock, Timestamp, parse_utc_offset};
pub use decide::{MAX_NAME, MAX_TEXT, Rejection};
pub use event::{
    ActorRegistered, AreaRegistered, CommitmentAmended, CommitmentReassigned, CommitmentRecorded, EntryCorrected,
    Event, EventBody, EventType, FeedbackRecorded, IndicatorRecorded, KeyRegistered, KeyRetired, LedgerOpened,
    ProgressReported, SourceCategorized, SourceRecorded, StatusChanged,
};
pub use ids::{ActorId, AreaId, Code, IdError, ItemId, Seq, SourceId, StreamId, StreamVersion};
pub use ledger::{Ledger, LedgerError, TailDecision, Until};
pub use projection::PROJECTION_FORMAT;
pub use record::{
    Hash, Head, RECORD_CONTEXT, RECORD_CONTEXT_V2, RECORD_FORMAT, RECORD_FORMAT_UNSIGNED, Record, STATEMENT_CONTEXT,
    Signed, SignedStatement, Statement, hash_record_bytes, origin_of as record_origin, statement_bytes,
    stored_statement,
};
pub use sled_store::{PriorState, STORE_FORMAT, SledStore};
pub use state::{
    ActorState, AreaState, Correction, Facts, Indicator, IndicatorValue, ItemCore, ItemFold, ItemState, LedgerInfo,
    Progress, Registry, SourceState, State, StreamPos, Verdict,
};
pub use store::{MemStore, Store, StoreError};
pub use tree::leaf as tree_leaf;
pub use verify::{
    CheckpointCheck, MAX_ACTOR_SKEW, Problem, Report, Resume, Trusted, Verifier, verify_bundle, verify_bundle_against,
    verify_bundle_with, verify_store, verify_store_against, verify_store_resuming,
};
pub use vocab::{Kind, Role, SEED_AREAS, SourceKind, StatusDef, Term, Vocabulary};
pub use writer::{MAX_GROUP, Snapshot, Ticket, Writer, WriterError};

/// Rules as pure functions, for callers that decide without a ledger (verification, tests).
pub mod rules {
    pub use crate::decide::{check, check_decimal, check_name, check_text, decide, signing_key};
}
