//! Guards the witness (`commitment_ledger::witness`): it trusts its first checkpoint only with the log
//! key, cosigns a newer one only with a consistency proof from the last one it cosigned, refuses an
//! older checkpoint, a fork, a proof between other checkpoints and a changed log key, and writes its
//! state only after every check passed; its cosignatures verify as C2SP tlog-cosignature/v1.

mod support;

use commitment_ledger::checkpoint::{Checkpoint, CosignatureSigner, open_checkpoint, sign_checkpoint};
use commitment_ledger::keys::{self, SigningKey};
use commitment_ledger::note::Signer;
use commitment_ledger::proof::{self, ProofError};
use commitment_ledger::publish::Fault;
use commitment_ledger::witness::{self, CHECKPOINT_FILE, LOG_KEY_FILE, WitnessError};
use commitment_ledger::{Command, Head, Ledger, MemStore, Record, RegisterArea, Seq, hash_record_bytes};
use serde_json::{Value, json};
use std::path::Path;
use support::*;

const NOW: u64 = 1_780_000_000;

/// A ledger over memory, its origin and its checkpoint key.
struct Log {
    l: Ledger<MemStore>,
    origin: String,
    key: SigningKey,
    signer: Signer,
}

impl Log {
    fn new(origin: &str, size: u64) -> Log {
        let mut t = support::mem::empty();
        let mut opening = opened("admin");
        opening.origin = origin.to_string();
        t.l.init(opening, Vec::new()).expect("init");
        let key = keys::generate_signing_key();
        let signer = Signer::new(origin, key.clone()).expect("signer");
        let mut log = Log { l: t.l, origin: origin.to_string(), key, signer };
        log.grow_to(size);
        log
    }

    fn grow_to(&mut self, size: u64) {
        let commands: Vec<_> = (self.l.tree_size()..size)
            .map(|i| {
                let id = area(&format!("a{i}"));
                (actor("admin"), Command::RegisterArea(RegisterArea { id, name: format!("区域{i}"), name_en: None }))
            })
            .collect();
        self.l.append_batch(commands).expect("appends");
    }

    fn checkpoint(&self, size: u64) -> String {
        let root = self.l.tree_root(size).expect("a root");
        sign_checkpoint(&Checkpoint::new(&self.origin, size, root).expect("a checkpoint"), &self.signer).expect("signs")
    }

    fn vkey(&self) -> String {
        self.signer.verifier().to_vkey()
    }

    fn consistency(&self, old: &str, new: &str) -> String {
        proof::prove_consistency(&self.l, old.as_bytes(), new.as_bytes(), &self.signer.verifier())
            .expect("proves")
            .to_json()
    }

    /// The same ledger with record `seq` back-dated and every later record re-chained to it.
    fn rewritten(&self, seq: u64) -> Log {
        let mut store = self.l.store().clone();
        let log = store.log_mut();
        let bytes = log.get_mut(&seq).expect("the record");
        let time = i64::from_le_bytes(bytes[layout::TIME].try_into().unwrap()) - DAY_US;
        bytes[layout::TIME].copy_from_slice(&time.to_le_bytes());
        let last = *log.keys().next_back().expect("records");
        for next in seq + 1..=last {
            let prev = hash_record_bytes(&log[&(next - 1)]).0;
            set_prev(log.get_mut(&next).expect("the record"), prev);
        }
        let bytes = log[&last].clone();
        let head = Head { seq: Seq(last), hash: hash_record_bytes(&bytes), time: Record::decode(&bytes).unwrap().time };
        *store.head_mut() = Some(head);
        let l = Ledger::with_store(store, Box::new(clock_at(FIXTURE_TIME))).expect("opens");
        Log { l, origin: self.origin.clone(), key: self.key.clone(), signer: self.signer.clone() }
    }
}

/// A witness: its key, name and state directory.
struct Witness {
    _tmp: tempfile::TempDir,
    key: SigningKey,
    name: String,
}

