//! Guards the forever-format: the ledgers in `tests/fixtures/golden-v1/` (written once by record
//! format 1 and event version 1: unsigned) and `tests/fixtures/golden-v2/` (written once by record
//! format 2: a signed ledger, with key rotation and retirement) must open, verify and project in every
//! later version of this crate.
//!
//! Each fixture holds the same ledger twice: `ledger/` is a closed sled ledger directory (without its
//! `keys/` folder: a fixture holds no private key, and none is needed to verify), and `records.hex`
//! holds the raw bytes of each record (one line of lowercase hex per record, seq 0 first).
//! `expected.txt` gives the record count and the head (and, from v2 on, the Merkle root). Nothing in a
//! fixture directory may ever be rewritten. When the format moves on, write a new fixture next to them
//! (see [`generate_golden_fixture`]) and keep every old one verifying.

use commitment_ledger::keys::{PublicKey, generate_signing_key};
use commitment_ledger::{
    ActorId, AreaId, Code, Command, Date, Event, Hash, ItemId, Ledger, MemStore, NewCommitment, Record, Seq, Signed,
    SourceId, Store, StreamVersion,
};
#[allow(unused_imports)]
use commitment_ledger::{
    Amend, Categorize, Correct, Head, OpenLedger, RecordFeedback, RecordIndicator, RecordSource, RegisterActor,
    RegisterArea, Timestamp,
};
use commitment_ledger::{EventType, ManualClock};
use commitment_ledger::{Kind, Role, SEED_AREAS, SourceKind, Vocabulary};
use std::collections::{BTreeMap, BTreeSet};

fn ts(rfc3339: &str) -> Timestamp {
    Timestamp::parse(rfc3339).expect("a valid RFC 3339 time")
}
use std::path::{Path, PathBuf};

/// The fixture of record format 1 (unsigned). Never regenerate it.
const V1: &str = "tests/fixtures/golden-v1";

/// The fixture of record format 2 (signed). Never regenerate it.
const V2: &str = "tests/fixtures/golden-v2";

/// Where [`generate_golden_fixture`] writes. To create a new fixture version, change this to the next
/// unused name (`golden-v3`, …), run the generator, commit the result, and add tests for it beside the
/// ones for the others. The generator refuses to write into a directory that exists.
const NEW_FIXTURE: &str = "tests/fixtures/golden-v2";

/// Records of golden-v1 written before its story: record 0, four areas, eight actors (bodies of
/// version 1, which this crate no longer writes).
const V1_OPENING: usize = 13;

fn fixture(which: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(which).join(name)
}

fn actor(s: &str) -> ActorId {
    ActorId::new(s).unwrap()
}
fn item(s: &str) -> ItemId {
    ItemId::new(s).unwrap()
}
fn source(s: &str) -> SourceId {
    SourceId::new(s).unwrap()
}
fn code(s: &str) -> Code {
    Code::new(s).unwrap()
}
fn text(s: &str) -> String {
    s.to_string()
}

/// Record count and head (and the Merkle root, from v2 on), as `expected.txt` states them.
struct Expected {
    records: u64,
    head_seq: u64,
    head: Hash,
    root: Option<String>,
}

fn expected(which: &str) -> Expected {
    let text = std::fs::read_to_string(fixture(which, "expected.txt")).unwrap();
    let field = |name: &str| {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
            .map(|v| v.trim().to_string())
    };
    let required = |name: &str| field(name).unwrap_or_else(|| panic!("expected.txt has no {name} line"));
    Expected {
        records: required("records").parse().unwrap(),
        head_seq: required("head_seq").parse().unwrap(),
        head: Hash::from_hex(&required("head")).expect("64 hex digits"),
        root: field("root"),
    }
}

