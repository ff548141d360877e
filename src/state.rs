//! Projections: pure folds of the log into the current state of the ledger and of every item.
//!
//! [`Registry`] holds the ledger-wide facts (the opening record, actors, areas, sources);
//! [`ItemCore`] the few facts about an item that rules depend on; [`ItemState`] everything a reader
//! sees about an item; [`State`] folds the whole log into a registry and items of either kind. `apply`
//! never fails, never reads a clock and does no I/O: it trusts that the record was accepted by
//! [`crate::decide`]. Each holds the stream position it reflects. [`Facts`] is how the rules read it.

use crate::date::{Date, Timestamp};
use crate::event::{AreaRegistered, CommitmentRecorded, Event, LedgerOpened, SourceCategorized, SourceRecorded};
use crate::ids::{ActorId, AreaId, Code, ItemId, Seq, SourceId, StreamId, StreamVersion};
use crate::keys::PublicKey;
use crate::record::Record;
use crate::vocab::{Kind, Role};
use imbl::OrdMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Where a stream stands: how many records it has and the seq of its last one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamPos {
    /// The version the stream's next record gets.
    pub next: StreamVersion,
    /// The seq of its last record.
    pub last: Option<Seq>,
}

impl StreamPos {
    fn advance(&mut self, seq: Seq) {
        self.next = StreamVersion(self.next.0 + 1);
        self.last = Some(seq);
    }
}

/// The ledger's opening facts, as of record 0.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerInfo {
    /// The opening event.
    pub opened: LedgerOpened,
    /// When the ledger was opened.
    pub time: Timestamp,
}

/// A registered actor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActorState {
    /// Its id.
    pub id: ActorId,
    /// Its name.
    pub name: String,
    /// Its English name.
    pub name_en: Option<String>,
    /// Its role.
    pub role: Role,
    /// The key its records must be signed with now (none before one is registered, and after it
    /// is retired).
    pub key: Option<PublicKey>,
    /// Whether it has ever had a key: from then on, everything it appends is signed (a retired key
    /// does not let it append unsigned again).
    pub signs: bool,
    /// Its stream position.
    pub pos: StreamPos,
}

/// A registered area.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AreaState {
    /// The registration.
    pub area: AreaRegistered,
    /// Its stream position.
    pub pos: StreamPos,
}

/// One verdict of the addressee on a source (the text stays in its record).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// The verdict code.
    pub verdict: Code,
    /// When it was given.
    pub on: Option<Date>,
    /// Its record.
    pub seq: Seq,
}

/// A recorded source, with its category and the feedback on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceState {
    /// The record of the document.
    pub source: SourceRecorded,
    /// How many commitments come from it.
    pub items: u64,
    /// Its current category, with the seq that set it.
    pub category: Option<(SourceCategorized, Seq)>,
    /// Every verdict recorded, oldest first, with its seq.
    /// Every verdict recorded, oldest first: the verdict, its date and its record. What the deputy
    /// said is read from the record on demand, so that the state grows with the number of verdicts,
    /// not with the length of their texts.
    pub feedback: Vec<Verdict>,
    /// Its stream position.
    pub pos: StreamPos,
}

/// Ledger-wide facts: everything but the items.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registry {
    /// Set by record 0.
    pub ledger: Option<LedgerInfo>,
    /// Position of the `ledger` stream.
    pub ledger_pos: StreamPos,
    /// Actors by id.
    pub actors: BTreeMap<ActorId, ActorState>,
    /// Areas by id.
    pub areas: BTreeMap<AreaId, AreaState>,
    /// Sources by id.
    pub sources: BTreeMap<SourceId, SourceState>,
    /// Every key ever registered, current or retired, and whose it is.
    pub keys: BTreeMap<PublicKey, ActorId>,
}

impl Registry {
    /// Whether folding the record changes the registry: every record outside an item stream, and the
    /// recording of an item from a source (which counts towards the source).
    pub fn is_affected_by(rec: &Record) -> bool {
        !matches!(rec.stream, StreamId::Item(_))
            || matches!(&rec.event, Event::CommitmentRecorded(CommitmentRecorded { source: Some(_), .. }))
    }

