//! Guards the folds through the ledger: what each event does to the projected state of an item or a
//! source, and that the stored projection (in memory and on disk, before and after reopening) always
//! equals a replay of the log.

mod support;

use commitment_ledger::{Date, Event, ItemState, Ledger, Registry, Seq, StreamVersion, Until};
use support::mem::*;
use support::*;

// ---------------------------------------------------------------------------------------------
// What each event does to the state.

#[test]
fn the_latest_progress_is_the_last_report() {
    let mut t = fixture();
    let lab = t.item("sci-lab");
    assert_eq!(lab.progress_reports, 2);
    let latest = lab.latest_progress.unwrap();
    assert_eq!(latest.text, "澳方完成人员配备。");
    assert_eq!(latest.actor, actor("macao-dsepdr"));
    assert_eq!(latest.entry, StreamVersion(2));
    assert_eq!(latest.on, date("2024-05"));
    let a = t.ok("sci", progress("sci-lab", "第三次报告", "2024-05-09"));
    let lab = t.item("sci-lab");
    assert_eq!(lab.progress_reports, 3);
    let latest = lab.latest_progress.unwrap();
    assert_eq!((latest.text.as_str(), latest.seq, latest.entry), ("第三次报告", a.seq, StreamVersion(4)));
    assert_eq!(lab.core.pos.last, Some(a.seq));
    assert_eq!(lab.updated, a.time);
}

#[test]
fn figures_keep_their_history() {
    let mut t = fixture();
    let first = t.ok("fin", figure("fin-bonds", "在澳门挂牌债券的企业", "5", Some("家")));
    let second = t.ok("fin", figure("fin-bonds", "在澳门挂牌债券的企业", "6", Some("户")));
    let bonds = t.item("fin-bonds");
    let names: Vec<&str> = bonds.indicators.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["在澳门挂牌债券的企业", "债券总额"], "in the order first stated");
    let ind = &bonds.indicators[0];
    let values: Vec<&str> = ind.history.iter().map(|h| h.value.as_str()).collect();
    assert_eq!(values, ["4", "5", "6"], "oldest first, the last is current");
    assert_eq!(ind.history[1].seq, first.seq);
    assert_eq!(ind.history[2].seq, second.seq);
    assert_eq!(ind.unit.as_deref(), Some("户"), "the unit of the latest value");
    assert_eq!(bonds.indicators[1].history.len(), 1);
}

#[test]
fn a_correction_changes_the_entry_it_names_and_only_that() {
    let mut t = fixture();
    // The fixture corrected sci-lab's entry 1, which is not the latest report.
    let lab = t.item("sci-lab");
    assert_eq!(lab.latest_progress.as_ref().unwrap().text, "澳方完成人员配备。");
    assert_eq!(lab.corrections.len(), 1);
    assert_eq!(lab.corrections[0].entry, StreamVersion(1));
    assert_eq!(lab.corrections[0].text.as_deref(), Some("联合实验室完成选址和设计。"));
    // Correcting the latest report changes it.
    let c = t.ok("macao-dsepdr", correct("sci-lab", 2, Some("澳方完成首批人员配备。"), None));
    let lab = t.item("sci-lab");
    assert_eq!(lab.latest_progress.as_ref().unwrap().text, "澳方完成首批人员配备。");
    assert_eq!(lab.corrections[1].seq, c.seq);
    // Correcting a figure changes that value only.
    t.ok("fin", correct("fin-bonds", 1, None, Some("5")));
    let bonds = t.item("fin-bonds");
    assert_eq!(bonds.indicators[0].history[0].value, "5");
    assert_eq!(bonds.indicators[1].history[0].value, "2300000000");
    // The log keeps what was first said.
    let history = t.l.history(&item("fin-bonds")).unwrap().unwrap();
    assert!(matches!(&history[1].0.event, Event::IndicatorRecorded(e) if e.value == "4"));
    assert!(matches!(&history.last().unwrap().0.event, Event::EntryCorrected(e) if e.entry == StreamVersion(1)));
}

#[test]
fn an_amendment_changes_what_it_names_and_keeps_the_rest() {
    let mut t = fixture();
    let before = t.item("tcm-center");
    assert_eq!(before.title, "中医药国际合作中心", "amended by the fixture");
    assert_eq!(before.due, Some(Date::Year(2099)));
    assert_eq!(before.text, "关于tcm-center的承诺原文。", "not amended");
    assert_eq!(before.amendments, 1);
    t.ok(
        "office",
        amend("tcm-center", |a| {
            a.text = Some("新的措辞。".into());
            a.title_en = Some("TCM centre".into());
            a.area = Some(area("health"));
        }),
    );
    let after = t.item("tcm-center");
    assert_eq!(after.text, "新的措辞。");
    assert_eq!(after.title_en.as_deref(), Some("TCM centre"));
    assert_eq!(after.core.area, area("health"));
    assert_eq!(after.title, before.title);
    assert_eq!(after.due, before.due);
    assert_eq!(after.amendments, 2);
    assert_eq!(after.core.status, before.core.status);
}

