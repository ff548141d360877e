//! Guards `schema/record-format.md` against drift: a decoder written from the document alone (its
//! tables drive it) reads every record of a ledger holding every event type, and of the golden fixture,
//! and must agree with the crate field by field, hash by hash; the worked example must be byte for byte
//! what the library writes.
//!
//! Nothing here calls the crate's decoder, codec or bincode to read bytes: the crate is only the party
//! whose answers are compared.

use commitment_ledger::MAX_RECORD_BYTES;
use commitment_ledger::STORE_FORMAT;
use commitment_ledger::{
    ActorId, AreaId, Code, Command, Date, Event, Hash, ItemId, Ledger, MemStore, NewCommitment, Record, Seq, SourceId,
    Store, StreamId, StreamVersion,
};
use commitment_ledger::{ActorRegistered, EventType, IndicatorRecorded, ProgressReported, SourceRecorded};
#[allow(unused_imports)]
use commitment_ledger::{
    Amend, Categorize, Correct, OpenLedger, RecordFeedback, RecordIndicator, RecordSource, RegisterActor, RegisterArea,
    Timestamp,
};
use commitment_ledger::{Kind, Role, SourceKind, Vocabulary};
use commitment_ledger::{RECORD_CONTEXT, RECORD_FORMAT};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::ControlFlow;

const DOC: &str = include_str!("../schema/record-format.md");
const GOLDEN_RECORDS: &str = include_str!("fixtures/golden-v1/records.hex");

/// The constants, as the document states them.
const CONTEXT: &str = "commitment-ledger 2026-11-27 record v1";
const LIMIT: usize = 262_144;

// ---------------------------------------------------------------------------------------------------
// The document's tables.

/// A type as the document writes it.
#[derive(Clone, Debug, PartialEq)]
enum Ty {
    U8,
    U16,
    U32,
    U64,
    I32,
    I64,
    Bool,
    Str,
    Bytes,
    /// A `str` holding an id (`ActorId`, `AreaId`, `SourceId`, `ItemId`, `Code`).
    Id,
    Hash32,
    Option(Box<Ty>),
    Vec(Box<Ty>),
    /// A structure or an enumeration of section 6.
    Named(String),
}

fn parse_ty(s: &str) -> Ty {
    let s = s.trim().trim_matches('`');
    let inner = |prefix: &str| s.strip_prefix(prefix).and_then(|r| r.strip_suffix('>')).map(parse_ty).map(Box::new);
    if let Some(t) = inner("Option<") {
        return Ty::Option(t);
    }
    if let Some(t) = inner("Vec<") {
        return Ty::Vec(t);
    }
    match s {
        "u8" => Ty::U8,
        "u16" => Ty::U16,
        "u32" => Ty::U32,
        "u64" => Ty::U64,
        "i32" => Ty::I32,
        "i64" => Ty::I64,
        "bool" => Ty::Bool,
        "str" => Ty::Str,
        "bytes" => Ty::Bytes,
        "[u8; 32]" => Ty::Hash32,
        "ActorId" | "AreaId" | "SourceId" | "ItemId" | "Code" => Ty::Id,
        name => {
            assert!(name.chars().all(|c| c.is_ascii_alphanumeric()), "the document names an unknown type {name:?}");
            Ty::Named(name.to_string())
        }
    }
}

/// The text between `<!-- NAME:begin -->` and `<!-- NAME:end -->`.
fn block(name: &str) -> &'static str {
    let begin = format!("<!-- {name}:begin -->");
    let end = format!("<!-- {name}:end -->");
    let start = DOC.find(&begin).unwrap_or_else(|| panic!("the document has no {begin}")) + begin.len();
    let len = DOC[start..].find(&end).unwrap_or_else(|| panic!("the document has no {end}"));
    &DOC[start..start + len]
}

/// The data rows of the tables under each `### ` heading of a block: heading → rows of cells.
fn tables(name: &str) -> Vec<(String, Vec<Vec<String>>)> {
    let mut out: Vec<(String, Vec<Vec<String>>)> = Vec::new();
    for line in block(name).lines() {
        if let Some(heading) = line.strip_prefix("### ") {
            out.push((heading.trim().to_string(), Vec::new()));
        } else if let Some(row) = line.strip_prefix('|') {
            let cells: Vec<String> = row.split('|').map(|c| c.trim().to_string()).collect();
            if cells[0].starts_with(|c: char| c.is_ascii_digit()) || cells[0] == "var" {
                out.last_mut().expect("a table under a heading").1.push(cells);
            }
        }
    }
    out
}

fn unquote(s: &str) -> String {
    s.trim().trim_matches('`').to_string()
}

/// One enumeration variant: index, name, field types, JSON word.
#[derive(Debug)]
struct Variant {
    index: u32,
    name: String,
    fields: Vec<Ty>,
    word: String,
}

/// Everything the decoder knows, read from the document.
struct Spec {
    /// Event type number → (name, fields).
    events: BTreeMap<u16, (String, Vec<(String, Ty)>)>,
    structs: HashMap<String, Vec<(String, Ty)>>,
    enums: HashMap<String, Vec<Variant>>,
}

