//! Tree shape: incremental storage against a naive RFC 6962 MTH, and
//! exhaustive proof generation / verification / tampering on small trees.

use std::sync::OnceLock;

use commitment_ledger::merkle::{
    Hash, HashReader, MAX_TREE_SIZE, MerkleError, check_consistency, check_inclusion, consistency_proof_indexes,
    empty_root, inclusion_proof_indexes, leaf_hash, node_hash, prove_consistency, prove_leaf, split_stored_hash_index,
    stored_hash_count, stored_hash_index, stored_hashes, stored_hashes_for_leaf, tree_hash, tree_hash_indexes,
};
use proptest::prelude::*;

/// RFC 6962 §2.1 MTH, recursively, straight from the definition.
fn naive_mth(leaves: &[Vec<u8>]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaf_hash(&leaves[0]),
        n => {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            node_hash(&naive_mth(&leaves[..k]), &naive_mth(&leaves[k..]))
        }
    }
}

/// Same over leaf hashes, for big trees (avoids re-hashing leaf inputs).
fn naive_mth_hashes(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
            node_hash(&naive_mth_hashes(&leaves[..k]), &naive_mth_hashes(&leaves[k..]))
        }
    }
}

fn input(i: u64) -> Vec<u8> {
    // Like the ledger: a 32-byte record hash per leaf (any distinct bytes do).
    let mut v = [0u8; 32];
    v[..8].copy_from_slice(&i.to_le_bytes());
    v[31] = 0xa5;
    v.to_vec()
}

fn build(n: u64) -> Vec<Hash> {
    let mut store = Vec::new();
    for i in 0..n {
        let new = stored_hashes(i, &input(i), &store).unwrap();
        assert_eq!(new.len() as u32, 1 + i.trailing_ones(), "hashes appended for leaf {i}");
        store.extend(new);
    }
    store
}

/// One shared tree, big enough for every test in this file.
fn store() -> &'static Vec<Hash> {
    static STORE: OnceLock<Vec<Hash>> = OnceLock::new();
    STORE.get_or_init(|| build(10_000))
}

fn flip(h: &Hash, bit: usize) -> Hash {
    let mut out = *h;
    out[bit / 8] ^= 1 << (bit % 8);
    out
}

#[test]
fn incremental_roots_match_naive_mth() {
    let store = store();
    let inputs: Vec<Vec<u8>> = (0..10_000).map(input).collect();
    for n in 0..=300u64 {
        assert_eq!(tree_hash(n, store).unwrap(), naive_mth(&inputs[..n as usize]), "root of {n} leaves");
        // A store built for exactly n leaves has exactly the expected length
        // and gives the same root.
        assert_eq!(stored_hash_count(n) as usize, build(n).len());
    }
    let leaves: Vec<Hash> = inputs.iter().map(|i| leaf_hash(i)).collect();
    for n in [511u64, 512, 513, 1000, 1023, 1024, 1025, 4097, 9_999, 10_000] {
        assert_eq!(tree_hash(n, store).unwrap(), naive_mth_hashes(&leaves[..n as usize]), "root of {n} leaves");
    }
    assert_eq!(store.len() as u64, stored_hash_count(10_000));
}

#[test]
fn big_tree_roots_match_naive_mth() {
    // Separate, bigger tree: 100_003 leaves.
    let n = 100_003u64;
    let mut store = Vec::new();
    let mut leaves = Vec::new();
    for i in 0..n {
        let leaf = leaf_hash(&input(i));
        leaves.push(leaf);
        store.extend(stored_hashes_for_leaf(i, leaf, &store).unwrap());
    }
    for size in [65_535u64, 65_536, 65_537, 99_999, 100_003] {
        assert_eq!(tree_hash(size, &store).unwrap(), naive_mth_hashes(&leaves[..size as usize]));
    }
}

#[test]
fn empty_tree() {
    let empty: Vec<Hash> = Vec::new();
    assert_eq!(tree_hash(0, &empty).unwrap(), empty_root());
    assert_eq!(
        hex(&empty_root()),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "SHA-256 of the empty string"
    );
    assert_eq!(stored_hash_count(0), 0);
    assert_eq!(tree_hash_indexes(0).unwrap(), Vec::<u64>::new());
    assert!(matches!(prove_leaf(0, 0, &empty), Err(MerkleError::IndexOutOfRange { index: 0, tree_size: 0 })));
    assert!(check_inclusion(&[], 0, &empty_root(), 0, &empty_root()).is_err());
}

