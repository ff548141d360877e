//! C2SP signed notes (<https://c2sp.org/signed-note>, v1) with Ed25519 signatures.
//!
//! # Format
//!
//! ```text
//! <text: one or more lines, each ending in "\n">
//! <blank line: "\n">
//! — <key name> <base64(key ID (4 bytes, big endian) || signature)>\n     (one or more)
//! ```
//!
//! The em dash is U+2014 (UTF-8 `e2 80 94`), followed by one space. The whole note must be valid UTF-8
//! with no control character below U+0020 other than newline; the text is everything up to and
//! including the newline before the *last* blank line. Key names are non-empty and contain no Unicode
//! white space and no `+`.
//!
//! Ed25519 (signature type `0x01`):
//!
//! - key ID = first 4 bytes of SHA-256(name || 0x0A || 0x01 || 32-byte public key), big endian;
//! - signature = the 64-byte RFC 8032 signature of the text bytes, so a signature line decodes to
//!   68 bytes;
//! - verifier key: `<name>+<8 lowercase hex digits of the key ID>+<base64(0x01 || public key)>`;
//! - signer key: `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || 32-byte seed)>`.
//!
//! Base64 is the standard alphabet with padding (RFC 4648 section 4); non-canonical encodings (non-zero
//! padding bits) are refused.
//!
//! # Verification rules
//!
//! [`open`] / [`Note::verify`]: signatures whose (name, key ID) pair matches no known key are ignored,
//! even if the name alone or the ID alone matches; every signature whose pair matches a known key must
//! verify (`verify_strict`), or the whole note is refused; at least one must match and verify. Notes are
//! limited to [`MAX_NOTE_SIZE`] bytes and [`MAX_SIGNATURES`] signature lines.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Signature type identifier byte for Ed25519 note signatures.
pub const SIG_TYPE_ED25519: u8 = 0x01;

/// Largest note (text, blank line and signature lines) accepted or produced, in bytes.
pub const MAX_NOTE_SIZE: usize = 1 << 20;

/// Largest number of signature lines accepted or produced (the spec requires at least 16).
pub const MAX_SIGNATURES: usize = 100;

/// Length of an Ed25519 signature in bytes.
pub const ED25519_SIGNATURE_LENGTH: usize = 64;

