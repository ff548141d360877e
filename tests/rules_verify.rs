//! Guards `verify` over a tampered store: a record that is well formed and well linked, but that the
//! rules would never have allowed, is found by replaying the rules against every stored record.

mod support;

use commitment_ledger::Facts;
use commitment_ledger::{Event, Hash, Head, Record, StatusChanged, StreamId, Timestamp};
use support::mem::*;
use support::*;

#[test]
fn verify_replays_the_rules_against_every_stored_record() {
    // A record that is well formed and well linked, but that the rules would never have allowed:
    // the deputy changing an item's status.
    let base = fixture();
    let st = base.folded();
    let head = base.l.head().unwrap();
    let stream = StreamId::Item(item("sci-lab"));
    let pos = st.stream_pos(&stream);
    let forged = Record {
        seq: head.seq.next(),
        prev: head.hash,
        time: head.time,
        actor: actor("lijing"),
        stream,
        stream_version: pos.next,
        stream_prev: pos.last,
        event: Event::StatusChanged(StatusChanged {
            item: item("sci-lab"),
            from: code("in_progress"),
            to: code("delivered"),
            reason: "代表认为已完成".into(),
            on: None,
        }),
        event_version: 1,
        signature: None,
    };
    let bytes = forged.encode();
    let hash = Hash(record_hash(&bytes));
    let t = base.reopen(|s| {
        s.log_mut().insert(forged.seq.0, bytes.clone());
        *s.head_mut() = Some(Head { time: Timestamp(0), seq: forged.seq, hash });
    });
    let report = t.l.verify(&mut |_| {}).unwrap();
    assert!(!report.ok);
    assert_eq!(report.first_bad_seq, Some(forged.seq.0));
    assert_eq!(report.problem_kind, Some("illegal_event"));
    assert!(report.problem.unwrap().contains("lijing (deputy) may not change the status"));
}