fn hex(h: &Hash) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every proof of every leaf of every tree up to 300 leaves is generated and
/// verified; the tampering checks are exhaustive on trees up to 32 leaves and
/// run on a sample of leaves (every 8th, plus the first and last) above that,
/// to keep the test a few seconds long in a debug build.
#[test]
fn inclusion_proofs_all_leaves_up_to_300() {
    let store = store();
    let mut same_root_other_size_accepted = 0usize;
    let mut checked = 0usize;
    let mut tampered = 0usize;
    let mut wrong_sizes_checked = 0usize;
    let roots: Vec<Hash> = (0..=610u64).map(|n| tree_hash(n, store).unwrap()).collect();
    for n in 1..=300u64 {
        let root = roots[n as usize];
        for i in 0..n {
            let leaf = leaf_hash(&input(i));
            let proof = prove_leaf(n, i, store).unwrap();
            check_inclusion(&proof, n, &root, i, &leaf).unwrap_or_else(|e| panic!("leaf {i} of {n}: {e}"));
            checked += 1;
            if n > 32 && i % 8 != n % 8 && i != 0 && i != n - 1 {
                continue;
            }
            tampered += 1;

            // Flip one bit of every proof element, of the leaf, of the root:
            // every bit for trees up to 8 leaves, one bit in every byte up to
            // 32 leaves, one bit above.
            let bits: Vec<usize> = if n <= 8 {
                (0..256).collect()
            } else if n <= 32 {
                (0..32).map(|byte| byte * 8 + (byte + i as usize) % 8).collect()
            } else {
                vec![((i * 37 + n) % 256) as usize]
            };
            for &bit in &bits {
                for k in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[k] = flip(&bad[k], bit);
                    assert!(check_inclusion(&bad, n, &root, i, &leaf).is_err(), "n={n} i={i} k={k} bit={bit}");
                }
                assert!(check_inclusion(&proof, n, &root, i, &flip(&leaf, bit)).is_err());
                assert!(check_inclusion(&proof, n, &flip(&root, bit), i, &leaf).is_err());
            }
            // Wrong index.
            let others: Vec<u64> =
                if n <= 32 { (0..n).collect() } else { vec![0, i ^ 1, i.saturating_sub(1), i + 1, i / 2, n - 1] };
            for j in others.into_iter().filter(|&j| j != i && j < n) {
                assert!(check_inclusion(&proof, n, &root, j, &leaf).is_err(), "n={n} i={i} as j={j}");
            }
            assert!(matches!(check_inclusion(&proof, n, &root, n, &leaf), Err(MerkleError::IndexOutOfRange { .. })));
            // Wrong size, with that size's real root: must fail.
            // Every other size for the smaller trees, a sample for the rest.
            let sizes: Vec<u64> = if n <= 32 {
                (i + 1..=n + 4).collect()
            } else {
                vec![i + 1, i + 2, n / 2, n - 1, n + 1, n + 2, 2 * n - 1, 2 * n]
            };
            for m in sizes.into_iter().filter(|&m| m != n && m > i) {
                wrong_sizes_checked += 1;
                let other_root = roots[m as usize];
                assert!(check_inclusion(&proof, m, &other_root, i, &leaf).is_err(), "n={n} i={i} as size {m}");
                // Wrong size with *this* tree's root: RFC 9162 verification
                // does not hash the size into the root, so this passes when
                // the proof has the same length and left/right pattern for
                // both sizes. Counted, not asserted (see the report).
                if check_inclusion(&proof, m, &root, i, &leaf).is_ok() {
                    same_root_other_size_accepted += 1;
                }
            }
            // Truncated, extended, reordered.
            if !proof.is_empty() {
                assert!(check_inclusion(&proof[..proof.len() - 1], n, &root, i, &leaf).is_err());
                assert!(check_inclusion(&proof[1..], n, &root, i, &leaf).is_err());
            }
            let mut longer = proof.clone();
            longer.push(root);
            assert!(check_inclusion(&longer, n, &root, i, &leaf).is_err());
            let mut prefixed = vec![leaf];
            prefixed.extend_from_slice(&proof);
            assert!(check_inclusion(&prefixed, n, &root, i, &leaf).is_err());
            if proof.len() >= 2 && proof[0] != proof[1] {
                let mut swapped = proof.clone();
                swapped.swap(0, 1);
                assert!(check_inclusion(&swapped, n, &root, i, &leaf).is_err());
            }
        }
    }
    println!(
        "inclusion: {checked} proofs verified, {tampered} of them tampered; {wrong_sizes_checked} wrong sizes all \
         refused with that size's root, but {same_root_other_size_accepted} of them accepted with the proof's own \
         root (RFC 9162 verification does not bind the size into the root)"
    );
}

