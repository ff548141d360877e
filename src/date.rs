//! Dates as people write them (with their precision) and the ledger's acceptance times.
//!
//! The seed reply says "2022", "2023年底" and "2024年4月": a [`Date`] keeps the precision it was given
//! (year, month or day) and prints at that precision. A [`Timestamp`] is the moment the ledger accepted
//! a record, in microseconds since the Unix epoch, UTC.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A calendar date at year, month or day precision.
///
/// Stored (bincode) as an enum: variant index u32 (0 year, 1 month, 2 day) then u16 year, u8 month,
/// u8 day. In JSON it is the text it prints as: `"2023"`, `"2024-04"`, `"2024-04-15"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Date {
    /// A whole year: `2023`.
    Year(u16),
    /// A month: `2024-04`.
    Month(u16, u8),
    /// A day: `2024-04-15`.
    Day(u16, u8, u8),
}

/// The stored shape of [`Date`].
#[derive(Serialize, Deserialize)]
enum DateRepr {
    Year(u16),
    Month(u16, u8),
    Day(u16, u8, u8),
}

impl Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            return s.collect_str(self);
        }
        match *self {
            Date::Year(y) => DateRepr::Year(y),
            Date::Month(y, m) => DateRepr::Month(y, m),
            Date::Day(y, m, d) => DateRepr::Day(y, m, d),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            return Date::parse(&s).map_err(serde::de::Error::custom);
        }
        let date = match DateRepr::deserialize(d)? {
            DateRepr::Year(y) => Date::Year(y),
            DateRepr::Month(y, m) => Date::Month(y, m),
            DateRepr::Day(y, m, d) => Date::Day(y, m, d),
        };
        if !date.is_valid() {
            return Err(serde::de::Error::custom(format!("{date:?} is not a real date")));
        }
        Ok(date)
    }
}

/// A calendar day, used to compare dates of different precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day {
    /// Year, 1000 to 9999.
    pub year: u16,
    /// Month, 1 to 12.
    pub month: u8,
    /// Day of the month, from 1.
    pub day: u8,
}

impl Day {
    /// Days from `self` to `later` (negative if `later` is earlier).
    pub fn days_until(self, later: Day) -> i64 {
        let civil = |d: Day| jiff::civil::date(d.year as i16, d.month as i8, d.day as i8);
        civil(later).since(civil(self)).map_or(0, |span| i64::from(span.get_days()))
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Why a date was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a date: {why} (write 2023, 2023-04, 2023-04-15, 2023年, 2023年4月 or 2023年4月15日)")]
pub struct DateError {
    /// The text as given.
    pub input: String,
    /// What is wrong with it.
    pub why: &'static str,
}

fn is_leap(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// Number of days in a month of a year.
pub fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        _ => 28,
    }
}

impl Date {
    /// Parses `2023`, `2023-04`, `2023-04-15` and the Chinese forms `2023年`, `2023年4月`,
    /// `2023年4月15日`; `2023年底` and `2023年末` (end of the year) are read as the year `2023`.
    pub fn parse(input: &str) -> Result<Date, DateError> {
        let err = |why| DateError { input: input.to_string(), why };
        let s = input.trim();
        if !s.contains('年') {
            let parts: Vec<&str> = s.split('-').collect();
            return Date::from_parts(&parts, input);
        }
        let s = s.strip_suffix("底").or_else(|| s.strip_suffix("末")).unwrap_or(s);
        let (year, rest) = s.split_once('年').ok_or_else(|| err("no year"))?;
        let mut parts = vec![year];
        if !rest.is_empty() {
            let (month, rest) = rest.split_once('月').ok_or_else(|| err("a month must end with 月"))?;
            parts.push(month);
            if !rest.is_empty() {
                parts.push(rest.strip_suffix('日').ok_or_else(|| err("a day must end with 日"))?);
            }
        }
        Date::from_parts(&parts, input)
    }

