//! Guards the rules, batches, reopen and recovery paths against a plain model: random command
//! sequences (with reopens, crash-reopens and injected store failures) on MemStore and on sled must
//! be accepted or refused exactly as the model says, and leave a ledger that verifies and replays.
//!
//! The sequences are the fuzz crate's model target's (`fuzz/harness/model.rs`), driven here by proptest.
//! They include key commands (registering, rotating and retiring keys, keys the ledger has and keys it
//! does not), in signed ledgers and in ledgers opened unsigned.

#[path = "../fuzz/harness/mod.rs"]
mod harness;

use commitment_ledger::keys::{SigningKey, WriteMode};
use commitment_ledger::{ActorId, Ledger, LedgerError, ManualClock, SledStore, StoreError, SystemClock};
use harness::model::{Backend, MemBackend, Op, Stats, ops_from_bytes, run};
use proptest::prelude::*;
use std::sync::Mutex;

/// A ledger in a temporary directory on sled; reopening closes it and opens the directory again.
struct SledBackend {
    dir: tempfile::TempDir,
}

impl Backend for SledBackend {
    type S = SledStore;
    fn create(&mut self, clock: ManualClock) -> Ledger<SledStore> {
        let mut l = new_ledger(self.dir.path());
        l.set_clock(Box::new(clock));
        l
    }
    fn reopen(&mut self, ledger: Ledger<SledStore>, crash: bool, _fail: u32, clock: ManualClock) -> Ledger<SledStore> {
        if crash {
            // Dropping without close still releases sled; the projection write-back of Drop is the
            // only difference, and crash_kill.rs covers real crashes.
            drop(ledger);
        } else {
            ledger.close().expect("closes");
        }
        let mut l = open_retrying(self.dir.path());
        l.set_clock(Box::new(clock));
        l
    }
    fn injects_failures(&self) -> bool {
        false
    }
    fn give_key(&mut self, ledger: &mut Ledger<SledStore>, actor: &ActorId, key: &SigningKey) {
        // Where the ledger looks for an actor's key when it opens: keys/<actor>.pem, mode 0600.
        let path = commitment_ledger::keyring::actor_key_path(self.dir.path(), actor);
        commitment_ledger::keyring::create_keys_dir(path.parent().expect("keys/")).expect("keys/");
        commitment_ledger::keys::write_private_key(&path, key, WriteMode::Overwrite).expect("writes the key");
        ledger.keyring_mut().insert(actor.clone(), key.clone());
    }
}

/// Opens a ledger that this process has just closed. sled's background threads may hold its lock a
/// little after the close; the store waits 0.5 s for it, which can be short under load, so retry for
/// up to 2 s (tests/faults.rs checks that one plain open suffices).
fn open_retrying(dir: &std::path::Path) -> Ledger<SledStore> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        match Ledger::open(dir) {
            Err(LedgerError::Store(StoreError::Locked(_))) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            r => return r.expect("reopens"),
        }
    }
}

/// A ledger over a new, empty store in `dir` (no record 0 yet).
fn new_ledger(dir: &std::path::Path) -> Ledger<SledStore> {
    Ledger::with_store(SledStore::open(dir, true).expect("the store opens"), Box::new(SystemClock)).expect("opens")
}

fn sled() -> SledBackend {
    SledBackend { dir: tempfile::tempdir().expect("tempdir") }
}

static MEM_STATS: Mutex<Option<Stats>> = Mutex::new(None);

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn memstore_agrees_with_the_model(data in proptest::collection::vec(any::<u8>(), 0..3000)) {
        let stats = run(&ops_from_bytes(&data), &mut MemBackend);
        MEM_STATS.lock().unwrap().get_or_insert_with(Stats::default).add(&stats);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn sled_agrees_with_the_model(data in proptest::collection::vec(any::<u8>(), 0..3000)) {
        run(&ops_from_bytes(&data), &mut sled());
    }
}

