//! Guards every rule through the ledger, at library level over `MemStore` with a clock the test sets:
//! each command the rules must refuse is refused by `Ledger::append` and writes nothing (the head does
//! not move), and its neighbour is accepted. The rules themselves, given/when/then over the pure state,
//! are unit tests in `src/decide.rs`.

mod support;

use commitment_ledger::{ActorId, Categorize, Command, Date, LedgerError, RecordFeedback, RegisterActor, RegisterArea};
use commitment_ledger::{Kind, Rejection, Role, SourceKind};
use support::mem::*;
use support::*;

// ---------------------------------------------------------------------------------------------
// Record 0.

#[test]
fn nothing_is_appended_before_the_opening() {
    let mut t = empty();
    assert!(matches!(t.no("admin", new_actor("fin", Role::Department)), Rejection::NotOpened));
    assert!(matches!(t.no("admin", new_item("x", "admin")), Rejection::NotOpened));
    assert!(matches!(t.no("admin", progress("x", "进展", "2024-05-01")), Rejection::NotOpened));
    assert_eq!(t.l.head(), None);
}

#[test]
fn the_opening_is_checked_and_happens_once() {
    let mut t = empty();
    let bad = |f: fn(&mut commitment_ledger::OpenLedger)| {
        let mut o = opened("admin");
        f(&mut o);
        Command::Open(o)
    };
    assert_field(t.no("someone-else", Command::Open(opened("admin"))), "admin");
    assert_field(t.no("admin", bad(|o| o.title = " ".into())), "title");
    assert_field(t.no("admin", bad(|o| o.admin_name = "x".repeat(513))), "admin-name");
    assert_field(t.no("admin", bad(|o| o.origin = String::new())), "origin");
    assert_field(t.no("admin", bad(|o| o.origin = "has space".into())), "origin");
    assert_field(t.no("admin", bad(|o| o.origin = "a+b".into())), "origin");
    assert_field(t.no("admin", bad(|o| o.origin = "o".repeat(257))), "origin");
    assert_field(t.no("admin", bad(|o| o.origin = "a\u{7}b".into())), "origin");
    assert_field(t.no("admin", bad(|o| o.utc_offset_minutes = 14 * 60 + 1)), "utc-offset");
    assert_field(t.no("admin", bad(|o| o.utc_offset_minutes = -14 * 60 - 1)), "utc-offset");
    assert_field(t.no("admin", bad(|o| o.vocabulary.statuses[0].next.push(code("nowhere")))), "vocabulary");
    assert_field(t.no("admin", bad(|o| o.vocabulary.statuses[1].initial_for = Some(Kind::Planned))), "vocabulary");
    // The limits themselves are fine.
    let mut o = opened("admin");
    o.utc_offset_minutes = -14 * 60;
    o.origin = "o".repeat(256);
    t.ok("admin", Command::Open(o));
    assert!(matches!(t.no("admin", Command::Open(opened("admin"))), Rejection::AlreadyOpened));
    assert!(matches!(t.l.init(opened("admin"), Vec::new()), Err(LedgerError::Rejected { index: 0, .. })));
}

#[test]
fn an_unknown_actor_appends_nothing() {
    let mut t = fixture();
    assert!(
        matches!(t.no("ghost", progress("sci-lab", "进展", "2024-05-01")), Rejection::UnknownActor(a) if a.as_str() == "ghost")
    );
    assert!(matches!(t.no("ghost", new_actor("x", Role::Department)), Rejection::UnknownActor(_)));
    assert!(matches!(t.no("ghost", feedback("reply-0771", "satisfied")), Rejection::UnknownActor(_)));
}

// ---------------------------------------------------------------------------------------------
// Registrations: only coordinators.

