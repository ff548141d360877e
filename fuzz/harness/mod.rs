//! Fuzz harnesses. Each entry point takes raw bytes, never panics on bad input, and panics (with a
//! message naming the broken property) when the ledger misbehaves. The fuzz targets call them; the
//! stable tests replay the committed corpora and crash inputs through them.
#![allow(dead_code)]

pub mod fixtures;
pub mod frames;
pub mod model;
pub mod signed;

use commitment_ledger::rules;
use commitment_ledger::{
    ActorId, Command, Event, Head, Ledger, ManualClock, MemStore, Record, RegisterArea, Seq, Until, Verifier,
    hash_record_bytes,
};
use fixtures::CoreState;
use std::ops::ControlFlow;

/// `Record::decode` never panics; when it accepts bytes, encoding the record gives the same bytes,
/// and the verifier can look at it without panicking. A record whose event is stored in an older
/// version of its type (forever data: a ledger written by version 1) is never re-encoded: it must read
/// the same every time, and the event it is upcast to must round-trip in the current version.
pub fn record_decode(data: &[u8]) {
    let Ok(rec) = Record::decode(data) else { return };
    if rec.event_version == rec.event.event_type().version() {
        let again = rec.encode();
        assert!(again == data, "decode→encode changed the bytes: {} in, {} out\n{rec:?}", data.len(), again.len());
        assert_eq!(Record::decode(&again).as_ref(), Ok(&rec), "the re-encoded record decodes differently");
    } else {
        assert!(rec.event_version < rec.event.event_type().version(), "a version from the future: {rec:?}");
        assert_eq!(Record::decode(data).as_ref(), Ok(&rec), "an old record reads differently the second time");
        let current = Record { event_version: rec.event.event_type().version(), ..rec.clone() };
        assert_eq!(Record::decode(&current.encode()), Ok(current), "the upcast record does not round-trip");
    }
    let _ = rec.event.stream();
    let mut v = Verifier::new(None);
    let _ = v.push(&rec.seq.key(), data);
    let _ = v.finish(None);
}

/// `Event::decode(type, version, body)` never panics; what it accepts in the current version
/// re-encodes to the same body, and what it accepts in an older version (read and upcast, never
/// written again) re-encodes to a current body that decodes to the same event; the rules can judge it
/// against an empty and a populated state without panicking.
/// Input: type (u16 LE), version (u16 LE), body.
pub fn event_decode(data: &[u8]) {
    if data.len() < 4 {
        return;
    }
    let event_type = u16::from_le_bytes([data[0], data[1]]);
    let version = u16::from_le_bytes([data[2], data[3]]);
    let body = &data[4..];
    let Ok(event) = Event::decode(event_type, version, body) else { return };
    assert_eq!(event.event_type() as u16, event_type, "decoded as another type");
    let again = event.encode_body();
    let current = event.event_type().version();
    if version == current {
        assert!(again == body, "decode→encode changed the body of a {:?}", event.event_type());
    } else {
        assert!(version < current, "{:?} version {version} is from the future", event.event_type());
        assert_eq!(
            Event::decode(event_type, current, &again).as_ref(),
            Ok(&event),
            "the upcast event does not round-trip"
        );
    }
    let _ = event.stream();
    let now = fixtures::now();
    let admin = ActorId::new("admin").expect("valid");
    let _ = rules::check(&CoreState::default(), &admin, now, &event);
    let state = fixtures::sample_state();
    for actor in fixtures::ACTORS {
        let actor = ActorId::new(actor).expect("valid");
        let _ = rules::check(state, &actor, now, &event);
    }
    // The record around it round-trips too.
    let rec = fixtures::wrap(event);
    assert_eq!(Record::decode(&rec.encode()), Ok(rec));
}

