//! The live projection: the fold of the log ([`State`]) kept in the store's derived data with the
//! watermark it reflects, loaded item by item as it is needed.
//!
//! The fold itself is pure ([`State::apply`]); this module owns what is not: the cache of items
//! loaded from the store, the catch-up from the watermark to the log's head, and the write-back of
//! what changed. Dirty items are written back with the watermark in one atomic batch every
//! [`WRITE_BACK_EVERY`] records, when the cache is full, and when the ledger closes. A crash loses only
//! derived data: on open, the projection is caught up from its watermark, or rebuilt when the
//! watermark is not on the log.

use crate::codec;
use crate::event::{CommitmentAmended, Event};
use crate::ids::{ItemId, Seq};
use crate::record::{Head, Record, hash_record_bytes};
use crate::state::{ItemState, Registry, State};
use crate::store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::ops::ControlFlow;

/// Version of the derived layout; a store holding another version is rebuilt from the log.
pub const PROJECTION_FORMAT: u32 = 3;
/// Write back after this many records.
pub const WRITE_BACK_EVERY: u64 = 200_000;
/// Most items held in memory by a lazily loaded projection; more are written back and evicted.
pub const CACHE_ITEMS: usize = 100_000;
/// Records read from the store per step of a catch-up.
const CHUNK: usize = 4096;

/// The namespace of the live projection in the store's derived data.
const NS: &[u8] = b"p/";

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
struct Watermark {
    format: u32,
    mark: Option<Head>,
}

fn key(name: &[u8]) -> Vec<u8> {
    [NS, name].concat()
}

fn item_key(id: &ItemId) -> Vec<u8> {
    [NS, b"item/", id.as_str().as_bytes()].concat()
}

/// The stored form of an item: its state without the two texts the log already holds (the wording,
/// and the latest progress report's text), which [`thaw`] reads back from their records. This keeps
/// write-backs small: most updates change a few fields of an item, not its texts.
fn freeze(item: &ItemState) -> Vec<u8> {
    let mut lean = item.clone();
    lean.text = String::new();
    if let Some(p) = lean.latest_progress.as_mut() {
        p.text = String::new();
    }
    codec::encode(&lean)
}

/// An item from its stored form, with its texts read back from the log.
fn thaw<S: Store + ?Sized>(store: &S, bytes: &[u8]) -> Result<ItemState, StoreError> {
    let mut item: ItemState = codec::decode_derived(bytes).map_err(|e| unreadable("item", e))?;
    let record = |seq: Seq| -> Result<Event, StoreError> {
        let bytes = store.get(seq)?.ok_or_else(|| {
            StoreError::DerivedCorrupt(format!("item {} names record {seq}, which is missing", item.id))
        })?;
        let rec = Record::decode(&bytes).map_err(|e| unreadable("text record", e))?;
        Ok(rec.event)
    };
    item.text = match record(item.text_seq)? {
        Event::CommitmentRecorded(e) => e.text,
        Event::CommitmentAmended(CommitmentAmended { text: Some(t), .. }) => t,
        _ => {
            return Err(StoreError::DerivedCorrupt(format!(
                "item {}: record {} holds no wording",
                item.id, item.text_seq
            )));
        }
    };
    if let Some(p) = &item.latest_progress {
        let corrected = item.corrections.iter().rev().filter(|c| c.entry == p.entry).find_map(|c| c.text.clone());
        let text = match corrected {
            Some(t) => t,
            None => match record(p.seq)? {
                Event::ProgressReported(e) => e.text,
                _ => {
                    return Err(StoreError::DerivedCorrupt(format!(
                        "item {}: record {} is not a progress report",
                        item.id, p.seq
                    )));
                }
            },
        };
        if let Some(p) = item.latest_progress.as_mut() {
            p.text = text;
        }
    }
    Ok(item)
}

/// Why derived data could not be read (it is then rebuilt).
fn unreadable(what: &str, e: codec::CodecError) -> StoreError {
    StoreError::DerivedCorrupt(format!("{what}: {e}"))
}

/// The live projection.
#[derive(Debug, Clone, Default)]
pub struct Projection {
    state: State<ItemState>,
    dirty: HashSet<ItemId>,
    registry_dirty: bool,
    /// The last record folded in.
    mark: Option<Head>,
    /// Records folded in since the last write-back.
    pending: u64,
    /// Whether items may be in the store and not in memory. A projection rebuilt in memory, or one
    /// that has loaded every stored item, holds them all and never reads items from the store.
    lazy: bool,
}

impl Projection {
    /// An empty projection (of an empty log).
    pub fn empty() -> Projection {
        Projection { registry_dirty: true, ..Projection::default() }
    }

