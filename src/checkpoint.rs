//! C2SP transparency log checkpoints (<https://c2sp.org/tlog-checkpoint>) and Ed25519 checkpoint
//! cosignatures (<https://c2sp.org/tlog-cosignature>, `cosignature/v1`).
//!
//! # Checkpoint body (the note text)
//!
//! ```text
//! <origin>\n                     non-empty; no character below U+0020
//! <tree size>\n                  ASCII decimal, no leading zeros ("0" for the empty tree), < 2^63
//! <base64(root hash)>\n          standard padded base64 of exactly 32 bytes (44 characters)
//! <extension line>\n             zero or more, each non-empty
//! ```
//!
//! A signed checkpoint is a signed note (see [`crate::note`]) whose text is the body; the log signs it
//! with an ordinary Ed25519 note signature (type `0x01`).
//!
//! # Ed25519 cosignature (type `0x04`)
//!
//! - key ID = first 4 bytes of SHA-256(name || 0x0A || 0x04 || 32-byte public key), big endian;
//! - signature line bytes after the key ID: `timestamp (u64, big endian) || Ed25519 signature (64)`,
//!   72 bytes, so the line's base64 decodes to 76 bytes; the timestamp (POSIX seconds) is at most
//!   2^63 - 1;
//! - the signed message is `"cosignature/v1\n" || "time " || decimal(timestamp) || "\n" || body`, where
//!   the body is the whole checkpoint note text, extension lines included, without the signatures;
//! - verifier key: `<name>+<hex key ID>+<base64(0x04 || public key)>`.
//!
//! The Ed25519 cosignature does not commit to the cosigner's name, so one key must not be used for two
//! cosigners.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};

use crate::note::{self, Note, NoteError, NoteSignature, Signer, Verifier};

/// Signature type identifier byte for timestamped Ed25519 checkpoint cosignatures.
pub const SIG_TYPE_COSIGNATURE_V1: u8 = 0x04;

/// Largest tree size accepted or produced: 2^63 - 1 (sizes are signed 64-bit in common
/// implementations).
pub const MAX_TREE_SIZE: u64 = i64::MAX as u64;

/// Largest cosignature timestamp allowed by the spec: 2^63 - 1.
pub const MAX_TIMESTAMP: u64 = i64::MAX as u64;

/// Length of a root hash in bytes.
pub const ROOT_HASH_LENGTH: usize = 32;

/// Length of an Ed25519 cosignature (timestamp and signature), in bytes.
pub const COSIGNATURE_LENGTH: usize = 8 + 64;

/// The header line of the cosigned message, with its newline.
pub const COSIGNATURE_HEADER: &str = "cosignature/v1\n";

