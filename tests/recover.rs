//! Guards `commitments recover`: a record an append wrote but never acknowledged (an interrupted
//! append, made here by writing the record into sled behind the ledger's back, without its witness)
//! stops appends until an operator accepts or discards it, and each decision leaves a sound ledger.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use support::*;

/// The fixture ledger and the record an interrupted append would have left after it.
struct Tail {
    tmp: tempfile::TempDir,
    base: PathBuf,
    /// The seq of the fixture's last (acknowledged) record.
    last: u64,
    /// The unacknowledged record: its bytes and its hash.
    bytes: Vec<u8>,
    hash: String,
}

impl Tail {
    fn new() -> Tail {
        let tmp = tempdir();
        let base = tmp.path().join("base");
        let last = build_fixture(&base);
        // The record a real append writes: made on a copy through the library, then taken from it.
        let grown = tmp.path().join("grown");
        copy_dir(&base, &grown);
        let mut ledger = open_ledger(&grown);
        let head = ledger.append(&actor("sci"), progress("sci-lab", "联合实验室开始试运行。", "2024-05-10")).unwrap();
        ledger.close().unwrap();
        assert_eq!(head.seq.0, last + 1);
        let raw = Raw::open(&grown);
        let bytes = raw.get(last + 1);
        raw.close();
        Tail { tmp, base, last, bytes, hash: head.hash.to_hex() }
    }

    /// A copy of the fixture whose log ends with the unacknowledged record.
    fn ledger(&self, name: &str) -> PathBuf {
        let dir = self.tmp.path().join(name);
        copy_dir(&self.base, &dir);
        let raw = Raw::open(&dir);
        raw.put(self.last + 1, &self.bytes);
        raw.close();
        dir
    }
}

fn append(dir: &Path) -> Run {
    cli(dir, &["--json", "progress", "sci-lab", "--text", "新进展", "--on", "2024-05-01"])
}

#[test]
fn an_unacknowledged_tail_stops_appends_until_an_operator_decides() {
    let t = Tail::new();
    let dir = t.ledger("tail");
    let run = append(&dir).code(1);
    assert!(run.stdout.is_empty(), "nothing appended: {}", run.stdout);
    let want = format!(
        "records {} to {} were written by an append that did not finish and were never acknowledged",
        t.last + 1,
        t.last + 1
    );
    assert!(run.stderr.contains(&want), "{}", run.stderr);
    assert!(
        run.stderr.contains("`commitments recover --accept`") && run.stderr.contains("`commitments recover --discard`"),
        "the message names recover: {}",
        run.stderr
    );
    // Other writers too; readers are not stopped.
    cli(&dir, &["--json", "actor", "add", "new-dept", "--name", "新部门"]).code(1);
    cli(&dir, &["--json", "show", "sci-lab"]).ok();
    // The log is sound; the record is reported as never acknowledged.
    let (code, v) = verify(&dir);
    assert_eq!(code, 0, "{v}");
    assert_eq!((v["ok"].clone(), v["unacknowledged"].clone()), (Value::Bool(true), Value::from(1)), "{v}");
    assert_eq!(v["records"], t.last + 2, "{v}");
}

#[test]
fn recover_discard_removes_the_tail_and_appends_resume() {
    let t = Tail::new();
    let dir = t.ledger("discard");
    let before = sound_head(&t.base);
    let v = cli(&dir, &["--json", "recover", "--discard"]).ok().json();
    assert_eq!(v["decision"], "discard", "{v}");
    assert_eq!(v["nothing_to_recover"], false, "{v}");
    let removed = v["removed"].as_array().expect("the records removed");
    assert_eq!(removed.len(), 1, "{v}");
    assert_eq!((removed[0]["seq"].as_u64(), removed[0]["hash"].as_str()), (Some(t.last + 1), Some(t.hash.as_str())));
    assert_eq!(removed[0]["actor"], "sci", "{v}");
    assert_eq!((v["head"]["seq"].as_u64(), v["head"]["hash"].as_str()), (Some(before.0), Some(before.1.as_str())));
    // The head is back, the ledger verifies with nothing unacknowledged, and appends work.
    assert_eq!(sound_head(&dir), before);
    assert_eq!(verify(&dir).1["unacknowledged"], 0);
    assert_eq!(append(&dir).ok().seq(), t.last + 1);
    assert!(sound_head(&dir).0 == t.last + 1);
    // Once resolved there is nothing left to recover.
    let run = cli(&dir, &["recover", "--discard"]).ok();
    assert!(run.stdout.starts_with("nothing to recover"), "{}", run.stdout);
}