/// The verifier never panics on any sequence of entries, and whatever prefix it accepts is a ledger
/// that opens undamaged, verifies the same, whose stored projection equals its replay, and that takes
/// appends. Input: frames (see [`frames`]).
pub fn verifier(data: &[u8]) {
    let entries = frames::decode(data);
    let mut v = Verifier::new(None);
    let mut accepted = Vec::new();
    let mut bad = None;
    for (key, bytes) in &entries {
        match v.push(key, bytes) {
            Ok(_) => accepted.push(bytes.clone()),
            Err(b) => {
                bad = Some(b);
                break;
            }
        }
    }
    let pushed = accepted.len() as u64;
    let report = v.finish(bad.clone());
    // Signatures are checked in batches: one that fails can only be found at the end, and it names
    // a record the walk had already passed. The records before it are the good ones.
    if report.records < pushed {
        assert_eq!(report.problem_kind, Some("bad_signature"), "{report:?}");
        assert_eq!(report.first_bad_seq, Some(report.records), "{report:?}");
        accepted.truncate(report.records as usize);
    } else {
        assert_eq!(report.records, pushed, "{report:?}");
        assert_eq!(report.ok, bad.is_none() && !accepted.is_empty(), "{report:?}");
    }
    if report.ok {
        assert_eq!(report.signed + report.unsigned, report.records, "{report:?}");
        assert!(report.root.is_some(), "{report:?}");
    }
    if accepted.is_empty() {
        let first = report.problem_kind.expect("an empty log is never sound");
        assert!(
            bad.as_ref().is_some_and(|b| b.problem.kind() == first) || matches!(first, "empty" | "bad_signature"),
            "{report:?}"
        );
        return;
    }
    if report.records < pushed {
        // Only the records before the bad signature are a log a ledger would have written.
        let mut v = Verifier::new(None);
        for (seq, bytes) in accepted.iter().enumerate() {
            v.push(&(seq as u64).to_be_bytes(), bytes).expect("the records before a bad signature verify");
        }
        let again = v.finish(None);
        assert!(again.ok && again.records == report.records, "{again:?}");
    }
    // The accepted prefix, stored as a ledger would have stored it.
    let last = accepted.len() as u64 - 1;
    let mut ledger = ledger_over(&accepted);
    assert_eq!(ledger.damage(), None, "an accepted log opens damaged");
    let again = ledger.verify(&mut |_| {}).expect("verifies");
    assert!(again.ok, "the ledger over an accepted log does not verify: {again:?}");
    assert_eq!(again.records, accepted.len() as u64);
    assert_eq!(ledger.check_projection().expect("checks"), Vec::<String>::new());
    let live = items(&mut ledger);
    let replayed: Vec<_> = ledger.replay(Until::Seq(Seq(last))).expect("replays").items().cloned().collect();
    assert_eq!(live, replayed, "replay differs from the live projection");
    // Appending resumes: whatever the rules say, the ledger stays sound.
    if let Some(info) = ledger.registry().info() {
        let admin = info.admin.clone();
        let area = RegisterArea {
            id: commitment_ledger::AreaId::new("zz-fuzz-area").expect("valid"),
            name: "fuzz".into(),
            name_en: None,
        };
        if ledger.append(&admin, Command::RegisterArea(area)).is_ok() {
            let after = ledger.verify(&mut |_| {}).expect("verifies");
            assert!(after.ok, "an append on an accepted log broke it: {after:?}");
            assert_eq!(after.records, accepted.len() as u64 + 1);
        }
    }
}

/// A ledger over a log that verified, stored as a ledger would have stored it (the acknowledged head at
/// its last record), with the sample's keys at hand for the actors they are registered for (a log
/// signed by other keys takes no appends here, which is right).
pub fn ledger_over(log: &[Vec<u8>]) -> Ledger<MemStore> {
    let mut store = MemStore::new();
    for (seq, bytes) in log.iter().enumerate() {
        store.log_mut().insert(seq as u64, bytes.clone());
    }
    let last = log.last().expect("a log that verified has record 0");
    let time = Record::decode(last).expect("an accepted record decodes").time;
    *store.head_mut() = Some(Head { seq: Seq(log.len() as u64 - 1), hash: hash_record_bytes(last), time });
    let clock = ManualClock::at(fixtures::now());
    let mut ledger = Ledger::with_store(store, Box::new(clock)).expect("an accepted log opens");
    let known: Vec<_> = ledger
        .registry()
        .actors
        .values()
        .filter_map(|a| Some((a.id.clone(), fixtures::private_key_of(a.key.as_ref()?)?)))
        .collect();
    for (whose, key) in known {
        ledger.keyring_mut().insert(whose, key);
    }
    ledger
}

/// Every item of a ledger's live projection, in id order.
pub fn items<S: commitment_ledger::Store>(ledger: &mut Ledger<S>) -> Vec<commitment_ledger::ItemState> {
    let mut out = Vec::new();
    ledger.for_each_item(&mut |i| out.push(i.clone())).expect("reads items");
    out
}

/// Every record of a ledger, as stored bytes, in order.
pub fn log_bytes<S: commitment_ledger::Store>(ledger: &Ledger<S>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    ledger
        .store()
        .scan(Seq(0), &mut |_, v| {
            out.push(v.to_vec());
            ControlFlow::Continue(())
        })
        .expect("scans");
    out
}

/// The model target: a sequence of commands, reopens and injected store failures, run against a
/// MemStore ledger and the plain model in [`model`], which must agree at every step.
pub fn model(data: &[u8]) {
    let ops = model::ops_from_bytes(data);
    model::run(&ops, &mut model::MemBackend);
}

/// The signed-log target: an insider's edits of a signed log are never called sound (see [`signed`]).
pub fn signed_log(data: &[u8]) {
    signed::signed_log(data);
}

/// A fresh ledger opened by `admin` with the twelve seed areas, as `commitments init` makes it.
pub fn fresh_ledger() -> Ledger<MemStore> {
    let clock = ManualClock::at(fixtures::now());
    let mut ledger = Ledger::with_store(MemStore::new(), Box::new(clock)).expect("opens");
    ledger.init(fixtures::opened(), RegisterArea::seed()).expect("init");
    ledger
}

