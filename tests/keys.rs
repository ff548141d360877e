//! Tests of key files, public key parsing and bulk verification (`commitment_ledger::keys`).
//!
//! The OpenSSL interoperability tests run `openssl pkey` / `openssl genpkey`. Without `openssl` on the
//! `PATH` they fail, unless `COMMITMENTS_SKIP_OPENSSL=1` is set, in which case they say so and pass.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use commitment_ledger::keys::{
    self, KeyError, Signature, SigningKey, VerifyingKey, WriteMode, generate_signing_key, verify_many,
    verify_many_with_threads, verify_strict,
};
use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::Signer as _;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use pkcs8::LineEnding;
use sha2::{Digest, Sha512};

/// PKCS#8 v1 DER prefix for Ed25519 (RFC 8410): everything before the 32-byte seed.
const V1_PREFIX: [u8; 16] =
    [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

/// SPKI DER prefix for Ed25519: everything before the 32-byte key.
const SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

fn pem_body(pem: &str) -> Vec<u8> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    BASE64.decode(b64).expect("PEM body is base64")
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = BASE64.encode(der);
    let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).expect("ascii")).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

/// Whether `openssl` can be run. A missing or broken `openssl` fails the calling test, unless
/// `COMMITMENTS_SKIP_OPENSSL=1` is set: then the test prints why and is skipped (returns early).
fn openssl_available() -> bool {
    let problem = match Command::new("openssl").arg("version").output() {
        Ok(out) if out.status.success() => return true,
        Ok(out) => {
            format!("`openssl version` failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim())
        }
        Err(e) => format!("cannot run `openssl`: {e}"),
    };
    if std::env::var_os("COMMITMENTS_SKIP_OPENSSL").is_some_and(|v| v == "1") {
        println!("SKIPPED (COMMITMENTS_SKIP_OPENSSL=1): {problem}; the OpenSSL interoperability check did not run");
        false
    } else {
        panic!("{problem}. This test needs OpenSSL; install it, or set COMMITMENTS_SKIP_OPENSSL=1 to skip the check");
    }
}

/// Runs openssl with `args`; returns (success, stdout, stderr).
fn openssl(args: &[&str]) -> (bool, String, String) {
    let out = Command::new("openssl").args(args).output().expect("openssl runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The hex bytes printed by `openssl pkey -text` after a label line such as "pub:".
fn openssl_hex_after(text: &str, label: &str) -> Vec<u8> {
    let mut lines = text.lines().skip_while(|l| l.trim() != label).skip(1);
    let mut hex = String::new();
    for line in lines.by_ref() {
        let line = line.trim();
        if line.is_empty() || !line.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
            break;
        }
        hex.extend(line.chars().filter(|c| c.is_ascii_hexdigit()));
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")).collect()
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).expect("exists").permissions().mode() & 0o7777
}

#[test]
fn private_key_pem_is_pkcs8_v1() {
    let key = generate_signing_key();
    let pem = keys::private_key_to_pem(&key).expect("encodes");
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    assert!(pem.ends_with("-----END PRIVATE KEY-----\n"));
    let der = pem_body(&pem);
    assert_eq!(der.len(), 48);
    assert_eq!(der[..16], V1_PREFIX);
    assert_eq!(der[16..], key.to_bytes());
    let back = keys::private_key_from_pem(&pem).expect("decodes");
    assert_eq!(back.to_bytes(), key.to_bytes());
}

#[test]
fn private_key_reader_accepts_v2_and_checks_its_public_key() {
    let key = generate_signing_key();
    // ed25519-dalek's own encoder writes v2 (OneAsymmetricKey with the public key).
    let v2 = key.to_pkcs8_pem(LineEnding::LF).expect("encodes");
    let der = pem_body(&v2);
    assert_eq!(der[4], 0x01, "version 1 means PKCS#8 v2");
    assert_eq!(keys::private_key_from_pem(&v2).expect("v2 decodes").to_bytes(), key.to_bytes());
    // The same document with another public key is refused.
    let other = generate_signing_key().verifying_key();
    let mut tampered = der.clone();
    let len = tampered.len();
    tampered[len - 32..].copy_from_slice(other.as_bytes());
    assert!(matches!(keys::private_key_from_pem(&pem("PRIVATE KEY", &tampered)), Err(KeyError::InvalidPrivateKey(_))));
    // Garbage and the wrong label are refused.
    assert!(keys::private_key_from_pem("not a pem").is_err());
    let v1 = keys::private_key_to_pem(&key).expect("encodes");
    assert!(keys::private_key_from_pem(&v1.replace("PRIVATE KEY", "PUBLIC KEY")).is_err());
}

#[test]
fn private_key_file_round_trip_mode_and_overwrite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ledger.key");
    let key = generate_signing_key();
    keys::write_private_key(&path, &key, WriteMode::CreateNew).expect("writes");
    assert_eq!(mode_of(&path), 0o600);
    assert_eq!(keys::read_private_key(&path).expect("reads").to_bytes(), key.to_bytes());

    // Refuses to overwrite, leaving the file alone.
    let other = generate_signing_key();
    let err = keys::write_private_key(&path, &other, WriteMode::CreateNew).expect_err("exists");
    assert!(matches!(err, KeyError::AlreadyExists { .. }), "{err}");
    assert!(err.to_string().contains("ledger.key"));
    assert_eq!(keys::read_private_key(&path).expect("reads").to_bytes(), key.to_bytes());

    // Overwrites when asked, atomically, still 0600.
    keys::write_private_key(&path, &other, WriteMode::Overwrite).expect("overwrites");
    assert_eq!(mode_of(&path), 0o600);
    assert_eq!(keys::read_private_key(&path).expect("reads").to_bytes(), other.to_bytes());

    // No temporary files are left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("lists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["ledger.key"]);
}

#[test]
fn loose_private_key_permissions_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("loose.key");
    keys::write_private_key(&path, &generate_signing_key(), WriteMode::CreateNew).expect("writes");
    for mode in [0o640, 0o604, 0o644, 0o660, 0o610, 0o601] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        let err = keys::read_private_key(&path).expect_err("loose mode must be refused");
        assert!(matches!(err, KeyError::InsecurePermissions { mode: m, .. } if m == mode), "{err}");
        let message = err.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains(&format!("chmod 600 {}", path.display())), "{message}");
    }
    for mode in [0o600, 0o400] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        assert!(keys::read_private_key(&path).is_ok(), "mode {mode:o} is private");
    }
}

