//! Tests of the C2SP signed-note implementation (`commitment_ledger::note`).

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use commitment_ledger::keys::generate_signing_key;
use commitment_ledger::note::{
    self as sn, MAX_NOTE_SIZE, MAX_SIGNATURES, Note, NoteError, NoteSignature, SIG_TYPE_ED25519, Signer, Verifier,
    VerifierKey,
};
use support::signed_note_vectors;

fn spec_example() -> (Verifier, String) {
    let (vkey, signed, _) = signed_note_vectors();
    (Verifier::from_vkey(&vkey).expect("the spec's verifier key parses"), signed)
}

fn signer(name: &str) -> Signer {
    Signer::new(name, generate_signing_key()).expect("valid name")
}

#[test]
fn fixture_has_the_expected_example() {
    let (vkey, signed, checkpoint) = signed_note_vectors();
    assert_eq!(vkey, "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k");
    assert_eq!(
        signed,
        "This is an example message.\n\n\u{2014} example.com/foo \
         Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
    );
    assert!(checkpoint.starts_with("example.com/behind-the-sofa\n20852163\n"));
}

#[test]
fn spec_example_verifies() {
    let (verifier, signed) = spec_example();
    assert_eq!(verifier.name(), "example.com/foo");
    assert_eq!(verifier.key_id(), 0x530d903a);
    let opened = sn::open(signed.as_bytes(), std::slice::from_ref(&verifier)).expect("spec example verifies");
    assert_eq!(opened.verified, vec![0]);
    assert_eq!(opened.note.text(), "This is an example message.\n");
    assert_eq!(opened.note.signatures().len(), 1);
    assert_eq!(opened.note.signatures()[0].signature().len(), 64);
    // Re-encoding gives the same bytes.
    assert_eq!(opened.note.encode().expect("signed"), signed);
}

#[test]
fn spec_verifier_key_round_trips() {
    let (vkey, _, _) = signed_note_vectors();
    let verifier = Verifier::from_vkey(&vkey).expect("parses");
    assert_eq!(verifier.to_vkey(), vkey);
    assert_eq!(verifier.to_string(), vkey);
    assert_eq!(vkey.parse::<Verifier>().expect("FromStr"), verifier);
    let generic = VerifierKey::parse(&vkey).expect("generic parse");
    assert_eq!(generic.sig_type, SIG_TYPE_ED25519);
    assert_eq!(generic.key.len(), 32);
    assert_eq!(sn::key_id("example.com/foo", SIG_TYPE_ED25519, &generic.key), 0x530d903a);
}

#[test]
fn spec_example_rejected_after_text_change() {
    let (verifier, signed) = spec_example();
    for changed in [
        signed.replacen("example message", "example messagE", 1),
        signed.replacen("This is", "This's", 1),
        signed.replacen("message.\n", "message.\nMore.\n", 1),
        format!("Extra line.\n{signed}"),
    ] {
        let err = sn::open(changed.as_bytes(), std::slice::from_ref(&verifier)).expect_err("changed text must fail");
        assert_eq!(
            err,
            NoteError::InvalidSignature { name: "example.com/foo".into(), key_id: 0x530d903a },
            "{changed}"
        );
    }
}

#[test]
fn spec_example_rejected_after_key_name_change() {
    let (verifier, signed) = spec_example();
    // A different name in the signature line: no longer the known key, so nothing verifies.
    let changed = signed.replacen("\u{2014} example.com/foo ", "\u{2014} example.com/fop ", 1);
    assert_eq!(
        sn::open(changed.as_bytes(), std::slice::from_ref(&verifier)),
        Err(NoteError::NoKnownSignature { signatures: 1, known: 1 })
    );
    // A verifier under another name (with a matching key ID) does not verify it either.
    let renamed = Verifier::new("example.com/fop", *verifier.public_key()).expect("valid");
    assert!(matches!(
        sn::open(signed.as_bytes(), std::slice::from_ref(&renamed)),
        Err(NoteError::NoKnownSignature { .. })
    ));
    // The spec's vkey with its name changed fails its key ID check.
    let (vkey, _, _) = signed_note_vectors();
    assert!(matches!(
        Verifier::from_vkey(&vkey.replacen("example.com/foo", "example.com/fop", 1)),
        Err(NoteError::KeyIdMismatch { stated: 0x530d903a, .. })
    ));
}

