//! Sequence sets: `sequence-set` with `*` (RFC 3501 section 9, RFC 9051 section 9) and `$`
//! (SEARCHRES, RFC 5182 section 2), and UIDPLUS's `uid-set` (RFC 4315 section 4).
//!
//! ```
//! use imap_proto::Encode;
//! use imap_proto::sequence::SequenceSet;
//!
//! let set: SequenceSet = "2:4,10:*".parse().unwrap();
//! assert!(set.contains(11, 11) && !set.contains(5, 11));
//! assert_eq!(set.to_bytes(), b"2:4,10:*");
//! assert_eq!(SequenceSet::parse(b"$").unwrap(), SequenceSet::Saved);
//! assert_eq!(SequenceSet::parse_uid_set(b"1:*").unwrap_err().offset(), 2);
//! ```

use std::num::NonZeroU32;
use std::ops::RangeInclusive;

use crate::core::{fail, parse_whole};
use crate::encode::{Encode, Writer};
use crate::error::{ParseError, ValidationError};
use crate::list::{List, NonEmpty};
use crate::parse::{PResult, Reader};

/// `seq-number = nz-number / "*"`: a message sequence number or UID, or `*`, the largest in
/// use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SeqOrUid {
    /// A number.
    Value(NonZeroU32),
    /// `*`: the largest number in use (the last message, or the largest UID).
    Asterisk,
}

impl SeqOrUid {
    /// The number this stands for when the largest number in use is `largest`.
    pub fn resolve(self, largest: u32) -> u32 {
        match self {
            SeqOrUid::Value(v) => v.get(),
            SeqOrUid::Asterisk => largest,
        }
    }

    /// Read a `seq-number`.
    pub(crate) fn read(r: &mut Reader<'_>) -> PResult<Self> {
        if r.eat(b'*') {
            return Ok(SeqOrUid::Asterisk);
        }
        if !r.peek().is_some_and(|b| b.is_ascii_digit()) {
            return Err(fail(r, "seq-number"));
        }
        r.nz_number().map(SeqOrUid::Value)
    }
}

impl Encode for SeqOrUid {
    fn encode(&self, w: &mut Writer) {
        match self {
            SeqOrUid::Value(v) => w.number(u64::from(v.get())),
            SeqOrUid::Asterisk => w.byte(b'*'),
        }
    }
}

/// `seq-number / seq-range` (`seq-range = seq-number ":" seq-number`): one element of a
/// sequence set. A range includes both ends, in either order (`4:2` is `2:4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sequence {
    /// One number or `*`.
    Single(SeqOrUid),
    /// Every number between the two, both included.
    Range(SeqOrUid, SeqOrUid),
}

impl Sequence {
    /// The numbers this element stands for when the largest number in use is `largest`, low
    /// end first (`4:2` is `2..=4`; `*` is `largest`).
    pub fn resolve(&self, largest: u32) -> RangeInclusive<u32> {
        match *self {
            Sequence::Single(s) => {
                let n = s.resolve(largest);
                n..=n
            }
            Sequence::Range(a, b) => {
                let (a, b) = (a.resolve(largest), b.resolve(largest));
                a.min(b)..=a.max(b)
            }
        }
    }

    /// Whether `n` is in this element when the largest number in use is `largest`.
    pub fn contains(&self, n: u32, largest: u32) -> bool {
        self.resolve(largest).contains(&n)
    }

    fn read(r: &mut Reader<'_>) -> PResult<Self> {
        let a = SeqOrUid::read(r)?;
        if r.eat(b':') {
            let b = SeqOrUid::read(r)?;
            Ok(Sequence::Range(a, b))
        } else {
            Ok(Sequence::Single(a))
        }
    }
}

impl Encode for Sequence {
    fn encode(&self, w: &mut Writer) {
        match self {
            Sequence::Single(s) => s.encode(w),
            Sequence::Range(a, b) => {
                a.encode(w);
                w.byte(b':');
                b.encode(w);
            }
        }
    }
}

