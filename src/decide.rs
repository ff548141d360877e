//! Decide: every rule about what may be appended, as pure functions of the current state.
//!
//! [`decide`] turns a [`Command`] into the event it would append, filling in what the state knows
//! (the starting status, the status or lead being replaced, today's date), then runs [`check`].
//! [`check`] holds every rule and is also what `verify` replays against each stored record, so that a
//! record that was illegal when appended is caught however it got into the log.

use crate::command::Command;
use crate::date::{Date, Day, Timestamp};
use crate::event::{
    ActorRegistered, AreaRegistered, CommitmentAmended, CommitmentReassigned, CommitmentRecorded, EntryCorrected,
    Event, FeedbackRecorded, IndicatorRecorded, LedgerOpened, ProgressReported, SourceCategorized, SourceRecorded,
    StatusChanged,
};
use crate::ids::{ActorId, AreaId, Code, ItemId, SourceId, StreamVersion};
use crate::state::{Facts, ItemCore};
use crate::vocab::Role;

/// Longest name, title or label, in bytes.
pub const MAX_NAME: usize = 512;
/// Longest text (wording, progress, reason, evidence), in bytes.
pub const MAX_TEXT: usize = 16 * 1024;
/// Longest unit, in bytes.
pub const MAX_UNIT: usize = 64;
/// Most partners an item may have.
pub const MAX_PARTNERS: usize = 32;

/// Why a command or a stored event is not allowed. Nothing is written when a command is rejected.
///
/// Over HTTP each is a client error: 404 for the `Unknown*` variants, 409 for `Duplicate`,
/// `IllegalTransition`, `Closed` and `AlreadyOpened`, 403 for `NotAllowed`, 422 for the rest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The ledger has no opening record yet.
    #[error("the ledger is not initialized (run `commitments init` first)")]
    NotOpened,
    /// Record 0 exists already.
    #[error("the ledger is already initialized")]
    AlreadyOpened,
    /// No such actor.
    #[error("unknown actor {0:?} (register it with `commitments actor add`)")]
    UnknownActor(ActorId),
    /// No such area.
    #[error("unknown area {0:?} (register it with `commitments area add`)")]
    UnknownArea(AreaId),
    /// No such source.
    #[error("unknown source {0:?}")]
    UnknownSource(SourceId),
    /// No such item.
    #[error("unknown item {0:?}")]
    UnknownItem(ItemId),
    /// A code that the ledger's vocabulary does not define.
    #[error("unknown {vocabulary} {code:?}; the ledger defines: {known}")]
    UnknownCode {
        /// Which vocabulary.
        vocabulary: &'static str,
        /// The code given.
        code: String,
        /// The codes defined, comma-separated.
        known: String,
    },
    /// The id is taken.
    #[error("{what} {id:?} already exists")]
    Duplicate {
        /// Actor, area, source or item.
        what: &'static str,
        /// The id.
        id: String,
    },
    /// The actor may not do this.
    #[error("{actor} ({role}) may not {action}: {why}")]
    NotAllowed {
        /// Who tried.
        actor: ActorId,
        /// Its role.
        role: &'static str,
        /// What it tried.
        action: &'static str,
        /// The rule.
        why: &'static str,
    },
    /// The status may not move that way.
    #[error("item {item}: status {from} may not change to {to} (allowed: {allowed})")]
    IllegalTransition {
        /// The item.
        item: ItemId,
        /// Current status.
        from: Code,
        /// Requested status.
        to: Code,
        /// Statuses it may move to, comma-separated.
        allowed: String,
    },
    /// The item is closed to updates.
    #[error("item {item} is {status}: it takes no more progress, figures or corrections")]
    Closed {
        /// The item.
        item: ItemId,
        /// Its status.
        status: Code,
    },
    /// A field's value is not allowed.
    #[error("{field}: {why}")]
    InvalidField {
        /// The field (as named on the command line and in documents).
        field: &'static str,
        /// What is wrong.
        why: String,
    },
    /// A stored event's derived field does not match the state it was appended to.
    #[error("{field} says {stored:?} but the state said {actual:?}")]
    Mismatch {
        /// The field.
        field: &'static str,
        /// What the event says.
        stored: String,
        /// What the state said.
        actual: String,
    },
}

fn invalid(field: &'static str, why: impl Into<String>) -> Rejection {
    Rejection::InvalidField { field, why: why.into() }
}

