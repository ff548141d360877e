//! The tamper suite of issue 9. Guards that `verify` never says OK about a ledger that lost or changed
//! what it acknowledged, and that it names what is wrong exactly as `schema/verify-report.md` says:
//! `problem_kind`, `first_bad_seq` (the first record that is not what the ledger acknowledged; null for
//! head and derived-data damage), `records` (the records before it) and, for bundles, `first_bad_line`.
//!
//! Every class of damage goes through the stored files, as an insider with write access to the ledger
//! directory (or a failing disk) would do it: records in sled's `log` tree changed byte by byte,
//! removed, inserted, swapped or cut off (sled trees edited with sled itself); the witness file
//! `acknowledged` removed or rewritten; the `derived` tree edited; sled's own files cut, removed or
//! flipped; export bundle lines doctored. Each is applied to a fresh copy of each of three generated
//! ledgers (the fixture, a grown one with generated items and updates over several appends, and one
//! of a few thousand records), and the expected verdict is derived from where the damage is (the
//! record format of `schema/record-format.md` §2, the checks of §11, the report's documentation), not
//! taken from what the code answers.
//!
//! The ledgers are signed (record format 2: the envelope ends with the actor's time and a 64-byte
//! signature over the record's statement, §8). The statement covers the event, the stream and stream
//! version, the actor and the actor's time, not what the ledger assigns (seq, link, time, stream link):
//! a change of the former that leaves the record lawful still breaks the chain first (`changed`, or
//! `head_mismatch` at the last record); a re-chained forgery that only moves records, links or times
//! needs no key, and only checkpoints catch it (`tests/tamper_corpus.rs`).
//!
//! Most cases run the library's verification (`Ledger::open_read` + `Ledger::verify`, which is what
//! `commitments verify` runs, or `verify_bundle`); cases on the fixture also run the binary's
//! `verify --json` (all of them, or every third or fourth in the largest classes) and must give the
//! same report, with exit 0 exactly when `ok` and 1 otherwise. Each test prints how many cases it ran
//! and which verdicts they expected (`cargo test --test tamper_suite -- --nocapture`).

mod support;

use commitment_ledger::export::{RecordJson, export};
use commitment_ledger::{
    Command, Event, Hash, Head, ItemState, Kind, Ledger, MAX_ACTOR_SKEW, Record, Registry, Report, Seq, Store,
    Timestamp, decode_stored, encode_stored, verify_bundle,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fs;
use std::ops::{ControlFlow, RangeInclusive};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use support::*;

// ---------------------------------------------------------------------------------------------------
// The ledgers
// ---------------------------------------------------------------------------------------------------

/// A closed, sound ledger and what was read from it once, before any copy was made: its records'
/// stored bytes, its export bundle and its witness file. The directory itself is never opened again;
/// every case works on a copy.
struct Base {
    name: &'static str,
    dir: PathBuf,
    /// Every record's stored bytes, in seq order.
    records: Vec<Vec<u8>>,
    /// Their hashes.
    hashes: Vec<[u8; 32]>,
    /// The export bundle.
    bundle: Vec<u8>,
    /// The witness file `acknowledged`.
    witness: Vec<u8>,
    /// Whether its cases also run through the binary (all, or every n-th: [`Tally::binary_every`]).
    through_binary: bool,
}

impl Base {
    fn build(name: &'static str, through_binary: bool, make: impl FnOnce(&Path)) -> Base {
        let started = Instant::now();
        let dir = root().join(format!("base-{name}"));
        make(&dir);
        let ledger = Ledger::open_read(&dir).expect("the new ledger opens");
        let mut records = Vec::new();
        ledger
            .store()
            .scan(Seq(0), &mut |key, bytes| {
                assert_eq!(Seq::from_key(key), Some(Seq(records.len() as u64)), "{name}: keys without gaps");
                records.push(bytes.to_vec());
                ControlFlow::Continue(())
            })
            .expect("the log reads");
        let report = ledger.verify(&mut |_| {}).expect("verifies");
        assert!(report.ok, "{name}: the untouched ledger is sound: {report:?}");
        assert_eq!(report.records, records.len() as u64);
        assert_eq!(report.unacknowledged, 0, "{name}: every record acknowledged");
        let mut bundle = Vec::new();
        export(&ledger, &mut bundle, &mut |_| {}).expect("exports");
        drop(ledger);
        let witness = fs::read(dir.join("acknowledged")).expect("the witness exists");
        let hashes = records.iter().map(|r| record_hash(r)).collect();
        println!("ledger {name}: {} records, built in {:.1?}", records.len(), started.elapsed());
        Base { name, dir, records, hashes, bundle, witness, through_binary }
    }

    /// The number of records.
    fn count(&self) -> u64 {
        self.records.len() as u64
    }

    /// The last seq.
    fn last(&self) -> u64 {
        self.count() - 1
    }

    fn rec(&self, seq: u64) -> &[u8] {
        &self.records[seq as usize]
    }

    fn hash(&self, seq: u64) -> [u8; 32] {
        self.hashes[seq as usize]
    }

    fn time(&self, seq: u64) -> i64 {
        i64::from_le_bytes(self.rec(seq)[layout::TIME].try_into().unwrap())
    }

    /// A fresh copy of the untouched ledger, removed when dropped.
    fn copy(&self, label: &str) -> Case {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let safe: String = label.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).take(40).collect();
        let dir = root().join(format!("{}-{n}-{safe}", self.name));
        copy_dir(&self.dir, &dir);
        Case(dir)
    }

    /// A fresh copy, its sled trees edited with sled itself.
    fn tampered(&self, label: &str, tamper: impl FnOnce(&Raw)) -> Case {
        let case = self.copy(label);
        let raw = Raw::open(&case.0);
        tamper(&raw);
        raw.close();
        case
    }

    /// The `(seq, counter)` of each valid witness slot (0 and 512), as the format document lays it out.
    fn witness_slots(&self) -> [Option<(u64, u64)>; 2] {
        [0, 512].map(|at| {
            let s = &self.witness[at..at + 88];
            let check = blake3::derive_key("commitment-ledger 2026-11-29 acknowledged head v1", &s[..64]);
            (&s[..8] == b"CLWITNES" && s[64..72] == check[..8]).then(|| {
                let u = |i: usize| u64::from_le_bytes(s[i..i + 8].try_into().unwrap());
                (u(16), u(8))
            })
        })
    }
}

/// A copy of a ledger for one case, removed when the case is done.
struct Case(PathBuf);

impl Drop for Case {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

impl std::ops::Deref for Case {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

/// This run's directory under cargo's temporary directory for tests (directories of earlier runs
/// whose process is gone are removed first).
fn root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        if let Ok(entries) = fs::read_dir(tmp) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(pid) = name.strip_prefix("tamper_suite-")
                    && !Path::new("/proc").join(pid).exists()
                {
                    let _ = fs::remove_dir_all(e.path());
                }
            }
        }
        let root = tmp.join(format!("tamper_suite-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).expect("the suite's directory");
        root
    })
}

/// The three ledgers, each built once (on first use) and shared by every test.
fn bases() -> [&'static Base; 3] {
    static FIXTURE: OnceLock<Base> = OnceLock::new();
    static GROWN: OnceLock<Base> = OnceLock::new();
    static LARGE: OnceLock<Base> = OnceLock::new();
    [
        FIXTURE.get_or_init(|| {
            Base::build("fixture", true, |dir| {
                build_fixture(dir);
            })
        }),
        GROWN.get_or_init(|| Base::build("grown", false, |dir| grow(dir, "gen", 40, 260, 60, 0x9e37_79b9))),
        LARGE.get_or_init(|| Base::build("large", false, |dir| grow(dir, "bulk", 300, 2_700, 500, 0x2545_f491))),
    ]
}

/// The fixture, then `items` generated items and `updates` updates, appended with the system clock in
/// batches of `batch` (so the witness is rewritten once per batch).
fn grow(dir: &Path, prefix: &str, items: usize, updates: usize, batch: usize, seed: u64) {
    build_fixture(dir);
    let mut ledger = open_ledger(dir);
    let mut commands = generated(prefix, items, updates, seed);
    while !commands.is_empty() {
        let rest = commands.split_off(commands.len().min(batch));
        ledger.append_batch(commands).expect("generated commands are legal");
        commands = rest;
    }
    ledger.close().expect("closes");
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}

/// The departments of the fixture, which lead the generated items.
const LEADS: [&str; 5] = ["fin", "drc", "sci", "culture", "tcm-bureau"];
const AREAS: [&str; 6] = ["finance", "trade", "science-tech", "culture-tourism", "tcm", "education"];
/// The statuses an item walks through, one step per status update.
const STATUS_PATH: [&str; 3] = ["in_progress", "partially_delivered", "delivered"];

/// Legal commands over the fixture's actors and areas: items recorded by the office, then progress
/// reports, figures and status changes by their leads.
fn generated(prefix: &str, items: usize, updates: usize, seed: u64) -> Vec<(commitment_ledger::ActorId, Command)> {
    let mut rng = Rng(seed);
    let mut out = Vec::with_capacity(items + updates);
    let mut leads = Vec::with_capacity(items);
    let mut stage = vec![0usize; items];
    let id = |i: usize| format!("{prefix}-{i:04}");
    for i in 0..items {
        let lead = LEADS[rng.below(LEADS.len())];
        let mut c = commitment(&id(i), lead, AREAS[rng.below(AREAS.len())], Kind::Planned);
        c.source = Some(source("reply-0771"));
        c.title = format!("第{i}项合作承诺：推进京澳交流");
        out.push((actor("office"), Command::RecordCommitment(c)));
        leads.push(lead);
    }
    for n in 0..updates {
        let i = rng.below(items);
        let command = match rng.below(5) {
            0 if stage[i] < STATUS_PATH.len() => {
                stage[i] += 1;
                status(&id(i), STATUS_PATH[stage[i] - 1], &format!("第{n}次状态更新：按计划推进"))
            }
            1 => figure(&id(i), "完成项目数", &rng.below(1000).to_string(), Some("项")),
            _ => Command::ReportProgress {
                item: item(&id(i)),
                text: format!("第{n}次进展：完成调研{}项，召开座谈会。", rng.below(50)),
                on: None,
                evidence: None,
            },
        };
        out.push((actor(leads[i]), command));
    }
    out
}