    /// The projection stored in the store, if it is readable and of this format.
    pub fn load<S: Store>(store: &S) -> Result<Option<Projection>, StoreError> {
        let Some(w) = store.derived_get(&key(b"watermark"))? else { return Ok(None) };
        let Ok(w) = codec::decode_derived::<Watermark>(&w) else { return Ok(None) };
        if w.format != PROJECTION_FORMAT {
            return Ok(None);
        }
        let registry = match store.derived_get(&key(b"registry"))? {
            Some(bytes) => match codec::decode_derived::<Registry>(&bytes) {
                Ok(r) => r,
                Err(_) => return Ok(None),
            },
            None if w.mark.is_none() => Registry::default(),
            None => return Ok(None),
        };
        let mut state = State::default();
        state.set_registry(registry);
        Ok(Some(Projection { state, mark: w.mark, lazy: true, ..Projection::default() }))
    }

    /// The last record folded in.
    pub fn mark(&self) -> Option<Head> {
        self.mark
    }

    /// The seq the next record folded in must have.
    pub fn next_seq(&self) -> Seq {
        self.mark.map_or(Seq(0), |m| m.seq.next())
    }

    /// The state folded so far (with the items loaded so far).
    pub fn state(&self) -> &State<ItemState> {
        &self.state
    }

    /// Loads an item into memory, if it exists; returns it.
    pub fn load_item<S: Store>(&mut self, store: &S, id: &ItemId) -> Result<Option<&ItemState>, StoreError> {
        if self.lazy && !self.state.contains(id) {
            let Some(bytes) = store.derived_get(&item_key(id))? else { return Ok(None) };
            self.state.insert(id.clone(), thaw(store, &bytes)?);
        }
        Ok(self.state.get(id))
    }

    /// Loads every stored item into memory, so that the state holds them all.
    pub fn load_all<S: Store>(&mut self, store: &S) -> Result<(), StoreError> {
        if !self.lazy {
            return Ok(());
        }
        let mut loaded = Vec::new();
        let mut failure = None;
        store.derived_scan(&key(b"item/"), &mut |_, v| match thaw(store, v) {
            Ok(item) => {
                loaded.push(item);
                ControlFlow::Continue(())
            }
            Err(e) => {
                failure = Some(e);
                ControlFlow::Break(())
            }
        })?;
        if let Some(e) = failure {
            return Err(e);
        }
        for item in loaded {
            // An item in memory may be newer than its stored form (not yet written back).
            if !self.state.contains(&item.id) {
                self.state.insert(item.id.clone(), item);
            }
        }
        self.lazy = false;
        Ok(())
    }

    /// Folds in the next record of the log, whose hash is `hash`. Pure: the item it is about must be
    /// in memory already ([`Projection::load_item`]).
    pub fn apply(&mut self, rec: &Record, hash: crate::record::Hash) {
        self.state.apply(rec);
        if let crate::ids::StreamId::Item(id) = &rec.stream {
            self.dirty.insert(id.clone());
        }
        self.registry_dirty |= Registry::is_affected_by(rec);
        self.mark = Some(Head { seq: rec.seq, hash, time: rec.time });
        self.pending += 1;
    }

