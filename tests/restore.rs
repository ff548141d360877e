//! Guards `commitments restore BUNDLE --ledger NEW_DIR`: a verified export bundle rebuilds a ledger
//! byte for byte (the same records, the same hashes; `verify` passes and its head is the bundle's),
//! for the demo ledger and a 100,000-record one; a bundle that does not verify, or a directory that is
//! not new, restores nothing and leaves nothing behind.

mod support;

use commitment_ledger::{Command, Ledger, Seq, Store};
use serde_json::Value;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;
use support::*;

/// Every record's stored bytes, read through a read-only ledger.
fn stored_records(dir: &Path) -> Vec<Vec<u8>> {
    let ledger = Ledger::open_read(dir).expect("opens for reading");
    let mut out = Vec::new();
    ledger
        .store()
        .scan(Seq(0), &mut |_, bytes| {
            out.push(bytes.to_vec());
            ControlFlow::Continue(())
        })
        .expect("scans");
    out
}

/// The last line's hash of a bundle file, and its number of lines.
fn bundle_head(bundle: &Path) -> (String, u64) {
    let text = std::fs::read_to_string(bundle).expect("reads the bundle");
    let last: Value = serde_json::from_str(text.lines().last().expect("a line")).expect("JSON");
    (last["hash"].as_str().expect("a hash").to_string(), text.lines().count() as u64)
}

/// Exports `from`, restores the bundle into `to` and checks the round trip: the restored ledger
/// verifies, its head is the bundle's last hash, its records are byte for byte the original's, and
/// its own export is the same bundle.
fn round_trip(from: &Path, to: &Path, work: &Path) -> u64 {
    let bundle = work.join("bundle.jsonl");
    cli(from, &["export", "--out", bundle.to_str().unwrap()]).ok();
    let (head_hash, lines) = bundle_head(&bundle);
    let started = Instant::now();
    let v = cli(to, &["--json", "restore", bundle.to_str().unwrap()]).ok().json();
    eprintln!("restored {lines} records in {:.1} s", started.elapsed().as_secs_f64());
    assert_eq!(v["restored"], lines, "{v}");
    assert_eq!((v["head"]["seq"].as_u64(), v["head"]["hash"].as_str()), (Some(lines - 1), Some(head_hash.as_str())));
    assert_eq!(v["ledger"], to.to_str().unwrap());
    let (code, report) = verify(to);
    assert_eq!(code, 0, "{report}");
    assert_eq!((report["ok"].clone(), report["unacknowledged"].clone()), (Value::Bool(true), Value::from(0)));
    assert_eq!(report["records"], lines);
    assert_eq!(report["head"], head_hash.as_str(), "the restored head is the bundle's");
    let (original, restored) = (stored_records(from), stored_records(to));
    assert_eq!(original.len(), restored.len());
    assert!(original == restored, "every record's stored bytes are the same");
    let again = work.join("again.jsonl");
    cli(to, &["export", "--out", again.to_str().unwrap()]).ok();
    assert!(
        std::fs::read(&bundle).unwrap() == std::fs::read(&again).unwrap(),
        "the restored ledger exports the same bundle"
    );
    lines
}

#[test]
fn the_demo_ledger_round_trips_through_a_bundle() {
    let tmp = tempdir();
    let demo = tmp.path().join("demo");
    cli_raw(&["--ledger", demo.to_str().unwrap(), "--json", "demo"]).ok();
    let restored = tmp.path().join("restored");
    round_trip(&demo, &restored, tmp.path());
    // The restored ledger is an ordinary one: reads agree and appends continue its chain.
    for args in [&["--json", "list"][..], &["--json", "summary"], &["--json", "show", "0771-s2-bonds-listed"]] {
        let (a, b) = (cli(&demo, args).ok().json(), cli(&restored, args).ok().json());
        assert_eq!(without_day(a), without_day(b), "{args:?}");
    }
    let (head, _) = sound_head(&restored);
    // A bundle holds records, not private keys: the department signs with the key it kept (here, the
    // demo ledger's keys/ file); without one it cannot append.
    let progress = ["--json", "progress", "0771-s3-joint-rd", "--text", "恢复后继续记录。", "--actor", "bj-stc-zgc"];
    let refused = cli(&restored, &progress).code(2);
    assert!(refused.stderr.contains("no signing key for bj-stc-zgc"), "{}", refused.stderr);
    let key = demo.join("keys/bj-stc-zgc.pem");
    let mut with_key = progress.to_vec();
    with_key.extend(["--key", key.to_str().unwrap()]);
    let run = cli(&restored, &with_key);
    assert_eq!(run.ok().seq(), head + 1);
    // For people: the records restored and the head.
    let again = tmp.path().join("again");
    let run = cli(&again, &["restore", tmp.path().join("bundle.jsonl").to_str().unwrap()]).ok();
    let (hash, lines) = bundle_head(&tmp.path().join("bundle.jsonl"));
    assert_eq!(
        run.stdout,
        format!("restored {lines} records into {}; head: record {}, hash {hash}\n", again.display(), lines - 1)
    );
}

