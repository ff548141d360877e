//! Tests of checkpoints and cosignatures (`commitment_ledger::checkpoint`), and robustness: malformed
//! and mutated inputs never panic any parser, and a mutation never yields a different accepted content.

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use commitment_ledger::checkpoint::{
    self as cp, COSIGNATURE_LENGTH, Checkpoint, CheckpointError, Cosignature, CosignatureSigner, CosignatureVerifier,
    MAX_TIMESTAMP, MAX_TREE_SIZE, SIG_TYPE_COSIGNATURE_V1, WitnessCosignature,
};
use commitment_ledger::keys::{self, generate_signing_key};
use commitment_ledger::note::{self as sn, Note, NoteError, NoteSignature, SIG_TYPE_ED25519, Signer, Verifier};
use proptest::prelude::*;
use support::{indented_blocks, signed_note_vectors};

const ORIGIN: &str = "ledger.example/commitments";

fn log_signer() -> Signer {
    Signer::new(ORIGIN, generate_signing_key()).expect("valid name")
}

fn witness(name: &str) -> CosignatureSigner {
    CosignatureSigner::new(name, generate_signing_key()).expect("valid name")
}

fn sample(size: u64) -> Checkpoint {
    let mut root = [0u8; 32];
    for (i, b) in root.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37).wrapping_add(size as u8);
    }
    Checkpoint::new(ORIGIN, size, root).expect("valid checkpoint")
}

#[test]
fn spec_checkpoint_example_parses() {
    let (_, _, signed) = signed_note_vectors();
    let note = Note::parse(signed.as_bytes()).expect("parses as a note");
    let checkpoint = Checkpoint::parse(note.text()).expect("parses as a checkpoint");
    assert_eq!(checkpoint.origin, "example.com/behind-the-sofa");
    assert_eq!(checkpoint.size, 20852163);
    assert_eq!(BASE64.encode(checkpoint.root), "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=");
    assert!(checkpoint.extensions.is_empty());
    assert_eq!(checkpoint.to_body().expect("formats"), note.text());
    assert_eq!(note.signatures()[0].name(), "example.com/behind-the-sofa");
    assert_eq!(note.signatures()[0].signature().len(), 64);
    assert_eq!(note.encode().expect("signed"), signed);
}

#[test]
fn spec_cosignature_example_parses() {
    let blocks = indented_blocks("tlog-cosignature/README.md");
    let note = Note::parse(blocks[0].as_bytes()).expect("parses");
    let checkpoint = Checkpoint::parse(note.text()).expect("checkpoint");
    let line = &note.signatures()[1];
    assert_eq!(line.name(), "witness.example.com/w1");
    assert_eq!(line.key_id(), 0x8d66cf3f);
    assert_eq!(line.signature().len(), COSIGNATURE_LENGTH);
    let cosignature = Cosignature::from_bytes(line.signature()).expect("cosignature bytes");
    assert_eq!(cosignature.timestamp, 1679315147);
    assert_eq!(cosignature.to_bytes().as_slice(), line.signature());
    // The signed message for that timestamp is exactly the spec's.
    assert_eq!(cp::cosigned_message(note.text(), cosignature.timestamp), blocks[1].as_bytes());
    assert_eq!(checkpoint.size, 20852163);
}

#[test]
fn sign_and_open_round_trip() {
    let log = log_signer();
    for checkpoint in [sample(0), sample(1), sample(20852163), sample(MAX_TREE_SIZE)] {
        let signed = cp::sign_checkpoint(&checkpoint, &log).expect("signs");
        let opened = cp::open_checkpoint(signed.as_bytes(), ORIGIN, &log.verifier(), &[]).expect("opens");
        assert_eq!(opened.checkpoint, checkpoint);
        assert!(opened.cosignatures.is_empty());
        assert_eq!(opened.note.text(), checkpoint.to_body().expect("body"));
        // It is an ordinary signed note too.
        assert!(sn::open(signed.as_bytes(), &[log.verifier()]).is_ok());
    }
    let body = sample(5).to_body().expect("body");
    assert_eq!(body.lines().count(), 3);
    assert!(body.starts_with(&format!("{ORIGIN}\n5\n")));
}

