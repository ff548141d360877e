//! Import documents: one source and the commitments it contains, in TOML or JSON
//! (`schema/import.schema.json`), turned into one all-or-nothing batch of commands.
//!
//! A document is first checked against the JSON Schema (every violation is reported with the path of
//! the field at fault), then planned against the ledger: new actors, areas, the source, commitments
//! and their figures are appended; what the ledger already holds unchanged is skipped, so importing
//! the same document twice appends nothing. A changed version of an imported document appends
//! amendments, reassignments and new figures, with the reason its `[revision]` gives; without a
//! reason, or when it changes what cannot be amended (an item's kind, source, section or start date,
//! the source's own fields) or drops an item, it is refused whole.

use crate::command::{Amend, RecordIndicator, RecordSource, RegisterActor, RegisterArea};
use crate::command::{Command, NewCommitment};
use crate::date::Date;
use crate::ids::{ActorId, AreaId, IdError, ItemId, SourceId};
use crate::ledger::{Ledger, LedgerError};
use crate::record::Head;
use crate::state::ItemState;
use crate::store::Store;
use crate::vocab::{Kind, Role, SourceKind};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

/// The import document schema, as published in `schema/import.schema.json`.
pub const SCHEMA: &str = include_str!("../schema/import.schema.json");

/// The `format` every version-1 document declares.
pub const FORMAT: &str = "commitment-ledger import v1";

static VALIDATOR: LazyLock<jsonschema::Validator> = LazyLock::new(|| {
    let schema: serde_json::Value = serde_json::from_str(SCHEMA).expect("the embedded schema is JSON");
    jsonschema::validator_for(&schema).expect("the embedded schema is a valid JSON Schema")
});

/// Why a document was refused. Nothing is written for any of them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The text is not TOML or JSON.
    #[error("{format} syntax error: {message}")]
    Syntax {
        /// "TOML" or "JSON".
        format: &'static str,
        /// The parser's message, with the line and column.
        message: String,
    },
    /// The document breaks the schema; one entry per violation: the path of the field and the rule.
    #[error("the document does not match schema/import.schema.json:\n{}", .0.join("\n"))]
    Schema(Vec<String>),
    /// A field passed the schema but its value is impossible (a date that does not exist, an id
    /// declared twice, a reference to nothing).
    #[error("{path}: {why}")]
    Invalid {
        /// The path of the field at fault.
        path: String,
        /// What is wrong.
        why: String,
    },
    /// The document differs from what was imported before in a way that cannot be appended.
    #[error("{path}: {why}")]
    Conflict {
        /// The path of the field at fault.
        path: String,
        /// What differs and what to do.
        why: String,
    },
    /// The ledger refused a command of the batch (the path names the document entry it came from).
    #[error("{path}: {source}")]
    Refused {
        /// The document entry.
        path: String,
        /// The ledger's reason.
        source: Box<LedgerError>,
    },
    /// The ledger failed (storage); nothing was written.
    #[error(transparent)]
    Ledger(Box<LedgerError>),
}

/// A version-1 import document.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[allow(missing_docs)]
pub struct Document {
    pub format: String,
    pub source: SourceDoc,
    #[serde(default)]
    pub actors: Vec<ActorDoc>,
    #[serde(default)]
    pub areas: Vec<AreaDoc>,
    pub commitments: Vec<CommitmentDoc>,
    pub revision: Option<RevisionDoc>,
}

/// The source document's own facts.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[allow(missing_docs)]
pub struct SourceDoc {
    pub id: String,
    pub kind: String,
    pub number: Option<String>,
    pub title: String,
    pub title_en: Option<String>,
    pub session: Option<String>,
    pub date: String,
    pub issuer: String,
    pub addressee: Option<String>,
    #[serde(default)]
    pub contributors: Vec<String>,
    pub digest: Option<String>,
}

/// An actor the document names.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[allow(missing_docs)]
pub struct ActorDoc {
    pub id: String,
    pub name: String,
    pub name_en: Option<String>,
    pub role: String,
}

/// An area the document uses.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[allow(missing_docs)]
pub struct AreaDoc {
    pub id: String,
    pub name: String,
    pub name_en: Option<String>,
}

