//! Body sections (`BODY[1.2.HEADER.FIELDS (SUBJECT)]`), body part numbers and partial ranges
//! (`<0.1024>`): RFC 3501 section 6.4.5 and section 9 (`section`, `section-spec`,
//! `section-part`, `section-text`, `header-list`), RFC 9051 the same, RFC 3516
//! (`section-binary`).

use crate::core::parse_whole;
use crate::core::{AString, IString, LiteralMode};
use crate::encode::{Encode, Writer};
use crate::error::{ParseError, ValidationError};
use crate::list::List;
use crate::parse::{PResult, Quirks, Reader};
use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::num::NonZeroU32;

/// `section-part`: a body part number, `nz-number *("." nz-number)` (`1`, `2.1.3`).
/// Never empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Part(List<NonZeroU32>);

impl Part {
    /// Parse `input`, which must be exactly one `section-part` (`1.2.3`).
    pub fn parse(input: &[u8]) -> Result<Self, ParseError> {
        parse_whole(input, Self::read)
    }

    /// A part number from its components; refused when empty.
    pub fn new(numbers: List<NonZeroU32>) -> Result<Self, ValidationError> {
        if numbers.is_empty() {
            return Err(ValidationError::new("section-part", "no part number"));
        }
        Ok(Part(numbers))
    }

    /// A part number with one component (`3`).
    pub fn single(n: NonZeroU32) -> Self {
        let mut l = List::new();
        l.push(n);
        Part(l)
    }

    /// The components, outermost first (never empty).
    pub fn numbers(&self) -> &[NonZeroU32] {
        &self.0
    }

    /// `section-part`.
    pub(crate) fn read(r: &mut Reader<'_>) -> PResult<Self> {
        let mut l = List::new();
        l.push(r.nz_number()?);
        while r.peek() == Some(b'.') && r.peek2().is_some_and(|b| b.is_ascii_digit()) {
            r.next_byte();
            l.push(r.nz_number()?);
        }
        Ok(Part(l))
    }
}

impl Encode for Part {
    fn encode(&self, w: &mut Writer) {
        for (i, n) in self.0.iter().enumerate() {
            if i > 0 {
                w.byte(b'.');
            }
            w.number(u64::from(n.get()));
        }
    }
}

/// `section-spec` (the contents of a non-empty `section`, without the brackets). The whole
/// message, `BODY[]`, is the absence of a section (`Option<Section>` where the grammar has
/// `section`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Section<'a> {
    /// `1.2`: the body of a part.
    Part(Part),
    /// `HEADER` or `1.HEADER`: the header of the message or of a message/rfc822 part.
    Header(Option<Part>),
    /// `HEADER.FIELDS (...)`: only the named header fields. The list is never empty (the
    /// grammar has `1*`); build it with [`Section::header_fields`] or [`HeaderNames::new`].
    HeaderFields(Option<Part>, HeaderNames<'a>),
    /// `HEADER.FIELDS.NOT (...)`: all header fields but the named ones. The list is never
    /// empty; build it with [`Section::header_fields_not`] or [`HeaderNames::new`].
    HeaderFieldsNot(Option<Part>, HeaderNames<'a>),
    /// `TEXT` or `1.TEXT`: the text body, without the header.
    Text(Option<Part>),
    /// `1.MIME`: the MIME header of a part.
    Mime(Part),
}

/// The names of a `header-list` (`HEADER.FIELDS (FROM TO SUBJECT DATE)`), never empty.
///
/// They are kept as they are on the wire, between the parentheses (borrowed from the input
/// after a parse, so that a FETCH command asking for any number of header fields costs no
/// heap allocation, and the value is small); [`HeaderNames::iter`] reads them out as
/// [`AString`]s. Two lists are equal, and hash the same, when their names are, whatever the
/// spacing between them was.
///
/// ```
/// use imap_proto::core::AString;
/// use imap_proto::fetch::HeaderNames;
///
/// let names = HeaderNames::new([
///     AString::from_bytes(&b"FROM"[..]).unwrap(),
///     AString::from_bytes(&b"X Spam"[..]).unwrap(),
/// ])
/// .unwrap();
/// assert_eq!(names.len(), 2);
/// let data: Vec<Vec<u8>> = names.iter().map(|n| n.data().to_vec()).collect();
/// assert_eq!(data, [b"FROM".to_vec(), b"X Spam".to_vec()]);
/// assert!(HeaderNames::new([]).is_err());
/// ```
#[derive(Clone)]
pub struct HeaderNames<'a> {
    /// `header-fld-name *(SP header-fld-name)`, each an `astring` that reads back.
    wire: Cow<'a, [u8]>,
}

