//! Points on the chain kept from earlier: `SEQ:HASH`, a record's seq and its hash, as an auditor
//! writes them down from a `verify`, a table or a published checkpoint. `verify --at SEQ:HASH` checks
//! that each lies on the chain: the record at SEQ exists and hashes to HASH. Unlike an expected
//! *last* hash, a kept point stays true while the log honestly grows.
//!
//! The hash may be given whole (64 hex digits) or in the short form tables print (the first 16 hex
//! digits, 8 bytes); [`AtCheck::form`] says which was matched. Everything here is pure: [`check_points`]
//! takes the points and a lookup of the hash at a seq (a ledger's `record`, or hashes collected
//! while a bundle verifies) and returns what was found.

use crate::ids::Seq;
use crate::record::Hash;
use crate::verify::Report;
use std::fmt;
use std::str::FromStr;

/// Hex digits of the short form that tables print.
pub const SHORT_HEX: usize = 16;

/// A point kept from earlier: the record at `seq` hashes to `hash`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct At {
    /// The record's seq.
    pub seq: Seq,
    /// Its hash, whole or short.
    pub hash: AtHash,
}

/// A kept hash: all of it, or the short form tables print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AtHash {
    /// All 32 bytes (64 hex digits).
    Full(Hash),
    /// The first 8 bytes (16 hex digits).
    Short([u8; SHORT_HEX / 2]),
}

/// Which form of a hash was given (and so matched).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AtForm {
    /// 64 hex digits.
    Full,
    /// The 16 hex digits tables print.
    Short,
}

impl AtForm {
    /// A short stable name for scripts: `full` or `short`.
    pub fn name(self) -> &'static str {
        match self {
            AtForm::Full => "full",
            AtForm::Short => "short",
        }
    }

    /// In words, for people.
    pub fn describe(self) -> &'static str {
        match self {
            AtForm::Full => "the full hash",
            AtForm::Short => "the short form (16 hex digits)",
        }
    }
}

impl AtHash {
    /// Whether `hash` is this one (in full, or its first 8 bytes for the short form).
    pub fn matches(&self, hash: &Hash) -> bool {
        match self {
            AtHash::Full(h) => h == hash,
            AtHash::Short(prefix) => hash.0[..prefix.len()] == prefix[..],
        }
    }

    /// The form given.
    pub fn form(&self) -> AtForm {
        match self {
            AtHash::Full(_) => AtForm::Full,
            AtHash::Short(_) => AtForm::Short,
        }
    }
}

impl fmt::Display for AtHash {
    /// Lowercase hex, as given (64 or 16 digits).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AtHash::Full(h) => write!(f, "{h}"),
            AtHash::Short(p) => p.iter().try_for_each(|b| write!(f, "{b:02x}")),
        }
    }
}

impl fmt::Display for At {
    /// `SEQ:HASH`, as it is written on the command line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

/// Why a text is not `SEQ:HASH`. Each message quotes the text and names the part at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AtError {
    /// No colon between the seq and the hash.
    #[error("{0:?} is not SEQ:HASH (a record's seq, a colon and its hash: 64 hex digits, or the 16 that tables print)")]
    NoColon(String),
    /// The part before the colon is not a seq.
    #[error("{text:?}: the seq {seq:?} is not a record number (write its digits: 22:HASH)")]
    BadSeq {
        /// The whole text.
        text: String,
        /// The part before the colon.
        seq: String,
    },
    /// The seq does not fit in 64 bits.
    #[error("{text:?}: the seq {seq} is too large to be a record number")]
    SeqTooLarge {
        /// The whole text.
        text: String,
        /// The part before the colon.
        seq: String,
    },
    /// The hash has a character that is not a hex digit.
    #[error("{text:?}: the hash holds {found:?}, which is not a hex digit (0-9, a-f)")]
    NotHex {
        /// The whole text.
        text: String,
        /// The first character that is not a hex digit.
        found: char,
    },
    /// The hash has neither 64 nor 16 hex digits.
    #[error("{text:?}: the hash has {digits} hex digits; give all 64, or the 16 that tables print")]
    HashLength {
        /// The whole text.
        text: String,
        /// How many it has.
        digits: usize,
    },
}

fn hex_bytes<const N: usize>(hex: &str) -> [u8; N] {
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        // Only called on checked ASCII hex digits of the right length.
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or_default();
    }
    out
}

impl FromStr for At {
    type Err = AtError;

