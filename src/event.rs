//! Events: past-tense facts about a ledger and its commitments.
//!
//! Each event type has a stable number and a schema version (see `schema/record-format.md`). An event
//! is stored as `(type, version, body)`; [`Event::decode`] reads every version this crate has ever
//! written and upcasts it to the current shape, so that old ledgers stay readable when the model grows.
//!
//! The event types are listed once, in the table at the end of this file ([`events!`]): the enum, the
//! type numbers, names, versions, encoding, decoding and the JSON form are all derived from it. What
//! differs per type (its stream, its one-line description, how older versions upcast) is the
//! [`EventBody`] impl beside its struct.

use crate::codec::{self, CodecError};
use crate::date::Date;
use crate::ids::{ActorId, AreaId, Code, ItemId, SourceId, StreamId, StreamVersion};
use crate::keys::PublicKey;
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
    /// The administrator's public key (version 2). A ledger whose record 0 names one is a signed
    /// ledger: every record must carry its actor's signature. None in ledgers opened by version 1.
    pub admin_key: Option<PublicKey>,
}

/// [`LedgerOpened`] as version 1 stored it (no key): frozen.
#[derive(Deserialize)]
struct LedgerOpenedV1 {
    title: String,
    origin: String,
    utc_offset_minutes: i32,
    admin: ActorId,
    admin_name: String,
    vocabulary: Vocabulary,
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
    /// Its public key (version 2): required in a signed ledger, where an actor signs what it appends.
    pub public_key: Option<PublicKey>,
}

/// [`ActorRegistered`] as version 1 stored it (no key): frozen.
#[derive(Deserialize)]
struct ActorRegisteredV1 {
    id: ActorId,
    name: String,
    name_en: Option<String>,
    role: Role,
}

/// An actor's signing key was registered: its first key, or a new one replacing the key it had
/// (rotation). From this record on, the actor's records must be signed with this key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRegistered {
    /// The actor.
    pub actor: ActorId,
    /// Its new public key.
    pub public_key: PublicKey,
}

/// An actor's key was retired (lost, stolen, or the person left): nothing signed with it is
/// accepted after this record, and the actor cannot append until a new key is registered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRetired {
    /// The actor.
    pub actor: ActorId,
    /// The key retired (the actor's current key).
    pub public_key: PublicKey,
    /// Why.
    pub reason: Option<String>,
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

/// What every event body says about itself.
pub trait EventBody: Serialize + serde::de::DeserializeOwned + Sized {
    /// The stream the event belongs to.
    fn stream(&self) -> StreamId;

    /// A one-line description, for tables and histories.
    fn describe(&self) -> String;

    /// Reads a stored body of an older schema version and upcasts it to the current shape. Every
    /// version ever written must stay readable here; a type still at its first version has none.
    fn upcast(version: u16, body: &[u8]) -> Result<Self, CodecError> {
        let _ = body;
        Err(CodecError::UnknownEventVersion { event_type: std::any::type_name::<Self>(), version })
    }

    /// The fields of the current shape that a body stored in `version` did not have (the JSON form of
    /// such a record leaves them out).
    fn fields_added_since(version: u16) -> &'static [&'static str] {
        let _ = version;
        &[]
    }
}

fn opt<T: std::fmt::Display>(prefix: &str, v: &Option<T>) -> String {
    v.as_ref().map(|v| format!("{prefix}{v}")).unwrap_or_default()
}

impl EventBody for LedgerOpened {
    fn stream(&self) -> StreamId {
        StreamId::Ledger
    }
    fn describe(&self) -> String {
        format!("ledger opened: {} ({})", self.title, self.origin)
    }
    fn upcast(version: u16, body: &[u8]) -> Result<Self, CodecError> {
        match version {
            1 => {
                let v1: LedgerOpenedV1 = codec::decode(body)?;
                Ok(LedgerOpened {
                    title: v1.title,
                    origin: v1.origin,
                    utc_offset_minutes: v1.utc_offset_minutes,
                    admin: v1.admin,
                    admin_name: v1.admin_name,
                    vocabulary: v1.vocabulary,
                    admin_key: None,
                })
            }
            _ => Err(CodecError::UnknownEventVersion { event_type: "LedgerOpened", version }),
        }
    }
    fn fields_added_since(version: u16) -> &'static [&'static str] {
        if version < 2 { &["admin_key"] } else { &[] }
    }
}