impl<'a> HeaderNames<'a> {
    /// The list of these names; refused when empty. Each is kept in its form (atom, quoted
    /// string, literal), so it encodes as it would in a `List<AString>`.
    pub fn new(names: impl IntoIterator<Item = AString<'a>>) -> Result<Self, ValidationError> {
        let names: Vec<AString<'a>> = names.into_iter().collect();
        if names.is_empty() {
            return Err(ValidationError::new("header-list", "no header field name"));
        }
        let mut wire = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                wire.push(b' ');
            }
            match name {
                AString::Atom(a) => wire.extend_from_slice(a.as_str().as_bytes()),
                AString::String(IString::Quoted(q)) => {
                    wire.push(b'"');
                    for &b in q.data() {
                        if b == b'"' || b == b'\\' {
                            wire.push(b'\\');
                        }
                        wire.push(b);
                    }
                    wire.push(b'"');
                }
                AString::String(IString::Literal(l)) => {
                    let plus = if l.mode() == LiteralMode::NonSync {
                        "+"
                    } else {
                        ""
                    };
                    wire.extend_from_slice(format!("{{{}{plus}}}\r\n", l.data().len()).as_bytes());
                    wire.extend_from_slice(l.data());
                }
            }
        }
        let out = HeaderNames {
            wire: Cow::Owned(wire),
        };
        // The constructors of the names guarantee this; the check keeps the promise that a
        // value reads back as itself should one of them change.
        let mut read = out.iter();
        for name in &names {
            if read.next().as_ref() != Some(name) {
                return Err(ValidationError::new(
                    "header-list",
                    "a name does not read back as itself",
                ));
            }
        }
        if read.next().is_some() {
            return Err(ValidationError::new(
                "header-list",
                "a name does not read back as itself",
            ));
        }
        Ok(out)
    }

    /// The names, in order.
    pub fn iter(&self) -> HeaderNamesIter<'_> {
        HeaderNamesIter {
            r: Reader::new(&self.wire, Quirks::LENIENT),
        }
    }

    /// How many names there are (one at least).
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Always false: the grammar has `1*`. (For symmetry with [`HeaderNames::len`].)
    pub fn is_empty(&self) -> bool {
        self.wire.is_empty()
    }

    /// The names as a list.
    pub fn to_list(&self) -> List<AString<'_>> {
        self.iter().collect()
    }

    /// The same names, owning their data.
    pub fn into_static(self) -> HeaderNames<'static> {
        HeaderNames {
            wire: Cow::Owned(self.wire.into_owned()),
        }
    }

    /// The names of a `header-list` read by `r`, from `start` (after the `(`) to where `r`
    /// is (before the `)`).
    fn from_read(r: &Reader<'a>, start: usize) -> PResult<Self> {
        match r.input().get(start..r.pos()) {
            Some(wire) if !wire.is_empty() => Ok(HeaderNames {
                wire: Cow::Borrowed(wire),
            }),
            _ => Err(r.error("header-list")),
        }
    }
}

impl PartialEq for HeaderNames<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for HeaderNames<'_> {}

impl Hash for HeaderNames<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for name in self.iter() {
            name.hash(state);
        }
    }
}

impl fmt::Debug for HeaderNames<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> TryFrom<List<AString<'a>>> for HeaderNames<'a> {
    type Error = ValidationError;
    fn try_from(names: List<AString<'a>>) -> Result<Self, ValidationError> {
        HeaderNames::new(names)
    }
}

impl<'l, 'a> IntoIterator for &'l HeaderNames<'a> {
    type Item = AString<'l>;
    type IntoIter = HeaderNamesIter<'l>;
    fn into_iter(self) -> HeaderNamesIter<'l> {
        self.iter()
    }
}

/// The names of a [`HeaderNames`], read out one by one.
pub struct HeaderNamesIter<'l> {
    r: Reader<'l>,
}

impl fmt::Debug for HeaderNamesIter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeaderNamesIter")
            .field("rest", &String::from_utf8_lossy(self.r.rest()))
            .finish()
    }
}

