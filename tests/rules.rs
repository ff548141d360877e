//! Guards the rules and the folds, at library level over `MemStore` with a clock the test sets: every
//! rule of `commitment_ledger::rules::check` refuses what it must (and allows its neighbour), every event changes the
//! projected state as it should, batches are all or nothing, time never runs backwards, and the stored
//! projection always equals a replay of the log.

mod support;

use commitment_ledger::Rejection;
use commitment_ledger::{
    ActorId, Code, Command, Date, Hash, Ledger, LedgerError, MemStore, NewCommitment, Record, Seq, StoreError,
    StreamId, StreamVersion, Until,
};
#[allow(unused_imports)]
use commitment_ledger::{
    Amend, Categorize, Correct, Head, ManualClock, RecordFeedback, RecordIndicator, RecordSource, RegisterActor,
    RegisterArea, Timestamp,
};
use commitment_ledger::{CommitmentReassigned, Event, StatusChanged};
use commitment_ledger::{Facts, ItemState, Registry, State};
use commitment_ledger::{Kind, Role, SourceKind, StatusDef, Term, Vocabulary};
use std::ops::ControlFlow;
use support::*;

/// A ledger over memory, with the test's clock.
struct T {
    l: Ledger<MemStore>,
    clock: ManualClock,
}

/// An empty ledger (no record 0), the clock at the fixture's time.
fn empty() -> T {
    let clock = clock_at(FIXTURE_TIME);
    let l = Ledger::with_store(MemStore::new(), Box::new(clock.clone())).unwrap();
    T { l, clock }
}

/// A ledger opened with a vocabulary and the seed areas, nothing else.
fn opened_ledger(vocabulary: Vocabulary) -> T {
    let mut t = empty();
    t.l.init(opened_with("admin", vocabulary), seed_areas()).unwrap();
    t
}

/// The fixture: actors, the reply 0771 addressed to 李静, four commitments and their updates.
fn fixture() -> T {
    let mut t = opened_ledger(Vocabulary::default_v1());
    t.l.append_batch(fixture_commands()).unwrap();
    t
}

impl T {
    /// Appends a command that must be accepted.
    #[track_caller]
    fn ok(&mut self, who: &str, command: Command) -> Head {
        let described = format!("{command:?}");
        self.l.append(&actor(who), command).unwrap_or_else(|e| panic!("{who} was refused {described}: {e}"))
    }

    /// Appends a command that must be refused; checks nothing was written and returns why.
    #[track_caller]
    fn no(&mut self, who: &str, command: Command) -> Rejection {
        let before = self.l.head();
        let described = format!("{command:?}");
        let rejection = match self.l.append(&actor(who), command) {
            Ok(a) => panic!("{who} was allowed {described} (record {})", a.seq),
            Err(LedgerError::Rejected { index: 0, rejection }) => rejection,
            Err(e) => panic!("{who}: {described} failed otherwise: {e}"),
        };
        assert_eq!(self.l.head(), before, "a refused command moved the head");
        rejection
    }

    /// The state of an item, which must exist.
    #[track_caller]
    fn item(&mut self, id: &str) -> ItemState {
        self.l.item(&item(id)).unwrap().unwrap_or_else(|| panic!("no item {id}"))
    }

    /// Every item's state, in id order.
    fn items(&mut self) -> Vec<ItemState> {
        let mut out = Vec::new();
        self.l.for_each_item(&mut |i| out.push(i.clone())).unwrap();
        out
    }

    /// The full state, folded from the log.
    fn folded(&self) -> State {
        let mut st = State::default();
        self.l
            .for_each_record(Seq(0), &mut |rec, _| {
                st.apply(rec);
                ControlFlow::Continue(())
            })
            .unwrap();
        st
    }

    /// Number of records in the store.
    fn stored(&self) -> usize {
        self.l.store().clone().log_mut().len()
    }

    /// A second ledger over a copy of this one's store (a reopen), with its own settings.
    fn reopen(&self, tweak: impl FnOnce(&mut MemStore)) -> T {
        let mut store = self.l.store().clone();
        tweak(&mut store);
        let clock = self.clock.clone();
        T { l: Ledger::with_store(store, Box::new(clock.clone())).unwrap(), clock }
    }
}