#[test]
fn only_coordinators_register_actors_areas_and_sources() {
    let mut t = fixture();
    for who in ["fin", "macao-dsepdr", "lijing"] {
        assert_not_allowed(t.no(who, new_actor("x", Role::Department)), who);
        let area = Command::RegisterArea(RegisterArea { id: area("space"), name: "航天".into(), name_en: None });
        assert_not_allowed(t.no(who, area), who);
        assert_not_allowed(t.no(who, source_cmd("s1", |_| {})), who);
    }
    t.ok("admin", new_actor("auditor", Role::Auditor));
    assert_not_allowed(t.no("auditor", new_actor("x", Role::Department)), "auditor");
    t.ok("office", new_actor("x", Role::Department));
    t.ok("admin", new_actor("y", Role::Counterpart));
    t.ok("office", Command::RegisterArea(RegisterArea { id: area("space"), name: "航天".into(), name_en: None }));
    t.ok("office", source_cmd("s1", |_| {}));
}

#[test]
fn actor_registrations_are_checked() {
    let mut t = fixture();
    assert!(matches!(t.no("office", new_actor("fin", Role::Department)), Rejection::Duplicate { what: "actor", .. }));
    assert!(matches!(t.no("office", new_actor("admin", Role::Office)), Rejection::Duplicate { .. }));
    assert_field(t.no("office", new_actor("boss", Role::Admin)), "role");
    let named = |name: &str, name_en: Option<&str>| {
        Command::RegisterActor(RegisterActor {
            id: actor("named"),
            name: name.into(),
            name_en: name_en.map(str::to_string),
            role: Role::Department,
            public_key: None,
        })
    };
    assert_field(t.no("office", named("", None)), "name");
    assert_field(t.no("office", named(&"名".repeat(171), None)), "name");
    assert_field(t.no("office", named("a\u{0}b", None)), "name");
    assert_field(t.no("office", named("部门", Some(""))), "name-en");
    assert_field(t.no("office", named("部门", Some("two\nlines"))), "name-en");
    t.ok("office", named(&"x".repeat(512), Some("Department")));
}

#[test]
fn area_registrations_are_checked() {
    let mut t = fixture();
    let area_cmd =
        |id: &str, name: &str| Command::RegisterArea(RegisterArea { id: area(id), name: name.into(), name_en: None });
    assert!(matches!(t.no("office", area_cmd("finance", "金融")), Rejection::Duplicate { what: "area", .. }));
    assert_field(t.no("office", area_cmd("space", "")), "name");
    assert_field(t.no("office", area_cmd("space", &"x".repeat(513))), "name");
    let with_en =
        Command::RegisterArea(RegisterArea { id: area("space"), name: "航天".into(), name_en: Some(" ".into()) });
    assert_field(t.no("office", with_en), "name-en");
    t.ok("office", area_cmd("space", "航天"));
}

#[test]
fn sources_are_checked() {
    let mut t = fixture();
    t.ok("office", new_actor("wangwu", Role::Deputy));
    assert!(matches!(t.no("office", source_cmd("reply-0771", |_| {})), Rejection::Duplicate { what: "source", .. }));
    assert_field(t.no("office", source_cmd("s1", |s| s.title = String::new())), "title");
    assert_field(t.no("office", source_cmd("s1", |s| s.title_en = Some("x".repeat(513)))), "title-en");
    assert_field(t.no("office", source_cmd("s1", |s| s.number = Some("\t".into()))), "number");
    assert_field(t.no("office", source_cmd("s1", |s| s.session = Some(String::new()))), "session");
    assert_field(t.no("office", source_cmd("s1", |s| s.date = date("2024-05-11"))), "date");
    assert_field(t.no("office", source_cmd("s1", |s| s.date = Date::Day(2023, 2, 29))), "date");
    assert!(matches!(t.no("office", source_cmd("s1", |s| s.issuer = actor("ghost"))), Rejection::UnknownActor(_)));
    assert!(matches!(
        t.no("office", source_cmd("s1", |s| s.addressee = Some(actor("ghost")))),
        Rejection::UnknownActor(_)
    ));
    assert_field(t.no("office", source_cmd("s1", |s| s.addressee = Some(actor("fin")))), "addressee");
    assert!(matches!(
        t.no("office", source_cmd("s1", |s| s.contributors = vec![actor("ghost")])),
        Rejection::UnknownActor(_)
    ));
    assert_field(
        t.no("office", source_cmd("s1", |s| s.contributors = vec![actor("fin"), actor("fin")])),
        "contributors",
    );
    for digest in ["abc", "blake3:", &format!("blake3:{}", "A".repeat(64)), &format!("sha256:{}", "a".repeat(64))] {
        assert_field(t.no("office", source_cmd("s1", |s| s.digest = Some(digest.to_string()))), "digest");
    }
    t.ok(
        "office",
        source_cmd("s1", |s| {
            s.digest = Some(format!("blake3:{}", "0a".repeat(32)));
            s.addressee = Some(actor("wangwu"));
            s.contributors = vec![actor("fin"), actor("drc")];
            s.date = date("2024-05-10");
        }),
    );
}

