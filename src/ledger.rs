//! The ledger: one writer over a store. It decides each command against the projected state, appends
//! the resulting records durably, and answers reads from the projection; replays fold the log anew.

use crate::command::{Command, OpenLedger, RegisterArea};
use crate::date::{Clock, SystemClock, Timestamp};
use crate::decide::{self, Rejection};
use crate::event::Event;
use crate::ids::{ActorId, ItemId, Seq, StreamId};
use crate::keyring::Keyring;
use crate::merkle::Frontier;
use crate::projection::{Projection, Stored};
use crate::record::{Hash, Head, Record, Signed, SignedStatement, Statement, hash_record_bytes};
use crate::sled_store::SledStore;
use crate::state::{Facts, ItemState, Registry, State};
use crate::store::{Store, StoreError};
use crate::verify::Report;
use ed25519_dalek::Signer as _;
use std::ops::ControlFlow;
use std::path::Path;

/// Why a ledger operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// A command was refused; nothing was written. `index` is its position in the batch.
    #[error("{rejection}")]
    Rejected {
        /// Position of the refused command in its batch (0 for single appends).
        index: usize,
        /// Why.
        rejection: Rejection,
    },
    /// The store failed; nothing of the failed append was acknowledged.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored record could not be read.
    #[error("record {seq} is unreadable: {why} (run `commitments verify`)")]
    Corrupt {
        /// Its seq.
        seq: u64,
        /// What is wrong.
        why: String,
    },
    /// The log does not end where the store last acknowledged it; appending would hide the damage.
    #[error("the ledger is damaged and takes no appends: {0} (run `commitments verify`)")]
    Damaged(String),
    /// The log ends with records an append wrote but never acknowledged (it was interrupted between
    /// writing and acknowledging). An operator accepts or discards them before appending goes on.
    #[error(
        "records {first} to {last} were written by an append that did not finish and were never acknowledged; \
         check them with `commitments verify`, then keep them with `commitments recover --accept` or remove \
         them with `commitments recover --discard`"
    )]
    UnacknowledgedTail {
        /// The first unacknowledged record.
        first: Seq,
        /// The last.
        last: Seq,
    },
    /// The last record is stamped more than a day after this machine's clock: appends would inherit
    /// its time (times never go back), so they are refused.
    #[error(
        "the last record (record {seq}) is stamped {}, more than a day after this machine's clock ({}): its \
         time was moved forward, or the clock is wrong, and every append would inherit it; check the clock, and \
         the log with `commitments verify --checkpoint FILE --witness VKEY` (a witness's time bounds the records \
         it saw)",
        time.format(0),
        clock.format(0)
    )]
    HeadAhead {
        /// The last record.
        seq: Seq,
        /// Its time.
        time: Timestamp,
        /// This machine's clock.
        clock: Timestamp,
    },
    /// A key file could not be created or read.
    #[error(transparent)]
    Keys(#[from] crate::keyring::KeyringError),
    /// The Merkle tree cannot answer: a size beyond the log, or stored hashes missing or damaged.
    #[error("{0}")]
    Tree(String),
}

/// What an operator decides about an unacknowledged tail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TailDecision {
    /// Keep the records (after they verify) and acknowledge them.
    Accept,
    /// Remove them: the log ends at the acknowledged head again.
    Discard,
}

/// Up to where a replay goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Until {
    /// Through this record.
    Seq(Seq),
    /// Through the last record accepted at or before this time.
    Time(Timestamp),
}

/// A commitment ledger over a store.
pub struct Ledger<S: Store = SledStore> {
    store: S,
    clock: Box<dyn Clock>,
    head: Option<Head>,
    projection: Projection,
    damaged: Option<String>,
    /// The acknowledged head, when records follow it that were never acknowledged.
    tail_after: Option<Option<Head>>,
    /// What opening noticed and mended.
    notes: Vec<String>,
    /// The right edge of the log's Merkle tree (its stored hashes are in the store).
    tree: Frontier,
    /// The keys that sign appended records.
    keyring: Keyring,
}

impl<S: Store> std::fmt::Debug for Ledger<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("head", &self.head).field("damaged", &self.damaged).finish_non_exhaustive()
    }
}

impl Ledger<SledStore> {
    /// Opens the ledger in `dir`, which must exist, for appending (and reading).
    pub fn open(dir: &Path) -> Result<Ledger<SledStore>, LedgerError> {
        Ledger::with_store(SledStore::open(dir, false)?, Box::new(SystemClock))
    }

    /// Opens the ledger in `dir` for reading only ([`SledStore::open_read_only`]): nothing is written,
    /// a read-only directory works, and other readers are not refused. What the projection lacks is
    /// folded in memory.
    pub fn open_read(dir: &Path) -> Result<Ledger<SledStore>, LedgerError> {
        Ledger::with_store(SledStore::open_read_only(dir)?, Box::new(SystemClock))
    }

    /// Creates a ledger in `dir` (a new or empty directory) and appends its opening record and areas
    /// in one durable write. If that is refused, the store it created is removed again, so that a
    /// refused `init` leaves the directory as it found it.
    pub fn create(
        dir: &Path,
        opened: OpenLedger,
        areas: Vec<RegisterArea>,
    ) -> Result<(Ledger, Vec<Head>), LedgerError> {
        Ledger::create_with_clock(dir, opened, areas, Box::new(SystemClock))
    }