#[test]
fn spec_example_rejected_after_signature_byte_change() {
    let (verifier, signed) = spec_example();
    let (head, b64) = signed.trim_end().rsplit_once(' ').expect("signature line");
    let raw = BASE64.decode(b64).expect("base64");
    assert_eq!(raw.len(), 68);
    for index in 0..raw.len() {
        for bit in [0x01u8, 0x80] {
            let mut changed = raw.clone();
            changed[index] ^= bit;
            let note = format!("{head} {}\n", BASE64.encode(&changed));
            let err = sn::open(note.as_bytes(), std::slice::from_ref(&verifier)).expect_err("changed signature");
            if index < 4 {
                // A changed key ID designates an unknown key: ignored, so no known signature is left.
                assert!(matches!(err, NoteError::NoKnownSignature { .. }), "byte {index}: {err}");
            } else {
                assert!(matches!(err, NoteError::InvalidSignature { .. }), "byte {index}: {err}");
            }
        }
    }
}

#[test]
fn spec_example_rejected_after_any_one_byte_change() {
    let (verifier, signed) = spec_example();
    let bytes = signed.as_bytes();
    let mut checked = 0;
    for index in 0..bytes.len() {
        let mut variants: Vec<Vec<u8>> = Vec::new();
        for bit in [0x01u8, 0x02, 0x20, 0x40, 0x80] {
            let mut v = bytes.to_vec();
            v[index] ^= bit;
            variants.push(v);
        }
        let mut deleted = bytes.to_vec();
        deleted.remove(index);
        variants.push(deleted);
        for inserted in [b'a', b' ', b'\n', b'='] {
            let mut v = bytes.to_vec();
            v.insert(index, inserted);
            variants.push(v);
        }
        for variant in variants {
            let result = sn::open(&variant, std::slice::from_ref(&verifier));
            assert!(result.is_err(), "accepted after changing byte {index}: {:?}", String::from_utf8_lossy(&variant));
            checked += 1;
        }
    }
    // Appending one byte after the final newline is also refused.
    let mut appended = bytes.to_vec();
    appended.push(b'x');
    assert_eq!(sn::open(&appended, std::slice::from_ref(&verifier)), Err(NoteError::MissingFinalNewline));
    assert!(checked > 1000);
}

#[test]
fn sign_and_open_round_trip() {
    let alice = signer("example.org/alice");
    let bob = signer("example.org/bob");
    let text = "line one\n\nline three after an empty line\n";
    let signed = sn::sign(text, &[&alice, &bob]).expect("signs");
    let known = [bob.verifier(), alice.verifier()];
    let opened = sn::open(signed.as_bytes(), &known).expect("verifies");
    assert_eq!(opened.note.text(), text);
    assert_eq!(opened.verified, vec![0, 1]);
    let names: Vec<&str> = opened.note.signatures().iter().map(NoteSignature::name).collect();
    assert_eq!(names, ["example.org/alice", "example.org/bob"]);
    // One known key is enough.
    assert_eq!(sn::open(signed.as_bytes(), &known[1..]).expect("verifies").verified, vec![0]);
    // Signatures are deterministic.
    assert_eq!(sn::sign(text, &[&alice, &bob]).expect("signs"), signed);
}

#[test]
fn adding_signatures_appends_and_replaces() {
    let alice = signer("alice.example");
    let bob = signer("bob.example");
    let signed = sn::sign("hello\n", &[&alice]).expect("signs");
    let both = sn::add_signatures(signed.as_bytes(), &[&bob]).expect("adds");
    assert!(both.starts_with(&signed), "existing lines come first");
    let opened = sn::open(both.as_bytes(), &[alice.verifier(), bob.verifier()]).expect("verifies");
    assert_eq!(opened.verified, vec![0, 1]);
    // Signing again with the same key replaces the line instead of duplicating it.
    let again = sn::add_signatures(both.as_bytes(), &[&alice]).expect("adds");
    assert_eq!(again, both);
    // A corrupted line by the same key is replaced by a good one.
    let mut note = Note::parse(both.as_bytes()).expect("parses");
    let bad = NoteSignature::new(alice.name(), alice.key_id(), vec![0u8; 64]).expect("line");
    note.add_signature(bad).expect("replaces");
    assert!(note.verify(&[alice.verifier()]).is_err());
    note.sign(&alice).expect("signs");
    assert_eq!(note.verify(&[alice.verifier()]).expect("verifies"), vec![0]);
}

