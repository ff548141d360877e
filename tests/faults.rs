//! Guards the ledger against its environment failing: a full disk (tmpfs and a loop-mounted ext4),
//! a read-only ledger directory, a second process, a corrupted or stale projection, failing store
//! appends, and a truncated log. Each must give a clear error and exit code, and afterwards the
//! ledger verifies with every acknowledged record present.
//!
//! The mount tests need root and CAP_SYS_ADMIN. Where mounting is forbidden they print
//! `SKIPPED <test>: <why>` and return (run with `--nocapture` to see it), unless
//! `COMMITMENTS_REQUIRE_MOUNTS=1`, which turns a skip into a failure.

#[allow(unused_imports)]
use commitment_ledger::RegisterArea;
use commitment_ledger::Store;
use commitment_ledger::Until;
use commitment_ledger::{ActorId, AreaId, Command, Ledger, LedgerError, MemStore, Seq, SledStore, StoreError};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Output};
use std::time::{Duration, Instant};

#[path = "../fuzz/harness/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

/// The tests here start processes and hold ledger locks. A process started by one test's thread holds
/// a copy of every descriptor open in this process until it execs, another test's lock included, so
/// they run one at a time (see `an_in_process_reopen_is_never_refused_while_another_thread_spawns`).
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn cli(dir: &Path, args: &[&str]) -> Output {
    Process::new(env!("CARGO_BIN_EXE_commitments"))
        .arg("--ledger")
        .arg(dir)
        .args(args)
        .env_remove("COMMITMENTS_ACTOR")
        .output()
        .expect("runs the binary")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).trim_end().to_string()
}

/// A ledger with the finance office and item `x` it leads, made with the CLI.
fn setup(dir: &Path) {
    for args in [
        &["init", "--title", "faults"][..],
        &["actor", "add", "fin", "--name", "市委金融办"],
        &["record", "x", "--lead", "fin", "--area", "finance", "--title", "Bonds"],
    ] {
        let o = cli(dir, args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    }
}

/// Appends progress with the CLI; on success returns (seq, hash).
fn progress(dir: &Path, text: &str) -> Result<(u64, String), Output> {
    let o = cli(dir, &["--json", "progress", "x", "--text", text]);
    if !o.status.success() {
        return Err(o);
    }
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let a = &v["appended"][0];
    Ok((a["seq"].as_u64().expect("seq"), a["hash"].as_str().expect("hash").to_string()))
}

/// Opens a ledger, retrying while the lock is held by a process that is just ending (or by a fork's
/// copy of this process's descriptors: `an_in_process_reopen_is_never_refused_while_another_thread_spawns`).
fn open(dir: &Path) -> Ledger<SledStore> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match Ledger::open(dir) {
            Err(LedgerError::Store(StoreError::Locked(_))) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(2))
            }
            r => return r.expect("opens"),
        }
    }
}

/// The ledger verifies, holds every acknowledged record with its hash, and its projection is its replay.
fn assert_intact(dir: &Path, acked: &BTreeMap<u64, String>) -> u64 {
    let mut l = open(dir);
    assert_eq!(l.damage(), None);
    let report = l.verify(&mut |_| {}).expect("verifies");
    assert!(report.ok, "{report:?}");
    for (seq, hash) in acked {
        let (_, h) = l.record(Seq(*seq)).expect("reads").unwrap_or_else(|| panic!("acknowledged record {seq} is gone"));
        assert_eq!(&h.to_hex(), hash, "record {seq}");
    }
    assert_eq!(l.check_projection().expect("checks"), Vec::<String>::new());
    report.records
}

fn head(dir: &Path) -> (u64, String) {
    let l = open(dir);
    let h = l.head().expect("not empty");
    (h.seq.0, h.hash.to_hex())
}

// ---------------------------------------------------------------------------------------------
// Mounts

/// Unmounts on drop.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let ok = Process::new("umount").arg(&self.0).status().is_ok_and(|s| s.success());
        if !ok {
            let _ = Process::new("umount").arg("-l").arg(&self.0).status();
        }
    }
}

fn run(cmd: &str, args: &[&str]) -> Result<(), String> {
    match Process::new(cmd).args(args).output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!("`{cmd} {}` failed: {}", args.join(" "), stderr(&o))),
        Err(e) => Err(format!("`{cmd}` cannot run: {e}")),
    }
}

