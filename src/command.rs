//! Commands: what someone asks the ledger to record, before the rules have looked at it.
//!
//! Commands are the input side of [`crate::decide`]: the CLI's flags, the import document and (later)
//! request bodies map onto them. They are not the stored events: [`crate::decide::decide`] fills in
//! what the state knows (the starting status, the status or lead being replaced, today's date) and
//! builds the event. A stored format can therefore change without changing a flag or a request body.

use crate::date::Date;
use crate::ids::{ActorId, AreaId, Code, ItemId, SourceId, StreamVersion};
use crate::keys::PublicKey;
use crate::vocab::{Kind, Role, SourceKind, Vocabulary};

/// What someone asks the ledger to record.
#[derive(Clone, Debug, PartialEq)]
#[allow(missing_docs)]
pub enum Command {
    /// Open an empty ledger (record 0).
    Open(OpenLedger),
    RegisterActor(RegisterActor),
    RegisterArea(RegisterArea),
    RecordSource(RecordSource),
    /// Record a commitment; it starts in the vocabulary's status for its kind.
    RecordCommitment(NewCommitment),
    /// Report progress; `on` defaults to today.
    ReportProgress {
        item: ItemId,
        text: String,
        on: Option<Date>,
        evidence: Option<String>,
    },
    /// Change an item's status; the status it leaves is filled in from the state.
    ChangeStatus {
        item: ItemId,
        to: Code,
        reason: String,
        on: Option<Date>,
    },
    RecordIndicator(RecordIndicator),
    Amend(Amend),
    /// Give an item a new lead (and partners); the lead it leaves is filled in from the state.
    Reassign {
        item: ItemId,
        lead: ActorId,
        partners: Option<Vec<ActorId>>,
        reason: String,
    },
    Correct(Correct),
    RecordFeedback(RecordFeedback),
    Categorize(Categorize),
    /// Register a signing key for an actor (its first, or a new one replacing the old); without a
    /// public key, the ledger makes a key pair and keeps the private key in its `keys/` folder.
    RegisterKey {
        actor: ActorId,
        public_key: Option<PublicKey>,
    },
    /// Retire an actor's current key; the key it retires is filled in from the state.
    RetireKey {
        actor: ActorId,
        reason: Option<String>,
    },
}

impl Command {
    /// The item the command is about, if any (its state must be at hand to decide the command).
    pub fn item(&self) -> Option<&ItemId> {
        match self {
            Command::RecordCommitment(c) => Some(&c.id),
            Command::ReportProgress { item, .. }
            | Command::ChangeStatus { item, .. }
            | Command::Reassign { item, .. } => Some(item),
            Command::RecordIndicator(c) => Some(&c.item),
            Command::Amend(c) => Some(&c.item),
            Command::Correct(c) => Some(&c.item),
            Command::Open(_)
            | Command::RegisterActor(_)
            | Command::RegisterArea(_)
            | Command::RecordSource(_)
            | Command::RecordFeedback(_)
            | Command::Categorize(_)
            | Command::RegisterKey { .. }
            | Command::RetireKey { .. } => None,
        }
    }

    /// Whether the item's lead appends the command when no actor is named (progress, status changes,
    /// figures and corrections); the administrator appends the rest.
    pub fn lead_appends(&self) -> bool {
        matches!(
            self,
            Command::ReportProgress { .. }
                | Command::ChangeStatus { .. }
                | Command::RecordIndicator(_)
                | Command::Correct(_)
        )
    }
}

/// Record 0: the ledger's identity and vocabularies.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct OpenLedger {
    pub title: String,
    pub origin: String,
    pub utc_offset_minutes: i32,
    pub admin: ActorId,
    pub admin_name: String,
    pub vocabulary: Vocabulary,
    /// The administrator's public key: a ledger opened with one is signed (every record carries
    /// its actor's signature).
    pub admin_key: Option<PublicKey>,
}

