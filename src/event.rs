//! Events: past-tense facts about a ledger and its commitments.
//!
//! Each event type has a stable number and a schema version (see `schema/record-format.md`). An event
//! is stored as `(type, version, body)`; [`Event::decode`] reads every version this crate has ever
//! written and upcasts it to the current shape, so that old ledgers stay readable when the model grows.

use crate::codec::{self, CodecError};
use crate::date::Date;
use crate::ids::{ActorId, AreaId, Code, ItemId, SourceId, StreamId, StreamVersion};
use crate::vocab::{Kind, Role, SourceKind, Vocabulary};
use serde::{Deserialize, Serialize};

/// Record 0: the ledger's identity, title, origin, time zone, administrator and vocabularies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerOpened {
    /// Human title, e.g. "Beijing–Macao cooperation commitments".
    pub title: String,
    /// Unique name of the log, used as the origin line of its checkpoints.
    pub origin: String,
    /// The offset from UTC, in minutes, of the jurisdiction's calendar (Beijing: 480).
    pub utc_offset_minutes: i32,
    /// The administrator, registered by this record with the role `admin`.
    pub admin: ActorId,
    /// The administrator's name.
    pub admin_name: String,
    /// The statuses, categories, verdicts and completion levels of this ledger.
    pub vocabulary: Vocabulary,
}

/// An actor (office, department, counterpart, deputy, auditor) may now append or be named.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActorRegistered {
    /// Its id.
    pub id: ActorId,
    /// Its name as it writes it (e.g. 市委金融办).
    pub name: String,
    /// Its English name, if known.
    pub name_en: Option<String>,
    /// What it may do.
    pub role: Role,
}

/// A cooperation area may now be used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AreaRegistered {
    /// Its id, e.g. `finance`.
    pub id: AreaId,
    /// Its name (e.g. 金融).
    pub name: String,
    /// Its English name.
    pub name_en: Option<String>,
}

impl AreaRegistered {
    /// The seed reply's twelve areas ([`crate::vocab::SEED_AREAS`]), as `init` registers them.
    pub fn seed() -> Vec<AreaRegistered> {
        crate::vocab::SEED_AREAS
            .iter()
            .map(|(id, zh, en)| AreaRegistered {
                id: AreaId::new(*id).expect("seed area ids are valid"),
                name: zh.to_string(),
                name_en: Some(en.to_string()),
            })
            .collect()
    }
}

/// A source document was recorded: the reply, memorandum, agreement or meeting the commitments come from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRecorded {
    /// Its id, e.g. `reply-0771`.
    pub id: SourceId,
    /// What kind of document it is.
    pub kind: SourceKind,
    /// Its number as printed (e.g. `0771`).
    pub number: Option<String>,
    /// Its title.
    pub title: String,
    /// Its English title.
    pub title_en: Option<String>,
    /// The session or occasion (e.g. 北京市十六届人大二次会议).
    pub session: Option<String>,
    /// When it was issued.
    pub date: Date,
    /// Who issued it.
    pub issuer: ActorId,
    /// To whom it is addressed (the deputy), if anyone.
    pub addressee: Option<ActorId>,
    /// The departments that drafted it with the issuer (会同…).
    pub contributors: Vec<ActorId>,
    /// A digest of the signed text, written `blake3:<64 hex digits>`.
    pub digest: Option<String>,
}

/// A commitment was recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitmentRecorded {
    /// Its id.
    pub id: ItemId,
    /// The document it comes from.
    pub source: Option<SourceId>,
    /// The section of the source it appears in.
    pub section: Option<String>,
    /// Its cooperation area.
    pub area: AreaId,
    /// The lead department.
    pub lead: ActorId,
    /// The departments and counterparts that help.
    pub partners: Vec<ActorId>,
    /// A short title in the source's language.
    pub title: String,
    /// A short English title.
    pub title_en: Option<String>,
    /// The wording of the commitment, exactly as in the source.
    pub text: String,
    /// Done, under way or planned when stated.
    pub kind: Kind,
    /// The status it starts in (the vocabulary's starting status for its kind).
    pub status: Code,
    /// When it was done or started, as the source says.
    pub on: Option<Date>,
    /// When it is due.
    pub due: Option<Date>,
}