/// A fixed script that appends every kind of command, so that the model run is known to exercise
/// acceptance (random inputs are mostly refused) on both stores.
fn script() -> Vec<Op> {
    use harness::model::Cmd::*;
    let d = Op::Do;
    vec![
        // office (office), fin (department), macao (counterpart), deputy (deputy)
        d(RegisterActor { by: 0, id: 1, role: 0, name: 0, key: None }),
        d(RegisterActor { by: 1, id: 2, role: 1, name: 1, key: None }),
        Op::Batch(vec![
            RegisterActor { by: 0, id: 4, role: 2, name: 0, key: None },
            RegisterActor { by: 0, id: 5, role: 3, name: 1, key: None },
        ]),
        d(RegisterArea { by: 0, id: 2, name: 1 }),
        d(RecordSource { by: 1, id: 0, issuer: 1, addressee: Some(5), date: 1, title: 1, digest: 1 }),
        d(Record {
            by: 1,
            id: 0,
            area: 0,
            lead: 2,
            partners: vec![0],
            kind: 0,
            title: 1,
            text: 4,
            on: None,
            due: Some(7),
            source: Some(0),
        }),
        Op::Reopen,
        d(Progress { by: 2, item: 0, text: 1, on: Some(1), evidence: Some(0) }),
        d(Indicator { by: 3, item: 0, name: 0, value: 1, unit: Some(14), as_of: Some(0), approx: true }),
        Op::CrashReopen,
        d(Correct { by: 2, item: 0, entry: 2, text: None, value: Some(2), reason: 0 }),
        d(Status { by: 2, item: 0, to: 1, reason: 0, on: None }),
        d(Amend { by: 1, item: 0, title: Some(0), title_en: None, text: None, due: Some(1), area: Some(1), reason: 0 }),
        d(Reassign { by: 0, item: 0, lead: 1, partners: Some(vec![1]), reason: 0 }),
        d(Feedback { by: 4, source: 0, verdict: 0, text: Some(1), on: None }),
        d(Categorize { by: 1, source: 0, category: 1, reason: None }),
        // refusals: a department acting on another's item, an illegal move, a second opening
        d(Status { by: 3, item: 0, to: 0, reason: 0, on: None }),
        d(OpenAgain),
        Op::FailNext(0),
        d(Progress { by: 1, item: 0, text: 0, on: None, evidence: None }),
        d(Progress { by: 1, item: 0, text: 0, on: None, evidence: None }),
        Op::Clock(-3600),
        d(Status { by: 1, item: 0, to: 5, reason: 0, on: None }),
        d(Progress { by: 1, item: 0, text: 0, on: None, evidence: None }),
        // Keys. fin rotates its own key (the ledger makes the new one).
        d(RegisterKey { by: 2, actor: 2, key: None }),
        // The office registers a key of the pool for macao. A batch that has macao sign with it at once
        // is refused: its private half is handed over only once the record is written. Then it signs
        // (after a reopen: on sled, from keys/macao.pem).
        Op::Batch(vec![RegisterKey { by: 1, actor: 4, key: Some(0) }, RegisterKey { by: 3, actor: 4, key: None }]),
        d(RegisterKey { by: 1, actor: 4, key: Some(0) }),
        Op::Reopen,
        d(RegisterKey { by: 3, actor: 4, key: None }),
        d(Feedback { by: 4, source: 0, verdict: 1, text: None, on: None }),
        // The deputy's new key is one her office keeps to itself: the ledger cannot sign for her.
        d(RegisterKey { by: 0, actor: 5, key: Some(4) }),
        d(Feedback { by: 4, source: 0, verdict: 2, text: None, on: None }),
        // A key registered before, a weak key and bytes that are no canonical point are refused.
        d(RegisterActor { by: 0, id: 3, role: 1, name: 0, key: Some(0) }),
        d(RegisterKey { by: 0, actor: 2, key: Some(5) }),
        d(RegisterKey { by: 0, actor: 2, key: Some(6) }),
        // fin's key is retired (not with an empty reason): fin cannot append, nor register a key for
        // itself; the office can, and fin appends again.
        d(RetireKey { by: 1, actor: 2, reason: Some(194) }),
        d(RetireKey { by: 1, actor: 2, reason: Some(0) }),
        d(Record {
            by: 2,
            id: 1,
            area: 0,
            lead: 0,
            partners: vec![],
            kind: 0,
            title: 0,
            text: 1,
            on: None,
            due: None,
            source: None,
        }),
        d(RegisterKey { by: 2, actor: 2, key: None }),
        d(RegisterKey { by: 1, actor: 2, key: Some(1) }),
        Op::CrashReopen,
        d(Record {
            by: 2,
            id: 1,
            area: 0,
            lead: 0,
            partners: vec![],
            kind: 0,
            title: 0,
            text: 1,
            on: None,
            due: None,
            source: None,
        }),
    ]
}

/// A ledger opened unsigned, as version 1 opened ledgers: actors without keys append unsigned, the
/// ledger makes no keys (a key command without a key is refused), and an actor that has had a key
/// signs from then on, so that once its key is retired it cannot append until it gets a new one.
fn unsigned_script() -> Vec<Op> {
    use harness::model::Cmd::*;
    let d = Op::Do;
    let fin_records = || Record {
        by: 2,
        id: 2,
        area: 0,
        lead: 0,
        partners: vec![],
        kind: 0,
        title: 0,
        text: 1,
        on: None,
        due: None,
        source: None,
    };
    let mut ops = vec![Op::Unsigned];
    ops.extend(harness::model::prologue());
    ops.extend([
        d(Progress { by: 2, item: 0, text: 0, on: None, evidence: None }),
        d(RegisterKey { by: 1, actor: 2, key: None }),
        d(RegisterKey { by: 1, actor: 2, key: Some(2) }),
        Op::Reopen,
        d(Progress { by: 2, item: 0, text: 1, on: None, evidence: None }),
        d(RetireKey { by: 2, actor: 2, reason: None }),
        Op::CrashReopen,
        d(Progress { by: 2, item: 0, text: 2, on: None, evidence: None }),
        d(fin_records()),
        d(RegisterKey { by: 1, actor: 2, key: Some(3) }),
        d(fin_records()),
        // An actor registered with a key signs from its first record: sci's is a key its department
        // keeps to itself, so the ledger cannot append as sci.
        d(RegisterActor { by: 0, id: 3, role: 1, name: 0, key: Some(4) }),
        // (sci: `by` 131 and `lead` 195 pick it from the whole pool of actors.)
        d(Record {
            by: 131,
            id: 3,
            area: 0,
            lead: 195,
            partners: vec![],
            kind: 0,
            title: 0,
            text: 1,
            on: None,
            due: None,
            source: None,
        }),
    ]);
    ops
}