    /// Parses `SEQ:HASH`: the seq in decimal digits (no sign), the hash as 64 or 16 hex digits (either
    /// case). Nothing else: no spaces, no `0x`.
    fn from_str(text: &str) -> Result<At, AtError> {
        let Some((seq, hash)) = text.split_once(':') else { return Err(AtError::NoColon(text.to_string())) };
        if seq.is_empty() || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AtError::BadSeq { text: text.to_string(), seq: seq.to_string() });
        }
        let seq =
            seq.parse::<u64>().map_err(|_| AtError::SeqTooLarge { text: text.to_string(), seq: seq.to_string() })?;
        if let Some(found) = hash.chars().find(|c| !c.is_ascii_hexdigit()) {
            return Err(AtError::NotHex { text: text.to_string(), found });
        }
        let hex = hash.to_ascii_lowercase();
        let hash = match hex.len() {
            64 => AtHash::Full(Hash(hex_bytes(&hex))),
            SHORT_HEX => AtHash::Short(hex_bytes(&hex)),
            digits => return Err(AtError::HashLength { text: text.to_string(), digits }),
        };
        Ok(At { seq: Seq(seq), hash })
    }
}

/// What was found at a kept point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AtCheck {
    /// The point.
    pub point: At,
    /// The hash of the record at its seq; none when there is no (verified) record there.
    pub found: Option<Hash>,
}

impl AtCheck {
    /// Whether the point lies on the chain.
    pub fn ok(&self) -> bool {
        self.found.is_some_and(|h| self.point.hash.matches(&h))
    }

    /// The form that was given, and so matched (or failed to).
    pub fn form(&self) -> AtForm {
        self.point.hash.form()
    }

    /// A short stable name of what is wrong, for scripts: `at_mismatch` (the record there hashes to
    /// something else) or `at_missing` (the log ends before it); none when the point is on the chain.
    pub fn problem_kind(&self) -> Option<&'static str> {
        match self.found {
            _ if self.ok() => None,
            Some(_) => Some("at_mismatch"),
            None => Some("at_missing"),
        }
    }

    /// What is wrong, in words (none when the point is on the chain).
    pub fn problem(&self) -> Option<String> {
        let (seq, kept) = (self.point.seq, self.point.hash);
        match self.found {
            _ if self.ok() => None,
            Some(found) => Some(format!(
                "record {seq} is not the record kept for it: it hashes to {found}, not {kept} ({} given with \
                 --at): the log was rewritten at or before record {seq}",
                self.form().describe(),
            )),
            None => Some(format!(
                "the log ends before record {seq}, kept as {kept} (--at): records were removed from its end, or \
                 it is older than the record kept"
            )),
        }
    }
}

/// Checks each point against `lookup`, the hash of the record at a seq (none if there is none), in
/// the order given.
pub fn check_points(points: &[At], lookup: impl Fn(Seq) -> Option<Hash>) -> Vec<AtCheck> {
    points.iter().map(|&point| AtCheck { point, found: lookup(point.seq) }).collect()
}