/// The start of every signature line: em dash (U+2014) and a space.
pub const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Errors from parsing, producing or verifying signed notes and keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// The input is empty.
    #[error("note is empty")]
    Empty,
    /// The note or text is larger than [`MAX_NOTE_SIZE`].
    #[error("note is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// Size in bytes.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The input is not valid UTF-8.
    #[error("note is not valid UTF-8 (first invalid byte at offset {offset})")]
    InvalidUtf8 {
        /// Byte offset of the first invalid sequence.
        offset: usize,
    },
    /// The input contains a control character other than newline (this includes the `\r` of CRLF).
    #[error("note contains control character 0x{byte:02x} at byte {offset}; only newline (0x0a) is allowed")]
    ControlCharacter {
        /// Byte offset.
        offset: usize,
        /// The control character.
        byte: u8,
    },
    /// The note text does not end with a newline.
    #[error("note text must end with a newline")]
    TextMissingNewline,
    /// There is no blank line separating the text from the signatures.
    #[error("note has no blank line separating the text from the signature lines")]
    MissingSeparator,
    /// Nothing follows the last blank line.
    #[error("note has no signature lines after its last blank line")]
    NoSignatures,
    /// The last signature line does not end with a newline.
    #[error("note does not end with a newline")]
    MissingFinalNewline,
    /// A line after the blank line does not start with "— ".
    #[error("line {line} is not a signature line: it must start with an em dash (U+2014) and a space")]
    MissingSignaturePrefix {
        /// 1-based line number in the note.
        line: usize,
    },
    /// A signature line is malformed.
    #[error("signature line {line}: {reason}")]
    MalformedSignatureLine {
        /// 1-based line number in the note.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A signature line was built with no signature bytes.
    #[error("a signature line needs at least one signature byte")]
    EmptySignature,
    /// More signature lines than [`MAX_SIGNATURES`].
    #[error("note has {count} signature lines, more than the limit of {limit}")]
    TooManySignatures {
        /// Number of signature lines present (or that would be present).
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A key name breaks the naming rules.
    #[error("invalid key name {name:?}: {reason}")]
    InvalidKeyName {
        /// The name.
        name: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// A verifier key string is malformed.
    #[error("malformed verifier key: {0}")]
    MalformedVerifierKey(&'static str),
    /// A signer key string is malformed (the message never contains key material).
    #[error("malformed signer key: {0}")]
    MalformedSignerKey(&'static str),
    /// The key ID in a key string does not match the key.
    #[error("key ID mismatch: the key string says {stated:08x} but the key's ID is {computed:08x}")]
    KeyIdMismatch {
        /// The key ID written in the string.
        stated: u32,
        /// The key ID computed from name, type and key.
        computed: u32,
    },
    /// A key has a signature type this code does not handle here.
    #[error("unsupported signature type 0x{found:02x} (expected 0x{expected:02x})")]
    UnsupportedSignatureType {
        /// The type byte found.
        found: u8,
        /// The type byte expected.
        expected: u8,
    },
    /// An Ed25519 public key is malformed or weak (small order).
    #[error("invalid Ed25519 public key: {0}")]
    InvalidPublicKey(&'static str),
    /// A signature by a known key failed to verify.
    #[error("signature by known key {name}+{key_id:08x} does not verify")]
    InvalidSignature {
        /// Key name.
        name: String,
        /// Key ID.
        key_id: u32,
    },
    /// No signature by any known key.
    #[error("note has no signature by a known key ({signatures} signature lines, {known} known keys)")]
    NoKnownSignature {
        /// Number of signature lines in the note.
        signatures: usize,
        /// Number of known keys.
        known: usize,
    },
    /// Two different known keys share a name and key ID.
    #[error("ambiguous known keys: more than one key is named {name} with key ID {key_id:08x}")]
    AmbiguousKey {
        /// Key name.
        name: String,
        /// Key ID.
        key_id: u32,
    },
}

/// Computes a key ID: the first four bytes, big endian, of SHA-256(name || 0x0A || sig_type || key).
pub fn key_id(name: &str, sig_type: u8, public_key: &[u8]) -> u32 {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update([b'\n', sig_type]);
    hasher.update(public_key);
    let digest = hasher.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Checks the key name rules: non-empty, no Unicode white space, no `+` (and, as everywhere in a note,
/// no control character below U+0020).
pub fn check_key_name(name: &str) -> Result<(), NoteError> {
    let fail = |reason| Err(NoteError::InvalidKeyName { name: name.to_owned(), reason });
    if name.is_empty() {
        return fail("key names must not be empty");
    }
    if name.chars().any(char::is_whitespace) {
        return fail("key names must not contain white space");
    }
    if name.contains('+') {
        return fail("key names must not contain '+'");
    }
    if name.bytes().any(|b| b < 0x20) {
        return fail("key names must not contain control characters");
    }
    Ok(())
}

/// Checks that `text` can be the text of a note: non-empty, at most [`MAX_NOTE_SIZE`] bytes, ending in
/// a newline, and free of control characters other than newline.
pub fn check_text(text: &str) -> Result<(), NoteError> {
    if text.is_empty() {
        return Err(NoteError::Empty);
    }
    if text.len() > MAX_NOTE_SIZE {
        return Err(NoteError::TooLarge { size: text.len(), limit: MAX_NOTE_SIZE });
    }
    check_control_characters(text.as_bytes())?;
    if !text.ends_with('\n') {
        return Err(NoteError::TextMissingNewline);
    }
    Ok(())
}

fn check_control_characters(bytes: &[u8]) -> Result<(), NoteError> {
    // Bytes below 0x20 never occur inside a multi-byte UTF-8 sequence.
    match bytes.iter().position(|&b| b < 0x20 && b != b'\n') {
        Some(offset) => Err(NoteError::ControlCharacter { offset, byte: bytes[offset] }),
        None => Ok(()),
    }
}

/// Decodes standard, padded, canonical base64.
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    BASE64.decode(s).ok()
}

/// Parses exactly eight lowercase hex digits.
fn parse_key_id_hex(s: &str) -> Option<u32> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    u32::from_str_radix(s, 16).ok()
}

/// A verifier key string (`<name>+<hex key ID>+<base64(type || key material)>`) of any signature type,
/// checked for syntax only.
///
/// The key ID is not checked against the key material here, since not every signature type derives it
/// the same way; the typed constructors ([`Verifier::from_vkey`] and others) do check it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    /// Key name.
    pub name: String,
    /// Key ID as written.
    pub key_id: u32,
    /// Signature type byte (the first decoded byte).
    pub sig_type: u8,
    /// Public key material (the remaining decoded bytes, non-empty).
    pub key: Vec<u8>,
}

impl VerifierKey {
    /// Parses a verifier key string.
    pub fn parse(vkey: &str) -> Result<Self, NoteError> {
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(hex), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::MalformedVerifierKey("expected <name>+<key ID>+<key>"));
        };
        check_key_name(name)?;
        let key_id = parse_key_id_hex(hex)
            .ok_or(NoteError::MalformedVerifierKey("the key ID must be exactly 8 lowercase hex digits"))?;
        let raw = decode_base64(b64).ok_or(NoteError::MalformedVerifierKey("the key is not valid base64"))?;
        let (&sig_type, key) = raw.split_first().ok_or(NoteError::MalformedVerifierKey("the key is empty"))?;
        if key.is_empty() {
            return Err(NoteError::MalformedVerifierKey("the key has a type byte but no key material"));
        }
        Ok(VerifierKey { name: name.to_owned(), key_id, sig_type, key: key.to_vec() })
    }

    /// Formats the verifier key string.
    pub fn encode(&self) -> String {
        let mut raw = Vec::with_capacity(1 + self.key.len());
        raw.push(self.sig_type);
        raw.extend_from_slice(&self.key);
        format!("{}+{:08x}+{}", self.name, self.key_id, BASE64.encode(raw))
    }
}

/// Decodes and checks an Ed25519 public key from a vkey of the expected type, checking the key ID.
///
/// Shared with other signature types built on Ed25519 keys (such as checkpoint cosignatures).
pub fn ed25519_key_from_vkey(vkey: &str, expected_type: u8) -> Result<(String, u32, VerifyingKey), NoteError> {
    let parsed = VerifierKey::parse(vkey)?;
    if parsed.sig_type != expected_type {
        return Err(NoteError::UnsupportedSignatureType { found: parsed.sig_type, expected: expected_type });
    }
    let key = ed25519_public_key(&parsed.key)?;
    let computed = key_id(&parsed.name, expected_type, key.as_bytes());
    if computed != parsed.key_id {
        return Err(NoteError::KeyIdMismatch { stated: parsed.key_id, computed });
    }
    Ok((parsed.name, parsed.key_id, key))
}

/// Decodes a raw 32-byte Ed25519 public key, refusing weak (small-order) keys.
pub fn ed25519_public_key(bytes: &[u8]) -> Result<VerifyingKey, NoteError> {
    let array: &[u8; 32] =
        bytes.try_into().map_err(|_| NoteError::InvalidPublicKey("an Ed25519 public key is 32 bytes"))?;
    let key = VerifyingKey::from_bytes(array).map_err(|_| NoteError::InvalidPublicKey("not a curve point"))?;
    if key.is_weak() {
        return Err(NoteError::InvalidPublicKey("weak key (small order)"));
    }
    Ok(key)
}

/// Verifies a raw Ed25519 signature (must be exactly 64 bytes) with `verify_strict`.
pub fn ed25519_verify(key: &VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
    match Signature::from_slice(signature) {
        Ok(signature) => key.verify_strict(message, &signature).is_ok(),
        Err(_) => false,
    }
}

/// A known Ed25519 note verifier: key name, key ID and public key (signature type `0x01`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl Verifier {
    /// Creates a verifier for `key` under `name`, computing the key ID.
    pub fn new(name: &str, key: VerifyingKey) -> Result<Self, NoteError> {
        check_key_name(name)?;
        if key.is_weak() {
            return Err(NoteError::InvalidPublicKey("weak key (small order)"));
        }
        Ok(Verifier { name: name.to_owned(), key_id: key_id(name, SIG_TYPE_ED25519, key.as_bytes()), key })
    }

    /// Parses a verifier key string of type `0x01`, checking the name, key ID and key.
    pub fn from_vkey(vkey: &str) -> Result<Self, NoteError> {
        let (name, key_id, key) = ed25519_key_from_vkey(vkey, SIG_TYPE_ED25519)?;
        Ok(Verifier { name, key_id, key })
    }

    /// Formats the verifier key string.
    pub fn to_vkey(&self) -> String {
        VerifierKey {
            name: self.name.clone(),
            key_id: self.key_id,
            sig_type: SIG_TYPE_ED25519,
            key: self.key.as_bytes().to_vec(),
        }
        .encode()
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The public key.
    pub fn public_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Whether `signature` (the bytes after the key ID) is a valid signature of `text`.
    pub fn verify(&self, text: &[u8], signature: &[u8]) -> bool {
        ed25519_verify(&self.key, text, signature)
    }

    /// Whether a signature line's name and key ID designate this key.
    pub fn matches(&self, signature: &NoteSignature) -> bool {
        self.name == signature.name && self.key_id == signature.key_id
    }
}

impl fmt::Display for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_vkey())
    }
}