fn mount(args: &[&str], target: &Path) -> Result<Mount, String> {
    let mut all: Vec<&str> = args.to_vec();
    all.push(target.to_str().expect("utf-8 path"));
    run("mount", &all)?;
    Ok(Mount(target.to_path_buf()))
}

/// Reports a skip loudly, or fails if skips are not allowed.
fn skip(test: &str, why: &str) {
    if std::env::var("COMMITMENTS_REQUIRE_MOUNTS").is_ok_and(|v| v == "1") {
        panic!("{test} cannot run here and COMMITMENTS_REQUIRE_MOUNTS=1: {why}");
    }
    eprintln!("SKIPPED {test}: {why}");
}

/// Fills the disk with appends of 12 KB each; returns what was acknowledged and the failing output.
fn fill(dir: &Path) -> (BTreeMap<u64, String>, Output) {
    let text = "满".repeat(4000);
    let mut acked = BTreeMap::new();
    for i in 0..2000 {
        match progress(dir, &format!("{text} {i}")) {
            Ok((seq, hash)) => {
                acked.insert(seq, hash);
            }
            Err(o) => return (acked, o),
        }
    }
    panic!("2000 appends of 12 KB fit on a small file system");
}

/// What a full disk must look like to the user: exit 3 and this message.
fn assert_disk_full(dir: &Path, o: &Output) {
    assert_eq!(o.status.code(), Some(3), "{}", stderr(o));
    assert_eq!(
        stderr(o),
        format!(
            "error: the disk holding {} is full (no space left on device); nothing of this write was acknowledged",
            dir.display()
        )
    );
}

#[test]
fn a_full_tmpfs_refuses_appends_and_loses_nothing() {
    let _serial = serial();
    let base = tempfile::tempdir().expect("tempdir");
    let mnt = base.path().join("mnt");
    std::fs::create_dir(&mnt).expect("mkdir");
    let guard = match mount(&["-t", "tmpfs", "-o", "size=3m", "tmpfs"], &mnt) {
        Ok(g) => g,
        Err(why) => return skip("a_full_tmpfs_refuses_appends_and_loses_nothing", &why),
    };
    let dir = mnt.join("ledger");
    setup(&dir);
    let (acked, failed) = fill(&dir);
    assert!(acked.len() > 10, "only {} appends fit", acked.len());
    assert_disk_full(&dir, &failed);
    // Still full: a second append fails the same way and writes nothing.
    let again = progress(&dir, "small").expect_err("the disk is full");
    assert_disk_full(&dir, &again);
    // Reads write nothing to the ledger's disk (they open a private copy of sled's files elsewhere):
    // verify still works on a full disk, and vouches for every acknowledged record.
    let v = cli(&dir, &["verify"]);
    assert_eq!(v.status.code(), Some(0), "{}", stderr(&v));
    // Space comes back: everything acknowledged is there, nothing else is broken, appends resume.
    run("mount", &["-o", "remount,size=64m", mnt.to_str().expect("utf-8")]).expect("grows the tmpfs");
    let records = assert_intact(&dir, &acked);
    let last = *acked.keys().next_back().expect("some");
    assert!(records == last + 1 || records == last + 2, "{records} records after seq {last}: a refused append?");
    let (seq, _) = progress(&dir, "after the disk was freed").expect("appends again");
    assert_eq!(seq, records);
    drop(guard);
}

