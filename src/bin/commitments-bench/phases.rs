//! The measured phases. Each runs in a child process of this binary (`--phase NAME`), so that its
//! peak memory (VmHWM) is its own, and prints one JSON object of figures on stdout.

use crate::workload::Workload;
use anyhow::{Context, Result, bail};
use commitment_ledger::Store;
use commitment_ledger::Until;
use commitment_ledger::Vocabulary;
use commitment_ledger::hash_record_bytes;
use commitment_ledger::{ActorId, ItemId, Ledger, Record, Seq, Timestamp};
use commitment_ledger::{ManualClock, OpenLedger, RegisterArea, SledStore};
use serde_json::{Value, json};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The workload's seed.
pub const SEED: u64 = 0x0771_2024;
/// Records per batch in bulk imports (and per flush in the raw sled limit).
pub const BATCH: usize = 1000;
/// 2024-01-01T00:00:00Z in microseconds: the simulated clock starts here.
const T0: i64 = 1_704_067_200_000_000;
/// Simulated time between two events of the import: one minute (a million events span two years).
const STEP: i64 = 60_000_000;

/// Where a run keeps its files.
pub struct Paths {
    /// The working directory.
    pub root: PathBuf,
}

impl Paths {
    /// The ledger of the run: signed records (format 2), as every ledger is made now.
    pub fn ledger(&self) -> PathBuf {
        self.root.join("ledger")
    }
    /// The same workload unsigned (format 1), as version 1 made ledgers: the baseline of the
    /// signed-versus-unsigned ratios.
    pub fn ledger_unsigned(&self) -> PathBuf {
        self.root.join("ledger-unsigned")
    }
    /// The ledger of a variant.
    pub fn ledger_of(&self, signed: bool) -> PathBuf {
        if signed { self.ledger() } else { self.ledger_unsigned() }
    }
    pub fn records(&self) -> PathBuf {
        self.root.join("records.bin")
    }
    pub fn events(&self) -> PathBuf {
        self.root.join("events.jsonl")
    }
    pub fn bundle(&self) -> PathBuf {
        self.root.join("bundle.jsonl")
    }
    fn bundle_of(&self, signed: bool) -> PathBuf {
        if signed { self.bundle() } else { self.root.join("bundle-unsigned.jsonl") }
    }
    pub fn meta(&self) -> PathBuf {
        self.root.join("meta.json")
    }
    pub fn raw_bulk(&self) -> PathBuf {
        self.root.join("raw-sled-bulk")
    }
    pub fn raw_batch(&self) -> PathBuf {
        self.root.join("raw-sled-batch")
    }
}

