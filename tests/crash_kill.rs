//! Guards durability across SIGKILL: a child process appends in a loop and prints every acknowledged
//! record; the parent kills it at a random moment, reopens the ledger and checks that every
//! acknowledged record is there with its hash, nothing half-written is visible, the ledger verifies,
//! the projection equals its replay, and appending resumes.
//!
//! The child is this test binary run again with a filter for the hidden `crash_child` test. Cycles:
//! `COMMITMENTS_CRASH_CYCLES` (default 100); seed: `COMMITMENTS_CRASH_SEED` (default: the time).

use commitment_ledger::{ActorId, AreaId, Command, Ledger, LedgerError, NewCommitment, Seq, SledStore, StoreError};
use commitment_ledger::{Kind, Role, Vocabulary};
#[allow(unused_imports)]
use commitment_ledger::{OpenLedger, RecordIndicator, RegisterActor};
use commitment_ledger::{TailDecision, Until};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

const CHILD_DIR: &str = "COMMITMENTS_CRASH_CHILD_DIR";
const CHILD_CYCLE: &str = "COMMITMENTS_CRASH_CHILD_CYCLE";

/// The tests here start processes and hold ledger locks. A process started by one test's thread holds
/// a copy of every descriptor open in this process until it execs, another test's lock included, so
/// they run one at a time (see `an_in_process_reopen_is_never_refused_while_another_thread_spawns`
/// in tests/faults.rs).
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn actor(s: &str) -> ActorId {
    ActorId::new(s).expect("valid")
}

fn item() -> commitment_ledger::ItemId {
    commitment_ledger::ItemId::new("0771-fin-bonds").expect("valid")
}

/// Opens a ledger. The store waits up to 0.5 s for a lock that a ledger this process just closed still
/// holds (sled's background threads); under load that can be short, so wait up to 5 s here. A killed
/// process's lock is gone at once.
fn try_open(dir: &Path) -> Result<Ledger<SledStore>, LedgerError> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match Ledger::open(dir) {
            Err(LedgerError::Store(StoreError::Locked(_))) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(2))
            }
            r => return r,
        }
    }
}

fn open(dir: &Path) -> Ledger<SledStore> {
    try_open(dir).expect("the ledger opens")
}

/// A ledger with an administrator, the finance office and one item led by it.
fn create(dir: &Path) {
    let mut l =
        Ledger::with_store(SledStore::open(dir, true).expect("opens"), Box::new(commitment_ledger::SystemClock))
            .expect("opens");
    let opened = OpenLedger {
        title: "crash test".into(),
        origin: "example.gov/crash".into(),
        utc_offset_minutes: 480,
        admin: actor("admin"),
        admin_name: "admin".into(),
        vocabulary: Vocabulary::default_v1(),
        admin_key: None,
    };
    let area = commitment_ledger::RegisterArea {
        id: AreaId::new("finance").expect("valid"),
        name: "金融".into(),
        name_en: None,
    };
    l.init(opened, vec![area]).expect("init");
    let fin = RegisterActor {
        id: actor("fin"),
        name: "市委金融办".into(),
        name_en: None,
        role: Role::Department,
        public_key: None,
    };
    l.append(&actor("admin"), Command::RegisterActor(fin)).expect("registers");
    let c = NewCommitment {
        id: item(),
        source: None,
        section: None,
        area: AreaId::new("finance").expect("valid"),
        lead: actor("fin"),
        partners: vec![],
        title: "Bonds".into(),
        title_en: None,
        text: "bonds listed in Macao".into(),
        kind: Kind::Ongoing,
        on: None,
        due: None,
    };
    l.append(&actor("admin"), Command::RecordCommitment(c)).expect("records");
    l.close().expect("closes");
}

fn progress(text: String) -> Command {
    Command::ReportProgress { item: item(), text, on: None, evidence: None }
}

