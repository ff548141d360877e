//! Who wrote it: every record of a new ledger is signed by its actor's registered key; keys are
//! registered, rotated and retired by signed events; a client that keeps its own key signs a statement
//! before the ledger assigns seq, link and time; nobody can append as an actor whose key is not at
//! hand. Library level over `MemStore`, and through the binary on a ledger directory.

mod support;

use commitment_ledger::keys::{self, PublicKey, SigningKey};
use commitment_ledger::{
    Command, Ledger, LedgerError, MemStore, Rejection, Role, SignedStatement, Store, StreamVersion, verify_store,
};
use support::mem::*;
use support::*;

const ORIGIN: &str = "test.example/commitments";

fn refused(result: Result<Vec<commitment_ledger::Head>, LedgerError>) -> Rejection {
    match result {
        Err(LedgerError::Rejected { rejection, .. }) => rejection,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// The fixture with a department, `own`, that keeps its own key (the ledger only knows the public half).
fn with_own_key() -> (MemLedger, SigningKey) {
    let mut t = fixture();
    let key = keys::generate_signing_key();
    let mut register = match register("own", "自备密钥的部门", Role::Department) {
        Command::RegisterActor(r) => r,
        _ => unreachable!(),
    };
    register.public_key = Some(PublicKey::of(&key));
    t.ok("admin", Command::RegisterActor(register));
    t.ok(
        "admin",
        Command::RecordCommitment(commitment("own-item", "own", "finance", commitment_ledger::Kind::Ongoing)),
    );
    (t, key)
}

#[test]
fn every_record_of_a_new_ledger_is_signed_and_verifies() {
    let t = fixture();
    let report = verify_store(t.l.store(), &mut |_| {}).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!((report.signed, report.unsigned), (report.records, 0));
    let mut formats = Vec::new();
    t.l.store()
        .scan(commitment_ledger::Seq(0), &mut |_, bytes| {
            formats.push(bytes[0]);
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    assert!(formats.iter().all(|f| *f == 2), "every record is format 2: {formats:?}");
}

#[test]
fn a_client_signs_a_statement_before_the_ledger_assigns_seq_link_and_time() {
    let (mut t, key) = with_own_key();
    let progress = progress("own-item", "自行签名的进展", "2024-05-01");
    let statement = t.l.prepare(&actor("own"), progress).unwrap();
    assert_eq!(statement.stream_version, StreamVersion(1));
    let head = t.l.head().unwrap();
    let signed = statement.sign(&key, ORIGIN);
    let appended = t.l.append_signed(vec![signed]).unwrap();
    assert_eq!(appended[0].seq.0, head.seq.0 + 1);
    let (rec, _) = t.l.record(appended[0].seq).unwrap().unwrap();
    assert!(rec.signature.is_some());
    let report = verify_store(t.l.store(), &mut |_| {}).unwrap();
    assert!(report.ok && report.unsigned == 0, "{report:?}");
    // The ledger itself cannot write as `own`: it does not hold the key.
    let rejection = match t.l.append(&actor("own"), progress_cmd()) {
        Err(LedgerError::Rejected { rejection, .. }) => rejection,
        other => panic!("{other:?}"),
    };
    assert!(matches!(rejection, Rejection::KeyUnavailable { .. }), "{rejection}");
}

fn progress_cmd() -> Command {
    progress("own-item", "再一次", "2024-05-02")
}

#[test]
fn statements_that_do_not_fit_are_refused_and_write_nothing() {
    let (mut t, key) = with_own_key();
    let other = keys::generate_signing_key();
    let prepare =
        |t: &mut MemLedger, text: &str| t.l.prepare(&actor("own"), progress("own-item", text, "2024-05-01")).unwrap();
    let before = t.l.head();

    // Signed with another key.
    let s = prepare(&mut t, "别人签的").sign(&other, ORIGIN);
    let r = refused(t.l.append_signed(vec![s]));
    assert!(r.to_string().contains("does not verify with own's registered key"), "{r}");

    // Signed for another ledger (the origin is part of the statement).
    let s = prepare(&mut t, "另一个台账").sign(&key, "elsewhere.example/ledger");
    assert!(matches!(refused(t.l.append_signed(vec![s])), Rejection::BadStatement { .. }));

    // Changed after it was signed.
    let mut s = prepare(&mut t, "原文").sign(&key, ORIGIN);
    if let commitment_ledger::Event::ProgressReported(p) = &mut s.statement.event {
        p.text = "改过的".into();
    }
    assert!(matches!(refused(t.l.append_signed(vec![s])), Rejection::BadStatement { .. }));

    // Signed with a time far ahead of the ledger's.
    let mut st = prepare(&mut t, "来自未来");
    st.actor_time = commitment_ledger::Timestamp(st.actor_time.0 + commitment_ledger::MAX_ACTOR_SKEW + 1);
    let r = refused(t.l.append_signed(vec![st.sign(&key, ORIGIN)]));
    assert!(r.to_string().contains("clock is ahead"), "{r}");
    assert_eq!(t.l.head(), before, "nothing was written");

    // Two statements prepared against the same stream version: the second no longer fits.
    let first = prepare(&mut t, "第一").sign(&key, ORIGIN);
    let second = prepare(&mut t, "第二").sign(&key, ORIGIN);
    t.l.append_signed(vec![first]).unwrap();
    let r = refused(t.l.append_signed(vec![second.clone()]));
    assert!(r.to_string().contains("prepare and sign it again"), "{r}");

    // A batch with one bad statement writes none of them.
    let good = prepare(&mut t, "好的").sign(&key, ORIGIN);
    let before = t.l.head();
    let bad = SignedStatement { signature: [7; 64], ..good.clone() };
    assert!(t.l.append_signed(vec![good, bad]).is_err());
    assert_eq!(t.l.head(), before);
    assert!(verify_store(t.l.store(), &mut |_| {}).unwrap().ok);
}

#[test]
fn keys_are_rotated_and_retired_by_signed_events() {
    let mut t = fixture();
    let old = t.l.registry().actors[&actor("fin")].key.unwrap();
    // The department rotates its own key: the ledger makes the new pair and signs with the old one.
    t.ok("fin", Command::RegisterKey { actor: actor("fin"), public_key: None });
    let new = t.l.registry().actors[&actor("fin")].key.unwrap();
    assert_ne!(old, new);
    t.ok("fin", progress("fin-bonds", "新密钥签名", "2024-05-01"));
    // A key used before cannot be registered again, by anyone.
    let r = t.no("office", Command::RegisterKey { actor: actor("drc"), public_key: Some(old) });
    assert!(r.to_string().contains("was registered before"), "{r}");
    // Retired: the department cannot append until a coordinator registers a new key.
    t.ok("fin", Command::RetireKey { actor: actor("fin"), reason: Some("人员变动".into()) });
    let r = t.no("fin", progress("fin-bonds", "已停用", "2024-05-01"));
    assert!(matches!(r, Rejection::KeyUnavailable { .. }), "{r}");
    t.ok("office", Command::RegisterKey { actor: actor("fin"), public_key: None });
    t.ok("fin", progress("fin-bonds", "恢复", "2024-05-01"));
    // Only the actor itself or a coordinator may change its key.
    let r = t.no("drc", Command::RetireKey { actor: actor("fin"), reason: None });
    assert!(matches!(r, Rejection::NotAllowed { .. }), "{r}");
    let report = verify_store(t.l.store(), &mut |_| {}).unwrap();
    assert!(report.ok && report.unsigned == 0, "{report:?}");
}

#[test]
fn weak_and_non_canonical_keys_are_refused_at_registration() {
    let mut t = fixture();
    // The identity point (small order) and a non-canonical encoding of a valid point (y + p).
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut non_canonical = [0u8; 32];
    non_canonical[0] = 0xee; // y = p + 1 ≡ 1 mod p, which is the identity again, written long
    non_canonical[31] = 0x7f;
    non_canonical[1..31].fill(0xff);
    for bad in [identity, non_canonical] {
        let r = t.no("office", Command::RegisterKey { actor: actor("drc"), public_key: Some(PublicKey(bad)) });
        assert!(r.to_string().starts_with("public-key:"), "{r}");
    }
}

#[test]
fn a_version_1_style_unsigned_ledger_verifies_and_says_it_is_unsigned() {
    let clock = clock_at(FIXTURE_TIME);
    let mut l = Ledger::with_store(MemStore::new(), Box::new(clock)).unwrap();
    l.keyring_mut().make_no_keys();
    l.init(opened("admin"), seed_areas()).unwrap();
    l.append_batch(fixture_commands()).unwrap();
    let report = verify_store(l.store(), &mut |_| {}).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!((report.signed, report.unsigned), (0, report.records));
}

// ---------------------------------------------------------------------------------------------
// Through the binary, on a ledger directory.

fn init(dir: &std::path::Path) {
    cli(dir, &["init", "--title", "京澳合作", "--origin", "test.example/sig"]).ok();
    cli(dir, &["actor", "add", "office", "--name", "港澳办", "--role", "office"]).ok();
    cli(dir, &["actor", "add", "li-jing", "--name", "李静", "--role", "deputy"]).ok();
}

fn records(dir: &std::path::Path) -> u64 {
    cli(dir, &["--json", "verify"]).ok().json()["records"].as_u64().unwrap()
}

#[cfg(unix)]
#[test]
fn init_and_actor_add_keep_keys_in_the_ledger_directory_readable_only_by_the_owner() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempdir();
    let dir = tmp.path().join("ledger");
    init(&dir);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.join("keys")), 0o700);
    for actor in ["admin", "office", "li-jing", "_ledger"] {
        assert_eq!(mode(&dir.join(format!("keys/{actor}.pem"))), 0o600, "{actor}");
    }
}

#[test]
fn nobody_appends_as_an_actor_whose_key_is_not_at_hand() {
    let tmp = tempdir();
    let dir = tmp.path().join("ledger");
    init(&dir);
    cli(
        &dir,
        &[
            "source",
            "add",
            "reply-0771",
            "--kind",
            "reply",
            "--title",
            "答复",
            "--date",
            "2024-05-01",
            "--addressee",
            "li-jing",
            "--actor",
            "office",
        ],
    )
    .ok();
    // The office holds the ledger directory but not the deputy's key: it cannot record her verdict.
    let her_key = dir.join("keys/li-jing.pem");
    let kept = tmp.path().join("li-jing.pem");
    std::fs::rename(&her_key, &kept).unwrap();
    let before = records(&dir);
    let run = cli(&dir, &["feedback", "reply-0771", "satisfied", "--actor", "li-jing"]).code(2);
    assert!(run.stderr.contains("no signing key for li-jing"), "{}", run.stderr);
    // Nor with another actor's key.
    let office_key = dir.join("keys/office.pem");
    let run = cli(
        &dir,
        &["feedback", "reply-0771", "satisfied", "--actor", "li-jing", "--key", office_key.to_str().unwrap()],
    )
    .code(2);
    assert!(run.stderr.contains("it cannot sign for li-jing"), "{}", run.stderr);
    assert_eq!(records(&dir), before, "nothing was written");
    // She can, with her key.
    let run = cli(
        &dir,
        &["--json", "feedback", "reply-0771", "satisfied", "--actor", "li-jing", "--key", kept.to_str().unwrap()],
    );
    assert_eq!(run.ok().seq(), before);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o644)).unwrap();
        let run = cli(
            &dir,
            &["feedback", "reply-0771", "dissatisfied", "--actor", "li-jing", "--key", kept.to_str().unwrap()],
        )
        .code(2);
        assert!(run.stderr.contains("chmod 600"), "{}", run.stderr);
    }
}