impl<'l> Iterator for HeaderNamesIter<'l> {
    type Item = AString<'l>;
    fn next(&mut self) -> Option<AString<'l>> {
        while self.r.peek() == Some(b' ') {
            self.r.next_byte();
        }
        if self.r.is_empty() {
            return None;
        }
        match AString::read(&mut self.r) {
            Ok(name) => Some(name),
            // Not reached for a list that was read or built: it holds astrings only.
            Err(_) => {
                self.r.reset(self.r.input().len());
                None
            }
        }
    }
}

impl<'a> Section<'a> {
    /// Parse `input`, which must be exactly one `section-spec` (the text between the
    /// brackets: `1.HEADER.FIELDS (DATE)`).
    pub fn parse(input: &'a [u8]) -> Result<Self, ParseError> {
        parse_whole(input, Self::read)
    }

    /// `HEADER.FIELDS (...)`, refused when `fields` is empty.
    pub fn header_fields(
        part: Option<Part>,
        fields: List<AString<'a>>,
    ) -> Result<Self, ValidationError> {
        Ok(Section::HeaderFields(part, HeaderNames::new(fields)?))
    }

    /// `HEADER.FIELDS.NOT (...)`, refused when `fields` is empty.
    pub fn header_fields_not(
        part: Option<Part>,
        fields: List<AString<'a>>,
    ) -> Result<Self, ValidationError> {
        Ok(Section::HeaderFieldsNot(part, HeaderNames::new(fields)?))
    }

    /// The part the section refers to, `None` for the top-level message.
    pub fn part(&self) -> Option<&Part> {
        match self {
            Section::Part(p) | Section::Mime(p) => Some(p),
            Section::Header(p)
            | Section::HeaderFields(p, _)
            | Section::HeaderFieldsNot(p, _)
            | Section::Text(p) => p.as_ref(),
        }
    }

    /// The same section, owning its data.
    pub fn into_static(self) -> Section<'static> {
        match self {
            Section::Part(p) => Section::Part(p),
            Section::Header(p) => Section::Header(p),
            Section::HeaderFields(p, l) => Section::HeaderFields(p, l.into_static()),
            Section::HeaderFieldsNot(p, l) => Section::HeaderFieldsNot(p, l.into_static()),
            Section::Text(p) => Section::Text(p),
            Section::Mime(p) => Section::Mime(p),
        }
    }

    /// `section-spec`: `section-msgtext / (section-part ["." section-text])`.
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        let part = if r.peek().is_some_and(|b| b.is_ascii_digit()) {
            let p = Part::read(r)?;
            if !r.eat(b'.') {
                return Ok(Section::Part(p));
            }
            if r.keyword("MIME") {
                return Ok(Section::Mime(p));
            }
            Some(p)
        } else {
            None
        };
        let expected = if part.is_some() {
            "section-text"
        } else {
            "section-spec"
        };
        if r.keyword("HEADER.FIELDS.NOT") {
            let l = read_header_list(r)?;
            Ok(Section::HeaderFieldsNot(part, l))
        } else if r.keyword("HEADER.FIELDS") {
            let l = read_header_list(r)?;
            Ok(Section::HeaderFields(part, l))
        } else if r.keyword("HEADER") {
            Ok(Section::Header(part))
        } else if r.keyword("TEXT") {
            Ok(Section::Text(part))
        } else {
            Err(r.error(expected))
        }
    }
}

/// `SP header-list`: `SP "(" header-fld-name *(SP header-fld-name) ")"`.
fn read_header_list<'a>(r: &mut Reader<'a>) -> PResult<HeaderNames<'a>> {
    r.sp()?;
    r.expect(b'(', "header-list")?;
    let start = r.pos();
    AString::read(r)?;
    while r.peek() == Some(b' ') {
        r.sp()?;
        AString::read(r)?;
    }
    let names = HeaderNames::from_read(r, start)?;
    r.expect(b')', "\")\" or SP header-fld-name")?;
    Ok(names)
}

fn encode_part_prefix(part: &Option<Part>, w: &mut Writer) {
    if let Some(p) = part {
        p.encode(w);
        w.byte(b'.');
    }
}

fn encode_header_list(l: &HeaderNames<'_>, w: &mut Writer) {
    w.raw(b" (");
    for (i, f) in l.iter().enumerate() {
        if i > 0 {
            w.sp();
        }
        f.encode(w);
    }
    w.byte(b')');
}

