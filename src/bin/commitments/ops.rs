//! What each command asks of the library, where that takes more than one call: open the ledger, make
//! the call, and hand back what printing needs. No rule lives here; each function is the glue the
//! library does not offer in one call (see the notes).
//!
//! Writing commands take `show`, called with the result before the ledger is closed, so that what
//! was durably appended is printed even if writing the projection back fails afterwards.

use crate::cli::{ActorArg, HeldTo};
use crate::failure::Failure;
use crate::render::progress_bar;
use commitment_ledger::Trusted;
use commitment_ledger::checkpoint::CosignatureVerifier;
use commitment_ledger::demo::DemoRun;
use commitment_ledger::import::{self, ImportError, Outcome};
use commitment_ledger::publish::{self, Fault, PublishError};
use commitment_ledger::summary::{Summary, SummaryBuilder};
use commitment_ledger::view::ItemFilter;
use commitment_ledger::{
    ActorId, At as Point, AtCheck, Command, Date, Day, Event, FeedbackRecorded, Hash, Head, ItemId, ItemState, Ledger,
    LedgerError, OpenLedger, Record, RegisterArea, Registry, Report, Seq, SourceId, State, StoreError, TailDecision,
    Timestamp, Until, Vocabulary, apply_points, check_points,
};
use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

/// Opens the ledger in `dir` to write to it (and read): the only writer.
pub fn open(dir: &Path) -> Result<Ledger, Failure> {
    Ok(Ledger::open(dir)?)
}

/// Opens the ledger in `dir` to read it only ([`Ledger::open_read`]): nothing is written, a read-only
/// directory works, other readers are not refused; a writer is (the lock is shared with readers only).
pub fn read(dir: &Path) -> Result<Ledger, Failure> {
    Ledger::open_read(dir).map_err(read_failure)
}

/// What a reader is told when the ledger cannot be opened for reading.
fn read_failure(e: LedgerError) -> Failure {
    match e {
        LedgerError::Store(StoreError::Locked(path)) => Failure::io(format!(
            "the ledger at {} is open in another process that is writing to it (a writer holds the ledger's \
             lock; readers share it only with readers): try again when the writer has finished",
            path.display()
        )),
        e => Failure::from(e),
    }
}

/// A writing command's end: the ledger closed, or why not.
type Done = Result<(), Failure>;

/// Records appended, with the ledger's UTC offset to print their times in.
pub struct Written {
    pub heads: Vec<Head>,
    pub utc_offset: i32,
}

/// Who appends: the named actor (`--actor`, `$COMMITMENTS_ACTOR`), else the library's default for the
/// command ([`Ledger::default_actor`]). Without a command (an import; a source, whose issuer defaults
/// to whoever appends it, so it cannot be built first) it is the default for a command about no item.
// Note: `Ledger::default_actor` needs a built command; the `(None, None)` arm repeats its fallback (the
// administrator), the one place the binary does.
fn acting(ledger: &mut Ledger, named: Option<ActorId>, command: Option<&Command>) -> Result<ActorId, Failure> {
    match named {
        Some(actor) => Ok(actor),
        None => ledger.default_actor(command)?.ok_or_else(Failure::not_initialized),
    }
}

/// Opens the ledger to append as `who`: with the key file it names (`--key`, `$COMMITMENTS_KEY`), else
/// the keys in the ledger's `keys/` folder.
fn open_as(dir: &Path, who: &ActorArg) -> Result<Ledger, Failure> {
    let mut ledger = open(dir)?;
    if let Some(path) = &who.key {
        ledger.keyring_mut().give_file(path).map_err(|e| Failure::input(format!("key: {e}")))?;
    }
    Ok(ledger)
}

/// `init`: creates the ledger (a refused start leaves the directory as it was).
pub fn init(dir: &Path, opening: OpenLedger, areas: Vec<RegisterArea>, show: impl FnOnce(&Written)) -> Done {
    let (ledger, heads) = Ledger::create(dir, opening, areas)?;
    show(&Written { heads, utc_offset: ledger.registry().utc_offset() });
    Ok(ledger.close()?)
}