    /// Folds one record in. Item records only count towards their source.
    pub fn apply(&mut self, rec: &Record) {
        match &rec.event {
            Event::LedgerOpened(e) => {
                self.ledger = Some(LedgerInfo { opened: e.clone(), time: rec.time });
                self.ledger_pos.advance(rec.seq);
                self.actors.insert(
                    e.admin.clone(),
                    ActorState {
                        id: e.admin.clone(),
                        name: e.admin_name.clone(),
                        name_en: None,
                        role: Role::Admin,
                        key: e.admin_key,
                        signs: e.admin_key.is_some(),
                        pos: StreamPos::default(),
                    },
                );
                if let Some(k) = e.admin_key {
                    self.keys.insert(k, e.admin.clone());
                }
            }
            Event::ActorRegistered(e) => {
                let mut pos = StreamPos::default();
                pos.advance(rec.seq);
                let actor = ActorState {
                    id: e.id.clone(),
                    name: e.name.clone(),
                    name_en: e.name_en.clone(),
                    role: e.role,
                    key: e.public_key,
                    signs: e.public_key.is_some(),
                    pos,
                };
                self.actors.insert(e.id.clone(), actor);
                if let Some(k) = e.public_key {
                    self.keys.insert(k, e.id.clone());
                }
            }
            Event::KeyRegistered(e) => {
                if let Some(a) = self.actors.get_mut(&e.actor) {
                    a.key = Some(e.public_key);
                    a.signs = true;
                    a.pos.advance(rec.seq);
                    self.keys.insert(e.public_key, e.actor.clone());
                }
            }
            Event::KeyRetired(e) => {
                if let Some(a) = self.actors.get_mut(&e.actor) {
                    a.key = None;
                    a.pos.advance(rec.seq);
                }
            }
            Event::AreaRegistered(e) => {
                let mut pos = StreamPos::default();
                pos.advance(rec.seq);
                self.areas.insert(e.id.clone(), AreaState { area: e.clone(), pos });
            }
            Event::SourceRecorded(e) => {
                let mut pos = StreamPos::default();
                pos.advance(rec.seq);
                let s = SourceState { source: e.clone(), items: 0, category: None, feedback: Vec::new(), pos };
                self.sources.insert(e.id.clone(), s);
            }
            Event::FeedbackRecorded(e) => {
                if let Some(s) = self.sources.get_mut(&e.source) {
                    s.feedback.push(Verdict { verdict: e.verdict.clone(), on: e.on, seq: rec.seq });
                    s.pos.advance(rec.seq);
                }
            }
            Event::SourceCategorized(e) => {
                if let Some(s) = self.sources.get_mut(&e.source) {
                    s.category = Some((e.clone(), rec.seq));
                    s.pos.advance(rec.seq);
                }
            }
            Event::CommitmentRecorded(CommitmentRecorded { source: Some(source), .. }) => {
                if let Some(s) = self.sources.get_mut(source) {
                    s.items += 1;
                }
            }
            _ => {}
        }
    }

    /// The opening record, if the ledger has one.
    pub fn info(&self) -> Option<&LedgerOpened> {
        self.ledger.as_ref().map(|l| &l.opened)
    }

    /// Whether the ledger is signed: its record 0 names the administrator's key, and every record
    /// must carry its actor's signature.
    pub fn is_signed(&self) -> bool {
        self.info().is_some_and(|o| o.admin_key.is_some())
    }

    /// The ledger's UTC offset in minutes (0 before record 0).
    pub fn utc_offset(&self) -> i32 {
        self.info().map_or(0, |o| o.utc_offset_minutes)
    }

    /// The position of a non-item stream.
    pub fn stream_pos(&self, stream: &StreamId) -> StreamPos {
        match stream {
            StreamId::Ledger => self.ledger_pos,
            StreamId::Actor(id) => self.actors.get(id).map(|a| a.pos).unwrap_or_default(),
            StreamId::Area(id) => self.areas.get(id).map(|a| a.pos).unwrap_or_default(),
            StreamId::Source(id) => self.sources.get(id).map(|s| s.pos).unwrap_or_default(),
            StreamId::Item(_) => StreamPos::default(),
        }
    }
}

/// The facts about an item that the rules need.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemCore {
    /// Its area.
    pub area: AreaId,
    /// Its lead.
    pub lead: ActorId,
    /// Its partners.
    pub partners: Vec<ActorId>,
    /// Its status code.
    pub status: Code,
    /// Its stream position.
    pub pos: StreamPos,
}

impl ItemCore {
    /// The core of a newly recorded item.
    pub fn new(rec: &Record, e: &CommitmentRecorded) -> ItemCore {
        let mut pos = StreamPos::default();
        pos.advance(rec.seq);
        ItemCore {
            area: e.area.clone(),
            lead: e.lead.clone(),
            partners: e.partners.clone(),
            status: e.status.clone(),
            pos,
        }
    }

    /// Folds in a later record of the item's stream.
    pub fn apply(&mut self, rec: &Record) {
        match &rec.event {
            Event::StatusChanged(e) => self.status = e.to.clone(),
            Event::CommitmentAmended(e) => {
                if let Some(area) = &e.area {
                    self.area = area.clone();
                }
            }
            Event::CommitmentReassigned(e) => {
                self.lead = e.lead.clone();
                if let Some(p) = &e.partners {
                    self.partners = p.clone();
                }
            }
            _ => {}
        }
        self.pos.advance(rec.seq);
    }

    /// Whether an actor leads or helps with the item.
    pub fn involves(&self, actor: &ActorId) -> bool {
        &self.lead == actor || self.partners.contains(actor)
    }
}

/// A progress report, as the item's latest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// What happened (corrected, if a correction was appended).
    pub text: String,
    /// When it happened.
    pub on: Date,
    /// Evidence reference.
    pub evidence: Option<String>,
    /// Who reported it.
    pub actor: ActorId,
    /// Its record.
    pub seq: Seq,
    /// Its stream version (what a correction names).
    pub entry: StreamVersion,
}

/// One stated value of a figure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorValue {
    /// Decimal text (corrected, if a correction was appended).
    pub value: String,
    /// Whether it is approximate.
    pub approximate: bool,
    /// The date it holds for.
    pub as_of: Option<Date>,
    /// Its record.
    pub seq: Seq,
    /// Its stream version.
    pub entry: StreamVersion,
}

/// A figure with its history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicator {
    /// What is counted.
    pub name: String,
    /// The unit of the latest value.
    pub unit: Option<String>,
    /// Every value stated, oldest first; the last is current.
    pub history: Vec<IndicatorValue>,
}