fn fields_of(rows: &[Vec<String>]) -> Vec<(String, Ty)> {
    rows.iter()
        .enumerate()
        .map(|(i, cells)| {
            assert_eq!(cells[0], (i + 1).to_string(), "fields are numbered in order");
            (unquote(&cells[1]), parse_ty(&cells[2]))
        })
        .collect()
}

fn spec() -> Spec {
    let mut events = BTreeMap::new();
    for (heading, rows) in tables("events") {
        let (number, name) = heading.split_once(' ').expect("### N Name");
        let number: u16 = number.parse().expect("an event type number");
        assert!(!rows.is_empty(), "event {heading} has no fields");
        assert!(events.insert(number, (name.to_string(), fields_of(&rows))).is_none(), "event {number} twice");
    }
    let structs = tables("structures").into_iter().map(|(name, rows)| (name, fields_of(&rows))).collect();
    let enums = tables("enums")
        .into_iter()
        .map(|(name, rows)| {
            let variants = rows
                .iter()
                .map(|cells| Variant {
                    index: cells[0].parse().unwrap(),
                    name: cells[1].clone(),
                    fields: cells[2]
                        .split(',')
                        .filter(|f| !f.trim().is_empty())
                        .map(|f| parse_ty(f.trim().split('`').nth(1).expect("a `type` per field")))
                        .collect(),
                    word: unquote(&cells[3]),
                })
                .collect();
            (name, variants)
        })
        .collect();
    Spec { events, structs, enums }
}

// ---------------------------------------------------------------------------------------------------
// The decoder: a cursor over bytes, and values read as JSON in the crate's JSON conventions (so that
// they can be compared with `serde_json::to_value` of what the crate decoded).

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

type Read<T> = Result<T, String>;

impl<'a> Cursor<'a> {
    fn new(bytes: &'a [u8]) -> Cursor<'a> {
        Cursor { bytes, pos: 0 }
    }

    fn take(&mut self, n: usize) -> Read<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.bytes.len());
        let end =
            end.ok_or_else(|| format!("{n} bytes at offset {} run past the end ({})", self.pos, self.bytes.len()))?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Read<[u8; N]> {
        Ok(self.take(N)?.try_into().expect("N bytes"))
    }

    fn u8(&mut self) -> Read<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Read<u16> {
        self.array().map(u16::from_le_bytes)
    }
    fn u32(&mut self) -> Read<u32> {
        self.array().map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Read<u64> {
        self.array().map(u64::from_le_bytes)
    }
    fn i32(&mut self) -> Read<i32> {
        self.array().map(i32::from_le_bytes)
    }
    fn i64(&mut self) -> Read<i64> {
        self.array().map(i64::from_le_bytes)
    }

    fn bool(&mut self) -> Read<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(format!("bool byte {b}")),
        }
    }

    /// An `Option` tag: whether a value follows.
    fn some(&mut self) -> Read<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(format!("Option tag {b}")),
        }
    }

    fn bytes(&mut self) -> Read<&'a [u8]> {
        let len = self.u64()?;
        let len = usize::try_from(len).map_err(|_| format!("length {len}"))?;
        self.take(len)
    }

    fn str(&mut self) -> Read<String> {
        let b = self.bytes()?;
        String::from_utf8(b.to_vec()).map_err(|e| format!("not UTF-8: {e}"))
    }

    fn id(&mut self) -> Read<String> {
        let s = self.str()?;
        if is_id(&s) { Ok(s) } else { Err(format!("{s:?} is not an id")) }
    }

    fn done(&self) -> Read<()> {
        let left = self.bytes.len() - self.pos;
        if left == 0 { Ok(()) } else { Err(format!("{left} bytes left over")) }
    }
}

/// Section 7: 1 to 64 bytes of `a-z 0-9 . _ -`, starting with a letter or digit.
fn is_id(s: &str) -> bool {
    let ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-');
    (1..=64).contains(&s.len())
        && s.bytes().all(ok)
        && (s.as_bytes()[0].is_ascii_lowercase() || s.as_bytes()[0].is_ascii_digit())
}

/// Section 4.
fn is_stream(s: &str) -> bool {
    s == "ledger"
        || s.split_once('/').is_some_and(|(kind, id)| ["actor", "area", "source", "item"].contains(&kind) && is_id(id))
}

