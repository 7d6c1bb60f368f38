//! Dates: `date` (SEARCH keys such as `SINCE 1-Feb-1994`) and `date-time` (INTERNALDATE and
//! APPEND), RFC 3501 section 9 and RFC 9051 section 9. Days are checked against the month
//! (leap years of the Gregorian calendar).
//!
//! ```
//! use imap_proto::datetime::{Date, DateTime};
//! use imap_proto::{Encode, ErrorKind};
//!
//! let t = DateTime::parse(b"\" 7-Jul-1996 02:44:25 -0700\"").unwrap();
//! assert_eq!(t.zone_minutes(), -420);
//! assert_eq!(t.to_bytes(), b"\"07-Jul-1996 02:44:25 -0700\"");
//! assert_eq!(Date::parse(b"29-Feb-2023").unwrap_err().kind(), ErrorKind::Invalid);
//! ```

use std::fmt;

use crate::core::{fail, parse_whole};
use crate::encode::{Encode, Writer};
use crate::error::{ErrorKind, ParseError, ValidationError};
use crate::parse::{PResult, Reader};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn is_leap(year: u16) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// A calendar day: `date-text = date-day "-" date-month "-" date-year` (RFC 3501 section 9),
/// `1-Feb-1994`. Read with or without double quotes; written without.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// The day `day` (1 to 31) of `month` (1 to 12) of `year` (0 to 9999, four digits on the
    /// wire); refused when the day does not exist (`31-Apr`, `29-Feb` of a common year).
    pub fn new(year: u16, month: u8, day: u8) -> Result<Self, ValidationError> {
        if year > 9999 {
            return Err(ValidationError::new("date", "year beyond 9999"));
        }
        if !(1..=12).contains(&month) {
            return Err(ValidationError::new("date", "month not 1 to 12"));
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(ValidationError::new("date", "no such day in the month"));
        }
        Ok(Self { year, month, day })
    }

    /// The year.
    pub fn year(&self) -> u16 {
        self.year
    }

    /// The month, 1 to 12.
    pub fn month(&self) -> u8 {
        self.month
    }

    /// The day of the month, from 1.
    pub fn day(&self) -> u8 {
        self.day
    }

    /// Parse `input`, which must be exactly one `date` (nothing before or after it).
    pub fn parse(input: &[u8]) -> Result<Self, ParseError> {
        parse_whole(input, Self::read)
    }

    /// Read a `date`: `date-text` or `DQUOTE date-text DQUOTE`.
    pub(crate) fn read(r: &mut Reader<'_>) -> PResult<Self> {
        let quoted = r.eat(b'"');
        let date = read_date_text(r, false)?;
        if quoted && !r.eat(b'"') {
            return Err(fail(r, "'\"'"));
        }
        Ok(date)
    }
}

/// Exactly `n` digits as a number.
fn read_fixed(r: &mut Reader<'_>, n: usize, expected: &'static str) -> PResult<u16> {
    let mut v: u16 = 0;
    for _ in 0..n {
        match r.peek() {
            Some(b @ b'0'..=b'9') => {
                r.next_byte();
                v = v * 10 + u16::from(b - b'0');
            }
            _ => return Err(fail(r, expected)),
        }
    }
    Ok(v)
}

/// `date-day "-" date-month "-" date-year`, or with `fixed` `date-day-fixed` (`SP DIGIT` or
/// `2DIGIT`) for the day.
fn read_date_text(r: &mut Reader<'_>, fixed: bool) -> PResult<Date> {
    let day_at = r.pos();
    let day = if fixed {
        if r.eat(b' ') {
            read_fixed(r, 1, "DIGIT")?
        } else {
            read_fixed(r, 2, "date-day-fixed")?
        }
    } else {
        let first = read_fixed(r, 1, "date-day")?;
        match r.peek() {
            Some(b @ b'0'..=b'9') => {
                r.next_byte();
                first * 10 + u16::from(b - b'0')
            }
            _ => first,
        }
    };
    if !r.eat(b'-') {
        return Err(fail(r, "'-'"));
    }
    let rest = r.rest();
    let Some(name) = rest.get(..3) else {
        // the input ends inside a month's name: incomplete, not wrong
        let partial = MONTHS.iter().any(|m| {
            m.as_bytes()
                .get(..rest.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(rest))
        });
        return Err(if partial {
            r.error_kind("date-month", ErrorKind::Incomplete)
        } else {
            r.error("date-month")
        });
    };
    let month = MONTHS
        .iter()
        .position(|m| m.as_bytes().eq_ignore_ascii_case(name))
        .ok_or_else(|| r.error("date-month"))?;
    r.take(3, "date-month")?;
    if !r.eat(b'-') {
        return Err(fail(r, "'-'"));
    }
    let year = read_fixed(r, 4, "date-year")?;
    let month = month as u8 + 1;
    // day < 100 and year < 10000 by the digit counts
    let day = u8::try_from(day).unwrap_or(0);
    Date::new(year, month, day)
        .map_err(|_| ParseError::new(day_at, "a day of the month", ErrorKind::Invalid))
}

