//! The record envelope, its byte layout, the BLAKE3 chain and what an actor signs.
//!
//! A record's hash is BLAKE3 in `derive_key` mode over the exact bytes stored in the log, with the
//! context of its format: [`RECORD_CONTEXT`] for format 1 (unsigned), [`RECORD_CONTEXT_V2`] for format
//! 2 (signed). Each record carries the hash of the one before it (zeroes for record 0), so changing,
//! removing or reordering any record breaks a link. A signed record carries its actor's Ed25519
//! signature over the record's statement ([`statement_bytes`]): what the actor knows before the ledger
//! assigns seq, link and time. The layout is in `schema/record-format.md`.

use crate::codec::{self, CodecError};
use crate::date::Timestamp;
use crate::event::Event;
use crate::ids::{ActorId, Seq, StreamId, StreamVersion};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::LazyLock;

/// The record format of signed records, the one this crate writes whenever the actor signs (always,
/// in a signed ledger): the first byte of the record.
pub const RECORD_FORMAT: u8 = 2;

/// The record format of unsigned records: every record of a ledger opened by version 1, and records
/// there by actors who have no key yet.
pub const RECORD_FORMAT_UNSIGNED: u8 = 1;

/// The BLAKE3 `derive_key` context for the hashes of format 1 records. Part of the format: never
/// change it without a new record format version.
pub const RECORD_CONTEXT: &str = "commitment-ledger 2026-11-27 record v1";

/// The BLAKE3 `derive_key` context for the hashes of format 2 (signed) records.
pub const RECORD_CONTEXT_V2: &str = "commitment-ledger 2026-11-29 record v2";

/// The first field of every signed statement (what an actor signs), so that a signature made for
/// this ledger's records can never be taken for a signature over anything else.
pub const STATEMENT_CONTEXT: &str = "commitment-ledger 2026-11-29 statement v1";

/// A 32-byte hash, printed as 64 lowercase hex digits (also its JSON form; stored as 32 raw bytes).
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hash(pub [u8; 32]);

impl Serialize for Hash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() { s.collect_str(self) } else { self.0.serialize(s) }
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            Hash::from_hex(&s).ok_or_else(|| serde::de::Error::custom("expected 64 hex digits"))
        } else {
            <[u8; 32]>::deserialize(d).map(Hash)
        }
    }
}

impl Hash {
    /// The all-zero hash that record 0 links to.
    pub const ZERO: Hash = Hash([0; 32]);

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push(char::from(DIGITS[usize::from(b >> 4)]));
            s.push(char::from(DIGITS[usize::from(b & 15)]));
        }
        s
    }

    /// Parses 64 hex digits (nothing else: no sign, no spaces, no prefix).
    pub fn from_hex(s: &str) -> Option<Hash> {
        if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Hash(out))
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

/// A point on the chain: a record's seq, its hash and when the ledger accepted it. The head of a
/// ledger, what an append returns, the head a store acknowledged and a projection's watermark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// The record's seq.
    pub seq: Seq,
    /// Its hash.
    pub hash: Hash,
    /// When it was accepted.
    pub time: Timestamp,
}

static RECORD_HASHER: LazyLock<blake3::Hasher> = LazyLock::new(|| blake3::Hasher::new_derive_key(RECORD_CONTEXT));
static RECORD_HASHER_V2: LazyLock<blake3::Hasher> = LazyLock::new(|| blake3::Hasher::new_derive_key(RECORD_CONTEXT_V2));

/// The hash of stored record bytes, with the context of the format named by their first byte (bytes
/// of any other format, which no reader accepts, hash with format 1's).
pub fn hash_record_bytes(bytes: &[u8]) -> Hash {
    let mut h = if bytes.first() == Some(&RECORD_FORMAT) { RECORD_HASHER_V2.clone() } else { RECORD_HASHER.clone() };
    h.update(bytes);
    Hash(*h.finalize().as_bytes())
}