/// Appends one command as `actor` or the default actor.
pub fn append(dir: &Path, (who, command): (ActorArg, Command), show: impl FnOnce(&Written)) -> Done {
    let mut ledger = open_as(dir, &who)?;
    let actor = acting(&mut ledger, who.actor, Some(&command))?;
    let head = ledger.append(&actor, command)?;
    show(&Written { heads: vec![head], utc_offset: ledger.registry().utc_offset() });
    Ok(ledger.close()?)
}

/// `source add`: the digest of the signed text ([`commitment_ledger::source_digest`]) and the issuer
/// (`--issuer`, else the actor who appends) complete the command.
pub fn record_source(dir: &Path, args: crate::cli::SourceArgs, show: impl FnOnce(&Written)) -> Done {
    let digest = match &args.text_file {
        Some(path) => Some(commitment_ledger::source_digest(
            &std::fs::read(path)
                .map_err(|e| Failure::input(format!("text-file: cannot read {}: {e}", path.display())))?,
        )),
        None => None,
    };
    let mut ledger = open_as(dir, &args.actor)?;
    // A source is about no item: whoever appends it (and, by default, issued it) is the named actor or
    // the default for a command about no item.
    let actor = acting(&mut ledger, args.actor.actor.clone(), None)?;
    let command = args.command(&actor, digest);
    let head = ledger.append(&actor, command)?;
    show(&Written { heads: vec![head], utc_offset: ledger.registry().utc_offset() });
    Ok(ledger.close()?)
}

/// `source list`: the registry, and each source's feedback as recorded (with what the deputy said,
/// which the state does not keep: it is read from the feedback's records).
pub struct Sources {
    pub registry: Registry,
    pub feedback: HashMap<SourceId, Vec<FeedbackRecorded>>,
}

/// `source list`.
pub fn sources(dir: &Path) -> Result<Sources, Failure> {
    let ledger = read(dir)?;
    let mut feedback: HashMap<SourceId, Vec<FeedbackRecorded>> = HashMap::new();
    for (id, source) in &ledger.registry().sources {
        for verdict in &source.feedback {
            let recorded = match ledger.record(verdict.seq)? {
                Some((Record { event: Event::FeedbackRecorded(f), .. }, _)) => f,
                _ => {
                    return Err(LedgerError::Corrupt {
                        seq: verdict.seq.0,
                        why: format!("source {id}'s feedback leads to a record that is not feedback"),
                    }
                    .into());
                }
            };
            feedback.entry(id.clone()).or_default().push(recorded);
        }
    }
    Ok(Sources { registry: ledger.registry().clone(), feedback })
}

/// What an import did.
pub struct Imported<'a> {
    pub source: &'a str,
    pub outcome: Outcome,
    pub utc_offset: i32,
}

/// `import FILE`: reads and parses the document, then imports it in one durable write.
pub fn import(dir: &Path, file: &Path, who: ActorArg, show: impl FnOnce(&Imported)) -> Done {
    let text =
        std::fs::read_to_string(file).map_err(|e| Failure::input(format!("{}: cannot read: {e}", file.display())))?;
    let doc = import::parse(&text).map_err(|e| Failure::input(format!("{}: {e}", file.display())))?;
    let mut ledger = open_as(dir, &who)?;
    let actor = acting(&mut ledger, who.actor, None)?;
    let outcome = import::import(&mut ledger, &actor, &doc).map_err(|e| match e {
        ImportError::Ledger(e) => Failure::from(*e),
        e => Failure::input(format!("{}: {e}", file.display())),
    })?;
    show(&Imported { source: &doc.source.id, outcome, utc_offset: ledger.registry().utc_offset() });
    Ok(ledger.close()?)
}

/// What the demo did and what it shows afterwards.
pub struct Demo {
    pub dir: PathBuf,
    pub run: DemoRun,
    pub summary: Read<Summary>,
    pub history: Records,
}

impl Demo {
    /// Whether the finished ledger verified and its projection matched a replay.
    pub fn sound(&self) -> bool {
        self.run.report.ok && self.run.projection_differences.is_empty()
    }
}