    /// [`Ledger::create`] with a clock of the caller's (the demo's simulated year).
    pub fn create_with_clock(
        dir: &Path,
        opened: OpenLedger,
        areas: Vec<RegisterArea>,
        clock: Box<dyn Clock>,
    ) -> Result<(Ledger, Vec<Head>), LedgerError> {
        let prior = SledStore::prior_state(dir);
        let mut ledger = Ledger::with_store(SledStore::open(dir, true)?, clock)?;
        // The key that signs the ledger's checkpoints (`commitments checkpoint`), made with the ledger.
        let made_key = ledger.head.is_none() && !dir.join(crate::publish::KEY_FILE).exists();
        let created = if made_key {
            crate::publish::create_ledger_key(dir)
                .map(|_| ())
                .map_err(|e| LedgerError::Keys(crate::keyring::KeyringError::LedgerKey(e.to_string())))
        } else {
            Ok(())
        };
        match created.and_then(|()| ledger.init(opened, areas)) {
            Ok(appended) => Ok((ledger, appended)),
            Err(e) => {
                if ledger.head.is_none() {
                    drop(ledger);
                    SledStore::remove_new(dir, prior);
                    if made_key {
                        let _ = std::fs::remove_file(dir.join(crate::publish::KEY_FILE));
                        let _ = std::fs::remove_file(dir.join(crate::publish::PUBLIC_KEY_FILE));
                    }
                    let _ = std::fs::remove_dir(dir.join(crate::keyring::KEYS_DIR));
                }
                Err(e)
            }
        }
    }
}

/// The heads of the accepted records of an all-or-nothing commit (all of them).
fn accepted(staged: Vec<Staged>) -> Vec<Head> {
    staged
        .into_iter()
        .filter_map(|s| match s {
            Staged::Accepted(h) => Some(h),
            Staged::Refused(_) => None,
        })
        .collect()
}

/// The origin a statement of `event` names: the ledger's, or for record 0 the one it opens.
fn origin_for(state: &State, event: &Event) -> String {
    match event {
        Event::LedgerOpened(e) => e.origin.clone(),
        _ => state.registry().info().map_or(String::new(), |i| i.origin.clone()),
    }
}

/// A new record at `seq` of `event` by `actor`, accepted `now`, continuing its stream; its link is
/// set when the records of a commit are chained.
fn new_record(
    state: &State,
    seq: Seq,
    now: Timestamp,
    actor: &ActorId,
    event: Event,
    signature: Option<Signed>,
) -> Record {
    let stream = event.stream();
    let pos = state.stream_pos(&stream);
    Record {
        seq,
        prev: Hash::ZERO,
        time: now,
        actor: actor.clone(),
        stream,
        stream_version: pos.next,
        stream_prev: pos.last,
        event_version: event.event_type().version(),
        event,
        signature,
    }
}

/// A record decided, before it is signed and chained: its seq is assigned, its link is not.
struct Draft {
    rec: Record,
    /// The key that signs it and the ledger's origin, when the ledger signs it (a statement signed
    /// elsewhere comes with its signature).
    sign_with: Option<(ed25519_dalek::SigningKey, String)>,
}

/// Refuses a record too large to be read back; `to_be_signed` counts the signature it will get.
fn check_size(rec: &Record, to_be_signed: bool) -> Result<(), Rejection> {
    // A signed record ends with the actor's time and signature (72 bytes) where an unsigned one ends
    // with the empty signature's tag (1 byte).
    let len = rec.encode().len() + if to_be_signed { 71 } else { 0 };
    if len > crate::codec::MAX_RECORD_BYTES {
        return Err(Rejection::InvalidField {
            field: "record",
            why: format!(
                "the record would be {len} bytes; the limit is {} (a record that large could never be read back)",
                crate::codec::MAX_RECORD_BYTES
            ),
        });
    }
    Ok(())
}

/// How far the last record's time may be ahead of the clock before appends are refused: a day.
const HEAD_AHEAD_LIMIT: i64 = 86_400_000_000;

/// Batches at least this large are signed on other threads while the ledger decides.
const PARALLEL_SIGNING: usize = 64;

/// Signs a draft the ledger signs, over its statement.
fn sign(d: &mut Draft, now: Timestamp) {
    if let Some((key, origin)) = d.sign_with.take() {
        let signature = key.sign(&d.rec.statement(&origin, now)).to_bytes();
        d.rec.signature = Some(Signed { actor_time: now, signature });
    }
}

/// What a commit is asked to append: a command the ledger decides and signs for its actor, or a
/// statement its actor signed elsewhere.
enum Submission {
    Command(ActorId, Command),
    Signed(SignedStatement),
}

fn tree_error(e: crate::merkle::MerkleError) -> LedgerError {
    LedgerError::Tree(format!("{e} (run `commitments verify`)"))
}

fn decode_at(seq: u64, bytes: &[u8]) -> Result<Record, LedgerError> {
    Record::decode(bytes).map_err(|e| LedgerError::Corrupt { seq, why: e.to_string() })
}

/// What staging a command left behind.
enum Staged {
    Accepted(Head),
    Refused(Rejection),
}

impl<S: Store> Ledger<S> {
    /// Opens a ledger over a store: derives the head from the log, compares it with the stored head,
    /// loads the projection and catches it up (or rebuilds it when its watermark is not on the log).
    pub fn with_store(store: S, clock: Box<dyn Clock>) -> Result<Ledger<S>, LedgerError> {
        let mut damaged = None;
        let head = match store.last()? {
            None => None,
            Some((key, _)) if Seq::from_key(&key).is_none() => {
                damaged = Some("the log holds a key that is not a sequence number".into());
                None
            }
            Some((key, bytes)) => {
                let seq = Seq::from_key(&key).unwrap_or_default();
                let time = match Record::decode(&bytes) {
                    Ok(r) => r.time,
                    Err(e) => {
                        damaged = Some(format!("the last record ({seq}) is unreadable: {e}"));
                        Timestamp(0)
                    }
                };
                Some(Head { seq, hash: hash_record_bytes(&bytes), time })
            }
        };
        let mut tail_after = None;
        match store.stored_head() {
            Ok(None) if head.is_some() && store.get(Seq(0))?.is_some() => {
                // Records, none acknowledged: an `init` whose write was interrupted.
                tail_after = Some(None);
            }
            Ok(Some(ack)) => match head {
                None => damaged = Some(format!("the store acknowledged record {} but the log is empty", ack.seq)),
                Some(h) if ack.seq > h.seq => {
                    damaged = Some(format!("the store acknowledged record {} but the log ends at {}", ack.seq, h.seq))
                }
                Some(h) => {
                    if store.get(ack.seq)?.map(|b| hash_record_bytes(&b)) != Some(ack.hash) {
                        damaged = Some(format!("record {} is not the record the store acknowledged", ack.seq));
                    } else if h.seq > ack.seq {
                        tail_after = Some(Some(ack));
                    }
                }
            },
            Ok(None) => {}
            Err(StoreError::HeadUnreadable(why)) => {
                damaged = Some(format!("the acknowledged head cannot be read ({why})"))
            }
            Err(e) => return Err(e.into()),
        }
        let mut ledger = Ledger {
            store,
            clock,
            head,
            projection: Projection::empty(),
            damaged,
            tail_after,
            notes: Vec::new(),
            tree: Frontier::default(),
            keyring: Keyring::default(),
        };
        if let Some(dir) = ledger.store.ledger_dir() {
            ledger.keyring = Keyring::in_dir(dir);
        } else if let Some(keys) = ledger.store.shared_keys() {
            ledger.keyring = Keyring::in_memory(keys);
        }
        ledger.load_projection()?;
        ledger.load_tree()?;
        Ok(ledger)
    }

