//! Export bundles: the whole log as JSON lines, one record a line, each carrying its hash, its link and
//! its stored bytes, so that an auditor can verify a copy without sled and without trusting the JSON.
//!
//! A line is [`RecordJson`] with `bytes` (`schema/record.schema.json`); its field order is fixed, so a
//! line is a canonical function of the record. [`crate::verify::verify_bundle`] runs the same checks
//! as `verify` over the bytes, then [`check_fields`] checks that every JSON field says what the bytes
//! say: a changed, missing or reordered line is named by its line number.

use crate::event::Event;
use crate::ids::Seq;
use crate::ledger::{Ledger, LedgerError};
use crate::record::Hash;
use crate::record::Record;
use crate::store::Store;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::ops::ControlFlow;

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
    /// The event's fields, as its stored version has them.
    pub event: EventJson<'a>,
    /// For a signed record: when its actor signed it, RFC 3339 in the ledger's UTC offset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_time: Option<String>,
    /// For a signed record: its actor's Ed25519 signature, base64 (standard alphabet, padded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// The stored bytes, base64 (standard alphabet, padded); in bundles only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<String>,
}

/// The JSON form of an event as stored: its current shape, without the fields its stored version did
/// not have (an upcast fills them with nothing), so that a record renders the same in every version
/// of this crate and old bundles stay canonical.
#[derive(Debug, Clone, Copy)]
pub struct EventJson<'a> {
    /// The event, upcast.
    pub event: &'a Event,
    /// The version it was stored in.
    pub stored_version: u16,
}

impl Serialize for EventJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let added = self.event.fields_added_since(self.stored_version);
        if added.is_empty() {
            return self.event.serialize(s);
        }
        let mut value = serde_json::to_value(self.event).map_err(serde::ser::Error::custom)?;
        if let Some(fields) = value.as_object_mut() {
            for f in added {
                fields.remove(*f);
            }
        }
        value.serialize(s)
    }
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
            version: rec.event_version,
            event: EventJson { event: &rec.event, stored_version: rec.event_version },
            actor_time: rec.signature.map(|s| s.actor_time.format(utc_offset)),
            signature: rec.signature.map(|s| base64::engine::general_purpose::STANDARD.encode(s.signature)),
            bytes: bytes.map(|b| base64::engine::general_purpose::STANDARD.encode(b)),
        }
    }
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// Reading the ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// Writing the bundle failed.
    #[error("cannot write the bundle: {0}")]
    Write(#[from] std::io::Error),
}

/// Writes every record as one JSON line; `progress` is called with the records written so far.
/// Returns the number of records written.
pub fn export<S: Store>(
    ledger: &Ledger<S>,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> Result<u64, ExportError> {
    let offset = ledger.registry().utc_offset();
    let mut written = 0u64;
    let mut failure = None;
    // Each line is built in one reused buffer and written whole: serde_json's many small writes are
    // cheaper into a Vec than through `out`.
    let mut line_buf = Vec::with_capacity(4096);
    ledger
        .store()
        .scan(Seq(0), &mut |key, bytes| {
            let result = (|| -> Result<(), ExportError> {
                let seq = Seq::from_key(key).map_or(u64::MAX, |s| s.0);
                let rec = crate::record::Record::decode(bytes)
                    .map_err(|e| LedgerError::Corrupt { seq, why: e.to_string() })?;
                let line = RecordJson::new(&rec, crate::record::hash_record_bytes(bytes), offset, Some(bytes));
                line_buf.clear();
                serde_json::to_writer(&mut line_buf, &line).map_err(std::io::Error::from)?;
                line_buf.push(b'\n');
                out.write_all(&line_buf)?;
                Ok(())
            })();
            match result {
                Ok(()) => {
                    written += 1;
                    if written.is_multiple_of(65_536) {
                        progress(written);
                    }
                    ControlFlow::Continue(())
                }
                Err(e) => {
                    failure = Some(e);
                    ControlFlow::Break(())
                }
            }
        })
        .map_err(LedgerError::from)?;
    if let Some(e) = failure {
        return Err(e);
    }
    out.flush()?;
    progress(written);
    Ok(written)
}

/// A bundle line, read: its text, the seq it claims and its stored bytes.
#[derive(Debug, Clone)]
pub struct BundleLine {
    /// The line without its line ending.
    pub text: String,
    /// The `seq` field.
    pub seq: u64,
    /// The `bytes` field, decoded.
    pub bytes: Vec<u8>,
}

/// The fields of a line read before its bytes are decoded.
#[derive(Deserialize)]
struct LineHead {
    seq: u64,
    bytes: String,
}

/// The longest bundle line read: well past the rendering of the largest record (256 KiB of bytes in
/// base64, and the same texts again as JSON), so that a line longer than this cannot be a record.
pub const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

impl BundleLine {
    /// Reads a line (with or without its line ending); says what is wrong with it otherwise.
    pub fn parse(line: &[u8]) -> Result<BundleLine, String> {
        let text = std::str::from_utf8(line).map_err(|e| format!("the line is not UTF-8: {e}"))?;
        let text = text.trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            return Err("the line is empty".into());
        }
        let head: LineHead = serde_json::from_str(text).map_err(|e| format!("the line is not a record: {e}"))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&head.bytes)
            .map_err(|e| format!("`bytes` is not base64: {e}"))?;
        Ok(BundleLine { text: text.to_string(), seq: head.seq, bytes })
    }
}