#[test]
fn extensions_round_trip_and_are_covered_by_signatures() {
    let log = log_signer();
    let w = witness("witness.example/w1");
    let mut checkpoint = sample(10);
    checkpoint.extensions = vec!["ext one".into(), "— dash and ünïcode".into()];
    let signed = cp::sign_checkpoint(&checkpoint, &log).expect("signs");
    let cosigned = cp::add_cosignature(signed.as_bytes(), &w, 1_700_000_000).expect("cosigns");
    let opened = cp::open_checkpoint(cosigned.as_bytes(), ORIGIN, &log.verifier(), &[w.verifier()]).expect("opens");
    assert_eq!(opened.checkpoint, checkpoint);
    assert_eq!(opened.cosignatures.len(), 1);
    // Changing an extension line breaks both signatures.
    let tampered = cosigned.replacen("ext one", "ext 1", 1);
    assert!(matches!(
        cp::open_checkpoint(tampered.as_bytes(), ORIGIN, &log.verifier(), &[]),
        Err(CheckpointError::Note(NoteError::InvalidSignature { .. }))
    ));
    let log_only = Verifier::new("other.example", generate_signing_key().verifying_key()).expect("verifier");
    let err = cp::open_checkpoint(tampered.as_bytes(), ORIGIN, &log_only, &[w.verifier()]).expect_err("tampered");
    assert!(matches!(err, CheckpointError::InvalidCosignature { .. }), "{err}");
}

#[test]
fn cosignature_round_trip() {
    let log = log_signer();
    let w1 = witness("witness.example/w1");
    let w2 = witness("witness.example/w2");
    let stranger = witness("stranger.example/w");
    let signed = cp::sign_checkpoint(&sample(42), &log).expect("signs");
    let mut cosigned = cp::add_cosignature(signed.as_bytes(), &w1, 1_679_315_147).expect("cosigns");
    cosigned = cp::add_cosignature(cosigned.as_bytes(), &stranger, 5).expect("cosigns");
    cosigned = cp::add_cosignature(cosigned.as_bytes(), &w2, 0).expect("cosigns");
    assert!(cosigned.starts_with(&signed));

    let witnesses = [w2.verifier(), w1.verifier()];
    let opened = cp::open_checkpoint(cosigned.as_bytes(), ORIGIN, &log.verifier(), &witnesses).expect("opens");
    assert_eq!(opened.checkpoint, sample(42));
    assert_eq!(
        opened.cosignatures,
        vec![
            WitnessCosignature { name: w1.name().into(), key_id: w1.key_id(), timestamp: 1_679_315_147 },
            WitnessCosignature { name: w2.name().into(), key_id: w2.key_id(), timestamp: 0 },
        ]
    );
    assert_eq!(opened.note.signatures().len(), 4);
    // Only the witnesses asked about are reported.
    let opened = cp::open_checkpoint(cosigned.as_bytes(), ORIGIN, &log.verifier(), &witnesses[..1]).expect("opens");
    assert_eq!(opened.cosignatures.len(), 1);
    // The cosignature line is a type-0x04 line: the bytes are timestamp || signature.
    let line = &opened.note.signatures()[1];
    assert_eq!(line.signature().len(), 72);
    assert_eq!(line.signature()[..8], 1_679_315_147u64.to_be_bytes());
    // Re-cosigning replaces the witness's line.
    let again = cp::add_cosignature(cosigned.as_bytes(), &w1, 1_800_000_000).expect("cosigns");
    let opened = cp::open_checkpoint(again.as_bytes(), ORIGIN, &log.verifier(), &witnesses).expect("opens");
    assert_eq!(opened.note.signatures().len(), 4);
    assert_eq!(opened.cosignatures[0].timestamp, 1_800_000_000);
    // The cosigned message is the documented one.
    let body = sample(42).to_body().expect("body");
    assert_eq!(cp::cosigned_message(&body, 7), format!("cosignature/v1\ntime 7\n{body}").into_bytes());
}

