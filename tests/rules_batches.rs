//! Guards batches and atomicity through the ledger: each command of a batch sees the ones before it, a
//! batch refused by a rule or failed by the store writes nothing and leaves the state as it was, and
//! time never runs backwards.

mod support;

use commitment_ledger::{Event, LedgerError, Rejection, Role, Seq, StoreError, Timestamp};
use std::ops::ControlFlow;
use support::mem::*;
use support::*;

// ---------------------------------------------------------------------------------------------
// Batches, failures, time.

#[test]
fn each_command_of_a_batch_sees_the_ones_before_it() {
    let mut t = fixture();
    let head = t.l.head().unwrap().seq.0;
    let out =
        t.l.append_batch(vec![
            (actor("office"), new_actor("new-dept", Role::Department)),
            (actor("office"), new_item("new-item", "new-dept")),
            (actor("new-dept"), progress("new-item", "新部门的进展", "2024-05-01")),
        ])
        .unwrap();
    let seqs: Vec<u64> = out.iter().map(|a| a.seq.0).collect();
    assert_eq!(seqs, [head + 1, head + 2, head + 3]);
    assert_eq!(t.item("new-item").progress_reports, 1);
}

#[test]
fn a_batch_refused_at_its_third_command_writes_nothing() {
    let mut t = fixture();
    let (head, stored, registry, items) = (t.l.head(), t.stored(), t.l.registry().clone(), t.items());
    let r = t.l.append_batch(vec![
        (actor("office"), new_item("batch-item", "fin")),
        (actor("fin"), progress("batch-item", "第一条", "2024-05-01")),
        (actor("culture"), progress("batch-item", "越权", "2024-05-01")),
        (actor("fin"), progress("batch-item", "第三条", "2024-05-01")),
    ]);
    assert!(matches!(r, Err(LedgerError::Rejected { index: 2, rejection: Rejection::NotAllowed { .. } })), "{r:?}");
    assert_eq!(t.l.head(), head);
    assert_eq!(t.stored(), stored);
    assert_eq!(t.l.registry(), &registry);
    assert_eq!(t.items(), items, "no item state moved");
    assert!(t.l.item(&item("batch-item")).unwrap().is_none(), "the first command left no trace");
    // The next append continues the log where it was, and the item can be recorded after all.
    let a = t.ok("office", new_item("batch-item", "fin"));
    assert_eq!(a.seq, head.unwrap().seq.next());
    assert!(t.l.verify(&mut |_| {}).unwrap().ok);
    assert!(t.l.check_projection().unwrap().is_empty());
}

#[test]
fn a_batch_failing_in_the_store_writes_nothing() {
    let base = fixture();
    let mut t = base.reopen(|s| s.fail_appends = 1);
    let (head, stored, registry, items) = (t.l.head(), t.stored(), t.l.registry().clone(), t.items());
    let r = t.l.append_batch(vec![
        (actor("office"), new_actor("new-dept", Role::Department)),
        (actor("office"), new_item("store-item", "new-dept")),
        (actor("sci"), status("sci-lab", "delivered", "完成")),
    ]);
    assert!(matches!(r, Err(LedgerError::Store(StoreError::Io { .. }))), "{r:?}");
    assert_eq!(t.l.head(), head);
    assert_eq!(t.stored(), stored);
    assert_eq!(t.l.registry(), &registry, "new-dept is not registered");
    assert_eq!(t.items(), items);
    assert_eq!(t.item("sci-lab").core.status, code("in_progress"));
    // The disk has room again: the next append gets the next seq, and the same batch now succeeds.
    let a = t.ok("sci", progress("sci-lab", "磁盘恢复后", "2024-05-01"));
    assert_eq!(a.seq, head.unwrap().seq.next());
    let out =
        t.l.append_batch(vec![
            (actor("office"), new_actor("new-dept", Role::Department)),
            (actor("office"), new_item("store-item", "new-dept")),
            (actor("sci"), status("sci-lab", "delivered", "完成")),
        ])
        .unwrap();
    assert_eq!(out[0].seq, a.seq.next());
    assert_eq!(t.item("sci-lab").core.status, code("delivered"));
    let report = t.l.verify(&mut |_| {}).unwrap();
    assert!(report.ok, "{report:?}");
    assert!(t.l.check_projection().unwrap().is_empty());
}

#[test]
fn a_failed_single_append_leaves_the_state_as_it_was() {
    let base = fixture();
    let mut t = base.reopen(|s| s.fail_appends = 2);
    let before = t.item("culture-week");
    for _ in 0..2 {
        let r = t.l.append(&actor("drc"), status("culture-week", "delivered", "完成"));
        assert!(matches!(r, Err(LedgerError::Store(_))), "{r:?}");
        assert_eq!(t.item("culture-week"), before);
    }
    let a = t.ok("drc", status("culture-week", "delivered", "完成"));
    let after = t.item("culture-week");
    assert_eq!(after.core.status, code("delivered"));
    assert_eq!(after.status_seq, a.seq);
    let history = t.l.history(&item("culture-week")).unwrap().unwrap();
    assert!(matches!(&history.last().unwrap().0.event, Event::StatusChanged(e) if e.from.as_str() == "in_progress"));
}

#[test]
fn time_never_goes_backwards() {
    let mut t = fixture();
    let first = t.ok("sci", progress("sci-lab", "今天", "2024-05-10"));
    t.clock.shift(-DAY_US);
    let second = t.ok("sci", progress("sci-lab", "时钟回拨一天", "2024-05-10"));
    assert!(second.time >= first.time, "{:?} < {:?}", second.time, first.time);
    // A clock a year behind the last record (or a last record moved a year forward): appends would
    // inherit its time, so they are refused until someone looks, and nothing is written.
    t.clock.set(ts("2023-05-10T09:00:00+08:00"));
    let refused = t.l.append_batch(vec![
        (actor("sci"), progress("sci-lab", "时钟回拨一年", "2024-05-10")),
        (actor("fin"), figure_as_of("fin-bonds", "7", "2024-05-10")),
    ]);
    assert!(matches!(refused, Err(commitment_ledger::LedgerError::HeadAhead { .. })), "{refused:?}");
    assert_eq!(t.l.head().map(|h| h.seq), Some(second.seq));
    t.clock.set(ts("2024-05-10T09:00:05+08:00"));
    let later = t.ok("sci", progress("sci-lab", "时钟恢复", "2024-05-10"));
    assert_eq!(later.time, ts("2024-05-10T09:00:05+08:00"));
    let mut previous = Timestamp(i64::MIN);
    t.l.for_each_record(Seq(0), &mut |rec, _| {
        assert!(rec.time >= previous, "record {} is earlier than the one before", rec.seq);
        previous = rec.time;
        ControlFlow::Continue(())
    })
    .unwrap();
    let report = t.l.verify(&mut |_| {}).unwrap();
    assert!(report.ok, "{report:?}");
}
