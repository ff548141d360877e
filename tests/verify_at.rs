//! Guards `verify --at SEQ:HASH`: a record kept from earlier must still lie on the chain (the record
//! at SEQ exists and hashes to HASH), for the ledger and for bundles, in the full and the short form;
//! a rewritten or cut-back log exits 1 naming the seq, and a malformed point exits 2. `--head` keeps
//! working for bundles, as before.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use support::*;

struct Fixture {
    tmp: tempfile::TempDir,
    dir: PathBuf,
    last: u64,
}

impl Fixture {
    fn new() -> Fixture {
        let tmp = tempdir();
        let dir = tmp.path().join("ledger");
        let last = build_fixture(&dir);
        Fixture { tmp, dir, last }
    }

    /// The hash of record `seq`, from `log --json`.
    fn hash(&self, seq: u64) -> String {
        let v = cli(&self.dir, &["--json", "log", "--from", &seq.to_string(), "--limit", "1"]).ok().json();
        v[0]["hash"].as_str().expect("a hash").to_string()
    }

    /// The ledger exported to a bundle file.
    fn bundle(&self, name: &str) -> PathBuf {
        let path = self.tmp.path().join(name);
        cli(&self.dir, &["export", "--out", path.to_str().unwrap()]).ok();
        path
    }
}

/// `verify --json` with extra arguments: exit code and report.
fn verify_with(dir: Option<&Path>, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["--json", "verify"];
    all.extend_from_slice(args);
    let run = match dir {
        Some(d) => cli(d, &all),
        None => cli_raw(&all),
    };
    (run.code, run.json())
}

fn flip(hex: &str) -> String {
    let last = if hex.ends_with('0') { '1' } else { '0' };
    format!("{}{last}", &hex[..hex.len() - 1])
}

#[test]
fn kept_points_on_the_chain_pass_in_either_form() {
    let f = Fixture::new();
    let (h5, h_last) = (f.hash(5), f.hash(f.last));
    let (full, short, last) = (format!("5:{h5}"), format!("5:{}", &h5[..16]), format!("{}:{h_last}", f.last));
    let (code, v) = verify_with(Some(&f.dir), &["--at", &full, "--at", &short, "--at", &last]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["ok"], true);
    let at = v["at"].as_array().expect("the points are reported");
    assert_eq!(at.len(), 3);
    assert_eq!(at[0], serde_json::json!({"seq": 5, "hash": h5, "form": "full", "found": h5, "ok": true}));
    assert_eq!(at[1], serde_json::json!({"seq": 5, "hash": &h5[..16], "form": "short", "found": h5, "ok": true}));
    assert_eq!(at[2]["ok"], true);
    // For people: which form matched.
    let run = cli(&f.dir, &["verify", "--at", &short, "--at", &full.to_uppercase()]).ok();
    assert!(
        run.stdout.contains(&format!("--at {short}: on the chain (record 5 hashes to {h5}; matched the short form"))
    );
    assert!(
        run.stdout.contains(&format!("--at {full}: on the chain (record 5 hashes to {h5}; matched the full hash)"))
    );
    // Without --at, the report lists none.
    assert_eq!(verify(&f.dir).1["at"], serde_json::json!([]));
}

