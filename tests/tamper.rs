//! Guards tamper evidence: changes made directly to a closed ledger's sled trees (records flipped,
//! removed, renumbered, swapped, truncated; projections corrupted) are named by `commitments verify` or
//! `commitments replay`, and a ledger whose log ends before its acknowledged head takes no appends.
//!
//! The fixture is a signed ledger (record format 2): every record carries its actor's signature over
//! its statement, which covers the event but not what the ledger assigns (seq, link, time). So a
//! rewrite re-chained without the actors' keys is caught at its first record (`bad_signature`); an
//! insider who also took the keys from `keys/` passes `verify` alone, and only a checkpoint kept from
//! before shows it (`checkpoint_mismatch`), as a witnessed one shows a time moved forward
//! (`after_witness`). `tests/tamper_corpus.rs` holds the systematic corpus.

mod support;

use commitment_ledger::Event;
use commitment_ledger::{Hash, Ledger, MemStore, Record, Seq};
use commitment_ledger::{ItemState, Registry};
use serde_json::Value;
use std::path::{Path, PathBuf};
use support::*;

/// The fixture ledger, built once per test, copied for each tampering.
struct Fixture {
    tmp: tempfile::TempDir,
    base: PathBuf,
    /// The seq of its last record.
    last: u64,
}

impl Fixture {
    fn new() -> Fixture {
        let tmp = tempdir();
        let base = tmp.path().join("base");
        let last = build_fixture(&base);
        Fixture { tmp, base, last }
    }

    /// A fresh copy of the untouched ledger.
    fn copy(&self, name: &str) -> PathBuf {
        let dir = self.tmp.path().join(name);
        copy_dir(&self.base, &dir);
        dir
    }

    /// A fresh copy, tampered with through sled directly.
    fn tampered(&self, name: &str, tamper: impl FnOnce(&Raw)) -> PathBuf {
        let dir = self.copy(name);
        let raw = Raw::open(&dir);
        tamper(&raw);
        raw.close();
        dir
    }
}

/// `verify --json` on a ledger that must be found unsound: exit code 1 and `ok: false`.
#[track_caller]
fn unsound(dir: &Path) -> Value {
    let (code, v) = verify(dir);
    assert_eq!(code, 1, "verify must exit 1 on a tampered ledger: {v}");
    assert_eq!(v["ok"], false, "{v}");
    v
}

fn first_bad(v: &Value) -> u64 {
    v["first_bad_seq"].as_u64().unwrap_or_else(|| panic!("no first_bad_seq in {v}"))
}

#[test]
fn the_untouched_fixture_verifies() {
    let f = Fixture::new();
    let (code, v) = verify(&f.base);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["ok"], true);
    assert_eq!(v["records"], f.last + 1);
    assert_eq!(v["head_seq"], f.last);
    assert_eq!(v["unacknowledged"], 0);
    assert_eq!(v["first_bad_seq"], Value::Null);
    // Every record is signed (a ledger made by this version), and every signature was checked.
    assert_eq!((v["signed"].as_u64(), v["unsigned"].as_u64()), (Some(f.last + 1), Some(0)), "{v}");
    // A copy is as good as the original (the tests below rely on it).
    assert_eq!(sound_head(&f.copy("copy")), sound_head(&f.base));
}