    fn from_parts(parts: &[&str], input: &str) -> Result<Date, DateError> {
        let err = |why| DateError { input: input.to_string(), why };
        let number = |p: &str, max_len: usize| -> Option<u16> {
            if p.is_empty() || p.len() > max_len || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            p.parse().ok()
        };
        let year = parts.first().and_then(|p| (p.len() == 4).then(|| number(p, 4)).flatten());
        let year = year.ok_or_else(|| err("the year must have four digits"))?;
        if !(1000..=9999).contains(&year) {
            return Err(err("the year must be between 1000 and 9999"));
        }
        let Some(month) = parts.get(1) else {
            return Ok(Date::Year(year));
        };
        let month = number(month, 2).ok_or_else(|| err("the month must be a number"))?;
        if !(1..=12).contains(&month) {
            return Err(err("the month must be between 1 and 12"));
        }
        let month = month as u8;
        let Some(day) = parts.get(2) else {
            return Ok(Date::Month(year, month));
        };
        if parts.len() > 3 {
            return Err(err("too many parts"));
        }
        let day = number(day, 2).ok_or_else(|| err("the day must be a number"))?;
        if day == 0 || day > u16::from(days_in_month(year, month)) {
            return Err(err("that month has no such day"));
        }
        Ok(Date::Day(year, month, day as u8))
    }

    /// Whether the stored fields form a real date (decoded records are checked with this).
    pub fn is_valid(&self) -> bool {
        let (y, m, d) = match *self {
            Date::Year(y) => (y, 1, 1),
            Date::Month(y, m) => (y, m, 1),
            Date::Day(y, m, d) => (y, m, d),
        };
        (1000..=9999).contains(&y) && (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)
    }

    /// The first day the date covers.
    pub fn first_day(&self) -> Day {
        match *self {
            Date::Year(year) => Day { year, month: 1, day: 1 },
            Date::Month(year, month) => Day { year, month, day: 1 },
            Date::Day(year, month, day) => Day { year, month, day },
        }
    }

    /// The last day the date covers: a commitment due in "2024" is overdue from 2025-01-01.
    pub fn last_day(&self) -> Day {
        match *self {
            Date::Year(year) => Day { year, month: 12, day: 31 },
            Date::Month(year, month) => Day { year, month, day: days_in_month(year, month) },
            Date::Day(year, month, day) => Day { year, month, day },
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Date::Year(y) => write!(f, "{y:04}"),
            Date::Month(y, m) => write!(f, "{y:04}-{m:02}"),
            Date::Day(y, m, d) => write!(f, "{y:04}-{m:02}-{d:02}"),
        }
    }
}

impl std::str::FromStr for Date {
    type Err = DateError;
    fn from_str(s: &str) -> Result<Date, DateError> {
        Date::parse(s)
    }
}

/// The moment the ledger accepted a record: microseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The latest time a record may carry: the end of the year 9999 (dates have four-digit years).
    pub const MAX: Timestamp = Timestamp(253_402_300_799_999_999);

    /// Whether the time can be a record's acceptance time: not before 1970, not after [`Timestamp::MAX`].
    pub fn is_valid(self) -> bool {
        (0..=Timestamp::MAX.0).contains(&self.0)
    }

    /// The system clock, now.
    pub fn now() -> Timestamp {
        Timestamp(jiff::Timestamp::now().as_microsecond())
    }

    /// The calendar day of this moment at a UTC offset given in minutes (Beijing is +480).
    pub fn day(self, utc_offset_minutes: i32) -> Day {
        let micros = self.0.saturating_add(i64::from(utc_offset_minutes) * 60_000_000);
        let ts = jiff::Timestamp::from_microsecond(micros).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let date = ts.to_zoned(jiff::tz::TimeZone::UTC).date();
        Day { year: date.year() as u16, month: date.month() as u8, day: date.day() as u8 }
    }

    /// The last microsecond of a calendar day at a UTC offset: everything accepted up to the end of
    /// that day is "as of" the day.
    pub fn end_of_day(day: Day, utc_offset_minutes: i32) -> Timestamp {
        let start = jiff::civil::date(day.year as i16, day.month as i8, day.day as i8)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp().as_microsecond())
            .unwrap_or(0);
        Timestamp(start + 86_400_000_000 - 1 - i64::from(utc_offset_minutes) * 60_000_000)
    }

    /// RFC 3339 text at a UTC offset, to the second: `2024-05-01T09:30:00+08:00`.
    pub fn format(self, utc_offset_minutes: i32) -> String {
        let ts = jiff::Timestamp::from_microsecond(self.0).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let offset = jiff::tz::Offset::from_seconds(utc_offset_minutes * 60).unwrap_or(jiff::tz::Offset::UTC);
        let local = offset.to_datetime(ts);
        let sign = if utc_offset_minutes < 0 { '-' } else { '+' };
        let m = utc_offset_minutes.unsigned_abs();
        format!("{}{sign}{:02}:{:02}", local.strftime("%Y-%m-%dT%H:%M:%S"), m / 60, m % 60)
    }

    /// Parses RFC 3339 text (`2024-05-01T09:30:00+08:00`).
    pub fn parse(s: &str) -> Option<Timestamp> {
        s.parse::<jiff::Timestamp>().ok().map(|t| Timestamp(t.as_microsecond()))
    }
}

