//! Ed25519 keys: generation, PEM files, raw public keys and fast, exact bulk verification.
//!
//! # File formats
//!
//! - Private keys are written as **PKCS#8 v1** (RFC 5208 `PrivateKeyInfo`, RFC 8410 algorithm
//!   identifier) PEM, `-----BEGIN PRIVATE KEY-----`. The DER is always exactly 48 bytes:
//!
//!   ```text
//!   30 2e                      SEQUENCE, 46 bytes
//!      02 01 00                INTEGER 0 (version v1)
//!      30 05 06 03 2b 65 70    SEQUENCE { OID 1.3.101.112 (id-Ed25519) }
//!      04 22 04 20 <32 bytes>  OCTET STRING { OCTET STRING <seed> }
//!   ```
//!
//!   v1 is used because the PKCS#8 v2 (`OneAsymmetricKey`, with the public key in `[1]`) form that
//!   `ed25519-dalek` writes by default is refused by some deployed OpenSSL versions. Reading accepts
//!   v1 and v2; a v2 file whose embedded public key does not match its seed is refused.
//!   Private key files are created with mode 0600 through a temporary file in the same directory;
//!   reading refuses a file that group or others can access (mode & 0o077 != 0).
//! - Public keys are SPKI PEM (`-----BEGIN PUBLIC KEY-----`, 44 bytes of DER:
//!   `30 2a 30 05 06 03 2b 65 70 03 21 00 <32-byte key>`) or the raw 32-byte RFC 8032 encoding.
//!   Weak (small-order) public keys are refused by every parser here.
//!
//! # Bulk verification
//!
//! [`verify_many`] returns, for every item, exactly what [`verify_strict`] (that is,
//! `VerifyingKey::verify_strict`) returns for it, but uses `ed25519_dalek::verify_batch` as a fast path
//! and spreads the work over all available cores. `verify_batch` checks the cofactorless equation with
//! coefficients derived deterministically from its input and does not look at the keys' or the `R`
//! points' torsion, so on its own it can accept signatures that `verify_strict` rejects (a weak key, a
//! small-order `R`, or — for a signer who crafts it on purpose — an `R` or key with a small torsion
//! component). [`verify_many`] therefore sends an item to the batch only when those differences cannot
//! arise, and confirms with a randomized test that no batched point has a torsion component; anything
//! else is decided by `verify_strict` itself. See [`verify_many`] for the details.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{Identity, IsIdentity};
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, KeypairBytes};
pub use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use pkcs8::LineEnding;
use rand_core::{OsRng, RngCore};
use zeroize::{Zeroize, Zeroizing};

/// Length in bytes of a raw Ed25519 public key.
pub const PUBLIC_KEY_LENGTH: usize = 32;

/// Largest key file (private or public) that the readers accept, in bytes.
pub const MAX_KEY_FILE_SIZE: u64 = 16 * 1024;

/// Number of signatures handed to one `verify_batch` call (and one unit of work for a thread).
pub const BATCH_SIZE: usize = 1024;

/// Below this many batch-eligible items in a batch, every item is checked with `verify_strict`: the
/// torsion test's fixed cost (64 scalar multiplications) outweighs the batch equation's savings.
pub const MIN_BATCH_SIZE: usize = 128;

/// When a batch fails, it is retried in sub-batches of this size; failing sub-batches are decided item
/// by item with `verify_strict`.
const SUB_BATCH_SIZE: usize = 32;

/// Number of random subset-sum tests in the torsion check: a point with a torsion component escapes
/// all of them with probability at most 2^-TORSION_TESTS.
const TORSION_TESTS: usize = 64;

/// Bits of each random mask handled per bucket group in the torsion check.
const TORSION_GROUP_BITS: usize = 4;

/// File permission bits for private key files.
#[cfg(unix)]
const PRIVATE_KEY_MODE: u32 = 0o600;

/// File permission bits for public key files.
#[cfg(unix)]
const PUBLIC_KEY_MODE: u32 = 0o644;

