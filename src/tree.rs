//! The log's Merkle tree (RFC 6962), kept in the store's derived data.
//!
//! Leaf `n` is record `n`: its leaf input is the record's 32-byte BLAKE3 hash, so its leaf hash is
//! `SHA-256(0x00 ‖ record hash)`. The stored hashes (every complete subtree, in the order
//! [`crate::merkle`] defines) live under `t/` + the stored hash index (8 bytes, big-endian), and
//! `t-size` says how many leaves they cover. They are derived data: rebuilt from the log when missing,
//! behind, or not of this log, and compared with the log by `verify`.

use crate::merkle::{self, Frontier, HashReader, MerkleError};
use crate::record::{Hash, hash_record_bytes};
use crate::store::{Store, StoreError};
use std::ops::ControlFlow;

/// Prefix of the stored hashes in the derived data.
pub(crate) const PREFIX: &[u8] = b"t/";
/// Key of the number of leaves the stored hashes cover.
pub(crate) const SIZE_KEY: &[u8] = b"t-size";

/// The derived key of a stored hash.
pub(crate) fn key(index: u64) -> Vec<u8> {
    let mut k = PREFIX.to_vec();
    k.extend_from_slice(&index.to_be_bytes());
    k
}

/// The leaf hash of a record, from its BLAKE3 hash.
pub fn leaf(record_hash: &Hash) -> merkle::Hash {
    merkle::leaf_hash(&record_hash.0)
}

/// Reads stored hashes from a store.
pub(crate) struct Stored<'a, S: Store + ?Sized>(pub &'a S);

impl<S: Store + ?Sized> HashReader for Stored<'_, S> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<merkle::Hash>, MerkleError> {
        indexes
            .iter()
            .map(|&i| match self.0.derived_get(&key(i)) {
                Ok(Some(v)) => <[u8; 32]>::try_from(v.as_slice()).map_err(|_| MerkleError::HashLength { got: v.len() }),
                Ok(None) => Err(MerkleError::MissingHash { index: i }),
                Err(e) => Err(MerkleError::Reader { message: e.to_string() }),
            })
            .collect()
    }
}

/// The puts that store `frontier`'s new hashes (`added`, from the leaf at `first_leaf`) and its size.
pub(crate) fn puts(first_leaf: u64, added: Vec<Vec<merkle::Hash>>, size: u64) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    let mut index = merkle::stored_hash_count(first_leaf);
    let mut out = Vec::with_capacity(added.len() * 2 + 1);
    for hashes in added {
        for h in hashes {
            out.push((key(index), Some(h.to_vec())));
            index += 1;
        }
    }
    out.push((SIZE_KEY.to_vec(), Some(size.to_be_bytes().to_vec())));
    out
}

/// The stored tree's frontier for a log of `records` records whose last record hashes to `last`:
/// loaded from the stored hashes when they cover at least that many leaves and their last leaf is that
/// record's; otherwise (missing, behind, damaged, or of another history) rebuilt from the log, and
/// stored again when the store takes writes. Returns whether it was rebuilt.
pub(crate) fn open<S: Store + ?Sized>(
    store: &mut S,
    records: u64,
    last: Option<Hash>,
) -> Result<(Frontier, bool), StoreError> {
    if let Some(f) = try_load(store, records, last) {
        // A tree that covered records since discarded (an unacknowledged tail) covers the log again.
        if store.writable() && stored_size(store) != Some(records) {
            store.derived_write(vec![(SIZE_KEY.to_vec(), Some(records.to_be_bytes().to_vec()))])?;
        }
        return Ok((f, false));
    }
    let mut frontier = Frontier::default();
    let mut added = Vec::new();
    let mut failed = None;
    store.scan(crate::ids::Seq(0), &mut |_, bytes| {
        if frontier.size() >= records {
            return ControlFlow::Break(());
        }
        match frontier.push(leaf(&hash_record_bytes(bytes))) {
            Ok(h) => added.push(h),
            Err(e) => {
                failed = Some(e);
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    })?;
    if let Some(e) = failed {
        return Err(StoreError::DerivedCorrupt(e.to_string()));
    }
    if store.writable() {
        for (i, chunk) in added.chunks(4096).enumerate() {
            let first = (i * 4096) as u64;
            let size = first + chunk.len() as u64;
            store.derived_write(puts(first, chunk.to_vec(), size))?;
        }
        if added.is_empty() {
            store.derived_write(vec![(SIZE_KEY.to_vec(), Some(0u64.to_be_bytes().to_vec()))])?;
        }
    }
    Ok((frontier, true))
}

fn stored_size<S: Store + ?Sized>(store: &S) -> Option<u64> {
    Some(u64::from_be_bytes(store.derived_get(SIZE_KEY).ok()??.try_into().ok()?))
}

fn try_load<S: Store + ?Sized>(store: &S, records: u64, last: Option<Hash>) -> Option<Frontier> {
    let size = stored_size(store)?;
    if size < records {
        return None;
    }
    let reader = Stored(store);
    if let Some(last) = last {
        let index = merkle::stored_hash_index(0, records - 1);
        if reader.read_hashes(&[index]).ok()?.first() != Some(&leaf(&last)) {
            return None;
        }
    }
    Frontier::load(records, &reader).ok()
}