/// Fills a 4 MB loop-mounted ext4, grows it offline as an operator would, and checks the ledger.
/// Returns the messages of the failed append and of five more tries, or None when mounting is
/// impossible here.
fn fill_ext4(name: &str) -> Option<Vec<String>> {
    let base = tempfile::tempdir().expect("tempdir");
    let img = base.path().join("fs.img");
    let mnt = base.path().join("mnt");
    std::fs::create_dir(&mnt).expect("mkdir");
    let img_s = img.to_str().expect("utf-8");
    if let Err(why) = run("truncate", &["-s", "4M", img_s]).and_then(|_| run("mkfs.ext4", &["-q", "-F", img_s])) {
        skip(name, &why);
        return None;
    }
    let (acked, msgs) = {
        let (acked, mut msgs) = (BTreeMap::new(), Vec::new());
        let _guard = match mount(&["-o", "loop", img_s], &mnt) {
            Ok(g) => g,
            Err(why) => {
                skip(name, &why);
                return None;
            }
        };
        let dir = mnt.join("ledger");
        setup(&dir);
        let (a, failed) = fill(&dir);
        let mut acked = acked;
        acked.extend(a);
        assert!(acked.len() > 10, "only {} appends fit", acked.len());
        let mut failures = vec![failed];
        for i in 0..5 {
            match progress(&dir, &format!("{} {i}", "满".repeat(4000))) {
                Ok(_) => panic!("an append went through on a full disk"),
                Err(o) => failures.push(o),
            }
        }
        // sled sometimes wraps the OS error in its own text; the user sees one message either way.
        for o in &failures {
            assert_disk_full(&dir, o);
            msgs.push(stderr(o).replace(&dir.display().to_string(), "DIR"));
        }
        (acked, msgs)
    };
    run("e2fsck", &["-f", "-y", img_s]).ok();
    run("truncate", &["-s", "32M", img_s]).expect("grows the image");
    run("resize2fs", &[img_s]).expect("grows the file system");
    let _guard = mount(&["-o", "loop", img_s], &mnt).expect("mounts again");
    let dir = mnt.join("ledger");
    let records = assert_intact(&dir, &acked);
    let (seq, _) = progress(&dir, "after the disk was grown").expect("appends again");
    assert_eq!(seq, records);
    Some(msgs)
}

#[test]
fn a_full_ext4_refuses_appends_and_loses_nothing() {
    let _serial = serial();
    fill_ext4("a_full_ext4_refuses_appends_and_loses_nothing");
}