/// `demo`: runs the demo in `dir` ([`commitment_ledger::demo::create`]), then reads today's summary and
/// the showcase item's history.
// Note: the summary and the history would belong in `DemoRun`.
pub fn demo(dir: &Path, show: impl FnOnce(&Demo)) -> Result<bool, Failure> {
    let (mut ledger, run) = commitment_ledger::demo::create(dir)?;
    let (mut at, day) = at(&mut ledger, None)?;
    let summary = summarize(&mut at, day)?;
    let showcase = ItemId::new(commitment_ledger::demo::SHOWCASE_ITEM).expect("the showcase id is valid");
    let records = ledger.history(&showcase)?.unwrap_or_default();
    let history = Records { records, utc_offset: ledger.registry().utc_offset() };
    let demo = Demo { dir: dir.to_path_buf(), run, summary, history };
    show(&demo);
    ledger.close()?;
    Ok(demo.sound())
}

/// A read's result, with what printing it needs: the registry (names, time zone), its vocabulary, and
/// the day it was read for (today, or the `--as-of` day).
pub struct Read<T> {
    pub registry: Registry,
    pub vocab: Vocabulary,
    pub day: Day,
    pub value: T,
}

/// The state a read looks at: the live projection, or a replay folded in memory.
// Note: the library has no read interface common to `Ledger` (lazily loaded items) and `State`.
enum At<'a> {
    Live(&'a mut Ledger),
    Past(State),
}

/// The state as of the end of `as_of` (a replay), or the live state today, and that day.
fn at(ledger: &mut Ledger, as_of: Option<Date>) -> Result<(At<'_>, Day), Failure> {
    let offset = ledger.registry().utc_offset();
    Ok(match as_of {
        None => (At::Live(ledger), Timestamp::now().day(offset)),
        Some(d) => {
            let day = d.last_day();
            (At::Past(ledger.replay(Until::Time(Timestamp::end_of_day(day, offset)))?), day)
        }
    })
}

impl At<'_> {
    fn registry(&self) -> &Registry {
        match self {
            At::Live(l) => l.registry(),
            At::Past(s) => s.registry(),
        }
    }

    fn item(&mut self, id: &ItemId) -> Result<Option<ItemState>, Failure> {
        match self {
            At::Live(l) => Ok(l.item(id)?),
            At::Past(s) => Ok(s.get(id).cloned()),
        }
    }

    fn for_each_item(&mut self, f: &mut dyn FnMut(&ItemState)) -> Result<(), Failure> {
        match self {
            At::Live(l) => Ok(l.for_each_item(f)?),
            At::Past(s) => {
                s.items().for_each(f);
                Ok(())
            }
        }
    }

    fn read<T>(&self, day: Day, value: T) -> Read<T> {
        let registry = self.registry().clone();
        Read { vocab: vocabulary(&registry), registry, day, value }
    }
}

/// The ledger's vocabulary (the default one before record 0).
// Note: a `Registry::vocabulary()` would say this once.
fn vocabulary(registry: &Registry) -> Vocabulary {
    registry.info().map(|i| i.vocabulary.clone()).unwrap_or_else(Vocabulary::default_v1)
}

fn unknown_item(id: &ItemId) -> Failure {
    Failure::input(format!("unknown item {id:?}"))
}

/// `show ID [--as-of D]`.
pub fn item(dir: &Path, id: &ItemId, as_of: Option<Date>) -> Result<Read<ItemState>, Failure> {
    let mut ledger = read(dir)?;
    let (mut at, day) = at(&mut ledger, as_of)?;
    let item = at.item(id)?.ok_or_else(|| unknown_item(id))?;
    Ok(at.read(day, item))
}

/// `list [filters] [--as-of D]`: the items that pass the filter, in id order.
pub fn items(dir: &Path, filter: &ItemFilter, as_of: Option<Date>) -> Result<Read<Vec<ItemState>>, Failure> {
    let mut ledger = read(dir)?;
    let (mut at, day) = at(&mut ledger, as_of)?;
    let vocab = vocabulary(at.registry());
    let mut items = Vec::new();
    at.for_each_item(&mut |i| {
        if filter.matches(i, &vocab, day) {
            items.push(i.clone());
        }
    })?;
    Ok(at.read(day, items))
}