#[test]
fn unknown_and_wrong_id_signatures_are_ignored() {
    let log = signer("log.example");
    let stranger = signer("stranger.example");
    let mut note = Note::new("payload\n").expect("text");
    note.sign(&stranger).expect("signs");
    // Same name as the known key, different key ID, garbage signature: ignored per the spec.
    note.add_signature(NoteSignature::new(log.name(), log.key_id() ^ 1, vec![7u8; 64]).expect("line")).expect("adds");
    // Same key ID as the known key, different name: ignored too.
    note.add_signature(NoteSignature::new("other.example", log.key_id(), vec![7u8; 64]).expect("line")).expect("adds");
    let encoded = note.encode().expect("signed");
    assert_eq!(
        sn::open(encoded.as_bytes(), &[log.verifier()]),
        Err(NoteError::NoKnownSignature { signatures: 3, known: 1 })
    );
    note.sign(&log).expect("signs");
    let encoded = note.encode().expect("signed");
    let opened = sn::open(encoded.as_bytes(), &[log.verifier()]).expect("verifies");
    assert_eq!(opened.verified, vec![0]);
    assert_eq!(opened.note.signatures().len(), 4);
}

#[test]
fn failing_known_signature_rejects_the_whole_note() {
    let alice = signer("alice.example");
    let bob = signer("bob.example");
    let mut note = Note::new("payload\n").expect("text");
    note.sign(&alice).expect("signs");
    note.add_signature(NoteSignature::new(bob.name(), bob.key_id(), vec![0u8; 64]).expect("line")).expect("adds");
    let encoded = note.encode().expect("signed");
    // Alice's signature alone would do, but Bob's known key has a bad signature.
    assert_eq!(
        sn::open(encoded.as_bytes(), &[alice.verifier(), bob.verifier()]),
        Err(NoteError::InvalidSignature { name: bob.name().into(), key_id: bob.key_id() })
    );
    // Without Bob's key, his line is unknown and ignored.
    assert!(sn::open(encoded.as_bytes(), &[alice.verifier()]).is_ok());
    // A signature of the wrong length by a known key fails too.
    let mut note = Note::new("payload\n").expect("text");
    note.add_signature(NoteSignature::new(alice.name(), alice.key_id(), vec![1u8; 63]).expect("line")).expect("adds");
    assert!(matches!(
        sn::open(note.encode().expect("signed").as_bytes(), &[alice.verifier()]),
        Err(NoteError::InvalidSignature { .. })
    ));
}

#[test]
fn the_same_known_key_twice_is_not_ambiguous() {
    let a = signer("same.example");
    let verifier = a.verifier();
    let signed = sn::sign("x\n", &[&a]).expect("signs");
    assert_eq!(sn::open(signed.as_bytes(), &[verifier.clone(), verifier]).expect("verifies").verified, vec![0]);
}

#[test]
fn signature_and_note_limits() {
    let log = signer("log.example");
    let mut note = Note::new("payload\n").expect("text");
    for n in 0..MAX_SIGNATURES - 1 {
        note.add_signature(NoteSignature::new(&format!("w{n}.example"), n as u32, vec![1u8; 64]).expect("line"))
            .expect("within the limit");
    }
    note.sign(&log).expect("the 100th signature fits");
    let encoded = note.encode().expect("signed");
    assert_eq!(sn::open(encoded.as_bytes(), &[log.verifier()]).expect("verifies").verified, vec![0]);
    let extra = NoteSignature::new("one.more", 1, vec![1u8; 64]).expect("line");
    assert_eq!(note.add_signature(extra), Err(NoteError::TooManySignatures { count: 101, limit: 100 }));
    // A parsed note with 101 lines is refused before any verification.
    let line = NoteSignature::new("one.more", 1, vec![1u8; 64]).expect("line").to_line();
    let too_many = format!("{encoded}{line}");
    assert_eq!(
        sn::open(too_many.as_bytes(), &[log.verifier()]),
        Err(NoteError::TooManySignatures { count: 101, limit: 100 })
    );
    // Size limit.
    let big = "a".repeat(MAX_NOTE_SIZE) + "\n";
    assert!(matches!(Note::new(big.clone()), Err(NoteError::TooLarge { .. })));
    let big_note = format!("{big}\n{line}");
    assert!(matches!(Note::parse(big_note.as_bytes()), Err(NoteError::TooLarge { .. })));
}

