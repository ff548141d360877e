//! RFC 6962 / RFC 9162 Merkle trees for a transparency log, stored the way
//! `golang.org/x/mod/sumdb/tlog` stores them.
//!
//! Everything here is pure logic: hashing, index arithmetic, proof
//! construction and verification. Storage is reached only through the
//! [`HashReader`] trait: the ledger backs it with its store, a test with a vector.
//!
//! # Hashing (RFC 6962 §2.1)
//!
//! * leaf hash: `SHA-256(0x00 ‖ input)` ([`leaf_hash`]),
//! * interior node: `SHA-256(0x01 ‖ left ‖ right)` ([`node_hash`]),
//! * the root of the empty tree is `SHA-256("")` ([`empty_root`]).
//!
//! The Merkle Tree Hash of `n > 1` leaves splits them at `k`, the largest
//! power of two smaller than `n`, and hashes the two halves as a node.
//!
//! # Storage layout
//!
//! Every *complete* subtree of the tree (a perfect binary tree of `2^level`
//! leaves starting at leaf `n * 2^level`) has its hash stored exactly once,
//! in a single append-only sequence. The subtree `(level, n)` lives at
//! position [`stored_hash_index`]`(level, n)`. Appending leaf `n` appends its
//! leaf hash followed by the hash of every subtree that leaf completes
//! ([`stored_hashes_for_leaf`]); a tree of `n` leaves stores
//! [`stored_hash_count`]`(n) = 2n − popcount(n)` hashes. Each root and proof
//! only needs `O(log n)` of these stored hashes, read in one batch.
//!
//! # Limits
//!
//! Tree sizes and leaf indexes are `u64` but must stay below `2^63`
//! ([`MAX_TREE_SIZE`] is `2^63 − 1`); larger values are refused with
//! [`MerkleError::TreeSizeTooLarge`] or [`MerkleError::IndexTooLarge`]
//! instead of overflowing or looping.

use sha2::{Digest, Sha256};

/// A SHA-256 hash: a leaf hash, an interior node hash or a tree root.
pub type Hash = [u8; 32];

/// Size in bytes of a [`Hash`](type@Hash).
pub const HASH_SIZE: usize = 32;

/// The largest tree size (and one more than the largest leaf index) this
/// module accepts: `2^63 − 1`.
pub const MAX_TREE_SIZE: u64 = (1 << 63) - 1;