/// Errors from reading, writing or parsing keys.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// An I/O operation on a key file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file (or its directory) involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The destination exists and overwriting was not asked for.
    #[error("{} already exists; refusing to overwrite it", path.display())]
    AlreadyExists {
        /// The existing file.
        path: PathBuf,
    },
    /// A private key file can be accessed by its group or by others.
    #[error(
        "private key file {} is accessible by group or others (mode {mode:04o}); \
         restrict it with `chmod 600 {}`",
        path.display(),
        path.display()
    )]
    InsecurePermissions {
        /// The offending file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The path is not a regular file, or the file is too large to be a key.
    #[error("{}: {reason}", path.display())]
    NotAKeyFile {
        /// The offending path.
        path: PathBuf,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A private key could not be decoded or encoded (the message never contains key material).
    #[error("invalid Ed25519 private key: {0}")]
    InvalidPrivateKey(String),
    /// A public key could not be decoded or encoded.
    #[error("invalid Ed25519 public key: {0}")]
    InvalidPublicKey(String),
    /// The public key has small order: signatures under it can be forged.
    #[error("weak Ed25519 public key (small order): refused")]
    WeakPublicKey,
    /// A file's content failed to parse; the path says which file.
    #[error("{}: {source}", path.display())]
    InFile {
        /// The file that was read.
        path: PathBuf,
        /// What was wrong with its content.
        source: Box<KeyError>,
    },
}

impl KeyError {
    fn io(path: &Path, source: io::Error) -> Self {
        KeyError::Io { path: path.to_path_buf(), source }
    }

    fn in_file(path: &Path, source: KeyError) -> Self {
        KeyError::InFile { path: path.to_path_buf(), source: Box::new(source) }
    }
}

/// Whether a key writer may replace an existing file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// Fail with [`KeyError::AlreadyExists`] if the destination exists (the check and the creation are
    /// one atomic step).
    CreateNew,
    /// Atomically replace the destination if it exists.
    Overwrite,
}

/// An Ed25519 public key as the log stores it: the raw 32-byte RFC 8032 encoding (64 hex digits in
/// JSON, like a hash).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublicKey(pub [u8; PUBLIC_KEY_LENGTH]);

impl PublicKey {
    /// The key of a signing key.
    pub fn of(key: &SigningKey) -> PublicKey {
        PublicKey(key.verifying_key().to_bytes())
    }

    /// The key as a verifying key, refusing malformed and weak (small-order) keys.
    pub fn verifying_key(&self) -> Result<VerifyingKey, KeyError> {
        public_key_from_bytes(&self.0)
    }

    /// A short form for people: the first 8 bytes in hex.
    pub fn short(&self) -> String {
        crate::record::Hash(self.0).to_hex()[..16].to_string()
    }
}

impl From<VerifyingKey> for PublicKey {
    fn from(key: VerifyingKey) -> PublicKey {
        PublicKey(key.to_bytes())
    }
}

impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::record::Hash(self.0).to_hex())
    }
}

impl serde::Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::record::Hash(self.0).serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<PublicKey, D::Error> {
        crate::record::Hash::deserialize(d).map(|h| PublicKey(h.0))
    }
}

/// Generates a new Ed25519 key pair from the operating system's random number generator.
///
/// The returned key zeroizes its secret when dropped.
pub fn generate_signing_key() -> SigningKey {
    SigningKey::generate(&mut OsRng)
}

/// Encodes `key` as a PKCS#8 v1 `PRIVATE KEY` PEM document (LF line endings).
pub fn private_key_to_pem(key: &SigningKey) -> Result<Zeroizing<String>, KeyError> {
    // `public_key: None` selects the v1 (RFC 5208) structure.
    let mut pair = KeypairBytes { secret_key: key.to_bytes(), public_key: None };
    let pem = pair.to_pkcs8_pem(LineEnding::LF).map_err(|e| KeyError::InvalidPrivateKey(e.to_string()));
    pair.secret_key.zeroize();
    pem
}

