//! JSON views: the shapes readers and scripts see (`--json`, exports, the HTTP service). They are
//! built from the stored types but are not stored, so they may be shaped for reading.

use crate::date::{Date, Day};
use crate::event::Event;
use crate::ids::{ActorId, AreaId, Code, ItemId, SourceId};
use crate::record::{Hash, Record};
use crate::state::{Correction, Indicator, ItemState, Progress, Registry};
use crate::summary::is_overdue;
use crate::vocab::Vocabulary;
use base64::Engine as _;
use serde::Serialize;

/// A record as JSON, as `log --json`, `history --json` and export bundles write it: every header
/// field, the event's fields, and in bundles the stored bytes (base64). Field order is fixed, so a
/// bundle line is a canonical function of the record (see `schema/record.schema.json`).
#[derive(Debug, Clone, Serialize)]
pub struct RecordJson<'a> {
    /// Position.
    pub seq: u64,
    /// Hash of the stored bytes.
    pub hash: Hash,
    /// Link to the previous record.
    pub prev: Hash,
    /// Acceptance time, RFC 3339 in the ledger's UTC offset.
    pub time: String,
    /// Acceptance time in microseconds since the epoch.
    pub time_us: i64,
    /// Who appended it.
    pub actor: &'a str,
    /// Its stream.
    pub stream: String,
    /// Its version in the stream.
    pub stream_version: u64,
    /// The stream's previous record.
    pub stream_prev: Option<u64>,
    /// The event type's name.
    #[serde(rename = "type")]
    pub event_type: &'static str,
    /// The event type's schema version.
    pub version: u16,
    /// The event's fields.
    pub event: EventFields<'a>,
    /// The stored bytes, base64 (standard alphabet, padded); in bundles only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<String>,
}

impl<'a> RecordJson<'a> {
    /// The JSON form of a record at a UTC offset; with `bytes`, as a bundle line.
    pub fn new(rec: &'a Record, hash: Hash, utc_offset: i32, bytes: Option<&[u8]>) -> RecordJson<'a> {
        RecordJson {
            seq: rec.seq.0,
            hash,
            prev: rec.prev,
            time: rec.time.format(utc_offset),
            time_us: rec.time.0,
            actor: rec.actor.as_str(),
            stream: rec.stream.to_text(),
            stream_version: rec.stream_version.0,
            stream_prev: rec.stream_prev.map(|s| s.0),
            event_type: rec.event.event_type().name(),
            version: rec.event.event_type().version(),
            event: EventFields(&rec.event),
            bytes: bytes.map(|b| base64::engine::general_purpose::STANDARD.encode(b)),
        }
    }
}

/// Serializes an event's fields (the body struct), without copying them.
#[derive(Debug, Clone, Copy)]
pub struct EventFields<'a>(pub &'a Event);

impl Serialize for EventFields<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Event::LedgerOpened(e) => e.serialize(s),
            Event::ActorRegistered(e) => e.serialize(s),
            Event::AreaRegistered(e) => e.serialize(s),
            Event::SourceRecorded(e) => e.serialize(s),
            Event::CommitmentRecorded(e) => e.serialize(s),
            Event::ProgressReported(e) => e.serialize(s),
            Event::StatusChanged(e) => e.serialize(s),
            Event::IndicatorRecorded(e) => e.serialize(s),
            Event::CommitmentAmended(e) => e.serialize(s),
            Event::CommitmentReassigned(e) => e.serialize(s),
            Event::EntryCorrected(e) => e.serialize(s),
            Event::FeedbackRecorded(e) => e.serialize(s),
            Event::SourceCategorized(e) => e.serialize(s),
        }
    }
}

/// An event's fields as JSON.
pub fn event_json(e: &Event) -> serde_json::Value {
    serde_json::to_value(EventFields(e)).unwrap_or(serde_json::Value::Null)
}

/// A one-line description of an event, for tables and histories.
pub fn describe(e: &Event) -> String {
    match e {
        Event::LedgerOpened(e) => format!("ledger opened: {} ({})", e.title, e.origin),
        Event::ActorRegistered(e) => format!("actor {} registered: {} ({})", e.id, e.name, e.role.as_str()),
        Event::AreaRegistered(e) => format!("area {} registered: {}", e.id, e.name),
        Event::SourceRecorded(e) => format!("source {} recorded: {} ({})", e.id, e.title, e.date),
        Event::CommitmentRecorded(e) => format!("recorded ({}, {}): {}", e.kind.as_str(), e.status, e.title),
        Event::ProgressReported(e) => format!("progress on {}: {}", e.on, e.text),
        Event::StatusChanged(e) => format!("status {} → {}: {}", e.from, e.to, e.reason),
        Event::IndicatorRecorded(e) => format!(
            "figure {}: {}{}{}{}",
            e.name,
            if e.approximate { "about " } else { "" },
            e.value,
            e.unit.as_deref().map(|u| format!(" {u}")).unwrap_or_default(),
            e.as_of.map(|d| format!(" as of {d}")).unwrap_or_default()
        ),
        Event::CommitmentAmended(e) => {
            let mut fields = Vec::new();
            if e.title.is_some() {
                fields.push("title");
            }
            if e.title_en.is_some() {
                fields.push("title-en");
            }
            if e.text.is_some() {
                fields.push("text");
            }
            if e.due.is_some() {
                fields.push("due");
            }
            if e.area.is_some() {
                fields.push("area");
            }
            format!("amended {}: {}", fields.join(", "), e.reason)
        }
        Event::CommitmentReassigned(e) => format!("reassigned {} → {}: {}", e.from, e.lead, e.reason),
        Event::EntryCorrected(e) => format!(
            "corrected entry {}{}{}: {}",
            e.entry,
            e.text.as_deref().map(|t| format!(" text \"{t}\"")).unwrap_or_default(),
            e.value.as_deref().map(|v| format!(" value {v}")).unwrap_or_default(),
            e.reason
        ),
        Event::FeedbackRecorded(e) => format!(
            "feedback on {}: {}{}",
            e.source,
            e.verdict,
            e.text.as_deref().map(|t| format!(" — {t}")).unwrap_or_default()
        ),
        Event::SourceCategorized(e) => format!(
            "{} put in category {}{}",
            e.source,
            e.category,
            e.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default()
        ),
    }
}