/// Refuses control characters (C0, DEL and C1), allowing newlines and tabs in multi-line text.
/// Works on bytes: in UTF-8, C0 and DEL are single bytes and C1 is 0xC2 followed by 0x80..=0x9F.
fn check_chars(field: &'static str, s: &str, multiline: bool) -> Result<(), Rejection> {
    let bytes = s.as_bytes();
    // Fast path (verify runs this over every text of the log): a branch-free pass that the compiler
    // vectorizes; only a text holding a byte that may start a control character is looked at closely.
    if !bytes.iter().fold(false, |any, &b| any | (b < 0x20) | (b == 0x7f) | (b == 0xc2)) {
        return Ok(());
    }
    let bad = bytes.iter().enumerate().find_map(|(i, &b)| match b {
        b'\n' | b'\t' if multiline => None,
        0..=0x1f | 0x7f => Some(u32::from(b)),
        0xc2 => bytes.get(i + 1).filter(|n| (0x80..=0x9f).contains(*n)).map(|n| u32::from(*n)),
        _ => None,
    });
    match bad {
        Some(c) => Err(invalid(field, format!("holds the control character U+{c:04X}"))),
        None => Ok(()),
    }
}

/// A name, title or label: 1 to [`MAX_NAME`] bytes, one line.
pub fn check_name(field: &'static str, s: &str) -> Result<(), Rejection> {
    if s.trim().is_empty() {
        return Err(invalid(field, "is empty"));
    }
    if s.len() > MAX_NAME {
        return Err(invalid(field, format!("is {} bytes; the limit is {MAX_NAME}", s.len())));
    }
    check_chars(field, s, false)
}

/// A text: 1 to [`MAX_TEXT`] bytes; newlines and tabs allowed.
pub fn check_text(field: &'static str, s: &str) -> Result<(), Rejection> {
    if s.trim().is_empty() {
        return Err(invalid(field, "is empty"));
    }
    if s.len() > MAX_TEXT {
        return Err(invalid(field, format!("is {} bytes; the limit is {MAX_TEXT}", s.len())));
    }
    check_chars(field, s, true)
}

/// A decimal number written with ASCII digits: `-12`, `2300000000`, `2.35`.
pub fn check_decimal(field: &'static str, s: &str) -> Result<(), Rejection> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "1"));
    let ok = |p: &str, max: usize| !p.is_empty() && p.len() <= max && p.bytes().all(|b| b.is_ascii_digit());
    if ok(int, 30) && ok(frac, 12) {
        Ok(())
    } else {
        Err(invalid(field, format!("{s:?} is not a decimal number (write digits, e.g. 4, 2300000000 or 2.3)")))
    }
}

fn check_optional(
    field: &'static str,
    s: &Option<String>,
    f: fn(&'static str, &str) -> Result<(), Rejection>,
) -> Result<(), Rejection> {
    s.as_deref().map_or(Ok(()), |s| f(field, s))
}

fn check_date(field: &'static str, d: &Date) -> Result<(), Rejection> {
    if d.is_valid() { Ok(()) } else { Err(invalid(field, format!("{d:?} is not a real date"))) }
}

/// A date that says when something happened: it may not lie after today.
fn check_past(field: &'static str, d: &Date, today: Day) -> Result<(), Rejection> {
    check_date(field, d)?;
    if d.first_day() > today {
        return Err(invalid(field, format!("{d} is in the future (today is {today})")));
    }
    Ok(())
}

fn actor_role<F: Facts>(facts: &F, id: &ActorId) -> Result<Role, Rejection> {
    facts.registry().actors.get(id).map(|a| a.role).ok_or_else(|| Rejection::UnknownActor(id.clone()))
}

fn not_allowed(actor: &ActorId, role: Role, action: &'static str, why: &'static str) -> Rejection {
    Rejection::NotAllowed { actor: actor.clone(), role: role.as_str(), action, why }
}

fn known_codes<'a>(codes: impl Iterator<Item = &'a Code>) -> String {
    codes.map(Code::as_str).collect::<Vec<_>>().join(", ")
}

fn item<'a, F: Facts>(facts: &'a F, id: &ItemId) -> Result<&'a ItemCore, Rejection> {
    facts.item(id).ok_or_else(|| Rejection::UnknownItem(id.clone()))
}