// ---------------------------------------------------------------------------------------------------
// Verdicts
// ---------------------------------------------------------------------------------------------------

/// The fields of a report a case pins down.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Verdict {
    ok: bool,
    kind: Option<String>,
    first_bad_seq: Option<u64>,
    records: u64,
    unacknowledged: u64,
}

impl Verdict {
    fn of(r: &Report) -> Verdict {
        Verdict {
            ok: r.ok,
            kind: r.problem_kind.map(str::to_string),
            first_bad_seq: r.first_bad_seq,
            records: r.records,
            unacknowledged: r.unacknowledged,
        }
    }
}

/// What a case must be reported as.
#[derive(Debug, Clone)]
struct Want {
    verdict: Verdict,
    /// Phrases the problem must contain.
    says: Vec<String>,
    /// Bundles: the first bad line.
    line: Option<Option<u64>>,
    /// Whether the records before the first bad one are the base's own (then the report's head must
    /// be the base's record before it).
    intact_prefix: bool,
    /// Instead of an exact verdict: not OK, one of these kinds, the first bad seq in this range (and
    /// `records` the records before it). For damage whose first visible inconsistency depends on the
    /// contents of later records.
    loose: Option<(Vec<&'static str>, RangeInclusive<u64>)>,
}

/// Record damage: record `seq` is the first bad one, and every record before it verified.
fn bad(kind: &str, seq: u64) -> Want {
    Want {
        verdict: Verdict {
            ok: false,
            kind: Some(kind.into()),
            first_bad_seq: Some(seq),
            records: seq,
            unacknowledged: 0,
        },
        says: Vec::new(),
        line: None,
        intact_prefix: true,
        loose: None,
    }
}

/// Head or derived-data damage: no record is to blame, `records` verified.
fn not_a_record(kind: &str, records: u64) -> Want {
    Want {
        verdict: Verdict { ok: false, kind: Some(kind.into()), first_bad_seq: None, records, unacknowledged: 0 },
        says: Vec::new(),
        line: None,
        intact_prefix: true,
        loose: None,
    }
}

/// Sound: `records` verified, `unacknowledged` of them after the acknowledged head.
fn sound(records: u64, unacknowledged: u64) -> Want {
    Want {
        verdict: Verdict { ok: true, kind: None, first_bad_seq: None, records, unacknowledged },
        says: Vec::new(),
        line: None,
        intact_prefix: true,
        loose: None,
    }
}

/// Record damage named somewhere in `seqs`, as one of `kinds`.
fn bad_among(kinds: &[&'static str], seqs: RangeInclusive<u64>) -> Want {
    let mut want = bad(kinds[0], *seqs.start());
    want.loose = Some((kinds.to_vec(), seqs));
    want
}

impl Want {
    fn says(mut self, phrase: impl Into<String>) -> Want {
        self.says.push(phrase.into());
        self
    }

    fn line(mut self, line: Option<u64>) -> Want {
        self.line = Some(line);
        self
    }

    /// The records before the first bad one were rewritten (their hashes are not the base's).
    fn rewritten_prefix(mut self) -> Want {
        self.intact_prefix = false;
        self
    }
}

/// The cases of one test: counts them, and collects every mismatch so that one run shows them all.
struct Tally {
    what: &'static str,
    /// Cases on a ledger run through the binary too: every one, or every n-th.
    binary_every: usize,
    cases: usize,
    /// How many cases expected each verdict (`ok`, or the problem kind).
    expected: std::collections::BTreeMap<String, usize>,
    failures: Vec<String>,
    started: Instant,
}

impl Tally {
    fn new(what: &'static str) -> Tally {
        Tally {
            what,
            binary_every: 1,
            cases: 0,
            expected: Default::default(),
            failures: Vec::new(),
            started: Instant::now(),
        }
    }

    fn fail(&mut self, base: &Base, label: &str, why: String) {
        self.failures.push(format!("[{}] {label}: {why}", base.name));
    }

    /// Verifies a tampered ledger directory and compares the report with `want`.
    fn ledger(&mut self, base: &Base, label: &str, dir: &Path, want: Want) {
        self.cases += 1;
        let report = match Ledger::open_read(dir).and_then(|l| l.verify(&mut |_| {})) {
            Ok(r) => r,
            Err(e) => return self.fail(base, label, format!("verify refused the ledger: {e}")),
        };
        self.compare(base, label, &report, &want);
        if base.through_binary && self.cases.is_multiple_of(self.binary_every) {
            let run = cli(dir, &["--json", "verify"]);
            let json = serde_json::from_str(&run.stdout).unwrap_or(Value::Null);
            self.same_as_binary(base, label, &report, run.code, json);
        }
    }

    /// Verifies a doctored bundle and compares the report with `want`.
    fn bundle(&mut self, base: &Base, label: &str, bytes: &[u8], want: Want) {
        self.cases += 1;
        let report = verify_bundle(&mut &bytes[..], None, &mut |_| {}).expect("reading from memory");
        self.compare(base, label, &report, &want);
        if base.through_binary && self.cases.is_multiple_of(self.binary_every) {
            let case = base.copy("bundle");
            let path = case.join("doctored.jsonl");
            fs::write(&path, bytes).expect("writes the bundle");
            let run = cli_raw(&["--json", "verify", "--bundle", path.to_str().unwrap()]);
            let json = serde_json::from_str(&run.stdout).unwrap_or(Value::Null);
            self.same_as_binary(base, label, &report, run.code, json);
        }
    }

    fn compare(&mut self, base: &Base, label: &str, r: &Report, want: &Want) {
        let expected = match &want.loose {
            Some((kinds, _)) => kinds.join("|"),
            None => want.verdict.kind.clone().unwrap_or_else(|| "ok".into()),
        };
        *self.expected.entry(expected).or_default() += 1;
        let got = Verdict::of(r);
        let shown = || serde_json::to_string(r).unwrap();
        if let Some((kinds, seqs)) = &want.loose {
            let named = !r.ok
                && r.problem_kind.is_some_and(|k| kinds.contains(&k))
                && r.first_bad_seq.is_some_and(|s| seqs.contains(&s) && r.records == s)
                && r.unacknowledged == 0;
            if !named {
                let wanted = format!("one of {kinds:?} at a seq in {seqs:?}");
                self.fail(base, label, format!("\n    wanted {wanted}\n    got    {}", shown()));
                return;
            }
        } else if got != want.verdict {
            self.fail(base, label, format!("\n    wanted {:?}\n    got    {}", want.verdict, shown()));
            return;
        }
        for phrase in &want.says {
            if !r.problem.as_deref().unwrap_or_default().contains(phrase.as_str()) {
                self.fail(base, label, format!("the problem does not say {phrase:?}: {}", shown()));
            }
        }
        if let Some(line) = want.line
            && r.first_bad_line != line
        {
            self.fail(base, label, format!("wanted first_bad_line {line:?}: {}", shown()));
        }
        // The head is the last good record: record `records - 1`, as the base had it.
        let head_ok = match r.records {
            0 => r.head.is_none() && r.head_seq.is_none(),
            n => {
                r.head_seq == Some(n - 1)
                    && (!want.intact_prefix || r.head.as_deref() == Some(Hash(base.hash(n - 1)).to_hex().as_str()))
            }
        };
        if !head_ok {
            self.fail(base, label, format!("the head is not the last good record: {}", shown()));
        }
    }

    /// The binary's `--json` report is the library's, and its exit code says `ok`.
    fn same_as_binary(&mut self, base: &Base, label: &str, report: &Report, code: i32, mut json: Value) {
        if let Some(m) = json.as_object_mut() {
            m.remove("at");
        }
        let wanted_code = if report.ok { 0 } else { 1 };
        if code != wanted_code || json != serde_json::to_value(report).unwrap() {
            self.fail(base, label, format!("the binary (exit {code}) says {json}, the library {report:?}"));
        }
    }

    fn finish(self) {
        let expected: Vec<String> = self.expected.iter().map(|(k, n)| format!("{k} {n}")).collect();
        println!(
            "tamper suite, {}: {} cases over {} ledgers in {:.1?} (expected: {})",
            self.what,
            self.cases,
            bases().len(),
            self.started.elapsed(),
            expected.join(", ")
        );
        assert!(
            self.failures.is_empty(),
            "{}: {} of {} cases not reported as they must be:\n{}",
            self.what,
            self.failures.len(),
            self.cases,
            self.failures.join("\n")
        );
    }
}

// ---------------------------------------------------------------------------------------------------
// Records: the byte layout, from schema/record-format.md §2
// ---------------------------------------------------------------------------------------------------

/// Where the variable-length fields of a record's envelope are.
struct Envelope {
    actor_len: usize,
    actor: usize,
    stream: usize,
    stream_version: usize,
    /// The `Option` tag of `stream_prev`.
    stream_prev: usize,
    stream_prev_some: bool,
    event_type: usize,
    event_version: usize,
    body_len: usize,
    body: std::ops::Range<usize>,
    /// The actor's time (8 bytes) and the signature (64 bytes) after it.
    actor_time: usize,
    signature: usize,
}

fn envelope(b: &[u8]) -> Envelope {
    let len_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap()) as usize;
    let actor_len = 49;
    let actor = actor_len + 8;
    let stream_len = actor + len_at(actor_len);
    let stream = stream_len + 8;
    let stream_version = stream + len_at(stream_len);
    let stream_prev = stream_version + 8;
    let stream_prev_some = b[stream_prev] == 1;
    let event_type = stream_prev + if stream_prev_some { 9 } else { 1 };
    let event_version = event_type + 2;
    let body_len = event_version + 2;
    let body = body_len + 8..body_len + 8 + len_at(body_len);
    // Format 2: the actor's time, then the 64-byte signature, end the record.
    let actor_time = body.end;
    let signature = actor_time + 8;
    assert_eq!((b[0], b.len()), (2, signature + 64), "a signed record ends with its actor's time and signature");
    Envelope {
        actor_len,
        actor,
        stream,
        stream_version,
        stream_prev,
        stream_prev_some,
        event_type,
        event_version,
        body_len,
        body,
        actor_time,
        signature,
    }
}

/// The offset of a byte inside a free text of the record's event (a `text`, `title` or `reason`)
/// whose lowest bit can be flipped with the text staying lawful: the last byte of a CJK ideograph
/// (U+4E01..U+9FFE), which then encodes its neighbour. None when the event has no such text.
fn text_byte(bytes: &[u8], env: &Envelope) -> Option<usize> {
    let rec = Record::decode(bytes).ok()?;
    let mut texts = Vec::new();
    collect_texts(&serde_json::to_value(&rec.event).ok()?, &mut texts);
    let body = &bytes[env.body.clone()];
    for text in texts {
        let mut needle = (text.len() as u64).to_le_bytes().to_vec();
        needle.extend_from_slice(text.as_bytes());
        let Some(at) = body.windows(needle.len()).position(|w| w == needle.as_slice()) else { continue };
        for (i, c) in text.char_indices() {
            if ('\u{4e01}'..='\u{9ffe}').contains(&c) {
                return Some(env.body.start + at + 8 + i + 2);
            }
        }
    }
    None
}

fn collect_texts(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match v {
                    Value::String(s) if ["text", "title", "reason"].contains(&k.as_str()) => out.push(s.clone()),
                    _ => collect_texts(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_texts(v, out)),
        _ => {}
    }
}

/// The changes of one byte (or of the record's length) that a record `seq` can suffer in one part of
/// it, each with the verdict its place in the record dictates:
/// - the format byte → an unknown format (`undecodable`); the seq field → `seq_mismatch`; the link →
///   `broken_link` at the record itself (its hash changed with it, so the next record does not vouch
///   for it, and nothing says the record before it changed);
/// - a time that stays valid, not before the previous record's and not more than 5 minutes before its
///   actor signed → the record still checks (the time is not signed), only the chain shows it: the
///   next record vouches for its old hash (`changed`), or for the last record the acknowledged head
///   does (`head_mismatch`); a time before the previous record's → `time_went_back`; more than 5
///   minutes before the actor's time → `actor_time_ahead`; a negative time → `bad_time`;
/// - a length prefix, an invalid id or stream text, an unknown event type or version, a byte more or
///   less → `undecodable`; the stream position fields → `stream_broken`;
/// - a character of a free text changed into another lawful one, a byte of the signature, the actor's
///   time moved back or a little forward → the signature no longer verifies, but signatures are checked
///   in batches and the record is otherwise good, so the chain names it first: `changed` /
///   `head_mismatch`; the actor's time moved more than 5 minutes past the record's → `actor_time_ahead`.
fn byte_cases(base: &Base, seq: u64, part: Part) -> Vec<(String, Vec<u8>, Want)> {
    let rec = base.rec(seq);
    let env = envelope(rec);
    let last = base.last();
    let lawful_change = || if seq == last { bad("head_mismatch", seq) } else { bad("changed", seq) };
    let flip = |at: usize, mask: u8| {
        let mut b = rec.to_vec();
        b[at] ^= mask;
        b
    };
    let set = |at: usize, to: u8| {
        let mut b = rec.to_vec();
        b[at] = to;
        b
    };
    let actor_time = i64::from_le_bytes(rec[env.actor_time..env.actor_time + 8].try_into().unwrap());
    let time_case = |mask_at: usize, mask: u8| {
        let b = flip(mask_at, mask);
        let time = i64::from_le_bytes(b[layout::TIME].try_into().unwrap());
        let want = if !Timestamp(time).is_valid() {
            bad("bad_time", seq)
        } else if seq > 0 && time < base.time(seq - 1) {
            bad("time_went_back", seq)
        } else if actor_time > time.saturating_add(MAX_ACTOR_SKEW) {
            // Accepted more than the allowed skew before its actor signed it.
            bad("actor_time_ahead", seq)
        } else {
            // The time is not signed (the ledger assigns it): only the chain shows it.
            lawful_change()
        };
        (b, want)
    };
    let mut cases: Vec<(String, Vec<u8>, Want)> = Vec::new();
    match part {
        Part::Header => {
            cases.extend([
                ("format byte 1 → 0".to_string(), flip(0, 0x01), bad("undecodable", seq)),
                ("seq field, lowest byte".into(), flip(layout::SEQ.start, 0x01), bad("seq_mismatch", seq)),
                ("seq field, highest byte".into(), flip(layout::SEQ.end - 1, 0x80), bad("seq_mismatch", seq)),
                ("prev, first byte".into(), flip(layout::PREV.start, 0x01), bad("broken_link", seq)),
                ("prev, last byte".into(), flip(layout::PREV.end - 1, 0x80), bad("broken_link", seq)),
            ]);
            for (label, at, mask) in [
                ("time ± 1 µs", layout::TIME.start, 0x01),
                ("time ± 2^48 µs", layout::TIME.start + 6, 0x01),
                ("time made negative", layout::TIME.end - 1, 0x80),
            ] {
                let (b, want) = time_case(at, mask);
                cases.push((label.into(), b, want));
            }
            cases.extend([
                ("actor length".to_string(), flip(env.actor_len, 0x01), bad("undecodable", seq)),
                ("actor id made invalid".into(), set(env.actor, b'!'), bad("undecodable", seq)),
            ]);
        }
        Part::Body => {
            cases.extend([
                ("stream text made invalid".to_string(), set(env.stream, b'!'), bad("undecodable", seq)),
                ("stream version".into(), flip(env.stream_version, 0x01), bad("stream_broken", seq)),
                ("event type unknown".into(), flip(env.event_type + 1, 0x80), bad("undecodable", seq)),
                ("event version unknown".into(), flip(env.event_version + 1, 0x80), bad("undecodable", seq)),
                ("body length".into(), flip(env.body_len, 0x01), bad("undecodable", seq)),
                // The signature no longer verifies, but the record is otherwise good: the chain,
                // checked before the signatures' batch, names it first.
                ("signature, first byte (R)".into(), flip(env.signature, 0x01), lawful_change()),
                ("signature, last byte (S)".into(), flip(env.signature + 63, 0x10), lawful_change()),
                ("actor's time ± 1 µs".into(), flip(env.actor_time, 0x01), lawful_change()),
                ("a byte appended".into(), [rec, &[0][..]].concat(), bad("undecodable", seq)),
                ("last byte cut".into(), rec[..rec.len() - 1].to_vec(), bad("undecodable", seq)),
                ("emptied".into(), Vec::new(), bad("undecodable", seq)),
            ]);
            if env.stream_prev_some {
                cases.push(("stream link".into(), flip(env.stream_prev + 1, 0x01), bad("stream_broken", seq)));
            } else {
                cases.push(("stream link tag 2".into(), set(env.stream_prev, 2), bad("undecodable", seq)));
            }
            // The actor's time 2^48 µs (about 9 years) later, past the allowed skew, or earlier.
            let b = flip(env.actor_time + 6, 0x01);
            let moved = i64::from_le_bytes(b[env.actor_time..env.actor_time + 8].try_into().unwrap());
            let want = if moved > base.time(seq).saturating_add(MAX_ACTOR_SKEW) {
                bad("actor_time_ahead", seq)
            } else {
                lawful_change()
            };
            cases.push(("actor's time ± 2^48 µs".into(), b, want));
            if let Some(at) = text_byte(rec, &env) {
                cases.push(("a character of a free text".into(), flip(at, 0x01), lawful_change()));
            }
        }
    }
    cases
}

/// Which part of a record [`byte_cases`] changes: the fixed header and the actor (format, seq, prev,
/// time, actor), or the rest (stream, event type and version, body, actor's time, signature, length).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Part {
    Header,
    Body,
}

