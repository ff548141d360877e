//! Runs every RFC 6962 test vector of transparency-dev/merkle (copied into
//! `tests/fixtures/merkle-rfc6962`, see its README and LICENSE) through
//! `check_inclusion` / `check_consistency`, positive and negative cases.
//!
//! # Fields that are not 32 bytes long
//!
//! Some vectors carry a root, leaf hash or proof element that is not 32
//! bytes (`""`, or 12-byte placeholders such as base64 of "don't care 1").
//! Our API takes `[u8; 32]`, so such bytes are parsed with
//! `commitment_ledger::merkle::parse_hash`, which refuses them: a vector with `wantErr: true`
//! and such a field counts as *correctly rejected at parse*. To show the
//! verification logic would refuse them too, each such case is also re-run
//! with every odd-length field mapped to a 32-byte value (`leaf_hash(bytes)`,
//! collision-free for our purpose), and that run fails as well — except for
//! `inclusion/single-entry/empty-root-and-leaf`, whose root and leaf hash
//! are both `""`: it is negative *only* because a 0-byte leaf hash is not a
//! hash (the reference checks the length), which is exactly what our parse
//! refuses. The list of such length-only rejections is asserted.
//!
//! One vector, `consistency/additional/sizes-are-equal-one-and-proof-is-empty`,
//! is *positive* with 12-byte roots: the reference implementation only
//! compares the two roots byte for byte when the sizes are equal. A
//! wrong-length root can never reach our API, so for that vector we check
//! the property it describes on the mapped roots (equal sizes, empty proof,
//! equal roots → accepted). The list of such vectors is asserted to be
//! exactly that one, so a new case of the kind cannot slip through.

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use commitment_ledger::merkle::{
    Hash, MerkleError, check_consistency, check_inclusion, empty_root, leaf_hash, parse_hash, prove_consistency,
    prove_leaf, stored_hashes_for_leaf, tree_hash,
};
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/merkle-rfc6962");

/// Every regular file under `dir`, recursively, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap_or_else(|e| panic!("cannot read {}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn rel(path: &Path) -> String {
    path.strip_prefix(FIXTURES).unwrap_or(path).display().to_string()
}

fn b64(v: &Value, field: &str, file: &str) -> Vec<u8> {
    let s = v[field].as_str().unwrap_or_else(|| panic!("{file}: {field} is not a string"));
    STANDARD.decode(s).unwrap_or_else(|e| panic!("{file}: {field} is not base64: {e}"))
}

fn b64_list(v: &Value, field: &str, file: &str) -> Vec<Vec<u8>> {
    match &v[field] {
        Value::Null => Vec::new(),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                let s = item.as_str().unwrap_or_else(|| panic!("{file}: {field} has a non-string"));
                STANDARD.decode(s).unwrap_or_else(|e| panic!("{file}: {field} element is not base64: {e}"))
            })
            .collect(),
        other => panic!("{file}: {field} is {other}"),
    }
}

fn num(v: &Value, field: &str, file: &str) -> u64 {
    v[field].as_u64().unwrap_or_else(|| panic!("{file}: {field} is not a u64"))
}

/// Strict parse: every field must be a 32-byte hash.
fn strict(fields: &[&[u8]]) -> Result<Vec<Hash>, MerkleError> {
    fields.iter().map(|f| parse_hash(f)).collect()
}

/// Lenient parse used only for the odd-length cases: 32-byte fields as is,
/// anything else mapped onto 32 bytes.
fn mapped(fields: &[&[u8]]) -> Vec<Hash> {
    fields.iter().map(|f| parse_hash(f).unwrap_or_else(|_| leaf_hash(f))).collect()
}

#[derive(Default, Debug)]
struct Tally {
    checked: usize,
    positive: usize,
    negative: usize,
    negative_by_verifier: usize,
    negative_at_parse: usize,
    opaque_positive: Vec<String>,
    length_only: Vec<String>,
    proofs_regenerated: usize,
    failures: Vec<String>,
}

