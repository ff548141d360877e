//! A manual clock and a small sample ledger (the seed reply's shape) for harnesses, seeds and tests.
//!
//! The sample ledger is signed, with keys derived from fixed seeds ([`signing_key`]), so that its
//! bytes (signatures included) are the same on every run and the seed corpora can be regenerated
//! exactly.

use commitment_ledger::keys::{PublicKey, SigningKey};
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

/// The sample ledger's opening record: [`opened`], signed by the administrator's key [`signing_key`]`("admin")`.
pub fn signed_opened() -> OpenLedger {
    OpenLedger { admin_key: Some(public_key("admin")), ..opened() }
}

/// The names of the sample ledger's keys: one per actor, and the two that replace fin's (a rotation by
/// fin itself) and macao's (registered for macao by the office).
pub const KEY_NAMES: [&str; 7] = ["admin", "office", "fin", "macao", "deputy", "fin-2", "macao-2"];

/// A signing key derived from a name: the same key on every run (never use such a key for real).
pub fn signing_key(name: &str) -> SigningKey {
    let mut seed = [0x5a_u8; 32];
    for (s, b) in seed.iter_mut().zip(name.bytes()) {
        *s = b;
    }
    SigningKey::from_bytes(&seed)
}

/// The public half of [`signing_key`].
pub fn public_key(name: &str) -> PublicKey {
    PublicKey::of(&signing_key(name))
}

/// The private key of one of the [`KEY_NAMES`] keys, by its public half.
pub fn private_key_of(public: &PublicKey) -> Option<SigningKey> {
    KEY_NAMES.iter().map(|n| signing_key(n)).find(|k| PublicKey::of(k) == *public)
}

/// The actor and the private key a command registers a public key for, when it names one of the
/// [`KEY_NAMES`] keys.
pub fn key_registered_by(command: &Command) -> Option<(ActorId, SigningKey)> {
    let (whose, public) = match command {
        Command::RegisterActor(r) => (&r.id, r.public_key.as_ref()?),
        Command::RegisterKey { actor, public_key } => (actor, public_key.as_ref()?),
        Command::Open(o) => (&o.admin, o.admin_key.as_ref()?),
        _ => return None,
    };
    Some((whose.clone(), private_key_of(public)?))
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
            Command::RegisterActor(RegisterActor {
                id: actor(id),
                name: name.into(),
                name_en: None,
                role,
                public_key: Some(public_key(id)),
            }),
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
        // fin rotates its own key (signed with the old one); the office registers a new key for macao.
        (actor("fin"), Command::RegisterKey { actor: actor("fin"), public_key: Some(public_key("fin-2")) }),
        (actor("office"), Command::RegisterKey { actor: actor("macao"), public_key: Some(public_key("macao-2")) }),
        (
            actor("fin"),
            Command::ReportProgress {
                item: x1.clone(),
                text: "signed with the new key".into(),
                on: Some(Date::Day(2024, 5, 20)),
                evidence: None,
            },
        ),
        (
            actor("macao"),
            Command::RecordIndicator(RecordIndicator {
                item: x1,
                name: "bonds listed".into(),
                value: "2300000000".into(),
                unit: Some("USD".into()),
                approximate: true,
                as_of: Some(Date::Year(2023)),
            }),
        ),
        // The deputy's term ended: the office retires her key.
        (
            actor("office"),
            Command::RetireKey { actor: actor("deputy"), reason: Some("the deputy's term ended".into()) },
        ),
    ]
}

/// The sample ledger, in memory, with its clock. Signed: the store keeps every actor's current key,
/// so that the ledger (and one opened over a clone of its store) can append as any of them but the
/// deputy, whose key is retired.
pub fn sample_ledger() -> (Ledger<MemStore>, ManualClock) {
    let clock = ManualClock::at(now());
    let mut ledger = Ledger::with_store(MemStore::new(), Box::new(clock.clone())).expect("opens");
    ledger.keyring_mut().insert(actor("admin"), signing_key("admin"));
    ledger.init(signed_opened(), areas()).expect("init");
    for (i, (who, c)) in sample_commands().into_iter().enumerate() {
        clock.set(Timestamp(now().0 + 1_000_000 * (i as i64 + 1)));
        let given = key_registered_by(&c);
        ledger.append(&who, c).expect("sample commands are legal");
        // The key registered is at hand from its record on (as a department's own key file would be).
        if let Some((whose, key)) = given {
            ledger.keyring_mut().insert(whose, key);
        }
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
