//! Guards the proofs people check without the ledger (`commitment_ledger::proof`) and the checkpoints
//! they are checked against (`commitment_ledger::publish`): inclusion and consistency proofs round
//! trip on ledgers of many sizes; a change to any field of a proof document, a tree size that is not
//! the signed checkpoint's, a checkpoint of another ledger or another key, and a ledger rewritten
//! after its checkpoint all fail; the ledger never signs a checkpoint that contradicts one it kept.

mod support;

use commitment_ledger::checkpoint::{Checkpoint, sign_checkpoint};
use commitment_ledger::keys;
use commitment_ledger::note::{Signer, Verifier};
use commitment_ledger::proof::{self, Checked, ProofError};
use commitment_ledger::publish::{self, Fault, PublishError};
use commitment_ledger::{ActorId, Command, Head, Ledger, MemStore, Record, RegisterArea, Seq, hash_record_bytes};
use serde_json::{Value, json};
use std::path::Path;
use support::*;

/// A ledger over memory with its origin and checkpoint key.
struct Log {
    l: Ledger<MemStore>,
    origin: String,
    signer: Signer,
}

fn area_command(id: &str) -> (ActorId, Command) {
    (actor("admin"), Command::RegisterArea(RegisterArea { id: area(id), name: format!("区域{id}"), name_en: None }))
}

impl Log {
    /// A ledger of record 0 only, with this origin and a new key.
    fn new(origin: &str) -> Log {
        let mut t = support::mem::empty();
        let mut opening = opened("admin");
        opening.origin = origin.to_string();
        t.l.init(opening, Vec::new()).expect("init");
        let signer = Signer::new(origin, keys::generate_signing_key()).expect("signer");
        Log { l: t.l, origin: origin.to_string(), signer }
    }

    /// Appends areas with these ids, one record each.
    fn grow<S: AsRef<str>>(&mut self, ids: impl IntoIterator<Item = S>) {
        let commands: Vec<_> = ids.into_iter().map(|id| area_command(id.as_ref())).collect();
        self.l.append_batch(commands).expect("appends");
    }

    /// Appends areas `a{from}` .. `a{to - 1}`.
    fn grow_to(&mut self, size: u64) {
        let have = self.l.tree_size();
        self.grow((have..size).map(|i| format!("a{i}")));
        assert_eq!(self.l.tree_size(), size);
    }

    /// A checkpoint of the first `size` records, signed by this ledger's key.
    fn checkpoint(&self, size: u64) -> String {
        let root = self.l.tree_root(size).expect("a root");
        sign_checkpoint(&Checkpoint::new(&self.origin, size, root).expect("a checkpoint"), &self.signer).expect("signs")
    }

    fn verifier(&self) -> Verifier {
        self.signer.verifier()
    }

    fn vkey(&self) -> String {
        self.verifier().to_vkey()
    }

    /// A copy of this ledger (same origin and key) over a copy of its store changed by `tweak`.
    fn copy(&self, tweak: impl FnOnce(&mut MemStore)) -> Log {
        let mut store = self.l.store().clone();
        tweak(&mut store);
        let l = Ledger::with_store(store, Box::new(clock_at(FIXTURE_TIME))).expect("the copy opens");
        Log { l, origin: self.origin.clone(), signer: self.signer.clone() }
    }

    fn inclusion(&self, seq: u64, checkpoint: &str) -> String {
        proof::prove_inclusion(&self.l, Seq(seq), checkpoint.as_bytes(), &self.verifier()).expect("proves").to_json()
    }

    fn consistency(&self, old: &str, new: &str) -> String {
        proof::prove_consistency(&self.l, old.as_bytes(), new.as_bytes(), &self.verifier()).expect("proves").to_json()
    }
}

/// Keeps the first `size` records of a store (an older copy, or a cut-back log).
fn cut_to(store: &mut MemStore, size: u64) {
    store.log_mut().retain(|&seq, _| seq < size);
    set_head(store);
}

/// Rewrites record `seq` (its time moves by a day, as an insider would back-date it) and re-chains
/// every later record to it, as one who can write the store can: every link and the head check out.
fn rewrite(store: &mut MemStore, seq: u64) {
    let log = store.log_mut();
    let bytes = log.get_mut(&seq).expect("the record");
    let time = i64::from_le_bytes(bytes[layout::TIME].try_into().unwrap()) - DAY_US;
    bytes[layout::TIME].copy_from_slice(&time.to_le_bytes());
    Record::decode(bytes).expect("a rewritten record still decodes");
    let last = *log.keys().next_back().expect("records");
    for next in seq + 1..=last {
        let prev = hash_record_bytes(&log[&(next - 1)]).0;
        set_prev(log.get_mut(&next).expect("the record"), prev);
    }
    set_head(store);
}