/// Errors from checkpoints and cosignatures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The signed note (or the body as note text) is malformed, or a key is invalid.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The body has fewer than three lines.
    #[error("checkpoint body has {found} lines; it needs origin, tree size and root hash lines")]
    TooFewLines {
        /// Number of lines found.
        found: usize,
    },
    /// The origin line is empty.
    #[error("checkpoint origin line is empty")]
    EmptyOrigin,
    /// The origin cannot be used.
    #[error("invalid checkpoint origin {origin:?}: {reason}")]
    InvalidOrigin {
        /// The origin.
        origin: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// The tree size line is not a canonical decimal number.
    #[error("invalid checkpoint tree size line: {reason}")]
    InvalidTreeSize {
        /// Why it was refused.
        reason: &'static str,
    },
    /// The tree size is at least 2^63.
    #[error("checkpoint tree size is too large (the maximum is 2^63 - 1)")]
    TreeSizeTooLarge,
    /// The root hash line is not the base64 of 32 bytes.
    #[error("invalid checkpoint root hash line: {reason}")]
    InvalidRootHash {
        /// Why it was refused.
        reason: &'static str,
    },
    /// An extension line is empty or contains a forbidden character.
    #[error("invalid checkpoint extension line {line}: {reason}")]
    InvalidExtension {
        /// 1-based line number in the body.
        line: usize,
        /// Why it was refused.
        reason: &'static str,
    },
    /// The checkpoint comes from another log.
    #[error("checkpoint origin is {found:?}, expected {expected:?}")]
    OriginMismatch {
        /// The origin the caller expects.
        expected: String,
        /// The origin in the checkpoint.
        found: String,
    },
    /// There is no valid signature by the log's key.
    #[error("checkpoint has no signature by the log key {name}+{key_id:08x}")]
    MissingLogSignature {
        /// Log key name.
        name: String,
        /// Log key ID.
        key_id: u32,
    },
    /// A cosignature by a known cosigner is malformed or does not verify.
    #[error("cosignature by known cosigner {name}+{key_id:08x} is invalid: {reason}")]
    InvalidCosignature {
        /// Cosigner name.
        name: String,
        /// Cosigner key ID.
        key_id: u32,
        /// What is wrong.
        reason: &'static str,
    },
    /// Malformed cosignature bytes (outside the context of a known cosigner).
    #[error("malformed cosignature: {0}")]
    MalformedCosignature(&'static str),
    /// A timestamp above 2^63 - 1.
    #[error("cosignature timestamp {timestamp} is above the maximum of 2^63 - 1")]
    TimestampTooLarge {
        /// The timestamp.
        timestamp: u64,
    },
    /// A signature line matches two different known keys.
    #[error("ambiguous known keys: more than one key is named {name} with key ID {key_id:08x}")]
    AmbiguousKey {
        /// Key name.
        name: String,
        /// Key ID.
        key_id: u32,
    },
}

/// A checkpoint: the log's origin, tree size, root hash and optional extension lines.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Checkpoint {
    /// The log's origin (first line).
    pub origin: String,
    /// The number of leaves in the tree.
    pub size: u64,
    /// The RFC 6962 Merkle tree root hash.
    pub root: [u8; ROOT_HASH_LENGTH],
    /// Extension lines (without their newlines), each non-empty. Not recommended by the spec.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// Creates a checkpoint without extensions, checking the origin more strictly than the parser: as
    /// the spec recommends for producers, it must also contain no white space and no `+`.
    pub fn new(origin: &str, size: u64, root: [u8; ROOT_HASH_LENGTH]) -> Result<Self, CheckpointError> {
        if origin.chars().any(char::is_whitespace) || origin.contains('+') {
            return Err(CheckpointError::InvalidOrigin {
                origin: origin.to_owned(),
                reason: "a new origin should contain no white space and no '+'",
            });
        }
        let checkpoint = Checkpoint { origin: origin.to_owned(), size, root, extensions: Vec::new() };
        checkpoint.validate()?;
        Ok(checkpoint)
    }

    /// Checks the spec's requirements on the fields: non-empty origin, size below 2^63, non-empty
    /// extension lines, no character below U+0020 (so no newline) in any line.
    pub fn validate(&self) -> Result<(), CheckpointError> {
        if self.origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        if has_control_character(&self.origin) {
            return Err(CheckpointError::InvalidOrigin {
                origin: self.origin.clone(),
                reason: "the origin must not contain control characters (below U+0020) or newlines",
            });
        }
        if self.size > MAX_TREE_SIZE {
            return Err(CheckpointError::TreeSizeTooLarge);
        }
        for (n, extension) in self.extensions.iter().enumerate() {
            check_extension(extension, n + 4)?;
        }
        Ok(())
    }

    /// Formats the body (the note text), checking the fields first.
    pub fn to_body(&self) -> Result<String, CheckpointError> {
        self.validate()?;
        let mut body = format!("{}\n{}\n{}\n", self.origin, self.size, BASE64.encode(self.root));
        for extension in &self.extensions {
            body.push_str(extension);
            body.push('\n');
        }
        note::check_text(&body)?;
        Ok(body)
    }

    /// Parses a body strictly. Every body this accepts is re-encoded byte for byte by
    /// [`Checkpoint::to_body`].
    pub fn parse(body: &str) -> Result<Self, CheckpointError> {
        note::check_text(body)?;
        let lines: Vec<&str> = body[..body.len() - 1].split('\n').collect();
        let [origin, size, root, extensions @ ..] = lines.as_slice() else {
            return Err(CheckpointError::TooFewLines { found: lines.len() });
        };
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        let size = parse_tree_size(size)?;
        let root = parse_root_hash(root)?;
        for (n, extension) in extensions.iter().enumerate() {
            check_extension(extension, n + 4)?;
        }
        Ok(Checkpoint {
            origin: (*origin).to_owned(),
            size,
            root,
            extensions: extensions.iter().map(|s| (*s).to_owned()).collect(),
        })
    }
}

