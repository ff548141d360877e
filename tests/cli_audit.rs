//! Guards the audit commands as people run them, through the built binary: `checkpoint`, `ledger-key`,
//! `prove`, `check-proof` (with no ledger), `cosign` and `key generate`; a changed byte in a proof or a
//! checkpoint is caught with exit code 1 or 2 and a message naming the file; a witness refuses an
//! older checkpoint; an older copy of the ledger cannot prove against, or sign past, a newer checkpoint.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use support::*;

/// A ledger directory with files beside it, driven through the binary.
struct Desk {
    tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl Desk {
    fn new() -> Desk {
        let tmp = tempdir();
        let dir = tmp.path().join("ledger");
        let desk = Desk { tmp, dir };
        desk.run(&["init", "--title", "京澳合作承诺台账", "--origin", "test.example/cli-audit"]).ok();
        desk
    }

    /// A path beside the ledger.
    fn file(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    fn run(&self, args: &[&str]) -> Run {
        cli(&self.dir, args)
    }

    fn append_area(&self, id: &str) {
        self.run(&["area", "add", id, "--name", &format!("区域{id}")]).ok();
    }

    /// `checkpoint`, its note kept in a file beside the ledger.
    fn checkpoint(&self, name: &str) -> PathBuf {
        let path = self.file(name);
        self.run(&["checkpoint", "--out", s(&path)]).ok();
        path
    }

    fn vkey(&self) -> String {
        self.run(&["ledger-key"]).ok().stdout.trim().to_string()
    }
}

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// Runs with no ledger at all (as a deputy on her own machine).
fn alone(args: &[&str]) -> Run {
    cli_raw(args)
}

#[test]
fn a_deputy_checks_proofs_with_only_the_checkpoint_and_the_key() {
    let desk = Desk::new();
    let c1 = desk.checkpoint("c1");
    let kept = std::fs::read_dir(desk.dir.join("checkpoints")).unwrap().count();
    assert_eq!(kept, 1, "the checkpoint is kept in the ledger directory");
    let vkey = desk.vkey();
    assert!(vkey.starts_with("test.example/cli-audit+"), "{vkey}");
    let vkey_file = desk.file("ledger.vkey");
    std::fs::write(&vkey_file, format!("{vkey}\n")).unwrap();
    for id in ["tourism-x", "trade-x", "sports-x"] {
        desk.append_area(id);
    }
    // Printed, the note is exactly the kept one.
    let printed = desk.run(&["checkpoint"]).ok().stdout;
    let c2 = desk.file("c2");
    std::fs::write(&c2, &printed).unwrap();
    let size: u64 = printed.lines().nth(1).unwrap().parse().unwrap();
    let kept = std::fs::read_to_string(desk.dir.join("checkpoints").join(format!("{size:020}"))).unwrap();
    assert_eq!(printed, kept);

    let proof = desk.run(&["prove", "3", "--checkpoint", s(&c2)]).ok().stdout;
    let doc: Value = serde_json::from_str(&proof).expect("a JSON proof");
    assert_eq!(
        (doc["type"].as_str(), doc["leaf_index"].as_u64(), doc["tree_size"].as_u64()),
        (Some("inclusion"), Some(3), Some(size))
    );
    let p = desk.file("p3.json");
    std::fs::write(&p, &proof).unwrap();
    let ok = alone(&["check-proof", s(&p), "--checkpoint", s(&c2), "--key", &vkey]).ok();
    assert!(
        ok.stdout.starts_with(&format!(
            "OK: record 3 is in the ledger test.example/cli-audit as its checkpoint of {size} records says"
        )),
        "{}",
        ok.stdout
    );
    let ok = alone(&["--json", "check-proof", s(&p), "--checkpoint", s(&c2), "--key", s(&vkey_file)]).ok().json();
    assert_eq!((ok["ok"].as_bool(), ok["record"]["seq"].as_u64()), (Some(true), Some(3)));

    let pc = desk.file("pc.json");
    desk.run(&["prove", "--consistency", s(&c1), s(&c2), "--out", s(&pc)]).ok();
    let ok = alone(&["check-proof", s(&pc), "--checkpoint", s(&c1), "--key", &vkey]).ok();
    assert!(
        ok.stdout.contains(&format!("the checkpoint of {size} records extends the checkpoint of")),
        "{}",
        ok.stdout
    );

    // The inclusion proof against the older checkpoint: not made against it.
    let run = alone(&["check-proof", s(&p), "--checkpoint", s(&c1), "--key", &vkey]).code(2);
    assert!(run.stderr.contains("another checkpoint"), "{}", run.stderr);
}

/// Runs check-proof on copies of the files with one byte changed, every `step` bytes.
fn every_changed_byte(desk: &Desk, proof: &Path, checkpoint: &Path, vkey: &str, change_proof: bool, step: usize) {
    let target = if change_proof { proof } else { checkpoint };
    let original = std::fs::read(target).unwrap();
    let copy = desk.file(if change_proof { "changed-proof.json" } else { "changed-checkpoint" });
    let (p, c) = if change_proof { (copy.as_path(), checkpoint) } else { (proof, copy.as_path()) };
    let mut checked = 0;
    for at in (0..original.len()).step_by(step) {
        let mut bytes = original.clone();
        // Another printable byte, never whitespace JSON would skip or a digit's twin.
        bytes[at] = if bytes[at] == b'A' {
            b'B'
        } else if bytes[at].is_ascii_alphanumeric() {
            b'A'
        } else {
            b'Z'
        };
        if bytes == original {
            continue;
        }
        std::fs::write(&copy, &bytes).unwrap();
        let run = alone(&["check-proof", s(p), "--checkpoint", s(c), "--key", vkey]);
        assert!(
            run.code == 1 || run.code == 2,
            "byte {at} of {}: exit {}\n{}{}",
            target.display(),
            run.code,
            run.stdout,
            run.stderr
        );
        assert!(run.stderr.starts_with("error: ") && run.stderr.contains(s(&copy)), "byte {at}: {}", run.stderr);
        checked += 1;
    }
    assert!(checked > 20, "{checked} changes checked");
}

#[test]
fn a_changed_byte_in_a_proof_or_its_checkpoint_is_caught_naming_the_file() {
    let desk = Desk::new();
    desk.append_area("tourism-x");
    let c = desk.checkpoint("c");
    let vkey = desk.vkey();
    let p = desk.file("p.json");
    desk.run(&["prove", "5", "--checkpoint", s(&c), "--out", s(&p)]).ok();
    every_changed_byte(&desk, &p, &c, &vkey, true, 7);
    every_changed_byte(&desk, &p, &c, &vkey, false, 1);
    // Missing and malformed inputs are bad input, named.
    let run = alone(&["check-proof", s(&desk.file("none.json")), "--checkpoint", s(&c), "--key", &vkey]).code(2);
    assert!(run.stderr.contains("none.json: no such file"), "{}", run.stderr);
    let run = alone(&["check-proof", s(&p), "--checkpoint", s(&c), "--key", "nobody+00000000+AAAA"]).code(2);
    assert!(run.stderr.contains("key: \"nobody+00000000+AAAA\" is neither a verifier key"), "{}", run.stderr);
}

#[test]
fn a_witness_cosigns_forward_and_refuses_an_older_checkpoint() {
    let desk = Desk::new();
    let c1 = desk.checkpoint("c1");
    desk.append_area("tourism-x");
    desk.append_area("trade-x");
    let c2 = desk.checkpoint("c2");
    let pc = desk.file("pc.json");
    desk.run(&["prove", "--consistency", s(&c1), s(&c2), "--out", s(&pc)]).ok();
    let vkey_file = desk.file("ledger.vkey");
    std::fs::write(&vkey_file, desk.vkey()).unwrap();

    let key = desk.file("congress-office.pem");
    let made = alone(&["key", "generate", "--out", s(&key)]).ok();
    assert!(made.stdout.contains("-----BEGIN PUBLIC KEY-----"), "{}", made.stdout);
    let state = desk.file("witness-state");
    let cosign = |checkpoint: &Path, extra: &[&str]| {
        let mut args = vec!["cosign", "--checkpoint", s(checkpoint), "--state", s(&state), "--key", s(&key)];
        args.extend_from_slice(extra);
        alone(&args)
    };
    let run = cosign(&c1, &[]).code(2);
    assert!(run.stderr.contains("--log-key"), "{}", run.stderr);
    let c1w = desk.file("c1-cosigned");
    let run = cosign(&c1, &["--log-key", s(&vkey_file), "--out", s(&c1w)]).ok();
    assert!(run.stderr.contains("first use"), "{}", run.stderr);
    let note = std::fs::read_to_string(&c1w).unwrap();
    assert!(note.starts_with(&std::fs::read_to_string(&c1).unwrap()), "{note}");
    assert!(note.lines().last().unwrap().starts_with("— congress-office "), "the name comes from the key file: {note}");

    let run = cosign(&c2, &[]).code(2);
    assert!(run.stderr.contains("--proof"), "{}", run.stderr);
    let v = cosign(&c2, &["--proof", s(&pc), "--json"]).ok().json();
    assert_eq!((v["first_use"].as_bool(), v["previous_size"].as_u64()), (Some(false), Some(13)));
    assert!(v["cosigner_vkey"].as_str().unwrap().starts_with("congress-office+"));

    let run = cosign(&c1, &[]).code(2);
    assert!(
        run.stderr.contains(s(&c1)) && run.stderr.contains("covers 13 records, fewer than the 15"),
        "{}",
        run.stderr
    );

    // The witness's key must be private.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let run = cosign(&c2, &[]).code(2);
        assert!(run.stderr.contains("chmod 600"), "{}", run.stderr);
    }
}

#[test]
fn key_generate_writes_a_private_key_openssl_reads_and_never_overwrites() {
    let tmp = tempdir();
    let key = tmp.path().join("dept.pem");
    let v = alone(&["--json", "key", "generate", "--out", s(&key)]).ok().json();
    assert_eq!(v["public_key_file"].as_str(), Some(s(&tmp.path().join("dept.pem.pub"))));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let run = alone(&["key", "generate", "--out", s(&key)]).code(2);
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
    if let Ok(out) = std::process::Command::new("openssl").args(["pkey", "-in", s(&key), "-noout"]).output() {
        assert!(out.status.success(), "openssl refuses the key: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn a_ledger_without_a_key_gets_one_from_its_first_checkpoint_only() {
    let desk = Desk::new();
    for name in ["keys/_ledger.pem", "keys/_ledger.pub"] {
        let _ = std::fs::remove_file(desk.dir.join(name));
    }
    let run = desk.run(&["ledger-key"]).code(2);
    assert!(run.stderr.contains("run `commitments checkpoint` once"), "{}", run.stderr);
    let run = desk.run(&["checkpoint"]).ok();
    assert!(run.stderr.contains("created the ledger's checkpoint key"), "{}", run.stderr);
    assert!(run.stdout.starts_with("test.example/cli-audit\n13\n"), "{}", run.stdout);
    desk.vkey();
    // Lost after a checkpoint was published: not replaced.
    std::fs::remove_file(desk.dir.join("keys/_ledger.pem")).unwrap();
    std::fs::remove_file(desk.dir.join("keys/_ledger.pub")).unwrap();
    let run = desk.run(&["checkpoint"]).code(2);
    assert!(run.stderr.contains("restore the key file from a backup"), "{}", run.stderr);
}

#[test]
fn an_older_copy_cannot_prove_against_or_sign_past_a_newer_checkpoint() {
    let desk = Desk::new();
    desk.checkpoint("c1");
    let old_copy = desk.file("old-copy");
    copy_dir(&desk.dir, &old_copy);
    desk.append_area("tourism-x");
    let c2 = desk.checkpoint("c2");
    let c1 = desk.file("c1");
    let run = cli(&old_copy, &["prove", "--consistency", s(&c1), s(&c2)]).code(1);
    assert!(run.stderr.contains("records it covered are gone"), "{}", run.stderr);
    // The newer checkpoint in the copy's folder: it will not sign a shorter history.
    std::fs::copy(&c2, old_copy.join("checkpoints").join(format!("{:020}", 14))).unwrap();
    let run = cli(&old_copy, &["checkpoint"]).code(1);
    assert!(run.stderr.contains("the ledger has 13 records but the checkpoint it published"), "{}", run.stderr);
    // Another ledger's checkpoint: both origins named.
    let elsewhere = tempdir();
    let other_dir = elsewhere.path().join("l");
    cli(&other_dir, &["init", "--title", "t", "--origin", "test.example/other"]).ok();
    let oc = elsewhere.path().join("oc");
    cli(&other_dir, &["checkpoint", "--out", s(&oc)]).ok();
    let run = desk.run(&["prove", "2", "--checkpoint", s(&oc)]).code(2);
    assert!(
        run.stderr.contains(s(&oc))
            && run.stderr.contains("its origin is \"test.example/other\", this ledger's is \"test.example/cli-audit\""),
        "{}",
        run.stderr
    );
}
