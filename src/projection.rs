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
pub const PROJECTION_FORMAT: u32 = 7;
/// Write back after this many records.
pub const WRITE_BACK_EVERY: u64 = 200_000;
/// Most items held in memory by a lazily loaded projection; more are written back and evicted.
pub const CACHE_ITEMS: usize = 100_000;
/// Records read from the store per step of a catch-up.
const CHUNK: usize = 4096;

/// The namespace of the live projection in the store's derived data.
const NS: &[u8] = b"p/";

/// The projection's watermark: its format, the last record folded in, and digests of what it stored,
/// so that a value changed behind its back is noticed when it is loaded.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
struct Watermark {
    format: u32,
    mark: Option<Head>,
    digest: Digests,
}

/// Items' sums fall into this many buckets (by the first byte of a hash of the item's id), each with
/// its own digest, so that loading one item checks one bucket's sums, not every item's.
const BUCKETS: usize = 256;

/// The digests a watermark carries: of the registry's bytes, and of each bucket of item sums.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
struct Digests {
    registry: [u8; 32],
    buckets: Vec<Digest>,
}

impl Default for Digests {
    fn default() -> Digests {
        Digests { registry: [0; 32], buckets: vec![Digest::default(); BUCKETS] }
    }
}

impl Digests {
    /// What the store holds, computed from its values.
    fn of_store<S: Store + ?Sized>(store: &S) -> Result<Digests, StoreError> {
        let mut d = Digests::default();
        if let Some(v) = store.derived_get(&key(b"registry"))? {
            d.registry = item_sum(&v);
        }
        let prefix = key(b"sum/");
        store.derived_scan(&prefix, &mut |k, v| {
            if let Some(b) = bucket_of_key(&k[prefix.len()..]) {
                d.buckets[b].add(k, v);
            }
            ControlFlow::Continue(())
        })?;
        Ok(d)
    }

    /// One bucket's digest, computed from the sums the store holds in it.
    fn bucket_of_store<S: Store + ?Sized>(store: &S, bucket: usize) -> Result<Digest, StoreError> {
        let mut d = Digest::default();
        store.derived_scan(&[key(b"sum/").as_slice(), format!("{bucket:02x}/").as_bytes()].concat(), &mut |k, v| {
            d.add(k, v);
            ControlFlow::Continue(())
        })?;
        Ok(d)
    }
}

/// The bucket of an item id.
fn bucket(id: &[u8]) -> usize {
    usize::from(blake3::hash(id).as_bytes()[0])
}

/// The bucket a sum key (after `p/sum/`) is filed under: its two hex digits.
fn bucket_of_key(rest: &[u8]) -> Option<usize> {
    let hex = std::str::from_utf8(rest.get(..2)?).ok()?;
    usize::from_str_radix(hex, 16).ok().filter(|b| *b < BUCKETS)
}

/// A digest of a set of (key, value) pairs that can be updated one pair at a time: the lane-wise
/// wrapping sum of BLAKE3 hashes of each pair. Not a defence against someone who can rewrite the
/// projection and recompute it (only a replay is, which `verify` does); it catches edits and damage
/// that did not.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Digest([u64; 4]);

const DIGEST_CONTEXT: &str = "commitment-ledger 2026-11-29 projection value v1";

static PAIR_HASHER: std::sync::LazyLock<blake3::Hasher> =
    std::sync::LazyLock::new(|| blake3::Hasher::new_derive_key(DIGEST_CONTEXT));

fn pair_hash(key: &[u8], value: &[u8]) -> [u64; 4] {
    // Deriving the key from the context is a hash of its own: do it once and clone the hasher.
    let mut h = PAIR_HASHER.clone();
    h.update(&(key.len() as u64).to_le_bytes());
    h.update(key);
    h.update(value);
    let bytes = h.finalize();
    let mut lanes = [0u64; 4];
    for (lane, chunk) in lanes.iter_mut().zip(bytes.as_bytes().chunks_exact(8)) {
        *lane = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
    }
    lanes
}

impl Digest {
    fn add(&mut self, key: &[u8], value: &[u8]) {
        for (a, b) in self.0.iter_mut().zip(pair_hash(key, value)) {
            *a = a.wrapping_add(b);
        }
    }

    fn remove(&mut self, key: &[u8], value: &[u8]) {
        for (a, b) in self.0.iter_mut().zip(pair_hash(key, value)) {
            *a = a.wrapping_sub(b);
        }
    }
}