/// Decodes a PKCS#8 v1 or v2 `PRIVATE KEY` PEM document holding an Ed25519 key.
///
/// A v2 document's embedded public key must match the one derived from the seed.
pub fn private_key_from_pem(pem: &str) -> Result<SigningKey, KeyError> {
    SigningKey::from_pkcs8_pem(pem).map_err(|e| KeyError::InvalidPrivateKey(e.to_string()))
}

/// Writes `key` to `path` as PKCS#8 v1 PEM with mode 0600.
///
/// The key is written to a new temporary file in the same directory, flushed to disk, and then moved
/// into place: with [`WriteMode::CreateNew`] by a hard link, which fails if `path` exists, and with
/// [`WriteMode::Overwrite`] by a rename. The directory is synced afterwards.
pub fn write_private_key(path: &Path, key: &SigningKey, mode: WriteMode) -> Result<(), KeyError> {
    let pem = private_key_to_pem(key)?;
    #[cfg(unix)]
    let perms = PRIVATE_KEY_MODE;
    #[cfg(not(unix))]
    let perms = 0;
    write_file_atomically(path, pem.as_bytes(), perms, mode)
}

/// Reads a PKCS#8 (v1 or v2) PEM private key from `path`.
///
/// On Unix, refuses a file whose mode grants any access to group or others
/// ([`KeyError::InsecurePermissions`], whose message names the file and the `chmod 600` fix). The
/// file's content is kept in zeroizing buffers.
pub fn read_private_key(path: &Path) -> Result<SigningKey, KeyError> {
    let bytes = match read_key_file(path, true) {
        // A public key file (readable by all, as it should be) named where a private key is wanted.
        Err(KeyError::InsecurePermissions { .. }) if is_public_key_file(path) => {
            return Err(KeyError::in_file(path, not_private()));
        }
        other => other?,
    };
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| KeyError::in_file(path, KeyError::InvalidPrivateKey("file is not UTF-8 text".into())))?;
    if text.contains("-----BEGIN PUBLIC KEY-----") {
        return Err(KeyError::in_file(path, not_private()));
    }
    if !text.contains("-----BEGIN") {
        return Err(KeyError::in_file(
            path,
            KeyError::InvalidPrivateKey("the file is not a PEM key (no -----BEGIN PRIVATE KEY----- line)".into()),
        ));
    }
    private_key_from_pem(text).map_err(|e| KeyError::in_file(path, e))
}

fn not_private() -> KeyError {
    KeyError::InvalidPrivateKey(
        "this is a public key; a private key is wanted (the file `key generate` wrote without .pub)".into(),
    )
}

fn is_public_key_file(path: &Path) -> bool {
    let mut head = [0u8; 64];
    File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .is_ok_and(|n| head[..n].starts_with(b"-----BEGIN PUBLIC KEY-----"))
}

/// Encodes `key` as an SPKI `PUBLIC KEY` PEM document (LF line endings).
pub fn public_key_to_pem(key: &VerifyingKey) -> Result<String, KeyError> {
    key.to_public_key_pem(LineEnding::LF).map_err(|e| KeyError::InvalidPublicKey(e.to_string()))
}

/// Decodes an SPKI `PUBLIC KEY` PEM document holding an Ed25519 key, refusing weak keys.
pub fn public_key_from_pem(pem: &str) -> Result<VerifyingKey, KeyError> {
    let key = VerifyingKey::from_public_key_pem(pem).map_err(|e| KeyError::InvalidPublicKey(e.to_string()))?;
    check_not_weak(key)
}

/// Decodes a raw 32-byte RFC 8032 public key, refusing malformed and weak keys.
pub fn public_key_from_bytes(bytes: &[u8]) -> Result<VerifyingKey, KeyError> {
    let array: &[u8; PUBLIC_KEY_LENGTH] = bytes
        .try_into()
        .map_err(|_| KeyError::InvalidPublicKey(format!("expected {PUBLIC_KEY_LENGTH} bytes, got {}", bytes.len())))?;
    let key = VerifyingKey::from_bytes(array).map_err(|_| KeyError::InvalidPublicKey("not a curve point".into()))?;
    check_not_weak(key)
}