/// An item as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct ItemView {
    /// Its id.
    pub id: ItemId,
    /// Title.
    pub title: String,
    /// English title.
    pub title_en: Option<String>,
    /// Wording.
    pub text: String,
    /// Source document.
    pub source: Option<SourceId>,
    /// Section of the source.
    pub section: Option<String>,
    /// Area.
    pub area: AreaId,
    /// Lead.
    pub lead: ActorId,
    /// Partners.
    pub partners: Vec<ActorId>,
    /// How it was stated: planned, ongoing or achieved.
    pub kind: &'static str,
    /// Status code.
    pub status: Code,
    /// Status label (English).
    pub status_label: Option<String>,
    /// Status label (Chinese).
    pub status_label_zh: Option<String>,
    /// The reply category its status counts towards.
    pub category: Option<Code>,
    /// The OGP completion level of its status.
    pub completion: Option<Code>,
    /// The reason for its status.
    pub status_reason: Option<String>,
    /// When done or started, as stated.
    pub on: Option<Date>,
    /// When due.
    pub due: Option<Date>,
    /// Whether it is overdue on `day`.
    pub overdue: bool,
    /// The day `overdue` was computed for.
    pub day: String,
    /// Latest progress.
    pub latest_progress: Option<Progress>,
    /// Number of progress reports.
    pub progress_reports: u64,
    /// Figures with their history.
    pub indicators: Vec<Indicator>,
    /// Corrections.
    pub corrections: Vec<Correction>,
    /// Number of amendments.
    pub amendments: u64,
    /// Number of reassignments.
    pub reassignments: u64,
    /// When recorded.
    pub created: String,
    /// When last updated.
    pub updated: String,
    /// Seq of its last record.
    pub last_seq: Option<u64>,
    /// Number of records in its stream.
    pub records: u64,
}

impl ItemView {
    /// The view of an item, with overdue computed for `today`.
    pub fn new(item: &ItemState, registry: &Registry, vocab: &Vocabulary, today: Day) -> ItemView {
        let status = vocab.status(&item.core.status);
        let offset = registry.utc_offset();
        ItemView {
            id: item.id.clone(),
            title: item.title.clone(),
            title_en: item.title_en.clone(),
            text: item.text.clone(),
            source: item.source.clone(),
            section: item.section.clone(),
            area: item.core.area.clone(),
            lead: item.core.lead.clone(),
            partners: item.core.partners.clone(),
            kind: item.kind.as_str(),
            status: item.core.status.clone(),
            status_label: status.map(|s| s.term.label.clone()),
            status_label_zh: status.map(|s| s.term.label_zh.clone()),
            category: status.map(|s| s.category.clone()),
            completion: status.map(|s| s.completion.clone()),
            status_reason: item.status_reason.clone(),
            on: item.on,
            due: item.due,
            overdue: is_overdue(item, vocab, today),
            day: today.to_string(),
            latest_progress: item.latest_progress.clone(),
            progress_reports: item.progress_reports,
            indicators: item.indicators.clone(),
            corrections: item.corrections.clone(),
            amendments: item.amendments,
            reassignments: item.reassignments,
            created: item.created.format(offset),
            updated: item.updated.format(offset),
            last_seq: item.core.pos.last.map(|s| s.0),
            records: item.core.pos.next.0,
        }
    }
}

/// Which items a listing shows.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    /// Only this area.
    pub area: Option<AreaId>,
    /// Only items this actor leads.
    pub lead: Option<ActorId>,
    /// Only items this actor leads or helps with.
    pub involving: Option<ActorId>,
    /// Only this status.
    pub status: Option<Code>,
    /// Only items from this source.
    pub source: Option<SourceId>,
    /// Only overdue items.
    pub overdue: bool,
}

impl ItemFilter {
    /// Whether an item passes, on `today`.
    pub fn matches(&self, item: &ItemState, vocab: &Vocabulary, today: Day) -> bool {
        self.area.as_ref().is_none_or(|a| a == &item.core.area)
            && self.lead.as_ref().is_none_or(|l| l == &item.core.lead)
            && self.involving.as_ref().is_none_or(|a| item.core.involves(a))
            && self.status.as_ref().is_none_or(|s| s == &item.core.status)
            && self.source.as_ref().is_none_or(|s| item.source.as_ref() == Some(s))
            && (!self.overdue || is_overdue(item, vocab, today))
    }
}