/// Record bytes with the seq field set.
fn with_seq(bytes: &[u8], seq: u64) -> Vec<u8> {
    let mut b = bytes.to_vec();
    set_seq(&mut b, seq);
    b
}

/// Record bytes with the link set.
fn with_prev(bytes: &[u8], prev: [u8; 32]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    set_prev(&mut b, prev);
    b
}

/// A lawful record that is not the base's: record `seq` accepted one microsecond later (its signature
/// still verifies: the time is not signed).
fn forged(base: &Base, seq: u64) -> Vec<u8> {
    let mut rec = Record::decode(base.rec(seq)).unwrap();
    rec.time = Timestamp(rec.time.0 + 1);
    rec.encode()
}

/// Replaces the whole log with `records` at keys 0, 1, 2, …
fn rewrite_log(raw: &Raw, records: &[Vec<u8>]) {
    raw.log.clear().unwrap();
    let mut batch = sled::Batch::default();
    for (seq, bytes) in records.iter().enumerate() {
        batch.insert(&(seq as u64).to_be_bytes(), bytes.as_slice());
    }
    raw.log.apply_batch(batch).unwrap();
}

/// The seqs a class samples in a ledger: the first records, middle ones, the last two.
fn sample(base: &Base) -> Vec<u64> {
    let last = base.last();
    // Fewer in the larger ledgers, where each case costs more: there the records on either side of
    // the verifier's first chunk of 1,024 records and the last two (the first records are sampled in
    // the smaller ledgers).
    let mut s = if is_large(base) {
        vec![1023, 1024, last - 1, last]
    } else if base.count() > 100 {
        vec![0, 1, last / 2, last - 1, last]
    } else {
        vec![0, 1, 2, last / 3, last / 2, last - 1, last]
    };
    s.sort_unstable();
    s.dedup();
    s
}