fn code(s: &str) -> Code {
    s.parse().unwrap()
}

fn field_of(r: &Rejection) -> &'static str {
    match r {
        Rejection::InvalidField { field, .. } => field,
        other => panic!("not an invalid field: {other:?}"),
    }
}

#[track_caller]
fn assert_field(r: Rejection, field: &str) {
    assert_eq!(field_of(&r), field, "{r}");
}

#[track_caller]
fn assert_not_allowed(r: Rejection, who: &str) {
    assert!(matches!(&r, Rejection::NotAllowed { actor, .. } if actor.as_str() == who), "{r:?}");
}

fn new_actor(id: &str, role: Role) -> Command {
    register(id, &format!("{id}的名称"), role)
}

fn new_item(id: &str, lead: &str) -> Command {
    Command::RecordCommitment(commitment(id, lead, "finance", Kind::Planned))
}

fn with<F: FnOnce(&mut NewCommitment)>(id: &str, lead: &str, f: F) -> Command {
    let mut c = commitment(id, lead, "finance", Kind::Planned);
    f(&mut c);
    Command::RecordCommitment(c)
}

fn source_cmd(id: &str, f: impl FnOnce(&mut RecordSource)) -> Command {
    let mut s = RecordSource {
        id: source(id),
        kind: SourceKind::Reply,
        number: None,
        title: "答复".into(),
        title_en: None,
        session: None,
        date: date("2024-05-01"),
        issuer: actor("office"),
        addressee: None,
        contributors: Vec::new(),
        digest: None,
    };
    f(&mut s);
    Command::RecordSource(s)
}

fn amend(id: &str, f: impl FnOnce(&mut Amend)) -> Command {
    let mut a =
        Amend {
            item: item(id), title: None, title_en: None, text: None, due: None, area: None, reason: "更正".into()
        };
    f(&mut a);
    Command::Amend(a)
}

fn reassign(id: &str, lead: &str, partners: Option<&[&str]>) -> Command {
    Command::Reassign {
        item: item(id),
        lead: actor(lead),
        partners: partners.map(|p| p.iter().map(|a| actor(a)).collect()),
        reason: "调整".into(),
    }
}

fn correct(id: &str, entry: u64, text: Option<&str>, value: Option<&str>) -> Command {
    Command::Correct(Correct {
        item: item(id),
        entry: StreamVersion(entry),
        text: text.map(str::to_string),
        value: value.map(str::to_string),
        reason: "更正".into(),
    })
}

fn feedback(src: &str, verdict: &str) -> Command {
    Command::RecordFeedback(RecordFeedback { source: source(src), verdict: code(verdict), text: None, on: None })
}

fn categorize(src: &str, category: &str) -> Command {
    Command::Categorize(Categorize { source: source(src), category: code(category), reason: None })
}

fn figure_as_of(id: &str, value: &str, as_of: &str) -> Command {
    Command::RecordIndicator(RecordIndicator {
        item: item(id),
        name: "数".into(),
        value: value.into(),
        unit: None,
        approximate: false,
        as_of: Some(date(as_of)),
    })
}

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
    // A stored event whose status does not follow from its kind is refused (what verify replays).
    let st = t.folded();
    let mut e = commitment_ledger::CommitmentRecorded {
        id: item("forged"),
        source: None,
        section: None,
        area: area("finance"),
        lead: actor("fin"),
        partners: Vec::new(),
        title: "伪造".into(),
        title_en: None,
        text: "伪造".into(),
        kind: Kind::Planned,
        status: code("delivered"),
        on: None,
        due: None,
    };
    let now = ts(FIXTURE_TIME);
    let r =
        commitment_ledger::rules::check(&st, &actor("office"), now, &Event::CommitmentRecorded(e.clone())).unwrap_err();
    assert!(matches!(r, Rejection::Mismatch { field: "status", .. }), "{r:?}");
    e.status = code("planned");
    assert!(commitment_ledger::rules::check(&st, &actor("office"), now, &Event::CommitmentRecorded(e)).is_ok());
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
    // A stored reassignment whose `from` is not the current lead is refused.
    let st = t.folded();
    let e = Event::CommitmentReassigned(CommitmentReassigned {
        item: item("sci-lab"),
        from: actor("drc"),
        lead: actor("fin"),
        partners: None,
        reason: "伪造".into(),
    });
    let r = commitment_ledger::rules::check(&st, &actor("office"), ts(FIXTURE_TIME), &e).unwrap_err();
    assert!(matches!(r, Rejection::Mismatch { field: "from", .. }), "{r:?}");
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
    // A stored change whose `from` is not the current status is refused.
    let st = t.folded();
    let e = Event::StatusChanged(StatusChanged {
        item: item("sci-lab"),
        from: code("planned"),
        to: code("in_progress"),
        reason: "伪造".into(),
        on: None,
    });
    let r = commitment_ledger::rules::check(&st, &actor("sci"), ts(FIXTURE_TIME), &e).unwrap_err();
    assert!(matches!(r, Rejection::Mismatch { field: "from", .. }), "{r:?}");
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