/// `summary [--as-of D]`.
pub fn summary(dir: &Path, as_of: Option<Date>) -> Result<Read<Summary>, Failure> {
    let mut ledger = read(dir)?;
    let (mut at, day) = at(&mut ledger, as_of)?;
    summarize(&mut at, day)
}

fn summarize(at: &mut At, day: Day) -> Result<Read<Summary>, Failure> {
    let registry = at.registry().clone();
    let vocab = vocabulary(&registry);
    let mut b = SummaryBuilder::new(&registry, &vocab, day);
    at.for_each_item(&mut |i| b.add(i))?;
    let summary = b.finish();
    Ok(Read { registry, vocab, day, value: summary })
}

/// Records, with the ledger's UTC offset to print their times in.
pub struct Records {
    pub records: Vec<(Record, Hash)>,
    pub utc_offset: i32,
}

/// `history ID`.
pub fn history(dir: &Path, id: &ItemId) -> Result<Records, Failure> {
    let mut ledger = read(dir)?;
    let records = ledger.history(id)?.ok_or_else(|| unknown_item(id))?;
    Ok(Records { records, utc_offset: ledger.registry().utc_offset() })
}

/// `log [--from SEQ] [--limit N]`.
pub fn log(dir: &Path, from: u64, limit: u64) -> Result<Records, Failure> {
    let ledger = read(dir)?;
    let mut records = Vec::new();
    ledger.for_each_record(Seq(from), &mut |rec, hash| {
        if records.len() as u64 >= limit {
            return ControlFlow::Break(());
        }
        records.push((rec.clone(), hash));
        ControlFlow::Continue(())
    })?;
    Ok(Records { records, utc_offset: ledger.registry().utc_offset() })
}

/// A verification and the kept points checked against it (`--at`).
pub struct Verified {
    /// The report, unsound too when a point is not on the chain.
    pub report: Report,
    /// Each point, in the order given, with what was found there.
    pub at: Vec<AtCheck>,
}

/// Checks the points against the hashes found at their seqs, counting only records the walk verified
/// (a record after the first bad one, or the one a broken link blames, vouches for nothing), and
/// makes the report unsound when a point is not on the chain.
fn judged(mut report: Report, points: &[Point], found: &HashMap<Seq, Hash>) -> Verified {
    let verified = report.records;
    let at = check_points(points, |s| found.get(&s).copied().filter(|_| s.0 < verified));
    apply_points(&mut report, &at);
    Verified { report, at }
}

/// `verify [--at SEQ:HASH]...`: the whole log, with a progress bar, read-only.
pub fn verify(dir: &Path, points: &[Point], held: &HeldTo) -> Result<Verified, Failure> {
    let ledger = match Ledger::open_read(dir) {
        Ok(ledger) => ledger,
        // A store the engine cannot even open is unsound, not an I/O failure: nothing of it can be
        // vouched for.
        Err(LedgerError::Store(StoreError::Damaged(why))) => {
            return Ok(judged(commitment_ledger::Report::unreadable_store(why), points, &HashMap::new()));
        }
        Err(e) => return Err(read_failure(e)),
    };
    let trusted = match ledger.registry().info() {
        Some(info) => trusted(Some(dir), &info.origin.clone(), held)?,
        None => Vec::new(),
    };
    let resume = match &held.resume {
        Some(path) if path.exists() => {
            let bytes =
                std::fs::read(path).map_err(|e| Failure::io(format!("resume: cannot read {}: {e}", path.display())))?;
            let r = commitment_ledger::Resume::from_bytes(&bytes)
                .map_err(|e| Failure::input(format!("resume: {}: {e}", path.display())))?;
            Some(r)
        }
        _ => None,
    };
    let bar = progress_bar(Some(ledger.head().map_or(0, |h| h.seq.0 + 1)), "verifying");
    let (report, point) = ledger.verify_resuming(resume.as_ref(), trusted, &mut |n| bar.set_position(n))?;
    if let (Some(path), Some(point)) = (&held.resume, point) {
        publish::write_atomically(path, &point.to_bytes())
            .map_err(|e| Failure::io(format!("resume: {}: {e}", path.display())))?;
    }
    bar.finish_and_clear();
    let mut found = HashMap::new();
    for p in points.iter().filter(|p| p.seq.0 < report.records) {
        if let Some((_, hash)) = ledger.record(p.seq)? {
            found.insert(p.seq, hash);
        }
    }
    Ok(judged(report, points, &found))
}

