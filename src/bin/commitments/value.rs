//! Typed command-line values. Each is parsed by clap with its own `FromStr` (or a small reader) before a
//! command sees it; a refusal is clap's usage error (exit code 2) whose message names the argument:
//! `error: due: "2024-02-30" is not a date: …`.

use clap::builder::TypedValueParser;
use clap::error::ErrorKind;
use commitment_ledger::{ActorId, AreaId, At, Code, Date, Hash, IdError, ItemId, SourceId, parse_utc_offset};
use std::ffi::OsStr;
use std::marker::PhantomData;

/// A value read from one command-line argument.
pub trait Field: Sized + Clone + Send + Sync + 'static {
    /// The value, or why the text is not one (the message follows the argument's name).
    fn read(text: &str) -> Result<Self, String>;
}

macro_rules! id_field {
    ($($t:ty),*) => {$(
        impl Field for $t {
            fn read(text: &str) -> Result<Self, String> {
                text.parse().map_err(|e: IdError| format!("{text:?} {e}"))
            }
        }
    )*};
}

id_field!(ItemId, ActorId, AreaId, SourceId, Code);

impl Field for Date {
    fn read(text: &str) -> Result<Self, String> {
        text.parse().map_err(|e: commitment_ledger::DateError| e.to_string())
    }
}

impl Field for Hash {
    fn read(text: &str) -> Result<Self, String> {
        Hash::from_hex(text).ok_or_else(|| format!("{text:?} is not 64 hex digits"))
    }
}

impl Field for At {
    fn read(text: &str) -> Result<Self, String> {
        text.parse().map_err(|e: commitment_ledger::AtError| e.to_string())
    }
}

/// A UTC offset (`+08:00`), in minutes.
#[derive(Clone, Copy, Debug)]
pub struct UtcOffset(pub i32);

impl Field for UtcOffset {
    fn read(text: &str) -> Result<Self, String> {
        parse_utc_offset(text).map(UtcOffset).ok_or_else(|| format!("{text:?} is not like +08:00"))
    }
}

/// The clap parser of a [`Field`]: `#[arg(value_parser = field::<ItemId>())]`.
pub fn field<T: Field>() -> FieldParser<T> {
    FieldParser(PhantomData)
}

/// See [`field`].
#[derive(Clone)]
pub struct FieldParser<T>(PhantomData<fn() -> T>);

impl<T: Field> TypedValueParser for FieldParser<T> {
    type Value = T;

    fn parse_ref(&self, cmd: &clap::Command, arg: Option<&clap::Arg>, value: &OsStr) -> Result<T, clap::Error> {
        let text = value.to_str().ok_or_else(|| clap::Error::new(ErrorKind::InvalidUtf8).with_cmd(cmd))?;
        T::read(text).map_err(|why| {
            // Named as the user typed it: the long flag (`as-of`, `partner`) or the positional's name.
            let name = arg.map_or("value", |a| a.get_long().unwrap_or(a.get_id().as_str()));
            clap::Error::raw(ErrorKind::ValueValidation, format!("{name}: {why}\n")).with_cmd(cmd)
        })
    }
}