fn set_head(store: &mut MemStore) {
    let (&seq, bytes) = store.log_mut().iter().next_back().expect("records");
    let time = Record::decode(bytes).expect("decodes").time;
    let hash = hash_record_bytes(bytes);
    *store.head_mut() = Some(Head { seq: Seq(seq), hash, time });
}

#[track_caller]
fn holds(proof: &str, checkpoint: &str, vkey: &str) -> Checked {
    proof::check_proof(proof.as_bytes(), checkpoint.as_bytes(), vkey).unwrap_or_else(|e| panic!("{e}\n{proof}"))
}

#[track_caller]
fn refused(proof: &str, checkpoint: &str, vkey: &str) -> ProofError {
    match proof::check_proof(proof.as_bytes(), checkpoint.as_bytes(), vkey) {
        Ok(_) => panic!("accepted:\n{proof}"),
        Err(e) => e,
    }
}

#[test]
fn inclusion_and_consistency_proofs_hold_on_every_small_size() {
    let mut log = Log::new("test.example/small");
    log.grow_to(40);
    let vkey = log.vkey();
    let checkpoints: Vec<String> = (0..=40).map(|n| if n == 0 { String::new() } else { log.checkpoint(n) }).collect();
    for n in 1..=40u64 {
        let cp = &checkpoints[n as usize];
        for seq in 0..n {
            let Checked::Inclusion(c) = holds(&log.inclusion(seq, cp), cp, &vkey) else { panic!("inclusion") };
            assert_eq!((c.record.seq.0, c.checkpoint.size), (seq, n));
            assert_eq!(c.record_json["seq"], json!(seq));
        }
        for m in 1..=n {
            let old = &checkpoints[m as usize];
            let p = log.consistency(old, cp);
            let Checked::Consistency(c) = holds(&p, cp, &vkey) else { panic!("consistency") };
            assert_eq!((c.old.size, c.new.size, c.trusted_is_new), (m, n, true));
            let Checked::Consistency(c) = holds(&p, old, &vkey) else { panic!("consistency") };
            assert_eq!((c.old.size, c.new.size), (m, n));
            assert!(!c.trusted_is_new || m == n);
        }
    }
}

#[test]
fn proofs_hold_at_and_around_powers_of_two_in_a_larger_ledger() {
    let mut log = Log::new("test.example/large");
    log.grow_to(1025);
    let vkey = log.vkey();
    for n in [255u64, 256, 257, 511, 512, 513, 1000, 1024, 1025] {
        let cp = log.checkpoint(n);
        for seq in [0, 1, n / 2, n - 2, n - 1] {
            holds(&log.inclusion(seq, &cp), &cp, &vkey);
        }
        for m in [1u64, 2, 3, 128, 255, 256, 257, n - 1, n].into_iter().filter(|&m| m <= n) {
            holds(&log.consistency(&log.checkpoint(m), &cp), &cp, &vkey);
        }
    }
}

/// Every way to change a JSON value: another value of the same kind, and of other kinds.
fn variants(v: &Value) -> Vec<Value> {
    let mut out = vec![Value::Null, json!(true), json!({}), json!([])];
    match v {
        Value::Number(n) => {
            let n = n.as_u64().unwrap_or(0);
            out.extend([json!(n + 1), json!(n.wrapping_sub(1)), json!(n as f64 + 0.5), json!(n.to_string())]);
        }
        Value::String(s) => {
            let mut flipped = s.clone();
            if let Some(c) = flipped.pop() {
                flipped.push(if c == 'A' { 'B' } else { 'A' });
            }
            out.extend([json!(flipped), json!(format!("{s}x")), json!(""), json!(1)]);
        }
        Value::Array(a) => {
            let mut shorter = a.clone();
            shorter.pop();
            let mut longer = a.clone();
            longer.push(a.first().cloned().unwrap_or(json!("AAAA")));
            let mut reversed = a.clone();
            reversed.reverse();
            out.extend([json!(shorter), json!(longer), json!("x")]);
            if reversed != *a {
                out.push(json!(reversed));
            }
        }
        Value::Object(m) => {
            for (k, inner) in m {
                for changed in variants(inner) {
                    let mut copy = m.clone();
                    copy.insert(k.clone(), changed);
                    out.push(Value::Object(copy));
                }
                let mut without = m.clone();
                without.remove(k);
                out.push(Value::Object(without));
            }
        }
        _ => {}
    }
    out.retain(|c| c != v);
    out
}

