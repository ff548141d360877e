//! Projections: pure folds of the log into the current state of the ledger and of every item.
//!
//! [`Registry`] holds the ledger-wide facts (the opening record, actors, areas, sources);
//! [`ItemCore`] the few facts about an item that rules depend on; [`ItemState`] everything a reader
//! sees about an item; [`State`] folds the whole log into a registry and items of either kind. `apply`
//! never fails, never reads a clock and does no I/O: it trusts that the record was accepted by
//! [`crate::decide`]. Each holds the stream position it reflects. [`Facts`] is how the rules read it.

use crate::date::{Date, Timestamp};
use crate::event::{
    AreaRegistered, CommitmentRecorded, Event, FeedbackRecorded, LedgerOpened, SourceCategorized, SourceRecorded,
};
use crate::ids::{ActorId, AreaId, Code, ItemId, Seq, SourceId, StreamId, StreamVersion};
use crate::record::Record;
use crate::vocab::{Kind, Role};
use serde::{Deserialize, Serialize};
use imbl::OrdMap;
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
    pub feedback: Vec<(FeedbackRecorded, Seq)>,
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
                        pos: StreamPos::default(),
                    },
                );
            }
            Event::ActorRegistered(e) => {
                let mut pos = StreamPos::default();
                pos.advance(rec.seq);
                let actor = ActorState {
                    id: e.id.clone(),
                    name: e.name.clone(),
                    name_en: e.name_en.clone(),
                    role: e.role,
                    pos,
                };
                self.actors.insert(e.id.clone(), actor);
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
                    s.feedback.push((e.clone(), rec.seq));
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

    /// The items held, in id order.
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