const ITEM_SUM_CONTEXT: &str = "commitment-ledger 2026-11-29 projection item v1";

/// The sum entry of an item's stored bytes.
fn item_sum(bytes: &[u8]) -> [u8; 32] {
    blake3::derive_key(ITEM_SUM_CONTEXT, bytes)
}

fn sum_key(id: &[u8]) -> Vec<u8> {
    [NS, b"sum/", format!("{:02x}/", bucket(id)).as_bytes(), id].concat()
}

/// What the store holds of the projection, read without trusting it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// No projection (a new ledger, or one whose projection was deleted).
    None,
    /// A projection of another format, or an unreadable watermark or registry: rebuilt by a writer.
    Unusable(String),
    /// A projection whose values do not add up to its digest: changed behind its back.
    Tampered,
    /// A projection that reflects the log through `mark`.
    At(Option<Head>),
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

/// An item from its stored form under `p/item/<id>`, with its texts read back from the log. Refused
/// (as derived data to rebuild) when its bytes do not match the sum entry the digest covers, or when
/// it is another item than its key says.
fn thaw<S: Store + ?Sized>(store: &S, id: &[u8], bytes: &[u8]) -> Result<ItemState, StoreError> {
    let named = || String::from_utf8_lossy(id).into_owned();
    if store.derived_get(&sum_key(id))?.as_deref() != Some(&item_sum(bytes)[..]) {
        return Err(StoreError::DerivedCorrupt(format!("item {} does not match its sum in the projection", named())));
    }
    let mut item: ItemState = codec::decode_derived(bytes).map_err(|e| unreadable("item", e))?;
    if item.id.as_str().as_bytes() != id {
        return Err(StoreError::DerivedCorrupt(format!("the projection holds item {} under {}", item.id, named())));
    }
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
    /// The digests of the values stored (as of the last write-back).
    digest: Digests,
    /// The buckets of item sums checked against their digest since the projection was loaded.
    checked_buckets: HashSet<usize>,
}

impl Projection {
    /// An empty projection (of an empty log).
    pub fn empty() -> Projection {
        Projection { registry_dirty: true, ..Projection::default() }
    }

    /// What the store holds: checks the watermark's format and the registry's digest. (Each item is
    /// checked against its bucket of sums when it is loaded.)
    pub fn inspect<S: Store + ?Sized>(store: &S) -> Result<Stored, StoreError> {
        let Some(w) = store.derived_get(&key(b"watermark"))? else {
            let mut any = false;
            store.derived_scan(NS, &mut |_, _| {
                any = true;
                ControlFlow::Break(())
            })?;
            return Ok(if any {
                Stored::Unusable("projection values without a watermark".into())
            } else {
                Stored::None
            });
        };
        let Ok(w) = codec::decode_derived::<Watermark>(&w) else {
            return Ok(Stored::Unusable("an unreadable watermark".into()));
        };
        if w.format != PROJECTION_FORMAT || w.digest.buckets.len() != BUCKETS {
            return Ok(Stored::Unusable(format!("projection format {}", w.format)));
        }
        let registry = store.derived_get(&key(b"registry"))?.map_or([0; 32], |v| item_sum(&v));
        if registry != w.digest.registry {
            return Ok(Stored::Tampered);
        }
        Ok(Stored::At(w.mark))
    }

    /// The stored projection, once [`Projection::inspect`] found it usable (`Stored::At`): its
    /// registry and watermark; items are loaded as they are needed.
    pub fn load<S: Store>(store: &S) -> Result<Option<Projection>, StoreError> {
        let Some(w) = store.derived_get(&key(b"watermark"))? else { return Ok(None) };
        let Ok(w) = codec::decode_derived::<Watermark>(&w) else { return Ok(None) };
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
        Ok(Some(Projection { state, mark: w.mark, lazy: true, digest: w.digest, ..Projection::default() }))
    }

    /// Checks that every bucket of item sums adds up to its digest (before every item is handed out).
    fn check_all_buckets<S: Store + ?Sized>(&self, store: &S) -> Result<(), StoreError> {
        if Digests::of_store(store)?.buckets != self.digest.buckets {
            return Err(StoreError::DerivedCorrupt(
                "the projection's item sums do not add up to its digest (changed behind its back)".into(),
            ));
        }
        Ok(())
    }

