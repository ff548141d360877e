//! The peers a team would use instead: git (a repository of JSON files, one commit per event), a
//! hash-chained audit table in SQLite, and the Python `eventsourcing` library on SQLite. Each is
//! skipped, with a message, when it is not installed.

use crate::phases::{Paths, dir_bytes, first_events};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const SQLITE_PEER: &str = include_str!("sqlite_peer.py");
const ES_PEER: &str = include_str!("es_peer.py");

/// The command that installs the Python peer.
pub const PIP_INSTALL: &str = "python3 -m pip install eventsourcing";

fn works(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd).args(args).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// Whether git is installed.
pub fn have_git() -> bool {
    works("git", &["--version"])
}

/// Whether python3 is installed.
pub fn have_python() -> bool {
    works("python3", &["-c", "import sqlite3, hashlib"])
}

/// Whether the eventsourcing library can be imported.
pub fn have_eventsourcing() -> bool {
    works("python3", &["-c", "import eventsourcing.sqlite"])
}

/// Installs what the peers need that can be installed from here (the eventsourcing library); says
/// what is missing. Returns false when a peer stays unavailable.
pub fn setup(install: bool) -> bool {
    let mut ok = true;
    if !have_git() {
        eprintln!("setup: git is not installed (apt-get install git); the git peer will be skipped");
        ok = false;
    }
    if !have_python() {
        eprintln!("setup: python3 with sqlite3 is not installed; the SQLite and eventsourcing peers will be skipped");
        return false;
    }
    if !have_eventsourcing() {
        if install {
            eprintln!("setup: installing the eventsourcing library: {PIP_INSTALL}");
            let status = Command::new("python3")
                .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "eventsourcing"])
                .status();
            if !status.is_ok_and(|s| s.success()) || !have_eventsourcing() {
                eprintln!("setup: could not install eventsourcing; its peer will be skipped");
                ok = false;
            }
        } else {
            eprintln!("setup: the eventsourcing library is not installed ({PIP_INSTALL}); its peer will be skipped");
            ok = false;
        }
    }
    ok
}

fn git(repo: &Path, args: &[&str]) -> Result<()> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(Stdio::null())
        .output()?;
    if !out.status.success() {
        bail!("git {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// git: a repository with one JSON-lines file per stream; each event is appended to its stream's file
/// and committed (`git add` + `git commit`, git's default durability: no fsync). `git fsck --full` is
/// its verify and `git log -p` its replay.
pub fn git_peer(paths: &Paths, n: u64) -> Result<Value> {
    let repo = paths.root.join("git");
    if repo.exists() {
        std::fs::remove_dir_all(&repo)?;
    }
    std::fs::create_dir_all(&repo)?;
    git(&repo, &["init", "-q"])?;
    for (k, v) in
        [("user.name", "bench"), ("user.email", "bench@example.org"), ("commit.gpgsign", "false"), ("gc.auto", "0")]
    {
        git(&repo, &["config", k, v])?;
    }
    let events = first_events(paths, n)?;
    let mut spent = std::time::Duration::ZERO;
    for e in &events {
        let stream = e["stream"].as_str().context("stream")?;
        let file = format!("{}.jsonl", stream.replace('/', "-"));
        let message = format!("{} {}", e["seq"], e["type"].as_str().unwrap_or(""));
        let line = serde_json::to_string(e)?;
        let t = Instant::now();
        let mut f = OpenOptions::new().create(true).append(true).open(repo.join(&file))?;
        f.write_all(line.as_bytes())?;
        f.write_all(b"\n")?;
        drop(f);
        git(&repo, &["add", &file])?;
        git(&repo, &["commit", "-q", "-m", &message])?;
        spent += t.elapsed();
    }
    let count = events.len() as u64;
    let t = Instant::now();
    git(&repo, &["fsck", "--full", "--no-progress"])?;
    let fsck = t.elapsed();
    let t = Instant::now();
    let mut child = Command::new("git")
        .arg("-C")
        .arg(&repo)
        .args(["log", "-p", "--reverse", "--no-color"])
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdout(Stdio::piped())
        .spawn()?;
    let mut out = child.stdout.take().context("git log stdout")?;
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let k = out.read(&mut buf)?;
        if k == 0 {
            break;
        }
        bytes += k as u64;
    }
    if !child.wait()?.success() {
        bail!("git log failed");
    }
    let log = t.elapsed();
    let version = Command::new("git").arg("--version").output()?.stdout;
    Ok(json!({
        "version": String::from_utf8_lossy(&version).trim(),
        "events": count,
        "append_events_per_s": count as f64 / spent.as_secs_f64(),
        "fsck_events_per_s": count as f64 / fsck.as_secs_f64(),
        "log_events_per_s": count as f64 / log.as_secs_f64(),
        "log_bytes": bytes,
        "disk_bytes": dir_bytes(&repo.join(".git")),
    }))
}

fn python(paths: &Paths, name: &str, script: &str, batch: u64, single: u64) -> Result<Value> {
    let dir = paths.root.join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    let file = dir.join(format!("peer_{name}.py"));
    std::fs::write(&file, script)?;
    let out = Command::new("python3")
        .arg(&file)
        .arg("--events")
        .arg(paths.events())
        .arg("--dir")
        .arg(&dir)
        .args(["--batch", &batch.to_string(), "--single", &single.to_string()])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()?;
    if !out.status.success() {
        bail!("{name} peer failed ({})", out.status);
    }
    let v: Value = serde_json::from_slice(&out.stdout).with_context(|| format!("{name} peer output"))?;
    std::fs::remove_dir_all(&dir)?;
    Ok(v)
}

/// SQLite with a hash-chained audit table (Python's sqlite3).
pub fn sqlite_peer(paths: &Paths, batch: u64, single: u64) -> Result<Value> {
    python(paths, "sqlite", SQLITE_PEER, batch, single)
}

/// The eventsourcing library on its SQLite persistence.
pub fn eventsourcing_peer(paths: &Paths, batch: u64, single: u64) -> Result<Value> {
    python(paths, "eventsourcing", ES_PEER, batch, single)
}
