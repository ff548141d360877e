//! Guards the decoders, the verifier, imports, bundles and the CLI's refusals against hostile input
//! on stable: replays every committed fuzz corpus file and every crash input through the fuzz
//! harnesses (`fuzz/harness/`), runs proptest mutations of real records, documents and bundles, and
//! checks every row of the bad-input catalogue (`schema/bad-input.md`) against the binary.
//!
//! Crash inputs live in `fuzz/regressions/<target>/`, each kept once its bug is fixed.

#[path = "../fuzz/harness/mod.rs"]
mod harness;

use harness::{fixtures, frames};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

const TARGETS: [&str; 7] =
    ["record_decode", "event_decode", "verifier", "model", "import_document", "bundle", "signed_log"];

fn harness_for(target: &str) -> fn(&[u8]) {
    match target {
        "record_decode" => harness::record_decode,
        "event_decode" => harness::event_decode,
        "verifier" => harness::verifier,
        "model" => harness::model,
        "import_document" => harness::import_document,
        "bundle" => harness::bundle,
        "signed_log" => harness::signed_log,
        other => panic!("no harness for {other}"),
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<PathBuf> = rd.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()).collect();
    out.sort();
    out
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// Runs each file through its harness; returns the files that panicked, with the message.
fn replay(target: &str, paths: &[PathBuf]) -> Vec<String> {
    let run = harness_for(target);
    let mut failed = Vec::new();
    for p in paths {
        let data = match std::fs::read(p) {
            Ok(d) => d,
            // A fuzzer running on the same corpus replaces files as it reduces them.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => panic!("{}: {e}", p.display()),
        };
        if let Err(e) = std::panic::catch_unwind(|| run(&data)) {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failed.push(format!("{}: {msg}", p.display()));
        }
    }
    failed
}

/// The tests that start the binary and hold ledger locks run one at a time: a process started by one
/// test's thread holds a copy of every descriptor open in this process until it execs, another
/// test's lock included (see tests/faults.rs).
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn every_committed_corpus_file_passes() {
    let mut total = 0;
    for t in TARGETS {
        let paths = files(&root().join("corpus").join(t));
        assert!(!paths.is_empty(), "no seed corpus for {t}");
        total += paths.len();
        let failed = replay(t, &paths);
        assert!(failed.is_empty(), "{t}: {failed:#?}");
    }
    assert!(total >= 20, "only {total} corpus files");
}

#[test]
fn every_fixed_crash_input_passes() {
    for t in TARGETS {
        let failed = replay(t, &files(&root().join("regressions").join(t)));
        assert!(failed.is_empty(), "{t}: {failed:#?}");
    }
}

/// A bundle with one byte that is not UTF-8 is an unsound bundle (exit 1, naming the line), not a
/// storage failure.
/// (Found by the bundle proptest; fixed on main in d1208a2.)
#[test]
fn a_bundle_that_is_not_utf8_is_unsound_not_an_io_failure() {
    let _serial = serial();
    let (ledger, _) = fixtures::sample_ledger();
    let mut bundle = Vec::new();
    commitment_ledger::export::export(&ledger, &mut bundle, &mut |_| {}).expect("exports");
    let fourth = bundle.split(|b| *b == b'\n').take(3).map(|l| l.len() + 1).sum::<usize>();
    bundle[fourth + 50] = 0xff;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bundle.jsonl");
    std::fs::write(&path, &bundle).expect("writes");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_commitments"))
        .args(["--json", "verify", "--bundle"])
        .arg(&path)
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("a JSON report");
    assert_eq!(v["first_bad_line"], 4, "{v}");
}

// ---------------------------------------------------------------------------------------------
// Seeds

fn sample_bytes() -> Vec<Vec<u8>> {
    let (ledger, _) = fixtures::sample_ledger();
    harness::log_bytes(&ledger)
}

fn event_input(rec: &commitment_ledger::Record) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(rec.event.event_type() as u16).to_le_bytes());
    out.extend_from_slice(&rec.event_version.to_le_bytes());
    out.extend_from_slice(&rec.event.encode_body());
    out
}

/// The seed corpora, by target and file name.
fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let records = sample_bytes();
    let mut out = Vec::new();
    for (i, r) in records.iter().enumerate() {
        out.push(("record_decode", format!("seed-{i:02}"), r.clone()));
        let rec = commitment_ledger::Record::decode(r).expect("decodes");
        out.push(("event_decode", format!("seed-{i:02}"), event_input(&rec)));
    }
    out.push(("verifier", "seed-plain".into(), frames::encode(&records, 0)));
    out.push(("verifier", "seed-patched".into(), frames::encode(&records, frames::PATCH_SEQ | frames::PATCH_PREV)));
    out.push(("verifier", "seed-first-three".into(), frames::encode(&records[..3], 3)));
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..8 {
        let data: Vec<u8> = std::iter::once(1)
            .chain((0..1500).map(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng as u8
            }))
            .collect();
        out.push(("model", format!("seed-{i:02}"), data));
    }
    let example =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/examples/reply-0771.toml"))
            .expect("the example document");
    let as_json = |toml_text: &str| {
        let v: toml::Value = toml::from_str(toml_text).expect("TOML");
        serde_json::to_string_pretty(&v).expect("JSON")
    };
    out.push(("import_document", "seed-reply-0771.toml".into(), example.clone().into_bytes()));
    out.push(("import_document", "seed-reply-0771.json".into(), as_json(&example).into_bytes()));
    out.push(("import_document", "seed-small.toml".into(), SMALL_DOC.as_bytes().to_vec()));
    out.push(("import_document", "seed-small.json".into(), as_json(SMALL_DOC).into_bytes()));
    let revised = SMALL_DOC.replace("due = \"2025\"", "due = \"2026\"") + "\n[revision]\nreason = \"postponed\"\n";
    out.push(("import_document", "seed-revised.toml".into(), revised.into_bytes()));
    let (ledger, _) = fixtures::sample_ledger();
    let mut bundle = Vec::new();
    commitment_ledger::export::export(&ledger, &mut bundle, &mut |_| {}).expect("exports");
    let first_three: Vec<u8> = bundle.split_inclusive(|b| *b == b'\n').take(3).flatten().copied().collect();
    out.push(("bundle", "seed-sample".into(), bundle));
    out.push(("bundle", "seed-first-three".into(), first_three));
    for (name, data) in signed_seeds() {
        out.push(("signed_log", name.into(), data));
    }
    out
}

