//! Summaries by area, by department and by source: a pure fold over items, computed for a given day
//! (overdue and "days since last update" depend on it).

use crate::date::Day;
use crate::ids::{ActorId, AreaId, Code, SourceId};
use crate::state::{ItemState, Registry};
use crate::vocab::Vocabulary;
use serde::Serialize;
use std::collections::BTreeMap;

/// Whether an item is overdue on `today`: due before today and not closed (delivered or dropped).
pub fn is_overdue(item: &ItemState, vocab: &Vocabulary, today: Day) -> bool {
    let closed = vocab.status(&item.core.status).is_some_and(|s| s.closed);
    !closed && item.due.is_some_and(|d| d.last_day() < today)
}

/// Items of one area.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AreaSummary {
    /// The area.
    pub area: Option<AreaId>,
    /// Its name.
    pub name: String,
    /// Its English name.
    pub name_en: Option<String>,
    /// Items in it.
    pub items: u64,
    /// Items per status code.
    pub by_status: BTreeMap<Code, u64>,
    /// Overdue items.
    pub overdue: u64,
}

/// One department's (or counterpart's) items.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DepartmentSummary {
    /// The actor.
    pub actor: Option<ActorId>,
    /// Its name.
    pub name: String,
    /// Its English name.
    pub name_en: Option<String>,
    /// Items it leads.
    pub led: u64,
    /// Items it helps with.
    pub partnered: u64,
    /// Items it leads, per status code.
    pub by_status: BTreeMap<Code, u64>,
    /// Items it leads that are overdue.
    pub overdue: u64,
    /// The latest day one of its led items was updated.
    pub last_update: Option<String>,
    /// Days from that update to the summary's day.
    pub days_since_update: Option<i64>,
}

/// One source's items, their categories and the feedback on it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SourceSummary {
    /// The source.
    pub source: Option<SourceId>,
    /// Its title.
    pub title: String,
    /// Items recorded from it.
    pub items: u64,
    /// Items per reply category their status counts towards (A–D).
    pub by_category: BTreeMap<Code, u64>,
    /// The category the reply was given, if any.
    pub category: Option<Code>,
    /// The latest verdict of the addressee, if any.
    pub verdict: Option<Code>,
    /// Overdue items.
    pub overdue: u64,
}

/// Every summary, for one day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// The day overdue and days-since are computed for.
    pub day: String,
    /// Items in all.
    pub items: u64,
    /// Items per status.
    pub by_status: BTreeMap<Code, u64>,
    /// Overdue items in all.
    pub overdue: u64,
    /// By area, in id order.
    pub areas: Vec<AreaSummary>,
    /// By department: those leading most items first, then those helping.
    pub departments: Vec<DepartmentSummary>,
    /// By source, in id order.
    pub sources: Vec<SourceSummary>,
}

/// Folds items into a [`Summary`].
#[derive(Debug)]
pub struct SummaryBuilder<'a> {
    registry: &'a Registry,
    vocab: &'a Vocabulary,
    today: Day,
    summary: Summary,
    areas: BTreeMap<AreaId, AreaSummary>,
    departments: BTreeMap<ActorId, (DepartmentSummary, Option<Day>)>,
    sources: BTreeMap<SourceId, SourceSummary>,
}

impl<'a> SummaryBuilder<'a> {
    /// A builder for a ledger's registry and vocabulary, as of `today`.
    pub fn new(registry: &'a Registry, vocab: &'a Vocabulary, today: Day) -> SummaryBuilder<'a> {
        let mut areas = BTreeMap::new();
        for (id, a) in &registry.areas {
            areas.insert(
                id.clone(),
                AreaSummary {
                    area: Some(id.clone()),
                    name: a.area.name.clone(),
                    name_en: a.area.name_en.clone(),
                    ..AreaSummary::default()
                },
            );
        }
        let mut sources = BTreeMap::new();
        for (id, s) in &registry.sources {
            sources.insert(
                id.clone(),
                SourceSummary {
                    source: Some(id.clone()),
                    title: s.source.title.clone(),
                    category: s.category.as_ref().map(|(c, _)| c.category.clone()),
                    verdict: s.feedback.last().map(|f| f.verdict.clone()),
                    ..SourceSummary::default()
                },
            );
        }
        SummaryBuilder {
            registry,
            vocab,
            today,
            summary: Summary { day: today.to_string(), ..Summary::default() },
            areas,
            departments: BTreeMap::new(),
            sources,
        }
    }

    fn department(&mut self, id: &ActorId) -> &mut (DepartmentSummary, Option<Day>) {
        let registry = self.registry;
        self.departments.entry(id.clone()).or_insert_with(|| {
            let actor = registry.actors.get(id);
            (
                DepartmentSummary {
                    actor: Some(id.clone()),
                    name: actor.map_or_else(|| id.to_string(), |a| a.name.clone()),
                    name_en: actor.and_then(|a| a.name_en.clone()),
                    ..DepartmentSummary::default()
                },
                None,
            )
        })
    }

    /// Counts one item.
    pub fn add(&mut self, item: &ItemState) {
        let status = item.core.status.clone();
        let overdue = is_overdue(item, self.vocab, self.today);
        let category = self.vocab.status(&status).map(|s| s.category.clone());
        let offset = self.registry.utc_offset();
        self.summary.items += 1;
        *self.summary.by_status.entry(status.clone()).or_default() += 1;
        self.summary.overdue += u64::from(overdue);
        if let Some(a) = self.areas.get_mut(&item.core.area) {
            a.items += 1;
            *a.by_status.entry(status.clone()).or_default() += 1;
            a.overdue += u64::from(overdue);
        }
        if let Some(s) = item.source.as_ref().and_then(|s| self.sources.get_mut(s)) {
            s.items += 1;
            s.overdue += u64::from(overdue);
            if let Some(c) = category {
                *s.by_category.entry(c).or_default() += 1;
            }
        }
        let updated = item.updated.day(offset);
        let (lead, last) = self.department(&item.core.lead);
        lead.led += 1;
        *lead.by_status.entry(status).or_default() += 1;
        lead.overdue += u64::from(overdue);
        if last.is_none_or(|d| d < updated) {
            *last = Some(updated);
        }
        for p in &item.core.partners {
            self.department(p).0.partnered += 1;
        }
    }

    /// The summary.
    pub fn finish(mut self) -> Summary {
        self.summary.areas = self.areas.into_values().collect();
        let today = self.today;
        self.summary.departments = self
            .departments
            .into_values()
            .map(|(mut d, last)| {
                d.last_update = last.map(|l| l.to_string());
                d.days_since_update = last.map(|l| l.days_until(today));
                d
            })
            .collect();
        // Leads first (most items first), then helpers; ties by id.
        self.summary.departments.sort_by(|a, b| (b.led, b.partnered, &a.actor).cmp(&(a.led, a.partnered, &b.actor)));
        self.summary.sources = self.sources.into_values().collect();
        self.summary
    }
}
