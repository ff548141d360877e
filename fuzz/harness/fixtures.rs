//! A manual clock and a small sample ledger (the seed reply's shape) for harnesses, seeds and tests.

use commitment_ledger::{
    ActorId, Amend, AreaId, Categorize, Code, Command, Correct, Date, Event, Hash, ItemCore, ItemId, Kind, Ledger,
    ManualClock, MemStore, NewCommitment, OpenLedger, ProgressReported, Record, RecordFeedback, RecordIndicator,
    RecordSource, RegisterActor, RegisterArea, Role, Seq, SourceId, SourceKind, State, Store, StreamVersion, Timestamp,
    Vocabulary,
};
use std::ops::ControlFlow;
use std::sync::OnceLock;

/// The actors of the sample ledger, plus one that is never registered.
pub const ACTORS: [&str; 6] = ["admin", "office", "fin", "macao", "deputy", "ghost"];

/// 2025-06-01 12:00 in Beijing (04:00 UTC).
pub fn now() -> Timestamp {
    Timestamp(1_748_750_400_000_000)
}

/// The state the rules read: the registry and every item's rule-relevant facts.
pub type CoreState = State<ItemCore>;

fn actor(s: &str) -> ActorId {
    ActorId::new(s).expect("valid id")
}

fn item(s: &str) -> ItemId {
    ItemId::new(s).expect("valid id")
}

/// The opening record of every harness ledger: administrator `admin`, Beijing time, default vocabulary.
pub fn opened() -> OpenLedger {
    OpenLedger {
        title: "京澳合作 commitments".into(),
        origin: "example.gov/commitments-fuzz".into(),
        utc_offset_minutes: 480,
        admin: actor("admin"),
        admin_name: "Ledger administrator".into(),
        vocabulary: Vocabulary::default_v1(),
        admin_key: None,
    }
}

/// The areas the harness ledgers open with.
pub fn areas() -> Vec<RegisterArea> {
    [("finance", "金融"), ("health", "卫生健康")]
        .into_iter()
        .map(|(id, zh)| RegisterArea { id: AreaId::new(id).expect("valid"), name: zh.into(), name_en: None })
        .collect()
}