/// The signed-log seeds: the log as it is, and an insider's edits of each kind.
fn signed_seeds() -> Vec<(&'static str, Vec<u8>)> {
    use harness::signed::{RECHAIN, STOLEN_KEYS};
    let records = sample_bytes();
    let last = u8::try_from(records.len() - 1).expect("a short sample");
    let [op, a, b, c] = body_flip(&records, 20);
    vec![
        ("seed-unchanged", vec![0]),
        ("seed-flip", vec![0, op, a, b, c]),
        ("seed-flip-rechained", vec![RECHAIN, op, a, b, c]),
        ("seed-flip-stolen-keys", vec![STOLEN_KEYS, op, a, b, c]),
        ("seed-set-rechained", vec![RECHAIN, 1, 7, 60, 0x41]),
        ("seed-deleted-rechained", vec![RECHAIN, 2, 9, 0, 0]),
        ("seed-repeated-rechained", vec![RECHAIN, 3, 9, 10, 0]),
        ("seed-swapped-rechained", vec![RECHAIN, 4, 3, 4, 0]),
        ("seed-truncated", vec![0, 5, last, 0, 0]),
        ("seed-time-forward-rechained", vec![RECHAIN, 6, last, 5, 0]),
        ("seed-time-forward-stolen-keys", vec![STOLEN_KEYS, 6, 12, 5, 0]),
        ("seed-signature-moved", vec![RECHAIN, 7, 10, 11, 0]),
    ]
}

/// The small reply the import tests use: a source, four actors, two commitments and their figures.
const SMALL_DOC: &str = include_str!("fixtures/reply-9001.toml");

/// Writes the seed corpora into fuzz/corpus (run by hand: `cargo test --test fuzz_regressions -- --ignored write_seeds`).
#[test]
#[ignore = "writes fuzz/corpus; run by hand when the format changes"]
fn write_seeds() {
    for (t, name, data) in seeds() {
        let dir = root().join("corpus").join(t);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join(name), data).expect("writes");
    }
}

#[test]
fn the_seeds_cover_every_event_type_and_pass() {
    let seeds = seeds();
    let types: std::collections::BTreeSet<u16> = seeds
        .iter()
        .filter(|(t, _, _)| *t == "event_decode")
        .map(|(_, _, d)| u16::from_le_bytes([d[0], d[1]]))
        .collect();
    assert_eq!(types.len(), commitment_ledger::EventType::ALL.len(), "{types:?}");
    for (t, _, data) in &seeds {
        harness_for(t)(data);
    }
}