impl Encode for Date {
    fn encode(&self, w: &mut Writer) {
        w.number(u64::from(self.day));
        w.byte(b'-');
        w.raw(MONTHS[usize::from(self.month - 1) % 12].as_bytes());
        w.byte(b'-');
        write_digits(w, u32::from(self.year), 4);
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}-{:04}",
            self.day,
            MONTHS[usize::from(self.month - 1) % 12],
            self.year
        )
    }
}

fn write_digits(w: &mut Writer, v: u32, n: u32) {
    let mut div = 10u32.pow(n - 1);
    while div > 0 {
        w.byte(b'0' + ((v / div) % 10) as u8);
        div /= 10;
    }
}

/// Largest zone offset the wire form can carry: `+9959`.
const ZONE_MAX: i16 = 99 * 60 + 59;

/// A moment with its zone: `date-time = DQUOTE date-day-fixed "-" date-month "-" date-year
/// SP time SP zone DQUOTE` (RFC 3501 section 9), `"17-Jul-1996 02:44:25 -0700"`. The day is
/// read space-padded (` 7`) or with two digits (`07`) and written with two digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTime {
    date: Date,
    hour: u8,
    minute: u8,
    second: u8,
    zone_minutes: i16,
}

impl DateTime {
    /// A moment at `hour:minute:second` (second 60 for a leap second) on `date`, in the zone
    /// `zone_minutes` east of UTC (-0700 is -420); refused when a field is out of range or the
    /// zone is beyond ±99:59.
    pub fn new(
        date: Date,
        hour: u8,
        minute: u8,
        second: u8,
        zone_minutes: i16,
    ) -> Result<Self, ValidationError> {
        if hour > 23 || minute > 59 || second > 60 {
            return Err(ValidationError::new("date-time", "time out of range"));
        }
        if !(-ZONE_MAX..=ZONE_MAX).contains(&zone_minutes) {
            return Err(ValidationError::new("date-time", "zone beyond +-9959"));
        }
        Ok(Self {
            date,
            hour,
            minute,
            second,
            zone_minutes,
        })
    }

    /// The day.
    pub fn date(&self) -> Date {
        self.date
    }

    /// The hour, 0 to 23.
    pub fn hour(&self) -> u8 {
        self.hour
    }

    /// The minute, 0 to 59.
    pub fn minute(&self) -> u8 {
        self.minute
    }

    /// The second, 0 to 60.
    pub fn second(&self) -> u8 {
        self.second
    }

    /// The zone in minutes east of UTC.
    pub fn zone_minutes(&self) -> i16 {
        self.zone_minutes
    }

    /// Parse `input`, which must be exactly one `date-time` (nothing before or after it).
    pub fn parse(input: &[u8]) -> Result<Self, ParseError> {
        parse_whole(input, Self::read)
    }

    /// Read a `date-time`.
    pub(crate) fn read(r: &mut Reader<'_>) -> PResult<Self> {
        if !r.eat(b'"') {
            return Err(fail(r, "date-time"));
        }
        let date = read_date_text(r, true)?;
        if !r.eat(b' ') {
            return Err(fail(r, "SP"));
        }
        let mut parts = [0u8; 3];
        let mut at = [0usize; 3];
        for (i, part) in parts.iter_mut().enumerate() {
            if i > 0 && !r.eat(b':') {
                return Err(fail(r, "':'"));
            }
            at[i] = r.pos();
            // two digits: at most 99
            *part = read_fixed(r, 2, "time")? as u8;
        }
        let [hour, minute, second] = parts;
        let limits = [23, 59, 60];
        if let Some(i) = (0..3).find(|&i| parts[i] > limits[i]) {
            return Err(ParseError::new(at[i], "time", ErrorKind::Invalid));
        }
        if !r.eat(b' ') {
            return Err(fail(r, "SP"));
        }
        let sign = match r.peek() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return Err(fail(r, "zone")),
        };
        r.next_byte();
        let zone_at = r.pos();
        let hhmm = read_fixed(r, 4, "zone")?;
        let (zh, zm) = (hhmm / 100, hhmm % 100);
        if zm > 59 {
            return Err(ParseError::new(zone_at + 2, "zone", ErrorKind::Invalid));
        }
        // at most 99 * 60 + 59, which fits i16
        let zone_minutes = sign * (zh * 60 + zm) as i16;
        if !r.eat(b'"') {
            return Err(fail(r, "'\"'"));
        }
        Ok(Self {
            date,
            hour,
            minute,
            second,
            zone_minutes,
        })
    }
}