/// Whether 32 bytes are the canonical encoding of a curve point (the y coordinate below p, and no
/// "negative zero" x): decoding and encoding again gives the same bytes.
pub fn is_canonical(bytes: &[u8; PUBLIC_KEY_LENGTH]) -> bool {
    CompressedEdwardsY(*bytes).decompress().is_some_and(|p| p.compress().to_bytes() == *bytes)
}

/// Returns the raw 32-byte RFC 8032 encoding of `key`.
pub fn public_key_to_bytes(key: &VerifyingKey) -> [u8; PUBLIC_KEY_LENGTH] {
    key.to_bytes()
}

/// Writes `key` to `path` as SPKI PEM with mode 0644, through a temporary file (see
/// [`write_private_key`]).
pub fn write_public_key(path: &Path, key: &VerifyingKey, mode: WriteMode) -> Result<(), KeyError> {
    let pem = public_key_to_pem(key)?;
    #[cfg(unix)]
    let perms = PUBLIC_KEY_MODE;
    #[cfg(not(unix))]
    let perms = 0;
    write_file_atomically(path, pem.as_bytes(), perms, mode)
}

/// Reads an SPKI PEM public key from `path`, refusing weak keys.
pub fn read_public_key(path: &Path) -> Result<VerifyingKey, KeyError> {
    let bytes = read_key_file(path, false)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| KeyError::in_file(path, KeyError::InvalidPublicKey("file is not UTF-8 text".into())))?;
    public_key_from_pem(text).map_err(|e| KeyError::in_file(path, e))
}

/// Verifies one signature with `VerifyingKey::verify_strict` (rejects weak keys, small-order `R`,
/// non-canonical `s` and non-canonical `R` encodings).
pub fn verify_strict(key: &VerifyingKey, message: &[u8], signature: &Signature) -> bool {
    key.verify_strict(message, signature).is_ok()
}

/// Verifies many signatures; `result[i]` is exactly `verify_strict(&items[i].0, items[i].1, &items[i].2)`.
///
/// Work is split into batches of [`BATCH_SIZE`] spread over `std::thread::available_parallelism()`
/// threads. Within a batch (batches with fewer than [`MIN_BATCH_SIZE`] eligible items are simply checked
/// with `verify_strict`):
///
/// 1. An item goes to the batch equation only if its key is not weak, its `s` is canonical, and its `R`
///    is a canonically encoded, decodable point that is not of small order. Every other item is decided
///    by `verify_strict` alone.
/// 2. `ed25519_dalek::verify_batch` checks the eligible items. If it fails, they are re-checked in
///    sub-batches of 32, and the items of a failing sub-batch are decided by `verify_strict`.
/// 3. Items accepted by a batch are accepted only if all their `R` points and keys are torsion-free,
///    which is checked with 64 random subset sums (fresh OS randomness, each sum multiplied by the
///    group order): a torsion component anywhere escapes with probability at most 2^-64. If the check
///    fails, those items are decided by `verify_strict`.
///
/// For torsion-free keys and `R`, the batch equation (up to its 2^-128 soundness error) accepts exactly
/// the signatures that satisfy `[s]B = R + [k]A`, which is what `verify_strict` checks, so the fast
/// path can only ever agree with it.
pub fn verify_many(items: &[(VerifyingKey, &[u8], Signature)]) -> Vec<bool> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    verify_many_with_threads(items, threads)
}