impl OpenLedger {
    /// An origin for a new ledger when none is given: unique (from the title and the time), under a
    /// name that says it is local. The origin is the first line of the ledger's checkpoints.
    pub fn default_origin(title: &str) -> String {
        let seed = format!("{title}\n{}", crate::date::Timestamp::now().0);
        format!("commitment-ledger.local/{}", &blake3::hash(seed.as_bytes()).to_hex()[..12])
    }
}

/// Register an actor.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct RegisterActor {
    pub id: ActorId,
    pub name: String,
    pub name_en: Option<String>,
    pub role: Role,
    /// Its public key (required in a signed ledger).
    pub public_key: Option<PublicKey>,
}

/// Register a cooperation area.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct RegisterArea {
    pub id: AreaId,
    pub name: String,
    pub name_en: Option<String>,
}

impl RegisterArea {
    /// The seed reply's twelve areas ([`crate::vocab::SEED_AREAS`]), as `init` registers them.
    pub fn seed() -> Vec<RegisterArea> {
        crate::vocab::SEED_AREAS
            .iter()
            .map(|(id, zh, en)| RegisterArea {
                id: AreaId::new(*id).expect("seed area ids are valid"),
                name: zh.to_string(),
                name_en: Some(en.to_string()),
            })
            .collect()
    }
}

/// Record a source document.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct RecordSource {
    pub id: SourceId,
    pub kind: SourceKind,
    pub number: Option<String>,
    pub title: String,
    pub title_en: Option<String>,
    pub session: Option<String>,
    pub date: Date,
    pub issuer: ActorId,
    pub addressee: Option<ActorId>,
    pub contributors: Vec<ActorId>,
    /// `blake3:<64 hex digits>` of the signed text ([`source_digest`]).
    pub digest: Option<String>,
}

impl RecordSource {
    /// Whether a recorded source says exactly what this command says (an import of the same document).
    pub fn matches(&self, e: &crate::event::SourceRecorded) -> bool {
        self.id == e.id
            && self.kind == e.kind
            && self.number == e.number
            && self.title == e.title
            && self.title_en == e.title_en
            && self.session == e.session
            && self.date == e.date
            && self.issuer == e.issuer
            && self.addressee == e.addressee
            && self.contributors == e.contributors
            && self.digest == e.digest
    }
}

/// The digest a source records of its signed text: `blake3:` and 64 lowercase hex digits.
pub fn source_digest(text: &[u8]) -> String {
    format!("blake3:{}", blake3::hash(text).to_hex())
}

/// A commitment as the recorder gives it (the status is derived from its kind).
#[derive(Clone, Debug, PartialEq)]
#[allow(missing_docs)]
pub struct NewCommitment {
    pub id: ItemId,
    pub source: Option<SourceId>,
    pub section: Option<String>,
    pub area: AreaId,
    pub lead: ActorId,
    pub partners: Vec<ActorId>,
    pub title: String,
    pub title_en: Option<String>,
    pub text: String,
    pub kind: Kind,
    pub on: Option<Date>,
    pub due: Option<Date>,
}

/// Record a figure.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct RecordIndicator {
    pub item: ItemId,
    pub name: String,
    pub value: String,
    pub unit: Option<String>,
    pub approximate: bool,
    pub as_of: Option<Date>,
}

/// Amend an item's fields, with a reason.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Amend {
    pub item: ItemId,
    pub title: Option<String>,
    pub title_en: Option<String>,
    pub text: Option<String>,
    pub due: Option<Date>,
    pub area: Option<AreaId>,
    pub reason: String,
}

/// Correct an earlier entry of an item.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Correct {
    pub item: ItemId,
    pub entry: StreamVersion,
    pub text: Option<String>,
    pub value: Option<String>,
    pub reason: String,
}

/// The addressee's verdict on a reply.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct RecordFeedback {
    pub source: SourceId,
    pub verdict: Code,
    pub text: Option<String>,
    pub on: Option<Date>,
}

/// Put a reply in a handling category.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Categorize {
    pub source: SourceId,
    pub category: Code,
    pub reason: Option<String>,
}