/// A correction of an earlier entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    /// The entry corrected.
    pub entry: StreamVersion,
    /// The corrected text.
    pub text: Option<String>,
    /// The corrected value.
    pub value: Option<String>,
    /// Why.
    pub reason: String,
    /// Its record.
    pub seq: Seq,
}

/// Everything about an item, as of its last record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemState {
    /// Its id.
    pub id: ItemId,
    /// Area, lead, partners, status, stream position.
    pub core: ItemCore,
    /// The source document.
    pub source: Option<SourceId>,
    /// The section of the source.
    pub section: Option<String>,
    /// Title (amended, if amended).
    pub title: String,
    /// English title.
    pub title_en: Option<String>,
    /// Wording.
    pub text: String,
    /// The record that holds the current wording (its recording, or the amendment that changed it).
    pub text_seq: Seq,
    /// How it was stated.
    pub kind: Kind,
    /// When done or started, as stated.
    pub on: Option<Date>,
    /// When due.
    pub due: Option<Date>,
    /// The reason given for the current status (none for the starting status).
    pub status_reason: Option<String>,
    /// The seq that set the current status.
    pub status_seq: Seq,
    /// The latest progress report.
    pub latest_progress: Option<Progress>,
    /// How many progress reports it has.
    pub progress_reports: u64,
    /// Its figures, in the order first stated.
    pub indicators: Vec<Indicator>,
    /// Corrections of earlier entries.
    pub corrections: Vec<Correction>,
    /// How many amendments it has had.
    pub amendments: u64,
    /// How many times its lead changed.
    pub reassignments: u64,
    /// When it was recorded.
    pub created: Timestamp,
    /// When its last record was accepted.
    pub updated: Timestamp,
}

impl ItemState {
    /// The state of a newly recorded item.
    pub fn new(rec: &Record, e: &CommitmentRecorded) -> ItemState {
        ItemState {
            id: e.id.clone(),
            core: ItemCore::new(rec, e),
            source: e.source.clone(),
            section: e.section.clone(),
            title: e.title.clone(),
            title_en: e.title_en.clone(),
            text: e.text.clone(),
            text_seq: rec.seq,
            kind: e.kind,
            on: e.on,
            due: e.due,
            status_reason: None,
            status_seq: rec.seq,
            latest_progress: None,
            progress_reports: 0,
            indicators: Vec::new(),
            corrections: Vec::new(),
            amendments: 0,
            reassignments: 0,
            created: rec.time,
            updated: rec.time,
        }
    }

    /// Folds in a later record of the item's stream.
    pub fn apply(&mut self, rec: &Record) {
        let entry = self.core.pos.next;
        self.core.apply(rec);
        self.updated = rec.time;
        match &rec.event {
            Event::ProgressReported(e) => {
                self.progress_reports += 1;
                self.latest_progress = Some(Progress {
                    text: e.text.clone(),
                    on: e.on,
                    evidence: e.evidence.clone(),
                    actor: rec.actor.clone(),
                    seq: rec.seq,
                    entry,
                });
            }
            Event::StatusChanged(e) => {
                self.status_reason = Some(e.reason.clone());
                self.status_seq = rec.seq;
            }
            Event::IndicatorRecorded(e) => {
                let value = IndicatorValue {
                    value: e.value.clone(),
                    approximate: e.approximate,
                    as_of: e.as_of,
                    seq: rec.seq,
                    entry,
                };
                match self.indicators.iter_mut().find(|i| i.name == e.name) {
                    Some(ind) => {
                        ind.unit = e.unit.clone();
                        ind.history.push(value);
                    }
                    None => self.indicators.push(Indicator {
                        name: e.name.clone(),
                        unit: e.unit.clone(),
                        history: vec![value],
                    }),
                }
            }
            Event::CommitmentAmended(e) => {
                self.amendments += 1;
                if let Some(t) = &e.title {
                    self.title = t.clone();
                }
                if let Some(t) = &e.title_en {
                    self.title_en = Some(t.clone());
                }
                if let Some(t) = &e.text {
                    self.text = t.clone();
                    self.text_seq = rec.seq;
                }
                if let Some(d) = e.due {
                    self.due = Some(d);
                }
            }
            Event::CommitmentReassigned(_) => self.reassignments += 1,
            Event::EntryCorrected(e) => {
                if let Some(p) = self.latest_progress.as_mut().filter(|p| p.entry == e.entry)
                    && let Some(t) = &e.text
                {
                    p.text = t.clone();
                }
                if let Some(v) = &e.value {
                    for ind in &mut self.indicators {
                        for h in ind.history.iter_mut().filter(|h| h.entry == e.entry) {
                            h.value = v.clone();
                        }
                    }
                }
                self.corrections.push(Correction {
                    entry: e.entry,
                    text: e.text.clone(),
                    value: e.value.clone(),
                    reason: e.reason.clone(),
                    seq: rec.seq,
                });
            }
            _ => {}
        }
    }
}

/// Read access to what the rules need: the one trait [`crate::decide`] reads state through.
pub trait Facts {
    /// Ledger-wide facts.
    fn registry(&self) -> &Registry;
    /// The rule-relevant facts of an item, if it exists.
    fn item(&self, id: &ItemId) -> Option<&ItemCore>;

    /// The position of any stream.
    fn stream_pos(&self, stream: &StreamId) -> StreamPos {
        match stream {
            StreamId::Item(id) => self.item(id).map(|i| i.pos).unwrap_or_default(),
            other => self.registry().stream_pos(other),
        }
    }
}