/// A ledger of 100,000 records restored from its bundle. Built with the library in batches of 1,000
/// progress reports; runs in CI, so it keeps to about a minute in a debug build.
#[test]
fn restore_round_trip_100k() {
    let tmp = tempdir();
    let dir = tmp.path().join("big");
    let started = Instant::now();
    {
        let mut ledger = new_ledger(&dir);
        ledger.init(opened("admin"), seed_areas()).unwrap();
        let mut setup = vec![(actor("admin"), register("office", "港澳办", commitment_ledger::Role::Office))];
        setup.push((actor("admin"), register("fin", "市委金融办", commitment_ledger::Role::Department)));
        let ids = ["big-a", "big-b", "big-c", "big-d"];
        for id in ids {
            let c = commitment(id, "fin", "finance", commitment_ledger::Kind::Ongoing);
            setup.push((actor("office"), Command::RecordCommitment(c)));
        }
        ledger.append_batch(setup).unwrap();
        let mut n = ledger.head().unwrap().seq.0 + 1;
        let mut batch_no = 0u64;
        while n < 100_000 {
            let batch: Vec<_> = (0..1_000)
                .map(|i| {
                    let text = format!("第{batch_no}批第{i}次进展：双方工作组按计划推进合作事项。");
                    (actor("fin"), progress(ids[(i % 4) as usize], &text, "2024-05"))
                })
                .collect();
            n += ledger.append_batch(batch).unwrap().len() as u64;
            batch_no += 1;
        }
        ledger.close().unwrap();
    }
    eprintln!("built in {:.1} s", started.elapsed().as_secs_f64());
    let restored = tmp.path().join("restored");
    let lines = round_trip(&dir, &restored, tmp.path());
    assert!(lines >= 100_000, "{lines}");
    eprintln!("whole test in {:.1} s", started.elapsed().as_secs_f64());
}

/// A bundle changed in one line, a bundle cut in the middle of a line, and one that is not a bundle:
/// each is refused with exit 1 (or 2 when it cannot be read) and the new directory is not created.
#[test]
fn a_doctored_bundle_is_refused_and_nothing_is_left_behind() {
    let tmp = tempdir();
    let dir = tmp.path().join("ledger");
    build_fixture(&dir);
    let bundle = tmp.path().join("bundle.jsonl");
    cli(&dir, &["export", "--out", bundle.to_str().unwrap()]).ok();
    let text = std::fs::read_to_string(&bundle).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let doctored = |name: &str, lines: Vec<String>| -> PathBuf {
        let path = tmp.path().join(name);
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        path
    };
    let mut edited: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let by_fin = lines.iter().position(|l| l.contains(r#""actor":"fin""#)).expect("a record appended by fin");
    edited[by_fin] = edited[by_fin].replacen(r#""actor":"fin""#, r#""actor":"office""#, 1);
    let mut cut: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    cut[5].truncate(40);
    let mut dropped: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    dropped.remove(7);
    for (name, bundle, problem) in [
        (
            "edited",
            doctored("edited.jsonl", edited),
            "field `actor` says \"office\" but the record's stored bytes say \"fin\"",
        ),
        ("cut", doctored("cut.jsonl", cut), "the line is not a record"),
        ("dropped", doctored("dropped.jsonl", dropped), "record 7 is missing: the log goes on at 8"),
    ] {
        let target = tmp.path().join(format!("restored-{name}"));
        let run = cli(&target, &["restore", bundle.to_str().unwrap()]).code(1);
        assert!(
            run.stderr.starts_with("error: the bundle does not verify, so nothing was restored: "),
            "{name}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(problem), "{name}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{name}: {}", run.stdout);
        assert!(!target.exists(), "{name}: {} was left behind", target.display());
    }
    // A directory that is not new is refused before anything is read or written.
    let before = snapshot(&dir);
    let run = cli(&dir, &["restore", bundle.to_str().unwrap()]).code(2);
    assert_eq!(run.stderr, format!("error: ledger: {} is not empty; restore needs a new directory\n", dir.display()));
    assert_eq!(snapshot(&dir), before);
    let other = tmp.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "mine").unwrap();
    cli(&other, &["restore", bundle.to_str().unwrap()]).code(2);
    assert_eq!(snapshot(&other), vec![(other.join("notes.txt"), b"mine".to_vec())]);
    // A bundle that cannot be read is bad input.
    let target = tmp.path().join("restored-missing");
    let run = cli(&target, &["restore", tmp.path().join("nothing.jsonl").to_str().unwrap()]).code(2);
    assert!(run.stderr.starts_with("error: bundle: cannot read "), "{}", run.stderr);
    assert!(!target.exists());
}

/// A refused restore into an existing empty directory leaves it empty.
#[test]
fn a_refused_restore_into_an_empty_directory_leaves_it_empty() {
    let tmp = tempdir();
    let dir = tmp.path().join("ledger");
    build_fixture(&dir);
    let bundle = tmp.path().join("bundle.jsonl");
    cli(&dir, &["export", "--out", bundle.to_str().unwrap()]).ok();
    let text = std::fs::read_to_string(&bundle).unwrap();
    std::fs::write(&bundle, text.replacen(r#""actor":"fin""#, r#""actor":"office""#, 1)).unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    cli(&empty, &["restore", bundle.to_str().unwrap()]).code(1);
    let left: Vec<_> = snapshot(&empty).into_iter().map(|(p, _)| p).collect();
    assert!(left.is_empty(), "the empty directory is left empty: {left:?}");
}