/// The peak resident set size of this process, in KiB (VmHWM).
pub fn vmhwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The resident set size of this process, in KiB (VmRSS).
pub fn vmrss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Resets the peak resident set size to the current one (Linux `clear_refs` 5), so that the next
/// VmHWM reading is the peak of what follows.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Bytes of all files under a directory.
pub fn dir_bytes(dir: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(dir) else { return 0 };
    rd.filter_map(Result::ok)
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn rate(events: u64, d: Duration) -> f64 {
    events as f64 / d.as_secs_f64().max(1e-9)
}

/// CPU time used by this process so far (all threads), in seconds.
pub fn cpu_secs() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return f64::NAN;
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// Wall-clock and CPU time of a measured section.
struct Span {
    wall: Instant,
    cpu: f64,
}

impl Span {
    fn start() -> Span {
        Span { wall: Instant::now(), cpu: cpu_secs() }
    }

    /// (wall, CPU seconds).
    fn stop(&self) -> (Duration, f64) {
        (self.wall.elapsed(), cpu_secs() - self.cpu)
    }
}

fn per_cpu(events: u64, cpu: f64) -> f64 {
    events as f64 / cpu.max(1e-9)
}

fn open_ledger(paths: &Paths) -> Result<Ledger> {
    open_dir(&paths.ledger())
}

fn open_dir(dir: &Path) -> Result<Ledger> {
    Ledger::open(dir).with_context(|| format!("opening {}", dir.display()))
}

/// Opens the ledger for a measured phase: notes the peak and resident memory of opening, then resets
/// the peak so that the phase's own peak can be read at its end.
fn open_measured(paths: &Paths, v: &mut Value) -> Result<Ledger> {
    open_measured_dir(&paths.ledger(), v)
}

/// [`open_measured`] for the ledger in `dir`.
fn open_measured_dir(dir: &Path, v: &mut Value) -> Result<Ledger> {
    let t = Instant::now();
    let ledger = open_dir(dir)?;
    v["open_ms"] = json!(t.elapsed().as_secs_f64() * 1e3);
    v["open_peak_kib"] = json!(vmhwm_kib());
    v["rss_after_open_kib"] = json!(vmrss_kib());
    reset_peak();
    Ok(ledger)
}

/// Runs one phase and returns its figures (with `vmhwm_kib` added).
pub fn run(name: &str, paths: &Paths, events: u64, count: u64, rep: u64) -> Result<Value> {
    let mut v = match name {
        "import" => import(paths, events, true)?,
        "import-unsigned" => import(paths, events, false)?,
        "export" => export(paths)?,
        "limits" => limits(paths)?,
        "sig-limit" => signature_limits(paths)?,
        "scan" => scan(paths)?,
        "verify" => verify(paths, true)?,
        "verify-unsigned" => verify(paths, false)?,
        "bundle" => bundle(paths, true)?,
        "bundle-unsigned" => bundle(paths, false)?,
        "proof" => proof(paths, rep)?,
        "import-doc" => import_doc(paths, count)?,
        "replay" => replay(paths)?,
        "as-of" => as_of(paths)?,
        "check" => check(paths)?,
        "rebuild" => rebuild(paths)?,
        "open" => open_show(paths)?,
        "append" => append(paths, count, rep, true)?,
        "append-unsigned" => append(paths, count, rep, false)?,
        other => bail!("unknown phase {other:?}"),
    };
    // The peak since the last reset: for phases that open a ledger, the peak of the phase itself.
    v["vmhwm_kib"] = json!(vmhwm_kib());
    Ok(v)
}

/// Bulk import: a new ledger, `append_batch` of 1,000 commands at a time, each batch one durable write.
/// Signed, each record carries its actor's signature (the keys are made in the ledger's `keys/`, as
/// `init` and `actor add` make them); unsigned, no actor gets a key and the records are format 1, as
/// version 1 wrote them.
fn import(paths: &Paths, events: u64, signed: bool) -> Result<Value> {
    let dir = paths.ledger_of(signed);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    let clock = ManualClock::default();
    let mut ledger = Ledger::with_store(SledStore::open(&dir, true)?, Box::new(clock.clone()))?;
    if !signed {
        ledger.keyring_mut().make_no_keys();
    }
    let mut work = Workload::new(SEED, "", true);
    let mut spent = Duration::ZERO;
    let mut cpu = 0.0;
    let mut done = 0u64;
    let mut failures = Vec::new();
    while done < events {
        let n = BATCH.min((events - done) as usize);
        let batch: Vec<_> = work.by_ref().take(n).collect();
        clock.set(Timestamp(T0 + done as i64 * STEP));
        loop {
            let attempt = batch.clone();
            let t = Span::start();
            let result = ledger.append_batch(attempt);
            let (w, c) = t.stop();
            spent += w;
            cpu += c;
            match result {
                Ok(_) => break,
                Err(e) => {
                    // A failed append acknowledged nothing; reopen and see whether the batch is in.
                    failures.push(format!("batch at {done}: {e}"));
                    if failures.len() > 10 {
                        bail!("bulk append keeps failing: {failures:?}");
                    }
                    ledger = reopen(&dir, &clock, ledger)?;
                    if !signed {
                        ledger.keyring_mut().make_no_keys();
                    }
                    if ledger.head().map_or(0, |h| h.seq.0 + 1) == done + n as u64 {
                        break;
                    }
                }
            }
        }
        done += n as u64;
    }
    let t = Span::start();
    ledger.close()?;
    let (w, c) = t.stop();
    spent += w;
    cpu += c;
    Ok(json!({
        "events": done,
        "secs": spent.as_secs_f64(),
        "events_per_s": rate(done, spent),
        "events_per_cpu_s": per_cpu(done, cpu),
        "disk_bytes": dir_bytes(&dir),
        "store_failures": failures,
    }))
}

/// Closes a ledger whose append failed and opens it again, as an operator would.
fn reopen(dir: &Path, clock: &ManualClock, ledger: Ledger) -> Result<Ledger> {
    drop(ledger);
    let mut l = Ledger::open(dir).context("reopening after a failed append")?;
    l.set_clock(Box::new(clock.clone()));
    Ok(l)
}

/// Writes the log's record bytes (length-prefixed) and a JSON-lines copy of its events for the peers,
/// and notes an item id and the middle of the log's time span.
fn export(paths: &Paths) -> Result<Value> {
    let ledger = open_ledger(paths)?;
    let utc = ledger.registry().utc_offset();
    let mut records = BufWriter::new(File::create(paths.records())?);
    let mut events = BufWriter::new(File::create(paths.events())?);
    let mut first_time = None;
    let mut last_time = 0;
    let mut item = None;
    let mut n = 0u64;
    let mut err = None;
    ledger.store().scan(Seq(0), &mut |_, bytes| {
        let step = (|| -> Result<()> {
            records.write_all(&(bytes.len() as u32).to_le_bytes())?;
            records.write_all(bytes)?;
            let rec = Record::decode(bytes)?;
            let view = commitment_ledger::export::RecordJson::new(&rec, hash_record_bytes(bytes), utc, None);
            serde_json::to_writer(&mut events, &view)?;
            events.write_all(b"\n")?;
            first_time.get_or_insert(rec.time.0);
            last_time = rec.time.0;
            if let (None, commitment_ledger::Event::CommitmentRecorded(e)) = (&item, &rec.event) {
                item = Some(e.id.to_string());
            }
            Ok(())
        })();
        n += 1;
        match step {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                err = Some(e);
                ControlFlow::Break(())
            }
        }
    })?;
    if let Some(e) = err {
        return Err(e);
    }
    records.flush()?;
    events.flush()?;
    let mid = first_time.unwrap_or(0) + (last_time - first_time.unwrap_or(0)) / 2;
    let meta = json!({ "events": n, "item": item, "mid_time": mid });
    std::fs::write(paths.meta(), meta.to_string())?;
    Ok(meta)
}