#[test]
fn a_reassignment_changes_lead_and_partners_and_with_them_authority() {
    let mut t = fixture();
    let week = t.item("culture-week");
    assert_eq!(week.core.lead, actor("drc"), "reassigned by the fixture");
    assert_eq!(week.core.partners, vec![actor("culture")]);
    assert_eq!(week.reassignments, 1);
    // The former lead, now a partner, reports but no longer changes the status.
    t.ok("culture", progress("culture-week", "协助筹备", "2024-05-01"));
    assert_not_allowed(t.no("culture", status("culture-week", "delivered", "完成")), "culture");
    t.ok("drc", status("culture-week", "stalled", "场地问题"));
    // New lead and partners: those dropped lose their say.
    t.ok("office", reassign("sci-lab", "fin", Some(&["drc"])));
    let lab = t.item("sci-lab");
    assert_eq!((lab.core.lead.as_str(), lab.core.partners.clone()), ("fin", vec![actor("drc")]));
    assert_not_allowed(t.no("sci", progress("sci-lab", "原牵头单位", "2024-05-01")), "sci");
    assert_not_allowed(t.no("macao-dsepdr", progress("sci-lab", "澳方", "2024-05-01")), "macao-dsepdr");
    t.ok("fin", status("sci-lab", "delivered", "新牵头单位确认完成"));
    // Without partners, the partners stay.
    t.ok("office", reassign("sci-lab", "sci", None));
    let lab = t.item("sci-lab");
    assert_eq!((lab.core.lead.as_str(), lab.core.partners.clone()), ("sci", vec![actor("drc")]));
    assert_eq!(lab.reassignments, 2);
}

#[test]
fn status_changes_and_source_events_are_folded() {
    let mut t = fixture();
    let a = t.ok("sci", status("sci-lab", "partially_delivered", "部分完成"));
    let lab = t.item("sci-lab");
    assert_eq!(lab.core.status, code("partially_delivered"));
    assert_eq!(lab.status_reason.as_deref(), Some("部分完成"));
    assert_eq!(lab.status_seq, a.seq);
    let reg: Registry = t.l.registry().clone();
    let src = &reg.sources[&source("reply-0771")];
    assert_eq!(src.items, 3, "three of the fixture's items come from the reply");
    assert_eq!(src.feedback.len(), 1);
    assert_eq!(src.category.as_ref().unwrap().0.category, code("b"));
    t.ok("lijing", feedback("reply-0771", "dissatisfied"));
    t.ok("office", categorize("reply-0771", "a"));
    let reg = t.l.registry().clone();
    let src = &reg.sources[&source("reply-0771")];
    let verdicts: Vec<&str> = src.feedback.iter().map(|f| f.verdict.as_str()).collect();
    assert_eq!(verdicts, ["satisfied", "dissatisfied"]);
    assert_eq!(src.category.as_ref().unwrap().0.category, code("a"));
}

// ---------------------------------------------------------------------------------------------
// The projection equals the replay.

#[test]
fn the_projection_equals_the_replay_after_many_appends_and_after_reopening() {
    let mut t = fixture();
    for round in 0..25u64 {
        t.clock.shift(DAY_US / 4);
        let mut batch = Vec::new();
        for n in 0..10u64 {
            let id = format!("m{round}-{n}");
            batch.push((actor("office"), new_item(&id, if n % 2 == 0 { "fin" } else { "drc" })));
        }
        t.l.append_batch(batch).unwrap();
        for n in 0..10u64 {
            let id = format!("m{round}-{n}");
            let lead = if n % 2 == 0 { "fin" } else { "drc" };
            t.ok(lead, progress(&id, "进展", "2024-05-10"));
            if n % 3 == 0 {
                t.ok(lead, status(&id, "in_progress", "启动"));
            }
        }
        t.ok("sci", progress("sci-lab", &format!("第{round}轮"), "2024-05-10"));
    }
    assert!(t.l.head().unwrap().seq.0 > 600);
    assert_eq!(t.l.check_projection().unwrap(), Vec::<String>::new());
    // What the live state says equals a fold of the log.
    let folded = t.folded();
    let items = t.items();
    assert_eq!(items.len(), folded.len());
    assert!(items.iter().all(|i| folded.get(&i.id) == Some(i)));
    assert_eq!(t.l.registry(), folded.registry());
    // Reopened over the same store: the same state, still equal to the replay.
    let mut again = t.reopen(|_| {});
    assert_eq!(again.items(), items);
    assert_eq!(again.l.check_projection().unwrap(), Vec::<String>::new());
    // A replay to the head is the live state; a replay to an earlier seq is a prefix fold.
    let head = t.l.head().unwrap().seq;
    let replayed: Vec<ItemState> = again.l.replay(Until::Seq(head)).unwrap().items().cloned().collect();
    assert_eq!(replayed, items);
    let early: Vec<_> = again.l.replay(Until::Seq(Seq(36))).unwrap().items().map(|i| i.id.clone()).collect();
    assert_eq!(early.len(), 4, "only the fixture's items existed at its last record");
}

#[test]
fn the_projection_on_disk_equals_the_replay_after_reopening() {
    let tmp = tempdir();
    let dir = tmp.path().join("ledger");
    build_fixture(&dir);
    let clock = clock_at(FIXTURE_TIME);
    let items = {
        let mut l = Ledger::with_store(open_store(&dir, false), Box::new(clock.clone())).unwrap();
        for n in 0..50 {
            l.append(&actor("sci"), progress("sci-lab", &format!("第{n}次"), "2024-05-10")).unwrap();
        }
        assert!(l.check_projection().unwrap().is_empty());
        let mut items = Vec::new();
        l.for_each_item(&mut |i| items.push(i.clone())).unwrap();
        l.close().unwrap();
        items
    };
    let mut l = open_ledger(&dir);
    assert!(l.check_projection().unwrap().is_empty());
    let mut reopened = Vec::new();
    l.for_each_item(&mut |i| reopened.push(i.clone())).unwrap();
    assert_eq!(reopened, items);
    assert_eq!(l.head().unwrap().seq, Seq(36 + 50));
}