fn read(c: &mut Cursor<'_>, ty: &Ty, spec: &Spec) -> Read<Value> {
    Ok(match ty {
        Ty::U8 => json!(c.u8()?),
        Ty::U16 => json!(c.u16()?),
        Ty::U32 => json!(c.u32()?),
        Ty::U64 => json!(c.u64()?),
        Ty::I32 => json!(c.i32()?),
        Ty::I64 => json!(c.i64()?),
        Ty::Bool => json!(c.bool()?),
        Ty::Str => json!(c.str()?),
        Ty::Id => json!(c.id()?),
        Ty::Bytes => json!(c.bytes()?),
        Ty::Hash32 => json!(c.array::<32>()?),
        Ty::Option(t) => {
            if c.some()? {
                read(c, t, spec)?
            } else {
                Value::Null
            }
        }
        Ty::Vec(t) => {
            let n = c.u64()?;
            let mut items = Vec::new();
            for _ in 0..n {
                items.push(read(c, t, spec)?);
            }
            Value::Array(items)
        }
        Ty::Named(name) => {
            if let Some(fields) = spec.structs.get(name) {
                let mut obj = serde_json::Map::new();
                for (field, t) in fields {
                    obj.insert(field.clone(), read(c, t, spec)?);
                }
                Value::Object(obj)
            } else if let Some(variants) = spec.enums.get(name) {
                let index = c.u32()?;
                let v = variants.iter().find(|v| v.index == index).ok_or(format!("{name} has no variant {index}"))?;
                let fields = v.fields.iter().map(|t| read(c, t, spec)).collect::<Read<Vec<Value>>>()?;
                if name == "Date" {
                    // JSON: the numbers joined by '-', the year with 4 digits, month and day with 2.
                    let parts: Vec<String> = fields
                        .iter()
                        .enumerate()
                        .map(|(i, n)| {
                            let n = n.as_u64().expect("a number");
                            if i == 0 { format!("{n:04}") } else { format!("{n:02}") }
                        })
                        .collect();
                    json!(parts.join("-"))
                } else {
                    assert!(fields.is_empty(), "{name}::{} carries fields the JSON word cannot", v.name);
                    json!(v.word)
                }
            } else {
                panic!("the document does not define {name}")
            }
        }
    })
}

/// The envelope of section 2, read by hand (with the fixed offsets checked as it goes).
#[derive(Debug, PartialEq)]
struct Envelope {
    format: u8,
    seq: u64,
    prev: [u8; 32],
    time: i64,
    actor: String,
    stream: String,
    stream_version: u64,
    stream_prev: Option<u64>,
    event_type: u16,
    event_version: u16,
    body: Value,
    signature: Option<Vec<u8>>,
}

/// The envelope's fields and types as this decoder reads them, to compare with the document's table.
const ENVELOPE: [(&str, &str); 12] = [
    ("format", "u8"),
    ("seq", "u64"),
    ("prev", "[u8; 32]"),
    ("time", "i64"),
    ("actor", "ActorId"),
    ("stream", "str"),
    ("stream_version", "u64"),
    ("stream_prev", "Option<u64>"),
    ("event_type", "u16"),
    ("event_version", "u16"),
    ("body", "bytes"),
    ("signature", "Option<bytes>"),
];

fn decode(bytes: &[u8], spec: &Spec) -> Read<Envelope> {
    if bytes.len() > LIMIT {
        return Err(format!("{} bytes is over the limit", bytes.len()));
    }
    let mut c = Cursor::new(bytes);
    let format = c.u8()?;
    if format != 1 {
        return Err(format!("unknown format {format}"));
    }
    let seq = c.u64()?;
    let prev = c.array::<32>()?;
    assert_eq!(c.pos, 41);
    let time = c.i64()?;
    assert_eq!(c.pos, 49);
    let actor = c.id()?;
    let stream = c.str()?;
    if !is_stream(&stream) {
        return Err(format!("{stream:?} is not a stream"));
    }
    let stream_version = c.u64()?;
    let stream_prev = if c.some()? { Some(c.u64()?) } else { None };
    let event_type = c.u16()?;
    let event_version = c.u16()?;
    let body_bytes = c.bytes()?;
    let signature = if c.some()? { Some(c.bytes()?.to_vec()) } else { None };
    c.done()?;

    let (_, fields) = spec.events.get(&event_type).ok_or(format!("unknown event type {event_type}"))?;
    if event_version != 1 {
        return Err(format!("unknown event version {event_version}"));
    }
    let mut b = Cursor::new(body_bytes);
    let mut body = serde_json::Map::new();
    for (field, ty) in fields {
        body.insert(field.clone(), read(&mut b, ty, spec).map_err(|e| format!("body field {field}: {e}"))?);
    }
    b.done().map_err(|e| format!("body: {e}"))?;
    Ok(Envelope {
        format,
        seq,
        prev,
        time,
        actor,
        stream,
        stream_version,
        stream_prev,
        event_type,
        event_version,
        body: Value::Object(body),
        signature,
    })
}

/// Section 3.
fn hash(bytes: &[u8]) -> [u8; 32] {
    let mut h = blake3::Hasher::new_derive_key(CONTEXT);
    h.update(bytes);
    *h.finalize().as_bytes()
}

/// The stream an event belongs to (section 4), from its decoded body.
fn event_stream(event_type: u16, body: &Value) -> String {
    let field = |f: &str| body[f].as_str().expect("an id").to_string();
    match event_type {
        1 => "ledger".into(),
        2 => format!("actor/{}", field("id")),
        3 => format!("area/{}", field("id")),
        4 => format!("source/{}", field("id")),
        5 => format!("item/{}", field("id")),
        6..=11 => format!("item/{}", field("item")),
        12 | 13 => format!("source/{}", field("source")),
        n => panic!("event type {n}"),
    }
}

// ---------------------------------------------------------------------------------------------------
// Comparison with the crate.

