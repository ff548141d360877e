//! Guards `schema/record-format.md` against drift: a decoder written from the document alone (its
//! tables drive it) reads every record of a signed ledger holding every event type, of both golden
//! fixtures, and of a version 1 ledger whose actors took keys, and must agree with the crate field by
//! field, hash by hash. It rebuilds the statement of every signed record from the document's table and
//! verifies the signature with `ed25519_dalek::VerifyingKey::verify_strict` against the key the
//! document's rule names, tracking keys as the document says. The worked examples must be byte for
//! byte what the library writes.
//!
//! Nothing here calls the crate's decoder, codec or bincode to read bytes, nor its verifier to check a
//! signature: the crate is only the party whose answers are compared.

use commitment_ledger::MAX_RECORD_BYTES;
use commitment_ledger::STORE_FORMAT;
use commitment_ledger::keys::{PublicKey, SigningKey, generate_signing_key};
use commitment_ledger::{
    ActorId, AreaId, Code, Command, Date, Event, Hash, Head, ItemId, Ledger, MemStore, NewCommitment, Record, Report,
    Seq, Signed, SourceId, Store, StreamId, StreamVersion,
};
use commitment_ledger::{ActorRegistered, EventType, IndicatorRecorded, ProgressReported, SourceRecorded};
#[allow(unused_imports)]
use commitment_ledger::{
    Amend, Categorize, Correct, OpenLedger, RecordFeedback, RecordIndicator, RecordSource, RegisterActor, RegisterArea,
    Timestamp,
};
use commitment_ledger::{Kind, Role, SourceKind, Vocabulary};
use commitment_ledger::{RECORD_CONTEXT, RECORD_CONTEXT_V2, RECORD_FORMAT, RECORD_FORMAT_UNSIGNED, STATEMENT_CONTEXT};
use ed25519_dalek::{Signature, Signer, VerifyingKey};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::ControlFlow;

const DOC: &str = include_str!("../schema/record-format.md");

/// Whether the document says `text`, wherever its lines break.
fn doc_says(text: &str) -> bool {
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    words(DOC).contains(&words(text))
}
const GOLDEN_V1: &str = include_str!("fixtures/golden-v1/records.hex");
const GOLDEN_V2: &str = include_str!("fixtures/golden-v2/records.hex");

/// The constants, as the document states them.
const CONTEXT_V1: &str = "commitment-ledger 2026-11-27 record v1";
const CONTEXT_V2: &str = "commitment-ledger 2026-11-29 record v2";
const STATEMENT: &str = "commitment-ledger 2026-11-29 statement v1";
const LIMIT: usize = 262_144;
/// How far `actor_time` may be after `time` (section 8).
const SKEW: i64 = 300_000_000;

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
    /// `PublicKey`: 32 raw bytes (section 6).
    Key,
    Hash32,
    Hash64,
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
        "[u8; 64]" => Ty::Hash64,
        "PublicKey" => Ty::Key,
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

/// The cells of a table row whose first cell is a number or `var`.
fn data_row(line: &str) -> Option<Vec<String>> {
    let cells: Vec<String> = line.strip_prefix('|')?.split('|').map(|c| c.trim().to_string()).collect();
    (cells[0].starts_with(|c: char| c.is_ascii_digit()) || cells[0] == "var").then_some(cells)
}