/// Import documents (TOML or JSON): parsing never panics; a document the parser accepts is imported
/// whole or not at all into a fresh ledger; what is imported verifies, its projection equals its
/// replay, and importing the same document again appends nothing.
pub fn import_document(data: &[u8]) {
    use commitment_ledger::import::{self, Outcome};
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(doc) = import::parse(text) else { return };
    let mut ledger = fresh_ledger();
    let admin = ActorId::new("admin").expect("valid");
    let before = ledger.head().expect("opened");
    match import::import(&mut ledger, &admin, &doc) {
        Ok(Outcome::Unchanged) => assert_eq!(ledger.head(), Some(before), "an unchanged import moved the head"),
        Ok(Outcome::Appended { records, counts }) => {
            assert!(!records.is_empty());
            assert_eq!(records.iter().map(|_| 1).sum::<usize>(), counts.values().sum::<usize>());
            for (i, a) in records.iter().enumerate() {
                assert_eq!(a.seq.0, before.seq.0 + 1 + i as u64, "the import's records are not consecutive");
            }
            let again = import::import(&mut ledger, &admin, &doc);
            assert!(matches!(again, Ok(Outcome::Unchanged)), "re-importing the same document: {again:?}");
        }
        Err(_) => assert_eq!(ledger.head(), Some(before), "a refused import wrote something"),
    }
    let report = ledger.verify(&mut |_| {}).expect("verifies");
    assert!(report.ok, "{report:?}");
    assert_eq!(ledger.check_projection().expect("checks"), Vec::<String>::new());
}

/// Export bundles for `verify --bundle`: verification never panics on any text; a bundle it accepts
/// holds one record a line, and is a log a ledger opens undamaged and exports back line for line;
/// with its head named it still verifies, with another head it does not.
pub fn bundle(data: &[u8]) {
    use commitment_ledger::{export, verify_bundle};
    let report = verify_bundle(&mut &data[..], None, &mut |_| {}).expect("reading memory cannot fail");
    let lines: Vec<&[u8]> = data.split(|b| *b == b'\n').collect();
    if !report.ok {
        let line = report.first_bad_line.expect("a bad bundle names its line");
        assert!(line >= 1 && line as usize <= lines.len().max(1), "line {line} of {}", lines.len());
        return;
    }
    if report.records == 0 {
        return;
    }
    // One record a line: the rest is a trailing newline at most.
    let records: Vec<&[u8]> = lines.iter().copied().filter(|l| !l.is_empty()).collect();
    assert_eq!(records.len() as u64, report.records, "{report:?}");
    let head = commitment_ledger::Hash::from_hex(report.head.as_deref().expect("a head")).expect("hex");
    assert!(verify_bundle(&mut &data[..], Some(head), &mut |_| {}).expect("reads").ok);
    let mut other = head;
    other.0[0] ^= 1;
    assert!(!verify_bundle(&mut &data[..], Some(other), &mut |_| {}).expect("reads").ok);
    // The stored bytes of the lines make a ledger that exports the same records.
    let mut store = MemStore::new();
    for (seq, line) in records.iter().enumerate() {
        let v: serde_json::Value = serde_json::from_slice(line).expect("an accepted line is JSON");
        let b64 = v["bytes"].as_str().expect("an accepted line has bytes");
        let bytes = base64_decode(b64);
        store.log_mut().insert(seq as u64, bytes);
    }
    let last = records.len() as u64 - 1;
    let last_bytes = store.log_mut()[&last].clone();
    let time = Record::decode(&last_bytes).expect("an accepted record decodes").time;
    *store.head_mut() = Some(Head { seq: Seq(last), hash: hash_record_bytes(&last_bytes), time });
    let ledger =
        Ledger::with_store(store, Box::new(ManualClock::at(fixtures::now()))).expect("an accepted bundle opens");
    assert_eq!(ledger.damage(), None);
    let mut out = Vec::new();
    export::export(&ledger, &mut out, &mut |_| {}).expect("exports");
    let again = verify_bundle(&mut &out[..], Some(head), &mut |_| {}).expect("reads");
    assert!(again.ok && again.records == report.records, "{again:?}");
    for (given, exported) in records.iter().zip(out.split(|b| *b == b'\n')) {
        let g: serde_json::Value = serde_json::from_slice(given).expect("JSON");
        let e: serde_json::Value = serde_json::from_slice(exported).expect("JSON");
        assert_eq!(g, e, "an accepted line differs from the export of its record");
    }
}

/// Standard base64 with padding, as bundles write it (a small decoder, so the harness needs no crate).
fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("an accepted line's bytes are base64"),
        }
    };
    let s = s.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.chunks(4) {
        let n = chunk.iter().fold(0u32, |acc, &c| (acc << 6) | val(c)) << (6 * (4 - chunk.len()));
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}
