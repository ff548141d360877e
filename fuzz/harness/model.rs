//! The model test: arbitrary command sequences (with batches, reopens, crash-reopens, injected store
//! failures and clock moves) run against a ledger and against [`Model`], a plain reimplementation of
//! the essential rules: who exists with which role, which items exist with which lead, partners,
//! area, status and entry count, and how many records the log holds. They must agree on every
//! acceptance and refusal; afterwards the ledger verifies, its projection equals its replay, and every
//! item's history has the model's length.
//!
//! Keys are modelled too: registering an actor or a key (a key the ledger makes, or one of the
//! [`KEYS`] pool: keys given to the ledger once their record is written, a key its department keeps
//! to itself, a weak key, a key that is no point of the curve), rotating and retiring keys, and who can
//! therefore append: in a signed ledger only an actor whose current key is at hand; in a ledger opened
//! unsigned (as version 1 did, [`Op::Unsigned`]) also an actor that never had a key. The model knows
//! which records are signed, and the verifier must count the same.
//!
//! Values come from small pools (ids that collide, strings that are empty, too long or hold control
//! characters, dates that are impossible or in the future) so that both outcomes are common.

use super::fixtures;
use arbitrary::{Arbitrary, Unstructured};
use commitment_ledger::keys::{PublicKey, SigningKey};
use commitment_ledger::{
    ActorId, Amend, AreaId, Categorize, Clock, Command, Correct, Date, Head, ItemId, Kind, Ledger, LedgerError,
    ManualClock, MemStore, NewCommitment, RecordFeedback, RecordIndicator, RecordSource, RegisterActor, RegisterArea,
    Role, Seq, SourceKind, Store, StreamVersion, Timestamp, Until,
};
use std::collections::{BTreeMap, BTreeSet};

// ---------------------------------------------------------------------------------------------
// Pools

/// Actor ids: `admin` exists from the start; the others when registered; `ghost` rarely.
pub const ACTORS: [&str; 8] = ["admin", "office", "fin", "sci", "macao", "deputy", "auditor", "ghost"];
/// Roles a registration may ask for (the last one is always refused).
pub const ROLES: [Role; 6] =
    [Role::Office, Role::Department, Role::Counterpart, Role::Deputy, Role::Auditor, Role::Admin];
/// Area ids: the first two exist from the start.
pub const AREAS: [&str; 4] = ["finance", "health", "tcm", "sports"];
/// Item ids.
pub const ITEMS: [&str; 4] = ["i0", "i1", "i2", "0771-fin-bonds"];
/// Source ids.
pub const SOURCES: [&str; 2] = ["reply-0771", "memo-1"];
/// Status codes, one unknown.
pub const STATUSES: [&str; 7] =
    ["planned", "in_progress", "partially_delivered", "delivered", "stalled", "dropped", "bogus"];
/// Verdict codes, one unknown.
pub const VERDICTS: [&str; 4] = ["satisfied", "basically_satisfied", "dissatisfied", "meh"];
/// Category codes, one unknown.
pub const CATEGORIES: [&str; 5] = ["a", "b", "c", "d", "e"];
/// Decimal values, good and bad.
pub const VALUES: [&str; 14] = [
    "4",
    "2300000000",
    "2.3",
    "-12",
    "1.",
    "",
    ".5",
    "abc",
    "1e5",
    "-",
    "0.123456789012",
    "0.1234567890123",
    "123456789012345678901234567890",
    "1234567890123456789012345678901",
];

/// Strings for names, texts, reasons and units: mostly good ones (`i < 192`), else any of 16,
/// among them empty, blank, multi-line, control characters and every length limit and one past it.
pub fn string(i: u8) -> String {
    if i < 192 {
        return ["Bonds", "金融合作", "progress report", "USD"][usize::from(i) % 4].into();
    }
    match i % 16 {
        0 => "Bonds".into(),
        1 => "金融合作".into(),
        2 => String::new(),
        3 => "   ".into(),
        4 => "two\nlines".into(),
        5 => "tab\there".into(),
        6 => "bell\u{7}".into(),
        7 => "c1\u{85}x".into(),
        8 => "x".repeat(512),
        9 => "x".repeat(513),
        10 => "é".repeat(256),
        11 => "x".repeat(16 * 1024),
        12 => "x".repeat(16 * 1024 + 1),
        13 => "del\u{7f}".into(),
        14 => "USD".into(),
        _ => "u".repeat(65),
    }
}

/// Dates: past, today, future and impossible ones (today is 2025-06-01 in Beijing).
pub const DATES: [Date; 12] = [
    Date::Year(2020),
    Date::Month(2024, 2),
    Date::Day(2024, 2, 29),
    Date::Day(2023, 2, 29),
    Date::Day(2025, 6, 1),
    Date::Day(2025, 6, 2),
    Date::Month(2025, 6),
    Date::Year(2026),
    Date::Year(999),
    Date::Month(2024, 13),
    Date::Day(2024, 4, 31),
    Date::Year(9999),
];

/// The pool of keys a command may name. The first [`KEYS_AT_HAND`] are given to the ledger (put in its
/// keyring, or its `keys/` folder) once the record registering them is written; the next is a valid
/// key whose private half the ledger never gets (a department keeping its own key); the last two are
/// refused: a weak key (the identity point, of order 1) and 32 bytes that are not a canonical point.
pub const KEYS: usize = 7;

/// Keys of the pool whose private half the ledger gets.
pub const KEYS_AT_HAND: usize = 4;

/// Whether a key of the pool may be registered at all.
pub fn key_is_valid(i: usize) -> bool {
    i <= KEYS_AT_HAND
}

/// The private half of a valid key of the pool.
pub fn pool_signing_key(i: usize) -> SigningKey {
    assert!(key_is_valid(i), "key {i} of the pool has no private half");
    fixtures::signing_key(&format!("model-key-{i}"))
}

