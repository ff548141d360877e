//! Export bundles: the whole log as JSON lines, one record a line, each carrying its hash, its link and
//! its stored bytes, so that an auditor can verify a copy without sled and without trusting the JSON.
//!
//! A line is [`RecordJson`] with `bytes` (`schema/record.schema.json`). [`verify_bundle`] runs the same
//! [`Verifier`] as `verify` over the bytes, then checks that every JSON field says what the bytes say:
//! a changed, missing or reordered line is named by its line number.

use crate::ids::Seq;
use crate::ledger::{Ledger, LedgerError};
use crate::record::Hash;
use crate::store::Store;
use crate::verify::{Bad, Problem, Report, Verifier};
use crate::view::RecordJson;
use base64::Engine as _;
use serde::Deserialize;
use std::io::{BufRead, Write};
use std::ops::ControlFlow;

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

/// The fields of a line that the check needs before decoding the bytes.
#[derive(Deserialize)]
struct LineHead {
    seq: u64,
    bytes: String,
}

/// Verifies a bundle without a store: the same checks as `verify`, per line, plus that each line's
/// JSON fields match its bytes. With `expected_head`, the last record must have that hash (this is
/// what catches a bundle with its newest lines removed). `progress` gets the lines read so far.
pub fn verify_bundle(
    input: &mut dyn BufRead,
    expected_head: Option<Hash>,
    progress: &mut dyn FnMut(u64),
) -> Result<Report, std::io::Error> {
    let mut verifier = Verifier::for_bundle();
    let mut offset = 0;
    let mut line = Vec::new();
    let mut lineno = 0u64;
    let mut bad = None;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        lineno += 1;
        let checked = match std::str::from_utf8(&line) {
            Ok(text) => check_line(&mut verifier, text.trim_end_matches(['\n', '\r']), &mut offset),
            Err(e) => Err(Box::new((
                Bad {
                    seq: verifier.records(),
                    problem: Problem::BadLine { why: format!("the line is not UTF-8: {e}") },
                },
                None,
            ))),
        };
        if let Err(failure) = checked {
            let (b, this) = *failure;
            // A broken link may mean the line before was changed: the next line tells.
            let mut next = Vec::new();
            input.read_until(b'\n', &mut next)?;
            let next_bytes = std::str::from_utf8(&next).ok().and_then(|t| line_bytes(t.trim_end_matches(['\n', '\r'])));
            let b = verifier.attribute(b, this.as_deref(), next_bytes.as_deref());
            lineno -= verifier.records() - b.seq.min(verifier.records());
            bad = Some(b);
            break;
        }
        if lineno.is_multiple_of(65_536) {
            progress(lineno);
        }
    }
    progress(lineno);
    let records = verifier.records();
    let mut report = verifier.finish(bad.clone());
    if bad.is_some() {
        report.first_bad_line = Some(lineno);
    } else if let Some(expected) = expected_head
        && report.head.as_deref() != Some(expected.to_hex().as_str())
    {
        let problem = Problem::BadLine {
            why: format!(
                "the bundle ends with {} but the expected head is {expected}: records were changed or removed at the end",
                report
                    .head
                    .as_deref()
                    .map_or("no records".to_string(), |h| format!("record {} hashing to {h}", records - 1))
            ),
        };
        report.ok = false;
        report.first_bad_seq = Some(records.saturating_sub(1));
        report.first_bad_line = Some(records.max(1));
        report.problem_kind = Some(problem.kind());
        report.problem = Some(problem.to_string());
    }
    Ok(report)
}

/// The stored bytes a line carries, if it carries any.
fn line_bytes(text: &str) -> Option<Vec<u8>> {
    let head: LineHead = serde_json::from_str(text).ok()?;
    base64::engine::general_purpose::STANDARD.decode(&head.bytes).ok()
}

/// Checks one line; on failure returns why, with the line's stored bytes when it had readable ones.
/// A failed line: why, and the line's stored bytes when it had readable ones.
type LineFailure = Box<(Bad, Option<Vec<u8>>)>;

fn check_line(verifier: &mut Verifier, text: &str, offset: &mut i32) -> Result<(), LineFailure> {
    let seq = verifier.records();
    let bad = |why: String| Box::new((Bad { seq, problem: Problem::BadLine { why } }, None));
    if text.trim().is_empty() {
        return Err(bad("the line is empty".into()));
    }
    let head: LineHead = serde_json::from_str(text).map_err(|e| bad(format!("the line is not a record: {e}")))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&head.bytes)
        .map_err(|e| bad(format!("`bytes` is not base64: {e}")))?;
    let (rec, hash) = match verifier.check_next(&Seq(head.seq).key(), &bytes) {
        Ok(checked) => checked,
        Err(b) => return Err(Box::new((b, Some(bytes)))),
    };
    if let crate::event::Event::LedgerOpened(o) = &rec.event {
        *offset = o.utc_offset_minutes;
    }
    let canonical = serde_json::to_string(&RecordJson::new(&rec, hash, *offset, Some(&bytes)))
        .map_err(|e| bad(format!("cannot render the record: {e}")))?;
    if canonical != text {
        same_fields(text, &canonical)
            .map_err(|why| Box::new((Bad { seq, problem: Problem::BadLine { why } }, None)))?;
    }
    verifier.accept(&rec, hash);
    Ok(())
}

/// Accepts a line that is not byte-identical to the canonical one only if it holds the same fields
/// (reformatted); otherwise names the first field that differs.
fn same_fields(text: &str, canonical: &str) -> Result<(), String> {
    let given: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let wanted: serde_json::Value = serde_json::from_str(canonical).map_err(|e| e.to_string())?;
    if given == wanted {
        return Ok(());
    }
    let (path, g, w) = first_difference("", &given, &wanted);
    Err(format!("field `{path}` says {g} but the record's stored bytes say {w}"))
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