/// One byte of every record's header, in turn: the format byte, the seq field or the link. Each
/// breaks the record itself, so verify names exactly that record.
#[test]
fn a_flipped_header_byte_is_named_in_every_record() {
    let f = Fixture::new();
    for seq in 0..=f.last {
        let (offset, kind) = match seq % 3 {
            0 => (0, "undecodable"),
            1 => (layout::SEQ.start, "seq_mismatch"),
            _ => (layout::PREV.start + 7, "broken_link"),
        };
        let dir = f.tampered(&format!("header-{seq}"), |raw| {
            let mut bytes = raw.get(seq);
            bytes[offset] ^= 0x01;
            raw.put(seq, &bytes);
        });
        let v = unsound(&dir);
        assert_eq!(first_bad(&v), seq, "byte {offset} of record {seq} flipped: {v}");
        assert_eq!(v["problem_kind"], kind, "record {seq}: {v}");
        assert_eq!(v["records"], seq, "the records before it verified");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// One byte of every record that leaves it decodable and lawful: the acceptance time moves by one
/// microsecond. The ledger assigns the time, so the actor's signature does not cover it: only the chain
/// shows it. The next record (or the acknowledged head) vouches for the old hash, so verify blames the
/// changed record, not its intact successor.
fn flip_time(raw: &Raw, seq: u64) {
    let mut bytes = raw.get(seq);
    let at = layout::TIME.start;
    // The fixture's times are whole seconds: bit 0 is clear, so the time moves forward by 1 µs and
    // no "back-dated" check can see it; only the hash chain can.
    assert_eq!(bytes[at] & 1, 0);
    bytes[at] ^= 0x01;
    raw.put(seq, &bytes);
}

#[test]
fn a_changed_record_is_named_by_its_own_seq() {
    let f = Fixture::new();
    // Through the binary for the first, a middle, the second-to-last and the last record; the
    // in-memory test below covers every record.
    for seq in [0, 1, f.last / 2, f.last - 1, f.last] {
        let dir = f.tampered(&format!("time-{seq}"), |raw| flip_time(raw, seq));
        let v = unsound(&dir);
        assert_eq!(first_bad(&v), seq, "the acceptance time of record {seq} moved by 1 µs: {v}");
        let kind = if seq == f.last { "head_mismatch" } else { "changed" };
        assert_eq!(v["problem_kind"], kind, "{v}");
        assert_eq!(v["records"], seq, "{v}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
    // The attack a reader cares about: the figure "4 enterprises" quietly becomes 5 (its signature no
    // longer verifies either, but the chain, checked first, already names it).
    let seq = figure_seq(&f);
    let dir = f.tampered("figure", |raw| {
        let mut rec = Record::decode(&raw.get(seq)).unwrap();
        let Event::IndicatorRecorded(e) = &mut rec.event else { unreachable!() };
        e.value = "5".into();
        raw.put(seq, &rec.encode());
    });
    let v = unsound(&dir);
    assert_eq!(first_bad(&v), seq, "{v}");
    assert_eq!(v["problem_kind"], "changed", "{v}");
}

/// The seq of the fixture's first figure ("4 enterprises").
fn figure_seq(f: &Fixture) -> u64 {
    let log = cli(&f.base, &["--json", "log", "--limit", "1000"]).ok().json();
    log.as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "IndicatorRecorded" && r["event"]["value"] == "4")
        .and_then(|r| r["seq"].as_u64())
        .expect("the fixture states the figure 4")
}

#[test]
fn the_last_record_changed_is_caught_by_the_stored_head() {
    let f = Fixture::new();
    let dir = f.tampered("last", |raw| {
        let mut rec = Record::decode(&raw.get(f.last)).unwrap();
        let Event::SourceCategorized(e) = &mut rec.event else { panic!("the fixture ends with a category") };
        e.category = "a".parse().unwrap();
        raw.put(f.last, &rec.encode());
    });
    let v = unsound(&dir);
    assert_eq!(first_bad(&v), f.last);
    assert_eq!(v["problem_kind"], "head_mismatch");
    assert_eq!(v["records"], f.last, "every record before it verified");
}

/// Bit-0 flips across every record, verified in memory as `verify` does: every third byte, starting at
/// a different offset in consecutive records so that each position mod 3 is covered. None goes
/// unnoticed, and each is named at the changed record.
#[test]
fn no_single_byte_flip_anywhere_goes_unnoticed() {
    let mut l = Ledger::with_store(MemStore::new(), Box::new(clock_at(FIXTURE_TIME))).unwrap();
    l.init(opened("admin"), seed_areas()).unwrap();
    l.append_batch(fixture_commands()).unwrap();
    let base = l.store().clone();
    drop(l);
    let records: Vec<(u64, usize)> = base.clone().log_mut().iter().map(|(k, v)| (*k, v.len())).collect();
    let mut checked = 0;
    for (n, &(seq, len)) in records.iter().enumerate() {
        for i in (n % 3..len).step_by(3) {
            let mut store = base.clone();
            store.log_mut().get_mut(&seq).unwrap()[i] ^= 0x01;
            let l = Ledger::with_store(store, Box::new(clock_at(FIXTURE_TIME))).unwrap();
            let r = l.verify(&mut |_| {}).unwrap();
            assert!(!r.ok, "flipping byte {i} of record {seq} went unnoticed");
            assert_eq!(r.first_bad_seq, Some(seq), "byte {i} of record {seq}: {r:?}");
            assert_eq!(r.records, seq, "the records before it verified");
            checked += 1;
        }
    }
    assert!(checked > 2_500, "{checked} flips");
}

/// Rewrites the log: the record at `gone` is removed and every later one moves down by one, its key
/// and its seq field both rewritten, so that the sequence has no gap.
fn remove_and_renumber(raw: &Raw, gone: u64) {
    let n = raw.len();
    raw.remove(gone);
    for seq in gone + 1..n {
        let mut bytes = raw.get(seq);
        set_seq(&mut bytes, seq - 1);
        raw.remove(seq);
        raw.put(seq - 1, &bytes);
    }
}

#[test]
fn a_removed_record_with_the_later_ones_renumbered_is_named() {
    let f = Fixture::new();
    for gone in [1, f.last / 2, f.last - 1] {
        let dir = f.tampered(&format!("renumbered-{gone}"), |raw| {
            remove_and_renumber(raw, gone);
            assert_eq!(raw.len(), f.last, "one record fewer");
            let keys: Vec<u64> =
                raw.log.iter().keys().map(|k| u64::from_be_bytes(k.unwrap().as_ref().try_into().unwrap())).collect();
            assert_eq!(keys, (0..f.last).collect::<Vec<_>>(), "no gap left");
        });
        let v = unsound(&dir);
        assert_eq!(first_bad(&v), gone, "record {gone} removed: {v}");
        assert_eq!(v["problem_kind"], "broken_link", "{v}");
    }
}

#[test]
fn a_removed_record_leaves_a_gap() {
    let f = Fixture::new();
    for gone in [0, 1, f.last / 2, f.last - 1] {
        let dir = f.tampered(&format!("gap-{gone}"), |raw| raw.remove(gone));
        let v = unsound(&dir);
        assert_eq!(first_bad(&v), gone, "{v}");
        assert_eq!(v["problem_kind"], "gap", "{v}");
        assert!(v["problem"].as_str().unwrap().contains(&format!("record {gone} is missing")), "{v}");
    }
}

#[test]
fn swapped_records_are_named_by_the_lower_seq() {
    let f = Fixture::new();
    for (i, j) in [(0, 1), (5, 6), (3, 30), (f.last - 1, f.last), (1, f.last)] {
        let dir = f.tampered(&format!("swap-{i}-{j}"), |raw| {
            let (a, b) = (raw.get(i), raw.get(j));
            raw.put(i, &b);
            raw.put(j, &a);
        });
        let v = unsound(&dir);
        assert_eq!(first_bad(&v), i, "records {i} and {j} swapped: {v}");
    }
    // Swapped and with their seq fields rewritten to match their new places: still named.
    let (i, j) = (10, 20);
    let dir = f.tampered("swap-renumbered", |raw| {
        let (mut a, mut b) = (raw.get(i), raw.get(j));
        set_seq(&mut a, j);
        set_seq(&mut b, i);
        raw.put(i, &b);
        raw.put(j, &a);
    });
    let v = unsound(&dir);
    assert_eq!(first_bad(&v), i, "{v}");
    assert_eq!(v["problem_kind"], "broken_link", "{v}");
}

#[test]
fn truncated_newest_records_are_reported() {
    let f = Fixture::new();
    for cut in [1, 3, 10] {
        let dir = f.tampered(&format!("truncated-{cut}"), |raw| {
            for seq in f.last + 1 - cut..=f.last {
                raw.remove(seq);
            }
        });
        let v = unsound(&dir);
        let remaining = f.last + 1 - cut;
        assert_eq!(v["problem_kind"], "truncated", "{v}");
        assert_eq!(first_bad(&v), remaining, "{v}");
        assert_eq!(v["records"], remaining, "{v}");
        assert!(v["problem"].as_str().unwrap().contains(&format!("acknowledged record {}", f.last)), "{v}");
    }
}

/// Rewrites the log from `from` on: `change` applied to that record, then each later record relinked
/// to the rewritten one before it. What a forger with write access and this crate can do.
fn rewrite_suffix(raw: &Raw, from: u64, change: impl FnOnce(&[u8]) -> Vec<u8>) {
    let n = raw.len();
    let mut bytes = change(&raw.get(from));
    raw.put(from, &bytes);
    for seq in from + 1..n {
        let prev = record_hash(&bytes);
        bytes = raw.get(seq);
        set_prev(&mut bytes, prev);
        raw.put(seq, &bytes);
    }
}

/// The figure "4 enterprises" made 5, the record's old signature kept (no key).
fn figure_five(bytes: &[u8]) -> Vec<u8> {
    let mut rec = Record::decode(bytes).unwrap();
    let Event::IndicatorRecorded(e) = &mut rec.event else { unreachable!() };
    e.value = "5".into();
    rec.encode()
}

/// The origin of the fixture's ledger (its statements name it).
const ORIGIN: &str = "test.example/commitments";

/// Moves the witness to the log's last record and drops the derived data (the projection, whose
/// watermark names the original last record, and the stored Merkle tree): derived data is rebuilt from
/// the log by the next writer, so an insider who rewrote the log does this too.
fn cover_up(dir: &Path) {
    let raw = Raw::open(dir);
    let last = raw.len() - 1;
    let hash = record_hash(&raw.get(last));
    raw.derived.clear().unwrap();
    raw.close();
    write_witness(dir, last, hash);
}

/// A suffix rewritten with recomputed hashes through sled, without the actor's key: the rewritten
/// record's signature no longer verifies, and verify names it — not the acknowledged head at the end.
/// Re-signed with the key from `keys/`, the acknowledged head (kept outside sled's files) still
/// catches it, at the last record.
#[test]
fn a_rewritten_suffix_is_caught_at_its_first_record_or_by_the_acknowledged_head() {
    let f = Fixture::new();
    let seq = figure_seq(&f);
    let dir = f.tampered("rewritten", |raw| rewrite_suffix(raw, seq, figure_five));
    let v = unsound(&dir);
    assert_eq!(v["problem_kind"], "bad_signature", "{v}");
    assert_eq!(first_bad(&v), seq, "the first rewritten record: {v}");
    assert_eq!(v["records"], seq, "{v}");
    assert!(v["problem"].as_str().unwrap().contains("fin's key"), "names the actor: {v}");

    let key = stolen_key(&f.base, "fin");
    let dir = f.tampered("rewritten-signed", |raw| {
        rewrite_suffix(raw, seq, |b| resign(&figure_five(b), ORIGIN, &key));
    });
    let v = unsound(&dir);
    assert_eq!(v["problem_kind"], "head_mismatch", "{v}");
    assert_eq!(first_bad(&v), f.last, "the last record is provably not the one acknowledged: {v}");
}

/// The insider's rewrite in full: the figure changed, every later record re-chained, the witness
/// rewritten, the derived data dropped. Without the actor's key, verify names the rewritten record.
/// With the keys taken from the ledger's `keys/` folder (the record re-signed), verify alone cannot
/// tell: this is the insider with the keys, and the reason checkpoints exist. A checkpoint kept from
/// before the rewrite catches it (`checkpoint_mismatch`, exit 1, no record to blame: it is the history
/// that differs); one a witness cosigned also catches the records' times moved forward, which needs no
/// key at all (the time is not signed).
#[test]
fn a_rewritten_suffix_and_witness_are_caught_by_a_signature_or_a_checkpoint_kept_from_before() {
    let f = Fixture::new();
    let (_, original_head) = sound_head(&f.base);
    let seq = figure_seq(&f);
    // A checkpoint published before, and a witness's cosignature of it.
    let c1 = f.tmp.path().join("c1");
    cli(&f.base, &["checkpoint", "--out", c1.to_str().unwrap()]).ok();
    let vkey = f.tmp.path().join("ledger.vkey");
    std::fs::write(&vkey, cli(&f.base, &["ledger-key"]).ok().stdout).unwrap();
    let wkey = f.tmp.path().join("witness.pem");
    cli_raw(&["key", "generate", "--out", wkey.to_str().unwrap()]).ok();
    let c1w = f.tmp.path().join("c1-cosigned");
    let state = f.tmp.path().join("witness-state");
    let cosigned = cli_raw(&[
        "--json",
        "cosign",
        "--checkpoint",
        c1.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
        "--key",
        wkey.to_str().unwrap(),
        "--log-key",
        vkey.to_str().unwrap(),
        "--out",
        c1w.to_str().unwrap(),
    ])
    .ok()
    .json();
    let witness = cosigned["cosigner_vkey"].as_str().unwrap().to_string();
    let held = |dir: &Path, cp: &Path, witnessed: bool| {
        let mut args = vec!["--json", "verify", "--checkpoint", cp.to_str().unwrap()];
        if witnessed {
            args.extend(["--witness", witness.as_str()]);
        }
        let run = cli(dir, &args);
        (run.code, run.json())
    };
    let (code, v) = held(&f.base, &c1w, true);
    assert_eq!((code, &v["ok"]), (0, &Value::Bool(true)), "the untouched ledger holds to it: {v}");

    // Without the key: the rewritten record's signature.
    let dir = f.tampered("rewritten-no-key", |raw| rewrite_suffix(raw, seq, figure_five));
    cover_up(&dir);
    let v = unsound(&dir);
    assert_eq!((v["problem_kind"].as_str(), first_bad(&v)), (Some("bad_signature"), seq), "{v}");

    // With the stolen key.
    let key = stolen_key(&f.base, "fin");
    let dir = f.tampered("rewritten", |raw| rewrite_suffix(raw, seq, |b| resign(&figure_five(b), ORIGIN, &key)));
    cover_up(&dir);
    let (code, v) = verify(&dir);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["ok"], true, "verify alone cannot tell a rewrite by the insider who holds the keys");
    assert_eq!(v["records"], f.last + 1);
    assert_ne!(v["head"].as_str().unwrap(), original_head);
    let show = cli(&dir, &["--json", "show", "fin-bonds"]).ok().json();
    assert_eq!(show["indicators"][0]["history"][0]["value"], "5", "the forged figure is what readers see");
    for (cp, witnessed) in [(&c1, false), (&c1w, true)] {
        let (code, v) = held(&dir, cp, witnessed);
        assert_eq!(code, 1, "{v}");
        assert_eq!((v["ok"].as_bool(), v["problem_kind"].as_str()), (Some(false), Some("checkpoint_mismatch")), "{v}");
        assert_eq!(v["first_bad_seq"], Value::Null, "no record is to blame: the history differs: {v}");
        assert_eq!(v["records"], f.last + 1, "every record verified on its own: {v}");
    }

    // The times from the figure on moved forward (80 years, past the witness's cosignature), re-chained,
    // no key needed: verify alone passes; the cosigned checkpoint names the first record moved.
    let dir = f.tampered("forward", |raw| {
        for later in seq..=f.last {
            let mut b = raw.get(later);
            let time = i64::from_le_bytes(b[layout::TIME].try_into().unwrap()) + 80 * 365 * DAY_US;
            b[layout::TIME].copy_from_slice(&time.to_le_bytes());
            raw.put(later, &b);
        }
        rewrite_suffix(raw, seq, |b| b.to_vec());
    });
    cover_up(&dir);
    let (code, v) = verify(&dir);
    assert_eq!((code, &v["ok"]), (0, &Value::Bool(true)), "the time is not signed: {v}");
    let (code, v) = held(&dir, &c1w, true);
    assert_eq!(code, 1, "{v}");
    assert_eq!((v["problem_kind"].as_str(), first_bad(&v)), (Some("after_witness"), seq), "{v}");
}

/// Decodes, changes and re-encodes a stored projection value.
fn edit<T: serde::Serialize + serde::de::DeserializeOwned>(raw: &Raw, key: &str, change: impl FnOnce(&mut T)) {
    let mut v: T =
        commitment_ledger::decode_stored(&raw.derived.get(key).unwrap().expect("projection value present")).unwrap();
    change(&mut v);
    raw.derived.insert(key, commitment_ledger::encode_stored(&v)).unwrap();
}

#[test]
fn a_corrupted_projection_is_named_by_replay_and_rebuilt() {
    let f = Fixture::new();
    type Tamper = fn(&Raw);
    let cases: [(&str, Tamper, &str); 5] = [
        (
            "changed",
            |raw| edit::<ItemState>(raw, "p/item/fin-bonds", |i| i.core.status = "dropped".parse().unwrap()),
            "item fin-bonds differs from its replay",
        ),
        (
            "garbage",
            |raw| {
                raw.derived.insert("p/item/fin-bonds", &b"not an item"[..]).unwrap();
            },
            "item fin-bonds differs from its replay",
        ),
        (
            "missing",
            |raw| {
                raw.derived.remove("p/item/fin-bonds").unwrap().unwrap();
            },
            "item fin-bonds is missing from the projection",
        ),
        (
            "ghost",
            |raw| {
                let bytes = raw.derived.get("p/item/fin-bonds").unwrap().unwrap();
                raw.derived.insert("p/item/ghost", bytes).unwrap();
            },
            "item ghost is in the projection but not in the log",
        ),
        (
            "registry",
            |raw| {
                edit::<Registry>(raw, "p/registry", |r| {
                    r.actors.get_mut(&actor("fin")).unwrap().name = "假的金融办".into();
                })
            },
            "the projection's registry (actors, areas, sources) differs from the replay",
        ),
    ];
    let truth = cli(&f.base, &["--json", "show", "fin-bonds"]).ok().json();
    for (name, tamper, difference) in cases {
        let dir = f.tampered(name, tamper);
        let before = snapshot(&dir);
        // Readers never see the edit: its values do not add up to the projection's digest, so the
        // state is folded from the log instead (in memory: a read writes nothing).
        let show = cli(&dir, &["--json", "show", "fin-bonds"]).ok().json();
        assert_eq!(without_day(show), without_day(truth.clone()), "{name}");
        assert_eq!(snapshot(&dir), before, "{name}: a read wrote to the ledger directory");
        // verify names the derived tree and the item, and vouches for every record of the log.
        let v = unsound(&dir);
        assert_eq!(v["problem_kind"], "derived_mismatch", "{name}: {v}");
        assert!(v["problem"].as_str().unwrap().contains(difference), "{name}: {v}");
        assert_eq!(v["first_bad_seq"], Value::Null, "{name}: no record is bad: {v}");
        assert_eq!(v["records"], f.last + 1, "{name}: {v}");
        let run = cli(&dir, &["--json", "replay"]).code(1);
        let v = run.json();
        assert_eq!(v["ok"], false, "{name}: {v}");
        let differences: Vec<&str> = v["differences"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
        assert!(differences.contains(&difference), "{name}: {differences:?}");
        // Rebuilding fixes it.
        let rebuilt = cli(&dir, &["--json", "replay", "--rebuild"]).ok().json();
        assert_eq!(rebuilt["rebuilt"], true);
        assert_eq!(rebuilt["head_seq"], f.last);
        let v = cli(&dir, &["--json", "replay"]).ok().json();
        assert_eq!(v["ok"], true, "{name}: {v}");
        assert_eq!(v["differences"], Value::Array(vec![]));
        let listed = cli(&dir, &["--json", "list"]).ok().json();
        let statuses: Vec<(&str, &str)> = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["id"].as_str().unwrap(), i["status"].as_str().unwrap()))
            .collect();
        assert_eq!(
            statuses,
            [
                ("culture-week", "in_progress"),
                ("fin-bonds", "delivered"),
                ("sci-lab", "in_progress"),
                ("tcm-center", "planned")
            ],
            "{name}: the state of the log, no ghost, none missing"
        );
        if name == "registry" {
            let actors = cli(&dir, &["--json", "actor", "list"]).ok().json();
            assert!(actors.as_array().unwrap().iter().any(|a| a["id"] == "fin" && a["name"] == "市委金融办"));
        }
    }
}

/// Appending to a ledger whose stored head is ahead of its log would hide the loss.
#[test]
fn a_ledger_whose_log_ends_before_its_acknowledged_head_refuses_appends() {
    let f = Fixture::new();
    let dir = f.tampered("truncated", |raw| raw.remove(f.last));
    let run = cli(&dir, &["--json", "progress", "sci-lab", "--text", "新进展", "--on", "2024-05-01"]).code(1);
    assert!(run.stderr.contains("damaged"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("acknowledged record {} but the log ends at {}", f.last, f.last - 1)),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "nothing reported as appended: {}", run.stdout);
    // Other appenders too, and nothing was written.
    cli(&dir, &["--json", "actor", "add", "new-dept", "--name", "新部门"]).code(1);
    cli(&dir, &["--json", "status", "sci-lab", "delivered", "--reason", "完成"]).code(1);
    let v = unsound(&dir);
    assert_eq!(v["problem_kind"], "truncated");
    assert_eq!(v["records"], f.last);

    // The same when the record at the acknowledged head is not the one acknowledged.
    let dir = f.tampered("replaced-head", |raw| flip_time(raw, f.last));
    let run = cli(&dir, &["--json", "progress", "sci-lab", "--text", "新进展", "--on", "2024-05-01"]).code(1);
    assert!(run.stderr.contains("damaged"), "{}", run.stderr);
    assert!(run.stderr.contains(&format!("record {} is not the record the store acknowledged", f.last)));
    assert_eq!(unsound(&dir)["problem_kind"], "head_mismatch");
}

/// Removing the newest records is caught even when sled's own copy of the head goes too: the
/// acknowledged head lives outside sled's files. Only an insider who also rewrites the witness hides
/// it from verify alone; a checkpoint kept from before shows it (`checkpoint_beyond_log`).
#[test]
fn truncation_is_caught_by_the_witness_or_by_a_checkpoint_kept_from_before() {
    let f = Fixture::new();
    let c1 = f.tmp.path().join("c1");
    cli(&f.base, &["checkpoint", "--out", c1.to_str().unwrap()]).ok();
    let dir = f.tampered("no-head", |raw| raw.remove(f.last));
    let v = unsound(&dir);
    assert_eq!(v["problem_kind"], "truncated", "{v}");
    assert!(v["problem"].as_str().unwrap().starts_with("acknowledged records missing"), "{v}");
    assert_eq!(v["records"], f.last);
    // The same log with a witness rewritten to its new end.
    let last = Raw::open(&dir);
    let hash = record_hash(&last.get(f.last - 1));
    last.derived.clear().unwrap();
    last.close();
    write_witness(&dir, f.last - 1, hash);
    let (code, v) = verify(&dir);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["records"], f.last);
    let run = cli(&dir, &["--json", "verify", "--checkpoint", c1.to_str().unwrap()]).code(1);
    let v = run.json();
    assert_eq!(v["problem_kind"], "checkpoint_beyond_log", "{v}");
    assert_eq!(v["first_bad_seq"], Value::Null, "{v}");
    assert_eq!(v["records"], f.last, "{v}");
}