fn read_meta(paths: &Paths) -> Result<Value> {
    Ok(serde_json::from_str(&std::fs::read_to_string(paths.meta())?)?)
}

/// Reads the exported record bytes.
fn read_records(paths: &Paths) -> Result<Vec<Vec<u8>>> {
    read_records_upto(paths, usize::MAX)
}

/// Reads the first `n` exported records.
fn read_records_upto(paths: &Paths, n: usize) -> Result<Vec<Vec<u8>>> {
    let mut r = BufReader::new(File::open(paths.records())?);
    let mut out = Vec::new();
    let mut len = [0u8; 4];
    while out.len() < n {
        match r.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e.into()),
        }
        let mut buf = vec![0; u32::from_le_bytes(len) as usize];
        r.read_exact(&mut buf)?;
        out.push(buf);
    }
    Ok(out)
}

/// sled configured as the ledger's store configures it.
fn raw_sled(dir: &Path) -> Result<sled::Db> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    Ok(sled::Config::new()
        .path(dir)
        .mode(sled::Mode::HighThroughput)
        .cache_capacity(256 * 1024 * 1024)
        .flush_every_ms(None)
        .open()?)
}

/// The limits on the same record bytes: BLAKE3 alone, decoding alone, raw sled inserts (bulk with one
/// flush at the end; 1,000 per batch with a flush per batch, with and without an fdatasync after it).
fn limits(paths: &Paths) -> Result<Value> {
    let records = read_records(paths)?;
    let n = records.len() as u64;
    let bytes: u64 = records.iter().map(|r| r.len() as u64).sum();

    let t = Span::start();
    let mut acc = 0u8;
    for r in &records {
        acc ^= hash_record_bytes(r).0[0];
    }
    let (blake3, blake3_cpu) = t.stop();
    std::hint::black_box(acc);

    let t = Span::start();
    for r in &records {
        std::hint::black_box(Record::decode(r)?);
    }
    let (decode, decode_cpu) = t.stop();

    let db = raw_sled(&paths.raw_bulk())?;
    let tree = db.open_tree("log")?;
    let t = Span::start();
    for (seq, r) in records.iter().enumerate() {
        tree.insert((seq as u64).to_be_bytes(), r.as_slice())?;
    }
    db.flush()?;
    let (bulk, bulk_cpu) = t.stop();
    drop(tree);
    drop(db);
    let raw_bytes = dir_bytes(&paths.raw_bulk());

    let batch = |fsync: bool| -> Result<(Duration, f64)> {
        let dir = paths.raw_batch();
        let db = raw_sled(&dir)?;
        let tree = db.open_tree("log")?;
        let data = File::open(dir.join("db"))?;
        let t = Span::start();
        for (i, chunk) in records.chunks(BATCH).enumerate() {
            let mut b = sled::Batch::default();
            for (j, r) in chunk.iter().enumerate() {
                b.insert(&((i * BATCH + j) as u64).to_be_bytes(), r.as_slice());
            }
            tree.apply_batch(b)?;
            db.flush()?;
            if fsync {
                data.sync_data()?;
            }
        }
        let d = t.stop();
        drop(tree);
        drop(db);
        std::fs::remove_dir_all(&dir)?;
        Ok(d)
    };
    let (batched, batched_cpu) = batch(false)?;
    let (batched_fsync, _) = batch(true)?;

    Ok(json!({
        "events": n,
        "record_bytes_mean": bytes as f64 / n.max(1) as f64,
        "blake3_events_per_s": rate(n, blake3),
        "blake3_events_per_cpu_s": per_cpu(n, blake3_cpu),
        "decode_events_per_cpu_s": per_cpu(n, decode_cpu),
        "sled_bulk_events_per_cpu_s": per_cpu(n, bulk_cpu),
        "sled_batch_events_per_cpu_s": per_cpu(n, batched_cpu),
        "blake3_mib_per_s": bytes as f64 / 1048576.0 / blake3.as_secs_f64().max(1e-9),
        "decode_events_per_s": rate(n, decode),
        "sled_bulk_events_per_s": rate(n, bulk),
        "sled_batch_events_per_s": rate(n, batched),
        "sled_batch_fsync_events_per_s": rate(n, batched_fsync),
        "sled_disk_bytes": raw_bytes,
    }))
}

