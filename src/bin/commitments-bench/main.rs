//! `commitments-bench`: measures the ledger against the limits of its parts and against the tools a
//! team would use instead, on one generated workload, in one run.
//!
//! The ledger's phases run in child processes of this binary (a hidden `--phase NAME` mode) so that
//! each reports its own peak memory; every figure is the median of `--reps` runs. The run's ledger is
//! signed (every record carries its actor's Ed25519 signature, as `init` makes ledgers); the same
//! workload is also imported unsigned, as version 1 wrote it, and the signed and unsigned runs of a
//! phase alternate, so that the ratios between them hold on a shared machine. Peers (git, SQLite
//! with a hash-chained table, Python `eventsourcing`) are skipped with a message when absent.
//!
//! ```text
//! cargo run --release --features bench --bin commitments-bench -- --quick
//! cargo run --release --features bench --bin commitments-bench -- --sizes 10000,100000,1000000 --json bench.json
//! ```

mod peers;
mod phases;
mod report;
mod workload;

/// The allocator the `commitments` binary uses, so that the ledger is measured as it runs there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::{Context, Result, bail};
use clap::Parser;
use phases::Paths;
use report::Run;
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

/// Benchmarks the commitment ledger against sled, BLAKE3, git, SQLite and Python eventsourcing.
#[derive(Parser, Debug)]
#[command(name = "commitments-bench", version, about, long_about = None)]
struct Cli {
    /// Events in the workload.
    #[arg(long, default_value_t = 100_000)]
    events: u64,
    /// Several sizes in one run (comma-separated), e.g. 10000,100000,1000000; overrides --events.
    #[arg(long, value_delimiter = ',')]
    sizes: Vec<u64>,
    /// A smoke run: 10,000 events, peers scaled down; well under a minute.
    #[arg(long)]
    quick: bool,
    /// Also write one JSON object (figures, ratios, targets) to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Working directory (default: a new directory under the system's temporary directory).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Keep the working directory.
    #[arg(long)]
    keep: bool,
    /// Runs of each ledger and limit phase; the median is reported.
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Durable single appends per run.
    #[arg(long)]
    appends: Option<u64>,
    /// Events committed to git, one commit each (default 1,000; 200 with --quick).
    #[arg(long)]
    git_events: Option<u64>,
    /// Durable single inserts into SQLite and single saves with eventsourcing (default 1,000; 300 with --quick).
    #[arg(long)]
    peer_single: Option<u64>,
    /// Events for the eventsourcing batched append and replay (default: the run's size, at most 100,000).
    #[arg(long)]
    es_events: Option<u64>,
    /// Skip the peers.
    #[arg(long)]
    no_peers: bool,
    /// Install what the peers need (`python3 -m pip install eventsourcing`), say what is missing, and exit.
    #[arg(long)]
    setup: bool,
    /// Do not try to install missing peers on first use.
    #[arg(long)]
    no_install: bool,
    /// Print the medians of several earlier runs (their --json files) instead of measuring.
    #[arg(long, num_args = 1.., value_name = "JSON")]
    merge: Vec<PathBuf>,
    /// Internal: run one phase in this process and print its figures as JSON.
    #[arg(long, hide = true)]
    phase: Option<String>,
    /// Internal: a count for the phase.
    #[arg(long, hide = true, default_value_t = 0)]
    count: u64,
    /// Internal: which repetition this is.
    #[arg(long, hide = true, default_value_t = 0)]
    rep: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(phase) = &cli.phase {
        let Some(dir) = cli.dir.clone() else {
            eprintln!("--phase needs --dir");
            return ExitCode::from(2);
        };
        return match phases::run(phase, &Paths { root: dir }, cli.events, cli.count, cli.rep) {
            Ok(v) => {
                println!("{v}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("phase {phase}: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    if !cli.merge.is_empty() {
        return match merge(&cli) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("commitments-bench: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    if cli.setup {
        return if peers::setup(true) { ExitCode::SUCCESS } else { ExitCode::FAILURE };
    }
    match bench(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("commitments-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Medians over whole runs: reads their JSON files and prints one table.
fn merge(cli: &Cli) -> Result<()> {
    let files: Vec<Value> = cli
        .merge
        .iter()
        .map(|p| -> Result<Value> {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            Ok(serde_json::from_str(&text)?)
        })
        .collect::<Result<_>>()?;
    let per_size = |v: &Value| -> Vec<Value> {
        match v["sizes"].as_object() {
            Some(sizes) => sizes.values().cloned().collect(),
            None => vec![v.clone()],
        }
    };
    let mut sizes: Vec<u64> = files.iter().flat_map(per_size).filter_map(|r| r["events"].as_u64()).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let runs: Vec<Run> = sizes
        .iter()
        .map(|n| {
            let these: Vec<Value> =
                files.iter().flat_map(per_size).filter(|r| r["events"].as_u64() == Some(*n)).collect();
            Run::merged(&these)
        })
        .collect();
    let machine = files[0]["machine"].as_str().unwrap_or("unknown machine").to_string();
    let reps = files[0]["reps"].as_u64().unwrap_or(0) as usize;
    println!("Medians of {} whole runs.\n", files.len());
    print!("{}", report::markdown(&runs, &machine, reps));
    if let Some(path) = &cli.json {
        let mut v = runs.last().context("no run")?.json();
        v["machine"] = serde_json::json!(machine);
        v["merged_runs"] = serde_json::json!(files.len());
        v["sizes"] = runs.iter().map(|r| (r.events.to_string(), r.json())).collect::<serde_json::Map<_, _>>().into();
        std::fs::write(path, serde_json::to_string_pretty(&v)?)?;
    }
    Ok(())
}

/// Runs a phase in a child process.
fn child(paths: &Paths, phase: &str, events: u64, count: u64, rep: u64) -> Result<Value> {
    let exe = std::env::current_exe()?;
    let out = Command::new(exe)
        .args(["--phase", phase, "--dir"])
        .arg(&paths.root)
        .args(["--events", &events.to_string(), "--count", &count.to_string(), "--rep", &rep.to_string()])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()?;
    if !out.status.success() {
        bail!("phase {phase} failed ({})", out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().context("phase printed nothing")?;
    Ok(serde_json::from_str(line)?)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Runs a phase `reps` times; the median of each field.
fn phase(paths: &Paths, name: &str, events: u64, count: u64, reps: usize) -> Result<Value> {
    eprintln!("  {name} ×{reps}");
    let runs: Vec<Value> = (0..reps).map(|r| child(paths, name, events, count, r as u64)).collect::<Result<_>>()?;
    Ok(medians(runs))
}

/// Runs two phases `reps` times each, alternating (a, b, a, b, …), so that a change in the machine's
/// load during the runs falls on both sides of their ratio; the median of each field of each.
fn pair(paths: &Paths, a: &str, b: &str, events: u64, count: u64, reps: usize) -> Result<(Value, Value)> {
    eprintln!("  {a} / {b} ×{reps}, alternating");
    let (mut ra, mut rb) = (Vec::new(), Vec::new());
    for r in 0..reps as u64 {
        ra.push(child(paths, a, events, count, r)?);
        rb.push(child(paths, b, events, count, r)?);
    }
    Ok((medians(ra), medians(rb)))
}

/// The last run, with the median of each numeric field over the runs, and every run's store failures.
fn medians(runs: Vec<Value>) -> Value {
    let mut out = runs.last().cloned().unwrap_or_default();
    let failures: Vec<Value> = runs.iter().filter_map(|r| r["store_failures"].as_array()).flatten().cloned().collect();
    out["store_failures"] = Value::Array(failures);
    if let Some(obj) = out.as_object_mut() {
        for (k, v) in obj.iter_mut() {
            let xs: Vec<f64> = runs.iter().filter_map(|r| r[k].as_f64()).collect();
            if xs.len() == runs.len() && v.is_number() {
                *v = serde_json::json!(median(xs));
            }
        }
    }
    out
}

fn f(v: &Value, k: &str) -> Result<f64> {
    v[k].as_f64().with_context(|| format!("missing figure {k} in {v}"))
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu =
        cpuinfo.lines().find_map(|l| l.strip_prefix("model name")).map(|l| l.trim_start_matches([' ', '\t', ':']));
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split_whitespace().next().unwrap_or("?");
    format!("{cores} cores ({}), load average {load} at start", cpu.unwrap_or("unknown CPU"))
}

fn bench(cli: &Cli) -> Result<()> {
    let sizes = if cli.quick {
        vec![10_000]
    } else if cli.sizes.is_empty() {
        vec![cli.events]
    } else {
        cli.sizes.clone()
    };
    if sizes.iter().any(|&n| n < 2_000) {
        bail!("use at least 2,000 events");
    }
    let machine = machine();
    let root = match &cli.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("commitments-bench-{}", std::process::id())),
    };
    std::fs::create_dir_all(&root)?;
    let peers_ok = if cli.no_peers {
        eprintln!("peers: skipped (--no-peers)");
        (false, false, false)
    } else {
        peers::setup(!cli.no_install);
        (peers::have_git(), peers::have_python(), peers::have_python() && peers::have_eventsourcing())
    };
    let mut runs = Vec::new();
    for &events in &sizes {
        let paths = Paths { root: root.join(events.to_string()) };
        std::fs::create_dir_all(&paths.root)?;
        eprintln!("{events} events in {}", paths.root.display());
        let run = one_size(cli, &paths, events, peers_ok)?;
        if sizes.len() > 1 {
            // Each size as soon as it is done, in case a later one fails.
            eprint!("{}", report::markdown(std::slice::from_ref(&run), &machine, cli.reps));
        }
        runs.push(run);
        if !cli.keep {
            std::fs::remove_dir_all(&paths.root).ok();
        }
    }
    if !cli.keep {
        std::fs::remove_dir_all(&root).ok();
    }
    print!("{}", report::markdown(&runs, &machine, cli.reps));
    if let Some(path) = &cli.json {
        let last = runs.last().context("no run")?;
        let mut v = last.json();
        v["machine"] = serde_json::json!(machine);
        v["reps"] = serde_json::json!(cli.reps);
        if runs.len() > 1 {
            v["sizes"] =
                runs.iter().map(|r| (r.events.to_string(), r.json())).collect::<serde_json::Map<_, _>>().into();
        }
        std::fs::write(path, serde_json::to_string_pretty(&v)?)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Commitments in the document of the import-document phase (the issue's "10,000 commitments < 1 s").
const IMPORT_DOCUMENT_COMMITMENTS: u64 = 10_000;

fn one_size(cli: &Cli, paths: &Paths, events: u64, (git, python, es): (bool, bool, bool)) -> Result<Run> {
    let reps = cli.reps.max(1);
    let quick = cli.quick;
    let mut run = Run { events, ..Run::default() };
    let mut rss = Vec::new();

    // The run's ledger is signed (as `init` makes every ledger now); the same workload is imported
    // unsigned too (as version 1 wrote it), the baseline of the signed-versus-unsigned ratios.
    let (import, import_unsigned) = pair(paths, "import", "import-unsigned", events, 0, reps)?;
    let disk = f(&import, "disk_bytes")?;
    rss.push(("import process (whole)", f(&import, "vmhwm_kib")?));
    let exported = phase(paths, "export", events, 0, 1)?;
    let n = f(&exported, "events")? as u64;
    let limits = phase(paths, "limits", events, 0, reps)?;
    let scan = phase(paths, "scan", events, 0, reps)?;
    let (verify, verify_unsigned) = pair(paths, "verify", "verify-unsigned", events, 0, reps)?;
    let sig = phase(paths, "sig-limit", events, 0, reps)?;
    let (bundle, bundle_unsigned) = pair(paths, "bundle", "bundle-unsigned", events, 0, reps)?;
    let document = phase(paths, "import-doc", events, IMPORT_DOCUMENT_COMMITMENTS, reps)?;
    let replay = phase(paths, "replay", events, 0, reps)?;
    let as_of = phase(paths, "as-of", events, 0, reps)?;
    let check = phase(paths, "check", events, 0, reps)?;
    let rebuild = phase(paths, "rebuild", events, 0, reps)?;
    let open = phase(paths, "open", events, 0, reps)?;
    let proof = phase(paths, "proof", events, 0, reps)?;
    let appends = cli.appends.unwrap_or(if quick { 300 } else { 1000 });
    let (append, append_unsigned) = pair(paths, "append", "append-unsigned", events, appends, reps)?;
    for (name, v) in [
        ("bulk import", &import),
        ("bulk import (unsigned)", &import_unsigned),
        ("single appends", &append),
        ("single appends (unsigned)", &append_unsigned),
    ] {
        if let Some(fails) = v["store_failures"].as_array().filter(|a| !a.is_empty()) {
            run.notes.push(format!(
                "{name}: {} append(s) failed in the store and were retried after reopening the ledger; first: {}",
                fails.len(),
                fails[0]
            ));
        }
    }
    run.notes.push(
        "the run's ledger is signed (every record carries its actor's Ed25519 signature, format 2); \
         \"unsigned\" is the same workload imported with no actor keys (format 1, as version 1 wrote it); \
         signed and unsigned runs alternate; the targets of the earlier issues are taken on the unsigned \
         figures, the ratios *_signed_vs_unsigned tie the signed ones to them"
            .to_string(),
    );
    rss.push(("opening the ledger (peak)", f(&verify, "open_peak_kib")?));
    rss.push(("after opening the ledger (resident)", f(&verify, "rss_after_open_kib")?));
    for (name, v) in [
        ("verify", &verify),
        ("replay", &replay),
        ("as-of", &as_of),
        ("check_projection", &check),
        ("rebuild", &rebuild),
        ("single appends", &append),
    ] {
        let label: &'static str = Box::leak(format!("{name}, peak while running (after open)").into_boxed_str());
        rss.push((label, f(v, "vmhwm_kib")?));
    }
    rss.push(("bundle verification, peak while running (no sled)", f(&bundle, "verify_peak_kib")?));
    rss.push(("open + show process (whole)", f(&open, "vmhwm_kib")?));
    rss.push(("sled iteration + BLAKE3 process (whole)", f(&scan, "vmhwm_kib")?));

    run.add(
        "limit_blake3",
        "limit: BLAKE3 alone (derive_key, in memory)",
        "events/s",
        f(&limits, "blake3_events_per_s")?,
        n,
    );
    run.add(
        "limit_decode",
        "limit: record decode alone (in memory)",
        "events/s",
        f(&limits, "decode_events_per_s")?,
        n,
    );
    run.add(
        "limit_sled_bulk",
        "limit: raw sled inserts, bulk, one flush",
        "events/s",
        f(&limits, "sled_bulk_events_per_s")?,
        n,
    );
    run.add(
        "limit_sled_batch",
        "limit: raw sled batches of 1,000, flush each",
        "events/s",
        f(&limits, "sled_batch_events_per_s")?,
        n,
    );
    run.add(
        "limit_sled_batch_fsync",
        "limit: raw sled batches of 1,000, flush + fdatasync each",
        "events/s",
        f(&limits, "sled_batch_fsync_events_per_s")?,
        n,
    );
    run.add(
        "limit_blake3_cpu",
        "limit: BLAKE3 alone, per CPU-second",
        "events/cpu-s",
        f(&limits, "blake3_events_per_cpu_s")?,
        n,
    );
    run.add(
        "limit_sled_batch_cpu",
        "limit: raw sled batches of 1,000, flush each, per CPU-second",
        "events/cpu-s",
        f(&limits, "sled_batch_events_per_cpu_s")?,
        n,
    );
    run.add(
        "limit_sled_iter_blake3_cpu",
        "limit: sled iteration + BLAKE3, per CPU-second",
        "events/cpu-s",
        f(&scan, "sled_iter_blake3_events_per_cpu_s")?,
        n,
    );
    let sigs = f(&sig, "signatures")? as u64;
    run.add(
        "limit_sig_strict",
        "limit: Ed25519 verify_strict, one at a time, one thread",
        "sigs/s",
        f(&sig, "strict_per_s")?,
        f(&sig, "strict_signatures")? as u64,
    );
    run.add(
        "limit_sig_batch_1",
        "limit: Ed25519 as verify checks them (keys::verify_many, batches of 1,024), one thread",
        "sigs/s",
        f(&sig, "batch_1_per_s")?,
        sigs,
    );
    run.add(
        "limit_sig_dalek_batch",
        "limit: ed25519_dalek::verify_batch alone (batches of 1,024, no strictness checks), one thread",
        "sigs/s",
        f(&sig, "dalek_batch_per_s")?,
        sigs,
    );
    run.add(
        "limit_sig_batch_all",
        "limit: Ed25519 as verify checks them, one thread per core",
        "sigs/s",
        f(&sig, "batch_all_per_s")?,
        sigs,
    );
    run.add(
        "limit_sig_batch_all_cores",
        "limit: the same, cores used (CPU-s ÷ wall-s)",
        "cores",
        f(&sig, "batch_all_cores_used")?,
        sigs,
    );
    run.add(
        "limit_statement",
        "limit: rebuilding the signed statement from a stored record, one thread",
        "events/s",
        f(&sig, "statement_per_s")?,
        sigs,
    );
    run.add("limit_sled_iter", "limit: sled iteration alone", "events/s", f(&scan, "sled_iter_events_per_s")?, n);
    run.add(
        "limit_sled_iter_blake3",
        "limit: sled iteration + one BLAKE3 per record",
        "events/s",
        f(&scan, "sled_iter_blake3_events_per_s")?,
        n,
    );
    run.add(
        "ledger_bulk_append",
        "ledger: bulk import, append_batch of 1,000 (durable each), signed",
        "events/s",
        f(&import, "events_per_s")?,
        n,
    );
    run.add(
        "ledger_bulk_append_unsigned",
        "ledger: bulk import, append_batch of 1,000 (durable each), unsigned (as version 1)",
        "events/s",
        f(&import_unsigned, "events_per_s")?,
        n,
    );
    run.add(
        "ledger_bulk_append_cpu",
        "ledger: bulk import, signed, per CPU-second",
        "events/cpu-s",
        f(&import, "events_per_cpu_s")?,
        n,
    );
    run.add(
        "ledger_bulk_append_unsigned_cpu",
        "ledger: bulk import, unsigned, per CPU-second",
        "events/cpu-s",
        f(&import_unsigned, "events_per_cpu_s")?,
        n,
    );
    run.add("ledger_append", "ledger: durable single append, signed", "events/s", f(&append, "events_per_s")?, appends);
    run.add(
        "ledger_append_unsigned",
        "ledger: durable single append, unsigned",
        "events/s",
        f(&append_unsigned, "events_per_s")?,
        appends,
    );
    run.add(
        "ledger_append_p50_ms",
        "ledger: durable single append, median latency",
        "ms",
        f(&append, "p50_ms")?,
        appends,
    );
    run.add("ledger_append_p90_ms", "ledger: durable single append, p90 latency", "ms", f(&append, "p90_ms")?, appends);
    run.add("ledger_append_p99_ms", "ledger: durable single append, p99 latency", "ms", f(&append, "p99_ms")?, appends);
    run.add(
        "ledger_append_unsigned_p50_ms",
        "ledger: durable single append, unsigned, median latency",
        "ms",
        f(&append_unsigned, "p50_ms")?,
        appends,
    );
    run.add("ledger_verify", "ledger: verify, signed records", "events/s", f(&verify, "events_per_s")?, n);
    run.add(
        "ledger_verify_unsigned",
        "ledger: verify, the same workload unsigned",
        "events/s",
        f(&verify_unsigned, "events_per_s")?,
        n,
    );
    run.add(
        "ledger_verify_cores",
        "ledger: verify, signed, cores used (CPU-s ÷ wall-s)",
        "cores",
        f(&verify, "cores_used")?,
        n,
    );
    run.add(
        "ledger_verify_unsigned_cores",
        "ledger: verify, unsigned, cores used (CPU-s ÷ wall-s)",
        "cores",
        f(&verify_unsigned, "cores_used")?,
        n,
    );
    run.add(
        "ledger_verify_cpu",
        "ledger: verify, signed, per CPU-second",
        "events/cpu-s",
        f(&verify, "events_per_cpu_s")?,
        n,
    );
    run.add(
        "ledger_verify_unsigned_cpu",
        "ledger: verify, unsigned, per CPU-second",
        "events/cpu-s",
        f(&verify_unsigned, "events_per_cpu_s")?,
        n,
    );
    run.add("ledger_export", "ledger: export (JSON lines bundle)", "events/s", f(&bundle, "export_events_per_s")?, n);
    run.add(
        "ledger_verify_bundle",
        "ledger: verify --bundle (no sled), signed",
        "events/s",
        f(&bundle, "verify_events_per_s")?,
        n,
    );
    run.add(
        "ledger_verify_bundle_unsigned",
        "ledger: verify --bundle (no sled), unsigned",
        "events/s",
        f(&bundle_unsigned, "verify_events_per_s")?,
        n,
    );
    run.add(
        "ledger_verify_bundle_cores",
        "ledger: verify --bundle, signed, cores used (CPU-s ÷ wall-s)",
        "cores",
        f(&bundle, "verify_cores_used")?,
        n,
    );
    run.add(
        "ledger_restore",
        "ledger: restore from the bundle (verify + durable batches + projection), signed",
        "events/s",
        f(&bundle, "restore_events_per_s")?,
        n,
    );
    run.add(
        "ledger_restore_unsigned",
        "ledger: restore from the bundle, unsigned",
        "events/s",
        f(&bundle_unsigned, "restore_events_per_s")?,
        n,
    );
    run.add(
        "ledger_bundle_bytes_per_event",
        "ledger: bundle bytes per event",
        "bytes",
        f(&bundle, "bundle_bytes")? / n as f64,
        n,
    );
    run.add(
        "ledger_import_document_ms",
        "ledger: import of one document (parse, schema, plan, one durable batch)",
        "ms",
        f(&document, "ms")?,
        IMPORT_DOCUMENT_COMMITMENTS,
    );
    run.add("ledger_replay", "ledger: replay(Until::Seq(head))", "events/s", f(&replay, "events_per_s")?, n);
    run.add("ledger_replay_cpu", "ledger: replay, per CPU-second", "events/cpu-s", f(&replay, "events_per_cpu_s")?, n);
    run.add("ledger_check_projection", "ledger: check_projection", "events/s", f(&check, "events_per_s")?, n);
    run.add("ledger_rebuild", "ledger: rebuild_projection (+ close)", "events/s", f(&rebuild, "events_per_s")?, n);
    run.add(
        "ledger_as_of",
        "ledger: --as-of, replay(Until::Time(middle)) + item",
        "events/s",
        f(&as_of, "events_per_s")?,
        f(&as_of, "events")? as u64,
    );
    run.add("ledger_as_of_ms", "ledger: --as-of, time", "ms", f(&as_of, "ms")?, f(&as_of, "events")? as u64);
    run.add("ledger_open_ms", "ledger: open (fresh process)", "ms", f(&open, "open_ms")?, n);
    run.add(
        "ledger_checkpoint_ms",
        "ledger: checkpoint (sign the tree, keep the note; first in the process)",
        "ms",
        f(&proof, "checkpoint_ms")?,
        n,
    );
    run.add(
        "ledger_inclusion_proof_ms",
        "ledger: inclusion proof against the checkpoint, with its JSON (first in the process)",
        "ms",
        f(&proof, "inclusion_ms")?,
        n,
    );
    run.add(
        "ledger_inclusion_proof_warm_ms",
        "ledger: inclusion proof, median of 100 more at random records",
        "ms",
        f(&proof, "inclusion_warm_ms")?,
        n,
    );
    run.add(
        "ledger_consistency_proof_ms",
        "ledger: consistency proof from a checkpoint of half the records, with its JSON",
        "ms",
        f(&proof, "consistency_ms")?,
        n,
    );
    run.add(
        "ledger_checkpoint_command_ms",
        "ledger: `commitments checkpoint` as run: open as writer + checkpoint + close",
        "ms",
        f(&proof, "command_checkpoint_ms")?,
        n,
    );
    run.add(
        "ledger_prove_command_ms",
        "ledger: `commitments prove` as run: open_read (private copy of sled's files) + proof",
        "ms",
        f(&proof, "command_prove_ms")?,
        n,
    );
    run.add(
        "ledger_check_proof_ms",
        "ledger: check-proof of the inclusion proof (no ledger)",
        "ms",
        f(&proof, "check_proof_ms")?,
        n,
    );
    run.add("ledger_open_show_ms", "ledger: open + item(id) (fresh process)", "ms", f(&open, "open_show_ms")?, n);
    run.add(
        "ledger_read_show_ms",
        "ledger: open_read + item(id), as `show` (private copy of sled's files)",
        "ms",
        f(&open, "read_show_ms")?,
        n,
    );
    run.add(
        "ledger_reopen_show_ms",
        "ledger: open + item(id) again in the same process",
        "ms",
        f(&open, "reopen_show_ms")?,
        n,
    );
    run.add(
        "ledger_disk_bytes_per_event",
        "ledger: disk bytes per event (directory / events)",
        "bytes",
        disk / n as f64,
        n,
    );
    run.add(
        "limit_sled_disk_bytes_per_event",
        "limit: raw sled directory bytes per event",
        "bytes",
        f(&limits, "sled_disk_bytes")? / n as f64,
        n,
    );
    run.add("record_bytes_mean", "record size, mean", "bytes", f(&limits, "record_bytes_mean")?, n);
    for (name, kib) in &rss {
        let slug: String = name
            .split([' ', ','])
            .next()
            .unwrap_or(name)
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { '_' })
            .collect();
        let key: &'static str = Box::leak(format!("peak_rss_{slug}_mib").into_boxed_str());
        let label: &'static str = Box::leak(format!("memory: {name}").into_boxed_str());
        run.add(key, label, "MiB", kib / 1024.0, n);
    }

    let single = cli.peer_single.unwrap_or(if quick { 300 } else { 1000 }).min(n);
    if git {
        let g = cli.git_events.unwrap_or(if quick { 200 } else { 1000 }).min(n);
        eprintln!("  git peer on {g} events");
        match peers::git_peer(paths, g) {
            Ok(v) => {
                run.add("git_append", "git: one commit per event", "events/s", f(&v, "append_events_per_s")?, g);
                run.add("git_fsck", "git: fsck --full (its verify)", "events/s", f(&v, "fsck_events_per_s")?, g);
                run.add("git_log", "git: log -p (its replay)", "events/s", f(&v, "log_events_per_s")?, g);
                run.add(
                    "git_disk_bytes_per_event",
                    "git: .git bytes per event",
                    "bytes",
                    f(&v, "disk_bytes")? / g as f64,
                    g,
                );
                run.notes.push(format!(
                    "git ({}) measured on the first {g} events (a commit per event is slow); default config (no fsync)",
                    v["version"].as_str().unwrap_or("?")
                ));
            }
            Err(e) => run.notes.push(format!("git peer failed: {e:#}")),
        }
    } else {
        run.notes.push(skipped(cli, "git peer skipped: git is not installed"));
    }
    if python {
        eprintln!("  SQLite peer on {n} events ({single} single)");
        match peers::sqlite_peer(paths, n, single) {
            Ok(v) => {
                let (b, s, ver) = (f(&v, "batch_events")?, f(&v, "single_events")?, f(&v, "verify_events")?);
                let rates: [(&'static str, &'static str, &'static str, f64, &str); 5] = [
                    (
                        "sqlite_single_insert",
                        "SQLite: durable single insert (synchronous=FULL)",
                        "events/s",
                        s,
                        "single_secs",
                    ),
                    ("sqlite_batch_insert", "SQLite: 1,000 inserts per transaction", "events/s", b, "batch_secs"),
                    (
                        "sqlite_batch_insert_cpu",
                        "SQLite: batched inserts, per CPU-second",
                        "events/cpu-s",
                        b,
                        "batch_cpu_secs",
                    ),
                    ("sqlite_verify", "SQLite: walk the chain recomputing hashes", "events/s", ver, "verify_secs"),
                    ("sqlite_verify_cpu", "SQLite: chain walk, per CPU-second", "events/cpu-s", ver, "verify_cpu_secs"),
                ];
                for (key, label, unit, events, secs) in rates {
                    run.add(key, label, unit, events / f(&v, secs)?, events as u64);
                }
                let per = f(&v, "batch_bytes")? / b;
                run.add("sqlite_disk_bytes_per_event", "SQLite: database bytes per event", "bytes", per, b as u64);
                run.notes.push(format!(
                    "SQLite {} via Python's sqlite3, WAL, synchronous=FULL, SHA-256 chain",
                    v["sqlite_version"].as_str().unwrap_or("?")
                ));
            }
            Err(e) => run.notes.push(format!("SQLite peer failed: {e:#}")),
        }
    } else {
        run.notes.push(skipped(cli, "SQLite peer skipped: python3 with sqlite3 is not installed"));
    }
    if es {
        let m = cli.es_events.unwrap_or(if quick { 10_000 } else { 100_000 }).min(n);
        eprintln!("  eventsourcing peer on {m} events ({single} single)");
        match peers::eventsourcing_peer(paths, m, single) {
            Ok(v) => {
                let (b, s, rep) = (f(&v, "batch_events")?, f(&v, "single_events")?, f(&v, "replay_events")?);
                let rates: [(&'static str, &'static str, &'static str, f64, &str); 5] = [
                    ("es_single_append", "eventsourcing: one save per event", "events/s", s, "single_secs"),
                    ("es_batch_append", "eventsourcing: one save per 1,000 events", "events/s", b, "batch_secs"),
                    (
                        "es_batch_append_cpu",
                        "eventsourcing: batched saves, per CPU-second",
                        "events/cpu-s",
                        b,
                        "batch_cpu_secs",
                    ),
                    ("es_replay", "eventsourcing: replay the notification log", "events/s", rep, "replay_secs"),
                    ("es_replay_cpu", "eventsourcing: replay, per CPU-second", "events/cpu-s", rep, "replay_cpu_secs"),
                ];
                for (key, label, unit, events, secs) in rates {
                    run.add(key, label, unit, events / f(&v, secs)?, events as u64);
                }
                let per = f(&v, "batch_bytes")? / b;
                run.add("es_disk_bytes_per_event", "eventsourcing: database bytes per event", "bytes", per, b as u64);
                run.notes.push(format!(
                    "eventsourcing {} on SQLite (journal mode {}), measured on {m} events; aggregates cached in memory",
                    v["eventsourcing_version"].as_str().unwrap_or("?"),
                    v["journal_mode"].as_str().unwrap_or("?")
                ));
            }
            Err(e) => run.notes.push(format!("eventsourcing peer failed: {e:#}")),
        }
    } else {
        run.notes.push(skipped(
            cli,
            &format!("eventsourcing peer skipped: the library is not installed ({})", peers::PIP_INSTALL),
        ));
    }
    Ok(run)
}

/// Why a peer was skipped: asked to, or missing.
fn skipped(cli: &Cli, missing: &str) -> String {
    if cli.no_peers {
        format!("{} (--no-peers)", missing.split(':').next().unwrap_or(missing))
    } else {
        missing.to_string()
    }
}