// ---------------------------------------------------------------------------------------------
// Commitments.

#[test]
fn who_may_record_a_commitment() {
    let mut t = fixture();
    t.ok("office", new_item("by-office", "fin"));
    t.ok("admin", new_item("by-admin", "fin"));
    // A department records its own commitment…
    t.ok("fin", new_item("by-fin", "fin"));
    // …but not one led by another.
    assert_not_allowed(t.no("fin", new_item("for-drc", "drc")), "fin");
    assert_not_allowed(t.no("macao-dsepdr", new_item("by-macao", "fin")), "macao-dsepdr");
    assert_not_allowed(t.no("lijing", new_item("by-deputy", "fin")), "lijing");
}

#[test]
fn commitments_are_checked() {
    let mut t = fixture();
    t.ok("admin", new_actor("auditor", Role::Auditor));
    assert!(matches!(t.no("office", new_item("fin-bonds", "fin")), Rejection::Duplicate { what: "item", .. }));
    assert!(matches!(
        t.no("office", with("n", "fin", |c| c.source = Some(source("reply-9999")))),
        Rejection::UnknownSource(_)
    ));
    assert!(matches!(t.no("office", with("n", "fin", |c| c.area = area("space"))), Rejection::UnknownArea(_)));
    assert!(matches!(t.no("office", new_item("n", "ghost")), Rejection::UnknownActor(_)));
    for lead in ["macao-dsepdr", "lijing", "auditor", "admin"] {
        assert_field(t.no("office", new_item("n", lead)), "lead");
    }
    t.ok("office", new_item("led-by-office", "office"));
    let partners = |p: &[&str]| {
        let p: Vec<ActorId> = p.iter().map(|a| actor(a)).collect();
        with("n", "fin", move |c| c.partners = p)
    };
    assert!(matches!(t.no("office", partners(&["ghost"])), Rejection::UnknownActor(_)));
    for bad in [&["lijing"][..], &["auditor"], &["admin"], &["fin"], &["drc", "drc"]] {
        assert_field(t.no("office", partners(bad)), "partner");
    }
    assert_field(t.no("office", with("n", "fin", |c| c.title = String::new())), "title");
    assert_field(t.no("office", with("n", "fin", |c| c.title_en = Some("x".repeat(513)))), "title-en");
    assert_field(t.no("office", with("n", "fin", |c| c.section = Some("a\u{1b}b".into()))), "section");
    assert_field(t.no("office", with("n", "fin", |c| c.text = "文".repeat(5462))), "text");
    assert_field(t.no("office", with("n", "fin", |c| c.on = Some(date("2024-05-11")))), "on");
    assert_field(t.no("office", with("n", "fin", |c| c.due = Some(Date::Month(2024, 13)))), "due");
    t.ok("office", partners(&["drc", "macao-dsepdr", "office"]));
    t.ok(
        "office",
        with("n2", "fin", |c| {
            c.text = "文".repeat(5461) + "x";
            c.on = Some(date("2024-05-10"));
            c.due = Some(date("2099-12-31"));
        }),
    );
}