impl Witness {
    fn new(name: &str) -> Witness {
        Witness { _tmp: tempdir(), key: keys::generate_signing_key(), name: name.to_string() }
    }

    fn dir(&self) -> std::path::PathBuf {
        self._tmp.path().join("state")
    }

    fn cosign(
        &self,
        checkpoint: &str,
        proof: Option<&str>,
        log_key: Option<&str>,
    ) -> Result<witness::Cosigned, WitnessError> {
        witness::cosign(
            &self.dir(),
            checkpoint.as_bytes(),
            proof.map(str::as_bytes),
            log_key,
            &self.key,
            &self.name,
            NOW,
        )
    }

    fn state(&self) -> Option<String> {
        std::fs::read_to_string(self.dir().join(CHECKPOINT_FILE)).ok()
    }

    fn state_size(&self) -> Option<u64> {
        self.state().map(|s| s.lines().nth(1).unwrap().parse().unwrap())
    }
}

fn snapshot_of(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    snapshot(dir).into_iter().filter(|(p, _)| !p.ends_with(witness::LOCK_FILE)).collect()
}

#[test]
fn first_use_needs_the_log_key_and_trusts_the_checkpoint() {
    let log = Log::new("test.example/witnessed", 9);
    let w = Witness::new("congress-office");
    let c9 = log.checkpoint(9);
    let e = w.cosign(&c9, None, None).unwrap_err();
    assert!(matches!(e, WitnessError::NeedLogKey { .. }), "{e}");
    assert!(e.to_string().contains("--log-key"), "{e}");
    assert!(!w.dir().exists(), "nothing written");
    let done = w.cosign(&c9, None, Some(&log.vkey())).expect("cosigned");
    assert!(done.first_use());
    assert_eq!((done.checkpoint.size, done.timestamp), (9, NOW));
    assert_eq!(std::fs::read_to_string(w.dir().join(LOG_KEY_FILE)).unwrap().trim(), log.vkey());
    assert_eq!(w.state().as_deref(), Some(done.note.as_str()));
    // The cosignature is a C2SP cosignature/v1 by the witness's key, at NOW, beside the log's signature.
    let cosigner = CosignatureSigner::new("congress-office", w.key.clone()).unwrap().verifier();
    assert_eq!(done.cosigner_vkey, cosigner.to_vkey());
    let opened = open_checkpoint(done.note.as_bytes(), &log.origin, &log.signer.verifier(), &[cosigner]).unwrap();
    assert_eq!(opened.cosignatures.len(), 1);
    assert_eq!((opened.cosignatures[0].name.as_str(), opened.cosignatures[0].timestamp), ("congress-office", NOW));
    assert!(done.note.starts_with(&c9), "the log's note is kept as it was");
}

