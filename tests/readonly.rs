//! Guards reads that write nothing: `show`, `list`, `verify`, `export` and the other reads work for a
//! user who may not write the ledger directory (an auditor on a mirror or a backup), leave every file
//! byte for byte as it was, and do not refuse one another; a writer still excludes readers, with a
//! message saying so.
//!
//! The tests run as root, where permission bits do not apply, so the reads run as `nobody` through
//! `setpriv` or `runuser`; when neither can switch users here, the test says why and skips.

mod support;

use commitment_ledger::{Ledger, Store};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use support::*;

/// Whether this process runs as root.
fn is_root() -> bool {
    Process::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A command prefix that runs a program as an unprivileged user, or why there is none. Without root,
/// this process is unprivileged already and the prefix is empty.
fn unprivileged() -> Result<Vec<String>, String> {
    if !is_root() {
        return Ok(Vec::new());
    }
    let candidates: [&[&str]; 3] = [
        &["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"],
        &["setpriv", "--reuid=nobody", "--regid=nobody", "--clear-groups"],
        &["runuser", "-u", "nobody", "--"],
    ];
    let mut tried = Vec::new();
    for prefix in candidates {
        let out = Process::new(prefix[0]).args(&prefix[1..]).args(["id", "-u"]).output();
        match out {
            Ok(o) if o.status.success() && String::from_utf8_lossy(&o.stdout).trim() != "0" => {
                return Ok(prefix.iter().map(|s| s.to_string()).collect());
            }
            Ok(o) => tried.push(format!("{}: {}", prefix.join(" "), String::from_utf8_lossy(&o.stderr).trim())),
            Err(e) => tried.push(format!("{}: {e}", prefix[0])),
        }
    }
    Err(format!("cannot run as an unprivileged user here ({})", tried.join("; ")))
}

/// Runs `commitments --ledger DIR ARGS…` through the prefix.
fn cli_as(prefix: &[String], dir: &Path, args: &[&str]) -> Run {
    let (program, rest) = match prefix.split_first() {
        Some((p, rest)) => (p.as_str(), rest.to_vec()),
        None => (BIN, Vec::new()),
    };
    let mut c = Process::new(program);
    c.args(&rest);
    if !prefix.is_empty() {
        c.arg(BIN);
    }
    let out = c
        .arg("--ledger")
        .arg(dir)
        .args(args)
        .env_remove("COMMITMENTS_LEDGER")
        .env_remove("COMMITMENTS_ACTOR")
        .output()
        .expect("runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8"),
        args: format!("(as an unprivileged user) {}", args.join(" ")),
    }
}

/// Asserts two snapshots are the same, naming the files that differ.
#[track_caller]
fn assert_same(before: &[(PathBuf, Vec<u8>)], after: &[(PathBuf, Vec<u8>)], what: &str) {
    let names = |s: &[(PathBuf, Vec<u8>)]| s.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    assert_eq!(names(before), names(after), "{what}: files added or removed");
    let changed: Vec<_> =
        before.iter().zip(after).filter(|(a, b)| a.1 != b.1).map(|(a, _)| a.0.display().to_string()).collect();
    assert!(changed.is_empty(), "{what}: changed {changed:?}");
}

