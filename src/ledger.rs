//! The ledger: one writer over a store, deciding each command against the projected state, appending
//! the resulting records durably, and answering reads from the projection.

use crate::date::Timestamp;
use crate::decide::{self, Command, Rejection};
use crate::event::{AreaRegistered, LedgerOpened};
use crate::ids::{ActorId, ItemId, Seq, StreamId};
use crate::projection::{LIVE, Projector, REPLAY};
use crate::record::{Hash, Record, hash_record_bytes};
use crate::sled_store::SledStore;
use crate::state::{Facts, ItemState, Registry};
use crate::store::{HeadMark, Store, StoreError};
use crate::verify::{Report, Verifier};
use std::ops::ControlFlow;
use std::path::Path;

/// Where the clock comes from. The system clock in production; tests, demos and imports of
/// historical material may supply another. The ledger never lets time go backwards: a record is
/// stamped with the later of the clock and the previous record's time.
pub trait Clock: Send {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

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
}

/// The last record of the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    /// Its seq.
    pub seq: Seq,
    /// Its hash.
    pub hash: Hash,
    /// When it was accepted.
    pub time: Timestamp,
}

impl Head {
    fn mark(&self) -> HeadMark {
        HeadMark { seq: self.seq, hash: self.hash }
    }
}

/// What an append wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    /// The record's seq.
    pub seq: Seq,
    /// Its hash.
    pub hash: Hash,
    /// When it was accepted.
    pub time: Timestamp,
}

/// Up to where a replay goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Until {
    /// Through this record.
    Seq(Seq),
    /// Through the last record accepted at or before this time.
    Time(Timestamp),
}

/// Read access to a projected state: the live one or a replay.
pub trait StateRead {
    /// Ledger-wide facts.
    fn registry(&self) -> &Registry;
    /// The last record reflected.
    fn mark(&self) -> Option<HeadMark>;
    /// One item.
    fn item(&mut self, id: &ItemId) -> Result<Option<ItemState>, LedgerError>;
    /// Every item, in id order.
    fn for_each_item(&mut self, f: &mut dyn FnMut(&ItemState)) -> Result<(), LedgerError>;
}

/// A commitment ledger over a store.
pub struct Ledger<S: Store = SledStore> {
    store: S,
    clock: Box<dyn Clock>,
    head: Option<Head>,
    projection: Projector,
    damaged: Option<String>,
}

impl<S: Store> std::fmt::Debug for Ledger<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("head", &self.head).field("damaged", &self.damaged).finish_non_exhaustive()
    }
}

impl Ledger<SledStore> {
    /// Opens the ledger in `dir`, which must exist.
    pub fn open(dir: &Path) -> Result<Ledger<SledStore>, LedgerError> {
        Ledger::with_store(SledStore::open(dir, false)?, Box::new(SystemClock))
    }

    /// Opens the ledger in `dir`, creating an empty store if there is none (for `init`).
    pub fn create(dir: &Path) -> Result<Ledger<SledStore>, LedgerError> {
        Ledger::with_store(SledStore::open(dir, true)?, Box::new(SystemClock))
    }
}

fn decode_at(seq: u64, bytes: &[u8]) -> Result<Record, LedgerError> {
    Record::decode(bytes).map_err(|e| LedgerError::Corrupt { seq, why: e.to_string() })
}

/// Records folded per scan of the store.
const CHUNK: usize = 4096;