/// The child: appends single records, batches and figures until killed, printing `ACK seq hash` for
/// each record once its append has returned; now and then closes and reopens the ledger.
#[test]
#[ignore = "the child process of the crash tests; does nothing unless they start it"]
fn crash_child() {
    let _serial = serial();
    let Some(dir) = std::env::var_os(CHILD_DIR) else { return };
    let cycle = std::env::var(CHILD_CYCLE).unwrap_or_default();
    let dir = Path::new(&dir);
    let fin = actor("fin");
    let mut ledger = open(dir);
    for n in 0u64.. {
        let text = format!("cycle {cycle} append {n}");
        let result = match n % 5 {
            0 | 1 => ledger.append(&fin, progress(text)).map(|a| vec![a]),
            2 => ledger.append_batch((0..3).map(|k| (fin.clone(), progress(format!("{text}.{k}")))).collect()),
            3 => ledger
                .append(
                    &fin,
                    Command::RecordIndicator(RecordIndicator {
                        item: item(),
                        name: "enterprises".into(),
                        value: n.to_string(),
                        unit: None,
                        approximate: false,
                        as_of: None,
                    }),
                )
                .map(|a| vec![a]),
            _ => {
                // A long text: records that span more of sled's pages.
                ledger.append(&fin, progress(format!("{text} {}", "长".repeat(3000)))).map(|a| vec![a])
            }
        };
        let appended = result.expect("the child's appends are legal");
        // One write per line, so that a kill cannot leave a complete-looking partial line.
        let mut out = String::new();
        for a in appended {
            out.push_str(&format!("ACK {} {}\n", a.seq.0, a.hash));
        }
        std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes()).expect("prints");
        if n % 40 == 39 {
            drop(ledger);
            ledger = open(dir);
        }
    }
}

/// A small xorshift generator; the seed is printed so that a failing run can be repeated.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn seed() -> u64 {
    let s = std::env::var("COMMITMENTS_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    });
    eprintln!("crash seed {s} (COMMITMENTS_CRASH_SEED={s} repeats it)");
    s | 1
}