/// Like [`verify_many`], with an explicit number of worker threads (at least one is used).
pub fn verify_many_with_threads(items: &[(VerifyingKey, &[u8], Signature)], threads: usize) -> Vec<bool> {
    let mut results = vec![false; items.len()];
    let threads = threads.clamp(1, items.len().div_ceil(BATCH_SIZE).max(1));
    if threads == 1 {
        for (chunk, out) in items.chunks(BATCH_SIZE).zip(results.chunks_mut(BATCH_SIZE)) {
            verify_chunk(chunk, out);
        }
        return results;
    }
    {
        let work = Mutex::new(items.chunks(BATCH_SIZE).zip(results.chunks_mut(BATCH_SIZE)));
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    loop {
                        let next = work.lock().unwrap_or_else(PoisonError::into_inner).next();
                        let Some((chunk, out)) = next else { break };
                        verify_chunk(chunk, out);
                    }
                });
            }
        });
    }
    results
}

/// Verifies many signatures like [`verify_many`]; `Err` lists the indexes of the items that failed.
pub fn verify_all(items: &[(VerifyingKey, &[u8], Signature)]) -> Result<(), Vec<usize>> {
    let failed: Vec<usize> = verify_many(items).iter().enumerate().filter_map(|(i, ok)| (!ok).then_some(i)).collect();
    if failed.is_empty() { Ok(()) } else { Err(failed) }
}

fn check_not_weak(key: VerifyingKey) -> Result<VerifyingKey, KeyError> {
    if key.is_weak() { Err(KeyError::WeakPublicKey) } else { Ok(key) }
}

/// Decides one batch of items into `out` (same length).
fn verify_chunk(items: &[(VerifyingKey, &[u8], Signature)], out: &mut [bool]) {
    // Indexes (into `items`) eligible for the batch equation, and their decoded R points.
    let mut eligible = Vec::with_capacity(items.len());
    let mut r_points = Vec::with_capacity(items.len());
    // Keys usually repeat: check each distinct key's order once.
    let mut weak_keys: HashMap<[u8; 32], bool> = HashMap::new();
    for (i, (key, message, signature)) in items.iter().enumerate() {
        let weak = *weak_keys.entry(key.to_bytes()).or_insert_with(|| key.is_weak());
        match batch_eligible_r(weak, signature) {
            Some(r) => {
                eligible.push(i);
                r_points.push(r);
            }
            None => out[i] = verify_strict(key, message, signature),
        }
    }
    if eligible.len() < MIN_BATCH_SIZE {
        for &i in &eligible {
            let (key, message, signature) = &items[i];
            out[i] = verify_strict(key, message, signature);
        }
        return;
    }

    // Positions (into `eligible`) accepted by a batch equation.
    let mut accepted: Vec<usize> = Vec::with_capacity(eligible.len());
    if batch_equation_holds(items, &eligible) {
        accepted.extend(0..eligible.len());
    } else {
        for (n, sub) in eligible.chunks(SUB_BATCH_SIZE).enumerate() {
            let base = n * SUB_BATCH_SIZE;
            if batch_equation_holds(items, sub) {
                accepted.extend(base..base + sub.len());
            } else {
                for &i in sub {
                    let (key, message, signature) = &items[i];
                    out[i] = verify_strict(key, message, signature);
                }
            }
        }
    }
    if accepted.is_empty() {
        return;
    }

    // The batch equation is only equivalent to verify_strict for torsion-free R and keys.
    let mut seen_keys = HashSet::new();
    let mut points: Vec<EdwardsPoint> = Vec::with_capacity(accepted.len() + 1);
    for &p in &accepted {
        points.push(r_points[p]);
        let key = &items[eligible[p]].0;
        if seen_keys.insert(key.to_bytes()) {
            points.push(key.to_edwards());
        }
    }
    let torsion_free = all_torsion_free(&points);
    for &p in &accepted {
        let i = eligible[p];
        out[i] = if torsion_free {
            true
        } else {
            let (key, message, signature) = &items[i];
            verify_strict(key, message, signature)
        };
    }
}