    /// Checks, once per bucket, that the sums the store holds in an item's bucket add up to the
    /// watermark's digest of that bucket.
    fn check_bucket<S: Store + ?Sized>(&mut self, store: &S, id: &ItemId) -> Result<(), StoreError> {
        let b = bucket(id.as_str().as_bytes());
        if self.checked_buckets.contains(&b) {
            return Ok(());
        }
        if Digests::bucket_of_store(store, b)? != self.digest.buckets[b] {
            return Err(StoreError::DerivedCorrupt(format!(
                "the projection's item sums in bucket {b:02x} do not add up to its digest (changed behind its back)"
            )));
        }
        self.checked_buckets.insert(b);
        Ok(())
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
            self.check_bucket(store, id)?;
            let Some(bytes) = store.derived_get(&item_key(id))? else {
                if store.derived_get(&sum_key(id.as_str().as_bytes()))?.is_some() {
                    return Err(StoreError::DerivedCorrupt(format!("item {id} is missing from the projection")));
                }
                return Ok(None);
            };
            self.state.insert(id.clone(), thaw(store, id.as_str().as_bytes(), &bytes)?);
        }
        Ok(self.state.get(id))
    }

    /// Loads every stored item into memory, so that the state holds them all (each checked as
    /// [`Projection::for_each_item`] checks it).
    pub fn load_all<S: Store>(&mut self, store: &S) -> Result<(), StoreError> {
        if !self.lazy {
            return Ok(());
        }
        let mut loaded = Vec::new();
        self.for_each_item(store, &mut |item| loaded.push(item.clone()))?;
        for item in loaded {
            // Items in memory come back as they are now; the others as stored.
            if !self.state.contains(&item.id) {
                self.state.insert(item.id.clone(), item);
            }
        }
        self.lazy = false;
        Ok(())
    }

    /// Sets the watermark to the record the projection last folded in (its hash known only once the
    /// records of a batch are chained).
    pub fn set_mark(&mut self, head: Head) {
        self.mark = Some(head);
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
                let bytes = freeze(item);
                puts.push((sum_key(id.as_str().as_bytes()), Some(item_sum(&bytes).to_vec())));
                puts.push((item_key(&id), Some(bytes)));
            }
        }
        if self.registry_dirty {
            puts.push((key(b"registry"), Some(codec::encode(self.state.registry()))));
        }
        let mut digest = self.digest.clone();
        let sums = key(b"sum/");
        for (k, v) in &puts {
            if k == &key(b"registry") {
                digest.registry = v.as_deref().map_or([0; 32], item_sum);
            } else if let Some(b) = k.strip_prefix(sums.as_slice()).and_then(bucket_of_key) {
                if let Some(old) = store.derived_get(k)? {
                    digest.buckets[b].remove(k, &old);
                }
                if let Some(v) = v {
                    digest.buckets[b].add(k, v);
                }
            }
        }
        let w = Watermark { format: PROJECTION_FORMAT, mark: self.mark, digest: digest.clone() };
        puts.push((key(b"watermark"), Some(codec::encode(&w))));
        store.derived_write(puts)?;
        self.digest = digest;
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
        let mut digest = Digests::default();
        for item in self.state.items() {
            let bytes = freeze(item);
            let id = item.id.as_str().as_bytes();
            let (k, sum) = (sum_key(id), item_sum(&bytes));
            digest.buckets[bucket(id)].add(&k, &sum);
            puts.push((k, Some(sum.to_vec())));
            puts.push((item_key(&item.id), Some(bytes)));
        }
        let (k, v) = (key(b"registry"), codec::encode(self.state.registry()));
        digest.registry = item_sum(&v);
        puts.push((k, Some(v)));
        let w = Watermark { format: PROJECTION_FORMAT, mark: self.mark, digest };
        puts.push((key(b"watermark"), Some(codec::encode(&w))));
        self.digest = w.digest;
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
        let mut stored = 0u64;
        store.derived_scan(&prefix, &mut |k, v| {
            let stored_id = &k[prefix.len()..];
            stored += 1;
            while let Some(m) = memory.next_if(|m| m.id.as_str().as_bytes() < stored_id) {
                f(m);
            }
            if let Some(m) = memory.next_if(|m| m.id.as_str().as_bytes() == stored_id) {
                f(m);
                return ControlFlow::Continue(());
            }
            match thaw(store, stored_id, v) {
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
        // Every stored item matched its sum; an item removed behind the projection's back leaves its
        // sum without it.
        let mut sums = 0u64;
        store.derived_scan(&key(b"sum/"), &mut |_, _| {
            sums += 1;
            ControlFlow::Continue(())
        })?;
        if sums != stored {
            return Err(StoreError::DerivedCorrupt(format!(
                "the projection holds {stored} items but {sums} item sums"
            )));
        }
        self.check_all_buckets(store)?;
        memory.for_each(f);
        Ok(())
    }
}

/// The watermark the stored projection claims, read without checking anything else (none if it has no
/// readable watermark or reflects the empty log).
pub fn stored_mark<S: Store + ?Sized>(store: &S) -> Result<Option<Head>, StoreError> {
    Ok(store
        .derived_get(&key(b"watermark"))?
        .and_then(|w| codec::decode_derived::<Watermark>(&w).ok())
        .and_then(|w| w.mark))
}

/// What differs, in words, between the projection stored in `store` and `state`, the fold of the log
/// through `mark`: the watermark, the registry, every item (missing, different, or not in the log),
/// the digest, and any derived value outside the projection. Compared in id order, one stored item
/// at a time; reads only.
pub fn compare_stored<S: Store + ?Sized>(
    store: &S,
    state: &State<ItemState>,
    mark: Option<Head>,
) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    match store.derived_get(&key(b"watermark"))?.map(|w| codec::decode_derived::<Watermark>(&w)) {
        None => out.push("the projection has no watermark".to_string()),
        Some(Err(e)) => out.push(format!("the projection's watermark is unreadable: {e}")),
        Some(Ok(w)) => {
            if w.format != PROJECTION_FORMAT || w.mark != mark {
                out.push("the projection's watermark differs from the replay".to_string());
            }
            if Digests::of_store(store)? != w.digest {
                out.push("the projection's values do not add up to its digest (changed behind its back)".to_string());
            }
        }
    }
    if store.derived_get(&key(b"registry"))? != Some(codec::encode(state.registry())) {
        out.push("the projection's registry (actors, areas, sources) differs from the replay".to_string());
    }
    let mut replayed = state.items().peekable();
    let prefix = key(b"item/");
    store.derived_scan(&prefix, &mut |k, v| {
        let stored_id = &k[prefix.len()..];
        while let Some(m) = replayed.next_if(|m| m.id.as_str().as_bytes() < stored_id) {
            out.push(format!("item {} is missing from the projection", m.id));
        }
        if store.derived_get(&sum_key(stored_id)).ok().flatten().is_none() {
            out.push(format!("item {} has no sum in the projection", String::from_utf8_lossy(stored_id)));
        }
        match replayed.next_if(|m| m.id.as_str().as_bytes() == stored_id) {
            Some(m) if freeze(m) != v => out.push(format!("item {} differs from its replay", m.id)),
            Some(_) => {}
            None => {
                out.push(format!("item {} is in the projection but not in the log", String::from_utf8_lossy(stored_id)))
            }
        }
        ControlFlow::Continue(())
    })?;
    for m in replayed {
        out.push(format!("item {} is missing from the projection", m.id));
    }
    // Every item's sum entry must match its stored bytes, and every sum must have its item.
    let sums = key(b"sum/");
    let mut failure = None;
    store.derived_scan(&sums, &mut |k, v| {
        // `p/sum/<bucket>/<id>`.
        let id = k[sums.len()..].get(3..).unwrap_or_default();
        match store.derived_get(&[prefix.as_slice(), id].concat()) {
            Ok(Some(item)) if item_sum(&item)[..] == *v => {}
            Ok(Some(_)) => {
                out.push(format!("item {} does not match its sum in the projection", String::from_utf8_lossy(id)))
            }
            Ok(None) => out.push(format!(
                "the projection holds a sum for item {}, which it does not hold",
                String::from_utf8_lossy(id)
            )),
            Err(e) => {
                failure = Some(e);
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    let known = [key(b"watermark"), key(b"registry")];
    store.derived_scan(b"", &mut |k, _| {
        // The Merkle tree's stored hashes are derived data of their own, compared by `verify`.
        let tree = k.starts_with(crate::tree::PREFIX) || k == crate::tree::SIZE_KEY;
        if !(tree || k.starts_with(&prefix) || k.starts_with(&sums) || known.iter().any(|n| n.as_slice() == k)) {
            out.push(format!("derived data holds a value no projection writes (key {:?})", String::from_utf8_lossy(k)));
        }
        ControlFlow::Continue(())
    })?;
    Ok(out)
}