/// A commitment of the document.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[allow(missing_docs)]
pub struct CommitmentDoc {
    pub id: String,
    pub section: Option<String>,
    pub area: String,
    pub lead: String,
    #[serde(default)]
    pub partners: Vec<String>,
    pub kind: String,
    pub on: Option<String>,
    pub due: Option<String>,
    pub title: String,
    pub title_en: Option<String>,
    pub text: String,
    #[serde(default)]
    pub figures: Vec<FigureDoc>,
}

/// A figure a commitment states.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[allow(missing_docs)]
pub struct FigureDoc {
    pub name: String,
    pub value: serde_json::Value,
    pub unit: Option<String>,
    #[serde(default)]
    pub approximate: bool,
    pub as_of: Option<String>,
}

/// Why a changed document is being re-imported.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[allow(missing_docs)]
pub struct RevisionDoc {
    pub reason: String,
}

/// Parses a document: TOML unless it starts with `{` (JSON), then checks it against the schema.
pub fn parse(text: &str) -> Result<Document, ImportError> {
    let value: serde_json::Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| ImportError::Syntax { format: "JSON", message: e.to_string() })?
    } else {
        let t: toml::Value = toml::from_str(text)
            .map_err(|e| ImportError::Syntax { format: "TOML", message: e.to_string().trim().to_string() })?;
        serde_json::to_value(t).map_err(|e| ImportError::Syntax { format: "TOML", message: e.to_string() })?
    };
    let violations: Vec<String> = VALIDATOR
        .iter_errors(&value)
        .map(|e| {
            let path = e.instance_path().to_string();
            let path = if path.is_empty() { "(document)".to_string() } else { describe_pointer(&value, &path) };
            format!("- {path}: {e}")
        })
        .collect();
    if !violations.is_empty() {
        return Err(ImportError::Schema(violations));
    }
    serde_json::from_value(value).map_err(|e| ImportError::Schema(vec![format!("- (document): {e}")]))
}

/// `/commitments/3/due` → `commitments[3] (0771-fin-bonds).due`: the pointer in a form people read,
/// with the commitment's id when it has one.
fn describe_pointer(doc: &serde_json::Value, pointer: &str) -> String {
    let mut out = String::new();
    let mut at = doc;
    for part in pointer.trim_start_matches('/').split('/') {
        let part = part.replace("~1", "/").replace("~0", "~");
        match (at, part.parse::<usize>()) {
            (serde_json::Value::Array(a), Ok(i)) => {
                out.push_str(&format!("[{i}]"));
                at = &a[i.min(a.len().saturating_sub(1))];
                if let Some(id) = at.get("id").and_then(|v| v.as_str()) {
                    out.push_str(&format!(" ({id})"));
                }
            }
            _ => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&part);
                at = at.get(&part).unwrap_or(&serde_json::Value::Null);
            }
        }
    }
    out
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The ledger already holds the document exactly: nothing was appended.
    Unchanged,
    /// Records appended, and how many of each kind.
    Appended {
        /// The records, in order.
        records: Vec<Head>,
        /// Counts by what was appended ("commitments", "figures", "amendments", …).
        counts: BTreeMap<&'static str, usize>,
    },
}

/// A planned command and the document entry it comes from.
#[derive(Debug)]
struct Step {
    path: String,
    what: &'static str,
    command: Command,
}

fn id<T: std::str::FromStr<Err = IdError>>(path: impl Fn() -> String, s: &str) -> Result<T, ImportError> {
    s.parse().map_err(|e: IdError| ImportError::Invalid { path: path(), why: format!("{s:?} {e}") })
}

fn date(path: impl Fn() -> String, s: &Option<String>) -> Result<Option<Date>, ImportError> {
    s.as_deref()
        .map(|s| Date::parse(s).map_err(|e| ImportError::Invalid { path: path(), why: e.to_string() }))
        .transpose()
}