#[test]
fn cosignature_over_another_checkpoint_is_refused() {
    let log = log_signer();
    let w = witness("witness.example/w1");
    let a = cp::sign_checkpoint(&sample(100), &log).expect("signs");
    let b = cp::sign_checkpoint(&sample(101), &log).expect("signs");
    let a_cosigned = cp::add_cosignature(a.as_bytes(), &w, 1000).expect("cosigns");
    // Graft a's cosignature line onto b.
    let line = a_cosigned.lines().last().expect("cosignature line");
    let grafted = format!("{b}{line}\n");
    let err = cp::open_checkpoint(grafted.as_bytes(), ORIGIN, &log.verifier(), &[w.verifier()]).expect_err("grafted");
    assert_eq!(
        err,
        CheckpointError::InvalidCosignature {
            name: w.name().into(),
            key_id: w.key_id(),
            reason: "the signature does not verify"
        }
    );
    assert!(err.to_string().contains("witness.example/w1"));
    // Changing the timestamp breaks it too.
    let raw = BASE64.decode(line.rsplit_once(' ').expect("line").1).expect("base64");
    let mut changed = raw.clone();
    changed[11] ^= 1;
    let retimed = a_cosigned.replacen(&BASE64.encode(&raw), &BASE64.encode(&changed), 1);
    assert!(matches!(
        cp::open_checkpoint(retimed.as_bytes(), ORIGIN, &log.verifier(), &[w.verifier()]),
        Err(CheckpointError::InvalidCosignature { .. })
    ));
    // A type-0x01 signature by the witness key under the witness name is not a cosignature: its key ID
    // differs, so it is ignored rather than mistaken for one.
    let note_signer = Signer::new(w.name(), generate_signing_key()).expect("signer");
    assert_ne!(note_signer.key_id(), w.key_id());
}

#[test]
fn cosignature_bytes_and_timestamps() {
    let w = witness("witness.example/w1");
    let body = sample(3).to_body().expect("body");
    assert!(matches!(w.cosign_body(&body, MAX_TIMESTAMP + 1), Err(CheckpointError::TimestampTooLarge { .. })));
    let line = w.cosign_body(&body, MAX_TIMESTAMP).expect("cosigns");
    assert_eq!(w.verifier().verify(&body, line.signature()), Ok(MAX_TIMESTAMP));
    // A timestamp with the top bit set is refused when parsing, even if signed.
    let mut bytes = line.signature().to_vec();
    bytes[0] |= 0x80;
    assert!(matches!(Cosignature::from_bytes(&bytes), Err(CheckpointError::TimestampTooLarge { .. })));
    assert!(matches!(
        w.verifier().verify(&body, &bytes),
        Err(CheckpointError::InvalidCosignature { reason: "timestamp above 2^63 - 1", .. })
    ));
    assert!(matches!(Cosignature::from_bytes(&bytes[..71]), Err(CheckpointError::MalformedCosignature(_))));
    assert!(w.cosign_body("not a checkpoint\n", 1).is_err());
}