#[test]
fn inclusion_proofs_big_tree() {
    let store = store();
    for n in [1_000u64, 4_096, 4_097, 9_999, 10_000] {
        let root = tree_hash(n, store).unwrap();
        for i in (0..n).step_by(97).chain([n - 1]) {
            let leaf = leaf_hash(&input(i));
            let proof = prove_leaf(n, i, store).unwrap();
            assert!(inclusion_proof_indexes(n, i).unwrap().len() >= proof.len());
            check_inclusion(&proof, n, &root, i, &leaf).unwrap();
            let mut bad = proof.clone();
            let last = bad.len() - 1;
            bad[last] = flip(&bad[last], 200);
            assert!(check_inclusion(&bad, n, &root, i, &leaf).is_err());
        }
    }
}

#[test]
fn consistency_proofs_all_pairs_up_to_70() {
    let store = store();
    let mut checked = 0usize;
    let roots: Vec<Hash> = (0..=80u64).map(|n| tree_hash(n, store).unwrap()).collect();
    for n in 1..=70u64 {
        for m in 1..=n {
            let proof = prove_consistency(m, n, store).unwrap();
            let (r1, r2) = (roots[m as usize], roots[n as usize]);
            check_consistency(&proof, m, &r1, n, &r2).unwrap_or_else(|e| panic!("{m} -> {n}: {e}"));
            checked += 1;
            if m == n {
                assert!(proof.is_empty());
                assert!(matches!(
                    check_consistency(&[r1], m, &r1, n, &r2),
                    Err(MerkleError::WrongProofLength { got: 1, want: 0 })
                ));
                assert!(matches!(
                    check_consistency(&[], m, &r1, n, &flip(&r2, 3)),
                    Err(MerkleError::RootsDiffer { .. })
                ));
                continue;
            }
            let bits: Vec<usize> = if n <= 16 { (0..256).collect() } else { vec![((m * 31 + n) % 256) as usize] };
            for &bit in &bits {
                for k in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[k] = flip(&bad[k], bit);
                    assert!(check_consistency(&bad, m, &r1, n, &r2).is_err(), "{m}->{n} k={k} bit={bit}");
                }
                assert!(check_consistency(&proof, m, &flip(&r1, bit), n, &r2).is_err());
                assert!(check_consistency(&proof, m, &r1, n, &flip(&r2, bit)).is_err());
            }
            // Swapped roots, wrong sizes with their real roots.
            assert!(check_consistency(&proof, m, &r2, n, &r1).is_err());
            for m2 in (1..=n).filter(|&x| x != m) {
                assert!(check_consistency(&proof, m2, &roots[m2 as usize], n, &r2).is_err(), "{m} as {m2} -> {n}");
            }
            for n2 in (m..=n + 8).filter(|&x| x != n) {
                assert!(check_consistency(&proof, m, &r1, n2, &roots[n2 as usize]).is_err(), "{m} -> {n} as {n2}");
            }
            // Truncated / extended / empty.
            assert!(check_consistency(&proof[..proof.len() - 1], m, &r1, n, &r2).is_err());
            assert!(check_consistency(&proof[1..], m, &r1, n, &r2).is_err());
            let mut longer = proof.clone();
            longer.push(r1);
            assert!(check_consistency(&longer, m, &r1, n, &r2).is_err());
            let mut prefixed = vec![r1];
            prefixed.extend_from_slice(&proof);
            assert!(check_consistency(&prefixed, m, &r1, n, &r2).is_err());
            assert!(check_consistency(&[], m, &r1, n, &r2).is_err());
            // Reversed direction.
            assert!(matches!(
                check_consistency(&proof, n, &r2, m, &r1),
                Err(MerkleError::OldSizeGreater { old_size, new_size }) if old_size == n && new_size == m
            ));
        }
    }
    println!("consistency: {checked} proofs (all 1 <= m <= n <= 70) verified and tampered");
}