/// Whether a ledger is past the verifier's first chunk of 1,024 records (its cases cost the most; the
/// classes that vary their places sample fewer there).
fn is_large(base: &Base) -> bool {
    base.count() > 2048
}

// ---------------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------------

/// The untouched ledgers, and untouched copies of them, verify: every record acknowledged, nothing
/// unacknowledged, the head the base's last record.
#[test]
fn untouched_ledgers_and_their_copies_verify() {
    let mut t = Tally::new("untouched");
    for base in bases() {
        let copy = base.copy("untouched");
        t.ledger(base, "an untouched copy", &copy, sound(base.count(), 0));
        t.bundle(base, "the untouched bundle", &base.bundle, sound(base.count(), 0).line(None));
    }
    t.finish();
}

/// One byte of a record's header changed in sled's `log` tree (the format byte, the seq, the link, the
/// time, the actor), in sampled records of every ledger and in every record of the fixture: named at
/// that record, with the kind its place in the record dictates (see [`byte_cases`]).
#[test]
fn a_changed_header_byte_is_named_at_its_record_with_the_kind_its_place_dictates() {
    changed_bytes(Part::Header, "changed header bytes");
}

/// One byte of a record's body changed in sled's `log` tree (the stream, the event type and version,
/// length prefixes, tags, a character of a text, a byte more or less), in sampled records of every
/// ledger and in every record of the fixture: named at that record, with the kind its place in the
/// record dictates (see [`byte_cases`]).
#[test]
fn a_changed_body_byte_is_named_at_its_record_with_the_kind_its_place_dictates() {
    changed_bytes(Part::Body, "changed body bytes");
}

fn changed_bytes(part: Part, what: &'static str) {
    let mut t = Tally::new(what);
    // The binary is compared on a quarter of them (each run costs a process and a sled open).
    t.binary_every = 4;
    for base in bases() {
        let sampled = sample(base);
        // Every record of the fixture (a few dozen); the sampled ones of the others.
        let seqs: Vec<u64> = if base.count() < 100 { (0..=base.last()).collect() } else { sampled.clone() };
        for seq in seqs {
            let cases = byte_cases(base, seq, part);
            // Every case in the sampled records; one case (in turn) in every other record.
            let chosen: Vec<_> = if sampled.contains(&seq) {
                cases
            } else {
                let n = cases.len();
                cases.into_iter().skip(seq as usize % n).take(1).collect()
            };
            for (label, bytes, want) in chosen {
                let case = base.tampered(&label, |raw| raw.put(seq, &bytes));
                t.ledger(base, &format!("record {seq}: {label}"), &case, want);
            }
        }
    }
    t.finish();
}

/// Records removed (the later keys kept, renumbered, or renumbered with their seq fields), swapped,
/// and a key that is no seq, in sled's `log` tree: the first record that is not the one the
/// ledger acknowledged at its place is named.
#[test]
fn removed_moved_and_swapped_records_are_named() {
    let mut t = Tally::new("removed, moved, swapped");
    for base in bases() {
        let last = base.last();
        let all = base.records.clone();
        let places = if is_large(base) { vec![1024, last - 1] } else { vec![0, 1, last / 2, last - 1] };
        for g in places {
            // Removed, the later keys left as they were: the log jumps over it.
            let case = base.tampered("removed", |raw| raw.remove(g));
            t.ledger(base, &format!("record {g} removed"), &case, bad("gap", g).says(format!("record {g} is missing")));

            // Removed, the later records moved down one key, their seq fields kept: the record at g
            // says it is g + 1.
            let mut moved: Vec<Vec<u8>> = all.clone();
            moved.remove(g as usize);
            let case = base.tampered("removed-keys", |raw| rewrite_log(raw, &moved));
            t.ledger(base, &format!("record {g} removed, later keys renumbered"), &case, bad("seq_mismatch", g));

            // … and their seq fields rewritten to match: the record at g links to the removed one.
            let renumbered = renumber(&moved);
            let case = base.tampered("removed-renumbered", |raw| rewrite_log(raw, &renumbered));
            t.ledger(base, &format!("record {g} removed, later records renumbered"), &case, bad("broken_link", g));

            // … and re-chained (each later link recomputed), the stream links left: the chain holds,
            // and the first record whose stream link or rules no longer fit is named. Which one that is
            // depends on the records (the first later record of a stream that had a record at or after
            // g, or one a removed registration made illegal); never one before g.
            let case = base.tampered("removed-rechained", |raw| rewrite_log(raw, &rechain(&renumbered)));
            let want = bad_among(&["stream_broken", "illegal_event", "truncated"], g..=last).rewritten_prefix();
            t.ledger(base, &format!("record {g} removed, later records renumbered and re-chained"), &case, want);
        }

        // A complete forgery of a removal: a record no later record depends on (the last of its item's
        // stream, not a registration) removed, every later record renumbered, its stream link moved
        // down and re-chained. None of these fields is signed (seq, link and stream link are the
        // ledger's), so no key is needed, and every signature still verifies. Every record checks;
        // the witness still names the old last record, so
        // the log ends before it: `truncated` at the old last seq. The rewritten records before it
        // cannot be told from acknowledged ones without a hash kept from them (`verify --at`). With
        // the witness rewritten too, the projection left behind still shows it (its watermark is no
        // record of this log); with the derived data removed as well, nothing in the directory shows
        // it (verify-report.md, "What a report cannot show"): OK, one record fewer.
        for g in removable(base) {
            let forged = forge_removal(&all, g);
            let case = base.tampered("forged-removal", |raw| rewrite_log(raw, &forged));
            let want = bad("truncated", last).says("acknowledged records missing").rewritten_prefix();
            t.ledger(base, &format!("record {g} removed, a complete forgery"), &case, want);
            // The witness rewritten to the forged end: the projection left behind still names the old
            // last record as its watermark, which is no record of this log.
            write_witness(&case, last - 1, record_hash(&forged[last as usize - 1]));
            let want = not_a_record("derived_mismatch", last).says("not a record of this log").rewritten_prefix();
            t.ledger(base, &format!("record {g} removed, a complete forgery, the witness rewritten"), &case, want);
            // … and the derived data removed (it may be: it is rebuilt from the log).
            let raw = Raw::open(&case);
            raw.derived.clear().unwrap();
            raw.close();
            let want = sound(last, 0).rewritten_prefix();
            let label = format!("record {g} removed, a complete forgery, the witness rewritten, derived data removed");
            t.ledger(base, &label, &case, want);
        }

        for (i, j) in [(0, 1), (1, 2), (last / 2, last / 2 + 1), (2, last - 1), (last - 1, last), (0, last)] {
            // Two records swapped: the record at i says it is j.
            let case = base.tampered("swapped", |raw| {
                raw.put(i, base.rec(j));
                raw.put(j, base.rec(i));
            });
            t.ledger(base, &format!("records {i} and {j} swapped"), &case, bad("seq_mismatch", i));
            // … with their seq fields rewritten to their new places: the record at i does not link to
            // record i - 1 (for i = 0: to nothing).
            let case = base.tampered("swapped-renumbered", |raw| {
                raw.put(i, &with_seq(base.rec(j), i));
                raw.put(j, &with_seq(base.rec(i), j));
            });
            t.ledger(base, &format!("records {i} and {j} swapped and renumbered"), &case, bad("broken_link", i));
        }

        // A key of nine bytes that sorts between records k and k + 1 (a copy of record k + 1 under it):
        // the entry where record k + 1 is due is no seq.
        let k = last / 2;
        let case = base.tampered("bad-key", |raw| {
            raw.log.insert([&k.to_be_bytes()[..], &[0]].concat(), base.rec(k + 1)).unwrap();
        });
        t.ledger(base, "a nine-byte key in the middle", &case, bad("bad_key", k + 1));
    }
    t.finish();
}

/// Records inserted into the log, the later ones moved up one key.
///
/// A lawful forged record inserted at i (linking to record i - 1, saying it is i): it is the first
/// record that is not what the ledger acknowledged, and provably the intruder: the genuine record after
/// it says it is i (or, renumbered, still links to record i - 1), and the records after that chain to
/// the genuine one. `first_bad_seq` must be i and `records` i — not i + 1, which would vouch for the
/// forged record as verified (the report's head would be its hash). At the last seq the acknowledged
/// head names it.
///
/// A copy of record i inserted after it: the record at i is the genuine one, byte for byte, in its
/// place; the first record not in its place is the copy at i + 1. `first_bad_seq` must be i + 1 and
/// `records` i + 1 — not i, which would call the genuine record the intruder.
///
/// The same forged record inserted as a bundle line (rendered canonically): named at its line.
#[test]
fn an_inserted_record_is_named_itself_not_a_genuine_record_beside_it() {
    let mut t = Tally::new("inserted");
    let record_kinds = ["inserted", "seq_mismatch", "broken_link", "changed", "gap"];
    for base in bases() {
        let last = base.last();
        let places = if is_large(base) { vec![1024, last] } else { vec![0, 1, last / 2, last] };
        for i in places {
            let mut dup = base.records.clone();
            dup.insert(i as usize + 1, base.records[i as usize].clone());
            let case = base.tampered("duplicated", |raw| rewrite_log(raw, &dup));
            let want = bad_among(&record_kinds, i + 1..=i + 1);
            t.ledger(base, &format!("record {i} duplicated after itself"), &case, want);
        }
        for i in [1, 2, last / 2, last] {
            let mut ins = base.records.clone();
            ins.insert(i as usize, forged(base, i));
            let named = |loose: Want| if i == last { bad("head_mismatch", last) } else { loose };
            let case = base.tampered("inserted", |raw| rewrite_log(raw, &ins));
            t.ledger(base, &format!("a forged record inserted at {i}"), &case, named(bad_among(&record_kinds, i..=i)));
            // … and the later records renumbered to their new keys (links kept): the genuine record i,
            // now at i + 1, links past the forged one, to record i - 1.
            let case = base.tampered("inserted-renumbered", |raw| rewrite_log(raw, &renumber(&ins)));
            let label = format!("a forged record inserted at {i}, later records renumbered");
            t.ledger(base, &label, &case, named(bad_among(&record_kinds, i..=i)));
            if i < last {
                let mut l = lines(&base.bundle);
                l.insert(i as usize, canonical_line(&forged(base, i)));
                let want = bad_among(&record_kinds, i..=i).line(Some(i + 1));
                t.bundle(base, &format!("a forged line inserted before line {}", i + 1), &join(&l), want);
            }
        }
    }
    t.finish();
}