#[test]
fn a_department_that_keeps_its_own_key_is_registered_with_its_public_key() {
    let tmp = tempdir();
    let dir = tmp.path().join("ledger");
    init(&dir);
    let key = tmp.path().join("fin.pem");
    cli_raw(&["key", "generate", "--out", key.to_str().unwrap()]).ok();
    let public = format!("{}.pub", key.display());
    cli(&dir, &["actor", "add", "fin", "--name", "金融办", "--public-key", &public]).ok();
    assert!(!dir.join("keys/fin.pem").exists(), "the ledger keeps no private key for fin");
    cli(&dir, &["record", "fin-bonds", "--lead", "fin", "--area", "finance", "--title", "债券", "--actor", "fin"])
        .code(2);
    cli(
        &dir,
        &[
            "record",
            "fin-bonds",
            "--lead",
            "fin",
            "--area",
            "finance",
            "--title",
            "债券",
            "--actor",
            "fin",
            "--key",
            key.to_str().unwrap(),
        ],
    )
    .ok();
    // Rotation through the binary: the new key signs from then on, the old one no longer does.
    let new_key = tmp.path().join("fin2.pem");
    cli_raw(&["key", "generate", "--out", new_key.to_str().unwrap()]).ok();
    let new_public = format!("{}.pub", new_key.display());
    cli(&dir, &["actor", "key", "fin", "--public-key", &new_public, "--actor", "fin", "--key", key.to_str().unwrap()])
        .ok();
    let progress = ["progress", "fin-bonds", "--text", "进展", "--on", "2024-05-01", "--actor", "fin", "--key"];
    let mut old = progress.to_vec();
    old.push(key.to_str().unwrap());
    cli(&dir, &old).code(2);
    let mut new = progress.to_vec();
    new.push(new_key.to_str().unwrap());
    cli(&dir, &new).ok();
    let report = cli(&dir, &["--json", "verify"]).ok().json();
    assert_eq!(report["unsigned"], 0);
    assert_eq!(report["signed"], report["records"]);
}