fn crate_body(e: &Event) -> Value {
    let v = match e {
        Event::LedgerOpened(x) => serde_json::to_value(x),
        Event::ActorRegistered(x) => serde_json::to_value(x),
        Event::AreaRegistered(x) => serde_json::to_value(x),
        Event::SourceRecorded(x) => serde_json::to_value(x),
        Event::CommitmentRecorded(x) => serde_json::to_value(x),
        Event::ProgressReported(x) => serde_json::to_value(x),
        Event::StatusChanged(x) => serde_json::to_value(x),
        Event::IndicatorRecorded(x) => serde_json::to_value(x),
        Event::CommitmentAmended(x) => serde_json::to_value(x),
        Event::CommitmentReassigned(x) => serde_json::to_value(x),
        Event::EntryCorrected(x) => serde_json::to_value(x),
        Event::FeedbackRecorded(x) => serde_json::to_value(x),
        Event::SourceCategorized(x) => serde_json::to_value(x),
    };
    v.unwrap()
}

fn assert_same(env: &Envelope, rec: &Record) {
    let at = format!("record {}", rec.seq);
    assert_eq!(env.format, RECORD_FORMAT, "{at}");
    assert_eq!(env.seq, rec.seq.0, "{at}");
    assert_eq!(env.prev, rec.prev.0, "{at}");
    assert_eq!(env.time, rec.time.0, "{at}");
    assert_eq!(env.actor, rec.actor.as_str(), "{at}");
    assert_eq!(env.stream, rec.stream.to_text(), "{at}");
    assert_eq!(env.stream_version, rec.stream_version.0, "{at}");
    assert_eq!(env.stream_prev, rec.stream_prev.map(|s| s.0), "{at}");
    assert_eq!(env.event_type, rec.event.event_type() as u16, "{at}");
    assert_eq!(env.event_version, rec.event_version, "{at}");
    assert_eq!(env.event_version, rec.event.event_type().version(), "{at}");
    assert_eq!(env.body, crate_body(&rec.event), "{at}: body");
    assert_eq!(env.signature, rec.signature, "{at}");
}

/// Reads a whole log with the document's decoder and checks everything section 11 asks that does not
/// need the rules: the decode, the seq, the chain, the times, the streams. Compares every record with the
/// crate's decoding and hash. Returns the event types seen and the head.
fn check_log(records: &[Vec<u8>]) -> (BTreeSet<u16>, [u8; 32]) {
    let spec = spec();
    let mut prev = [0u8; 32];
    let mut prev_time = 0i64;
    let mut streams: HashMap<String, (u64, u64)> = HashMap::new();
    let mut types = BTreeSet::new();
    for (position, bytes) in records.iter().enumerate() {
        let env = decode(bytes, &spec).unwrap_or_else(|e| panic!("record {position}: {e}"));
        assert_same(&env, &Record::decode(bytes).unwrap());

        assert_eq!(env.seq, position as u64);
        assert_eq!(env.prev, prev, "record {position} does not link to the record before it");
        assert!(env.time >= prev_time, "record {position} goes back in time");
        assert_eq!(env.stream, event_stream(env.event_type, &env.body), "record {position} is in the wrong stream");
        let (version, last) = match streams.get(&env.stream) {
            Some(&(count, last)) => (count, Some(last)),
            None => (0, None),
        };
        assert_eq!((env.stream_version, env.stream_prev), (version, last), "record {position}: stream position");
        streams.insert(env.stream.clone(), (version + 1, env.seq));
        assert_eq!(env.signature, None, "format 1 records carry no signature");

        prev = hash(bytes);
        assert_eq!(prev, commitment_ledger::hash_record_bytes(bytes).0);
        prev_time = env.time;
        types.insert(env.event_type);
    }
    (types, prev)
}

// ---------------------------------------------------------------------------------------------------
// A ledger holding every event type, every enumeration variant that may be written, every `Date`
// precision, `Option`s both None and Some, empty and non-empty `Vec`s, and a negative UTC offset.

fn a(s: &str) -> ActorId {
    ActorId::new(s).unwrap()
}
fn i(s: &str) -> ItemId {
    ItemId::new(s).unwrap()
}
fn src(s: &str) -> SourceId {
    SourceId::new(s).unwrap()
}
fn ar(s: &str) -> AreaId {
    AreaId::new(s).unwrap()
}
fn c(s: &str) -> Code {
    Code::new(s).unwrap()
}
fn t(s: &str) -> String {
    s.to_string()
}