/// `verify --bundle FILE [--at SEQ:HASH]... [--head HASH]`, with a progress counter. The hashes at the
/// points' seqs are collected as the lines verify.
pub fn verify_bundle(path: &Path, head: Option<Hash>, points: &[Point], held: &HeldTo) -> Result<Verified, Failure> {
    let file = std::fs::File::open(path)
        .map_err(|e| Failure::input(format!("bundle: cannot read {}: {e}", path.display())))?;
    let trusted = if held.checkpoints.is_empty() {
        Vec::new()
    } else {
        // The checkpoints must be of the bundle's ledger: its origin is on its first line.
        let mut first = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(&file), &mut first)
            .map_err(|e| Failure::io(format!("bundle: {}: {e}", path.display())))?;
        std::io::Seek::rewind(&mut &file).map_err(|e| Failure::io(format!("bundle: {}: {e}", path.display())))?;
        let origin = commitment_ledger::export::BundleLine::parse(first.trim_end().as_bytes())
            .ok()
            .and_then(|l| commitment_ledger::record_origin(&l.bytes))
            .ok_or_else(|| {
                Failure::unsound(format!(
                    "bundle: {}: its first line is not the ledger's record 0, so it names no ledger the checkpoints could be of",
                    path.display()
                ))
            })?;
        trusted(None, &origin, held)?
    };
    let bar = progress_bar(None, "verifying bundle");
    let mut input = std::io::BufReader::with_capacity(1 << 20, file);
    let wanted: HashSet<Seq> = points.iter().map(|p| p.seq).collect();
    let mut found = HashMap::new();
    let report = commitment_ledger::verify_bundle_against(
        &mut input,
        head,
        trusted,
        &mut |n| bar.set_position(n),
        &mut |rec, hash, _| {
            if wanted.contains(&rec.seq) {
                found.insert(rec.seq, hash);
            }
            Ok(())
        },
    )
    .map_err(|e| Failure::io(format!("bundle: {}: {e}", path.display())))?;
    bar.finish_and_clear();
    let mut verified = judged(report, points, &found);
    if let (None, Some(seq)) = (verified.report.first_bad_line, verified.report.first_bad_seq) {
        // A kept point past the bundle's end: the first missing line (record n is line n + 1).
        verified.report.first_bad_line = Some(seq + 1);
    }
    Ok(verified)
}

/// A verifier key given on the command line: the key itself, or a file holding it.
fn vkey_arg(what: &str, given: &str) -> Result<String, Failure> {
    let path = Path::new(given);
    if !given.contains('+') || path.is_file() {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Failure::input(format!("{what}: {given} is neither a verifier key nor a readable file ({e})"))
        })?;
        if text.trim_start().starts_with("-----BEGIN") {
            return Err(Failure::input(format!(
                "{what}: {given} is a PEM key file; give the verifier key (name+keyid+key, as `ledger-key` or \
                 `cosign` print it), or a file holding it"
            )));
        }
        return Ok(text.trim().to_string());
    }
    Ok(given.to_string())
}