/// Signatures the limits are measured on, at most.
const LIMIT_SIGNATURES: usize = 65_536;
/// Of which one at a time with `verify_strict`.
const LIMIT_STRICT: usize = 4_096;

/// The cost of the signatures alone, on the first records of the run: their statements (rebuilt from
/// their bytes as `verify` rebuilds them, with a second decode), signed again with one key, then
/// checked one at a time with `verify_strict` and as `verify` checks them (`keys::verify_many`, batches
/// of 1,024) on one thread and on one thread per core. A separate phase, so that it can run beside
/// `verify` while the machine's load is what it was then.
fn signature_limits(paths: &Paths) -> Result<Value> {
    use commitment_ledger::keys;
    let records = read_records_upto(paths, LIMIT_SIGNATURES)?;
    let origin = records.first().and_then(|r| commitment_ledger::record_origin(r)).context("no record 0")?;
    let t = Instant::now();
    let statements: Vec<Vec<u8>> =
        records.iter().filter_map(|r| commitment_ledger::stored_statement(r, &origin)).map(|(m, _)| m).collect();
    let statement = rate(records.len() as u64, t.elapsed());
    if statements.is_empty() {
        bail!("the records carry no signatures");
    }
    let key = keys::generate_signing_key();
    let verifying = key.verifying_key();
    let items: Vec<_> =
        statements.iter().map(|m| (verifying, m.as_slice(), ed25519_dalek::Signer::sign(&key, m))).collect();
    let n = items.len() as u64;
    let strict_n = items.len().min(LIMIT_STRICT);
    let t = Instant::now();
    let strict_ok = items[..strict_n].iter().all(|(k, m, sig)| keys::verify_strict(k, m, sig));
    let strict = rate(strict_n as u64, t.elapsed());
    let t = Instant::now();
    let one_ok = keys::verify_many_with_threads(&items, 1).into_iter().all(|ok| ok);
    let batch_one = rate(n, t.elapsed());
    // ed25519-dalek's batch equation alone (cofactorless, no checks of R, s or the keys' torsion).
    let t = Instant::now();
    let mut dalek_ok = true;
    for chunk in items.chunks(keys::BATCH_SIZE) {
        let messages: Vec<&[u8]> = chunk.iter().map(|i| i.1).collect();
        let signatures: Vec<_> = chunk.iter().map(|i| i.2).collect();
        let verifying: Vec<_> = chunk.iter().map(|i| i.0).collect();
        dalek_ok &= ed25519_dalek::verify_batch(&messages, &signatures, &verifying).is_ok();
    }
    let dalek_batch = rate(n, t.elapsed());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let t = Span::start();
    let all_ok = keys::verify_many_with_threads(&items, threads).into_iter().all(|ok| ok);
    let (d, cpu) = t.stop();
    if !(strict_ok && one_ok && all_ok && dalek_ok) {
        bail!("a signature made here did not verify");
    }
    Ok(json!({
        "signatures": n,
        "strict_signatures": strict_n,
        "strict_per_s": strict,
        "batch_1_per_s": batch_one,
        "dalek_batch_per_s": dalek_batch,
        "batch_all_per_s": rate(n, d),
        "batch_all_cores_used": cpu / d.as_secs_f64().max(1e-9),
        "statement_per_s": statement,
    }))
}