/// Progress was reported on a commitment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressReported {
    /// The commitment.
    pub item: ItemId,
    /// What happened.
    pub text: String,
    /// When it happened.
    pub on: Date,
    /// A reference to the evidence (a document number, a URL).
    pub evidence: Option<String>,
}

/// A commitment's status changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChanged {
    /// The commitment.
    pub item: ItemId,
    /// The status it had.
    pub from: Code,
    /// The status it has now.
    pub to: Code,
    /// Why.
    pub reason: String,
    /// When the change took effect, if not when it was recorded.
    pub on: Option<Date>,
}

/// A figure (indicator) was stated for a commitment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorRecorded {
    /// The commitment.
    pub item: ItemId,
    /// What is counted (e.g. "enterprises with bonds listed in Macao").
    pub name: String,
    /// The value, a decimal number written with digits (`4`, `2300000000`, `2.3`).
    pub value: String,
    /// The unit (e.g. `USD`, `batches`).
    pub unit: Option<String>,
    /// Whether the source gives it as approximate (约).
    pub approximate: bool,
    /// The date the value holds for.
    pub as_of: Option<Date>,
}

/// Fields of a commitment were amended; the reason is kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitmentAmended {
    /// The commitment.
    pub item: ItemId,
    /// New title.
    pub title: Option<String>,
    /// New English title.
    pub title_en: Option<String>,
    /// New wording.
    pub text: Option<String>,
    /// New due date.
    pub due: Option<Date>,
    /// New area.
    pub area: Option<AreaId>,
    /// Why.
    pub reason: String,
}

/// A commitment got a new lead (and, if given, new partners).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitmentReassigned {
    /// The commitment.
    pub item: ItemId,
    /// The lead it had.
    pub from: ActorId,
    /// The new lead.
    pub lead: ActorId,
    /// The new partners, if they change.
    pub partners: Option<Vec<ActorId>>,
    /// Why.
    pub reason: String,
}

/// An earlier entry of a commitment (named by its stream version) was wrong; this says what is right.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryCorrected {
    /// The commitment.
    pub item: ItemId,
    /// The stream version of the entry being corrected.
    pub entry: StreamVersion,
    /// The corrected text, if the text was wrong.
    pub text: Option<String>,
    /// The corrected value, if a figure was wrong.
    pub value: Option<String>,
    /// Why.
    pub reason: String,
}

/// The addressee's (the deputy's) verdict on a reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackRecorded {
    /// The reply.
    pub source: SourceId,
    /// A verdict code of the vocabulary (satisfied, basically satisfied, dissatisfied).
    pub verdict: Code,
    /// What the deputy said.
    pub text: Option<String>,
    /// When.
    pub on: Option<Date>,
}

/// The reply was put in a handling category (A–D).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceCategorized {
    /// The reply.
    pub source: SourceId,
    /// A category code of the vocabulary.
    pub category: Code,
    /// Why.
    pub reason: Option<String>,
}

/// Every event, in its current shape.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Event {
    LedgerOpened(LedgerOpened),
    ActorRegistered(ActorRegistered),
    AreaRegistered(AreaRegistered),
    SourceRecorded(SourceRecorded),
    CommitmentRecorded(CommitmentRecorded),
    ProgressReported(ProgressReported),
    StatusChanged(StatusChanged),
    IndicatorRecorded(IndicatorRecorded),
    CommitmentAmended(CommitmentAmended),
    CommitmentReassigned(CommitmentReassigned),
    EntryCorrected(EntryCorrected),
    FeedbackRecorded(FeedbackRecorded),
    SourceCategorized(SourceCategorized),
}