// ---------------------------------------------------------------------------------------------
// Transitions come from the vocabulary.

/// A path of statuses from `from` to `to` along the vocabulary's moves (breadth first).
fn path(vocab: &Vocabulary, from: &Code, to: &Code) -> Option<Vec<Code>> {
    let mut queue = std::collections::VecDeque::from([vec![from.clone()]]);
    let mut seen = std::collections::HashSet::from([from.clone()]);
    while let Some(p) = queue.pop_front() {
        let last = p.last().unwrap();
        if last == to {
            return Some(p);
        }
        for n in &vocab.status(last).unwrap().next {
            if seen.insert(n.clone()) {
                let mut q = p.clone();
                q.push(n.clone());
                queue.push_back(q);
            }
        }
    }
    None
}

/// For every pair of statuses (from, to) of a vocabulary: brings a new item to `from`, then asks for
/// `to`. Accepted exactly when the vocabulary lists the move.
fn check_every_transition(vocab: Vocabulary) {
    let mut t = opened_ledger(vocab.clone());
    t.ok("admin", new_actor("fin", Role::Department));
    let start = vocab.initial_status(Kind::Planned).unwrap().term.code.clone();
    let mut n = 0;
    for from in &vocab.statuses {
        let Some(route) = path(&vocab, &start, &from.term.code) else { continue };
        for to in &vocab.statuses {
            n += 1;
            let id = format!("t{n}");
            t.ok("admin", new_item(&id, "fin"));
            for step in &route[1..] {
                t.ok("fin", status(&id, step.as_str(), "推进"));
            }
            let allowed = from.next.contains(&to.term.code);
            let c = status(&id, to.term.code.as_str(), "变更");
            if allowed {
                t.ok("fin", c);
                assert_eq!(t.item(&id).core.status, to.term.code);
            } else {
                let r = t.no("fin", c);
                assert!(
                    matches!(&r, Rejection::IllegalTransition { from: f, to: x, .. } if f == &from.term.code && x == &to.term.code),
                    "{} → {}: {r:?}",
                    from.term.code,
                    to.term.code
                );
            }
        }
    }
    assert_eq!(n, vocab.statuses.len() * vocab.statuses.len(), "every status is reachable, every pair tried");
}

#[test]
fn every_transition_of_the_default_vocabulary_is_allowed_exactly_when_listed() {
    let vocab = Vocabulary::default_v1();
    // Spot checks against the vocabulary people use, independent of the data structure.
    let next = |s: &str| vocab.status(&code(s)).unwrap().next.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    assert!(next("planned").contains(&"delivered".to_string()));
    assert!(!next("delivered").contains(&"dropped".to_string()));
    assert!(next("dropped").is_empty());
    check_every_transition(vocab);
}