#[test]
fn key_file_errors_name_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing.key");
    let err = keys::read_private_key(&missing).expect_err("missing");
    assert!(matches!(err, KeyError::Io { .. }) && err.to_string().contains("missing.key"), "{err}");
    let garbage = dir.path().join("garbage.key");
    std::fs::write(&garbage, "hello").expect("writes");
    std::fs::set_permissions(&garbage, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let err = keys::read_private_key(&garbage).expect_err("garbage");
    assert!(matches!(err, KeyError::InFile { .. }) && err.to_string().contains("garbage.key"), "{err}");
    assert!(matches!(keys::read_private_key(dir.path()), Err(KeyError::NotAKeyFile { .. })));
}

#[test]
fn public_key_pem_and_raw_round_trip() {
    let key = generate_signing_key().verifying_key();
    let pem = keys::public_key_to_pem(&key).expect("encodes");
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    let der = pem_body(&pem);
    assert_eq!(der[..12], SPKI_PREFIX);
    assert_eq!(der[12..], key.to_bytes());
    assert_eq!(keys::public_key_from_pem(&pem).expect("decodes"), key);
    assert_eq!(keys::public_key_from_bytes(&keys::public_key_to_bytes(&key)).expect("raw"), key);
    assert!(matches!(keys::public_key_from_bytes(&[0u8; 31]), Err(KeyError::InvalidPublicKey(_))));
    assert!(matches!(keys::public_key_from_bytes(&[0u8; 33]), Err(KeyError::InvalidPublicKey(_))));

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ledger.pub");
    keys::write_public_key(&path, &key, WriteMode::CreateNew).expect("writes");
    assert_eq!(mode_of(&path), 0o644);
    assert_eq!(keys::read_public_key(&path).expect("reads"), key);
    assert!(matches!(keys::write_public_key(&path, &key, WriteMode::CreateNew), Err(KeyError::AlreadyExists { .. })));
}

/// Encodings of small-order points: the identity, the order-2 point, and the order-4 and order-8
/// torsion points.
fn weak_key_encodings() -> Vec<[u8; 32]> {
    EIGHT_TORSION.iter().map(|p| p.compress().to_bytes()).collect()
}