/// A key of the pool, as a command names it.
pub fn pool_key(i: usize) -> PublicKey {
    static POOL: std::sync::OnceLock<Vec<PublicKey>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| (0..KEYS).map(make_pool_key).collect())[i % KEYS]
}

/// Which key of the pool a public key is (None: one the ledger made).
pub fn pool_index(key: &PublicKey) -> Option<usize> {
    (0..KEYS).find(|&i| pool_key(i) == *key)
}

fn make_pool_key(i: usize) -> PublicKey {
    match i {
        5 => {
            let mut identity = [0; 32];
            identity[0] = 1;
            PublicKey(identity)
        }
        6 => {
            // y = p + 2: a y coordinate of 2 in a non-canonical encoding.
            let mut y = [0xff; 32];
            y[0] = 0xef;
            y[31] = 0x7f;
            PublicKey(y)
        }
        i => PublicKey::of(&pool_signing_key(i)),
    }
}

fn pick<T: Copy>(pool: &[T], i: u8) -> T {
    pool[usize::from(i) % pool.len()]
}

/// Mostly past dates (`i < 160`), else any of the pool.
fn date(i: u8) -> Date {
    if i < 160 { pick(&[DATES[0], DATES[1], DATES[2], DATES[4], DATES[6]], i) } else { pick(&DATES, i) }
}

/// Mostly the first `good` of a pool (`i < 192`), else any of it.
fn skew<T: std::str::FromStr>(pool: &[&str], good: usize, i: u8) -> T
where
    T::Err: std::fmt::Debug,
{
    if i < 192 { id(&pool[..good], i) } else { id(pool, i) }
}

/// Mostly actors that can lead (fin, office), else any.
fn lead(i: u8) -> ActorId {
    if i < 192 { id(&["fin", "office"], i) } else { id(&ACTORS, i) }
}

/// Mostly actors that can be partners (macao, fin, office), else any.
fn partner(i: u8) -> ActorId {
    if i < 192 { id(&["macao", "fin", "office"], i) } else { id(&ACTORS, i) }
}

/// Mostly actors that write (`i < 128`), else any of the pool.
fn by(i: u8) -> ActorId {
    if i < 128 { id(&["admin", "office", "fin", "macao", "deputy"], i) } else { id(&ACTORS, i) }
}

fn id<T: std::str::FromStr>(pool: &[&str], i: u8) -> T
where
    T::Err: std::fmt::Debug,
{
    pick(pool, i).parse().expect("pool ids are valid")
}

// ---------------------------------------------------------------------------------------------
// Operations

/// One command, by indices into the pools.
#[derive(Arbitrary, Debug, Clone)]
#[allow(missing_docs)]
pub enum Cmd {
    RegisterActor {
        by: u8,
        id: u8,
        role: u8,
        name: u8,
        /// None: the ledger makes a key pair (in a signed ledger); else a key of the [`KEYS`] pool.
        key: Option<u8>,
    },
    RegisterArea {
        by: u8,
        id: u8,
        name: u8,
    },
    RecordSource {
        by: u8,
        id: u8,
        issuer: u8,
        addressee: Option<u8>,
        date: u8,
        title: u8,
        digest: u8,
    },
    Record {
        by: u8,
        id: u8,
        area: u8,
        lead: u8,
        partners: Vec<u8>,
        kind: u8,
        title: u8,
        text: u8,
        on: Option<u8>,
        due: Option<u8>,
        source: Option<u8>,
    },
    Progress {
        by: u8,
        item: u8,
        text: u8,
        on: Option<u8>,
        evidence: Option<u8>,
    },
    Status {
        by: u8,
        item: u8,
        to: u8,
        reason: u8,
        on: Option<u8>,
    },
    Indicator {
        by: u8,
        item: u8,
        name: u8,
        value: u8,
        unit: Option<u8>,
        as_of: Option<u8>,
        approx: bool,
    },
    Amend {
        by: u8,
        item: u8,
        title: Option<u8>,
        title_en: Option<u8>,
        text: Option<u8>,
        due: Option<u8>,
        area: Option<u8>,
        reason: u8,
    },
    Reassign {
        by: u8,
        item: u8,
        lead: u8,
        partners: Option<Vec<u8>>,
        reason: u8,
    },
    Correct {
        by: u8,
        item: u8,
        entry: u8,
        text: Option<u8>,
        value: Option<u8>,
        reason: u8,
    },
    Feedback {
        by: u8,
        source: u8,
        verdict: u8,
        text: Option<u8>,
        on: Option<u8>,
    },
    Categorize {
        by: u8,
        source: u8,
        category: u8,
        reason: Option<u8>,
    },
    /// A second opening record: always refused.
    OpenAgain,
    /// Register a key for an actor (its first, or a rotation): None asks the ledger to make one.
    RegisterKey {
        by: u8,
        actor: u8,
        key: Option<u8>,
    },
    /// Retire an actor's key.
    RetireKey {
        by: u8,
        actor: u8,
        reason: Option<u8>,
    },
}

/// One step of a run.
#[derive(Debug, Clone)]
pub enum Op {
    /// As the first operation: the ledger is opened unsigned, as version 1 opened ledgers (no key is
    /// made for anyone; keys come only from the pool).
    Unsigned,
    /// Append one command.
    Do(Cmd),
    /// Append commands in one all-or-nothing batch.
    Batch(Vec<Cmd>),
    /// Close (projection written back) and open again.
    Reopen,
    /// Open again from the store as it is, without writing the projection back (a crash).
    CrashReopen,
    /// Reopen with the next `1 + n % 3` store appends failing as a full disk would.
    FailNext(u8),
    /// Move the clock by this many seconds (kept within 2025-06-01 in Beijing).
    Clock(i16),
}