#[test]
fn cosigner_keys() {
    let w = witness("witness.example/w1");
    let verifier = w.verifier();
    let vkey = verifier.to_vkey();
    assert_eq!(CosignatureVerifier::from_vkey(&vkey).expect("parses"), verifier);
    assert_eq!(vkey.parse::<CosignatureVerifier>().expect("FromStr").to_string(), vkey);
    let raw = BASE64.decode(vkey.splitn(3, '+').nth(2).expect("three parts")).expect("base64");
    assert_eq!(raw[0], SIG_TYPE_COSIGNATURE_V1);
    // Key IDs: type 0x04 for cosignatures, 0x01 for note signatures.
    let key = *verifier.public_key();
    assert_eq!(w.key_id(), sn::key_id(w.name(), 0x04, key.as_bytes()));
    let as_note = Verifier::new(w.name(), key).expect("verifier");
    assert_eq!(as_note.key_id(), sn::key_id(w.name(), SIG_TYPE_ED25519, key.as_bytes()));
    assert_ne!(as_note.key_id(), w.key_id());
    // A 0x01 vkey is not a cosigner key, and vice versa.
    assert!(matches!(
        CosignatureVerifier::from_vkey(&as_note.to_vkey()),
        Err(CheckpointError::Note(NoteError::UnsupportedSignatureType { found: 1, expected: 4 }))
    ));
    assert!(Verifier::from_vkey(&vkey).is_err());
    let debug = format!("{w:?}");
    assert!(debug.contains("witness.example/w1") && !debug.contains("key:"), "{debug}");
}

/// A predicate on the error a case must produce.
type ErrorCheck = fn(&CheckpointError) -> bool;