fn unhex(line: &str) -> Vec<u8> {
    assert!(line.len().is_multiple_of(2), "odd number of hex digits");
    (0..line.len()).step_by(2).map(|i| u8::from_str_radix(&line[i..i + 2], 16).unwrap()).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The raw records of `records.hex`, seq 0 first.
fn raw_records(which: &str) -> Vec<Vec<u8>> {
    let text = std::fs::read_to_string(fixture(which, "records.hex")).unwrap();
    text.lines().filter(|l| !l.is_empty()).map(unhex).collect()
}

/// Copies a directory tree, leaving out the entries named in `skip` (at any depth) and empty
/// directories (git keeps none, so a committed fixture has none).
fn copy_dir(from: &Path, to: &Path, skip: &[&str]) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if skip.iter().any(|s| entry.file_name() == *s) {
            continue;
        }
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if std::fs::read_dir(entry.path()).unwrap().next().is_none() {
                continue;
            }
            copy_dir(&entry.path(), &target, skip);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of a sled fixture in a temporary directory (opening a sled directory writes to it).
fn sled_copy(which: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    copy_dir(&fixture(which, "ledger"), &dir, &[]);
    (tmp, dir)
}

/// The records of a store, seq 0 first, checking that the log's keys are the seqs.
fn log_of<S: Store>(store: &S) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    store
        .scan(Seq(0), &mut |key, bytes| {
            assert_eq!(key, (out.len() as u64).to_be_bytes(), "log keys are seqs, 8 bytes big-endian");
            out.push(bytes.to_vec());
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    out
}

/// A memory ledger holding `records`, acknowledged up to the last.
fn memory_ledger(records: &[Vec<u8>], clock: ManualClock) -> Ledger<MemStore> {
    let mut store = MemStore::new();
    for (seq, bytes) in records.iter().enumerate() {
        store.log_mut().insert(seq as u64, bytes.clone());
    }
    if let Some(last) = records.last() {
        let rec = Record::decode(last).unwrap();
        *store.head_mut() =
            Some(Head { time: rec.time, seq: rec.seq, hash: commitment_ledger::hash_record_bytes(last) });
    }
    Ledger::with_store(store, Box::new(clock)).unwrap()
}

/// Opens a copy of a sled fixture, checks its head, verifies it and its projection; returns the ledger
/// and how many of its records are signed.
fn open_and_verify(which: &str) -> (tempfile::TempDir, Ledger<commitment_ledger::SledStore>, u64) {
    let want = expected(which);
    let (tmp, dir) = sled_copy(which);
    let mut ledger = Ledger::open(&dir).unwrap();
    assert_eq!(ledger.damage(), None);
    let head = ledger.head().unwrap();
    assert_eq!((head.seq, head.hash), (Seq(want.head_seq), want.head));

    let report = ledger.verify(&mut |_| {}).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.records, want.records);
    assert_eq!(report.head_seq, Some(want.head_seq));
    assert_eq!(report.head.as_deref(), Some(want.head.to_hex().as_str()));
    assert_eq!(report.unacknowledged, 0, "the stored head is the last record");
    assert_eq!(report.signed + report.unsigned, want.records);
    if let Some(root) = &want.root {
        assert_eq!(report.root.as_ref(), Some(root), "the Merkle root of the records");
    }

    assert_eq!(ledger.check_projection().unwrap(), Vec::<String>::new());
    (tmp, ledger, report.signed)
}

/// What both fixtures' stories leave in the projection.
fn check_story<S: Store>(ledger: &mut Ledger<S>) {
    let info = ledger.registry().info().unwrap().clone();
    assert_eq!(info.admin, actor("hmo"));
    assert_eq!(info.utc_offset_minutes, 480);
    assert_eq!(info.vocabulary, Vocabulary::default_v1());

    let bonds = ledger.item(&item("0771-fin-bonds")).unwrap().unwrap();
    assert_eq!(bonds.core.status, code("delivered"));
    assert_eq!(bonds.core.lead, actor("finance-office"));
    assert_eq!(bonds.indicators.len(), 2);
    assert_eq!(bonds.indicators[1].history[0].value, "2300000000");
    assert!(bonds.indicators[1].history[0].approximate);

    let beyond = ledger.item(&item("0771-sci-beyond")).unwrap().unwrap();
    assert_eq!(beyond.core.status, code("in_progress"));
    assert_eq!(beyond.due, Some(Date::Month(2024, 12)));
    assert_eq!(beyond.amendments, 1);

    let tcm = ledger.item(&item("0771-tcm-expo")).unwrap().unwrap();
    assert_eq!(tcm.core.lead, actor("tcm-bureau"));
    assert_eq!(tcm.core.partners, vec![actor("science-commission")]);
    assert_eq!(tcm.reassignments, 1);

    let perform = ledger.item(&item("0771-cul-perform")).unwrap().unwrap();
    assert_eq!(perform.corrections.len(), 1);
    assert_eq!(perform.corrections[0].value.as_deref(), Some("87"));

    let reply = &ledger.registry().sources[&source("reply-0771")];
    assert_eq!(reply.items, 4);
    assert_eq!(reply.category.as_ref().unwrap().0.category, code("b"));
    assert_eq!(reply.feedback[0].verdict, code("satisfied"));
}

// ---------------------------------------------------------------------------------------------------
// golden-v1: record format 1, unsigned.

#[test]
fn the_v1_sled_fixture_opens_verifies_and_projects() {
    let (_tmp, mut ledger, signed) = open_and_verify(V1);
    assert_eq!(signed, 0, "format 1 records are unsigned");
    assert!(!ledger.registry().is_signed());
    assert!(ledger.registry().actors.values().all(|a| a.key.is_none()));
    check_story(&mut ledger);

    let perform = ledger.item(&item("0771-cul-perform")).unwrap().unwrap();
    assert_eq!(perform.progress_reports, 2);
    assert_eq!(perform.latest_progress.as_ref().unwrap().on, Date::Month(2024, 5));
    let history = ledger.history(&item("0771-cul-perform")).unwrap().unwrap();
    let versions: Vec<u64> = history.iter().map(|(r, _)| r.stream_version.0).collect();
    assert_eq!(versions, [0, 1, 2, 3, 4, 5]);
}

#[test]
fn the_v1_raw_records_verify_in_a_memory_store() {
    let want = expected(V1);
    let records = raw_records(V1);
    assert_eq!(records.len() as u64, want.records);
    let ledger = memory_ledger(&records, ManualClock::at(ts("2024-07-04T00:00:00+08:00")));
    assert_eq!(ledger.damage(), None);
    let report = ledger.verify(&mut |_| {}).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.records, want.records);
    assert_eq!((report.signed, report.unsigned), (0, want.records), "a version 1 ledger is unsigned");
    assert_eq!(report.head.as_deref(), Some(want.head.to_hex().as_str()));
    assert_eq!(ledger.head().map(|h| (h.seq, h.hash)), Some((Seq(want.head_seq), want.head)));
}