impl<'a> Arbitrary<'a> for Op {
    /// Weighted: appends are the common case.
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Op> {
        Ok(match u8::arbitrary(u)? {
            0..=149 => Op::Do(Cmd::arbitrary(u)?),
            150..=189 => Op::Batch(Vec::arbitrary(u)?),
            190..=209 => Op::Reopen,
            210..=229 => Op::CrashReopen,
            230..=239 => Op::FailNext(u8::arbitrary(u)?),
            _ => Op::Clock(i16::arbitrary(u)?),
        })
    }
}

/// Registers office (office), fin (department), macao (counterpart), deputy (deputy) and auditor
/// (auditor), the source reply-0771 addressed to the deputy, item i0 (planned, led by fin with
/// macao) and item i1 (ongoing, led by office).
pub fn prologue() -> Vec<Op> {
    let actor = |id, role| Op::Do(Cmd::RegisterActor { by: 0, id, role, name: 0, key: None });
    let item = |id, lead, partners, kind| {
        Op::Do(Cmd::Record {
            by: 0,
            id,
            area: 0,
            lead,
            partners,
            kind,
            title: 0,
            text: 1,
            on: None,
            due: Some(0),
            source: Some(0),
        })
    };
    vec![
        actor(1, 0),
        actor(2, 1),
        actor(4, 2),
        actor(5, 3),
        actor(6, 4),
        Op::Do(Cmd::RecordSource { by: 0, id: 0, issuer: 1, addressee: Some(5), date: 0, title: 0, digest: 0 }),
        item(0, 0, vec![0], 0),
        item(1, 1, vec![], 1),
    ]
}

/// The operations an input describes (at most 64 after the prologue, batches of at most 3). The
/// [`prologue`] comes first unless the first byte is 0; a first byte of 3 modulo 4 opens the ledger
/// unsigned ([`Op::Unsigned`]).
pub fn ops_from_bytes(data: &[u8]) -> Vec<Op> {
    let mut ops = match data.first() {
        Some(0) | None => Vec::new(),
        Some(b) if b % 4 == 3 => std::iter::once(Op::Unsigned).chain(prologue()).collect(),
        Some(_) => prologue(),
    };
    let mut u = Unstructured::new(data.get(1..).unwrap_or(&[]));
    let limit = ops.len() + 64;
    while !u.is_empty() && ops.len() < limit {
        match Op::arbitrary(&mut u) {
            Ok(Op::Batch(mut b)) => {
                b.truncate(3);
                ops.push(Op::Batch(b));
            }
            Ok(op) => ops.push(op),
            Err(_) => break,
        }
    }
    ops
}

fn partners(v: &[u8]) -> Vec<ActorId> {
    v.iter().take(4).map(|&i| partner(i)).collect()
}

/// The actor and the library command an operation stands for.
pub fn command(c: &Cmd) -> (ActorId, Command) {
    let s = string;
    let opt = |o: &Option<u8>| o.map(s);
    let cmd = match c {
        Cmd::RegisterActor { id: i, role, name, key, .. } => Command::RegisterActor(RegisterActor {
            id: id(&ACTORS, *i),
            name: s(*name),
            name_en: None,
            role: pick(&ROLES, *role),
            public_key: key.map(|k| pool_key(usize::from(k))),
        }),
        Cmd::RegisterKey { actor, key, .. } => {
            Command::RegisterKey { actor: id(&ACTORS, *actor), public_key: key.map(|k| pool_key(usize::from(k))) }
        }
        Cmd::RetireKey { actor, reason, .. } => Command::RetireKey { actor: id(&ACTORS, *actor), reason: opt(reason) },
        Cmd::RegisterArea { id: i, name, .. } => {
            Command::RegisterArea(RegisterArea { id: id(&AREAS, *i), name: s(*name), name_en: None })
        }
        Cmd::RecordSource { id: i, issuer, addressee, date: d, title, digest, .. } => {
            Command::RecordSource(RecordSource {
                id: id(&SOURCES, *i),
                kind: SourceKind::Reply,
                number: None,
                title: s(*title),
                title_en: None,
                session: None,
                date: date(*d),
                issuer: id(&ACTORS, *issuer),
                addressee: addressee.map(|a| id(&ACTORS, a)),
                contributors: vec![],
                digest: match digest % 4 {
                    0 => None,
                    1 => Some(format!("blake3:{}", "ab".repeat(32))),
                    2 => Some(format!("blake3:{}", "AB".repeat(32))),
                    _ => Some(format!("sha256:{}", "ab".repeat(32))),
                },
            })
        }
        Cmd::Record { id: i, area, lead, partners: p, kind, title, text, on, due, source, .. } => {
            Command::RecordCommitment(NewCommitment {
                id: id(&ITEMS, *i),
                source: source.map(|x| skew(&SOURCES, 1, x)),
                section: None,
                area: skew(&AREAS, 2, *area),
                lead: self::lead(*lead),
                partners: partners(p),
                title: s(*title),
                title_en: None,
                text: s(*text),
                kind: pick(&[Kind::Planned, Kind::Ongoing, Kind::Achieved], *kind),
                on: on.map(date),
                due: due.map(date),
            })
        }
        Cmd::Progress { item, text, on, evidence, .. } => Command::ReportProgress {
            item: id(&ITEMS, *item),
            text: s(*text),
            on: on.map(date),
            evidence: opt(evidence),
        },
        Cmd::Status { item, to, reason, on, .. } => Command::ChangeStatus {
            item: id(&ITEMS, *item),
            to: id(&STATUSES, *to),
            reason: s(*reason),
            on: on.map(date),
        },
        Cmd::Indicator { item, name, value, unit, as_of, approx, .. } => Command::RecordIndicator(RecordIndicator {
            item: id(&ITEMS, *item),
            name: s(*name),
            value: skew::<String>(&VALUES, 4, *value),
            unit: opt(unit),
            approximate: *approx,
            as_of: as_of.map(date),
        }),
        Cmd::Amend { item, title, title_en, text, due, area, reason, .. } => Command::Amend(Amend {
            item: id(&ITEMS, *item),
            title: opt(title),
            title_en: opt(title_en),
            text: opt(text),
            due: due.map(date),
            area: area.map(|a| skew(&AREAS, 2, a)),
            reason: s(*reason),
        }),
        Cmd::Reassign { item, lead, partners: p, reason, .. } => Command::Reassign {
            item: id(&ITEMS, *item),
            lead: self::lead(*lead),
            partners: p.as_deref().map(partners),
            reason: s(*reason),
        },
        Cmd::Correct { item, entry, text, value, reason, .. } => Command::Correct(Correct {
            item: id(&ITEMS, *item),
            entry: StreamVersion(u64::from(entry % 8)),
            text: opt(text),
            value: value.map(|v| skew::<String>(&VALUES, 4, v)),
            reason: s(*reason),
        }),
        Cmd::Feedback { source, verdict, text, on, .. } => Command::RecordFeedback(RecordFeedback {
            source: skew(&SOURCES, 1, *source),
            verdict: skew(&VERDICTS, 3, *verdict),
            text: opt(text),
            on: on.map(date),
        }),
        Cmd::Categorize { source, category, reason, .. } => Command::Categorize(Categorize {
            source: skew(&SOURCES, 1, *source),
            category: skew(&CATEGORIES, 4, *category),
            reason: opt(reason),
        }),
        Cmd::OpenAgain => Command::Open(fixtures::opened()),
    };
    let by = match c {
        Cmd::RegisterActor { by: b, .. }
        | Cmd::RegisterArea { by: b, .. }
        | Cmd::RecordSource { by: b, .. }
        | Cmd::Record { by: b, .. }
        | Cmd::Progress { by: b, .. }
        | Cmd::Status { by: b, .. }
        | Cmd::Indicator { by: b, .. }
        | Cmd::Amend { by: b, .. }
        | Cmd::Reassign { by: b, .. }
        | Cmd::Correct { by: b, .. }
        | Cmd::Feedback { by: b, .. }
        | Cmd::Categorize { by: b, .. }
        | Cmd::RegisterKey { by: b, .. }
        | Cmd::RetireKey { by: b, .. } => by(*b),
        Cmd::OpenAgain => id(&ACTORS, 0),
    };
    (by, cmd)
}