/// A missing witness is a problem, never a note: without it nothing vouches for the end of the log.
#[test]
fn a_missing_witness_is_unsound() {
    let f = Fixture::new();
    let dir = f.copy("no-witness");
    std::fs::remove_file(dir.join("acknowledged")).unwrap();
    let v = unsound(&dir);
    assert_eq!(v["problem_kind"], "head_unreadable", "{v}");
    assert!(v["problem"].as_str().unwrap().contains("missing"), "{v}");
    let run = cli(&dir, &["--json", "progress", "sci-lab", "--text", "新进展", "--on", "2024-05-01"]);
    assert_ne!(run.code, 0, "an append to a ledger without its acknowledged head is refused: {run:?}");
}

#[test]
fn a_log_key_that_is_not_a_sequence_number_is_named() {
    let f = Fixture::new();
    // Nine bytes: sorts between records 5 and 6.
    let dir = f.tampered("long-key", |raw| {
        raw.log.insert([0u8, 0, 0, 0, 0, 0, 0, 5, 0], raw.get(6)).unwrap();
    });
    let v = unsound(&dir);
    assert_eq!(v["problem_kind"], "bad_key", "{v}");
    assert_eq!(first_bad(&v), 6);
    assert!(v["problem"].as_str().unwrap().contains("000000000000000500"), "{v}");
}