/// Where the clock comes from. The system clock in production; tests, demos and imports of
/// historical material may supply another. The ledger never lets time go backwards: a record is
/// stamped with the later of the clock and the previous record's time.
pub trait Clock: Send {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock set by hand (the demo's simulated year, tests, benchmarks, fuzzing). Clones share the time.
#[derive(Debug, Clone, Default)]
pub struct ManualClock(std::sync::Arc<std::sync::atomic::AtomicI64>);

impl ManualClock {
    /// A clock at a time.
    pub fn at(time: Timestamp) -> ManualClock {
        let c = ManualClock::default();
        c.set(time);
        c
    }

    /// Sets the time.
    pub fn set(&self, time: Timestamp) {
        self.0.store(time.0, std::sync::atomic::Ordering::SeqCst);
    }

    /// Moves the time by `micros` (negative moves it back).
    pub fn shift(&self, micros: i64) {
        self.0.fetch_add(micros, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(std::sync::atomic::Ordering::SeqCst))
    }
}

/// Parses a UTC offset written `+08:00`, `-05:30` or `Z`, into minutes.
pub fn parse_utc_offset(s: &str) -> Option<i32> {
    if s == "Z" || s == "z" {
        return Some(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60).then_some(sign * (h * 60 + m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_keep_their_precision() {
        assert_eq!(Date::parse("2022").unwrap(), Date::Year(2022));
        assert_eq!(Date::parse("2024-04").unwrap(), Date::Month(2024, 4));
        assert_eq!(Date::parse("2024-04-15").unwrap(), Date::Day(2024, 4, 15));
        assert_eq!(Date::parse("2023年底").unwrap(), Date::Year(2023));
        assert_eq!(Date::parse("2024年4月").unwrap(), Date::Month(2024, 4));
        assert_eq!(Date::parse("2024年4月5日").unwrap(), Date::Day(2024, 4, 5));
        for s in ["2022", "2024-04", "2024-04-15"] {
            assert_eq!(Date::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn impossible_and_malformed_dates_are_refused() {
        for bad in [
            "",
            "23",
            "2023-13",
            "2023-00",
            "2023-02-29",
            "2024-02-30",
            "2024-04-31",
            "2024-4-x",
            "0999",
            "2024-04-15-01",
            "2024年13月",
            "2024年4",
            "2024年4月5",
            "+2024",
            "2024-",
            "２０２４",
        ] {
            assert!(Date::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Date::parse("2024-02-29").is_ok());
        assert!(Date::parse("2000-02-29").is_ok());
        assert!(Date::parse("1900-02-29").is_err());
    }

    #[test]
    fn a_date_covers_a_range_of_days() {
        let d = Date::Month(2024, 2);
        assert_eq!(d.first_day(), Day { year: 2024, month: 2, day: 1 });
        assert_eq!(d.last_day(), Day { year: 2024, month: 2, day: 29 });
        assert_eq!(Date::Year(2023).last_day(), Day { year: 2023, month: 12, day: 31 });
        assert!(!Date::Day(2023, 2, 29).is_valid());
        assert!(Date::Day(2024, 2, 29).is_valid());
    }

    #[test]
    fn timestamps_convert_at_an_offset() {
        let t = Timestamp::parse("2024-04-30T20:00:00Z").unwrap();
        assert_eq!(t.day(0), Day { year: 2024, month: 4, day: 30 });
        assert_eq!(t.day(480), Day { year: 2024, month: 5, day: 1 });
        assert_eq!(t.format(480), "2024-05-01T04:00:00+08:00");
        let end = Timestamp::end_of_day(Day { year: 2024, month: 5, day: 1 }, 480);
        assert_eq!(end.format(480), "2024-05-01T23:59:59+08:00");
        assert_eq!(end.day(480), Day { year: 2024, month: 5, day: 1 });
        assert_eq!(Timestamp(end.0 + 1).day(480), Day { year: 2024, month: 5, day: 2 });
        assert_eq!(parse_utc_offset("+08:00"), Some(480));
        assert_eq!(parse_utc_offset("-05:30"), Some(-330));
        assert_eq!(parse_utc_offset("08:00"), None);
    }
}