impl Encode for Section<'_> {
    fn encode(&self, w: &mut Writer) {
        match self {
            Section::Part(p) => p.encode(w),
            Section::Header(p) => {
                encode_part_prefix(p, w);
                w.raw(b"HEADER");
            }
            Section::HeaderFields(p, l) => {
                encode_part_prefix(p, w);
                w.raw(b"HEADER.FIELDS");
                encode_header_list(l, w);
            }
            Section::HeaderFieldsNot(p, l) => {
                encode_part_prefix(p, w);
                w.raw(b"HEADER.FIELDS.NOT");
                encode_header_list(l, w);
            }
            Section::Text(p) => {
                encode_part_prefix(p, w);
                w.raw(b"TEXT");
            }
            Section::Mime(p) => {
                p.encode(w);
                w.raw(b".MIME");
            }
        }
    }
}

/// `section`: `"[" [section-spec] "]"`, `None` for `[]`.
pub(crate) fn read_section<'a>(r: &mut Reader<'a>) -> PResult<Option<Section<'a>>> {
    r.expect(b'[', "\"[\"")?;
    if r.eat(b']') {
        return Ok(None);
    }
    let s = Section::read(r)?;
    r.expect(b']', "\"]\"")?;
    Ok(Some(s))
}

/// Write `section`: `[` the section `]`.
pub(crate) fn encode_section(section: Option<&Section<'_>>, w: &mut Writer) {
    w.byte(b'[');
    if let Some(s) = section {
        s.encode(w);
    }
    w.byte(b']');
}

/// `section-binary` (RFC 3516, RFC 9051): `"[" [section-part] "]"`, `None` for `[]`.
pub(crate) fn read_section_binary(r: &mut Reader<'_>) -> PResult<Option<Part>> {
    r.expect(b'[', "\"[\"")?;
    if r.eat(b']') {
        return Ok(None);
    }
    let p = Part::read(r)?;
    r.expect(b']', "\"]\"")?;
    Ok(Some(p))
}

/// Write `section-binary`.
pub(crate) fn encode_section_binary(part: Option<&Part>, w: &mut Writer) {
    w.byte(b'[');
    if let Some(p) = part {
        p.encode(w);
    }
    w.byte(b']');
}

/// A partial range of a FETCH request, `"<" number64 "." nz-number64 ">"` (RFC 9051 section
/// 9 `partial`; RFC 3501 section 6.4.5 had `number`): `length` octets from octet `start`.
/// Both are at most 2^63 - 1 on the wire (a larger value is refused by the parser).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Partial {
    /// The first octet, counted from 0.
    pub start: u64,
    /// How many octets at most.
    pub length: std::num::NonZeroU64,
}

impl Partial {
    /// Parse `input`, which must be exactly one partial range (`<0.1024>`).
    pub fn parse(input: &[u8]) -> Result<Self, ParseError> {
        parse_whole(input, Self::read)
    }

    /// `"<" number64 "." nz-number64 ">"`.
    pub(crate) fn read(r: &mut Reader<'_>) -> PResult<Self> {
        r.expect(b'<', "\"<\"")?;
        let start = r.number64()?;
        r.expect(b'.', "\".\"")?;
        let at = r.pos();
        let length = std::num::NonZeroU64::new(r.number64()?)
            .ok_or_else(|| ParseError::new(at, "nz-number64", crate::error::ErrorKind::Number))?;
        r.expect(b'>', "\">\"")?;
        Ok(Partial { start, length })
    }
}

impl Encode for Partial {
    fn encode(&self, w: &mut Writer) {
        w.byte(b'<');
        w.number(self.start);
        w.byte(b'.');
        w.number(self.length.get());
        w.byte(b'>');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::parse::Quirks;

    fn parse(input: &[u8]) -> PResult<Option<Section<'_>>> {
        let mut r = Reader::new(input, Quirks::STRICT);
        let s = read_section(&mut r)?;
        if !r.is_empty() {
            return Err(r.error("end"));
        }
        Ok(s)
    }

    fn bytes(s: Option<&Section<'_>>) -> Vec<u8> {
        let mut w = Writer::new(Default::default());
        encode_section(s, &mut w);
        w.finish().into_bytes()
    }