#[test]
fn the_v1_sled_log_holds_exactly_the_raw_records() {
    let (_tmp, dir) = sled_copy(V1);
    let ledger = Ledger::open(&dir).unwrap();
    assert!(log_of(ledger.store()) == raw_records(V1), "ledger/ and records.hex hold different records");
}

#[test]
fn every_v1_event_type_appears_in_the_v1_fixture() {
    let mut seen = BTreeSet::new();
    for bytes in raw_records(V1) {
        assert_eq!(bytes[0], 1, "record format 1");
        let rec = Record::decode(&bytes).unwrap();
        assert_eq!(rec.signature, None);
        assert_eq!(rec.event_version, 1, "event version 1");
        seen.insert(rec.event.event_type() as u16);
    }
    assert_eq!(seen, (1..=13).collect(), "the fixture must hold every event type of its version");
}

/// The sled directory as `schema/record-format.md` describes it, read with sled alone.
#[test]
fn the_v1_sled_fixture_has_the_documented_layout() {
    let want = expected(V1);
    let (_tmp, dir) = sled_copy(V1);
    let db = sled::open(&dir).unwrap();
    let names: BTreeSet<Vec<u8>> = db.tree_names().into_iter().map(|n| n.to_vec()).collect();
    for tree in [&b"log"[..], b"meta", b"derived"] {
        assert!(names.contains(tree), "no tree {:?}", String::from_utf8_lossy(tree));
    }
    let meta = db.open_tree("meta").unwrap();
    assert_eq!(meta.get("format").unwrap().unwrap().as_ref(), b"commitment-ledger store v1");
    let head = meta.get("head").unwrap().unwrap();
    assert_eq!(head.len(), 40, "Head: seq u64 LE, then 32 hash bytes");
    assert_eq!(&head[..8], &want.head_seq.to_le_bytes());
    assert_eq!(&head[8..], &want.head.0);
    let log = db.open_tree("log").unwrap();
    assert_eq!(log.len() as u64, want.records);
    let (last_key, last) = log.last().unwrap().unwrap();
    assert_eq!(last_key.as_ref(), &want.head_seq.to_be_bytes());
    assert_eq!(blake3::derive_key("commitment-ledger 2026-11-27 record v1", &last), want.head.0);
    let derived = db.open_tree("derived").unwrap();
    for (key, _) in derived.iter().map(Result::unwrap) {
        assert!(key.starts_with(b"p/"), "a closed ledger keeps only its live projection, found {key:?}");
    }
}

/// This version still writes format 1 records byte for byte where it writes them at all: in a ledger
/// opened by version 1, for actors without a key. Its opening records (event version 1 bodies, which
/// are no longer written) are taken from the fixture; the rest of the generator's story, replayed on
/// top of them in memory, must reproduce `records.hex`. If this fails, the bytes a command produces
/// have changed; that needs a new event version or record format (see `schema/record-format.md`,
/// "Versioning") and a new fixture.
#[test]
fn the_writer_still_writes_the_v1_records_in_a_version_1_ledger() {
    let fixture = raw_records(V1);
    let clock = ManualClock::at(ts("2024-06-03T09:10:00+08:00"));
    let mut ledger = memory_ledger(&fixture[..V1_OPENING], clock.clone());
    write_golden_story(&mut ledger, &clock);
    let written = log_of(ledger.store());
    assert_eq!(written.len(), fixture.len());
    for (seq, (w, f)) in written.iter().zip(&fixture).enumerate() {
        assert!(w == f, "record {seq} is written differently now:\n now {}\nthen {}", hex(w), hex(f));
    }
}

// ---------------------------------------------------------------------------------------------------
// golden-v2: record format 2, a signed ledger.

/// The public keys the records of a log register (record 0's `admin_key`, `ActorRegistered`,
/// `KeyRegistered`), in log order, with whose they are.
fn registered_keys(records: &[Vec<u8>]) -> Vec<(ActorId, PublicKey)> {
    let mut out = Vec::new();
    for bytes in records {
        match Record::decode(bytes).unwrap().event {
            Event::LedgerOpened(e) => out.extend(e.admin_key.map(|k| (e.admin, k))),
            Event::ActorRegistered(e) => out.extend(e.public_key.map(|k| (e.id, k))),
            Event::KeyRegistered(e) => out.push((e.actor, e.public_key)),
            _ => {}
        }
    }
    out
}

#[test]
fn the_v2_sled_fixture_opens_verifies_and_projects() {
    let want = expected(V2);
    let (_tmp, mut ledger, signed) = open_and_verify(V2);
    assert_eq!(signed, want.records, "every record of a signed ledger is signed");
    assert!(ledger.registry().is_signed());
    check_story(&mut ledger);

    let perform = ledger.item(&item("0771-cul-perform")).unwrap().unwrap();
    assert_eq!(perform.progress_reports, 3, "one more, signed with the rotated key");
    let history = ledger.history(&item("0771-cul-perform")).unwrap().unwrap();
    let versions: Vec<u64> = history.iter().map(|(r, _)| r.stream_version.0).collect();
    assert_eq!(versions, [0, 1, 2, 3, 4, 5, 6]);
    let beyond = ledger.item(&item("0771-sci-beyond")).unwrap().unwrap();
    assert_eq!(beyond.progress_reports, 1, "reported with a key its department registered itself");

    // Keys: the last one registered for each actor is its key, except where it was retired.
    let mut current: BTreeMap<ActorId, PublicKey> = BTreeMap::new();
    let registered = registered_keys(&raw_records(V2));
    for (who, key) in &registered {
        current.insert(who.clone(), *key);
    }
    current.remove(&actor("macao-dsepdr"));
    let reg = ledger.registry();
    let keys: BTreeMap<ActorId, PublicKey> =
        reg.actors.iter().filter_map(|(id, a)| a.key.map(|k| (id.clone(), k))).collect();
    assert_eq!(keys, current);
    assert_eq!(reg.keys.len(), registered.len(), "every key ever registered, retired ones too");
    assert_eq!(registered.len(), 1 + 8 + 3);
}