/// Folds the log into `p` from its watermark through `until`, writing back only when `p` wants to (a
/// full cache; for the live projection, many unwritten records). Stops early at the first record that
/// does not decode or does not continue the log, and says where.
fn fold<S: Store>(store: &mut S, p: &mut Projector, until: Until) -> Result<Option<String>, LedgerError> {
    loop {
        let mut expected = p.next_seq().0;
        let mut chunk = Vec::new();
        let mut last_hash = Hash::ZERO;
        let mut done = false;
        let mut bad = None;
        store.scan(Seq(expected), &mut |key, bytes| {
            let rec = match Record::decode(bytes) {
                Ok(rec) if Seq::from_key(key) == Some(Seq(expected)) && rec.seq.0 == expected => rec,
                _ => {
                    bad = Some(format!("record {expected} is unreadable or out of place"));
                    done = true;
                    return ControlFlow::Break(());
                }
            };
            let beyond = match until {
                Until::Seq(s) => rec.seq > s,
                Until::Time(t) => rec.time > t,
            };
            if beyond {
                done = true;
                return ControlFlow::Break(());
            }
            chunk.push(rec);
            expected += 1;
            if chunk.len() >= CHUNK {
                // Only the chunk's last record is ever a watermark: hash just that one.
                last_hash = hash_record_bytes(bytes);
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })?;
        let full = chunk.len() >= CHUNK;
        if !full && let Some(last) = chunk.last() {
            last_hash = store.get(last.seq)?.map(|b| hash_record_bytes(&b)).unwrap_or_default();
        }
        for rec in &chunk {
            p.apply(store, rec)?;
        }
        if let Some(last) = chunk.last() {
            p.set_mark(HeadMark { seq: last.seq, hash: last_hash });
        }
        if p.wants_write_back() {
            p.write_back(store)?;
        }
        if done || !full {
            return Ok(bad);
        }
    }
}

/// Loads the live projection and catches it up to `head`; rebuilds it when its watermark is not a
/// record of this log (a restored backup, a damaged store, another format).
fn load_live<S: Store>(store: &mut S, head: Option<Head>) -> Result<(Projector, Option<String>), LedgerError> {
    let loaded = match Projector::load(store, LIVE)? {
        Some(p) => {
            let on_log = match p.mark() {
                None => true,
                Some(m) => {
                    head.is_some_and(|h| h.seq >= m.seq)
                        && store.get(m.seq)?.map(|b| hash_record_bytes(&b)) == Some(m.hash)
                }
            };
            on_log.then_some(p)
        }
        None => None,
    };
    let mut p = match loaded {
        Some(p) => p,
        None => Projector::empty(store, LIVE)?,
    };
    let Some(h) = head else { return Ok((p, None)) };
    if p.next_seq() > h.seq {
        return Ok((p, None));
    }
    let (mut p, bad) = match fold(store, &mut p, Until::Seq(h.seq)) {
        Ok(bad) => (p, bad),
        Err(LedgerError::Store(StoreError::DerivedCorrupt(_))) => {
            let mut p = Projector::empty(store, LIVE)?;
            let bad = fold(store, &mut p, Until::Seq(h.seq))?;
            (p, bad)
        }
        Err(e) => return Err(e),
    };
    p.write_back(store)?;
    Ok((p, bad))
}

impl<S: Store> Ledger<S> {
    /// Opens a ledger over a store: derives the head from the log, compares it with the stored head,
    /// loads the projection and catches it up (or rebuilds it when its watermark is not on the log).
    pub fn with_store(mut store: S, clock: Box<dyn Clock>) -> Result<Ledger<S>, LedgerError> {
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
        let stored_head = match store.stored_head() {
            Ok(h) => h,
            Err(StoreError::HeadUnreadable(why)) => {
                damaged = Some(format!("the stored head is unreadable: {why}"));
                None
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(ack) = stored_head {
            match head {
                None => damaged = Some(format!("the store acknowledged record {} but the log is empty", ack.seq)),
                Some(h) if ack.seq > h.seq => {
                    damaged = Some(format!("the store acknowledged record {} but the log ends at {}", ack.seq, h.seq))
                }
                Some(_) => {
                    if store.get(ack.seq)?.map(|b| hash_record_bytes(&b)) != Some(ack.hash) {
                        damaged = Some(format!("record {} is not the record the store acknowledged", ack.seq));
                    }
                }
            }
        }
        let (projection, bad) = load_live(&mut store, head)?;
        damaged = damaged.or(bad);
        Ok(Ledger { store, clock, head, projection, damaged })
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

    /// Ledger-wide facts as of the head.
    pub fn registry(&self) -> &Registry {
        self.projection.registry()
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Opens an empty ledger: record 0 and, in the same durable write, the given areas.
    pub fn init(&mut self, opened: LedgerOpened, areas: Vec<AreaRegistered>) -> Result<Vec<Appended>, LedgerError> {
        let admin = opened.admin.clone();
        let mut commands = vec![(admin.clone(), Command::Open(opened))];
        commands.extend(areas.into_iter().map(|a| (admin.clone(), Command::RegisterArea(a))));
        self.append_batch(commands)
    }

    /// Who appends a command when no actor is named: the item's lead for progress, status changes,
    /// figures and corrections; the ledger's administrator otherwise.
    pub fn default_actor(&mut self, command: &Command) -> Result<Option<ActorId>, LedgerError> {
        let lead_item = match command {
            Command::ReportProgress { item, .. } | Command::ChangeStatus { item, .. } => Some(item),
            Command::RecordIndicator(e) => Some(&e.item),
            Command::Correct(e) => Some(&e.item),
            _ => None,
        };
        if let Some(id) = lead_item
            && let Some(item) = self.item(id)?
        {
            return Ok(Some(item.core.lead));
        }
        Ok(self.registry().info().map(|i| i.admin.clone()))
    }

    /// One item as of the head; an unreadable stored projection is rebuilt from the log first.
    pub fn item(&mut self, id: &ItemId) -> Result<Option<ItemState>, LedgerError> {
        match self.projection.load_item(&self.store, id) {
            Ok(item) => Ok(item.cloned()),
            Err(StoreError::DerivedCorrupt(_)) => {
                self.rebuild_projection()?;
                Ok(self.projection.load_item(&self.store, id)?.cloned())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Appends one command as one record, durably.
    pub fn append(&mut self, actor: &ActorId, command: Command) -> Result<Appended, LedgerError> {
        let mut out = self.append_batch(vec![(actor.clone(), command)])?;
        Ok(out.remove(0))
    }

    /// Appends commands as consecutive records in one durable write: all of them or, if any is
    /// refused or the store fails, none. Each command is decided against the state left by the ones
    /// before it.
    pub fn append_batch(&mut self, commands: Vec<(ActorId, Command)>) -> Result<Vec<Appended>, LedgerError> {
        if let Some(why) = &self.damaged {
            return Err(LedgerError::Damaged(why.clone()));
        }
        // Load every item the batch touches first: an unreadable projection is rebuilt from the log
        // now, before anything is staged on top of it.
        for (_, command) in &commands {
            if let Some(id) = command_item(command) {
                match self.projection.load_item(&self.store, id) {
                    Err(StoreError::DerivedCorrupt(_)) => {
                        self.rebuild_projection()?;
                        break;
                    }
                    other => {
                        other?;
                    }
                }
            }
        }
        let before = self.head;
        let now = self.clock.now().max(before.map_or(Timestamp(0), |h| h.time));
        let mut head = before;
        let mut staged = Vec::with_capacity(commands.len());
        let mut appended = Vec::with_capacity(commands.len());
        let mut result = Ok(());
        for (index, (actor, command)) in commands.into_iter().enumerate() {
            let staged_one = self.stage(&actor, now, command, head);
            match staged_one {
                Ok((rec, bytes, hash)) => {
                    if let Err(e) = self.projection.apply(&self.store, &rec) {
                        result = Err(e.into());
                        break;
                    }
                    self.projection.set_mark(HeadMark { seq: rec.seq, hash });
                    let a = Appended { seq: rec.seq, hash, time: now };
                    head = Some(Head { seq: rec.seq, hash, time: now });
                    staged.push((rec.seq, bytes));
                    appended.push(a);
                }
                Err(StageError::Rejected(r)) => {
                    result = Err(LedgerError::Rejected { index, rejection: r });
                    break;
                }
                Err(StageError::Store(e)) => {
                    result = Err(e.into());
                    break;
                }
            }
        }
        if result.is_ok()
            && let Some(h) = head.filter(|_| !staged.is_empty())
        {
            result = self.store.append(&staged, h.mark()).map_err(LedgerError::from);
        }
        match result {
            Ok(()) => {
                self.head = head;
                if self.projection.wants_write_back() {
                    self.projection.write_back(&mut self.store)?;
                }
                Ok(appended)
            }
            Err(e) => {
                if !staged.is_empty() {
                    self.reload()?;
                }
                Err(e)
            }
        }
    }

    /// Decides one command and builds its record.
    fn stage(
        &mut self,
        actor: &ActorId,
        now: Timestamp,
        command: Command,
        head: Option<Head>,
    ) -> Result<(Record, Vec<u8>, Hash), StageError> {
        if let Some(id) = command_item(&command) {
            self.projection.load_item(&self.store, id).map_err(StageError::Store)?;
        }
        let event = decide::decide(&self.projection, actor, now, command).map_err(StageError::Rejected)?;
        let stream = event.stream();
        let pos = self.projection.stream_pos(&stream);
        let rec = Record {
            seq: head.map_or(Seq(0), |h| h.seq.next()),
            prev: head.map_or(Hash::ZERO, |h| h.hash),
            time: now,
            actor: actor.clone(),
            stream,
            stream_version: pos.next,
            stream_prev: pos.last,
            event,
            signature: None,
        };
        let bytes = rec.encode();
        if bytes.len() > crate::codec::MAX_RECORD_BYTES {
            return Err(StageError::Rejected(Rejection::InvalidField {
                field: "record",
                why: format!(
                    "the record would be {} bytes; the limit is {} (a record that large could never be read back)",
                    bytes.len(),
                    crate::codec::MAX_RECORD_BYTES
                ),
            }));
        }
        let hash = hash_record_bytes(&bytes);
        Ok((rec, bytes, hash))
    }

    /// Drops in-memory state that may be ahead of the log and reloads it from the store.
    fn reload(&mut self) -> Result<(), LedgerError> {
        self.projection.forget_cache();
        let (p, bad) = load_live(&mut self.store, self.head)?;
        self.projection = p;
        if let Some(bad) = bad {
            self.damaged.get_or_insert(bad);
        }
        Ok(())
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
        let mut err = None;
        self.store.scan(from, &mut |key, bytes| {
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
        let mut v = match self.store.stored_head() {
            Ok(head) => Verifier::new(head),
            Err(StoreError::HeadUnreadable(why)) => Verifier::with_unreadable_head(why),
            Err(e) => return Err(e.into()),
        };
        let mut bad = None;
        self.store.scan(Seq(0), &mut |key, bytes| {
            if let Err(b) = v.push(key, bytes) {
                bad = Some(b);
                return ControlFlow::Break(());
            }
            if v.records() % 65_536 == 0 {
                progress(v.records());
            }
            ControlFlow::Continue(())
        })?;
        progress(v.records());
        if let Some(b) = bad.take() {
            // A broken link may mean the record before was changed: look at the next one to tell.
            let this = self.store.get(Seq(b.seq))?;
            let next = self.store.get(Seq(b.seq + 1))?;
            bad = Some(v.attribute(b, this.as_deref(), next.as_deref()));
        }
        Ok(v.finish(bad))
    }

    /// The state as it was through `until`: folded in memory, spilling into the store's replay
    /// namespace only when it holds more items than the cache.
    pub fn replay(&mut self, until: Until) -> Result<Replayed<'_, S>, LedgerError> {
        let mut p = Projector::empty(&mut self.store, REPLAY)?;
        let bad = fold(&mut self.store, &mut p, until)?;
        if let Some(bad) = bad {
            return Err(LedgerError::Corrupt { seq: p.next_seq().0, why: bad });
        }
        Ok(Replayed { store: &mut self.store, projection: Some(p) })
    }

    /// Replays the whole log and compares the result with the stored projection. Returns what
    /// differs, in words; empty when the stored projection is exactly the replay.
    pub fn check_projection(&mut self) -> Result<Vec<String>, LedgerError> {
        self.projection.write_back(&mut self.store)?;
        let mut p = Projector::empty(&mut self.store, REPLAY)?;
        let mut unreadable = None;
        if let Some(h) = self.head {
            unreadable = fold(&mut self.store, &mut p, Until::Seq(h.seq))?;
        }
        // A replay that stopped early would list every later change as a difference: say why it stopped.
        let differences = match unreadable {
            Some(why) => Ok(vec![format!("the log cannot be replayed to its end: {why} (run `commitments verify`)")]),
            None => p.differences(&mut self.store, LIVE),
        };
        p.discard(&mut self.store)?;
        Ok(differences?)
    }

    /// Throws the stored projection away and rebuilds it from the log. Returns the seq of the last
    /// record folded in; a log that cannot be replayed to its end is an error naming where it stops.
    pub fn rebuild_projection(&mut self) -> Result<Option<Seq>, LedgerError> {
        let mut p = Projector::empty(&mut self.store, LIVE)?;
        let mut unreadable = None;
        if let Some(h) = self.head {
            unreadable = fold(&mut self.store, &mut p, Until::Seq(h.seq))?;
        }
        p.write_back(&mut self.store)?;
        let reached = p.mark().map(|m| m.seq);
        self.projection = p;
        match unreadable {
            None => Ok(reached),
            Some(why) => {
                self.damaged.get_or_insert(why.clone());
                Err(LedgerError::Corrupt { seq: reached.map_or(0, |s| s.0 + 1), why })
            }
        }
    }
}

enum StageError {
    Rejected(Rejection),
    Store(StoreError),
}

/// The item a command is about, which must be loaded before deciding it.
fn command_item(c: &Command) -> Option<&ItemId> {
    match c {
        Command::RecordCommitment(n) => Some(&n.id),
        Command::ReportProgress { item, .. } | Command::ChangeStatus { item, .. } | Command::Reassign { item, .. } => {
            Some(item)
        }
        Command::RecordIndicator(e) => Some(&e.item),
        Command::Amend(e) => Some(&e.item),
        Command::Correct(e) => Some(&e.item),
        Command::Open(_)
        | Command::RegisterActor(_)
        | Command::RegisterArea(_)
        | Command::RecordSource(_)
        | Command::RecordFeedback(_)
        | Command::Categorize(_) => None,
    }
}

impl<S: Store> StateRead for Ledger<S> {
    fn registry(&self) -> &Registry {
        self.projection.registry()
    }
    fn mark(&self) -> Option<HeadMark> {
        self.projection.mark()
    }
    fn item(&mut self, id: &ItemId) -> Result<Option<ItemState>, LedgerError> {
        Ledger::item(self, id)
    }
    fn for_each_item(&mut self, f: &mut dyn FnMut(&ItemState)) -> Result<(), LedgerError> {
        // Check every stored item decodes before handing any out, so a rebuild never shows an item twice.
        match self.projection.for_each_item(&mut self.store, &mut |_| {}) {
            Err(StoreError::DerivedCorrupt(_)) => {
                self.rebuild_projection()?;
            }
            other => other?,
        }
        Ok(self.projection.for_each_item(&mut self.store, f)?)
    }
}

impl<S: Store> Drop for Ledger<S> {
    fn drop(&mut self) {
        // Derived data only: if this fails, the next open catches the projection up from the log.
        let _ = self.projection.write_back(&mut self.store);
    }
}

/// The state as of an earlier moment. Its projection is removed from the store when it is dropped.
pub struct Replayed<'a, S: Store> {
    store: &'a mut S,
    projection: Option<Projector>,
}

impl<S: Store> Replayed<'_, S> {
    fn p(&mut self) -> (&mut Projector, &mut S) {
        (self.projection.as_mut().expect("present until drop"), self.store)
    }
}

impl<S: Store> StateRead for Replayed<'_, S> {
    fn registry(&self) -> &Registry {
        self.projection.as_ref().expect("present until drop").registry()
    }
    fn mark(&self) -> Option<HeadMark> {
        self.projection.as_ref().expect("present until drop").mark()
    }
    fn item(&mut self, id: &ItemId) -> Result<Option<ItemState>, LedgerError> {
        let (p, s) = self.p();
        Ok(p.load_item(s, id)?.cloned())
    }
    fn for_each_item(&mut self, f: &mut dyn FnMut(&ItemState)) -> Result<(), LedgerError> {
        let (p, s) = self.p();
        Ok(p.for_each_item(s, f)?)
    }
}

impl<S: Store> Drop for Replayed<'_, S> {
    fn drop(&mut self) {
        if let Some(p) = self.projection.take() {
            let _ = p.discard(self.store);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Code;
    use crate::store::MemStore;
    use crate::vocab::{StatusDef, Term, Vocabulary};

    fn opened(vocabulary: Vocabulary) -> LedgerOpened {
        LedgerOpened {
            title: "t".into(),
            origin: "example.test/l".into(),
            utc_offset_minutes: 480,
            admin: ActorId::new("admin").unwrap(),
            admin_name: "a".into(),
            vocabulary,
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