fn coverage_ledger() -> Ledger<MemStore> {
    let clock = commitment_ledger::ManualClock::at(Timestamp::parse("2025-01-06T09:00:00Z").unwrap());
    let mut ledger = Ledger::with_store(MemStore::new(), Box::new(clock.clone())).unwrap();
    let opened = OpenLedger {
        title: t("Format coverage"),
        origin: t("example.org/format-coverage"),
        utc_offset_minutes: -330,
        admin: a("admin"),
        admin_name: t("Administrator"),
        vocabulary: Vocabulary::default_v1(),
    };
    let areas = vec![
        RegisterArea { id: ar("one"), name: t("Area one"), name_en: Some(t("Area one")) },
        RegisterArea { id: ar("two"), name: t("第二"), name_en: None },
    ];
    ledger.init(opened, areas).unwrap();

    let mut step = |actor: &str, command: Command| {
        clock.shift(3_600_000_000);
        ledger.append(&a(actor), command).unwrap_or_else(|e| panic!("{e}"));
    };
    for (id, role, en) in [
        ("office", Role::Office, None),
        ("dept-a", Role::Department, Some("Department A")),
        ("dept_b", Role::Department, None),
        ("partner.x", Role::Counterpart, Some("Partner X")),
        ("deputy-1", Role::Deputy, None),
        ("auditor", Role::Auditor, None),
    ] {
        let e = RegisterActor { id: a(id), name: format!("{id} 名"), name_en: en.map(t), role };
        step("admin", Command::RegisterActor(e));
    }
    let source = |id: &str, kind, date| RecordSource {
        id: src(id),
        kind,
        number: None,
        title: format!("Source {id}"),
        title_en: None,
        session: None,
        date,
        issuer: a("office"),
        addressee: None,
        contributors: Vec::new(),
        digest: None,
    };
    step(
        "office",
        Command::RecordSource(RecordSource {
            number: Some(t("0001")),
            title_en: Some(t("Reply one")),
            session: Some(t("Session 1")),
            addressee: Some(a("deputy-1")),
            contributors: vec![a("dept-a"), a("dept_b")],
            digest: Some(format!("blake3:{}", "0f".repeat(32))),
            ..source("s-reply", SourceKind::Reply, Date::Day(2024, 12, 31))
        }),
    );
    step("office", Command::RecordSource(source("s-memo", SourceKind::Memorandum, Date::Year(2024))));
    step("admin", Command::RecordSource(source("s-agree", SourceKind::Agreement, Date::Month(2024, 2))));
    step("office", Command::RecordSource(source("s-meet", SourceKind::Meeting, Date::Day(2024, 2, 29))));
    step("office", Command::RecordSource(source("s-other", SourceKind::Other, Date::Year(2025))));

    let commitment = |id: &str, kind, lead: &str| NewCommitment {
        id: i(id),
        source: None,
        section: None,
        area: ar("one"),
        lead: a(lead),
        partners: Vec::new(),
        title: format!("Commitment {id}"),
        title_en: None,
        text: t("Line one\n\tline two"),
        kind,
        on: None,
        due: None,
    };
    step(
        "office",
        Command::RecordCommitment(NewCommitment {
            source: Some(src("s-reply")),
            section: Some(t("一、Section")),
            partners: vec![a("dept_b"), a("partner.x")],
            title_en: Some(t("Planned one")),
            due: Some(Date::Day(2025, 6, 30)),
            ..commitment("i-planned", Kind::Planned, "office")
        }),
    );
    step(
        "dept-a",
        Command::RecordCommitment(NewCommitment {
            area: ar("two"),
            on: Some(Date::Month(2024, 11)),
            due: Some(Date::Year(2025)),
            ..commitment("i-ongoing", Kind::Ongoing, "dept-a")
        }),
    );
    step(
        "admin",
        Command::RecordCommitment(NewCommitment {
            source: Some(src("s-memo")),
            on: Some(Date::Day(2024, 10, 1)),
            ..commitment("i-achieved", Kind::Achieved, "dept_b")
        }),
    );

    let progress = |item: &str, text: &str, on, evidence: Option<&str>| Command::ReportProgress {
        item: i(item),
        text: t(text),
        on,
        evidence: evidence.map(t),
    };
    step("dept-a", progress("i-ongoing", "Started.", Some(Date::Day(2025, 1, 2)), None));
    step(
        "partner.x",
        progress("i-planned", "Met in Macao.\nMinutes\tattached.", Some(Date::Month(2025, 1)), Some("doc 7")),
    );
    step("dept-a", progress("i-ongoing", "Default date: today.", None, None));

    let status =
        |item: &str, to: &str, on| Command::ChangeStatus { item: i(item), to: c(to), reason: t("Because."), on };
    step("office", status("i-planned", "in_progress", None));
    step("dept-a", status("i-ongoing", "stalled", Some(Date::Day(2025, 1, 5))));

    let figure = |item: &str, value: &str, unit: Option<&str>, approximate, as_of| {
        Command::RecordIndicator(RecordIndicator {
            item: i(item),
            name: t("Figure"),
            value: t(value),
            unit: unit.map(t),
            approximate,
            as_of,
        })
    };
    step("dept_b", figure("i-achieved", "-12.5", None, true, None));
    step("office", figure("i-achieved", "2300000000", Some("USD"), false, Some(Date::Month(2024, 12))));
    step("dept_b", figure("i-planned", "4", Some("家"), false, Some(Date::Year(2024))));

    let amend = |item: &str| Amend {
        item: i(item),
        title: None,
        title_en: None,
        text: None,
        due: None,
        area: None,
        reason: t("Amended."),
    };
    step(
        "office",
        Command::Amend(Amend {
            title: Some(t("New title")),
            text: Some(t("New text")),
            due: Some(Date::Month(2025, 9)),
            area: Some(ar("two")),
            ..amend("i-planned")
        }),
    );
    step("dept-a", Command::Amend(Amend { title_en: Some(t("English")), ..amend("i-ongoing") }));

    let reassign = |item: &str, lead: &str, partners: Option<Vec<ActorId>>| Command::Reassign {
        item: i(item),
        lead: a(lead),
        partners,
        reason: t("Reassigned."),
    };
    step("office", reassign("i-ongoing", "dept_b", None));
    step("admin", reassign("i-planned", "dept-a", Some(vec![a("partner.x")])));
    step("office", reassign("i-achieved", "dept_b", Some(Vec::new())));

    let correct = |item: &str, entry, text: Option<&str>, value: Option<&str>| {
        Command::Correct(Correct {
            item: i(item),
            entry: StreamVersion(entry),
            text: text.map(t),
            value: value.map(t),
            reason: t("Corrected."),
        })
    };
    step("dept_b", correct("i-achieved", 1, None, Some("-12.25")));
    step("dept_b", correct("i-ongoing", 1, Some("Started in December."), None));
    step("office", correct("i-planned", 3, Some("Four."), Some("4.0")));

    let feedback = |verdict: &str, text: Option<&str>, on| {
        Command::RecordFeedback(RecordFeedback { source: src("s-reply"), verdict: c(verdict), text: text.map(t), on })
    };
    step("deputy-1", feedback("basically_satisfied", None, None));
    step("office", feedback("dissatisfied", Some("On second thought."), Some(Date::Year(2025))));

    step("office", Command::Categorize(Categorize { source: src("s-reply"), category: c("a"), reason: None }));
    let because = Some(t("Kept for reference."));
    step("admin", Command::Categorize(Categorize { source: src("s-memo"), category: c("d"), reason: because }));
    ledger
}