impl fmt::Display for Checkpoint {
    /// Writes the body; invalid fields are written as they are (use [`Checkpoint::to_body`] to check).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n{}\n{}\n", self.origin, self.size, BASE64.encode(self.root))?;
        for extension in &self.extensions {
            writeln!(f, "{extension}")?;
        }
        Ok(())
    }
}

impl FromStr for Checkpoint {
    type Err = CheckpointError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Checkpoint::parse(s)
    }
}

fn check_extension(extension: &str, line: usize) -> Result<(), CheckpointError> {
    if extension.is_empty() {
        return Err(CheckpointError::InvalidExtension { line, reason: "extension lines must not be empty" });
    }
    if has_control_character(extension) {
        return Err(CheckpointError::InvalidExtension {
            line,
            reason: "extension lines must not contain control characters (below U+0020) or newlines",
        });
    }
    Ok(())
}

/// Whether `s` contains a character below U+0020 (the characters a note forbids, plus newline).
fn has_control_character(s: &str) -> bool {
    s.bytes().any(|b| b < 0x20)
}

fn parse_tree_size(line: &str) -> Result<u64, CheckpointError> {
    let invalid = |reason| Err(CheckpointError::InvalidTreeSize { reason });
    if line.is_empty() {
        return invalid("the line is empty");
    }
    if !line.bytes().all(|b| b.is_ascii_digit()) {
        return invalid("only the ASCII digits 0-9 are allowed");
    }
    if line.len() > 1 && line.starts_with('0') {
        return invalid("leading zeros are not allowed");
    }
    match line.parse::<u64>() {
        Ok(size) if size <= MAX_TREE_SIZE => Ok(size),
        _ => Err(CheckpointError::TreeSizeTooLarge),
    }
}

fn parse_root_hash(line: &str) -> Result<[u8; ROOT_HASH_LENGTH], CheckpointError> {
    let invalid = |reason| CheckpointError::InvalidRootHash { reason };
    if line.len() != 44 {
        return Err(invalid("expected 44 base64 characters (32 bytes)"));
    }
    let raw = BASE64.decode(line).map_err(|_| invalid("not canonical standard base64"))?;
    raw.as_slice().try_into().map_err(|_| invalid("the hash is not 32 bytes"))
}

/// Builds the message signed by an Ed25519 cosignature: `cosignature/v1\ntime <timestamp>\n` followed
/// by the checkpoint body.
pub fn cosigned_message(body: &str, timestamp: u64) -> Vec<u8> {
    let mut message = Vec::with_capacity(COSIGNATURE_HEADER.len() + 26 + body.len());
    message.extend_from_slice(COSIGNATURE_HEADER.as_bytes());
    message.extend_from_slice(format!("time {timestamp}\n").as_bytes());
    message.extend_from_slice(body.as_bytes());
    message
}

/// The bytes of an Ed25519 cosignature (after the key ID in the signature line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cosignature {
    /// POSIX time, in seconds, at which the cosignature was made.
    pub timestamp: u64,
    /// The Ed25519 signature of [`cosigned_message`].
    pub signature: [u8; 64],
}

impl Cosignature {
    /// Decodes `timestamp (8 bytes, big endian) || signature (64 bytes)`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CheckpointError> {
        let bytes: &[u8; COSIGNATURE_LENGTH] = bytes
            .try_into()
            .map_err(|_| CheckpointError::MalformedCosignature("a cosignature is 72 bytes (timestamp, signature)"))?;
        let (time, signature) = bytes.split_at(8);
        let timestamp =
            u64::from_be_bytes(time.try_into().map_err(|_| CheckpointError::MalformedCosignature("bad length"))?);
        if timestamp > MAX_TIMESTAMP {
            return Err(CheckpointError::TimestampTooLarge { timestamp });
        }
        let signature = signature.try_into().map_err(|_| CheckpointError::MalformedCosignature("bad length"))?;
        Ok(Cosignature { timestamp, signature })
    }

    /// Encodes `timestamp (8 bytes, big endian) || signature (64 bytes)`.
    pub fn to_bytes(&self) -> [u8; COSIGNATURE_LENGTH] {
        let mut out = [0u8; COSIGNATURE_LENGTH];
        out[..8].copy_from_slice(&self.timestamp.to_be_bytes());
        out[8..].copy_from_slice(&self.signature);
        out
    }
}