fn decimal(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Imports a parsed document as `actor`: plans it against the ledger, then appends the whole plan in
/// one durable batch.
pub fn import<S: Store>(ledger: &mut Ledger<S>, actor: &ActorId, doc: &Document) -> Result<Outcome, ImportError> {
    let steps = plan(ledger, doc)?;
    if steps.is_empty() {
        return Ok(Outcome::Unchanged);
    }
    let mut counts = BTreeMap::new();
    for s in &steps {
        *counts.entry(s.what).or_insert(0) += 1;
    }
    let paths: Vec<String> = steps.iter().map(|s| s.path.clone()).collect();
    let batch = steps.into_iter().map(|s| (actor.clone(), s.command)).collect();
    match ledger.append_batch(batch) {
        Ok(records) => Ok(Outcome::Appended { records, counts }),
        Err(e @ LedgerError::Rejected { index, .. }) => {
            Err(ImportError::Refused { path: paths.get(index).cloned().unwrap_or_default(), source: Box::new(e) })
        }
        Err(e) => Err(ImportError::Ledger(Box::new(e))),
    }
}

/// The commands that bring the ledger to the document, or why it cannot be.
fn plan<S: Store>(ledger: &mut Ledger<S>, doc: &Document) -> Result<Vec<Step>, ImportError> {
    let mut steps = Vec::new();
    let registry = ledger.registry().clone();
    let reason = doc.revision.as_ref().map(|r| r.reason.clone());

    let mut declared = BTreeSet::new();
    for (i, a) in doc.actors.iter().enumerate() {
        let path = || format!("actors[{i}] ({})", a.id);
        let aid: ActorId = id(path, &a.id)?;
        if !declared.insert(aid.clone()) {
            return Err(ImportError::Invalid { path: path(), why: "is declared twice".into() });
        }
        let role =
            Role::parse(&a.role).ok_or_else(|| ImportError::Invalid { path: path(), why: "unknown role".into() })?;
        match registry.actors.get(&aid) {
            None => steps.push(Step {
                path: path(),
                what: "actors",
                command: Command::RegisterActor(RegisterActor {
                    id: aid,
                    name: a.name.clone(),
                    name_en: a.name_en.clone(),
                    role,
                    public_key: None,
                }),
            }),
            Some(known) if known.name == a.name && known.role == role => {}
            Some(known) => {
                return Err(ImportError::Conflict {
                    path: path(),
                    why: format!(
                        "the ledger has {} as {:?} ({}); the document says {:?} ({})",
                        aid,
                        known.name,
                        known.role.as_str(),
                        a.name,
                        a.role
                    ),
                });
            }
        }
    }
    let mut declared_areas = BTreeSet::new();
    for (i, a) in doc.areas.iter().enumerate() {
        let path = || format!("areas[{i}] ({})", a.id);
        let aid: AreaId = id(path, &a.id)?;
        if !declared_areas.insert(aid.clone()) {
            return Err(ImportError::Invalid { path: path(), why: "is declared twice".into() });
        }
        match registry.areas.get(&aid) {
            None => steps.push(Step {
                path: path(),
                what: "areas",
                command: Command::RegisterArea(RegisterArea {
                    id: aid,
                    name: a.name.clone(),
                    name_en: a.name_en.clone(),
                }),
            }),
            Some(known) if known.area.name == a.name => {}
            Some(known) => {
                return Err(ImportError::Conflict {
                    path: path(),
                    why: format!("the ledger names area {aid} {:?}; the document says {:?}", known.area.name, a.name),
                });
            }
        }
    }
    let actor_known = |a: &ActorId| registry.actors.contains_key(a) || declared.contains(a);
    let check_actor = |path: &dyn Fn() -> String, a: &str| -> Result<ActorId, ImportError> {
        let aid: ActorId = id(path, a)?;
        if actor_known(&aid) {
            Ok(aid)
        } else {
            Err(ImportError::Invalid {
                path: path(),
                why: format!("unknown actor {a:?}: declare it under [[actors]] or register it first"),
            })
        }
    };

    let s = &doc.source;
    let spath = || "source".to_string();
    let sid: SourceId = id(spath, &s.id)?;
    let source = RecordSource {
        id: sid.clone(),
        kind: SourceKind::parse(&s.kind)
            .ok_or_else(|| ImportError::Invalid { path: spath(), why: "unknown kind".into() })?,
        number: s.number.clone(),
        title: s.title.clone(),
        title_en: s.title_en.clone(),
        session: s.session.clone(),
        date: date(|| "source.date".into(), &Some(s.date.clone()))?.expect("given"),
        issuer: check_actor(&|| "source.issuer".into(), &s.issuer)?,
        addressee: s.addressee.as_deref().map(|a| check_actor(&|| "source.addressee".into(), a)).transpose()?,
        contributors: s
            .contributors
            .iter()
            .enumerate()
            .map(|(i, c)| check_actor(&|| format!("source.contributors[{i}]"), c))
            .collect::<Result<_, _>>()?,
        digest: s.digest.clone(),
    };
    match registry.sources.get(&sid) {
        None => steps.push(Step { path: spath(), what: "sources", command: Command::RecordSource(source) }),
        Some(known) if source.matches(&known.source) => {}
        Some(_) => {
            return Err(ImportError::Conflict {
                path: spath(),
                why: format!("source {sid} was imported with other details; a source's own fields cannot be amended"),
            });
        }
    }

    let area_known = |a: &AreaId| registry.areas.contains_key(a) || declared_areas.contains(a);
    let mut seen = BTreeSet::new();
    for (i, c) in doc.commitments.iter().enumerate() {
        let path = || format!("commitments[{i}] ({})", c.id);
        let field = |f: &'static str| move || format!("commitments[{i}] ({}).{f}", c.id);
        let item_id: ItemId = id(field("id"), &c.id)?;
        if !seen.insert(item_id.clone()) {
            return Err(ImportError::Invalid { path: path(), why: "this id is used by an earlier commitment".into() });
        }
        let area: AreaId = id(field("area"), &c.area)?;
        if !area_known(&area) {
            return Err(ImportError::Invalid {
                path: field("area")(),
                why: format!("unknown area {area:?}: declare it under [[areas]] or register it first"),
            });
        }
        let lead = check_actor(&field("lead"), &c.lead)?;
        let partners = c
            .partners
            .iter()
            .enumerate()
            .map(|(j, p)| check_actor(&|| format!("commitments[{i}] ({}).partners[{j}]", c.id), p))
            .collect::<Result<Vec<_>, _>>()?;
        let kind = Kind::parse(&c.kind)
            .ok_or_else(|| ImportError::Invalid { path: field("kind")(), why: "unknown kind".into() })?;
        let on = date(field("on"), &c.on)?;
        let due = date(field("due"), &c.due)?;
        let figures = c
            .figures
            .iter()
            .enumerate()
            .map(|(j, f)| {
                Ok(RecordIndicator {
                    item: item_id.clone(),
                    name: f.name.clone(),
                    value: decimal(&f.value),
                    unit: f.unit.clone(),
                    approximate: f.approximate,
                    as_of: date(|| format!("commitments[{i}] ({}).figures[{j}].as_of", c.id), &f.as_of)?,
                })
            })
            .collect::<Result<Vec<_>, ImportError>>()?;
        let existing = ledger.item(&item_id).map_err(|e| ImportError::Ledger(Box::new(e)))?;
        match existing {
            None => {
                steps.push(Step {
                    path: path(),
                    what: "commitments",
                    command: Command::RecordCommitment(NewCommitment {
                        id: item_id.clone(),
                        source: Some(sid.clone()),
                        section: c.section.clone(),
                        area,
                        lead,
                        partners,
                        title: c.title.clone(),
                        title_en: c.title_en.clone(),
                        text: c.text.clone(),
                        kind,
                        on,
                        due,
                    }),
                });
                for (j, f) in figures.into_iter().enumerate() {
                    steps.push(Step {
                        path: format!("commitments[{i}] ({}).figures[{j}]", c.id),
                        what: "figures",
                        command: Command::RecordIndicator(f),
                    });
                }
            }
            Some(item) => {
                let wanted = Wanted {
                    source: &sid,
                    section: &c.section,
                    kind,
                    on,
                    title: &c.title,
                    title_en: &c.title_en,
                    text: &c.text,
                    due,
                    area,
                    lead,
                    partners,
                    figures,
                };
                revise(&item, wanted, &reason, &path, &mut steps)?;
            }
        }
    }

    let mut dropped = Vec::new();
    ledger
        .for_each_item(&mut |item| {
            if item.source.as_ref() == Some(&sid) && !seen.contains(&item.id) {
                dropped.push(item.id.to_string());
            }
        })
        .map_err(|e| ImportError::Ledger(Box::new(e)))?;
    if !dropped.is_empty() {
        return Err(ImportError::Conflict {
            path: "commitments".into(),
            why: format!(
                "the document no longer lists {} imported before; commitments are never removed: keep them in the document and change their status to dropped with `commitments status ID dropped --reason …`",
                dropped.join(", ")
            ),
        });
    }
    Ok(steps)
}

/// A commitment as the document states it, for comparison with the ledger's item.
struct Wanted<'a> {
    source: &'a SourceId,
    section: &'a Option<String>,
    kind: Kind,
    on: Option<Date>,
    title: &'a String,
    title_en: &'a Option<String>,
    text: &'a String,
    due: Option<Date>,
    area: AreaId,
    lead: ActorId,
    partners: Vec<ActorId>,
    figures: Vec<RecordIndicator>,
}