#[test]
fn an_item_has_at_most_32_partners() {
    let mut t = fixture();
    let batch: Vec<_> =
        (0..33).map(|n| (actor("office"), new_actor(&format!("macao-{n}"), Role::Counterpart))).collect();
    t.l.append_batch(batch).unwrap();
    let names: Vec<ActorId> = (0..33).map(|n| actor(&format!("macao-{n}"))).collect();
    let thirty_three = names.clone();
    assert_field(t.no("office", with("n", "fin", move |c| c.partners = thirty_three)), "partner");
    let thirty_two = names[..32].to_vec();
    t.ok("office", with("n", "fin", move |c| c.partners = thirty_two));
    assert_eq!(t.item("n").core.partners.len(), 32);
}

#[test]
fn a_commitment_starts_in_the_status_its_kind_maps_to() {
    let mut t = fixture();
    for (kind, status) in [(Kind::Planned, "planned"), (Kind::Ongoing, "in_progress"), (Kind::Achieved, "delivered")] {
        let id = format!("k-{}", kind.as_str());
        t.ok("office", Command::RecordCommitment(commitment(&id, "fin", "finance", kind)));
        assert_eq!(t.item(&id).core.status, code(status));
    }
}

// ---------------------------------------------------------------------------------------------
// Authority over items.

#[test]
fn a_department_writes_only_about_items_it_leads_or_helps_with() {
    let mut t = fixture();
    // fin-bonds: led by fin, macao-dsepdr helps. culture has nothing to do with it.
    assert_not_allowed(t.no("culture", progress("fin-bonds", "越权", "2024-05-01")), "culture");
    assert_not_allowed(t.no("culture", figure("fin-bonds", "数", "1", None)), "culture");
    assert_not_allowed(t.no("drc", correct("fin-bonds", 1, None, Some("5"))), "drc");
    assert_not_allowed(t.no("culture", status("fin-bonds", "in_progress", "越权")), "culture");
    assert_not_allowed(t.no("culture", amend("fin-bonds", |a| a.title = Some("越权".into()))), "culture");
    // A deputy and an auditor write about no item.
    t.ok("admin", new_actor("auditor", Role::Auditor));
    for who in ["lijing", "auditor"] {
        assert_not_allowed(t.no(who, progress("fin-bonds", "越权", "2024-05-01")), who);
        assert_not_allowed(t.no(who, figure("fin-bonds", "数", "1", None)), who);
    }
    // The lead and the partner may.
    t.ok("fin", progress("fin-bonds", "牵头单位报告", "2024-05-01"));
    t.ok("macao-dsepdr", progress("fin-bonds", "澳方报告", "2024-05-01"));
    t.ok("macao-dsepdr", figure("fin-bonds", "数", "1", None));
    t.ok("macao-dsepdr", correct("fin-bonds", 4, Some("澳方报告（更正）"), None));
    // So may the coordinators.
    t.ok("office", progress("fin-bonds", "办公室报告", "2024-05-01"));
    t.ok("admin", figure("fin-bonds", "数", "2", None));
}

#[test]
fn partners_report_progress_but_only_the_lead_or_office_changes_status_or_amends() {
    let mut t = fixture();
    // sci-lab: led by sci; drc and macao-dsepdr help.
    t.ok("drc", progress("sci-lab", "发改委报告", "2024-05-01"));
    t.ok("macao-dsepdr", progress("sci-lab", "澳方报告", "2024-05-01"));
    assert_not_allowed(t.no("macao-dsepdr", status("sci-lab", "delivered", "澳方认为完成")), "macao-dsepdr");
    assert_not_allowed(t.no("drc", status("sci-lab", "stalled", "发改委认为停滞")), "drc");
    assert_not_allowed(t.no("drc", amend("sci-lab", |a| a.due = Some(date("2099")))), "drc");
    t.ok("sci", amend("sci-lab", |a| a.due = Some(date("2099"))));
    t.ok("sci", status("sci-lab", "stalled", "经费未到位"));
    t.ok("office", status("sci-lab", "in_progress", "经费到位"));
    t.ok("office", amend("sci-lab", |a| a.title = Some("新标题".into())));
}