/// sled iteration plus one BLAKE3 per record, over the raw sled copy, in a fresh process (as verify).
fn scan(paths: &Paths) -> Result<Value> {
    let db = sled::Config::new()
        .path(paths.raw_bulk())
        .mode(sled::Mode::HighThroughput)
        .cache_capacity(256 * 1024 * 1024)
        .flush_every_ms(None)
        .open()?;
    let tree = db.open_tree("log")?;
    let t = Span::start();
    let mut n = 0u64;
    let mut acc = 0u8;
    for entry in tree.iter() {
        let (_, v) = entry?;
        acc ^= hash_record_bytes(&v).0[0];
        n += 1;
    }
    let (d, cpu) = t.stop();
    std::hint::black_box(acc);
    let t = Instant::now();
    let mut m = 0u64;
    for entry in tree.iter() {
        std::hint::black_box(entry?);
        m += 1;
    }
    let iter_only = t.elapsed();
    Ok(json!({
        "events": n,
        "sled_iter_blake3_events_per_s": rate(n, d),
        "sled_iter_blake3_events_per_cpu_s": per_cpu(n, cpu),
        "sled_iter_events_per_s": rate(m, iter_only),
    }))
}

/// Whether a verification saw the records the variant should have: every one signed, or none.
fn check_signed(what: &str, signed: bool, records: u64, signed_records: u64, unsigned_records: u64) -> Result<()> {
    let expected = if signed { (records, 0) } else { (0, records) };
    if (signed_records, unsigned_records) != expected {
        bail!(
            "{what}: {signed_records} signed and {unsigned_records} unsigned of {records} records; expected {}",
            if signed { "all signed" } else { "none signed" }
        );
    }
    Ok(())
}

/// `Ledger::verify` of the signed ledger (signatures checked in batches on threads of their own, one
/// per core) or of the unsigned one.
fn verify(paths: &Paths, signed: bool) -> Result<Value> {
    let mut v = json!({});
    let ledger = open_measured_dir(&paths.ledger_of(signed), &mut v)?;
    let t = Span::start();
    let report = ledger.verify(&mut |_| {})?;
    let (d, cpu) = t.stop();
    if !report.ok {
        bail!("verify failed: {:?}", report.problem);
    }
    check_signed("verify", signed, report.records, report.signed, report.unsigned)?;
    merge(
        v,
        json!({
            "events": report.records,
            "signed": report.signed,
            "secs": d.as_secs_f64(),
            "cpu_secs": cpu,
            "cores_used": cpu / d.as_secs_f64().max(1e-9),
            "events_per_s": rate(report.records, d),
            "events_per_cpu_s": per_cpu(report.records, cpu),
        }),
    )
}

/// `commitments export` and then `commitments verify --bundle` of what it wrote, through the library,
/// and `commitments restore` of it; of the signed ledger or of the unsigned one.
fn bundle(paths: &Paths, signed: bool) -> Result<Value> {
    let mut v = json!({});
    let ledger = open_measured_dir(&paths.ledger_of(signed), &mut v)?;
    let file = paths.bundle_of(signed);
    let t = Span::start();
    let mut out = BufWriter::with_capacity(1 << 20, File::create(&file)?);
    let n = commitment_ledger::export::export(&ledger, &mut out, &mut |_| {})?;
    drop(out);
    let (export_d, _) = t.stop();
    drop(ledger);
    reset_peak();
    let t = Span::start();
    let mut input = BufReader::with_capacity(1 << 20, File::open(&file)?);
    let report = commitment_ledger::verify_bundle(&mut input, None, &mut |_| {})?;
    let (verify_d, verify_cpu) = t.stop();
    if !report.ok || report.records != n {
        bail!("verify --bundle failed after {} of {n} records: {:?}", report.records, report.problem);
    }
    check_signed("verify --bundle", signed, report.records, report.signed, report.unsigned)?;
    let verify_peak_kib = vmhwm_kib();
    reset_peak();
    // `restore`: the bundle, verified again, written durably into a new ledger (and its projection).
    let restored = paths.root.join(if signed { "restored-ledger" } else { "restored-ledger-unsigned" });
    if restored.exists() {
        std::fs::remove_dir_all(&restored)?;
    }
    let t = Span::start();
    let mut input = BufReader::with_capacity(1 << 20, File::open(&file)?);
    let report = commitment_ledger::export::restore(&mut input, &restored, &mut |_| {})?;
    let (restore_d, _) = t.stop();
    if !report.ok || report.records != n {
        bail!("restore failed after {} of {n} records: {:?}", report.records, report.problem);
    }
    std::fs::remove_dir_all(&restored)?;
    let bytes = std::fs::metadata(&file)?.len();
    std::fs::remove_file(&file)?;
    merge(
        v,
        json!({
            "events": n,
            "bundle_bytes": bytes,
            "export_events_per_s": rate(n, export_d),
            "verify_events_per_s": rate(n, verify_d),
            "verify_events_per_cpu_s": per_cpu(n, verify_cpu),
            "verify_cores_used": verify_cpu / verify_d.as_secs_f64().max(1e-9),
            "restore_events_per_s": rate(n, restore_d),
            "verify_peak_kib": verify_peak_kib,
        }),
    )
}