#[test]
fn a_bad_log_key_before_record_0_is_named_by_verify() {
    let f = Fixture::new();
    let dir = f.tampered("short-key", |raw| {
        raw.log.insert([0u8, 0, 0], raw.get(0)).unwrap();
    });
    let v = unsound(&dir);
    assert_eq!(v["problem_kind"], "bad_key", "{v}");
}

#[test]
fn a_bad_log_key_after_the_last_record_is_named_by_verify() {
    let f = Fixture::new();
    let dir = f.tampered("long-key", |raw| {
        raw.log.insert(b"zzzzzzzzz", raw.get(0)).unwrap();
    });
    let v = unsound(&dir);
    assert_eq!(v["problem_kind"], "bad_key", "{v}");
    assert_eq!(first_bad(&v), f.last + 1);
}

#[test]
fn an_unreadable_witness_is_reported_by_verify() {
    let f = Fixture::new();
    let dir = f.copy("bad-head");
    std::fs::write(dir.join("acknowledged"), b"xx").unwrap();
    let v = unsound(&dir);
    assert_eq!(v["problem_kind"], "head_unreadable", "{v}");
    // One byte changed in the newest slot: the older slot's head is read instead, and it is not the
    // log's end: the last record shows as unacknowledged, never as sound and acknowledged.
    let dir = f.copy("torn-head");
    let mut bytes = std::fs::read(dir.join("acknowledged")).unwrap();
    let newest = if u64::from_le_bytes(bytes[8..16].try_into().unwrap())
        > u64::from_le_bytes(bytes[520..528].try_into().unwrap())
    {
        0
    } else {
        512
    };
    bytes[newest + 20] ^= 1;
    std::fs::write(dir.join("acknowledged"), &bytes).unwrap();
    let (_, v) = verify(&dir);
    assert!(v["ok"] == false || v["unacknowledged"].as_u64() > Some(0), "{v}");
}