#[test]
fn only_coordinators_reassign() {
    let mut t = fixture();
    // Not even the lead.
    assert_not_allowed(t.no("sci", reassign("sci-lab", "fin", None)), "sci");
    assert_not_allowed(t.no("drc", reassign("sci-lab", "drc", Some(&["sci"]))), "drc");
    t.ok("office", reassign("sci-lab", "fin", None));
    t.ok("admin", reassign("sci-lab", "sci", None));
}

#[test]
fn reassignments_are_checked() {
    let mut t = fixture();
    assert!(matches!(t.no("office", reassign("ghost-item", "fin", None)), Rejection::UnknownItem(_)));
    assert!(matches!(t.no("office", reassign("sci-lab", "ghost", None)), Rejection::UnknownActor(_)));
    assert_field(t.no("office", reassign("sci-lab", "macao-dsepdr", None)), "lead");
    assert_field(t.no("office", reassign("sci-lab", "sci", None)), "lead");
    // The new lead cannot stay among the partners.
    assert_field(t.no("office", reassign("sci-lab", "drc", None)), "partner");
    assert_field(t.no("office", reassign("sci-lab", "fin", Some(&["lijing"]))), "partner");
    let mut r = reassign("sci-lab", "fin", None);
    if let Command::Reassign { reason, .. } = &mut r {
        reason.clear();
    }
    assert_field(t.no("office", r), "reason");
    // Same lead, new partners: allowed.
    t.ok("office", reassign("sci-lab", "sci", Some(&["fin"])));
}

#[test]
fn deputy_feedback_only_on_sources_addressed_to_her() {
    let mut t = fixture();
    t.ok("office", new_actor("wangwu", Role::Deputy));
    t.ok("office", source_cmd("reply-0772", |s| s.addressee = Some(actor("wangwu"))));
    t.ok("office", source_cmd("memo-1", |s| s.kind = SourceKind::Memorandum));
    t.ok("lijing", feedback("reply-0771", "satisfied"));
    assert_not_allowed(t.no("lijing", feedback("reply-0772", "satisfied")), "lijing");
    assert_not_allowed(t.no("wangwu", feedback("reply-0771", "dissatisfied")), "wangwu");
    assert_not_allowed(t.no("lijing", feedback("memo-1", "satisfied")), "lijing");
    assert_not_allowed(t.no("fin", feedback("reply-0771", "satisfied")), "fin");
    t.ok("wangwu", feedback("reply-0772", "basically_satisfied"));
    t.ok("office", feedback("memo-1", "satisfied"));
    assert!(matches!(t.no("lijing", feedback("reply-9999", "satisfied")), Rejection::UnknownSource(_)));
    assert!(matches!(
        t.no("lijing", feedback("reply-0771", "happy")),
        Rejection::UnknownCode { vocabulary: "verdict", .. }
    ));
    let mut f = RecordFeedback {
        source: source("reply-0771"),
        verdict: code("satisfied"),
        text: Some(String::new()),
        on: None,
    };
    assert_field(t.no("lijing", Command::RecordFeedback(f.clone())), "text");
    f.text = None;
    f.on = Some(date("2024-05-11"));
    assert_field(t.no("lijing", Command::RecordFeedback(f)), "on");
}

#[test]
fn only_coordinators_categorize_replies() {
    let mut t = fixture();
    assert_not_allowed(t.no("fin", categorize("reply-0771", "a")), "fin");
    assert_not_allowed(t.no("lijing", categorize("reply-0771", "a")), "lijing");
    assert!(matches!(t.no("office", categorize("reply-9999", "a")), Rejection::UnknownSource(_)));
    assert!(matches!(
        t.no("office", categorize("reply-0771", "e")),
        Rejection::UnknownCode { vocabulary: "category", .. }
    ));
    let c = Categorize { source: source("reply-0771"), category: code("a"), reason: Some(" ".into()) };
    assert_field(t.no("office", Command::Categorize(c)), "reason");
    t.ok("office", categorize("reply-0771", "a"));
    t.ok("admin", categorize("reply-0771", "c"));
}

// ---------------------------------------------------------------------------------------------
// Updates to items.