/// `commitments import` of one document of `n` commitments into a new ledger: read the file, parse,
/// check it against the schema, plan, append one durable batch, close.
fn import_doc(paths: &Paths, n: u64) -> Result<Value> {
    let file = paths.root.join("document.toml");
    std::fs::write(&file, crate::workload::document(SEED, n as usize))?;
    let dir = paths.root.join("document-ledger");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    let admin = ActorId::new(crate::workload::ADMIN)?;
    let opened = OpenLedger {
        title: "导入基准 import benchmark".into(),
        origin: "bench.example/import".into(),
        utc_offset_minutes: 480,
        admin: admin.clone(),
        admin_name: "台账管理员".into(),
        vocabulary: Vocabulary::default_v1(),
        admin_key: None,
    };
    let (mut ledger, _) = Ledger::create(&dir, opened, RegisterArea::seed())?;
    let t = Span::start();
    let text = std::fs::read_to_string(&file)?;
    let doc = commitment_ledger::import::parse(&text)?;
    let outcome = commitment_ledger::import::import(&mut ledger, &admin, &doc)?;
    ledger.close()?;
    let (d, _) = t.stop();
    let commitment_ledger::import::Outcome::Appended { .. } = outcome else { bail!("the document was not imported") };
    std::fs::remove_dir_all(&dir)?;
    std::fs::remove_file(&file)?;
    Ok(json!({ "ms": d.as_secs_f64() * 1e3 }))
}

fn head_seq(ledger: &Ledger) -> Result<Seq> {
    ledger.head().map(|h| h.seq).context("the ledger is empty")
}

/// `replay(Until::Seq(head))`: the state as of the last record, folded from record 0.
fn replay(paths: &Paths) -> Result<Value> {
    let mut v = json!({});
    let ledger = open_measured(paths, &mut v)?;
    let head = head_seq(&ledger)?;
    let t = Span::start();
    let replayed = ledger.replay(Until::Seq(head))?;
    let (d, cpu) = t.stop();
    let t = Instant::now();
    drop(replayed);
    let discard = t.elapsed();
    let n = head.0 + 1;
    merge(
        v,
        json!({
            "events": n,
            "secs": d.as_secs_f64(),
            "events_per_s": rate(n, d),
            "events_per_cpu_s": per_cpu(n, cpu),
            "discard_ms": discard.as_secs_f64() * 1e3,
        }),
    )
}

/// `replay(Until::Time(..))` to the middle of the log's time span, then one item read from it.
fn as_of(paths: &Paths) -> Result<Value> {
    let meta = read_meta(paths)?;
    let mid = meta["mid_time"].as_i64().context("meta: mid_time")?;
    let item: ItemId = meta["item"].as_str().context("meta: item")?.parse()?;
    let mut v = json!({});
    let ledger = open_measured(paths, &mut v)?;
    let t = Instant::now();
    let (replayed, mark) = ledger.replay_with_head(Until::Time(Timestamp(mid)))?;
    let found = replayed.get(&item).is_some();
    let d = t.elapsed();
    let n = mark.map_or(0, |m| m.seq.0 + 1);
    drop(replayed);
    if !found {
        bail!("item {item} is missing from the replay");
    }
    merge(v, json!({ "events": n, "secs": d.as_secs_f64(), "events_per_s": rate(n, d), "ms": d.as_secs_f64() * 1e3 }))
}

fn check(paths: &Paths) -> Result<Value> {
    let mut v = json!({});
    let mut ledger = open_measured(paths, &mut v)?;
    let n = head_seq(&ledger)?.0 + 1;
    let t = Instant::now();
    let diff = ledger.check_projection()?;
    let d = t.elapsed();
    if !diff.is_empty() {
        bail!("the projection differs from its replay: {:?}", &diff[..diff.len().min(3)]);
    }
    merge(v, json!({ "events": n, "secs": d.as_secs_f64(), "events_per_s": rate(n, d) }))
}

fn rebuild(paths: &Paths) -> Result<Value> {
    let mut v = json!({});
    let mut ledger = open_measured(paths, &mut v)?;
    let n = head_seq(&ledger)?.0 + 1;
    let t = Instant::now();
    ledger.rebuild_projection()?;
    ledger.close()?;
    let d = t.elapsed();
    merge(v, json!({ "events": n, "secs": d.as_secs_f64(), "events_per_s": rate(n, d) }))
}