    fn nz(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    fn part(ns: &[u32]) -> Part {
        Part::new(ns.iter().map(|&n| nz(n)).collect()).unwrap()
    }

    #[test]
    fn known_answers_round_trip() {
        let cases: &[(&[u8], Option<Section<'_>>)] = &[
            (b"[]", None),
            (b"[1]", Some(Section::Part(part(&[1])))),
            (b"[4.2.2]", Some(Section::Part(part(&[4, 2, 2])))),
            (b"[HEADER]", Some(Section::Header(None))),
            (b"[3.HEADER]", Some(Section::Header(Some(part(&[3]))))),
            (b"[TEXT]", Some(Section::Text(None))),
            (b"[4.2.TEXT]", Some(Section::Text(Some(part(&[4, 2]))))),
            (b"[4.1.MIME]", Some(Section::Mime(part(&[4, 1])))),
            (
                b"[HEADER.FIELDS (DATE FROM)]",
                Some(
                    Section::header_fields(
                        None,
                        [
                            AString::from_bytes(&b"DATE"[..]).unwrap(),
                            AString::from_bytes(&b"FROM"[..]).unwrap(),
                        ]
                        .into_iter()
                        .collect(),
                    )
                    .unwrap(),
                ),
            ),
            (
                b"[2.HEADER.FIELDS.NOT (\"X Y\")]",
                Some(
                    Section::header_fields_not(
                        Some(part(&[2])),
                        [AString::from_bytes(&b"X Y"[..]).unwrap()]
                            .into_iter()
                            .collect(),
                    )
                    .unwrap(),
                ),
            ),
        ];
        for (wire, want) in cases {
            let got = parse(wire).unwrap();
            assert_eq!(&got, want, "{}", String::from_utf8_lossy(wire));
            assert_eq!(&bytes(got.as_ref()), wire);
        }
    }

    #[test]
    fn keywords_are_case_insensitive() {
        let s = parse(b"[1.header.fields.not (subject)]").unwrap().unwrap();
        assert_eq!(bytes(Some(&s)), b"[1.HEADER.FIELDS.NOT (subject)]");
        let s = parse(b"[1.mime]").unwrap().unwrap();
        assert_eq!(s, Section::Mime(part(&[1])));
    }

    #[test]
    fn errors_point_at_the_offending_byte() {
        let cases: &[(&[u8], usize, &str)] = &[
            (b"[MIME]", 1, "section-spec"),
            (b"[1.FOO]", 3, "section-text"),
            (b"[0]", 1, "nz-number"),
            (b"[1.0]", 3, "nz-number"),
            (b"[1.]", 3, "section-text"),
            (b"[HEADER.FIELDS ()]", 16, "astring"),
            (b"[HEADER.FIELDS]", 14, "SP"),
            (b"[HEADER.FIELDS DATE]", 15, "header-list"),
            // `]` is an ASTRING-CHAR: the name runs to the end
            (b"[HEADER.FIELDS (DATE]", 21, "\")\" or SP header-fld-name"),
            (b"[HEADERS]", 1, "section-spec"),
            (b"[TEXT", 5, "\"]\""),
            (b"1]", 0, "\"[\""),
        ];
        for &(wire, offset, expected) in cases {
            let e = parse(wire).unwrap_err();
            assert_eq!(
                (e.offset(), e.expected()),
                (offset, expected),
                "{}",
                String::from_utf8_lossy(wire)
            );
        }
        assert_eq!(parse(b"[0]").unwrap_err().kind(), ErrorKind::Number);
    }

    #[test]
    fn binary_sections() {
        let mut r = Reader::new(b"[1.2][]", Quirks::STRICT);
        let p = read_section_binary(&mut r).unwrap();
        assert_eq!(p, Some(part(&[1, 2])));
        assert_eq!(read_section_binary(&mut r).unwrap(), None);
        let mut w = Writer::new(Default::default());
        encode_section_binary(p.as_ref(), &mut w);
        encode_section_binary(None, &mut w);
        assert_eq!(w.finish().as_bytes(), b"[1.2][]");
        let mut r = Reader::new(b"[1.TEXT]", Quirks::STRICT);
        assert_eq!(read_section_binary(&mut r).unwrap_err().offset(), 2);
    }

    #[test]
    fn partial_ranges() {
        let mut r = Reader::new(b"<0.2048>", Quirks::STRICT);
        let p = Partial::read(&mut r).unwrap();
        assert_eq!(
            p,
            Partial {
                start: 0,
                length: std::num::NonZeroU64::new(2048).unwrap()
            }
        );
        assert_eq!(p.to_bytes(), b"<0.2048>");
        for (wire, offset) in [(&b"<0.0>"[..], 3), (b"<1>", 2), (b"<.5>", 1), (b"<1.5", 4)] {
            let mut r = Reader::new(wire, Quirks::STRICT);
            assert_eq!(Partial::read(&mut r).unwrap_err().offset(), offset);
        }
    }

    #[test]
    fn constructors_refuse_empty_lists() {
        assert!(Part::new(List::new()).is_err());
        assert!(Section::header_fields(None, List::new()).is_err());
        assert!(Section::header_fields_not(Some(part(&[1])), List::new()).is_err());
        assert_eq!(Part::single(nz(7)).numbers(), &[nz(7)]);
        assert_eq!(Section::Mime(part(&[1, 2])).part(), Some(&part(&[1, 2])));
        assert_eq!(Section::Text(None).part(), None);
    }

    fn names_of(s: &Section<'_>) -> Vec<AString<'static>> {
        match s {
            Section::HeaderFields(_, l) | Section::HeaderFieldsNot(_, l) => {
                l.iter().map(AString::into_static).collect()
            }
            other => panic!("not a header list: {other:?}"),
        }
    }

    #[test]
    fn header_names_read_every_astring_form() {
        let input: &[u8] = b"[HEADER.FIELDS (FROM \"X \\\"Y\\\"\" {3}\r\nabc {2+}\r\nde)]";
        let s = parse(input).unwrap().unwrap();
        let names = names_of(&s);
        let want = [
            AString::from_bytes(&b"FROM"[..]).unwrap(),
            AString::String(IString::Quoted(
                crate::core::Quoted::new(&b"X \"Y\""[..]).unwrap(),
            )),
            AString::String(IString::Literal(
                crate::core::Literal::new(&b"abc"[..], LiteralMode::Sync).unwrap(),
            )),
            AString::String(IString::Literal(
                crate::core::Literal::new(&b"de"[..], LiteralMode::NonSync).unwrap(),
            )),
        ];
        assert_eq!(names, want);
        // Built from the same names, the list is equal to the one read, and encodes the same.
        let built = Section::header_fields(None, want.iter().cloned().collect()).unwrap();
        assert_eq!(built, s);
        assert_eq!(bytes(Some(&built)), bytes(Some(&s)));
        if let Section::HeaderFields(_, l) = &built {
            assert_eq!(l.len(), 4);
            assert!(!l.is_empty());
            assert_eq!(l.to_list().len(), 4);
        }
    }

    #[test]
    fn header_names_compare_by_name_not_by_spacing() {
        use std::collections::hash_map::DefaultHasher;
        let hash = |s: &Section<'_>| {
            let mut h = DefaultHasher::new();
            s.hash(&mut h);
            h.finish()
        };
        let mut r = Reader::new(b"[HEADER.FIELDS (FROM   TO)]", Quirks::LENIENT);
        let spaced = read_section(&mut r).unwrap().unwrap();
        let plain = parse(b"[HEADER.FIELDS (FROM TO)]").unwrap().unwrap();
        assert_eq!(spaced, plain);
        assert_eq!(hash(&spaced), hash(&plain));
        assert_eq!(bytes(Some(&spaced)), b"[HEADER.FIELDS (FROM TO)]");
        // A quoted name equals the atom of the same text (strings compare by content), and
        // the order counts.
        let quoted = parse(b"[HEADER.FIELDS (\"FROM\" TO)]").unwrap().unwrap();
        assert_eq!(quoted, plain);
        assert_eq!(hash(&quoted), hash(&plain));
        let swapped = parse(b"[HEADER.FIELDS (TO FROM)]").unwrap().unwrap();
        assert_ne!(swapped, plain);
        let fewer = parse(b"[HEADER.FIELDS (FROM)]").unwrap().unwrap();
        assert_ne!(fewer, plain);
        assert_ne!(plain, fewer);
        // The owned copy is equal to the borrowed one.
        assert_eq!(plain.clone().into_static(), plain);
        // Debug shows the names, as a list would.
        let debug = format!("{plain:?}");
        assert!(debug.starts_with("HeaderFields(None, [Atom("), "{debug}");
    }

    #[test]
    fn header_names_refuse_an_empty_list() {
        assert!(HeaderNames::new([]).is_err());
        assert!(HeaderNames::try_from(List::<AString<'_>>::new()).is_err());
        assert!(Section::header_fields(None, List::new()).is_err());
        assert!(Section::header_fields_not(None, List::new()).is_err());
        // `()` is not a header list: the error points at the `)`.
        let e = parse(b"[HEADER.FIELDS ()]").unwrap_err();
        assert_eq!(e.offset(), 16);
    }
}