/// Records with their seq fields set to their positions.
fn renumber(records: &[Vec<u8>]) -> Vec<Vec<u8>> {
    records.iter().enumerate().map(|(i, b)| with_seq(b, i as u64)).collect()
}

/// Records with each link set to the hash of the one before it (zeroes for the first).
fn rechain(records: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(records.len());
    for b in records {
        let prev = out.last().map_or([0; 32], |p| record_hash(p));
        out.push(with_prev(b, prev));
    }
    out
}

/// Seqs of records no later record depends on: a progress report or a figure that is the last record
/// of its item's stream (one in the first half of the log, one in the second, where there are such).
fn removable(base: &Base) -> Vec<u64> {
    let last = base.last();
    let mut last_of_stream = std::collections::HashMap::new();
    for seq in 0..=last {
        let rec = Record::decode(base.rec(seq)).unwrap();
        last_of_stream.insert(rec.stream.to_text(), seq);
    }
    let candidates: Vec<u64> = (1..last)
        .filter(|&seq| {
            let rec = Record::decode(base.rec(seq)).unwrap();
            matches!(rec.event, Event::ProgressReported(_) | Event::IndicatorRecorded(_))
                && last_of_stream[&rec.stream.to_text()] == seq
        })
        .collect();
    let first = candidates.iter().copied().find(|&s| s < last / 2);
    let second = candidates.iter().copied().find(|&s| s >= last / 2);
    first.into_iter().chain(second).collect()
}

/// The log without record `g`, forged as consistently as the format allows: every later record moved
/// down one seq, its stream link moved down when it pointed past `g`, and re-chained.
fn forge_removal(records: &[Vec<u8>], g: u64) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = records.to_vec();
    out.remove(g as usize);
    for b in out.iter_mut().skip(g as usize) {
        let env = envelope(b);
        if env.stream_prev_some {
            let at = env.stream_prev + 1;
            let link = u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
            assert_ne!(link, g, "the removed record is the last of its stream");
            if link > g {
                b[at..at + 8].copy_from_slice(&(link - 1).to_le_bytes());
            }
        }
    }
    rechain(&renumber(&out))
}

/// The newest records removed: "acknowledged records missing" (`truncated`), the first missing record
/// named; every record removed: `empty`.
#[test]
fn removed_newest_records_are_reported_as_missing() {
    let mut t = Tally::new("truncation");
    for base in bases() {
        let last = base.last();
        let mut cuts = vec![1, 2, base.count() / 10, last];
        cuts.dedup();
        for cut in cuts {
            let keep = base.count() - cut;
            let case = base.tampered("truncated", |raw| {
                for seq in keep..base.count() {
                    raw.remove(seq);
                }
            });
            let want =
                bad("truncated", keep).says("acknowledged records missing").says(format!("acknowledged record {last}"));
            t.ledger(base, &format!("the newest {cut} records removed"), &case, want);
        }
        // Every record removed. The code says `empty` (first_bad_seq 0, the first missing record, as
        // `truncated` would name it): a log without record 0 is no ledger at all, whatever the witness
        // says, and `empty` is checked before the witness is compared. Both are "head damage"
        // (the end of the log is not what was acknowledged) and neither is ever OK.
        let case = base.tampered("emptied", |raw| raw.log.clear().unwrap());
        t.ledger(base, "every record removed", &case, bad("empty", 0));
    }
    t.finish();
}

/// The witness file `acknowledged`: removed, unreadable, rewritten. A missing or unreadable witness is
/// a problem (`head_unreadable`), never a ledger without a head. A witness rewritten to an earlier
/// valid record leaves the later records *unacknowledged* and the ledger OK: that is what an insider
/// can do without checkpoints held outside the ledger, and this suite pins it down.
#[test]
fn a_removed_or_rewritten_witness_is_named() {
    let mut t = Tally::new("witness");
    for base in bases() {
        let (count, last) = (base.count(), base.last());
        let witness = |label: &str, write: &dyn Fn(&Path)| {
            let case = base.copy(label);
            write(&case);
            case
        };
        let case = witness("no-witness", &|d| fs::remove_file(d.join("acknowledged")).unwrap());
        t.ledger(base, "witness removed", &case, not_a_record("head_unreadable", count).says("missing"));
        for (label, bytes) in [
            ("witness of garbage", b"xx".to_vec()),
            ("witness emptied", Vec::new()),
            ("witness of 600 zero bytes", vec![0; 600]),
            ("witness cut to 80 bytes", base.witness[..80].to_vec()),
        ] {
            let case = witness(label, &|d| fs::write(d.join("acknowledged"), &bytes).unwrap());
            t.ledger(base, label, &case, not_a_record("head_unreadable", count));
        }
        // Both slots damaged.
        let mut both = base.witness.clone();
        both[30] ^= 1;
        both[512 + 30] ^= 1;
        let case = witness("both-slots", &|d| fs::write(d.join("acknowledged"), &both).unwrap());
        t.ledger(base, "both witness slots damaged", &case, not_a_record("head_unreadable", count));

        // The newest slot damaged: the other slot's head (the previous append's) is read, and the
        // records after it show as unacknowledged, never as acknowledged.
        let slots = base.witness_slots();
        let newest = if slots[0].map(|s| s.1) > slots[1].map(|s| s.1) { 0 } else { 1 };
        let older = slots[1 - newest].expect("two appends: both slots hold a head");
        let mut torn = base.witness.clone();
        torn[newest * 512 + 20] ^= 1;
        let case = witness("torn", &|d| fs::write(d.join("acknowledged"), &torn).unwrap());
        let unack = if older.0 == u64::MAX { count } else { last - older.0 };
        t.ledger(base, "the newest witness slot damaged", &case, sound(count, unack));

        // Rewritten (with valid checks) to an earlier record of the log: OK, the later records
        // unacknowledged. Nothing in the directory can tell this from a crash before the witness was
        // written; a hash kept outside (`verify --at`) can.
        for k in [0, last / 2, last - 1] {
            let case = witness("earlier", &|d| write_witness(d, k, base.hash(k)));
            t.ledger(base, &format!("witness rewritten to record {k}"), &case, sound(count, last - k));
        }
        // Rewritten to "nothing acknowledged yet" (what a new store holds): every record unacknowledged.
        let case = witness("nothing", &|d| write_witness(d, u64::MAX, [0; 32]));
        t.ledger(base, "witness rewritten to nothing acknowledged", &case, sound(count, count));
        // Rewritten to the last seq with another hash: the last record is not the one acknowledged.
        let case = witness("wrong-hash", &|d| write_witness(d, last, base.hash(0)));
        t.ledger(base, "witness rewritten to another hash", &case, bad("head_mismatch", last));
        // … to an earlier seq with another hash.
        let case = witness("wrong-hash-mid", &|d| write_witness(d, last / 2, base.hash(0)));
        t.ledger(base, "witness rewritten to a middle seq, another hash", &case, bad("head_mismatch", last / 2));
        // … to a record beyond the end: acknowledged records missing, from the first one the log lacks.
        let case = witness("beyond", &|d| write_witness(d, last + 3, base.hash(0)));
        t.ledger(base, "witness rewritten beyond the end", &case, bad("truncated", count));
    }
    t.finish();
}

/// An edit of a ledger's sled trees.
type RawEdit = fn(&Raw);