/// An actor's signature on a record, and the time the actor gave when signing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signed {
    /// When the actor signed, by its own clock (microseconds since 1970, UTC).
    pub actor_time: Timestamp,
    /// The Ed25519 signature over the record's statement ([`statement_bytes`]).
    pub signature: [u8; 64],
}

/// What an actor signs: everything about a record it can know before the ledger assigns the seq, the
/// link and the time — the ledger's origin, the actor, the stream, the stream version it expects, the
/// event type, version and body, and its own time. bincode (§1 of the format) of these fields, in
/// this order, after [`STATEMENT_CONTEXT`].
#[derive(Serialize)]
struct StatementWire<'a> {
    context: &'a str,
    origin: &'a str,
    actor: &'a str,
    stream: &'a str,
    stream_version: u64,
    event_type: u16,
    event_version: u16,
    #[serde(with = "serde_bytes")]
    body: &'a [u8],
    actor_time: i64,
}

/// The bytes an actor signs for a record: bincode of the context and these fields, in this order
/// (`schema/record-format.md` §8).
#[allow(clippy::too_many_arguments)]
pub fn statement_bytes(
    origin: &str,
    actor: &str,
    stream: &str,
    stream_version: u64,
    event_type: u16,
    event_version: u16,
    body: &[u8],
    actor_time: i64,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + origin.len() + actor.len() + stream.len() + 96);
    codec::encode_into(
        &StatementWire {
            context: STATEMENT_CONTEXT,
            origin,
            actor,
            stream,
            stream_version,
            event_type,
            event_version,
            body,
            actor_time,
        },
        &mut out,
    );
    out
}

/// What an actor signs for one record, before the ledger assigns its seq, link and time: a client
/// that is not the ledger (a department's own machine, a request over the network) prepares one
/// ([`crate::Ledger::prepare`]), signs it with its own key and hands the signed statement to the ledger
/// ([`crate::Ledger::append_signed`]), which appends it only if it still fits where it was prepared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// Who signs.
    pub actor: ActorId,
    /// The version of the event's stream the actor expects the record to get: if another record was
    /// appended to the stream since, the statement is refused and must be prepared again.
    pub stream_version: StreamVersion,
    /// What happened, in its type's current version.
    pub event: Event,
    /// When the actor signs, by its own clock.
    pub actor_time: Timestamp,
}

impl Statement {
    /// The bytes signed, for a ledger of `origin` ([`statement_bytes`]).
    pub fn bytes(&self, origin: &str) -> Vec<u8> {
        let t = self.event.event_type();
        statement_bytes(
            origin,
            self.actor.as_str(),
            &self.event.stream().to_text(),
            self.stream_version.0,
            t as u16,
            t.version(),
            &self.event.encode_body(),
            self.actor_time.0,
        )
    }

    /// Signs the statement for a ledger of `origin`.
    pub fn sign(self, key: &ed25519_dalek::SigningKey, origin: &str) -> SignedStatement {
        use ed25519_dalek::Signer as _;
        let signature = key.sign(&self.bytes(origin)).to_bytes();
        SignedStatement { statement: self, signature }
    }
}

/// A statement and its actor's signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedStatement {
    /// What was signed.
    pub statement: Statement,
    /// The Ed25519 signature over [`Statement::bytes`].
    pub signature: [u8; 64],
}

/// A stored signed record's statement (the bytes its signature must verify over) and its signature.
pub type StoredStatement = (Vec<u8>, [u8; 64]);

/// The statement a stored signed record's signature must verify over, and the signature, read from
/// the stored bytes without decoding the event. None for a record that is not a readable format 2
/// record.
pub fn stored_statement(bytes: &[u8], origin: &str) -> Option<StoredStatement> {
    if bytes.first() != Some(&RECORD_FORMAT) {
        return None;
    }
    let w: WireV2<'_> = codec::decode_borrowed(bytes).ok()?;
    let msg = w.envelope.statement(origin, w.actor_time);
    Some((msg, join(w.signature)))
}

