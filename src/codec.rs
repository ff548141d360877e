//! The one bincode configuration every stored byte is written with.
//!
//! bincode 2.0.1, serde mode, little-endian, fixed-width integers. Decoding is bounded by
//! [`MAX_RECORD_BYTES`] and must consume the whole input. `schema/record-format.md` spells out the
//! resulting bytes so that the log can be read without this crate.

use bincode::config::{Configuration, Fixint, Limit, LittleEndian};
use serde::{Serialize, de::DeserializeOwned};

/// Largest record the ledger writes or reads, in bytes.
pub const MAX_RECORD_BYTES: usize = 256 * 1024;

/// The pinned configuration.
pub const CONFIG: Configuration<LittleEndian, Fixint, Limit<MAX_RECORD_BYTES>> =
    bincode::config::standard().with_little_endian().with_fixed_int_encoding().with_limit::<MAX_RECORD_BYTES>();

/// Largest derived value (a projection's registry or item) read back. Derived data is not a record:
/// the registry grows with the number of sources, well past a record's limit.
pub const MAX_DERIVED_BYTES: usize = 256 * 1024 * 1024;

/// The same layout with the derived-data limit.
pub const DERIVED_CONFIG: Configuration<LittleEndian, Fixint, Limit<MAX_DERIVED_BYTES>> =
    bincode::config::standard().with_little_endian().with_fixed_int_encoding().with_limit::<MAX_DERIVED_BYTES>();

/// Why stored bytes could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// bincode refused the bytes (truncated, a bad tag, bad UTF-8, over the size limit).
    #[error("undecodable: {0}")]
    Bincode(String),
    /// The value ended before the bytes did.
    #[error("{extra} unexpected bytes after the end of the value")]
    TrailingBytes {
        /// How many bytes were left over.
        extra: usize,
    },
    /// The record format version is not one this crate reads.
    #[error("record format version {0} is unknown (this build reads versions 1 and 2)")]
    UnknownFormat(u8),
    /// The event type number is not one this crate knows.
    #[error("event type {0} is unknown")]
    UnknownEventType(u16),
    /// The event version is not one this crate knows for that type.
    #[error("{event_type} version {version} is unknown")]
    UnknownEventVersion {
        /// The type's name.
        event_type: &'static str,
        /// The stored version.
        version: u16,
    },
    /// A field decoded but its value is not allowed (an id with bad characters, an impossible date).
    #[error("field {field}: {why}")]
    BadField {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        why: String,
    },
}

/// Encodes a value with the pinned configuration.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Encoding into a Vec only fails for types serde cannot describe; ours are all plain.
    bincode::serde::encode_to_vec(value, CONFIG).expect("stored types always encode")
}

/// Appends the encoding of a value to `out`.
pub fn encode_into<T: Serialize>(value: &T, out: &mut Vec<u8>) {
    bincode::serde::encode_into_std_write(value, out, CONFIG).expect("stored types always encode");
}

/// Decodes a value, refusing trailing bytes.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    let (value, used) =
        bincode::serde::decode_from_slice(bytes, CONFIG).map_err(|e| CodecError::Bincode(e.to_string()))?;
    if used != bytes.len() {
        return Err(CodecError::TrailingBytes { extra: bytes.len() - used });
    }
    Ok(value)
}

/// Decodes derived data (projections), with [`MAX_DERIVED_BYTES`] as the limit.
pub fn decode_derived<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    let (value, used) =
        bincode::serde::decode_from_slice(bytes, DERIVED_CONFIG).map_err(|e| CodecError::Bincode(e.to_string()))?;
    if used != bytes.len() {
        return Err(CodecError::TrailingBytes { extra: bytes.len() - used });
    }
    Ok(value)
}

/// Decodes a value that borrows from the input, refusing trailing bytes.
pub fn decode_borrowed<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, CodecError> {
    let (value, used) =
        bincode::serde::borrow_decode_from_slice(bytes, CONFIG).map_err(|e| CodecError::Bincode(e.to_string()))?;
    if used != bytes.len() {
        return Err(CodecError::TrailingBytes { extra: bytes.len() - used });
    }
    Ok(value)
}