#[test]
fn weak_public_keys_are_refused() {
    for weak in weak_key_encodings() {
        // ed25519-dalek itself accepts these encodings...
        let parsed = VerifyingKey::from_bytes(&weak);
        if let Ok(k) = parsed {
            assert!(k.is_weak());
        }
        // ...but our parsers do not.
        assert!(keys::public_key_from_bytes(&weak).is_err(), "{weak:02x?}");
        let mut der = SPKI_PREFIX.to_vec();
        der.extend_from_slice(&weak);
        assert!(keys::public_key_from_pem(&pem("PUBLIC KEY", &der)).is_err(), "{weak:02x?}");
    }
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert!(matches!(keys::public_key_from_bytes(&identity), Err(KeyError::WeakPublicKey)));
}

#[test]
fn openssl_accepts_written_key_files() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let key_path = dir.path().join("key.pem");
    let pub_path = dir.path().join("pub.pem");
    let key = generate_signing_key();
    keys::write_private_key(&key_path, &key, WriteMode::CreateNew).expect("writes");
    keys::write_public_key(&pub_path, &key.verifying_key(), WriteMode::CreateNew).expect("writes");

    let key_arg = key_path.to_str().expect("utf-8 path");
    let (ok, text, err) = openssl(&["pkey", "-in", key_arg, "-noout", "-text"]);
    assert!(ok, "openssl refused the private key: {err}");
    assert!(text.contains("ED25519 Private-Key"), "{text}");
    assert_eq!(openssl_hex_after(&text, "priv:"), key.to_bytes());
    assert_eq!(openssl_hex_after(&text, "pub:"), key.verifying_key().to_bytes());

    let pub_arg = pub_path.to_str().expect("utf-8 path");
    let (ok, text, err) = openssl(&["pkey", "-pubin", "-in", pub_arg, "-noout", "-text"]);
    assert!(ok, "openssl refused the public key: {err}");
    assert!(text.contains("ED25519 Public-Key"), "{text}");
    assert_eq!(openssl_hex_after(&text, "pub:"), key.verifying_key().to_bytes());

    // OpenSSL derives the same public key file from our private key.
    let (ok, derived, err) = openssl(&["pkey", "-in", key_arg, "-pubout"]);
    assert!(ok, "{err}");
    assert_eq!(derived, std::fs::read_to_string(&pub_path).expect("reads"));

    // For the record: how this OpenSSL treats ed25519-dalek's default (v2) encoding.
    let v2_path = dir.path().join("v2.pem");
    std::fs::write(&v2_path, key.to_pkcs8_pem(LineEnding::LF).expect("encodes").as_bytes()).expect("writes");
    let (ok, _, err) = openssl(&["pkey", "-in", v2_path.to_str().expect("utf-8"), "-noout", "-text"]);
    let (_, version, _) = openssl(&["version"]);
    println!(
        "{}: PKCS#8 v2 from ed25519-dalek {}",
        version.trim(),
        if ok { "accepted".to_owned() } else { format!("REFUSED: {}", err.trim()) }
    );
}

#[test]
fn reads_keys_generated_by_openssl() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let key_path = dir.path().join("openssl.pem");
    let key_arg = key_path.to_str().expect("utf-8 path");
    let (ok, _, err) = openssl(&["genpkey", "-algorithm", "ed25519", "-out", key_arg]);
    assert!(ok, "{err}");
    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let key = keys::read_private_key(&key_path).expect("reads OpenSSL's key");
    let (ok, pub_pem, err) = openssl(&["pkey", "-in", key_arg, "-pubout"]);
    assert!(ok, "{err}");
    assert_eq!(keys::public_key_from_pem(&pub_pem).expect("parses"), key.verifying_key());
    // Our own encoding of OpenSSL's key is byte-identical to OpenSSL's file (both are v1).
    assert_eq!(*keys::private_key_to_pem(&key).expect("encodes"), std::fs::read_to_string(&key_path).expect("reads"));
}

// ---------------------------------------------------------------------------------------------
// Bulk verification.

/// A small deterministic pseudo-random generator for the adversarial mixes (xorshift64*).
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

/// The secret scalar `a` (with A = [a]B) of a signing key.
fn secret_scalar(key: &SigningKey) -> Scalar {
    key.to_scalar()
}