/// The commands that build the sample ledger after `init`, each with its actor.
pub fn sample_commands() -> Vec<(ActorId, Command)> {
    let reg = |id: &str, name: &str, role| {
        (
            actor("admin"),
            Command::RegisterActor(RegisterActor { id: actor(id), name: name.into(), name_en: None, role, public_key: None }),
        )
    };
    let x1 = item("0771-fin-bonds");
    vec![
        reg("office", "市政府办公厅", Role::Office),
        reg("fin", "市委金融办", Role::Department),
        reg("macao", "澳门金融管理局", Role::Counterpart),
        reg("deputy", "李静", Role::Deputy),
        (
            actor("office"),
            Command::RecordSource(RecordSource {
                id: SourceId::new("reply-0771").expect("valid"),
                kind: SourceKind::Reply,
                number: Some("0771".into()),
                title: "关于京澳合作的建议的答复".into(),
                title_en: None,
                session: None,
                date: Date::Month(2024, 5),
                issuer: actor("office"),
                addressee: Some(actor("deputy")),
                contributors: vec![actor("fin")],
                digest: None,
            }),
        ),
        (
            actor("office"),
            Command::RecordCommitment(NewCommitment {
                id: x1.clone(),
                source: Some(SourceId::new("reply-0771").expect("valid")),
                section: Some("金融".into()),
                area: AreaId::new("finance").expect("valid"),
                lead: actor("fin"),
                partners: vec![actor("macao")],
                title: "市属国企在澳门发债".into(),
                title_en: Some("Bonds listed in Macao".into()),
                text: "截至2023年底，4家北京市属国企约23亿美元债券已在澳门挂牌上市。".into(),
                kind: Kind::Achieved,
                on: Some(Date::Year(2023)),
                due: None,
            }),
        ),
        (
            actor("office"),
            Command::RecordCommitment(NewCommitment {
                id: item("0771-tcm-centre"),
                source: None,
                section: None,
                area: AreaId::new("health").expect("valid"),
                lead: actor("office"),
                partners: vec![],
                title: "中医药中心".into(),
                title_en: None,
                text: "next year we will organise a TCM centre".into(),
                kind: Kind::Planned,
                on: None,
                due: Some(Date::Year(2026)),
            }),
        ),
        (
            actor("fin"),
            Command::ReportProgress {
                item: x1.clone(),
                text: "another listing".into(),
                on: Some(Date::Day(2024, 4, 15)),
                evidence: Some("doc 12".into()),
            },
        ),
        (
            actor("macao"),
            Command::RecordIndicator(RecordIndicator {
                item: x1.clone(),
                name: "enterprises".into(),
                value: "4".into(),
                unit: None,
                approximate: false,
                as_of: Some(Date::Year(2023)),
            }),
        ),
        (
            actor("fin"),
            Command::Correct(Correct {
                item: x1.clone(),
                entry: StreamVersion(2),
                text: None,
                value: Some("5".into()),
                reason: "miscounted".into(),
            }),
        ),
        (
            actor("office"),
            Command::ChangeStatus {
                item: item("0771-tcm-centre"),
                to: Code::new("in_progress").expect("valid"),
                reason: "started".into(),
                on: None,
            },
        ),
        (
            actor("office"),
            Command::Amend(Amend {
                item: x1.clone(),
                title: None,
                title_en: Some("State-owned enterprises' bonds in Macao".into()),
                text: None,
                due: Some(Date::Month(2025, 12)),
                area: None,
                reason: "the English title was missing".into(),
            }),
        ),
        (
            actor("admin"),
            Command::Reassign {
                item: item("0771-tcm-centre"),
                lead: actor("fin"),
                partners: Some(vec![actor("macao")]),
                reason: "the finance office takes it over".into(),
            },
        ),
        (
            actor("deputy"),
            Command::RecordFeedback(RecordFeedback {
                source: SourceId::new("reply-0771").expect("valid"),
                verdict: Code::new("satisfied").expect("valid"),
                text: Some("满意".into()),
                on: None,
            }),
        ),
        (
            actor("office"),
            Command::Categorize(Categorize {
                source: SourceId::new("reply-0771").expect("valid"),
                category: Code::new("a").expect("valid"),
                reason: None,
            }),
        ),
    ]
}

/// The sample ledger, in memory, with its clock.
pub fn sample_ledger() -> (Ledger<MemStore>, ManualClock) {
    let clock = ManualClock::at(now());
    let mut ledger = Ledger::with_store(MemStore::new(), Box::new(clock.clone())).expect("opens");
    ledger.init(opened(), areas()).expect("init");
    for (i, (who, c)) in sample_commands().into_iter().enumerate() {
        clock.set(Timestamp(now().0 + 1_000_000 * (i as i64 + 1)));
        ledger.append(&who, c).expect("sample commands are legal");
    }
    (ledger, clock)
}

/// The sample ledger's records, decoded.
pub fn sample_records() -> Vec<Record> {
    let (ledger, _) = sample_ledger();
    let mut out = Vec::new();
    ledger
        .store()
        .scan(Seq(0), &mut |_, v| {
            out.push(Record::decode(v).expect("decodes"));
            ControlFlow::Continue(())
        })
        .expect("scans");
    out
}

/// The rules' view of the sample ledger.
pub fn sample_state() -> &'static CoreState {
    static STATE: OnceLock<CoreState> = OnceLock::new();
    STATE.get_or_init(|| {
        let mut s = CoreState::default();
        for r in sample_records() {
            s.apply(&r);
        }
        s
    })
}

/// A record around an event (seq 1, after record 0), for round-trip checks.
pub fn wrap(event: Event) -> Record {
    let stream = event.stream();
    Record {
        seq: Seq(1),
        prev: Hash([7; 32]),
        time: now(),
        actor: actor("admin"),
        stream,
        stream_version: StreamVersion(0),
        stream_prev: None,
        event_version: event.event_type().version(),
        event,
        signature: None,
    }
}

/// A progress report, for tests that only need some legal record.
pub fn progress(text: &str) -> Event {
    Event::ProgressReported(ProgressReported {
        item: item("0771-fin-bonds"),
        text: text.into(),
        on: Date::Year(2024),
        evidence: None,
    })
}
