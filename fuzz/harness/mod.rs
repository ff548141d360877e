//! Fuzz harnesses. Each entry point takes raw bytes, never panics on bad input, and panics (with a
//! message naming the broken property) when the ledger misbehaves. The fuzz targets call them; the
//! stable tests replay the committed corpora and crash inputs through them.
#![allow(dead_code)]

pub mod fixtures;
pub mod frames;
pub mod model;

use commitment_ledger::decide;
use commitment_ledger::event::Event;
use commitment_ledger::ids::Seq;
use commitment_ledger::ledger::Until;
use commitment_ledger::record::{Record, hash_record_bytes};
use commitment_ledger::state::CoreState;
use commitment_ledger::store::HeadMark;
use commitment_ledger::verify::Verifier;
use commitment_ledger::{ActorId, Command, Ledger, MemStore, StateRead};
use std::ops::ControlFlow;

/// `Record::decode` never panics; when it accepts bytes, encoding the record gives the same bytes,
/// and the verifier can look at it without panicking.
pub fn record_decode(data: &[u8]) {
    let Ok(rec) = Record::decode(data) else { return };
    let again = rec.encode();
    assert!(again == data, "decode→encode changed the bytes: {} in, {} out\n{rec:?}", data.len(), again.len());
    assert_eq!(Record::decode(&again).as_ref(), Ok(&rec), "the re-encoded record decodes differently");
    let _ = rec.event.stream();
    let mut v = Verifier::new(None);
    let _ = v.push(&rec.seq.key(), data);
    let _ = v.finish(None);
}

/// `Event::decode(type, version, body)` never panics; what it accepts re-encodes to the same body;
/// the rules can judge it against an empty and a populated state without panicking.
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
    assert!(again == body, "decode→encode changed the body of a {:?}", event.event_type());
    let _ = event.stream();
    let now = fixtures::now();
    let admin = ActorId::new("admin").expect("valid");
    let _ = decide::check(&CoreState::default(), &admin, now, &event);
    let state = fixtures::sample_state();
    for actor in fixtures::ACTORS {
        let actor = ActorId::new(actor).expect("valid");
        let _ = decide::check(state, &actor, now, &event);
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
    let report = v.finish(bad.clone());
    assert_eq!(report.records, accepted.len() as u64);
    assert_eq!(report.ok, bad.is_none());
    if accepted.is_empty() {
        return;
    }
    // The accepted prefix, stored as a ledger would have stored it.
    let mut store = MemStore::new();
    let last = accepted.len() as u64 - 1;
    for (seq, bytes) in accepted.iter().enumerate() {
        store.log_mut().insert(seq as u64, bytes.clone());
    }
    *store.head_mut() = Some(HeadMark { seq: Seq(last), hash: hash_record_bytes(&accepted[last as usize]) });
    let clock = fixtures::FixedClock::at(fixtures::now());
    let mut ledger = Ledger::with_store(store, Box::new(clock)).expect("an accepted log opens");
    assert_eq!(ledger.damage(), None, "an accepted log opens damaged");
    let again = ledger.verify(&mut |_| {}).expect("verifies");
    assert!(again.ok, "the ledger over an accepted log does not verify: {again:?}");
    assert_eq!(again.records, accepted.len() as u64);
    assert_eq!(ledger.check_projection().expect("checks"), Vec::<String>::new());
    let live = items(&mut ledger);
    let replayed = {
        let mut r = ledger.replay(Until::Seq(Seq(last))).expect("replays");
        let mut out = Vec::new();
        r.for_each_item(&mut |i| out.push(i.clone())).expect("reads");
        out
    };
    assert_eq!(live, replayed, "replay differs from the live projection");
    // Appending resumes: whatever the rules say, the ledger stays sound.
    if let Some(info) = ledger.registry().info() {
        let admin = info.admin.clone();
        let area = commitment_ledger::event::AreaRegistered {
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

/// Every item of a ledger's live projection, in id order.
pub fn items<S: commitment_ledger::Store>(ledger: &mut Ledger<S>) -> Vec<commitment_ledger::state::ItemState> {
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