/// `sequence-set` (RFC 3501 section 9, RFC 9051 section 9) with SEARCHRES's
/// `seq-last-command = "$"` (RFC 5182 section 2). Also the `uid-set` of UIDPLUS (RFC 4315),
/// which is a set without `*` and `$`.
///
/// [`SequenceSet::Set`] is never empty: build it with [`SequenceSet::new`],
/// [`SequenceSet::single`] or [`SequenceSet::range`], which refuse an empty set and zero.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SequenceSet {
    /// `$`: the result of the last SEARCH saved with `SAVE` (RFC 5182).
    Saved,
    /// One or more numbers and ranges, separated by `,` on the wire. Two are kept inline
    /// (`1:500,600:*`), so that the commands and response codes holding a set stay small;
    /// longer sets are on the heap.
    Set(NonEmpty<Sequence, 2>),
}

impl SequenceSet {
    /// A set of these elements; refused when empty.
    pub fn new(items: List<Sequence>) -> Result<Self, ValidationError> {
        if items.is_empty() {
            Err(ValidationError::new("sequence-set", "empty"))
        } else {
            Ok(SequenceSet::Set(NonEmpty(items.into_iter().collect())))
        }
    }

    /// The set of one number; refused when zero.
    pub fn single(n: u32) -> Result<Self, ValidationError> {
        let n = nz(n)?;
        Ok(SequenceSet::Set(NonEmpty::one(Sequence::Single(
            SeqOrUid::Value(n),
        ))))
    }

    /// The range `from:to`; refused when either end is zero.
    pub fn range(from: u32, to: u32) -> Result<Self, ValidationError> {
        let (from, to) = (nz(from)?, nz(to)?);
        Ok(SequenceSet::Set(NonEmpty::one(Sequence::Range(
            SeqOrUid::Value(from),
            SeqOrUid::Value(to),
        ))))
    }

    /// Whether `n` is in the set when the largest number in use (what `*` stands for) is
    /// `largest`. Always false for [`SequenceSet::Saved`], whose members only the session
    /// knows.
    pub fn contains(&self, n: u32, largest: u32) -> bool {
        match self {
            SequenceSet::Saved => false,
            SequenceSet::Set(items) => items.iter().any(|s| s.contains(n, largest)),
        }
    }

    /// The ranges of the set, low end first, in the order written, when the largest number
    /// in use is `largest` (ranges may overlap; none for [`SequenceSet::Saved`]).
    pub fn ranges(&self, largest: u32) -> impl Iterator<Item = RangeInclusive<u32>> + '_ {
        let items: &[Sequence] = match self {
            SequenceSet::Saved => &[],
            SequenceSet::Set(items) => items,
        };
        items.iter().map(move |s| s.resolve(largest))
    }

    /// Whether this is a valid UIDPLUS `uid-set`: neither `$` nor `*` in it.
    pub fn is_uid_set(&self) -> bool {
        match self {
            SequenceSet::Saved => false,
            SequenceSet::Set(items) => items.iter().all(|s| match s {
                Sequence::Single(a) => *a != SeqOrUid::Asterisk,
                Sequence::Range(a, b) => *a != SeqOrUid::Asterisk && *b != SeqOrUid::Asterisk,
            }),
        }
    }

    /// Parse `input`, which must be exactly one `sequence-set` (nothing before or after it).
    pub fn parse(input: &[u8]) -> Result<Self, ParseError> {
        parse_whole(input, Self::read)
    }

    /// Parse `input`, which must be exactly one `uid-set` (nothing before or after it).
    pub fn parse_uid_set(input: &[u8]) -> Result<Self, ParseError> {
        parse_whole(input, read_uid_set)
    }

    /// Read a `sequence-set`, or `$`.
    pub(crate) fn read(r: &mut Reader<'_>) -> PResult<Self> {
        if r.eat(b'$') {
            return Ok(SequenceSet::Saved);
        }
        if !matches!(r.peek(), Some(b'0'..=b'9' | b'*')) {
            return Err(fail(r, "sequence-set"));
        }
        let mut items = List::new();
        loop {
            items.push(Sequence::read(r)?);
            if !r.eat(b',') {
                return Ok(SequenceSet::Set(NonEmpty(items)));
            }
        }
    }
}