impl FromStr for Verifier {
    type Err = NoteError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Verifier::from_vkey(s)
    }
}

/// An Ed25519 note signer: key name, key ID and private key.
///
/// Its `Debug` output shows only the name and key ID.
#[derive(Clone)]
pub struct Signer {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish()
    }
}

const SKEY_PREFIX: &str = "PRIVATE+KEY+";

impl Signer {
    /// Creates a signer for `key` under `name`.
    pub fn new(name: &str, key: SigningKey) -> Result<Self, NoteError> {
        check_key_name(name)?;
        let key_id = key_id(name, SIG_TYPE_ED25519, key.verifying_key().as_bytes());
        Ok(Signer { name: name.to_owned(), key_id, key })
    }

    /// Parses a signer key string `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>`.
    pub fn from_skey(skey: &str) -> Result<Self, NoteError> {
        let rest =
            skey.strip_prefix(SKEY_PREFIX).ok_or(NoteError::MalformedSignerKey("must start with PRIVATE+KEY+"))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(hex), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::MalformedSignerKey("expected PRIVATE+KEY+<name>+<key ID>+<key>"));
        };
        check_key_name(name)?;
        let stated = parse_key_id_hex(hex)
            .ok_or(NoteError::MalformedSignerKey("the key ID must be exactly 8 lowercase hex digits"))?;
        let raw =
            Zeroizing::new(decode_base64(b64).ok_or(NoteError::MalformedSignerKey("the key is not valid base64"))?);
        let (&sig_type, seed) = raw.split_first().ok_or(NoteError::MalformedSignerKey("the key is empty"))?;
        if sig_type != SIG_TYPE_ED25519 {
            return Err(NoteError::UnsupportedSignatureType { found: sig_type, expected: SIG_TYPE_ED25519 });
        }
        let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
            seed.try_into().map_err(|_| NoteError::MalformedSignerKey("an Ed25519 private key is a 32-byte seed"))?,
        );
        let signer = Signer::new(name, SigningKey::from_bytes(&seed))?;
        if signer.key_id != stated {
            return Err(NoteError::KeyIdMismatch { stated, computed: signer.key_id });
        }
        Ok(signer)
    }

    /// Formats the signer key string (secret: handle with care).
    pub fn to_skey(&self) -> Zeroizing<String> {
        let mut raw = Zeroizing::new([0u8; 33]);
        raw[0] = SIG_TYPE_ED25519;
        raw[1..].copy_from_slice(self.key.as_bytes());
        let b64 = Zeroizing::new(BASE64.encode(&raw[..]));
        let mut out = Zeroizing::new(String::with_capacity(SKEY_PREFIX.len() + self.name.len() + 10 + b64.len()));
        out.push_str(SKEY_PREFIX);
        out.push_str(&self.name);
        out.push('+');
        out.push_str(&format!("{:08x}", self.key_id));
        out.push('+');
        out.push_str(&b64);
        out
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The matching verifier.
    pub fn verifier(&self) -> Verifier {
        Verifier { name: self.name.clone(), key_id: self.key_id, key: self.key.verifying_key() }
    }

    /// Signs `text` and returns the signature line's content (name, key ID, 64-byte signature).
    pub fn sign_text(&self, text: &str) -> Result<NoteSignature, NoteError> {
        check_text(text)?;
        let signature = self.key.sign(text.as_bytes());
        Ok(NoteSignature { name: self.name.clone(), key_id: self.key_id, signature: signature.to_bytes().to_vec() })
    }
}