/// What a state keeps per item: [`ItemCore`] (the rules' facts, for verification) or [`ItemState`]
/// (everything a reader sees).
pub trait ItemFold: Clone {
    /// The item a `CommitmentRecorded` record creates.
    fn new(rec: &Record, e: &CommitmentRecorded) -> Self;
    /// Folds in a later record of the item's stream.
    fn apply(&mut self, rec: &Record);
    /// The facts the rules need.
    fn core(&self) -> &ItemCore;
}

impl ItemFold for ItemCore {
    fn new(rec: &Record, e: &CommitmentRecorded) -> ItemCore {
        ItemCore::new(rec, e)
    }
    fn apply(&mut self, rec: &Record) {
        ItemCore::apply(self, rec);
    }
    fn core(&self) -> &ItemCore {
        self
    }
}

impl ItemFold for ItemState {
    fn new(rec: &Record, e: &CommitmentRecorded) -> ItemState {
        ItemState::new(rec, e)
    }
    fn apply(&mut self, rec: &Record) {
        ItemState::apply(self, rec);
    }
    fn core(&self) -> &ItemCore {
        &self.core
    }
}

/// The fold of the log: the registry and every item (or, in a projection that loads items lazily,
/// every item it has loaded). Pure: `apply` does no I/O, reads no clock and cannot fail.
///
/// Cloning is cheap (the registry and the items are shared until one of them changes), so a writer
/// can publish an immutable snapshot after every group of appends and go on folding.
#[derive(Clone, Debug)]
pub struct State<I: ItemFold = ItemState> {
    registry: Arc<Registry>,
    items: OrdMap<ItemId, Arc<I>>,
}

impl<I: ItemFold> Default for State<I> {
    fn default() -> State<I> {
        State { registry: Arc::default(), items: OrdMap::new() }
    }
}

impl<I: ItemFold> State<I> {
    /// Folds one record in. An item record for an item the state does not hold (not loaded) is
    /// ignored: a lazily loaded state must hold the item before its records are folded in.
    pub fn apply(&mut self, rec: &Record) {
        if Registry::is_affected_by(rec) {
            Arc::make_mut(&mut self.registry).apply(rec);
        }
        let StreamId::Item(id) = &rec.stream else { return };
        match &rec.event {
            Event::CommitmentRecorded(e) => {
                self.items.insert(id.clone(), Arc::new(I::new(rec, e)));
            }
            _ => {
                if let Some(item) = self.items.get_mut(id) {
                    Arc::make_mut(item).apply(rec);
                }
            }
        }
    }

    /// Ledger-wide facts.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// One item, if the state holds it.
    pub fn get(&self, id: &ItemId) -> Option<&I> {
        self.items.get(id).map(|i| &**i)
    }

    /// Whether the state holds the item.
    pub fn contains(&self, id: &ItemId) -> bool {
        self.items.contains_key(id)
    }

    /// Puts an item loaded from elsewhere (a stored projection) into the state.
    pub fn insert(&mut self, item_id: ItemId, item: I) {
        self.items.insert(item_id, Arc::new(item));
    }

    /// Replaces the registry (loaded from a stored projection).
    pub fn set_registry(&mut self, registry: Registry) {
        self.registry = Arc::new(registry);
    }

    /// Drops every item (a lazily loaded state forgets its cache).
    pub fn clear_items(&mut self) {
        self.items = OrdMap::new();
    }

    /// The items held, with their ids, in id order.
    pub fn entries(&self) -> impl Iterator<Item = (&ItemId, &I)> {
        self.items.iter().map(|(id, i)| (id, &**i))
    }

    /// Every item, in id order.
    pub fn items(&self) -> impl Iterator<Item = &I> {
        self.items.values().map(|i| &**i)
    }

    /// How many items the state holds.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the state holds no item.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl<I: ItemFold> Facts for State<I> {
    fn registry(&self) -> &Registry {
        &self.registry
    }
    fn item(&self, id: &ItemId) -> Option<&ItemCore> {
        self.items.get(id).map(|i| i.core())
    }
}

#[cfg(test)]
mod tests {
    //! Fold tests: given records, the registry and the item fields they leave; snapshots; the two
    //! kinds of item fold agreeing on the core.

    use super::*;
    use crate::event::{
        ActorRegistered, CommitmentAmended, CommitmentReassigned, EntryCorrected, FeedbackRecorded, IndicatorRecorded,
        ProgressReported, StatusChanged,
    };
    use crate::record::Hash;
    use crate::vocab::{SourceKind, Vocabulary};

    /// 2024-05-10T01:00:00Z: the time of record 0; each later record is a second later.
    const T0: i64 = 1_715_302_800_000_000;

    fn a(id: &str) -> ActorId {
        ActorId::new(id).unwrap()
    }
    fn it(id: &str) -> ItemId {
        ItemId::new(id).unwrap()
    }
    fn area(id: &str) -> AreaId {
        AreaId::new(id).unwrap()
    }
    fn src(id: &str) -> SourceId {
        SourceId::new(id).unwrap()
    }
    fn code(c: &str) -> Code {
        Code::new(c).unwrap()
    }
    fn pos(next: u64, last: u64) -> StreamPos {
        StreamPos { next: StreamVersion(next), last: Some(Seq(last)) }
    }