/// The projection's watermark, mirrored from `src/projection.rs` to edit it as an insider would
/// (derived data is not part of the format: if this stops decoding, follow the source).
#[derive(Serialize, Deserialize, Debug, Clone)]
struct Digests {
    registry: [u8; 32],
    buckets: Vec<[u64; 4]>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
struct Watermark {
    format: u32,
    mark: Option<Head>,
    digest: Digests,
}

/// The projection's sums and digests, recomputed as `src/projection.rs` does: what an insider who
/// read the source can write after editing a value. Every item gets its sum (`p/sum/<bucket>/<id>`,
/// the bucket being the first byte of BLAKE3 of the id), each bucket the lane-wise sum of its sum
/// entries' pair hashes, the registry its own sum.
fn recompute_digest(raw: &Raw) {
    const ITEM: &str = "commitment-ledger 2026-11-29 projection item v1";
    let stale: Vec<_> = raw.derived.scan_prefix(b"p/sum/").map(|e| e.unwrap().0).collect();
    for k in stale {
        raw.derived.remove(k).unwrap();
    }
    let mut buckets = vec![[0u64; 4]; 256];
    for entry in raw.derived.scan_prefix(b"p/item/") {
        let (k, v) = entry.unwrap();
        let id = &k[b"p/item/".len()..];
        let b = blake3::hash(id).as_bytes()[0];
        let sum_key = [&b"p/sum/"[..], format!("{b:02x}/").as_bytes(), id].concat();
        let sum = blake3::derive_key(ITEM, &v);
        raw.derived.insert(&sum_key, &sum[..]).unwrap();
        let mut h = blake3::Hasher::new_derive_key("commitment-ledger 2026-11-29 projection value v1");
        h.update(&(sum_key.len() as u64).to_le_bytes());
        h.update(&sum_key);
        h.update(&sum);
        for (lane, chunk) in buckets[usize::from(b)].iter_mut().zip(h.finalize().as_bytes().chunks_exact(8)) {
            *lane = lane.wrapping_add(u64::from_le_bytes(chunk.try_into().unwrap()));
        }
    }
    let registry = raw.derived.get("p/registry").unwrap().map_or([0; 32], |v| blake3::derive_key(ITEM, &v));
    edit_watermark(raw, |w| w.digest = Digests { registry, buckets });
}

fn edit_watermark(raw: &Raw, change: impl FnOnce(&mut Watermark)) {
    let mut w: Watermark = decode_stored(&raw.derived.get("p/watermark").unwrap().expect("a watermark")).unwrap();
    change(&mut w);
    raw.derived.insert("p/watermark", encode_stored(&w)).unwrap();
}

/// Decodes, changes and re-encodes a stored projection value.
fn edit<T: Serialize + serde::de::DeserializeOwned>(raw: &Raw, key: &str, change: impl FnOnce(&mut T)) {
    let mut v: T = decode_stored(&raw.derived.get(key).unwrap().expect("the value is stored")).unwrap();
    change(&mut v);
    raw.derived.insert(key, encode_stored(&v)).unwrap();
}

/// The `derived` tree edited as an insider who read the source would, recomputing the projection's
/// digest: an item's status or lead changed, an item removed or added, the registry edited, values no
/// projection writes, the watermark moved to another record. Every record verifies (`first_bad_seq`
/// null, `records` all of them) and the derived data is named as what it is, with the item.
#[test]
fn edited_derived_data_is_named_with_its_item() {
    let mut t = Tally::new("derived data");
    type Tamper = Box<dyn Fn(&Raw)>;
    for base in bases() {
        let (count, last) = (base.count(), base.last());
        let mut cases: Vec<(&str, Tamper, Vec<&str>)> = vec![
            (
                "an item's status changed, the digest recomputed",
                Box::new(|raw| {
                    edit::<ItemState>(raw, "p/item/sci-lab", |i| i.core.status = "delivered".parse().unwrap());
                    recompute_digest(raw);
                }),
                vec!["item sci-lab differs from its replay"],
            ),
            (
                "an item's lead changed, the digest recomputed",
                Box::new(|raw| {
                    edit::<ItemState>(raw, "p/item/tcm-center", |i| i.core.lead = actor("fin"));
                    recompute_digest(raw);
                }),
                vec!["item tcm-center differs from its replay"],
            ),
            (
                "an item removed, the digest recomputed",
                Box::new(|raw| {
                    raw.derived.remove("p/item/culture-week").unwrap().unwrap();
                    recompute_digest(raw);
                }),
                vec!["item culture-week is missing from the projection"],
            ),
            (
                "an item added",
                Box::new(|raw| {
                    let v = raw.derived.get("p/item/fin-bonds").unwrap().unwrap();
                    raw.derived.insert("p/item/ghost", v).unwrap();
                    recompute_digest(raw);
                }),
                vec!["item ghost is in the projection but not in the log"],
            ),
            (
                "the registry edited",
                Box::new(|raw| {
                    edit::<Registry>(raw, "p/registry", |r| {
                        r.actors.get_mut(&actor("fin")).unwrap().name = "假的金融办".into();
                    });
                    recompute_digest(raw);
                }),
                vec!["registry"],
            ),
            (
                "a value outside p/",
                Box::new(|raw| {
                    raw.derived.insert("x/planted", &b"anything"[..]).unwrap();
                }),
                vec!["x/planted"],
            ),
            (
                "a value under p/ no projection writes",
                Box::new(|raw| {
                    raw.derived.insert("p/planted", &b"anything"[..]).unwrap();
                    recompute_digest(raw);
                }),
                vec!["p/planted"],
            ),
            (
                "the watermark on a record of another hash",
                Box::new(move |raw| edit_watermark(raw, |w| w.mark.as_mut().unwrap().hash = Hash([7; 32]))),
                vec!["not a record of this log"],
            ),
            (
                "the watermark beyond the log",
                Box::new(move |raw| edit_watermark(raw, |w| w.mark.as_mut().unwrap().seq = Seq(last + 10))),
                vec!["not a record of this log"],
            ),
        ];
        // The watermark moved to an earlier record of the log (its true hash and time): the values
        // are the state as of the last record, not as of the one the watermark names.
        let earlier = Record::decode(base.rec(last / 2)).unwrap();
        let mark = Head { seq: Seq(last / 2), hash: Hash(base.hash(last / 2)), time: earlier.time };
        cases.push((
            "the watermark moved to an earlier record",
            Box::new(move |raw| edit_watermark(raw, |w| w.mark = Some(mark))),
            vec!["stored projection"],
        ));
        if base.name != "fixture" {
            // A generated item in the larger ledgers.
            cases.push((
                "a generated item's status changed, the digest recomputed",
                Box::new(|raw| {
                    let key = raw
                        .derived
                        .scan_prefix("p/item/")
                        .keys()
                        .map(|k| String::from_utf8(k.unwrap().to_vec()).unwrap())
                        .find(|k| k.ends_with("-0007"))
                        .unwrap();
                    edit::<ItemState>(raw, &key, |i| i.core.status = "stalled".parse().unwrap());
                    recompute_digest(raw);
                }),
                vec!["-0007 differs from its replay"],
            ));
        }
        for (label, tamper, phrases) in cases {
            let case = base.tampered(label, |raw| tamper(raw));
            let mut want = not_a_record("derived_mismatch", count).says("stored projection");
            for p in phrases {
                want = want.says(p);
            }
            t.ledger(base, label, &case, want);
        }
        // Derived data removed altogether: it is derived, rebuilt from the log, and nothing trusts
        // what is not there. Sound.
        let case = base.tampered("derived-cleared", |raw| raw.derived.clear().unwrap());
        t.ledger(base, "the derived tree cleared", &case, sound(count, 0));
        // Values that are not a projection's at all, the digest recomputed: named with their item.
        let garbage: [(&str, &str, &str); 2] = [
            ("the registry overwritten with garbage", "p/registry", "registry"),
            ("an item overwritten with garbage", "p/item/fin-bonds", "item fin-bonds differs from its replay"),
        ];
        for (label, key, phrase) in garbage {
            let case = base.tampered(label, |raw| {
                raw.derived.insert(key, &b"not a projection value"[..]).unwrap();
                recompute_digest(raw);
            });
            t.ledger(base, label, &case, not_a_record("derived_mismatch", count).says(phrase));
        }
        // A watermark of another projection format is what an upgrade of this software leaves until
        // the next writer rebuilds: every reader and writer discards such a projection and folds the
        // log instead, so nothing is trusted, and calling it unsound would be a false alarm on an
        // honest ledger. A removed or unreadable watermark makes the projection just as unusable (and
        // just as unused); the code treats it the same way. Pinned: sound.
        let unusable: [(&str, RawEdit); 3] = [
            ("the watermark of another projection format", |raw| edit_watermark(raw, |w| w.format += 1)),
            ("the watermark removed", |raw| {
                raw.derived.remove("p/watermark").unwrap().unwrap();
            }),
            ("the watermark overwritten with garbage", |raw| {
                raw.derived.insert("p/watermark", &b"zz"[..]).unwrap();
            }),
        ];
        for (label, tamper) in unusable {
            let case = base.tampered(label, tamper);
            t.ledger(base, label, &case, sound(count, 0));
        }
    }
    t.finish();
}

/// The `derived` tree edited carelessly, its sums and digest left as they were: the item no longer
/// matches its sum (or a sum has no item, or an item no sum). The edit is named with its item: the
/// watermark itself (the head) is a record of the log, and the replay as of it shows what differs.
#[test]
fn derived_data_edited_without_its_digest_still_names_the_item() {
    let mut t = Tally::new("derived data, digest broken");
    let cases: [(&str, RawEdit, &str); 3] = [
        (
            "an item's status changed",
            |raw| edit::<ItemState>(raw, "p/item/fin-bonds", |i| i.core.status = "dropped".parse().unwrap()),
            "item fin-bonds differs from its replay",
        ),
        (
            "an item removed",
            |raw| {
                raw.derived.remove("p/item/culture-week").unwrap().unwrap();
            },
            "item culture-week is missing from the projection",
        ),
        (
            "an item added",
            |raw| {
                let v = raw.derived.get("p/item/fin-bonds").unwrap().unwrap();
                raw.derived.insert("p/item/ghost", v).unwrap();
            },
            "item ghost is in the projection but not in the log",
        ),
    ];
    for base in bases() {
        for (label, tamper, item) in cases {
            let case = base.tampered(label, tamper);
            // The item's sum (which the digest covers) no longer matches, or its sum has no item, or
            // its item no sum: whichever, the item is named.
            let want = not_a_record("derived_mismatch", base.count()).says(item).says("stored projection");
            t.ledger(base, label, &case, want);
            // Never a false statement about the watermark: it is the head, a record of this log.
            let report = Ledger::open_read(&case).unwrap().verify(&mut |_| {}).unwrap();
            if report.problem.as_deref().unwrap_or_default().contains("is not a record of this log") {
                t.fail(base, label, format!("says the watermark (the head) is not a record of this log: {report:?}"));
            }
        }
    }
    t.finish();
}

/// The line of a bundle holding record `seq`, and the bundle without its line ending split.
fn lines(bundle: &[u8]) -> Vec<String> {
    String::from_utf8(bundle.to_vec()).unwrap().lines().map(str::to_string).collect()
}

fn join(lines: &[String]) -> Vec<u8> {
    let mut s = lines.join("\n");
    s.push('\n');
    s.into_bytes()
}

/// A bundle line rendered canonically for record bytes (as `export` writes it).
fn canonical_line(bytes: &[u8]) -> String {
    let rec = Record::decode(bytes).unwrap();
    serde_json::to_string(&RecordJson::new(&rec, Hash(record_hash(bytes)), 480, Some(bytes))).unwrap()
}

/// Export bundle lines doctored: a field changed, a duplicate key before the real one, the line
/// reformatted, lines removed, swapped, duplicated, cut. The first bad line and its record are named.
/// A bundle whose last line was removed verifies (a bundle carries no acknowledged head): only a
/// hash kept from it catches that (the next test).
#[test]
fn doctored_bundle_lines_are_named() {
    let mut t = Tally::new("bundles");
    t.binary_every = 3;
    for base in bases() {
        let (count, last) = (base.count(), base.last());
        let all = lines(&base.bundle);
        assert_eq!(all.len() as u64, count);
        // Line numbers count from 1: record s is on line s + 1.
        let bad_line = |kind: &str, seq: u64| bad(kind, seq).line(Some(seq + 1));
        let places = if is_large(base) { vec![1024, last] } else { sample(base) };
        for s in places {
            let line = &all[s as usize];
            let with = |new: String| {
                let mut l = all.clone();
                l[s as usize] = new;
                join(&l)
            };
            let cases: Vec<(String, Vec<u8>, Want)> = vec![
                (
                    "the actor field changed".into(),
                    with(line.replacen("\"actor\":\"", "\"actor\":\"x", 1)),
                    bad_line("bad_line", s).says("field `actor`"),
                ),
                (
                    "the time field changed".into(),
                    with(line.replacen("\"time_us\":1", "\"time_us\":2", 1)),
                    bad_line("bad_line", s).says("field `time_us`"),
                ),
                (
                    "an event field changed".into(),
                    with(line.replacen("\"event\":{", "\"event\":{\"forged\":true,", 1)),
                    bad_line("bad_line", s).says("event.forged"),
                ),
                (
                    "a duplicate key before the real one".into(),
                    with(line.replacen("{\"seq\"", "{\"event\":{\"title\":\"forged\"},\"seq\"", 1)),
                    bad_line("bad_line", s).says("canonical"),
                ),
                (
                    "a duplicate seq key after the real one".into(),
                    with(line.replacen("\"hash\"", &format!("\"seq\":{s},\"hash\""), 1)),
                    bad_line("bad_line", s),
                ),
                ("reformatted: a space after each colon".into(), with(line.replace("\":", "\": ")), {
                    bad_line("bad_line", s).says("canonical")
                }),
                ("reformatted: keys reordered".into(), with(reorder(line)), bad_line("bad_line", s).says("canonical")),
                ("the line cut in half".into(), with(half(line).to_string()), bad_line("bad_line", s)),
                (
                    // An empty last line is an editor's final newline: the bundle then simply ends a
                    // record earlier (see "the last line removed" below).
                    "the line emptied".into(),
                    with(String::new()),
                    if s == last { sound(last, 0).line(None) } else { bad_line("bad_line", s) },
                ),
                (
                    // The stored bytes changed (a time 1 µs later) and the line re-rendered canonically
                    // from them: the line itself is honest-looking; the next line's link (or, for the
                    // last line, nothing: a bundle has no acknowledged head) shows it.
                    "the record changed and its line re-rendered".into(),
                    with(canonical_line(&forged(base, s))),
                    if s == last {
                        sound(count, 0).line(None).rewritten_prefix()
                    } else if s == last - 1 {
                        // Nothing after the last line vouches for it (a bundle has no acknowledged
                        // head): its link fails, and whether it or the line before was changed
                        // cannot be told.
                        bad_line("broken_link", last).rewritten_prefix()
                    } else {
                        bad_line("changed", s)
                    },
                ),
                (
                    // Only the bytes changed: the JSON fields contradict them.
                    "the bytes changed, the fields kept".into(),
                    with(replace_bytes(line, &forged(base, s))),
                    bad_line("bad_line", s),
                ),
            ];
            for (label, bytes, want) in cases {
                t.bundle(base, &format!("line {}: {label}", s + 1), &bytes, want);
            }
        }
        for g in [0, 1, last / 2, last - 1] {
            // A line removed: the next line's record is not the record due there.
            let mut l = all.clone();
            l.remove(g as usize);
            t.bundle(base, &format!("line {} removed", g + 1), &join(&l), bad_line("gap", g));
        }
        for (i, j) in [(0, 1), (1, 2), (last / 2, last / 2 + 1), (2, last - 1), (last - 1, last)] {
            let mut l = all.clone();
            l.swap(i as usize, j as usize);
            t.bundle(base, &format!("lines {} and {} swapped", i + 1, j + 1), &join(&l), bad_line("gap", i));
        }
        for d in [0, last / 2, last] {
            let mut l = all.clone();
            l.insert(d as usize + 1, all[d as usize].clone());
            t.bundle(base, &format!("line {} duplicated", d + 1), &join(&l), bad_line("gap", d + 1));
        }
        // Every line removed.
        t.bundle(base, "every line removed", b"", bad("empty", 0).line(Some(1)));
        // Honest variations: a byte-order mark, a final blank line, CRLF line endings (a bundle copied
        // through a Windows tool). Never a false alarm.
        let bom = [&b"\xef\xbb\xbf"[..], &base.bundle].concat();
        t.bundle(base, "a byte-order mark", &bom, sound(count, 0).line(None));
        let blank = [&base.bundle[..], b"\n"].concat();
        t.bundle(base, "a final blank line", &blank, sound(count, 0).line(None));
        let crlf = String::from_utf8(base.bundle.clone()).unwrap().replace('\n', "\r\n");
        t.bundle(base, "CRLF line endings", crlf.as_bytes(), sound(count, 0).line(None));
        // A blank line in the middle is no record.
        let mut l = all.clone();
        l.insert(2, String::new());
        t.bundle(base, "a blank line after line 2", &join(&l), bad_line("bad_line", 2));

        // The last line removed: without a kept hash the shorter bundle verifies — a bundle carries
        // no acknowledged head, so nothing in it says it had one more record.
        let short = join(&all[..last as usize]);
        t.bundle(base, "the last line removed", &short, sound(last, 0).line(None));
    }
    t.finish();
}

/// A bundle whose last line was removed, checked with the last record's hash kept from it (`--at
/// SEQ:HASH`, and the older `--head HASH`), through the binary: unsound, and the record missing is
/// named (`first_bad_seq` the last seq, `first_bad_line` its line, the one removed), not the line
/// before it (issue 9, item 7).
#[test]
fn a_bundle_cut_at_its_end_is_named_at_the_missing_record_when_its_hash_was_kept() {
    let mut t = Tally::new("bundle cut at its end, hash kept");
    let base = bases()[0];
    let last = base.last();
    let all = lines(&base.bundle);
    let case = base.copy("bundle-at");
    let path = case.join("short.jsonl");
    fs::write(&path, join(&all[..last as usize])).unwrap();
    let hash = Hash(base.hash(last)).to_hex();
    let at = format!("{last}:{hash}");
    let short = format!("{last}:{}", &hash[..16]);
    for (label, flags) in [
        ("--at LAST:HASH", vec!["--at", at.as_str()]),
        ("--at LAST:SHORT", vec!["--at", short.as_str()]),
        ("--head HASH", vec!["--head", hash.as_str()]),
    ] {
        t.cases += 1;
        let mut args = vec!["--json", "verify", "--bundle", path.to_str().unwrap()];
        args.extend(flags);
        let run = cli_raw(&args);
        let v = serde_json::from_str::<Value>(&run.stdout).unwrap_or(Value::Null);
        let named = run.code == 1
            && v["ok"] == false
            && v["first_bad_seq"] == last
            && v["first_bad_line"] == last + 1
            && v["records"] == last;
        if !named {
            t.fail(
                base,
                label,
                format!(
                    "wanted exit 1, first_bad_seq {last} and first_bad_line {} (the removed line), got exit {}: {v}",
                    last + 1,
                    run.code
                ),
            );
        }
    }
    t.finish();
}

/// The first half of a line (cut at a character boundary).
fn half(line: &str) -> &str {
    let mut at = line.len() / 2;
    while !line.is_char_boundary(at) {
        at -= 1;
    }
    &line[..at]
}

/// The line with its top-level keys in reverse order.
fn reorder(line: &str) -> String {
    let v: serde_json::Map<String, Value> = serde_json::from_str(line).unwrap();
    let mut parts: Vec<String> =
        v.iter().map(|(k, v)| format!("{}:{}", serde_json::to_string(k).unwrap(), v)).collect();
    parts.reverse();
    format!("{{{}}}", parts.join(","))
}

/// The line with its `bytes` field replaced (base64 of `bytes`).
fn replace_bytes(line: &str, bytes: &[u8]) -> String {
    use base64::Engine as _;
    let at = line.find("\"bytes\":\"").unwrap() + "\"bytes\":\"".len();
    let end = at + line[at..].find('"').unwrap();
    format!("{}{}{}", &line[..at], base64::engine::general_purpose::STANDARD.encode(bytes), &line[end..])
}

/// What one damage of sled's own files led to, as `commitments verify --json` said it.
#[derive(Debug)]
enum Outcome {
    /// No report: the binary's exit code and the first lines of its message, and what the library's
    /// `Ledger::open_read` + `verify` said.
    Refused { library: String, code: i32, message: String },
    /// A report (the library's is the same when the library could open the ledger; the binary also
    /// reports a store the engine cannot open).
    Report(Said),
}

/// The fields of a `verify --json` report these tests look at.
#[derive(Debug)]
struct Said {
    ok: bool,
    kind: Option<String>,
    first_bad_seq: Option<u64>,
    records: u64,
    head: Option<String>,
    unacknowledged: u64,
    problem: Option<String>,
}

impl Said {
    fn of(v: &Value) -> Said {
        let text = |k: &str| v[k].as_str().map(str::to_string);
        Said {
            ok: v["ok"] == true,
            kind: text("problem_kind"),
            first_bad_seq: v["first_bad_seq"].as_u64(),
            records: v["records"].as_u64().unwrap_or(u64::MAX),
            head: text("head"),
            unacknowledged: v["unacknowledged"].as_u64().unwrap_or(u64::MAX),
            problem: text("problem"),
        }
    }
}

/// A damage done to a copy of a ledger directory.
type Damage = Box<dyn Fn(&Path)>;

/// The damages of sled's own files, by name.
fn sled_damages(base: &Base) -> Vec<(String, Damage)> {
    let db_len = fs::metadata(base.dir.join("db")).unwrap().len();
    let cut = move |to: u64| -> Damage {
        Box::new(move |d: &Path| fs::OpenOptions::new().write(true).open(d.join("db")).unwrap().set_len(to).unwrap())
    };
    fn remove_snaps(d: &Path) {
        for e in fs::read_dir(d).unwrap().flatten() {
            if e.file_name().to_string_lossy().starts_with("snap.") {
                fs::remove_file(e.path()).unwrap();
            }
        }
    }
    let flip_at = |offsets: Vec<u64>| -> Damage {
        Box::new(move |d: &Path| {
            let mut bytes = fs::read(d.join("db")).unwrap();
            for &o in &offsets {
                bytes[o as usize] ^= 0x5a;
            }
            fs::write(d.join("db"), bytes).unwrap();
        })
    };
    let mut damages: Vec<(String, Damage)> = vec![
        ("db cut to half".into(), cut(db_len / 2)),
        ("db cut to a quarter".into(), cut(db_len / 4)),
        ("db cut to 0 bytes".into(), cut(0)),
        ("db removed".into(), Box::new(|d: &Path| fs::remove_file(d.join("db")).unwrap())),
        ("snap.* removed".into(), Box::new(remove_snaps)),
        (
            "snap.* removed and db cut to half".into(),
            Box::new(move |d: &Path| {
                remove_snaps(d);
                cut(db_len / 2)(d);
            }),
        ),
        (
            "snap.* removed and db cut to 0".into(),
            Box::new(move |d: &Path| {
                remove_snaps(d);
                cut(0)(d);
            }),
        ),
        ("conf removed".into(), Box::new(|d: &Path| fs::remove_file(d.join("conf")).unwrap())),
        ("three bytes of db flipped".into(), flip_at(vec![db_len / 3, db_len / 2, db_len * 2 / 3])),
    ];
    for k in 1..8 {
        damages.push((format!("one byte of db flipped at {k}/8"), flip_at(vec![db_len * k / 8])));
    }
    damages
}

/// Damages a copy, then verifies it with the library and with the binary. `Err` when they disagree,
/// or when verifying wrote to the damaged directory (it must not: an auditor's evidence).
fn observe(base: &Base, label: &str, damage: &Damage) -> Result<Outcome, String> {
    let case = base.copy(label);
    damage(&case);
    let before = snapshot(&case);
    let library = std::panic::catch_unwind(|| Ledger::open_read(&case).and_then(|l| l.verify(&mut |_| {})))
        .unwrap_or_else(|panic| {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(commitment_ledger::LedgerError::Store(commitment_ledger::StoreError::Engine(format!(
                "sled PANICKED: {why}"
            ))))
        });
    let run = cli(&case, &["--json", "verify"]);
    let after = snapshot(&case);
    if after != before {
        let names = |s: &[(PathBuf, Vec<u8>)]| -> Vec<String> {
            s.iter().map(|(p, b)| format!("{} ({} bytes)", p.file_name().unwrap().to_string_lossy(), b.len())).collect()
        };
        return Err(format!("verify wrote to the damaged directory: {:?} became {:?}", names(&before), names(&after)));
    }
    let json = serde_json::from_str::<Value>(&run.stdout).ok();
    match (library, json) {
        (library, Some(mut v)) => {
            if let Some(m) = v.as_object_mut() {
                m.remove("at");
            }
            let said = Said::of(&v);
            if run.code != if said.ok { 0 } else { 1 } {
                return Err(format!("exit {} with the report {v}", run.code));
            }
            // Where the library opened the ledger, its report is the binary's.
            if let Ok(r) = library
                && v != serde_json::to_value(&r).unwrap()
            {
                return Err(format!("the binary says {v}, the library {r:?}"));
            }
            Ok(Outcome::Report(said))
        }
        (Ok(r), None) => Err(format!("the library reports {r:?}, the binary (exit {}) says {}", run.code, run.stderr)),
        (Err(e), None) => {
            // The first lines: a panic's message, without the backtrace that follows it.
            let message = run.stderr.lines().take(2).collect::<Vec<_>>().join(" ");
            Ok(Outcome::Refused { library: e.to_string(), code: run.code, message })
        }
    }
}

/// One damage observed: the ledger's index in [`bases`], the damage, and the outcome (or how the
/// library and the binary disagreed).
type Observed = (usize, String, Result<Outcome, String>);

/// Every damage of [`sled_damages`] on every ledger, observed once and shared by the two tests below.
fn sled_outcomes() -> &'static [Observed] {
    static OUTCOMES: OnceLock<Vec<Observed>> = OnceLock::new();
    OUTCOMES.get_or_init(|| {
        let mut out = Vec::new();
        for (i, base) in bases().into_iter().enumerate() {
            for (label, damage) in sled_damages(base) {
                let outcome = observe(base, &label, &damage);
                out.push((i, label, outcome));
            }
        }
        let table: Vec<String> = out
            .iter()
            .map(|(i, label, o)| {
                let said = o.as_ref().map_or_else(|why| format!("DISAGREE: {why}"), describe);
                format!("  [{}] {label}: {said}", bases()[*i].name)
            })
            .collect();
        println!("sled file damage, what verify said:\n{}", table.join("\n"));
        out
    })
}