// ---------------------------------------------------------------------------------------------
// The model

/// What the model knows about an item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MItem {
    /// Lead actor.
    pub lead: String,
    /// Partners, in order.
    pub partners: Vec<String>,
    /// Area.
    pub area: String,
    /// Status code.
    pub status: String,
    /// Records in its stream.
    pub entries: u64,
}

/// An actor's key, as the model knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MKey {
    /// A key pair the ledger made (its private half is at hand from its record on).
    Made,
    /// A key of the [`KEYS`] pool.
    Pool(usize),
}

/// What the model knows about an actor's keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MKeys {
    /// Its current key: none before it has one, and after it was retired.
    pub key: Option<MKey>,
    /// Whether it has ever had a key (from then on it signs everything it appends).
    pub signs: bool,
}

/// The plain model of a ledger.
#[derive(Clone, Debug, Default)]
pub struct Model {
    /// Whether the ledger is signed (its opening record names the administrator's key).
    pub signed: bool,
    /// Actors and their roles.
    pub actors: BTreeMap<String, Role>,
    /// Actors' keys.
    pub keys: BTreeMap<String, MKeys>,
    /// Keys of the pool ever registered (current or retired): none may be registered again.
    pub used: BTreeSet<usize>,
    /// Keys of the pool whose private half the ledger has.
    pub at_hand: BTreeSet<usize>,
    /// Records that carry their actor's signature.
    pub signed_records: u64,
    /// Areas.
    pub areas: BTreeSet<String>,
    /// Sources and their addressees.
    pub sources: BTreeMap<String, Option<String>>,
    /// Items.
    pub items: BTreeMap<String, MItem>,
    /// Records in the log.
    pub records: u64,
}

/// The status moves of the default vocabulary.
fn moves(from: &str) -> &'static [&'static str] {
    match from {
        "planned" => &["in_progress", "delivered", "partially_delivered", "stalled", "dropped"],
        "in_progress" => &["delivered", "partially_delivered", "stalled", "dropped"],
        "partially_delivered" => &["in_progress", "delivered", "stalled", "dropped"],
        "delivered" => &["in_progress", "partially_delivered"],
        "stalled" => &["in_progress", "partially_delivered", "delivered", "dropped"],
        _ => &[],
    }
}

const TODAY: (u16, u8, u8) = (2025, 6, 1);

fn one_line(s: &str) -> bool {
    !s.trim().is_empty() && s.len() <= 512 && !s.chars().any(char::is_control)
}

fn text(s: &str) -> bool {
    !s.trim().is_empty() && s.len() <= 16 * 1024 && !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
}

fn decimal(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let mut parts = s.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let digits = |p: &str, max| (1..=max).contains(&p.len()) && p.chars().all(|c| c.is_ascii_digit());
    digits(int, 30) && parts.next().is_none_or(|f| digits(f, 12))
}

fn real(d: Date) -> bool {
    let (y, m, day) = match d {
        Date::Year(y) => (y, 1, 1),
        Date::Month(y, m) => (y, m, 1),
        Date::Day(y, m, d) => (y, m, d),
    };
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let len = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    (1000..=9999).contains(&y) && (1..=12).contains(&m) && day >= 1 && day <= len[usize::from(m - 1)]
}

fn past(d: Date) -> bool {
    let first = match d {
        Date::Year(y) => (y, 1, 1),
        Date::Month(y, m) => (y, m, 1),
        Date::Day(y, m, d) => (y, m, d),
    };
    real(d) && first <= TODAY
}

fn check(ok: bool) -> Result<(), ()> {
    if ok { Ok(()) } else { Err(()) }
}

fn opt_ok(o: &Option<String>, f: fn(&str) -> bool) -> bool {
    o.as_deref().is_none_or(f)
}