/// Flips one bit of the byte at `at` in a base64 field's decoded bytes.
fn flip_base64(text: &str, at: usize) -> String {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    let mut bytes = engine.decode(text).expect("base64");
    let at = at % bytes.len();
    bytes[at] ^= 0x01;
    engine.encode(bytes)
}

/// Every single change to a proof document: each field replaced, removed, or its hashes and bytes
/// flipped; an extra field; the embedded checkpoints' lines changed.
fn tampered(document: &str) -> Vec<(String, String)> {
    let v: Value = serde_json::from_str(document).expect("JSON");
    let m = v.as_object().expect("an object").clone();
    let mut out = Vec::new();
    for (k, field) in &m {
        for changed in variants(field) {
            let mut copy = m.clone();
            copy.insert(k.clone(), changed.clone());
            out.push((format!("{k} = {changed}"), Value::Object(copy).to_string()));
        }
        let mut without = m.clone();
        without.remove(k);
        out.push((format!("no {k}"), Value::Object(without).to_string()));
        let hashes: Vec<String> = match field {
            Value::String(s) if k.ends_with("hash") || k.ends_with("root") || k == "record_bytes" => {
                (0..s.len().min(64)).map(|i| flip_base64(s, i * 7)).collect()
            }
            _ => Vec::new(),
        };
        for h in hashes {
            let mut copy = m.clone();
            copy.insert(k.clone(), json!(h));
            out.push((format!("{k} flipped"), Value::Object(copy).to_string()));
        }
        if k == "hashes" {
            for i in 0..field.as_array().map_or(0, Vec::len) {
                let mut copy = m.clone();
                let s = copy[k][i].as_str().expect("a hash").to_string();
                copy[k][i] = json!(flip_base64(&s, i));
                out.push((format!("hashes[{i}] flipped"), Value::Object(copy).to_string()));
            }
        }
        if let Some(text) = field.as_str().filter(|_| k.ends_with("checkpoint")) {
            for (i, line) in text.split('\n').enumerate().filter(|(_, l)| !l.is_empty()) {
                let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
                lines[i] = format!("{line}0");
                let mut copy = m.clone();
                copy.insert(k.clone(), json!(lines.join("\n")));
                out.push((format!("{k} line {i} changed"), Value::Object(copy).to_string()));
            }
        }
    }
    let mut extra = m.clone();
    extra.insert("note".into(), json!("trust me"));
    out.push(("an extra field".into(), Value::Object(extra).to_string()));
    out
}

#[test]
fn a_change_to_any_field_of_an_inclusion_proof_fails() {
    let mut log = Log::new("test.example/tamper");
    log.grow_to(23);
    let cp = log.checkpoint(23);
    let vkey = log.vkey();
    let good = log.inclusion(13, &cp);
    holds(&good, &cp, &vkey);
    let cases = tampered(&good);
    assert!(cases.len() > 300, "{} cases", cases.len());
    for (what, bad) in cases {
        if let Ok(c) = proof::check_proof(bad.as_bytes(), cp.as_bytes(), &vkey) {
            panic!("{what}: accepted as {c:?}");
        }
    }
}

#[test]
fn a_change_to_any_field_of_a_consistency_proof_fails() {
    let mut log = Log::new("test.example/tamper");
    log.grow_to(23);
    let (old, new) = (log.checkpoint(6), log.checkpoint(23));
    let vkey = log.vkey();
    let good = log.consistency(&old, &new);
    for trusted in [&old, &new] {
        holds(&good, trusted, &vkey);
        for (what, bad) in tampered(&good) {
            if let Ok(c) = proof::check_proof(bad.as_bytes(), trusted.as_bytes(), &vkey) {
                panic!("{what}: accepted as {c:?}");
            }
        }
    }
}