    /// A log folded as it grows, into a full state and a core-only state.
    struct Log {
        full: State,
        core: State<ItemCore>,
        records: Vec<Record>,
    }

    impl Log {
        fn new() -> Log {
            Log { full: State::default(), core: State::default(), records: Vec::new() }
        }

        /// Appends a record of `event` by `who` (next seq, its stream's position, a second after the
        /// last) and folds it into both states.
        fn add(&mut self, who: &str, event: Event) -> Record {
            let seq = Seq(self.records.len() as u64);
            let stream = event.stream();
            let pos = self.full.stream_pos(&stream);
            let rec = Record {
                seq,
                prev: Hash::ZERO,
                time: Timestamp(T0 + seq.0 as i64 * 1_000_000),
                actor: a(who),
                stream,
                stream_version: pos.next,
                stream_prev: pos.last,
                event_version: event.event_type().version(),
                event,
                signature: None,
            };
            self.full.apply(&rec);
            self.core.apply(&rec);
            self.records.push(rec.clone());
            rec
        }

        fn item(&self, id: &str) -> &ItemState {
            self.full.get(&it(id)).unwrap_or_else(|| panic!("no item {id}"))
        }
    }

    fn opened() -> LedgerOpened {
        LedgerOpened {
            title: "台账".into(),
            origin: "test.example/commitments".into(),
            utc_offset_minutes: 480,
            admin: a("admin"),
            admin_name: "管理员".into(),
            vocabulary: Vocabulary::default_v1(),
            admin_key: None,
        }
    }

    fn actor(id: &str, role: Role) -> Event {
        Event::ActorRegistered(ActorRegistered {
            id: a(id),
            name: format!("{id}单位"),
            name_en: None,
            role,
            public_key: None,
        })
    }

    fn area_registered(id: &str) -> AreaRegistered {
        AreaRegistered { id: area(id), name: format!("{id}领域"), name_en: Some(id.into()) }
    }

    fn source_recorded(id: &str) -> SourceRecorded {
        SourceRecorded {
            id: src(id),
            kind: SourceKind::Reply,
            number: Some("0771".into()),
            title: "答复".into(),
            title_en: None,
            session: None,
            date: Date::Day(2024, 5, 1),
            issuer: a("admin"),
            addressee: Some(a("lijing")),
            contributors: vec![a("drc")],
            digest: None,
        }
    }

    fn commitment(id: &str, source: Option<&str>) -> CommitmentRecorded {
        CommitmentRecorded {
            id: it(id),
            source: source.map(src),
            section: Some("一".into()),
            area: area("finance"),
            lead: a("fin"),
            partners: vec![a("macao")],
            title: format!("承诺{id}"),
            title_en: None,
            text: format!("关于{id}的承诺原文。"),
            kind: Kind::Planned,
            status: code("planned"),
            on: None,
            due: Some(Date::Year(2025)),
        }
    }

    fn progress(item: &str, text: &str) -> Event {
        Event::ProgressReported(ProgressReported {
            item: it(item),
            text: text.into(),
            on: Date::Month(2024, 4),
            evidence: Some("京科发〔2024〕12号".into()),
        })
    }

    fn status(item: &str, from: &str, to: &str) -> Event {
        Event::StatusChanged(StatusChanged {
            item: it(item),
            from: code(from),
            to: code(to),
            reason: format!("{from}→{to}"),
            on: None,
        })
    }

    fn figure(item: &str, name: &str, value: &str, unit: &str) -> Event {
        Event::IndicatorRecorded(IndicatorRecorded {
            item: it(item),
            name: name.into(),
            value: value.into(),
            unit: Some(unit.into()),
            approximate: false,
            as_of: None,
        })
    }

    fn corrected(item: &str, entry: u64, text: Option<&str>, value: Option<&str>) -> Event {
        Event::EntryCorrected(EntryCorrected {
            item: it(item),
            entry: StreamVersion(entry),
            text: text.map(str::to_string),
            value: value.map(str::to_string),
            reason: "更正".into(),
        })
    }

    fn reassigned(item: &str, from: &str, lead: &str, partners: Option<&[&str]>) -> Event {
        Event::CommitmentReassigned(CommitmentReassigned {
            item: it(item),
            from: a(from),
            lead: a(lead),
            partners: partners.map(|p| p.iter().map(|x| a(x)).collect()),
            reason: "调整".into(),
        })
    }

    /// Record 0 (seq 0), fin, drc, macao, lijing (1 to 4), the area finance (5), the source reply-1 (6).
    fn registered() -> Log {
        let mut log = Log::new();
        log.add("admin", Event::LedgerOpened(opened()));
        for (id, role) in [("fin", Role::Department), ("drc", Role::Department)] {
            log.add("admin", actor(id, role));
        }
        log.add("admin", actor("macao", Role::Counterpart));
        log.add("admin", actor("lijing", Role::Deputy));
        log.add("admin", Event::AreaRegistered(area_registered("finance")));
        log.add("admin", Event::SourceRecorded(source_recorded("reply-1")));
        log
    }

    /// [`registered`], then `bonds` from reply-1 (seq 7) and `lab` from no source (8).
    fn with_items() -> Log {
        let mut log = registered();
        log.add("admin", Event::CommitmentRecorded(commitment("bonds", Some("reply-1"))));
        log.add("admin", Event::CommitmentRecorded(commitment("lab", None)));
        log
    }