impl Encode for DateTime {
    fn encode(&self, w: &mut Writer) {
        w.byte(b'"');
        write_digits(w, u32::from(self.date.day), 2);
        w.byte(b'-');
        w.raw(MONTHS[usize::from(self.date.month - 1) % 12].as_bytes());
        w.byte(b'-');
        write_digits(w, u32::from(self.date.year), 4);
        w.sp();
        write_digits(w, u32::from(self.hour), 2);
        w.byte(b':');
        write_digits(w, u32::from(self.minute), 2);
        w.byte(b':');
        write_digits(w, u32::from(self.second), 2);
        w.sp();
        w.byte(if self.zone_minutes < 0 { b'-' } else { b'+' });
        let z = u32::from(self.zone_minutes.unsigned_abs());
        write_digits(w, (z / 60) * 100 + z % 60, 4);
        w.byte(b'"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind::{Incomplete, Invalid, Syntax};

    fn err<T: std::fmt::Debug>(res: Result<T, ParseError>) -> (usize, ErrorKind) {
        let e = res.unwrap_err();
        (e.offset(), e.kind())
    }

    #[test]
    fn dates() {
        let d = Date::parse(b"1-Feb-1994").unwrap();
        assert_eq!((d.year(), d.month(), d.day()), (1994, 2, 1));
        assert_eq!(d.to_bytes(), b"1-Feb-1994");
        assert_eq!(Date::parse(b"\"01-feb-1994\"").unwrap(), d);
        assert_eq!(d.to_string(), "1-Feb-1994");
        assert_eq!(Date::parse(b"29-Feb-2024").unwrap().day(), 29);
        assert_eq!(Date::parse(b"29-Feb-2000").unwrap().day(), 29);
        assert_eq!(
            Date::parse(b"31-DEC-0000").unwrap().to_bytes(),
            b"31-Dec-0000"
        );
    }

    #[test]
    fn date_errors() {
        assert_eq!(err(Date::parse(b"29-Feb-2023")), (0, Invalid));
        assert_eq!(err(Date::parse(b"29-Feb-1900")), (0, Invalid));
        assert_eq!(err(Date::parse(b"31-Apr-2023")), (0, Invalid));
        assert_eq!(err(Date::parse(b"0-Jan-2023")), (0, Invalid));
        assert_eq!(err(Date::parse(b"\"32-Jan-2000\"")), (1, Invalid));
        assert_eq!(err(Date::parse(b"1-Foo-2000")), (2, Syntax));
        assert_eq!(err(Date::parse(b"1-Fe")), (2, Incomplete));
        assert_eq!(err(Date::parse(b"1-")), (2, Incomplete));
        assert_eq!(err(Date::parse(b"1-Fx")), (2, Syntax));
        assert_eq!(err(Date::parse(b"1-Feb-94")), (8, Incomplete));
        assert_eq!(err(Date::parse(b"1-Feb-94x")), (8, Syntax));
        assert_eq!(err(Date::parse(b"1Feb-1994")), (1, Syntax));
        assert_eq!(err(Date::parse(b"123-Feb-1994")), (2, Syntax));
        assert_eq!(err(Date::parse(b"1-Feb1994")), (5, Syntax));
        assert_eq!(err(Date::parse(b"\"1-Feb-1994")), (11, Incomplete));
        assert_eq!(err(Date::parse(b"1-Feb-1994\"")), (10, Syntax));
        assert_eq!(err(Date::parse(b"x")), (0, Syntax));
        assert!(Date::new(2023, 2, 29).is_err());
        assert!(Date::new(2023, 13, 1).is_err());
        assert!(Date::new(2023, 0, 1).is_err());
        assert!(Date::new(2023, 1, 0).is_err());
        assert!(Date::new(10000, 1, 1).is_err());
    }

    #[test]
    fn date_times() {
        let t = DateTime::parse(b"\"17-Jul-1996 02:44:25 -0700\"").unwrap();
        assert_eq!(t.date(), Date::new(1996, 7, 17).unwrap());
        assert_eq!((t.hour(), t.minute(), t.second()), (2, 44, 25));
        assert_eq!(t.zone_minutes(), -420);
        assert_eq!(t.to_bytes(), b"\"17-Jul-1996 02:44:25 -0700\"");
        let t = DateTime::parse(b"\" 7-Jul-1996 23:59:60 +1345\"").unwrap();
        assert_eq!(t.zone_minutes(), 13 * 60 + 45);
        assert_eq!(t.to_bytes(), b"\"07-Jul-1996 23:59:60 +1345\"");
        assert_eq!(
            DateTime::parse(b"\"07-jul-1996 23:59:60 +1345\"").unwrap(),
            t
        );
        assert_eq!(
            DateTime::parse(b"\"01-Jan-2000 00:00:00 -0000\"")
                .unwrap()
                .to_bytes(),
            b"\"01-Jan-2000 00:00:00 +0000\""
        );
        let max = DateTime::new(Date::new(1, 1, 1).unwrap(), 0, 0, 0, -ZONE_MAX).unwrap();
        assert_eq!(max.to_bytes(), b"\"01-Jan-0001 00:00:00 -9959\"");
    }

    #[test]
    fn date_time_errors() {
        let e = |s: &str| err(DateTime::parse(s.as_bytes()));
        assert_eq!(e("17-Jul-1996 02:44:25 -0700"), (0, Syntax));
        assert_eq!(e("\"7-Jul-1996 02:44:25 -0700\""), (2, Syntax));
        assert_eq!(e("\"31-Jun-1996 02:44:25 -0700\""), (1, Invalid));
        assert_eq!(e("\"17-Jul-1996 24:00:00 +0000\""), (13, Invalid));
        assert_eq!(e("\"17-Jul-1996 02:60:00 +0000\""), (16, Invalid));
        assert_eq!(e("\"17-Jul-1996 02:44:61 +0000\""), (19, Invalid));
        assert_eq!(e("\"17-Jul-1996 02:44:25 +0060\""), (25, Invalid));
        assert_eq!(e("\"17-Jul-1996 2:44:25 +0000\""), (14, Syntax));
        assert_eq!(e("\"17-Jul-1996  02:44:25 +0000\""), (13, Syntax));
        assert_eq!(e("\"17-Jul-1996 02:44:25 0000\""), (22, Syntax));
        assert_eq!(e("\"17-Jul-1996 02:44:25 +000\""), (26, Syntax));
        assert_eq!(e("\"17-Jul-1996 02:44:25 +0000"), (27, Incomplete));
        assert_eq!(e("\"17-Jul-1996 02:44"), (18, Incomplete));
        assert_eq!(e("\"17-Jul-1996T02:44:25 +0000\""), (12, Syntax));
        assert_eq!(e("\" x-Jul-1996 02:44:25 +0000\""), (2, Syntax));
        assert_eq!(e("\"17-Jul-1996 02.44:25 +0000\""), (15, Syntax));
        assert_eq!(e("\"17-Jul-1996 02:44.25 +0000\""), (18, Syntax));
        assert_eq!(e("\"17-Jul-1996 02:44:25+0000\""), (21, Syntax));
        assert_eq!(e("\"17-Jul-1996 02:44:25 +0000x"), (27, Syntax));
        assert_eq!(e("\"17-Jul-1996 02:44:25 +0000\" "), (28, Syntax));
        assert_eq!(e("\"17-Jly-1996 02:44:25 +0000\""), (4, Syntax));
        assert_eq!(e(""), (0, Incomplete));
        let d = Date::new(2024, 2, 29).unwrap();
        assert!(DateTime::new(d, 24, 0, 0, 0).is_err());
        assert!(DateTime::new(d, 0, 60, 0, 0).is_err());
        assert!(DateTime::new(d, 0, 0, 61, 0).is_err());
        assert!(DateTime::new(d, 0, 0, 0, ZONE_MAX + 1).is_err());
        assert!(DateTime::new(d, 0, 0, 0, -ZONE_MAX - 1).is_err());
        assert!(DateTime::new(d, 23, 59, 60, ZONE_MAX).is_ok());
    }
}