#[test]
fn a_changed_tree_size_fails_even_with_the_trusted_checkpoint_swapped_in() {
    let mut log = Log::new("test.example/size");
    log.grow_to(20);
    let vkey = log.vkey();
    let (small, large) = (log.checkpoint(12), log.checkpoint(20));
    let mut p: Value = serde_json::from_str(&log.inclusion(5, &small)).unwrap();
    // The size alone.
    p["tree_size"] = json!(20);
    let e = refused(&p.to_string(), &small, &vkey);
    assert!(e.to_string().contains("tree_size is 20 but the signed checkpoint covers 12"), "{e}");
    assert_eq!(e.fault(), Fault::Unsound);
    // The size and the checkpoint: the hashes are a path in the tree of 12, not of 20.
    p["checkpoint"] = json!(large);
    let e = refused(&p.to_string(), &large, &vkey);
    assert_eq!(e.fault(), Fault::Unsound, "{e}");
    // Against the larger checkpoint without changing anything: another checkpoint, named.
    let e = refused(&log.inclusion(5, &small), &large, &vkey);
    assert!(e.to_string().contains("another checkpoint (12 records"), "{e}");
    // A consistency proof with its sizes moved.
    let mut c: Value = serde_json::from_str(&log.consistency(&small, &large)).unwrap();
    c["new_size"] = json!(21);
    assert!(refused(&c.to_string(), &large, &vkey).to_string().contains("new_size is 21"));
}

#[test]
fn a_shown_record_that_is_not_what_the_bytes_say_fails() {
    let mut log = Log::new("test.example/record");
    log.grow_to(9);
    let cp = log.checkpoint(9);
    let vkey = log.vkey();
    let mut p: Value = serde_json::from_str(&log.inclusion(4, &cp)).unwrap();
    p["record"]["event"]["name"] = json!("另一个区域");
    let e = refused(&p.to_string(), &cp, &vkey);
    assert!(e.to_string().contains("field `event` differs"), "{e}");
    // The same instant at another UTC offset than the record's other times; no offset at all.
    let mut p: Value = serde_json::from_str(&log.inclusion(4, &cp)).unwrap();
    assert_eq!(p["record"]["time"], json!("2024-05-10T09:00:00+08:00"));
    p["record"]["time"] = json!("2024-05-10T01:00:00+00:00");
    if p["record"].get("actor_time").is_some() {
        assert!(refused(&p.to_string(), &cp, &vkey).to_string().contains("field `actor_time` differs"));
    }
    p["record"]["time"] = json!("2024-05-10T01:00:00");
    assert!(refused(&p.to_string(), &cp, &vkey).to_string().contains("UTC offset"));
    // Real bytes of another record beside the shown one.
    let mut p: Value = serde_json::from_str(&log.inclusion(4, &cp)).unwrap();
    let other: Value = serde_json::from_str(&log.inclusion(5, &cp)).unwrap();
    p["record_bytes"] = other["record_bytes"].clone();
    p["leaf_hash"] = other["leaf_hash"].clone();
    let e = refused(&p.to_string(), &cp, &vkey);
    assert!(e.to_string().contains("record_bytes are record 5, but its leaf_index is 4"), "{e}");
}

#[test]
fn proofs_against_a_checkpoint_of_another_ledger_or_key_fail() {
    let mut a = Log::new("test.example/a");
    let mut b = Log::new("test.example/b");
    a.grow_to(10);
    b.grow_to(10);
    let (ca, cb) = (a.checkpoint(10), b.checkpoint(10));
    let pa = a.inclusion(3, &ca);
    // B's checkpoint with B's key: a proof about another ledger.
    let e = refused(&pa, &cb, &b.vkey());
    assert!(e.to_string().contains("proof about ledger \"test.example/a\""), "{e}");
    // B's checkpoint with A's key: not signed by that key.
    let e = refused(&pa, &cb, &a.vkey());
    assert!(e.to_string().contains("not signed by the ledger key"), "{e}");
    assert_eq!(e.fault(), Fault::BadInput);
    // A's checkpoint with B's key.
    assert!(proof::check_proof(pa.as_bytes(), ca.as_bytes(), &b.vkey()).is_err());
    // The ledger refuses to prove against another ledger's checkpoint, naming both origins.
    let e = proof::prove_inclusion(&a.l, Seq(3), cb.as_bytes(), &a.verifier()).unwrap_err();
    assert!(e.to_string().contains("its origin is \"test.example/b\", this ledger's is \"test.example/a\""), "{e}");
    assert_eq!(e.fault(), Fault::BadInput);
    // Same origin, another key (a look-alike ledger): the signature is not by the ledger's key.
    let mut fake = Log::new("test.example/a");
    fake.grow_to(10);
    let cf = fake.checkpoint(10);
    assert!(proof::prove_inclusion(&a.l, Seq(3), cf.as_bytes(), &a.verifier()).is_err());
    assert!(proof::check_proof(fake.inclusion(3, &cf).as_bytes(), cf.as_bytes(), &a.vkey()).is_err());
}