/// The steps that bring an imported item to a changed document's version of it.
fn revise(
    item: &ItemState,
    w: Wanted<'_>,
    reason: &Option<String>,
    path: &dyn Fn() -> String,
    steps: &mut Vec<Step>,
) -> Result<(), ImportError> {
    let fixed = [
        ("source", item.source.as_ref() != Some(w.source)),
        ("section", &item.section != w.section),
        ("kind", item.kind != w.kind),
        ("on", item.on != w.on),
    ];
    if let Some((field, _)) = fixed.iter().find(|(_, differs)| *differs) {
        return Err(ImportError::Conflict {
            path: format!("{}.{field}", path()),
            why: format!("differs from the imported item {}; its {field} cannot be amended", item.id),
        });
    }
    let some_if = |differs: bool, v: &String| differs.then(|| v.clone());
    let amend = Amend {
        item: item.id.clone(),
        title: some_if(&item.title != w.title, w.title),
        title_en: match w.title_en {
            Some(t) if item.title_en.as_ref() != Some(t) => Some(t.clone()),
            _ => None,
        },
        text: some_if(&item.text != w.text, w.text),
        due: w.due.filter(|d| item.due != Some(*d)),
        area: (item.core.area != w.area).then(|| w.area.clone()),
        reason: String::new(),
    };
    let amends = amend.title.is_some()
        || amend.title_en.is_some()
        || amend.text.is_some()
        || amend.due.is_some()
        || amend.area.is_some();
    if item.due.is_some() && w.due.is_none() {
        return Err(ImportError::Conflict {
            path: format!("{}.due", path()),
            why: "the imported item has a due date; a due date can be changed but not removed".into(),
        });
    }
    let reassigns = item.core.lead != w.lead || item.core.partners != w.partners;
    let known = |f: &RecordIndicator| {
        item.indicators.iter().any(|ind| {
            ind.name == f.name
                && ind
                    .history
                    .iter()
                    .any(|h| h.value == f.value && h.as_of == f.as_of && h.approximate == f.approximate)
        })
    };
    let new_figures: Vec<RecordIndicator> = w.figures.into_iter().filter(|f| !known(f)).collect();
    if !(amends || reassigns || !new_figures.is_empty()) {
        return Ok(());
    }
    let Some(reason) = reason else {
        return Err(ImportError::Conflict {
            path: path(),
            why: format!(
                "differs from the imported item {}; to append the changes, add [revision] reason = \"…\" to the document",
                item.id
            ),
        });
    };
    if amends {
        steps.push(Step {
            path: path(),
            what: "amendments",
            command: Command::Amend(Amend { reason: reason.clone(), ..amend }),
        });
    }
    if reassigns {
        steps.push(Step {
            path: path(),
            what: "reassignments",
            command: Command::Reassign {
                item: item.id.clone(),
                lead: w.lead,
                partners: (item.core.partners != w.partners).then_some(w.partners),
                reason: reason.clone(),
            },
        });
    }
    for f in new_figures {
        steps.push(Step { path: format!("{}.figures", path()), what: "figures", command: Command::RecordIndicator(f) });
    }
    Ok(())
}