impl Tally {
    fn report(&self, kind: &str, files: usize) {
        println!(
            "{kind}: {} vectors checked ({files} files): {} positive accepted, {} negative rejected \
             ({} by the verifier, {} at parse of a non-32-byte field, of which {} are rejected for the length alone: {:?}), \
             {} positive with non-32-byte fields checked on mapped fields {:?}, \
             {} happy-path proofs regenerated identically by the prover",
            self.checked,
            self.positive,
            self.negative,
            self.negative_by_verifier,
            self.negative_at_parse,
            self.length_only.len(),
            self.length_only,
            self.opaque_positive.len(),
            self.opaque_positive,
            self.proofs_regenerated,
        );
    }
}

/// The 8-leaf tree of transparency-dev/merkle's testonly constants.
fn reference_tree() -> Vec<Hash> {
    let text = fs::read_to_string(format!("{FIXTURES}/tree-roots.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let mut store = Vec::new();
    for (n, input) in v["leaf_inputs_hex"].as_array().unwrap().iter().enumerate() {
        let leaf = leaf_hash(&unhex(input.as_str().unwrap()));
        let new = stored_hashes_for_leaf(n as u64, leaf, &store).unwrap();
        store.extend(new);
    }
    store
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex {s}");
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn inclusion_vectors() {
    let files = files_under(&Path::new(FIXTURES).join("inclusion"));
    let store = reference_tree();
    let mut t = Tally::default();
    for path in &files {
        let name = rel(path);
        let v: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
        let want_err = v["wantErr"].as_bool().unwrap_or_else(|| panic!("{name}: no wantErr"));
        let index = num(&v, "leafIdx", &name);
        let size = num(&v, "treeSize", &name);
        let root = b64(&v, "root", &name);
        let leaf = b64(&v, "leafHash", &name);
        let proof = b64_list(&v, "proof", &name);
        let mut fields: Vec<&[u8]> = vec![&root, &leaf];
        fields.extend(proof.iter().map(Vec::as_slice));
        t.checked += 1;

        let run = |h: &[Hash]| check_inclusion(&h[2..], size, &h[0], index, &h[1]);
        match strict(&fields) {
            Ok(h) => {
                let result = run(&h);
                if result.is_err() != want_err {
                    t.failures.push(format!("{name}: wantErr={want_err}, got {result:?}"));
                } else if want_err {
                    t.negative += 1;
                    t.negative_by_verifier += 1;
                } else {
                    t.positive += 1;
                    // Our prover must produce exactly this proof when the
                    // vector is about the reference tree.
                    if size <= 8 && tree_hash(size, &store).unwrap() == h[0] {
                        assert_eq!(prove_leaf(size, index, &store).unwrap(), h[2..].to_vec(), "{name}");
                        t.proofs_regenerated += 1;
                    }
                }
            }
            Err(parse_err) => {
                let result = run(&mapped(&fields));
                if want_err {
                    t.negative += 1;
                    t.negative_at_parse += 1;
                    if result.is_ok() {
                        // Rejected for the length alone: with the bytes
                        // mapped onto 32, nothing else is wrong.
                        t.length_only.push(format!("{name} ({parse_err})"));
                    }
                } else if result.is_ok() {
                    t.positive += 1;
                    t.opaque_positive.push(name.clone());
                } else {
                    t.failures.push(format!("{name}: positive, mapped fields rejected: {result:?}"));
                }
            }
        }
    }
    t.report("inclusion", files.len());
    assert!(t.failures.is_empty(), "disagreements with wantErr:\n{}", t.failures.join("\n"));
    assert_eq!(t.checked, files.len(), "every inclusion file must be checked");
    assert_eq!(files.len(), 98, "the fixture set has 98 inclusion vectors");
    assert_eq!(t.positive + t.negative, t.checked);
    assert!(t.opaque_positive.is_empty(), "unexpected positive inclusion vectors with odd-length fields");
    assert_eq!(
        t.length_only,
        ["inclusion/single-entry/empty-root-and-leaf.json (a hash must be 32 bytes long, got 0)"],
        "only the empty-root-and-leaf vector is negative for the length alone"
    );
    assert!(t.positive > 0 && t.negative > 0);
    assert!(t.proofs_regenerated > 0);
}

#[test]
fn consistency_vectors() {
    let files = files_under(&Path::new(FIXTURES).join("consistency"));
    let store = reference_tree();
    let mut t = Tally::default();
    for path in &files {
        let name = rel(path);
        let v: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
        let want_err = v["wantErr"].as_bool().unwrap_or_else(|| panic!("{name}: no wantErr"));
        let size1 = num(&v, "size1", &name);
        let size2 = num(&v, "size2", &name);
        let root1 = b64(&v, "root1", &name);
        let root2 = b64(&v, "root2", &name);
        let proof = b64_list(&v, "proof", &name);
        let mut fields: Vec<&[u8]> = vec![&root1, &root2];
        fields.extend(proof.iter().map(Vec::as_slice));
        t.checked += 1;

        let run = |h: &[Hash]| check_consistency(&h[2..], size1, &h[0], size2, &h[1]);
        match strict(&fields) {
            Ok(h) => {
                let result = run(&h);
                if result.is_err() != want_err {
                    t.failures.push(format!("{name}: wantErr={want_err}, got {result:?}"));
                } else if want_err {
                    t.negative += 1;
                    t.negative_by_verifier += 1;
                } else {
                    t.positive += 1;
                    if size2 <= 8
                        && tree_hash(size1, &store).unwrap() == h[0]
                        && tree_hash(size2, &store).unwrap() == h[1]
                    {
                        assert_eq!(prove_consistency(size1, size2, &store).unwrap(), h[2..].to_vec(), "{name}");
                        t.proofs_regenerated += 1;
                    }
                }
            }
            Err(parse_err) => {
                let result = run(&mapped(&fields));
                if want_err {
                    t.negative += 1;
                    t.negative_at_parse += 1;
                    if result.is_ok() {
                        // Rejected for the length alone: with the bytes
                        // mapped onto 32, nothing else is wrong.
                        t.length_only.push(format!("{name} ({parse_err})"));
                    }
                } else if result.is_ok() {
                    t.positive += 1;
                    t.opaque_positive.push(name.clone());
                } else {
                    t.failures.push(format!("{name}: positive, mapped fields rejected: {result:?}"));
                }
            }
        }
    }
    t.report("consistency", files.len());
    assert!(t.failures.is_empty(), "disagreements with wantErr:\n{}", t.failures.join("\n"));
    assert_eq!(t.checked, files.len(), "every consistency file must be checked");
    assert_eq!(files.len(), 98, "the fixture set has 98 consistency vectors");
    assert_eq!(t.positive + t.negative, t.checked);
    assert_eq!(t.opaque_positive, ["consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"]);
    assert!(t.length_only.is_empty(), "negative consistency vectors rejected only for a length: {:?}", t.length_only);
    assert!(t.positive > 0 && t.negative > 0);
    assert!(t.proofs_regenerated > 0);
}

#[test]
fn tree_roots_json() {
    let text = fs::read_to_string(format!("{FIXTURES}/tree-roots.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let store = reference_tree();
    let roots = v["root_hashes_hex_by_size_from_1"].as_array().unwrap();
    assert_eq!(roots.len(), 8);
    for (i, root) in roots.iter().enumerate() {
        let n = i as u64 + 1;
        assert_eq!(tree_hash(n, &store).unwrap().to_vec(), unhex(root.as_str().unwrap()), "root of size {n}");
    }
    let empty = unhex(v["empty_root_hex"].as_str().unwrap());
    assert_eq!(empty_root().to_vec(), empty);
    assert_eq!(tree_hash(0, &store).unwrap().to_vec(), empty);
    println!("tree-roots.json: {} roots and the empty root match", roots.len());
}

#[test]
fn fixture_files_are_all_accounted_for() {
    // Everything in the fixture directory is either a vector checked above
    // or one of the three known support files.
    let all = files_under(Path::new(FIXTURES));
    let vectors = all
        .iter()
        .filter(|p| {
            let r = rel(p);
            r.starts_with("inclusion/") || r.starts_with("consistency/")
        })
        .count();
    let support: Vec<String> =
        all.iter().map(|p| rel(p)).filter(|r| !r.starts_with("inclusion/") && !r.starts_with("consistency/")).collect();
    assert_eq!(support, ["LICENSE", "README.md", "tree-roots.json"]);
    assert_eq!(vectors, 196);
    assert!(
        all.iter()
            .filter(|p| rel(p).starts_with("inclusion/") || rel(p).starts_with("consistency/"))
            .all(|p| { p.extension().is_some_and(|e| e == "json") })
    );
}