fn random_scalar(rng: &mut Rng) -> Scalar {
    let mut wide = [0u8; 64];
    for chunk in wide.chunks_mut(8) {
        chunk.copy_from_slice(&rng.next().to_le_bytes());
    }
    Scalar::from_bytes_mod_order_wide(&wide)
}

fn challenge(r: &[u8; 32], a: &[u8; 32], message: &[u8]) -> Scalar {
    let mut h = Sha512::new();
    h.update(r);
    h.update(a);
    h.update(message);
    Scalar::from_bytes_mod_order_wide(&h.finalize().into())
}

/// A signature whose R is `[r]B + extra`, made with the secret scalar `a` for the public key bytes
/// `public` (which need not be [a]B: callers add torsion to it).
fn craft(a: &Scalar, public: &[u8; 32], message: &[u8], extra: EdwardsPoint, rng: &mut Rng) -> Signature {
    let r = random_scalar(rng);
    let big_r = (EdwardsPoint::mul_base(&r) + extra).compress();
    let k = challenge(big_r.as_bytes(), public, message);
    let s = r + k * a;
    Signature::from_components(big_r.to_bytes(), s.to_bytes())
}

type Item = (VerifyingKey, Vec<u8>, Signature, &'static str);

/// A mix of valid, invalid and adversarial items, with the kind of each.
fn adversarial_items(rng: &mut Rng) -> Vec<Item> {
    let mut items: Vec<Item> = Vec::new();
    let honest: Vec<SigningKey> = (0..4).map(|_| generate_signing_key()).collect();
    for (n, key) in honest.iter().enumerate() {
        let message = format!("record {n}").into_bytes();
        let signature = key.sign(&message);
        items.push((key.verifying_key(), message.clone(), signature, "valid"));
        let mut wrong = message.clone();
        wrong.push(b'!');
        items.push((key.verifying_key(), wrong, signature, "wrong message"));
        let mut bytes = signature.to_bytes();
        bytes[40] ^= 1;
        items.push((key.verifying_key(), message.clone(), Signature::from_bytes(&bytes), "corrupted s"));
        bytes = signature.to_bytes();
        bytes[3] ^= 1;
        items.push((key.verifying_key(), message.clone(), Signature::from_bytes(&bytes), "corrupted R"));
        // s + l: the same signature with a non-canonical scalar.
        let l_plus_s = {
            let s = Scalar::from_canonical_bytes(*signature.s_bytes()).expect("canonical");
            let mut wide = [0u8; 32];
            let mut carry = 0u16;
            let l = (-Scalar::ONE).to_bytes();
            // l = (l - 1) + 1, added byte by byte to s.
            let mut one = [0u8; 32];
            one[0] = 1;
            for i in 0..32 {
                let sum = s.to_bytes()[i] as u16 + l[i] as u16 + one[i] as u16 + carry;
                wide[i] = sum as u8;
                carry = sum >> 8;
            }
            wide
        };
        items.push((
            key.verifying_key(),
            message.clone(),
            Signature::from_components(*signature.r_bytes(), l_plus_s),
            "s + l",
        ));
    }

    let key = &honest[0];
    let a = secret_scalar(key);
    let public = key.verifying_key().to_bytes();

    // R = identity, s = k·a: the batch equation holds, verify_strict refuses the small-order R.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let message = b"small-order R".to_vec();
    let k = challenge(&identity, &public, &message);
    items.push((key.verifying_key(), message, Signature::from_components(identity, (k * a).to_bytes()), "identity R"));
    // The same with a non-canonical encoding of the identity (y = p + 1).
    let mut non_canonical = [0xffu8; 32];
    non_canonical[0] = 0xee;
    non_canonical[31] = 0x7f;
    let message = b"non-canonical R".to_vec();
    let k = challenge(&non_canonical, &public, &message);
    items.push((
        key.verifying_key(),
        message,
        Signature::from_components(non_canonical, (k * a).to_bytes()),
        "non-canonical R",
    ));

    // Weak keys: with A = identity, R = [s]B "verifies" under the batch equation for any message.
    for weak in weak_key_encodings() {
        let Ok(weak_key) = VerifyingKey::from_bytes(&weak) else { continue };
        let s = random_scalar(rng);
        let big_r = EdwardsPoint::mul_base(&s).compress();
        items.push((
            weak_key,
            b"forged".to_vec(),
            Signature::from_components(big_r.to_bytes(), s.to_bytes()),
            "weak key",
        ));
    }

    // R with a torsion component (orders 2, 4, 8): verify_strict refuses; the batch equation may not.
    for torsion in [4usize, 2, 1, 3] {
        // Enough order-2 cases that the single-item batch equation surely accepts one of them.
        let count = if torsion == 4 { 40 } else { 6 };
        for n in 0..count {
            let message = format!("torsion R {torsion} {n}").into_bytes();
            let signature = craft(&a, &public, &message, EIGHT_TORSION[torsion], rng);
            items.push((key.verifying_key(), message, signature, "torsion R"));
        }
    }

    // A key with a torsion component: verify_strict accepts exactly when the torsion cancels.
    for torsion in [4usize, 2] {
        let mixed = (key.verifying_key().to_edwards() + EIGHT_TORSION[torsion]).compress().to_bytes();
        let mixed_key = VerifyingKey::from_bytes(&mixed).expect("decodes");
        assert!(!mixed_key.is_weak());
        for n in 0..12 {
            let message = format!("mixed key {torsion} {n}").into_bytes();
            let signature = craft(&a, &mixed, &message, EdwardsPoint::default(), rng);
            items.push((mixed_key, message, signature, "mixed-order key"));
        }
    }
    items
}

fn as_refs(items: &[Item]) -> Vec<(VerifyingKey, &[u8], Signature)> {
    items.iter().map(|(k, m, s, _)| (*k, m.as_slice(), *s)).collect()
}

fn strict_results(items: &[(VerifyingKey, &[u8], Signature)]) -> Vec<bool> {
    items.iter().map(|(k, m, s)| verify_strict(k, m, s)).collect()
}

#[test]
fn adversarial_items_behave_as_expected_under_strict() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let items = adversarial_items(&mut rng);
    for (key, message, signature, kind) in &items {
        let strict = verify_strict(key, message, signature);
        match *kind {
            "valid" => assert!(strict),
            "mixed-order key" => {}
            _ => assert!(!strict, "{kind} must fail verify_strict"),
        }
    }
    // Some mixed-order-key signatures pass verify_strict (even challenge) and some fail.
    let mixed: Vec<bool> =
        items.iter().filter(|i| i.3 == "mixed-order key").map(|(k, m, s, _)| verify_strict(k, m, s)).collect();
    assert!(mixed.iter().any(|&b| b) && mixed.iter().any(|&b| !b), "{mixed:?}");
}