fn log_of(ledger: &Ledger<MemStore>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    ledger
        .store()
        .scan(Seq(0), &mut |key, bytes| {
            assert_eq!(key, (out.len() as u64).to_be_bytes(), "log keys are seqs, 8 bytes big-endian");
            out.push(bytes.to_vec());
            ControlFlow::Continue(())
        })
        .unwrap();
    out
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn golden_records() -> Vec<Vec<u8>> {
    GOLDEN_RECORDS.lines().filter(|l| !l.is_empty()).map(unhex).collect()
}

// ---------------------------------------------------------------------------------------------------
// The tests.

#[test]
fn the_document_states_the_pinned_constants() {
    assert_eq!(RECORD_CONTEXT, CONTEXT);
    assert_eq!(MAX_RECORD_BYTES, LIMIT);
    assert_eq!(RECORD_FORMAT, 1);
    assert!(EventType::ALL.iter().all(|t| t.version() == 1), "every type is at version 1");
    assert!(DOC.contains(&format!("\n    {CONTEXT}\n")), "the context string, on a line of its own");
    assert!(DOC.contains("bincode 2.0.1") && DOC.contains(".with_limit::<262144>()"));
    assert!(DOC.contains(&format!("`{}`", String::from_utf8_lossy(STORE_FORMAT))));
    // The empty input's hash, as any BLAKE3 implementation computes it with this context.
    assert_eq!(Hash(hash(b"")).to_hex(), "087ce69a476899795ee1ef4bbc16ce23f9c6e2939b291c20c92d93e30773a442");
}

#[test]
fn the_document_describes_every_event_type_and_the_envelope() {
    let spec = spec();
    let documented: Vec<(u16, &str)> = spec.events.iter().map(|(n, (name, _))| (*n, name.as_str())).collect();
    let known: Vec<(u16, &str)> = EventType::ALL.iter().map(|t| (*t as u16, t.name())).collect();
    assert_eq!(documented, known);
    assert_eq!(documented.len(), 13);

    let rows: Vec<Vec<String>> = block("envelope")
        .lines()
        .filter_map(|l| l.strip_prefix('|'))
        .map(|r| r.split('|').map(|c| c.trim().to_string()).collect::<Vec<_>>())
        .filter(|cells| cells[0].starts_with(|c: char| c.is_ascii_digit()) || cells[0] == "var")
        .collect();
    let fields: Vec<(String, String)> = rows.iter().map(|r| (unquote(&r[1]), unquote(&r[2]))).collect();
    let expected: Vec<(String, String)> = ENVELOPE.iter().map(|(f, t)| (f.to_string(), t.to_string())).collect();
    assert_eq!(fields, expected);
    let offsets: Vec<&str> = rows.iter().take(5).map(|r| r[0].as_str()).collect();
    assert_eq!(offsets, ["0", "1", "9", "41", "49"]);

    for name in ["Vocabulary", "StatusDef", "Term"] {
        assert!(spec.structs.contains_key(name), "{name}");
    }
    for name in ["Date", "Kind", "Role", "SourceKind"] {
        assert!(spec.enums.contains_key(name), "{name}");
    }
}

/// The enumeration indices of the document are the crate's: each variant, encoded by the crate inside a
/// record, reads back through the document's table as its own JSON word.
#[test]
fn the_enumeration_tables_match_the_crate() {
    let spec = spec();
    let words = |name: &str| spec.enums[name].iter().map(|v| (v.index, v.word.clone())).collect::<Vec<_>>();
    let kinds = [Kind::Planned, Kind::Ongoing, Kind::Achieved];
    let roles = [Role::Admin, Role::Office, Role::Department, Role::Counterpart, Role::Deputy, Role::Auditor];
    let source_kinds =
        [SourceKind::Reply, SourceKind::Memorandum, SourceKind::Agreement, SourceKind::Meeting, SourceKind::Other];
    let as_words =
        |ws: Vec<&str>| ws.into_iter().enumerate().map(|(i, w)| (i as u32, w.to_string())).collect::<Vec<_>>();
    assert_eq!(words("Kind"), as_words(kinds.iter().map(|k| k.as_str()).collect()));
    assert_eq!(words("Role"), as_words(roles.iter().map(|r| r.as_str()).collect()));
    assert_eq!(words("SourceKind"), as_words(source_kinds.iter().map(|k| k.as_str()).collect()));

    // The indices themselves: encode a record holding each variant, find its u32 where the document
    // puts it, and read it back.
    let base = Record {
        seq: Seq(1),
        prev: Hash::ZERO,
        time: Timestamp(0),
        actor: a("admin"),
        stream: StreamId::Actor(a("x")),
        stream_version: StreamVersion(0),
        stream_prev: None,
        event: Event::ActorRegistered(ActorRegistered { id: a("x"), name: t("x"), name_en: None, role: Role::Admin }),
        event_version: 1,
        signature: None,
    };
    for (index, role) in roles.iter().enumerate() {
        let mut r = base.clone();
        r.event = Event::ActorRegistered(ActorRegistered { id: a("x"), name: t("x"), name_en: None, role: *role });
        let bytes = r.encode();
        // The role is the body's last field, just before the signature tag.
        assert_eq!(bytes[bytes.len() - 5..bytes.len() - 1], (index as u32).to_le_bytes());
        assert_eq!(decode(&bytes, &spec).unwrap().body["role"], json!(role.as_str()));
    }
    for (index, kind) in kinds.iter().enumerate() {
        let mut r = base.clone();
        let (stream, event) = record_with_kind(*kind);
        (r.stream, r.event) = (stream, event);
        let bytes = r.encode();
        let env = decode(&bytes, &spec).unwrap();
        assert_eq!(env.body["kind"], json!(kind.as_str()), "Kind index {index}");
        assert_eq!(env.body, crate_body(&r.event));
    }
    for (index, kind) in source_kinds.iter().enumerate() {
        let mut r = base.clone();
        let s = SourceRecorded {
            id: src("s"),
            kind: *kind,
            number: None,
            title: t("s"),
            title_en: None,
            session: None,
            date: Date::Month(2024, 4),
            issuer: a("admin"),
            addressee: None,
            contributors: Vec::new(),
            digest: None,
        };
        (r.stream, r.event) = (StreamId::Source(src("s")), Event::SourceRecorded(s));
        let bytes = r.encode();
        let env = decode(&bytes, &spec).unwrap();
        assert_eq!(env.body["kind"], json!(kind.as_str()), "SourceKind index {index}");
        assert_eq!(env.body["date"], json!("2024-04"));
        // `Date::Month(2024, 4)` is `01 00 00 00 e8 07 04`, as section 6 says.
        let date = [1, 0, 0, 0, 0xe8, 0x07, 4];
        assert!(bytes.windows(7).any(|w| w == date));
    }
}

fn record_with_kind(kind: Kind) -> (StreamId, Event) {
    let e = commitment_ledger::CommitmentRecorded {
        id: i("x"),
        source: None,
        section: None,
        area: ar("a"),
        lead: a("l"),
        partners: Vec::new(),
        title: t("x"),
        title_en: None,
        text: t("x"),
        kind,
        status: c("s"),
        on: Some(Date::Day(2024, 4, 15)),
        due: Some(Date::Year(2023)),
    };
    (StreamId::Item(i("x")), Event::CommitmentRecorded(e))
}

#[test]
fn the_documents_decoder_reads_a_ledger_of_every_event_type() {
    let ledger = coverage_ledger();
    assert_eq!(ledger.damage(), None);
    let report = ledger.verify(&mut |_| {}).unwrap();
    assert!(report.ok, "{report:?}");
    let records = log_of(&ledger);
    let (types, head) = check_log(&records);
    assert_eq!(types, (1..=13).collect(), "the ledger must hold every event type");
    for bytes in &records {
        assert!(Record::decode(bytes).unwrap().encode() == *bytes, "the writer's encoding is canonical");
    }
    assert_eq!(Some(Hash(head)), ledger.head().map(|h| h.hash));
    for (seq, bytes) in records.iter().enumerate() {
        let (_, h) = ledger.record(Seq(seq as u64)).unwrap().unwrap();
        assert_eq!(h.0, hash(bytes));
    }
}

#[test]
fn the_documents_decoder_reads_the_golden_fixture() {
    let records = golden_records();
    let (types, head) = check_log(&records);
    assert_eq!(types, (1..=13).collect());
    let expected = include_str!("fixtures/golden-v1/expected.txt");
    assert!(expected.contains(&format!("head {}", Hash(head).to_hex())));
}

/// The listing of section 12: (offset, bytes) per line.
fn worked_example() -> Vec<(usize, Vec<u8>)> {
    let text = block("worked-example");
    let body = text.split("```text").nth(1).and_then(|s| s.split("```").next()).expect("a ```text block");
    body.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cells: Vec<&str> = line.split('|').collect();
            assert_eq!(cells.len(), 3, "offset | bytes | field: {line:?}");
            let offset = cells[0].trim().parse().unwrap();
            let bytes = cells[1].split_whitespace().map(|b| u8::from_str_radix(b, 16).unwrap()).collect();
            (offset, bytes)
        })
        .collect()
}