impl EventBody for ActorRegistered {
    fn stream(&self) -> StreamId {
        StreamId::Actor(self.id.clone())
    }
    fn describe(&self) -> String {
        let key = self.public_key.map(|k| format!(", key {}", k.short())).unwrap_or_default();
        format!("actor {} registered: {} ({}{key})", self.id, self.name, self.role.as_str())
    }
    fn upcast(version: u16, body: &[u8]) -> Result<Self, CodecError> {
        match version {
            1 => {
                let v1: ActorRegisteredV1 = codec::decode(body)?;
                Ok(ActorRegistered { id: v1.id, name: v1.name, name_en: v1.name_en, role: v1.role, public_key: None })
            }
            _ => Err(CodecError::UnknownEventVersion { event_type: "ActorRegistered", version }),
        }
    }
    fn fields_added_since(version: u16) -> &'static [&'static str] {
        if version < 2 { &["public_key"] } else { &[] }
    }
}

impl EventBody for KeyRegistered {
    fn stream(&self) -> StreamId {
        StreamId::Actor(self.actor.clone())
    }
    fn describe(&self) -> String {
        format!("key {} registered for {}", self.public_key.short(), self.actor)
    }
}

impl EventBody for KeyRetired {
    fn stream(&self) -> StreamId {
        StreamId::Actor(self.actor.clone())
    }
    fn describe(&self) -> String {
        format!("key {} of {} retired{}", self.public_key.short(), self.actor, opt(": ", &self.reason))
    }
}

impl EventBody for AreaRegistered {
    fn stream(&self) -> StreamId {
        StreamId::Area(self.id.clone())
    }
    fn describe(&self) -> String {
        format!("area {} registered: {}", self.id, self.name)
    }
}

impl EventBody for SourceRecorded {
    fn stream(&self) -> StreamId {
        StreamId::Source(self.id.clone())
    }
    fn describe(&self) -> String {
        format!("source {} recorded: {} ({})", self.id, self.title, self.date)
    }
}

impl EventBody for CommitmentRecorded {
    fn stream(&self) -> StreamId {
        StreamId::Item(self.id.clone())
    }
    fn describe(&self) -> String {
        format!("recorded ({}, {}): {}", self.kind.as_str(), self.status, self.title)
    }
}

impl EventBody for ProgressReported {
    fn stream(&self) -> StreamId {
        StreamId::Item(self.item.clone())
    }
    fn describe(&self) -> String {
        format!("progress on {}: {}", self.on, self.text)
    }
}

impl EventBody for StatusChanged {
    fn stream(&self) -> StreamId {
        StreamId::Item(self.item.clone())
    }
    fn describe(&self) -> String {
        format!("status {} → {}: {}", self.from, self.to, self.reason)
    }
}

impl EventBody for IndicatorRecorded {
    fn stream(&self) -> StreamId {
        StreamId::Item(self.item.clone())
    }
    fn describe(&self) -> String {
        format!(
            "figure {}: {}{}{}{}",
            self.name,
            if self.approximate { "about " } else { "" },
            self.value,
            opt(" ", &self.unit),
            opt(" as of ", &self.as_of)
        )
    }
}

impl EventBody for CommitmentAmended {
    fn stream(&self) -> StreamId {
        StreamId::Item(self.item.clone())
    }
    fn describe(&self) -> String {
        let fields = [
            ("title", self.title.is_some()),
            ("title-en", self.title_en.is_some()),
            ("text", self.text.is_some()),
            ("due", self.due.is_some()),
            ("area", self.area.is_some()),
        ];
        let named: Vec<&str> = fields.iter().filter(|(_, given)| *given).map(|(name, _)| *name).collect();
        format!("amended {}: {}", named.join(", "), self.reason)
    }
}

impl EventBody for CommitmentReassigned {
    fn stream(&self) -> StreamId {
        StreamId::Item(self.item.clone())
    }
    fn describe(&self) -> String {
        format!("reassigned {} → {}: {}", self.from, self.lead, self.reason)
    }
}

impl EventBody for EntryCorrected {
    fn stream(&self) -> StreamId {
        StreamId::Item(self.item.clone())
    }
    fn describe(&self) -> String {
        format!(
            "corrected entry {}{}{}: {}",
            self.entry,
            self.text.as_deref().map(|t| format!(" text \"{t}\"")).unwrap_or_default(),
            opt(" value ", &self.value),
            self.reason
        )
    }
}

impl EventBody for FeedbackRecorded {
    fn stream(&self) -> StreamId {
        StreamId::Source(self.source.clone())
    }
    fn describe(&self) -> String {
        format!("feedback on {}: {}{}", self.source, self.verdict, opt(" — ", &self.text))
    }
}