/// Runs `ed25519_dalek::verify_batch` over the items at `indexes`.
fn batch_equation_holds(items: &[(VerifyingKey, &[u8], Signature)], indexes: &[usize]) -> bool {
    let messages: Vec<&[u8]> = indexes.iter().map(|&i| items[i].1).collect();
    let signatures: Vec<Signature> = indexes.iter().map(|&i| items[i].2).collect();
    let keys: Vec<VerifyingKey> = indexes.iter().map(|&i| items[i].0).collect();
    ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
}

/// Returns the decoded `R` of `signature` if the item (whose key is `weak` or not) may go to the batch
/// equation.
fn batch_eligible_r(weak_key: bool, signature: &Signature) -> Option<EdwardsPoint> {
    if weak_key {
        return None;
    }
    if !bool::from(Scalar::from_canonical_bytes(*signature.s_bytes()).is_some()) {
        return None;
    }
    let r_bytes = signature.r_bytes();
    if !y_is_canonical(r_bytes) {
        return None;
    }
    let r = CompressedEdwardsY(*r_bytes).decompress()?;
    // Small-order points include the only ones whose x is zero, so after this check the sign bit
    // of the encoding is canonical too.
    if r.is_small_order() {
        return None;
    }
    Some(r)
}

/// Whether the y coordinate in a point encoding (little endian, top bit = sign of x) is below
/// p = 2^255 - 19.
fn y_is_canonical(encoding: &[u8; 32]) -> bool {
    // y >= p only if bits 0..255 are 0x7fff...ff(ed..ff): all middle bytes 0xff, top byte 0x7f
    // (ignoring the sign bit) and the lowest byte >= 0xed.
    let top = encoding[31] & 0x7f;
    !(top == 0x7f && encoding[1..31].iter().all(|&b| b == 0xff) && encoding[0] >= 0xed)
}

/// Randomized check that every point is in the prime-order subgroup.
///
/// The torsion part of the curve group is cyclic of order 8. For TORSION_TESTS random subsets, the sum
/// of the subset is multiplied by the group order l ([`times_order_is_identity`]), which removes the prime-order
/// part and leaves 5 times the sum of the torsion components. If some point has a non-zero torsion
/// component, each random subset sum misses it with probability at most 1/2, independently.
/// Subsets are built with buckets: for each group of TORSION_GROUP_BITS mask bits, every point is
/// added to the bucket named by its bits, and each test's sum is the sum of the buckets whose index
/// has that test's bit set.
fn all_torsion_free(points: &[EdwardsPoint]) -> bool {
    const BUCKETS: usize = 1 << TORSION_GROUP_BITS;
    const MASK_BYTES: usize = TORSION_TESTS / 8;
    let mut masks = vec![0u8; points.len() * MASK_BYTES];
    if OsRng.try_fill_bytes(&mut masks).is_err() {
        // No randomness: report "not proven", so the caller falls back to verify_strict.
        return false;
    }
    for group in 0..TORSION_TESTS / TORSION_GROUP_BITS {
        let bit_offset = group * TORSION_GROUP_BITS;
        let mut buckets = [EdwardsPoint::identity(); BUCKETS];
        for (point, mask) in points.iter().zip(masks.chunks_exact(MASK_BYTES)) {
            let byte = mask[bit_offset / 8];
            let index = (byte >> (bit_offset % 8)) as usize & (BUCKETS - 1);
            buckets[index] += point;
        }
        for bit in 0..TORSION_GROUP_BITS {
            let mut sum = EdwardsPoint::identity();
            for (index, bucket) in buckets.iter().enumerate() {
                if index >> bit & 1 == 1 {
                    sum += bucket;
                }
            }
            if !times_order_is_identity(&sum) {
                return false;
            }
        }
    }
    true
}

/// Whether [l]P is the identity (P is in the prime-order subgroup), computed in variable time (all inputs
/// are public) as [l - 1]P + P: `-Scalar::ONE` is the canonical scalar l - 1, and scalar multiplication
/// multiplies by that integer, torsion component included.
fn times_order_is_identity(point: &EdwardsPoint) -> bool {
    let l_minus_one = -Scalar::ONE;
    (EdwardsPoint::vartime_double_scalar_mul_basepoint(&l_minus_one, point, &Scalar::ZERO) + point).is_identity()
}