/// A vocabulary unlike the default: planned may only start; a dropped item may be revived; a new
/// status "suspended" sits beside in_progress; delivered items are closed to updates.
fn custom_vocabulary() -> Vocabulary {
    let mut v = Vocabulary::default_v1();
    let find = |v: &mut Vocabulary, c: &str| v.statuses.iter().position(|s| s.term.code.as_str() == c).unwrap();
    let planned = find(&mut v, "planned");
    v.statuses[planned].next = vec![code("in_progress")];
    let dropped = find(&mut v, "dropped");
    v.statuses[dropped].next = vec![code("planned")];
    let in_progress = find(&mut v, "in_progress");
    v.statuses[in_progress].next.push(code("suspended"));
    let delivered = find(&mut v, "delivered");
    v.statuses[delivered].accepts_updates = false;
    v.statuses.push(StatusDef {
        term: Term { code: code("suspended"), label: "suspended".into(), label_zh: "暂停".into() },
        next: vec![code("in_progress"), code("dropped")],
        closed: false,
        accepts_updates: true,
        category: code("b"),
        completion: code("limited"),
        initial_for: None,
    });
    assert_eq!(v.check(), Ok(()));
    v
}

#[test]
fn transitions_follow_the_ledgers_own_vocabulary() {
    let mut t = opened_ledger(custom_vocabulary());
    t.ok("admin", new_actor("fin", Role::Department));
    t.ok("admin", new_item("x", "fin"));
    // Allowed by the default vocabulary, not by this one.
    let r = t.no("fin", status("x", "delivered", "直接完成"));
    assert!(matches!(&r, Rejection::IllegalTransition { allowed, .. } if allowed == "in_progress"), "{r:?}");
    t.ok("fin", status("x", "in_progress", "启动"));
    t.ok("fin", status("x", "suspended", "暂停"));
    t.ok("fin", status("x", "dropped", "放弃"));
    assert!(matches!(t.no("fin", progress("x", "进展", "2024-05-01")), Rejection::Closed { .. }));
    // Refused by the default vocabulary (dropped is final), allowed by this one.
    t.ok("fin", status("x", "planned", "恢复"));
    t.ok("fin", progress("x", "恢复后的进展", "2024-05-01"));
    // Delivered takes no more updates here.
    t.ok("admin", Command::RecordCommitment(commitment("y", "fin", "finance", Kind::Achieved)));
    assert!(matches!(t.no("fin", figure("y", "数", "1", None)), Rejection::Closed { .. }));
    check_every_transition(custom_vocabulary());
}

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
    let verdicts: Vec<&str> = src.feedback.iter().map(|(f, _)| f.verdict.as_str()).collect();
    assert_eq!(verdicts, ["satisfied", "dissatisfied"]);
    assert_eq!(src.category.as_ref().unwrap().0.category, code("a"));
}

// ---------------------------------------------------------------------------------------------
// Batches, failures, time, projections.

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
    // A clock a year behind: "today" stays the last record's day for the rules too.
    t.clock.set(ts("2023-05-10T09:00:00+08:00"));
    let batch =
        t.l.append_batch(vec![
            (actor("sci"), progress("sci-lab", "时钟回拨一年", "2024-05-10")),
            (actor("fin"), figure_as_of("fin-bonds", "7", "2024-05-10")),
        ])
        .unwrap();
    assert!(batch.iter().all(|a| a.time >= second.time));
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

#[test]
fn texts_are_refused_for_exactly_the_control_characters() {
    // Every char that is one or two bytes of UTF-8 (U+0000..U+07FF), alone and inside Chinese text:
    // refused exactly when it is a control character, newline and tab allowed only in multi-line text.
    for c in (0u32..0x800).filter_map(char::from_u32) {
        for s in [format!("进展{c}报告"), format!("{c}x"), format!("x{c}")] {
            let control = c.is_control();
            let text_ok = commitment_ledger::rules::check_text("text", &s).is_ok();
            let name_ok = commitment_ledger::rules::check_name("title", &s).is_ok();
            assert_eq!(text_ok, !control || c == '\n' || c == '\t', "text {s:?}");
            assert_eq!(name_ok, !control, "title {s:?}");
            if control {
                let why = commitment_ledger::rules::check_name("title", &s).unwrap_err().to_string();
                assert!(why.contains(&format!("U+{:04X}", c as u32)), "{why}");
            }
        }
    }
}