#[test]
fn a_read_only_ledger_is_refused_clearly_and_left_intact() {
    let _serial = serial();
    let name = "a_read_only_ledger_is_refused_clearly_and_left_intact";
    let base = tempfile::tempdir().expect("tempdir");
    let src = base.path().join("src");
    let ro = base.path().join("ro");
    std::fs::create_dir(&ro).expect("mkdir");
    setup(&src.join("ledger"));
    let before = head(&src.join("ledger"));
    // chmod does not stop root: a read-only bind mount does.
    let guard = match mount(&["--bind", src.to_str().expect("utf-8")], &ro) {
        Ok(g) => g,
        Err(why) => return skip(name, &why),
    };
    if let Err(why) = run("mount", &["-o", "remount,bind,ro", ro.to_str().expect("utf-8")]) {
        return skip(name, &why);
    }
    let dir = ro.join("ledger");
    // An append is refused (it must write); reads work and write nothing.
    let expected = format!("error: I/O error on {}: Read-only file system (os error 30)", dir.display());
    let o = cli(&dir, &["--json", "progress", "x", "--text", "t"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(stderr(&o), expected);
    for args in [&["verify"][..], &["show", "x"], &["export"]] {
        let o = cli(&dir, args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    }
    drop(guard);
    assert_eq!(head(&src.join("ledger")), before, "the read-only attempt changed the log");
    assert_intact(&src.join("ledger"), &BTreeMap::new());
}

// ---------------------------------------------------------------------------------------------
// A second process

#[test]
fn a_second_process_is_refused_and_nothing_is_written() {
    let _serial = serial();
    let base = tempfile::tempdir().expect("tempdir");
    let dir = base.path().join("ledger");
    setup(&dir);
    let before = head(&dir);
    let held = open(&dir);
    let expected =
        format!("error: the ledger at {} is open in another process (it holds the ledger's lock)", dir.display());
    let o = cli(&dir, &["--json", "progress", "x", "--text", "t"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(stderr(&o), expected);
    // Readers are refused while a writer holds the ledger, and told why.
    let reader = format!(
        "error: the ledger at {} is open in another process that is writing to it (a writer holds the ledger's \
         lock; readers share it only with readers): try again when the writer has finished",
        dir.display()
    );
    for args in [&["verify"][..], &["list"]] {
        let o = cli(&dir, args);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o), reader, "{args:?}");
    }
    drop(held);
    assert_eq!(head(&dir), before, "a refused process wrote");
    assert_intact(&dir, &BTreeMap::new());
}

/// Runs `n` CLI appends at once on a fresh ledger, `rounds` times; checks that each is acknowledged or
/// refused with exit 3 and that the ledger keeps exactly the acknowledged ones. Returns the refusals'
/// messages.
fn concurrent_appends(n: usize, rounds: usize) -> Vec<String> {
    let base = tempfile::tempdir().expect("tempdir");
    let dir = base.path().join("ledger");
    setup(&dir);
    let mut acked = BTreeMap::new();
    let mut refused = Vec::new();
    for round in 0..rounds {
        let children: Vec<_> = (0..n)
            .map(|i| {
                // Staggered starts: some find the ledger free, others find it busy in every phase.
                std::thread::sleep(Duration::from_millis(3));
                Process::new(env!("CARGO_BIN_EXE_commitments"))
                    .arg("--ledger")
                    .arg(&dir)
                    .args(["--json", "progress", "x", "--text"])
                    .arg(format!("concurrent {round}.{i}"))
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("spawns")
            })
            .collect();
        for c in children {
            let o = c.wait_with_output().expect("waits");
            match o.status.code() {
                Some(0) => {
                    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
                    let a = &v["appended"][0];
                    acked.insert(a["seq"].as_u64().expect("seq"), a["hash"].as_str().expect("hash").to_string());
                }
                Some(3) => refused.push(stderr(&o).replace(&dir.display().to_string(), "DIR")),
                other => panic!("exit {other:?}: {}", stderr(&o)),
            }
        }
    }
    assert!(!acked.is_empty(), "none got through");
    assert_eq!(acked.len() + refused.len(), n * rounds);
    let records = assert_intact(&dir, &acked);
    assert_eq!(records, 15 + acked.len() as u64, "refused processes wrote");
    refused
}

/// Every process refused for want of the lock says so. (Found here: a second process deleted the
/// holder's unfinished sled snapshot before taking the lock, and one of them failed with 'No such file
/// or directory'; fixed on main in d1275d2 by a lock file taken first.)
#[test]
fn concurrent_cli_appends_are_each_acknowledged_or_refused_clearly() {
    let _serial = serial();
    let expected = "error: the ledger at DIR is open in another process (it holds the ledger's lock)";
    for m in concurrent_appends(12, 8) {
        assert_eq!(m, expected);
    }
}

/// Closes and reopens a ledger `n` times; returns how many opens were refused as locked.
fn reopen_refusals(n: usize) -> usize {
    let base = tempfile::tempdir().expect("tempdir");
    let dir = base.path().join("ledger");
    setup(&dir);
    let admin = ActorId::new("admin").expect("valid");
    let mut refused = 0;
    for i in 0..n {
        let mut l = match Ledger::open(&dir) {
            Ok(l) => l,
            Err(LedgerError::Store(StoreError::Locked(_))) => {
                refused += 1;
                open(&dir)
            }
            Err(e) => panic!("{e}"),
        };
        // Records of 1 KB keep sled's background writers busy when the ledger goes away.
        let area = RegisterArea {
            id: AreaId::new(format!("a{i}")).expect("valid"),
            name: "长".repeat(170),
            name_en: Some("x".repeat(500)),
        };
        l.append(&admin, Command::RegisterArea(area)).expect("appends");
        if i % 2 == 0 {
            l.close().expect("closes");
        } else {
            drop(l);
        }
    }
    refused
}

/// A ledger this process has closed can be opened again at once, even while another thread of the
/// process starts child processes (a server running hooks, a test harness): each fork holds a copy
/// of the lock file's descriptor until it execs. (`tests/model.rs` checks the plain reopen, in a test
/// binary that starts no processes.) Found here (about 3 reopens in 10 were refused); fixed on main in
/// de44db1 by retrying the lock briefly.
#[test]
fn an_in_process_reopen_is_never_refused_while_another_thread_spawns() {
    let _serial = serial();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let spawner = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = Process::new("true").status();
            }
        })
    };
    let refused = reopen_refusals(100);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    spawner.join().expect("joins");
    assert_eq!(refused, 0, "{refused} of 100 reopens were refused as 'open in another process'");
}

// ---------------------------------------------------------------------------------------------
// The projection (derived tree)

/// Writes into the derived tree of a closed ledger.
fn tamper_derived(dir: &Path, puts: Vec<(Vec<u8>, Option<Vec<u8>>)>) {
    let mut s = SledStore::open(dir, false).expect("opens the store");
    s.derived_write(puts).expect("writes");
}

fn derived(dir: &Path, key: &[u8]) -> Option<Vec<u8>> {
    SledStore::open(dir, false).expect("opens").derived_get(key).expect("reads")
}