impl Model {
    /// The model right after `init` with the harness's opening record and areas: a signed ledger (the
    /// ledger made the administrator a key pair) or one opened unsigned.
    pub fn opened(signed: bool) -> Model {
        let mut m = Model { signed, ..Model::default() };
        m.actors.insert("admin".into(), Role::Admin);
        m.keys.insert("admin".into(), MKeys { key: signed.then_some(MKey::Made), signs: signed });
        m.areas.extend(["finance".to_string(), "health".to_string()]);
        m.records = 3;
        m.signed_records = if signed { 3 } else { 0 };
        m
    }

    /// Whether `actor` can append now: in a signed ledger, or once it has had a key, only with its
    /// current key, and only if the key's private half is at hand (a key the ledger made, or one of
    /// the pool given to it); otherwise unsigned.
    pub fn can_sign(&self, actor: &ActorId) -> bool {
        let Some(k) = self.keys.get(actor.as_str()) else { return false };
        match k.key {
            Some(MKey::Made) => true,
            Some(MKey::Pool(i)) => self.at_hand.contains(&i),
            None => !(self.signed || k.signs),
        }
    }

    /// The key a command registers: one the ledger makes (only in a signed ledger: a ledger opened
    /// unsigned makes none, and a command without a key then has none), or a valid key of the pool
    /// never registered before. Err when it is refused.
    fn new_key(&self, given: Option<&PublicKey>) -> Result<Option<MKey>, ()> {
        match given {
            None => Ok(self.signed.then_some(MKey::Made)),
            Some(k) => {
                let i = pool_index(k).ok_or(())?;
                check(key_is_valid(i) && !self.used.contains(&i))?;
                Ok(Some(MKey::Pool(i)))
            }
        }
    }

    /// Records a key registered for `actor`.
    fn register_key(&mut self, actor: &ActorId, key: Option<MKey>) {
        let k = self.keys.entry(actor.to_string()).or_insert(MKeys { key: None, signs: false });
        k.key = key;
        k.signs |= key.is_some();
        if let Some(MKey::Pool(i)) = key {
            self.used.insert(i);
        }
    }

    fn role(&self, a: &ActorId) -> Option<Role> {
        self.actors.get(a.as_str()).copied()
    }

    fn can_partner(&self, lead: &ActorId, p: &[ActorId]) -> bool {
        p.len() <= 32
            && p.iter().enumerate().all(|(i, a)| {
                matches!(self.role(a), Some(Role::Office | Role::Department | Role::Counterpart))
                    && a != lead
                    && !p[..i].contains(a)
            })
    }

    fn can_lead(&self, a: &ActorId) -> bool {
        matches!(self.role(a), Some(Role::Office | Role::Department))
    }