/// Checks that a line's JSON fields say what its stored bytes (decoded as `rec`, hashing to `hash`)
/// say; names the first field that differs otherwise.
pub fn check_fields(line: &BundleLine, rec: &Record, hash: Hash, utc_offset: i32) -> Result<(), String> {
    let canonical = serde_json::to_string(&RecordJson::new(rec, hash, utc_offset, Some(&line.bytes)))
        .map_err(|e| format!("cannot render the record: {e}"))?;
    if canonical == line.text { Ok(()) } else { Err(not_canonical(&line.text, &canonical)) }
}

/// Why a line that is not the canonical rendering of its stored bytes is refused: the first field
/// that differs, or, when the fields agree once parsed (reformatted, reordered, or a key given twice,
/// which a parser resolves one way and a reader's eye another), that the line is not canonical.
fn not_canonical(text: &str, canonical: &str) -> String {
    let parsed =
        (serde_json::from_str::<serde_json::Value>(text), serde_json::from_str::<serde_json::Value>(canonical));
    if let (Ok(given), Ok(wanted)) = parsed
        && given != wanted
    {
        let (path, g, w) = first_difference("", &given, &wanted);
        return format!("field `{path}` says {g} but the record's stored bytes say {w}");
    }
    "the line is not the canonical rendering of its stored bytes (reformatted, reordered, or a key given twice); \
     a bundle line must be exactly as `commitments export` writes it"
        .to_string()
}

/// The path of the first field where two JSON values differ, and both values there.
fn first_difference(path: &str, given: &serde_json::Value, wanted: &serde_json::Value) -> (String, String, String) {
    let join = |k: &str| if path.is_empty() { k.to_string() } else { format!("{path}.{k}") };
    if let (Some(g), Some(w)) = (given.as_object(), wanted.as_object()) {
        let keys = w.keys().chain(g.keys().filter(|k| !w.contains_key(*k)));
        for k in keys {
            match (g.get(k), w.get(k)) {
                (Some(a), Some(b)) if a == b => {}
                (Some(a), Some(b)) => return first_difference(&join(k), a, b),
                (a, b) => {
                    let show = |v: Option<&serde_json::Value>| v.map_or("nothing".to_string(), |v| v.to_string());
                    return (join(k), show(a), show(b));
                }
            }
        }
    }
    (if path.is_empty() { "(line)".to_string() } else { path.to_string() }, given.to_string(), wanted.to_string())
}

/// Why a restore did not happen. The new directory is left as it was found.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RestoreError {
    /// The directory to restore into is not new or empty.
    #[error("ledger: {0} is not empty; restore needs a new directory")]
    NotEmpty(std::path::PathBuf),
    /// The bundle does not verify: nothing was kept.
    #[error("the bundle does not verify, so nothing was restored: {}", .0.problem.as_deref().unwrap_or("unsound"))]
    Unsound(Box<crate::verify::Report>),
    /// Reading the bundle failed.
    #[error("cannot read the bundle: {0}")]
    Read(#[from] std::io::Error),
    /// Writing the new ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// Records written per durable batch while restoring.
const RESTORE_BATCH: usize = 10_000;

/// Rebuilds a ledger in the new or empty directory `dir` from an export bundle: every line is
/// verified as `verify --bundle` does, and the records' stored bytes are written unchanged (the same
/// records, the same hashes), in durable batches. When the bundle does not verify, or anything fails,
/// the directory is left as it was found. Returns the bundle's verification report.
pub fn restore(
    input: &mut dyn std::io::BufRead,
    dir: &std::path::Path,
    progress: &mut dyn FnMut(u64),
) -> Result<crate::verify::Report, RestoreError> {
    use crate::sled_store::{PriorState, SledStore};
    let prior = SledStore::prior_state(dir);
    if prior == PriorState::Occupied {
        return Err(RestoreError::NotEmpty(dir.to_path_buf()));
    }
    let result = (|| -> Result<crate::verify::Report, RestoreError> {
        let mut store = SledStore::open(dir, true).map_err(LedgerError::from)?;
        let mut batch: Vec<(Seq, Vec<u8>)> = Vec::with_capacity(RESTORE_BATCH);
        let mut last = None;
        let mut failure = None;
        let report = crate::verify::verify_bundle_with(input, None, progress, &mut |rec, hash, bytes| {
            batch.push((rec.seq, bytes.to_vec()));
            last = Some(crate::record::Head { seq: rec.seq, hash, time: rec.time });
            if batch.len() >= RESTORE_BATCH
                && let Some(head) = &last
                && let Err(e) = store.append(&batch, head)
            {
                failure = Some(e);
                return Err(std::io::Error::other("the new ledger could not be written"));
            }
            if batch.len() >= RESTORE_BATCH {
                batch.clear();
            }
            Ok(())
        });
        if let Some(e) = failure {
            return Err(LedgerError::from(e).into());
        }
        let report = report?;
        if !report.ok {
            return Err(RestoreError::Unsound(Box::new(report)));
        }
        if let Some(head) = &last
            && !batch.is_empty()
        {
            store.append(&batch, head).map_err(LedgerError::from)?;
        }
        // Opening the ledger builds its projection from the restored log; closing writes it back.
        let ledger = Ledger::with_store(store, Box::new(crate::date::SystemClock))?;
        ledger.close()?;
        Ok(report)
    })();
    if result.is_err() {
        SledStore::remove_new(dir, prior);
    }
    result
}