/// sled's own files damaged (`db` cut or removed, `snap.*` removed, bytes of `db` flipped, `conf`
/// removed). sled recovers what it can, possibly an earlier state of the log; the witness outside its
/// files remembers what was acknowledged. Whatever happens, `verify` is never OK over fewer records
/// than the ledger acknowledged, never OK over 0 records and never OK with another head; the library
/// and the binary say the same; and verifying writes nothing to the damaged directory.
#[test]
fn damaged_sled_files_never_verify_as_ok_over_less_than_was_acknowledged() {
    let mut t = Tally::new("sled files");
    for (i, label, outcome) in sled_outcomes() {
        let base = bases()[*i];
        t.cases += 1;
        match outcome {
            Err(why) => t.fail(base, label, why.clone()),
            Ok(Outcome::Report(r)) if r.ok => {
                // OK only over every acknowledged record, ending at the acknowledged head.
                let whole = r.records == base.count()
                    && r.head.as_deref() == Some(Hash(base.hash(base.last())).to_hex().as_str())
                    && r.unacknowledged == 0;
                if !whole {
                    t.fail(base, label, format!("OK over less than was acknowledged: {r:?}"));
                }
            }
            Ok(Outcome::Report(r)) => {
                let kinds = ["truncated", "store_unreadable", "head_mismatch", "empty", "undecodable", "gap"];
                if !r.kind.as_deref().is_some_and(|k| kinds.contains(&k)) || r.records > base.count() {
                    t.fail(base, label, format!("an unexpected report: {r:?}"));
                }
            }
            Ok(Outcome::Refused { code, message, .. }) => {
                if *code == 0 || message.trim().is_empty() {
                    t.fail(base, label, format!("refused with exit {code} and no message"));
                }
            }
        }
    }
    t.finish();
}