#[test]
fn a_large_batch_is_signed_on_other_threads_in_order_and_all_or_nothing() {
    let mut t = fixture();
    let before = t.l.head().unwrap();
    let progress_n = |n: usize| progress("fin-bonds", &format!("第{n}次进展"), "2024-05-01");
    let batch: Vec<_> = (0..300).map(|n| (actor("fin"), progress_n(n))).collect();
    let heads = t.l.append_batch(batch).unwrap();
    assert_eq!(heads.len(), 300);
    for (n, h) in heads.iter().enumerate() {
        assert_eq!(h.seq.0, before.seq.0 + 1 + n as u64);
        let (rec, hash) = t.l.record(h.seq).unwrap().unwrap();
        assert_eq!(hash, h.hash, "the head returned is the record's hash");
        match &rec.event {
            commitment_ledger::Event::ProgressReported(p) => assert_eq!(p.text, format!("第{n}次进展")),
            other => panic!("{other:?}"),
        }
    }
    let report = verify_store(t.l.store(), &mut |_| {}).unwrap();
    assert!(report.ok && report.unsigned == 0, "{report:?}");
    // The last of 300 refused: none of them is written.
    let head = t.l.head();
    let mut batch: Vec<_> = (0..299).map(|n| (actor("fin"), progress_n(n))).collect();
    batch.push((actor("fin"), progress("no-such-item", "x", "2024-05-01")));
    assert!(t.l.append_batch(batch).is_err());
    assert_eq!(t.l.head(), head);
    assert!(verify_store(t.l.store(), &mut |_| {}).unwrap().ok);
    // And the projection was put back: the next append continues the chain.
    t.ok("fin", progress_n(1000));
}