#[test]
fn strict_parsing_refuses_bad_fields() {
    let root = BASE64.encode([0xffu8; 32]);
    assert!(root.contains('/') && root.ends_with("8="));
    let good = format!("{ORIGIN}\n12\n{root}\n");
    assert!(Checkpoint::parse(&good).is_ok());
    let mut non_canonical_root = root.clone();
    non_canonical_root.replace_range(42..43, "9"); // "/9=": the two spare bits of '9' are not zero
    let cases: Vec<(String, ErrorCheck)> = vec![
        (format!("\n12\n{root}\n"), |e| matches!(e, CheckpointError::EmptyOrigin)),
        (format!("{ORIGIN}\n012\n{root}\n"), |e| matches!(e, CheckpointError::InvalidTreeSize { .. })),
        (format!("{ORIGIN}\n00\n{root}\n"), |e| matches!(e, CheckpointError::InvalidTreeSize { .. })),
        (format!("{ORIGIN}\n+12\n{root}\n"), |e| matches!(e, CheckpointError::InvalidTreeSize { .. })),
        (format!("{ORIGIN}\n-1\n{root}\n"), |e| matches!(e, CheckpointError::InvalidTreeSize { .. })),
        (format!("{ORIGIN}\n 12\n{root}\n"), |e| matches!(e, CheckpointError::InvalidTreeSize { .. })),
        (format!("{ORIGIN}\n12 \n{root}\n"), |e| matches!(e, CheckpointError::InvalidTreeSize { .. })),
        (format!("{ORIGIN}\n1e3\n{root}\n"), |e| matches!(e, CheckpointError::InvalidTreeSize { .. })),
        (format!("{ORIGIN}\n0x10\n{root}\n"), |e| matches!(e, CheckpointError::InvalidTreeSize { .. })),
        (format!("{ORIGIN}\n１２\n{root}\n"), |e| matches!(e, CheckpointError::InvalidTreeSize { .. })),
        (format!("{ORIGIN}\n\n{root}\n"), |e| matches!(e, CheckpointError::InvalidTreeSize { .. })),
        (format!("{ORIGIN}\n9223372036854775808\n{root}\n"), |e| matches!(e, CheckpointError::TreeSizeTooLarge)),
        (format!("{ORIGIN}\n18446744073709551616\n{root}\n"), |e| matches!(e, CheckpointError::TreeSizeTooLarge)),
        (format!("{ORIGIN}\n12\n{}\n", &root[..43]), |e| matches!(e, CheckpointError::InvalidRootHash { .. })),
        (format!("{ORIGIN}\n12\n{}\n", BASE64.encode([7u8; 31])), |e| {
            matches!(e, CheckpointError::InvalidRootHash { .. })
        }),
        (format!("{ORIGIN}\n12\n{}\n", BASE64.encode([7u8; 33])), |e| {
            matches!(e, CheckpointError::InvalidRootHash { .. })
        }),
        (format!("{ORIGIN}\n12\n{}\n", root.replace('=', "A")), |e| {
            matches!(e, CheckpointError::InvalidRootHash { .. })
        }),
        (format!("{ORIGIN}\n12\n{non_canonical_root}\n"), |e| matches!(e, CheckpointError::InvalidRootHash { .. })),
        (format!("{ORIGIN}\n12\n{}\n", root.replace('/', "_")), |e| {
            matches!(e, CheckpointError::InvalidRootHash { .. })
        }),
        (format!("{ORIGIN}\n12\n {root}\n"), |e| matches!(e, CheckpointError::InvalidRootHash { .. })),
        (format!("{ORIGIN}\n12\n{root}\n\n"), |e| matches!(e, CheckpointError::InvalidExtension { line: 4, .. })),
        (format!("{ORIGIN}\n12\n{root}\next\n\n"), |e| matches!(e, CheckpointError::InvalidExtension { line: 5, .. })),
        (format!("{ORIGIN}\n12\n"), |e| matches!(e, CheckpointError::TooFewLines { found: 2 })),
        (format!("{ORIGIN}\n"), |e| matches!(e, CheckpointError::TooFewLines { found: 1 })),
        (format!("{ORIGIN}\n12\n{root}"), |e| matches!(e, CheckpointError::Note(NoteError::TextMissingNewline))),
        (format!("{ORIGIN}\r\n12\r\n{root}\r\n"), |e| {
            matches!(e, CheckpointError::Note(NoteError::ControlCharacter { .. }))
        }),
        (String::new(), |e| matches!(e, CheckpointError::Note(NoteError::Empty))),
    ];
    for (body, expected) in cases {
        let err = Checkpoint::parse(&body).expect_err(&format!("{body:?} must be refused"));
        assert!(expected(&err), "{body:?} gave {err}");
    }
    // Anything parsed re-encodes identically.
    let ext = format!("{ORIGIN}\n0\n{root}\nx\ny y\n");
    assert_eq!(Checkpoint::parse(&ext).expect("parses").to_body().expect("formats"), ext);
    // Origins: the parser only requires non-empty (clients must not assume a format); producers are
    // held to the recommendation.
    let odd = format!("odd origin+with plus\n1\n{root}\n");
    assert_eq!(Checkpoint::parse(&odd).expect("parses").origin, "odd origin+with plus");
    assert!(matches!(Checkpoint::new("odd origin", 1, [0; 32]), Err(CheckpointError::InvalidOrigin { .. })));
    assert!(matches!(Checkpoint::new("a+b", 1, [0; 32]), Err(CheckpointError::InvalidOrigin { .. })));
    assert!(matches!(Checkpoint::new("", 1, [0; 32]), Err(CheckpointError::EmptyOrigin)));
    assert!(matches!(Checkpoint::new("o", MAX_TREE_SIZE + 1, [0; 32]), Err(CheckpointError::TreeSizeTooLarge)));
}

#[test]
fn formatting_refuses_invalid_fields() {
    let mut checkpoint = sample(1);
    checkpoint.extensions = vec![String::new()];
    assert!(matches!(checkpoint.to_body(), Err(CheckpointError::InvalidExtension { line: 4, .. })));
    checkpoint.extensions = vec!["two\nlines".into()];
    assert!(matches!(checkpoint.to_body(), Err(CheckpointError::InvalidExtension { .. })));
    checkpoint.extensions.clear();
    checkpoint.origin = "injected\n0".into();
    assert!(matches!(checkpoint.to_body(), Err(CheckpointError::InvalidOrigin { .. })));
    checkpoint.origin = ORIGIN.into();
    checkpoint.size = u64::MAX;
    assert!(matches!(cp::sign_checkpoint(&checkpoint, &log_signer()), Err(CheckpointError::TreeSizeTooLarge)));
}