/// Everything that can go wrong in this module.
///
/// Verification failures carry the values involved so that a log operator
/// can tell a truncated proof from a forked log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MerkleError {
    /// A tree size is `2^63` or more.
    #[error("tree size {size} is too large: tree sizes must be below 2^63")]
    TreeSizeTooLarge {
        /// The refused tree size.
        size: u64,
    },

    /// A leaf index is `2^63` or more.
    #[error("leaf index {index} is too large: leaf indexes must be below 2^63")]
    IndexTooLarge {
        /// The refused index.
        index: u64,
    },

    /// A leaf index is not inside the tree.
    #[error("leaf index {index} is not in a tree of {tree_size} leaves")]
    IndexOutOfRange {
        /// The leaf index.
        index: u64,
        /// The size of the tree.
        tree_size: u64,
    },

    /// A consistency proof was asked for or checked from a bigger tree to a
    /// smaller one.
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    OldSizeGreater {
        /// Size of the tree that should be the older one.
        old_size: u64,
        /// Size of the tree that should be the newer one.
        new_size: u64,
    },

    /// Consistency from the empty tree was asked for. The empty tree is a
    /// prefix of every tree, so such a "proof" would check nothing about the
    /// new root; it is refused so that no caller mistakes it for a check.
    #[error(
        "a consistency proof from the empty tree to size {new_size} proves nothing and is refused; \
         verify the new root some other way"
    )]
    ConsistencyFromEmptyTree {
        /// Size of the newer tree.
        new_size: u64,
    },

    /// A proof does not have the number of hashes the tree shape requires.
    #[error("the proof has {got} hashes but a tree of this shape needs exactly {want}")]
    WrongProofLength {
        /// Number of hashes in the proof.
        got: usize,
        /// Number of hashes the tree sizes (and index) require.
        want: usize,
    },

    /// A consistency check between two trees of the same size got two
    /// different roots.
    #[error("two trees of the same size {size} have different roots {} and {}", hex(.old_root), hex(.new_root))]
    RootsDiffer {
        /// The common tree size.
        size: u64,
        /// The root claimed for the old tree.
        old_root: Hash,
        /// The root claimed for the new tree.
        new_root: Hash,
    },

    /// An inclusion proof leads to a different root than the expected one.
    #[error("inclusion proof leads to root {} but the tree root is {}", hex(.computed), hex(.expected))]
    InclusionRootMismatch {
        /// Root computed from the leaf hash and the proof.
        computed: Hash,
        /// Root the caller expected.
        expected: Hash,
    },

    /// A consistency proof does not reproduce the old tree's root.
    #[error("consistency proof rebuilds old root {} but the old root is {}", hex(.computed), hex(.expected))]
    OldRootMismatch {
        /// Old root computed from the proof.
        computed: Hash,
        /// Old root the caller expected.
        expected: Hash,
    },

    /// A consistency proof does not reproduce the new tree's root.
    #[error("consistency proof rebuilds new root {} but the new root is {}", hex(.computed), hex(.expected))]
    NewRootMismatch {
        /// New root computed from the proof.
        computed: Hash,
        /// New root the caller expected.
        expected: Hash,
    },

    /// Bytes that should be a hash are not 32 bytes long.
    #[error("a hash must be {HASH_SIZE} bytes long, got {got}")]
    HashLength {
        /// Length of the rejected byte string.
        got: usize,
    },

    /// The [`HashReader`] failed; `message` is its own explanation.
    #[error("reading stored hashes failed: {message}")]
    Reader {
        /// What the reader reported.
        message: String,
    },

    /// The [`HashReader`] does not hold a stored hash it was asked for.
    #[error("stored hash {index} is not available")]
    MissingHash {
        /// The stored hash index.
        index: u64,
    },

    /// The [`HashReader`] answered with the wrong number of hashes.
    #[error("the hash reader returned {returned} hashes for {requested} requested indexes")]
    ReaderCountMismatch {
        /// How many hashes were asked for.
        requested: usize,
        /// How many came back.
        returned: usize,
    },

    /// A stored hash index names a subtree that is not complete in the tree.
    #[error("stored hash {index} is not part of a tree of {tree_size} leaves")]
    HashNotInTree {
        /// The stored hash index.
        index: u64,
        /// The size of the tree.
        tree_size: u64,
    },
}

/// Lower-case hex of a hash, for error messages.
fn hex(hash: &Hash) -> String {
    let mut out = String::with_capacity(2 * HASH_SIZE);
    for byte in hash {
        out.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(byte & 0x0f)]));
    }
    out
}

// ---------------------------------------------------------------------------
// Hashing
// ---------------------------------------------------------------------------

/// The root of the empty tree: `SHA-256("")` (RFC 6962 §2.1).
#[must_use]
pub fn empty_root() -> Hash {
    Sha256::digest(b"").into()
}

/// The RFC 6962 leaf hash `SHA-256(0x00 ‖ input)`.
///
/// In the ledger, `input` is the 32-byte BLAKE3 hash of a record.
#[must_use]
pub fn leaf_hash(input: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(input);
    hasher.finalize().into()
}

/// The RFC 6962 interior node hash `SHA-256(0x01 ‖ left ‖ right)`.
#[must_use]
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 1 + 2 * HASH_SIZE];
    buf[0] = 0x01;
    buf[1..=HASH_SIZE].copy_from_slice(left);
    buf[1 + HASH_SIZE..].copy_from_slice(right);
    Sha256::digest(buf).into()
}

/// Turns bytes received from outside (a proof element, a root) into a
/// [`Hash`](type@Hash), refusing anything that is not exactly 32 bytes long.
pub fn parse_hash(bytes: &[u8]) -> Result<Hash, MerkleError> {
    Hash::try_from(bytes).map_err(|_| MerkleError::HashLength { got: bytes.len() })
}