/// A record continuing the chain, written behind the ledger's back: a copy of the last record one
/// stream version on. Its old signature does not cover the new stream version (`bad_signature`);
/// re-signed with the actor's key from `keys/`, it is a lawful record, and verify flags it as never
/// acknowledged.
#[test]
fn a_forged_record_appended_after_the_head_shows_as_unacknowledged() {
    let f = Fixture::new();
    let forged = |raw: &Raw| {
        let last = raw.get(f.last);
        let mut rec = Record::decode(&last).unwrap();
        rec.seq = Seq(f.last + 1);
        rec.prev = Hash(record_hash(&last));
        rec.stream_prev = Some(Seq(f.last));
        rec.stream_version = commitment_ledger::StreamVersion(rec.stream_version.0 + 1);
        rec
    };
    let dir = f.tampered("forged-unsigned", |raw| raw.put(f.last + 1, &forged(raw).encode()));
    let v = unsound(&dir);
    assert_eq!((v["problem_kind"].as_str(), first_bad(&v)), (Some("bad_signature"), f.last + 1), "{v}");
    // The fixture ends with the office's categorization of the reply.
    let key = stolen_key(&f.base, "office");
    let dir = f.tampered("forged-tail", |raw| {
        let rec = forged(raw);
        assert_eq!(rec.actor.as_str(), "office");
        raw.put(f.last + 1, &resign(&rec.encode(), ORIGIN, &key));
    });
    let (code, v) = verify(&dir);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["records"], f.last + 2);
    assert_eq!(v["unacknowledged"], 1, "the forged record is flagged as never acknowledged: {v}");
    // A record beyond a gap is named.
    let dir = f.tampered("forged-far", |raw| raw.put(f.last + 5, &raw.get(f.last)));
    let v = unsound(&dir);
    assert_eq!(v["problem_kind"], "gap");
    assert_eq!(first_bad(&v), f.last + 1);
}