#[test]
fn a_ledger_rewritten_after_its_checkpoint_cannot_prove_against_it() {
    let mut published = Log::new("test.example/rewrite");
    published.grow_to(14);
    let c10 = published.checkpoint(10);
    // The same ledger with record 6 back-dated and everything after it re-chained.
    let rewritten = published.copy(|s| rewrite(s, 6));
    assert_eq!(rewritten.l.tree_size(), 14);
    assert_eq!(rewritten.l.tree_root(6).unwrap(), published.l.tree_root(6).unwrap(), "a common prefix");
    assert_ne!(rewritten.l.tree_root(7).unwrap(), published.l.tree_root(7).unwrap(), "rewritten from record 6");
    let c14 = rewritten.checkpoint(14);
    let e = proof::prove_consistency(&rewritten.l, c10.as_bytes(), c14.as_bytes(), &rewritten.verifier()).unwrap_err();
    assert!(matches!(e, ProofError::LedgerDiffers { size: 10, .. }), "{e}");
    assert_eq!(e.fault(), Fault::Unsound);
    let e = proof::prove_inclusion(&rewritten.l, Seq(2), c10.as_bytes(), &rewritten.verifier()).unwrap_err();
    assert!(e.to_string().contains("the ledger does not match that checkpoint"), "{e}");
    // A proof from the rewritten ledger's own checkpoint of 10, passed off against the published one.
    let own10 = rewritten.checkpoint(10);
    let mut p: Value = serde_json::from_str(&rewritten.consistency(&own10, &c14)).unwrap();
    holds(&p.to_string(), &own10, &rewritten.vkey());
    p["old_checkpoint"] = json!(c10);
    let e = refused(&p.to_string(), &c10, &rewritten.vkey());
    assert_eq!(e.fault(), Fault::Unsound, "{e}");
    // An older copy: the checkpoint covers more than it has.
    let short = published.copy(|s| cut_to(s, 7));
    let e = proof::prove_inclusion(&short.l, Seq(2), c10.as_bytes(), &short.verifier()).unwrap_err();
    assert!(matches!(e, ProofError::LedgerShorter { size: 10, records: 7 }), "{e}");
}