/// A cosigner (witness) key: name, type-`0x04` key ID and Ed25519 private key.
///
/// Its `Debug` output shows only the name and key ID.
#[derive(Clone)]
pub struct CosignatureSigner {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl fmt::Debug for CosignatureSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CosignatureSigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish()
    }
}

impl CosignatureSigner {
    /// Creates a cosigner for `key` under `name`.
    pub fn new(name: &str, key: SigningKey) -> Result<Self, CheckpointError> {
        note::check_key_name(name)?;
        let key_id = note::key_id(name, SIG_TYPE_COSIGNATURE_V1, key.verifying_key().as_bytes());
        Ok(CosignatureSigner { name: name.to_owned(), key_id, key })
    }

    /// The cosigner name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The matching verifier.
    pub fn verifier(&self) -> CosignatureVerifier {
        CosignatureVerifier { name: self.name.clone(), key_id: self.key_id, key: self.key.verifying_key() }
    }

    /// Cosigns a checkpoint body (which must parse as a checkpoint) at `timestamp` and returns the
    /// signature line's content.
    ///
    /// This only signs: a witness must first have verified the log's signature and the consistency of
    /// the checkpoint with the ones it saw before.
    pub fn cosign_body(&self, body: &str, timestamp: u64) -> Result<NoteSignature, CheckpointError> {
        Checkpoint::parse(body)?;
        if timestamp > MAX_TIMESTAMP {
            return Err(CheckpointError::TimestampTooLarge { timestamp });
        }
        let signature = self.key.sign(&cosigned_message(body, timestamp)).to_bytes();
        let bytes = Cosignature { timestamp, signature }.to_bytes().to_vec();
        Ok(NoteSignature::new(&self.name, self.key_id, bytes)?)
    }
}

/// A known cosigner (witness): name, type-`0x04` key ID and Ed25519 public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl CosignatureVerifier {
    /// Creates a cosignature verifier for `key` under `name`, refusing weak keys.
    pub fn new(name: &str, key: VerifyingKey) -> Result<Self, CheckpointError> {
        note::check_key_name(name)?;
        let key = note::ed25519_public_key(key.as_bytes())?;
        let key_id = note::key_id(name, SIG_TYPE_COSIGNATURE_V1, key.as_bytes());
        Ok(CosignatureVerifier { name: name.to_owned(), key_id, key })
    }

    /// Parses a verifier key string of type `0x04`, checking the name, key ID and key.
    pub fn from_vkey(vkey: &str) -> Result<Self, CheckpointError> {
        let (name, key_id, key) = note::ed25519_key_from_vkey(vkey, SIG_TYPE_COSIGNATURE_V1)?;
        Ok(CosignatureVerifier { name, key_id, key })
    }

    /// Formats the verifier key string.
    pub fn to_vkey(&self) -> String {
        note::VerifierKey {
            name: self.name.clone(),
            key_id: self.key_id,
            sig_type: SIG_TYPE_COSIGNATURE_V1,
            key: self.key.as_bytes().to_vec(),
        }
        .encode()
    }

    /// The cosigner name.
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

    /// Whether a signature line's name and key ID designate this cosigner.
    pub fn matches(&self, signature: &NoteSignature) -> bool {
        self.name == signature.name() && self.key_id == signature.key_id()
    }

    /// Verifies cosignature bytes (after the key ID) over `body` and returns their timestamp.
    pub fn verify(&self, body: &str, signature: &[u8]) -> Result<u64, CheckpointError> {
        let invalid =
            |reason| CheckpointError::InvalidCosignature { name: self.name.clone(), key_id: self.key_id, reason };
        let cosignature = Cosignature::from_bytes(signature).map_err(|e| match e {
            CheckpointError::TimestampTooLarge { .. } => invalid("timestamp above 2^63 - 1"),
            _ => invalid("not 72 bytes (timestamp, signature)"),
        })?;
        let message = cosigned_message(body, cosignature.timestamp);
        if !note::ed25519_verify(&self.key, &message, &cosignature.signature) {
            return Err(invalid("the signature does not verify"));
        }
        Ok(cosignature.timestamp)
    }
}