    /// Loads the Merkle tree's frontier, rebuilding the stored tree from the log when it is missing,
    /// behind, or not of this log.
    fn load_tree(&mut self) -> Result<(), LedgerError> {
        if self.damaged.is_some() {
            return Ok(());
        }
        let records = self.head.map_or(0, |h| h.seq.0 + 1);
        let (tree, rebuilt) = crate::tree::open(&mut self.store, records, self.head.map(|h| h.hash))?;
        if rebuilt && records > 0 && self.store.writable() {
            self.notes.push(format!("the stored Merkle tree was rebuilt from the log ({records} records)"));
        }
        self.tree = tree;
        Ok(())
    }

    /// Loads the stored projection and catches it up to the head; rebuilds it when its watermark is
    /// not a record of this log (a restored backup, a damaged store, another format) or it is unreadable.
    fn load_projection(&mut self) -> Result<(), LedgerError> {
        let mut replace = false;
        let stored = match Projection::inspect(&self.store)? {
            Stored::None => None,
            Stored::Unusable(_) => {
                replace = true;
                None
            }
            Stored::Tampered => {
                self.notes.push(
                    "the stored projection's values do not add up to its digest (changed behind its back); \
                     the state was rebuilt from the log (run `commitments verify` to see what differed)"
                        .into(),
                );
                replace = true;
                None
            }
            Stored::At(_) => match Projection::load(&self.store)? {
                Some(p) => match p.mark() {
                    None => Some(p),
                    Some(m) => {
                        let on_log = self.head.is_some_and(|h| h.seq >= m.seq)
                            && self.store.get(m.seq)?.map(|b| hash_record_bytes(&b)) == Some(m.hash);
                        replace |= !on_log;
                        on_log.then_some(p)
                    }
                },
                None => None,
            },
        };
        self.projection = stored.unwrap_or_else(Projection::empty);
        let bad = match self.head {
            None => None,
            Some(h) => match self.projection.catch_up(&mut self.store, h.seq) {
                Ok(bad) => bad,
                Err(StoreError::DerivedCorrupt(_)) => {
                    replace = true;
                    self.projection = Projection::empty();
                    self.projection.catch_up(&mut self.store, h.seq)?
                }
                Err(e) => return Err(e.into()),
            },
        };
        if replace {
            // What was stored is not this projection: replace all of it, so that no stale or foreign
            // value survives (a reader keeps the rebuilt state in memory only).
            self.projection.replace_stored(&mut self.store)?;
        }
        if let Some(bad) = bad {
            self.damaged.get_or_insert(bad);
        }
        Ok(())
    }

    /// The keys that sign this ledger's appends: by default (for a ledger opened with
    /// [`Ledger::open`]) the `keys/` folder of its directory.
    pub fn keyring_mut(&mut self) -> &mut Keyring {
        &mut self.keyring
    }

    /// What opening the ledger noticed and mended on its own (derived data rebuilt from the log).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Replaces the clock (tests, demos, imports of historical material).
    pub fn set_clock(&mut self, clock: Box<dyn Clock>) {
        self.clock = clock;
    }

    /// The last record, if any.
    pub fn head(&self) -> Option<Head> {
        self.head
    }

    /// Why the ledger refuses appends, if it does.
    pub fn damage(&self) -> Option<&str> {
        self.damaged.as_deref()
    }

    /// The records after the acknowledged head that no append acknowledged (first, last), if any.
    pub fn unacknowledged(&self) -> Option<(Seq, Seq)> {
        let after = self.tail_after?;
        let head = self.head?;
        Some((after.map_or(Seq(0), |a| a.seq.next()), head.seq))
    }

    /// Accepts or discards an unacknowledged tail (see [`LedgerError::UnacknowledgedTail`]). Accepting
    /// verifies the whole log first and refuses an unsound one. Returns the records decided about.
    pub fn resolve_tail(&mut self, decision: TailDecision) -> Result<Option<(Seq, Seq)>, LedgerError> {
        let Some(range) = self.unacknowledged() else { return Ok(None) };
        if let Some(why) = &self.damaged {
            return Err(LedgerError::Damaged(why.clone()));
        }
        match decision {
            TailDecision::Accept => {
                let report = self.verify(&mut |_| {})?;
                if !report.ok {
                    return Err(LedgerError::Damaged(format!(
                        "the log does not verify ({}), so its tail cannot be accepted",
                        report.problem.unwrap_or_default()
                    )));
                }
                let head = self.head.ok_or_else(|| LedgerError::Damaged("the log is empty".into()))?;
                self.store.acknowledge(&head)?;
            }
            TailDecision::Discard => {
                let keep = self.tail_after.flatten();
                self.store.discard_after(keep.map(|h| h.seq))?;
                self.head = keep;
                self.load_projection()?;
                self.load_tree()?;
            }
        }
        self.tail_after = None;
        Ok(Some(range))
    }

