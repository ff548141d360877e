//! Persisted projections: the fold of the log into [`Registry`] and [`ItemState`]s, kept in the
//! store's derived data under a namespace, with the watermark (seq and hash) it reflects.
//!
//! A [`Projector`] keeps the registry in memory and a bounded cache of items; dirty items are written
//! back with the watermark in one atomic batch every [`WRITE_BACK_EVERY`] records, when the cache is
//! full, and when the ledger closes. A crash loses only derived data: on open, the projection is caught
//! up from its watermark, or rebuilt when the watermark is not on the log.

use crate::codec;
use crate::event::{CommitmentAmended, Event};
use crate::ids::{ItemId, Seq, StreamId};
use crate::record::{Hash, Record};
use crate::state::{Facts, ItemCore, ItemState, Registry};
use crate::store::{HeadMark, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

/// Version of the derived layout; a store holding another version is rebuilt from the log.
pub const PROJECTION_FORMAT: u32 = 2;
/// Write back after this many records.
pub const WRITE_BACK_EVERY: u64 = 200_000;
/// Most items held in memory; more are written back and evicted.
pub const CACHE_ITEMS: usize = 100_000;

/// The namespace of the live projection.
pub const LIVE: &[u8] = b"p/";
/// The namespace of replays (views as of an earlier moment, and rebuild checks).
pub const REPLAY: &[u8] = b"r/";

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
struct Watermark {
    format: u32,
    mark: Option<HeadMark>,
}

fn key(ns: &[u8], name: &[u8]) -> Vec<u8> {
    [ns, name].concat()
}

fn item_key(ns: &[u8], id: &ItemId) -> Vec<u8> {
    [ns, b"item/", id.as_str().as_bytes()].concat()
}

/// The stored form of an item: its state without the two texts the log already holds (the wording,
/// and the latest progress report's text), which [`thaw`] reads back from their records. This keeps
/// write-backs small: most updates change a few fields of an item, not its texts.
fn freeze(item: &mut ItemState) -> Vec<u8> {
    let text = std::mem::take(&mut item.text);
    let progress = item.latest_progress.as_mut().map(|p| std::mem::take(&mut p.text));
    let bytes = codec::encode(item);
    item.text = text;
    if let (Some(p), Some(t)) = (item.latest_progress.as_mut(), progress) {
        p.text = t;
    }
    bytes
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

/// A fold of the log, persisted under a namespace.
#[derive(Debug)]
pub struct Projector {
    ns: &'static [u8],
    registry: Registry,
    items: HashMap<ItemId, ItemState>,
    dirty: HashSet<ItemId>,
    registry_dirty: bool,
    /// The last record folded in (its hash is set with [`Projector::set_mark`]).
    mark: Option<HeadMark>,
    /// Records folded in since the last write-back.
    pending: u64,
    /// Whether the store holds items of this projection (loaded from it, or written back to it); if
    /// not, every item is in memory and reads need not touch the store.
    spilled: bool,
}

impl Projector {
    /// An empty projection in a namespace, replacing whatever was stored there.
    pub fn empty<S: Store>(store: &mut S, ns: &'static [u8]) -> Result<Projector, StoreError> {
        let mut doomed = Vec::new();
        store.derived_scan(ns, &mut |k, _| {
            doomed.push((k.to_vec(), None));
            ControlFlow::Continue(())
        })?;
        store.derived_write(doomed)?;
        Ok(Projector {
            ns,
            registry: Registry::default(),
            items: HashMap::new(),
            dirty: HashSet::new(),
            registry_dirty: true,
            mark: None,
            pending: 0,
            spilled: false,
        })
    }

    /// The projection stored in a namespace, if it is readable and of this format.
    pub fn load<S: Store>(store: &S, ns: &'static [u8]) -> Result<Option<Projector>, StoreError> {
        let Some(w) = store.derived_get(&key(ns, b"watermark"))? else { return Ok(None) };
        let Ok(w) = codec::decode_derived::<Watermark>(&w) else { return Ok(None) };
        if w.format != PROJECTION_FORMAT {
            return Ok(None);
        }
        let registry = match store.derived_get(&key(ns, b"registry"))? {
            Some(bytes) => match codec::decode_derived::<Registry>(&bytes) {
                Ok(r) => r,
                Err(_) => return Ok(None),
            },
            None if w.mark.is_none() => Registry::default(),
            None => return Ok(None),
        };
        Ok(Some(Projector {
            ns,
            registry,
            items: HashMap::new(),
            dirty: HashSet::new(),
            registry_dirty: false,
            mark: w.mark,
            pending: 0,
            spilled: true,
        }))
    }

    /// The last record folded in.
    pub fn mark(&self) -> Option<HeadMark> {
        self.mark
    }

    /// Ledger-wide facts.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Loads an item into the cache, if it exists; returns it.
    pub fn load_item<S: Store>(&mut self, store: &S, id: &ItemId) -> Result<Option<&ItemState>, StoreError> {
        if !self.items.contains_key(id) {
            let Some(bytes) = store.derived_get(&item_key(self.ns, id))? else { return Ok(None) };
            let item = thaw(store, &bytes)?;
            self.items.insert(id.clone(), item);
        }
        Ok(self.items.get(id))
    }

    /// Folds in the next record of the log. Its hash is recorded by [`Projector::set_mark`], which must
    /// be called before the next write-back (callers hash only the records they mark).
    pub fn apply<S: Store>(&mut self, store: &S, rec: &Record) -> Result<(), StoreError> {
        self.registry.apply(rec);
        match (&rec.stream, &rec.event) {
            (StreamId::Item(id), Event::CommitmentRecorded(e)) => {
                self.items.insert(id.clone(), ItemState::new(rec, e));
                self.dirty.insert(id.clone());
                self.registry_dirty |= e.source.is_some();
            }
            (StreamId::Item(id), _) => {
                self.load_item(store, id)?;
                if let Some(item) = self.items.get_mut(id) {
                    item.apply(rec);
                    self.dirty.insert(id.clone());
                }
            }
            _ => self.registry_dirty = true,
        }
        self.mark = Some(HeadMark { seq: rec.seq, hash: Hash::ZERO });
        self.pending += 1;
        Ok(())
    }

    /// Records the last record folded in, with its hash: the watermark the next write-back stores.
    pub fn set_mark(&mut self, mark: HeadMark) {
        self.mark = Some(mark);
    }

    /// Whether enough has accumulated to write back: the cache is full, or (for the live projection)
    /// so many records are unwritten that catching up after a crash would be slow.
    pub fn wants_write_back(&self) -> bool {
        self.items.len() > CACHE_ITEMS || (self.ns == LIVE && self.pending >= WRITE_BACK_EVERY)
    }

    /// Writes dirty items, the registry and the watermark in one batch; evicts the cache if it is full.
    pub fn write_back<S: Store>(&mut self, store: &mut S) -> Result<(), StoreError> {
        if self.dirty.is_empty() && !self.registry_dirty && self.pending == 0 {
            return Ok(());
        }
        let mut puts = Vec::with_capacity(self.dirty.len() + 2);
        for id in self.dirty.drain() {
            if let Some(item) = self.items.get_mut(&id) {
                puts.push((item_key(self.ns, &id), Some(freeze(item))));
            }
        }
        if self.registry_dirty {
            puts.push((key(self.ns, b"registry"), Some(codec::encode(&self.registry))));
        }
        let w = Watermark { format: PROJECTION_FORMAT, mark: self.mark };
        puts.push((key(self.ns, b"watermark"), Some(codec::encode(&w))));
        store.derived_write(puts)?;
        self.spilled = true;
        self.registry_dirty = false;
        self.pending = 0;
        if self.items.len() > CACHE_ITEMS {
            self.items.clear();
        }
        Ok(())
    }

    /// Forgets cached items (after a failed append, so that they are read again from the store).
    pub fn forget_cache(&mut self) {
        self.items.clear();
        self.dirty.clear();
    }

    /// Calls `f` with every item, in id order: from memory when they are all there, else from the
    /// store after writing back.
    pub fn for_each_item<S: Store>(&mut self, store: &mut S, f: &mut dyn FnMut(&ItemState)) -> Result<(), StoreError> {
        if !self.spilled {
            let mut items: Vec<&ItemState> = self.items.values().collect();
            items.sort_by(|a, b| a.id.cmp(&b.id));
            items.into_iter().for_each(f);
            return Ok(());
        }
        self.write_back(store)?;
        let mut err = None;
        store.derived_scan(&key(self.ns, b"item/"), &mut |_, v| match thaw(&*store, v) {
            Ok(item) => {
                f(&item);
                ControlFlow::Continue(())
            }
            Err(e) => {
                err = Some(e);
                ControlFlow::Break(())
            }
        })?;
        err.map_or(Ok(()), Err)
    }

    /// Removes the projection from the store.
    pub fn discard<S: Store>(self, store: &mut S) -> Result<(), StoreError> {
        Projector::empty(store, self.ns).map(|_| ())
    }

    /// The seq the next record folded in must have.
    pub fn next_seq(&self) -> Seq {
        self.mark.map_or(Seq(0), |m| m.seq.next())
    }
}

impl Facts for Projector {
    fn registry(&self) -> &Registry {
        &self.registry
    }
    fn item(&self, id: &ItemId) -> Option<&ItemCore> {
        self.items.get(id).map(|i| &i.core)
    }
}

impl Projector {
    /// What differs, in words, between the projection stored under `stored` and this one (a replay of
    /// the log): compared in memory when this one never spilled, else byte for byte in the store.
    pub fn differences<S: Store>(&mut self, store: &mut S, stored: &'static [u8]) -> Result<Vec<String>, StoreError> {
        if self.spilled {
            self.write_back(store)?;
            return differences(store, stored, self.ns);
        }
        let mut out = Vec::new();
        let watermark = codec::encode(&Watermark { format: PROJECTION_FORMAT, mark: self.mark });
        if store.derived_get(&key(stored, b"watermark"))? != Some(watermark) {
            out.push("the watermark differs from the replay".to_string());
        }
        if store.derived_get(&key(stored, b"registry"))? != Some(codec::encode(&self.registry)) {
            out.push("the registry (actors, areas, sources) differs from the replay".to_string());
        }
        let mut ids: Vec<ItemId> = self.items.keys().cloned().collect();
        ids.sort();
        for id in &ids {
            let Some(item) = self.items.get_mut(id) else { continue };
            match store.derived_get(&item_key(stored, id))? {
                None => out.push(format!("item {id} is missing from the projection")),
                Some(bytes) if bytes != freeze(item) => out.push(format!("item {id} differs from its replay")),
                Some(_) => {}
            }
        }
        let prefix = key(stored, b"item/");
        store.derived_scan(&prefix, &mut |k, _| {
            let id = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
            if !ItemId::new(id.clone()).is_ok_and(|i| self.items.contains_key(&i)) {
                out.push(format!("item {id} is in the projection but not in the log"));
            }
            ControlFlow::Continue(())
        })?;
        Ok(out)
    }
}

/// Compares two stored projections, byte for byte, in constant memory: what differs, in words.
fn differences<S: Store>(store: &S, a: &'static [u8], b: &'static [u8]) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    for (name, what) in [(&b"watermark"[..], "the watermark"), (b"registry", "the registry (actors, areas, sources)")] {
        if store.derived_get(&key(a, name))? != store.derived_get(&key(b, name))? {
            out.push(format!("{what} differs from the replay"));
        }
    }
    let id_of = |k: &[u8], ns: &[u8]| String::from_utf8_lossy(&k[ns.len() + b"item/".len()..]).into_owned();
    let mut failure = None;
    for (this, other, missing) in
        [(b, a, "is missing from the projection"), (a, b, "is in the projection but not in the log")]
    {
        store.derived_scan(&key(this, b"item/"), &mut |k, v| {
            let id = id_of(k, this);
            let other_key = [other, b"item/", id.as_bytes()].concat();
            match store.derived_get(&other_key) {
                Ok(None) => out.push(format!("item {id} {missing}")),
                Ok(Some(w)) if this == b && w != v => out.push(format!("item {id} differs from its replay")),
                Ok(_) => {}
                Err(e) => {
                    failure = Some(e);
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        })?;
    }
    failure.map_or(Ok(out), Err)
}
