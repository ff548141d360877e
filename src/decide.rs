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
    Event, FeedbackRecorded, IndicatorRecorded, KeyRegistered, KeyRetired, LedgerOpened, ProgressReported,
    SourceCategorized, SourceRecorded, StatusChanged,
};
use crate::ids::{ActorId, AreaId, Code, ItemId, SourceId, StreamVersion};
use crate::keys::PublicKey;
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
    /// The record must be signed by its actor, and no usable key is at hand (or none is registered).
    #[error("cannot append as {actor}: {why}")]
    KeyUnavailable {
        /// The actor.
        actor: ActorId,
        /// Why.
        why: String,
    },
    /// A signed statement that the ledger cannot take as it is.
    #[error("the statement signed by {actor} is refused: {why}")]
    BadStatement {
        /// Its actor.
        actor: ActorId,
        /// Why.
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

/// A key a record may register: a point of the curve in its one canonical encoding, not of small
/// order (signatures under a weak key can be forged; a non-canonical encoding is read differently
/// by different verifiers).
fn check_key(field: &'static str, key: &PublicKey) -> Result<(), Rejection> {
    key.verifying_key().map_err(|e| invalid(field, e.to_string()))?;
    if !crate::keys::is_canonical(&key.0) {
        return Err(invalid(field, "the key is not in its canonical encoding (RFC 8032 §5.1.3)"));
    }
    Ok(())
}

/// The key `actor`'s record of `event` must be signed with, or none when it is not signed (a ledger
/// opened by version 1, whose actor has no key). Record 0 is signed with the key it names itself. In a
/// signed ledger an actor without a key (none registered, or retired) cannot append.
pub fn signing_key(
    reg: &crate::state::Registry,
    actor: &ActorId,
    event: &Event,
) -> Result<Option<PublicKey>, Rejection> {
    if let Event::LedgerOpened(e) = event {
        return Ok(e.admin_key);
    }
    let Some(a) = reg.actors.get(actor) else { return Err(Rejection::UnknownActor(actor.clone())) };
    match a.key {
        Some(k) => Ok(Some(k)),
        None if reg.is_signed() || a.signs => Err(Rejection::KeyUnavailable {
            actor: actor.clone(),
            why: format!(
                "{actor} has no registered key (it was retired, or never registered); \
                 a coordinator registers a new one with `commitments actor key {actor} --public-key FILE`"
            ),
        }),
        None => Ok(None),
    }
}

/// A key that may be registered: a valid Ed25519 point of full order, never registered before (by
/// anyone: a retired key stays retired, and two actors never share one).
fn check_new_key(reg: &crate::state::Registry, key: &PublicKey) -> Result<(), Rejection> {
    check_key("public-key", key)?;
    if let Some(owner) = reg.keys.get(key) {
        return Err(invalid("public-key", format!("key {} was registered before, for {owner}", key.short())));
    }
    Ok(())
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
            admin_key: c.admin_key,
        }),
        Command::RegisterActor(c) => Event::ActorRegistered(ActorRegistered {
            id: c.id,
            name: c.name,
            name_en: c.name_en,
            role: c.role,
            public_key: c.public_key,
        }),
        Command::RegisterKey { actor, public_key } => {
            let public_key = public_key.ok_or_else(|| invalid("public-key", "no key given"))?;
            Event::KeyRegistered(KeyRegistered { actor, public_key })
        }
        Command::RetireKey { actor: whose, reason } => {
            let reg = facts.registry();
            let a = reg.actors.get(&whose).ok_or_else(|| Rejection::UnknownActor(whose.clone()))?;
            let public_key = a.key.ok_or_else(|| invalid("actor", format!("{whose} has no key to retire")))?;
            Event::KeyRetired(KeyRetired { actor: whose, public_key, reason })
        }
        Command::RegisterArea(c) => {
            Event::AreaRegistered(AreaRegistered { id: c.id, name: c.name, name_en: c.name_en })
        }
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
            check_optional("name-en", &e.name_en, check_name)?;
            match &e.public_key {
                Some(k) => check_new_key(reg, k),
                None if reg.is_signed() => {
                    Err(invalid("public-key", "this ledger is signed: an actor is registered with its public key"))
                }
                None => Ok(()),
            }
        }
        Event::KeyRegistered(e) => {
            actor_role(facts, &e.actor)?;
            if !(coordinator || &e.actor == actor) {
                return Err(not_allowed(
                    actor,
                    role,
                    "register another actor's key",
                    "only the actor itself, the office or the administrator may",
                ));
            }
            check_new_key(reg, &e.public_key)
        }
        Event::KeyRetired(e) => {
            actor_role(facts, &e.actor)?;
            if !(coordinator || &e.actor == actor) {
                return Err(not_allowed(
                    actor,
                    role,
                    "retire another actor's key",
                    "only the actor itself, the office or the administrator may",
                ));
            }
            let current = reg.actors.get(&e.actor).and_then(|a| a.key);
            if current != Some(e.public_key) {
                return Err(Rejection::Mismatch {
                    field: "public-key",
                    stored: e.public_key.to_string(),
                    actual: current.map(|k| k.to_string()).unwrap_or_else(|| "no key".into()),
                });
            }
            check_optional("reason", &e.reason, check_text)
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
    v.check().map_err(|why| invalid("vocabulary", why))?;
    if let Some(k) = &e.admin_key {
        check_key("admin-key", k)?;
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    //! Given/when/then over the pure state, without a ledger or a store: given the records already
    //! accepted (each command decided, wrapped in a record and folded with `State::apply`) or events
    //! folded as they are, when an actor gives a command at a time, then `decide` returns exactly this
    //! event or this rejection.

    use super::*;
    use crate::command::{
        Amend, Categorize, Correct, NewCommitment, OpenLedger, RecordFeedback, RecordIndicator, RecordSource,
        RegisterActor, RegisterArea,
    };
    use crate::ids::Seq;
    use crate::record::{Hash, Record};
    use crate::state::State;
    use crate::vocab::{Kind, SourceKind, Term, Vocabulary};
    use std::fmt::Debug;

    /// When every given record was accepted and every command is decided: 2024-05-10 in Beijing.
    const NOW: &str = "2024-05-10T09:00:00+08:00";

    fn at(rfc3339: &str) -> Timestamp {
        Timestamp::parse(rfc3339).unwrap()
    }
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
    fn date(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    /// The state a command is decided against, and the seq the next given record gets. Cloning it
    /// is cheap: one given state can be continued two ways.
    #[derive(Clone)]
    struct Given {
        state: State,
        next: Seq,
    }

    /// The actors of [`Given::ledger`] besides the administrator: one or two of every role.
    const ACTORS: [(&str, Role); 7] = [
        ("office", Role::Office),
        ("fin", Role::Department),
        ("drc", Role::Department),
        ("macao", Role::Counterpart),
        ("lijing", Role::Deputy),
        ("wangwu", Role::Deputy),
        ("auditor", Role::Auditor),
    ];

    impl Given {
        /// No record 0 yet.
        fn nothing() -> Given {
            Given { state: State::default(), next: Seq(0) }
        }

        /// Record 0 by `admin` (default vocabulary, UTC+08:00), nothing else.
        fn opened() -> Given {
            Given::nothing().accepted("admin", Command::Open(opening()))
        }

        /// Record 0, the [`ACTORS`], the areas `finance` and `health`, the reply `reply-1` addressed to
        /// lijing, the memorandum `memo-1` (addressed to no one) and the item `bonds`: from reply-1, led
        /// by fin, helped by macao, planned.
        fn ledger() -> Given {
            let mut g = Given::opened();
            for (id, role) in ACTORS {
                g = g.accepted("admin", register(id, role));
            }
            g.accepted("admin", register_area("finance"))
                .accepted("admin", register_area("health"))
                .accepted("office", source("reply-1", |s| s.addressee = Some(a("lijing"))))
                .accepted("office", source("memo-1", |s| s.kind = SourceKind::Memorandum))
                .accepted(
                    "office",
                    record("bonds", "fin", |c| {
                        c.source = Some(src("reply-1"));
                        c.partners = vec![a("macao")];
                    }),
                )
        }

        /// Also `n` counterparts `c0`, `c1`, …
        fn with_counterparts(mut self, n: usize) -> Given {
            for i in 0..n {
                self = self.accepted("office", register(&format!("c{i}"), Role::Counterpart));
            }
            self
        }

        /// Folds in the record of a command that the rules must accept.
        #[track_caller]
        fn accepted(self, who: &str, command: Command) -> Given {
            let described = format!("{command:?}");
            let event = decide(&self.state, &a(who), at(NOW), command)
                .unwrap_or_else(|r| panic!("given {described} by {who}: refused: {r}"));
            self.event(who, event)
        }

        /// Folds in an event as it is, unchecked: a state no command could reach.
        fn event(mut self, who: &str, event: Event) -> Given {
            let stream = event.stream();
            let pos = self.state.stream_pos(&stream);
            let rec = Record {
                seq: self.next,
                prev: Hash::ZERO,
                time: at(NOW),
                actor: a(who),
                stream,
                stream_version: pos.next,
                stream_prev: pos.last,
                event_version: event.event_type().version(),
                event,
                signature: None,
            };
            self.state.apply(&rec);
            self.next = self.next.next();
            self
        }

        /// What `decide` says to a command by `who` now.
        fn when(&self, who: &str, command: Command) -> Result<Event, Rejection> {
            self.when_at(who, NOW, command)
        }

        /// What `decide` says to a command by `who` at a time.
        fn when_at(&self, who: &str, time: &str, command: Command) -> Result<Event, Rejection> {
            decide(&self.state, &a(who), at(time), command)
        }

        /// What `check` says to a stored event by `who` now.
        fn stored(&self, who: &str, event: &Event) -> Result<(), Rejection> {
            check(&self.state, &a(who), at(NOW), event)
        }
    }

    /// Then: refused for a field, the reason saying `says`.
    #[track_caller]
    fn then_invalid<T: Debug>(r: Result<T, Rejection>, field: &str, says: &str) {
        match &r {
            Err(Rejection::InvalidField { field: f, why }) if *f == field && why.contains(says) => {}
            _ => panic!("wanted {field} refused with {says:?}, got {r:?}"),
        }
    }

    /// Then: `who`, in its role, may not do `action`.
    #[track_caller]
    fn then_not_allowed<T: Debug>(r: Result<T, Rejection>, who: &str, role: Role, action: &str) {
        match &r {
            Err(Rejection::NotAllowed { actor, role: r, action: x, .. })
                if actor.as_str() == who && *r == role.as_str() && *x == action => {}
            _ => panic!("wanted {who} ({}) not allowed to {action}, got {r:?}", role.as_str()),
        }
    }

    /// Then: allowed (whatever the event).
    #[track_caller]
    fn then_ok(r: Result<Event, Rejection>) -> Event {
        r.unwrap_or_else(|e| panic!("refused: {e}"))
    }

    fn opening() -> OpenLedger {
        OpenLedger {
            title: "京澳合作承诺台账".into(),
            origin: "test.example/commitments".into(),
            utc_offset_minutes: 480,
            admin: a("admin"),
            admin_name: "台账管理员".into(),
            vocabulary: Vocabulary::default_v1(),
            admin_key: None,
        }
    }

    fn open_with(f: impl FnOnce(&mut OpenLedger)) -> Command {
        let mut o = opening();
        f(&mut o);
        Command::Open(o)
    }

    fn register(id: &str, role: Role) -> Command {
        Command::RegisterActor(RegisterActor {
            id: a(id),
            name: format!("{id}单位"),
            name_en: None,
            role,
            public_key: None,
        })
    }

    fn register_named(name: &str, name_en: Option<&str>) -> Command {
        Command::RegisterActor(RegisterActor {
            id: a("named"),
            name: name.into(),
            name_en: name_en.map(str::to_string),
            role: Role::Department,
            public_key: None,
        })
    }

    fn register_area(id: &str) -> Command {
        Command::RegisterArea(RegisterArea { id: area(id), name: format!("{id}领域"), name_en: None })
    }

    fn source_of(id: &str, f: impl FnOnce(&mut RecordSource)) -> RecordSource {
        let mut s = RecordSource {
            id: src(id),
            kind: SourceKind::Reply,
            number: None,
            title: "答复".into(),
            title_en: None,
            session: None,
            date: date("2024-05-01"),
            issuer: a("office"),
            addressee: None,
            contributors: Vec::new(),
            digest: None,
        };
        f(&mut s);
        s
    }

    fn source(id: &str, f: impl FnOnce(&mut RecordSource)) -> Command {
        Command::RecordSource(source_of(id, f))
    }

    fn commitment(id: &str, lead: &str, f: impl FnOnce(&mut NewCommitment)) -> NewCommitment {
        let mut c = NewCommitment {
            id: it(id),
            source: None,
            section: None,
            area: area("finance"),
            lead: a(lead),
            partners: Vec::new(),
            title: format!("承诺{id}"),
            title_en: None,
            text: format!("关于{id}的承诺原文。"),
            kind: Kind::Planned,
            on: None,
            due: None,
        };
        f(&mut c);
        c
    }

    fn record(id: &str, lead: &str, f: impl FnOnce(&mut NewCommitment)) -> Command {
        Command::RecordCommitment(commitment(id, lead, f))
    }

    /// The event a commitment is recorded as, starting in `status`.
    fn recorded(c: NewCommitment, status: &str) -> Event {
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
            status: code(status),
            on: c.on,
            due: c.due,
        })
    }

    fn progress(item: &str, text: &str, on: Option<&str>) -> Command {
        Command::ReportProgress { item: it(item), text: text.into(), on: on.map(date), evidence: None }
    }

    fn evidence(e: &str) -> Command {
        Command::ReportProgress { item: it("bonds"), text: "进展".into(), on: None, evidence: Some(e.into()) }
    }

    fn status(item: &str, to: &str, reason: &str) -> Command {
        Command::ChangeStatus { item: it(item), to: code(to), reason: reason.into(), on: None }
    }

    fn status_on(on: &str) -> Command {
        Command::ChangeStatus {
            item: it("bonds"), to: code("in_progress"), reason: "启动".into(), on: Some(date(on))
        }
    }

    fn figure(item: &str, value: &str, unit: Option<&str>, as_of: Option<&str>) -> Command {
        Command::RecordIndicator(RecordIndicator {
            item: it(item),
            name: "企业数".into(),
            value: value.into(),
            unit: unit.map(str::to_string),
            approximate: false,
            as_of: as_of.map(date),
        })
    }

    fn amend(item: &str, f: impl FnOnce(&mut Amend)) -> Command {
        let mut c = Amend {
            item: it(item),
            title: None,
            title_en: None,
            text: None,
            due: None,
            area: None,
            reason: "更正".into(),
        };
        f(&mut c);
        Command::Amend(c)
    }

    fn reassign(item: &str, lead: &str, partners: Option<&[&str]>) -> Command {
        Command::Reassign {
            item: it(item),
            lead: a(lead),
            partners: partners.map(|p| p.iter().map(|x| a(x)).collect()),
            reason: "调整".into(),
        }
    }

    fn correct(item: &str, entry: u64, text: Option<&str>, value: Option<&str>) -> Command {
        Command::Correct(Correct {
            item: it(item),
            entry: StreamVersion(entry),
            text: text.map(str::to_string),
            value: value.map(str::to_string),
            reason: "更正".into(),
        })
    }

    fn feedback(source: &str, verdict: &str, f: impl FnOnce(&mut RecordFeedback)) -> Command {
        let mut c = RecordFeedback { source: src(source), verdict: code(verdict), text: None, on: None };
        f(&mut c);
        Command::RecordFeedback(c)
    }

    fn categorize(source: &str, category: &str, reason: Option<&str>) -> Command {
        Command::Categorize(Categorize {
            source: src(source),
            category: code(category),
            reason: reason.map(str::to_string),
        })
    }

    // -----------------------------------------------------------------------------------------
    // Record 0.

    #[test]
    fn open_appends_the_opening_as_given() {
        let o = opening();
        assert_eq!(
            Given::nothing().when("admin", Command::Open(o.clone())),
            Ok(Event::LedgerOpened(LedgerOpened {
                title: o.title,
                origin: o.origin,
                utc_offset_minutes: 480,
                admin: a("admin"),
                admin_name: o.admin_name,
                vocabulary: o.vocabulary,
                admin_key: None,
            }))
        );
    }

    #[test]
    fn open_only_by_the_administrator_it_names() {
        then_invalid(Given::nothing().when("clerk", Command::Open(opening())), "admin", "not clerk");
    }

    #[test]
    fn open_only_once() {
        let g = Given::opened();
        assert_eq!(g.when("admin", Command::Open(opening())), Err(Rejection::AlreadyOpened));
        assert_eq!(g.when("someone", Command::Open(opening())), Err(Rejection::AlreadyOpened));
    }

    #[test]
    fn open_title_and_admin_name_are_names() {
        let g = Given::nothing();
        then_invalid(g.when("admin", open_with(|o| o.title = " ".into())), "title", "is empty");
        then_invalid(g.when("admin", open_with(|o| o.admin_name = "x".repeat(513))), "admin-name", "limit is 512");
        then_ok(g.when("admin", open_with(|o| o.admin_name = "x".repeat(512))));
    }

    #[test]
    fn open_origin_is_1_to_256_bytes_without_spaces_plus_or_control_characters() {
        let g = Given::nothing();
        for bad in [String::new(), "has space".into(), "a+b".into(), "o".repeat(257), "a\u{7}b".into()] {
            then_invalid(g.when("admin", open_with(|o| o.origin = bad)), "origin", "1 to 256 bytes");
        }
        then_ok(g.when("admin", open_with(|o| o.origin = "o".repeat(256))));
    }

    #[test]
    fn open_utc_offset_lies_within_14_hours() {
        let g = Given::nothing();
        for bad in [14 * 60 + 1, -14 * 60 - 1, i32::MIN, i32::MAX] {
            then_invalid(g.when("admin", open_with(|o| o.utc_offset_minutes = bad)), "utc-offset", "-14:00");
        }
        for good in [14 * 60, -14 * 60, 0] {
            then_ok(g.when("admin", open_with(|o| o.utc_offset_minutes = good)));
        }
    }

    #[test]
    fn open_vocabulary_is_consistent() {
        let g = Given::nothing();
        let r = g.when("admin", open_with(|o| o.vocabulary.statuses[0].next.push(code("nowhere"))));
        then_invalid(r, "vocabulary", "nowhere");
        let r = g.when("admin", open_with(|o| o.vocabulary.statuses[1].initial_for = Some(Kind::Planned)));
        then_invalid(r, "vocabulary", "kind planned");
    }

    #[test]
    fn open_vocabulary_lists_hold_at_most_64_terms_with_labels() {
        let g = Given::nothing();
        let categories = |n: usize| {
            open_with(move |o| {
                for i in o.vocabulary.categories.len()..n {
                    o.vocabulary.categories.push(Term {
                        code: code(&format!("c{i:02}")),
                        label: "l".into(),
                        label_zh: "类".into(),
                    });
                }
            })
        };
        then_invalid(g.when("admin", categories(65)), "vocabulary", "65 terms in one list; the limit is 64");
        then_ok(g.when("admin", categories(64)));
        then_invalid(
            g.when("admin", open_with(|o| o.vocabulary.verdicts[0].label = String::new())),
            "vocabulary label",
            "is empty",
        );
        let r = g.when("admin", open_with(|o| o.vocabulary.statuses[2].term.label_zh = "部分\n完成".into()));
        then_invalid(r, "vocabulary label_zh", "U+000A");
    }

    #[test]
    fn nothing_but_the_opening_comes_before_record_0() {
        let g = Given::nothing();
        assert_eq!(g.when("admin", register("fin", Role::Department)), Err(Rejection::NotOpened));
        assert_eq!(g.when("admin", register_area("finance")), Err(Rejection::NotOpened));
        assert_eq!(g.when("admin", record("x", "admin", |_| {})), Err(Rejection::NotOpened));
        assert_eq!(g.when("admin", progress("x", "进展", None)), Err(Rejection::NotOpened));
        assert_eq!(g.when("admin", amend("x", |c| c.title = Some("新".into()))), Err(Rejection::NotOpened));
        // A status change or reassignment looks its item up first (to fill in what it leaves).
        assert_eq!(g.when("admin", status("x", "delivered", "完成")), Err(Rejection::UnknownItem(it("x"))));
        assert_eq!(g.when("admin", reassign("x", "admin", None)), Err(Rejection::UnknownItem(it("x"))));
    }

    // -----------------------------------------------------------------------------------------
    // Who appends.

    #[test]
    fn an_unknown_actor_appends_nothing() {
        let g = Given::ledger();
        let ghost = Err(Rejection::UnknownActor(a("ghost")));
        assert_eq!(g.when("ghost", register("x", Role::Department)), ghost);
        assert_eq!(g.when("ghost", progress("bonds", "进展", None)), ghost);
        assert_eq!(g.when("ghost", status("bonds", "in_progress", "启动")), ghost);
        assert_eq!(g.when("ghost", feedback("reply-1", "satisfied", |_| {})), ghost);
    }

    // -----------------------------------------------------------------------------------------
    // Actors.

    #[test]
    fn coordinators_register_actors() {
        let g = Given::ledger();
        let expected = Ok(Event::ActorRegistered(ActorRegistered {
            id: a("x"),
            name: "x单位".into(),
            name_en: None,
            role: Role::Department,
            public_key: None,
        }));
        assert_eq!(g.when("office", register("x", Role::Department)), expected);
        assert_eq!(g.when("admin", register("x", Role::Department)), expected);
    }

    #[test]
    fn others_do_not_register_actors() {
        let g = Given::ledger();
        for (who, role) in ACTORS.into_iter().filter(|(_, r)| !r.is_coordinator()) {
            then_not_allowed(g.when(who, register("x", Role::Department)), who, role, "register actors");
        }
    }

    #[test]
    fn an_actor_is_registered_once() {
        let g = Given::ledger();
        let dup = |id: &str| Err(Rejection::Duplicate { what: "actor", id: id.into() });
        assert_eq!(g.when("office", register("fin", Role::Office)), dup("fin"));
        assert_eq!(g.when("office", register("admin", Role::Office)), dup("admin"), "the opening registered admin");
    }

    #[test]
    fn only_the_opening_names_the_administrator() {
        then_invalid(Given::ledger().when("admin", register("boss", Role::Admin)), "role", "opening record");
    }

    #[test]
    fn actor_names_are_one_line_of_1_to_512_bytes() {
        let g = Given::ledger();
        then_invalid(g.when("office", register_named("", None)), "name", "is empty");
        then_invalid(g.when("office", register_named(&"名".repeat(171), None)), "name", "513 bytes");
        then_invalid(g.when("office", register_named("a\u{0}b", None)), "name", "U+0000");
        then_invalid(g.when("office", register_named("部门", Some(""))), "name-en", "is empty");
        then_invalid(g.when("office", register_named("部门", Some("two\nlines"))), "name-en", "U+000A");
        then_ok(g.when("office", register_named(&"x".repeat(512), Some("Department"))));
    }

    // -----------------------------------------------------------------------------------------
    // Areas.

    #[test]
    fn coordinators_register_areas() {
        let g = Given::ledger();
        let expected =
            Ok(Event::AreaRegistered(AreaRegistered { id: area("space"), name: "space领域".into(), name_en: None }));
        assert_eq!(g.when("office", register_area("space")), expected);
        assert_eq!(g.when("admin", register_area("space")), expected);
        then_not_allowed(g.when("fin", register_area("space")), "fin", Role::Department, "register areas");
        then_not_allowed(g.when("lijing", register_area("space")), "lijing", Role::Deputy, "register areas");
    }

    #[test]
    fn an_area_is_registered_once() {
        let r = Given::ledger().when("office", register_area("finance"));
        assert_eq!(r, Err(Rejection::Duplicate { what: "area", id: "finance".into() }));
    }

    #[test]
    fn area_names_are_checked() {
        let g = Given::ledger();
        let named = |name: &str, name_en: Option<&str>| {
            Command::RegisterArea(RegisterArea {
                id: area("space"),
                name: name.into(),
                name_en: name_en.map(str::to_string),
            })
        };
        then_invalid(g.when("office", named("", None)), "name", "is empty");
        then_invalid(g.when("office", named(&"x".repeat(513), None)), "name", "limit is 512");
        then_invalid(g.when("office", named("航天", Some(" "))), "name-en", "is empty");
        then_ok(g.when("office", named("航天", Some("space"))));
    }

    // -----------------------------------------------------------------------------------------
    // Sources.

    #[test]
    fn coordinators_record_sources() {
        let g = Given::ledger();
        let s = source_of("s1", |s| s.addressee = Some(a("wangwu")));
        let expected = Ok(Event::SourceRecorded(SourceRecorded {
            id: s.id.clone(),
            kind: s.kind,
            number: s.number.clone(),
            title: s.title.clone(),
            title_en: s.title_en.clone(),
            session: s.session.clone(),
            date: s.date,
            issuer: s.issuer.clone(),
            addressee: s.addressee.clone(),
            contributors: s.contributors.clone(),
            digest: s.digest.clone(),
        }));
        assert_eq!(g.when("office", Command::RecordSource(s.clone())), expected);
        assert_eq!(g.when("admin", Command::RecordSource(s)), expected);
        then_not_allowed(g.when("fin", source("s1", |_| {})), "fin", Role::Department, "record sources");
        then_not_allowed(g.when("auditor", source("s1", |_| {})), "auditor", Role::Auditor, "record sources");
    }

    #[test]
    fn a_source_is_recorded_once() {
        let r = Given::ledger().when("office", source("reply-1", |_| {}));
        assert_eq!(r, Err(Rejection::Duplicate { what: "source", id: "reply-1".into() }));
    }

    #[test]
    fn source_names_are_checked() {
        let g = Given::ledger();
        then_invalid(g.when("office", source("s1", |s| s.title = String::new())), "title", "is empty");
        then_invalid(g.when("office", source("s1", |s| s.title_en = Some("x".repeat(513)))), "title-en", "512");
        then_invalid(g.when("office", source("s1", |s| s.number = Some("\t".into()))), "number", "is empty");
        then_invalid(g.when("office", source("s1", |s| s.session = Some(String::new()))), "session", "is empty");
    }

    #[test]
    fn a_source_date_is_a_real_day_not_after_today() {
        let g = Given::ledger();
        let r = g.when("office", source("s1", |s| s.date = date("2024-05-11")));
        then_invalid(r, "date", "2024-05-11 is in the future (today is 2024-05-10)");
        then_invalid(g.when("office", source("s1", |s| s.date = Date::Day(2023, 2, 29))), "date", "not a real date");
        then_ok(g.when("office", source("s1", |s| s.date = date("2024-05-10"))));
    }

    #[test]
    fn a_source_names_known_actors() {
        let g = Given::ledger();
        let ghost = Err(Rejection::UnknownActor(a("ghost")));
        assert_eq!(g.when("office", source("s1", |s| s.issuer = a("ghost"))), ghost);
        assert_eq!(g.when("office", source("s1", |s| s.addressee = Some(a("ghost")))), ghost);
        assert_eq!(g.when("office", source("s1", |s| s.contributors = vec![a("fin"), a("ghost")])), ghost);
    }

    #[test]
    fn a_source_is_addressed_to_a_deputy() {
        let g = Given::ledger();
        let r = g.when("office", source("s1", |s| s.addressee = Some(a("fin"))));
        then_invalid(r, "addressee", "fin is a department, not a deputy");
        then_ok(g.when("office", source("s1", |s| s.addressee = Some(a("lijing")))));
    }

    #[test]
    fn contributors_are_named_once_and_at_most_32() {
        let g = Given::ledger().with_counterparts(32);
        let r = g.when("office", source("s1", |s| s.contributors = vec![a("fin"), a("fin")]));
        then_invalid(r, "contributors", "fin is named twice");
        let named = |n: usize| (0..n).map(|i| a(&format!("c{i}"))).collect::<Vec<_>>();
        let r = g.when("office", source("s1", |s| s.contributors = [named(32), vec![a("fin")]].concat()));
        then_invalid(r, "contributors", "33 contributors; the limit is 32");
        then_ok(g.when("office", source("s1", |s| s.contributors = named(32))));
    }

    #[test]
    fn a_digest_is_blake3_and_64_lowercase_hex_digits() {
        let g = Given::ledger();
        for bad in ["abc", "blake3:", &format!("blake3:{}", "A".repeat(64)), &format!("sha256:{}", "a".repeat(64))] {
            then_invalid(g.when("office", source("s1", |s| s.digest = Some(bad.into()))), "digest", "blake3:");
        }
        then_ok(g.when("office", source("s1", |s| s.digest = Some(format!("blake3:{}", "0a".repeat(32))))));
    }

    // -----------------------------------------------------------------------------------------
    // Commitments.

    #[test]
    fn a_commitment_starts_in_the_status_of_its_kind() {
        let g = Given::ledger();
        for (kind, status) in
            [(Kind::Planned, "planned"), (Kind::Ongoing, "in_progress"), (Kind::Achieved, "delivered")]
        {
            let c = commitment("n", "fin", |c| c.kind = kind);
            assert_eq!(g.when("office", Command::RecordCommitment(c.clone())), Ok(recorded(c, status)));
        }
    }

    #[test]
    fn coordinators_record_any_commitment_a_department_only_its_own() {
        let g = Given::ledger();
        then_ok(g.when("office", record("n", "drc", |_| {})));
        then_ok(g.when("admin", record("n", "drc", |_| {})));
        then_ok(g.when("drc", record("n", "drc", |_| {})));
        then_not_allowed(g.when("fin", record("n", "drc", |_| {})), "fin", Role::Department, "record commitments");
        for (who, role) in [("macao", Role::Counterpart), ("lijing", Role::Deputy), ("auditor", Role::Auditor)] {
            then_not_allowed(g.when(who, record("n", "fin", |_| {})), who, role, "record commitments");
        }
    }

    #[test]
    fn an_item_is_recorded_once() {
        let r = Given::ledger().when("office", record("bonds", "fin", |_| {}));
        assert_eq!(r, Err(Rejection::Duplicate { what: "item", id: "bonds".into() }));
    }

    #[test]
    fn a_commitment_names_a_known_source_and_area() {
        let g = Given::ledger();
        let r = g.when("office", record("n", "fin", |c| c.source = Some(src("reply-9"))));
        assert_eq!(r, Err(Rejection::UnknownSource(src("reply-9"))));
        assert_eq!(
            g.when("office", record("n", "fin", |c| c.area = area("space"))),
            Err(Rejection::UnknownArea(area("space")))
        );
        then_ok(g.when("office", record("n", "fin", |c| c.source = Some(src("memo-1")))));
    }

    #[test]
    fn the_lead_is_a_known_office_or_department() {
        let g = Given::ledger();
        assert_eq!(g.when("office", record("n", "ghost", |_| {})), Err(Rejection::UnknownActor(a("ghost"))));
        then_invalid(g.when("office", record("n", "macao", |_| {})), "lead", "macao is a counterpart and cannot lead");
        for lead in ["lijing", "auditor", "admin"] {
            then_invalid(g.when("office", record("n", lead, |_| {})), "lead", "cannot lead an item");
        }
        then_ok(g.when("office", record("n", "office", |_| {})));
    }

    #[test]
    fn partners_are_known_offices_departments_or_counterparts_other_than_the_lead_named_once() {
        let g = Given::ledger();
        let with = |p: &[&str]| {
            let p: Vec<ActorId> = p.iter().map(|x| a(x)).collect();
            record("n", "fin", move |c| c.partners = p)
        };
        assert_eq!(g.when("office", with(&["ghost"])), Err(Rejection::UnknownActor(a("ghost"))));
        then_invalid(g.when("office", with(&["lijing"])), "partner", "lijing is a deputy and cannot be a partner");
        then_invalid(g.when("office", with(&["auditor"])), "partner", "cannot be a partner");
        then_invalid(g.when("office", with(&["admin"])), "partner", "cannot be a partner");
        then_invalid(g.when("office", with(&["fin"])), "partner", "fin is already the lead");
        then_invalid(g.when("office", with(&["drc", "drc"])), "partner", "drc is named twice");
        then_ok(g.when("office", with(&["drc", "macao", "office"])));
    }

    #[test]
    fn an_item_has_at_most_32_partners() {
        let g = Given::ledger().with_counterparts(33);
        let named = |n: usize| (0..n).map(|i| a(&format!("c{i}"))).collect::<Vec<_>>();
        let r = g.when("office", record("n", "fin", |c| c.partners = named(33)));
        then_invalid(r, "partner", "33 partners; the limit is 32");
        then_ok(g.when("office", record("n", "fin", |c| c.partners = named(32))));
    }

    #[test]
    fn commitment_texts_are_checked() {
        let g = Given::ledger();
        then_invalid(g.when("office", record("n", "fin", |c| c.title = String::new())), "title", "is empty");
        then_invalid(g.when("office", record("n", "fin", |c| c.title = "a\nb".into())), "title", "U+000A");
        let r = g.when("office", record("n", "fin", |c| c.title_en = Some("x".repeat(513))));
        then_invalid(r, "title-en", "limit is 512");
        then_invalid(
            g.when("office", record("n", "fin", |c| c.section = Some("a\u{1b}b".into()))),
            "section",
            "U+001B",
        );
        let r = g.when("office", record("n", "fin", |c| c.text = "x".repeat(MAX_TEXT + 1)));
        then_invalid(r, "text", "is 16385 bytes; the limit is 16384");
        then_ok(g.when("office", record("n", "fin", |c| c.text = format!("第一段\n\t{}", "x".repeat(MAX_TEXT - 11)))));
    }

    #[test]
    fn a_commitment_was_done_or_started_in_the_past_and_is_due_on_a_real_date() {
        let g = Given::ledger();
        then_invalid(g.when("office", record("n", "fin", |c| c.on = Some(date("2024-05-11")))), "on", "in the future");
        then_invalid(
            g.when("office", record("n", "fin", |c| c.due = Some(Date::Month(2024, 13)))),
            "due",
            "not a real date",
        );
        let r = g.when(
            "office",
            record("n", "fin", |c| {
                c.on = Some(date("2024-05-10"));
                c.due = Some(date("2099-12-31"));
            }),
        );
        then_ok(r);
    }

    #[test]
    fn a_stored_commitment_starts_in_the_status_of_its_kind() {
        let g = Given::ledger();
        let recorded = |status: &str| recorded(commitment("n", "fin", |_| {}), status);
        assert_eq!(
            g.stored("office", &recorded("delivered")),
            Err(Rejection::Mismatch { field: "status", stored: "delivered".into(), actual: "planned".into() })
        );
        assert_eq!(g.stored("office", &recorded("planned")), Ok(()));
    }

    #[test]
    fn a_kind_the_vocabulary_gives_no_starting_status_is_refused() {
        // Given directly: an opening whose vocabulary starts no achieved commitment, which no command
        // gets past the rules.
        let o = opening();
        let mut vocabulary = o.vocabulary;
        vocabulary
            .statuses
            .iter_mut()
            .filter(|s| s.initial_for == Some(Kind::Achieved))
            .for_each(|s| s.initial_for = None);
        let opened = Event::LedgerOpened(LedgerOpened {
            title: o.title,
            origin: o.origin,
            utc_offset_minutes: o.utc_offset_minutes,
            admin: o.admin,
            admin_name: o.admin_name,
            vocabulary,
            admin_key: None,
        });
        then_invalid(Given::nothing().stored("admin", &opened), "vocabulary", "kind achieved");
        let g = Given::nothing()
            .event("admin", opened)
            .accepted("admin", register("fin", Role::Department))
            .accepted("admin", register_area("finance"));
        let r = g.when("admin", record("n", "fin", |c| c.kind = Kind::Achieved));
        then_invalid(r, "kind", "no starting status for achieved");
        then_ok(g.when("admin", record("n", "fin", |c| c.kind = Kind::Planned)));
    }

    // -----------------------------------------------------------------------------------------
    // Updates to items: progress, figures, corrections.

    #[test]
    fn updates_name_an_existing_item() {
        let g = Given::ledger();
        let ghost = Err(Rejection::UnknownItem(it("ghost")));
        assert_eq!(g.when("office", progress("ghost", "进展", None)), ghost);
        assert_eq!(g.when("office", figure("ghost", "1", None, None)), ghost);
        assert_eq!(g.when("office", correct("ghost", 1, Some("改"), None)), ghost);
        assert_eq!(g.when("office", status("ghost", "delivered", "完成")), ghost);
        assert_eq!(g.when("office", amend("ghost", |c| c.title = Some("新".into()))), ghost);
        assert_eq!(g.when("office", reassign("ghost", "fin", None)), ghost);
    }

    #[test]
    fn progress_is_dated_today_in_the_ledgers_calendar_unless_dated() {
        let g = Given::ledger();
        let reported = |on: Date| {
            Ok(Event::ProgressReported(ProgressReported {
                item: it("bonds"), text: "进展".into(), on, evidence: None
            }))
        };
        assert_eq!(g.when("fin", progress("bonds", "进展", None)), reported(Date::Day(2024, 5, 10)));
        // 20:00 UTC on 10 May is 04:00 on 11 May in Beijing.
        assert_eq!(
            g.when_at("fin", "2024-05-10T20:00:00Z", progress("bonds", "进展", None)),
            reported(Date::Day(2024, 5, 11))
        );
        assert_eq!(g.when("fin", progress("bonds", "进展", Some("2024-04"))), reported(Date::Month(2024, 4)));
    }

    #[test]
    fn the_lead_partners_and_coordinators_report_progress() {
        let g = Given::ledger();
        for who in ["fin", "macao", "office", "admin"] {
            then_ok(g.when(who, progress("bonds", "进展", None)));
        }
        for (who, role) in [("drc", Role::Department), ("lijing", Role::Deputy), ("auditor", Role::Auditor)] {
            then_not_allowed(g.when(who, progress("bonds", "进展", None)), who, role, "report progress");
        }
    }

    #[test]
    fn progress_texts_are_checked() {
        let g = Given::ledger();
        then_invalid(g.when("fin", progress("bonds", "", None)), "text", "is empty");
        then_invalid(g.when("fin", progress("bonds", &"x".repeat(MAX_TEXT + 1), None)), "text", "limit is 16384");
        then_invalid(g.when("fin", evidence("")), "evidence", "is empty");
        then_invalid(g.when("fin", evidence("a\u{7f}")), "evidence", "U+007F");
        then_ok(g.when("fin", progress("bonds", "第一行\n\t第二行", None)));
        then_ok(g.when("fin", evidence("京科发〔2024〕12号")));
    }

    #[test]
    fn progress_happened_today_or_before() {
        let g = Given::ledger();
        for future in ["2024-05-11", "2024-06", "2025"] {
            then_invalid(g.when("fin", progress("bonds", "进展", Some(future))), "on", "in the future");
        }
        for past_or_today in ["2024-05-10", "2024-05", "2024", "2023-12-31"] {
            then_ok(g.when("fin", progress("bonds", "进展", Some(past_or_today))));
        }
    }

    #[test]
    fn the_ledgers_today_is_not_utcs() {
        // 20:00 UTC on 10 May is 11 May in Beijing.
        let g = Given::ledger();
        then_ok(g.when_at("fin", "2024-05-10T20:00:00Z", progress("bonds", "进展", Some("2024-05-11"))));
        let r = g.when_at("fin", "2024-05-10T20:00:00Z", progress("bonds", "进展", Some("2024-05-12")));
        then_invalid(r, "on", "today is 2024-05-11");
        // 03:00 UTC on 11 May is still 10 May in a ledger kept at UTC-05:00.
        let g = Given::nothing().accepted("admin", open_with(|o| o.utc_offset_minutes = -300));
        let dated = |d: &str| {
            source("s1", |s| {
                s.issuer = a("admin");
                s.date = date(d);
            })
        };
        then_invalid(g.when_at("admin", "2024-05-11T03:00:00Z", dated("2024-05-11")), "date", "today is 2024-05-10");
        then_ok(g.when_at("admin", "2024-05-11T03:00:00Z", dated("2024-05-10")));
    }

    #[test]
    fn a_closed_item_takes_no_progress_figures_or_corrections() {
        let g = Given::ledger().accepted("fin", status("bonds", "dropped", "合作方调整"));
        let closed = Err(Rejection::Closed { item: it("bonds"), status: code("dropped") });
        assert_eq!(g.when("fin", progress("bonds", "仍在推进", None)), closed);
        assert_eq!(g.when("office", figure("bonds", "1", None, None)), closed);
        assert_eq!(g.when("admin", correct("bonds", 1, Some("改"), None)), closed);
        // Authority is checked first.
        then_not_allowed(g.when("drc", progress("bonds", "进展", None)), "drc", Role::Department, "report progress");
    }

    #[test]
    fn a_closed_item_may_still_be_amended() {
        let g = Given::ledger().accepted("fin", status("bonds", "dropped", "合作方调整"));
        then_ok(g.when("office", amend("bonds", |c| c.title = Some("已放弃的承诺".into()))));
    }

    #[test]
    fn a_delivered_item_still_takes_updates_in_the_default_vocabulary() {
        let g = Given::ledger().accepted("fin", status("bonds", "delivered", "完成"));
        then_ok(g.when("fin", progress("bonds", "又有一家企业挂牌", None)));
        then_ok(g.when("fin", figure("bonds", "5", None, None)));
    }

    #[test]
    fn a_figure_is_recorded_as_given() {
        let r = Given::ledger().when("macao", figure("bonds", "2.35", Some("亿美元"), Some("2023")));
        assert_eq!(
            r,
            Ok(Event::IndicatorRecorded(IndicatorRecorded {
                item: it("bonds"),
                name: "企业数".into(),
                value: "2.35".into(),
                unit: Some("亿美元".into()),
                approximate: false,
                as_of: Some(Date::Year(2023)),
            }))
        );
    }

    #[test]
    fn a_figure_is_a_decimal_number_written_with_digits() {
        let g = Given::ledger();
        let (too_long, too_precise) = ("9".repeat(31), format!("1.{}", "0".repeat(13)));
        for bad in ["", "2,300", "4家", "1e9", ".5", "5.", "--1", "+1", "1.2.3", "١٢", &too_long, &too_precise] {
            then_invalid(g.when("fin", figure("bonds", bad, None, None)), "value", "is not a decimal number");
        }
        let (longest, most_precise) = ("9".repeat(30), format!("1.{}", "0".repeat(12)));
        for good in ["0", "-12", "2.35", "2300000000", &longest, &most_precise] {
            then_ok(g.when("fin", figure("bonds", good, None, None)));
        }
    }

    #[test]
    fn a_figure_has_a_name_a_short_unit_and_a_past_date() {
        let g = Given::ledger();
        let unnamed = Command::RecordIndicator(RecordIndicator {
            item: it("bonds"),
            name: " ".into(),
            value: "1".into(),
            unit: None,
            approximate: true,
            as_of: None,
        });
        then_invalid(g.when("fin", unnamed), "name", "is empty");
        then_invalid(g.when("fin", figure("bonds", "1", Some(""), None)), "unit", "is empty");
        then_invalid(
            g.when("fin", figure("bonds", "1", Some(&"u".repeat(65)), None)),
            "unit",
            "65 bytes; the limit is 64",
        );
        then_ok(g.when("fin", figure("bonds", "1", Some(&"u".repeat(64)), None)));
        then_invalid(g.when("fin", figure("bonds", "1", None, Some("2024-05-11"))), "as-of", "in the future");
        then_ok(g.when("fin", figure("bonds", "1", None, Some("2024-05-10"))));
    }

    #[test]
    fn only_those_involved_record_figures() {
        let g = Given::ledger();
        then_not_allowed(g.when("drc", figure("bonds", "1", None, None)), "drc", Role::Department, "record figures");
        then_not_allowed(g.when("lijing", figure("bonds", "1", None, None)), "lijing", Role::Deputy, "record figures");
        then_ok(g.when("macao", figure("bonds", "1", None, None)));
    }

    #[test]
    fn a_correction_names_an_entry_after_the_recording_and_before_the_next() {
        let g = Given::ledger();
        then_invalid(g.when("fin", correct("bonds", 1, Some("改"), None)), "entry", "item bonds has entries 1 to 0; 1");
        let g = g.accepted("fin", progress("bonds", "进展", None));
        then_invalid(g.when("fin", correct("bonds", 0, Some("改"), None)), "entry", "entry 0 is the commitment itself");
        then_invalid(g.when("fin", correct("bonds", 2, Some("改"), None)), "entry", "entries 1 to 1; 2 is not");
        assert_eq!(
            g.when("fin", correct("bonds", 1, Some("改"), None)),
            Ok(Event::EntryCorrected(EntryCorrected {
                item: it("bonds"),
                entry: StreamVersion(1),
                text: Some("改".into()),
                value: None,
                reason: "更正".into(),
            }))
        );
    }

    #[test]
    fn a_correction_may_name_any_entry_of_the_item_even_a_status_change() {
        let g = Given::ledger().accepted("fin", status("bonds", "in_progress", "启动"));
        then_ok(g.when("fin", correct("bonds", 1, Some("启动（更正）"), None)));
        then_ok(g.when("fin", correct("bonds", 1, None, Some("5"))));
    }

    #[test]
    fn a_correction_gives_a_text_or_a_value_and_a_reason() {
        let g = Given::ledger().accepted("fin", progress("bonds", "进展", None));
        then_invalid(
            g.when("fin", correct("bonds", 1, None, None)),
            "text",
            "a corrected text, a corrected value, or both",
        );
        then_invalid(g.when("fin", correct("bonds", 1, Some(""), None)), "text", "is empty");
        then_invalid(g.when("fin", correct("bonds", 1, None, Some("x"))), "value", "not a decimal number");
        let Command::Correct(mut c) = correct("bonds", 1, Some("改"), Some("5")) else { unreachable!() };
        then_ok(g.when("fin", Command::Correct(c.clone())));
        c.reason = String::new();
        then_invalid(g.when("fin", Command::Correct(c)), "reason", "is empty");
    }

    #[test]
    fn only_those_involved_correct_entries() {
        let g = Given::ledger().accepted("fin", progress("bonds", "进展", None));
        then_not_allowed(
            g.when("drc", correct("bonds", 1, Some("改"), None)),
            "drc",
            Role::Department,
            "correct entries",
        );
        then_ok(g.when("macao", correct("bonds", 1, Some("改"), None)));
        then_ok(g.when("office", correct("bonds", 1, Some("改"), None)));
    }

    // -----------------------------------------------------------------------------------------
    // Status changes.

    #[test]
    fn a_status_change_fills_in_the_status_it_leaves() {
        let changed = |from: &str, to: &str| {
            Ok(Event::StatusChanged(StatusChanged {
                item: it("bonds"),
                from: code(from),
                to: code(to),
                reason: "原因".into(),
                on: None,
            }))
        };
        let g = Given::ledger();
        assert_eq!(g.when("fin", status("bonds", "in_progress", "原因")), changed("planned", "in_progress"));
        let g = g.accepted("fin", status("bonds", "in_progress", "启动"));
        assert_eq!(g.when("fin", status("bonds", "stalled", "原因")), changed("in_progress", "stalled"));
    }

    #[test]
    fn only_the_lead_or_a_coordinator_changes_the_status() {
        let g = Given::ledger();
        for who in ["fin", "office", "admin"] {
            then_ok(g.when(who, status("bonds", "in_progress", "启动")));
        }
        for (who, role) in [("macao", Role::Counterpart), ("drc", Role::Department), ("lijing", Role::Deputy)] {
            then_not_allowed(g.when(who, status("bonds", "in_progress", "启动")), who, role, "change the status");
        }
    }

    #[test]
    fn the_new_status_is_one_the_vocabulary_defines() {
        assert_eq!(
            Given::ledger().when("fin", status("bonds", "finished", "完成")),
            Err(Rejection::UnknownCode {
                vocabulary: "status",
                code: "finished".into(),
                known: "planned, in_progress, partially_delivered, delivered, stalled, dropped".into(),
            })
        );
    }

    #[test]
    fn a_status_moves_only_as_the_vocabulary_allows() {
        let g = Given::ledger();
        let illegal = |from: &str, to: &str, allowed: &str| {
            Err(Rejection::IllegalTransition {
                item: it("bonds"),
                from: code(from),
                to: code(to),
                allowed: allowed.into(),
            })
        };
        let all_but_planned = "in_progress, delivered, partially_delivered, stalled, dropped";
        assert_eq!(g.when("fin", status("bonds", "planned", "不变")), illegal("planned", "planned", all_but_planned));
        let delivered = g.clone().accepted("fin", status("bonds", "delivered", "完成"));
        let r = delivered.when("fin", status("bonds", "dropped", "放弃"));
        assert_eq!(r, illegal("delivered", "dropped", "in_progress, partially_delivered"));
        then_ok(delivered.when("fin", status("bonds", "partially_delivered", "部分完成")));
        let dropped = g.accepted("fin", status("bonds", "dropped", "放弃"));
        assert_eq!(
            dropped.when("office", status("bonds", "in_progress", "恢复")),
            illegal("dropped", "in_progress", "none")
        );
    }

    #[test]
    fn a_status_change_gives_a_reason_and_a_date_not_after_today() {
        let g = Given::ledger();
        then_invalid(g.when("fin", status("bonds", "in_progress", "")), "reason", "is empty");
        then_invalid(g.when("fin", status_on("2024-05-11")), "on", "in the future");
        then_ok(g.when("fin", status_on("2024-05-10")));
    }

    #[test]
    fn a_stored_status_change_leaves_the_current_status() {
        let g = Given::ledger();
        let changed = |from: &str| {
            Event::StatusChanged(StatusChanged {
                item: it("bonds"),
                from: code(from),
                to: code("delivered"),
                reason: "完成".into(),
                on: None,
            })
        };
        assert_eq!(
            g.stored("fin", &changed("in_progress")),
            Err(Rejection::Mismatch { field: "from", stored: "in_progress".into(), actual: "planned".into() })
        );
        assert_eq!(g.stored("fin", &changed("planned")), Ok(()));
    }

    #[test]
    fn a_status_the_vocabulary_does_not_define_cannot_be_left() {
        // Given directly: an item recorded in a status no command could give it.
        let g = Given::ledger().event("office", recorded(commitment("limbo", "fin", |_| {}), "limbo"));
        then_invalid(g.when("fin", status("limbo", "in_progress", "启动")), "from", "limbo is undefined");
    }

    // -----------------------------------------------------------------------------------------
    // Amendments.

    #[test]
    fn the_lead_or_a_coordinator_amends() {
        let g = Given::ledger();
        let expected = Ok(Event::CommitmentAmended(CommitmentAmended {
            item: it("bonds"),
            title: Some("新标题".into()),
            title_en: None,
            text: None,
            due: None,
            area: None,
            reason: "更正".into(),
        }));
        for who in ["fin", "office", "admin"] {
            assert_eq!(g.when(who, amend("bonds", |c| c.title = Some("新标题".into()))), expected);
        }
        for (who, role) in [("macao", Role::Counterpart), ("drc", Role::Department)] {
            then_not_allowed(g.when(who, amend("bonds", |c| c.title = Some("新".into()))), who, role, "amend");
        }
    }

    #[test]
    fn an_amendment_changes_something() {
        then_invalid(Given::ledger().when("fin", amend("bonds", |_| {})), "amend", "nothing to amend");
    }

    #[test]
    fn amended_fields_are_checked() {
        let g = Given::ledger();
        then_invalid(g.when("fin", amend("bonds", |c| c.title = Some(String::new()))), "title", "is empty");
        then_invalid(g.when("fin", amend("bonds", |c| c.title_en = Some("a\nb".into()))), "title-en", "U+000A");
        then_invalid(g.when("fin", amend("bonds", |c| c.text = Some(" ".into()))), "text", "is empty");
        then_invalid(g.when("fin", amend("bonds", |c| c.due = Some(Date::Day(2025, 2, 29)))), "due", "not a real date");
        let r = g.when("fin", amend("bonds", |c| c.area = Some(area("space"))));
        assert_eq!(r, Err(Rejection::UnknownArea(area("space"))));
        let r = g.when(
            "fin",
            amend("bonds", |c| {
                c.title = Some("新".into());
                c.reason = String::new();
            }),
        );
        then_invalid(r, "reason", "is empty");
        then_ok(g.when("fin", amend("bonds", |c| c.area = Some(area("health")))));
    }

    #[test]
    fn an_amended_due_date_may_lie_in_the_future() {
        then_ok(Given::ledger().when("fin", amend("bonds", |c| c.due = Some(Date::Year(9999)))));
    }

    // -----------------------------------------------------------------------------------------
    // Reassignments.

    /// The ledger with `lab`: led by fin, helped by drc.
    fn with_lab() -> Given {
        Given::ledger().accepted("office", record("lab", "fin", |c| c.partners = vec![a("drc")]))
    }

    #[test]
    fn a_reassignment_fills_in_the_lead_it_leaves() {
        assert_eq!(
            Given::ledger().when("office", reassign("bonds", "drc", Some(&["fin"]))),
            Ok(Event::CommitmentReassigned(CommitmentReassigned {
                item: it("bonds"),
                from: a("fin"),
                lead: a("drc"),
                partners: Some(vec![a("fin")]),
                reason: "调整".into(),
            }))
        );
    }

    #[test]
    fn only_coordinators_reassign_not_even_the_lead() {
        let g = Given::ledger();
        then_not_allowed(g.when("fin", reassign("bonds", "drc", None)), "fin", Role::Department, "reassign items");
        then_ok(g.when("office", reassign("bonds", "drc", None)));
        then_ok(g.when("admin", reassign("bonds", "drc", None)));
    }

    #[test]
    fn the_new_lead_is_a_known_office_or_department() {
        let g = Given::ledger();
        assert_eq!(g.when("office", reassign("bonds", "ghost", None)), Err(Rejection::UnknownActor(a("ghost"))));
        then_invalid(g.when("office", reassign("bonds", "lijing", None)), "lead", "cannot lead an item");
        then_ok(g.when("office", reassign("bonds", "office", None)));
    }

    #[test]
    fn a_reassignment_changes_the_lead_or_the_partners() {
        let g = Given::ledger();
        then_invalid(g.when("office", reassign("bonds", "fin", None)), "lead", "fin already leads bonds");
        then_ok(g.when("office", reassign("bonds", "fin", Some(&["drc"]))));
    }

    #[test]
    fn partners_kept_by_a_reassignment_are_checked_against_the_new_lead() {
        let g = with_lab();
        then_invalid(g.when("office", reassign("lab", "drc", None)), "partner", "drc is already the lead");
        then_invalid(g.when("office", reassign("lab", "drc", Some(&["lijing"]))), "partner", "cannot be a partner");
        then_ok(g.when("office", reassign("lab", "drc", Some(&["fin"]))));
        then_ok(g.when("office", reassign("lab", "office", None)));
    }

    #[test]
    fn a_reassignment_gives_a_reason() {
        let Command::Reassign { item, lead, partners, .. } = reassign("bonds", "drc", None) else { unreachable!() };
        let r = Given::ledger().when("office", Command::Reassign { item, lead, partners, reason: "\n".into() });
        then_invalid(r, "reason", "is empty");
    }

    #[test]
    fn a_stored_reassignment_leaves_the_current_lead() {
        let g = Given::ledger();
        let reassigned = |from: &str| {
            Event::CommitmentReassigned(CommitmentReassigned {
                item: it("bonds"),
                from: a(from),
                lead: a("drc"),
                partners: None,
                reason: "调整".into(),
            })
        };
        assert_eq!(
            g.stored("office", &reassigned("drc")),
            Err(Rejection::Mismatch { field: "from", stored: "drc".into(), actual: "fin".into() })
        );
        assert_eq!(g.stored("office", &reassigned("fin")), Ok(()));
    }

    // -----------------------------------------------------------------------------------------
    // Sources: feedback and categories.

    #[test]
    fn the_addressee_records_feedback_on_her_reply() {
        let r = Given::ledger().when(
            "lijing",
            feedback("reply-1", "satisfied", |f| {
                f.text = Some("满意".into());
                f.on = Some(date("2024-05-10"));
            }),
        );
        assert_eq!(
            r,
            Ok(Event::FeedbackRecorded(FeedbackRecorded {
                source: src("reply-1"),
                verdict: code("satisfied"),
                text: Some("满意".into()),
                on: Some(Date::Day(2024, 5, 10)),
            }))
        );
    }

    #[test]
    fn feedback_only_from_the_addressee_or_a_coordinator() {
        let g = Given::ledger();
        then_ok(g.when("office", feedback("reply-1", "satisfied", |_| {})));
        then_ok(g.when("admin", feedback("memo-1", "satisfied", |_| {})));
        let r = g.when("wangwu", feedback("reply-1", "dissatisfied", |_| {}));
        then_not_allowed(r, "wangwu", Role::Deputy, "record feedback");
        let r = g.when("fin", feedback("reply-1", "satisfied", |_| {}));
        then_not_allowed(r, "fin", Role::Department, "record feedback");
        // A source addressed to no one takes feedback only from the coordinators.
        let r = g.when("lijing", feedback("memo-1", "satisfied", |_| {}));
        then_not_allowed(r, "lijing", Role::Deputy, "record feedback");
    }

    #[test]
    fn feedback_names_a_known_source_and_verdict() {
        let g = Given::ledger();
        let r = g.when("lijing", feedback("reply-9", "satisfied", |_| {}));
        assert_eq!(r, Err(Rejection::UnknownSource(src("reply-9"))));
        assert_eq!(
            g.when("lijing", feedback("reply-1", "happy", |_| {})),
            Err(Rejection::UnknownCode {
                vocabulary: "verdict",
                code: "happy".into(),
                known: "satisfied, basically_satisfied, dissatisfied".into(),
            })
        );
    }

    #[test]
    fn feedback_text_and_date_are_checked() {
        let g = Given::ledger();
        let r = g.when("lijing", feedback("reply-1", "satisfied", |f| f.text = Some(String::new())));
        then_invalid(r, "text", "is empty");
        let r = g.when("lijing", feedback("reply-1", "satisfied", |f| f.on = Some(date("2024-05-11"))));
        then_invalid(r, "on", "in the future");
    }

    #[test]
    fn coordinators_categorize_sources() {
        let g = Given::ledger();
        let expected = Ok(Event::SourceCategorized(SourceCategorized {
            source: src("reply-1"),
            category: code("a"),
            reason: Some("已解决".into()),
        }));
        assert_eq!(g.when("office", categorize("reply-1", "a", Some("已解决"))), expected);
        assert_eq!(g.when("admin", categorize("reply-1", "a", Some("已解决"))), expected);
        let r = g.when("fin", categorize("reply-1", "a", None));
        then_not_allowed(r, "fin", Role::Department, "categorize replies");
        let r = g.when("lijing", categorize("reply-1", "a", None));
        then_not_allowed(r, "lijing", Role::Deputy, "categorize replies");
    }

    #[test]
    fn a_category_is_known_and_for_a_known_source() {
        let g = Given::ledger();
        assert_eq!(g.when("office", categorize("reply-9", "a", None)), Err(Rejection::UnknownSource(src("reply-9"))));
        assert_eq!(
            g.when("office", categorize("reply-1", "e", None)),
            Err(Rejection::UnknownCode { vocabulary: "category", code: "e".into(), known: "a, b, c, d".into() })
        );
        then_invalid(g.when("office", categorize("reply-1", "a", Some(" "))), "reason", "is empty");
        // Not only replies: the rule does not look at the kind of source.
        then_ok(g.when("office", categorize("memo-1", "d", None)));
    }

    // -----------------------------------------------------------------------------------------
    // Texts.

    #[test]
    fn texts_are_refused_for_exactly_the_control_characters() {
        // Every char that is one or two bytes of UTF-8 (U+0000..U+07FF), alone and inside Chinese text:
        // refused exactly when it is a control character, newline and tab allowed only in multi-line text.
        for c in (0u32..0x800).filter_map(char::from_u32) {
            for s in [format!("进展{c}报告"), format!("{c}x"), format!("x{c}")] {
                let control = c.is_control();
                let text_ok = check_text("text", &s).is_ok();
                let name_ok = check_name("title", &s).is_ok();
                assert_eq!(text_ok, !control || c == '\n' || c == '\t', "text {s:?}");
                assert_eq!(name_ok, !control, "title {s:?}");
                if control {
                    let why = check_name("title", &s).unwrap_err().to_string();
                    assert!(why.contains(&format!("U+{:04X}", c as u32)), "{why}");
                }
            }
        }
    }

    #[test]
    fn names_and_texts_are_limited_in_bytes_not_characters() {
        assert!(check_name("name", &"x".repeat(MAX_NAME)).is_ok());
        assert!(check_name("name", &"名".repeat(170)).is_ok(), "510 bytes");
        then_invalid(check_name("name", &"名".repeat(171)), "name", "is 513 bytes; the limit is 512");
        assert!(check_text("text", &"x".repeat(MAX_TEXT)).is_ok());
        then_invalid(check_text("text", &"文".repeat(5462)), "text", "is 16386 bytes");
        then_invalid(check_name("name", " \t "), "name", "is empty");
    }
}