    /// [`with_items`], then every kind of item and source record.
    fn every_kind() -> Log {
        let mut log = with_items();
        log.add("fin", progress("bonds", "第一次报告"));
        log.add("fin", figure("bonds", "企业数", "4", "家"));
        log.add("fin", status("bonds", "planned", "in_progress"));
        log.add(
            "admin",
            Event::CommitmentAmended(CommitmentAmended {
                item: it("lab"),
                title: Some("新标题".into()),
                title_en: None,
                text: None,
                due: None,
                area: Some(area("health")),
                reason: "更正".into(),
            }),
        );
        log.add("admin", reassigned("lab", "fin", "drc", Some(&["fin"])));
        log.add("macao", corrected("bonds", 2, None, Some("5")));
        log.add(
            "lijing",
            Event::FeedbackRecorded(FeedbackRecorded {
                source: src("reply-1"),
                verdict: code("satisfied"),
                text: None,
                on: None,
            }),
        );
        log.add(
            "admin",
            Event::SourceCategorized(SourceCategorized { source: src("reply-1"), category: code("b"), reason: None }),
        );
        log
    }

    #[test]
    fn the_opening_sets_the_ledger_and_registers_its_administrator() {
        let mut log = Log::new();
        assert_eq!((log.full.registry().info(), log.full.registry().utc_offset()), (None, 0));
        let rec = log.add("admin", Event::LedgerOpened(opened()));
        let reg = log.full.registry();
        assert_eq!(reg.ledger, Some(LedgerInfo { opened: opened(), time: rec.time }));
        assert_eq!(reg.utc_offset(), 480);
        assert_eq!(reg.ledger_pos, pos(1, 0));
        assert_eq!(
            reg.actors[&a("admin")],
            ActorState {
                id: a("admin"),
                name: "管理员".into(),
                name_en: None,
                role: Role::Admin,
                key: None,
                signs: false,
                pos: StreamPos::default(),
            },
            "the administrator's own stream has no record: record 0 is in the ledger stream"
        );
    }

    #[test]
    fn registrations_start_their_streams() {
        let log = registered();
        let reg = log.full.registry();
        let fin = ActorState {
            id: a("fin"),
            name: "fin单位".into(),
            name_en: None,
            role: Role::Department,
            key: None,
            signs: false,
            pos: pos(1, 1),
        };
        assert_eq!(reg.actors[&a("fin")], fin);
        assert_eq!(reg.actors[&a("lijing")].role, Role::Deputy);
        assert_eq!(reg.areas[&area("finance")], AreaState { area: area_registered("finance"), pos: pos(1, 5) });
        let source = SourceState {
            source: source_recorded("reply-1"),
            items: 0,
            category: None,
            feedback: Vec::new(),
            pos: pos(1, 6),
        };
        assert_eq!(reg.sources[&src("reply-1")], source);
        assert_eq!(reg.ledger_pos, pos(1, 0), "registrations do not move the ledger stream");
    }

    #[test]
    fn a_recorded_item_starts_from_its_event() {
        let log = with_items();
        let rec = &log.records[7];
        let e = commitment("bonds", Some("reply-1"));
        let expected = ItemState {
            id: it("bonds"),
            core: ItemCore {
                area: area("finance"),
                lead: a("fin"),
                partners: vec![a("macao")],
                status: code("planned"),
                pos: pos(1, 7),
            },
            source: Some(src("reply-1")),
            section: Some("一".into()),
            title: e.title.clone(),
            title_en: None,
            text: e.text.clone(),
            text_seq: Seq(7),
            kind: Kind::Planned,
            on: None,
            due: Some(Date::Year(2025)),
            status_reason: None,
            status_seq: Seq(7),
            latest_progress: None,
            progress_reports: 0,
            indicators: Vec::new(),
            corrections: Vec::new(),
            amendments: 0,
            reassignments: 0,
            created: rec.time,
            updated: rec.time,
        };
        assert_eq!(log.item("bonds"), &expected);
        assert_eq!((log.full.len(), log.full.is_empty()), (2, false));
    }

    #[test]
    fn an_item_from_a_source_counts_towards_it_without_moving_its_stream() {
        let log = with_items();
        let reply = &log.full.registry().sources[&src("reply-1")];
        assert_eq!(reply.items, 1, "bonds comes from reply-1, lab from no source");
        assert_eq!(reply.pos, pos(1, 6));
    }

    #[test]
    fn progress_becomes_the_latest_report_with_its_entry() {
        let mut log = with_items();
        log.add("fin", progress("bonds", "第一次"));
        let second = log.add("macao", progress("bonds", "第二次"));
        let bonds = log.item("bonds");
        assert_eq!(bonds.progress_reports, 2);
        assert_eq!(
            bonds.latest_progress,
            Some(Progress {
                text: "第二次".into(),
                on: Date::Month(2024, 4),
                evidence: Some("京科发〔2024〕12号".into()),
                actor: a("macao"),
                seq: second.seq,
                entry: StreamVersion(2),
            })
        );
        assert_eq!(bonds.core.pos, pos(3, second.seq.0));
        assert_eq!((bonds.created, bonds.updated), (log.records[7].time, second.time));
    }

    #[test]
    fn a_status_change_sets_the_status_its_reason_and_its_seq() {
        let mut log = with_items();
        let rec = log.add("fin", status("bonds", "planned", "stalled"));
        let bonds = log.item("bonds");
        assert_eq!(bonds.core.status, code("stalled"));
        assert_eq!(bonds.status_reason.as_deref(), Some("planned→stalled"));
        assert_eq!(bonds.status_seq, rec.seq);
        assert_eq!(log.item("lab").core.status, code("planned"), "another item is untouched");
    }