/// The origin named by stored bytes that are a readable record 0 (`LedgerOpened`).
pub fn origin_of(bytes: &[u8]) -> Option<String> {
    match Record::decode(bytes).ok()?.event {
        Event::LedgerOpened(o) => Some(o.origin),
        _ => None,
    }
}

fn split(s: &[u8; 64]) -> ([u8; 32], [u8; 32]) {
    let mut a = [0; 32];
    let mut b = [0; 32];
    a.copy_from_slice(&s[..32]);
    b.copy_from_slice(&s[32..]);
    (a, b)
}

fn join((a, b): ([u8; 32], [u8; 32])) -> [u8; 64] {
    let mut s = [0; 64];
    s[..32].copy_from_slice(&a);
    s[32..].copy_from_slice(&b);
    s
}

/// One entry of the log, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Its position.
    pub seq: Seq,
    /// The hash of the record before it.
    pub prev: Hash,
    /// When the ledger accepted it.
    pub time: Timestamp,
    /// Who appended it.
    pub actor: ActorId,
    /// The stream it belongs to.
    pub stream: StreamId,
    /// Number of earlier records in the stream.
    pub stream_version: StreamVersion,
    /// The seq of the stream's previous record (none for the first), so that a stream's history can be
    /// walked backwards without an index.
    pub stream_prev: Option<Seq>,
    /// What happened, in the current shape of its type (upcast on read when stored in an older one).
    pub event: Event,
    /// The schema version the event was stored in: the current version for a new record, whatever the
    /// log holds for a decoded one. Bundles and JSON views show this, never the current version.
    pub event_version: u16,
    /// The actor's signature: present in format 2 records, absent in format 1 records.
    pub signature: Option<Signed>,
}

/// The fields every record format stores first, in stored order: everything up to the body. bincode
/// writes a nested struct as its fields, so the formats below are these fields followed by their own.
#[derive(Serialize, Deserialize)]
struct Envelope<'a> {
    format: u8,
    seq: u64,
    prev: [u8; 32],
    time: i64,
    actor: &'a str,
    stream: &'a str,
    stream_version: u64,
    stream_prev: Option<u64>,
    event_type: u16,
    event_version: u16,
    #[serde(with = "serde_bytes")]
    body: &'a [u8],
}

/// A format 1 record: the envelope and an empty signature tag.
#[derive(Serialize, Deserialize)]
struct Wire<'a> {
    #[serde(borrow)]
    envelope: Envelope<'a>,
    #[serde(borrow, with = "serde_bytes")]
    signature: Option<&'a [u8]>,
}

/// A format 2 (signed) record: the envelope, then the actor's time and the 64-byte signature (as two
/// 32-byte halves: bincode has no 64-byte array).
#[derive(Serialize, Deserialize)]
struct WireV2<'a> {
    #[serde(borrow)]
    envelope: Envelope<'a>,
    actor_time: i64,
    signature: ([u8; 32], [u8; 32]),
}

impl WireV2<'_> {
    fn signed(&self) -> Signed {
        Signed { actor_time: Timestamp(self.actor_time), signature: join(self.signature) }
    }
}

impl Envelope<'_> {
    /// The statement the record's actor signs, for a ledger of `origin`.
    fn statement(&self, origin: &str, actor_time: i64) -> Vec<u8> {
        statement_bytes(
            origin,
            self.actor,
            self.stream,
            self.stream_version,
            self.event_type,
            self.event_version,
            self.body,
            actor_time,
        )
    }

    /// The record these fields (and its signature) describe.
    fn record(&self, signature: Option<Signed>) -> Result<Record, CodecError> {
        let bad = |field, why: String| CodecError::BadField { field, why };
        Ok(Record {
            seq: Seq(self.seq),
            prev: Hash(self.prev),
            time: Timestamp(self.time),
            actor: ActorId::new(self.actor).map_err(|e| bad("actor", e.to_string()))?,
            stream: StreamId::parse(self.stream)
                .ok_or_else(|| bad("stream", format!("{:?} is not a stream", self.stream)))?,
            stream_version: StreamVersion(self.stream_version),
            stream_prev: self.stream_prev.map(Seq),
            event: Event::decode(self.event_type, self.event_version, self.body)?,
            event_version: self.event_version,
            signature,
        })
    }
}