/// Makes a report unsound when a point is not on the chain. A report that is already unsound keeps
/// its own problem (the first bad record comes first); otherwise the first point off the chain becomes
/// the problem: `first_bad_seq` is its seq, or the first seq missing when the log ends before it.
pub fn apply_points(report: &mut Report, checks: &[AtCheck]) {
    if !report.ok {
        return;
    }
    // Where the log ends before a point, the first record missing is the first bad one.
    let first_bad = |c: &AtCheck| match c.found {
        Some(_) => c.point.seq.0,
        None => c.point.seq.0.min(report.records),
    };
    let Some(bad) = checks.iter().filter(|c| !c.ok()).min_by_key(|c| first_bad(c)) else { return };
    report.ok = false;
    let seq = first_bad(bad);
    report.first_bad_seq = Some(seq);
    report.problem = bad.problem();
    report.problem_kind = bad.problem_kind();
    if report.first_bad_line.is_some() || report.records > 0 && seq >= report.records {
        // A bundle (or a log) that ends early: for bundles, the first missing line; record n is line n + 1.
        report.first_bad_line = report.first_bad_line.map(|_| seq + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(byte: u8) -> Hash {
        Hash([byte; 32])
    }

    /// A sound report of a three-record log (built by the library, so that it has every field).
    fn report() -> Report {
        use crate::command::{OpenLedger, RegisterArea};
        let mut ledger = crate::Ledger::with_store(crate::MemStore::new(), Box::new(crate::SystemClock)).unwrap();
        let opened = OpenLedger {
            title: "t".into(),
            origin: "example.test/at".into(),
            utc_offset_minutes: 480,
            admin: crate::ActorId::new("admin").unwrap(),
            admin_name: "a".into(),
            vocabulary: crate::Vocabulary::default_v1(),
            admin_key: None,
        };
        ledger.init(opened, RegisterArea::seed().into_iter().take(2).collect()).unwrap();
        let report = ledger.verify(&mut |_| {}).unwrap();
        assert!(report.ok && report.records == 3, "{report:?}");
        report
    }

    #[test]
    fn full_and_short_forms_are_read_in_either_case() {
        let full: At = format!("7:{}", "AB".repeat(32)).parse().unwrap();
        assert_eq!(full, At { seq: Seq(7), hash: AtHash::Full(Hash([0xab; 32])) });
        assert_eq!(full.to_string(), format!("7:{}", "ab".repeat(32)));
        let short: At = "0:0123456789abcdef".parse().unwrap();
        assert_eq!(short.hash, AtHash::Short([0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]));
        assert_eq!((short.hash.form(), short.to_string()), (AtForm::Short, "0:0123456789abcdef".to_string()));
    }

    #[test]
    fn malformed_points_name_the_part_at_fault() {
        let h = "ab".repeat(32);
        for (text, message) in [
            ("22".to_string(), "\"22\" is not SEQ:HASH"),
            (format!(":{h}"), "the seq \"\" is not a record number"),
            (format!("+5:{h}"), "the seq \"+5\" is not a record number"),
            (format!("-1:{h}"), "the seq \"-1\" is not a record number"),
            (format!("x:{h}"), "the seq \"x\" is not a record number"),
            (format!("99999999999999999999:{h}"), "the seq 99999999999999999999 is too large"),
            ("5:abc".to_string(), "the hash has 3 hex digits; give all 64, or the 16"),
            ("5:".to_string(), "the hash has 0 hex digits"),
            (format!("5:{h}00"), "the hash has 66 hex digits"),
            (format!("5:0x{}", &h[2..]), "the hash holds 'x', which is not a hex digit"),
            (format!("5:+{}", &h[1..]), "the hash holds '+', which is not a hex digit"),
            (format!("5: {}", &h[1..]), "the hash holds ' ', which is not a hex digit"),
            (format!("5:{h}:6"), "the hash holds ':', which is not a hex digit"),
        ] {
            let e = text.parse::<At>().unwrap_err().to_string();
            assert!(e.contains(message), "{text:?}: {e}");
            assert!(e.starts_with(&format!("{text:?}")), "the message quotes the text: {e}");
        }
    }

    #[test]
    fn a_point_is_on_the_chain_only_where_the_record_hashes_to_it() {
        let chain = [hash(0), hash(1), hash(2)];
        let lookup = |s: Seq| chain.get(s.0 as usize).copied();
        let points: Vec<At> = [
            format!("1:{}", hash(1)),
            format!("2:{}", &hash(2).to_hex()[..16]),
            format!("1:{}", hash(9)),
            format!("0:{}", &hash(9).to_hex()[..16]),
            format!("5:{}", hash(1)),
        ]
        .iter()
        .map(|t| t.parse().unwrap())
        .collect();
        let checks = check_points(&points, lookup);
        let oks: Vec<bool> = checks.iter().map(AtCheck::ok).collect();
        assert_eq!(oks, [true, true, false, false, false]);
        assert_eq!(checks[1].form(), AtForm::Short);
        let kinds: Vec<_> = checks.iter().map(AtCheck::problem_kind).collect();
        assert_eq!(kinds, [None, None, Some("at_mismatch"), Some("at_mismatch"), Some("at_missing")]);
        let p = checks[2].problem().unwrap();
        assert!(p.contains("record 1 is not the record kept for it") && p.contains(&hash(1).to_hex()), "{p}");
        assert!(p.contains(&format!("hashes to {}, not {} (the full hash given", hash(1), hash(9))), "{p}");
        assert!(checks[3].problem().unwrap().contains("(the short form (16 hex digits) given with --at)"));
        assert!(checks[4].problem().unwrap().starts_with("the log ends before record 5"));
    }

    #[test]
    fn the_lowest_point_off_the_chain_makes_a_sound_report_unsound() {
        let chain = [hash(0), hash(1), hash(2)];
        let lookup = |s: Seq| chain.get(s.0 as usize).copied();
        let points: Vec<At> = [format!("9:{}", hash(9)), format!("1:{}", hash(9)), format!("2:{}", hash(2))]
            .map(|t| t.parse().unwrap())
            .into();
        let checks = check_points(&points, lookup);
        let sound = report();
        let mut r = sound.clone();
        apply_points(&mut r, &checks);
        assert_eq!((r.ok, r.first_bad_seq, r.problem_kind), (false, Some(1), Some("at_mismatch")));
        // Past the end: the first record missing is named.
        let mut r = sound.clone();
        apply_points(&mut r, &checks[..1]);
        assert_eq!((r.ok, r.first_bad_seq, r.problem_kind), (false, Some(3), Some("at_missing")));
        // On the chain: untouched.
        let mut r = sound.clone();
        apply_points(&mut r, &checks[2..]);
        assert_eq!(r, sound);
        // Already unsound: its own problem stays.
        let mut r = report();
        (r.ok, r.problem_kind, r.first_bad_seq) = (false, Some("gap"), Some(2));
        let before = r.clone();
        apply_points(&mut r, &checks);
        assert_eq!(r, before);
    }
}