    /// Folds the log in from the watermark through `until`, loading the items it touches. Stops at
    /// the first record that does not decode or does not continue the log, and says where.
    pub fn catch_up<S: Store>(&mut self, store: &mut S, until: Seq) -> Result<Option<String>, StoreError> {
        while self.next_seq() <= until {
            let mut chunk = Vec::with_capacity(CHUNK);
            let mut expected = self.next_seq().0;
            let mut bad = None;
            store.scan(Seq(expected), &mut |key, bytes| {
                if expected > until.0 {
                    return ControlFlow::Break(());
                }
                match Record::decode(bytes) {
                    Ok(rec) if Seq::from_key(key) == Some(Seq(expected)) && rec.seq.0 == expected => {
                        chunk.push((rec, hash_record_bytes(bytes)));
                    }
                    _ => {
                        bad = Some(format!("record {expected} is unreadable or out of place"));
                        return ControlFlow::Break(());
                    }
                }
                expected += 1;
                if chunk.len() >= CHUNK { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
            })?;
            let ended = chunk.is_empty();
            for (rec, hash) in &chunk {
                if let crate::ids::StreamId::Item(id) = &rec.stream {
                    self.load_item(store, id)?;
                }
                self.apply(rec, *hash);
            }
            if self.wants_write_back() {
                self.write_back(store)?;
            }
            if bad.is_some() {
                return Ok(bad);
            }
            if ended {
                return Ok(Some(format!("record {} is missing", self.next_seq())));
            }
        }
        Ok(None)
    }

    /// Whether enough has accumulated to write back: the cache is full, or so many records are
    /// unwritten that catching up after a crash would be slow.
    pub fn wants_write_back(&self) -> bool {
        (self.lazy && self.state.len() > CACHE_ITEMS) || self.pending >= WRITE_BACK_EVERY
    }

    /// Writes dirty items, the registry and the watermark in one batch; evicts the cache if it is full.
    pub fn write_back<S: Store>(&mut self, store: &mut S) -> Result<(), StoreError> {
        if !store.writable() {
            // A reader keeps what it folded in memory; the next writer writes it back.
            return Ok(());
        }
        if self.dirty.is_empty() && !self.registry_dirty && self.pending == 0 {
            return Ok(());
        }
        let mut puts = Vec::with_capacity(self.dirty.len() + 2);
        for id in self.dirty.drain() {
            if let Some(item) = self.state.get(&id) {
                puts.push((item_key(&id), Some(freeze(item))));
            }
        }
        if self.registry_dirty {
            puts.push((key(b"registry"), Some(codec::encode(self.state.registry()))));
        }
        let w = Watermark { format: PROJECTION_FORMAT, mark: self.mark };
        puts.push((key(b"watermark"), Some(codec::encode(&w))));
        store.derived_write(puts)?;
        self.registry_dirty = false;
        self.pending = 0;
        if self.lazy && self.state.len() > CACHE_ITEMS {
            self.state.clear_items();
        }
        Ok(())
    }

    /// Replaces whatever projection the store holds with this one (after a rebuild).
    pub fn replace_stored<S: Store>(&mut self, store: &mut S) -> Result<(), StoreError> {
        if !store.writable() {
            return Ok(());
        }
        let mut doomed = Vec::new();
        store.derived_scan(NS, &mut |k, _| {
            doomed.push((k.to_vec(), None));
            ControlFlow::Continue(())
        })?;
        let mut puts: Vec<(Vec<u8>, Option<Vec<u8>>)> = doomed;
        for item in self.state.items() {
            puts.push((item_key(&item.id), Some(freeze(item))));
        }
        puts.push((key(b"registry"), Some(codec::encode(self.state.registry()))));
        let w = Watermark { format: PROJECTION_FORMAT, mark: self.mark };
        puts.push((key(b"watermark"), Some(codec::encode(&w))));
        // Later puts of the same key win: removals first, then the new values.
        store.derived_write(puts)?;
        self.dirty.clear();
        self.registry_dirty = false;
        self.pending = 0;
        Ok(())
    }

    /// Calls `f` with every item, in id order: items in memory as they are now, the others as stored.
    pub fn for_each_item<S: Store>(&self, store: &S, f: &mut dyn FnMut(&ItemState)) -> Result<(), StoreError> {
        if !self.lazy {
            self.state.items().for_each(f);
            return Ok(());
        }
        let mut memory = self.state.items().peekable();
        let prefix = key(b"item/");
        let mut failure = None;
        store.derived_scan(&prefix, &mut |k, v| {
            let stored_id = &k[prefix.len()..];
            while let Some(m) = memory.next_if(|m| m.id.as_str().as_bytes() < stored_id) {
                f(m);
            }
            if let Some(m) = memory.next_if(|m| m.id.as_str().as_bytes() == stored_id) {
                f(m);
                return ControlFlow::Continue(());
            }
            match thaw(store, v) {
                Ok(item) => {
                    f(&item);
                    ControlFlow::Continue(())
                }
                Err(e) => {
                    failure = Some(e);
                    ControlFlow::Break(())
                }
            }
        })?;
        if let Some(e) = failure {
            return Err(e);
        }
        memory.for_each(f);
        Ok(())
    }

    /// What differs, in words, between the stored projection and `replay` (a replay of the whole log).
    /// Compared item by item in id order, holding one stored item at a time.
    pub fn differences<S: Store>(store: &S, replay: &Projection) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        let watermark = codec::encode(&Watermark { format: PROJECTION_FORMAT, mark: replay.mark });
        if store.derived_get(&key(b"watermark"))? != Some(watermark) {
            out.push("the watermark differs from the replay".to_string());
        }
        if store.derived_get(&key(b"registry"))? != Some(codec::encode(replay.state.registry())) {
            out.push("the registry (actors, areas, sources) differs from the replay".to_string());
        }
        let mut replayed = replay.state.items().peekable();
        let prefix = key(b"item/");
        store.derived_scan(&prefix, &mut |k, v| {
            let stored_id = &k[prefix.len()..];
            while let Some(m) = replayed.next_if(|m| m.id.as_str().as_bytes() < stored_id) {
                out.push(format!("item {} is missing from the projection", m.id));
            }
            match replayed.next_if(|m| m.id.as_str().as_bytes() == stored_id) {
                Some(m) if freeze(m) != v => out.push(format!("item {} differs from its replay", m.id)),
                Some(_) => {}
                None => out.push(format!(
                    "item {} is in the projection but not in the log",
                    String::from_utf8_lossy(stored_id)
                )),
            }
            ControlFlow::Continue(())
        })?;
        for m in replayed {
            out.push(format!("item {} is missing from the projection", m.id));
        }
        Ok(out)
    }
}