/// Opens and reads a key file into a zeroizing buffer, checking its type, size and (for private keys
/// on Unix) its permissions on the opened handle.
fn read_key_file(path: &Path, private: bool) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let mut file = File::open(path).map_err(|e| KeyError::io(path, e))?;
    let metadata = file.metadata().map_err(|e| KeyError::io(path, e))?;
    if !metadata.is_file() {
        return Err(KeyError::NotAKeyFile { path: path.to_path_buf(), reason: "not a regular file" });
    }
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(KeyError::InsecurePermissions { path: path.to_path_buf(), mode });
        }
    }
    #[cfg(not(unix))]
    let _ = private;
    if metadata.len() > MAX_KEY_FILE_SIZE {
        return Err(KeyError::NotAKeyFile { path: path.to_path_buf(), reason: "file too large to be a key" });
    }
    // Reserve room up front so that the secret is never copied by a reallocation.
    let mut buffer = Zeroizing::new(Vec::with_capacity(MAX_KEY_FILE_SIZE as usize + 1));
    (&mut file).take(MAX_KEY_FILE_SIZE + 1).read_to_end(&mut buffer).map_err(|e| KeyError::io(path, e))?;
    if buffer.len() as u64 > MAX_KEY_FILE_SIZE {
        return Err(KeyError::NotAKeyFile { path: path.to_path_buf(), reason: "file too large to be a key" });
    }
    Ok(buffer)
}

/// Writes `contents` to a fresh temporary file next to `path` (permission bits `perms` on Unix), syncs
/// it, then links or renames it into place and syncs the directory. Errors name `path`, not the
/// temporary file.
fn write_file_atomically(path: &Path, contents: &[u8], perms: u32, mode: WriteMode) -> Result<(), KeyError> {
    let file_name = path
        .file_name()
        .ok_or_else(|| KeyError::NotAKeyFile { path: path.to_path_buf(), reason: "path has no file name" })?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if mode == WriteMode::CreateNew && fs::symlink_metadata(path).is_ok() {
        return Err(KeyError::AlreadyExists { path: path.to_path_buf() });
    }
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!(".tmp-{}-{:016x}", std::process::id(), OsRng.next_u64()));
    let tmp = dir.join(tmp_name);

    let result = write_then_place(&tmp, path, contents, perms, mode);
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    // Make the new directory entry durable (best effort where directories cannot be opened).
    if let Ok(d) = File::open(&dir) {
        d.sync_all().map_err(|e| KeyError::io(&dir, e))?;
    }
    Ok(())
}

fn write_then_place(tmp: &Path, path: &Path, contents: &[u8], perms: u32, mode: WriteMode) -> Result<(), KeyError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(perms);
    }
    #[cfg(not(unix))]
    let _ = perms;
    let mut file = options.open(tmp).map_err(|e| KeyError::io(path, e))?;
    #[cfg(unix)]
    {
        // The umask may have removed bits; set exactly the requested mode.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(perms)).map_err(|e| KeyError::io(path, e))?;
    }
    file.write_all(contents).map_err(|e| KeyError::io(path, e))?;
    file.sync_all().map_err(|e| KeyError::io(path, e))?;
    drop(file);
    match mode {
        WriteMode::CreateNew => {
            fs::hard_link(tmp, path).map_err(|e| {
                if e.kind() == io::ErrorKind::AlreadyExists {
                    KeyError::AlreadyExists { path: path.to_path_buf() }
                } else {
                    KeyError::io(path, e)
                }
            })?;
            fs::remove_file(tmp).map_err(|e| KeyError::io(path, e))?;
        }
        WriteMode::Overwrite => fs::rename(tmp, path).map_err(|e| KeyError::io(path, e))?,
    }
    Ok(())
}