/// `Ledger::open` and one `item(id)`, as `commitments show ID` does (without printing), in a process
/// that has not opened the ledger before (the OS page cache is warm).
fn open_show(paths: &Paths) -> Result<Value> {
    let meta = read_meta(paths)?;
    let item: ItemId = meta["item"].as_str().context("meta: item")?.parse()?;
    let t = Instant::now();
    let mut ledger = open_ledger(paths)?;
    let open = t.elapsed();
    let found = ledger.item(&item)?.is_some();
    let total = t.elapsed();
    if !found {
        bail!("item {item} is missing");
    }
    // The same again in this process, for comparison.
    drop(ledger);
    let t = Instant::now();
    let mut ledger = open_ledger(paths)?;
    ledger.item(&item)?;
    let again = t.elapsed();
    drop(ledger);
    // What `commitments show` does: a reader's open (shared lock, a private copy of sled's files).
    let t = Instant::now();
    let mut reader = Ledger::open_read(&paths.ledger())?;
    reader.item(&item)?;
    let read_show = t.elapsed();
    Ok(json!({
        "open_ms": open.as_secs_f64() * 1e3,
        "open_show_ms": total.as_secs_f64() * 1e3,
        "reopen_show_ms": again.as_secs_f64() * 1e3,
        "read_show_ms": read_show.as_secs_f64() * 1e3,
    }))
}

/// Inclusion proofs measured warm, after the first (cold) one, at pseudo-random records.
const WARM_PROOFS: usize = 100;