/// The import and bundle seeds reach the interesting paths: the documents import and re-import, and
/// the bundle verifies.
#[test]
fn the_import_and_bundle_seeds_are_accepted() {
    use commitment_ledger::import::{self, Outcome};
    for (t, name, data) in seeds() {
        match t {
            "import_document" if !name.contains("revised") => {
                let doc = import::parse(std::str::from_utf8(&data).expect("utf-8")).expect(&name);
                let mut ledger = harness::fresh_ledger();
                let admin = commitment_ledger::ActorId::new("admin").expect("valid");
                let outcome = import::import(&mut ledger, &admin, &doc).expect(&name);
                assert!(matches!(outcome, Outcome::Appended { .. }), "{name}");
            }
            "bundle" => {
                let r = commitment_ledger::verify_bundle(&mut &data[..], None, &mut |_| {}).expect("reads");
                assert!(r.ok && r.records >= 3, "{name}: {r:?}");
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Properties the harnesses must hold on the sample ledger, so that they cannot pass vacuously.

#[test]
fn the_verifier_harness_accepts_the_sample_and_names_a_broken_link() {
    let records = sample_bytes();
    let entries = frames::decode(&frames::encode(&records, 0));
    let mut v = commitment_ledger::Verifier::new(None);
    for (k, b) in &entries {
        v.push(k, b).expect("the sample verifies");
    }
    assert_eq!(v.records(), records.len() as u64);
    // Change one byte of record 5's body: record 6's link breaks (unless patched).
    let mut changed = records.clone();
    let last = changed[5].len() - 2;
    changed[5][last] ^= 0x20;
    let entries = frames::decode(&frames::encode(&changed, 0));
    let mut v = commitment_ledger::Verifier::new(None);
    let bad = entries.iter().find_map(|(k, b)| v.push(k, b).err()).expect("a bad record");
    assert!(bad.seq == 5 || bad.seq == 6, "{bad:?}");
}

/// The sample ledger is signed, and covers what the seeds need: every record carries its actor's
/// signature, a rotated key signs after the rotation, a retired key signs nothing more, and its log in
/// a new store (with the sample's keys at hand) takes appends.
#[test]
fn the_sample_is_signed_and_its_log_takes_appends() {
    use commitment_ledger::{ActorId, AreaId, Command, RegisterArea};
    let records = sample_bytes();
    let report = harness::signed::verify(&records, Vec::new());
    assert!(report.ok && report.signed == records.len() as u64 && report.unsigned == 0, "{report:?}");
    let mut ledger = harness::ledger_over(&records);
    let reg = ledger.registry();
    assert_eq!(reg.actors[&ActorId::new("fin").expect("valid")].key, Some(fixtures::public_key("fin-2")));
    assert_eq!(reg.actors[&ActorId::new("macao").expect("valid")].key, Some(fixtures::public_key("macao-2")));
    assert_eq!(reg.actors[&ActorId::new("deputy").expect("valid")].key, None);
    let admin = ActorId::new("admin").expect("valid");
    let area = RegisterArea { id: AreaId::new("zz-area").expect("valid"), name: "area".into(), name_en: None };
    ledger.append(&admin, Command::RegisterArea(area)).expect("appends as admin");
    let deputy = ActorId::new("deputy").expect("valid");
    let feedback = Command::RecordFeedback(commitment_ledger::RecordFeedback {
        source: commitment_ledger::SourceId::new("reply-0771").expect("valid"),
        verdict: commitment_ledger::Code::new("satisfied").expect("valid"),
        text: None,
        on: None,
    });
    let refused = ledger.append(&deputy, feedback).expect_err("a retired key signs nothing");
    assert!(refused.to_string().contains("deputy has no registered key"), "{refused}");
}

/// The signed-log harness is not vacuous: an edited signed record is unsound whether or not the
/// insider re-chains, re-signing with stolen keys gets past the signatures but not past a
/// checkpoint, and a time moved forward is caught by the witnessed checkpoint only.
#[test]
fn the_signed_log_harness_catches_an_insider() {
    use harness::signed::{self, RECHAIN, STOLEN_KEYS};
    let original = signed::sample_log();
    let o = |flags: u8, edits: &[[u8; 4]]| {
        let mut log = original.clone();
        for e in edits {
            signed::edit(&mut log, e);
        }
        let origin = fixtures::signed_opened().origin;
        if flags & STOLEN_KEYS != 0 {
            signed::resign(&mut log, &origin);
        }
        if flags & (RECHAIN | STOLEN_KEYS) != 0 {
            signed::rechain(&mut log);
        }
        let (size, root) = {
            let r = signed::verify(&original, Vec::new());
            (original.len() as u64, r.root.expect("a root"))
        };
        let root = base64_32(&root);
        let last_time = commitment_ledger::Record::decode(original.last().expect("records")).expect("decodes").time;
        let checkpoint = commitment_ledger::Trusted {
            label: "c1".into(),
            size,
            root,
            witnesses: vec!["w".into()],
            witnessed: Some(last_time),
            meets_policy: true,
        };
        (signed::verify(&log, Vec::new()), signed::verify(&log, vec![checkpoint]))
    };
    // A character of record 20's text, changed (its body is inside the signed statement).
    let body_byte = body_flip(&original, 20);
    let (plain, _) = o(0, &[body_byte]);
    assert!(!plain.ok, "{plain:?}");
    let (plain, held) = o(RECHAIN, &[body_byte]);
    assert_eq!((plain.problem_kind, plain.first_bad_seq), (Some("bad_signature"), Some(20)), "{plain:?}");
    assert!(!held.ok);
    let (plain, held) = o(STOLEN_KEYS, &[body_byte]);
    assert!(plain.ok, "stolen keys re-sign the changed record: {plain:?}");
    assert_eq!(held.problem_kind, Some("checkpoint_mismatch"), "{held:?}");
    // The last record's time moved forward: not signed, so only the witnessed checkpoint sees it.
    let last = u8::try_from(original.len() - 1).expect("short");
    let (plain, held) = o(RECHAIN, &[[6, last, 5, 0]]);
    assert!(plain.ok, "{plain:?}");
    assert_eq!((held.problem_kind, held.first_bad_seq), (Some("after_witness"), Some(u64::from(last))), "{held:?}");
    // Truncated: sound on its own, not against the checkpoint.
    let (plain, held) = o(0, &[[5, last, 0, 0]]);
    assert!(plain.ok, "{plain:?}");
    assert_eq!(held.problem_kind, Some("checkpoint_beyond_log"), "{held:?}");
    for (name, data) in signed_seeds() {
        harness::signed_log(&data);
        assert!(!name.is_empty());
    }
}

/// Corpus files written before records were signed (version 1 event bodies, format 1 records) are
/// kept as they are: forever data, read and judged as before.
#[test]
fn version_1_corpus_files_are_still_read_and_judged() {
    let read = |t: &str, name: &str| std::fs::read(root().join("corpus").join(t).join(name)).expect("a v1 seed");
    let r0 = commitment_ledger::Record::decode(&read("record_decode", "v1-seed-00")).expect("decodes");
    assert_eq!((r0.event_version, r0.signature), (1, None));
    assert!(matches!(r0.event, commitment_ledger::Event::LedgerOpened(ref o) if o.admin_key.is_none()));
    let e = read("event_decode", "v1-seed-00");
    assert_eq!(u16::from_le_bytes([e[2], e[3]]), 1, "a version 1 body");
    let entries = frames::decode(&read("verifier", "v1-seed-plain"));
    let mut v = commitment_ledger::Verifier::new(None);
    for (k, b) in &entries {
        v.push(k, b).expect("a version 1 log verifies");
    }
    let report = v.finish(None);
    assert!(report.ok && report.signed == 0 && report.unsigned == entries.len() as u64, "{report:?}");
    for t in ["record_decode", "event_decode", "verifier", "bundle"] {
        let v1: Vec<_> = files(&root().join("corpus").join(t))
            .into_iter()
            .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("v1-seed")))
            .collect();
        assert!(!v1.is_empty(), "{t}: no v1 seeds");
        assert!(replay(t, &v1).is_empty());
    }
}

/// The signed-log edit that changes a letter of record `i`'s text (in its event body, which the
/// actor signed): record 20 is fin's progress report "signed with the new key".
fn body_flip(records: &[Vec<u8>], i: u8) -> [u8; 4] {
    let r = &records[usize::from(i)];
    let at = r.windows(7).position(|w| w == b"new key").expect("record 20 is fin's report after its rotation");
    [0x20, i, (at >> 8) as u8, at as u8]
}

fn base64_32(s: &str) -> [u8; 32] {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).expect("base64").try_into().expect("32 bytes")
}

// ---------------------------------------------------------------------------------------------
// proptest: mutations of real records and logs

fn mutate(mut bytes: Vec<u8>, edits: &[(u16, u8, u8)]) -> Vec<u8> {
    for &(pos, op, val) in edits {
        if bytes.is_empty() {
            bytes.push(val);
            continue;
        }
        let i = usize::from(pos) % bytes.len();
        match op % 4 {
            0 => bytes[i] = val,
            1 => bytes[i] ^= 1 << (val % 8),
            2 => bytes.insert(i, val),
            _ => {
                bytes.remove(i);
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_records_never_panic_and_round_trip(
        which in 0usize..100,
        edits in proptest::collection::vec((any::<u16>(), any::<u8>(), any::<u8>()), 0..6),
    ) {
        let records = sample_bytes();
        let r = records[which % records.len()].clone();
        harness::record_decode(&mutate(r, &edits));
    }

    #[test]
    fn mutated_event_bodies_never_panic_and_round_trip(
        which in 0usize..100,
        edits in proptest::collection::vec((any::<u16>(), any::<u8>(), any::<u8>()), 0..6),
    ) {
        let records = sample_bytes();
        let rec = commitment_ledger::Record::decode(&records[which % records.len()]).expect("decodes");
        harness::event_decode(&mutate(event_input(&rec), &edits));
    }

    #[test]
    fn mutated_logs_never_panic_the_verifier(
        flags in 0u8..4,
        edits in proptest::collection::vec((any::<u16>(), any::<u8>(), any::<u8>()), 0..4),
    ) {
        let records = sample_bytes();
        harness::verifier(&mutate(frames::encode(&records, flags), &edits));
    }

    #[test]
    fn edited_signed_logs_are_never_called_sound(
        flags in 0u8..4,
        edits in proptest::collection::vec(any::<[u8; 4]>(), 0..6),
    ) {
        let data: Vec<u8> = std::iter::once(flags).chain(edits.into_iter().flatten()).collect();
        harness::signed_log(&data);
    }

    #[test]
    fn mutated_import_documents_never_panic(
        json in any::<bool>(),
        edits in proptest::collection::vec((any::<u16>(), any::<u8>(), any::<u8>()), 0..4),
    ) {
        let text = if json {
            let v: toml::Value = toml::from_str(SMALL_DOC).expect("TOML");
            serde_json::to_string(&v).expect("JSON")
        } else {
            SMALL_DOC.to_string()
        };
        harness::import_document(&mutate(text.into_bytes(), &edits));
    }

    #[test]
    fn mutated_bundles_never_panic(
        edits in proptest::collection::vec((any::<u16>(), any::<u8>(), any::<u8>()), 0..4),
    ) {
        let (ledger, _) = fixtures::sample_ledger();
        let mut bundle = Vec::new();
        commitment_ledger::export::export(&ledger, &mut bundle, &mut |_| {}).expect("exports");
        harness::bundle(&mutate(bundle, &edits));
    }

    #[test]
    fn arbitrary_bytes_never_panic_any_decoder(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        harness::record_decode(&data);
        harness::event_decode(&data);
        harness::verifier(&data);
        harness::import_document(&data);
        harness::bundle(&data);
        harness::signed_log(&data);
    }
}

// ---------------------------------------------------------------------------------------------
// The bad-input catalogue (schema/bad-input.md), run row by row

mod catalogue {
    use commitment_ledger::{Head, Ledger, LedgerError, Seq, SledStore, Store, StoreError, StreamVersion, Timestamp};
    use std::path::{Path, PathBuf};
    use std::process::{Command, Output};

    const FILE: &str = "schema/bad-input.md";

    fn path() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(FILE)
    }

    fn bin() -> Command {
        Command::new(env!("CARGO_BIN_EXE_commitments"))
    }

    /// Runs the binary; `ledger` is prepended as `--ledger` unless the arguments name one.
    fn run(ledger: Option<&Path>, args: &[String]) -> Output {
        let mut c = bin();
        c.env_remove("COMMITMENTS_LEDGER").env_remove("COMMITMENTS_ACTOR");
        if let Some(l) = ledger.filter(|_| !args.iter().any(|a| a == "--ledger")) {
            c.arg("--ledger").arg(l);
        }
        c.args(args).output().expect("runs the binary")
    }

    fn ok(ledger: &Path, args: &str) -> Output {
        let o = run(Some(ledger), &split(args, &Vars::default()));
        assert!(o.status.success(), "{args}: {}", String::from_utf8_lossy(&o.stderr));
        o
    }

    /// Paths and values the rows refer to.
    #[derive(Default)]
    struct Vars(Vec<(&'static str, String)>);

    impl Vars {
        fn expand(&self, s: &str) -> String {
            let mut out = s.to_string();
            for (k, v) in &self.0 {
                out = out.replace(k, v);
            }
            // {c*N}: c repeated N times.
            while let Some(start) = out.find('{') {
                let Some(len) = out[start..].find('}') else { break };
                let inner = &out[start + 1..start + len];
                let Some((c, n)) = inner.split_once('*') else { break };
                let (Some(c), Ok(n)) = (c.chars().next(), n.parse::<usize>()) else { break };
                out = format!("{}{}{}", &out[..start], c.to_string().repeat(n), &out[start + len + 1..]);
            }
            out
        }

        /// The message as the catalogue writes it: paths, hashes, times and today by name.
        fn normalize(&self, s: &str) -> String {
            let mut out = s.to_string();
            for (k, v) in &self.0 {
                if !v.is_empty() && k.starts_with('{') && *k != "{HEAD}" {
                    out = out.replace(v.as_str(), k);
                }
            }
            // Times first: a record accepted today holds today's date inside its time.
            let out = signed_note_keys(&hex_runs(&out));
            let today = commitment_ledger::Timestamp::now().day(480).to_string();
            out.replace(&today, "{today}")
        }
    }

    /// Replaces runs of 64 or 16 lowercase hex digits (hashes) with `{hash}`, and RFC 3339 times with `{time}`.
    fn hex_runs(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = String::new();
        let mut i = 0;
        while i < b.len() {
            let hex = b[i..].iter().take_while(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c)).count();
            let word_start = i == 0 || !b[i - 1].is_ascii_alphanumeric();
            if word_start && (hex == 64 || hex == 16) && b.get(i + hex).is_none_or(|c| !c.is_ascii_alphanumeric()) {
                out.push_str("{hash}");
                i += hex;
                continue;
            }
            // 2026-11-28T02:09:27+08:00
            if b.len() >= i + 25 && b[i + 10] == b'T' && b[i + 4] == b'-' && b[i + 13] == b':' && b[i + 19] == b'+' {
                out.push_str("{time}");
                i += 25;
                continue;
            }
            let ch = s[i..].chars().next().expect("a char");
            out.push(ch);
            i += ch.len_utf8();
        }
        out
    }

    /// Names what signed-note keys and Merkle roots make differ from run to run: a key's name is
    /// followed by `+{keyid}` (8 hex digits) and, in a verifier key, `+{vkey}` (44 base64 digits); a
    /// base64 root (44 digits ending in `=`) is `{base64}`.
    fn signed_note_keys(s: &str) -> String {
        let b64 = |t: &str| t.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/');
        let hex8 = |t: &str| t.len() == 8 && t.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c));
        let token = |c: char| c.is_ascii_alphanumeric() || "+/=._-".contains(c);
        let mut out = String::new();
        let mut rest = s;
        while let Some(start) = rest.find(token) {
            out.push_str(&rest[..start]);
            let len = rest[start..].find(|c: char| !token(c)).unwrap_or(rest.len() - start);
            let t = &rest[start..start + len];
            let parts: Vec<&str> = t.splitn(3, '+').collect();
            let masked = match parts.as_slice() {
                _ if t.len() == 44 && t.ends_with('=') && b64(t.trim_end_matches('=')) => "{base64}".to_string(),
                [name, id] if hex8(id) => format!("{name}+{{keyid}}"),
                [name, id, key] if hex8(id) && key.len() == 44 && b64(key) => format!("{name}+{{keyid}}+{{vkey}}"),
                _ => t.to_string(),
            };
            out.push_str(&masked);
            rest = &rest[start + len..];
        }
        out.push_str(rest);
        out
    }

    /// Splits arguments at spaces; `'…'` quotes with `\n`, `\t`, `\u{…}` escapes.
    fn split(s: &str, vars: &Vars) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut quoted = false;
        let mut any = false;
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\'' => {
                    quoted = !quoted;
                    any = true;
                }
                ' ' if !quoted => {
                    if any {
                        out.push(vars.expand(&cur));
                    }
                    cur.clear();
                    any = false;
                }
                '\\' if quoted => match chars.next() {
                    Some('n') => cur.push('\n'),
                    Some('t') => cur.push('\t'),
                    Some('u') => {
                        let hex: String = chars.by_ref().skip(1).take_while(|c| *c != '}').collect();
                        cur.push(char::from_u32(u32::from_str_radix(&hex, 16).expect("hex")).expect("a char"));
                    }
                    other => panic!("unknown escape {other:?} in {s}"),
                },
                c => {
                    cur.push(c);
                    any = true;
                }
            }
        }
        if any {
            out.push(vars.expand(&cur));
        }
        out
    }

    /// What the user sees: stderr, or stdout when stderr is empty, up to the first empty line.
    fn seen(o: &Output, vars: &Vars) -> String {
        let err = String::from_utf8_lossy(&o.stderr);
        let out = String::from_utf8_lossy(&o.stdout);
        let text = if err.trim().is_empty() { out } else { err };
        let lines: Vec<&str> = text.trim().lines().take_while(|l| !l.trim().is_empty()).collect();
        vars.normalize(&lines.join("\n"))
    }

    /// A table row: its cells, unescaped.
    fn cells(line: &str) -> Vec<String> {
        let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut chars = inner.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&'|') => {
                    cur.push('|');
                    chars.next();
                }
                '|' => out.push(std::mem::take(&mut cur)),
                c => cur.push(c),
            }
        }
        out.push(cur);
        out.into_iter().map(|c| code(c.trim())).collect()
    }

    /// The text of a code span (`` `x` `` or ``` `` x `` ```), with ⏎ as a line break.
    fn code(cell: &str) -> String {
        let s = if let Some(s) = cell.strip_prefix("`` ").and_then(|s| s.strip_suffix(" ``")) {
            s
        } else if let Some(s) = cell.strip_prefix('`').and_then(|s| s.strip_suffix('`')) {
            s
        } else {
            cell
        };
        s.replace('⏎', "\n")
    }

    /// A message as a code span cell.
    fn span(msg: &str) -> String {
        let m = msg.replace('\n', "⏎").replace('|', "\\|");
        if m.is_empty() {
            "``".to_string()
        } else if m.contains('`') {
            format!("`` {m} ``")
        } else {
            format!("`{m}`")
        }
    }

    /// The head of a sled ledger, which must verify.
    fn sound_head(dir: &Path) -> (u64, String) {
        let l = open(dir);
        let r = l.verify(&mut |_| {}).expect("verifies");
        assert!(r.ok, "{r:?}");
        (r.head_seq.expect("head"), r.head.expect("head"))
    }

    fn open(dir: &Path) -> Ledger<SledStore> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            match Ledger::open(dir) {
                Err(LedgerError::Store(StoreError::Locked(_))) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(2))
                }
                r => return r.expect("opens"),
            }
        }
    }

    /// The raw log of a ledger: every key and value.
    fn raw_log(dir: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
        let s = SledStore::open(dir, false).expect("opens");
        let mut out = Vec::new();
        s.scan(Seq(0), &mut |k, v| {
            out.push((k.to_vec(), v.to_vec()));
            std::ops::ControlFlow::Continue(())
        })
        .expect("scans");
        out
    }

    fn fixture(dir: &Path) {
        for args in [
            "init --title 'Catalogue fixture' --origin example.gov/catalogue",
            "actor add office --name 港澳办 --role office",
            "actor add fin --name 市委金融办 --role department",
            "actor add macao --name 澳门金融管理局 --role counterpart",
            "actor add deputy --name 李静 --role deputy",
            "actor add auditor --name 审计局 --role auditor",
            "source add reply-0771 --title 答复 --date 2024-05 --issuer office --addressee deputy --actor office",
            "record x --lead fin --area finance --title Bonds --partner macao --due 2025",
            "progress x --text first --actor fin",
            "record d --lead fin --area finance --title Dropped",
            "status d dropped --reason 'no longer planned' --actor office",
        ] {
            ok(dir, args);
        }
    }

    /// The ledgers and files of section 5 (see the catalogue): `k` the signed ledger, `o` another
    /// ledger, `d` the files.
    fn keys_fixture(k: &Path, o: &Path, d: &Path) {
        std::fs::create_dir(d).expect("mkdir");
        let f = |name: &str| d.join(name).display().to_string();
        let write = |name: &str, text: &[u8]| std::fs::write(d.join(name), text).expect("writes");
        let mode = |name: &str, m: u32| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(d.join(name), std::fs::Permissions::from_mode(m)).expect("chmod");
        };
        for args in [
            "init --title 'Keys fixture' --origin example.gov/signed".to_string(),
            format!("key generate --out {}", f("li-jing.pem")),
            format!("actor add li-jing --name 李静 --role deputy --public-key {}", f("li-jing.pem.pub")),
            "actor add fin --name 市委金融办 --role department".into(),
            "actor add macao --name 澳门金融管理局 --role counterpart".into(),
            "actor retire-key macao --reason 'the officer left'".into(),
            "source add reply-0771 --title 答复 --date 2024-05 --issuer admin --addressee li-jing".into(),
            "record x --lead fin --area finance --title Bonds --partner macao".into(),
            format!("checkpoint --out {}", f("c1")),
            "progress x --text more --actor fin".into(),
            format!("checkpoint --out {}", f("c2")),
            format!("prove 3 --checkpoint {} --out {}", f("c2"), f("p3.json")),
            format!("prove --consistency {} {} --out {}", f("c1"), f("c2"), f("c1-c2.json")),
        ] {
            ok(k, &args);
        }
        // The witness's key is made from a fixed seed, so that the rows that print it are the same on
        // every run (as `key generate` would write it: PKCS#8 PEM, mode 0600, and SPKI PEM beside it).
        {
            use commitment_ledger::keys::{self, SigningKey, WriteMode};
            let w = SigningKey::from_bytes(&[7; 32]);
            keys::write_private_key(&d.join("witness.pem"), &w, WriteMode::CreateNew).expect("writes");
            keys::write_public_key(&d.join("witness.pem.pub"), &w.verifying_key(), WriteMode::CreateNew)
                .expect("writes");
        }
        write("vkey", &ok(k, "ledger-key").stdout);
        // A cosignature's time is in whole seconds, and `verify` holds every record it covers to it: a
        // record appended earlier in the same second as the cosigning is reported as moved forward
        // (reported upstream). The witness cosigns a second after the last record.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let cosigned = ok(
            k,
            &format!(
                "cosign --checkpoint {} --state {} --key {} --log-key {} --out {}",
                f("c2"),
                f("witness"),
                f("witness.pem"),
                f("vkey"),
                f("c2-cosigned")
            ),
        );
        let said = String::from_utf8_lossy(&cosigned.stderr).to_string() + &String::from_utf8_lossy(&cosigned.stdout);
        let at = said.find("cosigner key ").expect("cosign names the witness's key") + "cosigner key ".len();
        let vkey = said[at..].split(|c: char| c == ')' || c.is_whitespace()).next().expect("a key");
        write("witness.vkey", vkey.as_bytes());
        ok(o, "init --title Other --origin example.gov/other");
        ok(o, &format!("checkpoint --out {}", f("other")));
        write("other.vkey", &ok(o, "ledger-key").stdout);
        std::fs::copy(k.join("keys").join("fin.pem"), d.join("loose.pem")).expect("copies");
        mode("loose.pem", 0o644);
        write("not-a-key.pem", b"not a key\n");
        mode("not-a-key.pem", 0o600);
        write("c-not-a-note", b"hello\n");
        let c1 = std::fs::read_to_string(d.join("c1")).expect("c1");
        write("c-unsigned", (c1.split("\n\n").next().expect("a body").to_string() + "\n\n").as_bytes());
        let c2 = std::fs::read_to_string(d.join("c2")).expect("c2");
        assert!(c2.contains("\n20\n"), "{c2}");
        write("c-changed", c2.replacen("\n20\n", "\n21\n", 1).as_bytes());
        let p3 = std::fs::read_to_string(d.join("p3.json")).expect("p3");
        write("p-cut.json", &p3.as_bytes()[..40]);
        write("p-empty.json", b"{}");
        assert!(p3.contains("\"leaf_index\": 3"), "{p3}");
        write("p-wrong-leaf.json", p3.replacen("\"leaf_index\": 3", "\"leaf_index\": 4", 1).as_bytes());
    }

    /// Every file under a directory, with its bytes.
    fn snapshot(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
        let mut out = std::collections::BTreeMap::new();
        let mut todo = vec![dir.to_path_buf()];
        while let Some(d) = todo.pop() {
            for e in std::fs::read_dir(&d).expect("reads the directory").map(|e| e.expect("an entry")) {
                let p = e.path();
                if p.is_dir() {
                    todo.push(p);
                } else {
                    out.insert(p.clone(), std::fs::read(&p).expect("reads"));
                }
            }
        }
        out
    }

    /// The base import document: the first ```toml block.
    fn base_document(text: &str) -> String {
        let start = text.find("```toml\n").expect("a toml block") + "```toml\n".len();
        let len = text[start..].find("```").expect("closed");
        text[start..start + len].to_string()
    }

    fn to_json(toml_text: &str) -> String {
        let v: toml::Value = toml::from_str(toml_text).expect("TOML");
        serde_json::to_string_pretty(&v).expect("JSON")
    }

    /// A bundle tampered as a row says.
    fn tamper_bundle(bundle: &str, op: &str) -> Vec<u8> {
        let mut lines: Vec<Vec<u8>> = bundle.lines().map(|l| l.as_bytes().to_vec()).collect();
        let w: Vec<&str> = op.split(' ').collect();
        let n = |i: usize| w[i].parse::<usize>().expect("a number") - 1;
        match w[0] {
            "delete" => {
                lines.remove(n(1));
            }
            "swap" => lines.swap(n(1), n(2)),
            "duplicate" => lines.insert(n(1), lines[n(1)].clone()),
            "cut" => lines[n(1)].truncate(n(2) + 1),
            "insert" => lines.insert(n(1), Vec::new()),
            "set" => lines[n(1)] = w[2..].join(" ").into_bytes(),
            "edit" => {
                let l = String::from_utf8(lines[n(1)].clone()).expect("utf-8");
                assert!(l.contains(w[2]), "line {} has no {}", w[1], w[2]);
                lines[n(1)] = l.replacen(w[2], w[3], 1).into_bytes();
            }
            "flip-bytes" => {
                let l = String::from_utf8(lines[n(1)].clone()).expect("utf-8");
                let at = l.find("\"bytes\":\"").expect("bytes") + 9 + 20;
                let c = if &l[at..=at] == "A" { "B" } else { "A" };
                lines[n(1)] = format!("{}{c}{}", &l[..at], &l[at + 1..]).into_bytes();
            }
            "byte" => lines[n(1)][n(2) + 1] = w[3].parse().expect("a byte"),
            "clear" => lines.clear(),
            other => panic!("unknown tampering {other}"),
        }
        let mut out = Vec::new();
        for l in lines {
            out.extend_from_slice(&l);
            out.push(b'\n');
        }
        out
    }

    /// The stored form of a record, field by field (schema/record-format.md), to spoil one field.
    #[derive(serde::Serialize)]
    struct Wire {
        format: u8,
        seq: u64,
        prev: [u8; 32],
        time: i64,
        actor: String,
        stream: String,
        stream_version: u64,
        stream_prev: Option<u64>,
        event_type: u16,
        event_version: u16,
        #[serde(with = "serde_bytes")]
        body: Vec<u8>,
        signature: Option<serde_bytes::ByteBuf>,
    }

    /// The stored form of a signed (format 2) record: format 1's fields up to the body, then the
    /// actor's time and the signature (as two halves).
    #[derive(serde::Serialize)]
    struct WireV2 {
        format: u8,
        seq: u64,
        prev: [u8; 32],
        time: i64,
        actor: String,
        stream: String,
        stream_version: u64,
        stream_prev: Option<u64>,
        event_type: u16,
        event_version: u16,
        #[serde(with = "serde_bytes")]
        body: Vec<u8>,
        actor_time: i64,
        signature: ([u8; 32], [u8; 32]),
    }

    /// Writes the next progress report of `fin` on `x`, spoiled as a row says, straight into the log:
    /// unsigned (format 1) unless the row says `sign` (see the catalogue's section 4).
    fn spoil(dir: &Path, op: &str) {
        let parts: Vec<&str> = op.split(' ').collect();
        let arg = || parts[1].to_string();
        let author = if op == "sign retired" {
            // macao's key is retired first; its key file stays in keys/.
            ok(dir, "actor retire-key macao --reason 'the officer left'");
            "macao"
        } else {
            "fin"
        };
        let (head, xpos, origin) = {
            let mut l = open(dir);
            let h = l.head().expect("head");
            let x = l.item(&commitment_ledger::ItemId::new("x").expect("valid")).expect("reads").expect("x");
            let origin = l.registry().info().expect("opened").origin.clone();
            (h, x.core.pos, origin)
        };
        let event = commitment_ledger::Event::ProgressReported(commitment_ledger::ProgressReported {
            item: commitment_ledger::ItemId::new("x").expect("valid"),
            text: "spoiled".into(),
            on: commitment_ledger::Date::Year(2024),
            evidence: None,
        });
        let mut w = Wire {
            format: 1,
            seq: head.seq.0 + 1,
            prev: head.hash.0,
            time: head.time.0 + 1_000_000,
            actor: author.into(),
            stream: "item/x".into(),
            stream_version: xpos.next.0,
            stream_prev: xpos.last.map(|s| s.0),
            event_type: event.event_type() as u16,
            event_version: event.event_type().version(),
            body: event.encode_body(),
            signature: None,
        };
        let _ = StreamVersion(0);
        let mut cut = None;
        let mut trailing = false;
        let mut bytes = if parts[0] == "sign" {
            let signer = match parts.get(1) {
                Some(&"as") => parts[2],
                _ => author,
            };
            let key = commitment_ledger::keys::read_private_key(&dir.join("keys").join(format!("{signer}.pem")))
                .expect("the copy's key");
            let actor_time = match parts.get(1) {
                Some(&"actor-time") => w.time + parts[2].parse::<i64>().expect("seconds") * 1_000_000,
                _ => w.time,
            };
            let statement = commitment_ledger::Statement {
                actor: commitment_ledger::ActorId::new(author).expect("valid"),
                stream_version: xpos.next,
                event: event.clone(),
                actor_time: Timestamp(actor_time),
            };
            let mut signature = statement.sign(&key, &origin).signature;
            if parts.get(1) == Some(&"flip") {
                signature[10] ^= 1;
            }
            if parts.get(1) == Some(&"text") {
                // The text the actor signed, changed after it signed it.
                w.body = commitment_ledger::Event::ProgressReported(commitment_ledger::ProgressReported {
                    item: commitment_ledger::ItemId::new("x").expect("valid"),
                    text: "spoilex".into(),
                    on: commitment_ledger::Date::Year(2024),
                    evidence: None,
                })
                .encode_body();
            }
            let (mut r, mut s) = ([0; 32], [0; 32]);
            r.copy_from_slice(&signature[..32]);
            s.copy_from_slice(&signature[32..]);
            commitment_ledger::encode_stored(&WireV2 {
                format: 2,
                seq: w.seq,
                prev: w.prev,
                time: w.time,
                actor: w.actor.clone(),
                stream: w.stream.clone(),
                stream_version: w.stream_version,
                stream_prev: w.stream_prev,
                event_type: w.event_type,
                event_version: w.event_version,
                body: w.body.clone(),
                actor_time,
                signature: (r, s),
            })
        } else {
            match parts[0] {
                "none" => {}
                "cut" => cut = Some(arg().parse::<usize>().expect("n")),
                "trailing" => trailing = true,
                "format" => w.format = arg().parse().expect("n"),
                "event-type" => w.event_type = arg().parse().expect("n"),
                "event-version" => w.event_version = arg().parse().expect("n"),
                "signature" => w.signature = Some(serde_bytes::ByteBuf::from(vec![1, 2, 3])),
                "seq" => w.seq = arg().parse().expect("n"),
                "prev" => w.prev[0] ^= 1,
                "time" => w.time = arg().parse().expect("n"),
                "actor" => w.actor = arg(),
                "stream" => w.stream = arg(),
                other => panic!("unknown spoiling {other}"),
            }
            commitment_ledger::encode_stored(&w)
        };
        if let Some(n) = cut {
            bytes.truncate(n);
        }
        if trailing {
            bytes.push(0);
        }
        let seq = Seq(head.seq.0 + 1);
        let hash = commitment_ledger::hash_record_bytes(&bytes);
        let mut s = SledStore::open(dir, false).expect("opens");
        s.append(&[(seq, bytes)], &Head { seq, hash, time: Timestamp(w.time) }).expect("writes");
    }

    fn copy(from: &Path, to: &Path) {
        let ok = Command::new("cp").arg("-a").arg(from).arg(to).status().is_ok_and(|s| s.success());
        assert!(ok, "copies the fixture");
    }

    #[test]
    fn the_bad_input_catalogue_is_exact() {
        let _serial = super::serial();
        let bless = std::env::var("COMMITMENTS_BLESS").is_ok_and(|v| v == "1");
        let text = std::fs::read_to_string(path()).expect("reads the catalogue");
        let tmp = tempfile::tempdir().expect("tempdir");
        let t = |name: &str| tmp.path().join(name);
        let (l, fresh, imported) = (t("ledger"), t("fresh"), t("imported"));
        fixture(&l);
        let head = sound_head(&l);
        assert_eq!(head.0 + 1, 23, "the fixture has 23 records, as the catalogue says");
        std::fs::write(t("file.txt"), "not a ledger").expect("writes");
        std::fs::create_dir(t("other")).expect("mkdir");
        std::fs::write(t("other").join("notes.txt"), "mine").expect("writes");
        let base = base_document(&text);
        ok(&fresh, "init --title fresh");
        ok(&imported, "init --title imported");
        std::fs::write(t("base.toml"), &base).expect("writes");
        ok(&imported, &format!("import {}", t("base.toml").display()));
        let bundle = String::from_utf8(ok(&l, "export").stdout).expect("utf-8");
        let (k, o, d) = (t("signed"), t("second"), t("keyfiles"));
        keys_fixture(&k, &o, &d);
        let vars = Vars(vec![
            ("{K}", k.display().to_string()),
            ("{O}", o.display().to_string()),
            ("{D}", d.display().to_string()),
            ("{L}", l.display().to_string()),
            ("{N}", t("nothing").display().to_string()),
            ("{FILE}", t("file.txt").display().to_string()),
            ("{OTHER}", t("other").display().to_string()),
            ("{F}", t("row-input").display().to_string()),
            ("{HEAD}", head.1.clone()),
            ("{L}", fresh.display().to_string()),
            ("{L}", imported.display().to_string()),
            ("{L}", t("copy").display().to_string()),
        ]);
        let mut section = 0;
        let mut out = String::new();
        let mut rows = 0;
        let mut failures = Vec::new();
        for line in text.lines() {
            if let Some(h) = line.strip_prefix("## ") {
                section = h.split('.').next().and_then(|n| n.trim().parse().ok()).unwrap_or(0);
            }
            if !line.starts_with("| `") {
                out.push_str(line);
                out.push('\n');
                continue;
            }
            let c = cells(line);
            let (id, input, want_exit, want_msg) = (c[0].clone(), &c[1..c.len() - 2], &c[c.len() - 2], &c[c.len() - 1]);
            rows += 1;
            let _ = std::fs::remove_dir_all(t("copy"));
            let (o, ledger_checked, before) = match section {
                1 => {
                    let before = sound_head(&l);
                    (run(Some(&l), &split(&input[0], &vars)), l.clone(), before)
                }
                2 => {
                    let target = if input[0] == "imported" { &imported } else { &fresh };
                    let mut doc = if input[1] == "json" { to_json(&base) } else { base.clone() };
                    let at = doc.find(input[2].as_str()).unwrap_or_else(|| panic!("{id}: find not in the document"));
                    // `{CUT}` deletes from there to the end; what follows `{+END}` is appended at the end.
                    let (replace, end) = input[3].split_once("{+END}").unwrap_or((&input[3], ""));
                    if replace == "{CUT}" {
                        doc.truncate(at);
                    } else {
                        doc = doc.replacen(input[2].as_str(), replace, 1);
                    }
                    doc.push_str(end);
                    std::fs::write(t("row-input"), doc).expect("writes");
                    let before = sound_head(target);
                    (
                        run(Some(target), &split(&format!("import {}", t("row-input").display()), &Vars::default())),
                        target.clone(),
                        before,
                    )
                }
                3 => {
                    std::fs::write(t("row-input"), tamper_bundle(&bundle, &input[0])).expect("writes");
                    let before = sound_head(&l);
                    (run(None, &split(&input[1], &vars)), l.clone(), before)
                }
                4 => {
                    copy(&l, &t("copy"));
                    spoil(&t("copy"), &input[0]);
                    let before = raw_log(&t("copy"));
                    let o = run(Some(&t("copy")), &split(&input[1], &vars));
                    assert!(raw_log(&t("copy")) == before, "{id}: the log changed");
                    (o, l.clone(), sound_head(&l))
                }
                5 => {
                    let (before, files) = (sound_head(&k), snapshot(&d));
                    let o = run(Some(&k), &split(&input[0], &vars));
                    assert!(snapshot(&d) == files, "{id}: a file in {} changed", d.display());
                    (o, k.clone(), before)
                }
                _ => panic!("a row outside a numbered section: {line}"),
            };
            let (got_exit, got_msg) = (o.status.code().map_or("signal".into(), |c| c.to_string()), seen(&o, &vars));
            if section != 4 {
                assert_eq!(sound_head(&ledger_checked), before, "{id}: the ledger changed");
            }
            assert!(!t("nothing").exists(), "{id}: created {}", t("nothing").display());
            if bless {
                let mut c = line.trim().trim_matches('|').split(" | ").map(str::to_string).collect::<Vec<_>>();
                let n = c.len();
                c[n - 2] = got_exit.clone();
                c[n - 1] = span(&got_msg);
                out.push_str(&format!("| {} |\n", c.join(" | ").trim()));
            } else if &got_exit != want_exit || &got_msg != want_msg {
                failures.push(format!(
                    "{id}: exit {got_exit} (catalogue: {want_exit}), message:\n  {got_msg:?}\n  catalogue: {want_msg:?}"
                ));
            }
        }
        if bless {
            std::fs::write(path(), out).expect("rewrites the catalogue");
        }
        assert!(rows >= 100, "only {rows} rows");
        assert!(failures.is_empty(), "{} rows differ from {FILE}:\n{}", failures.len(), failures.join("\n"));
    }
}