    /// Applies one command if the rules allow it; says whether they did (the model keeps no reason).
    #[allow(clippy::result_unit_err)]
    pub fn apply(&mut self, by: &ActorId, c: &Command) -> Result<(), ()> {
        if let Command::Open(_) = c {
            return Err(());
        }
        let role = self.role(by).ok_or(())?;
        let coord = matches!(role, Role::Admin | Role::Office);
        let by_s = by.as_str().to_string();
        let item_entry = |m: &Model, i: &ItemId| m.items.get(i.as_str()).cloned().ok_or(());
        // Who appends must be able to sign it (or, where it may, append unsigned), whatever it is.
        check(self.can_sign(by))?;
        let signed = self.keys.get(by.as_str()).is_some_and(|k| k.key.is_some());
        match c {
            Command::Open(_) => return Err(()),
            Command::RegisterActor(e) => {
                check(coord && !self.actors.contains_key(e.id.as_str()) && e.role != Role::Admin)?;
                check(one_line(&e.name) && opt_ok(&e.name_en, one_line))?;
                let key = self.new_key(e.public_key.as_ref())?;
                self.actors.insert(e.id.to_string(), e.role);
                self.register_key(&e.id, key);
            }
            Command::RegisterKey { actor, public_key } => {
                check(self.role(actor).is_some() && (coord || actor == by))?;
                let key = self.new_key(public_key.as_ref())?;
                check(key.is_some())?;
                self.register_key(actor, key);
            }
            Command::RetireKey { actor, reason } => {
                check(self.role(actor).is_some() && (coord || actor == by))?;
                let k = self.keys.get_mut(actor.as_str()).ok_or(())?;
                check(k.key.is_some() && opt_ok(reason, text))?;
                k.key = None;
            }
            Command::RegisterArea(e) => {
                check(coord && !self.areas.contains(e.id.as_str()) && one_line(&e.name))?;
                check(opt_ok(&e.name_en, one_line))?;
                self.areas.insert(e.id.to_string());
            }
            Command::RecordSource(e) => {
                check(coord && !self.sources.contains_key(e.id.as_str()) && one_line(&e.title))?;
                check(past(e.date) && self.role(&e.issuer).is_some())?;
                check(e.addressee.as_ref().is_none_or(|a| self.role(a) == Some(Role::Deputy)))?;
                let digest_ok = e.digest.as_deref().is_none_or(|d| {
                    d.strip_prefix("blake3:").is_some_and(|h| {
                        h.len() == 64 && h.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
                    })
                });
                check(digest_ok && e.contributors.is_empty())?;
                self.sources.insert(e.id.to_string(), e.addressee.as_ref().map(ToString::to_string));
            }
            Command::RecordCommitment(n) => {
                check(coord || (role == Role::Department && &n.lead == by))?;
                check(!self.items.contains_key(n.id.as_str()))?;
                check(n.source.as_ref().is_none_or(|s| self.sources.contains_key(s.as_str())))?;
                check(self.areas.contains(n.area.as_str()))?;
                check(self.can_lead(&n.lead) && self.can_partner(&n.lead, &n.partners))?;
                check(one_line(&n.title) && text(&n.text))?;
                check(n.on.is_none_or(past) && n.due.is_none_or(real))?;
                let status = match n.kind {
                    Kind::Planned => "planned",
                    Kind::Ongoing => "in_progress",
                    Kind::Achieved => "delivered",
                };
                self.items.insert(
                    n.id.to_string(),
                    MItem {
                        lead: n.lead.to_string(),
                        partners: n.partners.iter().map(ToString::to_string).collect(),
                        area: n.area.to_string(),
                        status: status.into(),
                        entries: 0,
                    },
                );
                self.bump(&n.id);
            }
            Command::ReportProgress { item, text: t, on, evidence } => {
                self.updatable(by, coord, item)?;
                check(text(t) && on.is_none_or(past) && opt_ok(evidence, text))?;
                self.bump(item);
            }
            Command::ChangeStatus { item, to, reason, on } => {
                let it = item_entry(self, item)?;
                check(coord || it.lead == by_s)?;
                check(moves(&it.status).contains(&to.as_str()))?;
                check(text(reason) && on.is_none_or(past))?;
                self.items.get_mut(item.as_str()).ok_or(())?.status = to.to_string();
                self.bump(item);
            }
            Command::RecordIndicator(e) => {
                self.updatable(by, coord, &e.item)?;
                check(one_line(&e.name) && decimal(&e.value))?;
                check(e.unit.as_deref().is_none_or(|u| one_line(u) && u.len() <= 64))?;
                check(e.as_of.is_none_or(past))?;
                self.bump(&e.item);
            }
            Command::Amend(e) => {
                let it = item_entry(self, &e.item)?;
                check(coord || it.lead == by_s)?;
                check(
                    e.title.is_some()
                        || e.title_en.is_some()
                        || e.text.is_some()
                        || e.due.is_some()
                        || e.area.is_some(),
                )?;
                check(opt_ok(&e.title, one_line) && opt_ok(&e.title_en, one_line) && opt_ok(&e.text, text))?;
                check(e.due.is_none_or(real))?;
                check(e.area.as_ref().is_none_or(|a| self.areas.contains(a.as_str())))?;
                check(text(&e.reason))?;
                if let Some(a) = &e.area {
                    self.items.get_mut(e.item.as_str()).ok_or(())?.area = a.to_string();
                }
                self.bump(&e.item);
            }
            Command::Reassign { item, lead, partners, reason } => {
                let it = item_entry(self, item)?;
                check(coord && self.can_lead(lead))?;
                check(!(it.lead == lead.as_str() && partners.is_none()))?;
                let new: Vec<ActorId> = match partners {
                    Some(p) => p.clone(),
                    None => it.partners.iter().map(|p| ActorId::new(p.as_str()).expect("valid")).collect(),
                };
                check(self.can_partner(lead, &new) && text(reason))?;
                let m = self.items.get_mut(item.as_str()).ok_or(())?;
                m.lead = lead.to_string();
                m.partners = new.iter().map(ToString::to_string).collect();
                self.bump(item);
            }
            Command::Correct(e) => {
                let it = self.updatable(by, coord, &e.item)?;
                check(e.entry.0 >= 1 && e.entry.0 < it.entries)?;
                check(e.text.is_some() || e.value.is_some())?;
                check(opt_ok(&e.text, text) && opt_ok(&e.value, decimal) && text(&e.reason))?;
                self.bump(&e.item);
            }
            Command::RecordFeedback(e) => {
                let addressee = self.sources.get(e.source.as_str()).ok_or(())?;
                check(coord || addressee.as_deref() == Some(by.as_str()))?;
                check(VERDICTS[..3].contains(&e.verdict.as_str()))?;
                check(opt_ok(&e.text, text) && e.on.is_none_or(past))?;
            }
            Command::Categorize(e) => {
                check(coord && self.sources.contains_key(e.source.as_str()))?;
                check(CATEGORIES[..4].contains(&e.category.as_str()) && opt_ok(&e.reason, text))?;
            }
        }
        self.records += 1;
        self.signed_records += u64::from(signed);
        Ok(())
    }

    /// One more record in the item's stream.
    fn bump(&mut self, item: &ItemId) {
        if let Some(m) = self.items.get_mut(item.as_str()) {
            m.entries += 1;
        }
    }

    fn updatable(&self, by: &ActorId, coord: bool, item: &ItemId) -> Result<MItem, ()> {
        let it = self.items.get(item.as_str()).cloned().ok_or(())?;
        check(coord || it.lead == by.as_str() || it.partners.iter().any(|p| p == by.as_str()))?;
        check(it.status != "dropped")?;
        Ok(it)
    }
}

// ---------------------------------------------------------------------------------------------
// Backends

/// Where the ledger under test keeps its log.
pub trait Backend {
    /// The store.
    type S: Store;
    /// A fresh, empty ledger.
    fn create(&mut self, clock: ManualClock) -> Ledger<Self::S>;
    /// The same ledger opened again: cleanly, or as after a crash (projection not written back),
    /// with the next `fail` store appends failing (where the backend can inject that).
    fn reopen(&mut self, ledger: Ledger<Self::S>, crash: bool, fail: u32, clock: ManualClock) -> Ledger<Self::S>;
    /// Whether `reopen` can inject failures.
    fn injects_failures(&self) -> bool;
    /// Puts an actor's private key where the ledger finds it (its keyring, or its `keys/` folder), as
    /// a department that keeps its own key would hand it over, for this and every later opening.
    fn give_key(&mut self, ledger: &mut Ledger<Self::S>, actor: &ActorId, key: &SigningKey);
}

/// The in-memory store.
#[derive(Default)]
pub struct MemBackend;