/// Folds subtree hashes that cover a range left to right, largest first,
/// into the range's Merkle Tree Hash: `h0 ⊕ (h1 ⊕ (… ⊕ hk))`.
fn fold_right(hashes: &[Hash]) -> Hash {
    match hashes.split_last() {
        Some((last, rest)) => rest.iter().rev().fold(*last, |acc, left| node_hash(left, &acc)),
        None => empty_root(),
    }
}

/// The largest power of two strictly below `n` (requires `n ≥ 2`).
fn largest_power_of_two_below(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

fn check_tree_size(size: u64) -> Result<(), MerkleError> {
    if size > MAX_TREE_SIZE { Err(MerkleError::TreeSizeTooLarge { size }) } else { Ok(()) }
}

fn check_leaf_index(index: u64, tree_size: u64) -> Result<(), MerkleError> {
    check_tree_size(tree_size)?;
    if index > MAX_TREE_SIZE {
        return Err(MerkleError::IndexTooLarge { index });
    }
    if index >= tree_size {
        return Err(MerkleError::IndexOutOfRange { index, tree_size });
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Stored hash indexes
// ---------------------------------------------------------------------------

/// Number of hashes stored for a tree of `n` leaves: one per complete
/// subtree, `2n − popcount(n)`.
///
/// Exact for every `n ≤ 2^63`; larger values (which no valid tree has)
/// saturate at `u64::MAX`.
#[must_use]
pub fn stored_hash_count(n: u64) -> u64 {
    n.saturating_add(n - u64::from(n.count_ones()))
}

/// Position of the stored hash of the complete subtree `(level, n)`: the
/// subtree of `2^level` leaves starting at leaf `n · 2^level`.
///
/// That hash is written right after the subtree's last leaf
/// `m = (n + 1) · 2^level − 1`: the hashes stored for leaf `m` start at
/// `stored_hash_count(m)` with the leaf hash, followed by one hash per level
/// it completes, so the subtree sits `level` positions further on.
///
/// # Panics
///
/// If the subtree does not fit in a tree of `2^63` leaves, i.e. unless
/// `(n + 1) · 2^level ≤ 2^63`. Every index this module computes itself is
/// checked first; indexes from outside go through
/// [`split_stored_hash_index`] instead.
#[must_use]
pub fn stored_hash_index(level: u8, n: u64) -> u64 {
    assert!(subtree_fits(level, n), "stored_hash_index: subtree (level {level}, index {n}) is beyond 2^63 leaves");
    let last_leaf = ((n + 1) << level) - 1;
    stored_hash_count(last_leaf) + u64::from(level)
}

/// Whether the complete subtree `(level, n)` lies within the first `2^63` leaves.
fn subtree_fits(level: u8, n: u64) -> bool {
    level < 64 && (u128::from(n) + 1) << level <= 1u128 << 63
}

/// The inverse of [`stored_hash_index`]: the `(level, n)` of the complete
/// subtree whose hash is stored at position `index`.
///
/// Total: every `u64` maps to a subtree. Indexes below
/// `stored_hash_count(2^63)` (that is, every index up to `u64::MAX − 1`)
/// belong to trees of valid size.
#[must_use]
pub fn split_stored_hash_index(index: u64) -> (u8, u64) {
    // Find the leaf m whose batch of stored hashes contains `index`: the
    // largest m with stored_hash_count(m) ≤ index. stored_hash_count(m) is
    // 2m − popcount(m), so m = index / 2 is never too large and falls short
    // by at most ~33; walk forward from there.
    let mut m = index / 2;
    while m < 1 << 63 && stored_hash_count(m + 1) <= index {
        m += 1;
    }
    let level = index - stored_hash_count(m);
    // level ≤ trailing ones of m < 64.
    (level as u8, m >> level)
}

/// The stored hash indexes of the complete subtrees that cover leaves
/// `lo..hi`, largest first. `lo` must be aligned to a power of two at least
/// as large as `hi − lo` (always true for the ranges RFC 6962 splits into).
fn push_cover(mut lo: u64, hi: u64, out: &mut Vec<u64>) {
    while lo < hi {
        let by_size = 63 - (hi - lo).leading_zeros();
        let by_alignment = if lo == 0 { 63 } else { lo.trailing_zeros() };
        let level = by_size.min(by_alignment);
        out.push(stored_hash_index(level as u8, lo >> level));
        lo += 1 << level;
    }
}

// ---------------------------------------------------------------------------
// Hash readers
// ---------------------------------------------------------------------------

/// Read access to stored hashes, by stored hash index.
///
/// The ledger implements it over its store; `Vec<Hash>` and `[Hash]`
/// implement it in memory (element `i` is stored hash `i`).
pub trait HashReader {
    /// Returns the hashes stored at `indexes`, in the same order and exactly
    /// one per index. Storage failures should be reported as
    /// [`MerkleError::Reader`] with a message, a hash that was never stored
    /// as [`MerkleError::MissingHash`].
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError>;
}

impl HashReader for [Hash] {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        indexes
            .iter()
            .map(|&index| {
                usize::try_from(index).ok().and_then(|i| self.get(i)).copied().ok_or(MerkleError::MissingHash { index })
            })
            .collect()
    }
}

impl HashReader for Vec<Hash> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        self.as_slice().read_hashes(indexes)
    }
}