/// The stable number of each event type, stored in the record header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
#[allow(missing_docs)]
pub enum EventType {
    LedgerOpened = 1,
    ActorRegistered = 2,
    AreaRegistered = 3,
    SourceRecorded = 4,
    CommitmentRecorded = 5,
    ProgressReported = 6,
    StatusChanged = 7,
    IndicatorRecorded = 8,
    CommitmentAmended = 9,
    CommitmentReassigned = 10,
    EntryCorrected = 11,
    FeedbackRecorded = 12,
    SourceCategorized = 13,
}

impl EventType {
    /// Every type, in number order.
    pub const ALL: [EventType; 13] = [
        EventType::LedgerOpened,
        EventType::ActorRegistered,
        EventType::AreaRegistered,
        EventType::SourceRecorded,
        EventType::CommitmentRecorded,
        EventType::ProgressReported,
        EventType::StatusChanged,
        EventType::IndicatorRecorded,
        EventType::CommitmentAmended,
        EventType::CommitmentReassigned,
        EventType::EntryCorrected,
        EventType::FeedbackRecorded,
        EventType::SourceCategorized,
    ];

    /// The name used in exports and reports.
    pub fn name(self) -> &'static str {
        match self {
            EventType::LedgerOpened => "LedgerOpened",
            EventType::ActorRegistered => "ActorRegistered",
            EventType::AreaRegistered => "AreaRegistered",
            EventType::SourceRecorded => "SourceRecorded",
            EventType::CommitmentRecorded => "CommitmentRecorded",
            EventType::ProgressReported => "ProgressReported",
            EventType::StatusChanged => "StatusChanged",
            EventType::IndicatorRecorded => "IndicatorRecorded",
            EventType::CommitmentAmended => "CommitmentAmended",
            EventType::CommitmentReassigned => "CommitmentReassigned",
            EventType::EntryCorrected => "EntryCorrected",
            EventType::FeedbackRecorded => "FeedbackRecorded",
            EventType::SourceCategorized => "SourceCategorized",
        }
    }
}

impl TryFrom<u16> for EventType {
    type Error = u16;
    fn try_from(n: u16) -> Result<EventType, u16> {
        EventType::ALL.into_iter().find(|t| *t as u16 == n).ok_or(n)
    }
}

/// The schema version of an event type when it was first written.
pub const EVENT_VERSION: u16 = 1;

impl EventType {
    /// The schema version this crate writes for the type. Each type has its own: bumping one never
    /// bumps another; [`Event::decode`] keeps reading every earlier version.
    pub fn version(self) -> u16 {
        match self {
            EventType::LedgerOpened
            | EventType::ActorRegistered
            | EventType::AreaRegistered
            | EventType::SourceRecorded
            | EventType::CommitmentRecorded
            | EventType::ProgressReported
            | EventType::StatusChanged
            | EventType::IndicatorRecorded
            | EventType::CommitmentAmended
            | EventType::CommitmentReassigned
            | EventType::EntryCorrected
            | EventType::FeedbackRecorded
            | EventType::SourceCategorized => EVENT_VERSION,
        }
    }
}

impl Event {
    /// Its type.
    pub fn event_type(&self) -> EventType {
        match self {
            Event::LedgerOpened(_) => EventType::LedgerOpened,
            Event::ActorRegistered(_) => EventType::ActorRegistered,
            Event::AreaRegistered(_) => EventType::AreaRegistered,
            Event::SourceRecorded(_) => EventType::SourceRecorded,
            Event::CommitmentRecorded(_) => EventType::CommitmentRecorded,
            Event::ProgressReported(_) => EventType::ProgressReported,
            Event::StatusChanged(_) => EventType::StatusChanged,
            Event::IndicatorRecorded(_) => EventType::IndicatorRecorded,
            Event::CommitmentAmended(_) => EventType::CommitmentAmended,
            Event::CommitmentReassigned(_) => EventType::CommitmentReassigned,
            Event::EntryCorrected(_) => EventType::EntryCorrected,
            Event::FeedbackRecorded(_) => EventType::FeedbackRecorded,
            Event::SourceCategorized(_) => EventType::SourceCategorized,
        }
    }