/// The checkpoints `verify` holds a log of `origin` to: each read, its signature by the ledger key
/// checked (the key given, else the one in `dir`), its witnesses' cosignatures checked.
fn trusted(dir: Option<&Path>, origin: &str, held: &HeldTo) -> Result<Vec<Trusted>, Failure> {
    if held.checkpoints.is_empty() {
        if !held.witnesses.is_empty() {
            return Err(Failure::input(
                "witness: give the checkpoints to check their cosignatures on (--checkpoint FILE)",
            ));
        }
        return Ok(Vec::new());
    }
    let publish_failure = |e: PublishError| match e.fault() {
        Fault::BadInput => Failure::input(e.to_string()),
        Fault::Unsound => Failure::unsound(e.to_string()),
        Fault::Io => Failure::io(e.to_string()),
    };
    let log = match (&held.log_key, dir) {
        (Some(k), _) => {
            let k = vkey_arg("log-key", k)?;
            commitment_ledger::note::Verifier::from_vkey(&k)
                .map_err(|e| Failure::input(format!("log-key: {k:?} is not a verifier key: {e}")))?
        }
        (None, Some(dir)) => publish::ledger_verifier(dir, origin).map_err(publish_failure)?,
        (None, None) => {
            return Err(Failure::input(
                "log-key: a bundle's checkpoints are checked with the ledger's verifier key: give it with --log-key \
                 (the office publishes it; `commitments ledger-key` prints it)",
            ));
        }
    };
    let mut witnesses = Vec::new();
    for w in &held.witnesses {
        let k = vkey_arg("witness", w)?;
        witnesses.push(
            CosignatureVerifier::from_vkey(&k)
                .map_err(|e| Failure::input(format!("witness: {k:?} is not a witness verifier key: {e}")))?,
        );
    }
    let quorum = held.quorum.unwrap_or(witnesses.len());
    if quorum > witnesses.len() {
        return Err(Failure::input(format!("quorum: {quorum} of {} witnesses can never be met", witnesses.len())));
    }
    let mut out = Vec::new();
    for path in &held.checkpoints {
        let label = path.display().to_string();
        let in_file = |f: Failure| Failure { code: f.code, message: format!("checkpoint: {label}: {}", f.message) };
        let msg = publish::read_checkpoint(path).map_err(|e| in_file(publish_failure(e)))?;
        let opened = publish::open(&msg, origin, &log, &witnesses).map_err(|e| in_file(publish_failure(e)))?;
        // A cosignature's time is in whole seconds: a record of that same second is not after it.
        let witnessed = opened.cosignatures.iter().map(|c| c.timestamp).min().map(|secs| {
            let secs = i64::try_from(secs).unwrap_or(i64::MAX);
            commitment_ledger::Timestamp(secs.saturating_mul(1_000_000).saturating_add(999_999))
        });
        out.push(Trusted {
            label,
            size: opened.checkpoint.size,
            root: opened.checkpoint.root,
            witnesses: opened.cosignatures.iter().map(|c| c.name.clone()).collect(),
            witnessed,
            meets_policy: opened.cosignatures.len() >= quorum,
        });
    }
    Ok(out)
}

/// What `recover` decided about an unacknowledged tail.
pub struct Recovered {
    /// Accept or discard.
    pub decision: TailDecision,
    /// The records decided about (none when there was no tail).
    pub records: Vec<(Record, Hash)>,
    /// The ledger's head afterwards.
    pub head: Option<Head>,
    /// The ledger's UTC offset, to print times in.
    pub utc_offset: i32,
}

/// `recover --accept | --discard`: reads the unacknowledged records (to say which they were), then
/// has the library accept or discard them ([`Ledger::resolve_tail`]).
pub fn recover(dir: &Path, decision: TailDecision, show: impl FnOnce(&Recovered)) -> Done {
    let mut ledger = open(dir)?;
    // A damaged ledger has no tail to decide about; "nothing to recover" would hide the damage.
    if let Some(why) = ledger.damage() {
        return Err(Failure::unsound(format!(
            "the ledger is damaged: {why}; recover only accepts or discards an unacknowledged tail (run \
             `commitments verify`; `commitments restore` rebuilds a ledger from an export bundle)"
        )));
    }
    let mut records = Vec::new();
    if let Some((first, last)) = ledger.unacknowledged() {
        ledger.for_each_record(first, &mut |rec, hash| {
            if rec.seq > last {
                return ControlFlow::Break(());
            }
            records.push((rec.clone(), hash));
            ControlFlow::Continue(())
        })?;
    }
    ledger.resolve_tail(decision)?;
    show(&Recovered { decision, records, head: ledger.head(), utc_offset: ledger.registry().utc_offset() });
    Ok(ledger.close()?)
}