#[test]
fn recover_accept_keeps_the_tail_and_appends_continue_after_it() {
    let t = Tail::new();
    let dir = t.ledger("accept");
    let run = cli(&dir, &["recover", "--accept"]).ok();
    assert!(
        run.stdout
            .starts_with(&format!("kept and acknowledged record {}, which an interrupted append wrote:", t.last + 1)),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(&t.hash[..16]), "the table shows the record: {}", run.stdout);
    assert!(
        run.stdout.contains(&format!("the log now ends at record {} (hash {})", t.last + 1, t.hash)),
        "{}",
        run.stdout
    );
    assert_eq!(sound_head(&dir), (t.last + 1, t.hash.clone()));
    assert_eq!(verify(&dir).1["unacknowledged"], 0);
    assert_eq!(append(&dir).ok().seq(), t.last + 2);
    // The kept record is the item's history now.
    let history = cli(&dir, &["--json", "history", "sci-lab"]).ok().json();
    assert!(history.as_array().unwrap().iter().any(|r| r["hash"] == t.hash.as_str()), "{history}");
}

#[test]
fn recover_with_no_tail_has_nothing_to_do() {
    let t = Tail::new();
    let before = sound_head(&t.base);
    for flag in ["--accept", "--discard"] {
        let run = cli(&t.base, &["recover", flag]).ok();
        assert_eq!(run.stdout, "nothing to recover: every record in the log is acknowledged\n");
        let v = cli(&t.base, &["--json", "recover", flag]).ok().json();
        assert_eq!((v["nothing_to_recover"].clone(), v["head"]["seq"].clone()), (Value::Bool(true), before.0.into()));
    }
    assert_eq!(sound_head(&t.base), before);
}

#[test]
fn recover_takes_exactly_one_decision() {
    let t = Tail::new();
    let dir = t.ledger("usage");
    let run = cli(&dir, &["recover"]).code(2);
    assert!(run.stderr.contains("<--accept|--discard>"), "{}", run.stderr);
    let run = cli(&dir, &["recover", "--accept", "--discard"]).code(2);
    assert!(run.stderr.contains("'--accept' cannot be used with '--discard'"), "{}", run.stderr);
    let help = cli(&dir, &["recover", "--help"]).ok().stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    for words in ["Use --accept when", "Use --discard when", "Nothing acknowledged is ever removed"] {
        assert!(help.contains(words), "the help says when to use which: {help}");
    }
    assert_eq!(verify(&dir).1["unacknowledged"], 1, "a refused recover decided nothing");
}

/// A damaged ledger (acknowledged records missing) is unsound: appends and recover exit 1, and
/// recover does not pretend there is nothing to do.
#[test]
fn a_damaged_ledger_exits_1_for_appends_and_recover() {
    let t = Tail::new();
    let dir = t.tmp.path().join("truncated");
    copy_dir(&t.base, &dir);
    let raw = Raw::open(&dir);
    raw.remove(t.last);
    raw.close();
    let run = append(&dir).code(1);
    assert!(run.stderr.contains("the ledger is damaged and takes no appends"), "{}", run.stderr);
    for flag in ["--accept", "--discard"] {
        let run = cli(&dir, &["recover", flag]).code(1);
        assert!(run.stderr.contains("the ledger is damaged"), "{}", run.stderr);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }
    assert_eq!(verify(&dir).0, 1);
}