impl Backend for MemBackend {
    type S = MemStore;
    fn create(&mut self, clock: ManualClock) -> Ledger<MemStore> {
        Ledger::with_store(MemStore::new(), Box::new(clock)).expect("an empty store opens")
    }
    fn reopen(&mut self, mut ledger: Ledger<MemStore>, crash: bool, fail: u32, clock: ManualClock) -> Ledger<MemStore> {
        if !crash {
            // Checking the projection writes it back first, as closing does.
            ledger.check_projection().expect("writes the projection back");
        }
        let mut store = ledger.store().clone();
        drop(ledger);
        store.fail_appends = fail;
        Ledger::with_store(store, Box::new(clock)).expect("reopens")
    }
    fn injects_failures(&self) -> bool {
        true
    }
    fn give_key(&mut self, ledger: &mut Ledger<MemStore>, actor: &ActorId, key: &SigningKey) {
        // An in-memory store keeps the keys of its ledgers, and its clones share them.
        ledger.keyring_mut().insert(actor.clone(), key.clone());
    }
}

// ---------------------------------------------------------------------------------------------
// The run

/// How an append ended, in the model's terms.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Appended(u64),
    Refused(usize),
    StoreFailed,
}

fn outcome(r: Result<Vec<Head>, LedgerError>, what: &dyn std::fmt::Debug) -> Outcome {
    match r {
        Ok(a) => Outcome::Appended(a.len() as u64),
        Err(LedgerError::Rejected { index, .. }) => Outcome::Refused(index),
        Err(LedgerError::Store(_)) => Outcome::StoreFailed,
        Err(e) => panic!("unexpected error {e:?} for {what:?}"),
    }
}

/// What a run exercised.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Commands appended, by kind.
    pub appended: BTreeMap<&'static str, u64>,
    /// Commands refused, by kind.
    pub refused: BTreeMap<&'static str, u64>,
    /// Appends that failed in the store.
    pub store_failures: u64,
    /// Reopens, clean or after a crash.
    pub reopens: u64,
    /// Batches of more than one command appended.
    pub batches: u64,
}

impl Stats {
    /// Adds another run's counts.
    pub fn add(&mut self, other: &Stats) {
        for (k, v) in &other.appended {
            *self.appended.entry(k).or_default() += v;
        }
        for (k, v) in &other.refused {
            *self.refused.entry(k).or_default() += v;
        }
        self.store_failures += other.store_failures;
        self.reopens += other.reopens;
        self.batches += other.batches;
    }
}

fn kind(c: &Command) -> &'static str {
    match c {
        Command::Open(_) => "open",
        Command::RegisterActor(_) => "actor",
        Command::RegisterArea(_) => "area",
        Command::RecordSource(_) => "source",
        Command::RecordCommitment(_) => "record",
        Command::ReportProgress { .. } => "progress",
        Command::ChangeStatus { .. } => "status",
        Command::RecordIndicator(_) => "indicator",
        Command::Amend(_) => "amend",
        Command::Reassign { .. } => "reassign",
        Command::Correct(_) => "correct",
        Command::RecordFeedback(_) => "feedback",
        Command::Categorize(_) => "categorize",
        Command::RegisterKey { .. } => "key",
        Command::RetireKey { .. } => "retire",
    }
}

/// The keys of the pool that commands register, at hand once their records are written.
fn keys_to_give(commands: &[(ActorId, Command)]) -> Vec<(ActorId, usize)> {
    commands
        .iter()
        .filter_map(|(_, c)| {
            let (whose, key) = match c {
                Command::RegisterActor(r) => (&r.id, r.public_key.as_ref()?),
                Command::RegisterKey { actor, public_key } => (actor, public_key.as_ref()?),
                _ => return None,
            };
            let i = pool_index(key).filter(|&i| i < KEYS_AT_HAND)?;
            Some((whose.clone(), i))
        })
        .collect()
}

/// Runs the operations against a ledger on `backend` and the model; panics where they disagree.
pub fn run<B: Backend>(ops: &[Op], backend: &mut B) -> Stats {
    let mut stats = Stats::default();
    let base = fixtures::now();
    let clock = ManualClock::at(base);
    let unsigned = matches!(ops.first(), Some(Op::Unsigned));
    let mut ledger = backend.create(clock.clone());
    if unsigned {
        ledger.keyring_mut().make_no_keys();
    }
    ledger.init(fixtures::opened(), fixtures::areas()).expect("init");
    let mut model = Model::opened(!unsigned);
    let mut failures = 0u32;
    for (step, op) in ops.iter().enumerate() {
        let commands: Vec<(ActorId, Command)> = match op {
            Op::Unsigned => continue,
            Op::Do(c) => vec![command(c)],
            Op::Batch(cs) => cs.iter().map(command).collect(),
            Op::Reopen | Op::CrashReopen => {
                ledger = backend.reopen(ledger, matches!(op, Op::CrashReopen), failures, clock.clone());
                if unsigned {
                    ledger.keyring_mut().make_no_keys();
                }
                stats.reopens += 1;
                agree(&mut ledger, &model, step);
                continue;
            }
            Op::FailNext(n) => {
                if backend.injects_failures() {
                    failures = 1 + u32::from(n % 3);
                    ledger = backend.reopen(ledger, true, failures, clock.clone());
                    if unsigned {
                        ledger.keyring_mut().make_no_keys();
                    }
                }
                continue;
            }
            Op::Clock(secs) => {
                let lo = base.0 - 10 * 3_600_000_000;
                let hi = base.0 + 10 * 3_600_000_000;
                clock.set(Timestamp((clock.now().0 + i64::from(*secs) * 1_000_000).clamp(lo, hi)));
                continue;
            }
        };
        // The model's verdict: the batch applies to a copy, which replaces the model if all pass.
        let mut next = model.clone();
        let mut expected = Outcome::Appended(commands.len() as u64);
        for (i, (by, c)) in commands.iter().enumerate() {
            if next.apply(by, c).is_err() {
                expected = Outcome::Refused(i);
                break;
            }
        }
        // The store is asked only when every command passed; an injected failure then loses all.
        if expected == Outcome::Appended(commands.len() as u64) && !commands.is_empty() && failures > 0 {
            expected = Outcome::StoreFailed;
            failures -= 1;
        }
        let head_before = ledger.head();
        let got = outcome(ledger.append_batch(commands.clone()), &commands);
        assert_eq!(got, expected, "step {step}: the ledger and the model disagree on {commands:?}");
        match got {
            Outcome::Appended(n) => {
                model = next;
                for (_, c) in &commands {
                    *stats.appended.entry(kind(c)).or_default() += 1;
                }
                stats.batches += u64::from(n > 1);
                for (whose, i) in keys_to_give(&commands) {
                    backend.give_key(&mut ledger, &whose, &pool_signing_key(i));
                    model.at_hand.insert(i);
                }
            }
            Outcome::Refused(i) => {
                *stats.refused.entry(kind(&commands[i].1)).or_default() += 1;
            }
            Outcome::StoreFailed => stats.store_failures += 1,
        }
        if !matches!(got, Outcome::Appended(_)) {
            assert_eq!(ledger.head(), head_before, "step {step}: a refused or failed append moved the head");
        }
        assert_eq!(ledger.head().map_or(0, |h| h.seq.0 + 1), model.records, "step {step}: record count");
        agree(&mut ledger, &model, step);
    }
    finish(ledger, &model, failures);
    stats
}