#[test]
fn the_v2_raw_records_verify_in_a_memory_store() {
    let want = expected(V2);
    let records = raw_records(V2);
    assert_eq!(records.len() as u64, want.records);
    let ledger = memory_ledger(&records, ManualClock::at(ts("2024-07-08T00:00:00+08:00")));
    assert_eq!(ledger.damage(), None);
    let report = ledger.verify(&mut |_| {}).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.records, want.records);
    assert_eq!((report.signed, report.unsigned), (want.records, 0));
    assert_eq!(report.root, want.root);
    assert_eq!(report.head.as_deref(), Some(want.head.to_hex().as_str()));
    assert_eq!(ledger.head().map(|h| (h.seq, h.hash)), Some((Seq(want.head_seq), want.head)));
}

/// A signature is bound to its record: change the actor's time of a record (inside the statement, and
/// checked by nothing else) and re-chain every later record, as someone rewriting the log without the
/// actor's key would, and verification fails at that record, on its signature.
#[test]
fn a_v2_record_rewritten_without_its_key_fails_at_that_record() {
    let records = raw_records(V2);
    for seq in [0, 5, records.len() - 1] {
        let mut forged = records.clone();
        let len = forged[seq].len();
        forged[seq][len - 64 - 8] ^= 1; // the lowest byte of actor_time
        let mut prev = if seq == 0 { Hash::ZERO } else { commitment_ledger::hash_record_bytes(&forged[seq - 1]) };
        for bytes in forged.iter_mut().skip(seq) {
            bytes[9..41].copy_from_slice(&prev.0);
            prev = commitment_ledger::hash_record_bytes(bytes);
        }
        let ledger = memory_ledger(&forged, ManualClock::at(ts("2024-07-08T00:00:00+08:00")));
        let report = ledger.verify(&mut |_| {}).unwrap();
        assert!(!report.ok, "record {seq} changed and re-chained, yet the ledger verifies");
        assert_eq!(report.first_bad_seq, Some(seq as u64), "{report:?}");
        assert_eq!(report.problem_kind, Some("bad_signature"), "{report:?}");
    }
}

#[test]
fn the_v2_sled_log_holds_exactly_the_raw_records() {
    let (_tmp, dir) = sled_copy(V2);
    let ledger = Ledger::open(&dir).unwrap();
    assert!(log_of(ledger.store()) == raw_records(V2), "ledger/ and records.hex hold different records");
}

#[test]
fn every_event_type_appears_in_the_v2_fixture() {
    let mut seen = BTreeSet::new();
    for bytes in raw_records(V2) {
        assert_eq!(bytes[0], 2, "record format 2");
        let rec = Record::decode(&bytes).unwrap();
        assert!(rec.signature.is_some());
        assert_eq!(rec.event_version, rec.event.event_type().version(), "the current version of each type");
        seen.insert(rec.event.event_type() as u16);
    }
    let all: BTreeSet<u16> = EventType::ALL.iter().map(|t| *t as u16).collect();
    assert_eq!(seen, all, "the fixture must hold every event type");
    assert_eq!(all, (1..=15).collect());
}