    /// The stream the event belongs to.
    pub fn stream(&self) -> StreamId {
        match self {
            Event::LedgerOpened(_) => StreamId::Ledger,
            Event::ActorRegistered(e) => StreamId::Actor(e.id.clone()),
            Event::AreaRegistered(e) => StreamId::Area(e.id.clone()),
            Event::SourceRecorded(e) => StreamId::Source(e.id.clone()),
            Event::FeedbackRecorded(e) => StreamId::Source(e.source.clone()),
            Event::SourceCategorized(e) => StreamId::Source(e.source.clone()),
            Event::CommitmentRecorded(e) => StreamId::Item(e.id.clone()),
            Event::ProgressReported(e) => StreamId::Item(e.item.clone()),
            Event::StatusChanged(e) => StreamId::Item(e.item.clone()),
            Event::IndicatorRecorded(e) => StreamId::Item(e.item.clone()),
            Event::CommitmentAmended(e) => StreamId::Item(e.item.clone()),
            Event::CommitmentReassigned(e) => StreamId::Item(e.item.clone()),
            Event::EntryCorrected(e) => StreamId::Item(e.item.clone()),
        }
    }

    /// The body bytes, in the current version of the event's type.
    pub fn encode_body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        match self {
            Event::LedgerOpened(e) => codec::encode_into(e, &mut out),
            Event::ActorRegistered(e) => codec::encode_into(e, &mut out),
            Event::AreaRegistered(e) => codec::encode_into(e, &mut out),
            Event::SourceRecorded(e) => codec::encode_into(e, &mut out),
            Event::CommitmentRecorded(e) => codec::encode_into(e, &mut out),
            Event::ProgressReported(e) => codec::encode_into(e, &mut out),
            Event::StatusChanged(e) => codec::encode_into(e, &mut out),
            Event::IndicatorRecorded(e) => codec::encode_into(e, &mut out),
            Event::CommitmentAmended(e) => codec::encode_into(e, &mut out),
            Event::CommitmentReassigned(e) => codec::encode_into(e, &mut out),
            Event::EntryCorrected(e) => codec::encode_into(e, &mut out),
            Event::FeedbackRecorded(e) => codec::encode_into(e, &mut out),
            Event::SourceCategorized(e) => codec::encode_into(e, &mut out),
        }
        out
    }

    /// Decodes a body of a given type and version, upcasting older versions to the current shape.
    pub fn decode(event_type: u16, version: u16, body: &[u8]) -> Result<Event, CodecError> {
        let t = EventType::try_from(event_type).map_err(CodecError::UnknownEventType)?;
        // Every (type, version) ever written is listed here; an older version decodes its frozen
        // layout and is converted to the current shape. Version 1 is the only one so far.
        if version != 1 {
            return Err(CodecError::UnknownEventVersion { event_type: t.name(), version });
        }
        Ok(match t {
            EventType::LedgerOpened => Event::LedgerOpened(codec::decode(body)?),
            EventType::ActorRegistered => Event::ActorRegistered(codec::decode(body)?),
            EventType::AreaRegistered => Event::AreaRegistered(codec::decode(body)?),
            EventType::SourceRecorded => Event::SourceRecorded(codec::decode(body)?),
            EventType::CommitmentRecorded => Event::CommitmentRecorded(codec::decode(body)?),
            EventType::ProgressReported => Event::ProgressReported(codec::decode(body)?),
            EventType::StatusChanged => Event::StatusChanged(codec::decode(body)?),
            EventType::IndicatorRecorded => Event::IndicatorRecorded(codec::decode(body)?),
            EventType::CommitmentAmended => Event::CommitmentAmended(codec::decode(body)?),
            EventType::CommitmentReassigned => Event::CommitmentReassigned(codec::decode(body)?),
            EventType::EntryCorrected => Event::EntryCorrected(codec::decode(body)?),
            EventType::FeedbackRecorded => Event::FeedbackRecorded(codec::decode(body)?),
            EventType::SourceCategorized => Event::SourceCategorized(codec::decode(body)?),
        })
    }
}