/// `restore BUNDLE` into the new directory `dir` ([`commitment_ledger::export::restore`]), with a
/// progress counter. Returns the bundle's report (its records and head are the new ledger's).
pub fn restore(dir: &Path, bundle: &Path) -> Result<Report, Failure> {
    let file = std::fs::File::open(bundle)
        .map_err(|e| Failure::input(format!("bundle: cannot read {}: {e}", bundle.display())))?;
    let mut input = std::io::BufReader::with_capacity(1 << 20, file);
    let bar = progress_bar(None, "restoring");
    let restored = commitment_ledger::export::restore(&mut input, dir, &mut |n| bar.set_position(n));
    bar.finish_and_clear();
    Ok(restored?)
}

/// `export [--out FILE]`: the log as JSON lines, to a file (with a progress bar) or to standard
/// output. Returns the number of records written.
pub fn export(dir: &Path, out: Option<&Path>) -> Result<u64, Failure> {
    let ledger = read(dir)?;
    let Some(path) = out else {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
        return Ok(commitment_ledger::export::export(&ledger, &mut w, &mut |_| {})?);
    };
    let file =
        std::fs::File::create(path).map_err(|e| Failure::io(format!("out: cannot create {}: {e}", path.display())))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    let bar = progress_bar(Some(ledger.head().map_or(0, |h| h.seq.0 + 1)), "exporting");
    let n = commitment_ledger::export::export(&ledger, &mut w, &mut |n| bar.set_position(n))?;
    bar.finish_and_clear();
    Ok(n)
}

/// The state as of a moment, and the last record folded into it.
pub struct Replayed {
    pub head: Option<Head>,
    pub items: Read<Vec<ItemState>>,
}

/// `replay --to SEQ`: the state through a record, read on the day of that record.
pub fn replay_to(dir: &Path, seq: u64) -> Result<Replayed, Failure> {
    let ledger = read(dir)?;
    let (rec, _) =
        ledger.record(Seq(seq))?.ok_or_else(|| Failure::input(format!("to: record {seq} does not exist")))?;
    replayed(&ledger, Until::Seq(Seq(seq)), rec.time.day(ledger.registry().utc_offset()))
}

/// `replay --as-of D`: the state at the end of a day.
pub fn replay_as_of(dir: &Path, as_of: Date) -> Result<Replayed, Failure> {
    let ledger = read(dir)?;
    let day = as_of.last_day();
    replayed(&ledger, Until::Time(Timestamp::end_of_day(day, ledger.registry().utc_offset())), day)
}

fn replayed(ledger: &Ledger, until: Until, day: Day) -> Result<Replayed, Failure> {
    let (state, head) = ledger.replay_with_head(until)?;
    let items = state.items().cloned().collect();
    Ok(Replayed { head, items: At::Past(state).read(day, items) })
}

/// `replay`: what differs between the stored projection and a replay of the log, and the head. Reads
/// only: the stored projection is compared as it is, never repaired on the way.
pub fn check_projection(dir: &Path) -> Result<(Option<u64>, Vec<String>), Failure> {
    let mut ledger = read(dir)?;
    let differences = ledger.check_projection()?;
    Ok((ledger.head().map(|h| h.seq.0), differences))
}

/// `replay --rebuild`: the seq of the last record folded in. A log that cannot be replayed to its end
/// is unsound (exit code 1).
pub fn rebuild(dir: &Path) -> Result<Option<u64>, Failure> {
    let mut ledger = open(dir)?;
    let reached = ledger.rebuild_projection().map_err(|e| match e {
        LedgerError::Corrupt { .. } => Failure {
            code: crate::failure::UNSOUND,
            message: format!("{e}; the projection reflects the records before it"),
        },
        e => Failure::from(e),
    })?;
    Ok(reached.map(|s| s.0))
}