/// The sled directory as `schema/record-format.md` describes it, read with sled alone: the trees, the
/// witness file, no private key, and the Merkle tree's stored hashes (derived data, but documented).
#[test]
fn the_v2_sled_fixture_has_the_documented_layout() {
    use sha2::{Digest, Sha256};
    let want = expected(V2);
    let (_tmp, dir) = sled_copy(V2);
    let mut files: Vec<String> = std::fs::read_dir(fixture(V2, "ledger"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["acknowledged", "conf", "db"], "no keys/ folder: the fixture holds no private key");
    assert_eq!(std::fs::metadata(dir.join("acknowledged")).unwrap().len(), 600);

    let db = sled::open(&dir).unwrap();
    let meta = db.open_tree("meta").unwrap();
    assert_eq!(meta.get("format").unwrap().unwrap().as_ref(), b"commitment-ledger store v2");
    let log = db.open_tree("log").unwrap();
    assert_eq!(log.len() as u64, want.records);
    let (last_key, last) = log.last().unwrap().unwrap();
    assert_eq!(last_key.as_ref(), &want.head_seq.to_be_bytes());
    assert_eq!(blake3::derive_key("commitment-ledger 2026-11-29 record v2", &last), want.head.0);

    // The Merkle tree: `t-size`, then under `t/` + index (u64 big-endian) every complete subtree's
    // hash, in the order of the stored-hash index: leaf n's hash, then each subtree it completes.
    let derived = db.open_tree("derived").unwrap();
    let size = derived.get("t-size").unwrap().expect("t-size");
    assert_eq!(size.as_ref(), &want.records.to_be_bytes());
    let leaf = |record: &[u8]| -> [u8; 32] {
        let h = blake3::derive_key("commitment-ledger 2026-11-29 record v2", record);
        Sha256::new().chain_update([0u8]).chain_update(h).finalize().into()
    };
    let node = |l: &[u8; 32], r: &[u8; 32]| -> [u8; 32] {
        Sha256::new().chain_update([1u8]).chain_update(l).chain_update(r).finalize().into()
    };
    let mut expected_hashes: Vec<[u8; 32]> = Vec::new();
    // Complete subtrees still waiting for a sibling, by level.
    let mut stack: Vec<[u8; 32]> = Vec::new();
    for (n, (_, record)) in log.iter().map(Result::unwrap).enumerate() {
        let mut h = leaf(&record);
        expected_hashes.push(h);
        let mut m = n;
        while m & 1 == 1 {
            h = node(&stack.pop().unwrap(), &h);
            expected_hashes.push(h);
            m >>= 1;
        }
        stack.push(h);
    }
    let stored: Vec<(Vec<u8>, Vec<u8>)> =
        derived.scan_prefix("t/").map(Result::unwrap).map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
    assert_eq!(stored.len(), expected_hashes.len(), "2n − popcount(n) stored hashes for n leaves");
    assert_eq!(expected_hashes.len() as u64, 2 * want.records - u64::from(want.records.count_ones()));
    for (index, ((key, value), want_hash)) in stored.iter().zip(&expected_hashes).enumerate() {
        assert_eq!(key[2..], (index as u64).to_be_bytes(), "stored hash keys are t/ + index");
        assert_eq!(value, want_hash, "stored hash {index}");
    }
    // The root: the complete subtrees left on the stack, hashed right to left.
    let root = stack.iter().rev().copied().reduce(|right, left| node(&left, &right)).unwrap();
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, root);
    assert_eq!(Some(b64), want.root);
    for (key, _) in derived.iter().map(Result::unwrap) {
        assert!(key.starts_with(b"p/") || key.starts_with(b"t/") || key.as_ref() == b"t-size", "{key:?}");
    }
}

/// The writer of this version still writes the v2 fixture byte for byte, given its keys: replaying the
/// generator's commands in memory (with new keys, since the fixture keeps none) and putting the
/// fixture's public keys and signatures in place of the new ones reproduces `records.hex`, every link
/// included. If this fails, the bytes a command produces have changed; that needs a new event version
/// or record format (see `schema/record-format.md`, "Versioning"), a new fixture, and this test
/// pointed at it.
#[test]
fn the_writer_still_writes_the_v2_fixture_bytes_given_its_keys() {
    let clock = ManualClock::at(ts("2024-06-03T09:00:00+08:00"));
    let mut ledger = Ledger::with_store(MemStore::new(), Box::new(clock.clone())).unwrap();
    write_golden_ledger(&mut ledger, &clock);
    let written = log_of(ledger.store());
    let fixture = raw_records(V2);
    assert_eq!(written.len(), fixture.len());
    let ours = registered_keys(&written);
    let theirs = registered_keys(&fixture);
    assert_eq!(ours.len(), theirs.len());
    let swap: BTreeMap<PublicKey, PublicKey> = ours.iter().zip(&theirs).map(|((_, o), (_, t))| (*o, *t)).collect();
    let mut prev = Hash::ZERO;
    for (seq, (w, f)) in written.iter().zip(&fixture).enumerate() {
        let mut rec = Record::decode(w).unwrap();
        match &mut rec.event {
            Event::LedgerOpened(e) => e.admin_key = e.admin_key.map(|k| swap[&k]),
            Event::ActorRegistered(e) => e.public_key = e.public_key.map(|k| swap[&k]),
            Event::KeyRegistered(e) => e.public_key = swap[&e.public_key],
            Event::KeyRetired(e) => e.public_key = swap[&e.public_key],
            _ => {}
        }
        let theirs = Record::decode(f).unwrap();
        let Some(Signed { actor_time, .. }) = rec.signature else { panic!("record {seq} is not signed") };
        let signature = theirs.signature.expect("a signed fixture").signature;
        rec.signature = Some(Signed { actor_time, signature });
        rec.prev = prev;
        let bytes = rec.encode();
        assert!(bytes == *f, "record {seq} is written differently now:\n now {}\nthen {}", hex(&bytes), hex(f));
        prev = commitment_ledger::hash_record_bytes(&bytes);
    }
}

// ---------------------------------------------------------------------------------------------------
// The generator.