#[test]
fn consistency_big_tree() {
    let store = store();
    let pairs = [(1u64, 10_000u64), (4_096, 10_000), (4_097, 9_999), (9_999, 10_000), (1_234, 5_678), (2, 8_193)];
    for (m, n) in pairs {
        let (r1, r2) = (tree_hash(m, store).unwrap(), tree_hash(n, store).unwrap());
        let proof = prove_consistency(m, n, store).unwrap();
        assert!(consistency_proof_indexes(m, n).unwrap().len() >= proof.len());
        check_consistency(&proof, m, &r1, n, &r2).unwrap();
        let mut bad = proof.clone();
        bad[0] = flip(&bad[0], 0);
        assert!(check_consistency(&bad, m, &r1, n, &r2).is_err());
    }
}

#[test]
fn consistency_edge_cases() {
    let store = store();
    let r = tree_hash(5, store).unwrap();
    let e = empty_root();
    // old_size == 0: refused, whatever the proof or roots.
    for new_size in [0u64, 1, 5] {
        assert_eq!(
            check_consistency(&[], 0, &e, new_size, &r),
            Err(MerkleError::ConsistencyFromEmptyTree { new_size })
        );
        assert_eq!(prove_consistency(0, new_size, store), Err(MerkleError::ConsistencyFromEmptyTree { new_size }));
    }
    assert!(check_consistency(&[], 0, &e, 0, &e).is_err());
    // old > new.
    assert_eq!(prove_consistency(6, 5, store), Err(MerkleError::OldSizeGreater { old_size: 6, new_size: 5 }));
    // Equal sizes.
    assert_eq!(prove_consistency(5, 5, store), Ok(vec![]));
    assert_eq!(check_consistency(&[], 5, &r, 5, &r), Ok(()));
}

#[test]
fn huge_sizes_are_refused_not_hung() {
    let store = store();
    let h = empty_root();
    let big = 1u64 << 63;
    for size in [big, big + 1, u64::MAX] {
        assert_eq!(tree_hash(size, store), Err(MerkleError::TreeSizeTooLarge { size }));
        assert_eq!(tree_hash_indexes(size), Err(MerkleError::TreeSizeTooLarge { size }));
        assert_eq!(prove_leaf(size, 0, store), Err(MerkleError::TreeSizeTooLarge { size }));
        assert_eq!(check_inclusion(&[], size, &h, 0, &h), Err(MerkleError::TreeSizeTooLarge { size }));
        assert_eq!(check_consistency(&[], 1, &h, size, &h), Err(MerkleError::TreeSizeTooLarge { size }));
        assert_eq!(check_consistency(&[], size, &h, size, &h), Err(MerkleError::TreeSizeTooLarge { size }));
        assert_eq!(prove_consistency(1, size, store), Err(MerkleError::TreeSizeTooLarge { size }));
        assert_eq!(check_inclusion(&[], MAX_TREE_SIZE, &h, size, &h), Err(MerkleError::IndexTooLarge { index: size }));
    }
    // Appending past the limit is refused.
    assert_eq!(stored_hashes_for_leaf(MAX_TREE_SIZE, h, store), Err(MerkleError::TreeSizeTooLarge { size: 1 << 63 }));
    assert_eq!(stored_hashes_for_leaf(u64::MAX, h, store), Err(MerkleError::TreeSizeTooLarge { size: u64::MAX }));
    // The largest valid sizes are handled (the store lacks the hashes, so
    // the reader reports them missing; the point is that nothing overflows).
    assert!(matches!(tree_hash(MAX_TREE_SIZE, store), Err(MerkleError::MissingHash { .. })));
    assert_eq!(tree_hash_indexes(MAX_TREE_SIZE).unwrap().len(), 63);
    assert_eq!(inclusion_proof_indexes(MAX_TREE_SIZE, MAX_TREE_SIZE - 1).unwrap().len(), 62);
    assert!(consistency_proof_indexes(MAX_TREE_SIZE - 1, MAX_TREE_SIZE).is_ok());
    // A bogus 62-element proof at the maximum size runs and fails cleanly.
    let proof = vec![h; 62];
    assert!(matches!(
        check_inclusion(&proof, MAX_TREE_SIZE, &h, MAX_TREE_SIZE - 1, &h),
        Err(MerkleError::InclusionRootMismatch { .. })
    ));
}