#[test]
fn updates_name_an_existing_item() {
    let mut t = fixture();
    for c in [
        progress("ghost-item", "进展", "2024-05-01"),
        status("ghost-item", "delivered", "完成"),
        figure("ghost-item", "数", "1", None),
        correct("ghost-item", 1, Some("改"), None),
        amend("ghost-item", |a| a.title = Some("新".into())),
    ] {
        assert!(matches!(t.no("office", c), Rejection::UnknownItem(i) if i.as_str() == "ghost-item"));
    }
}

#[test]
fn progress_is_checked() {
    let mut t = fixture();
    assert_field(t.no("sci", progress("sci-lab", "", "2024-05-01")), "text");
    assert_field(t.no("sci", progress("sci-lab", &"文".repeat(5462), "2024-05-01")), "text");
    let with_evidence = |e: &str| Command::ReportProgress {
        item: item("sci-lab"),
        text: "进展".into(),
        on: None,
        evidence: Some(e.into()),
    };
    assert_field(t.no("sci", with_evidence("")), "evidence");
    assert_field(t.no("sci", with_evidence("a\u{7f}")), "evidence");
    t.ok("sci", with_evidence("京科发〔2024〕12号"));
    // Without a date, progress is dated today (the ledger's day).
    assert_eq!(t.item("sci-lab").latest_progress.unwrap().on, date("2024-05-10"));
}

#[test]
fn figures_are_checked() {
    let mut t = fixture();
    for bad in
        ["", "2,300", "4家", "1e9", ".5", "5.", "--1", "+1", "1.2.3", &"9".repeat(31), &format!("1.{}", "0".repeat(13))]
    {
        assert_field(t.no("fin", figure("fin-bonds", "数", bad, None)), "value");
    }
    for good in ["0", "-12", "2.35", "2300000000", &"9".repeat(30), &format!("1.{}", "0".repeat(12))] {
        t.ok("fin", figure("fin-bonds", "数", good, None));
    }
    assert_field(t.no("fin", figure("fin-bonds", "", "1", None)), "name");
    assert_field(t.no("fin", figure("fin-bonds", "数", "1", Some(&"u".repeat(65)))), "unit");
    assert_field(t.no("fin", figure("fin-bonds", "数", "1", Some(""))), "unit");
    t.ok("fin", figure("fin-bonds", "数", "1", Some(&"u".repeat(64))));
}

#[test]
fn corrections_are_checked() {
    let mut t = fixture();
    // sci-lab has entries 0 (the commitment), 1 and 2 (progress) and 3 (a correction).
    assert_field(t.no("sci", correct("sci-lab", 0, Some("改"), None)), "entry");
    assert_field(t.no("sci", correct("sci-lab", 4, Some("改"), None)), "entry");
    assert_field(t.no("sci", correct("sci-lab", 1, None, None)), "text");
    assert_field(t.no("sci", correct("sci-lab", 1, Some(""), None)), "text");
    assert_field(t.no("sci", correct("sci-lab", 1, None, Some("x"))), "value");
    let mut c = correct("sci-lab", 1, Some("改"), None);
    if let Command::Correct(e) = &mut c {
        e.reason = String::new();
    }
    assert_field(t.no("sci", c), "reason");
    t.ok("sci", correct("sci-lab", 3, Some("更正的更正"), None));
}

#[test]
fn status_changes_are_checked() {
    let mut t = fixture();
    assert!(matches!(
        t.no("sci", status("sci-lab", "finished", "完成")),
        Rejection::UnknownCode { vocabulary: "status", known, .. } if known.contains("partially_delivered")
    ));
    assert_field(t.no("sci", status("sci-lab", "delivered", "")), "reason");
    let on = |d: &str| Command::ChangeStatus {
        item: item("sci-lab"),
        to: code("delivered"),
        reason: "完成".into(),
        on: Some(date(d)),
    };
    assert_field(t.no("sci", on("2024-05-11")), "on");
    t.ok("sci", on("2024-05-10"));
}

