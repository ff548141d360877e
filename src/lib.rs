//! commitment-ledger: a tamper-evident, event-sourced record of public commitments and of every
//! update to them.
//!
//! The append-only log is the only truth. Every record is hash-chained with BLAKE3 and stored in sled;
//! the current state of every item is a projection that can be thrown away and rebuilt from the log.
//!
//! # Layout
//!
//! - [`ids`]: sequence numbers, stream versions and the ids of items, actors, areas, sources.
//! - [`date`]: dates with their precision, and acceptance timestamps.
//! - [`vocab`]: the vocabularies a ledger defines (statuses, categories, verdicts, completion levels).
//! - [`event`]: the events, their type numbers and versions.
//! - [`codec`]: the one pinned bincode configuration.
//! - [`record`]: the record envelope, its bytes and its hash.
//! - [`decide`]: commands, and every rule about what may be appended.
//! - [`state`]: projections as pure folds (registry, item core, item state).
//! - [`projection`]: projections persisted with their watermark.
//! - [`store`]: the storage trait and its in-memory twin; [`sled_store`]: the on-disk store.
//! - [`demo`]: the seed reply and a simulated year of updates (the `demo` command).
//! - [`export`]: JSON-lines bundles of the whole log, and their verification without a store.
//! - [`import`]: import documents (TOML/JSON), validated against `schema/import.schema.json`.
//! - [`ledger`]: the single writer tying them together; reads, history, replay.
//! - [`verify`]: the streaming verifier and its report.
//! - [`summary`]: summaries by area, department and source.
//! - [`view`]: JSON views of records and items, and item filters.
#![deny(missing_docs, unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod codec;
pub mod date;
pub mod decide;
pub mod demo;
pub mod event;
pub mod export;
pub mod ids;
pub mod import;
pub mod ledger;
pub mod projection;
pub mod record;
pub mod sled_store;
pub mod state;
pub mod store;
pub mod summary;
pub mod verify;
pub mod view;
pub mod vocab;

pub use date::{Date, Timestamp};
pub use decide::{Command, NewCommitment, Rejection};
pub use event::Event;
pub use ids::{ActorId, AreaId, Code, ItemId, Seq, SourceId, StreamId, StreamVersion};
pub use ledger::{Appended, Clock, Head, Ledger, LedgerError, StateRead, SystemClock, Until};
pub use record::{Hash, Record};
pub use sled_store::SledStore;
pub use store::{MemStore, Store, StoreError};
pub use verify::Report;