/// Writes a new fixture. Run only when deliberately creating a new fixture version:
///
/// ```text
/// cargo test --test golden -- --ignored generate_golden_fixture
/// ```
///
/// after pointing [`NEW_FIXTURE`] at a new, unused directory. It refuses to overwrite an existing
/// fixture: every fixture is frozen forever. The keys it signs with are new each run and thrown away
/// (they live in memory only, so the ledger directory has no `keys/` folder), so a run is not
/// reproducible: commit its output once.
#[test]
#[ignore = "writes a new golden fixture; run only on purpose"]
fn generate_golden_fixture() {
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join(NEW_FIXTURE);
    assert!(!out.exists(), "{} exists; fixtures are never overwritten (change NEW_FIXTURE)", out.display());
    let staging = tempfile::tempdir().unwrap();
    let dir = staging.path().join("ledger");
    let clock = ManualClock::at(ts("2024-06-03T09:00:00+08:00"));
    let mut ledger = Ledger::with_store(
        commitment_ledger::SledStore::open(&dir, true).unwrap(),
        Box::new(commitment_ledger::SystemClock),
    )
    .unwrap();
    ledger.set_clock(Box::new(clock.clone()));
    write_golden_ledger(&mut ledger, &clock);

    let mut lines = String::new();
    for bytes in log_of(ledger.store()) {
        lines.push_str(&hex(&bytes));
        lines.push('\n');
    }
    let head = ledger.head().unwrap();
    let report = ledger.verify(&mut |_| {}).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.signed, report.records);
    ledger.close().unwrap();

    std::fs::create_dir_all(&out).unwrap();
    copy_dir(&dir, &out.join("ledger"), &["keys", "lock"]);
    std::fs::write(out.join("records.hex"), lines).unwrap();
    std::fs::write(
        out.join("expected.txt"),
        format!(
            "# Written once by tests/golden.rs generate_golden_fixture; never edit.\nrecords {}\nhead_seq {}\nhead {}\n\
             root {}\n",
            report.records,
            head.seq,
            head.hash.to_hex(),
            report.root.expect("the Merkle root of a sound ledger"),
        ),
    )
    .unwrap();
}

/// The fixture's content, from golden-v2 on: the ledger opened and its actors registered, with keys
/// the ledger makes (held in memory), the story of golden-v1, then keys rotated and retired.
fn write_golden_ledger<S: Store>(ledger: &mut Ledger<S>, clock: &ManualClock) {
    write_golden_opening(ledger, clock);
    write_golden_story(ledger, clock);
    write_golden_keys(ledger, clock);
}

/// Record 0 (with the areas, in one write) and the actors.
fn write_golden_opening<S: Store>(ledger: &mut Ledger<S>, clock: &ManualClock) {
    let hmo = actor("hmo");
    clock.set(ts("2024-06-03T09:00:00+08:00"));
    let areas = ["finance", "science-tech", "tcm", "culture-tourism"]
        .iter()
        .map(|id| {
            let (_, zh, en) = SEED_AREAS.iter().find(|(a, _, _)| a == id).unwrap();
            RegisterArea { id: AreaId::new(*id).unwrap(), name: text(zh), name_en: Some(text(en)) }
        })
        .collect();
    let opened = OpenLedger {
        title: text("京澳合作承诺台账"),
        origin: text("commitments.example.gov.cn/beijing-macao"),
        utc_offset_minutes: 480,
        admin: hmo.clone(),
        admin_name: text("北京市人民政府港澳事务办公室"),
        vocabulary: Vocabulary::default_v1(),
        // The ledger makes the administrator's key (and each actor's, below): a signed ledger.
        admin_key: None,
    };
    ledger.init(opened, areas).unwrap();

    clock.set(ts("2024-06-03T09:10:00+08:00"));
    let actors = [
        ("finance-office", "市委金融办", Some("Beijing Municipal Financial Work Office"), Role::Department),
        (
            "development-reform",
            "市发展改革委",
            Some("Beijing Municipal Commission of Development and Reform"),
            Role::Department,
        ),
        (
            "science-commission",
            "市科委、中关村管委会",
            Some("Beijing Municipal Science and Technology Commission"),
            Role::Department,
        ),
        (
            "culture-tourism-bureau",
            "市文化和旅游局",
            Some("Beijing Municipal Bureau of Culture and Tourism"),
            Role::Department,
        ),
        ("tcm-bureau", "市中医药局", None, Role::Department),
        (
            "macao-dsepdr",
            "澳门特区政策研究和区域发展局",
            Some("Policy Research and Regional Development Bureau, Macao SAR"),
            Role::Counterpart,
        ),
        ("deputy-li-jing", "李静", None, Role::Deputy),
        ("audit-bureau", "北京市审计局", Some("Beijing Municipal Audit Bureau"), Role::Auditor),
    ];
    let commands = actors
        .iter()
        .map(|(id, name, en, role)| {
            let e =
                RegisterActor { id: actor(id), name: text(name), name_en: en.map(text), role: *role, public_key: None };
            (hmo.clone(), Command::RegisterActor(e))
        })
        .collect();
    ledger.append_batch(commands).unwrap();
}