#[test]
fn open_checkpoint_refusals() {
    let log = log_signer();
    let other_log = log_signer();
    let signed = cp::sign_checkpoint(&sample(9), &log).expect("signs");
    assert_eq!(
        cp::open_checkpoint(signed.as_bytes(), "other.example/log", &log.verifier(), &[]),
        Err(CheckpointError::OriginMismatch { expected: "other.example/log".into(), found: ORIGIN.into() })
    );
    assert_eq!(
        cp::open_checkpoint(signed.as_bytes(), ORIGIN, &other_log.verifier(), &[]),
        Err(CheckpointError::MissingLogSignature { name: ORIGIN.into(), key_id: other_log.key_id() })
    );
    // Only cosignatures, no log signature.
    let w = witness("witness.example/w1");
    let body = sample(9).to_body().expect("body");
    let mut note = Note::new(body).expect("text");
    note.add_signature(w.cosign_body(note.text(), 1).expect("cosigns")).expect("adds");
    let only_cosigned = note.encode().expect("signed");
    assert!(matches!(
        cp::open_checkpoint(only_cosigned.as_bytes(), ORIGIN, &log.verifier(), &[w.verifier()]),
        Err(CheckpointError::MissingLogSignature { .. })
    ));
    // A note that is signed but is not a checkpoint.
    let not_checkpoint = sn::sign("hello\n", &[&log]).expect("signs");
    assert!(matches!(
        cp::open_checkpoint(not_checkpoint.as_bytes(), ORIGIN, &log.verifier(), &[]),
        Err(CheckpointError::TooFewLines { found: 1 })
    ));
    // A bad log signature.
    let mut note = Note::parse(signed.as_bytes()).expect("parses");
    let forged = NoteSignature::new(log.name(), log.key_id(), vec![0u8; 64]).expect("line");
    note.add_signature(forged).expect("replaces");
    assert!(matches!(
        cp::open_checkpoint(note.encode().expect("signed").as_bytes(), ORIGIN, &log.verifier(), &[]),
        Err(CheckpointError::Note(NoteError::InvalidSignature { .. }))
    ));
}

#[test]
fn malformed_signed_checkpoints_give_clear_errors() {
    let log = log_signer();
    let w = witness("witness.example/w1");
    let signed = cp::sign_checkpoint(&sample(77), &log).expect("signs");
    let body = sample(77).to_body().expect("body");
    let line = signed.lines().last().expect("line").to_owned();
    let too_many: String =
        (0..101).map(|n| NoteSignature::new(&format!("w{n}"), n, vec![1; 72]).expect("line").to_line()).collect();
    let cases: Vec<(String, CheckpointError)> = vec![
        (String::new(), NoteError::Empty.into()),
        (body.clone(), NoteError::MissingSeparator.into()),
        (format!("{body}{line}\n"), NoteError::MissingSeparator.into()),
        (
            format!("{body}\n{}\n", line.replacen(&format!("{ORIGIN} "), &format!("{ORIGIN} *"), 1)),
            NoteError::MalformedSignatureLine { line: 5, reason: "the signature is not valid base64" }.into(),
        ),
        (format!("{body}\n{too_many}"), NoteError::TooManySignatures { count: 101, limit: 100 }.into()),
        (format!("{signed}garbage"), NoteError::MissingFinalNewline.into()),
        (format!("{signed}garbage\n"), NoteError::MissingSignaturePrefix { line: 6 }.into()),
        (format!("{signed}\n"), NoteError::NoSignatures.into()),
        (signed.replace('\n', "\r\n"), NoteError::ControlCharacter { offset: ORIGIN.len(), byte: b'\r' }.into()),
    ];
    for (input, expected) in cases {
        let got = cp::open_checkpoint(input.as_bytes(), ORIGIN, &log.verifier(), &[w.verifier()]);
        assert_eq!(got, Err(expected), "{input:?}");
        // The message is human-readable.
        assert!(!got.expect_err("error").to_string().is_empty());
    }
    // Invalid UTF-8.
    let mut bytes = signed.clone().into_bytes();
    bytes[3] = 0xff;
    assert_eq!(
        cp::open_checkpoint(&bytes, ORIGIN, &log.verifier(), &[]),
        Err(NoteError::InvalidUtf8 { offset: 3 }.into())
    );
}