#[test]
fn an_unreadable_watermark_or_registry_is_rebuilt_on_open() {
    let _serial = serial();
    for key in [&b"p/watermark"[..], b"p/registry"] {
        let base = tempfile::tempdir().expect("tempdir");
        let dir = base.path().join("ledger");
        setup(&dir);
        let (_, before) = head(&dir);
        tamper_derived(&dir, vec![(key.to_vec(), Some(b"\xff\xfe garbage".to_vec()))]);
        // A read shows the state folded from the log and writes nothing; the next writer rebuilds it.
        let o = cli(&dir, &["--json", "show", "x"]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(derived(&dir, key).as_deref(), Some(&b"\xff\xfe garbage"[..]), "a read wrote");
        let o = cli(&dir, &["--json", "replay", "--rebuild"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let check = cli(&dir, &["replay"]);
        assert!(check.status.success(), "{}", stderr(&check));
        assert_ne!(derived(&dir, key).as_deref(), Some(&b"\xff\xfe garbage"[..]), "not rebuilt");
        assert_eq!(head(&dir).1, before);
        assert_intact(&dir, &BTreeMap::new());
    }
}

const GARBAGE_ITEM: &[u8] = &[0xff; 7];

#[test]
fn an_unreadable_item_is_found_by_replay_and_rebuilt_when_read() {
    let _serial = serial();
    let base = tempfile::tempdir().expect("tempdir");
    let dir = base.path().join("ledger");
    setup(&dir);
    tamper_derived(&dir, vec![(b"p/item/x".to_vec(), Some(GARBAGE_ITEM.to_vec()))]);
    let check = cli(&dir, &["replay"]);
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    assert!(String::from_utf8_lossy(&check.stdout).contains("item x differs from its replay"));
    // Reading the item shows it folded from the log, and writes nothing.
    let show = cli(&dir, &["--json", "show", "x"]);
    assert!(show.status.success(), "{}", stderr(&show));
    assert!(String::from_utf8_lossy(&show.stdout).contains("Bonds"));
    assert_eq!(derived(&dir, b"p/item/x").as_deref(), Some(GARBAGE_ITEM), "a read wrote");
    // So does an append naming its actor.
    tamper_derived(&dir, vec![(b"p/item/x".to_vec(), Some(GARBAGE_ITEM.to_vec()))]);
    let o = cli(&dir, &["--json", "progress", "x", "--text", "t", "--actor", "fin"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(cli(&dir, &["replay"]).status.success());
    assert_intact(&dir, &BTreeMap::new());
}

/// Every command that reads an item copes with an unreadable projection: a read folds the log in
/// memory (writing nothing), a writer rebuilds the stored projection.
/// (Found here: `history` and appends without --actor failed with exit 3 until a rebuild; fixed on
/// main in d1275d2.)
#[test]
fn every_command_rebuilds_an_unreadable_item() {
    let _serial = serial();
    let base = tempfile::tempdir().expect("tempdir");
    let dir = base.path().join("ledger");
    setup(&dir);
    let before = head(&dir);
    for (args, writes) in [(&["history", "x"][..], false), (&["--json", "progress", "x", "--text", "t"], true)] {
        tamper_derived(&dir, vec![(b"p/item/x".to_vec(), Some(GARBAGE_ITEM.to_vec()))]);
        let o = cli(&dir, args);
        assert!(o.status.success(), "{args:?}: exit {:?}: {}", o.status.code(), stderr(&o));
        let rebuilt = derived(&dir, b"p/item/x").as_deref() != Some(GARBAGE_ITEM);
        assert_eq!(rebuilt, writes, "{args:?}: a read rebuilt, or a write did not");
    }
    assert_ne!(head(&dir), before);
}

#[test]
fn a_wrong_or_missing_item_is_found_by_replay_and_fixed_by_rebuild() {
    let _serial = serial();
    let base = tempfile::tempdir().expect("tempdir");
    let dir = base.path().join("ledger");
    setup(&dir);
    let o = cli(&dir, &["record", "y", "--lead", "fin", "--area", "health", "--title", "Other", "--kind", "achieved"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let y = derived(&dir, b"p/item/y").expect("y is projected");
    // x's entry now holds y's state (well-formed, wrong); then x disappears altogether.
    for (puts, words) in [
        (vec![(b"p/item/x".to_vec(), Some(y.clone()))], "item x differs from its replay"),
        (vec![(b"p/item/x".to_vec(), None)], "item x is missing from the projection"),
    ] {
        tamper_derived(&dir, puts);
        let check = cli(&dir, &["replay"]);
        assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
        assert!(String::from_utf8_lossy(&check.stdout).contains(words), "{}", String::from_utf8_lossy(&check.stdout));
        assert!(cli(&dir, &["replay", "--rebuild"]).status.success());
        let show = cli(&dir, &["--json", "show", "x"]);
        assert!(show.status.success(), "{}", stderr(&show));
        let v: serde_json::Value = serde_json::from_slice(&show.stdout).expect("JSON");
        assert!(v.to_string().contains("Bonds"), "{v}");
        assert_intact(&dir, &BTreeMap::new());
    }
}

// ---------------------------------------------------------------------------------------------
// Store failures and a damaged log, in memory

fn sample() -> (Ledger<MemStore>, commitment_ledger::ManualClock) {
    fixtures::sample_ledger()
}

fn fin() -> ActorId {
    ActorId::new("fin").expect("valid")
}

fn report(text: &str) -> Command {
    Command::ReportProgress {
        item: commitment_ledger::ItemId::new("0771-fin-bonds").expect("valid"),
        text: text.into(),
        on: None,
        evidence: None,
    }
}

#[test]
fn a_failed_store_append_writes_nothing_and_the_next_one_continues() {
    let _serial = serial();
    let (ledger, clock) = sample();
    let mut store = ledger.store().clone();
    drop(ledger);
    store.fail_appends = 2;
    let mut l = Ledger::with_store(store, Box::new(clock)).expect("opens");
    let before = l.head().expect("head");
    let item_before = l.item(&commitment_ledger::ItemId::new("0771-fin-bonds").expect("valid")).expect("reads");
    match l.append(&fin(), report("lost")) {
        Err(LedgerError::Store(StoreError::Io { source, .. })) => {
            assert_eq!(source.kind(), std::io::ErrorKind::StorageFull)
        }
        other => panic!("{other:?}"),
    }
    let batch = vec![(fin(), report("lost 1")), (fin(), report("lost 2"))];
    assert!(matches!(l.append_batch(batch), Err(LedgerError::Store(_))));
    assert_eq!(l.head(), Some(before), "a failed append moved the head");
    let item_after = l.item(&commitment_ledger::ItemId::new("0771-fin-bonds").expect("valid")).expect("reads");
    assert_eq!(item_after, item_before, "a failed append changed the projection");
    let a = l.append(&fin(), report("kept")).expect("appends once the store works");
    assert_eq!(a.seq, before.seq.next());
    assert!(l.verify(&mut |_| {}).expect("verifies").ok);
    assert_eq!(l.check_projection().expect("checks"), Vec::<String>::new());
    let mut texts = Vec::new();
    l.for_each_record(Seq(0), &mut |r, _| {
        if let commitment_ledger::Event::ProgressReported(p) = &r.event {
            texts.push(p.text.clone());
        }
        std::ops::ControlFlow::Continue(())
    })
    .expect("reads");
    assert!(texts.iter().all(|t| !t.starts_with("lost")), "{texts:?}");
    let r = l.replay(Until::Seq(a.seq)).expect("replays");
    assert!(r.get(&commitment_ledger::ItemId::new("0771-fin-bonds").expect("valid")).is_some());
}

#[test]
fn a_truncated_log_is_damaged_refuses_appends_and_verify_names_it() {
    let _serial = serial();
    let (ledger, clock) = sample();
    let mut store = ledger.store().clone();
    drop(ledger);
    let last = *store.log_mut().keys().next_back().expect("records");
    store.log_mut().remove(&last);
    let mut l = Ledger::with_store(store, Box::new(clock)).expect("opens");
    let damage = l.damage().expect("damaged").to_string();
    assert_eq!(damage, format!("the store acknowledged record {last} but the log ends at {}", last - 1));
    match l.append(&fin(), report("x")) {
        Err(e @ LedgerError::Damaged(_)) => assert_eq!(
            e.to_string(),
            format!("the ledger is damaged and takes no appends: {damage} (run `commitments verify`)")
        ),
        other => panic!("{other:?}"),
    }
    let report = l.verify(&mut |_| {}).expect("verifies");
    assert!(!report.ok);
    assert_eq!(report.problem_kind, Some("truncated"));
    assert_eq!(report.first_bad_seq, Some(last));
}