/// The story of golden-v1 after its opening: commitments from the seed reply (Beijing municipal
/// government to deputy Li Jing, proposal 0771, on Beijing–Macao cooperation) and every kind of
/// update, at plausible times.
fn write_golden_story<S: Store>(ledger: &mut Ledger<S>, clock: &ManualClock) {
    let hmo = actor("hmo");
    let reply = source("reply-0771");
    let section_2 = "关于加大投资引资、拓宽合作领域，推动京澳企业“走出去”“引进来”";
    let section_3 = "三、关于助力学科交叉、促进科技交流，推动中医药、新工科融合";
    let section_4 = "四、关于创新文化符号，推动文化融合，促进民心相通";

    clock.set(ts("2024-06-03T09:30:00+08:00"));
    let reply_source = RecordSource {
        id: reply.clone(),
        kind: SourceKind::Reply,
        number: Some(text("0771")),
        title: text("关于“深入推进京澳合作，共建‘一带一路’高质量发展，助力北京中国式现代化建设”的建议的答复意见"),
        title_en: Some(text("Reply to proposal 0771 on deepening Beijing–Macao cooperation")),
        session: Some(text("北京市十六届人大二次会议")),
        date: Date::Day(2024, 5, 20),
        issuer: hmo.clone(),
        addressee: Some(actor("deputy-li-jing")),
        contributors: ["finance-office", "development-reform", "science-commission", "culture-tourism-bureau"]
            .map(actor)
            .to_vec(),
        // BLAKE3 of the reply's text as received (seed/reply-0771.txt).
        digest: Some(text("blake3:2a3c33382953490327d666a484176e151b2448745e294e6b4030f209f065e566")),
    };
    let memorandum = RecordSource {
        id: source("mou-bj-mo-2023"),
        kind: SourceKind::Memorandum,
        number: None,
        title: text("京澳合作会议第一次会议备忘录"),
        title_en: Some(text("Memorandum of the first Beijing–Macao Cooperation Meeting")),
        session: None,
        date: Date::Year(2023),
        issuer: hmo.clone(),
        addressee: None,
        contributors: vec![actor("macao-dsepdr")],
        digest: None,
    };
    ledger
        .append_batch(vec![
            (hmo.clone(), Command::RecordSource(reply_source)),
            (hmo.clone(), Command::RecordSource(memorandum)),
        ])
        .unwrap();

    clock.set(ts("2024-06-03T10:00:00+08:00"));
    let commitment = |id: &str, section: &str, area: &str, lead: &str, partners: &[&str]| NewCommitment {
        id: item(id),
        source: Some(reply.clone()),
        section: Some(text(section)),
        area: AreaId::new(area).unwrap(),
        lead: actor(lead),
        partners: partners.iter().map(|p| actor(p)).collect(),
        title: String::new(),
        title_en: None,
        text: String::new(),
        kind: Kind::Planned,
        on: None,
        due: None,
    };
    let commitments = vec![
        NewCommitment {
            title: text("市属国企赴澳门发行债券"),
            title_en: Some(text("Beijing state-owned enterprises list bonds in Macao")),
            text: text("截至2023年底，4家北京市属国企约23亿美元债券已在澳门挂牌上市。"),
            kind: Kind::Achieved,
            on: Some(Date::Year(2023)),
            ..commitment("0771-fin-bonds", section_2, "finance", "finance-office", &[])
        },
        NewCommitment {
            title: text("支持科创企业赴澳门参加BEYOND博览会"),
            text: text(
                "支持北京优质科创企业赴澳门参加BEYOND国际科技创新博览会等展会，打造“创新跳板”，共同开拓国际市场。",
            ),
            due: Some(Date::Year(2024)),
            ..commitment("0771-sci-beyond", section_3, "science-tech", "science-commission", &["macao-dsepdr"])
        },
        NewCommitment {
            title: text("借助澳门国际贸易投资展览会推动中医药国际化"),
            text: text(
                "下步将继续支持北京中医药行业借助澳门国际贸易投资展览会等平台，推动两地共同为中医药的国际化传播和全球化发展贡献力量。",
            ),
            ..commitment("0771-tcm-expo", section_3, "tcm", "science-commission", &[])
        },
        NewCommitment {
            title: text("京澳互访演出"),
            title_en: Some(text("Exchange of performances between Beijing and Macao")),
            text: text("2023年，两地互访演出项目8批次，87人次。"),
            kind: Kind::Ongoing,
            on: Some(Date::Year(2023)),
            ..commitment("0771-cul-perform", section_4, "culture-tourism", "culture-tourism-bureau", &["macao-dsepdr"])
        },
    ];
    ledger
        .append_batch(commitments.into_iter().map(|c| (hmo.clone(), Command::RecordCommitment(c))).collect())
        .unwrap();

    let figure = |id: &str, name: &str, value: &str, unit: &str, approximate: bool| {
        Command::RecordIndicator(RecordIndicator {
            item: item(id),
            name: text(name),
            value: text(value),
            unit: Some(text(unit)),
            approximate,
            as_of: Some(Date::Year(2023)),
        })
    };
    clock.set(ts("2024-06-05T15:20:00+08:00"));
    let finance = actor("finance-office");
    ledger
        .append_batch(vec![
            (finance.clone(), figure("0771-fin-bonds", "在澳门挂牌上市债券的北京市属国企", "4", "家", false)),
            (finance, figure("0771-fin-bonds", "在澳门挂牌上市的债券规模", "2300000000", "USD", true)),
        ])
        .unwrap();
    clock.set(ts("2024-06-05T16:00:00+08:00"));
    let culture = actor("culture-tourism-bureau");
    ledger.append(&culture, figure("0771-cul-perform", "互访演出项目", "8", "批次", false)).unwrap();
    // Entered wrongly (the reply says 87); corrected below.
    ledger.append(&culture, figure("0771-cul-perform", "互访演出人次", "78", "人次", false)).unwrap();

    clock.set(ts("2024-06-07T10:30:00+08:00"));
    ledger
        .append(
            &culture,
            Command::ReportProgress {
                item: item("0771-cul-perform"),
                text: text(
                    "2024年4月，北京人民艺术剧院赴澳门参加第四届粤港澳大湾区中国戏剧文化节，演出话剧《哈姆雷特》。",
                ),
                on: Some(Date::Month(2024, 4)),
                evidence: None,
            },
        )
        .unwrap();
    ledger
        .append(
            &culture,
            Command::ReportProgress {
                item: item("0771-cul-perform"),
                text: text("5月，北方昆曲剧院赴澳门举办“爱上昆曲”传统文化进澳门活动。"),
                on: Some(Date::Month(2024, 5)),
                evidence: Some(text("第0771号建议的答复意见")),
            },
        )
        .unwrap();

    clock.set(ts("2024-06-07T11:00:00+08:00"));
    let correction = Correct {
        item: item("0771-cul-perform"),
        entry: StreamVersion(2),
        text: None,
        value: Some(text("87")),
        reason: text("录入错误：答复原文为87人次。"),
    };
    ledger.append(&culture, Command::Correct(correction)).unwrap();

    clock.set(ts("2024-06-12T09:00:00+08:00"));
    let status = Command::ChangeStatus {
        item: item("0771-sci-beyond"),
        to: code("in_progress"),
        reason: text("已与澳门经济及科技发展局对接参展事宜。"),
        on: Some(Date::Day(2024, 6, 11)),
    };
    ledger.append(&actor("science-commission"), status).unwrap();

    clock.set(ts("2024-06-12T09:30:00+08:00"));
    let amendment = Amend {
        item: item("0771-sci-beyond"),
        title: None,
        title_en: Some(text("Support Beijing technology firms at the BEYOND Expo in Macao")),
        text: None,
        due: Some(Date::Month(2024, 12)),
        area: None,
        reason: text("明确展会举办时间（2024年12月）。"),
    };
    ledger.append(&hmo, Command::Amend(amendment)).unwrap();

    clock.set(ts("2024-06-20T14:00:00+08:00"));
    let reassignment = Command::Reassign {
        item: item("0771-tcm-expo"),
        lead: actor("tcm-bureau"),
        partners: Some(vec![actor("science-commission")]),
        reason: text("该事项由市中医药局牵头办理，市科委配合。"),
    };
    ledger.append(&hmo, reassignment).unwrap();

    clock.set(ts("2024-07-01T10:00:00+08:00"));
    let category =
        Categorize {
            source: reply.clone(), category: code("b"), reason: Some(text("所提事项正在推进，部分已落实。"))
        };
    ledger.append(&hmo, Command::Categorize(category)).unwrap();

    clock.set(ts("2024-07-03T16:45:00+08:00"));
    let feedback = RecordFeedback {
        source: reply,
        verdict: code("satisfied"),
        text: Some(text("对答复表示满意，建议持续跟进京澳合作会议成果落实。")),
        on: Some(Date::Day(2024, 7, 3)),
    };
    ledger.append(&actor("deputy-li-jing"), Command::RecordFeedback(feedback)).unwrap();
}