/// Milliseconds since `t`.
fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// The median of some milliseconds.
fn median_ms(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// On the signed ledger, opened (its open is noted, not counted): `commitments checkpoint` (sign the
/// whole tree with the ledger's key and keep the note, after checking the newest one kept), the
/// inclusion proof of one record against it as `commitments prove SEQ --checkpoint` makes it (checks
/// the checkpoint, reads the record and the stored hashes, checks the path, writes the JSON), a
/// consistency proof from a checkpoint of half the records, and `commitments check-proof` of the
/// inclusion proof (no ledger). Then the two commands with the opening they do counted in.
fn proof(paths: &Paths, rep: u64) -> Result<Value> {
    use commitment_ledger::{checkpoint as cp, proof, publish};
    let mut v = json!({});
    let dir = paths.ledger();
    let ledger = open_measured_dir(&dir, &mut v)?;
    let size = ledger.tree_size();
    if size < 2 {
        bail!("the ledger has {size} records");
    }
    let origin = publish::origin(&ledger)?;

    // The first checkpoint of the process (the ledger key is made by the first one of the run).
    let t = Instant::now();
    let published = publish::checkpoint(&ledger, &dir)?;
    let checkpoint_ms = ms_since(t);
    let t = Instant::now();
    publish::checkpoint(&ledger, &dir)?;
    let checkpoint_again_ms = ms_since(t);
    let note = published.text.as_bytes();
    let verifier = publish::ledger_verifier(&dir, &origin)?;

    // Records spread over the log, different in each run; the first is cold (not read before here).
    let mut rng = crate::workload::Rng::new(SEED ^ 0x9e37_79b9 ^ rep);
    let mut seqs: Vec<u64> = (0..=WARM_PROOFS).map(|_| rng.below(size)).collect();
    seqs[0] = size / 3 + rep;
    let mut inclusion = Vec::with_capacity(seqs.len());
    let mut document = String::new();
    let mut proof_hashes = 0;
    for &seq in &seqs {
        let t = Instant::now();
        let p = proof::prove_inclusion(&ledger, Seq(seq.min(size - 1)), note, &verifier)?;
        let json = p.to_json();
        inclusion.push(ms_since(t));
        if document.is_empty() {
            proof_hashes = p.hashes.len();
            document = json;
        }
    }
    let cold_ms = inclusion[0];
    let warm_ms = median_ms(inclusion[1..].to_vec());
    let max_ms = inclusion.iter().copied().fold(0.0, f64::max);

    // An older checkpoint, signed as `commitments checkpoint` signed it when the log had half its records.
    let old_size = size / 2;
    let signer = publish::ledger_signer(&dir, &origin)?;
    let old = cp::Checkpoint::new(&origin, old_size, ledger.tree_root(old_size)?)?;
    let old_note = cp::sign_checkpoint(&old, &signer)?;
    let t = Instant::now();
    let c = proof::prove_consistency(&ledger, old_note.as_bytes(), note, &verifier)?;
    let consistency_json = c.to_json();
    let consistency_ms = ms_since(t);

    // `check-proof`: the proof, the checkpoint and the verifier key, no ledger.
    let t = Instant::now();
    proof::check_proof(document.as_bytes(), note, &published.vkey)?;
    let check_ms = ms_since(t);
    proof::check_proof(consistency_json.as_bytes(), note, &published.vkey)?;
    let consistency_hashes = c.hashes.len();
    drop(ledger);

    // The commands as a user runs them, opening the ledger as they do (the OS page cache is warm):
    // `commitments checkpoint` opens it as its writer and closes it; `commitments prove` opens it to
    // read only (a private copy of sled's files).
    let t = Instant::now();
    let writer = open_dir(&dir)?;
    publish::checkpoint(&writer, &dir)?;
    writer.close()?;
    let command_checkpoint_ms = ms_since(t);
    let t = Instant::now();
    let reader = Ledger::open_read(&dir)?;
    let opened_ms = ms_since(t);
    let verifier = publish::ledger_verifier(&dir, &origin)?;
    let proved = proof::prove_inclusion(&reader, Seq(seqs[1].min(size - 1)), note, &verifier)?.to_json();
    let command_prove_ms = ms_since(t);
    std::hint::black_box(proved);
    merge(
        v,
        json!({
            "events": size,
            "checkpoint_ms": checkpoint_ms,
            "checkpoint_again_ms": checkpoint_again_ms,
            "inclusion_ms": cold_ms,
            "inclusion_warm_ms": warm_ms,
            "inclusion_max_ms": max_ms,
            "inclusion_hashes": proof_hashes,
            "inclusion_proof_bytes": document.len(),
            "consistency_ms": consistency_ms,
            "consistency_hashes": consistency_hashes,
            "check_proof_ms": check_ms,
            "command_checkpoint_ms": command_checkpoint_ms,
            "command_prove_ms": command_prove_ms,
            "command_prove_open_read_ms": opened_ms,
        }),
    )
}

/// Durable single appends (`append`, one durable write each) of a further workload, on the imported
/// ledger: signed with the actors' keys from its `keys/`, or unsigned.
fn append(paths: &Paths, count: u64, rep: u64, signed: bool) -> Result<Value> {
    let clock = ManualClock::default();
    let mut v = json!({});
    let dir = paths.ledger_of(signed);
    let mut ledger = open_measured_dir(&dir, &mut v)?;
    ledger.set_clock(Box::new(clock.clone()));
    let start = ledger.head().map_or(T0, |h| h.time.0);
    let commands: Vec<_> = Workload::new(SEED ^ (rep + 1), &format!("s{rep}-"), false).take(count as usize).collect();
    let mut lat = Vec::with_capacity(commands.len());
    let mut t_clock = start;
    let mut failures = Vec::new();
    for (actor, command) in commands {
        t_clock += 1_000_000;
        clock.set(Timestamp(t_clock));
        let before = ledger.head().map_or(0, |h| h.seq.0 + 1);
        loop {
            let t = Instant::now();
            let result = ledger.append(&actor, command.clone());
            lat.push(t.elapsed());
            match result {
                Ok(_) => break,
                Err(e) => {
                    failures.push(format!("append at {before}: {e}"));
                    if failures.len() > 10 {
                        bail!("appends keep failing: {failures:?}");
                    }
                    ledger = reopen(&dir, &clock, ledger)?;
                    if ledger.head().map_or(0, |h| h.seq.0 + 1) > before {
                        break;
                    }
                    lat.pop();
                }
            }
        }
    }
    let total: Duration = lat.iter().sum();
    lat.sort();
    let pct = |p: f64| lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)));
    let ms = |d: Option<&Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1e3);
    merge(
        v,
        json!({
            "events": count,
            "secs": total.as_secs_f64(),
            "events_per_s": rate(count, total),
            "p50_ms": ms(pct(0.5)),
            "p90_ms": ms(pct(0.9)),
            "p99_ms": ms(pct(0.99)),
            "max_ms": ms(lat.last()),
            "store_failures": failures,
        }),
    )
}

/// Adds the fields of `b` to `a`.
fn merge(mut a: Value, b: Value) -> Result<Value> {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    Ok(a)
}

/// Reads the first `n` lines of the exported events.
pub fn first_events(paths: &Paths, n: u64) -> Result<Vec<Value>> {
    let f = BufReader::new(File::open(paths.events())?);
    let mut out = Vec::new();
    for line in f.lines().take(n as usize) {
        out.push(serde_json::from_str(&line?)?);
    }
    Ok(out)
}