/// A reader that fails, to check error propagation.
struct Broken;
impl HashReader for Broken {
    fn read_hashes(&self, _: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        Err(MerkleError::Reader { message: "disk on fire".into() })
    }
}
/// A reader that answers with too few hashes.
struct Short;
impl HashReader for Short {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        Ok(vec![[0; 32]; indexes.len().saturating_sub(1)])
    }
}

#[test]
fn reader_errors_propagate() {
    let err = tree_hash(5, &Broken).unwrap_err();
    assert_eq!(err, MerkleError::Reader { message: "disk on fire".into() });
    assert_eq!(err.to_string(), "reading stored hashes failed: disk on fire");
    assert!(matches!(prove_leaf(5, 1, &Short), Err(MerkleError::ReaderCountMismatch { .. })));
    assert!(matches!(stored_hashes_for_leaf(3, [0; 32], &Short), Err(MerkleError::ReaderCountMismatch { .. })));
    // In-memory readers: slice and Vec; missing hash is typed.
    let store = store();
    let slice: &[Hash] = &store[..10];
    assert_eq!(tree_hash(4, slice).unwrap(), tree_hash(4, store).unwrap());
    assert_eq!(tree_hash(9, slice), Err(MerkleError::MissingHash { index: 14 }));
}

#[test]
fn error_messages_are_readable() {
    let e = MerkleError::IndexOutOfRange { index: 7, tree_size: 5 };
    assert_eq!(e.to_string(), "leaf index 7 is not in a tree of 5 leaves");
    let e = MerkleError::WrongProofLength { got: 3, want: 4 };
    assert_eq!(e.to_string(), "the proof has 3 hashes but a tree of this shape needs exactly 4");
    let e = MerkleError::TreeSizeTooLarge { size: 1 << 63 };
    assert!(e.to_string().contains("9223372036854775808"));
    let e = MerkleError::InclusionRootMismatch { computed: [0xab; 32], expected: [0; 32] };
    assert!(e.to_string().contains(&"ab".repeat(32)), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn prop_inclusion(n in 1u64..=10_000, i_frac in 0.0f64..1.0, bit in 0usize..256, k_frac in 0.0f64..1.0) {
        let store = store();
        let i = ((n as f64 * i_frac) as u64).min(n - 1);
        let root = tree_hash(n, store).unwrap();
        let leaf = leaf_hash(&input(i));
        let proof = prove_leaf(n, i, store).unwrap();
        prop_assert!(check_inclusion(&proof, n, &root, i, &leaf).is_ok());
        if !proof.is_empty() {
            let k = ((proof.len() as f64 * k_frac) as usize).min(proof.len() - 1);
            let mut bad = proof.clone();
            bad[k] = flip(&bad[k], bit);
            prop_assert!(check_inclusion(&bad, n, &root, i, &leaf).is_err());
        }
    }

    #[test]
    fn prop_consistency(n in 1u64..=10_000, m_frac in 0.0f64..1.0, bit in 0usize..256, k_frac in 0.0f64..1.0) {
        let store = store();
        let m = ((n as f64 * m_frac) as u64).clamp(1, n);
        let (r1, r2) = (tree_hash(m, store).unwrap(), tree_hash(n, store).unwrap());
        let proof = prove_consistency(m, n, store).unwrap();
        prop_assert!(check_consistency(&proof, m, &r1, n, &r2).is_ok());
        if !proof.is_empty() {
            let k = ((proof.len() as f64 * k_frac) as usize).min(proof.len() - 1);
            let mut bad = proof.clone();
            bad[k] = flip(&bad[k], bit);
            prop_assert!(check_consistency(&bad, m, &r1, n, &r2).is_err());
        }
    }

    /// Arbitrary (also huge) sizes and indexes never panic or hang.
    #[test]
    fn prop_no_panics(a in any::<u64>(), b in any::<u64>(), len in 0usize..70, i in any::<u64>()) {
        let h = empty_root();
        let proof = vec![h; len];
        let _ = check_inclusion(&proof, a, &h, b, &h);
        let _ = check_consistency(&proof, a, &h, b, &h);
        let _ = inclusion_proof_indexes(a, b);
        let _ = consistency_proof_indexes(a, b);
        let _ = tree_hash_indexes(a);
        let (level, n) = split_stored_hash_index(i);
        if i < u64::MAX {
            prop_assert_eq!(stored_hash_index(level, n), i);
        }
    }
}