/// One signature line: key name, key ID and the signature bytes that follow the key ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    name: String,
    key_id: u32,
    signature: Vec<u8>,
}

impl NoteSignature {
    /// Builds a signature line from its parts; the name must be valid and the signature non-empty.
    pub fn new(name: &str, key_id: u32, signature: Vec<u8>) -> Result<Self, NoteError> {
        check_key_name(name)?;
        if signature.is_empty() {
            return Err(NoteError::EmptySignature);
        }
        Ok(NoteSignature { name: name.to_owned(), key_id, signature })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The signature bytes (after the key ID).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// Formats the line, including the final newline.
    pub fn to_line(&self) -> String {
        let mut raw = Vec::with_capacity(4 + self.signature.len());
        raw.extend_from_slice(&self.key_id.to_be_bytes());
        raw.extend_from_slice(&self.signature);
        format!("{SIGNATURE_PREFIX}{} {}\n", self.name, BASE64.encode(raw))
    }
}

/// A note: text and signature lines (verified or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

/// A note whose signatures were checked against known keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedNote {
    /// The note, with all its signature lines (including those from unknown keys).
    pub note: Note,
    /// Indexes into the known-key slice of the keys with at least one valid signature, ascending.
    pub verified: Vec<usize>,
}

impl Note {
    /// Creates an unsigned note with the given text (see [`check_text`]).
    pub fn new(text: impl Into<String>) -> Result<Self, NoteError> {
        let text = text.into();
        check_text(&text)?;
        Ok(Note { text, signatures: Vec::new() })
    }