/// Everything that must hold after a crash, given the acknowledged records (seq → hash).
fn check(dir: &Path, acked: &BTreeMap<u64, String>, context: &str) -> Ledger<SledStore> {
    let mut ledger = try_open(dir).unwrap_or_else(|e| {
        let keep = std::env::temp_dir().join(format!("crash-kill-failed-{}", std::process::id()));
        let _ = std::process::Command::new("cp").arg("-a").arg(dir).arg(&keep).status();
        let files: Vec<String> = std::fs::read_dir(dir)
            .map(|rd| rd.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        panic!(
            "{context}: the ledger does not open after a crash: {e}; files {files:?} (copy kept in {})",
            keep.display()
        )
    });
    assert_eq!(ledger.damage(), None, "{context}: the ledger opens damaged");
    for (seq, hash) in acked {
        let (_, h) = ledger
            .record(Seq(*seq))
            .unwrap_or_else(|e| panic!("{context}: record {seq} is unreadable: {e}"))
            .unwrap_or_else(|| panic!("{context}: acknowledged record {seq} is gone"));
        assert_eq!(&h.to_hex(), hash, "{context}: acknowledged record {seq} changed");
    }
    let report = ledger.verify(&mut |_| {}).expect("verifies");
    assert!(report.ok, "{context}: {report:?}");
    let head = ledger.head().expect("not empty");
    assert_eq!(report.records, head.seq.0 + 1, "{context}: {report:?}");
    assert!(acked.keys().next_back().is_none_or(|s| *s <= head.seq.0), "{context}: head before an acked record");
    assert_eq!(ledger.check_projection().expect("checks"), Vec::<String>::new(), "{context}");
    let mut live = Vec::new();
    ledger.for_each_item(&mut |i| live.push(i.clone())).expect("reads");
    let replayed: Vec<_> = ledger.replay(Until::Seq(head.seq)).expect("replays").items().cloned().collect();
    assert_eq!(live, replayed, "{context}: the projection differs from the replay");
    let history = ledger.history(&item()).expect("reads").expect("the item exists");
    assert_eq!(history.len() as u64, live[0].core.pos.next.0, "{context}: history length");
    ledger
}

/// Kills `cycles` children at random moments and checks the ledger after each.
fn crash_cycles(cycles: u64) {
    let mut rng = Rng(seed());
    let dir = tempfile::tempdir().expect("tempdir");
    create(dir.path());
    let exe = std::env::current_exe().expect("the test binary");
    let mut acked: BTreeMap<u64, String> = BTreeMap::new();
    let (mut killed_busy, mut appends, mut tails) = (0, 0, 0);
    let started = Instant::now();
    for cycle in 0..cycles {
        let mut child = Process::new(&exe)
            .args(["crash_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env(CHILD_DIR, dir.path())
            .env(CHILD_CYCLE, cycle.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawns the child");
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut line = String::new();
            while r.read_line(&mut line).unwrap_or(0) > 0 {
                // A line cut by the kill has no newline: it is not an acknowledgement.
                if line.ends_with('\n') && line.starts_with("ACK ") {
                    let _ = tx.send(line.trim_end().to_string());
                }
                line.clear();
            }
        });
        // A third of the kills land anywhere from start-up through recovery (when sled writes a
        // snapshot); the rest a random moment after the first acknowledged append.
        let mut lines = Vec::new();
        if rng.next().is_multiple_of(3) {
            std::thread::sleep(Duration::from_micros(rng.next() % 150_000));
        } else {
            if let Ok(l) = rx.recv_timeout(Duration::from_secs(10)) {
                lines.push(l);
            }
            std::thread::sleep(Duration::from_micros(rng.next() % 60_000));
        }
        let exited_early = child.try_wait().expect("polls").is_some();
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("reaps");
        reader.join().expect("reader");
        lines.extend(rx.try_iter());
        if exited_early {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().expect("piped"), &mut err).ok();
            panic!("cycle {cycle}: the child exited by itself ({status}): {err}");
        }
        let n = lines.len() as u64;
        for l in &lines {
            let (seq, hash) = l["ACK ".len()..].split_once(' ').expect("ACK seq hash");
            let seq: u64 = seq.parse().expect("a seq");
            assert_eq!(hash.len(), 64, "cycle {cycle}: {l}");
            assert!(acked.insert(seq, hash.to_string()).is_none(), "cycle {cycle}: seq {seq} acknowledged twice");
        }
        appends += n;
        killed_busy += u64::from(n > 0);
        let context = format!("cycle {cycle} (after {n} acknowledged appends)");
        let mut ledger = check(dir.path(), &acked, &context);
        // A kill between writing records and acknowledging them leaves an unacknowledged tail, which
        // refuses appends until the operator decides; here the operator keeps it (it verified above).
        if let Some((first, last)) = ledger.unacknowledged() {
            let refused = ledger.append(&actor("fin"), progress("before the decision".into())).unwrap_err();
            assert!(matches!(refused, LedgerError::UnacknowledgedTail { .. }), "{context}: {refused}");
            assert_eq!(ledger.resolve_tail(TailDecision::Accept).expect("accepts"), Some((first, last)));
            tails += 1;
        }
        // Appending resumes in another process, continuing the log.
        let head = ledger.head().expect("not empty").seq.0;
        let a = ledger.append(&actor("fin"), progress(format!("parent after cycle {cycle}"))).expect("appends");
        assert_eq!(a.seq.0, head + 1, "{context}");
        acked.insert(a.seq.0, a.hash.to_hex());
        ledger.close().expect("closes");
    }
    let ledger = check(dir.path(), &acked, "the end");
    eprintln!(
        "{cycles} kills in {:.1}s: {killed_busy} while appending, {appends} appends acknowledged by children, \
         {tails} unacknowledged tails accepted, {} records",
        started.elapsed().as_secs_f64(),
        ledger.head().map_or(0, |h| h.seq.0 + 1)
    );
    assert!(killed_busy * 2 >= cycles, "only {killed_busy} of {cycles} kills hit a child that was appending");
}

fn cycles() -> u64 {
    std::env::var("COMMITMENTS_CRASH_CYCLES").ok().and_then(|s| s.parse().ok()).unwrap_or(100)
}

/// Every acknowledged append survives SIGKILL, and the ledger opens by itself after every kill.
#[test]
fn acknowledged_appends_survive_sigkill() {
    let _serial = serial();
    crash_cycles(cycles());
}

/// A kill while sled writes a snapshot leaves `snap.<lsn>.generating`, which sled 0.34.7 would read
/// as the newest snapshot and refuse to open ("Read corrupted data", sled issue 1527). Found by the
/// crash test above (about one kill in a hundred); the store now removes such files before opening.
#[test]
fn a_snapshot_left_unfinished_by_a_kill_does_not_stop_the_ledger_opening() {
    let _serial = serial();
    let dir = tempfile::tempdir().expect("tempdir");
    create(dir.path());
    let mut acked = BTreeMap::new();
    {
        let mut l = open(dir.path());
        let a = l.append(&actor("fin"), progress("before the kill".into())).expect("appends");
        acked.insert(a.seq.0, a.hash.to_hex());
        l.close().expect("closes");
    }
    // As a kill between creating the file and renaming it leaves it: empty, sorting after the others.
    std::fs::write(dir.path().join("snap.FFFFFFFFFFFFFFF0.generating"), b"").expect("writes");
    let mut l = check(dir.path(), &acked, "after an unfinished snapshot");
    l.append(&actor("fin"), progress("after".into())).expect("appends");
}

/// The same through the command-line binary: `commitments progress` killed at random moments; each
/// invocation that printed its JSON before the kill is acknowledged.
#[test]
fn cli_appends_survive_sigkill() {
    let _serial = serial();
    let mut rng = Rng(seed());
    let dir = tempfile::tempdir().expect("tempdir");
    create(dir.path());
    let mut acked: BTreeMap<u64, String> = BTreeMap::new();
    let mut killed_running = 0;
    let mut tails = 0;
    let spawn = |cycle: u64| {
        Process::new(env!("CARGO_BIN_EXE_commitments"))
            .arg("--ledger")
            .arg(dir.path())
            .args(["--json", "progress", "0771-fin-bonds", "--actor", "fin", "--text"])
            .arg(format!("cli cycle {cycle}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawns")
    };
    // Kill moments are random within a window that starts at what a whole run takes here and then
    // follows the machine (debug or release, idle or busy): wider after a kill, narrower after a run
    // that finished, so that about half the kills land while the command runs.
    let started = Instant::now();
    let first = spawn(1000).wait_with_output().expect("waits");
    let mut window = started.elapsed().as_micros().max(1000) as f64;
    assert!(first.status.success(), "a run that is not killed: {}", String::from_utf8_lossy(&first.stderr));
    let v: serde_json::Value = serde_json::from_slice(&first.stdout).expect("JSON");
    acked.insert(
        v["appended"][0]["seq"].as_u64().expect("seq"),
        v["appended"][0]["hash"].as_str().expect("hash").into(),
    );
    for cycle in 0..40 {
        let mut child = spawn(cycle);
        std::thread::sleep(Duration::from_micros(rng.next() % (window as u64).max(1)));
        let done = child.try_wait().expect("polls");
        if done.is_none() {
            child.kill().expect("SIGKILL");
            killed_running += 1;
            window *= 1.25;
        } else {
            window *= 0.8;
        }
        let out = child.wait_with_output().expect("reaps");
        if done.is_some() {
            assert!(out.status.success(), "cycle {cycle}: {}", String::from_utf8_lossy(&out.stderr));
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
            let a = &v["appended"][0];
            acked.insert(a["seq"].as_u64().expect("seq"), a["hash"].as_str().expect("hash").to_string());
        }
        let tail = check(dir.path(), &acked, &format!("cli cycle {cycle}")).unacknowledged();
        if tail.is_some() {
            // Killed between writing its record and acknowledging it: the operator keeps the record
            // (it verified above), through the command an operator would use.
            let out = Process::new(env!("CARGO_BIN_EXE_commitments"))
                .arg("--ledger")
                .arg(dir.path())
                .args(["--json", "recover", "--accept"])
                .output()
                .expect("runs");
            assert!(out.status.success(), "cycle {cycle}: {}", String::from_utf8_lossy(&out.stderr));
            tails += 1;
        }
    }
    eprintln!(
        "40 CLI runs: {killed_running} killed while running, {} acknowledged, {tails} unacknowledged tails accepted",
        acked.len()
    );
    assert!(killed_running >= 5 && !acked.is_empty(), "{killed_running} killed, {} acknowledged", acked.len());
}