/// Flips the format byte of a record in the middle: the log cannot be folded past it.
fn unreadable_middle(f: &Fixture, name: &str) -> (PathBuf, u64) {
    let seq = f.last / 2;
    let dir = f.tampered(name, |raw| {
        let mut bytes = raw.get(seq);
        bytes[0] ^= 0x01;
        raw.put(seq, &bytes);
    });
    (dir, seq)
}

#[test]
fn replay_refuses_a_log_it_cannot_fold_and_names_the_record() {
    let f = Fixture::new();
    let (dir, seq) = unreadable_middle(&f, "unreadable");
    // Checking the projection: unsound, and the first difference names the record.
    let v = cli(&dir, &["--json", "replay"]).code(1).json();
    assert_eq!(v["ok"], false, "{v}");
    let first = v["differences"][0].as_str().unwrap_or_default();
    assert!(first.contains(&format!("record {seq}")), "{v}");
    // The state as of a record past it cannot be shown.
    let run = cli(&dir, &["--json", "replay", "--to", &f.last.to_string()]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains(&format!("record {seq}")), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "no state is printed: {}", run.stdout);
    assert_eq!(first_bad(&unsound(&dir)), seq);
}

#[test]
fn replay_of_an_unreadable_log_exits_1() {
    let f = Fixture::new();
    let (dir, _) = unreadable_middle(&f, "unreadable");
    cli(&dir, &["--json", "replay"]).code(1);
}

#[test]
fn replay_rebuild_does_not_claim_success_past_an_unreadable_record() {
    let f = Fixture::new();
    let (dir, seq) = unreadable_middle(&f, "unreadable");
    let run = cli(&dir, &["--json", "replay", "--rebuild"]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains(&format!("record {seq}")), "{}", run.stderr);
}
