//! Guards the main job: `commitments demo` builds a sound ledger from the embedded reply 0771 and a
//! simulated year, and the ledger it leaves behind answers reads, history and as-of views.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_commitments")).args(args).output().expect("the binary runs")
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("JSON")
}

#[test]
fn the_demo_leaves_a_sound_ledger_with_the_whole_reply() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("demo");
    let l = ledger.to_str().unwrap();
    let v = json(&run(&["--ledger", l, "--json", "demo"]));
    assert_eq!(v["verify"]["ok"], true, "{v}");
    assert_eq!(v["projection_matches_replay"], true);
    assert!(v["imported"]["commitments"].as_u64().unwrap() >= 30, "{v}");
    assert!(v["updates"].as_array().unwrap().len() >= 10);
    assert_eq!(v["summary"]["sources"][0]["verdict"], "basically_satisfied");
    assert_eq!(v["summary"]["sources"][0]["category"], "b");

    // The ledger it leaves is an ordinary ledger.
    let list = json(&run(&["--ledger", l, "--json", "list", "--source", "reply-0771"]));
    assert_eq!(list["items"].as_array().unwrap().len() as u64, v["imported"]["commitments"].as_u64().unwrap());
    let verify = json(&run(&["--ledger", l, "--json", "verify"]));
    assert_eq!(verify["ok"], true);
    assert_eq!(verify["records"], v["verify"]["records"]);

    // The simulated year is visible as of earlier dates.
    let before = json(&run(&["--ledger", l, "--json", "show", "0771-s3-beyond-expo", "--as-of", "2024-10-31"]));
    assert_eq!(before["status"], "planned");
    let during = json(&run(&["--ledger", l, "--json", "show", "0771-s3-beyond-expo", "--as-of", "2025-01-31"]));
    assert_eq!(during["status"], "in_progress");
    let now = json(&run(&["--ledger", l, "--json", "show", "0771-s3-beyond-expo"]));
    assert_eq!(now["status"], "delivered");

    // The correction is kept beside the entry it corrects.
    let item = json(&run(&["--ledger", l, "--json", "show", "0771-s4-performance-exchanges"]));
    assert_eq!(item["latest_progress"]["text"], "2024年两地互访演出项目11批次，105人次。");
    assert_eq!(item["corrections"][0]["entry"], 3);
    let history = json(&run(&["--ledger", l, "--json", "history", "0771-s4-performance-exchanges"]));
    assert_eq!(history[3]["event"]["text"], "2024年两地互访演出项目11批次，150人次。", "the log keeps the original");
    assert_eq!(history[5]["type"], "EntryCorrected");

    // A second demo into the same directory is refused.
    let again = run(&["--ledger", l, "demo"]);
    assert_eq!(again.status.code(), Some(2));
}

#[test]
fn the_demo_prints_what_it_did_and_what_to_try_next() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("demo");
    let o = run(&["--ledger", ledger.to_str().unwrap(), "demo"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    for expected in ["Imported reply No. 0771", "OK:", "By area", "By department", "History of item", "Try next"] {
        assert!(out.contains(expected), "{expected:?} missing:\n{out}");
    }
}