impl Record {
    /// The stored bytes of a new record. Only a record whose event is in its type's current version
    /// can be encoded: an older stored version is kept as the bytes it was stored as, never rewritten.
    pub fn encode(&self) -> Vec<u8> {
        debug_assert_eq!(self.event_version, self.event.event_type().version(), "only new records are encoded");
        let body = self.event.encode_body();
        let stream = self.stream.to_text();
        let envelope = self.envelope(&stream, &body);
        let mut out = Vec::with_capacity(body.len() + stream.len() + 200);
        match &self.signature {
            Some(s) => codec::encode_into(
                &WireV2 { envelope, actor_time: s.actor_time.0, signature: split(&s.signature) },
                &mut out,
            ),
            None => codec::encode_into(&Wire { envelope, signature: None }, &mut out),
        }
        out
    }

    /// The stored fields up to the body, with the stream's text and the body's bytes.
    fn envelope<'a>(&'a self, stream: &'a str, body: &'a [u8]) -> Envelope<'a> {
        Envelope {
            format: if self.signature.is_some() { RECORD_FORMAT } else { RECORD_FORMAT_UNSIGNED },
            seq: self.seq.0,
            prev: self.prev.0,
            time: self.time.0,
            actor: self.actor.as_str(),
            stream,
            stream_version: self.stream_version.0,
            stream_prev: self.stream_prev.map(|s| s.0),
            event_type: self.event.event_type() as u16,
            event_version: self.event_version,
            body,
        }
    }

    /// Decodes stored bytes. The bytes are not checked against any hash here; [`crate::verify`] does that.
    pub fn decode(bytes: &[u8]) -> Result<Record, CodecError> {
        match bytes.first() {
            Some(&RECORD_FORMAT) => {
                let w: WireV2<'_> = codec::decode_borrowed(bytes)?;
                w.envelope.record(Some(w.signed()))
            }
            Some(&format) => Record::decode_unsigned(bytes, format),
            None => Err(CodecError::Bincode("empty record".into())),
        }
    }

    /// Decodes stored bytes and, for a signed record, builds the statement its signature must verify
    /// over, for a ledger of `origin` (none: the origin the record itself opens, for record 0), reading
    /// the envelope once. A verifier's hot path.
    pub fn decode_with_statement(
        bytes: &[u8],
        origin: Option<&str>,
    ) -> (Result<Record, CodecError>, Option<StoredStatement>) {
        let Some(&format) = bytes.first() else { return (Err(CodecError::Bincode("empty record".into())), None) };
        if format == RECORD_FORMAT {
            let w: WireV2<'_> = match codec::decode_borrowed(bytes) {
                Ok(w) => w,
                Err(e) => return (Err(e), None),
            };
            let signed = w.signed();
            let rec = w.envelope.record(Some(signed));
            let origin = match (origin, &rec) {
                (Some(o), _) => Some(o.to_string()),
                (None, Ok(Record { event: Event::LedgerOpened(o), .. })) => Some(o.origin.clone()),
                (None, _) => None,
            };
            let statement = origin.map(|o| (w.envelope.statement(&o, w.actor_time), signed.signature));
            return (rec, statement);
        }
        (Record::decode_unsigned(bytes, format), None)
    }

    fn decode_unsigned(bytes: &[u8], format: u8) -> Result<Record, CodecError> {
        if format != RECORD_FORMAT_UNSIGNED {
            return Err(CodecError::UnknownFormat(format));
        }
        let w: Wire<'_> = codec::decode_borrowed(bytes)?;
        if w.signature.is_some() {
            return Err(CodecError::BadField {
                field: "signature",
                why: "format 1 defines no signature scheme, so no record may carry one".into(),
            });
        }
        w.envelope.record(None)
    }

    /// The statement the record's actor signs (see [`statement_bytes`]), for a ledger of `origin`,
    /// with the actor's time `actor_time`.
    pub fn statement(&self, origin: &str, actor_time: Timestamp) -> Vec<u8> {
        debug_assert_eq!(self.event_version, self.event.event_type().version(), "only new records are signed");
        let (stream, body) = (self.stream.to_text(), self.event.encode_body());
        self.envelope(&stream, &body).statement(origin, actor_time.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::Date;
    use crate::event::ProgressReported;
    use crate::ids::ItemId;

    fn sample() -> Record {
        let item = ItemId::new("0771-fin-bonds").unwrap();
        Record {
            seq: Seq(7),
            prev: Hash([9; 32]),
            time: Timestamp(1_700_000_000_000_000),
            actor: ActorId::new("finance-office").unwrap(),
            stream: StreamId::Item(item.clone()),
            stream_version: StreamVersion(2),
            stream_prev: Some(Seq(5)),
            event: Event::ProgressReported(ProgressReported {
                item,
                text: "截至2023年底，4家北京市属国企约23亿美元债券已在澳门挂牌上市。".into(),
                on: Date::Year(2023),
                evidence: None,
            }),
            event_version: 1,
            signature: None,
        }
    }

    #[test]
    fn records_round_trip() {
        let r = sample();
        let bytes = r.encode();
        assert_eq!(Record::decode(&bytes).unwrap(), r);
    }

    #[test]
    fn the_layout_starts_as_documented() {
        let bytes = sample().encode();
        assert_eq!(bytes[0], RECORD_FORMAT_UNSIGNED);
        assert_eq!(&bytes[1..9], &7u64.to_le_bytes());
        assert_eq!(&bytes[9..41], &[9u8; 32]);
        assert_eq!(&bytes[41..49], &1_700_000_000_000_000i64.to_le_bytes());
        assert_eq!(&bytes[49..57], &14u64.to_le_bytes());
        assert_eq!(&bytes[57..71], b"finance-office");
        // The signature is the last field: absent is a single 0 byte.
        assert_eq!(*bytes.last().unwrap(), 0);
    }

    #[test]
    fn hashes_use_derive_key_over_the_stored_bytes() {
        let bytes = sample().encode();
        let expected = blake3::derive_key(RECORD_CONTEXT, &bytes);
        assert_eq!(hash_record_bytes(&bytes).0, expected);
        let mut flipped = bytes.clone();
        flipped[100] ^= 1;
        assert_ne!(hash_record_bytes(&flipped), hash_record_bytes(&bytes));
    }

    #[test]
    fn truncated_padded_and_foreign_bytes_are_refused() {
        let bytes = sample().encode();
        for cut in [0, 1, 10, bytes.len() - 1] {
            assert!(Record::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut padded = bytes.clone();
        padded.push(0);
        assert_eq!(Record::decode(&padded), Err(CodecError::TrailingBytes { extra: 1 }));
        let mut v3 = bytes.clone();
        v3[0] = 3;
        assert_eq!(Record::decode(&v3), Err(CodecError::UnknownFormat(3)));
    }

    #[test]
    fn hex_round_trips() {
        let h = hash_record_bytes(b"x");
        assert_eq!(Hash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(Hash::from_hex("zz"), None);
        // `u8::from_str_radix` takes a sign: "+f" would otherwise parse as a byte.
        let signed = format!("+f{}", &h.to_hex()[2..]);
        assert_eq!(Hash::from_hex(&signed), None);
        assert_eq!(Hash::from_hex(&h.to_hex().to_uppercase()), Some(h));
    }
}