impl EventBody for SourceCategorized {
    fn stream(&self) -> StreamId {
        StreamId::Source(self.source.clone())
    }
    fn describe(&self) -> String {
        format!("{} put in category {}{}", self.source, self.category, opt(": ", &self.reason))
    }
}

/// Declares the event types once: `number => name, version current;`, the name being the body struct.
macro_rules! events {
    ($($number:literal => $name:ident, version $version:literal;)*) => {
        /// Every event, in its current shape.
        #[derive(Clone, Debug, PartialEq, Eq)]
        #[allow(missing_docs)]
        pub enum Event {
            $($name($name),)*
        }

        /// The stable number of each event type, stored in the record header.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u16)]
        #[allow(missing_docs)]
        pub enum EventType {
            $($name = $number,)*
        }

        impl EventType {
            /// Every type, in number order.
            pub const ALL: &[EventType] = &[$(EventType::$name,)*];

            /// The name used in exports and reports.
            pub fn name(self) -> &'static str {
                match self {
                    $(EventType::$name => stringify!($name),)*
                }
            }

            /// The schema version this crate writes for the type. Each type has its own: bumping one
            /// never bumps another; [`Event::decode`] keeps reading every earlier version.
            pub fn version(self) -> u16 {
                match self {
                    $(EventType::$name => $version,)*
                }
            }
        }

        impl Event {
            /// Its type.
            pub fn event_type(&self) -> EventType {
                match self {
                    $(Event::$name(_) => EventType::$name,)*
                }
            }

            /// The stream the event belongs to.
            pub fn stream(&self) -> StreamId {
                match self {
                    $(Event::$name(e) => e.stream(),)*
                }
            }

            /// A one-line description, for tables and histories.
            pub fn describe(&self) -> String {
                match self {
                    $(Event::$name(e) => e.describe(),)*
                }
            }

            /// The fields of the current shape that a body stored in `version` did not have.
            pub fn fields_added_since(&self, version: u16) -> &'static [&'static str] {
                match self {
                    $(Event::$name(_) => <$name as EventBody>::fields_added_since(version),)*
                }
            }

            /// Appends the body bytes, in the current version of the event's type, to `out`.
            pub fn encode_body_into(&self, out: &mut Vec<u8>) {
                match self {
                    $(Event::$name(e) => codec::encode_into(e, out),)*
                }
            }

            /// Decodes a body of a given type and version, upcasting older versions to the current shape.
            pub fn decode(event_type: u16, version: u16, body: &[u8]) -> Result<Event, CodecError> {
                let t = EventType::try_from(event_type).map_err(CodecError::UnknownEventType)?;
                let unknown = || CodecError::UnknownEventVersion { event_type: t.name(), version };
                if version == 0 || version > t.version() {
                    return Err(unknown());
                }
                Ok(match t {
                    $(EventType::$name => Event::$name(if version == t.version() {
                        codec::decode(body)?
                    } else {
                        <$name as EventBody>::upcast(version, body).map_err(|e| match e {
                            CodecError::UnknownEventVersion { .. } => unknown(),
                            e => e,
                        })?
                    }),)*
                })
            }
        }

        /// The JSON form of an event: its body's fields.
        impl Serialize for Event {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    $(Event::$name(e) => e.serialize(s),)*
                }
            }
        }
    };
}

events! {
    1 => LedgerOpened, version 2;
    2 => ActorRegistered, version 2;
    3 => AreaRegistered, version 1;
    4 => SourceRecorded, version 1;
    5 => CommitmentRecorded, version 1;
    6 => ProgressReported, version 1;
    7 => StatusChanged, version 1;
    8 => IndicatorRecorded, version 1;
    9 => CommitmentAmended, version 1;
    10 => CommitmentReassigned, version 1;
    11 => EntryCorrected, version 1;
    12 => FeedbackRecorded, version 1;
    13 => SourceCategorized, version 1;
    14 => KeyRegistered, version 1;
    15 => KeyRetired, version 1;
}

impl TryFrom<u16> for EventType {
    type Error = u16;
    fn try_from(n: u16) -> Result<EventType, u16> {
        EventType::ALL.iter().copied().find(|t| *t as u16 == n).ok_or(n)
    }
}

impl Event {
    /// The body bytes, in the current version of the event's type.
    pub fn encode_body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        self.encode_body_into(&mut out);
        out
    }
}