#[test]
fn amendments_are_checked() {
    let mut t = fixture();
    assert_field(t.no("office", amend("sci-lab", |_| {})), "amend");
    assert_field(t.no("office", amend("sci-lab", |a| a.title = Some(String::new()))), "title");
    assert_field(t.no("office", amend("sci-lab", |a| a.title_en = Some("a\nb".into()))), "title-en");
    assert_field(t.no("office", amend("sci-lab", |a| a.text = Some(" ".into()))), "text");
    assert_field(t.no("office", amend("sci-lab", |a| a.due = Some(Date::Day(2025, 2, 29)))), "due");
    assert!(matches!(t.no("office", amend("sci-lab", |a| a.area = Some(area("space")))), Rejection::UnknownArea(_)));
    assert_field(
        t.no(
            "office",
            amend("sci-lab", |a| {
                a.title = Some("新".into());
                a.reason = String::new();
            }),
        ),
        "reason",
    );
    t.ok("office", amend("sci-lab", |a| a.due = Some(date("2099-12-31"))));
}

#[test]
fn a_closed_item_takes_no_more_updates() {
    let mut t = fixture();
    t.ok("office", status("tcm-center", "dropped", "合作方调整"));
    let closed = |r: Rejection| {
        assert!(matches!(r, Rejection::Closed { ref status, .. } if status.as_str() == "dropped"), "{r:?}")
    };
    closed(t.no("tcm-bureau", progress("tcm-center", "仍在推进", "2024-05-01")));
    closed(t.no("office", figure("tcm-center", "数", "1", None)));
    closed(t.no("office", correct("tcm-center", 1, Some("改"), None)));
    assert!(matches!(t.no("office", status("tcm-center", "in_progress", "恢复")), Rejection::IllegalTransition { .. }));
    // A delivered item still takes figures and progress (the default vocabulary says so).
    t.ok("fin", progress("fin-bonds", "又有一家企业挂牌", "2024-05-01"));
}

// ---------------------------------------------------------------------------------------------
// Dates: "on" and "as-of" say when something happened; "due" is a promise.

#[test]
fn dates_in_the_future_are_refused_for_on_and_as_of_but_not_for_due() {
    let mut t = fixture();
    // Today is 2024-05-10 in Beijing.
    for future in ["2024-05-11", "2024-06", "2025"] {
        assert_field(t.no("sci", progress("sci-lab", "进展", future)), "on");
        assert_field(t.no("fin", figure_as_of("fin-bonds", "1", future)), "as-of");
    }
    for past_or_now in ["2024-05-10", "2024-05", "2024", "2023-12-31"] {
        t.ok("sci", progress("sci-lab", "进展", past_or_now));
        t.ok("fin", figure_as_of("fin-bonds", "1", past_or_now));
    }
    t.ok("office", with("due-far", "fin", |c| c.due = Some(date("2099-12-31"))));
    t.ok("office", amend("due-far", |a| a.due = Some(date("9999"))));
    assert_eq!(t.item("due-far").due, Some(Date::Year(9999)));
}

#[test]
fn today_is_the_ledgers_day_not_utcs() {
    let mut t = fixture();
    // 20:00 UTC on 10 May is 04:00 on 11 May in Beijing.
    t.clock.set(ts("2024-05-10T20:00:00Z"));
    t.ok("sci", progress("sci-lab", "北京时间已是11日", "2024-05-11"));
    assert_field(t.no("sci", progress("sci-lab", "进展", "2024-05-12")), "on");
    // A ledger kept at UTC-05:00: 03:00 UTC on 11 May is still 10 May there.
    let mut o = opened("admin");
    o.utc_offset_minutes = -300;
    let mut u = empty();
    u.clock.set(ts("2024-05-11T03:00:00Z"));
    u.l.init(o, seed_areas()).unwrap();
    let on = |d: &str| {
        let d = date(d);
        source_cmd("s1", move |s| {
            s.issuer = actor("admin");
            s.date = d;
        })
    };
    assert_field(u.no("admin", on("2024-05-11")), "date");
    u.ok("admin", on("2024-05-10"));
}