#[test]
fn a_newer_checkpoint_is_cosigned_only_with_a_consistency_proof_from_the_state() {
    let mut log = Log::new("test.example/witnessed", 9);
    let w = Witness::new("auditor");
    let c9 = log.checkpoint(9);
    w.cosign(&c9, None, Some(&log.vkey())).expect("first use");
    log.grow_to(30);
    let c30 = log.checkpoint(30);
    let before = snapshot_of(&w.dir());
    let e = w.cosign(&c30, None, None).unwrap_err();
    assert!(matches!(e, WitnessError::NeedProof { state_size: 9, new_size: 30 }), "{e}");
    assert_eq!(e.fault(), Fault::BadInput);
    assert_eq!(snapshot_of(&w.dir()), before, "a refusal writes nothing");
    // A proof between other checkpoints.
    let c20 = log.checkpoint(20);
    let e = w.cosign(&c30, Some(&log.consistency(&c20, &c30)), None).unwrap_err();
    assert!(
        e.to_string().contains("proves consistency from 20 to 30 records, but the checkpoints are of 9 and 30"),
        "{e}"
    );
    // An inclusion proof.
    let inclusion = proof::prove_inclusion(&log.l, Seq(3), c30.as_bytes(), &log.signer.verifier()).unwrap().to_json();
    assert!(w.cosign(&c30, Some(&inclusion), None).unwrap_err().to_string().contains("is an inclusion proof"));
    // A proof whose hashes were changed.
    let mut bad: Value = serde_json::from_str(&log.consistency(&c9, &c30)).unwrap();
    bad["hashes"][0] = json!(base64_of([7u8; 32]));
    let e = w.cosign(&c30, Some(&bad.to_string()), None).unwrap_err();
    assert!(matches!(e, WitnessError::Proof(ProofError::Fails { .. })), "{e}");
    assert_eq!(e.fault(), Fault::Unsound);
    assert_eq!(snapshot_of(&w.dir()), before, "a refusal writes nothing");
    // The right proof.
    let done = w.cosign(&c30, Some(&log.consistency(&c9, &c30)), None).expect("cosigned");
    assert_eq!(done.previous.as_ref().map(|p| p.size), Some(9));
    assert_eq!(w.state_size(), Some(30));
    // The same checkpoint again needs no proof.
    let again = w.cosign(&c30, None, None).expect("cosigned again");
    assert_eq!(again.checkpoint, done.checkpoint);
}