#[test]
fn the_worked_example_is_what_the_library_writes() {
    let mut bytes = Vec::new();
    for (offset, line) in worked_example() {
        assert_eq!(offset, bytes.len(), "the listing's offsets run on without gaps");
        bytes.extend(line);
    }
    assert_eq!(bytes.len(), 220);

    let record = Record {
        seq: Seq(21),
        prev: Hash::from_hex("d47a3032ed29c412b0080c4dbb2b37edc2897e30547f7092d3d3c62efa3e8ad0").unwrap(),
        time: Timestamp::parse("2024-06-05T16:00:00+08:00").unwrap(),
        actor: a("culture-tourism-bureau"),
        stream: StreamId::Item(i("0771-cul-perform")),
        stream_version: StreamVersion(1),
        stream_prev: Some(Seq(18)),
        event: Event::IndicatorRecorded(IndicatorRecorded {
            item: i("0771-cul-perform"),
            name: t("互访演出项目"),
            value: t("8"),
            unit: Some(t("批次")),
            approximate: false,
            as_of: Some(Date::Year(2023)),
        }),
        event_version: 1,
        signature: None,
    };
    assert!(record.encode() == bytes, "the library writes other bytes than the document shows");
    assert_eq!(Record::decode(&bytes).unwrap(), record);
    assert_eq!(bytes, golden_records()[21], "the example is record 21 of the golden fixture");
    let spec = spec();
    assert_same(&decode(&bytes, &spec).unwrap(), &record);
    let h = Hash(hash(&bytes)).to_hex();
    assert!(DOC.contains(&format!("`{h}`")), "the document states the example's hash {h}");
    assert!(DOC.contains(&format!("`{}`", record.prev.to_hex())));
}