/// Read a UIDPLUS `uid-set` (RFC 4315 section 4): `(uniqueid / uid-range) *("," ...)`, a
/// sequence set of numbers only (`*` and `$` are errors at their offset).
pub(crate) fn read_uid_set(r: &mut Reader<'_>) -> PResult<SequenceSet> {
    fn uid(r: &mut Reader<'_>) -> PResult<SeqOrUid> {
        if !r.peek().is_some_and(|b| b.is_ascii_digit()) {
            return Err(fail(r, "uniqueid"));
        }
        r.nz_number().map(SeqOrUid::Value)
    }
    let mut items = List::new();
    loop {
        let a = uid(r)?;
        items.push(if r.eat(b':') {
            Sequence::Range(a, uid(r)?)
        } else {
            Sequence::Single(a)
        });
        if !r.eat(b',') {
            return Ok(SequenceSet::Set(NonEmpty(items)));
        }
    }
}

/// A UIDPLUS `uid-set` (RFC 4315 section 4; RFC 7162 `known-uids` of VANISHED): a
/// [`SequenceSet`] without `*` or `$`. The field is private so that no value holds them (a
/// code or response with them would read back as something else).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UidSet(SequenceSet);

impl UidSet {
    /// The uid-set of this set; refused when it is `$` or holds `*`.
    pub fn new(set: SequenceSet) -> Result<UidSet, ValidationError> {
        if set.is_uid_set() {
            Ok(UidSet(set))
        } else {
            Err(ValidationError::new("uid-set", "no * or $ in a uid-set"))
        }
    }

    /// Parse `input`, which must be exactly one `uid-set`.
    pub fn parse(input: &[u8]) -> Result<UidSet, ParseError> {
        parse_whole(input, read_uid_set).map(UidSet)
    }

    /// The set.
    pub fn as_sequence_set(&self) -> &SequenceSet {
        &self.0
    }

    /// The set, owned.
    pub fn into_sequence_set(self) -> SequenceSet {
        self.0
    }

    /// Read a `uid-set`.
    pub(crate) fn read(r: &mut Reader<'_>) -> PResult<UidSet> {
        read_uid_set(r).map(UidSet)
    }
}

impl std::ops::Deref for UidSet {
    type Target = SequenceSet;
    fn deref(&self) -> &SequenceSet {
        &self.0
    }
}

impl Encode for UidSet {
    fn encode(&self, w: &mut Writer) {
        self.0.encode(w);
    }
}

fn nz(n: u32) -> Result<NonZeroU32, ValidationError> {
    NonZeroU32::new(n).ok_or(ValidationError::new("sequence-set", "zero"))
}

impl Encode for SequenceSet {
    fn encode(&self, w: &mut Writer) {
        match self {
            SequenceSet::Saved => w.byte(b'$'),
            SequenceSet::Set(items) => {
                for (i, s) in items.iter().enumerate() {
                    if i > 0 {
                        w.byte(b',');
                    }
                    s.encode(w);
                }
            }
        }
    }
}

impl std::str::FromStr for SequenceSet {
    type Err = ParseError;