/// Sets the mode of a tree: directories `dirs`, files `files`.
fn chmod_tree(path: &Path, dirs: u32, files: u32) {
    let mode = if path.is_dir() { dirs } else { files };
    if path.is_dir() {
        for e in std::fs::read_dir(path).unwrap() {
            chmod_tree(&e.unwrap().path(), dirs, files);
        }
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Builds the fixture, makes its directories mode 0555 and its files `file_mode` (owned by root, so
/// never writable by the unprivileged user), runs every read as that user and checks that each
/// succeeds and no file changed.
fn reads_as_an_unprivileged_user(name: &str, file_mode: u32) {
    let prefix = match unprivileged() {
        Ok(p) => p,
        Err(why) => {
            eprintln!("SKIPPED {name}: {why}");
            return;
        }
    };
    let tmp = tempdir();
    let dir = tmp.path().join("ledger");
    let last = build_fixture(&dir);
    let (_, head) = sound_head(&dir);
    // The way in is open to everyone; the ledger is not writable by the user.
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    chmod_tree(&dir, 0o555, file_mode);
    let before = snapshot(&dir);
    let probe = cli_as(&prefix, &dir, &["--json", "progress", "sci-lab", "--text", "试写", "--on", "2024-05-01"]);
    assert_ne!(probe.code, 0, "the user may not write the ledger, so an append fails: {probe:?}");

    let show = cli_as(&prefix, &dir, &["--json", "show", "sci-lab"]).ok().json();
    assert_eq!(show["id"], "sci-lab", "{show}");
    let list = cli_as(&prefix, &dir, &["--json", "list"]).ok().json();
    assert_eq!(list["items"].as_array().map(Vec::len), Some(4), "{list}");
    let v = cli_as(&prefix, &dir, &["--json", "verify"]).ok().json();
    assert_eq!(
        (v["ok"].clone(), v["records"].clone(), v["head"].clone()),
        (Value::Bool(true), (last + 1).into(), head.clone().into())
    );
    let at = format!("{last}:{}", &head[..16]);
    let v = cli_as(&prefix, &dir, &["--json", "verify", "--at", &at]).ok().json();
    assert_eq!(v["at"][0]["ok"], true, "{v}");
    let export = cli_as(&prefix, &dir, &["export"]).ok();
    assert_eq!(export.stdout.lines().count() as u64, last + 1);
    for args in [
        &["--json", "summary"][..],
        &["--json", "history", "sci-lab"],
        &["--json", "log", "--from", "3"],
        &["--json", "actor", "list"],
        &["--json", "area", "list"],
        &["--json", "source", "list"],
        &["--json", "replay", "--to", "20"],
        &["--json", "list", "--as-of", "2024-05-09"],
    ] {
        cli_as(&prefix, &dir, args).ok();
    }
    assert_same(&before, &snapshot(&dir), "a read changed the ledger directory");

    // The bundle the user exported verifies, with the ledger's head.
    chmod_tree(&dir, 0o755, 0o644);
    let bundle = tmp.path().join("bundle.jsonl");
    std::fs::write(&bundle, &export.stdout).unwrap();
    let v = cli_raw(&["--json", "verify", "--bundle", bundle.to_str().unwrap()]).ok().json();
    assert_eq!(v["head"], head.as_str());
}

#[test]
fn reads_work_for_a_user_who_may_not_write_and_change_no_file() {
    reads_as_an_unprivileged_user("reads_work_for_a_user_who_may_not_write_and_change_no_file", 0o644);
}

/// A mirror made with `chmod -R a-w`: the files themselves are read-only.
#[test]
fn reads_work_on_a_mirror_whose_files_are_read_only() {
    reads_as_an_unprivileged_user("reads_work_on_a_mirror_whose_files_are_read_only", 0o444);
}

/// Reads on a directory this user may write open sled in place; they must write nothing either.
#[test]
fn reads_in_place_write_nothing() {
    let tmp = tempdir();
    let dir = tmp.path().join("ledger");
    build_fixture(&dir);
    let before = snapshot(&dir);
    for _ in 0..3 {
        cli(&dir, &["--json", "verify"]).ok();
        let held = Ledger::open_read(&dir).expect("opens for reading");
        cli_once(&dir, &["--json", "list"]).ok();
        drop(held);
    }
    assert_same(&before, &snapshot(&dir), "reads changed the ledger directory");
}

/// Every record's stored bytes, read through a read-only ledger, and the witness file.
fn what_the_ledger_holds(dir: &Path) -> (Vec<Vec<u8>>, Vec<u8>) {
    let ledger = Ledger::open_read(dir).expect("opens for reading");
    let mut records = Vec::new();
    ledger
        .store()
        .scan(commitment_ledger::Seq(0), &mut |_, bytes| {
            records.push(bytes.to_vec());
            std::ops::ControlFlow::Continue(())
        })
        .expect("scans");
    (records, std::fs::read(dir.join("acknowledged")).expect("the witness"))
}

#[test]
fn readers_do_not_refuse_each_other_and_write_nothing() {
    let tmp = tempdir();
    let dir = tmp.path().join("ledger");
    let last = build_fixture(&dir);
    // sled's own files may be rewritten by a reader that opens them in place (see
    // `reads_in_place_write_nothing`); the records and the witness may not.
    let before = what_the_ledger_holds(&dir);
    // A reader held open in this process (sled opened in place)…
    let held = Ledger::open_read(&dir).expect("opens for reading");
    assert_eq!(held.head().map(|h| h.seq.0), Some(last));
    // …and readers in other processes, two at a time.
    let spawn = |args: &[&str]| {
        Process::new(BIN)
            .arg("--ledger")
            .arg(&dir)
            .args(args)
            .env_remove("COMMITMENTS_LEDGER")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("runs")
    };
    let children = [spawn(&["--json", "verify"]), spawn(&["--json", "list"]), spawn(&["--json", "export"])];
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "a reader was refused beside other readers: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v = cli_once(&dir, &["--json", "verify"]).ok().json();
    assert_eq!(v["records"], last + 1);
    // A writer is refused while a reader has the ledger open.
    let run = cli_once(&dir, &["--json", "progress", "sci-lab", "--text", "进展", "--on", "2024-05-01"]).code(3);
    assert!(run.stderr.contains("open in another process"), "{}", run.stderr);
    drop(held);
    assert!(what_the_ledger_holds(&dir) == before, "readers changed the records or the witness");
}

#[test]
fn a_reader_is_told_that_a_writer_has_the_ledger_open() {
    let tmp = tempdir();
    let dir = tmp.path().join("ledger");
    build_fixture(&dir);
    let writer = open_ledger(&dir);
    for args in [&["--json", "show", "sci-lab"][..], &["verify"], &["export"], &["actor", "list"]] {
        let run = cli_once(&dir, args).code(3);
        assert_eq!(
            run.stderr,
            format!(
                "error: the ledger at {} is open in another process that is writing to it (a writer holds the \
                 ledger's lock; readers share it only with readers): try again when the writer has finished\n",
                dir.display()
            ),
            "{args:?}"
        );
    }
    drop(writer);
    cli(&dir, &["--json", "show", "sci-lab"]).ok();
}

/// A reader killed before it removed its private copy of sled's files leaves it in the temporary
/// directory; the next reader removes copies whose process is gone (and only those).
#[test]
fn copies_left_by_killed_readers_are_removed() {
    let tmp = tempdir();
    let dir = tmp.path().join("ledger");
    build_fixture(&dir);
    let scratch = tmp.path().join("tmp");
    std::fs::create_dir(&scratch).unwrap();
    // u32::MAX is above any pid the kernel hands out: that process is gone.
    let abandoned = scratch.join(format!("commitments-read-{}-0123456789abcdef", u32::MAX));
    std::fs::create_dir_all(abandoned.join("blobs")).unwrap();
    std::fs::write(abandoned.join("db"), b"an old copy").unwrap();
    let alive = scratch.join(format!("commitments-read-{}-fedcba9876543210", std::process::id()));
    std::fs::create_dir(&alive).unwrap();
    let o = Process::new(BIN)
        .args(["--ledger", dir.to_str().unwrap(), "--json", "show", "fin-bonds"])
        .env("TMPDIR", &scratch)
        .env_remove("COMMITMENTS_LEDGER")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!abandoned.exists(), "the copy of a process that is gone is removed");
    assert!(alive.exists(), "the copy of a live process is left alone");
    // And the reader's own copy is gone once it has finished.
    let left: Vec<_> = std::fs::read_dir(&scratch).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(left.len(), 1, "{left:?}");
}