#[test]
fn a_ledger_opened_unsigned_keeps_actors_that_had_a_key_signing_on_both_stores() {
    for stats in [run(&unsigned_script(), &mut MemBackend), run(&unsigned_script(), &mut sled())] {
        assert_eq!(stats.appended.get("key"), Some(&2), "{stats:?}");
        assert_eq!(stats.appended.get("retire"), Some(&1), "{stats:?}");
        assert_eq!(stats.appended.get("progress"), Some(&2), "{stats:?}");
        assert_eq!(stats.refused.get("progress"), Some(&1), "the retired key's actor: {stats:?}");
        assert_eq!(stats.refused.get("key"), Some(&1), "no key given in an unsigned ledger: {stats:?}");
        assert_eq!(stats.appended.get("record").copied(), Some(3), "{stats:?}");
        assert_eq!(stats.refused.get("record").copied(), Some(2), "{stats:?}");
    }
}

const KINDS: [&str; 14] = [
    "actor",
    "area",
    "source",
    "record",
    "progress",
    "indicator",
    "correct",
    "status",
    "amend",
    "reassign",
    "feedback",
    "categorize",
    "key",
    "retire",
];

#[test]
fn the_script_appends_every_kind_of_command_on_both_stores() {
    for stats in [run(&script(), &mut MemBackend), run(&script(), &mut sled())] {
        for k in KINDS {
            assert!(stats.appended.get(k).copied().unwrap_or(0) > 0, "no {k} appended: {stats:?}");
        }
        assert!(stats.refused.contains_key("status") && stats.refused.contains_key("open"), "{stats:?}");
        assert!(stats.refused.contains_key("progress"), "progress on a dropped item: {stats:?}");
        for k in ["key", "retire", "feedback", "actor", "record"] {
            assert!(stats.refused.contains_key(k), "no {k} refused: {stats:?}");
        }
        assert!(stats.batches >= 1 && stats.reopens >= 2, "{stats:?}");
    }
    let mem = run(&script(), &mut MemBackend);
    assert_eq!(mem.store_failures, 1, "the injected failure was not seen: {mem:?}");
}

#[test]
fn random_runs_accept_and_refuse_a_mix() {
    // Runs after the proptest above when the tests share a process; runs its own cases otherwise.
    let mut total = MEM_STATS.lock().unwrap().clone().unwrap_or_default();
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..200 {
        let data: Vec<u8> = (0..2000)
            .map(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng as u8
            })
            .collect();
        total.add(&run(&ops_from_bytes(&data), &mut MemBackend));
    }
    let appended: u64 = total.appended.values().sum();
    let refused: u64 = total.refused.values().sum();
    assert!(appended > 50 && refused > 50, "{total:?}");
    assert!(total.store_failures > 0 && total.reopens > 0, "{total:?}");
    // Key commands are generated, and both outcomes happen for them.
    for k in ["key", "retire"] {
        assert!(total.appended.get(k).is_some_and(|&n| n > 0), "no {k} appended: {total:?}");
        assert!(total.refused.get(k).is_some_and(|&n| n > 0), "no {k} refused: {total:?}");
    }
}

/// A ledger this process has closed can be opened again at once (no retry here). Found by the sled
/// model run above: sled's background threads held its lock a few milliseconds after the close, about
/// one reopen in a hundred; fixed on main. This binary starts no child processes, whose forks would
/// hold the lock too (`tests/faults.rs` keeps that case).
#[test]
fn an_in_process_reopen_is_never_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut backend = SledBackend { dir };
    let clock = ManualClock::at(harness::fixtures::now());
    let mut l = backend.create(clock.clone());
    l.init(harness::fixtures::opened(), harness::fixtures::areas()).expect("init");
    l.close().expect("closes");
    let admin = commitment_ledger::ActorId::new("admin").expect("valid");
    for i in 0..60 {
        let mut l = match Ledger::open(backend.dir.path()) {
            Ok(l) => l,
            Err(e) => panic!("reopen {i} refused: {e}"),
        };
        // Records of 1 KB keep sled's background writers busy when the ledger goes away.
        let area = commitment_ledger::RegisterArea {
            id: commitment_ledger::AreaId::new(format!("a{i}")).expect("valid"),
            name: "长".repeat(170),
            name_en: Some("x".repeat(500)),
        };
        l.set_clock(Box::new(clock.clone()));
        l.append(&admin, commitment_ledger::Command::RegisterArea(area)).expect("appends");
        if i % 2 == 0 {
            l.close().expect("closes");
        } else {
            drop(l);
        }
    }
}