    #[test]
    fn figures_keep_their_history_by_name_in_the_order_first_stated() {
        let mut log = with_items();
        let first = log.add("fin", figure("bonds", "企业数", "4", "家"));
        log.add("fin", figure("bonds", "债券总额", "2300000000", "USD"));
        let third = log.add("fin", figure("bonds", "企业数", "5", "户"));
        let bonds = log.item("bonds");
        let names: Vec<&str> = bonds.indicators.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["企业数", "债券总额"]);
        let firms = &bonds.indicators[0];
        assert_eq!(firms.unit.as_deref(), Some("户"), "the unit of the latest value");
        let history: Vec<(&str, Seq, StreamVersion)> =
            firms.history.iter().map(|h| (h.value.as_str(), h.seq, h.entry)).collect();
        assert_eq!(history, [("4", first.seq, StreamVersion(1)), ("5", third.seq, StreamVersion(3))]);
    }

    #[test]
    fn an_amendment_changes_only_what_it_names() {
        let mut log = with_items();
        let before = log.item("bonds").clone();
        let amended = |title_en: Option<&str>, text: Option<&str>| {
            Event::CommitmentAmended(CommitmentAmended {
                item: it("bonds"),
                title: None,
                title_en: title_en.map(str::to_string),
                text: text.map(str::to_string),
                due: None,
                area: None,
                reason: "更正".into(),
            })
        };
        log.add("admin", amended(Some("Bonds"), None));
        let after = log.item("bonds");
        assert_eq!(after.title_en.as_deref(), Some("Bonds"));
        assert_eq!((&after.title, &after.text, after.text_seq), (&before.title, &before.text, before.text_seq));
        assert_eq!((after.due, &after.core.area, after.amendments), (before.due, &before.core.area, 1));
        let rec = log.add("admin", amended(None, Some("新的措辞。")));
        let after = log.item("bonds");
        assert_eq!((after.text.as_str(), after.text_seq, after.amendments), ("新的措辞。", rec.seq, 2));
        assert_eq!(after.title_en.as_deref(), Some("Bonds"), "an amendment without title-en keeps it");
    }

    #[test]
    fn an_amendment_of_the_area_or_due_date_changes_them() {
        let log = every_kind();
        let lab = log.item("lab");
        assert_eq!((&lab.core.area, lab.title.as_str(), lab.due), (&area("health"), "新标题", Some(Date::Year(2025))));
    }

    #[test]
    fn a_reassignment_changes_the_lead_and_the_partners_if_given() {
        let mut log = with_items();
        log.add("admin", reassigned("bonds", "fin", "drc", None));
        let bonds = log.item("bonds");
        assert_eq!((&bonds.core.lead, &bonds.core.partners, bonds.reassignments), (&a("drc"), &vec![a("macao")], 1));
        log.add("admin", reassigned("bonds", "drc", "fin", Some(&["drc"])));
        let bonds = log.item("bonds");
        assert_eq!((&bonds.core.lead, &bonds.core.partners, bonds.reassignments), (&a("fin"), &vec![a("drc")], 2));
    }

    #[test]
    fn a_correction_changes_the_entry_it_names_and_only_that() {
        let mut log = with_items();
        log.add("fin", progress("bonds", "第一次")); // entry 1
        log.add("fin", figure("bonds", "企业数", "4", "家")); // entry 2
        log.add("fin", progress("bonds", "第二次")); // entry 3
        log.add("fin", figure("bonds", "企业数", "4", "家")); // entry 4
        log.add("fin", corrected("bonds", 1, Some("第一次（更正）"), None));
        assert_eq!(log.item("bonds").latest_progress.as_ref().unwrap().text, "第二次", "entry 1 is not the latest");
        log.add("fin", corrected("bonds", 3, Some("第二次（更正）"), None));
        log.add("fin", corrected("bonds", 2, None, Some("5")));
        let bonds = log.item("bonds");
        assert_eq!(bonds.latest_progress.as_ref().unwrap().text, "第二次（更正）");
        let values: Vec<&str> = bonds.indicators[0].history.iter().map(|h| h.value.as_str()).collect();
        assert_eq!(values, ["5", "4"], "entry 2 corrected, entry 4 (the same value) kept");
        let corrections: Vec<(u64, Seq)> = bonds.corrections.iter().map(|c| (c.entry.0, c.seq)).collect();
        assert_eq!(corrections, [(1, Seq(13)), (3, Seq(14)), (2, Seq(15))]);
        assert_eq!(bonds.core.pos.next, StreamVersion(8));
    }

    #[test]
    fn feedback_and_categories_fold_into_their_source() {
        let log = every_kind();
        let reply = &log.full.registry().sources[&src("reply-1")];
        let verdicts: Vec<(&str, Seq)> = reply.feedback.iter().map(|f| (f.verdict.as_str(), f.seq)).collect();
        assert_eq!(verdicts, [("satisfied", Seq(15))]);
        assert_eq!(reply.category.as_ref().map(|(c, s)| (c.category.as_str(), *s)), Some(("b", Seq(16))));
        assert_eq!(reply.pos, pos(3, 16));
        let mut log = log;
        log.add(
            "admin",
            Event::SourceCategorized(SourceCategorized { source: src("reply-1"), category: code("a"), reason: None }),
        );
        let reply = &log.full.registry().sources[&src("reply-1")];
        assert_eq!(reply.category.as_ref().map(|(c, s)| (c.category.as_str(), *s)), Some(("a", Seq(17))), "replaced");
    }

    #[test]
    fn every_record_moves_its_streams_position() {
        let log = every_kind();
        let at = |s: StreamId| log.full.stream_pos(&s);
        assert_eq!(at(StreamId::Ledger), pos(1, 0));
        assert_eq!(at(StreamId::Actor(a("drc"))), pos(1, 2));
        assert_eq!(at(StreamId::Area(area("finance"))), pos(1, 5));
        assert_eq!(at(StreamId::Source(src("reply-1"))), pos(3, 16));
        assert_eq!(at(StreamId::Item(it("bonds"))), pos(5, 14));
        assert_eq!(at(StreamId::Item(it("lab"))), pos(3, 13));
        for unknown in [StreamId::Actor(a("ghost")), StreamId::Item(it("ghost")), StreamId::Source(src("ghost"))] {
            assert_eq!(at(unknown), StreamPos::default());
        }
        // Each record's stream version and previous seq are what the fold said before it.
        let mut st = State::<ItemCore>::default();
        for rec in &log.records {
            assert_eq!(st.stream_pos(&rec.stream), StreamPos { next: rec.stream_version, last: rec.stream_prev });
            st.apply(rec);
        }
    }

    #[test]
    fn clones_are_independent_snapshots() {
        let mut log = every_kind();
        let snapshot = log.full.clone();
        let (registry, items) = (snapshot.registry().clone(), snapshot.items().cloned().collect::<Vec<_>>());
        log.add("fin", progress("bonds", "快照之后"));
        log.add("fin", status("bonds", "in_progress", "delivered"));
        log.add("admin", actor("new", Role::Department));
        log.add("admin", Event::CommitmentRecorded(commitment("new-item", Some("reply-1"))));
        assert_eq!(snapshot.registry(), &registry);
        assert_eq!(snapshot.items().cloned().collect::<Vec<_>>(), items);
        assert!(!snapshot.contains(&it("new-item")));
        assert_eq!(snapshot.get(&it("bonds")).unwrap().core.status, code("in_progress"));
        assert_eq!(log.item("bonds").core.status, code("delivered"));
        assert_eq!(log.full.registry().sources[&src("reply-1")].items, 2);
        // And the other way: a clone of the snapshot moving on leaves the snapshot as it was.
        let mut moved = Log { full: snapshot.clone(), ..every_kind() };
        moved.add("drc", progress("lab", "另一条路"));
        assert_eq!(moved.item("lab").progress_reports, 1);
        assert_eq!(snapshot.get(&it("lab")).unwrap().progress_reports, 0);
        assert_eq!(log.item("lab").progress_reports, 0);
    }

    #[test]
    fn a_record_of_an_item_the_state_does_not_hold_is_ignored() {
        let log = with_items();
        let mut st = log.full.clone();
        st.clear_items();
        assert!(st.is_empty());
        let mut next = with_items();
        let rec = next.add("fin", progress("bonds", "未加载"));
        st.apply(&rec);
        assert!(!st.contains(&it("bonds")), "a lazily loaded state must hold the item first");
        st.insert(it("bonds"), log.item("bonds").clone());
        st.apply(&rec);
        assert_eq!(st.get(&it("bonds")), next.full.get(&it("bonds")));
        st.set_registry(Registry::default());
        assert_eq!(st.registry(), &Registry::default());
    }

    #[test]
    fn the_registry_is_affected_by_records_outside_items_and_items_from_a_source() {
        let log = every_kind();
        let affected: Vec<u64> = log.records.iter().filter(|r| Registry::is_affected_by(r)).map(|r| r.seq.0).collect();
        assert_eq!(affected, [0, 1, 2, 3, 4, 5, 6, 7, 15, 16], "item 8 (lab) has no source; 9 to 14 are item updates");
        // And what it says is what folding does: the registry moves exactly on those records.
        let mut st = State::<ItemCore>::default();
        for rec in &log.records {
            let before = st.registry().clone();
            st.apply(rec);
            assert_eq!(st.registry() != &before, Registry::is_affected_by(rec), "record {}", rec.seq);
        }
    }

    #[test]
    fn core_and_full_states_agree_on_the_core() {
        let log = every_kind();
        assert_eq!(log.core.registry(), log.full.registry());
        assert_eq!(log.core.len(), log.full.len());
        for item in log.full.items() {
            assert_eq!(log.core.get(&item.id), Some(&item.core), "{}", item.id);
            assert_eq!(Facts::item(&log.core, &item.id), Facts::item(&log.full, &item.id));
        }
        let lab = log.core.get(&it("lab")).unwrap();
        assert_eq!((&lab.lead, &lab.partners, &lab.area), (&a("drc"), &vec![a("fin")], &area("health")));
        assert_eq!(log.core.get(&it("bonds")).unwrap().status, code("in_progress"));
    }

    #[test]
    fn an_item_involves_its_lead_and_partners() {
        let log = with_items();
        let bonds = &log.item("bonds").core;
        assert!(bonds.involves(&a("fin")) && bonds.involves(&a("macao")));
        assert!(!bonds.involves(&a("drc")) && !bonds.involves(&a("admin")));
    }
}