#[test]
fn raw_verify_batch_disagrees_with_strict_on_crafted_items() {
    // Documents why verify_many cannot trust a passing verify_batch on its own.
    let mut rng = Rng(42);
    let items = adversarial_items(&mut rng);
    let mut disagreements = Vec::new();
    for (key, message, signature, kind) in &items {
        let batch = ed25519_dalek::verify_batch(&[message.as_slice()], &[*signature], &[*key]).is_ok();
        if batch != verify_strict(key, message, signature) {
            disagreements.push(*kind);
        }
    }
    for kind in ["identity R", "weak key", "torsion R", "non-canonical R"] {
        assert!(disagreements.contains(&kind), "expected verify_batch to accept a {kind} item: {disagreements:?}");
    }
}

#[test]
fn verify_many_refuses_what_a_passing_batch_would_accept() {
    // Every item that the raw batch equation accepts but verify_strict refuses, alone and in a batch of
    // valid items (so that the batch passes and only the torsion test can catch it).
    let mut rng = Rng(99);
    let items = adversarial_items(&mut rng);
    // Enough valid items that the batch path is taken (not the small-input verify_strict path).
    let signer = generate_signing_key();
    let valid: Vec<Item> = (0..keys::MIN_BATCH_SIZE + 50)
        .map(|n| {
            let message = format!("valid {n}").into_bytes();
            (signer.verifying_key(), message.clone(), signer.sign(&message), "valid")
        })
        .collect();
    let mut caught = Vec::new();
    for item in &items {
        let (key, message, signature, kind) = item;
        let strict = verify_strict(key, message, signature);
        if strict || ed25519_dalek::verify_batch(&[message.as_slice()], &[*signature], &[*key]).is_err() {
            continue;
        }
        assert_eq!(verify_many(&as_refs(std::slice::from_ref(item))), vec![false], "{kind} alone");
        let mut mixed = valid.clone();
        mixed.insert(rng.below(mixed.len()), item.clone());
        let refs = as_refs(&mixed);
        let batch_passes = ed25519_dalek::verify_batch(
            &refs.iter().map(|i| i.1).collect::<Vec<_>>(),
            &refs.iter().map(|i| i.2).collect::<Vec<_>>(),
            &refs.iter().map(|i| i.0).collect::<Vec<_>>(),
        )
        .is_ok();
        assert_eq!(verify_many_with_threads(&refs, 1), strict_results(&refs), "{kind} among valid items");
        caught.push((*kind, batch_passes));
    }
    for kind in ["torsion R", "mixed-order key", "identity R", "weak key"] {
        assert!(caught.iter().any(|c| c.0 == kind), "no {kind} item passed the raw batch: {caught:?}");
    }
}