#[test]
fn a_point_off_the_chain_fails_with_exit_1_naming_the_seq() {
    let f = Fixture::new();
    let h5 = f.hash(5);
    let wrong = flip(&h5);
    let (code, v) = verify_with(Some(&f.dir), &["--at", &format!("5:{wrong}")]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(
        (v["ok"].clone(), v["problem_kind"].clone(), v["first_bad_seq"].clone()),
        (false.into(), "at_mismatch".into(), 5.into())
    );
    let problem = v["problem"].as_str().unwrap();
    for part in ["record 5 is not the record kept for it", &format!("hashes to {h5}"), &format!("not {wrong}")] {
        assert!(problem.contains(part), "{part:?} missing: {problem}");
    }
    assert_eq!(v["at"][0], serde_json::json!({"seq": 5, "hash": wrong, "form": "full", "found": h5, "ok": false}));
    // The chain itself still verified: its counts are the chain's.
    assert_eq!(v["records"], f.last + 1);
    // The short form too.
    let (code, v) =
        verify_with(Some(&f.dir), &["--at", &format!("5:{}", &h5[..16]), "--at", &format!("5:{}", flip(&h5[..16]))]);
    assert_eq!((code, v["at"][1]["ok"].clone(), v["at"][1]["form"].clone()), (1, false.into(), "short".into()), "{v}");
    // A seq past the end: the log ends before it (a cut-back log, or an older one).
    let beyond = f.last + 5;
    let (code, v) = verify_with(Some(&f.dir), &["--at", &format!("{beyond}:{h5}")]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["problem_kind"], "at_missing");
    assert_eq!(v["first_bad_seq"], f.last + 1, "the first record missing is named: {v}");
    assert!(v["problem"].as_str().unwrap().starts_with(&format!("the log ends before record {beyond}")), "{v}");
    assert_eq!(v["at"][0]["found"], Value::Null);
    let run = cli(&f.dir, &["verify", "--at", &format!("{beyond}:{h5}")]).code(1);
    assert!(
        run.stdout.starts_with(&format!("UNSOUND: record {} — the log ends before record {beyond}", f.last + 1)),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(&format!("the chain itself verified: {} records", f.last + 1)), "{}", run.stdout);
    assert!(run.stdout.contains(&format!("--at {beyond}:{h5}: NOT on the chain: the log ends before record {beyond}")));
}

#[test]
fn a_kept_point_stays_true_while_the_log_grows_and_catches_a_rewrite() {
    let f = Fixture::new();
    let kept = format!("{}:{}", f.last, f.hash(f.last));
    let old_bundle = f.bundle("old.jsonl");
    cli(&f.dir, &["--json", "progress", "sci-lab", "--text", "新进展", "--on", "2024-05-01"]).ok();
    assert_eq!(verify_with(Some(&f.dir), &["--at", &kept]).0, 0, "yesterday's head is still on today's chain");
    let new_bundle = f.bundle("new.jsonl");
    let (code, v) = verify_with(None, &["--bundle", new_bundle.to_str().unwrap(), "--at", &kept]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["at"][0]["ok"], true);
    // The old bundle holds the point as its last record.
    assert_eq!(verify_with(None, &["--bundle", old_bundle.to_str().unwrap(), "--at", &kept]).0, 0);
    // Today's head is not in yesterday's bundle.
    let today = format!("{}:{}", f.last + 1, f.hash(f.last + 1));
    let (code, v) = verify_with(None, &["--bundle", old_bundle.to_str().unwrap(), "--at", &today]);
    assert_eq!(
        (code, v["problem_kind"].clone(), v["first_bad_seq"].clone()),
        (1, "at_missing".into(), (f.last + 1).into())
    );
    // The newest record rewritten and its hash recomputed into a forged head: verify alone cannot
    // tell, a point kept from before can.
    let raw = Raw::open(&f.dir);
    let newest = f.last + 1;
    let mut bytes = raw.get(newest);
    let time = i64::from_le_bytes(bytes[layout::TIME].try_into().unwrap()) + 1;
    bytes[layout::TIME].copy_from_slice(&time.to_le_bytes());
    raw.put(newest, &bytes);
    // Derived data is rebuilt from the log: an insider drops it rather than forge it.
    raw.derived.clear().unwrap();
    raw.close();
    write_witness(&f.dir, newest, record_hash(&bytes));
    let (code, v) = verify(&f.dir);
    assert_eq!(code, 0, "a forged head passes verify alone: {v}");
    let kept_newest = format!("{newest}:{}", hash_in_bundle(&new_bundle, newest));
    let (code, v) = verify_with(Some(&f.dir), &["--at", &kept, "--at", &kept_newest]);
    assert_eq!(
        (code, v["problem_kind"].clone(), v["first_bad_seq"].clone()),
        (1, "at_mismatch".into(), newest.into()),
        "{v}"
    );
    assert_eq!(v["at"][0]["ok"], true, "the point before the rewrite still holds: {v}");
}

/// The hash a bundle gives record `seq`.
fn hash_in_bundle(bundle: &Path, seq: u64) -> String {
    let text = std::fs::read_to_string(bundle).unwrap();
    let line: Value = serde_json::from_str(text.lines().nth(seq as usize).unwrap()).unwrap();
    line["hash"].as_str().unwrap().to_string()
}

#[test]
fn bundles_check_points_and_keep_the_old_head_flag() {
    let f = Fixture::new();
    let bundle = f.bundle("b.jsonl");
    let b = bundle.to_str().unwrap();
    let h5 = f.hash(5);
    let (code, v) = verify_with(None, &["--bundle", b, "--at", &format!("5:{}", &h5[..16])]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["at"][0], serde_json::json!({"seq": 5, "hash": &h5[..16], "form": "short", "found": h5, "ok": true}));
    let (code, v) = verify_with(None, &["--bundle", b, "--at", &format!("5:{}", flip(&h5))]);
    assert_eq!(
        (code, v["problem_kind"].clone(), v["first_bad_seq"].clone()),
        (1, "at_mismatch".into(), 5.into()),
        "{v}"
    );
    // --head, hidden, still means "the last record has this hash".
    let head = f.hash(f.last);
    assert_eq!(verify_with(None, &["--bundle", b, "--head", &head]).0, 0);
    let (code, v) = verify_with(None, &["--bundle", b, "--head", &flip(&head)]);
    assert_eq!(code, 1, "{v}");
    let help = cli_raw(&["verify", "--help"]).ok();
    assert!(help.stdout.contains("--at <SEQ:HASH>") && !help.stdout.contains("--head"), "{}", help.stdout);
    // A point in a damaged bundle beyond its first bad line is not vouched for.
    let text = std::fs::read_to_string(&bundle).unwrap();
    let cut: Vec<&str> = text.lines().enumerate().filter(|(i, _)| *i != 3).map(|(_, l)| l).collect();
    std::fs::write(&bundle, cut.join("\n") + "\n").unwrap();
    let (code, v) = verify_with(None, &["--bundle", b, "--at", &format!("10:{}", f.hash(10))]);
    assert_eq!((code, v["problem_kind"].clone()), (1, "gap".into()), "the bundle's own problem comes first: {v}");
    assert_eq!((v["at"][0]["ok"].clone(), v["at"][0]["found"].clone()), (false.into(), Value::Null), "{v}");
    let run = cli_raw(&["verify", "--bundle", b, "--at", &format!("10:{}", f.hash(10))]).code(1);
    assert!(run.stdout.contains("not checked: only records 0 to 2 verified"), "{}", run.stdout);
}

#[test]
fn malformed_points_exit_2_naming_what_is_wrong() {
    let f = Fixture::new();
    let h = f.hash(5);
    for (point, message) in [
        ("5".to_string(), r#"error: at: "5" is not SEQ:HASH (a record's seq, a colon and its hash"#.to_string()),
        (format!("x:{h}"), format!(r#"error: at: "x:{h}": the seq "x" is not a record number"#)),
        (format!("-1:{h}"), format!(r#"error: at: "-1:{h}": the seq "-1" is not a record number"#)),
        (
            "5:abc".to_string(),
            r#"error: at: "5:abc": the hash has 3 hex digits; give all 64, or the 16 that tables print"#.into(),
        ),
        (
            format!("5:g{}", &h[1..]),
            format!(r#"error: at: "5:g{}": the hash holds 'g', which is not a hex digit"#, &h[1..]),
        ),
    ] {
        let run = cli(&f.dir, &["verify", "--at", &point]).code(2);
        assert!(run.stderr.starts_with(&message), "{point}: {}", run.stderr);
        assert!(run.stdout.is_empty());
        let run = cli_raw(&["verify", "--bundle", "nothing.jsonl", "--at", &point]).code(2);
        assert!(run.stderr.starts_with(&message), "{point}: {}", run.stderr);
    }
}