    /// Parses a signed note without verifying any signature.
    ///
    /// Checks size, UTF-8, control characters, the blank-line separator, the final newline, the shape
    /// of every signature line (prefix, valid name, single space, canonical base64 of at least 5
    /// bytes) and the number of signatures.
    pub fn parse(msg: &[u8]) -> Result<Self, NoteError> {
        if msg.is_empty() {
            return Err(NoteError::Empty);
        }
        if msg.len() > MAX_NOTE_SIZE {
            return Err(NoteError::TooLarge { size: msg.len(), limit: MAX_NOTE_SIZE });
        }
        let msg = std::str::from_utf8(msg).map_err(|e| NoteError::InvalidUtf8 { offset: e.valid_up_to() })?;
        check_control_characters(msg.as_bytes())?;
        let split = msg.rfind("\n\n").ok_or(NoteError::MissingSeparator)?;
        let (text, block) = (&msg[..split + 1], &msg[split + 2..]);
        if block.is_empty() {
            return Err(NoteError::NoSignatures);
        }
        let Some(block) = block.strip_suffix('\n') else {
            return Err(NoteError::MissingFinalNewline);
        };
        let count = block.split('\n').count();
        if count > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures { count, limit: MAX_SIGNATURES });
        }
        // Line numbers: the text has one line per newline, then comes the blank line.
        let first_line = text.matches('\n').count() + 2;
        let signatures = block
            .split('\n')
            .enumerate()
            .map(|(n, line)| parse_signature_line(line, first_line + n))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Note { text: text.to_owned(), signatures })
    }

    /// The text, including its final newline.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines, in order.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Adds a signature line after the existing ones. A line with the same name and key ID as an
    /// existing one replaces it in place.
    pub fn add_signature(&mut self, signature: NoteSignature) -> Result<(), NoteError> {
        if let Some(existing) =
            self.signatures.iter_mut().find(|s| s.name == signature.name && s.key_id == signature.key_id)
        {
            *existing = signature;
            return Ok(());
        }
        if self.signatures.len() >= MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures { count: self.signatures.len() + 1, limit: MAX_SIGNATURES });
        }
        let size = self.encoded_len() + signature.to_line().len();
        if size > MAX_NOTE_SIZE {
            return Err(NoteError::TooLarge { size, limit: MAX_NOTE_SIZE });
        }
        self.signatures.push(signature);
        Ok(())
    }

    /// Signs the text with `signer` and adds the signature (see [`Note::add_signature`]).
    pub fn sign(&mut self, signer: &Signer) -> Result<(), NoteError> {
        let signature = signer.sign_text(&self.text)?;
        self.add_signature(signature)
    }

    /// Encodes the signed note: text, blank line, signature lines. Fails if there is no signature.
    pub fn encode(&self) -> Result<String, NoteError> {
        if self.signatures.is_empty() {
            return Err(NoteError::NoSignatures);
        }
        let mut out = String::with_capacity(self.encoded_len());
        out.push_str(&self.text);
        out.push('\n');
        for signature in &self.signatures {
            out.push_str(&signature.to_line());
        }
        Ok(out)
    }

    fn encoded_len(&self) -> usize {
        self.text.len() + 1 + self.signatures.iter().map(|s| s.to_line().len()).sum::<usize>()
    }

    /// Verifies the signatures against `known` Ed25519 verifiers and returns the indexes (ascending)
    /// of those with a valid signature.
    ///
    /// Lines matching no known (name, key ID) pair are ignored. A matching line that fails is an
    /// error ([`NoteError::InvalidSignature`]), as is a note with no valid known signature
    /// ([`NoteError::NoKnownSignature`]) or two different known keys with the same name and ID.
    pub fn verify(&self, known: &[Verifier]) -> Result<Vec<usize>, NoteError> {
        let mut verified = Vec::new();
        for signature in &self.signatures {
            let Some(index) = find_known(known, signature)? else { continue };
            if !known[index].verify(self.text.as_bytes(), &signature.signature) {
                return Err(NoteError::InvalidSignature { name: signature.name.clone(), key_id: signature.key_id });
            }
            if !verified.contains(&index) {
                verified.push(index);
            }
        }
        if verified.is_empty() {
            return Err(NoteError::NoKnownSignature { signatures: self.signatures.len(), known: known.len() });
        }
        verified.sort_unstable();
        Ok(verified)
    }
}