/// A signature, when a later version writes one, is an `Option<bytes>` at the very end; format 1
/// defines no signature scheme, so the crate refuses a record that carries one.
#[test]
fn the_signature_is_the_last_field() {
    let spec = spec();
    let mut record = Record::decode(&golden_records()[21]).unwrap();
    let unsigned = record.encode();
    assert_eq!(unsigned.last(), Some(&0));
    record.signature = Some((0..64).collect());
    let signed = record.encode();
    assert_eq!(signed[..unsigned.len() - 1], unsigned[..unsigned.len() - 1]);
    assert_eq!(signed[unsigned.len() - 1..unsigned.len() + 8], [1, 64, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(signed.len(), unsigned.len() + 8 + 64);
    let parsed = decode(&signed, &spec).unwrap();
    assert_same(&parsed, &Record { signature: Some((0..64).collect()), ..Record::decode(&unsigned).unwrap() });
    let refused = Record::decode(&signed).unwrap_err();
    assert!(refused.to_string().contains("signature"), "{refused}");
}

/// What the document calls invalid, both decoders refuse. Offsets are those of the worked example.
#[test]
fn both_decoders_refuse_what_the_document_calls_invalid() {
    let spec = spec();
    let good = golden_records()[21].clone();
    assert!(decode(&good, &spec).is_ok() && Record::decode(&good).is_ok());
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    let mut set = |what, at: usize, byte: u8| {
        let mut b = good.clone();
        b[at] = byte;
        cases.push((what, b));
    };
    set("unknown format", 0, 2);
    set("an uppercase letter in the actor id", 57, b'C');
    set("a stream that is not one", 87, b'I');
    set("Option tag 2 (stream_prev)", 116, 2);
    set("unknown event type 14", 125, 14);
    set("unknown event version 2", 127, 2);
    set("invalid UTF-8 in a body string", 169, 0xff);
    set("bool byte 2", 211, 2);
    set("Date variant 3", 213, 3);
    set("signature Option tag 2", 219, 2);
    set("a string length past the end", 137, 0xff);
    set("a body length past the end", 129, 0xff);
    let mut longer = good.clone();
    longer.push(0);
    cases.push(("a byte left over", longer));
    cases.push(("truncated", good[..good.len() - 1].to_vec()));
    let mut body_left_over = good.clone();
    body_left_over[129] += 1; // the body claims one more byte: the signature tag, 00
    body_left_over.push(0);
    cases.push(("a body byte left over", body_left_over));
    for (what, bytes) in cases {
        assert!(decode(&bytes, &spec).is_err(), "the document's decoder accepts {what}");
        assert!(Record::decode(&bytes).is_err(), "the crate accepts {what}");
    }
}

/// A record is readable up to 262 144 bytes and not one byte more.
#[test]
fn the_size_limit_is_262144_bytes() {
    let spec = spec();
    let record_of = |text_len: usize| {
        let mut r = Record::decode(&golden_records()[23]).unwrap();
        let Event::ProgressReported(ProgressReported { text, .. }) = &mut r.event else { panic!("record 23") };
        *text = "x".repeat(text_len);
        r.encode()
    };
    let base = record_of(0).len();
    let at_limit = record_of(LIMIT - base);
    assert_eq!(at_limit.len(), LIMIT);
    assert!(Record::decode(&at_limit).is_ok());
    assert!(decode(&at_limit, &spec).is_ok());
    let over = record_of(LIMIT - base + 1);
    assert!(Record::decode(&over).is_err());
    assert!(decode(&over, &spec).is_err());
}