// ---------------------------------------------------------------------------------------------
// Robustness: malformed and mutated inputs never panic, and a mutation never yields a different
// accepted content.

/// A small deterministic pseudo-random generator for mutation loops (xorshift64*).
struct Rng(u64);

impl Rng {
    /// Next 64 random bits.
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

struct Fixture {
    log: Verifier,
    witnesses: Vec<CosignatureVerifier>,
    checkpoint: Checkpoint,
    signed: String,
    timestamps: Vec<(String, u64)>,
}

fn fixture() -> Fixture {
    let log = Signer::new("log.example/ledger", generate_signing_key()).expect("signer");
    let w1 = CosignatureSigner::new("w1.example", generate_signing_key()).expect("cosigner");
    let w2 = CosignatureSigner::new("w2.example", generate_signing_key()).expect("cosigner");
    let stranger = CosignatureSigner::new("stranger.example", generate_signing_key()).expect("cosigner");
    let mut checkpoint = Checkpoint::new("log.example/ledger", 123_456, [0x5a; 32]).expect("checkpoint");
    checkpoint.extensions = vec!["extension — line".into()];
    let mut signed = cp::sign_checkpoint(&checkpoint, &log).expect("signs");
    signed = cp::add_cosignature(signed.as_bytes(), &w1, 1_700_000_000).expect("cosigns");
    signed = cp::add_cosignature(signed.as_bytes(), &stranger, 1).expect("cosigns");
    signed = cp::add_cosignature(signed.as_bytes(), &w2, 1_700_000_001).expect("cosigns");
    Fixture {
        log: log.verifier(),
        witnesses: vec![w1.verifier(), w2.verifier()],
        checkpoint,
        signed,
        timestamps: vec![("w1.example".into(), 1_700_000_000), ("w2.example".into(), 1_700_000_001)],
    }
}

/// Runs every parser on `input`; panics (failing the test) only if one of them panics or if a
/// mutated checkpoint is accepted with different content.
fn exercise(f: &Fixture, input: &[u8]) {
    let _ = Note::parse(input);
    let _ = sn::open(input, std::slice::from_ref(&f.log));
    if let Ok(text) = std::str::from_utf8(input) {
        let _ = Checkpoint::parse(text);
        let _ = Verifier::from_vkey(text);
        let _ = CosignatureVerifier::from_vkey(text);
        let _ = Signer::from_skey(text);
        let _ = keys::private_key_from_pem(text);
        let _ = keys::public_key_from_pem(text);
    }
    let _ = Cosignature::from_bytes(input);
    let _ = keys::public_key_from_bytes(input);
    if let Ok(opened) = cp::open_checkpoint(input, "log.example/ledger", &f.log, &f.witnesses) {
        assert_eq!(
            opened.checkpoint,
            f.checkpoint,
            "accepted a changed checkpoint: {:?}",
            String::from_utf8_lossy(input)
        );
        for c in &opened.cosignatures {
            assert!(f.timestamps.contains(&(c.name.clone(), c.timestamp)), "unexpected cosignature {c:?}");
        }
    }
}

#[test]
fn random_mutations_never_panic_or_change_accepted_content() {
    let f = fixture();
    let original = f.signed.as_bytes();
    let opened = cp::open_checkpoint(original, "log.example/ledger", &f.log, &f.witnesses).expect("opens");
    assert_eq!(opened.cosignatures.len(), 2);
    let interesting: [&[u8]; 8] = [b"\n", b"\n\n", "\u{2014} ".as_bytes(), b"+", b"=", b" ", b"\r", &[0xe2, 0x80]];
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut accepted = 0;
    for _ in 0..20_000 {
        let mut input = original.to_vec();
        for _ in 0..1 + rng.below(3) {
            if input.is_empty() {
                break;
            }
            let at = rng.below(input.len());
            match rng.below(6) {
                0 => input[at] ^= 1 << rng.below(8),
                1 => input[at] = rng.next() as u8,
                2 => {
                    input.remove(at);
                }
                3 => {
                    let piece = interesting[rng.below(interesting.len())];
                    input.splice(at..at, piece.iter().copied());
                }
                4 => input.truncate(at),
                _ => {
                    // Duplicate a random range.
                    let end = (at + rng.below(80)).min(input.len());
                    let copy = input[at..end].to_vec();
                    let to = rng.below(input.len());
                    input.splice(to..to, copy);
                }
            }
        }
        exercise(&f, &input);
        if cp::open_checkpoint(&input, "log.example/ledger", &f.log, &f.witnesses).is_ok() {
            accepted += 1;
        }
    }
    // Mutations that only touch the unknown ("stranger") line, or drop a witness's line, can still be
    // accepted; most mutations are not.
    println!("{accepted} of 20000 mutated inputs were still accepted (with unchanged content)");
    assert!(accepted < 5_000, "{accepted}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..400)) {
        let f = FIXTURE.with(|f| f.clone());
        exercise(&f, &input);
    }

    #[test]
    fn arbitrary_note_shaped_text_never_panics(
        text in "[a-z0-9 /.\n]{0,60}",
        name in "[a-z.+ ]{0,12}",
        sig in "[A-Za-z0-9+/=]{0,120}",
        tail in "[\n\r ]{0,3}",
    ) {
        let f = FIXTURE.with(|f| f.clone());
        let input = format!("{text}\n\u{2014} {name} {sig}{tail}");
        exercise(&f, input.as_bytes());
        let input = format!("{text}\n\n\u{2014} {name} {sig}\n");
        exercise(&f, input.as_bytes());
    }

    #[test]
    fn parsed_bodies_re_encode_exactly(
        origin in "[^\u{0}-\u{1f}]{1,20}",
        size in 0u64..=i64::MAX as u64,
        root in proptest::array::uniform32(any::<u8>()),
        extensions in proptest::collection::vec("[^\u{0}-\u{1f}]{1,20}", 0..3),
    ) {
        let mut body = format!("{origin}\n{size}\n{}\n", BASE64.encode(root));
        for e in &extensions {
            body.push_str(e);
            body.push('\n');
        }
        let parsed = Checkpoint::parse(&body).expect("parses");
        prop_assert_eq!(parsed.to_body().expect("formats"), body);
    }

    #[test]
    fn checkpoint_bodies_round_trip(
        origin in "[a-z0-9./-]{1,30}",
        size in 0u64..=i64::MAX as u64,
        root in proptest::array::uniform32(any::<u8>()),
        extensions in proptest::collection::vec("[ -~]{1,20}", 0..3),
    ) {
        let checkpoint = Checkpoint { origin, size, root, extensions };
        let body = checkpoint.to_body().expect("valid");
        prop_assert_eq!(Checkpoint::parse(&body).expect("parses"), checkpoint);
    }
}

thread_local! {
    static FIXTURE: SharedFixture = SharedFixture(std::rc::Rc::new(fixture()));
}

#[derive(Clone)]
struct SharedFixture(std::rc::Rc<Fixture>);

impl std::ops::Deref for SharedFixture {
    type Target = Fixture;

    fn deref(&self) -> &Fixture {
        &self.0
    }
}