impl fmt::Display for CosignatureVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_vkey())
    }
}

impl FromStr for CosignatureVerifier {
    type Err = CheckpointError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CosignatureVerifier::from_vkey(s)
    }
}

/// A verified cosignature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessCosignature {
    /// Cosigner name.
    pub name: String,
    /// Cosigner key ID.
    pub key_id: u32,
    /// The cosignature's timestamp (POSIX seconds). Not compared with the current time.
    pub timestamp: u64,
}

/// A checkpoint whose log signature and known cosignatures verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedCheckpoint {
    /// The parsed checkpoint.
    pub checkpoint: Checkpoint,
    /// One entry per known cosigner with a valid cosignature, in the order of the note's lines (the
    /// first line wins if a cosigner has several).
    pub cosignatures: Vec<WitnessCosignature>,
    /// The note, with every signature line (including unknown ones).
    pub note: Note,
}

/// Signs a checkpoint with the log's key and returns the signed note.
pub fn sign_checkpoint(checkpoint: &Checkpoint, log: &Signer) -> Result<String, CheckpointError> {
    let mut note = Note::new(checkpoint.to_body()?)?;
    note.sign(log)?;
    Ok(note.encode()?)
}

/// Adds (or replaces) `cosigner`'s cosignature at `timestamp` on a signed checkpoint and returns the
/// re-encoded note. Existing signatures are kept and not verified.
pub fn add_cosignature(msg: &[u8], cosigner: &CosignatureSigner, timestamp: u64) -> Result<String, CheckpointError> {
    let mut note = Note::parse(msg)?;
    let line = cosigner.cosign_body(note.text(), timestamp)?;
    note.add_signature(line)?;
    Ok(note.encode()?)
}

/// Parses and verifies a signed checkpoint.
///
/// The note must parse, its text must be a checkpoint whose origin is `origin`, and it must carry a
/// valid signature by `log`. Every line whose name and key ID match `log` or one of `witnesses` must
/// verify, or the whole checkpoint is refused; other lines are ignored. Returns the checkpoint and the
/// verified cosignatures with their timestamps.
pub fn open_checkpoint(
    msg: &[u8],
    origin: &str,
    log: &Verifier,
    witnesses: &[CosignatureVerifier],
) -> Result<OpenedCheckpoint, CheckpointError> {
    let note = Note::parse(msg)?;
    let checkpoint = Checkpoint::parse(note.text())?;
    if checkpoint.origin != origin {
        return Err(CheckpointError::OriginMismatch { expected: origin.to_owned(), found: checkpoint.origin });
    }
    let mut log_signed = false;
    let mut cosignatures: Vec<WitnessCosignature> = Vec::new();
    for line in note.signatures() {
        let witness = find_witness(witnesses, line)?;
        if log.matches(line) {
            if witness.is_some() {
                return Err(CheckpointError::AmbiguousKey { name: line.name().to_owned(), key_id: line.key_id() });
            }
            if !log.verify(note.text().as_bytes(), line.signature()) {
                return Err(NoteError::InvalidSignature { name: line.name().to_owned(), key_id: line.key_id() }.into());
            }
            log_signed = true;
        } else if let Some(witness) = witness {
            let timestamp = witness.verify(note.text(), line.signature())?;
            if !cosignatures.iter().any(|c| c.name == witness.name && c.key_id == witness.key_id) {
                cosignatures.push(WitnessCosignature { name: witness.name.clone(), key_id: witness.key_id, timestamp });
            }
        }
    }
    if !log_signed {
        return Err(CheckpointError::MissingLogSignature { name: log.name().to_owned(), key_id: log.key_id() });
    }
    Ok(OpenedCheckpoint { checkpoint, cosignatures, note })
}

fn find_witness<'a>(
    witnesses: &'a [CosignatureVerifier],
    line: &NoteSignature,
) -> Result<Option<&'a CosignatureVerifier>, CheckpointError> {
    let mut found: Option<&CosignatureVerifier> = None;
    for witness in witnesses.iter().filter(|w| w.matches(line)) {
        match found {
            None => found = Some(witness),
            Some(first) if first.key != witness.key => {
                return Err(CheckpointError::AmbiguousKey { name: line.name().to_owned(), key_id: line.key_id() });
            }
            Some(_) => {}
        }
    }
    Ok(found)
}