fn base64_of(bytes: [u8; 32]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn an_older_checkpoint_is_refused_naming_both_sizes() {
    let log = Log::new("test.example/witnessed", 12);
    let w = Witness::new("auditor");
    w.cosign(&log.checkpoint(12), None, Some(&log.vkey())).expect("first use");
    let before = snapshot_of(&w.dir());
    let e = w.cosign(&log.checkpoint(8), None, None).unwrap_err();
    assert!(matches!(e, WitnessError::Older { state_size: 12, new_size: 8 }), "{e}");
    assert!(e.to_string().contains("covers 8 records, fewer than the 12"), "{e}");
    assert_eq!(snapshot_of(&w.dir()), before);
}

#[test]
fn a_fork_is_refused_at_the_same_size_and_beyond_it() {
    let mut log = Log::new("test.example/forked", 14);
    let w = Witness::new("auditor");
    let c10 = log.checkpoint(10);
    w.cosign(&c10, None, Some(&log.vkey())).expect("first use");
    // Another history, signed by the same (stolen) key.
    let fork = log.rewritten(6);
    let e = w.cosign(&fork.checkpoint(10), None, None).unwrap_err();
    assert!(matches!(e, WitnessError::Fork { size: 10, .. }), "{e}");
    assert!(e.to_string().starts_with("fork:"), "{e}");
    assert_eq!(e.fault(), Fault::Unsound);
    // Beyond it, with the fork's own consistency proof.
    let (f10, f14) = (fork.checkpoint(10), fork.checkpoint(14));
    let e = w.cosign(&f14, Some(&fork.consistency(&f10, &f14)), None).unwrap_err();
    assert_eq!(e.fault(), Fault::Unsound, "{e}");
    assert_eq!(w.state_size(), Some(10));
    // The real log goes on.
    log.grow_to(16);
    let c16 = log.checkpoint(16);
    w.cosign(&c16, Some(&log.consistency(&c10, &c16)), None).expect("the real log is cosigned");
}

#[test]
fn the_log_key_is_fixed_on_first_use() {
    let log = Log::new("test.example/keyed", 5);
    let other = Log::new("test.example/keyed", 5);
    let w = Witness::new("auditor");
    // A checkpoint not signed by the key given: nothing is trusted or written.
    let e = w.cosign(&other.checkpoint(5), None, Some(&log.vkey())).unwrap_err();
    assert!(e.to_string().contains("is not signed by the ledger key"), "{e}");
    assert!(!w.dir().join(LOG_KEY_FILE).exists());
    w.cosign(&log.checkpoint(5), None, Some(&log.vkey())).expect("first use");
    let e = w.cosign(&log.checkpoint(5), None, Some(&other.vkey())).unwrap_err();
    assert!(matches!(e, WitnessError::LogKeyChanged { .. }), "{e}");
    let e = w.cosign(&other.checkpoint(5), None, None).unwrap_err();
    assert!(matches!(e, WitnessError::Checkpoint(_)), "{e}");
    let e = w.cosign(&log.checkpoint(5), None, Some("not a key")).unwrap_err();
    assert!(matches!(e, WitnessError::LogKey { .. }), "{e}");
    assert_eq!(e.fault(), Fault::BadInput);
}

#[test]
fn a_checkpoint_of_another_origin_is_refused() {
    let log = Log::new("test.example/one", 5);
    let w = Witness::new("auditor");
    w.cosign(&log.checkpoint(5), None, Some(&log.vkey())).expect("first use");
    // The same key used for another origin.
    let mut other = Log::new("test.example/two", 6);
    other.signer = Signer::new("test.example/one", log.key.clone()).unwrap();
    let body = Checkpoint::new("test.example/two", 6, other.l.tree_root(6).unwrap()).unwrap();
    let note = sign_checkpoint(&body, &other.signer).unwrap();
    let e = w.cosign(&note, None, None).unwrap_err();
    assert!(e.to_string().contains("its origin is \"test.example/two\""), "{e}");
}

#[test]
fn a_damaged_state_is_unsound_and_a_bad_name_is_bad_input() {
    let log = Log::new("test.example/state", 5);
    let w = Witness::new("auditor");
    w.cosign(&log.checkpoint(5), None, Some(&log.vkey())).expect("first use");
    let state = w.dir().join(CHECKPOINT_FILE);
    let text = std::fs::read_to_string(&state).unwrap();
    std::fs::write(&state, text.replacen("\n5\n", "\n4\n", 1)).unwrap();
    let e = w.cosign(&log.checkpoint(5), None, None).unwrap_err();
    assert!(matches!(e, WitnessError::StateDamaged { .. }), "{e}");
    assert_eq!(e.fault(), Fault::Unsound);
    let bad = Witness::new("two words");
    let e = bad.cosign(&log.checkpoint(5), None, Some(&log.vkey())).unwrap_err();
    assert!(matches!(e, WitnessError::Name { .. }), "{e}");
    assert!(e.to_string().contains("--name"), "{e}");
}

#[test]
fn witnesses_add_their_lines_to_a_note_already_cosigned() {
    let log = Log::new("test.example/many", 7);
    let (a, b) = (Witness::new("office"), Witness::new("auditor"));
    let first = a.cosign(&log.checkpoint(7), None, Some(&log.vkey())).expect("a");
    let second = b.cosign(&first.note, None, Some(&log.vkey())).expect("b");
    let verifiers = [
        CosignatureSigner::new("office", a.key.clone()).unwrap().verifier(),
        CosignatureSigner::new("auditor", b.key.clone()).unwrap().verifier(),
    ];
    let opened = open_checkpoint(second.note.as_bytes(), &log.origin, &log.signer.verifier(), &verifiers).unwrap();
    let names: Vec<&str> = opened.cosignatures.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["office", "auditor"]);
}

#[test]
fn a_running_cosigning_holds_the_state() {
    let log = Log::new("test.example/locked", 3);
    let w = Witness::new("auditor");
    w.cosign(&log.checkpoint(3), None, Some(&log.vkey())).expect("first use");
    let lock = std::fs::OpenOptions::new().write(true).open(w.dir().join(witness::LOCK_FILE)).unwrap();
    lock.lock().unwrap();
    let e = w.cosign(&log.checkpoint(3), None, None).unwrap_err();
    assert!(matches!(e, WitnessError::Busy { .. }), "{e}");
    assert_eq!(e.fault(), Fault::Io);
    drop(lock);
    w.cosign(&log.checkpoint(3), None, None).expect("free again");
}