/// Finds the known verifier designated by a signature line, if any.
fn find_known(known: &[Verifier], signature: &NoteSignature) -> Result<Option<usize>, NoteError> {
    let mut found: Option<usize> = None;
    for (index, verifier) in known.iter().enumerate() {
        if !verifier.matches(signature) {
            continue;
        }
        match found {
            None => found = Some(index),
            Some(first) if known[first].key != verifier.key => {
                return Err(NoteError::AmbiguousKey { name: signature.name.clone(), key_id: signature.key_id });
            }
            Some(_) => {}
        }
    }
    Ok(found)
}

fn parse_signature_line(line: &str, line_number: usize) -> Result<NoteSignature, NoteError> {
    let malformed = |reason| NoteError::MalformedSignatureLine { line: line_number, reason };
    let rest = line.strip_prefix(SIGNATURE_PREFIX).ok_or(NoteError::MissingSignaturePrefix { line: line_number })?;
    let (name, b64) = rest.split_once(' ').ok_or(malformed("expected a key name, a space and a base64 signature"))?;
    check_key_name(name)?;
    let raw = decode_base64(b64).ok_or(malformed("the signature is not valid base64"))?;
    if raw.len() < 5 {
        return Err(malformed("the signature must hold a 4-byte key ID and at least one signature byte"));
    }
    let key_id = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
    Ok(NoteSignature { name: name.to_owned(), key_id, signature: raw[4..].to_vec() })
}

/// Parses a signed note and verifies it against `known` (see [`Note::verify`]).
pub fn open(msg: &[u8], known: &[Verifier]) -> Result<OpenedNote, NoteError> {
    let note = Note::parse(msg)?;
    let verified = note.verify(known)?;
    Ok(OpenedNote { note, verified })
}

/// Signs `text` with each signer and returns the encoded signed note.
pub fn sign(text: &str, signers: &[&Signer]) -> Result<String, NoteError> {
    let mut note = Note::new(text)?;
    for signer in signers {
        note.sign(signer)?;
    }
    note.encode()
}

/// Adds signatures by `signers` to an already signed note (after its existing lines) without
/// verifying the existing ones, and returns the re-encoded note.
pub fn add_signatures(msg: &[u8], signers: &[&Signer]) -> Result<String, NoteError> {
    let mut note = Note::parse(msg)?;
    for signer in signers {
        note.sign(signer)?;
    }
    note.encode()
}