/// The data rows of the tables under each `### ` heading of a block: heading → rows of cells.
fn tables(name: &str) -> Vec<(String, Vec<Vec<String>>)> {
    let mut out: Vec<(String, Vec<Vec<String>>)> = Vec::new();
    for line in block(name).lines() {
        if let Some(heading) = line.strip_prefix("### ") {
            out.push((heading.trim().to_string(), Vec::new()));
        } else if let Some(cells) = data_row(line) {
            out.last_mut().expect("a table under a heading").1.push(cells);
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

type Fields = Vec<(String, Ty)>;

/// An event type: its name and the body layout of each of its versions.
struct EventSpec {
    name: String,
    versions: BTreeMap<u16, Fields>,
}

/// Everything the decoder knows, read from the document.
struct Spec {
    /// Record format → the envelope's (field, type) in order.
    envelopes: BTreeMap<u8, Vec<(String, String)>>,
    /// Event type number → its versions.
    events: BTreeMap<u16, EventSpec>,
    structs: HashMap<String, Fields>,
    enums: HashMap<String, Vec<Variant>>,
    /// The signed statement's fields, in order.
    statement: Fields,
}

fn fields_of(rows: &[Vec<String>]) -> Fields {
    rows.iter()
        .enumerate()
        .map(|(i, cells)| {
            assert_eq!(cells[0], (i + 1).to_string(), "fields are numbered in order");
            (unquote(&cells[1]), parse_ty(&cells[2]))
        })
        .collect()
}

/// Section 5: `### N Name`, then `#### Version V` and its field table, for each version.
fn event_tables() -> BTreeMap<u16, EventSpec> {
    let mut events: BTreeMap<u16, EventSpec> = BTreeMap::new();
    let (mut event, mut version) = (None, None);
    for line in block("events").lines() {
        if let Some(heading) = line.strip_prefix("### ") {
            let (number, name) = heading.trim().split_once(' ').expect("### N Name");
            let number: u16 = number.parse().expect("an event type number");
            let spec = EventSpec { name: name.to_string(), versions: BTreeMap::new() };
            assert!(events.insert(number, spec).is_none(), "event {number} twice");
            (event, version) = (Some(number), None);
        } else if let Some(heading) = line.strip_prefix("#### Version ") {
            let number = event.expect("a version under an event");
            let v: u16 = heading.trim().parse().expect("#### Version N");
            let versions = &mut events.get_mut(&number).unwrap().versions;
            assert!(versions.insert(v, Vec::new()).is_none(), "event {number} version {v} twice");
            version = Some(v);
        } else if let Some(cells) = data_row(line) {
            let (Some(number), Some(v)) = (event, version) else { panic!("a field table outside `#### Version`") };
            let fields = events.get_mut(&number).unwrap().versions.get_mut(&v).unwrap();
            assert_eq!(cells[0], (fields.len() + 1).to_string(), "fields are numbered in order");
            fields.push((unquote(&cells[1]), parse_ty(&cells[2])));
        }
    }
    for (number, e) in &events {
        assert!(!e.versions.is_empty(), "event {number} has no version");
        assert!(e.versions.values().all(|f| !f.is_empty()), "a version of event {number} has no fields");
    }
    events
}

fn spec() -> Spec {
    let envelopes = tables("envelope")
        .into_iter()
        .map(|(heading, rows)| {
            let format: u8 = heading.strip_prefix("Format ").and_then(|n| n.parse().ok()).expect("### Format N");
            (format, rows.iter().map(|r| (unquote(&r[1]), unquote(&r[2]))).collect())
        })
        .collect();
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
    let statement_rows: Vec<Vec<String>> = block("statement").lines().filter_map(data_row).collect();
    Spec { envelopes, events: event_tables(), structs, enums, statement: fields_of(&statement_rows) }
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
        // JSON: 64 lowercase hex digits (section 6).
        Ty::Key => json!(hex(&c.array::<32>()?)),
        Ty::Hash32 => json!(c.array::<32>()?),
        Ty::Hash64 => json!(c.take(64)?),
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

/// A record, read by hand after section 2 (with the fixed offsets checked as it goes), its body read
/// with the tables of section 5 and upcast to the current version.
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
    /// The body, in the current version of its type.
    body: Value,
    /// The body's bytes as stored.
    body_bytes: Vec<u8>,
    /// Format 2: the actor's time and the signature.
    signed: Option<(i64, [u8; 64])>,
}

/// Each format's envelope, as this decoder reads it, to compare with the document's tables.
const ENVELOPE_V1: [(&str, &str); 12] = [
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
const ENVELOPE_V2: [(&str, &str); 13] = [
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
    ("actor_time", "i64"),
    ("signature", "[u8; 64]"),
];

fn decode(bytes: &[u8], spec: &Spec) -> Read<Envelope> {
    if bytes.len() > LIMIT {
        return Err(format!("{} bytes is over the limit", bytes.len()));
    }
    let mut c = Cursor::new(bytes);
    let format = c.u8()?;
    if !(format == 1 || format == 2) {
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
    let body_bytes = c.bytes()?.to_vec();
    let signed = if format == 1 {
        if c.some()? {
            return Err("a format 1 record carries a signature".into());
        }
        None
    } else {
        let actor_time = c.i64()?;
        Some((actor_time, c.array::<64>()?))
    };
    c.done()?;

    let event = spec.events.get(&event_type).ok_or(format!("unknown event type {event_type}"))?;
    let fields = event.versions.get(&event_version).ok_or(format!("unknown event version {event_version}"))?;
    let mut b = Cursor::new(&body_bytes);
    let mut body = serde_json::Map::new();
    for (field, ty) in fields {
        body.insert(field.clone(), read(&mut b, ty, spec).map_err(|e| format!("body field {field}: {e}"))?);
    }
    b.done().map_err(|e| format!("body: {e}"))?;
    // Upcasting (sections 5 and 10): the fields an older version lacks are None.
    let (_, current) = event.versions.last_key_value().expect("a version");
    for (field, ty) in current {
        if !body.contains_key(field) {
            assert!(matches!(ty, Ty::Option(_)), "{} version {event_version} lacks {field}", event.name);
            body.insert(field.clone(), Value::Null);
        }
    }
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
        body_bytes,
        signed,
    })
}

/// Section 3: the context of the record's format.
fn hash(bytes: &[u8]) -> [u8; 32] {
    let context = match bytes.first() {
        Some(1) => CONTEXT_V1,
        Some(2) => CONTEXT_V2,
        other => panic!("no hash context for format {other:?}"),
    };
    let mut h = blake3::Hasher::new_derive_key(context);
    h.update(bytes);
    *h.finalize().as_bytes()
}

/// Section 8: the statement of a record, built from the document's table.
fn statement(spec: &Spec, origin: &str, env: &Envelope) -> Vec<u8> {
    enum V<'a> {
        S(&'a str),
        U(u64),
        I(i64),
        B(&'a [u8]),
    }
    let actor_time = env.signed.expect("a signed record").0;
    let mut out = Vec::new();
    for (field, ty) in &spec.statement {
        let value = match field.as_str() {
            "context" => V::S(STATEMENT),
            "origin" => V::S(origin),
            "actor" => V::S(&env.actor),
            "stream" => V::S(&env.stream),
            "stream_version" => V::U(env.stream_version),
            "event_type" => V::U(env.event_type.into()),
            "event_version" => V::U(env.event_version.into()),
            "body" => V::B(&env.body_bytes),
            "actor_time" => V::I(actor_time),
            other => panic!("the statement names {other}, which the envelope does not have"),
        };
        match (ty, value) {
            (Ty::Str, V::S(s)) => {
                out.extend((s.len() as u64).to_le_bytes());
                out.extend(s.as_bytes());
            }
            (Ty::Bytes, V::B(b)) => {
                out.extend((b.len() as u64).to_le_bytes());
                out.extend(b);
            }
            (Ty::U64, V::U(n)) => out.extend(n.to_le_bytes()),
            (Ty::U16, V::U(n)) => out.extend(u16::try_from(n).unwrap().to_le_bytes()),
            (Ty::I64, V::I(n)) => out.extend(n.to_le_bytes()),
            (ty, _) => panic!("the statement's {field} cannot be a {ty:?}"),
        }
    }
    out
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
        14 | 15 => format!("actor/{}", field("actor")),
        n => panic!("event type {n}"),
    }
}

fn key_of(v: &Value) -> Option<[u8; 32]> {
    let s = v.as_str()?;
    let bytes: Vec<u8> = (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect();
    Some(bytes.try_into().expect("32 bytes"))
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
        Event::KeyRegistered(x) => serde_json::to_value(x),
        Event::KeyRetired(x) => serde_json::to_value(x),
    };
    v.unwrap()
}

fn assert_same(env: &Envelope, rec: &Record) {
    let at = format!("record {}", rec.seq);
    let format = if rec.signature.is_some() { RECORD_FORMAT } else { RECORD_FORMAT_UNSIGNED };
    assert_eq!(env.format, format, "{at}");
    assert_eq!(env.seq, rec.seq.0, "{at}");
    assert_eq!(env.prev, rec.prev.0, "{at}");
    assert_eq!(env.time, rec.time.0, "{at}");
    assert_eq!(env.actor, rec.actor.as_str(), "{at}");
    assert_eq!(env.stream, rec.stream.to_text(), "{at}");
    assert_eq!(env.stream_version, rec.stream_version.0, "{at}");
    assert_eq!(env.stream_prev, rec.stream_prev.map(|s| s.0), "{at}");
    assert_eq!(env.event_type, rec.event.event_type() as u16, "{at}");
    assert_eq!(env.event_version, rec.event_version, "{at}");
    assert_eq!(env.body, crate_body(&rec.event), "{at}: body");
    assert_eq!(env.signed, rec.signature.map(|s| (s.actor_time.0, s.signature)), "{at}");
}

/// What reading a log found.
#[derive(Debug, Default)]
struct Summary {
    /// (event type, event version) of every record.
    versions: BTreeSet<(u16, u16)>,
    head: [u8; 32],
    /// Records of format 1 and 2.
    unsigned: u64,
    signed: u64,
    /// Whether record 0 made it a signed ledger.
    signed_ledger: bool,
}

impl Summary {
    fn types(&self) -> BTreeSet<u16> {
        self.versions.iter().map(|(t, _)| *t).collect()
    }
}

/// Reads a whole log with the document's decoder and checks everything section 11 asks that does not
/// need the rules of section 7: the decode, the seq, the chain, the times, the streams, and the
/// signatures with the key section 8 names. Compares every record with the crate's decoding, hash and
/// statement.
fn check_log(records: &[Vec<u8>]) -> Result<Summary, String> {
    let spec = spec();
    let mut prev = [0u8; 32];
    let mut prev_time = 0i64;
    let mut streams: HashMap<String, (u64, u64)> = HashMap::new();
    let mut origin: Option<String> = None;
    // Section 8: each actor's key now, and every key ever registered.
    let mut keys: HashMap<String, Option<[u8; 32]>> = HashMap::new();
    let mut registered: HashSet<[u8; 32]> = HashSet::new();
    // Actors that have had a key: they sign everything from then on, even after it is retired.
    let mut signers: HashSet<String> = HashSet::new();
    let mut out = Summary::default();
    for (position, bytes) in records.iter().enumerate() {
        let at = |what: String| format!("record {position}: {what}");
        let env = decode(bytes, &spec).map_err(at)?;
        if let Ok(rec) = Record::decode(bytes) {
            assert_same(&env, &rec);
        }

        if env.seq != position as u64 {
            return Err(at(format!("seq {}", env.seq)));
        }
        if env.prev != prev {
            return Err(at("does not link to the record before it".into()));
        }
        if env.time < prev_time {
            return Err(at("goes back in time".into()));
        }
        if env.stream != event_stream(env.event_type, &env.body) {
            return Err(at("is in the wrong stream".into()));
        }
        let (version, last) = match streams.get(&env.stream) {
            Some(&(count, last)) => (count, Some(last)),
            None => (0, None),
        };
        if (env.stream_version, env.stream_prev) != (version, last) {
            return Err(at("does not continue its stream".into()));
        }
        streams.insert(env.stream.clone(), (version + 1, env.seq));

        // Section 8: the key that must have signed the record.
        let body = &env.body;
        let key = if position == 0 {
            if env.event_type != 1 {
                return Err(at("record 0 is not LedgerOpened".into()));
            }
            origin = Some(body["origin"].as_str().expect("an origin").to_string());
            out.signed_ledger = !body["admin_key"].is_null();
            key_of(&body["admin_key"])
        } else {
            *keys.get(&env.actor).ok_or_else(|| at(format!("{} is not registered", env.actor)))?
        };
        match (key, env.signed) {
            (None, _) if out.signed_ledger => {
                return Err(at("an actor without a key appends to a signed ledger".into()));
            }
            (None, _) if signers.contains(&env.actor) => {
                return Err(at("an actor whose key was retired appends before it has a new one".into()));
            }
            (None, None) => out.unsigned += 1,
            (None, Some(_)) => return Err(at("signed, but its actor has no key".into())),
            (Some(_), None) => return Err(at("unsigned, but its actor has a key".into())),
            (Some(key), Some((actor_time, signature))) => {
                if actor_time > env.time + SKEW {
                    return Err(at("the actor's time is more than 5 minutes after the record's".into()));
                }
                let message = statement(&spec, origin.as_deref().expect("record 0 came first"), &env);
                let (crate_message, crate_signature) =
                    commitment_ledger::stored_statement(bytes, origin.as_deref().unwrap()).expect("a statement");
                assert!(crate_message == message, "record {position}: the crate signs other bytes");
                assert_eq!(crate_signature, signature);
                let key = VerifyingKey::from_bytes(&key).map_err(|e| at(format!("the key: {e}")))?;
                key.verify_strict(&message, &Signature::from_bytes(&signature))
                    .map_err(|e| at(format!("the signature does not verify: {e}")))?;
                out.signed += 1;
            }
        }

        // Section 8: the records that set or clear keys.
        let mut register = |actor: &str, key: Option<[u8; 32]>| {
            if let Some(k) = key {
                assert!(registered.insert(k), "record {position}: a key registered twice");
                signers.insert(actor.to_string());
            }
            keys.insert(actor.to_string(), key);
        };
        let text = |f: &str| body[f].as_str().expect("an id").to_string();
        match env.event_type {
            1 => register(&text("admin"), key_of(&body["admin_key"])),
            2 => register(&text("id"), key_of(&body["public_key"])),
            14 => register(&text("actor"), key_of(&body["public_key"])),
            15 => {
                let actor = text("actor");
                if keys.get(&actor) != Some(&key_of(&body["public_key"])) {
                    return Err(at("retires a key its actor does not have".into()));
                }
                keys.insert(actor, None);
            }
            _ => {}
        }

        prev = hash(bytes);
        assert_eq!(prev, commitment_ledger::hash_record_bytes(bytes).0);
        prev_time = env.time;
        out.versions.insert((env.event_type, env.event_version));
    }
    out.head = prev;
    Ok(out)
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

fn golden(text: &str) -> Vec<Vec<u8>> {
    text.lines().filter(|l| !l.is_empty()).map(unhex).collect()
}

fn golden_v1() -> Vec<Vec<u8>> {
    golden(GOLDEN_V1)
}

fn golden_v2() -> Vec<Vec<u8>> {
    golden(GOLDEN_V2)
}

/// A memory store holding `records`, acknowledged up to the last.
fn store_of(records: &[Vec<u8>]) -> MemStore {
    let mut store = MemStore::new();
    for (seq, bytes) in records.iter().enumerate() {
        store.log_mut().insert(seq as u64, bytes.clone());
    }
    if let Some(last) = records.last() {
        let hash = commitment_ledger::hash_record_bytes(last);
        let seq = Seq(records.len() as u64 - 1);
        *store.head_mut() =
            Some(Head { seq, hash, time: Timestamp(i64::from_le_bytes(last[41..49].try_into().unwrap())) });
    }
    store
}

/// What the crate's verifier says of `records`.
fn crate_verdict(records: &[Vec<u8>]) -> Report {
    commitment_ledger::verify_store(&store_of(records), &mut |_| {}).unwrap()
}

/// Sets every `prev` from record `from` on to the hash of the record before it (what someone who
/// rewrites a record does to the rest of the log; `prev` is outside every statement).
fn rechain(records: &mut [Vec<u8>], from: usize) {
    for seq in from.max(1)..records.len() {
        let prev = hash(&records[seq - 1]);
        records[seq][9..41].copy_from_slice(&prev);
    }
}

// ---------------------------------------------------------------------------------------------------
// The tests.

#[test]
fn the_document_states_the_pinned_constants() {
    assert_eq!(RECORD_CONTEXT, CONTEXT_V1);
    assert_eq!(RECORD_CONTEXT_V2, CONTEXT_V2);
    assert_eq!(STATEMENT_CONTEXT, STATEMENT);
    assert_eq!(STATEMENT.len(), 41, "section 8 says 41 bytes");
    assert_eq!(MAX_RECORD_BYTES, LIMIT);
    assert_eq!((RECORD_FORMAT_UNSIGNED, RECORD_FORMAT), (1, 2));
    for context in [CONTEXT_V1, CONTEXT_V2, STATEMENT] {
        assert!(DOC.contains(&format!("\n    {context}\n")), "the context {context:?}, on a line of its own");
    }
    assert!(DOC.contains("bincode 2.0.1") && DOC.contains(".with_limit::<262144>()"));
    assert!(doc_says("**5 minutes (300 000 000 µs) after its `time`**"));
    assert!(DOC.contains(&format!("`{}`", String::from_utf8_lossy(STORE_FORMAT))));
    assert!(doc_says(&format!("currently {}", commitment_ledger::PROJECTION_FORMAT)), "the projection format");
    // The empty input's hash, as any BLAKE3 implementation computes it with each context.
    let empty = |context| Hash(blake3::derive_key(context, b"")).to_hex();
    assert_eq!(empty(CONTEXT_V1), "087ce69a476899795ee1ef4bbc16ce23f9c6e2939b291c20c92d93e30773a442");
    assert!(doc_says(&format!("`{}` with the format 1 context", empty(CONTEXT_V1))));
    assert!(doc_says(&format!("`{}` with the format 2 context", empty(CONTEXT_V2))));
}

#[test]
fn the_document_describes_every_event_type_version_and_both_envelopes() {
    let spec = spec();
    let documented: Vec<(u16, &str)> = spec.events.iter().map(|(n, e)| (*n, e.name.as_str())).collect();
    let known: Vec<(u16, &str)> = EventType::ALL.iter().map(|t| (*t as u16, t.name())).collect();
    assert_eq!(documented, known);
    assert_eq!(documented.len(), 15);
    for t in EventType::ALL {
        let versions: Vec<u16> = spec.events[&(*t as u16)].versions.keys().copied().collect();
        assert_eq!(versions, (1..=t.version()).collect::<Vec<_>>(), "{}: every version, forever", t.name());
    }
    // An older version is the current one without some of its (optional) fields, in the same order.
    for e in spec.events.values() {
        let (_, current) = e.versions.last_key_value().unwrap();
        for (v, fields) in &e.versions {
            let kept: Vec<&(String, Ty)> = current.iter().filter(|f| fields.iter().any(|g| g.0 == f.0)).collect();
            assert_eq!(kept, fields.iter().collect::<Vec<_>>(), "{} version {v}", e.name);
        }
    }

    let as_owned = |t: &[(&str, &str)]| t.iter().map(|(f, t)| (f.to_string(), t.to_string())).collect::<Vec<_>>();
    assert_eq!(spec.envelopes.keys().copied().collect::<Vec<_>>(), [1, 2]);
    assert_eq!(spec.envelopes[&1], as_owned(&ENVELOPE_V1));
    assert_eq!(spec.envelopes[&2], as_owned(&ENVELOPE_V2));
    for (heading, rows) in tables("envelope") {
        let offsets: Vec<&str> = rows.iter().take(5).map(|r| r[0].as_str()).collect();
        assert_eq!(offsets, ["0", "1", "9", "41", "49"], "{heading}");
        assert!(rows[5..].iter().all(|r| r[0] == "var"), "{heading}");
    }
    let statement: Vec<(&str, Ty)> = spec.statement.iter().map(|(f, t)| (f.as_str(), t.clone())).collect();
    assert_eq!(
        statement,
        [
            ("context", Ty::Str),
            ("origin", Ty::Str),
            ("actor", Ty::Str),
            ("stream", Ty::Str),
            ("stream_version", Ty::U64),
            ("event_type", Ty::U16),
            ("event_version", Ty::U16),
            ("body", Ty::Bytes),
            ("actor_time", Ty::I64),
        ]
    );

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
    let registered = |role| {
        Event::ActorRegistered(ActorRegistered { id: a("x"), name: t("x"), name_en: None, role, public_key: None })
    };
    let base = Record {
        seq: Seq(1),
        prev: Hash::ZERO,
        time: Timestamp(0),
        actor: a("admin"),
        stream: StreamId::Actor(a("x")),
        stream_version: StreamVersion(0),
        stream_prev: None,
        event: registered(Role::Admin),
        event_version: EventType::ActorRegistered.version(),
        signature: None,
    };
    let with =
        |stream, event: Event| Record { stream, event_version: event.event_type().version(), event, ..base.clone() };
    for (index, role) in roles.iter().enumerate() {
        let r = with(StreamId::Actor(a("x")), registered(*role));
        let bytes = r.encode();
        // The role is just before the body's last field (`public_key`: None, `00`) and the signature tag.
        assert_eq!(bytes[bytes.len() - 6..bytes.len() - 2], (index as u32).to_le_bytes());
        assert_eq!(decode(&bytes, &spec).unwrap().body["role"], json!(role.as_str()));
    }
    for (index, kind) in kinds.iter().enumerate() {
        let (stream, event) = record_with_kind(*kind);
        let r = with(stream, event);
        let bytes = r.encode();
        let env = decode(&bytes, &spec).unwrap();
        assert_eq!(env.body["kind"], json!(kind.as_str()), "Kind index {index}");
        assert_eq!(env.body, crate_body(&r.event));
    }
    for (index, kind) in source_kinds.iter().enumerate() {
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
        let bytes = with(StreamId::Source(src("s")), Event::SourceRecorded(s)).encode();
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
fn the_documents_decoder_reads_a_signed_ledger_of_every_event_type() {
    let ledger = coverage_ledger();
    assert_eq!(ledger.damage(), None);
    let report = ledger.verify(&mut |_| {}).unwrap();
    assert!(report.ok, "{report:?}");
    let records = log_of(&ledger);
    let summary = check_log(&records).unwrap();
    assert_eq!(summary.types(), (1..=15).collect(), "the ledger must hold every event type");
    let current: BTreeSet<(u16, u16)> = EventType::ALL.iter().map(|t| (*t as u16, t.version())).collect();
    assert_eq!(summary.versions, current, "a new ledger is written in the current versions");
    assert!(summary.signed_ledger);
    assert_eq!((summary.signed, summary.unsigned), (records.len() as u64, 0));
    assert_eq!((report.signed, report.unsigned), (summary.signed, 0));
    for bytes in &records {
        assert!(Record::decode(bytes).unwrap().encode() == *bytes, "the writer's encoding is canonical");
    }
    assert_eq!(Some(Hash(summary.head)), ledger.head().map(|h| h.hash));
    for (seq, bytes) in records.iter().enumerate() {
        let (_, h) = ledger.record(Seq(seq as u64)).unwrap().unwrap();
        assert_eq!(h.0, hash(bytes));
    }
}

#[test]
fn the_documents_decoder_reads_the_golden_fixtures() {
    let records = golden_v1();
    let summary = check_log(&records).unwrap();
    assert_eq!(summary.types(), (1..=13).collect());
    assert!(summary.versions.iter().all(|(_, v)| *v == 1), "golden-v1 holds version 1 bodies only");
    assert!(!summary.signed_ledger);
    assert_eq!((summary.signed, summary.unsigned), (0, records.len() as u64));
    let expected = include_str!("fixtures/golden-v1/expected.txt");
    assert!(expected.contains(&format!("head {}", Hash(summary.head).to_hex())));

    let records = golden_v2();
    let summary = check_log(&records).unwrap();
    assert_eq!(summary.types(), (1..=15).collect());
    assert!(summary.signed_ledger);
    assert_eq!((summary.signed, summary.unsigned), (records.len() as u64, 0));
    let expected = include_str!("fixtures/golden-v2/expected.txt");
    assert!(expected.contains(&format!("head {}", Hash(summary.head).to_hex())));
    assert!(doc_says(&format!("Head `{}`", Hash(summary.head).to_hex())), "section 13 states the v2 head");
}

/// Section 8: in a ledger opened by version 1, a record is signed exactly when its actor has a key, so
/// both formats appear side by side once actors register keys.
#[test]
fn the_documents_decoder_reads_a_version_1_ledger_whose_actors_took_keys() {
    let golden = golden_v1();
    let clock = commitment_ledger::ManualClock::at(Timestamp::parse("2024-07-10T09:00:00+08:00").unwrap());
    let mut ledger = Ledger::with_store(store_of(&golden), Box::new(clock.clone())).unwrap();
    let culture = "culture-tourism-bureau";
    let own = generate_signing_key();
    let public_key = Some(PublicKey::of(&own));
    {
        let mut append = |actor: &str, command: Command| {
            clock.shift(60_000_000);
            ledger.append(&a(actor), command).unwrap_or_else(|e| panic!("{e}"));
        };
        // The administrator has no key: its records stay unsigned (format 1), new bodies or not.
        append("hmo", Command::RegisterKey { actor: a(culture), public_key });
        let actor = RegisterActor {
            id: a("new-office"),
            name: t("新办公室"),
            name_en: None,
            role: Role::Department,
            public_key: None, // the ledger makes one
        };
        append("hmo", Command::RegisterActor(actor));
    }
    ledger.keyring_mut().insert(a(culture), own);
    let mut append = |actor: &str, command: Command| {
        clock.shift(60_000_000);
        ledger.append(&a(actor), command).unwrap_or_else(|e| panic!("{e}"));
    };
    let progress = |text: &str| Command::ReportProgress {
        item: i("0771-cul-perform"),
        text: t(text),
        on: Some(Date::Month(2024, 7)),
        evidence: None,
    };
    append(culture, progress("Signed: the bureau has a key now."));
    append(culture, Command::RetireKey { actor: a(culture), reason: Some(t("Handed over.")) });
    // Once an actor has had a key it signs everything: a retired key does not let it append unsigned.
    clock.shift(60_000_000);
    let refused = ledger.append(&a(culture), progress("Unsigned again?")).unwrap_err();
    assert!(refused.to_string().contains("has no registered key"), "{refused}");
    let records = log_of(&ledger);
    let formats: Vec<u8> = records[golden.len()..].iter().map(|r| r[0]).collect();
    assert_eq!(formats, [1, 1, 2, 2]);

    let report = ledger.verify(&mut |_| {}).unwrap();
    assert!(report.ok, "{report:?}");
    let summary = check_log(&records).unwrap();
    assert!(!summary.signed_ledger);
    assert_eq!((summary.signed, summary.unsigned), (report.signed, report.unsigned));
    assert_eq!(summary.signed, 2);
    assert!(summary.versions.contains(&(2, 1)) && summary.versions.contains(&(2, 2)), "ActorRegistered 1 and 2");
    assert!(summary.versions.contains(&(14, 1)) && summary.versions.contains(&(15, 1)));
}

/// Section 8's rules, which both the document's decoder and the crate's verifier apply: an unsigned
/// record in a signed ledger, a signature under another key, a changed statement, an actor's time
/// more than 5 minutes after the record's (exactly 5 minutes is allowed).
#[test]
fn both_verifiers_refuse_what_section_8_refuses() {
    let (records, admin_key) = small_signed_ledger();
    assert!(check_log(&records).is_ok());
    assert!(crate_verdict(&records).ok);
    let origin = "example.org/section-8";
    let last = records.len() - 1;
    let resign = |mut rec: Record, actor_time: i64, key: &SigningKey| {
        let message = rec.statement(origin, Timestamp(actor_time));
        rec.signature = Some(Signed { actor_time: Timestamp(actor_time), signature: key.sign(&message).to_bytes() });
        rec.encode()
    };
    let rec = Record::decode(&records[last]).unwrap();
    let time = rec.time.0;
    let mut cases: Vec<(&str, Vec<u8>, &str)> = Vec::new();
    cases.push(("unsigned in a signed ledger", Record { signature: None, ..rec.clone() }.encode(), "unsigned"));
    cases.push(("signed by another key", resign(rec.clone(), time, &generate_signing_key()), "bad_signature"));
    let mut changed = records[last].clone();
    let at = changed.len() - 72;
    changed[at] ^= 1; // actor_time, inside the statement
    cases.push(("a changed statement", changed, "bad_signature"));
    cases.push((
        "actor_time 5 minutes and 1 µs ahead",
        resign(rec.clone(), time + SKEW + 1, &admin_key),
        "actor_time_ahead",
    ));
    for (what, bytes, kind) in cases {
        let mut log = records.clone();
        log[last] = bytes;
        assert!(check_log(&log).is_err(), "the document's decoder accepts {what}");
        let report = crate_verdict(&log);
        assert_eq!((report.first_bad_seq, report.problem_kind), (Some(last as u64), Some(kind)), "{what}: {report:?}");
    }
    let mut log = records.clone();
    log[last] = resign(rec, time + SKEW, &admin_key);
    assert!(check_log(&log).is_ok(), "exactly 5 minutes ahead");
    assert!(crate_verdict(&log).ok, "exactly 5 minutes ahead");

    // A format 1 record where the actor has a key, re-chained: both refuse it.
    let mut log = records.clone();
    let rec = Record::decode(&log[1]).unwrap();
    log[1] = Record { signature: None, ..rec }.encode();
    rechain(&mut log, 2);
    assert!(check_log(&log).is_err());
    assert_eq!(crate_verdict(&log).first_bad_seq, Some(1));
}

/// Record 0, an area, and an actor, signed with an administrator key held here.
fn small_signed_ledger() -> (Vec<Vec<u8>>, SigningKey) {
    let clock = commitment_ledger::ManualClock::at(Timestamp::parse("2025-03-01T08:00:00Z").unwrap());
    let mut ledger = Ledger::with_store(MemStore::new(), Box::new(clock.clone())).unwrap();
    let admin = generate_signing_key();
    ledger.keyring_mut().insert(a("admin"), admin.clone());
    let opened = OpenLedger {
        title: t("Section 8"),
        origin: t("example.org/section-8"),
        utc_offset_minutes: 0,
        admin: a("admin"),
        admin_name: t("Administrator"),
        vocabulary: Vocabulary::default_v1(),
        admin_key: Some(PublicKey::of(&admin)),
    };
    ledger.init(opened, vec![RegisterArea { id: ar("one"), name: t("One"), name_en: None }]).unwrap();
    clock.shift(1_000_000);
    let actor =
        RegisterActor { id: a("office"), name: t("Office"), name_en: None, role: Role::Office, public_key: None };
    ledger.append(&a("admin"), Command::RegisterActor(actor)).unwrap();
    (log_of(&ledger), admin)
}

/// The listing of a worked example: (offset, bytes) per line.
fn worked_example(name: &str) -> Vec<(usize, Vec<u8>)> {
    let text = block(name);
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

/// The bytes of a worked example's listing, checking that its offsets run on without gaps.
fn listing(name: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    for (offset, line) in worked_example(name) {
        assert_eq!(offset, bytes.len(), "the listing's offsets run on without gaps");
        bytes.extend(line);
    }
    bytes
}

#[test]
fn the_worked_example_is_what_the_library_writes() {
    let bytes = listing("worked-example");
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
    assert_eq!(bytes, golden_v1()[21], "the example is record 21 of golden-v1");
    let spec = spec();
    assert_same(&decode(&bytes, &spec).unwrap(), &record);
    let h = Hash(hash(&bytes)).to_hex();
    assert!(DOC.contains(&format!("`{h}`")), "the document states the example's hash {h}");
    assert!(DOC.contains(&format!("`{}`", record.prev.to_hex())));
}

/// The format 2 example: record 33 of golden-v2, its statement, and the key that verifies it.
#[test]
fn the_signed_worked_example_is_record_33_of_golden_v2() {
    let spec = spec();
    let records = golden_v2();
    let bytes = listing("worked-example-v2");
    assert_eq!(bytes.len(), 266);
    assert_eq!(bytes, records[33], "the example is record 33 of golden-v2");
    let record = Record::decode(&bytes).unwrap();
    assert!(record.encode() == bytes, "the library writes other bytes than the document shows");
    let env = decode(&bytes, &spec).unwrap();
    assert_same(&env, &record);
    assert_eq!(env.event_type, 14);
    let h = Hash(hash(&bytes)).to_hex();
    assert!(doc_says(&format!("`{h}`, which is the `prev` of record 34")), "the example's hash {h}");
    assert_eq!(records[34][9..41], hash(&bytes));
    assert!(DOC.contains(&format!("`{}`", record.prev.to_hex())));

    let shown = listing("worked-example-statement");
    let origin = decode(&records[0], &spec).unwrap().body["origin"].as_str().unwrap().to_string();
    assert!(statement(&spec, &origin, &env) == shown, "the statement the document shows is not the record's");
    assert_eq!(shown.len(), 241);
    // The key: the commission's, as record 7 registered it; not the new one in the body.
    let registration = decode(&records[7], &spec).unwrap();
    assert_eq!(registration.body["id"], json!("science-commission"));
    let old = key_of(&registration.body["public_key"]).unwrap();
    let new = key_of(&env.body["public_key"]).unwrap();
    assert!(doc_says(&format!("`{}`, not the new key", hex(&old))));
    assert!(doc_says(&format!("new key `{}`", hex(&new))));
    let (_, signature) = env.signed.unwrap();
    assert_eq!(signature[..], bytes[202..]);
    let verify = |key: &[u8; 32]| {
        VerifyingKey::from_bytes(key).unwrap().verify_strict(&shown, &Signature::from_bytes(&signature))
    };
    assert!(verify(&old).is_ok());
    assert!(verify(&new).is_err());
}

/// A format 1 record's signature is always None; a format 2 record is format 1's fields up to the
/// body, then the actor's time and 64 bytes of signature.
#[test]
fn the_signature_is_the_last_field() {
    let spec = spec();
    let unsigned = golden_v1()[21].clone();
    assert_eq!(unsigned.last(), Some(&0));
    // A format 1 record carrying a signature: both decoders refuse it.
    let mut carrying = unsigned[..unsigned.len() - 1].to_vec();
    carrying.push(1);
    carrying.extend(64u64.to_le_bytes());
    carrying.extend([7u8; 64]);
    assert!(decode(&carrying, &spec).is_err());
    let refused = Record::decode(&carrying).unwrap_err();
    assert!(refused.to_string().contains("signature"), "{refused}");

    let mut record = Record::decode(&unsigned).unwrap();
    let signature: [u8; 64] = std::array::from_fn(|i| i as u8);
    record.signature = Some(Signed { actor_time: Timestamp(1_717_574_400_000_001), signature });
    let signed = record.encode();
    assert_eq!(signed[0], 2);
    assert_eq!(signed[1..unsigned.len() - 1], unsigned[1..unsigned.len() - 1]);
    assert_eq!(signed[unsigned.len() - 1..unsigned.len() + 7], 1_717_574_400_000_001i64.to_le_bytes());
    assert_eq!(signed[unsigned.len() + 7..], signature);
    assert_eq!(signed.len(), unsigned.len() - 1 + 8 + 64);
    assert_same(&decode(&signed, &spec).unwrap(), &record);
    assert_ne!(hash(&signed), blake3::derive_key(CONTEXT_V1, &signed), "format 2 hashes with its own context");
}

/// What the document calls invalid, both decoders refuse. Offsets are those of the worked examples.
#[test]
fn both_decoders_refuse_what_the_document_calls_invalid() {
    let spec = spec();
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    let v1 = golden_v1()[21].clone();
    let v2 = golden_v2()[33].clone();
    for good in [&v1, &v2] {
        assert!(decode(good, &spec).is_ok() && Record::decode(good).is_ok());
    }
    let mut set = |what, good: &[u8], at: usize, byte: u8| {
        let mut b = good.to_vec();
        b[at] = byte;
        cases.push((what, b));
    };
    set("unknown format 3", &v1, 0, 3);
    set("unknown format 0", &v2, 0, 0);
    set("a format 1 record read as format 2", &v1, 0, 2);
    set("a format 2 record read as format 1", &v2, 0, 1);
    set("an uppercase letter in the actor id", &v1, 57, b'C');
    set("a stream that is not one", &v1, 87, b'I');
    set("Option tag 2 (stream_prev)", &v1, 116, 2);
    set("unknown event type 16", &v1, 125, 16);
    set("unknown event type 0", &v2, 124, 0);
    set("unknown event version 2 (IndicatorRecorded)", &v1, 127, 2);
    set("unknown event version 2 (KeyRegistered)", &v2, 126, 2);
    set("unknown event version 3 (ActorRegistered)", &golden_v2()[7], 126, 3);
    set("invalid UTF-8 in a body string", &v1, 169, 0xff);
    set("bool byte 2", &v1, 211, 2);
    set("Date variant 3", &v1, 213, 3);
    set("signature Option tag 2", &v1, 219, 2);
    set("a string length past the end", &v1, 137, 0xff);
    set("a body length past the end", &v1, 129, 0xff);
    set("a body length past the end (format 2)", &v2, 128, 0xff);
    set("an actor id in a body that is not one", &v2, 144, b'S');
    for good in [&v1, &v2] {
        let mut longer = good.clone();
        longer.push(0);
        cases.push(("a byte left over", longer));
        cases.push(("truncated", good[..good.len() - 1].to_vec()));
    }
    let mut body_left_over = v1.clone();
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
        let mut r = Record::decode(&golden_v1()[23]).unwrap();
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
    // The statement is never decoded: it may be longer than its record, past the limit (section 1).
    let long = commitment_ledger::statement_bytes(&"o".repeat(256), "a", "ledger", 0, 1, 2, &[0; LIMIT], 0);
    assert!(long.len() > LIMIT);
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
        // None: `init` makes the administrator a key (kept in memory) and the ledger is signed.
        admin_key: None,
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
        // No key given: the ledger makes one and keeps it in memory.
        let e = RegisterActor { id: a(id), name: format!("{id} 名"), name_en: en.map(t), role, public_key: None };
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

    // Keys: a coordinator rotates a department's key (the ledger makes the new one); the department
    // retires it, signing with it; a coordinator registers one the department made itself; an auditor
    // retires its own key, and a coordinator gives it a new one.
    let mut append = |actor: &str, command: Command| {
        clock.shift(3_600_000_000);
        ledger.append(&a(actor), command).unwrap_or_else(|e| panic!("{e}"));
    };
    append("admin", Command::RegisterKey { actor: a("dept-a"), public_key: None });
    append("dept-a", Command::RetireKey { actor: a("dept-a"), reason: Some(t("Lost.")) });
    let own = generate_signing_key();
    append("office", Command::RegisterKey { actor: a("dept-a"), public_key: Some(PublicKey::of(&own)) });
    append("auditor", Command::RetireKey { actor: a("auditor"), reason: None });
    append("office", Command::RegisterKey { actor: a("auditor"), public_key: None });
    ledger.keyring_mut().insert(a("dept-a"), own);
    clock.shift(3_600_000_000);
    ledger.append(&a("dept-a"), progress("i-planned", "Signed with a key of its own.", None, None)).unwrap();
    ledger
}