#[test]
fn malformed_inputs_are_bad_input_and_altered_ones_unsound() {
    let mut log = Log::new("test.example/inputs");
    log.grow_to(5);
    let cp = log.checkpoint(5);
    let vkey = log.vkey();
    let good = log.inclusion(1, &cp);
    for (proof_doc, checkpoint, key, fault) in [
        ("not json", cp.as_str(), vkey.as_str(), Fault::BadInput),
        (r#"{"type":"inclusion"}"#, cp.as_str(), vkey.as_str(), Fault::BadInput),
        (good.as_str(), "not a note\n", vkey.as_str(), Fault::BadInput),
        (good.as_str(), cp.as_str(), "not-a-key", Fault::BadInput),
        (good.as_str(), &cp.replacen("\n5\n", "\n6\n", 1), vkey.as_str(), Fault::Unsound),
    ] {
        let e = proof::check_proof(proof_doc.as_bytes(), checkpoint.as_bytes(), key).unwrap_err();
        assert_eq!(e.fault(), fault, "{e}");
        assert!(e.input().is_some(), "{e} names no input");
    }
    let e = proof::prove_inclusion(&log.l, Seq(5), cp.as_bytes(), &log.verifier()).unwrap_err();
    assert!(e.to_string().contains("record 5 is not covered by the checkpoint, which covers records 0 to 4"), "{e}");
    let e = proof::prove_consistency(&log.l, cp.as_bytes(), log.checkpoint(2).as_bytes(), &log.verifier()).unwrap_err();
    assert!(e.to_string().contains("give the older checkpoint first"), "{e}");
}

fn kept(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join(publish::CHECKPOINT_DIR))
        .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn checkpoint_creates_the_key_once_keeps_every_checkpoint_and_proves_against_them() {
    let tmp = tempdir();
    let dir = tmp.path();
    let mut log = Log::new("test.example/published");
    log.grow_to(7);
    let first = publish::checkpoint(&log.l, dir).expect("checkpoint");
    assert!(first.key_created);
    assert_eq!(first.checkpoint.size, 7);
    log.grow_to(30);
    let second = publish::checkpoint(&log.l, dir).expect("checkpoint");
    assert!(!second.key_created);
    assert_eq!(second.vkey, first.vkey);
    assert_eq!(kept(dir), vec!["00000000000000000007", "00000000000000000030"]);
    assert_eq!(std::fs::read_to_string(&second.path).unwrap(), second.text);
    let verifier = publish::ledger_verifier(dir, &log.origin).unwrap();
    assert_eq!(publish::ledger_vkey(dir, &log.origin).unwrap(), first.vkey);
    let p = proof::prove_consistency(&log.l, first.text.as_bytes(), second.text.as_bytes(), &verifier).unwrap();
    holds(&p.to_json(), &first.text, &first.vkey);
    let p = proof::prove_inclusion(&log.l, Seq(20), second.text.as_bytes(), &verifier).unwrap();
    holds(&p.to_json(), &second.text, &first.vkey);
    // The same size again: the same note (Ed25519 signatures are deterministic).
    assert_eq!(publish::checkpoint(&log.l, dir).unwrap().text, second.text);
}

#[test]
fn checkpoint_refuses_a_ledger_cut_back_or_rewritten_since_its_last_checkpoint() {
    let tmp = tempdir();
    let dir = tmp.path();
    let mut log = Log::new("test.example/guarded");
    log.grow_to(12);
    publish::checkpoint(&log.l, dir).expect("checkpoint");
    log.grow_to(20);
    // An older copy of the ledger in the same directory.
    let older = log.copy(|s| cut_to(s, 8));
    let e = publish::checkpoint(&older.l, dir).unwrap_err();
    assert!(matches!(e, PublishError::Truncated { size: 12, records: 8, .. }), "{e}");
    assert_eq!(e.fault(), Fault::Unsound);
    // A copy rewritten from record 5 on, longer than the checkpoint.
    let rewritten = log.copy(|s| rewrite(s, 5));
    let e = publish::checkpoint(&rewritten.l, dir).unwrap_err();
    assert!(matches!(e, PublishError::Diverged { size: 12, .. }), "{e}");
    assert!(e.to_string().contains("no longer matches the checkpoint it published"), "{e}");
    assert_eq!(kept(dir), vec!["00000000000000000012"], "nothing new was kept");
    // The ledger itself, grown: fine.
    assert_eq!(publish::checkpoint(&log.l, dir).expect("checkpoint").checkpoint.size, 20);
    // A ledger without record 0.
    let empty = support::mem::empty();
    assert!(matches!(publish::checkpoint(&empty.l, dir), Err(PublishError::NotInitialized)));
}

#[test]
fn checkpoint_refuses_to_make_a_new_key_once_checkpoints_were_published() {
    let tmp = tempdir();
    let dir = tmp.path();
    let mut log = Log::new("test.example/lost-key");
    log.grow_to(4);
    publish::checkpoint(&log.l, dir).expect("checkpoint");
    std::fs::remove_file(dir.join(publish::KEY_FILE)).unwrap();
    std::fs::remove_file(dir.join(publish::PUBLIC_KEY_FILE)).unwrap();
    let e = publish::checkpoint(&log.l, dir).unwrap_err();
    assert!(matches!(e, PublishError::NoKey { published: true, .. }), "{e}");
    assert!(e.to_string().contains("restore the key file from a backup"), "{e}");
    assert!(!dir.join(publish::KEY_FILE).exists());
}

#[test]
fn a_kept_checkpoint_that_was_altered_stops_the_next_one() {
    let tmp = tempdir();
    let dir = tmp.path();
    let mut log = Log::new("test.example/kept");
    log.grow_to(4);
    let first = publish::checkpoint(&log.l, dir).expect("checkpoint");
    std::fs::write(&first.path, first.text.replacen("\n4\n", "\n3\n", 1)).unwrap();
    log.grow_to(6);
    let e = publish::checkpoint(&log.l, dir).unwrap_err();
    assert!(matches!(e, PublishError::Kept { .. }), "{e}");
    assert!(e.to_string().contains("does not verify"), "{e}");
}