/// Keys, from golden-v2 on: a coordinator rotates a department's key (the ledger makes the new one) and
/// the department signs with it; a department rotates its own key (one it made itself, signing the
/// rotation with the old one) and signs with the new one; an auditor retires its own key (signing with
/// it), a coordinator retires a counterpart's, and registers a new key for the auditor.
fn write_golden_keys<S: Store>(ledger: &mut Ledger<S>, clock: &ManualClock) {
    let hmo = actor("hmo");
    let culture = actor("culture-tourism-bureau");
    let science = actor("science-commission");
    let audit = actor("audit-bureau");

    clock.set(ts("2024-07-04T09:00:00+08:00"));
    ledger.append(&hmo, Command::RegisterKey { actor: culture.clone(), public_key: None }).unwrap();
    clock.set(ts("2024-07-04T09:30:00+08:00"));
    let progress = Command::ReportProgress {
        item: item("0771-cul-perform"),
        text: text("6月，澳门青年艺术团来京参加“京澳青年文化交流周”演出。"),
        on: Some(Date::Month(2024, 6)),
        evidence: None,
    };
    ledger.append(&culture, progress).unwrap();

    clock.set(ts("2024-07-04T14:00:00+08:00"));
    let own = generate_signing_key();
    let command = Command::RegisterKey { actor: science.clone(), public_key: Some(PublicKey::of(&own)) };
    ledger.append(&science, command).unwrap();
    ledger.keyring_mut().insert(science.clone(), own);
    clock.set(ts("2024-07-04T14:20:00+08:00"));
    let progress = Command::ReportProgress {
        item: item("0771-sci-beyond"),
        text: text("已组织12家科创企业报名参加2024年BEYOND国际科技创新博览会。"),
        on: Some(Date::Day(2024, 7, 4)),
        evidence: None,
    };
    ledger.append(&science, progress).unwrap();

    clock.set(ts("2024-07-05T10:00:00+08:00"));
    let retire =
        Command::RetireKey { actor: audit.clone(), reason: Some(text("经办人员调整，原密钥停用。")) };
    ledger.append(&audit, retire).unwrap();
    clock.set(ts("2024-07-05T10:05:00+08:00"));
    let retire = Command::RetireKey { actor: actor("macao-dsepdr"), reason: None };
    ledger.append(&hmo, retire).unwrap();
    clock.set(ts("2024-07-05T10:10:00+08:00"));
    ledger.append(&hmo, Command::RegisterKey { actor: audit, public_key: None }).unwrap();
}