/// The ledger's state agrees with the model's.
fn agree<S: Store>(ledger: &mut Ledger<S>, model: &Model, step: usize) {
    assert_eq!(ledger.damage(), None, "step {step}: the ledger is damaged");
    assert_eq!(ledger.head().map_or(0, |h| h.seq.0 + 1), model.records, "step {step}: record count");
    let reg = ledger.registry();
    let actors: BTreeMap<String, Role> = reg.actors.iter().map(|(k, v)| (k.to_string(), v.role)).collect();
    assert_eq!(actors, model.actors, "step {step}: actors");
    let keys: BTreeMap<String, MKeys> = reg
        .actors
        .iter()
        .map(|(k, v)| {
            let key = v.key.map(|pk| pool_index(&pk).map_or(MKey::Made, MKey::Pool));
            (k.to_string(), MKeys { key, signs: v.signs })
        })
        .collect();
    assert_eq!(keys, model.keys, "step {step}: keys");
    let areas: BTreeSet<String> = reg.areas.keys().map(ToString::to_string).collect();
    assert_eq!(areas, model.areas, "step {step}: areas");
    let sources: BTreeMap<String, Option<String>> = reg
        .sources
        .iter()
        .map(|(k, v)| (k.to_string(), v.source.addressee.as_ref().map(ToString::to_string)))
        .collect();
    assert_eq!(sources, model.sources, "step {step}: sources");
    for name in ITEMS {
        let got = ledger.item(&ItemId::new(name).expect("valid")).expect("reads").map(|i| MItem {
            lead: i.core.lead.to_string(),
            partners: i.core.partners.iter().map(ToString::to_string).collect(),
            area: i.core.area.to_string(),
            status: i.core.status.to_string(),
            entries: i.core.pos.next.0,
        });
        assert_eq!(got.as_ref(), model.items.get(name), "step {step}: item {name}");
    }
}

/// After the run: the log verifies, every record is acknowledged, the projection equals a replay,
/// every item's history has the model's length, and replaying to each earlier record works.
fn finish<S: Store>(mut ledger: Ledger<S>, model: &Model, mut failures: u32) {
    let report = ledger.verify(&mut |_| {}).expect("verifies");
    assert!(report.ok, "the ledger does not verify: {report:?}");
    assert_eq!(report.records, model.records);
    assert_eq!(report.unacknowledged, 0, "{report:?}");
    assert_eq!((report.signed, report.unsigned), (model.signed_records, model.records - model.signed_records));
    assert_eq!(ledger.check_projection().expect("checks"), Vec::<String>::new());
    let live = super::items(&mut ledger);
    let head = ledger.head().expect("opened").seq;
    let replayed: Vec<_> = ledger.replay(Until::Seq(head)).expect("replays").items().cloned().collect();
    assert_eq!(live, replayed, "the replay differs from the live projection");
    for (name, m) in &model.items {
        let h = ledger.history(&ItemId::new(name.as_str()).expect("valid")).expect("reads").expect("exists");
        assert_eq!(h.len() as u64, m.entries, "history of {name}");
    }
    // A replay to the middle has exactly the items recorded by then.
    let mid = Seq(head.0 / 2);
    let mut expected = 0;
    ledger
        .for_each_record(Seq(0), &mut |r, _| {
            if r.seq <= mid && matches!(r.event, commitment_ledger::Event::CommitmentRecorded(_)) {
                expected += 1;
            }
            std::ops::ControlFlow::Continue(())
        })
        .expect("reads");
    let n = ledger.replay(Until::Seq(mid)).expect("replays").items().count();
    assert_eq!(n, expected, "replay to {mid}");
    // Writing resumes after everything above (once the injected failures are used up), as a
    // coordinator who can still sign (if none can, the append is refused, and nothing is written).
    let writer = ["admin", "office"]
        .into_iter()
        .map(|a| ActorId::new(a).expect("valid"))
        .find(|a| model.can_sign(a))
        .unwrap_or_else(|| ActorId::new("admin").expect("valid"));
    let area = RegisterArea { id: AreaId::new("zz-final").expect("valid"), name: "final".into(), name_en: None };
    let writes = model.clone().apply(&writer, &Command::RegisterArea(area.clone())).is_ok();
    loop {
        match ledger.append(&writer, Command::RegisterArea(area.clone())) {
            Err(LedgerError::Store(_)) if failures > 0 && writes => failures -= 1,
            Err(LedgerError::Rejected { .. }) if !writes => break,
            r => {
                let a = r.expect("appends after the run");
                assert!(writes, "{writer} appended, but the model says it cannot");
                assert_eq!(a.seq.0, model.records, "the append after the run continues the log");
                break;
            }
        }
    }
    let report = ledger.verify(&mut |_| {}).expect("verifies");
    assert!(report.ok && report.records == model.records + u64::from(writes), "{report:?}");
}