#[test]
fn verify_many_equals_strict_on_adversarial_mixes() {
    let mut rng = Rng(7);
    let base = adversarial_items(&mut rng);
    let valid: Vec<Item> = base.iter().filter(|i| i.3 == "valid").cloned().collect();
    for round in 0..6 {
        // Mixes of different sizes (the two big ones span two and three batches of BATCH_SIZE) and orders.
        let mut items: Vec<Item> = Vec::new();
        let copies = [1, 3, 12, 1, 2, 20][round];
        for _ in 0..copies {
            items.extend(base.iter().cloned());
            for _ in 0..rng.below(20) {
                items.push(valid[rng.below(valid.len())].clone());
            }
        }
        for i in (1..items.len()).rev() {
            items.swap(i, rng.below(i + 1));
        }
        let refs = as_refs(&items);
        if copies >= 12 {
            assert!(refs.len() > keys::BATCH_SIZE * (copies / 10), "round {round}: {} items", refs.len());
        }
        let expected = strict_results(&refs);
        for threads in [1, 2, 3] {
            assert_eq!(verify_many_with_threads(&refs, threads), expected, "round {round}, {threads} threads");
        }
        assert_eq!(verify_many(&refs), expected);
        let failed: Vec<usize> = expected.iter().enumerate().filter(|(_, ok)| !**ok).map(|(i, _)| i).collect();
        assert_eq!(keys::verify_all(&refs), Err(failed));
    }
}

#[test]
fn verify_many_on_all_valid_and_single_bad_item() {
    let keys_: Vec<SigningKey> = (0..3).map(|_| generate_signing_key()).collect();
    let messages: Vec<Vec<u8>> = (0..2500).map(|i| format!("commitment {i}").into_bytes()).collect();
    let mut items: Vec<(VerifyingKey, &[u8], Signature)> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| (keys_[i % 3].verifying_key(), m.as_slice(), keys_[i % 3].sign(m)))
        .collect();
    assert!(verify_many(&items).iter().all(|&b| b));
    assert_eq!(keys::verify_all(&items), Ok(()));
    // One bad item in the second batch.
    items[1500].2 = keys_[0].sign(b"something else");
    let results = verify_many(&items);
    assert_eq!(results.iter().filter(|&&b| !b).count(), 1);
    assert!(!results[1500]);
    assert_eq!(keys::verify_all(&items), Err(vec![1500]));
    assert!(verify_many(&[]).is_empty());
}

#[test]
fn torsion_points_decode_as_expected() {
    // Sanity checks of the test's own construction.
    for (i, p) in EIGHT_TORSION.iter().enumerate() {
        assert!(p.is_small_order(), "{i}");
        assert_eq!(CompressedEdwardsY(p.compress().to_bytes()).decompress(), Some(*p));
    }
    assert!(ED25519_BASEPOINT_POINT.is_torsion_free());
    assert!(!(ED25519_BASEPOINT_POINT + EIGHT_TORSION[4]).is_torsion_free());
}

#[test]
fn writing_into_a_missing_directory_names_the_destination() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("no-such-dir").join("k.pem");
    let err = keys::write_private_key(&path, &generate_signing_key(), WriteMode::CreateNew).expect_err("no dir");
    assert!(matches!(err, KeyError::Io { .. }), "{err}");
    assert!(err.to_string().contains("no-such-dir/k.pem"), "{err}");
}
