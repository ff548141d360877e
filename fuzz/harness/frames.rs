//! The verifier target's input: a sequence of log entries, each a frame
//! `flags: u8, len: u16 LE, bytes[len]` (a short last frame takes what is left).
//!
//! A fuzzer cannot forge BLAKE3 links, so the flags let it ask the harness to fix fields up before the
//! entry is pushed: bit 0 writes the entry's position into the record's seq field (bytes 1..9), bit 1
//! writes the previous entry's hash into its link (bytes 9..41), bit 2 stores it under the next
//! position's key instead of its own (a gap), bit 3 gives it a 7-byte key.

use commitment_ledger::{Hash, hash_record_bytes};

/// Fix up the seq field.
pub const PATCH_SEQ: u8 = 1;
/// Fix up the link to the previous entry.
pub const PATCH_PREV: u8 = 2;
/// Store under a key one past its position.
pub const SKIP_KEY: u8 = 4;
/// Store under a malformed key.
pub const SHORT_KEY: u8 = 8;

/// The entries (key, bytes) the frames describe, fixed up as their flags ask.
pub fn decode(mut data: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    let mut prev = Hash::ZERO;
    let mut pos: u64 = 0;
    while !data.is_empty() && out.len() < 256 {
        let flags = data[0];
        let len = match data.get(1..3) {
            Some(l) => u16::from_le_bytes([l[0], l[1]]) as usize,
            None => data.len(),
        };
        let rest = data.get(3..).unwrap_or(&[]);
        let len = len.min(rest.len());
        let mut bytes = rest[..len].to_vec();
        data = &rest[len..];
        if flags & PATCH_SEQ != 0 && bytes.len() >= 9 {
            bytes[1..9].copy_from_slice(&pos.to_le_bytes());
        }
        if flags & PATCH_PREV != 0 && bytes.len() >= 41 {
            bytes[9..41].copy_from_slice(&prev.0);
        }
        let key = if flags & SHORT_KEY != 0 {
            pos.to_be_bytes()[1..].to_vec()
        } else if flags & SKIP_KEY != 0 {
            (pos + 1).to_be_bytes().to_vec()
        } else {
            pos.to_be_bytes().to_vec()
        };
        prev = hash_record_bytes(&bytes);
        pos += 1;
        out.push((key, bytes));
    }
    out
}

/// Frames for stored records, each with `flags`.
pub fn encode(records: &[Vec<u8>], flags: u8) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records {
        let len = u16::try_from(r.len()).expect("seed records are short");
        out.push(flags);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(r);
    }
    out
}