fn check_partners<F: Facts>(facts: &F, lead: &ActorId, partners: &[ActorId]) -> Result<(), Rejection> {
    if partners.len() > MAX_PARTNERS {
        return Err(invalid("partner", format!("{} partners; the limit is {MAX_PARTNERS}", partners.len())));
    }
    for (i, p) in partners.iter().enumerate() {
        let role = actor_role(facts, p)?;
        if !matches!(role, Role::Office | Role::Department | Role::Counterpart) {
            return Err(invalid("partner", format!("{p} is a {} and cannot be a partner", role.as_str())));
        }
        if p == lead {
            return Err(invalid("partner", format!("{p} is already the lead")));
        }
        if partners[..i].contains(p) {
            return Err(invalid("partner", format!("{p} is named twice")));
        }
    }
    Ok(())
}

fn check_lead<F: Facts>(facts: &F, lead: &ActorId) -> Result<(), Rejection> {
    let role = actor_role(facts, lead)?;
    if !matches!(role, Role::Office | Role::Department) {
        return Err(invalid("lead", format!("{lead} is a {} and cannot lead an item", role.as_str())));
    }
    Ok(())
}

/// Turns a command into the event to append, or says why not.
pub fn decide<F: Facts>(facts: &F, actor: &ActorId, now: Timestamp, command: Command) -> Result<Event, Rejection> {
    let today = now.day(facts.registry().utc_offset());
    let event = match command {
        Command::Open(c) => Event::LedgerOpened(LedgerOpened {
            title: c.title,
            origin: c.origin,
            utc_offset_minutes: c.utc_offset_minutes,
            admin: c.admin,
            admin_name: c.admin_name,
            vocabulary: c.vocabulary,
        }),
        Command::RegisterActor(c) => {
            Event::ActorRegistered(ActorRegistered { id: c.id, name: c.name, name_en: c.name_en, role: c.role })
        }
        Command::RegisterArea(c) => Event::AreaRegistered(AreaRegistered { id: c.id, name: c.name, name_en: c.name_en }),
        Command::RecordSource(c) => Event::SourceRecorded(SourceRecorded {
            id: c.id,
            kind: c.kind,
            number: c.number,
            title: c.title,
            title_en: c.title_en,
            session: c.session,
            date: c.date,
            issuer: c.issuer,
            addressee: c.addressee,
            contributors: c.contributors,
            digest: c.digest,
        }),
        Command::RecordCommitment(c) => {
            let info = facts.registry().info().ok_or(Rejection::NotOpened)?;
            let status = info.vocabulary.initial_status(c.kind).map(|s| s.term.code.clone()).ok_or_else(|| {
                invalid("kind", format!("the vocabulary has no starting status for {}", c.kind.as_str()))
            })?;
            Event::CommitmentRecorded(CommitmentRecorded {
                id: c.id,
                source: c.source,
                section: c.section,
                area: c.area,
                lead: c.lead,
                partners: c.partners,
                title: c.title,
                title_en: c.title_en,
                text: c.text,
                kind: c.kind,
                status,
                on: c.on,
                due: c.due,
            })
        }
        Command::ReportProgress { item, text, on, evidence } => {
            let on = on.unwrap_or(Date::Day(today.year, today.month, today.day));
            Event::ProgressReported(ProgressReported { item, text, on, evidence })
        }
        Command::ChangeStatus { item: id, to, reason, on } => {
            let from = item(facts, &id)?.status.clone();
            Event::StatusChanged(StatusChanged { item: id, from, to, reason, on })
        }
        Command::RecordIndicator(c) => Event::IndicatorRecorded(IndicatorRecorded {
            item: c.item,
            name: c.name,
            value: c.value,
            unit: c.unit,
            approximate: c.approximate,
            as_of: c.as_of,
        }),
        Command::Amend(c) => Event::CommitmentAmended(CommitmentAmended {
            item: c.item,
            title: c.title,
            title_en: c.title_en,
            text: c.text,
            due: c.due,
            area: c.area,
            reason: c.reason,
        }),
        Command::Reassign { item: id, lead, partners, reason } => {
            let from = item(facts, &id)?.lead.clone();
            Event::CommitmentReassigned(CommitmentReassigned { item: id, from, lead, partners, reason })
        }
        Command::Correct(c) => Event::EntryCorrected(EntryCorrected {
            item: c.item,
            entry: c.entry,
            text: c.text,
            value: c.value,
            reason: c.reason,
        }),
        Command::RecordFeedback(c) => {
            Event::FeedbackRecorded(FeedbackRecorded { source: c.source, verdict: c.verdict, text: c.text, on: c.on })
        }
        Command::Categorize(c) => {
            Event::SourceCategorized(SourceCategorized { source: c.source, category: c.category, reason: c.reason })
        }
    };
    check(facts, actor, now, &event)?;
    Ok(event)
}

