//! JSON views: the shapes readers and scripts see (`--json`, exports, the HTTP service). They are
//! built from the stored types but are not stored, so they may be shaped for reading.

use crate::date::{Date, Day};
use crate::ids::{ActorId, AreaId, Code, ItemId, SourceId};
use crate::state::{Correction, Indicator, ItemState, Progress, Registry};
use crate::summary::is_overdue;
use crate::vocab::Vocabulary;
use serde::Serialize;

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
