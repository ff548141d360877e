//! Identities: sequence numbers, stream versions and the ids of items, actors, areas and sources.
//!
//! Ids are short ASCII slugs (`finance-office`, `0771-fin-2`) so that they are easy to type, stable in
//! URLs and unambiguous in the log; names in any language live beside them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest id, in bytes.
pub const MAX_ID_LEN: usize = 64;

/// Position of a record in the log, from 0, without gaps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Seq(pub u64);

impl Seq {
    /// The key under which the record is stored: 8 bytes, big-endian, so that keys sort by seq.
    pub fn key(self) -> [u8; 8] {
        self.0.to_be_bytes()
    }

    /// The inverse of [`Seq::key`].
    pub fn from_key(key: &[u8]) -> Option<Seq> {
        Some(Seq(u64::from_be_bytes(key.try_into().ok()?)))
    }

    /// The next sequence number.
    pub fn next(self) -> Seq {
        Seq(self.0 + 1)
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Number of earlier events in the same stream: 0 for the event that opens the stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StreamVersion(pub u64);

impl fmt::Display for StreamVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Why a string is not a valid id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The id is empty.
    #[error("is empty")]
    Empty,
    /// The id is longer than [`MAX_ID_LEN`] bytes.
    #[error("is {len} bytes long; the limit is {MAX_ID_LEN}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The id holds a character outside `a-z 0-9 . _ -`, or does not start with a letter or digit.
    #[error("{id:?} may only hold a-z, 0-9, '.', '_' and '-', starting with a letter or digit")]
    BadChar {
        /// The id as given.
        id: String,
    },
}

fn check_id(s: &str) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty);
    }
    if s.len() > MAX_ID_LEN {
        return Err(IdError::TooLong { len: s.len() });
    }
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-');
    let first_ok = s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !first_ok || !s.chars().all(ok_char) {
        return Err(IdError::BadChar { id: s.to_string() });
    }
    Ok(())
}

macro_rules! slug_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String")]
        pub struct $name(String);

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::new(s)
            }
        }

        impl $name {
            /// Checks the syntax of an id: 1 to 64 bytes of `a-z 0-9 . _ -`.
            pub fn new(s: impl Into<String>) -> Result<Self, IdError> {
                let s = s.into();
                check_id(&s)?;
                Ok(Self(s))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::new(s)
            }
        }
    };
}

slug_id!(
    /// A commitment (a cooperation item), e.g. `0771-fin-bonds`.
    ItemId
);
slug_id!(
    /// An actor: the office, a department, a counterpart, a deputy.
    ActorId
);
slug_id!(
    /// A cooperation area, e.g. `finance`.
    AreaId
);
slug_id!(
    /// A source document: a reply, memorandum, agreement or meeting record.
    SourceId
);
slug_id!(
    /// A term of a vocabulary the ledger defines: a status, a reply category, a verdict.
    Code
);

/// The stream a record belongs to: the ledger itself, or one actor, area, source or item.
///
/// Stored as text: `ledger`, `actor/ID`, `area/ID`, `source/ID`, `item/ID`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StreamId {
    /// Ledger-wide facts (the opening record, vocabulary changes).
    Ledger,
    /// One actor's registration and changes.
    Actor(ActorId),
    /// One area's registration.
    Area(AreaId),
    /// One source document, its category and the deputy's feedback.
    Source(SourceId),
    /// One commitment and every update to it.
    Item(ItemId),
}

impl StreamId {
    /// The stored text form.
    pub fn to_text(&self) -> String {
        match self {
            StreamId::Ledger => "ledger".to_string(),
            StreamId::Actor(id) => format!("actor/{id}"),
            StreamId::Area(id) => format!("area/{id}"),
            StreamId::Source(id) => format!("source/{id}"),
            StreamId::Item(id) => format!("item/{id}"),
        }
    }

    /// Parses the stored text form.
    pub fn parse(s: &str) -> Option<StreamId> {
        if s == "ledger" {
            return Some(StreamId::Ledger);
        }
        let (kind, id) = s.split_once('/')?;
        match kind {
            "actor" => ActorId::new(id).ok().map(StreamId::Actor),
            "area" => AreaId::new(id).ok().map(StreamId::Area),
            "source" => SourceId::new(id).ok().map(StreamId::Source),
            "item" => ItemId::new(id).ok().map(StreamId::Item),
            _ => None,
        }
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_accept_slugs_and_reject_the_rest() {
        assert!(ItemId::new("0771-fin-bonds").is_ok());
        assert!(ActorId::new("finance_office.2").is_ok());
        assert_eq!(ItemId::new(""), Err(IdError::Empty));
        assert!(matches!(ItemId::new("A"), Err(IdError::BadChar { .. })));
        assert!(matches!(ItemId::new("-x"), Err(IdError::BadChar { .. })));
        assert!(matches!(ItemId::new("金融"), Err(IdError::BadChar { .. })));
        assert!(matches!(ItemId::new("a/b"), Err(IdError::BadChar { .. })));
        assert!(matches!(ItemId::new("x".repeat(65)), Err(IdError::TooLong { len: 65 })));
        assert!(ItemId::new("x".repeat(64)).is_ok());
    }

    #[test]
    fn stream_ids_round_trip_through_text() {
        let streams = [
            StreamId::Ledger,
            StreamId::Actor(ActorId::new("a").unwrap()),
            StreamId::Area(AreaId::new("finance").unwrap()),
            StreamId::Source(SourceId::new("reply-0771").unwrap()),
            StreamId::Item(ItemId::new("x-1").unwrap()),
        ];
        for s in streams {
            assert_eq!(StreamId::parse(&s.to_text()), Some(s));
        }
        assert_eq!(StreamId::parse("item/"), None);
        assert_eq!(StreamId::parse("thing/x"), None);
    }

    #[test]
    fn seq_keys_sort_like_numbers() {
        assert!(Seq(255).key() < Seq(256).key());
        assert_eq!(Seq::from_key(&Seq(77).key()), Some(Seq(77)));
        assert_eq!(Seq::from_key(b"short"), None);
    }
}