    /// [`SequenceSet::parse`] of the string (`1:4,7,9:*` or `$`).
    fn from_str(s: &str) -> Result<Self, ParseError> {
        SequenceSet::parse(s.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind::{self, Incomplete, Number, Syntax};

    fn err(res: Result<SequenceSet, ParseError>) -> (usize, ErrorKind) {
        let e = res.unwrap_err();
        (e.offset(), e.kind())
    }

    fn v(n: u32) -> SeqOrUid {
        SeqOrUid::Value(NonZeroU32::new(n).unwrap())
    }

    #[test]
    fn known_answers() {
        let s = SequenceSet::parse(b"1:4,7,9:*,*,*:2").unwrap();
        let want: List<Sequence> = [
            Sequence::Range(v(1), v(4)),
            Sequence::Single(v(7)),
            Sequence::Range(v(9), SeqOrUid::Asterisk),
            Sequence::Single(SeqOrUid::Asterisk),
            Sequence::Range(SeqOrUid::Asterisk, v(2)),
        ]
        .into_iter()
        .collect();
        assert_eq!(s, SequenceSet::new(want).unwrap());
        assert_eq!(s.to_bytes(), b"1:4,7,9:*,*,*:2");
        assert_eq!(SequenceSet::parse(b"$").unwrap(), SequenceSet::Saved);
        assert_eq!(SequenceSet::Saved.to_bytes(), b"$");
        assert_eq!(
            SequenceSet::parse(b"4294967295").unwrap().to_bytes(),
            b"4294967295"
        );
        assert_eq!(
            "2:3".parse::<SequenceSet>().unwrap(),
            SequenceSet::range(2, 3).unwrap()
        );
    }

    #[test]
    fn errors_point_at_the_byte() {
        assert_eq!(err(SequenceSet::parse(b"")), (0, Incomplete));
        assert_eq!(err(SequenceSet::parse(b"0")), (0, Number));
        assert_eq!(err(SequenceSet::parse(b"1:0")), (2, Number));
        assert_eq!(err(SequenceSet::parse(b"4294967296")), (0, Number));
        assert_eq!(err(SequenceSet::parse(b"1,,2")), (2, Syntax));
        assert_eq!(err(SequenceSet::parse(b"1,")), (2, Incomplete));
        assert_eq!(err(SequenceSet::parse(b"1:")), (2, Incomplete));
        assert_eq!(err(SequenceSet::parse(b"1:x")), (2, Syntax));
        assert_eq!(err(SequenceSet::parse(b"x")), (0, Syntax));
        assert_eq!(err(SequenceSet::parse(b"1 ")), (1, Syntax));
        assert_eq!(err(SequenceSet::parse(b"$,1")), (1, Syntax));
        assert_eq!(err(SequenceSet::parse(b"1,$")), (2, Syntax));
        assert_eq!(err(SequenceSet::parse(b"**")), (1, Syntax));
    }

    #[test]
    fn uid_sets_have_no_star_or_dollar() {
        let s = SequenceSet::parse_uid_set(b"1:3,5").unwrap();
        assert!(s.is_uid_set());
        assert_eq!(s.to_bytes(), b"1:3,5");
        assert_eq!(err(SequenceSet::parse_uid_set(b"1:*")), (2, Syntax));
        assert_eq!(err(SequenceSet::parse_uid_set(b"*")), (0, Syntax));
        assert_eq!(err(SequenceSet::parse_uid_set(b"$")), (0, Syntax));
        assert_eq!(err(SequenceSet::parse_uid_set(b"0")), (0, Number));
        assert_eq!(err(SequenceSet::parse_uid_set(b"1,")), (2, Incomplete));
        assert!(!SequenceSet::parse(b"1:*").unwrap().is_uid_set());
        assert!(!SequenceSet::Saved.is_uid_set());
    }

    #[test]
    fn contains() {
        let s = SequenceSet::parse(b"2:4,10:*").unwrap();
        let members: Vec<u32> = (1..=12).filter(|&n| s.contains(n, 11)).collect();
        assert_eq!(members, [2, 3, 4, 10, 11]);
        let s = SequenceSet::parse(b"*:3").unwrap();
        assert!(s.contains(3, 5) && s.contains(5, 5) && !s.contains(2, 5));
        // `*` beyond the largest number: 7:* with 5 messages is 5:7
        assert!(SequenceSet::parse(b"7:*").unwrap().contains(5, 5));
        assert!(!SequenceSet::Saved.contains(1, 1));
    }

    #[test]
    fn ranges() {
        let s = SequenceSet::parse(b"4:2,7,10:*,*").unwrap();
        let r: Vec<_> = s.ranges(12).collect();
        assert_eq!(r, [2..=4, 7..=7, 10..=12, 12..=12]);
        // `*` below the start: 10:* with 8 messages is 8:10
        assert_eq!(s.ranges(8).nth(2), Some(8..=10));
        assert_eq!(SequenceSet::Saved.ranges(5).count(), 0);
    }

    #[test]
    fn constructors_refuse_zero_and_empty() {
        assert!(SequenceSet::new(List::new()).is_err());
        assert!(SequenceSet::single(0).is_err());
        assert!(SequenceSet::range(0, 2).is_err());
        assert!(SequenceSet::range(2, 0).is_err());
        assert_eq!(SequenceSet::single(7).unwrap().to_bytes(), b"7");
        assert_eq!(SequenceSet::range(9, 2).unwrap().to_bytes(), b"9:2");
        let l: List<Sequence> = [Sequence::Single(SeqOrUid::Asterisk)].into_iter().collect();
        assert_eq!(SequenceSet::new(l).unwrap().to_bytes(), b"*");
    }
}