/// Every rule: whether `actor` may append `event` at time `now` to a ledger in state `facts`.
pub fn check<F: Facts>(facts: &F, actor: &ActorId, now: Timestamp, event: &Event) -> Result<(), Rejection> {
    let reg = facts.registry();
    if let Event::LedgerOpened(e) = event {
        if reg.ledger.is_some() {
            return Err(Rejection::AlreadyOpened);
        }
        return check_opening(actor, e);
    }
    let info = reg.info().ok_or(Rejection::NotOpened)?;
    let vocab = &info.vocabulary;
    let today = now.day(info.utc_offset_minutes);
    let role = actor_role(facts, actor)?;
    let coordinator = role.is_coordinator();
    match event {
        Event::LedgerOpened(_) => Err(Rejection::AlreadyOpened),
        Event::ActorRegistered(e) => {
            if !coordinator {
                return Err(not_allowed(actor, role, "register actors", "only the office or the administrator may"));
            }
            if reg.actors.contains_key(&e.id) {
                return Err(Rejection::Duplicate { what: "actor", id: e.id.to_string() });
            }
            if e.role == Role::Admin {
                return Err(invalid("role", "only the opening record names the administrator"));
            }
            check_name("name", &e.name)?;
            check_optional("name-en", &e.name_en, check_name)
        }
        Event::AreaRegistered(e) => {
            if !coordinator {
                return Err(not_allowed(actor, role, "register areas", "only the office or the administrator may"));
            }
            if reg.areas.contains_key(&e.id) {
                return Err(Rejection::Duplicate { what: "area", id: e.id.to_string() });
            }
            check_name("name", &e.name)?;
            check_optional("name-en", &e.name_en, check_name)
        }
        Event::SourceRecorded(e) => {
            if !coordinator {
                return Err(not_allowed(actor, role, "record sources", "only the office or the administrator may"));
            }
            if reg.sources.contains_key(&e.id) {
                return Err(Rejection::Duplicate { what: "source", id: e.id.to_string() });
            }
            check_name("title", &e.title)?;
            check_optional("title-en", &e.title_en, check_name)?;
            check_optional("number", &e.number, check_name)?;
            check_optional("session", &e.session, check_name)?;
            check_past("date", &e.date, today)?;
            actor_role(facts, &e.issuer)?;
            if let Some(a) = &e.addressee {
                let r = actor_role(facts, a)?;
                if r != Role::Deputy {
                    return Err(invalid("addressee", format!("{a} is a {}, not a deputy", r.as_str())));
                }
            }
            if e.contributors.len() > MAX_PARTNERS {
                return Err(invalid(
                    "contributors",
                    format!("{} contributors; the limit is {MAX_PARTNERS}", e.contributors.len()),
                ));
            }
            for (i, c) in e.contributors.iter().enumerate() {
                actor_role(facts, c)?;
                if e.contributors[..i].contains(c) {
                    return Err(invalid("contributors", format!("{c} is named twice")));
                }
            }
            if let Some(d) = &e.digest {
                let hex = d.strip_prefix("blake3:").unwrap_or("");
                if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                    return Err(invalid("digest", "write blake3: followed by 64 lowercase hex digits"));
                }
            }
            Ok(())
        }
        Event::CommitmentRecorded(e) => {
            if !(coordinator || (role == Role::Department && &e.lead == actor)) {
                return Err(not_allowed(
                    actor,
                    role,
                    "record commitments",
                    "only the office, the administrator or the lead department may",
                ));
            }
            if facts.item(&e.id).is_some() {
                return Err(Rejection::Duplicate { what: "item", id: e.id.to_string() });
            }
            if let Some(s) = &e.source
                && !reg.sources.contains_key(s)
            {
                return Err(Rejection::UnknownSource(s.clone()));
            }
            if !reg.areas.contains_key(&e.area) {
                return Err(Rejection::UnknownArea(e.area.clone()));
            }
            check_lead(facts, &e.lead)?;
            check_partners(facts, &e.lead, &e.partners)?;
            check_name("title", &e.title)?;
            check_optional("title-en", &e.title_en, check_name)?;
            check_optional("section", &e.section, check_name)?;
            check_text("text", &e.text)?;
            if let Some(on) = &e.on {
                check_past("on", on, today)?;
            }
            if let Some(due) = &e.due {
                check_date("due", due)?;
            }
            let expected = vocab.initial_status(e.kind).map(|s| &s.term.code);
            if expected != Some(&e.status) {
                return Err(Rejection::Mismatch {
                    field: "status",
                    stored: e.status.to_string(),
                    actual: expected.map(Code::to_string).unwrap_or_default(),
                });
            }
            Ok(())
        }
        Event::ProgressReported(e) => {
            updatable(facts, actor, role, &e.item, "report progress")?;
            check_text("text", &e.text)?;
            check_past("on", &e.on, today)?;
            check_optional("evidence", &e.evidence, check_text)
        }
        Event::IndicatorRecorded(e) => {
            updatable(facts, actor, role, &e.item, "record figures")?;
            check_name("name", &e.name)?;
            check_decimal("value", &e.value)?;
            if let Some(u) = &e.unit {
                check_name("unit", u)?;
                if u.len() > MAX_UNIT {
                    return Err(invalid("unit", format!("is {} bytes; the limit is {MAX_UNIT}", u.len())));
                }
            }
            match &e.as_of {
                Some(d) => check_past("as-of", d, today),
                None => Ok(()),
            }
        }
        Event::EntryCorrected(e) => {
            let it = updatable(facts, actor, role, &e.item, "correct entries")?;
            if e.entry == StreamVersion(0) || e.entry >= it.pos.next {
                return Err(invalid(
                    "entry",
                    format!(
                        "item {} has entries 1 to {}; {} is not one of them (entry 0 is the commitment itself: amend it)",
                        e.item,
                        it.pos.next.0.saturating_sub(1),
                        e.entry
                    ),
                ));
            }
            if e.text.is_none() && e.value.is_none() {
                return Err(invalid("text", "a correction gives a corrected text, a corrected value, or both"));
            }
            check_optional("text", &e.text, check_text)?;
            check_optional("value", &e.value, check_decimal)?;
            check_text("reason", &e.reason)
        }
        Event::StatusChanged(e) => {
            let it = item(facts, &e.item)?;
            if !(coordinator || &it.lead == actor) {
                return Err(not_allowed(actor, role, "change the status", "only the lead or the office may"));
            }
            if e.from != it.status {
                return Err(Rejection::Mismatch {
                    field: "from",
                    stored: e.from.to_string(),
                    actual: it.status.to_string(),
                });
            }
            let from =
                vocab.status(&it.status).ok_or_else(|| invalid("from", format!("{} is undefined", it.status)))?;
            if vocab.status(&e.to).is_none() {
                return Err(Rejection::UnknownCode {
                    vocabulary: "status",
                    code: e.to.to_string(),
                    known: known_codes(vocab.statuses.iter().map(|s| &s.term.code)),
                });
            }
            if !from.next.contains(&e.to) {
                return Err(Rejection::IllegalTransition {
                    item: e.item.clone(),
                    from: it.status.clone(),
                    to: e.to.clone(),
                    allowed: if from.next.is_empty() { "none".into() } else { known_codes(from.next.iter()) },
                });
            }
            check_text("reason", &e.reason)?;
            match &e.on {
                Some(d) => check_past("on", d, today),
                None => Ok(()),
            }
        }
        Event::CommitmentAmended(e) => {
            let it = item(facts, &e.item)?;
            if !(coordinator || &it.lead == actor) {
                return Err(not_allowed(actor, role, "amend", "only the lead or the office may"));
            }
            if e.title.is_none() && e.title_en.is_none() && e.text.is_none() && e.due.is_none() && e.area.is_none() {
                return Err(invalid("amend", "nothing to amend: give a new title, title-en, text, due date or area"));
            }
            check_optional("title", &e.title, check_name)?;
            check_optional("title-en", &e.title_en, check_name)?;
            check_optional("text", &e.text, check_text)?;
            if let Some(d) = &e.due {
                check_date("due", d)?;
            }
            if let Some(a) = &e.area
                && !reg.areas.contains_key(a)
            {
                return Err(Rejection::UnknownArea(a.clone()));
            }
            check_text("reason", &e.reason)
        }
        Event::CommitmentReassigned(e) => {
            let it = item(facts, &e.item)?;
            if !coordinator {
                return Err(not_allowed(actor, role, "reassign items", "only the office or the administrator may"));
            }
            if e.from != it.lead {
                return Err(Rejection::Mismatch {
                    field: "from",
                    stored: e.from.to_string(),
                    actual: it.lead.to_string(),
                });
            }
            check_lead(facts, &e.lead)?;
            let partners = e.partners.as_ref().unwrap_or(&it.partners);
            if e.lead == it.lead && e.partners.is_none() {
                return Err(invalid("lead", format!("{} already leads {}", e.lead, e.item)));
            }
            check_partners(facts, &e.lead, partners)?;
            check_text("reason", &e.reason)
        }
        Event::FeedbackRecorded(e) => {
            let src = reg.sources.get(&e.source).ok_or_else(|| Rejection::UnknownSource(e.source.clone()))?;
            if !(coordinator || src.source.addressee.as_ref() == Some(actor)) {
                return Err(not_allowed(actor, role, "record feedback", "only the addressee or the office may"));
            }
            if vocab.verdict(&e.verdict).is_none() {
                return Err(Rejection::UnknownCode {
                    vocabulary: "verdict",
                    code: e.verdict.to_string(),
                    known: known_codes(vocab.verdicts.iter().map(|t| &t.code)),
                });
            }
            check_optional("text", &e.text, check_text)?;
            match &e.on {
                Some(d) => check_past("on", d, today),
                None => Ok(()),
            }
        }
        Event::SourceCategorized(e) => {
            if !coordinator {
                return Err(not_allowed(actor, role, "categorize replies", "only the office or the administrator may"));
            }
            if !reg.sources.contains_key(&e.source) {
                return Err(Rejection::UnknownSource(e.source.clone()));
            }
            if vocab.category(&e.category).is_none() {
                return Err(Rejection::UnknownCode {
                    vocabulary: "category",
                    code: e.category.to_string(),
                    known: known_codes(vocab.categories.iter().map(|t| &t.code)),
                });
            }
            check_optional("reason", &e.reason, check_text)
        }
    }
}