#[test]
fn key_name_rules() {
    for bad in ["", "has space", "tab\there", "plus+sign", "nbsp\u{a0}x", "ideographic\u{3000}space", "nl\nx"] {
        assert!(
            matches!(Signer::new(bad, generate_signing_key()), Err(NoteError::InvalidKeyName { .. })),
            "{bad:?} must be refused"
        );
        assert!(matches!(sn::check_key_name(bad), Err(NoteError::InvalidKeyName { .. })));
    }
    for good in ["example.com/foo", "a", "oid/1.3.6.1.4.1", "ünïcødé.example/ключ", "del\u{7f}and\u{90}c1"] {
        assert!(Signer::new(good, generate_signing_key()).is_ok(), "{good:?} is valid");
    }
    // In a note, a line whose name contains a non-ASCII space is refused.
    let raw = BASE64.encode([0u8; 68]);
    let note = format!("text\n\n\u{2014} bad\u{2009}name {raw}\n");
    assert!(matches!(Note::parse(note.as_bytes()), Err(NoteError::InvalidKeyName { .. })));
}

#[test]
fn malformed_notes_give_clear_errors() {
    let raw = BASE64.encode([0u8; 68]);
    let line = format!("\u{2014} k.example {raw}\n");
    let cases: Vec<(Vec<u8>, NoteError)> = vec![
        (b"".to_vec(), NoteError::Empty),
        (b"text only\n".to_vec(), NoteError::MissingSeparator),
        (format!("text\n{line}").into_bytes(), NoteError::MissingSeparator),
        (b"text\n\n".to_vec(), NoteError::NoSignatures),
        (format!("text\n\n{}", line.trim_end()).into_bytes(), NoteError::MissingFinalNewline),
        (format!("text\n\n{line}\n").into_bytes(), NoteError::NoSignatures),
        (format!("text\r\n\r\n{line}").into_bytes(), NoteError::ControlCharacter { offset: 4, byte: b'\r' }),
        (format!("te\txt\n\n{line}").into_bytes(), NoteError::ControlCharacter { offset: 2, byte: b'\t' }),
        (format!("te\0xt\n\n{line}").into_bytes(), NoteError::ControlCharacter { offset: 2, byte: 0 }),
        (b"te\xffxt\n\n".to_vec(), NoteError::InvalidUtf8 { offset: 2 }),
        (format!("text\n\n- k.example {raw}\n").into_bytes(), NoteError::MissingSignaturePrefix { line: 3 }),
        (
            format!("text\n\n{line}\u{2014} k.example not-base64!\n").into_bytes(),
            NoteError::MalformedSignatureLine { line: 4, reason: "the signature is not valid base64" },
        ),
        (
            format!("text\n\n\u{2014} k.example {}\n", BASE64.encode([0u8; 4])).into_bytes(),
            NoteError::MalformedSignatureLine {
                line: 3,
                reason: "the signature must hold a 4-byte key ID and at least one signature byte",
            },
        ),
        (
            "text\n\n\u{2014} k.example\n".as_bytes().to_vec(),
            NoteError::MalformedSignatureLine {
                line: 3,
                reason: "expected a key name, a space and a base64 signature",
            },
        ),
        (
            format!("text\n\n\u{2014} k.example {raw} trailing\n").into_bytes(),
            NoteError::MalformedSignatureLine { line: 3, reason: "the signature is not valid base64" },
        ),
        (
            format!("text\n\n\u{2014} k.example  {raw}\n").into_bytes(),
            NoteError::MalformedSignatureLine { line: 3, reason: "the signature is not valid base64" },
        ),
        (
            format!("text\n\n\u{2014} k.example {}\n", raw.trim_end_matches('=')).into_bytes(),
            NoteError::MalformedSignatureLine { line: 3, reason: "the signature is not valid base64" },
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(Note::parse(&input), Err(expected), "{:?}", String::from_utf8_lossy(&input));
    }
    // Every error renders a readable message.
    let message = Note::parse(b"a\r\n").expect_err("control").to_string();
    assert!(message.contains("control character 0x0d"), "{message}");
}

#[test]
fn non_canonical_base64_is_refused() {
    // 68 bytes end in a 2-byte group: "xxx=" where the last character carries 2 unused bits.
    let raw = BASE64.encode([0u8; 68]);
    assert!(raw.ends_with("AAA="));
    let non_canonical = format!("{}AAB=", &raw[..raw.len() - 4]);
    let note = format!("text\n\n\u{2014} k.example {non_canonical}\n");
    assert!(matches!(Note::parse(note.as_bytes()), Err(NoteError::MalformedSignatureLine { .. })));
}

#[test]
fn text_rules_for_signing() {
    let s = signer("k.example");
    assert_eq!(sn::sign("", &[&s]), Err(NoteError::Empty));
    assert_eq!(sn::sign("no newline", &[&s]), Err(NoteError::TextMissingNewline));
    assert_eq!(sn::sign("cr\r\n", &[&s]), Err(NoteError::ControlCharacter { offset: 2, byte: b'\r' }));
    assert_eq!(Note::new("x\n").expect("text").encode(), Err(NoteError::NoSignatures));
    // A text that is a single newline, and one ending with blank lines, round-trip.
    for text in ["\n", "a\n\n", "a\n\n\n", "\u{2014} looks like a signature line\n\n"] {
        let signed = sn::sign(text, &[&s]).expect("signs");
        let opened = sn::open(signed.as_bytes(), &[s.verifier()]).expect("verifies");
        assert_eq!(opened.note.text(), text);
    }
    // DEL (0x7f) is not below U+0020, so the spec allows it.
    assert!(sn::sign("del \u{7f}\n", &[&s]).is_ok());
}

#[test]
fn signer_keys_round_trip_and_hide_secrets() {
    let s = signer("example.com/signer");
    let skey = s.to_skey();
    assert!(skey.starts_with("PRIVATE+KEY+example.com/signer+"));
    let parsed = Signer::from_skey(&skey).expect("parses");
    assert_eq!(parsed.key_id(), s.key_id());
    assert_eq!(parsed.verifier(), s.verifier());
    let secret_part = skey.splitn(5, '+').nth(4).expect("has five parts").to_owned();
    let debug = format!("{s:?}");
    assert!(!debug.contains(&secret_part) && !debug.contains("key:"), "{debug}");
    assert!(debug.contains("example.com/signer"));
    // A wrong key ID, a wrong type and a bad prefix are refused.
    let hex = format!("{:08x}", s.key_id());
    let wrong_id = skey.replacen(&hex, &format!("{:08x}", s.key_id() ^ 1), 1);
    assert!(matches!(Signer::from_skey(&wrong_id), Err(NoteError::KeyIdMismatch { .. })));
    assert!(Signer::from_skey(&skey.replacen("PRIVATE+KEY+", "PRIVATE+KEYS+", 1)).is_err());
    let mut raw = BASE64.decode(&secret_part).expect("base64");
    raw[0] = 0x04;
    let wrong_type = skey.replacen(&secret_part, &BASE64.encode(&raw), 1);
    assert_eq!(
        Signer::from_skey(&wrong_type).map(|_| ()),
        Err(NoteError::UnsupportedSignatureType { found: 4, expected: 1 })
    );
    // Error messages never echo the key material.
    let err = Signer::from_skey(&format!("PRIVATE+KEY+n+{hex}+{}", &secret_part[..10])).expect_err("bad");
    assert!(!err.to_string().contains(&secret_part[..10]));
}

#[test]
fn verifier_key_errors() {
    let (vkey, _, _) = signed_note_vectors();
    let cases = [
        vkey.replacen("+530d903a+", "+530D903A+", 1),
        vkey.replacen("+530d903a+", "+530d903+", 1),
        vkey.replacen("+530d903a+", "+0530d903a+", 1),
        vkey.replacen("Aeky", "Aek!", 1),
        "example.com/foo+530d903a".to_owned(),
        "example.com/foo".to_owned(),
        "+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k".to_owned(),
        format!("name+00000000+{}", BASE64.encode([1u8])),
        format!("name+00000000+{}", BASE64.encode([1u8; 32])),
    ];
    for case in cases {
        assert!(Verifier::from_vkey(&case).is_err(), "{case:?} must be refused");
    }
    // Wrong signature type: a cosignature (0x04) vkey is not a note verifier.
    let key = generate_signing_key().verifying_key();
    let mut raw = vec![0x04];
    raw.extend_from_slice(key.as_bytes());
    let id = sn::key_id("w.example", 0x04, key.as_bytes());
    let vkey04 = format!("w.example+{id:08x}+{}", BASE64.encode(&raw));
    assert_eq!(Verifier::from_vkey(&vkey04), Err(NoteError::UnsupportedSignatureType { found: 4, expected: 1 }));
    assert_eq!(VerifierKey::parse(&vkey04).expect("generic").encode(), vkey04);
}

#[test]
fn weak_keys_are_refused_in_vkeys() {
    // The identity point (encoded as y = 1) has small order.
    let mut weak = [0u8; 32];
    weak[0] = 1;
    let mut raw = vec![SIG_TYPE_ED25519];
    raw.extend_from_slice(&weak);
    let id = sn::key_id("weak.example", SIG_TYPE_ED25519, &weak);
    let vkey = format!("weak.example+{id:08x}+{}", BASE64.encode(&raw));
    assert!(matches!(Verifier::from_vkey(&vkey), Err(NoteError::InvalidPublicKey(_))));
}
