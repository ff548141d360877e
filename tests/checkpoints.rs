//! `verify --checkpoint`: a deputy who kept a checkpoint learns whether the ledger still tells the same
//! story. A rolled-back copy, a fork, and a record moved forward past a witness's cosignature are each
//! named; a witness policy is met or not; `--resume` reads only what came after the last sound run,
//! and falls back to reading everything when the record it ended at was changed. Through the binary.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use support::*;

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

struct Desk {
    tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl Desk {
    fn new() -> Desk {
        let tmp = tempdir();
        let dir = tmp.path().join("ledger");
        cli(&dir, &["init", "--title", "京澳合作承诺台账", "--origin", "test.example/checkpoints"]).ok();
        Desk { tmp, dir }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    fn area(&self, dir: &Path, id: &str) {
        cli(dir, &["area", "add", id, "--name", &format!("区域{id}")]).ok();
    }

    fn checkpoint(&self, dir: &Path, name: &str) -> PathBuf {
        let path = self.file(name);
        cli(dir, &["checkpoint", "--out", s(&path)]).ok();
        path
    }

    fn verify(&self, dir: &Path, extra: &[&str]) -> (i32, Value) {
        let mut args = vec!["--json", "verify"];
        args.extend_from_slice(extra);
        let run = cli(dir, &args);
        let code = run.code;
        (code, run.json())
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn a_rolled_back_copy_and_a_fork_fail_against_the_checkpoints_kept() {
    let desk = Desk::new();
    desk.area(&desk.dir, "a1");
    let old_copy = desk.file("old-copy");
    copy_dir(&desk.dir, &old_copy);
    desk.area(&desk.dir, "a2");
    let newer = desk.checkpoint(&desk.dir, "newer");
    let (code, v) = desk.verify(&desk.dir, &["--checkpoint", s(&newer)]);
    assert_eq!((code, v["checkpoints"][0]["consistent"].clone()), (0, Value::Bool(true)), "{v}");

    // The older copy put back: every record it holds verifies, but the checkpoint covers more.
    let (code, v) = desk.verify(&old_copy, &["--checkpoint", s(&newer)]);
    assert_eq!((code, v["problem_kind"].as_str()), (1, Some("checkpoint_beyond_log")), "{v}");
    assert_eq!(v["first_bad_seq"], Value::Null);

    // A fork: the old copy goes on with other records, as long as the original; one checkpoint each.
    desk.area(&old_copy, "b2");
    let other = desk.checkpoint(&old_copy, "other");
    let (code, v) = desk.verify(&old_copy, &["--checkpoint", s(&newer)]);
    assert_eq!((code, v["problem_kind"].as_str()), (1, Some("checkpoint_mismatch")), "{v}");
    let (code, v) = desk.verify(&desk.dir, &["--checkpoint", s(&other)]);
    assert_eq!((code, v["problem_kind"].as_str()), (1, Some("checkpoint_mismatch")), "{v}");
    // Each copy is consistent with its own.
    assert_eq!(desk.verify(&old_copy, &["--checkpoint", s(&other)]).0, 0);

    // The same holds for bundles, with the ledger's verifier key.
    let vkey = cli(&desk.dir, &["ledger-key"]).ok().stdout.trim().to_string();
    let bundle = desk.file("old.jsonl");
    cli(&old_copy, &["export", "--out", s(&bundle)]).ok();
    let run = cli_raw(&["--json", "verify", "--bundle", s(&bundle), "--checkpoint", s(&newer), "--log-key", &vkey]);
    assert_eq!(
        (run.code, run.json()["problem_kind"].as_str().map(str::to_string)),
        (1, Some("checkpoint_mismatch".into()))
    );
    // Without the key, a bundle's checkpoint cannot be checked: bad input.
    let run = cli_raw(&["verify", "--bundle", s(&bundle), "--checkpoint", s(&newer)]).code(2);
    assert!(run.stderr.contains("--log-key"), "{}", run.stderr);
}

#[test]
fn a_witness_policy_is_met_or_named_and_cosignatures_bound_record_times() {
    let desk = Desk::new();
    desk.area(&desk.dir, "a1");
    let c1 = desk.checkpoint(&desk.dir, "c1");
    let vkey = cli(&desk.dir, &["ledger-key"]).ok().stdout.trim().to_string();
    // Two witnesses; only the congress office cosigns.
    let mut witness_keys = Vec::new();
    for name in ["congress", "auditor"] {
        let key = desk.file(&format!("{name}.pem"));
        cli_raw(&["key", "generate", "--out", s(&key)]).ok();
        witness_keys.push(key);
    }
    let state = desk.file("congress-state");
    let cosigned = desk.file("c1.cosigned");
    let run = cli_raw(&[
        "--json",
        "cosign",
        "--checkpoint",
        s(&c1),
        "--state",
        s(&state),
        "--key",
        s(&witness_keys[0]),
        "--log-key",
        &vkey,
        "--name",
        "congress.example",
        "--out",
        s(&cosigned),
    ])
    .ok();
    let congress = run.json()["cosigner_vkey"].as_str().expect("the witness's verifier key").to_string();
    let auditor_note = cli_raw(&[
        "--json",
        "cosign",
        "--checkpoint",
        s(&c1),
        "--state",
        s(&desk.file("auditor-state")),
        "--key",
        s(&witness_keys[1]),
        "--log-key",
        &vkey,
        "--name",
        "auditor.example",
        "--out",
        s(&desk.file("unused")),
    ])
    .ok()
    .json();
    let auditor = auditor_note["cosigner_vkey"].as_str().unwrap().to_string();

    let (code, v) = desk.verify(&desk.dir, &["--checkpoint", s(&cosigned), "--witness", &congress]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["checkpoints"][0]["witnesses"][0], "congress.example");
    let (code, v) =
        desk.verify(&desk.dir, &["--checkpoint", s(&cosigned), "--witness", &congress, "--witness", &auditor]);
    assert_eq!((code, v["problem_kind"].as_str()), (1, Some("not_witnessed")), "{v}");
    let (code, _) = desk.verify(
        &desk.dir,
        &["--checkpoint", s(&cosigned), "--witness", &congress, "--witness", &auditor, "--quorum", "1"],
    );
    assert_eq!(code, 0);

    // An insider moves the last record the witness saw to 2099, re-chaining nothing after it (it is
    // the last): the time is the ledger's, not the signer's, so only the witness's time catches it.
    let raw = Raw::open(&desk.dir);
    let last = raw.len() - 1;
    let mut bytes = raw.get(last);
    let year_2099: i64 = 4_070_908_800_000_000;
    bytes[layout::TIME].copy_from_slice(&year_2099.to_le_bytes());
    raw.put(last, &bytes);
    raw.derived.clear().unwrap();
    raw.close();
    write_witness(&desk.dir, last, record_hash(&bytes));
    let (code, v) = desk.verify(&desk.dir, &[]);
    assert_eq!(code, 0, "verify alone cannot tell a moved time: {v}");
    // Appends would inherit 2099 (times never go back): they are refused, and nothing is written.
    let run = cli(&desk.dir, &["area", "add", "late", "--name", "迟到"]).code(1);
    assert!(run.stderr.contains("more than a day after this machine's clock"), "{}", run.stderr);
    assert_eq!(desk.verify(&desk.dir, &[]).1["records"].as_u64(), Some(last + 1));
    let (code, v) = desk.verify(&desk.dir, &["--checkpoint", s(&cosigned), "--witness", &congress]);
    assert_eq!(
        (code, v["problem_kind"].as_str(), v["first_bad_seq"].as_u64()),
        (1, Some("after_witness"), Some(last)),
        "{v}"
    );
}

#[test]
fn resume_reads_only_what_came_after_and_falls_back_when_its_record_changed() {
    let desk = Desk::new();
    desk.area(&desk.dir, "a1");
    let c1 = desk.checkpoint(&desk.dir, "c1");
    let state = desk.file("verified.state");
    let (code, v) = desk.verify(&desk.dir, &["--checkpoint", s(&c1), "--resume", s(&state)]);
    assert_eq!((code, v["resumed_from"].clone()), (0, Value::Null), "{v}");
    let first = v["records"].as_u64().unwrap();
    for id in ["a2", "a3"] {
        desk.area(&desk.dir, id);
    }
    let c2 = desk.checkpoint(&desk.dir, "c2");
    let (code, v) = desk.verify(&desk.dir, &["--checkpoint", s(&c1), "--checkpoint", s(&c2), "--resume", s(&state)]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["resumed_from"].as_u64(), Some(first), "only the records after the last run are read");
    assert_eq!(v["records"].as_u64(), Some(first + 2));
    assert!(v["checkpoints"].as_array().unwrap().iter().all(|c| c["consistent"] == true));

    // The record the last run ended at changed (its time moved): resuming would trust a changed log,
    // so the whole log is read, and the change is found.
    let raw = Raw::open(&desk.dir);
    let at = first + 1;
    let mut bytes = raw.get(at);
    let time = i64::from_le_bytes(bytes[layout::TIME].try_into().unwrap()) + 1;
    bytes[layout::TIME].copy_from_slice(&time.to_le_bytes());
    raw.put(at, &bytes);
    raw.close();
    let (code, v) = desk.verify(&desk.dir, &["--checkpoint", s(&c2), "--resume", s(&state)]);
    assert_eq!((code, v["resumed_from"].clone()), (1, Value::Null), "{v}");
    // A file that is not a verified state is refused, naming it.
    std::fs::write(&state, b"not a state").unwrap();
    let run = cli(&desk.dir, &["verify", "--resume", s(&state)]).code(2);
    assert!(run.stderr.contains("verified.state"), "{}", run.stderr);
}

#[test]
fn a_ledger_key_replaced_in_the_directory_is_caught_and_the_kept_key_still_verifies() {
    let desk = Desk::new();
    desk.area(&desk.dir, "a1");
    let kept = desk.checkpoint(&desk.dir, "kept");
    let vkey = cli(&desk.dir, &["ledger-key"]).ok().stdout.trim().to_string();
    // An insider puts its own key where the ledger keeps its checkpoint key.
    let evil = desk.file("evil.pem");
    cli_raw(&["key", "generate", "--out", s(&evil)]).ok();
    std::fs::copy(format!("{}.pub", evil.display()), desk.dir.join("keys/_ledger.pub")).unwrap();
    let run = cli(&desk.dir, &["verify", "--checkpoint", s(&kept)]).code(2);
    assert!(run.stderr.contains("is not signed by the ledger key"), "{}", run.stderr);
    // With the key the deputy kept, her checkpoint holds.
    assert_eq!(desk.verify(&desk.dir, &["--checkpoint", s(&kept), "--log-key", &vkey]).0, 0);
}