/// Whatever is done to sled's files, the answer is a report (exit 0 over everything acknowledged, or
/// exit 1) or a refusal with a message, exit 1 (unsound) or 3 (cannot be read) — never exit 2 ("not a
/// commitment ledger", bad input: a directory that holds the witness of what it acknowledged is a
/// damaged ledger, not the wrong directory) and never a crash (sled panicking on a damaged file).
#[test]
fn damaged_sled_files_are_reported_as_damage_never_as_no_ledger_or_a_crash() {
    let mut t = Tally::new("sled files, exit codes");
    for (i, label, outcome) in sled_outcomes() {
        let base = bases()[*i];
        t.cases += 1;
        match outcome {
            Ok(Outcome::Report(_)) => {}
            Ok(Outcome::Refused { code: 1 | 3, library, .. }) if !library.contains("PANICKED") => {}
            Ok(Outcome::Refused { code, message, library }) => {
                t.fail(base, label, format!("exit {code}: {} (library: {library})", message.trim()))
            }
            Err(why) => t.fail(base, label, why.clone()),
        }
    }
    t.finish();
}

fn describe(o: &Outcome) -> String {
    match o {
        Outcome::Report(r) if r.ok => format!("OK, {} records", r.records),
        Outcome::Report(r) => format!(
            "exit 1, {} at {:?}, {} records verified: {}",
            r.kind.as_deref().unwrap_or("?"),
            r.first_bad_seq,
            r.records,
            r.problem.as_deref().unwrap_or_default()
        ),
        Outcome::Refused { code, message, library } => {
            format!("refused, exit {code}: {} (library: {library})", message.trim())
        }
    }
}