    /// Ledger-wide facts as of the head.
    pub fn registry(&self) -> &Registry {
        self.projection.state().registry()
    }

    /// The state as of the head, with the items loaded so far (all of them after
    /// [`Ledger::load_all`]). Cloning it is cheap: it is the snapshot a writer publishes.
    pub fn state(&self) -> &State {
        self.projection.state()
    }

    /// Loads every item into memory, so that [`Ledger::state`] holds them all.
    pub fn load_all(&mut self) -> Result<(), LedgerError> {
        match self.projection.load_all(&self.store) {
            Err(StoreError::DerivedCorrupt(_)) => {
                self.rebuild_projection()?;
                Ok(())
            }
            other => Ok(other?),
        }
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store, for tests that damage it.
    #[cfg(any(test, feature = "testing"))]
    pub fn store_mut_for_tests(&mut self) -> &mut S {
        &mut self.store
    }

    /// Opens an empty ledger: record 0 and, in the same durable write, the given areas.
    pub fn init(&mut self, opened: OpenLedger, areas: Vec<RegisterArea>) -> Result<Vec<Head>, LedgerError> {
        let admin = opened.admin.clone();
        let mut commands = vec![(admin.clone(), Command::Open(opened))];
        commands.extend(areas.into_iter().map(|a| (admin.clone(), Command::RegisterArea(a))));
        self.append_batch(commands)
    }

    /// Who appends a command when no actor is named: the item's lead for progress, status changes,
    /// figures and corrections; the ledger's administrator otherwise (and for work that is not one
    /// command, such as an import: `None`). None before record 0.
    pub fn default_actor(&mut self, command: Option<&Command>) -> Result<Option<ActorId>, LedgerError> {
        if let Some(command) = command.filter(|c| c.lead_appends())
            && let Some(id) = command.item()
            && let Some(item) = self.item(id)?
        {
            return Ok(Some(item.core.lead));
        }
        Ok(self.registry().info().map(|i| i.admin.clone()))
    }

    /// Loads an item into the projection's memory; an unreadable stored projection is rebuilt first.
    fn load_item(&mut self, id: &ItemId) -> Result<(), LedgerError> {
        match self.projection.load_item(&self.store, id) {
            Ok(_) => Ok(()),
            Err(StoreError::DerivedCorrupt(_)) => {
                self.rebuild_projection()?;
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// One item as of the head.
    pub fn item(&mut self, id: &ItemId) -> Result<Option<ItemState>, LedgerError> {
        self.load_item(id)?;
        Ok(self.projection.state().get(id).cloned())
    }

    /// Calls `f` with every item as of the head, in id order. Every stored item is checked to decode
    /// before any is handed out, so that a rebuild never shows an item twice.
    pub fn for_each_item(&mut self, f: &mut dyn FnMut(&ItemState)) -> Result<(), LedgerError> {
        match self.projection.for_each_item(&self.store, &mut |_| {}) {
            Err(StoreError::DerivedCorrupt(_)) => {
                self.rebuild_projection()?;
            }
            other => other?,
        }
        Ok(self.projection.for_each_item(&self.store, f)?)
    }

    /// Appends one command as one record, durably.
    pub fn append(&mut self, actor: &ActorId, command: Command) -> Result<Head, LedgerError> {
        let mut out = self.append_batch(vec![(actor.clone(), command)])?;
        Ok(out.remove(0))
    }

    /// Appends commands as consecutive records in one durable write: all of them or, if any is
    /// refused or the store fails, none. Each command is decided against the state left by the ones
    /// before it. (An import, an `init`.)
    pub fn append_batch(&mut self, commands: Vec<(ActorId, Command)>) -> Result<Vec<Head>, LedgerError> {
        let staged = self.commit(commands.into_iter().map(|(a, c)| Submission::Command(a, c)).collect(), true)?;
        Ok(accepted(staged))
    }

    /// Decides a command as `actor` against the current state, as an append would, and returns the
    /// statement the actor signs for it: the event, the stream version it will get if nothing else is
    /// appended to its stream first, and the ledger's time now. Writes nothing.
    pub fn prepare(&mut self, actor: &ActorId, command: Command) -> Result<Statement, LedgerError> {
        if let Some(id) = command.item() {
            self.load_item(id)?;
        }
        let now = self.clock.now().max(self.head.map_or(Timestamp(0), |h| h.time));
        let state = self.projection.state();
        let event = decide::decide(state, actor, now, command)
            .map_err(|rejection| LedgerError::Rejected { index: 0, rejection })?;
        let stream_version = state.stream_pos(&event.stream()).next;
        Ok(Statement { actor: actor.clone(), stream_version, event, actor_time: now })
    }

    /// Appends statements signed by their actors elsewhere, in one durable write: all of them or, if
    /// any is refused (a signature that does not verify with the actor's registered key, a stream that
    /// moved on since it was prepared, an event the rules refuse now), none.
    pub fn append_signed(&mut self, statements: Vec<SignedStatement>) -> Result<Vec<Head>, LedgerError> {
        let staged = self.commit(statements.into_iter().map(Submission::Signed).collect(), true)?;
        Ok(accepted(staged))
    }

    /// Appends independent commands in one durable write (group commit): each is decided in order
    /// against the state the accepted ones before it left, a refused one does not fail its neighbours,
    /// and every accepted one is durable when this returns. The outer error is a store failure, after
    /// which nothing of the group was written.
    pub fn append_group(
        &mut self,
        commands: Vec<(ActorId, Command)>,
    ) -> Result<Vec<Result<Head, Rejection>>, LedgerError> {
        let staged = self.commit(commands.into_iter().map(|(a, c)| Submission::Command(a, c)).collect(), false)?;
        Ok(staged
            .into_iter()
            .map(|s| match s {
                Staged::Accepted(h) => Ok(h),
                Staged::Refused(r) => Err(r),
            })
            .collect())
    }

    /// Decides, stages and durably writes commands. With `atomic`, the first refusal refuses all.
    ///
    /// Staged records are folded into the projection before the write; when the batch is refused or
    /// the write fails, the projection is reloaded from the store and caught up to the durable head
    /// (the log is the truth), which is rare and keeps the common path free of copies.
    fn commit(&mut self, commands: Vec<Submission>, atomic: bool) -> Result<Vec<Staged>, LedgerError> {
        if let Some(why) = &self.damaged {
            return Err(LedgerError::Damaged(why.clone()));
        }
        if let Some((first, last)) = self.unacknowledged() {
            return Err(LedgerError::UnacknowledgedTail { first, last });
        }
        // The I/O first: every item the commands touch is in memory before anything is decided.
        for submission in &commands {
            let item = match submission {
                Submission::Command(_, command) => command.item().cloned(),
                Submission::Signed(s) => match s.statement.event.stream() {
                    StreamId::Item(id) => Some(id),
                    _ => None,
                },
            };
            if let Some(id) = item {
                self.load_item(&id)?;
            }
        }
        let clock = self.clock.now();
        // Times never go back, so a head stamped far ahead of the clock would be inherited by every
        // append: a record moved forward (or a clock gone wrong) stops appends until someone looks.
        if let Some(h) = self.head.filter(|h| h.time.0 > clock.0.saturating_add(HEAD_AHEAD_LIMIT)) {
            return Err(LedgerError::HeadAhead { seq: h.seq, time: h.time, clock });
        }
        let now = clock.max(self.head.map_or(Timestamp(0), |h| h.time));
        // Decide every command in order, each against the state the ones before it left; the records
        // are then signed (on every core: a statement does not depend on seq, link or time) and
        // chained.
        // Each command is decided in order, against the state the ones before it left; the drafts are
        // signed as they come (a statement depends on neither seq, link nor time), on other threads for
        // a large batch, while the next commands are decided; then they are chained.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
        let (decided, drafts) = if commands.len() >= PARALLEL_SIGNING && threads > 1 {
            let (to_sign, queue) = std::sync::mpsc::channel::<(usize, Draft)>();
            let queue = std::sync::Mutex::new(queue);
            std::thread::scope(|s| {
                let (signed_tx, signed_rx) = std::sync::mpsc::channel::<(usize, Draft)>();
                for _ in 0..threads {
                    let (queue, signed_tx) = (&queue, signed_tx.clone());
                    s.spawn(move || {
                        loop {
                            let next = queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner).recv();
                            let Ok((i, mut draft)) = next else { return };
                            sign(&mut draft, now);
                            if signed_tx.send((i, draft)).is_err() {
                                return;
                            }
                        }
                    });
                }
                drop(signed_tx);
                let mut sent = 0;
                let decided = self.decide_all(commands, now, atomic, &mut |draft| {
                    let _ = to_sign.send((sent, draft));
                    sent += 1;
                });
                drop(to_sign);
                let mut signed: Vec<(usize, Draft)> = signed_rx.iter().collect();
                signed.sort_unstable_by_key(|(i, _)| *i);
                (decided, signed.into_iter().map(|(_, d)| d).collect::<Vec<_>>())
            })
        } else {
            let mut drafts = Vec::with_capacity(commands.len());
            let decided = self.decide_all(commands, now, atomic, &mut |mut draft| {
                sign(&mut draft, now);
                drafts.push(draft);
            });
            (decided, drafts)
        };
        let (mut results, new_keys) = decided?;
        let mut head = self.head;
        let mut staged = Vec::with_capacity(drafts.len());
        let mut hashes = Vec::with_capacity(drafts.len());
        for Draft { mut rec, .. } in drafts {
            rec.prev = head.map_or(Hash::ZERO, |h| h.hash);
            let bytes = rec.encode();
            let hash = hash_record_bytes(&bytes);
            head = Some(Head { seq: rec.seq, hash, time: now });
            staged.push((rec.seq, bytes));
            hashes.push(hash);
        }
        let mut chained = hashes.iter();
        for r in &mut results {
            if let Staged::Accepted(h) = r {
                h.hash = *chained.next().expect("one hash per accepted record");
            }
        }
        if let Some(h) = head.filter(|_| !staged.is_empty()) {
            self.projection.set_mark(h);
        }
        // The keys made for new actors are written before their records, and removed again if the
        // records are not: all or nothing.
        if let Err(e) = self.keyring.persist(&new_keys) {
            self.load_projection()?;
            return Err(e.into());
        }
        if let Some(h) = head.filter(|_| !staged.is_empty())
            && let Err(e) = self.store.append(&staged, &h)
        {
            self.keyring.unpersist(&new_keys);
            self.load_projection()?;
            return Err(e.into());
        }
        self.head = head;
        self.grow_tree(&hashes);
        self.keyring.finalize(&new_keys)?;
        if self.projection.wants_write_back() {
            self.projection.write_back(&mut self.store)?;
        }
        Ok(results)
    }

    /// Decides submissions in order, folding each accepted draft into the projection and handing it to
    /// `accepted`. With `atomic`, the first refusal refuses all (the projection is reloaded). Returns
    /// what became of each submission and the keys made for accepted ones.
    fn decide_all(
        &mut self,
        commands: Vec<Submission>,
        now: Timestamp,
        atomic: bool,
        accepted: &mut dyn FnMut(Draft),
    ) -> Result<(Vec<Staged>, Vec<crate::keyring::Made>), LedgerError> {
        let mut next = self.head.map_or(Seq(0), |h| h.seq.next());
        let mut new_keys = Vec::new();
        let mut results = Vec::with_capacity(commands.len());
        for (index, submission) in commands.into_iter().enumerate() {
            let mut made = Vec::new();
            let state = self.projection.state();
            let staging = match submission {
                Submission::Command(actor, command) => {
                    let command = self.keyring.provide_key(command, &mut made);
                    Ledger::<S>::stage(state, &mut self.keyring, &actor, now, command, next)
                }
                Submission::Signed(signed) => Ledger::<S>::stage_signed(state, now, signed, next),
            };
            match staging {
                Ok(draft) => {
                    new_keys.append(&mut made);
                    // The fold reads neither the link nor the hash; the watermark gets the real head
                    // once the records are chained.
                    self.projection.apply(&draft.rec, Hash::ZERO);
                    next = next.next();
                    results.push(Staged::Accepted(Head { seq: draft.rec.seq, hash: Hash::ZERO, time: now }));
                    accepted(draft);
                }
                Err(rejection) if atomic => {
                    self.keyring.forget(&made);
                    self.keyring.forget(&new_keys);
                    if results.iter().any(|r| matches!(r, Staged::Accepted(_))) {
                        self.load_projection()?;
                    }
                    return Err(LedgerError::Rejected { index, rejection });
                }
                Err(rejection) => {
                    self.keyring.forget(&made);
                    results.push(Staged::Refused(rejection));
                }
            }
        }
        Ok((results, new_keys))
    }

    /// Adds durable records to the Merkle tree and stores its new hashes. They are derived data: if
    /// storing them fails, the records are still appended, and the next open rebuilds what is missing.
    fn grow_tree(&mut self, hashes: &[Hash]) {
        if hashes.is_empty() {
            return;
        }
        let first = self.tree.size();
        let mut added = Vec::with_capacity(hashes.len());
        for h in hashes {
            match self.tree.push(crate::tree::leaf(h)) {
                Ok(a) => added.push(a),
                // Only past 2^63 records.
                Err(e) => {
                    self.damaged.get_or_insert(e.to_string());
                    return;
                }
            }
        }
        if self.store.writable() {
            let _ = self.store.derived_write(crate::tree::puts(first, added, self.tree.size()));
        }
    }

    /// The number of records the Merkle tree covers (the log's length).
    pub fn tree_size(&self) -> u64 {
        self.tree.size()
    }

    /// The root of the Merkle tree of the first `size` records.
    pub fn tree_root(&self, size: u64) -> Result<crate::merkle::Hash, LedgerError> {
        self.check_tree_size(size)?;
        if size == self.tree.size() {
            return Ok(self.tree.root());
        }
        crate::merkle::tree_hash(size, &crate::tree::Stored(&self.store)).map_err(tree_error)
    }

    /// The RFC 6962 inclusion proof of record `seq` in the tree of the first `size` records.
    pub fn inclusion_proof(&self, seq: Seq, size: u64) -> Result<Vec<crate::merkle::Hash>, LedgerError> {
        self.check_tree_size(size)?;
        crate::merkle::prove_leaf(size, seq.0, &crate::tree::Stored(&self.store)).map_err(tree_error)
    }

    /// The RFC 6962 consistency proof from the tree of `old` records to the tree of `new` records.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<crate::merkle::Hash>, LedgerError> {
        self.check_tree_size(new)?;
        crate::merkle::prove_consistency(old, new, &crate::tree::Stored(&self.store)).map_err(tree_error)
    }

    fn check_tree_size(&self, size: u64) -> Result<(), LedgerError> {
        if size > self.tree.size() {
            return Err(LedgerError::Tree(format!(
                "the ledger has {} records, fewer than the {size} asked for",
                self.tree.size()
            )));
        }
        Ok(())
    }

    /// Checks a statement signed elsewhere and builds its record, its bytes and its hash.
    fn stage_signed(state: &State, now: Timestamp, signed: SignedStatement, seq: Seq) -> Result<Draft, Rejection> {
        let SignedStatement { statement, signature } = signed;
        let actor = statement.actor.clone();
        let refuse = |why: String| Rejection::BadStatement { actor: actor.clone(), why };
        decide::check(state, &actor, now, &statement.event)?;
        let key = decide::signing_key(state.registry(), &actor, &statement.event)?.ok_or_else(|| {
            refuse(format!("{actor} has no key: its records are appended unsigned, not as statements"))
        })?;
        let stream = statement.event.stream();
        let pos = state.stream_pos(&stream);
        if statement.stream_version != pos.next {
            return Err(refuse(format!(
                "it was prepared as version {} of stream {} but the stream is at version {} now (a record was \
                 appended to it since): prepare and sign it again",
                statement.stream_version,
                stream.to_text(),
                pos.next
            )));
        }
        if statement.actor_time.0 > now.0.saturating_add(crate::verify::MAX_ACTOR_SKEW) {
            return Err(refuse(format!(
                "it was signed at {}, after the ledger's time now ({}): the signer's clock is ahead",
                statement.actor_time.format(0),
                now.format(0)
            )));
        }
        let origin = origin_for(state, &statement.event);
        let verifying = key.verifying_key().map_err(|e| refuse(e.to_string()))?;
        let sig = ed25519_dalek::Signature::from_bytes(&signature);
        if !crate::keys::verify_strict(&verifying, &statement.bytes(&origin), &sig) {
            return Err(refuse(format!("the signature does not verify with {actor}'s registered key {}", key.short())));
        }
        let signed = Signed { actor_time: statement.actor_time, signature };
        let rec = new_record(state, seq, now, &actor, statement.event, Some(signed));
        check_size(&rec, false)?;
        Ok(Draft { rec, sign_with: None })
    }

    /// Decides one command and drafts its record: unsigned and unlinked yet, with the key that will
    /// sign it.
    fn stage(
        state: &State,
        keyring: &mut Keyring,
        actor: &ActorId,
        now: Timestamp,
        command: Command,
        seq: Seq,
    ) -> Result<Draft, Rejection> {
        let event = decide::decide(state, actor, now, command)?;
        let key = decide::signing_key(state.registry(), actor, &event)?;
        let rec = new_record(state, seq, now, actor, event, None);
        let sign_with = match key {
            None => None,
            Some(registered) => {
                let unavailable = |e: crate::keyring::KeyringError| Rejection::KeyUnavailable {
                    actor: actor.clone(),
                    why: e.to_string(),
                };
                let signing = keyring.key_for(actor, &registered).map_err(unavailable)?;
                Some((signing, origin_for(state, &rec.event)))
            }
        };
        check_size(&rec, sign_with.is_some())?;
        Ok(Draft { rec, sign_with })
    }

    /// Writes the projection back to the store (done when the ledger closes and every
    /// [`crate::projection::WRITE_BACK_EVERY`] records).
    pub fn close(mut self) -> Result<(), LedgerError> {
        self.projection.write_back(&mut self.store)?;
        Ok(())
    }

    /// One record.
    pub fn record(&self, seq: Seq) -> Result<Option<(Record, Hash)>, LedgerError> {
        match self.store.get(seq)? {
            None => Ok(None),
            Some(bytes) => Ok(Some((decode_at(seq.0, &bytes)?, hash_record_bytes(&bytes)))),
        }
    }

    /// Calls `f` with records from `from`, in order, until it breaks.
    pub fn for_each_record(
        &self,
        from: Seq,
        f: &mut dyn FnMut(&Record, Hash) -> ControlFlow<()>,
    ) -> Result<(), LedgerError> {
        for_each_record(&self.store, from, f)
    }

    /// Every record of an item's stream, oldest first, found by walking its stream links back from
    /// its last record.
    pub fn history(&mut self, id: &ItemId) -> Result<Option<Vec<(Record, Hash)>>, LedgerError> {
        let Some(item) = self.item(id)? else { return Ok(None) };
        let mut next = item.core.pos.last;
        let stream = StreamId::Item(id.clone());
        let mut out = Vec::new();
        while let Some(seq) = next {
            let (rec, hash) = self.record(seq)?.ok_or_else(|| LedgerError::Corrupt {
                seq: seq.0,
                why: format!("item {id}'s history leads to a missing record"),
            })?;
            if rec.stream != stream {
                return Err(LedgerError::Corrupt {
                    seq: seq.0,
                    why: format!("item {id}'s history leads to another stream"),
                });
            }
            next = rec.stream_prev;
            out.push((rec, hash));
        }
        out.reverse();
        Ok(Some(out))
    }

    /// Verifies the whole log; `progress` is called with the number of records checked so far.
    pub fn verify(&self, progress: &mut dyn FnMut(u64)) -> Result<Report, LedgerError> {
        crate::verify::verify_store(&self.store, progress)
    }

    /// [`Ledger::verify`], holding the log to checkpoints and going on from where an earlier
    /// verification ended, if given ([`crate::verify_store_resuming`]).
    pub fn verify_resuming(
        &self,
        resume: Option<&crate::verify::Resume>,
        trusted: Vec<crate::verify::Trusted>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(Report, Option<crate::verify::Resume>), LedgerError> {
        crate::verify::verify_store_resuming(&self.store, resume, trusted, progress)
    }

    /// The state as it was through `until`, folded in memory from the log.
    pub fn replay(&self, until: Until) -> Result<State, LedgerError> {
        Ok(self.replay_with_head(until)?.0)
    }

    /// [`Ledger::replay`], and the last record folded in (none if the moment is before record 0).
    pub fn replay_with_head(&self, until: Until) -> Result<(State, Option<Head>), LedgerError> {
        let mut state = State::default();
        let mut last = None;
        let bad = replay_into(&self.store, until, &mut |rec, hash| {
            state.apply(rec);
            last = Some(Head { seq: rec.seq, hash, time: rec.time });
        })?;
        match bad {
            Some(bad) => Err(bad),
            None => Ok((state, last)),
        }
    }

    /// Compares the stored projection with a replay of the log up to the watermark it claims (writing
    /// the live projection back first when the store is writable). Returns what differs, in words;
    /// empty when the stored projection is exactly the replay. Writes nothing on a read-only store.
    pub fn check_projection(&mut self) -> Result<Vec<String>, LedgerError> {
        self.projection.write_back(&mut self.store)?;
        let mark = crate::projection::stored_mark(&self.store)?;
        let state = match mark {
            None => State::default(),
            Some(m) => match self.replay_with_head(Until::Seq(m.seq)) {
                Ok((state, last)) if last == Some(m) => state,
                Ok(_) => return Ok(vec!["the projection's watermark is not a record of this log".to_string()]),
                // A replay that stopped early would list every later change as a difference: say why.
                Err(e @ LedgerError::Corrupt { .. }) => {
                    return Ok(vec![format!("the log cannot be replayed to its end: {e} (run `commitments verify`)")]);
                }
                Err(e) => return Err(e),
            },
        };
        Ok(crate::projection::compare_stored(&self.store, &state, mark)?)
    }

    /// The projection rebuilt in memory from the whole log, and why the replay stopped early if it did.
    fn replay_projection(&self) -> Result<(Projection, Option<LedgerError>), LedgerError> {
        let mut p = Projection::empty();
        let Some(h) = self.head else { return Ok((p, None)) };
        let bad = replay_into(&self.store, Until::Seq(h.seq), &mut |rec, hash| p.apply(rec, hash))?;
        Ok((p, bad))
    }

    /// Throws the stored projection away and rebuilds it from the log. Returns the seq of the last
    /// record folded in; a log that cannot be replayed to its end is an error naming where it stops.
    pub fn rebuild_projection(&mut self) -> Result<Option<Seq>, LedgerError> {
        let (mut p, unreadable) = self.replay_projection()?;
        p.replace_stored(&mut self.store)?;
        let reached = p.mark().map(|m| m.seq);
        self.projection = p;
        match unreadable {
            None => Ok(reached),
            Some(e) => {
                self.damaged.get_or_insert(e.to_string());
                Err(e)
            }
        }
    }
}

/// Calls `f` with the store's records from `from`, in order, until it breaks.
pub(crate) fn for_each_record<S: Store + ?Sized>(
    store: &S,
    from: Seq,
    f: &mut dyn FnMut(&Record, Hash) -> ControlFlow<()>,
) -> Result<(), LedgerError> {
    let mut err = None;
    store.scan(from, &mut |key, bytes| {
        let seq = Seq::from_key(key).map_or(u64::MAX, |s| s.0);
        match decode_at(seq, bytes) {
            Ok(rec) => f(&rec, hash_record_bytes(bytes)),
            Err(e) => {
                err = Some(e);
                ControlFlow::Break(())
            }
        }
    })?;
    err.map_or(Ok(()), Err)
}

/// Calls `each` with every record of the log through `until`, in order, to fold it in. Returns why it
/// stopped early (a record that does not decode or does not continue the log), if it did.
fn replay_into<S: Store + ?Sized>(
    store: &S,
    until: Until,
    each: &mut dyn FnMut(&Record, Hash),
) -> Result<Option<LedgerError>, LedgerError> {
    let mut expected = 0u64;
    let mut bad = None;
    store.scan(Seq(0), &mut |key, bytes| {
        let rec = match Record::decode(bytes) {
            Ok(rec) if Seq::from_key(key) == Some(Seq(expected)) && rec.seq.0 == expected => rec,
            _ => {
                bad = Some(LedgerError::Corrupt {
                    seq: expected,
                    why: format!("record {expected} is unreadable or out of place"),
                });
                return ControlFlow::Break(());
            }
        };
        let beyond = match until {
            Until::Seq(s) => rec.seq > s,
            Until::Time(t) => rec.time > t,
        };
        if beyond {
            return ControlFlow::Break(());
        }
        each(&rec, hash_record_bytes(bytes));
        expected += 1;
        ControlFlow::Continue(())
    })?;
    Ok(bad)
}

impl<S: Store> Drop for Ledger<S> {
    fn drop(&mut self) {
        // Derived data only: if this fails, the next open catches the projection up from the log.
        let _ = self.projection.write_back(&mut self.store);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Code;
    use crate::store::MemStore;
    use crate::vocab::{StatusDef, Term, Vocabulary};

    fn opened(vocabulary: Vocabulary) -> OpenLedger {
        OpenLedger {
            title: "t".into(),
            origin: "example.test/l".into(),
            utc_offset_minutes: 480,
            admin: ActorId::new("admin").unwrap(),
            admin_name: "a".into(),
            vocabulary,
            admin_key: None,
        }
    }

    #[test]
    fn a_record_too_large_to_read_back_is_refused_before_it_is_written() {
        let mut v = Vocabulary::default_v1();
        let codes: Vec<Code> = (0..58).map(|i| Code::new(format!("s{i:02}-{}", "x".repeat(55))).unwrap()).collect();
        for c in &codes {
            v.statuses.push(StatusDef {
                term: Term { code: c.clone(), label: "l".repeat(500), label_zh: "状".repeat(170) },
                next: codes.iter().cycle().take(64).cloned().collect(),
                closed: false,
                accepts_updates: true,
                category: Code::new("a").unwrap(),
                completion: Code::new("complete").unwrap(),
                initial_for: None,
            });
        }
        assert_eq!(v.check(), Ok(()));
        let mut ledger = Ledger::with_store(MemStore::new(), Box::new(SystemClock)).unwrap();
        let err = ledger.init(opened(v), Vec::new()).unwrap_err();
        assert!(
            matches!(&err, LedgerError::Rejected { rejection: Rejection::InvalidField { field: "record", .. }, .. }),
            "{err}"
        );
        assert_eq!(ledger.head(), None);
        assert!(ledger.init(opened(Vocabulary::default_v1()), Vec::new()).is_ok());
    }

    #[test]
    fn a_group_appends_what_the_rules_allow_and_answers_each_command() {
        use crate::command::RegisterActor;
        use crate::vocab::Role;
        let mut ledger = Ledger::with_store(MemStore::new(), Box::new(SystemClock)).unwrap();
        ledger.init(opened(Vocabulary::default_v1()), Vec::new()).unwrap();
        let head = ledger.head().unwrap();
        let register = |id: &str| {
            Command::RegisterActor(RegisterActor {
                id: ActorId::new(id).unwrap(),
                name: id.into(),
                name_en: None,
                role: Role::Department,
                public_key: None,
            })
        };
        let admin = ActorId::new("admin").unwrap();
        let results = ledger
            .append_group(vec![
                (admin.clone(), register("a")),
                (admin.clone(), register("a")), // a duplicate of the one before it in the same group
                (ActorId::new("nobody").unwrap(), register("b")),
                (admin.clone(), register("c")),
            ])
            .unwrap();
        assert!(matches!(results[1], Err(Rejection::Duplicate { .. })));
        assert!(matches!(results[2], Err(Rejection::UnknownActor(_))));
        let seqs: Vec<u64> = results.iter().filter_map(|r| r.as_ref().ok()).map(|h| h.seq.0).collect();
        assert_eq!(seqs, vec![head.seq.0 + 1, head.seq.0 + 2]);
        assert_eq!(ledger.head().unwrap().seq.0, head.seq.0 + 2);
        assert!(ledger.registry().actors.contains_key(&ActorId::new("c").unwrap()));
        assert!(ledger.verify(&mut |_| {}).unwrap().ok);
        // The same commands as an all-or-nothing batch: the duplicate refuses all of them.
        let err = ledger.append_batch(vec![(admin.clone(), register("d")), (admin, register("d"))]).unwrap_err();
        assert!(matches!(err, LedgerError::Rejected { index: 1, .. }));
        assert_eq!(ledger.head().unwrap().seq.0, head.seq.0 + 2);
        assert!(!ledger.registry().actors.contains_key(&ActorId::new("d").unwrap()));
    }

    #[test]
    fn an_extreme_utc_offset_is_refused_without_overflow() {
        let mut ledger = Ledger::with_store(MemStore::new(), Box::new(SystemClock)).unwrap();
        let mut o = opened(Vocabulary::default_v1());
        o.utc_offset_minutes = i32::MIN;
        let err = ledger.init(o, Vec::new()).unwrap_err();
        assert!(matches!(
            &err,
            LedgerError::Rejected { rejection: Rejection::InvalidField { field: "utc-offset", .. }, .. }
        ));
    }
}