/// Reads `indexes` and checks that the reader kept its side of the contract.
fn read_exact<R: HashReader + ?Sized>(reader: &R, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
    let hashes = reader.read_hashes(indexes)?;
    if hashes.len() != indexes.len() {
        return Err(MerkleError::ReaderCountMismatch { requested: indexes.len(), returned: hashes.len() });
    }
    Ok(hashes)
}

/// The stored hashes a computation needs, and how to combine them: output
/// element `i` is the right fold of the next `groups[i]` hashes read.
#[derive(Default)]
struct Plan {
    indexes: Vec<u64>,
    groups: Vec<usize>,
}

impl Plan {
    /// Adds one output element: the Merkle Tree Hash of leaves `lo..hi`.
    fn push_range(&mut self, lo: u64, hi: u64) {
        let before = self.indexes.len();
        push_cover(lo, hi, &mut self.indexes);
        self.groups.push(self.indexes.len() - before);
    }

    /// Reads every needed hash in one batch and combines them.
    fn run<R: HashReader + ?Sized>(&self, reader: &R) -> Result<Vec<Hash>, MerkleError> {
        let hashes = read_exact(reader, &self.indexes)?;
        let mut out = Vec::with_capacity(self.groups.len());
        let mut pos = 0;
        for &count in &self.groups {
            out.push(fold_right(&hashes[pos..pos + count]));
            pos += count;
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------
// Appending and tree hashes
// ---------------------------------------------------------------------------

/// The hashes to append to storage when adding leaf number `n` (0-based) to
/// a tree of `n` leaves: `leaf` itself, then the root of every complete
/// subtree the new leaf finishes, lowest first. There are
/// `1 + trailing_ones(n)` of them and their first index is
/// `stored_hash_count(n)`.
///
/// `leaf` is the leaf *hash* (see [`leaf_hash`]); [`stored_hashes`] hashes
/// the leaf input for you. `reader` must hold the stored hashes of the first
/// `n` leaves; only `trailing_ones(n)` of them are read, in one batch.
pub fn stored_hashes_for_leaf<R: HashReader + ?Sized>(
    n: u64,
    leaf: Hash,
    reader: &R,
) -> Result<Vec<Hash>, MerkleError> {
    check_tree_size(n.saturating_add(1))?;
    let completed = n.trailing_ones();
    // At each level l below `completed`, the new leaf's ancestor is a right
    // child; its left sibling is the complete subtree (l, (n >> l) − 1).
    let siblings: Vec<u64> = (0..completed).map(|l| stored_hash_index(l as u8, (n >> l) - 1)).collect();
    let siblings = read_exact(reader, &siblings)?;
    let mut out = Vec::with_capacity(siblings.len() + 1);
    let mut hash = leaf;
    out.push(hash);
    for sibling in &siblings {
        hash = node_hash(sibling, &hash);
        out.push(hash);
    }
    Ok(out)
}

/// Like [`stored_hashes_for_leaf`], but takes the leaf *input* and applies
/// [`leaf_hash`] to it.
pub fn stored_hashes<R: HashReader + ?Sized>(n: u64, leaf_input: &[u8], reader: &R) -> Result<Vec<Hash>, MerkleError> {
    stored_hashes_for_leaf(n, leaf_hash(leaf_input), reader)
}

/// The stored hash indexes [`tree_hash`] reads for a tree of `n` leaves: the
/// complete subtrees covering it, largest first (one per set bit of `n`).
pub fn tree_hash_indexes(n: u64) -> Result<Vec<u64>, MerkleError> {
    check_tree_size(n)?;
    let mut out = Vec::with_capacity(n.count_ones() as usize);
    push_cover(0, n, &mut out);
    Ok(out)
}

/// The root (Merkle Tree Hash) of the first `n` leaves. The empty tree's
/// root is `SHA-256("")`.
pub fn tree_hash<R: HashReader + ?Sized>(n: u64, reader: &R) -> Result<Hash, MerkleError> {
    let indexes = tree_hash_indexes(n)?;
    let hashes = read_exact(reader, &indexes)?;
    Ok(fold_right(&hashes))
}

/// The right edge of a tree: the roots of its complete subtrees, largest first (one per set bit of
/// its size). Enough to append a leaf — giving the hashes it adds to the stored sequence — and to
/// compute the root, in `O(log n)` memory and without reading anything.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Frontier {
    size: u64,
    roots: Vec<Hash>,
}

impl Frontier {
    /// The frontier of a tree of `size` leaves, read from its stored hashes.
    pub fn load<R: HashReader + ?Sized>(size: u64, reader: &R) -> Result<Frontier, MerkleError> {
        let roots = read_exact(reader, &tree_hash_indexes(size)?)?;
        Ok(Frontier { size, roots })
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root of the tree (RFC 6962 Merkle Tree Hash).
    pub fn root(&self) -> Hash {
        fold_right(&self.roots)
    }

    /// Appends leaf `size` with its leaf hash and returns the hashes it adds to the stored sequence,
    /// in order, from stored hash index `stored_hash_count(size)`: the leaf hash, then the hash of
    /// each subtree it completes (what [`stored_hashes_for_leaf`] returns, without reading).
    pub fn push(&mut self, leaf: Hash) -> Result<Vec<Hash>, MerkleError> {
        check_tree_size(self.size.saturating_add(1))?;
        let mut out = Vec::with_capacity(self.size.trailing_ones() as usize + 1);
        let mut hash = leaf;
        out.push(hash);
        for _ in 0..self.size.trailing_ones() {
            let left = self.roots.pop().ok_or(MerkleError::MissingHash { index: stored_hash_count(self.size) })?;
            hash = node_hash(&left, &hash);
            out.push(hash);
        }
        self.roots.push(hash);
        self.size += 1;
        Ok(out)
    }
}

// ---------------------------------------------------------------------------
// Inclusion proofs
// ---------------------------------------------------------------------------

fn inclusion_plan(tree_size: u64, index: u64) -> Result<Plan, MerkleError> {
    check_leaf_index(index, tree_size)?;
    // RFC 6962 §2.1.1: PATH(m, D[lo:hi]) = PATH(m, one half) : MTH(other half).
    // Walk down from the root collecting the sibling ranges; the proof lists
    // them bottom-up, so reverse at the end.
    let (mut lo, mut hi) = (0, tree_size);
    let mut siblings = Vec::new();
    while hi - lo > 1 {
        let k = largest_power_of_two_below(hi - lo);
        if index < lo + k {
            siblings.push((lo + k, hi));
            hi = lo + k;
        } else {
            siblings.push((lo, lo + k));
            lo += k;
        }
    }
    let mut plan = Plan::default();
    for &(a, b) in siblings.iter().rev() {
        plan.push_range(a, b);
    }
    Ok(plan)
}

/// The stored hash indexes [`prove_leaf`] reads.
pub fn inclusion_proof_indexes(tree_size: u64, index: u64) -> Result<Vec<u64>, MerkleError> {
    Ok(inclusion_plan(tree_size, index)?.indexes)
}

/// The RFC 6962 / RFC 9162 inclusion proof (audit path) of leaf `index` in
/// the tree of the first `tree_size` leaves, lowest sibling first.
pub fn prove_leaf<R: HashReader + ?Sized>(tree_size: u64, index: u64, reader: &R) -> Result<Vec<Hash>, MerkleError> {
    inclusion_plan(tree_size, index)?.run(reader)
}

/// Number of hashes in the inclusion proof of leaf `index` in a tree of
/// `size` leaves (requires `index < size`).
///
/// Below the level where the paths from `index` and from the last leaf
/// (`size − 1`) meet, every level contributes a sibling. From there up the
/// path runs along the right edge of the tree, where a node has a (left)
/// sibling only at levels where its index bit is 1.
fn inclusion_proof_len(index: u64, size: u64) -> usize {
    let below = 64 - (index ^ (size - 1)).leading_zeros();
    let along_edge = (index >> below).count_ones();
    (below + along_edge) as usize
}

/// Verifies an inclusion proof with the RFC 9162 §2.1.3.2 algorithm: that
/// the leaf with hash `leaf_hash` is leaf number `index` of the tree of
/// `tree_size` leaves whose root is `root`.
///
/// Refuses sizes and indexes `≥ 2^63`, `index ≥ tree_size` (so any proof
/// against the empty tree), proofs of the wrong length, and proofs that do
/// not rebuild `root`.
pub fn check_inclusion(
    proof: &[Hash],
    tree_size: u64,
    root: &Hash,
    index: u64,
    leaf_hash: &Hash,
) -> Result<(), MerkleError> {
    check_leaf_index(index, tree_size)?;
    let want = inclusion_proof_len(index, tree_size);
    if proof.len() != want {
        return Err(MerkleError::WrongProofLength { got: proof.len(), want });
    }
    // RFC 9162 §2.1.3.2, steps 2–5.
    let mut f = index;
    let mut s = tree_size - 1;
    let mut r = *leaf_hash;
    for p in proof {
        if s == 0 {
            return Err(MerkleError::WrongProofLength { got: proof.len(), want });
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(MerkleError::WrongProofLength { got: proof.len(), want });
    }
    if r != *root {
        return Err(MerkleError::InclusionRootMismatch { computed: r, expected: *root });
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Consistency proofs
// ---------------------------------------------------------------------------

fn check_consistency_sizes(old_size: u64, new_size: u64) -> Result<(), MerkleError> {
    check_tree_size(old_size)?;
    check_tree_size(new_size)?;
    if old_size > new_size {
        return Err(MerkleError::OldSizeGreater { old_size, new_size });
    }
    if old_size == 0 {
        return Err(MerkleError::ConsistencyFromEmptyTree { new_size });
    }
    Ok(())
}

fn consistency_plan(old_size: u64, new_size: u64) -> Result<Plan, MerkleError> {
    check_consistency_sizes(old_size, new_size)?;
    let mut plan = Plan::default();
    if old_size == new_size {
        return Ok(plan);
    }
    // RFC 6962 §2.1.2: SUBPROOF(m, D[lo:hi], b), walked from the root down.
    // Each level adds one hash after the deeper part of the proof; the walk
    // ends where the old tree is a whole subtree D[lo:hi], whose hash leads
    // the proof unless it is the old root itself (b still true).
    let (mut lo, mut hi, mut m) = (0, new_size, old_size);
    let mut whole_old_tree = true; // RFC 6962's `b`
    let mut suffix = Vec::new();
    let mut first = None;
    loop {
        if m == hi - lo {
            if !whole_old_tree {
                first = Some((lo, hi));
            }
            break;
        }
        let k = largest_power_of_two_below(hi - lo);
        if m <= k {
            suffix.push((lo + k, hi));
            hi = lo + k;
        } else {
            suffix.push((lo, lo + k));
            lo += k;
            m -= k;
            whole_old_tree = false;
        }
    }
    if let Some((a, b)) = first {
        plan.push_range(a, b);
    }
    for &(a, b) in suffix.iter().rev() {
        plan.push_range(a, b);
    }
    Ok(plan)
}

/// The stored hash indexes [`prove_consistency`] reads.
pub fn consistency_proof_indexes(old_size: u64, new_size: u64) -> Result<Vec<u64>, MerkleError> {
    Ok(consistency_plan(old_size, new_size)?.indexes)
}

/// The RFC 6962 / RFC 9162 consistency proof that the tree of `old_size`
/// leaves is a prefix of the tree of `new_size` leaves.
///
/// Equal sizes give an empty proof. `old_size == 0` is refused with
/// [`MerkleError::ConsistencyFromEmptyTree`] and `old_size > new_size` with
/// [`MerkleError::OldSizeGreater`].
pub fn prove_consistency<R: HashReader + ?Sized>(
    old_size: u64,
    new_size: u64,
    reader: &R,
) -> Result<Vec<Hash>, MerkleError> {
    consistency_plan(old_size, new_size)?.run(reader)
}

/// Number of hashes in the consistency proof from `old` to `new`
/// (requires `0 < old < new`).
///
/// The verifier first skips the `trailing_zeros(old)` lowest levels, where
/// the old tree's last complete subtree is whole. It then starts from that
/// subtree's hash (taken from the proof, unless `old` is a power of two and
/// that subtree is the old tree, whose root the verifier already has) and
/// climbs exactly like an inclusion proof for that subtree's position among
/// the nodes of its level.
fn consistency_proof_len(old: u64, new: u64) -> usize {
    let shift = old.trailing_zeros();
    let seed_in_proof = usize::from(!old.is_power_of_two());
    seed_in_proof + inclusion_proof_len((old - 1) >> shift, ((new - 1) >> shift) + 1)
}

/// Verifies a consistency proof with the RFC 9162 §2.1.4.2 algorithm: that
/// the tree of `old_size` leaves with root `old_root` is a prefix of the tree
/// of `new_size` leaves with root `new_root`.
///
/// Edge cases:
/// * `old_size > new_size`: [`MerkleError::OldSizeGreater`];
/// * `old_size == 0`: [`MerkleError::ConsistencyFromEmptyTree`], even when
///   `new_size` is 0 too (there is nothing to prove, and callers must not
///   read an `Ok` as "the new root was checked");
/// * `old_size == new_size`: the proof must be empty and the two roots equal.
pub fn check_consistency(
    proof: &[Hash],
    old_size: u64,
    old_root: &Hash,
    new_size: u64,
    new_root: &Hash,
) -> Result<(), MerkleError> {
    check_consistency_sizes(old_size, new_size)?;
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(MerkleError::WrongProofLength { got: proof.len(), want: 0 });
        }
        if old_root != new_root {
            return Err(MerkleError::RootsDiffer { size: old_size, old_root: *old_root, new_root: *new_root });
        }
        return Ok(());
    }
    let want = consistency_proof_len(old_size, new_size);
    if proof.len() != want {
        return Err(MerkleError::WrongProofLength { got: proof.len(), want });
    }
    // RFC 9162 §2.1.4.2. Step 2 prepends the old root when old_size is a
    // power of two; instead of copying, take the seed from there.
    let (seed, rest) = if old_size.is_power_of_two() {
        (*old_root, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (*first, rest),
            None => return Err(MerkleError::WrongProofLength { got: 0, want }),
        }
    };
    let mut f = old_size - 1;
    let mut s = new_size - 1;
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let mut fr = seed;
    let mut sr = seed;
    for c in rest {
        if s == 0 {
            return Err(MerkleError::WrongProofLength { got: proof.len(), want });
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(MerkleError::WrongProofLength { got: proof.len(), want });
    }
    if fr != *old_root {
        return Err(MerkleError::OldRootMismatch { computed: fr, expected: *old_root });
    }
    if sr != *new_root {
        return Err(MerkleError::NewRootMismatch { computed: sr, expected: *new_root });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Merkle Tree Hash of a sequence of hashes that are already leaves or
    /// subtree roots (RFC 6962 §2.1 applied one level up). Recursion depth is
    /// `log2(hashes.len())`; it is only used on short slices (tests).
    fn mth_of_hashes(hashes: &[Hash]) -> Hash {
        match hashes.len() {
            0 => empty_root(),
            1 => hashes[0],
            len => {
                let k = largest_power_of_two_below(len as u64) as usize;
                node_hash(&mth_of_hashes(&hashes[..k]), &mth_of_hashes(&hashes[k..]))
            }
        }
    }

    /// RFC 6962 MTH straight from the definition, over leaf inputs.
    fn naive_root(leaves: &[Hash]) -> Hash {
        mth_of_hashes(leaves)
    }

    fn build(n: u64) -> (Vec<Hash>, Vec<Hash>) {
        let mut store = Vec::new();
        let mut leaves = Vec::new();
        for i in 0..n {
            let leaf = leaf_hash(&i.to_be_bytes());
            leaves.push(leaf);
            let new = stored_hashes_for_leaf(i, leaf, &store).unwrap();
            assert_eq!(store.len() as u64, stored_hash_count(i));
            store.extend(new);
        }
        assert_eq!(store.len() as u64, stored_hash_count(n));
        (store, leaves)
    }

    #[test]
    fn the_frontier_stores_and_roots_what_the_reader_based_functions_do() {
        let mut stored: Vec<Hash> = Vec::new();
        let mut frontier = Frontier::default();
        let mut leaves = Vec::new();
        for n in 0..70u64 {
            let leaf = leaf_hash(&n.to_le_bytes());
            leaves.push(leaf);
            let expected = stored_hashes_for_leaf(n, leaf, &stored).unwrap();
            assert_eq!(stored.len() as u64, stored_hash_count(n));
            assert_eq!(frontier.push(leaf).unwrap(), expected, "leaf {n}");
            stored.extend(expected);
            assert_eq!(frontier.root(), naive_root(&leaves), "root at {}", n + 1);
            assert_eq!(Frontier::load(n + 1, &stored).unwrap(), frontier);
        }
    }

    #[test]
    fn stored_hash_index_round_trips() {
        for i in 0..100_000u64 {
            let (level, n) = split_stored_hash_index(i);
            assert_eq!(stored_hash_index(level, n), i, "index {i}");
        }
        for level in 0..63u8 {
            let max_n = ((1u64 << 63) >> level) - 1;
            for n in [0, 1, 2, 3, max_n / 2, max_n.saturating_sub(1), max_n].into_iter().filter(|&n| n <= max_n) {
                let i = stored_hash_index(level, n);
                assert_eq!(split_stored_hash_index(i), (level, n));
            }
        }
        assert_eq!(stored_hash_index(63, 0), u64::MAX - 1);
        assert_eq!(stored_hash_count(1 << 63), u64::MAX);
        assert_eq!(stored_hash_count(u64::MAX), u64::MAX);
        // Every u64 splits without panicking or looping.
        for i in [u64::MAX, u64::MAX - 1, u64::MAX - 2, 1 << 63, (1 << 63) - 1] {
            let _ = split_stored_hash_index(i);
        }
    }

    #[test]
    #[should_panic(expected = "beyond 2^63 leaves")]
    fn stored_hash_index_panics_beyond_limit() {
        let _ = stored_hash_index(1, 1 << 62);
    }

    #[test]
    fn stored_layout_matches_definition() {
        // Index of (level, n) equals the position at which appends wrote it.
        let (store, leaves) = build(300);
        for level in 0..9u8 {
            let count = 300u64 >> level;
            for n in 0..count {
                let lo = (n << level) as usize;
                let hi = ((n + 1) << level) as usize;
                assert_eq!(store[stored_hash_index(level, n) as usize], naive_root(&leaves[lo..hi]));
            }
        }
    }

    #[test]
    fn proof_lengths_match_generated_proofs() {
        let (store, _) = build(130);
        for n in 1..=130u64 {
            for i in 0..n {
                assert_eq!(prove_leaf(n, i, &store).unwrap().len(), inclusion_proof_len(i, n));
            }
            for m in 1..n {
                assert_eq!(prove_consistency(m, n, &store).unwrap().len(), consistency_proof_len(m, n), "{m} {n}");
            }
        }
    }

    #[test]
    fn hex_is_lowercase() {
        let mut h = [0u8; 32];
        h[0] = 0xab;
        h[31] = 0x01;
        let s = hex(&h);
        assert!(s.starts_with("ab00") && s.ends_with("0001") && s.len() == 64);
    }
}