fn check_opening(actor: &ActorId, e: &LedgerOpened) -> Result<(), Rejection> {
    if actor != &e.admin {
        return Err(invalid(
            "admin",
            format!("record 0 must be appended by its administrator {}, not {actor}", e.admin),
        ));
    }
    check_name("title", &e.title)?;
    check_name("admin-name", &e.admin_name)?;
    if e.origin.is_empty()
        || e.origin.len() > 256
        || e.origin.chars().any(|c| c.is_whitespace() || c == '+' || c.is_control())
    {
        return Err(invalid("origin", "must be 1 to 256 bytes without spaces or '+' (e.g. example.gov/commitments)"));
    }
    if e.utc_offset_minutes.unsigned_abs() > 14 * 60 {
        return Err(invalid("utc-offset", "must lie between -14:00 and +14:00"));
    }
    let v = &e.vocabulary;
    for list in [&v.categories, &v.verdicts, &v.completion_levels] {
        check_terms(list.iter())?;
    }
    check_terms(v.statuses.iter().map(|s| &s.term))?;
    v.check().map_err(|why| invalid("vocabulary", why))
}

/// Most terms a vocabulary list may hold.
pub const MAX_TERMS: usize = 64;

fn check_terms<'a>(terms: impl ExactSizeIterator<Item = &'a crate::vocab::Term>) -> Result<(), Rejection> {
    if terms.len() > MAX_TERMS {
        return Err(invalid("vocabulary", format!("{} terms in one list; the limit is {MAX_TERMS}", terms.len())));
    }
    for t in terms {
        check_name("vocabulary label", &t.label)?;
        check_name("vocabulary label_zh", &t.label_zh)?;
    }
    Ok(())
}

/// The item, if the actor may add progress, figures or corrections to it now.
fn updatable<'a, F: Facts>(
    facts: &'a F,
    actor: &ActorId,
    role: Role,
    id: &ItemId,
    action: &'static str,
) -> Result<&'a ItemCore, Rejection> {
    let it = item(facts, id)?;
    if !(role.is_coordinator() || it.involves(actor)) {
        return Err(not_allowed(actor, role, action, "a department may only write about items it leads or helps with"));
    }
    let vocab = &facts.registry().info().ok_or(Rejection::NotOpened)?.vocabulary;
    if vocab.status(&it.status).is_some_and(|s| !s.accepts_updates) {
        return Err(Rejection::Closed { item: id.clone(), status: it.status.clone() });
    }
    Ok(it)
}
